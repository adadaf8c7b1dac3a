/* SPDX-License-Identifier: MIT
 *
 * nanoctl.c - the command-line client of nanod's API (and nothing else:
 * every command is one or more HTTP requests on the Unix socket).
 *
 * Output is a readable table by default and the API's JSON with --json;
 * exit codes are in ctl.h.  This file holds the core and device commands
 * and main(); other areas add a ctl_*.c file and one row in commands[].
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/http_client.h"
#include "cmd/ctl.h"
#include "cmd/ctl_cmds.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/value.h"
#include "nano_config.h"
#include "port/paths.h"


/* ---- commands: status, pub, read, topics, sub ----------------------------------- */

static int
cmd_status(int argc, char **argv)
{
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *r, *mem, *bus, *dev, *api, *sbx;
    char a[32], b[32], c[32];
    int rc;

    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: nanoctl status\n");
        return EXIT_USAGE;
    }
    if ((rc = ctl_fetch("GET", "/v1/status", NULL, &doc)) || !doc)
        return rc;
    r = nano_cfg_root(doc);
    mem = nano_cfg_get(r, "memory");
    bus = nano_cfg_get(r, "bus");
    dev = nano_cfg_get(r, "devices");
    api = nano_cfg_get(r, "api");
    sbx = nano_cfg_get(r, "sandbox");
    unsigned long long up = (unsigned long long)ctl_num(r, "uptime_s");
    printf("nanod %s (%s), pid %s, up %lluh%02llum%02llus\n",
           ctl_str(r, "version", "?"), ctl_str(r, "profile", "?"),
           ctl_str(r, "pid", "?"), up / 3600, up % 3600 / 60, up % 60);
    printf("config     %s\n", ctl_str(r, "config", "(built-in)"));
    printf("state      %s\n", ctl_str(r, "state_dir", "-"));
    printf("memory     rss %s, peak %s, heap %s\n",
           ctl_bytes_text(ctl_num(mem, "rss"), a, sizeof a),
           ctl_bytes_text(ctl_num(mem, "hwm"), b, sizeof b),
           ctl_bytes_text(ctl_num(mem, "heap"), c, sizeof c));
    printf("bus        %s topics, %s subscribers, %s published, %s dropped\n",
           ctl_str(bus, "topics", "0"), ctl_str(bus, "subscribers", "0"),
           ctl_str(bus, "published", "0"), ctl_str(bus, "dropped", "0"));
    printf("devices    %s instances: %s ok, %s failing, %s disabled; "
           "%s samples, %s errors\n",
           ctl_str(dev, "instances", "0"), ctl_str(dev, "ok", "0"),
           ctl_str(dev, "failing", "0"), ctl_str(dev, "disabled", "0"),
           ctl_str(dev, "samples", "0"), ctl_str(dev, "errors", "0"));
    if (sbx)
        printf("sandbox    %s modules: %s running, %s quarantined, %s disabled, "
               "%s failed; %s calls, %s faults\n", ctl_str(sbx, "modules", "0"),
               ctl_str(sbx, "running", "0"), ctl_str(sbx, "quarantined", "0"),
               ctl_str(sbx, "disabled", "0"), ctl_str(sbx, "failed", "0"),
               ctl_str(sbx, "calls", "0"), ctl_str(sbx, "faults", "0"));
    printf("api        %s connections, %s requests\n",
           ctl_str(api, "connections", "0"), ctl_str(api, "requests", "0"));
    printf("reloads    %s (%s rejected)\n", ctl_str(r, "reloads", "0"),
           ctl_str(r, "reload_failures", "0"));
    nano_cfg_free(doc);
    return 0;
}

static int
cmd_pub(int argc, char **argv)
{
    const char *unit = NULL;
    struct nano_buf body;
    struct nano_cfg_doc *doc = NULL;
    int rc, c;

    static const struct option o[] = {
        { "unit", required_argument, NULL, 'u' }, { NULL, 0, NULL, 0 } };
    optind = 1;
    while ((c = getopt_long(argc, argv, "u:", o, NULL)) != -1) {
        if (c != 'u')
            return EXIT_USAGE;
        unit = optarg;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: nanoctl pub TOPIC VALUE [--unit U]\n"
                "  VALUE is a number, true/false, JSON ({...} or [...]) or text\n");
        return EXIT_USAGE;
    }
    const char *topic = argv[optind], *text = argv[optind + 1];
    struct nano_value v = nano_value_from_text(text);
    nano_buf_init(&body, 1u << 20);
    nano_buf_puts(&body, "{\"topic\":");
    ctl_buf_json_str(&body, topic);
    nano_buf_puts(&body, ",\"value\":");
    if (v.type == NANO_VT_STR)
        ctl_buf_json_str(&body, text);
    else
        nano_buf_puts(&body, text);
    if (unit) {
        nano_buf_puts(&body, ",\"unit\":");
        ctl_buf_json_str(&body, unit);
    }
    nano_buf_putc(&body, '}');
    rc = ctl_fetch("POST", "/v1/publish", body.data, &doc);
    nano_buf_free(&body);
    nano_cfg_free(doc);
    return rc;
}

