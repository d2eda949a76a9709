/*
 * sources.c - the drill's prober and scraper. A drill runs without a network, so the live
 * manifest prober (src/probe/) and the metrics scraper (src/scrape/) cannot fetch anything;
 * instead, every simulated second, this file reads what the simulated services suffer
 * (sim_services_now: the same state `oncue sim --exporters` serves as Prometheus text) and
 * applies the prober's and the shipped scrape rules' own thresholds to it, publishing the
 * events they would publish (probe.failed / probe.recovered, scrape.failed /
 * scrape.recovered, with their payloads) on the drill's bus. The alert module turns them
 * into alerts (src/alert/probe.c, src/alert/scrape.c) and the incident module takes them
 * from there, as in serve.
 *
 *   prober   stream "live" (service live-packager), polled every 2 s, 2 s target duration:
 *            "stale" when the media sequence has not advanced for more than 1.5 x the target
 *            duration; recovered after probe.recovery_polls (2) polls without it.
 *   scraper  the rules of examples/scrape.yaml, at their targets' intervals: drm-license
 *            (5 s) PLAYREADY/WIDEVINE/FAIRPLAY_errors (5xx share of the license requests
 *            > 0.05 for 10 s), live-packager (2 s) manifest_stale (manifest age > 6 s),
 *            origin (5 s) origin_5xx (503 share > 0.05 for 10 s); each recovers at once.
 *
 * The model counts as the exporters do (exporter.c): 20 license requests a second per DRM
 * system, 100 origin requests a second, a 2 s segment while the packager is not stalled.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "core/bus.h"
#include "core/topics.h"
#include "incident/incident.h"
#include "sim/exporter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROBE_POLL_MS  2000 /* the drill's prober polls the live stream this often */
#define PROBE_TARGET_S 2    /* the simulated packager's target duration */
#define PROBE_RECOVERY 2    /* probe.recovery_polls' default */
#define DRILL_NRULES   5

/* One scrape rule of examples/scrape.yaml, as the drill evaluates it. */
struct src_rule {
    const char *target, *service, *name, *metric, *summary;
    int interval_s;
    int what; /* 0..SIM_NDRM-1: that DRM system's 5xx share; 3: manifest age; 4: origin 503 share */
    double threshold;
    int for_s;
};

static const struct src_rule rules[DRILL_NRULES] = {
    {"drm-license", "drm-license", "widevine_errors", "drm_license_requests_total",
     "Widevine license requests fail", 5, 0, 0.05, 10},
    {"drm-license", "drm-license", "playready_errors", "drm_license_requests_total",
     "PlayReady license requests fail", 5, 1, 0.05, 10},
    {"drm-license", "drm-license", "fairplay_errors", "drm_license_requests_total",
     "FairPlay license requests fail", 5, 2, 0.05, 10},
    {"live-packager", "live-packager", "manifest_stale", "packager_manifest_age_seconds",
     "the live manifest stopped advancing", 2, 3, 6, 0},
    {"origin", "origin", "origin_5xx", "origin_http_responses_total", "the origin answers 5xx", 5,
     4, 0.05, 10},
};

struct src_rstate {
    double prev_bad, prev_all; /* counters at the previous scrape */
    int have_prev;
    int64_t hold_ms, since_ms;
    int active;
};

struct drill_sources {
    /* the services' model */
    double ok[SIM_NDRM], failed[SIM_NDRM], origin_ok, origin_5xx;
    int64_t last_segment_ms;
    /* the prober */
    int64_t advanced_ms; /* when the prober last saw the media sequence advance */
    int64_t seq, seen_seq;
    int stale, clean_polls;
    int64_t stale_since_ms;
    /* the scraper */
    struct src_rstate rs[DRILL_NRULES];
};

/* Records a finding at or after the fault's start: the scorecard keeps the first, the
 * incident's timeline gets them all (drill_sources_note). */
static void record(struct drill *d, const char *what, const char *detail, int64_t now_ms)
{
    int64_t at = now_ms / 1000;
    char hms[16] = "";
    time_t tt = (time_t)at;
    struct tm tm;
    if (!d->sc->fault_start || at < d->sc->fault_start)
        return;
    if (!d->sc->finding_at) {
        d->sc->finding_at = at;
        snprintf(d->sc->finding, sizeof d->sc->finding, "%s: %s", what, detail);
    }
    if (gmtime_r(&tt, &tm))
        strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    size_t n = strlen(d->findings);
    snprintf(d->findings + n, sizeof d->findings - n,
             "- %s (%+lld s from the fault's start) %s: %s\n", hms,
             (long long)(at - d->sc->fault_start), what, detail);
    d->nfindings++;
}

void drill_sources_note(struct drill *d)
{
    char body[DRILL_FINDINGS_TEXT + 128];
    if (!d->inc_id || d->findings_noted == d->nfindings)
        return;
    snprintf(body, sizeof body, "Probe and scrape findings on the simulated services:\n%s",
             d->findings);
    incident_note(d->m, d->inc_id, "drill-prober", body);
    d->findings_noted = d->nfindings;
    d->findings[0] = '\0';
}

/* Publishes the event, as the live prober and scraper do, unless the drill runs with
 * --findings-as-notes (then findings are only recorded); takes p. */
