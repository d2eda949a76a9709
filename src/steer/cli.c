/*
 * cli.c - `oncue mitigate ...` and `oncue steer ...`: clients of a running server's API.
 *
 * Both talk HTTP with libcurl to --server (default $ONCUE_SERVER, else http://127.0.0.1:8470)
 * with --token (default $ONCUE_TOKEN). The mitigation arguments are one table from which the
 * request body and --help are both generated.
 */
#include "steer/steer_int.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/opt.h"
#include "http/client.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESP_MAX (8 << 20) /* bytes of one response kept */

enum opt_type {
    OPT_STR = 1, /* --flag VALUE, a string */
    OPT_NUM,     /* --flag VALUE, a number */
    OPT_ON,      /* --flag sets key to true */
    OPT_OFF,     /* --flag sets key to false */
};

struct opt {
    const char *flag;   /* "--region" */
    const char *key;    /* request member */
    enum opt_type type; /* how the value is read */
    const char *help;   /* one line */
};

static const struct opt mit_opts[] = {
    {"--region", "region", OPT_STR, "region to shift (shift-cdn), or to match (flag)"},
    {"--from", "from", OPT_STR, "pathway to move away from, served last (shift-cdn)"},
    {"--to", "to", OPT_STR, "pathway to move to, served first (shift-cdn)"},
    {"--percent", "percent", OPT_NUM, "sticky share of the region's sessions, default 100"},
    {"--service", "service", OPT_STR, "service (backup-origin, rollback)"},
    {"--host", "host", OPT_STR, "backup origin host[:port] (default steer.backup_origin)"},
    {"--name", "name", OPT_STR, "feature flag name (flag)"},
    {"--on", "on", OPT_ON, "turn the flag on"},
    {"--off", "on", OPT_OFF, "turn the flag off"},
    {"--player", "player", OPT_STR, "only for this player (flag)"},
    {"--player-version", "player_version", OPT_STR, "only for this player version (flag)"},
    {"--device", "device", OPT_STR, "only for this device class (flag)"},
    {"--reason", "reason", OPT_STR,
     "why, for the audit trail and the incident timeline (any kind)"},
    {0},
};

/* Connection settings shared by both commands. */
struct conn {
    const char *server; /* base URL */
    const char *token;  /* bearer token or NULL */
    int json;           /* --json: print raw JSON */
};

/* Performs one request; 0 with *status and the body in resp, or OC_EIO (message printed). */
static int call(const struct conn *c, const char *method, const char *path, const char *body,
                long *status, struct oc_buf *resp)
{
    struct http_client hc = {c->server, c->token && c->token[0] ? c->token : NULL, 30};
    char err[512];
    int rc = http_client_call(&hc, method, path, body, status, resp, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "oncue: %s\n", err);
    return rc;
}

/* Prints an error answer (problem+json detail when there is one); returns 1. */
static int print_problem(long status, const struct oc_buf *resp)
{
    json_t *p = json_loads(resp->data ? resp->data : "", 0, NULL);
    const char *detail = json_string_value(json_object_get(p, "detail"));
    fprintf(stderr, "oncue: HTTP %ld: %s\n", status,
            detail ? detail : (resp->data ? resp->data : ""));
    json_decref(p);
    return 1;
}

/* Runs a request and prints its JSON answer (pretty) or a problem; returns the exit status. */
static int run(const struct conn *c, const char *method, const char *path, const char *body,
               json_t **out)
{
    struct oc_buf resp;
    long status = 0;
    int code = 1;
    oc_buf_init(&resp, RESP_MAX);
    if (out)
        *out = NULL;
    if (call(c, method, path, body, &status, &resp) != 0)
        goto done;
    if (status < 200 || status > 299) {
        code = print_problem(status, &resp);
        goto done;
    }
    json_t *v = json_loads(resp.data ? resp.data : "", JSON_DECODE_ANY, NULL);
    if (out)
        *out = v;
    else
        json_decref(v);
    code = 0;
done:
    oc_buf_free(&resp);
    return code;
}

static void print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", s ? s : "null");
    free(s);
}

