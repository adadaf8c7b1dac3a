/* SPDX-License-Identifier: MIT
 *
 * sandbox.c - the module manager (contract in sandbox.h): modules from the
 * config file and from the API, the persisted overlay, status views.
 *
 * Persistence, in the state directory:
 *   sandbox.json          the overlay:
 *                         { "installed": { "<name>": {settings}, ... },
 *                           "removed":  [ config modules the API unloaded ],
 *                           "disabled": [ modules the API disabled ],
 *                           "enabled":  [ modules the API enabled although
 *                                         their settings say enabled: false ] }
 *   sandbox/<name>.wasm   the bytes of each installed module (a state file:
 *                         header with length and CRC, so a torn or flipped
 *                         file is detected and set aside, never run)
 *   sandbox/<name>.kv     each module's key-value store (kv.c)
 * The config file is the starting state and the overlay the operator's
 * changes: an installed module shadows a config entry of the same name
 * (`nanoctl sandbox reload` of a config module makes it installed, so the
 * new code survives a restart).
 *
 * The overlay is rebuilt from the live modules on every save rather than
 * edited in place, so it never holds stale entries.
 */
#include <stdio.h>
#include <string.h>

#include "core/bus.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/state.h"
#include "core/time.h"
#include "sandbox/sandbox_int.h"

const char *
nano_sandbox_state_name(enum nano_sandbox_state s)
{
    switch (s) {
    case NANO_SANDBOX_RUNNING:     return "running";
    case NANO_SANDBOX_QUARANTINED: return "quarantined";
    case NANO_SANDBOX_DISABLED:    return "disabled";
    case NANO_SANDBOX_FAILED:      return "failed";
    }
    return "?";
}

/* ---- name sets ------------------------------------------------------------------ */

static bool
names_has(const struct sb_names *s, const char *name)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], name))
            return true;
    return false;
}

static void
names_del(struct sb_names *s, const char *name)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], name)) {
            nano_free(s->v[i]);
            s->v[i] = s->v[--s->n];
            return;
        }
}

