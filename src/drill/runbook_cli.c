/*
 * runbook_cli.c - `oncue runbook ...`: the shipped runbooks (list), the runbook of a live
 * incident filled in from the incident and its root cause (show), the lint of runbook files
 * (check), and runs against an incident on a running server (run, approve, skip, status).
 */
#include "drill/drill.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"
#include "core/opt.h"
#include "core/suggest.h"
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

/* What the command lines of `oncue runbook show|run|approve|skip|status` say. */
struct show_args {
    struct http_client c; /* --server, --token (defaults from the environment) */
    int json;             /* --json */
    const char *runbook;  /* run: --runbook */
    int dry_run;          /* run: --dry-run */
    long step;            /* approve, skip: --step */
};

#define F(f) offsetof(struct show_args, f)
#define SERVER_OPTS(role)                                                                          \
    {"--server",                                                                                   \
     OC_OPT_STR,                                                                                   \
     F(c.server),                                                                                  \
     "URL",                                                                                        \
     "the server (default $ONCUE_SERVER, else " HTTP_CLIENT_DEFAULT_SERVER ")",                    \
     0,                                                                                            \
     0,                                                                                            \
     NULL},                                                                                        \
        {"--token", OC_OPT_STR, F(c.token), "TOKEN", "a " role " token (default $ONCUE_TOKEN)",    \
         0,         0,          NULL},                                                             \
    {                                                                                              \
        "--json", OC_OPT_FLAG, F(json), NULL, "print the answer as JSON", 0, 0, NULL               \
    }
static const struct oc_opt show_opts[] = {
    SERVER_OPTS("viewer"),
    {0},
};
static const struct oc_opt run_opts[] = {
    SERVER_OPTS("responder"),
    {"--runbook", OC_OPT_STR, F(runbook), "NAME",
     "the runbook (default: the one covering the incident's metric)", 0, 0, NULL},
    {"--dry-run", OC_OPT_FLAG, F(dry_run), NULL, "show what each step would do; do nothing", 0, 0,
     NULL},
    {0},
};
static const struct oc_opt decide_opts[] = {
    SERVER_OPTS("responder"),
    {"--step", OC_OPT_LONG, F(step), "N", "the step the run must be waiting at (a guard)", 1, 1000,
     NULL},
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
    {"runbook check", "FILE...",
     "Lints runbook files: YAML, step types (check, action, decision; none is a manual note),\n"
     "query fields, QoE metrics and mitigation commands. Prints FILE:LINE: message per\n"
     "problem; exit status 1 when there is one.\n",
     NULL, -1},
    {"runbook run", "INCIDENT [--runbook NAME] [--dry-run] [--server URL] [--token T] [--json]",
     "Runs the runbook against the incident on the server: steps run in order until a\n"
     "decision waits for a person (approve or skip it), a check or action fails, or the end.\n"
     "Every step goes on the incident's timeline with the runbook's version. --dry-run shows\n"
     "what each step would do and records nothing.\n",
     run_opts, 1},
    {"runbook approve", "INCIDENT [--step N] [--server URL] [--token T] [--json]",
     "Approves the decision the incident's run waits at, and the run goes on.\n", decide_opts, 1},
    {"runbook skip", "INCIDENT [--step N] [--server URL] [--token T] [--json]",
     "Skips the decision the incident's run waits at and the step it gates; the run goes on.\n",
     decide_opts, 1},
    {"runbook status", "INCIDENT [--server URL] [--token T] [--json]",
     "Prints the incident's runbook run: each step's result, who and when.\n", show_opts, 1},
    {0},
};

/* The synopsis of every action. */
static void usage(FILE *f)
{
    fprintf(f, "usage: oncue runbook list\n"
               "       oncue runbook show INCIDENT [--server URL] [--token T] [--json]\n"
               "       oncue runbook check FILE...\n"
               "       oncue runbook run INCIDENT [--runbook NAME] [--dry-run] [...]\n"
               "       oncue runbook approve|skip INCIDENT [--step N] [...]\n"
               "       oncue runbook status INCIDENT [...]\n\n"
               "(oncue runbook ACTION --help)\n");
}

/* Parses the arguments of action c into a and the incident id into path ("/v1/incidents/
 * INC-N/runbook"). 0; 1 (help printed) or 2 (usage error printed). */
