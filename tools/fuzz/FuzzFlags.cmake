# Included by the top-level CMakeLists.txt when TINYLOOP_FUZZ=ON, before any target: every
# target gets coverage instrumentation for libFuzzer plus AddressSanitizer and
# UndefinedBehaviorSanitizer (a UB report aborts, so the fuzzer records it as a crash).
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TINYLOOP_FUZZ needs Clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++ "
                      "-DCMAKE_C_COMPILER=clang (Debian: clang and libclang-rt-<N>-dev)")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)
