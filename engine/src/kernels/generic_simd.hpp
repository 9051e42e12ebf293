#pragma once
// The operations of the runtime-width kernels (kernels/generic.hpp) on xsimd batches: a dot
// product and y += s x over rows of any length, a softmax row, GELU over a row, and the dense
// layers register-blocked (a few rows by a few registers of columns held in registers across the
// whole inner dimension). They use the widest registers (AVX-512 where the build has it,
// wide_arch) and block for the target's register file; the columns past the last whole register
// are done one float at a time. The input gradient dX += dY W^T runs as a forward layer on W
// transposed (Wt, which the model keeps). Every sum runs in a fixed order, so results do not
// depend on the thread count; they differ from the scalar reference (ScalarOps) only by
// rounding, which test_kernels bounds.
#if TINYLOOP_SIMD
#include <cstddef>
#include <type_traits>

#include "kernels/exp_simd.hpp"
#include "kernels/gelu_simd.hpp"
#include "kernels/simd.hpp"

namespace tinyloop::kernels::simd {

namespace generic_blocks {

using B = wbatch;
constexpr int L = kWideLanes;

// Block shapes for the register file: 32 vector registers on AVX-512 and AArch64, 16 elsewhere
// (AVX2, 32-bit NEON). A dense block holds R x C accumulators plus C weight registers and a
// broadcast.
#if XSIMD_WITH_AVX512F || XSIMD_WITH_NEON64
constexpr int kRegisters = 32;
#else
constexpr int kRegisters = 16;
#endif
constexpr int kRows = kRegisters == 32 ? 6 : 4;     // rows of a dense block (forward) or X columns (weight gradient)
constexpr int kCols = kRegisters == 32 ? 4 : 2;     // registers of output columns in a dense block

inline B load(const float* p) { return B::load_unaligned(p); }

// Y[i0 .. i0+R) x [o0 .. o0 + C registers) = b + X W, or += X W when `add`, the block's sums
// kept in registers.
template <int R, int C>
void dense_block(const float* X, int i0, int in, const float* W, const float* b, int out, int o0, float* Y,
                 bool add) {
  B acc[R][C];
  for (int c = 0; c < C; ++c) {
    const B init = b ? load(b + o0 + c * L) : B(0.0f);
    for (int r = 0; r < R; ++r) acc[r][c] = add ? load(Y + std::size_t(i0 + r) * out + o0 + c * L) : init;
  }
  for (int k = 0; k < in; ++k) {
    B w[C];
    for (int c = 0; c < C; ++c) w[c] = load(W + std::size_t(k) * out + o0 + c * L);
    for (int r = 0; r < R; ++r) {
      const B x(X[std::size_t(i0 + r) * in + k]);
      for (int c = 0; c < C; ++c) acc[r][c] = xsimd::fma(x, w[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c].store_unaligned(Y + std::size_t(i0 + r) * out + o0 + c * L);
}

// dW[k0 .. k0+K) x [o0 .. o0 + C registers) += X^T dY over all n rows, in row order.
template <int K, int C>
void weight_grad_block(const float* X, int n, int in, int k0, int out, int o0, const float* dY, float* dW) {
  B acc[K][C];
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < C; ++c) acc[k][c] = load(dW + std::size_t(k0 + k) * out + o0 + c * L);
  for (int i = 0; i < n; ++i) {
    B dy[C];
    for (int c = 0; c < C; ++c) dy[c] = load(dY + std::size_t(i) * out + o0 + c * L);
    for (int k = 0; k < K; ++k) {
      const B x(X[std::size_t(i) * in + k0 + k]);
      for (int c = 0; c < C; ++c) acc[k][c] = xsimd::fma(x, dy[c], acc[k][c]);
    }
  }
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < C; ++c) acc[k][c].store_unaligned(dW + std::size_t(k0 + k) * out + o0 + c * L);
}

// Calls f(o0, integral_constant<C>) over the whole registers of `regs`, C at a time, then once
// for the 1 .. C-1 left.
template <int C, class F>
void over_registers(int regs, F&& f) {
  int c0 = 0;
  for (; c0 + C <= regs; c0 += C) f(c0 * L, std::integral_constant<int, C>{});
  if (c0 < regs) with_count<C - 1>(regs - c0, [&](auto cs) { f(c0 * L, cs); });
}

}  // namespace generic_blocks

// The row operations run on the widest registers, then on one d-row register (8 lanes on AVX-512
// builds) for what is left, then one float at a time.
struct GenericOps {
  static float dot(const float* a, const float* b, int n) {
    wbatch wide(0.0f);
    int i = 0;
    for (; i + kWideLanes <= n; i += kWideLanes)
      wide = xsimd::fma(wbatch::load_unaligned(a + i), wbatch::load_unaligned(b + i), wide);
    fbatch narrow(0.0f);
    if constexpr (kLanes < kWideLanes) {
      for (; i + kLanes <= n; i += kLanes)
        narrow = xsimd::fma(fbatch::load_unaligned(a + i), fbatch::load_unaligned(b + i), narrow);
    }
    float s = xsimd::hadd(wide) + xsimd::hadd(narrow);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
  }
  // out[j] = a . rows[j] over n entries, for the `count` rows (stride ld) from `rows`: a register
  // of 16 rows at a time, one accumulator per row, summed together (lane_sums); the rest by dot.
  static void dots(const float* a, const float* rows, int ld, int count, int n, float* out) {
    const int whole = n / kWideLanes * kWideLanes;
    int j = 0;
    if (whole > 0)
      for (; j + kWideLanes <= count; j += kWideLanes) {
        wbatch acc[kWideLanes];
        for (auto& s : acc) s = wbatch(0.0f);
        for (int c = 0; c < whole; c += kWideLanes) {
          const wbatch x = wbatch::load_unaligned(a + c);
          for (int r = 0; r < kWideLanes; ++r)
            acc[r] = xsimd::fma(x, wbatch::load_unaligned(rows + std::size_t(j + r) * ld + c), acc[r]);
        }
        wbatch sums = lane_sums(acc);
        if (whole < n) {  // the entries past the last whole register
          alignas(64) float rest[kWideLanes];
          for (int r = 0; r < kWideLanes; ++r) {
            float s = 0;
            for (int c = whole; c < n; ++c) s += a[c] * rows[std::size_t(j + r) * ld + c];
            rest[r] = s;
          }
          sums += wbatch::load_aligned(rest);
        }
        sums.store_unaligned(out + j);
      }
    for (; j < count; ++j) out[j] = dot(a, rows + std::size_t(j) * ld, n);
  }
  // out[0 .. n) += sum_{j < count} w[j] rows[j] (rows of stride ld): up to 4 registers of out
  // held across all the rows, the entries past the last whole register one float at a time.
  static void weighted_rows(const float* w, const float* rows, int ld, int count, int n, float* out) {
    const int regs = n / kWideLanes;
    generic_blocks::over_registers<4>(regs, [&](int o0, auto cs) {
      constexpr int C = cs();
      wbatch acc[C];
      for (int c = 0; c < C; ++c) acc[c] = wbatch::load_unaligned(out + o0 + c * kWideLanes);
      for (int j = 0; j < count; ++j) {
        const wbatch s(w[j]);
        const float* row = rows + std::size_t(j) * ld + o0;
        for (int c = 0; c < C; ++c) acc[c] = xsimd::fma(s, wbatch::load_unaligned(row + c * kWideLanes), acc[c]);
      }
      for (int c = 0; c < C; ++c) acc[c].store_unaligned(out + o0 + c * kWideLanes);
    });
    for (int e = regs * kWideLanes; e < n; ++e) {
      float s = out[e];
      for (int j = 0; j < count; ++j) s += w[j] * rows[std::size_t(j) * ld + e];
      out[e] = s;
    }
  }
  // y += s x
  static void axpy(float s, const float* x, float* y, int n) {
    int i = 0;
    const wbatch sw(s);
    for (; i + kWideLanes <= n; i += kWideLanes)
      xsimd::fma(sw, wbatch::load_unaligned(x + i), wbatch::load_unaligned(y + i)).store_unaligned(y + i);
    if constexpr (kLanes < kWideLanes) {
      const fbatch sb(s);
      for (; i + kLanes <= n; i += kLanes)
        xsimd::fma(sb, fbatch::load_unaligned(x + i), fbatch::load_unaligned(y + i)).store_unaligned(y + i);
    }
    for (; i < n; ++i) y[i] += s * x[i];
  }
  // p[0 .. count) = softmax(p[0 .. count)), with exp_softmax (kernels/exp_simd.hpp); the part past
  // the last whole register goes through one padded register, so nothing past count is read.
  static void softmax(float* p, int count) {
    const int whole = count / kWideLanes * kWideLanes, rest = count - whole;
    alignas(64) float tail[kWideLanes];
    for (int k = 0; k < kWideLanes; ++k) tail[k] = k < rest ? p[whole + k] : -3.0e38f;
    wbatch top = wbatch::load_aligned(tail);
    for (int j = 0; j < whole; j += kWideLanes) top = xsimd::max(top, wbatch::load_unaligned(p + j));
    const wbatch m(reduce_max(top));
    wbatch total(0.0f);
    for (int j = 0; j < whole; j += kWideLanes) {
      const wbatch e = exp_softmax(wbatch::load_unaligned(p + j) - m);
      e.store_unaligned(p + j);
      total += e;
    }
    const wbatch e = exp_softmax(wbatch::load_aligned(tail) - m);  // the padding gives exactly 0
    e.store_aligned(tail);
    total += e;
    const float inv = 1.0f / xsimd::hadd(total);
    for (int j = 0; j < whole; j += kWideLanes) (wbatch::load_unaligned(p + j) * wbatch(inv)).store_unaligned(p + j);
    for (int k = 0; k < rest; ++k) p[whole + k] = tail[k] * inv;
  }

