/* SPDX-License-Identifier: MIT
 *
 * router.h - the API's route table: method + path pattern -> handler.
 *
 * Other modules register their routes at startup; the api module knows
 * nothing about buses, drivers or rules (arrows point one way):
 *
 *     static void
 *     get_device(struct nano_http_req *req, const struct nano_route_match *m,
 *                void *arg)
 *     {
 *         const char *name = nano_route_param(m, "name");
 *         ...
 *         nano_http_respond_json(req, 200, &out);
 *     }
 *
 *     nano_router_add(r, "GET", "/v1/devices/{name}", 0, get_device, devs);
 *
 * Patterns are literal segments and named segments "{name}" (one whole
 * segment each, at most NANO_ROUTE_MAX_PARAMS).  Matching splits the raw
 * request path at '/' first and percent-decodes each segment afterwards,
 * so "%2F" inside a segment is data, never a separator.  Routes are tried
 * in registration order; the first whose path and method match wins.  A GET
 * route also answers HEAD (the server drops the body).
 *
 * When no route matches: 404 {"error":"not_found","message":"no route for
 * GET /v1/nope"}; when the path matches but not the method: 405 with an
 * Allow header (OPTIONS gets 204 with Allow instead).
 *
 * Auth: requests from a listener flagged NANO_HTTP_LISTEN_AUTH go through
 * the auth hook before anything is revealed - including whether a route
 * exists - unless the matched route is flagged NANO_ROUTE_PUBLIC.  No hook
 * installed means such requests are refused (fail closed).
 *
 * Memory: the table is a flat array, one entry per route with a copy of
 * its pattern; lookup is a linear scan with no allocation (a daemon has a
 * few dozen routes).  Context: loop thread only.
 */
#ifndef NANO_API_ROUTER_H
#define NANO_API_ROUTER_H

#include "api/http_server.h"

#define NANO_ROUTE_MAX_PARAMS   4
#define NANO_ROUTE_MAX_SEGMENTS 16

/* Route flags. */
#define NANO_ROUTE_PUBLIC 0x1u      /* no auth, even on auth listeners */

struct nano_router;

struct nano_route_param {
    const char *name;
    const char *value;      /* percent-decoded, NUL-terminated */
};

struct nano_route_match {
    const char              *method;    /* as registered, e.g. "GET" */
    const char              *pattern;   /* as registered */
    unsigned                 nparams;
    struct nano_route_param  params[NANO_ROUTE_MAX_PARAMS];
};

/* Value of the named segment, or NULL.  Returns borrowed; valid during the
 * handler call only: a handler that keeps the request copies what it
 * needs. */
const char *nano_route_param(const struct nano_route_match *m,
                             const char *name);

/* Takes req (see http_server.h); borrows m. */
typedef void nano_route_fn(struct nano_http_req *req,
                           const struct nano_route_match *m, void *arg);

/* Return NANO_OK to let the request through, -EACCES for 401 (with
 * WWW-Authenticate: Bearer), -EPERM for 403.  Borrows req; must not
 * complete it. */
typedef int nano_router_auth_fn(struct nano_http_req *req, void *arg);

/* Returns NANO_OK and *r_out (Returns owned; free with nano_router_free()),
 * or -ENOMEM. */
int  nano_router_new(struct nano_router **r_out);
void nano_router_free(struct nano_router *r);   /* NULL is a no-op */

/*
 * nano_router_add - register fn for method ("GET", "POST", ... any token)
 * and pattern ("/v1/devices/{name}").
 *
 * Returns NANO_OK, -EINVAL (bad method or pattern: not starting with '/',
 * a '{' that is not a whole "{name}" segment, a repeated parameter name,
 * too many segments or parameters), -EEXIST (same method and pattern) or
 * -ENOMEM.  Borrows method and pattern (copied); keeps arg until the router
 * is freed.
 */
int  nano_router_add(struct nano_router *r, const char *method,
                     const char *pattern, unsigned flags, nano_route_fn *fn,
                     void *arg);

/* Install the auth hook (NULL removes it).  Keeps arg. */
void nano_router_set_auth(struct nano_router *r, nano_router_auth_fn *fn,
                          void *arg);

/* The server's request callback: pass (nano_router_handle, router) to
 * nano_http_server_new().  Takes req. */
void nano_router_handle(struct nano_http_req *req, void *router);

#endif
