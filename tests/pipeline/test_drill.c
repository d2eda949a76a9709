/*
 * test_drill.c - `oncue drill` as CTest: the worked example (emea-cdn) and the noise that must
 * not page (blip), each with three seeds, through drill_run in-process on the virtual clock.
 * The scorecard is asserted field by field: one SEV2 incident declared within the rule window
 * plus a minute of the fault, the cause inside the ground truth naming cdn=primary, cdn-ops
 * paged, the runbook's shift-cdn run by the scripted responder, rebuffering in EMEA back under
 * 1.2% one steering TTL + 1 minute after it, resolved after the recovery window, and a review
 * whose timeline tells the story. blip: no incident, no page, nothing mitigated.
 */
#include "t.h"

#include "core/buf.h"
#include "core/err.h"
#include "drill/drill.h"
#include "oncue/commands.h"
#include "config/config.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/module.h"
#include "incident/incident.h"
#include "qoe/qoe.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VIEWERS 5000

static const uint64_t seeds[] = {1, 2, 3};

/* Reads a whole file (caller frees), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    struct oc_buf b;
    char chunk[4096];
    size_t n;
    if (!f)
        return NULL;
    oc_buf_init(&b, 1 << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        oc_buf_append(&b, chunk, n);
    fclose(f);
    return oc_buf_steal(&b);
}

static void check_emea(const struct drill_score *s)
{
    T_EQ_INT(s->pass, 1);
    for (int i = 0; i < s->n_reasons; i++)
        printf("  reason: %s\n", s->reasons[i]);
    T_EQ_INT(s->incidents_opened, 1);
    T_EQ_STR(s->severity, "SEV2");
    T_EQ_STR(s->paged, "cdn-ops");
    T_EQ_INT(s->cause_correct, 1);
    T_EQ_INT((long long)json_array_size(s->cause), 3);
    char *cause = json_dumps(s->cause, JSON_COMPACT | JSON_SORT_KEYS);
    T_CONTAINS(cause, "{\"cdn\":\"primary\",\"pop\":\"FRA\"}");
    T_CONTAINS(cause, "{\"cdn\":\"primary\",\"pop\":\"AMS\"}");
    T_CONTAINS(cause, "\"pop\":\"PAR\"");
    free(cause);
    T_EQ_STR(s->mitigation, "oncue mitigate shift-cdn --region EMEA --from primary --to secondary");
    T_EQ_INT(s->fault_start, 1772480580); /* 2026-03-02T19:43:00Z */
    /* the notify rule's 3-minute window, plus one minute: declared by 19:47-19:48 */
    T_TRUE(s->detected_at >= s->fault_start + 180 && s->detected_at <= s->fault_start + 300);
    T_EQ_INT(s->declared_at, s->detected_at);
    T_EQ_INT(s->paged_at, s->declared_at);
    T_EQ_INT(s->acked_at, s->paged_at + 30);
    T_EQ_INT(s->mitigated_at, s->acked_at + 60);
    T_TRUE(s->metric_peak > 0.02);              /* the fault was there ... */
    T_TRUE(s->metric_after_mitigation < 0.012); /* ... and gone within TTL + 1 min */
    T_TRUE(s->relief_at > s->mitigated_at && s->relief_at <= s->mitigated_at + 120);
    T_TRUE(s->relief_at - s->paged_at < 840 / 2); /* beats the worked example's 14 min */
    /* alerts clear a few minutes after the shift; 30 minutes of recovery window later */
    T_TRUE(s->resolved_at >= s->mitigated_at + 1800 && s->resolved_at <= s->mitigated_at + 2700);
    T_TRUE(s->notifications >= 4);
    T_EQ_INT(s->n_reasons, 0);
}

static void check_review(const struct drill_score *s)
{
    char *md = slurp(s->review_path);
    T_TRUE(md != NULL);
    if (!md)
        return;
    T_CONTAINS(md, "# Post-incident review: INC-1");
    T_CONTAINS(md, "declared SEV2");
    T_CONTAINS(md, "paged team cdn-ops");
    T_CONTAINS(md, "acknowledged by drill-responder");
    T_CONTAINS(md, "runbook rebuffering: 1. confirm:");
    T_CONTAINS(md, "mitigation #1 (shift-cdn) applied");
    T_CONTAINS(md, "`cdn=primary & pop=FRA`");
    T_CONTAINS(md, "incident resolved: metrics back inside their band");
    free(md);
}

/* emea-cdn seed 1 with beacons, kept by test_emea_cdn_three_seeds for test_emea_cdn_cdn_logs
 * (which runs it itself when run alone). */
static struct {
    json_t *cause; /* owned */
    int64_t detected_at, mitigated_at;
    char cross_check[16];
} beacons_seed1;

static void keep_seed1(const struct drill_score *s)
{
    if (beacons_seed1.cause)
        return;
    beacons_seed1.cause = json_deep_copy(s->cause);
    beacons_seed1.detected_at = s->detected_at;
    beacons_seed1.mitigated_at = s->mitigated_at;
    snprintf(beacons_seed1.cross_check, sizeof beacons_seed1.cross_check, "%s", s->cross_check);
}

