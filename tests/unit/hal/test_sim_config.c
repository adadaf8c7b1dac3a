/* test_sim_config.c - the `simulation:` section: validation messages with
 * positions, apply and re-apply (state kept, values updated, devices
 * removed or replaced), and a whole config - simulation plus devices - run
 * by the real device manager, with an emulated value changed at run time. */
#include <fcntl.h>
#include <unistd.h>

#include "harness/nt.h"
#include "core/bus.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/time.h"
#include "drivers/devmgr.h"
#include "hal/offload.h"
#include "hal/sim.h"
#include "hal/uart.h"

static struct nano_cfg_doc *
yaml(const char *text)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { .origin = "test" };

    if (nano_cfg_parse_yaml(text, strlen(text), "test", &doc, &d) != NANO_OK) {
        fprintf(stderr, "bad test YAML: %u:%u: %s\n", d.line, d.col, d.msg);
        abort();
    }
    return doc;
}

static int
validate(const char *text, struct nano_diag *d)
{
    struct nano_cfg_doc *doc = yaml(text);
    int rc = nano_sim_config_validate(nano_cfg_get(nano_cfg_root(doc), "simulation"), d);

    nano_cfg_free(doc);
    return rc;
}

static int
apply(const char *text, struct nano_diag *d)
{
    struct nano_cfg_doc *doc = yaml(text);
    const struct nano_cfg_node *sim = nano_cfg_get(nano_cfg_root(doc), "simulation");
    int rc = nano_sim_config_validate(sim, d);

    if (rc == NANO_OK)
        rc = nano_sim_config_apply(sim, d);
    nano_cfg_free(doc);
    return rc;
}

static void
test_validation_messages(void)
{
    static const struct { const char *yaml, *msg; unsigned line; } cases[] = {
        { "simulation: [1]", "expects a map of bus name", 1 },
        { "simulation:\n  i2c1: { device: bme280 }", "expects a list of devices", 2 },
        { "simulation:\n  i2c1:\n    - { device: bme208, address: 0x76 }",
          "unknown simulated device 'bme208' (did you mean 'bme280'?)", 3 },
        { "simulation:\n  i2c1:\n    - { device: bme280 }", "needs 'address'", 3 },
        { "simulation:\n  i2c1:\n    - { device: bme280, address: 0x99 }", "'address'", 3 },
        { "simulation:\n  i2c1:\n    - { device: bme280, address: 0x76, temprature: 3 }",
          "unknown key 'temprature' in simulated bme280 (did you mean 'temperature'?)", 3 },
        { "simulation:\n  i2c1:\n    - { device: bme280, address: 0x76, temperature: hot }",
          "temperature", 3 },
        { "simulation:\n  i2c1:\n    - { device: bme280, address: 0x76, fault: broken }",
          "'fault' must be one of", 3 },
        { "simulation:\n  wire0:\n    - { device: ds18b20, id: 28-xyz }",
          "not a 1-Wire id", 3 },
        { "simulation:\n  i2c1:\n    - { device: bme280, address: 0x76 }\n"
          "    - { device: ds18b20, id: 28-000005e2fdc3 }",
          "is a I2C bus (from its first device); a 1-Wire device", 4 },
        { "simulation:\n  i2c1:\n    - { device: bme280, address: 0x76 }\n"
          "    - { device: sht3x, address: 118 }", "two simulated devices at 0x76", 4 },
        { "simulation:\n  sim:i2c1:\n    - { device: bme280, address: 0x76 }",
          "drivers then use", 2 },
        { "simulation:\n  gpiochip0:\n    - { device: gpio, level: 1 }", "needs 'line'", 3 },
        { "simulation:\n  uart1:\n    - { device: modbus, slave: 300 }", "'slave'", 3 },
        { "simulation:\n  uart1:\n    - { device: modbus, holdings: {} }",
          "did you mean 'holding'", 3 },
        { "simulation:\n  uart1:\n    - { device: modbus, coil: { 3: 2 } }", "", 3 },
        { "simulation:\n  uart1:\n    - { device: modbus, input: { x: 2 } }",
          "'x' is not a register address", 3 },
        { "simulation:\n  uart1:\n    - { device: modbus, slave: 2 }\n"
          "    - { device: modbus, slave: 2 }", "two simulated devices at 2", 4 },
    };

    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        struct nano_diag d = { 0 };
        NT_EQ_INT(validate(cases[i].yaml, &d), NANO_ESCHEMA);
        NT_MSG("case %zu: %u:%u: %s", i, d.line, d.col, d.msg);
        NT_CHECK(strstr(d.msg, cases[i].msg) != NULL);
        NT_EQ_INT(d.line, cases[i].line);
    }
    struct nano_diag d = { 0 };
    NT_EQ_INT(validate("simulation: ~", &d), NANO_OK);
    NT_EQ_INT(validate("other: 1", &d), NANO_OK);
}

