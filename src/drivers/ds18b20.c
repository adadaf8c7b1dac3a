/* SPDX-License-Identifier: MIT
 *
 * ds18b20.c - Maxim DS18B20 (and the other w1-therm thermometers: DS18S20,
 * DS1822, DS1825, DS28EA00) through the kernel's w1 sysfs tree.
 *
 * Reading /sys/bus/w1/devices/<id>/w1_slave makes the kernel run a whole
 * conversion (up to 750 ms at 12 bits) inside read(), so the read runs on
 * the HAL's shared offload lane and its result comes back to the loop
 * (hal/offload.h); sample() only queues it.  Several sensors share one bus:
 * each instance names its sensor with `id`, which may be left out when the
 * bus has exactly one thermometer.
 *
 * What the kernel returns is checked, not trusted:
 *   - line 1 must end "crc=xx YES" (else NANO_ECRC; an all-ones scratchpad
 *     means nobody answered: NANO_ENACK), and the CRC is checked here too;
 *   - an all-zero scratchpad (data line held low) is -EIO;
 *   - 85.000 °C is the power-on value of the temperature register: a sensor
 *     that browned out during conversion reports it, so it fails the sample
 *     with NANO_EPOWERON instead of becoming a reading (a real 85.000 °C is
 *     lost with it; so be it, as in every w1 driver worth its name);
 *   - -127 °C and other impossible values are reported and marked FAULT by
 *     the device manager's range check (-55..125 °C, datasheet);
 *   - a sensor that disappeared (directory gone) is NANO_ENACK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/mem.h"
#include "drivers/driver.h"
#include "hal/offload.h"
#include "hal/w1.h"

/* w1-therm families: DS18S20, DS1822, DS18B20, DS1825/MAX31850, DS28EA00. */
static const uint8_t therm_families[] = { 0x10, 0x22, 0x28, 0x3B, 0x42 };

#define MAX_LISTED 16

struct ds18b20 {
    /* parameters */
    const char        *bus;
    const char        *id;          /* "" : the only sensor on the bus */
    /* state */
    struct nano_dev   *dev;
    struct nano_w1    *w1;
    char               sensor[NANO_W1_ID_MAX];
    struct w1_job     *job;         /* in flight, or NULL */
};

struct w1_job {
    struct nano_offload_job base;   /* first */
    char                    path[NANO_W1_PATH_MAX];
    char                    text[256];
    ssize_t                 rc;
};

static const struct nano_param params[] = {
    NANO_PARAM_STR("bus", struct ds18b20, bus, "w1",
                   "1-Wire bus: w1 (all masters under /sys/bus/w1/devices), "
                   "w1_bus_master1, a directory, or an emulated bus (sim:wire0)"),
    NANO_PARAM_STR("id", struct ds18b20, id, "",
                   "sensor id such as 28-000005e2fdc3; may be left out when "
                   "the bus has exactly one thermometer"),
    NANO_PARAM_END
};

/* Datasheet: -55 to +125 °C. */
static const struct nano_quantity quantities[] = {
    { "temperature", "°C", -55, 125, "temperature at the sensor" },
    { NULL, NULL, 0, 0, NULL }
};

static int
ds_validate(const struct nano_cfg_node *map, struct nano_diag *d)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, "id");

    if (n && n->kind == NANO_CFG_SCALAR && n->str[0] && !nano_w1_id_valid(n->str))
        return nano_diag_set(d, NANO_ESCHEMA, n->line, n->col,
                             "'%s' is not a 1-Wire id: two hex digits of "
                             "family, '-', twelve hex digits (28-000005e2fdc3)",
                             n->str);
    return NANO_OK;
}

/* ---- parsing w1_slave ------------------------------------------------------------ */

static int
hexbyte(const char *p, uint8_t *out)
{
    unsigned v;

    if (sscanf(p, "%2x", &v) != 1)
        return -1;
    *out = (uint8_t)v;
    return 0;
}

static uint8_t
crc8_maxim(const uint8_t *p, size_t n)
{
    uint8_t crc = 0;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)(crc & 1 ? (crc >> 1) ^ 0x8C : crc >> 1);
    }
    return crc;
}

/* Parse the kernel's two lines into millidegrees.  Returns NANO_OK or an
 * error (see the file comment); *why gets a short explanation. */
static int
parse_w1_slave(const char *text, long *mdeg, const char **why)
{
    uint8_t sp[9];
    const char *nl = strchr(text, '\n'), *t;
    bool all_ff = true, all_zero = true;
    char *end;

    *why = "";
    if (!*text) {
        *why = "empty w1_slave (the read was interrupted)";
        return -EIO;
    }
    for (int i = 0; i < 9; i++) {
        if (hexbyte(text + i * 3, &sp[i]) < 0) {
            *why = "unreadable scratchpad";
            return NANO_ECORRUPT;
        }
        all_ff &= sp[i] == 0xFF;
        all_zero &= sp[i] == 0;
    }
    if (all_ff) {
        *why = "no answer from the sensor (scratchpad all ones)";
        return NANO_ENACK;
    }
    if (!nl || nl - text < 4 || strncmp(nl - 3, "YES", 3) != 0 ||
        crc8_maxim(sp, 8) != sp[8]) {
        *why = "scratchpad CRC mismatch";
        return NANO_ECRC;
    }
    if (all_zero) {
        *why = "all-zero scratchpad (data line held low?)";
        return -EIO;
    }
    t = strstr(nl + 1, "t=");
    if (!t) {
        *why = "no t= in w1_slave";
        return NANO_ECORRUPT;
    }
    errno = 0;
    *mdeg = strtol(t + 2, &end, 10);
    if (errno || end == t + 2) {
        *why = "unreadable t= value";
        return NANO_ECORRUPT;
    }
    if (*mdeg == 85000 && sp[0] == 0x50 && sp[1] == 0x05) {
        *why = "85.000 °C is the power-on value (the sensor reset)";
        return NANO_EPOWERON;
    }
    return NANO_OK;
}

