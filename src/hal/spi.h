/* SPDX-License-Identifier: MIT
 *
 * spi.h - SPI devices: full-duplex transfers with mode and clock.
 *
 *   "spidev0.0", "spi0.0", "/dev/spidev0.0"   Linux spidev (linux/spidev.c)
 *   "sim:spi0.0"                              chip select 0 of the emulated
 *                                             bus "spi0" (sim/spi_sim.c)
 *
 * SPI has no acknowledge: an absent device reads as whatever MISO floats to
 * (all ones with a pull-up), so drivers check protocol bits they know (the
 * MCP3008's null bit, for one).  Emulated buses can still inject errors
 * (NANO_ETIMEDOUT_DEV) to exercise the paths a kernel error would take.
 *
 * Context: one handle belongs to one thread at a time.
 */
#ifndef NANO_HAL_SPI_H
#define NANO_HAL_SPI_H

#include <stddef.h>
#include <stdint.h>

#define NANO_SPI_MAX_LEN 4096   /* spidev's default buffer size */

struct nano_spi;

struct nano_spi_cfg {
    uint32_t speed_hz;      /* 0: leave the device's setting */
    uint8_t  mode;          /* 0-3 (CPOL << 1 | CPHA) */
    uint8_t  bits_per_word; /* 0: 8 */
};

/* Returns NANO_OK and *spi_out (Returns owned; free with nano_spi_close),
 * -ENOENT, -EINVAL or -errno.  Borrows cfg. */
int  nano_spi_open(const char *bus, const struct nano_spi_cfg *cfg,
                   struct nano_spi **spi_out);
void nano_spi_close(struct nano_spi *spi);       /* NULL is a no-op */

/* Clock len bytes out of tx while reading len bytes into rx (chip select
 * held for the whole transfer).  tx NULL sends zeros; rx NULL discards.
 * Returns NANO_OK, -EINVAL (len 0 or over NANO_SPI_MAX_LEN) or -errno. */
int  nano_spi_transfer(struct nano_spi *spi, const uint8_t *tx, uint8_t *rx,
                       size_t len);

const char *nano_spi_name(const struct nano_spi *spi);

#endif
