#!/bin/sh
# Builds the libFuzzer targets (tools/fuzz) with Clang + ASan + UBSan in build/fuzz and runs each
# for FUZZ_SECONDS (default 60) from its seed corpus in tools/fuzz/corpus/<target>/.
# First each target runs its known-good seeds (tools/fuzz/known_good.txt), which must be accepted.
# Exits non-zero when a known-good seed is rejected, or a target crashes, leaks, trips a sanitizer
# or an oracle; the input that did it is left in build/fuzz/artifacts/<target>/.
#   tools/ci/fuzz.sh                   # every target, 60 s each
#   FUZZ_SECONDS=600 tools/ci/fuzz.sh fuzz_checkpoint
# Environment: FUZZ_SECONDS, FUZZ_JOBS (build parallelism, default 2), CC/CXX (default clang-14
# or clang), FUZZ_BUILD (default build/fuzz).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$root/build/fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
targets=${*:-"fuzz_checkpoint fuzz_cli"}

pick() { for c in "$@"; do if command -v "$c" >/dev/null 2>&1; then echo "$c"; return; fi; done; }
cc=${CC:-$(pick clang-14 clang)}
cxx=${CXX:-$(pick clang++-14 clang++)}
if [ -z "$cc" ] || [ -z "$cxx" ]; then
  echo "fuzz.sh: clang is required (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_CXX_COMPILER="$cxx" -DTINYLOOP_FUZZ=ON -DTINYLOOP_BUILD_TESTS=OFF \
  -DTINYLOOP_BUILD_EXAMPLES=OFF >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" --target $targets

# known_good <target>: the paths of its seeds listed in tools/fuzz/known_good.txt.
known_good() {
  sed -n "s|^$1/|$root/tools/fuzz/corpus/$1/|p" "$root/tools/fuzz/known_good.txt"
}

status=0
for t in $targets; do
  corpus="$build/corpus/$t"      # grows while fuzzing; the committed seeds stay as they are
  artifacts="$build/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  # The valid seeds must be accepted, not only survived (tools/fuzz/known_good.hpp).
  # shellcheck disable=SC2046
  if ! TINYLOOP_FUZZ_EXPECT_ACCEPTED=1 "$build/tools/fuzz/$t" -artifact_prefix="$artifacts" $(known_good "$t") \
       >"$build/$t.known_good.log" 2>&1; then
    status=1
    tail -n 20 "$build/$t.known_good.log"
    echo "fuzz.sh: $t rejected a known-good seed (tools/fuzz/known_good.txt)" >&2
    continue
  fi
  echo "== $t: $(known_good "$t" | wc -l) known-good seeds accepted"
  echo "== $t: $seconds s (seeds: tools/fuzz/corpus/$t)"
  if "$build/tools/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts" \
       "$corpus" "$root/tools/fuzz/corpus/$t" >"$build/$t.log" 2>&1; then
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs" "$build/$t.log" || true
  else
    status=1
    tail -n 60 "$build/$t.log"
    echo "fuzz.sh: $t FAILED; reproduce with: $build/tools/fuzz/$t $artifacts<crash-file>" >&2
  fi
done
exit $status
