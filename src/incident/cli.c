/*
 * cli.c - `oncue incident list|show|ack|publish|note|role|status|resolve|review|deploy-secret`:
 * a client of a running server's /v1/incidents API over libcurl.
 *
 * --server URL (default $ONCUE_SERVER, else http://127.0.0.1:8470), --token T (default
 * $ONCUE_TOKEN), --json prints the raw JSON answer. The actions are one table from which
 * --help is generated.
 */
#include "incident/incident.h"
#include "core/buf.h"
#include "core/suggest.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/opt.h"
#include "http/client.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (8 << 20) /* bytes of one answer kept */

struct conn {
    const char *server, *token;
    int json;
    const char *state, *reason, *output;
    int force;
};

struct action {
    const char *name;
    int nargs; /* positional arguments required (ID, ...); the last may take the rest */
    int (*fn)(const struct conn *c, char **args, int nargs);
    const char *usage;
    const char *help;
};

/* One request: the answer's status in *status and body in resp; 0 or OC_EIO. */
static int request(const struct conn *c, const char *method, const char *path, const char *body,
                   long *status, struct oc_buf *resp)
{
    struct http_client hc = {c->server, c->token && c->token[0] ? c->token : NULL, 30};
    char err[512];
    int rc = http_client_call(&hc, method, path, body, status, resp, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "oncue: %s\n", err);
    return rc;
}

/* Runs a request; on 2xx returns 0 with the body in resp (the caller frees it), else prints
 * the problem detail and returns 1. */
static int call(const struct conn *c, const char *method, const char *path, json_t *body,
                struct oc_buf *resp)
{
    long status = 0;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc = request(c, method, path, text, &status, resp);
    free(text);
    json_decref(body);
    if (rc)
        return 1;
    if (status >= 200 && status < 300)
        return 0;
    json_t *p = json_loads(resp->data ? resp->data : "", 0, NULL);
    const char *detail = json_string_value(json_object_get(p, "detail"));
    fprintf(stderr, "oncue: HTTP %ld: %s\n", status,
            detail ? detail : (resp->data ? resp->data : ""));
    json_decref(p);
    return 1;
}

