/* bench_sandbox.c - what a WebAssembly service costs the daemon.
 *
 *   bench_sandbox -m filter.wasm [-n 200000] [-k 100]
 *
 * 1. Per message: n readings on sensors/b<i % 16>/temperature through the
 *    module (examples/filter.wat: a moving average per topic, one publish
 *    and one kv_set per reading), against the same stream through a bus
 *    subscriber that does nothing.  The difference is the sandbox's cost
 *    per message: delivery, the copy into the inbox, the call, the imports.
 * 2. Stall: how long one message to a module that loops forever holds the
 *    loop thread with the default budgets (fuel stops it), with fuel off
 *    (the 20 ms deadline stops it), and the longest gap between two turns
 *    of the loop while such a module gets a message every millisecond for
 *    a second (it is quarantined after 5 faults).
 * 3. Memory: heap and RSS per loaded module, over k copies of the module.
 *
 * Heap is the allocator's count (mallinfo2), RSS is VmRSS. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/bus.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/time.h"
#include "port/proc.h"
#include "sandbox/sandbox.h"

/* (module (func (export "on_message") (param i32 i32 f64 i32 i32)
 *   (loop (br 0)))) */
static const uint8_t spin[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x09, 0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7c, 0x7f, 0x7f, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x0e, 0x01, 0x0a, 'o', 'n', '_', 'm', 'e', 's', 's', 'a', 'g', 'e',
    0x00, 0x00,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
};

static struct nano_loop *loop;
static struct nano_bus *bus;
static struct nano_sandbox *sb;
static uint64_t consumed;

static void
consume(void *arg, const struct nano_msg *m)
{
    (void)arg;
    (void)m;
    consumed++;
}

static double
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
drain(void)
{
    int idle = 0;

    while (idle < 3)
        idle = nano_loop_run_once(loop, 0) == 0 ? idle + 1 : 0;
}

static int
load(const char *name, const char *settings, const uint8_t *wasm, size_t len)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { 0 };
    int rc;

    if (nano_cfg_parse_json(settings, strlen(settings), "bench", &doc, &d) != NANO_OK) {
        fprintf(stderr, "settings: %s\n", d.msg);
        return -1;
    }
    rc = nano_sandbox_load(sb, name, nano_cfg_root(doc), wasm, len, &d);
    nano_cfg_free(doc);
    if (rc != NANO_OK)
        fprintf(stderr, "load %s: %s\n", name, d.msg);
    return rc;
}

/* Publish n readings in batches the queues can hold; time it. */
static double
stream(unsigned n, double *cpu)
{
    char topic[64];
    uint64_t t0 = nano_time_mono_ns();
    double c0 = cpu_s();

    for (unsigned i = 0; i < n; i++) {
        struct nano_value v = nano_value_num(20.0 + (i % 7) * 0.1, NULL);
        snprintf(topic, sizeof topic, "sensors/b%u/temperature", i % 16);
        nano_bus_publish_value(bus, topic, &v);
        if (i % 1000 == 999)
            drain();
    }
    drain();
    *cpu = cpu_s() - c0;
    return (double)(nano_time_mono_ns() - t0) / 1e9;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(NANO_SANDBOX_MODULE_MAX);

    if (!f || !buf) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    *len = fread(buf, 1, NANO_SANDBOX_MODULE_MAX, f);
    fclose(f);
    return buf;
}

static double
one_spin(const char *settings)
{
    struct nano_value v = nano_value_num(1, NULL);
    uint64_t t0;
    double ms;

    load("spin", settings, spin, sizeof spin);
    nano_bus_publish_value(bus, "spin/x", &v);
    t0 = nano_time_mono_ns();
    drain();
    ms = (double)(nano_time_mono_ns() - t0) / 1e6;
    nano_sandbox_unload(sb, "spin");
    return ms;
}

struct ticker {
    struct nano_timer t;
    uint64_t last, worst;
    unsigned left;
};

static void
on_tick(struct nano_loop *l, struct nano_timer *t)
{
    struct ticker *k = NANO_CONTAINER_OF(t, struct ticker, t);
    struct nano_value v = nano_value_num(1, NULL);
    uint64_t now = nano_time_mono_ns();

    if (k->last && now - k->last > k->worst)
        k->worst = now - k->last;
    k->last = now;
    nano_bus_publish_value(bus, "spin/x", &v);
    if (--k->left == 0) {
        nano_timer_stop(l, t);
        nano_loop_stop(l);
    }
}

