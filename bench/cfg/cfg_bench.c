/* SPDX-License-Identifier: MIT
 *
 * cfg_bench.c - parse throughput of the config tree (bench/cfg/run.sh).
 *
 * For each input: documents per second, MB/s, allocations per parse and
 * arena bytes per value, for nano_cfg_parse_json / nano_cfg_parse_yaml, and
 * for cJSON on the JSON inputs when built with -DWITH_CJSON (the library the
 * brief names), so the numbers have a reference point.  Inputs are generated
 * here, so every run measures the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "core/mem.h"
#include "core/time.h"
#ifdef WITH_CJSON
#include <cjson/cJSON.h>
#endif

typedef int parse_fn(const char *text, size_t len, const char *origin,
                     struct nano_cfg_doc **doc_out, struct nano_diag *d);

static size_t
count_nodes(const struct nano_cfg_node *n)
{
    size_t c = 1;

    for (const struct nano_cfg_node *k = n->child; k; k = k->next)
        c += count_nodes(k);
    return c;
}

static void
run(const char *name, parse_fn *parse, const char *text, size_t len)
{
    struct nano_cfg_doc *doc;
    uint64_t t0, t1, a0, a1;
    size_t iters = 0, nodes;
    size_t heap0, heap1;

    heap0 = nano_mem_heap_in_use();
    if (parse(text, len, "bench", &doc, NULL) != NANO_OK) {
        fprintf(stderr, "%s: does not parse\n", name);
        exit(1);
    }
    heap1 = nano_mem_heap_in_use();
    nodes = count_nodes(nano_cfg_root(doc));
    nano_cfg_free(doc);

    a0 = nano_mem_alloc_count();
    t0 = nano_time_mono_ns();
    do {
        for (int i = 0; i < 16; i++) {
            parse(text, len, "bench", &doc, NULL);
            nano_cfg_free(doc);
        }
        iters += 16;
        t1 = nano_time_mono_ns();
    } while (t1 - t0 < 1000000000ull);
    a1 = nano_mem_alloc_count();
    printf("%-28s %9zu B %7zu values %10.0f docs/s %8.1f MB/s %5.1f allocs %6.1f B/value\n",
           name, len, nodes, iters * 1e9 / (double)(t1 - t0),
           (double)len * iters * 1e3 / (double)(t1 - t0),
           (double)(a1 - a0) / (double)iters,
           (double)(heap1 - heap0) / (double)nodes);
}

#ifdef WITH_CJSON
static void
run_cjson(const char *name, const char *text, size_t len)
{
    uint64_t t0, t1;
    size_t iters = 0;

    t0 = nano_time_mono_ns();
    do {
        for (int i = 0; i < 16; i++)
            cJSON_Delete(cJSON_ParseWithLength(text, len));
        iters += 16;
        t1 = nano_time_mono_ns();
    } while (t1 - t0 < 1000000000ull);
    printf("%-28s %9zu B %7s        %10.0f docs/s %8.1f MB/s\n", name, len, "",
           iters * 1e9 / (double)(t1 - t0),
           (double)len * iters * 1e3 / (double)(t1 - t0));
}
#endif

/* The same realistic configuration, n devices, in both syntaxes. */
static void
config(struct nano_buf *j, struct nano_buf *y, int n)
{
    nano_buf_puts(j, "{\"log\": {\"level\": \"info\", \"format\": \"logfmt\"},\n"
                     " \"devices\": {\n");
    nano_buf_puts(y, "log:\n  level: info\n  format: logfmt\ndevices:\n");
    for (int i = 0; i < n; i++) {
        nano_buf_printf(j, "  \"sensor%d\": {\"driver\": \"bme280\", \"interval\": "
                        "\"10s\", \"enabled\": true, \"bus\": \"i2c-1\", "
                        "\"address\": %d, \"tags\": [\"room%d\", \"floor1\"]}%s\n",
                        i, 118 + i % 2, i, i + 1 < n ? "," : "");
        nano_buf_printf(y, "  sensor%d:\n    driver: bme280\n    interval: 10s\n"
                        "    enabled: true\n    bus: i2c-1\n    address: %d\n"
                        "    tags: [room%d, floor1]\n", i, 118 + i % 2, i);
    }
    nano_buf_puts(j, " }}\n");
}

int
main(void)
{
    static const char body[] =
        "{\"topic\": \"actuators/led\", \"value\": 1, \"qos\": 1}";
    struct nano_buf j, y, big;

    nano_buf_init(&j, 1u << 26);
    nano_buf_init(&y, 1u << 26);
    nano_buf_init(&big, 1u << 26);
    config(&j, &y, 40);
    nano_buf_putc(&big, '[');
    for (int i = 0; i < 20000; i++)
        nano_buf_printf(&big, "%s{\"ts\":%d,\"topic\":\"sensors/s%d/temperature\","
                        "\"value\":%d.%02d,\"unit\":\"\\u00b0C\"}", i ? "," : "",
                        1700000000 + i, i % 50, 20 + i % 10, i % 100);
    nano_buf_putc(&big, ']');

    run("json api body", nano_cfg_parse_json, body, sizeof body - 1);
    run("json config (40 devices)", nano_cfg_parse_json, j.data, j.len);
    run("json 20k readings", nano_cfg_parse_json, big.data, big.len);
    run("yaml config (40 devices)", nano_cfg_parse_yaml, y.data, y.len);
#ifdef WITH_CJSON
    run_cjson("cjson api body", body, sizeof body - 1);
    run_cjson("cjson config (40 devices)", j.data, j.len);
    run_cjson("cjson 20k readings", big.data, big.len);
#endif
    nano_buf_free(&j);
    nano_buf_free(&y);
    nano_buf_free(&big);
    return 0;
}
