#pragma once
// What every trainer plans the same way: parameters, summed gradients, the gradient slots of the
// batch's sequences, and the AdamW moments; and the sum of the slots in a fixed order, which
// makes a step bit-identical for any thread count.
#include <algorithm>
#include <cstddef>

#include "tinyloop/arena.hpp"
#include "tinyloop/memory_plan.hpp"

namespace tinyloop::optim {

// The batch's sequences are split into runs of consecutive sequences, one per slot; each run is
// summed in sequence order into its slot, and the slots in slot order. The split depends on the
// batch size and the planned slots only, never on the thread count. A slot per sequence while the
// slots fit kSlotBudget bytes; for larger models fewer (at least kMinSlots, to keep the threads
// busy), which saves their memory and the time spent clearing and summing them.
constexpr std::size_t kSlotBudget = std::size_t(4) << 20;
constexpr std::size_t kMinSlots = 8;

inline std::size_t gradient_slot_count(std::size_t param_bytes, std::size_t max_batch) {
  const std::size_t fit = param_bytes > 0 ? kSlotBudget / param_bytes : max_batch;
  return std::min(max_batch, std::max(kMinSlots, fit));
}

// Slot s's sequences [begin, end) in a batch of `batch` spread over `slots` slots:
// ceil(batch / slots) each, so the last slots may hold fewer or none.
struct SlotSequences {
  int begin, end;
};
inline SlotSequences slot_sequences(int s, int slots, int batch) {
  const int per = (batch + slots - 1) / slots;
  return {std::min(batch, s * per), std::min(batch, (s + 1) * per)};
}

// The slots that hold at least one of `batch` sequences.
inline int slots_in_use(int slots, int batch) {
  const int per = (batch + slots - 1) / slots;
  return (batch + per - 1) / per;
}

template <class T>
struct ParameterBlocks {
  T* params = nullptr;
  T* grads = nullptr;      // the batch's gradient
  T* seq_grads = nullptr;  // slots x param_count (gradient_slot_count)
  int slots = 0;
  T* m = nullptr;
  T* v = nullptr;
};

// Takes the blocks for `count` parameters and `max_batch` sequences from `a`, and records their
// sizes in plan->params, plan->grads and plan->optimizer.
template <class T>
ParameterBlocks<T> take_parameter_blocks(Arena& a, std::size_t count, std::size_t max_batch, MemoryPlan* plan) {
  ParameterBlocks<T> b;
  b.slots = int(gradient_slot_count(count * sizeof(T), max_batch));
  std::size_t mark = a.used();
  b.params = a.take<T>(count);
  plan->params = a.used() - mark;
  mark = a.used();
  b.grads = a.take<T>(count);
  b.seq_grads = a.take<T>(std::size_t(b.slots) * count);
  plan->grads = a.used() - mark;
  mark = a.used();
  b.m = a.take<T>(count);
  b.v = a.take<T>(count);
  plan->optimizer = a.used() - mark;
  return b;
}

// grads = slot 0 + slot 1 + ... + slot (used - 1), always in that order.
template <class T>
void sum_gradient_slots(const T* seq_grads, int used, std::size_t count, T* grads) {
  for (std::size_t i = 0; i < count; ++i) grads[i] = seq_grads[i];
  for (int b = 1; b < used; ++b) {
    const T* g = seq_grads + std::size_t(b) * count;
    for (std::size_t i = 0; i < count; ++i) grads[i] += g[i];
  }
}

}  // namespace tinyloop::optim
