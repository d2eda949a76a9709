/*
 * cli.c - `oncue subscription`: event subscriptions of a running server through
 * /v1/event-subscriptions (add, list, show, log, replay, rotate, enable, disable, rm). Prints
 * a short table, or the JSON answer with --json.
 */
#include "automation/automation.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/opt.h"
#include "core/suggest.h"
#include "http/client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (4 << 20) /* bytes of a server answer */

struct opts {
    const char *server, *token;
    const char *topics, *secret, *algorithm, *state, *since;
    long keep, limit;
    int json;
};

#define F(field) offsetof(struct opts, field)

static const struct oc_opt options[] = {
    {"--topics", OC_OPT_STR, F(topics), "LIST",
     "add: comma-separated topics (\"incident.*,alert.fired\", \"*\" for every one)", 0, 0, NULL},
    {"--secret", OC_OPT_STR, F(secret), "KEY",
     "add, rotate: the signing key (whsec_... or whsk_...); default: one is generated", 0, 0, NULL},
    {"--algorithm", OC_OPT_STR, F(algorithm), "v1|v1a",
     "add, rotate: the generated key's kind: v1 HMAC-SHA256 (default) or v1a Ed25519", 0, 0, NULL},
    {"--keep", OC_OPT_LONG, F(keep), "N", "rotate: old keys that keep signing (default 1)", 0, 3,
     NULL},
    {"--state", OC_OPT_STR, F(state), "S",
     "log: pending|delivered|failed; replay --since: failed (default)|delivered|all", 0, 0, NULL},
    {"--since", OC_OPT_STR, F(since), "TIME", "replay: every finished message since TIME (now-2h)",
     0, 0, NULL},
    {"--limit", OC_OPT_LONG, F(limit), "N", "log: messages shown (default 20)", 1, 1000, NULL},
    {"--server", OC_OPT_STR, F(server), "URL",
     "the server (default $ONCUE_SERVER, else http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "T", "API token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the JSON answer", 0, 0, NULL},
    {0},
};

#undef F

const struct oc_cli automation_cli[] = {
    {
        .name = "subscription",
        .usage = "add NAME URL --topics LIST [--secret KEY | --algorithm v1|v1a]\n"
                 "       oncue subscription list | show NAME | rm NAME | enable NAME | "
                 "disable NAME\n"
                 "       oncue subscription log NAME [--state S] [--limit N]\n"
                 "       oncue subscription replay NAME (MSG_ID | --since TIME [--state S])\n"
                 "       oncue subscription rotate NAME [--secret KEY | --algorithm A] "
                 "[--keep N]",
        .about = "Event subscriptions deliver bus topics to an outside URL as signed Standard\n"
                 "Webhooks messages (docs/internals/automation.md). add prints the generated\n"
                 "secret once; log shows the delivery log; replay sends a message again with\n"
                 "its webhook-id; rotate signs with a new key first and --keep old ones.\n",
        .opts = options,
        .max_args = 3,
    },
    {0}};

/* Calls the server; the parsed answer on a 2xx, else NULL (message printed). */
static json_t *call(const struct opts *o, const char *method, const char *path, json_t *body)
{
    struct http_client hc = {o->server, o->token && o->token[0] ? o->token : NULL, 30};
    struct oc_buf b;
    long status = 0;
    char err[512];
    json_t *v = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    oc_buf_init(&b, RESP_MAX);
    if (http_client_call(&hc, method, path, text, &status, &b, err, sizeof err) != 0) {
        fprintf(stderr, "oncue: %s\n", err);
    } else if (status < 200 || status > 299) {
        json_t *p = json_loads(b.data ? b.data : "", 0, NULL);
        const char *detail = json_string_value(json_object_get(p, "detail"));
        fprintf(stderr, "oncue subscription: HTTP %ld: %s\n", status,
                detail ? detail : (b.data ? b.data : ""));
        json_decref(p);
    } else if (!(v = json_loads(b.data ? b.data : "", 0, NULL))) {
        fprintf(stderr, "oncue: %s%s: the answer is not JSON\n", o->server, path);
    }
    free(text);
    oc_buf_free(&b);
    return v;
}

/* path + "/" + the URL-escaped segment. */
static void seg(char *out, size_t n, const char *base, const char *a, const char *tail)
{
    char *e = curl_easy_escape(NULL, a, 0);
    snprintf(out, n, "%s/%s%s", base, e ? e : "", tail ? tail : "");
    curl_free(e);
}

static void print_sub(const json_t *s)
{
    const json_t *m = json_object_get(s, "messages");
    char *topics = json_dumps(json_object_get(s, "topics"), JSON_COMPACT);
    printf("%-20s %-9s %6lld pending %6lld delivered %6lld failed  %s %s%s%s\n",
           json_string_value(json_object_get(s, "name")),
           json_string_value(json_object_get(s, "state")),
           (long long)json_integer_value(json_object_get(m, "pending")),
           (long long)json_integer_value(json_object_get(m, "delivered")),
           (long long)json_integer_value(json_object_get(m, "failed")),
           json_string_value(json_object_get(s, "url")), topics ? topics : "",
           json_object_get(s, "reason") ? "  " : "",
           json_object_get(s, "reason") ? json_string_value(json_object_get(s, "reason")) : "");
    free(topics);
}

static void print_answer(const struct opts *o, const char *cmd, json_t *v)
{
    if (o->json) {
        char *t = json_dumps(v, JSON_INDENT(2));
        puts(t ? t : "null");
        free(t);
        return;
    }
    if (strcmp(cmd, "list") == 0) {
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(v, "subscriptions"), i, s) print_sub(s);
    } else if (strcmp(cmd, "log") == 0) {
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(v, "messages"), i, x)
        {
            printf("%s  %-28s %-9s attempts %lld  last %lld  %s\n",
                   json_string_value(json_object_get(x, "msg_id")),
                   json_string_value(json_object_get(x, "topic")),
                   json_string_value(json_object_get(x, "state")),
                   (long long)json_integer_value(json_object_get(x, "attempts")),
                   (long long)json_integer_value(json_object_get(x, "last_status")),
                   json_string_value(json_object_get(x, "created")));
        }
    } else if (json_object_get(v, "state")) {
        print_sub(v);
    }
    const char *secret = json_string_value(json_object_get(v, "secret"));
    const char *pk = json_string_value(json_object_get(v, "public_key"));
    if (secret)
        printf("secret (shown once): %s\n", secret);
    if (pk)
        printf("public key: %s\n", pk);
    if (json_object_get(v, "replayed"))
        printf("replayed %lld\n", (long long)json_integer_value(json_object_get(v, "replayed")));
    if (json_object_get(v, "deleted"))
        printf("deleted %s\n", json_string_value(json_object_get(v, "name")));
}