static void mitigate_usage(FILE *f)
{
    const char *name, *summary;
    fprintf(f, "usage: oncue mitigate KIND [options] [--dry-run]\n"
               "       oncue mitigate revert ID\n"
               "       oncue mitigate list\n"
               "common: --server URL (env ONCUE_SERVER), --token T (env ONCUE_TOKEN), --json\n\n"
               "kinds:\n");
    for (int i = 0; (summary = steer_kind_summary(i, &name)) != NULL; i++)
        fprintf(f, "  %-14s %s\n", name, summary);
    fprintf(f, "\noptions:\n");
    for (const struct opt *o = mit_opts; o->flag; o++)
        fprintf(f, "  %-16s %s%s\n", o->flag, o->type <= OPT_NUM ? "VALUE  " : "       ", o->help);
}

/* Reads --server, --token, --json, --dry-run, --help; leaves other words in rest. */
static int common_args(int argc, char **argv, struct conn *c, int *dry, int *help, char **rest,
                       int *nrest)
{
    struct http_client env;
    http_client_from_env(&env);
    c->server = env.server;
    c->token = env.token;
    for (int i = 1; i < argc; i++) {
        int has = i + 1 < argc;
        if (strcmp(argv[i], "--server") == 0 && has)
            c->server = argv[++i];
        else if (strcmp(argv[i], "--token") == 0 && has)
            c->token = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            c->json = 1;
        else if (strcmp(argv[i], "--dry-run") == 0)
            *dry = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            *help = 1;
        else
            rest[(*nrest)++] = argv[i];
    }
    return 0;
}

/* Builds the request body for KIND from the option words; NULL (message printed) if bad. */
static json_t *mitigate_body(char **w, int n, int dry)
{
    json_t *body = json_pack("{s:s}", "kind", w[0]);
    for (int i = 1; i < n; i++) {
        const struct opt *o = mit_opts;
        while (o->flag && strcmp(o->flag, w[i]) != 0)
            o++;
        if (!o->flag || (o->type <= OPT_NUM && i + 1 >= n)) {
            fprintf(stderr, "oncue mitigate: %s: %s\n", w[i],
                    o->flag ? "needs a value" : "unknown option (see --help)");
            json_decref(body);
            return NULL;
        }
        if (o->type == OPT_STR)
            json_object_set_new(body, o->key, json_string(w[++i]));
        else if (o->type == OPT_NUM)
            json_object_set_new(body, o->key, json_real(strtod(w[++i], NULL)));
        else
            json_object_set_new(body, o->key, json_boolean(o->type == OPT_ON));
    }
    if (dry)
        json_object_set_new(body, "dry_run", json_true());
    return body;
}

