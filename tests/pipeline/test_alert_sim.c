/*
 * test_alert_sim.c - the shipped alert rules on simulated populations, in-process on the
 * virtual clock: simulator -> NDJSON -> ingest_parse -> cube -> alert_eval_tick every
 * simulated second -> the bus. blip never fires; emea-cdn fires the EMEA page-level
 * rebuffering alert within its window + 1 minute of the band being crossed, with the slice
 * region=EMEA, and pages nothing outside EMEA.
 */
#include "t.h"

#include "alert/alert.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "ingest/ingest.h"
#include "qoe/qoe.h"
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define VIEWERS 10000
#define BAND    0.05 /* the page band of rebuffering-region-page */

struct run {
    struct oc_clock clk;
    struct oc_buf body;
    struct ingest_batch batch;
    struct qoe_cube *cube;
    struct oc_bus *bus;
    struct slo_set *slos;
    struct alert_rules *rules;
    struct alert_engine *eng;
    json_t *events; /* [{"topic", "payload", "clock_s"}] */
    struct sim_topo *t;
    struct sim_scenario *sc;
    struct sim *s;
    int64_t t0;      /* run start, unix seconds */
    int64_t fault_s; /* fault start */
    int64_t eval_ns; /* time spent in alert_eval_tick */
};

static void capture(const char *topic, const json_t *payload, void *arg)
{
    struct run *r = arg;
    json_array_append_new(r->events,
                          json_pack("{s:s, s:O, s:I}", "topic", topic, "payload", payload,
                                    "clock_s", (json_int_t)oc_clock_now_s(&r->clk)));
}

static void sink(void *arg, const struct beacon_event *ev)
{
    struct run *r = arg;
    T_EQ_INT(sim_ndjson_append(&r->body, ev), 0);
}

/* After each simulated second: ingest it, close due minutes, evaluate the rules. */
static void tick(void *arg, int64_t now_ms)
{
    struct run *r = arg;
    char err[200];
    if (r->body.len) {
        T_EQ_INT(ingest_parse(&r->batch, r->body.data, r->body.len, err, sizeof(err)), 0);
        ingest_fold(r->cube, &r->batch, NULL);
        oc_buf_reset(&r->body);
    }
    qoe_cube_tick(r->cube);
    int64_t t = oc_mono_ns();
    alert_eval_tick(r->eng, r->cube, now_ms / 1000);
    r->eval_ns += oc_mono_ns() - t;
    oc_bus_drain(r->bus);
}

