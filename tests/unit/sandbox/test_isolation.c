/* SPDX-License-Identifier: MIT
 *
 * test_isolation.c - what a module cannot do to the daemon: an endless loop
 * is stopped by fuel and, separately, by the deadline; an out-of-bounds
 * access, a wild pointer passed to an import and unbounded recursion trap;
 * repeated faults quarantine a module while another keeps working and the
 * bus goes on; without grants a module cannot publish or set a pin; and
 * every import survives random pointers and lengths.
 */
#include <fcntl.h>

#include "sb_test.h"
#include "hal/pins.h"
#include "sandbox/sandbox_int.h"
#include "wasm/wasm.h"

#define ON_MESSAGE "(iiFii)"

static void
build_one(struct wa_buf *out, const uint8_t *code, size_t len, int memory)
{
    struct wa_func f = { ON_MESSAGE, NULL, code, len, "on_message" };
    struct wa_module m = { .funcs = &f, .nfuncs = 1, .memory = memory,
                           .mem_min = 1 };

    wa_build(&m, out);
}

static const uint8_t spin[] = { W_LOOP, W_VOID, W_BR, 0, W_END, W_END };

static void
test_fuel_stops_endless_loop(void)
{
    struct nano_sandbox_module_stats st;
    struct wa_buf mod;

    build_one(&mod, spin, sizeof spin, 0);
    sbt_open();
    NT_ASSERT(sbt_load("spin", "{\"subscribe\":\"in/#\",\"fuel\":10000,"
                       "\"deadline\":0}", &mod) == NANO_OK);
    sbt_pub("in/x", 1);
    sbt_pump();
    st = sbt_stats("spin");
    NT_EQ_INT(st.calls, 1);
    NT_EQ_INT(st.faults, 1);
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_OUT_OF_FUEL], 1);
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_DEADLINE], 0);
    NT_CHECK(st.fuel_used >= 10000 && st.fuel_used <= 10001);
    NT_EQ_INT(st.state, NANO_SANDBOX_RUNNING);      /* one fault of five */
    sbt_close();
}

static void
test_deadline_stops_endless_loop(void)
{
    struct nano_sandbox_module_stats st;
    struct wa_buf mod;
    uint64_t t0, ms;

    build_one(&mod, spin, sizeof spin, 0);
    sbt_open();
    /* no fuel limit: only the wall clock can stop it */
    NT_ASSERT(sbt_load("spin", "{\"subscribe\":\"in/#\",\"fuel\":0,"
                       "\"deadline\":\"20ms\"}", &mod) == NANO_OK);
    sbt_pub("in/x", 1);
    t0 = nano_time_mono_ns();
    sbt_pump();
    ms = (nano_time_mono_ns() - t0) / NANO_NS_PER_MS;
    st = sbt_stats("spin");
    NT_EQ_INT(st.calls, 1);
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_DEADLINE], 1);
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_OUT_OF_FUEL], 0);
    NT_MSG("pump took %llu ms", (unsigned long long)ms);
    NT_CHECK(ms >= 20 && ms < 1000);
    sbt_close();
}

static void
test_out_of_bounds_traps(void)
{
    /* i32.load at 0xffffffff */
    static const uint8_t oob[] = {
        W_I32_CONST, 0x7f, W_I32_LOAD, 2, 0, W_DROP, W_END
    };
    /* publish(topic at 0xfffffff0, 4 bytes, 0.0): a wild pointer to an import */
    static const uint8_t wild[] = {
        W_I32_CONST, 0x70, W_I32_CONST, 4, W_F64_CONST, 0, 0, 0, 0, 0, 0, 0, 0,
        W_CALL, 0, W_DROP, W_END
    };
    /* publish(topic at 8, length -1) */
    static const uint8_t wild_len[] = {
        W_I32_CONST, 8, W_I32_CONST, 0x7f, W_F64_CONST, 0, 0, 0, 0, 0, 0, 0, 0,
        W_CALL, 0, W_DROP, W_END
    };
    static const struct wa_import imp[] = { { "nano", "publish", "(iiF)i" } };
    struct wa_func f = { ON_MESSAGE, NULL, wild, sizeof wild, "on_message" };
    struct wa_module m = { .imports = imp, .nimports = 1, .funcs = &f,
                           .nfuncs = 1, .memory = 1, .mem_min = 1 };
    struct nano_sandbox_module_stats st;
    struct wa_buf mod;
    const char *settings = "{\"subscribe\":\"in/#\",\"grants\":{\"publish\":\"#\"}}";

    sbt_open();
    build_one(&mod, oob, sizeof oob, 1);
    NT_ASSERT(sbt_load("oob", settings, &mod) == NANO_OK);
    wa_build(&m, &mod);
    NT_ASSERT(sbt_load("wild", settings, &mod) == NANO_OK);
    f.code = wild_len;
    f.len = sizeof wild_len;
    wa_build(&m, &mod);
    NT_ASSERT(sbt_load("wildlen", settings, &mod) == NANO_OK);
    sbt_pub("in/x", 1);
    sbt_pub("in/x", 2);
    sbt_pump();
    st = sbt_stats("oob");
    NT_EQ_INT(st.calls, 2);
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_MEMORY_OOB], 2);
    st = sbt_stats("wild");
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_HOST], 2);
    NT_EQ_INT(st.published, 0);
    st = sbt_stats("wildlen");
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_HOST], 2);
    sbt_close();
}

