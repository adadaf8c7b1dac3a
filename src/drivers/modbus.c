/* SPDX-License-Identifier: MIT
 *
 * modbus.c - Modbus RTU (serial) and Modbus TCP devices through libmodbus:
 * registers mapped to named quantities.
 *
 *   devices:
 *     meter:
 *       driver: modbus
 *       transport: rtu                  # or tcp (host, port)
 *       bus: ttyUSB0                    # sim:uart0 for an emulated port
 *       baud: 9600
 *       parity: even
 *       slave: 1
 *       registers:
 *         - { name: voltage, address: 0, function: input, type: f32,
 *             word_order: big, unit: V, min: 0, max: 300 }
 *         - { name: energy, address: 72, type: u32, scale: 0.01, unit: kWh }
 *         - { name: relay, address: 3, function: coil }
 *
 * Non-blocking on the loop, as far as libmodbus allows: libmodbus reads
 * and writes with select() and its own timeouts, and has no step function to
 * drive from readiness, so every libmodbus call runs on a worker lane owned
 * by the instance (hal/offload.h): sample() queues one poll job and returns
 * -EINPROGRESS; the lane connects if needed, reads each register in turn
 * and posts the decoded values back to the loop, where they are reported.
 * One slow or dead slave therefore stalls only its own lane.  close() sets a
 * cancel flag the lane checks between transactions, orphans the job and
 * joins the lane, so it waits at most one response timeout
 * (`response_timeout`, default 500 ms) - bounded, and only on
 * reconfiguration or failure.  The device manager's watchdog for the whole
 * poll (the common `timeout` setting) defaults to 10 s for this driver, so
 * it never cuts short a poll that libmodbus is still timing.
 *
 * Decoding: u16, s16, u32, s32 and f32 (IEEE 754) with word_order big (the
 * high word at the lower address, as the Modbus data model and most meters
 * have it) or little; then value * scale + offset.  Coils and discrete
 * inputs are reported as bools.  A quantity's min/max is its physical range;
 * readings outside it are published as faults by the device manager.
 *
 * Errors: a response timeout is NANO_ETIMEDOUT_DEV, a bad CRC (RTU)
 * NANO_ECRC, an exception from the slave (illegal address, busy) -EPROTO
 * with libmodbus's text in the log, a malformed answer NANO_ECORRUPT, and
 * connection failures their errno.
 */
#include <math.h>
#include <modbus/modbus.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/cfg.h"
#include "core/mem.h"
#include "core/time.h"
#include "drivers/driver.h"
#include "hal/offload.h"
#include "hal/uart.h"

#define MB_MAX_REGS   64
#define MB_NAME_MAX   32
#define MB_UNIT_MAX   16

enum mb_fn { FN_HOLDING, FN_INPUT, FN_COIL, FN_DISCRETE };
enum mb_type { T_U16, T_S16, T_U32, T_S32, T_F32, T_BOOL };

static const char *const fn_names[] = {
    "holding", "input", "coil", "discrete", NULL
};
static const char *const type_names[] = {
    "u16", "s16", "u32", "s32", "f32", NULL
};
static const char *const transport_names[] = { "rtu", "tcp", NULL };
static const char *const parity_names[] = { "none", "even", "odd", NULL };

struct mb_reg {
    char     name[MB_NAME_MAX + 1];
    char     unit[MB_UNIT_MAX + 1];
    uint16_t addr;
    uint8_t  fn;              /* enum mb_fn */
    uint8_t  type;            /* enum mb_type */
    bool     word_swap;       /* word_order: little */
    double   scale, offset;
    double   min, max;        /* max <= min: no range */
};

struct mb_job;

struct modbus_drv {
    /* parameters */
    int                          transport;
    const char                  *bus;
    int                          baud;
    int                          parity;
    int                          data_bits;
    int                          stop_bits;
    const char                  *host;
    int                          port;
    int                          slave;
    uint64_t                     timeout_ns;
    const struct nano_cfg_node  *registers;
    /* state: loop thread */
    struct nano_dev             *dev;
    struct nano_offload         *lane;
    struct mb_job               *job;
    struct mb_reg               *regs;
    unsigned                     nregs;
    /* state: lane thread once created */
    modbus_t                    *mb;
    bool                         connected;
    atomic_bool                  cancel;
};

