#!/usr/bin/env bash
# tinyloop developer entry point.
#
#   tools/dev.sh deps           install missing build dependencies (apt-get)
#   tools/dev.sh build          deps + configure + build the portable Release tree (build/release)
#   tools/dev.sh test [args]    deps + the whole suite: the native build's ctest (extra args go
#                               to ctest, e.g. -R platform), the scalar build's unit tests
#                               (TINYLOOP_SIMD=OFF), then the aarch64 and armhf builds under
#                               qemu, the Cortex-M4F/M7 example on qemu-system-arm against the
#                               host, AddressSanitizer + UBSan, and a 30 s fuzz run per target.
#                               TEST_LEGS picks legs (default:
#                               "native scalar aarch64 armhf cortexm sanitizers fuzz").
#   tools/dev.sh train [args]   deps + build a host-tuned tree (build/native, -march=native) and
#                               train the default preset (tinyloop-alibi); extra args go to
#                               `tinyloop train` (e.g. --preset lam2026 for the paper's recipe).
#                               Without --out (or --resume) the run goes to a new folder
#                               runs/default-<timestamp>, so no earlier run is touched.
#
# Works from any directory. Environment: JOBS (parallel build jobs, default: nproc).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PACKAGES=(cmake g++ libxtensor-dev libxsimd-dev doctest-dev libxtensor-blas-dev)
# The test command's extra legs: ARM cross compilers and qemu (Linux and bare-metal Cortex-M),
# clang with libFuzzer and sanitizers.
TEST_PACKAGES=(g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user gcc-arm-none-eabi
               libstdc++-arm-none-eabi-newlib qemu-system-arm clang-14 libclang-rt-14-dev)
TEST_LEGS="${TEST_LEGS:-native scalar aarch64 armhf cortexm sanitizers fuzz}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

say() { printf '==> %s\n' "$*"; }
die() { printf 'dev.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

cmd_deps() {
  local missing=() pkg
  local packages=("${PACKAGES[@]}" "$@")
  if ! command -v dpkg >/dev/null 2>&1; then
    say "no dpkg on this system: install ${packages[*]} (or their equivalents) yourself"
    return 0
  fi
  for pkg in "${packages[@]}"; do
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    say "dependencies present: ${packages[*]}"
    return 0
  fi
  say "installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install ${missing[*]} manually"
    sudo=sudo
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
}

# configure_and_build <build dir> [extra cmake args...]
configure_and_build() {
  local dir="$1"
  shift
  say "configuring $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" || die "cmake configure failed ($dir)"
  say "building $dir with $JOBS jobs"
  cmake --build "$dir" -j "$JOBS" || die "build failed ($dir)"
}

cmd_build() {
  cmd_deps
  configure_and_build build/release
}

has_leg() { case " $TEST_LEGS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

cmd_test() {
  local extra=()
  has_leg aarch64 && extra+=(g++-aarch64-linux-gnu qemu-user)
  has_leg armhf && extra+=(g++-arm-linux-gnueabihf qemu-user)
  has_leg cortexm && extra+=(gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
  has_leg fuzz && extra+=(clang-14 libclang-rt-14-dev)
  cmd_deps "${extra[@]}"
  local failed=() start=$SECONDS
  if has_leg native; then
    configure_and_build build/release
    say "running the native suite"
    # ctest prints "100% tests passed, 0 tests failed out of N" (or the failures) at the end.
    ctest --test-dir build/release --output-on-failure -j "$JOBS" "$@" || failed+=(native)
  fi
  if has_leg scalar; then
    # The scalar kernels and the scalar inference path, which no other leg compiles: the unit,
    # golden and frozen-file tests (no CLI, fuzz replay or examples: the native leg runs those
    # on the same sources; the SIMD-only tests are registered as skipped).
    configure_and_build build/scalar -DTINYLOOP_SIMD=OFF -DTINYLOOP_BUILD_TOOLS=OFF \
      -DTINYLOOP_BUILD_EXAMPLES=OFF -DTINYLOOP_OS_HEADER_CHECK=OFF
    say "running the scalar (TINYLOOP_SIMD=OFF) suite"
    ctest --test-dir build/scalar --output-on-failure -j "$JOBS" || failed+=(scalar)
  fi
  local arch
  for arch in aarch64 armhf; do
    if has_leg "$arch"; then
      say "running the $arch suite under qemu"
      # The benchmark smoke test is left out under qemu: it only times; test_allocations
      # already proves zero allocations there.
      # The OS-header check compiles the same sources against the same stubs in every leg: the
      # native leg's run is enough, and skipping it here keeps the whole command near 15 min.
      TINYLOOP_OS_HEADER_CHECK=OFF tools/ci/cross.sh "$arch" -LE bench || failed+=("$arch")
    fi
  done
  if has_leg cortexm; then
    say "running the Cortex-M example on qemu-system-arm against the host"
    tools/ci/cortexm.sh || failed+=(cortexm)
  fi
  if has_leg sanitizers; then
    say "running the suite under AddressSanitizer + UndefinedBehaviorSanitizer"
    TINYLOOP_OS_HEADER_CHECK=OFF tools/ci/sanitizers.sh -LE tour || failed+=(sanitizers)
  fi
  if has_leg fuzz; then
    # 30 s per target here (fuzz.sh alone defaults to 60 s; docs/FUZZING.md has the long runs).
    FUZZ_SECONDS=${FUZZ_SECONDS:-30}
    say "fuzzing each target for $FUZZ_SECONDS s"
    FUZZ_SECONDS=$FUZZ_SECONDS tools/ci/fuzz.sh || failed+=(fuzz)
  fi
  say "test legs ($TEST_LEGS) took $((SECONDS - start)) s"
  if [ "${#failed[@]}" -ne 0 ]; then
    die "failed: ${failed[*]}"
  fi
  say "all tests passed"
}

cmd_train() {
  cmd_deps
  # Only the CLI: the tests, examples and checks are the test command's business.
  say "configuring build/native"
  cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release -DTINYLOOP_NATIVE=ON || die "cmake configure failed (build/native)"
  say "building the tinyloop CLI in build/native with $JOBS jobs"
  cmake --build build/native -j "$JOBS" --target tinyloop || die "build failed (build/native)"
  local exe=build/native/tools/tinyloop
  [ -x "$exe" ] || die "$exe was not built"
  local args=("$@") arg own_out=""
  # The user's own --out (or --resume, which writes beside its checkpoint) wins.
  for arg in "$@"; do
    case "$arg" in --out | --out=* | --resume | --resume=*) own_out=yes ;; esac
  done
  [ -n "$own_out" ] || args=(--out "runs/default-$(date +%Y%m%d-%H%M%S)" "$@")
  say "training: $exe train ${args[*]}"
  "$exe" train "${args[@]}"
}

main() {
  local sub="${1:-}"
  [ $# -gt 0 ] && shift
  case "$sub" in
    deps) cmd_deps "$@" ;;
    build) cmd_build "$@" ;;
    test) cmd_test "$@" ;;
    train) cmd_train "$@" ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) usage >&2; die "unknown command '$sub'" ;;
  esac
}

main "$@"
