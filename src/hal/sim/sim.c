/* SPDX-License-Identifier: MIT
 *
 * sim.c - the registry of emulated buses and devices, fault injection, and
 * the emulated 1-Wire tree (contract in hal/sim.h).
 *
 * Buses are a short list by name; each holds its devices, each device a
 * model row (one per kind of chip: sim_models[] below) and the model's
 * state.  The simulated back ends (i2c_sim.c, spi_sim.c) look the device up
 * on every transfer, so adding, removing and unplugging devices while
 * drivers run behaves like hardware: the next transfer finds nothing there.
 *
 * 1-Wire needs no back end of its own: the emulated bus is a directory laid
 * out like /sys/bus/w1/devices, and the real sysfs code reads it.  Each
 * DS18B20 is a directory <id>/ with `w1_slave` rewritten atomically (write a
 * temporary, rename) whenever its temperature or fault changes.  The
 * TIMEOUT fault replaces w1_slave with a FIFO that this file holds open for
 * writing and never writes: a reader blocks in read() exactly like a reader
 * of a conversion that never ends; clearing the fault renames a regular
 * file back in place and closes the FIFO, so a blocked reader sees EOF.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/topic.h"
#include "core/json.h"
#include "core/mem.h"
#include "hal/hal_int.h"

struct sim_bus {
    struct sim_bus *next;
    enum sim_kind   kind;
    char            name[HAL_NAME_MAX];
    struct sim_dev *devs;
};

static struct sim_bus *buses;
static char sim_dir[256];            /* w1 tree root; "" until first use */

static const struct sim_model *const sim_models[] = {
    &sim__model_bme280,
    &sim__model_sht3x,
    &sim__model_mcp3008,
    &sim__model_ds18b20,
    NULL
};

static const char *const fault_names[] = {
    "none", "nack", "timeout", "crc", "poweron", "unplug", NULL
};

const char *
nano_sim_fault_name(enum nano_sim_fault f)
{
    return (unsigned)f < NANO_ARRAY_LEN(fault_names) - 1 ? fault_names[f] : "?";
}

int
nano_sim_fault_parse(const char *s, enum nano_sim_fault *out)
{
    for (int i = 0; fault_names[i]; i++) {
        if (strcmp(s, fault_names[i]) == 0) {
            *out = (enum nano_sim_fault)i;
            return NANO_OK;
        }
    }
    return -EINVAL;
}

static const struct sim_model *
model_find(const char *name)
{
    for (const struct sim_model *const *m = sim_models; *m; m++)
        if (strcmp((*m)->name, name) == 0)
            return *m;
    return NULL;
}

/* ---- buses and addresses --------------------------------------------------- */

static struct sim_bus *
bus_find(const char *name)
{
    for (struct sim_bus *b = buses; b; b = b->next)
        if (strcmp(b->name, name) == 0)
            return b;
    return NULL;
}

bool
sim__bus_exists(const char *bus, enum sim_kind kind)
{
    struct sim_bus *b = bus_find(bus);

    return b && b->kind == kind;
}

static bool
bus_name_ok(const char *s)
{
    return nano_name_valid(s, HAL_NAME_MAX - 1, ".");
}

/* Parse addr for kind into the canonical text and number. */
static int
addr_parse(enum sim_kind kind, const char *addr, char *text, size_t cap,
           unsigned *num)
{
    char *end;
    unsigned long v;

    switch (kind) {
    case SIM_I2C:
    case SIM_SPI:
        errno = 0;
        v = strtoul(addr, &end, 0);
        if (errno || end == addr || *end)
            return -EINVAL;
        if (kind == SIM_I2C && (v < 0x03 || v > 0x77))
            return -EINVAL;
        if (kind == SIM_SPI && v > 15)
            return -EINVAL;
        *num = (unsigned)v;
        snprintf(text, cap, kind == SIM_I2C ? "0x%02lx" : "%lu", v);
        return NANO_OK;
    case SIM_W1:
        if (!nano_w1_id_valid(addr))
            return -EINVAL;
        for (size_t i = 0; addr[i] && i + 1 < cap; i++) {
            text[i] = (char)(addr[i] >= 'A' && addr[i] <= 'F' ? addr[i] + 32 : addr[i]);
            text[i + 1] = '\0';
        }
        *num = 0;
        return NANO_OK;
    default:
        return -EINVAL;
    }
}

