# Shared part of the bare-metal Cortex-M toolchains (cortex-m4f.cmake, cortex-m7.cmake); not a
# toolchain file on its own. Expects TINYLOOP_CORTEX_M_FLAGS (the -mcpu/-mfpu/-mfloat-abi set)
# and TINYLOOP_QEMU_MACHINE (a qemu-system-arm board with that core) from the including file.
#
# Debian's gcc-arm-none-eabi and libstdc++-arm-none-eabi-newlib: newlib-nano as the C library,
# no OS. The C++ is built without exceptions, RTTI or thread-safe statics; the engine throws
# nothing and needs none of them. The root CMakeLists.txt builds only the engine, the
# freestanding platform and examples/cortex_m for this system (CMAKE_SYSTEM_NAME Generic).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
# Compiler checks build a library: a test program could not link without startup code.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "${TINYLOOP_CORTEX_M_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${TINYLOOP_CORTEX_M_FLAGS} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # build tools (qemu) are host programs
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# xsimd has no M-profile target (no NEON; neither the DSP extension nor Helium/MVE), so the
# engine uses its scalar kernels here.
set(TINYLOOP_SIMD OFF CACHE BOOL "Use the xsimd kernels (none exist for Cortex-M)")

# ctest runs the example on an emulated board: semihosting carries its output and exit code,
# and -icount shift=0 makes the board's clock count instructions (docs/PORTING.md).
find_program(TINYLOOP_QEMU_SYSTEM qemu-system-arm)
if(TINYLOOP_QEMU_SYSTEM)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TINYLOOP_QEMU_SYSTEM} -M ${TINYLOOP_QEMU_MACHINE} -nographic -monitor none
      -serial none -semihosting-config enable=on,target=native -icount shift=0 -kernel)
endif()
