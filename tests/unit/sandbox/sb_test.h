/* SPDX-License-Identifier: MIT
 *
 * sb_test.h - shared by the sandbox unit tests: a loop, a bus and a
 * sandbox on a temporary state directory, modules assembled in the test
 * (tests/unit/wasm/wasm_asm.h plus data segments and a few more opcodes),
 * and helpers to publish, run the loop until idle and read results.
 *
 * Each test runs in its own process (nt.h), so the helpers keep their
 * state in one static struct and exit on setup failures.
 */
#ifndef SB_TEST_H
#define SB_TEST_H

#include <dirent.h>
#include <sys/stat.h>

#include "harness/nt.h"
#include "unit/wasm/wasm_asm.h"
#include "core/bus.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/msg.h"
#include "core/time.h"
#include "sandbox/sandbox.h"

/* opcodes wasm_asm.h does not name */
#define W_I64_LOAD      0x29
#define W_F64_LOAD      0x2b
#define W_I64_STORE     0x37
#define W_F64_CONST     0x44
#define W_F64_CONVERT_I32_S 0xb7
#define W_F64_CONVERT_I64_S 0xb9

/* i32.const with a two-byte LEB immediate (64..8191) */
#define W_I32_CONST2(v) W_I32_CONST, (uint8_t)(((v) & 0x7f) | 0x80), (uint8_t)((v) >> 7)

/* "() -> i32 1024" and "() -> i32 1024": the inbox at 1024, 1024 bytes */
static const uint8_t sbt_inbox_code[] = { W_I32_CONST2(1024), W_END };

struct sbt {
    struct nano_loop    *loop;
    struct nano_bus     *bus;
    struct nano_sandbox *sb;
    char                 dir[64];
};

static struct sbt T;

static inline void
sbt_open(void)
{
    snprintf(T.dir, sizeof T.dir, "/tmp/nano-sandbox-XXXXXX");
    NT_ASSERT(mkdtemp(T.dir) != NULL);
    NT_ASSERT(nano_loop_new(&T.loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(T.loop, &T.bus) == NANO_OK);
    NT_ASSERT(nano_sandbox_new(T.loop, T.bus, T.dir, &T.sb) == NANO_OK);
}

/* What a restart does: free the sandbox, make a new one, read the state. */
static inline void
sbt_reopen(void)
{
    struct nano_diag d = { 0 };

    nano_sandbox_free(T.sb);
    NT_ASSERT(nano_sandbox_new(T.loop, T.bus, T.dir, &T.sb) == NANO_OK);
    NT_CHECK(nano_sandbox_load_state(T.sb, &d) == NANO_OK);
}

static inline void
sbt_rm_rf(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    char p[1024];

    if (!dir) {
        unlink(path);
        return;
    }
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%.500s/%.255s", path, e->d_name);
        sbt_rm_rf(p);
    }
    closedir(dir);
    rmdir(path);
}

static inline void
sbt_close(void)
{
    nano_sandbox_free(T.sb);
    nano_bus_free(T.bus);
    nano_loop_free(T.loop);
    sbt_rm_rf(T.dir);
    nano_metrics_reset();
    NT_EQ_INT(nano_msg_live(), 0);
}

/* Run the loop until nothing is left to do. */
static inline void
sbt_pump(void)
{
    int idle = 0;

    for (int i = 0; i < 100000 && idle < 3; i++)
        idle = nano_loop_run_once(T.loop, 0) == 0 ? idle + 1 : 0;
}

static inline void
sbt_pub(const char *topic, double v)
{
    struct nano_value val = nano_value_num(v, NULL);

    NT_ASSERT(nano_bus_publish_value(T.bus, topic, &val) == NANO_OK);
}

static inline void
sbt_pub_bytes(const char *topic, const void *p, size_t n)
{
    struct nano_value val = nano_value_str(p, n);

    val.type = NANO_VT_BYTES;
    NT_ASSERT(nano_bus_publish_value(T.bus, topic, &val) == NANO_OK);
}

/* Latest number on topic, or NAN when nothing was published there. */
static inline double
sbt_latest(const char *topic)
{
    const struct nano_msg *m = nano_bus_latest(T.bus, topic);
    double v;

    if (!m || !nano_value_as_num(&m->v, &v))
        return NAN;
    return v;
}

/* Load a module with settings given as JSON (NULL: defaults). */
static inline int
sbt_load_d(const char *name, const char *settings, const struct wa_buf *mod,
           struct nano_diag *d)
{
    struct nano_cfg_doc *doc = NULL;
    int rc;

    if (settings)
        NT_ASSERT(nano_cfg_parse_json(settings, strlen(settings), "test", &doc,
                                      d) == NANO_OK);
    rc = nano_sandbox_load(T.sb, name, doc ? nano_cfg_root(doc) : NULL,
                           mod->d, mod->n, d);
    nano_cfg_free(doc);
    return rc;
}

static inline int
sbt_load(const char *name, const char *settings, const struct wa_buf *mod)
{
    struct nano_diag d = { 0 };
    int rc = sbt_load_d(name, settings, mod, &d);

    if (rc != NANO_OK)
        NT_MSG("load %s: %s", name, d.msg);
    return rc;
}

static inline struct nano_sandbox_module_stats
sbt_stats(const char *name)
{
    struct nano_sandbox_module_stats st;

    memset(&st, 0, sizeof st);
    NT_CHECK(nano_sandbox_module_stats(T.sb, name, &st) == NANO_OK);
    return st;
}

/* ---- data segments: wa_build() ends with the code section, so a data
 * section (id 11) appended after it is in order. */

/* Signed LEB128 (what i32.const takes). */
static inline void
sbt_sleb(struct wa_buf *b, int64_t v)
{
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
            wa_b(b, byte);
            return;
        }
        wa_b(b, byte | 0x80);
    }
}

struct sbt_seg {
    uint32_t    at;
    const char *s;
};

static inline void
sbt_data(struct wa_buf *out, const struct sbt_seg *segs, size_t n)
{
    struct wa_buf s;

    memset(&s, 0, sizeof s);
    wa_u(&s, n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(segs[i].s);
        wa_b(&s, 0);                          /* active, memory 0 */
        wa_b(&s, W_I32_CONST);
        sbt_sleb(&s, segs[i].at);
        wa_b(&s, W_END);
        wa_u(&s, len);
        wa_raw(&s, segs[i].s, len);
    }
    wa_section(out, 11, &s);
}

static inline bool
sbt_exists(const char *file)
{
    char p[512];
    struct stat st;

    snprintf(p, sizeof p, "%s/%s", T.dir, file);
    return stat(p, &st) == 0;
}

#endif
