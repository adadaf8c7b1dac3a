/* SPDX-License-Identifier: MIT
 *
 * nanod.c - the Nano daemon: argument parsing and wiring only.
 *
 * Startup order: parse arguments, load and validate the config (a bad config
 * stops startup with file:line:col), create the loop and the bus, the device
 * manager (config devices plus persisted run-time changes), the WebAssembly
 * services (likewise), the API server on the Unix socket, then run the loop
 * in the foreground until SIGTERM/SIGINT.
 * SIGHUP re-reads the config file: a new config that fails validation is
 * logged and ignored, and the running one stays in place.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http_client.h"
#include "core/bus.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/state.h"
#include "core/time.h"
#include "drivers/devmgr.h"
#include "drivers/driver.h"
#include "hal/offload.h"
#include "hal/pins.h"
#include "hal/sim.h"
#include "nano_config.h"
#include "rules/engine.h"
#include "port/paths.h"
#include "port/proc.h"
#include "sandbox/sandbox.h"

struct nanod {
    struct nano_daemon  d;            /* what the API sees */
    char                config_path[4096];
    char                state_dir[4096];
    char                socket_path[4096];
    bool                config_given;
    struct nano_api    *api;
    struct nano_timer   housekeeping;
    struct nano_http_client *webhooks;  /* services' webhook() calls */
    struct nano_http_client_opts webhook_opts;  /* from the webhooks: section */
};

/* ---- services' webhooks over the asynchronous HTTP client ---------------------- */

static void
webhook_done(const struct nano_http_result *res, void *arg)
{
    static struct nano_metric *failed, *ok;

    (void)arg;
    if (res->err == NANO_OK && res->status < 300) {
        if (!ok)
            ok = nano_metric_counter("nano_rules_webhook_ok_total",
                                     "webhook() calls answered 2xx");
        nano_metric_inc(ok);
        return;
    }
    if (!failed)
        failed = nano_metric_counter("nano_rules_webhook_failures_total",
                                     "webhook() calls that failed after retries");
    nano_metric_inc(failed);
    if (res->err != NANO_OK)
        nano_logf(NANO_LOG_WARN, "rules", "webhook failed: %s",
                  nano_strerror(res->err));
    else
        nano_logf(NANO_LOG_WARN, "rules", "webhook answered HTTP %d",
                  res->status);
}

/* ---- services' pins: the HAL's named pins ------------------------------------- */

static int
pin_set(void *arg, const char *pin, bool high)
{
    (void)arg;
    return nano_pins_set(pin, high ? 1 : 0);
}

static int
pin_toggle(void *arg, const char *pin)
{
    (void)arg;
    return nano_pins_toggle(pin);
}

static bool
pin_exists(void *arg, const char *pin)
{
    (void)arg;
    return nano_pins_find(pin) != NULL;
}

struct pin_names {
    const char *names[65];
    char        pool[65 * (NANO_PIN_NAME_MAX + 1)];
    unsigned    n;
    size_t      used;
};

static void
pin_name_each(void *arg, const struct nano_pin_info *info)
{
    struct pin_names *p = arg;
    size_t len = strlen(info->name);

    if (p->n >= 64 || p->used + len + 1 > sizeof p->pool)
        return;
    memcpy(p->pool + p->used, info->name, len + 1);
    p->names[p->n++] = p->pool + p->used;
    p->used += len + 1;
}

/* For error messages ("known pins: ..."); valid until the next call. */
static const char *const *
pin_names(void *arg)
{
    static struct pin_names p;

    (void)arg;
    p.n = 0;
    p.used = 0;
    nano_pins_foreach(pin_name_each, &p);
    p.names[p.n] = NULL;
    return p.names;
}

static int
webhook_post(void *arg, const char *url, const char *body, size_t len,
             bool is_json)
{
    struct nanod *nd = arg;
    int rc;

    if (!nd->webhooks &&
        (rc = nano_http_client_new(nd->d.loop, &nd->webhook_opts,
                                   &nd->webhooks)) != NANO_OK)
        return rc;
    return nano_http_client_post(nd->webhooks, url,
                                 is_json ? "application/json" : "text/plain; charset=utf-8",
                                 body, body ? len : 0, NULL, webhook_done, nd);
}

