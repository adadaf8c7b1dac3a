/* SPDX-License-Identifier: MIT
 *
 * h_services.c - services: named rules with actions (src/rules/engine.h).
 *
 *   GET    /v1/services                  every service with status and state
 *   POST   /v1/services                  start: {"name": .., "config": {..}}
 *                                        (config omitted: start a stopped one)
 *   GET    /v1/services/{name}           settings, status, counters, topics
 *   GET    /v1/services/{name}/explain   inputs, sub-expressions, why
 *                                        (?topic=T for one topic)
 *   POST   /v1/services/{name}/start     (and /stop, /restart)
 *   DELETE /v1/services/{name}
 *
 * A rule error answers 400 with the document position of the error (line,
 * col in the request body) and, for errors inside a rule or action text,
 * "field", "text_line", "text_col" and "caret" (the text with a ^ under
 * the column) so that nanoctl can print it the way a compiler would.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/http_parse.h"
#include "api/http_server.h"
#include "core/cfg.h"
#include "core/err.h"
#include "rules/engine.h"

static void
respond_rule_error(struct nano_http_req *req, int rc, const struct nano_diag *d,
                   const struct nano_rules_error *err)
{
    const char *code;
    int status = api__status_of(rc, &code);
    struct nano_buf b;
    struct nano_json w;

    api__json_begin(&b, &w);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "error");
    nano_json_str(&w, code);
    nano_json_key(&w, "message");
    nano_json_str(&w, d->msg);
    if (d->line) {
        nano_json_key(&w, "line");
        nano_json_uint(&w, d->line);
        nano_json_key(&w, "col");
        nano_json_uint(&w, d->col);
    }
    if (err && err->field[0]) {
        nano_json_key(&w, "field");
        nano_json_str(&w, err->field);
        if (err->line) {
            nano_json_key(&w, "text_line");
            nano_json_uint(&w, err->line);
            nano_json_key(&w, "text_col");
            nano_json_uint(&w, err->col);
        }
        if (err->caret[0]) {
            nano_json_key(&w, "caret");
            nano_json_str(&w, err->caret);
        }
    }
    nano_json_obj_end(&w);
    api__json_send(req, status, &b, &w);
}

static void
respond_status(struct nano_http_req *req, struct nano_api *api,
               const char *name, int http_status)
{
    struct nano_buf b;
    struct nano_json w;

    api__json_begin(&b, &w);
    if (nano_rules_write_status(api->d->rules, name, &w) != NANO_OK) {
        nano_buf_free(&b);
        nano_http_respond_error(req, 404, "not_found", "no service '%s'", name);
        return;
    }
    api__json_send(req, http_status, &b, &w);
}

static void
respond_rc(struct nano_http_req *req, int rc, const char *name)
{
    char what[96];

    if (rc == NANO_ENOTFOUND) {
        nano_http_respond_error(req, 404, "not_found", "no service '%s'", name);
        return;
    }
    snprintf(what, sizeof what, "service '%s'", name);
    api__respond_rc(req, rc, what);
}

static void
get_services(struct nano_http_req *req, const struct nano_route_match *m,
             void *arg)
{
    struct nano_api *api = arg;
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    api__json_begin(&b, &w);
    nano_rules_write_list(api->d->rules, &w);
    api__json_send(req, 200, &b, &w);
}

static void
get_service(struct nano_http_req *req, const struct nano_route_match *m,
            void *arg)
{
    respond_status(req, arg, nano_route_param(m, "name"), 200);
}

static void
get_explain(struct nano_http_req *req, const struct nano_route_match *m,
            void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    char topic[512];
    struct nano_buf b;
    struct nano_json w;
    int rc;

    rc = nano_http_query_get(nano_http_req_query(req), "topic", topic,
                             sizeof topic);
    if (rc < 0 && rc != -ENOENT) {
        nano_http_respond_error(req, 400, "bad_query", "query parameter "
                                "'topic' is malformed or too long");
        return;
    }
    api__json_begin(&b, &w);
    rc = nano_rules_write_explain(api->d->rules, name, rc >= 0 ? topic : NULL,
                                  &w);
    if (rc != NANO_OK) {
        bool with_topic = nano_http_query_get(nano_http_req_query(req), "topic",
                                              topic, sizeof topic) >= 0;
        nano_buf_free(&b);
        if (with_topic)
            nano_http_respond_error(req, 404, "not_found", "no service '%s', "
                                    "or it has no topic '%s'", name, topic);
        else
            nano_http_respond_error(req, 404, "not_found", "no service '%s'",
                                    name);
        return;
    }
    api__json_send(req, 200, &b, &w);
}

static void
post_service(struct nano_http_req *req, const struct nano_route_match *m,
             void *arg)
{
    struct nano_api *api = arg;
    struct nano_cfg_doc *body;
    const struct nano_cfg_node *root, *n, *config = NULL;
    struct nano_diag d = { .origin = "body" };
    struct nano_rules_error err;
    const char *name = NULL;
    char name_copy[64];
    int rc;

    (void)m;
    if (!(body = api__body_json(req)))
        return;
    root = nano_cfg_root(body);
    if (root->kind != NANO_CFG_MAP) {
        nano_diag_set(&d, NANO_ESCHEMA, root->line, root->col, "expected an "
                      "object {\"name\": .., \"config\": {\"rule\": .., "
                      "\"action\": ..}}");
        api__respond_diag(req, 400, "invalid", &d);
        goto out;
    }
    for (n = root->child; n; n = n->next) {
        if (strcmp(n->key, "name") == 0 && n->kind == NANO_CFG_SCALAR) {
            name = n->str;
        } else if (strcmp(n->key, "config") == 0 && n->kind != NANO_CFG_NULL) {
            config = n;
        } else {
            nano_diag_set(&d, NANO_ESCHEMA, n->key_line, n->key_col,
                          "unexpected '%s': the body is {\"name\": .., "
                          "\"config\": {..}}", n->key);
            api__respond_diag(req, 400, "invalid", &d);
            goto out;
        }
    }
    if (!name) {
        nano_diag_set(&d, NANO_ESCHEMA, root->line, root->col,
                      "missing 'name' (the service name, e.g. temp-guard)");
        api__respond_diag(req, 400, "invalid", &d);
        goto out;
    }
    snprintf(name_copy, sizeof name_copy, "%s", name);
    rc = nano_rules_start(api->d->rules, name, config, &d, &err);
    if (rc != NANO_OK) {
        respond_rule_error(req, rc, &d, &err);
        goto out;
    }
    respond_status(req, api, name_copy, config ? 201 : 200);
out:
    nano_cfg_free(body);
}

static void
post_start(struct nano_http_req *req, const struct nano_route_match *m,
           void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    struct nano_diag d = { 0 };
    struct nano_rules_error err;
    int rc = nano_rules_start(api->d->rules, name, NULL, &d, &err);

    if (rc == NANO_ENOTFOUND)
        respond_rc(req, rc, name);
    else if (rc != NANO_OK)
        respond_rule_error(req, rc, &d, &err);
    else
        respond_status(req, api, name, 200);
}

static void
post_stop(struct nano_http_req *req, const struct nano_route_match *m,
          void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    int rc = nano_rules_stop(api->d->rules, name);

    if (rc != NANO_OK)
        respond_rc(req, rc, name);
    else
        respond_status(req, api, name, 200);
}

static void
post_restart(struct nano_http_req *req, const struct nano_route_match *m,
             void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    int rc = nano_rules_restart(api->d->rules, name);

    if (rc == NANO_ENOTFOUND)
        respond_rc(req, rc, name);
    else
        respond_status(req, api, name, 200);   /* a failed start shows there */
}

static void
delete_service(struct nano_http_req *req, const struct nano_route_match *m,
               void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    int rc = nano_rules_remove(api->d->rules, name);
    struct nano_buf b;
    struct nano_json w;

    if (rc != NANO_OK) {
        respond_rc(req, rc, name);
        return;
    }
    api__json_begin(&b, &w);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "name");
    nano_json_str(&w, name);
    nano_json_key(&w, "result");
    nano_json_str(&w, "removed");
    nano_json_obj_end(&w);
    api__json_send(req, 200, &b, &w);
}

int
api__routes_services(struct nano_api *api)
{
    struct nano_router *r = api->router;
    int rc;

    if (!api->d->rules)
        return NANO_OK;            /* a daemon without services */
    if ((rc = nano_router_add(r, "GET", "/v1/services", 0, get_services, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/services", 0, post_service, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/services/{name}", 0, get_service, api)) ||
        (rc = nano_router_add(r, "DELETE", "/v1/services/{name}", 0, delete_service, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/services/{name}/explain", 0, get_explain, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/services/{name}/start", 0, post_start, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/services/{name}/stop", 0, post_stop, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/services/{name}/restart", 0, post_restart, api)))
        return rc;
    return NANO_OK;
}
