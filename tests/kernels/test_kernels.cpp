// The kernels: xsimd against scalar, the streaming online attention, the instruction set xsimd
// picked, and an independent xtensor formulation of the attention forward.
//
// The xsimd kernels against the scalar reference kernels, on random inputs, lengths that are
// and are not multiples of the register width, with and without the causal mask.
#include <doctest/doctest.h>

#if !TINYLOOP_SIMD
#error "test_kernels tests the xsimd kernels: tests/CMakeLists.txt registers it as skipped when TINYLOOP_SIMD=OFF"
#endif

#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/attention_simd.hpp"
#include "kernels/exp_simd.hpp"
#include "kernels/dense.hpp"
#include "kernels/dense_simd.hpp"
#include "kernels/gelu.hpp"
#include "kernels/generic.hpp"
#include "kernels/lanes.hpp"
#include "tinyloop/rng.hpp"

using namespace tinyloop;
using namespace tinyloop::kernels;

namespace {

std::vector<float> random_vector(Rng& rng, std::size_t n, double scale = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(scale * normal(rng));
  return v;
}

// |a - b| <= tol * max(1, max |b|) elementwise.
void check_close(const float* a, const float* b, std::size_t n, double tol, const char* what) {
  double scale = 1.0, worst = 0.0;
  for (std::size_t i = 0; i < n; ++i) scale = std::fmax(scale, std::fabs(b[i]));
  for (std::size_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(double(a[i]) - double(b[i])));
  CAPTURE(what);
  CHECK(worst <= tol * scale);
}

struct AttentionBuffers {
  std::vector<float> row, dp;
  explicit AttentionBuffers(int n) {
    const std::size_t stride = std::size_t(token_stride(n));
    row.assign(kAttentionRowBuffer * stride, 0);
    dp.assign(kAttentionGradRows * stride, 0);
  }
  AttentionScratch<float> view() { return {row.data(), dp.data()}; }
};

// Queries, keys, values and their gradients are feature-major (d x stride); the padding
// columns hold random values too, which neither kernel may let through.
void compare_attention(int n, bool causal, float q, bool keep_p, float slope = 0.0f) {
  CAPTURE(slope);
  CAPTURE(n);
  CAPTURE(causal);
  CAPTURE(q);
  CAPTURE(keep_p);
  Rng rng(std::uint64_t(n) * 31 + (causal ? 1 : 0));
  const std::size_t S = std::size_t(token_stride(n)), size = kDim * S;
  const auto Q = random_vector(rng, size, 2.0), K = random_vector(rng, size, 2.0);
  const auto V = random_vector(rng, size), dA = random_vector(rng, size);
  AttentionBuffers sb(n), vb(n);
  std::vector<float> Ps(n * n, 0), Pv(n * n, 0), lse_s(n), lse_v(n), pow_s(n), pow_v(n), As(size, 7.0f),
      Av(size, -7.0f);
  std::vector<std::int32_t> arg_s(n), arg_v(n);
  AttentionRowSums<float> sums_s, sums_v;
  attention_forward<float>(Q.data(), K.data(), V.data(), n, S, causal, q, keep_p ? Ps.data() : nullptr, sb.view(),
                           lse_s.data(), arg_s.data(), pow_s.data(), As.data(), &sums_s, slope);
  simd::attention_forward(Q.data(), K.data(), V.data(), n, S, causal, q, keep_p ? Pv.data() : nullptr, vb.view(),
                          lse_v.data(), arg_v.data(), pow_v.data(), Av.data(), &sums_v, slope);
  check_close(Av.data(), As.data(), As.size(), 1e-5, "A (padding columns zeroed by both)");
  check_close(lse_v.data(), lse_s.data(), n, 1e-5, "lse");
  check_close(pow_v.data(), pow_s.data(), n, 1e-5, "sum_j P_ij^q");
  if (keep_p) check_close(Pv.data(), Ps.data(), Ps.size(), 1e-5, "P");
  CHECK(sums_v.potential == doctest::Approx(sums_s.potential).epsilon(1e-5));
  CHECK(sums_v.tsallis == doctest::Approx(sums_s.tsallis).epsilon(1e-5));
  for (int i = 0; i < n; ++i) CHECK(arg_v[i] == arg_s[i]);

  std::vector<float> dQs(size, 3.0f), dKs(size, 3.0f), dVs(size, 3.0f), dQv(size, -3.0f), dKv(size, -3.0f),
      dVv(size, -3.0f);
  float dm_s = 0.25f, dm_v = 0.25f;  // accumulated into, not overwritten
  float* dm_s_ptr = slope != 0.0f ? &dm_s : nullptr;
  float* dm_v_ptr = slope != 0.0f ? &dm_v : nullptr;
  // The reference sums each row's dot sum_j P_ij dP_ij; the SIMD kernel takes it from the
  // forward's A and power sums, so these comparisons check that identity too.
  attention_backward<float>(Q.data(), K.data(), V.data(), n, S, causal, keep_p ? Ps.data() : nullptr, lse_s.data(),
                            arg_s.data(), pow_s.data(), As.data(), dA.data(), 0.01f, 0.02f, q, sb.view(), dQs.data(),
                            dKs.data(), dVs.data(), slope, dm_s_ptr);
  simd::attention_backward(Q.data(), K.data(), V.data(), n, S, causal, keep_p ? Pv.data() : nullptr, lse_v.data(),
                           arg_v.data(), pow_v.data(), Av.data(), dA.data(), 0.01f, 0.02f, q, vb.view(), dQv.data(),
                           dKv.data(), dVv.data(), slope, dm_v_ptr);
  if (slope != 0.0f) {
    if (n > 1) CHECK(dm_s != 0.25f);  // one token: every distance is 0
    CHECK(dm_v == doctest::Approx(dm_s).epsilon(1e-4).scale(1.0));
  }
  check_close(dQv.data(), dQs.data(), dQs.size(), 1e-5, "dQ");
  check_close(dKv.data(), dKs.data(), dKs.size(), 1e-5, "dK");
  check_close(dVv.data(), dVs.data(), dVs.size(), 1e-5, "dV");
  for (int c = 0; c < kDim; ++c)
    for (std::size_t i = std::size_t(n); i < S; ++i) CHECK(dQv[c * S + i] == 0.0f);
}

}  // namespace