static void
test_apply_and_reapply(void)
{
    struct nano_diag d = { 0 };
    double v;

    NT_ASSERT(apply("simulation:\n"
                    "  i2c1:\n"
                    "    - { device: bme280, address: 0x76, temperature: 21.5,\n"
                    "        humidity: 40, pressure: 1013.25 }\n"
                    "    - { device: sht3x, address: 0x44, humidity: 70 }\n"
                    "  spi0:\n"
                    "    - { device: mcp3008, cs: 0, ch0: 1.2, vref: 3.3 }\n"
                    "  wire0:\n"
                    "    - { device: ds18b20, id: 28-000005e2fdc3, temperature: 76.0 }\n"
                    "  gpiochip0:\n"
                    "    - { device: gpio, line: 4, level: 1 }\n"
                    "  header:\n"
                    "    - { device: gpio, line: 7, level: 1 }\n"
                    "  uart0:\n"
                    "    - { device: pty }\n", &d) == NANO_OK);
    NT_EQ_INT(nano_sim_get("header", "7", "level", &v), NANO_OK);
    NT_NEAR(v, 1, 0);
    NT_EQ_INT(nano_sim_get("i2c1", "0x76", "temperature", &v), NANO_OK);
    NT_NEAR(v, 21.5, 0);
    NT_EQ_INT(nano_sim_get("i2c1", "0x44", "humidity", &v), NANO_OK);
    NT_NEAR(v, 70, 0);
    NT_EQ_INT(nano_sim_get("spi0", "0", "ch0", &v), NANO_OK);
    NT_NEAR(v, 1.2, 0);
    NT_EQ_INT(nano_sim_get("wire0", "28-000005e2fdc3", "temperature", &v), NANO_OK);
    NT_NEAR(v, 76, 0);
    NT_EQ_INT(nano_sim_get("gpiochip0", "4", "level", &v), NANO_OK);
    NT_NEAR(v, 1, 0);
    char path[64];
    NT_EQ_INT(nano_uart_path("sim:uart0", path, sizeof path), NANO_OK);

    /* Values set at run time (as the API would). */
    NT_EQ_INT(nano_sim_set("i2c1", "0x44", "temperature", 30.0), NANO_OK);
    NT_EQ_INT(nano_sim_set("gpiochip0", "4", "level", 0), NANO_OK);
    NT_EQ_INT(nano_sim_get("gpiochip0", "4", "level", &v), NANO_OK);
    NT_NEAR(v, 0, 0);

    /* Re-apply: sht3x kept with its run-time temperature, bme280 takes the
     * new value, mcp3008 gone, ds18b20 faulted, a new bme280 at 0x77. */
    NT_ASSERT(apply("simulation:\n"
                    "  i2c1:\n"
                    "    - { device: bme280, address: 0x76, temperature: 25 }\n"
                    "    - { device: sht3x, address: 0x44 }\n"
                    "    - { device: bme280, address: 0x77 }\n"
                    "  wire0:\n"
                    "    - { device: ds18b20, id: 28-000005e2fdc3, fault: crc }\n", &d) == NANO_OK);
    NT_EQ_INT(nano_sim_get("i2c1", "0x44", "temperature", &v), NANO_OK);
    NT_NEAR(v, 30, 0);
    NT_EQ_INT(nano_sim_get("i2c1", "0x76", "temperature", &v), NANO_OK);
    NT_NEAR(v, 25, 0);
    NT_EQ_INT(nano_sim_get("i2c1", "0x77", "temperature", &v), NANO_OK);
    NT_EQ_INT(nano_sim_get("spi0", "0", "ch0", &v), NANO_ENOTFOUND);

    /* The listing the API will serve. */
    struct nano_buf b;
    struct nano_json w;
    nano_buf_init(&b, 1 << 16);
    nano_json_init(&w, &b);
    nano_sim_write_json(&w);
    NT_EQ_INT(nano_json_end(&w), NANO_OK);
    NT_CHECK(strstr(b.data, "\"model\":\"ds18b20\"") != NULL);
    NT_CHECK(strstr(b.data, "\"fault\":\"crc\"") != NULL);
    NT_CHECK(strstr(b.data, "\"temperature\":25") != NULL);
    NT_CHECK(strstr(b.data, "raw_") == NULL);
    nano_buf_free(&b);

    /* A value the device cannot represent is reported with its position,
     * and the rest of the section still applies. */
    d = (struct nano_diag){ 0 };
    NT_EQ_INT(apply("simulation:\n"
                    "  i2c1:\n"
                    "    - { device: bme280, address: 0x76, temperature: 500 }\n"
                    "    - { device: sht3x, address: 0x45 }\n", &d), NANO_ESCHEMA);
    NT_CHECK(strstr(d.msg, "outside what the device can represent") != NULL);
    NT_EQ_INT(d.line, 3);
    NT_EQ_INT(nano_sim_get("i2c1", "0x45", "temperature", &v), NANO_OK);

    /* Nothing configured: everything emulated goes. */
    NT_EQ_INT(apply("simulation: ~\n", &d), NANO_OK);
    NT_EQ_INT(nano_sim_get("i2c1", "0x45", "temperature", &v), NANO_ENOTFOUND);
    nano_sim_reset();
}

