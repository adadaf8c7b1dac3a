/* SPDX-License-Identifier: MIT
 *
 * host.c - the imports of module "nano": what a module can do to the
 * world.  docs/wasm-abi.md is the contract; SB_IMPORTS (sandbox_int.h)
 * lists the functions with their signatures.
 *
 * Every function follows the same order, so that nothing a module passes
 * can hurt the daemon:
 *   1. find the calling module (the instance's user pointer; there is none
 *      while the start function runs, which therefore cannot use imports);
 *   2. bounds-check every pointer/length pair against the caller's linear
 *      memory: one that does not lie inside it traps the call (kind
 *      "host"), because a module that computes wild pointers is broken and
 *      its fault must be counted;
 *   3. validate contents (topic syntax, key characters, JSON), answering a
 *      negative SB_E_* code for bad ones;
 *   4. check grants (deny by default) and limits, answering SB_E_DENIED /
 *      SB_E_LIMIT and counting;
 *   5. act.  Nothing here calls back into wasm, and everything the host
 *      keeps is copied out of linear memory first (a pointer into it is
 *      valid only until the next call into the instance, which may grow or
 *      move the memory).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/bus.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/msg.h"
#include "core/time.h"
#include "core/topic.h"
#include "hal/pins.h"
#include "sandbox/sandbox_int.h"

#define LOG_TEXT_MAX 512

/* ---- helpers ------------------------------------------------------------------ */

/* The calling module, or NULL (and a trap message) in the start function. */
static struct sb_module *
caller(struct nano_wasm_call_ctx *ctx)
{
    struct sb_module *m = nano_wasm_ctx_user(ctx);

    if (!m)
        nano_wasm_ctx_trap(ctx, "imports of 'nano' are not available in the "
                           "start function; call them from init");
    return m;
}

/* [ptr, ptr+len) in the caller's memory, or NULL after setting the trap
 * message.  A zero length is valid anywhere (nothing is read). */
static void *
guest(struct nano_wasm_call_ctx *ctx, uint32_t ptr, uint32_t len,
      const char *fn, const char *what)
{
    static char empty[1];
    void *p;

    if (len == 0)
        return empty;
    p = nano_wasm_ctx_mem(ctx, ptr, len);
    if (!p)
        nano_wasm_ctx_trap(ctx, "%s: %s at %u, %u bytes, is outside the "
                           "module's memory", fn, what, ptr, len);
    return p;
}

static int
ret(union nano_wasm_val *results, int32_t code)
{
    results[0].i32 = code;
    return 0;
}

void
sb_denied(struct sb_module *m)
{
    m->st.denied++;
    nano_metric_inc(m->m_denied);
}

/* Log a denial when the count is a power of two: the first is always
 * seen, a module that keeps trying cannot flood the log. */
static int32_t
deny(struct sb_module *m, const char *what, const char *target)
{
    sb_denied(m);
    if ((m->st.denied & (m->st.denied - 1)) == 0)
        nano_logf(NANO_LOG_WARN, SB_LOG, "module '%s': %s '%s' denied (no "
                  "grant; %llu denied so far)", m->name, what, target,
                  (unsigned long long)m->st.denied);
    return SB_E_DENIED;
}

static bool
match_any(const char *const *filters, unsigned n, const char *topic)
{
    for (unsigned i = 0; i < n; i++)
        if (nano_topic_match(filters[i], topic))
            return true;
    return false;
}

/* Copy a topic out of guest memory into out (NANO_TOPIC_MAX + 1 bytes).
 * Returns SB_OK, SB_E_INVAL, or 1 when it trapped. */
static int
take_topic(struct nano_wasm_call_ctx *ctx, uint32_t ptr, uint32_t len,
           const char *fn, char *out)
{
    const char *p = guest(ctx, ptr, len, fn, "topic");

    if (!p)
        return 1;
    if (len == 0 || len > NANO_TOPIC_MAX || memchr(p, '\0', len))
        return SB_E_INVAL;
    memcpy(out, p, len);
    out[len] = '\0';
    if (nano_topic_check(out, NULL) != NANO_OK)
        return SB_E_INVAL;
    return SB_OK;
}

