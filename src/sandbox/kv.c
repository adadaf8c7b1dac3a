/* SPDX-License-Identifier: MIT
 *
 * kv.c - a module's key-value store: small, bounded, persisted.
 *
 * Keys are 1..SB_KV_KEY_MAX printable ASCII characters (no space), values
 * any bytes; the store holds at most SB_KV_KEYS_MAX keys and the module's
 * kv_max bytes of keys plus values.  Lookups are a linear scan: a store of
 * a few kilobytes has a few dozen keys.
 *
 * Persistence: <state>/sandbox/<name>.kv, written atomically by core/state
 * (temporary file, fsync, rename) as JSON {"key": "<base64 value>", ...}.
 * Writing on every kv_set would put an fsync on the path of every message,
 * so a change arms a one-shot timer and the store reaches disk within
 * SB_KV_FLUSH_MS; unloading, reloading and shutting down flush at once.
 * The store belongs to the module, not to its instance: a hot swap keeps it.
 */
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/state.h"
#include "sandbox/sandbox_int.h"

bool
sb_kv_key_ok(const char *key, uint32_t klen)
{
    if (klen == 0 || klen > SB_KV_KEY_MAX)
        return false;
    for (uint32_t i = 0; i < klen; i++)
        if (key[i] <= 0x20 || key[i] >= 0x7f)
            return false;
    return true;
}

static struct sb_kv_ent *
find(const struct sb_kv *kv, const char *key, uint32_t klen)
{
    for (uint32_t i = 0; i < kv->n; i++)
        if (kv->ents[i].klen == klen && memcmp(kv->ents[i].key, key, klen) == 0)
            return &kv->ents[i];
    return NULL;
}

const struct sb_kv_ent *
sb_kv_get(const struct sb_kv *kv, const char *key, uint32_t klen)
{
    return find(kv, key, klen);
}

int
sb_kv_set(struct sb_kv *kv, const char *key, uint32_t klen, const void *val,
          uint32_t vlen, uint32_t max)
{
    struct sb_kv_ent *e = find(kv, key, klen);
    uint64_t bytes = kv->bytes;
    uint8_t *copy = NULL;

    bytes += vlen;
    bytes -= e ? e->vlen : 0;
    bytes += e ? 0 : klen;
    if (bytes > max || (!e && kv->n >= SB_KV_KEYS_MAX))
        return -ENOSPC;
    if (vlen) {
        if (!(copy = nano_malloc(vlen)))
            return -ENOMEM;
        memcpy(copy, val, vlen);
    }
    if (!e) {
        if (kv->n == kv->cap) {
            uint32_t cap = kv->cap ? kv->cap * 2 : 8;
            struct sb_kv_ent *n = nano_realloc(kv->ents, cap * sizeof *n);
            if (!n) {
                nano_free(copy);
                return -ENOMEM;
            }
            kv->ents = n;
            kv->cap = cap;
        }
        e = &kv->ents[kv->n];
        if (!(e->key = nano_strndup(key, klen))) {
            nano_free(copy);
            return -ENOMEM;
        }
        e->klen = klen;
        e->val = NULL;
        e->vlen = 0;
        kv->n++;
    }
    nano_free(e->val);
    e->val = copy;
    e->vlen = vlen;
    kv->bytes = (uint32_t)bytes;
    kv->dirty = true;
    return NANO_OK;
}

int
sb_kv_del(struct sb_kv *kv, const char *key, uint32_t klen)
{
    struct sb_kv_ent *e = find(kv, key, klen);

    if (!e)
        return NANO_ENOTFOUND;
    kv->bytes -= e->klen + e->vlen;
    nano_free(e->key);
    nano_free(e->val);
    *e = kv->ents[--kv->n];
    kv->dirty = true;
    return NANO_OK;
}

void
sb_kv_free(struct sb_kv *kv)
{
    for (uint32_t i = 0; i < kv->n; i++) {
        nano_free(kv->ents[i].key);
        nano_free(kv->ents[i].val);
    }
    nano_free(kv->ents);
    memset(kv, 0, sizeof *kv);
}

static void
file_name(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s.kv", name);
}

int
sb_kv_load(struct sb_kv *kv, const char *dir, const char *name,
           struct nano_diag *d)
{
    struct nano_buf b;
    struct nano_cfg_doc *doc = NULL;
    char file[NANO_SANDBOX_NAME_MAX + 8];
    uint8_t *val = NULL;
    int rc;