struct mb_job {
    struct nano_offload_job base;     /* first */
    struct modbus_drv      *s;        /* valid until close() returns */
    int                     rc;
    int                     err;      /* libmodbus errno of the failure */
    unsigned                failed;   /* index of the failing register */
    double                  vals[];   /* one per register */
};

static const struct nano_param params[] = {
    NANO_PARAM_ENUM("transport", struct modbus_drv, transport, "rtu",
                    "rtu (serial line) or tcp", transport_names),
    NANO_PARAM_STR("bus", struct modbus_drv, bus, "ttyUSB0",
                   "RTU: serial port (ttyUSB0, /dev/ttyAMA0, sim:uart0)"),
    NANO_PARAM_INT("baud", struct modbus_drv, baud, "9600",
                   "RTU: bits per second", 300, 921600),
    NANO_PARAM_ENUM("parity", struct modbus_drv, parity, "none",
                    "RTU: none, even or odd", parity_names),
    NANO_PARAM_INT("data_bits", struct modbus_drv, data_bits, "8",
                   "RTU: 7 or 8", 7, 8),
    NANO_PARAM_INT("stop_bits", struct modbus_drv, stop_bits, "1",
                   "RTU: 1 or 2", 1, 2),
    NANO_PARAM_STR("host", struct modbus_drv, host, "127.0.0.1",
                   "TCP: address of the Modbus TCP server or gateway"),
    NANO_PARAM_INT("port", struct modbus_drv, port, "502",
                   "TCP: port", 1, 65535),
    NANO_PARAM_INT("slave", struct modbus_drv, slave, "1",
                   "unit identifier of the device (RTU: 1-247)", 0, 255),
    NANO_PARAM_DURATION("response_timeout", struct modbus_drv, timeout_ns,
                        "500ms", "how long to wait for each response"),
    NANO_PARAM_NODE("registers", struct modbus_drv, registers, NULL,
                    "list of {name, address, function, type, word_order, "
                    "scale, offset, unit, min, max}"),
    NANO_PARAM_END
};

/* ---- the register map ------------------------------------------------------------ */

static int
enum_of(const struct nano_cfg_node *n, const char *const *names, const char *what,
        int *out, struct nano_diag *d)
{
    const char *s;
    char list[96] = "";

    if (nano_cfg_as_str(n, &s, d) != NANO_OK)
        return NANO_ESCHEMA;
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return NANO_OK;
        }
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", names[i]);
    }
    return nano_cfg_error(n, d, "%s must be one of %s, got '%s'", what, list, s);
}

static int
num_of(const struct nano_cfg_node *map, const char *key, double def, double *out,
       struct nano_diag *d)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, key);

    *out = def;
    if (!n)
        return NANO_OK;
    if (nano_cfg_as_num(n, out, d) != NANO_OK)
        return NANO_ESCHEMA;
    if (!isfinite(*out))
        return nano_cfg_error(n, d, "'%s' must be a finite number", key);
    return NANO_OK;
}

