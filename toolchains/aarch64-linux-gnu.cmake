# Toolchain files: aarch64 and armhf Linux (Raspberry Pi; run under qemu-user), Cortex-M4F/M7
# bare metal (arm-none-eabi; run under qemu-system-arm), and their shared cross set-up.
#
# Cross toolchain: 64-bit ARM Linux (Raspberry Pi 3, 4, 5 with a 64-bit OS; any ARMv8-A board).
#
#   apt-get install g++-aarch64-linux-gnu qemu-user
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#   cmake --build build/aarch64 -j && ctest --test-dir build/aarch64   # tests run under qemu
#
# ARMv8-A always has NEON (Advanced SIMD) with fused multiply-add: the kernels use xsimd::neon64
# with no extra flags. For a Pi 4 or 5 only, -DCMAKE_CXX_FLAGS=-mcpu=cortex-a72 (Pi 4) or
# -mcpu=cortex-a76 (Pi 5) tunes the scheduling.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TINYLOOP_CROSS_TRIPLE aarch64-linux-gnu)
set(TINYLOOP_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
