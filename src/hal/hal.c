/* SPDX-License-Identifier: MIT
 *
 * hal.c - the HAL's front ends: pick the back end from the bus name and
 * dispatch through its method table; argument checks that every back end
 * would otherwise repeat; small shared helpers (error mapping, CRC-8).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "hal/hal_int.h"

bool
hal__is_sim(const char *bus, const char **rest)
{
    if (strncmp(bus, "sim:", 4) == 0) {
        *rest = bus + 4;
        return true;
    }
    *rest = bus;
    return false;
}

/* "sim:NAME" always means the emulator.  A plain name means the real bus,
 * unless the config's simulation: section declares an emulated bus of that
 * kind by exactly that name - then the emulator, so `bus: wire0` or
 * `bus: i2c1` from the docs works unchanged on a machine without the
 * hardware, as 1-Wire already did. */
static bool
use_sim(const char *bus, enum sim_kind kind, const char **rest)
{
    if (hal__is_sim(bus, rest))
        return true;
    return sim__bus_exists(bus, kind);
}

int
hal__xfer_err(int e)
{
    switch (e) {
    case ENXIO:
    case EREMOTEIO:
        return NANO_ENACK;
    case ETIMEDOUT:
        return NANO_ETIMEDOUT_DEV;
    default:
        return e > 0 ? -e : -EIO;
    }
}

uint8_t
hal__crc8(const uint8_t *p, size_t n, uint8_t poly, uint8_t init)
{
    uint8_t crc = init;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ poly : crc << 1);
    }
    return crc;
}

uint8_t
hal__crc8_maxim(const uint8_t *p, size_t n)
{
    uint8_t crc = 0;

    /* x^8 + x^5 + x^4 + 1, LSB first: 0x8C is 0x31 reflected. */
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)(crc & 1 ? (crc >> 1) ^ 0x8C : crc >> 1);
    }
    return crc;
}

static bool
name_ok(const char *bus)
{
    return bus && *bus && strlen(bus) < HAL_NAME_MAX;
}

/* ---- I2C ------------------------------------------------------------------- */

int
nano_i2c_open(const char *bus, struct nano_i2c **i2c_out)
{
    const char *rest;
    int rc;

    *i2c_out = NULL;
    if (!name_ok(bus))
        return -EINVAL;
    rc = use_sim(bus, SIM_I2C, &rest) ? hal__i2c_sim_open(rest, i2c_out)
                                 : hal__i2c_dev_open(rest, i2c_out);
    if (rc == NANO_OK)
        snprintf((*i2c_out)->name, sizeof (*i2c_out)->name, "%s", bus);
    return rc;
}

void
nano_i2c_close(struct nano_i2c *i2c)
{
    if (i2c)
        i2c->ops->close(i2c);
}

int
nano_i2c_transfer(struct nano_i2c *i2c, struct nano_i2c_msg *msgs, unsigned n)
{
    if (n == 0 || n > NANO_I2C_MAX_MSGS)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++)
        if (msgs[i].addr > 0x7F || msgs[i].len > NANO_I2C_MAX_LEN ||
            (msgs[i].len && !msgs[i].buf))
            return -EINVAL;
    return i2c->ops->transfer(i2c, msgs, n);
}

int
nano_i2c_write(struct nano_i2c *i2c, uint16_t addr, const uint8_t *buf,
               size_t len)
{
    struct nano_i2c_msg m = { addr, 0, (uint16_t)len, (uint8_t *)buf };

    if (len > NANO_I2C_MAX_LEN)
        return -EINVAL;
    return nano_i2c_transfer(i2c, &m, 1);
}

int
nano_i2c_read(struct nano_i2c *i2c, uint16_t addr, uint8_t *buf, size_t len)
{
    struct nano_i2c_msg m = { addr, NANO_I2C_M_RD, (uint16_t)len, buf };

    if (len == 0 || len > NANO_I2C_MAX_LEN)
        return -EINVAL;
    return nano_i2c_transfer(i2c, &m, 1);
}

int
nano_i2c_read_reg(struct nano_i2c *i2c, uint16_t addr, uint8_t reg,
                  uint8_t *buf, size_t len)
{
    struct nano_i2c_msg m[2] = {
        { addr, 0, 1, &reg },
        { addr, NANO_I2C_M_RD, (uint16_t)len, buf },
    };

    if (len == 0 || len > NANO_I2C_MAX_LEN)
        return -EINVAL;
    return nano_i2c_transfer(i2c, m, 2);
}

