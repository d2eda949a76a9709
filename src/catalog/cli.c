/*
 * cli.c - `oncue catalog`: check (the ownership lint, for a team's own CI), show, upstream,
 * downstream, blast-radius, route and oncall, over a catalog file or the embedded example.
 * Exit status: 0 fine, 1 problems found or nothing found, 2 usage or unreadable file.
 */
#include "catalog/catalog.h"
#include "alert/alert.h"
#include "core/buf.h"
#include "core/suggest.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/opt.h"
#include "core/json.h"
#include "core/yamlj.h"
#include "http/client.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_OUT_MAX (16u << 20)

struct cli {
    const char *file;     /* --file, or NULL for the embedded example */
    const char *arg;      /* the positional argument, or NULL */
    const char *slice;    /* --slice */
    const char *service;  /* --service */
    int64_t at_ms;        /* --at, default now */
    int json;             /* --json */
    int signals;          /* --signals: check: services with no signal */
    const char *probes;   /* --probes FILE: probe.file's streams */
    const char *scrape;   /* --scrape FILE: scrape.file's targets */
    const char *rules;    /* --rules FILE: the alert rules (default: the shipped ones) */
    const char *slos;     /* --slos FILE: the SLOs burn-rate rules name (default: shipped) */
    const char *server;   /* --server URL: the probed streams of a running server */
    const char *token;    /* --token T (default $ONCUE_TOKEN) */
    const char *runbooks; /* --runbooks DIR: runbooks reviewed in the last six months */
    const char *drills;   /* --drills DIR: services drilled in the last quarter */
    struct catalog *cat;
};

typedef int cli_fn(struct cli *cl);

static int print_json(json_t *v)
{
    struct oc_buf b;
    oc_buf_init(&b, CLI_OUT_MAX);
    int rc = oc_json_dump(v, &b);
    if (rc == 0)
        printf("%s\n", b.data);
    oc_buf_free(&b);
    json_decref(v);
    return rc ? 1 : 0;
}

static json_t *names_json(const struct catalog_names *n)
{
    json_t *a = json_array();
    for (int i = 0; i < n->n; i++)
        json_array_append_new(a, json_string(n->v[i]));
    return a;
}

static void print_names(const char *label, const struct catalog_names *n)
{
    printf("%s:", label);
    for (int i = 0; i < n->n; i++)
        printf(" %s", n->v[i]);
    printf("\n");
}

/* Each item of a list of probed streams or scraped targets (what names the item in messages is
 * its "name", FROM the file or server it came from) naming a service the catalog does not have
 * is a problem. The problems written. */
static int unknown_services(struct cli *cl, const json_t *list, const char *from, const char *what,
                            struct oc_buf *b)
{
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(list, i, v)
    {
        const char *svc = json_string_value(json_object_get(v, "service"));
        const char *name = json_string_value(json_object_get(v, "name"));
        if (svc && svc[0] && !catalog_service_find(cl->cat, svc)) {
            oc_buf_printf(b, "%s: %s %s names service %s, which is not in the catalog\n", from,
                          what, name ? name : "?", svc);
            n++;
        }
    }
    return n;
}

/* The items of a probe.file or scrape.file list, appended to *list. 0, or -1 when the file
 * does not read (a problem line too). */
static int signal_file(struct cli *cl, const char *path, const char *what, json_t *list,
                       struct oc_buf *b, int *problems)
{
    char err[512];
    json_t *items = NULL;
    if (!path)
        return 0;
    if (oc_yaml_list_load(path, 1u << 20, what, &items, err, sizeof err) != 0) {
        oc_buf_printf(b, "%s\n", err);
        ++*problems;
        return -1;
    }
    *problems += unknown_services(cl, items, path, what, b);
    json_array_extend(list, items);
    json_decref(items);
    return 0;
}

/* --server: the streams the running server probes (GET /v1/probes: those of its probe.file
 * and those added with POST /v1/probes), appended to *list. 0, or -1 when the server does not
 * answer them (a problem line too). */
