/*
 * metric.c - the metric table: every QoE metric's name, class (ratio, per-minute mean,
 * percentile, sum), numerator, denominator and volume columns, in one static const table.
 * The query engine computes from it; alerts, SLOs, rca and the incident severity look
 * metrics up in it. See docs/internals/qoe.md.
 */
#include "qoe/qoe.h"
#include "core/suggest.h"

#include <stdio.h>
#include <string.h>

#define R   QOE_CLASS_RATIO
#define PM  QOE_CLASS_PER_MINUTE
#define P   QOE_CLASS_PERCENTILE
#define S   QOE_CLASS_SUM
#define BAD QOE_MF_BAD_SHARE
#define VWR QOE_MF_VIEWER_SHARE

/* Indexed by enum qoe_metric (the order of the enum). */
const struct qoe_metric_def qoe_metrics[QOE_NMETRICS + 1] = {
    /* name, id, class, numerator, denominator, volume, quantile, unit per count, flags */
    {"vsf_rate", QOE_VSF_RATE, R, QOE_COL_FAILS, QOE_COL_STARTS, QOE_COL_STARTS, 0, 1, BAD | VWR},
    {"ebvs_rate", QOE_EBVS_RATE, R, QOE_COL_EXITS, QOE_COL_STARTS, QOE_COL_STARTS, 0, 1, BAD | VWR},
    {"rebuffer_ratio", QOE_REBUFFER_RATIO, R, QOE_COL_REBUFFER, QOE_COL_WATCH, QOE_COL_WATCH, 0,
     1000, BAD},
    {"rebuffering_share", QOE_REBUFFERING_SHARE, PM, QOE_COL_RB, QOE_COL_HB, QOE_COL_HB, 0, 1,
     BAD | VWR},
    {"avg_bitrate_kbps", QOE_AVG_BITRATE, R, QOE_COL_BITRATE, QOE_COL_PLAYING, QOE_COL_PLAYING, 0,
     1, 0},
    {"startup_p50_ms", QOE_STARTUP_P50, P, QOE_COL_SKETCH, QOE_COL_NONE, QOE_COL_OK, 0.5, 1, 0},
    {"startup_p95_ms", QOE_STARTUP_P95, P, QOE_COL_SKETCH, QOE_COL_NONE, QOE_COL_OK, 0.95, 1, 0},
    {"plays", QOE_PLAYS, S, QOE_COL_STARTS, QOE_COL_NONE, QOE_COL_STARTS, 0, 1, 0},
    {"concurrent_viewers", QOE_CONCURRENT, PM, QOE_COL_HB, QOE_COL_NONE, QOE_COL_HB, 0, 1, 0},
    /* the share of the viewers present that is rebuffering at an instant, averaged over the
     * step: rebuffering time over watching time (the rebuffer ratio's value, read as a share
     * of concurrent viewers; the bands of the seed apply to it) */
    {"concurrent_rebuffering_share", QOE_CONCURRENT_REBUFFERING, R, QOE_COL_REBUFFER, QOE_COL_WATCH,
     QOE_COL_WATCH, 0, 1000, BAD | VWR},
    /* the CDN edge, from CDN log lines (POST /v1/cdn-logs): shares of requests, not viewers */
    {"edge_requests", QOE_EDGE_REQUESTS, S, QOE_COL_EDGE_REQ, QOE_COL_NONE, QOE_COL_EDGE_REQ, 0, 1,
     0},
    {"edge_5xx_rate", QOE_EDGE_5XX_RATE, R, QOE_COL_EDGE_5XX, QOE_COL_EDGE_REQ, QOE_COL_EDGE_REQ, 0,
     1, BAD},
    {"edge_cache_miss_rate", QOE_EDGE_CACHE_MISS_RATE, R, QOE_COL_EDGE_MISS, QOE_COL_EDGE_REQ,
     QOE_COL_EDGE_REQ, 0, 1, BAD},
    {"edge_origin_pulls", QOE_EDGE_ORIGIN_PULLS, S, QOE_COL_EDGE_ORIGIN, QOE_COL_NONE,
     QOE_COL_EDGE_REQ, 0, 1, 0},
    {"edge_ttfb_ms", QOE_EDGE_TTFB, R, QOE_COL_EDGE_TTFB, QOE_COL_EDGE_TTFB_N, QOE_COL_EDGE_TTFB_N,
     0, 1, 0},
    /* plays ended by a fatal playback error (error events) over the viewers present
     * (session-minutes): the share of a minute's viewers whose playback died */
    {"vpf_rate", QOE_VPF_RATE, R, QOE_COL_ERRORS, QOE_COL_HB, QOE_COL_HB, 0, 1, BAD | VWR},
    {0},
};

const struct qoe_metric_def *qoe_metric_find(const char *name)
{
    for (const struct qoe_metric_def *d = qoe_metrics; name && d->name; d++)
        if (strcmp(name, d->name) == 0)
            return d;
    return NULL;
}

int qoe_metric_parse(const char *s)
{
    const struct qoe_metric_def *d = qoe_metric_find(s);
    return d ? (int)d->id : -1;
}

void qoe_metric_unknown(const char *s, char *out, size_t n)
{
    struct oc_suggest sg;
    char hint[160];
    size_t at;
    oc_suggest_init(&sg, s ? s : "", s ? strlen(s) : 0);
    for (int i = 0; i < QOE_NMETRICS; i++)
        oc_suggest_add(&sg, qoe_metrics[i].name);
    at = (size_t)snprintf(out, n, "unknown '%.64s'%s%s", s ? s : "",
                          oc_suggest_hint(&sg, hint, sizeof hint),
                          oc_suggest_best(&sg) ? " valid:" : "; valid:");
    for (int i = 0; i < QOE_NMETRICS && at < n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s %s", i ? "," : "", qoe_metrics[i].name);
}

void qoe_metric_counts(const struct qoe_metric_def *d, const struct qoe_minute *m, uint32_t i,
                       double *num, double *den)
{
    *num = qoe_col_value(d->num, m, i) / d->unit_per_count;
    *den = qoe_col_value(d->den, m, i) / d->unit_per_count;
}
