/*
 * report.c - the automation report (GET /v1/reports/automation, `oncue report automation`):
 * per incident and per runbook, the share of runbook steps done without a person, read back
 * from the runbook lines the runs wrote on the incidents' timelines (they are the durable
 * record); the cycle times from detection (the first alert's firing) to declaration, first
 * status update, mitigation, relief (every alert of the incident cleared: the viewers' signal
 * back on the good side of its line) and resolve; weekly trends; and which decisions kept a run
 * waiting longest.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "incident/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_MAX_INCIDENTS 10000 /* incidents one report reads (the newest) */
#define REPORT_MAX_WAITS     256   /* distinct (runbook, decision) pairs costed */

/* One parsed runbook line of a timeline. */
struct rb_line {
    char kind[64], step[128], status[32];
    int n, total; /* step N of total; for an end line automated K in n */
    int end;      /* 1: "done: K of M" or "failed: K of M" */
    int waiting;  /* 1: a decision started waiting */
    int decided;  /* 1: a decision was approved or skipped */
};

/* Parses a note the runbook engine wrote (exec.c); 0, or -1 when text is not one. */
static int parse_line(const char *text, struct rb_line *l)
{
    char ver[64], hash[32];
    int off = 0;
    memset(l, 0, sizeof(*l));
    if (!text ||
        sscanf(text, "runbook %63s version %63s (%31[^)]) %n", l->kind, ver, hash, &off) != 3 ||
        !off)
        return -1;
    const char *rest = text + off;
    if (sscanf(rest, "done: %d of %d", &l->n, &l->total) == 2 ||
        sscanf(rest, "failed: %d of %d", &l->n, &l->total) == 2) {
        l->end = 1;
        return 0;
    }
    if (sscanf(rest, "step %d/%d %n", &l->n, &l->total, &off) != 2)
        return 0; /* "started: ..." */
    rest += off;
    const char *br = strstr(rest, " [decision]: ");
    if (!br)
        return 0;
    snprintf(l->step, sizeof(l->step), "%.*s", (int)(br - rest), rest);
    rest = br + strlen(" [decision]: ");
    sscanf(rest, "%31[a-z]", l->status);
    l->waiting = strcmp(l->status, "waiting") == 0;
    l->decided = strcmp(l->status, "approved") == 0 || strcmp(l->status, "skipped") == 0;
    return 0;
}

/* What the decisions of one runbook step cost: time runs waited at them. */
struct wait_cost {
    char kind[64], step[128];
    int waits;
    int64_t waited_s;
};

/* The report being built. */
struct report {
    json_t *incidents, *runbooks; /* array; object kind -> {runs, steps, automated} */
    struct wait_cost *costs;      /* REPORT_MAX_WAITS of them (owned) */
    int ncosts;
    int64_t now, from;
    json_t *weeks; /* array of buckets, newest first */
};

/* Adds waited seconds at (kind, step). */
static void add_cost(struct report *r, const char *kind, const char *step, int64_t s)
{
    int i = 0;
    while (i < r->ncosts && (strcmp(r->costs[i].kind, kind) || strcmp(r->costs[i].step, step)))
        i++;
    if (i == r->ncosts) {
        if (r->ncosts == REPORT_MAX_WAITS)
            return;
        snprintf(r->costs[i].kind, sizeof(r->costs[i].kind), "%s", kind);
        snprintf(r->costs[i].step, sizeof(r->costs[i].step), "%s", step);
        r->ncosts++;
    }
    r->costs[i].waits++;
    r->costs[i].waited_s += s;
}

/* Adds n to the integer member k of o. */
static void add_int(json_t *o, const char *k, json_int_t n)
{
    json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + n));
}

/* Seconds from t0 to the integer member k of o, or null. */
static json_t *since(const json_t *o, const char *k, int64_t t0)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer(json_integer_value(v) - t0) : json_null();
}

