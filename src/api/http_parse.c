/* SPDX-License-Identifier: MIT
 *
 * http_parse.c - HTTP/1.1 heads, chunked coding, URLs (contract in
 * http_parse.h).
 *
 * The head parsers walk the input once with a cursor that may never pass
 * `end` = min(len, head_max).  Reaching `end` means "need more bytes" when
 * the input is shorter than head_max and "head too large" otherwise, and
 * every check happens at a position fixed by the bytes before it.  That is
 * what makes the parsers prefix-consistent (a split input gives either
 * -EAGAIN or the whole-input result), which the fuzzers check.
 *
 * The chunked decoder is a byte-level state machine (one state per place in
 * the grammar of RFC 9112 section 7.1) so it can stop anywhere and resume.
 *
 * Nothing here allocates; everything returned points into the caller's
 * buffer.  Cost: one pass over the head per call, so a head that arrives in
 * k reads is scanned k times (bounded by head_max).
 */
#include <string.h>

#include "api/http_parse.h"
#include "core/err.h"

const struct nano_http_limits nano_http_limits_default = {
    .method_max       = 16,
    .target_max       = 2048,
    .header_name_max  = 64,
    .header_value_max = 4096,
    .headers_max      = 32,
    .head_max         = 8192,
    .body_max         = 1024 * 1024,
};

/* Chunk size lines (with extensions) and trailer lines are bounded too:
 * unbounded extensions are a known way to make a server spin. */
#define CHUNK_LINE_MAX   1024
#define TRAILER_LINE_MAX 4096
#define TRAILERS_MAX     32

struct perr_row {
    const char *name;
    uint16_t    status;
    const char *text;
};

static const struct perr_row perr_rows[NANO_HTTP_PE_COUNT] = {
#define ROW(name, status, text) { #name, status, text },
    NANO_HTTP_PERRORS(ROW)
#undef ROW
};

const char *
nano_http_perr_name(enum nano_http_perr code)
{
    if ((unsigned)code >= NANO_HTTP_PE_COUNT)
        return "UNKNOWN";
    return perr_rows[code].name;
}

static int
status_rc(unsigned status)
{
    switch (status) {
    case 413: case 414: case 431:
        return -EMSGSIZE;
    case 501: case 505:
        return -ENOTSUP;
    default:
        return -EPROTO;
    }
}

static int
set_err(struct nano_http_error *err, enum nano_http_perr code, size_t off,
        bool response)
{
    const struct perr_row *r = &perr_rows[code];
    int rc = status_rc(r->status);

    if (err) {
        err->code = code;
        err->status = response ? 0 : r->status;
        err->offset = (uint32_t)off;
        err->reason = r->text;
    }
    return response && rc == -ENOTSUP ? -EPROTO : rc;
}

/* ---- character classes ----------------------------------------------------- */

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA   (RFC 9110 5.6.2) */
static bool
is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / SP / HTAB, obs-text allowed (RFC 9110 5.5). */
static bool
is_value_char(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static uint8_t
lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool
nano_http_span_ieq(struct nano_span s, const char *str)
{
    size_t n = strlen(str);

    if (s.len != n || (n && !s.p))
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != lower((uint8_t)str[i]))
            return false;
    return true;
}

/* Call fn for each element of a comma-separated list, OWS trimmed, empty
 * elements skipped (RFC 9110 5.6.1).  Stops when fn returns false. */
static void
list_each(struct nano_span s, bool (*fn)(struct nano_span el, void *arg),
          void *arg)
{
    size_t i = 0;

    while (i < s.len) {
        size_t a, b;
        while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == ','))
            i++;
        a = i;
        while (i < s.len && s.p[i] != ',')
            i++;
        b = i;
        while (b > a && (s.p[b - 1] == ' ' || s.p[b - 1] == '\t'))
            b--;
        if (b > a) {
            struct nano_span el = { s.p + a, b - a };
            if (!fn(el, arg))
                return;
        }
    }
}

struct has_arg {
    const char *token;
    bool        found;
};

static bool
has_cb(struct nano_span el, void *arg)
{
    struct has_arg *h = arg;

    if (nano_http_span_ieq(el, h->token)) {
        h->found = true;
        return false;
    }
    return true;
}

bool
nano_http_list_has(struct nano_span s, const char *token)
{
    struct has_arg h = { token, false };

    list_each(s, has_cb, &h);
    return h.found;
}

struct nano_span
nano_http_find_header(const struct nano_http_header *headers, size_t n,
                      const char *name)
{
    struct nano_span none = { NULL, 0 };

    for (size_t i = 0; i < n; i++)
        if (nano_http_span_ieq(headers[i].name, name))
            return headers[i].value;
    return none;
}