static int parse_incident(const struct oc_cli *c, int argc, char **argv, struct show_args *a,
                          char *path, size_t n)
{
    const char *id = NULL;
    int64_t num;
    int nargs = 0;
    http_client_from_env(&a->c);
    int p = oc_cli_parse(c, argc - 2, argv + 2, a, &id, &nargs);
    if (p != 0)
        return p > 0 ? 1 : 2;
    if (!id) {
        fprintf(stderr, "oncue %s: name an incident (see oncue %s --help)\n", c->name, c->name);
        return 2;
    }
    if (incident_id_parse(id, &num) != 0) {
        fprintf(stderr, "oncue %s: '%s' is not an incident id (INC-n) (see oncue %s --help)\n",
                c->name, id, c->name);
        return 2;
    }
    snprintf(path, n, "/v1/incidents/INC-%lld/runbook", (long long)num);
    return 0;
}

/* Prints a run (GET or POST /v1/incidents/{id}/runbook) as text. */
static void print_run(const json_t *r)
{
    size_t i;
    json_t *s;
    printf("%s: runbook %s version %s (%s): %s, %lld of %lld steps without a person\n",
           json_string_value(json_object_get(r, "incident_id")),
           json_string_value(json_object_get(r, "runbook")),
           json_string_value(json_object_get(r, "version"))
               ? json_string_value(json_object_get(r, "version"))
               : "-",
           json_string_value(json_object_get(r, "hash")),
           json_string_value(json_object_get(r, "state")),
           (long long)json_integer_value(json_object_get(r, "automated")),
           (long long)json_integer_value(json_object_get(r, "steps_total")));
    json_array_foreach(json_object_get(r, "steps"), i, s) printf(
        "  %lld. %s [%s] %s: %s\n", (long long)json_integer_value(json_object_get(s, "step")),
        json_string_value(json_object_get(s, "name")),
        json_string_value(json_object_get(s, "type")),
        json_string_value(json_object_get(s, "status")),
        json_string_value(json_object_get(s, "detail")));
    if (json_is_integer(json_object_get(r, "waiting_step")))
        printf("waiting at step %lld: oncue runbook approve|skip %s\n",
               (long long)json_integer_value(json_object_get(r, "waiting_step")),
               json_string_value(json_object_get(r, "incident_id")));
}

/* Sends METHOD path with body; prints the run. 0, or 1 after printing the problem. */
static int call_run(const struct show_args *a, const char *method, const char *path,
                    const char *body)
{
    struct oc_buf b;
    char err[256] = "";
    long status = 0;
    int rc = 1;
    json_t *r = NULL;
    oc_buf_init(&b, 16u << 20);
    if (http_client_call(&a->c, method, path, body, &status, &b, err, sizeof(err)) != 0)
        fprintf(stderr, "oncue runbook: %s: %s\n", a->c.server, err);
    else if (status < 200 || status > 299) {
        json_t *p = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
        fprintf(stderr, "oncue runbook: %s %s: HTTP %ld: %s\n", method, path, status,
                json_string_value(json_object_get(p, "detail"))
                    ? json_string_value(json_object_get(p, "detail"))
                    : (b.data ? b.data : ""));
        json_decref(p);
    } else if (!(r = json_loadb(b.data ? b.data : "", b.len, 0, NULL)))
        fprintf(stderr, "oncue runbook: %s %s: not JSON\n", method, path);
    else {
        if (a->json) {
            char *text = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", text ? text : "{}");
            free(text);
        } else
            print_run(r);
        rc = 0;
    }
    json_decref(r);
    oc_buf_free(&b);
    return rc;
}

/* `oncue runbook run|approve|skip|status INCIDENT`. */
static int run_action(int argc, char **argv, const struct oc_cli *c)
{
    struct show_args a = {.json = 0};
    char path[160], body[600];
    int p = parse_incident(c, argc, argv, &a, path, sizeof(path) - 16);
    if (p != 0)
        return p == 1 ? 0 : 2;
    const char *act = argv[1];
    if (strcmp(act, "status") == 0)
        return call_run(&a, "GET", path, NULL);
    if (strcmp(act, "run") == 0) {
        json_t *b = json_pack("{s:b}", "dry_run", a.dry_run);
        if (a.runbook)
            json_object_set_new(b, "runbook", json_string(a.runbook));
        char *text = json_dumps(b, JSON_COMPACT);
        snprintf(body, sizeof(body), "%s", text ? text : "{}");
        free(text);
        json_decref(b);
        return call_run(&a, "POST", path, body);
    }
    if (a.step)
        snprintf(body, sizeof(body), "{\"step\":%ld}", a.step);
    else
        snprintf(body, sizeof(body), "{}");
    size_t k = strlen(path);
    snprintf(path + k, sizeof(path) - k, "%s", strcmp(act, "approve") == 0 ? "/approve" : "/skip");
    return call_run(&a, "POST", path, body);
}