static int signal_server(struct cli *cl, json_t *list, struct oc_buf *b, int *problems)
{
    struct http_client hc = {cl->server, cl->token && cl->token[0] ? cl->token : NULL, 30};
    struct oc_buf resp;
    long status = 0;
    char err[512];
    json_t *doc = NULL, *probes;
    int rc = -1;
    oc_buf_init(&resp, CLI_OUT_MAX);
    if (http_client_call(&hc, "GET", "/v1/probes", NULL, &status, &resp, err, sizeof err) != 0)
        oc_buf_printf(b, "%s/v1/probes: cannot read the probed streams: %s\n", cl->server, err);
    else if (status != 200)
        oc_buf_printf(b, "%s/v1/probes: cannot read the probed streams: HTTP %ld\n", cl->server,
                      status);
    else if (!(doc = json_loads(resp.data ? resp.data : "", 0, NULL)) ||
             !json_is_array(probes = json_object_get(doc, "probes")))
        oc_buf_printf(b, "%s/v1/probes: cannot read the probed streams: not a probe list\n",
                      cl->server);
    else {
        char from[600];
        snprintf(from, sizeof from, "%s/v1/probes", cl->server);
        *problems += unknown_services(cl, probes, from, "stream", b);
        json_array_extend(list, probes);
        rc = 0;
    }
    *problems += rc != 0;
    json_decref(doc);
    oc_buf_free(&resp);
    return rc;
}

static int names_service(const json_t *list, const char *svc)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "service"));
        if (s && !strcmp(s, svc))
            return 1;
    }
    return 0;
}

/* Whether alerts of rule r can carry served slice s, so that routing can page its service:
 * every dimension s names is one r groups by, or one r's filter (an SLO's for a burn-rate
 * rule) pins to the same value (any value for a served "*"). */
static int rule_watches(const struct alert_rule *r, const struct catalog_slice *s)
{
    for (int d = 0; d < BEACON_NDIMS; d++) {
        int ok = !s->v[d];
        for (int g = 0; !ok && g < r->ngroup; g++)
            ok = r->group_by[g] == d;
        for (int f = 0; !ok && f < r->nfilters; f++)
            ok = r->filters[f].dim == d &&
                 (!strcmp(s->v[d], "*") || !strcmp(r->filters[f].value, s->v[d]));
        if (!ok)
            return 0;
    }
    return 1;
}

/* Whether a rule of rules watches a slice service s serves. */
static int service_watched(const struct alert_rules *rules, const struct catalog_service *s)
{
    for (int i = 0; rules && i < rules->n; i++)
        for (int k = 0; k < s->nserves; k++)
            if (rule_watches(&rules->rules[i], &s->serves[k]))
                return 1;
    return 0;
}

/* The alert rules in force: --rules FILE (burn-rate rules naming SLOs of --slos FILE), else
 * the shipped ones (what `oncue serve` runs without alert.rules_file). NULL when they do not
 * load (a problem line too). */
static struct alert_rules *signal_rules(struct cli *cl, struct oc_buf *b, int *problems)
{
    struct slo_set *slos = NULL;
    struct alert_rules *rules = NULL;
    char err[512];
    int rc = slo_set_load(cl->slos, &slos, err, sizeof err);
    if (rc == 0)
        rc = alert_rules_load(cl->rules, slos, &rules, err, sizeof err);
    if (rc != 0) {
        oc_buf_printf(b, "%s\n", err);
        ++*problems;
    }
    slo_set_destroy(slos);
    return rules;
}

/* The signals check ("No silent failures"): every service needs an alert rule watching a
 * slice it serves, a probed stream (of --probes or the --server) or a scraped or pushed
 * target (of --scrape) naming it. The problems written. */
