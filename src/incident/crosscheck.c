/*
 * crosscheck.c - the runbook's first step made automatic: "confirm the alert is real: cross-check
 * with one independent source". The beacons say viewers suffer; the CDN's own logs of the same
 * slice (the edge metrics of POST /v1/cdn-logs) say whether the edge saw it too. For an open
 * incident, once XC_FIRST_S after it opened and then every XC_EVERY_S, the edge metrics of its
 * slice (its root cause's first element when localized) over the incident's window (from 5
 * minutes before it opened, at most 30 minutes) are set against the same slice in the hour
 * before:
 *
 *   agrees     the edge degraded too: its 5xx rate or its cache-miss rate at least doubled
 *              (by half a point and a point at least, and by XC_Z standard errors), or its
 *              time to first byte half again as long and 50 ms slower;
 *   disagrees  enough requests (XC_MIN_REQUESTS) and none of those: the edge looks healthy, so
 *              the cause is likely upstream of it (origin, packager) or in the player;
 *   no_data    too few logged requests for the slice (no CDN logs are sent, or not for it).
 *
 * Without edge data before the incident, the whole population in the same window is the
 * reference. The verdict is kept on the incident (stored), answered as "cross_check" and, when
 * it changes, written on the timeline. The edge metrics are looked up by name, so an oncue
 * without them reports no_data.
 */
#include "incident/incident_int.h"
#include "qoe/qoe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define XC_FIRST_S      180  /* first check: 3 minutes after opening */
#define XC_EVERY_S      300  /* then every 5 minutes while open */
#define XC_LEAD_S       300  /* the window starts 5 minutes before the incident opened */
#define XC_MAX_WINDOW_S 1800 /* and spans at most the last 30 minutes */
#define XC_BEFORE_S     3600 /* the reference: the hour before the window */
#define XC_MIN_REQUESTS 100  /* edge requests of the slice in the window to speak at all */
#define XC_Z            4.0  /* standard errors a share must rise by to count */

/* The edge view of one slice over one range. */
struct edge_view {
    double requests, err5xx, miss, ttfb; /* NAN where there is no data */
};

static double metric_over(struct qoe_cube *c, const char *name, const json_t *slice, int64_t from,
                          int64_t to)
{
    const struct qoe_metric_def *d = qoe_metric_find(name);
    return d && to > from ? inc_query_value(c, (int)d->id, slice, from, to, to - from, 0) : NAN;
}

static void view_of(struct qoe_cube *c, const json_t *slice, int64_t from, int64_t to,
                    struct edge_view *v)
{
    v->requests = metric_over(c, "edge_requests", slice, from, to);
    v->err5xx = metric_over(c, "edge_5xx_rate", slice, from, to);
    v->miss = metric_over(c, "edge_cache_miss_rate", slice, from, to);
    v->ttfb = metric_over(c, "edge_ttfb_ms", slice, from, to);
}

/* 1 when share w over n requests is above the reference share r: at least twice it, min_gap
 * above it, and by XC_Z binomial standard errors of the reference (a handful of misses in a
 * thin slice is not a finding). */
static int share_up(double w, double r, double n, double min_gap)
{
    if (isnan(w) || isnan(r) || !(n > 0))
        return 0;
    double se = sqrt((r > 0.001 ? r : 0.001) * (1 - r) / n);
    return w >= 2 * r && w - r >= min_gap && (w - r) / se >= XC_Z;
}

/* 1 when the window's view w is degraded against the reference r (see the file comment). */
static int degraded(const struct edge_view *w, const struct edge_view *r)
{
    int e = share_up(w->err5xx, isnan(r->err5xx) ? 0 : r->err5xx, w->requests, 0.005);
    int m = share_up(w->miss, r->miss, w->requests, 0.01);
    int t =
        !isnan(w->ttfb) && !isnan(r->ttfb) && w->ttfb >= 1.5 * r->ttfb && w->ttfb >= r->ttfb + 50;
    return e || m || t;
}

/* "45% (before 5%)" for a share, "820 ms (before 40 ms)" for a time. */
static void put(char *out, size_t n, const char *what, double w, double r, int pct)
{
    char a[32], b[32];
    if (isnan(w)) {
        out[0] = '\0';
        return;
    }
    snprintf(a, sizeof a, pct ? "%.3g%%" : "%.0f ms", pct ? w * 100 : w);
    if (isnan(r))
        snprintf(out, n, "%s %s", what, a);
    else {
        snprintf(b, sizeof b, pct ? "%.3g%%" : "%.0f ms", pct ? r * 100 : r);
        snprintf(out, n, "%s %s (before %s)", what, a, b);
    }
}

