/*
 * test_qoe.c - the query engine against the docs/contracts.md formulas computed independently.
 *
 * Generated events with known answers go through the real parser and cube; every metric over
 * several slices, steps and group-bys is compared with a direct computation over the raw
 * events (to 1e-9; startup percentiles to the sketch's 1% bound). Also: replay and virtual
 * clocks agree, cardinality caps fold into "other", parameter parsing names the parameter.
 * History: hours of events persisted with 10 minutes in memory and rolled up to 5-minute
 * and hourly rows answer every metric exactly, also across store and memory and after a
 * restart.
 */
#include "ingest/ingest.h"
#include "t.h"
#include "t_store.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/metrics.h"
#include "config/config.h"
#include "http/http.h"
#include "qoe/accounts.h"
#include "qoe/persist.h"
#include "qoe/qoe.h"
#include "store/store.h"

#include <curl/curl.h>
#include <unistd.h>

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

static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* Sessions with fixed dimensions; per minute 0-3 heartbeats, sometimes a start and now and
 * then an error: nsess sessions over the minutes from t0 on. */
static void generate_span(int64_t t0, int minutes, int nsess)
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

static void generate(void)
{
    generate_span(T0, MINUTES, NSESS);
}

static size_t write_event(char *o, size_t cap, const struct gev *e)
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

static int ev_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct gev *)a)->ts_ms, y = ((const struct gev *)b)->ts_ms;
    return x < y ? -1 : x > y;
}

/* Feeds the events in time order, each batch shuffled over up to 60 s (late, in order to
 * the lateness), in batches of 100; ticks the virtual clock between batches; writes the
 * closed minutes to st after each batch when st is not NULL. */
static size_t feed_store(struct qoe_cube *c, struct oc_clock *clk, struct store *st)
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

static size_t feed(struct qoe_cube *c, struct oc_clock *clk)
{
    return feed_store(c, clk, NULL);
}

static struct qoe_cube *make_cube(struct oc_clock *clk, enum oc_clock_kind kind)
{
    struct qoe_cube_opts o;
    qoe_cube_opts_default(&o);
    oc_clock_init(clk, kind, T0 * 1000);
    return qoe_cube_new(&o, clk);
}

/* The value of dimension d of session s, as the beacons carried it ("unknown" if absent). */
static const char *sval(int s, int d)
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
static int in_slice(const struct qoe_query *q, int s, const char *const *gv)
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

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* docs/contracts.md "Metrics", computed directly over the raw events of [t0, t1). */
static double expected(const struct qoe_query *q, const char *const *gv, int64_t t0, int64_t t1)
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
static int expected_groups(const struct qoe_query *q)
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

static int close_enough(enum qoe_metric m, double got, double want)
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
static double expected_res(const struct qoe_query *q, const char *const *gv, int64_t t0, int64_t t1,
                           int64_t res)
{
    if (res == 60 || q->metric == QOE_REBUFFERING_SHARE || q->metric == QOE_CONCURRENT)
        return expected(q, gv, t0, t1);
    int64_t a0 = (t0 + res - 1) / res * res, a1 = (t1 + res - 1) / res * res;
    return a0 < a1 ? expected(q, gv, a0, a1) : NAN;
}

/* Runs q for every metric and compares every point of every series with the range stored
 * in rows of res seconds. Returns points checked. */
static int check_metrics_res(struct qoe_cube *c, struct qoe_query q, int64_t res)
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

static int check_all_metrics(struct qoe_cube *c, struct qoe_query q)
{
    return check_metrics_res(c, q, 60);
}

static struct qoe_query base_query(void)
{
    struct qoe_query q;
    memset(&q, 0, sizeof q);
    q.from = T0;
    q.to = T0 + MINUTES * 60;
    q.step = q.to - q.from;
    q.top = QOE_DEFAULT_TOP;
    return q;
}

static void test_formulas_every_slice(void)
{
    struct oc_clock clk;
    struct qoe_cube *c = make_cube(&clk, OC_CLOCK_VIRTUAL);
    generate();
    T_EQ_INT(feed(c, &clk), (size_t)nev);
    int checked = 0;
    struct qoe_query q = base_query(); /* whole range, no group */
    checked += check_all_metrics(c, q);
    q.step = 60; /* per minute, by cdn */
    q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    checked += check_all_metrics(c, q);
    q = base_query(); /* one region, by cdn x device, a last partial step */
    q.step = 180;
    q.nfilters = 1, q.filters[0] = (struct qoe_filter){BEACON_REGION, "EMEA"};
    q.ngroup = 2, q.group_by[0] = BEACON_CDN, q.group_by[1] = BEACON_DEVICE;
    checked += check_all_metrics(c, q);
    q = base_query(); /* two values of one dimension (OR) and another (AND), by pop */
    q.from = T0 + 120, q.to = T0 + 480, q.step = 120;
    q.nfilters = 3;
    q.filters[0] = (struct qoe_filter){BEACON_CDN, "cdn-a"};
    q.filters[1] = (struct qoe_filter){BEACON_CDN, "cdn-b"};
    q.filters[2] = (struct qoe_filter){BEACON_REGION, "NA"};
    q.ngroup = 2, q.group_by[0] = BEACON_POP, q.group_by[1] = BEACON_LIVE;
    checked += check_all_metrics(c, q);
    q = base_query(); /* a range past the data: nulls */
    q.from = T0 + 540, q.to = T0 + 720, q.step = 60;
    checked += check_all_metrics(c, q);
    T_TRUE(checked > 500);
    qoe_cube_destroy(c);
}

/* Late events: about one event in seven reaches the server 90 s after it happened, after its
 * minute was complete (readable 15 s after its end) and before it closes (120 s): the
 * complete minutes answer without them, closing revises them, and once every event is in
 * every query answers the formulas over all of them. */
static void test_formulas_with_late_events(void)
{
    static char body[400];
    static int held[MAXEV];
    struct oc_clock clk;
    struct qoe_cube_stats st;
    struct ingest_batch b;
    char err[100];
    struct qoe_cube *c = make_cube(&clk, OC_CLOCK_VIRTUAL);
    int nheld = 0, first = 0;
    size_t ok = 0;
    generate();
    qsort(evs, (size_t)nev, sizeof *evs, ev_cmp);
    ingest_batch_init(&b, 10);
    for (int i = 0; i <= nev; i++) {
        /* after the last event: the ones still held arrive (under 90 s late, before their
         * minutes close) */
        int64_t now = i < nev ? evs[i].ts_ms : evs[nev - 1].ts_ms + 1000;
        oc_clock_set_ms(&clk, now);
        qoe_cube_tick(c);
        while (first < nheld && (i == nev || evs[held[first]].ts_ms + 90000 <= now)) {
            size_t len = write_event(body, sizeof body, &evs[held[first++]]);
            T_EQ_INT(ingest_parse(&b, body, len, err, sizeof err), 0);
            ok += ingest_fold(c, &b, NULL);
        }
        if (i == nev)
            break;
        if (rnd() % 7 == 0) {
            held[nheld++] = i;
            continue;
        }
        size_t len = write_event(body, sizeof body, &evs[i]);
        T_EQ_INT(ingest_parse(&b, body, len, err, sizeof err), 0);
        ok += ingest_fold(c, &b, NULL);
    }
    ingest_batch_free(&b);
    qoe_cube_flush(c);
    T_EQ_INT(ok, (size_t)nev);
    T_TRUE(nheld > nev / 10);
    qoe_cube_stats(c, &st);
    T_TRUE(st.minutes_revised >= MINUTES - 1); /* every minute but possibly the last */
    struct qoe_query q = base_query();
    int checked = check_all_metrics(c, q);
    q.step = 60;
    q.ngroup = 2, q.group_by[0] = BEACON_REGION, q.group_by[1] = BEACON_CDN;
    checked += check_all_metrics(c, q);
    T_TRUE(checked > 200);
    qoe_cube_destroy(c);
}