/* Reads the runbook lines of an incident's timeline into r; fills its row's runbook part. */
static void read_timeline(struct report *r, const json_t *tl, json_t *row, int64_t *first_update)
{
    size_t i;
    json_t *e;
    int64_t wait_at = 0;
    int runs = 0;
    json_array_foreach(tl, i, e)
    {
        struct rb_line l;
        int64_t at = json_integer_value(json_object_get(e, "at"));
        const char *kind = json_string_value(json_object_get(e, "kind"));
        if (!*first_update && kind && strcmp(kind, "status_update") == 0)
            *first_update = at;
        if (parse_line(json_string_value(json_object_get(e, "text")), &l) != 0)
            continue;
        if (l.waiting)
            wait_at = at;
        else if (l.decided && wait_at) {
            add_cost(r, l.kind, l.step, at - wait_at);
            wait_at = 0;
        } else if (l.end) {
            json_t *rb = json_object_get(r->runbooks, l.kind);
            if (!rb)
                json_object_set_new(
                    r->runbooks, l.kind,
                    rb = json_pack("{s:i, s:i, s:i}", "runs", 0, "steps", 0, "automated", 0));
            add_int(rb, "runs", 1);
            add_int(rb, "steps", l.total);
            add_int(rb, "automated", l.n);
            runs++;
            json_object_set_new(row, "runbook", json_string(l.kind));
            json_object_set_new(row, "steps", json_integer(l.total));
            json_object_set_new(row, "automated", json_integer(l.n));
            json_object_set_new(row, "automated_share",
                                json_real(l.total ? (double)l.n / l.total : 0));
        }
    }
    json_object_set_new(row, "runbook_runs", json_integer(runs));
}

/* One incident's row, added to r when it was opened in the window. */
static void add_incident(struct report *r, struct incident_mgr *m, const json_t *brief)
{
    int64_t id, opened = json_integer_value(json_object_get(brief, "opened_at")), detected;
    int64_t first_update = 0;
    json_t *inc = NULL, *v;
    size_t i;
    if (opened < r->from || opened > r->now ||
        incident_id_parse(json_string_value(json_object_get(brief, "incident_id")), &id) != 0 ||
        incident_get_json(m, id, &inc) != 0)
        return;
    int64_t relief = 0;
    int firing = 0;
    detected = opened;
    json_array_foreach(json_object_get(inc, "alerts"), i, v)
    {
        int64_t f = json_integer_value(json_object_get(v, "fired_at"));
        int64_t c = json_integer_value(json_object_get(v, "cleared_at"));
        if (f > 0 && f < detected)
            detected = f;
        firing |= json_is_true(json_object_get(v, "firing")) || c <= 0;
        if (c > relief)
            relief = c;
    }
    json_t *row =
        json_pack("{s:O, s:O, s:O, s:I, s:I}", "incident_id", json_object_get(inc, "incident_id"),
                  "title", json_object_get(inc, "title"), "state", json_object_get(inc, "state"),
                  "detected_at", (json_int_t)detected, "declared_at", (json_int_t)opened);
    read_timeline(r, json_object_get(inc, "timeline"), row, &first_update);
    json_object_set_new(row, "to_declaration_s", json_integer(opened - detected));
    json_object_set_new(row, "to_first_update_s",
                        first_update ? json_integer(first_update - detected) : json_null());
    json_object_set_new(row, "to_mitigation_s", since(inc, "mitigated_at", detected));
    json_object_set_new(row, "to_relief_s",
                        !firing && relief ? json_integer(relief - detected) : json_null());
    json_object_set_new(row, "to_resolve_s", since(inc, "resolved_at", detected));
    int64_t week = (r->now - opened) / (7 * 86400);
    json_t *b = json_array_get(r->weeks, (size_t)week);
    if (b) {
        add_int(b, "incidents", 1);
        add_int(b, "steps", json_integer_value(json_object_get(row, "steps")));
        add_int(b, "automated", json_integer_value(json_object_get(row, "automated")));
    }
    json_array_append_new(r->incidents, row);
    json_decref(inc);
}

