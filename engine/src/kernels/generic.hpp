#pragma once
// Runtime-width counterparts of the d = 8 kernels (dense.hpp, layernorm.hpp, attention.hpp)
// for the model's shapes other than the d = 8 block: the same arithmetic, with the widths as
// arguments. The attention kernels are written over a few row operations (a row's dot products
// with many rows, a weighted sum of rows, y += s x, a softmax row), and the dense layers and GELU
// over a row are the operations' own: ScalarOps is the reference, and in a TINYLOOP_SIMD build
// the float model runs them on xsimd batches (generic_simd.hpp, register-blocked dense layers),
// which test_kernels compares with the reference. Cross-entropy is shared as it is.
#include <cmath>
#include <cstddef>

#include "kernels/attention.hpp"  // alibi_distance
#include "kernels/gelu.hpp"
#include "kernels/generic_simd.hpp"
#include "kernels/layernorm.hpp"

namespace tinyloop::kernels::generic {

template <class T>
struct ScalarOps {
  static constexpr bool kReadsTransposed = false;  // dense_backward reads W, never Wt
  static T dot(const T* a, const T* b, int n) {
    T s = 0;
    for (int i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
  }
  // y += s x
  static void axpy(T s, const T* x, T* y, int n) {
    for (int i = 0; i < n; ++i) y[i] += s * x[i];
  }
  // out[0 .. n) += sum_{j < count} w[j] rows[j] (rows of stride ld).
  static void weighted_rows(const T* w, const T* rows, int ld, int count, int n, T* out) {
    for (int j = 0; j < count; ++j) axpy(w[j], rows + std::size_t(j) * ld, out, n);
  }
  // out[j] = a . rows[j] over n entries, for the `count` rows (stride ld) from `rows`.
  static void dots(const T* a, const T* rows, int ld, int count, int n, T* out) {
    for (int j = 0; j < count; ++j) out[j] = dot(a, rows + std::size_t(j) * ld, n);
  }
  // p[0 .. count) = softmax(p[0 .. count)).
  static void softmax(T* p, int count) {
    T m = p[0];
    for (int j = 1; j < count; ++j) m = p[j] > m ? p[j] : m;
    T sum = 0;
    for (int j = 0; j < count; ++j) { p[j] = std::exp(p[j] - m); sum += p[j]; }
    const T inv = T(1) / sum;
    for (int j = 0; j < count; ++j) p[j] *= inv;
  }
  // value = gelu(x), slope = gelu'(x) over n values.
  static void gelu(const T* x, std::size_t n, T* value, T* slope) {
    for (std::size_t e = 0; e < n; ++e) gelu_forward(x[e], value + e, slope + e);
  }
  // Y (n x out) = X (n x in) W (in x out) + b (b may be null).
  static void dense(const T* X, int n, int in, const T* W, const T* b, int out, T* Y) {
    for (int i = 0; i < n; ++i) {
      T* y = Y + std::size_t(i) * out;
      const T* x = X + std::size_t(i) * in;
      for (int o = 0; o < out; ++o) y[o] = b ? b[o] : T(0);
      for (int k = 0; k < in; ++k) axpy(x[k], W + std::size_t(k) * out, y, out);
    }
  }
  // dW += X^T dY, db += sum_i dY_i (db may be null), dX += dY W^T (dX may be null). Wt (W
  // transposed, out x in) is for the operations that read it; the reference reads W.
  static void dense_backward(const T* X, int n, int in, const T* W, const T* Wt, int out, const T* dY, T* dW, T* db,
                             T* dX) {
    (void)Wt;
    for (int i = 0; i < n; ++i) {
      const T* x = X + std::size_t(i) * in;
      const T* dy = dY + std::size_t(i) * out;
      if (db) axpy(T(1), dy, db, out);
      for (int k = 0; k < in; ++k) {
        axpy(x[k], dy, dW + std::size_t(k) * out, out);
        if (dX) dX[std::size_t(i) * in + k] += dot(W + std::size_t(k) * out, dy, out);
      }
    }
  }
};

// The row operations the model runs: xsimd for float in a TINYLOOP_SIMD build, else the reference.
template <class T>
struct DefaultOps {
  using type = ScalarOps<T>;
};
#if TINYLOOP_SIMD
template <>
struct DefaultOps<float> {
  using type = simd::GenericOps;
};
#endif
template <class T>
using Ops = typename DefaultOps<T>::type;

// Y (n x out) = X (n x in) W (in x out) + b (b may be null).
template <class T, class O = Ops<T>>
inline void dense_rows(const T* X, int n, int in, const T* W, const T* b, int out, T* Y) {
  O::dense(X, n, in, W, b, out, Y);
}

// dW += X^T dY, db += sum_i dY_i (db may be null), dX += dY W^T (dX may be null). Wt is W
// transposed (out x in, transpose), needed with dX when Ops<T>::kReadsTransposed.
template <class T, class O = Ops<T>>
inline void dense_rows_backward(const T* X, int n, int in, const T* W, const T* Wt, int out, const T* dY, T* dW,
                                T* db, T* dX) {
  O::dense_backward(X, n, in, W, Wt, out, dY, dW, db, dX);
}

// dst (cols x rows) = src (rows x cols) transposed: the SIMD input gradient reads the weights
// out x in, so that it runs as the forward dense layers do.
template <class T>
inline void transpose(const T* src, int rows, int cols, T* dst) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) dst[std::size_t(c) * rows + r] = src[std::size_t(r) * cols + c];
}