static void
print_reading(const struct nano_cfg_node *m, bool with_age)
{
    char val[256], age[32];
    const char *unit = ctl_str(m, "unit", "");
    const char *q = ctl_str(m, "quality", "ok");

    printf("%-40s %12s %-5s %s%s%s\n", ctl_str(m, "topic", "?"),
           ctl_value_text(nano_cfg_get(m, "value"), val, sizeof val), unit,
           strcmp(q, "ok") ? q : "", strcmp(q, "ok") ? "  " : "",
           with_age ? ctl_age_text(ctl_num(m, "ts"), age, sizeof age) : "");
}

static int
cmd_read(int argc, char **argv)
{
    struct nano_buf target;
    struct nano_cfg_doc *doc;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: nanoctl read TOPIC\n");
        return EXIT_USAGE;
    }
    nano_buf_init(&target, 4096);
    nano_buf_puts(&target, "/v1/value?topic=");
    ctl_buf_query_str(&target, argv[1]);
    if ((rc = ctl_fetch("GET", target.data, NULL, &doc)) == 0 && doc) {
        print_reading(nano_cfg_root(doc), true);
        nano_cfg_free(doc);
    }
    nano_buf_free(&target);
    return rc;
}

static int
cmd_topics(int argc, char **argv)
{
    struct nano_buf target;
    struct nano_cfg_doc *doc;
    int rc;

    if (argc > 2) {
        fprintf(stderr, "usage: nanoctl topics [FILTER]\n");
        return EXIT_USAGE;
    }
    nano_buf_init(&target, 4096);
    nano_buf_puts(&target, "/v1/topics?filter=");
    ctl_buf_query_str(&target, argc == 2 ? argv[1] : "#");
    if ((rc = ctl_fetch("GET", target.data, NULL, &doc)) == 0 && doc) {
        const struct nano_cfg_node *list = nano_cfg_root(doc);
        if (!list->count)
            printf("(no topics)\n");
        for (const struct nano_cfg_node *m = list->child; m; m = m->next)
            print_reading(m, true);
        nano_cfg_free(doc);
    }
    nano_buf_free(&target);
    return rc;
}

struct sub_state {
    long            count;   /* messages still wanted; < 0: unlimited */
    int             status;  /* HTTP status, set before the first line */
    struct nano_buf err;     /* the body of an error response */
};

/* One SSE line from /v1/stream.  Returns nonzero to stop. */
static int
on_sse_line(const char *line, size_t len, void *arg)
{
    struct sub_state *st = arg;
    struct nano_cfg_doc *doc = NULL;

    if (st->status < 200 || st->status > 299) {
        nano_buf_append(&st->err, line, len);    /* a JSON error, not events */
        return 0;
    }

    if (len >= 6 && !strncmp(line, "event:", 6)) {
        if (strstr(line, "dropped"))
            fprintf(stderr, "nanoctl: the stream dropped messages (client too "
                    "slow)\n");
        return 0;
    }
    if (len < 5 || strncmp(line, "data:", 5) != 0)
        return 0;
    line += 5;
    len -= 5;
    while (len && *line == ' ') {
        line++;
        len--;
    }
    if (strncmp(line, "{\"dropped\"", 10) == 0)
        return 0;
    if (ctl_json) {
        printf("%.*s\n", (int)len, line);
    } else if (nano_cfg_parse_json(line, len, "stream", &doc, NULL) == NANO_OK) {
        char ts[40];
        const struct nano_cfg_node *m = nano_cfg_root(doc);
        double us = ctl_num(m, "ts");
        time_t secs = (time_t)(us / 1e6);
        struct tm tm;
        localtime_r(&secs, &tm);
        strftime(ts, sizeof ts, "%H:%M:%S", &tm);
        printf("%s.%03d  ", ts, (int)((long long)(us / 1e3) % 1000));
        print_reading(m, false);
        nano_cfg_free(doc);
    }
    fflush(stdout);
    if (st->count > 0 && --st->count == 0)
        return 1;
    return 0;
}

