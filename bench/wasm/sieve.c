/* SPDX-License-Identifier: MIT
 *
 * sieve.c - sieve of Eratosthenes over 1 Mi flags: byte loads/stores in
 * tight loops. */
#include "bench.h"

#define N (1u << 20)
static unsigned char flags[N];

BENCH_EXPORT unsigned
run(unsigned iters)
{
    unsigned count = 0;

    for (unsigned it = 0; it < iters; it++) {
        count = 0;
        for (unsigned i = 0; i < N; i++)
            flags[i] = 1;
        for (unsigned i = 2; i < N; i++) {
            if (!flags[i])
                continue;
            count++;
            for (unsigned k = i + i; k < N; k += i)
                flags[k] = 0;
        }
    }
    return count;
}
