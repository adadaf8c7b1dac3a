/* SPDX-License-Identifier: MIT
 *
 * http_client.c - asynchronous HTTP/1.1 client on the event loop (contract
 * in http_client.h; design notes in docs/internals/http.md).
 *
 * Objects and who owns them (all loop-thread only, except the resolver
 * queues, which are guarded by rs_mu):
 *
 *   client --owns--> hosts (one per host:port: address cache, pool)
 *   host   --owns--> connections (idle ones listed in host->idle)
 *   client --owns--> calls (listed in client->calls until done)
 *   call   --uses--> one connection while an attempt is on the wire
 *
 * A call waits in host->waiting until the host has an address and a free
 * connection, is bound to a connection for one attempt, and is then either
 * finished (done callback, call freed) or, after a failed attempt or a
 * 5xx, put on its backoff timer and queued again.  The call owns its
 * request bytes (head + body, built once) so retries resend them as they
 * are, and at the end takes the connection's head buffer so the response
 * head it hands to the done callback stays valid even if the connection
 * has already gone back to the pool or been closed.
 *
 * Re-entrancy: done callbacks may start new calls.  Work that could call
 * back is never done inside nano_http_client_request(): new calls are
 * picked up by a deferred "pump" on the next loop iteration.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/http_client.h"
#include "core/err.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/time.h"

#define RECV_CHUNK      8192
#define HOST_MAX        255
#define BACKOFF_MAX_MS  30000
#define RESOLVER_STACK  (256 * 1024)

enum { CC_CONNECTING, CC_SENDING, CC_RECEIVING, CC_IDLE };
enum { H_NEW, H_RESOLVING, H_READY };

struct call;

struct host {
    struct nano_list         link;       /* client->hosts */
    struct nano_http_client *cl;
    char                     name[HOST_MAX + 1];
    uint16_t                 port;
    uint8_t                  state;
    struct sockaddr_storage  addr;
    socklen_t                addrlen;
    uint64_t                 expires_ns; /* 0: literal, never expires */
    struct nano_list         idle;       /* pooled connections */
    struct nano_list         waiting;    /* calls wanting a connection */
    unsigned                 nconns;     /* open: connecting, busy, idle */
};

struct cconn {
    struct nano_io           io;
    struct nano_timer        timer;      /* connect or idle deadline */
    struct nano_list         link;       /* host->idle while idle */
    struct host             *host;
    struct call             *call;       /* while busy */
    uint8_t                  state;
    bool                     reused;     /* had answered before */
    bool                     got_bytes;  /* response bytes for this call */
    bool                     head_done;
    uint8_t                 *rbuf;       /* head buffer, head_max bytes */
    size_t                   rlen;
    size_t                   sent;
    uint64_t                 remaining;  /* LENGTH: body bytes still due */
    struct nano_http_chunked ck;
};

struct call {
    struct nano_list               link;     /* host->waiting when waiting */
    struct nano_list               all;      /* client->calls */
    struct nano_http_client       *cl;
    struct host                   *host;
    struct cconn                  *conn;
    struct nano_timer              deadline;
    struct nano_timer              backoff;
    nano_http_done_fn             *done;
    void                          *arg;
    unsigned                       attempts, max_retries, flags;
    bool                           head_method;
    uint8_t                       *head_mem;  /* taken from the connection */
    struct nano_buf                body;
    size_t                         req_len;
    struct nano_http_response_head resp;
    char                           req[];     /* request bytes */
};

struct resolve_job {
    struct nano_list        link;
    struct host            *host;            /* loop side only */
    char                    name[HOST_MAX + 1];
    int                     err;
    struct sockaddr_storage addr;
    socklen_t               addrlen;
};

struct nano_http_client {
    struct nano_loop              *loop;
    struct nano_http_client_opts   opts;
    struct nano_list               hosts;
    unsigned                       nhosts;
    struct nano_list               calls;
    struct nano_work               pump;
    struct nano_http_client_stats  stats;
    bool                           closing;
    bool                           pumping;
    /* resolver thread */
    bool                           rs_started;
    bool                           rs_quit;
    pthread_t                      rs_thread;
    pthread_mutex_t                rs_mu;
    pthread_cond_t                 rs_cv;
    struct nano_list               rs_todo, rs_done;
    int                            rs_efd;
    struct nano_io                 rs_io;
};

static void call_attempt_failed(struct call *call, int err, bool stale);
static void host_pump(struct host *h);

