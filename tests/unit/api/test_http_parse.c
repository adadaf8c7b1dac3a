/* test_http_parse.c - the pure HTTP parsers: request heads of many shapes,
 * malformed requests with their exact error and status, prefix
 * consistency (byte-by-byte feeding gives the whole-buffer result), the
 * chunked decoder, response heads, percent-decoding, queries and URLs. */
#include "harness/nt.h"
#include "api/http_parse.h"
#include "core/err.h"

static struct nano_http_request_head head;   /* 600+ bytes: keep off the stack */

static int
parse(const char *s, struct nano_http_error *err)
{
    return nano_http_parse_request((const uint8_t *)s, strlen(s), NULL, &head,
                                   err);
}

static bool
span_is(struct nano_span sp, const char *s)
{
    return sp.len == strlen(s) && (sp.len == 0 || memcmp(sp.p, s, sp.len) == 0);
}

/* Every proper prefix must give -EAGAIN or the whole-buffer result (same
 * return code and error code); the whole must give want_rc. */
static void
check_prefixes(const char *s, size_t len, const struct nano_http_limits *lim,
               int want_rc, enum nano_http_perr want_code)
{
    static struct nano_http_request_head h2;
    struct nano_http_error e;
    int rc;

    rc = nano_http_parse_request((const uint8_t *)s, len, lim, &h2, &e);
    NT_EQ_INT(rc, want_rc);
    NT_EQ_INT(e.code, want_code);
    for (size_t k = 0; k < len; k++) {
        int r = nano_http_parse_request((const uint8_t *)s, k, lim, &h2, &e);
        if (r == -EAGAIN)
            continue;
        if (r != want_rc || e.code != want_code) {
            NT_MSG("prefix %zu of %zu", k, len);
            NT_EQ_INT(r, want_rc);
            NT_EQ_INT(e.code, want_code);
            return;
        }
    }
}

/* ---- valid requests -------------------------------------------------------- */

static void
test_simple_get(void)
{
    struct nano_http_error e;
    const char *s = "GET /v1/devices HTTP/1.1\r\nHost: localhost\r\n"
                    "Accept: */*\r\n\r\n";

    NT_EQ_INT(parse(s, &e), (int)strlen(s));
    NT_EQ_INT(e.code, NANO_HTTP_PE_NONE);
    NT_CHECK(span_is(head.method, "GET"));
    NT_EQ_INT(head.method_id, NANO_HTTP_GET);
    NT_CHECK(span_is(head.target, "/v1/devices"));
    NT_CHECK(span_is(head.path, "/v1/devices"));
    NT_CHECK(!head.has_query);
    NT_EQ_INT(head.version_minor, 1);
    NT_CHECK(head.keep_alive);
    NT_EQ_INT(head.framing, NANO_HTTP_BODY_NONE);
    NT_EQ_INT(head.nheaders, 2);
    NT_CHECK(span_is(head.host, "localhost"));
    NT_CHECK(span_is(nano_http_find_header(head.headers, head.nheaders,
                                           "ACCEPT"), "*/*"));
    NT_CHECK(nano_http_find_header(head.headers, head.nheaders, "x").p == NULL);
    check_prefixes(s, strlen(s), NULL, (int)strlen(s), NANO_HTTP_PE_NONE);
}

static void
test_query_split_and_lookup(void)
{
    const char *s = "GET /v1/stream?filter=sensors%2F%23&x&y=a+b HTTP/1.1\r\n"
                    "Host: h\r\n\r\n";
    char v[64];

    NT_CHECK(parse(s, NULL) > 0);
    NT_CHECK(span_is(head.path, "/v1/stream"));
    NT_CHECK(head.has_query);
    NT_CHECK(span_is(head.query, "filter=sensors%2F%23&x&y=a+b"));
    NT_EQ_INT(nano_http_query_get(head.query, "filter", v, sizeof v), 9);
    NT_EQ_STR(v, "sensors/#");
    NT_EQ_INT(nano_http_query_get(head.query, "x", v, sizeof v), 0);
    NT_EQ_STR(v, "");
    NT_EQ_INT(nano_http_query_get(head.query, "y", v, sizeof v), 3);
    NT_EQ_STR(v, "a b");
    NT_EQ_INT(nano_http_query_get(head.query, "z", v, sizeof v), -ENOENT);
    NT_EQ_INT(nano_http_query_get(head.query, "filter", v, 4), -ENOSPC);
    /* "/?" : empty query is still a query */
    NT_CHECK(parse("GET /? HTTP/1.1\r\nHost: h\r\n\r\n", NULL) > 0);
    NT_CHECK(head.has_query);
    NT_EQ_INT(head.query.len, 0);
}

