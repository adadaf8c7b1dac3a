/* SPDX-License-Identifier: MIT
 *
 * run.c - a module at run time: making a version (load, link, init),
 * swapping it in, feeding it messages, and containing its faults.
 *
 * Delivery.  A module's subscriptions are pull subscribers of the bus
 * (bus.h): the bus queues each message on them, and the first message on an
 * empty queue defers the module's `drain` work item.  drain pops messages
 * and calls on_message for each, for at most SB_SLICE_MSGS messages or
 * SB_SLICE_NS, then defers itself again if anything is left.  So a busy
 * module takes turns with the event loop's sockets and timers and with the
 * other modules instead of holding the loop for a whole backlog, and a
 * message stays in its queue - owned by the service, not the instance -
 * until the moment it is handed to whichever version runs then.
 *
 * Hot swap.  A new version is made complete beside the running one: its
 * bytes are checked against the host interface, loaded, linked, its start
 * function and init run (with the key-value store snapshotted, so a failed
 * init leaves no trace there), its inbox checked.  Only then does
 * sb_module_swap() replace the pointer.  Everything runs on the loop
 * thread, and drain never runs while an API handler or a config reload
 * does, so the swap falls between two messages: none is lost, none is
 * handed to both versions.
 *
 * Faults.  A call that traps (fuel, deadline, memory, stack, a bad pointer
 * passed to an import, ...) is aborted by the engine; the instance stays
 * usable.  The fault is counted per kind, logged at most once a second per
 * module, and remembered in a ring of the last max_faults fault times: when
 * the ring is full and its oldest entry is within fault_window, the module
 * is quarantined.  Its subscriptions stay (so enabling it needs no
 * resubscribe), and drain drops and counts what arrives until then.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/bus.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/msg.h"
#include "core/state.h"
#include "core/time.h"
#include "sandbox/sandbox_int.h"

#define FAULT_LOG_INTERVAL_NS NANO_NS_PER_S

void
sb_module_error(struct sb_module *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m->last_error, sizeof m->last_error, fmt, ap);
    va_end(ap);
    m->last_error_us = (int64_t)(nano_time_wall_ns() / NANO_NS_PER_US);
}

/* ---- metrics -------------------------------------------------------------------- */

static struct nano_metric *
metric(struct sb_module *m, const char *base, const char *kind,
       enum nano_metric_type type, const char *help)
{
    char name[160];

    if (kind)
        snprintf(name, sizeof name, "%s{module=\"%s\",kind=\"%s\"}", base,
                 m->name, kind);
    else
        snprintf(name, sizeof name, "%s{module=\"%s\"}", base, m->name);
    switch (type) {
    case NANO_METRIC_GAUGE:     return nano_metric_gauge(name, help);
    case NANO_METRIC_HISTOGRAM: return nano_metric_histogram(name, help);
    default:                    return nano_metric_counter(name, help);
    }
}

void
sb_module_metrics(struct sb_module *m)
{
    m->m_calls = metric(m, "nano_sandbox_calls_total", NULL, NANO_METRIC_COUNTER,
                        "on_message calls");
    m->m_denied = metric(m, "nano_sandbox_denied_total", NULL, NANO_METRIC_COUNTER,
                         "imports refused for lack of a grant");
    m->m_dropped = metric(m, "nano_sandbox_dropped_total", NULL,
                          NANO_METRIC_COUNTER,
                          "messages dropped while quarantined or disabled");
    m->m_published = metric(m, "nano_sandbox_published_total", NULL,
                            NANO_METRIC_COUNTER, "messages the module published");
    m->m_call_ns = metric(m, "nano_sandbox_call_ns", NULL, NANO_METRIC_HISTOGRAM,
                          "duration of on_message calls, ns");
    m->m_quarantined = metric(m, "nano_sandbox_quarantined", NULL,
                              NANO_METRIC_GAUGE, "1 while quarantined");
}

