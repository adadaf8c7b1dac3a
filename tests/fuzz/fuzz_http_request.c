/* fuzz_http_request.c - libFuzzer target for the request-side parsers.
 *
 * The first input byte picks the limits (defaults or small ones, so limit
 * paths are reachable) and a split point; the rest is the message.
 * Checked on every input:
 *   - the request parser never reads outside the input and its spans lie
 *     inside it;
 *   - prefix consistency: the parse of any prefix (here: the chosen split)
 *     is -EAGAIN or exactly the whole-buffer result, and a complete head
 *     parses the same from just its own bytes;
 *   - the chunked decoder, fed the bytes after the head (or the whole input)
 *     in one piece and then in two pieces split anywhere, produces the same
 *     data, consumes the same bytes and ends in the same state or error;
 *   - percent-decoding and query lookup on the parsed path and query.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_parse.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct nano_http_limits small_limits = {
    .method_max = 5, .target_max = 40, .header_name_max = 12,
    .header_value_max = 30, .headers_max = 4, .head_max = 160, .body_max = 100,
};

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
check_span(struct nano_span s, const uint8_t *buf, size_t len)
{
    static const uint8_t *slash;

    if (s.len == 0)
        return;
    /* inside the input, or the static "/" of an absolute-form target */
    if (s.p >= buf && s.p + s.len <= buf + len)
        return;
    check(s.len == 1 && s.p[0] == '/');
    if (!slash)
        slash = s.p;
    check(s.p == slash);
}

struct dechunked {
    int      rc;          /* last return: 0 or error */
    size_t   used;
    bool     done;
    int      code;
    size_t   out_len;
    uint8_t *out;
};

/* Feed in[0..len) to d; append data to r->out. */
static void
feed(struct nano_http_chunked *d, const uint8_t *in, size_t len,
     struct dechunked *r)
{
    size_t pos = 0;

    while (pos < len && !nano_http_chunked_done(d) && r->rc == 0) {
        struct nano_span sp;
        int n = nano_http_chunked_feed(d, in + pos, len - pos, &sp);
        if (n < 0) {
            r->rc = n;
            r->code = d->err.code;
            break;
        }
        check(n > 0);
        check(sp.len <= (size_t)n);
        check(sp.len == 0 || (sp.p >= in + pos && sp.p + sp.len <= in + pos + n));
        memcpy(r->out + r->out_len, sp.p, sp.len);
        r->out_len += sp.len;
        pos += (size_t)n;
    }
    r->used += pos;
    r->done = nano_http_chunked_done(d);
}

static void
fuzz_chunked(const uint8_t *in, size_t len, size_t split, uint64_t max)
{
    struct nano_http_chunked d1, d2;
    struct dechunked a = { 0 }, b = { 0 };

    a.out = malloc(len + 1);
    b.out = malloc(len + 1);
    nano_http_chunked_init(&d1, max);
    feed(&d1, in, len, &a);
    nano_http_chunked_init(&d2, max);
    feed(&d2, in, split, &b);
    if (b.rc == 0 && !b.done)
        feed(&d2, in + split, len - split, &b);
    check(a.rc == b.rc && a.code == b.code && a.done == b.done);
    check(a.out_len == b.out_len && memcmp(a.out, b.out, a.out_len) == 0);
    if (a.rc == 0)
        check(a.used == b.used);
    check(a.out_len <= (max ? max : nano_http_limits_default.body_max));
    check(d1.total == a.out_len);
    free(a.out);
    free(b.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct nano_http_request_head h1, h2;
    struct nano_http_error e1, e2;
    const struct nano_http_limits *lim;
    size_t split, body_off = 0;
    int rc1, rc2;

    if (size < 1)
        return 0;
    lim = (data[0] & 1) ? &small_limits : NULL;
    split = size > 1 ? (size_t)(data[0] >> 1) * (size - 1) / 127 : 0;
    data++;
    size--;
    if (split > size)
        split = size;

    rc1 = nano_http_parse_request(data, size, lim, &h1, &e1);
    check(rc1 > 0 || rc1 == -EAGAIN || rc1 == -EPROTO || rc1 == -EMSGSIZE ||
          rc1 == -ENOTSUP);
    rc2 = nano_http_parse_request(data, split, lim, &h2, &e2);
    check(rc2 == -EAGAIN || (rc2 == rc1 && e2.code == e1.code &&
                             e2.offset == e1.offset));
    if (rc1 < 0 && rc1 != -EAGAIN)
        check(e1.code != NANO_HTTP_PE_NONE && e1.status >= 400 && e1.reason);
    if (rc1 > 0) {
        size_t head_max = lim ? lim->head_max : nano_http_limits_default.head_max;
        char tmp[4096];
        check((size_t)rc1 <= size && (size_t)rc1 <= head_max);
        check(h1.head_len == (uint32_t)rc1);
        check(h1.nheaders <= NANO_HTTP_MAX_HEADERS);
        check_span(h1.method, data, size);
        check_span(h1.target, data, size);
        check_span(h1.path, data, size);
        check_span(h1.query, data, size);
        check_span(h1.host, data, size);
        for (uint32_t i = 0; i < h1.nheaders; i++) {
            check(h1.headers[i].name.len > 0);
            check_span(h1.headers[i].name, data, size);
            check_span(h1.headers[i].value, data, size);
        }
        check(h1.framing != NANO_HTTP_BODY_CLOSE);
        /* the head alone parses the same */
        rc2 = nano_http_parse_request(data, (size_t)rc1, lim, &h2, &e2);
        check(rc2 == rc1 && h2.nheaders == h1.nheaders &&
              h2.framing == h1.framing && h2.keep_alive == h1.keep_alive &&
              h2.content_length == h1.content_length &&
              h2.path.len == h1.path.len);
        /* helpers on what was parsed */
        if (nano_http_pct_decode((const char *)h1.path.p, h1.path.len, tmp,
                                 sizeof tmp, false) >= 0)
            check(strlen(tmp) <= h1.path.len);
        if (h1.query.len) {
            int n = nano_http_query_get(h1.query, "filter", tmp, sizeof tmp);
            check(n == -ENOENT || n == -EINVAL || n == -ENOSPC ||
                  (n >= 0 && (size_t)n <= h1.query.len));
        }
        body_off = (size_t)rc1;
    }
    if (split < body_off)
        split = body_off;
    fuzz_chunked(data + body_off, size - body_off, split - body_off,
                 lim ? lim->body_max : 0);
    return 0;
}
