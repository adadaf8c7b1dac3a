/* SPDX-License-Identifier: MIT
 *
 * sim_config.c - the config file's `simulation:` section (format in
 * hal/sim.h): validation with line:column diagnostics, and apply, which
 * makes the emulated devices match the section.
 *
 * The section is a map of bus name to a list of devices.  What keys a
 * device takes depends on its model: the address key of its bus kind
 * (address / cs / id / line), its quantities (numbers), and `fault`.  So the
 * checks are written out here instead of in a static schema table; they
 * use the same cfg helpers and message shapes as the table-driven ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/log.h"
#include "hal/hal_int.h"

#define SIM_CFG_MAX_DEVICES 4096

/* Pseudo-models handled outside the emulator table. */
enum pseudo { P_NONE, P_GPIO, P_PTY, P_MODBUS };

static const char *const mb_tables[] = {
    "holding", "input", "coil", "discrete", NULL
};

static const char *const addr_key[] = {
    [SIM_I2C] = "address", [SIM_SPI] = "cs", [SIM_W1] = "id",
    [SIM_GPIO] = "line", [SIM_UART] = NULL,
};

static const char *const kind_name[] = {
    [SIM_I2C] = "I2C", [SIM_SPI] = "SPI", [SIM_W1] = "1-Wire",
    [SIM_GPIO] = "GPIO", [SIM_UART] = "UART",
};

struct entry {
    const struct sim_model *model;    /* NULL for a pseudo-model */
    enum pseudo             pseudo;
    enum sim_kind           kind;
    char                    addr[24];
};

static int
check_keys(const struct nano_cfg_node *dev, const char *model,
           const char *akey, const char *const *quantities,
           struct nano_diag *d)
{
    const char *names[24];
    size_t k = 0;

    names[k++] = "device";
    names[k++] = "fault";
    if (akey)
        names[k++] = akey;
    for (const char *const *q = quantities; q && *q && k < 22; q++)
        names[k++] = *q;
    names[k] = NULL;
    for (const struct nano_cfg_node *n = dev->child; n; n = n->next) {
        bool ok = false;
        for (size_t i = 0; i < k; i++)
            if (strcmp(names[i], n->key) == 0)
                ok = true;
        if (ok)
            continue;
        const char *sug = nano_suggest(n->key, names);
        if (sug)
            return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                 "unknown key '%s' in simulated %s (did you "
                                 "mean '%s'?)", n->key, model, sug);
        return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                             "unknown key '%s' in simulated %s", n->key, model);
    }
    return NANO_OK;
}

static int
check_fault(const struct nano_cfg_node *n, struct nano_diag *d)
{
    enum nano_sim_fault f;
    const char *s;

    if (nano_cfg_as_str(n, &s, d) != NANO_OK)
        return NANO_ESCHEMA;
    if (nano_sim_fault_parse(s, &f) != NANO_OK)
        return nano_cfg_error(n, d, "'fault' must be one of none, nack, "
                              "timeout, crc, poweron, unplug, got '%s'", s);
    return NANO_OK;
}

/* An emulated Modbus slave: {device: modbus, slave: N, holding: {addr:
 * word, ...}, input: {...}, coil: {addr: 0|1}, discrete: {...}, fault}. */
static int
check_modbus(const struct nano_cfg_node *dev, struct entry *e,
             struct nano_diag *d)
{
    static const char *const keys[] = {
        "device", "slave", "fault", "holding", "input", "coil", "discrete", NULL
    };
    const struct nano_cfg_node *n;
    int64_t v;
    int rc;

    for (n = dev->child; n; n = n->next) {
        bool ok = false;
        for (int i = 0; keys[i]; i++)
            ok |= strcmp(keys[i], n->key) == 0;
        if (!ok) {
            const char *sug = nano_suggest(n->key, keys);
            return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                 "unknown key '%s' in simulated modbus%s%s%s",
                                 n->key, sug ? " (did you mean '" : "",
                                 sug ? sug : "", sug ? "'?)" : "");
        }
    }
    n = nano_cfg_get(dev, "slave");
    v = 1;
    if (n && (rc = nano_cfg_as_int(n, 1, 247, &v, d)) != NANO_OK)
        return rc;
    snprintf(e->addr, sizeof e->addr, "%u", (unsigned)v);
    if ((n = nano_cfg_get(dev, "fault")) && (rc = check_fault(n, d)) != NANO_OK)
        return rc;
    for (int t = 0; mb_tables[t]; t++) {
        const struct nano_cfg_node *tab = nano_cfg_get(dev, mb_tables[t]);
        if (!tab)
            continue;
        if (tab->kind != NANO_CFG_MAP)
            return nano_cfg_error(tab, d, "'%s' expects a map of address to "
                                  "value, such as {0: 230, 1: 17}", mb_tables[t]);
        for (n = tab->child; n; n = n->next) {
            char *end;
            unsigned long a = strtoul(n->key, &end, 0);
            if (end == n->key || *end || a > 65535)
                return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                     "'%s' is not a register address "
                                     "(0-65535)", n->key);
            if ((rc = nano_cfg_as_int(n, 0, t >= 2 ? 1 : 65535, &v, d)) != NANO_OK)
                return rc;
        }
    }
    return NANO_OK;
}

