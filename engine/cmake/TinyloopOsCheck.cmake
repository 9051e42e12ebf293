# Portability checks of the engine core (engine/) and the freestanding platform layer: they use no
# OS header and no OS facility. Three ctest tests:
#
#   engine_no_os_headers     builds tinyloop_os_check: every engine/src/**/*.cpp, one unit per
#                            public engine header, and platform/freestanding, compiled with an
#                            include directory that shadows the OS headers (threads, files,
#                            streams, clocks, signals, POSIX, Win32) with #error stubs. The target
#                            is part of the normal build, so a violation stops the build at once.
#   engine_os_check_catches  proves that the stubs fire (os_check/canary.cpp must fail).
#   engine_no_os_symbols     lists the external symbols of the engine and freestanding libraries
#                            (nm) and fails on any outside an allowlist of OS-free runtime
#                            functions (libm, mem*/str*, vsnprintf, the C++ ABI).
#
# Standard headers include OS headers themselves (libstdc++'s atomics include <pthread.h>). So the
# stubs pass through to the real headers until os_check/prelude.hpp has included the allowed
# headers and armed the check. After that they stop the build, whether an engine file includes
# an OS header directly or through another header.
#
# GCC and Clang only (#include_next, -include).
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  message(STATUS "tinyloop: OS-header check skipped (needs GCC or Clang)")
  return()
endif()

set(TINYLOOP_OS_HEADERS
  # C++ library parts that need an OS
  thread mutex shared_mutex condition_variable future stop_token semaphore barrier latch
  iostream istream ostream sstream fstream syncstream filesystem chrono ctime csignal random
  locale clocale
  # POSIX and the C library's OS parts
  unistd.h pthread.h fcntl.h signal.h time.h sched.h dirent.h dlfcn.h poll.h termios.h
  semaphore.h spawn.h syslog.h pwd.h grp.h netdb.h locale.h
  sys/stat.h sys/types.h sys/time.h sys/mman.h sys/socket.h sys/wait.h sys/resource.h
  sys/ioctl.h sys/select.h sys/random.h sys/syscall.h sys/sysinfo.h sys/utsname.h
  arpa/inet.h netinet/in.h linux/futex.h mach/mach_time.h
  # Win32
  windows.h io.h process.h direct.h)

set(_os_dir ${CMAKE_CURRENT_LIST_DIR}/os_check)
set(_stub_dir ${CMAKE_BINARY_DIR}/tinyloop_os_check/stubs)
foreach(header IN LISTS TINYLOOP_OS_HEADERS)
  configure_file(${_os_dir}/stub.h.in ${_stub_dir}/${header} @ONLY)
endforeach()

file(GLOB_RECURSE _check_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/engine/src/*.cpp)
file(GLOB_RECURSE _public_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/engine/include/*.hpp
                                                    ${PROJECT_SOURCE_DIR}/engine/include/*.h)
foreach(header IN LISTS _public_headers)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/engine/include ${header})
  string(MAKE_C_IDENTIFIER "${rel}" id)
  set(unit ${CMAKE_BINARY_DIR}/tinyloop_os_check/units/${id}.cpp)
  file(CONFIGURE OUTPUT ${unit} CONTENT "#include \"${rel}\"\n")
  list(APPEND _check_sources ${unit})
endforeach()
list(APPEND _check_sources ${PROJECT_SOURCE_DIR}/platform/freestanding/freestanding.cpp)

function(tinyloop_os_check_flags target)
  target_include_directories(${target} BEFORE PRIVATE ${_stub_dir})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/engine/include ${PROJECT_SOURCE_DIR}/engine/src
                                               ${PROJECT_SOURCE_DIR}/platform/include)
  target_link_libraries(${target} PRIVATE tinyloop_options xsimd)
  # -O0: only the preprocessor and the front end matter here, so skip the optimiser's time.
  target_compile_options(${target} PRIVATE -include ${_os_dir}/prelude.hpp -O0)
endfunction()

# The header check compiles the engine a second time. The sources and the stubs are the same for
# every target, so `tools/dev.sh test` runs it in its native leg only (TINYLOOP_OS_HEADER_CHECK=OFF
# in the cross and sanitizer legs); the symbol check runs everywhere.
if(TINYLOOP_OS_HEADER_CHECK)
  add_library(tinyloop_os_check OBJECT ${_check_sources})
  tinyloop_os_check_flags(tinyloop_os_check)
  add_library(tinyloop_os_check_canary OBJECT EXCLUDE_FROM_ALL ${_os_dir}/canary.cpp)
  tinyloop_os_check_flags(tinyloop_os_check_canary)
endif()

if(TINYLOOP_BUILD_TESTS AND TINYLOOP_OS_HEADER_CHECK)
  add_test(NAME engine_no_os_headers
           COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target tinyloop_os_check)
  add_test(NAME engine_os_check_catches
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DTARGET=tinyloop_os_check_canary
                   "-DEXPECT=<thread> is an OS facility|<unistd.h> is an OS facility"
                   -P ${CMAKE_CURRENT_LIST_DIR}/expect_build_failure.cmake)
  set_tests_properties(engine_no_os_headers engine_os_check_catches PROPERTIES LABELS portability)
  # The two build tests run the build tool in this tree: never at the same time.
  set_tests_properties(engine_no_os_headers engine_os_check_catches PROPERTIES RESOURCE_LOCK tinyloop_build_tree)
endif()
if(TINYLOOP_BUILD_TESTS)
  add_test(NAME engine_no_os_symbols
           COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM}
                   "-DLIBRARIES=$<TARGET_FILE:tinyloop_engine>|$<TARGET_FILE:tinyloop_platform_freestanding>"
                   -P ${CMAKE_CURRENT_LIST_DIR}/check_symbols.cmake)
  set_tests_properties(engine_no_os_symbols PROPERTIES LABELS portability)
endif()
