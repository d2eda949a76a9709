/*
 * severity.c - the severity grid (docs/contracts.md "Severity grid") as a static table, the
 * measurement of impact through the QoE query engine, and upward re-classification.
 *
 * incident_classify is pure: rows are tried in order and the first that holds gives the
 * severity. Re-classification only ever raises the severity (with a timeline entry and
 * "incident.severity_changed"); a responder's override with a reason is the only way down.
 */
#include "incident/incident_int.h"
#include "core/err.h"
#include "core/log.h"
#include "qoe/qoe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum grid_test {
    GT_CANNOT_START = 1, /* cannot_start_share > sev1_cannot_start */
    GT_GLOBAL_REBUF,     /* global_rebuffer > sev1_rebuffer for > sev1_rebuffer_s */
    GT_CORE_DOWN,        /* a core service down */
    GT_AFFECTED,         /* affected_share > sev2_affected */
    GT_SCOPE,            /* one region, CDN or device class broken */
    GT_DASHBOARD,        /* not visible to viewers */
    GT_ALWAYS,           /* everything else */
};

struct grid_row {
    int sev;
    enum grid_test test;
    const char *why;
};

static const struct grid_row grid_rows[] = {
    {1, GT_CANNOT_START, "more than the SEV1 share of viewers cannot start"},
    {1, GT_GLOBAL_REBUF, "rebuffer ratio above the SEV1 line globally for longer than allowed"},
    {1, GT_CORE_DOWN, "a core service is down with no workaround"},
    {2, GT_AFFECTED, "more than the SEV2 share of viewers affected"},
    {2, GT_SCOPE, "one region, CDN or device class broken"},
    {4, GT_DASHBOARD, "visible on dashboards, not to viewers"},
    {3, GT_ALWAYS, "a localised share of viewers affected"},
    {0},
};

void incident_grid_default(struct incident_grid *g)
{
    struct incident_opts o;
    incident_opts_default(&o); /* the defaults are the incident.sev* rows' */
    *g = o.grid;
}

static int row_holds(const struct incident_grid *g, const struct incident_impact *imp,
                     enum grid_test t)
{
    switch (t) {
    case GT_CANNOT_START:
        return imp->cannot_start_share > g->sev1_cannot_start;
    case GT_GLOBAL_REBUF:
        return imp->global_rebuffer > g->sev1_rebuffer &&
               imp->global_rebuffer_s > g->sev1_rebuffer_s;
    case GT_CORE_DOWN:
        return imp->core_down;
    case GT_AFFECTED:
        return imp->affected_share > g->sev2_affected;
    case GT_SCOPE:
        return imp->scope_broken;
    case GT_DASHBOARD:
        return !imp->viewer_visible;
    case GT_ALWAYS:
        return 1;
    }
    return 0;
}

int incident_classify(const struct incident_grid *g, const struct incident_impact *imp, char *why,
                      size_t whylen)
{
    for (const struct grid_row *r = grid_rows; r->sev; r++) {
        if (row_holds(g, imp, r->test)) {
            if (why)
                snprintf(why, whylen, "%s", r->why);
            return r->sev;
        }
    }
    return 4; /* not reached: GT_ALWAYS holds */
}

/* Runs one whole-range (or per-minute) query over the slice; NAN when there is no data. */
double inc_query_value(struct qoe_cube *c, int metric, const json_t *slice, int64_t from,
                       int64_t to, int64_t step, int k)
{
    struct qoe_query q;
    struct qoe_result *r = NULL;
    char err[256];
    const char *key;
    json_t *v;
    double out = NAN;
    memset(&q, 0, sizeof(q));
    q.metric = (enum qoe_metric)metric;
    q.from = from;
    q.to = to;
    q.step = step;
    q.top = 1;
    json_object_foreach((json_t *)slice, key, v)
    {
        int d = qoe_dim_parse(key);
        if (d < 0 || !json_is_string(v) || q.nfilters >= QOE_MAX_FILTERS)
            continue;
        q.filters[q.nfilters].dim = d;
        q.filters[q.nfilters++].value = json_string_value(v);
    }
    if (qoe_query_run(c, &q, &r, err, sizeof(err)) == 0 && r->nseries > 0 && k < r->npoints)
        out = qoe_point(r, 0, k);
    qoe_result_destroy(r);
    return out;
}