static const struct { const char *name; enum nano_http_method id; } methods[] = {
    { "GET", NANO_HTTP_GET },       { "HEAD", NANO_HTTP_HEAD },
    { "POST", NANO_HTTP_POST },     { "PUT", NANO_HTTP_PUT },
    { "DELETE", NANO_HTTP_DELETE }, { "PATCH", NANO_HTTP_PATCH },
    { "OPTIONS", NANO_HTTP_OPTIONS },
};

enum nano_http_method
nano_http_method_from(struct nano_span m)
{
    /* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
    for (size_t i = 0; i < NANO_ARRAY_LEN(methods); i++)
        if (m.len == strlen(methods[i].name) &&
            memcmp(m.p, methods[i].name, m.len) == 0)
            return methods[i].id;
    return NANO_HTTP_OTHER;
}

const char *
nano_http_method_name(enum nano_http_method m)
{
    for (size_t i = 0; i < NANO_ARRAY_LEN(methods); i++)
        if (methods[i].id == m)
            return methods[i].name;
    return NULL;
}

const char *
nano_http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}

/* ---- head parsing -------------------------------------------------------- */

struct pstate {
    const uint8_t          *buf;
    size_t                  end;      /* min(len, head_max) */
    bool                    capped;   /* len >= head_max */
    bool                    response;
    struct nano_http_error *err;
};

static int
fail(struct pstate *ps, enum nano_http_perr code, size_t off)
{
    return set_err(ps->err, code, off, ps->response);
}

static int
need_more(struct pstate *ps, size_t off)
{
    return ps->capped ? fail(ps, NANO_HTTP_PE_HEAD_TOO_LARGE, off) : -EAGAIN;
}

/* Expect CRLF at p.  Returns 0 (p advanced), -EAGAIN or an error. */
static int
expect_crlf(struct pstate *ps, size_t *pp, enum nano_http_perr not_cr)
{
    size_t p = *pp;

    if (p >= ps->end)
        return need_more(ps, p);
    if (ps->buf[p] == '\n')
        return fail(ps, NANO_HTTP_PE_BARE_LF, p);
    if (ps->buf[p] != '\r')
        return fail(ps, not_cr, p);
    if (p + 1 >= ps->end)
        return need_more(ps, p + 1);
    if (ps->buf[p + 1] != '\n')
        return fail(ps, NANO_HTTP_PE_BARE_CR, p);
    *pp = p + 2;
    return 0;
}

/* What the field semantics collect while the fields are parsed. */
struct fields {
    uint8_t  version_minor;
    bool     cl_seen, te_seen, chunked, close_tok, ka_tok, expect100;
    unsigned hosts;
    uint64_t cl;
    uint64_t body_max;
    struct nano_span host;
};

struct te_scan {
    unsigned count, chunked, last_chunked, bad;
};

static bool
te_cb(struct nano_span el, void *arg)
{
    struct te_scan *t = arg;
    bool is_chunked = nano_http_span_ieq(el, "chunked");

    for (size_t i = 0; i < el.len; i++)
        if (!is_tchar(el.p[i]))
            t->bad = 1;         /* parameters (";q=") are not supported */
    t->count++;
    t->chunked += is_chunked;
    t->last_chunked = is_chunked;
    return true;
}

static bool
host_ok(struct nano_span v)
{
    /* uri-host [ ":" port ]: reg-name, IPv4 or an IP literal in brackets.
     * Anything that could split a URL (/, ?, #, @, space) is refused. */
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = v.p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9'))
            continue;
        if (!strchr("-._~%!$&'()*+,;=:[]", c) || c == 0)
            return false;
    }
    return true;
}

/* Field semantics, run when the field line is complete.  Returns 0 or an
 * error at offset off (the start of the field line). */