static int check_signals(struct cli *cl, struct oc_buf *b)
{
    json_t *probes = json_array(), *targets = json_array();
    int n = 0;
    struct alert_rules *rules = signal_rules(cl, b, &n);
    signal_file(cl, cl->probes, "stream", probes, b, &n);
    if (cl->server)
        signal_server(cl, probes, b, &n);
    signal_file(cl, cl->scrape, "target", targets, b, &n);
    int have_probes = cl->probes || cl->server;
    const char *missing = have_probes && cl->scrape ? ""
                          : have_probes             ? " (no --scrape given)"
                          : cl->scrape              ? " (no --probes nor --server given)"
                                                    : " (no --probes, --server nor --scrape given)";
    for (int i = 0; rules && i < cl->cat->nservices; i++) {
        const struct catalog_service *s = cl->cat->services[i];
        if (service_watched(rules, s) || names_service(probes, s->name) ||
            names_service(targets, s->name))
            continue;
        oc_buf_printf(b,
                      "%s:%d: service %s: no signal: %s, and no probed stream or scraped "
                      "target names it%s\n",
                      cl->cat->source, s->line, s->name,
                      s->nserves ? "no alert rule watches a slice it serves"
                                 : "it serves no beacon slice",
                      missing);
        n++;
    }
    alert_rules_destroy(rules);
    json_decref(probes);
    json_decref(targets);
    return n;
}

/* The cadence the incident practice asks for: runbooks peer-reviewed every six months,
 * every service drilled every quarter. */
#define REVIEW_EVERY_S (183 * 86400LL)
#define DRILL_EVERY_S  (92 * 86400LL)

/* "2026-06-01" of unix seconds t. */
static void day_of(int64_t t, char *out, size_t n)
{
    char full[OC_TIME_LEN];
    oc_time_format(t * 1000, full, sizeof full);
    snprintf(out, n, "%.10s", full);
}

/* --runbooks DIR: each runbook (*.yaml, *.yml) whose `reviewed:` date is missing or more
 * than six months before --at. The problems written. */
static int check_runbooks(struct cli *cl, struct oc_buf *b, int *nread)
{
    DIR *dp = opendir(cl->runbooks);
    struct dirent *e;
    int n = 0;
    int64_t now_s = cl->at_ms / 1000;
    if (!dp) {
        oc_buf_printf(b, "%s: cannot read the runbooks: %s\n", cl->runbooks, strerror(errno));
        return 1;
    }
    while ((e = readdir(dp)) != NULL) {
        size_t len = strlen(e->d_name);
        char path[4096], err[512], due[16];
        json_t *doc = NULL, *lines = NULL;
        int64_t ms;
        if (e->d_name[0] == '.' || !((len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0) ||
                                     (len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0)))
            continue;
        snprintf(path, sizeof path, "%s/%s", cl->runbooks, e->d_name);
        ++*nread;
        if (oc_yaml_load(path, 64u << 10, &doc, &lines, err, sizeof err) != 0) {
            oc_buf_printf(b, "%s\n", err);
            n++;
            continue;
        }
        const char *kind = json_string_value(json_object_get(doc, "kind"));
        const char *rv = json_string_value(json_object_get(doc, "reviewed"));
        int line = (int)json_integer_value(json_object_get(lines, "reviewed"));
        if (!rv) {
            oc_buf_printf(b,
                          "%s:1: runbook %s: no reviewed: date (YYYY-MM-DD); runbooks are "
                          "peer-reviewed every six months\n",
                          path, kind ? kind : e->d_name);
            n++;
        } else if (strlen(rv) != 10 || oc_time_parse(rv, OC_TIME_UTC, &ms) != 0) {
            oc_buf_printf(b, "%s:%d: runbook %s: reviewed: YYYY-MM-DD, got '%s'\n", path, line,
                          kind ? kind : e->d_name, rv);
            n++;
        } else if (ms / 1000 + REVIEW_EVERY_S < now_s) {
            day_of(ms / 1000 + REVIEW_EVERY_S, due, sizeof due);
            oc_buf_printf(b,
                          "%s:%d: runbook %s: last reviewed %s, %lld days ago (due every six "
                          "months, by %s)\n",
                          path, line, kind ? kind : e->d_name, rv,
                          (long long)((now_s - ms / 1000) / 86400), due);
            n++;
        }
        json_decref(doc);
        json_decref(lines);
    }
    closedir(dp);
    return n;
}

