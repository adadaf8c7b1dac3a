/* SPDX-License-Identifier: MIT
 *
 * ctl_sandbox.c - `nanoctl sandbox ...`: build WebAssembly services and
 * manage them on a running nanod.
 *
 *   sandbox build [--wasm] SRC [-o OUT] [-I DIR]... [--libc|--no-libc]
 *   sandbox load NAME FILE.wasm [--subscribe F]... [--grant-publish F]...
 *                [--grant-read F]... [--grant-pin PIN]... [--fuel N]
 *                [--deadline D] [--memory SIZE] [--queue N] [--max-faults N]
 *                [--fault-window D] [--kv-max BYTES] [--max-publish N]
 *                [--disabled]
 *   sandbox reload NAME FILE.wasm
 *   sandbox list | status NAME | unload NAME | enable NAME | disable NAME
 *
 * build runs the compiler for the source's kind (wabt's wat2wasm for .wat,
 * clang --target=wasm32 for .c) and then checks the result against the
 * host interface with the same code nanod uses (sandbox/abi.c), so a module
 * that builds here loads there.  It needs no daemon.  Everything else is a
 * request to nanod's API (api/h_sandbox.c); the module's bytes travel
 * base64-encoded in the JSON body.
 *
 * Buffers: request bodies and file contents are nano_bufs owned by the
 * command that builds them and freed before it returns.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/ctl.h"
#include "cmd/ctl_cmds.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/err.h"
#include "sandbox/sandbox.h"

#define MODULE_MAX NANO_SANDBOX_MODULE_MAX

/* ---- files ------------------------------------------------------------------------ */

/* Read path into out (at most max bytes).  Prints why and returns an exit
 * code, or 0. */
static int
read_file(const char *path, struct nano_buf *out, size_t max)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;

    if (!f) {
        fprintf(stderr, "nanoctl: cannot open %s: %s\n", path, strerror(errno));
        return EXIT_FAIL;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > max || nano_buf_append(out, chunk, n) != NANO_OK) {
            fprintf(stderr, "nanoctl: %s is larger than the module limit of "
                    "%zu KiB\n", path, max / 1024);
            fclose(f);
            return EXIT_REJECTED;
        }
    }
    fclose(f);
    return 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool
is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* First of names found in $PATH (or an absolute path that exists), into
 * out.  Returns true when found. */
static bool
find_tool(const char *const *names, char *out, size_t cap)
{
    const char *path = getenv("PATH");

    for (; *names; names++) {
        const char *p = path ? path : "/usr/bin:/bin";
        if ((*names)[0] == '/') {
            if (access(*names, X_OK) == 0) {
                snprintf(out, cap, "%s", *names);
                return true;
            }
            continue;
        }
        while (*p) {
            const char *colon = strchr(p, ':');
            size_t len = colon ? (size_t)(colon - p) : strlen(p);
            char cand[4096];

            snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, *names);
            if (len && access(cand, X_OK) == 0) {
                snprintf(out, cap, "%s", cand);
                return true;
            }
            p += len + (colon ? 1 : 0);
        }
    }
    return false;
}

/* Run argv; its stderr goes to errfile when not NULL (else ours).
 * Returns the exit status, or -1 when it could not run. */
