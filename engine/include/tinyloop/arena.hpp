#pragma once
// The engine's public API: the model (model_spec.hpp, model.hpp) and its trainer, configuration, inference,
// checkpoint, evaluation, tasks, rng, memory plan and status; tinyloop.h is the C ABI.
//
// Bump allocator over the one buffer the caller hands in. Used only while planning and
// binding (never in a step); a dry run with a null base measures the plan.
#include <cstddef>
#include <cstdint>

#include "tinyloop/status.hpp"

namespace tinyloop {

constexpr std::size_t kAlignment = 64;  // a cache line; covers AVX-512 loads

class Arena {
 public:
  Arena() = default;
  Arena(void* base, std::size_t capacity) : base_(static_cast<std::uint8_t*>(base)), capacity_(capacity) {}

  template <class T>
  T* take(std::size_t count) {
    std::size_t start = (used_ + kAlignment - 1) / kAlignment * kAlignment;
    used_ = start + count * sizeof(T);
    if (base_ == nullptr || used_ > capacity_) return nullptr;
    return reinterpret_cast<T*>(base_ + start);
  }
  std::size_t used() const { return used_; }
  bool overflowed() const { return used_ > capacity_; }
  // Extra bytes a caller needs because its buffer may not start on an aligned address.
  static constexpr std::size_t slack() { return kAlignment; }

 private:
  std::uint8_t* base_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

// Aligns a caller buffer; returns the usable capacity after the shift.
inline void* align_buffer(void* buffer, std::size_t bytes, std::size_t* usable) {
  auto addr = reinterpret_cast<std::uintptr_t>(buffer);
  std::uintptr_t aligned = (addr + kAlignment - 1) / kAlignment * kAlignment;
  std::size_t shift = aligned - addr;
  *usable = bytes >= shift ? bytes - shift : 0;
  return reinterpret_cast<void*>(aligned);
}

// Checks a caller buffer against the bytes planned for it and opens an Arena on its aligned part.
// `what` names the buffer in the error ("training", "inference").
inline Status open_planned_arena(void* buffer, std::size_t bytes, std::size_t planned, const char* what,
                                 Arena* arena) {
  if (buffer == nullptr || bytes < planned)
    return Status::fail(Error::buffer_too_small, "%s buffer of %zu bytes is smaller than the %zu bytes planned", what,
                        buffer ? bytes : std::size_t(0), planned);
  std::size_t usable = 0;
  void* base = align_buffer(buffer, bytes, &usable);
  *arena = Arena(base, usable);
  return Status::ok();
}

}  // namespace tinyloop
