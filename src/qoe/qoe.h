/*
 * qoe.h - the per-minute QoE cube (cube.h), the query engine over it, and GET /v1/qoe.
 *
 * A query names one metric of docs/contracts.md "Metrics", a half-open time range in unix
 * seconds, a step, a filter (dim:value pairs; the same dimension repeated means any of those
 * values, different dimensions must all match), a group-by and a top-k. It scans the closed
 * minutes whose start lies in [from, to) and answers one series per group. Ratios sum
 * numerators and denominators over the step before dividing; per-minute metrics (share
 * rebuffering, concurrent viewers) are averaged over the minutes of the step in which the
 * group had heartbeats. The metrics are one table (qoe_metrics). See docs/internals/qoe.md.
 */
#ifndef OC_QOE_QOE_H
#define OC_QOE_QOE_H

#include "core/module.h"
#include "qoe/cube.h"
#include "core/opt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum qoe_metric {
    QOE_VSF_RATE = 0,
    QOE_EBVS_RATE,
    QOE_REBUFFER_RATIO,
    QOE_REBUFFERING_SHARE,
    QOE_AVG_BITRATE,
    QOE_STARTUP_P50,
    QOE_STARTUP_P95,
    QOE_PLAYS,
    QOE_CONCURRENT,
    QOE_CONCURRENT_REBUFFERING, /* the seed's 1/3/5% bands: time-averaged share of viewers */
    QOE_EDGE_REQUESTS,          /* CDN logs: requests the edges served */
    QOE_EDGE_5XX_RATE,          /* ... share answered 5xx */
    QOE_EDGE_CACHE_MISS_RATE,   /* ... share that missed the cache */
    QOE_EDGE_ORIGIN_PULLS,      /* ... fetched from the origin (misses and passes) */
    QOE_EDGE_TTFB,              /* ... mean edge time to first byte */
    QOE_VPF_RATE, /* playback failures: plays ended by a fatal error, per viewer-minute */
    QOE_NMETRICS,
};

#define QOE_MAX_FILTERS 32             /* dim:value pairs in a filter */
#define QOE_MAX_POINTS  10080          /* points per series (a week of minutes) */
#define QOE_DEFAULT_TOP 100            /* groups answered when top is not given */
#define QOE_MAX_TOP     1000           /* largest top */
#define QOE_MAX_GROUPS  200000         /* distinct groups a query may build before top-k */
#define QOE_MAX_HIST    8192           /* group x point cells of a percentile query */
#define QOE_MAX_TIME    100000000000LL /* latest from/to accepted (unix seconds) */

/* How a metric's value forms from its columns over a step (docs/internals/qoe.md). */
enum qoe_metric_class {
    QOE_CLASS_RATIO = 1,  /* sum(numerator) / sum(denominator) over the step */
    QOE_CLASS_PER_MINUTE, /* mean over the step's minutes with volume of the minute's
                             numerator / denominator (numerator alone without one) */
    QOE_CLASS_PERCENTILE, /* a quantile of the merged startup sketch */
    QOE_CLASS_SUM,        /* sum(numerator); null only where the group had no rows */
};

/* The columns of a closed minute (struct qoe_minute) a metric reads, and two sums of them. */
enum qoe_col {
    QOE_COL_NONE = 0,
    QOE_COL_STARTS,      /* starts */
    QOE_COL_FAILS,       /* fails */
    QOE_COL_EXITS,       /* exits */
    QOE_COL_OK,          /* starts - fails - exits: successful starts */
    QOE_COL_PLAYING,     /* playing_ms */
    QOE_COL_REBUFFER,    /* rebuffer_ms */
    QOE_COL_WATCH,       /* playing_ms + rebuffer_ms */
    QOE_COL_BITRATE,     /* bitrate_ms: bitrate_kbps x playing_ms */
    QOE_COL_HB,          /* hb_sessions */
    QOE_COL_RB,          /* rb_sessions */
    QOE_COL_SKETCH,      /* the startup sketch (reads as 0: not a number) */
    QOE_COL_EDGE_REQ,    /* edge_req (0 in a minute without edge columns), likewise: */
    QOE_COL_EDGE_5XX,    /* edge_5xx */
    QOE_COL_EDGE_MISS,   /* edge_miss */
    QOE_COL_EDGE_ORIGIN, /* edge_origin */
    QOE_COL_EDGE_TTFB,   /* edge_ttfb_ms */
    QOE_COL_EDGE_TTFB_N, /* edge_ttfb_n */
    QOE_COL_ERRORS,      /* errors (0 in a minute without error columns) */
    QOE_NCOLS,
};