/* Parse the `registers` list into regs (NULL: only check). */
static int
parse_registers(const struct nano_cfg_node *list, struct mb_reg *regs,
                unsigned *n_out, struct nano_diag *d)
{
    static const char *const keys[] = {
        "name", "address", "function", "type", "word_order", "scale", "offset",
        "unit", "min", "max", NULL
    };
    struct mb_reg r;
    unsigned n = 0;
    int rc, v;

    if (!list || list->kind != NANO_CFG_LIST || list->count == 0)
        return nano_diag_set(d, NANO_ESCHEMA, list ? list->line : 0,
                             list ? list->col : 0,
                             "'registers' expects a list such as [{name: "
                             "voltage, address: 0, type: f32}]");
    if (list->count > MB_MAX_REGS)
        return nano_cfg_error(list, d, "at most %d registers per device",
                              MB_MAX_REGS);
    for (const struct nano_cfg_node *e = list->child; e; e = e->next, n++) {
        const struct nano_cfg_node *k;
        const char *s;
        int64_t addr;

        memset(&r, 0, sizeof r);
        if (e->kind != NANO_CFG_MAP)
            return nano_cfg_error(e, d, "a register is a map such as {name: "
                                  "voltage, address: 0}");
        for (k = e->child; k; k = k->next) {
            bool ok = false;
            for (int i = 0; keys[i]; i++)
                ok |= strcmp(keys[i], k->key) == 0;
            if (!ok) {
                const char *sug = nano_suggest(k->key, keys);
                return nano_diag_set(d, NANO_ESCHEMA, k->key_line, k->key_col,
                                     "unknown key '%s' in a register%s%s%s",
                                     k->key, sug ? " (did you mean '" : "",
                                     sug ? sug : "", sug ? "'?)" : "");
            }
        }
        k = nano_cfg_get(e, "name");
        if (!k)
            return nano_cfg_error(e, d, "a register needs a 'name' (the "
                                  "quantity it reports)");
        if (nano_cfg_as_str(k, &s, d) != NANO_OK)
            return NANO_ESCHEMA;
        bool good = *s && strlen(s) <= MB_NAME_MAX;
        for (const char *p = s; good && *p; p++)
            good = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (!good)
            return nano_cfg_error(k, d, "register name '%s' must be 1-%d "
                                  "lower-case letters, digits or '_' (it "
                                  "becomes a topic level)", s, MB_NAME_MAX);
        for (const struct nano_cfg_node *o = list->child; o != e; o = o->next) {
            const struct nano_cfg_node *on = nano_cfg_get(o, "name");
            if (on && on->kind == NANO_CFG_SCALAR && strcmp(on->str, s) == 0)
                return nano_cfg_error(k, d, "two registers named '%s'", s);
        }
        snprintf(r.name, sizeof r.name, "%s", s);
        k = nano_cfg_get(e, "address");
        if (!k)
            return nano_cfg_error(e, d, "register '%s' needs an 'address' "
                                  "(0-65535, the protocol address, not the "
                                  "4xxxx number)", r.name);
        if (nano_cfg_as_int(k, 0, 65535, &addr, d) != NANO_OK)
            return NANO_ESCHEMA;
        r.addr = (uint16_t)addr;
        v = FN_HOLDING;
        if ((k = nano_cfg_get(e, "function")) &&
            (rc = enum_of(k, fn_names, "'function'", &v, d)) != NANO_OK)
            return rc;
        r.fn = (uint8_t)v;
        v = T_U16;
        if ((k = nano_cfg_get(e, "type"))) {
            if (r.fn == FN_COIL || r.fn == FN_DISCRETE)
                return nano_cfg_error(k, d, "register '%s' is a %s: one bit, "
                                      "no 'type'", r.name, fn_names[r.fn]);
            if ((rc = enum_of(k, type_names, "'type'", &v, d)) != NANO_OK)
                return rc;
        }
        r.type = (uint8_t)(r.fn == FN_COIL || r.fn == FN_DISCRETE ? T_BOOL : v);
        v = 0;
        static const char *const orders[] = { "big", "little", NULL };
        if ((k = nano_cfg_get(e, "word_order")) &&
            (rc = enum_of(k, orders, "'word_order'", &v, d)) != NANO_OK)
            return rc;
        r.word_swap = v == 1;
        if ((rc = num_of(e, "scale", 1, &r.scale, d)) != NANO_OK ||
            (rc = num_of(e, "offset", 0, &r.offset, d)) != NANO_OK ||
            (rc = num_of(e, "min", 0, &r.min, d)) != NANO_OK ||
            (rc = num_of(e, "max", 0, &r.max, d)) != NANO_OK)
            return rc;
        if (r.scale == 0)
            return nano_cfg_error(nano_cfg_get(e, "scale"), d, "'scale' must "
                                  "not be 0");
        if (nano_cfg_get(e, "min") && nano_cfg_get(e, "max") && r.max <= r.min)
            return nano_cfg_error(nano_cfg_get(e, "max"), d, "'max' must be "
                                  "above 'min'");
        if ((k = nano_cfg_get(e, "unit"))) {
            if (nano_cfg_as_str(k, &s, d) != NANO_OK)
                return NANO_ESCHEMA;
            if (strlen(s) > MB_UNIT_MAX)
                return nano_cfg_error(k, d, "unit '%s' is longer than %d bytes",
                                      s, MB_UNIT_MAX);
            snprintf(r.unit, sizeof r.unit, "%s", s);
        }
        if (regs)
            regs[n] = r;
    }
    *n_out = n;
    return NANO_OK;
}

