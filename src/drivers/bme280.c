/* SPDX-License-Identifier: MIT
 *
 * bme280.c - Bosch BME280 temperature / humidity / pressure on I2C.
 *
 * A measurement is "trigger, wait, read", driven by the loop and never by a
 * sleep: sample() writes ctrl_hum and ctrl_meas (forced mode) in one
 * transfer and arms a timer for the datasheet's maximum measurement time
 * for the chosen oversampling (section 9.1); the timer callback burst-reads
 * status and the eight data registers in one transfer (0xF3-0xFE, so the
 * values belong to one conversion, section 4), re-arms briefly if the chip
 * still says "measuring", then compensates with the calibration read at
 * probe time and reports three quantities.
 *
 * Compensation is the datasheet's integer arithmetic (BST-BME280-DS002
 * section 4.2.3: 32-bit temperature and humidity, 64-bit pressure), written
 * with multiplications where the reference shifts possibly negative values
 * left (undefined behaviour in C); it relies on arithmetic right shifts of
 * negative values, which every compiler Nano targets does.  The unit tests
 * replay the data sheet's worked example (adc_T 519888 -> 25.08 °C, adc_P
 * 415148 -> 100653.27 Pa) through this file by way of the emulator.
 *
 * Faults: a chip id other than 0x60 fails the probe (0x56-0x58 is a BMP280,
 * which has no humidity sensor); data registers still holding their reset
 * value 0x80000 mean the chip was reset since the trigger (brown-out) and
 * fail the sample with NANO_EPOWERON.
 */
#include <stdio.h>
#include <string.h>

#include "core/loop.h"
#include "drivers/driver.h"
#include "hal/i2c.h"

#define REG_CALIB1    0x88        /* 26 bytes: T1..P9, reserved, H1 */
#define REG_ID        0xD0
#define REG_CALIB2    0xE1        /* 7 bytes: H2..H6 */
#define REG_CTRL_HUM  0xF2
#define REG_STATUS    0xF3        /* burst 0xF3..0xFE: status .. hum_lsb */
#define REG_CTRL_MEAS 0xF4
#define REG_CONFIG    0xF5
#define CHIP_ID       0x60
#define STATUS_MEASURING 0x08
#define MAX_RECHECKS  5

struct bme280_cal {
    uint16_t T1;
    int16_t  T2, T3;
    uint16_t P1;
    int16_t  P2, P3, P4, P5, P6, P7, P8, P9;
    uint8_t  H1, H3;
    int16_t  H2, H4, H5;
    int8_t   H6;
};

struct bme280 {
    /* parameters */
    const char        *bus;
    int                addr;
    int                osrs;         /* index into osrs_names: x1..x16 */
    int                filter;       /* index into filter_names */
    /* state */
    struct nano_dev   *dev;
    struct nano_i2c   *i2c;
    struct nano_timer  conv;
    struct bme280_cal  cal;
    unsigned           rechecks;
};

static const char *const osrs_names[] = { "1", "2", "4", "8", "16", NULL };
static const char *const filter_names[] = { "off", "2", "4", "8", "16", NULL };

static const struct nano_param params[] = {
    NANO_PARAM_STR("bus", struct bme280, bus, "i2c1",
                   "I2C bus: i2c1 (/dev/i2c-1) or sim:i2c1"),
    NANO_PARAM_INT("address", struct bme280, addr, "0x76",
                   "7-bit address: 0x76 (SDO to GND) or 0x77 (SDO to VDDIO)",
                   0x76, 0x77),
    NANO_PARAM_ENUM("oversampling", struct bme280, osrs, "1",
                    "oversampling of all three measurements: 1, 2, 4, 8, 16 "
                    "(more is quieter and slower: 16 takes 113 ms)",
                    osrs_names),
    NANO_PARAM_ENUM("filter", struct bme280, filter, "off",
                    "IIR filter coefficient across samples: off, 2, 4, 8, 16",
                    filter_names),
    NANO_PARAM_END
};