static int
names_add(struct sb_names *s, const char *name)
{
    char *copy;

    if (names_has(s, name))
        return NANO_OK;
    if (s->n == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 8;
        char **v = nano_realloc(s->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    if (!(copy = nano_strdup(name)))
        return -ENOMEM;
    s->v[s->n++] = copy;
    return NANO_OK;
}

static void
names_free(struct sb_names *s)
{
    for (unsigned i = 0; i < s->n; i++)
        nano_free(s->v[i]);
    nano_free(s->v);
    memset(s, 0, sizeof *s);
}

bool
sb_want_enabled(const struct sb_module *m)
{
    if (names_has(&m->sb->enabled, m->name))
        return true;
    if (names_has(&m->sb->disabled, m->name))
        return false;
    return m->set.enabled;
}

/* ---- modules --------------------------------------------------------------------- */

static struct sb_module *
find(const struct nano_sandbox *sb, const char *name)
{
    const struct nano_list *it;

    nano_list_foreach(it, &sb->modules) {
        struct sb_module *m = NANO_CONTAINER_OF(it, struct sb_module, link);
        if (!strcmp(m->name, name))
            return m;
    }
    return NULL;
}

static void
file_of(const char *name, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%s", name, ext);
}

/* A new module record, not yet running (state failed until a version is
 * swapped in).  Its key-value store is read from the state directory. */
static struct sb_module *
module_new(struct nano_sandbox *sb, const char *name)
{
    struct sb_module *m = nano_calloc(1, sizeof *m);
    struct nano_diag d = { 0 };
    int rc;

    if (!m)
        return NULL;
    m->sb = sb;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->state = m->st.state = NANO_SANDBOX_FAILED;
    m->log_tokens = SB_LOG_BURST;
    m->log_refill_ns = nano_time_mono_ns();
    sb_module_init_work(m);
    nano_timer_init(&m->kv_flush, NULL);
    sb_module_metrics(m);
    rc = sb_kv_load(&m->kv, sb->module_dir, name, &d);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, SB_LOG, "module '%s': key-value store "
                  "ignored: %s", name, d.msg[0] ? d.msg : nano_strerror(rc));
    m->st.kv_bytes = m->kv.bytes;
    m->st.kv_keys = m->kv.n;
    nano_list_append(&sb->modules, &m->link);
    return m;
}

/* Stop and free m.  forget: also delete its persisted bytes and store. */
static void
module_free(struct sb_module *m, bool forget)
{
    struct nano_sandbox *sb = m->sb;
    char file[NANO_SANDBOX_NAME_MAX + 8];

    sb_module_unsubscribe(m);
    if (forget) {
        nano_timer_stop(sb->loop, &m->kv_flush);
        if (sb->module_dir) {
            file_of(m->name, "kv", file, sizeof file);
            nano_state_remove(sb->module_dir, file);
            file_of(m->name, "wasm", file, sizeof file);
            nano_state_remove(sb->module_dir, file);
        }
    } else {
        sb_kv_flush(m);
    }
    sb_version_free(m->cur);
    sb_kv_free(&m->kv);
    nano_cfg_free(m->conf);
    nano_free(m->conf_json);
    sb_module_metrics_remove(m);
    nano_list_remove(&m->link);
    nano_free(m);
}

/* Copy a settings map into a new document whose root is the settings;
 * drop_file leaves out `file` (an installed module has no file).
 * Returns owned or NULL. */
static struct nano_cfg_doc *
settings_copy(const struct nano_cfg_node *settings, bool drop_file)
{
    struct nano_cfg_doc *doc = nano_cfg_new("settings");

    if (!doc)
        return NULL;
    if (!settings || settings->kind != NANO_CFG_MAP)
        return doc;
    for (const struct nano_cfg_node *n = settings->child; n; n = n->next) {
        if (drop_file && !strcmp(n->key, "file"))
            continue;
        if (!nano_cfg_copy(doc, nano_cfg_root(doc), n->key, n)) {
            nano_cfg_free(doc);
            return NULL;
        }
    }
    return doc;
}

/* A module that could not start: keep its settings so it is listed (and
 * persisted, if installed) with the reason.  Takes conf. */
static void
module_failed(struct sb_module *m, struct nano_cfg_doc *conf, const char *why)
{
    struct nano_buf json;

    if (conf) {
        nano_cfg_free(m->conf);
        m->conf = conf;
        sb_settings_parse(nano_cfg_root(conf), m->name, SB_FILE_ANY, &m->set,
                          NULL);
        nano_buf_init(&json, 1u << 20);
        nano_cfg_to_json(nano_cfg_root(conf), &json);
        nano_free(m->conf_json);
        m->conf_json = nano_buf_steal(&json);
    }
    sb_module_error(m, "%s", why);
    sb_module_set_state(m, NANO_SANDBOX_FAILED);
}

/* ---- overlay ---------------------------------------------------------------------- */

static void
write_names(struct nano_json *w, const char *key, const struct sb_names *s)
{
    nano_json_key(w, key);
    nano_json_arr_begin(w);
    for (unsigned i = 0; i < s->n; i++)
        nano_json_str(w, s->v[i]);
    nano_json_arr_end(w);
}

static int
overlay_save(struct nano_sandbox *sb)
{
    struct nano_buf b;
    struct nano_json w;
    const struct nano_list *it;
    int rc;

    if (!sb->state_dir)
        return NANO_OK;
    nano_buf_init(&b, NANO_STATE_MAX);
    nano_json_init(&w, &b);
    nano_json_obj_begin(&w);
    nano_json_key(&w, "installed");
    nano_json_obj_begin(&w);
    nano_list_foreach(it, &sb->modules) {
        struct sb_module *m = NANO_CONTAINER_OF(it, struct sb_module, link);
        if (!m->installed)
            continue;
        nano_json_key(&w, m->name);
        nano_json_raw(&w, m->conf_json ? m->conf_json : "{}",
                      m->conf_json ? strlen(m->conf_json) : 2);
    }
    nano_json_obj_end(&w);
    write_names(&w, "removed", &sb->removed);
    write_names(&w, "disabled", &sb->disabled);
    write_names(&w, "enabled", &sb->enabled);
    nano_json_obj_end(&w);
    rc = nano_json_end(&w);
    if (rc == NANO_OK)
        rc = nano_state_write(sb->state_dir, SB_STATE_FILE, b.data, b.len);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, SB_LOG, "cannot save %s/%s: %s", sb->state_dir,
                  SB_STATE_FILE, nano_strerror(rc));
    nano_buf_free(&b);
    return rc;
}

static void
read_names(const struct nano_cfg_node *root, const char *key,
           struct sb_names *s)
{
    const struct nano_cfg_node *n = nano_cfg_get(root, key);

    for (const struct nano_cfg_node *c = n && n->kind == NANO_CFG_LIST
                                         ? n->child : NULL; c; c = c->next)
        if (c->kind == NANO_CFG_SCALAR && sb_valid_name(c->str))
            names_add(s, c->str);
}