static struct sim_dev *
dev_lookup(struct sim_bus *b, const char *addr_text)
{
    for (struct sim_dev *d = b ? b->devs : NULL; d; d = d->next)
        if (strcmp(d->addr, addr_text) == 0)
            return d;
    return NULL;
}

/* The device named by (bus, addr) in any kind, or NULL. */
static struct sim_dev *
dev_find(const char *bus, const char *addr)
{
    struct sim_bus *b = bus_find(bus);
    char text[sizeof ((struct sim_dev *)0)->addr];
    unsigned num;

    if (!b || addr_parse(b->kind, addr, text, sizeof text, &num) != NANO_OK)
        return NULL;
    return dev_lookup(b, text);
}

struct sim_dev *
sim__find(const char *bus, enum sim_kind kind, unsigned addr)
{
    struct sim_bus *b = bus_find(bus);

    if (!b || b->kind != kind)
        return NULL;
    for (struct sim_dev *d = b->devs; d; d = d->next)
        if (d->addr_num == addr)
            return d;
    return NULL;
}

enum nano_sim_fault
sim__take_fault(struct sim_dev *d)
{
    enum nano_sim_fault f;

    d->transactions++;
    if (!d->plugged)
        return d->cur = NANO_SIM_FAULT_UNPLUG;
    f = d->fault;
    if (f != NANO_SIM_FAULT_NONE && d->fault_count > 0 && --d->fault_count == 0)
        d->fault = NANO_SIM_FAULT_NONE;
    return d->cur = f;
}

/* ---- the w1 tree ------------------------------------------------------------- */

static int
ensure_dir(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    return NANO_OK;
}

static int
base_dir(void)
{
    const char *env, *tmp;
    int n;

    if (sim_dir[0])
        return NANO_OK;
    env = getenv("NANO_SIM_DIR");
    if (env && *env) {
        n = snprintf(sim_dir, sizeof sim_dir, "%s", env);
    } else {
        tmp = getenv("TMPDIR");
        n = snprintf(sim_dir, sizeof sim_dir, "%s/nano-sim-%ld",
                     tmp && *tmp ? tmp : "/tmp", (long)getpid());
    }
    if (n < 0 || (size_t)n >= sizeof sim_dir - 96) {
        sim_dir[0] = '\0';
        return -ENAMETOOLONG;
    }
    return ensure_dir(sim_dir);
}

int
nano_sim_w1_dir(const char *bus, char *out, size_t cap)
{
    int rc, n;

    if (!bus_name_ok(bus))
        return -EINVAL;
    rc = base_dir();
    if (rc != NANO_OK)
        return rc;
    n = snprintf(out, cap, "%s/%s", sim_dir, bus);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return ensure_dir(out);
}

static void
w1_paths(struct sim_dev *d, char *dir, char *file, char *tmp, size_t cap)
{
    char busdir[384];

    if (nano_sim_w1_dir(d->bus->name, busdir, sizeof busdir) != NANO_OK)
        busdir[0] = '\0';
    snprintf(dir, cap, "%s/%s", busdir, d->addr);
    snprintf(file, cap, "%s/%s/w1_slave", busdir, d->addr);
    snprintf(tmp, cap, "%s/%s/.w1_slave.tmp", busdir, d->addr);
}

/* Unblock readers of a TIMEOUT FIFO.  Call after the FIFO left the path. */
static void
w1_unstick(struct sim_dev *d)
{
    if (d->fifo_fd >= 0) {
        close(d->fifo_fd);           /* last writer gone: readers see EOF */
        d->fifo_fd = -1;
    }
}

static int
write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = write(fd, text, len);
    close(fd);
    return n == (ssize_t)len ? NANO_OK : -EIO;
}

static void
w1_remove(struct sim_dev *d)
{
    char dir[512], file[512], tmp[512], name[600];

    w1_paths(d, dir, file, tmp, sizeof dir);
    unlink(file);
    unlink(tmp);
    snprintf(name, sizeof name, "%s/name", dir);
    unlink(name);
    rmdir(dir);
    w1_unstick(d);
}

