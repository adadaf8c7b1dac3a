/* SPDX-License-Identifier: MIT
 *
 * api_int.h - helpers shared by the API's handler files (h_*.c).  Not for
 * other modules.
 */
#ifndef NANO_API_API_INT_H
#define NANO_API_API_INT_H

#include "api/api.h"
#include "api/router.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/list.h"
#include "nano_config.h"

#define API_RESPONSE_MAX (4u * 1024 * 1024)
#define API_BODY_NODES   4096

struct nano_api {
    struct nano_daemon      *d;
    struct nano_http_server *srv;
    struct nano_router      *router;
    struct nano_list         streams;    /* open SSE streams (h_core.c) */
    uint32_t                 stream_queue;  /* messages per SSE subscriber */
};

/* Parse the request body as JSON.  On error answers 400 with line and col
 * and returns NULL (req is completed).  Returns owned (nano_cfg_free). */
struct nano_cfg_doc *api__body_json(struct nano_http_req *req);

/* Answer with the diagnostic: {"error":code,"message":..,"line":..,"col":..}.
 * Completes req. */
void api__respond_diag(struct nano_http_req *req, int status, const char *code,
                       const struct nano_diag *d);

/* Begin a JSON response body: api__json_begin() then write into *w, then
 * api__json_send() completes req (500 if the writer failed). */
void api__json_begin(struct nano_buf *b, struct nano_json *w);
void api__json_send(struct nano_http_req *req, int status, struct nano_buf *b,
                    struct nano_json *w);

/* {"name": name, "result": result} with 200 (enable, disable, remove...).
 * Completes req. */
void api__respond_result(struct nano_http_req *req, const char *name,
                         const char *result);

/* An error from rc: status and code from api__status_of(), message
 * "<what>: <strerror>".  Completes req. */
void api__respond_rc(struct nano_http_req *req, int rc, const char *what);

/* Map a Nano error to an HTTP status and error code. */
int  api__status_of(int rc, const char **code_out);

/* Route registration per area. */
int  api__routes_core(struct nano_api *api);
int  api__routes_devices(struct nano_api *api);
int  api__routes_hal(struct nano_api *api);
#if NANO_WITH_RULES
int  api__routes_services(struct nano_api *api);     /* h_services.c */
#else
/* No rule engine, no service routes: /v1/services answers 404 "no route". */
static inline int api__routes_services(struct nano_api *api) { (void)api; return 0; }
#endif
#if NANO_WITH_WASM
int  api__routes_sandbox(struct nano_api *api);
#else
/* No engine, no sandbox routes: /v1/sandbox answers 404 "no route". */
static inline int api__routes_sandbox(struct nano_api *api) { (void)api; return 0; }
#endif
void api__streams_close_all(struct nano_api *api);

#endif