static void
test_endless_recursion_traps_on_depth(void)
{
    static const uint8_t entry[] = { W_CALL, 1, W_END };
    static const uint8_t self[] = { W_CALL, 1, W_END };
    struct wa_func f[] = {
        { ON_MESSAGE, NULL, entry, sizeof entry, "on_message" },
        { "()", NULL, self, sizeof self, NULL },
    };
    struct wa_module m = { .funcs = f, .nfuncs = 2 };
    struct nano_sandbox_module_stats st;
    struct wa_buf mod;

    wa_build(&m, &mod);
    sbt_open();
    NT_ASSERT(sbt_load("deep", "{\"subscribe\":\"in/#\"}", &mod) == NANO_OK);
    sbt_pub("in/x", 1);
    sbt_pump();
    st = sbt_stats("deep");
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_STACK_EXHAUSTED], 1);
    NT_EQ_INT(st.faults, 1);
    sbt_close();
}

/* ---- quarantine --------------------------------------------------------------- */

struct counter {
    int n;
};

static void
count_msg(void *arg, const struct nano_msg *m)
{
    (void)m;
    ((struct counter *)arg)->n++;
}

/* on_message: publish("good/out", value + 1) */
static void
build_adder(struct wa_buf *out)
{
    static const uint8_t code[] = {
        W_I32_CONST, 16, W_I32_CONST, 8, W_LOCAL_GET, 2,
        W_F64_CONST, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xa0 /* f64.add 1.0 */,
        W_CALL, 0, W_DROP, W_END
    };
    static const struct wa_import imp[] = { { "nano", "publish", "(iiF)i" } };
    static const struct sbt_seg data[] = { { 16, "good/out" } };
    struct wa_func f = { ON_MESSAGE, NULL, code, sizeof code, "on_message" };
    struct wa_module m = { .imports = imp, .nimports = 1, .funcs = &f,
                           .nfuncs = 1, .memory = 1, .mem_min = 1 };

    wa_build(&m, out);
    sbt_data(out, data, 1);
}