void
sb_module_metrics_remove(struct sb_module *m)
{
    static const char *const bases[] = {
        "nano_sandbox_calls_total", "nano_sandbox_denied_total",
        "nano_sandbox_dropped_total", "nano_sandbox_published_total",
        "nano_sandbox_call_ns", "nano_sandbox_quarantined",
    };
    char name[160];

    for (size_t i = 0; i < NANO_ARRAY_LEN(bases); i++) {
        snprintf(name, sizeof name, "%s{module=\"%s\"}", bases[i], m->name);
        nano_metric_remove(name);
    }
    for (int k = 0; k < NANO_SANDBOX_TRAP_KINDS; k++) {
        if (!m->m_traps[k])
            continue;
        snprintf(name, sizeof name, "nano_sandbox_traps_total{module=\"%s\","
                 "kind=\"%s\"}", m->name,
                 nano_wasm_trap_name((enum nano_wasm_trap_kind)k));
        nano_metric_remove(name);
        m->m_traps[k] = NULL;
    }
}

/* ---- states and faults ------------------------------------------------------------- */

void
sb_module_set_state(struct sb_module *m, enum nano_sandbox_state s)
{
    m->state = s;
    m->st.state = s;
    nano_metric_set(m->m_quarantined, s == NANO_SANDBOX_QUARANTINED);
    if (s == NANO_SANDBOX_RUNNING) {
        m->fault_head = 0;
        m->fault_count = 0;
    }
    /* Whatever waited is now delivered or dropped. */
    nano_loop_defer(m->sb->loop, &m->drain);
}

void
sb_module_fault(struct sb_module *m, enum nano_wasm_trap_kind kind,
                const char *where, const char *msg)
{
    uint64_t now = nano_time_mono_ns();
    unsigned max = m->set.max_faults ? m->set.max_faults : 1;

    if ((unsigned)kind >= NANO_SANDBOX_TRAP_KINDS)
        kind = NANO_WASM_TRAP_HOST;
    m->st.traps[kind]++;
    m->st.faults++;
    if (!m->m_traps[kind])
        m->m_traps[kind] = metric(m, "nano_sandbox_traps_total",
                                  nano_wasm_trap_name(kind),
                                  NANO_METRIC_COUNTER, "calls that trapped");
    nano_metric_inc(m->m_traps[kind]);
    sb_module_error(m, "%s trapped (%s): %s", where, nano_wasm_trap_name(kind),
                    msg);

    /* The logger folds identical lines; trap messages differ (addresses,
     * names), so a module gets at most one fault line a second. */
    if (now - m->fault_log_ns >= FAULT_LOG_INTERVAL_NS || !m->fault_log_ns) {
        if (m->fault_log_skipped)
            nano_logf(NANO_LOG_WARN, SB_LOG, "module '%s': %s (and %llu "
                      "faults not logged)", m->name, m->last_error,
                      (unsigned long long)m->fault_log_skipped);
        else
            nano_logf(NANO_LOG_WARN, SB_LOG, "module '%s': %s", m->name,
                      m->last_error);
        m->fault_log_ns = now;
        m->fault_log_skipped = 0;
    } else {
        m->fault_log_skipped++;
    }

    m->fault_ns[m->fault_head] = now;
    m->fault_head = (m->fault_head + 1) % max;
    if (m->fault_count < max)
        m->fault_count++;
    /* Ring full: fault_ns[fault_head] is the oldest of the last max. */
    if (m->fault_count == max && now - m->fault_ns[m->fault_head % max] <=
                                 m->set.window_ns &&
        m->state == NANO_SANDBOX_RUNNING) {
        m->st.quarantines++;
        sb_module_set_state(m, NANO_SANDBOX_QUARANTINED);
        nano_logf(NANO_LOG_ERR, SB_LOG, "module '%s' quarantined after %u "
                  "faults within %llus (last: %s); `nanoctl sandbox enable "
                  "%s` resumes it", m->name, max,
                  (unsigned long long)(m->set.window_ns / NANO_NS_PER_S),
                  m->last_error, m->name);
    }
}