static int
field_semantics(struct pstate *ps, struct fields *f,
                const struct nano_http_header *h, size_t off)
{
    struct nano_span v = h->value;

    if (nano_http_span_ieq(h->name, "content-length")) {
        uint64_t n = 0;
        bool big = false;
        if (v.len == 0)
            return fail(ps, NANO_HTTP_PE_BAD_CONTENT_LENGTH, off);
        for (size_t i = 0; i < v.len; i++) {
            if (v.p[i] < '0' || v.p[i] > '9')
                return fail(ps, NANO_HTTP_PE_BAD_CONTENT_LENGTH, off);
            if (n > (UINT64_MAX - 9) / 10)
                big = true;
            else
                n = n * 10 + (uint64_t)(v.p[i] - '0');
        }
        if (f->cl_seen)
            return fail(ps, NANO_HTTP_PE_DUP_CONTENT_LENGTH, off);
        if (f->te_seen)
            return fail(ps, NANO_HTTP_PE_TE_AND_CL, off);
        if (big || n > f->body_max)
            return fail(ps, NANO_HTTP_PE_BODY_TOO_LARGE, off);
        f->cl_seen = true;
        f->cl = n;
    } else if (nano_http_span_ieq(h->name, "transfer-encoding")) {
        struct te_scan t = { 0, 0, 0, 0 };
        if (f->version_minor == 0)
            return fail(ps, NANO_HTTP_PE_TE_IN_HTTP10, off);
        if (f->te_seen)
            return fail(ps, NANO_HTTP_PE_BAD_TE, off);
        if (f->cl_seen)
            return fail(ps, NANO_HTTP_PE_TE_AND_CL, off);
        list_each(v, te_cb, &t);
        /* RFC 9112 6.3: unless chunked is the final coding the length
         * cannot be determined -> 400; chunked plus codings we do not
         * implement (gzip, ...) -> 501. */
        if (t.bad || t.count == 0 || t.chunked != 1 || !t.last_chunked)
            return fail(ps, NANO_HTTP_PE_BAD_TE, off);
        if (t.count > 1)
            return fail(ps, NANO_HTTP_PE_UNSUPPORTED_TE, off);
        f->te_seen = f->chunked = true;
    } else if (nano_http_span_ieq(h->name, "connection")) {
        if (nano_http_list_has(v, "close"))
            f->close_tok = true;
        if (nano_http_list_has(v, "keep-alive"))
            f->ka_tok = true;
    } else if (!ps->response && nano_http_span_ieq(h->name, "host")) {
        if (++f->hosts > 1)
            return fail(ps, NANO_HTTP_PE_DUP_HOST, off);
        if (!host_ok(v))
            return fail(ps, NANO_HTTP_PE_BAD_HOST, off);
        f->host = v;
    } else if (!ps->response && nano_http_span_ieq(h->name, "expect")) {
        if (nano_http_span_ieq(v, "100-continue"))
            f->expect100 = true;
    }
    return 0;
}

/* Header field lines up to and including the empty line.  On success *pp is
 * the end of the head. */
static int
parse_fields(struct pstate *ps, size_t *pp, const struct nano_http_limits *lim,
             struct nano_http_header *hdrs, uint32_t *nhdrs, struct fields *f)
{
    const uint8_t *b = ps->buf;
    uint32_t hmax = lim->headers_max < NANO_HTTP_MAX_HEADERS
                  ? lim->headers_max : NANO_HTTP_MAX_HEADERS;
    size_t p = *pp;
    int rc;

    *nhdrs = 0;
    for (;;) {
        size_t n0, v0, vend, line0 = p;
        struct nano_http_header *h;

        if (p >= ps->end)
            return need_more(ps, p);
        if (b[p] == '\r' || b[p] == '\n') {
            rc = expect_crlf(ps, &p, NANO_HTTP_PE_BAD_HEADER_NAME);
            if (rc)
                return rc;
            *pp = p;
            return 0;
        }
        if (b[p] == ' ' || b[p] == '\t')
            return fail(ps, NANO_HTTP_PE_OBS_FOLD, p);
        if (*nhdrs >= hmax)
            return fail(ps, NANO_HTTP_PE_TOO_MANY_HEADERS, p);

        n0 = p;
        while (p < ps->end && is_tchar(b[p])) {
            if (p - n0 == lim->header_name_max)
                return fail(ps, NANO_HTTP_PE_NAME_TOO_LONG, p);
            p++;
        }
        if (p >= ps->end)
            return need_more(ps, p);
        if (b[p] == ' ' || b[p] == '\t')
            return fail(ps, NANO_HTTP_PE_WS_BEFORE_COLON, p);
        if (b[p] != ':' || p == n0)
            return fail(ps, NANO_HTTP_PE_BAD_HEADER_NAME, p);
        h = &hdrs[*nhdrs];
        h->name.p = b + n0;
        h->name.len = p - n0;
        p++;

        while (p < ps->end && (b[p] == ' ' || b[p] == '\t'))
            p++;
        v0 = vend = p;
        while (p < ps->end && b[p] != '\r') {
            if (b[p] == '\n')
                return fail(ps, NANO_HTTP_PE_BARE_LF, p);
            if (!is_value_char(b[p]))
                return fail(ps, NANO_HTTP_PE_BAD_HEADER_VALUE, p);
            if (p - v0 == lim->header_value_max)
                return fail(ps, NANO_HTTP_PE_VALUE_TOO_LONG, p);
            if (b[p] != ' ' && b[p] != '\t')
                vend = p + 1;
            p++;
        }
        rc = expect_crlf(ps, &p, NANO_HTTP_PE_BAD_HEADER_VALUE);
        if (rc)
            return rc;
        h->value.p = b + v0;
        h->value.len = vend - v0;
        (*nhdrs)++;
        rc = field_semantics(ps, f, h, line0);
        if (rc)
            return rc;
    }
}

