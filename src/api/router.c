/* SPDX-License-Identifier: MIT
 *
 * router.c - route table and dispatch (contract in router.h).
 *
 * Each route keeps one allocation: its method, then its pattern with every
 * '/' replaced by NUL, so segment i is a C string at an offset stored in
 * seg[i] (a "{name}" segment is stored as the bare name with is_param set).
 *
 * Dispatch decodes the request path once into a stack buffer, as segments
 * separated by NUL, and compares those with each route.  The matched
 * parameter values point into that stack buffer, which is why a
 * nano_route_match is valid only during the handler call.
 */
#include <string.h>

#include "api/router.h"
#include "core/err.h"
#include "core/mem.h"

#define PATH_MAX_DECODED 4096

struct route {
    char          *mem;       /* method '\0' segments... (owned) */
    const char    *method;
    const char    *pattern;   /* original text, for the match struct */
    nano_route_fn *fn;
    void          *arg;
    unsigned       flags;
    uint8_t        nseg;
    uint16_t       seg[NANO_ROUTE_MAX_SEGMENTS];   /* offsets into mem */
    uint16_t       param_mask;                    /* bit i: seg i is {x} */
};

struct nano_router {
    struct route        *routes;
    size_t               n, cap;
    nano_router_auth_fn *auth;
    void                *auth_arg;
};

int
nano_router_new(struct nano_router **r_out)
{
    *r_out = nano_calloc(1, sizeof **r_out);
    return *r_out ? NANO_OK : -ENOMEM;
}

void
nano_router_free(struct nano_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        nano_free(r->routes[i].mem);
    nano_free(r->routes);
    nano_free(r);
}

void
nano_router_set_auth(struct nano_router *r, nano_router_auth_fn *fn, void *arg)
{
    r->auth = fn;
    r->auth_arg = arg;
}

const char *
nano_route_param(const struct nano_route_match *m, const char *name)
{
    for (unsigned i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return m->params[i].value;
    return NULL;
}

static bool
is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

static bool
is_param_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

int
nano_router_add(struct nano_router *r, const char *method, const char *pattern,
                unsigned flags, nano_route_fn *fn, void *arg)
{
    size_t mlen, plen;
    struct route rt;
    char *p;

    if (!method || !pattern || !fn || !is_token(method) || pattern[0] != '/')
        return -EINVAL;
    mlen = strlen(method);
    plen = strlen(pattern);
    if (mlen + 1 + 2 * plen + 2 > UINT16_MAX)
        return -EINVAL;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->routes[i].method, method) == 0 &&
            strcmp(r->routes[i].pattern, pattern) == 0)
            return -EEXIST;

    memset(&rt, 0, sizeof rt);
    /* method \0 split-pattern \0 original-pattern \0 */
    rt.mem = nano_malloc(mlen + 1 + plen + 1 + plen + 1);
    if (!rt.mem)
        return -ENOMEM;
    memcpy(rt.mem, method, mlen + 1);
    p = rt.mem + mlen + 1;
    memcpy(p, pattern + 1, plen);             /* without the leading '/' */
    memcpy(p + plen, pattern, plen + 1);
    rt.method = rt.mem;
    rt.pattern = p + plen;
    rt.fn = fn;
    rt.arg = arg;
    rt.flags = flags;

    for (char *s = p;;) {
        char *end = strchr(s, '/');
        size_t n;
        if (end)
            *end = '\0';
        n = strlen(s);
        if (rt.nseg == NANO_ROUTE_MAX_SEGMENTS)
            goto bad;
        if (n && s[0] == '{') {
            unsigned nparams = (unsigned)__builtin_popcount(rt.param_mask);
            if (s[n - 1] != '}' || !is_param_name(s + 1, n - 2) ||
                nparams == NANO_ROUTE_MAX_PARAMS)
                goto bad;
            s[n - 1] = '\0';
            s++;
            for (unsigned i = 0; i < rt.nseg; i++)
                if ((rt.param_mask & (1u << i)) &&
                    strcmp(rt.mem + rt.seg[i], s) == 0)
                    goto bad;
            rt.param_mask |= (uint16_t)(1u << rt.nseg);
        } else if (strpbrk(s, "{}")) {
            goto bad;
        }
        rt.seg[rt.nseg++] = (uint16_t)(s - rt.mem);
        if (!end)
            break;
        s = end + 1;
    }

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct route *nr = nano_realloc(r->routes, cap * sizeof *nr);
        if (!nr) {
            nano_free(rt.mem);
            return -ENOMEM;
        }
        r->routes = nr;
        r->cap = cap;
    }
    r->routes[r->n++] = rt;
    return NANO_OK;

bad:
    nano_free(rt.mem);
    return -EINVAL;
}

/* ---- dispatch ------------------------------------------------------------ */

struct split_path {
    unsigned    nseg;
    const char *seg[NANO_ROUTE_MAX_SEGMENTS];
    char        buf[PATH_MAX_DECODED];
};

/* Split the raw path at '/', then decode each segment.  Returns NANO_OK,
 * -E2BIG (more segments than any route can have: no match possible),
 * -ENAMETOOLONG or -EINVAL (bad escape). */