// value = gelu(x), slope = gelu'(x) over n values (value may be x).
template <class T, class O = Ops<T>>
inline void gelu_rows(const T* x, std::size_t n, T* value, T* slope) {
  O::gelu(x, n, value, slope);
}

// LayerNorm over `width` features (biased variance, eps 1e-5), as kernels::layernorm_forward.
template <class T>
inline void layernorm(const T* x, int width, const T* gain, const T* bias, T* out, T* xhat, T* rstd_out) {
  T mean = 0;
  for (int c = 0; c < width; ++c) mean += x[c];
  mean /= T(width);
  T var = 0;
  for (int c = 0; c < width; ++c) var += (x[c] - mean) * (x[c] - mean);
  var /= T(width);
  const T rstd = T(1) / std::sqrt(var + T(kLayerNormEps));
  for (int c = 0; c < width; ++c) {
    const T h = (x[c] - mean) * rstd;
    xhat[c] = h;
    out[c] = h * gain[c] + bias[c];
  }
  *rstd_out = rstd;
}

// Adds the input gradient to dx; accumulates dgain, dbias.
template <class T>
inline void layernorm_backward(const T* dy, const T* xhat, T rstd, int width, const T* gain, T* dgain, T* dbias,
                               T* dx) {
  T mean_d = 0, mean_dx = 0;
  for (int c = 0; c < width; ++c) {
    dgain[c] += dy[c] * xhat[c];
    dbias[c] += dy[c];
    const T d = dy[c] * gain[c];
    mean_d += d;
    mean_dx += d * xhat[c];
  }
  mean_d /= T(width);
  mean_dx /= T(width);
  for (int c = 0; c < width; ++c) dx[c] += rstd * (dy[c] * gain[c] - mean_d - xhat[c] * mean_dx);
}

// Row i of a head's scores, p[j] = q_i . k_j * scale - slope * distance(i, j) for the keys j <
// count (count = i + 1 when causal, else n), then their softmax when asked; p[count..n) = 0.
// Q and K rows have stride `ld` and the head's columns start at the pointer.
template <class T, class O = Ops<T>>
inline void score_row(const T* Q, const T* K, int ld, int n, int dh, int i, int count, bool softmax, T scale,
                      T slope, T* p) {
  O::dots(Q + std::size_t(i) * ld, K, ld, count, dh, p);
  for (int j = 0; j < count; ++j) p[j] = p[j] * scale - slope * T(alibi_distance(i, j));
  for (int j = count; j < n; ++j) p[j] = 0;
  if (softmax) O::softmax(p, count);
}

