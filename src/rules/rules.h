/* SPDX-License-Identifier: MIT
 *
 * rules.h - the rule engine's pure part: compile a service (a rule, its clear
 * condition and its actions) once, then drive one state per service (or per
 * topic) with "input changed at t" and "timer at t" events.
 *
 * Pure: no loop, no bus, no I/O.  Names are resolved through a callback the
 * caller supplies (struct nano_rule_resolver), actions and wake-up requests
 * leave through another (struct nano_rule_sink), and time is passed in with
 * every event, so unit tests, fuzzers and benchmarks drive the whole engine
 * without a daemon.  engine.h binds it to the loop, the bus and the devices.
 *
 * Cost: compiling allocates a few arrays; a state is one allocation sized at
 * compile time (inputs, window rings, filters).  Setting inputs, stepping the
 * state machine and evaluating allocate nothing (test_alloc proves it).
 *
 * Language and semantics: docs/rules.md.  Compiled form and VM:
 * docs/internals/rules.md.
 *
 * Context: not thread-safe; a rule and its states belong to one thread.
 */
#ifndef NANO_RULES_RULES_H
#define NANO_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"
#include "core/value.h"

struct nano_json;
struct nano_rule;
struct nano_rule_state;

/* Limits (compile errors past these, never silent truncation). */
#define NANO_RULE_TEXT_MAX      4096   /* bytes of one rule or action text */
#define NANO_RULE_MAX_NODES     512    /* syntax nodes in one text */
#define NANO_RULE_MAX_DEPTH     48     /* nesting of parentheses and calls */
#define NANO_RULE_MAX_STACK     64     /* VM stack slots */
#define NANO_RULE_MAX_INPUTS    32     /* distinct inputs of one service */
#define NANO_RULE_MAX_WINDOWS   16     /* distinct (input, duration) windows */
#define NANO_RULE_MAX_ACTIONS   16     /* per list (action, on_clear, safe) */
#define NANO_RULE_WINDOW_CAP    4096   /* readings kept by one window, at most */
#define NANO_RULE_WINDOW_MAX_NS (86400ull * 1000000000ull)  /* 1 day */
#define NANO_RULE_OUT_MAX       4096   /* formatted topic/payload/log text */

/* ---- names ---------------------------------------------------------------- */

enum nano_rule_sym_kind {
    NANO_RSYM_INPUT = 1,   /* a reading on a bus topic (sym.key = the topic) */
    NANO_RSYM_PIN,         /* a pin: state readable on sym.key (a topic),
                              name for gpio actions in sym.name */
    NANO_RSYM_CONST,       /* a number (sym.value) */
    NANO_RSYM_FIELD,       /* topic services: a field of the payload (sym.key) */
};

/* What the compiler asks for. */
#define NANO_RSYM_WANT_VALUE 0x1u    /* a name inside an expression */
#define NANO_RSYM_WANT_PIN   0x2u    /* the first argument of gpio.set/toggle */

struct nano_rule_sym {
    enum nano_rule_sym_kind kind;
    const char  *key;          /* Borrows (copied by the compiler) */
    const char  *name;         /* PIN: pin name (Borrows, copied) */
    double       value;        /* CONST */
    uint64_t     interval_ns;  /* INPUT: expected time between readings, 0 unknown */
    /* On NANO_ENOTFOUND / NANO_EAMBIG: what the message lists.
     * Returns borrowed; valid until the next call of the resolver. */
    const char *const *names;  /* NULL-terminated candidates, or NULL */
    const char  *names_what;   /* "quantities", "pins", "instances", ... */
    const char  *hint;         /* optional extra sentence, or NULL */
};

/* Resolve name (dotted text as written: "temperature", "boiler.temperature",
 * "led_pin").  want is NANO_RSYM_WANT_*.  Return NANO_OK and fill out, or
 * NANO_ENOTFOUND / NANO_EAMBIG with out->names listing what exists (known
 * quantities; the instances of an ambiguous quantity; known pins). */
typedef int nano_rule_resolve_fn(void *arg, const char *name, unsigned want,
                                 struct nano_rule_sym *out);

struct nano_rule_resolver {
    nano_rule_resolve_fn *resolve;
    void                 *arg;
};

/* ---- definition ----------------------------------------------------------- */

/* A service as configured.  Texts are Borrowed during compilation only. */
struct nano_rule_def {
    const char        *name;          /* service name: logs, {service} */
    const char        *rule;          /* the condition; required */
    const char        *clear;         /* hysteresis: active until this holds;
                                         NULL: until the rule is false */
    const char *const *action;        /* run when the service fires */
    size_t             n_action;
    const char *const *on_clear;      /* run when it clears */
    size_t             n_on_clear;
    const char *const *safe;          /* run when an input goes stale/faulty */
    size_t             n_safe;
    uint64_t           for_ns;        /* rule must hold this long to fire */
    uint64_t           cooldown_ns;   /* least time between two fires */
    uint64_t           min_on_ns;     /* least time active before clearing */
    uint64_t           min_off_ns;    /* least time cleared before firing */
    uint64_t           stale_after_ns;/* an input older than this is stale; 0 off */
    uint64_t           interval_ns;   /* expected reading interval when the
                                         resolver cannot say (sizes windows);
                                         0: 1 s */
    const char        *input;         /* topic filter: a topic service, state
                                         per matching topic; NULL: named inputs */
};

