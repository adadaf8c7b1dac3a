/* SPDX-License-Identifier: MIT
 *
 * emu_mcp3008.c - a Microchip MCP3008 8-channel 10-bit ADC on SPI
 * (datasheet DS21295, section 6.1 and figure 6-1, the 8-bit-segment form).
 *
 * One conversion is three bytes with chip select held:
 *   MOSI  0000 0001   S D2 D1 D0 xxxx   xxxx xxxx
 *   MISO  ???? ????   ???? ?0 B9 B8     B7 .. B0
 * start bit, then SGL/DIFF and the channel; the chip answers a null bit (0)
 * and the 10-bit result.  Code = floor(1024 * Vin / Vref), clamped to 0-1023.
 * Differential mode measures IN+ - IN- of the channel pair (section 5.2,
 * table 5-2).  The undriven bits read as 1 (MISO is high-Z, pulled up).
 * A transfer that does not start with the start bit in the first byte gets
 * all ones.  The CRC fault garbles the frame: the null bit comes back set.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "hal/hal_int.h"

struct mcp {
    bool   inited;
    double vref;
    double ch[8];
};

static void
mcp_reset(struct sim_dev *d)
{
    struct mcp *s = sim__state(d);

    if (!s->inited) {
        s->inited = true;
        s->vref = 3.3;
    }
}

static unsigned
code_of(const struct mcp *s, double v)
{
    double c = v * 1024.0 / s->vref;

    /* Truncation is floor for c >= 0, and negatives clamp to 0 anyway. */
    return c < 0 ? 0 : c >= 1023 ? 1023 : (unsigned)c;
}

/* Differential pairs (table 5-2): D2 D1 D0 -> IN+, IN-. */
static const uint8_t diff_pos[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t diff_neg[8] = { 1, 0, 3, 2, 5, 4, 7, 6 };

static void
mcp_xfer(struct sim_dev *d, const uint8_t *tx, uint8_t *rx, size_t len)
{
    struct mcp *s = sim__state(d);
    unsigned sel, ch, code;

    memset(rx, 0xFF, len);
    if (len < 3 || tx[0] != 0x01)
        return;
    sel = tx[1] >> 4;                 /* S D2 D1 D0 */
    ch = sel & 7;
    if (sel & 8)
        code = code_of(s, s->ch[ch]);
    else
        code = code_of(s, s->ch[diff_pos[ch]] - s->ch[diff_neg[ch]]);
    rx[1] = (uint8_t)(0xF8 | (code >> 8));   /* null bit (bit 2) is 0 */
    rx[2] = (uint8_t)code;
    if (d->cur == NANO_SIM_FAULT_CRC) {
        rx[1] |= 0x04;
        rx[2] ^= 0x5A;
    }
}

static int
mcp_set(struct sim_dev *d, const char *q, double v)
{
    struct mcp *s = sim__state(d);
    unsigned ch;
    char tail;

    if (!isfinite(v))
        return -ERANGE;
    if (strcmp(q, "vref") == 0) {
        if (v < 0.25 || v > 5.5)           /* datasheet: 0.25 V .. VDD */
            return -ERANGE;
        s->vref = v;
        return NANO_OK;
    }
    if (sscanf(q, "ch%u%c", &ch, &tail) != 1 || ch > 7)
        return -EINVAL;
    if (v < -0.6 || v > 5.5)               /* absolute maximum ratings */
        return -ERANGE;
    s->ch[ch] = v;
    return NANO_OK;
}

static int
mcp_get(struct sim_dev *d, const char *q, double *out)
{
    struct mcp *s = sim__state(d);
    unsigned ch;
    char tail;

    if (strcmp(q, "vref") == 0) {
        *out = s->vref;
        return NANO_OK;
    }
    if (sscanf(q, "ch%u%c", &ch, &tail) != 1 || ch > 7)
        return -EINVAL;
    *out = s->ch[ch];
    return NANO_OK;
}

static const char *const mcp_quantities[] = {
    "vref", "ch0", "ch1", "ch2", "ch3", "ch4", "ch5", "ch6", "ch7", NULL
};

const struct sim_model sim__model_mcp3008 = {
    .name       = "mcp3008",
    .kind       = SIM_SPI,
    .quantities = mcp_quantities,
    .state_size = sizeof(struct mcp),
    .reset      = mcp_reset,
    .set        = mcp_set,
    .get        = mcp_get,
    .spi_xfer   = mcp_xfer,
};