/* Datasheet section 1 (operating range). */
static const struct nano_quantity quantities[] = {
    { "temperature", "°C", -40, 85, "air temperature" },
    { "humidity", "%RH", 0, 100, "relative humidity" },
    { "pressure", "hPa", 300, 1100, "barometric pressure" },
    { NULL, NULL, 0, 0, NULL }
};

/* ---- compensation (datasheet section 4.2.3) ---------------------------------- */

static void
parse_cal(const uint8_t a[26], const uint8_t b[7], struct bme280_cal *c)
{
    c->T1 = (uint16_t)(a[0] | a[1] << 8);
    c->T2 = (int16_t)(a[2] | a[3] << 8);
    c->T3 = (int16_t)(a[4] | a[5] << 8);
    c->P1 = (uint16_t)(a[6] | a[7] << 8);
    c->P2 = (int16_t)(a[8] | a[9] << 8);
    c->P3 = (int16_t)(a[10] | a[11] << 8);
    c->P4 = (int16_t)(a[12] | a[13] << 8);
    c->P5 = (int16_t)(a[14] | a[15] << 8);
    c->P6 = (int16_t)(a[16] | a[17] << 8);
    c->P7 = (int16_t)(a[18] | a[19] << 8);
    c->P8 = (int16_t)(a[20] | a[21] << 8);
    c->P9 = (int16_t)(a[22] | a[23] << 8);
    c->H1 = a[25];
    c->H2 = (int16_t)(b[0] | b[1] << 8);
    c->H3 = b[2];
    /* H4 and H5 are signed 12-bit values sharing 0xE5 (table 16). */
    c->H4 = (int16_t)((int8_t)b[3] * 16 + (b[4] & 0x0F));
    c->H5 = (int16_t)((int8_t)b[5] * 16 + (b[4] >> 4));
    c->H6 = (int8_t)b[6];
}

/* The reference code works in 32-bit integers and overflows (undefined
 * behaviour) for ADC values far outside the calibrated range; 64-bit
 * intermediates give identical results wherever it does not. */

/* Temperature in 0.01 °C; *t_fine carries the fine temperature onwards. */
static int32_t
comp_temp(const struct bme280_cal *c, int32_t adc, int32_t *t_fine)
{
    int64_t d8 = (adc >> 3) - (int64_t)c->T1 * 2;
    int64_t d16 = (adc >> 4) - (int64_t)c->T1;
    int64_t a = (d8 * c->T2) >> 11;
    int64_t b = (((d16 * d16) >> 12) * c->T3) >> 14;

    *t_fine = (int32_t)(a + b);
    return (*t_fine * 5 + 128) >> 8;
}

/* Pressure in Pa as Q24.8 (divide by 256), or 0 for a degenerate
 * calibration. */
static uint32_t
comp_press(const struct bme280_cal *c, int32_t adc, int32_t t_fine)
{
    int64_t x = (int64_t)t_fine - 128000;
    int64_t a, b, p;

    b = x * x * c->P6;
    b += x * c->P5 * 131072;                        /* << 17 */
    b += (int64_t)c->P4 * 34359738368;              /* << 35 */
    a = ((x * x * c->P3) >> 8) + x * c->P2 * 4096;  /* << 12 */
    a = ((140737488355328 + a) * c->P1) >> 33;      /* 1 << 47 */
    if (a == 0)
        return 0;
    p = 1048576 - (int64_t)adc;
    p = (p * 2147483648 - b) * 3125 / a;            /* << 31 */
    a = ((int64_t)c->P9 * (p >> 13) * (p >> 13)) >> 25;
    b = ((int64_t)c->P8 * p) >> 19;
    p = ((p + a + b) >> 8) + (int64_t)c->P7 * 16;   /* << 4 */
    return p < 0 ? 0 : (uint32_t)p;
}

