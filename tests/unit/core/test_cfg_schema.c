/* SPDX-License-Identifier: MIT
 *
 * test_cfg_schema.c - nano_cfg_validate() against a schema shaped like
 * Nano's own: log settings, devices (a dict of open maps whose extra keys a
 * driver check validates), pins (a dict of fixed maps, plus a check that no
 * two pins share a line), tags and uplinks.  Each malformed config pins the
 * exact file:line:col message, in YAML and in JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/nt.h"
#include "core/cfg.h"

#include "cfg_test.h"

/* ---- the schema ------------------------------------------------------------ */

static const char *const levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const formats[] = { "text", "json", NULL };
static const char *const directions[] = { "in", "out", NULL };

static const struct nano_cfg_field log_fields[] = {
    { .key = "level", .type = NANO_CFGT_ENUM, .choices = levels,
      .help = "least severe level written" },
    { .key = "format", .type = NANO_CFGT_ENUM, .choices = formats,
      .help = "text for people, json for collectors" },
    { .key = "rate", .type = NANO_CFGT_NUM, .min = 0, .max = 1000,
      .help = "messages per second before dropping" },
    { 0 }
};

/* Keys every device has; the rest belong to its driver. */
static const struct nano_cfg_field device_fields[] = {
    { .key = "driver", .type = NANO_CFGT_STR, .required = true,
      .help = "driver name, e.g. bme280" },
    { .key = "interval", .type = NANO_CFGT_DURATION, .min = 0.1, .max = 3600,
      .help = "time between samples" },
    { .key = "enabled", .type = NANO_CFGT_BOOL, .help = "sample at all" },
    { 0 }
};

static const struct nano_cfg_field bme280_params[] = {
    { .key = "bus", .type = NANO_CFGT_STR, .help = "I2C adapter" },
    { .key = "oversampling", .type = NANO_CFGT_INT, .min = 1, .max = 16,
      .help = "samples averaged per reading" },
    { 0 }
};

static const struct nano_cfg_field ds18b20_params[] = {
    { .key = "sensor_id", .type = NANO_CFGT_STR, .required = true,
      .help = "1-Wire id, 28-..." },
    { 0 }
};

struct drv {
    const char                  *name;
    const struct nano_cfg_field *params;
};

static const struct drv drivers[] = {
    { "bme280", bme280_params },
    { "ds18b20", ds18b20_params },
    { NULL, NULL },
};

struct check_stats {
    int devices;
    int pin_sets;
};

/* What a driver registry does: the driver's own parameters, by its table. */
static int
check_device(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    struct check_stats *st = arg;
    const struct nano_cfg_node *dn = nano_cfg_get(n, "driver");
    const struct drv *drv = NULL;
    const char *names[16], *best;
    size_t k = 0;

    st->devices++;
    if (!dn)
        return NANO_OK;                  /* an empty device: nothing to do */
    for (const struct drv *v = drivers; v->name; v++) {
        if (strcmp(v->name, dn->str) == 0)
            drv = v;
        names[k++] = v->name;
    }
    names[k] = NULL;
    if (!drv) {
        best = nano_suggest(dn->str, names);
        if (best)
            return nano_cfg_error(dn, d, "unknown driver '%s' (did you mean "
                                  "'%s'?)", dn->str, best);
        return nano_cfg_error(dn, d, "unknown driver '%s'", dn->str);
    }
    k = 0;
    for (const struct nano_cfg_field *f = device_fields; f->key; f++)
        names[k++] = f->key;
    for (const struct nano_cfg_field *f = drv->params; f->key; f++)
        names[k++] = f->key;
    names[k] = NULL;
    for (const struct nano_cfg_node *c = n->child; c; c = c->next) {
        const struct nano_cfg_field *pf = NULL;
        char what[80];
        int rc;

        for (const struct nano_cfg_field *f = device_fields; f->key; f++)
            if (strcmp(f->key, c->key) == 0)
                pf = f;
        if (pf)
            continue;
        for (const struct nano_cfg_field *f = drv->params; f->key; f++)
            if (strcmp(f->key, c->key) == 0)
                pf = f;
        if (!pf) {
            best = nano_suggest(c->key, names);
            return nano_diag_set(d, NANO_ESCHEMA, c->key_line, c->key_col,
                                 "unknown key '%s' in device '%s'%s%s%s",
                                 c->key, n->key, best ? " (did you mean '" : "",
                                 best ? best : "", best ? "'?)" : "");
        }
        snprintf(what, sizeof what, "'%s'", c->key);
        rc = nano_cfg_validate(c, pf, what, arg, d);
        if (rc != NANO_OK)
            return rc;
    }
    for (const struct nano_cfg_field *f = drv->params; f->key; f++)
        if (f->required && !nano_cfg_get(n, f->key))
            return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                 "missing required key '%s' in device '%s'",
                                 f->key, n->key);
    return NANO_OK;
}

