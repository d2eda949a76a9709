/*
 * cli.c - `oncue tickets`: list, show, clusters, route, routing and report over a running
 * server's /v1/tickets API. Prints a table (report: CSV), or the JSON answer with --json.
 * `seal` works on a data directory instead: it seals a secret read from stdin (the Zendesk
 * credentials) with the directory's key, for the settings that take sealed values.
 * Exit status: 0, 1 when the server refused or could not be reached, 2 for a usage error.
 */
#include "tickets/tickets.h"
#include "core/buf.h"
#include "core/opt.h"
#include "core/suggest.h"
#include "http/client.h"
#include "store/store.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX  (16 << 20) /* bytes of a server answer */
#define PATH_MAX_ 2048       /* bytes of a request path with its query */

struct opts {
    const char *args[2]; /* the command, and its argument (show ID) */
    const char *server;  /* --server URL */
    const char *token;   /* --token T */
    const char *queue;   /* --queue Q */
    const char *service; /* --service S */
    const char *symptom; /* --symptom S */
    const char *source;  /* --source S */
    const char *segment; /* --segment G */
    const char *tier;    /* --tier T */
    const char *order;   /* --order newest|priority */
    const char *from;    /* --from TIME */
    const char *to;      /* --to TIME */
    const char *by;      /* --by DIM */
    const char *bucket;  /* --bucket day|week */
    const char *data;    /* --data DIR (seal) */
    long incident, cluster, limit, min;
    int vip, json;
};

#define F(field) offsetof(struct opts, field)

static const struct oc_opt options[] = {
    {"--server", OC_OPT_STR, F(server), "URL",
     "the server (default $ONCUE_SERVER, else http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "T", "a viewer token (default $ONCUE_TOKEN)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the server's JSON answer", 0, 0, NULL},
    {"--queue", OC_OPT_STR, F(queue), "Q", "list: the tickets routed to queue Q", 0, 0, NULL},
    {"--order", OC_OPT_STR, F(order), "O",
     "list: newest (default) or priority (urgent first, then by respond-by)", 0, 0, NULL},
    {"--incident", OC_OPT_LONG, F(incident), "N", "list, clusters: linked to incident N", 1,
     2147483647, NULL},
    {"--cluster", OC_OPT_LONG, F(cluster), "N", "list: of cluster N", 1, 2147483647, NULL},
    {"--service", OC_OPT_STR, F(service), "S", "list, route: the service", 0, 0, NULL},
    {"--symptom", OC_OPT_STR, F(symptom), "S", "list: the symptom (buffering, login, ...)", 0, 0,
     NULL},
    {"--source", OC_OPT_STR, F(source), "S", "list: zendesk, freshdesk, salesforce or generic", 0,
     0, NULL},
    {"--limit", OC_OPT_LONG, F(limit), "N", "list: at most N tickets (default 100, up to 500)", 1,
     500, NULL},
    {"--min", OC_OPT_LONG, F(min), "N", "clusters: of at least N tickets (default 2)", 1, 1000000,
     NULL},
    {"--segment", OC_OPT_STR, F(segment), "G", "route: the customer segment", 0, 0, NULL},
    {"--tier", OC_OPT_STR, F(tier), "T", "route: premium, standard or free", 0, 0, NULL},
    {"--vip", OC_OPT_FLAG, F(vip), NULL, "route: the customer is a VIP", 0, 0, NULL},
    {"--from", OC_OPT_STR, F(from), "TIME",
     "report, feedback: from TIME (default: report 90 days, trends 30, priorities 14 before"
     " --to)",
     0, 0, NULL},
    {"--to", OC_OPT_STR, F(to), "TIME", "report, feedback: until TIME (default now)", 0, 0, NULL},
    {"--by", OC_OPT_STR, F(by), "DIM",
     "feedback trends: service (default), segment, tier, incident, source or region", 0, 0, NULL},
    {"--bucket", OC_OPT_STR, F(bucket), "B", "feedback trends: day (default) or week", 0, 0, NULL},
    {"--data", OC_OPT_STR, F(data), "DIR", "seal: the data directory (default ./oncue-data)", 0, 0,
     NULL},
    {0},
};

#undef F

const struct oc_cli tickets_cli[] = {
    {"tickets",
     "list [--queue Q [--order priority]] [--incident N] [--cluster N] [--service S] ...\n"
     "       oncue tickets show ID | clusters [--incident N] [--min N]\n"
     "       oncue tickets route [--service S] [--segment G] [--tier T] [--vip] | routing\n"
     "       oncue tickets report mttr|sla|incidents|churn [--from TIME] [--to TIME]\n"
     "       oncue tickets feedback trends [--by DIM] [--bucket day|week] | priorities\n"
     "       oncue tickets seal [--data DIR] < SECRET",
     "list: tickets, newest first (or a queue in priority order). show: one ticket with its\n"
     "tags and route. clusters: near-duplicate clusters, largest first, with their incident.\n"
     "route: where a ticket of that service, segment and tier goes now (queue, team, policy,\n"
     "on-call, priority, respond-by). routing: the routing table. report: a business\n"
     "report as CSV (MTTA/MTTR by service, segment and tier; SLA adherence by tier; tickets\n"
     "per incident; churn after SEV1/SEV2 incidents). TIME: RFC 3339, unix seconds or\n"
     "now-30d. feedback trends: NPS and CSAT per group and day or week; feedback\n"
     "priorities: incidents and services ranked by unhappy replies (and NPS decline). All\n"
     "over the server's API (--server, --token); --json prints its JSON answer. seal: prints\n"
     "the first line of stdin sealed with the data directory's key (sealed1:...), for\n"
     "tickets.zendesk_credentials in a config file; only a server on that directory opens it.\n",
     options, 2},
    {0},
};

/* Appends "&name=value" (value percent-encoded) to path when value is set. */
static void param(struct oc_buf *p, const char *name, const char *value)
{
    if (!value)
        return;
    oc_buf_printf(p, "%c%s=", strchr(p->data ? p->data : "", '?') ? '&' : '?', name);
    for (const unsigned char *s = (const unsigned char *)value; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            *s == '-' || *s == '.' || *s == '_' || *s == '~')
            oc_buf_printf(p, "%c", *s);
        else
            oc_buf_printf(p, "%%%02X", *s);
    }
}

