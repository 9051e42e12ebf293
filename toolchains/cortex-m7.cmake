# Bare-metal toolchain: Cortex-M7 with its double-precision FPU (FPv5-D16), hard-float ABI.
# For an M7 with the single-precision FPU only, use -mfpu=fpv5-sp-d16.
#
#   apt-get install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
#   cmake -S . -B build/cortex-m7 -DCMAKE_TOOLCHAIN_FILE=toolchains/cortex-m7.cmake \
#         -DTINYLOOP_CORTEX_M_MODELS=$PWD/model.h                 # see cortex-m4f.cmake
#   cmake --build build/cortex-m7 && ctest --test-dir build/cortex-m7    # runs on qemu's mps2-an500
set(TINYLOOP_CORTEX_M_FLAGS "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard -mthumb")
set(TINYLOOP_QEMU_MACHINE mps2-an500)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