static void test_filter_unknown_value_is_empty(void)
{
    struct oc_clock clk;
    struct qoe_cube *c = make_cube(&clk, OC_CLOCK_VIRTUAL);
    struct qoe_result *r = NULL;
    char err[100];
    generate();
    feed(c, &clk);
    struct qoe_query q = base_query();
    q.metric = QOE_PLAYS;
    q.nfilters = 1, q.filters[0] = (struct qoe_filter){BEACON_CDN, "nope"};
    T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
    T_EQ_INT(r->nseries, 1);
    T_TRUE(isnan(qoe_point(r, 0, 0)));
    qoe_result_destroy(r);
    qoe_cube_destroy(c);
}

static void test_top_k_by_volume(void)
{
    struct oc_clock clk;
    struct qoe_cube *c = make_cube(&clk, OC_CLOCK_VIRTUAL);
    struct qoe_result *r = NULL;
    char err[100];
    generate();
    feed(c, &clk);
    struct qoe_query q = base_query();
    q.metric = QOE_PLAYS;
    q.ngroup = 1, q.group_by[0] = BEACON_POP;
    q.top = 2;
    T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
    T_EQ_INT(r->nseries, 2);
    /* the two pops with the most plays, largest first */
    double best = -1, second = -1;
    for (int p = 0; p < 4; p++) {
        const char *gv[1] = {pops[p]};
        double v = expected(&q, gv, q.from, q.to);
        if (v > best)
            second = best, best = v;
        else if (v > second)
            second = v;
    }
    T_EQ_DBL(qoe_point(r, 0, 0), best, 0);
    T_EQ_DBL(qoe_point(r, 1, 0), second, 0);
    T_EQ_DBL(r->series[0].volume, best, 0);
    qoe_result_destroy(r);
    qoe_cube_destroy(c);
}

/* The replay clock (no wall clock at all) gives the same answers as the virtual clock. */
static void test_replay_equals_realtime(void)
{
    struct oc_clock c1, c2;
    struct qoe_cube *a = make_cube(&c1, OC_CLOCK_VIRTUAL);
    struct qoe_cube *b = make_cube(&c2, OC_CLOCK_REPLAY);
    char err[100];
    generate();
    T_EQ_INT(feed(a, &c1), (size_t)nev);
    T_EQ_INT(feed(b, &c2), (size_t)nev);
    struct qoe_query q = base_query();
    q.step = 60;
    q.ngroup = 2, q.group_by[0] = BEACON_REGION, q.group_by[1] = BEACON_CDN;
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *ra = NULL, *rb = NULL;
        q.metric = (enum qoe_metric)m;
        T_EQ_INT(qoe_query_run(a, &q, &ra, err, sizeof err), 0);
        T_EQ_INT(qoe_query_run(b, &q, &rb, err, sizeof err), 0);
        T_EQ_INT(ra->nseries, rb->nseries);
        for (int s = 0; s < ra->nseries && s < rb->nseries; s++)
            for (int k = 0; k < ra->npoints; k++) {
                double x = qoe_point(ra, s, k), y = qoe_point(rb, s, k);
                T_TRUE((isnan(x) && isnan(y)) || x == y);
            }
        qoe_result_destroy(ra);
        qoe_result_destroy(rb);
    }
    qoe_cube_destroy(a);
    qoe_cube_destroy(b);
}

/* The accounts beacons carry: remembered per (account, leaf) with first, last and hurt times,
 * found by a slice's beacon dimensions and a window, capped. */
static void test_accounts(void)
{
    struct oc_clock clk;
    struct qoe_cube *c = make_cube(&clk, OC_CLOCK_VIRTUAL);
    struct qoe_accounts *a = qoe_accounts_new(4);
    static char hx[4][65];
    for (int i = 0; i < 4; i++) {
        memset(hx[i], "abcd"[i], 64);
        hx[i][64] = 0;
    }
    struct beacon_event ev[5];
    uint32_t leaf[5];
    uint64_t sh[5];
    uint8_t verdict[5];
    /* account, region, type, offset s, failure or stall */
    const struct {
        int acct;
        const char *region;
        int hb, off, bad;
    } spec[5] = {{0, "EU", 0, 0, 1},
                 {1, "EU", 0, 10, 0},
                 {0, "US", 0, 5, 0},
                 {2, "EU", 1, 20, 1},
                 {3, "EU", 0, 30, 0}};
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 5; i++) {
        struct beacon_event *e = &ev[i];
        e->ts_ms = (T0 + spec[i].off) * 1000;
        e->type = spec[i].hb ? BEACON_HEARTBEAT : BEACON_START;
        e->outcome = spec[i].bad ? BEACON_FAILURE : BEACON_SUCCESS;
        e->startup_ms = 900;
        e->playing_ms = spec[i].hb ? 1000 : 0;
        e->rebuffer_ms = spec[i].hb && spec[i].bad ? 100 : 0;
        e->session = (struct beacon_str){hx[spec[i].acct], 8};
        e->dims[BEACON_REGION] = (struct beacon_str){spec[i].region, 2};
        e->account = (struct beacon_str){hx[spec[i].acct], 64};
    }
    struct qoe_fold f = {ev, 5, leaf, sh, verdict, 0};
    T_EQ_INT((long long)qoe_cube_add(c, &f), 5);
    T_EQ_INT((long long)qoe_accounts_record(a, &f), 4); /* the fifth is past the cap */
    size_t n = 0;
    uint64_t dropped = 0;
    qoe_accounts_stats(a, &n, &dropped);
    T_EQ_INT((long long)n, 4);
    T_EQ_INT((long long)dropped, 1);
    uint8_t(*out)[QOE_ACCOUNT_HASH] = NULL;
    json_t *eu = json_pack("{s:s, s:s}", "region", "EU", "symptom", "buffering"),
           *us = json_pack("{s:s}", "region", "US"), *svc = json_pack("{s:s}", "service", "x"),
           *mars = json_pack("{s:s}", "region", "Mars");
    int64_t lo = T0 * 1000, hi = (T0 + 60) * 1000;
    qoe_accounts_in_slice(a, c, eu, lo, hi, 0, &out, &n);
    T_EQ_INT((long long)n, 3); /* a, b, c: sorted, once each */
    T_TRUE(n == 3 && out[0][0] == 0xaa && out[1][0] == 0xbb && out[2][0] == 0xcc);
    free(out);
    qoe_accounts_in_slice(a, c, eu, lo, hi, 1, &out, &n);
    T_EQ_INT((long long)n, 2); /* hurt: a (failed start), c (stall) */
    T_TRUE(n == 2 && out[0][0] == 0xaa && out[1][0] == 0xcc);
    free(out);
    qoe_accounts_in_slice(a, c, us, lo, hi, 1, &out, &n);
    T_EQ_INT((long long)n, 0); /* a played in the US without harm */
    free(out);
    qoe_accounts_in_slice(a, c, us, lo, hi, 0, &out, &n);
    T_EQ_INT((long long)n, 1);
    free(out);
    qoe_accounts_in_slice(a, c, eu, (T0 + 15) * 1000, hi, 0, &out, &n);
    T_EQ_INT((long long)n, 1); /* only c was seen from T0 + 15 */
    free(out);
    qoe_accounts_in_slice(a, c, svc, lo, hi, 0, &out, &n);
    T_EQ_INT((long long)n, 0); /* no beacon dimension: no viewers */
    free(out);
    qoe_accounts_in_slice(a, c, mars, lo, hi, 0, &out, &n);
    T_EQ_INT((long long)n, 0);
    free(out);
    uint8_t h[QOE_ACCOUNT_HASH];
    T_EQ_INT(qoe_account_parse(hx[0], 64, h), 0);
    T_EQ_INT(h[31], 0xaa);
    T_EQ_INT(qoe_account_parse(hx[0], 63, h), -1);
    T_EQ_INT(qoe_account_parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                               64, NULL),
             -1);
    json_decref(eu);
    json_decref(us);
    json_decref(svc);
    json_decref(mars);
    qoe_accounts_free(a);
    qoe_cube_destroy(c);
}

