/* SPDX-License-Identifier: MIT
 *
 * api.c - starts the control API: the HTTP server on the Unix socket, the
 * router, and every area's routes (h_*.c).  Also the helpers those share.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/http_server.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "port/paths.h"

const struct nano_cfg_field nano_api_cfg_fields[] = {
    { .key = "socket", .type = NANO_CFGT_STR,
      .help = "Unix socket path of the API (nanoctl connects here)" },
    { .key = "max_connections", .type = NANO_CFGT_INT, .min = 1, .max = 4096,
      .help = "open API connections; one more is answered 503" },
    { .key = "header_timeout", .type = NANO_CFGT_DURATION,
      .help = "a request head must arrive whole within this (default 10s)" },
    { .key = "idle_timeout", .type = NANO_CFGT_DURATION,
      .help = "keep-alive connections idle longer are closed (default 30s)" },
    { .key = "stream_queue", .type = NANO_CFGT_INT, .min = 1, .max = 65536,
      .help = "messages buffered per /v1/stream client before dropping the "
              "oldest (default 1024)" },
    { 0 }
};

struct nano_cfg_doc *
api__body_json(struct nano_http_req *req)
{
    struct nano_span body = nano_http_req_body(req);
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { .origin = "body" };

    if (body.len == 0) {
        nano_http_respond_error(req, 400, "bad_request",
                                "this request needs a JSON body");
        return NULL;
    }
    /* Bodies get tighter bounds than config files: 32 levels, 64 k values
     * (a publish batch of 10,000 messages), and the server's 1 MiB. */
    static const struct nano_cfg_limits lim = {
        .max_depth = 32, .max_nodes = 65536, .max_bytes = 1u << 20,
    };
    if (nano_cfg_parse_json_ex((const char *)body.p, body.len, "body", &lim,
                               &doc, &d) != NANO_OK) {
        api__respond_diag(req, 400, "bad_json", &d);
        return NULL;
    }
    return doc;
}

void
api__json_begin(struct nano_buf *b, struct nano_json *w)
{
    nano_buf_init(b, API_RESPONSE_MAX);
    nano_json_init(w, b);
}

void
api__json_send(struct nano_http_req *req, int status, struct nano_buf *b,
               struct nano_json *w)
{
    int rc = nano_json_end(w);

    if (rc != NANO_OK)
        nano_http_respond_error(req, 500, "internal",
                                "response could not be built: %s",
                                nano_strerror(rc));
    else
        nano_http_respond_json(req, status, b);
    nano_buf_free(b);
}

void
api__respond_diag(struct nano_http_req *req, int status, const char *code,
                  const struct nano_diag *d)
{
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
    nano_json_obj_end(&w);
    api__json_send(req, status, &b, &w);
}

void
api__respond_result(struct nano_http_req *req, const char *name,
                    const char *result)
{
    struct nano_buf b;
    struct nano_json w;

    api__json_begin(&b, &w);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "name");
    nano_json_str(&w, name);
    nano_json_key(&w, "result");
    nano_json_str(&w, result);
    nano_json_obj_end(&w);
    api__json_send(req, 200, &b, &w);
}

void
api__respond_rc(struct nano_http_req *req, int rc, const char *what)
{
    const char *code;
    int status = api__status_of(rc, &code);

    nano_http_respond_error(req, status, code, "%s: %s", what, nano_strerror(rc));
}

int
api__status_of(int rc, const char **code_out)
{
    const char *code;
    int status;

    switch (rc) {
    case NANO_ENOTFOUND: case -ENOENT:  status = 404; code = "not_found"; break;
    case NANO_EEXISTS:   case -EEXIST:  status = 409; code = "exists"; break;
    case NANO_ESCHEMA:   case NANO_EPARSE: case NANO_ETYPE: case NANO_EAMBIG:
    case -EINVAL:                        status = 400; code = "invalid"; break;
    case NANO_EDISABLED:                 status = 501; code = "not_in_build"; break;
    case -ENOSPC:        case -E2BIG:    status = 413; code = "too_large"; break;
    case -ENOMEM:                        status = 503; code = "no_memory"; break;
    default:                             status = 500; code = "internal"; break;
    }
    if (code_out)
        *code_out = code;
    return status;
}

static uint64_t
cfg_ms(const struct nano_cfg_node *api_cfg, const char *key, uint64_t def)
{
    const struct nano_cfg_node *n = nano_cfg_get(api_cfg, key);
    uint64_t ns;

    if (n && nano_cfg_as_duration(n, &ns, NULL) == NANO_OK)
        return ns / NANO_NS_PER_MS;
    return def;
}

int
nano_api_start(struct nano_daemon *d, const struct nano_cfg_node *api_cfg,
               struct nano_api **api_out)
{
    struct nano_http_server_opts opts;
    struct nano_api *api;
    const struct nano_cfg_node *n;
    int64_t v;
    int rc;

    *api_out = NULL;
    api = nano_calloc(1, sizeof *api);
    if (!api)
        return -ENOMEM;
    api->d = d;
    nano_list_init(&api->streams);
    api->stream_queue = 1024;
    if ((n = nano_cfg_get(api_cfg, "stream_queue")) &&
        nano_cfg_as_int(n, 1, 65536, &v, NULL) == NANO_OK)
        api->stream_queue = (uint32_t)v;

    nano_http_server_opts_default(&opts);
    if ((n = nano_cfg_get(api_cfg, "max_connections")) &&
        nano_cfg_as_int(n, 1, 4096, &v, NULL) == NANO_OK)
        opts.max_conns = (uint32_t)v;
    opts.header_timeout_ms = (uint32_t)cfg_ms(api_cfg, "header_timeout",
                                              opts.header_timeout_ms);
    opts.idle_timeout_ms = (uint32_t)cfg_ms(api_cfg, "idle_timeout",
                                            opts.idle_timeout_ms);

    if ((rc = nano_router_new(&api->router)) != NANO_OK)
        goto fail;
    if ((rc = api__routes_core(api)) != NANO_OK ||
        (rc = api__routes_devices(api)) != NANO_OK ||
        (rc = api__routes_hal(api)) != NANO_OK ||
        (rc = api__routes_services(api)) != NANO_OK ||
        (rc = api__routes_sandbox(api)) != NANO_OK)
        goto fail;
    rc = nano_http_server_new(d->loop, &opts, nano_router_handle, api->router,
                              &api->srv);
    if (rc != NANO_OK)
        goto fail;
    rc = nano_mkdir_parent(d->socket_path);
    if (rc == NANO_OK)
        rc = nano_http_server_listen_unix(api->srv, d->socket_path, 0);
    if (rc != NANO_OK)
        goto fail;
    *api_out = api;
    return NANO_OK;

fail:
    nano_api_stop(api);
    return rc;
}

void
nano_api_stop(struct nano_api *api)
{
    if (!api)
        return;
    api__streams_close_all(api);
    nano_http_server_free(api->srv);
    nano_router_free(api->router);
    nano_free(api);
}
