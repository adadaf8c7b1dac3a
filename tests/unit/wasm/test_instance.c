/* SPDX-License-Identifier: MIT
 *
 * test_instance.c - one module, many instances: each has its own memory
 * and globals; the module can be freed before its instances; instances
 * can import from each other (the spec's "register"); exported globals
 * are readable and writable through the API.
 */
#include <errno.h>

#include "harness/nt.h"
#include "wasm/wasm.h"
#include "wasm_asm.h"

/* (func (export "bump") (result i32)
 *   (global.set 0 (i32.add (global.get 0) (i32.const 1)))
 *   (i32.store (i32.const 0) (global.get 0))
 *   (global.get 0)) */
static const uint8_t bump_code[] = {
    W_GLOBAL_GET, 0, W_I32_CONST, 1, W_I32_ADD, W_GLOBAL_SET, 0,
    W_I32_CONST, 0, W_GLOBAL_GET, 0, W_I32_STORE, W_MEMARG(2, 0),
    W_GLOBAL_GET, 0, W_END
};
/* (func (export "peek") (result i32) (i32.load (i32.const 0))) */
static const uint8_t peek_code[] = {
    W_I32_CONST, 0, W_I32_LOAD, W_MEMARG(2, 0), W_END
};
static const struct wa_func funcs[] = {
    WA_FUNC("()i", NULL, bump_code, "bump"),
    WA_FUNC("()i", NULL, peek_code, "peek"),
};

static struct nano_wasm_module *
load_counter(struct wa_buf *bin)
{
    struct wa_module m = { .funcs = funcs, .nfuncs = 2, .memory = 1, .mem_min = 1,
                           .globals = "i" };
    struct nano_wasm_module *mod = NULL;

    wa_build(&m, bin);
    NT_ASSERT(nano_wasm_module_load(bin->d, bin->n, NULL, &mod, NULL) == 0);
    return mod;
}

static int32_t
call_i32(struct nano_wasm_instance *inst, const char *name)
{
    struct nano_wasm_trap trap;
    union nano_wasm_val r;

    r.u64 = 0;
    NT_CHECK(nano_wasm_call(inst, name, NULL, 0, &r, 1, &trap) == 0);
    return r.i32;
}

static void
test_instances_are_independent(void)
{
    struct wa_buf bin;
    struct nano_wasm_module *mod = load_counter(&bin);
    struct nano_wasm_instance *a, *b;
    union nano_wasm_val v;

    NT_ASSERT(nano_wasm_instantiate(mod, NULL, NULL, &a, NULL) == 0);
    NT_ASSERT(nano_wasm_instantiate(mod, NULL, NULL, &b, NULL) == 0);
    NT_EQ_INT(call_i32(a, "bump"), 1);
    NT_EQ_INT(call_i32(a, "bump"), 2);
    NT_EQ_INT(call_i32(a, "bump"), 3);
    NT_EQ_INT(call_i32(b, "bump"), 1);
    /* memories too */
    NT_EQ_INT(call_i32(a, "peek"), 3);
    NT_EQ_INT(call_i32(b, "peek"), 1);
    NT_EQ_INT(nano_wasm_global_get(a, "g0", 2, &v, NULL), 0);
    NT_EQ_INT(v.i32, 3);
    NT_EQ_INT(nano_wasm_global_get(b, "g0", 2, &v, NULL), 0);
    NT_EQ_INT(v.i32, 1);
    /* the embedder can change one instance's state only */
    v.u64 = 0;
    v.i32 = 100;
    NT_EQ_INT(nano_wasm_global_set(b, "g0", 2, v), 0);
    NT_EQ_INT(call_i32(b, "bump"), 101);
    NT_EQ_INT(call_i32(a, "bump"), 4);
    NT_EQ_INT(nano_wasm_global_get(a, "nope", 4, &v, NULL), -ENOENT);
    nano_wasm_instance_free(a);
    /* b keeps working after a is gone */
    NT_EQ_INT(call_i32(b, "bump"), 102);
    nano_wasm_instance_free(b);
    nano_wasm_module_free(mod);
}

static void
test_module_freed_before_instance(void)
{
    struct wa_buf bin;
    struct nano_wasm_module *mod = load_counter(&bin);
    struct nano_wasm_instance *a;

    NT_ASSERT(nano_wasm_instantiate(mod, NULL, NULL, &a, NULL) == 0);
    nano_wasm_module_free(mod);            /* the instance holds a reference */
    NT_EQ_INT(call_i32(a, "bump"), 1);
    NT_CHECK(nano_wasm_instance_module(a) != NULL);
    nano_wasm_instance_free(a);
}

