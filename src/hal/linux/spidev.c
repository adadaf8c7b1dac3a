/* SPDX-License-Identifier: MIT
 *
 * spidev.c - SPI back end on Linux's spidev character devices.
 *
 * The mode, word size and clock are set once at open (SPI_IOC_WR_*); each
 * transfer is one SPI_IOC_MESSAGE(1) with chip select held throughout, which
 * is what every ADC and sensor protocol on SPI expects.  The kernel copies
 * through a bounce buffer of `bufsiz` bytes (module parameter, default 4096),
 * hence NANO_SPI_MAX_LEN.
 */
#include <fcntl.h>
#include <linux/spi/spidev.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct spidev {
    struct nano_spi base;         /* first: the public handle */
    int             fd;
    uint32_t        speed_hz;
    uint8_t         bits;
};

static int
spidev_transfer(struct nano_spi *spi, const uint8_t *tx, uint8_t *rx,
                size_t len)
{
    struct spidev *d = (struct spidev *)spi;
    struct spi_ioc_transfer t;

    memset(&t, 0, sizeof t);
    t.tx_buf = (uint64_t)(uintptr_t)tx;     /* NULL: the kernel sends zeros */
    t.rx_buf = (uint64_t)(uintptr_t)rx;
    t.len = (uint32_t)len;
    t.speed_hz = d->speed_hz;
    t.bits_per_word = d->bits;
    if (ioctl(d->fd, SPI_IOC_MESSAGE(1), &t) < 0)
        return hal__xfer_err(errno);
    return NANO_OK;
}

static void
spidev_close(struct nano_spi *spi)
{
    struct spidev *d = (struct spidev *)spi;

    close(d->fd);
    nano_free(d);
}

static const struct hal_spi_ops spidev_ops = {
    .transfer = spidev_transfer,
    .close    = spidev_close,
};

/* "spidev0.0" and "spi0.0" -> /dev/spidev0.0; absolute paths as given. */
static int
spidev_path(const char *name, char *out, size_t cap)
{
    const char *rest;
    unsigned bus, cs;
    char tail;
    int n;

    if (name[0] == '/') {
        n = snprintf(out, cap, "%s", name);
    } else {
        if (strncmp(name, "spidev", 6) == 0)
            rest = name + 6;
        else if (strncmp(name, "spi", 3) == 0)
            rest = name + 3;
        else
            return -EINVAL;
        if (sscanf(rest, "%u.%u%c", &bus, &cs, &tail) != 2)
            return -EINVAL;
        n = snprintf(out, cap, "/dev/spidev%u.%u", bus, cs);
    }
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : NANO_OK;
}

int
hal__spidev_open(const char *name, const struct nano_spi_cfg *cfg,
                 struct nano_spi **out)
{
    char path[HAL_NAME_MAX + 16];
    struct spidev *d;
    uint8_t mode = cfg->mode, bits = cfg->bits_per_word ? cfg->bits_per_word : 8;
    uint32_t speed = cfg->speed_hz;
    int rc;

    rc = spidev_path(name, path, sizeof path);
    if (rc != NANO_OK)
        return rc;
    d = nano_calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->base.ops = &spidev_ops;
    d->fd = open(path, O_RDWR | O_CLOEXEC);
    if (d->fd < 0) {
        rc = -errno;
        goto fail;
    }
    if (ioctl(d->fd, SPI_IOC_WR_MODE, &mode) < 0 ||
        ioctl(d->fd, SPI_IOC_WR_BITS_PER_WORD, &bits) < 0) {
        rc = errno == ENOTTY ? -ENOTTY : -errno;
        goto fail_fd;
    }
    if (speed && ioctl(d->fd, SPI_IOC_WR_MAX_SPEED_HZ, &speed) < 0) {
        rc = -errno;
        goto fail_fd;
    }
    d->speed_hz = speed;
    d->bits = bits;
    *out = &d->base;
    return NANO_OK;

fail_fd:
    close(d->fd);
fail:
    nano_free(d);
    return rc;
}
