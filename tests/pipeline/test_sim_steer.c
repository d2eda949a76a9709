/*
 * test_sim_steer.c - the closed loop of the worked example with the real steering engine:
 * simulated players fetch PATHWAY-PRIORITY from steer_decide at start and every TTL; at fault
 * start + 6 minutes `shift-cdn` moves EMEA from primary to secondary (steer_mitigate), the
 * players follow within their TTL and EMEA rebuffering returns to baseline while NA is
 * untouched. In-process, on the virtual clock.
 */
#include "t.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/module.h"
#include "drill/drill.h"
#include "oncue/commands.h"
#include "pipeline/sim_meter.h"
#include "sim/sim.h"
#include "steer/steer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

struct loop {
    struct oc_clock clk;
    struct steer *st;
    struct oc_app app;   /* provides st, as the steer module would */
    int64_t mitigate_ms; /* when shift-cdn is applied */
    int applied, calls, failures;
};

/* The sim_steer_fn: the drill's binding (a player's steering request), counted. */
static int ask(void *arg, const struct sim_steer_req *req, char pw[][SIM_NAME_MAX], int *n,
               int *ttl)
{
    struct loop *l = arg;
    l->calls++;
    if (oncue_drill_host.steer(&l->app, req, pw, n, ttl) != 0) {
        l->failures++;
        return -1;
    }
    return 0;
}

/* After each simulated second: apply shift-cdn once its time has come. */
static void tick(void *arg, int64_t now_ms)
{
    struct loop *l = arg;
    json_t *rec = NULL, *req;
    char err[200] = "";
    if (l->applied || now_ms < l->mitigate_ms)
        return;
    req = json_pack("{s:s, s:s, s:s, s:s}", "kind", "shift-cdn", "region", "EMEA", "from",
                    "primary", "to", "secondary");
    T_EQ_INT(steer_mitigate(l->st, req, "test", 0, &rec, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    l->applied = 1;
    json_decref(req);
    json_decref(rec);
}

static void test_shift_cdn_closed_loop(void)
{
    static const char *policy = "{\"ttl\": 60, \"pathways\": [\"primary\", \"secondary\"],"
                                " \"rules\": [{\"name\": \"split\", \"priority\": [\"secondary\","
                                " \"primary\"], \"percent\": 20}]}";
    struct loop l = {0};
    struct meter *m = calloc(1, sizeof(*m));
    struct sim_topo *t = NULL;
    struct sim_scenario *sc = NULL;
    struct sim *s = NULL;
    struct steer_opts so = {.clock = &l.clk, .ttl_s = 60};
    struct sim_opts o = {.seed = 9, .viewers = 10000, .sink = meter_sink, .sink_arg = m};
    json_t *doc = json_loads(policy, 0, NULL);
    char err[200] = "";
    int n = 0;
    oc_clock_init(&l.clk, OC_CLOCK_VIRTUAL, (SIM_DEFAULT_DAY + 19 * 3600 + 1800) * 1000);
    T_EQ_INT(steer_new(&so, &l.st), 0);
    T_EQ_INT(steer_policy_set(l.st, doc, "test", err, sizeof(err)), 0);
    T_EQ_INT(oc_app_provide(&l.app, STEER_PROVIDES, l.st), 0);
    T_EQ_STR(err, "");
    json_decref(doc);
    o.steer = ask;
    o.steer_arg = &l;
    o.tick = tick;
    o.tick_arg = &l;
    o.clock = &l.clk;
    T_EQ_INT(sim_topo_default(&t), 0);
    T_EQ_INT(sim_scenario_builtin("emea-cdn", &sc), 0);
    T_EQ_INT(sim_new(&o, t, sc, &s), 0);
    const struct sim_truth *tr = sim_truth(s, &n);
    l.mitigate_ms = tr[0].start_ms + 6 * 60000;
    int fs = (int)((tr[0].start_ms - sim_now_ms(s)) / 60000), mit = fs + 6;
    meter_init(m, sim_now_ms(s));
    int truth = meter_add(m, &tr[0]);
    struct sim_truth f = {0};
    f.n_dims = 2;
    f.dims[0] = (struct sim_slice_dim){BEACON_REGION, 1, {"EMEA"}};
    f.dims[1] = (struct sim_slice_dim){BEACON_CDN, 1, {"primary"}};
    int prim = meter_add(m, &f);
    f.dims[1].vals[0] = "secondary";
    int sec = meter_add(m, &f);
    int emea = meter_add1(m, BEACON_REGION, "EMEA");
    int na = meter_add1(m, BEACON_REGION, "NA");
    sim_run(s, sim_now_ms(s) + 35 * 60000);

    struct meter_min before = meter_sum(m, sec, mit - 1, mit),
                     all = meter_sum(m, emea, mit - 1, mit);
    printf("  steer: %d fetches; before shift secondary %.0f of %.0f EMEA viewers\n", l.calls,
           before.viewers, all.viewers);
    T_EQ_INT(l.failures, 0);
    T_TRUE(l.applied);
    T_EQ_DBL(before.viewers / all.viewers, 0.20, 0.03);            /* the policy's 20% split */
    T_TRUE(meter_ratio(meter_sum(m, truth, mit - 1, mit)) > 0.04); /* the fault was there */
    T_EQ_INT(meter_sum(m, prim, mit + 2, 35).viewers, 0);          /* moved within the TTL */
    T_TRUE(meter_sum(m, prim, mit, mit + 1).viewers > 0);          /* ... and not before */
    T_TRUE(meter_ratio(meter_sum(m, emea, mit + 2, 35)) < 0.011);  /* back to baseline */
    T_EQ_DBL(meter_ratio(meter_sum(m, na, fs, 35)), 0.007, 0.001); /* NA never moved */
    struct meter_min na_now = meter_sum(m, na, mit + 2, mit + 3);
    T_TRUE(na_now.viewers > 4000);
    sim_destroy(s);
    sim_scenario_destroy(sc);
    sim_topo_destroy(t);
    steer_destroy(l.st);
    meter_free(m);
    free(m);
}

static const struct t_case cases[] = {
    T_CASE(test_shift_cdn_closed_loop),
    {0},
};

T_MAIN(cases)