/* ---- versions ----------------------------------------------------------------------- */

void
sb_version_free(struct sb_version *v)
{
    if (!v)
        return;
    nano_wasm_instance_free(v->inst);
    nano_wasm_module_free(v->mod);
    nano_free(v->bytes);            /* after the module: it pointed here */
    nano_free(v);
}

/* Call a () -> i32 export with the instance's current budget. */
static int
call_i32(struct nano_wasm_instance *inst, const char *name, int32_t *out,
         struct nano_wasm_trap *trap)
{
    union nano_wasm_val r;
    int rc = nano_wasm_call(inst, name, NULL, 0, &r, 1, trap);

    if (rc == 0)
        *out = r.i32;
    return rc;
}

static int
trap_diag(struct nano_diag *d, const char *where, int rc,
          const struct nano_wasm_trap *trap)
{
    if (rc == NANO_WASM_ETRAP)
        return nano_diag_set(d, NANO_ETRAP, 0, 0, "%s trapped (%s): %s", where,
                             nano_wasm_trap_name(trap->kind), trap->msg);
    return nano_diag_set(d, rc, 0, 0, "%s failed: %s", where,
                         trap->msg[0] ? trap->msg : nano_strerror(rc));
}

/* Copy of a key-value store, so a candidate's init can be undone. */
static int
kv_copy(struct sb_kv *dst, const struct sb_kv *src)
{
    memset(dst, 0, sizeof *dst);
    for (uint32_t i = 0; i < src->n; i++) {
        int rc = sb_kv_set(dst, src->ents[i].key, src->ents[i].klen,
                           src->ents[i].val, src->ents[i].vlen, UINT32_MAX);
        if (rc != NANO_OK) {
            sb_kv_free(dst);
            return rc;
        }
    }
    dst->dirty = src->dirty;
    return NANO_OK;
}

/* Run the candidate's init with its own grants; undo its store changes
 * if it fails.  Returns NANO_OK or an error with d filled. */
static int
run_init(struct sb_module *m, const struct sb_settings *s,
         struct sb_version *v, struct nano_diag *d)
{
    const struct sb_settings *saved = m->grants;
    struct nano_wasm_func *f = nano_wasm_find_func(v->inst, "init");
    struct nano_wasm_trap trap;
    struct sb_kv snapshot;
    union nano_wasm_val r;
    uint32_t nres = 0;
    int rc;

    if (!f)
        return NANO_OK;
    if ((rc = kv_copy(&snapshot, &m->kv)) != NANO_OK)
        return nano_diag_set(d, rc, 0, 0, "init: %s", nano_strerror(rc));
    nano_wasm_func_type(f, NULL, NULL, &nres, NULL);
    m->grants = s;
    m->msg = NULL;
    m->call_publishes = 0;
    rc = nano_wasm_call_func(v->inst, f, NULL, 0, &r, nres, &trap);
    m->grants = saved;
    if (rc != 0)
        rc = trap_diag(d, "init", rc, &trap);
    else if (nres == 1 && r.i32 != 0)
        rc = nano_diag_set(d, -EINVAL, 0, 0, "init refused to start "
                           "(returned %d)", r.i32);
    if (rc != NANO_OK) {
        sb_kv_free(&m->kv);
        m->kv = snapshot;
    } else {
        sb_kv_free(&snapshot);
        if (m->kv.dirty)
            sb_kv_touch(m);
    }
    return rc;
}

int
sb_version_create(struct sb_module *m, const struct sb_settings *s,
                  uint8_t *bytes, size_t len, struct sb_version **v_out,
                  struct nano_diag *d)
{
    struct nano_wasm_limits lim = {
        .max_memory_pages = s->memory_pages,
        .max_call_depth = SB_CALL_DEPTH,
        .stack_bytes = SB_STACK_BYTES,
        /* the start function and init may set tables up: a larger budget */
        .fuel = s->fuel * SB_INIT_FACTOR,
        .timeout_ms = s->deadline_ms * SB_INIT_FACTOR,
    };
    struct nano_wasm_error err;
    struct nano_wasm_trap trap = { 0 };
    struct sb_version *v;
    size_t mem_len;
    int32_t inbox, size;
    int rc;