/* Check one device map and describe it in *e. */
static int
check_entry(const struct nano_cfg_node *dev, struct entry *e,
            struct nano_diag *d)
{
    static const char *const gpio_q[] = { "level", NULL };
    static const char *const models[] = {
        "bme280", "sht3x", "mcp3008", "ds18b20", "gpio", "pty", "modbus", NULL
    };
    const struct nano_cfg_node *n, *an;
    const char *model, *akey;
    const char *const *quantities;
    int64_t v;
    int rc;

    memset(e, 0, sizeof *e);
    if (dev->kind != NANO_CFG_MAP)
        return nano_cfg_error(dev, d, "a simulated device is a map such as "
                              "{device: bme280, address: 0x76}");
    n = nano_cfg_get(dev, "device");
    if (!n)
        return nano_cfg_error(dev, d, "missing required key 'device' (one of "
                              "bme280, sht3x, mcp3008, ds18b20, gpio, pty, "
                              "modbus)");
    if ((rc = nano_cfg_as_str(n, &model, d)) != NANO_OK)
        return rc;
    e->model = sim__model(model);
    if (e->model) {
        e->kind = e->model->kind;
        quantities = e->model->quantities;
    } else if (strcmp(model, "gpio") == 0) {
        e->pseudo = P_GPIO;
        e->kind = SIM_GPIO;
        quantities = gpio_q;
    } else if (strcmp(model, "pty") == 0) {
        e->pseudo = P_PTY;
        e->kind = SIM_UART;
        quantities = NULL;
    } else if (strcmp(model, "modbus") == 0) {
        e->pseudo = P_MODBUS;
        e->kind = SIM_UART;
        return check_modbus(dev, e, d);
    } else {
        const char *sug = nano_suggest(model, models);
        if (sug)
            return nano_cfg_error(n, d, "unknown simulated device '%s' (did "
                                  "you mean '%s'?)", model, sug);
        return nano_cfg_error(n, d, "unknown simulated device '%s'; known: "
                              "bme280, sht3x, mcp3008, ds18b20, gpio, pty, "
                              "modbus", model);
    }
    akey = addr_key[e->kind];
    if ((rc = check_keys(dev, model, akey, quantities, d)) != NANO_OK)
        return rc;

    an = akey ? nano_cfg_get(dev, akey) : NULL;
    switch (e->kind) {
    case SIM_I2C:
        if (!an)
            return nano_cfg_error(dev, d, "simulated %s needs 'address' (e.g. "
                                  "0x76)", model);
        if ((rc = nano_cfg_as_int(an, 0x03, 0x77, &v, d)) != NANO_OK)
            return rc;
        snprintf(e->addr, sizeof e->addr, "0x%02x", (unsigned)v);
        break;
    case SIM_SPI:
        v = 0;
        if (an && (rc = nano_cfg_as_int(an, 0, 15, &v, d)) != NANO_OK)
            return rc;
        snprintf(e->addr, sizeof e->addr, "%u", (unsigned)v);
        break;
    case SIM_W1: {
        const char *id;
        if (!an)
            return nano_cfg_error(dev, d, "simulated %s needs 'id' (e.g. "
                                  "28-000005e2fdc3)", model);
        if ((rc = nano_cfg_as_str(an, &id, d)) != NANO_OK)
            return rc;
        if (!nano_w1_id_valid(id))
            return nano_cfg_error(an, d, "'%s' is not a 1-Wire id: two hex "
                                  "digits of family, '-', twelve hex digits "
                                  "(28-000005e2fdc3)", id);
        snprintf(e->addr, sizeof e->addr, "%s", id);
        break;
    }
    case SIM_GPIO:
        if (!an)
            return nano_cfg_error(dev, d, "simulated gpio needs 'line'");
        if ((rc = nano_cfg_as_int(an, 0, NANO_GPIO_SIM_LINES - 1, &v, d)) != NANO_OK)
            return rc;
        snprintf(e->addr, sizeof e->addr, "%u", (unsigned)v);
        break;
    case SIM_UART:
        break;
    }
    for (n = dev->child; n; n = n->next) {
        double x;
        if (strcmp(n->key, "device") == 0 || (akey && strcmp(n->key, akey) == 0))
            continue;
        if (strcmp(n->key, "fault") == 0) {
            if ((rc = check_fault(n, d)) != NANO_OK)
                return rc;
            continue;
        }
        if ((rc = nano_cfg_as_num(n, &x, d)) != NANO_OK)
            return rc;
    }
    return NANO_OK;
}