void
nano_http_client_opts_default(struct nano_http_client_opts *o)
{
    memset(o, 0, sizeof *o);
    o->limits = nano_http_limits_default;
    o->max_conns_per_host = 4;
    o->max_hosts = 16;
    o->max_pending = 64;
    o->idle_timeout_ms = 15000;
    o->connect_timeout_ms = 5000;
    o->total_timeout_ms = 30000;
    o->max_retries = 2;
    o->backoff_ms = 200;
    o->dns_ttl_ms = 60000;
}

static void
kick(struct nano_http_client *c)
{
    nano_loop_defer(c->loop, &c->pump);
}

/* ---- connections ---------------------------------------------------------- */

static void
cconn_close(struct cconn *cc)
{
    struct nano_http_client *c = cc->host->cl;

    nano_io_stop(c->loop, &cc->io);
    close(cc->io.fd);
    nano_timer_stop(c->loop, &cc->timer);
    if (cc->state == CC_IDLE)
        nano_list_remove(&cc->link);
    cc->host->nconns--;
    c->stats.conns--;
    nano_free(cc->rbuf);
    nano_free(cc);
    kick(c);                    /* a slot is free for waiting calls */
}

/* The attempt on cc failed: close it and let the call decide. */
static void
cconn_fail(struct cconn *cc, int err)
{
    struct call *call = cc->call;
    bool stale = cc->reused && !cc->got_bytes;

    if (call) {
        call->conn = NULL;
        cc->call = NULL;
    }
    cconn_close(cc);
    if (call)
        call_attempt_failed(call, err, stale);
}

static void
cconn_watch(struct cconn *cc, unsigned ev)
{
    if (cc->io.events != ev &&
        nano_io_start(cc->host->cl->loop, &cc->io, ev) != NANO_OK)
        cconn_fail(cc, -ENOMEM);
}

/* ---- calls ---------------------------------------------------------------- */

static void
call_free(struct call *call)
{
    nano_free(call->head_mem);
    nano_buf_free(&call->body);
    nano_free(call);
}

/* Deliver the result and free the call.  The call is detached from any
 * connection and queue by the callers. */
static void
call_finish(struct call *call, int err)
{
    struct nano_http_client *c = call->cl;
    struct nano_http_result res;

    nano_timer_stop(c->loop, &call->deadline);
    nano_timer_stop(c->loop, &call->backoff);
    if (!nano_list_empty(&call->link))
        nano_list_remove(&call->link);
    nano_list_remove(&call->all);
    c->stats.pending--;
    memset(&res, 0, sizeof res);
    res.err = err;
    res.attempts = call->attempts;
    if (err == NANO_OK) {
        res.status = call->resp.status;
        res.head = &call->resp;
        res.body.p = (const uint8_t *)(call->body.data ? call->body.data : "");
        res.body.len = call->body.len;
    }
    call->done(&res, call->arg);
    call_free(call);
}

static void
call_enqueue(struct call *call)
{
    nano_list_append(&call->host->waiting, &call->link);
    kick(call->cl);
}

static void
on_call_backoff(struct nano_loop *loop, struct nano_timer *t)
{
    struct call *call = NANO_CONTAINER_OF(t, struct call, backoff);

    (void)loop;
    call_enqueue(call);
}

static void
on_call_deadline(struct nano_loop *loop, struct nano_timer *t)
{
    struct call *call = NANO_CONTAINER_OF(t, struct call, deadline);
    struct cconn *cc = call->conn;

    (void)loop;
    call->cl->stats.timeouts++;
    if (cc) {
        /* The response is abandoned; the connection cannot be reused. */
        cc->call = NULL;
        call->conn = NULL;
        cconn_close(cc);
    }
    call_finish(call, -ETIMEDOUT);
}

/* Arm the backoff timer for another attempt.  Returns false when no
 * retry is left or the deadline would come first. */
static bool
call_schedule_retry(struct call *call, bool immediate)
{
    struct nano_http_client *c = call->cl;
    uint64_t delay_ms, left_ms, now = nano_time_mono_ns();

    if (call->attempts > call->max_retries)
        return false;
    delay_ms = immediate ? 0 : (uint64_t)c->opts.backoff_ms
                               << (call->attempts > 1 ? call->attempts - 1 : 0);
    if (delay_ms > BACKOFF_MAX_MS)
        delay_ms = BACKOFF_MAX_MS;
    left_ms = call->deadline.due_ns > now
            ? (call->deadline.due_ns - now) / NANO_NS_PER_MS : 0;
    if (delay_ms >= left_ms)
        return false;
    if (nano_timer_start(c->loop, &call->backoff, delay_ms, 0) != NANO_OK)
        return false;
    c->stats.retries++;
    return true;
}