static int
run(char *const argv[], const char *errfile)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (errfile && !freopen(errfile, "w", stderr))
            _exit(127);
        execv(argv[0], argv);
        fprintf(stderr, "nanoctl: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
cat_file(const char *path)
{
    struct nano_buf b;

    nano_buf_init(&b, 1u << 20);
    if (read_file(path, &b, 1u << 20) == 0 && b.len)
        fwrite(b.data, 1, b.len, stderr);
    nano_buf_free(&b);
}

/* ---- sandbox build --------------------------------------------------------------------- */

struct build {
    const char *src, *out;
    const char *incs[16];
    int         nincs;
    int         libc;       /* -1 never, 0 when needed, 1 always */
};

/* Cut path at its last '/'.  Returns path. */
static const char *
dirname_of(char *path)
{
    char *slash = strrchr(path, '/');

    if (slash)
        *slash = '\0';
    return path;
}

/* Where nano.h is: $NANO_INCLUDE, beside the source, in the source tree
 * this nanoctl was built in, or where a package installs it. */
static bool
find_header(const char *src, char *out, size_t cap)
{
    const char *env = getenv("NANO_INCLUDE");
    const char *slash = strrchr(src, '/');
    char exe[4096], cand[4200];
    ssize_t n;

    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return true;
    }
    snprintf(cand, sizeof cand, "%.*s%sinclude/nano.h",
             slash ? (int)(slash - src) : 0, src, slash ? "/" : "");
    if (is_file(cand))
        goto found;
    snprintf(cand, sizeof cand, "%.*s%snano.h",
             slash ? (int)(slash - src) : 0, src, slash ? "/" : "");
    if (is_file(cand))
        goto found;
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        /* build/<profile>/nanoctl -> <tree>/examples/include */
        snprintf(cand, sizeof cand, "%s/../../examples/include/nano.h",
                 dirname_of(exe));
        if (is_file(cand))
            goto found;
    }
    snprintf(cand, sizeof cand, "/usr/share/nano/include/nano.h");
    if (is_file(cand))
        goto found;
    return false;
found:
    *strrchr(cand, '/') = '\0';
    snprintf(out, cap, "%s", cand);
    return true;
}

static int
build_wat(const struct build *b)
{
    static const char *const names[] = { "wat2wasm", NULL };
    char tool[4096];
    char *argv[8];
    int rc;

    if (!find_tool(names, tool, sizeof tool)) {
        fprintf(stderr, "nanoctl: wat2wasm not found: install the Debian "
                "package wabt (apt-get install wabt)\n");
        return EXIT_FAIL;
    }
    argv[0] = tool;
    argv[1] = (char *)b->src;
    argv[2] = "-o";
    argv[3] = (char *)b->out;
    argv[4] = NULL;
    rc = run(argv, NULL);
    if (rc < 0)
        return EXIT_FAIL;
    if (rc != 0) {
        fprintf(stderr, "nanoctl: wat2wasm rejected %s\n", b->src);
        return EXIT_REJECTED;
    }
    return 0;
}

/* The wasi-libc sysroot: upstream's layout, or Debian's (headers and
 * libc.a under /usr/{include,lib}/wasm32-wasi, found by clang itself). */
static const char *
wasi_sysroot(bool *found)
{
    *found = true;
    if (is_file("/usr/share/wasi-sysroot/lib/wasm32-wasi/libc.a"))
        return "/usr/share/wasi-sysroot";
    if (is_file("/usr/lib/wasm32-wasi/libc.a"))
        return NULL;
    *found = false;
    return NULL;
}