/* What `oncue report automation` says. */
struct report_args {
    struct http_client c;
    int json;
    long days;
};

#define R(f) offsetof(struct report_args, f)
static const struct oc_opt report_opts[] = {
    {"--server", OC_OPT_STR, R(c.server), "URL",
     "the server (default $ONCUE_SERVER, else " HTTP_CLIENT_DEFAULT_SERVER ")", 0, 0, NULL},
    {"--token", OC_OPT_STR, R(c.token), "TOKEN", "a viewer token (default $ONCUE_TOKEN)", 0, 0,
     NULL},
    {"--json", OC_OPT_FLAG, R(json), NULL, "print the report as JSON", 0, 0, NULL},
    {"--days", OC_OPT_LONG, R(days), "N", "incidents opened in the last N days (default 90)", 1,
     365, NULL},
    {0},
};
#undef R

const struct oc_cli drill_report_cli[] = {
    {"report automation", "[--days N] [--server URL] [--token T] [--json]",
     "The automation report: per runbook and per incident the share of runbook steps done\n"
     "without a person, the times from detection to declaration, first status update,\n"
     "mitigation and resolve, and the decisions runs waited longest at.\n",
     report_opts, 0},
    {0},
};

/* Seconds as "N s", or "-" for null. */
static const char *secs(const json_t *v, char *buf, size_t n)
{
    if (!json_is_integer(v))
        return "-";
    snprintf(buf, n, "%lld s", (long long)json_integer_value(v));
    return buf;
}

/* Prints the automation report as text. */
static void print_report(const json_t *r)
{
    char a[32], b[32], c[32], d[32], e[32];
    size_t i;
    json_t *v;
    printf("automation report, incidents of the last %lld days\n\n",
           (long long)json_integer_value(json_object_get(r, "days")));
    printf("%-24s %5s %6s %10s %7s\n", "runbook", "runs", "steps", "automated", "share");
    json_array_foreach(json_object_get(r, "runbooks"), i, v) printf(
        "%-24s %5lld %6lld %10lld %6.1f%%\n", json_string_value(json_object_get(v, "runbook")),
        (long long)json_integer_value(json_object_get(v, "runs")),
        (long long)json_integer_value(json_object_get(v, "steps")),
        (long long)json_integer_value(json_object_get(v, "automated")),
        100 * json_number_value(json_object_get(v, "automated_share")));
    printf("\n%-10s %-20s %7s %12s %12s %12s %12s %12s\n", "incident", "runbook", "share",
           "declared", "1st update", "mitigated", "relief", "resolved");
    json_array_foreach(json_object_get(r, "incidents"), i, v)
    {
        const char *rb = json_string_value(json_object_get(v, "runbook"));
        printf("%-10s %-20s ", json_string_value(json_object_get(v, "incident_id")), rb ? rb : "-");
        if (rb)
            printf("%6.1f%%", 100 * json_number_value(json_object_get(v, "automated_share")));
        else
            printf("%7s", "-");
        printf(" %12s %12s %12s %12s %12s\n",
               secs(json_object_get(v, "to_declaration_s"), a, sizeof(a)),
               secs(json_object_get(v, "to_first_update_s"), b, sizeof(b)),
               secs(json_object_get(v, "to_mitigation_s"), c, sizeof(c)),
               secs(json_object_get(v, "to_relief_s"), e, sizeof(e)),
               secs(json_object_get(v, "to_resolve_s"), d, sizeof(d)));
    }
    if (json_array_size(json_object_get(r, "manual_cost")))
        printf("\ndecisions runs waited at, longest first:\n");
    json_array_foreach(json_object_get(r, "manual_cost"), i, v)
        printf("  %s / %s: %lld waits, %lld s\n", json_string_value(json_object_get(v, "runbook")),
               json_string_value(json_object_get(v, "step")),
               (long long)json_integer_value(json_object_get(v, "waits")),
               (long long)json_integer_value(json_object_get(v, "waited_s")));
}

