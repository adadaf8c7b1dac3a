/* SPDX-License-Identifier: MIT
 *
 * http_server.c - HTTP/1.1 server on the event loop (contract in
 * http_server.h; design notes in docs/internals/http.md).
 *
 * Each connection is a small state machine driven by conn_process():
 *
 *   HEAD ----head parsed----> BODY ----body complete----> HANDLER
 *    ^   \__no body______________________________________/   |
 *    |                                                       | respond /
 *    +---------- FLUSH <------ (write queue drains) <--------+ stream_end
 *
 * One nano_timer per connection carries whichever deadline applies: the
 * header deadline (fixed when the first byte of a head arrives, or at
 * accept, and never extended by later bytes - slowloris), the keep-alive
 * idle deadline, the body deadline, or the write deadline (re-armed only on
 * progress).  A handler holding a request has no deadline of its own.
 *
 * Buffers and who owns them:
 *   - conn->rbuf (head_max + 1 KiB) is the read buffer, owned by the
 *     connection, allocated when bytes arrive, freed when the connection
 *     is idle with nothing buffered.  The current request's head stays at
 *     rbuf[0..head_len) until the request is complete, because the
 *     request's spans point there; pipelined bytes queue up behind it.
 *   - req->body is owned by the request: exactly Content-Length + 1 bytes,
 *     or grown up to body_max for chunked bodies.
 *   - conn->wq is the write queue, owned by the connection; used only for
 *     what the socket does not take at once (responses are first written
 *     straight from the handler's buffer with sendmsg).
 *
 * Lifetime: a connection is freed when it is closed (CF_DEAD), no request
 * is held by a handler, and no callback of ours is on the stack
 * (conn->busy).  That lets a handler complete a request from on_close, and
 * lets a closed connection's read buffer outlive it for a held request.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/http_server.h"
#include "core/err.h"
#include "core/json.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/mem.h"

#define EXTRA_HDR_MAX   1024
#define HEAD_BUF        (EXTRA_HDR_MAX + 512)
#define RBUF_SLACK      1024        /* room for body bytes behind a full head */
#define ACCEPT_BATCH    32
#define ACCEPT_RETRY_MS 100         /* after EMFILE: pause accepting */
#define CHUNK_FRAME_MAX 20          /* "%zx\r\n" + "\r\n" on 64-bit */

enum cstate { CS_HEAD, CS_BODY, CS_HANDLER, CS_FLUSH };
enum tkind { T_NONE, T_HEADER, T_IDLE, T_BODY, T_WRITE };

#define CF_FRESH       0x01   /* no request completed yet */
#define CF_CLOSE_AFTER 0x02   /* close once the current response is out */
#define CF_EOF         0x04   /* peer shut its write side */
#define CF_DEAD        0x08   /* socket closed; memory may live on */
#define CF_FAILED      0x10   /* write error inside a user call: close soon */
#define CF_IN_PROCESS  0x20   /* conn_process() is on the stack */
#define CF_TCP         0x40

struct listener {
    struct nano_io           io;
    struct nano_http_server *srv;
    unsigned                 flags;
    bool                     tcp;
    char                    *path;      /* Unix: owned copy, unlinked at free */
    dev_t                    dev;
    ino_t                    ino;
};

struct conn {
    struct nano_io           io;
    struct nano_timer        timer;
    struct nano_work         work;      /* continue after async completion */
    struct nano_list         link;      /* srv->conns */
    struct nano_http_server *srv;       /* NULL once closed */
    struct nano_http_req    *req;       /* current request or NULL */
    uint8_t                 *rbuf;
    uint32_t                 rlen;
    uint32_t                 head_len;  /* head of the current request */
    struct nano_buf          wq;
    uint32_t                 wq_off;    /* bytes of wq already sent */
    uint16_t                 busy;
    uint8_t                  state, tkind, flags;
    uint8_t                  lflags;    /* listener flags */
};

enum rstate { RS_READING, RS_DISPATCHED, RS_STREAMING };

struct nano_http_req {
    struct conn                  *conn;      /* outlives the socket, see top */
    uint8_t                      *body;
    size_t                        body_len, body_cap;
    struct nano_http_chunked      ck;
    struct nano_buf               extra;     /* staged response headers */
    nano_http_close_fn           *on_close;
    nano_http_drain_fn           *on_drain;
    void                         *cb_arg;
    uint8_t                       state;
    bool                          peer_gone, close_called, want_drain, http10;
    struct nano_http_request_head head;      /* last: allocated up to
                                                headers[nheaders] only */
};

struct nano_http_server {
    struct nano_loop              *loop;
    struct nano_http_server_opts   opts;
    nano_http_handler_fn          *handler;
    void                          *arg;
    struct listener                lis[NANO_HTTP_MAX_LISTENERS];
    unsigned                       nlis;
    struct nano_list               conns;
    struct nano_timer              accept_retry;
    struct nano_http_server_stats  stats;
    time_t                         date_sec;
    char                           date[40];
    struct nano_http_request_head  scratch;   /* parse target */
};

static void conn_process(struct conn *c);

/* ---- options ----------------------------------------------------------- */

void
nano_http_server_opts_default(struct nano_http_server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->limits = nano_http_limits_default;
    o->max_conns = 64;
    o->header_timeout_ms = 10000;
    o->idle_timeout_ms = 30000;
    o->body_timeout_ms = 30000;
    o->write_timeout_ms = 30000;
    o->stream_queue_max = 16 * 1024;
    o->response_max = 4 * 1024 * 1024;
}