static const char *js(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void print_row(const json_t *inc)
{
    char t[32];
    oc_time_format(json_integer_value(json_object_get(inc, "opened_at")) * 1000, t, sizeof(t));
    printf("%-8s %-5s %-13s %s  %s\n", js(inc, "incident_id"), js(inc, "severity"),
           js(inc, "state"), t, js(inc, "title"));
}

static void print_incident(const json_t *inc)
{
    size_t i;
    json_t *e;
    char t[32];
    print_row(inc);
    printf("service %s, team %s, public status %s\n", js(inc, "service"), js(inc, "team"),
           js(inc, "public_status"));
    json_array_foreach(json_object_get(inc, "timeline"), i, e)
    {
        oc_time_format(json_integer_value(json_object_get(e, "at")) * 1000, t, sizeof(t));
        printf("  %s  %-13s %s (%s)\n", t, js(e, "kind"), js(e, "text"), js(e, "actor"));
    }
}

/* Runs method path body and prints the answer: JSON with --json, else through show. */
static int run(const struct conn *c, const char *method, const char *path, json_t *body,
               void (*show)(const json_t *))
{
    struct oc_buf resp;
    oc_buf_init(&resp, RESP_MAX);
    int code = call(c, method, path, body, &resp);
    if (!code) {
        json_t *v = json_loads(resp.data ? resp.data : "null", JSON_DECODE_ANY, NULL);
        if (c->json || !show) {
            char *s = json_dumps(v, JSON_INDENT(2));
            printf("%s\n", s ? s : "");
            free(s);
        } else {
            show(v);
        }
        json_decref(v);
    }
    oc_buf_free(&resp);
    return code;
}

static void show_list(const json_t *v)
{
    size_t i;
    json_t *inc;
    json_array_foreach(json_object_get(v, "incidents"), i, inc) print_row(inc);
}

/* "/v1/incidents/<id><suffix>" into out; 0, or 2 (usage) when id is not an incident id. */
static int path_of(const char *id, const char *suffix, char *out, size_t n)
{
    int64_t v;
    if (incident_id_parse(id, &v) != 0) {
        fprintf(stderr, "oncue incident: not an incident id: %s\n", id);
        return 2;
    }
    snprintf(out, n, "/v1/incidents/%lld%s", (long long)v, suffix);
    return 0;
}

/* Joins args into one string (a note or a status body), space-separated. */
static char *join(char **args, int n)
{
    struct oc_buf b;
    oc_buf_init(&b, INCIDENT_MAX_TEXT + 1);
    for (int i = 0; i < n; i++)
        oc_buf_printf(&b, "%s%s", i ? " " : "", args[i]);
    char *s = oc_buf_steal(&b);
    return s ? s : strdup("");
}

/* list: with --json the first page as the server answers it (its "next" is the URL of the
 * following one); else every page's rows, following "next" to the last page. */
static int do_list(const struct conn *c, char **a, int n)
{
    char path[256];
    int code = 0;
    (void)a;
    (void)n;
    snprintf(path, sizeof(path), "/v1/incidents%s%s", c->state ? "?state=" : "",
             c->state ? c->state : "");
    if (c->json)
        return run(c, "GET", path, NULL, show_list);
    while (!code && path[0]) {
        struct oc_buf resp;
        oc_buf_init(&resp, RESP_MAX);
        code = call(c, "GET", path, NULL, &resp);
        json_t *v = code ? NULL : json_loads(resp.data ? resp.data : "null", 0, NULL);
        show_list(v);
        snprintf(path, sizeof(path), "%s", js(v, "next")); /* "" on the last page */
        json_decref(v);
        oc_buf_free(&resp);
    }
    return code;
}

static int do_show(const struct conn *c, char **a, int n)
{
    char path[256];
    (void)n;
    if (path_of(a[0], "", path, sizeof(path)))
        return 2;
    return run(c, "GET", path, NULL, print_incident);
}

static int do_ack(const struct conn *c, char **a, int n)
{
    char path[256];
    (void)n;
    if (path_of(a[0], "/ack", path, sizeof(path)))
        return 2;
    return run(c, "POST", path, json_object(), print_row);
}

static int do_publish(const struct conn *c, char **a, int n)
{
    char path[256];
    (void)n;
    if (path_of(a[0], "/publish", path, sizeof(path)))
        return 2;
    return run(c, "POST", path, json_object(), print_row);
}

static int do_note(const struct conn *c, char **a, int n)
{
    char path[256], *text;
    if (path_of(a[0], "/note", path, sizeof(path)))
        return 2;
    text = join(a + 1, n - 1);
    int code = run(c, "POST", path, json_pack("{s:s}", "text", text), print_row);
    free(text);
    return code;
}

static int do_role(const struct conn *c, char **a, int n)
{
    char path[256];
    if (path_of(a[0], "/role", path, sizeof(path)))
        return 2;
    json_t *b = n > 2 ? json_pack("{s:s, s:s}", "role", a[1], "person", a[2])
                      : json_pack("{s:s, s:b}", "role", a[1], "release", 1);
    return run(c, "POST", path, b, print_row);
}

static int do_status(const struct conn *c, char **a, int n)
{
    char path[256], *body;
    if (path_of(a[0], "/status", path, sizeof(path)))
        return 2;
    body = join(a + 2, n - 2);
    int code =
        run(c, "POST", path, json_pack("{s:s, s:s}", "status", a[1], "body", body), print_row);
    free(body);
    return code;
}

static int do_resolve(const struct conn *c, char **a, int n)
{
    char path[256];
    (void)n;
    if (path_of(a[0], "/resolve", path, sizeof(path)))
        return 2;
    return run(c, "POST", path, json_pack("{s:b, s:s?}", "force", c->force, "reason", c->reason),
               print_row);
}

static int do_review(const struct conn *c, char **a, int n)
{
    char path[256];
    struct oc_buf resp;
    (void)n;
    if (path_of(a[0], "/review", path, sizeof(path)))
        return 2;
    oc_buf_init(&resp, RESP_MAX);
    int code = call(c, "GET", path, NULL, &resp);
    if (!code) {
        FILE *f = c->output ? fopen(c->output, "w") : stdout;
        if (!f) {
            fprintf(stderr, "oncue incident review: cannot write %s\n", c->output);
            code = 1;
        } else {
            fwrite(resp.data ? resp.data : "", 1, resp.len, f);
            if (f != stdout)
                code = fclose(f) != 0;
        }
    }
    oc_buf_free(&resp);
    return code;
}

static void print_secret(const json_t *v)
{
    if (json_is_string(json_object_get(v, "secret")))
        printf("%s\n", js(v, "secret"));
    else
        printf("rollback calls are signed with incident.deploy_secret, set in the server's "
               "configuration\n");
}

static int do_deploy_secret(const struct conn *c, char **a, int n)
{
    (void)a;
    (void)n;
    return run(c, "GET", "/v1/notifications/deploy-secret", NULL, print_secret);
}

static const struct action actions[] = {
    {"list", 0, do_list, "[--state all|open|triggered|...]",
     "list incidents, newest first (all pages; --json: the first, with its next link)"},
    {"show", 1, do_show, "ID", "one incident with its timeline"},
    {"ack", 1, do_ack, "ID", "acknowledge (stops escalation)"},
    {"publish", 1, do_publish, "ID", "publish a draft incident on the public status page"},
    {"note", 2, do_note, "ID TEXT...", "add a note to the timeline"},
    {"role", 2, do_role, "ID ROLE [PERSON]",
     "assign commander|comms|ops|sme|scribe (no PERSON releases it)"},
    {"status", 3, do_status, "ID STATUS TEXT...",
     "post a public update (investigating|identified|monitoring|resolved)"},
    {"resolve", 1, do_resolve, "ID [--force --reason TEXT]",
     "resolve once metrics held for the recovery window, or force with a reason"},
    {"review", 1, do_review, "ID [--output FILE]", "write the post-incident review (Markdown)"},
    {"deploy-secret", 0, do_deploy_secret, "",
     "print the secret signing rollback calls to deploy webhooks (admin token)"},
    {0},
};

#define F(field) offsetof(struct conn, field)

static const struct oc_opt options[] = {
    {"--server", OC_OPT_STR, F(server), "URL",
     "the server (default $ONCUE_SERVER, else http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "T", "API token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the JSON answer", 0, 0, NULL},
    {"--state", OC_OPT_STR, F(state), "STATE", "list: only incidents in this state", 0, 0, NULL},
    {"--force", OC_OPT_FLAG, F(force), NULL, "resolve: without waiting for the recovery window", 0,
     0, NULL},
    {"--reason", OC_OPT_STR, F(reason), "TEXT", "resolve --force: why", 0, 0, NULL},
    {"--output", OC_OPT_STR, F(output), "FILE", "review: write to FILE instead of stdout", 0, 0,
     NULL},
    {0},
};

#undef F

const struct oc_cli incident_cli[] = {
    {"incident", "ACTION [ARGS...] [--server URL] [--token T] [--json] ...",
     "Acts on incidents through a running server; `oncue incident --help` lists the actions\n"
     "(list, show, ack, publish, note, role, status, resolve, review, deploy-secret) and their\n"
     "arguments.\n",
     options, -1},
    {0},
};

static void usage(FILE *f)
{
    struct oc_buf b;
    fprintf(f, "usage: oncue incident ACTION [--server URL] [--token T] [--json] ...\n\n");
    for (const struct action *a = actions; a->name; a++)
        fprintf(f, "  %-13s %-30s %s\n", a->name, a->usage, a->help);
    oc_buf_init(&b, 1 << 20);
    oc_cli_help(incident_cli, &b);
    fprintf(f, "\n%s", strstr(b.data, "options:\n"));
    oc_buf_free(&b);
}

int incident_cli_main(int argc, char **argv)
{
    struct conn c = {0};
    char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    int code = 2;
    struct http_client env;
    http_client_from_env(&env);
    c.server = env.server;
    c.token = env.token;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (argc < 2)
            fprintf(stderr, "oncue incident: name an action\n\n");
        usage(argc < 2 ? stderr : stdout);
        code = argc < 2 ? 2 : 0;
        goto out;
    }
    int n = 0, rc = oc_cli_parse(incident_cli, argc - 2, argv + 2, &c, (const char **)pos, &n);
    const struct action *a = actions;
    while (a->name && strcmp(a->name, argv[1]) != 0)
        a++;
    if (rc != 0) {
        code = rc == 1 ? 0 : 2;
        goto out;
    }
    if (!a->name || n < a->nargs) {
        char hint[160];
        if (!a->name && argv[1][0] == '-')
            fprintf(stderr,
                    "oncue incident: name an action before the options ('%s' came first)"
                    "\n\n",
                    argv[1]);
        else if (!a->name)
            fprintf(stderr, "oncue incident: unknown action '%s'%s\n\n", argv[1],
                    OC_SUGGEST_TABLE(argv[1], actions, hint));
        else
            fprintf(stderr, "oncue incident %s: needs %s\n\n", a->name, a->usage);
        usage(stderr);
        goto out;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    code = a->fn(&c, pos, n);
    curl_global_cleanup();
out:
    free(pos);
    return code;
}
