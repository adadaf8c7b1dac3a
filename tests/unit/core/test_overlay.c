/* test_overlay.c - persisted run-time changes: entries and name lists, save
 * and load round trip, entries refused on load, corrupt and missing files. */
#include <stdio.h>
#include <stdlib.h>

#include "harness/nt.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/log.h"
#include "core/overlay.h"

static struct nano_cfg_doc *
json(const char *text)
{
    struct nano_cfg_doc *doc = NULL;

    NT_ASSERT(nano_cfg_parse_json(text, strlen(text), "t", &doc, NULL) == NANO_OK);
    return doc;
}

static int
refuse_bad(const struct nano_cfg_node *settings, const char *name,
           struct nano_diag *d, void *arg)
{
    (*(int *)arg)++;
    if (nano_cfg_get(settings, "bad"))
        return nano_diag_set(d, NANO_ESCHEMA, 0, 0, "entry '%s' is bad", name);
    return NANO_OK;
}

static void
test_entries_lists_round_trip(void)
{
    char dir[] = "/tmp/nano-ov-XXXXXX";
    struct nano_overlay ov, back;
    struct nano_diag d = { 0 };
    struct nano_cfg_doc *a = json("{\"driver\":\"sim\",\"interval\":\"1s\"}");
    struct nano_cfg_doc *b = json("{\"driver\":\"x\",\"bad\":true}");
    int checked = 0;

    nano_log_configure(NANO_LOG_ERR, NANO_LOG_LOGFMT, 2);
    NT_ASSERT(mkdtemp(dir));
    NT_EQ_INT(nano_overlay_init(&ov, "things.json", "test", "added", "off", "gone"), NANO_OK);
    NT_CHECK(nano_overlay_put(&ov, "one", nano_cfg_root(a)) != NULL);
    NT_CHECK(nano_overlay_put(&ov, "two", nano_cfg_root(b)) != NULL);
    NT_CHECK(nano_overlay_put(&ov, "one", nano_cfg_root(a)) != NULL);  /* replaces */
    NT_EQ_INT(ov.added->count, 2);
    NT_EQ_INT(nano_overlay_list_add(&ov, 0, "one"), NANO_OK);
    NT_EQ_INT(nano_overlay_list_add(&ov, 0, "one"), NANO_OK);           /* a set */
    NT_EQ_INT(nano_overlay_list_add(&ov, 1, "cfgdev"), NANO_OK);
    NT_EQ_INT(ov.lists[0]->count, 1);
    NT_CHECK(nano_overlay_listed(&ov, 0, "one"));
    NT_CHECK(!nano_overlay_listed(&ov, 1, "one"));
    NT_EQ_INT(nano_overlay_save(&ov, dir), NANO_OK);

    NT_EQ_INT(nano_overlay_init(&back, "things.json", "test", "added", "off", "gone"), NANO_OK);
    NT_EQ_INT(nano_overlay_load(&back, dir, refuse_bad, &checked, &d), NANO_OK);
    NT_EQ_INT(checked, 2);
    NT_CHECK(nano_overlay_get(&back, "one") != NULL);
    NT_CHECK(nano_overlay_get(&back, "two") == NULL);     /* refused on load */
    NT_EQ_STR(nano_cfg_get(nano_overlay_get(&back, "one"), "interval")->str, "1s");
    NT_CHECK(nano_overlay_listed(&back, 0, "one"));
    NT_CHECK(nano_overlay_listed(&back, 1, "cfgdev"));

    nano_overlay_drop(&back, "one");
    nano_overlay_list_del(&back, 0, "one");
    NT_CHECK(nano_overlay_get(&back, "one") == NULL);
    NT_CHECK(!nano_overlay_listed(&back, 0, "one"));
    nano_overlay_free(&back);
    nano_overlay_free(&ov);
    nano_cfg_free(a);
    nano_cfg_free(b);
}

static void
test_missing_and_corrupt_files(void)
{
    char dir[] = "/tmp/nano-ov-XXXXXX", path[128];
    struct nano_overlay ov;
    struct nano_diag d = { 0 };
    FILE *f;

    NT_ASSERT(mkdtemp(dir));
    NT_EQ_INT(nano_overlay_init(&ov, "x.json", "test", "added", "a", "b"), NANO_OK);
    NT_EQ_INT(nano_overlay_load(&ov, dir, NULL, NULL, &d), NANO_OK);   /* none yet */
    NT_EQ_INT(nano_overlay_load(&ov, NULL, NULL, NULL, &d), NANO_OK);  /* no state dir */
    snprintf(path, sizeof path, "%s/x.json", dir);
    f = fopen(path, "w");
    NT_ASSERT(f);
    fputs("NANO-STATE 1 2 00000000\n{}", f);
    fclose(f);
    NT_EQ_INT(nano_overlay_load(&ov, dir, NULL, NULL, &d), NANO_ECORRUPT);
    NT_CHECK(strstr(d.msg, "checksum mismatch") != NULL);
    NT_EQ_INT(ov.added->count, 0);
    NT_EQ_INT(nano_overlay_list_add(&ov, 1, "still works"), NANO_OK);
    NT_EQ_INT(nano_overlay_save(&ov, dir), NANO_OK);
    NT_EQ_INT(nano_overlay_load(&ov, dir, NULL, NULL, &d), NANO_OK);
    NT_CHECK(nano_overlay_listed(&ov, 1, "still works"));
    NT_EQ_INT(nano_overlay_save(&ov, "/nonexistent/dir"), -ENOENT);
    nano_overlay_free(&ov);
}

NT_LIST = {
    { "entries_lists_round_trip", test_entries_lists_round_trip },
    { "missing_and_corrupt_files", test_missing_and_corrupt_files },
    { NULL, NULL }
};
