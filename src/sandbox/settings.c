/* SPDX-License-Identifier: MIT
 *
 * settings.c - a module's settings: the schema shared by the config file's
 * `sandbox:` entries, API bodies and the persisted overlay, and the parser
 * that turns a checked settings map into a struct sb_settings.
 *
 *   sandbox:
 *     filter:
 *       file: filter.wasm              # config entries only
 *       subscribe: sensors/+/temperature
 *       fuel: 1000000                  # per message; 0: none
 *       deadline: 20ms                 # per message; 0: none
 *       memory: 1MiB                   # linear memory ceiling
 *       queue: 256                     # per subscription
 *       max_faults: 5                  # within fault_window: quarantine
 *       fault_window: 60s
 *       kv_max: 4096                   # bytes of the key-value store
 *       max_publish: 64                # publishes per message
 *       grants: { publish: filtered/#, read: [sensors/#], pins: [led] }
 *       enabled: true
 *
 * The parsed struct points into the settings document (no copies), which
 * its module owns.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/topic.h"
#include "sandbox/sandbox_int.h"

/* Each element of a string-or-list node, in order. */
#define EACH_STR(n, it)                                                       \
    for (const struct nano_cfg_node *it = (n)->kind == NANO_CFG_LIST          \
                                          ? (n)->child : (n);                 \
         it; it = (n)->kind == NANO_CFG_LIST ? it->next : NULL)

static int
count_and_check(const struct nano_cfg_node *n, struct nano_diag *d,
                bool filters)
{
    unsigned count = 0;

    if (n->kind == NANO_CFG_NULL)
        return NANO_OK;
    EACH_STR(n, it) {
        const char *why;

        if (++count > SB_MAX_FILTERS)
            return nano_cfg_error(it, d, "at most %d entries", SB_MAX_FILTERS);
        if (it->kind != NANO_CFG_SCALAR || !it->len)
            return nano_cfg_error(it, d, "expected a non-empty string");
        if (filters && nano_topic_filter_check(it->str, &why) != NANO_OK)
            return nano_cfg_error(it, d, "topic filter '%s': %s", it->str, why);
        if (!filters && (it->len > 48 || strpbrk(it->str, " /\t")))
            return nano_cfg_error(it, d, "pin name '%s' is not a name", it->str);
    }
    return NANO_OK;
}

static int
check_filters(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    (void)arg;
    return count_and_check(n, d, true);
}

static int
check_pins(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    (void)arg;
    return count_and_check(n, d, false);
}

/* "1MiB", "512KiB", "65536", "2M": bytes of linear memory. */
static int
parse_size(const struct nano_cfg_node *n, uint64_t *out, struct nano_diag *d)
{
    static const struct { const char *sfx; uint64_t mul; } units[] = {
        { "", 1 }, { "B", 1 }, { "K", 1024 }, { "k", 1024 }, { "KB", 1024 },
        { "KiB", 1024 }, { "M", 1u << 20 }, { "MB", 1u << 20 },
        { "MiB", 1u << 20 },
    };
    const char *s = n->str;
    uint64_t v = 0;
    size_t i = 0;

    if (n->kind != NANO_CFG_SCALAR)
        goto bad;
    while (s[i] >= '0' && s[i] <= '9' && v < (1ull << 40))
        v = v * 10 + (uint64_t)(s[i++] - '0');
    if (i == 0)
        goto bad;
    for (size_t k = 0; k < NANO_ARRAY_LEN(units); k++)
        if (!strcmp(s + i, units[k].sfx)) {
            *out = v * units[k].mul;
            return NANO_OK;
        }
bad:
    return nano_cfg_error(n, d, "'memory' expects a size such as 1MiB, 256KiB "
                          "or a number of bytes, got '%s'",
                          n->str ? n->str : "a map or list");
}

static int
check_memory(const struct nano_cfg_node *n, struct nano_diag *d, void *arg)
{
    uint64_t v;
    int rc = parse_size(n, &v, d);

    (void)arg;
    if (rc != NANO_OK)
        return rc;
    if (v < 65536 || v > 64ull << 20)
        return nano_cfg_error(n, d, "'memory' must be between 64KiB and "
                              "64MiB, got '%s'", n->str);
    return NANO_OK;
}

