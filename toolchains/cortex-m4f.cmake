# Bare-metal toolchain: Cortex-M4 with its single-precision FPU (M4F), hard-float ABI.
#
#   apt-get install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
#   tinyloop export --checkpoint model.tlc --c-array model.h --max-len 64 --tokens "0 1 2 3 1 0 2"
#   cmake -S . -B build/cortex-m4f -DCMAKE_TOOLCHAIN_FILE=toolchains/cortex-m4f.cmake \
#         -DTINYLOOP_CORTEX_M_MODELS=$PWD/model.h
#   cmake --build build/cortex-m4f && ctest --test-dir build/cortex-m4f   # runs on qemu's mps2-an386
#
# tools/ci/cortexm.sh does all of this and compares the board's logits with the host's.
set(TINYLOOP_CORTEX_M_FLAGS "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb")
set(TINYLOOP_QEMU_MACHINE mps2-an386)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
