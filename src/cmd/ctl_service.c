/* SPDX-License-Identifier: MIT
 *
 * ctl_service.c - nanoctl's service commands (rules with actions).
 *
 *   nanoctl service start NAME --config JSON|@file.json|@file.yaml
 *   nanoctl service start NAME            (start a stopped service again)
 *   nanoctl service stop|restart|remove NAME
 *   nanoctl service list
 *   nanoctl service status NAME
 *   nanoctl service explain NAME [--topic TOPIC]
 *
 * A YAML file is parsed here and sent as JSON, so a service written for the
 * config file's services: section can be started as it is.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/ctl.h"
#include "cmd/ctl_cmds.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/json.h"

static void
service_target(struct nano_buf *t, const char *name, const char *verb)
{
    nano_buf_init(t, 1024);
    nano_buf_puts(t, "/v1/services/");
    ctl_buf_query_str(t, name);
    if (verb)
        nano_buf_printf(t, "/%s", verb);
}

/* --config text: inline JSON, or @file (JSON or YAML).  Appends JSON. */
static int
config_json(const char *arg, struct nano_buf *out)
{
    struct nano_cfg_doc *doc = NULL;
    struct nano_diag d = { 0 };
    char msg[600];
    int rc;

    if (arg[0] == '@') {
        rc = nano_cfg_load_file(arg + 1, &doc, &d);
    } else {
        d.origin = "--config";
        rc = nano_cfg_parse_json(arg, strlen(arg), "--config", &doc, &d);
    }
    if (rc != NANO_OK) {
        fprintf(stderr, "nanoctl: %s\n", nano_diag_format(&d, msg, sizeof msg));
        return EXIT_USAGE;
    }
    rc = nano_cfg_to_json(nano_cfg_root(doc), out);
    nano_cfg_free(doc);
    return rc == NANO_OK ? 0 : EXIT_USAGE;
}

static int
cmd_start(int argc, char **argv)
{
    const char *name = NULL, *config = NULL;
    struct nano_buf body;
    struct nano_cfg_doc *doc = NULL;
    int rc;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9))
            config = argv[i] + 9;
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else
            name = NULL, i = argc;          /* usage error below */
    }
    if (!name) {
        fprintf(stderr, "usage: nanoctl service start NAME [--config JSON|@file.json|@file.yaml]\n");
        return EXIT_USAGE;
    }
    nano_buf_init(&body, 1u << 20);
    nano_buf_puts(&body, "{\"name\":");
    ctl_buf_json_str(&body, name);
    if (config) {
        nano_buf_puts(&body, ",\"config\":");
        if ((rc = config_json(config, &body))) {
            nano_buf_free(&body);
            return rc;
        }
    }
    nano_buf_putc(&body, '}');
    rc = ctl_fetch("POST", "/v1/services", body.data, &doc);
    if (rc == 0 && doc)
        printf("service %s: %s (%s)\n", name,
               ctl_str(nano_cfg_root(doc), "status", "running"),
               ctl_str(nano_cfg_root(doc), "state", "idle"));
    nano_cfg_free(doc);
    nano_buf_free(&body);
    return rc;
}

static const char *
since_text(const struct nano_cfg_node *s, char *out, size_t cap)
{
    double ago = ctl_num(s, "since_s_ago");

    if (ago < 60)
        snprintf(out, cap, "%.0fs", ago);
    else if (ago < 7200)
        snprintf(out, cap, "%.0fm", ago / 60);
    else
        snprintf(out, cap, "%.0fh", ago / 3600);
    return out;
}

static int
cmd_list(void)
{
    struct nano_cfg_doc *doc;
    int rc;

    if ((rc = ctl_fetch("GET", "/v1/services", NULL, &doc)) || !doc)
        return rc;
    if (!nano_cfg_root(doc)->count)
        printf("(no services; see nanoctl service start)\n");
    else
        printf("%-16s %-8s %-8s %-8s %6s  %s\n", "SERVICE", "STATUS", "STATE",
               "SINCE", "FIRES", "RULE");
    for (const struct nano_cfg_node *s = nano_cfg_root(doc)->child; s; s = s->next) {
        char since[16];
        printf("%-16s %-8s %-8s %-8s %6s  %s\n", ctl_str(s, "name", "?"),
               ctl_str(s, "status", "?"), ctl_str(s, "state", "-"),
               since_text(s, since, sizeof since), ctl_str(s, "fires", "0"),
               ctl_str(s, "rule", ""));
    }
    nano_cfg_free(doc);
    return 0;
}

