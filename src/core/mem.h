/* SPDX-License-Identifier: MIT
 *
 * mem.h - the only way Nano allocates.
 *
 * Thin wrappers over the C allocator that (1) count calls, so benchmarks can
 * report allocations per operation and tests can assert "no allocation on the
 * hot path", and (2) in debug builds can be told to fail the Nth allocation
 * (environment NANO_FAULT_ALLOC=N) to prove every caller handles -ENOMEM.
 * Nano never aborts on allocation failure: inputs are dropped and counted.
 *
 * Heap in use is read from the allocator (mallinfo2), not tracked per block,
 * so there is no per-allocation header cost.
 */
#ifndef NANO_CORE_MEM_H
#define NANO_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

void *nano_malloc(size_t n);
void *nano_calloc(size_t count, size_t n);   /* overflow-checked */
void *nano_realloc(void *p, size_t n);
void  nano_free(void *p);                    /* NULL is a no-op */
char *nano_strdup(const char *s);            /* NULL in, NULL out */
char *nano_strndup(const char *s, size_t n);

/* Number of successful nano_malloc/calloc/realloc/strdup calls so far. */
uint64_t nano_mem_alloc_count(void);

/* Bytes the allocator reports in use (arena + mmapped). */
size_t nano_mem_heap_in_use(void);

/* Give freed heap pages back to the kernel (malloc_trim).  A burst of API
 * traffic leaves free chunks behind that would otherwise stay resident;
 * nanod calls this from its housekeeping timer. */
void nano_mem_trim(void);

/* Test hook: make the nth allocation from now fail (0 disables). */
void nano_mem_fail_after(uint64_t nth);

#endif