static json_t *view_json(const struct edge_view *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "requests",
                        isnan(v->requests) ? json_null() : json_integer((json_int_t)v->requests));
    json_object_set_new(o, "edge_5xx_rate", isnan(v->err5xx) ? json_null() : json_real(v->err5xx));
    json_object_set_new(o, "edge_cache_miss_rate",
                        isnan(v->miss) ? json_null() : json_real(v->miss));
    json_object_set_new(o, "edge_ttfb_ms", isnan(v->ttfb) ? json_null() : json_real(v->ttfb));
    return o;
}

int inc_crosscheck(struct incident_mgr *m, struct incident *inc, int64_t upto, int64_t now)
{
    struct qoe_cube *c = qoe_cube_of(m->app);
    struct edge_view w, r;
    char verdict[16], detail[INC_XC_DETAIL_MAX], parts[3][80], where[160];
    if (!c || upto <= 0 || now - inc->opened_s < XC_FIRST_S ||
        (inc->xc_at && now - inc->xc_at < XC_EVERY_S))
        return 0;
    const json_t *cause = json_object_get(json_array_get(inc->causes, 0), "element");
    const json_t *slice = json_is_object(cause) ? cause : inc->slice;
    /* the window is anchored on the onset: after mitigation the slice may see no traffic at
     * all (it was steered away), which says nothing about the fault */
    int64_t from = inc->opened_s - inc->opened_s % 60 - XC_LEAD_S, to = upto - upto % 60;
    if (to > from + XC_MAX_WINDOW_S)
        to = from + XC_MAX_WINDOW_S;
    if (to <= from || to == inc->xc_upto)
        return 0; /* no new minute since the last look */
    inc->xc_upto = to;
    view_of(c, slice, from, to, &w);
    view_of(c, slice, from - XC_BEFORE_S, from, &r);
    int ref_before = !isnan(r.requests) && r.requests >= XC_MIN_REQUESTS;
    if (!ref_before) { /* no edge data before: the whole population in the window */
        json_t *all = json_object();
        view_of(c, all, from, to, &r);
        json_decref(all);
    }
    inc_slice_text(slice, where, sizeof where);
    put(parts[0], sizeof parts[0], "5xx", w.err5xx, r.err5xx, 1);
    put(parts[1], sizeof parts[1], "cache misses", w.miss, r.miss, 1);
    put(parts[2], sizeof parts[2], "time to first byte", w.ttfb, r.ttfb, 0);
    if (isnan(w.requests) || w.requests < XC_MIN_REQUESTS) {
        snprintf(verdict, sizeof verdict, "no_data");
        snprintf(detail, sizeof detail,
                 "no CDN logs to cross-check %s (%.0f edge requests logged since %d minutes "
                 "before it opened)",
                 where, isnan(w.requests) ? 0.0 : w.requests, XC_LEAD_S / 60);
    } else {
        int bad = degraded(&w, &r);
        snprintf(verdict, sizeof verdict, bad ? "agrees" : "disagrees");
        snprintf(detail, sizeof detail, "CDN logs %s for %s: %s%s%s%s%s over %.0f requests%s",
                 bad ? "agree" : "look healthy", where, parts[0], parts[1][0] ? ", " : "", parts[1],
                 parts[2][0] ? ", " : "", parts[2], w.requests,
                 bad          ? ""
                 : ref_before ? "; the cause may be upstream of the edge or in the player"
                              : " (no logs before it: compared with all traffic)");
    }
    int changed = strcmp(verdict, inc->xc_verdict) != 0;
    snprintf(inc->xc_verdict, sizeof inc->xc_verdict, "%s", verdict);
    snprintf(inc->xc_detail, sizeof inc->xc_detail, "%s", detail);
    inc->xc_at = now;
    json_decref(inc->xc_edge);
    inc->xc_edge = json_pack("{s:o, s:o, s:s}", "window", view_json(&w), "reference", view_json(&r),
                             "reference_kind", ref_before ? "before" : "all_traffic");
    if (changed)
        inc_tl_add(m, inc->id, now, "cross_check", "oncue",
                   json_pack("{s:s, s:O}", "verdict", verdict, "edge", inc->xc_edge), 0, "%s",
                   detail);
    return 1;
}
