/* SPDX-License-Identifier: MIT
 *
 * wasm_spec.c - WebAssembly core spec conformance runner.
 *
 *     wasm_spec --suite ../shared/wasm-spec [--only SUBSTRING] [-v]
 *
 * Runs the wast2json command lists of the suite (see its README.md):
 * core-1.0 under strict 1.0 rules (every 2.0 feature off), then the
 * core-2.0-features groups mvp-revised, sign-extension,
 * nontrapping-float-to-int, multi-value, bulk-memory and reference-types
 * with all features on (SIMD is not implemented and not run).  Prints one
 * line per JSON file, the failing commands under a failing file, a summary
 * per group, and last "wasm-spec: N passed, N failed", N counting
 * assertion commands.  Text-format modules (assert_malformed / _invalid
 * with module_type "text") need a .wat parser, which a binary-only engine
 * does not have: they are counted as skipped, not passed.
 *
 * Links only the wasm library; the JSON reader below handles exactly what
 * wast2json writes (objects, arrays, strings with \uXXXX escapes, numbers,
 * literals).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

/* ---- a small JSON reader ---------------------------------------------------- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    int type;
    char *str;              /* J_STR (NUL-terminated, may contain NULs) */
    size_t len;
    double num;
    char *key;              /* member name when inside an object */
    struct jv *kids;        /* J_ARR / J_OBJ: first child */
    struct jv *next;        /* next sibling */
};

struct jp {
    const char *p, *end;
    int err;
};

static void
jfree(struct jv *v)
{
    while (v) {
        struct jv *next = v->next;
        jfree(v->kids);
        free(v->str);
        free(v->key);
        free(v);
        v = next;
    }
}

static void
jws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static void
put_utf8(char **o, unsigned cp)
{
    char *s = *o;

    if (cp < 0x80) {
        *s++ = (char)cp;
    } else if (cp < 0x800) {
        *s++ = (char)(0xc0 | cp >> 6);
        *s++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *s++ = (char)(0xe0 | cp >> 12);
        *s++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *s++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *s++ = (char)(0xf0 | cp >> 18);
        *s++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *s++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *s++ = (char)(0x80 | (cp & 0x3f));
    }
    *o = s;
}

static unsigned
hex4(const char *p)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    }
    return v;
}

static char *
jstring(struct jp *j, size_t *len)
{
    const char *s;
    char *out, *o;

    if (j->p >= j->end || *j->p != '"') {
        j->err = 1;
        return NULL;
    }
    s = ++j->p;
    while (j->p < j->end && *j->p != '"')
        j->p += (*j->p == '\\') ? 2 : 1;
    if (j->p >= j->end) {
        j->err = 1;
        return NULL;
    }
    out = o = malloc((size_t)(j->p - s) * 2 + 1);
    if (!out) {
        j->err = 1;
        return NULL;
    }
    while (s < j->p) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        switch (*s) {
        case 'n': *o++ = '\n'; s++; break;
        case 't': *o++ = '\t'; s++; break;
        case 'r': *o++ = '\r'; s++; break;
        case 'b': *o++ = '\b'; s++; break;
        case 'f': *o++ = '\f'; s++; break;
        case 'u': {
            unsigned cp = hex4(s + 1);
            s += 5;
            if (cp >= 0xd800 && cp < 0xdc00 && s[0] == '\\' && s[1] == 'u') {
                unsigned lo = hex4(s + 2);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;
            }
            put_utf8(&o, cp);
            break;
        }
        default: *o++ = *s++; break;
        }
    }
    j->p++;
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

static struct jv *jvalue(struct jp *j);

static struct jv *
jnew(int type)
{
    struct jv *v = calloc(1, sizeof *v);

    if (v)
        v->type = type;
    return v;
}

