/* SPDX-License-Identifier: MIT
 *
 * mcp3008.c - Microchip MCP3008, 8-channel 10-bit ADC on SPI, with optional
 * linear scaling of the voltage into a named quantity.
 *
 * One conversion is one 3-byte full-duplex transfer (datasheet DS21295,
 * figure 6-1): start bit, SGL/DIFF and the channel out; a null bit and ten
 * result bits back.  At 1 MHz that is 24 µs, so sample() converts in place
 * (averaging `samples` conversions) and reports synchronously.
 *
 *   devices:
 *     tank:   { driver: mcp3008, bus: spidev0.0, channel: 2, vref: 3.3 }
 *     tmp36:  { driver: mcp3008, channel: 0, scale: 100, offset: -50,
 *               quantity: temperature, unit: "°C" }
 *
 * reports `voltage` (V, 0..vref) and, when `quantity` names something else,
 * that quantity as voltage * scale + offset, whose physical range is the
 * image of 0..vref.  SPI has no acknowledge: the null bit must read 0, so an
 * absent chip (MISO pulled high, all ones) is NANO_ENACK and a garbled frame
 * NANO_ECORRUPT.
 */
#include <math.h>
#include <string.h>

#include "core/cfg.h"
#include "drivers/driver.h"
#include "hal/spi.h"

struct mcp3008 {
    /* parameters */
    const char      *bus;
    int              channel;
    bool             differential;
    double           vref;
    int              speed_hz;
    int              samples;
    double           scale, offset;
    const char      *quantity;
    const char      *unit;
    /* state */
    struct nano_spi *spi;
    bool             scaled;
};

static const struct nano_param params[] = {
    NANO_PARAM_STR("bus", struct mcp3008, bus, "spidev0.0",
                   "SPI device: spidev0.0 (/dev/spidev0.0, CE0) or sim:spi0.0"),
    NANO_PARAM_INT("channel", struct mcp3008, channel, NULL,
                   "input channel 0-7 (differential: the pair starting there)",
                   0, 7),
    NANO_PARAM_BOOL("differential", struct mcp3008, differential, "false",
                    "measure the channel pair (CH0-CH1, CH1-CH0, ...) instead "
                    "of the channel against ground"),
    NANO_PARAM_NUM("vref", struct mcp3008, vref, "3.3",
                   "reference voltage on VREF, in volts", 0.25, 5.5),
    NANO_PARAM_INT("speed_hz", struct mcp3008, speed_hz, "1000000",
                   "SPI clock (the chip allows 1.35 MHz at 2.7 V, 3.6 MHz at "
                   "5 V)", 10000, 3600000),
    NANO_PARAM_INT("samples", struct mcp3008, samples, "1",
                   "conversions averaged per reading", 1, 64),
    NANO_PARAM_NUM("scale", struct mcp3008, scale, "1",
                   "reported value = voltage * scale + offset", 0, 0),
    NANO_PARAM_NUM("offset", struct mcp3008, offset, "0",
                   "added after scaling", 0, 0),
    NANO_PARAM_STR("quantity", struct mcp3008, quantity, "voltage",
                   "name of the scaled quantity (temperature, level, ...)"),
    NANO_PARAM_STR("unit", struct mcp3008, unit, "",
                   "unit of the scaled quantity (°C, %, ...); V for voltage"),
    NANO_PARAM_END
};

static int
mcp_validate(const struct nano_cfg_node *map, struct nano_diag *d)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, "quantity");
    const struct nano_cfg_node *sc = nano_cfg_get(map, "scale");
    double v;

    if (n && n->kind == NANO_CFG_SCALAR) {
        const char *s = n->str;
        bool ok = *s && strlen(s) <= 32;
        for (; ok && *s; s++)
            ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_';
        if (!ok)
            return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                                 "'quantity' must be 1-32 lower-case letters, "
                                 "digits or '_' (it becomes a topic level), got "
                                 "'%s'", n->str);
    }
    if (sc && nano_cfg_as_num(sc, &v, NULL) == NANO_OK && v == 0)
        return nano_diag_set(d, NANO_ESCHEMA, sc->line, sc->col,
                             "'scale' must not be 0");
    return NANO_OK;
}