static int
cmd_sub(int argc, char **argv)
{
    struct sub_state st = { .count = -1 };
    struct nano_buf target;
    int c, rc;
    static const struct option o[] = {
        { "count", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 } };

    optind = 1;
    while ((c = getopt_long(argc, argv, "n:", o, NULL)) != -1) {
        char *end;
        if (c != 'n')
            return EXIT_USAGE;
        st.count = strtol(optarg, &end, 10);
        if (*end || st.count <= 0) {
            fprintf(stderr, "nanoctl: --count expects a positive number\n");
            return EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "usage: nanoctl sub [FILTER] [--count N]\n");
        return EXIT_USAGE;
    }
    nano_buf_init(&target, 4096);
    nano_buf_puts(&target, "/v1/stream?filter=");
    ctl_buf_query_str(&target, argc - optind == 1 ? argv[optind] : "#");
    nano_buf_init(&st.err, 1 << 16);
    /* nanod sends a heartbeat every 15 s: 60 s of silence means it is gone. */
    rc = nano_http_stream_unix(ctl_socket, "GET", target.data, NULL, 0,
                               NANO_HTTP_STREAM_LINES, &st.status, on_sse_line,
                               &st, 60000);
    nano_buf_free(&target);
    if (rc < 0 && st.status == 0) {
        nano_buf_free(&st.err);
        return ctl_unreachable(rc);
    }
    if (st.status < 200 || st.status > 299) {
        rc = ctl_api_error(st.status, &st.err);
        nano_buf_free(&st.err);
        return rc;
    }
    nano_buf_free(&st.err);
    if (st.count > 0) {
        fprintf(stderr, "nanoctl: the stream ended early\n");
        return EXIT_FAIL;
    }
    return 0;
}

/* ---- commands: drivers and devices ---------------------------------------------- */

static int
cmd_driver_list(void)
{
    struct nano_cfg_doc *doc;
    int rc;

    if ((rc = ctl_fetch("GET", "/v1/drivers", NULL, &doc)) || !doc)
        return rc;
    for (const struct nano_cfg_node *d = nano_cfg_root(doc)->child; d; d = d->next)
        printf("%-10s %s\n", ctl_str(d, "name", "?"), ctl_str(d, "summary", ""));
    nano_cfg_free(doc);
    return 0;
}

static int
cmd_driver_show(const char *name)
{
    struct nano_buf target;
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *r, *list;
    int rc;

    nano_buf_init(&target, 1024);
    nano_buf_puts(&target, "/v1/drivers/");
    ctl_buf_query_str(&target, name);
    rc = ctl_fetch("GET", target.data, NULL, &doc);
    nano_buf_free(&target);
    if (rc || !doc)
        return rc;
    r = nano_cfg_root(doc);
    printf("%s - %s\n", ctl_str(r, "name", "?"), ctl_str(r, "summary", ""));
    printf("default interval: %sms\n\nparameters:\n",
           ctl_str(r, "default_interval_ms", "1000"));
    list = nano_cfg_get(r, "params");
    if (!list || !list->count)
        printf("  (none)\n");
    for (const struct nano_cfg_node *p = list ? list->child : NULL; p; p = p->next) {
        char range[128] = "";
        const struct nano_cfg_node *ch = nano_cfg_get(p, "choices");
        if (nano_cfg_get(p, "min"))
            snprintf(range, sizeof range, " [%s..%s]", ctl_str(p, "min", ""),
                     ctl_str(p, "max", ""));
        if (ch) {
            size_t l = 0;
            range[0] = '\0';
            for (const struct nano_cfg_node *c = ch->child; c && l < sizeof range - 2;
                 c = c->next)
                l += (size_t)snprintf(range + l, sizeof range - l, "%s%s",
                                      c == ch->child ? " {" : "|", c->str);
            if (l < sizeof range - 2)
                strcat(range, "}");
        }
        const struct nano_cfg_node *def = nano_cfg_get(p, "default");
        printf("  %-12s %-9s %-14s %s%s\n", ctl_str(p, "name", "?"),
               ctl_str(p, "type", "?"),
               def && def->kind == NANO_CFG_SCALAR ? def->str : "(required)",
               ctl_str(p, "help", ""), range);
    }
    list = nano_cfg_get(r, "quantities");
    printf("\nquantities:\n");
    if (!list || !list->count)
        printf("  (from the instance's settings)\n");
    for (const struct nano_cfg_node *q = list ? list->child : NULL; q; q = q->next) {
        char range[64] = "";
        if (nano_cfg_get(q, "min"))
            snprintf(range, sizeof range, "%s..%s", ctl_str(q, "min", ""),
                     ctl_str(q, "max", ""));
        printf("  %-12s %-6s %-16s %s\n", ctl_str(q, "name", "?"),
               ctl_str(q, "unit", ""), range, ctl_str(q, "help", ""));
    }
    nano_cfg_free(doc);
    return 0;
}

