/* SPDX-License-Identifier: MIT
 *
 * emu_bme280.c - a Bosch BME280 at the register level (BST-BME280-DS002).
 *
 * The emulator is a 256-byte register file behind the I2C protocol of
 * section 6.2: a write sets the register pointer and then takes (register,
 * value) pairs; a read returns bytes from the pointer on, auto-incrementing.
 * What it implements:
 *   0xD0 id = 0x60; 0xE0 reset (0xB6); calibration at 0x88-0xA1 and
 *   0xE1-0xE7 (kept across resets, it is NVM); 0xF2 ctrl_hum, latched by the
 *   next write to 0xF4 ctrl_meas (section 5.4.3); 0xF3 status with
 *   "measuring" while a conversion runs; forced mode (a conversion that takes
 *   the typical time of section 9.1 for the chosen oversampling, after which
 *   the data registers update and the mode returns to sleep) and normal mode
 *   (a fresh conversion at each access after the previous one ended); data
 *   registers 0xF7-0xFE with the reset values 0x80000 / 0x8000, which also
 *   mark a skipped (oversampling 0) measurement.
 * Not implemented: the IIR filter, standby timing, SPI, noise.
 *
 * Raw values come from a settable physical environment by inverting the
 * datasheet's compensation (section 8.1, double precision) with this
 * chip's calibration: each raw ADC value is found by bisection over its
 * 20-bit (16-bit for humidity) range, since every formula is monotonic in its
 * ADC input.  The driver uses the integer formulas of section 4.2.3, so a
 * test that sets 21.5 °C and reads 21.5 ± 0.01 checks two independent
 * implementations against each other.  Raw values can also be set directly
 * ("raw_temperature", ...), which is how the datasheet's worked example is
 * replayed through the whole driver.
 *
 * The default calibration is the worked example of the BMP280 data sheet
 * (BST-BMP280-DS001 section 3.12, identical T/P compensation) plus
 * humidity coefficients read from a production BME280.
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "hal/hal_int.h"

#define R_CALIB1   0x88      /* 26 bytes: T1..P9, reserved, H1 */
#define R_ID       0xD0
#define R_RESET    0xE0
#define R_CALIB2   0xE1      /* 7 bytes: H2..H6 */
#define R_CTRL_HUM 0xF2
#define R_STATUS   0xF3
#define R_CTRL_MEAS 0xF4
#define R_CONFIG   0xF5
#define R_DATA     0xF7      /* press[3] temp[3] hum[2] */

struct cal {
    uint16_t T1;
    int16_t  T2, T3;
    uint16_t P1;
    int16_t  P2, P3, P4, P5, P6, P7, P8, P9;
    uint8_t  H1, H3;
    int16_t  H2, H4, H5;
    int8_t   H6;
};

struct bme {
    bool     inited;
    uint8_t  reg[256];
    uint8_t  nvm1[26], nvm2[7];
    struct cal cal;
    uint8_t  ptr;
    uint8_t  hum_latched;         /* osrs_h in effect */
    bool     pending;             /* conversion started, data not latched */
    uint64_t end_ns;
    /* environment */
    double   temp, hum, press_hpa;
    bool     raw_mode;
    uint32_t raw_t, raw_p, raw_h;
};

static const uint8_t default_nvm1[26] = {
    0x70, 0x6B,  /* T1 27504 */     0x43, 0x67,  /* T2 26435 */
    0x18, 0xFC,  /* T3 -1000 */     0x7D, 0x8E,  /* P1 36477 */
    0x43, 0xD6,  /* P2 -10685 */    0xD0, 0x0B,  /* P3 3024 */
    0x27, 0x0B,  /* P4 2855 */      0x8C, 0x00,  /* P5 140 */
    0xF9, 0xFF,  /* P6 -7 */        0x8C, 0x3C,  /* P7 15500 */
    0xF8, 0xC6,  /* P8 -14600 */    0x70, 0x17,  /* P9 6000 */
    0x00,        /* reserved */     0x4B,        /* H1 75 */
};
static const uint8_t default_nvm2[7] = {
    0x6A, 0x01,  /* H2 362 */
    0x00,        /* H3 0 */
    0x13, 0x29,  /* H4 = 0x13 << 4 | 0x9 = 313; H5 low nibble 0x2 */
    0x03,        /* H5 = 0x03 << 4 | 0x2 = 50 */
    0x1E,        /* H6 30 */
};

