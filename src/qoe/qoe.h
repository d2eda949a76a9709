/*
 * qoe.h - the per-minute QoE cube (cube.h), the query engine over it, and GET /v1/qoe.
 *
 * A query names one metric of PRODUCT.md ("Beacon events"), a half-open time range in unix
 * seconds, a step, a filter (dim:value pairs; the same dimension repeated means any of those
 * values, different dimensions must all match), a group-by and a top-k. It scans the closed
 * minutes whose start lies in [from, to) and answers one series per group. Ratios sum
 * numerators and denominators over the step before dividing; per-minute metrics (share
 * rebuffering, concurrent viewers) are averaged over the minutes of the step in which the
 * group had heartbeats. See docs/internals/ingest.md.
 */
#ifndef OC_QOE_QOE_H
#define OC_QOE_QOE_H

#include "core/module.h"
#include "qoe/cube.h"

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
    QOE_NMETRICS,
};

#define QOE_MAX_FILTERS 32             /* dim:value pairs in a filter */
#define QOE_MAX_POINTS  10080          /* points per series (a week of minutes) */
#define QOE_DEFAULT_TOP 100            /* groups answered when top is not given */
#define QOE_MAX_TOP     1000           /* largest top */
#define QOE_MAX_GROUPS  200000         /* distinct groups a query may build before top-k */
#define QOE_MAX_HIST    8192           /* group x point cells of a percentile query */
#define QOE_MAX_TIME    100000000000LL /* latest from/to accepted (unix seconds) */

/* Metric names ("vsf_rate", ...), indexed by enum qoe_metric. */
extern const char *const qoe_metric_names[QOE_NMETRICS];
/* The metric named s, or -1. */
int qoe_metric_parse(const char *s);

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

/* Parses query parameters through get(arg, name) (NULL when absent) into q, whose strings
 * borrow from what get returns and from scratch (scratch_len bytes, for the filter). On
 * failure returns 400 (missing or malformed) or 422 (well-formed but invalid) and writes a
 * detail naming the parameter into err. */
int qoe_query_parse(struct qoe_query *q, const char *(*get)(void *arg, const char *name), void *arg,
                    char *scratch, size_t scratch_len, char *err, size_t errlen);
/* Runs q over the closed minutes of cube c. 0 and *out (free with qoe_result_destroy), or
 * OC_EINVAL / OC_ETOOBIG with a reason in err naming the parameter. Thread-safe. */
int qoe_query_run(struct qoe_cube *c, const struct qoe_query *q, struct qoe_result **out /* OUT */,
                  char *err, size_t errlen);
void qoe_result_destroy(struct qoe_result *r);
/* The JSON answer of GET /v1/qoe (new reference). */
json_t *qoe_result_json(const struct qoe_query *q, const struct qoe_result *r);
/* The value of point k of a series at time from + k * step, for callers of qoe_query_run. */
double qoe_point(const struct qoe_result *r, int series, int k);

/* `oncue bench qoe`: cube memory and query latency, in-process (argv[0] is "qoe"). */
int qoe_bench_main(int argc, char **argv);

/* The `qoe` module: GET /v1/qoe, GET /v1/qoe/dimensions and the QoE gauges in /metrics. It
 * reads the cube of the ingest module (start it too). */
extern const struct oc_module qoe_module;

/* The name the qoe module provides its cube under (struct oc_app). */
#define QOE_PROVIDES_CUBE "qoe.cube"
/* The cube of app's running qoe module (NULL when it does not run); the module owns it and
 * it lives until the module stops. */
struct qoe_cube *qoe_cube_of(const struct oc_app *app);

#endif
