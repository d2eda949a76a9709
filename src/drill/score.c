/*
 * score.c - the drill's scorecard: the per-scenario pass rules (a table), the meter of the
 * metered slice's rebuffer ratio in 10-second buckets, the verdict against the scenario's
 * ground truth, and the scorecard as JSON and as a readable report.
 */
#include "drill/drill_int.h"

#include "core/buf.h"
#include "sim/sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Pass rules by scenario; the last row (scenario NULL) is the rule of any other scenario. */
static const struct drill_rule drill_rules[] = {
    {"emea-cdn", 1, "SEV2", "cdn=primary", "region=EMEA,pop=FRA,pop=AMS,pop=PAR", BEACON_REGION,
     "EMEA", 0.012, "oncue mitigate shift-cdn --region EMEA --from primary --to secondary",
     "cdn-ops", 0},
    {"blip", 0, NULL, NULL, NULL, BEACON_REGION, "EMEA", 0, NULL, NULL, 0},
    /* one incident: the regions' rebuffering and exits before start are explained by its
     * cause (live=true) and join it */
    {"origin-stall", 1, "SEV1", "live=true", NULL, -1, NULL, 0,
     "oncue mitigate backup-origin --service live-packager", NULL, 0},
    /* SEV2: its viewers' stalls page on their region's CDN (one region's CDN broken, for
     * its viewers). The simulated peering loss does not depend on the CDN: relief is not
     * checked */
    {"isp-peering", 1, "SEV2", "isp=vodafone-de", NULL, BEACON_ISP, "vodafone-de", 0,
     "oncue mitigate shift-cdn", NULL, 0},
    /* every region's start failures join the one incident its cause explains; the DRM team
     * is paged through the cause (no service owns a region). Relief: PlayReady's start
     * failures back under 5% once the TVs read the fallback flag. */
    {"drm-outage", 1, "SEV2", "drm=playready", NULL, BEACON_DRM, "playready", 0.05,
     "oncue mitigate flag --name drm-fallback-playready --on --device smart_tv", "drm", 1},
    /* the player-version rule's group names the build; its owner is the player team. Relief:
     * the build's start failures back under 5% once its players read the flag off. */
    {"bad-player-build", 1, NULL, "player_version=2.19.0", NULL, BEACON_PLAYER_VERSION, "2.19.0",
     0.05,
     "oncue mitigate flag --name new-playback-features --off --player exoplayer "
     "--player-version 2.19.0",
     "player", 1},
    {NULL, 1000, NULL, NULL, NULL, -1, NULL, 0, NULL, NULL, 0},
};

const struct drill_rule *drill_rule_for(const char *scenario)
{
    const struct drill_rule *r = drill_rules;
    while (r->scenario && strcmp(r->scenario, scenario) != 0)
        r++;
    return r;
}

void drill_meter_add(struct drill *d, const struct beacon_event *ev)
{
    const struct drill_rule *r = d->rule;
    if (ev->type != (r->meter_vsf ? BEACON_START : BEACON_HEARTBEAT) || !d->buckets)
        return;
    if (r->meter_dim >= 0) {
        const struct beacon_str *v = &ev->dims[r->meter_dim];
        if (!v->p || v->n != strlen(r->meter_val) || memcmp(v->p, r->meter_val, v->n) != 0)
            return;
    }
    int64_t k = (ev->ts_ms - d->t0_ms) / DRILL_BUCKET_MS;
    if (k < 0 || k >= d->nbuckets)
        return;
    if (r->meter_vsf) {
        d->buckets[k].starts++;
        d->buckets[k].failures += ev->outcome == BEACON_FAILURE;
    } else {
        d->buckets[k].rebuffer_ms += ev->rebuffer_ms;
        d->buckets[k].playing_ms += ev->playing_ms;
    }
}

