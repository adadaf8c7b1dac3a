/* SPDX-License-Identifier: MIT
 *
 * test_limits.c - the engine's containment: fuel, deadline, call depth,
 * memory bounds and the memory page limit.  Each case builds its module
 * with wasm_asm.h, so the bytes under test are visible in the test.
 */
#include <errno.h>
#include <time.h>

#include "harness/nt.h"
#include "wasm/wasm.h"
#include "wasm_asm.h"

/* (func (export "spin") (loop (br 0))) */
static const uint8_t spin_code[] = { W_LOOP, W_VOID, W_BR, 0, W_END, W_END };
/* (func (export "rec") (call 0)) : unbounded recursion */
static const uint8_t rec_code[] = { W_CALL, 0, W_END };
/* (func (export "rec_locals") (local i64 x 8) (call 1)) */
static const uint8_t rec2_code[] = { W_CALL, 1, W_END };
/* (func (export "ok") (result i32) (i32.const 7)) */
static const uint8_t ok_code[] = { W_I32_CONST, 7, W_END };
/* (func (export "load") (param i32) (result i32) (i32.load (local.get 0))) */
static const uint8_t load_code[] = {
    W_LOCAL_GET, 0, W_I32_LOAD, W_MEMARG(2, 0), W_END
};
/* (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))) */
static const uint8_t store_code[] = {
    W_LOCAL_GET, 0, W_LOCAL_GET, 1, W_I32_STORE, W_MEMARG(2, 0), W_END
};
/* (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))) */
static const uint8_t grow_code[] = { W_LOCAL_GET, 0, W_MEMORY_GROW, 0, W_END };
/* (func (export "size") (result i32) (memory.size)) */
static const uint8_t size_code[] = { W_MEMORY_SIZE, 0, W_END };

static const struct wa_func funcs[] = {
    WA_FUNC("()", NULL, spin_code, "spin"),
    WA_FUNC("()", "IIIIIIII", rec2_code, "rec_locals"),
    WA_FUNC("()i", NULL, ok_code, "ok"),
    WA_FUNC("(i)i", NULL, load_code, "load"),
    WA_FUNC("(ii)", NULL, store_code, "store"),
    WA_FUNC("(i)i", NULL, grow_code, "grow"),
    WA_FUNC("()i", NULL, size_code, "size"),
};

static const struct wa_func rec_funcs[] = {
    WA_FUNC("()", NULL, rec_code, "rec"),
    WA_FUNC("()i", NULL, ok_code, "ok"),
};

struct fixture {
    struct wa_buf bin;
    struct nano_wasm_module *mod;
    struct nano_wasm_instance *inst;
};

static void
setup(struct fixture *fx, const struct wa_func *fs, size_t nfs,
      const struct nano_wasm_limits *lim)
{
    struct wa_module m = { 0 };
    struct nano_wasm_error err;
    struct nano_wasm_trap trap;
    int rc;

    m.funcs = fs;
    m.nfuncs = nfs;
    m.memory = 1;
    m.mem_min = 1;
    wa_build(&m, &fx->bin);
    rc = nano_wasm_module_load(fx->bin.d, fx->bin.n, lim, &fx->mod, &err);
    NT_MSG("load: %s at %zu", err.msg, err.offset);
    NT_ASSERT(rc == 0);
    rc = nano_wasm_instantiate(fx->mod, NULL, lim, &fx->inst, &trap);
    NT_MSG("instantiate: %s", trap.msg);
    NT_ASSERT(rc == 0);
    NT_MSG("%s", "");
}

