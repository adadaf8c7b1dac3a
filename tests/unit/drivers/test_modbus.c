/* test_modbus.c - the modbus driver against real peers: libmodbus's own
 * server playing the slave on the far side of a real pseudo-terminal (RTU)
 * and on a loopback TCP socket, both in test threads.  Decoding of every
 * type and word order, coils and discrete inputs, exceptions, a slave that
 * stays silent, a reply with a bad CRC, a server that comes up late, a close
 * that does not wait long, and the register map's validation. */
#include "nano_config.h"
#include "rig.h"

#if NANO_WITH_MODBUS

#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

enum mode { NORMAL, MUTE, BAD_CRC };

struct server {
    modbus_t          *mb;
    modbus_mapping_t  *map;
    pthread_t          thread;
    atomic_int         mode;
    atomic_bool        stop;
    atomic_int         served;
    int                listen_fd;      /* TCP */
    int                port;
    bool               tcp;
};

static void
fill(modbus_mapping_t *m)
{
    float f = 230.5f;
    uint32_t u;

    memcpy(&u, &f, sizeof u);
    m->tab_registers[0] = (uint16_t)(u >> 16);        /* f32, high word first */
    m->tab_registers[1] = (uint16_t)u;
    m->tab_registers[10] = 0xFFFE;                     /* s16 -2 */
    m->tab_registers[11] = 4321;                       /* u16 */
    m->tab_registers[20] = 0xFFFF;                     /* s32 -2, big */
    m->tab_registers[21] = 0xFFFE;
    m->tab_input_registers[5] = (uint16_t)(123456 & 0xFFFF); /* u32 little */
    m->tab_input_registers[6] = (uint16_t)(123456 >> 16);
    m->tab_bits[3] = 1;
    m->tab_input_bits[2] = 1;
}

static uint16_t
crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = crc & 1 ? (crc >> 1) ^ 0xA001 : crc >> 1;
    }
    return crc;
}

/* A read-holding-registers reply whose CRC is wrong (RTU only). */
static void
reply_bad_crc(struct server *s, const uint8_t *req)
{
    uint8_t out[260];
    unsigned addr = req[2] << 8 | req[3], count = req[4] << 8 | req[5];
    size_t n = 0;
    uint16_t crc;

    out[n++] = req[0];
    out[n++] = req[1];
    out[n++] = (uint8_t)(count * 2);
    for (unsigned i = 0; i < count && i < 125; i++) {
        out[n++] = (uint8_t)(s->map->tab_registers[addr + i] >> 8);
        out[n++] = (uint8_t)s->map->tab_registers[addr + i];
    }
    crc = crc16(out, n) ^ 0x5555;
    out[n++] = (uint8_t)crc;
    out[n++] = (uint8_t)(crc >> 8);
    if (write(modbus_get_socket(s->mb), out, n) < 0)
        return;
}

static void
serve_conn(struct server *s)
{
    uint8_t req[MODBUS_RTU_MAX_ADU_LENGTH + MODBUS_TCP_MAX_ADU_LENGTH];
    int rc;

    while (!atomic_load(&s->stop)) {
        rc = modbus_receive(s->mb, req);
        if (rc == 0 || (rc < 0 && errno == ETIMEDOUT))
            continue;
        if (rc < 0)
            return;                                   /* peer gone */
        switch (atomic_load(&s->mode)) {
        case MUTE:
            break;
        case BAD_CRC:
            if (!s->tcp && req[1] == 0x03) {
                reply_bad_crc(s, req);
                break;
            }
            /* FALLTHROUGH */
        default:
            modbus_reply(s->mb, req, rc, s->map);
            atomic_fetch_add(&s->served, 1);
        }
    }
}