/* Start an installed module from its persisted settings and bytes. */
static void
start_installed(struct nano_sandbox *sb, const struct nano_cfg_node *settings)
{
    struct nano_diag d = { .origin = SB_STATE_FILE };
    struct sb_settings s;
    struct sb_version *v = NULL;
    struct sb_module *m;
    struct nano_cfg_doc *conf;
    struct nano_buf b;
    char file[NANO_SANDBOX_NAME_MAX + 8];
    uint8_t *bytes;
    size_t len;
    int rc;

    if (!sb_valid_name(settings->key) || find(sb, settings->key))
        return;
    if (!(m = module_new(sb, settings->key)))
        return;
    m->installed = true;
    if (!(conf = settings_copy(settings, true))) {
        module_failed(m, NULL, "out of memory");
        return;
    }
    rc = sb_settings_parse(nano_cfg_root(conf), m->name, SB_FILE_FORBIDDEN, &s, &d);
    if (rc != NANO_OK) {
        module_failed(m, conf, d.msg);
        return;
    }
    file_of(m->name, "wasm", file, sizeof file);
    nano_buf_init(&b, NANO_SANDBOX_MODULE_MAX + 1);
    rc = nano_state_read(sb->module_dir, file, &b, &d);
    if (rc != NANO_OK) {
        char why[NANO_DIAG_MSG_MAX + 4200];
        snprintf(why, sizeof why, "%s/%s: %s", sb->module_dir, file,
                 d.msg[0] ? d.msg : nano_strerror(rc));
        nano_buf_free(&b);
        nano_logf(NANO_LOG_ERR, SB_LOG, "module '%s' not started: %s",
                  m->name, why);
        module_failed(m, conf, why);
        return;
    }
    len = b.len;
    bytes = (uint8_t *)nano_buf_steal(&b);
    rc = sb_version_create(m, &s, bytes, len, &v, &d);
    if (rc == NANO_OK)
        rc = sb_module_swap(m, v, conf, &d);      /* takes v and conf */
    else
        goto failed;
    if (rc == NANO_OK)
        return;
    conf = settings_copy(settings, true);
failed:
    nano_logf(NANO_LOG_ERR, SB_LOG, "module '%s' not started: %s", m->name,
              d.msg);
    module_failed(m, conf, d.msg);
}

int
nano_sandbox_load_state(struct nano_sandbox *sb, struct nano_diag *d)
{
    struct nano_buf b;
    struct nano_cfg_doc *doc = NULL;
    const struct nano_cfg_node *root, *inst;
    int rc;

    if (!sb->state_dir)
        return NANO_OK;
    nano_buf_init(&b, NANO_STATE_MAX);
    rc = nano_state_read(sb->state_dir, SB_STATE_FILE, &b, d);
    if (rc == -ENOENT) {
        nano_buf_free(&b);
        return NANO_OK;
    }
    if (rc == NANO_OK)
        rc = nano_cfg_parse_json(b.data ? b.data : "", b.len, SB_STATE_FILE,
                                 &doc, d);
    nano_buf_free(&b);
    if (rc != NANO_OK)
        return rc == NANO_EPARSE ? NANO_ECORRUPT : rc;
    root = nano_cfg_root(doc);
    read_names(root, "removed", &sb->removed);
    read_names(root, "disabled", &sb->disabled);
    read_names(root, "enabled", &sb->enabled);
    inst = nano_cfg_get(root, "installed");
    for (const struct nano_cfg_node *c = inst && inst->kind == NANO_CFG_MAP
                                         ? inst->child : NULL; c; c = c->next)
        start_installed(sb, c);
    nano_cfg_free(doc);
    return NANO_OK;
}

/* ---- config ---------------------------------------------------------------------------- */

static const struct nano_cfg_field section_item = {
    .type = NANO_CFGT_MAP, .fields = sb_module_fields,
};
static const struct nano_cfg_field section_field = {
    .type = NANO_CFGT_DICT, .item = &section_item, .noun = "module",
};