/* Relative humidity as Q22.10 %RH (divide by 1024). */
static uint32_t
comp_hum(const struct bme280_cal *c, int32_t adc, int32_t t_fine)
{
    int64_t x = (int64_t)t_fine - 76800;
    int64_t num, den;

    num = (((int64_t)adc * 16384 - (int64_t)c->H4 * 1048576 - c->H5 * x) +
           16384) >> 15;
    den = (((((x * c->H6) >> 10) * (((x * c->H3) >> 11) + 32768)) >> 10) +
           2097152) * c->H2 + 8192;
    x = num * (den >> 14);
    x -= ((((x >> 15) * (x >> 15)) >> 7) * c->H1) >> 4;
    if (x < 0)
        x = 0;
    if (x > 419430400)
        x = 419430400;                              /* 100 %RH */
    return (uint32_t)(x >> 12);
}

/* ---- timing (datasheet section 9.1) ------------------------------------------ */

static unsigned
osrs_count(int idx)
{
    return 1u << idx;                              /* 1, 2, 4, 8, 16 */
}

/* Maximum measurement time in microseconds:
 * 1.25 + 2.3 T + (2.3 P + 0.575) + (2.3 H + 0.575) ms. */
static uint64_t
meas_max_us(int idx)
{
    unsigned n = osrs_count(idx);

    return 1250 + 2300 * n + (2300 * n + 575) + (2300 * n + 575);
}

/* ---- driver ------------------------------------------------------------------- */

static void conv_done(struct nano_loop *loop, struct nano_timer *t);

static int
bme280_probe(struct nano_dev *dev)
{
    struct bme280 *s = nano_dev_ctx(dev);
    uint8_t id, c1[26], c2[7], cfg[6];
    int rc;

    s->dev = dev;
    nano_timer_init(&s->conv, conv_done);
    rc = nano_i2c_open(s->bus, &s->i2c);
    if (rc != NANO_OK) {
        nano_dev_logf(dev, NANO_LOG_ERR, "cannot open I2C bus %s: %s", s->bus,
                      nano_strerror(rc));
        return rc;
    }
    rc = nano_i2c_read_reg(s->i2c, (uint16_t)s->addr, REG_ID, &id, 1);
    if (rc != NANO_OK)
        return rc;                                 /* close() releases i2c */
    if (id != CHIP_ID) {
        if (id >= 0x56 && id <= 0x58)
            nano_dev_logf(dev, NANO_LOG_ERR, "chip id 0x%02x is a BMP280, which "
                          "has no humidity sensor", id);
        else
            nano_dev_logf(dev, NANO_LOG_ERR, "chip id 0x%02x at 0x%02x, expected "
                          "0x%02x (BME280)", id, s->addr, CHIP_ID);
        return -ENODEV;
    }
    if ((rc = nano_i2c_read_reg(s->i2c, (uint16_t)s->addr, REG_CALIB1, c1,
                                sizeof c1)) != NANO_OK ||
        (rc = nano_i2c_read_reg(s->i2c, (uint16_t)s->addr, REG_CALIB2, c2,
                                sizeof c2)) != NANO_OK)
        return rc;
    parse_cal(c1, c2, &s->cal);
    if (s->cal.T1 == 0 || s->cal.P1 == 0 || s->cal.T1 == 0xFFFF) {
        nano_dev_logf(dev, NANO_LOG_ERR, "calibration data unreadable "
                      "(T1=%u P1=%u)", s->cal.T1, s->cal.P1);
        return NANO_ECORRUPT;
    }
    /* Sleep mode first: config is ignored in normal mode (section 5.4.6). */
    cfg[0] = REG_CTRL_MEAS; cfg[1] = 0x00;
    cfg[2] = REG_CONFIG;    cfg[3] = (uint8_t)(s->filter << 2);
    cfg[4] = REG_CTRL_HUM;  cfg[5] = (uint8_t)(s->osrs + 1);
    return nano_i2c_write(s->i2c, (uint16_t)s->addr, cfg, sizeof cfg);
}