static void *
server_main(void *arg)
{
    struct server *s = arg;
    struct pollfd p;
    int conn;

    if (!s->tcp) {
        serve_conn(s);
        return NULL;
    }
    while (!atomic_load(&s->stop)) {
        p = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0)
            continue;
        conn = accept(s->listen_fd, NULL, NULL);
        if (conn < 0)
            continue;
        modbus_set_socket(s->mb, conn);
        serve_conn(s);
        close(conn);
    }
    return NULL;
}

static void
server_start(struct server *s, bool tcp, int port)
{
    memset(s, 0, sizeof *s);
    s->tcp = tcp;
    s->map = modbus_mapping_new(16, 16, 128, 128);
    NT_ASSERT(s->map);
    fill(s->map);
    if (tcp) {
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        s->mb = modbus_new_tcp("127.0.0.1", port);
        NT_ASSERT(s->mb);
        s->listen_fd = modbus_tcp_listen(s->mb, 1);
        NT_ASSERT(s->listen_fd >= 0);
        NT_ASSERT(getsockname(s->listen_fd, (struct sockaddr *)&a, &len) == 0);
        s->port = ntohs(a.sin_port);
    } else {
        int master;
        NT_ASSERT(nano_sim_uart_open("uart0", &master) == NANO_OK);
        /* libmodbus's RTU server on the device end of the pty. */
        s->mb = modbus_new_rtu("/dev/null", 19200, 'E', 8, 1);
        NT_ASSERT(s->mb);
        NT_ASSERT(modbus_set_socket(s->mb, master) == 0);
    }
    modbus_set_slave(s->mb, 7);
    modbus_set_indication_timeout(s->mb, 0, 50000);
    NT_ASSERT(pthread_create(&s->thread, NULL, server_main, s) == 0);
}

static void
server_stop(struct server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    if (s->tcp)
        close(s->listen_fd);
    else
        modbus_set_socket(s->mb, -1);      /* the registry owns the pty */
    modbus_free(s->mb);
    modbus_mapping_free(s->map);
}

static const char *const regs_json =
    "\"registers\":["
    "{\"name\":\"voltage\",\"address\":0,\"type\":\"f32\",\"unit\":\"V\","
    " \"min\":0,\"max\":300},"
    "{\"name\":\"delta\",\"address\":10,\"type\":\"s16\",\"scale\":0.5},"
    "{\"name\":\"count\",\"address\":11,\"offset\":-1000},"
    "{\"name\":\"balance\",\"address\":20,\"type\":\"s32\"},"
    "{\"name\":\"energy\",\"address\":5,\"function\":\"input\",\"type\":\"u32\","
    " \"word_order\":\"little\",\"scale\":0.01,\"unit\":\"kWh\"},"
    "{\"name\":\"relay\",\"address\":3,\"function\":\"coil\"},"
    "{\"name\":\"door\",\"address\":2,\"function\":\"discrete\"}]";

static void
check_values(struct rig *r, const char *inst)
{
    char t[64];
    const struct nano_msg *m;

#define TOPIC(q) (snprintf(t, sizeof t, "sensors/%s/%s", inst, q), t)
    NT_ASSERT(rig_wait(r, TOPIC("door"), NANO_Q_OK, 1, 3000));
    NT_NEAR(rig_last(r, TOPIC("voltage"))->num, 230.5, 1e-9);
    NT_NEAR(rig_last(r, TOPIC("delta"))->num, -1.0, 1e-9);
    NT_NEAR(rig_last(r, TOPIC("count"))->num, 3321, 1e-9);
    NT_NEAR(rig_last(r, TOPIC("balance"))->num, -2, 1e-9);
    NT_NEAR(rig_last(r, TOPIC("energy"))->num, 1234.56, 1e-9);
    NT_CHECK(rig_last(r, TOPIC("relay"))->b);
    NT_EQ_INT(rig_last(r, TOPIC("relay"))->type, NANO_VT_BOOL);
    NT_CHECK(rig_last(r, TOPIC("door"))->b);
    m = nano_bus_latest(r->bus, TOPIC("energy"));
    NT_ASSERT(m);
    NT_EQ_STR(m->v.unit, "kWh");
#undef TOPIC
}

