/* SPDX-License-Identifier: MIT
 *
 * engine.c - services in the daemon (contract in engine.h): the pure rule
 * engine (rules.h) bound to the loop, the bus, the devices and the pins.
 *
 * Per service:
 *   - named inputs: one bus subscription per input topic (exact topic, so
 *     the bus's filter scan does the routing), the latest message of each
 *     input held by reference (text values point into it), one state and
 *     one timer;
 *   - topic services: one subscription on the filter and a hash table of
 *     per-topic states (each with its own timer and last message), bounded
 *     by max_topics; a topic past the bound is dropped and counted.
 * A delivered reading is set and the state stepped right there, in the
 * bus's dispatch: reading-to-action is one deferred-work hop.
 *
 * Names: the resolver asks the device manager which instances provide a
 * quantity and adds instances seen only on the bus (readings published
 * through the API or bridged in).  Devices declare some quantities only
 * when their driver first probes, so a service started while devices are
 * still starting may not resolve yet: it waits ("waiting", with the
 * reason) and retries every second.  Config-file services always wait
 * rather than fail, since their syntax was checked when the file loaded.
 *
 * Persistence (services.json in the state directory):
 *   { "started": { "<name>": { settings } },   (services the API started)
 *     "stopped": [ "<name>", ... ],              (the API stopped them)
 *     "removed": [ "<name>", ... ] }             (config services removed)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/json.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/overlay.h"
#include "core/state.h"
#include "core/time.h"
#include "core/topic.h"
#include "drivers/devmgr.h"
#include "drivers/driver.h"
#include "rules/engine.h"
#include "rules/rules.h"

#define STATE_FILE          "services.json"
#define RETRY_MS            1000
#define DEFAULT_MAX_TOPICS  256
#define NAME_MAX_LEN        48
#define SUB_QUEUE           64
#define LIST_TOPICS_MAX     100
#define EXPLAIN_TOPICS_MAX  20

enum svc_status { SVC_STOPPED, SVC_RUNNING, SVC_WAITING };

static const char *const status_names[] = { "stopped", "running", "waiting" };

struct svc;

/* A state with its timer: the service's own (named inputs) or a topic's. */
struct holder {
    struct nano_timer       timer;
    uint64_t                due_ns;
    struct svc             *s;
    struct nano_rule_state *st;
    const struct nano_msg  *last;     /* topic services: keeps text alive */
};

struct svc_input {
    struct svc             *s;
    unsigned                slot;
    struct nano_sub        *sub;
    const struct nano_msg  *last;     /* one reference; text views in it */
};

struct tstate {
    struct holder  h;                 /* first: the sink's udata */
    struct tstate *next;              /* hash chain */
    uint32_t       hash;
};

struct svc {
    struct nano_list     link;
    struct nano_rules   *rs;
    char                *name;
    struct nano_cfg_doc *conf;        /* owned copy; root = settings map */
    bool                 from_config;
    bool                 installed;   /* started through the API (persisted) */
    bool                 want_running;
    bool                 error_logged;
    enum svc_status      status;
    char                 error[NANO_DIAG_MSG_MAX + 64];
    struct nano_rule    *rule;
    uint64_t             max_topics;
    uint64_t             started_ns;
    uint64_t             wait_since_ns;
    /* named inputs */
    struct holder        main;
    struct svc_input    *in;
    unsigned             n_in;
    /* topic services */
    struct nano_sub     *sub;
    struct tstate      **tab;
    unsigned             tab_cap, n_topics;
    uint64_t             topics_dropped, malformed;
    bool                 drop_logged;
};

/* Scratch for name resolution: names returned to the compiler live here
 * until the next call. */
struct rsx {
    struct nano_rules *rs;
    bool               topic_mode;
    bool               lenient;       /* config validation: any name goes */
    char               key[NANO_TOPIC_MAX + 1];
    char               pin[64];
    const char        *names[65];
    unsigned           n_names;
    char               pool[4096];
    size_t             used;
    /* search state */
    const char        *q;
    const char        *inst;
    bool               inst_seen;
    unsigned           hits;
    char               first[NAME_MAX_LEN + 1];
};

struct nano_rules {
    struct nano_loop     *loop;
    struct nano_bus      *bus;
    struct nano_devmgr   *dm;
    char                 *state_dir;
    struct nano_rules_io  io;
    struct nano_list      svcs;
    struct nano_overlay   ov;            /* the persisted run-time changes */
    struct nano_timer     retry;
    struct nano_sub      *watch;         /* sensors/#, while a service waits */
    size_t                watch_topics;  /* bus topics at the last retry */
    struct nano_rule_sink sink;
    struct rsx            rsx;
    uint64_t              evals, fires_seen;
    struct nano_metric   *m_evals, *m_failed, *m_dropped, *m_malformed;
};

/* ---- the schema of a service -------------------------------------------------- */

static int check_service(const struct nano_cfg_node *n, struct nano_diag *d,
                         void *arg);

const struct nano_cfg_field nano_rules_service_fields[] = {
    { .key = "rule", .type = NANO_CFGT_STR, .required = true,
      .help = "the condition, e.g. temperature > 75.0 (docs/rules.md)" },
    { .key = "action", .type = NANO_CFGT_STR_OR_LIST,
      .help = "what to do when the rule fires: gpio.set(pin, HIGH), "
              "gpio.toggle(pin), publish(topic, value), log(level, text), "
              "webhook(url, body); one or a list" },
    { .key = "clear", .type = NANO_CFGT_STR,
      .help = "hysteresis: the service stays active until this holds" },
    { .key = "on_clear", .type = NANO_CFGT_STR_OR_LIST,
      .help = "actions when the service clears" },
    { .key = "safe", .type = NANO_CFGT_STR_OR_LIST,
      .help = "actions when an input goes stale or faulty" },
    { .key = "for", .type = NANO_CFGT_DURATION, .max = 604800,
      .help = "the rule must hold this long before the service fires" },
    { .key = "cooldown", .type = NANO_CFGT_DURATION, .max = 604800,
      .help = "least time between two fires" },
    { .key = "min_on", .type = NANO_CFGT_DURATION, .max = 604800,
      .help = "least time active before clearing" },
    { .key = "min_off", .type = NANO_CFGT_DURATION, .max = 604800,
      .help = "least time cleared before firing again" },
    { .key = "stale_after", .type = NANO_CFGT_DURATION, .max = 604800,
      .help = "an input with no good reading for this long is stale" },
    { .key = "interval", .type = NANO_CFGT_DURATION, .max = 86400,
      .help = "expected time between readings where the device cannot say "
              "(sizes windows; default 1s)" },
    { .key = "input", .type = NANO_CFGT_STR,
      .help = "a topic filter such as sensors/+/temperature: the rule runs "
              "per matching topic, with payload fields as names" },
    { .key = "max_topics", .type = NANO_CFGT_INT, .min = 1, .max = 65536,
      .help = "topic services: most topics tracked at once (default 256)" },
    { .key = "enabled", .type = NANO_CFGT_BOOL,
      .help = "false: defined but not running" },
    { .key = "description", .type = NANO_CFGT_STR,
      .help = "free text shown by nanoctl service list" },
    { 0 }
};

static const struct nano_cfg_field service_schema = {
    .key = "service", .type = NANO_CFGT_MAP,
    .fields = nano_rules_service_fields, .check = check_service,
};

static bool
valid_name(const char *s)
{
    return nano_name_valid(s, NAME_MAX_LEN, ".");
}

/* A definition read from a validated settings map.  Strings borrow the
 * map's document. */