/* A check across entries: two pins on one chip line would fight. */
static int
check_pins(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    struct check_stats *st = arg;

    st->pin_sets++;
    for (const struct nano_cfg_node *a = n->child; a; a = a->next)
        for (const struct nano_cfg_node *b = a->next; b; b = b->next) {
            const struct nano_cfg_node *la = nano_cfg_get(a, "line");
            const struct nano_cfg_node *lb = nano_cfg_get(b, "line");

            if (la && lb && strcmp(la->str, lb->str) == 0 &&
                strcmp(nano_cfg_get(a, "chip")->str,
                       nano_cfg_get(b, "chip")->str) == 0)
                return nano_cfg_error(lb, d, "pin '%s' uses line %s, already "
                                      "used by pin '%s' at %u:%u", b->key,
                                      lb->str, a->key, la->line, la->col);
        }
    return NANO_OK;
}

static const struct nano_cfg_field device = {
    .type = NANO_CFGT_MAP, .fields = device_fields, .open = true,
    .check = check_device,
};

static const struct nano_cfg_field pin_fields[] = {
    { .key = "chip", .type = NANO_CFGT_STR, .required = true },
    { .key = "line", .type = NANO_CFGT_INT, .required = true, .min = 0,
      .max = 1023 },
    { .key = "direction", .type = NANO_CFGT_ENUM, .choices = directions,
      .required = true },
    { 0 }
};

static const struct nano_cfg_field pin = {
    .type = NANO_CFGT_MAP, .fields = pin_fields,
};

static const struct nano_cfg_field uplink_fields[] = {
    { .key = "url", .type = NANO_CFGT_STR, .required = true },
    { .key = "retry", .type = NANO_CFGT_DURATION },
    { 0 }
};

static const struct nano_cfg_field uplink = {
    .type = NANO_CFGT_MAP, .fields = uplink_fields,
};

static const struct nano_cfg_field top_fields[] = {
    { .key = "log", .type = NANO_CFGT_MAP, .fields = log_fields },
    { .key = "devices", .type = NANO_CFGT_DICT, .item = &device,
      .noun = "device" },
    { .key = "pins", .type = NANO_CFGT_DICT, .item = &pin, .noun = "pin",
      .check = check_pins },
    { .key = "tags", .type = NANO_CFGT_STR_OR_LIST },
    { .key = "uplinks", .type = NANO_CFGT_LIST, .item = &uplink,
      .noun = "uplink" },
    { 0 }
};

static const struct nano_cfg_field schema = {
    .type = NANO_CFGT_MAP, .fields = top_fields,
};

/* ---- helpers --------------------------------------------------------------- */

static const char base_yaml[] =
    "# nano.yaml - a small installation\n"          /*  1 */
    "log:\n"                                        /*  2 */
    "  level: info\n"                               /*  3 */
    "  format: text\n"                              /*  4 */
    "devices:\n"                                    /*  5 */
    "  boiler:\n"                                   /*  6 */
    "    interval: 10s\n"                           /*  7 */
    "    driver: bme280\n"                          /*  8 */
    "    enabled: true\n"                           /*  9 */
    "    bus: i2c-1\n"                              /* 10 */
    "    oversampling: 4\n"                         /* 11 */
    "  tank:\n"                                     /* 12 */
    "    driver: ds18b20\n"                         /* 13 */
    "    sensor_id: 28-0000072431d2\n"              /* 14 */
    "    interval: 1m\n"                            /* 15 */
    "pins:\n"                                       /* 16 */
    "  led:\n"                                      /* 17 */
    "    chip: gpiochip0\n"                         /* 18 */
    "    line: 17\n"                                /* 19 */
    "    direction: out\n"                          /* 20 */
    "  button: {chip: gpiochip0, line: 4, direction: in}\n" /* 21 */
    "tags: [heating, cellar]\n";                    /* 22 */

