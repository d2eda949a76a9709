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
#include "core/suggest.h"
#include "http/client.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESP_MAX (8 << 20) /* bytes of one response kept */

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

/* What the command line of `oncue mitigate` says. */
struct mit_args {
    struct conn c; /* --server, --token, --json */
    int dry;       /* --dry-run */
    int on, off;   /* --on, --off */
    json_t *body;  /* the request body: one member per option given */
};

/* One callback per body member: --FLAG VALUE sets the member KEY to the string VALUE. */
#define BODY_STR(fn, key)                                                                          \
    static int fn(void *p, const char *v, char *why, size_t n)                                     \
    {                                                                                              \
        (void)why, (void)n;                                                                        \
        return json_object_set_new(((struct mit_args *)p)->body, key, json_string(v));             \
    }
BODY_STR(set_region, "region")
BODY_STR(set_from, "from")
BODY_STR(set_to, "to")
BODY_STR(set_service, "service")
BODY_STR(set_host, "host")
BODY_STR(set_name, "name")
BODY_STR(set_player, "player")
BODY_STR(set_player_version, "player_version")
BODY_STR(set_device, "device")
BODY_STR(set_reason, "reason")
#undef BODY_STR

/* --percent X: the member "percent" as a number. */
static int set_percent(void *p, const char *v, char *why, size_t n)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end) {
        snprintf(why, n, "expected a number, got \"%s\"", v);
        return -1;
    }
    return json_object_set_new(((struct mit_args *)p)->body, "percent", json_real(x));
}

#define F(field) offsetof(struct mit_args, field)
static const struct oc_opt mit_opts[] = {
    {"--region", OC_OPT_FN, 0, "REGION", "region to shift (shift-cdn), or to match (flag)", 0, 0,
     set_region},
    {"--from", OC_OPT_FN, 0, "PATHWAY", "pathway to move away from, served last (shift-cdn)", 0, 0,
     set_from},
    {"--to", OC_OPT_FN, 0, "PATHWAY", "pathway to move to, served first (shift-cdn)", 0, 0, set_to},
    {"--percent", OC_OPT_FN, 0, "P", "sticky share of the region's sessions, default 100", 0, 0,
     set_percent},
    {"--service", OC_OPT_FN, 0, "SERVICE", "service (backup-origin, rollback)", 0, 0, set_service},
    {"--host", OC_OPT_FN, 0, "HOST[:PORT]", "backup origin (default steer.backup_origin)", 0, 0,
     set_host},
    {"--name", OC_OPT_FN, 0, "FLAG", "feature flag name (flag)", 0, 0, set_name},
    {"--on", OC_OPT_FLAG, F(on), NULL, "turn the flag on", 0, 0, NULL},
    {"--off", OC_OPT_FLAG, F(off), NULL, "turn the flag off", 0, 0, NULL},
    {"--player", OC_OPT_FN, 0, "PLAYER", "only for this player (flag)", 0, 0, set_player},
    {"--player-version", OC_OPT_FN, 0, "VERSION", "only for this player version (flag)", 0, 0,
     set_player_version},
    {"--device", OC_OPT_FN, 0, "DEVICE", "only for this device class (flag)", 0, 0, set_device},
    {"--reason", OC_OPT_FN, 0, "TEXT",
     "why, for the audit trail and the incident timeline (any kind)", 0, 0, set_reason},
    {"--dry-run", OC_OPT_FLAG, F(dry), NULL, "show a session before and after; apply nothing", 0, 0,
     NULL},
    {"--server", OC_OPT_STR, F(c.server), "URL",
     "the server (default $ONCUE_SERVER, else http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(c.token), "T", "API token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(c.json), NULL, "print the JSON answer", 0, 0, NULL},
    {0},
};
#undef F

const struct oc_cli steer_mitigate_cli[] = {
    {"mitigate",
     "KIND [options] [--dry-run]\n"
     "       oncue mitigate revert ID\n"
     "       oncue mitigate list",
     "Applies (or dry-runs), lists or reverts a mitigation through a running server. Each\n"
     "option below becomes the member of the request body of the same name (--player-version:\n"
     "player_version; --on/--off: on). `oncue mitigate --help` lists the kinds.\n",
     mit_opts, 2},
    {0},
};

