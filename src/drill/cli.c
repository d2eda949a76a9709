/*
 * cli.c - `oncue drill SCENARIO`: options from a table (core/opt.h), the scorecard as one JSON
 * object
 * (--json) or as a readable report, exit status 0 when the drill passed, 1 when it failed,
 * 2 on a usage or setup error.
 */
#include "drill/drill_int.h"

#include "core/err.h"
#include "core/opt.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "sim/sim.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A time as a JSON integer, or null when it never happened. */
static json_t *when(int64_t t)
{
    return t ? json_integer(t) : json_null();
}

/* b - a in seconds, or null when either is missing. */
static json_t *span(int64_t a, int64_t b)
{
    return a && b ? json_integer(b - a) : json_null();
}

static json_t *num(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 1e6) / 1e6);
}

/* A report's seconds, or null (-1). */
static json_t *secs(double v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)llround(v));
}

/* "premium,free" as a JSON array (a new reference). */
static json_t *tier_list(const char *list)
{
    json_t *a = json_array();
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        json_array_append_new(a, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    return a;
}

/* The ticket storm's business reports against the truth (a new reference). */
static json_t *reports_json(const struct drill_score *s)
{
    return json_pack("{s:{s:I, s:I}, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:i, s:i}}",
                     "window", "from", (json_int_t)s->report_from, "to", (json_int_t)s->report_to,
                     "mtta_s", "report", secs(s->report_mtta_s), "truth", secs(s->truth_mtta_s),
                     "mttr_s", "report", secs(s->report_mttr_s), "truth", secs(s->truth_mttr_s),
                     "sla_breached", "report", tier_list(s->report_breached), "truth",
                     tier_list(s->truth_breached), "compensate", "report", s->report_compensate,
                     "truth", s->truth_compensate);
}

const char *drill_first_signal(const struct drill_score *s)
{
    if (s->finding_at && (!s->beacon_alert_at || s->finding_at <= s->beacon_alert_at))
        return strncmp(s->finding, "probe", 5) == 0 ? "probe" : "scrape";
    return s->beacon_alert_at ? "beacon" : "none";
}

json_t *drill_score_json(const struct drill_score *s)
{
    json_t *o = json_object(), *reasons = json_array();
    for (int i = 0; i < s->n_reasons; i++)
        json_array_append_new(reasons, json_string(s->reasons[i]));
    json_object_set_new(o, "scenario", json_string(s->scenario));
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(o, "viewers", json_integer(s->viewers));
    char ran[OC_TIME_LEN], ran_ms[40];
    oc_time_format(s->ran_at_ms, ran, sizeof ran); /* with milliseconds: the history's order */
    snprintf(ran_ms, sizeof ran_ms, "%.19s.%03dZ", ran, (int)(s->ran_at_ms % 1000));
    json_object_set_new(o, "ran_at", json_string(ran_ms));
    json_object_set_new(o, "service", s->service[0] ? json_string(s->service) : json_null());
    json_object_set_new(o, "fault_start", when(s->fault_start));
    json_object_set_new(o, "detected_at", when(s->detected_at));
    json_object_set_new(o, "declared_at", when(s->declared_at));
    json_object_set_new(o, "finding", s->finding[0] ? json_string(s->finding) : json_null());
    json_object_set_new(o, "finding_at", when(s->finding_at));
    json_object_set_new(o, "beacon_alert_at", when(s->beacon_alert_at));
    json_object_set_new(o, "first_signal", json_string(drill_first_signal(s)));
    json_object_set_new(o, "finding_lead_s", span(s->finding_at, s->beacon_alert_at));
    json_object_set_new(o, "severity", s->severity[0] ? json_string(s->severity) : json_null());
    json_object_set_new(o, "cross_check",
                        s->cross_check[0] ? json_string(s->cross_check) : json_null());
    json_object_set_new(o, "cause", json_deep_copy(s->cause));
    json_object_set_new(o, "cause_correct", json_boolean(s->cause_correct));
    json_object_set_new(o, "paged", s->paged[0] ? json_string(s->paged) : json_null());
    json_object_set_new(o, "paged_at", when(s->paged_at));
    json_object_set_new(o, "acknowledged_at", when(s->acked_at));
    json_object_set_new(o, "mitigation",
                        s->mitigation[0] ? json_string(s->mitigation) : json_null());
    json_object_set_new(o, "mitigated_at", when(s->mitigated_at));
    json_object_set_new(o, "metric", json_string(s->metric));
    json_object_set_new(o, "metric_peak", num(s->metric_peak));
    json_object_set_new(o, "metric_after_mitigation", num(s->metric_after_mitigation));
    json_object_set_new(o, "relief_at", when(s->relief_at));
    json_object_set_new(o, "resolved_at", when(s->resolved_at));
    json_object_set_new(o, "simulated_s", json_integer((json_int_t)s->simulated_s));
    json_object_set_new(o, "alerts_fired",
                        json_pack("{s:i, s:i, s:i}", "page", s->alerts_page, "notify",
                                  s->alerts_notify, "backlog", s->alerts_backlog));
    json_object_set_new(o, "incidents_opened", json_integer(s->incidents_opened));
    json_object_set_new(o, "incidents_merged", json_integer(s->incidents_merged));
    json_object_set_new(o, "notifications", json_integer(s->notifications));
    json_object_set_new(
        o, "tickets",
        s->tickets_sent
            ? json_pack("{s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:i, s:o, s:o, s:o}", "sent",
                        s->tickets_sent, "noise", s->tickets_noise, "redelivered",
                        s->tickets_redelivered, "duplicates", s->tickets_duplicates, "clusters",
                        s->ticket_clusters, "precision", s->tickets_precision, "recall",
                        s->tickets_recall, "linked_share", s->tickets_linked_share, "false_links",
                        s->tickets_false_links, "linked_at", when(s->tickets_linked_at),
                        "link_delay_s", span(s->declared_at, s->tickets_linked_at), "reports",
                        reports_json(s))
            : json_null());
    json_object_set_new(o, "review_path",
                        s->review_path[0] ? json_string(s->review_path) : json_null());
    json_object_set_new(o, "time_to_detect_s", span(s->fault_start, s->detected_at));
    json_object_set_new(o, "time_to_declare_s", span(s->fault_start, s->declared_at));
    json_object_set_new(o, "time_to_mitigate_s", span(s->fault_start, s->mitigated_at));
    json_object_set_new(o, "time_to_resolve_s", span(s->fault_start, s->resolved_at));
    json_object_set_new(o, "page_to_relief_s", span(s->paged_at, s->relief_at));
    json_object_set_new(o, "beats_worked_example_by_s",
                        s->paged_at && s->relief_at
                            ? json_integer(DRILL_WORKED_EXAMPLE - (s->relief_at - s->paged_at))
                            : json_null());
    json_object_set_new(o, "wall_s", json_real(round(s->wall_s * 1000) / 1000));
    json_object_set_new(o, "pass", json_boolean(s->pass));
    json_object_set_new(o, "reasons", reasons);
    return o;
}

/* Appends "label  HH:MM:SS (+N s)" for time t, or "-" when it never happened. */
static void line_time(struct oc_buf *b, const char *label, int64_t t, int64_t from)
{
    char hms[16] = "-";
    time_t tt = (time_t)t;
    struct tm tm;
    if (t && gmtime_r(&tt, &tm))
        strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
    oc_buf_printf(b, "  %-22s %s", label, hms);
    if (t && from)
        oc_buf_printf(b, "  (%+lld s from fault start)", (long long)(t - from));
    oc_buf_puts(b, "\n");
}

void drill_score_text(const struct drill_score *s, struct oc_buf *b)
{
    char *cause = json_dumps(s->cause, JSON_COMPACT);
    oc_buf_printf(b, "drill %s (seed %llu, %d viewers): %s\n\n", s->scenario,
                  (unsigned long long)s->seed, s->viewers, s->pass ? "PASS" : "FAIL");
    if (!s->fault_start) { /* healthy traffic: no fault, no timeline, every alert a failure */
        oc_buf_printf(b, "  simulated              %lld minutes without a fault\n",
                      (long long)(s->simulated_s / 60));
        oc_buf_printf(b, "  alerts fired           %d page, %d notify, %d backlog\n",
                      s->alerts_page, s->alerts_notify, s->alerts_backlog);
        oc_buf_printf(b, "  incidents opened       %d\n", s->incidents_opened);
        oc_buf_printf(b, "  wall time              %.2f s\n", s->wall_s);
        for (int i = 0; i < s->n_reasons; i++)
            oc_buf_printf(b, "  FAIL: %s\n", s->reasons[i]);
        free(cause);
        return;
    }
    line_time(b, "fault start", s->fault_start, 0);
    line_time(b, "probe/scrape finding", s->finding_at, s->fault_start);
    line_time(b, "first beacon alert", s->beacon_alert_at, s->fault_start);
    line_time(b, "first alert", s->detected_at, s->fault_start);
    line_time(b, "incident declared", s->declared_at, s->fault_start);
    line_time(b, "paged", s->paged_at, s->fault_start);
    line_time(b, "acknowledged", s->acked_at, s->fault_start);
    line_time(b, "mitigated", s->mitigated_at, s->fault_start);
    line_time(b, "relief", s->relief_at, s->fault_start);
    line_time(b, "resolved", s->resolved_at, s->fault_start);
    oc_buf_printf(b, "\n  first signal           %s", drill_first_signal(s));
    if (s->finding_at && s->beacon_alert_at)
        oc_buf_printf(b, " (%lld s before the first beacon alert)",
                      (long long)(s->beacon_alert_at - s->finding_at));
    if (s->finding[0])
        oc_buf_printf(b, "\n  finding                %s", s->finding);
    oc_buf_printf(b, "\n  alerts fired           %d page, %d notify, %d backlog\n", s->alerts_page,
                  s->alerts_notify, s->alerts_backlog);
    oc_buf_printf(b, "  incidents opened       %d", s->incidents_opened);
    if (s->incidents_merged)
        oc_buf_printf(b, " (%d merged into another with the same root cause)", s->incidents_merged);
    oc_buf_printf(b, "\n");
    oc_buf_printf(b, "  severity               %s\n", s->severity[0] ? s->severity : "-");
    oc_buf_printf(b, "  CDN logs cross-check   %s\n", s->cross_check[0] ? s->cross_check : "-");
    oc_buf_printf(b, "  cause                  %s (%s)\n", cause ? cause : "[]",
                  s->cause_correct ? "correct" : "not the ground truth");
    oc_buf_printf(b, "  service                %s\n", s->service[0] ? s->service : "-");
    oc_buf_printf(b, "  paged                  %s\n", s->paged[0] ? s->paged : "-");
    oc_buf_printf(b, "  mitigation             %s\n", s->mitigation[0] ? s->mitigation : "-");
    oc_buf_printf(b, "  %-22s peak %.2f%%, one TTL + 1 min after mitigation %.2f%%\n", s->metric,
                  s->metric_peak * 100, s->metric_after_mitigation * 100);
    if (s->paged_at && s->relief_at)
        oc_buf_printf(b,
                      "  page to relief         %lld s (the worked example: %d s; %lld s faster)\n",
                      (long long)(s->relief_at - s->paged_at), DRILL_WORKED_EXAMPLE,
                      (long long)(DRILL_WORKED_EXAMPLE - (s->relief_at - s->paged_at)));
    oc_buf_printf(b, "  notifications sent     %d (in-process sink)\n", s->notifications);
    if (s->tickets_sent) {
        char delay[32] = "-";
        if (s->tickets_linked_at && s->declared_at)
            snprintf(delay, sizeof delay, "%lld",
                     (long long)(s->tickets_linked_at - s->declared_at));
        oc_buf_printf(b,
                      "  ticket storm           %d tickets (%d noise) in %d clusters: precision "
                      "%.3f, recall %.3f; %.0f%% of the fault's linked, %d noise linked, first "
                      "link %s s after the declaration; %d/%d redeliveries duplicates\n",
                      s->tickets_sent, s->tickets_noise, s->ticket_clusters, s->tickets_precision,
                      s->tickets_recall, s->tickets_linked_share * 100, s->tickets_false_links,
                      delay, s->tickets_duplicates, s->tickets_redelivered);
        char v[4][24];
        const double t[4] = {s->report_mttr_s, s->truth_mttr_s, s->report_mtta_s, s->truth_mtta_s};
        for (int i = 0; i < 4; i++)
            snprintf(v[i], sizeof v[i], t[i] < 0 ? "-" : "%.0f s", t[i]);
        oc_buf_printf(b,
                      "  ticket reports         MTTR %s (truth %s), MTTA %s (truth %s); SLA "
                      "breached: %s (truth %s); %d accounts to compensate (truth %d)\n",
                      v[0], v[1], v[2], v[3], s->report_breached[0] ? s->report_breached : "none",
                      s->truth_breached[0] ? s->truth_breached : "none", s->report_compensate,
                      s->truth_compensate);
    }
    oc_buf_printf(b, "  review                 %s\n", s->review_path[0] ? s->review_path : "-");
    oc_buf_printf(b, "  wall time              %.2f s for %lld simulated minutes\n", s->wall_s,
                  (long long)(s->simulated_s / 60));
    for (int i = 0; i < s->n_reasons; i++)
        oc_buf_printf(b, "  FAIL: %s\n", s->reasons[i]);
    free(cause);
}

/* What the command line of `oncue drill` says. */
struct args {
    struct drill_opts o; /* the drill */
    int json;            /* --json */
};

/* --viewers N: 1 to 4000000. */
static int set_viewers(void *p, const char *v, char *why, size_t n)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || !*v || x < 1 || x > 4000000) {
        snprintf(why, n, "a number from 1 to 4000000");
        return -1;
    }
    ((struct args *)p)->o.viewers = (int)x;
    return 0;
}

