#pragma once
// The known-good seeds (tools/fuzz/known_good.txt) must be accepted, not merely survived: with
// TINYLOOP_FUZZ_EXPECT_ACCEPTED set in the environment, a rejected input aborts like a failed
// oracle. The ctests fuzz_known_good_* and tools/ci/fuzz.sh run those seeds this way; fuzzing
// and the corpus replay run without it, where a rejection is a normal outcome.
#include <cstdio>
#include <cstdlib>

namespace tinyloop::fuzz {

inline void note_rejected(const char* why) {
  static const bool strict = std::getenv("TINYLOOP_FUZZ_EXPECT_ACCEPTED") != nullptr;
  if (!strict) return;
  std::fprintf(stderr, "known-good input rejected: %s\n", why);
  std::abort();
}

}  // namespace tinyloop::fuzz
