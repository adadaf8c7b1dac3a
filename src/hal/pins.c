/* SPDX-License-Identifier: MIT
 *
 * pins.c - named GPIO pins (contract in pins.h).
 *
 * Pins live in one array in config order.  A pin is a struct that is never
 * freed before nano_pins_shutdown(): a reload that drops a pin releases its
 * line and marks it unconfigured, and a reload that brings the name back
 * reuses the struct, so pointers held by compiled rules stay valid.
 *
 * The set path is deliberately short: check, one GPIO call, and when the
 * level changed, nano_loop_defer() of the pin's embedded work item, whose
 * callback publishes `pins/<name>` (the message allocation happens there,
 * after the rule that switched the pin returned).  Inputs publish from
 * their edge-event fd: each event's direction is the new level, so a pulse
 * shorter than one loop iteration still shows as two messages.
 */
#include <stdio.h>
#include <string.h>

#include "core/bus.h"
#include "core/cfg.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/value.h"
#include "hal/gpio.h"
#include "hal/pins.h"

#define PINS_MAX 256

struct pin_cfg {
    char                 chip[64];
    unsigned             line;
    enum nano_gpio_dir   dir;
    int                  initial;
    bool                 active_low;
    enum nano_gpio_bias  bias;
    enum nano_gpio_drive drive;
    bool                 publish;
};

struct nano_pin {
    char                   name[NANO_PIN_NAME_MAX + 1];
    char                   topic[NANO_PIN_NAME_MAX + 8];
    char                  *description;     /* owned, or NULL */
    struct pin_cfg         cfg;
    struct nano_gpio_line *line;            /* NULL: not live */
    struct nano_io         io;              /* input edge events */
    struct nano_work       pub;             /* deferred publish */
    bool                   configured;
    int                    error;           /* why line is NULL */
    int                    level;           /* logical, last known */
    int                    published;       /* last published, -1: none */
    uint64_t               changes;
};

static struct {
    struct nano_loop *loop;
    struct nano_bus  *bus;
    struct nano_pin **v;                   /* configured first, in order */
    unsigned          n, cap;
} P;

/* ---- schema ------------------------------------------------------------------ */

static const char *const dir_names[] = { "in", "out", NULL };
static const char *const level_names[] = { "low", "high", "0", "1", NULL };
static const char *const bias_names[] = {
    "as-is", "pull-up", "pull-down", "disabled", NULL
};
static const char *const drive_names[] = {
    "push-pull", "open-drain", "open-source", NULL
};

const struct nano_cfg_field nano_pins_cfg_fields[] = {
    { .key = "chip", .type = NANO_CFGT_STR,
      .help = "GPIO chip: gpiochip0 (/dev/gpiochip0) or sim:gpiochip0" },
    { .key = "line", .type = NANO_CFGT_INT, .required = true, .min = 0,
      .max = 1023, .help = "line offset on the chip (BCM number on a Pi)" },
    { .key = "direction", .type = NANO_CFGT_ENUM, .choices = dir_names,
      .help = "in (default) or out" },
    { .key = "initial", .type = NANO_CFGT_ENUM, .choices = level_names,
      .help = "outputs: level set when the line is requested (default low)" },
    { .key = "active_low", .type = NANO_CFGT_BOOL,
      .help = "true: logical HIGH drives the line low" },
    { .key = "bias", .type = NANO_CFGT_ENUM, .choices = bias_names,
      .help = "as-is, pull-up, pull-down or disabled" },
    { .key = "drive", .type = NANO_CFGT_ENUM, .choices = drive_names,
      .help = "outputs: push-pull, open-drain or open-source" },
    { .key = "publish", .type = NANO_CFGT_BOOL,
      .help = "publish level changes on pins/<name> (default true)" },
    { .key = "sim", .type = NANO_CFGT_BOOL,
      .help = "use the emulated chip of that name" },
    { .key = "description", .type = NANO_CFGT_STR,
      .help = "free text shown in listings" },
    { 0 }
};