// Back through score_row: dp[j] = dL/dp_j (j < count, overwritten with the scaled score
// gradients) into dQ row i and the dK rows (stride ld, added to); *dslope, when given, gains
// sum_j dL/dscore_ij * -distance(i, j).
template <class T, class O = Ops<T>>
inline void score_row_backward(const T* Q, const T* K, int ld, int dh, int i, int count, bool softmax, T scale,
                               const T* p, T* dp, T* dQ, T* dK, T* dslope) {
  T dot = 0;
  if (softmax)
    for (int j = 0; j < count; ++j) dot += p[j] * dp[j];
  for (int j = 0; j < count; ++j) {
    const T dscore = softmax ? p[j] * (dp[j] - dot) : dp[j];
    if (dslope) *dslope -= dscore * T(alibi_distance(i, j));
    dp[j] = dscore * scale;
  }
  const T* q = Q + std::size_t(i) * ld;
  O::weighted_rows(dp, K, ld, count, dh, dQ + std::size_t(i) * ld);
  for (int j = 0; j < count; ++j) O::axpy(dp[j], q, dK + std::size_t(j) * ld, dh);
}

// a += sum_{j < count} p_j V_j (V rows of stride ld).
template <class T, class O = Ops<T>>
inline void mix_row(const T* p, const T* V, int ld, int count, int dh, T* a) {
  O::weighted_rows(p, V, ld, count, dh, a);
}

// Back through mix_row: dp_j = da . V_j and dV_j += p_j da, for j < count.
template <class T, class O = Ops<T>>
inline void mix_row_backward(const T* p, const T* da, const T* V, int ld, int count, int dh, T* dp, T* dV) {
  O::dots(da, V, ld, count, dh, dp);
  for (int j = 0; j < count; ++j) O::axpy(p[j], da, dV + std::size_t(j) * ld, dh);
}

// One head over n tokens. Q, K, V rows have stride `ld` and the head's columns start at the
// pointer; A (same stride) receives the head's output. P (n x n) keeps the probabilities
// (softmax) or the masked scaled scores (linear); entries j > i are zero when causal.
template <class T, class O = Ops<T>>
inline void attention_head(const T* Q, const T* K, const T* V, int ld, int n, int dh, bool causal, bool softmax,
                           T scale, T* P, T* A, T slope = T(0)) {
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    T* p = P + std::size_t(i) * n;
    score_row<T, O>(Q, K, ld, n, dh, i, count, softmax, scale, slope, p);
    T* a = A + std::size_t(i) * ld;
    for (int c = 0; c < dh; ++c) a[c] = 0;
    mix_row<T, O>(p, V, ld, count, dh, a);
  }
}

// Backward of attention_head: dQ, dK, dV (stride ld, the head's columns) are added to.
// dp is a scratch row of n. *dslope, when given, gains the gradient of the ALiBi slope:
// sum over rows and keys of dL/dS_ij * -distance(i, j).
template <class T, class O = Ops<T>>
inline void attention_head_backward(const T* Q, const T* K, const T* V, int ld, int n, int dh, bool causal,
                                    bool softmax, T scale, const T* P, const T* dA, T* dp, T* dQ, T* dK, T* dV,
                                    T* dslope = nullptr) {
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const T* p = P + std::size_t(i) * n;
    mix_row_backward<T, O>(p, dA + std::size_t(i) * ld, V, ld, count, dh, dp, dV);
    score_row_backward<T, O>(Q, K, ld, dh, i, count, softmax, scale, p, dp, dQ, dK, dslope);
  }
}

}  // namespace tinyloop::kernels::generic
