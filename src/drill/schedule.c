/*
 * schedule.c - `oncue drill schedule FILE`: drills on a cadence. FILE is a YAML mapping with
 * a `drills:` list, each item a drill to rehearse every so often:
 *
 *   drills:
 *     - name: cdn-failover      # unique: the history's key (letters, digits, '-', '_')
 *       scenario: emea-cdn      # a shipped scenario, or healthy
 *       every: 90d              # the cadence: 1h to 400d (s, m, h, d, w)
 *       viewers: 5000           # optional (default 20000)
 *       seed: 7                 # optional (default: the run's day number, so each run
 *                               #   differs and its scorecard says which it was)
 *       services: [cdn-edge]    # optional: the services it rehearses besides the one its
 *                               #   incident names (`oncue catalog check --drills`)
 *
 * Without --run it lists each drill, its last run (from the kept scorecards, history.c) and
 * when it is next due; with --run it runs the due ones, oldest due first, and keeps each
 * scorecard with the schedule's name and services added.
 */
#include "drill/drill_int.h"

#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/opt.h"
#include "core/suggest.h"
#include "core/timefmt.h"
#include "sim/sim.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHED_MAX        64        /* drills in one file */
#define SCHED_MAX_BYTES  (1 << 20) /* bytes of the file */
#define SCHED_MIN_EVERY  3600      /* shortest cadence, seconds */
#define SCHED_MAX_EVERY  (400 * 86400LL)
#define SCHED_MAX_SVCS   16 /* services one drill names */
#define SCHED_NAME_BYTES 64

/* One scheduled drill. */
struct sched {
    char name[SCHED_NAME_BYTES];
    char scenario[SCHED_NAME_BYTES];
    int64_t every_s;
    int viewers;  /* 0: the drill's default */
    int has_seed; /* seed given */
    uint64_t seed;
    int nsvcs;
    char svcs[SCHED_MAX_SVCS][SCHED_NAME_BYTES];
    int line;
    /* from the history */
    int64_t last_s; /* last run (0: never) */
    int last_pass;
    int64_t due_s; /* when it is next due */
};

struct sargs {
    const char *out; /* --out */
    const char *at;  /* --at */
    int run;         /* --run */
    int all;         /* --all */
    int json;        /* --json */
};

#define F(field) offsetof(struct sargs, field)

const struct oc_opt drill_schedule_options[] = {
    {"--run", OC_OPT_FLAG, F(run), NULL, "run the drills that are due and keep their scorecards", 0,
     0, NULL},
    {"--all", OC_OPT_FLAG, F(all), NULL, "with --run: run every drill of FILE, due or not", 0, 0,
     NULL},
    {"--at", OC_OPT_STR, F(at), "TIME",
     "what counts as now (2026-12-06T21:00:00Z, unix seconds, now-30d; default now)", 0, 0, NULL},
    {"--out", OC_OPT_STR, F(out), "DIR",
     "the drills' output directory: reviews, and the scorecards in DIR/scorecards (default "
     "./oncue-drills)",
     0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the listing, or the scorecards run, as JSON", 0,
     0, NULL},
    {0},
};

#undef F

/* 1 when s is a shipped scenario or the healthy drill. */
static int known_scenario(const char *s)
{
    if (strcmp(s, DRILL_HEALTHY) == 0)
        return 1;
    for (const char *const *n = sim_scenario_names; *n; n++)
        if (strcmp(*n, s) == 0)
            return 1;
    return 0;
}

/* 1 when s is a name: 1 to 63 letters, digits, '-' or '_'. */
static int good_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SCHED_NAME_BYTES)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

/* Writes "FILE:LINE: drills[I]: message" into err; returns OC_EINVAL. */
static int bad(char *err, size_t errlen, const char *file, int line, int i, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int bad(char *err, size_t errlen, const char *file, int line, int i, const char *fmt, ...)
{
    va_list ap;
    int k = i >= 0 ? snprintf(err, errlen, "%s:%d: drills[%d]: ", file, line, i)
                   : snprintf(err, errlen, "%s:%d: ", file, line);
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < errlen)
        vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return OC_EINVAL;
}

/* An unsigned number from 1 to max in the scalar of n, or -1. */
static long long number(yaml_document_t *d, yaml_node_t *n, long long max)
{
    const char *v = drill_yaml_scalar(d, n);
    char *end;
    if (!v || !*v || *v == '-')
        return -1;
    unsigned long long x = strtoull(v, &end, 10);
    return *end || x < 1 || x > (unsigned long long)max ? -1 : (long long)x;
}