static void
call_retry_or_finish(struct call *call, int err, bool immediate)
{
    if (!call_schedule_retry(call, immediate))
        call_finish(call, err);
}

static void
call_attempt_failed(struct call *call, int err, bool stale)
{
    /* A pooled connection the server had already closed: not the
     * server's answer, so it does not use up a retry. */
    if (stale && call->attempts > 0)
        call->attempts--;
    call_retry_or_finish(call, err, stale);
}

/* ---- sending and receiving --------------------------------------------------- */

static void
cconn_send(struct cconn *cc)
{
    struct call *call = cc->call;

    while (cc->sent < call->req_len) {
        ssize_t r = send(cc->io.fd, call->req + cc->sent,
                         call->req_len - cc->sent, MSG_NOSIGNAL);
        if (r > 0) {
            cc->sent += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            cconn_watch(cc, NANO_EV_WRITE);
            return;
        }
        cconn_fail(cc, r < 0 ? -errno : -ECONNRESET);
        return;
    }
    cc->state = CC_RECEIVING;
    cconn_watch(cc, NANO_EV_READ);
}

/* The whole response is in: hand it to the call, pool or close cc. */
static void
cconn_complete(struct cconn *cc, bool reusable)
{
    struct nano_http_client *c = cc->host->cl;
    struct call *call = cc->call;
    struct host *h = cc->host;

    cc->call = NULL;
    call->conn = NULL;
    call->head_mem = cc->rbuf;      /* resp spans point here */
    cc->rbuf = NULL;
    cc->rlen = 0;
    if (reusable && call->resp.keep_alive && !c->closing) {
        cc->state = CC_IDLE;
        cc->reused = true;
        nano_list_append(&h->idle, &cc->link);
        nano_timer_start(c->loop, &cc->timer, c->opts.idle_timeout_ms, 0);
        cconn_watch(cc, NANO_EV_READ);  /* notice the server closing it */
        kick(c);
    } else {
        cconn_close(cc);
    }
    if (call->resp.status >= 500 && !(call->flags & NANO_HTTP_NO_RETRY_5XX) &&
        call_schedule_retry(call, false)) {
        nano_free(call->head_mem);
        call->head_mem = NULL;
        nano_buf_reset(&call->body);
        return;
    }
    call_finish(call, NANO_OK);     /* the last 5xx is an answer too */
}

/* Feed body bytes; returns 1 when the body is complete, 0 for more, or
 * a negative error.  *used gets the bytes taken. */
static int
body_feed(struct cconn *cc, const uint8_t *p, size_t n, size_t *used)
{
    struct call *call = cc->call;
    const struct nano_http_response_head *r = &call->resp;

    *used = 0;
    if (r->framing == NANO_HTTP_BODY_LENGTH) {
        size_t take = n < cc->remaining ? n : (size_t)cc->remaining;
        if (nano_buf_append(&call->body, p, take) != NANO_OK)
            return -EMSGSIZE;
        cc->remaining -= take;
        *used = take;
        return cc->remaining == 0;
    }
    if (r->framing == NANO_HTTP_BODY_CHUNKED) {
        while (*used < n && !nano_http_chunked_done(&cc->ck)) {
            struct nano_span d;
            int k = nano_http_chunked_feed(&cc->ck, p + *used, n - *used, &d);
            if (k < 0)
                return k;
            if (d.len && nano_buf_append(&call->body, d.p, d.len) != NANO_OK)
                return -EMSGSIZE;
            *used += (size_t)k;
        }
        return nano_http_chunked_done(&cc->ck);
    }
    /* close-delimited */
    if (nano_buf_append(&call->body, p, n) != NANO_OK)
        return -EMSGSIZE;
    *used = n;
    return 0;
}

/* Parse the head in cc->rbuf.  Returns 1 when the response is complete, 0
 * when more is needed, or a negative error. */
static int
head_feed(struct cconn *cc)
{
    struct nano_http_client *c = cc->host->cl;
    struct call *call = cc->call;
    struct nano_http_error e;
    size_t used;
    int n, rc;

    for (;;) {
        n = nano_http_parse_response(cc->rbuf, cc->rlen, &c->opts.limits,
                                     &call->resp, &e);
        if (n == -EAGAIN)
            return 0;
        if (n < 0)
            return n;
        if (call->resp.status >= 100 && call->resp.status < 200) {
            /* Interim (100 Continue, 103): skip it, wait for the real one. */
            memmove(cc->rbuf, cc->rbuf + n, cc->rlen - (size_t)n);
            cc->rlen -= (size_t)n;
            continue;
        }
        break;
    }
    cc->head_done = true;
    if (call->head_method)
        call->resp.framing = NANO_HTTP_BODY_NONE;
    cc->remaining = call->resp.content_length;
    if (call->resp.framing == NANO_HTTP_BODY_CHUNKED)
        nano_http_chunked_init(&cc->ck, c->opts.limits.body_max);
    if (call->resp.framing == NANO_HTTP_BODY_NONE)
        return cc->rlen == (size_t)n ? 1 : -EPROTO;
    rc = body_feed(cc, cc->rbuf + n, cc->rlen - (size_t)n, &used);
    if (rc < 0)
        return rc;
    /* Bytes after the end of the response: the server is confused. */
    if (rc == 1 && (size_t)n + used != cc->rlen)
        return -EPROTO;
    /* The head stays at rbuf[0..n): resp spans point there. */
    cc->rlen = (size_t)n;
    return rc;
}