/* "HTTP/" DIGIT "." DIGIT at p.  Returns 0, -EAGAIN or an error. */
static int
parse_version(struct pstate *ps, size_t *pp, int *major, int *minor,
              enum nano_http_perr bad)
{
    static const char name[] = "HTTP/";
    size_t p = *pp;

    for (size_t i = 0; i < 8; i++) {
        uint8_t c;
        bool ok;
        if (p + i >= ps->end)
            return need_more(ps, p + i);
        c = ps->buf[p + i];
        if (i < 5)
            ok = c == (uint8_t)name[i];
        else if (i == 6)
            ok = c == '.';
        else
            ok = c >= '0' && c <= '9';
        if (!ok)
            return fail(ps, bad, p + i);
    }
    *major = ps->buf[p + 5] - '0';
    *minor = ps->buf[p + 7] - '0';
    *pp = p + 8;
    return 0;
}

static const uint8_t slash[] = "/";

/* Split the target into path and query and check its form (RFC 9112 3.2). */
static int
classify_target(struct pstate *ps, struct nano_http_request_head *out,
                size_t t0)
{
    const uint8_t *t = out->target.p;
    size_t n = out->target.len, i, path0;

    if (t[0] == '*') {
        if (n != 1 || out->method_id != NANO_HTTP_OPTIONS)
            return fail(ps, NANO_HTTP_PE_BAD_TARGET, t0);
        out->path = out->target;
        return 0;
    }
    if (t[0] == '/') {
        path0 = 0;
    } else {
        /* absolute-form: scheme "://" authority [path] - we answer for any
         * authority, as a server on a Unix socket or one address must. */
        for (i = 0; i < n && ((t[i] >= 'a' && t[i] <= 'z') ||
                              (t[i] >= 'A' && t[i] <= 'Z') ||
                              (i > 0 && ((t[i] >= '0' && t[i] <= '9') ||
                                         t[i] == '+' || t[i] == '-' ||
                                         t[i] == '.'))); i++)
            ;
        if (i == 0 || i + 3 > n || memcmp(t + i, "://", 3) != 0)
            return fail(ps, NANO_HTTP_PE_BAD_TARGET, t0);
        {
            struct nano_span scheme = { t, i };
            if (!nano_http_span_ieq(scheme, "http") &&
                !nano_http_span_ieq(scheme, "https"))
                return fail(ps, NANO_HTTP_PE_BAD_TARGET, t0);
        }
        i += 3;
        path0 = i;
        while (path0 < n && t[path0] != '/' && t[path0] != '?')
            path0++;
        if (path0 == i)
            return fail(ps, NANO_HTTP_PE_BAD_TARGET, t0 + i);
    }
    for (i = path0; i < n && t[i] != '?'; i++)
        ;
    out->path.p = t + path0;
    out->path.len = i - path0;
    if (out->path.len == 0) {
        out->path.p = slash;
        out->path.len = 1;
    }
    if (i < n) {
        out->has_query = true;
        out->query.p = t + i + 1;
        out->query.len = n - i - 1;
    }
    return 0;
}

int
nano_http_parse_request(const uint8_t *buf, size_t len,
                        const struct nano_http_limits *lim,
                        struct nano_http_request_head *out,
                        struct nano_http_error *err)
{
    struct pstate ps;
    struct fields f;
    size_t p = 0, m0, t0;
    int rc, major, minor;

    if (!lim)
        lim = &nano_http_limits_default;
    ps.buf = buf;
    ps.capped = len >= lim->head_max;
    ps.end = ps.capped ? lim->head_max : len;
    ps.response = false;
    ps.err = err;
    if (err)
        set_err(err, NANO_HTTP_PE_NONE, 0, false);
    memset(out, 0, offsetof(struct nano_http_request_head, headers));

    /* RFC 9112 2.2: ignore empty lines before the request line. */
    for (;;) {
        if (p >= ps.end)
            return need_more(&ps, p);
        if (buf[p] != '\r' && buf[p] != '\n')
            break;
        rc = expect_crlf(&ps, &p, NANO_HTTP_PE_BAD_REQUEST_LINE);
        if (rc)
            return rc;
    }

