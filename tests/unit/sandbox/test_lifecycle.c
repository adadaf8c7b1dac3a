/* SPDX-License-Identifier: MIT
 *
 * test_lifecycle.c - a module's life: load errors that leave nothing
 * behind, the key-value store across reload and restart, hot swap under a
 * stream of 10,000 messages (each handled exactly once across five
 * versions), a failed reload that keeps the old version and its store,
 * persistence and unload, the config section applied by difference, and
 * what on_message and the read import see.
 */
#include "sb_test.h"
#include "sandbox/sandbox_int.h"
#include "wasm/wasm.h"

#define ON_MESSAGE "(iiFii)"

/* ---- modules --------------------------------------------------------------------- */

/* on_message: n = kv["n"] + k; kv["n"] = n; publish("kv/n", n) */
static void
build_counter(struct wa_buf *out, int k)
{
    static const uint8_t head[] = {
        W_I32_CONST, 8, W_I32_CONST, 1, W_I32_CONST, 0, W_I32_CONST, 8,
        W_CALL, 0, W_DROP,
        W_I32_CONST, 0, W_I32_CONST, 0, W_I64_LOAD, 3, 0, W_I64_CONST,
    };
    static const uint8_t tail[] = {
        W_I64_ADD, W_I64_STORE, 3, 0,
        W_I32_CONST, 8, W_I32_CONST, 1, W_I32_CONST, 0, W_I32_CONST, 8,
        W_CALL, 1, W_DROP,
        W_I32_CONST, 16, W_I32_CONST, 4, W_I32_CONST, 0, W_I64_LOAD, 3, 0,
        W_F64_CONVERT_I64_S, W_CALL, 2, W_DROP, W_END
    };
    static const struct wa_import imp[] = {
        { "nano", "kv_get", "(iiii)i" },
        { "nano", "kv_set", "(iiii)i" },
        { "nano", "publish", "(iiF)i" },
    };
    static const struct sbt_seg data[] = { { 8, "n" }, { 16, "kv/n" } };
    static struct wa_buf code;
    struct wa_func f = { ON_MESSAGE, NULL, NULL, 0, "on_message" };
    struct wa_module m = { .imports = imp, .nimports = 3, .funcs = &f,
                           .nfuncs = 1, .memory = 1, .mem_min = 1 };

    memset(&code, 0, sizeof code);
    wa_raw(&code, head, sizeof head);
    sbt_sleb(&code, k);
    wa_raw(&code, tail, sizeof tail);
    f.code = code.d;
    f.len = code.n;
    wa_build(&m, out);
    sbt_data(out, data, 2);
}

#define COUNTER_SETTINGS "{\"subscribe\":\"in/#\",\"grants\":{\"publish\":\"kv/#\"}}"

static int
reload(const char *name, const struct wa_buf *mod, struct nano_diag *d)
{
    return nano_sandbox_reload(T.sb, name, mod->d, mod->n, d);
}

/* ---- key-value store ----------------------------------------------------------------- */

static void
test_kv_persists_across_reload_and_restart(void)
{
    struct wa_buf v1, v2;
    struct nano_diag d = { 0 };

    build_counter(&v1, 1);          /* +1 */
    build_counter(&v2, 1000);
    sbt_open();
    NT_ASSERT(sbt_load("count", COUNTER_SETTINGS, &v1) == NANO_OK);
    for (int i = 0; i < 3; i++)
        sbt_pub("in/x", i);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 3, 0);
    NT_EQ_INT(sbt_stats("count").kv_keys, 1);
    NT_EQ_INT(sbt_stats("count").kv_bytes, 9);

    NT_EQ_INT(reload("count", &v2, &d), NANO_OK);      /* same store */
    NT_EQ_INT(sbt_stats("count").version, 2);
    sbt_pub("in/x", 3);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 1003, 0);

    sbt_reopen();                                      /* from disk */
    NT_CHECK(sbt_exists("sandbox/count.kv"));
    NT_CHECK(sbt_exists("sandbox/count.wasm"));
    NT_EQ_INT(sbt_stats("count").state, NANO_SANDBOX_RUNNING);
    sbt_pub("in/x", 4);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 2003, 0);
    sbt_close();
}

