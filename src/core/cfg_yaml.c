/* SPDX-License-Identifier: MIT
 *
 * cfg_yaml.c - YAML (1.1, via libyaml) into the same tree as JSON.
 *
 * libyaml's event API is used and its document API is not: events stream
 * straight into arena nodes, so a file costs its tree and libyaml's small
 * scanner state, never a second tree.  The builder keeps only the innermost
 * open map or list (nodes link to their parent, so closing one is a pointer
 * step) and, inside a map, the key waiting for its value.
 *
 * What the tree does not carry is refused with a message, not silently
 * dropped: anchors and aliases (which also make "billion laughs" expansion
 * impossible), tags, keys that are maps or lists, duplicate keys, and a
 * second document in the stream.  Plain scalars stay untyped text, except
 * that empty, ~, null, Null and NULL become NULL nodes (YAML 1.1 core);
 * quoted, literal (|) and folded (>) scalars are marked quoted, since they
 * are strings whatever they look like.  An empty stream (or one holding only
 * comments, or only "---") gives an empty map, so an empty nano.yaml is a
 * valid, default configuration.
 *
 * Positions: libyaml marks are 0-based line and column (in characters);
 * nodes store them 1-based.  libyaml's syntax errors keep its own problem
 * text, placed at its problem mark, with its context and where that started
 * ("did not find expected key while parsing a block mapping that started at
 * 2:3"), plus a hint for the usual causes: a tab in the indentation, a
 * value holding ": ", a mis-indented line.  Encoding errors come with a byte
 * offset, turned into line:column here; for bad UTF-8 the text is scanned
 * again to point at the first bad byte rather than where libyaml noticed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "core/cfg.h"
#include "core/cfg_int.h"
#include "core/err.h"

struct yp {
    const char           *text;
    size_t                len;
    struct nano_cfg_doc  *doc;
    struct cfg_keyset     keys;
    struct cfg_lim        lim;
    struct nano_cfg_node *cur;     /* innermost open map or list; NULL: top */
    const char           *key;     /* cur is a map; this key awaits a value */
    unsigned              kline, kcol;
    unsigned              depth;
    unsigned              docs;    /* DOCUMENT-START events seen */
    const char           *pos;     /* about where libyaml is, for the arena */
    struct nano_diag     *d;
};