static const char base_json[] =
    "{\n"
    "  \"log\": {\"level\": \"info\", \"format\": \"text\"},\n"
    "  \"devices\": {\n"
    "    \"boiler\": {\"interval\": \"10s\", \"driver\": \"bme280\", "
    "\"enabled\": true, \"bus\": \"i2c-1\", \"oversampling\": 4},\n"
    "    \"tank\": {\"driver\": \"ds18b20\", \"sensor_id\": \"28-0000072431d2\", "
    "\"interval\": \"1m\"}\n"
    "  },\n"
    "  \"pins\": {\n"
    "    \"led\": {\"chip\": \"gpiochip0\", \"line\": 17, \"direction\": \"out\"},\n"
    "    \"button\": {\"chip\": \"gpiochip0\", \"line\": 4, \"direction\": \"in\"}\n"
    "  },\n"
    "  \"tags\": [\"heating\", \"cellar\"]\n"
    "}\n";

/* base with line `no` (1-based) replaced by `text` (NULL deletes it; text
 * may hold several lines).  Returns a heap string. */
static char *
replace_line(const char *base, int no, const char *text)
{
    const char *p = base, *start, *end;
    size_t tl = text ? strlen(text) + 1 : 0;
    char *out;

    for (int i = 1; i < no && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    NT_ASSERT(p && *p);
    start = p;
    end = strchr(start, '\n');
    end = end ? end + 1 : start + strlen(start);
    out = malloc(strlen(base) + tl + 1);
    memcpy(out, base, (size_t)(start - base));
    out[start - base] = '\0';
    if (text) {
        strcat(out, text);
        strcat(out, "\n");
    }
    strcat(out, end);
    return out;
}

/* Parse and validate; "OK" or the formatted diagnostic (static buffer). */
static const char *
check(int lang, const char *text, int *rc_out)
{
    static char out[NANO_DIAG_MSG_MAX + 128];
    const char *origin = lang == CFG_JSON ? "nano.json" : "nano.yaml";
    struct check_stats st = { 0, 0 };
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d;
    int rc;

    memset(&d, 0, sizeof d);
    rc = cfg_parse(lang, text, origin, &doc, &d);
    if (rc == NANO_OK) {
        memset(&d, 0, sizeof d);
        rc = nano_cfg_validate_doc(doc, &schema, NULL, &st, &d);
    }
    if (rc_out)
        *rc_out = rc;
    if (rc == NANO_OK) {
        nano_cfg_free(doc);
        return "OK";
    }
    nano_diag_format(&d, out, sizeof out);
    nano_cfg_free(doc);                 /* after: d.origin points into doc */
    return out;
}

struct edit {
    int         line;        /* 0: text is a whole document */
    const char *text;
    const char *msg;
};

static void
run_edits(int lang, const char *base, const struct edit *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *text = e[i].line ? replace_line(base, e[i].line, e[i].text)
                               : strdup(e[i].text);
        int rc;

        NT_MSG("case %zu:\n%s", i, text);
        NT_EQ_STR(check(lang, text, &rc), e[i].msg);
        NT_EQ_INT(rc, NANO_ESCHEMA);
        free(text);
    }
    nt_msgbuf[0] = '\0';
}

/* ---- tests ----------------------------------------------------------------- */

static void
test_valid_configs(void)
{
    struct check_stats st = { 0, 0 };
    struct nano_cfg_doc *doc;
    struct nano_diag d;
    int rc;

    NT_EQ_STR(check(CFG_YAML, base_yaml, &rc), "OK");
    NT_EQ_STR(check(CFG_JSON, base_json, &rc), "OK");

    /* the check callbacks ran, once per device and once for pins, with arg */
    memset(&d, 0, sizeof d);
    NT_EQ_INT(cfg_parse(CFG_YAML, base_yaml, "nano.yaml", &doc, &d), NANO_OK);
    NT_EQ_INT(nano_cfg_validate_doc(doc, &schema, NULL, &st, &d), NANO_OK);
    NT_EQ_INT(st.devices, 2);
    NT_EQ_INT(st.pin_sets, 1);
    NT_EQ_STR(d.origin, "nano.yaml");
    nano_cfg_free(doc);

    /* empty sections are empty maps and lists; an empty file is valid */
    NT_EQ_STR(check(CFG_YAML, "log:\ndevices:\npins:\ntags:\nuplinks:\n", &rc), "OK");
    NT_EQ_STR(check(CFG_YAML, "", &rc), "OK");
    NT_EQ_STR(check(CFG_YAML, "tags: solo\n", &rc), "OK");
    NT_EQ_STR(check(CFG_YAML, "uplinks:\n  - url: mqtt://a\n    retry: 5s\n", &rc),
              "OK");
    NT_EQ_STR(check(CFG_YAML, "log: {rate: 12.5}\n", &rc), "OK");
}

