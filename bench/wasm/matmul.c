/* SPDX-License-Identifier: MIT
 *
 * matmul.c - single-precision matrix multiply, 96 x 96: float loads,
 * multiply-adds and nested loops. */
#include "bench.h"

#define M 96
static float a[M][M], b[M][M], c[M][M];

BENCH_EXPORT unsigned
run(unsigned iters)
{
    float sum = 0;

    for (unsigned i = 0; i < M; i++)
        for (unsigned j = 0; j < M; j++) {
            a[i][j] = (float)(i + j) * 0.01f;
            b[i][j] = (float)(i * 3 + j) * 0.02f - 1.0f;
        }
    for (unsigned it = 0; it < iters; it++) {
        for (unsigned i = 0; i < M; i++)
            for (unsigned j = 0; j < M; j++) {
                float s = 0;
                for (unsigned k = 0; k < M; k++)
                    s += a[i][k] * b[k][j];
                c[i][j] = s;
            }
        sum += c[it % M][(it * 7) % M];
        a[it % M][it % M] += 0.5f;
    }
    return (unsigned)(int)sum;
}