/* --seed N: any unsigned 64-bit number. */
static int set_seed(void *p, const char *v, char *why, size_t n)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || !*v) {
        snprintf(why, n, "a number");
        return -1;
    }
    ((struct args *)p)->o.seed = x;
    return 0;
}

/* --duration DURATION: simulated time, 1 minute to 7 days ("90m", "24h"). */
static int set_duration(void *p, const char *v, char *why, size_t n)
{
    int64_t ms = 0;
    if (sim_parse_duration(v, &ms) < 0 || ms < 60000 || ms > 7 * 86400000LL) {
        snprintf(why, n, "a duration from 1m to 7d, e.g. 90m or 24h");
        return -1;
    }
    ((struct args *)p)->o.duration_ms = ms;
    return 0;
}

/* --from HH:MM: the time of day (UTC) a healthy drill starts at. */
static int set_from(void *p, const char *v, char *why, size_t n)
{
    int h = 0, m = 0, used = 0;
    if (sscanf(v, "%2d:%2d%n", &h, &m, &used) != 2 || v[used] || h < 0 || h > 23 || m < 0 ||
        m > 59) {
        snprintf(why, n, "a time of day, HH:MM (UTC)");
        return -1;
    }
    ((struct args *)p)->o.healthy_from_s = h * 3600 + m * 60;
    return 0;
}

