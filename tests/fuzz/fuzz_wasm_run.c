/* SPDX-License-Identifier: MIT
 *
 * fuzz_wasm_run.c - libFuzzer target: load the input, instantiate it with
 * stub imports (functions return zeros; memories, tables and globals are
 * made to fit) under small limits, and call every exported function with
 * zero arguments on a small fuel budget.  Traps are expected; what must
 * never happen is a crash, a hang, a leak or a sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wasm/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
stub(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
     union nano_wasm_val *results, void *user)
{
    (void)args;
    (void)results;
    /* touch the caller's memory the way a real host function would */
    (void)nano_wasm_ctx_mem(ctx, 0, 16);
    return user ? nano_wasm_ctx_trap(ctx, "stub failure") : 0;
}

static struct nano_wasm_imports *
stub_imports(const struct nano_wasm_module *mod)
{
    struct nano_wasm_imports *imp = nano_wasm_imports_new();
    struct nano_wasm_extern_info info;
    union nano_wasm_val zero;
    char sig[160];

    if (!imp)
        return NULL;
    zero.u64 = 0;
    for (size_t i = 0; nano_wasm_module_import(mod, i, &info) == 0; i++) {
        switch (info.kind) {
        case NANO_WASM_EXTERN_FUNC:
            if (info.nparams + info.nresults + 4 > sizeof sig)
                break;
            /* every third import fails, so host traps are exercised too */
            nano_wasm_imports_add_func(imp, info.module, info.name,
                                       nano_wasm_sig_string(&info, sig, sizeof sig),
                                       stub, (i % 3 == 2) ? (void *)1 : NULL);
            break;
        case NANO_WASM_EXTERN_GLOBAL:
            nano_wasm_imports_add_global(imp, info.module, info.name,
                                         (enum nano_wasm_type)info.type, info.mut, zero);
            break;
        case NANO_WASM_EXTERN_MEMORY:
            if (info.min <= 16)
                nano_wasm_imports_add_memory(imp, info.module, info.name, info.min,
                                             info.max);
            break;
        case NANO_WASM_EXTERN_TABLE:
            if (info.min <= 1000)
                nano_wasm_imports_add_table(imp, info.module, info.name,
                                            (enum nano_wasm_type)info.type, info.min,
                                            info.max);
            break;
        }
    }
    return imp;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nano_wasm_limits lim = {
        .max_memory_pages = 16, .max_table_size = 1000, .max_call_depth = 200,
        .stack_bytes = 64 * 1024, .fuel = 20000,
    };
    struct nano_wasm_module *mod;
    struct nano_wasm_imports *imp;
    struct nano_wasm_instance *inst = NULL;
    struct nano_wasm_extern_info info;
    struct nano_wasm_trap trap;
    union nano_wasm_val args[64], res[64];

    if (nano_wasm_module_load(data, size, &lim, &mod, NULL) != 0)
        return 0;
    imp = stub_imports(mod);
    if (imp && nano_wasm_instantiate(mod, imp, &lim, &inst, &trap) == 0) {
        memset(args, 0, sizeof args);
        for (size_t i = 0; nano_wasm_module_export(mod, i, &info) == 0; i++) {
            struct nano_wasm_func *f;
            if (info.kind != NANO_WASM_EXTERN_FUNC || info.nparams > 64 ||
                info.nresults > 64)
                continue;
            f = nano_wasm_find_func_n(inst, info.name, info.name_len);
            if (f)
                nano_wasm_call_func(inst, f, args, info.nparams, res, info.nresults,
                                    &trap);
        }
    }
    nano_wasm_instance_free(inst);
    nano_wasm_imports_free(imp);
    nano_wasm_module_free(mod);
    return 0;
}
