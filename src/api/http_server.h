/* SPDX-License-Identifier: MIT
 *
 * http_server.h - Nano's HTTP/1.1 server on the event loop.
 *
 * One server, several listeners (a Unix socket for nanoctl, TCP for the
 * browser console and /metrics), one request callback (normally the router,
 * router.h).  Connections are non-blocking and served on the loop thread;
 * there is no thread per connection.  Requests on one connection are
 * handled one at a time and answered in order (pipelined requests wait in
 * the read buffer until the previous response has been written out).
 *
 * Everything is bounded: heads by nano_http_limits, bodies by body_max, the
 * number of connections by max_conns (one more gets a 503 and is closed),
 * each connection's read buffer by head_max, its write queue by
 * response_max (fixed responses) or stream_queue_max (streams).  Time is
 * bounded too - see the timeouts in struct nano_http_server_opts.
 *
 * Memory: an idle keep-alive connection holds only its struct (the size is
 * in the stats, about 200 bytes on 64-bit); its read buffer is allocated
 * when bytes arrive and freed when it is empty again, the write queue only
 * when the socket refuses data, the request object and body per request.
 *
 * ---- Request lifetime (read this before keeping a request) ---------------
 *
 * The server calls the handler with a struct nano_http_req that the handler
 * owns from then on until it completes it with exactly one of
 * nano_http_respond*(), or nano_http_stream_begin() ... nano_http_stream_end().
 * Completing frees the request: do not touch it afterwards.
 *
 * A handler may complete the request before returning (the usual case) or
 * keep it and complete it later from any loop callback (async work, a
 * stream).  Spans obtained from the request (path, headers, body) stay
 * valid until it is completed, even after the peer has gone.
 *
 * If the peer goes away (close, reset, write timeout) or the server is
 * freed while a handler holds a request, the on_close callback registered
 * for it (nano_http_req_on_close() or the stream callbacks) is called once,
 * from the loop.  The request stays valid: the handler must still complete
 * it (typically from on_close itself); writes then return -ECONNRESET and
 * completing only frees it.  A handler that keeps a request must therefore
 * register on_close or otherwise guarantee that it completes it.
 *
 * Context: every function here is for the loop thread only, and
 * nano_http_server_free() must not be called from inside a handler.
 */
#ifndef NANO_API_HTTP_SERVER_H
#define NANO_API_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http_parse.h"
#include "core/buf.h"

struct nano_loop;
struct nano_http_server;
struct nano_http_req;

/* Listener flags. */
#define NANO_HTTP_LISTEN_AUTH  0x1u   /* requests must pass the router's auth hook */

#define NANO_HTTP_MAX_LISTENERS 4

struct nano_http_server_opts {
    struct nano_http_limits limits;
    uint32_t max_conns;         /* open connections; one more gets 503 (64) */
    uint32_t header_timeout_ms; /* whole head, from its first byte (or accept)
                                   however slowly it trickles in (10 s) */
    uint32_t idle_timeout_ms;   /* keep-alive connection between requests (30 s) */
    uint32_t body_timeout_ms;   /* whole body, from the end of the head (30 s) */
    uint32_t write_timeout_ms;  /* queued output with no progress (30 s) */
    uint32_t stream_queue_max;  /* bytes a stream may have queued (16 KiB) */
    uint32_t response_max;      /* largest fixed response queued (4 MiB) */
};

/* Fill o with the defaults named above (0 for a timeout means none). */
void nano_http_server_opts_default(struct nano_http_server_opts *o);

/* Called once per request, on the loop thread.  Takes req (see above). */
typedef void nano_http_handler_fn(struct nano_http_req *req, void *arg);

/*
 * nano_http_server_new - create a server with no listeners yet.
 * Returns NANO_OK and *srv_out (Returns owned; free with
 * nano_http_server_free()), -EINVAL or -ENOMEM.
 * Borrows opts (NULL: defaults); keeps loop and arg until freed.
 */
int nano_http_server_new(struct nano_loop *loop,
                         const struct nano_http_server_opts *opts,
                         nano_http_handler_fn *handler, void *arg,
                         struct nano_http_server **srv_out);

/* Close every listener (removing the Unix socket files it created) and every
 * connection; requests still held get on_close (see above).  NULL is a
 * no-op. */
void nano_http_server_free(struct nano_http_server *srv);

/*
 * nano_http_server_listen_unix - serve on a Unix stream socket at path,
 * created with mode 0660 (file permissions are the access control).
 *
 * An existing socket file is removed only when nothing answers on it (a
 * stale file from a crash).  Returns NANO_OK, -EADDRINUSE when another
 * process is serving there, -EEXIST when path exists and is not a socket,
 * -ENAMETOOLONG, -ENOSPC (listener slots), or -errno.  Borrows path.
 */
int nano_http_server_listen_unix(struct nano_http_server *srv,
                                 const char *path, unsigned flags);

/*
 * nano_http_server_listen_tcp - serve on host:port (host: an IP literal,
 * "localhost", or NULL for all addresses; port 0 picks a free port, which
 * is stored in *port_out if not NULL).  Name resolution here may block:
 * call at startup.  Returns NANO_OK or -errno / -EINVAL.
 */
int nano_http_server_listen_tcp(struct nano_http_server *srv, const char *host,
                                uint16_t port, unsigned flags,
                                uint16_t *port_out);

struct nano_http_server_stats {
    uint64_t accepted;          /* connections accepted (incl. rejected) */
    uint64_t rejected_busy;     /* answered 503 at max_conns */
    uint64_t requests;          /* requests handed to the handler */
    uint64_t bad_requests;      /* refused by the parser */
    uint64_t timeouts_header;
    uint64_t timeouts_idle;
    uint64_t timeouts_body;
    uint64_t timeouts_write;
    uint64_t peer_gone;         /* on_close calls: peer left mid-request */
    uint32_t conns;             /* open now */
    uint32_t conn_bytes;        /* sizeof the per-connection struct */
};

