/*
 * test_drill_scenarios.c - drills past the worked example, one seed each to keep the suite
 * quick: emea-cdn mitigated by automatic steering (paging alerts only), origin-stall (SEV1,
 * the live slice named, the runbook's backup-origin run). origin-stall, isp-peering,
 * drm-outage and bad-player-build with seeds 1, 2 and 3: the scenario's pass rule (one
 * incident, or two for origin-stall's two regions; the cause of the ground truth; the owner
 * paged; the runbook's mitigation run). The runbook's dashboard step names the owning
 * service's board: Packager for origin-stall, DRM license for drm-outage.
 */
#include "t.h"

#include "drill/drill.h"
#include "oncue/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VIEWERS 5000

static char *last_review;     /* the review of the last run() (its timeline), or NULL */
static int findings_as_notes; /* run() with --findings-as-notes */

/* Runs one drill into *s; the review goes to a temporary directory removed afterwards. */
static int run(const char *scenario, int auto_mitigate, uint64_t seed, struct drill_score *s)
{
    char dir[64] = "/tmp/oncue-drill-sc.XXXXXX", err[256] = "";
    struct drill_opts o = {
        .host = &oncue_drill_host, .scenario = scenario, .viewers = VIEWERS, .seed = seed};
    T_TRUE(mkdtemp(dir) != NULL);
    o.out_dir = dir;
    o.auto_mitigate = auto_mitigate;
    o.findings_as_notes = findings_as_notes;
    int rc = drill_run(&o, s, err, sizeof(err));
    T_EQ_STR(err, "");
    for (int i = 0; rc == 0 && i < s->n_reasons; i++)
        printf("  %s reason: %s\n", scenario, s->reasons[i]);
    free(last_review);
    last_review = NULL;
    if (rc == 0 && s->review_path[0]) {
        FILE *f = fopen(s->review_path, "r");
        if (f) {
            last_review = calloc(1, 1 << 20);
            if (fread(last_review, 1, (1 << 20) - 1, f) == 0)
                last_review[0] = '\0';
            fclose(f);
        }
        unlink(s->review_path);
    }
    rmdir(dir);
    return rc;
}

static void test_emea_cdn_auto(void)
{
    struct drill_score s;
    T_EQ_INT(run("emea-cdn", 1, 11, &s), 0);
    T_EQ_INT(s.pass, 1);
    T_EQ_STR(s.severity, "SEV2");
    T_EQ_STR(s.mitigation,
             "oncue mitigate shift-cdn --region EMEA --from primary --to secondary (by auto)");
    /* steering moves when the first page-level alert fires: with the declaration or within
     * the next two minutes, before a human could have acted */
    T_TRUE(s.mitigated_at >= s.declared_at && s.mitigated_at <= s.declared_at + 120);
    T_TRUE(s.metric_after_mitigation < 0.012);
    T_TRUE(s.relief_at - s.mitigated_at <= 120);
    drill_score_free(&s);
}

static void test_origin_stall_sev1(void)
{
    struct drill_score s;
    T_EQ_INT(run("origin-stall", 0, 11, &s), 0);
    T_EQ_INT(s.pass, 1);
    T_EQ_STR(s.severity, "SEV1");
    T_EQ_INT(s.cause_correct, 1);
    char *cause = json_dumps(s.cause, JSON_COMPACT);
    T_EQ_STR(cause, "[{\"live\":\"true\"}]");
    free(cause);
    T_EQ_STR(s.mitigation, "oncue mitigate backup-origin --service live-packager");
    T_TRUE(s.incidents_opened >= 1 && s.incidents_opened <= 2);
    T_EQ_INT(s.incidents_opened - s.incidents_merged, 1); /* one cause, one incident */
    T_TRUE(s.metric_peak > 0.15); /* the global rebuffer ratio crossed the SEV1 line */
    T_TRUE(s.resolved_at > 0);
    drill_score_free(&s);
}

/* The two scenarios without a dedicated case below: the scorecard's pass rule, three seeds. */
static void test_stall_and_peering_seeds(void)
{
    static const char *const scenarios[] = {"origin-stall", "isp-peering"};
    static const char *const severity[] = {"SEV1", "SEV2"};
    for (int k = 0; k < 2; k++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            struct drill_score s;
            T_EQ_INT(run(scenarios[k], 0, seed, &s), 0);
            T_EQ_INT(s.pass, 1);
            T_EQ_INT(s.cause_correct, 1);
            T_EQ_STR(s.severity, severity[k]);
            T_TRUE(s.resolved_at > 0);
            drill_score_free(&s);
        }
    }
}