static void param_long(struct oc_buf *p, const char *name, long v)
{
    char n[32];
    if (!v)
        return;
    snprintf(n, sizeof n, "%ld", v);
    param(p, name, n);
}

/* GET path into b: 0 on a 200, else -1 (message printed). */
static int get(const struct opts *o, const char *path, struct oc_buf *b)
{
    struct http_client hc = {o->server, o->token && o->token[0] ? o->token : NULL, 30};
    long status = 0;
    char err[512];
    if (http_client_call(&hc, "GET", path, NULL, &status, b, err, sizeof err) != 0) {
        fprintf(stderr, "oncue tickets: %s\n", err);
        return -1;
    }
    if (status != 200) {
        fprintf(stderr, "oncue tickets: %s%s: HTTP %ld: %s\n", o->server, path, status,
                b->data ? b->data : "");
        return -1;
    }
    return 0;
}

/* GET path; the parsed answer, or NULL (message printed). */
static json_t *fetch(const struct opts *o, const char *path)
{
    struct oc_buf b;
    json_t *v = NULL;
    oc_buf_init(&b, RESP_MAX);
    if (get(o, path, &b) == 0 && !(v = json_loads(b.data ? b.data : "", 0, NULL)))
        fprintf(stderr, "oncue tickets: %s%s: the answer is not JSON\n", o->server, path);
    oc_buf_free(&b);
    return v;
}

/* The string at key of o, "-" when absent or null or empty. */
static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && s[0] ? s : "-";
}

