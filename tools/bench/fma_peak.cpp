// Independent FMA chains: acc[c] = acc[c] * a + b for C accumulators held in registers. With
// C at least latency x throughput (e.g. 4 cycles x 2 pipes = 8) the FMA units never wait, so
// the rate is the core's peak. The multiplier is just below 1, so values stay finite; nothing
// can be reassociated or folded (no -ffast-math), and the result is consumed.
#include "fma_peak.hpp"

#include <cstring>

#include "tinyloop/platform/posix.hpp"  // thread_cpu_seconds: a shared machine's waits for a core are not counted
#if TINYLOOP_SIMD
#include "kernels/simd.hpp"
#endif

namespace tinyloop::bench {

namespace {

#if TINYLOOP_SIMD
using kernels::simd::fbatch;
constexpr int kLanes = kernels::simd::kLanes;
#else
struct fbatch {  // scalar build: one lane
  float v;
  explicit fbatch(float x = 0) : v(x) {}
};
inline fbatch fma_op(fbatch a, fbatch b, fbatch c) { return fbatch(a.v * b.v + c.v); }
constexpr int kLanes = 1;
#endif

volatile float g_sink;
volatile float g_seed = 1.0f;

template <int C>
double run_chains(long iterations) {
  fbatch acc[C];
  for (int c = 0; c < C; ++c) acc[c] = fbatch(g_seed + 0.001f * float(c));
  const fbatch a(0.99999994f), b(1e-7f);
  const double start = platform::thread_cpu_seconds();
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < C; ++c) {
#if TINYLOOP_SIMD
      acc[c] = xsimd::fma(acc[c], a, b);
#else
      acc[c] = fma_op(acc[c], a, b);
#endif
    }
  const double seconds = platform::thread_cpu_seconds() - start;
#if TINYLOOP_SIMD
  fbatch sum = acc[0];
  for (int c = 1; c < C; ++c) sum += acc[c];
  g_sink = xsimd::hadd(sum);
#else
  float sum = 0;
  for (int c = 0; c < C; ++c) sum += acc[c].v;
  g_sink = sum;
#endif
  return double(iterations) * C * kLanes * 2.0 / seconds / 1e9;
}

template <int C>
void try_chains(double seconds, FmaPeak* best) {
  long iterations = 1 << 16;
  run_chains<C>(iterations);  // warm up (and lets the clock ramp)
  // Calibrate: about `seconds` per timed run.
  for (;;) {
    const double t0 = platform::thread_cpu_seconds();
    run_chains<C>(iterations);
    const double dt = platform::thread_cpu_seconds() - t0;
    if (dt > seconds * 0.25 || iterations > (1L << 40)) {
      iterations = long(double(iterations) * seconds / (dt > 0 ? dt : 1e-9)) + 1;
      break;
    }
    iterations *= 4;
  }
  for (int rep = 0; rep < 2; ++rep) {
    const double g = run_chains<C>(iterations);
    if (g > best->gflops) {
      best->gflops = g;
      best->chains = C;
    }
  }
}

#if TINYLOOP_SIMD && XSIMD_WITH_AVX512F
// The same chains on 16-lane AVX-512 registers, which the kernels do not use (rows are d = 8 wide).
using wide = xsimd::batch<float, xsimd::avx512f>;
template <int C>
double run_wide(long iterations) {
  wide acc[C];
  for (int c = 0; c < C; ++c) acc[c] = wide(g_seed + 0.001f * float(c));
  const wide a(0.99999994f), b(1e-7f);
  const double start = platform::thread_cpu_seconds();
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < C; ++c) acc[c] = xsimd::fma(acc[c], a, b);
  const double seconds = platform::thread_cpu_seconds() - start;
  wide sum = acc[0];
  for (int c = 1; c < C; ++c) sum += acc[c];
  g_sink = xsimd::hadd(sum);
  return double(iterations) * C * double(wide::size) * 2.0 / seconds / 1e9;
}
#endif

}  // namespace

FmaPeak measure_fma_peak_widest(double seconds) {
  FmaPeak best;
#if TINYLOOP_SIMD && XSIMD_WITH_AVX512F
  best.arch = "avx512f";
  best.lanes = int(wide::size);
  long iterations = 1 << 16;
  run_wide<16>(iterations);
  for (;;) {
    const double t0 = platform::thread_cpu_seconds();
    run_wide<16>(iterations);
    const double dt = platform::thread_cpu_seconds() - t0;
    if (dt > seconds * 0.1 || iterations > (1L << 40)) {
      iterations = long(double(iterations) * seconds / 3.0 / (dt > 0 ? dt : 1e-9)) + 1;
      break;
    }
    iterations *= 4;
  }
  for (int rep = 0; rep < 3; ++rep) {
    const double g = run_wide<16>(iterations);
    if (g > best.gflops) {
      best.gflops = g;
      best.chains = 16;
    }
  }
#else
  (void)seconds;
#endif
  return best;
}

FmaPeak measure_fma_peak(double seconds) {
  FmaPeak best;
  best.lanes = kLanes;
#if TINYLOOP_SIMD
  best.arch = kernels::simd::arch_name();
  // xsimd::fma is one fused instruction on fma3 targets and aarch64; elsewhere mul + add.
  best.fused = std::strstr(best.arch, "fma") != nullptr || std::strstr(best.arch, "arm64") != nullptr;
#else
  best.arch = "scalar";
  best.fused = false;
#endif
  const double each = seconds / 6.0;  // 3 chain counts x 2 timed runs
  try_chains<8>(each, &best);
  try_chains<12>(each, &best);
  try_chains<16>(each, &best);
  return best;
}

}  // namespace tinyloop::bench