#define F(field) offsetof(struct args, field)

static const struct oc_opt options[] = {
    {"--viewers", OC_OPT_FN, 0, "N", "concurrent viewers (default 20000)", 0, 0, set_viewers},
    {"--seed", OC_OPT_FN, 0, "N", "simulator seed (default 1)", 0, 0, set_seed},
    {"--duration", OC_OPT_FN, 0, "DURATION",
     "simulated time to run (default: the scenario's; healthy: 24h)", 0, 0, set_duration},
    {"--from", OC_OPT_FN, 0, "HH:MM", "healthy: the time of day (UTC) to start at (default 00:00)",
     0, 0, set_from},
    {"--auto-mitigate", OC_OPT_FLAG, F(o.auto_mitigate), NULL,
     "let automatic steering mitigate instead of the scripted responder", 0, 0, NULL},
    {"--cdn-logs", OC_OPT_FLAG, F(o.cdn_logs), NULL,
     "the players arrive as CDN log lines with CMCD (POST /v1/cdn-logs's parser) instead of "
     "beacons",
     0, 0, NULL},
    {"--tickets", OC_OPT_LONG, F(o.tickets), "N",
     "a storm of N support tickets from the fault's start (a fifth noise, every tenth sent"
     " twice), scored for clusters and links against the ground truth",
     0, 100000, NULL},
    {"--findings-as-notes", OC_OPT_FLAG, F(o.findings_as_notes), NULL,
     "only score the simulated prober's and scraper's findings and note them on the incident's "
     "timeline (default: published as probe.* and scrape.* events, as a live server does, so "
     "they raise alerts and open or join incidents)",
     0, 0, NULL},
    {"--source-alerts", OC_OPT_FLAG, F(o.source_alerts), NULL,
     "the default: findings published as probe.* and scrape.* events (kept for scripts)", 0, 0,
     NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "print the scorecard as one JSON object", 0, 0, NULL},
    {"--out", OC_OPT_STR, F(o.out_dir), "DIR",
     "directory for the post-incident review (default ./oncue-drills)", 0, 0, NULL},
    {"--verbose", OC_OPT_FLAG, F(o.verbose), NULL, "print the drill's progress on stderr", 0, 0,
     NULL},
    {0},
};