/* on_message: kv_set("k", payload) and publish("rc", result) */
static void
test_kv_limits(void)
{
    static const uint8_t code[] = {
        W_I32_CONST, 16, W_I32_CONST, 2,
        W_I32_CONST, 8, W_I32_CONST, 1, W_LOCAL_GET, 3, W_LOCAL_GET, 4,
        W_CALL, 0, W_F64_CONVERT_I32_S, W_CALL, 1, W_DROP, W_END
    };
    static const struct wa_import imp[] = {
        { "nano", "kv_set", "(iiii)i" }, { "nano", "publish", "(iiF)i" },
    };
    static const struct sbt_seg data[] = { { 8, "k" }, { 16, "rc" } };
    struct wa_func f[] = {
        { ON_MESSAGE, NULL, code, sizeof code, "on_message" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox_size" },
    };
    struct wa_module m = { .imports = imp, .nimports = 2, .funcs = f,
                           .nfuncs = 3, .memory = 1, .mem_min = 1 };
    struct wa_buf mod;
    char big[100];

    wa_build(&m, &mod);
    sbt_data(&mod, data, 2);
    memset(big, 'x', sizeof big);
    sbt_open();
    NT_ASSERT(sbt_load("kv", "{\"subscribe\":\"in/#\",\"kv_max\":64,"
                       "\"grants\":{\"publish\":\"rc\"}}", &mod) == NANO_OK);
    sbt_pub_bytes("in/x", big, 60);            /* 1 + 60 <= 64 */
    sbt_pump();
    NT_NEAR(sbt_latest("rc"), SB_OK, 0);
    sbt_pub_bytes("in/x", big, 64);            /* 1 + 64 > 64 */
    sbt_pump();
    NT_NEAR(sbt_latest("rc"), SB_E_LIMIT, 0);
    NT_EQ_INT(sbt_stats("kv").kv_bytes, 61);   /* the old value stays */
    sbt_close();
}

/* ---- hot swap -------------------------------------------------------------------------- */

/* version k: publish("seen/<k>", value) */
static void
build_seen(struct wa_buf *out, int k)
{
    static const uint8_t code[] = {
        W_I32_CONST, 16, W_I32_CONST, 6, W_LOCAL_GET, 2, W_CALL, 0, W_DROP, W_END
    };
    static const struct wa_import imp[] = { { "nano", "publish", "(iiF)i" } };
    char topic[24];
    struct sbt_seg data[] = { { 16, topic } };
    struct wa_func f = { ON_MESSAGE, NULL, code, sizeof code, "on_message" };
    struct wa_module m = { .imports = imp, .nimports = 1, .funcs = &f,
                           .nfuncs = 1, .memory = 1, .mem_min = 1 };

    snprintf(topic, sizeof topic, "seen/%d", k);
    wa_build(&m, out);
    sbt_data(out, data, 1);
}

#define STREAM 10000
#define VERSIONS 5

struct seen {
    int by_value[STREAM];
    int by_version[VERSIONS + 1];
    int total, bad;
};

static void
on_seen(void *arg, const struct nano_msg *m)
{
    struct seen *s = arg;
    int k = m->topic[5] - '0';
    double v = m->v.u.num;

    s->total++;
    if (k < 1 || k > VERSIONS || v < 0 || v >= STREAM || v != (int)v) {
        s->bad++;
        return;
    }
    s->by_value[(int)v]++;
    s->by_version[k]++;
}

struct find_sub {
    const char           *name;
    struct nano_sub_stats st;
    bool                  found;
};

static void
find_sub(void *arg, const struct nano_sub *sub)
{
    struct find_sub *f = arg;

    if (!strcmp(nano_sub_name(sub), f->name)) {
        nano_sub_get_stats(sub, &f->st);
        f->found = true;
    }
}

static struct nano_sub_stats
module_queue(const char *name)
{
    char qname[64];
    struct find_sub f = { .name = qname };

    snprintf(qname, sizeof qname, "sandbox:%s", name);
    nano_bus_foreach_sub(T.bus, find_sub, &f);
    NT_CHECK(f.found);
    return f.st;
}

static void
test_hot_swap_under_stream_exactly_once(void)
{
    static struct seen seen;
    struct nano_sub_opts opts = { .name = "collector", .queue_cap = 65536 };
    struct wa_buf mods[VERSIONS + 1];
    struct nano_sub *sub;
    struct nano_diag d = { 0 };
    int v = 1, swaps_with_backlog = 0;

    for (int k = 1; k <= VERSIONS; k++)
        build_seen(&mods[k], k);
    sbt_open();
    NT_ASSERT(nano_bus_subscribe(T.bus, "seen/#", &opts, on_seen, &seen,
                                 &sub) == NANO_OK);
    NT_ASSERT(sbt_load("swap", "{\"subscribe\":\"in/#\",\"queue\":4096,"
                       "\"grants\":{\"publish\":\"seen/#\"}}", &mods[1]) == NANO_OK);
    for (int i = 0; i < STREAM; i++) {
        sbt_pub("in/n", i);
        if (i % 50 != 49)
            continue;
        if (i % 2000 == 1999 && v < VERSIONS) {
            /* Swap while messages wait in the queue. */
            swaps_with_backlog += module_queue("swap").queued > 0;
            NT_ASSERT(reload("swap", &mods[++v], &d) == NANO_OK);
        }
        nano_loop_run_once(T.loop, 0);     /* each handles up to a slice */
        nano_loop_run_once(T.loop, 0);
    }
    sbt_pump();

    NT_EQ_INT(v, VERSIONS);
    NT_EQ_INT(swaps_with_backlog, VERSIONS - 1);
    NT_EQ_INT(sbt_stats("swap").version, VERSIONS);
    NT_EQ_INT(sbt_stats("swap").calls, STREAM);
    NT_EQ_INT(module_queue("swap").dropped, 0);
    NT_EQ_INT(seen.bad, 0);
    NT_EQ_INT(seen.total, STREAM);
    for (int i = 0; i < STREAM; i++)
        if (seen.by_value[i] != 1) {
            NT_MSG("message %d handled %d times", i, seen.by_value[i]);
            NT_CHECK(seen.by_value[i] == 1);
            break;
        }
    for (int k = 1; k <= VERSIONS; k++) {
        NT_MSG("version %d handled %d", k, seen.by_version[k]);
        NT_CHECK(seen.by_version[k] > 0);
    }
    nano_bus_unsubscribe(T.bus, sub);
    sbt_close();
}

/* ---- failed reloads ---------------------------------------------------------------------- */

/* init: kv["n"] = 777, then trap (or return 1 when refuse) */
static void
build_bad_init(struct wa_buf *out, bool refuse)
{
    static const uint8_t trap_init[] = {
        W_I32_CONST, 0, W_I64_CONST, 0x89, 0x06, W_I64_STORE, 3, 0,
        W_I32_CONST, 8, W_I32_CONST, 1, W_I32_CONST, 0, W_I32_CONST, 8,
        W_CALL, 0, W_DROP, W_UNREACHABLE, W_END
    };
    static const uint8_t refuse_init[] = { W_I32_CONST, 1, W_END };
    static const uint8_t nothing[] = { W_END };
    static const struct wa_import imp[] = { { "nano", "kv_set", "(iiii)i" } };
    static const struct sbt_seg data[] = { { 8, "n" } };
    struct wa_func f[] = {
        { ON_MESSAGE, NULL, nothing, sizeof nothing, "on_message" },
        { "()", NULL, trap_init, sizeof trap_init, "init" },
    };
    struct wa_module m = { .imports = imp, .nimports = 1, .funcs = f,
                           .nfuncs = 2, .memory = 1, .mem_min = 1 };

    if (refuse) {
        f[1].sig = "()i";
        f[1].code = refuse_init;
        f[1].len = sizeof refuse_init;
    }
    wa_build(&m, out);
    sbt_data(out, data, 1);
}

static void
test_failed_reload_keeps_old_version(void)
{
    static const uint8_t junk[] = "not a module";
    struct wa_buf v1, trapping, refusing, garbage;
    struct nano_diag d = { 0 };

    build_counter(&v1, 1);
    build_bad_init(&trapping, false);
    build_bad_init(&refusing, true);
    memcpy(garbage.d, junk, sizeof junk);
    garbage.n = sizeof junk;
    sbt_open();
    NT_ASSERT(sbt_load("count", COUNTER_SETTINGS, &v1) == NANO_OK);
    sbt_pub("in/x", 0);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 1, 0);

    NT_EQ_INT(reload("count", &garbage, &d), -EINVAL);
    NT_CHECK(strstr(d.msg, "invalid module") != NULL);
    memset(&d, 0, sizeof d);
    NT_EQ_INT(reload("count", &trapping, &d), NANO_ETRAP);
    NT_MSG("%s", d.msg);
    NT_CHECK(strstr(d.msg, "init trapped (unreachable)") != NULL);
    memset(&d, 0, sizeof d);
    NT_EQ_INT(reload("count", &refusing, &d), -EINVAL);
    NT_CHECK(strstr(d.msg, "init refused to start (returned 1)") != NULL);
    NT_EQ_INT(reload("nosuch", &v1, &d), NANO_ENOTFOUND);

    /* The first version still runs, and the trapped init's kv_set of 777
     * was undone. */
    NT_EQ_INT(sbt_stats("count").version, 1);
    NT_EQ_INT(sbt_stats("count").state, NANO_SANDBOX_RUNNING);
    sbt_pub("in/x", 1);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 2, 0);
    sbt_close();
}