TEST_CASE("the training softmax's exponential is accurate, and exactly 0 below 2^-64") {
  using simd::wbatch;
  constexpr int lanes = simd::kWideLanes;
  double worst_near = 0, worst_far = 0;
  for (double x = -44.3; x <= 0.0; x += 0.003) {
    alignas(64) float in[lanes], out[lanes];
    for (int l = 0; l < lanes; ++l) in[l] = float(std::fmin(0.0, x + 0.0001 * l));
    simd::exp_softmax(wbatch::load_aligned(in)).store_aligned(out);
    for (int l = 0; l < lanes; ++l) {
      const double want = std::exp(double(in[l])), err = std::fabs(out[l] - want) / want;
      if (in[l] >= -1.0f) worst_near = std::fmax(worst_near, err);
      worst_far = std::fmax(worst_far, err);
    }
  }
  CAPTURE(worst_near);
  CAPTURE(worst_far);
  CHECK(worst_near < 2.5e-7);
  CHECK(worst_far < 4e-6);
  alignas(64) float out[lanes];
  for (float x : {-44.4f, -60.0f, -1e30f}) {
    simd::exp_softmax(wbatch(x)).store_aligned(out);
    CHECK(out[0] == 0.0f);
  }
}

TEST_CASE("SIMD attention matches the scalar kernel") {
  CAPTURE(simd::arch_name());
  for (int n : {1, 3, 8, 13, 64, 77})
    for (bool causal : {true, false})
      for (float q : {1.5f, 2.0f, 0.7f})
        for (bool keep_p : {true, false}) compare_attention(n, causal, q, keep_p);
}

TEST_CASE("SIMD attention with the ALiBi recency bias matches the scalar kernel") {
  for (int n : {1, 5, 8, 13, 64, 77})
    for (bool causal : {true, false})
      for (float slope : {0.05f, 0.7f, 3.0f})
        for (bool keep_p : {true, false}) compare_attention(n, causal, 1.5f, keep_p, slope);
}

TEST_CASE("SIMD dense layer and GELU rows of inference match the scalar kernels") {
  Rng rng(4);
  const auto x = random_vector(rng, kHidden), W = random_vector(rng, kDim * kHidden), b = random_vector(rng, kHidden);
  float ys[kHidden], yv[kHidden];
  dense_forward<kDim, kHidden, float>(x.data(), W.data(), b.data(), ys);
  simd::dense_forward<kDim, kHidden>(x.data(), W.data(), b.data(), yv);
  check_close(yv, ys, kHidden, 1e-6, "dense forward 8->32");

  const auto g = random_vector(rng, kHidden, 3.0);
  float vs[kHidden], ss[kHidden], vv[kHidden], sv[kHidden];
  gelu_row<kHidden, float>(g.data(), vs, ss);
  simd::gelu_row<kHidden>(g.data(), vv, sv);
  check_close(vv, vs, kHidden, 2e-6, "gelu");
  check_close(sv, ss, kHidden, 2e-6, "gelu slope");
}