static void
test_quarantine_after_faults_others_unaffected(void)
{
    static const uint8_t boom[] = { W_UNREACHABLE, W_END };
    struct nano_sandbox_module_stats st;
    struct counter seen = { 0 };
    struct nano_sub *sub;
    struct nano_metric *mt;
    struct wa_buf bad, good;
    struct nano_cfg_doc *doc;
    struct nano_buf b;
    struct nano_json w;

    build_one(&bad, boom, sizeof boom, 0);
    build_adder(&good);
    sbt_open();
    NT_ASSERT(sbt_load("bad", "{\"subscribe\":\"in/#\",\"max_faults\":3}",
                       &bad) == NANO_OK);
    NT_ASSERT(sbt_load("good", "{\"subscribe\":\"in/#\",\"grants\":"
                       "{\"publish\":\"good/#\"}}", &good) == NANO_OK);
    NT_ASSERT(nano_bus_subscribe(T.bus, "in/#", NULL, count_msg, &seen,
                                 &sub) == NANO_OK);
    for (int i = 0; i < 10; i++)
        sbt_pub("in/x", i);
    sbt_pump();

    st = sbt_stats("bad");
    NT_EQ_INT(st.state, NANO_SANDBOX_QUARANTINED);
    NT_EQ_INT(st.calls, 3);
    NT_EQ_INT(st.faults, 3);
    NT_EQ_INT(st.traps[NANO_WASM_TRAP_UNREACHABLE], 3);
    NT_EQ_INT(st.dropped, 7);
    NT_EQ_INT(st.quarantines, 1);
    mt = nano_metric_find("nano_sandbox_traps_total{module=\"bad\","
                          "kind=\"unreachable\"}");
    NT_CHECK(mt && mt->value == 3);
    mt = nano_metric_find("nano_sandbox_quarantined{module=\"bad\"}");
    NT_CHECK(mt && mt->value == 1);
    mt = nano_metric_find("nano_sandbox_dropped_total{module=\"bad\"}");
    NT_CHECK(mt && mt->value == 7);

    st = sbt_stats("good");                   /* the other module went on */
    NT_EQ_INT(st.state, NANO_SANDBOX_RUNNING);
    NT_EQ_INT(st.calls, 10);
    NT_EQ_INT(st.faults, 0);
    NT_NEAR(sbt_latest("good/out"), 10, 0);
    NT_EQ_INT(seen.n, 10);                    /* and so did the bus */

    /* status shows it, with the reason */
    nano_buf_init(&b, 1 << 20);
    nano_json_init(&w, &b);
    NT_ASSERT(nano_sandbox_write_one(T.sb, "bad", &w) == NANO_OK);
    NT_ASSERT(nano_json_end(&w) == NANO_OK);
    NT_ASSERT(nano_cfg_parse_json(b.data, b.len, "status", &doc, NULL) == NANO_OK);
    NT_EQ_STR(nano_cfg_get(nano_cfg_root(doc), "state")->str, "quarantined");
    NT_CHECK(strstr(nano_cfg_get(nano_cfg_root(doc), "last_error")->str,
                    "on_message trapped (unreachable)") != NULL);
    NT_EQ_STR(nano_cfg_path(nano_cfg_root(doc), "traps.unreachable")->str, "3");
    nano_cfg_free(doc);
    nano_buf_free(&b);

    /* enable: running again with a fresh fault window */
    NT_EQ_INT(nano_sandbox_set_enabled(T.sb, "bad", true), NANO_OK);
    sbt_pub("in/x", 10);
    sbt_pump();
    st = sbt_stats("bad");
    NT_EQ_INT(st.state, NANO_SANDBOX_RUNNING);
    NT_EQ_INT(st.calls, 4);
    NT_EQ_INT(st.faults, 4);
    NT_EQ_INT(sbt_stats("good").calls, 11);
    nano_bus_unsubscribe(T.bus, sub);
    sbt_close();
}

/* ---- grants ------------------------------------------------------------------------ */

static int pin_calls, pin_level;
static char pin_name[64];

static int
pin_hook(void *arg, const char *pin, int level)
{
    (void)arg;
    pin_calls++;
    pin_level = level;
    snprintf(pin_name, sizeof pin_name, "%s", pin);
    return NANO_OK;
}

/* on_message:
 *   publish("result/publish", publish("forbidden/x", value))
 *   publish("result/pin", set_pin("led", 1)) */
static void
build_prober(struct wa_buf *out)
{
    static const uint8_t code[] = {
        W_I32_CONST, 32, W_I32_CONST, 14,
        W_I32_CONST, 16, W_I32_CONST, 11, W_LOCAL_GET, 2, W_CALL, 0,
        W_F64_CONVERT_I32_S, W_CALL, 0, W_DROP,
        W_I32_CONST, 48, W_I32_CONST, 10,
        W_I32_CONST, 60, W_I32_CONST, 3, W_I32_CONST, 1, W_CALL, 1,
        W_F64_CONVERT_I32_S, W_CALL, 0, W_DROP,
        W_END
    };
    static const struct wa_import imp[] = {
        { "nano", "publish", "(iiF)i" },
        { "nano", "set_pin", "(iii)i" },
    };
    static const struct sbt_seg data[] = {
        { 16, "forbidden/x" }, { 32, "result/publish" }, { 48, "result/pin" },
        { 60, "led" },
    };
    struct wa_func f = { ON_MESSAGE, NULL, code, sizeof code, "on_message" };
    struct wa_module m = { .imports = imp, .nimports = 2, .funcs = &f,
                           .nfuncs = 1, .memory = 1, .mem_min = 1 };

    wa_build(&m, out);
    sbt_data(out, data, NANO_ARRAY_LEN(data));
}

