/* SPDX-License-Identifier: MIT
 *
 * fib.c - recursive Fibonacci: calls and returns, nothing else. */
#include "bench.h"

static unsigned
fib(unsigned n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

BENCH_EXPORT unsigned
run(unsigned iters)
{
    unsigned sum = 0;

    for (unsigned i = 0; i < iters; i++)
        sum += fib(24 + (i & 1));
    return sum;
}