int
nano_i2c_write_reg(struct nano_i2c *i2c, uint16_t addr, uint8_t reg,
                   uint8_t val)
{
    uint8_t b[2] = { reg, val };

    return nano_i2c_write(i2c, addr, b, 2);
}

int
nano_i2c_set_timeout(struct nano_i2c *i2c, unsigned ms)
{
    return i2c->ops->set_timeout ? i2c->ops->set_timeout(i2c, ms) : NANO_OK;
}

const char *
nano_i2c_name(const struct nano_i2c *i2c)
{
    return i2c->name;
}

/* ---- SPI ------------------------------------------------------------------- */

int
nano_spi_open(const char *bus, const struct nano_spi_cfg *cfg,
              struct nano_spi **spi_out)
{
    static const struct nano_spi_cfg defaults = { 0, 0, 8 };
    const char *rest;
    int rc;

    *spi_out = NULL;
    if (!name_ok(bus))
        return -EINVAL;
    if (!cfg)
        cfg = &defaults;
    if (cfg->mode > 3 || (cfg->bits_per_word && cfg->bits_per_word > 32))
        return -EINVAL;
    rc = hal__is_sim(bus, &rest) ? hal__spi_sim_open(rest, cfg, spi_out)
                                 : hal__spidev_open(rest, cfg, spi_out);
    if (rc == NANO_OK)
        snprintf((*spi_out)->name, sizeof (*spi_out)->name, "%s", bus);
    return rc;
}

void
nano_spi_close(struct nano_spi *spi)
{
    if (spi)
        spi->ops->close(spi);
}

int
nano_spi_transfer(struct nano_spi *spi, const uint8_t *tx, uint8_t *rx,
                  size_t len)
{
    if (len == 0 || len > NANO_SPI_MAX_LEN)
        return -EINVAL;
    return spi->ops->transfer(spi, tx, rx, len);
}

const char *
nano_spi_name(const struct nano_spi *spi)
{
    return spi->name;
}

/* ---- GPIO ------------------------------------------------------------------ */

static int
parse_choice(const char *s, const char *const *names, int *out)
{
    for (int i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return NANO_OK;
        }
    }
    return -EINVAL;
}

int
nano_gpio_dir_parse(const char *s, enum nano_gpio_dir *out)
{
    static const char *const names[] = { "in", "out", NULL };
    int i, rc = parse_choice(s, names, &i);

    if (rc == NANO_OK)
        *out = (enum nano_gpio_dir)i;
    return rc;
}

int
nano_gpio_bias_parse(const char *s, enum nano_gpio_bias *out)
{
    static const char *const names[] = {
        "as-is", "pull-up", "pull-down", "disabled", NULL
    };
    int i, rc = parse_choice(s, names, &i);

    if (rc == NANO_OK)
        *out = (enum nano_gpio_bias)i;
    return rc;
}

int
nano_gpio_edge_parse(const char *s, enum nano_gpio_edge *out)
{
    static const char *const names[] = {
        "none", "rising", "falling", "both", NULL
    };
    int i, rc = parse_choice(s, names, &i);

    if (rc == NANO_OK)
        *out = (enum nano_gpio_edge)i;
    return rc;
}

int
nano_gpio_drive_parse(const char *s, enum nano_gpio_drive *out)
{
    static const char *const names[] = {
        "push-pull", "open-drain", "open-source", NULL
    };
    int i, rc = parse_choice(s, names, &i);

    if (rc == NANO_OK)
        *out = (enum nano_gpio_drive)i;
    return rc;
}

int
nano_gpio_level_parse(const char *s, int *out)
{
    static const char *const names[] = {
        "low", "high", "0", "1", "LOW", "HIGH", "off", "on", "false", "true",
        NULL
    };
    int i, rc = parse_choice(s, names, &i);

    if (rc == NANO_OK)
        *out = i & 1;
    return rc;
}

int
nano_gpio_request(const char *chip, const struct nano_gpio_req *req,
                  struct nano_gpio_line **line_out)
{
    const char *rest;
    int rc;

