/*
 * prom.c - the Prometheus-compatible query API over the QoE cube: /api/v1/query,
 * /api/v1/query_range, labels, label values, series, metadata and buildinfo, answering the
 * Prometheus HTTP API's JSON envelope so Grafana's Prometheus data source and `promtool
 * query` work against oncue. A query (promql.h) becomes one qoe_query: matchers become the
 * filter, `sum by` the group-by; the cost is checked as for GET /v1/qoe before it runs.
 * See docs/internals/promql.md.
 */
#include "qoe/promql.h"
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/decode.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "http/http.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_PARAMS  64       /* parameters of a request, query string and form */
#define PROM_MAX_VALUES  100000   /* label values listed by /api/v1/label/NAME/values */
#define PROM_API_VERSION "2.42.0" /* the Prometheus HTTP API level answered */
#define PROM_FORM        "application/x-www-form-urlencoded"

struct params {
    int n;
    const char *k[PROM_MAX_PARAMS], *v[PROM_MAX_PARAMS]; /* decoded, in the request's arena */
};

/* Adds the pairs of a query string or form body s[0..len) to ps. 0, or OC_EMALFORMED. */
static int parse_pairs(struct http_req *req, const char *s, size_t len, struct params *ps)
{
    const char *end = s + len;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s)), *stop = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(stop - s)), *kend = eq ? eq : stop;
        if (stop > s) {
            if (ps->n >= PROM_MAX_PARAMS)
                return OC_EMALFORMED;
            size_t kn = (size_t)(kend - s), vn = eq ? (size_t)(stop - eq - 1) : 0;
            char *k = oc_arena_alloc(&req->arena, kn + 1), *v = oc_arena_alloc(&req->arena, vn + 1);
            if (!k || !v)
                return OC_ETOOBIG;
            if (oc_percent_decode(s, kn, OC_PCT_PLUS, k, kn + 1, NULL) != 0 ||
                oc_percent_decode(eq ? eq + 1 : "", vn, OC_PCT_PLUS, v, vn + 1, NULL) != 0)
                return OC_EMALFORMED;
            ps->k[ps->n] = k, ps->v[ps->n++] = v;
        }
        s = stop + 1;
    }
    return 0;
}

/* The query string's and, for a form POST, the body's parameters. A POST here only reads:
 * it is not audited. */
static int read_params(struct http_req *req, struct params *ps)
{
    http_skip_audit(req);
    const char *qs = http_query_string(req), *ct = http_header(req, "Content-Type");
    int rc = qs ? parse_pairs(req, qs, strlen(qs), ps) : 0;
    if (rc == 0 && strcmp(req->method, "POST") == 0 && ct &&
        strncmp(ct, PROM_FORM, strlen(PROM_FORM)) == 0)
        rc = parse_pairs(req, req->body, req->body_len, ps);
    return rc;
}

static const char *param(const struct params *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->k[i], name) == 0)
            return ps->v[i];
    return NULL;
}

/* Appends s as a JSON string; nonzero when b hit its cap. */
static int json_str(struct oc_buf *b, const char *s)
{
    int rc = oc_buf_puts(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc |= oc_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            rc |= oc_buf_printf(b, "\\u%04x", c);
        else
            rc |= oc_buf_append(b, s, 1);
    }
    return rc | oc_buf_puts(b, "\"");
}

/* Appends [t,"v"], v as Prometheus writes it (the shortest decimal that reads back, NaN,
 * +Inf); nonzero when b hit its cap. */
static int json_point(struct oc_buf *b, int64_t t, double v)
{
    char s[40];
    if (isnan(v))
        snprintf(s, sizeof s, "NaN");
    else if (isinf(v))
        snprintf(s, sizeof s, "%sInf", v > 0 ? "+" : "-");
    else
        for (int prec = 15; prec <= 17; prec++)
            if (snprintf(s, sizeof s, "%.*g", prec, v) > 0 && strtod(s, NULL) == v)
                break;
    return oc_buf_printf(b, "[%lld,\"%s\"]", (long long)t, s);
}