/* Seconds the global rebuffer ratio has been above line, counting back whole minutes from
 * the newest minute with data (the newest minutes may not be closed yet); *last is its value. */
static int64_t rebuffer_run(struct qoe_cube *c, int64_t to, double line, double *last)
{
    json_t *empty = json_object();
    int64_t run = 0;
    int seen = 0;
    *last = 0;
    for (int k = 9; k >= 0; k--) {
        double v = inc_query_value(c, QOE_REBUFFER_RATIO, empty, to - 600, to, 60, k);
        if (isnan(v) && !seen)
            continue;
        if (!seen)
            *last = v;
        seen = 1;
        if (isnan(v) || v <= line)
            break;
        run += 60;
    }
    json_decref(empty);
    return run;
}

static double or0(double v)
{
    return isnan(v) ? 0 : v;
}

int incident_measure_cube(struct qoe_cube *c, const struct incident_grid *g, const json_t *slice,
                          int64_t now_s, struct incident_impact *out)
{
    int64_t to = now_s / 60 * 60, from = to - 300, recent = to - 180;
    json_t *empty = json_object();
    int rc = OC_ENOTFOUND;
    memset(out, 0, sizeof(*out));
    if (c) {
        double all = inc_query_value(c, QOE_CONCURRENT, empty, from, to, to - from, 0);
        double part = inc_query_value(c, QOE_CONCURRENT, slice, from, to, to - from, 0);
        double reb =
            or0(inc_query_value(c, QOE_REBUFFERING_SHARE, slice, recent, to, to - recent, 0));
        double fail = or0(inc_query_value(c, QOE_VSF_RATE, slice, recent, to, to - recent, 0)) +
                      or0(inc_query_value(c, QOE_EBVS_RATE, slice, recent, to, to - recent, 0));
        /* who cannot start is counted over the same minutes as the failures: the slice's
         * failed starts over everyone's starts (a slice that steering just drained has few
         * starts, and its concurrent share of the last 5 minutes would overstate them) */
        double plays = inc_query_value(c, QOE_PLAYS, empty, recent, to, to - recent, 0);
        double plays_in = or0(inc_query_value(c, QOE_PLAYS, slice, recent, to, to - recent, 0));
        if (!isnan(all) && all > 0 && !isnan(part)) {
            double in_slice = part / all, hit = reb > fail ? reb : fail;
            double start_share = !isnan(plays) && plays > 0 ? plays_in / plays : in_slice;
            out->affected_share = in_slice * (hit > 1 ? 1 : hit);
            out->viewers = part * (hit > 1 ? 1 : hit);
            out->slice_share = in_slice;
            out->slice_viewers = part;
            out->rebuffering = reb > 1 ? 1 : reb;
            out->failing = fail > 1 ? 1 : fail;
            out->cannot_start_share = start_share * (fail > 1 ? 1 : fail);
            out->global_rebuffer_s =
                rebuffer_run(c, to, g ? g->sev1_rebuffer : 0.15, &out->global_rebuffer);
            rc = 0;
        }
    }
    json_decref(empty);
    return rc;
}

int inc_names_scope(const json_t *obj)
{
    return json_is_string(json_object_get(obj, "region")) ||
           json_is_string(json_object_get(obj, "cdn")) ||
           json_is_string(json_object_get(obj, "device"));
}

/* The impact of inc at now: measured (or from the alert values when nothing can be measured)
 * plus what its firing alerts say about scope. Returns 0 when measured. */