static int
build_c(const struct build *b)
{
    static const char *const clangs[] = { "clang-14", "clang", NULL };
    static const char *const lds[] = { "wasm-ld-14", "wasm-ld",
                                       "/usr/lib/llvm-14/bin/wasm-ld", NULL };
    char clang[4096], ld[4096], inc[4200], sysroot_arg[300];
    char incflags[16][4300], errfile[64] = "";
    char *argv[64];
    bool have_libc;
    const char *sysroot = wasi_sysroot(&have_libc);
    int n, rc, attempt;

    if (!find_tool(clangs, clang, sizeof clang)) {
        fprintf(stderr, "nanoctl: clang not found: install the Debian packages "
                "clang-14 and lld-14 (apt-get install clang-14 lld-14)\n");
        return EXIT_FAIL;
    }
    if (!find_tool(lds, ld, sizeof ld)) {
        fprintf(stderr, "nanoctl: wasm-ld not found: install the Debian "
                "package lld-14 (apt-get install lld-14)\n");
        return EXIT_FAIL;
    }
    if (b->libc == 1 && !have_libc) {
        fprintf(stderr, "nanoctl: --libc: wasi-libc not found: install the "
                "Debian package wasi-libc (apt-get install wasi-libc)\n");
        return EXIT_FAIL;
    }
    /* First without libc (smaller, no WASI imports); when the link
     * misses symbols and libc is allowed, again with wasi-libc. */
    for (attempt = b->libc == 1 ? 1 : 0; attempt < 2; attempt++) {
        bool libc = attempt == 1;
        n = 0;
        argv[n++] = clang;
        argv[n++] = libc ? "--target=wasm32-wasi" : "--target=wasm32";
        argv[n++] = "-O2";
        /* memcpy/memset the compiler emits become memory.copy/fill
         * instead of calls to a libc that is not there. */
        argv[n++] = "-mbulk-memory";
        if (libc) {
            if (sysroot) {
                snprintf(sysroot_arg, sizeof sysroot_arg, "--sysroot=%s", sysroot);
                argv[n++] = sysroot_arg;
            }
            argv[n++] = "-nostartfiles";
            argv[n++] = "-nodefaultlibs";
        } else {
            argv[n++] = "-nostdlib";
        }
        argv[n++] = "-Wl,--no-entry";
        argv[n++] = "-Wl,--strip-debug";
        for (int i = 0; i < b->nincs; i++) {
            snprintf(incflags[i], sizeof incflags[i], "-I%s", b->incs[i]);
            argv[n++] = incflags[i];
        }
        if (find_header(b->src, inc, sizeof inc)) {
            snprintf(incflags[b->nincs], sizeof incflags[0], "-I%s", inc);
            argv[n++] = incflags[b->nincs];
        }
        argv[n++] = (char *)b->src;
        if (libc)
            argv[n++] = "-lc";
        argv[n++] = "-o";
        argv[n++] = (char *)b->out;
        argv[n] = NULL;

        if (!libc && b->libc == 0) {
            snprintf(errfile, sizeof errfile, "/tmp/nanoctl-build-%d.err",
                     (int)getpid());
            rc = run(argv, errfile);
        } else {
            rc = run(argv, NULL);
        }
        if (rc < 0) {
            if (errfile[0])
                unlink(errfile);
            return EXIT_FAIL;
        }
        if (rc == 0)
            break;
        if (!libc && b->libc == 0) {
            struct nano_buf e;
            bool undefined;
            nano_buf_init(&e, 1u << 20);
            read_file(errfile, &e, 1u << 20);
            undefined = e.data && strstr(e.data, "undefined symbol");
            nano_buf_free(&e);
            if (undefined && have_libc) {
                fprintf(stderr, "nanoctl: %s needs libc; linking with "
                        "wasi-libc\n", b->src);
                unlink(errfile);
                errfile[0] = '\0';
                continue;
            }
            cat_file(errfile);
            unlink(errfile);
            if (undefined)
                fprintf(stderr, "nanoctl: %s calls functions no one defines; "
                        "for libc install the Debian package wasi-libc\n",
                        b->src);
        }
        fprintf(stderr, "nanoctl: clang could not build %s\n", b->src);
        return EXIT_REJECTED;
    }
    if (errfile[0])
        unlink(errfile);
    return 0;
}

