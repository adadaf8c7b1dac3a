/* SPDX-License-Identifier: MIT
 *
 * http_client.h - HTTP/1.1 clients: an asynchronous one on the event loop
 * (webhooks from the rule engine) and a small blocking one over a Unix
 * socket (nanoctl talking to nanod).
 *
 * ---- Asynchronous client ---------------------------------------------------
 *
 * Never blocks the loop.  Connections are non-blocking; each host:port has a
 * pool of keep-alive connections (at most max_conns_per_host, excess calls
 * wait in order).  IP literals and "localhost" are used directly; other
 * names are resolved by getaddrinfo() on one worker thread the client
 * starts on first use, and cached for dns_ttl_ms.  The worker hands results
 * back through an eventfd watched by the loop (not nano_loop_post(): a
 * posted item cannot be withdrawn, so a client freed with a lookup in flight
 * would leave the loop a dangling work item).
 *
 * Deadlines: connect_timeout_ms per connection attempt, and one total
 * deadline per call covering waiting, resolution, connecting, retries,
 * sending and receiving.
 *
 * Retries (at most max_retries, backoff_ms doubling each time, never past
 * the total deadline) happen when the connection fails before a response
 * (refused, reset, connect timeout, unresolvable name, a pooled connection
 * the server had closed) and, unless NANO_HTTP_NO_RETRY_5XX, when the
 * response is a 5xx.  Idempotency: a POST retried after a reset or a 5xx
 * may reach the server twice (the first attempt may have been processed).
 * Webhook receivers should deduplicate (send an id in the body or a
 * header); set max_retries to 0 for calls that must never repeat.  Retries
 * after a failed connect are always safe: nothing was sent.
 *
 * TLS is not built in: https:// URLs fail with -EPROTONOSUPPORT ("TLS not
 * configured").  A TLS module would add a transport here.
 *
 * Memory: per call, one allocation holding the call state and the request
 * bytes (a copy of the body, needed for retries); per connection, a struct
 * plus a head buffer and the response body while receiving.  Idle pooled
 * connections hold only their struct.
 *
 * ---- Blocking Unix-socket client ------------------------------------------
 *
 * For nanoctl, which has nothing else to do while it waits.  One request per
 * connection (Connection: close).  Errors callers must tell apart:
 * -ENOENT (no socket file: nanod not running or another path),
 * -ECONNREFUSED (a file but nobody listening: nanod died), -ETIMEDOUT,
 * -ECONNRESET (closed before a whole response), -EPROTO (not HTTP),
 * -ENOSPC (the response body exceeds the caller's buffer maximum).
 */
#ifndef NANO_API_HTTP_CLIENT_H
#define NANO_API_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http_parse.h"
#include "core/buf.h"

struct nano_loop;
struct nano_http_client;

struct nano_http_client_opts {
    struct nano_http_limits limits;  /* response heads; body_max bounds bodies */
    uint32_t max_conns_per_host;     /* 4 */
    uint32_t max_hosts;              /* host:port pools kept (16) */
    uint32_t max_pending;            /* calls in flight, all hosts (64) */
    uint32_t idle_timeout_ms;        /* a pooled connection is closed after (15 s) */
    uint32_t connect_timeout_ms;     /* per connection attempt (5 s) */
    uint32_t total_timeout_ms;       /* per call, retries included (30 s) */
    uint32_t max_retries;            /* 2 */
    uint32_t backoff_ms;             /* 200, doubling */
    uint32_t dns_ttl_ms;             /* 60 s */
};

void nano_http_client_opts_default(struct nano_http_client_opts *o);

/* Per-call flags. */
#define NANO_HTTP_NO_RETRY_5XX 0x1u

struct nano_http_call_opts {
    uint32_t    timeout_ms;     /* total deadline; 0: the client's */
    int         max_retries;    /* < 0: the client's */
    unsigned    flags;
    const char *headers;        /* extra "Name: value\r\n" lines, or NULL */
};

struct nano_http_result {
    int                                    err;      /* NANO_OK: a response */
    int                                    status;   /* 0 without a response */
    struct nano_span                       body;     /* decoded body */
    const struct nano_http_response_head  *head;     /* NULL without a response */
    unsigned                               attempts;
};