double drill_meter_ratio(const struct drill *d, int64_t from_s)
{
    int64_t k0 = (from_s * 1000 - d->t0_ms) / DRILL_BUCKET_MS, num = 0, den = 0;
    for (int64_t k = k0; k < k0 + 60000 / DRILL_BUCKET_MS; k++)
        if (k >= 0 && k < d->nbuckets) {
            const struct drill_bucket *b = &d->buckets[k];
            num += d->rule->meter_vsf ? b->failures : b->rebuffer_ms;
            den += d->rule->meter_vsf ? b->starts : b->rebuffer_ms + b->playing_ms;
        }
    return den > 0 ? (double)num / (double)den : NAN;
}

void drill_meter_name(struct drill *d)
{
    struct drill_score *s = d->sc;
    const struct drill_rule *r = d->rule;
    snprintf(s->metric, sizeof(s->metric), "%s%s%s%s", r->meter_vsf ? "vsf_rate" : "rebuffer_ratio",
             r->meter_dim >= 0 ? " " : "", r->meter_dim >= 0 ? beacon_dim_names[r->meter_dim] : "",
             r->meter_dim >= 0 ? "=" : "");
    if (r->meter_val)
        snprintf(s->metric + strlen(s->metric), sizeof(s->metric) - strlen(s->metric), "%s",
                 r->meter_val);
}

/* metric_peak (worst whole minute), metric_after_mitigation and the time of relief. */
static void measure(struct drill *d)
{
    struct drill_score *s = d->sc;
    int64_t t0 = d->t0_ms / 1000, end = t0 + (int64_t)d->nbuckets * DRILL_BUCKET_MS / 1000;
    const struct drill_rule *r = d->rule;
    for (int64_t t = t0; t + 60 <= end; t += 60) {
        double v = drill_meter_ratio(d, t);
        if (!isnan(v) && v > s->metric_peak)
            s->metric_peak = v;
    }
    s->metric_after_mitigation = NAN;
    if (!s->mitigated_at)
        return;
    s->metric_after_mitigation = drill_meter_ratio(d, s->mitigated_at + DRILL_TTL_S);
    for (int64_t t = s->mitigated_at; t + 60 <= end && r->relief_below > 0; t += 10)
        if (drill_meter_ratio(d, t) < r->relief_below) {
            s->relief_at = t + 60;
            break;
        }
}

/* 1 when element e (an object of attr: value) names the pair "attr=value". */
static int names_pair(const json_t *e, const char *pair)
{
    size_t k = strcspn(pair, "=");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)e, key, v)
    {
        if (strlen(key) == k && strncmp(key, pair, k) == 0 && json_is_string(v) &&
            strcmp(json_string_value(v), pair + k + 1) == 0)
            return 1;
    }
    return 0;
}