static void
test_malformed_yaml(void)
{
    static const struct edit edits[] = {
        { 7, "    interval: fast",
          "nano.yaml:7:15: 'interval' expects a duration such as 500ms or "
          "30s, got 'fast'" },
        { 11, "    oversampling: 4\n    intervall: 5s",
          "nano.yaml:12:5: unknown key 'intervall' in device 'boiler' (did "
          "you mean 'interval'?)" },
        { 0, "devices:\n  # the boiler\n  boiler:\n    interval: 5s\n",
          "nano.yaml:3:3: missing required key 'driver' in device 'boiler'" },
        { 2, "logs:",
          "nano.yaml:2:1: unknown key 'logs' in the configuration (did you "
          "mean 'log'?)" },
        { 22, "colour: red",
          "nano.yaml:22:1: unknown key 'colour' in the configuration" },
        { 3, "  level: debg",
          "nano.yaml:3:10: 'level' expects one of debug, info, warn, error, "
          "got 'debg' (did you mean 'debug'?)" },
        { 4, "  format: xml",
          "nano.yaml:4:11: 'format' expects one of text, json, got 'xml'" },
        { 3, "  lvel: info",
          "nano.yaml:3:3: unknown key 'lvel' in 'log' (did you mean 'level'?)" },
        { 4, "  format: text\n  rate: 5000",
          "nano.yaml:5:9: 'rate' expects a number from 0 to 1000, got 5000" },
        { 19, "    line: 2000",
          "nano.yaml:19:11: 'line' expects an integer from 0 to 1023, got 2000" },
        { 19, "    line: seventeen",
          "nano.yaml:19:11: 'line' expects an integer from 0 to 1023, got "
          "'seventeen'" },
        { 21, "  button: {chip: gpiochip0, line: -1, direction: in}",
          "nano.yaml:21:35: 'line' expects an integer from 0 to 1023, got -1" },
        { 20, "    direction: output",
          "nano.yaml:20:16: 'direction' expects one of in, out, got 'output'" },
        { 18, NULL,
          "nano.yaml:17:3: missing required key 'chip' in pin 'led'" },
        { 9, "    enabled: maybe",
          "nano.yaml:9:14: 'enabled' expects true or false, got 'maybe'" },
        { 8, "    driver:",
          "nano.yaml:8:12: 'driver' expects a string, got an empty value" },
        { 8, "    driver: bme281",
          "nano.yaml:8:13: unknown driver 'bme281' (did you mean 'bme280'?)" },
        { 11, "    oversampling: 32",
          "nano.yaml:11:19: 'oversampling' expects an integer from 1 to 16, "
          "got 32" },
        { 11, "    oversampleing: 4",
          "nano.yaml:11:5: unknown key 'oversampleing' in device 'boiler' "
          "(did you mean 'oversampling'?)" },
        { 14, NULL,
          "nano.yaml:12:3: missing required key 'sensor_id' in device 'tank'" },
        { 7, "    interval: 2h",
          "nano.yaml:7:15: 'interval' expects a duration from 100ms to 1h, "
          "got '2h'" },
        { 7, "    interval: 10ms",
          "nano.yaml:7:15: 'interval' expects a duration from 100ms to 1h, "
          "got '10ms'" },
        { 21, "  button: {chip: gpiochip0, line: 17, direction: in}",
          "nano.yaml:21:35: pin 'button' uses line 17, already used by pin "
          "'led' at 19:11" },
        { 22, "tags: {a: 1}",
          "nano.yaml:22:7: 'tags' expects a string or a list of strings, got "
          "a map" },
        { 22, "tags: [heating, [x]]",
          "nano.yaml:22:17: item 2 of 'tags' expects a string, got a list" },
        { 22, "uplinks:\n  - url: mqtt://a\n  - retry: 5s",
          "nano.yaml:24:5: missing required key 'url' in uplink 2" },
        { 22, "uplinks:\n  - url: mqtt://a\n    retry: soon",
          "nano.yaml:24:12: 'retry' expects a duration such as 500ms or 30s, "
          "got 'soon'" },
        { 22, "uplinks: mqtt://broker",
          "nano.yaml:22:10: 'uplinks' expects a list, got 'mqtt://broker'" },
        { 0, "devices:\n  - boiler\n",
          "nano.yaml:2:3: 'devices' expects a map, got a list" },
        { 0, "devices:\n  boiler: bme280\n",
          "nano.yaml:2:11: device 'boiler' expects a map, got 'bme280'" },
        { 0, "log: verbose\n",
          "nano.yaml:1:6: 'log' expects a map, got 'verbose'" },
        { 0, "- log\n",
          "nano.yaml:1:1: the configuration expects a map, got a list" },
        { 0, "~\n",
          "nano.yaml:1:1: the configuration expects a map, got null" },
    };

    NT_CHECK(NANO_ARRAY_LEN(edits) >= 15);
    run_edits(CFG_YAML, base_yaml, edits, NANO_ARRAY_LEN(edits));
}