const char *
nano_http_error_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "timeout";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 422: return "invalid";
    case 429: return "too_many_requests";
    case 431: return "headers_too_large";
    case 500: return "internal";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    case 505: return "http_version_not_supported";
    default:  return "error";
    }
}

/* ---- small helpers ------------------------------------------------------- */

static size_t
rbuf_cap(const struct nano_http_server *srv)
{
    return srv->opts.limits.head_max + RBUF_SLACK;
}

static size_t
wq_queued(const struct conn *c)
{
    return c->wq.len - c->wq_off;
}

static const char *
http_date(struct nano_http_server *srv)
{
    time_t now = time(NULL);
    struct tm tm;

    if (now != srv->date_sec) {
        srv->date_sec = now;
        gmtime_r(&now, &tm);
        strftime(srv->date, sizeof srv->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    }
    return srv->date;
}

/* Status line and headers into out[0..cap).  Returns the length, or 0 if
 * it does not fit. */
static size_t
build_head(struct nano_http_server *srv, char *out, size_t cap, int status,
           const char *ctype, bool has_length, uint64_t length, bool chunked,
           bool keep_alive, bool http10, const struct nano_buf *extra)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\n%s%s%s",
                     status, nano_http_status_text(status), http_date(srv),
                     ctype ? "Content-Type: " : "", ctype ? ctype : "",
                     ctype ? "\r\n" : "");
    size_t len;

    if (n < 0 || (size_t)n >= cap)
        return 0;
    len = (size_t)n;
    /* RFC 9110 8.6: no Content-Length on 1xx and 204 (nor on 304, whose
     * length would describe another response). */
    if (status < 200 || status == 204 || status == 304)
        has_length = chunked = false;
    if (has_length)
        n = snprintf(out + len, cap - len, "Content-Length: %llu\r\n",
                     (unsigned long long)length);
    else if (chunked)
        n = snprintf(out + len, cap - len, "Transfer-Encoding: chunked\r\n");
    else
        n = 0;
    if (n < 0 || (size_t)n >= cap - len)
        return 0;
    len += (size_t)n;
    /* 1.1 is persistent by default; 1.0 only when both ends say so. */
    n = snprintf(out + len, cap - len, "%s%.*s\r\n",
                 !keep_alive ? "Connection: close\r\n"
                 : http10 ? "Connection: keep-alive\r\n" : "",
                 extra ? (int)extra->len : 0,
                 extra && extra->data ? extra->data : "");
    if (n < 0 || (size_t)n >= cap - len)
        return 0;
    return len + (size_t)n;
}

/* {"error":code,"message":msg} into b (max set by the caller). */
static int
error_body(struct nano_buf *b, int status, const char *code, const char *msg)
{
    struct nano_json w;

    nano_json_init(&w, b);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "error");
    nano_json_str(&w, code ? code : nano_http_error_code(status));
    nano_json_key(&w, "message");
    nano_json_str(&w, msg);
    nano_json_obj_end(&w);
    return nano_json_end(&w);
}

/* ---- timers and watching ------------------------------------------------- */

static void
conn_timer(struct conn *c, enum tkind k)
{
    const struct nano_http_server_opts *o = &c->srv->opts;
    uint32_t ms = 0;

    /* Header and body deadlines are fixed when first armed; the write
     * deadline is re-armed by the caller on progress (set tkind first). */
    if (c->tkind == k)
        return;
    c->tkind = (uint8_t)k;
    switch (k) {
    case T_HEADER: ms = o->header_timeout_ms; break;
    case T_IDLE:   ms = o->idle_timeout_ms; break;
    case T_BODY:   ms = o->body_timeout_ms; break;
    case T_WRITE:  ms = o->write_timeout_ms; break;
    case T_NONE:   break;
    }
    if (ms == 0) {
        nano_timer_stop(c->srv->loop, &c->timer);
        return;
    }
    if (nano_timer_start(c->srv->loop, &c->timer, ms, 0) != NANO_OK)
        c->flags |= CF_FAILED;    /* no deadline is not an option */
}

static void
conn_settle_timer(struct conn *c)
{
    switch (c->state) {
    case CS_HEAD:
        conn_timer(c, (c->rlen || (c->flags & CF_FRESH)) ? T_HEADER : T_IDLE);
        break;
    case CS_BODY:
        conn_timer(c, T_BODY);
        break;
    case CS_HANDLER:
    case CS_FLUSH:
        conn_timer(c, wq_queued(c) ? T_WRITE : T_NONE);
        break;
    }
}

static void
conn_watch(struct conn *c)
{
    unsigned ev = 0;

    if (c->flags & CF_DEAD)
        return;
    if (!(c->flags & CF_EOF) && c->rlen < rbuf_cap(c->srv))
        ev |= NANO_EV_READ;
    if (wq_queued(c))
        ev |= NANO_EV_WRITE;
    if (ev != c->io.events && nano_io_start(c->srv->loop, &c->io, ev) != NANO_OK)
        c->flags |= CF_FAILED;
}

/* Finish processing later, from the loop (never re-enter user code). */
static void
conn_kick(struct conn *c)
{
    if (!(c->flags & (CF_DEAD | CF_IN_PROCESS)))
        nano_loop_defer(c->srv->loop, &c->work);
}

/* ---- lifetime ------------------------------------------------------------ */