/* 1 when some element of the cause names one of the comma-separated pairs of list. */
static int cause_names(const json_t *cause, const char *list)
{
    char pair[128];
    size_t i;
    json_t *e;
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        snprintf(pair, sizeof(pair), "%.*s", (int)k, p);
        json_array_foreach(cause, i, e) if (names_pair(e, pair)) return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

/* 1 when every pair of element e lies inside the ground truth's slice. */
static int inside_truth(const struct sim_truth *t, const json_t *e)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)e, key, v)
    {
        int ok = 0;
        for (int i = 0; i < t->n_dims && !ok; i++) {
            if (strcmp(beacon_dim_names[t->dims[i].dim], key) != 0)
                continue;
            for (int j = 0; j < t->dims[i].n && !ok; j++)
                ok = json_is_string(v) && strcmp(t->dims[i].vals[j], json_string_value(v)) == 0;
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* cause_correct: some causes, all inside the truth, naming what the rule requires. */
static int cause_correct(const struct drill *d)
{
    const json_t *cause = d->sc->cause;
    size_t i;
    json_t *e;
    if (!d->truth || json_array_size(cause) == 0)
        return 0;
    json_array_foreach(cause, i, e) if (!inside_truth(d->truth, e)) return 0;
    if (d->rule->cause_must && !cause_names(cause, d->rule->cause_must))
        return 0;
    return !d->rule->cause_any || cause_names(cause, d->rule->cause_any);
}

void drill_reason(struct drill_score *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s->n_reasons < DRILL_MAX_REASONS)
        vsnprintf(s->reasons[s->n_reasons++], DRILL_MAX_TEXT, fmt, ap);
    va_end(ap);
}

void drill_judge(struct drill *d)
{
    struct drill_score *s = d->sc;
    const struct drill_rule *r = d->rule;
    int expect = d->truth ? d->truth->expect_incident : 0;
    char n[32];
    measure(d);
    s->cause_correct = cause_correct(d);
    snprintf(n, sizeof(n), "%d", s->incidents_opened);
    if (!expect && s->incidents_opened > 0)
        drill_reason(s, "%s incident(s) opened for noise that must not page", n);
    if (!expect) {
        s->pass = s->n_reasons == 0;
        return;
    }
    if (s->incidents_opened == 0)
        drill_reason(s, "no incident opened");
    else if (s->incidents_opened > r->max_incidents)
        drill_reason(s, "%s incidents opened, expected one", n);
    if (r->severity && strcmp(s->severity, r->severity) != 0) {
        drill_reason(s, "severity %s, expected %s", s->severity[0] ? s->severity : "none",
                     r->severity);
    }
    if (!s->cause_correct)
        drill_reason(s, "cause does not match the ground truth (%s)",
                     d->truth ? d->truth->name : "?");
    if (!s->paged[0])
        drill_reason(s, "nobody was paged");
    else if (r->team && strcmp(s->paged, r->team) != 0)
        drill_reason(s, "paged team %s, expected %s", s->paged, r->team);
    if (r->mitigation && strncmp(s->mitigation, r->mitigation, strlen(r->mitigation)) != 0)
        drill_reason(s, "mitigation \"%s\", expected \"%s...\"", s->mitigation, r->mitigation);
    if (r->relief_below > 0 && !s->mitigated_at)
        drill_reason(s, "no mitigation ran");
    else if (r->relief_below > 0 && !(s->metric_after_mitigation < r->relief_below))
        drill_reason(s, "%s not back under the relief line one TTL + 1 min after mitigation",
                     s->metric);
    if (!s->resolved_at)
        drill_reason(s, "the incident was not resolved by the end of the run");
    if (d->o->tickets > 0) {
        if (s->tickets_precision < DRILL_TICKETS_PRECISION)
            drill_reason(s, "ticket clusters' precision %.3f, below %.2f", s->tickets_precision,
                         DRILL_TICKETS_PRECISION);
        if (s->tickets_linked_share < DRILL_TICKETS_LINKED)
            drill_reason(s, "%.0f%% of the fault's tickets linked to the incident, below %.0f%%",
                         s->tickets_linked_share * 100, DRILL_TICKETS_LINKED * 100);
        if (s->tickets_false_links)
            drill_reason(s, "%d noise tickets linked to an incident", s->tickets_false_links);
        if (!s->tickets_linked_at || !s->declared_at ||
            s->tickets_linked_at - s->declared_at > DRILL_TICKETS_LINK_S)
            drill_reason(s, "tickets not linked within %d s of the declaration",
                         DRILL_TICKETS_LINK_S);
        if (fabs(s->report_mttr_s - s->truth_mttr_s) > 0.5 ||
            fabs(s->report_mtta_s - s->truth_mtta_s) > 0.5)
            drill_reason(s, "the MTTR report's %s differs from the incident's own",
                         fabs(s->report_mttr_s - s->truth_mttr_s) > 0.5 ? "MTTR" : "MTTA");
        if (strcmp(s->report_breached, s->truth_breached) != 0)
            drill_reason(s, "the SLA report has %s breached, the ground truth %s",
                         s->report_breached[0] ? s->report_breached : "no tier",
                         s->truth_breached[0] ? s->truth_breached : "no tier");
        if (s->tickets_duplicates != s->tickets_redelivered)
            drill_reason(s, "%d of %d redelivered tickets not answered as duplicates",
                         s->tickets_redelivered - s->tickets_duplicates, s->tickets_redelivered);
    }
    s->pass = s->n_reasons == 0;
}