    *v_out = NULL;
    v = nano_calloc(1, sizeof *v);
    if (!v) {
        nano_free(bytes);
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    }
    v->bytes = bytes;
    v->len = len;
    v->crc = nano_crc32(bytes, len);
    if ((rc = nano_sandbox_check(bytes, len, NULL, d)) != NANO_OK)
        goto fail;
    rc = nano_wasm_module_load(bytes, len, &lim, &v->mod, &err);
    if (rc != 0) {
        rc = nano_diag_set(d, rc == -ENOMEM ? -ENOMEM : -EINVAL, 0, 0,
                           "invalid module at byte %zu: %s", err.offset, err.msg);
        goto fail;
    }
    rc = nano_wasm_instantiate(v->mod, m->sb->imports, &lim, &v->inst, &trap);
    if (rc == -E2BIG) {
        rc = nano_diag_set(d, -E2BIG, 0, 0, "the module needs more than its "
                           "memory ceiling of %u KiB: %s",
                           s->memory_pages * 64, trap.msg);
        goto fail;
    }
    if (rc != 0) {
        if (rc != NANO_WASM_ETRAP && rc != -ENOMEM)
            rc = -EINVAL;               /* a link error */
        rc = trap_diag(d, rc == NANO_WASM_ETRAP ? "the start function" : "linking",
                       rc, &trap);
        goto fail;
    }
    nano_wasm_instance_set_user(v->inst, m);
    v->on_message = nano_wasm_find_func(v->inst, "on_message");
    if (s->nsub && !v->on_message) {
        rc = nano_diag_set(d, -EINVAL, 0, 0, "the module subscribes to '%s' "
                           "but exports no on_message", s->sub[0]);
        goto fail;
    }
    if ((rc = run_init(m, s, v, d)) != NANO_OK)
        goto fail;
    if (nano_wasm_find_func(v->inst, "nano_inbox")) {
        if ((rc = call_i32(v->inst, "nano_inbox", &inbox, &trap)) != 0 ||
            (rc = call_i32(v->inst, "nano_inbox_size", &size, &trap)) != 0) {
            rc = trap_diag(d, "nano_inbox", rc, &trap);
            goto fail;
        }
        nano_wasm_memory(v->inst, &mem_len);
        if ((uint32_t)size < SB_INBOX_MIN ||
            (uint64_t)(uint32_t)inbox + (uint32_t)size > mem_len) {
            rc = nano_diag_set(d, -EINVAL, 0, 0, "the inbox (%u bytes at %u) "
                               "must hold at least %d bytes inside the "
                               "module's memory of %zu bytes", (uint32_t)size,
                               (uint32_t)inbox, SB_INBOX_MIN, mem_len);
            goto fail;
        }
        v->inbox = (uint32_t)inbox;
        v->inbox_size = (uint32_t)size;
    }
    nano_wasm_instance_set_budget(v->inst, s->fuel, s->deadline_ms);
    *v_out = v;
    return NANO_OK;

fail:
    sb_version_free(v);
    return rc;
}

/* ---- delivery ------------------------------------------------------------------------ */