void
sim__w1_update(struct sim_dev *d)
{
    char dir[512], file[512], tmp[512], name[600], text[256];
    int len;

    if (!d->plugged) {
        w1_remove(d);
        return;
    }
    w1_paths(d, dir, file, tmp, sizeof dir);
    if (ensure_dir(dir) != NANO_OK)
        return;
    snprintf(name, sizeof name, "%s/name", dir);
    write_file(name, d->addr, strlen(d->addr));
    if (d->fault == NANO_SIM_FAULT_TIMEOUT) {
        if (d->fifo_fd >= 0)
            return;                  /* already stuck */
        unlink(tmp);
        if (mkfifo(tmp, 0644) < 0)
            return;
        /* O_RDWR on a FIFO never blocks and counts as a writer, so readers
         * open it and then wait in read() for bytes that never come. */
        d->fifo_fd = open(tmp, O_RDWR | O_CLOEXEC);
        if (d->fifo_fd < 0 || rename(tmp, file) < 0) {
            unlink(tmp);
            w1_unstick(d);
        }
        return;
    }
    d->cur = d->fault;
    len = d->model->w1_render(d, text, sizeof text);
    if (len < 0 || write_file(tmp, text, (size_t)len) != NANO_OK ||
        rename(tmp, file) < 0) {
        unlink(tmp);
        return;
    }
    w1_unstick(d);                   /* after the rename: new opens get the file */
}

/* ---- devices ------------------------------------------------------------------ */

int
nano_sim_add(const char *bus, const char *model, const char *addr)
{
    const struct sim_model *m = model_find(model);
    struct sim_bus *b;
    struct sim_dev *d;
    char text[sizeof ((struct sim_dev *)0)->addr];
    unsigned num;
    bool new_bus = false;
    int rc;

    if (!m)
        return NANO_ENOTFOUND;
    if (!bus_name_ok(bus))
        return -EINVAL;
    rc = addr_parse(m->kind, addr, text, sizeof text, &num);
    if (rc != NANO_OK)
        return rc;
    b = bus_find(bus);
    if (b && b->kind != m->kind)
        return -EINVAL;
    if (dev_lookup(b, text))
        return NANO_EEXISTS;
    if (!b) {
        b = nano_calloc(1, sizeof *b);
        if (!b)
            return -ENOMEM;
        b->kind = m->kind;
        snprintf(b->name, sizeof b->name, "%s", bus);
        new_bus = true;
    }
    d = nano_calloc(1, sizeof *d + m->state_size);
    if (!d) {
        if (new_bus)
            nano_free(b);
        return -ENOMEM;
    }
    d->model = m;
    d->bus = b;
    d->plugged = true;
    d->fifo_fd = -1;
    d->addr_num = num;
    snprintf(d->addr, sizeof d->addr, "%s", text);
    if (m->reset)
        m->reset(d);
    if (new_bus) {
        b->next = buses;
        buses = b;
    }
    d->next = b->devs;
    b->devs = d;
    if (m->kind == SIM_W1)
        sim__w1_update(d);
    return NANO_OK;
}

static void
dev_free(struct sim_dev *d)
{
    if (d->model->kind == SIM_W1)
        w1_remove(d);
    nano_free(d);
}

int
nano_sim_remove(const char *bus, const char *addr)
{
    struct sim_bus *b = bus_find(bus);
    struct sim_dev *d = dev_find(bus, addr);

    if (!d)
        return NANO_ENOTFOUND;
    for (struct sim_dev **pp = &b->devs; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    dev_free(d);
    return NANO_OK;
}

static bool
has_quantity(const struct sim_model *m, const char *q)
{
    for (const char *const *p = m->quantities; p && *p; p++)
        if (strcmp(*p, q) == 0)
            return true;
    return false;
}

static bool
is_gpio_chip(const char *bus)
{
    return !bus_find(bus) &&
           (strncmp(bus, "gpiochip", 8) == 0 || sim__gpio_chip_exists(bus));
}

static int
gpio_line(const char *addr, unsigned *line)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(addr, &end, 10);
    if (errno || end == addr || *end || v >= NANO_GPIO_SIM_LINES)
        return -EINVAL;
    *line = (unsigned)v;
    return NANO_OK;
}

/* An emulated port with Modbus slaves: addr is the unit id. */
static bool
is_modbus_port(const char *bus, const char *addr, unsigned *unit)
{
    struct sim_mb *mb;
    char *end;
    unsigned long v;

    if (bus_find(bus) || sim__uart_mb(bus, false, &mb) != NANO_OK)
        return false;
    v = strtoul(addr, &end, 0);
    *unit = end != addr && !*end && v <= 247 ? (unsigned)v : 0;
    return true;
}