/* A complete configuration: emulated hardware and the real drivers on it. */
static const char *const whole =
    "simulation:\n"
    "  i2c1:\n"
    "    - { device: bme280, address: 0x76, temperature: 21.5, humidity: 40,\n"
    "        pressure: 1013.25 }\n"
    "    - { device: sht3x, address: 0x44, temperature: 19.0, humidity: 55 }\n"
    "  spi0:\n"
    "    - { device: mcp3008, cs: 0, ch2: 1.0 }\n"
    "  wire0:\n"
    "    - { device: ds18b20, id: 28-000005e2fdc3, temperature: 76.0 }\n"
    "  gpiochip0:\n"
    "    - { device: gpio, line: 4, level: 1 }\n"
    "devices:\n"
    "  air:    { driver: bme280, bus: sim:i2c1, interval: 50ms }\n"
    "  room:   { driver: sht3x, bus: sim:i2c1, interval: 50ms }\n"
    "  adc:    { driver: mcp3008, bus: sim:spi0.0, channel: 2, interval: 50ms }\n"
    "  boiler: { driver: ds18b20, bus: wire0, interval: 50ms }\n"
    "  door:   { driver: gpio_in, chip: sim:gpiochip0, line: 4, interval: 50ms }\n";

struct seen {
    double air_t, room_h, adc_v, boiler_t;
    int door, n;
};

static void
on_msg(void *arg, const struct nano_msg *m)
{
    struct seen *s = arg;

    s->n++;
    if (!strcmp(m->topic, "sensors/air/temperature"))
        s->air_t = m->v.u.num;
    else if (!strcmp(m->topic, "sensors/room/humidity"))
        s->room_h = m->v.u.num;
    else if (!strcmp(m->topic, "sensors/adc/voltage"))
        s->adc_v = m->v.u.num;
    else if (!strcmp(m->topic, "sensors/boiler/temperature"))
        s->boiler_t = m->v.u.num;
    else if (!strcmp(m->topic, "sensors/door/state"))
        s->door = m->v.u.b;
}