/* The catalog index of scorecard c's service, or of its i-th `services` name (i >= 0),
 * or -1 when it names none (or no service of the catalog). */
static int card_service(const struct catalog *cat, const json_t *c, int i)
{
    const char *s = json_string_value(i < 0 ? json_object_get(c, "service")
                                            : json_array_get(json_object_get(c, "services"), i));
    for (int k = 0; s && k < cat->nservices; k++)
        if (strcmp(cat->services[k]->name, s) == 0)
            return k;
    return -1;
}

/* --drills DIR: each service that no drill scorecard in DIR/scorecards (where `oncue drill`
 * keeps them, src/drill/history.c) names (its incident's service, or its schedule's list)
 * within the quarter before --at. Each scorecard is read once. The problems written. */
static int check_drills(struct cli *cl, struct oc_buf *b, int *nread)
{
    char dir[4096], err[512];
    json_t *cards = NULL, *c;
    int skipped = 0, n = 0, ns = cl->cat->nservices;
    int64_t now_s = cl->at_ms / 1000, *last = calloc((size_t)ns + 1, sizeof(*last));
    int *pass = calloc((size_t)ns + 1, sizeof(*pass));
    size_t k;
    snprintf(dir, sizeof dir, "%s/scorecards", cl->drills);
    int rc = oc_json_dir_load(dir, 10000, 1u << 20, &cards, &skipped, err, sizeof err);
    if (!last || !pass || (rc != 0 && rc != OC_ENOTFOUND)) {
        oc_buf_printf(b, "%s\n", last && pass ? err : "oncue catalog check: out of memory");
        n = 1;
        goto out;
    }
    *nread = (int)json_array_size(cards);
    json_array_foreach(cards, k, c)
    {
        const char *ran = json_string_value(json_object_get(c, "ran_at"));
        int64_t ms;
        if (!ran || oc_time_parse(ran, 0, &ms) != 0 || ms / 1000 > now_s)
            continue;
        int nsvcs = (int)json_array_size(json_object_get(c, "services"));
        for (int i = -1; i < nsvcs; i++) {
            int s = card_service(cl->cat, c, i);
            if (s >= 0 && ms / 1000 >= last[s]) {
                last[s] = ms / 1000;
                pass[s] = json_is_true(json_object_get(c, "pass"));
            }
        }
    }
    for (int i = 0; i < ns; i++) {
        const struct catalog_service *s = cl->cat->services[i];
        if (last[i] && last[i] + DRILL_EVERY_S >= now_s)
            continue;
        char day[16];
        day_of(last[i], day, sizeof day);
        oc_buf_printf(b, "%s:%d: service %s: no drill in the last quarter (%s%s%s)\n",
                      cl->cat->source, s->line, s->name, last[i] ? "last " : "never drilled",
                      last[i] ? day : "",
                      !last[i]  ? ""
                      : pass[i] ? ", passed"
                                : ", failed");
        n++;
    }
    if (skipped)
        fprintf(stderr, "oncue catalog check: %d scorecard files in %s did not read as JSON\n",
                skipped, dir);
out:
    free(last);
    free(pass);
    json_decref(cards);
    return n;
}