/* The webhooks: section into client options (defaults for what is absent). */
static void
webhook_opts_from(const struct nano_cfg_node *n, struct nano_http_client_opts *o)
{
    static const struct { const char *key; size_t off; } durations[] = {
        { "connect_timeout", offsetof(struct nano_http_client_opts, connect_timeout_ms) },
        { "timeout", offsetof(struct nano_http_client_opts, total_timeout_ms) },
        { "idle_timeout", offsetof(struct nano_http_client_opts, idle_timeout_ms) },
    };
    const struct nano_cfg_node *v;
    uint64_t ns;
    int64_t i;

    nano_http_client_opts_default(o);
    for (size_t k = 0; k < NANO_ARRAY_LEN(durations); k++)
        if ((v = nano_cfg_get(n, durations[k].key)) &&
            nano_cfg_as_duration(v, &ns, NULL) == NANO_OK)
            *(uint32_t *)(void *)((char *)o + durations[k].off) =
                (uint32_t)(ns / NANO_NS_PER_MS);
    if ((v = nano_cfg_get(n, "retries")) && nano_cfg_as_int(v, 0, 10, &i, NULL) == NANO_OK)
        o->max_retries = (uint32_t)i;
    if ((v = nano_cfg_get(n, "max_connections")) &&
        nano_cfg_as_int(v, 1, 64, &i, NULL) == NANO_OK)
        o->max_conns_per_host = (uint32_t)i;
}

/* Take a new webhooks: section.  Changed settings close the client (calls
 * in flight end with an error); the next webhook() opens a new one. */
static void
apply_webhook_settings(struct nanod *nd, const struct nano_cfg_node *n)
{
    struct nano_http_client_opts o;

    webhook_opts_from(n, &o);
    if (nd->webhooks && memcmp(&o, &nd->webhook_opts, sizeof o) != 0) {
        nano_http_client_free(nd->webhooks);
        nd->webhooks = NULL;
    }
    nd->webhook_opts = o;
}

/* ---- configuration ------------------------------------------------------------ */

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const log_formats[] = { "logfmt", "json", NULL };

static const struct nano_cfg_field webhook_fields[] = {
    { .key = "connect_timeout", .type = NANO_CFGT_DURATION, .max = 300,
      .help = "give up connecting after this (default 5s)" },
    { .key = "timeout", .type = NANO_CFGT_DURATION, .max = 3600,
      .help = "whole call, retries included (default 30s)" },
    { .key = "retries", .type = NANO_CFGT_INT, .min = 0, .max = 10,
      .help = "retries on connection errors and 5xx (default 2)" },
    { .key = "max_connections", .type = NANO_CFGT_INT, .min = 1, .max = 64,
      .help = "kept-alive connections per host (default 4)" },
    { .key = "idle_timeout", .type = NANO_CFGT_DURATION, .max = 3600,
      .help = "close a pooled connection idle this long (default 15s)" },
    { 0 }
};

static const struct nano_cfg_field log_fields[] = {
    { .key = "level", .type = NANO_CFGT_ENUM, .choices = log_levels,
      .help = "least severe level written: error, warn, info, debug" },
    { .key = "format", .type = NANO_CFGT_ENUM, .choices = log_formats,
      .help = "logfmt (key=value) or json (one object per line)" },
    { 0 }
};

static int
validate_devices(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    (void)arg;
    return nano_devmgr_validate(n, d);
}

static int
validate_services(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    (void)arg;
    return nano_rules_validate(n, d);
}

static int
validate_pins(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    (void)arg;
    return nano_pins_validate(n, d);
}

static int
validate_simulation(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    (void)arg;
    return nano_sim_config_validate(n, d);
}

/* arg: the config file's path (module files are relative to it). */
static int
validate_sandbox(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    return nano_sandbox_validate(n, arg, d);
}

