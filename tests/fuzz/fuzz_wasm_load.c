/* SPDX-License-Identifier: MIT
 *
 * fuzz_wasm_load.c - libFuzzer target: decode + validate + compile any
 * bytes, under 2.0 rules and again under strict 1.0 rules.  Rejection is
 * fine; a crash, hang, leak or sanitizer report is a bug.
 */
#include <stddef.h>
#include <stdint.h>

#include "wasm/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nano_wasm_limits mvp = { .features_off = NANO_WASM_FEAT_ALL };
    struct nano_wasm_module *mod;
    struct nano_wasm_error err;

    if (nano_wasm_module_load(data, size, NULL, &mod, &err) == 0)
        nano_wasm_module_free(mod);
    if (nano_wasm_module_load(data, size, &mvp, &mod, &err) == 0)
        nano_wasm_module_free(mod);
    return 0;
}
