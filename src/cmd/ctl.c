/* SPDX-License-Identifier: MIT
 *
 * ctl.c - what every nanoctl command shares: the socket, one request to
 * nanod with its errors turned into a message and an exit code, and small
 * formatting helpers for tables.  Commands live in nanoctl.c and ctl_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_client.h"
#include "cmd/ctl.h"
#include "core/json.h"
#include "core/time.h"

char ctl_socket[4096];
bool ctl_json;

/* ---- talking to nanod ------------------------------------------------------------ */

int
ctl_unreachable(int rc)
{
    if (rc == -ENOENT)
        fprintf(stderr, "nanoctl: nanod is not running (no socket at %s)\n",
                ctl_socket);
    else if (rc == -ECONNREFUSED)
        fprintf(stderr, "nanoctl: nanod is not running (nothing listens on %s)\n",
                ctl_socket);
    else if (rc == -EACCES)
        fprintf(stderr, "nanoctl: permission denied on %s (try as the user "
                "running nanod, or add yourself to its group)\n", ctl_socket);
    else if (rc == -ETIMEDOUT)
        fprintf(stderr, "nanoctl: nanod did not answer within %d s on %s\n",
                CALL_TIMEOUT_MS / 1000, ctl_socket);
    else
        fprintf(stderr, "nanoctl: cannot talk to nanod on %s: %s\n",
                ctl_socket, nano_strerror(rc));
    return EXIT_FAIL;
}

/* Print the API's JSON error body and map the status to an exit code. */
int
ctl_api_error(int status, const struct nano_buf *body)
{
    struct nano_cfg_doc *doc = NULL;
    const struct nano_cfg_node *msg, *line, *col, *caret;

    if (ctl_json && body->len)
        fprintf(stderr, "%s\n", body->data);
    else if (body->len &&
             nano_cfg_parse_json(body->data, body->len, "response", &doc, NULL) == NANO_OK &&
             (msg = nano_cfg_get(nano_cfg_root(doc), "message"))) {
        line = nano_cfg_get(nano_cfg_root(doc), "line");
        col = nano_cfg_get(nano_cfg_root(doc), "col");
        caret = nano_cfg_get(nano_cfg_root(doc), "caret");
        if (caret && caret->kind == NANO_CFG_SCALAR && strchr(caret->str, '\n')) {
            /* An error inside a rule's text: the message already says where
             * in the rule; show the text with a caret under the column
             * rather than the position in the JSON we sent. */
            fprintf(stderr, "nanoctl: %s\n%s\n", msg->str, strchr(caret->str, '\n') + 1);
        } else if (line && col)
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
int
ctl_call(const char *method, const char *target, const char *body,
     struct nano_cfg_doc **doc_out, struct nano_buf *raw_out)
{
    struct nano_buf resp;
    int status = 0, rc;

    if (doc_out)
        *doc_out = NULL;
    nano_buf_init(&resp, 64u * 1024 * 1024);
    rc = nano_http_call_unix(ctl_socket, method, target, body,
                             body ? strlen(body) : 0, &status, &resp,
                             CALL_TIMEOUT_MS);
    if (rc != NANO_OK) {
        nano_buf_free(&resp);
        return ctl_unreachable(rc);
    }
    if (status < 200 || status > 299) {
        rc = ctl_api_error(status, &resp);
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
int
ctl_call_print_json(const char *method, const char *target, const char *body)
{
    struct nano_buf raw;
    int rc;

    nano_buf_init(&raw, 64u * 1024 * 1024);
    rc = ctl_call(method, target, body, NULL, &raw);
    if (rc == 0)
        printf("%s\n", raw.data ? raw.data : "");
    nano_buf_free(&raw);
    return rc;
}

int
ctl_fetch(const char *method, const char *target, const char *body,
          struct nano_cfg_doc **doc_out)
{
    *doc_out = NULL;
    if (ctl_json)
        return ctl_call_print_json(method, target, body);
    return ctl_call(method, target, body, doc_out, NULL);
}

/* ---- formatting helpers --------------------------------------------------------- */

const char *
ctl_str(const struct nano_cfg_node *obj, const char *key, const char *def)
{
    const struct nano_cfg_node *n = nano_cfg_get(obj, key);

    return n && n->kind == NANO_CFG_SCALAR ? n->str : def;
}

double
ctl_num(const struct nano_cfg_node *obj, const char *key)
{
    const struct nano_cfg_node *n = nano_cfg_get(obj, key);
    double v = 0;

    if (n)
        nano_cfg_as_num(n, &v, NULL);
    return v;
}

/* A value node as text: numbers trimmed, strings bare, JSON compact. */
const char *
ctl_value_text(const struct nano_cfg_node *v, char *out, size_t cap)
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

const char *
ctl_bytes_text(double b, char *out, size_t cap)
{
    if (b >= 1048576)
        snprintf(out, cap, "%.2f MB", b / 1048576);
    else if (b >= 1024)
        snprintf(out, cap, "%.1f KB", b / 1024);
    else
        snprintf(out, cap, "%.0f B", b);
    return out;
}

const char *
ctl_age_text(double ts_us, char *out, size_t cap)
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
void
ctl_buf_json_str(struct nano_buf *b, const char *s)
{
    nano_buf_putc(b, '"');
    nano_json_escape(b, s, strlen(s));
    nano_buf_putc(b, '"');
}

/* Percent-encode s for a query string. */
void
ctl_buf_query_str(struct nano_buf *b, const char *s)
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