/* Reads the services list of item i into s. 0 or OC_EINVAL. */
static int read_services(yaml_document_t *d, yaml_node_t *n, struct sched *s, const char *file,
                         int i, char *err, size_t errlen)
{
    if (n->type == YAML_SCALAR_NODE) {
        const char *v = drill_yaml_scalar(d, n);
        if (!good_name(v))
            return bad(err, errlen, file, drill_yaml_line(n), i, "services: a service name");
        snprintf(s->svcs[s->nsvcs++], SCHED_NAME_BYTES, "%s", v);
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return bad(err, errlen, file, drill_yaml_line(n), i, "services: a list of service names");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(d, *it);
        const char *v = drill_yaml_scalar(d, e);
        if (!v || !good_name(v))
            return bad(err, errlen, file, drill_yaml_line(e), i, "services: a service name");
        if (s->nsvcs == SCHED_MAX_SVCS)
            return bad(err, errlen, file, drill_yaml_line(e), i, "services: at most %d",
                       SCHED_MAX_SVCS);
        snprintf(s->svcs[s->nsvcs++], SCHED_NAME_BYTES, "%s", v);
    }
    return 0;
}

static const char *const item_keys[] = {"name", "scenario", "every",   "viewers",
                                        "seed", "services", "comment", NULL};

/* Reads item i (mapping m) of the list into s. 0 or OC_EINVAL with err set. */
static int read_item(yaml_document_t *d, yaml_node_t *m, struct sched *s, const char *file, int i,
                     char *err, size_t errlen)
{
    char hint[160];
    int line = drill_yaml_line(m);
    memset(s, 0, sizeof(*s));
    s->line = line;
    if (m->type != YAML_MAPPING_NODE)
        return bad(err, errlen, file, line, i, "a mapping (name, scenario, every, ...)");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(d, p->key);
        const char *k = drill_yaml_scalar(d, kn);
        int j = 0;
        while (k && item_keys[j] && strcmp(item_keys[j], k) != 0)
            j++;
        if (!k || !item_keys[j])
            return bad(err, errlen, file, drill_yaml_line(kn), i,
                       "unknown key '%s' (name, scenario, every, viewers, seed, services)",
                       k ? k : "?");
    }
    yaml_node_t *n = drill_yaml_get(d, m, "name");
    const char *v = drill_yaml_scalar(d, n);
    if (!v || !good_name(v))
        return bad(err, errlen, file, n ? drill_yaml_line(n) : line, i,
                   "name: required, 1 to 63 letters, digits, '-' or '_'");
    snprintf(s->name, sizeof s->name, "%s", v);
    n = drill_yaml_get(d, m, "scenario");
    v = drill_yaml_scalar(d, n);
    if (!v)
        return bad(err, errlen, file, line, i, "scenario: required");
    if (!known_scenario(v))
        return bad(err, errlen, file, drill_yaml_line(n), i, "scenario: unknown scenario %s%s", v,
                   oc_suggest_names(v, sim_scenario_names, sizeof sim_scenario_names[0], hint,
                                    sizeof hint));
    snprintf(s->scenario, sizeof s->scenario, "%s", v);
    n = drill_yaml_get(d, m, "every");
    v = drill_yaml_scalar(d, n);
    if (!v || oc_duration_parse(v, &s->every_s) != 0 || s->every_s < SCHED_MIN_EVERY ||
        s->every_s > SCHED_MAX_EVERY)
        return bad(err, errlen, file, n ? drill_yaml_line(n) : line, i,
                   "every: required, a duration from 1h to 400d (90d, 4w, 12h)");
    if ((n = drill_yaml_get(d, m, "viewers")) != NULL) {
        long long x = number(d, n, 4000000);
        if (x < 0)
            return bad(err, errlen, file, drill_yaml_line(n), i,
                       "viewers: a number from 1 to 4000000");
        s->viewers = (int)x;
    }
    if ((n = drill_yaml_get(d, m, "seed")) != NULL) {
        long long x = number(d, n, INT64_MAX);
        if (x < 0)
            return bad(err, errlen, file, drill_yaml_line(n), i, "seed: a positive number");
        s->seed = (uint64_t)x;
        s->has_seed = 1;
    }
    if ((n = drill_yaml_get(d, m, "services")) != NULL)
        return read_services(d, n, s, file, i, err, errlen);
    return 0;
}

/* Parses len bytes of a schedule (named file in messages) into s (room for SCHED_MAX): the
 * count, or -1 with "FILE:LINE: message" (or "FILE: larger than ...") in err. */