static void
test_keep_alive_rules(void)
{
    NT_CHECK(parse("GET / HTTP/1.0\r\n\r\n", NULL) > 0);
    NT_CHECK(!head.keep_alive);
    NT_EQ_INT(head.version_minor, 0);
    NT_CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", NULL) > 0);
    NT_CHECK(head.keep_alive);
    NT_CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                   NULL) > 0);
    NT_CHECK(!head.keep_alive);
    NT_CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, "
                   "CLOSE\r\n\r\n", NULL) > 0);
    NT_CHECK(!head.keep_alive);
    NT_CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                   "Connection: x\r\n\r\n", NULL) > 0);
    NT_CHECK(head.keep_alive);
    /* HTTP/1.2 is handled as 1.1 (RFC 9110 6.2) */
    NT_CHECK(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n", NULL) > 0);
    NT_EQ_INT(head.version_minor, 1);
    NT_CHECK(head.keep_alive);
}

static void
test_bodies_framing(void)
{
    const char *post = "POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Type: "
                       "application/json\r\nContent-Length: 5\r\n\r\nhello";
    int n = parse(post, NULL);

    NT_EQ_INT(n, (int)strlen(post) - 5);
    NT_EQ_INT(head.method_id, NANO_HTTP_POST);
    NT_EQ_INT(head.framing, NANO_HTTP_BODY_LENGTH);
    NT_EQ_INT(head.content_length, 5);
    NT_CHECK(parse("PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked"
                   "\r\n\r\n", NULL) > 0);
    NT_EQ_INT(head.framing, NANO_HTTP_BODY_CHUNKED);
    NT_CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
                   NULL) > 0);
    NT_EQ_INT(head.framing, NANO_HTTP_BODY_NONE);
    NT_CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                   "Content-Length: 1048576\r\n\r\n", NULL) > 0);
    NT_CHECK(head.expect_continue);
    NT_EQ_INT(head.content_length, 1048576);
}

static void
test_forms_and_shapes(void)
{
    /* empty lines before the request line are skipped (RFC 9112 2.2) */
    const char *lead = "\r\n\r\nDELETE /v1/services/a HTTP/1.1\r\nHost: a\r\n\r\n";
    NT_EQ_INT(parse(lead, NULL), (int)strlen(lead));
    NT_EQ_INT(head.method_id, NANO_HTTP_DELETE);
    NT_CHECK(span_is(head.path, "/v1/services/a"));

    NT_CHECK(parse("GET http://example.com:80/a/b?c=d HTTP/1.1\r\nHost: x\r\n"
                   "\r\n", NULL) > 0);
    NT_CHECK(span_is(head.path, "/a/b"));
    NT_CHECK(span_is(head.query, "c=d"));
    NT_CHECK(parse("GET HTTP://example.com HTTP/1.1\r\nHost: x\r\n\r\n",
                   NULL) > 0);
    NT_CHECK(span_is(head.path, "/"));
    NT_CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", NULL) > 0);
    NT_EQ_INT(head.method_id, NANO_HTTP_OPTIONS);
    NT_CHECK(span_is(head.path, "*"));

    /* unknown but valid methods are the router's business */
    NT_CHECK(parse("PURGE /x HTTP/1.1\r\nHost: x\r\n\r\n", NULL) > 0);
    NT_EQ_INT(head.method_id, NANO_HTTP_OTHER);
    NT_CHECK(parse("get /x HTTP/1.1\r\nHost: x\r\n\r\n", NULL) > 0);
    NT_EQ_INT(head.method_id, NANO_HTTP_OTHER);   /* case-sensitive */

    /* OWS trimmed, empty values, obs-text allowed, tabs inside */
    NT_CHECK(parse("GET / HTTP/1.1\r\nHost:a\r\nX-A: \t v \t\r\nX-B:\r\n"
                   "X-C: caf\xc3\xa9\tau lait\r\n\r\n", NULL) > 0);
    NT_CHECK(span_is(head.headers[0].value, "a"));
    NT_CHECK(span_is(head.headers[1].value, "v"));
    NT_CHECK(span_is(head.headers[2].value, ""));
    NT_CHECK(span_is(head.headers[3].value, "caf\xc3\xa9\tau lait"));
    NT_CHECK(span_is(head.headers[1].name, "X-A"));

    /* two pipelined requests: the first head only */
    const char *two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n"
                      "Host: a\r\n\r\n";
    NT_EQ_INT(parse(two, NULL), (int)strlen(two) / 2);
    NT_CHECK(span_is(head.path, "/1"));
}

