#pragma once
// Counting replacements for the global allocation functions (malloc, calloc, realloc and the
// operator new family). Include this header in exactly ONE source file of a test executable:
// it defines the replacements, and from then on every allocation in that program, the
// engine's included, bumps g_allocations. Used by test_allocations, test_c_api, test_family and
// test_inference_attention.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

// Under AddressSanitizer (or another sanitizer that owns the allocator: TSan, MSan) malloc and
// operator new must stay the sanitizer's: replacing them would hand its memory to glibc. The
// count then comes from the sanitizer's own allocation hook, which sees every malloc, calloc,
// realloc and operator new of the program, so the zero-allocation checks still run there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TINYLOOP_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define TINYLOOP_SANITIZER_ALLOCATOR 1
#endif
#endif

#if defined(TINYLOOP_SANITIZER_ALLOCATOR)
// sanitizer/allocator_interface.h, declared here because GCC does not ship that header.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*));
namespace {
std::atomic<long> g_allocations{0};
void count_allocation(const volatile void*, std::size_t) { g_allocations.fetch_add(1, std::memory_order_relaxed); }
void ignore_free(const volatile void*) {}
[[maybe_unused]] const int g_allocation_hook_installed = __sanitizer_install_malloc_and_free_hooks(count_allocation, ignore_free);
}  // namespace
#else
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void __libc_free(void*);

namespace {
std::atomic<long> g_allocations{0};
}

extern "C" void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t count, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, n);
}
extern "C" void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
extern "C" void free(void* p) { __libc_free(p); }

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
#endif  // TINYLOOP_SANITIZER_ALLOCATOR