static int by_cost(const void *a, const void *b)
{
    const struct wait_cost *x = a, *y = b;
    return x->waited_s < y->waited_s ? 1 : x->waited_s > y->waited_s ? -1 : 0;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median (the upper one of an even count) of the integer member k over the rows that have it,
 * or null. */
static json_t *median(const json_t *rows, const char *k)
{
    int64_t *vals = oc_calloc(json_array_size(rows) + 1, sizeof(*vals));
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(rows, i, v) if (json_is_integer(json_object_get(v, k))) vals[n++] =
        json_integer_value(json_object_get(v, k));
    qsort(vals, n, sizeof(*vals), by_value);
    json_t *out = n ? json_integer(vals[n / 2]) : json_null();
    free(vals);
    return out;
}

json_t *drill_automation_report(struct incident_mgr *m, int64_t now_s, int days)
{
    struct report r = {.costs = oc_calloc(REPORT_MAX_WAITS, sizeof(struct wait_cost))};
    r.now = now_s;
    r.from = now_s - (int64_t)days * 86400;
    r.incidents = json_array();
    r.runbooks = json_object();
    r.weeks = json_array();
    for (int w = 0; w <= (days - 1) / 7; w++)
        json_array_append_new(r.weeks, json_pack("{s:I, s:i, s:i, s:i}", "from",
                                                 (json_int_t)(now_s - (int64_t)(w + 1) * 7 * 86400),
                                                 "incidents", 0, "steps", 0, "automated", 0));
    json_t *all = incident_list_json(m, NULL), *v, *rbs = json_array();
    size_t i;
    json_array_foreach(all, i, v) if (i < REPORT_MAX_INCIDENTS) add_incident(&r, m, v);
    json_decref(all);
    const char *k;
    json_object_foreach(r.runbooks, k, v)
    {
        json_int_t s = json_integer_value(json_object_get(v, "steps")),
                   a = json_integer_value(json_object_get(v, "automated"));
        json_array_append_new(rbs, json_pack("{s:s, s:O, s:I, s:I, s:f}", "runbook", k, "runs",
                                             json_object_get(v, "runs"), "steps", s, "automated", a,
                                             "automated_share", s ? (double)a / s : 0.0));
    }
    json_array_foreach(r.weeks, i, v)
    {
        json_int_t s = json_integer_value(json_object_get(v, "steps"));
        json_object_set_new(
            v, "automated_share",
            s ? json_real((double)json_integer_value(json_object_get(v, "automated")) / (double)s)
              : json_null());
    }
    qsort(r.costs, (size_t)r.ncosts, sizeof(r.costs[0]), by_cost);
    json_t *costs = json_array();
    for (int c = 0; c < r.ncosts; c++)
        json_array_append_new(costs, json_pack("{s:s, s:s, s:i, s:I}", "runbook", r.costs[c].kind,
                                               "step", r.costs[c].step, "waits", r.costs[c].waits,
                                               "waited_s", (json_int_t)r.costs[c].waited_s));
    json_t *medians = json_pack(
        "{s:o, s:o, s:o, s:o, s:o}", "to_declaration_s", median(r.incidents, "to_declaration_s"),
        "to_first_update_s", median(r.incidents, "to_first_update_s"), "to_mitigation_s",
        median(r.incidents, "to_mitigation_s"), "to_relief_s", median(r.incidents, "to_relief_s"),
        "to_resolve_s", median(r.incidents, "to_resolve_s"));
    json_decref(r.runbooks);
    free(r.costs);
    return json_pack("{s:I, s:i, s:o, s:o, s:o, s:o, s:o}", "now", (json_int_t)now_s, "days", days,
                     "runbooks", rbs, "incidents", r.incidents, "medians", medians, "manual_cost",
                     costs, "weeks", r.weeks);
}