int
nano_sim_set(const char *bus, const char *addr, const char *quantity,
             double value)
{
    struct sim_dev *d;
    unsigned line, unit;
    int rc;

    if (is_modbus_port(bus, addr, &unit)) {
        if (!(value >= 0 && value <= 65535) || value != (unsigned)value)
            return -ERANGE;
        return nano_sim_modbus_set(bus, unit, quantity, (unsigned)value);
    }
    if (is_gpio_chip(bus)) {
        if (strcmp(quantity, "level") != 0 || gpio_line(addr, &line) != NANO_OK)
            return -EINVAL;
        return sim__gpio_set_input(bus, line, value != 0);
    }
    d = dev_find(bus, addr);
    if (!d)
        return NANO_ENOTFOUND;
    if (!has_quantity(d->model, quantity))
        return -EINVAL;
    rc = d->model->set(d, quantity, value);
    if (rc == NANO_OK && d->model->kind == SIM_W1)
        sim__w1_update(d);
    return rc;
}

int
nano_sim_get(const char *bus, const char *addr, const char *quantity,
             double *out)
{
    struct sim_dev *d;
    unsigned line, unit, word;
    int level, rc;

    if (is_modbus_port(bus, addr, &unit)) {
        rc = nano_sim_modbus_get(bus, unit, quantity, &word);
        if (rc == NANO_OK)
            *out = word;
        return rc;
    }
    if (is_gpio_chip(bus)) {
        if (strcmp(quantity, "level") != 0 || gpio_line(addr, &line) != NANO_OK)
            return -EINVAL;
        rc = sim__gpio_get_input(bus, line, &level);
        if (rc == NANO_OK)
            *out = level;
        return rc;
    }
    d = dev_find(bus, addr);
    if (!d)
        return NANO_ENOTFOUND;
    if (!has_quantity(d->model, quantity) || !d->model->get)
        return -EINVAL;
    return d->model->get(d, quantity, out);
}

int
nano_sim_unplug(const char *bus, const char *addr)
{
    struct sim_dev *d = dev_find(bus, addr);
    unsigned unit;

    if (!d && is_modbus_port(bus, addr, &unit))
        return nano_sim_modbus_fault(bus, unit, NANO_SIM_FAULT_UNPLUG, -1);
    if (!d)
        return NANO_ENOTFOUND;
    d->plugged = false;
    if (d->model->kind == SIM_W1)
        sim__w1_update(d);
    return NANO_OK;
}

int
nano_sim_replug(const char *bus, const char *addr)
{
    struct sim_dev *d = dev_find(bus, addr);
    unsigned unit;

    if (!d && is_modbus_port(bus, addr, &unit))
        return nano_sim_modbus_fault(bus, unit, NANO_SIM_FAULT_NONE, -1);
    if (!d)
        return NANO_ENOTFOUND;
    if (!d->plugged) {
        d->plugged = true;
        if (d->model->reset)
            d->model->reset(d);      /* power-on registers; environment kept */
    }
    if (d->model->kind == SIM_W1)
        sim__w1_update(d);
    return NANO_OK;
}

int
nano_sim_fault(const char *bus, const char *addr, enum nano_sim_fault f,
               int count)
{
    struct sim_dev *d = dev_find(bus, addr);
    unsigned unit;

    if (!d && is_modbus_port(bus, addr, &unit))
        return nano_sim_modbus_fault(bus, unit, f, count);
    if (!d)
        return NANO_ENOTFOUND;
    if ((unsigned)f >= NANO_ARRAY_LEN(fault_names) - 1 || count == 0 || count < -1)
        return -EINVAL;
    if (f == NANO_SIM_FAULT_UNPLUG)
        return nano_sim_unplug(bus, addr);
    d->fault = f;
    d->fault_count = f == NANO_SIM_FAULT_NONE ? 0 : count;
    if (d->model->kind == SIM_W1)
        sim__w1_update(d);
    return NANO_OK;
}

uint64_t
nano_sim_transactions(const char *bus, const char *addr)
{
    struct sim_dev *d = dev_find(bus, addr);

    return d ? d->transactions : 0;
}

void
nano_sim_reset(void)
{
    struct sim_bus *b, *bn;
    struct sim_dev *d, *dn;
    char path[512];

    for (b = buses; b; b = bn) {
        bn = b->next;
        for (d = b->devs; d; d = dn) {
            dn = d->next;
            dev_free(d);
        }
        if (b->kind == SIM_W1 && sim_dir[0]) {
            snprintf(path, sizeof path, "%s/%s", sim_dir, b->name);
            rmdir(path);
        }
        nano_free(b);
    }
    buses = NULL;
    if (sim_dir[0]) {
        rmdir(sim_dir);              /* fails harmlessly if a user put files there */
        sim_dir[0] = '\0';
    }
    sim__gpio_reset();
    sim__uart_reset();
}