/* With max_values_per_dim = 2, the third and later pops fold into "other", counted. */
/* One successful start of title at t_s (virtual clock) into c. */
static size_t start_title(struct qoe_cube *c, int64_t t_s, const char *title)
{
    struct beacon_event e;
    memset(&e, 0, sizeof e);
    e.ts_ms = t_s * 1000;
    e.type = BEACON_START;
    e.outcome = BEACON_SUCCESS;
    e.session = (struct beacon_str){title, (uint32_t)strlen(title)};
    e.dims[BEACON_TITLE] = (struct beacon_str){title, (uint32_t)strlen(title)};
    e.startup_ms = 900;
    return qoe_cube_add_event(c, &e);
}

/* Plays of minute t by title as "title=n" joined by spaces, in answer order. */
static void plays_by_title(struct qoe_cube *c, int64_t t, char *out, size_t n)
{
    struct qoe_result *r = NULL;
    char err[100];
    struct qoe_query q = base_query();
    q.metric = QOE_PLAYS;
    q.from = t, q.to = t + 60, q.step = 60;
    q.ngroup = 1, q.group_by[0] = BEACON_TITLE;
    out[0] = 0;
    if (qoe_query_run(c, &q, &r, err, sizeof err) != 0)
        return;
    for (int s = 0; s < r->nseries; s++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s=%g", s ? " " : "",
                 r->series[s].values[0], qoe_point(r, s, 0));
    qoe_result_destroy(r);
}

/* A full dimension: a new value folds; once the others are idle past value_idle_s a sweep
 * frees them, their past minutes count under "other", and the next new value takes a freed
 * id under its own name. */
static void test_sweep_ages_values_out(void)
{
    struct oc_clock clk;
    struct qoe_cube_opts o;
    struct qoe_cube_stats st;
    char got[200];
    qoe_cube_opts_default(&o);
    o.max_values_per_dim = 3;
    o.value_idle_s = 300;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    T_EQ_INT(start_title(c, T0 + 1, "a") + start_title(c, T0 + 2, "b") +
                 start_title(c, T0 + 3, "c") + start_title(c, T0 + 4, "d"),
             4);
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.values[BEACON_TITLE], 5); /* unknown, other, a, b, c */
    T_EQ_INT(st.folded[BEACON_TITLE], 1); /* d */
    T_EQ_INT(qoe_cube_sweep(c, T0 + 60), 0);
    oc_clock_set_ms(&clk, (T0 + 400) * 1000);
    T_EQ_INT(start_title(c, T0 + 400, "a"), 1); /* a open minute keeps a */
    qoe_cube_tick(c);
    T_EQ_INT(qoe_cube_sweep(c, T0 + 400), 2); /* b and c */
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.values[BEACON_TITLE], 3);
    T_EQ_INT(st.values_aged[BEACON_TITLE], 2);
    T_EQ_INT(qoe_cube_sweep(c, T0 + 401), 0); /* at most once a minute */
    plays_by_title(c, T0, got, sizeof got);
    T_EQ_STR(got, "other=3 a=1");
    T_EQ_INT(start_title(c, T0 + 410, "e"), 1);
    uint32_t id = 0;
    T_EQ_INT(qoe_cube_value_id(c, BEACON_TITLE, "e", 1, &id), 0);
    T_TRUE(id == 3 || id == 4); /* a freed id */
    T_EQ_STR(qoe_cube_value(c, BEACON_TITLE, id), "e");
    T_EQ_INT(qoe_cube_value_id(c, BEACON_TITLE, "b", 1, &id), OC_ENOTFOUND);
    qoe_cube_flush(c);
    plays_by_title(c, T0 + 360, got, sizeof got);
    T_EQ_STR(got, "a=1 e=1");
    qoe_cube_destroy(c);
}

/* One successful start at t_s with cdn into c (session s). */
static size_t start_cdn(struct qoe_cube *c, int64_t t_s, const char *cdn, const char *s)
{
    struct beacon_event e;
    memset(&e, 0, sizeof e);
    e.ts_ms = t_s * 1000;
    e.type = BEACON_START;
    e.outcome = BEACON_SUCCESS;
    e.session = (struct beacon_str){s, (uint32_t)strlen(s)};
    e.dims[BEACON_CDN] = (struct beacon_str){cdn, (uint32_t)strlen(cdn)};
    e.startup_ms = 900;
    return qoe_cube_add_event(c, &e);
}

/* A closed list (ingest.cdns, or the steering policy's pathways): listed values pass, others
 * fold; a new list takes effect at once, also for a value cached by an earlier event, and a
 * value dropped from it keeps its id; listed values do not age; an empty list opens. */
static void test_closed_list_changes(void)
{
    struct oc_clock clk;
    struct qoe_cube_opts o;
    struct qoe_cube_stats st;
    char err[160];
    uint32_t id;
    qoe_cube_opts_default(&o);
    o.value_idle_s = 300;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    T_EQ_INT(
        qoe_cube_set_closed(c, BEACON_CDN, " primary, secondary ", "ingest.cdns", err, sizeof err),
        0);
    T_EQ_INT(start_cdn(c, T0 + 1, "primary", "s1") + start_cdn(c, T0 + 2, "secondary", "s2") +
                 start_cdn(c, T0 + 3, "evil", "s3"),
             3);
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.folded[BEACON_CDN], 1);
    T_EQ_INT(qoe_cube_value_id(c, BEACON_CDN, "evil", 4, &id), OC_ENOTFOUND);
    T_EQ_INT(qoe_cube_set_closed(c, BEACON_CDN, "primary,tertiary", "ingest.cdns", err, sizeof err),
             0);
    T_EQ_INT(start_cdn(c, T0 + 4, "secondary", "s4") + start_cdn(c, T0 + 5, "tertiary", "s5") +
                 start_cdn(c, T0 + 6, "primary", "s6"),
             3);
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.folded[BEACON_CDN], 2); /* secondary, no longer listed */
    T_EQ_INT(qoe_cube_value_id(c, BEACON_CDN, "secondary", 9, &id), 0); /* keeps its id */
    T_EQ_INT(qoe_cube_value_id(c, BEACON_CDN, "tertiary", 8, &id), 0);
    char longv[QOE_MAX_DIM_VALUE + 2];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    T_EQ_INT(qoe_cube_set_closed(c, BEACON_CDN, longv, "ingest.cdns", err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "ingest.cdns: a value is longer than 128 bytes");
    T_EQ_INT(start_cdn(c, T0 + 7, "secondary", "s7"), 1); /* the list in force stayed */
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.folded[BEACON_CDN], 3);
    oc_clock_set_ms(&clk, (T0 + 1000) * 1000); /* all idle past value_idle_s */
    qoe_cube_tick(c);
    qoe_cube_sweep(c, T0 + 1000);
    T_EQ_INT(qoe_cube_value_id(c, BEACON_CDN, "tertiary", 8, &id), 0); /* listed: kept */
    T_EQ_INT(qoe_cube_value_id(c, BEACON_CDN, "secondary", 9, &id), OC_ENOTFOUND); /* aged */
    T_EQ_INT(qoe_cube_set_closed(c, BEACON_CDN, "", "ingest.cdns", err, sizeof err), 0);
    T_EQ_INT(start_cdn(c, T0 + 1001, "evil", "s8"), 1);
    T_EQ_INT(qoe_cube_value_id(c, BEACON_CDN, "evil", 4, &id), 0); /* open again */
    qoe_cube_destroy(c);
}