static struct jv *
jvalue(struct jp *j)
{
    struct jv *v = NULL, **tail;

    jws(j);
    if (j->p >= j->end) {
        j->err = 1;
        return NULL;
    }
    switch (*j->p) {
    case '{':
    case '[': {
        char close = *j->p == '{' ? '}' : ']';
        bool obj = close == '}';
        v = jnew(obj ? J_OBJ : J_ARR);
        if (!v) {
            j->err = 1;
            return NULL;
        }
        j->p++;
        tail = &v->kids;
        jws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            size_t klen;
            struct jv *kid;
            jws(j);
            if (obj) {
                key = jstring(j, &klen);
                jws(j);
                if (j->err || j->p >= j->end || *j->p != ':') {
                    free(key);
                    j->err = 1;
                    return v;
                }
                j->p++;
            }
            kid = jvalue(j);
            if (!kid) {
                free(key);
                j->err = 1;
                return v;
            }
            kid->key = key;
            *tail = kid;
            tail = &kid->next;
            jws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == close) {
                j->p++;
                return v;
            }
            j->err = 1;
            return v;
        }
    }
    case '"':
        v = jnew(J_STR);
        if (v)
            v->str = jstring(j, &v->len);
        return v;
    case 't': case 'f': case 'n':
        v = jnew(*j->p == 'n' ? J_NULL : J_BOOL);
        if (v)
            v->num = *j->p == 't';
        while (j->p < j->end && *j->p >= 'a' && *j->p <= 'z')
            j->p++;
        return v;
    default: {
        char *e;
        v = jnew(J_NUM);
        if (v)
            v->num = strtod(j->p, &e);
        else
            e = (char *)j->p + 1;
        if (e == j->p)
            j->err = 1;
        j->p = e;
        return v;
    }
    }
}

