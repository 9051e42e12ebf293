// The xsimd kernels are what runs: each target gets the instruction set it should, so an ARM
// build cannot silently fall back to the scalar path (or x86 to a narrower set than it was
// compiled for). The engine library and this test are compiled with the same flags
// (tinyloop_options), so the architecture seen here is the one the engine's kernels use.
//
//   aarch64 (Raspberry Pi 3/4/5, 64-bit OS)   xsimd::neon64  "arm64+neon", 4 float lanes
//   armhf   (-mfpu=neon-vfpv4)                xsimd::neon    "arm32+neon", 4 float lanes, FMA
//   x86-64  -mavx2 -mfma (or -march=native)   fma3<avx2>     8 lanes
//           -mavx                             avx            8 lanes
//           portable baseline                 sse2 / sse4.2  4 lanes
#include <doctest/doctest.h>

#include <string>

#if !TINYLOOP_SIMD
#error "test_simd_arch tests the xsimd kernels: tests/CMakeLists.txt registers it as skipped when TINYLOOP_SIMD=OFF"
#endif

#include "kernels/block_kernels.hpp"
#include "kernels/simd.hpp"

TEST_CASE("the xsimd architecture matches the target") {
  namespace simd = tinyloop::kernels::simd;
  const std::string name = simd::arch_name();
  CAPTURE(name);
  MESSAGE("xsimd architecture: " << name << ", " << simd::kLanes << " float lanes");
#if defined(__aarch64__)
  CHECK(name == "arm64+neon");
  CHECK(simd::kLanes == 4);
#elif defined(__arm__)
  CHECK(name == "arm32+neon");
  CHECK(simd::kLanes == 4);
#if !defined(__ARM_FEATURE_FMA)
  FAIL("armhf build without fused multiply-add: the toolchain should pass -mfpu=neon-vfpv4");
#endif
#elif defined(__x86_64__) || defined(__i386__)
#if defined(__AVX2__) && defined(__FMA__)
  CHECK(name == "fma3+avx2");
  CHECK(simd::kLanes == 8);
#elif defined(__AVX__)
  CHECK(name == "avx");
  CHECK(simd::kLanes == 8);
#elif defined(__SSE4_2__)
  CHECK(name == "sse4.2");
  CHECK(simd::kLanes == 4);
#else
  CHECK(name == "sse2");
  CHECK(simd::kLanes == 4);
#endif
#else
  FAIL("no expectation for this architecture's xsimd target (" << name << "): add one here");
#endif
  // One register is a real vector, not a one-lane scalar emulation.
  CHECK(sizeof(simd::fbatch) >= 16);
  CHECK(sizeof(simd::fbatch) == simd::kLanes * sizeof(float));
}

TEST_CASE("the float block runs the xsimd kernels, the double block the scalar references") {
  CHECK(tinyloop::kernels::BlockKernels<float>::simd);
  CHECK_FALSE(tinyloop::kernels::BlockKernels<double>::simd);
}