static void
deliver(struct sb_module *m, const struct nano_msg *msg)
{
    struct sb_version *v = m->cur;
    struct nano_wasm_trap trap;
    union nano_wasm_val args[5];
    const void *payload = NULL;
    size_t plen = 0;
    double value = NAN;
    uint32_t topic_at = 0, topic_len = 0, payload_at = 0;
    int32_t info = msg->v.type | msg->v.quality << 8;
    uint64_t t0;
    int rc;

    switch (msg->v.type) {
    case NANO_VT_NUM:  value = msg->v.u.num; break;
    case NANO_VT_BOOL: value = msg->v.u.b ? 1.0 : 0.0; break;
    case NANO_VT_STR: case NANO_VT_BYTES: case NANO_VT_JSON:
        payload = msg->v.u.s.p;
        plen = msg->v.u.s.len;
        break;
    default: break;
    }
    if (v->inbox_size) {
        topic_at = v->inbox;
        topic_len = msg->topic_len;     /* <= NANO_TOPIC_MAX <= inbox size */
        rc = nano_wasm_memory_write(v->inst, topic_at, msg->topic, topic_len);
        if (rc == 0 && plen && plen <= v->inbox_size - topic_len) {
            payload_at = topic_at + topic_len;
            rc = nano_wasm_memory_write(v->inst, payload_at, payload, plen);
        } else if (plen) {
            plen = 0;
            info |= 1 << 16;
        }
        if (rc != 0) {                  /* memory never shrinks: unreachable */
            sb_module_fault(m, NANO_WASM_TRAP_HOST, "on_message",
                            "the inbox is outside the module's memory");
            return;
        }
    } else if (plen) {
        plen = 0;
        info |= 1 << 16;
    }
    if (info & 1 << 16)
        m->st.truncated++;

    args[0].u64 = 0;
    args[0].u32 = topic_at;
    args[1].u64 = 0;
    args[1].u32 = topic_len;
    args[2].f64 = value;
    args[3].u64 = 0;
    args[3].u32 = payload_at;
    args[4].u64 = 0;
    args[4].u32 = (uint32_t)plen;

    m->msg = msg;
    m->msg_info = info;
    m->call_publishes = 0;
    m->grants = &m->set;
    t0 = nano_time_mono_ns();
    rc = nano_wasm_call_func(v->inst, v->on_message, args, 5, NULL, 0, &trap);
    nano_metric_observe(m->m_call_ns, (double)(nano_time_mono_ns() - t0));
    m->msg = NULL;
    m->st.calls++;
    nano_metric_inc(m->m_calls);
    m->fuel_last = nano_wasm_instance_fuel_used(v->inst);
    m->st.fuel_used += m->fuel_last;
    if (rc == NANO_WASM_ETRAP)
        sb_module_fault(m, trap.kind, "on_message", trap.msg);
    else if (rc != 0)
        sb_module_fault(m, NANO_WASM_TRAP_HOST, "on_message",
                        trap.msg[0] ? trap.msg : nano_strerror(rc));
}

static bool
pending(const struct sb_module *m)
{
    struct nano_sub_stats st;

    for (unsigned i = 0; i < m->nsubs; i++) {
        nano_sub_get_stats(m->subs[i], &st);
        if (st.queued)
            return true;
    }
    return false;
}

static void
on_drain(struct nano_loop *loop, struct nano_work *w)
{
    struct sb_module *m = NANO_CONTAINER_OF(w, struct sb_module, drain);
    uint64_t t0 = nano_time_mono_ns();
    unsigned done = 0;
    bool more = true;

    while (more) {
        more = false;
        /* One message from each subscription per round: fair between them. */
        for (unsigned i = 0; i < m->nsubs; i++) {
            const struct nano_msg *msg = nano_sub_pop(m->subs[i]);

            if (!msg)
                continue;
            more = true;
            if (m->state != NANO_SANDBOX_RUNNING || !m->cur ||
                !m->cur->on_message) {
                m->st.dropped++;
                nano_metric_inc(m->m_dropped);
                nano_msg_unref(msg);
                continue;
            }
            deliver(m, msg);
            nano_msg_unref(msg);
            if (++done >= SB_SLICE_MSGS ||
                nano_time_mono_ns() - t0 >= SB_SLICE_NS) {
                if (pending(m))
                    nano_loop_defer(loop, w);   /* the rest next iteration */
                return;
            }
        }
    }
}

void
sb_module_init_work(struct sb_module *m)
{
    nano_work_init(&m->drain, on_drain);
}