static const struct nano_cfg_field grant_fields[] = {
    { .key = "publish", .type = NANO_CFGT_STR_OR_LIST, .check = check_filters,
      .help = "topic filters the module may publish to" },
    { .key = "read", .type = NANO_CFGT_STR_OR_LIST, .check = check_filters,
      .help = "topic filters whose latest values the module may read" },
    { .key = "pins", .type = NANO_CFGT_STR_OR_LIST, .check = check_pins,
      .help = "names of the output pins the module may set" },
    { 0 }
};

const struct nano_cfg_field sb_module_fields[] = {
    { .key = "file", .type = NANO_CFGT_STR,
      .help = "the module's .wasm file (relative to the config file)" },
    { .key = "subscribe", .type = NANO_CFGT_STR_OR_LIST, .check = check_filters,
      .help = "topic filters whose messages are passed to on_message" },
    { .key = "fuel", .type = NANO_CFGT_INT, .min = 0, .max = 1e12,
      .help = "execution units per message, one per call and loop "
              "iteration (default 1000000; 0: no limit)" },
    { .key = "deadline", .type = NANO_CFGT_DURATION, .min = 0, .max = 10,
      .help = "wall-clock limit per message (default 20ms; 0: none)" },
    { .key = "memory", .type = NANO_CFGT_ANY, .check = check_memory,
      .help = "ceiling of the module's linear memory (default 1MiB)" },
    { .key = "queue", .type = NANO_CFGT_INT, .min = 1, .max = 65536,
      .help = "messages waiting per subscription; beyond, the oldest are "
              "dropped (default 256)" },
    { .key = "max_faults", .type = NANO_CFGT_INT, .min = 1, .max = SB_MAX_FAULTS,
      .help = "faults within fault_window that quarantine the module "
              "(default 5)" },
    { .key = "fault_window", .type = NANO_CFGT_DURATION, .min = 0.001,
      .max = 86400, .help = "window for max_faults (default 60s)" },
    { .key = "kv_max", .type = NANO_CFGT_INT, .min = 0, .max = 1 << 20,
      .help = "bytes of the persisted key-value store (default 4096)" },
    { .key = "max_publish", .type = NANO_CFGT_INT, .min = 0, .max = 10000,
      .help = "messages the module may publish per call (default 64)" },
    { .key = "grants", .type = NANO_CFGT_MAP, .fields = grant_fields,
      .help = "topics, values and pins the module may touch (none by default)" },
    { .key = "enabled", .type = NANO_CFGT_BOOL,
      .help = "false: loaded but not called until enabled" },
    { 0 }
};

static const struct nano_cfg_field module_item = {
    .type = NANO_CFGT_MAP, .fields = sb_module_fields,
};

bool
sb_valid_name(const char *s)
{
    return nano_name_valid(s, NANO_SANDBOX_NAME_MAX, NULL);
}

static unsigned
take_list(const struct nano_cfg_node *n, const char **out)
{
    unsigned k = 0;

    if (!n || n->kind == NANO_CFG_NULL)
        return 0;
    EACH_STR(n, it)
        if (k < SB_MAX_FILTERS)
            out[k++] = it->str;
    return k;
}

static uint64_t
get_int(const struct nano_cfg_node *map, const char *key, uint64_t def)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, key);
    int64_t v;

    if (n && nano_cfg_as_int(n, 0, INT64_MAX, &v, NULL) == NANO_OK)
        return (uint64_t)v;
    return def;
}

static uint64_t
get_ns(const struct nano_cfg_node *map, const char *key, uint64_t def)
{
    const struct nano_cfg_node *n = nano_cfg_get(map, key);
    uint64_t v;

    if (n && nano_cfg_as_duration(n, &v, NULL) == NANO_OK)
        return v;
    return def;
}