static int
split(struct nano_span path, struct split_path *sp)
{
    const char *s = (const char *)path.p;
    size_t i = 1, o = 0;

    sp->nseg = 0;
    if (path.len == 0 || s[0] != '/')
        return -EINVAL;
    for (;;) {
        size_t a = i;
        int n;
        while (i < path.len && s[i] != '/')
            i++;
        if (sp->nseg == NANO_ROUTE_MAX_SEGMENTS)
            return -E2BIG;
        n = nano_http_pct_decode(s + a, i - a, sp->buf + o, sizeof sp->buf - o,
                                 false);
        if (n < 0)
            return n == -ENOSPC ? -ENAMETOOLONG : n;
        sp->seg[sp->nseg++] = sp->buf + o;
        o += (size_t)n + 1;
        if (i >= path.len)
            return NANO_OK;
        i++;
    }
}

static bool
path_matches(const struct route *rt, const struct split_path *sp,
             struct nano_route_match *m)
{
    if (rt->nseg != sp->nseg)
        return false;
    m->nparams = 0;
    for (unsigned i = 0; i < rt->nseg; i++) {
        const char *want = rt->mem + rt->seg[i];
        if (rt->param_mask & (1u << i)) {
            if (!sp->seg[i][0])
                return false;           /* "{name}" never matches "" */
            m->params[m->nparams].name = want;
            m->params[m->nparams].value = sp->seg[i];
            m->nparams++;
        } else if (strcmp(want, sp->seg[i]) != 0) {
            return false;
        }
    }
    return true;
}

static bool
method_matches(const struct route *rt, const struct nano_http_request_head *h)
{
    if (h->method.len == strlen(rt->method) &&
        memcmp(h->method.p, rt->method, h->method.len) == 0)
        return true;
    return h->method_id == NANO_HTTP_HEAD && strcmp(rt->method, "GET") == 0;
}

/* Returns true when the request may go on; otherwise it has been answered. */
static bool
check_auth(struct nano_router *r, struct nano_http_req *req, unsigned flags)
{
    int rc;

    if (!(nano_http_req_listener_flags(req) & NANO_HTTP_LISTEN_AUTH) ||
        (flags & NANO_ROUTE_PUBLIC))
        return true;
    rc = r->auth ? r->auth(req, r->auth_arg) : -EACCES;
    if (rc == NANO_OK)
        return true;
    if (rc == -EPERM) {
        nano_http_respond_error(req, 403, NULL, "not allowed");
        return false;
    }
    nano_http_add_header(req, "WWW-Authenticate", "Bearer");
    nano_http_respond_error(req, 401, NULL, "missing or invalid bearer token");
    return false;
}

/* "GET, HEAD, POST" for the routes matching the path. */
static void
allow_list(struct nano_router *r, const struct split_path *sp, char *out,
           size_t cap)
{
    struct nano_route_match tmp;
    size_t o = 0;
    bool get = false, head = false;

    out[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];
        size_t n = strlen(rt->method);
        if (!path_matches(rt, sp, &tmp))
            continue;
        /* Skip a method already listed (two patterns may match). */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(r->routes[j].method, rt->method) == 0 &&
                  path_matches(&r->routes[j], sp, &tmp);
        if (dup)
            continue;
        get |= strcmp(rt->method, "GET") == 0;
        head |= strcmp(rt->method, "HEAD") == 0;
        if (o + n + 3 >= cap)
            break;
        if (o) {
            memcpy(out + o, ", ", 2);
            o += 2;
        }
        memcpy(out + o, rt->method, n + 1);
        o += n;
    }
    if (get && !head && o + 7 < cap)
        memcpy(out + o, ", HEAD", 7);
}

void
nano_router_handle(struct nano_http_req *req, void *router)
{
    struct nano_router *r = router;
    const struct nano_http_request_head *h = nano_http_req_head(req);
    struct split_path sp;
    struct nano_route_match m;
    const struct route *hit = NULL;
    bool path_hit = false;
    bool all_public = true;
    char allow[256];
    int rc;

    rc = split(h->path, &sp);
    if (rc == -EINVAL && h->path.len && h->path.p[0] == '/') {
        if (!check_auth(r, req, 0))
            return;
        nano_http_respond_error(req, 400, NULL,
                                "invalid percent-encoding in path");
        return;
    }
    if (rc == -ENAMETOOLONG) {
        nano_http_respond_error(req, 414, NULL, "path too long");
        return;
    }
    if (rc == NANO_OK) {
        for (size_t i = 0; i < r->n; i++) {
            const struct route *rt = &r->routes[i];
            if (!path_matches(rt, &sp, &m))
                continue;
            path_hit = true;
            all_public &= (rt->flags & NANO_ROUTE_PUBLIC) != 0;
            if (method_matches(rt, h)) {
                hit = rt;
                break;
            }
        }
    }
    if (hit) {
        if (!check_auth(r, req, hit->flags))
            return;
        m.method = hit->method;
        m.pattern = hit->pattern;
        hit->fn(req, &m, hit->arg);
        return;
    }
    if (!check_auth(r, req, path_hit && all_public ? NANO_ROUTE_PUBLIC : 0))
        return;
    if (!path_hit) {
        nano_http_respond_error(req, 404, NULL, "no route for %.*s %.*s",
                                (int)h->method.len, (const char *)h->method.p,
                                (int)h->path.len, (const char *)h->path.p);
        return;
    }
    allow_list(r, &sp, allow, sizeof allow);
    nano_http_add_header(req, "Allow", allow);
    if (h->method_id == NANO_HTTP_OPTIONS) {
        nano_http_respond(req, 204, NULL, NULL, 0);
        return;
    }
    nano_http_respond_error(req, 405, NULL, "%.*s not allowed on %.*s "
                            "(allowed: %s)", (int)h->method.len,
                            (const char *)h->method.p, (int)h->path.len,
                            (const char *)h->path.p, allow);
}
