/*
 * test_sim_scenarios.c - every shipped scenario against its ground truth, computed directly
 * from the generated events: the fault moves the metrics in its slice, the way it should, and
 * nothing else moves. Also the closed loop with steering (players follow a new
 * PATHWAY-PRIORITY within their TTL; a failing pathway is penalized and the start retried).
 */
#include "t.h"

#include "core/err.h"
#include "pipeline/sim_meter.h"
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEWERS 10000
#define BASE_HI 0.011 /* "at baseline": rebuffer ratio under 1.1% (configured 0.7%) */

struct run {
    struct sim_topo *t;
    struct sim_scenario *sc;
    struct sim *s;
    struct meter *m;
    struct sim_truth truth; /* the first fault, absolute times */
    int fs, fe;             /* its first minute and the minute it ends in, from run start */
};

/* Creates the run of a shipped (or given YAML) scenario; slice 0 of the meter is the truth. */
static void run_open(struct run *r, const char *name, const char *yaml, struct sim_opts *o)
{
    int n = 0;
    char err[200] = "";
    memset(r, 0, sizeof(*r));
    r->m = calloc(1, sizeof(*r->m));
    o->seed = o->seed ? o->seed : 3;
    o->viewers = VIEWERS;
    o->sink = meter_sink;
    o->sink_arg = r->m;
    T_EQ_INT(sim_topo_default(&r->t), 0);
    if (yaml)
        T_EQ_INT(sim_scenario_parse(yaml, strlen(yaml), &r->sc, err, sizeof(err)), 0);
    else
        T_EQ_INT(sim_scenario_builtin(name, &r->sc), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(sim_new(o, r->t, r->sc, &r->s), 0);
    const struct sim_truth *tr = sim_truth(r->s, &n);
    T_EQ_INT(n, 1);
    r->truth = tr[0];
    meter_init(r->m, sim_now_ms(r->s));
    r->fs = (int)((r->truth.start_ms - sim_now_ms(r->s)) / 60000);
    r->fe = (int)((r->truth.end_ms - sim_now_ms(r->s)) / 60000);
    meter_add(r->m, &r->truth);
}

static void run_go(struct run *r)
{
    sim_run(r->s, sim_now_ms(r->s) + sim_scenario_duration_ms(r->sc));
}

static void run_close(struct run *r)
{
    sim_destroy(r->s);
    sim_scenario_destroy(r->sc);
    sim_topo_destroy(r->t);
    meter_free(r->m);
    free(r->m);
}

/* A filter of two dimensions with one value each (b may be absent: d2 < 0). */
static int add2(struct meter *m, enum beacon_dim d1, const char *v1, int d2, const char *v2)
{
    struct sim_truth t = {0};
    t.dims[t.n_dims++] = (struct sim_slice_dim){d1, 1, {v1}};
    if (d2 >= 0)
        t.dims[t.n_dims++] = (struct sim_slice_dim){(enum beacon_dim)d2, 1, {v2}};
    return meter_add(m, &t);
}

static double ratio(struct run *r, int i, int a, int b)
{
    return meter_ratio(meter_sum(r->m, i, a, b));
}

static double vsf(struct run *r, int i, int a, int b)
{
    return meter_vsf(meter_sum(r->m, i, a, b));
}

/* emea-cdn: rebuffering rises about one point a minute only in EMEA/primary on FRA, AMS, PAR. */
static void test_emea_cdn(void)
{
    struct run r;
    struct sim_opts o = {0};
    run_open(&r, "emea-cdn", NULL, &o);
    T_EQ_INT(r.fs, 13);
    T_EQ_INT(r.fe, 43);
    struct sim_truth other = r.truth; /* EMEA, primary, the other POPs */
    other.dims[2] = (struct sim_slice_dim){BEACON_POP, 5, {"LHR", "MAD", "MXP", "WAW", "DXB"}};
    int oth = meter_add(r.m, &other);
    int sec = add2(r.m, BEACON_REGION, "EMEA", BEACON_CDN, "secondary");
    int na = add2(r.m, BEACON_REGION, "NA", -1, NULL);
    int emea = add2(r.m, BEACON_REGION, "EMEA", -1, NULL);
    run_go(&r);
    T_TRUE(ratio(&r, 0, 1, r.fs) < BASE_HI);
    double r5 = ratio(&r, 0, r.fs + 5, r.fs + 6), r10 = ratio(&r, 0, r.fs + 10, r.fs + 11);
    printf("  emea-cdn: truth slice minute +5 %.4f, +10 %.4f, plateau %.4f\n", r5, r10,
           ratio(&r, 0, r.fs + 25, r.fe));
    T_EQ_DBL(r5, 0.062, 0.012); /* 5.5 points of fault + 0.7 baseline */
    T_EQ_DBL(r10 - r5, 0.05, 0.012);
    T_EQ_DBL(ratio(&r, 0, r.fs + 25, r.fe), 0.257, 0.02);
    T_TRUE(meter_kbps(meter_sum(r.m, 0, r.fs + 2, r.fe)) <= 2500);
    T_TRUE(ratio(&r, emea, r.fs + 10, r.fe) > 0.03); /* visible at region level */
    for (int k = r.fs; k < r.fe; k++) {              /* every other slice stays at baseline */
        T_TRUE(ratio(&r, oth, k, k + 1) < BASE_HI + 0.003);
        T_TRUE(ratio(&r, sec, k, k + 1) < BASE_HI + 0.005);
        T_TRUE(ratio(&r, na, k, k + 1) < BASE_HI);
    }
    T_EQ_DBL(ratio(&r, oth, r.fs, r.fe), 0.007, 0.0015);
    T_EQ_DBL(ratio(&r, sec, r.fs, r.fe), 0.007, 0.002);
    T_EQ_DBL(ratio(&r, na, r.fs, r.fe), 0.007, 0.001);
    T_TRUE(ratio(&r, 0, r.fe + 1, 45) < BASE_HI);
    run_close(&r);
}

/* drm-outage: PlayReady smart TVs cannot start; Widevine TVs and other devices can. */
static void test_drm_outage(void)
{
    struct run r;
    struct sim_opts o = {0};
    run_open(&r, "drm-outage", NULL, &o);
    int wv = add2(r.m, BEACON_DEVICE, "smart_tv", BEACON_DRM, "widevine");
    int stb = add2(r.m, BEACON_DEVICE, "set_top", BEACON_DRM, "playready");
    int mob = add2(r.m, BEACON_DEVICE, "mobile", -1, NULL);
    run_go(&r);
    T_EQ_INT(r.fs, 10);
    T_TRUE(vsf(&r, 0, 0, r.fs) < 0.02);
    printf("  drm-outage: truth VSF %.4f\n", vsf(&r, 0, r.fs + 1, r.fe));
    T_EQ_DBL(vsf(&r, 0, r.fs + 1, r.fe), 0.94, 0.04);
    T_TRUE(vsf(&r, wv, r.fs, r.fe) < 0.02);
    T_TRUE(vsf(&r, stb, r.fs, r.fe) < 0.02);
    T_TRUE(vsf(&r, mob, r.fs, r.fe) < 0.015);
    T_TRUE(ratio(&r, 0, r.fs, r.fe) < BASE_HI); /* playing sessions keep their license */
    T_TRUE(vsf(&r, 0, r.fe + 1, 35) < 0.03);
    run_close(&r);
}

/* A flag callback: drm-fallback-playready reads on for smart TVs from flag_on_ms. */
struct flag_state {
    int64_t on_ms;
    int asked, asked_other;
};

static int fallback_flag(void *arg, const struct sim_flag_req *req)
{
    struct flag_state *f = arg;
    if (strcmp(req->flag, "drm-fallback-playready") != 0 || strcmp(req->device, "smart_tv") != 0) {
        f->asked_other++;
        return -1;
    }
    f->asked++;
    return req->now_ms >= f->on_ms ? 1 : -1;
}

/* drm-outage's unless_flag: TVs that read drm-fallback-playready on are spared. Players read
 * flags at arrival and with each steering fetch, so a minute after the flag flips (the TTL)
 * the slice's start failures are back at baseline; before, the fault is in full effect. */
static void test_flag_spares(void)
{
    struct run r;
    struct flag_state f = {0};
    struct sim_opts o = {.flag = fallback_flag, .flag_arg = &f};
    run_open(&r, "drm-outage", NULL, &o);
    f.on_ms = r.truth.start_ms + 5 * 60000;
    run_go(&r);
    printf("  drm-outage with the fallback flag: VSF %.4f before, %.4f after\n",
           vsf(&r, 0, r.fs + 1, r.fs + 5), vsf(&r, 0, r.fs + 7, r.fe));
    T_EQ_DBL(vsf(&r, 0, r.fs + 1, r.fs + 5), 0.94, 0.04);
    T_TRUE(vsf(&r, 0, r.fs + 7, r.fe) < 0.02);
    T_TRUE(f.asked > 1000);     /* every TV in the slice, at arrival and every TTL */
    T_EQ_INT(f.asked_other, 0); /* only sessions the fault's slice matches are asked */
    run_close(&r);
}

/* origin-stall: every live session rebuffers; on-demand viewers do not notice. */
static void test_origin_stall(void)
{
    struct run r;
    struct sim_opts o = {0};
    run_open(&r, "origin-stall", NULL, &o);
    int vod = add2(r.m, BEACON_LIVE, "false", -1, NULL);
    int na = add2(r.m, BEACON_REGION, "NA", BEACON_LIVE, "true");
    int emea = add2(r.m, BEACON_REGION, "EMEA", BEACON_LIVE, "true");
    run_go(&r);
    printf("  origin-stall: live ratio %.4f ebvs %.4f\n", ratio(&r, 0, r.fs + 1, r.fe),
           meter_ebvs(meter_sum(r.m, 0, r.fs + 1, r.fe)));
    T_EQ_DBL(ratio(&r, 0, r.fs + 1, r.fe), 0.85, 0.05);
    T_TRUE(ratio(&r, na, r.fs + 1, r.fe) > 0.75); /* everywhere */
    T_TRUE(ratio(&r, emea, r.fs + 1, r.fe) > 0.75);
    T_TRUE(meter_ebvs(meter_sum(r.m, 0, r.fs + 1, r.fe)) > 0.25);
    T_TRUE(ratio(&r, vod, r.fs, r.fe) < BASE_HI);
    T_TRUE(meter_ebvs(meter_sum(r.m, vod, r.fs, r.fe)) < 0.03);
    T_TRUE(ratio(&r, 0, 0, r.fs) < BASE_HI);
    T_TRUE(ratio(&r, 0, r.fe + 1, 30) < BASE_HI);
    run_close(&r);
}

/* isp-peering: one ISP in one country degrades on every CDN; its neighbour does not. */
static void test_isp_peering(void)
{
    struct run r;
    struct sim_opts o = {0};
    run_open(&r, "isp-peering", NULL, &o);
    int dt = add2(r.m, BEACON_COUNTRY, "DE", BEACON_ISP, "deutsche-telekom");
    int sec = add2(r.m, BEACON_ISP, "vodafone-de", BEACON_CDN, "secondary");
    int fr = add2(r.m, BEACON_COUNTRY, "FR", -1, NULL);
    run_go(&r);
    double in = ratio(&r, 0, r.fs + 3, r.fe);
    printf("  isp-peering: truth ratio %.4f kbps %.0f\n", in,
           meter_kbps(meter_sum(r.m, 0, r.fs + 3, r.fe)));
    T_EQ_DBL(in, 0.087, 0.015);
    T_TRUE(ratio(&r, sec, r.fs + 3, r.fe) > 0.06); /* not a CDN problem */
    T_TRUE(meter_kbps(meter_sum(r.m, 0, r.fs + 1, r.fe)) <= 1500);
    T_TRUE(ratio(&r, dt, r.fs, r.fe) < BASE_HI);
    T_TRUE(ratio(&r, fr, r.fs, r.fe) < BASE_HI);
    T_TRUE(ratio(&r, 0, 0, r.fs) < BASE_HI);
    run_close(&r);
}

/* bad-player-build: one player version crashes and fails to start; the others are fine. */
static void test_bad_player_build(void)
{
    struct run r;
    struct sim_opts o = {0};
    run_open(&r, "bad-player-build", NULL, &o);
    int good = add2(r.m, BEACON_PLAYER, "exoplayer", BEACON_PLAYER_VERSION, "2.19.1");
    run_go(&r);
    struct meter_min bad = meter_sum(r.m, 0, r.fs, r.fe), ok = meter_sum(r.m, good, r.fs, r.fe);
    printf("  bad-player-build: VSF %.4f errors %.0f (good build %.0f)\n", meter_vsf(bad), bad.errs,
           ok.errs);
    T_EQ_DBL(meter_vsf(bad), 0.305, 0.05);
    T_TRUE(bad.errs > 150);
    T_TRUE(ok.errs < 10);
    T_TRUE(meter_vsf(ok) < 0.015);
    T_TRUE(meter_sum(r.m, 0, 0, r.fs).errs < 3);
    run_close(&r);
}

/* blip: visible in its slice for its 15 seconds, but no region ever crosses the 3% share
 * rebuffering or the 1% rebuffer ratio band, not even for one minute. */
static void test_blip(void)
{
    static const char *const regs[] = {"NA", "EMEA"}, *const cdns[] = {"primary", "secondary"};
    struct run r;
    struct sim_opts o = {0};
    int rc[4];
    run_open(&r, "blip", NULL, &o);
    int na = add2(r.m, BEACON_REGION, "NA", -1, NULL);
    int emea = add2(r.m, BEACON_REGION, "EMEA", -1, NULL);
    for (int g = 0; g < 4; g++)
        rc[g] = add2(r.m, BEACON_REGION, regs[g / 2], BEACON_CDN, cdns[g % 2]);
    run_go(&r);
    T_EQ_INT(r.fs, 10);
    T_EQ_INT(r.truth.end_ms - r.truth.start_ms, 15000);
    T_EQ_INT(r.truth.expect_incident, 0);
    double in = ratio(&r, 0, r.fs, r.fs + 1), before = ratio(&r, 0, 0, r.fs);
    printf("  blip: slice ratio %.4f in its minute, %.4f before\n", in, before);
    T_TRUE(in > 1.8 * before);
    for (int k = 1; k < 20; k++)
        for (int reg = na; reg <= emea; reg++) {
            struct meter_min x = meter_sum(r.m, reg, k, k + 1);
            T_TRUE(meter_share(x) < 0.03);
            T_TRUE(meter_ratio(x) < 0.01);
        }
    /* region x CDN: only the blip's own minute may cross 3%, so no shipped rebuffering rule
     * (all hold for 3 minutes) can see a sustained breach */
    for (int g = 0; g < 4; g++)
        for (int k = 1; k < 20; k++)
            if (k != r.fs)
                T_TRUE(meter_share(meter_sum(r.m, rc[g], k, k + 1)) < 0.03);
    run_close(&r);
}

/* A steering server: after mitigate_ms EMEA is sent to the secondary CDN; before, players
 * keep the pathway they are on. TTL 60 s. */
struct steer_srv {
    int64_t mitigate_ms;
    int calls;
};

static int steer_cb(void *arg, const struct sim_steer_req *req, char pw[][SIM_NAME_MAX], int *n,
                    int *ttl)
{
    struct steer_srv *srv = arg;
    int move = req->now_ms >= srv->mitigate_ms && strcmp(req->region, "EMEA") == 0;
    const char *first = move ? "secondary" : req->pathway;
    srv->calls++;
    snprintf(pw[0], SIM_NAME_MAX, "%s", first);
    snprintf(pw[1], SIM_NAME_MAX, "%s", strcmp(first, "primary") ? "primary" : "secondary");
    *n = 2;
    *ttl = 60;
    return 0;
}

/* emea-cdn with shift-cdn at fault start + 6 min: players follow within their TTL and EMEA
 * rebuffering returns to baseline. */
static void test_steering_closed_loop(void)
{
    struct run r;
    struct steer_srv srv = {.mitigate_ms = INT64_MAX};
    struct sim_opts o = {.steer = steer_cb, .steer_arg = &srv};
    run_open(&r, "emea-cdn", NULL, &o);
    srv.mitigate_ms = r.truth.start_ms + 6 * 60000;
    int prim = add2(r.m, BEACON_REGION, "EMEA", BEACON_CDN, "primary");
    int sec = add2(r.m, BEACON_REGION, "EMEA", BEACON_CDN, "secondary");
    int emea = add2(r.m, BEACON_REGION, "EMEA", -1, NULL);
    int na_sec = add2(r.m, BEACON_REGION, "NA", BEACON_CDN, "secondary");
    run_go(&r);
    int mit = r.fs + 6;
    T_TRUE(srv.calls > VIEWERS);
    T_TRUE(ratio(&r, 0, mit - 1, mit) > 0.04); /* the fault was there */
    T_EQ_DBL(meter_sum(r.m, sec, mit - 1, mit).viewers, 0.2 * 4500, 250);
    T_EQ_INT(meter_sum(r.m, prim, mit + 2, 45).viewers, 0); /* all moved within the TTL */
    T_TRUE(meter_sum(r.m, sec, mit + 2, mit + 3).viewers > 4000);
    T_TRUE(ratio(&r, emea, mit + 2, 45) < BASE_HI);
    T_EQ_DBL(meter_sum(r.m, na_sec, mit + 2, mit + 3).viewers, 0.2 * 5500, 300);
    run_close(&r);
}

/* hls.js penalizes a pathway that fails and retries on the next one in PATHWAY-PRIORITY. */
static void test_pathway_penalty(void)
{
    static const char *yaml = "name: na-primary-down\nbegin: \"19:30\"\nduration: 6m\n"
                              "faults:\n  - name: down\n    slice: {region: NA, cdn: primary}\n"
                              "    start: 1m\n    duration: 10m\n"
                              "    effect: {start_failure: 1.0, error_code: CDN_5XX}\n";
    struct run r;
    struct steer_srv srv = {.mitigate_ms = INT64_MAX};
    struct sim_opts o = {.steer = steer_cb, .steer_arg = &srv};
    run_open(&r, NULL, yaml, &o);
    int na = add2(r.m, BEACON_REGION, "NA", -1, NULL);
    int na_sec = add2(r.m, BEACON_REGION, "NA", BEACON_CDN, "secondary");
    run_go(&r);
    struct meter_min all = meter_sum(r.m, na, 2, 6);
    printf("  penalty: NA VSF %.4f, starts on secondary %.0f of %.0f\n", meter_vsf(all),
           meter_sum(r.m, na_sec, 2, 6).starts, all.starts);
    T_TRUE(meter_vsf(all) < 0.015); /* retried on the secondary: no failure shown */
    T_TRUE(meter_sum(r.m, na_sec, 2, 6).starts > 0.95 * all.starts);
    T_TRUE(meter_sum(r.m, 0, 2, 6).starts < 0.01 * all.starts); /* baseline failures only */
    run_close(&r);
}

static const struct t_case cases[] = {
    T_CASE(test_flag_spares),
    T_CASE(test_emea_cdn),
    T_CASE(test_drm_outage),
    T_CASE(test_origin_stall),
    T_CASE(test_isp_peering),
    T_CASE(test_bad_player_build),
    T_CASE(test_blip),
    T_CASE(test_steering_closed_loop),
    T_CASE(test_pathway_penalty),
    {0},
};

T_MAIN(cases)
