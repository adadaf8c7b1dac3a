/* SPDX-License-Identifier: MIT
 *
 * overlay.c - persisted run-time changes (see overlay.h).
 */
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/overlay.h"
#include "core/state.h"

static int
reset(struct nano_overlay *ov)
{
    struct nano_cfg_node *root;

    nano_cfg_free(ov->doc);
    ov->doc = nano_cfg_new(ov->file);
    ov->added = ov->lists[0] = ov->lists[1] = NULL;
    if (!ov->doc)
        return -ENOMEM;
    root = nano_cfg_root(ov->doc);
    ov->added = nano_cfg_add(ov->doc, root, ov->keys[0], NANO_CFG_MAP, NULL, false);
    ov->lists[0] = nano_cfg_add(ov->doc, root, ov->keys[1], NANO_CFG_LIST, NULL, false);
    ov->lists[1] = nano_cfg_add(ov->doc, root, ov->keys[2], NANO_CFG_LIST, NULL, false);
    if (!ov->added || !ov->lists[0] || !ov->lists[1])
        return -ENOMEM;
    return NANO_OK;
}

int
nano_overlay_init(struct nano_overlay *ov, const char *file, const char *module,
                  const char *added_key, const char *list0_key,
                  const char *list1_key)
{
    memset(ov, 0, sizeof *ov);
    ov->file = file;
    ov->module = module;
    ov->keys[0] = added_key;
    ov->keys[1] = list0_key;
    ov->keys[2] = list1_key;
    return reset(ov);
}

void
nano_overlay_free(struct nano_overlay *ov)
{
    nano_cfg_free(ov->doc);
    ov->doc = NULL;
    ov->added = ov->lists[0] = ov->lists[1] = NULL;
}

struct nano_cfg_node *
nano_overlay_get(const struct nano_overlay *ov, const char *name)
{
    return nano_cfg_get(ov->added, name);
}

struct nano_cfg_node *
nano_overlay_put(struct nano_overlay *ov, const char *name,
                 const struct nano_cfg_node *settings)
{
    nano_overlay_drop(ov, name);
    return nano_cfg_copy(ov->doc, ov->added, name, settings);
}

void
nano_overlay_drop(struct nano_overlay *ov, const char *name)
{
    struct nano_cfg_node *n = nano_cfg_get(ov->added, name);

    if (n)
        nano_cfg_unlink(n);
}

bool
nano_overlay_listed(const struct nano_overlay *ov, int which, const char *name)
{
    const struct nano_cfg_node *list = ov->lists[which & 1];

    for (const struct nano_cfg_node *n = list ? list->child : NULL; n; n = n->next)
        if (n->kind == NANO_CFG_SCALAR && strcmp(n->str, name) == 0)
            return true;
    return false;
}

int
nano_overlay_list_add(struct nano_overlay *ov, int which, const char *name)
{
    if (nano_overlay_listed(ov, which, name))
        return NANO_OK;
    return nano_cfg_add(ov->doc, ov->lists[which & 1], NULL, NANO_CFG_SCALAR,
                        name, true) ? NANO_OK : -ENOMEM;
}

void
nano_overlay_list_del(struct nano_overlay *ov, int which, const char *name)
{
    struct nano_cfg_node *n = ov->lists[which & 1]->child, *next;

    for (; n; n = next) {
        next = n->next;
        if (n->kind == NANO_CFG_SCALAR && strcmp(n->str, name) == 0)
            nano_cfg_unlink(n);
    }
}

int
nano_overlay_save(const struct nano_overlay *ov, const char *state_dir)
{
    struct nano_buf b;
    int rc;

    if (!state_dir)
        return NANO_OK;
    nano_buf_init(&b, NANO_STATE_MAX);
    rc = nano_cfg_to_json(nano_cfg_root(ov->doc), &b);
    if (rc == NANO_OK)
        rc = nano_state_write(state_dir, ov->file, b.data ? b.data : "{}", b.len);
    if (rc != NANO_OK)
        nano_logf(NANO_LOG_ERR, ov->module, "cannot save %s/%s: %s", state_dir,
                  ov->file, nano_strerror(rc));
    nano_buf_free(&b);
    return rc;
}

int
nano_overlay_load(struct nano_overlay *ov, const char *state_dir,
                  nano_overlay_check_fn *check, void *arg, struct nano_diag *d)
{
    struct nano_buf b;
    struct nano_cfg_doc *doc = NULL;
    const struct nano_cfg_node *root, *n;
    int rc;

    if ((rc = reset(ov)) != NANO_OK)
        return rc;
    if (!state_dir)
        return NANO_OK;
    nano_buf_init(&b, NANO_STATE_MAX);
    rc = nano_state_read(state_dir, ov->file, &b, d);
    if (rc == -ENOENT) {
        nano_buf_free(&b);
        return NANO_OK;
    }
    if (rc == NANO_OK)
        rc = nano_cfg_parse_json(b.data ? b.data : "", b.len, ov->file, &doc, d);
    nano_buf_free(&b);
    if (rc != NANO_OK)
        return rc == NANO_EPARSE ? NANO_ECORRUPT : rc;
    root = nano_cfg_root(doc);
    n = nano_cfg_get(root, ov->keys[0]);
    for (const struct nano_cfg_node *c = n && n->kind == NANO_CFG_MAP ? n->child : NULL;
         c; c = c->next) {
        struct nano_diag vd = { .origin = ov->file };
        if (check && check(c, c->key, &vd, arg) != NANO_OK) {
            nano_logf(NANO_LOG_WARN, ov->module, "saved '%s' skipped: %s", c->key,
                      vd.msg);
            continue;
        }
        if (!nano_cfg_copy(ov->doc, ov->added, c->key, c))
            rc = -ENOMEM;
    }
    for (int which = 0; which < 2; which++) {
        n = nano_cfg_get(root, ov->keys[1 + which]);
        for (const struct nano_cfg_node *c = n && n->kind == NANO_CFG_LIST ? n->child
                                                                             : NULL;
             c; c = c->next)
            if (c->kind == NANO_CFG_SCALAR && nano_overlay_list_add(ov, which, c->str))
                rc = -ENOMEM;
    }
    nano_cfg_free(doc);
    return rc;
}