static void
test_rtu_over_a_pty(void)
{
    struct rig r;
    struct server srv;
    char json[1024];

    rig_up(&r);
    server_start(&srv, false, 0);
    snprintf(json, sizeof json, "{\"driver\":\"modbus\",\"bus\":\"sim:uart0\","
             "\"baud\":19200,\"parity\":\"even\",\"slave\":7,\"interval\":\"50ms\","
             "\"response_timeout\":\"200ms\",%s}", regs_json);
    rig_install_ok(&r, "meter", json);
    check_values(&r, "meter");

    /* Values change on the slave: the next poll has them. */
    srv.map->tab_registers[11] = 1000;
    NT_ASSERT(rig_wait(&r, "sensors/meter/count", NANO_Q_OK,
                       rig_count(&r, "sensors/meter/count", NANO_Q_OK) + 2, 3000));
    NT_NEAR(rig_last(&r, "sensors/meter/count")->num, 0, 1e-9);

    /* A reply with a bad CRC. */
    atomic_store(&srv.mode, BAD_CRC);
    NT_ASSERT(rig_wait(&r, "sensors/meter/voltage", NANO_Q_STALE, 1, 3000));
    NT_CHECK(strstr(rig_dev_json(&r, "meter"), "checksum mismatch") != NULL);
    atomic_store(&srv.mode, NORMAL);
    int ok = rig_count(&r, "sensors/meter/voltage", NANO_Q_OK);
    NT_ASSERT(rig_wait(&r, "sensors/meter/voltage", NANO_Q_OK, ok + 1, 5000));

    /* A silent slave: a response timeout, distinct from a NACK. */
    atomic_store(&srv.mode, MUTE);
    NT_ASSERT(rig_wait(&r, "sensors/meter/voltage", NANO_Q_STALE, 2, 3000));
    NT_CHECK(strstr(rig_dev_json(&r, "meter"), "device timed out") != NULL);
    atomic_store(&srv.mode, NORMAL);
    ok = rig_count(&r, "sensors/meter/voltage", NANO_Q_OK);
    NT_ASSERT(rig_wait(&r, "sensors/meter/voltage", NANO_Q_OK, ok + 1, 5000));

    /* The voltage leaves its physical range: a fault, not a reading. */
    float f = 400.0f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    srv.map->tab_registers[0] = (uint16_t)(u >> 16);
    srv.map->tab_registers[1] = (uint16_t)u;
    NT_ASSERT(rig_wait(&r, "sensors/meter/voltage", NANO_Q_FAULT, 1, 3000));

    /* Removing the instance while the slave is silent returns quickly. */
    atomic_store(&srv.mode, MUTE);
    rig_run_for(&r, 120);
    uint64_t t0 = nano_time_mono_ns();
    NT_EQ_INT(nano_devmgr_remove(r.dm, "meter"), NANO_OK);
    NT_CHECK(nano_time_mono_ns() - t0 < 400 * NANO_NS_PER_MS);
    rig_down(&r);
    server_stop(&srv);
    NT_CHECK(atomic_load(&srv.served) > 5);
}

static void
test_tcp_loopback(void)
{
    struct rig r;
    struct server srv;
    char json[1024];

    rig_up(&r);
    server_start(&srv, true, 0);
    snprintf(json, sizeof json, "{\"driver\":\"modbus\",\"transport\":\"tcp\","
             "\"host\":\"127.0.0.1\",\"port\":%d,\"slave\":7,\"interval\":\"50ms\","
             "%s}", srv.port, regs_json);
    rig_install_ok(&r, "plc", json);
    check_values(&r, "plc");

    /* An exception from the slave: a register beyond its map. */
    struct nano_diag d = { 0 };
    snprintf(json, sizeof json, "{\"driver\":\"modbus\",\"transport\":\"tcp\","
             "\"port\":%d,\"slave\":7,\"interval\":\"50ms\",\"registers\":"
             "[{\"name\":\"x\",\"address\":5000}]}", srv.port);
    /* One TCP client at a time on this test server: swap instances. */
    NT_EQ_INT(nano_devmgr_remove(r.dm, "plc"), NANO_OK);
    NT_EQ_INT(rig_install(&r, "bad", json, &d), NANO_OK);
    NT_ASSERT(rig_wait_state(&r, "bad", NANO_DEV_BACKOFF, 3000));
    NT_CHECK(strstr(rig_dev_json(&r, "bad"), "Protocol error") != NULL);
    rig_down(&r);
    server_stop(&srv);
}