static void test_cap_folds_into_other(void)
{
    struct oc_clock clk;
    struct qoe_cube_opts o;
    struct qoe_cube_stats st;
    struct qoe_result *r = NULL;
    char err[100];
    qoe_cube_opts_default(&o);
    o.max_values_per_dim = 2;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    generate();
    T_EQ_INT(feed(c, &clk), (size_t)nev);
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.values[BEACON_POP], 4); /* unknown, other and two real values */
    T_TRUE(st.folded[BEACON_POP] > 0);
    int nfold = 0; /* events whose region is not one of the two kept */
    for (int i = 0; i < nev; i++) {
        const char *v = sval(evs[i].sess, BEACON_REGION);
        nfold += strcmp(v, qoe_cube_value(c, BEACON_REGION, 2)) != 0 &&
                 strcmp(v, qoe_cube_value(c, BEACON_REGION, 3)) != 0;
    }
    T_TRUE(nfold > 0);
    T_EQ_INT(st.folded[BEACON_REGION], nfold);
    struct qoe_query q = base_query();
    q.metric = QOE_PLAYS;
    q.ngroup = 1, q.group_by[0] = BEACON_POP;
    T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
    T_EQ_INT(r->nseries, 3);
    double total = 0, other = -1;
    for (int s = 0; s < r->nseries; s++) {
        total += qoe_point(r, s, 0);
        if (strcmp(r->series[s].values[0], "other") == 0)
            other = qoe_point(r, s, 0);
    }
    struct qoe_query all = base_query();
    all.metric = QOE_PLAYS;
    T_EQ_DBL(total, expected(&all, NULL, all.from, all.to), 0);
    const char *first[1] = {NULL};
    double kept = 0;
    for (int s = 0; s < r->nseries; s++)
        if (strcmp(r->series[s].values[0], "other") != 0)
            first[0] = r->series[s].values[0], kept += expected(&q, first, q.from, q.to);
    T_EQ_DBL(other, total - kept, 0);
    qoe_result_destroy(r);
    qoe_cube_destroy(c);
}

/* ---- history: ranges older than memory answer from the stored rows ---- */

#define TH0    1699999200LL     /* an hour boundary */
#define HSTART (TH0 - 600)      /* the events: [HSTART, HEND) */
#define HEND   (TH0 + 3 * 3600) /* 190 minutes */
#define HSESS  40               /* sessions */
#define HMEM   10               /* minutes kept in memory */

/* A cube keeping HMEM minutes in memory, rolling minutes up after an hour and 5-minute
 * rows after two, loaded from st (persistence on). */
static struct qoe_cube *history_cube(struct oc_clock *clk, struct store *st)
{
    struct qoe_cube_opts o;
    char err[256];
    qoe_cube_opts_default(&o);
    o.memory_minutes = HMEM;
    o.rollup_5m_after_s = 3600;
    o.rollup_1h_after_s = 7200;
    oc_clock_init(clk, OC_CLOCK_VIRTUAL, HSTART * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, clk);
    T_EQ_INT(qoe_cube_load(c, st, err, sizeof err), 0);
    return c;
}

static int64_t stored_rows(struct store *st, int res)
{
    struct store_stmt *q;
    int64_t n = -1;
    store_lock(st);
    if (store_prepare(st, "SELECT count(*) FROM qoe_minutes WHERE res = ?", &q) == 0) {
        store_bind_int(q, 1, res);
        if (store_step(q) == STORE_ROW)
            n = store_col_int(q, 0);
        store_reset(q);
    }
    store_unlock(st);
    return n;
}

/* Removes a test's store directory (the database, its WAL files and its key file). */
static void remove_store_dir(const char *dir)
{
    static const char *const files[] = {"oncue.db", "oncue.db-wal", "oncue.db-shm", "oncue.key"};
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    T_EQ_INT(rmdir(dir), 0);
}

static struct qoe_query hquery(int64_t from, int64_t to, int64_t step)
{
    struct qoe_query q = base_query();
    q.from = from, q.to = to, q.step = step;
    return q;
}

/* Top 2 of 4 pops over store and memory: the same groups, volumes and values as the first
 * two series of the full answer (the ranking pass reads the stored rows too). */
static void check_history_top(struct qoe_cube *c)
{
    char err[200];
    struct qoe_query q = hquery(TH0 - 3600, HEND, 3600);
    q.ngroup = 1, q.group_by[0] = BEACON_POP;
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *all = NULL, *two = NULL;
        q.metric = (enum qoe_metric)m;
        q.top = QOE_DEFAULT_TOP;
        T_EQ_INT(qoe_query_run(c, &q, &all, err, sizeof err), 0);
        q.top = 2;
        T_EQ_INT(qoe_query_run(c, &q, &two, err, sizeof err), 0);
        T_EQ_INT(all->nseries, 4);
        T_EQ_INT(two->nseries, 2);
        for (int s = 0; s < 2 && s < two->nseries && s < all->nseries; s++) {
            T_EQ_STR(two->series[s].values[0], all->series[s].values[0]);
            T_EQ_DBL(two->series[s].volume, all->series[s].volume, 0);
            for (int k = 0; k < two->npoints; k++) {
                double x = qoe_point(all, s, k), y = qoe_point(two, s, k);
                T_TRUE((isnan(x) && isnan(y)) || x == y);
            }
        }
        qoe_result_destroy(all);
        qoe_result_destroy(two);
    }
}

/* Every metric over (a) stored minute rows, (b) 5-minute rows, (c) hourly rows, (d) ranges
 * across all of them and memory. Returns points checked. */
static int check_history(struct qoe_cube *c)
{
    int n = 0;
    struct qoe_query q = hquery(TH0 + 7200, HEND - HMEM * 60, 60); /* (a) minute rows */
    n += check_all_metrics(c, q);
    q.step = 600, q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 7200, HEND - HMEM * 60, 1800); /* a last partial step */
    q.nfilters = 1, q.filters[0] = (struct qoe_filter){BEACON_REGION, "EMEA"};
    q.ngroup = 2, q.group_by[0] = BEACON_CDN, q.group_by[1] = BEACON_DEVICE;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 3600, TH0 + 7200, 300); /* (b) 5-minute rows */
    q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 3600, TH0 + 7200, 900);
    q.nfilters = 2;
    q.filters[0] = (struct qoe_filter){BEACON_POP, "FRA"};
    q.filters[1] = (struct qoe_filter){BEACON_POP, "AMS"};
    q.ngroup = 1, q.group_by[0] = BEACON_LIVE;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 3600, TH0 + 5400, 60); /* finer than the rows: see expected_res */
    n += check_metrics_res(c, q, 300);
    q = hquery(TH0 - 3600, TH0 + 3600, 3600); /* (c) hourly rows (the first one partial) */
    q.ngroup = 1, q.group_by[0] = BEACON_REGION;
    n += check_all_metrics(c, q);
    q = hquery(TH0 - 3600, TH0 + 3600, 7200);
    q.nfilters = 1, q.filters[0] = (struct qoe_filter){BEACON_CDN, "cdn-a"};
    n += check_all_metrics(c, q);
    q = hquery(TH0, TH0 + 3600, 600); /* finer than the rows */
    n += check_metrics_res(c, q, 3600);
    q = hquery(TH0 - 3600, HEND, HEND - TH0 + 3600); /* (d) everything, one point */
    n += check_all_metrics(c, q);
    q = hquery(TH0 - 3600, HEND, 3600); /* hours: 1h, 1h, 5m rows, minute rows + memory */
    q.ngroup = 1, q.group_by[0] = BEACON_DEVICE;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 6600, HEND + 120, 600); /* 5m rows, minute rows, memory, past the data */
    q.ngroup = 2, q.group_by[0] = BEACON_CDN, q.group_by[1] = BEACON_LIVE;
    n += check_all_metrics(c, q);
    check_history_top(c);
    return n;
}

