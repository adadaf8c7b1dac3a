/* SPDX-License-Identifier: MIT
 *
 * nano_wasm.c - `nano-wasm`, the WebAssembly engine on the command line.
 *
 *   nano-wasm run FILE.wasm [--invoke FUNC [ARGS...]] [--fuel N]
 *             [--timeout-ms N] [--memory-pages N] [--repeat N]
 *             [--run-all-exports] [--stats]
 *   nano-wasm validate FILE.wasm
 *   nano-wasm info FILE.wasm
 *   nano-wasm dump FILE.wasm     (the internal code, for tuning)
 *
 * `run` instantiates the module (running its start function) and, with
 * --invoke, calls an exported function with ARGS converted to the types of
 * its parameters (integers in decimal or 0x hex, floats as strtod reads
 * them, including nan and inf), then prints the results as TYPE:VALUE,
 * one line (integers signed, floats exact: %.9g / %.17g).  --run-all-exports calls every exported function that takes
 * no arguments, in order, and prints "name() => results" or
 * "name() => error: KIND", logging each call of an imported function as
 * "called host mod.name(args) => results": the same format as wabt's
 * `wasm-interp --run-all-exports --dummy-import-func`, so the two can be
 * compared (tools/wasm-diff.sh).  --stats prints to stderr the time taken
 * to load (decode, validate, compile) and to instantiate, the time of the
 * call(s), and the peak resident set size (VmHWM), for bench/wasm/run.sh.  Imported functions are stubbed (they
 * return zeros) and
 * imported memories, tables and globals are created to fit, so a module
 * with imports can still be exercised.  Exit status: 0 success, 1 trap or
 * invalid module or bad arguments, 2 usage.
 *
 * Argument parsing and printing only: everything else is the library.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm/wasm.h"

static const char usage[] =
    "usage: nano-wasm run FILE.wasm [--invoke FUNC [ARGS...]] [--fuel N]\n"
    "                 [--timeout-ms N] [--memory-pages N] [--repeat N]\n"
    "                 [--run-all-exports] [--stats]\n"
    "       nano-wasm validate FILE.wasm\n"
    "       nano-wasm info FILE.wasm\n"
    "       nano-wasm dump FILE.wasm\n";

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int
load(const char *path, const struct nano_wasm_limits *lim, uint8_t **bytes,
     struct nano_wasm_module **mod)
{
    struct nano_wasm_error err;
    size_t len;
    int rc;

    if (!(*bytes = read_file(path, &len))) {
        fprintf(stderr, "nano-wasm: %s: %s\n", path, strerror(errno));
        return -1;
    }
    rc = nano_wasm_module_load(*bytes, len, lim, mod, &err);
    if (rc) {
        fprintf(stderr, "nano-wasm: %s: invalid module at offset %zu (0x%zx): %s\n",
                path, err.offset, err.offset, err.msg);
        free(*bytes);
        *bytes = NULL;
        return -1;
    }
    return 0;
}

static void
print_name(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Peak resident set size in kB, from /proc (0 if unavailable). */
static long
vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int
cmd_info(const char *path)
{
    static const char *const kinds[] = { "func", "table", "memory", "global" };
    struct nano_wasm_module *mod;
    struct nano_wasm_extern_info info;
    uint8_t *bytes;
    char sig[256];

    if (load(path, NULL, &bytes, &mod))
        return 1;
    printf("imports: %zu\n", nano_wasm_module_import_count(mod));
    for (size_t i = 0; nano_wasm_module_import(mod, i, &info) == 0; i++) {
        printf("  %-6s ", kinds[info.kind]);
        print_name(info.module, info.module_len);
        putchar('.');
        print_name(info.name, info.name_len);
        if (info.kind == NANO_WASM_EXTERN_FUNC)
            printf(" %s", nano_wasm_sig_string(&info, sig, sizeof sig));
        else if (info.kind == NANO_WASM_EXTERN_GLOBAL)
            printf(" %s%s", info.mut ? "mut " : "",
                   nano_wasm_type_name((enum nano_wasm_type)info.type));
        else if (info.max != UINT32_MAX)
            printf(" min %u max %u", info.min, info.max);
        else
            printf(" min %u", info.min);
        putchar('\n');
    }
    printf("exports: %zu\n", nano_wasm_module_export_count(mod));
    for (size_t i = 0; nano_wasm_module_export(mod, i, &info) == 0; i++) {
        printf("  %-6s ", kinds[info.kind]);
        print_name(info.name, info.name_len);
        if (info.kind == NANO_WASM_EXTERN_FUNC)
            printf(" %s", nano_wasm_sig_string(&info, sig, sizeof sig));
        else if (info.kind == NANO_WASM_EXTERN_GLOBAL)
            printf(" %s%s", info.mut ? "mut " : "",
                   nano_wasm_type_name((enum nano_wasm_type)info.type));
        else if (info.max != UINT32_MAX)
            printf(" min %u max %u", info.min, info.max);
        else
            printf(" min %u", info.min);
        putchar('\n');
    }
    nano_wasm_module_free(mod);
    free(bytes);
    return 0;
}