static void
test_tcp_server_comes_up_late(void)
{
    struct rig r;
    struct server srv;
    char json[1024];
    int port;

    /* Find a free port, then leave it closed for now. */
    server_start(&srv, true, 0);
    port = srv.port;
    server_stop(&srv);

    rig_up(&r);
    snprintf(json, sizeof json, "{\"driver\":\"modbus\",\"transport\":\"tcp\","
             "\"port\":%d,\"slave\":7,\"interval\":\"50ms\",%s}", port, regs_json);
    rig_install_ok(&r, "plc", json);
    NT_ASSERT(rig_wait_state(&r, "plc", NANO_DEV_BACKOFF, 2000));
    NT_CHECK(strstr(rig_dev_json(&r, "plc"), "refused") != NULL);
    server_start(&srv, true, port);
    check_values(&r, "plc");
    rig_down(&r);
    server_stop(&srv);
}

/* The driver on the emulator's own slave, declared in a simulation:
 * section as nanod would apply it: what sim mode runs. */
static void
test_emulated_slave(void)
{
    struct rig r;
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { 0 };
    const char *t = "sensors/tank/level";
    /* 230.5 as f32 is 0x43668000: words 0x4366 (17254) and 0x8000. */
    const char *yaml =
        "simulation:\n"
        "  uart3:\n"
        "    - { device: modbus, slave: 2, holding: { 0: 17254, 1: 32768, 10: 812 },\n"
        "        coil: { 4: 1 } }\n";

    rig_up(&r);
    NT_ASSERT(nano_cfg_parse_yaml(yaml, strlen(yaml), "test", &doc, &d) == NANO_OK);
    NT_ASSERT(nano_sim_config_validate(nano_cfg_get(nano_cfg_root(doc), "simulation"), &d) == NANO_OK);
    NT_ASSERT(nano_sim_config_apply(nano_cfg_get(nano_cfg_root(doc), "simulation"), &d) == NANO_OK);
    nano_cfg_free(doc);
    rig_install_ok(&r, "tank", "{\"driver\":\"modbus\",\"bus\":\"sim:uart3\","
                   "\"slave\":2,\"interval\":\"50ms\",\"response_timeout\":\"150ms\","
                   "\"registers\":[{\"name\":\"voltage\",\"address\":0,\"type\":\"f32\"},"
                   "{\"name\":\"level\",\"address\":10,\"scale\":0.1,\"unit\":\"cm\"},"
                   "{\"name\":\"pump\",\"address\":4,\"function\":\"coil\"}]}");
    NT_ASSERT(rig_wait(&r, t, NANO_Q_OK, 1, 3000));
    NT_NEAR(rig_last(&r, t)->num, 81.2, 1e-9);
    NT_NEAR(rig_last(&r, "sensors/tank/voltage")->num, 230.5, 1e-9);
    NT_CHECK(rig_last(&r, "sensors/tank/pump")->b);

    /* Changed at run time through the generic control. */
    NT_EQ_INT(nano_sim_set("uart3", "2", "holding.10", 900), NANO_OK);
    NT_ASSERT(rig_wait(&r, t, NANO_Q_OK, rig_count(&r, t, NANO_Q_OK) + 2, 3000));
    NT_NEAR(rig_last(&r, t)->num, 90.0, 1e-9);

    static const struct { enum nano_sim_fault f; const char *err; } faults[] = {
        { NANO_SIM_FAULT_TIMEOUT, "device timed out" },
        { NANO_SIM_FAULT_CRC, "checksum mismatch" },
        { NANO_SIM_FAULT_NACK, "Protocol error" },       /* slave busy */
        { NANO_SIM_FAULT_UNPLUG, "device timed out" },
    };
    for (size_t i = 0; i < NANO_ARRAY_LEN(faults); i++) {
        NT_MSG("fault %s", nano_sim_fault_name(faults[i].f));
        int stale = rig_count(&r, t, NANO_Q_STALE);
        NT_EQ_INT(nano_sim_fault("uart3", "2", faults[i].f, -1), NANO_OK);
        NT_ASSERT(rig_wait(&r, t, NANO_Q_STALE, stale + 1, 3000));
        NT_MSG("fault %s: %s", nano_sim_fault_name(faults[i].f), rig_dev_json(&r, "tank"));
        NT_CHECK(strstr(rig_dev_json(&r, "tank"), faults[i].err) != NULL);
        NT_EQ_INT(nano_sim_fault("uart3", "2", NANO_SIM_FAULT_NONE, -1), NANO_OK);
        NT_ASSERT(rig_wait(&r, t, NANO_Q_OK, rig_count(&r, t, NANO_Q_OK) + 1, 5000));
    }
    rig_down(&r);
}