static void
cconn_recv(struct cconn *cc)
{
    struct nano_http_client *c = cc->host->cl;
    uint8_t chunk[RECV_CHUNK];

    for (;;) {
        uint8_t *dst;
        size_t room, used;
        ssize_t r;
        int rc;

        if (!cc->head_done) {
            size_t cap = c->opts.limits.head_max;
            if (!cc->rbuf && !(cc->rbuf = nano_malloc(cap))) {
                cconn_fail(cc, -ENOMEM);
                return;
            }
            dst = cc->rbuf + cc->rlen;
            room = cap - cc->rlen;
        } else {
            dst = chunk;
            room = sizeof chunk;
        }
        r = recv(cc->io.fd, dst, room, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r < 0 || (r == 0 && !cc->got_bytes)) {
            cconn_fail(cc, r < 0 ? -errno : -ECONNRESET);
            return;
        }
        if (r == 0) {
            /* EOF: the end of a close-delimited body, else truncation. */
            if (cc->head_done && cc->call->resp.framing == NANO_HTTP_BODY_CLOSE)
                cconn_complete(cc, false);
            else
                goto protocol_error;
            return;
        }
        cc->got_bytes = true;
        if (!cc->head_done) {
            cc->rlen += (size_t)r;
            rc = head_feed(cc);
        } else {
            rc = body_feed(cc, chunk, (size_t)r, &used);
            if (rc == 1 && used != (size_t)r)
                rc = -EPROTO;
        }
        if (rc < 0) {
            int err = rc == -EMSGSIZE ? -EMSGSIZE : -EPROTO;
            struct call *call = cc->call;
            cc->call = NULL;
            call->conn = NULL;
            cconn_close(cc);
            call_finish(call, err);     /* an answer, just a bad one */
            return;
        }
        if (rc == 1) {
            cconn_complete(cc, true);
            return;
        }
    }

protocol_error: {
        struct call *call = cc->call;
        cc->call = NULL;
        call->conn = NULL;
        cconn_close(cc);
        call_finish(call, -EPROTO);
    }
}

static void
on_cconn_io(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct cconn *cc = NANO_CONTAINER_OF(io, struct cconn, io);
    int err = 0;
    socklen_t el = sizeof err;

    (void)loop;
    switch (cc->state) {
    case CC_CONNECTING:
        if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            cconn_fail(cc, -err);
            return;
        }
        nano_timer_stop(cc->host->cl->loop, &cc->timer);
        cc->state = CC_SENDING;
        cconn_send(cc);
        return;
    case CC_SENDING:
        cconn_send(cc);
        return;
    case CC_RECEIVING:
        cconn_recv(cc);
        return;
    default:
        /* Idle and readable: the server closed it (or sent junk). */
        cconn_close(cc);
        return;
    }
}

static void
on_cconn_timer(struct nano_loop *loop, struct nano_timer *t)
{
    struct cconn *cc = NANO_CONTAINER_OF(t, struct cconn, timer);

    (void)loop;
    if (cc->state == CC_CONNECTING)
        cconn_fail(cc, -ETIMEDOUT);
    else
        cconn_close(cc);            /* idle too long */
}