static int cmd_check(struct cli *cl)
{
    struct oc_buf b;
    oc_buf_init(&b, CLI_OUT_MAX);
    int n = catalog_lint(cl->cat, &b);
    if (cl->signals || cl->probes || cl->scrape || cl->rules || cl->slos || cl->server)
        n += check_signals(cl, &b);
    int nrunbooks = 0, ncards = 0;
    if (cl->runbooks)
        n += check_runbooks(cl, &b, &nrunbooks);
    if (cl->drills)
        n += check_drills(cl, &b, &ncards);
    if (n > 0)
        fputs(b.data, stdout);
    else {
        fprintf(stderr, "%s: %d services, no problems", cl->cat->source, cl->cat->nservices);
        if (cl->runbooks)
            fprintf(stderr, "; %d runbooks in %s, each reviewed in the last six months", nrunbooks,
                    cl->runbooks);
        if (cl->drills)
            fprintf(stderr, "; every service drilled in the last quarter (%d scorecards)", ncards);
        fprintf(stderr, "\n");
    }
    oc_buf_free(&b);
    return n > 0 ? 1 : 0;
}

static int cmd_show(struct cli *cl)
{
    const struct catalog_service *s = catalog_service_find(cl->cat, cl->arg);
    if (!s) {
        fprintf(stderr, "oncue catalog: no service named %s\n", cl->arg);
        return 1;
    }
    return print_json(catalog_service_to_json(s));
}

static int walk(struct cli *cl, int down)
{
    struct catalog_names n;
    int rc =
        down ? catalog_downstream(cl->cat, cl->arg, &n) : catalog_upstream(cl->cat, cl->arg, &n);
    if (rc) {
        fprintf(stderr, "oncue catalog: no service named %s\n", cl->arg);
        return 1;
    }
    if (cl->json)
        rc = print_json(names_json(&n));
    else
        print_names(down ? "downstream" : "upstream", &n);
    catalog_names_free(&n);
    return rc;
}

static int cmd_upstream(struct cli *cl)
{
    return walk(cl, 0);
}

static int cmd_downstream(struct cli *cl)
{
    return walk(cl, 1);
}

static int cmd_blast(struct cli *cl)
{
    struct catalog_blast b;
    int rc = 0;
    if (catalog_blast_radius(cl->cat, cl->arg, &b) != 0) {
        fprintf(stderr, "oncue catalog: no service named %s\n", cl->arg);
        return 1;
    }
    if (cl->json) {
        rc = print_json(json_pack("{s:s, s:o, s:o}", "service", cl->arg, "affected_services",
                                  names_json(&b.services), "slices", names_json(&b.slices)));
    } else {
        print_names("affected services", &b.services);
        print_names("affected slices", &b.slices);
    }
    catalog_blast_free(&b);
    return rc;
}

static int cmd_route(struct cli *cl)
{
    struct catalog_route r;
    struct catalog_slice s;
    char err[CATALOG_ERR_MAX];
    int rc;
    if (cl->service) {
        rc = catalog_route_service(cl->cat, cl->service, cl->at_ms, &r);
    } else if (cl->slice) {
        if (catalog_slice_parse(cl->slice, &s, err, sizeof(err)) != 0) {
            fprintf(stderr, "oncue catalog route: --slice: %s\n", err);
            return 2;
        }
        rc = catalog_route(cl->cat, &s, cl->at_ms, &r);
        catalog_slice_free(&s);
    } else {
        fprintf(stderr, "oncue catalog route: give --slice dim=value,... or --service NAME\n");
        return 2;
    }
    if (cl->json && rc == 0)
        return print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "service",
                                    r.service, "team", r.team, "escalation_lead", r.lead, "oncall",
                                    r.oncall, "escalation_policy", r.policy, "matched", r.matched,
                                    "score", r.score, "reason", r.reason));
    printf("%s\n", r.reason);
    return rc ? 1 : 0;
}