int
nano_sim_config_validate(const struct nano_cfg_node *sim, struct nano_diag *d)
{
    const struct nano_cfg_node *bus, *dev;
    struct entry e, first;
    size_t total = 0;
    int rc;

    memset(&first, 0, sizeof first);
    if (!sim || sim->kind == NANO_CFG_NULL)
        return NANO_OK;
    if (sim->kind != NANO_CFG_MAP)
        return nano_cfg_error(sim, d, "'simulation' expects a map of bus name "
                              "to a list of devices");
    for (bus = sim->child; bus; bus = bus->next) {
        const char *k = bus->key;
        bool ok = *k && strlen(k) < HAL_NAME_MAX && strncmp(k, "sim:", 4) != 0;
        for (; ok && *k; k++)
            ok = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
                 (*k >= '0' && *k <= '9') || *k == '_' || *k == '-' || *k == '.';
        if (!ok)
            return nano_diag_set(d, NANO_ESCHEMA, bus->key_line, bus->key_col,
                                 "simulated bus name '%s' must be letters, "
                                 "digits, '_', '-' or '.' (drivers then use "
                                 "sim:%s)", bus->key, bus->key);
        if (bus->kind != NANO_CFG_LIST)
            return nano_cfg_error(bus, d, "simulated bus '%s' expects a list "
                                  "of devices", bus->key);
        for (dev = bus->child; dev; dev = dev->next) {
            if (++total > SIM_CFG_MAX_DEVICES)
                return nano_cfg_error(dev, d, "at most %d simulated devices",
                                      SIM_CFG_MAX_DEVICES);
            if ((rc = check_entry(dev, &e, d)) != NANO_OK)
                return rc;
            if (dev == bus->child)
                first = e;
            else if (e.kind != first.kind)
                return nano_cfg_error(dev, d, "simulated bus '%s' is a %s bus "
                                      "(from its first device); a %s device "
                                      "cannot sit on it", bus->key,
                                      kind_name[first.kind], kind_name[e.kind]);
            for (const struct nano_cfg_node *o = bus->child; o != dev; o = o->next) {
                struct entry oe;
                if (check_entry(o, &oe, NULL) == NANO_OK && e.pseudo != P_PTY &&
                    oe.pseudo != P_PTY && strcmp(oe.addr, e.addr) == 0)
                    return nano_cfg_error(dev, d, "two simulated devices at "
                                          "%s on bus '%s'", e.addr, bus->key);
            }
        }
    }
    return NANO_OK;
}

/* ---- apply ------------------------------------------------------------------------ */

struct prune {
    const struct nano_cfg_node *sim;
};

/* Remove emulated devices the section no longer lists (or lists with
 * another model). */
static void
prune_one(void *arg, const char *bus, struct sim_dev *dv)
{
    struct prune *pr = arg;
    const struct nano_cfg_node *list = pr->sim ? nano_cfg_get(pr->sim, bus) : NULL;
    struct entry e;

    for (const struct nano_cfg_node *n = list ? list->child : NULL; n; n = n->next)
        if (check_entry(n, &e, NULL) == NANO_OK && e.model == dv->model &&
            strcmp(e.addr, dv->addr) == 0)
            return;
    nano_sim_remove(bus, dv->addr);
}

static void
prune_mb(void *arg, const char *port, unsigned unit)
{
    struct prune *pr = arg;
    const struct nano_cfg_node *list = pr->sim ? nano_cfg_get(pr->sim, port) : NULL;
    struct entry e;

    for (const struct nano_cfg_node *n = list ? list->child : NULL; n; n = n->next)
        if (check_entry(n, &e, NULL) == NANO_OK && e.pseudo == P_MODBUS &&
            (unsigned)atoi(e.addr) == unit)
            return;
    nano_sim_modbus_remove(port, unit);
}