struct params {
    const char *kv[16];
};

static const char *pget(void *arg, const char *name)
{
    const struct params *p = arg;
    for (int i = 0; p->kv[i]; i += 2)
        if (strcmp(p->kv[i], name) == 0)
            return p->kv[i + 1];
    return NULL;
}

struct parse_case {
    struct params p;
    int status;
    const char *detail; /* starts with the parameter */
};

static const struct parse_case parse_cases[] = {
    {{{"from", "0", "to", "60", NULL}}, 400, "metric:"},
    {{{"metric", "nope", "from", "0", "to", "60", NULL}}, 422, "metric:"},
    {{{"metric", "plays", "to", "60", NULL}}, 400, "from:"},
    {{{"metric", "plays", "from", "x", "to", "60", NULL}}, 400, "from:"},
    {{{"metric", "plays", "from", "60", "to", "60", NULL}}, 422, "to:"},
    {{{"metric", "plays", "from", "0", "to", "600", "step", "90", NULL}}, 422, "step:"},
    {{{"metric", "plays", "from", "0", "to", "600", "step", "6o", NULL}}, 400, "step:"},
    {{{"metric", "plays", "from", "0", "to", "600", "filter", "cdn", NULL}}, 400, "filter:"},
    {{{"metric", "plays", "from", "0", "to", "600", "filter", "colour:red", NULL}}, 422, "filter:"},
    {{{"metric", "plays", "from", "0", "to", "600", "group_by", "cdn,cdn", NULL}},
     422,
     "group_by:"},
    {{{"metric", "plays", "from", "0", "to", "600", "top", "0", NULL}}, 422, "top:"},
    {{{"metric", "plays", "from", "-5", "to", "600", NULL}}, 422, "from:"},
    {{{"metric", "plays", "from", "0", "to", "9223372036854775807", NULL}}, 422, "to:"},
    {{{"metric", "plays", "from", "0", "to", "6000000", "step", "60", NULL}}, 422, "step:"},
    {{{"metric", "plays", "from", "0", "to", "1772480400000", NULL}},
     422,
     "to: '1772480400000' looks like milliseconds"},
    {{{"metric", "plays", "from", "now-1x", "to", "now", NULL}}, 400, "from: 'now-1x': after now"},
    {{{"metric", "plays", "from", "yesterday", "to", "now", NULL}},
     400,
     "from: 'yesterday': give unix seconds"},
    {{{"metric", "rebufer_ratio", "from", "0", "to", "600", NULL}},
     422,
     "metric: unknown 'rebufer_ratio'; did you mean rebuffer_ratio? valid: "},
    {{{"metric", "rebuffer_ratio", "from", "0", "to", "600", "step", "120", "filter",
       "cdn:a,cdn:b,region:EU", "group_by", "pop,live", "top", "5", NULL}},
     0,
     NULL},
    {{{NULL}}, -1, NULL},
};

static void test_query_parse(void)
{
    struct qoe_query q;
    char scratch[256], err[1024];
    for (const struct parse_case *c = parse_cases; c->status >= 0; c++) {
        struct params p = c->p;
        int rc = qoe_query_parse(&q, pget, &p, 0, scratch, sizeof scratch, err, sizeof err);
        T_EQ_INT(rc ? http_status_for(rc) : 0, c->status); /* the one oc_err -> status map */
        if (c->detail)
            T_EQ_STR(strncmp(err, c->detail, strlen(c->detail)) == 0 ? c->detail : err, c->detail);
    }
    struct params ok = parse_cases[18].p;
    T_EQ_INT(qoe_query_parse(&q, pget, &ok, 0, scratch, sizeof scratch, err, sizeof err), 0);
    T_EQ_INT(q.metric, QOE_REBUFFER_RATIO);
    T_EQ_INT(q.step, 120);
    T_EQ_INT(q.nfilters, 3);
    T_EQ_STR(q.filters[1].value, "b");
    T_EQ_INT(q.filters[2].dim, BEACON_REGION);
    T_EQ_INT(q.ngroup, 2);
    T_EQ_INT(q.group_by[1], BEACON_LIVE);
    T_EQ_INT(q.top, 5);
    /* times as people write them: ISO 8601 and relative to the clock; steps as durations */
    struct params rel = {{"metric", "plays", "from", "now-2h", "to", "now", "step", "15m", NULL}};
    T_EQ_INT(qoe_query_parse(&q, pget, &rel, 1772480400, scratch, sizeof scratch, err, sizeof err),
             0);
    T_EQ_INT(q.from, 1772480400 - 7200);
    T_EQ_INT(q.to, 1772480400);
    T_EQ_INT(q.step, 900);
    struct params iso = {{"metric", "plays", "from", "2026-03-02T19:40:00Z", "to",
                          "2026-03-02T21:40:00.999+01:00", NULL}};
    T_EQ_INT(qoe_query_parse(&q, pget, &iso, 0, scratch, sizeof scratch, err, sizeof err), 0);
    T_EQ_INT(q.from, 1772480400);
    T_EQ_INT(q.to, 1772484000); /* the offset applied, the fraction dropped */
}

/* The metric table: indexed by its enum, names unique and found by name, ending in {0}; a
 * row's counts come from the right columns (rebuffer in seconds). */
static void test_metric_table(void)
{
    for (int m = 0; m < QOE_NMETRICS; m++) {
        T_EQ_INT(qoe_metrics[m].id, m);
        T_TRUE(qoe_metric_find(qoe_metrics[m].name) == &qoe_metrics[m]);
        T_EQ_INT(qoe_metric_parse(qoe_metrics[m].name), m);
        T_TRUE(qoe_metrics[m].cls != 0 && qoe_metrics[m].unit_per_count > 0);
    }
    T_TRUE(qoe_metrics[QOE_NMETRICS].name == NULL);
    T_TRUE(qoe_metric_find("vsf") == NULL && qoe_metric_find(NULL) == NULL);
    T_EQ_INT(qoe_metric_parse("rebuffering_share"), QOE_REBUFFERING_SHARE);
    struct qoe_minute *w = qoe_minute_new(T0, 1, 0);
    struct qoe_row row = {.leaf = 0,
                          .starts = 10,
                          .fails = 2,
                          .exits = 3,
                          .hb_sessions = 8,
                          .rb_sessions = 1,
                          .playing_ms = 9000,
                          .rebuffer_ms = 1000};
    qoe_minute_set(w, 0, &row);
    double num, den;
    qoe_metric_counts(&qoe_metrics[QOE_VSF_RATE], w, 0, &num, &den);
    T_EQ_DBL(num, 2, 0);
    T_EQ_DBL(den, 10, 0);
    qoe_metric_counts(&qoe_metrics[QOE_REBUFFER_RATIO], w, 0, &num, &den);
    T_EQ_DBL(num, 1, 0);
    T_EQ_DBL(den, 10, 0);
    qoe_metric_counts(&qoe_metrics[QOE_REBUFFERING_SHARE], w, 0, &num, &den);
    T_EQ_DBL(num, 1, 0);
    T_EQ_DBL(den, 8, 0);
    T_EQ_DBL(qoe_col_value(QOE_COL_OK, w, 0), 5, 0);
    qoe_minute_destroy(w);
}

