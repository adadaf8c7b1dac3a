/* SPDX-License-Identifier: MIT
 *
 * spi_sim.c - the emulated SPI back end: "sim:spi0.1" is chip select 1 of
 * the emulated bus "spi0".
 *
 * SPI has no acknowledge, so the faults look the way they do on a board:
 * an unplugged or NACK-faulted device leaves MISO pulled high (every byte
 * reads 0xFF); TIMEOUT is reported as an error, standing in for a controller
 * that fails the transfer (the kernel's -ETIMEDOUT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct spi_sim {
    struct nano_spi base;          /* first: the public handle */
    char            bus[HAL_NAME_MAX];
    unsigned        cs;
};

static int
sim_transfer(struct nano_spi *spi, const uint8_t *tx, uint8_t *rx, size_t len)
{
    struct spi_sim *s = (struct spi_sim *)spi;
    struct sim_dev *d = sim__find(s->bus, SIM_SPI, s->cs);
    uint8_t zeros[NANO_SPI_MAX_LEN], sink[NANO_SPI_MAX_LEN];

    if (!tx) {
        memset(zeros, 0, len);
        tx = zeros;
    }
    if (!rx)
        rx = sink;
    if (!d) {
        memset(rx, 0xFF, len);
        return NANO_OK;
    }
    switch (sim__take_fault(d)) {
    case NANO_SIM_FAULT_NACK:
    case NANO_SIM_FAULT_UNPLUG:
        memset(rx, 0xFF, len);
        return NANO_OK;
    case NANO_SIM_FAULT_TIMEOUT:
        return NANO_ETIMEDOUT_DEV;
    case NANO_SIM_FAULT_POWERON:
        if (d->model->reset)
            d->model->reset(d);
        break;
    case NANO_SIM_FAULT_CRC:
    case NANO_SIM_FAULT_NONE:
        break;
    }
    d->model->spi_xfer(d, tx, rx, len);
    return NANO_OK;
}

static void
sim_close(struct nano_spi *spi)
{
    nano_free(spi);
}

static const struct hal_spi_ops sim_ops = {
    .transfer = sim_transfer,
    .close    = sim_close,
};

int
hal__spi_sim_open(const char *name, const struct nano_spi_cfg *cfg,
                  struct nano_spi **out)
{
    struct spi_sim *s;
    const char *dot = strrchr(name, '.');
    char bus[HAL_NAME_MAX];
    char *end;
    unsigned long cs;

    (void)cfg;
    if (!dot || dot == name || (size_t)(dot - name) >= sizeof bus)
        return -EINVAL;
    cs = strtoul(dot + 1, &end, 10);
    if (end == dot + 1 || *end || cs > 15)
        return -EINVAL;
    memcpy(bus, name, (size_t)(dot - name));
    bus[dot - name] = '\0';
    if (!sim__bus_exists(bus, SIM_SPI))
        return -ENOENT;
    s = nano_calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->base.ops = &sim_ops;
    snprintf(s->bus, sizeof s->bus, "%s", bus);
    s->cs = (unsigned)cs;
    *out = &s->base;
    return NANO_OK;
}
