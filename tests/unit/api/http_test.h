/* http_test.h - helpers for the api tests (header-only, static).
 *
 * A raw client connection whose waits pump the event loop: one thread
 * drives both the server under test and its peer, so every interleaving a
 * test needs is explicit and there are no races to reason about.  Writes
 * are blocking (they are small), reads are non-blocking between loop
 * iterations.  Responses are read with the project's own parser, which
 * test_http_parse.c checks separately.
 */
#ifndef NANO_TEST_HTTP_TEST_H
#define NANO_TEST_HTTP_TEST_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/http_parse.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/time.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* The harness ends each test with _exit(), which skips LeakSanitizer's
 * exit-time check, so tests ask for it explicitly once all is freed. */
#define CHECK_NO_LEAKS() NT_CHECK(__lsan_do_recoverable_leak_check() == 0)
#else
#define CHECK_NO_LEAKS() ((void)0)
#endif

#define TC_BUF (512 * 1024)

/* Not every test file uses every helper. */
#define TC_FN static __attribute__((unused))

struct tconn {
    int    fd;
    bool   eof;
    bool   reset;
    size_t len;
    char   buf[TC_BUF];
};

struct tresp {
    int      status;
    bool     keep_alive;
    char     head[4096];     /* status line and headers as text */
    char    *body;           /* nano_malloc'd, NUL-terminated */
    size_t   body_len;
    unsigned chunks;         /* data pieces seen for chunked bodies */
};

TC_FN uint64_t
now_ms(void)
{
    return nano_time_mono_ns() / NANO_NS_PER_MS;
}

TC_FN void
pump(struct nano_loop *loop, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;

    do
        nano_loop_run_once(loop, 1);
    while (now_ms() < end);
}

TC_FN int
tc_connect_unix(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -errno;
    }
    return fd;
}

/* rcvbuf > 0 shrinks the receive buffer before connecting (back-pressure). */
TC_FN int
tc_connect_tcp(uint16_t port, int rcvbuf)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The kernel completes the handshake into the listen backlog, so a
     * blocking connect returns before the server's loop accepts. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -errno;
    }
    return fd;
}

TC_FN struct tconn *
tc_open(int fd)
{
    struct tconn *t;

    if (fd < 0)
        return NULL;
    t = nano_calloc(1, sizeof *t);
    t->fd = fd;
    return t;
}

TC_FN void
tc_close(struct tconn *t)
{
    if (!t)
        return;
    close(t->fd);
    nano_free(t);
}

TC_FN bool
tc_send(struct tconn *t, const void *p, size_t n)
{
    while (n) {
        ssize_t r = send(t->fd, p, n, MSG_NOSIGNAL);
        if (r <= 0)
            return false;
        p = (const char *)p + r;
        n -= (size_t)r;
    }
    return true;
}

TC_FN bool
tc_sends(struct tconn *t, const char *s)
{
    return tc_send(t, s, strlen(s));
}

/* Pump the loop until some bytes arrive, EOF, or timeout.  Returns bytes
 * read, 0 on EOF/reset, -ETIMEDOUT. */
TC_FN int
tc_fill(struct nano_loop *loop, struct tconn *t, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        ssize_t r;
        if (t->len == sizeof t->buf)
            return -ENOSPC;
        r = recv(t->fd, t->buf + t->len, sizeof t->buf - t->len, MSG_DONTWAIT);
        if (r > 0) {
            t->len += (size_t)r;
            return (int)r;
        }
        if (r == 0 || (r < 0 && errno == ECONNRESET)) {
            t->eof = true;
            t->reset = r < 0;
            return 0;
        }
        if (now_ms() >= end)
            return -ETIMEDOUT;
        nano_loop_run_once(loop, 1);
    }
}

/* True when the peer closed within timeout_ms (data before EOF is kept). */
TC_FN bool
tc_wait_closed(struct nano_loop *loop, struct tconn *t, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;

    while (!t->eof && now_ms() < end)
        if (tc_fill(loop, t, (int)(end - now_ms())) == -ENOSPC)
            t->len = 0;
    return t->eof;
}

TC_FN void
tresp_free(struct tresp *r)
{
    nano_free(r->body);
    r->body = NULL;
}

/* Read one response (HEAD: no body).  Returns 0, -ETIMEDOUT, -EPIPE (closed
 * first) or -EPROTO. */
TC_FN int
tc_response(struct nano_loop *loop, struct tconn *t, struct tresp *r,
            bool head_req, int timeout_ms)
{
    static struct nano_http_response_head h;
    struct nano_http_chunked ck;
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    size_t off;
    int n;

    memset(r, 0, sizeof *r);
    for (;;) {
        n = nano_http_parse_response((uint8_t *)t->buf, t->len, NULL, &h, NULL);
        if (n > 0)
            break;
        if (n != -EAGAIN)
            return -EPROTO;
        if (t->eof)
            return -EPIPE;
        if (now_ms() >= end)
            return -ETIMEDOUT;
        tc_fill(loop, t, (int)(end - now_ms()));
    }
    r->status = h.status;
    r->keep_alive = h.keep_alive;
    snprintf(r->head, sizeof r->head, "%.*s", n, t->buf);
    r->body = nano_malloc(TC_BUF + 1);
    off = (size_t)n;
    if (head_req || h.framing == NANO_HTTP_BODY_NONE) {
        /* nothing */
    } else if (h.framing == NANO_HTTP_BODY_LENGTH) {
        while (t->len - off < h.content_length) {
            if (t->eof || now_ms() >= end)
                return -ETIMEDOUT;
            tc_fill(loop, t, (int)(end - now_ms()));
        }
        memcpy(r->body, t->buf + off, (size_t)h.content_length);
        r->body_len = (size_t)h.content_length;
        off += (size_t)h.content_length;
    } else if (h.framing == NANO_HTTP_BODY_CHUNKED) {
        nano_http_chunked_init(&ck, TC_BUF);
        while (!nano_http_chunked_done(&ck)) {
            struct nano_span d;
            if (off == t->len) {
                if (t->eof || now_ms() >= end)
                    return -ETIMEDOUT;
                tc_fill(loop, t, (int)(end - now_ms()));
                continue;
            }
            n = nano_http_chunked_feed(&ck, (uint8_t *)t->buf + off,
                                       t->len - off, &d);
            if (n < 0)
                return -EPROTO;
            if (d.len) {
                memcpy(r->body + r->body_len, d.p, d.len);
                r->body_len += d.len;
                r->chunks++;
            }
            off += (size_t)n;
        }
    } else {
        while (!t->eof && now_ms() < end)
            tc_fill(loop, t, (int)(end - now_ms()));
        r->body_len = t->len - off;
        memcpy(r->body, t->buf + off, r->body_len);
        off = t->len;
    }
    r->body[r->body_len] = '\0';
    memmove(t->buf, t->buf + off, t->len - off);
    t->len -= off;
    return 0;
}

/* One request/response on t.  Returns the status or a negative error. */
TC_FN int
tc_call(struct nano_loop *loop, struct tconn *t, const char *req,
        struct tresp *r)
{
    int rc;

    if (!tc_sends(t, req))
        return -EPIPE;
    rc = tc_response(loop, t, r, strncmp(req, "HEAD ", 5) == 0, 3000);
    return rc < 0 ? rc : r->status;
}

#endif