/* An integer at key of o as text, "-" when null or absent. */
static const char *num(const json_t *o, const char *key, char *buf, size_t n)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.2f", json_real_value(v));
    else
        snprintf(buf, n, "-");
    return buf;
}

static void print_list(const json_t *a)
{
    size_t i;
    json_t *t;
    char b1[32], b2[32], b3[32];
    printf("%-6s %-10s %-16s %-16s %-7s %-16s %-14s %7s %8s  %s\n", "ID", "SOURCE", "EXTERNAL",
           "QUEUE", "PRIO", "SERVICE", "SYMPTOM", "CLUSTER", "INCIDENT", "SUBJECT");
    json_array_foreach(json_object_get(a, "tickets"), i, t)
    {
        const json_t *g = json_object_get(t, "tags"), *r = json_object_get(t, "route");
        printf("%-6s %-10s %-16.16s %-16.16s %-7s %-16.16s %-14.14s %7s %8s  %.60s\n",
               num(t, "id", b1, sizeof b1), str(t, "source"), str(t, "external_id"),
               str(r, "queue"), str(r, "priority"), str(g, "service"), str(g, "symptom"),
               num(t, "cluster_id", b2, sizeof b2), num(t, "incident_id", b3, sizeof b3),
               str(t, "subject"));
    }
}

static void print_one(const json_t *t)
{
    char b[32];
    const json_t *g = json_object_get(t, "tags"), *r = json_object_get(t, "route");
    printf("ticket %s (%s %s)\n", num(t, "id", b, sizeof b), str(t, "source"),
           str(t, "external_id"));
    printf("  subject      %s\n", str(t, "subject"));
    printf("  updated      %s\n", str(t, "updated_at"));
    printf("  received     %s\n", str(t, "received_at"));
    printf("  tags         service %s, symptom %s, tier %s%s, segment %s, device %s, region %s\n",
           str(g, "service"), str(g, "symptom"), str(g, "tier"),
           json_is_true(json_object_get(g, "vip")) ? " (VIP)" : "", str(g, "segment"),
           str(g, "device"), str(g, "region"));
    printf("  cluster      %s\n", num(t, "cluster_id", b, sizeof b));
    printf("  incident     %s\n", num(t, "incident_id", b, sizeof b));
    if (json_is_object(r))
        printf("  route        %s (team %s, policy %s, on call %s), %s, respond by %s (rule %s)\n",
               str(r, "queue"), str(r, "team"), str(r, "policy"), str(r, "oncall"),
               str(r, "priority"), str(r, "respond_by"), str(r, "rule"));
    printf("\n%s\n", str(t, "body"));
}

static void print_clusters(const json_t *a)
{
    size_t i;
    json_t *c;
    char b1[32], b2[32], b3[32], b4[32];
    printf("%d clusters in all\n", (int)json_integer_value(json_object_get(a, "clusters_total")));
    printf("%-6s %7s %-16s %-14s %-8s %8s %9s  %s\n", "ID", "TICKETS", "SERVICE", "SYMPTOM",
           "REGION", "INCIDENT", "PER_1000", "LAST");
    json_array_foreach(json_object_get(a, "clusters"), i, c)
    {
        const json_t *g = json_object_get(c, "tags");
        printf("%-6s %7s %-16.16s %-14.14s %-8.8s %8s %9s  %s\n", num(c, "id", b1, sizeof b1),
               num(c, "tickets", b2, sizeof b2), str(g, "service"), str(g, "symptom"),
               str(g, "region"), num(c, "incident_id", b3, sizeof b3),
               num(c, "per_1000_affected", b4, sizeof b4), str(c, "last"));
    }
}

static void print_route(const json_t *r)
{
    char b[32];
    printf("queue        %s\n", str(r, "queue"));
    printf("team         %s\n", str(r, "team"));
    printf("policy       %s\n", str(r, "policy"));
    printf("on call      %s\n", str(r, "oncall"));
    printf("priority     %s (rank %s)\n", str(r, "priority"), num(r, "rank", b, sizeof b));
    printf("respond in   %s min (by %s)\n", num(r, "respond_min", b, sizeof b),
           str(r, "respond_by"));
    printf("rule         %s\n", str(r, "rule"));
}