static void
req_free(struct nano_http_req *req)
{
    nano_free(req->body);
    nano_buf_free(&req->extra);
    nano_free(req);
}

static void
conn_maybe_free(struct conn *c)
{
    if (!(c->flags & CF_DEAD) || c->busy || c->req)
        return;
    nano_free(c->rbuf);
    nano_buf_free(&c->wq);
    nano_free(c);
}

static void
conn_close(struct conn *c)
{
    struct nano_http_server *srv = c->srv;
    struct nano_http_req *req = c->req;

    if (c->flags & CF_DEAD)
        return;
    c->flags |= CF_DEAD;
    nano_io_stop(srv->loop, &c->io);
    close(c->io.fd);
    nano_timer_stop(srv->loop, &c->timer);
    nano_loop_cancel(srv->loop, &c->work);
    nano_list_remove(&c->link);
    srv->stats.conns--;
    nano_buf_free(&c->wq);
    c->wq_off = 0;
    if (req && req->state != RS_READING) {
        /* The handler owns it: tell it, it completes it (maybe right here). */
        req->peer_gone = true;
        srv->stats.peer_gone++;
        if (req->on_close && !req->close_called) {
            req->close_called = true;
            c->busy++;
            req->on_close(req, req->cb_arg);
            c->busy--;
        }
    } else if (req) {
        req_free(req);
        c->req = NULL;
    }
    c->srv = NULL;
    conn_maybe_free(c);
}

/* The handler is done with req (response written or queued). */
static void
req_complete(struct nano_http_req *req)
{
    struct conn *c = req->conn;

    c->req = NULL;
    req_free(req);
    if (c->flags & CF_DEAD) {
        conn_maybe_free(c);
        return;
    }
    c->state = CS_FLUSH;
    conn_kick(c);
}

/* ---- output ---------------------------------------------------------------- */

/*
 * Send iov[0..n): straight to the socket when nothing is queued, whatever
 * it does not take into the write queue (which may then hold at most limit
 * bytes).  Returns NANO_OK, -ENOSPC / -ENOMEM (connection marked failed) or
 * -ECONNRESET (peer gone; marked failed).  Failed connections are closed
 * from the loop, so no user callback runs inside this call.
 */
static int
conn_sendv(struct conn *c, struct iovec *iov, int n, size_t limit)
{
    size_t total = 0, sent = 0, skip;
    bool was_empty = wq_queued(c) == 0;

    if (c->flags & (CF_DEAD | CF_FAILED))
        return -ECONNRESET;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (was_empty && total) {
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t r;
        do
            r = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            c->flags |= CF_FAILED;
            conn_kick(c);
            return -ECONNRESET;
        }
        sent = r > 0 ? (size_t)r : 0;
    }
    if (sent == total)
        return NANO_OK;
    if (wq_queued(c) + (total - sent) > limit) {
        c->flags |= CF_FAILED;      /* part of a response went out: no way back */
        conn_kick(c);
        return -ENOSPC;
    }
    if (c->wq_off) {
        nano_buf_consume(&c->wq, c->wq_off);
        c->wq_off = 0;
    }
    skip = sent;
    for (int i = 0; i < n; i++) {
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        if (nano_buf_append(&c->wq, (const char *)iov[i].iov_base + skip,
                            l - skip) != NANO_OK) {
            c->flags |= CF_FAILED;
            conn_kick(c);
            return -ENOMEM;
        }
        skip = 0;
    }
    if (was_empty && (c->state == CS_HANDLER || c->state == CS_FLUSH))
        conn_timer(c, T_WRITE);
    conn_watch(c);
    return NANO_OK;
}

static void
conn_flush(struct conn *c)
{
    struct nano_http_server *srv = c->srv;
    struct nano_http_req *req;
    size_t q = wq_queued(c);
    bool progress = false;

    while (q) {
        ssize_t r = send(c->io.fd, c->wq.data + c->wq_off, q, MSG_NOSIGNAL);
        if (r > 0) {
            c->wq_off += (uint32_t)r;
            q -= (size_t)r;
            progress = true;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(c);
        return;
    }
    if (q == 0) {
        nano_buf_reset(&c->wq);
        c->wq_off = 0;
    }
    if (progress && q) {
        c->tkind = T_NONE;          /* progress: a fresh write deadline */
        conn_timer(c, T_WRITE);
    }
    req = c->req;
    if (req && req->state == RS_STREAMING && req->want_drain &&
        q <= srv->opts.stream_queue_max / 2) {
        req->want_drain = false;
        if (req->on_drain)
            req->on_drain(req, req->cb_arg);
    }
}

/* Best effort, for a connection about to be closed: one send, no queue. */
static void
send_now_and_forget(struct conn *c, int status, const char *msg)
{
    char head[HEAD_BUF];
    struct nano_buf body;
    size_t hl;

    if (wq_queued(c))
        return;
    nano_buf_init(&body, 512);
    if (error_body(&body, status, NULL, msg) == NANO_OK) {
        hl = build_head(c->srv, head, sizeof head, status, "application/json",
                        true, body.len, false, false, false, NULL);
        if (hl) {
            struct iovec iov[2] = { { head, hl }, { body.data, body.len } };
            struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
            ssize_t r = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)r;
        }
    }
    nano_buf_free(&body);
}