#undef F

const struct oc_cli drill_cli[] = {
    {"drill", "SCENARIO [options]",
     "Runs a chaos drill in-process on a virtual clock and prints its scorecard; exit 0 when\n"
     "it passed, 1 when it failed. `oncue drill --help` lists the scenarios; `healthy` runs\n"
     "the population without a fault and passes when no alert of any level fires.\n"
     "`webhook-storm` posts a billing webhook storm to a live server instead (see\n"
     "`oncue drill webhook-storm --help`). Each run keeps its scorecard in\n"
     "OUT/scorecards/ (`oncue drill history`).\n",
     options, 1},
    [DRILL_CLI_SCHEDULE] = {"drill schedule", "FILE [options]",
                            "Lists the scheduled drills of FILE (a YAML `drills:` list: name,\n"
                            "scenario, every, and optionally viewers, seed and services), when\n"
                            "each last ran and when it is next due; with --run, runs those due\n"
                            "(oldest first) and keeps their scorecards as history. Exit 0 when\n"
                            "every drill run passed, 1 when one failed, 2 on a usage error or a\n"
                            "FILE:LINE problem in FILE. Run it daily from cron or the shipped\n"
                            "oncue-drills.timer.\n",
                            drill_schedule_options, 1},
    [DRILL_CLI_HISTORY] = {"drill history", "[options]",
                           "Lists the kept drill scorecards, newest first: when each ran, its\n"
                           "schedule, scenario and seed, the result, the incident's service and\n"
                           "its page-to-relief time.\n",
                           drill_history_options, 0},
    {0},
};