/* ---- publish ------------------------------------------------------------------- */

/* The cheap checks first (topic, grant, per-message limit), so a module
 * cannot make the host parse JSON it is not allowed to publish anyway.
 * Returns SB_OK with the topic in out, a negative code, or 1 after a trap. */
static int
publish_check(struct nano_wasm_call_ctx *ctx, struct sb_module *m,
              const union nano_wasm_val *args, const char *fn, char *out)
{
    int rc = take_topic(ctx, args[0].u32, args[1].u32, fn, out);

    if (rc != SB_OK)
        return rc;
    if (!match_any(m->grants->pub, m->grants->npub, out))
        return deny(m, "publish to", out);
    if (m->call_publishes >= m->grants->max_publish)
        return SB_E_LIMIT;
    return SB_OK;
}

static int
publish_value(struct sb_module *m, const char *topic,
              const struct nano_value *v, union nano_wasm_val *results)
{
    int rc = nano_bus_publish_value(m->sb->bus, topic, v);

    if (rc == -EINVAL)
        return ret(results, SB_E_INVAL);
    if (rc != NANO_OK)
        return ret(results, SB_E_UNAVAIL);  /* topic table full, no memory */
    m->call_publishes++;
    m->st.published++;
    nano_metric_inc(m->m_published);
    return ret(results, SB_OK);
}

static int
host_publish(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
             union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    struct nano_value v = nano_value_num(args[2].f64, NULL);
    char topic[NANO_TOPIC_MAX + 1];
    int rc;

    (void)user;
    if (!m || (rc = publish_check(ctx, m, args, "publish", topic)) > 0)
        return -1;
    if (rc < 0)
        return ret(results, rc);
    return publish_value(m, topic, &v, results);
}

static int
host_publish_text(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
                  union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    struct nano_value v = { .type = NANO_VT_STR };
    char topic[NANO_TOPIC_MAX + 1];
    const char *text;
    int rc;

    (void)user;
    if (!m || !(text = guest(ctx, args[2].u32, args[3].u32, "publish_text", "text")))
        return -1;
    if ((rc = publish_check(ctx, m, args, "publish_text", topic)) > 0)
        return -1;
    if (rc < 0)
        return ret(results, rc);
    if (args[3].u32 > NANO_PAYLOAD_MAX)
        return ret(results, SB_E_INVAL);
    v.u.s.p = text;                      /* the message copies the bytes */
    v.u.s.len = args[3].u32;
    return publish_value(m, topic, &v, results);
}

static int
host_publish_json(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
                  union nano_wasm_val *results, void *user)
{
    /* Consumers insert JSON values into API output as they are, so only
     * text that parses as an object or array may go on the bus. */
    static const struct nano_cfg_limits lim = {
        .max_depth = 16, .max_nodes = 4096, .max_bytes = NANO_PAYLOAD_MAX,
    };
    struct sb_module *m = caller(ctx);
    struct nano_value v = { .type = NANO_VT_JSON };
    struct nano_cfg_doc *doc = NULL;
    char topic[NANO_TOPIC_MAX + 1];
    const char *json;
    enum nano_cfg_kind kind;
    uint32_t len = args[3].u32;
    int rc;

    (void)user;
    if (!m || !(json = guest(ctx, args[2].u32, len, "publish_json", "json")))
        return -1;
    if ((rc = publish_check(ctx, m, args, "publish_json", topic)) > 0)
        return -1;
    if (rc < 0)
        return ret(results, rc);
    if (len == 0 || len > NANO_PAYLOAD_MAX)
        return ret(results, SB_E_INVAL);
    if (nano_cfg_parse_json_ex(json, len, "module", &lim, &doc, NULL) != NANO_OK)
        return ret(results, SB_E_INVAL);
    kind = nano_cfg_root(doc)->kind;
    nano_cfg_free(doc);
    if (kind != NANO_CFG_MAP && kind != NANO_CFG_LIST)
        return ret(results, SB_E_INVAL);
    v.u.s.p = json;
    v.u.s.len = len;
    return publish_value(m, topic, &v, results);
}