/* The one validator: codes, the parameter named first, and the percentile cap. */
static void test_query_check(void)
{
    char err[200];
    struct qoe_query q = base_query();
    q.from = 0, q.to = 600, q.step = 60, q.top = 10;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0);
    q.step = 90;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "step: a positive multiple of 60 seconds");
    q.step = 600; /* the whole range */
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0);
    q.metric = QOE_STARTUP_P95, q.from = 0, q.to = 60 * 1000, q.step = 60, q.top = 9;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0); /* no group_by: one group, 1000 points */
    q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "step: percentiles allow at most 8192 groups x points (lower top or use a "
                  "larger step)");
    q.metric = QOE_PLAYS;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0);
    q.top = 0;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "top: must be 1 to 1000");
    q.metric = (enum qoe_metric)QOE_NMETRICS;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "metric: unknown");
}

static void test_result_json(void)
{
    struct oc_clock clk;
    struct qoe_cube *c = make_cube(&clk, OC_CLOCK_VIRTUAL);
    struct qoe_result *r = NULL;
    char err[100];
    generate();
    feed(c, &clk);
    struct qoe_query q = base_query();
    q.metric = QOE_PLAYS;
    q.from = T0 + 540, q.to = T0 + 660, q.step = 60;
    q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    q.top = 1;
    T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
    json_t *j = qoe_result_json(&q, r);
    char *s = json_dumps(j, JSON_COMPACT);
    T_CONTAINS(s, "\"metric\":\"plays\"");
    T_CONTAINS(s, "\"step\":60");
    T_CONTAINS(s, "\"group\":{\"cdn\":\"cdn-");
    T_CONTAINS(s, ",[1700000640,null]]"); /* the minute after the data */
    qoe_result_destroy(r);
    /* a range of centuries costs no more than the minutes in memory */
    struct qoe_query all = base_query();
    all.metric = QOE_PLAYS;
    all.from = 0, all.to = QOE_MAX_TIME, all.step = QOE_MAX_TIME;
    int64_t t0 = oc_mono_ns();
    T_EQ_INT(qoe_query_run(c, &all, &r, err, sizeof err), 0);
    T_TRUE(oc_mono_ns() - t0 < 1000000000LL);
    struct qoe_query whole = base_query();
    whole.metric = QOE_PLAYS;
    T_EQ_DBL(qoe_point(r, 0, 0), expected(&whole, NULL, whole.from, whole.to), 0);
    free(s);
    json_decref(j);
    qoe_result_destroy(r);
    qoe_cube_destroy(c);
}

/* ---- over HTTP: POST /v1/events and GET /v1/qoe through the real server and modules ---- */

static char base[128];

static int any_token(void *arg, const char *token, struct oc_arena *arena, enum http_role *role,
                     const char **name)
{
    (void)arg;
    *role = strcmp(token, "viewer") == 0 ? HTTP_VIEWER : HTTP_INGEST;
    *name = oc_arena_strdup(arena, token);
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    oc_buf_append(arg, p, size * n);
    return size * n;
}

/* One request; the status, with the body (and headers, when hdr) in out. */
static long call(const char *method, const char *path, const char *token, const char *body,
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

static void test_http_events_and_query(void)
{
    struct oc_clock clk;
    struct oc_app app = {.metrics = oc_metrics_new(), .clock = &clk};
    struct oc_buf b, hd;
    void *ist = NULL, *qst = NULL;
    char err[256] = "", path[256];
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000 + 1000);
    struct http_server_opts o = {
        .listen = "127.0.0.1:0", .workers = 2, .max_body = 1 << 24, .arena_max = 1 << 26};
    struct http_server *srv = http_server_new(&o, &app);
    T_EQ_INT(ingest_module.init(&app, &ist), OC_ENOTFOUND); /* the cube is qoe's */
    T_EQ_INT(qoe_module.init(&app, &qst), 0);
    T_EQ_INT(ingest_module.init(&app, &ist), 0);
    T_EQ_INT(http_server_add_routes(srv, ingest_module.routes, ist), 0);
    T_EQ_INT(http_server_add_routes(srv, qoe_module.routes, qst), 0);
    struct http_hooks hooks = {.authenticate = any_token};
    http_server_set_hooks(srv, &hooks);
    T_EQ_INT(http_server_start(srv, err, sizeof err), 0);
    snprintf(base, sizeof base, "http://%s", http_server_addr(srv));
    oc_buf_init(&b, 1 << 20);
    oc_buf_init(&hd, 1 << 16);
    T_EQ_INT(
        call("POST", "/v1/events", "ing",
             "{\"ts\":1700000041000,\"type\":\"start\",\"session\":\"a\",\"outcome\":\"failure\","
             "\"cdn\":\"x\"}\n{\"ts\":1700000042000,\"type\":\"start\",\"session\":\"b\"}\n"
             "{\"ts\":1700000043000,\"type\":\"start\",\"session\":\"c\",\"outcome\":\"exit\","
             "\"cdn\":\"x\"}\n",
             &b, &hd),
        200);
    T_EQ_STR(b.data,
             "{\"accepted\":2,\"rejected\":1,\"errors\":[{\"index\":1,\"reason\":"
             "\"bad_outcome\",\"detail\":\"a start needs outcome success, failure or exit\"}]}\n");
    T_CONTAINS(hd.data, "Access-Control-Allow-Origin: *");
    T_EQ_INT(call("POST", "/v1/events", "ing", "not json", &b, &hd), 400);
    T_CONTAINS(b.data, "not JSON");
    T_CONTAINS(hd.data, "application/problem+json");
    T_EQ_INT(call("OPTIONS", "/v1/events", "ing", NULL, &b, &hd), 204);
    T_CONTAINS(hd.data, "Access-Control-Allow-Origin: *");
    qoe_cube_flush(qoe_cube_of(&app));
    snprintf(path, sizeof path, "/v1/qoe?metric=vsf_rate&from=%lld&to=%lld&group_by=cdn",
             (long long)T0, (long long)T0 + 60);
    T_EQ_INT(call("GET", path, "viewer", NULL, &b, NULL), 200);
    T_EQ_STR(b.data, "{\"metric\":\"vsf_rate\",\"from\":1700000040,\"to\":1700000100,\"step\":60,"
                     "\"series\":[{\"group\":{\"cdn\":\"x\"},\"points\":[[1700000040,0.5]]}]}\n");
    T_EQ_INT(call("GET", "/v1/qoe?metric=plays&from=1&to=x", "viewer", NULL, &b, NULL), 400);
    T_CONTAINS(b.data, "to: 'x': give unix seconds");
    T_EQ_INT(call("GET", "/v1/qoe?metric=nope&from=1&to=2", "viewer", NULL, &b, NULL), 422);
    T_EQ_INT(call("GET", "/v1/qoe/dimensions", "viewer", NULL, &b, NULL), 200);
    T_CONTAINS(b.data, "{\"name\":\"cdn\",\"distinct\":3,\"top\":[{\"value\":\"x\"");
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    ingest_module.stop(&app, ist);
    qoe_module.stop(&app, qst);
    T_TRUE(qoe_cube_of(&app) == NULL);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
    oc_buf_free(&hd);
}

/* GET /v1/qoe of the modules started on the store (10 minutes in memory): hourly plays from
 * the stored hourly rows, and every metric by the hour through the module's cube. */
