/* SPDX-License-Identifier: MIT
 *
 * w1_sysfs.c - 1-Wire slaves as directories of attribute files (the
 * kernel's w1 sysfs layout; the emulator writes the same layout elsewhere).
 *
 * A handle is only a directory path: listing reads the directory (sysfs
 * lists slaves as symlinks, the emulator as directories; both are accepted),
 * and reads open the attribute file fresh each time, because the kernel
 * starts a conversion per open/read of w1_slave and a slave may vanish
 * between reads (then open fails with ENOENT).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct nano_w1 {
    char root[NANO_W1_PATH_MAX];
};

static char *default_root;     /* NULL: NANO_W1_SYSFS */

void
nano_w1_set_default_root(const char *path)
{
    nano_free(default_root);
    default_root = path ? nano_strdup(path) : NULL;
}

const char *
hal__w1_default_root(void)
{
    return default_root ? default_root : NANO_W1_SYSFS;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
nano_w1_id_valid(const char *s)
{
    if (strlen(s) != 15 || s[2] != '-')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 2 && hexval(s[i]) < 0)
            return 0;
    return 1;
}

int
hal__w1_open_dir(const char *dir, struct nano_w1 **out)
{
    struct nano_w1 *w;
    struct stat st;

    if (strlen(dir) >= NANO_W1_PATH_MAX - NANO_W1_ID_MAX - 32)
        return -ENAMETOOLONG;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    w = nano_calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    snprintf(w->root, sizeof w->root, "%s", dir);
    *out = w;
    return NANO_OK;
}

void
nano_w1_close(struct nano_w1 *w1)
{
    nano_free(w1);
}

const char *
nano_w1_root(const struct nano_w1 *w1)
{
    return w1->root;
}

static int
cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

int
nano_w1_list(struct nano_w1 *w1, const uint8_t *families, size_t nfam,
             char (*ids)[NANO_W1_ID_MAX], size_t cap)
{
    DIR *dir;
    struct dirent *de;
    size_t found = 0;

    dir = opendir(w1->root);
    if (!dir)
        return -errno;
    while ((de = readdir(dir)) != NULL) {
        bool want = nfam == 0;
        uint8_t fam;

        if (!nano_w1_id_valid(de->d_name))
            continue;
        fam = (uint8_t)(hexval(de->d_name[0]) << 4 | hexval(de->d_name[1]));
        for (size_t i = 0; i < nfam; i++)
            if (families[i] == fam)
                want = true;
        if (!want)
            continue;
        if (found < cap)
            memcpy(ids[found], de->d_name, 16);   /* 15 chars + NUL, checked */
        found++;
    }
    closedir(dir);
    qsort(ids, found < cap ? found : cap, NANO_W1_ID_MAX, cmp_id);
    return (int)found;
}

int
nano_w1_attr_path(const struct nano_w1 *w1, const char *id, const char *attr,
                  char *out, size_t cap)
{
    int n;

    if (!nano_w1_id_valid(id) || strchr(attr, '/'))
        return -EINVAL;
    n = snprintf(out, cap, "%s/%s/%s", w1->root, id, attr);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : NANO_OK;
}

ssize_t
nano_w1_read_file(const char *path, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    int fd, rc;

    if (cap == 0)
        return -EINVAL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (len + 1 < cap) {
        n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            close(fd);
            return rc;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}
