/*
 * test_incident_pipeline.c - from simulated viewers to an incident, in-process on the virtual
 * clock, through the module table `oncue serve` runs (oc_modules, started by oc_app_start, no
 * HTTP listener, no responder): the simulator's NDJSON is parsed and folded into the qoe
 * module's cube as POST /v1/events does, and every simulated second oc_app_tick runs the
 * module timers (minutes complete and close, alert rules, incident rules) with the bus
 * drained after each: alert -> incident (open, classify, route) -> rca (localize) -> incident.
 *   blip: no incident, no page. emea-cdn: one incident, SEV2, localized to the primary CDN's
 *   EMEA POPs, the CDN owner paged, declared within the rule window + 30 s of the fault, resolved
 *   the recovery window after it ends; its review has the timeline.
 */
#include "t.h"

#include "config/config.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/module.h"
#include "incident/incident.h"
#include "ingest/ingest.h"
#include "oncue/commands.h"
#include "qoe/qoe.h"
#include "sim/sim.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEWERS 4000

struct run {
    struct oc_clock clk;
    struct oc_bus *bus;
    struct store *store;
    struct oc_config cfg;
    struct oc_app app;
    struct qoe_cube *cube;  /* the qoe module's */
    struct incident_mgr *m; /* the incident module's */
    struct ingest_batch batch;
    struct oc_buf body;
    int pages;     /* incident.page events */
    int viewers;   /* simulated (0: VIEWERS) */
    uint64_t seed; /* the simulator's (0: 7) */
    char dir[64];
};

static void on_page(const char *topic, const json_t *p, void *arg)
{
    struct run *r = arg;
    (void)topic;
    (void)p;
    r->pages++;
}

static void sink(void *arg, const struct beacon_event *ev)
{
    struct run *r = arg;
    T_EQ_INT(sim_ndjson_append(&r->body, ev), 0);
}

/* After each simulated second: what POST /v1/events does with the second's beacons, then the
 * module timers due (serve's periods) with the bus drained after each. */
static void tick(void *arg, int64_t now_ms)
{
    struct run *r = arg;
    char err[200];
    if (r->body.len) {
        T_EQ_INT(ingest_parse(&r->batch, r->body.data, r->body.len, err, sizeof(err)), 0);
        ingest_fold(r->cube, &r->batch, NULL);
        oc_buf_reset(&r->body);
    }
    oc_app_tick(&r->app, now_ms);
}

static void run_open(struct run *r)
{
    char err[512];
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/oncue-incp.XXXXXX");
    T_TRUE(mkdtemp(r->dir) != NULL);
    T_EQ_INT(store_open(r->dir, STORE_SYNC_NORMAL, &r->store, err, sizeof(err)), 0);
    oc_clock_init(&r->clk, OC_CLOCK_VIRTUAL, 0);
    r->bus = oc_bus_new();
    config_init(&r->cfg, oc_modules);
    r->app = (struct oc_app){.cfg = &r->cfg, .clock = &r->clk, .bus = r->bus, .store = r->store};
    T_EQ_INT(oc_app_start(&r->app, oc_modules, "all"), 0);
    r->cube = qoe_cube_of(&r->app);
    r->m = incident_mgr_of(&r->app);
    T_TRUE(r->cube != NULL && r->m != NULL);
    ingest_batch_init(&r->batch, 1000000);
    oc_buf_init(&r->body, 64u << 20);
    oc_bus_subscribe(r->bus, "incident.page", on_page, r);
}

