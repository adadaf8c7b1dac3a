/* SPDX-License-Identifier: MIT
 *
 * cfg_schema.c - table-driven validation of a configuration tree.
 *
 * A schema is a tree of const struct nano_cfg_field rows (cfg.h): maps list
 * their keys, dicts and lists describe one element, leaves name a type and
 * its range or choices.  Drivers and modules declare their parameters the
 * same way, so the daemon, `nanoctl config check` and the API all give the
 * same message for the same mistake.
 *
 * Validation stops at the first problem, in document order, and says where
 * (the key for an unknown key, the map for a missing one, the value for
 * everything else), what was expected and what was found.  Messages name
 * things the way a user reads the file: "'interval'", "device 'boiler'"
 * (from a field's noun), "'file' in 'log'" for a map below the top level.
 *
 * No allocation: names are built in small stack buffers, one per level of
 * the schema (not of the data: an ANY field does not descend).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cfg.h"
#include "core/cfg_int.h"
#include "core/err.h"

#define NAME_MAX_LEN  128     /* one level's name in messages */
#define SUGGEST_MAX   64      /* keys of a map weighed for "did you mean" */

static int validate(const struct nano_cfg_node *n,
                    const struct nano_cfg_field *f, const char *name,
                    const char *where, bool top, void *arg,
                    struct nano_diag *d);

static int
expect(const struct nano_cfg_node *n, const char *name, const char *want,
       struct nano_diag *d)
{
    char found[112];

    return nano_cfg_error(n, d, "%s expects %s, got %s", name, want,
                          cfg__found(found, sizeof found, n));
}