int drill_report_cli_main(int argc, char **argv)
{
    struct report_args a = {.days = 90};
    const char *none = NULL;
    char path[64];
    int nargs = 0;
    json_t *r = NULL;
    if (argc < 2 || strcmp(argv[1], "automation") != 0) {
        static const char *const reports[] = {"automation", NULL};
        int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        char hint[160];
        if (argc < 2)
            fprintf(stderr, "oncue report: name a report: automation\n\n");
        else if (!help && argv[1][0] == '-')
            fprintf(stderr, "oncue report: name a report before the options ('%s' came first)\n\n",
                    argv[1]);
        else if (!help)
            fprintf(stderr, "oncue report: unknown report '%s'%s\n\n", argv[1],
                    OC_SUGGEST_TABLE(argv[1], reports, hint));
        fprintf(help ? stdout : stderr,
                "usage: oncue report automation [--days N] [--server URL] [--token T] "
                "[--json]\n");
        return help ? 0 : 2;
    }
    http_client_from_env(&a.c);
    int p = oc_cli_parse(&drill_report_cli[0], argc - 2, argv + 2, &a, &none, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    snprintf(path, sizeof(path), "/v1/reports/automation?days=%ld", a.days);
    if (get_json(&a.c, path, &r) != 0)
        return 1;
    if (a.json) {
        char *text = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else
        print_report(r);
    json_decref(r);
    return 0;
}

/* `oncue runbook check FILE...`. */
static int check(int argc, char **argv, const struct drill_host *h)
{
    const char *files[256];
    int nargs = 0, problems = 0;
    if (argc - 2 > 256) {
        fprintf(stderr, "oncue runbook check: at most 256 files at once\n");
        return 2;
    }
    int p = oc_cli_parse(&drill_runbook_cli[2], argc - 2, argv + 2, NULL, files, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (nargs == 0) {
        fprintf(stderr, "oncue runbook check: name one or more files\n");
        return 2;
    }
    for (int i = 0; i < nargs && i < 256; i++) {
        char *text = NULL, err[256];
        size_t n;
        struct oc_buf out;
        if (oc_read_file(files[i], 1u << 20, &text, &n, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s:0: %s\n", files[i], err);
            problems++;
            continue;
        }
        oc_buf_init(&out, 1 << 20);
        problems += drill_runbook_lint(files[i], text, n, h, &out);
        if (out.len)
            fwrite(out.data, 1, out.len, stderr);
        oc_buf_free(&out);
        free(text);
    }
    if (problems == 0)
        printf("%d runbook%s ok\n", nargs, nargs == 1 ? "" : "s");
    return problems ? 1 : 0;
}

/* `oncue runbook show INCIDENT`: fetches the incident and the steering policy. */
static int show(int argc, char **argv)
{
    struct show_args a = {.json = 0};
    char path[160];
    json_t *inc = NULL, *pol = NULL;
    int p = parse_incident(&drill_runbook_cli[1], argc, argv, &a, path, sizeof(path));
    if (p != 0)
        return p == 1 ? 0 : 2;
    path[strlen(path) - strlen("/runbook")] = '\0';
    if (get_json(&a.c, path, &inc) != 0)
        return 1;
    if (get_json(&a.c, "/v1/steering/policies", &pol) != 0)
        fprintf(stderr, "oncue runbook: no steering policy: {alternate} stays unfilled\n");
    int rc = print_runbook(inc, json_object_get(pol, "pathways"), a.json);
    json_decref(inc);
    json_decref(pol);
    return rc;
}

int drill_runbook_cli_main(int argc, char **argv, const struct drill_host *h)
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
            printf("%-20s %-8s %s  %s\n", rb.kind, rb.version ? rb.version : "-", rb.hash,
                   rb.metrics);
            drill_runbook_free(&rb);
        }
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return show(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return check(argc, argv, h);
    for (const struct oc_cli *c = &drill_runbook_cli[3]; argc >= 2 && c->name; c++)
        if (strcmp(c->name + strlen("runbook "), argv[1]) == 0)
            return run_action(argc, argv, c);
    int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (argc < 2) {
        fprintf(stderr, "oncue runbook: name an action\n\n");
    } else if (!help) {
        struct oc_suggest sg;
        char hint[160];
        oc_suggest_init(&sg, argv[1], strlen(argv[1]));
        for (const struct oc_cli *c = drill_runbook_cli; c->name; c++)
            oc_suggest_add(&sg, c->name + strlen("runbook "));
        if (argv[1][0] == '-')
            fprintf(stderr,
                    "oncue runbook: name an action before the options ('%s' came first)"
                    "\n\n",
                    argv[1]);
        else
            fprintf(stderr, "oncue runbook: unknown action '%s'%s\n\n", argv[1],
                    oc_suggest_hint(&sg, hint, sizeof hint));
    }
    usage(help ? stdout : stderr);
    return help ? 0 : 2;
}