/* Apply one emulated Modbus slave. */
static int
apply_modbus(const char *port, const struct nano_cfg_node *dev,
             const struct entry *e, struct nano_diag *d)
{
    unsigned unit = (unsigned)atoi(e->addr);
    enum nano_sim_fault f = NANO_SIM_FAULT_NONE;
    const struct nano_cfg_node *fn;
    char cell[32];
    int64_t v;
    int rc;

    rc = nano_sim_modbus_add(port, unit);
    if (rc != NANO_OK && rc != NANO_EEXISTS)
        return nano_cfg_error(dev, d, "simulated modbus slave %u on '%s': %s",
                              unit, port, nano_strerror(rc));
    for (int t = 0; mb_tables[t]; t++) {
        const struct nano_cfg_node *tab = nano_cfg_get(dev, mb_tables[t]);
        for (const struct nano_cfg_node *n = tab ? tab->child : NULL; n; n = n->next) {
            if (nano_cfg_as_int(n, 0, 65535, &v, NULL) != NANO_OK)
                continue;
            snprintf(cell, sizeof cell, "%s.%lu", mb_tables[t], strtoul(n->key, NULL, 0));
            rc = nano_sim_modbus_set(port, unit, cell, (unsigned)v);
            if (rc != NANO_OK)
                return nano_cfg_error(n, d, "simulated modbus slave %u on '%s': "
                                      "%s: %s", unit, port, cell, nano_strerror(rc));
        }
    }
    fn = nano_cfg_get(dev, "fault");
    if (fn && fn->kind == NANO_CFG_SCALAR)
        nano_sim_fault_parse(fn->str, &f);
    return nano_sim_modbus_fault(port, unit, f, -1);
}

int
nano_sim_config_apply(const struct nano_cfg_node *sim, struct nano_diag *d)
{
    struct prune pr = { sim && sim->kind == NANO_CFG_MAP ? sim : NULL };
    struct entry e;
    int rc, first = NANO_OK;

    sim__foreach(prune_one, &pr);
    sim__uart_foreach_mb(prune_mb, &pr);
    if (!pr.sim)
        return NANO_OK;
    for (const struct nano_cfg_node *bus = pr.sim->child; bus; bus = bus->next) {
        for (const struct nano_cfg_node *dev = bus->child; dev; dev = dev->next) {
            enum nano_sim_fault fault = NANO_SIM_FAULT_NONE;
            const struct nano_cfg_node *fn;
            const char *akey;

            rc = check_entry(dev, &e, d);
            if (rc != NANO_OK)
                return rc;                 /* not validated: stop here */
            akey = addr_key[e.kind];
            if (e.pseudo == P_PTY) {
                int fd;
                rc = nano_sim_uart_open(bus->key, &fd);
                goto done;
            }
            if (e.pseudo == P_MODBUS) {
                rc = apply_modbus(bus->key, dev, &e, first == NANO_OK ? d : NULL);
                if (rc != NANO_OK && first == NANO_OK)
                    first = rc;
                continue;
            }
            if (e.model) {
                rc = nano_sim_add(bus->key, e.model->name, e.addr);
                if (rc == NANO_EEXISTS)
                    rc = NANO_OK;          /* kept, with its state */
                if (rc != NANO_OK)
                    goto done;
                nano_sim_replug(bus->key, e.addr);
            }
            for (const struct nano_cfg_node *n = dev->child; n; n = n->next) {
                double x;
                if (strcmp(n->key, "device") == 0 || strcmp(n->key, "fault") == 0 ||
                    (akey && strcmp(n->key, akey) == 0))
                    continue;
                if (nano_cfg_as_num(n, &x, NULL) != NANO_OK)
                    continue;
                if (e.pseudo == P_GPIO)      /* any chip name, not only gpiochipN */
                    rc = sim__gpio_set_input(bus->key, (unsigned)atoi(e.addr), x != 0);
                else
                    rc = nano_sim_set(bus->key, e.addr, n->key, x);
                if (rc != NANO_OK) {
                    if (first == NANO_OK)
                        first = nano_cfg_error(n, d, "simulated %s at %s on "
                                               "'%s': %s %g %s", e.model ?
                                               e.model->name : "gpio", e.addr,
                                               bus->key, n->key, x,
                                               rc == -ERANGE ? "is outside what "
                                               "the device can represent" :
                                               nano_strerror(rc));
                    rc = NANO_OK;
                }
            }
            if (e.model) {
                fn = nano_cfg_get(dev, "fault");
                if (fn && fn->kind == NANO_CFG_SCALAR)
                    nano_sim_fault_parse(fn->str, &fault);
                rc = nano_sim_fault(bus->key, e.addr, fault, -1);
            }
done:
            if (rc != NANO_OK && first == NANO_OK)
                first = nano_cfg_error(dev, d, "simulated device on '%s': %s",
                                       bus->key, nano_strerror(rc));
        }
    }
    if (first != NANO_OK && d)
        nano_logf(NANO_LOG_WARN, "sim", "%s", d->msg);
    return first;
}