static void
test_limits_at_the_edge(void)
{
    static char big[12000];
    struct nano_http_error e;
    size_t n;

    /* exactly 32 fields is fine */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < 32; i++)
        n += (size_t)sprintf(big + n, "X-%d: v\r\n", i);
    n += (size_t)sprintf(big + n, "\r\n");
    NT_EQ_INT(parse(big, &e), (int)n);
    NT_EQ_INT(head.nheaders, 32);

    /* method of exactly 16, target of exactly 2048 */
    n = (size_t)sprintf(big, "ABCDEFGHIJKLMNOP /");
    memset(big + n, 'a', 2047);
    n += 2047;
    n += (size_t)sprintf(big + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    NT_EQ_INT(parse(big, &e), (int)n);
    NT_EQ_INT(head.target.len, 2048);

    /* a head of exactly head_max bytes is accepted */
    struct nano_http_limits lim = nano_http_limits_default;
    lim.head_max = 100;
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    while (n < 96)
        big[n++] = 'v';
    memcpy(big + n, "\r\n\r\n", 4);
    n += 4;
    NT_EQ_INT(nano_http_parse_request((uint8_t *)big, n, &lim, &head, &e), 100);
    /* one byte more and it is 431 */
    memmove(big + 30, big + 29, n - 29);
    NT_EQ_INT(nano_http_parse_request((uint8_t *)big, n + 1, &lim, &head, &e),
              -EMSGSIZE);
    NT_EQ_INT(e.code, NANO_HTTP_PE_HEAD_TOO_LARGE);
    NT_EQ_INT(e.status, 431);
    check_prefixes(big, n + 1, &lim, -EMSGSIZE, NANO_HTTP_PE_HEAD_TOO_LARGE);
}

/* ---- malformed requests ------------------------------------------------------ */

struct bad_case {
    const char         *text;
    int                 rc;
    enum nano_http_perr code;
    int                 status;
};