static void publish(struct drill *d, const char *topic, json_t *p)
{
    if (!d->o->findings_as_notes) {
        oc_bus_publish(d->bus, topic, p);
        oc_bus_drain(d->bus);
    }
    json_decref(p);
}

static void probe_poll(struct drill *d, struct drill_sources *x, int64_t now)
{
    double limit_s = 1.5 * PROBE_TARGET_S;
    char detail[256];
    if (x->seq != x->seen_seq || !x->advanced_ms) {
        x->seen_seq = x->seq;
        x->advanced_ms = now;
    }
    double stale_s = (double)(now - x->advanced_ms) / 1000.0;
    if (stale_s > limit_s) {
        x->clean_polls = 0;
        if (x->stale)
            return;
        x->stale = 1;
        x->stale_since_ms = now;
        snprintf(detail, sizeof detail,
                 "origin: media sequence %lld has not advanced for %.1f s (limit %.1f s)",
                 (long long)x->seq, stale_s, limit_s);
        record(d, "probe stale on stream live (service live-packager)", detail, now);
        publish(d, OC_TOPIC_PROBE_FAILED,
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "stream", "live", "service",
                          "live-packager", "kind", "stale", "pathway", "origin", "detail", detail,
                          "at", (json_int_t)(now / 1000)));
        return;
    }
    if (!x->stale || ++x->clean_polls <= PROBE_RECOVERY)
        return;
    x->stale = 0;
    snprintf(detail, sizeof detail, "origin: media sequence %lld advances", (long long)x->seq);
    publish(d, OC_TOPIC_PROBE_RECOVERED,
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "stream", "live", "service",
                      "live-packager", "kind", "stale", "detail", detail, "at",
                      (json_int_t)(now / 1000), "since", (json_int_t)(x->stale_since_ms / 1000)));
}

/* The rule's value at this scrape (NAN: none yet, as the scraper's first rate). */
static double rule_value(struct drill_sources *x, const struct src_rule *r, struct src_rstate *st,
                         int64_t now)
{
    double bad, all;
    if (r->what == 3)
        return (double)(now - x->last_segment_ms) / 1000.0;
    bad = r->what < SIM_NDRM ? x->failed[r->what] : x->origin_5xx;
    all = r->what < SIM_NDRM ? bad + x->ok[r->what] : bad + x->origin_ok;
    double v =
        st->have_prev && all > st->prev_all ? (bad - st->prev_bad) / (all - st->prev_all) : NAN;
    st->prev_bad = bad;
    st->prev_all = all;
    st->have_prev = 1;
    return v;
}

static void scrape_rule(struct drill *d, struct drill_sources *x, int i, int64_t now)
{
    const struct src_rule *r = &rules[i];
    struct src_rstate *st = &x->rs[i];
    char detail[256];
    double v = rule_value(x, r, st, now);
    if (isnan(v))
        return;
    if (v > r->threshold) {
        if (!st->hold_ms)
            st->hold_ms = now;
        if (st->active || now - st->hold_ms < r->for_s * 1000LL)
            return;
        st->active = 1;
        st->since_ms = now;
        snprintf(detail, sizeof detail, "%s: %s is %.6g > %.6g", r->summary, r->name, v,
                 r->threshold);
        char what[128];
        snprintf(what, sizeof what, "scrape %s on target %s (service %s)", r->name, r->target,
                 r->service);
        record(d, what, detail, now);
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:f, s:f}", "target",
                              r->target, "service", r->service, "rule", r->name, "metric",
                              r->metric, "level", "page", "op", ">", "detail", detail, "at",
                              (json_int_t)(now / 1000), "value", v, "threshold", r->threshold);
        publish(d, OC_TOPIC_SCRAPE_FAILED, p);
        return;
    }
    st->hold_ms = 0;
    if (!st->active)
        return;
    st->active = 0;
    snprintf(detail, sizeof detail, "%s is %.6g now", r->name, v);
    publish(d, OC_TOPIC_SCRAPE_RECOVERED,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "target", r->target, "service",
                      r->service, "rule", r->name, "metric", r->metric, "detail", detail, "since",
                      (json_int_t)(st->since_ms / 1000), "at", (json_int_t)(now / 1000)));
}

void drill_sources_tick(struct drill *d, const struct sim *s, int64_t now)
{
    struct drill_sources *x = d->sources;
    struct sim_services sv;
    if (!x) {
        x = d->sources = oc_calloc(1, sizeof(*x));
        x->last_segment_ms = now;
    }
    sim_services_now(s, &sv);
    for (int k = 0; k < SIM_NDRM; k++) {
        x->ok[k] += 20 * (1 - sv.drm_fail[k]);
        x->failed[k] += 20 * sv.drm_fail[k];
    }
    x->origin_ok += 100 * (1 - sv.origin_fail);
    x->origin_5xx += 100 * sv.origin_fail;
    if (!sv.stalled && now - x->last_segment_ms >= PROBE_TARGET_S * 1000) {
        x->seq++;
        x->last_segment_ms = now;
    }
    if (now % PROBE_POLL_MS == 0)
        probe_poll(d, x, now);
    for (int i = 0; i < DRILL_NRULES; i++)
        if (now % (rules[i].interval_s * 1000LL) == 0)
            scrape_rule(d, x, i, now);
}

void drill_sources_free(struct drill *d)
{
    free(d->sources);
    d->sources = NULL;
}