/* The commands of `oncue subscription` and the words each takes after it. */
static const struct sub_cmd {
    const char *name; /* the command */
    int min, max;     /* positional words after it */
    const char *args; /* what they are, for "needs" */
} sub_cmds[] = {
    {"add", 2, 2, "NAME URL"}, {"list", 0, 0, ""},
    {"show", 1, 1, "NAME"},    {"log", 1, 1, "NAME"},
    {"replay", 1, 2, "NAME"},  {"rotate", 1, 1, "NAME"},
    {"enable", 1, 1, "NAME"},  {"disable", 1, 1, "NAME"},
    {"rm", 1, 1, "NAME"},      {0},
};

/* 0 when a[0..n) is a command with the words it takes; else 2 after printing what is wrong
 * and the closest command. */
static int check_cmd(const char **a, int n)
{
    const struct sub_cmd *c = sub_cmds;
    char hint[160];
    if (n < 1) {
        fprintf(stderr, "oncue subscription: name a command: add, list, show, log, replay, "
                        "rotate, enable, disable or rm");
        goto see;
    }
    while (c->name && strcmp(c->name, a[0]) != 0)
        c++;
    if (!c->name)
        fprintf(stderr, "oncue subscription: unknown command '%s'%s", a[0],
                OC_SUGGEST_TABLE(a[0], sub_cmds, hint));
    else if (n - 1 < c->min)
        fprintf(stderr, "oncue subscription %s: needs %s", c->name, c->args);
    else if (n - 1 > c->max)
        fprintf(stderr, "oncue subscription %s: unexpected argument '%s'", c->name, a[1 + c->max]);
    else
        return 0;
see:
    fprintf(stderr, " (see oncue subscription --help)\n");
    return 2;
}

