#pragma once
// Heap allocations made by this process. Linking the object library tinyloop_alloc_counter
// replaces the global operator new family and (with glibc) malloc, calloc and realloc with
// counting versions; under a sanitizer that owns the allocator the count comes from its
// allocation hook instead. The zero-allocation tests and tinyloop-bench both read it: the hot
// paths must not move the counter.
namespace tinyloop::alloc_counter {

long allocations();
// What the counter sees, e.g. "malloc, calloc, realloc and operator new" or "operator new only".
const char* hooks();

}  // namespace tinyloop::alloc_counter
