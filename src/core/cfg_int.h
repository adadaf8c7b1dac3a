/* SPDX-License-Identifier: MIT
 *
 * cfg_int.h - what cfg.c, cfg_json.c, cfg_yaml.c and cfg_schema.c share, and
 * nothing else may include: the document arena, node construction, the
 * duplicate-key index and the text helpers that keep messages alike.
 *
 * Arena: a document is one malloc'd chunk that starts with struct
 * nano_cfg_doc; further chunks double in size (up to CFG_CHUNK_MAX) and are
 * chained for nano_cfg_free().  Inside the current chunk nodes are carved
 * from the low end and strings from the high end, so neither pays alignment
 * padding for the other.  A string too big for a quarter of the next chunk
 * gets a chunk of its own and leaves the current one in use.  Nothing is
 * freed before the whole document.
 *
 * While a parser runs it points doc->cursor at its position in the text,
 * and a new chunk is sized for what the rest of the text will need at the
 * rate seen so far (arena bytes per input byte), not blindly doubled: a
 * config that stays resident should not keep half an empty chunk.
 */
#ifndef NANO_CORE_CFG_INT_H
#define NANO_CORE_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"

struct cfg_chunk {
    struct cfg_chunk *next;
};

struct nano_cfg_doc {
    char                 *lo;        /* free space of the current chunk: */
    char                 *hi;        /* nodes go up from lo, strings down */
    struct cfg_chunk     *chunks;    /* chunks after the first, newest first */
    size_t                next_cap;  /* payload size of the next chunk */
    size_t                used;      /* arena bytes handed out */
    size_t                nodes;     /* nodes allocated, for the node limit */
    const char           *text;      /* while parsing: the input, */
    const char           *text_end;
    const char *const    *cursor;    /* and the parser's position in it */
    struct nano_cfg_node *root;
    const char           *origin;    /* in the arena */
};

/* Effective limits of one parse (struct nano_cfg_limits with 0s resolved). */
struct cfg_lim {
    unsigned max_depth;
    size_t   max_nodes;
    size_t   max_bytes;
};

void cfg__limits(const struct nano_cfg_limits *lim, struct cfg_lim *out);

/* New document with no root; hint sizes the first chunk (bytes of arena the
 * caller expects to need).  Returns owned or NULL. */
struct nano_cfg_doc *cfg__doc_new(const char *origin, size_t hint);

/* Tell the arena where the parser is (cursor points at the parser's own
 * position variable), so chunks can be sized from progress.  Call with
 * cursor NULL before the parser's variable goes out of scope. */
void cfg__doc_progress(struct nano_cfg_doc *doc, const char *text, size_t len,
                       const char *const *cursor);

/* A zeroed node of the given kind at line:col, not yet linked, or NULL on
 * -ENOMEM.  Counts towards doc->nodes. */
struct nano_cfg_node *cfg__node(struct nano_cfg_doc *doc,
                                enum nano_cfg_kind kind, unsigned line,
                                unsigned col);

/* Copy s[0..len) into the arena with a NUL after it, or NULL on -ENOMEM. */
char *cfg__str(struct nano_cfg_doc *doc, const char *s, size_t len);

/* Raw arena bytes for a string the caller fills in (len+1 reserved). */
char *cfg__str_alloc(struct nano_cfg_doc *doc, size_t len);

/* Append n as the last child of parent (a map or list). */
void cfg__link(struct nano_cfg_node *parent, struct nano_cfg_node *n);

/* ---- duplicate keys -------------------------------------------------------
 * Maps with fewer than CFG_KEYSET_MIN children are searched linearly; bigger
 * ones go into one open-addressing table per parse, keyed by (parent, key),
 * so a hostile body with 100k keys costs O(n) and not O(n^2).  The table is
 * heap memory of the parse, freed by cfg__keyset_free(), never part of the
 * document. */
#define CFG_KEYSET_MIN 8

struct cfg_keyset {
    const struct nano_cfg_node **slot;
    size_t                       cap;    /* 0 or a power of two */
    size_t                       used;
    uint64_t                     seed;
};

void cfg__keyset_init(struct cfg_keyset *ks);
void cfg__keyset_free(struct cfg_keyset *ks);

/* The child of parent whose key is key, or NULL. */
const struct nano_cfg_node *cfg__keyset_find(const struct cfg_keyset *ks,
                                             const struct nano_cfg_node *parent,
                                             const char *key);

/* Record parent's last child after cfg__link().  Returns NANO_OK or -ENOMEM. */
int cfg__keyset_note(struct cfg_keyset *ks, const struct nano_cfg_node *parent);

/* ---- text ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid (overlong
 * forms, surrogates and code points past U+10FFFF are invalid). */
size_t cfg__utf8_len(const unsigned char *p, const unsigned char *end);

/* True if s[0..len) is a number by the RFC 8259 grammar. */
bool cfg__is_json_number(const char *s, size_t len);

/* How a scalar or null is typed when written as JSON. */
enum cfg_jtype { CFG_J_NULL, CFG_J_BOOL, CFG_J_NUM, CFG_J_STR, CFG_J_CONT };
enum cfg_jtype cfg__jtype(const struct nano_cfg_node *n);

/* Append s[0..len) to out for a message: at most max bytes of text (cut on a
 * character boundary, then "..."), control bytes and invalid UTF-8 escaped.
 * Always NUL-terminates; returns out. */
char *cfg__show(char *out, size_t cap, const char *s, size_t len, size_t max);

/* "'fast'", "\"fast\"", "a map", "a list", "null", "an empty value": how a
 * message names a value that was found.  Returns out. */
char *cfg__found(char *out, size_t cap, const struct nano_cfg_node *n);

/* How a message names n when it has no schema label: "'interval'",
 * "item 2 of 'pins'", "the document".  Returns out. */
char *cfg__name(char *out, size_t cap, const struct nano_cfg_node *n);

/* Typed reads with the name used in messages given by the caller (the
 * schema's labels), shared by nano_cfg_as_*() and nano_cfg_validate(). */
int cfg__as_str(const struct nano_cfg_node *n, const char *name,
                const char **out, struct nano_diag *d);
int cfg__as_num(const struct nano_cfg_node *n, const char *name,
                double min, double max, double *out, struct nano_diag *d);
int cfg__as_int(const struct nano_cfg_node *n, const char *name,
                int64_t min, int64_t max, int64_t *out, struct nano_diag *d);
int cfg__as_bool(const struct nano_cfg_node *n, const char *name, bool *out,
                 struct nano_diag *d);
int cfg__as_duration(const struct nano_cfg_node *n, const char *name,
                     double min_s, double max_s, uint64_t *ns_out,
                     struct nano_diag *d);

#endif