    sb_kv_free(kv);
    if (!dir)
        return NANO_OK;
    file_name(name, file, sizeof file);
    nano_buf_init(&b, NANO_STATE_MAX);
    rc = nano_state_read(dir, file, &b, d);
    if (rc == -ENOENT) {
        nano_buf_free(&b);
        return NANO_OK;
    }
    if (rc == NANO_OK)
        rc = nano_cfg_parse_json(b.data ? b.data : "", b.len, file, &doc, d);
    nano_buf_free(&b);
    if (rc != NANO_OK)
        return rc == NANO_EPARSE ? NANO_ECORRUPT : rc;
    rc = NANO_OK;
    for (const struct nano_cfg_node *n = nano_cfg_root(doc)->child; n;
         n = n->next) {
        size_t len;
        if (n->kind != NANO_CFG_SCALAR || !n->key ||
            !sb_kv_key_ok(n->key, (uint32_t)strlen(n->key))) {
            rc = nano_diag_set(d, NANO_ECORRUPT, n->line, n->col,
                               "%s: entry is not a key and a base64 value", file);
            break;
        }
        if (!(val = nano_malloc(nano_base64_decoded_max(n->len)))) {
            rc = -ENOMEM;
            break;
        }
        rc = nano_base64_decode(n->str, n->len, val,
                                nano_base64_decoded_max(n->len), &len);
        if (rc == NANO_OK)
            /* A store saved under a larger kv_max still loads whole. */
            rc = sb_kv_set(kv, n->key, (uint32_t)strlen(n->key), val,
                           (uint32_t)len, UINT32_MAX);
        else
            rc = nano_diag_set(d, NANO_ECORRUPT, n->line, n->col,
                               "%s: key '%s' has a value that is not base64",
                               file, n->key);
        nano_free(val);
        if (rc != NANO_OK)
            break;
    }
    nano_cfg_free(doc);
    if (rc != NANO_OK)
        sb_kv_free(kv);
    kv->dirty = false;
    return rc;
}

int
sb_kv_save(struct sb_kv *kv, const char *dir, const char *name)
{
    struct nano_buf b, v;
    struct nano_json w;
    char file[NANO_SANDBOX_NAME_MAX + 8];
    int rc;

    if (!dir) {
        kv->dirty = false;
        return NANO_OK;
    }
    file_name(name, file, sizeof file);
    nano_buf_init(&b, NANO_STATE_MAX);
    nano_buf_init(&v, NANO_STATE_MAX);
    nano_json_init(&w, &b);
    nano_json_obj_begin(&w);
    for (uint32_t i = 0; i < kv->n; i++) {
        nano_buf_reset(&v);
        if (nano_base64_encode(kv->ents[i].val, kv->ents[i].vlen, &v) != NANO_OK)
            w.err = -ENOMEM;
        nano_json_key(&w, kv->ents[i].key);
        nano_json_strn(&w, v.data ? v.data : "", v.len);
    }
    nano_json_obj_end(&w);
    rc = nano_json_end(&w);
    if (rc == NANO_OK)
        rc = nano_state_write(dir, file, b.data, b.len);
    if (rc == NANO_OK)
        kv->dirty = false;
    nano_buf_free(&b);
    nano_buf_free(&v);
    return rc;
}

static void
on_flush(struct nano_loop *loop, struct nano_timer *t)
{
    struct sb_module *m = NANO_CONTAINER_OF(t, struct sb_module, kv_flush);

    (void)loop;
    sb_kv_flush(m);
}

void
sb_kv_touch(struct sb_module *m)
{
    m->st.kv_bytes = m->kv.bytes;
    m->st.kv_keys = m->kv.n;
    if (!m->sb->module_dir || nano_timer_active(&m->kv_flush))
        return;
    if (!m->kv_flush.cb)
        nano_timer_init(&m->kv_flush, on_flush);
    nano_timer_start(m->sb->loop, &m->kv_flush, SB_KV_FLUSH_MS, 0);
}

void
sb_kv_flush(struct sb_module *m)
{
    int rc;

    if (m->kv_flush.cb)
        nano_timer_stop(m->sb->loop, &m->kv_flush);
    if (!m->kv.dirty)
        return;
    rc = sb_kv_save(&m->kv, m->sb->module_dir, m->name);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, SB_LOG, "module '%s': cannot save its "
                  "key-value store: %s", m->name, nano_strerror(rc));
}