/* The top level of nano.yaml.  Each module validates its own section. */
static const struct nano_cfg_field top_fields[] = {
    { .key = "log", .type = NANO_CFGT_MAP, .fields = log_fields,
      .help = "logging: level and format" },
    { .key = "state_dir", .type = NANO_CFGT_STR,
      .help = "where run-time changes are persisted" },
    { .key = "api", .type = NANO_CFGT_MAP, .fields = nano_api_cfg_fields,
      .help = "the control API: socket path, limits" },
    { .key = "devices", .type = NANO_CFGT_ANY, .check = validate_devices,
      .help = "sensor instances: name -> {driver, interval, parameters}" },
    { .key = "webhooks", .type = NANO_CFGT_MAP, .fields = webhook_fields,
      .help = "the HTTP client of services' webhook() actions" },
    { .key = "pins", .type = NANO_CFGT_ANY, .check = validate_pins,
      .help = "named GPIO lines: name -> {chip, line, direction, ...}" },
    { .key = "simulation", .type = NANO_CFGT_ANY, .check = validate_simulation,
      .help = "emulated hardware: bus -> [{device, address, values}]" },
    { .key = "sandbox", .type = NANO_CFGT_ANY, .check = validate_sandbox,
      .help = "WebAssembly services: name -> {file, subscribe, grants, limits}" },
    { .key = "services", .type = NANO_CFGT_ANY, .check = validate_services,
      .help = "rules with actions: name -> {rule, action, clear, for, ...}" },
    { 0 }
};

static const struct nano_cfg_field top_schema = {
    .key = "config", .type = NANO_CFGT_MAP, .fields = top_fields,
};

/* Parse and validate a config file.  On error d has file:line:col. */
static int
load_config(const char *path, struct nano_cfg_doc **doc_out,
            struct nano_diag *d)
{
    struct nano_cfg_doc *doc = NULL;
    int rc;

    *doc_out = NULL;
    rc = nano_cfg_load_file(path, &doc, d);       /* sets d->origin = path */
    if (rc != NANO_OK)
        return rc;
    rc = nano_cfg_validate(nano_cfg_root(doc), &top_schema, "the configuration",
                           (void *)path, d);
    if (rc != NANO_OK) {
        nano_cfg_free(doc);
        return rc;
    }
    *doc_out = doc;
    return NANO_OK;
}

static void
apply_log_settings(const struct nano_cfg_node *root)
{
    enum nano_log_level level = NANO_LOG_INFO;
    enum nano_log_format fmt = NANO_LOG_LOGFMT;
    const struct nano_cfg_node *n;

    if ((n = nano_cfg_path(root, "log.level")) && n->kind == NANO_CFG_SCALAR)
        nano_log_level_parse(n->str, &level);
    if ((n = nano_cfg_path(root, "log.format")) && n->kind == NANO_CFG_SCALAR)
        nano_log_format_parse(n->str, &fmt);
    nano_log_configure(level, fmt, 2);
}

/* Switch the running daemon to doc (Takes doc). */
static void
apply_config(struct nanod *nd, struct nano_cfg_doc *doc)
{
    struct nano_cfg_doc *old = nd->d.cfg;
    const struct nano_cfg_node *root = nano_cfg_root(doc);

    struct nano_diag d = { .origin = nano_cfg_origin(doc) };
    char msg[600];

    apply_log_settings(root);
    apply_webhook_settings(nd, nano_cfg_get(root, "webhooks"));
    nd->d.cfg = doc;
    /* Emulated hardware first, so the devices' first probes find it. */
    if (nano_sim_config_apply(nano_cfg_get(root, "simulation"), &d) != NANO_OK)
        nano_logf(NANO_LOG_ERR, "hal", "simulation: %s",
                  nano_diag_format(&d, msg, sizeof msg));
    d = (struct nano_diag){ .origin = nano_cfg_origin(doc) };
    if (nano_pins_apply(nano_cfg_get(root, "pins"), &d) != NANO_OK)
        nano_logf(NANO_LOG_ERR, "hal", "pins: %s",
                  nano_diag_format(&d, msg, sizeof msg));
    nano_devmgr_apply_config(nd->d.devices, nano_cfg_get(root, "devices"));
    /* Services after devices: their names resolve against the devices. */
    nano_rules_apply_config(nd->d.rules, nano_cfg_get(root, "services"));
    nano_sandbox_apply_config(nd->d.sandbox, nano_cfg_get(root, "sandbox"),
                              nd->d.config_path);
    nano_cfg_free(old);     /* nothing keeps pointers into the old tree now */
}

