/*
 * cli.c - `oncue alerts`: the alert audit (from a data directory, or from a running server
 * through GET /v1/alerts/audit), the active and recent alerts, and the loaded rules. Prints
 * a table, or the JSON answer with --json.
 */
#include "alert/alert.h"
#include "core/buf.h"
#include "core/clock.h"
#include "http/client.h"
#include "core/err.h"
#include "core/opt.h"
#include "core/suggest.h"
#include "store/store.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (16 << 20) /* bytes of a server answer */

struct opts {
    const char *cmd;    /* audit, list, rules */
    const char *data;   /* --data DIR: read the store directly */
    const char *server; /* --server URL */
    const char *token;  /* --token T */
    const char *rules;  /* --rules FILE (with --data) */
    const char *slos;   /* --slos FILE (with --data) */
    long days;          /* --days N */
    int json;           /* --json */
};

#define F(field) offsetof(struct opts, field)

static const struct oc_opt options[] = {
    {"--days", OC_OPT_LONG, F(days), "N", "audit: the last N days (default 90)", 1, 3650, NULL},
    {"--data", OC_OPT_STR, F(data), "DIR", "audit: read DIR/oncue.db without a server", 0, 0, NULL},
    {"--rules", OC_OPT_STR, F(rules), "FILE",
     "alert rules YAML (with --data, and for check); default: the shipped ones", 0, 0, NULL},
    {"--slos", OC_OPT_STR, F(slos), "FILE",
     "SLO YAML (with --data, and for check); default: the shipped ones", 0, 0, NULL},
    {"--server", OC_OPT_STR, F(server), "URL",
     "the server (default $ONCUE_SERVER, else http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "T", "API token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the JSON answer", 0, 0, NULL},
    {0},
};

#undef F

const struct oc_cli alert_cli[] = {
    {
        .name = "alerts",
        .usage = "audit [--days 90] [--data DIR [--rules F] [--slos F] | --server URL --token T] "
                 "[--json]\n"
                 "       oncue alerts list|rules [--server URL] [--token T] [--json]\n"
                 "       oncue alerts check|openslo [--rules F] [--slos F]",
        .about = "audit: per rule over the last --days days: times fired, acknowledged and led to\n"
                 "an incident; flags never_fired and no_action (fired, nobody acted).\n"
                 "list: active and recent alerts. rules: the loaded rules. check: loads a rules\n"
                 "and an SLO file (default: the shipped ones) and reports the first error.\n"
                 "openslo: writes the SLOs and their burn-rate rules as OpenSLO v1 documents\n"
                 "(Service, SLO, AlertPolicy with AlertConditions); slo.file reads them back.\n",
        .opts = options,
        .max_args = 1,
    },
    {0}};

/* Fills o with the defaults, then argv; 0, 1 (help shown) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    struct http_client env;
    int nargs = 0;
    memset(o, 0, sizeof(*o));
    o->days = 90;
    http_client_from_env(&env);
    o->server = env.server;
    o->token = env.token;
    int rc = oc_cli_parse(alert_cli, argc - 1, argv + 1, o, &o->cmd, &nargs);
    if (rc == 0 && !o->cmd) {
        fprintf(stderr, "oncue alerts: name a command: list, rules, audit, check or openslo (see "
                        "oncue alerts --help)\n");
        rc = -1;
    }
    return rc;
}

/* GET path from the server; the parsed JSON answer, or NULL (message printed). */
static json_t *fetch(const struct opts *o, const char *path)
{
    struct http_client hc = {o->server, o->token && o->token[0] ? o->token : NULL, 30};
    struct oc_buf b;
    long status = 0;
    json_t *v = NULL;
    char err[512];
    oc_buf_init(&b, RESP_MAX);
    if (http_client_call(&hc, "GET", path, NULL, &status, &b, err, sizeof(err)) != 0)
        fprintf(stderr, "oncue: %s\n", err);
    else if (status != 200)
        fprintf(stderr, "oncue: %s%s: HTTP %ld: %s\n", o->server, path, status,
                b.data ? b.data : "");
    else if (!(v = json_loads(b.data ? b.data : "", 0, NULL)))
        fprintf(stderr, "oncue: %s%s: the answer is not JSON\n", o->server, path);
    oc_buf_free(&b);
    return v;
}

/* The audit read from a data directory; NULL on failure (message printed). */
static json_t *audit_local(const struct opts *o)
{
    struct store *st = NULL;
    struct slo_set *slos = NULL;
    struct alert_rules *rules = NULL;
    struct oc_clock clk;
    char err[512] = "";
    json_t *a = NULL;
    int rc = slo_set_load(o->slos, &slos, err, sizeof(err));
    if (rc == 0)
        rc = alert_rules_load(o->rules, slos, &rules, err, sizeof(err));
    if (rc == 0)
        rc = store_open(o->data, STORE_SYNC_NORMAL, &st, err, sizeof(err));
    if (rc == 0) {
        oc_clock_init(&clk, OC_CLOCK_REAL, 0);
        a = alert_audit(st, rules, oc_clock_now_s(&clk), (int)o->days);
        if (!a)
            snprintf(err, sizeof(err), "%s: cannot read the alert history", o->data);
    }
    if (!a)
        fprintf(stderr, "oncue: %s\n", err);
    store_close(st);
    alert_rules_destroy(rules);
    slo_set_destroy(slos);
    return a;
}

static void print_audit(const json_t *a)
{
    size_t i;
    json_t *r;
    printf("alert audit: the last %d days\n\n",
           (int)json_integer_value(json_object_get(a, "days")));
    printf("%-36s %-8s %6s %6s %9s  %s\n", "RULE", "LEVEL", "FIRED", "ACKED", "INCIDENTS", "FLAG");
    json_array_foreach(json_object_get(a, "rules"), i, r)
    {
        printf("%-36s %-8s %6lld %6lld %9lld  %s\n", json_string_value(json_object_get(r, "rule")),
               json_string_value(json_object_get(r, "level")),
               (long long)json_integer_value(json_object_get(r, "fired")),
               (long long)json_integer_value(json_object_get(r, "acknowledged")),
               (long long)json_integer_value(json_object_get(r, "led_to_incident")),
               json_string_value(json_object_get(r, "flag")));
    }
}

static void print_alerts(const json_t *a)
{
    static const char *const parts[] = {"active", "recent"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *r;
        printf("%s:\n", parts[k]);
        json_array_foreach(json_object_get(a, parts[k]), i, r)
        {
            printf("  %-10s %-7s %-48s %s\n", json_string_value(json_object_get(r, "source")),
                   json_string_value(json_object_get(r, "level")),
                   json_string_value(json_object_get(r, "alert_id")),
                   json_string_value(json_object_get(r, "summary")));
        }
    }
}

static void print_rules(const json_t *a)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(a, "rules"), i, r)
    {
        printf("%-36s %-9s %-18s %s %-8g for %4llds  %s\n",
               json_string_value(json_object_get(r, "name")),
               json_string_value(json_object_get(r, "type")),
               json_string_value(json_object_get(r, "metric")),
               json_string_value(json_object_get(r, "op")),
               json_number_value(json_object_get(r, "threshold")),
               (long long)json_integer_value(json_object_get(r, "for_s")),
               json_string_value(json_object_get(r, "level")));
    }
}

