/*
 * runbook_cli.c - `oncue runbook list` and `oncue runbook show INCIDENT`: the shipped runbooks,
 * and the runbook of a live incident with its seven steps and its mitigation command filled in
 * from the incident and its root cause, fetched from a running server.
 */
#include "drill/drill.h"

#include "core/buf.h"
#include "core/err.h"
#include "http/client.h"
#include "incident/incident.h"

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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: oncue runbook list\n"
            "       oncue runbook show INCIDENT [--server URL] [--token T] [--json]\n\n"
            "show prints the runbook of the incident's alert kind with its steps and its\n"
            "mitigation command filled in from the incident and its root cause.\n"
            "--server defaults to $ONCUE_SERVER (else %s), --token to $ONCUE_TOKEN.\n",
            HTTP_CLIENT_DEFAULT_SERVER);
}

/* `oncue runbook show INCIDENT`: fetches the incident and the steering policy. */
static int show(int argc, char **argv)
{
    struct http_client c;
    const char *id = NULL;
    char path[128];
    int as_json = 0;
    int64_t n;
    json_t *inc = NULL, *pol = NULL;
    http_client_from_env(&c);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
            c.server = argv[++i];
        else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
            c.token = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (argv[i][0] != '-' && !id)
            id = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!id || incident_id_parse(id, &n) != 0) {
        usage(stderr);
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
    usage(argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout
                                                                                      : stderr);
    return argc >= 2 && argv[1][0] == '-' && argv[1][1] == 'h' ? 0 : 2;
}
