/* SPDX-License-Identifier: MIT
 *
 * emu_modbus.c - emulated Modbus RTU slaves on an emulated serial port.
 *
 * The port is a real pseudo-terminal (uart_sim.c); a thread serves the
 * master side as the slaves would serve the wire (Modbus over serial line,
 * V1.02, and the application protocol V1.1b3): a frame is what arrives
 * before the line goes quiet (here 4 ms, longer than 3.5 characters at
 * 9600 baud); a frame with a bad CRC, or for a unit id nobody has, gets
 * silence, as on a shared bus.  Function codes 1 and 2 (coils, discrete
 * inputs), 3 and 4 (holding, input registers), 5 and 6 (write one coil or
 * register) are answered; reading an address that was never defined is
 * exception 2 (illegal data address), any other function exception 1.
 *
 * Each slave holds a small table of (table, address, value) cells set from
 * the config's `simulation:` section or nano_sim_set(port, unit id,
 * "holding.12", value).  The tables are shared with the loop thread, so a
 * mutex guards them; nothing else here is shared.
 *
 * Faults per slave: timeout and unplug (no answer), nack (exception 6,
 * "slave device busy"), crc (the reply's CRC is wrong).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

#define MB_UNITS  8
#define MB_CELLS  128
#define QUIET_MS  4

enum { TB_COIL, TB_DISCRETE, TB_HOLDING, TB_INPUT };
static const char *const table_names[] = {
    "coil", "discrete", "holding", "input", NULL
};

struct mb_cell {
    uint8_t  table;
    uint16_t addr;
    uint16_t value;
};

struct mb_unit {
    uint8_t             id;
    bool                plugged;
    enum nano_sim_fault fault;
    int                 fault_count;
    unsigned            ncells;
    struct mb_cell      cells[MB_CELLS];
    uint64_t            served;
};

struct sim_mb {
    int             fd;              /* master side: Borrows (uart registry) */
    int             stop[2];
    pthread_t       thread;
    pthread_mutex_t lock;
    struct mb_unit  units[MB_UNITS];
    unsigned        nunits;
};

static uint16_t
crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 1 ? (crc >> 1) ^ 0xA001 : crc >> 1);
    }
    return crc;
}

static struct mb_unit *
unit_find(struct sim_mb *mb, unsigned id)
{
    for (unsigned i = 0; i < mb->nunits; i++)
        if (mb->units[i].id == id)
            return &mb->units[i];
    return NULL;
}

static struct mb_cell *
cell_find(struct mb_unit *u, unsigned table, unsigned addr)
{
    for (unsigned i = 0; i < u->ncells; i++)
        if (u->cells[i].table == table && u->cells[i].addr == addr)
            return &u->cells[i];
    return NULL;
}

static int
cell_set(struct mb_unit *u, unsigned table, unsigned addr, unsigned value)
{
    struct mb_cell *c = cell_find(u, table, addr);

    if (!c) {
        if (u->ncells == MB_CELLS)
            return -ENOSPC;
        c = &u->cells[u->ncells++];
        c->table = (uint8_t)table;
        c->addr = (uint16_t)addr;
    }
    c->value = (uint16_t)value;
    return NANO_OK;
}

static void
send_frame(struct sim_mb *mb, uint8_t *out, size_t n, bool bad_crc)
{
    uint16_t crc = crc16(out, n);
    ssize_t w;

    if (bad_crc)
        crc ^= 0x5A5A;
    out[n++] = (uint8_t)crc;
    out[n++] = (uint8_t)(crc >> 8);
    w = write(mb->fd, out, n);
    (void)w;
}

