/* SPDX-License-Identifier: MIT
 *
 * nanoctl.c - the command-line client of nanod's API (and nothing else:
 * every command is one or more HTTP requests on the Unix socket).
 *
 * Output is a readable table by default and the API's JSON with --json.
 * Exit codes (documented in the README):
 *   0  success
 *   1  failure: nanod is not running, or it answered with a server error
 *   2  usage error (bad command line)
 *   3  not found (no such topic, device, driver, service)
 *   4  rejected: invalid input or a conflict (the message says why)
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
#include "core/buf.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/value.h"
#include "nano_config.h"
#include "port/paths.h"

#define EXIT_FAIL      1
#define EXIT_USAGE     2
#define EXIT_NOTFOUND  3
#define EXIT_REJECTED  4
#define CALL_TIMEOUT_MS 10000

static char socket_path[4096];
static bool opt_json;

/* ---- talking to nanod ------------------------------------------------------------ */

static int
unreachable(int rc)
{
    if (rc == -ENOENT)
        fprintf(stderr, "nanoctl: nanod is not running (no socket at %s)\n",
                socket_path);
    else if (rc == -ECONNREFUSED)
        fprintf(stderr, "nanoctl: nanod is not running (nothing listens on %s)\n",
                socket_path);
    else if (rc == -EACCES)
        fprintf(stderr, "nanoctl: permission denied on %s (try as the user "
                "running nanod, or add yourself to its group)\n", socket_path);
    else if (rc == -ETIMEDOUT)
        fprintf(stderr, "nanoctl: nanod did not answer within %d s on %s\n",
                CALL_TIMEOUT_MS / 1000, socket_path);
    else
        fprintf(stderr, "nanoctl: cannot talk to nanod on %s: %s\n",
                socket_path, nano_strerror(rc));
    return EXIT_FAIL;
}

/* Print the API's JSON error body and map the status to an exit code. */
static int
api_error(int status, const struct nano_buf *body)
{
    struct nano_cfg_doc *doc = NULL;
    const struct nano_cfg_node *msg, *line, *col;

    if (opt_json && body->len)
        fprintf(stderr, "%s\n", body->data);
    else if (body->len &&
             nano_cfg_parse_json(body->data, body->len, "response", &doc, NULL) == NANO_OK &&
             (msg = nano_cfg_get(nano_cfg_root(doc), "message"))) {
        line = nano_cfg_get(nano_cfg_root(doc), "line");
        col = nano_cfg_get(nano_cfg_root(doc), "col");
        if (line && col)
            fprintf(stderr, "nanoctl: %s:%s: %s\n", line->str, col->str, msg->str);
        else
            fprintf(stderr, "nanoctl: %s\n", msg->str);
    } else {
        fprintf(stderr, "nanoctl: nanod answered HTTP %d\n", status);
    }
    nano_cfg_free(doc);
    if (status == 404)
        return EXIT_NOTFOUND;
    if (status >= 400 && status < 500)
        return EXIT_REJECTED;
    return EXIT_FAIL;
}

/* One request.  On success returns 0 with the parsed JSON body in *doc_out
 * (may be NULL when doc_out is NULL: the raw body is printed with --json).
 * Otherwise prints why and returns the exit code. */
static int
call(const char *method, const char *target, const char *body,
     struct nano_cfg_doc **doc_out, struct nano_buf *raw_out)
{
    struct nano_buf resp;
    int status = 0, rc;

    if (doc_out)
        *doc_out = NULL;
    nano_buf_init(&resp, 64u * 1024 * 1024);
    rc = nano_http_call_unix(socket_path, method, target, body,
                             body ? strlen(body) : 0, &status, &resp,
                             CALL_TIMEOUT_MS);
    if (rc != NANO_OK) {
        nano_buf_free(&resp);
        return unreachable(rc);
    }
    if (status < 200 || status > 299) {
        rc = api_error(status, &resp);
        nano_buf_free(&resp);
        return rc;
    }
    if (doc_out && resp.len &&
        nano_cfg_parse_json(resp.data, resp.len, "response", doc_out, NULL) != NANO_OK) {
        fprintf(stderr, "nanoctl: nanod sent a response that is not JSON\n");
        nano_buf_free(&resp);
        return EXIT_FAIL;
    }
    if (raw_out) {
        nano_buf_append(raw_out, resp.data ? resp.data : "", resp.len);
    }
    nano_buf_free(&resp);
    return 0;
}

/* --json: print the body as it came. */
static int
call_print_json(const char *method, const char *target, const char *body)
{
    struct nano_buf raw;
    int rc;

    nano_buf_init(&raw, 64u * 1024 * 1024);
    rc = call(method, target, body, NULL, &raw);
    if (rc == 0)
        printf("%s\n", raw.data ? raw.data : "");
    nano_buf_free(&raw);
    return rc;
}

