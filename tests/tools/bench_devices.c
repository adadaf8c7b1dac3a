/* bench_devices.c - the device manager's scheduler under load: N instances
 * sampled every interval for D seconds on one loop thread, with one bus
 * subscriber consuming every reading.  Prints the sustained sample rate
 * against the configured one, CPU use, allocations per sample, and what
 * each instance costs in heap and resident memory.
 *
 *   bench_devices [-n 1000] [-i 100] [-d 10] [-q 1] [--driver sim|bme280]
 *
 * sim: the simulated driver (sine wave), synchronous samples.
 * bme280: the real bme280 driver on emulated chips (two per emulated I2C
 * bus), so every sample is two I2C transfers and a conversion timer.
 *
 * Memory is read before installing, after installing (instance, settings,
 * driver context) and after warm-up (probed, quantities declared, the
 * latest value of each topic held by the bus); the differences divided by
 * N are the per-instance costs.  Heap is the allocator's own count
 * (mallinfo2), RSS is VmRSS. */
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
#include "drivers/devmgr.h"
#include "hal/offload.h"
#include "hal/sim.h"
#include "port/proc.h"

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

struct mem {
    size_t   heap;
    uint64_t rss;
};

static struct mem
mem_now(void)
{
    struct nano_proc_mem pm = { 0 };
    struct mem m;

    nano_proc_mem(&pm);
    m.heap = nano_mem_heap_in_use();
    m.rss = pm.rss;
    return m;
}

/* Settings for instance i, built in code as the API's install does. */
static struct nano_cfg_doc *
settings(const char *driver, unsigned i, unsigned interval_ms, unsigned nq)
{
    struct nano_cfg_doc *doc = nano_cfg_new("bench");
    struct nano_cfg_node *root = nano_cfg_root(doc), *qs, *q;
    char buf[64];

    nano_cfg_add(doc, root, "driver", NANO_CFG_SCALAR, driver, false);
    snprintf(buf, sizeof buf, "%ums", interval_ms);
    nano_cfg_add(doc, root, "interval", NANO_CFG_SCALAR, buf, false);
    if (strcmp(driver, "sim") == 0) {
        qs = nano_cfg_add(doc, root, "quantities", NANO_CFG_MAP, NULL, false);
        for (unsigned k = 0; k < nq; k++) {
            snprintf(buf, sizeof buf, "q%u", k);
            q = nano_cfg_add(doc, qs, buf, NANO_CFG_MAP, NULL, false);
            nano_cfg_add(doc, q, "wave", NANO_CFG_SCALAR, "sine", false);
            nano_cfg_add(doc, q, "max", NANO_CFG_SCALAR, "25", false);
        }
    } else {
        snprintf(buf, sizeof buf, "sim:b%u", i / 2);
        nano_cfg_add(doc, root, "bus", NANO_CFG_SCALAR, buf, true);
        nano_cfg_add(doc, root, "address", NANO_CFG_SCALAR, i % 2 ? "0x77" : "0x76",
                     false);
    }
    return doc;
}

