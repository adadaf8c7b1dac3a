/* SPDX-License-Identifier: MIT
 *
 * test_host.c - host functions: the import round trip, reading guest
 * memory from a callback, host failures as traps, link errors, and the
 * re-entrancy guard.
 */
#include <errno.h>

#include "harness/nt.h"
#include "wasm/wasm.h"
#include "wasm_asm.h"

struct host_state {
    int calls;
    int32_t last_a, last_b;
    char seen[64];
    struct nano_wasm_instance *inst;
};

static int
host_add(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
         union nano_wasm_val *results, void *user)
{
    struct host_state *st = user;

    st->calls++;
    st->last_a = args[0].i32;
    st->last_b = args[1].i32;
    results[0].i32 = args[0].i32 + args[1].i32;
    return 0;
}

/* (ptr, len) -> len; copies the guest's bytes out */
static int
host_log(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
         union nano_wasm_val *results, void *user)
{
    struct host_state *st = user;
    uint32_t ptr = args[0].u32, len = args[1].u32;
    const char *p = nano_wasm_ctx_mem(ctx, ptr, len);

    if (!p || len >= sizeof st->seen)
        return nano_wasm_ctx_trap(ctx, "log: bad buffer %u+%u", ptr, len);
    memcpy(st->seen, p, len);
    st->seen[len] = '\0';
    results[0].i32 = (int32_t)len;
    return 0;
}

static int
host_fail(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
          union nano_wasm_val *results, void *user)
{
    return nano_wasm_ctx_trap(ctx, "sensor %d is offline", 3);
}

/* calls back into the instance that called it */
static int
host_reenter(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
             union nano_wasm_val *results, void *user)
{
    struct nano_wasm_trap trap;
    union nano_wasm_val r;
    int rc = nano_wasm_call(nano_wasm_ctx_instance(ctx), "sum", NULL, 0, &r, 1, &trap);

    results[0].i32 = rc;
    return 0;
}

static const struct wa_import imports[] = {
    { "nano", "add", "(ii)i" },          /* func 0 */
    { "nano", "log", "(ii)i" },          /* func 1 */
    { "nano", "fail", "()" },            /* func 2 */
    { "nano", "reenter", "()i" },        /* func 3 */
};
/* (func (export "sum") (result i32) (call $add (i32.const 40) (i32.const 2))) */
static const uint8_t sum_code[] = {
    W_I32_CONST, 40, W_I32_CONST, 2, W_CALL, 0, W_END
};
/* (func (export "hello") (result i32)
 *   (i32.store (i32.const 16) (i32.const 0x6c6c6568))   ;; "hell"
 *   (i32.store8 (i32.const 20) (i32.const 0x6f))          ;; "o"
 *   (call $log (i32.const 16) (i32.const 5))) */
static const uint8_t hello_code[] = {
    W_I32_CONST, 16, W_I32_CONST, 0xe8, 0xca, 0xb1, 0xe3, 0x06, W_I32_STORE, W_MEMARG(2, 0),
    W_I32_CONST, 20, W_I32_CONST, 0xef, 0x00, W_I32_STORE8, W_MEMARG(0, 0),
    W_I32_CONST, 16, W_I32_CONST, 5, W_CALL, 1, W_END
};
/* (func (export "oob_log") (result i32) (call $log (i32.const 65530) (i32.const 10))) */
static const uint8_t ooblog_code[] = {
    W_I32_CONST, 0xfa, 0xff, 0x03, W_I32_CONST, 10, W_CALL, 1, W_END
};
static const uint8_t fail_code[] = { W_CALL, 2, W_END };
static const uint8_t reenter_code[] = { W_CALL, 3, W_END };
/* loop calling the host 1000 times, summing the results */
static const uint8_t many_code[] = {
    W_LOOP, W_VOID,
      W_LOCAL_GET, 0, W_I32_CONST, 1, W_CALL, 0, W_LOCAL_SET, 0,
      W_LOCAL_GET, 0, W_I32_CONST, 0xe8, 0x07, W_I32_LT_S, W_BR_IF, 0,
    W_END,
    W_LOCAL_GET, 0, W_END
};
static const struct wa_func funcs[] = {
    WA_FUNC("()i", NULL, sum_code, "sum"),
    WA_FUNC("()i", NULL, hello_code, "hello"),
    WA_FUNC("()i", NULL, ooblog_code, "oob_log"),
    WA_FUNC("()", NULL, fail_code, "fail"),
    WA_FUNC("()i", NULL, reenter_code, "reenter"),
    WA_FUNC("()i", "i", many_code, "many"),
};

struct fixture {
    struct wa_buf bin;
    struct host_state st;
    struct nano_wasm_imports *imp;
    struct nano_wasm_module *mod;
    struct nano_wasm_instance *inst;
};

static void
setup(struct fixture *fx)
{
    struct wa_module m = {
        .imports = imports, .nimports = 4,
        .funcs = funcs, .nfuncs = sizeof funcs / sizeof funcs[0],
        .memory = 1, .mem_min = 1,
    };
    struct nano_wasm_error err;
    struct nano_wasm_trap trap;

    memset(&fx->st, 0, sizeof fx->st);
    wa_build(&m, &fx->bin);
    NT_ASSERT((fx->imp = nano_wasm_imports_new()) != NULL);
    NT_ASSERT(nano_wasm_imports_add_func(fx->imp, "nano", "add", "(ii)i", host_add, &fx->st) == 0);
    NT_ASSERT(nano_wasm_imports_add_func(fx->imp, "nano", "log", "(ii)i", host_log, &fx->st) == 0);
    NT_ASSERT(nano_wasm_imports_add_func(fx->imp, "nano", "fail", "()", host_fail, NULL) == 0);
    NT_ASSERT(nano_wasm_imports_add_func(fx->imp, "nano", "reenter", "()i", host_reenter, NULL) == 0);
    NT_MSG("load");
    NT_ASSERT(nano_wasm_module_load(fx->bin.d, fx->bin.n, NULL, &fx->mod, &err) == 0);
    NT_MSG("instantiate");
    NT_ASSERT(nano_wasm_instantiate(fx->mod, fx->imp, NULL, &fx->inst, &trap) == 0);
    NT_MSG("%s", "");
}