static void history_http(struct store *st)
{
    struct oc_clock clk;
    static const struct oc_module *const mods[] = {&qoe_module, &ingest_module, NULL};
    struct oc_config cfg;
    char mem[32], why[256];
    config_init(&cfg, mods);
    snprintf(mem, sizeof mem, "%d", HMEM);
    T_EQ_INT(config_set(&cfg, "qoe.memory_minutes", mem, why, sizeof why), 0);
    struct oc_app app = {.metrics = oc_metrics_new(), .clock = &clk, .store = st, .cfg = &cfg};
    struct oc_buf b;
    void *ist = NULL, *qst = NULL;
    char err[256] = "", path[256], want[512];
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, HEND * 1000);
    struct http_server_opts o = {
        .listen = "127.0.0.1:0", .workers = 2, .max_body = 1 << 20, .arena_max = 1 << 24};
    struct http_server *srv = http_server_new(&o, &app);
    T_EQ_INT(ingest_module.init(&app, &ist), OC_ENOTFOUND); /* the cube is qoe's */
    T_EQ_INT(qoe_module.init(&app, &qst), 0);
    T_EQ_INT(ingest_module.init(&app, &ist), 0);
    T_EQ_INT(http_server_add_routes(srv, qoe_module.routes, qst), 0);
    struct http_hooks hooks = {.authenticate = any_token};
    http_server_set_hooks(srv, &hooks);
    T_EQ_INT(http_server_start(srv, err, sizeof err), 0);
    snprintf(base, sizeof base, "http://%s", http_server_addr(srv));
    oc_buf_init(&b, 1 << 20);
    struct qoe_query q = hquery(TH0 - 3600, TH0 + 3600, 3600);
    q.metric = QOE_PLAYS;
    snprintf(path, sizeof path, "/v1/qoe?metric=plays&from=%lld&to=%lld&step=3600",
             (long long)q.from, (long long)q.to);
    snprintf(want, sizeof want,
             "{\"metric\":\"plays\",\"from\":%lld,\"to\":%lld,\"step\":3600,\"series\":[{\"group\":"
             "{},\"points\":[[%lld,%.0f],[%lld,%.0f]]}]}\n",
             (long long)q.from, (long long)q.to, (long long)q.from,
             expected(&q, NULL, q.from, q.from + 3600), (long long)TH0,
             expected(&q, NULL, TH0, TH0 + 3600));
    T_EQ_INT(call("GET", path, "viewer", NULL, &b, NULL), 200);
    T_EQ_STR(b.data, want);
    T_TRUE(check_all_metrics(qoe_cube_of(&app), hquery(TH0 - 3600, HEND, 3600)) > 30);
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    ingest_module.stop(&app, ist);
    qoe_module.stop(&app, qst);
    T_TRUE(qoe_cube_of(&app) == NULL);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
    config_free(&cfg);
}

static void test_history_rollups_and_restart(void)
{
    char dir[] = "/tmp/oc-qoe-XXXXXX", err[256];
    struct store *st = NULL;
    struct oc_clock clk;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    struct qoe_cube *c = history_cube(&clk, st);
    generate_span(HSTART, (int)((HEND - HSTART) / 60), HSESS);
    T_TRUE(nev > 10000 && nev < MAXEV);
    T_EQ_INT(feed_store(c, &clk, st), (size_t)nev);
    T_EQ_INT(stored_rows(st, 60), (HEND - HSTART) / 60);
    oc_clock_set_ms(&clk, HEND * 1000);
    T_EQ_INT(qoe_cube_compact(c, st, oc_clock_now_s(&clk)), 0);
    T_EQ_INT(stored_rows(st, 60), 60);  /* [TH0 + 2 h, HEND) */
    T_EQ_INT(stored_rows(st, 300), 12); /* [TH0 + 1 h, TH0 + 2 h) */
    T_EQ_INT(stored_rows(st, 3600), 2); /* [TH0 - 1 h, TH0 + 1 h) */
    int64_t lo, hi;
    qoe_cube_window(c, &lo, &hi);
    T_EQ_INT(lo, HEND - HMEM * 60); /* the rest is in the store only */
    int checked = check_history(c);
    T_TRUE(checked > 1500);
    qoe_cube_destroy(c); /* restart: a new store handle and cube answer the same */
    store_close(st);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    c = history_cube(&clk, st);
    T_EQ_INT(check_history(c), checked);
    qoe_cube_destroy(c);
    history_http(st);
    store_close(st);
    remove_store_dir(dir);
}

/* Replaces every stored row with one 5-minute row at t in the format written before rollups
 * kept per-minute detail (blob v1), merged from the minutes of c in memory. */
static void store_legacy_rollup(struct qoe_cube *c, struct store *st, int64_t t)
{
    struct qoe_minute *ms[5];
    struct store_stmt *q;
    for (int i = 0; i < 5; i++)
        ms[i] = (struct qoe_minute *)qoe_cube_minute(c, t + 60 * i);
    struct qoe_minute *m = minute_merge(t, 300, ms, 5);
    free(m->det_off), free(m->det_n), free(m->det);
    m->det_off = m->det_n = NULL, m->det = NULL, m->ndet = 0;
    size_t len;
    void *blob = minute_encode(m, &len);
    store_lock(st);
    T_EQ_INT(store_prepare(st, "DELETE FROM qoe_minutes", &q), 0);
    T_EQ_INT(store_step(q), STORE_DONE);
    store_reset(q);
    T_EQ_INT(store_prepare(st, "INSERT INTO qoe_minutes(res, t, data) VALUES (300, ?, ?)", &q), 0);
    store_bind_int(q, 1, t);
    store_bind_blob(q, 2, blob, len);
    T_EQ_INT(store_step(q), STORE_DONE);
    store_reset(q);
    store_unlock(st);
    free(blob);
    qoe_minute_destroy(m);
}

/* A store holding only an old-format 5-minute row (after a restart): the memory window
 * starts after it, and it answers every metric but the per-minute ones (no detail: null). */
static void test_history_legacy_rollup(void)
{
    char dir[] = "/tmp/oc-qoe-XXXXXX", err[256];
    struct store *st = NULL;
    struct oc_clock clk;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    struct qoe_cube *c = history_cube(&clk, st);
    generate_span(TH0, 5, 30);
    T_EQ_INT(feed_store(c, &clk, st), (size_t)nev);
    store_legacy_rollup(c, st, TH0);
    qoe_cube_destroy(c);
    c = history_cube(&clk, st);
    int64_t lo, hi;
    qoe_cube_window(c, &lo, &hi);
    T_EQ_INT(lo, TH0 + 300);
    T_EQ_INT(hi, TH0 + 300);
    struct qoe_query q = hquery(TH0, TH0 + 300, 300);
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *r = NULL;
        q.metric = (enum qoe_metric)m;
        T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
        double got = r ? qoe_point(r, 0, 0) : 0;
        if (m == QOE_REBUFFERING_SHARE || m == QOE_CONCURRENT)
            T_TRUE(isnan(got));
        else if (!close_enough(q.metric, got, expected(&q, NULL, TH0, TH0 + 300)))
            T_FAIL_AT("%s: got %.12g", qoe_metrics[m].name, got);
        /* the edge metrics have no data here: no CDN logs came in */
        T_TRUE(!isnan(got) || m == QOE_REBUFFERING_SHARE || m == QOE_CONCURRENT ||
               m >= QOE_EDGE_REQUESTS);
        qoe_result_destroy(r);
    }
    qoe_cube_destroy(c);
    store_close(st);
    remove_store_dir(dir);
}

/* Memory longer than the rollup age: a 5-minute row reaches into the minutes in memory; it
 * wins over them and nothing counts twice (every metric over the whole range and by 5 min). */
static void test_history_rollup_into_memory(void)
{
    char dir[] = "/tmp/oc-qoe-XXXXXX", err[256];
    struct store *st = NULL;
    struct oc_clock clk;
    struct qoe_cube_opts o;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    qoe_cube_opts_default(&o);
    o.memory_minutes = 8;
    o.rollup_5m_after_s = 60;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, TH0 * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    T_EQ_INT(qoe_cube_load(c, st, err, sizeof err), 0);
    generate_span(TH0, 30, 30);
    T_EQ_INT(feed_store(c, &clk, st), (size_t)nev);
    T_EQ_INT(qoe_cube_compact(c, st, TH0 + 1800), 0);
    T_EQ_INT(stored_rows(st, 300), 5); /* [TH0, TH0 + 1500): the last one reaches into memory */
    int64_t lo, hi;
    qoe_cube_window(c, &lo, &hi);
    T_EQ_INT(lo, TH0 + 1800 - 480);
    int n = check_all_metrics(c, hquery(TH0, TH0 + 1800, 1800));
    struct qoe_query q = hquery(TH0, TH0 + 1800, 300);
    q.ngroup = 1, q.group_by[0] = BEACON_REGION;
    n += check_all_metrics(c, q);
    T_TRUE(n > 100);
    qoe_cube_destroy(c);
    store_close(st);
    remove_store_dir(dir);
}