static void
run_for(struct nano_loop *loop, double s)
{
    uint64_t end = nano_time_mono_ns() + (uint64_t)(s * 1e9);

    while (nano_time_mono_ns() < end)
        nano_loop_run_once(loop, 10);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "driver", required_argument, NULL, 'D' },
        { "api", no_argument, NULL, 'A' },
        { NULL, 0, NULL, 0 },
    };
    unsigned n = 1000, interval_ms = 100, duration_s = 10, nq = 1;
    const char *driver = "sim";
    bool via_api = false;
    struct nano_cfg_doc *config = NULL;
    struct nano_loop *loop;
    struct nano_bus *bus;
    struct nano_devmgr *dm;
    struct nano_sub *sub;
    struct nano_sub_opts so = { .name = "bench", .queue_cap = 65536 };
    struct nano_devmgr_stats st0, st1;
    struct mem m0, mc, m1, m2;
    size_t copy_heap = 0;
    double c0, c1, warm_s;
    uint64_t t0, t1, a0, a1, iters0, cons0;
    int c;

    while ((c = getopt_long(argc, argv, "n:i:d:q:", opts, NULL)) != -1) {
        switch (c) {
        case 'n': n = (unsigned)atoi(optarg); break;
        case 'i': interval_ms = (unsigned)atoi(optarg); break;
        case 'd': duration_s = (unsigned)atoi(optarg); break;
        case 'q': nq = (unsigned)atoi(optarg); break;
        case 'D': driver = optarg; break;
        case 'A': via_api = true; break;
        default:
            fprintf(stderr, "usage: bench_devices [-n N] [-i ms] [-d s] [-q "
                    "quantities] [--driver sim|bme280] [--api]\n");
            return 2;
        }
    }
    if (!n || !interval_ms || !duration_s || !nq || nq > 16 ||
        (strcmp(driver, "sim") && strcmp(driver, "bme280"))) {
        fprintf(stderr, "bench_devices: bad arguments\n");
        return 2;
    }
    nano_log_configure(NANO_LOG_WARN, NANO_LOG_LOGFMT, 2);
    if (nano_loop_new(&loop) != NANO_OK || nano_bus_new(loop, &bus) != NANO_OK ||
        nano_devmgr_new(loop, bus, NULL, &dm) != NANO_OK ||
        nano_bus_subscribe(bus, "sensors/#", &so, consume, NULL, &sub) != NANO_OK) {
        fprintf(stderr, "bench_devices: setup failed\n");
        return 1;
    }
    if (strcmp(driver, "bme280") == 0) {
        for (unsigned i = 0; i < n; i++) {
            char b[32];
            snprintf(b, sizeof b, "b%u", i / 2);
            if (nano_sim_add(b, "bme280", i % 2 ? "0x77" : "0x76") != NANO_OK) {
                fprintf(stderr, "bench_devices: emulator setup failed\n");
                return 1;
            }
        }
    }

    /* Instances come from a config file's devices: section (one parsed
     * document, as nanod holds it, then apply), or one by one through the
     * API's install, which also keeps a copy for persistence. */
    m0 = mem_now();
    if (!via_api) {
        struct nano_cfg_node *devs;
        struct nano_diag d = { 0 };
        config = nano_cfg_new("bench");
        devs = nano_cfg_add(config, nano_cfg_root(config), "devices", NANO_CFG_MAP,
                            NULL, false);
        for (unsigned i = 0; i < n && devs; i++) {
            struct nano_cfg_doc *doc = settings(driver, i, interval_ms, nq);
            char name[32];
            snprintf(name, sizeof name, "d%u", i);
            nano_cfg_copy(config, devs, name, nano_cfg_root(doc));
            nano_cfg_free(doc);
        }
        mc = mem_now();
        if (!devs || nano_devmgr_validate(devs, &d) != NANO_OK ||
            nano_devmgr_apply_config(dm, devs) != NANO_OK) {
            fprintf(stderr, "bench_devices: config: %s\n", d.msg);
            return 1;
        }
    }
    if (via_api)
        mc = m0;
    for (unsigned i = 0; via_api && i < n; i++) {
        struct nano_cfg_doc *doc = settings(driver, i, interval_ms, nq);
        struct nano_diag d = { 0 };
        char name[32];
        snprintf(name, sizeof name, "d%u", i);
        if (!doc || nano_devmgr_install(dm, name, nano_cfg_root(doc), true, &d) != NANO_OK) {
            fprintf(stderr, "bench_devices: install %s: %s\n", name, d.msg);
            return 1;
        }
        nano_cfg_free(doc);
    }
    m1 = mem_now();

    /* Warm up: every instance probed and published at least once. */
    warm_s = 3.0 * interval_ms / 1000.0 + 0.2;
    run_for(loop, warm_s);
    m2 = mem_now();

    /* What one instance's private copy of its settings costs: the same
     * nano_cfg_new_sized + nano_cfg_copy the device manager does, alone. */
    {
        struct nano_cfg_doc **copies = nano_calloc(n, sizeof *copies);
        struct nano_cfg_doc *src = settings(driver, 0, interval_ms, nq);
        size_t h = nano_mem_heap_in_use();
        for (unsigned i = 0; copies && src && i < n; i++) {
            copies[i] = nano_cfg_new_sized("device",
                                           nano_cfg_copy_size(nano_cfg_root(src)));
            for (struct nano_cfg_node *k = nano_cfg_root(src)->child; k; k = k->next)
                nano_cfg_copy(copies[i], nano_cfg_root(copies[i]), k->key, k);
        }
        copy_heap = (nano_mem_heap_in_use() - h) / n;
        for (unsigned i = 0; copies && i < n; i++)
            nano_cfg_free(copies[i]);
        nano_free(copies);
        nano_cfg_free(src);
    }

    nano_devmgr_get_stats(dm, &st0);
    a0 = nano_mem_alloc_count();
    c0 = cpu_s();
    iters0 = nano_loop_iterations(loop);
    cons0 = consumed;
    t0 = nano_time_mono_ns();
    run_for(loop, duration_s);
    t1 = nano_time_mono_ns();
    c1 = cpu_s();
    a1 = nano_mem_alloc_count();
    nano_devmgr_get_stats(dm, &st1);

    double secs = (double)(t1 - t0) / 1e9;
    double rate = (double)(st1.samples - st0.samples) / secs;
    double want = (double)n * 1000.0 / interval_ms;
    double per_sample = (double)(a1 - a0) / (double)(st1.samples - st0.samples);

    if (strcmp(driver, "sim") == 0)
        printf("driver          sim (%u quantit%s each)\n", nq, nq == 1 ? "y" : "ies");
    else
        printf("driver          bme280 on emulated chips (3 quantities each)\n");
    printf("instances       %u from %s, interval %u ms, %u s measured after %.1f s "
           "warm-up\n", n, via_api ? "API installs" : "a config file", interval_ms,
           duration_s, warm_s);
    printf("samples/s       %.0f sustained of %.0f scheduled (%.2f %%)\n", rate, want,
           100.0 * rate / want);
    printf("readings/s      %.0f delivered to a bus subscriber\n",
           (double)(consumed - cons0) / secs);
    printf("errors          %llu, instances ok %u of %u\n",
           (unsigned long long)(st1.errors - st0.errors), st1.ok, st1.instances);
    printf("cpu             %.1f %% of one core (%.2f us per sample)\n",
           100.0 * (c1 - c0) / secs, 1e6 * (c1 - c0) / (double)(st1.samples - st0.samples));
    printf("loop            %.0f iterations/s\n",
           (double)(nano_loop_iterations(loop) - iters0) / secs);
    printf("allocations     %.2f per sample\n", per_sample);
    printf("heap/instance   %.0f B in all: %.0f B %s, %.0f B instance "
           "installed, %.0f B more once running\n",
           ((double)m2.heap - (double)m0.heap) / n,
           ((double)mc.heap - (double)m0.heap) / n,
           via_api ? "(none: no config document)" : "config document",
           ((double)m1.heap - (double)mc.heap) / n,
           ((double)m2.heap - (double)m1.heap) / n);
    printf("                of the instance, its private settings copy: %zu B\n",
           copy_heap);
    printf("rss/instance    %.0f B in all (rss %.1f MB)\n",
           ((double)m2.rss - (double)m0.rss) / n, m2.rss / 1048576.0);

    nano_devmgr_free(dm);
    nano_cfg_free(config);
    nano_bus_unsubscribe(bus, sub);
    nano_bus_free(bus);
    nano_loop_free(loop);
    nano_metrics_reset();
    nano_sim_reset();
    return rate >= want * 0.98 ? 0 : 1;
}