/* Answer a request the parser or the server refused, then close. */
static void
conn_error(struct conn *c, int status, const char *msg)
{
    char head[HEAD_BUF];
    struct nano_buf body;
    size_t hl;

    if (c->req) {
        req_free(c->req);
        c->req = NULL;
    }
    c->flags |= CF_CLOSE_AFTER;
    c->state = CS_FLUSH;
    nano_buf_init(&body, 512);
    if (error_body(&body, status, NULL, msg) == NANO_OK) {
        hl = build_head(c->srv, head, sizeof head, status, "application/json",
                        true, body.len, false, false, false, NULL);
        if (hl) {
            struct iovec iov[2] = { { head, hl }, { body.data, body.len } };
            conn_sendv(c, iov, 2, c->srv->opts.response_max);
        }
    }
    nano_buf_free(&body);
}

/* ---- input --------------------------------------------------------------- */

static void
conn_read(struct conn *c)
{
    size_t cap = rbuf_cap(c->srv);
    struct nano_http_req *req = c->req;

    if (!c->rbuf) {
        c->rbuf = nano_malloc(cap);
        if (!c->rbuf) {
            conn_close(c);
            return;
        }
    }
    for (;;) {
        uint8_t *dst;
        size_t room;
        ssize_t r;
        bool direct = false;

        /* A Content-Length body with nothing buffered goes straight into
         * the request's body buffer: no copy, no 1 KiB slices. */
        if (c->state == CS_BODY && req && req->head.framing == NANO_HTTP_BODY_LENGTH &&
            c->rlen == c->head_len && req->body_len < req->head.content_length) {
            dst = req->body + req->body_len;
            room = (size_t)(req->head.content_length - req->body_len);
            direct = true;
        } else {
            if (c->rlen >= cap)
                return;
            dst = c->rbuf + c->rlen;
            room = cap - c->rlen;
        }
        r = recv(c->io.fd, dst, room, 0);
        if (r > 0) {
            if (direct)
                req->body_len += (size_t)r;
            else
                c->rlen += (uint32_t)r;
            if ((size_t)r < room)
                return;         /* drained for now; epoll says when more */
            continue;
        }
        if (r == 0) {
            c->flags |= CF_EOF;
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_close(c);
        return;
    }
}

static int
body_reserve(struct nano_http_req *req, size_t extra, uint64_t max)
{
    size_t need = req->body_len + extra + 1, cap;
    uint8_t *p;

    if (need <= req->body_cap)
        return NANO_OK;
    cap = req->body_cap ? req->body_cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > max + 1)
        cap = (size_t)max + 1;
    if (cap < need)
        return -EMSGSIZE;
    p = nano_realloc(req->body, cap);
    if (!p)
        return -ENOMEM;
    req->body = p;
    req->body_cap = cap;
    return NANO_OK;
}

static void
dispatch(struct conn *c)
{
    struct nano_http_server *srv = c->srv;
    struct nano_http_req *req = c->req;

    if (req->body)
        req->body[req->body_len] = '\0';
    c->state = CS_HANDLER;
    req->state = RS_DISPATCHED;
    conn_timer(c, T_NONE);
    srv->stats.requests++;
    srv->handler(req, srv->arg);
}

/* Returns true when the state changed and processing should go on. */
static bool
process_head(struct conn *c)
{
    struct nano_http_server *srv = c->srv;
    struct nano_http_request_head *h = &srv->scratch;
    struct nano_http_error err;
    struct nano_http_req *req;
    int rc;

    if (c->rlen == 0) {
        if (c->flags & CF_EOF)
            conn_close(c);
        return false;
    }
    rc = nano_http_parse_request(c->rbuf, c->rlen, &srv->opts.limits, h, &err);
    if (rc == -EAGAIN) {
        if (c->flags & CF_EOF)
            conn_close(c);      /* half a request and then nothing */
        return false;
    }
    if (rc < 0) {
        srv->stats.bad_requests++;
        conn_error(c, err.status, err.reason);
        return true;
    }
    /* The head is the last member: allocate only the header slots used
     * (a typical request has 3-6 of the 32). */
    req = nano_calloc(1, offsetof(struct nano_http_req, head) +
                         offsetof(struct nano_http_request_head, headers) +
                         h->nheaders * sizeof h->headers[0]);
    if (!req) {
        conn_error(c, 503, "out of memory");
        return true;
    }
    memcpy(&req->head, h, offsetof(struct nano_http_request_head, headers) +
                          h->nheaders * sizeof h->headers[0]);
    req->conn = c;
    req->state = RS_READING;
    req->http10 = h->version_minor == 0;
    nano_buf_init(&req->extra, EXTRA_HDR_MAX);
    c->req = req;
    c->head_len = (uint32_t)rc;

    if (h->framing == NANO_HTTP_BODY_NONE) {
        dispatch(c);
        return true;
    }
    if (h->framing == NANO_HTTP_BODY_LENGTH) {
        req->body = nano_malloc((size_t)h->content_length + 1);
        if (!req->body) {
            conn_error(c, 503, "out of memory");
            return true;
        }
        req->body_cap = (size_t)h->content_length + 1;
    } else {
        nano_http_chunked_init(&req->ck, srv->opts.limits.body_max);
    }
    c->state = CS_BODY;
    if (h->expect_continue && !req->http10 && c->rlen == c->head_len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        struct iovec iov = { (void *)cont, sizeof cont - 1 };
        conn_sendv(c, &iov, 1, srv->opts.response_max);
    }
    return true;
}

