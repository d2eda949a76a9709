/*
 * module.c - the `qoe` module: owns the cube (created and loaded from the store at start,
 * provided to the other modules as QOE_PROVIDES_CUBE, minutes closed and persisted by a
 * one-second timer, compacted every minute, flushed at stop), GET /v1/qoe (parameters and
 * the cost check here, then qoe_query_run -> JSON on a query thread, qpool.c),
 * GET /v1/qoe/dimensions, and the cube's counters and the QoE gauges
 * of the last closed minute per region x cdn in /metrics.
 *
 * Missing or malformed parameters are OC_EMALFORMED, well-formed but invalid ones OC_EINVAL
 * (the values from qoe_query_check, the one validator); http_reply_err maps them to 400 and
 * 422. The detail always starts with the parameter's name.
 */
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/memo.h"
#include "core/timefmt.h"
#include "core/metrics.h"
#include "core/topics.h"
#include "http/http.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM_WINDOW_S 3600 /* GET /v1/qoe/dimensions ranks values over the last hour */
#define DIM_TOP      20   /* its default top, the one whose answer is kept per minute */

/* What one value of a GET /v1/qoe answer costs, for the check before the query runs: bytes
 * of JSON ("[1772479800,0.0123456789012]," is 29, most are shorter), and memory (the result's
 * double, the JSON tree's array, integer and real, and the text). */
#define CELL_JSON_BYTES 24
#define CELL_MEMORY     (8 + 120 + CELL_JSON_BYTES)
#define GROUP_BYTES     256 /* a series' group labels and keys */

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* Writes a detail naming the parameter into err and evaluates to code (an enum oc_err). */
#define FAIL(code, ...) (snprintf(err, errlen, __VA_ARGS__), (code))

