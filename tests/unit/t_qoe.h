/*
 * t_qoe.h - what the QoE unit tests share: generated sessions with known dimensions fed
 * through the real parser and cube, the docs/contracts.md formulas computed directly over the
 * raw events, and a small HTTP client for the tests that go through the real server
 * (test_qoe.c, test_qoe_history.c, test_qoe_api.c). Header-only, like tests/t.h.
 */
#ifndef OC_TESTS_UNIT_T_QOE_H
#define OC_TESTS_UNIT_T_QOE_H

#include "ingest/ingest.h"
#include "t.h"

#include "core/buf.h"
#include "core/clock.h"
#include "http/http.h"
#include "qoe/qoe.h"

#include <curl/curl.h>

#define T0      1700000040LL /* a minute boundary, unix seconds */
#define MINUTES 10
#define NSESS   240
#define MAXEV   40000

static const char *const regions[] = {"NA", "EMEA", "APAC"};
static const char *const cdns[] = {"cdn-a", "cdn-b"};
static const char *const pops[] = {"FRA", "AMS", "IAD", "NRT"};
static const char *const devices[] = {"tv", "web", "ios"};

struct gev {
    int64_t ts_ms;
    int type; /* enum beacon_type */
    int outcome;
    int sess;
    int64_t startup, playing, rebuf;
    double bitrate;
};

struct sess_dims {
    int region, cdn, pop, device, live;
};

static struct gev evs[MAXEV];
static int nev;
static struct sess_dims sdims[NSESS];
static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* Sessions with fixed dimensions; per minute 0-3 heartbeats, sometimes a start and now and
 * then an error: nsess sessions over the minutes from t0 on. */
static inline void generate_span(int64_t t0, int minutes, int nsess)
{
    nev = 0;
    memset(sdims, 0, sizeof sdims);
    for (int s = 0; s < nsess; s++)
        sdims[s] = (struct sess_dims){(int)(rnd() % 3), (int)(rnd() % 2), (int)(rnd() % 4),
                                      (int)(rnd() % 3), (int)(rnd() % 2)};
    for (int m = 0; m < minutes; m++)
        for (int s = 0; s < nsess && nev + 5 <= MAXEV; s++) {
            int64_t base = (t0 + m * 60) * 1000;
            if (rnd() % 4 == 0) {
                struct gev *e = &evs[nev++];
                *e = (struct gev){base + (int64_t)(rnd() % 60000),
                                  BEACON_START,
                                  (int)(rnd() % 5 == 0   ? BEACON_FAILURE
                                        : rnd() % 6 == 0 ? BEACON_EXIT
                                                         : BEACON_SUCCESS),
                                  s,
                                  0,
                                  0,
                                  0,
                                  0};
                if (e->outcome == BEACON_SUCCESS)
                    e->startup = 100 + (int64_t)(rnd() % 5000);
            }
            for (int h = 0, n = (int)(rnd() % 4); h < n; h++) {
                struct gev *e = &evs[nev++];
                *e = (struct gev){base + (int64_t)(rnd() % 60000),
                                  BEACON_HEARTBEAT,
                                  0,
                                  s,
                                  0,
                                  (int64_t)(rnd() % 10000),
                                  rnd() % 4 == 0 ? (int64_t)(rnd() % 2000) + 1 : 0,
                                  (double)(rnd() % 8000) + 0.25};
            }
            if (rnd() % 20 == 0)
                evs[nev++] =
                    (struct gev){base + (int64_t)(rnd() % 60000), BEACON_ERROR, 0, s, 0, 0, 0, 0};
        }
}

static inline void generate(void)
{
    generate_span(T0, MINUTES, NSESS);
}