    m0 = p;
    while (p < ps.end && is_tchar(buf[p])) {
        if (p - m0 == lim->method_max)
            return fail(&ps, NANO_HTTP_PE_METHOD_TOO_LONG, p);
        p++;
    }
    if (p >= ps.end)
        return need_more(&ps, p);
    if (p == m0)
        return fail(&ps, NANO_HTTP_PE_BAD_METHOD, p);
    if (buf[p] != ' ')
        return fail(&ps, (buf[p] == '\r' || buf[p] == '\n')
                         ? NANO_HTTP_PE_BAD_REQUEST_LINE
                         : NANO_HTTP_PE_BAD_METHOD, p);
    out->method.p = buf + m0;
    out->method.len = p - m0;
    out->method_id = nano_http_method_from(out->method);
    p++;

    t0 = p;
    while (p < ps.end && buf[p] > 0x20 && buf[p] < 0x7f) {
        if (p - t0 == lim->target_max)
            return fail(&ps, NANO_HTTP_PE_TARGET_TOO_LONG, p);
        if (buf[p] == '#')              /* fragments are never sent */
            return fail(&ps, NANO_HTTP_PE_BAD_TARGET, p);
        p++;
    }
    if (p >= ps.end)
        return need_more(&ps, p);
    if (buf[p] != ' ' || p == t0)
        return fail(&ps, (buf[p] == ' ' || buf[p] == '\r' || buf[p] == '\n')
                         ? NANO_HTTP_PE_BAD_REQUEST_LINE
                         : NANO_HTTP_PE_BAD_TARGET, p);
    out->target.p = buf + t0;
    out->target.len = p - t0;
    p++;

    rc = parse_version(&ps, &p, &major, &minor, NANO_HTTP_PE_BAD_VERSION);
    if (rc)
        return rc;
    rc = expect_crlf(&ps, &p, NANO_HTTP_PE_BAD_VERSION);
    if (rc)
        return rc;
    if (major != 1)
        return fail(&ps, NANO_HTTP_PE_VERSION, p - 10);
    /* RFC 9110 6.2: a higher minor version is handled as the highest we
     * implement. */
    out->version_minor = minor == 0 ? 0 : 1;
    rc = classify_target(&ps, out, t0);
    if (rc)
        return rc;

    memset(&f, 0, sizeof f);
    f.version_minor = out->version_minor;
    f.body_max = lim->body_max;
    rc = parse_fields(&ps, &p, lim, out->headers, &out->nheaders, &f);
    if (rc)
        return rc;
    if (out->version_minor == 1 && f.hosts == 0)
        return fail(&ps, NANO_HTTP_PE_MISSING_HOST, p);

    out->host = f.host;
    out->expect_continue = f.expect100;
    if (f.chunked) {
        out->framing = NANO_HTTP_BODY_CHUNKED;
    } else if (f.cl_seen && f.cl > 0) {
        out->framing = NANO_HTTP_BODY_LENGTH;
        out->content_length = f.cl;
    } else {
        out->framing = NANO_HTTP_BODY_NONE;
    }
    out->keep_alive = !f.close_tok && (out->version_minor == 1 || f.ka_tok);
    out->head_len = (uint32_t)p;
    return (int)p;
}

int
nano_http_parse_response(const uint8_t *buf, size_t len,
                         const struct nano_http_limits *lim,
                         struct nano_http_response_head *out,
                         struct nano_http_error *err)
{
    struct pstate ps;
    struct fields f;
    size_t p = 0, r0, rend;
    int rc, major, minor;
    unsigned status = 0;

    if (!lim)
        lim = &nano_http_limits_default;
    ps.buf = buf;
    ps.capped = len >= lim->head_max;
    ps.end = ps.capped ? lim->head_max : len;
    ps.response = true;
    ps.err = err;
    if (err)
        set_err(err, NANO_HTTP_PE_NONE, 0, true);
    memset(out, 0, offsetof(struct nano_http_response_head, headers));

    rc = parse_version(&ps, &p, &major, &minor, NANO_HTTP_PE_BAD_STATUS_LINE);
    if (rc)
        return rc;
    if (major != 1)
        return fail(&ps, NANO_HTTP_PE_BAD_STATUS_LINE, 0);
    for (size_t i = 0; i < 4; i++) {
        uint8_t c;
        if (p >= ps.end)
            return need_more(&ps, p);
        c = buf[p];
        if (i == 0 ? c != ' ' : (c < '0' || c > '9'))
            return fail(&ps, NANO_HTTP_PE_BAD_STATUS_LINE, p);
        if (i > 0)
            status = status * 10 + (unsigned)(c - '0');
        p++;
    }
    if (status < 100 || status > 599)
        return fail(&ps, NANO_HTTP_PE_BAD_STATUS_LINE, p - 3);
    /* The SP before an empty reason phrase is often left out. */
    if (p >= ps.end)
        return need_more(&ps, p);
    if (buf[p] == ' ')
        p++;
    r0 = rend = p;
    while (p < ps.end && buf[p] != '\r') {
        if (buf[p] == '\n')
            return fail(&ps, NANO_HTTP_PE_BARE_LF, p);
        if (!is_value_char(buf[p]))
            return fail(&ps, NANO_HTTP_PE_BAD_STATUS_LINE, p);
        p++;
        rend = p;
    }
    rc = expect_crlf(&ps, &p, NANO_HTTP_PE_BAD_STATUS_LINE);
    if (rc)
        return rc;
    out->status = (uint16_t)status;
    out->version_minor = minor == 0 ? 0 : 1;
    out->reason.p = buf + r0;
    out->reason.len = rend - r0;