struct defbuf {
    struct nano_rule_def        def;
    const char                 *act[NANO_RULE_MAX_ACTIONS];
    const char                 *onc[NANO_RULE_MAX_ACTIONS];
    const char                 *safe[NANO_RULE_MAX_ACTIONS];
    const struct nano_cfg_node *n_rule, *n_clear, *n_input;
    const struct nano_cfg_node *n_act[NANO_RULE_MAX_ACTIONS];
    const struct nano_cfg_node *n_onc[NANO_RULE_MAX_ACTIONS];
    const struct nano_cfg_node *n_safe[NANO_RULE_MAX_ACTIONS];
    bool                        enabled;
    uint64_t                    max_topics;
};

static int
str_list(const struct nano_cfg_node *n, const char **out,
         const struct nano_cfg_node **nodes, size_t *count, const char *what,
         struct nano_diag *d)
{
    size_t k = 0;

    *count = 0;
    if (!n || n->kind == NANO_CFG_NULL)
        return NANO_OK;
    if (n->kind == NANO_CFG_SCALAR) {
        out[0] = n->str;
        nodes[0] = n;
        *count = 1;
        return NANO_OK;
    }
    for (const struct nano_cfg_node *c = n->child; c; c = c->next) {
        if (k >= NANO_RULE_MAX_ACTIONS)
            return nano_cfg_error(c, d, "'%s' holds at most %d actions", what,
                                  NANO_RULE_MAX_ACTIONS);
        if (c->kind != NANO_CFG_SCALAR)
            return nano_cfg_error(c, d, "each entry of '%s' is an action "
                                  "text", what);
        out[k] = c->str;
        nodes[k++] = c;
    }
    *count = k;
    return NANO_OK;
}

static uint64_t
dur(const struct nano_cfg_node *m, const char *key)
{
    const struct nano_cfg_node *n = nano_cfg_get(m, key);
    uint64_t ns = 0;

    if (n && nano_cfg_as_duration(n, &ns, NULL) != NANO_OK)
        ns = 0;
    return ns;
}

static int
def_from_cfg(const struct nano_cfg_node *m, const char *name, struct defbuf *b,
             struct nano_diag *d)
{
    const struct nano_cfg_node *n;
    int64_t v;
    int rc;

    memset(b, 0, sizeof *b);
    b->def.name = name;
    b->n_rule = nano_cfg_get(m, "rule");
    b->n_clear = nano_cfg_get(m, "clear");
    b->n_input = nano_cfg_get(m, "input");
    if (!b->n_rule || b->n_rule->kind != NANO_CFG_SCALAR)
        return nano_cfg_error(m, d, "service '%s' needs a rule", name);
    b->def.rule = b->n_rule->str;
    if (b->n_clear && b->n_clear->kind == NANO_CFG_SCALAR)
        b->def.clear = b->n_clear->str;
    if (b->n_input && b->n_input->kind == NANO_CFG_SCALAR)
        b->def.input = b->n_input->str;
    if ((rc = str_list(nano_cfg_get(m, "action"), b->act, b->n_act,
                       &b->def.n_action, "action", d)) != NANO_OK ||
        (rc = str_list(nano_cfg_get(m, "on_clear"), b->onc, b->n_onc,
                       &b->def.n_on_clear, "on_clear", d)) != NANO_OK ||
        (rc = str_list(nano_cfg_get(m, "safe"), b->safe, b->n_safe,
                       &b->def.n_safe, "safe", d)) != NANO_OK)
        return rc;
    b->def.action = b->act;
    b->def.on_clear = b->onc;
    b->def.safe = b->safe;
    b->def.for_ns = dur(m, "for");
    b->def.cooldown_ns = dur(m, "cooldown");
    b->def.min_on_ns = dur(m, "min_on");
    b->def.min_off_ns = dur(m, "min_off");
    b->def.stale_after_ns = dur(m, "stale_after");
    b->def.interval_ns = dur(m, "interval");
    b->enabled = true;
    if ((n = nano_cfg_get(m, "enabled")))
        nano_cfg_as_bool(n, &b->enabled, NULL);
    b->max_topics = DEFAULT_MAX_TOPICS;
    if ((n = nano_cfg_get(m, "max_topics")) &&
        nano_cfg_as_int(n, 1, 65536, &v, NULL) == NANO_OK)
        b->max_topics = (uint64_t)v;
    return NANO_OK;
}

/* The node a compile diagnostic's origin ("rule", "action[2]") refers to. */
static const struct nano_cfg_node *
origin_node(const struct defbuf *b, const char *origin)
{
    const struct nano_cfg_node *const *arr = NULL;
    size_t n = 0, idx = 0;
    const char *br;

    if (!origin)
        return NULL;
    if (strcmp(origin, "rule") == 0)
        return b->n_rule;
    if (strcmp(origin, "clear") == 0)
        return b->n_clear;
    if (strcmp(origin, "input") == 0)
        return b->n_input;
    if (strncmp(origin, "action", 6) == 0) {
        arr = b->n_act;
        n = b->def.n_action;
    } else if (strncmp(origin, "on_clear", 8) == 0) {
        arr = b->n_onc;
        n = b->def.n_on_clear;
    } else if (strncmp(origin, "safe", 4) == 0) {
        arr = b->n_safe;
        n = b->def.n_safe;
    }
    if ((br = strchr(origin, '[')))
        idx = (size_t)strtoul(br + 1, NULL, 10);
    return arr && idx < n ? arr[idx] : NULL;
}

/* Turn a compile diagnostic (position inside a text) into one positioned in
 * the document, keeping the text position in the message and in err. */
static int
map_diag(const struct defbuf *b, const char *name, int rc,
         const struct nano_diag *cd, struct nano_diag *d,
         struct nano_rules_error *err)
{
    const struct nano_cfg_node *n = origin_node(b, cd->origin);
    unsigned line = 0, col = 0;

    if (err) {
        memset(err, 0, sizeof *err);
        snprintf(err->field, sizeof err->field, "%s", cd->origin ? cd->origin : "");
        err->line = cd->line;
        err->col = cd->col;
        if (n && n->kind == NANO_CFG_SCALAR && cd->line)
            nano_rule_diag_caret(cd, n->str, err->caret, sizeof err->caret);
    }
    if (n) {
        line = n->line;
        col = n->col;
        if (cd->line == 1 && n->kind == NANO_CFG_SCALAR)
            col = n->col + (n->quoted ? 1 : 0) + cd->col - 1;
        else if (cd->line > 1)
            line = n->line + cd->line - 1;
    }
    if (cd->line)
        return nano_diag_set(d, rc, line, col, "service '%s': %s %u:%u: %s",
                             name, cd->origin ? cd->origin : "", cd->line,
                             cd->col, cd->msg);
    return nano_diag_set(d, rc, line, col, "service '%s': %s%s%s", name,
                         cd->origin ? cd->origin : "", cd->origin ? ": " : "",
                         cd->msg);
}

/* ---- name resolution -------------------------------------------------------- */

static void
rsx_reset(struct rsx *x)
{
    x->n_names = 0;
    x->names[0] = NULL;
    x->used = 0;
}

static void
rsx_add(struct rsx *x, const char *s, size_t len)
{
    for (unsigned i = 0; i < x->n_names; i++)
        if (strlen(x->names[i]) == len && memcmp(x->names[i], s, len) == 0)
            return;
    if (x->n_names + 1 >= NANO_ARRAY_LEN(x->names) ||
        x->used + len + 1 > sizeof x->pool)
        return;
    memcpy(x->pool + x->used, s, len);
    x->pool[x->used + len] = '\0';
    x->names[x->n_names++] = x->pool + x->used;
    x->names[x->n_names] = NULL;
    x->used += len + 1;
}