static void
on_reload(struct nano_loop *loop, int signo, void *arg)
{
    struct nanod *nd = arg;
    struct nano_cfg_doc *doc;
    struct nano_diag d = { .origin = nd->config_path };
    char msg[600];

    (void)loop;
    (void)signo;
    if (!nd->d.config_path) {
        nano_logf(NANO_LOG_WARN, "core", "SIGHUP: no config file to reload");
        return;
    }
    if (load_config(nd->config_path, &doc, &d) != NANO_OK) {
        nd->d.reload_failures++;
        nano_logf(NANO_LOG_ERR, "core", "reload rejected, keeping the running "
                  "config: %s", nano_diag_format(&d, msg, sizeof msg));
        return;
    }
    apply_config(nd, doc);
    nd->d.reloads++;
    nano_logf(NANO_LOG_INFO, "core", "reloaded %s", nd->config_path);
}

static void
on_stop(struct nano_loop *loop, int signo, void *arg)
{
    (void)arg;
    nano_logf(NANO_LOG_INFO, "core", "%s: stopping", strsignal(signo));
    nano_loop_stop(loop);
}

static unsigned nd_ticks;

/* Every second: log repeat summaries, memory gauges; every 10 s: return
 * freed heap pages to the kernel. */
static void
on_housekeeping(struct nano_loop *loop, struct nano_timer *t)
{
    static struct nano_metric *rss, *heap, *wh_connects, *wh_reused, *wh_open;
    struct nanod *nd = NANO_CONTAINER_OF(t, struct nanod, housekeeping);
    struct nano_proc_mem mem;

    (void)loop;
    nano_log_flush_repeats();
    if (++nd_ticks % 10 == 0)
        nano_mem_trim();
    if (!rss) {
        rss = nano_metric_gauge("nano_process_resident_bytes", "VmRSS");
        heap = nano_metric_gauge("nano_process_heap_bytes", "heap in use");
    }
    if (nano_proc_mem(&mem) == NANO_OK)
        nano_metric_set(rss, (double)mem.rss);
    nano_metric_set(heap, (double)nano_mem_heap_in_use());
    if (nd->webhooks) {
        struct nano_http_client_stats hs;
        if (!wh_connects) {
            wh_connects = nano_metric_gauge("nano_webhook_connects",
                                            "webhook connections opened");
            wh_reused = nano_metric_gauge("nano_webhook_reused",
                                          "webhook requests on a kept-alive connection");
            wh_open = nano_metric_gauge("nano_webhook_connections",
                                        "webhook connections open now");
        }
        nano_http_client_stats(nd->webhooks, &hs);
        nano_metric_set(wh_connects, (double)hs.connects);
        nano_metric_set(wh_reused, (double)hs.reused);
        nano_metric_set(wh_open, (double)hs.conns);
    }
}

/* ---- command line ------------------------------------------------------------- */

static void
print_version(void)
{
    printf("nanod %s\n", NANO_VERSION);
    printf("profile:  %s\n", NANO_PROFILE);
    printf("features:%s%s%s%s\n", NANO_WITH_API ? " api" : "",
           NANO_WITH_RULES ? " rules" : "", NANO_WITH_WASM ? " wasm" : "",
           NANO_WITH_MODBUS ? " modbus" : "");
    printf("drivers: ");
    for (const struct nano_driver *const *d = nano_drivers; *d; d++)
        printf(" %s", (*d)->name);
    printf("\n");
}

