/* SPDX-License-Identifier: MIT
 *
 * native_main.c - the native driver: times one call of run(iters). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

int
main(int argc, char **argv)
{
    struct timespec t0, t1;
    unsigned r, iters = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = run(iters);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("i32:%d\n", (int)r);       /* as nano-wasm prints it */
    fprintf(stderr, "stats: call %.3f ms\n",
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return 0;
}