/* ---- log and time ---------------------------------------------------------------- */

static int
host_log(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
         union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    int32_t level = args[0].i32;
    uint32_t len = args[2].u32;
    const char *text;
    uint64_t now;

    (void)user;
    if (!m || !(text = guest(ctx, args[1].u32, len, "log", "text")))
        return -1;
    if (level < NANO_LOG_ERR || level > NANO_LOG_DEBUG)
        return ret(results, SB_E_INVAL);
    if (!nano_log_enabled((enum nano_log_level)level))
        return ret(results, SB_OK);
    /* Token bucket: SB_LOG_BURST lines at once, SB_LOG_PER_S after. */
    now = nano_time_mono_ns();
    m->log_tokens += (double)(now - m->log_refill_ns) / 1e9 * SB_LOG_PER_S;
    if (m->log_tokens > SB_LOG_BURST)
        m->log_tokens = SB_LOG_BURST;
    m->log_refill_ns = now;
    if (m->log_tokens < 1) {
        m->log_dropped++;
        return ret(results, SB_E_LIMIT);
    }
    m->log_tokens -= 1;
    if (len > LOG_TEXT_MAX)
        len = LOG_TEXT_MAX;
    if (m->log_dropped) {
        nano_logf((enum nano_log_level)level, SB_LOG, "%s: %.*s (%llu lines "
                  "dropped before this one)", m->name, (int)len, text,
                  (unsigned long long)m->log_dropped);
        m->log_dropped = 0;
    } else {
        nano_logf((enum nano_log_level)level, SB_LOG, "%s: %.*s", m->name,
                  (int)len, text);
    }
    return ret(results, SB_OK);
}

static int
host_time_wall_us(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
                  union nano_wasm_val *results, void *user)
{
    (void)ctx; (void)args; (void)user;
    results[0].i64 = (int64_t)(nano_time_wall_ns() / NANO_NS_PER_US);
    return 0;
}

static int
host_time_mono_us(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
                  union nano_wasm_val *results, void *user)
{
    (void)ctx; (void)args; (void)user;
    results[0].i64 = (int64_t)(nano_time_mono_ns() / NANO_NS_PER_US);
    return 0;
}

/* ---- latest values ------------------------------------------------------------------ */

struct unique {
    char     topic[NANO_TOPIC_MAX + 1];
    unsigned count;
};

static void
count_topic(void *arg, const struct nano_msg *msg)
{
    struct unique *u = arg;

    if (u->count++ == 0)
        snprintf(u->topic, sizeof u->topic, "%s", msg->topic);
}

/* name (a topic, "instance.quantity" or a bare quantity) -> topic.
 * Returns SB_OK or a negative SB_E_* code. */
static int
resolve(struct sb_module *m, const char *name, char *topic)
{
    const char *dot = strchr(name, '.');
    struct unique u = { .count = 0 };
    char filter[NANO_TOPIC_MAX + 16];

    if (strchr(name, '/')) {
        if (nano_topic_check(name, NULL) != NANO_OK)
            return SB_E_INVAL;
        snprintf(topic, NANO_TOPIC_MAX + 1, "%s", name);
        return SB_OK;
    }
    if (strpbrk(name, "+#"))
        return SB_E_INVAL;
    if (dot) {
        if (dot == name || !dot[1] || strchr(dot + 1, '.') ||
            strlen(name) + 8 > NANO_TOPIC_MAX)
            return SB_E_INVAL;
        snprintf(topic, NANO_TOPIC_MAX + 1, "sensors/%.*s/%s",
                 (int)(dot - name), name, dot + 1);
        return SB_OK;
    }
    snprintf(filter, sizeof filter, "sensors/+/%s", name);
    nano_bus_foreach_latest(m->sb->bus, filter, count_topic, &u);
    if (u.count == 0)
        return SB_E_NOTFOUND;
    if (u.count > 1)
        return SB_E_AMBIGUOUS;
    memcpy(topic, u.topic, sizeof u.topic);
    return SB_OK;
}