static void
teardown(struct fixture *fx)
{
    nano_wasm_instance_free(fx->inst);
    nano_wasm_imports_free(fx->imp);
    nano_wasm_module_free(fx->mod);
}

static void
test_import_round_trip(void)
{
    struct fixture fx;
    struct nano_wasm_trap trap;
    union nano_wasm_val r;

    setup(&fx);
    NT_EQ_INT(nano_wasm_call(fx.inst, "sum", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 42);
    NT_EQ_INT(fx.st.calls, 1);
    NT_EQ_INT(fx.st.last_a, 40);
    NT_EQ_INT(fx.st.last_b, 2);
    /* a hot loop of host calls: 1000 calls, values flow back each time */
    NT_EQ_INT(nano_wasm_call(fx.inst, "many", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 1000);
    NT_EQ_INT(fx.st.calls, 1001);
    teardown(&fx);
}

static void
test_host_reads_guest_memory(void)
{
    struct fixture fx;
    struct nano_wasm_trap trap;
    union nano_wasm_val r;
    char buf[8];

    setup(&fx);
    NT_EQ_INT(nano_wasm_call(fx.inst, "hello", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 5);
    NT_EQ_STR(fx.st.seen, "hello");
    /* and the embedder sees the same bytes */
    NT_EQ_INT(nano_wasm_memory_read(fx.inst, 16, buf, 5), 0);
    NT_CHECK(memcmp(buf, "hello", 5) == 0);
    NT_EQ_INT(nano_wasm_memory_read(fx.inst, 65535, buf, 2), -EFAULT);
    NT_EQ_INT(nano_wasm_memory_write(fx.inst, 65534, "ab", 2), 0);
    NT_EQ_INT(nano_wasm_memory_write(fx.inst, UINT64_MAX - 1, "ab", 2), -EFAULT);
    NT_CHECK(nano_wasm_memory_ptr(fx.inst, 65536, 1) == NULL);
    NT_CHECK(nano_wasm_memory_ptr(fx.inst, 65536, 0) != NULL);
    teardown(&fx);
}

static void
test_host_failure_is_a_trap(void)
{
    struct fixture fx;
    struct nano_wasm_trap trap;
    union nano_wasm_val r;

    setup(&fx);
    NT_EQ_INT(nano_wasm_call(fx.inst, "fail", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_HOST);
    NT_EQ_STR(trap.msg, "sensor 3 is offline");
    /* a bounds-checked helper refusing a guest buffer */
    NT_EQ_INT(nano_wasm_call(fx.inst, "oob_log", NULL, 0, &r, 1, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_HOST);
    NT_EQ_STR(trap.msg, "log: bad buffer 65530+10");
    /* still usable */
    NT_EQ_INT(nano_wasm_call(fx.inst, "sum", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 42);
    teardown(&fx);
}

static void
test_reentry_is_refused(void)
{
    struct fixture fx;
    struct nano_wasm_trap trap;
    union nano_wasm_val r;

    setup(&fx);
    NT_EQ_INT(nano_wasm_call(fx.inst, "reenter", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, -EBUSY);
    teardown(&fx);
}

static void
test_link_errors(void)
{
    struct wa_module m = {
        .imports = imports, .nimports = 4,
        .funcs = funcs, .nfuncs = sizeof funcs / sizeof funcs[0],
        .memory = 1, .mem_min = 1,
    };
    struct nano_wasm_imports *imp = nano_wasm_imports_new();
    struct nano_wasm_module *mod;
    struct nano_wasm_instance *inst;
    struct nano_wasm_trap trap;
    struct wa_buf bin;

    wa_build(&m, &bin);
    NT_ASSERT(nano_wasm_module_load(bin.d, bin.n, NULL, &mod, NULL) == 0);
    /* nothing offered */
    NT_EQ_INT(nano_wasm_instantiate(mod, imp, NULL, &inst, &trap), -ENOENT);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_LINK);
    NT_EQ_STR(trap.msg, "unknown import nano.add");
    /* the right name with the wrong signature */
    NT_EQ_INT(nano_wasm_imports_add_func(imp, "nano", "add", "(iI)i", host_add, NULL), 0);
    NT_EQ_INT(nano_wasm_instantiate(mod, imp, NULL, &inst, &trap), -EINVAL);
    NT_CHECK(inst == NULL);
    NT_CHECK(strstr(trap.msg, "incompatible import type") != NULL);
    /* registration errors */
    NT_EQ_INT(nano_wasm_imports_add_func(imp, "nano", "add", "(ii)i", host_add, NULL), -EEXIST);
    NT_EQ_INT(nano_wasm_imports_add_func(imp, "nano", "x", "ii)i", host_add, NULL), -EINVAL);
    NT_EQ_INT(nano_wasm_imports_add_func(imp, "nano", "x", "(q)", host_add, NULL), -EINVAL);
    nano_wasm_imports_free(imp);
    nano_wasm_module_free(mod);
}

NT_LIST = {
    { "import_round_trip",      test_import_round_trip },
    { "host_reads_guest_memory", test_host_reads_guest_memory },
    { "host_failure_is_a_trap", test_host_failure_is_a_trap },
    { "reentry_is_refused",     test_reentry_is_refused },
    { "link_errors",            test_link_errors },
    { NULL, NULL }
};