static struct jv *
jget(const struct jv *o, const char *key)
{
    if (!o || o->type != J_OBJ)
        return NULL;
    for (struct jv *k = o->kids; k; k = k->next)
        if (k->key && strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

static const char *
jstr(const struct jv *o, const char *key)
{
    struct jv *v = jget(o, key);

    return v && v->type == J_STR ? v->str : NULL;
}

/* ---- the spectest module and runner state --------------------------------------- */

static int
host_print(struct nano_wasm_call_ctx *ctx, const union nano_wasm_val *args,
           union nano_wasm_val *results, void *user)
{
    (void)ctx; (void)args; (void)results; (void)user;
    return 0;
}

struct named {
    char *name;
    struct nano_wasm_instance *inst;
};

struct file_state {
    const char *dir;
    bool mvp;                       /* 1.0 rules */
    struct nano_wasm_imports *imp;
    struct nano_wasm_instance *cur;
    struct named names[64];
    int nnames;
    struct nano_wasm_instance **all;   /* every instance, freed at the end */
    int nall, capall;
    struct nano_wasm_module **mods;
    int nmods, capmods;
    uint8_t **bufs;
    int nbufs, capbufs;
    int passed, failed, skipped;
    bool bad;                       /* a non-assertion command failed */
    char *report;                   /* failing command lines */
    size_t report_len;
    bool verbose;
};

static void
note(struct file_state *fs, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note(struct file_state *fs, int line, const char *fmt, ...)
{
    char msg[512];
    int n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fs->report_len > 16000)
        return;
    n = snprintf(NULL, 0, "      line %d: %s\n", line, msg);
    char *r = realloc(fs->report, fs->report_len + (size_t)n + 1);
    if (!r)
        return;
    fs->report = r;
    snprintf(fs->report + fs->report_len, (size_t)n + 1, "      line %d: %s\n", line, msg);
    fs->report_len += (size_t)n;
}

static void *
grow(void *arr, int *cap, int n, size_t elem)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 16;
    return realloc(arr, (size_t)*cap * elem);
}

static void
keep_inst(struct file_state *fs, struct nano_wasm_instance *inst)
{
    void *p = grow(fs->all, &fs->capall, fs->nall, sizeof *fs->all);

    if (!p)
        abort();
    fs->all = p;
    fs->all[fs->nall++] = inst;
}

static struct nano_wasm_imports *
spectest_imports(void)
{
    struct nano_wasm_imports *imp = nano_wasm_imports_new();
    union nano_wasm_val v;

    if (!imp)
        return NULL;
    nano_wasm_imports_add_func(imp, "spectest", "print", "()", host_print, NULL);
    nano_wasm_imports_add_func(imp, "spectest", "print_i32", "(i)", host_print, NULL);
    nano_wasm_imports_add_func(imp, "spectest", "print_i64", "(I)", host_print, NULL);
    nano_wasm_imports_add_func(imp, "spectest", "print_f32", "(f)", host_print, NULL);
    nano_wasm_imports_add_func(imp, "spectest", "print_f64", "(F)", host_print, NULL);
    nano_wasm_imports_add_func(imp, "spectest", "print_i32_f32", "(if)", host_print, NULL);
    nano_wasm_imports_add_func(imp, "spectest", "print_f64_f64", "(FF)", host_print, NULL);
    v.u64 = 0;
    v.i32 = 666;
    nano_wasm_imports_add_global(imp, "spectest", "global_i32", NANO_WASM_I32, 0, v);
    v.i64 = 666;
    nano_wasm_imports_add_global(imp, "spectest", "global_i64", NANO_WASM_I64, 0, v);
    v.u64 = 0;
    v.f32 = 666.6f;
    nano_wasm_imports_add_global(imp, "spectest", "global_f32", NANO_WASM_F32, 0, v);
    v.f64 = 666.6;
    nano_wasm_imports_add_global(imp, "spectest", "global_f64", NANO_WASM_F64, 0, v);
    nano_wasm_imports_add_table(imp, "spectest", "table", NANO_WASM_FUNCREF, 10, 20);
    nano_wasm_imports_add_memory(imp, "spectest", "memory", 1, 2);
    return imp;
}

static struct nano_wasm_limits
spec_limits(bool mvp)
{
    struct nano_wasm_limits lim;

    memset(&lim, 0, sizeof lim);
    lim.max_memory_pages = 65536;
    lim.max_table_size = 10000000;
    lim.max_call_depth = 2000;
    lim.stack_bytes = 4u << 20;
    lim.features_off = mvp ? NANO_WASM_FEAT_ALL : 0;
    return lim;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Load a module file; the bytes must outlive the module (kept). */
static int
load(struct file_state *fs, const char *file, struct nano_wasm_module **mod,
     struct nano_wasm_error *err)
{
    char path[4096];
    size_t len = 0;
    uint8_t *bytes;
    struct nano_wasm_limits lim = spec_limits(fs->mvp);
    int rc;
    void *p;

    snprintf(path, sizeof path, "%s/%s", fs->dir, file);
    if (!(bytes = read_file(path, &len))) {
        snprintf(err->msg, sizeof err->msg, "cannot read %.100s", file);
        return -EIO;
    }
    if (!(p = grow(fs->bufs, &fs->capbufs, fs->nbufs, sizeof *fs->bufs)))
        abort();
    fs->bufs = p;
    fs->bufs[fs->nbufs++] = bytes;
    rc = nano_wasm_module_load(bytes, len, &lim, mod, err);
    if (rc == 0) {
        if (!(p = grow(fs->mods, &fs->capmods, fs->nmods, sizeof *fs->mods)))
            abort();
        fs->mods = p;
        fs->mods[fs->nmods++] = *mod;
    }
    return rc;
}

static struct nano_wasm_instance *
find_inst(struct file_state *fs, const char *name)
{
    if (!name)
        return fs->cur;
    for (int i = fs->nnames; i-- > 0;)
        if (strcmp(fs->names[i].name, name) == 0)
            return fs->names[i].inst;
    return NULL;
}

static void
set_name(struct file_state *fs, const char *name, struct nano_wasm_instance *inst)
{
    if (!name || fs->nnames == (int)(sizeof fs->names / sizeof fs->names[0]))
        return;
    fs->names[fs->nnames].name = strdup(name);
    fs->names[fs->nnames].inst = inst;
    fs->nnames++;
}

/* ---- values ------------------------------------------------------------------------ */

static uint8_t
type_code(const char *t)
{
    if (!t) return 0;
    if (!strcmp(t, "i32")) return NANO_WASM_I32;
    if (!strcmp(t, "i64")) return NANO_WASM_I64;
    if (!strcmp(t, "f32")) return NANO_WASM_F32;
    if (!strcmp(t, "f64")) return NANO_WASM_F64;
    if (!strcmp(t, "externref")) return NANO_WASM_EXTERNREF;
    if (!strcmp(t, "funcref")) return NANO_WASM_FUNCREF;
    return 0;
}

/* externref k is the opaque pointer k + 1, so ref.extern 0 is not null */
static void *
extern_ref(unsigned long long id)
{
    return (void *)(uintptr_t)(id + 1);
}

static int
parse_val(const struct jv *jvv, union nano_wasm_val *out)
{
    const char *t = jstr(jvv, "type"), *s = jstr(jvv, "value");
    uint8_t tc = type_code(t);

    out->u64 = 0;
    if (!tc || !s)
        return -1;
    switch (tc) {
    case NANO_WASM_I32: case NANO_WASM_F32:
        out->u32 = (uint32_t)strtoull(s, NULL, 10);
        return 0;
    case NANO_WASM_I64: case NANO_WASM_F64:
        out->u64 = strtoull(s, NULL, 10);
        return 0;
    case NANO_WASM_EXTERNREF:
    case NANO_WASM_FUNCREF:
        out->ref = strcmp(s, "null") == 0 ? NULL : extern_ref(strtoull(s, NULL, 10));
        return 0;
    }
    return -1;
}

static bool
val_matches(const struct jv *exp, union nano_wasm_val got, char *desc, size_t cap)
{
    const char *t = jstr(exp, "type"), *s = jstr(exp, "value");
    uint8_t tc = type_code(t);

    switch (tc) {
    case NANO_WASM_I32:
        snprintf(desc, cap, "i32 %u (expected %s)", got.u32, s ? s : "?");
        return s && got.u32 == (uint32_t)strtoull(s, NULL, 10);
    case NANO_WASM_I64:
        snprintf(desc, cap, "i64 %llu (expected %s)", (unsigned long long)got.u64, s ? s : "?");
        return s && got.u64 == strtoull(s, NULL, 10);
    case NANO_WASM_F32:
        snprintf(desc, cap, "f32 bits %u (expected %s)", got.u32, s ? s : "?");
        if (!s)
            return false;
        if (!strcmp(s, "nan:canonical"))
            return (got.u32 & 0x7fffffffu) == 0x7fc00000u;
        if (!strcmp(s, "nan:arithmetic"))
            return (got.u32 & 0x7fc00000u) == 0x7fc00000u;
        return got.u32 == (uint32_t)strtoull(s, NULL, 10);
    case NANO_WASM_F64:
        snprintf(desc, cap, "f64 bits %llu (expected %s)", (unsigned long long)got.u64, s ? s : "?");
        if (!s)
            return false;
        if (!strcmp(s, "nan:canonical"))
            return (got.u64 & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        if (!strcmp(s, "nan:arithmetic"))
            return (got.u64 & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
        return got.u64 == strtoull(s, NULL, 10);
    case NANO_WASM_EXTERNREF:
        snprintf(desc, cap, "externref %p (expected %s)", got.ref, s ? s : "?");
        if (!s)
            return got.ref != NULL;
        if (!strcmp(s, "null"))
            return got.ref == NULL;
        return got.ref == extern_ref(strtoull(s, NULL, 10));
    case NANO_WASM_FUNCREF:
        snprintf(desc, cap, "funcref %p (expected %s)", got.ref, s ? s : "non-null");
        if (!s)
            return got.ref != NULL;
        if (!strcmp(s, "null"))
            return got.ref == NULL;
        return false;
    }
    snprintf(desc, cap, "unsupported type %s", t ? t : "?");
    return false;
}

/* ---- commands ------------------------------------------------------------------------ */

#define MAXV 64

/* Perform an action.  Returns 0 (results filled), NANO_WASM_ETRAP, or
 * another negative code with msg set. */
static int
do_action(struct file_state *fs, const struct jv *act, union nano_wasm_val *res,
          size_t *nres, struct nano_wasm_trap *trap)
{
    const char *type = jstr(act, "type"), *field = jstr(act, "field");
    const struct jv *fieldv = jget(act, "field");
    struct nano_wasm_instance *inst = find_inst(fs, jstr(act, "module"));

    *nres = 0;
    trap->kind = NANO_WASM_TRAP_NONE;
    trap->msg[0] = '\0';
    if (!inst) {
        snprintf(trap->msg, sizeof trap->msg, "no module instance");
        return -ENOENT;
    }
    if (!type || !field)
        return -EINVAL;
    if (!strcmp(type, "get")) {
        uint8_t t;
        if (nano_wasm_global_get(inst, field, fieldv->len, &res[0], &t)) {
            snprintf(trap->msg, sizeof trap->msg, "no global %s", field);
            return -ENOENT;
        }
        *nres = 1;
        return 0;
    }
    if (strcmp(type, "invoke") != 0)
        return -EINVAL;
    struct nano_wasm_func *f = nano_wasm_find_func_n(inst, field, fieldv->len);
    union nano_wasm_val args[MAXV];
    size_t nargs = 0;
    uint32_t nr;
    if (!f) {
        snprintf(trap->msg, sizeof trap->msg, "no function %s", field);
        return -ENOENT;
    }
    for (const struct jv *a = jget(act, "args") ? jget(act, "args")->kids : NULL;
         a && nargs < MAXV; a = a->next)
        if (parse_val(a, &args[nargs++]))
            return -EINVAL;
    nano_wasm_func_type(f, NULL, NULL, &nr, NULL);
    if (nr > MAXV)
        return -E2BIG;
    *nres = nr;
    return nano_wasm_call_func(inst, f, args, nargs, res, nr, trap);
}

static void
count(struct file_state *fs, bool ok, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
count(struct file_state *fs, bool ok, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    if (ok) {
        fs->passed++;
        return;
    }
    fs->failed++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    note(fs, line, "%s", msg);
}

static void
run_command(struct file_state *fs, const struct jv *cmd)
{
    const char *type = jstr(cmd, "type");
    struct jv *linev = jget(cmd, "line");
    int line = linev ? (int)linev->num : 0;
    struct nano_wasm_error err;
    struct nano_wasm_trap trap;
    struct nano_wasm_module *mod;
    struct nano_wasm_instance *inst;
    struct nano_wasm_limits lim = spec_limits(fs->mvp);
    union nano_wasm_val res[MAXV];
    size_t nres;
    int rc;

    if (!type)
        return;
    if (!strcmp(type, "module")) {
        fs->cur = NULL;
        rc = load(fs, jstr(cmd, "filename"), &mod, &err);
        if (rc) {
            fs->bad = true;
            note(fs, line, "module: load failed: %s (offset %zu)", err.msg, err.offset);
            return;
        }
        rc = nano_wasm_instantiate(mod, fs->imp, &lim, &inst, &trap);
        if (inst)
            keep_inst(fs, inst);
        if (rc) {
            fs->bad = true;
            note(fs, line, "module: instantiate failed: %s", trap.msg);
            return;
        }
        fs->cur = inst;
        set_name(fs, jstr(cmd, "name"), inst);
        return;
    }
    if (!strcmp(type, "register")) {
        inst = find_inst(fs, jstr(cmd, "name"));
        if (!inst || nano_wasm_imports_add_instance(fs->imp, jstr(cmd, "as"), inst)) {
            fs->bad = true;
            note(fs, line, "register: no instance");
        }
        return;
    }
    if (!strcmp(type, "action")) {
        rc = do_action(fs, jget(cmd, "action"), res, &nres, &trap);
        if (rc) {
            fs->bad = true;
            note(fs, line, "action failed: %s", trap.msg);
        }
        return;
    }
    if (!strcmp(type, "assert_return")) {
        const struct jv *exp = jget(cmd, "expected");
        rc = do_action(fs, jget(cmd, "action"), res, &nres, &trap);
        if (rc) {
            count(fs, false, line, "assert_return: %s (%d)", trap.msg, rc);
            return;
        }
        size_t i = 0;
        bool ok = true;
        char desc[200] = "";
        for (const struct jv *e = exp ? exp->kids : NULL; e; e = e->next, i++) {
            if (i >= nres || !val_matches(e, res[i], desc, sizeof desc)) {
                ok = false;
                break;
            }
        }
        if (i != nres)
            ok = false;
        count(fs, ok, line, "assert_return: result %zu: %s", i, desc);
        return;
    }
    if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
        bool exh = type[7] == 'e';
        rc = do_action(fs, jget(cmd, "action"), res, &nres, &trap);
        bool ok = rc == NANO_WASM_ETRAP &&
                  (!exh || trap.kind == NANO_WASM_TRAP_STACK_EXHAUSTED);
        count(fs, ok, line, "%s: expected \"%s\", got rc %d %s", type,
              jstr(cmd, "text") ? jstr(cmd, "text") : "", rc, trap.msg);
        if (ok && fs->verbose && strcmp(jstr(cmd, "text") ? jstr(cmd, "text") : "", trap.msg))
            fprintf(stderr, "note: line %d: trap \"%s\" for \"%s\"\n", line, trap.msg,
                    jstr(cmd, "text"));
        return;
    }
    if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed")) {
        const char *mt = jstr(cmd, "module_type");
        if (mt && !strcmp(mt, "text")) {
            fs->skipped++;
            return;
        }
        rc = load(fs, jstr(cmd, "filename"), &mod, &err);
        count(fs, rc != 0, line, "%s: module accepted (expected \"%s\")", type,
              jstr(cmd, "text") ? jstr(cmd, "text") : "");
        if (rc && fs->verbose)
            fprintf(stderr, "note: line %d: \"%s\" for \"%s\"\n", line, err.msg,
                    jstr(cmd, "text"));
        return;
    }
    if (!strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable")) {
        bool unlink = type[7] == 'u' && type[9] == 'l';
        rc = load(fs, jstr(cmd, "filename"), &mod, &err);
        if (rc) {
            count(fs, false, line, "%s: load failed: %s", type, err.msg);
            return;
        }
        rc = nano_wasm_instantiate(mod, fs->imp, &lim, &inst, &trap);
        if (inst)
            keep_inst(fs, inst);
        bool ok = unlink ? (rc != 0 && rc != NANO_WASM_ETRAP) : rc == NANO_WASM_ETRAP;
        count(fs, ok, line, "%s: expected \"%s\", got rc %d %s", type,
              jstr(cmd, "text") ? jstr(cmd, "text") : "", rc, trap.msg);
        return;
    }
    note(fs, line, "unknown command %s", type);
    fs->bad = true;
}

struct totals {
    int passed, failed, skipped, files, files_failed;
};

static void
run_file(const char *dir, const char *name, const char *label, bool mvp, bool verbose,
         struct totals *t)
{
    char path[8192];
    size_t len;
    char *text;
    struct jp jp;
    struct jv *root;
    struct file_state fs;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    text = (char *)read_file(path, &len);
    if (!text) {
        printf("  FAIL  %s/%s  (cannot read)\n", label, name);
        t->failed++;
        t->files_failed++;
        return;
    }
    jp.p = text;
    jp.end = text + len;
    jp.err = 0;
    root = jvalue(&jp);
    if (jp.err || !root) {
        printf("  FAIL  %s/%s  (bad JSON)\n", label, name);
        jfree(root);
        free(text);
        t->failed++;
        t->files_failed++;
        return;
    }
    memset(&fs, 0, sizeof fs);
    fs.dir = dir;
    fs.mvp = mvp;
    fs.verbose = verbose;
    fs.imp = spectest_imports();
    for (const struct jv *c = jget(root, "commands") ? jget(root, "commands")->kids : NULL;
         c; c = c->next)
        run_command(&fs, c);

    int total = fs.passed + fs.failed;
    bool ok = fs.failed == 0 && !fs.bad;
    printf("  %s  %s/%s  (%d/%d)", ok ? "ok  " : "FAIL", label, name, fs.passed, total);
    if (fs.skipped)
        printf("  [%d text-format skipped]", fs.skipped);
    printf("\n");
    if (!ok && fs.report)
        fputs(fs.report, stdout);
    t->passed += fs.passed;
    t->failed += fs.failed;
    t->skipped += fs.skipped;
    t->files++;
    if (!ok)
        t->files_failed++;

    nano_wasm_imports_free(fs.imp);
    for (int i = 0; i < fs.nall; i++)
        nano_wasm_instance_free(fs.all[i]);
    for (int i = 0; i < fs.nmods; i++)
        nano_wasm_module_free(fs.mods[i]);
    for (int i = 0; i < fs.nbufs; i++)
        free(fs.bufs[i]);
    for (int i = 0; i < fs.nnames; i++)
        free(fs.names[i].name);
    free(fs.all);
    free(fs.mods);
    free(fs.bufs);
    free(fs.report);
    jfree(root);
    free(text);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_group(const char *suite, const char *group, bool mvp, const char *only,
          bool verbose, struct totals *all)
{
    char dir[4096 + 64];
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    int n = 0, cap = 0;
    struct totals t = { 0, 0, 0, 0, 0 };

    snprintf(dir, sizeof dir, "%s/%s", suite, group);
    if (!(d = opendir(dir))) {
        printf("  FAIL  %s  (missing)\n", group);
        all->failed++;
        return;
    }
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (only && !strstr(de->d_name, only) && !strstr(group, only))
            continue;
        void *p = grow(names, &cap, n, sizeof *names);
        if (!p)
            abort();
        names = p;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        run_file(dir, names[i], group, mvp, verbose, &t);
        free(names[i]);
    }
    free(names);
    if (n)
        printf("  group %s: %d files (%d failing), %d assertions passed, %d failed, "
               "%d skipped (text format)\n", group, t.files, t.files_failed,
               t.passed, t.failed, t.skipped);
    all->passed += t.passed;
    all->failed += t.failed;
    all->skipped += t.skipped;
    all->files += t.files;
    all->files_failed += t.files_failed;
}

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
    static const char *const groups2[] = {
        "mvp-revised", "sign-extension", "nontrapping-float-to-int",
        "multi-value", "bulk-memory", "reference-types",
    };
    const char *suite = NULL, *only = NULL;
    bool verbose = false;
    struct totals all = { 0, 0, 0, 0, 0 };
    char path[4096];
    DIR *d;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--suite") && i + 1 < argc)
            suite = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            verbose = true;
        else {
            fprintf(stderr, "usage: %s --suite DIR [--only SUBSTRING] [-v]\n", argv[0]);
            return 2;
        }
    }
    if (!suite)
        suite = "../shared/wasm-spec";
    if (!(d = opendir(suite))) {
        printf("skip: spec suite %s not found; nothing run\n", suite);
        printf("wasm-spec: 0 passed, 0 failed\n");
        return 0;
    }
    closedir(d);

    run_group(suite, "core-1.0", true, only, verbose, &all);
    for (size_t i = 0; i < sizeof groups2 / sizeof groups2[0]; i++) {
        snprintf(path, sizeof path, "core-2.0-features/%s", groups2[i]);
        run_group(suite, path, false, only, verbose, &all);
    }
    printf("wasm-spec: %d files, %d failing; %d text-format assertions skipped "
           "(see docs/wasm-conformance.md)\n", all.files, all.files_failed, all.skipped);
    printf("wasm-spec: %d passed, %d failed\n", all.passed, all.failed);
    return all.failed || all.files_failed ? 1 : 0;
}