static void print_routing(const json_t *a)
{
    size_t i;
    json_t *r;
    const json_t *m = json_object_get(a, "respond_min");
    char b1[32], b2[32];
    printf("routing file %s; default queue %s\n", str(a, "file"), str(a, "default_queue"));
    printf("respond within (min): urgent %lld, high %lld, normal %lld, low %lld\n",
           (long long)json_integer_value(json_object_get(m, "urgent")),
           (long long)json_integer_value(json_object_get(m, "high")),
           (long long)json_integer_value(json_object_get(m, "normal")),
           (long long)json_integer_value(json_object_get(m, "low")));
    printf("%-5s %-40s %-20s %-16s %s\n", "LINE", "SERVICE/SEGMENT/TIER", "QUEUE", "TEAM",
           "RESPOND_MIN");
    json_array_foreach(json_object_get(a, "rules"), i, r)
    {
        char key[200];
        snprintf(key, sizeof key, "%s/%s/%s", str(r, "service"), str(r, "segment"), str(r, "tier"));
        printf("%-5s %-40s %-20s %-16s %s\n", num(r, "line", b1, sizeof b1), key, str(r, "queue"),
               str(r, "team"), num(r, "respond_min", b2, sizeof b2));
    }
}

/* A number at key of o with one decimal, "-" when null. */
static const char *dec(const json_t *o, const char *key, char *buf, size_t n)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_number(v))
        snprintf(buf, n, "%.1f", json_number_value(v));
    else
        snprintf(buf, n, "-");
    return buf;
}

static void print_trends(const json_t *a)
{
    size_t i, k;
    json_t *g, *p;
    char b[6][32];
    printf("feedback by %s per %s, %s to %s\n", str(a, "by"), str(a, "bucket"), str(a, "from"),
           str(a, "to"));
    printf("%-24s %-20s %6s %7s %6s %7s %8s\n", "GROUP", "AT", "NPS_N", "NPS", "CSAT_N", "CSAT%",
           "UNHAPPY");
    json_array_foreach(json_object_get(a, "groups"), i, g)
    {
        json_array_foreach(json_object_get(g, "points"), k, p)
        {
            printf("%-24.24s %-20s %6s %7s %6s %7s %8s\n", str(g, "key"), str(p, "at"),
                   num(p, "nps_responses", b[0], sizeof b[0]), dec(p, "nps", b[1], sizeof b[1]),
                   num(p, "csat_responses", b[2], sizeof b[2]),
                   dec(p, "csat_pct", b[3], sizeof b[3]), num(p, "unhappy", b[4], sizeof b[4]));
        }
        const json_t *t = json_object_get(g, "total");
        printf("%-24.24s %-20s %6s %7s %6s %7s %8s\n", str(g, "key"), "(all)",
               num(t, "nps_responses", b[0], sizeof b[0]), dec(t, "nps", b[1], sizeof b[1]),
               num(t, "csat_responses", b[2], sizeof b[2]), dec(t, "csat_pct", b[3], sizeof b[3]),
               num(t, "unhappy", b[4], sizeof b[4]));
    }
}