static void
decode_cal(struct bme *s)
{
    const uint8_t *a = s->nvm1, *b = s->nvm2;
    struct cal *c = &s->cal;

#define U16(p) ((uint16_t)((p)[0] | (p)[1] << 8))
#define S16(p) ((int16_t)U16(p))
    c->T1 = U16(a + 0);  c->T2 = S16(a + 2);  c->T3 = S16(a + 4);
    c->P1 = U16(a + 6);  c->P2 = S16(a + 8);  c->P3 = S16(a + 10);
    c->P4 = S16(a + 12); c->P5 = S16(a + 14); c->P6 = S16(a + 16);
    c->P7 = S16(a + 18); c->P8 = S16(a + 20); c->P9 = S16(a + 22);
    c->H1 = a[25];
    c->H2 = S16(b + 0);
    c->H3 = b[2];
    c->H4 = (int16_t)((int8_t)b[3] * 16 | (b[4] & 0x0F));
    c->H5 = (int16_t)((int8_t)b[5] * 16 | (b[4] >> 4));
    c->H6 = (int8_t)b[6];
#undef U16
#undef S16
}

/* ---- datasheet section 8.1, double precision ------------------------------- */

static double
comp_t(const struct cal *c, double adc, double *t_fine)
{
    double v1 = (adc / 16384.0 - c->T1 / 1024.0) * c->T2;
    double d = adc / 131072.0 - c->T1 / 8192.0;
    double v2 = d * d * c->T3;

    *t_fine = (double)(int32_t)(v1 + v2);
    return (v1 + v2) / 5120.0;
}

static double
comp_p(const struct cal *c, double adc, double t_fine)
{
    double v1 = t_fine / 2.0 - 64000.0;
    double v2 = v1 * v1 * c->P6 / 32768.0;
    double p;

    v2 += v1 * c->P5 * 2.0;
    v2 = v2 / 4.0 + c->P4 * 65536.0;
    v1 = (c->P3 * v1 * v1 / 524288.0 + c->P2 * v1) / 524288.0;
    v1 = (1.0 + v1 / 32768.0) * c->P1;
    if (v1 == 0.0)
        return 0;
    p = 1048576.0 - adc;
    p = (p - v2 / 4096.0) * 6250.0 / v1;
    v1 = c->P9 * p * p / 2147483648.0;
    v2 = p * c->P8 / 32768.0;
    return p + (v1 + v2 + c->P7) / 16.0;         /* Pa */
}

static double
comp_h(const struct cal *c, double adc, double t_fine)
{
    double h = t_fine - 76800.0;

    h = (adc - (c->H4 * 64.0 + c->H5 / 16384.0 * h)) *
        (c->H2 / 65536.0 * (1.0 + c->H6 / 67108864.0 * h *
                                  (1.0 + c->H3 / 67108864.0 * h)));
    h = h * (1.0 - c->H1 * h / 524288.0);
    return h < 0 ? 0 : h > 100 ? 100 : h;
}

enum which { W_T, W_P, W_H };

static double
eval(const struct cal *c, enum which w, double adc, double t_fine)
{
    double tf;

    switch (w) {
    case W_T: return comp_t(c, adc, &tf);
    case W_P: return comp_p(c, adc, t_fine);
    default:  return comp_h(c, adc, t_fine);
    }
}

/* Raw ADC value whose compensated reading is nearest target. */
static int
invert(const struct cal *c, enum which w, double target, double t_fine,
       uint32_t *out)
{
    uint32_t lo = 0, hi = w == W_H ? 0xFFFF : 0xFFFFF;
    double flo = eval(c, w, lo, t_fine), fhi = eval(c, w, hi, t_fine);
    bool up = fhi > flo;

    if (target < (up ? flo : fhi) || target > (up ? fhi : flo))
        return -ERANGE;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((eval(c, w, mid, t_fine) < target) == up)
            lo = mid;
        else
            hi = mid;
    }
    *out = fabs(eval(c, w, lo, t_fine) - target) <=
           fabs(eval(c, w, hi, t_fine) - target) ? lo : hi;
    /* 0x80000 / 0x8000 mean "skipped": never produce them by accident. */
    if (*out == (w == W_H ? 0x8000u : 0x80000u))
        (*out)++;
    return NANO_OK;
}

static int
raw_from_env(struct bme *s, uint32_t *t, uint32_t *p, uint32_t *h)
{
    double t_fine;
    int rc;

    if (s->raw_mode) {
        *t = s->raw_t;
        *p = s->raw_p;
        *h = s->raw_h;
        return NANO_OK;
    }
    if ((rc = invert(&s->cal, W_T, s->temp, 0, t)) != NANO_OK)
        return rc;
    comp_t(&s->cal, *t, &t_fine);
    if ((rc = invert(&s->cal, W_P, s->press_hpa * 100.0, t_fine, p)) != NANO_OK)
        return rc;
    return invert(&s->cal, W_H, s->hum, t_fine, h);
}