static const struct nano_cfg_field pin_item = {
    .key = "pin", .type = NANO_CFGT_MAP, .fields = nano_pins_cfg_fields,
};

static const struct nano_cfg_field pins_schema = {
    .key = "pins", .type = NANO_CFGT_DICT, .item = &pin_item,
    .help = "named GPIO pins: name -> {chip, line, direction, ...}",
};

static bool
name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NANO_PIN_NAME_MAX)
        return false;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static const char *
scalar(const struct nano_cfg_node *map, const char *key, const char *def)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, key);

    return n && n->kind == NANO_CFG_SCALAR ? n->str : def;
}

static bool
flag(const struct nano_cfg_node *map, const char *key, bool def)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, key);
    bool v = def;

    if (n && nano_cfg_as_bool(n, &v, NULL) != NANO_OK)
        v = def;
    return v;
}

/* Settings of a validated pin map. */
static void
parse_pin(const struct nano_cfg_node *map, struct pin_cfg *c)
{
    const char *chip = scalar(map, "chip", "gpiochip0");
    int64_t line = 0;
    int lvl = 0;

    memset(c, 0, sizeof *c);
    if (flag(map, "sim", false) && strncmp(chip, "sim:", 4) != 0)
        snprintf(c->chip, sizeof c->chip, "sim:%s", chip);
    else
        snprintf(c->chip, sizeof c->chip, "%s", chip);
    nano_cfg_as_int(nano_cfg_get(map, "line"), 0, 1023, &line, NULL);
    c->line = (unsigned)line;
    nano_gpio_dir_parse(scalar(map, "direction", "in"), &c->dir);
    nano_gpio_level_parse(scalar(map, "initial", "low"), &lvl);
    c->initial = lvl;
    c->active_low = flag(map, "active_low", false);
    nano_gpio_bias_parse(scalar(map, "bias", "as-is"), &c->bias);
    nano_gpio_drive_parse(scalar(map, "drive", "push-pull"), &c->drive);
    c->publish = flag(map, "publish", true);
}

int
nano_pins_validate(const struct nano_cfg_node *pins, struct nano_diag *d)
{
    const struct nano_cfg_node *a, *b;
    struct pin_cfg ca, cb;
    int rc;

    if (!pins || pins->kind == NANO_CFG_NULL)
        return NANO_OK;
    rc = nano_cfg_validate(pins, &pins_schema, "'pins'", NULL, d);
    if (rc != NANO_OK)
        return rc;
    if (pins->count > PINS_MAX)
        return nano_cfg_error(pins, d, "at most %d pins", PINS_MAX);
    for (a = pins->child; a; a = a->next) {
        if (!name_ok(a->key))
            return nano_diag_set(d, NANO_ESCHEMA, a->key_line, a->key_col,
                                 "pin name '%s' must be an identifier: a letter "
                                 "or '_', then letters, digits or '_' (at most "
                                 "%d), because rules use it", a->key,
                                 NANO_PIN_NAME_MAX);
        parse_pin(a, &ca);
        if (strlen(scalar(a, "chip", "gpiochip0")) >= sizeof ca.chip - 4)
            return nano_cfg_error(nano_cfg_get(a, "chip"), d,
                                  "chip name of pin '%s' is too long", a->key);
        if (ca.dir == NANO_GPIO_IN &&
            (nano_cfg_get(a, "initial") || nano_cfg_get(a, "drive"))) {
            const struct nano_cfg_node *n = nano_cfg_get(a, "initial");
            return nano_cfg_error(n ? n : nano_cfg_get(a, "drive"), d,
                                  "pin '%s' is an input: 'initial' and 'drive' "
                                  "apply to outputs (direction: out)", a->key);
        }
        for (b = pins->child; b != a; b = b->next) {
            parse_pin(b, &cb);
            if (ca.line == cb.line && strcmp(ca.chip, cb.chip) == 0)
                return nano_cfg_error(nano_cfg_get(a, "line"), d,
                                      "pin '%s' uses %s line %u, already used "
                                      "by pin '%s'", a->key, ca.chip, ca.line,
                                      b->key);
        }
    }
    return NANO_OK;
}