/*
 * nano_rule_compile - parse, resolve, type-check and compile a service.
 *
 * Returns NANO_OK and *rule_out (Returns owned; free with nano_rule_free()),
 * or NANO_EPARSE (syntax), NANO_ETYPE (e.g. a number where a condition is
 * needed), NANO_ENOTFOUND (unknown name), NANO_EAMBIG (ambiguous quantity),
 * NANO_ESCHEMA (bad timing parameter or filter) or -ENOMEM, with *rule_out
 * NULL and d filled: d->origin is the field ("rule", "clear", "action",
 * "action[2]", "on_clear", "safe"; static strings), d->line/d->col the
 * position inside that text and d->msg the sentence ("expected an
 * expression").  Never aborts on bad input.  Borrows def and res.
 */
int  nano_rule_compile(const struct nano_rule_def *def,
                       const struct nano_rule_resolver *res,
                       struct nano_rule **rule_out, struct nano_diag *d);
void nano_rule_free(struct nano_rule *r);                /* NULL is a no-op */

/* Format "line:col: msg", the text's line and a caret under the column:
 *     1:15: expected an expression
 *       temperature > > 75
 *                     ^
 * into out.  src is the text d refers to.  Returns out. */
char *nano_rule_diag_caret(const struct nano_diag *d, const char *src,
                           char *out, size_t cap);

/* ---- what a compiled rule reads ------------------------------------------- */

/* Inputs: 0..n-1.  Returns borrowed; valid until nano_rule_free(). */
unsigned    nano_rule_n_inputs(const struct nano_rule *r);
enum nano_rule_sym_kind nano_rule_input_kind(const struct nano_rule *r,
                                             unsigned i);
const char *nano_rule_input_key(const struct nano_rule *r, unsigned i);
const char *nano_rule_input_label(const struct nano_rule *r, unsigned i);
/* Topic filter of a topic service, or NULL. */
const char *nano_rule_filter(const struct nano_rule *r);
const char *nano_rule_name(const struct nano_rule *r);
/* Bytes one state takes (inputs, windows, filters, state machine). */
size_t      nano_rule_state_size(const struct nano_rule *r);
/* Program size in VM instructions, for status. */
unsigned    nano_rule_code_len(const struct nano_rule *r);

/* ---- actions and wake-ups: the sink ----------------------------------------- */

/* Every slot is optional (NULL: that action fails with NANO_EDISABLED, is
 * counted and logged).  Sinks must not block; they return NANO_OK when the
 * action was done or queued.  st identifies the service (and topic); its
 * user pointer is nano_rule_state_udata(st). */
struct nano_rule_sink {
    int  (*gpio_set)(void *arg, struct nano_rule_state *st, const char *pin,
                     bool high);
    int  (*gpio_toggle)(void *arg, struct nano_rule_state *st, const char *pin);
    /* v borrows the formatted text, valid during the call. */
    int  (*publish)(void *arg, struct nano_rule_state *st, const char *topic,
                    const struct nano_value *v);
    /* body is JSON when is_json, else text; NULL body: no body. */
    int  (*webhook)(void *arg, struct nano_rule_state *st, const char *url,
                    const char *body, size_t len, bool is_json);
    /* NULL: nano_logf(level, "rules", "<service>: <text>"). */
    int  (*log)(void *arg, struct nano_rule_state *st,
                enum nano_log_level level, const char *text);
    /* The state wants a timer event at mono time at_ns (0: none needed).
     * Called at the end of a step when the wanted time changed. */
    void (*wake)(void *arg, struct nano_rule_state *st, uint64_t at_ns);
    /* Wall clock for hour()/minute()/weekday(); NULL: the real clock. */
    int64_t (*wall_ns)(void *arg);
    void *arg;
};

/* ---- states --------------------------------------------------------------- */

/*
 * nano_rule_state_new - a fresh state for r (idle, no readings).
 * topic: the topic of a topic service's state (copied), else NULL.
 * now_ns: monotonic creation time (age() counts from it before the first
 * reading).  Returns NANO_OK and *st_out (Returns owned; free with
 * nano_rule_state_free()), -EINVAL when topic does not match r's filter, or
 * -ENOMEM.  Keeps r until nano_rule_state_free().
 */
int  nano_rule_state_new(const struct nano_rule *r, const char *topic,
                         uint64_t now_ns, struct nano_rule_state **st_out);
void nano_rule_state_free(struct nano_rule_state *st);

void  nano_rule_state_set_udata(struct nano_rule_state *st, void *udata);
void *nano_rule_state_udata(const struct nano_rule_state *st);
const struct nano_rule *nano_rule_state_rule(const struct nano_rule_state *st);
const char *nano_rule_state_topic(const struct nano_rule_state *st);