/* Shared by `driver install` and `register`. */
static int
install(const char *driver, const char *name, const char *interval,
        char **params, int nparams, bool enable)
{
    struct nano_buf body;
    struct nano_cfg_doc *doc = NULL;
    int rc;

    nano_buf_init(&body, 1u << 20);
    nano_buf_puts(&body, "{\"name\":");
    ctl_buf_json_str(&body, name ? name : driver);
    nano_buf_puts(&body, ",\"driver\":");
    ctl_buf_json_str(&body, driver);
    if (interval) {
        nano_buf_puts(&body, ",\"interval\":");
        ctl_buf_json_str(&body, interval);
    }
    nano_buf_printf(&body, ",\"enable\":%s,\"params\":{", enable ? "true" : "false");
    for (int i = 0; i < nparams; i++) {
        char *eq = strchr(params[i], '=');
        if (!eq || eq == params[i]) {
            fprintf(stderr, "nanoctl: --param expects KEY=VALUE, got '%s'\n",
                    params[i]);
            nano_buf_free(&body);
            return EXIT_USAGE;
        }
        *eq = '\0';
        if (i)
            nano_buf_putc(&body, ',');
        ctl_buf_json_str(&body, params[i]);
        nano_buf_putc(&body, ':');
        /* {...} and [...] go as JSON (sim waveforms, modbus maps). */
        if (eq[1] == '{' || eq[1] == '[')
            nano_buf_puts(&body, eq + 1);
        else
            ctl_buf_json_str(&body, eq + 1);
        *eq = '=';
    }
    nano_buf_puts(&body, "}}");
    rc = ctl_fetch("POST", "/v1/devices", body.data, &doc);
    if (rc == 0 && doc)
        printf("installed %s (driver %s)%s\n", name ? name : driver, driver,
               enable ? ", enabled" : ", disabled (nanoctl driver enable to start)");
    nano_cfg_free(doc);
    nano_buf_free(&body);
    return rc;
}

/* Options common to install and register. */
struct install_opts {
    const char *name, *interval, *driver, *bus;
    char       *params[64];
    int         nparams;
    bool        enable, disable;
};