static int
yerr(struct yp *y, unsigned line, unsigned col, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
yerr(struct yp *y, unsigned line, unsigned col, int rc, const char *fmt, ...)
{
    va_list ap;

    if (!y->d)
        return rc;
    y->d->line = line;
    y->d->col = col;
    va_start(ap, fmt);
    vsnprintf(y->d->msg, sizeof y->d->msg, fmt, ap);
    va_end(ap);
    return rc;
}

/* Bytes of the line break at p (as libyaml counts them), or 0. */
static size_t
line_break(const unsigned char *p, const unsigned char *end)
{
    if (*p == '\n')
        return 1;
    if (*p == '\r')
        return p + 1 < end && p[1] == '\n' ? 2 : 1;
    if (end - p >= 2 && p[0] == 0xC2 && p[1] == 0x85)           /* NEL */
        return 2;
    if (end - p >= 3 && p[0] == 0xE2 && p[1] == 0x80 &&
        (p[2] == 0xA8 || p[2] == 0xA9))                          /* LS, PS */
        return 3;
    return 0;
}

static const unsigned char *
text_start(const struct yp *y)
{
    const unsigned char *p = (const unsigned char *)y->text;

    if (y->len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;             /* libyaml's marks start after the BOM */
    return p;
}

/* The byte a 0-based libyaml mark points at, or NULL past the end. */
static const char *
mark_ptr(const struct yp *y, const yaml_mark_t *m)
{
    const unsigned char *p = text_start(y);
    const unsigned char *end = (const unsigned char *)y->text + y->len;
    size_t line = 0, col = 0;

    while (p < end && line < m->line) {
        size_t b = line_break(p, end);
        p += b ? b : 1;
        line += b ? 1 : 0;
    }
    while (p < end && col < m->column && !line_break(p, end)) {
        size_t n = cfg__utf8_len(p, end);
        p += n ? n : 1;
        col++;
    }
    return p < end ? (const char *)p : NULL;
}

/* 1-based line:column of a byte offset (encoding errors come as offsets). */
static void
offset_pos(const struct yp *y, size_t off, unsigned *line, unsigned *col)
{
    const unsigned char *p = text_start(y);
    const unsigned char *base = (const unsigned char *)y->text;
    const unsigned char *end = base + (off < y->len ? off : y->len);

    *line = 1;
    *col = 1;
    while (p < end) {
        size_t b = line_break(p, end);
        if (b) {
            p += b;
            (*line)++;
            *col = 1;
        } else {
            size_t n = cfg__utf8_len(p, end);
            p += n ? n : 1;
            (*col)++;
        }
    }
}

/* libyaml's problem, made readable and placed. */
static int
parser_error(struct yp *y, const yaml_parser_t *ps)
{
    unsigned line = (unsigned)ps->problem_mark.line + 1;
    unsigned col = (unsigned)ps->problem_mark.column + 1;
    const char *problem = ps->problem ? ps->problem : "syntax error";
    const char *hint = "";
    const char *at;
    char ctx[128] = "";

    switch (ps->error) {
    case YAML_MEMORY_ERROR:
        return yerr(y, 0, 0, -ENOMEM, "out of memory");
    case YAML_READER_ERROR:
        offset_pos(y, ps->problem_offset, &line, &col);
        if (strstr(problem, "control characters") && ps->problem_value >= 0)
            return yerr(y, line, col, NANO_EPARSE,
                        "control character U+%04X is not allowed in YAML "
                        "(write it as an escape in a double-quoted string)",
                        (unsigned)ps->problem_value);
        {
            /* libyaml may report the byte after a cut-short sequence; the
             * first byte that does not start a valid character is the one
             * to show. */
            const unsigned char *p = text_start(y);
            const unsigned char *end = (const unsigned char *)y->text + y->len;
            size_t n;

            while (p < end && (n = cfg__utf8_len(p, end)) > 0)
                p += n;
            if (p < end) {
                offset_pos(y, (size_t)(p - (const unsigned char *)y->text),
                           &line, &col);
                return yerr(y, line, col, NANO_EPARSE,
                            "invalid UTF-8 byte 0x%02X (the file must be "
                            "UTF-8)", *p);
            }
        }
        return yerr(y, line, col, NANO_EPARSE, "invalid text: %s", problem);
    default:
        break;
    }
    at = mark_ptr(y, &ps->problem_mark);
    if (at && *at == '\t')
        return yerr(y, line, col, NANO_EPARSE,
                    "found a tab character in the indentation (YAML indents "
                    "with spaces only)");
    if (ps->context &&
        (ps->context_mark.line != ps->problem_mark.line ||
         ps->context_mark.column != ps->problem_mark.column))
        snprintf(ctx, sizeof ctx, " %s that started at %u:%u", ps->context,
                 (unsigned)ps->context_mark.line + 1,
                 (unsigned)ps->context_mark.column + 1);
    if (strcmp(problem, "did not find expected key") == 0 ||
        strcmp(problem, "did not find expected '-' indicator") == 0)
        hint = " (check the indentation of this line)";
    else if (strcmp(problem,
                    "mapping values are not allowed in this context") == 0)
        hint = " (check the indentation, and quote values that contain ': ')";
    else if (strcmp(problem, "found unexpected end of stream") == 0 &&
             ps->context && strstr(ps->context, "quoted scalar"))
        hint = " (is the closing quote missing?)";
    else if (strcmp(problem,
                    "found character that cannot start any token") == 0 &&
             at && (*at == '@' || *at == '`'))
        hint = " (quote values that start with '@' or '`')";
    return yerr(y, line, col, NANO_EPARSE, "%s%s%s", problem, ctx, hint);
}

/* Anchors and tags have no place in the tree: refuse them where written. */
static int
check_props(struct yp *y, const yaml_event_t *ev, const yaml_char_t *anchor,
            const yaml_char_t *tag)
{
    unsigned line = (unsigned)ev->start_mark.line + 1;
    unsigned col = (unsigned)ev->start_mark.column + 1;
    char t[64];

    if (anchor)
        return yerr(y, line, col, NANO_EPARSE,
                    "anchors and aliases are not supported, found anchor "
                    "'&%s' (write the value out instead)",
                    cfg__show(t, sizeof t, (const char *)anchor,
                              strlen((const char *)anchor), 40));
    if (tag) {
        /* Show the tag as written ("!!str"), not as resolved. */
        const char *s = mark_ptr(y, &ev->start_mark);
        const char *e = s;

        while (e && e < y->text + y->len && *e != ' ' && *e != '\t' &&
               *e != '\n' && *e != '\r' && *e != ',' && *e != ']' && *e != '}')
            e++;
        if (!s || *s != '!')
            s = (const char *)tag, e = s + strlen(s);
        return yerr(y, line, col, NANO_EPARSE,
                    "tags are not supported, found '%s' (quote the value "
                    "if it must stay a string)",
                    cfg__show(t, sizeof t, s, (size_t)(e - s), 40));
    }
    return NANO_OK;
}

/* Make n the next value: the root, the next list item, or the value of the
 * pending key. */
static int
place(struct yp *y, struct nano_cfg_node *n)
{
    int rc;

    if (!y->cur) {
        y->doc->root = n;
        return NANO_OK;
    }
    if (y->cur->kind == NANO_CFG_MAP) {
        n->key = y->key;
        n->key_line = y->kline;
        n->key_col = y->kcol;
        y->key = NULL;
    }
    cfg__link(y->cur, n);
    if (y->cur->kind == NANO_CFG_MAP &&
        (rc = cfg__keyset_note(&y->keys, y->cur)) != NANO_OK)
        return yerr(y, n->line, n->col, rc, "out of memory");
    return NANO_OK;
}

static struct nano_cfg_node *
new_node(struct yp *y, const yaml_event_t *ev, enum nano_cfg_kind kind, int *rc)
{
    unsigned line = (unsigned)ev->start_mark.line + 1;
    unsigned col = (unsigned)ev->start_mark.column + 1;
    struct nano_cfg_node *n;

    if (y->doc->nodes >= y->lim.max_nodes) {
        *rc = yerr(y, line, col, -E2BIG, "too many values: the limit is %zu",
                   y->lim.max_nodes);
        return NULL;
    }
    n = cfg__node(y->doc, kind, line, col);
    if (!n)
        *rc = yerr(y, line, col, -ENOMEM, "out of memory");
    return n;
}

static bool
is_null_word(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (memcmp(s, "null", 4) == 0 ||
                         memcmp(s, "Null", 4) == 0 ||
                         memcmp(s, "NULL", 4) == 0));
}

static int
on_key(struct yp *y, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    unsigned line = (unsigned)ev->start_mark.line + 1;
    unsigned col = (unsigned)ev->start_mark.column + 1;
    const struct nano_cfg_node *dup;
    char t[64];

    if (len == 0 && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return yerr(y, line, col, NANO_EPARSE, "a map key must not be empty");
    if (memchr(s, '\0', len))
        return yerr(y, line, col, NANO_EPARSE, "a key must not contain \\0");
    dup = cfg__keyset_find(&y->keys, y->cur, s);
    if (dup)
        return yerr(y, line, col, NANO_EPARSE,
                    "duplicate key '%s' (first defined at %u:%u)",
                    cfg__show(t, sizeof t, s, len, 40), dup->key_line,
                    dup->key_col);
    y->key = cfg__str(y->doc, s, len);
    if (!y->key)
        return yerr(y, line, col, -ENOMEM, "out of memory");
    y->kline = line;
    y->kcol = col;
    return NANO_OK;
}

static int
on_scalar(struct yp *y, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    struct nano_cfg_node *n;
    int rc;

    rc = check_props(y, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
    if (rc != NANO_OK)
        return rc;
    if (y->cur && y->cur->kind == NANO_CFG_MAP && !y->key)
        return on_key(y, ev);
    n = new_node(y, ev, plain && is_null_word(s, len) ? NANO_CFG_NULL
                                                      : NANO_CFG_SCALAR, &rc);
    if (!n)
        return rc;
    n->quoted = !plain;
    n->str = cfg__str(y->doc, s, len);
    if (!n->str)
        return yerr(y, n->line, n->col, -ENOMEM, "out of memory");
    n->len = len;
    return place(y, n);
}

static int
on_start(struct yp *y, const yaml_event_t *ev, enum nano_cfg_kind kind)
{
    const yaml_char_t *anchor, *tag;
    struct nano_cfg_node *n;
    int rc;

    if (kind == NANO_CFG_MAP) {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
    } else {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
    }
    if ((rc = check_props(y, ev, anchor, tag)) != NANO_OK)
        return rc;
    if (y->cur && y->cur->kind == NANO_CFG_MAP && !y->key)
        return yerr(y, (unsigned)ev->start_mark.line + 1,
                    (unsigned)ev->start_mark.column + 1, NANO_EPARSE,
                    "a map key must be a plain value, not a %s",
                    kind == NANO_CFG_MAP ? "map" : "list");
    if (y->depth >= y->lim.max_depth)
        return yerr(y, (unsigned)ev->start_mark.line + 1,
                    (unsigned)ev->start_mark.column + 1, -E2BIG,
                    "too deeply nested: the limit is %u levels of maps and "
                    "lists", y->lim.max_depth);
    n = new_node(y, ev, kind, &rc);
    if (!n)
        return rc;
    if ((rc = place(y, n)) != NANO_OK)
        return rc;
    y->depth++;
    y->cur = n;
    return NANO_OK;
}

static int
on_event(struct yp *y, const yaml_event_t *ev, bool *done)
{
    unsigned line = (unsigned)ev->start_mark.line + 1;
    unsigned col = (unsigned)ev->start_mark.column + 1;
    char t[64];

    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (y->docs++ > 0)
            return yerr(y, line, col, NANO_EPARSE,
                        "found a second YAML document; a config file must "
                        "hold exactly one");
        return NANO_OK;
    case YAML_SCALAR_EVENT:
        return on_scalar(y, ev);
    case YAML_MAPPING_START_EVENT:
        return on_start(y, ev, NANO_CFG_MAP);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(y, ev, NANO_CFG_LIST);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        if (NANO_NEVER(!y->cur))
            return yerr(y, line, col, NANO_EPARSE, "unbalanced YAML events");
        y->cur = y->cur->parent;
        y->depth--;
        return NANO_OK;
    case YAML_ALIAS_EVENT:
        return yerr(y, line, col, NANO_EPARSE,
                    "anchors and aliases are not supported, found alias "
                    "'*%s' (write the value out instead)",
                    cfg__show(t, sizeof t, (const char *)ev->data.alias.anchor,
                              strlen((const char *)ev->data.alias.anchor), 40));
    case YAML_STREAM_END_EVENT:
        *done = true;
        return NANO_OK;
    default:            /* stream start, document end */
        return NANO_OK;
    }
}

int
nano_cfg_parse_yaml_ex(const char *text, size_t len, const char *origin,
                       const struct nano_cfg_limits *lim,
                       struct nano_cfg_doc **doc_out, struct nano_diag *d)
{
    yaml_parser_t ps;
    yaml_event_t ev;
    struct yp y;
    bool done = false;
    int rc = NANO_OK;

    *doc_out = NULL;
    memset(&y, 0, sizeof y);
    if (d) {
        d->origin = origin;
        d->line = d->col = 0;
        d->msg[0] = '\0';
    }
    cfg__limits(lim, &y.lim);
    if (len > y.lim.max_bytes)
        return nano_diag_set(d, -E2BIG, 0, 0,
                             "input is %zu bytes, more than the limit of %zu",
                             len, y.lim.max_bytes);
    y.text = text ? text : "";
    y.len = text ? len : 0;
    y.d = d;
    /* A low first guess: the arena sizes later chunks from the progress
     * of the parse, which is exact where a guess from the length is not. */
    y.doc = cfg__doc_new(origin, len < 16384 ? len * 4 : 65536);
    if (!y.doc)
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    if (!yaml_parser_initialize(&ps)) {
        nano_cfg_free(y.doc);
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)y.text, y.len);
    yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);
    cfg__keyset_init(&y.keys);
    y.pos = y.text;
    cfg__doc_progress(y.doc, y.text, y.len, &y.pos);
    while (!done && rc == NANO_OK) {
        if (!yaml_parser_parse(&ps, &ev)) {
            rc = parser_error(&y, &ps);
            break;
        }
        /* mark.index counts characters; for an estimate, bytes will do */
        y.pos = y.text + (ev.end_mark.index < y.len ? ev.end_mark.index : y.len);
        rc = on_event(&y, &ev, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&ps);
    cfg__keyset_free(&y.keys);
    cfg__doc_progress(y.doc, NULL, 0, NULL);      /* y.pos goes out of scope */
    if (rc == NANO_OK) {
        struct nano_cfg_node *root = y.doc->root;

        if (!root) {
            root = cfg__node(y.doc, NANO_CFG_MAP, 1, 1);
            if (!root)
                rc = nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
            y.doc->root = root;
        } else if (root->kind == NANO_CFG_NULL && root->len == 0) {
            /* "---" and nothing else: same as an empty file */
            root->kind = NANO_CFG_MAP;
            root->str = NULL;
        }
    }
    if (rc != NANO_OK) {
        nano_cfg_free(y.doc);
        return rc;
    }
    *doc_out = y.doc;
    return NANO_OK;
}

int
nano_cfg_parse_yaml(const char *text, size_t len, const char *origin,
                    struct nano_cfg_doc **doc_out, struct nano_diag *d)
{
    return nano_cfg_parse_yaml_ex(text, len, origin, NULL, doc_out, d);
}
