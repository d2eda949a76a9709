/*
 * burn.c - the burn-rate cache of the engine: per SLO a ring of closed minutes, each holding
 * the SLO metric's value over its slice and the volume behind it (the ratio's denominator).
 * A burn rate over a window is then a sum over the ring: timeslices count bad minutes,
 * occurrences sum value x volume over volume (numerators and denominators first, as the
 * query engine does); slo_burn turns the counts into the rate.
 */
#include "alert/alert_int.h"
#include "core/alloc.h"
#include "qoe/qoe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ring {
    int64_t cap;    /* minutes held */
    int64_t *t;     /* minute of each slot; 0: empty */
    double *value;  /* NAN without data */
    double *volume; /* denominator behind value */
};

struct alert_burn {
    const struct slo_set *slos; /* borrowed */
    uint64_t generation;        /* of slos when the rings were filled */
    struct ring r[SLO_MAX];     /* by index in slos */
};

struct alert_burn *alert_burn_new(const struct slo_set *slos)
{
    struct alert_burn *b = oc_calloc(1, sizeof(*b));
    b->slos = slos;
    b->generation = slos ? slos->generation : 0;
    return b;
}

static void ring_free(struct ring *r)
{
    free(r->t);
    free(r->value);
    free(r->volume);
    memset(r, 0, sizeof(*r));
}

void alert_burn_destroy(struct alert_burn *b)
{
    if (!b)
        return;
    for (int i = 0; i < SLO_MAX; i++)
        ring_free(&b->r[i]);
    free(b);
}

/* Fills slot of minute m from one query over [m, m + 60). */
static void fill(struct ring *r, const struct slo *s, struct qoe_cube *c, int64_t m)
{
    struct qoe_query q;
    struct qoe_result *res = NULL;
    char err[200];
    int64_t k = (m / 60) % r->cap;
    memset(&q, 0, sizeof(q));
    q.metric = (enum qoe_metric)s->metric;
    q.from = m;
    q.to = m + 60;
    q.step = 60;
    q.top = 1;
    for (int i = 0; i < s->nfilters; i++)
        q.filters[q.nfilters++] = (struct qoe_filter){s->filters[i].dim, s->filters[i].value};
    r->t[k] = m;
    r->value[k] = NAN;
    r->volume[k] = 0;
    if (qoe_query_run(c, &q, &res, err, sizeof(err)) == 0 && res->nseries > 0) {
        r->value[k] = qoe_point(res, 0, 0);
        r->volume[k] = res->series[0].volume;
    }
    qoe_result_destroy(res);
}

/* Fills the slots of [from, to) with one step-60 query per qoe_max_points minutes; only the
 * minutes with data of an occurrences SLO need a query of their own (for the volume). */
static void fill_range(struct ring *r, const struct slo *s, struct qoe_cube *c, int64_t from,
                       int64_t to)
{
    struct qoe_query q;
    struct qoe_result *res = NULL;
    char err[200];
    int64_t chunk = 60 * qoe_max_points((enum qoe_metric)s->metric); /* a percentile's: fewer */
    for (int64_t a = from; a < to; a += chunk) {
        int64_t b = a + chunk < to ? a + chunk : to;
        memset(&q, 0, sizeof(q));
        q.metric = (enum qoe_metric)s->metric;
        q.from = a;
        q.to = b;
        q.step = 60;
        q.top = 1;
        for (int i = 0; i < s->nfilters; i++)
            q.filters[q.nfilters++] = (struct qoe_filter){s->filters[i].dim, s->filters[i].value};
        if (qoe_query_run(c, &q, &res, err, sizeof(err)) != 0)
            res = NULL;
        for (int64_t m = a; m < b; m += 60) {
            int64_t k = (m / 60) % r->cap;
            double v = res && res->nseries > 0 ? qoe_point(res, 0, (int)((m - a) / 60)) : NAN;
            r->t[k] = m;
            r->value[k] = v;
            r->volume[k] = isnan(v) ? 0 : 1;
            if (!isnan(v) && s->how == SLO_OCCURRENCES)
                fill(r, s, c, m);
        }
        qoe_result_destroy(res);
        res = NULL;
    }
}

double alert_burn_rate(struct alert_burn *b, const struct slo *s, struct qoe_cube *c, int64_t end,
                       int64_t w, int64_t *nminutes)
{
    if (b->generation != b->slos->generation) { /* the SLOs were replaced: start over */
        for (int i = 0; i < SLO_MAX; i++)
            ring_free(&b->r[i]);
        b->generation = b->slos->generation;
    }
    struct ring *r = &b->r[s - b->slos->slos];
    int64_t minutes = 0, bad = 0;
    double num = 0, den = 0;
    if (r->cap < w / 60) { /* first use, or a longer window: start over */
        ring_free(r);
        r->cap = w / 60;
        r->t = oc_calloc((size_t)r->cap, sizeof(*r->t));
        r->value = oc_calloc((size_t)r->cap, sizeof(*r->value));
        r->volume = oc_calloc((size_t)r->cap, sizeof(*r->volume));
    }
    for (int64_t m = end - w; m < end; m += 60)
        if (r->t[(m / 60) % r->cap] != m) { /* the first minute not cached, and on */
            fill_range(r, s, c, m, end);
            break;
        }
    for (int64_t m = end - w; m < end; m += 60) {
        int64_t k = (m / 60) % r->cap;
        if (isnan(r->value[k]))
            continue;
        minutes++;
        bad += !slo_good(s, r->value[k]);
        num += r->value[k] * r->volume[k];
        den += r->volume[k];
    }
    struct slo_count count = {minutes, bad, den > 0 ? num / den : NAN};
    *nminutes = minutes;
    return slo_burn(s, &count);
}
