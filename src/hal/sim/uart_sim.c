/* SPDX-License-Identifier: MIT
 *
 * uart_sim.c - emulated serial ports as real pseudo-terminal pairs.
 *
 * nano_sim_uart_open("uart0") creates a pty pair with posix_openpt(): the
 * slave side (/dev/pts/N) is what "sim:uart0" opens through the ordinary
 * termios back end, so the driver's serial code is the code that runs on a
 * device; the master side is returned to the test or emulator, which plays
 * the device.  The registry keeps one slave fd open as well, so the pair
 * survives drivers closing and reopening the port (with no slave open, the
 * master reads EIO) and the raw settings made here persist.
 *
 * A port may instead be played by emulated Modbus slaves (emu_modbus.c),
 * whose server thread owns the master side's reads while it runs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct sim_uart {
    struct sim_uart *next;
    char             name[HAL_NAME_MAX];
    char             slave_path[64];
    int              master_fd;
    int              slave_fd;
    struct sim_mb   *mb;             /* emulated Modbus slaves, or NULL */
};

static struct sim_uart *uarts;

static struct sim_uart *
uart_find(const char *name)
{
    for (struct sim_uart *u = uarts; u; u = u->next)
        if (strcmp(u->name, name) == 0)
            return u;
    return NULL;
}

static void
uart_free(struct sim_uart *u)
{
    sim__mb_stop(u->mb);             /* before its fd goes */
    if (u->slave_fd >= 0)
        close(u->slave_fd);
    if (u->master_fd >= 0)
        close(u->master_fd);
    nano_free(u);
}

int
nano_sim_uart_open(const char *name, int *master_fd_out)
{
    struct sim_uart *u = uart_find(name);
    struct termios t;
    int rc;

    if (u) {
        *master_fd_out = u->master_fd;
        return NANO_OK;
    }
    if (!*name || strlen(name) >= HAL_NAME_MAX || strchr(name, '/'))
        return -EINVAL;
    u = nano_calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    u->slave_fd = -1;
    snprintf(u->name, sizeof u->name, "%s", name);
    u->master_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (u->master_fd < 0) {
        rc = -errno;
        nano_free(u);
        return rc;
    }
    if (grantpt(u->master_fd) < 0 || unlockpt(u->master_fd) < 0 ||
        ptsname_r(u->master_fd, u->slave_path, sizeof u->slave_path) != 0) {
        rc = -errno;
        goto fail;
    }
    u->slave_fd = open(u->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (u->slave_fd < 0) {
        rc = -errno;
        goto fail;
    }
    /* Raw from the start: a fresh pty echoes and edits lines, which would
     * bounce the test's bytes back before any driver configured the port. */
    if (tcgetattr(u->slave_fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(u->slave_fd, TCSANOW, &t);
    }
    if (fcntl(u->master_fd, F_SETFL, O_NONBLOCK) < 0) {
        rc = -errno;
        goto fail;
    }
    u->next = uarts;
    uarts = u;
    *master_fd_out = u->master_fd;
    return NANO_OK;

fail:
    uart_free(u);
    return rc;
}

int
nano_sim_uart_remove(const char *name)
{
    for (struct sim_uart **pp = &uarts; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) == 0) {
            struct sim_uart *u = *pp;
            *pp = u->next;
            uart_free(u);
            return NANO_OK;
        }
    }
    return NANO_ENOTFOUND;
}

int
hal__uart_sim_path(const char *name, char *out, size_t cap)
{
    struct sim_uart *u = uart_find(name);
    int n;

    if (!u)
        return -ENOENT;
    n = snprintf(out, cap, "%s", u->slave_path);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : NANO_OK;
}

int
sim__uart_mb(const char *port, bool create, struct sim_mb **mb_out)
{
    struct sim_uart *u = uart_find(port);
    int fd, rc;

    if (!u && !create)
        return NANO_ENOTFOUND;
    if (!u) {
        rc = nano_sim_uart_open(port, &fd);
        if (rc != NANO_OK)
            return rc;
        u = uart_find(port);
    }
    if (!u->mb) {
        if (!create)
            return NANO_ENOTFOUND;
        u->mb = sim__mb_start(u->master_fd);
        if (!u->mb)
            return -ENOMEM;
    }
    *mb_out = u->mb;
    return NANO_OK;
}

void
sim__uart_foreach_mb(void (*fn)(void *arg, const char *port, unsigned unit),
                     void *arg)
{
    struct sim_uart *u, *next;

    for (u = uarts; u; u = next) {
        next = u->next;
        if (u->mb)
            sim__mb_foreach(u->mb, u->name, fn, arg);
    }
}

void
sim__uart_reset(void)
{
    struct sim_uart *u, *next;

    for (u = uarts; u; u = next) {
        next = u->next;
        uart_free(u);
    }
    uarts = NULL;
}