static bool
process_body(struct conn *c)
{
    struct nano_http_req *req = c->req;
    uint8_t *p = c->rbuf + c->head_len;
    size_t avail = c->rlen - c->head_len, used = 0;
    bool done;

    if (req->head.framing == NANO_HTTP_BODY_LENGTH) {
        size_t n = (size_t)(req->head.content_length - req->body_len);
        if (n > avail)
            n = avail;
        memcpy(req->body + req->body_len, p, n);
        req->body_len += n;
        used = n;
        done = req->body_len == req->head.content_length;
    } else {
        while (used < avail && !nano_http_chunked_done(&req->ck)) {
            struct nano_span data;
            int rc = nano_http_chunked_feed(&req->ck, p + used, avail - used,
                                            &data);
            if (rc < 0) {
                c->srv->stats.bad_requests++;
                conn_error(c, req->ck.err.status, req->ck.err.reason);
                return true;
            }
            if (data.len) {
                int r = body_reserve(req, data.len, c->srv->opts.limits.body_max);
                if (r != NANO_OK) {
                    conn_error(c, r == -ENOMEM ? 503 : 413,
                               r == -ENOMEM ? "out of memory"
                                            : "body larger than allowed");
                    return true;
                }
                memcpy(req->body + req->body_len, data.p, data.len);
                req->body_len += data.len;
            }
            used += (size_t)rc;
        }
        done = nano_http_chunked_done(&req->ck);
    }
    if (used) {
        memmove(p, p + used, avail - used);
        c->rlen -= (uint32_t)used;
    }
    if (!done) {
        if (c->flags & CF_EOF)
            conn_close(c);
        return false;
    }
    dispatch(c);
    return true;
}

/* The previous response is out: make room for the next request. */
static void
next_request(struct conn *c)
{
    if (c->rlen > c->head_len)
        memmove(c->rbuf, c->rbuf + c->head_len, c->rlen - c->head_len);
    c->rlen -= c->head_len;
    c->head_len = 0;
    c->state = CS_HEAD;
    c->flags &= (uint8_t)~CF_FRESH;
    c->tkind = T_NONE;              /* the next deadline starts now */
    if (c->rlen == 0) {             /* idle: hold no buffers */
        nano_free(c->rbuf);
        c->rbuf = NULL;
    }
    nano_buf_free(&c->wq);
    c->wq_off = 0;
}

static void
conn_process(struct conn *c)
{
    c->flags |= CF_IN_PROCESS;
    while (!(c->flags & CF_DEAD)) {
        if (c->flags & CF_FAILED) {
            conn_close(c);
            break;
        }
        if (c->state == CS_HEAD) {
            if (!process_head(c))
                break;
        } else if (c->state == CS_BODY) {
            if (!process_body(c))
                break;
        } else if (c->state == CS_HANDLER) {
            /* EOF with a request outstanding: the peer is gone. */
            if (c->flags & CF_EOF)
                conn_close(c);
            break;
        } else {
            if (wq_queued(c))
                break;
            if (c->flags & CF_CLOSE_AFTER) {
                conn_close(c);
                break;
            }
            next_request(c);
        }
    }
    if (!(c->flags & CF_DEAD)) {
        conn_settle_timer(c);
        conn_watch(c);
    }
    c->flags &= (uint8_t)~CF_IN_PROCESS;
}

static void
on_conn_io(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct conn *c = NANO_CONTAINER_OF(io, struct conn, io);

    (void)loop;
    c->busy++;
    if (events & NANO_EV_WRITE)
        conn_flush(c);
    if (!(c->flags & CF_DEAD) && (events & NANO_EV_ERROR) &&
        !(io->events & NANO_EV_READ))
        conn_close(c);          /* error while only writing: reset */
    if (!(c->flags & CF_DEAD) && (events & NANO_EV_READ))
        conn_read(c);
    if (!(c->flags & CF_DEAD))
        conn_process(c);
    c->busy--;
    conn_maybe_free(c);
}

static void
on_conn_work(struct nano_loop *loop, struct nano_work *w)
{
    struct conn *c = NANO_CONTAINER_OF(w, struct conn, work);

    (void)loop;
    c->busy++;
    conn_process(c);
    c->busy--;
    conn_maybe_free(c);
}

static void
on_conn_timer(struct nano_loop *loop, struct nano_timer *t)
{
    struct conn *c = NANO_CONTAINER_OF(t, struct conn, timer);
    struct nano_http_server_stats *st = &c->srv->stats;
    enum tkind k = (enum tkind)c->tkind;

    (void)loop;
    c->tkind = T_NONE;
    c->busy++;
    switch (k) {
    case T_IDLE:
        st->timeouts_idle++;
        break;
    case T_HEADER:
        st->timeouts_header++;
        if (c->rlen)
            send_now_and_forget(c, 408, "request head not received in time");
        break;
    case T_BODY:
        st->timeouts_body++;
        send_now_and_forget(c, 408, "request body not received in time");
        break;
    case T_WRITE:
    case T_NONE:
        st->timeouts_write++;
        break;
    }
    conn_close(c);
    c->busy--;
    conn_maybe_free(c);
}

/* ---- accepting --------------------------------------------------------------- */