  // value = gelu(x), slope = gelu'(x) over n floats; the tail past the last whole register goes
  // through one padded register, so every element gets the same formula.
  static void gelu(const float* x, std::size_t n, float* value, float* slope) {
    using B = wbatch;
    constexpr int L = kWideLanes;
    std::size_t e = 0;
    B v, s;
    for (; e + L <= n; e += L) {
      simd::gelu(B::load_unaligned(x + e), &v, &s);
      v.store_unaligned(value + e);
      s.store_unaligned(slope + e);
    }
    if (e == n) return;
    alignas(64) float xt[L] = {}, vt[L], st[L];
    for (std::size_t j = e; j < n; ++j) xt[j - e] = x[j];
    simd::gelu(B::load_aligned(xt), &v, &s);
    v.store_aligned(vt);
    s.store_aligned(st);
    for (std::size_t j = e; j < n; ++j) {
      value[j] = vt[j - e];
      slope[j] = st[j - e];
    }
  }

  static void dense(const float* X, int n, int in, const float* W, const float* b, int out, float* Y) {
    dense_into(X, n, in, W, b, out, Y, false);
  }

  // Y = b + X W, or Y += X W when `add`.
  static void dense_into(const float* X, int n, int in, const float* W, const float* b, int out, float* Y, bool add) {
    using namespace generic_blocks;
    const int regs = out / L, full = regs * L;
    for (int i0 = 0; i0 < n; i0 += kRows)
      with_count<kRows>(n - i0, [&](auto rows) {
        over_registers<kCols>(regs,
                              [&](int o0, auto cs) { dense_block<rows(), cs()>(X, i0, in, W, b, out, o0, Y, add); });
      });
    for (int i = 0; i < n; ++i)  // the columns past the last whole register
      for (int o = full; o < out; ++o) {
        float y = add ? Y[std::size_t(i) * out + o] : b ? b[o] : 0.0f;
        for (int k = 0; k < in; ++k) y += X[std::size_t(i) * in + k] * W[std::size_t(k) * out + o];
        Y[std::size_t(i) * out + o] = y;
      }
  }

  static constexpr bool kReadsTransposed = true;  // dense_backward's dX reads Wt

  static void dense_backward(const float* X, int n, int in, const float* W, const float* Wt, int out,
                             const float* dY, float* dW, float* db, float* dX) {
    using namespace generic_blocks;
    const int regs = out / L, full = regs * L;
    if (db)
      for (int i = 0; i < n; ++i) axpy(1.0f, dY + std::size_t(i) * out, db, out);
    for (int k0 = 0; k0 < in; k0 += kRows)
      with_count<kRows>(in - k0, [&](auto ks) {
        over_registers<kCols>(
            regs, [&](int o0, auto cs) { weight_grad_block<ks(), cs()>(X, n, in, k0, out, o0, dY, dW); });
      });
    for (int k = 0; k < in; ++k)
      for (int o = full; o < out; ++o)
        for (int i = 0; i < n; ++i)
          dW[std::size_t(k) * out + o] += X[std::size_t(i) * in + k] * dY[std::size_t(i) * out + o];
    (void)W;
    if (dX) dense_into(dY, n, out, Wt, nullptr, in, dX, true);  // dX += dY W^T, as a forward layer
  }
};

}  // namespace tinyloop::kernels::simd
#endif