static int
cmd_validate(const char *path)
{
    struct nano_wasm_module *mod;
    uint8_t *bytes;

    if (load(path, NULL, &bytes, &mod))
        return 1;
    printf("%s: valid\n", path);
    nano_wasm_module_free(mod);
    free(bytes);
    return 0;
}

static void print_wabt_val(uint8_t type, union nano_wasm_val v);

/* One stubbed import: its name and type, for --run-all-exports logging. */
struct stub {
    struct stub *next;
    int log;
    uint32_t np, nr;
    uint8_t pt[64], rt[64];
    char name[];
};

/* Imported functions do nothing and return zeros. */
static int
stub_fn(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
        union nano_wasm_val *results, void *user)
{
    const struct stub *st = user;

    (void)ctx;
    for (uint32_t i = 0; i < st->nr; i++)
        results[i].u64 = 0;
    if (st->log) {
        printf("called host %s(", st->name);
        for (uint32_t i = 0; i < st->np; i++) {
            if (i)
                printf(", ");
            print_wabt_val(st->pt[i], args[i]);
        }
        printf(") =>");
        for (uint32_t i = 0; i < st->nr; i++) {
            printf(i ? ", " : " ");
            print_wabt_val(st->rt[i], results[i]);
        }
        putchar('\n');
    }
    return 0;
}

static struct nano_wasm_imports *
stub_imports(const struct nano_wasm_module *mod, int log, struct stub **stubs)
{
    struct nano_wasm_imports *imp = nano_wasm_imports_new();
    struct nano_wasm_extern_info info;
    union nano_wasm_val zero;
    char sig[256];

    if (!imp)
        return NULL;
    zero.u64 = 0;
    for (size_t i = 0; nano_wasm_module_import(mod, i, &info) == 0; i++) {
        switch (info.kind) {
        case NANO_WASM_EXTERN_FUNC: {
            struct stub *st;
            if (info.nparams > 64 || info.nresults > 64)
                break;
            st = calloc(1, sizeof *st + info.module_len + info.name_len + 2);
            if (!st)
                break;
            st->log = log;
            st->np = info.nparams;
            st->nr = info.nresults;
            memcpy(st->pt, info.params, info.nparams);
            memcpy(st->rt, info.results, info.nresults);
            snprintf(st->name, info.module_len + info.name_len + 2, "%s.%s",
                     info.module, info.name);
            st->next = *stubs;
            *stubs = st;
            nano_wasm_imports_add_func(imp, info.module, info.name,
                                       nano_wasm_sig_string(&info, sig, sizeof sig),
                                       stub_fn, st);
            break;
        }
        case NANO_WASM_EXTERN_GLOBAL:
            nano_wasm_imports_add_global(imp, info.module, info.name,
                                         (enum nano_wasm_type)info.type, info.mut, zero);
            break;
        case NANO_WASM_EXTERN_MEMORY:
            nano_wasm_imports_add_memory(imp, info.module, info.name, info.min, info.max);
            break;
        case NANO_WASM_EXTERN_TABLE:
            nano_wasm_imports_add_table(imp, info.module, info.name,
                                        (enum nano_wasm_type)info.type, info.min, info.max);
            break;
        }
    }
    return imp;
}

static int
parse_arg(const char *s, uint8_t type, union nano_wasm_val *v)
{
    char *end;

    v->u64 = 0;
    errno = 0;
    switch (type) {
    case NANO_WASM_I32:
        if (s[0] == '-')
            v->i32 = (int32_t)strtol(s, &end, 0);
        else
            v->u32 = (uint32_t)strtoul(s, &end, 0);
        break;
    case NANO_WASM_I64:
        if (s[0] == '-')
            v->i64 = strtoll(s, &end, 0);
        else
            v->u64 = strtoull(s, &end, 0);
        break;
    case NANO_WASM_F32:
        v->f32 = strtof(s, &end);
        break;
    case NANO_WASM_F64:
        v->f64 = strtod(s, &end);
        break;
    case NANO_WASM_FUNCREF:
    case NANO_WASM_EXTERNREF:
        if (strcmp(s, "null") != 0)
            return -1;
        v->ref = NULL;
        return 0;
    default:
        return -1;
    }
    return (*s && !*end && errno != ERANGE) ? 0 : -1;
}