/* ---- the read, off the loop --------------------------------------------------------- */

static void
job_run(struct nano_offload_job *j)
{
    struct w1_job *job = (struct w1_job *)j;

    job->rc = nano_w1_read_file(job->path, job->text, sizeof job->text);
}

static void
job_done(struct nano_offload_job *j)
{
    struct w1_job *job = (struct w1_job *)j;
    struct ds18b20 *s = j->owner;
    const char *why;
    long mdeg;
    int rc;

    s->job = NULL;
    if (job->rc < 0) {
        rc = job->rc == -ENOENT || job->rc == -ENODEV ? NANO_ENACK : (int)job->rc;
        nano_dev_logf(s->dev, NANO_LOG_WARN, "%s: %s", s->sensor,
                      rc == NANO_ENACK ? "sensor gone from the bus"
                                       : nano_strerror((int)job->rc));
        nano_dev_fail(s->dev, rc);
        return;
    }
    rc = parse_w1_slave(job->text, &mdeg, &why);
    if (rc != NANO_OK) {
        nano_dev_logf(s->dev, NANO_LOG_WARN, "%s: %s", s->sensor, why);
        nano_dev_fail(s->dev, rc);
        return;
    }
    nano_dev_report(s->dev, "temperature", mdeg / 1000.0);
    nano_dev_done(s->dev);
}

/* ---- driver ------------------------------------------------------------------------------ */

static int
ds_probe(struct nano_dev *dev)
{
    struct ds18b20 *s = nano_dev_ctx(dev);
    char ids[MAX_LISTED][NANO_W1_ID_MAX], list[MAX_LISTED * (NANO_W1_ID_MAX + 2)];
    char path[NANO_W1_PATH_MAX];
    int n, rc;

    s->dev = dev;
    rc = nano_w1_open(s->bus, &s->w1);
    if (rc != NANO_OK) {
        nano_dev_logf(dev, NANO_LOG_ERR, "cannot open 1-Wire bus %s: %s%s",
                      s->bus, nano_strerror(rc), rc == -ENOENT ?
                      " (is the w1-gpio overlay loaded?)" : "");
        return rc;
    }
    n = nano_w1_list(s->w1, therm_families, sizeof therm_families, ids,
                     MAX_LISTED);
    if (n < 0)
        return n;
    list[0] = '\0';
    for (int i = 0; i < n && i < MAX_LISTED; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%.15s", i ? ", " : "", ids[i]);
    }
    if (s->id[0]) {
        snprintf(s->sensor, sizeof s->sensor, "%s", s->id);
        for (char *p = s->sensor; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p + 32);
        rc = nano_w1_attr_path(s->w1, s->sensor, "w1_slave", path, sizeof path);
        if (rc != NANO_OK)
            return rc;
        for (int i = 0; i < n && i < MAX_LISTED; i++)
            if (strcmp(ids[i], s->sensor) == 0)
                return NANO_OK;
        nano_dev_logf(dev, NANO_LOG_ERR, "sensor %s not found on %s (found: %s)",
                      s->sensor, s->bus, n ? list : "none");
        return NANO_ENACK;
    }
    if (n == 0) {
        nano_dev_logf(dev, NANO_LOG_ERR, "no thermometer on %s", s->bus);
        return NANO_ENACK;
    }
    if (n > 1) {
        nano_dev_logf(dev, NANO_LOG_ERR, "%d thermometers on %s (%s): set 'id' "
                      "to choose one", n, s->bus, list);
        return NANO_EAMBIG;
    }
    snprintf(s->sensor, sizeof s->sensor, "%s", ids[0]);
    return NANO_OK;
}

static int
ds_sample(struct nano_dev *dev)
{
    struct ds18b20 *s = nano_dev_ctx(dev);
    struct w1_job *job;
    int rc;

    if (s->job)
        return -EBUSY;                          /* the manager never overlaps */
    job = nano_offload_job_new(sizeof *job, job_run, job_done, s);
    if (!job)
        return -ENOMEM;
    rc = nano_w1_attr_path(s->w1, s->sensor, "w1_slave", job->path,
                           sizeof job->path);
    if (rc == NANO_OK)
        rc = nano_offload_submit(NULL, nano_dev_loop(dev), &job->base);
    if (rc != NANO_OK) {
        nano_offload_job_free(job);
        return rc;
    }
    s->job = job;
    return -EINPROGRESS;
}

static void
ds_close(struct nano_dev *dev)
{
    struct ds18b20 *s = nano_dev_ctx(dev);

    /* A read still running (a conversion that never ends) finishes on its
     * own; its result is then dropped. */
    if (s->job)
        nano_offload_orphan(NULL, &s->job->base);
    s->job = NULL;
    nano_w1_close(s->w1);
    s->w1 = NULL;
}

const struct nano_driver nano_driver_ds18b20 = {
    .name                = "ds18b20",
    .summary             = "Maxim DS18B20 1-Wire thermometer (w1-therm sysfs)",
    .params              = params,
    .ctx_size            = sizeof(struct ds18b20),
    .quantities          = quantities,
    .default_interval_ms = 10000,
    .timeout_ms          = 2500,             /* 750 ms conversion, with margin */
    .validate            = ds_validate,
    .probe               = ds_probe,
    .sample              = ds_sample,
    .close               = ds_close,
};