static int parse_filter(struct qoe_query *q, const char *s, char *scratch, size_t n, char *err,
                        size_t errlen)
{
    if (strlen(s) >= n)
        return FAIL(OC_EINVAL, "filter: longer than %zu bytes", n - 1);
    memcpy(scratch, s, strlen(s) + 1);
    for (char *p = scratch; p && *p;) {
        char *comma = strchr(p, ','), *colon;
        if (comma)
            *comma = 0;
        colon = strchr(p, ':');
        if (!colon || colon == p)
            return FAIL(OC_EMALFORMED, "filter: '%s' is not dim:value", p);
        *colon = 0;
        int d = qoe_dim_parse(p);
        if (d < 0)
            return FAIL(OC_EINVAL, "filter: unknown dimension '%s'", p);
        if (q->nfilters >= QOE_MAX_FILTERS)
            return FAIL(OC_EINVAL, "filter: more than %d terms", QOE_MAX_FILTERS);
        q->filters[q->nfilters++] = (struct qoe_filter){d, colon + 1};
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static int parse_group(struct qoe_query *q, const char *s, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return FAIL(OC_EINVAL, "group_by: too long");
    memcpy(buf, s, strlen(s) + 1);
    for (char *p = buf; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        int d = qoe_dim_parse(p);
        if (d < 0)
            return FAIL(OC_EINVAL, "group_by: unknown dimension '%s'", p);
        for (int i = 0; i < q->ngroup; i++)
            if (q->group_by[i] == d)
                return FAIL(OC_EINVAL, "group_by: '%s' named twice", p);
        q->group_by[q->ngroup++] = d;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* Reads from, to and step (to - from when absent); their values are qoe_query_check's. */
static int parse_range(struct qoe_query *q, const char *(*get)(void *, const char *), void *arg,
                       int64_t now_s, char *err, size_t errlen)
{
    const char *from = get(arg, "from"), *to = get(arg, "to"), *step = get(arg, "step");
    char why[160];
    int rc;
    if (!from)
        return FAIL(OC_EMALFORMED, "from: required (unix seconds, ISO 8601 or now-1h)");
    if ((rc = oc_time_param(from, now_s, &q->from, why, sizeof why)) != 0)
        return FAIL(rc, "from: %s", why);
    if (!to)
        return FAIL(OC_EMALFORMED, "to: required (unix seconds, ISO 8601 or now)");
    if ((rc = oc_time_param(to, now_s, &q->to, why, sizeof why)) != 0)
        return FAIL(rc, "to: %s", why);
    q->step = q->to - q->from;
    if (step && oc_duration_parse(step, &q->step) != 0)
        return FAIL(OC_EMALFORMED, "step: '%.40s' is not seconds or a duration (60, 5m, 1h)", step);
    return 0;
}

int qoe_query_parse(struct qoe_query *q, const char *(*get)(void *arg, const char *name), void *arg,
                    int64_t now_s, char *scratch, size_t scratch_len, char *err, size_t errlen)
{
    const char *metric = get(arg, "metric"), *filter = get(arg, "filter");
    const char *group = get(arg, "group_by"), *top = get(arg, "top");
    int64_t k = QOE_DEFAULT_TOP;
    memset(q, 0, sizeof *q);
    if (!metric)
        return FAIL(OC_EMALFORMED, "metric: required");
    int m = qoe_metric_parse(metric);
    if (m < 0) {
        char why[1024];
        qoe_metric_unknown(metric, why, sizeof why);
        return FAIL(OC_EINVAL, "metric: %s", why);
    }
    q->metric = (enum qoe_metric)m;
    int rc = parse_range(q, get, arg, now_s, err, errlen);
    if (rc == 0 && filter)
        rc = parse_filter(q, filter, scratch, scratch_len, err, errlen);
    if (rc == 0 && group)
        rc = parse_group(q, group, err, errlen);
    if (rc == 0 && top && parse_int(top, &k) != 0)
        rc = FAIL(OC_EMALFORMED, "top: not an integer");
    q->top = k < 1 || k > QOE_MAX_TOP ? 0 : (int)k; /* 0: qoe_query_check names it */
    if (rc == 0)
        rc = qoe_query_check(q, err, errlen);
    return rc;
}

static const char *req_get(void *arg, const char *name)
{
    return http_query(arg, name);
}

struct qoe_cube *qoe_cube_of(const struct oc_app *app)
{
    return oc_app_find(app, QOE_PROVIDES_CUBE);
}

int qoe_cost_check(const struct qoe_module_state *ms, int64_t mem_cap, const struct qoe_query *q,
                   int64_t groups, char *err, size_t errlen)
{
    int64_t range = q->to - q->from, points = (range + q->step - 1) / q->step;
    int64_t cells = groups * points;
    int64_t bytes = cells * CELL_JSON_BYTES + groups * GROUP_BYTES;
    int64_t memory = cells * CELL_MEMORY + groups * GROUP_BYTES;
    int64_t fit = ms->max_cells;
    if (fit > (ms->max_answer_bytes - groups * GROUP_BYTES) / CELL_JSON_BYTES)
        fit = (ms->max_answer_bytes - groups * GROUP_BYTES) / CELL_JSON_BYTES;
    if (fit > (mem_cap - groups * GROUP_BYTES) / CELL_MEMORY)
        fit = (mem_cap - groups * GROUP_BYTES) / CELL_MEMORY;
    if (cells <= fit)
        return 0;
    /* the smallest step (a multiple of 60) whose points fit with this top */
    int64_t per_group = fit / groups > 0 ? fit / groups : 1;
    int64_t step = ((range + per_group - 1) / per_group + 59) / 60 * 60;
    return FAIL(OC_EINVAL,
                "the answer would hold %lld groups x %lld points = %lld values (about %lld "
                "bytes, %lld MiB of memory); at most %lld fit (qoe.query_max_cells %lld, "
                "qoe.query_max_answer_bytes %lld, http.request_memory_bytes %lld): use step=%lld "
                "or more, a shorter range, or a smaller top",
                (long long)groups, (long long)points, (long long)cells, (long long)bytes,
                (long long)(memory >> 20), (long long)fit, (long long)ms->max_cells,
                (long long)ms->max_answer_bytes, (long long)mem_cap, (long long)step);
}

static void get_qoe(struct http_req *req)
{
    struct qoe_module_state *ms = req->state;
    struct qoe_query q;
    struct oc_buf b;
    char scratch[2048], err[1024];
    int rc = qoe_query_parse(&q, req_get, req, oc_clock_now_s(req->app->clock), scratch,
                             sizeof scratch, err, sizeof err);
    if (rc == 0)
        rc = qoe_cost_check(ms, (int64_t)req->arena.max, &q, q.ngroup ? q.top : 1, err, sizeof err);
    if (rc == 0 && ms->pool) {
        int sub = qoe_pool_submit(ms->pool, req, &q);
        if (sub == 0)
            return; /* a query thread answers */
        if (sub == OC_EBUSY) {
            http_problem(req, 503,
                         "%d GET /v1/qoe queries are waiting already (qoe.query_queue): retry",
                         (int)ms->o.query_queue);
            return;
        }
    }
    oc_buf_init(&b, (size_t)ms->max_answer_bytes);
    if (rc == 0)
        rc = qoe_answer(ms, &q, &b, err, sizeof err);
    if (rc != 0)
        http_reply_err(req, rc, "%s", err);
    else
        http_reply(req, 200, "application/json", b.data, b.len);
    oc_buf_free(&b);
}

/* The last closed minute's start, or 0 when none closed yet. */
static int64_t last_closed(struct qoe_cube *c)
{
    struct qoe_cube_stats st;
    qoe_cube_stats(c, &st);
    return st.complete_upto_s == INT64_MIN ? 0 : st.complete_upto_s - 60;
}

static json_t *dim_values(struct qoe_cube *c, int d, int64_t to, int top)
{
    struct qoe_query q;
    struct qoe_result *r = NULL;
    char err[200];
    json_t *vals = json_array();
    memset(&q, 0, sizeof q);
    q.metric = QOE_CONCURRENT;
    q.from = to - DIM_WINDOW_S;
    q.to = to;
    q.step = DIM_WINDOW_S;
    q.ngroup = 1;
    q.group_by[0] = d;
    q.top = top;
    if (qoe_query_run(c, &q, &r, err, sizeof err) != 0)
        return vals;
    for (int s = 0; s < r->nseries; s++)
        json_array_append_new(vals, json_pack("{s:s,s:f}", "value", r->series[s].values[0],
                                              "viewer_minutes", r->series[s].volume));
    qoe_result_destroy(r);
    return vals;
}

static void get_dimensions(struct http_req *req)
{
    struct qoe_cube *c = ((struct qoe_module_state *)req->state)->cube;
    const char *topq = http_query(req, "top");
    int64_t top = DIM_TOP;
    if (topq && (parse_int(topq, &top) != 0 || top < 1 || top > QOE_MAX_TOP)) {
        http_problem(req, 422, "top: must be 1 to %d", QOE_MAX_TOP);
        return;
    }
    int64_t to = last_closed(c) + 60;
    /* the answer changes once a minute: the default one is computed once (core/memo.h) */
    struct oc_memo *memo = top == DIM_TOP ? &((struct qoe_module_state *)req->state)->dims : NULL;
    int mine = 0;
    char *text = memo ? oc_memo_get(memo, to, &mine) : NULL;
    if (!text) {
        json_t *dims = json_array();
        struct qoe_cube_stats st;
        qoe_cube_stats(c, &st);
        for (int d = 0; d < BEACON_NDIMS; d++)
            json_array_append_new(dims, json_pack("{s:s,s:I,s:o}", "name", beacon_dim_names[d],
                                                  "distinct", (json_int_t)st.values[d], "top",
                                                  dim_values(c, d, to, (int)top)));
        json_t *o = json_pack("{s:I,s:I,s:o}", "from", (json_int_t)(to - DIM_WINDOW_S), "to",
                              (json_int_t)to, "dimensions", dims);
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (mine)
            oc_memo_put(memo, to, text);
    }
    if (!text) {
        http_problem(req, 500, "cannot serialize the dimensions");
        return;
    }
    http_reply(req, 200, "application/json", text, strlen(text));
    free(text);
}

/* GET /v1/qoe/errors?from=&to=&top=: the players' error codes by count over [from, to)
 * (default the last hour; only the last QOE_ERR_MINUTES minutes are kept), each with the top
 * values of every dimension it came from (errors.c). */
static void get_errors(struct http_req *req)
{
    struct qoe_cube *c = ((struct qoe_module_state *)req->state)->cube;
    int64_t now = oc_clock_now_s(req->app->clock), to = (now / 60 + 1) * 60,
            from = to - QOE_ERR_MINUTES * 60, top = 20;
    const char *fq = http_query(req, "from"), *tq = http_query(req, "to");
    const char *kq = http_query(req, "top");
    char why[160];
    if (fq && oc_time_param(fq, now, &from, why, sizeof why) != 0) {
        http_problem(req, 422, "from: %s", why);
        return;
    }
    if (tq && oc_time_param(tq, now, &to, why, sizeof why) != 0) {
        http_problem(req, 422, "to: %s", why);
        return;
    }
    if (to <= from) {
        http_problem(req, 422, "to: must be after from");
        return;
    }
    if (kq && (parse_int(kq, &top) != 0 || top < 1 || top > QOE_ERR_CODES)) {
        http_problem(req, 422, "top: must be 1 to %d", QOE_ERR_CODES);
        return;
    }
    struct qoe_err_answer a;
    qoe_cube_errors(c, from, to, (int)top, &a);
    json_t *codes = json_array();
    for (size_t k = 0; k < a.ncodes; k++) {
        const struct qoe_err_code *e = &a.codes[k];
        uint64_t n = e->fails + e->errors, sliced = n - e->unsliced;
        json_t *slices = json_array();
        for (int d = 0; d < BEACON_NDIMS; d++) {
            json_t *vals = json_array();
            for (int j = 0; j < e->sl->nvalues[d]; j++)
                json_array_append_new(
                    vals, json_pack("{s:s,s:I,s:f}", "value", e->sl->value[d][j], "events",
                                    (json_int_t)e->sl->value_n[d][j], "share",
                                    sliced ? (double)e->sl->value_n[d][j] / (double)sliced : 0.0));
            json_array_append_new(slices, json_pack("{s:s,s:I,s:o}", "dimension",
                                                    beacon_dim_names[d], "distinct",
                                                    (json_int_t)e->sl->distinct[d], "top", vals));
        }
        json_array_append_new(codes,
                              json_pack("{s:s,s:I,s:I,s:I,s:f,s:I,s:o}", "code", e->code, "events",
                                        (json_int_t)n, "start_failures", (json_int_t)e->fails,
                                        "playback_errors", (json_int_t)e->errors, "share",
                                        a.events ? (double)n / (double)a.events : 0.0, "unsliced",
                                        (json_int_t)e->unsliced, "slices", slices));
    }
    json_t *o = json_pack("{s:I,s:I,s:i,s:I,s:I,s:o}", "from", (json_int_t)from, "to",
                          (json_int_t)to, "minutes", a.minutes, "events", (json_int_t)a.events,
                          "too_old", (json_int_t)a.too_old, "codes", codes);
    qoe_err_answer_free(&a);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        http_problem(req, 500, "cannot serialize the error codes");
        return;
    }
    http_reply(req, 200, "application/json", text, strlen(text));
    free(text);
}

static void counter(struct oc_buf *b, const char *name, const char *help, double v)
{
    oc_metrics_family(b, name, "counter", help);
    oc_metrics_sample(b, name, NULL, v);
}

/* The cube's counters (named oncue_ingest_* since before the cube moved here). */
static void render_cube(struct oc_buf *b, struct qoe_cube *c)
{
    struct qoe_cube_stats st;
    qoe_cube_stats(c, &st);
    counter(b, "oncue_ingest_events_accepted_total", "Beacon events folded into the cube.",
            (double)st.accepted);
    oc_metrics_family(
        b, "oncue_ingest_values_folded_total", "counter",
        "Events whose dimension value was folded into other (the cap, a closed list).");
    for (int d = 0; d < BEACON_NDIMS; d++) {
        const char *labels[] = {"dim", beacon_dim_names[d], NULL};
        oc_metrics_sample(b, "oncue_ingest_values_folded_total", labels, (double)st.folded[d]);
    }
    oc_metrics_family(b, "oncue_ingest_values_refused_total", "counter",
                      "Events whose new dimension value counted as other: the sender had added"
                      " ingest.new_values_per_minute values this minute.");
    for (int d = 0; d < BEACON_NDIMS; d++) {
        const char *labels[] = {"dim", beacon_dim_names[d], NULL};
        oc_metrics_sample(b, "oncue_ingest_values_refused_total", labels, (double)st.refused[d]);
    }
    oc_metrics_family(b, "oncue_ingest_values_aged_total", "counter",
                      "Dimension values aged out: not seen for ingest.value_idle_s.");
    for (int d = 0; d < BEACON_NDIMS; d++) {
        const char *labels[] = {"dim", beacon_dim_names[d], NULL};
        oc_metrics_sample(b, "oncue_ingest_values_aged_total", labels, (double)st.values_aged[d]);
    }
    counter(b, "oncue_ingest_leaves_folded_total",
            "Events sent to the all-other leaf by a leaf cap.", (double)st.leaves_folded);
    counter(b, "oncue_ingest_sessions_dropped_total",
            "Heartbeats whose session was not counted (per-minute session cap).",
            (double)st.sessions_dropped);
    counter(b, "oncue_ingest_windows_closed_total", "One-minute windows closed.",
            (double)st.minutes_closed);
    counter(b, "oncue_ingest_windows_dropped_total",
            "Closed minutes dropped unwritten because the store was stuck.",
            (double)st.persist_dropped);
    oc_metrics_family(b, "oncue_ingest_windows_pending", "gauge",
                      "Closed minutes waiting to be written to the store.");
    oc_metrics_sample(b, "oncue_ingest_windows_pending", NULL, (double)st.persist_pending);
    oc_metrics_family(b, "oncue_ingest_leaves", "gauge", "Distinct dimension combinations.");
    oc_metrics_sample(b, "oncue_ingest_leaves", NULL, st.leaves);
    oc_metrics_family(b, "oncue_ingest_complete_upto_seconds", "gauge",
                      "Every minute before this is complete: queries and alert rules read it.");
    oc_metrics_sample(b, "oncue_ingest_complete_upto_seconds", NULL,
                      st.complete_upto_s == INT64_MIN ? 0 : (double)st.complete_upto_s);
    counter(b, "oncue_ingest_windows_revised_total",
            "Complete minutes that late events changed before they closed.",
            (double)st.minutes_revised);
    oc_metrics_family(b, "oncue_ingest_closed_upto_seconds", "gauge",
                      "Every minute before this time is closed.");
    oc_metrics_sample(b, "oncue_ingest_closed_upto_seconds", NULL,
                      st.closed_upto_s == INT64_MIN ? 0 : (double)st.closed_upto_s);
}

/* The Prometheus family of a QoE metric, in base units: "_ms" becomes "_seconds" (x 0.001),
 * "_kbps" "_bytes_per_second" (x 125), and a percentile's "_pNN" moves into a "percentile"
 * label ("startup_p95_ms" -> oncue_qoe_startup_seconds{percentile="95"}; promtool keeps the
 * "quantile" label for summaries). Returns the factor; *pct is "" for other metrics. */
static double prom_name(const char *metric, char *name, size_t n, char *pct, size_t pn)
{
    char base[64];
    double scale = 1;
    size_t len = strlen(metric);
    snprintf(base, sizeof base, "%s", metric);
    pct[0] = 0;
    if (len > 3 && strcmp(metric + len - 3, "_ms") == 0) {
        base[len - 3] = 0;
        scale = 0.001;
        char *p = strrchr(base, '_');
        if (p && p[1] == 'p' && p[2] >= '0' && p[2] <= '9') {
            snprintf(pct, pn, "%s", p + 2);
            *p = 0;
        }
        snprintf(name, n, "oncue_qoe_%s_seconds", base);
    } else if (len > 5 && strcmp(metric + len - 5, "_kbps") == 0) {
        base[len - 5] = 0;
        scale = 1000.0 / 8;
        snprintf(name, n, "oncue_qoe_%s_bytes_per_second", base);
    } else {
        snprintf(name, n, "oncue_qoe_%s", base);
    }
    return scale;
}

/* The cube's counters, then gauges of the last closed minute per region x cdn, one family
 * per metric (both startup percentiles in one). */
static void render(struct oc_buf *b, void *arg)
{
    struct qoe_cube *c = arg;
    char name[96], last[96] = "", pct[8], err[200];
    render_cube(b, c);
    struct qoe_query q;
    memset(&q, 0, sizeof q);
    q.to = last_closed(c) + 60;
    q.from = q.to - 60;
    q.step = 60;
    q.ngroup = 2;
    q.group_by[0] = BEACON_REGION, q.group_by[1] = BEACON_CDN;
    q.top = QOE_MAX_TOP;
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *r = NULL;
        q.metric = (enum qoe_metric)m;
        if (qoe_query_run(c, &q, &r, err, sizeof err) != 0)
            continue;
        double scale = prom_name(qoe_metrics[m].name, name, sizeof name, pct, sizeof pct);
        if (strcmp(name, last) != 0)
            oc_metrics_family(b, name, "gauge",
                              "QoE of the last closed minute by region and cdn (base units).");
        snprintf(last, sizeof last, "%s", name);
        for (int s = 0; s < r->nseries; s++) {
            const char *labels[] = {"region",
                                    r->series[s].values[0],
                                    "cdn",
                                    r->series[s].values[1],
                                    pct[0] ? "percentile" : NULL,
                                    pct,
                                    NULL};
            if (!isnan(r->series[s].points[0]))
                oc_metrics_sample(b, name, labels, r->series[s].points[0] * scale);
        }
        qoe_result_destroy(r);
    }
}

/* /metrics: the ClickHouse shipper's counters. */
static void render_ch(struct oc_buf *b, void *arg)
{
    struct qoe_ch_stats st;
    qoe_ch_stats(((struct qoe_module_state *)arg)->ch, &st);
    oc_metrics_family(b, "oncue_qoe_clickhouse_shipped_upto_seconds", "gauge",
                      "Every minute stored before this time is in ClickHouse.");
    oc_metrics_sample(b, "oncue_qoe_clickhouse_shipped_upto_seconds", NULL,
                      (double)st.shipped_upto);
    counter(b, "oncue_qoe_clickhouse_inserts_total", "Minutes inserted into ClickHouse.",
            (double)st.inserts);
    counter(b, "oncue_qoe_clickhouse_rows_total", "Rows inserted into ClickHouse.",
            (double)st.rows);
    counter(b, "oncue_qoe_clickhouse_skipped_total",
            "Minutes found in ClickHouse already (shipped before a crash), not inserted again.",
            (double)st.skipped);
    counter(b, "oncue_qoe_clickhouse_partials_total",
            "Inserts of an open minute's partial rows into ClickHouse.", (double)st.partials);
    counter(b, "oncue_qoe_clickhouse_partial_rows_total", "Partial rows inserted into ClickHouse.",
            (double)st.partial_rows);
    counter(b, "oncue_qoe_clickhouse_failures_total",
            "Requests to ClickHouse that failed (retried every second).", (double)st.failures);
}

/* /metrics: the counters of the cube's filling from ClickHouse. */
static void render_pull(struct oc_buf *b, void *arg)
{
    struct qoe_pull_stats st;
    qoe_pull_stats(((struct qoe_module_state *)arg)->pull, &st);
    oc_metrics_family(b, "oncue_qoe_clickhouse_pulled_upto_seconds", "gauge",
                      "Every whole minute in ClickHouse before this time is in this cube.");
    oc_metrics_sample(b, "oncue_qoe_clickhouse_pulled_upto_seconds", NULL, (double)st.upto);
    counter(b, "oncue_qoe_clickhouse_pulled_total", "Minutes installed from ClickHouse.",
            (double)st.pulled);
    counter(b, "oncue_qoe_clickhouse_pulled_partial_total",
            "Minutes installed from ClickHouse with a collector's partial rows (never closed).",
            (double)st.forced);
    counter(b, "oncue_qoe_clickhouse_pulled_revised_total",
            "Minutes read again from ClickHouse because rows arrived after they were pulled.",
            (double)st.revised);
    counter(b, "oncue_qoe_clickhouse_pull_failures_total",
            "Passes filling the cube from ClickHouse that failed (retried every second).",
            (double)st.failures);
}

/* Appends name to the comma-separated list b unless it is there already or is not a value
 * (NULL, "", "*"). */
static void list_add(struct oc_buf *b, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (!n || strcmp(name, "*") == 0)
        return;
    for (const char *p = b->len ? b->data : ""; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && memcmp(p, name, n) == 0)
            return;
        p += k + (p[k] == ',');
    }
    oc_buf_printf(b, "%s%s", b->len ? "," : "", name);
}

/* Makes list (b, comma-separated) the closed list of dimension d from the steering policy,
 * logging it; an empty list leaves d open. */
static void close_from_steering(struct qoe_cube *c, int d, const struct oc_buf *b)
{
    const char *setting = d == BEACON_CDN ? "ingest.cdns" : "ingest.regions";
    char err[160];
    if (qoe_cube_set_closed(c, d, b->len ? b->data : "", setting, err, sizeof err) != 0)
        oc_log(OC_LOG_ERROR, "qoe: the steering policy's %s: %s",
               d == BEACON_CDN ? "pathways" : "regions", err);
    else
        oc_log(OC_LOG_INFO, "qoe: %s values kept (%s=steering): %s",
               d == BEACON_CDN ? "cdn" : "region", setting,
               b->len ? b->data
                      : (d == BEACON_CDN ? "any (the policy has no pathways)"
                                         : "any (steering names no region)"));
}

/* ingest.cdns "steering": the closed cdn list becomes the pathways and clone ids of the
 * steering policy doc (borrowed); a policy without pathways leaves cdn open. */
static void cdns_from_policy(struct qoe_cube *c, const json_t *doc)
{
    struct oc_buf b;
    size_t i;
    oc_buf_init(&b, 64 * 1024);
    const json_t *pathways = json_object_get(doc, "pathways"), *clones;
    clones = json_object_get(doc, "clones");
    for (i = 0; i < json_array_size(pathways); i++)
        list_add(&b, json_string_value(json_array_get(pathways, i)));
    for (i = 0; i < json_array_size(clones); i++)
        list_add(&b, json_string_value(json_object_get(json_array_get(clones, i), "id")));
    close_from_steering(c, BEACON_CDN, &b);
    oc_buf_free(&b);
}

/* ingest.regions "steering": the closed region list becomes the regions of steering's region
 * map (map, comma-separated; may be NULL) and those the policy doc (borrowed) names in its
 * rules, flags and auto.regions; none at all leaves region open. */
static void regions_from_policy(struct qoe_cube *c, const char *map, const json_t *doc)
{
    struct oc_buf b;
    size_t i;
    char one[QOE_MAX_DIM_VALUE + 1];
    oc_buf_init(&b, 64 * 1024);
    for (const char *p = map ? map : ""; *p;) {
        size_t k = strcspn(p, ",");
        snprintf(one, sizeof one, "%.*s", (int)(k < QOE_MAX_DIM_VALUE ? k : QOE_MAX_DIM_VALUE), p);
        list_add(&b, one);
        p += k + (p[k] == ',');
    }
    const char *lists[] = {"rules", "flags"};
    for (int l = 0; l < 2; l++) {
        const json_t *arr = json_object_get(doc, lists[l]);
        for (i = 0; i < json_array_size(arr); i++)
            list_add(&b, json_string_value(json_object_get(json_array_get(arr, i), "region")));
    }
    const json_t *auto_regions = json_object_get(json_object_get(doc, "auto"), "regions");
    for (i = 0; i < json_array_size(auto_regions); i++)
        list_add(&b, json_string_value(json_array_get(auto_regions, i)));
    close_from_steering(c, BEACON_REGION, &b);
    oc_buf_free(&b);
}

/* steer.policy_changed: a closed cdn or region list taken from the policy follows it. */
static void on_policy(const char *topic, const json_t *payload, void *state)
{
    struct qoe_module_state *ms = state;
    struct oc_ev_policy ev;
    (void)topic;
    if (oc_ev_policy_read(payload, &ev) != 0)
        return;
    if (ms->cdns_from_steering)
        cdns_from_policy(ms->cube, ev.policy);
    if (ms->regions_from_steering)
        regions_from_policy(ms->cube, ms->map_regions, ev.policy);
}

static int is_steering(const char *setting)
{
    return setting && strcmp(setting, QOE_CLOSED_FROM_STEERING) == 0;
}

/* ingest.cdns or ingest.regions "steering": the lists from the steering policy in force (steer
 * starts first; later changes come on the bus); *map (owned) gets the region map's regions. */
static void close_lists_from_steering(struct oc_app *app, struct qoe_cube *c,
                                      const struct qoe_cube_opts *o, char **map /* OUT */)
{
    const struct oc_policy_host *host = oc_app_find(app, OC_PROVIDES_POLICY_HOST);
    json_t *doc = host ? host->policy(app) : NULL;
    *map = host && is_steering(o->closed_regions) ? host->regions(app) : NULL;
    if (!doc) {
        oc_log(OC_LOG_WARN,
               "qoe: ingest.%s=steering but the steer module is not running: any "
               "value is kept until a steer.policy_changed event",
               is_steering(o->closed_cdns) ? "cdns" : "regions");
        return;
    }
    if (is_steering(o->closed_cdns))
        cdns_from_policy(c, doc);
    if (is_steering(o->closed_regions))
        regions_from_policy(c, *map, doc);
    json_decref(doc);
}

/* Creates the cube, loads what the store holds, and provides it to the other modules. */
static int qoe_init(struct oc_app *app, void **state)
{
    struct qoe_cube_opts o;
    char err[256];
    o = *(const struct qoe_cube_opts *)config_module_opts(app->cfg, &qoe_module, &o);
    struct qoe_cube *c = qoe_cube_new(&o, app->clock);
    /* a cube filled from ClickHouse is a cache of it: nothing of it is loaded or stored (two
     * replicas on one PostgreSQL store would write each other's dictionaries) */
    if (app->store && !o.clickhouse_pull && qoe_cube_load(c, app->store, err, sizeof err) != 0) {
        oc_log(OC_LOG_ERROR, "qoe: cannot load the stored cube: %s", err);
        qoe_cube_destroy(c);
        return OC_EDB;
    }
    if (qoe_cube_close_lists(c, err, sizeof err) != 0) {
        oc_log(OC_LOG_ERROR, "qoe: %s", err);
        qoe_cube_destroy(c);
        return OC_EINVAL;
    }
    char *map = NULL;
    if (is_steering(o.closed_cdns) || is_steering(o.closed_regions))
        close_lists_from_steering(app, c, &o, &map);
    int rc = oc_app_provide(app, QOE_PROVIDES_CUBE, c);
    if (rc != 0) {
        qoe_cube_destroy(c);
        free(map);
        return rc;
    }
    if ((o.clickhouse_ship || o.clickhouse_query || o.clickhouse_pull) &&
        (!o.clickhouse_url || !o.clickhouse_url[0] ||
         qoe_ch_valid(o.clickhouse_url, o.clickhouse_table ? o.clickhouse_table : "",
                      o.clickhouse_cluster, err, sizeof err) != 0)) {
        oc_log(OC_LOG_ERROR, "qoe: %s",
               o.clickhouse_url && o.clickhouse_url[0]
                   ? err
                   : "qoe.clickhouse_ship, qoe.clickhouse_query and qoe.clickhouse_pull need "
                     "qoe.clickhouse_url");
        oc_app_withdraw(app, QOE_PROVIDES_CUBE);
        qoe_cube_destroy(c);
        free(map);
        return OC_EINVAL;
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, c);
    struct qoe_module_state *ms = oc_calloc(1, sizeof *ms);
    ms->cube = c;
    ms->o = o;
    ms->cdns_from_steering = is_steering(o.closed_cdns);
    ms->regions_from_steering = is_steering(o.closed_regions);
    ms->map_regions = map;
    if (o.clickhouse_ship && app->store)
        ms->ch = qoe_ch_start(o.clickhouse_url, o.clickhouse_table, o.clickhouse_cluster,
                              o.clickhouse_partial_s, c, app->store);
    if (app->metrics && ms->ch)
        oc_metrics_register(app->metrics, render_ch, ms);
    if (o.clickhouse_pull)
        ms->pull =
            qoe_pull_start(o.clickhouse_url, o.clickhouse_table, c, app->clock, o.memory_minutes);
    if (app->metrics && ms->pull)
        oc_metrics_register(app->metrics, render_pull, ms);
    ms->max_cells = o.query_max_cells;
    ms->max_answer_bytes = o.query_max_answer_bytes;
    oc_memo_init(&ms->dims);
    ms->pool = qoe_pool_new(ms, (int)o.query_threads, (int)o.query_queue);
    *state = ms;
    return 0;
}

/* Every second: close the minutes the clock says are due, age out idle dimension values (once
 * a minute) and write both to the store. */
static void close_timer(struct oc_app *app, void *state)
{
    struct qoe_module_state *ms = state;
    struct qoe_cube *c = ms->cube;
    qoe_cube_tick(c);
    qoe_cube_sweep(c, oc_clock_now_s(app->clock));
    if (ms->o.clickhouse_pull)
        qoe_cube_persist_none(c);
    else if (app->store && qoe_cube_persist(c, app->store) > 0)
        qoe_ch_wake(ms->ch);
}

/* Every minute: roll stored minutes up and apply retention. */
static void compact_timer(struct oc_app *app, void *state)
{
    struct qoe_module_state *ms = state;
    int64_t now = oc_clock_now_s(app->clock);
    if (ms->ch) { /* a collector rolls up and deletes only minutes ClickHouse has */
        struct qoe_ch_stats st;
        qoe_ch_stats(ms->ch, &st);
        if (st.shipped_upto + ms->o.rollup_5m_after_s < now)
            now = st.shipped_upto + ms->o.rollup_5m_after_s;
    }
    if (app->store && !ms->o.clickhouse_pull)
        qoe_cube_compact(ms->cube, app->store, now);
}

static void qoe_stop(struct oc_app *app, void *state)
{
    struct qoe_module_state *ms = state;
    qoe_pool_destroy(ms->pool); /* before the cube: the threads query it */
    qoe_pull_stop(ms->pull);    /* likewise: it installs minutes */
    oc_app_withdraw(app, QOE_PROVIDES_CUBE);
    qoe_cube_flush(ms->cube);
    if (app->store && !ms->o.clickhouse_pull)
        qoe_cube_persist(ms->cube, app->store);
    qoe_ch_stop(ms->ch); /* ships what was just stored, then ends */
    qoe_cube_destroy(ms->cube);
    oc_memo_free(&ms->dims);
    free(ms->map_regions);
    free(ms);
}

/* Timer names keep their ingest.* spelling: logs and docs refer to them. */
static const struct oc_module_timer timers[] = {
    {"ingest.close_minutes", 1000, close_timer},
    {"ingest.compact", 60000, compact_timer},
    {0},
};

static const struct http_route routes[] = {
    {"GET", "/v1/qoe", get_qoe, HTTP_VIEWER, 0,
     "a QoE metric over a range: metric, from, to, step, filter, group_by, top"},
    {"GET", "/v1/qoe/dimensions", get_dimensions, HTTP_VIEWER, 0,
     "the dimensions, their distinct counts and top values over the last hour"},
    {"GET", "/v1/qoe/errors", get_errors, HTTP_VIEWER, 0,
     "the players' error codes by count over the last hour, each with the values it came from"},
    {"GET", "/api/v1/query", qoe_prom_query, HTTP_VIEWER, 0,
     "Prometheus API: a PromQL-subset query at one time (docs/internals/promql.md)"},
    {"POST", "/api/v1/query", qoe_prom_query, HTTP_VIEWER, PROM_MAX_BODY,
     "Prometheus API: the same, parameters as a form body (Grafana)"},
    {"GET", "/api/v1/query_range", qoe_prom_query_range, HTTP_VIEWER, 0,
     "Prometheus API: a PromQL-subset query over start, end, step (a matrix)"},
    {"POST", "/api/v1/query_range", qoe_prom_query_range, HTTP_VIEWER, PROM_MAX_BODY,
     "Prometheus API: the same, parameters as a form body (Grafana)"},
    {"GET", "/api/v1/labels", qoe_prom_labels, HTTP_VIEWER, 0,
     "Prometheus API: the label names (__name__ and the QoE dimensions)"},
    {"POST", "/api/v1/labels", qoe_prom_labels, HTTP_VIEWER, PROM_MAX_BODY,
     "Prometheus API: the same as a POST (Grafana)"},
    {"GET", "/api/v1/label/{name}/values", qoe_prom_label_values, HTTP_VIEWER, 0,
     "Prometheus API: the metric names (__name__) or a dimension's values"},
    {"GET", "/api/v1/series", qoe_prom_series, HTTP_VIEWER, 0,
     "Prometheus API: the series of match[] selectors (name and equality labels)"},
    {"POST", "/api/v1/series", qoe_prom_series, HTTP_VIEWER, PROM_MAX_BODY,
     "Prometheus API: the same, match[] in a form body (Grafana)"},
    {"GET", "/api/v1/metadata", qoe_prom_metadata, HTTP_VIEWER, 0,
     "Prometheus API: type and help of each QoE metric"},
    {"GET", "/api/v1/status/buildinfo", qoe_prom_buildinfo, HTTP_VIEWER, 0,
     "Prometheus API: the Prometheus API version served (Grafana probes it)"},
    {0},
};

static const struct oc_module_sub subs[] = {
    {OC_TOPIC_STEER_POLICY_CHANGED, on_policy},
    {0},
};

const struct oc_module qoe_module = {
    .name = "qoe",
    .subs = subs,
    .summary = "the per-minute QoE cube and its queries: GET /v1/qoe, dimensions, gauges",
    .init = qoe_init,
    .routes = routes,
    .timers = timers,
    .stop = qoe_stop,
    .settings = qoe_cube_settings,
    .opts_size = sizeof(struct qoe_cube_opts),
};
