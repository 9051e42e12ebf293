#!/usr/bin/env bash
# tools/ci/cross.sh ARCH [CTEST_ARGS...]
#
# Cross-builds tinyloop for ARCH and runs the whole ctest suite under qemu-user:
#   aarch64  Raspberry Pi 3/4/5 with a 64-bit OS   toolchains/aarch64-linux-gnu.cmake    qemu-aarch64
#   armhf    Raspberry Pi 2/3/4, 32-bit Pi OS      toolchains/arm-linux-gnueabihf.cmake  qemu-arm
# into build/ARCH of this checkout (TINYLOOP_CROSS_BUILD_DIR overrides). Extra arguments go to
# ctest (e.g. -R c_api). JOBS sets the parallelism (default: all cores).
#
# Installs nothing. Needs the Debian packages g++-aarch64-linux-gnu / g++-arm-linux-gnueabihf
# (they bring the target's glibc and libstdc++ under /usr/<triple>) and qemu-user, besides what
# the native build needs (cmake, g++, libxsimd-dev, libxtensor-dev, doctest-dev). When the
# cross compiler or qemu is missing it prints a SKIPPED line and exits 0.
#
# Exit status: 0 = passed or skipped, 1 = configure/build/test failure, 2 = bad usage.
set -euo pipefail

usage() { echo "usage: $0 aarch64|armhf [ctest args...]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
arch=$1
shift
case "$arch" in
  aarch64) triple=aarch64-linux-gnu;   qemu=qemu-aarch64 ;;
  armhf)   triple=arm-linux-gnueabihf; qemu=qemu-arm ;;
  *) usage ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
toolchain=$root/toolchains/$triple.cmake
build=${TINYLOOP_CROSS_BUILD_DIR:-$root/build/$arch}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

missing=()
command -v "$triple-g++" >/dev/null 2>&1 || missing+=("$triple-g++ (apt-get install g++-$triple)")
command -v "$triple-gcc" >/dev/null 2>&1 || missing+=("$triple-gcc (apt-get install gcc-$triple)")
[[ -d /usr/$triple/lib ]] || missing+=("/usr/$triple/lib (the target's C library: apt-get install g++-$triple)")
command -v "$qemu" >/dev/null 2>&1 || missing+=("$qemu (apt-get install qemu-user)")
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "cross.sh $arch: SKIPPED, missing: ${missing[*]}"
  exit 0
fi
command -v cmake >/dev/null 2>&1 || { echo "cross.sh $arch: cmake is not installed" >&2; exit 1; }

step() { echo "== cross.sh $arch: $*"; }
fail() { echo "cross.sh $arch: FAILED: $*" >&2; exit 1; }
t0=$(date +%s)

step "configure $build ($toolchain)"
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
  -DTINYLOOP_OS_HEADER_CHECK="${TINYLOOP_OS_HEADER_CHECK:-ON}" || fail "configure (see the messages above)"
# The toolchain file sets CMAKE_CROSSCOMPILING_EMULATOR only when it finds qemu; make sure it did.
grep -q "^TINYLOOP_QEMU:FILEPATH=.*$qemu\$" "$build/CMakeCache.txt" \
  || fail "the toolchain file found no $qemu (TINYLOOP_QEMU in $build/CMakeCache.txt)"

step "build (-j$jobs)"
cmake --build "$build" -j "$jobs" || fail "build"
t1=$(date +%s)

step "ctest under $qemu (-j$jobs)"
set +e
ctest --test-dir "$build" --output-on-failure --timeout 1200 -j "$jobs" "$@"
rc=$?
set -e
t2=$(date +%s)
echo "== cross.sh $arch: build $((t1 - t0)) s, tests $((t2 - t1)) s"
[[ $rc -eq 0 ]] || fail "ctest exited with $rc"
echo "cross.sh $arch: PASSED"