static void
test_malformed_json(void)
{
    static const struct edit edits[] = {
        { 0, "{\"pins\": {\"led\": {\"chip\": \"gpiochip0\", \"line\": \"17\", "
             "\"direction\": \"out\"}}}",
          "nano.json:1:48: 'line' expects an integer from 0 to 1023, got the "
          "string \"17\"" },
        { 0, "{\"devices\": {\"boiler\": {\"driver\": \"bme280\", "
             "\"intervall\": \"5s\"}}}",
          "nano.json:1:45: unknown key 'intervall' in device 'boiler' (did you "
          "mean 'interval'?)" },
        { 0, "{\"log\": {\"level\": \"INFO\"}}",
          "nano.json:1:19: 'level' expects one of debug, info, warn, error, "
          "got \"INFO\" (did you mean 'info'?)" },
        { 0, "{\"devices\": {\"boiler\": {\"driver\": \"bme280\", "
             "\"enabled\": \"true\"}}}",
          "nano.json:1:56: 'enabled' expects true or false, got the string "
          "\"true\"" },
        { 0, "{\"devices\": {\"boiler\": {\"interval\": 5}}}",
          "nano.json:1:14: missing required key 'driver' in device 'boiler'" },
        { 0, "{\"devices\": {\"boiler\": {\"driver\": 5}}}",
          "nano.json:1:35: unknown driver '5'" },
        { 0, "{\"log\": {\"level\": null}}",
          "nano.json:1:19: 'level' expects one of debug, info, warn, error, "
          "got null" },
        { 0, "{\"tags\": [\"a\", 7, {}]}",
          "nano.json:1:19: item 3 of 'tags' expects a string, got a map" },
        { 0, "[]", "nano.json:1:1: the configuration expects a map, got a list" },
    };

    run_edits(CFG_JSON, base_json, edits, NANO_ARRAY_LEN(edits));
}

/* A number written bare in JSON is fine for a duration (seconds), and the
 * same config from JSON validates like the YAML one. */
static void
test_json_numbers_as_durations(void)
{
    int rc;

    NT_EQ_STR(check(CFG_JSON, "{\"devices\": {\"boiler\": {\"driver\": "
                    "\"bme280\", \"interval\": 5}}}", &rc), "OK");
    NT_EQ_STR(check(CFG_JSON, "{\"devices\": {\"boiler\": {\"driver\": "
                    "\"bme280\", \"interval\": 0.05}}}", &rc),
              "nano.json:1:57: 'interval' expects a duration from 100ms to "
              "1h, got 0.05");
}

/* Validation of a part (a driver checking its own section) uses the name
 * the caller gives, and keeps the caller's origin. */
static void
test_validate_subtree(void)
{
    struct nano_cfg_doc *doc;
    struct nano_diag d;
    char msg[400];

    memset(&d, 0, sizeof d);
    NT_EQ_INT(cfg_parse(CFG_YAML, "chip: gpiochip0\nline: 5\ndirection: sideways\n",
                        "x", &doc, &d), NANO_OK);
    memset(&d, 0, sizeof d);
    d.origin = "pins.d/led.yaml";
    NT_EQ_INT(nano_cfg_validate(nano_cfg_root(doc), &pin, "pin 'led'", NULL, &d),
              NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "pins.d/led.yaml:3:12: 'direction' expects one of in, out, got "
              "'sideways'");
    /* a closed map reports an unknown key itself, with the given name */
    memset(&d, 0, sizeof d);
    NT_EQ_INT(nano_cfg_validate(nano_cfg_root(doc), &uplink, "uplink 'main'",
                                NULL, &d), NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "1:1: unknown key 'chip' in uplink 'main'");
    NT_EQ_INT(nano_cfg_validate(NULL, &uplink, NULL, NULL, &d), -EINVAL);
    nano_cfg_free(doc);

    /* a missing key in a map without a key of its own points at the map */
    NT_EQ_INT(cfg_parse(CFG_YAML, "\n  line: 5\n", "x", &doc, &d), NANO_OK);
    NT_EQ_INT(nano_cfg_validate(nano_cfg_root(doc), &pin, "pin 'led'", NULL, &d),
              NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "x:2:3: missing required key 'chip' in pin 'led'");
    nano_cfg_free(doc);
}

