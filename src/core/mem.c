/* SPDX-License-Identifier: MIT
 *
 * mem.c - allocation wrappers: counting and fault injection (see mem.h).
 * The only file that calls the C allocator directly.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static uint64_t alloc_count;
static uint64_t fail_countdown;   /* 0: never fail */

#if defined(NANO_DEBUG) && NANO_DEBUG
static int fail_env_read;

static void
read_fail_env(void)
{
    const char *s;

    if (fail_env_read)
        return;
    fail_env_read = 1;
    s = getenv("NANO_FAULT_ALLOC");
    if (s && *s)
        fail_countdown = strtoull(s, NULL, 10);
}
#define FAIL_ENV() read_fail_env()
#else
#define FAIL_ENV() ((void)0)
#endif

static int
should_fail(void)
{
    FAIL_ENV();
    if (fail_countdown == 0)
        return 0;
    if (--fail_countdown == 0)
        return 1;
    return 0;
}

void *
nano_malloc(size_t n)
{
    void *p;

    if (should_fail())
        return NULL;
    p = malloc(n ? n : 1);
    if (p)
        alloc_count++;
    return p;
}

void *
nano_calloc(size_t count, size_t n)
{
    void *p;

    if (should_fail())
        return NULL;
    p = calloc(count ? count : 1, n ? n : 1);   /* calloc checks overflow */
    if (p)
        alloc_count++;
    return p;
}

void *
nano_realloc(void *old, size_t n)
{
    void *p;

    if (should_fail())
        return NULL;
    p = realloc(old, n ? n : 1);
    if (p)
        alloc_count++;
    return p;
}

void
nano_free(void *p)
{
    free(p);
}

char *
nano_strndup(const char *s, size_t n)
{
    char *p;

    if (!s)
        return NULL;
    p = nano_malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
nano_strdup(const char *s)
{
    return s ? nano_strndup(s, strlen(s)) : NULL;
}

uint64_t
nano_mem_alloc_count(void)
{
    return alloc_count;
}

size_t
nano_mem_heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

void
nano_mem_trim(void)
{
    malloc_trim(0);
}

void
nano_mem_fail_after(uint64_t nth)
{
    FAIL_ENV();
    fail_countdown = nth;
}
