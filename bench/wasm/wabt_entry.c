/* SPDX-License-Identifier: MIT
 *
 * wabt_entry.c - a no-argument entry point, bench() = run(ITERS), for
 * interpreters that can only call exports without parameters (wabt 1.0.32
 * wasm-interp --run-all-exports). */
#include "bench.h"

unsigned bench(void);

unsigned
bench(void)
{
    return run(ITERS);
}
