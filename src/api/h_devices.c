/* SPDX-License-Identifier: MIT
 *
 * h_devices.c - drivers and device instances.
 *
 *   GET    /v1/drivers                   available drivers, one line each
 *   GET    /v1/drivers/{name}            parameters and quantities
 *   GET    /v1/devices                   every instance with state and values
 *   GET    /v1/devices/{name}            one instance, with its settings
 *   POST   /v1/devices                   install: {"name", "driver",
 *                                        "interval"?, "enable"?, "params"?:{}}
 *   POST   /v1/devices/{name}/enable     (and /disable)
 *   DELETE /v1/devices/{name}
 *
 * Install takes parameters either in "params" (what `nanoctl driver install
 * --param k=v` sends, all values strings) or inline next to "driver", as in
 * the config file; both are checked against the driver's schema.
 */
#include <string.h>

#include "api/api_int.h"
#include "api/http_server.h"
#include "core/cfg.h"
#include "core/err.h"
#include "drivers/devmgr.h"

static void
get_drivers(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    (void)arg;
    api__json_begin(&b, &w);
    nano_devmgr_write_drivers(&w);
    api__json_send(req, 200, &b, &w);
}

static void
get_driver(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    const char *name = nano_route_param(m, "name");
    struct nano_buf b;
    struct nano_json w;

    (void)arg;
    api__json_begin(&b, &w);
    if (nano_devmgr_write_driver(name, &w) != NANO_OK) {
        nano_buf_free(&b);
        nano_http_respond_error(req, 404, "not_found", "no driver '%s' in this "
                                "build (see GET /v1/drivers)", name);
        return;
    }
    api__json_send(req, 200, &b, &w);
}

static void
get_devices(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    api__json_begin(&b, &w);
    nano_devmgr_write_list(api->d->devices, &w);
    api__json_send(req, 200, &b, &w);
}

static void
get_device(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    struct nano_buf b;
    struct nano_json w;

    api__json_begin(&b, &w);
    if (nano_devmgr_write_one(api->d->devices, name, &w) != NANO_OK) {
        nano_buf_free(&b);
        nano_http_respond_error(req, 404, "not_found", "no device '%s'", name);
        return;
    }
    api__json_send(req, 200, &b, &w);
}

/* Build the settings map the manager expects from the request body. */
static int
settings_from_body(const struct nano_cfg_node *body, struct nano_cfg_doc *out,
                   const char **name_out, bool *enable_out, struct nano_diag *d)
{
    struct nano_cfg_node *root = nano_cfg_root(out);
    const struct nano_cfg_node *params = NULL;

    *name_out = NULL;
    *enable_out = true;
    if (body->kind != NANO_CFG_MAP)
        return nano_diag_set(d, NANO_ESCHEMA, body->line, body->col,
                             "expected an object with 'name' and 'driver'");
    for (const struct nano_cfg_node *n = body->child; n; n = n->next) {
        if (!strcmp(n->key, "name")) {
            if (n->kind != NANO_CFG_SCALAR)
                return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                     "'name' must be a string");
            *name_out = n->str;
        } else if (!strcmp(n->key, "enable")) {
            if (nano_cfg_as_bool(n, enable_out, d) != NANO_OK)
                return NANO_ESCHEMA;
        } else if (!strcmp(n->key, "params")) {
            if (n->kind != NANO_CFG_MAP)
                return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                     "'params' must be an object");
            params = n;
        } else if (!nano_cfg_copy(out, root, n->key, n)) {
            return -ENOMEM;
        }
    }
    for (const struct nano_cfg_node *n = params ? params->child : NULL; n; n = n->next) {
        if (nano_cfg_get(root, n->key))
            return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                 "parameter '%s' is given twice", n->key);
        if (!nano_cfg_copy(out, root, n->key, n))
            return -ENOMEM;
    }
    if (!*name_out)
        return nano_diag_set(d, NANO_ESCHEMA, body->line, body->col,
                             "missing 'name' (the instance name, e.g. boiler)");
    return NANO_OK;
}

static void
post_device(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    struct nano_cfg_doc *body, *settings;
    struct nano_diag d = { .origin = "body" };
    const char *name;
    bool enable;
    int rc;

    (void)m;
    if (!(body = api__body_json(req)))
        return;
    settings = nano_cfg_new("body");
    if (!settings) {
        nano_cfg_free(body);
        nano_http_respond_error(req, 503, "no_memory", "out of memory");
        return;
    }
    rc = settings_from_body(nano_cfg_root(body), settings, &name, &enable, &d);
    if (rc == NANO_OK)
        rc = nano_devmgr_install(api->d->devices, name, nano_cfg_root(settings),
                                 enable, &d);
    if (rc != NANO_OK) {
        const char *code;
        int status = api__status_of(rc, &code);
        api__respond_diag(req, status, code, &d);
    } else {
        struct nano_buf b;
        struct nano_json w;
        api__json_begin(&b, &w);
        nano_devmgr_write_one(api->d->devices, name, &w);
        api__json_send(req, 201, &b, &w);
    }
    nano_cfg_free(settings);
    nano_cfg_free(body);
}

static void
set_enabled(struct nano_http_req *req, const struct nano_route_match *m,
            struct nano_api *api, bool on)
{
    const char *name = nano_route_param(m, "name");
    int rc = nano_devmgr_set_enabled(api->d->devices, name, on);

    if (rc == NANO_ENOTFOUND)
        nano_http_respond_error(req, 404, "not_found", "no device '%s'", name);
    else if (rc != NANO_OK)
        api__respond_rc(req, rc, name);
    else
        api__respond_result(req, name, on ? "enabled" : "disabled");
}

static void
post_enable(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    set_enabled(req, m, arg, true);
}

static void
post_disable(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    set_enabled(req, m, arg, false);
}

static void
delete_device(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_api *api = arg;
    const char *name = nano_route_param(m, "name");
    int rc = nano_devmgr_remove(api->d->devices, name);

    if (rc == NANO_ENOTFOUND)
        nano_http_respond_error(req, 404, "not_found", "no device '%s'", name);
    else if (rc != NANO_OK)
        api__respond_rc(req, rc, name);
    else
        api__respond_result(req, name, "removed");
}

int
api__routes_devices(struct nano_api *api)
{
    struct nano_router *r = api->router;
    int rc;

    if ((rc = nano_router_add(r, "GET", "/v1/drivers", 0, get_drivers, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/drivers/{name}", 0, get_driver, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/devices", 0, get_devices, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/devices", 0, post_device, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/devices/{name}", 0, get_device, api)) ||
        (rc = nano_router_add(r, "DELETE", "/v1/devices/{name}", 0, delete_device, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/devices/{name}/enable", 0, post_enable, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/devices/{name}/disable", 0, post_disable, api)))
        return rc;
    return NANO_OK;
}