/* One failed start (error 0) or error event (error 1) with code (NULL: none) at t_s. */
static size_t failure(struct qoe_cube *c, int64_t t_s, int error, const char *code,
                      const char *device, const char *drm)
{
    struct beacon_event e;
    memset(&e, 0, sizeof e);
    e.ts_ms = t_s * 1000;
    e.type = error ? BEACON_ERROR : BEACON_START;
    e.outcome = error ? BEACON_OUTCOME_NONE : BEACON_FAILURE;
    e.session = (struct beacon_str){"s1", 2};
    e.dims[BEACON_DEVICE] = (struct beacon_str){device, (uint32_t)strlen(device)};
    e.dims[BEACON_DRM] = (struct beacon_str){drm, (uint32_t)strlen(drm)};
    if (code)
        e.error_code = (struct beacon_str){code, (uint32_t)strlen(code)};
    return qoe_cube_add_event(c, &e);
}

/* The error codes: counted per code with their kind, sliced by the leaves' values; no code is
 * "unknown"; bytes outside printable ASCII become '?', long codes are cut; a successful start
 * counts for nothing; past QOE_ERR_CODES codes in a minute, "other"; a range outside the
 * minutes kept answers nothing; an event older than the minutes kept is counted as too old. */
static void test_error_codes(void)
{
    struct oc_clock clk;
    struct qoe_cube_opts o;
    struct qoe_err_answer a;
    char code[QOE_ERR_CODE_LEN];
    qoe_cube_opts_default(&o);
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    for (int i = 0; i < 3; i++)
        T_EQ_INT(failure(c, T0 + i, 0, "DRM_LICENSE_FAILED", "smart_tv", "playready"), 1);
    T_EQ_INT(failure(c, T0 + 61, 0, "DRM_LICENSE_FAILED", "roku", "playready"), 1);
    T_EQ_INT(failure(c, T0 + 62, 1, "PLAYER_CRASH", "web", "widevine"), 1);
    T_EQ_INT(failure(c, T0 + 63, 1, "PLAYER_CRASH", "web", "fairplay"), 1);
    T_EQ_INT(failure(c, T0 + 64, 0, NULL, "web", "widevine"), 1);
    T_EQ_INT(start_title(c, T0 + 65, "t"), 1);
    T_EQ_INT(qoe_cube_errors(c, T0, T0 + 120, 10, &a), 0);
    T_EQ_INT(a.events, 7);
    T_EQ_INT(a.minutes, 2);
    T_EQ_INT(a.ncodes, 3);
    T_EQ_STR(a.codes[0].code, "DRM_LICENSE_FAILED");
    T_EQ_INT(a.codes[0].fails, 4);
    T_EQ_INT(a.codes[0].errors, 0);
    T_EQ_INT(a.codes[0].sl->nvalues[BEACON_DEVICE], 2);
    T_EQ_STR(a.codes[0].sl->value[BEACON_DEVICE][0], "smart_tv");
    T_EQ_INT(a.codes[0].sl->value_n[BEACON_DEVICE][0], 3);
    T_EQ_STR(a.codes[0].sl->value[BEACON_DEVICE][1], "roku");
    T_EQ_INT(a.codes[0].sl->distinct[BEACON_DRM], 1);
    T_EQ_STR(a.codes[0].sl->value[BEACON_DRM][0], "playready");
    T_EQ_INT(a.codes[0].sl->value_n[BEACON_DRM][0], 4);
    T_EQ_STR(a.codes[0].sl->value[BEACON_REGION][0], "unknown");
    T_EQ_STR(a.codes[1].code, "PLAYER_CRASH");
    T_EQ_INT(a.codes[1].errors, 2);
    T_EQ_INT(a.codes[1].sl->distinct[BEACON_DRM], 2);
    T_EQ_STR(a.codes[2].code, "unknown");
    T_EQ_INT(a.codes[2].fails, 1);
    qoe_err_answer_free(&a);
    T_EQ_INT(qoe_cube_errors(c, T0 + 60, T0 + 120, 1, &a), 0); /* the second minute, top 1 */
    T_EQ_INT(a.events, 4);
    T_EQ_INT(a.ncodes, 1);
    T_EQ_STR(a.codes[0].code, "PLAYER_CRASH");
    qoe_err_answer_free(&a);
    T_EQ_INT(qoe_cube_errors(c, T0 + 3600, T0 + 7200, 10, &a), 0);
    T_EQ_INT(a.events, 0);
    T_EQ_INT(a.ncodes, 0);
    qoe_err_answer_free(&a);

    qoe_err_code_clean("a\x01"
                       "b\xc3\xa9",
                       5, code);
    T_EQ_STR(code, "a?b??");
    qoe_err_code_clean(NULL, 0, code);
    T_EQ_STR(code, "unknown");
    char long_code[200];
    memset(long_code, 'X', sizeof long_code - 1);
    long_code[sizeof long_code - 1] = 0;
    qoe_err_code_clean(long_code, strlen(long_code), code);
    T_EQ_INT(strlen(code), QOE_ERR_CODE_LEN - 1);

    /* a minute with 300 codes: 255 of them and "other" */
    oc_clock_set_ms(&clk, (T0 + 600) * 1000);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "E%03d", i);
        T_EQ_INT(failure(c, T0 + 600, 0, name, "web", "widevine"), 1);
    }
    T_EQ_INT(qoe_cube_errors(c, T0 + 600, T0 + 660, QOE_ERR_CODES, &a), 0);
    T_EQ_INT(a.events, 300);
    T_EQ_INT(a.ncodes, QOE_ERR_CODES);
    T_EQ_STR(a.codes[0].code, "other");
    T_EQ_INT(a.codes[0].fails, 300 - (QOE_ERR_CODES - 1));
    qoe_err_answer_free(&a);

    /* two hours later the first minutes' slots are reused; an event of then is too old */
    oc_clock_set_ms(&clk, (T0 + 7200) * 1000);
    T_EQ_INT(failure(c, T0 + 7200, 0, "LATE", "web", "widevine"), 1);
    T_EQ_INT(qoe_cube_errors(c, T0 + 7140, T0 + 7260, 10, &a), 0);
    T_EQ_INT(a.events, 1);
    T_EQ_INT(a.too_old, 0);
    qoe_err_answer_free(&a);
    qoe_cube_destroy(c);
}

/* clang-format off */
static const struct t_case cases[] = {
    T_CASE(test_formulas_every_slice),
    T_CASE(test_formulas_with_late_events),
    T_CASE(test_filter_unknown_value_is_empty),
    T_CASE(test_top_k_by_volume),
    T_CASE(test_replay_equals_realtime),
    T_CASE(test_accounts),
    T_CASE(test_cap_folds_into_other),
    T_CASE(test_sweep_ages_values_out),
    T_CASE(test_closed_list_changes),
    T_CASE(test_error_codes),
    T_CASE(test_history_rollups_and_restart),
    T_CASE(test_history_legacy_rollup),
    T_CASE(test_history_rollup_into_memory),
    T_CASE(test_query_parse),
    T_CASE(test_metric_table),
    T_CASE(test_query_check),
    T_CASE(test_result_json),
    T_CASE(test_http_events_and_query),
    {0},
};
/* clang-format on */

T_MAIN(cases)