/* What other capabilities may assume of a metric (struct qoe_metric_def flags). */
#define QOE_MF_BAD_SHARE                                                                           \
    1u /* the numerator counts the bad part of the denominator: a share                            \
          in [0, 1] whose excess rca can localize */
#define QOE_MF_VIEWER_SHARE                                                                        \
    2u /* ... of viewers (starts or sessions), not of time: it says                                \
          how many viewers are affected (incident severity) */

/* One metric: the one description the query engine, alerts, SLOs, rca and the incident
 * severity all read. */
struct qoe_metric_def {
    const char *name;          /* as in the API and the YAML: "vsf_rate" */
    enum qoe_metric id;        /* its index in qoe_metrics */
    enum qoe_metric_class cls; /* how the value forms */
    enum qoe_col num, den;     /* numerator and denominator (den NONE: none) */
    enum qoe_col volume;       /* what top-k ranks groups by, summed over the range */
    double quantile;           /* QOE_CLASS_PERCENTILE: 0.5, 0.95 */
    double unit_per_count;     /* column units per count an attribution weighs (ms: 1000) */
    unsigned flags;            /* QOE_MF_* */
};

/* The metrics, indexed by enum qoe_metric, ending in {0} (static, never freed). */
extern const struct qoe_metric_def qoe_metrics[QOE_NMETRICS + 1];
/* The metric named name, or NULL (name may be NULL). */
const struct qoe_metric_def *qoe_metric_find(const char *name);
/* The metric named s as an enum qoe_metric, or -1. */
int qoe_metric_parse(const char *s);
/* Writes why s is not a metric, for an error message: "unknown 'S'; did you mean X? valid:
 * a, b, ..." (truncated to n). */
void qoe_metric_unknown(const char *s, char *out, size_t n);
/* Numerator and denominator of metric d in row i of m (a minute or a stored rollup row), in
 * counts: column units / d->unit_per_count. The denominator is 0 without one. */
void qoe_metric_counts(const struct qoe_metric_def *d, const struct qoe_minute *m, uint32_t i,
                       double *num /* OUT */, double *den /* OUT */);

/* Column col of row i of m as a double (QOE_COL_NONE and QOE_COL_SKETCH: 0). Inline: the
 * query engine's ranking pass reads it per row. */
static inline double qoe_col_value(enum qoe_col col, const struct qoe_minute *m, uint32_t i)
{
    switch (col) {
    case QOE_COL_STARTS:
        return (double)m->starts[i];
    case QOE_COL_FAILS:
        return (double)m->fails[i];
    case QOE_COL_EXITS:
        return (double)m->exits[i];
    case QOE_COL_OK:
        return (double)(m->starts[i] - m->fails[i] - m->exits[i]);
    case QOE_COL_PLAYING:
        return (double)m->playing_ms[i];
    case QOE_COL_REBUFFER:
        return (double)m->rebuffer_ms[i];
    case QOE_COL_WATCH:
        return (double)(m->playing_ms[i] + m->rebuffer_ms[i]);
    case QOE_COL_BITRATE:
        return m->bitrate_ms[i];
    case QOE_COL_HB:
        return (double)m->hb_sessions[i];
    case QOE_COL_RB:
        return (double)m->rb_sessions[i];
    case QOE_COL_EDGE_REQ:
        return m->edge_req ? (double)m->edge_req[i] : 0;
    case QOE_COL_EDGE_5XX:
        return m->edge_req ? (double)m->edge_5xx[i] : 0;
    case QOE_COL_EDGE_MISS:
        return m->edge_req ? (double)m->edge_miss[i] : 0;
    case QOE_COL_EDGE_ORIGIN:
        return m->edge_req ? (double)m->edge_origin[i] : 0;
    case QOE_COL_EDGE_TTFB:
        return m->edge_req ? (double)m->edge_ttfb_ms[i] : 0;
    case QOE_COL_EDGE_TTFB_N:
        return m->edge_req ? (double)m->edge_ttfb_n[i] : 0;
    case QOE_COL_ERRORS:
        return m->errors ? (double)m->errors[i] : 0;
    default:
        return 0;
    }
}