    *line_out = NULL;
    if (!name_ok(chip))
        return -EINVAL;
    if (req->dir == NANO_GPIO_OUT && req->edge != NANO_GPIO_EDGE_NONE)
        return -EINVAL;
    if (req->dir == NANO_GPIO_IN && req->drive != NANO_GPIO_PUSH_PULL)
        return -EINVAL;
    rc = use_sim(chip, SIM_GPIO, &rest) ? hal__gpio_sim_request(rest, req, line_out)
                                  : hal__gpio_cdev_request(rest, req, line_out);
    if (rc == NANO_OK) {
        snprintf((*line_out)->chip, sizeof (*line_out)->chip, "%s", chip);
        (*line_out)->offset = req->line;
        (*line_out)->dir = req->dir;
    }
    return rc;
}

void
nano_gpio_release(struct nano_gpio_line *l)
{
    if (l)
        l->ops->release(l);
}

int
nano_gpio_get(struct nano_gpio_line *l)
{
    return l->ops->get(l);
}

int
nano_gpio_set(struct nano_gpio_line *l, int level)
{
    if (l->dir != NANO_GPIO_OUT)
        return -EPERM;
    return l->ops->set(l, level != 0);
}

int
nano_gpio_event_fd(const struct nano_gpio_line *l)
{
    return l->event_fd;
}

int
nano_gpio_read_event(struct nano_gpio_line *l, struct nano_gpio_event *ev)
{
    if (l->event_fd < 0)
        return -EINVAL;
    return l->ops->read_event(l, ev);
}

const char *
nano_gpio_chip_name(const struct nano_gpio_line *l)
{
    return l->chip;
}

unsigned
nano_gpio_offset(const struct nano_gpio_line *l)
{
    return l->offset;
}

/* ---- UART ------------------------------------------------------------------ */

int
nano_uart_path(const char *bus, char *out, size_t cap)
{
    const char *rest;
    int n;

    if (!name_ok(bus))
        return -EINVAL;
    if (hal__is_sim(bus, &rest))
        return hal__uart_sim_path(rest, out, cap);
    if (rest[0] == '/')
        n = snprintf(out, cap, "%s", rest);
    else
        n = snprintf(out, cap, "/dev/%s", rest);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : NANO_OK;
}

int
nano_uart_open(const char *bus, const struct nano_uart_cfg *cfg,
               struct nano_uart **uart_out)
{
    char path[256];
    int rc;

    *uart_out = NULL;
    rc = nano_uart_cfg_check(cfg);
    if (rc != NANO_OK)
        return rc;
    rc = nano_uart_path(bus, path, sizeof path);
    if (rc != NANO_OK)
        return rc;
    return hal__uart_termios_open(path, bus, cfg, uart_out);
}

/* ---- 1-Wire ---------------------------------------------------------------- */

int
nano_w1_open(const char *bus, struct nano_w1 **w1_out)
{
    char dir[NANO_W1_PATH_MAX];
    const char *rest;
    int rc, n;

    *w1_out = NULL;
    if (!bus || !*bus)
        return -EINVAL;
    if (hal__is_sim(bus, &rest) ||
        (strcmp(bus, "w1") != 0 && strncmp(bus, "w1_bus_master", 13) != 0 &&
         bus[0] != '/' && sim__bus_exists(bus, SIM_W1))) {
        if (!sim__bus_exists(rest, SIM_W1))
            return -ENOENT;
        rc = nano_sim_w1_dir(rest, dir, sizeof dir);
        if (rc != NANO_OK)
            return rc;
        return hal__w1_open_dir(dir, w1_out);
    }
    if (strcmp(bus, "w1") == 0)
        n = snprintf(dir, sizeof dir, "%s", hal__w1_default_root());
    else if (strncmp(bus, "w1_bus_master", 13) == 0 && !strchr(bus, '/'))
        n = snprintf(dir, sizeof dir, "%s/%s", hal__w1_default_root(), bus);
    else if (bus[0] == '/')
        n = snprintf(dir, sizeof dir, "%s", bus);
    else
        return -ENOENT;            /* neither sysfs nor an emulated bus */
    if (n < 0 || (size_t)n >= sizeof dir)
        return -ENAMETOOLONG;
    return hal__w1_open_dir(dir, w1_out);
}