static void
usage(FILE *f)
{
    fprintf(f,
        "usage: nanod [options]\n"
        "  -c, --config FILE       configuration (YAML or JSON)\n"
        "  -s, --state-dir DIR     where run-time changes are kept\n"
        "  -S, --socket PATH       control API Unix socket\n"
        "      --check-config FILE validate FILE, print the first error, exit 0/1\n"
        "  -V, --version           version, profile, features and drivers\n"
        "  -h, --help              this text\n"
        "Runs in the foreground; SIGTERM/SIGINT stop it, SIGHUP reloads the config.\n");
}

static int
check_config(const char *path)
{
    struct nano_cfg_doc *doc;
    struct nano_diag d = { .origin = path };
    char msg[600];

    if (load_config(path, &doc, &d) != NANO_OK) {
        fprintf(stderr, "%s\n", nano_diag_format(&d, msg, sizeof msg));
        return 1;
    }
    nano_cfg_free(doc);
    printf("%s: ok\n", path);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "state-dir", required_argument, NULL, 's' },
        { "socket", required_argument, NULL, 'S' },
        { "check-config", required_argument, NULL, 'C' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct nanod nd;
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { 0 };
    char msg[600];
    int c, rc, exit_code = 1;
    bool state_given = false, socket_given = false;

    memset(&nd, 0, sizeof nd);
    nd.d.start_mono_ns = nano_time_mono_ns();
    nd.d.start_wall_ns = nano_time_wall_ns();
    while ((c = getopt_long(argc, argv, "c:s:S:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            snprintf(nd.config_path, sizeof nd.config_path, "%s", optarg);
            nd.config_given = true;
            break;
        case 's':
            snprintf(nd.state_dir, sizeof nd.state_dir, "%s", optarg);
            state_given = true;
            break;
        case 'S':
            snprintf(nd.socket_path, sizeof nd.socket_path, "%s", optarg);
            socket_given = true;
            break;
        case 'C':
            return check_config(optarg);
        case 'V':
            print_version();
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "nanod: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    /* Configuration: --config, else the default path if it exists. */
    if (!nd.config_given) {
        nano_default_path(NANO_PATH_CONFIG, nd.config_path, sizeof nd.config_path);
        if (access(nd.config_path, F_OK) != 0)
            nd.config_path[0] = '\0';
    }
    if (nd.config_path[0]) {
        d.origin = nd.config_path;
        if (load_config(nd.config_path, &doc, &d) != NANO_OK) {
            fprintf(stderr, "nanod: %s\n", nano_diag_format(&d, msg, sizeof msg));
            return 1;
        }
        nd.d.config_path = nd.config_path;
    } else {
        doc = nano_cfg_new("built-in");
        if (!doc)
            return 1;
    }
    apply_log_settings(nano_cfg_root(doc));

    /* Paths: flags win over the config file, which wins over defaults. */
    const struct nano_cfg_node *n;
    if (!state_given) {
        n = nano_cfg_get(nano_cfg_root(doc), "state_dir");
        if (n && n->kind == NANO_CFG_SCALAR)
            snprintf(nd.state_dir, sizeof nd.state_dir, "%s", n->str);
        else
            nano_default_path(NANO_PATH_STATE, nd.state_dir, sizeof nd.state_dir);
    }
    if (!socket_given) {
        n = nano_cfg_path(nano_cfg_root(doc), "api.socket");
        const char *env = getenv("NANO_SOCKET");
        if (n && n->kind == NANO_CFG_SCALAR)
            snprintf(nd.socket_path, sizeof nd.socket_path, "%s", n->str);
        else if (env && *env)
            snprintf(nd.socket_path, sizeof nd.socket_path, "%s", env);
        else
            nano_default_path(NANO_PATH_SOCKET, nd.socket_path, sizeof nd.socket_path);
    }
    nd.d.state_dir = nd.state_dir;
    nd.d.socket_path = nd.socket_path;
    rc = nano_state_mkdir(nd.state_dir);
    if (rc != NANO_OK) {
        fprintf(stderr, "nanod: cannot create state directory %s: %s\n",
                nd.state_dir, nano_strerror(rc));
        goto out_cfg;
    }

    /* Core. */
    signal(SIGPIPE, SIG_IGN);
    if ((rc = nano_loop_new(&nd.d.loop)) != NANO_OK ||
        (rc = nano_bus_new(nd.d.loop, &nd.d.bus)) != NANO_OK ||
        (rc = nano_devmgr_new(nd.d.loop, nd.d.bus, nd.state_dir,
                              &nd.d.devices)) != NANO_OK ||
        (rc = nano_rules_new(nd.d.loop, nd.d.bus, nd.d.devices, nd.state_dir,
                             &nd.d.rules)) != NANO_OK ||
        (rc = nano_sandbox_new(nd.d.loop, nd.d.bus, nd.state_dir,
                               &nd.d.sandbox)) != NANO_OK) {
        fprintf(stderr, "nanod: startup failed: %s\n", nano_strerror(rc));
        goto out_core;
    }
    nano_pins_init(nd.d.loop, nd.d.bus);
    nano_loop_signal(nd.d.loop, SIGTERM, on_stop, &nd);
    nano_loop_signal(nd.d.loop, SIGINT, on_stop, &nd);
    nano_loop_signal(nd.d.loop, SIGHUP, on_reload, &nd);

    /* Persisted run-time changes; a corrupt file never stops startup. */
    d = (struct nano_diag){ 0 };
    rc = nano_devmgr_load_state(nd.d.devices, &d);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, "core", "ignoring saved devices: %s", d.msg);
    d = (struct nano_diag){ 0 };
    struct nano_rules_io io = {
        .gpio_set = pin_set, .gpio_toggle = pin_toggle,
        .pin_exists = pin_exists, .pin_names = pin_names,
        .webhook = webhook_post, .arg = &nd,
    };
    nano_rules_set_io(nd.d.rules, &io);
    rc = nano_rules_load_state(nd.d.rules, &d);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, "core", "ignoring saved services: %s", d.msg);
    d = (struct nano_diag){ 0 };
    rc = nano_sandbox_load_state(nd.d.sandbox, &d);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, "core", "ignoring saved WebAssembly modules: %s",
                  d.msg);

    /* The API comes up before devices start sampling so a client can watch
     * from the first reading. */
    rc = nano_api_start(&nd.d, nano_cfg_get(nano_cfg_root(doc), "api"), &nd.api);
    if (rc != NANO_OK) {
        fprintf(stderr, "nanod: cannot serve the API on %s: %s\n",
                nd.socket_path, nano_strerror(rc));
        goto out_core;
    }
    apply_config(&nd, doc);
    doc = NULL;                        /* owned by nd.d.cfg now */

    nano_timer_init(&nd.housekeeping, on_housekeeping);
    nano_timer_start(nd.d.loop, &nd.housekeeping, 1000, 1000);
    nano_logf(NANO_LOG_INFO, "core", "nanod %s (%s) ready: config %s, api %s, "
              "state %s", NANO_VERSION, NANO_PROFILE,
              nd.d.config_path ? nd.d.config_path : "(none)", nd.socket_path,
              nd.state_dir);

    rc = nano_loop_run(nd.d.loop);
    exit_code = rc == NANO_OK ? 0 : 1;

    nano_timer_stop(nd.d.loop, &nd.housekeeping);
    nano_api_stop(nd.api);
out_core:
    nano_rules_free(nd.d.rules);
    nano_http_client_free(nd.webhooks);
    nano_sandbox_free(nd.d.sandbox);
    nano_devmgr_free(nd.d.devices);
    /* Driver work still on worker threads (a 1-Wire read, a Modbus
     * request) gets half a second to finish before the bus goes, so a
     * stop stays within a second even with a stuck device. */
    uint64_t give_up = nano_time_mono_ns() + 500 * NANO_NS_PER_MS;
    while (nd.d.loop && nano_offload_pending() && nano_time_mono_ns() < give_up)
        nano_loop_run_once(nd.d.loop, 10);
    nano_offload_shutdown();
    nano_pins_shutdown();
    nano_sim_reset();
    nano_bus_free(nd.d.bus);
    nano_loop_free(nd.d.loop);
    nano_cfg_free(nd.d.cfg);
out_cfg:
    nano_cfg_free(doc);
    nano_metrics_reset();
    return exit_code;
}
