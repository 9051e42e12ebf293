#pragma once
// The gates of position_gated attention (tinyloop/model_spec.hpp) for a whole batch: per block
// and head, S_h = softmax_causal((pos Wq_h + bq_h)(pos Wk_h + bk_h)^T * s) over the first n rows
// of the learned table. S_h depends on the parameters only, so it is computed once per batch,
// before the sequences run (gates_forward), and differentiated once per batch, after them
// (gates_backward): each sequence's backward leaves its share of dS_h in its own tape
// (stack::Tape::tok), and the shares are summed in sequence order, so the result does not depend
// on the thread count, the same rule as the sequences' parameter gradients (optim/gradient_slots).
#include <cstddef>

#include "kernels/position_gated.hpp"
#include "model/stack_sequence.hpp"
#include "tinyloop/parallel.hpp"

namespace tinyloop::stack {

template <class T>
struct Gates {
  T* qp = nullptr;   // blocks x N x F  pos Wq + bq of each block (rows of stride F)
  T* kp = nullptr;   // blocks x N x F  pos Wk + bk
  T* S = nullptr;    // blocks x heads x n x n  the gates (null unless position_gated)
  T* dS = nullptr;   // blocks x heads x n x n  their gradient over the batch
  T* dqp = nullptr;  // blocks x N x F
  T* dkp = nullptr;  // blocks x N x F
};

template <class T>
Gates<T> take_gates(Arena& a, const ModelSpec& c, const Dims& m) {
  Gates<T> g;
  if (!c.position_gated()) return g;
  const std::size_t B = std::size_t(c.blocks()), N = std::size_t(m.N), rows = B * N * std::size_t(m.F);
  const std::size_t maps = B * std::size_t(m.heads) * N * N;
  g.qp = a.take<T>(rows);
  g.kp = a.take<T>(rows);
  g.S = a.take<T>(maps);
  g.dS = a.take<T>(maps);
  g.dqp = a.take<T>(rows);
  g.dkp = a.take<T>(rows);
  return g;
}

// S of every block and head for sequences of length n (nothing unless position_gated).
template <class T>
void gates_forward(const Gates<T>& g, const ModelSpec& c, const ModelLayout& lay, const T* W, int n, T scale) {
  if (g.S == nullptr) return;
  using namespace kernels::generic;
  const int d = c.width, F = c.heads * c.head_width(), dh = c.head_width();
  const std::size_t rows = std::size_t(n) * std::size_t(F), NN = std::size_t(n) * std::size_t(n);
  for (int b = 0; b < c.blocks(); ++b) {
    const ModelLayout::Block& k = lay.block[b];
    T* qp = g.qp + std::size_t(b) * rows;
    T* kp = g.kp + std::size_t(b) * rows;
    dense_rows(W + lay.pos, n, d, W + k.Wq, k.bq == kAbsent ? (const T*)nullptr : W + k.bq, F, qp);
    dense_rows(W + lay.pos, n, d, W + k.Wk, k.bk == kAbsent ? (const T*)nullptr : W + k.bk, F, kp);
    for (int h = 0; h < c.heads; ++h)
      gate_head(qp + h * dh, kp + h * dh, F, n, dh, c.causal, scale, g.S + (std::size_t(b) * c.heads + h) * NN);
  }
}

// After every sequence's backward (their shares of dS in tapes[0 .. batch)) and the sum of their
// gradients into G: adds the gates' gradient to G's Wq, Wk, bq, bk and pos. One task per block
// and head sums that head's shares over the sequences in order (then over the layers that use the
// block) and takes them back through the softmax; the projections' backward then runs per block.
template <class T>
void gates_backward(const Gates<T>& g, const ModelSpec& c, const ModelLayout& lay, const T* W, const T* WT,
                    const Tape<T>* tapes, int batch, int n, T scale, T* G, ParallelFor& pool) {
  if (g.S == nullptr) return;
  using namespace kernels::generic;
  const int d = c.width, F = c.heads * c.head_width(), dh = c.head_width(), H = c.heads;
  const std::size_t rows = std::size_t(n) * std::size_t(F), NN = std::size_t(n) * std::size_t(n);
  auto one = [&](int task, int) {
    const int b = task / H, h = task % H;
    const std::size_t gate = (std::size_t(b) * H + h) * NN;
    T* dS = g.dS + gate;
    for (std::size_t e = 0; e < NN; ++e) dS[e] = T(0);
    for (int s = 0; s < batch; ++s)
      for (int l = c.looped ? 0 : b; l < (c.looped ? c.layers : b + 1); ++l) {
        const T* share = tapes[s].tok + (std::size_t(l) * H + h) * NN;
        for (std::size_t e = 0; e < NN; ++e) dS[e] += share[e];
      }
    T* dqp = g.dqp + std::size_t(b) * rows + h * dh;
    T* dkp = g.dkp + std::size_t(b) * rows + h * dh;
    for (int i = 0; i < n; ++i)
      for (int e = 0; e < dh; ++e) dqp[std::size_t(i) * F + e] = dkp[std::size_t(i) * F + e] = T(0);
    gate_head_backward(g.qp + std::size_t(b) * rows + h * dh, g.kp + std::size_t(b) * rows + h * dh, F, n, dh,
                       c.causal, scale, g.S + gate, dS, dqp, dkp);
  };
  parallel_for(pool, c.blocks() * H, one);
  for (int b = 0; b < c.blocks(); ++b) {
    const ModelLayout::Block& k = lay.block[b];
    auto bias_grad = [&](std::size_t off) { return off == kAbsent ? (T*)nullptr : G + off; };
    auto wt = [&](std::size_t off) { return WT ? WT + off : (const T*)nullptr; };
    dense_rows_backward(W + lay.pos, n, d, W + k.Wq, wt(k.Wq), F, g.dqp + std::size_t(b) * rows, G + k.Wq,
                        bias_grad(k.bq), G + lay.pos);
    dense_rows_backward(W + lay.pos, n, d, W + k.Wk, wt(k.Wk), F, g.dkp + std::size_t(b) * rows, G + k.Wk,
                        bias_grad(k.bk), G + lay.pos);
  }
}

}  // namespace tinyloop::stack