/* A caller's origin survives nano_cfg_validate_doc(), so the message can
 * be printed after the document is freed (the daemon's reload path does
 * exactly that); without one, the document's origin is used. */
static void
test_validate_doc_origin(void)
{
    static const char path[] = "/etc/nano/nano.yaml";
    struct nano_cfg_doc *doc;
    struct nano_diag d;
    char msg[400];

    memset(&d, 0, sizeof d);
    NT_EQ_INT(cfg_parse(CFG_YAML, "logs: {}\n", "copy-in-doc.yaml", &doc, &d),
              NANO_OK);
    d.origin = path;
    NT_EQ_INT(nano_cfg_validate_doc(doc, &schema, NULL, NULL, &d), NANO_ESCHEMA);
    NT_CHECK(d.origin == path);
    nano_cfg_free(doc);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "/etc/nano/nano.yaml:1:1: unknown key 'logs' in the "
              "configuration (did you mean 'log'?)");

    memset(&d, 0, sizeof d);
    NT_EQ_INT(cfg_parse(CFG_YAML, "logs: {}\n", "copy-in-doc.yaml", &doc, &d),
              NANO_OK);
    d.origin = NULL;
    NT_EQ_INT(nano_cfg_validate_doc(doc, &schema, NULL, NULL, &d), NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "copy-in-doc.yaml:1:1: unknown key 'logs' in the configuration "
              "(did you mean 'log'?)");
    nano_cfg_free(doc);
}

/* Nested maps below the top level name their parent in messages. */
static void
test_nested_map_names(void)
{
    static const struct nano_cfg_field file_fields[] = {
        { .key = "path", .type = NANO_CFGT_STR, .required = true },
        { .key = "keep", .type = NANO_CFGT_INT, .min = 1, .max = 100 },
        { 0 }
    };
    static const struct nano_cfg_field out_fields[] = {
        { .key = "file", .type = NANO_CFGT_MAP, .fields = file_fields },
        { 0 }
    };
    static const struct nano_cfg_field logx_fields[] = {
        { .key = "output", .type = NANO_CFGT_MAP, .fields = out_fields },
        { .key = "any", .type = NANO_CFGT_ANY },
        { 0 }
    };
    static const struct nano_cfg_field top[] = {
        { .key = "log", .type = NANO_CFGT_MAP, .fields = logx_fields },
        { 0 }
    };
    static const struct nano_cfg_field root = {
        .type = NANO_CFGT_MAP, .fields = top,
    };
    struct nano_cfg_doc *doc;
    struct nano_diag d;
    char msg[400];

    memset(&d, 0, sizeof d);
    NT_EQ_INT(cfg_parse(CFG_YAML,
                        "log:\n  any: [1, {x: y}]\n  output:\n    file:\n"
                        "      keep: 3\n      pth: /var/log\n",
                        "n.yaml", &doc, &d), NANO_OK);
    NT_EQ_INT(nano_cfg_validate_doc(doc, &root, "the config", NULL, &d),
              NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "n.yaml:6:7: unknown key 'pth' in 'file' in 'output' in 'log' "
              "(did you mean 'path'?)");
    nano_cfg_free(doc);

    NT_EQ_INT(cfg_parse(CFG_YAML, "log:\n  output:\n    file:\n      keep: 3\n",
                        "n.yaml", &doc, &d), NANO_OK);
    NT_EQ_INT(nano_cfg_validate_doc(doc, &root, "the config", NULL, &d),
              NANO_ESCHEMA);
    NT_EQ_STR(nano_diag_format(&d, msg, sizeof msg),
              "n.yaml:3:5: missing required key 'path' in 'file' in 'output' "
              "in 'log'");
    nano_cfg_free(doc);
}

NT_LIST = {
    { "valid_configs",              test_valid_configs },
    { "malformed_yaml",             test_malformed_yaml },
    { "malformed_json",             test_malformed_json },
    { "json_numbers_as_durations",  test_json_numbers_as_durations },
    { "validate_subtree",           test_validate_subtree },
    { "validate_doc_origin",        test_validate_doc_origin },
    { "nested_map_names",           test_nested_map_names },
    { NULL, NULL }
};
