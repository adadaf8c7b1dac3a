/* SPDX-License-Identifier: MIT
 *
 * cfg.h - configuration documents: one tree for YAML and JSON, with positions,
 * and table-driven schema validation with line:column diagnostics.
 *
 * A config file (nano.yaml or nano.json, same schema), an API request body and
 * a persisted state file all parse into the same tree of nodes.  Every node
 * remembers the line and column where it started, so any later check - a
 * schema mismatch, an unknown driver, a bad rule - can point at the text.
 *
 * Scalars keep their source text: YAML has no types until a schema asks
 * ("17" may be a pin number or a device name), so typed reads happen through
 * nano_cfg_as_*(), which fill a diagnostic on mismatch.  JSON strings and
 * quoted YAML scalars are marked `quoted` so a schema can tell "true" from
 * true when it matters.
 *
 * Memory: a document owns every node and string in one arena; nodes are
 * Returns borrowed, valid until nano_cfg_free(doc).  Documents are immutable
 * after parsing except through nano_cfg_build_*() below, which only append.
 *
 * Parsers are pure functions of (text, len): no I/O, no globals, every
 * length bounded (NANO_CFG_MAX_DEPTH, NANO_CFG_MAX_NODES), fuzzed in
 * tests/fuzz/fuzz_cfg_json.c and fuzz_cfg_yaml.c.
 */
#ifndef NANO_CORE_CFG_H
#define NANO_CORE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define NANO_CFG_MAX_DEPTH  64
#define NANO_CFG_MAX_NODES  200000
#define NANO_CFG_MAX_BYTES  (16u * 1024 * 1024)

enum nano_cfg_kind {
    NANO_CFG_NULL,      /* YAML ~ / null / empty value, JSON null */
    NANO_CFG_SCALAR,    /* text; typed on read */
    NANO_CFG_MAP,       /* ordered children, each with a key */
    NANO_CFG_LIST,      /* ordered children, no keys */
};

struct nano_cfg_node {
    enum nano_cfg_kind    kind;
    bool                  quoted;     /* scalar was a quoted/JSON string */
    unsigned              line, col;  /* 1-based start of the value */
    unsigned              key_line, key_col; /* start of the key in a map */
    const char           *key;        /* map children only, else NULL */
    const char           *str;        /* scalars: NUL-terminated text */
    size_t                len;        /* scalars: bytes in str (may hold NUL) */
    size_t                count;      /* maps and lists: number of children */
    struct nano_cfg_node *child;      /* first child */
    struct nano_cfg_node *last;       /* last child (private: fast append) */
    struct nano_cfg_node *next;       /* next sibling */
    struct nano_cfg_node *parent;
};

struct nano_cfg_doc;

/* Parse JSON text (RFC 8259; a UTF-8 BOM is skipped).  origin names the text
 * in diagnostics ("nano.json", "api") and is copied.
 * Returns NANO_OK and *doc_out (Returns owned; free with nano_cfg_free), or
 * NANO_EPARSE / -E2BIG / -ENOMEM with *doc_out NULL and d filled:
 * "3:17: expected ',' or '}' after an object member". */
int nano_cfg_parse_json(const char *text, size_t len, const char *origin,
                        struct nano_cfg_doc **doc_out, struct nano_diag *d);

/* Parse YAML 1.1 text (libyaml), single document.  Anchors/aliases are
 * rejected (a config does not need them and they allow billion-laughs).
 * Same contract as nano_cfg_parse_json(). */
int nano_cfg_parse_yaml(const char *text, size_t len, const char *origin,
                        struct nano_cfg_doc **doc_out, struct nano_diag *d);

/* Read and parse a file: JSON when the name ends in .json or the first
 * non-blank byte is '{', YAML otherwise.  d->origin is set to path. */
int nano_cfg_load_file(const char *path, struct nano_cfg_doc **doc_out,
                       struct nano_diag *d);

void nano_cfg_free(struct nano_cfg_doc *doc);       /* NULL is a no-op */

/* Returns borrowed; valid until nano_cfg_free(doc). */
struct nano_cfg_node *nano_cfg_root(const struct nano_cfg_doc *doc);
const char *nano_cfg_origin(const struct nano_cfg_doc *doc);

/* Child of a map by key, or NULL (also NULL when n is not a map). */
struct nano_cfg_node *nano_cfg_get(const struct nano_cfg_node *n,
                                   const char *key);

/* Walk a dotted path of map keys: nano_cfg_path(root, "log.level"). */
struct nano_cfg_node *nano_cfg_path(const struct nano_cfg_node *n,
                                    const char *path);

/* ---- typed reads: NANO_OK, or NANO_ESCHEMA with d naming the node ------ */

