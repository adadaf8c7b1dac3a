/* SPDX-License-Identifier: MIT
 *
 * emu_sht3x.c - a Sensirion SHT3x-DIS humidity and temperature sensor at
 * the I2C command level (datasheet "SHT3x-DIS", sections 4.3-4.12).
 *
 * Commands are 16 bits, MSB first.  Implemented: single-shot measurements
 * with and without clock stretching at the three repeatabilities (0x2C06,
 * 0x2C0D, 0x2C10; 0x2400, 0x240B, 0x2416), soft reset (0x30A2), read status
 * (0xF32D) and clear status (0x3041).  A measurement takes the datasheet's
 * typical duration (12.5 / 4.5 / 2.5 ms); without clock stretching a read
 * header during the measurement, or with no measurement pending, is not
 * acknowledged (section 4.4), which is what a driver that reads too early
 * sees on a real bus.  With clock stretching the emulator answers at once
 * (the stretch itself is invisible to i2c-dev).  Results are two 16-bit
 * words, each followed by CRC-8 (polynomial 0x31, init 0xFF, section 4.12):
 *   T  = -45 + 175 * St / 65535        RH = 100 * Srh / 65535
 * The CRC fault flips a bit of each CRC byte.
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "hal/hal_int.h"

struct sht {
    bool     inited;
    double   temp, hum;
    bool     pending;           /* a measurement result is (being) prepared */
    bool     stretch;
    uint64_t ready_ns;
    uint8_t  out[6];
    size_t   out_len;           /* status read: 3 bytes */
    uint16_t status;
};

static void
sht_reset(struct sim_dev *d)
{
    struct sht *s = sim__state(d);

    if (!s->inited) {
        s->inited = true;
        s->temp = 21.0;
        s->hum = 45.0;
    }
    s->pending = false;
    s->out_len = 0;
    s->status = 0x0010;          /* "system reset detected" (bit 4) */
}

static void
put_word(uint8_t *p, uint16_t w, bool corrupt)
{
    p[0] = (uint8_t)(w >> 8);
    p[1] = (uint8_t)w;
    p[2] = hal__crc8(p, 2, 0x31, 0xFF);
    if (corrupt)
        p[2] ^= 0x04;
}

static uint16_t
to_ticks(double v, double lo, double span)
{
    double t = (v - lo) * 65535.0 / span;

    return (uint16_t)(t < 0 ? 0 : t > 65535 ? 65535 : (long)(t + 0.5));
}

static int
sht_i2c_write(struct sim_dev *d, const uint8_t *buf, size_t len)
{
    struct sht *s = sim__state(d);
    uint64_t now = nano_time_mono_ns();
    uint16_t cmd;
    double ms;

    if (len != 2)
        return NANO_ENACK;        /* not a command: the chip NACKs */
    cmd = (uint16_t)(buf[0] << 8 | buf[1]);
    switch (cmd) {
    case 0x2C06: case 0x2400: ms = 12.5; break;   /* high repeatability */
    case 0x2C0D: case 0x240B: ms = 4.5; break;    /* medium */
    case 0x2C10: case 0x2416: ms = 2.5; break;    /* low */
    case 0x30A2:
        sht_reset(d);
        return NANO_OK;
    case 0xF32D:
        put_word(s->out, s->status, false);
        s->out_len = 3;
        s->pending = true;
        s->stretch = true;
        s->ready_ns = now;
        return NANO_OK;
    case 0x3041:
        s->status = 0;
        return NANO_OK;
    default:
        return NANO_ENACK;        /* unknown command */
    }
    s->pending = true;
    s->stretch = buf[0] == 0x2C;
    s->ready_ns = now + (uint64_t)(ms * 1e6);
    s->out_len = 0;               /* filled when the result is read */
    return NANO_OK;
}

static int
sht_i2c_read(struct sim_dev *d, uint8_t *buf, size_t len)
{
    struct sht *s = sim__state(d);
    bool corrupt = d->cur == NANO_SIM_FAULT_CRC;

    if (!s->pending)
        return NANO_ENACK;
    if (!s->stretch && nano_time_mono_ns() < s->ready_ns)
        return NANO_ENACK;        /* still measuring */
    if (s->out_len == 0) {
        put_word(s->out, to_ticks(s->temp, -45.0, 175.0), corrupt);
        put_word(s->out + 3, to_ticks(s->hum, 0.0, 100.0), corrupt);
        s->out_len = 6;
    }
    memset(buf, 0xFF, len);       /* past the end the bus floats high */
    memcpy(buf, s->out, len < s->out_len ? len : s->out_len);
    s->pending = false;
    return NANO_OK;
}

static int
sht_set(struct sim_dev *d, const char *q, double v)
{
    struct sht *s = sim__state(d);

    if (!isfinite(v))
        return -ERANGE;
    if (strcmp(q, "temperature") == 0) {
        if (v < -45.0 || v > 130.0)
            return -ERANGE;
        s->temp = v;
    } else if (strcmp(q, "humidity") == 0) {
        if (v < 0 || v > 100.0)
            return -ERANGE;
        s->hum = v;
    } else {
        return -EINVAL;
    }
    return NANO_OK;
}

static int
sht_get(struct sim_dev *d, const char *q, double *out)
{
    struct sht *s = sim__state(d);

    if (strcmp(q, "temperature") == 0)
        *out = s->temp;
    else if (strcmp(q, "humidity") == 0)
        *out = s->hum;
    else
        return -EINVAL;
    return NANO_OK;
}

static const char *const sht_quantities[] = { "temperature", "humidity", NULL };

const struct sim_model sim__model_sht3x = {
    .name       = "sht3x",
    .kind       = SIM_I2C,
    .quantities = sht_quantities,
    .state_size = sizeof(struct sht),
    .reset      = sht_reset,
    .set        = sht_set,
    .get        = sht_get,
    .i2c_write  = sht_i2c_write,
    .i2c_read   = sht_i2c_read,
};