/* ---- load errors --------------------------------------------------------------------------- */

static void
expect_load_error(const char *name, const char *settings,
                  const struct wa_buf *mod, int rc, const char *text)
{
    struct nano_diag d = { 0 };
    struct nano_sandbox_module_stats st;

    NT_MSG("%s: %s", name, text);
    NT_EQ_INT(sbt_load_d(name, settings, mod, &d), rc);
    NT_MSG("%s: got '%s', want '%s'", name, d.msg, text);
    NT_CHECK(strstr(d.msg, text) != NULL);
    if (rc != NANO_EEXISTS)
        NT_EQ_INT(nano_sandbox_module_stats(T.sb, name, &st), NANO_ENOTFOUND);
}

static void
build_with(struct wa_buf *out, const struct wa_import *imp, size_t nimp,
           const char *msg_sig, const char *inbox_size_code)
{
    static const uint8_t nothing[] = { W_END };
    static const uint8_t small[] = { W_I32_CONST, 16, W_END };
    struct wa_func f[] = {
        { msg_sig ? msg_sig : "()", NULL, nothing, sizeof nothing,
          msg_sig ? "on_message" : "init" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox" },
        { "()i", NULL, inbox_size_code ? small : sbt_inbox_code,
          inbox_size_code ? sizeof small : sizeof sbt_inbox_code,
          "nano_inbox_size" },
    };
    struct wa_module m = { .imports = imp, .nimports = nimp, .funcs = f,
                           .nfuncs = 3, .memory = 1, .mem_min = 1 };

    wa_build(&m, out);
}

static void
test_load_errors_leave_nothing(void)
{
    static const struct wa_import unknown[] = { { "nano", "frobnicate", "()" } };
    static const struct wa_import env[] = { { "env", "memcpy", "(iii)i" } };
    static const struct wa_import wrong[] = { { "nano", "publish", "(ii)i" } };
    struct wa_buf ok, mod, big;
    struct wa_module huge = { .memory = 1, .mem_min = 32 };
    DIR *dir;
    struct dirent *e;
    int files = 0;

    build_counter(&ok, 1);
    sbt_open();
    expect_load_error("a", "{\"fual\":5}", &ok, NANO_ESCHEMA,
                      "did you mean 'fuel'");
    expect_load_error("bad name", NULL, &ok, NANO_ESCHEMA, "module name");
    expect_load_error("a", "{\"file\":\"x.wasm\"}", &ok, NANO_ESCHEMA,
                      "'file' is only for the config file");
    expect_load_error("a", "{\"fuel\":0,\"deadline\":0}", &ok, NANO_ESCHEMA,
                      "cannot both be 0");
    expect_load_error("a", "{\"subscribe\":\"a/#/b\"}", &ok, NANO_ESCHEMA,
                      "topic filter 'a/#/b'");
    build_with(&mod, unknown, 1, ON_MESSAGE, NULL);
    expect_load_error("a", NULL, &mod, -EINVAL, "no such host function");
    build_with(&mod, env, 1, ON_MESSAGE, NULL);
    expect_load_error("a", NULL, &mod, -EINVAL, "only the imports of module 'nano'");
    build_with(&mod, wrong, 1, ON_MESSAGE, NULL);
    expect_load_error("a", NULL, &mod, -EINVAL, "has type (ii)i, expected (iiF)i");
    build_with(&mod, NULL, 0, "(i)", NULL);
    expect_load_error("a", NULL, &mod, -EINVAL,
                      "export 'on_message' has type (i), expected (iiFii)");
    build_with(&mod, NULL, 0, NULL, NULL);
    expect_load_error("a", "{\"subscribe\":\"in/#\"}", &mod, -EINVAL,
                      "exports no on_message");
    build_with(&mod, NULL, 0, ON_MESSAGE, "small");
    expect_load_error("a", NULL, &mod, -EINVAL, "must hold at least 256 bytes");
    wa_build(&huge, &big);
    expect_load_error("a", NULL, &big, -E2BIG, "memory ceiling of 1024 KiB");
    NT_ASSERT(sbt_load("b", "{\"memory\":\"2MiB\"}", &big) == NANO_OK);
    memcpy(mod.d, "\0asm\1\0\0\0\1", 9);
    mod.n = 9;
    expect_load_error("a", NULL, &mod, -EINVAL, "invalid module at byte");
    expect_load_error("b", NULL, &ok, NANO_EEXISTS, "already loaded");

    /* only b's bytes (and the overlay) are in the state directory */
    dir = opendir(T.dir);
    NT_ASSERT(dir);
    while ((e = readdir(dir)))
        files += e->d_name[0] != '.';
    closedir(dir);
    NT_EQ_INT(files, 2);              /* sandbox.json and sandbox/ */
    NT_CHECK(sbt_exists("sandbox/b.wasm"));
    NT_CHECK(!sbt_exists("sandbox/a.wasm"));
    sbt_close();
}

/* ---- persistence -------------------------------------------------------------------------- */

static void
test_persisted_across_restart_and_unload_forgets(void)
{
    struct wa_buf v1;

    build_counter(&v1, 1);
    sbt_open();
    NT_ASSERT(sbt_load("a", COUNTER_SETTINGS, &v1) == NANO_OK);
    NT_ASSERT(sbt_load("b", COUNTER_SETTINGS, &v1) == NANO_OK);
    NT_EQ_INT(nano_sandbox_set_enabled(T.sb, "b", false), NANO_OK);
    sbt_pub("in/x", 0);
    sbt_pump();
    NT_EQ_INT(sbt_stats("a").calls, 1);
    NT_EQ_INT(sbt_stats("b").calls, 0);
    NT_EQ_INT(sbt_stats("b").dropped, 1);

    sbt_reopen();
    NT_EQ_INT(sbt_stats("a").state, NANO_SANDBOX_RUNNING);
    NT_EQ_INT(sbt_stats("b").state, NANO_SANDBOX_DISABLED);
    NT_EQ_INT(nano_sandbox_unload(T.sb, "a"), NANO_OK);
    NT_EQ_INT(nano_sandbox_unload(T.sb, "a"), NANO_ENOTFOUND);
    NT_CHECK(!sbt_exists("sandbox/a.wasm"));
    NT_CHECK(!sbt_exists("sandbox/a.kv"));

    sbt_reopen();
    struct nano_sandbox_module_stats st;
    NT_EQ_INT(nano_sandbox_module_stats(T.sb, "a", &st), NANO_ENOTFOUND);
    NT_EQ_INT(sbt_stats("b").state, NANO_SANDBOX_DISABLED);
    NT_EQ_INT(nano_sandbox_set_enabled(T.sb, "b", true), NANO_OK);
    sbt_pub("in/x", 0);
    sbt_pump();
    NT_EQ_INT(sbt_stats("b").calls, 1);
    sbt_close();
}

static void
test_corrupt_module_file_is_failed_not_run(void)
{
    struct wa_buf v1;
    char path[256];
    FILE *f;

    build_counter(&v1, 1);
    sbt_open();
    NT_ASSERT(sbt_load("a", COUNTER_SETTINGS, &v1) == NANO_OK);
    nano_sandbox_free(T.sb);
    T.sb = NULL;
    snprintf(path, sizeof path, "%s/sandbox/a.wasm", T.dir);
    f = fopen(path, "r+b");
    NT_ASSERT(f);
    fseek(f, -3, SEEK_END);
    fputc('X', f);                      /* a flipped byte on the SD card */
    fclose(f);
    NT_ASSERT(nano_sandbox_new(T.loop, T.bus, T.dir, &T.sb) == NANO_OK);
    struct nano_diag d = { 0 };
    NT_EQ_INT(nano_sandbox_load_state(T.sb, &d), NANO_OK);
    NT_EQ_INT(sbt_stats("a").state, NANO_SANDBOX_FAILED);
    NT_EQ_INT(nano_sandbox_set_enabled(T.sb, "a", true), -EINVAL);
    NT_CHECK(sbt_exists("sandbox/a.wasm.corrupt"));
    /* a reload repairs it */
    NT_EQ_INT(reload("a", &v1, &d), NANO_OK);
    NT_EQ_INT(sbt_stats("a").state, NANO_SANDBOX_RUNNING);
    sbt_close();
}

/* ---- config --------------------------------------------------------------------------------- */

static void
write_file(const char *name, const void *p, size_t n)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", T.dir, name);
    f = fopen(path, "wb");
    NT_ASSERT(f && fwrite(p, 1, n, f) == n);
    fclose(f);
}