static int
parse_install_opts(int argc, char **argv, struct install_opts *io)
{
    static const struct option o[] = {
        { "name", required_argument, NULL, 'n' },
        { "interval", required_argument, NULL, 'i' },
        { "param", required_argument, NULL, 'p' },
        { "driver", required_argument, NULL, 'd' },
        { "bus", required_argument, NULL, 'b' },
        { "enable", no_argument, NULL, 'e' },
        { "disabled", no_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "n:i:p:d:b:eD", o, NULL)) != -1) {
        switch (c) {
        case 'n': io->name = optarg; break;
        case 'i': io->interval = optarg; break;
        case 'd': io->driver = optarg; break;
        case 'b': io->bus = optarg; break;
        case 'e': io->enable = true; break;
        case 'D': io->disable = true; break;
        case 'p':
            if (io->nparams == 64) {
                fprintf(stderr, "nanoctl: too many --param\n");
                return EXIT_USAGE;
            }
            io->params[io->nparams++] = optarg;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    return 0;
}

static char bus_param[512];

static int
cmd_register(int argc, char **argv)
{
    struct install_opts io = { 0 };
    int rc = parse_install_opts(argc, argv, &io);

    if (rc)
        return rc;
    if (!io.driver || optind != argc) {
        fprintf(stderr, "usage: nanoctl register --driver DRIVER [--bus BUS] "
                "[--name NAME] [--interval I] [--param K=V]... [--disabled]\n");
        return EXIT_USAGE;
    }
    if (io.bus) {
        snprintf(bus_param, sizeof bus_param, "bus=%s", io.bus);
        if (io.nparams == 64)
            return EXIT_USAGE;
        io.params[io.nparams++] = bus_param;
    }
    return install(io.driver, io.name, io.interval, io.params, io.nparams,
                   !io.disable);
}

static int
device_action(const char *verb, const char *method, const char *name)
{
    struct nano_buf target;
    struct nano_cfg_doc *doc = NULL;
    int rc;

    nano_buf_init(&target, 1024);
    nano_buf_puts(&target, "/v1/devices/");
    ctl_buf_query_str(&target, name);
    if (verb)
        nano_buf_printf(&target, "/%s", verb);
    rc = ctl_fetch(method, target.data, NULL, &doc);
    if (rc == 0 && doc)
        printf("%s: %s\n", name, ctl_str(nano_cfg_root(doc), "result", "ok"));
    nano_cfg_free(doc);
    nano_buf_free(&target);
    return rc;
}

static int
cmd_driver(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";

    if (!strcmp(sub, "list") && argc == 2)
        return cmd_driver_list();
    if (!strcmp(sub, "show") && argc == 3)
        return cmd_driver_show(argv[2]);
    if (!strcmp(sub, "install") && argc >= 3) {
        struct install_opts io = { 0 };
        int rc = parse_install_opts(argc - 1, argv + 1, &io);
        if (rc)
            return rc;
        if (optind + 1 != argc - 1 || io.driver || io.bus) {
            fprintf(stderr, "usage: nanoctl driver install DRIVER [--name NAME] "
                    "[--interval I] [--param K=V]... [--enable]\n");
            return EXIT_USAGE;
        }
        return install(argv[1 + optind], io.name, io.interval, io.params,
                       io.nparams, io.enable);
    }
    if ((!strcmp(sub, "enable") || !strcmp(sub, "disable")) && argc == 3)
        return device_action(sub, "POST", argv[2]);
    if (!strcmp(sub, "remove") && argc == 3)
        return device_action(NULL, "DELETE", argv[2]);
    fprintf(stderr,
        "usage: nanoctl driver list\n"
        "       nanoctl driver show DRIVER\n"
        "       nanoctl driver install DRIVER [--name NAME] [--interval I] "
        "[--param K=V]... [--enable]\n"
        "       nanoctl driver enable|disable|remove INSTANCE\n");
    return EXIT_USAGE;
}

static int
cmd_devices(int argc, char **argv)
{
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *list;
    int rc;

    if (argc > 2) {
        fprintf(stderr, "usage: nanoctl devices [INSTANCE]\n");
        return EXIT_USAGE;
    }
    if (argc == 2) {
        struct nano_buf target;
        nano_buf_init(&target, 1024);
        nano_buf_puts(&target, "/v1/devices/");
        ctl_buf_query_str(&target, argv[1]);
        rc = ctl_fetch("GET", target.data, NULL, &doc);
        nano_buf_free(&target);
        if (rc || !doc)
            return rc;
        /* Show the one instance like a one-row list. */
        struct nano_cfg_doc *wrap = nano_cfg_new("devices");
        struct nano_cfg_node *root = nano_cfg_root(wrap);
        root->kind = NANO_CFG_LIST;
        nano_cfg_copy(wrap, root, NULL, nano_cfg_root(doc));
        nano_cfg_free(doc);
        doc = wrap;
    } else {
        if ((rc = ctl_fetch("GET", "/v1/devices", NULL, &doc)) || !doc)
            return rc;
    }
    list = nano_cfg_root(doc);
    if (!list->count)
        printf("(no devices; see nanoctl driver list)\n");
    else
        printf("%-14s %-8s %-9s %-9s %7s %6s  %s\n", "INSTANCE", "DRIVER", "STATE",
               "ORIGIN", "SAMPLES", "ERRORS", "LAST ERROR / VALUES");
    for (const struct nano_cfg_node *d = list->child; d; d = d->next) {
        const struct nano_cfg_node *vals = nano_cfg_get(d, "values");
        char line[512] = "";
        size_t l = 0;
        const char *err = ctl_str(d, "last_error", NULL);
        if (err && strcmp(ctl_str(d, "state", ""), "ok"))
            l += (size_t)snprintf(line, sizeof line, "%s; ", err);
        for (const struct nano_cfg_node *v = vals ? vals->child : NULL;
             v && l < sizeof line; v = v->next) {
            char val[64];
            const char *q = ctl_str(v, "quality", "ok");
            l += (size_t)snprintf(line + l, sizeof line - l, "%s%s=%s%s%s%s",
                                  v == vals->child ? "" : " ", v->key,
                                  ctl_value_text(nano_cfg_get(v, "value"), val, sizeof val),
                                  ctl_str(v, "unit", ""), strcmp(q, "ok") ? "!" : "",
                                  strcmp(q, "ok") ? q : "");
        }
        printf("%-14s %-8s %-9s %-9s %7s %6s  %s\n", ctl_str(d, "name", "?"),
               ctl_str(d, "driver", "?"), ctl_str(d, "state", "?"),
               ctl_str(d, "origin", "?"), ctl_str(d, "samples", "0"),
               ctl_str(d, "errors", "0"), line);
    }
    nano_cfg_free(doc);
    return 0;
}

/* ---- main --------------------------------------------------------------------- */

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    { "status",   cmd_status,   "status                       daemon health and counts" },
    { "pub",      cmd_pub,      "pub TOPIC VALUE [--unit U]   publish a value" },
    { "sub",      cmd_sub,      "sub [FILTER] [--count N]     print messages as they arrive" },
    { "read",     cmd_read,     "read TOPIC                   latest value of a topic" },
    { "topics",   cmd_topics,   "topics [FILTER]              every topic with its latest value" },
    { "driver",   cmd_driver,   "driver list|show|install|enable|disable|remove ..." },
    { "register", cmd_register, "register --driver D --bus B  install and enable a sensor" },
    { "devices",  cmd_devices,  "devices [INSTANCE]           instances, states, last values" },
    { "service",  ctl_cmd_service, "service start|stop|restart|remove|list|status|explain ..." },
    { "gpio",     ctl_cmd_gpio, "gpio list | get PIN | set PIN high|low|toggle" },
    { "sim",      ctl_cmd_sim,  "sim list | set BUS ADDR Q=V... | fault BUS ADDR KIND" },
    { "sandbox",  ctl_cmd_sandbox, "sandbox build|load|reload|list|status|unload|enable|disable ..." },
    { NULL, NULL, NULL },
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: nanoctl [--socket PATH] [--json] COMMAND [ARGS]\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %s\n", c->usage);
    fprintf(f, "\nThe socket is --socket, else $NANO_SOCKET, else nanod's default "
            "(%s).\nExit codes: 0 ok, 1 failure or nanod not running, 2 usage, "
            "3 not found, 4 rejected.\n", ctl_socket);
}

