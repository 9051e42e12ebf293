// The token-block kernels (kernels/token_block.hpp) of the d = 8 block's training step: one
// token per lane (ScalarLanes) against the per-token textbook kernels (layernorm.hpp, dense.hpp,
// gelu.hpp) and plain double sums; and, in a SIMD build, a register of tokens (WideLanes)
// against one token per lane, at lengths that fill the lanes, leave a tail, and are shorter
// than one register.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/dense.hpp"
#include "kernels/gelu.hpp"
#include "kernels/layernorm.hpp"
#include "kernels/token_block.hpp"
#include "tinyloop/rng.hpp"

using namespace tinyloop;
using namespace tinyloop::kernels;

namespace {

constexpr int D = kDim, H = kHidden;

std::vector<float> random_vector(Rng& rng, std::size_t n, double scale = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(scale * normal(rng));
  return v;
}

void check_close(const std::vector<float>& a, const std::vector<float>& b, double tol, const char* what) {
  REQUIRE(a.size() == b.size());
  double scale = 1.0, worst = 0.0;
  for (float x : b) scale = std::fmax(scale, std::fabs(x));
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::fmax(worst, std::fabs(double(a[i]) - double(b[i])));
  CAPTURE(what);
  CAPTURE(worst);
  CHECK(worst <= tol * scale);
}

struct Inputs {
  int n;
  std::size_t S;
  std::vector<float> y, dy, gain, bias, W1, b1, W2;
  Inputs(int len, std::uint64_t seed) : n(len), S(std::size_t(token_stride(len))) {
    Rng rng(seed);
    y = random_vector(rng, D * S, 2.0);
    dy = random_vector(rng, D * S);
    gain = random_vector(rng, D);
    bias = random_vector(rng, D);
    W1 = random_vector(rng, D * H, 0.5);
    b1 = random_vector(rng, H);
    W2 = random_vector(rng, H * D, 0.3);
  }
};

// Everything one block pass produces, feature-major, plus the sequence reductions.
struct Outputs {
  std::vector<float> xhat, rstd, act, slope, mlp, dx, dW1, db1, dgain;
  explicit Outputs(std::size_t S)
      : xhat(D * S), rstd(S), act(H * S), slope(H * S), mlp(D * S), dx(D * S), dW1(D * H, 0.5f), db1(H, 0.25f),
        dgain(D, -0.5f) {}
  // Only the first n columns of per-token rows count: the padding lanes are free to differ.
  void clear_padding(int n, std::size_t S) {
    auto clear = [&](std::vector<float>& v, int rows) {
      for (int r = 0; r < rows; ++r)
        for (std::size_t i = std::size_t(n); i < S; ++i) v[r * S + i] = 0.0f;
    };
    clear(xhat, D), clear(rstd, 1), clear(act, H), clear(slope, H), clear(mlp, D), clear(dx, D);
  }
};

// LayerNorm, the 8 -> 32 layer, GELU, the 32 -> 8 layer, the input gradients back through
// both layers and the LayerNorm (with dy as the gradient at the LayerNorm's output and at
// the MLP's output), and the weight, bias and gain gradients summed twice over the sequence.
template <class L>
Outputs run_blocks(const Inputs& in) {
  using P = typename L::P;
  const std::size_t S = in.S;
  Outputs out(S);
  std::vector<float> h(D * S), dhid(H * S);
  for (int i = 0; i < in.n; i += L::width) {
    P y[D], hn[D], mlp[D], dh[D], dx[D];
    block::load_rows<L>(in.y.data(), S, i, y);
    block::layernorm_forward<L>(y, in.gain.data(), in.bias.data(), hn, out.xhat.data(), S, i, out.rstd.data());
    block::store_rows<L>(hn, S, i, h.data());
    block::dense_bias<L>((const float*)nullptr, 0, mlp);
    for (int j0 = 0; j0 < H; j0 += 8) {
      P g[8], s[8];
      block::dense_bias<L>(in.b1.data(), j0, g);
      block::dense_add<L, D, H>(hn, in.W1.data(), j0, g);
      for (int j = 0; j < 8; ++j) {
        L::gelu(g[j], &g[j], &s[j]);
        L::store(out.act.data() + (j0 + j) * S + i, g[j]);
        L::store(out.slope.data() + (j0 + j) * S + i, s[j]);
      }
      block::dense_add<L, 8, D>(g, in.W2.data() + j0 * D, 0, mlp);
    }
    block::store_rows<L>(mlp, S, i, out.mlp.data());
    P dmlp[D];
    block::load_rows<L>(in.dy.data(), S, i, dmlp);
    for (int c = 0; c < D; ++c) dh[c] = dx[c] = L::set(0.0f);
    for (int j0 = 0; j0 < H; j0 += 8) {
      P d[8];
      for (int j = 0; j < 8; ++j) d[j] = L::set(0.0f);
      block::dense_input_grad<L, 8, D>(dmlp, in.W2.data() + j0 * D, 0, d);
      for (int j = 0; j < 8; ++j) {
        d[j] = d[j] * L::load(out.slope.data() + (j0 + j) * S + i);
        L::store(dhid.data() + (j0 + j) * S + i, d[j]);
      }
      block::dense_input_grad<L, D, H>(d, in.W1.data(), j0, dh);
    }
    block::layernorm_backward<L>(dh, out.xhat.data(), S, i, out.rstd.data(), in.gain.data(), dx);
    block::store_rows<L>(dx, S, i, out.dx.data());
  }
  // Lane accumulators, reduced once at the end (twice over the sequence: they accumulate).
  std::vector<float> acc_W1(D * H * L::width, 0.0f), acc_b1(H * L::width, 0.0f), acc_gain(D * L::width, 0.0f);
  for (int twice = 0; twice < 2; ++twice) {
    block::outer_accumulate<L, D, H>(h.data(), dhid.data(), S, in.n, acc_W1.data());
    block::row_sums<L, H>(dhid.data(), S, in.n, acc_b1.data());
    block::row_dots<L, D>(in.dy.data(), out.xhat.data(), S, in.n, acc_gain.data());
  }
  block::reduce_lanes<L>(acc_W1.data(), D * H, out.dW1.data());
  block::reduce_lanes<L>(acc_b1.data(), H, out.db1.data());
  block::reduce_lanes<L>(acc_gain.data(), D, out.dgain.data());
  out.clear_padding(in.n, S);
  return out;
}

// The same, one token at a time with the textbook kernels; reductions in double.
Outputs run_tokens(const Inputs& in) {
  const std::size_t S = in.S;
  Outputs out(S);
  std::vector<double> dW1(D * H, 0.0), db1(H, 0.0), dgain(D, 0.0);
  for (int i = 0; i < in.n; ++i) {
    float y[D], h[D], xhat[D], rstd, g[H], act[H], slope[H], mlp[D], dmlp[D], dhid[H] = {}, dh[D] = {},
        dx[D] = {}, gain_grad[D] = {}, bias_grad[D] = {};
    for (int c = 0; c < D; ++c) y[c] = in.y[c * S + i], dmlp[c] = in.dy[c * S + i];
    layernorm_forward(y, in.gain.data(), in.bias.data(), h, xhat, &rstd);
    dense_forward<D, H>(h, in.W1.data(), in.b1.data(), g);
    for (int j = 0; j < H; ++j) gelu_forward(g[j], &act[j], &slope[j]);
    dense_forward<H, D>(act, in.W2.data(), (const float*)nullptr, mlp);
    for (int j = 0; j < H; ++j) {
      for (int c = 0; c < D; ++c) dhid[j] += dmlp[c] * in.W2[j * D + c];
      dhid[j] *= slope[j];
    }
    for (int c = 0; c < D; ++c)
      for (int j = 0; j < H; ++j) dh[c] += dhid[j] * in.W1[c * H + j];
    layernorm_backward(dh, xhat, rstd, in.gain.data(), gain_grad, bias_grad, dx);
    for (int c = 0; c < D; ++c) {
      out.xhat[c * S + i] = xhat[c];
      out.mlp[c * S + i] = mlp[c];
      out.dx[c * S + i] = dx[c];
      dgain[c] += double(dmlp[c]) * xhat[c];
      for (int j = 0; j < H; ++j) dW1[c * H + j] += double(h[c]) * dhid[j];
    }
    for (int j = 0; j < H; ++j) {
      out.act[j * S + i] = act[j];
      out.slope[j * S + i] = slope[j];
      db1[j] += dhid[j];
    }
    out.rstd[i] = rstd;
  }
  for (int k = 0; k < D * H; ++k) out.dW1[k] += float(2.0 * dW1[k]);
  for (int j = 0; j < H; ++j) out.db1[j] += float(2.0 * db1[j]);
  for (int c = 0; c < D; ++c) out.dgain[c] += float(2.0 * dgain[c]);
  out.clear_padding(in.n, S);
  return out;
}

void compare(const Outputs& got, const Outputs& want, double tol, double gelu_tol) {
  check_close(got.xhat, want.xhat, tol, "LayerNorm xhat");
  check_close(got.rstd, want.rstd, tol, "LayerNorm 1/sigma");
  check_close(got.act, want.act, gelu_tol, "GELU");
  check_close(got.slope, want.slope, gelu_tol, "GELU slope");
  check_close(got.mlp, want.mlp, gelu_tol, "MLP output");
  check_close(got.dx, want.dx, gelu_tol, "input gradient");
  check_close(got.dW1, want.dW1, gelu_tol, "weight gradient (outer product)");
  check_close(got.db1, want.db1, gelu_tol, "bias gradient (row sums)");
  check_close(got.dgain, want.dgain, tol, "gain gradient (row dots)");
}

}  // namespace

TEST_CASE("token blocks, one token per lane, match the per-token kernels") {
  for (int n : {1, 7, 16, 33, 64}) {
    CAPTURE(n);
    const Inputs in(n, 100 + std::uint64_t(n));
    compare(run_blocks<ScalarLanes<float>>(in), run_tokens(in), 2e-6, 2e-5);
  }
}

#if TINYLOOP_SIMD
TEST_CASE("token blocks on SIMD registers match one token per lane") {
  CAPTURE(WideLanes::width);
  for (int n : {1, 3, 15, 16, 17, 33, 64, 77}) {
    CAPTURE(n);
    const Inputs in(n, 200 + std::uint64_t(n));
    // The SIMD GELU is Abramowitz & Stegun's erf (|error| <= 1.5e-7 before rounding).
    compare(run_blocks<WideLanes>(in), run_blocks<ScalarLanes<float>>(in), 2e-6, 2e-5);
  }
}
#endif