static struct nano_cfg_doc *
yaml(const char *text)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { 0 };

    NT_ASSERT(nano_cfg_parse_yaml(text, strlen(text), "nano.yaml", &doc, &d)
              == NANO_OK);
    return doc;
}

static int
apply(struct nano_cfg_doc *doc, struct nano_diag *d)
{
    char cfg[256];
    const struct nano_cfg_node *section = nano_cfg_get(nano_cfg_root(doc),
                                                       "sandbox");
    int rc;

    snprintf(cfg, sizeof cfg, "%s/nano.yaml", T.dir);
    rc = nano_sandbox_validate(section, cfg, d);
    if (rc == NANO_OK)
        rc = nano_sandbox_apply_config(T.sb, section, cfg);
    return rc;
}

static void
test_config_applied_by_difference(void)
{
    static const char base[] =
        "sandbox:\n"
        "  c1:\n"
        "    file: c1.wasm\n"
        "    subscribe: in/#\n"
        "    grants: {publish: \"kv/#\"}\n";
    static const char changed[] =
        "sandbox:\n"
        "  c1:\n"
        "    file: c1.wasm\n"
        "    subscribe: [in/#, more/#]\n"
        "    grants: {publish: \"kv/#\"}\n";
    struct nano_cfg_doc *doc, *doc2, *none;
    struct nano_diag d = { 0 };
    struct nano_sandbox_module_stats st;
    struct wa_buf v1, v2;

    build_counter(&v1, 1);
    build_counter(&v2, 1000);
    sbt_open();
    write_file("c1.wasm", v1.d, v1.n);
    doc = yaml(base);
    NT_EQ_INT(apply(doc, &d), NANO_OK);
    NT_EQ_INT(sbt_stats("c1").state, NANO_SANDBOX_RUNNING);
    sbt_pub("in/x", 0);
    sbt_pub("in/x", 0);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 2, 0);

    NT_EQ_INT(apply(doc, &d), NANO_OK);          /* unchanged: untouched */
    NT_EQ_INT(sbt_stats("c1").version, 1);

    write_file("c1.wasm", v2.d, v2.n);           /* new bytes: swapped */
    NT_EQ_INT(apply(doc, &d), NANO_OK);
    NT_EQ_INT(sbt_stats("c1").version, 2);
    sbt_pub("in/x", 0);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 1002, 0);

    doc2 = yaml(changed);                        /* new settings: swapped */
    NT_EQ_INT(apply(doc2, &d), NANO_OK);
    nano_cfg_free(doc);                          /* nothing points into it */
    NT_EQ_INT(sbt_stats("c1").version, 3);
    sbt_pub("more/x", 0);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 2002, 0);

    write_file("c1.wasm", "junk", 4);            /* a bad edit: old stays */
    NT_EQ_INT(nano_sandbox_apply_config(T.sb, nano_cfg_get(nano_cfg_root(doc2),
                                        "sandbox"), NULL), NANO_OK);
    NT_EQ_INT(sbt_stats("c1").version, 3);
    NT_EQ_INT(sbt_stats("c1").state, NANO_SANDBOX_RUNNING);

    none = yaml("log: {level: info}\n");         /* gone from the config */
    NT_EQ_INT(apply(none, &d), NANO_OK);
    NT_EQ_INT(nano_sandbox_module_stats(T.sb, "c1", &st), NANO_ENOTFOUND);
    nano_cfg_free(doc2);
    nano_cfg_free(none);
    sbt_close();
}