int
nano_sandbox_validate(const struct nano_cfg_node *section,
                      const char *config_path, struct nano_diag *d)
{
    char what[NANO_SANDBOX_NAME_MAX + 80], path[4096];
    int rc;

    if (!section || section->kind == NANO_CFG_NULL)
        return NANO_OK;
    rc = nano_cfg_validate(section, &section_field, "sandbox", NULL, d);
    if (rc != NANO_OK)
        return rc;
    for (const struct nano_cfg_node *n = section->child; n; n = n->next) {
        const struct nano_cfg_node *f;
        uint8_t *bytes;
        size_t len;

        if (!sb_valid_name(n->key))
            return nano_diag_set(d, NANO_ESCHEMA, n->key_line, n->key_col,
                                 "module name '%s' must be 1-%d letters, "
                                 "digits, '_' or '-' (it names files in the "
                                 "state directory)", n->key,
                                 NANO_SANDBOX_NAME_MAX);
        snprintf(what, sizeof what, "module '%s'", n->key);
        rc = sb_settings_parse(n, what, SB_FILE_REQUIRED, NULL, d);
        if (rc != NANO_OK)
            return rc;
        /* The file must exist and fit the host interface, so that a
         * typo shows in --check-config and not as a failed module. */
        f = nano_cfg_get(n, "file");
        sb_resolve_path(config_path, f->str, path, sizeof path);
        rc = sb_read_file(path, &bytes, &len);
        if (rc != NANO_OK)
            return nano_cfg_error(f, d, "%s: cannot read '%s': %s", what, path,
                                  rc == -E2BIG ? "larger than the module "
                                  "limit of 512 KiB" : nano_strerror(rc));
        rc = nano_sandbox_check(bytes, len, NULL, d);
        nano_free(bytes);
        if (rc != NANO_OK) {
            char why[NANO_DIAG_MSG_MAX];
            snprintf(why, sizeof why, "%s", d->msg);
            return nano_cfg_error(f, d, "%s: %s: %s", what, path, why);
        }
    }
    return NANO_OK;
}

/* Bring one config entry up to date: untouched when its settings and
 * bytes are unchanged, hot-swapped when they changed, created when new. */
static void
reconcile(struct nano_sandbox *sb, const struct nano_cfg_node *entry)
{
    struct sb_module *m = find(sb, entry->key);
    struct nano_diag d = { .origin = "config" };
    struct sb_settings s;
    struct sb_version *v;
    struct nano_cfg_doc *conf;
    struct nano_buf json;
    char path[4096], why[600];
    uint8_t *bytes;
    size_t len;
    uint32_t crc;
    bool same;
    int rc;

    if (!m && !(m = module_new(sb, entry->key)))
        return;
    m->from_config = true;
    rc = sb_settings_parse(entry, m->name, SB_FILE_REQUIRED, &s, &d);
    if (rc == NANO_OK) {
        sb_resolve_path(sb->config_path, s.file, path, sizeof path);
        rc = sb_read_file(path, &bytes, &len);
        if (rc != NANO_OK)
            nano_diag_set(&d, rc, 0, 0, "cannot read '%s': %s", path,
                          nano_strerror(rc));
    }
    if (rc != NANO_OK) {
        snprintf(why, sizeof why, "%s", d.msg);
        goto failed;
    }
    crc = nano_crc32(bytes, len);
    nano_buf_init(&json, 1u << 20);
    nano_cfg_to_json(entry, &json);
    same = m->cur && m->conf_json && json.data &&
           !strcmp(m->conf_json, json.data) && m->file_crc == crc &&
           m->file_len == len;
    nano_buf_free(&json);
    if (same) {
        nano_free(bytes);
        return;
    }
    m->file_crc = crc;
    m->file_len = len;
    if (!(conf = settings_copy(entry, false))) {
        nano_free(bytes);
        snprintf(why, sizeof why, "out of memory");
        goto failed;
    }
    /* s points into entry; the version needs settings that outlive it. */
    sb_settings_parse(nano_cfg_root(conf), m->name, SB_FILE_ANY, &s, NULL);
    rc = sb_version_create(m, &s, bytes, len, &v, &d);
    if (rc == NANO_OK) {
        bool had = m->cur != NULL;
        rc = sb_module_swap(m, v, conf, &d);
        if (rc == NANO_OK) {
            nano_logf(NANO_LOG_INFO, SB_LOG, "module '%s' %s from %s (%zu "
                      "bytes)", m->name, had ? "replaced" : "loaded", path, len);
            return;
        }
    } else {
        nano_cfg_free(conf);
    }
    snprintf(why, sizeof why, "%s", d.msg);
failed:
    if (m->cur) {
        /* The running version stays: a bad edit never stops a service. */
        sb_module_error(m, "config change not applied: %s", why);
        nano_logf(NANO_LOG_ERR, SB_LOG, "module '%s': config change not "
                  "applied, the running version stays: %s", m->name, why);
        return;
    }
    nano_logf(NANO_LOG_ERR, SB_LOG, "module '%s' not started: %s", m->name, why);
    module_failed(m, settings_copy(entry, false), why);
}

