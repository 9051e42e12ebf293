#pragma once
// Heap allocations made by this process, counted by replacing the global operator new family
// and (with glibc) malloc, calloc and realloc. The hot paths must not move the counter.
namespace tinyloop::bench {

long allocations();
// What the counter sees: "malloc, calloc, realloc and operator new" or "operator new only".
const char* allocation_hooks();

}  // namespace tinyloop::bench