static int
cmd_build(int argc, char **argv)
{
    static const struct option o[] = {
        { "wasm", required_argument, NULL, 'w' },
        { "output", required_argument, NULL, 'o' },
        { "include", required_argument, NULL, 'I' },
        { "libc", no_argument, NULL, 'l' },
        { "no-libc", no_argument, NULL, 'L' },
        { NULL, 0, NULL, 0 },
    };
    struct build b = { .libc = 0 };
    struct nano_buf bytes, report;
    struct nano_diag d = { 0 };
    char out[4096];
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "w:o:I:", o, NULL)) != -1) {
        switch (c) {
        case 'w': b.src = optarg; break;
        case 'o': b.out = optarg; break;
        case 'I':
            if (b.nincs == 15)
                return EXIT_USAGE;
            b.incs[b.nincs++] = optarg;
            break;
        case 'l': b.libc = 1; break;
        case 'L': b.libc = -1; break;
        default: return EXIT_USAGE;
        }
    }
    if (!b.src && optind < argc)
        b.src = argv[optind++];
    if (!b.src || optind != argc) {
        fprintf(stderr, "usage: nanoctl sandbox build [--wasm] SOURCE.wat|SOURCE.c "
                "[-o OUT.wasm] [-I DIR]... [--libc|--no-libc]\n");
        return EXIT_USAGE;
    }
    if (!b.out) {
        const char *dot = strrchr(b.src, '.');
        snprintf(out, sizeof out, "%.*s.wasm",
                 dot && !strchr(dot, '/') ? (int)(dot - b.src) : (int)strlen(b.src),
                 b.src);
        b.out = out;
    }
    if (!is_file(b.src)) {
        fprintf(stderr, "nanoctl: cannot open %s: %s\n", b.src,
                access(b.src, F_OK) ? strerror(errno) : "not a regular file");
        return EXIT_FAIL;
    }
    if (ends_with(b.src, ".wat") || ends_with(b.src, ".wast"))
        rc = build_wat(&b);
    else if (ends_with(b.src, ".c"))
        rc = build_c(&b);
    else if (ends_with(b.src, ".wasm"))
        rc = 0;                          /* just check it */
    else {
        fprintf(stderr, "nanoctl: %s: expected a .wat (WebAssembly text) or .c "
                "source\n", b.src);
        return EXIT_USAGE;
    }
    if (rc)
        return rc;
    if (ends_with(b.src, ".wasm"))
        b.out = b.src;

    nano_buf_init(&bytes, MODULE_MAX + 1);
    nano_buf_init(&report, 1u << 16);
    rc = read_file(b.out, &bytes, MODULE_MAX);
    if (rc == 0) {
        int r = nano_sandbox_check((const uint8_t *)(bytes.data ? bytes.data : ""),
                                   bytes.len, &report, &d);
        if (r == NANO_EDISABLED) {
            printf("%s: %zu bytes (not checked: %s)\n", b.out, bytes.len, d.msg);
        } else if (r != NANO_OK) {
            fprintf(stderr, "nanoctl: %s: %s\n", b.out, d.msg);
            rc = EXIT_REJECTED;
        } else {
            printf("%s: ok, %zu bytes\n%s", b.out, bytes.len,
                   report.data ? report.data : "");
        }
    }
    nano_buf_free(&bytes);
    nano_buf_free(&report);
    return rc;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void
target_of(struct nano_buf *t, const char *name, const char *verb)
{
    nano_buf_init(t, 1024);
    nano_buf_puts(t, "/v1/sandbox");
    if (name) {
        nano_buf_putc(t, '/');
        ctl_buf_query_str(t, name);
    }
    if (verb)
        nano_buf_printf(t, "/%s", verb);
}

/* Append "key": the module file's bytes in base64.  Returns an exit code. */
static int
put_wasm(struct nano_buf *body, const char *path)
{
    struct nano_buf bytes;
    int rc;

    nano_buf_init(&bytes, MODULE_MAX + 1);
    rc = read_file(path, &bytes, MODULE_MAX);
    if (rc == 0) {
        nano_buf_puts(body, "\"wasm\":\"");
        if (nano_base64_encode(bytes.data ? bytes.data : "", bytes.len, body)
            != NANO_OK)
            rc = EXIT_FAIL;
        nano_buf_putc(body, '"');
    }
    nano_buf_free(&bytes);
    return rc;
}

static void
put_list(struct nano_buf *b, const char *key, char **v, int n, bool *first)
{
    if (!n)
        return;
    nano_buf_printf(b, "%s\"%s\":[", *first ? "" : ",", key);
    for (int i = 0; i < n; i++) {
        if (i)
            nano_buf_putc(b, ',');
        ctl_buf_json_str(b, v[i]);
    }
    nano_buf_putc(b, ']');
    *first = false;
}

/* A number when the text is all digits, else a string the daemon checks
 * (and names in its error). */
static void
put_scalar(struct nano_buf *b, const char *key, const char *v)
{
    bool digits = *v != '\0';

    for (const char *p = v; *p; p++)
        digits &= *p >= '0' && *p <= '9';
    nano_buf_printf(b, ",\"%s\":", key);
    if (digits && strlen(v) < 16)
        nano_buf_puts(b, v);
    else
        ctl_buf_json_str(b, v);
}

static void
print_summary(const struct nano_cfg_node *r, const char *verb)
{
    const struct nano_cfg_node *subs = nano_cfg_get(r, "subscriptions");

    printf("%s %s (version %s, %s bytes): %s", verb, ctl_str(r, "name", "?"),
           ctl_str(r, "version", "?"), ctl_str(r, "size", "?"),
           ctl_str(r, "state", "?"));
    for (const struct nano_cfg_node *s = subs ? subs->child : NULL; s; s = s->next)
        printf("%s%s", s == subs->child ? ", subscribed to " : " ",
               ctl_str(s, "filter", "?"));
    printf("\n");
}