/* Runs the built-in scenario, or with yaml set the scenario it holds, for minutes. */
static void run_sim_of(struct run *r, const char *scenario, const char *yaml, int minutes,
                       int64_t *t0)
{
    struct sim_topo *t = NULL;
    struct sim_scenario *sc = NULL;
    struct sim *s = NULL;
    struct sim_opts o = {.seed = 7, .viewers = VIEWERS, .sink = sink, .sink_arg = r};
    char err[200] = "";
    o.tick = tick;
    o.tick_arg = r;
    o.clock = &r->clk;
    T_EQ_INT(sim_topo_default(&t), 0);
    if (yaml)
        T_EQ_INT(sim_scenario_parse(yaml, strlen(yaml), &sc, err, sizeof(err)), 0);
    else
        T_EQ_INT(sim_scenario_builtin(scenario, &sc), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(sim_new(&o, t, sc, &s), 0);
    *t0 = sim_now_ms(s) / 1000;
    sim_run(s, sim_now_ms(s) + minutes * 60000LL);
    sim_destroy(s);
    sim_scenario_destroy(sc);
    sim_topo_destroy(t);
}

static void run_sim(struct run *r, const char *scenario, int minutes, int64_t *t0)
{
    run_sim_of(r, scenario, NULL, minutes, t0);
}

static void run_close(struct run *r)
{
    char cmd[128];
    oc_bus_unsubscribe(r->bus, on_page, r);
    oc_app_stop(&r->app);
    ingest_batch_free(&r->batch);
    oc_buf_free(&r->body);
    oc_bus_destroy(r->bus);
    store_close(r->store);
    config_free(&r->cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
    T_EQ_INT(system(cmd), 0);
}

static void test_blip_no_incident(void)
{
    struct run *r = calloc(1, sizeof(*r));
    int64_t t0;
    run_open(r);
    run_sim(r, "blip", 30, &t0);
    json_t *l = incident_list_json(r->m, NULL);
    T_EQ_INT(json_array_size(l), 0);
    T_EQ_INT(r->pages, 0);
    json_decref(l);
    run_close(r);
    free(r);
}

static void test_emea_cdn_sev2(void)
{
    struct run *r = calloc(1, sizeof(*r));
    int64_t t0;
    char *md = NULL;
    run_open(r);
    run_sim(r, "emea-cdn", 80, &t0);
    json_t *l = incident_list_json(r->m, NULL);
    T_EQ_INT(json_array_size(l), 1);
    json_t *inc = json_array_get(l, 0);
    T_EQ_STR(json_string_value(json_object_get(inc, "severity")), "SEV2");
    T_EQ_STR(json_string_value(json_object_get(json_object_get(inc, "slice"), "region")), "EMEA");
    T_EQ_STR(json_string_value(json_object_get(json_object_get(inc, "slice"), "cdn")), "primary");
    T_EQ_STR(json_string_value(json_object_get(inc, "team")), "cdn-ops");
    char *causes = json_dumps(json_object_get(inc, "causes"), JSON_COMPACT);
    T_CONTAINS(causes, "\"pop\":\"FRA\"");
    T_CONTAINS(causes, "\"pop\":\"AMS\"");
    T_CONTAINS(causes, "\"pop\":\"PAR\"");
    free(causes);
    int64_t opened = json_integer_value(json_object_get(inc, "opened_at"));
    double share = json_number_value(json_object_get(
        json_object_get(json_object_get(inc, "snapshots"), "declaration"), "affected_share"));
    printf("  emea-cdn: %.1f%% of viewers affected at declaration\n", share * 100);
    /* minutes are complete 15 s after their end (ingest.complete_after_s); the stalled
     * viewers of the region's CDN page once they held for 3 minutes above 4% plus the noise
     * margin of this thin population (a minute more than the 80,000 viewers of the drill),
     * when more than 5% of all viewers are affected: SEV2 at once */
    T_TRUE(share > 0.05 && share < 0.08);
    printf("  emea-cdn: fault at %lld, incident declared at %lld (+%lld s), %d page(s)\n",
           (long long)(t0 + 13 * 60), (long long)opened, (long long)(opened - t0 - 13 * 60),
           r->pages);
    T_TRUE(opened > t0 + 13 * 60 && opened <= t0 + 13 * 60 + 270); /* window + 90 s */
    T_TRUE(r->pages >= 1);
    /* the fault ends at 20:13; every alert clears, and 30 minutes later it resolves */
    int64_t resolved = json_integer_value(json_object_get(inc, "resolved_at"));
    printf("  emea-cdn: fault ends at %lld, resolved at %lld (+%lld s)\n",
           (long long)(t0 + 43 * 60), (long long)resolved, (long long)(resolved - t0 - 43 * 60));
    T_EQ_STR(json_string_value(json_object_get(inc, "state")), "resolved");
    T_TRUE(resolved >= t0 + 43 * 60 + 1800 && resolved <= t0 + 43 * 60 + 1800 + 6 * 60);
    T_EQ_INT(incident_review_md(r->m, 1, &md), 0);
    if (getenv("SHOW_REVIEW"))
        printf("%s\n", md);
    T_CONTAINS(md, "paged team cdn-ops");
    T_CONTAINS(md, "incident declared SEV2: more than the SEV2 share of viewers affected (5.8%");
    T_CONTAINS(md, "retitled from \"rebuffering_share in region=EMEA & cdn=primary\"");
    T_CONTAINS(md, "incident resolved: metrics back inside their band for the recovery window");
    free(md);
    json_decref(l);
    run_close(r);
    free(r);
}

/* The live manifest stalls everywhere: the global rebuffer ratio stays above 15% for more
 * than 2 minutes; one incident (its cause, live=true, explains every region's alerts), SEV1. */
static void test_origin_stall_sev1(void)
{
    struct run *r = calloc(1, sizeof(*r));
    int64_t t0;
    run_open(r);
    run_sim(r, "origin-stall", 25, &t0);
    json_t *l = incident_list_json(r->m, NULL);
    T_EQ_INT(json_array_size(l), 1);
    for (size_t i = 0; i < json_array_size(l); i++) {
        json_t *inc = json_array_get(l, i);
        printf("  origin-stall: %s %s %s\n", json_string_value(json_object_get(inc, "incident_id")),
               json_string_value(json_object_get(inc, "severity")),
               json_string_value(json_object_get(inc, "title")));
        T_EQ_STR(json_string_value(json_object_get(inc, "severity")), "SEV1");
    }
    json_decref(l);
    run_close(r);
    free(r);
}

/* Two faults in a row as `make demo` schedules them: vodafone-de's peering link for 6
 * minutes, then, two minutes after it ends, exoplayer 2.19.0's crash. The build's start
 * failures are not the peering incident's (its cause, country=DE & isp=vodafone-de, holds a
 * sliver of the build's viewers, and the build fails as much without them): they open their
 * own incident for the player team within the rule's window plus 90 s, and never join the
 * peering one (in a demo they did, and paged 3 minutes late when they left it). */
static void test_build_after_peering(void)
{
    static const char yaml[] = "name: peering-then-build\n"
                               "begin: \"19:30\"\n"
                               "duration: 30m\n"
                               "expect_incident: true\n"
                               "faults:\n"
                               "  - name: vodafone-de-peering-loss\n"
                               "    slice: {country: DE, isp: vodafone-de}\n"
                               "    start: \"19:34\"\n"
                               "    ramp: 1m\n"
                               "    duration: 6m\n"
                               "    effect: {rebuffer_max: 0.08, bitrate_cap_kbps: 1500,"
                               " startup_factor: 2.5}\n"
                               "  - name: exoplayer-2.19.0-crash\n"
                               "    slice: {player: exoplayer, player_version: 2.19.0}\n"
                               "    start: \"19:42\"\n"
                               "    duration: 6m\n"
                               "    effect: {crash_per_min: 0.25, start_failure: 0.30,"
                               " error_code: PLAYER_CRASH}\n";
    struct run *r = calloc(1, sizeof(*r));
    int64_t t0, build_opened = 0, build_id = 0, peering_id = 0;
    char *md = NULL;
    run_open(r);
    run_sim_of(r, NULL, yaml, 30, &t0);
    json_t *l = incident_list_json(r->m, NULL);
    for (size_t i = 0; i < json_array_size(l); i++) {
        json_t *inc = json_array_get(l, i);
        const char *team = json_string_value(json_object_get(inc, "team"));
        printf("  peering-then-build: %s %s %s (%s) opened +%lld s\n",
               json_string_value(json_object_get(inc, "incident_id")),
               json_string_value(json_object_get(inc, "severity")),
               json_string_value(json_object_get(inc, "title")), team,
               (long long)(json_integer_value(json_object_get(inc, "opened_at")) - t0));
        if (team && strcmp(team, "player") == 0) {
            build_id = json_integer_value(json_object_get(inc, "id"));
            build_opened = json_integer_value(json_object_get(inc, "opened_at"));
        } else if (team && strcmp(team, "cdn-ops") == 0) {
            peering_id = json_integer_value(json_object_get(inc, "id"));
        }
    }
    T_EQ_INT(json_array_size(l), 2);
    T_TRUE(peering_id > 0 && build_id > 0);
    T_TRUE(build_opened > t0 + 12 * 60 && build_opened <= t0 + 12 * 60 + 270);
    if (getenv("SHOW_REVIEW") && incident_review_md(r->m, build_id, &md) == 0) {
        printf("%s\n", md);
        free(md);
    }
    T_EQ_INT(incident_review_md(r->m, peering_id, &md), 0);
    if (getenv("SHOW_REVIEW"))
        printf("%s\n", md);
    T_TRUE(strstr(md, "player_version=2.19.0 joined") == NULL);
    free(md);
    json_decref(l);
    run_close(r);
    free(r);
}

static const struct t_case cases[] = {
    T_CASE(test_origin_stall_sev1),
    T_CASE(test_blip_no_incident),
    T_CASE(test_emea_cdn_sev2),
    T_CASE(test_build_after_peering),
    {0},
};

T_MAIN(cases)
