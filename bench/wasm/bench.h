/* SPDX-License-Identifier: MIT
 *
 * bench.h - shared by the benchmark programs, which are compiled both
 * natively (with native_main.c) and to wasm32 (exporting run()). */
#ifndef BENCH_H
#define BENCH_H
#define BENCH_EXPORT
unsigned run(unsigned iters);
#endif
