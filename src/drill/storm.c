/*
 * storm.c - the drill's ticket storm (`oncue drill SCENARIO --tickets N`): from the fault's
 * start, N support tickets about it (the tickets generator's paraphrases, typos and missing
 * fields, in the fault's region; a fifth of them noise on unrelated matters) arrive over ten
 * minutes through tickets_submit, as the intake would store them, every tenth redelivered. At
 * the end the scorecard compares the clusters and their links with the ground truth:
 * pairwise precision and recall, the share of the fault's tickets linked to the drill's
 * incident, noise linked to it, the delay from declaration to the first link. Then it runs
 * the business reports (tickets_report) over the drill's window and sets them against the
 * drill's own bookkeeping: the MTTA and MTTR of the incident's service against the times the
 * drill saw its incident take, and the SLA report's breached tiers and accounts to compensate
 * against the storm's own tiers and accounts (each pair of tickets one account) and the
 * incident's measured downtime.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "sim/sim.h"
#include "tickets/tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STORM_SPREAD_MS (10 * 60000LL) /* the storm arrives over the fault's first 10 min */
#define STORM_NOISE_PCT 20
#define STORM_REDELIVER 10 /* every 10th ticket is delivered twice */

struct drill_storm {
    struct tickets_storm st;
    int64_t *cluster; /* per ticket, 0 until sent */
    size_t next;      /* the next to send */
    int64_t start_ms;
};

/* The fault's region (its slice's), or "". */
static const char *fault_region(const struct sim_truth *t)
{
    for (int i = 0; t && i < t->n_dims; i++)
        if (t->dims[i].dim == BEACON_REGION && t->dims[i].n > 0)
            return t->dims[i].vals[0];
    return "";
}

void drill_storm_tick(struct drill *d, int64_t now_ms)
{
    struct drill_storm *s = d->storm;
    if (d->o->tickets <= 0 || !d->truth || now_ms < d->truth->start_ms)
        return;
    if (!s) {
        s = d->storm = oc_calloc(1, sizeof *s);
        tickets_storm_fault((size_t)d->o->tickets, STORM_NOISE_PCT, d->o->seed ? d->o->seed : 1,
                            fault_region(d->truth),
                            d->rule->meter_vsf ? "cannot_start" : "buffering", &s->st);
        s->cluster = oc_calloc(s->st.n + 1, sizeof *s->cluster);
        s->start_ms = now_ms;
        d->sc->tickets_noise = 0;
        for (size_t i = 0; i < s->st.n; i++)
            d->sc->tickets_noise += s->st.label[i] < 0;
    }
    while (s->next < s->st.n &&
           s->start_ms + (int64_t)s->next * STORM_SPREAD_MS / (int64_t)s->st.n <= now_ms) {
        size_t i = s->next++;
        struct tickets_ticket t = s->st.t[i];
        struct tickets_result r;
        t.created_ms = t.updated_ms = now_ms;
        if (tickets_submit(&d->app, &t, &r) != 0)
            continue;
        s->cluster[i] = r.cluster_id;
        d->sc->tickets_sent++;
        if (i % STORM_REDELIVER == STORM_REDELIVER - 1) {
            t = s->st.t[i];
            t.created_ms = t.updated_ms = now_ms;
            d->sc->tickets_redelivered++;
            if (tickets_submit(&d->app, &t, &r) == 0 && strcmp(r.outcome, "duplicate") == 0 &&
                r.cluster_id == s->cluster[i])
                d->sc->tickets_duplicates++;
        }
    }
}

/* The report tier (0 premium, 1 standard, 2 free) of the storm's tier field. */
static int storm_tier(const char *f)
{
    return strncasecmp(f, "premium", 7) == 0 ? 0 : strcasecmp(f, "free") == 0 ? 2 : 1;
}

static const char *const report_tiers[] = {"premium", "standard", "free"};

/* The MTTA and MTTR of the incident's service in the mttr report (-1 when null). */
static void report_times(struct drill *d)
{
    struct drill_score *sc = d->sc;
    json_t *j = NULL, *row;
    size_t i;
    sc->report_mtta_s = sc->report_mttr_s = -1;
    if (tickets_report(&d->app, "mttr", sc->report_from, sc->report_to, &j) != 0)
        return;
    json_array_foreach(json_object_get(j, "by_service"), i, row)
    {
        const char *key = json_string_value(json_object_get(row, "key"));
        if (!key || strcmp(key, sc->service[0] ? sc->service : "(unrouted)") != 0)
            continue;
        const json_t *a = json_object_get(row, "mtta_s"), *r = json_object_get(row, "mttr_s");
        sc->report_mtta_s = json_is_number(a) ? json_number_value(a) : -1;
        sc->report_mttr_s = json_is_number(r) ? json_number_value(r) : -1;
    }
    json_decref(j);
}

/* Appends name to the comma-separated list out (n bytes). */
static void list_add(char *out, size_t n, const char *name)
{
    size_t at = strlen(out);
    snprintf(out + at, n - at, "%s%s", at ? "," : "", name);
}

