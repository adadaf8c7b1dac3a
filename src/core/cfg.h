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
 * Memory: a document owns every node and string in one arena of chunks
 * (nodes and strings are bump-allocated, chunks grow geometrically, and
 * nano_cfg_free() releases them all); every node and string pointer is
 * Returns borrowed, valid until nano_cfg_free(doc).  Documents are immutable
 * after parsing except through nano_cfg_add/copy/unlink below, which append
 * or detach but never free.
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

/* Positions count lines and characters (not bytes) from 1; a node built in
 * code has line 0, which nano_diag_format() leaves out.  NULL nodes keep the
 * text they were written as ("", "~", "null") in str so messages can say
 * "an empty value"; maps and lists have str NULL. */
struct nano_cfg_node {
    enum nano_cfg_kind    kind;
    bool                  quoted;     /* scalar was a JSON string or a quoted,
                                         literal or folded YAML scalar */
    unsigned              line, col;  /* 1-based start of the value */
    unsigned              key_line, key_col; /* start of the key in a map */
    const char           *key;        /* map children only, else NULL */
    const char           *str;        /* scalars, nulls: NUL-terminated text */
    size_t                len;        /* bytes in str (may hold NUL) */
    size_t                count;      /* maps and lists: number of children */
    struct nano_cfg_node *child;      /* first child */
    struct nano_cfg_node *last;       /* last child (private: fast append) */
    struct nano_cfg_node *next;       /* next sibling */
    struct nano_cfg_node *parent;
};

struct nano_cfg_doc;

/* Limits for one parse (an API body wants tighter ones than a config file).
 * A field that is 0 or above the compile-time maximum means that maximum.
 * Exceeding one fails the parse with -E2BIG and a message naming it. */
struct nano_cfg_limits {
    unsigned max_depth;   /* maps/lists nested inside each other */
    size_t   max_nodes;   /* values in the document, keys not counted */
    size_t   max_bytes;   /* length of the text */
};

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

/* As above with explicit limits (lim NULL: the compile-time maxima). */
int nano_cfg_parse_json_ex(const char *text, size_t len, const char *origin,
                           const struct nano_cfg_limits *lim,
                           struct nano_cfg_doc **doc_out, struct nano_diag *d);
int nano_cfg_parse_yaml_ex(const char *text, size_t len, const char *origin,
                           const struct nano_cfg_limits *lim,
                           struct nano_cfg_doc **doc_out, struct nano_diag *d);

/* On every parse failure d->origin is set to origin (Borrows: the caller's
 * string, so it must outlive d), d->line/col to the offending character and
 * d->msg to one sentence naming what was expected and what was found. */

/* Read and parse a file: JSON when the name ends in .json or the first
 * non-blank byte is '{', YAML otherwise.  d->origin is set to path (Borrows
 * path: it must outlive d).  A file that cannot be read gives -errno and
 * "cannot open file: No such file or directory"; over NANO_CFG_MAX_BYTES
 * gives -E2BIG. */
int nano_cfg_load_file(const char *path, struct nano_cfg_doc **doc_out,
                       struct nano_diag *d);

void nano_cfg_free(struct nano_cfg_doc *doc);       /* NULL is a no-op */

/* Returns borrowed; valid until nano_cfg_free(doc). */
struct nano_cfg_node *nano_cfg_root(const struct nano_cfg_doc *doc);
const char *nano_cfg_origin(const struct nano_cfg_doc *doc);

/* Child of a map by key, or NULL (also NULL when n is not a map). */
struct nano_cfg_node *nano_cfg_get(const struct nano_cfg_node *n,
                                   const char *key);

/* Walk a dotted path of map keys: nano_cfg_path(root, "log.level").  A
 * segment of digits indexes a list from 0: "pins.led.line", "tags.0". */
struct nano_cfg_node *nano_cfg_path(const struct nano_cfg_node *n,
                                    const char *path);

/* ---- typed reads: NANO_OK, or NANO_ESCHEMA with d naming the node ------ *
 *
 * d->line/col are set to n's position and d->msg to a sentence such as
 * "'interval' expects a duration such as 500ms or 30s, got 'fast'";
 * d->origin is left as the caller set it (a node does not know its file:
 * use nano_cfg_origin(doc)).  Numbers and booleans must be written bare: a
 * quoted "17" is a string, and the message says so.  nano_cfg_as_str()
 * refuses text holding a NUL byte, which C consumers would truncate. */

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