/* ---- model helpers -------------------------------------------------------------- */

static int
i2c_addr_text(unsigned addr, char *out, size_t cap)
{
    snprintf(out, cap, "0x%02x", addr);
    return NANO_OK;
}

int
nano_sim_bme280_set_env(const char *bus, unsigned addr, double temp_c,
                        double hum_rh, double press_hpa)
{
    char a[8];
    int rc;

    i2c_addr_text(addr, a, sizeof a);
    if ((rc = nano_sim_set(bus, a, "temperature", temp_c)) != NANO_OK ||
        (rc = nano_sim_set(bus, a, "humidity", hum_rh)) != NANO_OK ||
        (rc = nano_sim_set(bus, a, "pressure", press_hpa)) != NANO_OK)
        return rc;
    return NANO_OK;
}

int
nano_sim_bme280_set_raw(const char *bus, unsigned addr, uint32_t adc_t,
                        uint32_t adc_p, uint32_t adc_h)
{
    char a[8];
    int rc;

    i2c_addr_text(addr, a, sizeof a);
    if ((rc = nano_sim_set(bus, a, "raw_temperature", adc_t)) != NANO_OK ||
        (rc = nano_sim_set(bus, a, "raw_pressure", adc_p)) != NANO_OK ||
        (rc = nano_sim_set(bus, a, "raw_humidity", adc_h)) != NANO_OK)
        return rc;
    return NANO_OK;
}

int
nano_sim_bme280_set_calib(const char *bus, unsigned addr,
                          const uint8_t cal1[26], const uint8_t cal2[7])
{
    struct sim_dev *d = sim__find(bus, SIM_I2C, addr);

    if (!d || d->model != &sim__model_bme280)
        return NANO_ENOTFOUND;
    return sim__bme280_set_calib(d, cal1, cal2);
}

int
nano_sim_i2c_set(const char *bus, unsigned addr, const char *quantity,
                 double value)
{
    char a[8];

    i2c_addr_text(addr, a, sizeof a);
    return nano_sim_set(bus, a, quantity, value);
}

int
nano_sim_i2c_fault(const char *bus, unsigned addr, enum nano_sim_fault f,
                   int count)
{
    char a[8];

    i2c_addr_text(addr, a, sizeof a);
    return nano_sim_fault(bus, a, f, count);
}

/* ---- listing -------------------------------------------------------------------- */

void
nano_sim_write_json(struct nano_json *w)
{
    nano_json_arr_begin(w);
    for (struct sim_bus *b = buses; b; b = b->next) {
        for (struct sim_dev *d = b->devs; d; d = d->next) {
            nano_json_obj_begin(w);
            nano_json_key(w, "bus");
            nano_json_str(w, b->name);
            nano_json_key(w, "address");
            nano_json_str(w, d->addr);
            nano_json_key(w, "model");
            nano_json_str(w, d->model->name);
            nano_json_key(w, "plugged");
            nano_json_bool(w, d->plugged);
            nano_json_key(w, "fault");
            nano_json_str(w, nano_sim_fault_name(d->fault));
            nano_json_key(w, "transactions");
            nano_json_uint(w, d->transactions);
            nano_json_key(w, "values");
            nano_json_obj_begin(w);
            for (const char *const *q = d->model->quantities; q && *q; q++) {
                double v;
                if (strncmp(*q, "raw_", 4) == 0 || !d->model->get ||
                    d->model->get(d, *q, &v) != NANO_OK)
                    continue;
                nano_json_key(w, *q);
                nano_json_num(w, v);
            }
            nano_json_obj_end(w);
            nano_json_obj_end(w);
        }
    }
    nano_json_arr_end(w);
}

/* ---- for sim_config.c ------------------------------------------------------------ */

const struct sim_model *
sim__model(const char *name)
{
    return model_find(name);
}

void
sim__foreach(void (*fn)(void *arg, const char *bus, struct sim_dev *d),
             void *arg)
{
    struct sim_bus *b, *bn;
    struct sim_dev *d, *dn;

    for (b = buses; b; b = bn) {
        bn = b->next;
        for (d = b->devs; d; d = dn) {
            dn = d->next;
            fn(arg, b->name, d);
        }
    }
}
