# Shared part of the Debian/Ubuntu cross toolchains (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake); not a toolchain file on its own. Expects TINYLOOP_CROSS_TRIPLE and
# TINYLOOP_CROSS_QEMU to be set by the including file.
#
# Target libraries (glibc, libstdc++, libm, libpthread) come only from /usr/<triple>, where the
# g++-<triple> packages put them. The header-only dependencies (xsimd, xtl, xtensor, doctest)
# are architecture-independent, so the host's Debian packages serve: their CMake package files
# are found on the host, and their headers under /usr/include, which Debian's cross compilers
# search *last*, after the target's own C and C++ headers.
set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER ${TINYLOOP_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${TINYLOOP_CROSS_TRIPLE}-g++)

set(CMAKE_FIND_ROOT_PATH /usr/${TINYLOOP_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # build tools (nm, qemu) are host programs
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)   # never link a host library
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)   # host CMake packages of header-only libraries

# Where Debian keeps those package files on the host: /usr/lib/<host multiarch>/cmake (xsimd,
# xtensor), /usr/lib/cmake (doctest), /usr/share/cmake (xtl).
foreach(dir /usr/lib/${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu/cmake /usr/lib/cmake /usr/share/cmake)
  if(IS_DIRECTORY ${dir})
    list(APPEND CMAKE_PREFIX_PATH ${dir})
  endif()
endforeach()
list(REMOVE_DUPLICATES CMAKE_PREFIX_PATH)

# ctest (and build-time steps such as the embedded model) run target programs under qemu-user,
# with the target's dynamic loader and libraries from /usr/<triple>.
find_program(TINYLOOP_QEMU ${TINYLOOP_CROSS_QEMU})
if(TINYLOOP_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TINYLOOP_QEMU} -L /usr/${TINYLOOP_CROSS_TRIPLE})
endif()