/* Runs cmd with its positional args (checked by check_cmd); the answer or NULL. */
static json_t *run(const struct opts *o, const char *cmd, const char **a, int n)
{
    static const char *const B = "/v1/event-subscriptions";
    char path[1024];
    json_t *v = NULL, *body = NULL;
    if (strcmp(cmd, "list") == 0)
        return call(o, "GET", B, NULL);
    if (strcmp(cmd, "add") == 0) {
        body = json_pack("{s:s, s:s, s:s}", "name", a[0], "url", a[1], "topics",
                         o->topics ? o->topics : "");
        if (o->secret)
            json_object_set_new(body, "secret", json_string(o->secret));
        if (o->algorithm)
            json_object_set_new(body, "algorithm", json_string(o->algorithm));
        v = call(o, "POST", B, body);
    } else if (strcmp(cmd, "show") == 0 || strcmp(cmd, "rm") == 0) {
        seg(path, sizeof path, B, a[0], NULL);
        v = call(o, strcmp(cmd, "rm") == 0 ? "DELETE" : "GET", path, NULL);
    } else if (strcmp(cmd, "enable") == 0 || strcmp(cmd, "disable") == 0) {
        seg(path, sizeof path, B, a[0], strcmp(cmd, "enable") == 0 ? "/enable" : "/disable");
        v = call(o, "POST", path, NULL);
    } else if (strcmp(cmd, "log") == 0) {
        char tail[128];
        snprintf(tail, sizeof tail, "/messages?limit=%ld%s%s", o->limit, o->state ? "&state=" : "",
                 o->state ? o->state : "");
        seg(path, sizeof path, B, a[0], tail);
        v = call(o, "GET", path, NULL);
    } else if (strcmp(cmd, "rotate") == 0) {
        body = json_pack("{s:I}", "keep", (json_int_t)o->keep);
        if (o->secret)
            json_object_set_new(body, "secret", json_string(o->secret));
        if (o->algorithm)
            json_object_set_new(body, "algorithm", json_string(o->algorithm));
        seg(path, sizeof path, B, a[0], "/rotate");
        v = call(o, "POST", path, body);
    } else if (strcmp(cmd, "replay") == 0) {
        char tail[256];
        if (n == 2) {
            char *e = curl_easy_escape(NULL, a[1], 0);
            snprintf(tail, sizeof tail, "/messages/%s/replay", e ? e : "");
            curl_free(e);
        } else if (!o->since) {
            fprintf(stderr, "oncue subscription replay: a MSG_ID or --since TIME\n");
            return NULL;
        } else {
            snprintf(tail, sizeof tail, "/replay");
            body =
                json_pack("{s:s, s:s}", "since", o->since, "state", o->state ? o->state : "failed");
        }
        seg(path, sizeof path, B, a[0], tail);
        v = call(o, "POST", path, body);
    }
    json_decref(body);
    return v;
}

int automation_cli_main(int argc, char **argv)
{
    struct opts o;
    struct http_client env;
    const char *args[3] = {NULL, NULL, NULL};
    int nargs = 0;
    memset(&o, 0, sizeof o);
    http_client_from_env(&env);
    o.server = env.server;
    o.token = env.token;
    o.keep = 1;
    o.limit = 20;
    int rc = oc_cli_parse(automation_cli, argc - 1, argv + 1, &o, args, &nargs);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (check_cmd(args, nargs) != 0)
        return 2;
    json_t *v = run(&o, args[0], args + 1, nargs - 1);
    if (!v)
        return 1;
    print_answer(&o, args[0], v);
    json_decref(v);
    return 0;
}