/* Open a connection for call.  Failures go through call_attempt_failed. */
static void
cconn_open(struct host *h, struct call *call)
{
    struct nano_http_client *c = h->cl;
    struct cconn *cc = nano_calloc(1, sizeof *cc);
    int fd, one = 1;

    if (!cc) {
        call_attempt_failed(call, -ENOMEM, false);
        return;
    }
    fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        nano_free(cc);
        call_attempt_failed(call, -errno, false);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nano_io_init(&cc->io, fd, on_cconn_io);
    nano_timer_init(&cc->timer, on_cconn_timer);
    nano_list_init(&cc->link);
    cc->host = h;
    cc->call = call;
    call->conn = cc;
    h->nconns++;
    c->stats.conns++;
    c->stats.connects++;
    if (connect(fd, (struct sockaddr *)&h->addr, h->addrlen) == 0) {
        cc->state = CC_SENDING;
        cconn_send(cc);
        return;
    }
    if (errno != EINPROGRESS) {
        cconn_fail(cc, -errno);
        return;
    }
    cc->state = CC_CONNECTING;
    if (nano_timer_start(c->loop, &cc->timer, c->opts.connect_timeout_ms, 0)
        != NANO_OK) {
        cconn_fail(cc, -ENOMEM);
        return;
    }
    cconn_watch(cc, NANO_EV_WRITE);
}

/* ---- name resolution --------------------------------------------------------- */

/* IP literals and "localhost" need no lookup. */
static bool
literal_addr(struct host *h)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&h->addr;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->addr;

    memset(&h->addr, 0, sizeof h->addr);
    if (strcmp(h->name, "localhost") == 0) {
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, h->name, &s4->sin_addr) != 1) {
        if (inet_pton(AF_INET6, h->name, &s6->sin6_addr) != 1)
            return false;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(h->port);
        h->addrlen = sizeof *s6;
        return true;
    }
    s4->sin_family = AF_INET;
    s4->sin_port = htons(h->port);
    h->addrlen = sizeof *s4;
    return true;
}

/* Fail this attempt of every call waiting on h (the name did not
 * resolve).  Detach the queue first: callbacks may queue new calls. */
static void
fail_waiting(struct host *h, int err)
{
    struct nano_list q;

    nano_list_init(&q);
    while (!nano_list_empty(&h->waiting)) {
        struct nano_list *l = h->waiting.next;
        nano_list_remove(l);
        nano_list_append(&q, l);
    }
    while (!nano_list_empty(&q)) {
        struct call *call = NANO_CONTAINER_OF(q.next, struct call, link);
        nano_list_remove(&call->link);
        call->attempts++;
        call_attempt_failed(call, err, false);
    }
}

static void *
resolver_main(void *arg)
{
    struct nano_http_client *c = arg;

    pthread_mutex_lock(&c->rs_mu);
    for (;;) {
        struct resolve_job *job;
        struct addrinfo hints, *ai = NULL;
        uint64_t one = 1;
        ssize_t w;
        int rc;

        while (!c->rs_quit && nano_list_empty(&c->rs_todo))
            pthread_cond_wait(&c->rs_cv, &c->rs_mu);
        if (c->rs_quit)
            break;
        job = NANO_CONTAINER_OF(c->rs_todo.next, struct resolve_job, link);
        nano_list_remove(&job->link);
        pthread_mutex_unlock(&c->rs_mu);

        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_ADDRCONFIG;
        rc = getaddrinfo(job->name, NULL, &hints, &ai);
        if (rc == 0 && ai && ai->ai_addrlen <= sizeof job->addr) {
            memcpy(&job->addr, ai->ai_addr, ai->ai_addrlen);
            job->addrlen = ai->ai_addrlen;
            job->err = 0;
        } else {
            job->err = rc == EAI_NONAME || rc == EAI_NODATA ? -ENXIO
                     : rc == EAI_AGAIN ? -EAGAIN
                     : rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
            if (job->err == 0)
                job->err = -EHOSTUNREACH;
        }
        if (ai)
            freeaddrinfo(ai);

        pthread_mutex_lock(&c->rs_mu);
        nano_list_append(&c->rs_done, &job->link);
        w = write(c->rs_efd, &one, sizeof one);
        (void)w;
    }
    pthread_mutex_unlock(&c->rs_mu);
    return NULL;
}

static void
on_resolved(struct nano_loop *loop, struct nano_io *io, unsigned events)
{
    struct nano_http_client *c =
        NANO_CONTAINER_OF(io, struct nano_http_client, rs_io);
    struct nano_list done;
    uint64_t v;
    ssize_t r = read(c->rs_efd, &v, sizeof v);

    (void)r;
    (void)loop;
    (void)events;
    nano_list_init(&done);
    pthread_mutex_lock(&c->rs_mu);
    while (!nano_list_empty(&c->rs_done)) {
        struct nano_list *l = c->rs_done.next;
        nano_list_remove(l);
        nano_list_append(&done, l);
    }
    pthread_mutex_unlock(&c->rs_mu);

    while (!nano_list_empty(&done)) {
        struct resolve_job *job =
            NANO_CONTAINER_OF(done.next, struct resolve_job, link);
        struct host *h = job->host;
        nano_list_remove(&job->link);
        if (job->err == 0) {
            memcpy(&h->addr, &job->addr, job->addrlen);
            h->addrlen = job->addrlen;
            if (h->addr.ss_family == AF_INET6)
                ((struct sockaddr_in6 *)&h->addr)->sin6_port = htons(h->port);
            else
                ((struct sockaddr_in *)&h->addr)->sin_port = htons(h->port);
            h->state = H_READY;
            h->expires_ns = nano_time_mono_ns() +
                            (uint64_t)c->opts.dns_ttl_ms * NANO_NS_PER_MS;
            host_pump(h);
        } else {
            h->state = H_NEW;
            fail_waiting(h, job->err);
        }
        nano_free(job);
    }
}

