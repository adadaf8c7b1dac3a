/* SPDX-License-Identifier: MIT
 *
 * h_sandbox.c - WebAssembly services (sandbox/sandbox.h).
 *
 *   GET    /v1/sandbox                  every module with state and counters
 *   GET    /v1/sandbox/{name}           one module
 *   POST   /v1/sandbox                  load: {"name", "wasm": "<base64>",
 *                                       settings...} (the keys of a config
 *                                       entry, without "file")
 *   POST   /v1/sandbox/{name}/reload    new code: {"wasm": "<base64>"}
 *   POST   /v1/sandbox/{name}/enable    (and /disable); enable also ends
 *                                       a quarantine
 *   DELETE /v1/sandbox/{name}
 *
 * The module travels base64-encoded inside JSON so that a load is one
 * request of the same shape as a config entry, parsed by the one JSON
 * parser the API already has; the 4/3 size cost is paid on a local socket,
 * and a module is at most NANO_SANDBOX_MODULE_MAX bytes (the encoded body
 * then fits the server's 1 MiB body limit).
 *
 * A module that does not validate or link is 400 "invalid_module"; one
 * whose start function or init traps is 422 "trapped".  In both cases the
 * message is the engine's, and on reload the running version stays.
 */
#include <string.h>

#include "api/api_int.h"
#include "api/http_server.h"
#include "core/base64.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/mem.h"
#include "sandbox/sandbox.h"

static void
respond_sandbox_error(struct nano_http_req *req, int rc,
                      const struct nano_diag *d)
{
    const char *code;
    int status;

    if (rc == NANO_ETRAP) {
        status = 422;
        code = "trapped";
    } else if (rc == -EINVAL) {
        status = 400;
        code = "invalid_module";
    } else {
        status = api__status_of(rc, &code);
    }
    api__respond_diag(req, status, code, d);
}

static void
respond_module(struct nano_http_req *req, struct nano_api *api, int status,
               const char *name)
{
    struct nano_buf b;
    struct nano_json w;

    api__json_begin(&b, &w);
    if (nano_sandbox_write_one(api->d->sandbox, name, &w) != NANO_OK) {
        nano_buf_free(&b);
        nano_http_respond_error(req, 404, "not_found", "no module '%s'", name);
        return;
    }
    api__json_send(req, status, &b, &w);
}

/* Decode the body's "wasm" member.  Returns owned bytes (nano_free) or
 * NULL after answering the request. */
static uint8_t *
body_wasm(struct nano_http_req *req, const struct nano_cfg_node *body,
          size_t *len_out)
{
    const struct nano_cfg_node *n = nano_cfg_get(body, "wasm");
    struct nano_diag d = { .origin = "body" };
    uint8_t *bytes;
    size_t cap, len = 0;
    int rc;

    if (!n || n->kind != NANO_CFG_SCALAR || !n->quoted) {
        nano_diag_set(&d, NANO_ESCHEMA, n ? n->line : body->line,
                      n ? n->col : body->col, "%s", n ?
                      "'wasm' must be a string: the module in base64" :
                      "missing 'wasm' (the module's bytes in base64)");
        api__respond_diag(req, 400, "invalid", &d);
        return NULL;
    }
    cap = nano_base64_decoded_max(n->len);
    if (cap > NANO_SANDBOX_MODULE_MAX + 3) {
        nano_http_respond_error(req, 413, "too_large", "the module is over the "
                                "limit of %u bytes", NANO_SANDBOX_MODULE_MAX);
        return NULL;
    }
    if (!(bytes = nano_malloc(cap ? cap : 1))) {
        nano_http_respond_error(req, 503, "no_memory", "out of memory");
        return NULL;
    }
    rc = nano_base64_decode(n->str, n->len, bytes, cap, &len);
    if (rc != NANO_OK) {
        nano_diag_set(&d, NANO_ESCHEMA, n->line, n->col, "'wasm' is not "
                      "base64 (character %zu)", len);
        api__respond_diag(req, 400, "invalid", &d);
        nano_free(bytes);
        return NULL;
    }
    *len_out = len;
    return bytes;
}

static void
get_modules(struct nano_http_req *req, const struct nano_route_match *m,
            void *arg)
{
    struct nano_api *api = arg;
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    api__json_begin(&b, &w);
    nano_sandbox_write_list(api->d->sandbox, &w);
    api__json_send(req, 200, &b, &w);
}

static void
get_module(struct nano_http_req *req, const struct nano_route_match *m,
           void *arg)
{
    respond_module(req, arg, 200, nano_route_param(m, "name"));
}