static int cmd_oncall(struct cli *cl)
{
    struct catalog_shift sh;
    char from[32], to[32];
    int rc = catalog_oncall(cl->cat, cl->arg, cl->at_ms, &sh);
    if (rc) {
        fprintf(stderr, "oncue catalog oncall: %s\n",
                rc == OC_ENOTFOUND ? "no such team" : "the team has no rotation");
        return 1;
    }
    oc_time_format(sh.from_ms, from, sizeof(from));
    oc_time_format(sh.to_ms, to, sizeof(to));
    if (cl->json)
        return print_json(json_pack("{s:s, s:s, s:s, s:s, s:b}", "team", cl->arg, "person",
                                    sh.person, "from", from, "to", to, "override", sh.is_override));
    printf("%s (%s from %s until %s)\n", sh.person, sh.is_override ? "override" : "rotation", from,
           to);
    return 0;
}

static const struct {
    const char *name;
    cli_fn *fn;
    int needs_arg; /* takes a positional NAME */
    const char *usage;
} subs[] = {
    {"check", cmd_check, 0,
     "check [--file FILE] [--signals] [--rules FILE] [--slos FILE] [--probes FILE]\n"
     "                         [--server URL [--token T]] [--scrape FILE]\n"
     "                         [--runbooks DIR] [--drills DIR] [--at TIME]\n"
     "                         lint ownership (and, with --signals or its files, name every\n"
     "                         service with no signal; with --runbooks, runbooks not reviewed in "
     "six\n"
     "                         months; with --drills, services not drilled in a quarter);\n"
     "                         one line per problem, exit 1 if any"},
    {"show", cmd_show, 1, "show NAME              print a service as JSON"},
    {"upstream", cmd_upstream, 1, "upstream NAME          what NAME depends on, transitively"},
    {"downstream", cmd_downstream, 1, "downstream NAME        what depends on NAME, transitively"},
    {"blast-radius", cmd_blast, 1,
     "blast-radius NAME      services and QoE slices NAME takes down"},
    {"route", cmd_route, 0, "route --slice cdn=primary,region=EMEA | --service NAME [--at TIME]"},
    {"oncall", cmd_oncall, 1, "oncall TEAM [--at TIME] who is on call"},
    {NULL, NULL, 0, NULL},
};

extern const struct oc_cli catalog_cli[];

/* The commands, then the options (from the options table). */
static void usage(FILE *f)
{
    struct oc_buf b;
    fprintf(f, "usage: oncue catalog COMMAND [--file FILE] [--json]\n"
               "  the catalog is FILE, or the embedded example (examples/catalog.yaml)\n"
               "  TIME is 2026-11-25T19:43:00Z or unix seconds; default now\n");
    for (int i = 0; subs[i].name; i++)
        fprintf(f, "  oncue catalog %s\n", subs[i].usage);
    oc_buf_init(&b, 1 << 20);
    oc_cli_help(catalog_cli, &b);
    fprintf(f, "\n%s", strstr(b.data, "options:\n"));
    oc_buf_free(&b);
}

/* --at TIME: 2026-11-25T19:43:00Z or unix seconds. */
static int set_at(void *opts, const char *v, char *why, size_t n)
{
    struct cli *cl = opts;
    if (catalog_time_parse(v, &cl->at_ms) == 0)
        return 0;
    snprintf(why, n, "expected 2026-11-25T19:43:00Z or unix seconds, got \"%s\"", v);
    return -1;
}

#define F(field) offsetof(struct cli, field)