/* Collect: instances providing x->q (x->q NULL: every quantity). */
static void
each_dev_q(void *arg, struct nano_dev *dev, const char *quantity)
{
    struct rsx *x = arg;
    const char *dn = nano_dev_name(dev);

    if (x->q) {
        if (x->inst && strcmp(x->inst, dn) != 0)
            return;
        if (x->hits++ == 0)
            snprintf(x->first, sizeof x->first, "%s", dn);
        rsx_add(x, dn, strlen(dn));
    } else if (x->inst) {
        if (strcmp(x->inst, dn) == 0) {
            x->inst_seen = true;
            rsx_add(x, quantity, strlen(quantity));
        }
    } else {
        rsx_add(x, quantity, strlen(quantity));
    }
}

static void
each_bus_topic(void *arg, const struct nano_msg *m)
{
    struct rsx *x = arg;
    const char *inst = m->topic + strlen("sensors/");
    const char *slash = strchr(inst, '/');
    const char *q;
    size_t il;

    if (!slash)
        return;
    il = (size_t)(slash - inst);
    q = slash + 1;
    if (x->q) {
        if (strcmp(q, x->q) != 0)
            return;
        if (x->inst && (strlen(x->inst) != il || memcmp(x->inst, inst, il) != 0))
            return;
        for (unsigned i = 0; i < x->n_names; i++)
            if (strlen(x->names[i]) == il && memcmp(x->names[i], inst, il) == 0)
                return;                /* the device already counted it */
        if (x->hits++ == 0)
            snprintf(x->first, sizeof x->first, "%.*s", (int)il, inst);
        rsx_add(x, inst, il);
    } else if (x->inst) {
        if (strlen(x->inst) == il && memcmp(x->inst, inst, il) == 0) {
            x->inst_seen = true;
            rsx_add(x, q, strlen(q));
        }
    } else {
        rsx_add(x, q, strlen(q));
    }
}

static void
each_bus_instance(void *arg, const struct nano_msg *m)
{
    struct rsx *x = arg;
    const char *inst = m->topic + strlen("sensors/");
    const char *slash = strchr(inst, '/');

    if (slash)
        rsx_add(x, inst, (size_t)(slash - inst));
}

static void
each_dev_instance(void *arg, struct nano_dev *dev, const char *quantity)
{
    struct rsx *x = arg;

    (void)quantity;
    rsx_add(x, nano_dev_name(dev), strlen(nano_dev_name(dev)));
}

static uint64_t
instance_interval(struct nano_rules *rs, const char *inst)
{
    struct nano_dev *dev = rs->dm ? nano_devmgr_find(rs->dm, inst) : NULL;
    const struct nano_cfg_node *c, *n;
    const struct nano_driver *drv;
    uint64_t ns;

    if (!dev)
        return 0;
    c = nano_dev_config(dev);
    if ((n = nano_cfg_get(c, "interval")) && nano_cfg_as_duration(n, &ns, NULL) == NANO_OK)
        return ns;
    if ((n = nano_cfg_get(c, "driver")) && n->kind == NANO_CFG_SCALAR &&
        (drv = nano_driver_find(n->str)) && drv->default_interval_ms)
        return drv->default_interval_ms * NANO_NS_PER_MS;
    return NANO_NS_PER_S;
}

static bool
pin_exists(struct nano_rules *rs, const char *name)
{
    return rs->io.pin_exists && rs->io.pin_exists(rs->io.arg, name);
}

static int
resolve_pin(struct rsx *x, const char *name, struct nano_rule_sym *out)
{
    struct nano_rules *rs = x->rs;

    if (x->lenient || pin_exists(rs, name)) {
        snprintf(x->key, sizeof x->key, "pins/%s", name);
        snprintf(x->pin, sizeof x->pin, "%s", name);
        out->kind = NANO_RSYM_PIN;
        out->key = x->key;
        out->name = x->pin;
        return NANO_OK;
    }
    out->names = rs->io.pin_names ? rs->io.pin_names(rs->io.arg) : NULL;
    out->names_what = "pins";
    if (!out->names || !out->names[0])
        out->hint = "no pins are configured (the config's pins: section)";
    return NANO_ENOTFOUND;
}

static int
resolve(void *arg, const char *name, unsigned want, struct nano_rule_sym *out)
{
    struct rsx *x = arg;
    struct nano_rules *rs = x->rs;
    const char *dot = strchr(name, '.');
    char inst[NAME_MAX_LEN + 1];

    rsx_reset(x);
    if (want == NANO_RSYM_WANT_PIN)
        return resolve_pin(x, name, out);
    if (x->topic_mode) {
        if (dot) {
            out->hint = "a topic service reads the payload's top-level "
                        "fields, such as value or ts";
            return NANO_ENOTFOUND;
        }
        snprintf(x->key, sizeof x->key, "%s", name);
        out->kind = NANO_RSYM_FIELD;
        out->key = x->key;
        return NANO_OK;
    }
    if (!dot && !x->lenient && pin_exists(rs, name))
        return resolve_pin(x, name, out);
    if (x->lenient) {
        snprintf(x->key, sizeof x->key, "sensors/%s%s%s", dot ? "" : "?/", name,
                 "");
        for (char *p = x->key; *p; p++)
            if (*p == '.')
                *p = '/';
        out->kind = NANO_RSYM_INPUT;
        out->key = x->key;
        return NANO_OK;
    }
    if (dot) {
        size_t il = (size_t)(dot - name);
        if (il > NAME_MAX_LEN || strchr(dot + 1, '.'))
            return NANO_ENOTFOUND;
        memcpy(inst, name, il);
        inst[il] = '\0';
        x->q = dot + 1;
        x->inst = inst;
    } else {
        x->q = name;
        x->inst = NULL;
    }
    x->hits = 0;
    x->first[0] = '\0';
    if (rs->dm)
        nano_devmgr_foreach_quantity(rs->dm, x->q, each_dev_q, x);
    nano_bus_foreach_latest(rs->bus, "sensors/+/+", each_bus_topic, x);
    if (x->hits == 1) {
        snprintf(x->key, sizeof x->key, "sensors/%s/%s", x->first, x->q);
        out->kind = NANO_RSYM_INPUT;
        out->key = x->key;
        out->interval_ns = instance_interval(rs, x->first);
        x->q = x->inst = NULL;
        return NANO_OK;
    }
    if (x->hits > 1) {
        out->names = x->names;
        out->names_what = "instances";
        x->q = x->inst = NULL;
        return NANO_EAMBIG;
    }
    /* Unknown: list what exists. */
    rsx_reset(x);
    if (dot) {
        x->q = NULL;
        x->inst_seen = false;
        if (rs->dm)
            nano_devmgr_foreach_quantity(rs->dm, NULL, each_dev_q, x);
        nano_bus_foreach_latest(rs->bus, "sensors/+/+", each_bus_topic, x);
        x->inst = NULL;
        if (x->inst_seen) {
            out->names_what = "quantities of this instance";
        } else {
            rsx_reset(x);
            if (rs->dm)
                nano_devmgr_foreach_quantity(rs->dm, NULL, each_dev_instance, x);
            nano_bus_foreach_latest(rs->bus, "sensors/+/+", each_bus_instance, x);
            out->names_what = "instances";
        }
    } else {
        x->q = x->inst = NULL;
        if (rs->dm)
            nano_devmgr_foreach_quantity(rs->dm, NULL, each_dev_q, x);
        nano_bus_foreach_latest(rs->bus, "sensors/+/+", each_bus_topic, x);
        out->names_what = "quantities";
        if (!x->n_names)
            out->hint = "no device provides any quantity yet";
    }
    out->names = x->names;
    return NANO_ENOTFOUND;
}

static bool
devices_starting(struct nano_rules *rs)
{
    struct nano_devmgr_stats st;

    if (!rs->dm)
        return false;
    nano_devmgr_get_stats(rs->dm, &st);
    return st.instances > st.ok + st.failing + st.disabled;
}