// The runtime-width kernels of the other model shapes (kernels/generic.hpp): the xsimd row
// operations against ScalarOps, at widths that fill registers, leave tails, and are shorter than one.
TEST_CASE("SIMD row operations of the runtime-width kernels match the scalar reference") {
  using Scalar = generic::ScalarOps<float>;
  static_assert(std::is_same<generic::Ops<float>, simd::GenericOps>::value, "float runs the xsimd row operations");
  Rng rng(9);
  for (int n : {4, 13})
  for (int in : {3, 8, 17, 64})
    for (int out : {1, 5, 16, 24, 37, 100, 256}) {
      CAPTURE(n);
      CAPTURE(in);
      CAPTURE(out);
      const auto X = random_vector(rng, std::size_t(n) * in), W = random_vector(rng, std::size_t(in) * out);
      const auto b = random_vector(rng, out), dY = random_vector(rng, std::size_t(n) * out);
      std::vector<float> ys(std::size_t(n) * out), yv(ys.size());
      generic::dense_rows<float, Scalar>(X.data(), n, in, W.data(), b.data(), out, ys.data());
      generic::dense_rows<float>(X.data(), n, in, W.data(), b.data(), out, yv.data());
      check_close(yv.data(), ys.data(), ys.size(), 1e-5, "dense_rows");
      std::vector<float> dWs(W.size(), 0.5f), dWv(dWs), dbs(out, 0.1f), dbv(dbs), dXs(X.size(), 1.0f), dXv(dXs);
      std::vector<float> Wt(W.size());
      generic::transpose(W.data(), in, out, Wt.data());
      generic::dense_rows_backward<float, Scalar>(X.data(), n, in, W.data(), nullptr, out, dY.data(), dWs.data(),
                                                  dbs.data(), dXs.data());
      generic::dense_rows_backward<float>(X.data(), n, in, W.data(), Wt.data(), out, dY.data(), dWv.data(),
                                          dbv.data(), dXv.data());
      check_close(dWv.data(), dWs.data(), dWs.size(), 1e-5, "dense_rows dW");
      check_close(dbv.data(), dbs.data(), dbs.size(), 1e-5, "dense_rows db");
      check_close(dXv.data(), dXs.data(), dXs.size(), 1e-5, "dense_rows dX");
    }
  for (std::size_t n : {5, 16, 45}) {
    CAPTURE(n);
    const auto g = random_vector(rng, n, 3.0);
    std::vector<float> vs(n), ss(n), vv(n), sv(n);
    generic::gelu_rows<float, Scalar>(g.data(), n, vs.data(), ss.data());
    generic::gelu_rows<float>(g.data(), n, vv.data(), sv.data());
    check_close(vv.data(), vs.data(), n, 2e-6, "gelu_rows");
    check_close(sv.data(), ss.data(), n, 2e-6, "gelu_rows slope");
  }
  for (int n : {11, 37})
  for (int dh : {2, 8, 13, 24, 32, 45})
    for (bool causal : {true, false})
      for (bool softmax : {true, false}) {
        CAPTURE(n);
        CAPTURE(dh);
        CAPTURE(causal);
        CAPTURE(softmax);
        const int heads = 2, ld = heads * dh;
        const auto Q = random_vector(rng, std::size_t(n) * ld), K = random_vector(rng, Q.size());
        const auto V = random_vector(rng, Q.size()), dA = random_vector(rng, Q.size());
        std::vector<float> Ps(std::size_t(n) * n), Pv(Ps.size()), As(Q.size()), Av(Q.size());
        const float scale = 0.3f, slope = 0.2f;
        generic::attention_head<float, Scalar>(Q.data(), K.data(), V.data(), ld, n, dh, causal, softmax, scale,
                                               Ps.data(), As.data(), slope);
        generic::attention_head<float>(Q.data(), K.data(), V.data(), ld, n, dh, causal, softmax, scale, Pv.data(),
                                       Av.data(), slope);
        check_close(Pv.data(), Ps.data(), Ps.size(), 1e-5, "attention P");
        check_close(Av.data(), As.data(), As.size(), 1e-5, "attention A");
        std::vector<float> dp(n), dQs(Q.size()), dQv(Q.size()), dKs(Q.size()), dKv(Q.size()), dVs(Q.size()),
            dVv(Q.size());
        float dslope_s = 0, dslope_v = 0;
        generic::attention_head_backward<float, Scalar>(Q.data(), K.data(), V.data(), ld, n, dh, causal, softmax,
                                                        scale, Ps.data(), dA.data(), dp.data(), dQs.data(),
                                                        dKs.data(), dVs.data(), &dslope_s);
        generic::attention_head_backward<float>(Q.data(), K.data(), V.data(), ld, n, dh, causal, softmax, scale,
                                                Ps.data(), dA.data(), dp.data(), dQv.data(), dKv.data(), dVv.data(),
                                                &dslope_v);
        check_close(dQv.data(), dQs.data(), dQs.size(), 1e-5, "attention dQ");
        check_close(dKv.data(), dKs.data(), dKs.size(), 1e-5, "attention dK");
        check_close(dVv.data(), dVs.data(), dVs.size(), 1e-5, "attention dV");
        CHECK(dslope_v == doctest::Approx(dslope_s).epsilon(1e-4));
      }
}
