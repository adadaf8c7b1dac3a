/* SPDX-License-Identifier: MIT
 *
 * http_call.c - the blocking Unix-socket client nanoctl uses (contract in
 * http_client.h).  A separate file from the asynchronous client so that
 * nanoctl, linking from libnano.a, pulls in neither the loop client nor
 * its resolver thread.
 *
 * One request per connection: connect, write the request, read until the
 * response is complete, close.  The socket is non-blocking and every wait
 * is a poll() bounded by the caller's deadline (or, when streaming, by the
 * idle timeout per read), so a wedged daemon cannot hang the CLI.
 *
 * Buffers: the head is read into a stack buffer of head_max bytes; body
 * bytes go to the caller's nano_buf or callback as they are decoded; the
 * line mode keeps one line (at most LINE_MAX bytes) in a nano_buf.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/http_client.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/time.h"

#define HEAD_MAX 8192
#define LINE_MAX (64 * 1024)

struct sink {
    struct nano_buf    *buf;      /* whole-body mode */
    nano_http_chunk_fn *cb;       /* streaming mode */
    void               *arg;
    bool                lines;
    struct nano_buf     line;
};

/* Wait for events on fd until deadline (0: forever).  Returns NANO_OK or
 * -ETIMEDOUT. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
    struct pollfd p = { .fd = fd, .events = events };

    for (;;) {
        int ms = -1, r;
        if (deadline) {
            uint64_t now = nano_time_mono_ns();
            if (now >= deadline)
                return -ETIMEDOUT;
            ms = (int)((deadline - now + NANO_NS_PER_MS - 1) / NANO_NS_PER_MS);
        }
        r = poll(&p, 1, ms);
        if (r > 0)
            return NANO_OK;
        if (r == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static uint64_t
deadline_in(int timeout_ms)
{
    return timeout_ms < 0 ? 0
         : nano_time_mono_ns() + (uint64_t)timeout_ms * NANO_NS_PER_MS;
}

static int
connect_unix(const char *path, uint64_t deadline, int *fd_out)
{
    struct sockaddr_un sa;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* ENOENT: no socket file; ECONNREFUSED: a file nobody listens on.
     * EAGAIN: the daemon's backlog is full - it is alive, keep trying. */
    while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        if (err == EINTR)
            continue;
        if (err == EAGAIN) {
            uint64_t now = nano_time_mono_ns();
            if (deadline && now >= deadline) {
                close(fd);
                return -ETIMEDOUT;
            }
            poll(NULL, 0, 5);
            continue;
        }
        if (err == EINPROGRESS) {
            int rc = wait_fd(fd, POLLOUT, deadline);
            socklen_t el = sizeof err;
            if (rc == NANO_OK &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err)
                break;
            close(fd);
            return rc != NANO_OK ? rc : -err;
        }
        close(fd);
        return -err;
    }
    *fd_out = fd;
    return NANO_OK;
}

static int
send_all(int fd, const void *p, size_t n, uint64_t deadline)
{
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r > 0) {
            p = (const char *)p + r;
            n -= (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(fd, POLLOUT, deadline);
            if (rc != NANO_OK)
                return rc;
            continue;
        }
        return r < 0 && errno != EPIPE ? -errno : -ECONNRESET;
    }
    return NANO_OK;
}