int
nano_sandbox_apply_config(struct nano_sandbox *sb,
                          const struct nano_cfg_node *section,
                          const char *config_path)
{
    struct nano_list *it, *tmp;
    bool pruned = false;

    if (section && section->kind != NANO_CFG_MAP)
        section = NULL;
    sb->config = section;
    nano_free(sb->config_path);
    sb->config_path = config_path ? nano_strdup(config_path) : NULL;
    /* Drop config modules that are no longer configured. */
    nano_list_foreach_safe(it, tmp, &sb->modules) {
        struct sb_module *m = NANO_CONTAINER_OF(it, struct sb_module, link);
        if (m->installed || !m->from_config)
            continue;
        if (!section || !nano_cfg_get(section, m->name) ||
            names_has(&sb->removed, m->name)) {
            nano_logf(NANO_LOG_INFO, SB_LOG, "module '%s' is no longer "
                      "configured; unloaded", m->name);
            module_free(m, false);
        }
    }
    for (const struct nano_cfg_node *n = section ? section->child : NULL; n;
         n = n->next) {
        struct sb_module *m = find(sb, n->key);
        if (names_has(&sb->removed, n->key))
            continue;
        if (m && m->installed) {
            nano_logf(NANO_LOG_INFO, SB_LOG, "module '%s': the config entry is "
                      "shadowed by the version loaded through the API", n->key);
            continue;
        }
        reconcile(sb, n);
    }
    /* A config module the API unloaded stays unloaded while its entry
     * exists; once the entry is gone, re-adding it loads it again. */
    for (unsigned i = 0; i < sb->removed.n;) {
        if (!section || !nano_cfg_get(section, sb->removed.v[i])) {
            names_del(&sb->removed, sb->removed.v[i]);
            pruned = true;
        } else {
            i++;
        }
    }
    return pruned ? overlay_save(sb) : NANO_OK;
}

/* ---- run-time management (API) ----------------------------------------------------------- */

static int
persist_bytes(struct nano_sandbox *sb, const char *name, const uint8_t *wasm,
              size_t len)
{
    char file[NANO_SANDBOX_NAME_MAX + 8];

    if (!sb->module_dir)
        return NANO_OK;
    file_of(name, "wasm", file, sizeof file);
    return nano_state_write(sb->module_dir, file, wasm, len);
}

static uint8_t *
copy_bytes(const uint8_t *wasm, size_t len)
{
    uint8_t *p = nano_malloc(len ? len : 1);

    if (p && len)
        memcpy(p, wasm, len);
    return p;
}

int
nano_sandbox_load(struct nano_sandbox *sb, const char *name,
                  const struct nano_cfg_node *settings, const uint8_t *wasm,
                  size_t len, struct nano_diag *d)
{
    struct sb_settings s;
    struct sb_version *v = NULL;
    struct sb_module *m;
    struct nano_cfg_doc *conf;
    char what[NANO_SANDBOX_NAME_MAX + 16];
    uint8_t *bytes;
    int rc;

    if (!sb_valid_name(name))
        return nano_diag_set(d, NANO_ESCHEMA, 0, 0, "module name '%s' must be "
                             "1-%d letters, digits, '_' or '-' (it names files "
                             "in the state directory)", name,
                             NANO_SANDBOX_NAME_MAX);
    if (find(sb, name))
        return nano_diag_set(d, NANO_EEXISTS, 0, 0, "module '%s' is already "
                             "loaded (use reload to replace its code)", name);
    if (len > NANO_SANDBOX_MODULE_MAX)
        return nano_diag_set(d, -E2BIG, 0, 0, "module of %zu bytes is over the "
                             "limit of %u", len, NANO_SANDBOX_MODULE_MAX);
    snprintf(what, sizeof what, "module '%s'", name);
    if (settings && (rc = sb_settings_parse(settings, what, SB_FILE_FORBIDDEN,
                                            NULL, d)) != NANO_OK)
        return rc;
    if (!(conf = settings_copy(settings, true)))
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    sb_settings_parse(nano_cfg_root(conf), name, SB_FILE_ANY, &s, NULL);
    if (!(bytes = copy_bytes(wasm, len))) {
        nano_cfg_free(conf);
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    }
    if (!(m = module_new(sb, name))) {
        nano_free(bytes);
        nano_cfg_free(conf);
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    }
    /* An earlier module of this name may have left a store behind (the
     * state directory outlived it): a new module starts empty. */
    sb_kv_free(&m->kv);
    rc = sb_version_create(m, &s, bytes, len, &v, d);
    if (rc != NANO_OK) {
        nano_cfg_free(conf);
        module_free(m, true);
        return rc;
    }
    rc = persist_bytes(sb, name, wasm, len);
    if (rc != NANO_OK) {
        sb_version_free(v);
        nano_cfg_free(conf);
        module_free(m, true);
        return nano_diag_set(d, rc, 0, 0, "cannot persist module '%s': %s",
                             name, nano_strerror(rc));
    }
    m->installed = true;
    names_del(&sb->disabled, name);
    names_del(&sb->enabled, name);
    if ((rc = sb_module_swap(m, v, conf, d)) != NANO_OK ||
        (rc = overlay_save(sb)) != NANO_OK) {
        /* Not persisted means not loaded: undo. */
        if (rc != NANO_OK && !d->msg[0])
            nano_diag_set(d, rc, 0, 0, "cannot persist module '%s': %s", name,
                          nano_strerror(rc));
        module_free(m, true);
        return rc;
    }
    nano_logf(NANO_LOG_INFO, SB_LOG, "loaded module '%s' (%zu bytes, %u "
              "subscriptions)", name, len, m->nsubs);
    return NANO_OK;
}