int
main(int argc, char **argv)
{
    const char *path = NULL;
    unsigned n = 200000, k = 100;
    struct nano_sub *sub;
    struct nano_proc_mem pm0, pm1;
    struct nano_sandbox_module_stats st;
    uint8_t *wasm;
    size_t len, heap0;
    double t_bus, t_sb, c_bus, c_sb;
    char dir[] = "/tmp/nano-bench-sandbox-XXXXXX", cmd[128];
    int c;

    while ((c = getopt(argc, argv, "m:n:k:")) != -1) {
        switch (c) {
        case 'm': path = optarg; break;
        case 'n': n = (unsigned)atoi(optarg); break;
        case 'k': k = (unsigned)atoi(optarg); break;
        default:
            fprintf(stderr, "usage: bench_sandbox -m FILE.wasm [-n N] [-k K]\n");
            return 2;
        }
    }
    if (!path || !mkdtemp(dir)) {
        fprintf(stderr, "usage: bench_sandbox -m FILE.wasm [-n N] [-k K]\n");
        return 2;
    }
    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    wasm = read_file(path, &len);
    if (nano_loop_new(&loop) || nano_bus_new(loop, &bus) ||
        nano_sandbox_new(loop, bus, dir, &sb))
        return 1;

    /* 1. per message */
    nano_bus_subscribe(bus, "sensors/+/temperature", NULL, consume, NULL, &sub);
    stream(n / 10, &c_bus);                         /* warm up */
    t_bus = stream(n, &c_bus);
    nano_bus_unsubscribe(bus, sub);
    if (load("filter", "{\"subscribe\":\"sensors/+/temperature\",\"queue\":2048,"
             "\"grants\":{\"publish\":\"filtered/#\"}}", wasm, len) != NANO_OK)
        return 1;
    stream(n / 10, &c_sb);
    nano_sandbox_module_stats(sb, "filter", &st);
    uint64_t calls0 = st.calls, fuel0 = st.fuel_used;
    t_sb = stream(n, &c_sb);
    nano_sandbox_module_stats(sb, "filter", &st);
    printf("module          %s (%zu bytes)\n", path, len);
    printf("messages        %u on 16 topics, in batches of 1000\n", n);
    printf("bus only        %.3f us/message wall, %.3f us cpu\n",
           t_bus * 1e6 / n, c_bus * 1e6 / n);
    printf("through module  %.3f us/message wall, %.3f us cpu (%.0f messages/s)\n",
           t_sb * 1e6 / n, c_sb * 1e6 / n, n / t_sb);
    printf("sandbox cost    %.3f us/message (delivery, inbox copy, call, "
           "publish, kv_set)\n", (t_sb - t_bus) * 1e6 / n);
    printf("calls           %llu, faults %llu, fuel %.1f units/message\n",
           (unsigned long long)(st.calls - calls0),
           (unsigned long long)st.faults,
           (double)(st.fuel_used - fuel0) / (double)(st.calls - calls0));
    nano_sandbox_unload(sb, "filter");

    /* 2. stall */
    printf("stall, fuel     %.2f ms: one message to an endless loop, default "
           "budget (1,000,000 units)\n",
           one_spin("{\"subscribe\":\"spin/#\"}"));
    printf("stall, deadline %.2f ms: the same with fuel off (20 ms deadline)\n",
           one_spin("{\"subscribe\":\"spin/#\",\"fuel\":0}"));
    struct ticker tk = { .left = 1000 };
    load("spin", "{\"subscribe\":\"spin/#\",\"fuel\":0}", spin, sizeof spin);
    nano_timer_init(&tk.t, on_tick);
    nano_timer_start(loop, &tk.t, 1, 1);
    nano_loop_run(loop);
    nano_sandbox_module_stats(sb, "spin", &st);
    printf("stall, 1 s      worst gap between 1 ms ticks %.1f ms while an endless "
           "loop gets a message per tick: %s after %llu faults, %llu messages "
           "dropped\n", (double)tk.worst / 1e6, nano_sandbox_state_name(st.state),
           (unsigned long long)st.faults, (unsigned long long)st.dropped);
    nano_sandbox_unload(sb, "spin");
    drain();

    /* 3. memory */
    nano_mem_trim();
    heap0 = nano_mem_heap_in_use();
    nano_proc_mem(&pm0);
    for (unsigned i = 0; i < k; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%u", i);
        if (load(name, "{\"subscribe\":\"sensors/+/temperature\","
                 "\"grants\":{\"publish\":\"filtered/#\"}}", wasm, len) != NANO_OK)
            return 1;
    }
    {
        struct nano_value v = nano_value_num(20, NULL);
        nano_bus_publish_value(bus, "sensors/b0/temperature", &v);
        drain();                       /* every instance has run once */
    }
    nano_proc_mem(&pm1);
    printf("memory          %zu B heap, %lld B rss per module (%u modules, "
           "memory of 1 page each; the value stack is 32 KiB)\n",
           (nano_mem_heap_in_use() - heap0) / k,
           ((long long)pm1.rss - (long long)pm0.rss) / (long long)k, k);

    nano_sandbox_free(sb);
    nano_bus_free(bus);
    nano_loop_free(loop);
    nano_metrics_reset();
    free(wasm);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
