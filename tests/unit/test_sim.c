/*
 * test_sim.c - unit tests of the simulator: YAML parsing of topology and scenarios, the
 * embedded copies, the NDJSON schema, the ground truth JSON, determinism (a pinned hash of
 * the event stream) and the healthy baseline computed directly from the generated events.
 */
#include "t.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "pipeline/sim_meter.h"
#include "sim/sim_int.h"
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>

/* The pinned stream of test_determinism (seed 7, 2000 viewers, 10 minutes of emea-cdn). */
#define SIM_TEST_EVENTS 118609
#define SIM_TEST_HASH   0x81b9091555a49706ULL

static char *slurp(const char *rel, size_t *len)
{
    const char *src = getenv("ONCUE_SRC");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f)
        return NULL;
    buf = calloc(1, SIM_MAX_FILE + 1);
    *len = fread(buf, 1, SIM_MAX_FILE, f);
    fclose(f);
    return buf;
}

static void test_durations(void)
{
    int64_t ms = 0;
    int sod = 0;
    T_EQ_INT(sim_parse_duration("15s", &ms), 0);
    T_EQ_INT(ms, 15000);
    T_EQ_INT(sim_parse_duration("20m", &ms), 0);
    T_EQ_INT(ms, 1200000);
    T_EQ_INT(sim_parse_duration("1.5h", &ms), 0);
    T_EQ_INT(ms, 5400000);
    T_EQ_INT(sim_parse_duration("90", &ms), 0);
    T_EQ_INT(ms, 90000);
    T_EQ_INT(sim_parse_duration("250ms", &ms), 0);
    T_EQ_INT(ms, 250);
    T_EQ_INT(sim_parse_duration("5d", &ms), OC_EINVAL);
    T_EQ_INT(sim_parse_duration("-3s", &ms), OC_EINVAL);
    T_EQ_INT(sim_parse_clock("19:43", &sod), 0);
    T_EQ_INT(sod, 19 * 3600 + 43 * 60);
    T_EQ_INT(sim_parse_clock("19:40:20", &sod), 0);
    T_EQ_INT(sod, 19 * 3600 + 40 * 60 + 20);
    T_EQ_INT(sim_parse_clock("24:00", &sod), OC_EINVAL);
    T_EQ_INT(sim_parse_clock("19:43x", &sod), OC_EINVAL);
}

static void test_topology_default(void)
{
    struct sim_topo *t = NULL;
    T_EQ_INT(sim_topo_default(&t), 0);
    if (!t)
        return;
    T_EQ_INT(t->n_regions, 2);
    T_EQ_INT(t->n_cdns, 2);
    T_EQ_STR(t->vals[t->cdns[0]].p, "primary");
    T_EQ_STR(t->vals[t->cdns[1]].p, "secondary");
    T_EQ_STR(t->vals[t->regions[1].name].p, "EMEA");
    T_EQ_INT(t->regions[1].pop_w[0].n, 8);
    T_EQ_STR(t->vals[t->regions[1].pops[0][0]].p, "FRA");
    T_EQ_INT(t->device_w.n, 4);
    T_EQ_INT(t->heartbeat_s, 10);
    T_EQ_DBL(t->base.rebuffer_ratio, 0.007, 1e-12);
    T_EQ_DBL(t->base.startup_p50_ms, 1200, 1e-9);
    T_EQ_DBL(t->diurnal[19], 1.0, 1e-12);
    T_TRUE(sim_topo_find(t, "vodafone-de") != SIM_NO_VALUE);
    T_TRUE(sim_topo_find(t, "3209") != SIM_NO_VALUE);
    T_TRUE(sim_topo_find(t, "playready") != SIM_NO_VALUE);
    T_TRUE(sim_topo_find(t, "no-such-isp") == SIM_NO_VALUE);
    sim_topo_destroy(t);
    sim_topo_destroy(NULL);
}