/* A fault ticket's tier and account (the truth's). */
struct tacct {
    int tier;
    const char *account;
};

static int cmp_tacct(const void *a, const void *b)
{
    const struct tacct *x = a, *y = b;
    return x->tier != y->tier ? x->tier - y->tier : strcmp(x->account, y->account);
}

/* The truth per tier: whether the fault's tickets sent touched it, and their distinct
 * accounts (sorting them once: a storm may hold 100,000 tickets). */
static void truth_tiers(const struct drill_storm *s, int touched[3], int accounts[3])
{
    struct tacct *v = oc_calloc(s->next + 1, sizeof *v);
    size_t n = 0;
    for (size_t k = 0; k < s->next; k++)
        if (s->st.label[k] >= 0)
            v[n++] = (struct tacct){storm_tier(s->st.t[k].f_tier), s->st.t[k].account};
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_tacct);
    for (size_t k = 0; k < n; k++) {
        touched[v[k].tier] = 1;
        accounts[v[k].tier] += k == 0 || cmp_tacct(&v[k - 1], &v[k]) != 0;
    }
    free(v);
}

/* The SLA report's breached tiers and accounts against the truth: the fault's tiers (of the
 * tickets sent) and its accounts, the incident's downtime from declaration to resolution (or
 * the window's end) over the window, a SEV1 or SEV2 only, against the tier's target. */
static void report_sla(struct drill *d, const struct drill_storm *s)
{
    struct drill_score *sc = d->sc;
    json_t *j = NULL, *row;
    size_t i;
    int touched[3] = {0, 0, 0}, accounts[3] = {0, 0, 0};
    if (tickets_report(&d->app, "sla", sc->report_from, sc->report_to, &j) != 0)
        return;
    truth_tiers(s, touched, accounts);
    int64_t end = sc->resolved_at ? sc->resolved_at : oc_clock_now_s(&d->clk);
    end = end < sc->report_to ? end : sc->report_to;
    int64_t down = sc->declared_at && end > sc->declared_at ? end - sc->declared_at : 0;
    int paid = strcmp(sc->severity, "SEV1") == 0 || strcmp(sc->severity, "SEV2") == 0;
    double pct = 100.0 * (1.0 - (double)down / (double)(sc->report_to - sc->report_from));
    json_array_foreach(json_object_get(j, "availability"), i, row)
    {
        const char *tier = json_string_value(json_object_get(row, "tier"));
        int t;
        for (t = 0; t < 3 && (!tier || strcmp(tier, report_tiers[t]) != 0); t++)
            ;
        if (t == 3)
            continue;
        if (!json_is_true(json_object_get(row, "met"))) {
            list_add(sc->report_breached, sizeof sc->report_breached, tier);
            sc->report_compensate += (int)json_array_size(json_object_get(row, "compensate"));
        }
        if (touched[t] && paid && pct < json_number_value(json_object_get(row, "target_pct"))) {
            list_add(sc->truth_breached, sizeof sc->truth_breached, tier);
            sc->truth_compensate += accounts[t];
        }
    }
    json_decref(j);
}

/* The business reports over the drill's window against the truth. */
static void score_reports(struct drill *d, const struct drill_storm *s)
{
    struct drill_score *sc = d->sc;
    sc->report_from = d->t0_ms / 1000;
    sc->report_to = oc_clock_now_s(&d->clk) + 1;
    sc->truth_mtta_s =
        sc->acked_at && sc->declared_at ? (double)(sc->acked_at - sc->declared_at) : -1;
    sc->truth_mttr_s =
        sc->resolved_at && sc->declared_at ? (double)(sc->resolved_at - sc->declared_at) : -1;
    report_times(d);
    report_sla(d, s);
}

void drill_storm_score(struct drill *d)
{
    struct drill_storm *s = d->storm;
    struct drill_score *sc = d->sc;
    if (!s)
        return;
    size_t n = s->next, fault = 0, linked = 0;
    int64_t first = 0;
    tickets_pair_scores(s->cluster, s->st.label, n, &sc->tickets_precision, &sc->tickets_recall);
    int64_t *seen = oc_calloc(n + 1, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        int64_t inc = 0, at = 0;
        int k;
        for (k = 0; k < sc->ticket_clusters && seen[k] != s->cluster[i]; k++)
            ;
        if (k == sc->ticket_clusters)
            seen[sc->ticket_clusters++] = s->cluster[i];
        tickets_cluster_link(&d->app, s->cluster[i], &inc, &at);
        int mine = d->inc_id && inc == d->inc_id;
        if (s->st.label[i] >= 0) {
            fault++;
            linked += mine;
        } else if (inc) {
            sc->tickets_false_links++;
        }
        if (mine && at && (!first || at < first))
            first = at;
    }
    free(seen);
    sc->tickets_linked_share = fault ? (double)linked / (double)fault : 0;
    sc->tickets_linked_at = first / 1000;
    score_reports(d, s);
}

void drill_storm_free(struct drill *d)
{
    if (!d->storm)
        return;
    tickets_storm_free(&d->storm->st);
    free(d->storm->cluster);
    free(d->storm);
    d->storm = NULL;
}