/* ---- publishing ---------------------------------------------------------------- */

static void
publish_level(struct nano_pin *p)
{
    struct nano_value v;

    if (!p->cfg.publish || !P.bus || p->level < 0 || p->level == p->published)
        return;
    v = nano_value_bool(p->level != 0);
    if (nano_bus_publish_value(P.bus, p->topic, &v) == NANO_OK)
        p->published = p->level;
}

static void
on_publish(struct nano_loop *loop, struct nano_work *w)
{
    (void)loop;
    publish_level(NANO_CONTAINER_OF(w, struct nano_pin, pub));
}

static void
on_edge(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct nano_pin *p = NANO_CONTAINER_OF(io, struct nano_pin, io);
    struct nano_gpio_event ev;
    int rc, n = 0;

    (void)loop;
    (void)events;
    while (p->line && n++ < 64 &&
           (rc = nano_gpio_read_event(p->line, &ev)) == NANO_OK) {
        p->level = ev.rising ? 1 : 0;
        p->changes++;
        publish_level(p);
    }
}

/* ---- lines ------------------------------------------------------------------------ */

static void
pin_release(struct nano_pin *p)
{
    if (P.loop) {
        nano_io_stop(P.loop, &p->io);
        nano_loop_cancel(P.loop, &p->pub);
    }
    nano_gpio_release(p->line);
    p->line = NULL;
}

static int
pin_request(struct nano_pin *p)
{
    struct nano_gpio_req req = {
        .line = p->cfg.line, .dir = p->cfg.dir, .bias = p->cfg.bias,
        .drive = p->cfg.drive, .active_low = p->cfg.active_low,
        .initial = p->cfg.initial, .consumer = p->name,
        .edge = p->cfg.dir == NANO_GPIO_IN && p->cfg.publish ? NANO_GPIO_EDGE_BOTH
                                                              : NANO_GPIO_EDGE_NONE,
    };
    int rc, lvl;

    rc = nano_gpio_request(p->cfg.chip, &req, &p->line);
    if (rc != NANO_OK) {
        p->error = rc;
        p->level = -1;
        return rc;
    }
    p->error = 0;
    if (nano_gpio_event_fd(p->line) >= 0 && P.loop) {
        nano_io_init(&p->io, nano_gpio_event_fd(p->line), on_edge);
        rc = nano_io_start(P.loop, &p->io, NANO_EV_READ);
        if (rc != NANO_OK) {
            pin_release(p);
            p->error = rc;
            p->level = -1;
            return rc;
        }
    }
    lvl = p->cfg.dir == NANO_GPIO_OUT ? p->cfg.initial : nano_gpio_get(p->line);
    p->level = lvl < 0 ? -1 : lvl;
    if (P.loop)
        nano_loop_defer(P.loop, &p->pub);       /* initial state */
    return NANO_OK;
}

/* ---- apply ---------------------------------------------------------------------------- */

int
nano_pins_init(struct nano_loop *loop, struct nano_bus *bus)
{
    P.loop = loop;
    P.bus = bus;
    return NANO_OK;
}

static struct nano_pin *
pin_lookup(const char *name)
{
    for (unsigned i = 0; i < P.n; i++)
        if (strcmp(P.v[i]->name, name) == 0)
            return P.v[i];
    return NULL;
}

static struct nano_pin *
pin_new(const char *name)
{
    struct nano_pin *p, **v;

    if (P.n == P.cap) {
        unsigned cap = P.cap ? P.cap * 2 : 8;
        v = nano_realloc(P.v, cap * sizeof *v);
        if (!v)
            return NULL;
        P.v = v;
        P.cap = cap;
    }
    p = nano_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->topic, sizeof p->topic, "pins/%s", name);
    nano_work_init(&p->pub, on_publish);
    nano_io_init(&p->io, -1, on_edge);
    p->level = -1;
    p->published = -1;
    P.v[P.n++] = p;
    return p;
}