    memset(&f, 0, sizeof f);
    f.version_minor = out->version_minor;
    f.body_max = lim->body_max;
    rc = parse_fields(&ps, &p, lim, out->headers, &out->nheaders, &f);
    if (rc)
        return rc;

    out->keep_alive = !f.close_tok && (out->version_minor == 1 || f.ka_tok);
    if (status < 200 || status == 204 || status == 304) {
        out->framing = NANO_HTTP_BODY_NONE;
    } else if (f.chunked) {
        out->framing = NANO_HTTP_BODY_CHUNKED;
    } else if (f.cl_seen) {
        out->framing = f.cl ? NANO_HTTP_BODY_LENGTH : NANO_HTTP_BODY_NONE;
        out->content_length = f.cl;
    } else {
        out->framing = NANO_HTTP_BODY_CLOSE;
        out->keep_alive = false;
    }
    out->head_len = (uint32_t)p;
    return (int)p;
}

/* ---- chunked decoder ----------------------------------------------------- */

enum {
    CK_SIZE0,          /* first hex digit of a size */
    CK_SIZE,           /* more hex digits, BWS, ';' or CR */
    CK_SIZE_BWS,       /* whitespace after the size: only ';' may follow */
    CK_EXT_NAME0,      /* after ';': BWS then the first tchar of a name */
    CK_EXT_NAME,       /* name tchars */
    CK_EXT_AFTER_NAME, /* BWS, then '=', ';' or CR */
    CK_EXT_VAL0,       /* after '=': BWS then token or quoted-string */
    CK_EXT_VAL,        /* token value */
    CK_EXT_QUOTED,     /* inside a quoted-string */
    CK_EXT_QPAIR,      /* after a backslash in a quoted-string */
    CK_EXT_AFTER_VAL,  /* BWS, then ';' or CR */
    CK_SIZE_LF,        /* CR of the size line seen */
    CK_DATA,
    CK_DATA_CR,
    CK_DATA_LF,
    CK_TR_START,       /* start of a trailer line or the final CRLF */
    CK_TR_NAME,
    CK_TR_VALUE,
    CK_TR_LF,
    CK_END_LF,
    CK_DONE,
    CK_FAILED,
};

void
nano_http_chunked_init(struct nano_http_chunked *d, uint64_t max)
{
    memset(d, 0, sizeof *d);
    d->max = max ? max : nano_http_limits_default.body_max;
    d->state = CK_SIZE0;
    set_err(&d->err, NANO_HTTP_PE_NONE, 0, false);
}

bool
nano_http_chunked_done(const struct nano_http_chunked *d)
{
    return d->state == CK_DONE;
}

static int
ck_fail(struct nano_http_chunked *d, enum nano_http_perr code, size_t i)
{
    d->state = CK_FAILED;
    return set_err(&d->err, code, (size_t)(d->fed + i), false);
}

static bool
is_bws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