/*
 * Called exactly once per accepted call, always from the loop (never from
 * inside nano_http_client_request()).  err: NANO_OK when a response arrived
 * (any status: a 5xx after the last retry is delivered as such),
 * -ETIMEDOUT (total deadline), -ECONNREFUSED / -ECONNRESET / -EHOSTUNREACH
 * / -ENXIO (name not found) after the last retry, -EPROTO (not HTTP),
 * -EMSGSIZE (response over the limits), -ECANCELED (client freed).
 * Borrows res and everything it points to: valid during the call only.
 * May start new requests; must not free the client.
 */
typedef void nano_http_done_fn(const struct nano_http_result *res, void *arg);

/* Returns NANO_OK and *out (Returns owned; free with
 * nano_http_client_free()), -EINVAL or -ENOMEM.  Keeps loop. */
int  nano_http_client_new(struct nano_loop *loop,
                          const struct nano_http_client_opts *opts,
                          struct nano_http_client **out);

/* Fails every call still in flight with -ECANCELED (their callbacks run
 * inside this call), closes every connection, stops the resolver thread
 * (waiting for a lookup in progress to return).  NULL is a no-op.  Not from
 * inside a done callback. */
void nano_http_client_free(struct nano_http_client *c);

/*
 * nano_http_client_request - start method url with an optional body.
 *
 * Returns NANO_OK (done will be called), or an error and no callback:
 * -EPROTONOSUPPORT for https:// ("TLS not configured") and other schemes,
 * -EINVAL (bad URL, method or headers), -EMSGSIZE (body over
 * limits.body_max), -EBUSY (max_pending or max_hosts reached),
 * -ECANCELED (from a done callback run by nano_http_client_free()), -ENOMEM.
 * Borrows url, content_type, body, opts (all copied); keeps arg until done.
 */
int  nano_http_client_request(struct nano_http_client *c, const char *method,
                              const char *url, const char *content_type,
                              const void *body, size_t len,
                              const struct nano_http_call_opts *opts,
                              nano_http_done_fn *done, void *arg);

/* POST: the webhook call. */
int  nano_http_client_post(struct nano_http_client *c, const char *url,
                           const char *content_type, const void *body,
                           size_t len, const struct nano_http_call_opts *opts,
                           nano_http_done_fn *done, void *arg);

struct nano_http_client_stats {
    uint64_t calls;       /* accepted */
    uint64_t connects;    /* connection attempts */
    uint64_t reused;      /* requests sent on a pooled connection */
    uint64_t retries;
    uint64_t timeouts;    /* calls that hit their total deadline */
    uint64_t lookups;     /* names sent to the resolver thread */
    uint32_t conns;       /* open now */
    uint32_t pending;     /* calls in flight now */
};

void nano_http_client_stats(const struct nano_http_client *c,
                            struct nano_http_client_stats *out);

/* ---- blocking Unix-socket client --------------------------------------------- */

/*
 * nano_http_call_unix - one request to the server on the Unix socket at
 * path; waits at most timeout_ms (< 0: no limit) for the whole exchange.
 *
 * target is the request target ("/v1/devices?x=1"); a body is sent as
 * application/json.  The response body is appended to resp_body (whose
 * maximum bounds it).  Returns NANO_OK with *status_out set, or one of the
 * errors at the top of this file.  Borrows everything.
 */
int nano_http_call_unix(const char *path, const char *method,
                        const char *target, const void *body, size_t len,
                        int *status_out, struct nano_buf *resp_body,
                        int timeout_ms);

/* Return 0 to go on; anything else stops the stream and is returned by
 * nano_http_stream_unix().  Borrows data (valid during the call). */
typedef int nano_http_chunk_fn(const char *data, size_t len, void *arg);

#define NANO_HTTP_STREAM_LINES 0x1u   /* one callback per line, "\r\n"/"\n"
                                         removed (SSE); lines over 64 KiB
                                         arrive in pieces */

/*
 * nano_http_stream_unix - like nano_http_call_unix(), but the response body
 * is handed to cb as it arrives (decoded pieces, or lines with
 * NANO_HTTP_STREAM_LINES), for `nanoctl sub` reading server-sent events.
 * *status_out is set before the first callback.  idle_timeout_ms bounds the
 * wait for each read (< 0: none; SSE servers send heartbeats).
 * Returns NANO_OK at the end of the body, cb's non-zero value, or an
 * error as above.
 */
int nano_http_stream_unix(const char *path, const char *method,
                          const char *target, const void *body, size_t len,
                          unsigned flags, int *status_out,
                          nano_http_chunk_fn *cb, void *arg,
                          int idle_timeout_ms);

#endif
