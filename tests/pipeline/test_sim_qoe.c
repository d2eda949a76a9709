/*
 * test_sim_qoe.c - the simulator feeding the real ingest path in-process on the virtual
 * clock (NDJSON lines -> ingest_parse -> the cube), checked through the QoE query engine
 * (qoe_query_run, what GET /v1/qoe answers): the healthy baseline sits at the configured
 * values, and in emea-cdn the rebuffer ratio rises only in EMEA/primary on FRA, AMS and PAR.
 */
#include "t.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "ingest/ingest.h"
#include "pipeline/sim_meter.h"
#include "qoe/qoe.h"
#include "sim/sim_int.h"
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define VIEWERS 10000

struct feed {
    struct oc_buf body;        /* NDJSON of the current simulated second */
    struct ingest_batch batch; /* reused */
    struct qoe_cube *cube;
    struct meter *m; /* the same events, measured directly */
    size_t lines, accepted;
};

static void feed_sink(void *arg, const struct beacon_event *ev)
{
    struct feed *f = arg;
    T_EQ_INT(sim_ndjson_append(&f->body, ev), 0);
    f->lines++;
    meter_sink(f->m, ev);
}

/* After each simulated second: parse what it produced and fold it into the cube. */
static void feed_tick(void *arg, int64_t now_ms)
{
    struct feed *f = arg;
    char err[200];
    (void)now_ms;
    if (f->body.len) {
        T_EQ_INT(ingest_parse(&f->batch, f->body.data, f->body.len, err, sizeof(err)), 0);
        T_EQ_INT(f->batch.nev, f->batch.nitems);
        f->accepted += ingest_fold(f->cube, &f->batch, NULL);
        oc_buf_reset(&f->body);
    }
    qoe_cube_tick(f->cube);
}

struct qrun {
    struct oc_clock clk;
    struct feed f;
    struct sim_topo *t;
    struct sim_scenario *sc;
    struct sim *s;
    int64_t t0; /* run start, unix seconds */
};

static void qrun_n(struct qrun *q, const char *scenario, int minutes, int viewers)
{
    struct qoe_cube_opts co;
    struct sim_opts o = {.seed = 5, .viewers = viewers, .sink = feed_sink, .sink_arg = &q->f};
    memset(q, 0, sizeof(*q));
    o.tick = feed_tick;
    o.tick_arg = &q->f;
    o.clock = &q->clk;
    oc_clock_init(&q->clk, OC_CLOCK_VIRTUAL, (SIM_DEFAULT_DAY + 19 * 3600 + 1800) * 1000);
    qoe_cube_opts_default(&co);
    q->f.cube = qoe_cube_new(&co, &q->clk);
    q->f.m = calloc(1, sizeof(*q->f.m));
    oc_buf_init(&q->f.body, 64u << 20);
    ingest_batch_init(&q->f.batch, 1000000);
    T_EQ_INT(sim_topo_default(&q->t), 0);
    if (scenario)
        T_EQ_INT(sim_scenario_builtin(scenario, &q->sc), 0);
    T_EQ_INT(sim_new(&o, q->t, q->sc, &q->s), 0);
    q->t0 = sim_now_ms(q->s) / 1000;
    meter_init(q->f.m, sim_now_ms(q->s));
    meter_add(q->f.m, NULL);
    sim_run(q->s, sim_now_ms(q->s) + minutes * 60000LL);
    qoe_cube_flush(q->f.cube);
    T_EQ_INT(q->f.accepted, q->f.lines);
}

static void qrun(struct qrun *q, const char *scenario, int minutes)
{
    qrun_n(q, scenario, minutes, VIEWERS);
}

static void qrun_free(struct qrun *q)
{
    sim_destroy(q->s);
    sim_scenario_destroy(q->sc);
    sim_topo_destroy(q->t);
    qoe_cube_destroy(q->f.cube);
    ingest_batch_free(&q->f.batch);
    oc_buf_free(&q->f.body);
    meter_free(q->f.m);
    free(q->f.m);
}