static void test_emea_cdn_three_seeds(void)
{
    char dir[64] = "/tmp/oncue-drill-test.XXXXXX", err[256] = "";
    T_TRUE(mkdtemp(dir) != NULL);
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        struct drill_opts o = {.host = &oncue_drill_host,
                               .scenario = "emea-cdn",
                               .viewers = VIEWERS,
                               .seed = seeds[i]};
        struct drill_score s;
        o.out_dir = dir;
        T_EQ_INT(drill_run(&o, &s, err, sizeof(err)), 0);
        printf("  emea-cdn seed %llu: declared +%llds, mitigated +%llds, relief +%llds, "
               "EMEA rebuffer peak %.2f%% after %.2f%%, resolved +%llds, %.1f s wall\n",
               (unsigned long long)seeds[i], (long long)(s.declared_at - s.fault_start),
               (long long)(s.mitigated_at - s.fault_start),
               (long long)(s.relief_at - s.fault_start), s.metric_peak * 100,
               s.metric_after_mitigation * 100, (long long)(s.resolved_at - s.fault_start),
               s.wall_s);
        check_emea(&s);
        check_review(&s);
        if (i == 0)
            keep_seed1(&s);
        /* the real modules ran: alert ticks opened, localized and steered through the bus,
         * and no subscriber ran while a publisher held its lock */
        printf("  bus: %llu deliveries\n", (unsigned long long)s.bus_deliveries);
        T_TRUE(s.bus_deliveries >= 10);
        T_EQ_INT(s.bus_violations, 0);
        json_t *j = drill_score_json(&s);
        T_EQ_INT(json_is_true(json_object_get(j, "pass")), 1);
        T_EQ_INT(json_integer_value(json_object_get(j, "time_to_mitigate_s")),
                 s.mitigated_at - s.fault_start);
        T_EQ_STR(json_string_value(json_object_get(j, "review_path")), s.review_path);
        T_EQ_INT((long long)json_array_size(json_object_get(j, "reasons")), 0);
        json_decref(j);
        unlink(s.review_path);
        drill_score_free(&s);
    }
    rmdir(dir);
}

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The elements of a cause as sorted compact JSON, one a line (the caller frees). */
static char *cause_set(json_t *cause)
{
    size_t n = json_array_size(cause);
    char **v = calloc(n + 1, sizeof *v);
    struct oc_buf b;
    oc_buf_init(&b, 1 << 16);
    for (size_t i = 0; i < n; i++)
        v[i] = json_dumps(json_array_get(cause, i), JSON_COMPACT | JSON_SORT_KEYS);
    qsort(v, n, sizeof *v, str_cmp);
    for (size_t i = 0; i < n; i++) {
        oc_buf_printf(&b, "%s%s", i ? " " : "", v[i]);
        free(v[i]);
    }
    free(v);
    oc_buf_puts(&b, "");
    return oc_buf_steal(&b);
}

/* Issue 17: with the players arriving as CDN log lines with CMCD (the parser and fold of POST
 * /v1/cdn-logs) instead of beacons, emea-cdn localizes to the same POPs, at the same time and
 * with the same scorecard as with beacons alone. */
static void test_emea_cdn_cdn_logs(void)
{
    char dir[64] = "/tmp/oncue-drill-test.XXXXXX", err[256] = "";
    T_TRUE(mkdtemp(dir) != NULL);
    struct drill_score s;
    for (int logs = beacons_seed1.cause ? 1 : 0; logs < 2; logs++) {
        struct drill_opts o = {.host = &oncue_drill_host,
                               .scenario = "emea-cdn",
                               .viewers = VIEWERS,
                               .seed = seeds[0],
                               .cdn_logs = logs};
        o.out_dir = dir;
        T_EQ_INT(drill_run(&o, &s, err, sizeof(err)), 0);
        unlink(s.review_path);
        if (!logs) {
            keep_seed1(&s);
            drill_score_free(&s);
        }
    }
    check_emea(&s);
    char *a = cause_set(beacons_seed1.cause), *b = cause_set(s.cause);
    printf("  emea-cdn with beacons: %s; with CDN logs: %s (%.1f s wall)\n", a, b, s.wall_s);
    T_EQ_STR(b, a); /* the same elements (their order follows their scores) */
    T_EQ_INT(s.detected_at, beacons_seed1.detected_at);
    T_EQ_INT(s.mitigated_at, beacons_seed1.mitigated_at);
    /* the runbook's first step: beacons alone have no CDN logs to cross-check; with them the
     * edge of the POPs (cache misses, slow first bytes) agrees with the viewers */
    T_EQ_STR(beacons_seed1.cross_check, "no_data");
    T_EQ_STR(s.cross_check, "agrees");
    free(a);
    free(b);
    drill_score_free(&s);
    json_decref(beacons_seed1.cause);
    beacons_seed1.cause = NULL;
    rmdir(dir);
}

/* isp-peering, the other CDN scenario, with CDN logs only: the ISP comes from the log line
 * (Fastly's client.as.name), so the cause is the ISP, as with beacons. */