int nano_cfg_as_str(const struct nano_cfg_node *n, const char **out,
                    struct nano_diag *d);
int nano_cfg_as_num(const struct nano_cfg_node *n, double *out,
                    struct nano_diag *d);
int nano_cfg_as_int(const struct nano_cfg_node *n, int64_t min, int64_t max,
                    int64_t *out, struct nano_diag *d);  /* accepts 0x.. */
int nano_cfg_as_bool(const struct nano_cfg_node *n, bool *out,
                     struct nano_diag *d);  /* true/false/yes/no/on/off */
int nano_cfg_as_duration(const struct nano_cfg_node *n, uint64_t *ns_out,
                         struct nano_diag *d);

/* Fill d with "line:col" of n and a formatted message; returns NANO_ESCHEMA. */
int nano_cfg_error(const struct nano_cfg_node *n, struct nano_diag *d,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Canonical text dump (sorted by nothing: document order) used by tests to
 * compare YAML and JSON trees: one node per line with its kind and value.
 * Appends to out (a struct nano_buf *).  Returns NANO_OK or -ENOSPC. */
struct nano_buf;
int nano_cfg_dump(const struct nano_cfg_node *n, struct nano_buf *out);

/* Serialise n as JSON (scalars that are not quoted and look like numbers,
 * true/false or null are written bare).  Appends to out. */
int nano_cfg_to_json(const struct nano_cfg_node *n, struct nano_buf *out);

/* ---- building documents in code (CLI params, API bodies, state) -------- */

/* New empty document whose root is a map.  Returns owned or NULL. */
struct nano_cfg_doc *nano_cfg_new(const char *origin);

/* Append a child to a map (key required) or list (key NULL).  Strings are
 * copied into the document.  Returns the new node (borrowed) or NULL on
 * -ENOMEM. */
struct nano_cfg_node *nano_cfg_add(struct nano_cfg_doc *doc,
                                   struct nano_cfg_node *parent,
                                   const char *key, enum nano_cfg_kind kind,
                                   const char *str, bool quoted);

/* Deep-copy src (from any document) under parent.  Returns the copy. */
struct nano_cfg_node *nano_cfg_copy(struct nano_cfg_doc *doc,
                                    struct nano_cfg_node *parent,
                                    const char *key,
                                    const struct nano_cfg_node *src);

/* Remove a child from its parent (the memory stays in the arena). */
void nano_cfg_unlink(struct nano_cfg_node *n);

/* ---- schema -------------------------------------------------------------- */

enum nano_cfg_type {
    NANO_CFGT_ANY,       /* anything; custom check only */
    NANO_CFGT_STR,
    NANO_CFGT_NUM,
    NANO_CFGT_INT,       /* within [min, max] */
    NANO_CFGT_BOOL,
    NANO_CFGT_DURATION,  /* "500ms", "30s"; within [min, max] seconds if max>0 */
    NANO_CFGT_ENUM,      /* one of choices[] */
    NANO_CFGT_MAP,       /* fixed keys from fields[] */
    NANO_CFGT_DICT,      /* user-chosen keys, each value checked by item */
    NANO_CFGT_LIST,      /* each element checked by item */
    NANO_CFGT_STR_OR_LIST, /* one string or a list of strings */
};

struct nano_cfg_field;

/* Extra check run after the table checks passed.  Return NANO_OK or fill d. */
typedef int nano_cfg_check_fn(const struct nano_cfg_node *n,
                              struct nano_diag *d, void *arg);

struct nano_cfg_field {
    const char                  *key;      /* NULL ends a fields[] array */
    enum nano_cfg_type           type;
    bool                         required;
    const char                  *help;     /* one line, shown to users */
    double                       min, max; /* INT, NUM, DURATION (s); max<=min: none */
    const char *const           *choices;  /* ENUM: NULL-terminated */
    const struct nano_cfg_field *fields;   /* MAP: its keys */
    const struct nano_cfg_field *item;     /* DICT, LIST: one element's schema */
    bool                         open;     /* MAP: unknown keys allowed (check does them) */
    nano_cfg_check_fn           *check;    /* optional, after table checks */
};

/* Validate n against one field description (what is the "thing" name used in
 * messages, e.g. "device 'boiler'").  The first problem found fills d:
 *   "12:5: unknown key 'intervall' in device 'boiler' (did you mean 'interval'?)"
 *   "7:14: 'interval' expects a duration such as 500ms or 30s, got 'fast'"
 *   "3:1: missing required key 'driver' in device 'boiler'"
 * Returns NANO_OK or NANO_ESCHEMA. */
int nano_cfg_validate(const struct nano_cfg_node *n,
                      const struct nano_cfg_field *f, const char *what,
                      void *check_arg, struct nano_diag *d);

#endif