static int
resolver_start(struct nano_http_client *c)
{
    pthread_attr_t attr;
    int rc;

    c->rs_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->rs_efd < 0)
        return -errno;
    nano_io_init(&c->rs_io, c->rs_efd, on_resolved);
    rc = nano_io_start(c->loop, &c->rs_io, NANO_EV_READ);
    if (rc == NANO_OK) {
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, RESOLVER_STACK);
        rc = -pthread_create(&c->rs_thread, &attr, resolver_main, c);
        pthread_attr_destroy(&attr);
    }
    if (rc != NANO_OK) {
        nano_io_stop(c->loop, &c->rs_io);
        close(c->rs_efd);
        c->rs_efd = -1;
        return rc;
    }
    c->rs_started = true;
    return NANO_OK;
}

static int
resolve(struct host *h)
{
    struct nano_http_client *c = h->cl;
    struct resolve_job *job;
    int rc;

    if (!c->rs_started && (rc = resolver_start(c)) != NANO_OK)
        return rc;
    job = nano_calloc(1, sizeof *job);
    if (!job)
        return -ENOMEM;
    job->host = h;
    memcpy(job->name, h->name, sizeof job->name);
    pthread_mutex_lock(&c->rs_mu);
    nano_list_append(&c->rs_todo, &job->link);
    pthread_cond_signal(&c->rs_cv);
    pthread_mutex_unlock(&c->rs_mu);
    c->stats.lookups++;
    h->state = H_RESOLVING;
    return NANO_OK;
}

/* ---- hosts ---------------------------------------------------------------- */

static void
host_pump(struct host *h)
{
    if (h->state == H_READY && h->expires_ns &&
        nano_time_mono_ns() >= h->expires_ns)
        h->state = H_NEW;
    if (nano_list_empty(&h->waiting))
        return;
    if (h->state == H_NEW) {
        if (literal_addr(h)) {
            h->state = H_READY;
            h->expires_ns = 0;
        } else {
            int rc = resolve(h);
            if (rc != NANO_OK)
                fail_waiting(h, rc);
            return;
        }
    }
    if (h->state != H_READY)
        return;
    while (!nano_list_empty(&h->waiting)) {
        struct call *call = NANO_CONTAINER_OF(h->waiting.next, struct call, link);
        struct cconn *cc = NULL;

        if (!nano_list_empty(&h->idle))
            cc = NANO_CONTAINER_OF(h->idle.prev, struct cconn, link);  /* newest */
        else if (h->nconns >= h->cl->opts.max_conns_per_host)
            break;
        nano_list_remove(&call->link);
        call->attempts++;
        if (!cc) {
            cconn_open(h, call);
            continue;
        }
        nano_list_remove(&cc->link);
        nano_timer_stop(h->cl->loop, &cc->timer);
        cc->state = CC_SENDING;
        cc->call = call;
        cc->sent = 0;
        cc->got_bytes = false;
        cc->head_done = false;
        cc->rlen = 0;
        call->conn = cc;
        h->cl->stats.reused++;
        cconn_send(cc);
    }
}

static bool
host_unused(const struct host *h)
{
    return h->state != H_RESOLVING && h->nconns == 0 &&
           nano_list_empty(&h->waiting);
}

static void
host_free(struct host *h)
{
    while (!nano_list_empty(&h->idle))
        cconn_close(NANO_CONTAINER_OF(h->idle.next, struct cconn, link));
    nano_list_remove(&h->link);
    h->cl->nhosts--;
    nano_free(h);
}

/* Forget unused hosts beyond the limit (not while pumping: the pump walks
 * the list). */
static void
hosts_trim(struct nano_http_client *c, unsigned keep)
{
    struct nano_list *it, *tmp;

    if (c->pumping)
        return;
    nano_list_foreach_safe(it, tmp, &c->hosts) {
        struct host *h = NANO_CONTAINER_OF(it, struct host, link);
        if (c->nhosts <= keep)
            return;
        if (host_unused(h))
            host_free(h);
    }
}

