#pragma once
// position_gated attention (tinyloop/model_spec.hpp) on the generic row operations
// (kernels/generic.hpp). A head of one sequence multiplies its linear token scores T by the
// batch's position gate S, elementwise, and adds (T . S) V to the output the heads share. The
// gate is a softmax head without values over the learned position table, computed once per
// batch (model/position_gates.hpp).
#include <cstddef>

#include "kernels/generic.hpp"

namespace tinyloop::kernels::generic {

// A (n x dh, row stride dh) += (T . S) V for one head over n tokens. Q, K, V rows have stride
// `ld` and the head's columns start at the pointer; S (n x n) is the head's gate. Tok (n x n)
// receives T = causal(Q K^T * scale), M (n x n) the map T . S; entries j > i are zero when causal.
template <class T, class O = Ops<T>>
inline void gated_head(const T* Q, const T* K, const T* V, int ld, int n, int dh, bool causal, T scale, const T* S,
                       T* Tok, T* M, T* A) {
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const std::size_t row = std::size_t(i) * std::size_t(n);
    score_row<T, O>(Q, K, ld, n, dh, i, count, false, scale, T(0), Tok + row);
    for (int j = 0; j < n; ++j) M[row + j] = Tok[row + j] * S[row + j];
    mix_row<T, O>(M + row, V, ld, count, dh, A + std::size_t(i) * dh);
  }
}

// Backward of gated_head from dA (n x dh, row stride dh: the summed output's gradient, the same
// for every head). dQ, dK, dV (stride ld) are added to. Tok's T is replaced by T . dM, this
// sequence's share of the gate's gradient dS. dp is a scratch row of n.
template <class T, class O = Ops<T>>
inline void gated_head_backward(const T* Q, const T* K, const T* V, int ld, int n, int dh, bool causal, T scale,
                                const T* S, const T* M, T* Tok, const T* dA, T* dp, T* dQ, T* dK, T* dV) {
  for (int i = 0; i < n; ++i) {
    const int count = causal ? i + 1 : n;
    const std::size_t row = std::size_t(i) * std::size_t(n);
    mix_row_backward<T, O>(M + row, dA + std::size_t(i) * dh, V, ld, count, dh, dp, dV);  // dp = dM
    for (int j = 0; j < count; ++j) {
      Tok[row + j] *= dp[j];  // dS = dM . T
      dp[j] *= S[row + j];    // dT = dM . S
    }
    score_row_backward<T, O>(Q, K, ld, dh, i, count, false, scale, M + row, dp, dQ, dK, (T*)nullptr);
  }
}

// The gate of one head: S (n x n) = softmax_causal(Qp Kp^T * scale), with Qp, Kp the position
// table through the head's query and key maps (rows of stride ld, the head's columns at the
// pointer).
template <class T, class O = Ops<T>>
inline void gate_head(const T* Qp, const T* Kp, int ld, int n, int dh, bool causal, T scale, T* S) {
  for (int i = 0; i < n; ++i)
    score_row<T, O>(Qp, Kp, ld, n, dh, i, causal ? i + 1 : n, true, scale, T(0), S + std::size_t(i) * n);
}

// Backward of gate_head from dS (n x n, overwritten): dQp, dKp (stride ld) are added to.
template <class T, class O = Ops<T>>
inline void gate_head_backward(const T* Qp, const T* Kp, int ld, int n, int dh, bool causal, T scale, const T* S,
                               T* dS, T* dQp, T* dKp) {
  for (int i = 0; i < n; ++i) {
    const std::size_t row = std::size_t(i) * std::size_t(n);
    score_row_backward<T, O>(Qp, Kp, ld, dh, i, causal ? i + 1 : n, true, scale, S + row, dS + row, dQp, dKp,
                             (T*)nullptr);
  }
}

}  // namespace tinyloop::kernels::generic