/* The scenarios, then the options (from the table). */
static void usage(FILE *f)
{
    struct oc_buf b;
    fprintf(f, "usage: oncue drill SCENARIO [options]\n\nscenarios:");
    for (const char *const *n = sim_scenario_names; *n; n++)
        fprintf(f, " %s", *n);
    fprintf(f, " %s %s", DRILL_HEALTHY, DRILL_WEBHOOK_STORM);
    fprintf(f, "\n       oncue drill schedule FILE [--run] (drills on a cadence; see its --help)"
               "\n       oncue drill history [--out DIR] (the kept scorecards)");
    oc_buf_init(&b, 1 << 20);
    oc_cli_help(drill_cli, &b);
    fprintf(f, "\n\n%s", strstr(b.data, "options:\n"));
    oc_buf_free(&b);
}

/* Parses argv into a. 0, 1 (--help) or -1 (usage error, printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
    int nargs = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1; /* the scenarios too, not only the options */
    int rc = oc_cli_parse(drill_cli, argc - 1, argv + 1, a, &a->o.scenario, &nargs);
    if (rc == 0 && !a->o.scenario) {
        fprintf(stderr, "oncue drill: name a scenario\n");
        return -1;
    }
    return rc;
}

int drill_cli_main(int argc, char **argv, const struct drill_host *host)
{
    struct args a = {.o = {.seed = 1, .host = host}};
    struct drill_score s;
    struct oc_buf b;
    char err[512] = "";
    if (argc > 1 && strcmp(argv[1], DRILL_WEBHOOK_STORM) == 0 && host->webhook_storm)
        return host->webhook_storm(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "schedule") == 0)
        return drill_schedule_cli_main(argc - 1, argv + 1, host);
    if (argc > 1 && strcmp(argv[1], "history") == 0)
        return drill_history_cli_main(argc - 1, argv + 1);
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    oc_log_set_level(OC_LOG_ERROR);
    if ((rc = drill_run(&a.o, &s, err, sizeof(err))) != 0) {
        fprintf(stderr, "oncue drill: %s (%s)\n", err[0] ? err : "failed", oc_strerror(rc));
        return 2;
    }
    oc_buf_init(&b, 1 << 20);
    json_t *j = drill_score_json(&s);
    char kept[PATH_MAX_DRILL + 160] = "";
    if (drill_history_save(a.o.out_dir, j, kept, sizeof kept, err, sizeof err) != 0)
        fprintf(stderr, "oncue drill: the scorecard is not kept: %s\n", err);
    if (a.json) {
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        oc_buf_printf(&b, "%s\n", text ? text : "{}");
        free(text);
    } else {
        drill_score_text(&s, &b);
        if (kept[0])
            oc_buf_printf(&b, "  scorecard              %s\n", kept);
    }
    json_decref(j);
    fwrite(b.data, 1, b.len, stdout);
    rc = s.pass ? 0 : 1;
    oc_buf_free(&b);
    drill_score_free(&s);
    return rc;
}