static void
reject_busy(struct nano_http_server *srv, int fd)
{
    char head[HEAD_BUF];
    static const char body[] =
        "{\"error\":\"unavailable\",\"message\":\"too many connections\"}";
    size_t hl = build_head(srv, head, sizeof head, 503, "application/json",
                           true, sizeof body - 1, false, false, false, NULL);
    struct iovec iov[2] = { { head, hl }, { (void *)body, sizeof body - 1 } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
    ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

    (void)r;
    srv->stats.rejected_busy++;
    close(fd);
}

static void
pause_accepting(struct nano_http_server *srv, bool pause)
{
    for (unsigned i = 0; i < srv->nlis; i++) {
        if (pause)
            nano_io_stop(srv->loop, &srv->lis[i].io);
        else
            nano_io_start(srv->loop, &srv->lis[i].io, NANO_EV_READ);
    }
}

static void
on_accept_retry(struct nano_loop *loop, struct nano_timer *t)
{
    struct nano_http_server *srv =
        NANO_CONTAINER_OF(t, struct nano_http_server, accept_retry);

    (void)loop;
    pause_accepting(srv, false);
}

static void
on_accept(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct listener *l = NANO_CONTAINER_OF(io, struct listener, io);
    struct nano_http_server *srv = l->srv;

    (void)events;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct conn *c;
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                /* The listen socket stays readable; without a pause this
                 * would spin.  Existing connections keep being served. */
                pause_accepting(srv, true);
                nano_timer_start(loop, &srv->accept_retry, ACCEPT_RETRY_MS, 0);
            }
            return;
        }
        srv->stats.accepted++;
        if (srv->stats.conns >= srv->opts.max_conns) {
            reject_busy(srv, fd);
            continue;
        }
        c = nano_calloc(1, sizeof *c);
        if (!c) {
            reject_busy(srv, fd);
            continue;
        }
        if (l->tcp) {
            int one = 1;
            /* Streams write small chunks; Nagle plus delayed ACKs would
             * hold them back for 40 ms. */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        nano_io_init(&c->io, fd, on_conn_io);
        nano_timer_init(&c->timer, on_conn_timer);
        nano_work_init(&c->work, on_conn_work);
        nano_buf_init(&c->wq, srv->opts.response_max + HEAD_BUF);
        c->srv = srv;
        c->state = CS_HEAD;
        c->flags = CF_FRESH | (l->tcp ? CF_TCP : 0);
        c->lflags = (uint8_t)l->flags;
        nano_list_append(&srv->conns, &c->link);
        srv->stats.conns++;
        c->busy++;
        conn_process(c);
        c->busy--;
        conn_maybe_free(c);
    }
}

/* ---- server ---------------------------------------------------------------- */

int
nano_http_server_new(struct nano_loop *loop,
                     const struct nano_http_server_opts *opts,
                     nano_http_handler_fn *handler, void *arg,
                     struct nano_http_server **srv_out)
{
    struct nano_http_server *srv;

    *srv_out = NULL;
    if (!loop || !handler)
        return -EINVAL;
    srv = nano_calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    if (opts)
        srv->opts = *opts;
    else
        nano_http_server_opts_default(&srv->opts);
    if (srv->opts.limits.head_max < 64 || srv->opts.max_conns == 0 ||
        srv->opts.stream_queue_max <= CHUNK_FRAME_MAX) {
        nano_free(srv);
        return -EINVAL;
    }
    srv->loop = loop;
    srv->handler = handler;
    srv->arg = arg;
    nano_list_init(&srv->conns);
    nano_timer_init(&srv->accept_retry, on_accept_retry);
    srv->stats.conn_bytes = (uint32_t)sizeof(struct conn);
    *srv_out = srv;
    return NANO_OK;
}

void
nano_http_server_free(struct nano_http_server *srv)
{
    if (!srv)
        return;
    for (unsigned i = 0; i < srv->nlis; i++) {
        struct listener *l = &srv->lis[i];
        struct stat st;
        nano_io_stop(srv->loop, &l->io);
        close(l->io.fd);
        /* Remove the socket file only if it is still the one we made. */
        if (l->path && stat(l->path, &st) == 0 && st.st_ino == l->ino &&
            st.st_dev == l->dev)
            unlink(l->path);
        nano_free(l->path);
    }
    nano_timer_stop(srv->loop, &srv->accept_retry);
    while (!nano_list_empty(&srv->conns)) {
        struct conn *c = NANO_CONTAINER_OF(srv->conns.next, struct conn, link);
        c->busy++;
        conn_close(c);
        c->busy--;
        conn_maybe_free(c);
    }
    nano_free(srv);
}

static int
add_listener(struct nano_http_server *srv, int fd, unsigned flags, bool tcp,
             struct listener **l_out)
{
    struct listener *l;
    int rc;

    if (srv->nlis >= NANO_HTTP_MAX_LISTENERS)
        return -ENOSPC;
    l = &srv->lis[srv->nlis];
    memset(l, 0, sizeof *l);
    l->srv = srv;
    l->flags = flags;
    l->tcp = tcp;
    nano_io_init(&l->io, fd, on_accept);
    rc = nano_io_start(srv->loop, &l->io, NANO_EV_READ);
    if (rc != NANO_OK)
        return rc;
    srv->nlis++;
    *l_out = l;
    return NANO_OK;
}