static int
compile(struct nano_rules *rs, const struct defbuf *b, bool lenient,
        struct nano_rule **out, struct nano_diag *cd)
{
    struct rsx *x = &rs->rsx;
    struct nano_rule_resolver res = { resolve, x };

    x->rs = rs;
    x->lenient = lenient;
    x->topic_mode = b->def.input != NULL;
    memset(cd, 0, sizeof *cd);
    return nano_rule_compile(&b->def, &res, out, cd);
}

/* ---- validation of the config section -------------------------------------- */

/* Config validation resolves leniently (any name is an input or a pin):
 * devices do not run yet.  Only this engine's resolver scratch is used. */
static struct nano_rules lenient_rs;

static int
check_service(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    struct defbuf b;
    struct nano_rule *r = NULL;
    struct nano_diag cd;
    const char *name = arg ? arg : (n->key ? n->key : "?");
    int rc;

    if ((rc = def_from_cfg(n, name, &b, d)) != NANO_OK)
        return rc;
    rc = compile(&lenient_rs, &b, true, &r, &cd);
    nano_rule_free(r);
    if (rc != NANO_OK)
        return map_diag(&b, name, rc, &cd, d, NULL);
    return NANO_OK;
}

static int
validate_one(const struct nano_cfg_node *n, const char *name,
             struct nano_diag *d)
{
    char what[NAME_MAX_LEN + 16];

    if (!valid_name(name))
        return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                             "service name '%s': use letters, digits, '_', "
                             "'-' and '.', at most %d characters", name,
                             NAME_MAX_LEN);
    snprintf(what, sizeof what, "service '%s'", name);
    return nano_cfg_validate(n, &service_schema, what, (void *)name, d);
}

int
nano_rules_validate(const struct nano_cfg_node *services, struct nano_diag *d)
{
    int rc;

    if (!services || services->kind == NANO_CFG_NULL)
        return NANO_OK;
    if (services->kind != NANO_CFG_MAP)
        return nano_cfg_error(services, d, "'services' expects a map of "
                              "service name to settings");
    for (const struct nano_cfg_node *n = services->child; n; n = n->next)
        if ((rc = validate_one(n, n->key, d)) != NANO_OK)
            return rc;
    return NANO_OK;
}

/* ---- the sink: actions and timers ----------------------------------------------- */

static struct holder *
holder_of(struct nano_rule_state *st)
{
    return nano_rule_state_udata(st);
}

static int
sink_gpio_set(void *arg, struct nano_rule_state *st, const char *pin, bool high)
{
    struct nano_rules *rs = arg;

    (void)st;
    return rs->io.gpio_set ? rs->io.gpio_set(rs->io.arg, pin, high)
                           : NANO_EDISABLED;
}

static int
sink_gpio_toggle(void *arg, struct nano_rule_state *st, const char *pin)
{
    struct nano_rules *rs = arg;

    (void)st;
    return rs->io.gpio_toggle ? rs->io.gpio_toggle(rs->io.arg, pin)
                              : NANO_EDISABLED;
}

static int
sink_publish(void *arg, struct nano_rule_state *st, const char *topic,
             const struct nano_value *v)
{
    struct nano_rules *rs = arg;
    const char *filter = nano_rule_filter(nano_rule_state_rule(st));

    /* A topic service publishing into its own input would feed itself
     * forever; that is refused (and counted as a failed action). */
    if (filter && nano_topic_match(filter, topic))
        return -ELOOP;
    return nano_bus_publish_value(rs->bus, topic, v);
}

static int
sink_webhook(void *arg, struct nano_rule_state *st, const char *url,
             const char *body, size_t len, bool is_json)
{
    struct nano_rules *rs = arg;

    (void)st;
    return rs->io.webhook ? rs->io.webhook(rs->io.arg, url, body, len, is_json)
                          : NANO_EDISABLED;
}

static void
sink_wake(void *arg, struct nano_rule_state *st, uint64_t at)
{
    struct nano_rules *rs = arg;
    struct holder *h = holder_of(st);
    uint64_t now = nano_loop_now_ns(rs->loop);

    if (!at) {
        nano_timer_stop(rs->loop, &h->timer);
        h->due_ns = 0;
        return;
    }
    h->due_ns = at;
    if (nano_timer_start_ns(rs->loop, &h->timer, at > now ? at - now : 0, 0)
            != NANO_OK)
        nano_logf(NANO_LOG_ERR, "rules", "%s: cannot arm a timer",
                  h->s->name);
}

static void
step(struct holder *h, uint64_t now)
{
    struct nano_rules *rs = h->s->rs;
    uint64_t failed;

    if (NANO_NEVER(!h->st))
        return;
    failed = nano_rule_state_failures(h->st);
    nano_rule_step(h->st, now, &rs->sink);
    rs->evals++;
    nano_metric_inc(rs->m_evals);
    failed = nano_rule_state_failures(h->st) - failed;
    if (failed)
        nano_metric_add(rs->m_failed, (double)failed);
}

static void
on_timer(struct nano_loop *loop, struct nano_timer *t)
{
    struct holder *h = NANO_CONTAINER_OF(t, struct holder, timer);
    uint64_t now = nano_loop_now_ns(loop);

    /* The loop runs a timer at or after its deadline; never step earlier
     * than asked even if the cached clock lags by a tick. */
    if (now < h->due_ns)
        now = h->due_ns;
    h->due_ns = 0;
    step(h, now);
}

/* ---- named inputs ----------------------------------------------------------- */

static uint64_t
msg_time(struct nano_rules *rs, const struct nano_msg *m, uint64_t *now_out)
{
    uint64_t now = nano_loop_now_ns(rs->loop);
    uint64_t t = m->v.ts_mono_us > 0 ? (uint64_t)m->v.ts_mono_us * 1000 : now;

    *now_out = now > t ? now : t;
    return t;
}

static void
on_input(void *arg, const struct nano_msg *m)
{
    struct svc_input *in = arg;
    struct svc *s = in->s;
    uint64_t now, t;

    if (s->status != SVC_RUNNING)
        return;
    nano_msg_ref(m);
    nano_msg_unref(in->last);
    in->last = m;
    t = msg_time(s->rs, m, &now);
    nano_rule_set_input(s->main.st, in->slot, &m->v, t);
    step(&s->main, now);
}

/* ---- topic services ------------------------------------------------------------ */

