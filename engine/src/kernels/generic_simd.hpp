#pragma once
// The operations of the runtime-width kernels (kernels/generic.hpp) on xsimd batches: a dot
// product and y += s x over rows of any length, and the dense layers register-blocked (a few rows
// by a few registers of columns held in registers across the whole inner dimension), the columns
// past the last whole register done one float at a time. Every sum runs in a fixed order, so
// results do not depend on the thread count; they differ from the scalar reference (ScalarOps)
// only by rounding, which test_kernels bounds.
#if TINYLOOP_SIMD
#include <cstddef>
#include <type_traits>

#include "kernels/simd.hpp"

namespace tinyloop::kernels::simd {

namespace generic_blocks {

inline fbatch load(const float* p) { return fbatch::load_unaligned(p); }

// Y[i0 .. i0+R) x [o0 .. o0 + C registers) = b + X W, the block's sums kept in registers.
template <int R, int C>
void dense_block(const float* X, int i0, int in, const float* W, const float* b, int out, int o0, float* Y) {
  fbatch acc[R][C];
  for (int c = 0; c < C; ++c) {
    const fbatch init = b ? load(b + o0 + c * kLanes) : fbatch(0.0f);
    for (int r = 0; r < R; ++r) acc[r][c] = init;
  }
  for (int k = 0; k < in; ++k) {
    fbatch w[C];
    for (int c = 0; c < C; ++c) w[c] = load(W + std::size_t(k) * out + o0 + c * kLanes);
    for (int r = 0; r < R; ++r) {
      const fbatch x(X[std::size_t(i0 + r) * in + k]);
      for (int c = 0; c < C; ++c) acc[r][c] = xsimd::fma(x, w[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c].store_unaligned(Y + std::size_t(i0 + r) * out + o0 + c * kLanes);
}

// dW[k0 .. k0+K) x [o0 .. o0 + C registers) += X^T dY over all n rows, in row order.
template <int K, int C>
void weight_grad_block(const float* X, int n, int in, int k0, int out, int o0, const float* dY, float* dW) {
  fbatch acc[K][C];
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < C; ++c) acc[k][c] = load(dW + std::size_t(k0 + k) * out + o0 + c * kLanes);
  for (int i = 0; i < n; ++i) {
    fbatch dy[C];
    for (int c = 0; c < C; ++c) dy[c] = load(dY + std::size_t(i) * out + o0 + c * kLanes);
    for (int k = 0; k < K; ++k) {
      const fbatch x(X[std::size_t(i) * in + k0 + k]);
      for (int c = 0; c < C; ++c) acc[k][c] = xsimd::fma(x, dy[c], acc[k][c]);
    }
  }
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < C; ++c) acc[k][c].store_unaligned(dW + std::size_t(k0 + k) * out + o0 + c * kLanes);
}

// dX[i0 .. i0+R) x [k0 .. k0+K) += dY W^T over the `full` columns held in whole registers.
template <int R, int K>
void input_grad_block(int i0, int k0, int in, const float* W, int out, int full, const float* dY, float* dX) {
  fbatch acc[R][K];
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < K; ++k) acc[r][k] = fbatch(0.0f);
  for (int o = 0; o < full; o += kLanes) {
    fbatch w[K];
    for (int k = 0; k < K; ++k) w[k] = load(W + std::size_t(k0 + k) * out + o);
    for (int r = 0; r < R; ++r) {
      const fbatch dy = load(dY + std::size_t(i0 + r) * out + o);
      for (int k = 0; k < K; ++k) acc[r][k] = xsimd::fma(dy, w[k], acc[r][k]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < K; ++k) dX[std::size_t(i0 + r) * in + k0 + k] += xsimd::hadd(acc[r][k]);
}

// Calls f(integral_constant<M>) for m = M, the remainder of a loop blocked by M (1 <= m <= M).
template <int M, class F>
void with_count(int m, F&& f) {
  if constexpr (M > 1) {
    if (m < M) return with_count<M - 1>(m, f);
  }
  f(std::integral_constant<int, M>{});
}

}  // namespace generic_blocks

struct GenericOps {
  static float dot(const float* a, const float* b, int n) {
    fbatch acc0(0.0f), acc1(0.0f);
    int i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      acc0 = xsimd::fma(fbatch::load_unaligned(a + i), fbatch::load_unaligned(b + i), acc0);
      acc1 = xsimd::fma(fbatch::load_unaligned(a + i + kLanes), fbatch::load_unaligned(b + i + kLanes), acc1);
    }
    if (i + kLanes <= n) {
      acc0 = xsimd::fma(fbatch::load_unaligned(a + i), fbatch::load_unaligned(b + i), acc0);
      i += kLanes;
    }
    float s = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
  }
  // y += s x
  static void axpy(float s, const float* x, float* y, int n) {
    const fbatch sb(s);
    int i = 0;
    for (; i + kLanes <= n; i += kLanes)
      xsimd::fma(sb, fbatch::load_unaligned(x + i), fbatch::load_unaligned(y + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] += s * x[i];
  }

  static void dense(const float* X, int n, int in, const float* W, const float* b, int out, float* Y) {
    using namespace generic_blocks;
    constexpr int R = 4, C = 2;
    const int regs = out / kLanes, full = regs * kLanes;
    for (int i0 = 0; i0 < n; i0 += R)
      with_count<R>(n - i0, [&](auto rows) {
        int c0 = 0;
        for (; c0 + C <= regs; c0 += C) dense_block<rows(), C>(X, i0, in, W, b, out, c0 * kLanes, Y);
        if (c0 < regs) dense_block<rows(), 1>(X, i0, in, W, b, out, c0 * kLanes, Y);
      });
    for (int i = 0; i < n; ++i)  // the columns past the last whole register
      for (int o = full; o < out; ++o) {
        float y = b ? b[o] : 0.0f;
        for (int k = 0; k < in; ++k) y += X[std::size_t(i) * in + k] * W[std::size_t(k) * out + o];
        Y[std::size_t(i) * out + o] = y;
      }
  }

  static void dense_backward(const float* X, int n, int in, const float* W, int out, const float* dY, float* dW,
                             float* db, float* dX) {
    using namespace generic_blocks;
    const int regs = out / kLanes, full = regs * kLanes;
    if (db)
      for (int i = 0; i < n; ++i) axpy(1.0f, dY + std::size_t(i) * out, db, out);
    constexpr int K = 4, C = 2;
    for (int k0 = 0; k0 < in; k0 += K)
      with_count<K>(in - k0, [&](auto ks) {
        int c0 = 0;
        for (; c0 + C <= regs; c0 += C) weight_grad_block<ks(), C>(X, n, in, k0, out, c0 * kLanes, dY, dW);
        if (c0 < regs) weight_grad_block<ks(), 1>(X, n, in, k0, out, c0 * kLanes, dY, dW);
      });
    for (int k = 0; k < in; ++k)
      for (int o = full; o < out; ++o)
        for (int i = 0; i < n; ++i)
          dW[std::size_t(k) * out + o] += X[std::size_t(i) * in + k] * dY[std::size_t(i) * out + o];
    if (!dX) return;
    constexpr int RI = 2, KI = 4;
    if (regs > 0)
      for (int i0 = 0; i0 < n; i0 += RI)
        with_count<RI>(n - i0, [&](auto rows) {
          for (int k0 = 0; k0 < in; k0 += KI)
            with_count<KI>(in - k0, [&](auto ks) { input_grad_block<rows(), ks()>(i0, k0, in, W, out, full, dY, dX); });
        });
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < in; ++k) {
        float s = 0;
        for (int o = full; o < out; ++o) s += dY[std::size_t(i) * out + o] * W[std::size_t(k) * out + o];
        dX[std::size_t(i) * in + k] += s;
      }
  }
};

}  // namespace tinyloop::kernels::simd
#endif
