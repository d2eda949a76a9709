/*
 * storm.c - the drill's ticket storm (`oncue drill SCENARIO --tickets N`): from the fault's
 * start, N support tickets about it (the tickets generator's paraphrases, typos and missing
 * fields, in the fault's region; a fifth of them noise on unrelated matters) arrive over ten
 * minutes through tickets_submit, as the intake would store them, every tenth redelivered. At
 * the end the scorecard compares the clusters and their links with the ground truth:
 * pairwise precision and recall, the share of the fault's tickets linked to the drill's
 * incident, noise linked to it, the delay from declaration to the first link.
 */
#include "drill/drill_int.h"

#include "core/alloc.h"
#include "sim/sim.h"
#include "tickets/tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