static const struct nano_cfg_field *
find_field(const struct nano_cfg_field *fields, const char *key)
{
    for (const struct nano_cfg_field *f = fields; f && f->key; f++)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

static int
unknown_key(const struct nano_cfg_node *c, const struct nano_cfg_field *fields,
            const char *where, struct nano_diag *d)
{
    const char *names[SUGGEST_MAX + 1];
    const char *best;
    char k[64];
    size_t i = 0;

    for (const struct nano_cfg_field *f = fields;
         f && f->key && i < SUGGEST_MAX; f++)
        names[i++] = f->key;
    names[i] = NULL;
    best = nano_suggest(c->key, names);
    cfg__show(k, sizeof k, c->key, strlen(c->key), 40);
    if (best)
        return nano_diag_set(d, NANO_ESCHEMA, c->key_line, c->key_col,
                             "unknown key '%s' in %s (did you mean '%s'?)", k,
                             where, best);
    return nano_diag_set(d, NANO_ESCHEMA, c->key_line, c->key_col,
                         "unknown key '%s' in %s", k, where);
}

static int
check_map(const struct nano_cfg_node *n, const struct nano_cfg_field *f,
          const char *where, bool top, void *arg, struct nano_diag *d)
{
    char cname[NAME_MAX_LEN], cwhere[NAME_MAX_LEN * 2], k[64];
    int rc;

    for (const struct nano_cfg_node *c = n->child; c; c = c->next) {
        const struct nano_cfg_field *cf = find_field(f->fields, c->key);

        if (!cf) {
            if (f->open)
                continue;               /* the check callback owns these */
            return unknown_key(c, f->fields, where, d);
        }
        snprintf(cname, sizeof cname, "'%s'",
                 cfg__show(k, sizeof k, c->key, strlen(c->key), 40));
        if (top)
            snprintf(cwhere, sizeof cwhere, "%s", cname);
        else
            snprintf(cwhere, sizeof cwhere, "%s in %s", cname, where);
        rc = validate(c, cf, cname, cwhere, false, arg, d);
        if (rc != NANO_OK)
            return rc;
    }
    /* A missing key is reported where the map is named ("boiler:"), which
     * is the line a user looks for; the root has no name, so its start. */
    for (const struct nano_cfg_field *cf = f->fields; cf && cf->key; cf++)
        if (cf->required && !nano_cfg_get(n, cf->key))
            return nano_diag_set(d, NANO_ESCHEMA,
                                 n->key ? n->key_line : n->line,
                                 n->key ? n->key_col : n->col,
                                 "missing required key '%s' in %s", cf->key,
                                 where);
    return NANO_OK;
}

static int
check_dict(const struct nano_cfg_node *n, const struct nano_cfg_field *f,
           const char *where, void *arg, struct nano_diag *d)
{
    char cname[NAME_MAX_LEN], cwhere[NAME_MAX_LEN * 2], k[64];
    int rc;

    if (!f->item)
        return NANO_OK;
    for (const struct nano_cfg_node *c = n->child; c; c = c->next) {
        cfg__show(k, sizeof k, c->key, strlen(c->key), 40);
        if (f->noun) {
            snprintf(cname, sizeof cname, "%s '%s'", f->noun, k);
            snprintf(cwhere, sizeof cwhere, "%s", cname);
        } else {
            snprintf(cname, sizeof cname, "'%s'", k);
            snprintf(cwhere, sizeof cwhere, "'%s' in %s", k, where);
        }
        rc = validate(c, f->item, cname, cwhere, false, arg, d);
        if (rc != NANO_OK)
            return rc;
    }
    return NANO_OK;
}

static int
check_list(const struct nano_cfg_node *n, const struct nano_cfg_field *f,
           const char *name, void *arg, struct nano_diag *d)
{
    char cname[NAME_MAX_LEN + 32];
    size_t i = 0;
    int rc;

    if (!f->item)
        return NANO_OK;
    for (const struct nano_cfg_node *c = n->child; c; c = c->next) {
        i++;
        if (f->noun)
            snprintf(cname, sizeof cname, "%s %zu", f->noun, i);
        else
            snprintf(cname, sizeof cname, "item %zu of %s", i, name);
        rc = validate(c, f->item, cname, cname, false, arg, d);
        if (rc != NANO_OK)
            return rc;
    }
    return NANO_OK;
}

static int
check_enum(const struct nano_cfg_node *n, const struct nano_cfg_field *f,
           const char *name, struct nano_diag *d)
{
    char want[160], found[112], s[64];
    const char *best;
    size_t o;

    if (n->kind == NANO_CFG_SCALAR)
        for (const char *const *c = f->choices; c && *c; c++)
            if (strlen(*c) == n->len && memcmp(*c, n->str, n->len) == 0)
                return NANO_OK;
    o = (size_t)snprintf(want, sizeof want, "one of");
    for (const char *const *c = f->choices; c && *c && o < sizeof want; c++)
        o += (size_t)snprintf(want + o, sizeof want - o, "%s %s",
                              c == f->choices ? "" : ",", *c);
    cfg__found(found, sizeof found, n);
    best = NULL;
    if (n->kind == NANO_CFG_SCALAR && !memchr(n->str, '\0', n->len)) {
        /* "INFO" is far from "info" by edit distance, but plainly meant */
        for (const char *const *c = f->choices; c && *c && !best; c++)
            if (strcasecmp(*c, n->str) == 0)
                best = *c;
        if (!best)
            best = nano_suggest(n->str, f->choices);
    }
    if (best)
        return nano_cfg_error(n, d,
                              "%s expects %s, got %s (did you mean '%s'?)",
                              name, want, found,
                              cfg__show(s, sizeof s, best, strlen(best), 40));
    return nano_cfg_error(n, d, "%s expects %s, got %s", name, want, found);
}

static int
check_str_or_list(const struct nano_cfg_node *n, const char *name,
                  struct nano_diag *d)
{
    char cname[NAME_MAX_LEN + 32];
    const char *s;
    size_t i = 0;
    int rc;

    if (n->kind == NANO_CFG_SCALAR)
        return cfg__as_str(n, name, &s, d);
    if (n->kind == NANO_CFG_NULL && n->len == 0)
        return NANO_OK;
    if (n->kind != NANO_CFG_LIST)
        return expect(n, name, "a string or a list of strings", d);
    for (const struct nano_cfg_node *c = n->child; c; c = c->next) {
        snprintf(cname, sizeof cname, "item %zu of %s", ++i, name);
        if ((rc = cfg__as_str(c, cname, &s, d)) != NANO_OK)
            return rc;
    }
    return NANO_OK;
}

/* An empty value (`devices:` and nothing) stands for an empty container. */
static bool
is_empty(const struct nano_cfg_node *n)
{
    return n->kind == NANO_CFG_NULL && n->len == 0;
}

static int
validate(const struct nano_cfg_node *n, const struct nano_cfg_field *f,
         const char *name, const char *where, bool top, void *arg,
         struct nano_diag *d)
{
    const char *s;
    double num;
    int64_t i64, lo, hi;
    uint64_t ns;
    bool b;
    int rc = NANO_OK;

    switch (f->type) {
    case NANO_CFGT_ANY:
        break;
    case NANO_CFGT_STR:
        rc = cfg__as_str(n, name, &s, d);
        break;
    case NANO_CFGT_NUM:
        rc = cfg__as_num(n, name, f->min, f->max, &num, d);
        break;
    case NANO_CFGT_INT:
        lo = INT64_MIN;
        hi = INT64_MAX;
        if (f->max > f->min) {
            /* Integer bounds from the table's doubles, rounded inwards
             * (without libm: casts truncate toward zero). */
            if (f->min > -9.2e18) {
                lo = (int64_t)f->min;
                if ((double)lo < f->min)
                    lo++;
            }
            if (f->max < 9.2e18) {
                hi = (int64_t)f->max;
                if ((double)hi > f->max)
                    hi--;
            }
        }
        rc = cfg__as_int(n, name, lo, hi, &i64, d);
        break;
    case NANO_CFGT_BOOL:
        rc = cfg__as_bool(n, name, &b, d);
        break;
    case NANO_CFGT_DURATION:
        rc = cfg__as_duration(n, name, f->min, f->max, &ns, d);
        break;
    case NANO_CFGT_ENUM:
        rc = check_enum(n, f, name, d);
        break;
    case NANO_CFGT_MAP:
    case NANO_CFGT_DICT:
        if (is_empty(n))
            rc = f->type == NANO_CFGT_MAP ? check_map(n, f, where, top, arg, d)
                                          : NANO_OK;
        else if (n->kind != NANO_CFG_MAP)
            rc = expect(n, name, "a map", d);
        else if (f->type == NANO_CFGT_MAP)
            rc = check_map(n, f, where, top, arg, d);
        else
            rc = check_dict(n, f, where, arg, d);
        break;
    case NANO_CFGT_LIST:
        if (is_empty(n))
            break;
        if (n->kind != NANO_CFG_LIST)
            rc = expect(n, name, "a list", d);
        else
            rc = check_list(n, f, name, arg, d);
        break;
    case NANO_CFGT_STR_OR_LIST:
        rc = check_str_or_list(n, name, d);
        break;
    default:
        rc = nano_cfg_error(n, d, "%s: schema has an unknown type %d", name,
                            (int)f->type);
        break;
    }
    if (rc == NANO_OK && f->check)
        rc = f->check(n, d, arg);
    return rc;
}

int
nano_cfg_validate(const struct nano_cfg_node *n,
                  const struct nano_cfg_field *f, const char *what,
                  void *check_arg, struct nano_diag *d)
{
    if (!n || !f)
        return nano_diag_set(d, -EINVAL, 0, 0, "nothing to validate");
    if (!what)
        what = "the configuration";
    return validate(n, f, what, what, true, check_arg, d);
}

int
nano_cfg_validate_doc(const struct nano_cfg_doc *doc,
                      const struct nano_cfg_field *f, const char *what,
                      void *check_arg, struct nano_diag *d)
{
    /* An origin the caller chose (a path it owns) outlives the document;
     * the document's own copy does not, so it is only a fallback. */
    if (d && !d->origin)
        d->origin = nano_cfg_origin(doc);
    return nano_cfg_validate(nano_cfg_root(doc), f, what, check_arg, d);
}