static void
test_no_grant_no_publish_no_pin(void)
{
    struct nano_sandbox_module_stats st;
    struct wa_buf mod;

    build_prober(&mod);
    sbt_open();
    nano_sandbox_set_pin_hook(T.sb, pin_hook, NULL);
    NT_ASSERT(sbt_load("nogrant", "{\"subscribe\":\"in/#\",\"grants\":"
                       "{\"publish\":\"result/#\"}}", &mod) == NANO_OK);
    sbt_pub("in/x", 5);
    sbt_pump();
    NT_NEAR(sbt_latest("result/publish"), SB_E_DENIED, 0);
    NT_NEAR(sbt_latest("result/pin"), SB_E_DENIED, 0);
    NT_CHECK(nano_bus_latest(T.bus, "forbidden/x") == NULL);
    NT_EQ_INT(pin_calls, 0);
    st = sbt_stats("nogrant");
    NT_EQ_INT(st.denied, 2);
    NT_EQ_INT(st.faults, 0);                 /* denied is not a fault */
    NT_EQ_INT(st.published, 2);              /* the two results */
    NT_EQ_INT(nano_sandbox_unload(T.sb, "nogrant"), NANO_OK);
    sbt_close();
}

static void
test_grants_allow_publish_and_pin(void)
{
    static const char pins[] = "led: {line: 5, direction: out, sim: true}\n";
    struct nano_cfg_doc *doc;
    struct nano_diag d = { 0 };
    struct wa_buf mod;
    int level = -1;

    build_prober(&mod);
    sbt_open();
    NT_ASSERT(sbt_load("granted", "{\"subscribe\":\"in/#\",\"grants\":"
                       "{\"publish\":[\"result/#\",\"forbidden/+\"],"
                       "\"pins\":\"led\"}}", &mod) == NANO_OK);
    sbt_pub("in/x", 5);
    sbt_pump();
    NT_NEAR(sbt_latest("result/publish"), SB_OK, 0);
    NT_NEAR(sbt_latest("forbidden/x"), 5, 0);
    NT_NEAR(sbt_latest("result/pin"), SB_E_NOTFOUND, 0);  /* no such pin yet */

    /* The HAL's pins: an emulated output line called led. */
    NT_ASSERT(nano_pins_init(T.loop, T.bus) == NANO_OK);
    NT_ASSERT(nano_cfg_parse_yaml(pins, strlen(pins), "pins", &doc, &d) == NANO_OK);
    NT_ASSERT(nano_pins_apply(nano_cfg_root(doc), &d) == NANO_OK);
    NT_ASSERT(nano_pins_get("led", &level) == NANO_OK && level == 0);
    sbt_pub("in/x", 6);
    sbt_pump();
    NT_NEAR(sbt_latest("result/pin"), SB_OK, 0);
    NT_ASSERT(nano_pins_get("led", &level) == NANO_OK);
    NT_EQ_INT(level, 1);

    /* A hook replaces the HAL. */
    nano_sandbox_set_pin_hook(T.sb, pin_hook, NULL);
    sbt_pub("in/x", 7);
    sbt_pump();
    NT_NEAR(sbt_latest("result/pin"), SB_OK, 0);
    NT_EQ_INT(pin_calls, 1);
    NT_EQ_STR(pin_name, "led");
    NT_EQ_INT(pin_level, 1);
    NT_EQ_INT(sbt_stats("granted").denied, 0);
    nano_pins_shutdown();
    nano_cfg_free(doc);
    sbt_close();
}

/* ---- every import with random arguments ------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Pointers and lengths that sit on and around every edge. */
static uint32_t
pick(void)
{
    switch (rnd() % 9) {
    case 0: return 0;
    case 1: return rnd() % 300;
    case 2: return rnd() % 65536;
    case 3: return 65536 - rnd() % 64;
    case 4: return 65536 + rnd() % 64;
    case 5: return 0xffffffffu - rnd() % 64;
    case 6: return 0x80000000u + rnd() % 64;
    case 7: return 1024 + rnd() % 64;           /* the inbox */
    default: return rnd();
    }
}

/* on_message calls the import with its arguments read from the payload:
 * parameter k from payload + 8k (an i32 or an f64). */