static void
print_val(uint8_t type, union nano_wasm_val v)
{
    switch (type) {
    case NANO_WASM_I32: printf("i32:%" PRId32, v.i32); break;
    case NANO_WASM_I64: printf("i64:%" PRId64, v.i64); break;
    case NANO_WASM_F32:
        if (isnan(v.f32))
            printf("f32:%snan:0x%" PRIx32, signbit(v.f32) ? "-" : "", v.u32 & 0x7fffffu);
        else
            printf("f32:%.9g", (double)v.f32);
        break;
    case NANO_WASM_F64:
        if (isnan(v.f64))
            printf("f64:%snan:0x%" PRIx64, signbit(v.f64) ? "-" : "",
                   (uint64_t)(v.u64 & 0xfffffffffffffull));
        else
            printf("f64:%.17g", v.f64);
        break;
    case NANO_WASM_FUNCREF:   printf("funcref:%s", v.ref ? "func" : "null"); break;
    case NANO_WASM_EXTERNREF: printf("externref:%s", v.ref ? "ref" : "null"); break;
    default: printf("?"); break;
    }
}

/* wabt's notation: integers unsigned, floats with %f, references as 0 */
static void
print_wabt_val(uint8_t type, union nano_wasm_val v)
{
    switch (type) {
    case NANO_WASM_I32: printf("i32:%" PRIu32, v.u32); break;
    case NANO_WASM_I64: printf("i64:%" PRIu64, v.u64); break;
    case NANO_WASM_F32: printf("f32:%f", (double)v.f32); break;
    case NANO_WASM_F64: printf("f64:%f", v.f64); break;
    case NANO_WASM_FUNCREF: printf("funcref:%d", v.ref ? 1 : 0); break;
    case NANO_WASM_EXTERNREF: printf("externref:%d", v.ref ? 1 : 0); break;
    default: printf("?"); break;
    }
}

static void
run_all_exports(struct nano_wasm_instance *inst, const struct nano_wasm_module *mod)
{
    struct nano_wasm_extern_info info;
    struct nano_wasm_trap trap;
    union nano_wasm_val res[64];

    for (size_t i = 0; nano_wasm_module_export(mod, i, &info) == 0; i++) {
        struct nano_wasm_func *f;
        if (info.kind != NANO_WASM_EXTERN_FUNC || info.nparams || info.nresults > 64)
            continue;
        f = nano_wasm_find_func_n(inst, info.name, info.name_len);
        int rc = nano_wasm_call_func(inst, f, NULL, 0, res, info.nresults, &trap);
        printf("%s() =>", info.name);
        if (rc) {
            printf(" error: %s\n", trap.msg);
            continue;
        }
        for (uint32_t k = 0; k < info.nresults; k++) {
            printf(k ? ", " : " ");
            print_wabt_val(info.results[k], res[k]);
        }
        putchar('\n');
    }
}

static int
parse_u64(const char *opt, const char *s, uint64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoull(s, &end, 0);
    if (!*s || *end || errno) {
        fprintf(stderr, "nano-wasm: %s: bad number \"%s\"\n", opt, s);
        return -1;
    }
    return 0;
}