static int
mb_validate(const struct nano_cfg_node *map, struct nano_diag *d)
{
    unsigned n;

    return parse_registers(nano_cfg_get(map, "registers"), NULL, &n, d);
}

/* ---- the lane: everything libmodbus -------------------------------------------------- */

static int
map_err(int e)
{
    if (e == ETIMEDOUT || e == EMBXGTAR)
        return NANO_ETIMEDOUT_DEV;
    if (e == EMBBADCRC)
        return NANO_ECRC;
    if (e >= EMBXILFUN && e < EMBXGTAR)
        return -EPROTO;                  /* the slave answered an exception */
    if (e > EMBBADCRC && e <= EMBBADCRC + 16)
        return NANO_ECORRUPT;            /* bad data, slave, exception code */
    return e > 0 && e < 4096 ? -e : -EIO;
}

static int
read_one(modbus_t *mb, const struct mb_reg *r, double *out)
{
    uint16_t w[2];
    uint8_t bit;
    unsigned words = r->type == T_U32 || r->type == T_S32 || r->type == T_F32 ? 2 : 1;
    uint32_t u;
    float f;
    double v;
    int n;

    switch (r->fn) {
    case FN_COIL:
        n = modbus_read_bits(mb, r->addr, 1, &bit);
        break;
    case FN_DISCRETE:
        n = modbus_read_input_bits(mb, r->addr, 1, &bit);
        break;
    case FN_INPUT:
        n = modbus_read_input_registers(mb, r->addr, (int)words, w);
        break;
    default:
        n = modbus_read_registers(mb, r->addr, (int)words, w);
        break;
    }
    if (n < 0)
        return -1;
    if (r->type == T_BOOL) {
        *out = bit != 0;
        return 0;
    }
    if (r->word_swap && words == 2)
        u = (uint32_t)w[1] << 16 | w[0];
    else
        u = words == 2 ? (uint32_t)w[0] << 16 | w[1] : w[0];
    switch (r->type) {
    case T_S16: v = (int16_t)u; break;
    case T_U32: v = u; break;
    case T_S32: v = (int32_t)u; break;
    case T_F32: memcpy(&f, &u, sizeof f); v = f; break;
    default:    v = u; break;
    }
    *out = v * r->scale + r->offset;
    return 0;
}

static void
job_run(struct nano_offload_job *j)
{
    struct mb_job *job = (struct mb_job *)j;
    struct modbus_drv *s = job->s;

    job->rc = NANO_OK;
    if (!s->connected) {
        if (modbus_connect(s->mb) < 0) {
            job->err = errno;
            job->rc = map_err(errno);
            job->failed = UINT32_MAX;
            return;
        }
        s->connected = true;
    }
    for (unsigned i = 0; i < s->nregs; i++) {
        if (atomic_load(&s->cancel)) {
            job->rc = -ECANCELED;
            return;
        }
        if (read_one(s->mb, &s->regs[i], &job->vals[i]) < 0) {
            job->err = errno;
            job->rc = map_err(errno);
            job->failed = i;
            /* Drop whatever is half-received so the next poll starts clean. */
            modbus_flush(s->mb);
            return;
        }
    }
}

static void
job_done(struct nano_offload_job *j)
{
    struct mb_job *job = (struct mb_job *)j;
    struct modbus_drv *s = job->s;

    s->job = NULL;
    if (job->rc != NANO_OK) {
        if (job->failed == UINT32_MAX)
            nano_dev_logf(s->dev, NANO_LOG_WARN, "cannot connect: %s",
                          modbus_strerror(job->err));
        else
            nano_dev_logf(s->dev, NANO_LOG_WARN, "register '%s' (%s %u): %s",
                          s->regs[job->failed].name,
                          fn_names[s->regs[job->failed].fn],
                          s->regs[job->failed].addr, modbus_strerror(job->err));
        nano_dev_fail(s->dev, job->rc);
        return;
    }
    for (unsigned i = 0; i < s->nregs; i++) {
        if (s->regs[i].type == T_BOOL) {
            struct nano_value v = nano_value_bool(job->vals[i] != 0);
            nano_dev_report_value(s->dev, s->regs[i].name, &v);
        } else {
            nano_dev_report(s->dev, s->regs[i].name, job->vals[i]);
        }
    }
    nano_dev_done(s->dev);
}