static void
test_config_module_reloaded_or_unloaded_through_api(void)
{
    static const char base[] =
        "sandbox:\n"
        "  c1:\n"
        "    file: c1.wasm\n"
        "    subscribe: in/#\n"
        "    grants: {publish: \"kv/#\"}\n";
    struct nano_cfg_doc *doc, *none;
    struct nano_diag d = { 0 };
    struct nano_sandbox_module_stats st;
    struct wa_buf v1, v2;

    build_counter(&v1, 1);
    build_counter(&v2, 1000);
    sbt_open();
    write_file("c1.wasm", v1.d, v1.n);
    doc = yaml(base);
    NT_EQ_INT(apply(doc, &d), NANO_OK);
    /* reloaded through the API, it shadows the config entry */
    NT_EQ_INT(reload("c1", &v2, &d), NANO_OK);
    sbt_reopen();
    NT_EQ_INT(apply(doc, &d), NANO_OK);
    sbt_pub("in/x", 0);
    sbt_pump();
    NT_NEAR(sbt_latest("kv/n"), 1000, 0);        /* v2, from the state dir */
    /* unloaded through the API, it stays unloaded */
    NT_EQ_INT(nano_sandbox_unload(T.sb, "c1"), NANO_OK);
    NT_EQ_INT(apply(doc, &d), NANO_OK);
    NT_EQ_INT(nano_sandbox_module_stats(T.sb, "c1", &st), NANO_ENOTFOUND);
    sbt_reopen();
    NT_EQ_INT(apply(doc, &d), NANO_OK);
    NT_EQ_INT(nano_sandbox_module_stats(T.sb, "c1", &st), NANO_ENOTFOUND);
    /* removed from the config and added again: it loads again */
    none = yaml("log: {level: info}\n");
    NT_EQ_INT(apply(none, &d), NANO_OK);
    NT_EQ_INT(apply(doc, &d), NANO_OK);
    NT_EQ_INT(sbt_stats("c1").state, NANO_SANDBOX_RUNNING);
    nano_cfg_free(none);
    nano_cfg_free(doc);
    sbt_close();
}