static inline size_t write_event(char *o, size_t cap, const struct gev *e)
{
    static const char *const types[] = {"", "start", "heartbeat", "error", "end"};
    static const char *const outs[] = {"", "success", "failure", "exit"};
    const struct sess_dims *d = &sdims[e->sess];
    int n = snprintf(o, cap,
                     "{\"ts\":%lld,\"type\":\"%s\",\"session\":\"sess-%d\",\"region\":\"%s\","
                     "\"cdn\":\"%s\",\"pop\":\"%s\",\"device\":\"%s\",\"live\":%s",
                     (long long)e->ts_ms, types[e->type], e->sess, regions[d->region], cdns[d->cdn],
                     pops[d->pop], devices[d->device], d->live ? "true" : "false");
    if (e->type == BEACON_START)
        n += snprintf(o + n, cap - (size_t)n, ",\"outcome\":\"%s\",\"startup_ms\":%lld",
                      outs[e->outcome], (long long)e->startup);
    else
        n += snprintf(o + n, cap - (size_t)n,
                      ",\"playing_ms\":%lld,\"rebuffer_ms\":%lld,\"bitrate_kbps\":%.17g",
                      (long long)e->playing, (long long)e->rebuf, e->bitrate);
    n += snprintf(o + n, cap - (size_t)n, "}\n");
    return (size_t)n;
}

static inline int ev_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct gev *)a)->ts_ms, y = ((const struct gev *)b)->ts_ms;
    return x < y ? -1 : x > y;
}

/* Feeds the events in time order, each batch shuffled over up to 60 s (late, in order to
 * the lateness), in batches of 100; ticks the virtual clock between batches; writes the
 * closed minutes to st after each batch when st is not NULL. */
static inline size_t feed_store(struct qoe_cube *c, struct oc_clock *clk, struct store *st)
{
    static char body[100 * 400];
    struct ingest_batch b;
    char err[100];
    size_t ok = 0;
    qsort(evs, (size_t)nev, sizeof *evs, ev_cmp);
    ingest_batch_init(&b, 1000);
    for (int i = 0; i < nev; i += 100) {
        int n = nev - i < 100 ? nev - i : 100;
        size_t len = 0;
        for (int k = n - 1; k >= 0; k--) /* reversed: later events first */
            len += write_event(body + len, sizeof body - len, &evs[i + k]);
        if (clk->kind == OC_CLOCK_VIRTUAL) {
            oc_clock_set_ms(clk, evs[i].ts_ms);
            qoe_cube_tick(c);
        }
        T_EQ_INT(ingest_parse(&b, body, len, err, sizeof err), 0);
        T_EQ_INT(b.nev, (size_t)n);
        ok += ingest_fold(c, &b, NULL);
        if (st)
            T_TRUE(qoe_cube_persist(c, st) >= 0);
    }
    ingest_batch_free(&b);
    qoe_cube_flush(c);
    if (st)
        T_TRUE(qoe_cube_persist(c, st) >= 0);
    return ok;
}

static inline size_t feed(struct qoe_cube *c, struct oc_clock *clk)
{
    return feed_store(c, clk, NULL);
}

static inline struct qoe_cube *make_cube(struct oc_clock *clk, enum oc_clock_kind kind)
{
    struct qoe_cube_opts o;
    qoe_cube_opts_default(&o);
    oc_clock_init(clk, kind, T0 * 1000);
    return qoe_cube_new(&o, clk);
}

/* The value of dimension d of session s, as the beacons carried it ("unknown" if absent). */
static inline const char *sval(int s, int d)
{
    switch (d) {
    case BEACON_REGION:
        return regions[sdims[s].region];
    case BEACON_CDN:
        return cdns[sdims[s].cdn];
    case BEACON_POP:
        return pops[sdims[s].pop];
    case BEACON_DEVICE:
        return devices[sdims[s].device];
    case BEACON_LIVE:
        return sdims[s].live ? "true" : "false";
    default:
        return "unknown";
    }
}

/* Does session s belong to the query's filter and to the group with these values? */
static inline int in_slice(const struct qoe_query *q, int s, const char *const *gv)
{
    for (int d = 0; d < BEACON_NDIMS; d++) {
        int any = 0, ok = 0;
        for (int i = 0; i < q->nfilters; i++)
            if (q->filters[i].dim == d) {
                any = 1;
                ok |= strcmp(q->filters[i].value, sval(s, d)) == 0;
            }
        if (any && !ok)
            return 0;
    }
    for (int i = 0; gv && i < q->ngroup; i++)
        if (strcmp(gv[i], sval(s, q->group_by[i])) != 0)
            return 0;
    return 1;
}