/* One query over [from, to) as a single step; filters "dim=value" pairs, group by dims. */
static struct qoe_result *query(struct qrun *q, enum qoe_metric m, int64_t from, int64_t to,
                                const char *const *filters, const int *group, int ngroup)
{
    struct qoe_query qq = {.metric = m, .from = from, .to = to, .step = to - from, .top = 100};
    struct qoe_result *r = NULL;
    char err[200] = "";
    for (int i = 0; filters && filters[i]; i += 2) {
        qq.filters[qq.nfilters].dim = qoe_dim_parse(filters[i]);
        qq.filters[qq.nfilters++].value = filters[i + 1];
    }
    for (int i = 0; i < ngroup; i++)
        qq.group_by[qq.ngroup++] = group[i];
    T_EQ_INT(qoe_query_run(q->f.cube, &qq, &r, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    return r;
}

static double value(struct qrun *q, enum qoe_metric m, int64_t from, int64_t to,
                    const char *const *filters)
{
    struct qoe_result *r = query(q, m, from, to, filters, NULL, 0);
    double v = r && r->nseries == 1 ? qoe_point(r, 0, 0) : NAN;
    qoe_result_destroy(r);
    return v;
}

/* With no fault the four metrics sit at the configured baseline, and the server's numbers
 * equal the ones computed from the events directly. */
static void test_qoe_baseline(void)
{
    struct qrun *q = calloc(1, sizeof(*q));
    qrun(q, NULL, 20);
    int64_t a = q->t0 + 60, b = q->t0 + 20 * 60;
    double ratio = value(q, QOE_REBUFFER_RATIO, a, b, NULL);
    printf("  qoe baseline: ratio %.4f vsf %.4f ebvs %.4f p50 %.0f share %.4f viewers %.0f\n",
           ratio, value(q, QOE_VSF_RATE, a, b, NULL), value(q, QOE_EBVS_RATE, a, b, NULL),
           value(q, QOE_STARTUP_P50, a, b, NULL), value(q, QOE_REBUFFERING_SHARE, a, b, NULL),
           value(q, QOE_CONCURRENT, a, b, NULL));
    T_EQ_DBL(ratio, 0.007, 0.0008);
    T_EQ_DBL(ratio, meter_ratio(meter_sum(q->f.m, 0, 1, 20)), 1e-9);
    T_EQ_DBL(value(q, QOE_VSF_RATE, a, b, NULL), 0.005, 0.0015);
    T_EQ_DBL(value(q, QOE_VSF_RATE, a, b, NULL), meter_vsf(meter_sum(q->f.m, 0, 1, 20)), 1e-9);
    T_EQ_DBL(value(q, QOE_EBVS_RATE, a, b, NULL), 0.02, 0.003);
    T_EQ_DBL(value(q, QOE_STARTUP_P50, a, b, NULL), 1200, 60);
    T_TRUE(value(q, QOE_REBUFFERING_SHARE, a, b, NULL) < 0.025);
    T_EQ_DBL(value(q, QOE_CONCURRENT, a, b, NULL), VIEWERS, 600);
    T_EQ_DBL(value(q, QOE_AVG_BITRATE, a, b, NULL), 4300, 300);
    qrun_free(q);
    free(q);
}

/* emea-cdn through the query API: group by region and cdn, then by pop within EMEA/primary. */
static void test_qoe_emea_cdn(void)
{
    static const char *const emea_primary[] = {"region", "EMEA", "cdn", "primary", NULL};
    static const int by_rc[] = {BEACON_REGION, BEACON_CDN};
    static const int by_pop[] = {BEACON_POP};
    struct qrun *q = calloc(1, sizeof(*q));
    qrun(q, "emea-cdn", 30);
    int64_t a = q->t0 + 18 * 60, b = q->t0 + 30 * 60; /* fault from minute 13, +5 */
    struct qoe_result *r = query(q, QOE_REBUFFER_RATIO, a, b, NULL, by_rc, 2);
    T_EQ_INT(r ? r->nseries : 0, 4);
    for (int s = 0; r && s < r->nseries; s++) {
        const char *reg = r->series[s].values[0], *cdn = r->series[s].values[1];
        double v = qoe_point(r, s, 0);
        printf("  qoe emea-cdn: %s/%s ratio %.4f\n", reg, cdn, v);
        if (strcmp(reg, "EMEA") == 0 && strcmp(cdn, "primary") == 0)
            T_TRUE(v > 0.05);
        else
            T_TRUE(v < 0.011);
    }
    qoe_result_destroy(r);
    r = query(q, QOE_REBUFFER_RATIO, a, b, emea_primary, by_pop, 1);
    T_EQ_INT(r ? r->nseries : 0, 8);
    for (int s = 0; r && s < r->nseries; s++) {
        const char *pop = r->series[s].values[0];
        int hit = !strcmp(pop, "FRA") || !strcmp(pop, "AMS") || !strcmp(pop, "PAR");
        double v = qoe_point(r, s, 0);
        if (hit)
            T_EQ_DBL(v, 0.117, 0.015); /* 1 point a minute from minute 13: 5..17 + 0.7 */
        else
            T_TRUE(v < 0.011);
    }
    qoe_result_destroy(r);
    T_TRUE(value(q, QOE_REBUFFER_RATIO, q->t0 + 60, q->t0 + 13 * 60, emea_primary) < 0.011);
    qrun_free(q);
    free(q);
}

/* Every shipped fault through the query API: its metric in its ground-truth slice (the truth
 * dims as the filter) sits at baseline before the fault and far above it during. */
struct qcase {
    const char *scenario;
    enum qoe_metric metric;
    double before_max; /* in the slice, before the fault */
    double during_min; /* in the slice, from fault start + 2 min for 4 minutes */
};

static const struct qcase qcases[] = {
    {"emea-cdn", QOE_REBUFFER_RATIO, 0.012, 0.03},
    {"drm-outage", QOE_VSF_RATE, 0.03, 0.8},
    {"origin-stall", QOE_REBUFFER_RATIO, 0.012, 0.6},
    {"isp-peering", QOE_REBUFFER_RATIO, 0.015, 0.05},
    {"bad-player-build", QOE_VSF_RATE, 0.04, 0.2},
    {0},
};

static void test_qoe_scenarios(void)
{
    for (const struct qcase *c = qcases; c->scenario; c++) {
        struct qrun *q = calloc(1, sizeof(*q));
        const char *filters[2 * QOE_MAX_FILTERS + 1] = {0};
        struct sim_scenario *sc = NULL;
        int nf = 0, n = 0;
        T_EQ_INT(sim_scenario_builtin(c->scenario, &sc), 0);
        int64_t fs = (sc ? sc->faults[0].truth.start_ms : 0) / 1000;
        qrun_n(q, c->scenario, (int)(fs / 60) + 6, 4000);
        const struct sim_truth *t = sim_truth(q->s, &n);
        for (int d = 0; d < t[0].n_dims; d++)
            for (int k = 0; k < t[0].dims[d].n; k++) {
                filters[nf++] = beacon_dim_names[t[0].dims[d].dim];
                filters[nf++] = t[0].dims[d].vals[k];
            }
        double before = value(q, c->metric, q->t0 + 60, q->t0 + fs, filters);
        double during = value(q, c->metric, q->t0 + fs + 120, q->t0 + fs + 360, filters);
        printf("  qoe %s: %s in the truth slice %.4f before, %.4f during\n", c->scenario,
               qoe_metrics[c->metric].name, before, during);
        T_TRUE(before < c->before_max);
        T_TRUE(during > c->during_min);
        sim_scenario_destroy(sc);
        qrun_free(q);
        free(q);
    }
}

static const struct t_case cases[] = {
    T_CASE(test_qoe_baseline),
    T_CASE(test_qoe_emea_cdn),
    T_CASE(test_qoe_scenarios),
    {0},
};

T_MAIN(cases)