int
nano_pins_apply(const struct nano_cfg_node *pins, struct nano_diag *d)
{
    const struct nano_cfg_node *n;
    struct nano_pin *p;
    struct pin_cfg c;
    unsigned pos = 0;
    int first = NANO_OK, rc;

    /* Release pins that are gone or changed; keep the unchanged untouched. */
    for (unsigned i = 0; i < P.n; i++) {
        p = P.v[i];
        n = pins && pins->kind == NANO_CFG_MAP ? nano_cfg_get(pins, p->name) : NULL;
        if (n)
            parse_pin(n, &c);
        if (!n || !p->line || memcmp(&c, &p->cfg, sizeof c) != 0) {
            pin_release(p);
            p->configured = false;
        }
    }
    for (n = pins && pins->kind == NANO_CFG_MAP ? pins->child : NULL; n; n = n->next) {
        const char *desc = scalar(n, "description", NULL);

        p = pin_lookup(n->key);
        if (!p && !(p = pin_new(n->key))) {
            if (first == NANO_OK)
                first = nano_diag_set(d, -ENOMEM, n->line, n->col,
                                      "pin '%s': out of memory", n->key);
            continue;
        }
        /* Config order: move p to position pos. */
        for (unsigned i = 0; i < P.n; i++) {
            if (P.v[i] == p) {
                memmove(P.v + pos + 1, P.v + pos, (i - pos) * sizeof *P.v);
                P.v[pos++] = p;
                break;
            }
        }
        if (!desc || !p->description || strcmp(desc, p->description) != 0) {
            nano_free(p->description);
            p->description = desc ? nano_strdup(desc) : NULL;
        }
        if (p->configured)
            continue;                           /* unchanged and live */
        parse_pin(n, &p->cfg);
        p->configured = true;
        p->published = -1;
        rc = pin_request(p);
        if (rc != NANO_OK) {
            nano_logf(NANO_LOG_WARN, "pins", "pin '%s': %s line %u: %s",
                      p->name, p->cfg.chip, p->cfg.line, nano_strerror(rc));
            if (first == NANO_OK)
                first = nano_diag_set(d, rc, n->line, n->col,
                                      "pin '%s': %s line %u: %s", p->name,
                                      p->cfg.chip, p->cfg.line,
                                      nano_strerror(rc));
        }
    }
    return first;
}

void
nano_pins_shutdown(void)
{
    for (unsigned i = 0; i < P.n; i++) {
        pin_release(P.v[i]);
        nano_free(P.v[i]->description);
        nano_free(P.v[i]);
    }
    nano_free(P.v);
    memset(&P, 0, sizeof P);
}

/* ---- use ------------------------------------------------------------------------------ */

struct nano_pin *
nano_pins_find(const char *name)
{
    return pin_lookup(name);
}

static int
not_live(const struct nano_pin *p)
{
    if (!p->configured)
        return NANO_ENOTFOUND;
    return p->error ? p->error : -ENODEV;
}

int
nano_pin_set(struct nano_pin *p, int level)
{
    int rc;

    if (!p->line)
        return not_live(p);
    if (p->cfg.dir != NANO_GPIO_OUT)
        return -EPERM;
    level = level != 0;
    rc = nano_gpio_set(p->line, level);
    if (rc != NANO_OK)
        return rc;
    if (level != p->level) {
        p->level = level;
        p->changes++;
        if (p->cfg.publish)
            nano_loop_defer(P.loop, &p->pub);   /* no-op if already queued */
    }
    return NANO_OK;
}