int
nano_http_chunked_feed(struct nano_http_chunked *d, const uint8_t *in,
                       size_t len, struct nano_span *data_out)
{
    size_t i = 0;

    data_out->p = in;
    data_out->len = 0;
    if (d->state == CK_FAILED)
        return status_rc(d->err.status);

    while (i < len && d->state != CK_DONE) {
        uint8_t c = in[i];

        if (d->state == CK_DATA) {
            size_t n = len - i;
            if ((uint64_t)n > d->remaining)
                n = (size_t)d->remaining;
            data_out->p = in + i;
            data_out->len = n;
            d->remaining -= n;
            d->total += n;
            i += n;
            if (d->remaining == 0)
                d->state = CK_DATA_CR;
            d->fed += i;
            return (int)i;     /* one data piece per call */
        }

        /* Every state below reads one byte of a size or trailer line. */
        if (d->state < CK_DATA && d->state != CK_SIZE_LF &&
            ++d->line_len > CHUNK_LINE_MAX)
            return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
        if ((d->state == CK_TR_NAME || d->state == CK_TR_VALUE) &&
            ++d->line_len > TRAILER_LINE_MAX)
            return ck_fail(d, NANO_HTTP_PE_BAD_TRAILER, i);

        switch (d->state) {
        case CK_SIZE0:
        case CK_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (d->remaining > (UINT64_MAX >> 4))
                    return ck_fail(d, NANO_HTTP_PE_CHUNK_TOO_LARGE, i);
                d->remaining = (d->remaining << 4) | (uint64_t)h;
                if (d->remaining > d->max - d->total)
                    return ck_fail(d, NANO_HTTP_PE_CHUNK_TOO_LARGE, i);
                d->state = CK_SIZE;
                break;
            }
            if (d->state == CK_SIZE0)
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_SIZE, i);
            if (c == '\r')
                d->state = CK_SIZE_LF;
            else if (c == ';')
                d->state = CK_EXT_NAME0;
            else if (is_bws(c))
                d->state = CK_SIZE_BWS;
            else
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_SIZE, i);
            break;
        }
        case CK_SIZE_BWS:
            if (c == ';')
                d->state = CK_EXT_NAME0;
            else if (!is_bws(c))
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
            break;
        case CK_EXT_NAME0:
            if (is_tchar(c))
                d->state = CK_EXT_NAME;
            else if (!is_bws(c))
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
            break;
        case CK_EXT_NAME:
        case CK_EXT_AFTER_NAME:
            if (d->state == CK_EXT_NAME && is_tchar(c))
                break;
            if (c == '=')
                d->state = CK_EXT_VAL0;
            else if (c == ';')
                d->state = CK_EXT_NAME0;
            else if (c == '\r')
                d->state = CK_SIZE_LF;
            else if (is_bws(c))
                d->state = CK_EXT_AFTER_NAME;
            else
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
            break;
        case CK_EXT_VAL0:
            if (c == '"')
                d->state = CK_EXT_QUOTED;
            else if (is_tchar(c))
                d->state = CK_EXT_VAL;
            else if (!is_bws(c))
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
            break;
        case CK_EXT_VAL:
        case CK_EXT_AFTER_VAL:
            if (d->state == CK_EXT_VAL && is_tchar(c))
                break;
            if (c == ';')
                d->state = CK_EXT_NAME0;
            else if (c == '\r')
                d->state = CK_SIZE_LF;
            else if (is_bws(c))
                d->state = CK_EXT_AFTER_VAL;
            else
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
            break;
        case CK_EXT_QUOTED:
            /* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
            if (c == '"')
                d->state = CK_EXT_AFTER_VAL;
            else if (c == '\\')
                d->state = CK_EXT_QPAIR;
            else if (!is_value_char(c))
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
            break;
        case CK_EXT_QPAIR:
            if (!is_value_char(c))
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_EXT, i);
            d->state = CK_EXT_QUOTED;
            break;
        case CK_SIZE_LF:
            if (c != '\n')
                return ck_fail(d, NANO_HTTP_PE_BARE_CR, i);
            d->line_len = 0;
            d->state = d->remaining ? CK_DATA : CK_TR_START;
            break;
        case CK_DATA_CR:
            if (c != '\r')
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_END, i);
            d->state = CK_DATA_LF;
            break;
        case CK_DATA_LF:
            if (c != '\n')
                return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_END, i);
            d->state = CK_SIZE0;
            break;
        case CK_TR_START:
            d->line_len = 0;
            if (c == '\r') {
                d->state = CK_END_LF;
            } else if (is_tchar(c)) {
                if (++d->trailers > TRAILERS_MAX)
                    return ck_fail(d, NANO_HTTP_PE_BAD_TRAILER, i);
                d->line_len = 1;
                d->state = CK_TR_NAME;
            } else {
                return ck_fail(d, c == '\n' ? NANO_HTTP_PE_BARE_LF
                                            : NANO_HTTP_PE_BAD_TRAILER, i);
            }
            break;
        case CK_TR_NAME:
            if (c == ':')
                d->state = CK_TR_VALUE;
            else if (!is_tchar(c))
                return ck_fail(d, NANO_HTTP_PE_BAD_TRAILER, i);
            break;
        case CK_TR_VALUE:
            if (c == '\r')
                d->state = CK_TR_LF;
            else if (c == '\n')
                return ck_fail(d, NANO_HTTP_PE_BARE_LF, i);
            else if (!is_value_char(c))
                return ck_fail(d, NANO_HTTP_PE_BAD_TRAILER, i);
            break;
        case CK_TR_LF:
            if (c != '\n')
                return ck_fail(d, NANO_HTTP_PE_BARE_CR, i);
            d->state = CK_TR_START;
            break;
        case CK_END_LF:
            if (c != '\n')
                return ck_fail(d, NANO_HTTP_PE_BARE_CR, i);
            d->state = CK_DONE;
            break;
        default:
            return ck_fail(d, NANO_HTTP_PE_BAD_CHUNK_SIZE, i);
        }
        /* A bare LF anywhere in a size line is caught here: LF is neither
         * hex, tchar, BWS nor value text, so the states above refuse it. */
        i++;
    }
    d->fed += i;
    return (int)i;
}

