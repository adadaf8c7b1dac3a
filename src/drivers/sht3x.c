/* SPDX-License-Identifier: MIT
 *
 * sht3x.c - Sensirion SHT30/SHT31/SHT35 temperature and humidity on I2C.
 *
 * Single-shot measurements without clock stretching (datasheet
 * "SHT3x-DIS" section 4.3, table 9), so the bus is never held: sample()
 * sends the 16-bit command and arms a timer for the maximum measurement
 * duration of the chosen repeatability (table 4: 15.5 / 6.5 / 4.5 ms); the
 * timer callback reads six bytes.  A sensor that is still measuring does not
 * acknowledge the read header (section 4.4); the callback then retries a
 * few times a millisecond apart before giving up with NANO_ENACK.
 *
 * Each 16-bit word is followed by its CRC-8 (polynomial 0x31, init 0xFF,
 * section 4.12); a mismatch fails the sample with NANO_ECRC.  Conversion
 * (section 4.13): T = -45 + 175 St / 65535 °C, RH = 100 Srh / 65535 %.
 * The probe reads the status register (also CRC-protected), which proves a
 * live SHT3x at the address.
 */
#include <stdio.h>

#include "core/loop.h"
#include "drivers/driver.h"
#include "hal/i2c.h"

#define CMD_STATUS  0xF32D
#define RETRIES     3

struct sht3x {
    /* parameters */
    const char        *bus;
    int                addr;
    int                rep;          /* high, medium, low */
    /* state */
    struct nano_dev   *dev;
    struct nano_i2c   *i2c;
    struct nano_timer  conv;
    unsigned           tries;
};

static const char *const rep_names[] = { "high", "medium", "low", NULL };
static const uint16_t rep_cmd[] = { 0x2400, 0x240B, 0x2416 };
static const uint32_t rep_us[] = { 15500, 6500, 4500 };

static const struct nano_param params[] = {
    NANO_PARAM_STR("bus", struct sht3x, bus, "i2c1",
                   "I2C bus: i2c1 (/dev/i2c-1) or sim:i2c1"),
    NANO_PARAM_INT("address", struct sht3x, addr, "0x44",
                   "7-bit address: 0x44 (ADDR low) or 0x45 (ADDR high)",
                   0x44, 0x45),
    NANO_PARAM_ENUM("repeatability", struct sht3x, rep, "high",
                    "high (0.04 °C noise, 15 ms), medium or low (4 ms)",
                    rep_names),
    NANO_PARAM_END
};

/* Datasheet section 2: -40..125 °C, 0..100 %RH. */
static const struct nano_quantity quantities[] = {
    { "temperature", "°C", -40, 125, "air temperature" },
    { "humidity", "%RH", 0, 100, "relative humidity" },
    { NULL, NULL, 0, 0, NULL }
};

static uint8_t
crc8(const uint8_t *p, size_t n)
{
    uint8_t crc = 0xFF;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x31 : crc << 1);
    }
    return crc;
}

static int
command(struct sht3x *s, uint16_t cmd)
{
    uint8_t b[2] = { (uint8_t)(cmd >> 8), (uint8_t)cmd };

    return nano_i2c_write(s->i2c, (uint16_t)s->addr, b, 2);
}

static void conv_done(struct nano_loop *loop, struct nano_timer *t);

static int
sht_probe(struct nano_dev *dev)
{
    struct sht3x *s = nano_dev_ctx(dev);
    uint8_t st[3];
    int rc;

    s->dev = dev;
    nano_timer_init(&s->conv, conv_done);
    rc = nano_i2c_open(s->bus, &s->i2c);
    if (rc != NANO_OK) {
        nano_dev_logf(dev, NANO_LOG_ERR, "cannot open I2C bus %s: %s", s->bus,
                      nano_strerror(rc));
        return rc;
    }
    if ((rc = command(s, CMD_STATUS)) != NANO_OK ||
        (rc = nano_i2c_read(s->i2c, (uint16_t)s->addr, st, 3)) != NANO_OK)
        return rc;
    if (crc8(st, 2) != st[2]) {
        nano_dev_logf(dev, NANO_LOG_WARN, "status register CRC mismatch at "
                      "0x%02x: not an SHT3x, or a noisy bus", s->addr);
        return NANO_ECRC;
    }
    return NANO_OK;
}

static int
sht_sample(struct nano_dev *dev)
{
    struct sht3x *s = nano_dev_ctx(dev);
    int rc;

    rc = command(s, rep_cmd[s->rep]);
    if (rc != NANO_OK)
        return rc;
    s->tries = 0;
    rc = nano_timer_start_ns(nano_dev_loop(dev), &s->conv,
                             (uint64_t)rep_us[s->rep] * 1000, 0);
    return rc == NANO_OK ? -EINPROGRESS : rc;
}

static void
conv_done(struct nano_loop *loop, struct nano_timer *t)
{
    struct sht3x *s = NANO_CONTAINER_OF(t, struct sht3x, conv);
    uint8_t r[6];
    int rc;

    rc = nano_i2c_read(s->i2c, (uint16_t)s->addr, r, sizeof r);
    if (rc == NANO_ENACK && ++s->tries <= RETRIES) {
        nano_timer_start(loop, &s->conv, 1, 0);   /* still measuring */
        return;
    }
    if (rc != NANO_OK) {
        nano_dev_fail(s->dev, rc);
        return;
    }
    if (crc8(r, 2) != r[2] || crc8(r + 3, 2) != r[5]) {
        nano_dev_logf(s->dev, NANO_LOG_WARN, "measurement CRC mismatch");
        nano_dev_fail(s->dev, NANO_ECRC);
        return;
    }
    nano_dev_report(s->dev, "temperature",
                    -45.0 + 175.0 * (r[0] << 8 | r[1]) / 65535.0);
    nano_dev_report(s->dev, "humidity", 100.0 * (r[3] << 8 | r[4]) / 65535.0);
    nano_dev_done(s->dev);
}

static void
sht_close(struct nano_dev *dev)
{
    struct sht3x *s = nano_dev_ctx(dev);

    nano_timer_stop(nano_dev_loop(dev), &s->conv);
    nano_i2c_close(s->i2c);
    s->i2c = NULL;
}

const struct nano_driver nano_driver_sht3x = {
    .name                = "sht3x",
    .summary             = "Sensirion SHT3x temperature and humidity (I2C)",
    .params              = params,
    .ctx_size            = sizeof(struct sht3x),
    .quantities          = quantities,
    .default_interval_ms = 10000,
    .timeout_ms          = 500,
    .probe               = sht_probe,
    .sample              = sht_sample,
    .close               = sht_close,
};
