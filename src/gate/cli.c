/*
 * cli.c - `oncue gate SERVICE [--canary SLICE --baseline SLICE]`: asks a running server's
 * POST /v1/gates/{service} and prints the decision with its reasons, or the JSON answer with
 * --json. Exits 0 on go, 3 on no-go, 1 when the server could not answer, 2 on bad usage.
 */
#include "gate/gate.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/opt.h"
#include "http/client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (1 << 20) /* bytes of a server answer */

struct opts {
    const char *server, *token;
    const char *canary, *baseline, *version, *on_fail;
    long window_s, min_sample;
    double alpha;
    int json, dry_run;
};

#define F(field) offsetof(struct opts, field)

static const struct oc_opt options[] = {
    {"--canary", OC_OPT_STR, F(canary), "SLICE",
     "the canary slice (\"player_version=7.2.0\", \"cdn=cdn-b,region=EMEA\")", 0, 0, NULL},
    {"--baseline", OC_OPT_STR, F(baseline), "SLICE", "the slice it is compared with", 0, 0, NULL},
    {"--window", OC_OPT_LONG, F(window_s), "SECONDS",
     "closed minutes compared (default gate.canary_window_s)", 60, GATE_MAX_WINDOW_S, NULL},
    {"--alpha", OC_OPT_DOUBLE, F(alpha), "A", "significance level (default gate.alpha_pct)", 0, 1,
     NULL},
    {"--min-sample", OC_OPT_LONG, F(min_sample), "N",
     "trials each slice needs on a metric (default gate.min_sample)", 1, 100000000, NULL},
    {"--version", OC_OPT_STR, F(version), "V", "what is being released (recorded)", 0, 0, NULL},
    {"--on-fail", OC_OPT_STR, F(on_fail), "JSON",
     "the mitigation a failed canary applies when gate.auto_mitigate allows it "
     "('{\"kind\":\"rollback\"}')",
     0, 0, NULL},
    {"--dry-run", OC_OPT_FLAG, F(dry_run), NULL, "decide, but record and apply nothing", 0, 0,
     NULL},
    {"--server", OC_OPT_STR, F(server), "URL",
     "the server (default $ONCUE_SERVER, else http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "T", "API token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the JSON answer", 0, 0, NULL},
    {0},
};

#undef F

const struct oc_cli gate_cli[] = {
    {
        .name = "gate",
        .usage = "SERVICE [--canary SLICE --baseline SLICE] [--window S] [--on-fail JSON]",
        .about = "Asks the release gate of SERVICE: go, or no-go with the reasons (error budget,\n"
                 "open incidents on it or what it depends on, freezes) and, with --canary, the\n"
                 "canary's QoE against its baseline, each metric with its z and p-value\n"
                 "(docs/internals/gate.md). Exits 0 on go, 3 on no-go.\n",
        .opts = options,
        .max_args = 1,
    },
    {0}};

/* The request body from the options; NULL after printing why. */
static json_t *body_of(const struct opts *o)
{
    json_t *b = json_object();
    if (o->canary)
        json_object_set_new(b, "canary", json_string(o->canary));
    if (o->baseline)
        json_object_set_new(b, "baseline", json_string(o->baseline));
    if (o->window_s)
        json_object_set_new(b, "window_s", json_integer(o->window_s));
    if (o->min_sample)
        json_object_set_new(b, "min_sample", json_integer(o->min_sample));
    if (o->alpha > 0)
        json_object_set_new(b, "alpha", json_real(o->alpha));
    if (o->version)
        json_object_set_new(b, "version", json_string(o->version));
    if (o->dry_run)
        json_object_set_new(b, "dry_run", json_true());
    if (o->on_fail) {
        json_t *m = json_loads(o->on_fail, 0, NULL);
        if (!json_is_object(m)) {
            fprintf(stderr,
                    "oncue gate: --on-fail: a JSON object such as '{\"kind\":\"rollback\"}'\n");
            json_decref(m);
            json_decref(b);
            return NULL;
        }
        json_object_set_new(b, "on_fail", m);
    }
    return b;
}

/* Prints the decision, the checks and each canary metric. */
static void print_answer(const json_t *v)
{
    const json_t *checks = json_object_get(v, "checks"), *c, *m;
    size_t i, k;
    printf("%s: %s\n", json_string_value(json_object_get(v, "service")),
           json_string_value(json_object_get(v, "decision")));
    json_array_foreach(checks, i, c)
    {
        printf("  %-4s %-13s %s\n", json_is_true(json_object_get(c, "ok")) ? "ok" : "FAIL",
               json_string_value(json_object_get(c, "name")),
               json_string_value(json_object_get(c, "detail")));
        const json_t *cn = json_object_get(c, "canary");
        json_array_foreach(json_object_get(cn, "metrics"), k, m)
        {
            const json_t *a = json_object_get(m, "canary"), *b = json_object_get(m, "baseline");
            printf("       %-18s canary %7.3f%% of %-8.0f baseline %7.3f%% of %-8.0f z %6.2f  "
                   "p %.2g  %s\n",
                   json_string_value(json_object_get(m, "metric")),
                   100 * json_number_value(json_object_get(a, "share")),
                   json_number_value(json_object_get(a, "trials")),
                   100 * json_number_value(json_object_get(b, "share")),
                   json_number_value(json_object_get(b, "trials")),
                   json_number_value(json_object_get(m, "z")),
                   json_number_value(json_object_get(m, "p_value")),
                   json_string_value(json_object_get(m, "verdict")));
        }
    }
    const json_t *mit = json_object_get(v, "mitigation");
    if (json_is_object(mit))
        printf("  mitigation %s: %s\n", json_string_value(json_object_get(mit, "kind")),
               json_is_true(json_object_get(mit, "applied"))
                   ? "applied"
                   : json_string_value(json_object_get(mit, "reason")));
}

/* Calls the server; the answer's exit status. */
static int run(const struct opts *o, const char *service, json_t *body)
{
    struct http_client hc = {o->server, o->token && o->token[0] ? o->token : NULL, 60};
    struct oc_buf b;
    long status = 0;
    char err[512], path[300];
    int rc = 1;
    char *text = json_dumps(body, JSON_COMPACT), *e = curl_easy_escape(NULL, service, 0);
    snprintf(path, sizeof path, "/v1/gates/%s", e ? e : "");
    curl_free(e);
    oc_buf_init(&b, RESP_MAX);
    json_t *v = NULL;
    if (http_client_call(&hc, "POST", path, text, &status, &b, err, sizeof err) != 0) {
        fprintf(stderr, "oncue: %s\n", err);
    } else if (!(v = json_loads(b.data ? b.data : "", 0, NULL))) {
        fprintf(stderr, "oncue gate: HTTP %ld: the answer is not JSON\n", status);
    } else if (status != 200) {
        const char *detail = json_string_value(json_object_get(v, "detail"));
        fprintf(stderr, "oncue gate: HTTP %ld: %s\n", status, detail ? detail : "");
    } else {
        if (o->json) {
            char *s = json_dumps(v, JSON_INDENT(2));
            printf("%s\n", s ? s : "");
            free(s);
        } else {
            print_answer(v);
        }
        const char *d = json_string_value(json_object_get(v, "decision"));
        rc = d && strcmp(d, "go") == 0 ? 0 : 3;
    }
    json_decref(v);
    free(text);
    oc_buf_free(&b);
    return rc;
}

int gate_cli_main(int argc, char **argv)
{
    struct opts o;
    struct http_client env;
    const char *args[1] = {NULL};
    int nargs = 0;
    memset(&o, 0, sizeof o);
    http_client_from_env(&env);
    o.server = env.server;
    o.token = env.token;
    int rc = oc_cli_parse(gate_cli, argc - 1, argv + 1, &o, args, &nargs);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (nargs != 1) {
        fprintf(stderr, "oncue gate: which service? (see oncue gate --help)\n");
        return 2;
    }
    if (!o.canary != !o.baseline) {
        fprintf(stderr, "oncue gate: --canary and --baseline go together\n");
        return 2;
    }
    json_t *body = body_of(&o);
    if (!body)
        return 2;
    rc = run(&o, args[0], body);
    json_decref(body);
    return rc;
}
