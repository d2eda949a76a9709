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
    T_EQ_INT(n, 17); /* steer 2, alert 3, incident 7, tickets 3, rca 1, web 1 ("*") */
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
    {0},
};

T_MAIN(cases)