/* drm-outage: the regions' start-failure alerts join one incident (its cause explains them),
 * localized to PlayReady on smart TVs, the drm team paged, the DRM fallback flag turned on,
 * and the simulated TVs that read it are spared. */
static void test_drm_outage_seeds(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct drill_score s;
        T_EQ_INT(run("drm-outage", 0, seed, &s), 0);
        T_EQ_INT(s.pass, 1);
        T_EQ_INT(s.incidents_opened, 1);
        T_EQ_STR(s.severity, "SEV2");
        char *cause = json_dumps(s.cause, JSON_COMPACT);
        T_EQ_STR(cause, "[{\"device\":\"smart_tv\",\"drm\":\"playready\"}]");
        free(cause);
        T_EQ_STR(s.paged, "drm");
        T_EQ_STR(s.mitigation, "oncue mitigate flag --name drm-fallback-playready --on --device "
                               "smart_tv");
        T_TRUE(s.paged_at == s.declared_at && s.resolved_at > 0);
        /* the simulated TVs read the flag: PlayReady's VSF back under 5% within two minutes */
        T_EQ_STR(s.metric, "vsf_rate drm=playready");
        T_TRUE(s.metric_peak > 0.5);
        T_TRUE(s.relief_at > 0 && s.relief_at - s.mitigated_at <= 120);
        T_TRUE(s.metric_after_mitigation < 0.05);
        drill_score_free(&s);
    }
}

/* bad-player-build: the build's crashes (vpf-player-version-page: a quarter of its viewers'
 * plays die each minute) page the player team for exoplayer 2.19.0 two minutes in, where its
 * start failures alone (a handful of starts a minute) took three to seven, and the runbook
 * turns the build's new playback features off for that version only, which ends the build's
 * start failures. */
static void test_bad_player_build_seeds(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct drill_score s;
        T_EQ_INT(run("bad-player-build", 0, seed, &s), 0);
        T_EQ_INT(s.pass, 1);
        T_EQ_INT(s.incidents_opened, 1);
        char *cause = json_dumps(s.cause, JSON_COMPACT);
        /* the build, with or without its player (only exoplayer has a 2.19.0) */
        T_CONTAINS(cause, "\"player_version\":\"2.19.0\"}]");
        T_EQ_INT(json_array_size(s.cause), 1);
        free(cause);
        T_EQ_STR(s.paged, "player");
        T_EQ_STR(s.mitigation, "oncue mitigate flag --name new-playback-features --off --player "
                               "exoplayer --player-version 2.19.0");
        T_TRUE(s.mitigated_at > s.declared_at && s.resolved_at > 0);
        T_EQ_INT(s.detected_at - s.fault_start, 135); /* minute 2 evaluated at 2:15 */
        T_EQ_STR(s.metric, "vsf_rate player_version=2.19.0");
        /* 30% of the build's starts fail: read over the few minutes before the mitigation
         * (a handful of starts each at 5,000 viewers), the peak is 20-50% by seed */
        T_TRUE(s.metric_peak >= 0.2);
        T_TRUE(s.relief_at > 0 && s.relief_at - s.mitigated_at <= 120);
        T_TRUE(s.metric_after_mitigation < 0.05);
        drill_score_free(&s);
    }
}

/* The drill's simulated prober and scraper see the services fail before the beacons do:
 * origin-stall's live manifest is flagged stale by the probe, drm-outage's PlayReady license
 * errors by the scrape rule, both before the first beacon alert. With --findings-as-notes the
 * beacons open the incident and its timeline (in the review) names the finding with its kind,
 * stream or target, and time. */
