/* SPDX-License-Identifier: MIT
 *
 * http_parse.h - HTTP/1.1 message parsing (RFC 9112): request heads,
 * response heads, the chunked transfer coding, URL and query helpers.
 *
 * Pure: no I/O, no allocation, no globals beyond const tables.  Every
 * function works on caller memory and every length is limited by a
 * struct nano_http_limits.  The server, the client and the blocking CLI
 * client all share these parsers, and tests/fuzz/fuzz_http_request.c and
 * fuzz_http_response.c fuzz them.
 *
 * Incremental parsing is "parse again from the start" (as picohttpparser
 * does): the caller keeps the bytes received so far in one buffer and calls
 * the parser after each read.  The parsers are prefix-consistent: for any
 * prefix of a message the result is either -EAGAIN or exactly the result of
 * parsing the whole message, so a peer cannot change the outcome by choosing
 * where its segments end.  An error is reported as soon as the bytes seen so
 * far prove it (a 3 KB target is a 414 before its end arrives).
 *
 * Strictness is deliberate (request smuggling defences, RFC 9112 section 11.2):
 * bare CR, bare LF, obs-fold, whitespace before a colon, invalid token
 * characters, duplicate or malformed Content-Length, Content-Length together
 * with Transfer-Encoding, any transfer coding other than a single final
 * "chunked", and Transfer-Encoding in HTTP/1.0 are all rejected.
 *
 * Memory: every struct nano_span in the outputs points into the caller's
 * input buffer (Returns borrowed; valid while that buffer is unchanged),
 * except a synthesised "/" path for absolute-form targets without one,
 * which points to a static string.
 */
#ifndef NANO_API_HTTP_PARSE_H
#define NANO_API_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Size of the header array in the parsed heads; limits.headers_max is
 * clamped to it.  32 headers cost 512 bytes on 32-bit targets. */
#ifndef NANO_HTTP_MAX_HEADERS
#define NANO_HTTP_MAX_HEADERS 32
#endif

struct nano_http_limits {
    uint32_t method_max;        /* bytes in the method token (16) */
    uint32_t target_max;        /* bytes in the request target (2048) */
    uint32_t header_name_max;   /* bytes in one field name (64) */
    uint32_t header_value_max;  /* bytes in one field value (4096) */
    uint32_t headers_max;       /* fields per head (32) */
    uint32_t head_max;          /* whole head incl. final CRLF (8192) */
    uint64_t body_max;          /* decoded body bytes (1 MiB) */
};

/* The defaults above; passing NULL limits to any parser means these. */
extern const struct nano_http_limits nano_http_limits_default;

/* ---- errors ---------------------------------------------------------------
 *
 * One row per way a message can be refused: symbolic code, the HTTP status
 * a server answers with (0 where only a client can see it), and a reason
 * sentence that also goes into the JSON error body.
 */
#define NANO_HTTP_PERRORS(X)                                                  \
    X(NONE,               0,   "no error")                                    \
    X(BARE_CR,            400, "CR not followed by LF")                       \
    X(BARE_LF,            400, "LF without CR")                               \
    X(BAD_REQUEST_LINE,   400, "malformed request line")                      \
    X(BAD_METHOD,         400, "invalid method token")                        \
    X(METHOD_TOO_LONG,    501, "method not implemented (too long)")           \
    X(BAD_TARGET,         400, "invalid request target")                      \
    X(TARGET_TOO_LONG,    414, "request target too long")                     \
    X(BAD_VERSION,        400, "malformed HTTP version")                      \
    X(VERSION,            505, "HTTP version not supported")                  \
    X(OBS_FOLD,           400, "line starts with whitespace (obs-fold)")      \
    X(WS_BEFORE_COLON,    400, "whitespace before colon in header field")     \
    X(BAD_HEADER_NAME,    400, "invalid header field name")                   \
    X(BAD_HEADER_VALUE,   400, "invalid character in header field value")     \
    X(NAME_TOO_LONG,      431, "header field name too long")                  \
    X(VALUE_TOO_LONG,     431, "header field value too long")                 \
    X(TOO_MANY_HEADERS,   431, "too many header fields")                      \
    X(HEAD_TOO_LARGE,     431, "message head too large")                      \
    X(BAD_CONTENT_LENGTH, 400, "invalid Content-Length")                      \
    X(DUP_CONTENT_LENGTH, 400, "more than one Content-Length")                \
    X(BODY_TOO_LARGE,     413, "body larger than allowed")                    \
    X(TE_AND_CL,          400, "both Transfer-Encoding and Content-Length")   \
    X(BAD_TE,             400, "chunked is not the single final coding")      \
    X(UNSUPPORTED_TE,     501, "unsupported transfer coding")                 \
    X(TE_IN_HTTP10,       400, "Transfer-Encoding in an HTTP/1.0 message")    \
    X(MISSING_HOST,       400, "HTTP/1.1 request without Host")               \
    X(DUP_HOST,           400, "more than one Host")                          \
    X(BAD_HOST,           400, "invalid Host")                                \
    X(BAD_STATUS_LINE,    0,   "malformed status line")                       \
    X(BAD_CHUNK_SIZE,     400, "invalid chunk size")                          \
    X(CHUNK_TOO_LARGE,    413, "chunked body larger than allowed")            \
    X(BAD_CHUNK_EXT,      400, "invalid chunk extension")                     \
    X(BAD_CHUNK_END,      400, "chunk data not followed by CRLF")             \
    X(BAD_TRAILER,        400, "invalid trailer field")