static void
test_config_errors_have_positions(void)
{
    struct nano_cfg_doc *doc;
    struct nano_diag d = { 0 };
    struct wa_buf v1;

    build_counter(&v1, 1);
    sbt_open();
    write_file("good.wasm", v1.d, v1.n);
    write_file("junk.wasm", "junk", 4);

    doc = yaml("sandbox:\n  c1:\n    file: good.wasm\n    subscibe: in/#\n");
    NT_EQ_INT(apply(doc, &d), NANO_ESCHEMA);
    NT_EQ_INT(d.line, 4);
    NT_CHECK(strstr(d.msg, "did you mean 'subscribe'") != NULL);
    nano_cfg_free(doc);

    memset(&d, 0, sizeof d);
    doc = yaml("sandbox:\n  c1:\n    subscribe: in/#\n");
    NT_EQ_INT(apply(doc, &d), NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "missing required key 'file'") != NULL);
    nano_cfg_free(doc);

    memset(&d, 0, sizeof d);
    doc = yaml("sandbox:\n  c1:\n    file: nowhere.wasm\n");
    NT_EQ_INT(apply(doc, &d), NANO_ESCHEMA);
    NT_EQ_INT(d.line, 3);
    NT_EQ_INT(d.col, 11);
    NT_CHECK(strstr(d.msg, "nowhere.wasm': No such file") != NULL);
    nano_cfg_free(doc);

    memset(&d, 0, sizeof d);
    doc = yaml("sandbox:\n  c1:\n    file: junk.wasm\n");
    NT_EQ_INT(apply(doc, &d), NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "invalid module") != NULL);
    nano_cfg_free(doc);

    memset(&d, 0, sizeof d);
    doc = yaml("sandbox:\n  bad.name:\n    file: good.wasm\n");
    NT_EQ_INT(apply(doc, &d), NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "module name 'bad.name'") != NULL);
    nano_cfg_free(doc);

    memset(&d, 0, sizeof d);
    doc = yaml("sandbox:\n  c1:\n    file: good.wasm\n    memory: lots\n");
    NT_EQ_INT(apply(doc, &d), NANO_ESCHEMA);
    NT_EQ_INT(d.line, 4);
    NT_CHECK(strstr(d.msg, "'memory' expects a size") != NULL);
    nano_cfg_free(doc);
    sbt_close();
}