static void test_sources_first(void)
{
    struct drill_score s;
    findings_as_notes = 1;
    T_EQ_INT(run("origin-stall", 0, 1, &s), 0);
    T_EQ_INT(s.pass, 1);
    T_EQ_INT(s.finding_at, s.fault_start + 4); /* 2 s polls: stale once past 1.5 x 2 s */
    T_TRUE(s.beacon_alert_at > s.finding_at);
    T_EQ_INT(s.declared_at, s.beacon_alert_at);
    T_EQ_STR(drill_first_signal(&s), "probe");
    T_CONTAINS(s.finding, "probe stale on stream live (service live-packager): origin: media "
                          "sequence");
    T_TRUE(last_review != NULL);
    T_CONTAINS(last_review, "Probe and scrape findings on the simulated services:\n- 19:40:04 "
                            "(+4 s from the fault's start) probe stale on stream live");
    drill_score_free(&s);

    T_EQ_INT(run("drm-outage", 0, 1, &s), 0);
    findings_as_notes = 0;
    T_EQ_INT(s.pass, 1);
    T_EQ_INT(s.finding_at, s.fault_start + 10); /* 5 s scrapes, the rule's 10 s hold */
    T_TRUE(s.beacon_alert_at > s.finding_at);
    T_EQ_STR(drill_first_signal(&s), "scrape");
    T_CONTAINS(s.finding, "scrape playready_errors on target drm-license (service drm-license)");
    T_CONTAINS(last_review, "scrape playready_errors on target drm-license");
    drill_score_free(&s);

    /* The default, as on a live server: the findings are published as probe.failed /
     * scrape.failed, and the alert module's translation opens the incident from the probe,
     * paging the live packager's team at once. The beacons' alert opens an incident 191 s
     * later that is held (nobody paged or told) until rca localizes it: live=true & region=NA,
     * which live-packager serves, so the probe's incident takes it, as live=true (the alert
     * watched NA; the packager's fault reaches every live viewer), and EMEA's alert joins it.
     * The responder acts on the live-manifest runbook at ack + 60 s: backup origin. */
    T_EQ_INT(run("origin-stall", 0, 1, &s), 0);
    T_EQ_INT(s.pass, 1);
    T_EQ_INT(s.declared_at, s.fault_start + 4);
    T_EQ_INT(s.paged_at, s.fault_start + 4);
    T_EQ_STR(s.paged, "live-ops");
    T_EQ_INT(s.detected_at, s.fault_start + 4);
    T_TRUE(s.beacon_alert_at > s.declared_at);
    T_EQ_INT(s.incidents_opened, 1);
    T_EQ_INT(s.incidents_merged, 0); /* the held one was never announced */
    T_EQ_STR(s.severity, "SEV1");
    T_EQ_INT(s.mitigated_at, s.fault_start + 4 + 30 + 60);
    T_EQ_STR(s.mitigation, "oncue mitigate backup-origin --service live-packager");
    T_TRUE(last_review && strstr(last_review, "- `live=true` (score") != NULL);
    T_CONTAINS(last_review, "INC-2 (concurrent_rebuffering_share in region=NA) merged into this "
                            "incident: its root cause is served by live-packager, whose own "
                            "signal opened this incident: live=true;");
    drill_score_free(&s);
    /* the runbook's dashboard step names the owning service's board: live-packager is a
     * packager */
    T_CONTAINS(last_review, "4. check dashboards: Manifest validity and packager dashboards for "
                            "live-packager; origin to rule it out. The owning service's board: "
                            "the Packager board (console #/dashboards?d=packager).");

    /* drm-outage: the scrape rule's incident (drm team) takes the beacons' cause, the
     * responder waits for it (no command of the start-failures runbook fits before) */
    T_EQ_INT(run("drm-outage", 0, 1, &s), 0);
    T_EQ_INT(s.pass, 1);
    T_EQ_INT(s.declared_at, s.fault_start + 10);
    T_EQ_STR(s.paged, "drm");
    T_EQ_INT(s.incidents_opened, 1);
    char *cause = json_dumps(s.cause, JSON_COMPACT);
    T_EQ_STR(cause, "[{\"device\":\"smart_tv\",\"drm\":\"playready\"}]");
    free(cause);
    /* in the second the beacons' cause reaches it */
    T_EQ_INT(s.mitigated_at, s.beacon_alert_at);
    T_EQ_STR(s.mitigation, "oncue mitigate flag --name drm-fallback-playready --on --device "
                           "smart_tv");
    /* ... and its dashboard step names the DRM license board: drm-license is a drm service */
    T_CONTAINS(last_review, "The owning service's board: the DRM license board (console "
                            "#/dashboards?d=drm).");
    drill_score_free(&s);
    free(last_review);
    last_review = NULL;
}

static const struct t_case cases[] = {
    T_CASE(test_sources_first),
    T_CASE(test_emea_cdn_auto),
    T_CASE(test_origin_stall_sev1),
    T_CASE(test_stall_and_peering_seeds),
    T_CASE(test_drm_outage_seeds),
    T_CASE(test_bad_player_build_seeds),
    {0},
};

T_MAIN(cases)