/* Look up the latest message a module may read.  Returns SB_OK with *out
 * (Borrows: valid until the next publish on that topic), 1 after a trap,
 * or a negative code. */
static int
read_latest(struct nano_wasm_call_ctx *ctx, struct sb_module *m,
            uint32_t ptr, uint32_t len, const char *fn,
            const struct nano_msg **out)
{
    char name[NANO_TOPIC_MAX + 1], topic[NANO_TOPIC_MAX + 1];
    const char *p = guest(ctx, ptr, len, fn, "name");
    int rc;

    if (!p)
        return 1;
    if (len == 0 || len > NANO_TOPIC_MAX || memchr(p, '\0', len))
        return SB_E_INVAL;
    memcpy(name, p, len);
    name[len] = '\0';
    if ((rc = resolve(m, name, topic)) != SB_OK)
        return rc;
    /* A module may read what it is granted and what it subscribes to (it
     * receives those messages anyway). */
    if (!match_any(m->grants->read, m->grants->nread, topic) &&
        !match_any(m->grants->sub, m->grants->nsub, topic))
        return deny(m, "read of", topic);
    *out = nano_bus_latest(m->sb->bus, topic);
    return *out ? SB_OK : SB_E_NOTFOUND;
}

static int
host_read(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
          union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    const struct nano_msg *msg;
    double *out, v;
    int rc;

    (void)user;
    if (!m || !(out = guest(ctx, args[2].u32, sizeof(double), "read", "out")))
        return -1;
    rc = read_latest(ctx, m, args[0].u32, args[1].u32, "read", &msg);
    if (rc > 0)
        return -1;
    if (rc < 0)
        return ret(results, rc);
    if (!nano_value_as_num(&msg->v, &v))
        return ret(results, SB_E_TYPE);
    memcpy(out, &v, sizeof v);           /* guest memory need not be aligned */
    return ret(results, SB_OK);
}

static int
host_read_text(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
               union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    const struct nano_msg *msg;
    char num[64], *buf;
    const char *text;
    size_t len;
    uint32_t cap = args[3].u32;
    int rc;

    (void)user;
    if (!m || !(buf = guest(ctx, args[2].u32, cap, "read_text", "buffer")))
        return -1;
    rc = read_latest(ctx, m, args[0].u32, args[1].u32, "read_text", &msg);
    if (rc > 0)
        return -1;
    if (rc < 0)
        return ret(results, rc);
    switch (msg->v.type) {
    case NANO_VT_STR: case NANO_VT_BYTES: case NANO_VT_JSON:
        text = msg->v.u.s.p;
        len = msg->v.u.s.len;
        break;
    default:
        text = nano_value_format(&msg->v, num, sizeof num);
        len = strlen(text);
        break;
    }
    memcpy(buf, text, len < cap ? len : cap);
    return ret(results, (int32_t)len);   /* payloads are at most 64 KiB */
}

/* ---- pins ------------------------------------------------------------------------------ */

static int
host_set_pin(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
             union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    uint32_t len = args[1].u32;
    const char *p;
    char pin[64];
    bool granted = false;
    int rc;

    (void)user;
    if (!m || !(p = guest(ctx, args[0].u32, len, "set_pin", "pin name")))
        return -1;
    if (len == 0 || len >= sizeof pin || memchr(p, '\0', len))
        return ret(results, SB_E_INVAL);
    memcpy(pin, p, len);
    pin[len] = '\0';
    for (unsigned i = 0; i < m->grants->npins; i++)
        granted |= strcmp(m->grants->pins[i], pin) == 0;
    if (!granted)
        return ret(results, deny(m, "set of pin", pin));
    rc = m->sb->pin_fn ? m->sb->pin_fn(m->sb->pin_arg, pin, args[2].i32 != 0)
                       : nano_pins_set(pin, args[2].i32 != 0);
    if (rc == NANO_ENOTFOUND || rc == -ENOENT)
        return ret(results, SB_E_NOTFOUND);
    return ret(results, rc == NANO_OK ? SB_OK : SB_E_UNAVAIL);
}

