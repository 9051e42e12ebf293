#!/bin/sh
# Builds the whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer in build/asan
# (-fno-sanitize-recover: any UB report fails its test) and runs ctest.
#   tools/ci/sanitizers.sh              # all tests
#   tools/ci/sanitizers.sh -R cli_      # extra arguments go to ctest
# Environment: SAN_JOBS (build and ctest parallelism, default 2), SAN_BUILD (default build/asan),
# CC/CXX (default: the system compiler; GCC and Clang both work).
# The allocation-counting tests keep counting under ASan through the sanitizer's allocation hook
# (tools/alloc_counter) instead of replacing malloc.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SAN_BUILD:-$root/build/asan}
jobs=${SAN_JOBS:-2}
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"

# Through the environment, so the sub-builds the tests configure (the installed-package consumer
# in examples/) get the same instrumentation.
CFLAGS="$flags" CXXFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined"
export CFLAGS CXXFLAGS LDFLAGS
start=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1" -DCMAKE_C_FLAGS_DEBUG="-O1" \
  -DTINYLOOP_OS_HEADER_CHECK="${TINYLOOP_OS_HEADER_CHECK:-ON}" >/dev/null
cmake --build "$build" -j"$jobs"
built=$(date +%s)

# detect_leaks: LeakSanitizer too; abort_on_error/halt_on_error: a finding fails the test.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
status=0
ctest --test-dir "$build" -j"$jobs" --output-on-failure "$@" || status=$?
end=$(date +%s)
echo "sanitizers.sh: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s (exit $status)"
exit $status