#define H "Host: a\r\n"
static const struct bad_case bad_cases[] = {
    { "GET / HTTP/1.1\rHost: a\r\n\r\n", -EPROTO, NANO_HTTP_PE_BARE_CR, 400 },
    { "GET / HTTP/1.1\nHost: a\n\n", -EPROTO, NANO_HTTP_PE_BARE_LF, 400 },
    { "GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n", -EPROTO, NANO_HTTP_PE_BARE_CR, 400 },
    { "GET / HTTP/1.1\r\n" H "X: a\nY: b\r\n\r\n", -EPROTO, NANO_HTTP_PE_BARE_LF, 400 },
    { "\nGET / HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BARE_LF, 400 },
    { "G@T / HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_METHOD, 400 },
    { " GET / HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_METHOD, 400 },
    { "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n" H "\r\n", -ENOTSUP,
      NANO_HTTP_PE_METHOD_TOO_LONG, 501 },
    { "GET  / HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_REQUEST_LINE, 400 },
    { "GET /\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_REQUEST_LINE, 400 },
    { "GET\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_REQUEST_LINE, 400 },
    { "GET /a\x01 HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_TARGET, 400 },
    { "GET /caf\xc3\xa9 HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_TARGET, 400 },
    { "GET /a#frag HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_TARGET, 400 },
    { "GET a/b HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_TARGET, 400 },
    { "GET * HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_TARGET, 400 },
    { "CONNECT a.com:443 HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_TARGET, 400 },
    { "GET ftp://a/b HTTP/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_TARGET, 400 },
    { "GET / HTTX/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_VERSION, 400 },
    { "GET / http/1.1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_VERSION, 400 },
    { "GET / HTTP/1.1 \r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_VERSION, 400 },
    { "GET / HTTP/1.10\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_VERSION, 400 },
    { "GET / HTTP/1\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_BAD_VERSION, 400 },
    { "GET / HTTP/2.0\r\n" H "\r\n", -ENOTSUP, NANO_HTTP_PE_VERSION, 505 },
    { "GET / HTTP/0.9\r\n" H "\r\n", -ENOTSUP, NANO_HTTP_PE_VERSION, 505 },
    { "GET / HTTP/1.1\r\n" H " folded\r\n\r\n", -EPROTO, NANO_HTTP_PE_OBS_FOLD, 400 },
    { "GET / HTTP/1.1\r\n " H "\r\n", -EPROTO, NANO_HTTP_PE_OBS_FOLD, 400 },
    { "GET / HTTP/1.1\r\n\tX: y\r\n" H "\r\n", -EPROTO, NANO_HTTP_PE_OBS_FOLD, 400 },
    { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", -EPROTO, NANO_HTTP_PE_WS_BEFORE_COLON, 400 },
    { "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", -EPROTO, NANO_HTTP_PE_WS_BEFORE_COLON, 400 },
    { "GET / HTTP/1.1\r\n" H "Ho(st: a\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_HEADER_NAME, 400 },
    { "GET / HTTP/1.1\r\n" H ": a\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_HEADER_NAME, 400 },
    { "GET / HTTP/1.1\r\n" H "NoColon\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_HEADER_NAME, 400 },
    { "GET / HTTP/1.1\r\n" H "X: a\x01" "b\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_HEADER_VALUE, 400 },
    { "GET / HTTP/1.1\r\n" H "X: a\x7f\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_HEADER_VALUE, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n", -EPROTO,
      NANO_HTTP_PE_BAD_CONTENT_LENGTH, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", -EPROTO,
      NANO_HTTP_PE_BAD_CONTENT_LENGTH, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", -EPROTO,
      NANO_HTTP_PE_BAD_CONTENT_LENGTH, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n", -EPROTO,
      NANO_HTTP_PE_BAD_CONTENT_LENGTH, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", -EPROTO,
      NANO_HTTP_PE_BAD_CONTENT_LENGTH, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
      -EPROTO, NANO_HTTP_PE_DUP_CONTENT_LENGTH, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\ncontent-length: 6\r\n\r\n",
      -EPROTO, NANO_HTTP_PE_DUP_CONTENT_LENGTH, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: 1048577\r\n\r\n", -EMSGSIZE,
      NANO_HTTP_PE_BODY_TOO_LARGE, 413 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999999\r\n\r\n",
      -EMSGSIZE, NANO_HTTP_PE_BODY_TOO_LARGE, 413 },
    { "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 5"
      "\r\n\r\n", -EPROTO, NANO_HTTP_PE_TE_AND_CL, 400 },
    { "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked"
      "\r\n\r\n", -EPROTO, NANO_HTTP_PE_TE_AND_CL, 400 },
    { "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n",
      -ENOTSUP, NANO_HTTP_PE_UNSUPPORTED_TE, 501 },
    { "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n",
      -EPROTO, NANO_HTTP_PE_BAD_TE, 400 },
    { "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n",
      -EPROTO, NANO_HTTP_PE_BAD_TE, 400 },
    { "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n",
      -EPROTO, NANO_HTTP_PE_BAD_TE, 400 },
    { "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_TE, 400 },
    { "POST / HTTP/1.1\r\n" H "Transfer-Encoding: \"chunked\"\r\n\r\n",
      -EPROTO, NANO_HTTP_PE_BAD_TE, 400 },
    { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -EPROTO,
      NANO_HTTP_PE_TE_IN_HTTP10, 400 },
    { "GET / HTTP/1.1\r\n\r\n", -EPROTO, NANO_HTTP_PE_MISSING_HOST, 400 },
    { "GET / HTTP/1.1\r\n" H H "\r\n", -EPROTO, NANO_HTTP_PE_DUP_HOST, 400 },
    { "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_HOST, 400 },
    { "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_HOST, 400 },
    { NULL, 0, 0, 0 }
};

static void
test_malformed_requests(void)
{
    int n = 0;

    for (const struct bad_case *c = bad_cases; c->text; c++, n++) {
        struct nano_http_error e;
        size_t len = strlen(c->text);
        int rc = nano_http_parse_request((const uint8_t *)c->text, len, NULL,
                                         &head, &e);
        NT_MSG("case %d: %s", n, c->text);
        NT_EQ_INT(rc, c->rc);
        NT_EQ_INT(e.code, c->code);
        NT_EQ_INT(e.status, c->status);
        NT_CHECK(e.reason != NULL && e.reason[0] != '\0');
        check_prefixes(c->text, len, NULL, c->rc, c->code);
    }
    NT_CHECK(n >= 25);
    nt_msgbuf[0] = '\0';
}

/* Cases with embedded NUL bytes need explicit lengths. */
static void
test_nul_bytes(void)
{
    static const char m[] = "GE\0T / HTTP/1.1\r\nHost: a\r\n\r\n";
    static const char t[] = "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n";
    static const char v[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    struct nano_http_error e;

    NT_EQ_INT(nano_http_parse_request((const uint8_t *)m, sizeof m - 1, NULL,
                                      &head, &e), -EPROTO);
    NT_EQ_INT(e.code, NANO_HTTP_PE_BAD_METHOD);
    NT_EQ_INT(nano_http_parse_request((const uint8_t *)t, sizeof t - 1, NULL,
                                      &head, &e), -EPROTO);
    NT_EQ_INT(e.code, NANO_HTTP_PE_BAD_TARGET);
    NT_EQ_INT(nano_http_parse_request((const uint8_t *)v, sizeof v - 1, NULL,
                                      &head, &e), -EPROTO);
    NT_EQ_INT(e.code, NANO_HTTP_PE_BAD_HEADER_VALUE);
    NT_EQ_INT(e.offset, 29);
}

static void
test_size_limits_are_reported_early(void)
{
    static char big[20000];
    struct nano_http_error e;
    size_t n;

    /* a 3000-byte target is 414 as soon as byte 2049 of it is seen */
    n = (size_t)sprintf(big, "GET /");
    memset(big + n, 'x', 3000);
    n += 3000;
    NT_EQ_INT(nano_http_parse_request((uint8_t *)big, n, NULL, &head, &e),
              -EMSGSIZE);
    NT_EQ_INT(e.code, NANO_HTTP_PE_TARGET_TOO_LONG);
    NT_EQ_INT(e.status, 414);
    NT_EQ_INT(e.offset, 4 + 2048);
    NT_EQ_INT(nano_http_parse_request((uint8_t *)big, 2100, NULL, &head, &e),
              -EMSGSIZE);

    /* header name of 65 bytes */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    memset(big + n, 'N', 65);
    n += 65;
    n += (size_t)sprintf(big + n, ": v\r\n\r\n");
    NT_EQ_INT(parse(big, &e), -EMSGSIZE);
    NT_EQ_INT(e.code, NANO_HTTP_PE_NAME_TOO_LONG);
    NT_EQ_INT(e.status, 431);

    /* header value of 4097 bytes */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(big + n, 'v', 4097);
    n += 4097;
    n += (size_t)sprintf(big + n, "\r\n\r\n");
    NT_EQ_INT(parse(big, &e), -EMSGSIZE);
    NT_EQ_INT(e.code, NANO_HTTP_PE_VALUE_TOO_LONG);

    /* 33 fields */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < 33; i++)
        n += (size_t)sprintf(big + n, "X-%d: v\r\n", i);
    n += (size_t)sprintf(big + n, "\r\n");
    NT_EQ_INT(parse(big, &e), -EMSGSIZE);
    NT_EQ_INT(e.code, NANO_HTTP_PE_TOO_MANY_HEADERS);
    NT_EQ_INT(e.status, 431);
    check_prefixes(big, n, NULL, -EMSGSIZE, NANO_HTTP_PE_TOO_MANY_HEADERS);

    /* head over 8 KB made of fields each within limits */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 30; i++) {
        n += (size_t)sprintf(big + n, "X-%d: ", i);
        memset(big + n, 'v', 300);
        n += 300;
        n += (size_t)sprintf(big + n, "\r\n");
    }
    n += (size_t)sprintf(big + n, "\r\n");
    NT_EQ_INT(parse(big, &e), -EMSGSIZE);
    NT_EQ_INT(e.code, NANO_HTTP_PE_HEAD_TOO_LARGE);
    NT_EQ_INT(e.offset, 8192);
    /* and a dribbling client filling exactly head_max without CRLFCRLF */
    NT_EQ_INT(nano_http_parse_request((uint8_t *)big, 8192, NULL, &head, &e),
              -EMSGSIZE);
    NT_EQ_INT(nano_http_parse_request((uint8_t *)big, 8191, NULL, &head, &e),
              -EAGAIN);
}

/* ---- chunked ------------------------------------------------------------- */

/* Decode all of in, feeding it in pieces of `step` bytes (0: whole).
 * Returns 0 and the data in out, or the error; *used gets bytes consumed. */
static int
dechunk(const char *in, size_t len, size_t step, uint64_t max, char *out,
        size_t *out_len, size_t *used, struct nano_http_chunked *d)
{
    size_t off = 0, o = 0;

    nano_http_chunked_init(d, max);
    while (off < len && !nano_http_chunked_done(d)) {
        size_t piece = step ? step : len - off;
        size_t pos = 0;
        if (piece > len - off)
            piece = len - off;
        while (pos < piece && !nano_http_chunked_done(d)) {
            struct nano_span data;
            int n = nano_http_chunked_feed(d, (const uint8_t *)in + off + pos,
                                           piece - pos, &data);
            if (n < 0)
                return n;
            if (n == 0)
                break;
            memcpy(out + o, data.p, data.len);
            o += data.len;
            pos += (size_t)n;
        }
        off += pos;
        if (pos < piece)
            break;
    }
    *out_len = o;
    *used = off;
    out[o] = '\0';
    return nano_http_chunked_done(d) ? 0 : -EAGAIN;
}

static void
test_chunked_valid(void)
{
    /* used 0: all of the input */
    static const struct { const char *in; const char *data; size_t used; } ok[] = {
        { "5\r\nhello\r\n0\r\n\r\n", "hello", 15 },
        { "3;name=val\r\nabc\r\n4 ; q=\"x\\\"y\" ;z\r\ndefg\r\n0\r\n\r\n",
          "abcdefg", 0 },
        { "A\r\n0123456789\r\n0000\r\n\r\n", "0123456789", 0 },
        { "a\r\n0123456789\r\n0\r\nX-Trailer: 1\r\nY:\r\n\r\n", "0123456789", 0 },
        { "0\r\n\r\nGET / HTTP/1.1\r\n", "", 5 },
        { "1\r\nx\r\n1;e=\"\"\r\ny\r\n0;last\r\n\r\n", "xy", 0 },
    };
    char out[256];
    size_t olen, used;
    struct nano_http_chunked d;

    for (size_t i = 0; i < NANO_ARRAY_LEN(ok); i++) {
        size_t len = strlen(ok[i].in);
        NT_MSG("case %zu", i);
        for (size_t step = 0; step <= 3; step++) {
            NT_EQ_INT(dechunk(ok[i].in, len, step, 0, out, &olen, &used, &d), 0);
            NT_EQ_STR(out, ok[i].data);
            NT_EQ_INT(used, ok[i].used ? ok[i].used : len);
            NT_EQ_INT(d.total, strlen(ok[i].data));
        }
    }
    nt_msgbuf[0] = '\0';
    /* incomplete input is -EAGAIN, not an error */
    NT_EQ_INT(dechunk("5\r\nhel", 7, 0, 0, out, &olen, &used, &d), -EAGAIN);
    NT_EQ_STR(out, "hel");
}

static void
test_chunked_malformed(void)
{
    static const struct { const char *in; int rc; enum nano_http_perr code; } bad[] = {
        { "x\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_SIZE },
        { "\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_SIZE },
        { "-5\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_SIZE },
        { "0x5\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_SIZE },
        { "5\nhello", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_SIZE },
        { " 5\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_SIZE },
        { "5 \r\nhello", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_EXT },
        { "5;\r\nhello", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_EXT },
        { "5;a=\r\nhello", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_EXT },
        { "5;a b\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_EXT },
        { "5;a=\"x\x01\"\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_EXT },
        { "5;a=b c\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_EXT },
        { "5\rhello", -EPROTO, NANO_HTTP_PE_BARE_CR },
        { "5\r\nhelloX\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_END },
        { "5\r\nhello\rX", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_END },
        { "5\r\nhello\n0\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_CHUNK_END },
        { "FFFFFFFFFFFFFFFFF\r\n", -EMSGSIZE, NANO_HTTP_PE_CHUNK_TOO_LARGE },
        { "100001\r\n", -EMSGSIZE, NANO_HTTP_PE_CHUNK_TOO_LARGE },
        { "0\r\n Folded: x\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_TRAILER },
        { "0\r\nBad Name: x\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_TRAILER },
        { "0\r\nX: a\x01\r\n\r\n", -EPROTO, NANO_HTTP_PE_BAD_TRAILER },
        { "0\r\n\n", -EPROTO, NANO_HTTP_PE_BARE_LF },
        { "0\r\n\rX", -EPROTO, NANO_HTTP_PE_BARE_CR },
    };
    char out[256];
    size_t olen, used;
    struct nano_http_chunked d;

    for (size_t i = 0; i < NANO_ARRAY_LEN(bad); i++) {
        NT_MSG("case %zu: %s", i, bad[i].in);
        for (size_t step = 0; step <= 2; step++) {
            NT_EQ_INT(dechunk(bad[i].in, strlen(bad[i].in), step, 0, out, &olen,
                              &used, &d), bad[i].rc);
            NT_EQ_INT(d.err.code, bad[i].code);
        }
    }
    nt_msgbuf[0] = '\0';

    /* the total of several chunks is bounded too */
    NT_EQ_INT(dechunk("4\r\nabcd\r\n4\r\nefgh\r\n", 18, 0, 6, out, &olen, &used,
                      &d), -EMSGSIZE);
    NT_EQ_INT(d.total, 4);   /* the second chunk is refused at its size line */
    NT_EQ_INT(d.err.status, 413);
    /* an extension that never ends is cut off at 1 KB */
    static char ext[3000];
    memcpy(ext, "5;a=", 4);
    memset(ext + 4, 'b', sizeof ext - 5);
    NT_EQ_INT(dechunk(ext, strlen(ext), 0, 0, out, &olen, &used, &d), -EPROTO);
    NT_EQ_INT(d.err.code, NANO_HTTP_PE_BAD_CHUNK_EXT);
    NT_EQ_INT(d.err.offset, 1024);
    /* a failed decoder stays failed */
    struct nano_span sp;
    NT_EQ_INT(nano_http_chunked_feed(&d, (const uint8_t *)"0\r\n\r\n", 5, &sp),
              -EPROTO);
}

/* ---- responses ------------------------------------------------------------- */

static void
test_response_heads(void)
{
    static struct nano_http_response_head r;
    struct nano_http_error e;
    const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

    NT_EQ_INT(nano_http_parse_response((const uint8_t *)a, strlen(a), NULL, &r,
                                       &e), (int)strlen(a) - 2);
    NT_EQ_INT(r.status, 200);
    NT_CHECK(span_is(r.reason, "OK"));
    NT_EQ_INT(r.framing, NANO_HTTP_BODY_LENGTH);
    NT_EQ_INT(r.content_length, 2);
    NT_CHECK(r.keep_alive);

    const char *b = "HTTP/1.1 204\r\nContent-Length: 10\r\n\r\n";
    NT_CHECK(nano_http_parse_response((const uint8_t *)b, strlen(b), NULL, &r,
                                      &e) > 0);
    NT_EQ_INT(r.status, 204);
    NT_EQ_INT(r.framing, NANO_HTTP_BODY_NONE);
    NT_EQ_INT(r.reason.len, 0);

    const char *c = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\n";
    NT_CHECK(nano_http_parse_response((const uint8_t *)c, strlen(c), NULL, &r,
                                      &e) > 0);
    NT_EQ_INT(r.framing, NANO_HTTP_BODY_CLOSE);
    NT_CHECK(!r.keep_alive);

    const char *d = "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: "
                    "chunked\r\nConnection: close\r\n\r\n";
    NT_CHECK(nano_http_parse_response((const uint8_t *)d, strlen(d), NULL, &r,
                                      &e) > 0);
    NT_EQ_INT(r.status, 503);
    NT_EQ_INT(r.framing, NANO_HTTP_BODY_CHUNKED);
    NT_CHECK(!r.keep_alive);

    const char *bad[] = {
        "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 600 X\r\n\r\n", "HTTP/2 200\r\n\r\n",
        "HTTX/1.1 200 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\nX: y\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n",
        "HTTP/3.0 200 OK\r\n\r\n", NULL,
    };
    for (int i = 0; bad[i]; i++) {
        NT_MSG("bad response %d", i);
        NT_EQ_INT(nano_http_parse_response((const uint8_t *)bad[i],
                                           strlen(bad[i]), NULL, &r, &e),
                  -EPROTO);
        NT_EQ_INT(e.status, 0);
    }
    nt_msgbuf[0] = '\0';
    const char *dup = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: "
                      "1\r\n\r\n";
    NT_EQ_INT(nano_http_parse_response((const uint8_t *)dup, strlen(dup), NULL,
                                       &r, &e), -EPROTO);
    NT_EQ_INT(e.code, NANO_HTTP_PE_DUP_CONTENT_LENGTH);
    const char *huge = "HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n";
    NT_EQ_INT(nano_http_parse_response((const uint8_t *)huge, strlen(huge),
                                       NULL, &r, &e), -EMSGSIZE);
    NT_EQ_INT(e.code, NANO_HTTP_PE_BODY_TOO_LARGE);
    NT_EQ_INT(nano_http_parse_response((const uint8_t *)a, 10, NULL, &r, &e),
              -EAGAIN);
}

/* ---- percent-decoding and URLs ----------------------------------------------- */

static void
test_pct_decode(void)
{
    char o[32];

    NT_EQ_INT(nano_http_pct_decode("%41%62c", 7, o, sizeof o, false), 3);
    NT_EQ_STR(o, "Abc");
    NT_EQ_INT(nano_http_pct_decode("sensors%2f%23", 13, o, sizeof o, false), 9);
    NT_EQ_STR(o, "sensors/#");
    NT_EQ_INT(nano_http_pct_decode("caf%C3%A9", 9, o, sizeof o, false), 5);
    NT_EQ_STR(o, "caf\xc3\xa9");
    NT_EQ_INT(nano_http_pct_decode("a+b", 3, o, sizeof o, true), 3);
    NT_EQ_STR(o, "a b");
    NT_EQ_INT(nano_http_pct_decode("a+b", 3, o, sizeof o, false), 3);
    NT_EQ_STR(o, "a+b");
    NT_EQ_INT(nano_http_pct_decode("%2B", 3, o, sizeof o, true), 1);
    NT_EQ_STR(o, "+");
    NT_EQ_INT(nano_http_pct_decode("", 0, o, sizeof o, false), 0);
    NT_EQ_STR(o, "");
    NT_EQ_INT(nano_http_pct_decode("%", 1, o, sizeof o, false), -EINVAL);
    NT_EQ_INT(nano_http_pct_decode("a%4", 3, o, sizeof o, false), -EINVAL);
    NT_EQ_INT(nano_http_pct_decode("%zz", 3, o, sizeof o, false), -EINVAL);
    NT_EQ_INT(nano_http_pct_decode("%4g", 3, o, sizeof o, false), -EINVAL);
    NT_EQ_INT(nano_http_pct_decode("a%00b", 5, o, sizeof o, false), -EINVAL);
    /* the length bounds the read: "%41" cut to "%4" is malformed */
    NT_EQ_INT(nano_http_pct_decode("%41", 2, o, sizeof o, false), -EINVAL);
    NT_EQ_INT(nano_http_pct_decode("abcd", 4, o, 4, false), -ENOSPC);
    NT_EQ_INT(nano_http_pct_decode("abcd", 4, o, 5, false), 4);
    NT_EQ_INT(nano_http_pct_decode("%41%41", 6, o, 3, false), 2);
    NT_EQ_INT(nano_http_pct_decode("x", 1, o, 0, false), -ENOSPC);
}

static void
test_url_parse(void)
{
    struct nano_http_url u;
    const char *s = "http://127.0.0.1:8080/hook/a?x=1&y#frag";

    NT_EQ_INT(nano_http_url_parse(s, strlen(s), &u), NANO_OK);
    NT_CHECK(!u.tls);
    NT_CHECK(span_is(u.host, "127.0.0.1"));
    NT_EQ_INT(u.port, 8080);
    NT_CHECK(span_is(u.path, "/hook/a"));
    NT_CHECK(u.has_query && span_is(u.query, "x=1&y"));
    s = "HTTPS://example.com";
    NT_EQ_INT(nano_http_url_parse(s, strlen(s), &u), NANO_OK);
    NT_CHECK(u.tls);
    NT_EQ_INT(u.port, 443);
    NT_CHECK(span_is(u.path, "/"));
    s = "http://[::1]:99?q";
    NT_EQ_INT(nano_http_url_parse(s, strlen(s), &u), NANO_OK);
    NT_CHECK(span_is(u.host, "::1"));
    NT_EQ_INT(u.port, 99);
    NT_CHECK(span_is(u.path, "/") && span_is(u.query, "q"));
    s = "http://localhost/";
    NT_EQ_INT(nano_http_url_parse(s, strlen(s), &u), NANO_OK);
    NT_EQ_INT(u.port, 80);

    static const struct { const char *u; int rc; } bad[] = {
        { "ftp://x/", -EPROTONOSUPPORT }, { "mqtt://x", -EPROTONOSUPPORT },
        { "http://u:p@h/", -EINVAL }, { "http:///x", -EINVAL },
        { "http://h:0/", -EINVAL }, { "http://h:65536/", -EINVAL },
        { "http://h:/", -EINVAL }, { "http://h:8x/", -EINVAL },
        { "http://h/a b", -EINVAL }, { "http://h/\r\nX: y", -EINVAL },
        { "http://[::1/", -EINVAL }, { "http://[]/", -EINVAL },
        { "http//h/", -EINVAL }, { "h/x", -EINVAL }, { "", -EINVAL },
        { "http://h!/", -EINVAL },
    };
    for (size_t i = 0; i < NANO_ARRAY_LEN(bad); i++) {
        NT_MSG("url %s", bad[i].u);
        NT_EQ_INT(nano_http_url_parse(bad[i].u, strlen(bad[i].u), &u), bad[i].rc);
    }
}

static void
test_helpers(void)
{
    struct nano_span s = { (const uint8_t *)"Keep-Alive , Upgrade,,x", 23 };

    NT_CHECK(nano_http_list_has(s, "keep-alive"));
    NT_CHECK(nano_http_list_has(s, "UPGRADE"));
    NT_CHECK(nano_http_list_has(s, "x"));
    NT_CHECK(!nano_http_list_has(s, "close"));
    NT_EQ_STR(nano_http_status_text(404), "Not Found");
    NT_EQ_STR(nano_http_status_text(431), "Request Header Fields Too Large");
    NT_EQ_STR(nano_http_status_text(299), "Unknown");
    NT_EQ_STR(nano_http_method_name(NANO_HTTP_PATCH), "PATCH");
    NT_CHECK(nano_http_method_name(NANO_HTTP_OTHER) == NULL);
    NT_EQ_STR(nano_http_perr_name(NANO_HTTP_PE_OBS_FOLD), "OBS_FOLD");
}

NT_LIST = {
    { "simple_get", test_simple_get },
    { "query_split_and_lookup", test_query_split_and_lookup },
    { "keep_alive_rules", test_keep_alive_rules },
    { "bodies_framing", test_bodies_framing },
    { "forms_and_shapes", test_forms_and_shapes },
    { "limits_at_the_edge", test_limits_at_the_edge },
    { "malformed_requests", test_malformed_requests },
    { "nul_bytes", test_nul_bytes },
    { "size_limits_are_reported_early", test_size_limits_are_reported_early },
    { "chunked_valid", test_chunked_valid },
    { "chunked_malformed", test_chunked_malformed },
    { "response_heads", test_response_heads },
    { "pct_decode", test_pct_decode },
    { "url_parse", test_url_parse },
    { "helpers", test_helpers },
    { NULL, NULL }
};