static void
post_module(struct nano_http_req *req, const struct nano_route_match *m,
            void *arg)
{
    struct nano_api *api = arg;
    struct nano_cfg_doc *body, *settings = NULL;
    struct nano_diag d = { .origin = "body" };
    const struct nano_cfg_node *root, *name;
    uint8_t *wasm = NULL;
    size_t len = 0;
    int rc;

    (void)m;
    if (!(body = api__body_json(req)))
        return;
    root = nano_cfg_root(body);
    name = nano_cfg_get(root, "name");
    if (root->kind != NANO_CFG_MAP || !name || name->kind != NANO_CFG_SCALAR) {
        nano_diag_set(&d, NANO_ESCHEMA, root->line, root->col, "expected an "
                      "object with 'name', 'wasm' and the module's settings");
        api__respond_diag(req, 400, "invalid", &d);
        goto out;
    }
    if (!(wasm = body_wasm(req, root, &len)))
        goto out;
    /* The settings are the other members, as in a config entry. */
    if (!(settings = nano_cfg_new("body"))) {
        nano_http_respond_error(req, 503, "no_memory", "out of memory");
        goto out;
    }
    for (const struct nano_cfg_node *n = root->child; n; n = n->next)
        if (strcmp(n->key, "name") && strcmp(n->key, "wasm") &&
            !nano_cfg_copy(settings, nano_cfg_root(settings), n->key, n)) {
            nano_http_respond_error(req, 503, "no_memory", "out of memory");
            goto out;
        }
    rc = nano_sandbox_load(api->d->sandbox, name->str, nano_cfg_root(settings),
                           wasm, len, &d);
    if (rc != NANO_OK)
        respond_sandbox_error(req, rc, &d);
    else
        respond_module(req, api, 201, name->str);
out:
    nano_free(wasm);
    nano_cfg_free(settings);
    nano_cfg_free(body);
}

static void
post_reload(struct nano_http_req *req, const struct nano_route_match *m,
            void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    struct nano_diag d = { .origin = "body" };
    struct nano_cfg_doc *body;
    uint8_t *wasm;
    size_t len = 0;
    int rc;

    if (!(body = api__body_json(req)))
        return;
    if ((wasm = body_wasm(req, nano_cfg_root(body), &len))) {
        rc = nano_sandbox_reload(api->d->sandbox, name, wasm, len, &d);
        if (rc != NANO_OK)
            respond_sandbox_error(req, rc, &d);
        else
            respond_module(req, api, 200, name);
        nano_free(wasm);
    }
    nano_cfg_free(body);
}

static void
set_enabled(struct nano_http_req *req, const struct nano_route_match *m,
            struct nano_api *api, bool on)
{
    const char *name = nano_route_param(m, "name");
    int rc = nano_sandbox_set_enabled(api->d->sandbox, name, on);

    if (rc == NANO_ENOTFOUND)
        nano_http_respond_error(req, 404, "not_found", "no module '%s'", name);
    else if (rc == -EINVAL)
        nano_http_respond_error(req, 409, "failed", "module '%s' failed to "
                                "load; fix it with a reload", name);
    else if (rc != NANO_OK)
        nano_http_respond_error(req, 500, "internal", "%s: %s", name,
                                nano_strerror(rc));
    else
        api__respond_result(req, name, on ? "enabled" : "disabled");
}

static void
post_enable(struct nano_http_req *req, const struct nano_route_match *m,
            void *arg)
{
    set_enabled(req, m, arg, true);
}

static void
post_disable(struct nano_http_req *req, const struct nano_route_match *m,
             void *arg)
{
    set_enabled(req, m, arg, false);
}

static void
delete_module(struct nano_http_req *req, const struct nano_route_match *m,
              void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    int rc = nano_sandbox_unload(api->d->sandbox, name);

    if (rc == NANO_ENOTFOUND)
        nano_http_respond_error(req, 404, "not_found", "no module '%s'", name);
    else if (rc != NANO_OK)
        nano_http_respond_error(req, 500, "internal", "module '%s' unloaded, "
                                "but the change was not persisted: %s", name,
                                nano_strerror(rc));
    else
        api__respond_result(req, name, "unloaded");
}

int
api__routes_sandbox(struct nano_api *api)
{
    struct nano_router *r = api->router;
    int rc;

    if (!api->d->sandbox)
        return NANO_OK;
    if ((rc = nano_router_add(r, "GET", "/v1/sandbox", 0, get_modules, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/sandbox", 0, post_module, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/sandbox/{name}", 0, get_module, api)) ||
        (rc = nano_router_add(r, "DELETE", "/v1/sandbox/{name}", 0, delete_module, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/sandbox/{name}/reload", 0, post_reload, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/sandbox/{name}/enable", 0, post_enable, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/sandbox/{name}/disable", 0, post_disable, api)))
        return rc;
    return NANO_OK;
}
