/* SPDX-License-Identifier: MIT
 *
 * emu_ds18b20.c - a Maxim DS18B20 as the kernel's w1-therm presents it: the
 * text of its w1_slave attribute (drivers/w1/slaves/w1_therm.c format).
 *
 *   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
 *   72 01 4b 46 7f ff 0e 10 57 t=23125
 *
 * The nine bytes are the scratchpad (datasheet section "Memory", figure 9):
 * temperature LSB/MSB (12-bit two's complement, 1/16 °C), TH, TL, the
 * configuration register (0x7F: 12 bits), three reserved bytes and the
 * Dallas CRC-8 of the first eight.  Faults, rendered as the kernel would:
 *   CRC      one byte damaged in transit: "crc=xx NO"
 *   NACK     no presence/answer: all ones, "crc=c9 NO", t=-62
 *   POWERON  the power-on scratchpad: 85.000 °C ("50 05 ...", crc YES)
 * TIMEOUT and UNPLUG are file-level and handled by sim.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "hal/hal_int.h"

struct ds {
    bool   inited;
    double temp;
};

static void
ds_reset(struct sim_dev *d)
{
    struct ds *s = sim__state(d);

    if (!s->inited) {
        s->inited = true;
        s->temp = 21.0;
    }
}

static int
ds_render(struct sim_dev *d, char *buf, size_t cap)
{
    struct ds *s = sim__state(d);
    uint8_t sp[9] = { 0, 0, 0x4B, 0x46, 0x7F, 0xFF, 0x0E, 0x10, 0 };
    double x = s->temp * 16.0;
    /* Round half away from zero without libm (the daemon does not map it). */
    int16_t raw = (int16_t)(x < 0 ? -(long)(-x + 0.5) : (long)(x + 0.5));
    const char *ok = "YES";
    int n = 0, len;
    long t;

    if (d->cur == NANO_SIM_FAULT_POWERON)
        raw = 0x0550;                         /* +85.0 °C */
    sp[0] = (uint8_t)raw;
    sp[1] = (uint8_t)((uint16_t)raw >> 8);
    sp[8] = hal__crc8_maxim(sp, 8);
    if (d->cur == NANO_SIM_FAULT_NACK) {
        memset(sp, 0xFF, sizeof sp);
        raw = -1;
    }
    if (hal__crc8_maxim(sp, 8) != sp[8])
        ok = "NO";
    if (d->cur == NANO_SIM_FAULT_CRC) {
        sp[3] ^= 0x10;                        /* TL damaged */
        ok = "NO";
    }
    /* w1_therm: t = raw * 1000 / 16, truncated toward zero (int division). */
    t = (long)raw * 1000 / 16;
    for (int line = 0; line < 2; line++) {
        for (int i = 0; i < 9; i++) {
            len = snprintf(buf + n, cap - (size_t)n, "%02x ", sp[i]);
            if (len < 0 || (size_t)(n + len) >= cap)
                return -ENOSPC;
            n += len;
        }
        if (line == 0)
            len = snprintf(buf + n, cap - (size_t)n, ": crc=%02x %s\n",
                           hal__crc8_maxim(sp, 8), ok);
        else
            len = snprintf(buf + n, cap - (size_t)n, "t=%ld\n", t);
        if (len < 0 || (size_t)(n + len) >= cap)
            return -ENOSPC;
        n += len;
    }
    return n;
}

static int
ds_set(struct sim_dev *d, const char *q, double v)
{
    struct ds *s = sim__state(d);

    if (strcmp(q, "temperature") != 0)
        return -EINVAL;
    /* What the 16-bit register can hold (the sensor's range is -55..125). */
    if (!isfinite(v) || v < -128.0 || v > 127.9375)
        return -ERANGE;
    s->temp = v;
    return NANO_OK;
}

static int
ds_get(struct sim_dev *d, const char *q, double *out)
{
    struct ds *s = sim__state(d);

    if (strcmp(q, "temperature") != 0)
        return -EINVAL;
    *out = s->temp;
    return NANO_OK;
}

static const char *const ds_quantities[] = { "temperature", NULL };

const struct sim_model sim__model_ds18b20 = {
    .name       = "ds18b20",
    .kind       = SIM_W1,
    .quantities = ds_quantities,
    .state_size = sizeof(struct ds),
    .reset      = ds_reset,
    .set        = ds_set,
    .get        = ds_get,
    .w1_render  = ds_render,
};