static int
cmd_load(int argc, char **argv)
{
    static const struct option o[] = {
        { "subscribe", required_argument, NULL, 's' },
        { "grant-publish", required_argument, NULL, 'p' },
        { "grant-read", required_argument, NULL, 'r' },
        { "grant-pin", required_argument, NULL, 'g' },
        { "fuel", required_argument, NULL, 'f' },
        { "deadline", required_argument, NULL, 'd' },
        { "memory", required_argument, NULL, 'm' },
        { "queue", required_argument, NULL, 'q' },
        { "max-faults", required_argument, NULL, 'F' },
        { "fault-window", required_argument, NULL, 'W' },
        { "kv-max", required_argument, NULL, 'k' },
        { "max-publish", required_argument, NULL, 'P' },
        { "disabled", no_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 },
    };
    char *subs[16], *pubs[16], *reads[16], *pins[16];
    int nsubs = 0, npubs = 0, nreads = 0, npins = 0;
    const char *scalars[8][2];
    int nscalars = 0;
    bool disabled = false, first;
    struct nano_buf body, target;
    struct nano_cfg_doc *doc = NULL;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
        char **list = NULL;
        int *count = NULL;
        switch (c) {
        case 's': list = subs; count = &nsubs; break;
        case 'p': list = pubs; count = &npubs; break;
        case 'r': list = reads; count = &nreads; break;
        case 'g': list = pins; count = &npins; break;
        case 'D': disabled = true; continue;
        case 'f': scalars[nscalars][0] = "fuel"; break;
        case 'd': scalars[nscalars][0] = "deadline"; break;
        case 'm': scalars[nscalars][0] = "memory"; break;
        case 'q': scalars[nscalars][0] = "queue"; break;
        case 'F': scalars[nscalars][0] = "max_faults"; break;
        case 'W': scalars[nscalars][0] = "fault_window"; break;
        case 'k': scalars[nscalars][0] = "kv_max"; break;
        case 'P': scalars[nscalars][0] = "max_publish"; break;
        default: return EXIT_USAGE;
        }
        if (list) {
            if (*count == 16) {
                fprintf(stderr, "nanoctl: at most 16 of each --subscribe and "
                        "--grant-*\n");
                return EXIT_USAGE;
            }
            list[(*count)++] = optarg;
        } else {
            if (nscalars == 8)
                return EXIT_USAGE;
            scalars[nscalars++][1] = optarg;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: nanoctl sandbox load NAME FILE.wasm [--subscribe F]... "
                "[--grant-publish F]... [--grant-read F]... [--grant-pin PIN]... "
                "[--fuel N] [--deadline D] [--memory SIZE] [--queue N] "
                "[--max-faults N] [--fault-window D] [--kv-max BYTES] "
                "[--max-publish N] [--disabled]\n");
        return EXIT_USAGE;
    }
    nano_buf_init(&body, 2u * MODULE_MAX);
    nano_buf_puts(&body, "{\"name\":");
    ctl_buf_json_str(&body, argv[optind]);
    nano_buf_putc(&body, ',');
    if ((rc = put_wasm(&body, argv[optind + 1])) != 0) {
        nano_buf_free(&body);
        return rc;
    }
    if (nsubs) {
        nano_buf_putc(&body, ',');
        first = true;
        put_list(&body, "subscribe", subs, nsubs, &first);
    }
    for (int i = 0; i < nscalars; i++)
        put_scalar(&body, scalars[i][0], scalars[i][1]);
    if (npubs || nreads || npins) {
        nano_buf_puts(&body, ",\"grants\":{");
        first = true;
        put_list(&body, "publish", pubs, npubs, &first);
        put_list(&body, "read", reads, nreads, &first);
        put_list(&body, "pins", pins, npins, &first);
        nano_buf_putc(&body, '}');
    }
    if (disabled)
        nano_buf_puts(&body, ",\"enabled\":false");
    nano_buf_putc(&body, '}');
    target_of(&target, NULL, NULL);
    rc = ctl_fetch("POST", target.data, body.data, &doc);
    if (rc == 0 && doc)
        print_summary(nano_cfg_root(doc), "loaded");
    nano_cfg_free(doc);
    nano_buf_free(&target);
    nano_buf_free(&body);
    return rc;
}