/* ---- percent-encoding, queries, URLs ----------------------------------- */

int
nano_http_pct_decode(const char *in, size_t len, char *out, size_t cap,
                     bool plus_is_space)
{
    size_t o = 0;

    if (cap == 0)
        return -ENOSPC;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)in[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3)
                return -EINVAL;
            hi = hexval((uint8_t)in[i + 1]);
            lo = hexval((uint8_t)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == 0)
            return -EINVAL;
        if (o + 1 >= cap)
            return -ENOSPC;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int
nano_http_query_get(struct nano_span query, const char *name, char *out,
                    size_t cap)
{
    const char *q = (const char *)query.p;
    size_t i = 0;

    while (i < query.len) {
        size_t k0 = i, kend, v0, vend;
        char key[128];
        int n;

        while (i < query.len && q[i] != '&')
            i++;
        vend = i;
        for (kend = k0; kend < vend && q[kend] != '='; kend++)
            ;
        v0 = kend < vend ? kend + 1 : vend;
        i++;            /* past '&' */
        n = nano_http_pct_decode(q + k0, kend - k0, key, sizeof key, true);
        if (n < 0 || strcmp(key, name) != 0)
            continue;   /* an undecodable key cannot be the one asked for */
        return nano_http_pct_decode(q + v0, vend - v0, out, cap, true);
    }
    return -ENOENT;
}

int
nano_http_url_parse(const char *url, size_t len, struct nano_http_url *out)
{
    const uint8_t *u = (const uint8_t *)url;
    size_t i = 0, a0, aend, h0, hend, p0;
    uint32_t port = 0;
    struct nano_span scheme;

    memset(out, 0, sizeof *out);
    while (i < len && u[i] != ':' && u[i] != '/')
        i++;
    if (i == 0 || i + 3 > len || memcmp(u + i, "://", 3) != 0)
        return -EINVAL;
    scheme.p = u;
    scheme.len = i;
    if (nano_http_span_ieq(scheme, "https"))
        out->tls = true;
    else if (!nano_http_span_ieq(scheme, "http"))
        return -EPROTONOSUPPORT;
    out->port = out->tls ? 443 : 80;

    a0 = i + 3;
    for (aend = a0; aend < len && u[aend] != '/' && u[aend] != '?' &&
                    u[aend] != '#'; aend++)
        if (u[aend] == '@')
            return -EINVAL;     /* credentials in URLs: not supported */
    if (aend == a0)
        return -EINVAL;
    if (u[a0] == '[') {
        h0 = a0 + 1;
        for (hend = h0; hend < aend && u[hend] != ']'; hend++)
            if (!(hexval(u[hend]) >= 0 || u[hend] == ':' || u[hend] == '.'))
                return -EINVAL;
        if (hend >= aend || hend == h0)
            return -EINVAL;
        i = hend + 1;
    } else {
        h0 = a0;
        for (hend = h0; hend < aend && u[hend] != ':'; hend++) {
            uint8_t c = u[hend];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
                return -EINVAL;
        }
        if (hend == h0)
            return -EINVAL;
        i = hend;
    }
    if (i < aend) {
        if (u[i] != ':' || i + 1 == aend)
            return -EINVAL;
        for (i++; i < aend; i++) {
            if (u[i] < '0' || u[i] > '9')
                return -EINVAL;
            port = port * 10 + (uint32_t)(u[i] - '0');
            if (port > 65535)
                return -EINVAL;
        }
        if (port == 0)
            return -EINVAL;
        out->port = (uint16_t)port;
    }
    out->host.p = u + h0;
    out->host.len = hend - h0;

    p0 = aend;
    for (i = p0; i < len && u[i] != '#'; i++)
        if (u[i] <= 0x20 || u[i] >= 0x7f)
            return -EINVAL;     /* could not go on a request line */
    len = i;
    for (i = p0; i < len && u[i] != '?'; i++)
        ;
    out->path.p = u + p0;
    out->path.len = i - p0;
    if (out->path.len == 0) {
        out->path.p = slash;
        out->path.len = 1;
    }
    if (i < len) {
        out->has_query = true;
        out->query.p = u + i + 1;
        out->query.len = len - i - 1;
    }
    return NANO_OK;
}
