# Cross toolchain: 32-bit ARM Linux with hard float (Raspberry Pi 2, 3, 4 running 32-bit
# Raspberry Pi OS; any ARMv7-A board with NEON and VFPv4).
#
#   apt-get install g++-arm-linux-gnueabihf qemu-user
#   cmake -S . -B build/armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
#   cmake --build build/armhf -j && ctest --test-dir build/armhf   # tests run under qemu
#
# -mfpu=neon-vfpv4 turns on NEON with fused multiply-add (Cortex-A7 and newer: Pi 2 v1.1 and
# up), so the kernels use xsimd::neon; -mfloat-abi=hard matches Raspberry Pi OS (armhf).
# Not for the Pi 1 / Zero (ARMv6, no NEON): build those with -DTINYLOOP_SIMD=OFF and a
# -march=armv6 toolchain.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(TINYLOOP_CROSS_TRIPLE arm-linux-gnueabihf)
set(TINYLOOP_CROSS_QEMU qemu-arm)
set(CMAKE_C_FLAGS_INIT "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard")
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