static int
cmd_reload(int argc, char **argv)
{
    struct nano_buf body, target;
    struct nano_cfg_doc *doc = NULL;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: nanoctl sandbox reload NAME FILE.wasm\n");
        return EXIT_USAGE;
    }
    nano_buf_init(&body, 2u * MODULE_MAX);
    nano_buf_putc(&body, '{');
    if ((rc = put_wasm(&body, argv[2])) != 0) {
        nano_buf_free(&body);
        return rc;
    }
    nano_buf_putc(&body, '}');
    target_of(&target, argv[1], "reload");
    rc = ctl_fetch("POST", target.data, body.data, &doc);
    if (rc == 0 && doc)
        print_summary(nano_cfg_root(doc), "reloaded");
    nano_cfg_free(doc);
    nano_buf_free(&target);
    nano_buf_free(&body);
    return rc;
}

static int
action(const char *method, const char *name, const char *verb)
{
    struct nano_buf target;
    struct nano_cfg_doc *doc = NULL;
    int rc;

    target_of(&target, name, verb);
    rc = ctl_fetch(method, target.data, NULL, &doc);
    if (rc == 0 && doc)
        printf("%s: %s\n", name, ctl_str(nano_cfg_root(doc), "result", "ok"));
    nano_cfg_free(doc);
    nano_buf_free(&target);
    return rc;
}

/* ---- views ------------------------------------------------------------------------------------ */

static const char *
traps_text(const struct nano_cfg_node *traps, char *out, size_t cap)
{
    size_t l = 0;

    out[0] = '\0';
    for (const struct nano_cfg_node *t = traps ? traps->child : NULL;
         t && l < cap; t = t->next)
        l += (size_t)snprintf(out + l, cap - l, "%s%s %s", l ? ", " : "",
                              t->key, t->str);
    if (!l)
        snprintf(out, cap, "none");
    return out;
}

static int
cmd_list(void)
{
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *list;
    char traps[256];
    int rc;

    if ((rc = ctl_fetch("GET", "/v1/sandbox", NULL, &doc)) || !doc)
        return rc;
    list = nano_cfg_root(doc);
    if (!list->count)
        printf("(no modules; see nanoctl sandbox load)\n");
    else
        printf("%-16s %-11s %-9s %4s %9s %7s %8s  %s\n", "MODULE", "STATE",
               "ORIGIN", "VER", "CALLS", "FAULTS", "DROPPED", "TRAPS / LAST ERROR");
    for (const struct nano_cfg_node *m = list->child; m; m = m->next) {
        const char *err = ctl_str(m, "last_error", NULL);
        traps_text(nano_cfg_get(m, "traps"), traps, sizeof traps);
        printf("%-16s %-11s %-9s %4s %9s %7s %8s  %s%s%s\n", ctl_str(m, "name", "?"),
               ctl_str(m, "state", "?"), ctl_str(m, "origin", "?"),
               ctl_str(m, "version", "0"), ctl_str(m, "calls", "0"),
               ctl_str(m, "faults", "0"), ctl_str(m, "dropped", "0"),
               strcmp(traps, "none") ? traps : "", err && strcmp(traps, "none")
               ? "; " : "", err ? err : "");
    }
    nano_cfg_free(doc);
    return 0;
}

static void
print_strs(const struct nano_cfg_node *list)
{
    if (!list || !list->count) {
        printf("-");
        return;
    }
    for (const struct nano_cfg_node *s = list->child; s; s = s->next)
        printf("%s%s", s == list->child ? "" : " ", s->str);
}