static void
test_drivers_on_configured_hardware(void)
{
    struct nano_loop *loop;
    struct nano_bus *bus;
    struct nano_devmgr *dm;
    struct nano_sub *sub;
    struct nano_cfg_doc *doc = yaml(whole);
    const struct nano_cfg_node *root = nano_cfg_root(doc);
    struct nano_diag d = { 0 };
    struct seen s = { .door = -1 };
    uint64_t end;

    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT,
                       open("/dev/null", O_WRONLY | O_CLOEXEC));
    NT_ASSERT(nano_loop_new(&loop) == NANO_OK);
    NT_ASSERT(nano_bus_new(loop, &bus) == NANO_OK);
    NT_ASSERT(nano_devmgr_new(loop, bus, NULL, &dm) == NANO_OK);
    NT_ASSERT(nano_bus_subscribe(bus, "sensors/#", NULL, on_msg, &s, &sub) == NANO_OK);
    /* What nanod does: validate both sections, apply simulation first. */
    NT_ASSERT(nano_sim_config_validate(nano_cfg_get(root, "simulation"), &d) == NANO_OK);
    NT_ASSERT(nano_devmgr_validate(nano_cfg_get(root, "devices"), &d) == NANO_OK);
    NT_ASSERT(nano_sim_config_apply(nano_cfg_get(root, "simulation"), &d) == NANO_OK);
    NT_ASSERT(nano_devmgr_apply_config(dm, nano_cfg_get(root, "devices")) == NANO_OK);

    end = nano_time_mono_ns() + 3 * NANO_NS_PER_S;
    while ((s.air_t == 0 || s.room_h == 0 || s.adc_v == 0 || s.boiler_t == 0 ||
            s.door < 0) && nano_time_mono_ns() < end)
        nano_loop_run_once(loop, 5);
    NT_NEAR(s.air_t, 21.5, 0.01);
    NT_NEAR(s.room_h, 55.0, 0.002);
    NT_NEAR(s.adc_v, 310 * 3.3 / 1024, 1e-9);
    NT_NEAR(s.boiler_t, 76.0, 1e-9);
    NT_EQ_INT(s.door, 1);

    /* Changed at run time: the next readings follow. */
    NT_ASSERT(nano_sim_set("wire0", "28-000005e2fdc3", "temperature", 80.5) == NANO_OK);
    NT_ASSERT(nano_sim_set("gpiochip0", "4", "level", 0) == NANO_OK);
    end = nano_time_mono_ns() + 3 * NANO_NS_PER_S;
    while ((s.boiler_t != 80.5 || s.door != 0) && nano_time_mono_ns() < end)
        nano_loop_run_once(loop, 5);
    NT_NEAR(s.boiler_t, 80.5, 1e-9);
    NT_EQ_INT(s.door, 0);

    nano_devmgr_free(dm);
    for (int i = 0; i < 300 && nano_offload_pending(); i++)
        nano_loop_run_once(loop, 10);
    nano_offload_shutdown();
    nano_bus_unsubscribe(bus, sub);
    nano_bus_free(bus);
    nano_loop_free(loop);
    nano_metrics_reset();
    nano_cfg_free(doc);
    nano_sim_reset();
}

/* Raw RTU frames against the emulated slave, through the termios back end
 * on the slave side of its pty: exactly what a Modbus master sends. */
static uint16_t
crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 1 ? (crc >> 1) ^ 0xA001 : crc >> 1);
    }
    return crc;
}

/* Send fc/addr/qty to unit, return the reply length (0: silence). */
static int
ask(struct nano_uart *u, uint8_t unit, uint8_t fc, uint16_t addr, uint16_t qty,
    uint8_t *reply, bool bad_crc)
{
    uint8_t req[8] = { unit, fc, (uint8_t)(addr >> 8), (uint8_t)addr,
                       (uint8_t)(qty >> 8), (uint8_t)qty };
    uint16_t crc = crc16(req, 6) ^ (bad_crc ? 1 : 0);
    int len = 0;
    ssize_t n;

    req[6] = (uint8_t)crc;
    req[7] = (uint8_t)(crc >> 8);
    NT_ASSERT(nano_uart_write(u, req, 8) == 8);
    uint64_t end = nano_time_mono_ns() + 60 * NANO_NS_PER_MS;
    while (nano_time_mono_ns() < end) {
        n = nano_uart_read(u, reply + len, 256 - (size_t)len);
        if (n > 0)
            len += (int)n;
        else
            usleep(1000);
    }
    if (len >= 4)
        NT_EQ_INT(crc16(reply, (size_t)len - 2) ^ (reply[len - 2] | reply[len - 1] << 8),
                  0);
    return len;
}