static inline int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* docs/contracts.md "Metrics", computed directly over the raw events of [t0, t1). */
static inline double expected(const struct qoe_query *q, const char *const *gv, int64_t t0,
                              int64_t t1)
{
    static double ups[MAXEV];
    double starts = 0, fails = 0, exits = 0, playing = 0, rebuf = 0, br = 0, errors = 0;
    double share_sum = 0, conc_sum = 0, nmin = 0;
    int nups = 0, rows = 0;
    for (int i = 0; i < nev; i++) {
        const struct gev *e = &evs[i];
        if (e->ts_ms < t0 * 1000 || e->ts_ms >= t1 * 1000 || !in_slice(q, e->sess, gv))
            continue;
        rows++;
        if (e->type == BEACON_START) {
            starts++;
            fails += e->outcome == BEACON_FAILURE;
            exits += e->outcome == BEACON_EXIT;
            if (e->outcome == BEACON_SUCCESS)
                ups[nups++] = (double)e->startup;
        } else {
            errors += e->type == BEACON_ERROR;
            playing += (double)e->playing;
            rebuf += (double)e->rebuf;
            br += e->bitrate * (double)e->playing;
        }
    }
    int per_minute = q->metric == QOE_REBUFFERING_SHARE || q->metric == QOE_CONCURRENT ||
                     q->metric == QOE_VPF_RATE;
    for (int64_t m = t0; per_minute && m < t1; m += 60) {
        static char hb[NSESS], rb[NSESS];
        double nhb = 0, nrb = 0;
        memset(hb, 0, sizeof hb);
        memset(rb, 0, sizeof rb);
        for (int i = 0; i < nev; i++) {
            const struct gev *e = &evs[i];
            if (e->type != BEACON_HEARTBEAT || e->ts_ms < m * 1000 || e->ts_ms >= (m + 60) * 1000 ||
                !in_slice(q, e->sess, gv))
                continue;
            hb[e->sess] = 1;
            rb[e->sess] |= e->rebuf > 0;
        }
        for (int s = 0; s < NSESS; s++)
            nhb += hb[s], nrb += rb[s];
        if (nhb > 0)
            share_sum += nrb / nhb, conc_sum += nhb, nmin++;
    }
    qsort(ups, (size_t)nups, sizeof *ups, dbl_cmp);
    switch (q->metric) {
    case QOE_VSF_RATE:
        return starts ? fails / starts : NAN;
    case QOE_EBVS_RATE:
        return starts ? exits / starts : NAN;
    case QOE_REBUFFER_RATIO:
    case QOE_CONCURRENT_REBUFFERING: /* the same formula, read as a share of viewers */
        return playing + rebuf > 0 ? rebuf / (playing + rebuf) : NAN;
    case QOE_REBUFFERING_SHARE:
        return nmin ? share_sum / nmin : NAN;
    case QOE_AVG_BITRATE:
        return playing > 0 ? br / playing : NAN;
    case QOE_STARTUP_P50:
        return nups ? ups[(int)ceil(0.5 * nups) - 1] : NAN;
    case QOE_STARTUP_P95:
        return nups ? ups[(int)ceil(0.95 * nups) - 1] : NAN;
    case QOE_PLAYS:
        return rows ? starts : NAN;
    case QOE_CONCURRENT:
        return nmin ? conc_sum / nmin : NAN;
    case QOE_VPF_RATE: /* error events over session-minutes */
        return conc_sum > 0 ? errors / conc_sum : NAN;
    default:
        return NAN;
    }
}

/* The number of distinct groups with events in the query range. */
static inline int expected_groups(const struct qoe_query *q)
{
    static char seen[3 * 2 * 4 * 3 * 2 * 4];
    int n = 0;
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < nev; i++) {
        const struct gev *e = &evs[i];
        if (e->ts_ms < q->from * 1000 || e->ts_ms >= q->to * 1000 || !in_slice(q, e->sess, NULL))
            continue;
        int key = 0;
        for (int k = 0; k < q->ngroup; k++) {
            int d = q->group_by[k];
            int v = d == BEACON_REGION   ? sdims[e->sess].region
                    : d == BEACON_CDN    ? sdims[e->sess].cdn
                    : d == BEACON_POP    ? sdims[e->sess].pop
                    : d == BEACON_DEVICE ? sdims[e->sess].device
                                         : sdims[e->sess].live;
            key = key * 4 + v;
        }
        n += !seen[key];
        seen[key] = 1;
    }
    return n;
}