/* ---- formatting helpers --------------------------------------------------------- */

static const char *
str_of(const struct nano_cfg_node *obj, const char *key, const char *def)
{
    const struct nano_cfg_node *n = nano_cfg_get(obj, key);

    return n && n->kind == NANO_CFG_SCALAR ? n->str : def;
}

static double
num_of(const struct nano_cfg_node *obj, const char *key)
{
    const struct nano_cfg_node *n = nano_cfg_get(obj, key);
    double v = 0;

    if (n)
        nano_cfg_as_num(n, &v, NULL);
    return v;
}

/* A value node as text: numbers trimmed, strings bare, JSON compact. */
static const char *
value_text(const struct nano_cfg_node *v, char *out, size_t cap)
{
    if (!v || v->kind == NANO_CFG_NULL) {
        snprintf(out, cap, "-");
    } else if (v->kind == NANO_CFG_SCALAR && !v->quoted) {
        double x;
        if (nano_cfg_as_num(v, &x, NULL) == NANO_OK && strcmp(v->str, "true") &&
            strcmp(v->str, "false"))
            snprintf(out, cap, "%.6g", x);
        else
            snprintf(out, cap, "%s", v->str);
    } else if (v->kind == NANO_CFG_SCALAR) {
        snprintf(out, cap, "%s", v->str);
    } else {
        struct nano_buf b;
        nano_buf_init(&b, cap > 1 ? cap - 1 : 1);
        nano_cfg_to_json(v, &b);
        snprintf(out, cap, "%s", b.data ? b.data : "");
        nano_buf_free(&b);
    }
    return out;
}

static const char *
bytes_text(double b, char *out, size_t cap)
{
    if (b >= 1048576)
        snprintf(out, cap, "%.2f MB", b / 1048576);
    else if (b >= 1024)
        snprintf(out, cap, "%.1f KB", b / 1024);
    else
        snprintf(out, cap, "%.0f B", b);
    return out;
}

static const char *
age_text(double ts_us, char *out, size_t cap)
{
    double age = (double)nano_time_wall_ns() / 1e3 - ts_us;

    if (ts_us <= 0)
        snprintf(out, cap, "-");
    else if (age < 1e6)
        snprintf(out, cap, "%.0fms ago", age / 1e3 < 0 ? 0 : age / 1e3);
    else if (age < 120e6)
        snprintf(out, cap, "%.0fs ago", age / 1e6);
    else
        snprintf(out, cap, "%.0fm ago", age / 60e6);
    return out;
}

/* Append s as a JSON string literal. */
static void
buf_json_str(struct nano_buf *b, const char *s)
{
    nano_buf_putc(b, '"');
    nano_json_escape(b, s, strlen(s));
    nano_buf_putc(b, '"');
}

/* Percent-encode s for a query string. */
static void
buf_query_str(struct nano_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~')
            nano_buf_putc(b, (char)c);
        else
            nano_buf_printf(b, "%%%02X", c);
    }
}

/* ---- commands: status, pub, read, topics, sub ----------------------------------- */

static int
cmd_status(int argc, char **argv)
{
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *r, *mem, *bus, *dev, *api;
    char a[32], b[32], c[32];
    int rc;

    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: nanoctl status\n");
        return EXIT_USAGE;
    }
    if (opt_json)
        return call_print_json("GET", "/v1/status", NULL);
    if ((rc = call("GET", "/v1/status", NULL, &doc, NULL)))
        return rc;
    r = nano_cfg_root(doc);
    mem = nano_cfg_get(r, "memory");
    bus = nano_cfg_get(r, "bus");
    dev = nano_cfg_get(r, "devices");
    api = nano_cfg_get(r, "api");
    unsigned long long up = (unsigned long long)num_of(r, "uptime_s");
    printf("nanod %s (%s), pid %s, up %lluh%02llum%02llus\n",
           str_of(r, "version", "?"), str_of(r, "profile", "?"),
           str_of(r, "pid", "?"), up / 3600, up % 3600 / 60, up % 60);
    printf("config     %s\n", str_of(r, "config", "(built-in)"));
    printf("state      %s\n", str_of(r, "state_dir", "-"));
    printf("memory     rss %s, peak %s, heap %s\n",
           bytes_text(num_of(mem, "rss"), a, sizeof a),
           bytes_text(num_of(mem, "hwm"), b, sizeof b),
           bytes_text(num_of(mem, "heap"), c, sizeof c));
    printf("bus        %s topics, %s subscribers, %s published, %s dropped\n",
           str_of(bus, "topics", "0"), str_of(bus, "subscribers", "0"),
           str_of(bus, "published", "0"), str_of(bus, "dropped", "0"));
    printf("devices    %s instances: %s ok, %s failing, %s disabled; "
           "%s samples, %s errors\n",
           str_of(dev, "instances", "0"), str_of(dev, "ok", "0"),
           str_of(dev, "failing", "0"), str_of(dev, "disabled", "0"),
           str_of(dev, "samples", "0"), str_of(dev, "errors", "0"));
    printf("api        %s connections, %s requests\n",
           str_of(api, "connections", "0"), str_of(api, "requests", "0"));
    printf("reloads    %s (%s rejected)\n", str_of(r, "reloads", "0"),
           str_of(r, "reload_failures", "0"));
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
    buf_json_str(&body, topic);
    nano_buf_puts(&body, ",\"value\":");
    if (v.type == NANO_VT_STR)
        buf_json_str(&body, text);
    else
        nano_buf_puts(&body, text);
    if (unit) {
        nano_buf_puts(&body, ",\"unit\":");
        buf_json_str(&body, unit);
    }
    nano_buf_putc(&body, '}');
    rc = opt_json ? call_print_json("POST", "/v1/publish", body.data)
                  : call("POST", "/v1/publish", body.data, &doc, NULL);
    nano_buf_free(&body);
    nano_cfg_free(doc);
    return rc;
}

