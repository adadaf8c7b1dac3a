/* SPDX-License-Identifier: MIT
 *
 * uart_termios.c - serial ports through termios (real ports and the
 * emulator's pseudo-terminals alike).
 *
 * Raw mode (cfmakeraw: no echo, no canonical input, no signals, no CR/LF
 * mapping), receiver on, modem lines ignored (CLOCAL), no flow control,
 * VMIN = 1, VTIME = 0 and O_NONBLOCK, so reads return what is there and the fd
 * belongs on the loop.  An advisory flock(LOCK_EX) keeps two Nano instances
 * from sharing a port by accident (-EBUSY).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct nano_uart {
    int  fd;
    char name[HAL_NAME_MAX];
};

static const struct { uint32_t baud; speed_t code; } rates[] = {
    { 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 }, { 150, B150 },
    { 200, B200 }, { 300, B300 }, { 600, B600 }, { 1200, B1200 },
    { 1800, B1800 }, { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 },
    { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
    { 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
    { 500000, B500000 }, { 576000, B576000 }, { 921600, B921600 },
    { 1000000, B1000000 }, { 1152000, B1152000 }, { 1500000, B1500000 },
    { 2000000, B2000000 }, { 2500000, B2500000 }, { 3000000, B3000000 },
    { 3500000, B3500000 }, { 4000000, B4000000 },
};

static int
rate_code(uint32_t baud, speed_t *out)
{
    for (size_t i = 0; i < NANO_ARRAY_LEN(rates); i++) {
        if (rates[i].baud == baud) {
            *out = rates[i].code;
            return NANO_OK;
        }
    }
    return -EINVAL;
}

int
nano_uart_cfg_check(const struct nano_uart_cfg *cfg)
{
    speed_t code;

    if (!cfg || rate_code(cfg->baud, &code) != NANO_OK)
        return -EINVAL;
    if (cfg->parity != 'N' && cfg->parity != 'E' && cfg->parity != 'O')
        return -EINVAL;
    if (cfg->data_bits < 5 || cfg->data_bits > 8)
        return -EINVAL;
    if (cfg->stop_bits != 1 && cfg->stop_bits != 2)
        return -EINVAL;
    return NANO_OK;
}

uint32_t
nano_uart_char_us(const struct nano_uart_cfg *cfg)
{
    uint32_t bits = 1u + cfg->data_bits + (cfg->parity != 'N') + cfg->stop_bits;

    return (uint32_t)((bits * 1000000ull + cfg->baud - 1) / cfg->baud);
}

static int
configure(int fd, const struct nano_uart_cfg *cfg)
{
    struct termios t;
    speed_t code = B9600;

    if (rate_code(cfg->baud, &code) != NANO_OK)
        return -EINVAL;
    if (tcgetattr(fd, &t) < 0)
        return -errno;
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    switch (cfg->data_bits) {
    case 5: t.c_cflag |= CS5; break;
    case 6: t.c_cflag |= CS6; break;
    case 7: t.c_cflag |= CS7; break;
    default: t.c_cflag |= CS8; break;
    }
    if (cfg->parity != 'N') {
        t.c_cflag |= PARENB;
        if (cfg->parity == 'O')
            t.c_cflag |= PARODD;
        t.c_iflag |= INPCK;      /* check parity, drop bad bytes */
    }
    if (cfg->stop_bits == 2)
        t.c_cflag |= CSTOPB;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    /* VMIN 1 with O_NONBLOCK: no data is -EAGAIN and 0 means hang-up.
     * (VMIN 0 would make an empty read return 0 and hide hang-ups.) */
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, code) < 0 || cfsetospeed(&t, code) < 0)
        return -EINVAL;
    if (tcsetattr(fd, TCSANOW, &t) < 0)
        return -errno;
    return NANO_OK;
}

int
hal__uart_termios_open(const char *path, const char *name,
                       const struct nano_uart_cfg *cfg, struct nano_uart **out)
{
    struct nano_uart *u;
    int rc;

    u = nano_calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    snprintf(u->name, sizeof u->name, "%s", name);
    u->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (u->fd < 0) {
        rc = -errno;
        nano_free(u);
        return rc;
    }
    if (!isatty(u->fd)) {
        rc = -ENOTTY;
        goto fail;
    }
    if (flock(u->fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        goto fail;
    }
    rc = configure(u->fd, cfg);
    if (rc != NANO_OK)
        goto fail;
    tcflush(u->fd, TCIOFLUSH);
    *out = u;
    return NANO_OK;

fail:
    close(u->fd);
    nano_free(u);
    return rc;
}

void
nano_uart_close(struct nano_uart *u)
{
    if (!u)
        return;
    close(u->fd);
    nano_free(u);
}

int
nano_uart_fd(const struct nano_uart *u)
{
    return u->fd;
}

ssize_t
nano_uart_read(struct nano_uart *u, void *buf, size_t len)
{
    ssize_t n = read(u->fd, buf, len);

    if (n > 0)
        return n;
    if (n == 0)
        return len ? -EPIPE : 0;    /* O_NONBLOCK: no data is EAGAIN; 0 is hang-up */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return -EAGAIN;
    return errno == EIO ? -EPIPE : -errno;  /* EIO: the other side hung up */
}

ssize_t
nano_uart_write(struct nano_uart *u, const void *buf, size_t len)
{
    ssize_t n = write(u->fd, buf, len);

    if (n >= 0)
        return n ? n : -EAGAIN;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return -EAGAIN;
    return errno == EIO ? -EPIPE : -errno;
}

int
nano_uart_flush(struct nano_uart *u)
{
    return tcflush(u->fd, TCIOFLUSH) < 0 ? -errno : NANO_OK;
}

const char *
nano_uart_name(const struct nano_uart *u)
{
    return u->name;
}
