/* SPDX-License-Identifier: MIT
 *
 * h_hal.c - pins and emulated hardware.
 *
 *   GET  /v1/pins                 every configured pin: level, state, changes
 *   GET  /v1/pins/{name}          one pin
 *   POST /v1/pins/{name}          {"level": 1|0|true|false|"high"|"low"|"toggle"}
 *   GET  /v1/sim                  emulated devices with their values and faults
 *   POST /v1/sim                  {"bus", "address", "set": {"temperature": 76}}
 *                                 and/or "fault": "nack"|"timeout"|...|"none"
 *                                 ("none" also plugs an unplugged device back)
 *
 * The sim routes change what emulated sensors report while nanod runs, so a
 * test or a demo can heat a simulated DS18B20 and watch a rule react.
 */
#include <string.h>

#include "api/api_int.h"
#include "api/http_server.h"
#include "core/cfg.h"
#include "core/err.h"
#include "hal/pins.h"
#include "hal/sim.h"

static void
get_pins(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    (void)arg;
    api__json_begin(&b, &w);
    nano_pins_write_json(&w);
    api__json_send(req, 200, &b, &w);
}

static void
get_pin(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    const char *name = nano_route_param(m, "name");
    struct nano_buf b;
    struct nano_json w;

    (void)arg;
    api__json_begin(&b, &w);
    if (nano_pins_write_one(name, &w) != NANO_OK) {
        nano_buf_free(&b);
        nano_http_respond_error(req, 404, "not_found", "no pin '%s' (pins are "
                                "declared in the config's pins: section)", name);
        return;
    }
    api__json_send(req, 200, &b, &w);
}

/* "level" as 1/0, true/false, "high"/"low", or "toggle" (-1). */
static int
parse_level(const struct nano_cfg_node *n, int *level, struct nano_diag *d)
{
    if (n && n->kind == NANO_CFG_SCALAR) {
        const char *s = n->str;
        if (!strcmp(s, "1") || !strcmp(s, "true") || !strcasecmp(s, "high") ||
            !strcasecmp(s, "on")) {
            *level = 1;
            return NANO_OK;
        }
        if (!strcmp(s, "0") || !strcmp(s, "false") || !strcasecmp(s, "low") ||
            !strcasecmp(s, "off")) {
            *level = 0;
            return NANO_OK;
        }
        if (!strcmp(s, "toggle")) {
            *level = -1;
            return NANO_OK;
        }
    }
    return nano_diag_set(d, NANO_ESCHEMA, n ? n->line : 0, n ? n->col : 0,
                         "'level' must be high, low, 1, 0, true, false or "
                         "toggle");
}

static void
post_pin(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    const char *name = nano_route_param(m, "name");
    struct nano_cfg_doc *doc;
    struct nano_diag d = { .origin = "body" };
    struct nano_buf b;
    struct nano_json w;
    int level = 0, rc;

    (void)arg;
    if (!(doc = api__body_json(req)))
        return;
    rc = parse_level(nano_cfg_get(nano_cfg_root(doc), "level"), &level, &d);
    nano_cfg_free(doc);
    if (rc != NANO_OK) {
        api__respond_diag(req, 400, "invalid", &d);
        return;
    }
    rc = level < 0 ? nano_pins_toggle(name) : nano_pins_set(name, level);
    if (rc == NANO_ENOTFOUND) {
        nano_http_respond_error(req, 404, "not_found", "no pin '%s'", name);
        return;
    }
    if (rc == -EPERM) {
        nano_http_respond_error(req, 409, "input_pin", "pin '%s' is an input; "
                                "only outputs can be set", name);
        return;
    }
    if (rc != NANO_OK) {
        nano_http_respond_error(req, 502, "gpio_error", "pin '%s': %s", name,
                                nano_strerror(rc));
        return;
    }
    api__json_begin(&b, &w);
    nano_pins_write_one(name, &w);
    api__json_send(req, 200, &b, &w);
}

static void
get_sim(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_buf b;
    struct nano_json w;

    (void)m;
    (void)arg;
    api__json_begin(&b, &w);
    nano_sim_write_json(&w);
    api__json_send(req, 200, &b, &w);
}

static void
post_sim(struct nano_http_req *req, const struct nano_route_match *m, void *arg)
{
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *root, *bus, *addr, *set, *fault;
    struct nano_diag d = { .origin = "body" };
    int rc = NANO_OK;

    (void)m;
    (void)arg;
    if (!(doc = api__body_json(req)))
        return;
    root = nano_cfg_root(doc);
    bus = nano_cfg_get(root, "bus");
    addr = nano_cfg_get(root, "address");
    set = nano_cfg_get(root, "set");
    fault = nano_cfg_get(root, "fault");
    if (!bus || bus->kind != NANO_CFG_SCALAR || !addr || addr->kind != NANO_CFG_SCALAR) {
        rc = nano_diag_set(&d, NANO_ESCHEMA, root->line, root->col,
                           "expected {\"bus\": ..., \"address\": ..., \"set\": "
                           "{quantity: value}} and/or \"fault\"");
        goto out;
    }
    for (const struct nano_cfg_node *q = set ? set->child : NULL; q; q = q->next) {
        double v;
        if ((rc = nano_cfg_as_num(q, &v, &d)) != NANO_OK)
            goto out;
        rc = nano_sim_set(bus->str, addr->str, q->key, v);
        if (rc != NANO_OK) {
            nano_diag_set(&d, rc, q->key_line, q->key_col, "%s %s: cannot set "
                          "'%s': %s", bus->str, addr->str, q->key,
                          rc == NANO_ENOTFOUND ? "no such emulated device" :
                          nano_strerror(rc));
            goto out;
        }
    }
    if (fault) {
        enum nano_sim_fault f;
        if (fault->kind != NANO_CFG_SCALAR ||
            nano_sim_fault_parse(fault->str, &f) != NANO_OK) {
            rc = nano_diag_set(&d, NANO_ESCHEMA, fault->line, fault->col,
                               "unknown fault '%s'", fault->str ? fault->str : "");
            goto out;
        }
        rc = nano_sim_fault(bus->str, addr->str, f, -1);
        /* "none" means a healthy device: plugged back in as well. */
        if (rc == NANO_OK && f == NANO_SIM_FAULT_NONE)
            rc = nano_sim_replug(bus->str, addr->str);
        if (rc != NANO_OK) {
            nano_diag_set(&d, rc, fault->line, fault->col, "%s %s: %s", bus->str,
                          addr->str, rc == NANO_ENOTFOUND ? "no such emulated device"
                          : nano_strerror(rc));
            goto out;
        }
    }
out:
    nano_cfg_free(doc);
    if (rc != NANO_OK) {
        const char *code;
        int status = api__status_of(rc, &code);
        api__respond_diag(req, status, code, &d);
        return;
    }
    get_sim(req, NULL, NULL);
}

int
api__routes_hal(struct nano_api *api)
{
    struct nano_router *r = api->router;
    int rc;

    if ((rc = nano_router_add(r, "GET", "/v1/pins", 0, get_pins, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/pins/{name}", 0, get_pin, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/pins/{name}", 0, post_pin, api)) ||
        (rc = nano_router_add(r, "GET", "/v1/sim", 0, get_sim, api)) ||
        (rc = nano_router_add(r, "POST", "/v1/sim", 0, post_sim, api)))
        return rc;
    return NANO_OK;
}
