#pragma once
// What every trainer plans the same way: parameters, summed gradients, one gradient slot per
// sequence of the batch, and the AdamW moments; and the sum of the slots in a fixed order, which
// makes a step bit-identical for any thread count.
#include <cstddef>

#include "tinyloop/arena.hpp"
#include "tinyloop/memory_plan.hpp"

namespace tinyloop::optim {

template <class T>
struct ParameterBlocks {
  T* params = nullptr;
  T* grads = nullptr;      // the batch's gradient
  T* seq_grads = nullptr;  // max_batch x param_count, one slot per sequence
  T* m = nullptr;
  T* v = nullptr;
};

// Takes the blocks for `count` parameters and `max_batch` sequences from `a`, and records their
// sizes in plan->params, plan->grads and plan->optimizer.
template <class T>
ParameterBlocks<T> take_parameter_blocks(Arena& a, std::size_t count, std::size_t max_batch, MemoryPlan* plan) {
  ParameterBlocks<T> b;
  std::size_t mark = a.used();
  b.params = a.take<T>(count);
  plan->params = a.used() - mark;
  mark = a.used();
  b.grads = a.take<T>(count);
  b.seq_grads = a.take<T>(max_batch * count);
  plan->grads = a.used() - mark;
  mark = a.used();
  b.m = a.take<T>(count);
  b.v = a.take<T>(count);
  plan->optimizer = a.used() - mark;
  return b;
}

// grads = slot 0 + slot 1 + ... + slot (batch - 1), always in that order.
template <class T>
void sum_sequence_gradients(const T* seq_grads, int batch, std::size_t count, T* grads) {
  for (std::size_t i = 0; i < count; ++i) grads[i] = seq_grads[i];
  for (int b = 1; b < batch; ++b) {
    const T* g = seq_grads + std::size_t(b) * count;
    for (std::size_t i = 0; i < count; ++i) grads[i] += g[i];
  }
}

}  // namespace tinyloop::optim