static const struct oc_opt options[] = {
    {"--file", OC_OPT_STR, F(file), "FILE",
     "the catalog YAML (default: the embedded example, examples/catalog.yaml)", 0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print JSON", 0, 0, NULL},
    {"--signals", OC_OPT_FLAG, F(signals), NULL,
     "check: also name every service with no signal: no alert rule watching a slice it serves, "
     "no probed stream, no scraped or pushed target (implied by --rules, --slos, --probes, "
     "--server and --scrape)",
     0, 0, NULL},
    {"--rules", OC_OPT_STR, F(rules), "FILE",
     "check: the alert rules in force (alert.rules_file; default: the shipped rules)", 0, 0, NULL},
    {"--slos", OC_OPT_STR, F(slos), "FILE",
     "check: the SLOs the burn-rate rules name (slo.file; default: the shipped SLOs)", 0, 0, NULL},
    {"--probes", OC_OPT_STR, F(probes), "FILE", "check: the probed streams (probe.file)", 0, 0,
     NULL},
    {"--server", OC_OPT_STR, F(server), "URL",
     "check: also the streams a running server probes (GET /v1/probes: its probe.file and "
     "those added through the API)",
     0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "T", "check --server: API token (default $ONCUE_TOKEN)", 0, 0,
     NULL},
    {"--scrape", OC_OPT_STR, F(scrape), "FILE",
     "check: the scraped and pushed targets (scrape.file)", 0, 0, NULL},
    {"--runbooks", OC_OPT_STR, F(runbooks), "DIR",
     "check: also name each runbook in DIR whose reviewed: date is missing or more than six "
     "months old",
     0, 0, NULL},
    {"--drills", OC_OPT_STR, F(drills), "DIR",
     "check: also name each service no drill scorecard in DIR/scorecards (`oncue drill --out "
     "DIR`) named in the last quarter",
     0, 0, NULL},
    {"--slice", OC_OPT_STR, F(slice), "DIM=V,...", "route: the QoE slice to route", 0, 0, NULL},
    {"--service", OC_OPT_STR, F(service), "NAME", "route: the service to route", 0, 0, NULL},
    {"--at", OC_OPT_FN, 0, "TIME",
     "route, oncall, check: at this time (2026-11-25T19:43:00Z or unix seconds; default now)", 0, 0,
     set_at},
    {0},
};

#undef F

const struct oc_cli catalog_cli[] = {
    {"catalog", "COMMAND [NAME] [--file FILE] [--json]",
     "Commands: check, show, upstream, downstream, blast-radius, route, oncall\n"
     "(`oncue catalog --help` shows what each takes).\n",
     options, 1},
    {0},
};

int catalog_cli_main(int argc, char **argv)
{
    struct cli cl = {0};
    char err[CATALOG_ERR_MAX];
    int k = 0;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            fprintf(stderr, "oncue catalog: name a command\n\n");
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    while (subs[k].name && strcmp(subs[k].name, argv[1]) != 0)
        k++;
    struct oc_clock clock;
    oc_clock_init(&clock, OC_CLOCK_REAL, 0);
    cl.at_ms = oc_clock_now_ms(&clock); /* --at overrides it */
    struct http_client env;
    http_client_from_env(&env);
    cl.token = env.token; /* --token overrides it; --server is never implied */
    int nargs = 0, prc = oc_cli_parse(catalog_cli, argc - 2, argv + 2, &cl, &cl.arg, &nargs);
    if (prc != 0)
        return prc == 1 ? 0 : 2;
    if (!subs[k].name || (subs[k].needs_arg && !cl.arg)) {
        char hint[160];
        if (!subs[k].name && argv[1][0] == '-')
            fprintf(stderr,
                    "oncue catalog: name a command before the options ('%s' came first)"
                    "\n\n",
                    argv[1]);
        else if (!subs[k].name)
            fprintf(stderr, "oncue catalog: unknown command '%s'%s\n\n", argv[1],
                    OC_SUGGEST_TABLE(argv[1], subs, hint));
        else
            fprintf(stderr, "oncue catalog %s: name a service\n\n", subs[k].name);
        usage(stderr);
        return 2;
    }
    int rc = cl.file ? catalog_load_file(cl.file, &cl.cat, err, sizeof(err))
                     : catalog_load_example(&cl.cat, err, sizeof(err));
    if (rc) {
        /* A file that does not parse (or has a cycle) is one problem line for `check`. */
        fprintf(k == 0 && rc != OC_EIO ? stdout : stderr, "%s\n", err);
        return rc == OC_EIO ? 2 : 1;
    }
    rc = subs[k].fn(&cl);
    catalog_destroy(cl.cat);
    return rc;
}
