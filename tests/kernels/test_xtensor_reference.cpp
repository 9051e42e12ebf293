// A third, independent formulation of the attention forward: whole-array xtensor expressions
// (scores by broadcasting, masked softmax, weighted sum), against the engine's scalar and
// SIMD kernels.
#include <doctest/doctest.h>

#include <cmath>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include "kernels/attention.hpp"
#include "kernels/attention_simd.hpp"
#include "kernels/lanes.hpp"

using namespace tinyloop;

namespace {

struct Reference {
  xt::xarray<double> P, A, lse;
};

Reference attention_by_arrays(const xt::xarray<double>& Q, const xt::xarray<double>& K, const xt::xarray<double>& V,
                              bool causal) {
  const std::size_t n = Q.shape()[0];
  xt::xarray<double> S = xt::sum(xt::view(Q, xt::all(), xt::newaxis(), xt::all()) *
                                     xt::view(K, xt::newaxis(), xt::all(), xt::all()),
                                 {2}) /
                         std::sqrt(double(kDim));
  if (causal) {
    auto i = xt::view(xt::arange<double>(double(n)), xt::all(), xt::newaxis());
    auto j = xt::view(xt::arange<double>(double(n)), xt::newaxis(), xt::all());
    S = xt::where(j > i, -INFINITY, S);
  }
  xt::xarray<double> m = xt::amax(S, {1});
  xt::xarray<double> E = xt::exp(S - xt::view(m, xt::all(), xt::newaxis()));
  xt::xarray<double> sum = xt::sum(E, {1});
  Reference r;
  r.P = E / xt::view(sum, xt::all(), xt::newaxis());
  r.A = xt::sum(xt::view(r.P, xt::all(), xt::all(), xt::newaxis()) * xt::view(V, xt::newaxis(), xt::all(), xt::all()),
                {1});
  r.lse = m + xt::log(sum);
  return r;
}

template <class Run>
void check_against_arrays(int n, bool causal, Run run) {
  CAPTURE(n);
  CAPTURE(causal);
  xt::random::seed(std::uint64_t(n) + (causal ? 100 : 0));
  const xt::xarray<double> Q = xt::random::randn<double>({std::size_t(n), std::size_t(kDim)});
  const xt::xarray<double> K = xt::random::randn<double>({std::size_t(n), std::size_t(kDim)});
  const xt::xarray<double> V = xt::random::randn<double>({std::size_t(n), std::size_t(kDim)});
  const Reference ref = attention_by_arrays(Q, K, V, causal);

  // The kernels take feature-major arrays (d x stride), padding columns zero.
  const std::size_t N = std::size_t(n), stride = std::size_t(kernels::token_stride(n));
  auto feature_major = [&](const xt::xarray<double>& X) {
    xt::xarray<float> out = xt::zeros<float>({std::size_t(kDim), stride});
    xt::view(out, xt::all(), xt::range(0, N)) = xt::transpose(xt::cast<float>(X));
    return out;
  };
  const xt::xarray<float> Qf = feature_major(Q), Kf = feature_major(K), Vf = feature_major(V);
  xt::xarray<float> P = xt::zeros<float>({N, N});
  xt::xarray<float> A = xt::zeros<float>({std::size_t(kDim), stride});
  xt::xarray<float> lse = xt::zeros<float>({N});
  xt::xarray<float> power_sum = xt::zeros<float>({N});
  xt::xarray<float> row = xt::zeros<float>({kernels::kAttentionRowBuffer * stride});
  xt::xarray<float> dp = xt::zeros<float>({kernels::kAttentionGradRows * stride});
  xt::xarray<std::int32_t> argmax = xt::zeros<std::int32_t>({N});
  kernels::AttentionScratch<float> scratch{row.data(), dp.data()};
  kernels::AttentionRowSums<float> sums;
  run(Qf.data(), Kf.data(), Vf.data(), n, stride, causal, P.data(), scratch, lse.data(), argmax.data(),
      power_sum.data(), A.data(), &sums);
  const xt::xarray<float> A_tokens = xt::transpose(xt::view(A, xt::all(), xt::range(0, N)));

  if (causal) P = xt::where(xt::view(xt::arange<int>(n), xt::newaxis(), xt::all()) >
                                xt::view(xt::arange<int>(n), xt::all(), xt::newaxis()),
                            0.0f, P);  // masked entries are not written by the kernels
  CHECK(xt::allclose(xt::cast<double>(P), ref.P, 1e-5, 1e-6));
  CHECK(xt::allclose(xt::cast<double>(A_tokens), ref.A, 1e-5, 1e-5));
  CHECK(xt::all(xt::equal(xt::view(A, xt::all(), xt::range(N, stride)), 0.0f)));  // padding zeroed
  CHECK(xt::allclose(xt::cast<double>(lse), ref.lse, 1e-5, 1e-5));
  const xt::xarray<double> ref_power = xt::sum(ref.P * xt::sqrt(ref.P), {1});  // q = 1.5
  CHECK(xt::allclose(xt::cast<double>(power_sum), ref_power, 1e-5, 1e-5));
  // The potential term: sum over rows of -log max_j P_ij.
  CHECK(double(sums.potential) == doctest::Approx(xt::sum(-xt::log(xt::amax(ref.P, {1})))()).epsilon(1e-4));
}

}  // namespace

TEST_CASE("attention kernels agree with an xtensor array-expression reference") {
  for (int n : {1, 5, 16, 33})
    for (bool causal : {true, false}) {
      check_against_arrays(n, causal, [](const float* Q, const float* K, const float* V, int len, std::size_t stride,
                                         bool c, float* P, const kernels::AttentionScratch<float>& s, float* lse,
                                         std::int32_t* am, float* pw, float* A,
                                         kernels::AttentionRowSums<float>* sums) {
        kernels::attention_forward<float>(Q, K, V, len, stride, c, 1.5f, P, s, lse, am, pw, A, sums);
      });
#if TINYLOOP_SIMD
      check_against_arrays(n, causal, [](const float* Q, const float* K, const float* V, int len, std::size_t stride,
                                         bool c, float* P, const kernels::AttentionScratch<float>& s, float* lse,
                                         std::int32_t* am, float* pw, float* A,
                                         kernels::AttentionRowSums<float>* sums) {
        kernels::simd::attention_forward(Q, K, V, len, stride, c, 1.5f, P, s, lse, am, pw, A, sums);
      });
#endif
    }
}