int
sb_settings_parse(const struct nano_cfg_node *map, const char *what,
                  enum sb_file_rule file, struct sb_settings *out,
                  struct nano_diag *d)
{
    struct sb_settings s;
    const struct nano_cfg_node *n, *g, *at = map;
    uint64_t mem;
    int rc;

    rc = nano_cfg_validate(map, &module_item, what, NULL, d);
    if (rc != NANO_OK)
        return rc;
    if (map->kind != NANO_CFG_MAP)      /* an empty value: all defaults */
        map = NULL;
    n = map ? nano_cfg_get(map, "file") : NULL;
    if (file == SB_FILE_REQUIRED && !n)
        return nano_diag_set(d, NANO_ESCHEMA, map ? map->key_line : 0,
                             map ? map->key_col : 0, "%s: missing required "
                             "key 'file' (the module's .wasm file)", what);
    if (file == SB_FILE_FORBIDDEN && n)
        return nano_cfg_error(n, d, "%s: 'file' is only for the config file; "
                              "send the module's bytes instead", what);

    memset(&s, 0, sizeof s);
    s.file = n ? n->str : NULL;
    s.fuel = get_int(map, "fuel", NANO_SANDBOX_FUEL);
    s.deadline_ms = (uint32_t)(get_ns(map, "deadline",
                                      NANO_SANDBOX_DEADLINE_MS * NANO_NS_PER_MS)
                               / NANO_NS_PER_MS);
    mem = NANO_SANDBOX_MEMORY;
    if (map && (n = nano_cfg_get(map, "memory")))
        parse_size(n, &mem, NULL);
    s.memory_pages = (uint32_t)((mem + 65535) / 65536);
    s.queue = (uint32_t)get_int(map, "queue", NANO_SANDBOX_QUEUE);
    s.max_faults = (uint32_t)get_int(map, "max_faults", NANO_SANDBOX_MAX_FAULTS);
    s.window_ns = get_ns(map, "fault_window",
                         NANO_SANDBOX_WINDOW_MS * NANO_NS_PER_MS);
    s.kv_max = (uint32_t)get_int(map, "kv_max", NANO_SANDBOX_KV_MAX);
    s.max_publish = (uint32_t)get_int(map, "max_publish",
                                      NANO_SANDBOX_MAX_PUBLISH);
    s.enabled = true;
    if (map && (n = nano_cfg_get(map, "enabled")))
        nano_cfg_as_bool(n, &s.enabled, NULL);
    s.nsub = take_list(map ? nano_cfg_get(map, "subscribe") : NULL, s.sub);
    g = map ? nano_cfg_get(map, "grants") : NULL;
    if (g && g->kind == NANO_CFG_MAP) {
        s.npub = take_list(nano_cfg_get(g, "publish"), s.pub);
        s.nread = take_list(nano_cfg_get(g, "read"), s.read);
        s.npins = take_list(nano_cfg_get(g, "pins"), s.pins);
    }
    if (s.fuel == 0 && s.deadline_ms == 0)
        return nano_diag_set(d, NANO_ESCHEMA, at->line, at->col, "%s: 'fuel' "
                             "and 'deadline' cannot both be 0: a call must "
                             "be bounded", what);
    if (out)
        *out = s;
    return NANO_OK;
}

void
sb_resolve_path(const char *config_path, const char *file, char *out,
                size_t cap)
{
    const char *slash = config_path ? strrchr(config_path, '/') : NULL;

    if (file[0] == '/' || !slash)
        snprintf(out, cap, "%s", file);
    else
        snprintf(out, cap, "%.*s/%s", (int)(slash - config_path), config_path,
                 file);
}

int
sb_read_file(const char *path, uint8_t **bytes_out, size_t *len_out)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;
    int fd, rc = NANO_OK;

    *bytes_out = NULL;
    *len_out = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    if (st.st_size > (off_t)NANO_SANDBOX_MODULE_MAX) {
        close(fd);
        return -E2BIG;
    }
    buf = nano_malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : -EIO;     /* shrank while we read */
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (rc != NANO_OK) {
        nano_free(buf);
        return rc;
    }
    *bytes_out = buf;
    *len_out = got;
    return NANO_OK;
}