int
nano_sandbox_reload(struct nano_sandbox *sb, const char *name,
                    const uint8_t *wasm, size_t len, struct nano_diag *d)
{
    struct sb_module *m = find(sb, name);
    struct sb_settings s;
    struct sb_version *v = NULL;
    struct nano_cfg_doc *conf;
    uint8_t *bytes;
    bool was_installed;
    int rc;

    if (!m)
        return nano_diag_set(d, NANO_ENOTFOUND, 0, 0, "no module '%s'", name);
    if (len > NANO_SANDBOX_MODULE_MAX)
        return nano_diag_set(d, -E2BIG, 0, 0, "module of %zu bytes is over the "
                             "limit of %u", len, NANO_SANDBOX_MODULE_MAX);
    /* Same settings; a config module's `file` goes, the bytes replace it. */
    if (!(conf = settings_copy(m->conf ? nano_cfg_root(m->conf) : NULL, true)))
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    sb_settings_parse(nano_cfg_root(conf), name, SB_FILE_ANY, &s, NULL);
    if (!(bytes = copy_bytes(wasm, len))) {
        nano_cfg_free(conf);
        return nano_diag_set(d, -ENOMEM, 0, 0, "out of memory");
    }
    rc = sb_version_create(m, &s, bytes, len, &v, d);
    if (rc == NANO_OK && (rc = persist_bytes(sb, name, wasm, len)) != NANO_OK) {
        nano_diag_set(d, rc, 0, 0, "cannot persist module '%s': %s", name,
                      nano_strerror(rc));
        sb_version_free(v);
    }
    if (rc != NANO_OK) {
        nano_cfg_free(conf);
        nano_logf(NANO_LOG_WARN, SB_LOG, "module '%s': reload rejected, the "
                  "running version stays: %s", name, d->msg);
        return rc;
    }
    rc = sb_module_swap(m, v, conf, d);
    if (rc != NANO_OK)
        return rc;
    was_installed = m->installed;
    m->installed = true;
    if ((rc = overlay_save(sb)) != NANO_OK) {
        /* The new code runs, but would not come back after a restart. */
        m->installed = was_installed;
        return nano_diag_set(d, rc, 0, 0, "module '%s' replaced but not "
                             "persisted: %s", name, nano_strerror(rc));
    }
    nano_logf(NANO_LOG_INFO, SB_LOG, "module '%s' replaced by version %u (%zu "
              "bytes)", name, m->st.version, len);
    return NANO_OK;
}

int
nano_sandbox_unload(struct nano_sandbox *sb, const char *name)
{
    struct sb_module *m = find(sb, name);

    if (!m)
        return NANO_ENOTFOUND;
    if (sb->config && nano_cfg_get(sb->config, name))
        names_add(&sb->removed, name);
    names_del(&sb->disabled, name);
    names_del(&sb->enabled, name);
    module_free(m, true);
    nano_logf(NANO_LOG_INFO, SB_LOG, "unloaded module '%s'", name);
    return overlay_save(sb);
}

int
nano_sandbox_set_enabled(struct nano_sandbox *sb, const char *name,
                         bool enabled)
{
    struct sb_module *m = find(sb, name);

    if (!m)
        return NANO_ENOTFOUND;
    names_del(&sb->disabled, name);
    names_del(&sb->enabled, name);
    if (!enabled)
        names_add(&sb->disabled, name);
    else if (!m->set.enabled)
        names_add(&sb->enabled, name);
    if (m->state == NANO_SANDBOX_FAILED) {
        overlay_save(sb);
        return enabled ? -EINVAL : NANO_OK;
    }
    if (enabled && m->state == NANO_SANDBOX_QUARANTINED)
        nano_logf(NANO_LOG_INFO, SB_LOG, "module '%s' leaves quarantine",
                  name);
    sb_module_set_state(m, enabled ? NANO_SANDBOX_RUNNING
                                   : NANO_SANDBOX_DISABLED);
    return overlay_save(sb);
}

/* ---- the manager ---------------------------------------------------------------------------- */