static void
teardown(struct fixture *fx)
{
    nano_wasm_instance_free(fx->inst);
    nano_wasm_module_free(fx->mod);
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
test_fuel_stops_infinite_loop(void)
{
    struct nano_wasm_limits lim = { .fuel = 100000 };
    struct nano_wasm_trap trap;
    struct fixture fx;
    union nano_wasm_val r;

    setup(&fx, funcs, sizeof funcs / sizeof funcs[0], &lim);
    NT_EQ_INT(nano_wasm_call(fx.inst, "spin", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_OUT_OF_FUEL);
    NT_EQ_STR(trap.msg, "out of fuel");
    /* the whole budget was spent, and no more */
    NT_EQ_INT(nano_wasm_instance_fuel_used(fx.inst), 100000);
    /* the budget is per call: the instance is still usable */
    NT_EQ_INT(nano_wasm_call(fx.inst, "ok", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 7);
    teardown(&fx);
}

static void
test_deadline_stops_infinite_loop(void)
{
    /* no fuel limit at all: only the clock can stop it */
    struct nano_wasm_limits lim = { .timeout_ms = 50 };
    struct nano_wasm_trap trap;
    struct fixture fx;
    double t0, ms;

    setup(&fx, funcs, sizeof funcs / sizeof funcs[0], &lim);
    t0 = now_ms();
    NT_EQ_INT(nano_wasm_call(fx.inst, "spin", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    ms = now_ms() - t0;
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_DEADLINE);
    NT_MSG("stopped after %.1f ms", ms);
    NT_CHECK(ms >= 50 && ms < 2000);
    teardown(&fx);
}

static void
test_budget_can_be_changed_per_instance(void)
{
    struct nano_wasm_trap trap;
    struct fixture fx;

    setup(&fx, funcs, sizeof funcs / sizeof funcs[0], NULL);
    nano_wasm_instance_set_budget(fx.inst, 5000, 0);
    NT_EQ_INT(nano_wasm_call(fx.inst, "spin", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_OUT_OF_FUEL);
    NT_EQ_INT(nano_wasm_instance_fuel_used(fx.inst), 5000);
    nano_wasm_instance_set_budget(fx.inst, 0, 20);
    NT_EQ_INT(nano_wasm_call(fx.inst, "spin", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_DEADLINE);
    teardown(&fx);
}

static void
test_unbounded_recursion_traps(void)
{
    struct nano_wasm_limits lim = { .max_call_depth = 500 };
    struct nano_wasm_trap trap;
    struct fixture fx;
    union nano_wasm_val r;

    setup(&fx, rec_funcs, 2, &lim);
    NT_EQ_INT(nano_wasm_call(fx.inst, "rec", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_STACK_EXHAUSTED);
    NT_EQ_STR(trap.msg, "call stack exhausted");
    /* a second time: the first trap left no state behind */
    NT_EQ_INT(nano_wasm_call(fx.inst, "rec", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_STACK_EXHAUSTED);
    /* the process and the instance survive */
    NT_EQ_INT(nano_wasm_call(fx.inst, "ok", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 7);
    teardown(&fx);
}

static void
test_value_stack_exhaustion_traps(void)
{
    /* a huge depth limit but a small value stack: frames of 8 locals run
     * out of stack bytes first, and that is the same clean trap */
    struct nano_wasm_limits lim = { .max_call_depth = 1000000, .stack_bytes = 8192 };
    struct nano_wasm_trap trap;
    struct fixture fx;

    setup(&fx, funcs, sizeof funcs / sizeof funcs[0], &lim);
    NT_EQ_INT(nano_wasm_call(fx.inst, "rec_locals", NULL, 0, NULL, 0, &trap),
              NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_STACK_EXHAUSTED);
    teardown(&fx);
}

static void
test_out_of_bounds_load_traps(void)
{
    struct nano_wasm_trap trap;
    struct fixture fx;
    union nano_wasm_val a[2], r;

    setup(&fx, funcs, sizeof funcs / sizeof funcs[0], NULL);
    a[0].u64 = 0;
    a[0].i32 = 65532;                       /* last whole i32 of page 0 */
    a[1].u64 = 0;
    a[1].i32 = 0x11223344;
    NT_EQ_INT(nano_wasm_call(fx.inst, "store", a, 2, NULL, 0, &trap), 0);
    NT_EQ_INT(nano_wasm_call(fx.inst, "load", a, 1, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 0x11223344);
    a[0].i32 = 65533;                       /* straddles the end */
    NT_EQ_INT(nano_wasm_call(fx.inst, "load", a, 1, &r, 1, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_MEMORY_OOB);
    a[0].i32 = -4;                          /* 0xfffffffc: far out */
    NT_EQ_INT(nano_wasm_call(fx.inst, "load", a, 1, &r, 1, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_MEMORY_OOB);
    NT_EQ_INT(nano_wasm_call(fx.inst, "store", a, 2, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_MEMORY_OOB);
    teardown(&fx);
}

static void
test_memory_grow_limit_honoured(void)
{
    struct nano_wasm_limits lim = { .max_memory_pages = 4 };
    struct nano_wasm_trap trap;
    struct fixture fx;
    union nano_wasm_val a, r;
    size_t len;

    setup(&fx, funcs, sizeof funcs / sizeof funcs[0], &lim);
    a.u64 = 0;
    a.i32 = 2;
    NT_EQ_INT(nano_wasm_call(fx.inst, "grow", &a, 1, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 1);                    /* old size */
    NT_EQ_INT(nano_wasm_call(fx.inst, "grow", &a, 1, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, -1);                   /* 3 + 2 > 4: refused */
    a.i32 = 1;
    NT_EQ_INT(nano_wasm_call(fx.inst, "grow", &a, 1, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 3);                    /* exactly to the limit */
    NT_EQ_INT(nano_wasm_call(fx.inst, "grow", &a, 1, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, -1);
    NT_EQ_INT(nano_wasm_call(fx.inst, "size", NULL, 0, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 4);
    NT_CHECK(nano_wasm_memory(fx.inst, &len) != NULL);
    NT_EQ_INT(len, 4 * 65536);
    /* new pages are usable and zeroed */
    a.i32 = 4 * 65536 - 4;
    NT_EQ_INT(nano_wasm_call(fx.inst, "load", &a, 1, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 0);
    teardown(&fx);
}

static void
test_initial_memory_over_limit_fails_to_link(void)
{
    static const struct wa_func f[] = { WA_FUNC("()i", NULL, ok_code, "ok") };
    struct wa_module m = { .funcs = f, .nfuncs = 1, .memory = 1, .mem_min = 8 };
    struct nano_wasm_limits lim = { .max_memory_pages = 4 };
    struct nano_wasm_module *mod;
    struct nano_wasm_instance *inst;
    struct nano_wasm_trap trap;
    struct wa_buf bin;

    wa_build(&m, &bin);
    NT_ASSERT(nano_wasm_module_load(bin.d, bin.n, NULL, &mod, NULL) == 0);
    NT_EQ_INT(nano_wasm_instantiate(mod, NULL, &lim, &inst, &trap), -E2BIG);
    NT_CHECK(inst == NULL);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_LINK);
    NT_MSG("%s", trap.msg);
    NT_CHECK(strstr(trap.msg, "limit") != NULL);
    nano_wasm_module_free(mod);
}

static void
test_traps_report_kinds(void)
{
    /* (func (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))) */
    static const uint8_t div_code[] = {
        W_LOCAL_GET, 0, W_LOCAL_GET, 1, W_I32_DIV_S, W_END
    };
    static const uint8_t unr_code[] = { W_UNREACHABLE, W_END };
    static const struct wa_func f[] = {
        WA_FUNC("(ii)i", NULL, div_code, "div"),
        WA_FUNC("()", NULL, unr_code, "unr"),
    };
    struct fixture fx;
    struct nano_wasm_trap trap;
    union nano_wasm_val a[2], r;

    setup(&fx, f, 2, NULL);
    a[0].u64 = a[1].u64 = 0;
    a[0].i32 = 7;
    NT_EQ_INT(nano_wasm_call(fx.inst, "div", a, 2, &r, 1, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_DIV_ZERO);
    NT_EQ_STR(trap.msg, "integer divide by zero");
    a[0].i32 = INT32_MIN;
    a[1].i32 = -1;
    NT_EQ_INT(nano_wasm_call(fx.inst, "div", a, 2, &r, 1, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_INT_OVERFLOW);
    NT_EQ_INT(nano_wasm_call(fx.inst, "unr", NULL, 0, NULL, 0, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_UNREACHABLE);
    NT_EQ_STR(nano_wasm_trap_name(trap.kind), "unreachable");
    a[1].i32 = 2;
    a[0].i32 = 9;
    NT_EQ_INT(nano_wasm_call(fx.inst, "div", a, 2, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 4);
    teardown(&fx);
}

static void
test_fuel_counts_iterations_exactly(void)
{
    /* (func (export "count") (param $n i32) (result i32) (local $i i32)
     *   (loop (br_if 0 (i32.ne (local.tee $i (i32.add (local.get $i)
     *                                                  (i32.const 1)))
     *                          (local.get $n))))
     *   (local.get $i))
     * n iterations take n - 1 backward branches, plus 1 for the call. */
    static const uint8_t count_code[] = {
        W_LOOP, W_VOID,
          W_LOCAL_GET, 1, W_I32_CONST, 1, W_I32_ADD, W_LOCAL_TEE, 1,
          W_LOCAL_GET, 0, 0x47 /* i32.ne */, W_BR_IF, 0,
        W_END,
        W_LOCAL_GET, 1, W_END
    };
    static const struct wa_func f[] = { WA_FUNC("(i)i", "i", count_code, "count") };
    struct nano_wasm_limits lim = { .fuel = 1000 };
    struct nano_wasm_trap trap;
    struct fixture fx;
    union nano_wasm_val a, r;

    setup(&fx, f, 1, &lim);
    a.u64 = 0;
    a.i32 = 1000;
    NT_EQ_INT(nano_wasm_call(fx.inst, "count", &a, 1, &r, 1, &trap), 0);
    NT_EQ_INT(r.i32, 1000);
    NT_EQ_INT(nano_wasm_instance_fuel_used(fx.inst), 1000);
    a.i32 = 1001;
    NT_EQ_INT(nano_wasm_call(fx.inst, "count", &a, 1, &r, 1, &trap), NANO_WASM_ETRAP);
    NT_EQ_INT(trap.kind, NANO_WASM_TRAP_OUT_OF_FUEL);
    teardown(&fx);
}

NT_LIST = {
    { "fuel_stops_infinite_loop",           test_fuel_stops_infinite_loop },
    { "deadline_stops_infinite_loop",       test_deadline_stops_infinite_loop },
    { "fuel_counts_iterations_exactly",     test_fuel_counts_iterations_exactly },
    { "budget_can_be_changed_per_instance", test_budget_can_be_changed_per_instance },
    { "unbounded_recursion_traps",          test_unbounded_recursion_traps },
    { "value_stack_exhaustion_traps",       test_value_stack_exhaustion_traps },
    { "out_of_bounds_load_traps",           test_out_of_bounds_load_traps },
    { "memory_grow_limit_honoured",         test_memory_grow_limit_honoured },
    { "initial_memory_over_limit_fails_to_link", test_initial_memory_over_limit_fails_to_link },
    { "traps_report_kinds",                 test_traps_report_kinds },
    { NULL, NULL }
};