static int parse_schedule(const char *file, const char *text, size_t len, struct sched *s,
                          char *err, size_t errlen)
{
    yaml_parser_t p;
    yaml_document_t d;
    int n = -1;
    if (len > SCHED_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes", file, SCHED_MAX_BYTES);
        return -1;
    }
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &d)) {
        snprintf(err, errlen, "%s:%zu: %s", file, p.problem_mark.line + 1,
                 p.problem ? p.problem : "malformed YAML");
        yaml_parser_delete(&p);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d);
    yaml_node_t *list = drill_yaml_get(&d, root, "drills");
    if (!list || list->type != YAML_SEQUENCE_NODE) {
        bad(err, errlen, file, list ? drill_yaml_line(list) : 1, -1,
            "drills: a list of drills (name, scenario, every) is required");
        goto out;
    }
    int k = 0;
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++, k++) {
        yaml_node_t *m = yaml_document_get_node(&d, *it);
        if (!m) {
            bad(err, errlen, file, drill_yaml_line(list), k, "not a drill");
            goto out;
        }
        if (k == SCHED_MAX) {
            bad(err, errlen, file, drill_yaml_line(m), k, "at most %d drills", SCHED_MAX);
            goto out;
        }
        if (read_item(&d, m, &s[k], file, k, err, errlen) != 0)
            goto out;
        for (int j = 0; j < k; j++)
            if (strcmp(s[j].name, s[k].name) == 0) {
                bad(err, errlen, file, s[k].line, k, "name: %s is also drills[%d]'s", s[k].name, j);
                goto out;
            }
    }
    n = k;
out:
    yaml_document_delete(&d);
    yaml_parser_delete(&p);
    return n;
}

/* Reads the schedule file into s (room for SCHED_MAX). The count, or -1 with
 * "FILE:LINE: message" in err. */
static int read_schedule(const char *file, struct sched *s, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    if (oc_read_file(file, SCHED_MAX_BYTES, &text, &len, err, errlen) != 0)
        return -1;
    int n = parse_schedule(file, text, len, s, err, errlen);
    free(text);
    return n;
}

int drill_schedule_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct sched *s = calloc(SCHED_MAX, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int n = parse_schedule("schedule", text, len, s, err, errlen);
    free(s);
    return n;
}

/* Fills each drill's last run and next due time from the kept scorecards. */
static void read_last(struct sched *s, int n, const json_t *cards, int64_t now_s)
{
    for (int i = 0; i < n; i++) {
        const json_t *c = drill_history_last(cards, "schedule", s[i].name);
        int64_t ms = 0;
        const char *ran = json_string_value(json_object_get(c, "ran_at"));
        s[i].last_s = ran && oc_time_parse(ran, 0, &ms) == 0 ? ms / 1000 : 0;
        s[i].last_pass = json_is_true(json_object_get(c, "pass"));
        s[i].due_s = s[i].last_s ? s[i].last_s + s[i].every_s : now_s;
    }
}

/* "2026-12-06T21:40:00Z", or dflt when t is 0. */
static const char *when(int64_t t, char *buf, size_t n, const char *dflt)
{
    if (!t)
        return dflt;
    oc_time_format(t * 1000, buf, n);
    return buf;
}

static void print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(o);
}

/* The listing: each drill, its last run and next due time. */
static void list(const struct sched *s, int n, int64_t now_s, int json)
{
    char a[OC_TIME_LEN], b[OC_TIME_LEN];
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) {
            json_t *o = json_pack(
                "{s:s, s:s, s:I, s:o, s:o, s:s, s:b}", "name", s[i].name, "scenario", s[i].scenario,
                "every_s", (json_int_t)s[i].every_s, "last_run",
                s[i].last_s ? json_string(when(s[i].last_s, a, sizeof a, "")) : json_null(),
                "last_pass", s[i].last_s ? json_boolean(s[i].last_pass) : json_null(), "next_due",
                when(s[i].due_s, b, sizeof b, ""), "due", s[i].due_s <= now_s);
            json_array_append_new(arr, o);
        }
        print_json(json_pack("{s:o}", "drills", arr));
        return;
    }
    printf("%-20s %-18s %-9s %-21s %-6s %s\n", "NAME", "SCENARIO", "EVERY", "LAST RUN", "RESULT",
           "NEXT DUE");
    for (int i = 0; i < n; i++) {
        char every[24];
        if (s[i].every_s % 86400 == 0)
            snprintf(every, sizeof every, "%lldd", (long long)(s[i].every_s / 86400));
        else
            snprintf(every, sizeof every, "%lldh", (long long)(s[i].every_s / 3600));
        printf("%-20s %-18s %-9s %-21s %-6s %s%s\n", s[i].name, s[i].scenario, every,
               when(s[i].last_s, a, sizeof a, "never"),
               !s[i].last_s     ? "-"
               : s[i].last_pass ? "PASS"
                                : "FAIL",
               when(s[i].due_s, b, sizeof b, "-"), s[i].due_s <= now_s ? " (due)" : "");
    }
}

/* Runs one scheduled drill and keeps its scorecard; its card (new reference) in *card.
 * 0, or an error with err set. */