/* The options (from the table), then the kinds. */
static void mitigate_kinds(FILE *f)
{
    const char *name, *summary;
    fprintf(f, "\nkinds:\n");
    for (int i = 0; (summary = steer_kind_summary(i, &name)) != NULL; i++)
        fprintf(f, "  %-14s %s\n", name, summary);
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

/* The request body of `KIND [options]` from parsed args: "kind" first, then the options,
 * "on" from --on/--off, "dry_run". Takes a->body; returns a new reference. */
static json_t *mitigate_body(struct mit_args *a, const char *kind)
{
    json_t *req = json_pack("{s:s}", "kind", kind);
    json_object_update(req, a->body);
    json_decref(a->body);
    a->body = NULL;
    if (a->on || a->off)
        json_object_set_new(req, "on", json_boolean(!a->off));
    if (a->dry)
        json_object_set_new(req, "dry_run", json_true());
    return req;
}

int steer_mitigate_request(int argc, char **argv, json_t **req, char *err, size_t errlen)
{
    struct mit_args a = {.body = json_object()};
    const char *w[2];
    int n = 0;
    int rc = oc_cli_parse_quiet(steer_mitigate_cli, argc, argv, &a, w, &n, err, errlen);
    *req = NULL;
    if (rc == 0 && n != 1) {
        snprintf(err, errlen, "oncue mitigate: name one kind (see oncue mitigate --help)");
        rc = -1;
    } else if (rc > 0) {
        snprintf(err, errlen, "oncue mitigate: --help is not a mitigation");
        rc = -1;
    }
    if (rc == 0)
        *req = mitigate_body(&a, w[0]);
    json_decref(a.body);
    return rc == 0 ? 0 : OC_EINVAL;
}

/* 1 when kind names a mitigation kind; else 0 after printing what is wrong and the closest
 * kind (or list and revert). */
static int mitigate_kind_known(const char *kind)
{
    const char *name;
    char hint[160];
    struct oc_suggest sg;
    oc_suggest_init(&sg, kind, strlen(kind));
    for (int i = 0; steer_kind_summary(i, &name) != NULL; i++) {
        if (strcmp(name, kind) == 0)
            return 1;
        oc_suggest_add(&sg, name);
    }
    oc_suggest_add(&sg, "list");
    oc_suggest_add(&sg, "revert");
    fprintf(stderr, "oncue mitigate: unknown kind '%s'%s (see oncue mitigate --help)\n", kind,
            oc_suggest_hint(&sg, hint, sizeof hint));
    return 0;
}

int steer_mitigate_cli_main(int argc, char **argv)
{
    struct mit_args a = {.body = json_object()};
    int n = 0, code;
    const char *w[2];
    char path[64];
    json_t *out = NULL, *body = NULL;
    struct http_client env;
    http_client_from_env(&env);
    a.c.server = env.server;
    a.c.token = env.token;
    int p = oc_cli_parse(steer_mitigate_cli, argc - 1, argv + 1, &a, w, &n);
    if (p > 0)
        mitigate_kinds(stdout);
    if (p == 0 && n == 0)
        fprintf(stderr,
                "oncue mitigate: name a kind, list or revert (see oncue mitigate --help)\n");
    if (p != 0 || n == 0) {
        json_decref(a.body);
        return p > 0 ? 0 : 2;
    }
    const struct conn c = a.c;
    if (strcmp(w[0], "list") == 0) {
        code = run(&c, "GET", "/v1/mitigations", NULL, &out);
    } else if (strcmp(w[0], "revert") == 0 && n == 2) {
        snprintf(path, sizeof(path), "/v1/mitigations/%.20s/revert", w[1]);
        code = run(&c, "POST", path, "{}", &out);
    } else if (strcmp(w[0], "revert") == 0) {
        fprintf(stderr, "oncue mitigate revert: needs ID (see oncue mitigate --help)\n");
        code = 2;
    } else if (!mitigate_kind_known(w[0])) {
        code = 2;
    } else if (n > 1) {
        fprintf(stderr, "oncue mitigate: unexpected argument '%s' (see oncue mitigate --help)\n",
                w[1]);
        code = 2;
    } else {
        body = mitigate_body(&a, w[0]);
        char *text = json_dumps(body, JSON_COMPACT);
        code = run(&c, "POST", "/v1/mitigations", text, &out);
        free(text);
    }
    if (out && c.json)
        print_json(out);
    else if (out)
        mitigate_print(strcmp(w[0], "revert") == 0 ? "reverted" : "applied", out);
    json_decref(out);
    json_decref(body);
    json_decref(a.body);
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

/* The words of `oncue steer`: each command with the positional words it takes. */
static const struct steer_word {
    const char *name; /* the command */
    int min, max;     /* positional words after it */
    const char *args; /* what they are, for "needs" */
} steer_words[] = {
    {"policy", 1, 2, "show or set FILE.json"},
    {"manifest", 1, 3, "ASSET [hls|dash] [QUERY]"},
    {"measurements", 0, 0, ""},
    {0},
};
static const struct steer_word policy_words[] = {
    {"show", 0, 0, ""},
    {"set", 1, 1, "FILE.json"},
    {0},
};

/* Checks w[0..n) against the words of `oncue steer`; 0, or 2 after printing what is wrong
 * and the closest word. */
static int steer_check(const char **w, int n)
{
    char hint[160];
    const struct steer_word *s = steer_words, *p = policy_words;
    if (n == 0) {
        fprintf(stderr, "oncue steer: name a command: policy, manifest or measurements");
        goto see;
    }
    while (s->name && strcmp(s->name, w[0]) != 0)
        s++;
    if (!s->name) {
        struct oc_suggest sg; /* `steer set` means `steer policy set` */
        oc_suggest_init(&sg, w[0], strlen(w[0]));
        for (p = policy_words; p->name; p++)
            oc_suggest_add(&sg, p->name);
        if (!*OC_SUGGEST_TABLE(w[0], steer_words, hint) && oc_suggest_best(&sg))
            snprintf(hint, sizeof hint, "; did you mean policy %s?", oc_suggest_best(&sg));
        p = policy_words;
        fprintf(stderr, "oncue steer: unknown command '%s'%s", w[0], hint);
        goto see;
    }
    if (n - 1 < s->min) {
        fprintf(stderr, "oncue steer %s: needs %s", s->name, s->args);
        goto see;
    }
    if (s == steer_words) { /* policy ACTION */
        while (p->name && strcmp(p->name, w[1]) != 0)
            p++;
        if (!p->name) {
            fprintf(stderr, "oncue steer policy: unknown action '%s'%s", w[1],
                    OC_SUGGEST_TABLE(w[1], policy_words, hint));
            goto see;
        }
        if (n - 2 < p->min) {
            fprintf(stderr, "oncue steer policy %s: needs %s", p->name, p->args);
            goto see;
        }
        if (n - 2 > p->max) {
            fprintf(stderr, "oncue steer policy %s: unexpected argument '%s'", p->name,
                    w[2 + p->max]);
            goto see;
        }
    } else if (n - 1 > s->max) {
        fprintf(stderr, "oncue steer %s: unexpected argument '%s'", s->name, w[1 + s->max]);
        goto see;
    }
    return 0;
see:
    fprintf(stderr, " (see oncue steer --help)\n");
    return 2;
}

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
    if (steer_check(w, n) != 0)
        return 2;
    if (strcmp(w[0], "policy") == 0 && strcmp(w[1], "show") == 0) {
        code = run(&c, "GET", "/v1/steering/policies", NULL, &out);
    } else if (strcmp(w[0], "policy") == 0) {
        char *body = read_policy(w[2]);
        code = body ? run(&c, "PUT", "/v1/steering/policies", body, &out) : 1;
        free(body);
    } else if (strcmp(w[0], "manifest") == 0) {
        snprintf(path, sizeof(path), "/v1/steering/%s/%.64s?%.300s", n > 2 ? w[2] : "hls", w[1],
                 n > 3 ? w[3] : "");
        code = run(&c, "GET", path, NULL, &out);
    } else {
        code = run(&c, "GET", "/v1/steering/measurements", NULL, &out);
    }
    if (out)
        print_json(out);
    json_decref(out);
    return code;
}