int
main(int argc, char **argv)
{
    const char *env = getenv("NANO_SOCKET");
    char *args[256];
    int n = 0;

    if (env && *env)
        snprintf(ctl_socket, sizeof ctl_socket, "%s", env);
    else
        nano_default_path(NANO_PATH_SOCKET, ctl_socket, sizeof ctl_socket);

    /* Global options may come anywhere ("nanoctl status --json"). */
    for (int i = 0; i < argc && n < 255; i++) {
        if (i > 0 && !strcmp(argv[i], "--json")) {
            ctl_json = true;
        } else if (i > 0 && !strcmp(argv[i], "--socket")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nanoctl: --socket needs a path\n");
                return EXIT_USAGE;
            }
            snprintf(ctl_socket, sizeof ctl_socket, "%s", argv[++i]);
        } else if (i > 0 && !strncmp(argv[i], "--socket=", 9)) {
            snprintf(ctl_socket, sizeof ctl_socket, "%s", argv[i] + 9);
        } else {
            args[n++] = argv[i];
        }
    }
    args[n] = NULL;
    if (n < 2 || !strcmp(args[1], "-h") || !strcmp(args[1], "--help") ||
        !strcmp(args[1], "help")) {
        usage(n < 2 ? stderr : stdout);
        return n < 2 ? EXIT_USAGE : 0;
    }
    if (!strcmp(args[1], "--version") || !strcmp(args[1], "version")) {
        printf("nanoctl %s (%s)\n", NANO_VERSION, NANO_PROFILE);
        return 0;
    }
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(c->name, args[1]))
            return c->fn(n - 1, args + 1);
    fprintf(stderr, "nanoctl: unknown command '%s'\n", args[1]);
    usage(stderr);
    return EXIT_USAGE;
}