static inline int close_enough(enum qoe_metric m, double got, double want)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (m == QOE_STARTUP_P50 || m == QOE_STARTUP_P95)
        return fabs(got - want) <= 0.01 * want + 1e-9;
    return fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
}

/* The expected point [t0, t1) of a range stored in rows of res seconds: a row counts in the
 * step of its start (the events of [start, start + res)); per-minute metrics stay exact per
 * minute. */
static inline double expected_res(const struct qoe_query *q, const char *const *gv, int64_t t0,
                                  int64_t t1, int64_t res)
{
    if (res == 60 || q->metric == QOE_REBUFFERING_SHARE || q->metric == QOE_CONCURRENT)
        return expected(q, gv, t0, t1);
    int64_t a0 = (t0 + res - 1) / res * res, a1 = (t1 + res - 1) / res * res;
    return a0 < a1 ? expected(q, gv, a0, a1) : NAN;
}

/* Runs q for every metric and compares every point of every series with the range stored
 * in rows of res seconds. Returns points checked. */
static inline int check_metrics_res(struct qoe_cube *c, struct qoe_query q, int64_t res)
{
    int checked = 0;
    char err[200];
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *r = NULL;
        q.metric = (enum qoe_metric)m;
        T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
        if (!r)
            continue;
        T_EQ_INT(r->nseries, q.ngroup ? expected_groups(&q) : 1);
        for (int s = 0; s < r->nseries; s++)
            for (int k = 0; k < r->npoints; k++) {
                int64_t t0 = q.from + k * q.step;
                int64_t t1 = t0 + q.step < q.to ? t0 + q.step : q.to;
                double want = expected_res(&q, r->series[s].values, t0, t1, res);
                double got = qoe_point(r, s, k);
                if (!close_enough(q.metric, got, want))
                    T_FAIL_AT("%s series %d point %d: got %.12g want %.12g", qoe_metrics[m].name, s,
                              k, got, want);
                checked++;
            }
        qoe_result_destroy(r);
    }
    return checked;
}

static inline int check_all_metrics(struct qoe_cube *c, struct qoe_query q)
{
    return check_metrics_res(c, q, 60);
}

static inline struct qoe_query base_query(void)
{
    struct qoe_query q;
    memset(&q, 0, sizeof q);
    q.from = T0;
    q.to = T0 + MINUTES * 60;
    q.step = q.to - q.from;
    q.top = QOE_DEFAULT_TOP;
    return q;
}

/* ---- over HTTP: POST /v1/events and GET /v1/qoe through the real server and modules ---- */

static char base[128]; /* "http://127.0.0.1:PORT" of the server call() talks to */

static inline int any_token(void *arg, const char *token, struct oc_arena *arena,
                            enum http_role *role, const char **name)
{
    (void)arg;
    *role = strcmp(token, "viewer") == 0 ? HTTP_VIEWER : HTTP_INGEST;
    *name = oc_arena_strdup(arena, token);
    return 0;
}

static inline size_t collect(char *p, size_t size, size_t n, void *arg)
{
    oc_buf_append(arg, p, size * n);
    return size * n;
}

/* One request; the status, with the body (and headers, when hdr) in out. */
static inline long call(const char *method, const char *path, const char *token, const char *body,
                        struct oc_buf *out, struct oc_buf *hdr)
{
    CURL *c = curl_easy_init();
    char url[512], auth[128];
    struct curl_slist *h = NULL;
    snprintf(url, sizeof url, "%s%s", base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: text/plain;charset=UTF-8"); /* as sendBeacon */
    oc_buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (hdr) {
        oc_buf_reset(hdr);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

#endif