enum nano_http_perr {
#define NANO_HTTP_PE_ENUM(name, status, text) NANO_HTTP_PE_##name,
    NANO_HTTP_PERRORS(NANO_HTTP_PE_ENUM)
#undef NANO_HTTP_PE_ENUM
    NANO_HTTP_PE_COUNT
};

struct nano_http_error {
    enum nano_http_perr code;
    uint16_t            status;   /* what a server answers; 0 if none */
    uint32_t            offset;   /* byte where the problem was seen */
    const char         *reason;   /* static sentence */
};

/* Parsers map statuses to return codes: 400 -> -EPROTO, 413/414/431 ->
 * -EMSGSIZE, 501/505 -> -ENOTSUP, response errors -> -EPROTO. */

const char *nano_http_perr_name(enum nano_http_perr code);   /* "BARE_CR" */

/* ---- common -------------------------------------------------------------- */

enum nano_http_method {
    NANO_HTTP_OTHER = 0,
    NANO_HTTP_GET,
    NANO_HTTP_HEAD,
    NANO_HTTP_POST,
    NANO_HTTP_PUT,
    NANO_HTTP_DELETE,
    NANO_HTTP_PATCH,
    NANO_HTTP_OPTIONS,
};

struct nano_http_header {
    struct nano_span name;    /* as sent; compare case-insensitively */
    struct nano_span value;   /* leading and trailing OWS removed */
};

/* How the body of a message is delimited. */
enum nano_http_framing {
    NANO_HTTP_BODY_NONE,      /* no body */
    NANO_HTTP_BODY_LENGTH,    /* content_length bytes */
    NANO_HTTP_BODY_CHUNKED,   /* chunked coding */
    NANO_HTTP_BODY_CLOSE,     /* until the connection closes (responses) */
};

/* ---- requests ------------------------------------------------------------ */

struct nano_http_request_head {
    struct nano_span        method;
    enum nano_http_method   method_id;
    struct nano_span        target;       /* raw request-target */
    struct nano_span        path;         /* raw (percent-encoded) path */
    struct nano_span        query;        /* after '?', raw; len 0 if none */
    bool                    has_query;    /* a '?' was present */
    uint8_t                 version_minor;/* 0 or 1 (1.x, x > 1, is 1) */
    bool                    keep_alive;   /* RFC 9112 9.3 decision */
    bool                    expect_continue;
    enum nano_http_framing  framing;      /* NONE, LENGTH or CHUNKED */
    uint64_t                content_length;
    struct nano_span        host;         /* Host value; len 0 if absent */
    uint32_t                head_len;     /* bytes of the head */
    uint32_t                nheaders;
    struct nano_http_header headers[NANO_HTTP_MAX_HEADERS];
};

/*
 * nano_http_parse_request - parse a request head from buf[0..len).
 *
 * Returns the bytes of the complete head (> 0; leading empty lines
 * included), -EAGAIN when more bytes are needed, or a negative error
 * (-EPROTO, -EMSGSIZE, -ENOTSUP) with *err saying why and which status to
 * answer.  out is undefined unless the head is complete.
 *
 * Borrows buf, lim (NULL: defaults); spans in out point into buf
 * (Returns borrowed; valid while buf is unchanged).
 */
int nano_http_parse_request(const uint8_t *buf, size_t len,
                            const struct nano_http_limits *lim,
                            struct nano_http_request_head *out,
                            struct nano_http_error *err);

/* ---- responses ----------------------------------------------------------- */

struct nano_http_response_head {
    uint16_t                status;
    uint8_t                 version_minor;
    struct nano_span        reason;
    bool                    keep_alive;
    enum nano_http_framing  framing;     /* for a response to a non-HEAD request */
    uint64_t                content_length;
    uint32_t                head_len;
    uint32_t                nheaders;
    struct nano_http_header headers[NANO_HTTP_MAX_HEADERS];
};

/*
 * nano_http_parse_response - parse a status line and header fields.
 *
 * Same contract as nano_http_parse_request().  1xx, 204 and 304 responses
 * get framing NONE; a caller that sent HEAD must ignore the framing itself.
 * A length above lim->body_max is BODY_TOO_LARGE.
 */