static int
cmd_status(const char *name)
{
    struct nano_buf target;
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *r, *subs, *g, *lim, *kv;
    char traps[256], mem[32], used[32];
    int rc;

    target_of(&target, name, NULL);
    rc = ctl_fetch("GET", target.data, NULL, &doc);
    nano_buf_free(&target);
    if (rc || !doc)
        return rc;
    r = nano_cfg_root(doc);
    subs = nano_cfg_get(r, "subscriptions");
    g = nano_cfg_get(r, "grants");
    lim = nano_cfg_get(r, "limits");
    kv = nano_cfg_get(r, "kv");
    printf("%s: %s\n", ctl_str(r, "name", "?"), ctl_str(r, "state", "?"));
    printf("  origin         %s, version %s", ctl_str(r, "origin", "?"),
           ctl_str(r, "version", "0"));
    if (nano_cfg_get(r, "size"))
        printf(", %s bytes, crc32 %s, memory %s", ctl_str(r, "size", "?"),
               ctl_str(r, "crc32", "?"),
               ctl_bytes_text(ctl_num(r, "memory_used"), used, sizeof used));
    printf("\n  subscriptions ");
    if (!subs || !subs->count)
        printf(" -");
    for (const struct nano_cfg_node *s = subs ? subs->child : NULL; s; s = s->next)
        printf(" %s (queued %s/%s, delivered %s, overflow %s)%s",
               ctl_str(s, "filter", "?"), ctl_str(s, "queued", "0"),
               ctl_str(s, "queue", "0"), ctl_str(s, "delivered", "0"),
               ctl_str(s, "overflow", "0"), s->next ? "," : "");
    printf("\n  grants         publish ");
    print_strs(nano_cfg_get(g, "publish"));
    printf("; read ");
    print_strs(nano_cfg_get(g, "read"));
    printf("; pins ");
    print_strs(nano_cfg_get(g, "pins"));
    printf("\n  limits         fuel %s, deadline %sms, memory %s, %s faults in "
           "%ss quarantine\n", ctl_str(lim, "fuel", "?"),
           ctl_str(lim, "deadline_ms", "?"),
           ctl_bytes_text(ctl_num(lim, "memory"), mem, sizeof mem),
           ctl_str(lim, "max_faults", "?"), ctl_str(lim, "fault_window_s", "?"));
    printf("  calls          %s (fuel used %s, last call %s), published %s, "
           "denied %s, dropped %s\n", ctl_str(r, "calls", "0"),
           ctl_str(r, "fuel_used", "0"), ctl_str(r, "fuel_last", "0"),
           ctl_str(r, "published", "0"), ctl_str(r, "denied", "0"),
           ctl_str(r, "dropped", "0"));
    printf("  faults         %s (traps: %s), quarantined %s times\n",
           ctl_str(r, "faults", "0"),
           traps_text(nano_cfg_get(r, "traps"), traps, sizeof traps),
           ctl_str(r, "quarantines", "0"));
    printf("  kv             %s keys, %s bytes\n", ctl_str(kv, "keys", "0"),
           ctl_str(kv, "bytes", "0"));
    printf("  last error     %s\n", ctl_str(r, "last_error", "-"));
    nano_cfg_free(doc);
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------------ */

int
ctl_cmd_sandbox(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";

    if (!strcmp(sub, "build"))
        return cmd_build(argc - 1, argv + 1);
    if (!strcmp(sub, "load"))
        return cmd_load(argc - 1, argv + 1);
    if (!strcmp(sub, "reload"))
        return cmd_reload(argc - 1, argv + 1);
    if (!strcmp(sub, "list") && argc == 2)
        return cmd_list();
    if (!strcmp(sub, "status") && argc == 3)
        return cmd_status(argv[2]);
    if (!strcmp(sub, "unload") && argc == 3)
        return action("DELETE", argv[2], NULL);
    if ((!strcmp(sub, "enable") || !strcmp(sub, "disable")) && argc == 3)
        return action("POST", argv[2], sub);
    fprintf(stderr,
        "usage: nanoctl sandbox build [--wasm] SOURCE.wat|SOURCE.c [-o OUT.wasm] "
        "[-I DIR]... [--libc|--no-libc]\n"
        "       nanoctl sandbox load NAME FILE.wasm --subscribe FILTER... "
        "[--grant-publish F]... [--grant-read F]...\n"
        "               [--grant-pin PIN]... [--fuel N] [--deadline D] "
        "[--memory SIZE] [--queue N] [--max-faults N]\n"
        "               [--fault-window D] [--kv-max BYTES] [--max-publish N] "
        "[--disabled]\n"
        "       nanoctl sandbox reload NAME FILE.wasm\n"
        "       nanoctl sandbox list\n"
        "       nanoctl sandbox status|unload|enable|disable NAME\n");
    return EXIT_USAGE;
}