static void
print_reading(const struct nano_cfg_node *m, bool with_age)
{
    char val[256], age[32];
    const char *unit = str_of(m, "unit", "");
    const char *q = str_of(m, "quality", "ok");

    printf("%-40s %12s %-5s %s%s%s\n", str_of(m, "topic", "?"),
           value_text(nano_cfg_get(m, "value"), val, sizeof val), unit,
           strcmp(q, "ok") ? q : "", strcmp(q, "ok") ? "  " : "",
           with_age ? age_text(num_of(m, "ts"), age, sizeof age) : "");
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
    buf_query_str(&target, argv[1]);
    if (opt_json) {
        rc = call_print_json("GET", target.data, NULL);
    } else if ((rc = call("GET", target.data, NULL, &doc, NULL)) == 0) {
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
    buf_query_str(&target, argc == 2 ? argv[1] : "#");
    if (opt_json) {
        rc = call_print_json("GET", target.data, NULL);
    } else if ((rc = call("GET", target.data, NULL, &doc, NULL)) == 0) {
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
    if (opt_json) {
        printf("%.*s\n", (int)len, line);
    } else if (nano_cfg_parse_json(line, len, "stream", &doc, NULL) == NANO_OK) {
        char ts[40];
        const struct nano_cfg_node *m = nano_cfg_root(doc);
        double us = num_of(m, "ts");
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
    buf_query_str(&target, argc - optind == 1 ? argv[optind] : "#");
    nano_buf_init(&st.err, 1 << 16);
    /* nanod sends a heartbeat every 15 s: 60 s of silence means it is gone. */
    rc = nano_http_stream_unix(socket_path, "GET", target.data, NULL, 0,
                               NANO_HTTP_STREAM_LINES, &st.status, on_sse_line,
                               &st, 60000);
    nano_buf_free(&target);
    if (rc < 0 && st.status == 0) {
        nano_buf_free(&st.err);
        return unreachable(rc);
    }
    if (st.status < 200 || st.status > 299) {
        rc = api_error(st.status, &st.err);
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

    if (opt_json)
        return call_print_json("GET", "/v1/drivers", NULL);
    if ((rc = call("GET", "/v1/drivers", NULL, &doc, NULL)))
        return rc;
    for (const struct nano_cfg_node *d = nano_cfg_root(doc)->child; d; d = d->next)
        printf("%-10s %s\n", str_of(d, "name", "?"), str_of(d, "summary", ""));
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
    buf_query_str(&target, name);
    if (opt_json) {
        rc = call_print_json("GET", target.data, NULL);
        nano_buf_free(&target);
        return rc;
    }
    rc = call("GET", target.data, NULL, &doc, NULL);
    nano_buf_free(&target);
    if (rc)
        return rc;
    r = nano_cfg_root(doc);
    printf("%s - %s\n", str_of(r, "name", "?"), str_of(r, "summary", ""));
    printf("default interval: %sms\n\nparameters:\n",
           str_of(r, "default_interval_ms", "1000"));
    list = nano_cfg_get(r, "params");
    if (!list || !list->count)
        printf("  (none)\n");
    for (const struct nano_cfg_node *p = list ? list->child : NULL; p; p = p->next) {
        char range[128] = "";
        const struct nano_cfg_node *ch = nano_cfg_get(p, "choices");
        if (nano_cfg_get(p, "min"))
            snprintf(range, sizeof range, " [%s..%s]", str_of(p, "min", ""),
                     str_of(p, "max", ""));
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
        printf("  %-12s %-9s %-14s %s%s\n", str_of(p, "name", "?"),
               str_of(p, "type", "?"),
               def && def->kind == NANO_CFG_SCALAR ? def->str : "(required)",
               str_of(p, "help", ""), range);
    }
    list = nano_cfg_get(r, "quantities");
    printf("\nquantities:\n");
    if (!list || !list->count)
        printf("  (from the instance's settings)\n");
    for (const struct nano_cfg_node *q = list ? list->child : NULL; q; q = q->next) {
        char range[64] = "";
        if (nano_cfg_get(q, "min"))
            snprintf(range, sizeof range, "%s..%s", str_of(q, "min", ""),
                     str_of(q, "max", ""));
        printf("  %-12s %-6s %-16s %s\n", str_of(q, "name", "?"),
               str_of(q, "unit", ""), range, str_of(q, "help", ""));
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
    buf_json_str(&body, name ? name : driver);
    nano_buf_puts(&body, ",\"driver\":");
    buf_json_str(&body, driver);
    if (interval) {
        nano_buf_puts(&body, ",\"interval\":");
        buf_json_str(&body, interval);
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
        buf_json_str(&body, params[i]);
        nano_buf_putc(&body, ':');
        /* {...} and [...] go as JSON (sim waveforms, modbus maps). */
        if (eq[1] == '{' || eq[1] == '[')
            nano_buf_puts(&body, eq + 1);
        else
            buf_json_str(&body, eq + 1);
        *eq = '=';
    }
    nano_buf_puts(&body, "}}");
    rc = opt_json ? call_print_json("POST", "/v1/devices", body.data)
                  : call("POST", "/v1/devices", body.data, &doc, NULL);
    if (rc == 0 && !opt_json)
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
    buf_query_str(&target, name);
    if (verb)
        nano_buf_printf(&target, "/%s", verb);
    rc = opt_json ? call_print_json(method, target.data, NULL)
                  : call(method, target.data, NULL, &doc, NULL);
    if (rc == 0 && !opt_json)
        printf("%s: %s\n", name, str_of(nano_cfg_root(doc), "result", "ok"));
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
        buf_query_str(&target, argv[1]);
        rc = opt_json ? call_print_json("GET", target.data, NULL)
                      : call("GET", target.data, NULL, &doc, NULL);
        nano_buf_free(&target);
        if (rc || opt_json)
            return rc;
        /* Show the one instance like a one-row list. */
        struct nano_cfg_doc *wrap = nano_cfg_new("devices");
        struct nano_cfg_node *root = nano_cfg_root(wrap);
        root->kind = NANO_CFG_LIST;
        nano_cfg_copy(wrap, root, NULL, nano_cfg_root(doc));
        nano_cfg_free(doc);
        doc = wrap;
    } else {
        if (opt_json)
            return call_print_json("GET", "/v1/devices", NULL);
        if ((rc = call("GET", "/v1/devices", NULL, &doc, NULL)))
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
        const char *err = str_of(d, "last_error", NULL);
        if (err && strcmp(str_of(d, "state", ""), "ok"))
            l += (size_t)snprintf(line, sizeof line, "%s; ", err);
        for (const struct nano_cfg_node *v = vals ? vals->child : NULL;
             v && l < sizeof line; v = v->next) {
            char val[64];
            const char *q = str_of(v, "quality", "ok");
            l += (size_t)snprintf(line + l, sizeof line - l, "%s%s=%s%s%s%s",
                                  v == vals->child ? "" : " ", v->key,
                                  value_text(nano_cfg_get(v, "value"), val, sizeof val),
                                  str_of(v, "unit", ""), strcmp(q, "ok") ? "!" : "",
                                  strcmp(q, "ok") ? q : "");
        }
        printf("%-14s %-8s %-9s %-9s %7s %6s  %s\n", str_of(d, "name", "?"),
               str_of(d, "driver", "?"), str_of(d, "state", "?"),
               str_of(d, "origin", "?"), str_of(d, "samples", "0"),
               str_of(d, "errors", "0"), line);
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
            "3 not found, 4 rejected.\n", socket_path);
}

int
main(int argc, char **argv)
{
    const char *env = getenv("NANO_SOCKET");
    char *args[256];
    int n = 0;

    if (env && *env)
        snprintf(socket_path, sizeof socket_path, "%s", env);
    else
        nano_default_path(NANO_PATH_SOCKET, socket_path, sizeof socket_path);

    /* Global options may come anywhere ("nanoctl status --json"). */
    for (int i = 0; i < argc && n < 255; i++) {
        if (i > 0 && !strcmp(argv[i], "--json")) {
            opt_json = true;
        } else if (i > 0 && !strcmp(argv[i], "--socket")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nanoctl: --socket needs a path\n");
                return EXIT_USAGE;
            }
            snprintf(socket_path, sizeof socket_path, "%s", argv[++i]);
        } else if (i > 0 && !strncmp(argv[i], "--socket=", 9)) {
            snprintf(socket_path, sizeof socket_path, "%s", argv[i] + 9);
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
