/* SPDX-License-Identifier: MIT
 *
 * ctl_hal.c - nanoctl's pin and emulated-hardware commands.
 *
 *   nanoctl gpio list
 *   nanoctl gpio get PIN
 *   nanoctl gpio set PIN high|low|1|0|toggle
 *   nanoctl sim list
 *   nanoctl sim set BUS ADDRESS QUANTITY=VALUE...
 *   nanoctl sim fault BUS ADDRESS nack|timeout|crc|...|none
 */
#include <stdio.h>
#include <string.h>

#include "cmd/ctl.h"
#include "cmd/ctl_cmds.h"
#include "core/json.h"
#include "core/value.h"

static void
print_pin(const struct nano_cfg_node *p)
{
    const char *state = ctl_str(p, "state", "?");
    const char *level = ctl_str(p, "level", "-");

    printf("%-14s %-18s %4s %-4s %-5s %-6s %s\n", ctl_str(p, "name", "?"),
           ctl_str(p, "chip", "?"), ctl_str(p, "line", "?"),
           ctl_str(p, "direction", "?"),
           !strcmp(level, "1") ? "HIGH" : !strcmp(level, "0") ? "LOW" : "-",
           state, strcmp(state, "ok") ? ctl_str(p, "error", "") : "");
}

static int
pin_target(struct nano_buf *t, const char *name)
{
    nano_buf_init(t, 1024);
    nano_buf_puts(t, "/v1/pins/");
    ctl_buf_query_str(t, name);
    return 0;
}

int
ctl_cmd_gpio(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct nano_cfg_doc *doc = NULL;
    struct nano_buf t;
    int rc;

    if (!strcmp(sub, "list") && argc == 2) {
        if ((rc = ctl_fetch("GET", "/v1/pins", NULL, &doc)) || !doc)
            return rc;
        if (!nano_cfg_root(doc)->count)
            printf("(no pins; declare them in the config's pins: section)\n");
        for (const struct nano_cfg_node *p = nano_cfg_root(doc)->child; p; p = p->next)
            print_pin(p);
        nano_cfg_free(doc);
        return 0;
    }
    if (!strcmp(sub, "get") && argc == 3) {
        pin_target(&t, argv[2]);
        rc = ctl_fetch("GET", t.data, NULL, &doc);
        if (rc == 0 && doc) {
            const char *level = ctl_str(nano_cfg_root(doc), "level", "-");
            printf("%s\n", !strcmp(level, "1") ? "HIGH" : !strcmp(level, "0") ? "LOW"
                                                                               : "unknown");
        }
        nano_cfg_free(doc);
        nano_buf_free(&t);
        return rc;
    }
    if (!strcmp(sub, "set") && argc == 4) {
        struct nano_buf body;
        pin_target(&t, argv[2]);
        nano_buf_init(&body, 256);
        nano_buf_puts(&body, "{\"level\":");
        ctl_buf_json_str(&body, argv[3]);
        nano_buf_putc(&body, '}');
        rc = ctl_fetch("POST", t.data, body.data, &doc);
        if (rc == 0 && doc)
            print_pin(nano_cfg_root(doc));
        nano_cfg_free(doc);
        nano_buf_free(&body);
        nano_buf_free(&t);
        return rc;
    }
    fprintf(stderr, "usage: nanoctl gpio list\n"
            "       nanoctl gpio get PIN\n"
            "       nanoctl gpio set PIN high|low|1|0|toggle\n");
    return EXIT_USAGE;
}

int
ctl_cmd_sim(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct nano_cfg_doc *doc = NULL;
    struct nano_buf body;
    int rc;

    if (!strcmp(sub, "list") && argc == 2) {
        if ((rc = ctl_fetch("GET", "/v1/sim", NULL, &doc)) || !doc)
            return rc;
        for (const struct nano_cfg_node *e = nano_cfg_root(doc)->child; e; e = e->next) {
            const struct nano_cfg_node *vals = nano_cfg_get(e, "values");
            printf("%-10s %-18s %-8s %-8s", ctl_str(e, "bus", "?"),
                   ctl_str(e, "address", "?"), ctl_str(e, "model", "?"),
                   ctl_str(e, "fault", "none"));
            for (const struct nano_cfg_node *v = vals ? vals->child : NULL; v; v = v->next) {
                char val[64];
                printf(" %s=%s", v->key, ctl_value_text(v, val, sizeof val));
            }
            printf("\n");
        }
        nano_cfg_free(doc);
        return 0;
    }
    if ((!strcmp(sub, "set") && argc >= 5) || (!strcmp(sub, "fault") && argc == 5)) {
        nano_buf_init(&body, 4096);
        nano_buf_puts(&body, "{\"bus\":");
        ctl_buf_json_str(&body, argv[2]);
        nano_buf_puts(&body, ",\"address\":");
        ctl_buf_json_str(&body, argv[3]);
        if (!strcmp(sub, "fault")) {
            nano_buf_puts(&body, ",\"fault\":");
            ctl_buf_json_str(&body, argv[4]);
        } else {
            nano_buf_puts(&body, ",\"set\":{");
            for (int i = 4; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq || eq == argv[i] || !eq[1]) {
                    fprintf(stderr, "nanoctl: expected QUANTITY=VALUE, got '%s'\n",
                            argv[i]);
                    nano_buf_free(&body);
                    return EXIT_USAGE;
                }
                *eq = '\0';
                if (i > 4)
                    nano_buf_putc(&body, ',');
                ctl_buf_json_str(&body, argv[i]);
                nano_buf_putc(&body, ':');
                if (nano_value_from_text(eq + 1).type == NANO_VT_NUM)
                    nano_buf_puts(&body, eq + 1);     /* a number, as JSON */
                else
                    ctl_buf_json_str(&body, eq + 1);
                *eq = '=';
            }
            nano_buf_putc(&body, '}');
        }
        nano_buf_putc(&body, '}');
        rc = ctl_fetch("POST", "/v1/sim", body.data, &doc);
        nano_cfg_free(doc);
        nano_buf_free(&body);
        return rc;
    }
    fprintf(stderr, "usage: nanoctl sim list\n"
            "       nanoctl sim set BUS ADDRESS QUANTITY=VALUE...\n"
            "       nanoctl sim fault BUS ADDRESS nack|timeout|crc|unplug|none\n");
    return EXIT_USAGE;
}