static int run_one(const struct sched *s, const struct sargs *a, const struct drill_host *host,
                   int64_t now_s, json_t **card, char *path, size_t pathlen, char *err,
                   size_t errlen)
{
    struct drill_opts o = {
        .host = host, .scenario = s->scenario, .viewers = s->viewers, .out_dir = a->out};
    struct drill_score sc;
    o.seed = s->has_seed ? s->seed : (uint64_t)(now_s / 86400);
    int rc = drill_run(&o, &sc, err, errlen);
    if (rc != 0)
        return rc;
    *card = drill_score_json(&sc);
    json_t *svcs = json_array();
    for (int i = 0; i < s->nsvcs; i++)
        json_array_append_new(svcs, json_string(s->svcs[i]));
    json_object_set_new(*card, "schedule", json_string(s->name));
    json_object_set_new(*card, "services", svcs);
    drill_score_free(&sc);
    return drill_history_save(a->out, *card, path, pathlen, err, errlen);
}

/* Order of the drills to run: the longest overdue first. */
static int by_due(const void *x, const void *y)
{
    const struct sched *a = *(const struct sched *const *)x, *b = *(const struct sched *const *)y;
    return a->due_s < b->due_s ? -1 : a->due_s > b->due_s;
}

/* --run: the due drills (all with --all). Exit status. */
static int run_due(struct sched *s, int n, const struct sargs *a, const struct drill_host *host,
                   int64_t now_s)
{
    struct sched *order[SCHED_MAX];
    json_t *ran = json_array();
    int k = 0, failed = 0, errors = 0;
    char err[512], path[PATH_MAX_DRILL + 160];
    for (int i = 0; i < n; i++)
        if (a->all || s[i].due_s <= now_s)
            order[k++] = &s[i];
    qsort(order, (size_t)k, sizeof(order[0]), by_due);
    oc_log_set_level(OC_LOG_ERROR);
    for (int i = 0; i < k; i++) {
        json_t *card = NULL;
        path[0] = '\0';
        int rc = run_one(order[i], a, host, now_s, &card, path, sizeof path, err, sizeof err);
        if (rc != 0 && !card) {
            fprintf(stderr, "oncue drill schedule: %s: %s\n", order[i]->name, err);
            errors++;
            continue;
        }
        if (rc != 0)
            fprintf(stderr, "oncue drill schedule: %s: the scorecard is not kept: %s\n",
                    order[i]->name, err);
        int pass = json_is_true(json_object_get(card, "pass"));
        failed += !pass;
        if (!a->json)
            printf("drill %s (%s, seed %lld): %s in %.1f s%s%s\n", order[i]->name,
                   order[i]->scenario, (long long)json_integer_value(json_object_get(card, "seed")),
                   pass ? "PASS" : "FAIL", json_real_value(json_object_get(card, "wall_s")),
                   path[0] ? "; scorecard " : "", path);
        json_array_append_new(ran, card);
    }
    if (a->json)
        print_json(json_pack("{s:o, s:i, s:i}", "ran", ran, "failed", failed, "errors", errors));
    else {
        if (k == 0)
            printf("no drill is due\n");
        json_decref(ran);
    }
    return errors ? 2 : failed ? 1 : 0;
}

int drill_schedule_cli_main(int argc, char **argv, const struct drill_host *host)
{
    struct sargs a = {0};
    const char *file = NULL;
    struct sched *s = NULL;
    json_t *cards = NULL;
    char err[1024];
    int nargs = 0, skipped = 0, rc = 2;
    int64_t now_s = (int64_t)time(NULL);
    int prc = oc_cli_parse(&drill_cli[DRILL_CLI_SCHEDULE], argc - 1, argv + 1, &a, &file, &nargs);
    if (prc != 0)
        return prc > 0 ? 0 : 2;
    if (!file) {
        fprintf(stderr, "oncue drill schedule: name the schedule FILE (see --help)\n");
        return 2;
    }
    if (a.at && oc_time_param(a.at, now_s, &now_s, err, sizeof err) != 0) {
        fprintf(stderr, "oncue drill schedule: --at: %s\n", err);
        return 2;
    }
    s = calloc(SCHED_MAX, sizeof(*s));
    int n = s ? read_schedule(file, s, err, sizeof err) : -1;
    if (n < 0) {
        fprintf(stderr, "%s\n", s ? err : "oncue drill schedule: out of memory");
        goto out;
    }
    if (drill_history_load(a.out, &cards, &skipped, err, sizeof err) != 0) {
        fprintf(stderr, "oncue drill schedule: %s\n", err);
        goto out;
    }
    if (skipped)
        fprintf(stderr, "oncue drill schedule: %d scorecard files did not read as JSON\n", skipped);
    read_last(s, n, cards, now_s);
    if (a.run)
        rc = run_due(s, n, &a, host, now_s);
    else {
        list(s, n, now_s, a.json);
        rc = 0;
    }
out:
    json_decref(cards);
    free(s);
    return rc;
}