int
nano_sandbox_new(struct nano_loop *loop, struct nano_bus *bus,
                 const char *state_dir, struct nano_sandbox **sb_out)
{
    struct nano_sandbox *sb = nano_calloc(1, sizeof *sb);
    int rc;

    *sb_out = NULL;
    if (!sb)
        return -ENOMEM;
    sb->loop = loop;
    sb->bus = bus;
    nano_list_init(&sb->modules);
    if (state_dir) {
        struct nano_buf p;
        nano_buf_init(&p, 4200);
        nano_buf_printf(&p, "%s/%s", state_dir, SB_STATE_SUBDIR);
        sb->state_dir = nano_strdup(state_dir);
        sb->module_dir = nano_buf_steal(&p);
        if (!sb->state_dir || !sb->module_dir) {
            nano_sandbox_free(sb);
            return -ENOMEM;
        }
        rc = nano_state_mkdir(sb->module_dir);
        if (rc != NANO_OK) {
            nano_sandbox_free(sb);
            return rc;
        }
    }
    if ((rc = sb_imports_build(&sb->imports)) != NANO_OK) {
        nano_sandbox_free(sb);
        return rc;
    }
    *sb_out = sb;
    return NANO_OK;
}

void
nano_sandbox_free(struct nano_sandbox *sb)
{
    struct nano_list *it, *tmp;

    if (!sb)
        return;
    nano_list_foreach_safe(it, tmp, &sb->modules)
        module_free(NANO_CONTAINER_OF(it, struct sb_module, link), false);
    nano_wasm_imports_free(sb->imports);
    names_free(&sb->removed);
    names_free(&sb->disabled);
    names_free(&sb->enabled);
    nano_free(sb->config_path);
    nano_free(sb->state_dir);
    nano_free(sb->module_dir);
    nano_free(sb);
}

void
nano_sandbox_set_pin_hook(struct nano_sandbox *sb, nano_sandbox_pin_fn *fn,
                          void *arg)
{
    sb->pin_fn = fn;
    sb->pin_arg = arg;
}

void
nano_sandbox_flush(struct nano_sandbox *sb)
{
    const struct nano_list *it;

    nano_list_foreach(it, &sb->modules)
        sb_kv_flush(NANO_CONTAINER_OF(it, struct sb_module, link));
}

/* ---- views ------------------------------------------------------------------------------------ */

static void
write_list(struct nano_json *w, const char *key, const char *const *v,
           unsigned n)
{
    nano_json_key(w, key);
    nano_json_arr_begin(w);
    for (unsigned i = 0; i < n; i++)
        nano_json_str(w, v[i]);
    nano_json_arr_end(w);
}