/* ---- driver -------------------------------------------------------------------------- */

static int
mb_probe(struct nano_dev *dev)
{
    struct modbus_drv *s = nano_dev_ctx(dev);
    struct nano_diag d = { 0 };
    char path[256];
    int rc;

    s->dev = dev;
    atomic_store(&s->cancel, false);
    s->connected = false;
    s->regs = nano_calloc(MB_MAX_REGS, sizeof *s->regs);
    if (!s->regs)
        return -ENOMEM;
    rc = parse_registers(s->registers, s->regs, &s->nregs, &d);
    if (rc != NANO_OK) {
        nano_dev_logf(dev, NANO_LOG_ERR, "%s", d.msg);
        return rc;
    }
    for (unsigned i = 0; i < s->nregs; i++) {
        const struct mb_reg *r = &s->regs[i];
        rc = nano_dev_declare(dev, r->name, r->unit[0] ? r->unit : NULL,
                              r->min, r->max);
        if (rc != NANO_OK)
            return rc;
    }
    if (s->transport == 0) {
        rc = nano_uart_path(s->bus, path, sizeof path);
        if (rc != NANO_OK) {
            nano_dev_logf(dev, NANO_LOG_ERR, "serial port %s: %s", s->bus,
                          nano_strerror(rc));
            return rc;
        }
        s->mb = modbus_new_rtu(path, s->baud, "NEO"[s->parity], s->data_bits,
                               s->stop_bits);
    } else {
        char port[8];
        snprintf(port, sizeof port, "%d", s->port);
        s->mb = modbus_new_tcp_pi(s->host, port);
    }
    if (!s->mb) {
        rc = errno ? -errno : -EINVAL;
        nano_dev_logf(dev, NANO_LOG_ERR, "libmodbus: %s", modbus_strerror(errno));
        return rc;
    }
    if (modbus_set_slave(s->mb, s->slave) < 0) {
        nano_dev_logf(dev, NANO_LOG_ERR, "slave %d: %s", s->slave,
                      modbus_strerror(errno));
        return -EINVAL;
    }
    modbus_set_response_timeout(s->mb, (uint32_t)(s->timeout_ns / NANO_NS_PER_S),
                                (uint32_t)(s->timeout_ns % NANO_NS_PER_S / 1000));
    return nano_offload_lane_new(&s->lane);
}

static int
mb_sample(struct nano_dev *dev)
{
    struct modbus_drv *s = nano_dev_ctx(dev);
    struct mb_job *job;
    int rc;

    if (s->job)
        return -EBUSY;
    job = nano_offload_job_new(sizeof *job + s->nregs * sizeof(double), job_run,
                               job_done, s);
    if (!job)
        return -ENOMEM;
    job->s = s;
    rc = nano_offload_submit(s->lane, nano_dev_loop(dev), &job->base);
    if (rc != NANO_OK) {
        nano_offload_job_free(job);
        return rc;
    }
    s->job = job;
    return -EINPROGRESS;
}

static void
mb_close(struct nano_dev *dev)
{
    struct modbus_drv *s = nano_dev_ctx(dev);

    atomic_store(&s->cancel, true);
    if (s->job)
        nano_offload_orphan(s->lane, &s->job->base);
    s->job = NULL;
    nano_offload_lane_free(s->lane);     /* waits for at most one response */
    s->lane = NULL;
    if (s->mb) {
        modbus_close(s->mb);
        modbus_free(s->mb);
        s->mb = NULL;
    }
    nano_free(s->regs);
    s->regs = NULL;
    s->nregs = 0;
}

const struct nano_driver nano_driver_modbus = {
    .name                = "modbus",
    .summary             = "Modbus RTU / TCP registers as named quantities "
                           "(libmodbus on a worker lane)",
    .params              = params,
    .ctx_size            = sizeof(struct modbus_drv),
    .quantities          = NULL,        /* from `registers`, at probe */
    .default_interval_ms = 5000,
    .timeout_ms          = 10000,      /* the lane times each response */
    .validate            = mb_validate,
    .probe               = mb_probe,
    .sample              = mb_sample,
    .close               = mb_close,
};
