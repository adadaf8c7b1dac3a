/* SPDX-License-Identifier: MIT
 *
 * sort.c - quicksort (median of three, insertion sort for short runs) of
 * 64 Ki pseudo-random integers: compares, swaps, recursion. */
#include "bench.h"

#define N (1u << 16)
static int v[N];

static void
insertion(int *p, int n)
{
    for (int i = 1; i < n; i++) {
        int x = p[i], j = i - 1;
        while (j >= 0 && p[j] > x) {
            p[j + 1] = p[j];
            j--;
        }
        p[j + 1] = x;
    }
}

static void
quicksort(int *p, int n)
{
    while (n > 16) {
        int a = p[0], b = p[n / 2], c = p[n - 1];
        int pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int i = 0, j = n - 1;
        for (;;) {
            while (p[i] < pivot)
                i++;
            while (p[j] > pivot)
                j--;
            if (i >= j)
                break;
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
            i++;
            j--;
        }
        /* recurse into the smaller half, loop on the larger */
        if (j + 1 < n - j - 1) {
            quicksort(p, j + 1);
            p += j + 1;
            n -= j + 1;
        } else {
            quicksort(p + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    insertion(p, n);
}

BENCH_EXPORT unsigned
run(unsigned iters)
{
    unsigned x = 1, check = 0;

    for (unsigned it = 0; it < iters; it++) {
        for (unsigned i = 0; i < N; i++) {
            x = x * 1664525u + 1013904223u;
            v[i] = (int)(x >> 1);
        }
        quicksort(v, (int)N);
        for (unsigned i = 1; i < N; i++)
            if (v[i - 1] > v[i])
                return 0;                   /* not sorted: fail loudly */
        check += (unsigned)v[N / 2] + (unsigned)v[17];
    }
    return check;
}