/* Read some bytes.  Returns the count, 0 at EOF, or -ETIMEDOUT / -errno. */
static ssize_t
recv_some(int fd, uint8_t *p, size_t n, uint64_t deadline, int idle_ms)
{
    for (;;) {
        ssize_t r = recv(fd, p, n, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return errno == ECONNRESET ? -ECONNRESET : -errno;
        r = wait_fd(fd, POLLIN, idle_ms >= 0 ? deadline_in(idle_ms) : deadline);
        if (r != NANO_OK)
            return r;
    }
}

static int
sink_lines_flush(struct sink *s, bool all)
{
    struct nano_buf *l = &s->line;
    size_t start = 0;
    int rc;

    for (size_t i = 0; i < l->len; i++) {
        size_t end;
        if (l->data[i] != '\n')
            continue;
        end = i;
        if (end > start && l->data[end - 1] == '\r')
            end--;
        rc = s->cb(l->data + start, end - start, s->arg);
        if (rc)
            return rc;
        start = i + 1;
    }
    nano_buf_consume(l, start);
    if (l->len && (all || l->len == LINE_MAX)) {
        rc = s->cb(l->data, l->len, s->arg);
        nano_buf_reset(l);
        return rc;
    }
    return 0;
}

/* Returns 0, the callback's stop value, or -ENOSPC / -ENOMEM. */
static int
sink_put(struct sink *s, const uint8_t *p, size_t n)
{
    if (s->buf) {
        int rc = nano_buf_append(s->buf, p, n);
        return rc == -ENOSPC ? -ENOSPC : rc;
    }
    if (!s->lines)
        return n ? s->cb((const char *)p, n, s->arg) : 0;
    while (n) {
        size_t take = LINE_MAX - s->line.len;
        int rc;
        if (take > n)
            take = n;
        if (nano_buf_append(&s->line, p, take) != NANO_OK)
            return -ENOMEM;
        p += take;
        n -= take;
        rc = sink_lines_flush(s, false);
        if (rc)
            return rc;
    }
    return 0;
}

static bool
target_ok(const char *t)
{
    if (t[0] != '/' && strcmp(t, "*") != 0)
        return false;
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
            return false;
    return true;
}

static bool
method_ok(const char *m)
{
    size_t n = strlen(m);

    if (n == 0 || n > 16)
        return false;
    for (; *m; m++)
        if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z')))
            return false;
    return true;
}

static int
exchange(const char *path, const char *method, const char *target,
         const void *body, size_t len, int *status_out, struct sink *s,
         uint64_t deadline, int idle_ms)
{
    struct nano_http_response_head h;
    uint8_t buf[HEAD_MAX];
    char head[2304];
    struct nano_http_chunked ck;
    size_t have = 0, off;
    int fd = -1, n, rc;
    bool has_body = len || strcmp(method, "POST") == 0 ||
                    strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;

    if (!path || !method || !target || !method_ok(method) || !target_ok(target) ||
        strlen(target) > 2048 || (len && !body))
        return -EINVAL;
    n = snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: nanoctl\r\n"
                 "Connection: close\r\n", method, target);
    if (has_body)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                      len);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");

    rc = connect_unix(path, deadline, &fd);
    if (rc != NANO_OK)
        return rc;
    rc = send_all(fd, head, (size_t)n, deadline);
    if (rc == NANO_OK && len)
        rc = send_all(fd, body, len, deadline);
    if (rc != NANO_OK)
        goto out;

    /* the head (skipping interim 1xx responses) */
    for (;;) {
        ssize_t r;
        n = nano_http_parse_response(buf, have, NULL, &h, NULL);
        if (n > 0 && h.status < 200) {
            memmove(buf, buf + n, have - (size_t)n);
            have -= (size_t)n;
            continue;
        }
        if (n > 0)
            break;
        if (n != -EAGAIN) {
            rc = -EPROTO;
            goto out;
        }
        r = recv_some(fd, buf + have, sizeof buf - have, deadline, idle_ms);
        if (r <= 0) {
            rc = r == 0 ? -ECONNRESET : (int)r;
            goto out;
        }
        have += (size_t)r;
    }
    if (status_out)
        *status_out = h.status;
    if (strcmp(method, "HEAD") == 0)
        h.framing = NANO_HTTP_BODY_NONE;
    nano_http_chunked_init(&ck, UINT64_MAX >> 1);
    off = (size_t)n;

    /* the body: decode what is buffered, then read more into buf */
    for (;;) {
        bool done = false;
        ssize_t r;

        if (h.framing == NANO_HTTP_BODY_NONE) {
            done = true;
        } else if (h.framing == NANO_HTTP_BODY_LENGTH) {
            size_t take = have - off;
            if (take > h.content_length)
                take = (size_t)h.content_length;
            rc = sink_put(s, buf + off, take);
            h.content_length -= take;
            off += take;
            done = h.content_length == 0;
        } else if (h.framing == NANO_HTTP_BODY_CHUNKED) {
            while (off < have && !nano_http_chunked_done(&ck) && rc == NANO_OK) {
                struct nano_span d;
                int k = nano_http_chunked_feed(&ck, buf + off, have - off, &d);
                if (k < 0) {
                    rc = -EPROTO;
                    break;
                }
                rc = sink_put(s, d.p, d.len);
                off += (size_t)k;
            }
            done = nano_http_chunked_done(&ck);
        } else {
            rc = sink_put(s, buf + off, have - off);
            off = have;
        }
        if (rc != NANO_OK || done)
            break;
        have = off = 0;
        r = recv_some(fd, buf, sizeof buf, deadline, idle_ms);
        if (r < 0) {
            rc = (int)r;
            break;
        }
        if (r == 0) {
            rc = h.framing == NANO_HTTP_BODY_CLOSE ? NANO_OK : -ECONNRESET;
            break;
        }
        have = (size_t)r;
    }
    if (rc == NANO_OK && s->cb && s->lines)
        rc = sink_lines_flush(s, true);

out:
    close(fd);
    return rc;
}

int
nano_http_call_unix(const char *path, const char *method, const char *target,
                    const void *body, size_t len, int *status_out,
                    struct nano_buf *resp_body, int timeout_ms)
{
    struct sink s;

    if (!resp_body)
        return -EINVAL;
    memset(&s, 0, sizeof s);
    s.buf = resp_body;
    return exchange(path, method, target, body, len, status_out, &s,
                    deadline_in(timeout_ms), -1);
}

int
nano_http_stream_unix(const char *path, const char *method, const char *target,
                      const void *body, size_t len, unsigned flags,
                      int *status_out, nano_http_chunk_fn *cb, void *arg,
                      int idle_timeout_ms)
{
    struct sink s;
    int rc;

    if (!cb)
        return -EINVAL;
    memset(&s, 0, sizeof s);
    s.cb = cb;
    s.arg = arg;
    s.lines = (flags & NANO_HTTP_STREAM_LINES) != 0;
    nano_buf_init(&s.line, LINE_MAX);
    /* Connecting and sending are bounded by the idle timeout too. */
    rc = exchange(path, method, target, body, len, status_out, &s,
                  deadline_in(idle_timeout_ms), idle_timeout_ms);
    nano_buf_free(&s.line);
    return rc;
}