/* Answer one frame.  Called with the lock held. */
static void
serve(struct sim_mb *mb, const uint8_t *in, size_t len)
{
    uint8_t out[260];
    struct mb_unit *u;
    unsigned fc, addr, qty, table;
    enum nano_sim_fault f;
    size_t n = 0;
    int exc = 0;

    if (len < 8 || crc16(in, len - 2) != (in[len - 2] | in[len - 1] << 8))
        return;                              /* not for anyone: silence */
    u = unit_find(mb, in[0]);
    if (!u)
        return;
    f = u->plugged ? u->fault : NANO_SIM_FAULT_UNPLUG;
    if (u->fault != NANO_SIM_FAULT_NONE && u->fault_count > 0 &&
        --u->fault_count == 0)
        u->fault = NANO_SIM_FAULT_NONE;
    if (f == NANO_SIM_FAULT_TIMEOUT || f == NANO_SIM_FAULT_UNPLUG)
        return;
    fc = in[1];
    addr = (unsigned)in[2] << 8 | in[3];
    qty = (unsigned)in[4] << 8 | in[5];
    out[n++] = in[0];
    out[n++] = (uint8_t)fc;
    if (f == NANO_SIM_FAULT_NACK) {
        exc = 6;                             /* slave device busy */
        goto exception;
    }
    switch (fc) {
    case 1: case 2:
        table = fc == 1 ? TB_COIL : TB_DISCRETE;
        if (qty < 1 || qty > 2000 || addr + qty > 65536) {
            exc = 3;
            goto exception;
        }
        out[n++] = (uint8_t)((qty + 7) / 8);
        memset(out + n, 0, (qty + 7) / 8);
        for (unsigned i = 0; i < qty; i++) {
            struct mb_cell *c = cell_find(u, table, addr + i);
            if (!c) {
                exc = 2;
                goto exception;
            }
            if (c->value)
                out[n + i / 8] |= (uint8_t)(1u << (i % 8));
        }
        n += (qty + 7) / 8;
        break;
    case 3: case 4:
        table = fc == 3 ? TB_HOLDING : TB_INPUT;
        if (qty < 1 || qty > 125 || addr + qty > 65536) {
            exc = 3;
            goto exception;
        }
        out[n++] = (uint8_t)(qty * 2);
        for (unsigned i = 0; i < qty; i++) {
            struct mb_cell *c = cell_find(u, table, addr + i);
            if (!c) {
                exc = 2;
                goto exception;
            }
            out[n++] = (uint8_t)(c->value >> 8);
            out[n++] = (uint8_t)c->value;
        }
        break;
    case 5: case 6:
        if (fc == 5 && qty != 0xFF00 && qty != 0) {
            exc = 3;
            goto exception;
        }
        if (cell_set(u, fc == 5 ? TB_COIL : TB_HOLDING, addr,
                     fc == 5 ? qty == 0xFF00 : qty) != NANO_OK) {
            exc = 4;
            goto exception;
        }
        memcpy(out, in, 6);                  /* the echo */
        n = 6;
        break;
    default:
        exc = 1;
        goto exception;
    }
    u->served++;
    send_frame(mb, out, n, f == NANO_SIM_FAULT_CRC);
    return;

exception:
    out[1] = (uint8_t)(fc | 0x80);
    out[2] = (uint8_t)exc;
    send_frame(mb, out, 3, f == NANO_SIM_FAULT_CRC);
}

static void *
mb_main(void *arg)
{
    struct sim_mb *mb = arg;
    uint8_t buf[512];
    size_t len = 0;
    struct pollfd p[2];
    ssize_t n;
    int r;

    for (;;) {
        p[0] = (struct pollfd){ .fd = mb->fd, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = mb->stop[0], .events = POLLIN };
        r = poll(p, 2, len ? QUIET_MS : -1);
        if (r < 0)
            continue;
        if (p[1].revents)
            break;
        if (r == 0) {                        /* the line went quiet: a frame */
            pthread_mutex_lock(&mb->lock);
            serve(mb, buf, len);
            pthread_mutex_unlock(&mb->lock);
            len = 0;
            continue;
        }
        if (p[0].revents & POLLIN) {
            n = read(mb->fd, buf + len, sizeof buf - len);
            if (n > 0)
                len += (size_t)n;
            if (len == sizeof buf)
                len = 0;                     /* no frame is this long */
        } else if (p[0].revents) {
            usleep(1000);                    /* hang-up: nobody on the port */
        }
    }
    return NULL;
}

/* ---- lifetime, used by uart_sim.c ---------------------------------------- */

struct sim_mb *
sim__mb_start(int master_fd)
{
    struct sim_mb *mb = nano_calloc(1, sizeof *mb);

    if (!mb)
        return NULL;
    mb->fd = master_fd;
    if (pipe2(mb->stop, O_CLOEXEC) < 0) {
        nano_free(mb);
        return NULL;
    }
    pthread_mutex_init(&mb->lock, NULL);
    if (pthread_create(&mb->thread, NULL, mb_main, mb) != 0) {
        pthread_mutex_destroy(&mb->lock);
        close(mb->stop[0]);
        close(mb->stop[1]);
        nano_free(mb);
        return NULL;
    }
    return mb;
}

void
sim__mb_stop(struct sim_mb *mb)
{
    ssize_t w;

    if (!mb)
        return;
    w = write(mb->stop[1], "x", 1);
    (void)w;
    pthread_join(mb->thread, NULL);
    pthread_mutex_destroy(&mb->lock);
    close(mb->stop[0]);
    close(mb->stop[1]);
    nano_free(mb);
}

/* ---- controls -------------------------------------------------------------- */

int
nano_sim_modbus_add(const char *port, unsigned unit)
{
    struct sim_mb *mb;
    int rc;

    if (unit < 1 || unit > 247)
        return -EINVAL;
    rc = sim__uart_mb(port, true, &mb);
    if (rc != NANO_OK)
        return rc;
    pthread_mutex_lock(&mb->lock);
    if (unit_find(mb, unit))
        rc = NANO_EEXISTS;
    else if (mb->nunits == MB_UNITS)
        rc = -ENOSPC;
    else
        mb->units[mb->nunits++] = (struct mb_unit){ .id = (uint8_t)unit,
                                                    .plugged = true };
    pthread_mutex_unlock(&mb->lock);
    return rc;
}