int
nano_pin_toggle(struct nano_pin *p)
{
    if (!p->line)
        return not_live(p);
    return nano_pin_set(p, !p->level);
}

int
nano_pin_get(struct nano_pin *p)
{
    int lvl;

    if (!p->line)
        return not_live(p);
    if (p->cfg.dir == NANO_GPIO_OUT)
        return p->level;
    lvl = nano_gpio_get(p->line);
    if (lvl >= 0 && !p->cfg.publish)
        p->level = lvl;
    return lvl;
}

int
nano_pins_set(const char *name, int level)
{
    struct nano_pin *p = pin_lookup(name);

    return p ? nano_pin_set(p, level) : NANO_ENOTFOUND;
}

int
nano_pins_toggle(const char *name)
{
    struct nano_pin *p = pin_lookup(name);

    return p ? nano_pin_toggle(p) : NANO_ENOTFOUND;
}

int
nano_pins_get(const char *name, int *level_out)
{
    struct nano_pin *p = pin_lookup(name);
    int lvl;

    if (!p)
        return NANO_ENOTFOUND;
    lvl = nano_pin_get(p);
    if (lvl < 0)
        return lvl;
    *level_out = lvl;
    return NANO_OK;
}

/* ---- listing ---------------------------------------------------------------------------- */

static void
info_of(struct nano_pin *p, struct nano_pin_info *in)
{
    int lvl = p->line ? nano_pin_get(p) : -1;

    in->name = p->name;
    in->chip = p->cfg.chip;
    in->description = p->description;
    in->line = p->cfg.line;
    in->output = p->cfg.dir == NANO_GPIO_OUT;
    in->active_low = p->cfg.active_low;
    in->live = p->line != NULL;
    in->level = lvl < 0 ? -1 : lvl;
    in->error = p->line ? 0 : not_live(p);
    in->changes = p->changes;
}

void
nano_pins_foreach(nano_pins_each_fn *fn, void *arg)
{
    struct nano_pin_info in;

    for (unsigned i = 0; i < P.n; i++) {
        if (!P.v[i]->configured)
            continue;
        info_of(P.v[i], &in);
        fn(arg, &in);
    }
}

unsigned
nano_pins_count(void)
{
    unsigned k = 0;

    for (unsigned i = 0; i < P.n; i++)
        k += P.v[i]->configured;
    return k;
}

static void
write_info(void *arg, const struct nano_pin_info *in)
{
    struct nano_json *w = arg;

    nano_json_obj_begin(w);
    nano_json_key(w, "name");
    nano_json_str(w, in->name);
    nano_json_key(w, "chip");
    nano_json_str(w, in->chip);
    nano_json_key(w, "line");
    nano_json_uint(w, in->line);
    nano_json_key(w, "direction");
    nano_json_str(w, in->output ? "out" : "in");
    nano_json_key(w, "active_low");
    nano_json_bool(w, in->active_low);
    nano_json_key(w, "level");
    if (in->level < 0)
        nano_json_null(w);
    else
        nano_json_uint(w, (unsigned)in->level);
    nano_json_key(w, "state");
    nano_json_str(w, in->live ? "ok" : "error");
    nano_json_key(w, "error");
    nano_json_str(w, in->live ? NULL : nano_strerror(in->error));
    nano_json_key(w, "changes");
    nano_json_uint(w, in->changes);
    if (in->description) {
        nano_json_key(w, "description");
        nano_json_str(w, in->description);
    }
    nano_json_obj_end(w);
}

void
nano_pins_write_json(struct nano_json *w)
{
    nano_json_arr_begin(w);
    nano_pins_foreach(write_info, w);
    nano_json_arr_end(w);
}

int
nano_pins_write_one(const char *name, struct nano_json *w)
{
    struct nano_pin *p = pin_lookup(name);
    struct nano_pin_info in;

    if (!p || !p->configured)
        return NANO_ENOTFOUND;
    info_of(p, &in);
    write_info(w, &in);
    return NANO_OK;
}