/* ---- key-value store ------------------------------------------------------------------- */

static int
host_kv_get(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
            union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    const struct sb_kv_ent *e;
    const char *key;
    uint8_t *buf;
    uint32_t cap = args[3].u32;

    (void)user;
    if (!m || !(key = guest(ctx, args[0].u32, args[1].u32, "kv_get", "key")) ||
        !(buf = guest(ctx, args[2].u32, cap, "kv_get", "buffer")))
        return -1;
    if (!sb_kv_key_ok(key, args[1].u32))
        return ret(results, SB_E_INVAL);
    if (!(e = sb_kv_get(&m->kv, key, args[1].u32)))
        return ret(results, SB_E_NOTFOUND);
    if (e->vlen)
        memcpy(buf, e->val, e->vlen < cap ? e->vlen : cap);
    return ret(results, (int32_t)e->vlen);
}

static int
host_kv_set(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
            union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    const char *key;
    const uint8_t *val;
    int rc;

    (void)user;
    if (!m || !(key = guest(ctx, args[0].u32, args[1].u32, "kv_set", "key")) ||
        !(val = guest(ctx, args[2].u32, args[3].u32, "kv_set", "value")))
        return -1;
    if (!sb_kv_key_ok(key, args[1].u32))
        return ret(results, SB_E_INVAL);
    rc = sb_kv_set(&m->kv, key, args[1].u32, val, args[3].u32,
                   m->grants->kv_max);
    if (rc == -ENOSPC)
        return ret(results, SB_E_LIMIT);
    if (rc != NANO_OK)
        return ret(results, SB_E_UNAVAIL);
    sb_kv_touch(m);
    return ret(results, SB_OK);
}

static int
host_kv_del(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
            union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);
    const char *key;

    (void)user;
    if (!m || !(key = guest(ctx, args[0].u32, args[1].u32, "kv_del", "key")))
        return -1;
    if (!sb_kv_key_ok(key, args[1].u32))
        return ret(results, SB_E_INVAL);
    if (sb_kv_del(&m->kv, key, args[1].u32) != NANO_OK)
        return ret(results, SB_E_NOTFOUND);
    sb_kv_touch(m);
    return ret(results, SB_OK);
}

static int
host_msg_info(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
              union nano_wasm_val *results, void *user)
{
    struct sb_module *m = caller(ctx);

    (void)args; (void)user;
    if (!m)
        return -1;
    return ret(results, m->msg ? m->msg_info : -1);
}

/* ---- the import set ---------------------------------------------------------------------- */

int
sb_imports_build(struct nano_wasm_imports **imp_out)
{
    static const struct {
        const char *name, *sig;
        nano_wasm_host_fn *fn;
    } fns[] = {
#define SB_ROW(n, sig) { #n, sig, host_##n },
        SB_IMPORTS(SB_ROW)
#undef SB_ROW
    };
    struct nano_wasm_imports *imp = nano_wasm_imports_new();

    *imp_out = NULL;
    if (!imp)
        return -ENOMEM;
    for (size_t i = 0; i < NANO_ARRAY_LEN(fns); i++) {
        int rc = nano_wasm_imports_add_func(imp, "nano", fns[i].name,
                                            fns[i].sig, fns[i].fn, NULL);
        if (rc != 0) {
            nano_wasm_imports_free(imp);
            return rc;
        }
    }
    *imp_out = imp;
    return NANO_OK;
}