static void
build_caller(struct wa_buf *out, const char *name, const char *sig)
{
    struct wa_import imp = { "nano", name, sig };
    uint8_t code[128];
    size_t n = 0;
    const char *close = strchr(sig, ')');
    struct wa_func f[3] = {
        { ON_MESSAGE, NULL, code, 0, "on_message" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox_size" },
    };
    struct wa_module m = { .imports = &imp, .nimports = 1, .funcs = f,
                           .nfuncs = 3, .memory = 1, .mem_min = 1,
                           .mem_max = 1 };

    for (const char *p = sig + 1; p < close; p++) {
        code[n++] = W_LOCAL_GET;
        code[n++] = 3;
        code[n++] = *p == 'F' ? W_F64_LOAD : W_I32_LOAD;
        code[n++] = 0;                                  /* align 1 */
        code[n++] = (uint8_t)(8 * (p - sig - 1));       /* offset */
    }
    code[n++] = W_CALL;
    code[n++] = 0;
    if (close[1])
        code[n++] = W_DROP;
    code[n++] = W_END;
    f[0].len = n;
    wa_build(&m, out);
}

static void
test_imports_survive_random_arguments(void)
{
    static const struct { const char *name, *sig; } imports[] = {
#define ROW(n, sig) { #n, sig },
        SB_IMPORTS(ROW)
#undef ROW
    };
    enum { ROUNDS = 300 };
    int devnull = open("/dev/null", O_WRONLY);
    uint64_t host_traps = 0, clean_calls = 0;

    nano_log_configure(NANO_LOG_DEBUG, NANO_LOG_LOGFMT, devnull);
    sbt_open();
    nano_sandbox_set_pin_hook(T.sb, pin_hook, NULL);
    sbt_pub("sensors/boiler/temperature", 70);   /* something to read */
    sbt_pub("sensors/tank/temperature", 20);
    sbt_pub("sensors/tank/level", 3);
    for (size_t i = 0; i < NANO_ARRAY_LEN(imports); i++) {
        struct wa_buf mod;
        char settings[256], topic[64];

        build_caller(&mod, imports[i].name, imports[i].sig);
        snprintf(settings, sizeof settings, "{\"subscribe\":\"fuzz/%s\","
                 "\"max_faults\":64,\"kv_max\":256,\"grants\":{\"publish\":\"#\","
                 "\"read\":\"#\",\"pins\":\"led\"}}", imports[i].name);
        NT_MSG("import %s", imports[i].name);
        NT_ASSERT(sbt_load(imports[i].name, settings, &mod) == NANO_OK);
        snprintf(topic, sizeof topic, "fuzz/%s", imports[i].name);
        for (int r = 0; r < ROUNDS; r++) {
            uint32_t args[8];
            for (int k = 0; k < 8; k++)
                args[k] = pick();
            sbt_pub_bytes(topic, args, sizeof args);
            sbt_pump();
            if (sbt_stats(imports[i].name).state == NANO_SANDBOX_QUARANTINED)
                NT_ASSERT(nano_sandbox_set_enabled(T.sb, imports[i].name,
                                                   true) == NANO_OK);
        }
        struct nano_sandbox_module_stats st = sbt_stats(imports[i].name);
        NT_EQ_INT(st.calls, ROUNDS);
        NT_EQ_INT(st.dropped, 0);
        /* Only imports may trap here, and only for bad pointers. */
        NT_EQ_INT(st.faults, st.traps[NANO_WASM_TRAP_HOST]);
        host_traps += st.faults;
        clean_calls += st.calls - st.faults;
    }
    NT_MSG("%s", "");
    NT_CHECK(host_traps > 0);        /* wild pointers were caught ... */
    NT_CHECK(clean_calls > 0);       /* ... and good ones got through */
    sbt_close();
    close(devnull);
}

NT_LIST = {
    { "fuel_stops_endless_loop", test_fuel_stops_endless_loop },
    { "deadline_stops_endless_loop", test_deadline_stops_endless_loop },
    { "out_of_bounds_traps", test_out_of_bounds_traps },
    { "endless_recursion_traps_on_depth", test_endless_recursion_traps_on_depth },
    { "quarantine_after_faults_others_unaffected",
      test_quarantine_after_faults_others_unaffected },
    { "no_grant_no_publish_no_pin", test_no_grant_no_publish_no_pin },
    { "grants_allow_publish_and_pin", test_grants_allow_publish_and_pin },
    { "imports_survive_random_arguments", test_imports_survive_random_arguments },
    { NULL, NULL }
};