static void test_isp_peering_cdn_logs(void)
{
    char dir[64] = "/tmp/oncue-drill-test.XXXXXX", err[256] = "";
    T_TRUE(mkdtemp(dir) != NULL);
    struct drill_opts o = {.host = &oncue_drill_host,
                           .scenario = "isp-peering",
                           .viewers = VIEWERS,
                           .seed = seeds[0],
                           .cdn_logs = 1};
    struct drill_score s;
    o.out_dir = dir;
    T_EQ_INT(drill_run(&o, &s, err, sizeof(err)), 0);
    char *cause = cause_set(s.cause);
    printf("  isp-peering with CDN logs: %s\n", cause);
    T_EQ_STR(cause, "{\"isp\":\"vodafone-de\"}");
    T_EQ_INT(s.cause_correct, 1);
    T_EQ_INT(s.pass, 1);
    free(cause);
    unlink(s.review_path);
    drill_score_free(&s);
    rmdir(dir);
}

/* The drill runs the table `serve` runs, and starting it subscribes exactly the rows of the
 * modules' subs tables, in table order: the same handlers on the same topics in both. */
static void test_same_wiring_as_serve(void)
{
    char dir[64] = "/tmp/oncue-wiring.XXXXXX", err[256] = "";
    struct oc_config cfg;
    struct oc_clock clk;
    struct oc_app app = {0};
    struct oc_bus_sub subs[64];
    T_TRUE(oncue_drill_host.modules == oc_modules);
    T_TRUE(mkdtemp(dir) != NULL);
    config_defaults(&cfg);
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 1772480580000LL);
    app = (struct oc_app){
        .cfg = &cfg, .clock = &clk, .bus = oc_bus_new(), .metrics = oc_metrics_new()};
    T_EQ_INT(store_open(dir, STORE_SYNC_NORMAL, &app.store, err, sizeof(err)), 0);
    T_EQ_INT(oc_app_start(&app, oc_modules, "all"), 0);
    int n = oc_bus_subscriptions(app.bus, subs, 64), k = 0;
    for (const struct oc_module *const *m = oc_modules; *m; m++)
        for (const struct oc_module_sub *r = (*m)->subs; r && r->topic; r++, k++) {
            T_TRUE(k < n && subs[k].fn == r->fn);
            T_EQ_STR(k < n ? subs[k].topic : "", r->topic);
        }
    T_EQ_INT(n, k);
    T_EQ_INT(n, 25); /* steer 2, probe 1, qoe 1 (steer.policy_changed), alert 7, incident 7,
                        tickets 3, rca 2 (opened, held), web 1 ("*"), automation 1 ("*") */
    T_EQ_STR(subs[0].topic, "alert.fired");
    T_TRUE(qoe_cube_of(&app) != NULL && incident_mgr_of(&app) != NULL);
    oc_app_stop(&app);
    T_EQ_INT(oc_bus_subscriptions(app.bus, subs, 64), 0);
    store_close(app.store);
    oc_metrics_destroy(app.metrics);
    oc_bus_destroy(app.bus);
    config_free(&cfg);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    T_EQ_INT(system(cmd), 0);
}

static void test_blip_three_seeds(void)
{
    char err[256] = "";
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        struct drill_opts o = {
            .host = &oncue_drill_host, .scenario = "blip", .viewers = VIEWERS, .seed = seeds[i]};
        struct drill_score s;
        o.out_dir = "/nonexistent-drill-dir"; /* nothing may be written */
        T_EQ_INT(drill_run(&o, &s, err, sizeof(err)), 0);
        T_EQ_INT(s.pass, 1);
        T_EQ_INT(s.incidents_opened, 0);
        T_EQ_STR(s.paged, "");
        T_EQ_STR(s.mitigation, "");
        T_EQ_STR(s.review_path, "");
        T_EQ_INT(s.declared_at, 0);
        T_EQ_INT(s.fault_start, 1772480420); /* 2026-03-02T19:40:20Z */
        T_EQ_INT(s.n_reasons, 0);
        json_t *j = drill_score_json(&s);
        T_TRUE(json_is_null(json_object_get(j, "declared_at")));
        T_TRUE(json_is_true(json_object_get(j, "pass")));
        json_decref(j);
        drill_score_free(&s);
    }
}

static void test_unknown_scenario(void)
{
    struct drill_opts o = {
        .host = &oncue_drill_host, .scenario = "no-such-scenario", .viewers = 100, .seed = 1};
    struct drill_score s;
    char err[256] = "";
    T_EQ_INT(drill_run(&o, &s, err, sizeof(err)), OC_ENOTFOUND);
    T_EQ_STR(err, "unknown scenario no-such-scenario");
}

static const struct t_case cases[] = {
    T_CASE(test_unknown_scenario),
    T_CASE(test_same_wiring_as_serve),
    T_CASE(test_blip_three_seeds),
    T_CASE(test_emea_cdn_three_seeds),
    T_CASE(test_emea_cdn_cdn_logs),
    T_CASE(test_isp_peering_cdn_logs),
    {0},
};

T_MAIN(cases)