static int
bme280_sample(struct nano_dev *dev)
{
    struct bme280 *s = nano_dev_ctx(dev);
    uint8_t o = (uint8_t)(s->osrs + 1);
    /* ctrl_hum takes effect at the next ctrl_meas write (section 5.4.3):
     * both in one transfer, as register/value pairs. */
    uint8_t w[4] = { REG_CTRL_HUM, o, REG_CTRL_MEAS,
                     (uint8_t)(o << 5 | o << 2 | 0x01) };
    int rc;

    rc = nano_i2c_write(s->i2c, (uint16_t)s->addr, w, sizeof w);
    if (rc != NANO_OK)
        return rc;                                 /* counted, backoff */
    s->rechecks = 0;
    rc = nano_timer_start_ns(nano_dev_loop(dev), &s->conv,
                             meas_max_us(s->osrs) * 1000, 0);
    return rc == NANO_OK ? -EINPROGRESS : rc;
}

static void
conv_done(struct nano_loop *loop, struct nano_timer *t)
{
    struct bme280 *s = NANO_CONTAINER_OF(t, struct bme280, conv);
    uint8_t r[12];                                 /* 0xF3 .. 0xFE */
    int32_t adc_p, adc_t, adc_h, t_fine, temp;
    uint32_t press, hum;
    int rc;

    rc = nano_i2c_read_reg(s->i2c, (uint16_t)s->addr, REG_STATUS, r, sizeof r);
    if (rc != NANO_OK) {
        nano_dev_fail(s->dev, rc);
        return;
    }
    if (r[0] & STATUS_MEASURING) {
        if (++s->rechecks > MAX_RECHECKS) {
            nano_dev_fail(s->dev, NANO_ETIMEDOUT_DEV);
            return;
        }
        nano_timer_start(loop, &s->conv, 1, 0);    /* a little longer */
        return;
    }
    adc_p = (int32_t)((uint32_t)r[4] << 12 | (uint32_t)r[5] << 4 | r[6] >> 4);
    adc_t = (int32_t)((uint32_t)r[7] << 12 | (uint32_t)r[8] << 4 | r[9] >> 4);
    adc_h = (int32_t)((uint32_t)r[10] << 8 | r[11]);
    if (adc_t == 0x80000 || adc_p == 0x80000 || adc_h == 0x8000) {
        nano_dev_logf(s->dev, NANO_LOG_WARN, "data registers hold their reset "
                      "value: the chip was reset after the trigger");
        nano_dev_fail(s->dev, NANO_EPOWERON);
        return;
    }
    temp = comp_temp(&s->cal, adc_t, &t_fine);
    press = comp_press(&s->cal, adc_p, t_fine);
    hum = comp_hum(&s->cal, adc_h, t_fine);
    if (press == 0) {
        nano_dev_fail(s->dev, NANO_ECORRUPT);
        return;
    }
    nano_dev_report(s->dev, "temperature", temp / 100.0);
    nano_dev_report(s->dev, "humidity", hum / 1024.0);
    nano_dev_report(s->dev, "pressure", press / 25600.0);   /* Q24.8 Pa -> hPa */
    nano_dev_done(s->dev);
}

static void
bme280_close(struct nano_dev *dev)
{
    struct bme280 *s = nano_dev_ctx(dev);

    nano_timer_stop(nano_dev_loop(dev), &s->conv);   /* no-op when idle */
    nano_i2c_close(s->i2c);                          /* no-op on NULL */
    s->i2c = NULL;
}

const struct nano_driver nano_driver_bme280 = {
    .name                = "bme280",
    .summary             = "Bosch BME280 temperature, humidity, pressure (I2C)",
    .params              = params,
    .ctx_size            = sizeof(struct bme280),
    .quantities          = quantities,
    .default_interval_ms = 10000,
    .timeout_ms          = 1000,
    .probe               = bme280_probe,
    .sample              = bme280_sample,
    .close               = bme280_close,
};
