#pragma once
// The single-core fused multiply-add peak of this machine, measured with the same xsimd
// batches (architecture and width) that the engine's float kernels use.
namespace tinyloop::bench {

struct FmaPeak {
  double gflops = 0;     // best over the chain counts tried, 2 flops per lane per FMA
  int chains = 0;        // independent accumulators of the best run
  int lanes = 0;         // floats per register
  const char* arch = "";  // xsimd architecture name, or "scalar"
  bool fused = true;     // false where the architecture has no FMA instruction (mul + add)
};

// Runs for roughly `seconds` of the calling thread's CPU time (waits for a core not counted).
FmaPeak measure_fma_peak(double seconds);

// The same on the widest registers the build can use when they are wider than the kernels'
// (AVX-512 with -march=native on such a host); gflops 0 where there are none.
FmaPeak measure_fma_peak_widest(double seconds);

}  // namespace tinyloop::bench