static int
mcp_probe(struct nano_dev *dev)
{
    struct mcp3008 *s = nano_dev_ctx(dev);
    struct nano_spi_cfg cfg = { (uint32_t)s->speed_hz, 0, 8 };
    double lo, hi;
    int rc;

    rc = nano_spi_open(s->bus, &cfg, &s->spi);
    if (rc != NANO_OK) {
        nano_dev_logf(dev, NANO_LOG_ERR, "cannot open SPI device %s: %s", s->bus,
                      nano_strerror(rc));
        return rc;
    }
    rc = nano_dev_declare(dev, "voltage", "V", 0, s->vref);
    if (rc != NANO_OK)
        return rc;
    s->scaled = strcmp(s->quantity, "voltage") != 0;
    if (s->scaled) {
        lo = s->offset;
        hi = s->vref * s->scale + s->offset;
        rc = nano_dev_declare(dev, s->quantity, s->unit[0] ? s->unit : NULL,
                              lo < hi ? lo : hi, lo < hi ? hi : lo);
    }
    return rc;
}

/* One conversion: NANO_OK and the 10-bit code, or an error. */
static int
convert(struct mcp3008 *s, unsigned *code)
{
    uint8_t tx[3] = { 0x01, (uint8_t)((s->differential ? 0 : 0x80) |
                                      (s->channel << 4)), 0x00 };
    uint8_t rx[3];
    int rc;

    rc = nano_spi_transfer(s->spi, tx, rx, sizeof tx);
    if (rc != NANO_OK)
        return rc;
    if (rx[1] == 0xFF && rx[2] == 0xFF)
        return NANO_ENACK;                 /* MISO stuck high: no chip */
    if (rx[1] & 0x04)
        return NANO_ECORRUPT;              /* null bit must be 0 */
    *code = (unsigned)(rx[1] & 0x03) << 8 | rx[2];
    return NANO_OK;
}

static int
mcp_sample(struct nano_dev *dev)
{
    struct mcp3008 *s = nano_dev_ctx(dev);
    unsigned code, sum = 0;
    double volts;
    int rc;

    for (int i = 0; i < s->samples; i++) {
        rc = convert(s, &code);
        if (rc != NANO_OK) {
            if (rc == NANO_ECORRUPT)
                nano_dev_logf(dev, NANO_LOG_WARN, "garbled SPI frame (null bit "
                              "set)");
            return rc;
        }
        sum += code;
    }
    /* Code k covers [k, k+1) * Vref / 1024; report the bin's lower edge, as
     * the datasheet's transfer function (equation 4-2) does. */
    volts = (double)sum / s->samples * s->vref / 1024.0;
    nano_dev_report(dev, "voltage", volts);
    if (s->scaled)
        nano_dev_report(dev, s->quantity, volts * s->scale + s->offset);
    return NANO_OK;
}

static void
mcp_close(struct nano_dev *dev)
{
    struct mcp3008 *s = nano_dev_ctx(dev);

    nano_spi_close(s->spi);
    s->spi = NULL;
}

const struct nano_driver nano_driver_mcp3008 = {
    .name                = "mcp3008",
    .summary             = "Microchip MCP3008 8-channel 10-bit ADC (SPI), "
                           "optional linear scaling",
    .params              = params,
    .ctx_size            = sizeof(struct mcp3008),
    .quantities          = NULL,           /* voltage + scaled: at probe */
    .default_interval_ms = 1000,
    .validate            = mcp_validate,
    .probe               = mcp_probe,
    .sample              = mcp_sample,
    .close               = mcp_close,
};