struct qoe_filter {
    int dim;           /* enum beacon_dim */
    const char *value; /* borrowed */
};

struct qoe_query {
    enum qoe_metric metric;
    int64_t from, to; /* unix seconds, half-open */
    int64_t step;     /* seconds; a multiple of 60, or to - from */
    int nfilters;
    struct qoe_filter filters[QOE_MAX_FILTERS];
    int ngroup;
    int group_by[BEACON_NDIMS]; /* enum beacon_dim, distinct */
    int top;                    /* groups answered, the largest by volume (see docs) */
};

/* One answered group. */
struct qoe_series {
    const char *values[BEACON_NDIMS]; /* value per group_by dimension; owned by the cube */
    double *points;                   /* npoints values; NAN = null; owned by the result */
    double volume;                    /* what top-k ranked by */
};

struct qoe_result {
    int npoints;
    int nseries;
    struct qoe_series *series; /* owned */
};

/* Parses query parameters through get(arg, name) (NULL when absent) into q (from and to are
 * unix seconds, ISO 8601 or "now-1h" relative to now_s; step seconds or "5m"), whose strings
 * borrow from what get returns and from scratch (scratch_len bytes, for the filter), then
 * validates q with qoe_query_check. On failure returns OC_EMALFORMED (a parameter missing or
 * malformed) or OC_EINVAL (well-formed but invalid: an unknown name, or qoe_query_check) and
 * writes a detail starting with the parameter's name into err; http_status_for maps the code
 * (400, 422). */
int qoe_query_parse(struct qoe_query *q, const char *(*get)(void *arg, const char *name), void *arg,
                    int64_t now_s, char *scratch, size_t scratch_len, char *err, size_t errlen);
/* The one validator of a query, for the HTTP parser and qoe_query_run alike: 0, or OC_EINVAL
 * with a detail starting with the parameter's name in err. In order: the metric, from and to
 * (0 to QOE_MAX_TIME, to after from), the step (a positive multiple of 60, or to - from), at
 * most QOE_MAX_POINTS points, top (1 to QOE_MAX_TOP), and for percentiles at most
 * QOE_MAX_HIST groups x points. A query asking past a cap is invalid (422), not too big. */
int qoe_query_check(const struct qoe_query *q, char *err, size_t errlen);
/* The most points one ungrouped query of metric m may ask for (QOE_MAX_POINTS, or
 * QOE_MAX_HIST for a percentile): what a caller walking a long range per minute splits it by. */
int64_t qoe_max_points(enum qoe_metric m);
/* Runs q over the closed minutes of cube c. 0 and *out (free with qoe_result_destroy), or
 * OC_EINVAL (qoe_query_check, or more than QOE_MAX_GROUPS groups) / OC_EDB (stored history)
 * with a reason in err naming the parameter. Thread-safe. */
int qoe_query_run(struct qoe_cube *c, const struct qoe_query *q, struct qoe_result **out /* OUT */,
                  char *err, size_t errlen);
void qoe_result_destroy(struct qoe_result *r);
/* The JSON answer of GET /v1/qoe (new reference). */
json_t *qoe_result_json(const struct qoe_query *q, const struct qoe_result *r);
/* The value of point k of a series at time from + k * step, for callers of qoe_query_run. */
double qoe_point(const struct qoe_result *r, int series, int k);

/* `oncue bench qoe`: cube memory and query latency, in-process (argv[0] is "qoe"). */
int qoe_bench_main(int argc, char **argv);
/* The options of `oncue bench qoe`, ending in {0}. */
extern const struct oc_cli qoe_bench_cli[];

/* The `qoe` module: GET /v1/qoe, GET /v1/qoe/dimensions and the QoE gauges in /metrics. It
 * reads the cube of the ingest module (start it too). */
extern const struct oc_module qoe_module;

/* The name the qoe module provides its cube under (struct oc_app). */
#define QOE_PROVIDES_CUBE "qoe.cube"
/* The cube of app's running qoe module (NULL when it does not run); the module owns it and
 * it lives until the module stops. */
struct qoe_cube *qoe_cube_of(const struct oc_app *app);

#endif