/* ---- registers and timing ---------------------------------------------------- */

static unsigned
osrs_factor(unsigned bits)
{
    return bits == 0 ? 0 : bits >= 5 ? 16 : 1u << (bits - 1);
}

/* Typical measurement time (section 9.1): 1 + 2 T + (2 P + 0.5) + (2 H + 0.5). */
static uint64_t
meas_ns(const struct bme *s)
{
    unsigned t = osrs_factor(s->reg[R_CTRL_MEAS] >> 5 & 7);
    unsigned p = osrs_factor(s->reg[R_CTRL_MEAS] >> 2 & 7);
    unsigned h = osrs_factor(s->hum_latched & 7);
    double ms = 1.0 + 2.0 * t + (p ? 2.0 * p + 0.5 : 0) + (h ? 2.0 * h + 0.5 : 0);

    return (uint64_t)(ms * 1e6);
}

static void
latch_data(struct bme *s)
{
    uint32_t t = 0x80000, p = 0x80000, h = 0x8000;
    uint8_t *r = s->reg + R_DATA;

    if (raw_from_env(s, &t, &p, &h) != NANO_OK) {
        t = p = 0x80000;
        h = 0x8000;
    }
    if ((s->reg[R_CTRL_MEAS] >> 5 & 7) == 0)
        t = 0x80000;
    if ((s->reg[R_CTRL_MEAS] >> 2 & 7) == 0)
        p = 0x80000;
    if ((s->hum_latched & 7) == 0)
        h = 0x8000;
    r[0] = (uint8_t)(p >> 12); r[1] = (uint8_t)(p >> 4); r[2] = (uint8_t)(p << 4);
    r[3] = (uint8_t)(t >> 12); r[4] = (uint8_t)(t >> 4); r[5] = (uint8_t)(t << 4);
    r[6] = (uint8_t)(h >> 8);  r[7] = (uint8_t)h;
}

/* Bring the chip's state up to now: finish a conversion whose time is up. */
static void
advance(struct bme *s)
{
    uint64_t now = nano_time_mono_ns();
    unsigned mode = s->reg[R_CTRL_MEAS] & 3;

    if (s->pending && now >= s->end_ns) {
        latch_data(s);
        s->pending = false;
        if (mode == 1 || mode == 2)
            s->reg[R_CTRL_MEAS] &= (uint8_t)~3u;   /* forced: back to sleep */
        else if (mode == 3) {
            s->pending = true;                     /* normal: next cycle */
            s->end_ns = now + meas_ns(s);
        }
    }
    s->reg[R_STATUS] = (uint8_t)(s->pending && now < s->end_ns ? 0x08 : 0);
}

static void
bme_reset(struct sim_dev *d)
{
    struct bme *s = sim__state(d);

    if (!s->inited) {
        s->inited = true;
        memcpy(s->nvm1, default_nvm1, sizeof s->nvm1);
        memcpy(s->nvm2, default_nvm2, sizeof s->nvm2);
        decode_cal(s);
        s->temp = 21.0;
        s->hum = 45.0;
        s->press_hpa = 1013.25;
    }
    memset(s->reg, 0, sizeof s->reg);
    memcpy(s->reg + R_CALIB1, s->nvm1, sizeof s->nvm1);
    memcpy(s->reg + R_CALIB2, s->nvm2, sizeof s->nvm2);
    s->reg[R_ID] = 0x60;
    s->reg[R_DATA + 0] = 0x80;
    s->reg[R_DATA + 3] = 0x80;
    s->reg[R_DATA + 6] = 0x80;
    s->ptr = 0;
    s->hum_latched = 0;
    s->pending = false;
}

static void
write_reg(struct sim_dev *d, uint8_t reg, uint8_t val)
{
    struct bme *s = sim__state(d);

    switch (reg) {
    case R_RESET:
        if (val == 0xB6)
            bme_reset(d);
        break;
    case R_CTRL_HUM:
        s->reg[reg] = val & 7;
        break;
    case R_CONFIG:
        s->reg[reg] = val & 0xFD;
        break;
    case R_CTRL_MEAS:
        s->reg[reg] = val;
        s->hum_latched = s->reg[R_CTRL_HUM];
        if ((val & 3) != 0) {
            s->pending = true;
            s->end_ns = nano_time_mono_ns() + meas_ns(s);
        } else {
            s->pending = false;
        }
        break;
    default:
        break;                     /* read-only or reserved: ignored */
    }
}