int
nano_http_server_listen_unix(struct nano_http_server *srv, const char *path,
                             unsigned flags)
{
    struct sockaddr_un sa;
    struct listener *l;
    struct stat st;
    int fd, rc;

    if (srv->nlis >= NANO_HTTP_MAX_LISTENERS)
        return -ENOSPC;
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);

    if (lstat(path, &st) == 0) {
        int probe;
        if (!S_ISSOCK(st.st_mode))
            return -EEXIST;
        /* Someone answering means someone serving: never steal the path.
         * A non-blocking probe so a full backlog cannot hang startup. */
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (probe < 0)
            return -errno;
        rc = connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
        close(probe);
        if (rc == 0 || rc == EAGAIN || rc == EINPROGRESS)
            return -EADDRINUSE;
        if (rc != ECONNREFUSED)
            return -rc;
        if (unlink(path) < 0 && errno != ENOENT)
            return -errno;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        rc = -errno;
        goto fail;
    }
    /* chmod before listen: until listen() nobody can connect, so the file
     * is never reachable with the umask's looser mode. */
    if (chmod(path, 0660) < 0 || listen(fd, 64) < 0 || stat(path, &st) < 0) {
        rc = -errno;
        unlink(path);
        goto fail;
    }
    rc = add_listener(srv, fd, flags, false, &l);
    if (rc != NANO_OK) {
        unlink(path);
        goto fail;
    }
    l->path = nano_strdup(path);
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    return NANO_OK;

fail:
    close(fd);
    return rc;
}

int
nano_http_server_listen_tcp(struct nano_http_server *srv, const char *host,
                            uint16_t port, unsigned flags, uint16_t *port_out)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct listener *l;
    char portstr[8];
    int fd, rc, one = 1;

    if (srv->nlis >= NANO_HTTP_MAX_LISTENERS)
        return -ENOSPC;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%u", port);
    rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0)
        return rc == EAI_SYSTEM ? -errno : -EINVAL;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        freeaddrinfo(ai);
        return rc;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        rc = -errno;
        freeaddrinfo(ai);
        close(fd);
        return rc;
    }
    freeaddrinfo(ai);
    rc = add_listener(srv, fd, flags, true, &l);
    if (rc != NANO_OK) {
        close(fd);
        return rc;
    }
    if (port_out)
        *port_out = ntohs(ss.ss_family == AF_INET6
                          ? ((struct sockaddr_in6 *)&ss)->sin6_port
                          : ((struct sockaddr_in *)&ss)->sin_port);
    return NANO_OK;
}

void
nano_http_server_stats(const struct nano_http_server *srv,
                       struct nano_http_server_stats *out)
{
    *out = srv->stats;
}

/* ---- request accessors ----------------------------------------------------- */

const struct nano_http_request_head *
nano_http_req_head(const struct nano_http_req *req)
{
    return &req->head;
}

enum nano_http_method
nano_http_req_method(const struct nano_http_req *req)
{
    return req->head.method_id;
}

struct nano_span
nano_http_req_path(const struct nano_http_req *req)
{
    return req->head.path;
}

struct nano_span
nano_http_req_query(const struct nano_http_req *req)
{
    return req->head.query;
}

struct nano_span
nano_http_req_header(const struct nano_http_req *req, const char *name)
{
    return nano_http_find_header(req->head.headers, req->head.nheaders, name);
}

struct nano_span
nano_http_req_body(const struct nano_http_req *req)
{
    struct nano_span s = { (const uint8_t *)"", 0 };

    if (req->body) {
        s.p = req->body;
        s.len = req->body_len;
    }
    return s;
}

unsigned
nano_http_req_listener_flags(const struct nano_http_req *req)
{
    return req->conn->lflags;
}

bool
nano_http_req_peer_gone(const struct nano_http_req *req)
{
    return req->peer_gone || (req->conn->flags & (CF_DEAD | CF_FAILED));
}

void
nano_http_req_on_close(struct nano_http_req *req, nano_http_close_fn *fn,
                       void *arg)
{
    req->on_close = fn;
    req->cb_arg = arg;
}

int
nano_http_add_header(struct nano_http_req *req, const char *name,
                     const char *value)
{
    size_t before = req->extra.len;
    int rc;

    if (!*name || strpbrk(name, "\r\n: \t") || strpbrk(value, "\r\n"))
        return -EINVAL;
    rc = nano_buf_printf(&req->extra, "%s: %s\r\n", name, value);
    if (rc != NANO_OK)
        req->extra.len = before;   /* printf may have appended a part */
    return rc;
}

/* ---- responses --------------------------------------------------------------- */

static bool
req_gone(struct nano_http_req *req)
{
    return req->peer_gone || (req->conn->flags & (CF_DEAD | CF_FAILED));
}

static bool
keep_alive_after(const struct nano_http_req *req)
{
    const struct conn *c = req->conn;

    return req->head.keep_alive && !(c->flags & (CF_EOF | CF_CLOSE_AFTER));
}

int
nano_http_respond(struct nano_http_req *req, int status,
                  const char *content_type, const void *body, size_t len)
{
    struct conn *c = req->conn;
    struct nano_http_server *srv;
    char head[HEAD_BUF];
    static const char too_big[] =
        "{\"error\":\"internal\",\"message\":\"response too large\"}";
    struct iovec iov[2];
    size_t hl;
    bool keep;
    int rc = NANO_OK;

    NANO_ASSERT(req->state == RS_DISPATCHED);
    if (req_gone(req)) {
        req_complete(req);
        return -ECONNRESET;
    }
    srv = c->srv;
    keep = keep_alive_after(req);
    if (len > srv->opts.response_max) {
        rc = -ENOSPC;
        status = 500;
        content_type = "application/json";
        body = too_big;
        len = sizeof too_big - 1;
        keep = false;
    }
    hl = build_head(srv, head, sizeof head, status, content_type, true, len,
                    false, keep, req->http10, &req->extra);
    if (hl == 0) {
        rc = -ENOSPC;
        hl = build_head(srv, head, sizeof head, 500, NULL, true, 0, false,
                        false, false, NULL);
        len = 0;
        keep = false;
    }
    iov[0].iov_base = head;
    iov[0].iov_len = hl;
    iov[1].iov_base = (void *)body;
    iov[1].iov_len = req->head.method_id == NANO_HTTP_HEAD ? 0 : len;
    if (!keep)
        c->flags |= CF_CLOSE_AFTER;
    {
        int r = conn_sendv(c, iov, iov[1].iov_len ? 2 : 1,
                           srv->opts.response_max + HEAD_BUF);
        if (rc == NANO_OK)
            rc = r;
    }
    req_complete(req);
    return rc;
}