static void
on_notify(void *arg, struct nano_sub *sub)
{
    struct sb_module *m = arg;

    (void)sub;
    nano_loop_defer(m->sb->loop, &m->drain);
}

/* ---- swap ------------------------------------------------------------------------------ */

void
sb_module_unsubscribe(struct sb_module *m)
{
    for (unsigned i = 0; i < m->nsubs; i++)
        nano_bus_unsubscribe(m->sb->bus, m->subs[i]);
    m->nsubs = 0;
    nano_loop_cancel(m->sb->loop, &m->drain);
}

int
sb_module_swap(struct sb_module *m, struct sb_version *v,
               struct nano_cfg_doc *conf, struct nano_diag *d)
{
    struct nano_sub *subs[SB_MAX_FILTERS];
    bool kept[SB_MAX_FILTERS] = { false };
    bool fresh[SB_MAX_FILTERS] = { false };
    struct sb_settings s;
    struct nano_buf json;
    char qname[NANO_SANDBOX_NAME_MAX + 16];
    struct nano_sub_opts opts = { .name = qname, .notify = on_notify };
    struct sb_version *old;
    int rc;

    rc = sb_settings_parse(nano_cfg_root(conf), m->name, SB_FILE_ANY, &s, d);
    if (rc != NANO_OK)
        goto fail;

    /* Subscriptions: keep those whose filter stays (and their queues). */
    snprintf(qname, sizeof qname, "sandbox:%s", m->name);
    opts.queue_cap = s.queue;
    for (unsigned i = 0; i < s.nsub; i++) {
        subs[i] = NULL;
        for (unsigned k = 0; k < m->nsubs; k++)
            if (!kept[k] && !strcmp(nano_sub_filter(m->subs[k]), s.sub[i])) {
                subs[i] = m->subs[k];
                kept[k] = true;
                break;
            }
        if (subs[i])
            continue;
        rc = nano_bus_subscribe(m->sb->bus, s.sub[i], &opts, NULL, m, &subs[i]);
        if (rc != NANO_OK) {
            for (unsigned k = 0; k < i; k++)
                if (fresh[k])
                    nano_bus_unsubscribe(m->sb->bus, subs[k]);
            rc = nano_diag_set(d, rc, 0, 0, "cannot subscribe to '%s': %s",
                               s.sub[i], nano_strerror(rc));
            goto fail;
        }
        fresh[i] = true;
    }
    nano_buf_init(&json, 1u << 20);
    if ((rc = nano_cfg_to_json(nano_cfg_root(conf), &json)) != NANO_OK) {
        nano_buf_free(&json);
        for (unsigned k = 0; k < s.nsub; k++)
            if (fresh[k])
                nano_bus_unsubscribe(m->sb->bus, subs[k]);
        rc = nano_diag_set(d, rc, 0, 0, "settings: %s", nano_strerror(rc));
        goto fail;
    }

    /* Commit: nothing below fails. */
    for (unsigned k = 0; k < m->nsubs; k++)
        if (!kept[k])
            nano_bus_unsubscribe(m->sb->bus, m->subs[k]);
    memcpy(m->subs, subs, s.nsub * sizeof subs[0]);
    m->nsubs = s.nsub;
    old = m->cur;
    m->cur = v;
    nano_cfg_free(m->conf);
    m->conf = conf;
    m->set = s;
    m->grants = &m->set;
    nano_free(m->conf_json);
    m->conf_json = nano_buf_steal(&json);
    if (old)
        m->st.version++;
    else if (!m->st.version)
        m->st.version = 1;
    sb_version_free(old);
    m->loaded_us = (int64_t)(nano_time_wall_ns() / NANO_NS_PER_US);
    m->last_error[0] = '\0';
    sb_module_set_state(m, sb_want_enabled(m) ? NANO_SANDBOX_RUNNING
                                              : NANO_SANDBOX_DISABLED);
    return NANO_OK;

fail:
    sb_version_free(v);
    nano_cfg_free(conf);
    return rc;
}