static int
cmd_run(int argc, char **argv)
{
    const char *path = NULL, *func = NULL;
    const char *fargs[64];
    int nfargs = 0;
    uint64_t fuel = 0, timeout = 0, pages = 0, repeat = 1;
    int all_exports = 0, stats = 0;
    double t0, t_load, t_inst, t_call = 0;
    struct stub *stubs = NULL;
    struct nano_wasm_limits lim;
    struct nano_wasm_module *mod;
    struct nano_wasm_imports *imp;
    struct nano_wasm_instance *inst;
    struct nano_wasm_trap trap;
    uint8_t *bytes;
    int rc, status = 0;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        uint64_t *dst = NULL;
        if (!strcmp(a, "--fuel")) dst = &fuel;
        else if (!strcmp(a, "--timeout-ms")) dst = &timeout;
        else if (!strcmp(a, "--memory-pages")) dst = &pages;
        else if (!strcmp(a, "--repeat")) dst = &repeat;
        if (dst) {
            if (i + 1 >= argc || parse_u64(a, argv[i + 1], dst))
                return 2;
            i++;
            continue;
        }
        if (!strcmp(a, "--stats")) {
            stats = 1;
            continue;
        }
        if (!strcmp(a, "--run-all-exports")) {
            all_exports = 1;
            continue;
        }
        if (!strcmp(a, "--invoke")) {
            if (i + 1 >= argc) {
                fputs(usage, stderr);
                return 2;
            }
            func = argv[++i];
            continue;
        }
        if (!path) {
            path = a;
        } else if (func && nfargs < 64) {
            fargs[nfargs++] = a;
        } else {
            fprintf(stderr, "nano-wasm: unexpected argument \"%s\"\n", a);
            return 2;
        }
    }
    if (!path) {
        fputs(usage, stderr);
        return 2;
    }
    memset(&lim, 0, sizeof lim);
    lim.fuel = fuel;
    lim.timeout_ms = timeout > UINT32_MAX ? UINT32_MAX : (uint32_t)timeout;
    lim.max_memory_pages = pages > 65536 ? 65536 : (uint32_t)pages;
    t0 = now_ms();
    if (load(path, &lim, &bytes, &mod))
        return 1;
    t_load = now_ms() - t0;
    if (!(imp = stub_imports(mod, all_exports, &stubs))) {
        fprintf(stderr, "nano-wasm: out of memory\n");
        return 1;
    }
    t0 = now_ms();
    rc = nano_wasm_instantiate(mod, imp, &lim, &inst, &trap);
    t_inst = now_ms() - t0;
    if (rc) {
        if (rc == NANO_WASM_ETRAP)
            fprintf(stderr, "nano-wasm: %s: trap during instantiation: %s (%s)\n",
                    path, trap.msg, nano_wasm_trap_name(trap.kind));
        else
            fprintf(stderr, "nano-wasm: %s: cannot instantiate: %s\n", path, trap.msg);
        status = 1;
        goto out;
    }
    if (all_exports)
        run_all_exports(inst, mod);
    if (func) {
        struct nano_wasm_func *f = nano_wasm_find_func(inst, func);
        union nano_wasm_val args[64], res[64];
        uint32_t np, nr;
        const uint8_t *pt, *rt;

        if (!f) {
            fprintf(stderr, "nano-wasm: %s: no exported function \"%s\"\n", path, func);
            status = 1;
            goto out;
        }
        nano_wasm_func_type(f, &np, &pt, &nr, &rt);
        if ((uint32_t)nfargs != np || nr > 64) {
            fprintf(stderr, "nano-wasm: %s takes %u argument(s), %d given\n", func, np, nfargs);
            status = 1;
            goto out;
        }
        for (uint32_t i = 0; i < np; i++) {
            if (parse_arg(fargs[i], pt[i], &args[i])) {
                fprintf(stderr, "nano-wasm: argument %u: \"%s\" is not a valid %s\n",
                        i + 1, fargs[i], nano_wasm_type_name((enum nano_wasm_type)pt[i]));
                status = 1;
                goto out;
            }
        }
        t0 = now_ms();
        for (uint64_t r = 0; r < (repeat ? repeat : 1); r++) {
            rc = nano_wasm_call_func(inst, f, args, np, res, nr, &trap);
            if (rc)
                break;
        }
        t_call = now_ms() - t0;
        if (rc == NANO_WASM_ETRAP) {
            fprintf(stderr, "nano-wasm: trap: %s (%s)\n", trap.msg,
                    nano_wasm_trap_name(trap.kind));
            status = 1;
        } else if (rc) {
            fprintf(stderr, "nano-wasm: call failed: %s\n", trap.msg);
            status = 1;
        } else {
            for (uint32_t i = 0; i < nr; i++) {
                if (i)
                    putchar(' ');
                print_val(rt[i], res[i]);
            }
            putchar('\n');
        }
    }
    if (stats)
        fprintf(stderr, "stats: load %.3f ms, instantiate %.3f ms, call %.3f ms, "
                "VmHWM %ld kB\n", t_load, t_inst, t_call, vm_hwm_kb());
out:
    nano_wasm_instance_free(inst);
    nano_wasm_imports_free(imp);
    while (stubs) {
        struct stub *next = stubs->next;
        free(stubs);
        stubs = next;
    }
    nano_wasm_module_free(mod);
    free(bytes);
    return status;
}

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "validate") && argc == 3)
        return cmd_validate(argv[2]);
    if (!strcmp(argv[1], "info") && argc == 3)
        return cmd_info(argv[2]);
    if (!strcmp(argv[1], "dump") && argc == 3) {
        struct nano_wasm_module *mod;
        uint8_t *bytes;
        if (load(argv[2], NULL, &bytes, &mod))
            return 1;
        nano_wasm_module_dump(mod, stdout);
        nano_wasm_module_free(mod);
        free(bytes);
        return 0;
    }
    fputs(usage, stderr);
    return 2;
}