static void
test_instance_imports_another(void)
{
    /* B imports A's "bump" and calls it twice */
    static const struct wa_import im[] = { { "counter", "bump", "()i" } };
    static const uint8_t twice_code[] = {
        W_CALL, 0, W_DROP, W_CALL, 0, W_END
    };
    static const struct wa_func bf[] = { WA_FUNC("()i", NULL, twice_code, "twice") };
    struct wa_module bm = { .imports = im, .nimports = 1, .funcs = bf, .nfuncs = 1 };
    struct wa_buf abin, bbin;
    struct nano_wasm_module *amod = load_counter(&abin), *bmod;
    struct nano_wasm_instance *a, *b;
    struct nano_wasm_imports *imp = nano_wasm_imports_new();
    struct nano_wasm_trap trap;

    NT_ASSERT(nano_wasm_instantiate(amod, NULL, NULL, &a, NULL) == 0);
    NT_ASSERT(nano_wasm_imports_add_instance(imp, "counter", a) == 0);
    wa_build(&bm, &bbin);
    NT_ASSERT(nano_wasm_module_load(bbin.d, bbin.n, NULL, &bmod, NULL) == 0);
    NT_ASSERT(nano_wasm_instantiate(bmod, imp, NULL, &b, &trap) == 0);
    NT_EQ_INT(call_i32(b, "twice"), 2);
    /* A's own state moved: B ran A's code against A's globals and memory */
    NT_EQ_INT(call_i32(a, "peek"), 2);
    /* B keeps A alive after the embedder drops both references to it */
    nano_wasm_imports_free(imp);
    nano_wasm_instance_free(a);
    NT_EQ_INT(call_i32(b, "twice"), 4);
    nano_wasm_instance_free(b);
    nano_wasm_module_free(bmod);
    nano_wasm_module_free(amod);
}

static void
test_call_argument_checks(void)
{
    struct wa_buf bin;
    struct nano_wasm_module *mod = load_counter(&bin);
    struct nano_wasm_instance *a;
    struct nano_wasm_trap trap;
    union nano_wasm_val r[2];
    struct nano_wasm_func *f;
    uint32_t np, nr;

    NT_ASSERT(nano_wasm_instantiate(mod, NULL, NULL, &a, NULL) == 0);
    NT_EQ_INT(nano_wasm_call(a, "missing", NULL, 0, NULL, 0, &trap), -ENOENT);
    NT_EQ_INT(nano_wasm_call(a, "bump", NULL, 0, r, 2, &trap), -EINVAL);
    NT_EQ_INT(nano_wasm_call(a, "bump", r, 1, r, 1, &trap), -EINVAL);
    NT_ASSERT((f = nano_wasm_find_func(a, "bump")) != NULL);
    nano_wasm_func_type(f, &np, NULL, &nr, NULL);
    NT_EQ_INT(np, 0);
    NT_EQ_INT(nr, 1);
    NT_EQ_INT(nano_wasm_call_func(a, f, NULL, 0, r, 1, &trap), 0);
    NT_EQ_INT(r[0].i32, 1);
    nano_wasm_instance_set_user(a, &bin);
    NT_CHECK(nano_wasm_instance_user(a) == &bin);
    nano_wasm_instance_free(a);
    nano_wasm_module_free(mod);
}

static void
test_locals_start_at_zero(void)
{
    /* (func (export "dirty") (local i32 i32 i32 i32)
     *   local 0..3 = 0x55 ... ) leaves non-zero values in the stack slots */
    static const uint8_t dirty_code[] = {
        W_I32_CONST, 0xd5, 0x00, W_LOCAL_SET, 0,
        W_I32_CONST, 0xd5, 0x00, W_LOCAL_SET, 1,
        W_I32_CONST, 0xd5, 0x00, W_LOCAL_SET, 2,
        W_I32_CONST, 0xd5, 0x00, W_LOCAL_SET, 3,
        W_END
    };
    /* (func (export "fresh") (result i32) (local i32 i32 i32 i32)
     *   (local.set 0 (i32.const 1))              ;; written first: not zeroed
     *   (block (local.set 3 (i32.const 9)))      ;; nested: does not count
     *   (i32.add (local.get 2) (local.get 3)))   ;; 2 was never written */
    static const uint8_t fresh_code[] = {
        W_I32_CONST, 1, W_LOCAL_SET, 0,
        W_BLOCK, W_VOID, W_I32_CONST, 9, W_LOCAL_SET, 3, W_END,
        W_LOCAL_GET, 2, W_LOCAL_GET, 3, W_I32_ADD, W_END
    };
    /* (func (export "loopy") (result i32) (local i32)
     *   (block (loop ... reads local 0 before the top-level write below))) */
    static const uint8_t loopy_code[] = {
        W_LOCAL_GET, 0, W_LOCAL_SET, 0,
        W_LOCAL_GET, 0, W_END
    };
    static const struct wa_func f[] = {
        WA_FUNC("()", "iiii", dirty_code, "dirty"),
        WA_FUNC("()i", "iiii", fresh_code, "fresh"),
        WA_FUNC("()i", "i", loopy_code, "loopy"),
    };
    struct wa_module m = { .funcs = f, .nfuncs = 3 };
    struct nano_wasm_module *mod;
    struct nano_wasm_instance *a;
    struct wa_buf bin;

    wa_build(&m, &bin);
    NT_ASSERT(nano_wasm_module_load(bin.d, bin.n, NULL, &mod, NULL) == 0);
    NT_ASSERT(nano_wasm_instantiate(mod, NULL, NULL, &a, NULL) == 0);
    NT_EQ_INT(nano_wasm_call(a, "dirty", NULL, 0, NULL, 0, NULL), 0);
    NT_EQ_INT(call_i32(a, "fresh"), 9);
    NT_EQ_INT(nano_wasm_call(a, "dirty", NULL, 0, NULL, 0, NULL), 0);
    NT_EQ_INT(call_i32(a, "loopy"), 0);
    nano_wasm_instance_free(a);
    nano_wasm_module_free(mod);
}

NT_LIST = {
    { "instances_are_independent",   test_instances_are_independent },
    { "module_freed_before_instance", test_module_freed_before_instance },
    { "instance_imports_another",    test_instance_imports_another },
    { "call_argument_checks",        test_call_argument_checks },
    { "locals_start_at_zero",        test_locals_start_at_zero },
    { NULL, NULL }
};