static struct host *
host_get(struct nano_http_client *c, struct nano_span name, uint16_t port)
{
    struct nano_list *it;
    struct host *h;

    nano_list_foreach(it, &c->hosts) {
        h = NANO_CONTAINER_OF(it, struct host, link);
        if (h->port == port && strlen(h->name) == name.len &&
            memcmp(h->name, name.p, name.len) == 0)
            return h;
    }
    if (c->nhosts >= c->opts.max_hosts)
        hosts_trim(c, c->opts.max_hosts - 1);
    if (c->nhosts >= c->opts.max_hosts)
        return NULL;
    h = nano_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    memcpy(h->name, name.p, name.len);
    h->port = port;
    h->cl = c;
    h->state = H_NEW;
    nano_list_init(&h->idle);
    nano_list_init(&h->waiting);
    nano_list_append(&c->hosts, &h->link);
    c->nhosts++;
    return h;
}

static void
on_pump(struct nano_loop *loop, struct nano_work *w)
{
    struct nano_http_client *c = NANO_CONTAINER_OF(w, struct nano_http_client, pump);
    struct nano_list *it, *next;

    (void)loop;
    c->pumping = true;
    for (it = c->hosts.next; it != &c->hosts; it = next) {
        next = it->next;
        host_pump(NANO_CONTAINER_OF(it, struct host, link));
    }
    c->pumping = false;
    hosts_trim(c, c->opts.max_hosts);
}

/* ---- public API ------------------------------------------------------------- */

int
nano_http_client_new(struct nano_loop *loop,
                     const struct nano_http_client_opts *opts,
                     struct nano_http_client **out)
{
    struct nano_http_client *c;

    *out = NULL;
    c = nano_calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    if (opts)
        c->opts = *opts;
    else
        nano_http_client_opts_default(&c->opts);
    if (c->opts.max_conns_per_host == 0 || c->opts.max_hosts == 0 ||
        c->opts.max_pending == 0 || c->opts.limits.head_max < 64) {
        nano_free(c);
        return -EINVAL;
    }
    c->loop = loop;
    nano_list_init(&c->hosts);
    nano_list_init(&c->calls);
    nano_list_init(&c->rs_todo);
    nano_list_init(&c->rs_done);
    nano_work_init(&c->pump, on_pump);
    pthread_mutex_init(&c->rs_mu, NULL);
    pthread_cond_init(&c->rs_cv, NULL);
    c->rs_efd = -1;
    *out = c;
    return NANO_OK;
}

void
nano_http_client_free(struct nano_http_client *c)
{
    if (!c)
        return;
    c->closing = true;
    while (!nano_list_empty(&c->calls)) {
        struct call *call = NANO_CONTAINER_OF(c->calls.next, struct call, all);
        if (call->conn) {
            struct cconn *cc = call->conn;
            cc->call = NULL;
            call->conn = NULL;
            cconn_close(cc);
        }
        call_finish(call, -ECANCELED);
    }
    if (c->rs_started) {
        pthread_mutex_lock(&c->rs_mu);
        c->rs_quit = true;
        pthread_cond_signal(&c->rs_cv);
        pthread_mutex_unlock(&c->rs_mu);
        pthread_join(c->rs_thread, NULL);
        nano_io_stop(c->loop, &c->rs_io);
        close(c->rs_efd);
    }
    while (!nano_list_empty(&c->rs_todo) || !nano_list_empty(&c->rs_done)) {
        struct nano_list *l = !nano_list_empty(&c->rs_todo) ? c->rs_todo.next
                                                            : c->rs_done.next;
        nano_list_remove(l);
        nano_free(NANO_CONTAINER_OF(l, struct resolve_job, link));
    }
    while (!nano_list_empty(&c->hosts))
        host_free(NANO_CONTAINER_OF(c->hosts.next, struct host, link));
    nano_loop_cancel(c->loop, &c->pump);
    pthread_mutex_destroy(&c->rs_mu);
    pthread_cond_destroy(&c->rs_cv);
    nano_free(c);
}

static bool
is_method_token(const char *s)
{
    if (!*s || strlen(s) > 16)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

/* Extra header lines: each "Name: value\r\n", no empty line, no bare CR/LF. */
static bool
headers_ok(const char *h)
{
    size_t n = strlen(h);

    if (n == 0)
        return true;
    if (n < 2 || h[n - 2] != '\r' || h[n - 1] != '\n' || h[0] == '\r')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '\r' && (i + 1 >= n || h[i + 1] != '\n'))
            return false;
        if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r'))
            return false;
        if (h[i] == '\n' && i + 1 < n && (h[i + 1] == '\r' || h[i + 1] == ' ' ||
                                          h[i + 1] == '\t'))
            return false;
    }
    return strchr(h, ':') != NULL;
}