static void
test_modbus_slave_frames(void)
{
    struct nano_diag d = { 0 };
    struct nano_uart_cfg cfg = { 9600, 'N', 8, 1 };
    struct nano_uart *u;
    uint8_t r[256];
    unsigned word;
    double v;

    NT_ASSERT(apply("simulation:\n"
                    "  uart1:\n"
                    "    - { device: modbus, slave: 3, holding: { 0: 0x1234, 1: 7 },\n"
                    "        input: { 5: 500 }, coil: { 0: 1, 2: 1, 1: 0 },\n"
                    "        discrete: { 9: 1 } }\n", &d) == NANO_OK);
    NT_ASSERT(nano_uart_open("sim:uart1", &cfg, &u) == NANO_OK);

    NT_EQ_INT(ask(u, 3, 3, 0, 2, r, false), 9);          /* read holding 0-1 */
    NT_CHECK(r[0] == 3 && r[1] == 3 && r[2] == 4);
    NT_CHECK(r[3] == 0x12 && r[4] == 0x34 && r[5] == 0 && r[6] == 7);
    NT_EQ_INT(ask(u, 3, 4, 5, 1, r, false), 7);          /* read input 5 */
    NT_EQ_INT(r[3] << 8 | r[4], 500);
    NT_EQ_INT(ask(u, 3, 1, 0, 3, r, false), 6);          /* coils 0-2 */
    NT_EQ_INT(r[3], 0x05);                               /* bits 0 and 2 */
    NT_EQ_INT(ask(u, 3, 2, 9, 1, r, false), 6);
    NT_EQ_INT(r[3], 1);
    /* Exceptions: an address never set, a function not implemented. */
    NT_EQ_INT(ask(u, 3, 3, 100, 1, r, false), 5);
    NT_CHECK(r[1] == 0x83 && r[2] == 2);
    NT_EQ_INT(ask(u, 3, 0x2B, 0, 0, r, false), 5);
    NT_CHECK(r[1] == 0xAB && r[2] == 1);
    /* Silence: another unit, a damaged request. */
    NT_EQ_INT(ask(u, 4, 3, 0, 1, r, false), 0);
    NT_EQ_INT(ask(u, 3, 3, 0, 1, r, true), 0);
    /* Writes are echoed and stored. */
    NT_EQ_INT(ask(u, 3, 6, 1, 4321, r, false), 8);
    NT_EQ_INT(nano_sim_modbus_get("uart1", 3, "holding.1", &word), NANO_OK);
    NT_EQ_INT(word, 4321);
    NT_EQ_INT(ask(u, 3, 5, 1, 0xFF00, r, false), 8);
    NT_EQ_INT(nano_sim_get("uart1", "3", "coil.1", &v), NANO_OK);
    NT_NEAR(v, 1, 0);
    /* Faults. */
    NT_EQ_INT(nano_sim_fault("uart1", "3", NANO_SIM_FAULT_TIMEOUT, 1), NANO_OK);
    NT_EQ_INT(ask(u, 3, 3, 0, 1, r, false), 0);
    NT_EQ_INT(nano_sim_fault("uart1", "3", NANO_SIM_FAULT_NACK, 1), NANO_OK);
    NT_EQ_INT(ask(u, 3, 3, 0, 1, r, false), 5);
    NT_CHECK(r[1] == 0x83 && r[2] == 6);                 /* slave busy */
    NT_EQ_INT(nano_sim_fault("uart1", "3", NANO_SIM_FAULT_CRC, 1), NANO_OK);
    uint8_t req[8] = { 3, 3, 0, 0, 0, 1 };
    uint16_t crc = crc16(req, 6);
    req[6] = (uint8_t)crc;
    req[7] = (uint8_t)(crc >> 8);
    NT_ASSERT(nano_uart_write(u, req, 8) == 8);
    usleep(30000);
    NT_EQ_INT(nano_uart_read(u, r, sizeof r), 7);
    NT_CHECK(crc16(r, 5) != (r[5] | r[6] << 8));
    NT_EQ_INT(nano_sim_unplug("uart1", "3"), NANO_OK);
    NT_EQ_INT(ask(u, 3, 3, 0, 1, r, false), 0);
    NT_EQ_INT(nano_sim_replug("uart1", "3"), NANO_OK);
    NT_EQ_INT(ask(u, 3, 3, 0, 1, r, false), 7);
    NT_CHECK(nano_sim_modbus_served("uart1", 3) >= 8);
    NT_EQ_INT(nano_sim_set("uart1", "3", "holding.2", 70000), -ERANGE);
    NT_EQ_INT(nano_sim_set("uart1", "3", "holdin.2", 7), -EINVAL);
    NT_EQ_INT(nano_sim_set("uart1", "9", "holding.2", 7), NANO_ENOTFOUND);

    /* Re-apply without the slave: removed; the port stays. */
    NT_EQ_INT(apply("simulation:\n  uart1:\n    - { device: pty }\n", &d), NANO_OK);
    NT_EQ_INT(nano_sim_modbus_get("uart1", 3, "holding.0", &word), NANO_ENOTFOUND);
    nano_uart_close(u);
    nano_sim_reset();
}

NT_LIST = {
    { "validation_messages",            test_validation_messages },
    { "modbus_slave_frames",            test_modbus_slave_frames },
    { "apply_and_reapply",              test_apply_and_reapply },
    { "drivers_on_configured_hardware", test_drivers_on_configured_hardware },
    { NULL, NULL }
};
