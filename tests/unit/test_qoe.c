/*
 * test_qoe.c - the query engine against the docs/contracts.md formulas computed independently.
 *
 * Generated events with known answers (t_qoe.h) go through the real parser and cube; every
 * metric over several slices, steps and group-bys is compared with a direct computation over
 * the raw events (to 1e-9; startup percentiles to the sketch's 1% bound). Also: late events,
 * replay and virtual clocks agree, the accounts beacons carry, cardinality caps fold into
 * "other", idle values age out, closed lists, error codes. History and rollups are in
 * test_qoe_history.c; parameter parsing, JSON and HTTP in test_qoe_api.c.
 */
#include "t_qoe.h"

#include "core/err.h"
#include "qoe/accounts.h"

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

/* With max_values_per_dim = 2, the third and later pops fold into "other", counted. */
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
    {0},
};
/* clang-format on */

T_MAIN(cases)