int
nano_http_respond_json(struct nano_http_req *req, int status,
                       const struct nano_buf *json)
{
    return nano_http_respond(req, status, "application/json",
                             json->data ? json->data : "", json->len);
}

int
nano_http_respond_error(struct nano_http_req *req, int status,
                        const char *code, const char *fmt, ...)
{
    char msg[512];
    struct nano_buf b;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nano_buf_init(&b, 2048);
    if (error_body(&b, status, code, msg) != NANO_OK)
        nano_buf_reset(&b);
    rc = nano_http_respond(req, status, "application/json",
                           b.data ? b.data : "", b.len);
    nano_buf_free(&b);
    return rc;
}

/* ---- streams ----------------------------------------------------------------- */

int
nano_http_stream_begin(struct nano_http_req *req, int status,
                       const char *content_type,
                       const struct nano_http_stream_cbs *cbs, void *arg)
{
    struct conn *c = req->conn;
    char head[HEAD_BUF];
    struct iovec iov;
    bool keep;
    int rc;

    NANO_ASSERT(req->state == RS_DISPATCHED);
    if (req_gone(req)) {
        req_complete(req);
        return -ECONNRESET;
    }
    /* HTTP/1.0 has no chunked coding: the stream ends when we close. */
    keep = !req->http10 && keep_alive_after(req);
    iov.iov_base = head;
    iov.iov_len = build_head(c->srv, head, sizeof head, status, content_type,
                             false, 0, !req->http10, keep, req->http10,
                             &req->extra);
    if (iov.iov_len == 0) {
        c->flags |= CF_FAILED;
        conn_kick(c);
        req_complete(req);
        return -ENOMEM;
    }
    if (!keep)
        c->flags |= CF_CLOSE_AFTER;
    rc = conn_sendv(c, &iov, 1, c->srv->opts.response_max);
    if (rc != NANO_OK || req->head.method_id == NANO_HTTP_HEAD) {
        req_complete(req);
        return rc != NANO_OK ? rc : -ECANCELED;
    }
    req->state = RS_STREAMING;
    if (cbs) {
        req->on_close = cbs->on_close;
        req->on_drain = cbs->on_drain;
    }
    req->cb_arg = arg;
    return NANO_OK;
}

size_t
nano_http_stream_queued(const struct nano_http_req *req)
{
    const struct conn *c = req->conn;

    return (c->flags & CF_DEAD) ? 0 : wq_queued(c);
}

size_t
nano_http_stream_room(const struct nano_http_req *req)
{
    const struct conn *c = req->conn;
    size_t max, q;

    if (req->state != RS_STREAMING || nano_http_req_peer_gone(req))
        return 0;
    max = c->srv->opts.stream_queue_max;
    q = wq_queued(c) + CHUNK_FRAME_MAX;
    return q < max ? max - q : 0;
}

int
nano_http_stream_write(struct nano_http_req *req, const void *data, size_t len)
{
    struct conn *c = req->conn;
    char hdr[24];
    struct iovec iov[3];
    size_t frame, max;
    int n = 0, rc;

    if (req->state != RS_STREAMING)
        return -EINVAL;
    if (req_gone(req))
        return -ECONNRESET;
    if (len == 0)
        return NANO_OK;     /* a zero-size chunk would end the stream */
    max = c->srv->opts.stream_queue_max;
    frame = req->http10 ? 0 : CHUNK_FRAME_MAX;
    if (len + frame > max)
        return -EMSGSIZE;
    if (wq_queued(c) + len + frame > max) {
        req->want_drain = true;
        return -ENOBUFS;
    }
    if (!req->http10) {
        iov[n].iov_base = hdr;
        iov[n++].iov_len = (size_t)snprintf(hdr, sizeof hdr, "%zx\r\n", len);
    }
    iov[n].iov_base = (void *)data;
    iov[n++].iov_len = len;
    if (!req->http10) {
        iov[n].iov_base = (void *)"\r\n";
        iov[n++].iov_len = 2;
    }
    rc = conn_sendv(c, iov, n, max);
    if (rc != NANO_OK)
        return rc == -ENOSPC ? -ENOBUFS : -ECONNRESET;
    if (wq_queued(c) > max / 2)
        req->want_drain = true;
    return NANO_OK;
}

int
nano_http_stream_end(struct nano_http_req *req)
{
    struct conn *c = req->conn;
    int rc = NANO_OK;

    NANO_ASSERT(req->state == RS_STREAMING);
    if (req_gone(req)) {
        rc = -ECONNRESET;
    } else if (!req->http10) {
        struct iovec iov = { (void *)"0\r\n\r\n", 5 };
        rc = conn_sendv(c, &iov, 1, c->srv->opts.response_max);
    }
    req_complete(req);
    return rc;
}
