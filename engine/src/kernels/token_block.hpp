#pragma once
// Token-block kernels of the d = 8 block: LayerNorm, the dense layers and their backward for
// a block of `width` tokens at once, feature-major (row c of a d x stride array holds feature c
// of every token), so that each operation is one vertical instruction per feature and no
// horizontal sum remains per token. Written once against a lane type L (lanes.hpp): a SIMD
// register of tokens, or one token in a plain T (the scalar reference). The weight-gradient
// reductions over a sequence (outer products, row sums) close the file.
#include <cstddef>

#include "kernels/lanes.hpp"
#include "kernels/layernorm.hpp"

namespace tinyloop::kernels::block {

// rows[r][lane] = a[r * stride + i .. + width)
template <class L, int R, class T>
inline void load_rows(const T* a, std::size_t stride, int i, typename L::P (&rows)[R]) {
  for (int r = 0; r < R; ++r) rows[r] = L::load(a + r * stride + i);
}
template <class L, int R, class T>
inline void store_rows(const typename L::P (&rows)[R], std::size_t stride, int i, T* a) {
  for (int r = 0; r < R; ++r) L::store(a + r * stride + i, rows[r]);
}

// LayerNorm over the d features of each lane (biased variance), as layernorm_forward: keeps
// xhat (d rows) and 1/sigma (one row) for the backward.
template <class L, class T>
inline void layernorm_forward(const typename L::P (&y)[kDim], const T* gain, const T* bias,
                              typename L::P (&out)[kDim], T* xhat, std::size_t stride, int i, T* rstd) {
  using P = typename L::P;
  P mean = y[0];
  for (int c = 1; c < kDim; ++c) mean = mean + y[c];
  mean = mean * L::set(T(1) / T(kDim));
  P d[kDim], var = L::set(T(0));
  for (int c = 0; c < kDim; ++c) {
    d[c] = y[c] - mean;
    var = L::fma(d[c], d[c], var);
  }
  const P r = L::rsqrt(var * L::set(T(1) / T(kDim)) + L::set(T(kLayerNormEps)));
  for (int c = 0; c < kDim; ++c) {
    const P h = d[c] * r;
    L::store(xhat + c * stride + i, h);
    out[c] = L::fma(h, L::set(gain[c]), L::set(bias[c]));
  }
  L::store(rstd + i, r);
}

// out = xhat * gain + bias, from the saved xhat rows.
template <class L, class T>
inline void layernorm_apply(const T* xhat, std::size_t stride, int i, const T* gain, const T* bias,
                            typename L::P (&out)[kDim]) {
  for (int c = 0; c < kDim; ++c) out[c] = L::fma(L::load(xhat + c * stride + i), L::set(gain[c]), L::set(bias[c]));
}

// The input gradient of LayerNorm: dx = rstd (g dy - mean(g dy) - xhat mean(g dy xhat)), added
// to dx. The gain and bias gradients are reductions over the sequence (row_dots, row_sums).
template <class L, class T>
inline void layernorm_backward(const typename L::P (&dy)[kDim], const T* xhat, std::size_t stride, int i,
                               const T* rstd, const T* gain, typename L::P (&dx)[kDim]) {
  using P = typename L::P;
  P g[kDim], xh[kDim], mean_d = L::set(T(0)), mean_dx = L::set(T(0));
  for (int c = 0; c < kDim; ++c) {
    xh[c] = L::load(xhat + c * stride + i);
    g[c] = dy[c] * L::set(gain[c]);
    mean_d = mean_d + g[c];
    mean_dx = L::fma(g[c], xh[c], mean_dx);
  }
  const P inv_d = L::set(T(1) / T(kDim));
  mean_d = mean_d * inv_d;
  mean_dx = mean_dx * inv_d;
  const P r = L::load(rstd + i);
  for (int c = 0; c < kDim; ++c) dx[c] = L::fma(r, g[c] - mean_d - xh[c] * mean_dx, dx[c]);
}

// out[o] = bias[o] (0 without a bias) for the outputs [o0, o0 + N) of a dense layer.
template <class L, int N, class T>
inline void dense_bias(const T* bias, int o0, typename L::P (&out)[N]) {
  for (int o = 0; o < N; ++o) out[o] = L::set(bias ? bias[o0 + o] : T(0));
}

// out[o] += sum_c in[c] W[c][o] (W stored IN x OUT) for the outputs [o0, o0 + N).
template <class L, int IN, int OUT, int N, class T>
inline void dense_add(const typename L::P (&in)[IN], const T* W, int o0, typename L::P (&out)[N]) {
  for (int c = 0; c < IN; ++c)
    for (int o = 0; o < N; ++o) out[o] = L::fma(in[c], L::set(W[c * OUT + o0 + o]), out[o]);
}

// The input gradient of that layer for the outputs [o0, o0 + N): dx[c] += sum_o dy[o] W[c][o].
// Outputs outer: the IN accumulators advance side by side instead of one chain of N dependent
// multiply-adds each (each dx[c] still sums its o in order, so the result is the same).
template <class L, int IN, int OUT, int N, class T>
inline void dense_input_grad(const typename L::P (&dy)[N], const T* W, int o0, typename L::P (&dx)[IN]) {
  for (int o = 0; o < N; ++o)
    for (int c = 0; c < IN; ++c) dx[c] = L::fma(dy[o], L::set(W[c * OUT + o0 + o]), dx[c]);
}

// Reductions over the first n tokens of a sequence (weight, bias and gain gradients) add into
// lane accumulators: pack k of `acc` (at acc + k * L::width) keeps one partial sum per lane, so
// no horizontal sum runs per loop; reduce_lanes folds them once per sequence. The last,
// partial register of a row is masked, so padding tokens add nothing.

// acc[a][b] += A[a][i] B[b][i] over the tokens (A: RA rows, B: RB rows; acc stored RA x RB),
// the weight gradient of a dense layer with input A and output gradient B. Two rows of A
// against four of B share their loads.
template <class L, int RA, int RB, class T>
inline void outer_accumulate(const T* A, const T* B, std::size_t stride, int n, T* acc) {
  static_assert(RA % 2 == 0 && RB % 4 == 0, "rows in pairs and fours");
  using P = typename L::P;
  constexpr int W = L::width;
  const int full = n / W * W;
  for (int a = 0; a < RA; a += 2)
    for (int b = 0; b < RB; b += 4) {
      P sum[2][4];
      for (int r = 0; r < 2; ++r)
        for (int k = 0; k < 4; ++k) sum[r][k] = L::load(acc + ((a + r) * RB + b + k) * W);
      auto add = [&](int i, int valid) {  // valid < W: the row's last, partial register
        auto at = [&](const T* row) { return valid < W ? L::first_lanes(L::load(row + i), valid) : L::load(row + i); };
        const P a0 = at(A + a * stride), a1 = at(A + (a + 1) * stride);
        for (int k = 0; k < 4; ++k) {
          const P bk = at(B + (b + k) * stride);
          sum[0][k] = L::fma(a0, bk, sum[0][k]);
          sum[1][k] = L::fma(a1, bk, sum[1][k]);
        }
      };
      for (int i = 0; i < full; i += W) add(i, W);
      if (full < n) add(full, n - full);
      for (int r = 0; r < 2; ++r)
        for (int k = 0; k < 4; ++k) L::store(acc + ((a + r) * RB + b + k) * W, sum[r][k]);
    }
}

// acc[r] += A[r][i] B[r][i] over the tokens, for R rows (LayerNorm gain gradients).
template <class L, int R, class T>
inline void row_dots(const T* A, const T* B, std::size_t stride, int n, T* acc) {
  using P = typename L::P;
  constexpr int W = L::width;
  const int full = n / W * W;
  for (int r = 0; r < R; ++r) {
    P sum = L::load(acc + r * W);
    for (int i = 0; i < full; i += W) sum = L::fma(L::load(A + r * stride + i), L::load(B + r * stride + i), sum);
    if (full < n)
      sum = L::fma(L::first_lanes(L::load(A + r * stride + full), n - full),
                   L::first_lanes(L::load(B + r * stride + full), n - full), sum);
    L::store(acc + r * W, sum);
  }
}

// acc[r] += A[r][i] over the tokens, for R rows (bias gradients).
template <class L, int R, class T>
inline void row_sums(const T* A, std::size_t stride, int n, T* acc) {
  using P = typename L::P;
  constexpr int W = L::width;
  const int full = n / W * W;
  for (int r = 0; r < R; ++r) {
    P sum = L::load(acc + r * W);
    for (int i = 0; i < full; i += W) sum = sum + L::load(A + r * stride + i);
    if (full < n) sum = sum + L::first_lanes(L::load(A + r * stride + full), n - full);
    L::store(acc + r * W, sum);
  }
}

// count lane accumulators set to zero.
template <class L, class T>
inline void zero_lanes(T* acc, int count) {
  for (int k = 0; k < count; ++k) L::store(acc + k * L::width, L::set(T(0)));
}

// out[k] += the sum of the lanes of accumulator k, for count accumulators.
template <class L, class T>
inline void reduce_lanes(const T* acc, int count, T* out) {
  for (int k = 0; k < count; ++k) out[k] += L::sum(L::load(acc + k * L::width));
}

}  // namespace tinyloop::kernels::block