static void test_topology_errors(void)
{
    struct sim_topo *t = NULL;
    char err[200];
    const char *bad_yaml = "regions: [\n";
    const char *no_weight = "cdns: [{name: primary}]\n";
    const char *neg = "cdns: [{name: a, weight: -1}]\n";
    T_EQ_INT(sim_topo_parse(bad_yaml, strlen(bad_yaml), &t, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "yaml line");
    T_EQ_INT(sim_topo_parse(no_weight, strlen(no_weight), &t, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "cdns: a number is required");
    T_EQ_INT(sim_topo_parse(neg, strlen(neg), &t, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "must not be negative");
    T_TRUE(t == NULL);
}

static void test_scenario_parse(void)
{
    struct sim_scenario *sc = NULL;
    T_EQ_INT(sim_scenario_builtin("emea-cdn", &sc), 0);
    if (!sc)
        return;
    T_EQ_STR(sim_scenario_name(sc), "emea-cdn");
    T_EQ_INT(sim_scenario_duration_ms(sc), 45 * 60000);
    T_EQ_INT(sc->begin_s, 19 * 3600 + 30 * 60);
    T_EQ_INT(sc->n_faults, 1);
    T_EQ_INT(sc->faults[0].truth.start_ms, 13 * 60000);
    T_EQ_INT(sc->faults[0].truth.end_ms, 43 * 60000);
    T_EQ_INT(sc->faults[0].truth.n_dims, 3);
    T_EQ_INT(sc->faults[0].truth.dims[2].dim, BEACON_POP);
    T_EQ_INT(sc->faults[0].truth.dims[2].n, 3);
    T_EQ_STR(sc->faults[0].truth.dims[2].vals[1], "AMS");
    T_EQ_DBL(sc->faults[0].eff.rebuffer_ppm, 1.0, 1e-12);
    sim_scenario_destroy(sc);
    T_EQ_INT(sim_scenario_builtin("no-such", &sc), OC_ENOTFOUND);
    for (int i = 0; sim_scenario_names[i]; i++) {
        sc = NULL;
        T_EQ_INT(sim_scenario_builtin(sim_scenario_names[i], &sc), 0);
        T_EQ_STR(sc ? sim_scenario_name(sc) : "", sim_scenario_names[i]);
        sim_scenario_destroy(sc);
    }
}

static void test_scenario_errors(void)
{
    struct sim_scenario *sc = NULL;
    char err[200];
    const char *dim = "name: x\nfaults:\n  - {name: f, slice: {colour: red}, start: 1m, "
                      "duration: 1m, effect: {}}\n";
    const char *dur = "name: x\nfaults:\n  - {name: f, slice: {}, start: 1m, duration: 1y, "
                      "effect: {}}\n";
    const char *rng = "name: x\nfaults:\n  - {name: f, slice: {}, start: 1m, duration: 1m, "
                      "effect: {start_failure: 2}}\n";
    T_EQ_INT(sim_scenario_parse(dim, strlen(dim), &sc, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "unknown dimension 'colour'");
    T_EQ_INT(sim_scenario_parse(dur, strlen(dur), &sc, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "duration: '1y'");
    T_EQ_INT(sim_scenario_parse(rng, strlen(rng), &sc, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "start_failure: 2 is outside");
    const char *unl = "name: x\nfaults:\n  - {name: f, slice: {}, start: 1m, duration: 1m, "
                      "unless_flag: {name: g, value: maybe}, effect: {}}\n";
    T_EQ_INT(sim_scenario_parse(unl, strlen(unl), &sc, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "'unless_flag' must be {name: FLAG, value: on|off}");
    T_TRUE(sc == NULL);
}

/* The embedded copies equal examples/ byte for byte (regenerate with src/sim/embed.sh). */
static void test_embedded_equal_files(void)
{
    char rel[256];
    size_t len = 0, elen = 0;
    char *f = slurp("examples/topology.yaml", &len);
    const char *e = sim_embedded("topology", &elen);
    T_TRUE(f != NULL);
    T_EQ_INT(elen, len);
    T_TRUE(f && e && elen == len && memcmp(e, f, len) == 0);
    free(f);
    for (int i = 0; sim_scenario_names[i]; i++) {
        snprintf(rel, sizeof(rel), "examples/scenarios/%s.yaml", sim_scenario_names[i]);
        f = slurp(rel, &len);
        e = sim_embedded(sim_scenario_names[i], &elen);
        T_TRUE(f != NULL && e != NULL);
        T_EQ_INT(elen, len);
        T_TRUE(f && e && elen == len && memcmp(e, f, len) == 0);
        free(f);
    }
    for (int i = 0; sim_scenario_extra[i]; i++) {
        snprintf(rel, sizeof(rel), "examples/scenarios/%s.yaml", sim_scenario_extra[i]);
        f = slurp(rel, &len);
        e = sim_embedded(sim_scenario_extra[i], &elen);
        T_TRUE(f != NULL && e != NULL);
        T_TRUE(f && e && elen == len && memcmp(e, f, len) == 0);
        free(f);
    }
    T_TRUE(sim_embedded("nope", &elen) == NULL);
}

static void test_ndjson(void)
{
    struct oc_buf b;
    struct beacon_event ev = {0};
    ev.ts_ms = 1772480580123;
    ev.type = BEACON_HEARTBEAT;
    ev.session = (struct beacon_str){"ab\"c", 4};
    ev.dims[BEACON_REGION] = (struct beacon_str){"EMEA", 4};
    ev.dims[BEACON_LIVE] = (struct beacon_str){"true", 4};
    ev.playing_ms = 9000;
    ev.rebuffer_ms = 1000;
    ev.bitrate_kbps = 4200;
    oc_buf_init(&b, 4096);
    T_EQ_INT(sim_ndjson_append(&b, &ev), 0);
    T_EQ_STR(b.data, "{\"ts\":1772480580123,\"type\":\"heartbeat\",\"session\":\"ab\\u0022c\","
                     "\"region\":\"EMEA\",\"live\":true,\"playing_ms\":9000,\"rebuffer_ms\":1000,"
                     "\"bitrate_kbps\":4200}\n");
    oc_buf_reset(&b);
    memset(&ev, 0, sizeof(ev));
    ev.ts_ms = 5;
    ev.type = BEACON_START;
    ev.outcome = BEACON_FAILURE;
    ev.session = (struct beacon_str){"s1", 2};
    ev.dims[BEACON_LIVE] = (struct beacon_str){"false", 5};
    ev.error_code = (struct beacon_str){"DRM_LICENSE_FAILED", 18};
    T_EQ_INT(sim_ndjson_append(&b, &ev), 0);
    T_EQ_STR(b.data, "{\"ts\":5,\"type\":\"start\",\"session\":\"s1\",\"live\":false,"
                     "\"outcome\":\"failure\",\"error_code\":\"DRM_LICENSE_FAILED\"}\n");
    oc_buf_free(&b);
    oc_buf_init(&b, 10);
    T_EQ_INT(sim_ndjson_append(&b, &ev), OC_ETOOBIG);
    T_EQ_INT(b.len, 0);
    oc_buf_free(&b);
}

static void test_truth_json(void)
{
    struct sim_topo *t = NULL;
    struct sim_scenario *sc = NULL;
    struct sim *s = NULL;
    struct meter *m = calloc(1, sizeof(*m));
    struct sim_opts o = {.seed = 1, .viewers = 10, .sink = meter_sink, .sink_arg = m};
    struct oc_buf b;
    int n = 0;
    oc_buf_init(&b, 1 << 16);
    T_EQ_INT(sim_topo_default(&t), 0);
    T_EQ_INT(sim_scenario_builtin("emea-cdn", &sc), 0);
    T_EQ_INT(sim_new(&o, t, sc, &s), 0);
    T_EQ_INT(sim_now_ms(s), (SIM_DEFAULT_DAY + 19 * 3600 + 30 * 60) * 1000);
    const struct sim_truth *tr = sim_truth(s, &n);
    T_EQ_INT(n, 1);
    T_EQ_INT(tr[0].start_ms, (SIM_DEFAULT_DAY + 19 * 3600 + 43 * 60) * 1000);
    T_EQ_INT(sim_truth_json(s, &b), 0);
    T_EQ_STR(b.data, "{\"scenario\":\"emea-cdn\",\"run_start\":1772479800,\"faults\":[{\"name\":"
                     "\"emea-primary-cache-miss\",\"slice\":{\"region\":[\"EMEA\"],\"cdn\":["
                     "\"primary\"],\"pop\":[\"FRA\",\"AMS\",\"PAR\"]},\"start\":1772480580,"
                     "\"end\":1772482380,\"start_ms\":1772480580000,\"end_ms\":1772482380000,"
                     "\"expect_incident\":true}]}\n");
    oc_buf_free(&b);
    sim_destroy(s);
    sim_scenario_destroy(sc);
    sim_topo_destroy(t);
    free(m);
}

/* Runs a fixed seed for minutes with a meter (slices: all, NA, EMEA); returns the hash. */
static uint64_t run_fixed(struct meter *m, uint64_t seed, int viewers, int minutes,
                          const char *scenario, struct oc_clock *clk)
{
    struct sim_topo *t = NULL;
    struct sim_scenario *sc = NULL;
    struct sim *s = NULL;
    struct sim_opts o = {.seed = seed, .viewers = viewers, .sink = meter_sink, .sink_arg = m};
    o.clock = clk;
    T_EQ_INT(sim_topo_default(&t), 0);
    if (scenario)
        T_EQ_INT(sim_scenario_builtin(scenario, &sc), 0);
    T_EQ_INT(sim_new(&o, t, sc, &s), 0);
    meter_init(m, sim_now_ms(s));
    meter_add(m, NULL);
    meter_add1(m, BEACON_REGION, "NA");
    meter_add1(m, BEACON_REGION, "EMEA");
    sim_run(s, sim_now_ms(s) + minutes * 60000LL);
    T_EQ_INT(sim_events(s), m->events);
    sim_destroy(s);
    sim_scenario_destroy(sc);
    sim_topo_destroy(t);
    return m->hash;
}

/* Same seed, same events: the hash of the stream is pinned. */
static void test_determinism(void)
{
    struct meter *m = calloc(1, sizeof(*m));
    struct oc_clock clk;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 0);
    uint64_t a = run_fixed(m, 7, 2000, 10, "emea-cdn", &clk);
    uint64_t events = m->events;
    meter_free(m);
    T_EQ_INT(oc_clock_now_ms(&clk), (SIM_DEFAULT_DAY + 19 * 3600 + 40 * 60) * 1000);
    uint64_t b = run_fixed(m, 7, 2000, 10, "emea-cdn", NULL);
    meter_free(m);
    uint64_t c = run_fixed(m, 8, 2000, 10, "emea-cdn", NULL);
    meter_free(m);
    T_EQ_INT(a, b);
    T_TRUE(a != c);
    printf("  determinism: %llu events, hash 0x%016llx\n", (unsigned long long)events,
           (unsigned long long)a);
    T_EQ_INT(events, SIM_TEST_EVENTS);
    T_TRUE(a == SIM_TEST_HASH);
    free(m);
}

/* The healthy baseline, computed from the events, within stated tolerances. */
static void test_baseline(void)
{
    struct meter *m = calloc(1, sizeof(*m));
    run_fixed(m, 11, 10000, 30, NULL, NULL);
    for (int i = 0; i < 3; i++) {
        struct meter_min x = meter_sum(m, i, 0, 30);
        T_EQ_DBL(meter_ratio(x), 0.007, 0.0008);            /* rebuffer ratio 0.7% +- 0.08 pt */
        T_EQ_DBL(meter_vsf(x), 0.005, i ? 0.0025 : 0.0015); /* VSF 0.5% +- 0.15 pt (region 0.25) */
        T_EQ_DBL(meter_ebvs(x), 0.02, i ? 0.005 : 0.003);   /* EBVS 2% +- 0.3 pt (region 0.5) */
        T_EQ_DBL(meter_kbps(x), 4300, 300);                 /* average bitrate of the mix */
        printf("  slice %d: ratio %.4f vsf %.4f ebvs %.4f p50 %.0f kbps %.0f\n", i, meter_ratio(x),
               meter_vsf(x), meter_ebvs(x), meter_p50(m, i), meter_kbps(x));
        T_EQ_DBL(meter_p50(m, i), 1200, 50); /* startup p50 1.2 s +- 50 ms */
        for (int k = 1; k < 30; k++) {       /* share rebuffering well under 3% */
            struct meter_min y = meter_sum(m, i, k, k + 1);
            T_TRUE(meter_share(y) > 0.01 && meter_share(y) < 0.025);
            T_TRUE(y.viewers > (i == 0 ? 9000 : 4000));
        }
    }
    struct meter_min all = meter_sum(m, 0, 29, 30);
    T_EQ_DBL(all.viewers, 10000, 600); /* concurrency holds near the requested viewers */
    meter_free(m);
    free(m);
}

static const struct t_case cases[] = {
    T_CASE(test_durations),
    T_CASE(test_topology_default),
    T_CASE(test_topology_errors),
    T_CASE(test_scenario_parse),
    T_CASE(test_scenario_errors),
    T_CASE(test_embedded_equal_files),
    T_CASE(test_ndjson),
    T_CASE(test_truth_json),
    T_CASE(test_determinism),
    T_CASE(test_baseline),
    {0},
};

T_MAIN(cases)
