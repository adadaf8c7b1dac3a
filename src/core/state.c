/* SPDX-License-Identifier: MIT
 *
 * state.c - atomic state files with a checked header (see state.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/state.h"

#define MAGIC "NANO-STATE 1 "

uint32_t
nano_crc32(const void *data, size_t len)
{
    /* Bitwise CRC-32 (IEEE 802.3, reflected 0xEDB88320).  State files are
     * small and written rarely: no 1 KB table needed. */
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;

    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

int
nano_state_mkdir(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof path)
        return -EINVAL;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0750) < 0 && errno != EEXIST)
                return -errno;
            path[i] = c;
        }
    }
    return NANO_OK;
}

static int
write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return NANO_OK;
}

int
nano_state_write(const char *dir, const char *name, const void *data,
                 size_t len)
{
    char path[4096], tmp[4096 + 16], head[64];
    int fd, dfd, rc;
    int hn;

    if (len > NANO_STATE_MAX)
        return -EFBIG;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    hn = snprintf(head, sizeof head, MAGIC "%zu %08x\n", len,
                  nano_crc32(data, len));
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, head, (size_t)hn);
    if (rc == NANO_OK)
        rc = write_all(fd, data, len);
    if (rc == NANO_OK && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == NANO_OK)
        rc = -errno;
    if (rc == NANO_OK && rename(tmp, path) < 0)
        rc = -errno;
    if (rc != NANO_OK) {
        unlink(tmp);
        return rc;
    }
    /* The rename is only durable once the directory entry is on disk. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return NANO_OK;
}

static int
quarantine(const char *path, int rc)
{
    char bad[4096 + 16];

    snprintf(bad, sizeof bad, "%s.corrupt", path);
    rename(path, bad);
    return rc;
}

int
nano_state_read(const char *dir, const char *name, struct nano_buf *out,
                struct nano_diag *d)
{
    char path[4096];
    struct nano_buf raw;
    char chunk[4096];
    int fd, rc = NANO_OK;
    ssize_t n;

    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    nano_buf_init(&raw, NANO_STATE_MAX + 64);
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        rc = nano_buf_append(&raw, chunk, (size_t)n);
        if (rc != NANO_OK)
            break;
    }
    if (n < 0)
        rc = -errno;
    close(fd);
    if (rc == -ENOSPC) {
        nano_buf_free(&raw);
        nano_diag_set(d, NANO_ECORRUPT, 0, 0, "%s: larger than %u bytes",
                      path, NANO_STATE_MAX);
        return quarantine(path, NANO_ECORRUPT);
    }
    if (rc != NANO_OK) {
        nano_buf_free(&raw);
        return rc;
    }

    struct nano_span payload;
    struct nano_diag why = { 0 };
    rc = nano_state_decode(raw.data, raw.len, &payload, &why);
    if (rc != NANO_OK) {
        nano_diag_set(d, rc, 0, 0, "%s: %s", path, why.msg);
        goto bad;
    }
    rc = nano_buf_append(out, payload.p, payload.len);
    nano_buf_free(&raw);
    return rc;

bad:
    nano_buf_free(&raw);
    return quarantine(path, rc);
}

int
nano_state_decode(const char *raw, size_t len, struct nano_span *payload,
                  struct nano_diag *d)
{
    const char *nl;
    unsigned long long want_len;
    unsigned long want_crc;
    char digits[32];
    size_t n, off;
    uint32_t crc;

    /* Header: magic, decimal length, one space, 8 hex digits, newline. */
    nl = raw ? memchr(raw, '\n', len < 64 ? len : 64) : NULL;
    if (!nl || len < sizeof MAGIC - 1 || memcmp(raw, MAGIC, sizeof MAGIC - 1) != 0)
        return nano_diag_set(d, NANO_ECORRUPT, 0, 0,
                             "not a Nano state file (bad header)");
    const char *p = raw + sizeof MAGIC - 1;
    for (n = 0; p + n < nl && p[n] >= '0' && p[n] <= '9' && n < 20; n++)
        ;
    if (n == 0 || n >= sizeof digits || p[n] != ' ' || p + n + 9 != nl)
        return nano_diag_set(d, NANO_ECORRUPT, 0, 0, "malformed header");
    memcpy(digits, p, n);
    digits[n] = '\0';
    want_len = strtoull(digits, NULL, 10);
    p += n + 1;
    want_crc = 0;
    for (int i = 0; i < 8; i++) {
        char c = p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
                c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return nano_diag_set(d, NANO_ECORRUPT, 0, 0, "malformed header");
        want_crc = want_crc << 4 | (unsigned long)v;
    }
    off = (size_t)(nl - raw) + 1;
    if (len - off != want_len)
        return nano_diag_set(d, NANO_ECORRUPT, 0, 0, "torn write: header says "
                             "%llu bytes, file has %zu", want_len, len - off);
    crc = nano_crc32(raw + off, len - off);
    if (crc != (uint32_t)want_crc)
        return nano_diag_set(d, NANO_ECORRUPT, 0, 0, "checksum mismatch (stored "
                             "%08lx, computed %08x)", want_crc, crc);
    payload->p = (const uint8_t *)raw + off;
    payload->len = len - off;
    return NANO_OK;
}

int
nano_state_remove(const char *dir, const char *name)
{
    char path[4096];

    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return NANO_OK;
}