static void
test_register_map_validation(void)
{
    static const struct { const char *regs, *msg; } cases[] = {
        { "[]", "'registers' expects a list" },
        { "[{\"address\":1}]", "needs a 'name'" },
        { "[{\"name\":\"v\"}]", "needs an 'address'" },
        { "[{\"name\":\"V 1\",\"address\":1}]", "lower-case letters" },
        { "[{\"name\":\"v\",\"address\":70000}]", "address" },
        { "[{\"name\":\"v\",\"address\":1,\"type\":\"f64\"}]",
          "'type' must be one of u16, s16, u32, s32, f32" },
        { "[{\"name\":\"v\",\"address\":1,\"function\":\"coil\",\"type\":\"u16\"}]",
          "one bit, no 'type'" },
        { "[{\"name\":\"v\",\"address\":1,\"wordorder\":\"big\"}]",
          "did you mean 'word_order'" },
        { "[{\"name\":\"v\",\"address\":1},{\"name\":\"v\",\"address\":2}]",
          "two registers named 'v'" },
        { "[{\"name\":\"v\",\"address\":1,\"scale\":0}]", "must not be 0" },
        { "[{\"name\":\"v\",\"address\":1,\"min\":5,\"max\":1}]", "above 'min'" },
    };
    struct rig r;
    char json[512];

    rig_up(&r);
    for (size_t i = 0; i < NANO_ARRAY_LEN(cases); i++) {
        struct nano_diag d = { 0 };
        snprintf(json, sizeof json, "{\"driver\":\"modbus\",\"registers\":%s}",
                 cases[i].regs);
        NT_EQ_INT(rig_install(&r, "x", json, &d), NANO_ESCHEMA);
        NT_MSG("case %zu: '%s'", i, d.msg);
        NT_CHECK(strstr(d.msg, cases[i].msg) != NULL);
    }
    rig_down(&r);
}

NT_LIST = {
    { "rtu_over_a_pty",            test_rtu_over_a_pty },
    { "tcp_loopback",              test_tcp_loopback },
    { "tcp_server_comes_up_late",  test_tcp_server_comes_up_late },
    { "emulated_slave",            test_emulated_slave },
    { "register_map_validation",   test_register_map_validation },
    { NULL, NULL }
};

#else   /* built without libmodbus: nothing to test */

static void
test_not_in_this_build(void)
{
    NT_CHECK(nano_driver_find("modbus") == NULL);
}

NT_LIST = {
    { "not_in_this_build", test_not_in_this_build },
    { NULL, NULL }
};

#endif
