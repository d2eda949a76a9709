/*
 * runbook_cli.c - `oncue runbook list` and `oncue runbook show INCIDENT`: the shipped runbooks,
 * and the runbook of a live incident with its seven steps and its mitigation command filled in
 * from the incident and its root cause, fetched from a running server.
 */
#include "drill/drill.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/opt.h"
#include "http/client.h"
#include "incident/incident.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GET path from the server as JSON into *out (caller decrefs). 0, or 1 with a message printed. */
static int get_json(const struct http_client *c, const char *path, json_t **out)
{
    struct oc_buf b;
    char err[256] = "";
    long status = 0;
    int rc = 1;
    oc_buf_init(&b, 16u << 20);
    *out = NULL;
    if (http_client_call(c, "GET", path, NULL, &status, &b, err, sizeof(err)) != 0)
        fprintf(stderr, "oncue runbook: %s: %s\n", c->server, err);
    else if (status != 200)
        fprintf(stderr, "oncue runbook: GET %s: HTTP %ld: %s\n", path, status,
                b.data ? b.data : "");
    else if (!(*out = json_loadb(b.data ? b.data : "", b.len, 0, NULL)))
        fprintf(stderr, "oncue runbook: GET %s: not JSON\n", path);
    else
        rc = 0;
    oc_buf_free(&b);
    return rc;
}

/* The mitigate step's command: filled, or the first template the cause fits with what is
 * missing, or a note that none fits. */
static void mitigate_line(const struct drill_runbook *rb, const json_t *vars, const char *cmd,
                          struct oc_buf *b)
{
    char missing[64];
    struct oc_buf t;
    if (cmd) {
        oc_buf_printf(b, "     $ %s\n", cmd);
        return;
    }
    for (int i = 0; i < rb->ncmds; i++) {
        if (!json_object_get(vars, rb->cmds[i].when))
            continue;
        oc_buf_init(&t, DRILL_MAX_TEXT);
        drill_fill(rb->cmds[i].run, vars, &t, missing, sizeof(missing));
        oc_buf_printf(b, "     $ %s  (fill in {%s})\n", rb->cmds[i].run, missing);
        oc_buf_free(&t);
        return;
    }
    oc_buf_puts(b, "     (no command of this runbook fits the cause)\n");
}

/* Prints the filled runbook of incident inc as text or JSON. 0, or 1 (no runbook). */
static int print_runbook(const json_t *inc, const json_t *pathways, int as_json)
{
    struct drill_runbook rb;
    struct oc_buf b, cmd;
    char missing[64];
    json_t *vars = drill_runbook_vars(inc, json_object_get(inc, "causes"), pathways);
    const char *metric = json_string_value(json_object_get(vars, "metric"));
    if (drill_runbook_for_metric(metric, &rb) != 0) {
        fprintf(stderr, "oncue runbook: no runbook covers %s\n", metric);
        json_decref(vars);
        return 1;
    }
    oc_buf_init(&b, 1 << 20);
    oc_buf_init(&cmd, DRILL_MAX_TEXT - 1);
    int has_cmd = drill_runbook_command(&rb, vars, &cmd) == 0;
    json_t *steps = json_array();
    oc_buf_printf(&b, "%s: %s (%s)\nrunbook %s\n",
                  json_string_value(json_object_get(vars, "incident")),
                  json_string_value(json_object_get(inc, "title")),
                  json_string_value(json_object_get(vars, "severity")), rb.kind);
    for (int i = 0; i < rb.nsteps; i++) {
        struct oc_buf s;
        oc_buf_init(&s, DRILL_MAX_TEXT * 4);
        if (drill_fill(rb.steps[i].text, vars, &s, missing, sizeof(missing)) != 0)
            oc_buf_printf(&s, " (no value for {%s})", missing);
        oc_buf_printf(&b, "  %d. %s: %s\n", i + 1, rb.steps[i].name, s.data ? s.data : "");
        if (strcmp(rb.steps[i].name, "mitigate") == 0)
            mitigate_line(&rb, vars, has_cmd ? cmd.data : NULL, &b);
        json_array_append_new(
            steps, json_pack("{s:s, s:s}", "name", rb.steps[i].name, "text", s.data ? s.data : ""));
        oc_buf_free(&s);
    }
    if (as_json) {
        json_t *o = json_pack("{s:O, s:s, s:o, s:o}", "incident", json_object_get(vars, "incident"),
                              "runbook", rb.kind, "steps", steps, "command",
                              has_cmd ? json_string(cmd.data) : json_null());
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
    } else {
        json_decref(steps);
        fwrite(b.data, 1, b.len, stdout);
    }
    oc_buf_free(&b);
    oc_buf_free(&cmd);
    drill_runbook_free(&rb);
    json_decref(vars);
    return 0;
}

