// The counting replacements of the allocation functions behind alloc_counter.hpp.
#include "alloc_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> g_allocations{0};
void count() { g_allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

// Under a sanitizer that owns the allocator (ASan, TSan, MSan) malloc and operator new must stay
// its own (replacing them would hand its memory to glibc); the count comes from its allocation
// hook, which sees every malloc, calloc, realloc and operator new of the program.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TINYLOOP_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define TINYLOOP_SANITIZER_ALLOCATOR 1
#endif
#endif

#if defined(TINYLOOP_SANITIZER_ALLOCATOR)
// sanitizer/allocator_interface.h, declared here because GCC does not ship that header.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void*, std::size_t),
                                                         void (*)(const volatile void*));
namespace {
void count_hook(const volatile void*, std::size_t) { count(); }
void free_hook(const volatile void*) {}
[[maybe_unused]] const int g_hook_installed = __sanitizer_install_malloc_and_free_hooks(count_hook, free_hook);
}  // namespace
#define TINYLOOP_HOOKS "the sanitizer's allocation hook (malloc, calloc, realloc and operator new)"
#else
#if defined(__GLIBC__)
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void __libc_free(void*);

extern "C" void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t items, std::size_t n) {
  count();
  return __libc_calloc(items, n);
}
extern "C" void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
extern "C" void free(void* p) { __libc_free(p); }
#define TINYLOOP_RAW_MALLOC __libc_malloc
#define TINYLOOP_RAW_FREE __libc_free
#define TINYLOOP_HOOKS "malloc, calloc, realloc and operator new"
#else
#define TINYLOOP_RAW_MALLOC std::malloc
#define TINYLOOP_RAW_FREE std::free
#define TINYLOOP_HOOKS "operator new only (no glibc malloc hooks on this platform)"
#endif

void* operator new(std::size_t n) {
  count();
  if (void* p = TINYLOOP_RAW_MALLOC(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  count();
  return TINYLOOP_RAW_MALLOC(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { TINYLOOP_RAW_FREE(p); }
void operator delete[](void* p) noexcept { TINYLOOP_RAW_FREE(p); }
void operator delete(void* p, std::size_t) noexcept { TINYLOOP_RAW_FREE(p); }
void operator delete[](void* p, std::size_t) noexcept { TINYLOOP_RAW_FREE(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { TINYLOOP_RAW_FREE(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { TINYLOOP_RAW_FREE(p); }

// Over-aligned types: aligned_alloc does not pass through the malloc above; count it here.
void* operator new(std::size_t n, std::align_val_t a) {
  count();
  const std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif  // TINYLOOP_SANITIZER_ALLOCATOR

namespace tinyloop::alloc_counter {

long allocations() { return g_allocations.load(std::memory_order_relaxed); }
const char* hooks() { return TINYLOOP_HOOKS; }

}  // namespace tinyloop::alloc_counter