int
nano_http_client_request(struct nano_http_client *c, const char *method,
                         const char *url, const char *content_type,
                         const void *body, size_t len,
                         const struct nano_http_call_opts *opts,
                         nano_http_done_fn *done, void *arg)
{
    struct nano_http_url u;
    struct host *h;
    struct call *call;
    char head[1024 + HOST_MAX], hostport[HOST_MAX + 16];
    const char *extra = opts && opts->headers ? opts->headers : "";
    size_t hl;
    int n, rc;

    if (!c || !method || !url || !done || !is_method_token(method) ||
        (content_type && strpbrk(content_type, "\r\n")) || !headers_ok(extra) ||
        (len && !body))
        return -EINVAL;
    if (c->closing)
        return -ECANCELED;
    rc = nano_http_url_parse(url, strlen(url), &u);
    if (rc != NANO_OK)
        return rc;
    if (u.tls)
        return -EPROTONOSUPPORT;          /* TLS not configured */
    if (u.host.len > HOST_MAX)
        return -EINVAL;
    if (len > c->opts.limits.body_max)
        return -EMSGSIZE;
    if (c->stats.pending >= c->opts.max_pending)
        return -EBUSY;

    if (memchr(u.host.p, ':', u.host.len))
        n = snprintf(hostport, sizeof hostport, "[%.*s]", (int)u.host.len,
                     (const char *)u.host.p);
    else
        n = snprintf(hostport, sizeof hostport, "%.*s", (int)u.host.len,
                     (const char *)u.host.p);
    if (u.port != 80)
        snprintf(hostport + n, sizeof hostport - (size_t)n, ":%u", u.port);
    n = snprintf(head, sizeof head,
                 "%s %.*s%s%.*s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nano\r\n"
                 "%s%s%s",
                 method, (int)u.path.len, (const char *)u.path.p,
                 u.has_query ? "?" : "", (int)u.query.len,
                 (const char *)u.query.p, hostport,
                 content_type ? "Content-Type: " : "",
                 content_type ? content_type : "", content_type ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof head)
        return -EINVAL;
    hl = (size_t)n;
    if (len || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
        strcmp(method, "PATCH") == 0) {
        n = snprintf(head + hl, sizeof head - hl, "Content-Length: %zu\r\n", len);
        if (n < 0 || (size_t)n >= sizeof head - hl)
            return -EINVAL;
        hl += (size_t)n;
    }

    h = host_get(c, u.host, u.port);
    if (!h)
        return -EBUSY;
    call = nano_calloc(1, sizeof *call + hl + strlen(extra) + 2 + len);
    if (!call)
        return -ENOMEM;
    memcpy(call->req, head, hl);
    memcpy(call->req + hl, extra, strlen(extra));
    hl += strlen(extra);
    memcpy(call->req + hl, "\r\n", 2);
    hl += 2;
    if (len)
        memcpy(call->req + hl, body, len);
    call->req_len = hl + len;
    call->cl = c;
    call->host = h;
    call->done = done;
    call->arg = arg;
    call->flags = opts ? opts->flags : 0;
    call->max_retries = opts && opts->max_retries >= 0 ? (unsigned)opts->max_retries
                                                       : c->opts.max_retries;
    call->head_method = strcmp(method, "HEAD") == 0;
    nano_buf_init(&call->body, c->opts.limits.body_max);
    nano_list_init(&call->link);
    nano_timer_init(&call->deadline, on_call_deadline);
    nano_timer_init(&call->backoff, on_call_backoff);
    rc = nano_timer_start(c->loop, &call->deadline,
                          opts && opts->timeout_ms ? opts->timeout_ms
                                                   : c->opts.total_timeout_ms, 0);
    if (rc != NANO_OK) {
        nano_free(call);
        return rc;
    }
    nano_list_append(&c->calls, &call->all);
    c->stats.calls++;
    c->stats.pending++;
    call_enqueue(call);
    return NANO_OK;
}

int
nano_http_client_post(struct nano_http_client *c, const char *url,
                      const char *content_type, const void *body, size_t len,
                      const struct nano_http_call_opts *opts,
                      nano_http_done_fn *done, void *arg)
{
    return nano_http_client_request(c, "POST", url, content_type, body, len,
                                    opts, done, arg);
}

void
nano_http_client_stats(const struct nano_http_client *c,
                       struct nano_http_client_stats *out)
{
    *out = c->stats;
}