static int
bme_i2c_write(struct sim_dev *d, const uint8_t *buf, size_t len)
{
    struct bme *s = sim__state(d);

    if (len == 0)
        return NANO_OK;
    advance(s);
    s->ptr = buf[0];
    for (size_t i = 0; i + 1 < len; i += 2)
        write_reg(d, buf[i], buf[i + 1]);
    return NANO_OK;
}

static int
bme_i2c_read(struct sim_dev *d, uint8_t *buf, size_t len)
{
    struct bme *s = sim__state(d);

    advance(s);
    for (size_t i = 0; i < len; i++) {
        buf[i] = s->reg[s->ptr++];
        if (d->cur == NANO_SIM_FAULT_CRC)
            buf[i] ^= 0x01;        /* no checksum on this chip: bit errors */
    }
    return NANO_OK;
}

/* ---- quantities ---------------------------------------------------------------- */

static int
bme_set(struct sim_dev *d, const char *q, double v)
{
    struct bme *s = sim__state(d);
    struct bme trial = *s;
    uint32_t t, p, h;

    if (strncmp(q, "raw_", 4) == 0) {
        uint32_t max = strcmp(q, "raw_humidity") == 0 ? 0xFFFF : 0xFFFFF;
        /* range first, then "is an integer" by a cast (no libm floor) */
        if (!(v >= 0 && v <= max) || v != (double)(uint32_t)v)
            return -ERANGE;
        if (!s->raw_mode) {
            /* Start from the raw values of the current environment. */
            if (raw_from_env(s, &s->raw_t, &s->raw_p, &s->raw_h) != NANO_OK)
                s->raw_t = s->raw_p = 0x80000, s->raw_h = 0x8000;
            s->raw_mode = true;
        }
        if (strcmp(q, "raw_temperature") == 0)
            s->raw_t = (uint32_t)v;
        else if (strcmp(q, "raw_pressure") == 0)
            s->raw_p = (uint32_t)v;
        else
            s->raw_h = (uint32_t)v;
        return NANO_OK;
    }
    if (strcmp(q, "temperature") == 0)
        trial.temp = v;
    else if (strcmp(q, "humidity") == 0)
        trial.hum = v;
    else if (strcmp(q, "pressure") == 0)
        trial.press_hpa = v;
    else
        return -EINVAL;
    trial.raw_mode = false;
    /* Plausible physics, a little beyond the datasheet's operating range
     * so tests can produce readings the driver must flag. */
    if (!isfinite(v) || trial.temp < -60 || trial.temp > 120 ||
        trial.hum < 0 || trial.hum > 100 ||
        trial.press_hpa < 100 || trial.press_hpa > 2000 ||
        raw_from_env(&trial, &t, &p, &h) != NANO_OK)
        return -ERANGE;            /* the chip cannot represent it */
    s->temp = trial.temp;
    s->hum = trial.hum;
    s->press_hpa = trial.press_hpa;
    s->raw_mode = false;
    return NANO_OK;
}

static int
bme_get(struct sim_dev *d, const char *q, double *out)
{
    struct bme *s = sim__state(d);

    if (strcmp(q, "temperature") == 0)
        *out = s->temp;
    else if (strcmp(q, "humidity") == 0)
        *out = s->hum;
    else if (strcmp(q, "pressure") == 0)
        *out = s->press_hpa;
    else if (strcmp(q, "raw_temperature") == 0)
        *out = s->raw_t;
    else if (strcmp(q, "raw_pressure") == 0)
        *out = s->raw_p;
    else if (strcmp(q, "raw_humidity") == 0)
        *out = s->raw_h;
    else
        return -EINVAL;
    return NANO_OK;
}

int
sim__bme280_set_calib(struct sim_dev *d, const uint8_t cal1[26],
                      const uint8_t cal2[7])
{
    struct bme *s = sim__state(d);

    memcpy(s->nvm1, cal1, sizeof s->nvm1);
    memcpy(s->nvm2, cal2, sizeof s->nvm2);
    memcpy(s->reg + R_CALIB1, s->nvm1, sizeof s->nvm1);
    memcpy(s->reg + R_CALIB2, s->nvm2, sizeof s->nvm2);
    decode_cal(s);
    return NANO_OK;
}

static const char *const bme_quantities[] = {
    "temperature", "humidity", "pressure",
    "raw_temperature", "raw_pressure", "raw_humidity", NULL
};

const struct sim_model sim__model_bme280 = {
    .name       = "bme280",
    .kind       = SIM_I2C,
    .quantities = bme_quantities,
    .state_size = sizeof(struct bme),
    .reset      = bme_reset,
    .set        = bme_set,
    .get        = bme_get,
    .i2c_write  = bme_i2c_write,
    .i2c_read   = bme_i2c_read,
};