/* ---- what on_message sees ---------------------------------------------------------------------- */

/* publish info = msg_info(), plen = payload_len, tlen = topic_len;
 * publish_text echo = payload, topic = topic */
static void
build_echo(struct wa_buf *out)
{
    static const uint8_t code[] = {
        W_I32_CONST, 16, W_I32_CONST, 4, W_CALL, 2, W_F64_CONVERT_I32_S,
        W_CALL, 0, W_DROP,
        W_I32_CONST, 24, W_I32_CONST, 4, W_LOCAL_GET, 4, W_F64_CONVERT_I32_S,
        W_CALL, 0, W_DROP,
        W_I32_CONST, 40, W_I32_CONST, 4, W_LOCAL_GET, 1, W_F64_CONVERT_I32_S,
        W_CALL, 0, W_DROP,
        W_I32_CONST, 32, W_I32_CONST, 4, W_LOCAL_GET, 3, W_LOCAL_GET, 4,
        W_CALL, 1, W_DROP,
        W_I32_CONST, 48, W_I32_CONST, 5, W_LOCAL_GET, 0, W_LOCAL_GET, 1,
        W_CALL, 1, W_DROP,
        W_END
    };
    static const struct wa_import imp[] = {
        { "nano", "publish", "(iiF)i" },
        { "nano", "publish_text", "(iiii)i" },
        { "nano", "msg_info", "()i" },
    };
    static const struct sbt_seg data[] = {
        { 16, "info" }, { 24, "plen" }, { 32, "echo" }, { 40, "tlen" },
        { 48, "topic" },
    };
    struct wa_func f[] = {
        { ON_MESSAGE, NULL, code, sizeof code, "on_message" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox_size" },
    };
    struct wa_module m = { .imports = imp, .nimports = 3, .funcs = f,
                           .nfuncs = 3, .memory = 1, .mem_min = 1 };

    wa_build(&m, out);
    sbt_data(out, data, NANO_ARRAY_LEN(data));
}

static const char *
latest_text(const char *topic)
{
    static char buf[2048];
    const struct nano_msg *m = nano_bus_latest(T.bus, topic);

    if (!m || m->v.type != NANO_VT_STR)
        return "(none)";
    snprintf(buf, sizeof buf, "%.*s", (int)m->v.u.s.len, m->v.u.s.p);
    return buf;
}

static void
test_on_message_sees_topic_payload_and_info(void)
{
    struct nano_value v;
    struct wa_buf mod;
    char big[2000];

    build_echo(&mod);
    sbt_open();
    NT_ASSERT(sbt_load("echo", "{\"subscribe\":\"in/#\",\"grants\":"
                       "{\"publish\":[\"info\",\"plen\",\"tlen\",\"echo\","
                       "\"topic\"]}}", &mod) == NANO_OK);
    v = nano_value_str("hello", 5);
    NT_ASSERT(nano_bus_publish_value(T.bus, "in/text", &v) == NANO_OK);
    sbt_pump();
    NT_EQ_STR(latest_text("echo"), "hello");
    NT_EQ_STR(latest_text("topic"), "in/text");
    NT_NEAR(sbt_latest("info"), NANO_VT_STR, 0);
    NT_NEAR(sbt_latest("plen"), 5, 0);
    NT_NEAR(sbt_latest("tlen"), 7, 0);

    sbt_pub("in/n", 21.5);
    sbt_pump();
    NT_NEAR(sbt_latest("info"), NANO_VT_NUM, 0);
    NT_NEAR(sbt_latest("plen"), 0, 0);

    v = nano_value_str("{\"a\":1}", 7);
    v.type = NANO_VT_JSON;
    v.quality = NANO_Q_STALE;
    NT_ASSERT(nano_bus_publish_value(T.bus, "in/j", &v) == NANO_OK);
    sbt_pump();
    NT_NEAR(sbt_latest("info"), NANO_VT_JSON | NANO_Q_STALE << 8, 0);
    NT_EQ_STR(latest_text("echo"), "{\"a\":1}");

    memset(big, 'b', sizeof big);              /* larger than the inbox */
    sbt_pub_bytes("in/big", big, sizeof big);
    sbt_pump();
    NT_NEAR(sbt_latest("info"), NANO_VT_BYTES | 1 << 16, 0);
    NT_NEAR(sbt_latest("plen"), 0, 0);
    NT_EQ_INT(sbt_stats("echo").truncated, 1);
    NT_EQ_INT(sbt_stats("echo").faults, 0);
    sbt_close();
}

/* read(payload) -> publish rc and the value read */
static void
test_read_resolves_and_checks_grants(void)
{
    static const uint8_t code[] = {
        W_I32_CONST, 16, W_I32_CONST, 2,
        W_LOCAL_GET, 3, W_LOCAL_GET, 4, W_I32_CONST, 8, W_CALL, 0,
        W_F64_CONVERT_I32_S, W_CALL, 1, W_DROP,
        W_I32_CONST, 24, W_I32_CONST, 3, W_I32_CONST, 8, W_F64_LOAD, 3, 0,
        W_CALL, 1, W_DROP, W_END
    };
    static const struct wa_import imp[] = {
        { "nano", "read", "(iii)i" }, { "nano", "publish", "(iiF)i" },
    };
    static const struct sbt_seg data[] = { { 16, "rc" }, { 24, "val" } };
    static const struct { const char *name; int rc; double val; } cases[] = {
        { "sensors/boiler/temperature", SB_OK, 70 },
        { "boiler.temperature", SB_OK, 70 },
        { "level", SB_OK, 3 },
        { "temperature", SB_E_AMBIGUOUS, 0 },
        { "pressure", SB_E_NOTFOUND, 0 },
        { "sensors/boiler/pressure", SB_E_NOTFOUND, 0 },
        { "other/topic", SB_E_DENIED, 0 },
        { "bad/+/x", SB_E_INVAL, 0 },
        { "a.b.c", SB_E_INVAL, 0 },
        { "tank.mode", SB_E_TYPE, 0 },
        { "q/x", SB_E_TYPE, 0 },      /* its own subscription: readable */
    };
    struct wa_func f[] = {
        { ON_MESSAGE, NULL, code, sizeof code, "on_message" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox" },
        { "()i", NULL, sbt_inbox_code, sizeof sbt_inbox_code, "nano_inbox_size" },
    };
    struct wa_module m = { .imports = imp, .nimports = 2, .funcs = f,
                           .nfuncs = 3, .memory = 1, .mem_min = 1 };
    struct nano_value v;
    struct wa_buf mod;

    wa_build(&m, &mod);
    sbt_data(&mod, data, 2);
    sbt_open();
    sbt_pub("sensors/boiler/temperature", 70);
    sbt_pub("sensors/tank/temperature", 20);
    sbt_pub("sensors/tank/level", 3);
    sbt_pub("other/topic", 1);
    v = nano_value_str("auto", 4);
    NT_ASSERT(nano_bus_publish_value(T.bus, "sensors/tank/mode", &v) == NANO_OK);
    NT_ASSERT(sbt_load("reader", "{\"subscribe\":\"q/#\",\"grants\":{\"read\":"
                       "\"sensors/#\",\"publish\":[\"rc\",\"val\"]}}", &mod)
              == NANO_OK);
    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        v = nano_value_str(cases[i].name, strlen(cases[i].name));
        NT_ASSERT(nano_bus_publish_value(T.bus, "q/x", &v) == NANO_OK);
        sbt_pump();
        NT_MSG("read %s", cases[i].name);
        NT_NEAR(sbt_latest("rc"), cases[i].rc, 0);
        if (cases[i].rc == SB_OK)
            NT_NEAR(sbt_latest("val"), cases[i].val, 0);
    }
    NT_EQ_INT(sbt_stats("reader").denied, 1);
    sbt_close();
}

NT_LIST = {
    { "kv_persists_across_reload_and_restart",
      test_kv_persists_across_reload_and_restart },
    { "kv_limits", test_kv_limits },
    { "hot_swap_under_stream_exactly_once",
      test_hot_swap_under_stream_exactly_once },
    { "failed_reload_keeps_old_version", test_failed_reload_keeps_old_version },
    { "load_errors_leave_nothing", test_load_errors_leave_nothing },
    { "persisted_across_restart_and_unload_forgets",
      test_persisted_across_restart_and_unload_forgets },
    { "corrupt_module_file_is_failed_not_run",
      test_corrupt_module_file_is_failed_not_run },
    { "config_applied_by_difference", test_config_applied_by_difference },
    { "config_module_reloaded_or_unloaded_through_api",
      test_config_module_reloaded_or_unloaded_through_api },
    { "config_errors_have_positions", test_config_errors_have_positions },
    { "on_message_sees_topic_payload_and_info",
      test_on_message_sees_topic_payload_and_info },
    { "read_resolves_and_checks_grants", test_read_resolves_and_checks_grants },
    { NULL, NULL }
};