static int
cmd_status(const char *name)
{
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *s, *det, *la, *inputs;
    struct nano_buf t;
    char since[16];
    int rc;

    service_target(&t, name, NULL);
    rc = ctl_fetch("GET", t.data, NULL, &doc);
    nano_buf_free(&t);
    if (rc || !doc)
        return rc;
    s = nano_cfg_root(doc);
    det = nano_cfg_get(s, "detail");
    printf("service    %s (%s, from %s)\n", ctl_str(s, "name", "?"),
           ctl_str(s, "status", "?"), ctl_str(s, "origin", "?"));
    printf("rule       %s\n", ctl_str(s, "rule", ""));
    const char *state = ctl_str(s, "state", "-");
    printf("state      %s %s %s ago%s\n", state,
           !strcmp(state, "pending") ? "since" : "for",
           since_text(s, since, sizeof since),
           det && !strcmp(ctl_str(det, "safe_mode", "false"), "true") ? " (safe mode)" : "");
    if (det)
        printf("counts     %s evaluations, %s fires, %s clears, %s actions ok, "
               "%s failed\n", ctl_str(det, "evaluations", "0"),
               ctl_str(det, "fires", "0"), ctl_str(det, "clears", "0"),
               ctl_str(det, "actions_ok", "0"), ctl_str(det, "actions_failed", "0"));
    la = det ? nano_cfg_get(det, "last_action") : NULL;
    if (la && la->kind == NANO_CFG_MAP) {
        struct nano_buf b;
        nano_buf_init(&b, 4096);
        nano_cfg_to_json(la, &b);
        printf("last       %s\n", b.data ? b.data : "");
        nano_buf_free(&b);
    } else if (la && la->kind == NANO_CFG_SCALAR) {
        printf("last       %s\n", la->str);
    } else {
        printf("last       (no action yet)\n");
    }
    inputs = nano_cfg_get(s, "inputs");
    if (inputs && inputs->count) {
        printf("inputs    ");
        for (const struct nano_cfg_node *i = inputs->child; i; i = i->next)
            printf(" %s", i->kind == NANO_CFG_SCALAR ? i->str : "?");
        printf("\n");
    }
    nano_cfg_free(doc);
    return 0;
}

static int
cmd_explain(const char *name, const char *topic)
{
    struct nano_cfg_doc *doc;
    const struct nano_cfg_node *r, *inputs, *rule, *terms;
    struct nano_buf t;
    int rc;

    service_target(&t, name, "explain");
    if (topic) {
        nano_buf_puts(&t, "?topic=");
        ctl_buf_query_str(&t, topic);
    }
    rc = ctl_fetch("GET", t.data, NULL, &doc);
    nano_buf_free(&t);
    if (rc || !doc)
        return rc;
    r = nano_cfg_root(doc);
    printf("%s: %s\n", ctl_str(r, "service", name), ctl_str(r, "why", ""));
    inputs = nano_cfg_get(r, "inputs");
    if (inputs && inputs->count) {
        printf("\ninputs:\n");
        for (const struct nano_cfg_node *i = inputs->child; i; i = i->next) {
            char val[64];
            printf("  %-20s %-36s %12s  %-6s %.1fs old\n", ctl_str(i, "name", "?"),
                   ctl_str(i, "topic", ""), ctl_value_text(nano_cfg_get(i, "value"),
                                                           val, sizeof val),
                   ctl_str(i, "quality", "-"), ctl_num(i, "age_s"));
        }
    }
    static const char *const parts[] = { "rule", "clear", NULL };
    for (const char *const *p = parts; *p; p++) {
        rule = nano_cfg_get(r, *p);
        if (!rule || rule->kind != NANO_CFG_MAP)
            continue;
        char val[64];
        printf("\n%s: %s  =>  %s\n", *p, ctl_str(rule, "text", ""),
               ctl_value_text(nano_cfg_get(rule, "value"), val, sizeof val));
        terms = nano_cfg_get(rule, "terms");
        for (const struct nano_cfg_node *x = terms ? terms->child : NULL; x; x = x->next)
            printf("  %-40s = %s\n", ctl_str(x, "expr", "?"),
                   ctl_value_text(nano_cfg_get(x, "value"), val, sizeof val));
    }
    nano_cfg_free(doc);
    return 0;
}

int
ctl_cmd_service(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct nano_buf t;
    struct nano_cfg_doc *doc = NULL;
    int rc;

    if (!strcmp(sub, "start") && argc >= 3)
        return cmd_start(argc, argv);
    if (!strcmp(sub, "list") && argc == 2)
        return cmd_list();
    if (!strcmp(sub, "status") && argc == 3)
        return cmd_status(argv[2]);
    if (!strcmp(sub, "explain") && (argc == 3 || (argc == 5 && !strcmp(argv[3], "--topic"))))
        return cmd_explain(argv[2], argc == 5 ? argv[4] : NULL);
    if ((!strcmp(sub, "stop") || !strcmp(sub, "restart") || !strcmp(sub, "remove")) &&
        argc == 3) {
        bool remove = !strcmp(sub, "remove");
        service_target(&t, argv[2], remove ? NULL : sub);
        rc = ctl_fetch(remove ? "DELETE" : "POST", t.data, NULL, &doc);
        if (rc == 0 && doc)
            printf("service %s: %s\n", argv[2], remove ? "removed" :
                   !strcmp(sub, "stop") ? "stopped" : "restarted");
        nano_cfg_free(doc);
        nano_buf_free(&t);
        return rc;
    }
    fprintf(stderr,
        "usage: nanoctl service start NAME [--config JSON|@file.json|@file.yaml]\n"
        "       nanoctl service stop|restart|remove NAME\n"
        "       nanoctl service list\n"
        "       nanoctl service status NAME\n"
        "       nanoctl service explain NAME [--topic TOPIC]\n");
    return EXIT_USAGE;
}
