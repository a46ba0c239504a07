#ifndef HAVEN_ALLOC_COUNTER_H
#define HAVEN_ALLOC_COUNTER_H
#include <stdint.h>
/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc,
/// memalign) made by the calling thread since it started. Counting is per
/// thread so parallel tests do not disturb each other.
uint64_t haven_thread_allocations(void);
#endif