static uint32_t
hash_topic(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static struct tstate *
topic_find(struct svc *s, const char *topic, uint32_t h)
{
    struct tstate *t;

    if (!s->tab_cap)
        return NULL;
    for (t = s->tab[h & (s->tab_cap - 1)]; t; t = t->next)
        if (t->hash == h && strcmp(nano_rule_state_topic(t->h.st), topic) == 0)
            return t;
    return NULL;
}

static int
topic_grow(struct svc *s)
{
    unsigned ncap = s->tab_cap ? s->tab_cap * 2 : 16;
    struct tstate **nt = nano_calloc(ncap, sizeof *nt);

    if (!nt)
        return -ENOMEM;
    for (unsigned i = 0; i < s->tab_cap; i++) {
        struct tstate *t = s->tab[i], *next;
        for (; t; t = next) {
            next = t->next;
            t->next = nt[t->hash & (ncap - 1)];
            nt[t->hash & (ncap - 1)] = t;
        }
    }
    nano_free(s->tab);
    s->tab = nt;
    s->tab_cap = ncap;
    return NANO_OK;
}

static struct tstate *
topic_add(struct svc *s, const char *topic, uint32_t h)
{
    struct nano_rules *rs = s->rs;
    struct tstate *t;

    if (s->n_topics >= s->max_topics) {
        s->topics_dropped++;
        nano_metric_inc(rs->m_dropped);
        if (!s->drop_logged) {
            s->drop_logged = true;
            nano_logf(NANO_LOG_WARN, "rules", "%s: already tracking %u topics "
                      "(max_topics); ignoring new ones such as %s", s->name,
                      s->n_topics, topic);
        }
        return NULL;
    }
    if ((s->n_topics + 1) * 4 > s->tab_cap * 3 && topic_grow(s) != NANO_OK)
        return NULL;
    t = nano_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (nano_rule_state_new(s->rule, topic, nano_loop_now_ns(rs->loop),
                            &t->h.st) != NANO_OK) {
        nano_free(t);
        return NULL;
    }
    nano_rule_state_set_udata(t->h.st, &t->h);
    nano_timer_init(&t->h.timer, on_timer);
    t->h.s = s;
    t->hash = h;
    t->next = s->tab[h & (s->tab_cap - 1)];
    s->tab[h & (s->tab_cap - 1)] = t;
    s->n_topics++;
    return t;
}

static void
on_topic(void *arg, const struct nano_msg *m)
{
    struct svc *s = arg;
    uint32_t h = hash_topic(m->topic);
    struct tstate *t;
    uint64_t now, ts;

    if (s->status != SVC_RUNNING)
        return;
    t = topic_find(s, m->topic, h);
    if (!t && !(t = topic_add(s, m->topic, h)))
        return;
    nano_msg_ref(m);
    nano_msg_unref(t->h.last);
    t->h.last = m;
    ts = msg_time(s->rs, m, &now);
    if (nano_rule_set_message(t->h.st, &m->v, ts) != NANO_OK) {
        s->malformed++;
        nano_metric_inc(s->rs->m_malformed);
    }
    step(&t->h, now);
}

static void
seed_topic(void *arg, const struct nano_msg *m)
{
    on_topic(arg, m);
}

/* ---- running and halting a service --------------------------------------------- */

static void
svc_halt(struct svc *s)
{
    struct nano_rules *rs = s->rs;

    for (unsigned i = 0; i < s->n_in; i++) {
        nano_bus_unsubscribe(rs->bus, s->in[i].sub);
        nano_msg_unref(s->in[i].last);
    }
    nano_free(s->in);
    s->in = NULL;
    s->n_in = 0;
    nano_timer_stop(rs->loop, &s->main.timer);
    nano_rule_state_free(s->main.st);
    s->main.st = NULL;
    if (s->sub)
        nano_bus_unsubscribe(rs->bus, s->sub);
    s->sub = NULL;
    for (unsigned i = 0; i < s->tab_cap; i++) {
        struct tstate *t = s->tab[i], *next;
        for (; t; t = next) {
            next = t->next;
            nano_timer_stop(rs->loop, &t->h.timer);
            nano_msg_unref(t->h.last);
            nano_rule_state_free(t->h.st);
            nano_free(t);
        }
    }
    nano_free(s->tab);
    s->tab = NULL;
    s->tab_cap = s->n_topics = 0;
    nano_rule_free(s->rule);
    s->rule = NULL;
    s->status = SVC_STOPPED;
}

static void retry_arm(struct nano_rules *rs);
static void retry_idle(struct nano_rules *rs);

/* Compile, subscribe, seed from the bus's latest values, evaluate once.
 * On failure: NANO error with cd filled (the service is left stopped). */
static int
svc_run_compiled(struct svc *s, struct nano_rule *rule)
{
    struct nano_rules *rs = s->rs;
    struct nano_sub_opts opts = { .name = s->name, .queue_cap = SUB_QUEUE };
    uint64_t now = nano_loop_now_ns(rs->loop);
    int rc;

    s->rule = rule;
    s->started_ns = now;
    s->status = SVC_RUNNING;
    s->error[0] = '\0';
    s->error_logged = false;
    s->drop_logged = false;
    if (nano_rule_filter(rule)) {
        rc = nano_bus_subscribe(rs->bus, nano_rule_filter(rule), &opts, on_topic,
                                s, &s->sub);
        if (rc != NANO_OK)
            goto fail;
        nano_bus_foreach_latest(rs->bus, nano_rule_filter(rule), seed_topic, s);
        return NANO_OK;
    }
    rc = nano_rule_state_new(rule, NULL, now, &s->main.st);
    if (rc != NANO_OK)
        goto fail;
    nano_rule_state_set_udata(s->main.st, &s->main);
    s->n_in = nano_rule_n_inputs(rule);
    s->in = nano_calloc(s->n_in ? s->n_in : 1, sizeof *s->in);
    if (!s->in) {
        rc = -ENOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < s->n_in; i++) {
        const char *topic = nano_rule_input_key(rule, i);
        const struct nano_msg *m;

        s->in[i].s = s;
        s->in[i].slot = i;
        rc = nano_bus_subscribe(rs->bus, topic, &opts, on_input, &s->in[i],
                                &s->in[i].sub);
        if (rc != NANO_OK)
            goto fail;
        if ((m = nano_bus_latest(rs->bus, topic))) {
            uint64_t t, tnow;
            s->in[i].last = nano_msg_ref(m);
            t = msg_time(rs, m, &tnow);
            nano_rule_set_input(s->main.st, i, &m->v, t);
        }
    }
    step(&s->main, now);
    return NANO_OK;

fail:
    svc_halt(s);
    return rc;
}

/* A name that does not resolve yet: usually a device that has not probed.
 * Said at info level at once, and as a warning if it lasts. */
#define WAIT_WARN_NS (10 * NANO_NS_PER_S)

static void
set_waiting(struct svc *s, const char *why)
{
    uint64_t now = nano_loop_now_ns(s->rs->loop);

    if (s->status != SVC_WAITING && !s->error_logged) {
        s->wait_since_ns = now;
        nano_logf(NANO_LOG_INFO, "rules", "%s; waiting for it", why);
    } else if (!s->error_logged && now - s->wait_since_ns >= WAIT_WARN_NS) {
        s->error_logged = true;
        nano_logf(NANO_LOG_WARN, "rules", "%s; still waiting after %llus",
                  why, (unsigned long long)((now - s->wait_since_ns) / NANO_NS_PER_S));
    }
    s->status = SVC_WAITING;
    snprintf(s->error, sizeof s->error, "%s", why);
    retry_arm(s->rs);
}

/* Bring a service up.  Returns NANO_OK (running or waiting), or the
 * compile error with d/err filled. */
static int
svc_run(struct svc *s, bool wait_on_names, struct nano_diag *d,
        struct nano_rules_error *err)
{
    struct defbuf b;
    struct nano_rule *rule = NULL;
    struct nano_diag cd, local;
    int rc;

    if (!d)
        d = &local;
    if (s->status == SVC_RUNNING)
        return NANO_OK;
    rc = def_from_cfg(nano_cfg_root(s->conf), s->name, &b, d);
    if (rc != NANO_OK)
        return rc;
    s->max_topics = b.max_topics;
    rc = compile(s->rs, &b, false, &rule, &cd);
    if (rc != NANO_OK) {
        map_diag(&b, s->name, rc, &cd, d, err);
        if ((rc == NANO_ENOTFOUND || rc == NANO_EAMBIG) &&
            (wait_on_names || devices_starting(s->rs))) {
            set_waiting(s, d->msg);
            return NANO_OK;
        }
        s->status = SVC_STOPPED;
        snprintf(s->error, sizeof s->error, "%s", d->msg);
        return rc;
    }
    rc = svc_run_compiled(s, rule);
    if (rc != NANO_OK)
        return nano_diag_set(d, rc, 0, 0, "service '%s': %s", s->name,
                             nano_strerror(rc));
    nano_logf(NANO_LOG_INFO, "rules", "service '%s' running: %s", s->name,
              b.def.rule);
    return NANO_OK;
}

static void
on_retry(struct nano_loop *loop, struct nano_timer *t)
{
    struct nano_rules *rs = NANO_CONTAINER_OF(t, struct nano_rules, retry);
    struct nano_list *it;
    bool waiting = false;

    (void)loop;
    nano_list_foreach(it, &rs->svcs) {
        struct svc *s = NANO_CONTAINER_OF(it, struct svc, link);
        if (s->status != SVC_WAITING || !s->want_running)
            continue;
        svc_run(s, true, NULL, NULL);
        waiting |= s->status == SVC_WAITING;
    }
    if (!waiting)
        retry_idle(rs);
}

/* While a service waits for names, watch for new sensor topics: a device's
 * first reading is usually what makes its quantities known, so retrying
 * right then starts the service within one sample interval.  Only a topic
 * the bus has not seen before triggers a retry. */
static void
on_watch(void *arg, const struct nano_msg *m)
{
    struct nano_rules *rs = arg;
    struct nano_bus_stats bs;

    (void)m;
    nano_bus_get_stats(rs->bus, &bs);
    if (bs.topics != rs->watch_topics) {
        rs->watch_topics = bs.topics;
        nano_timer_start(rs->loop, &rs->retry, 0, RETRY_MS);
    }
}

static void
retry_arm(struct nano_rules *rs)
{
    struct nano_sub_opts opts = { .name = "rules-resolve", .queue_cap = 16 };
    struct nano_bus_stats bs;

    if (!rs->watch &&
        nano_bus_subscribe(rs->bus, "sensors/#", &opts, on_watch, rs,
                           &rs->watch) == NANO_OK) {
        nano_bus_get_stats(rs->bus, &bs);
        rs->watch_topics = bs.topics;
    }
    if (!nano_timer_active(&rs->retry))
        nano_timer_start(rs->loop, &rs->retry, RETRY_MS, RETRY_MS);
}

static void
retry_idle(struct nano_rules *rs)
{
    nano_timer_stop(rs->loop, &rs->retry);
    if (rs->watch)
        nano_bus_unsubscribe(rs->bus, rs->watch);
    rs->watch = NULL;
}

/* ---- service objects ------------------------------------------------------------- */

static struct svc *
svc_find(struct nano_rules *rs, const char *name)
{
    struct nano_list *it;

    nano_list_foreach(it, &rs->svcs) {
        struct svc *s = NANO_CONTAINER_OF(it, struct svc, link);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

static struct svc *
svc_create(struct nano_rules *rs, const char *name,
           const struct nano_cfg_node *settings)
{
    struct svc *s = nano_calloc(1, sizeof *s);
    struct nano_cfg_node *root;

    if (!s)
        return NULL;
    s->rs = rs;
    s->name = nano_strdup(name);
    s->conf = nano_cfg_new("service");
    if (!s->name || !s->conf)
        goto fail;
    root = nano_cfg_root(s->conf);
    for (const struct nano_cfg_node *n = settings->child; n; n = n->next)
        if (!nano_cfg_copy(s->conf, root, n->key, n))
            goto fail;
    nano_timer_init(&s->main.timer, on_timer);
    s->main.s = s;
    s->max_topics = DEFAULT_MAX_TOPICS;
    nano_list_append(&rs->svcs, &s->link);
    return s;

fail:
    nano_cfg_free(s->conf);
    nano_free(s->name);
    nano_free(s);
    return NULL;
}

static void
svc_destroy(struct svc *s)
{
    svc_halt(s);
    nano_list_remove(&s->link);
    nano_cfg_free(s->conf);
    nano_free(s->name);
    nano_free(s);
}

static bool
same_settings(const struct svc *s, const struct nano_cfg_node *settings)
{
    struct nano_buf a, b;
    bool same;

    nano_buf_init(&a, 1 << 20);
    nano_buf_init(&b, 1 << 20);
    nano_cfg_to_json(nano_cfg_root(s->conf), &a);
    nano_cfg_to_json(settings, &b);
    same = a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    nano_buf_free(&a);
    nano_buf_free(&b);
    return same;
}

static bool
settings_enabled(const struct nano_cfg_node *settings)
{
    const struct nano_cfg_node *n = nano_cfg_get(settings, "enabled");
    bool on = true;

    if (n && nano_cfg_as_bool(n, &on, NULL) != NANO_OK)
        on = true;
    return on;
}

/* ---- overlay (persisted run-time changes) ----------------------------------------- */

/* services.json: "started" entries, and the "stopped" and "removed" lists. */
#define OV_STOPPED 0
#define OV_REMOVED 1

static int
check_saved(const struct nano_cfg_node *settings, const char *name,
            struct nano_diag *d, void *arg)
{
    (void)arg;
    return validate_one(settings, name, d);
}

int
nano_rules_load_state(struct nano_rules *rs, struct nano_diag *d)
{
    return nano_overlay_load(&rs->ov, rs->state_dir, check_saved, NULL, d);
}

/* ---- config apply --------------------------------------------------------------- */

static void
reconcile_one(struct nano_rules *rs, const char *name,
              const struct nano_cfg_node *settings, bool from_config)
{
    struct svc *s = svc_find(rs, name);
    struct nano_diag d = { .origin = from_config ? "config" : STATE_FILE };

    if (s && !same_settings(s, settings)) {
        nano_logf(NANO_LOG_INFO, "rules", "service '%s' changed; restarting",
                  name);
        svc_destroy(s);
        s = NULL;
    }
    if (!s && !(s = svc_create(rs, name, settings))) {
        nano_logf(NANO_LOG_ERR, "rules", "service '%s' not started: out of "
                  "memory", name);
        return;
    }
    s->from_config = from_config;
    s->installed = !from_config;
    s->want_running = settings_enabled(settings) && !nano_overlay_listed(&rs->ov, OV_STOPPED, name);
    if (s->want_running && s->status == SVC_STOPPED) {
        if (svc_run(s, true, &d, NULL) != NANO_OK)
            nano_logf(NANO_LOG_ERR, "rules", "%s", d.msg);
    } else if (!s->want_running && s->status != SVC_STOPPED) {
        svc_halt(s);
    }
}

int
nano_rules_apply_config(struct nano_rules *rs,
                        const struct nano_cfg_node *services)
{
    struct nano_list *it, *tmp;

    if (services && services->kind != NANO_CFG_MAP)
        services = NULL;
    nano_list_foreach_safe(it, tmp, &rs->svcs) {
        struct svc *s = NANO_CONTAINER_OF(it, struct svc, link);
        bool in_cfg = services && nano_cfg_get(services, s->name) &&
                      !nano_overlay_listed(&rs->ov, OV_REMOVED, s->name);
        bool in_ov = nano_overlay_get(&rs->ov, s->name) != NULL;
        if (!in_cfg && !in_ov)
            svc_destroy(s);
    }
    for (const struct nano_cfg_node *n = services ? services->child : NULL; n;
         n = n->next) {
        if (nano_overlay_listed(&rs->ov, OV_REMOVED, n->key) ||
            nano_overlay_get(&rs->ov, n->key))
            continue;
        reconcile_one(rs, n->key, n, true);
    }
    for (const struct nano_cfg_node *n = rs->ov.added->child; n; n = n->next)
        reconcile_one(rs, n->key, n, false);
    return NANO_OK;
}

/* ---- run time --------------------------------------------------------------------- */

int
nano_rules_start(struct nano_rules *rs, const char *name,
                 const struct nano_cfg_node *config, struct nano_diag *d,
                 struct nano_rules_error *err)
{
    struct svc *s = svc_find(rs, name);
    struct nano_cfg_node *copy;
    int rc;

    if (err)
        memset(err, 0, sizeof *err);
    if (!config) {
        if (!s)
            return nano_diag_set(d, NANO_ENOTFOUND, 0, 0, "no service '%s'",
                                 name);
        nano_overlay_list_del(&rs->ov, OV_STOPPED, name);
        s->want_running = true;
        if ((rc = svc_run(s, false, d, err)) != NANO_OK)
            return rc;
        return nano_overlay_save(&rs->ov, rs->state_dir);
    }
    if (!valid_name(name))
        return nano_diag_set(d, NANO_ESCHEMA, 0, 0, "service name '%s': use "
                             "letters, digits, '_', '-' and '.', at most %d "
                             "characters", name, NAME_MAX_LEN);
    if (config->kind != NANO_CFG_MAP)
        return nano_cfg_error(config, d, "a service's config is an object "
                              "such as {\"rule\": \"temperature > 75\", "
                              "\"action\": \"gpio.set(led_pin, HIGH)\"}");
    if ((rc = validate_one(config, name, d)) != NANO_OK) {
        /* validate_one's check compiled leniently; redo for err details */
        struct defbuf b;
        struct nano_rule *r = NULL;
        struct nano_diag cd, tmp;
        if (err && def_from_cfg(config, name, &b, &tmp) == NANO_OK &&
            compile(&lenient_rs, &b, true, &r, &cd) != NANO_OK)
            map_diag(&b, name, rc, &cd, &tmp, err);
        nano_rule_free(r);
        return rc;
    }
    if (s) {
        if (!same_settings(s, config))
            return nano_diag_set(d, NANO_EEXISTS, config->line, config->col,
                                 "service '%s' already exists with other "
                                 "settings; remove it first", name);
        nano_overlay_list_del(&rs->ov, OV_STOPPED, name);
        s->want_running = true;
        if ((rc = svc_run(s, false, d, err)) != NANO_OK)
            return rc;
        return nano_overlay_save(&rs->ov, rs->state_dir);
    }
    if (!(s = svc_create(rs, name, config)))
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    s->installed = true;
    s->want_running = settings_enabled(config);
    if (s->want_running && (rc = svc_run(s, false, d, err)) != NANO_OK) {
        svc_destroy(s);
        return rc;
    }
    copy = nano_overlay_put(&rs->ov, name, config);
    if (!copy) {
        svc_destroy(s);
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    }
    nano_overlay_list_del(&rs->ov, OV_REMOVED, name);
    nano_overlay_list_del(&rs->ov, OV_STOPPED, name);
    if ((rc = nano_overlay_save(&rs->ov, rs->state_dir)) != NANO_OK) {
        /* Not persisted means not started: undo. */
        nano_overlay_drop(&rs->ov, name);
        svc_destroy(s);
        return nano_diag_set(d, rc, 0, 0, "cannot persist service '%s': %s",
                             name, nano_strerror(rc));
    }
    return NANO_OK;
}

int
nano_rules_stop(struct nano_rules *rs, const char *name)
{
    struct svc *s = svc_find(rs, name);

    if (!s)
        return NANO_ENOTFOUND;
    s->want_running = false;
    svc_halt(s);
    nano_overlay_list_add(&rs->ov, OV_STOPPED, name);
    nano_logf(NANO_LOG_INFO, "rules", "service '%s' stopped", name);
    return nano_overlay_save(&rs->ov, rs->state_dir);
}

int
nano_rules_restart(struct nano_rules *rs, const char *name)
{
    struct svc *s = svc_find(rs, name);
    struct nano_diag d = { 0 };
    int rc;

    if (!s)
        return NANO_ENOTFOUND;
    svc_halt(s);
    s->want_running = true;
    nano_overlay_list_del(&rs->ov, OV_STOPPED, name);
    rc = svc_run(s, true, &d, NULL);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, "rules", "%s", d.msg);
    else
        nano_logf(NANO_LOG_INFO, "rules", "service '%s' restarted", name);
    {
        int src = nano_overlay_save(&rs->ov, rs->state_dir);
        return rc != NANO_OK ? rc : src;
    }
}

int
nano_rules_remove(struct nano_rules *rs, const char *name)
{
    struct svc *s = svc_find(rs, name);

    if (!s)
        return NANO_ENOTFOUND;
    nano_overlay_drop(&rs->ov, name);
    if (s->from_config)
        nano_overlay_list_add(&rs->ov, OV_REMOVED, name);
    nano_overlay_list_del(&rs->ov, OV_STOPPED, name);
    svc_destroy(s);
    nano_logf(NANO_LOG_INFO, "rules", "service '%s' removed", name);
    return nano_overlay_save(&rs->ov, rs->state_dir);
}

/* ---- engine ------------------------------------------------------------------------ */

int
nano_rules_new(struct nano_loop *loop, struct nano_bus *bus,
               struct nano_devmgr *dm, const char *state_dir,
               struct nano_rules **rs_out)
{
    struct nano_rules *rs = nano_calloc(1, sizeof *rs);

    *rs_out = NULL;
    if (!rs)
        return -ENOMEM;
    rs->loop = loop;
    rs->bus = bus;
    rs->dm = dm;
    nano_list_init(&rs->svcs);
    nano_timer_init(&rs->retry, on_retry);
    if ((state_dir && !(rs->state_dir = nano_strdup(state_dir))) ||
        nano_overlay_init(&rs->ov, STATE_FILE, "rules", "started", "stopped",
                          "removed") != NANO_OK) {
        nano_rules_free(rs);
        return -ENOMEM;
    }
    rs->sink.gpio_set = sink_gpio_set;
    rs->sink.gpio_toggle = sink_gpio_toggle;
    rs->sink.publish = sink_publish;
    rs->sink.webhook = sink_webhook;
    rs->sink.wake = sink_wake;
    rs->sink.arg = rs;
    rs->m_evals = nano_metric_counter("nano_rules_evaluations_total",
                                      "Rule evaluations (readings and timers)");
    rs->m_failed = nano_metric_counter("nano_rules_action_failures_total",
                                       "Actions that failed");
    rs->m_dropped = nano_metric_counter("nano_rules_topics_dropped_total",
                                        "Messages of topics past max_topics");
    rs->m_malformed = nano_metric_counter("nano_rules_malformed_total",
                                          "Topic-service payloads that were "
                                          "not valid JSON");
    *rs_out = rs;
    return NANO_OK;
}

void
nano_rules_free(struct nano_rules *rs)
{
    struct nano_list *it, *tmp;

    if (!rs)
        return;
    nano_list_foreach_safe(it, tmp, &rs->svcs)
        svc_destroy(NANO_CONTAINER_OF(it, struct svc, link));
    retry_idle(rs);
    nano_overlay_free(&rs->ov);
    nano_free(rs->state_dir);
    nano_free(rs);
}

void
nano_rules_set_io(struct nano_rules *rs, const struct nano_rules_io *io)
{
    if (io)
        rs->io = *io;
    else
        memset(&rs->io, 0, sizeof rs->io);
}

void
nano_rules_get_stats(const struct nano_rules *rs, struct nano_rules_stats *out)
{
    struct nano_list *it;

    memset(out, 0, sizeof *out);
    out->evaluations = rs->evals;
    nano_list_foreach(it, &rs->svcs) {
        const struct svc *s = NANO_CONTAINER_OF(it, struct svc, link);
        struct nano_rule_status st;
        out->services++;
        out->running += s->status == SVC_RUNNING;
        out->waiting += s->status == SVC_WAITING;
        out->stopped += s->status == SVC_STOPPED;
        out->topics_dropped += s->topics_dropped;
        if (s->main.st) {
            nano_rule_get_status(s->main.st, &st);
            out->fires += st.fires;
            out->actions_failed += st.actions_failed;
        }
        for (unsigned i = 0; i < s->tab_cap; i++)
            for (const struct tstate *t = s->tab[i]; t; t = t->next) {
                nano_rule_get_status(t->h.st, &st);
                out->fires += st.fires;
                out->actions_failed += st.actions_failed;
            }
    }
}

/* ---- JSON views --------------------------------------------------------------------- */

static void
write_summary(struct svc *s, struct nano_json *w, bool detail)
{
    uint64_t now = nano_loop_now_ns(s->rs->loop);
    const struct nano_cfg_node *root = nano_cfg_root(s->conf);
    const struct nano_cfg_node *n;
    struct nano_rule_status st;

    nano_json_key(w, "name");
    nano_json_str(w, s->name);
    nano_json_key(w, "status");
    nano_json_str(w, status_names[s->status]);
    nano_json_key(w, "origin");
    nano_json_str(w, s->installed ? "api" : "config");
    nano_json_key(w, "rule");
    n = nano_cfg_get(root, "rule");
    nano_json_str(w, n && n->kind == NANO_CFG_SCALAR ? n->str : NULL);
    if ((n = nano_cfg_get(root, "input")) && n->kind == NANO_CFG_SCALAR) {
        nano_json_key(w, "input");
        nano_json_str(w, n->str);
    }
    if ((n = nano_cfg_get(root, "description")) && n->kind == NANO_CFG_SCALAR) {
        nano_json_key(w, "description");
        nano_json_str(w, n->str);
    }
    if (s->error[0] && s->status != SVC_RUNNING) {
        nano_json_key(w, "error");
        nano_json_str(w, s->error);
    }
    if (s->main.st) {
        nano_rule_get_status(s->main.st, &st);
        nano_json_key(w, "state");
        nano_json_str(w, nano_rule_phase_name(st.phase));
        nano_json_key(w, "since_s_ago");
        nano_json_num(w, now >= st.since_ns && st.since_ns ?
                      (double)(now - st.since_ns) / 1e9 :
                      (double)(now - s->started_ns) / 1e9);
        nano_json_key(w, "fires");
        nano_json_uint(w, st.fires);
        if (detail) {
            nano_json_key(w, "detail");
            nano_rule_write_status(s->main.st, now, w);
        } else {
            nano_json_key(w, "last_action");
            if (st.last_action[0]) {
                nano_json_obj_begin(w);
                nano_json_key(w, "action");
                nano_json_str(w, st.last_action);
                nano_json_key(w, "result");
                nano_json_str(w, st.last_action_rc == NANO_OK ? "ok" :
                              nano_strerror(st.last_action_rc));
                nano_json_obj_end(w);
            } else {
                nano_json_null(w);
            }
        }
    }
    if (s->rule && nano_rule_filter(s->rule)) {
        uint64_t fires = 0, active = 0;
        unsigned listed = 0;
        for (unsigned i = 0; i < s->tab_cap; i++)
            for (const struct tstate *t = s->tab[i]; t; t = t->next) {
                nano_rule_get_status(t->h.st, &st);
                fires += st.fires;
                active += st.phase == NANO_RULE_ACTIVE;
            }
        nano_json_key(w, "topics");
        nano_json_uint(w, s->n_topics);
        nano_json_key(w, "active_topics");
        nano_json_uint(w, active);
        nano_json_key(w, "fires");
        nano_json_uint(w, fires);
        nano_json_key(w, "topics_dropped");
        nano_json_uint(w, s->topics_dropped);
        nano_json_key(w, "malformed");
        nano_json_uint(w, s->malformed);
        if (detail) {
            nano_json_key(w, "per_topic");
            nano_json_arr_begin(w);
            for (unsigned i = 0; i < s->tab_cap; i++)
                for (const struct tstate *t = s->tab[i]; t; t = t->next)
                    if (listed++ < LIST_TOPICS_MAX)
                        nano_rule_write_status(t->h.st, now, w);
            nano_json_arr_end(w);
        }
    }
    if (detail && s->rule) {
        nano_json_key(w, "state_bytes");
        nano_json_uint(w, nano_rule_state_size(s->rule) *
                          (nano_rule_filter(s->rule) ? s->n_topics : 1));
        nano_json_key(w, "instructions");
        nano_json_uint(w, nano_rule_code_len(s->rule));
        nano_json_key(w, "inputs");
        nano_json_arr_begin(w);
        for (unsigned i = 0; i < nano_rule_n_inputs(s->rule); i++)
            nano_json_str(w, nano_rule_input_key(s->rule, i));
        nano_json_arr_end(w);
    }
    if (detail) {
        struct nano_buf b;
        nano_json_key(w, "config");
        nano_buf_init(&b, 1 << 20);
        if (nano_cfg_to_json(root, &b) == NANO_OK && b.len)
            nano_json_raw(w, b.data, b.len);
        else
            nano_json_null(w);
        nano_buf_free(&b);
    }
}

void
nano_rules_write_list(struct nano_rules *rs, struct nano_json *w)
{
    struct nano_list *it;

    nano_json_arr_begin(w);
    nano_list_foreach(it, &rs->svcs) {
        nano_json_obj_begin(w);
        write_summary(NANO_CONTAINER_OF(it, struct svc, link), w, false);
        nano_json_obj_end(w);
    }
    nano_json_arr_end(w);
}

int
nano_rules_write_status(struct nano_rules *rs, const char *name,
                        struct nano_json *w)
{
    struct svc *s = svc_find(rs, name);

    if (!s)
        return NANO_ENOTFOUND;
    nano_json_obj_begin(w);
    write_summary(s, w, true);
    nano_json_obj_end(w);
    return NANO_OK;
}

int
nano_rules_write_explain(struct nano_rules *rs, const char *name,
                         const char *topic, struct nano_json *w)
{
    struct svc *s = svc_find(rs, name);
    uint64_t now = nano_loop_now_ns(rs->loop);
    unsigned listed = 0;

    if (!s)
        return NANO_ENOTFOUND;
    if (s->status != SVC_RUNNING) {
        nano_json_obj_begin(w);
        nano_json_key(w, "service");
        nano_json_str(w, s->name);
        nano_json_key(w, "status");
        nano_json_str(w, status_names[s->status]);
        nano_json_key(w, "why");
        nano_json_str(w, s->status == SVC_WAITING ? s->error :
                      s->error[0] ? s->error : "the service is stopped");
        nano_json_obj_end(w);
        return NANO_OK;
    }
    if (s->main.st) {
        nano_rule_write_explain(s->main.st, now, w);
        return NANO_OK;
    }
    if (topic) {
        struct tstate *t = topic_find(s, topic, hash_topic(topic));
        if (!t)
            return NANO_ENOTFOUND;
        nano_rule_write_explain(t->h.st, now, w);
        return NANO_OK;
    }
    nano_json_obj_begin(w);
    nano_json_key(w, "service");
    nano_json_str(w, s->name);
    nano_json_key(w, "input");
    nano_json_str(w, nano_rule_filter(s->rule));
    nano_json_key(w, "topics_total");
    nano_json_uint(w, s->n_topics);
    nano_json_key(w, "topics");
    nano_json_arr_begin(w);
    for (unsigned i = 0; i < s->tab_cap; i++)
        for (struct tstate *t = s->tab[i]; t; t = t->next)
            if (listed++ < EXPLAIN_TOPICS_MAX)
                nano_rule_write_explain(t->h.st, now, w);
    nano_json_arr_end(w);
    if (!s->n_topics) {
        nano_json_key(w, "why");
        nano_json_str(w, "no message has arrived on the input filter yet");
    }
    nano_json_obj_end(w);
    return NANO_OK;
}