static void
write_module(const struct sb_module *m, struct nano_json *w)
{
    const struct sb_settings *s = &m->set;
    size_t mem = 0;
    char crc[16];

    nano_json_obj_begin(w);
    nano_json_key(w, "name");        nano_json_str(w, m->name);
    nano_json_key(w, "state");
    nano_json_str(w, nano_sandbox_state_name(m->state));
    nano_json_key(w, "origin");
    nano_json_str(w, m->installed ? "installed" : "config");
    nano_json_key(w, "version");     nano_json_uint(w, m->st.version);
    if (m->cur) {
        snprintf(crc, sizeof crc, "%08x", m->cur->crc);
        nano_json_key(w, "size");    nano_json_uint(w, m->cur->len);
        nano_json_key(w, "crc32");   nano_json_str(w, crc);
        nano_json_key(w, "loaded");  nano_json_int(w, m->loaded_us);
        nano_wasm_memory(m->cur->inst, &mem);
        nano_json_key(w, "memory_used"); nano_json_uint(w, mem);
        nano_json_key(w, "inbox");   nano_json_uint(w, m->cur->inbox_size);
    }
    nano_json_key(w, "subscriptions");
    nano_json_arr_begin(w);
    for (unsigned i = 0; i < m->nsubs; i++) {
        struct nano_sub_stats st;
        nano_sub_get_stats(m->subs[i], &st);
        nano_json_obj_begin(w);
        nano_json_key(w, "filter");  nano_json_str(w, nano_sub_filter(m->subs[i]));
        nano_json_key(w, "queued");  nano_json_uint(w, st.queued);
        nano_json_key(w, "queue");   nano_json_uint(w, st.queue_cap);
        nano_json_key(w, "delivered"); nano_json_uint(w, st.delivered);
        nano_json_key(w, "overflow"); nano_json_uint(w, st.dropped);
        nano_json_obj_end(w);
    }
    nano_json_arr_end(w);
    nano_json_key(w, "grants");
    nano_json_obj_begin(w);
    write_list(w, "publish", s->pub, s->npub);
    write_list(w, "read", s->read, s->nread);
    write_list(w, "pins", s->pins, s->npins);
    nano_json_obj_end(w);
    nano_json_key(w, "limits");
    nano_json_obj_begin(w);
    nano_json_key(w, "fuel");        nano_json_uint(w, s->fuel);
    nano_json_key(w, "deadline_ms"); nano_json_uint(w, s->deadline_ms);
    nano_json_key(w, "memory");      nano_json_uint(w, (uint64_t)s->memory_pages * 65536);
    nano_json_key(w, "queue");       nano_json_uint(w, s->queue);
    nano_json_key(w, "max_faults");  nano_json_uint(w, s->max_faults);
    nano_json_key(w, "fault_window_s");
    nano_json_num(w, (double)s->window_ns / 1e9);
    nano_json_key(w, "kv_max");      nano_json_uint(w, s->kv_max);
    nano_json_key(w, "max_publish"); nano_json_uint(w, s->max_publish);
    nano_json_obj_end(w);
    nano_json_key(w, "calls");       nano_json_uint(w, m->st.calls);
    nano_json_key(w, "faults");      nano_json_uint(w, m->st.faults);
    nano_json_key(w, "traps");
    nano_json_obj_begin(w);
    for (int k = 0; k < NANO_SANDBOX_TRAP_KINDS; k++)
        if (m->st.traps[k]) {
            nano_json_key(w, nano_wasm_trap_name((enum nano_wasm_trap_kind)k));
            nano_json_uint(w, m->st.traps[k]);
        }
    nano_json_obj_end(w);
    nano_json_key(w, "quarantines"); nano_json_uint(w, m->st.quarantines);
    nano_json_key(w, "denied");      nano_json_uint(w, m->st.denied);
    nano_json_key(w, "published");   nano_json_uint(w, m->st.published);
    nano_json_key(w, "dropped");     nano_json_uint(w, m->st.dropped);
    nano_json_key(w, "truncated");   nano_json_uint(w, m->st.truncated);
    nano_json_key(w, "fuel_used");   nano_json_uint(w, m->st.fuel_used);
    nano_json_key(w, "fuel_last");   nano_json_uint(w, m->fuel_last);
    nano_json_key(w, "kv");
    nano_json_obj_begin(w);
    nano_json_key(w, "keys");        nano_json_uint(w, m->kv.n);
    nano_json_key(w, "bytes");       nano_json_uint(w, m->kv.bytes);
    nano_json_obj_end(w);
    nano_json_key(w, "last_error");
    if (m->last_error[0]) {
        nano_json_str(w, m->last_error);
        nano_json_key(w, "last_error_ts");
        nano_json_int(w, m->last_error_us);
    } else {
        nano_json_null(w);
    }
    nano_json_obj_end(w);
}

void
nano_sandbox_write_list(struct nano_sandbox *sb, struct nano_json *w)
{
    const struct nano_list *it;

    nano_json_arr_begin(w);
    nano_list_foreach(it, &sb->modules)
        write_module(NANO_CONTAINER_OF(it, struct sb_module, link), w);
    nano_json_arr_end(w);
}

int
nano_sandbox_write_one(struct nano_sandbox *sb, const char *name,
                       struct nano_json *w)
{
    const struct sb_module *m = find(sb, name);

    if (!m)
        return NANO_ENOTFOUND;
    write_module(m, w);
    return NANO_OK;
}

int
nano_sandbox_module_stats(const struct nano_sandbox *sb, const char *name,
                          struct nano_sandbox_module_stats *out)
{
    const struct sb_module *m = find(sb, name);

    if (!m)
        return NANO_ENOTFOUND;
    *out = m->st;
    out->state = m->state;
    out->kv_bytes = m->kv.bytes;
    out->kv_keys = m->kv.n;
    return NANO_OK;
}

void
nano_sandbox_get_stats(const struct nano_sandbox *sb,
                       struct nano_sandbox_stats *out)
{
    const struct nano_list *it;

    memset(out, 0, sizeof *out);
    if (!sb)
        return;
    nano_list_foreach(it, &sb->modules) {
        const struct sb_module *m = NANO_CONTAINER_OF(it, struct sb_module, link);
        out->modules++;
        out->running += m->state == NANO_SANDBOX_RUNNING;
        out->quarantined += m->state == NANO_SANDBOX_QUARANTINED;
        out->disabled += m->state == NANO_SANDBOX_DISABLED;
        out->failed += m->state == NANO_SANDBOX_FAILED;
        out->calls += m->st.calls;
        out->faults += m->st.faults;
    }
}