/* Writes the error envelope into b (emptied first) and returns its status: 400 bad_data for a
 * request that does not parse, 422 execution for one that parses but cannot run (a cap), 503
 * unavailable for the store or a full queue (OC_EDB, OC_EBUSY). */
static int error_body(struct oc_buf *b, int rc, const char *msg)
{
    int status = rc == OC_EMALFORMED || rc == OC_EINVAL ? 400
                 : rc == OC_EDB || rc == OC_EBUSY       ? 503
                                                        : 422;
    const char *type = status == 400 ? "bad_data" : status == 503 ? "unavailable" : "execution";
    oc_buf_reset(b);
    oc_buf_printf(b, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", type);
    json_str(b, msg);
    oc_buf_puts(b, "}\n");
    return status;
}

/* Answers the error envelope of rc and msg (error_body) on the worker. */
static void prom_error(struct http_req *req, int rc, const char *msg)
{
    struct oc_buf b;
    oc_buf_init(&b, 8192);
    int status = error_body(&b, rc, msg);
    http_reply(req, status, "application/json", b.data, b.len);
    oc_buf_free(&b);
}

/* The status of a success envelope written into b: 200, or 422 (its envelope replacing b's
 * content) when it hit the byte cap. */
static int ok_body(struct oc_buf *b, int overflow, int64_t cap)
{
    char msg[256];
    if (!overflow)
        return 200;
    snprintf(msg, sizeof msg,
             "the answer is over qoe.query_max_answer_bytes (%lld): use a larger step, a "
             "shorter range, fewer groups (topk) or narrower matchers",
             (long long)cap);
    return error_body(b, OC_ETOOBIG, msg);
}

/* Answers the success envelope in data on the worker, or 422 past the byte cap (ok_body). */
static void prom_ok(struct http_req *req, struct oc_buf *data, int overflow, int64_t cap)
{
    int status = ok_body(data, overflow, cap);
    http_reply(req, status, "application/json", data->data, data->len);
}

/* A time as Prometheus takes it (unix seconds with a fraction, RFC 3339) or as GET /v1/qoe
 * does (now-1h); floored to the minute, as QoE points are per minute. */
static int prom_time(const char *name, const char *s, int64_t now_s, int64_t *out, char *err,
                     size_t n)
{
    char *end, why[160];
    double v = strtod(s, &end);
    if (*s && !*end && (s[0] >= '0' && s[0] <= '9')) {
        if (!(v >= 0 && v <= (double)QOE_MAX_TIME))
            return snprintf(err, n, "%s: %.40s is out of range", name, s), OC_EMALFORMED;
        *out = (int64_t)v;
    } else if (oc_time_param(s, now_s, out, why, sizeof why) != 0) {
        return snprintf(err, n, "%s: cannot parse %.40s: %s", name, s, why), OC_EMALFORMED;
    }
    *out -= *out % 60;
    return 0;
}

/* A step: seconds (with a fraction) or a duration ("60s", "5m"); rounded up to a whole
 * number of minutes (at least one). */
static int prom_step(const char *s, int64_t *out, char *err, size_t n)
{
    char *end;
    double v = strtod(s, &end);
    if (*s && !*end && s[0] >= '0' && s[0] <= '9' && v > 0 && v <= (double)QOE_MAX_TIME)
        *out = (int64_t)ceil(v);
    else if (oc_duration_parse(s, out) != 0 || *out <= 0)
        return snprintf(err, n, "step: cannot parse %.40s as seconds or a duration", s),
               OC_EMALFORMED;
    *out = (*out + 59) / 60 * 60;
    return 0;
}

/* How many values of dimension d all of e's matchers on d accept (filling q's filter with
 * them when add); -1 when e has no matcher on d. */
static int select_values(struct qoe_cube *c, const struct promql_expr *e, int d,
                         struct qoe_query *q, int add)
{
    int any = 0, count = 0;
    for (int i = 0; i < e->nmatchers; i++)
        any |= e->m[i].dim == d;
    if (!any)
        return -1;
    uint32_t nv = qoe_cube_nvalues(c, d);
    for (uint32_t id = 0; id < nv; id++) {
        const char *v = qoe_cube_value(c, d, id);
        int ok = *v != 0; /* "": an id free since its value aged out */
        for (int i = 0; ok && i < e->nmatchers; i++)
            ok = e->m[i].dim != d || promql_match(&e->m[i], v);
        if (ok && add && q->nfilters < QOE_MAX_FILTERS)
            q->filters[q->nfilters++] = (struct qoe_filter){d, v};
        count += ok;
    }
    return count;
}

/* Turns e's matchers into q's filter: per dimension, the dictionary values every matcher on
 * it accepts (no filter when all do). *empty when some dimension accepts none. *groups gets
 * an upper bound on the groups the query can answer. 0, or OC_EINVAL past QOE_MAX_FILTERS. */
static int apply_matchers(struct qoe_cube *c, const struct promql_expr *e, struct qoe_query *q,
                          int *empty, int64_t *groups, char *err, size_t n)
{
    *empty = 0;
    *groups = 1;
    for (int d = 0; d < BEACON_NDIMS; d++) {
        int k = select_values(c, e, d, q, 0);
        int64_t nv = qoe_cube_nvalues(c, d);
        if (k == 0)
            *empty = 1;
        if (e->group_mask & (1u << d) && *groups <= QOE_MAX_TOP)
            *groups *= k > 0 ? k : nv;
        if (k <= 0 || k == nv)
            continue;
        if (q->nfilters + k > QOE_MAX_FILTERS)
            return snprintf(err, n,
                            "label %s: the matchers select %d values, more than the %d a query "
                            "may filter on in all: narrow the regex",
                            beacon_dim_names[d], k, QOE_MAX_FILTERS),
                   OC_EINVAL;
        select_values(c, e, d, q, 1);
    }
    if (*groups > QOE_MAX_TOP)
        *groups = QOE_MAX_TOP;
    if (*groups < 1)
        *groups = 1;
    return 0;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Lowers *groups to the number of groups q finds over its range (one point of plays, whose
 * groups are those with rows), so that the cost check and the percentile cap count the groups
 * that exist rather than the product of the dictionaries. 0, or qoe_query_run's error. */
static int count_groups(struct qoe_cube *c, const struct qoe_query *q, int64_t *groups, char *err,
                        size_t n)
{
    struct qoe_query cq = *q;
    struct qoe_result *r = NULL;
    cq.metric = QOE_PLAYS;
    cq.step = cq.to - cq.from;
    cq.top = QOE_MAX_TOP;
    int rc = qoe_query_run(c, &cq, &r, err, n);
    if (rc == 0 && r->nseries < *groups)
        *groups = r->nseries > 0 ? r->nseries : 1;
    qoe_result_destroy(r);
    return rc;
}

struct prom_window {
    int64_t start, end, step; /* evaluation times start, start + step, ... <= end */
    int instant;              /* /api/v1/query: one point, answered as a vector */
};

/* Keeps, at each point, only the n largest values (ties: the earlier series). */
static void keep_topk(struct qoe_result *r, int n)
{
    double *vals = oc_calloc((size_t)r->nseries + 1, sizeof *vals);
    for (int k = 0; k < r->npoints; k++) {
        int m = 0;
        for (int s = 0; s < r->nseries; s++)
            if (!isnan(r->series[s].points[k]))
                vals[m++] = r->series[s].points[k];
        if (m <= n)
            continue;
        /* the n-th largest: n passes of "largest below the previous" would be O(n * m); a
         * sort is O(m log m) and m is bounded by the cost check */
        qsort(vals, (size_t)m, sizeof *vals, cmp_desc);
        double cut = vals[n - 1];
        int ties = 0; /* values equal to cut that still fit */
        for (int i = 0; i < n; i++)
            ties += vals[i] == cut;
        for (int s = 0; s < r->nseries; s++) {
            double *v = &r->series[s].points[k];
            if (isnan(*v) || *v > cut)
                continue;
            if (*v == cut && ties > 0)
                ties--;
            else
                *v = NAN;
        }
    }
    free(vals);
}

/* The labels of series s: __name__ and the equality matchers' labels for a selector (sum
 * drops the name, as in Prometheus), then the group's labels. */
static int emit_labels(struct oc_buf *b, const struct promql_expr *e, const struct qoe_query *q,
                       const struct qoe_series *s)
{
    char name[96];
    int rc = oc_buf_puts(b, "{"), first = 1;
    if (e->kind == PROMQL_SELECTOR) {
        promql_metric_name(e->metric, name, sizeof name);
        rc |= oc_buf_puts(b, "\"__name__\":") | json_str(b, name);
        first = 0;
        for (int i = 0; i < e->nmatchers; i++) {
            int seen = 0;
            for (int j = 0; j < i; j++)
                seen |= e->m[j].op == PROMQL_EQ && e->m[j].dim == e->m[i].dim;
            if (e->m[i].op != PROMQL_EQ || seen)
                continue;
            rc |= oc_buf_puts(b, ",") | json_str(b, beacon_dim_names[e->m[i].dim]);
            rc |= oc_buf_puts(b, ":") | json_str(b, e->m[i].value);
        }
    }
    for (int g = 0; s && g < q->ngroup; g++) {
        rc |= oc_buf_puts(b, first ? "" : ",") | json_str(b, beacon_dim_names[q->group_by[g]]);
        rc |= oc_buf_puts(b, ":") | json_str(b, s->values[g]);
        first = 0;
    }
    return rc | oc_buf_puts(b, "}");
}

/* The success envelope of a result written a part at a time (a long one is streamed as it is
 * formatted, qpool.c): a matrix, or a vector for an instant query; series without a value
 * are left out, as are null points. Each series' labels are written when the writer is made
 * (a group value may age out of the cube's dictionary while a slow client reads), each
 * series' points freed once written. */
struct prom_writer {
    struct qoe_result *r;   /* owned; NULL: no series */
    char **head;            /* per series: its text up to its points, NULL when left out */
    struct prom_window w;   /* the evaluation times */
    int s, k, n;            /* the next series and point; points written of series s */
    int started, in_series; /* the envelope's head, and series s's, are written */
    int first, done;        /* no series written yet; the whole answer is written */
};

static struct prom_writer *prom_writer_new(const struct promql_expr *e, const struct qoe_query *q,
                                           struct qoe_result *r, const struct prom_window *w)
{
    struct prom_writer *pw = oc_calloc(1, sizeof *pw);
    pw->r = r;
    pw->w = *w;
    pw->first = 1;
    pw->head = oc_calloc(r && r->nseries ? (size_t)r->nseries : 1, sizeof *pw->head);
    for (int s = 0; r && s < r->nseries; s++) {
        int any = 0;
        for (int k = 0; k < r->npoints; k++)
            any |= !isnan(r->series[s].points[k]);
        if (!any)
            continue;
        struct oc_buf b;
        oc_buf_init(&b, (size_t)1 << 20); /* labels of a group: far under it */
        oc_buf_puts(&b, "{\"metric\":");
        emit_labels(&b, e, q, &r->series[s]);
        oc_buf_puts(&b, w->instant ? ",\"value\":" : ",\"values\":[");
        pw->head[s] = oc_buf_steal(&b);
    }
    return pw;
}

static void prom_writer_free(void *arg)
{
    struct prom_writer *pw = arg;
    for (int s = 0; pw->r && s < pw->r->nseries; s++)
        free(pw->head[s]);
    free(pw->head);
    qoe_result_destroy(pw->r);
    free(pw);
}

/* The qoe_part_fn of a prom_writer. */
static int prom_writer_next(void *arg, struct oc_buf *b, size_t upto)
{
    struct prom_writer *pw = arg;
    const struct qoe_result *r = pw->r;
    int rc = 0;
    if (!pw->started) {
        rc = oc_buf_printf(b,
                           "{\"status\":\"success\",\"data\":{\"resultType\":\"%s\","
                           "\"result\":[",
                           pw->w.instant ? "vector" : "matrix");
        pw->started = 1;
    }
    while (rc == 0 && !pw->done && b->len < upto) {
        if (!r || pw->s == r->nseries) {
            rc = oc_buf_puts(b, "]}}\n");
            pw->done = 1;
            break;
        }
        if (!pw->head[pw->s]) { /* no value: left out */
            pw->s++;
            continue;
        }
        if (!pw->in_series) {
            rc = (pw->first ? 0 : oc_buf_puts(b, ",")) | oc_buf_puts(b, pw->head[pw->s]);
            pw->in_series = 1;
            pw->first = 0;
            pw->k = pw->n = 0;
        }
        for (; rc == 0 && pw->k < r->npoints && b->len < upto; pw->k++) {
            double v = r->series[pw->s].points[pw->k];
            if (isnan(v))
                continue;
            rc = (pw->n++ ? oc_buf_puts(b, ",") : 0) |
                 json_point(b, pw->w.start + pw->k * pw->w.step, v);
        }
        if (rc == 0 && pw->k == r->npoints) {
            rc = oc_buf_puts(b, pw->w.instant ? "}" : "]}");
            free(r->series[pw->s].points);
            r->series[pw->s].points = NULL;
            pw->in_series = 0;
            pw->s++;
        }
    }
    return rc ? OC_ETOOBIG : pw->done;
}

/* A constant: a scalar for an instant query, one series without labels over a range. */
static int emit_scalar(struct oc_buf *b, double v, const struct prom_window *w)
{
    if (w->instant)
        return oc_buf_puts(b, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
                              "\"result\":") |
               json_point(b, w->start, v) | oc_buf_puts(b, "}}\n");
    int rc = oc_buf_puts(b, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                            "\"result\":[{\"metric\":{},\"values\":[");
    for (int64_t t = w->start; t <= w->end && rc == 0; t += w->step)
        rc |= (t > w->start ? oc_buf_puts(b, ",") : 0) | json_point(b, t, v);
    return rc | oc_buf_puts(b, "]}]}}\n");
}

/* Builds the qoe_query of e over w: point k is the metric over the step that ends at
 * w->start + k * step. 0 (with *empty when the matchers select nothing), OC_EINVAL with a
 * reason (a cap). */
static int build_query(struct qoe_module_state *ms, int64_t mem_cap, const struct promql_expr *e,
                       const struct prom_window *w, struct qoe_query *q, int *empty, char *err,
                       size_t n)
{
    int64_t groups, points = (w->end - w->start) / w->step + 1;
    memset(q, 0, sizeof *q);
    q->metric = (enum qoe_metric)e->metric;
    q->step = w->step;
    q->from = w->start - w->step;
    q->to = q->from + points * w->step;
    q->top = QOE_MAX_TOP;
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (e->group_mask & (1u << d))
            q->group_by[q->ngroup++] = d;
    int rc = apply_matchers(ms->cube, e, q, empty, &groups, err, n);
    if (rc == 0 && q->ngroup && !*empty)
        rc = count_groups(ms->cube, q, &groups, err, n);
    q->top = (int)groups; /* every group (percentiles' cells count top x points) */
    if (rc == 0)
        rc = qoe_query_check(q, err, n);
    if (rc == 0)
        rc = qoe_cost_check(ms, mem_cap, q, q->ngroup ? groups : 1, err, n);
    return rc;
}

/* The evaluation window of a request: time (instant; default now) or start, end, step. */
static int read_window(const struct params *ps, int instant, int64_t now_s, struct prom_window *w,
                       char *err, size_t n)
{
    const char *t = param(ps, "time"), *start = param(ps, "start"), *end = param(ps, "end");
    const char *step = param(ps, "step");
    int rc;
    memset(w, 0, sizeof *w);
    w->instant = instant;
    if (instant) {
        w->step = 60;
        w->start = now_s - now_s % 60;
        rc = t ? prom_time("time", t, now_s, &w->start, err, n) : 0;
        w->end = w->start;
        if (rc == 0 && w->start < 60)
            return snprintf(err, n, "time: must be at least a minute after 1970-01-01"),
                   OC_EMALFORMED;
        return rc;
    }
    if (!start || !end || !step)
        return snprintf(err, n, "%s: required",
                        !start ? "start"
                        : !end ? "end"
                               : "step"),
               OC_EMALFORMED;
    if ((rc = prom_time("start", start, now_s, &w->start, err, n)) != 0 ||
        (rc = prom_time("end", end, now_s, &w->end, err, n)) != 0 ||
        (rc = prom_step(step, &w->step, err, n)) != 0)
        return rc;
    if (w->end < w->start)
        return snprintf(err, n, "end: must not be before start"), OC_EMALFORMED;
    if (w->start < w->step) /* point k covers the step that ends at start + k * step */
        return snprintf(err, n, "start: must be at least one step after 1970-01-01"), OC_EMALFORMED;
    if ((w->end - w->start) / w->step + 1 > QOE_MAX_POINTS)
        return snprintf(err, n,
                        "exceeded maximum resolution of %d points per timeseries: use a "
                        "larger step",
                        QOE_MAX_POINTS),
               OC_EMALFORMED;
    return 0;
}

/* One PromQL query, from the worker that parsed it to the thread that runs it. */
struct prom_job {
    struct promql_expr *e; /* owned */
    struct prom_window w;
    int64_t mem_cap; /* the request's http.request_memory_bytes */
    int whole;       /* answer whole, never as a stream (HEAD) */
};

static void job_free(struct prom_job *j)
{
    free(j->e);
    free(j);
}

/* Counts the groups of j, checks its cost and runs it: 0 and the writer of its answer in *pw
 * (NULL for a constant, whose answer emit_scalar writes), or the status of the error envelope
 * written into b. Any thread. */
static int evaluate(struct qoe_module_state *ms, const struct prom_job *j, struct oc_buf *b,
                    struct prom_writer **pw /* OUT */)
{
    struct qoe_result *r = NULL;
    struct qoe_query q;
    char err[1400];
    int empty = 0, rc;
    *pw = NULL;
    if (j->e->kind == PROMQL_SCALAR)
        return 0;
    if ((rc = build_query(ms, j->mem_cap, j->e, &j->w, &q, &empty, err, sizeof err)) != 0 ||
        (!empty && (rc = qoe_query_run(ms->cube, &q, &r, err, sizeof err)) != 0)) {
        qoe_result_destroy(r);
        return error_body(b, rc == OC_EDB ? OC_EDB : OC_ETOOBIG, err); /* 503, or 422: a cap */
    }
    if (r && j->e->topk)
        keep_topk(r, j->e->topk);
    *pw = prom_writer_new(j->e, &q, r, &j->w);
    return 0;
}

/* Evaluates j and writes its whole answer into b (capped at qoe.query_max_answer_bytes);
 * returns the answer's status. */
static int evaluate_whole(struct qoe_module_state *ms, const struct prom_job *j, struct oc_buf *b)
{
    struct prom_writer *pw;
    int status = evaluate(ms, j, b, &pw);
    if (status)
        return status;
    if (!pw)
        return ok_body(b, emit_scalar(b, j->e->value, &j->w), ms->max_answer_bytes);
    status = ok_body(b, prom_writer_next(pw, b, SIZE_MAX) < 0, ms->max_answer_bytes);
    prom_writer_free(pw);
    return status;
}

/* The qoe_pool_fn of a PromQL query: evaluates arg (a prom_job) and answers later, a long
 * answer as a stream (qoe_answer_parts). */
static size_t evaluate_later(struct qoe_module_state *ms, void *arg, struct http_later *later)
{
    struct prom_job *j = arg;
    struct prom_writer *pw = NULL;
    struct oc_buf b;
    size_t len = 0;
    oc_buf_init(&b, (size_t)ms->max_answer_bytes);
    int status = evaluate(ms, j, &b, &pw);
    if (status == 0 && !pw) /* a constant */
        status = ok_body(&b, emit_scalar(&b, j->e->value, &j->w), ms->max_answer_bytes);
    else if (status == 0 && qoe_answer_parts(ms, later, j->whole, prom_writer_next,
                                             prom_writer_free, pw, &len) == 0)
        status = -1; /* answered */
    else if (status == 0)
        status = ok_body(&b, 1, ms->max_answer_bytes);
    if (status > 0) { /* handed over, not copied: the worker sends it from this buffer */
        len = b.len;
        http_later_reply_take(later, status, "application/json", oc_buf_steal(&b), len);
    }
    oc_buf_free(&b);
    job_free(j);
    return len;
}

/* Parses one query of req on its worker, then has a query thread (qoe.query_threads) count
 * its groups, check its cost, run it and answer; with no threads, or the server stopping, the
 * worker does. */
static void run(struct http_req *req, int instant)
{
    struct qoe_module_state *ms = req->state;
    struct params ps = {0};
    struct prom_job *j = oc_calloc(1, sizeof *j);
    struct oc_buf b;
    char err[1400];
    j->e = oc_calloc(1, sizeof *j->e);
    j->mem_cap = (int64_t)req->arena.max;
    j->whole = strcmp(req->method, "HEAD") == 0;
    int rc = read_params(req, &ps);
    if (rc != 0)
        snprintf(err, sizeof err, "cannot parse the parameters (at most %d, percent-encoded)",
                 PROM_MAX_PARAMS);
    if (rc == 0)
        rc = read_window(&ps, instant, oc_clock_now_s(req->app->clock), &j->w, err, sizeof err);
    if (rc == 0 && !param(&ps, "query"))
        rc = OC_EMALFORMED, snprintf(err, sizeof err, "query: required");
    if (rc == 0)
        rc = promql_parse(param(&ps, "query"), j->e, err, sizeof err);
    if (rc != 0) {
        prom_error(req, OC_EMALFORMED, err);
        job_free(j);
        return;
    }
    if (ms->pool && j->e->kind != PROMQL_SCALAR) {
        int sub = qoe_pool_submit_fn(ms->pool, req, evaluate_later, j);
        if (sub == 0)
            return; /* a query thread answers and frees j */
        if (sub == OC_EBUSY) {
            snprintf(err, sizeof err,
                     "%d queries are waiting for a query thread already (qoe.query_queue): retry",
                     (int)ms->o.query_queue);
            http_set_header(req, "Retry-After", "1");
            prom_error(req, OC_EBUSY, err);
            job_free(j);
            return;
        }
    }
    oc_buf_init(&b, (size_t)ms->max_answer_bytes);
    int status = evaluate_whole(ms, j, &b);
    http_reply(req, status, "application/json", b.data ? b.data : "", b.len);
    oc_buf_free(&b);
    job_free(j);
}

void qoe_prom_query(struct http_req *req)
{
    run(req, 1);
}

void qoe_prom_query_range(struct http_req *req)
{
    run(req, 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Answers {"status":"success","data":[names...]} with the n strings of v, sorted. */
static void reply_list(struct http_req *req, const char **v, size_t n)
{
    struct qoe_module_state *ms = req->state;
    struct oc_buf b;
    int rc;
    qsort(v, n, sizeof *v, cmp_str);
    oc_buf_init(&b, (size_t)ms->max_answer_bytes);
    rc = oc_buf_puts(&b, "{\"status\":\"success\",\"data\":[");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc |= (i ? oc_buf_puts(&b, ",") : 0) | json_str(&b, v[i]);
    prom_ok(req, &b, rc | oc_buf_puts(&b, "]}\n"), ms->max_answer_bytes);
    oc_buf_free(&b);
}

void qoe_prom_labels(struct http_req *req)
{
    http_skip_audit(req); /* a POST here only reads */
    const char *v[BEACON_NDIMS + 1];
    v[0] = "__name__";
    for (int d = 0; d < BEACON_NDIMS; d++)
        v[d + 1] = beacon_dim_names[d];
    reply_list(req, v, BEACON_NDIMS + 1);
}

void qoe_prom_label_values(struct http_req *req)
{
    struct qoe_cube *c = ((struct qoe_module_state *)req->state)->cube;
    const char *label = http_param(req, "name");
    int d = qoe_dim_parse(label);
    if (strcmp(label, "__name__") == 0) {
        const char *v[QOE_NMETRICS];
        for (int m = 0; m < QOE_NMETRICS; m++) {
            char name[96];
            promql_metric_name(m, name, sizeof name);
            v[m] = oc_arena_strdup(&req->arena, name);
        }
        reply_list(req, v, QOE_NMETRICS);
        return;
    }
    uint32_t n = d < 0 ? 0 : qoe_cube_nvalues(c, d);
    if (n > PROM_MAX_VALUES)
        n = PROM_MAX_VALUES;
    const char **v = oc_calloc((size_t)n + 1, sizeof *v);
    uint32_t k = 0;
    for (uint32_t id = 0; id < n; id++)
        if (*(v[k] = qoe_cube_value(c, d, id))) /* "": free, its value aged out */
            k++;
    reply_list(req, v, k); /* an unknown label has no values, as in Prometheus */
    free(v);
}

/* GET /api/v1/series: per match[] selector, its name and equality labels (a QoE metric is
 * one series over the population; its dimensions are the labels to group by). */
void qoe_prom_series(struct http_req *req)
{
    struct qoe_module_state *ms = req->state;
    struct params ps = {0};
    struct promql_expr *e = oc_calloc(1, sizeof *e);
    struct oc_buf b;
    char err[1400];
    int rc = read_params(req, &ps), n = 0;
    oc_buf_init(&b, (size_t)ms->max_answer_bytes);
    rc |= oc_buf_puts(&b, "{\"status\":\"success\",\"data\":[");
    for (int i = 0; rc == 0 && i < ps.n; i++) {
        if (strcmp(ps.k[i], "match[]") != 0)
            continue;
        if (promql_parse(ps.v[i], e, err, sizeof err) != 0 || e->kind != PROMQL_SELECTOR ||
            e->topk) {
            if (e->kind != PROMQL_SELECTOR)
                snprintf(err, sizeof err, "match[]: %.200s is not a selector", ps.v[i]);
            prom_error(req, OC_EMALFORMED, err);
            goto out;
        }
        rc |= (n++ ? oc_buf_puts(&b, ",") : 0) | emit_labels(&b, e, NULL, NULL);
    }
    if (rc == 0 && n == 0) {
        prom_error(req, OC_EMALFORMED, "no match[] parameter provided");
        goto out;
    }
    prom_ok(req, &b, rc | oc_buf_puts(&b, "]}\n"), ms->max_answer_bytes);
out:
    oc_buf_free(&b);
    free(e);
}

void qoe_prom_metadata(struct http_req *req)
{
    struct oc_buf b;
    char name[96];
    int rc;
    oc_buf_init(&b, 65536);
    rc = oc_buf_puts(&b, "{\"status\":\"success\",\"data\":{");
    for (int m = 0; m < QOE_NMETRICS; m++) {
        promql_metric_name(m, name, sizeof name);
        rc |= oc_buf_printf(&b,
                            "%s\"%s\":[{\"type\":\"gauge\",\"help\":\"QoE metric %s per step "
                            "(docs/contracts.md Metrics)\",\"unit\":\"\"}]",
                            m ? "," : "", name, qoe_metrics[m].name);
    }
    prom_ok(req, &b, rc | oc_buf_puts(&b, "}}\n"), 65536);
    oc_buf_free(&b);
}

void qoe_prom_buildinfo(struct http_req *req)
{
    struct oc_buf b;
    oc_buf_init(&b, 4096);
    int rc = oc_buf_printf(&b,
                           "{\"status\":\"success\",\"data\":{\"version\":\"%s\",\"revision\":"
                           "\"oncue %s\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\","
                           "\"goVersion\":\"\"}}\n",
                           PROM_API_VERSION, ONCUE_VERSION);
    prom_ok(req, &b, rc, 4096);
    oc_buf_free(&b);
}