/* Prints a record in one line. */
static void print_record(const json_t *r)
{
    const char *key;
    json_t *v;
    char when[32] = "";
    time_t due =
        (time_t)(json_integer_value(json_object_get(json_object_get(r, "followup"), "due_ms")) /
                 1000);
    struct tm tm;
    if (gmtime_r(&due, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
    printf("#%lld %-8s %-13s", (long long)json_integer_value(json_object_get(r, "id")),
           json_string_value(json_object_get(r, "state")),
           json_string_value(json_object_get(r, "kind")));
    json_object_foreach(json_object_get(r, "spec"), key, v)
    {
        if (strcmp(key, "kind") == 0)
            continue;
        char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
        printf(" %s=%s", key, s ? s : json_string_value(v));
        free(s);
    }
    printf("  by %s, follow-up due %s\n", json_string_value(json_object_get(r, "actor")), when);
}

/* Says where a rollback goes: the answer has "deploy_webhook" when the catalog runs. */
static void deploy_print(const json_t *v, const char *verb)
{
    const json_t *h = json_object_get(v, "deploy_webhook");
    if (json_is_string(h))
        printf("rollback %s the deploy webhook %s (see GET /v1/notifications)\n", verb,
               json_string_value(h));
    else if (json_is_null(h))
        printf("the service has no deploy_webhook in the catalog: roll back by hand\n");
}

/* Prints the answer of a mitigation command in human form. */
static void mitigate_print(const char *what, const json_t *v)
{
    size_t i;
    json_t *r;
    if (json_is_true(json_object_get(v, "dry_run"))) {
        printf("dry run: nothing applied.\nbefore (a session of the affected share):\n");
        print_json(json_object_get(v, "before"));
        printf("after:\n");
        print_json(json_object_get(v, "after"));
        deploy_print(v, "would go to");
    } else if (json_is_array(json_object_get(v, "mitigations"))) {
        json_array_foreach(json_object_get(v, "mitigations"), i, r)
        {
            print_record(r);
        }
    } else {
        printf("%s: ", what);
        print_record(v);
        if (strcmp(what, "applied") == 0) /* a revert's record names the webhook too */
            deploy_print(v, "queued for");
    }
}

int steer_mitigate_cli_main(int argc, char **argv)
{
    struct conn c = {0};
    int dry = 0, help = 0, n = 0, code;
    char **w = calloc((size_t)argc + 1, sizeof(*w)), path[64];
    json_t *out = NULL, *body = NULL;
    common_args(argc, argv, &c, &dry, &help, w, &n);
    if (help || n == 0) {
        mitigate_usage(help ? stdout : stderr);
        free(w);
        return help ? 0 : 2;
    }
    if (strcmp(w[0], "list") == 0) {
        code = run(&c, "GET", "/v1/mitigations", NULL, &out);
    } else if (strcmp(w[0], "revert") == 0 && n == 2) {
        snprintf(path, sizeof(path), "/v1/mitigations/%.20s/revert", w[1]);
        code = run(&c, "POST", path, "{}", &out);
    } else if ((body = mitigate_body(w, n, dry)) != NULL) {
        char *text = json_dumps(body, JSON_COMPACT);
        code = run(&c, "POST", "/v1/mitigations", text, &out);
        free(text);
    } else {
        code = 2;
    }
    if (out && c.json)
        print_json(out);
    else if (out)
        mitigate_print(strcmp(w[0], "revert") == 0 ? "reverted" : "applied", out);
    json_decref(out);
    json_decref(body);
    free(w);
    return code;
}

/* Reads a JSON file for `oncue steer policy set FILE`. */
static char *read_policy(const char *file)
{
    json_error_t je;
    json_t *doc = json_load_file(file, 0, &je);
    if (!doc) {
        fprintf(stderr, "oncue steer: %s:%d: %s\n", file, je.line, je.text);
        return NULL;
    }
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

#define F(field) offsetof(struct conn, field)

static const struct oc_opt steer_opts[] = {
    {"--server", OC_OPT_STR, F(server), "URL",
     "the server (default $ONCUE_SERVER, else http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "T", "API token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print JSON (every answer is JSON already)", 0, 0, NULL},
    {0},
};

#undef F

const struct oc_cli steer_cli[] = {
    {"steer",
     "policy show | policy set FILE.json\n"
     "       oncue steer manifest ASSET [hls|dash] [QUERY]   e.g. region=EMEA\n"
     "       oncue steer measurements",
     "Shows or sets the steering policy, fetches a steering manifest as a player would, or\n"
     "lists the measurements, through a running server.\n",
     steer_opts, 4},
    {0},
};

int steer_cli_main(int argc, char **argv)
{
    struct conn c = {0};
    int n = 0, code = 2;
    const char *w[4];
    char path[512];
    json_t *out = NULL;
    struct http_client env;
    http_client_from_env(&env);
    c.server = env.server;
    c.token = env.token;
    int prc = oc_cli_parse(steer_cli, argc - 1, argv + 1, &c, w, &n);
    if (prc != 0)
        return prc == 1 ? 0 : 2;
    if (n == 0) {
        struct oc_buf b;
        oc_buf_init(&b, 1 << 20);
        oc_cli_help(steer_cli, &b);
        fprintf(stderr, "%s", b.data);
        oc_buf_free(&b);
    } else if (n == 2 && strcmp(w[0], "policy") == 0 && strcmp(w[1], "show") == 0) {
        code = run(&c, "GET", "/v1/steering/policies", NULL, &out);
    } else if (n == 3 && strcmp(w[0], "policy") == 0 && strcmp(w[1], "set") == 0) {
        char *body = read_policy(w[2]);
        code = body ? run(&c, "PUT", "/v1/steering/policies", body, &out) : 1;
        free(body);
    } else if (n >= 2 && strcmp(w[0], "manifest") == 0) {
        snprintf(path, sizeof(path), "/v1/steering/%s/%.64s?%.300s", n > 2 ? w[2] : "hls", w[1],
                 n > 3 ? w[3] : "");
        code = run(&c, "GET", path, NULL, &out);
    } else if (n == 1 && strcmp(w[0], "measurements") == 0) {
        code = run(&c, "GET", "/v1/steering/measurements", NULL, &out);
    }
    if (out)
        print_json(out);
    json_decref(out);
    return code;
}