/* What the command line of `oncue runbook show` says. */
struct show_args {
    struct http_client c; /* --server, --token (defaults from the environment) */
    int json;             /* --json */
};

#define F(f) offsetof(struct show_args, f)
static const struct oc_opt show_opts[] = {
    {"--server", OC_OPT_STR, F(c.server), "URL",
     "the server (default $ONCUE_SERVER, else " HTTP_CLIENT_DEFAULT_SERVER ")", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(c.token), "TOKEN", "a viewer token (default $ONCUE_TOKEN)", 0, 0,
     NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the filled runbook as JSON", 0, 0, NULL},
    {0},
};
#undef F

const struct oc_cli drill_runbook_cli[] = {
    {"runbook list", "[--help]",
     "Lists the shipped runbooks: the alert kind and the metrics each covers.\n", NULL, 0},
    {"runbook show", "INCIDENT [--server URL] [--token T] [--json]",
     "Prints the runbook of the incident's alert kind with its steps and its mitigation\n"
     "command filled in from the incident and its root cause.\n",
     show_opts, 1},
    {0},
};

/* The synopsis of both actions. */
static void usage(FILE *f)
{
    fprintf(f, "usage: oncue runbook list\n"
               "       oncue runbook show INCIDENT [--server URL] [--token T] [--json]\n\n"
               "(oncue runbook list --help, oncue runbook show --help)\n");
}

/* `oncue runbook show INCIDENT`: fetches the incident and the steering policy. */
static int show(int argc, char **argv)
{
    struct show_args a = {.json = 0};
    const char *id = NULL;
    char path[128];
    int64_t n;
    json_t *inc = NULL, *pol = NULL;
    http_client_from_env(&a.c);
    int nargs = 0, p = oc_cli_parse(&drill_runbook_cli[1], argc - 2, argv + 2, &a, &id, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    struct http_client c = a.c;
    int as_json = a.json;
    if (!id || incident_id_parse(id, &n) != 0) {
        fprintf(stderr, "oncue runbook show: %s (see oncue runbook show --help)\n",
                id ? "not an incident id" : "name an incident");
        return 2;
    }
    snprintf(path, sizeof(path), "/v1/incidents/INC-%lld", (long long)n);
    if (get_json(&c, path, &inc) != 0)
        return 1;
    if (get_json(&c, "/v1/steering/policies", &pol) != 0)
        fprintf(stderr, "oncue runbook: no steering policy: {alternate} stays unfilled\n");
    int rc = print_runbook(inc, json_object_get(pol, "pathways"), as_json);
    json_decref(inc);
    json_decref(pol);
    return rc;
}

int drill_runbook_cli_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        const char *none = NULL;
        int nargs = 0,
            p = oc_cli_parse(&drill_runbook_cli[0], argc - 2, argv + 2, NULL, &none, &nargs);
        if (p != 0)
            return p > 0 ? 0 : 2;
        struct drill_runbook rb;
        char err[200];
        size_t len;
        for (const char *const *name = drill_runbook_names; *name; name++) {
            const char *text = drill_runbook_embedded(*name, &len);
            if (drill_runbook_parse(text, len, &rb, err, sizeof(err)) != 0)
                continue;
            printf("%-20s %s\n", rb.kind, rb.metrics);
            drill_runbook_free(&rb);
        }
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return show(argc, argv);
    int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    usage(help ? stdout : stderr);
    return help ? 0 : 2;
}
