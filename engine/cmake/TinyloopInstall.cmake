# `cmake --install <build> [--prefix DIR]` puts in place:
#   include/tinyloop/...                         engine headers (C++ and the C header tinyloop.h)
#   include/tinyloop/platform/...                platform interface, posix and freestanding
#   <libdir>/libtinyloop_engine.a                tinyloop::engine
#   <libdir>/libtinyloop_platform_posix.a        tinyloop::platform
#   <libdir>/libtinyloop_platform_freestanding.a tinyloop::platform_freestanding
#   <libdir>/cmake/tinyloop/                     tinyloopConfig.cmake, version file, targets
#   <libdir>/pkgconfig/tinyloop.pc               engine + POSIX platform for pkg-config users
# so that find_package(tinyloop) or pkg-config tinyloop work from another project (see
# examples/consumer).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TINYLOOP_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tinyloop CACHE STRING
    "Where tinyloopConfig.cmake goes, relative to the prefix")

install(TARGETS tinyloop_engine tinyloop_platform_posix tinyloop_platform_freestanding
        EXPORT tinyloopTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/include/ ${PROJECT_SOURCE_DIR}/platform/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(EXPORT tinyloopTargets NAMESPACE tinyloop:: DESTINATION ${TINYLOOP_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tinyloopConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/tinyloop_package/tinyloopConfig.cmake
                              INSTALL_DESTINATION ${TINYLOOP_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/tinyloop_package/tinyloopConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/tinyloop_package/tinyloopConfig.cmake
              ${CMAKE_BINARY_DIR}/tinyloop_package/tinyloopConfigVersion.cmake
        DESTINATION ${TINYLOOP_INSTALL_CMAKEDIR})

# pkg-config: paths relative to the .pc file's own prefix, so that a relocated install works
# (pkg-config --define-prefix) as well as the configured one.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(TINYLOOP_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(TINYLOOP_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(TINYLOOP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(TINYLOOP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# The prefix is only known at install time (cmake --install --prefix): fill in everything else
# now, keep @prefix@, and write the final file during the install.
set(prefix "@prefix@")
configure_file(${CMAKE_CURRENT_LIST_DIR}/tinyloop.pc.in ${CMAKE_BINARY_DIR}/tinyloop_package/tinyloop.pc.in @ONLY)
unset(prefix)
install(CODE "
  set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${CMAKE_BINARY_DIR}/tinyloop_package/tinyloop.pc.in\"
                 \"${CMAKE_BINARY_DIR}/tinyloop_package/tinyloop.pc\" @ONLY)
")
install(FILES ${CMAKE_BINARY_DIR}/tinyloop_package/tinyloop.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