void nano_http_server_stats(const struct nano_http_server *srv,
                            struct nano_http_server_stats *out);

/* ---- the request ---------------------------------------------------------
 * Spans returned below: Returns borrowed; valid until req is completed. */

const struct nano_http_request_head *
nano_http_req_head(const struct nano_http_req *req);
enum nano_http_method nano_http_req_method(const struct nano_http_req *req);
struct nano_span nano_http_req_path(const struct nano_http_req *req);   /* raw */
struct nano_span nano_http_req_query(const struct nano_http_req *req);  /* raw */
/* First header called name (case-insensitive); p == NULL if absent. */
struct nano_span nano_http_req_header(const struct nano_http_req *req,
                                      const char *name);
/* The whole body (empty without one); NUL-terminated past len. */
struct nano_span nano_http_req_body(const struct nano_http_req *req);
/* NANO_HTTP_LISTEN_* flags of the listener the request came in on. */
unsigned nano_http_req_listener_flags(const struct nano_http_req *req);
/* True once the peer has gone (writes will fail, on_close has run or will). */
bool nano_http_req_peer_gone(const struct nano_http_req *req);

typedef void nano_http_close_fn(struct nano_http_req *req, void *arg);
typedef void nano_http_drain_fn(struct nano_http_req *req, void *arg);

/* Register the peer-gone callback for a request the handler keeps.  Keeps
 * arg until the request is completed. */
void nano_http_req_on_close(struct nano_http_req *req, nano_http_close_fn *fn,
                            void *arg);

/* ---- fixed-length responses ------------------------------------------------
 *
 * Each of these completes req (it is freed, whatever the return).
 * Returns NANO_OK when the response was written or queued, -ECONNRESET
 * when the peer had gone, -ENOSPC when it would exceed response_max or
 * -ENOMEM (the connection is then closed).  For HEAD requests the headers
 * are sent (with the Content-Length the body would have) and the body is
 * not.  Borrows content_type and body (copied if the socket cannot take
 * them at once).
 */
int nano_http_respond(struct nano_http_req *req, int status,
                      const char *content_type, const void *body, size_t len);

/* application/json; borrows json. */
int nano_http_respond_json(struct nano_http_req *req, int status,
                           const struct nano_buf *json);

/* {"error":"<code>","message":"<printf>"}; code NULL: derived from status
 * (nano_http_error_code). */
int nano_http_respond_error(struct nano_http_req *req, int status,
                            const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "not_found" for 404 etc.; "error" for unknown statuses. */
const char *nano_http_error_code(int status);

/* Stage an extra response header (Allow, WWW-Authenticate, Cache-Control)
 * for the response this request gets.  Returns NANO_OK, -EINVAL (CR, LF or
 * an empty name) or -ENOSPC (1 KiB of extra headers per response).
 * Borrows name and value (copied). */
int nano_http_add_header(struct nano_http_req *req, const char *name,
                         const char *value);

/* ---- streaming responses (chunked; server-sent events) ---------------------
 *
 * Back-pressure model: a stream may have at most stream_queue_max bytes
 * queued in the server.  nano_http_stream_room() says how many data bytes
 * one write can take now; a write that does not fit is refused whole with
 * -ENOBUFS (nothing queued) and the producer should stop pulling from its
 * own bounded queue.  on_drain is called from the loop when the socket has
 * accepted queued data and the queue is at most half full again after it
 * had filled (or a write was refused); the producer resumes there.  So a
 * peer that stops reading costs at most stream_queue_max bytes here and
 * the producer's own queue applies its overflow policy.
 */
struct nano_http_stream_cbs {
    nano_http_close_fn *on_close;   /* peer gone / server freed (see top) */
    nano_http_drain_fn *on_drain;   /* room again; may be NULL */
};

/*
 * nano_http_stream_begin - send the status line and headers of a streamed
 * response (Transfer-Encoding: chunked for HTTP/1.1, close-delimited for
 * HTTP/1.0) and keep the request open.
 *
 * Returns NANO_OK: the stream is open and the handler completes it with
 * nano_http_stream_end().  Any other return means req is already
 * completed and freed: -ECANCELED for HEAD (the head went out; there is no
 * body to stream), -ECONNRESET (peer gone), -ENOMEM.
 * Borrows content_type and cbs (copied); keeps arg until completion.
 */
int nano_http_stream_begin(struct nano_http_req *req, int status,
                           const char *content_type,
                           const struct nano_http_stream_cbs *cbs, void *arg);

/* Queue one chunk (len > 0).  Returns NANO_OK, -ENOBUFS (does not fit now,
 * nothing queued; wait for on_drain), -EMSGSIZE (can never fit), or
 * -ECONNRESET (peer gone; on_close follows from the loop if not yet
 * called).  Borrows data. */
int nano_http_stream_write(struct nano_http_req *req, const void *data,
                           size_t len);

/* Data bytes one nano_http_stream_write() can take now (0 when full). */
size_t nano_http_stream_room(const struct nano_http_req *req);

/* Bytes queued in the server for this connection, not yet taken by the
 * socket. */
size_t nano_http_stream_queued(const struct nano_http_req *req);

/* End the stream (the last chunk) and complete req.  Returns NANO_OK, or
 * -ECONNRESET when the peer had gone (req is freed either way). */
int nano_http_stream_end(struct nano_http_req *req);

#endif