static void print_priorities(const json_t *a)
{
    size_t i;
    json_t *r;
    char b[6][32];
    printf("feedback priorities, %s to %s (recent half from %s)\n\nINCIDENTS\n", str(a, "from"),
           str(a, "to"), str(a, "recent_from"));
    printf("%-4s %8s %7s %7s %7s  %s\n", "RANK", "INCIDENT", "SCORE", "UNHAPPY", "NPS",
           "OPEN FOLLOW-UPS");
    json_array_foreach(json_object_get(a, "incidents"), i, r)
    {
        size_t k;
        json_t *fu;
        printf("%-4s %8s %7s %7s %7s  ", num(r, "rank", b[0], sizeof b[0]),
               num(r, "incident_id", b[1], sizeof b[1]), dec(r, "score", b[2], sizeof b[2]),
               num(r, "unhappy", b[3], sizeof b[3]), dec(r, "nps", b[4], sizeof b[4]));
        json_array_foreach(json_object_get(r, "open_followups"), k, fu)
            printf("%s%s", k ? "; " : "", str(fu, "title"));
        printf("\n");
    }
    printf("\nSERVICES\n%-4s %-24s %7s %7s %7s %7s\n", "RANK", "SERVICE", "SCORE", "UNHAPPY", "NPS",
           "CHANGE");
    json_array_foreach(json_object_get(a, "services"), i, r)
    {
        printf("%-4s %-24.24s %7s %7s %7s %7s\n", num(r, "rank", b[0], sizeof b[0]),
               str(r, "service"), dec(r, "score", b[1], sizeof b[1]),
               num(r, "unhappy", b[2], sizeof b[2]), dec(r, "nps", b[3], sizeof b[3]),
               dec(r, "nps_change", b[4], sizeof b[4]));
    }
}

/* `report NAME`: the CSV (or with --json the JSON) the server answers, printed as sent. */
static int report(const struct opts *o)
{
    static const char *const names[] = {"mttr", "sla", "incidents", "churn", NULL};
    int ok = 0, rc = 1;
    for (int i = 0; names[i]; i++)
        ok |= strcmp(o->args[1], names[i]) == 0;
    if (!ok) {
        char hint[160];
        fprintf(stderr,
                "oncue tickets report: unknown report '%s'%s (mttr, sla, incidents or churn)\n",
                o->args[1], OC_SUGGEST_TABLE(o->args[1], names, hint));
        return 2;
    }
    struct oc_buf path, b;
    oc_buf_init(&path, PATH_MAX_);
    oc_buf_init(&b, RESP_MAX);
    oc_buf_printf(&path, "/v1/tickets/reports/%s", o->args[1]);
    param(&path, "from", o->from);
    param(&path, "to", o->to);
    param(&path, "format", o->json ? "json" : "csv");
    if (get(o, path.data, &b) == 0) {
        fwrite(b.data ? b.data : "", 1, b.len, stdout);
        if (o->json)
            printf("\n");
        rc = 0;
    }
    oc_buf_free(&path);
    oc_buf_free(&b);
    return rc;
}

/* `oncue tickets seal`: the first line of stdin sealed with o's data directory's key. */
static int seal(const struct opts *o)
{
    char line[4096], err[512];
    struct store *s = NULL;
    int rc = 1;
    if (!fgets(line, sizeof line, stdin))
        line[0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0]) {
        fprintf(stderr, "oncue tickets seal: nothing on stdin to seal\n");
        return 2;
    }
    if (store_open(o->data ? o->data : "./oncue-data", STORE_SYNC_FULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "oncue tickets seal: %s\n", err);
        goto out;
    }
    char *sealed = store_seal(s, line);
    if (sealed) {
        printf("%s\n", sealed);
        rc = 0;
    }
    free(sealed);
out:
    sodium_memzero(line, sizeof line);
    store_close(s);
    return rc;
}