/* `oncue alerts check`: 0 when both files load, else 1 with "FILE:LINE: message". */
/* check: loads the files and says how many; openslo: writes them as OpenSLO v1. */
static int check(const struct opts *o)
{
    struct slo_set *slos = NULL;
    struct alert_rules *rules = NULL;
    char err[512] = "";
    int rc = slo_set_load(o->slos, &slos, err, sizeof(err));
    if (rc == 0)
        rc = alert_rules_load(o->rules, slos, &rules, err, sizeof(err));
    if (rc)
        fprintf(stderr, "oncue: %s\n", err);
    else if (o->cmd[0] == 'o')
        alert_openslo_write(stdout, slos, rules);
    else
        printf("ok: %d SLOs, %d rules\n", slos->n, rules->n);
    alert_rules_destroy(rules);
    slo_set_destroy(slos);
    return rc ? 1 : 0;
}

int alert_cli_main(int argc, char **argv)
{
    struct opts o;
    char path[64];
    json_t *a = NULL;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    if (strcmp(o.cmd, "check") == 0 || strcmp(o.cmd, "openslo") == 0)
        return check(&o);
    if (strcmp(o.cmd, "audit") == 0 && o.data) {
        a = audit_local(&o);
    } else if (strcmp(o.cmd, "audit") == 0) {
        snprintf(path, sizeof(path), "/v1/alerts/audit?days=%ld", o.days);
        a = fetch(&o, path);
    } else if (strcmp(o.cmd, "list") == 0 || strcmp(o.cmd, "rules") == 0) {
        a = fetch(&o, o.cmd[0] == 'l' ? "/v1/alerts" : "/v1/rules");
    } else {
        static const char *const cmds[] = {"list", "rules", "audit", "check", "openslo"};
        struct oc_suggest sg;
        char hint[160];
        oc_suggest_init(&sg, o.cmd, strlen(o.cmd));
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
            oc_suggest_add(&sg, cmds[i]);
        fprintf(stderr, "oncue alerts: unknown command '%s'%s (see oncue alerts --help)\n", o.cmd,
                oc_suggest_hint(&sg, hint, sizeof hint));
        return 2;
    }
    if (!a)
        return 1;
    if (o.json) {
        char *s = json_dumps(a, JSON_INDENT(2));
        printf("%s\n", s ? s : "null");
        free(s);
    } else if (o.cmd[0] == 'a') {
        print_audit(a);
    } else if (o.cmd[0] == 'l') {
        print_alerts(a);
    } else {
        print_rules(a);
    }
    json_decref(a);
    return 0;
}