int nano_http_parse_response(const uint8_t *buf, size_t len,
                             const struct nano_http_limits *lim,
                             struct nano_http_response_head *out,
                             struct nano_http_error *err);

/* First field called name (case-insensitive) among headers[0..n), or a span
 * with p == NULL.  Returns borrowed, like the headers. */
struct nano_span nano_http_find_header(const struct nano_http_header *headers,
                                       size_t n, const char *name);

/* ---- chunked transfer coding (RFC 9112 section 7.1) ------------------------
 *
 * A decoder that yields the data bytes as spans into the input, so nothing
 * is copied by the decoder itself.  Extensions are checked against the
 * grammar and ignored; trailer fields are checked and discarded.
 */
struct nano_http_chunked {
    uint64_t               remaining;   /* private: data left in this chunk */
    uint64_t               total;       /* read-only: data bytes so far */
    uint64_t               max;         /* private: limit on total */
    uint64_t               fed;         /* private: bytes consumed so far */
    uint32_t               line_len;    /* private */
    uint16_t               trailers;    /* private */
    uint8_t                state;       /* private */
    uint8_t                digits;      /* private */
    struct nano_http_error err;         /* read-only: set on failure */
};

/* max: limit on the decoded body (0: nano_http_limits_default.body_max). */
void nano_http_chunked_init(struct nano_http_chunked *d, uint64_t max);

/*
 * nano_http_chunked_feed - decode some of in[0..len).
 *
 * Returns the bytes consumed (>= 1 when len > 0 and the body is not
 * finished; 0 only when len == 0 or it is finished) and *data_out, the body
 * bytes found (a span inside the consumed part, possibly empty).  The
 * caller loops until it has consumed everything or nano_http_chunked_done().
 * Once done, the bytes after the final CRLF belong to the next message.
 * Errors: -EPROTO (malformed) or -EMSGSIZE (over max) with d->err set;
 * the decoder then stays failed.
 *
 * Borrows in; *data_out points into it.
 */
int nano_http_chunked_feed(struct nano_http_chunked *d, const uint8_t *in,
                           size_t len, struct nano_span *data_out);

bool nano_http_chunked_done(const struct nano_http_chunked *d);

/* ---- URLs, percent-encoding, queries ----------------------------------- */

/*
 * nano_http_pct_decode - decode %XX escapes of in[0..len) into out[0..cap)
 * and NUL-terminate.  With plus_is_space ('+' in form-encoded queries)
 * '+' becomes ' '.
 *
 * Returns the decoded length, -EINVAL for a malformed escape or one that
 * decodes to NUL (decoded text is used as a C string), or -ENOSPC when out
 * is too small (len + 1 always suffices).
 */
int nano_http_pct_decode(const char *in, size_t len, char *out, size_t cap,
                         bool plus_is_space);

/*
 * nano_http_query_get - value of the first parameter called name in a raw
 * query string ("a=1&filter=sensors%2F%23"), decoded into out.
 *
 * Keys are compared after decoding.  "a" and "a=" both give "".
 * Returns the value's length, -ENOENT if absent, -EINVAL / -ENOSPC from
 * decoding.  Borrows query.
 */
int nano_http_query_get(struct nano_span query, const char *name, char *out,
                        size_t cap);

struct nano_http_url {
    bool             tls;        /* https */
    struct nano_span host;       /* without brackets for IPv6 literals */
    uint16_t         port;       /* explicit or 80 / 443 */
    struct nano_span path;       /* "/" (static) if empty; no query */
    struct nano_span query;      /* after '?'; no fragment */
    bool             has_query;
};

/*
 * nano_http_url_parse - split an absolute http:// or https:// URL.
 *
 * Returns NANO_OK, -EPROTONOSUPPORT for any other scheme, or -EINVAL
 * (userinfo, bad port, characters that cannot go on a request line).
 * Borrows url; spans point into it (or to a static "/").
 */
int nano_http_url_parse(const char *url, size_t len, struct nano_http_url *out);

/* ---- small helpers shared by server and client --------------------------- */

/* "GET" -> NANO_HTTP_GET; anything else NANO_HTTP_OTHER. */
enum nano_http_method nano_http_method_from(struct nano_span m);
const char *nano_http_method_name(enum nano_http_method m);  /* NULL: OTHER */

/* Reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *nano_http_status_text(int status);

/* Case-insensitive compare of a span with a C string. */
bool nano_http_span_ieq(struct nano_span s, const char *str);

/* True when the comma-separated list in s contains token (case-insensitive),
 * e.g. Connection: "keep-alive, Upgrade" contains "upgrade". */
bool nano_http_list_has(struct nano_span s, const char *token);

#endif