int inc_measure(struct incident_mgr *m, struct incident *inc, int64_t now,
                struct incident_impact *imp)
{
    int rc = m->o.measure
                 ? m->o.measure(m->o.measure_arg, inc->slice, now, imp)
                 : incident_measure_cube(qoe_cube_of(m->app), &m->o.grid, inc->slice, now, imp);
    int global = json_object_size(inc->slice) == 0, rebuffering = 0, about_reb = 0,
        about_starts = 0;
    for (int i = 0; i < inc->nalerts; i++) {
        const struct inc_alert *a = &inc->alerts[i];
        const struct qoe_metric_def *km = qoe_metric_find(a->metric);
        int reb = km && (km->num == QOE_COL_REBUFFER || km->num == QOE_COL_RB);
        rebuffering |= a->opener && reb;
        about_reb |= reb;
        about_starts |= km && (km->id == QOE_VSF_RATE || km->id == QOE_EBVS_RATE);
        if (strcmp(a->level, "backlog") != 0)
            imp->viewer_visible = 1;
        if (!a->firing)
            continue;
        imp->core_down |= a->core_down;
        if (strcmp(a->level, "page") == 0 && (inc_names_scope(inc->slice) || a->scoped))
            imp->scope_broken = 1;
        const struct qoe_metric_def *md = qoe_metric_find(a->metric);
        if (rc && global && md && (md->flags & QOE_MF_VIEWER_SHARE))
            imp->affected_share = fmax(imp->affected_share, a->value);
        if (rc && global && md && md->id == QOE_VSF_RATE)
            imp->cannot_start_share = fmax(imp->cannot_start_share, a->value);
    }
    /* the global rebuffering line speaks for incidents about rebuffering: a start-failure
     * incident still open when the origin stalls is not what stalls the world */
    if (!rebuffering)
        imp->global_rebuffer_s = 0;
    /* nor do its viewers: an incident whose QoE alerts are all about starting (or all about
     * rebuffering) counts the viewers hit that way alone, not another incident's */
    if (rc == 0 && imp->slice_share > 0 && about_reb != about_starts) {
        double hit = about_reb ? imp->rebuffering : imp->failing;
        imp->affected_share = imp->slice_share * hit;
        imp->viewers = imp->slice_viewers * hit;
    }
    return rc;
}

/* A metric snapshot of inc at now (new reference). */
json_t *inc_snapshot(const struct incident *inc, const struct incident_impact *imp, int64_t now)
{
    json_t *alerts = json_object();
    for (int i = 0; i < inc->nalerts; i++)
        json_object_set_new(alerts, inc->alerts[i].id, json_real(inc->alerts[i].value));
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:o}", "at", (json_int_t)now, "affected_share",
                     imp->affected_share, "viewers", imp->viewers, "cannot_start_share",
                     imp->cannot_start_share, "global_rebuffer", imp->global_rebuffer, "alerts",
                     alerts);
}

/* Re-measures inc at now; raises its severity when the grid says worse (never lowers it),
 * and keeps the peak snapshot. Caller holds m->mu. */
void inc_reclassify(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    struct incident_impact imp;
    char why[160], id[32];
    int changed = 0;
    inc_measure(m, inc, now, &imp);
    int sev = incident_classify(&m->o.grid, &imp, why, sizeof(why));
    inc->last_measure_s = now;
    if (imp.affected_share > inc->peak_share || !inc->snap_peak) {
        inc->peak_share = imp.affected_share;
        inc->peak_s = now;
        json_decref(inc->snap_peak);
        inc->snap_peak = inc_snapshot(inc, &imp, now);
        changed = 1;
    }
    if (sev < inc->sev && (!inc->sev_override || sev < inc->sev_override)) {
        int old = inc->sev;
        inc->sev = sev;
        inc_format_id(inc->id, id, sizeof(id));
        inc_tl_add(m, inc->id, now, "severity", "oncue", inc_snapshot(inc, &imp, now), 0,
                   "re-classified %s -> %s: %s (%.1f%% of viewers affected)", inc_sev_name(old),
                   inc_sev_name(sev), why, imp.affected_share * 100);
        inc_publish_severity(m, id, old, sev, why, now);
        changed = 1;
    }
    if (changed)
        inc_save(m, inc);
}
