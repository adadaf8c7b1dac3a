/* fuzz_http_response.c - libFuzzer target for the client-side parsers:
 * status line and header fields (whole and split at a point chosen by the
 * first byte must agree), the body framing that follows (chunked bodies are
 * decoded, lengths checked against the limit), and the URL splitter and
 * query lookup on the same bytes read as a string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_parse.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static bool
inside(struct nano_span s, const uint8_t *buf, size_t len)
{
    return s.len == 0 || (s.p >= buf && s.p + s.len <= buf + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct nano_http_response_head r1, r2;
    struct nano_http_error e1, e2;
    struct nano_http_url u;
    size_t split;
    char *s;
    int rc1, rc2;

    if (size < 1)
        return 0;
    split = size > 1 ? (size_t)data[0] * (size - 1) / 255 : 0;
    data++;
    size--;
    if (split > size)
        split = size;

    rc1 = nano_http_parse_response(data, size, NULL, &r1, &e1);
    check(rc1 > 0 || rc1 == -EAGAIN || rc1 == -EPROTO || rc1 == -EMSGSIZE);
    rc2 = nano_http_parse_response(data, split, NULL, &r2, &e2);
    check(rc2 == -EAGAIN || (rc2 == rc1 && e2.code == e1.code));
    if (rc1 < 0 && rc1 != -EAGAIN)
        check(e1.status == 0 && e1.code != NANO_HTTP_PE_NONE);
    if (rc1 > 0) {
        check(r1.status >= 100 && r1.status <= 599);
        check(inside(r1.reason, data, size));
        for (uint32_t i = 0; i < r1.nheaders; i++)
            check(inside(r1.headers[i].name, data, size) &&
                  inside(r1.headers[i].value, data, size));
        if (r1.framing == NANO_HTTP_BODY_LENGTH)
            check(r1.content_length > 0 &&
                  r1.content_length <= nano_http_limits_default.body_max);
        if (r1.framing == NANO_HTTP_BODY_CLOSE)
            check(!r1.keep_alive);
        if (r1.framing == NANO_HTTP_BODY_CHUNKED) {
            struct nano_http_chunked d;
            size_t pos = (size_t)rc1;
            nano_http_chunked_init(&d, 0);
            while (pos < size && !nano_http_chunked_done(&d)) {
                struct nano_span sp;
                int n = nano_http_chunked_feed(&d, data + pos, size - pos, &sp);
                if (n < 0)
                    break;
                check(n > 0 && inside(sp, data + pos, (size_t)n));
                pos += (size_t)n;
            }
        }
    }

    /* the same bytes as a URL and a query string */
    s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    rc1 = nano_http_url_parse(s, size, &u);
    check(rc1 == NANO_OK || rc1 == -EINVAL || rc1 == -EPROTONOSUPPORT);
    if (rc1 == NANO_OK) {
        check(u.port > 0 && u.host.len > 0);
        check(inside(u.host, data, size) || inside(u.host, (uint8_t *)s, size));
        for (size_t i = 0; i < u.path.len; i++)
            check(u.path.p[i] > 0x20 && u.path.p[i] < 0x7f);
    }
    {
        struct nano_span q = { (const uint8_t *)s, size };
        char out[64];
        int n = nano_http_query_get(q, "a", out, sizeof out);
        check(n == -ENOENT || n == -EINVAL || n == -ENOSPC ||
              (n >= 0 && (size_t)n < sizeof out && strlen(out) == (size_t)n));
    }
    free(s);
    return 0;
}