/* Runs scenario for its duration from 19:30 (healthy: the same population, no fault). */
static void run(struct run *r, const char *scenario, int viewers, int healthy)
{
    struct qoe_cube_opts co;
    struct sim_opts o = {.seed = 7, .viewers = viewers, .sink = sink, .sink_arg = r};
    char err[512] = "";
    int n = 0;
    memset(r, 0, sizeof(*r));
    o.tick = tick;
    o.tick_arg = r;
    o.clock = &r->clk;
    o.start_ms = (SIM_DEFAULT_DAY + 19 * 3600 + 1800) * 1000;
    oc_clock_init(&r->clk, OC_CLOCK_VIRTUAL, (SIM_DEFAULT_DAY + 19 * 3600 + 1800) * 1000);
    qoe_cube_opts_default(&co);
    co.allowed_lateness_s = 0; /* the simulator emits in time order */
    r->cube = qoe_cube_new(&co, &r->clk);
    oc_buf_init(&r->body, 64u << 20);
    ingest_batch_init(&r->batch, 1000000);
    r->bus = oc_bus_new();
    r->events = json_array();
    oc_bus_subscribe(r->bus, "alert.fired", capture, r);
    oc_bus_subscribe(r->bus, "alert.resolved", capture, r);
    T_EQ_INT(slo_set_load(NULL, &r->slos, err, sizeof(err)), 0);
    T_EQ_INT(alert_rules_load(NULL, r->slos, &r->rules, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    r->eng = alert_engine_new(r->rules, r->slos, r->bus, NULL);
    T_EQ_INT(sim_topo_default(&r->t), 0);
    T_EQ_INT(sim_scenario_builtin(scenario, &r->sc), 0);
    T_EQ_INT(sim_new(&o, r->t, healthy ? NULL : r->sc, &r->s), 0);
    r->t0 = sim_now_ms(r->s) / 1000;
    alert_engine_start_at(r->eng, r->t0);
    r->fault_s = healthy ? r->t0 : sim_truth(r->s, &n)[0].start_ms / 1000;
    sim_run(r->s, sim_now_ms(r->s) + sim_scenario_duration_ms(r->sc));
    printf("  %s%s: %d viewers, %lld minutes, rule evaluation %.1f ms in all\n", scenario,
           healthy ? " (healthy)" : "", viewers,
           (long long)(sim_scenario_duration_ms(r->sc) / 60000), (double)r->eval_ns / 1e6);
}

static void run_free(struct run *r)
{
    sim_destroy(r->s);
    sim_scenario_destroy(r->sc);
    sim_topo_destroy(r->t);
    alert_engine_destroy(r->eng);
    alert_rules_destroy(r->rules);
    slo_set_destroy(r->slos);
    oc_bus_destroy(r->bus);
    json_decref(r->events);
    qoe_cube_destroy(r->cube);
    ingest_batch_free(&r->batch);
    oc_buf_free(&r->body);
}

static void print_events(const struct run *r)
{
    size_t i;
    json_t *e;
    json_array_foreach(r->events, i, e)
    {
        json_t *p = json_object_get(e, "payload");
        printf("  %s %s since +%llds at +%llds (clock +%llds) value %.4f\n",
               json_string_value(json_object_get(e, "topic")),
               json_string_value(json_object_get(p, "alert_id")),
               (long long)(json_integer_value(json_object_get(p, "since")) - r->fault_s),
               (long long)(json_integer_value(json_object_get(p, "at")) - r->fault_s),
               (long long)(json_integer_value(json_object_get(e, "clock_s")) - r->fault_s),
               json_number_value(json_object_get(p, "value")));
    }
}

/* The alert_ids fired at level, joined by spaces. */
static void fired_ids(const struct run *r, const char *level, struct oc_buf *b)
{
    size_t i;
    json_t *e;
    json_array_foreach(r->events, i, e)
    {
        json_t *p = json_object_get(e, "payload");
        if (strcmp(json_string_value(json_object_get(e, "topic")), "alert.fired") == 0 &&
            (!level || strcmp(json_string_value(json_object_get(p, "level")), level) == 0))
            oc_buf_printf(b, "%s@%lld ", json_string_value(json_object_get(p, "alert_id")),
                          (long long)json_integer_value(json_object_get(p, "at")));
    }
}

/* blip: 15 s of rebuffering on one POP; no rule's window sees a sustained breach: no alert of
 * any level, as in the same population without the blip (the healthy platform's 0.7% of
 * concurrent viewers rebuffering sits under the 1% backlog band). */
static void test_blip(void)
{
    struct run *r = calloc(1, sizeof(*r)), *h = calloc(1, sizeof(*h));
    struct oc_buf a, b, pages;
    oc_buf_init(&a, 1 << 20);
    oc_buf_init(&b, 1 << 20);
    oc_buf_init(&pages, 1 << 20);
    run(r, "blip", VIEWERS / 2, 0);
    run(h, "blip", VIEWERS / 2, 1);
    print_events(r);
    fired_ids(r, "page", &pages);
    fired_ids(r, "notify", &pages);
    T_EQ_STR(pages.data ? pages.data : "", "");
    fired_ids(r, NULL, &a);
    fired_ids(h, NULL, &b);
    T_EQ_STR(a.data ? a.data : "", "");
    T_EQ_STR(b.data ? b.data : "", "");
    oc_buf_free(&a);
    oc_buf_free(&b);
    oc_buf_free(&pages);
    run_free(r);
    run_free(h);
    free(r);
    free(h);
}

/* The first minute from which EMEA's share of concurrent viewers rebuffering stays above the
 * band for the rule's 3-minute window, the band moved out by the rule's noise_z (2) binomial
 * standard deviations over the minute's EMEA viewers. */
static int64_t crossing(struct run *r)
{
    struct qoe_query q = {.metric = QOE_CONCURRENT_REBUFFERING, .step = 60, .top = 1};
    struct qoe_result *res = NULL, *vol = NULL;
    char err[200];
    int64_t cross = 0;
    int above[QOE_MAX_POINTS] = {0};
    q.from = r->t0;
    q.to = r->t0 + sim_scenario_duration_ms(r->sc) / 1000;
    q.filters[q.nfilters++] = (struct qoe_filter){BEACON_REGION, "EMEA"};
    T_EQ_INT(qoe_query_run(r->cube, &q, &res, err, sizeof(err)), 0);
    q.metric = QOE_CONCURRENT;
    T_EQ_INT(qoe_query_run(r->cube, &q, &vol, err, sizeof(err)), 0);
    for (int k = 0; k < res->npoints && k < QOE_MAX_POINTS; k++) {
        double n = qoe_point(vol, 0, k);
        above[k] = n > 0 && qoe_point(res, 0, k) > BAND + 2 * sqrt(BAND * (1 - BAND) / n);
    }
    for (int k = 0; !cross && k + 2 < res->npoints; k++)
        if (above[k] && above[k + 1] && above[k + 2])
            cross = q.from + 60LL * k;
    printf("  EMEA share of concurrent viewers rebuffering crosses %.0f%% (+2 sd) at fault "
           "+%llds\n",
           BAND * 100, (long long)(cross - r->fault_s));
    qoe_result_destroy(res);
    qoe_result_destroy(vol);
    return cross;
}

/* emea-cdn: the EMEA page fires within window + 1 minute of the crossing, slice
 * region=EMEA; every page and notify is in EMEA (the region, its CDN, or an EMEA ISP whose
 * viewers use the failing POPs) and starts after the fault. */
static void test_emea_cdn(void)
{
    struct run *r = calloc(1, sizeof(*r));
    size_t i;
    json_t *e;
    int pages = 0;
    run(r, "emea-cdn", VIEWERS, 0);
    print_events(r);
    int64_t cross = crossing(r);
    T_TRUE(cross > r->fault_s);
    json_array_foreach(r->events, i, e)
    {
        json_t *p = json_object_get(e, "payload");
        const char *id = json_string_value(json_object_get(p, "alert_id"));
        if (strcmp(json_string_value(json_object_get(p, "level")), "backlog") == 0)
            continue;
        T_TRUE(json_integer_value(json_object_get(p, "since")) >= r->fault_s);
        const json_t *slice = json_object_get(p, "slice");
        const char *region = json_string_value(json_object_get(slice, "region"));
        const char *country = json_string_value(json_object_get(slice, "country"));
        /* in EMEA: the region, or an EMEA country's ISP */
        T_TRUE(region ? strcmp(region, "EMEA") == 0
                      : country && strcmp(country, "US") != 0 && strcmp(country, "CA") != 0);
        if (strcmp(id, "rebuffering-region-page/region=EMEA") != 0 ||
            strcmp(json_string_value(json_object_get(e, "topic")), "alert.fired") != 0)
            continue;
        pages++;
        T_EQ_INT(json_integer_value(json_object_get(p, "since")), cross);
        T_EQ_INT(json_integer_value(json_object_get(p, "at")), cross + 180);
        T_TRUE(json_integer_value(json_object_get(e, "clock_s")) <= cross + 180 + 60);
        T_TRUE(json_number_value(json_object_get(p, "value")) > BAND);
        T_EQ_INT(json_object_size(json_object_get(p, "slice")), 1);
    }
    T_EQ_INT(pages, 1);
    run_free(r);
    free(r);
}

static const struct t_case cases[] = {
    T_CASE(test_blip),
    T_CASE(test_emea_cdn),
    {0},
};

T_MAIN(cases)