static int
with_unit(const char *port, unsigned unit, struct sim_mb **mb_out,
          struct mb_unit **u_out)
{
    int rc = sim__uart_mb(port, false, mb_out);

    if (rc != NANO_OK)
        return NANO_ENOTFOUND;
    pthread_mutex_lock(&(*mb_out)->lock);
    *u_out = unit_find(*mb_out, unit);
    if (!*u_out) {
        pthread_mutex_unlock(&(*mb_out)->lock);
        return NANO_ENOTFOUND;
    }
    return NANO_OK;                      /* locked */
}

int
nano_sim_modbus_remove(const char *port, unsigned unit)
{
    struct sim_mb *mb;
    struct mb_unit *u;
    int rc = with_unit(port, unit, &mb, &u);

    if (rc != NANO_OK)
        return rc;
    *u = mb->units[--mb->nunits];
    pthread_mutex_unlock(&mb->lock);
    return NANO_OK;
}

static int
parse_cell(const char *what, unsigned *table, unsigned *addr)
{
    const char *dot = strchr(what, '.');
    char *end;
    unsigned long a;

    if (!dot)
        return -EINVAL;
    for (unsigned t = 0; table_names[t]; t++) {
        if (strlen(table_names[t]) == (size_t)(dot - what) &&
            strncmp(table_names[t], what, (size_t)(dot - what)) == 0) {
            a = strtoul(dot + 1, &end, 0);
            if (end == dot + 1 || *end || a > 65535)
                return -EINVAL;
            *table = t;
            *addr = (unsigned)a;
            return NANO_OK;
        }
    }
    return -EINVAL;
}

int
nano_sim_modbus_set(const char *port, unsigned unit, const char *cell,
                    unsigned value)
{
    struct sim_mb *mb;
    struct mb_unit *u;
    unsigned table, addr;
    int rc;

    if (parse_cell(cell, &table, &addr) != NANO_OK)
        return -EINVAL;
    if (value > 65535 || ((table == TB_COIL || table == TB_DISCRETE) && value > 1))
        return -ERANGE;
    rc = with_unit(port, unit, &mb, &u);
    if (rc != NANO_OK)
        return rc;
    rc = cell_set(u, table, addr, value);
    pthread_mutex_unlock(&mb->lock);
    return rc;
}

int
nano_sim_modbus_get(const char *port, unsigned unit, const char *cell,
                    unsigned *value)
{
    struct sim_mb *mb;
    struct mb_unit *u;
    struct mb_cell *c;
    unsigned table, addr;
    int rc;

    if (parse_cell(cell, &table, &addr) != NANO_OK)
        return -EINVAL;
    rc = with_unit(port, unit, &mb, &u);
    if (rc != NANO_OK)
        return rc;
    c = cell_find(u, table, addr);
    if (c)
        *value = c->value;
    pthread_mutex_unlock(&mb->lock);
    return c ? NANO_OK : NANO_ENOTFOUND;
}

int
nano_sim_modbus_fault(const char *port, unsigned unit, enum nano_sim_fault f,
                      int count)
{
    struct sim_mb *mb;
    struct mb_unit *u;
    int rc;

    if (count == 0 || count < -1)
        return -EINVAL;
    rc = with_unit(port, unit, &mb, &u);
    if (rc != NANO_OK)
        return rc;
    if (f == NANO_SIM_FAULT_UNPLUG) {
        u->plugged = false;
    } else {
        u->fault = f;
        u->fault_count = f == NANO_SIM_FAULT_NONE ? 0 : count;
        if (f == NANO_SIM_FAULT_NONE)
            u->plugged = true;
    }
    pthread_mutex_unlock(&mb->lock);
    return NANO_OK;
}

uint64_t
nano_sim_modbus_served(const char *port, unsigned unit)
{
    struct sim_mb *mb;
    struct mb_unit *u;
    uint64_t n;

    if (with_unit(port, unit, &mb, &u) != NANO_OK)
        return 0;
    n = u->served;
    pthread_mutex_unlock(&mb->lock);
    return n;
}

void
sim__mb_foreach(struct sim_mb *mb, const char *port,
                void (*fn)(void *arg, const char *port, unsigned unit), void *arg)
{
    uint8_t ids[MB_UNITS];
    unsigned n;

    pthread_mutex_lock(&mb->lock);
    n = mb->nunits;
    for (unsigned i = 0; i < n; i++)
        ids[i] = mb->units[i].id;
    pthread_mutex_unlock(&mb->lock);
    for (unsigned i = 0; i < n; i++)
        fn(arg, port, ids[i]);
}