int tickets_cli_main(int argc, char **argv)
{
    struct opts o;
    struct http_client env;
    int nargs = 0, rc = 1;
    memset(&o, 0, sizeof o);
    http_client_from_env(&env);
    o.server = env.server;
    o.token = env.token;
    int p = oc_cli_parse(tickets_cli, argc - 1, argv + 1, &o, o.args, &nargs);
    if (p)
        return p > 0 ? 0 : 2;
    const char *cmd = nargs ? o.args[0] : NULL;
    static const char *const cmds[] = {"list",   "show",     "clusters", "route", "routing",
                                       "report", "feedback", "seal",     NULL};
    int k = -1;
    for (int i = 0; cmd && cmds[i]; i++)
        if (strcmp(cmd, cmds[i]) == 0)
            k = i;
    int takes = k == 1 || k == 5 || k == 6; /* one word after the command */
    if (k < 0 || takes != (nargs == 2)) {
        char hint[160];
        if (cmd && k < 0)
            fprintf(stderr, "oncue tickets: unknown command '%s'%s", cmd,
                    OC_SUGGEST_TABLE(cmd, cmds, hint));
        else if (k >= 0 && !takes)
            fprintf(stderr, "oncue tickets %s: unexpected argument '%s'", cmd, o.args[1]);
        else
            fprintf(stderr, "oncue tickets%s%s: %s", cmd ? " " : "", cmd ? cmd : "",
                    k < 0 ? "name a command: list, show ID, clusters, route, routing, report NAME, "
                            "feedback trends|priorities or seal"
                    : k == 1 ? "needs a ticket's id"
                    : k == 5 ? "needs a report's name: mttr, sla, incidents or churn"
                             : "needs trends or priorities");
        fprintf(stderr, " (see oncue tickets --help)\n");
        return 2;
    }
    if (k == 5)
        return report(&o);
    if (k == 7)
        return seal(&o);
    if (k == 6 && strcmp(o.args[1], "trends") != 0 && strcmp(o.args[1], "priorities") != 0) {
        static const char *const views[] = {"trends", "priorities", NULL};
        char hint[160];
        fprintf(stderr, "oncue tickets feedback: unknown view '%s'%s (trends or priorities)\n",
                o.args[1], OC_SUGGEST_TABLE(o.args[1], views, hint));
        return 2;
    }
    struct oc_buf path;
    oc_buf_init(&path, PATH_MAX_);
    void (*print)(const json_t *) = NULL;
    switch (k) {
    case 0:
        oc_buf_puts(&path, "/v1/tickets");
        param(&path, "queue", o.queue);
        param(&path, "order", o.order);
        param_long(&path, "incident", o.incident);
        param_long(&path, "cluster", o.cluster);
        param(&path, "service", o.service);
        param(&path, "symptom", o.symptom);
        param(&path, "source", o.source);
        param_long(&path, "limit", o.limit);
        print = print_list;
        break;
    case 1:
        if (strspn(o.args[1], "0123456789") != strlen(o.args[1]) || !o.args[1][0]) {
            fprintf(stderr, "oncue tickets show: %s: a ticket's id (a number)\n", o.args[1]);
            oc_buf_free(&path);
            return 2;
        }
        oc_buf_printf(&path, "/v1/tickets/%s", o.args[1]);
        print = print_one;
        break;
    case 2:
        oc_buf_puts(&path, "/v1/tickets/clusters");
        param_long(&path, "incident", o.incident);
        param_long(&path, "min", o.min);
        print = print_clusters;
        break;
    case 3:
        oc_buf_puts(&path, "/v1/tickets/route");
        param(&path, "service", o.service);
        param(&path, "segment", o.segment);
        param(&path, "tier", o.tier);
        param(&path, "vip", o.vip ? "1" : NULL);
        print = print_route;
        break;
    case 4:
        oc_buf_puts(&path, "/v1/tickets/routing");
        print = print_routing;
        break;
    default:
        oc_buf_printf(&path, "/v1/feedback/%s", o.args[1]);
        param(&path, "from", o.from);
        param(&path, "to", o.to);
        if (o.args[1][0] == 't') {
            param(&path, "by", o.by);
            param(&path, "bucket", o.bucket);
        }
        print = o.args[1][0] == 't' ? print_trends : print_priorities;
        break;
    }
    json_t *a = fetch(&o, path.data);
    if (a) {
        if (o.json) {
            char *s = json_dumps(a, JSON_INDENT(2) | JSON_SORT_KEYS);
            printf("%s\n", s ? s : "null");
            free(s);
        } else {
            print(a);
        }
        json_decref(a);
        rc = 0;
    }
    oc_buf_free(&path);
    return rc;
}