/* Fill d with "line:col" of n and a formatted message; returns NANO_ESCHEMA.
 * d->origin is not touched. */
int nano_cfg_error(const struct nano_cfg_node *n, struct nano_diag *d,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Canonical text dump (sorted by nothing: document order) used by tests to
 * compare YAML and JSON trees: one node per line with its kind and value.
 * Scalars are shown as JSON would type them (num, bool, str), so plain YAML
 * `port: 80` and JSON "port": 80 dump alike; positions are not shown.
 * Appends to out (a struct nano_buf *).  Returns NANO_OK, -ENOSPC or
 * -ENOMEM; on error out holds a partial dump. */
struct nano_buf;
int nano_cfg_dump(const struct nano_cfg_node *n, struct nano_buf *out);

/* Serialise n as compact JSON (scalars that are not quoted and look like
 * JSON numbers, true/false or null are written bare; bytes that are not
 * valid UTF-8 become U+FFFD).  Appends to out; same returns as dump. */
int nano_cfg_to_json(const struct nano_cfg_node *n, struct nano_buf *out);

/* ---- building documents in code (CLI params, API bodies, state) -------- */

/* New empty document whose root is a map.  Returns owned or NULL. */
struct nano_cfg_doc *nano_cfg_new(const char *origin);

/* The same, with the first arena chunk sized for about `bytes` of nodes
 * and strings (see nano_cfg_copy_size), so a document built to hold a
 * known subtree takes one allocation of the right size. */
struct nano_cfg_doc *nano_cfg_new_sized(const char *origin, size_t bytes);

/* Arena bytes a nano_cfg_copy() of n needs (nodes, keys and strings). */
size_t nano_cfg_copy_size(const struct nano_cfg_node *n);

/* Append a child to a map (key required) or list (key NULL).  Strings are
 * copied into the document (str NULL for a scalar means "").  Returns the new
 * node (borrowed) or NULL on -ENOMEM or misuse (parent not a map or list,
 * key missing for a map).  Adding a key a map already has is the caller's
 * bug: look it up with nano_cfg_get() and unlink it first. */
struct nano_cfg_node *nano_cfg_add(struct nano_cfg_doc *doc,
                                   struct nano_cfg_node *parent,
                                   const char *key, enum nano_cfg_kind kind,
                                   const char *str, bool quoted);

/* Deep-copy src (from any document) under parent; key NULL keeps src->key
 * when parent is a map.  Positions are copied.  Returns the copy (borrowed),
 * or NULL on -ENOMEM (nothing is left linked under parent) or when parent
 * lies inside src. */
struct nano_cfg_node *nano_cfg_copy(struct nano_cfg_doc *doc,
                                    struct nano_cfg_node *parent,
                                    const char *key,
                                    const struct nano_cfg_node *src);

/* Remove a child from its parent (the memory stays in the arena).  A root
 * or already unlinked node is left alone. */
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
    const char                  *noun;     /* DICT, LIST: what one element is
                                              called in messages ("device"
                                              gives "device 'boiler'") */
};

/* Validate n against one field description (what is the "thing" name used in
 * messages, e.g. "device 'boiler'").  The first problem found fills d:
 *   "12:5: unknown key 'intervall' in device 'boiler' (did you mean 'interval'?)"
 *   "7:15: 'interval' expects a duration such as 500ms or 30s, got 'fast'"
 *   "3:3: missing required key 'driver' in device 'boiler'"
 * Unknown keys point at the key, missing keys at the map's own key (or the
 * map when it has none), everything else at the value.  An empty value
 * (YAML `devices:`) passes as an empty MAP, DICT or LIST.  The field's key
 * is not used for n itself (what names it).
 * Returns NANO_OK or NANO_ESCHEMA (or what a check returned).  d->origin is
 * left as set by the caller. */
int nano_cfg_validate(const struct nano_cfg_node *n,
                      const struct nano_cfg_field *f, const char *what,
                      void *check_arg, struct nano_diag *d);

/* nano_cfg_validate() on the root of doc.  When d->origin is NULL it is set
 * to the document's origin, which lives in the document: format the message
 * before nano_cfg_free(doc), or set d->origin to a string you own (the path
 * given to nano_cfg_load_file(), which already does that). */
int nano_cfg_validate_doc(const struct nano_cfg_doc *doc,
                          const struct nano_cfg_field *f, const char *what,
                          void *check_arg, struct nano_diag *d);

#endif