/*
 * nano_rule_set_input - input i has a new reading v at mono time t_ns
 * (windows, ewma and age update; quality STALE/FAULT makes it unknown).
 * Does not evaluate: call nano_rule_step() after one or more inputs changed.
 * Borrows v; text payloads must stay valid until the next set of input i
 * (the engine keeps the message referenced).  Allocates nothing.
 */
void nano_rule_set_input(struct nano_rule_state *st, unsigned i,
                         const struct nano_value *v, uint64_t t_ns);

/*
 * nano_rule_set_message - a topic service's reading: extract the fields the
 * service reads (`value`, `ts`, any name) from v (a number, a string, or a
 * JSON object scanned without allocating) and set them.  Same lifetime rule
 * as nano_rule_set_input() for v's text.  Returns NANO_OK, or -EPROTO when a
 * JSON payload is malformed (fields the scan did not reach are unknown).
 */
int  nano_rule_set_message(struct nano_rule_state *st,
                           const struct nano_value *v, uint64_t t_ns);

/*
 * nano_rule_step - evaluate and run the state machine at mono time now_ns
 * (after inputs changed, or when the wake time asked for has come).  Runs
 * actions through sink and asks for the next wake-up.  Allocates nothing.
 */
void nano_rule_step(struct nano_rule_state *st, uint64_t now_ns,
                    const struct nano_rule_sink *sink);

/* Forget the state machine's history (idle, counters kept), e.g. restart. */
void nano_rule_state_reset(struct nano_rule_state *st, uint64_t now_ns);

enum nano_rule_phase {
    NANO_RULE_IDLE = 0,     /* never fired, or reset */
    NANO_RULE_PENDING,      /* rule holds, waiting for `for` (or a hold-off) */
    NANO_RULE_ACTIVE,       /* fired; waiting for the clear condition */
    NANO_RULE_CLEARED,      /* was active, cleared */
};
const char *nano_rule_phase_name(enum nano_rule_phase p);

struct nano_rule_status {
    enum nano_rule_phase phase;
    uint64_t since_ns;         /* mono time the phase began */
    bool     safe_mode;        /* an input is stale or faulty */
    double   last_result;      /* 1, 0, or NaN (unknown) */
    uint64_t evals, fires, clears, safes, unknowns;
    uint64_t actions_ok, actions_failed;
    int      last_action_rc;   /* NANO_OK or the last failure */
    char     last_action[64];  /* e.g. "gpio.set(led_pin, HIGH)" */
    uint64_t last_fire_ns, last_clear_ns;
    uint64_t wake_ns;          /* next timer wanted, 0: none */
    uint64_t window_overflows; /* readings dropped by full windows */
};
void nano_rule_get_status(const struct nano_rule_state *st,
                          struct nano_rule_status *out);

/* Actions that failed so far (cheap: for the daemon's metrics). */
uint64_t nano_rule_state_failures(const struct nano_rule_state *st);

/* Evaluate the rule now (windows advanced to now_ns) and return 1, 0 or NaN.
 * For tests and benchmarks: no state machine, no actions.  Allocates nothing. */
double nano_rule_eval(struct nano_rule_state *st, uint64_t now_ns);

/* Format what action i of a list (0 action, 1 on_clear, 2 safe) would do
 * now, without doing it: "led_pin HIGH", "alerts/boiler {\"value\":80.2}",
 * the text of a log, "http://hub/x {...}".  Returns NANO_OK, -ENOENT (no
 * such action) or -ENOSPC.  Allocates nothing. */
int nano_rule_preview(struct nano_rule_state *st, unsigned list, unsigned i,
                      uint64_t now_ns, char *out, size_t cap);

/* ---- JSON views ---------------------------------------------------------- */

/* {"phase":..,"since_ms_ago":..,"fires":..,...} for status listings. */
void nano_rule_write_status(const struct nano_rule_state *st, uint64_t now_ns,
                            struct nano_json *w);

/* Every input with its value, quality and age; every sub-expression of the
 * rule and clear condition with its current value; and a sentence saying why
 * the service is or is not firing.  Evaluates at now_ns (advances windows,
 * runs no action). */
void nano_rule_write_explain(struct nano_rule_state *st, uint64_t now_ns,
                             struct nano_json *w);

/* ---- helpers exposed for tests and the fuzzer ----------------------------- */

/* Scan a JSON object's top level for the n keys in keys[] (not escaped).
 * For each key found: out[i] gets a value view (NUM, BOOL, STR with the raw
 * escaped text, JSON for nested objects/arrays, NONE for null) and found[i]
 * true.  Allocation-free; nested values are skipped, not parsed.
 * Returns NANO_OK, or -EPROTO for malformed JSON or when p is not an object. */
int nano_rule_json_scan(const char *p, size_t len, const char *const *keys,
                        size_t n, struct nano_value *out, bool *found);

#endif
