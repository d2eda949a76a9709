/*
 * explain.c - whether an open incident explains a new alert, the rule grouping follows
 * (grouping.c): an alert joins an incident only when the incident's cause accounts for it.
 *
 *   - A QoE alert on a localized incident: one of the root-cause elements fits the alert's
 *     slice (names no other value of a dimension the slice fixes), and the alert's metric
 *     over the slice with the cause's traffic taken out is back on the good side of the
 *     alert's threshold over the alert's window (a burn rate scales by the same share). A
 *     PlayReady outage on smart TVs explains the start failures of every region and of the
 *     TV players' builds; it does not explain a live stall's rebuffering in the same region.
 *     A residual of counts (starts, sessions) over the threshold still counts as explained
 *     while its excess is not significant (z < EXPLAIN_Z).
 *   - A QoE alert on an incident not localized (yet, or at all): the same metric as an alert
 *     that opened it, on a slice that contains or is contained in the incident's.
 *   - An Alertmanager alert, or any alert whose slice names a service: the service it names
 *     (labels.service, in its slice) is the incident's service, or one depends on the other
 *     in the catalog.
 *
 * The residual is computed from the cube's complete minutes (qoe_cube_read_begin/end), row by
 * row, on value ids (no string compares per row): a row counts in the slice when it has every
 * value the slice names, and in the cause when it has every value of one element. Percentile
 * metrics have no residual: for them a fitting cause on an opening metric is enough.
 */
#include "incident/incident_int.h"
#include "catalog/catalog.h"
#include "core/topics.h"
#include "qoe/qoe.h"

#include <math.h>
#include <string.h>

#define EXPLAIN_MIN_WINDOW_S 180 /* the residual spans at least 3 minutes */
#define EXPLAIN_MAX_ELEMS    16  /* cause elements considered */
#define EXPLAIN_Z            2.0 /* significance of a thin residual's excess */

/* A conjunction of dimension values (as the cube's value ids): a slice or a cause element. */
struct pred {
    int n;
    int none; /* names a value the cube has never seen: matches no row */
    int dim[BEACON_NDIMS];
    uint32_t id[BEACON_NDIMS];
};

/* Reads obj's beacon-dimension keys into p (other keys, such as service, are not QoE). */
static void pred_of(struct qoe_cube *c, const json_t *obj, struct pred *p)
{
    p->n = p->none = 0;
    for (int d = 0; d < BEACON_NDIMS && json_is_object(obj); d++) {
        const char *v = json_string_value(json_object_get(obj, beacon_dim_names[d]));
        if (!v)
            continue;
        p->dim[p->n] = d;
        if (qoe_cube_value_id(c, d, v, strlen(v), &p->id[p->n++]) != 0)
            p->none = 1;
    }
}

static int pred_match(const struct pred *p, const uint32_t *ids)
{
    if (p->none)
        return 0;
    for (int i = 0; i < p->n; i++)
        if (ids[p->dim[i]] != p->id[i])
            return 0;
    return 1;
}

/* 1 when cause element e does not contradict slice (no dimension of both with other values). */
static int cause_fits(const json_t *e, const json_t *slice)
{
    const char *k;
    json_t *v, *w;
    if (!json_is_object(e) || json_object_size(e) == 0)
        return 0;
    json_object_foreach((json_t *)e, k, v)
    {
        if ((w = json_object_get(slice, k)) != NULL && !json_equal(v, w))
            return 0;
    }
    return 1;
}

/* 1 when metric is the metric of an alert that opened inc. */
int inc_opener_metric(const struct incident *inc, const char *metric)
{
    for (int i = 0; i < inc->nalerts; i++)
        if (inc->alerts[i].opener && strcmp(inc->alerts[i].metric, metric) == 0)
            return 1;
    return 0;
}

/* 1 when every value of a is in b (b is a or narrower). */
static int contains(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        if (!json_equal(v, json_object_get(b, k)))
            return 0;
    }
    return 1;
}

/* Sums metric h over the complete minutes of [from, to): in *slice_num/den the rows of slice,
 * in *rest_num/den those of them outside every cause element. */
static void sums(struct qoe_cube *c, const struct qoe_metric_def *h, const struct pred *slice,
                 const struct pred *elems, int nelems, int64_t from, int64_t to, double out[4])
{
    memset(out, 0, 4 * sizeof(double));
    qoe_cube_read_begin(c);
    for (int64_t t = from; t < to; t += 60) {
        const struct qoe_minute *m = qoe_cube_minute(c, t);
        for (uint32_t i = 0; m && i < m->nrows; i++) {
            const uint32_t *ids = qoe_cube_leaf_dims(c, m->leaf[i]);
            double num, den;
            if (!pred_match(slice, ids))
                continue;
            qoe_metric_counts(h, m, i, &num, &den);
            out[0] += num;
            out[1] += den;
            int in_cause = 0;
            for (int e = 0; e < nelems && !in_cause; e++)
                in_cause = pred_match(&elems[e], ids);
            if (!in_cause) {
                out[2] += num;
                out[3] += den;
            }
        }
    }
    qoe_cube_read_end(c);
}

/* The residual rule for a QoE alert a on a localized inc: 1 explained, 0 not, -1 cannot say
 * (no cube, a percentile metric, or no data in the window). */
static int residual_explains(struct incident_mgr *m, const struct incident *inc,
                             const struct oc_ev_alert *a, double *value)
{
    const struct qoe_metric_def *h = qoe_metric_find(a->metric);
    struct qoe_cube *c = qoe_cube_of(m->app);
    struct pred slice, elems[EXPLAIN_MAX_ELEMS];
    int n = 0;
    size_t i;
    json_t *cause;
    double s[4];
    if (!c || !h || h->cls == QOE_CLASS_PERCENTILE || isnan(a->threshold))
        return -1;
    pred_of(c, a->slice, &slice);
    json_array_foreach(inc->causes, i, cause)
    {
        const json_t *e = json_object_get(cause, "element");
        if (n < EXPLAIN_MAX_ELEMS && cause_fits(e, a->slice))
            pred_of(c, e, &elems[n++]);
    }
    if (n == 0)
        return 0;
    int64_t w = a->window_s > EXPLAIN_MIN_WINDOW_S ? a->window_s : EXPLAIN_MIN_WINDOW_S;
    int64_t to = a->at - a->at % 60;
    sums(c, h, &slice, elems, n, to - w, to, s);
    if (s[1] <= 0)
        return -1;
    if (value)
        *value = s[0] / s[1];
    return inc_residual_verdict(s, a->threshold, strcmp(a->op, "<") == 0,
                                strcmp(a->kind, "burn_rate") == 0 ? a->value : NAN,
                                h->unit_per_count == 1);
}

int inc_residual_verdict(const double s[4], double threshold, int below, double burn, int counts)
{
    if (s[3] <= 0) /* all of the slice's traffic is the cause's */
        return 1;
    double rest = s[2] / s[3];
    if (!isnan(burn)) { /* a burn rate scales with the metric */
        double all = s[0] / s[1];
        rest = all > 0 ? burn * rest / all : 0;
    }
    if (below ? rest >= threshold : rest <= threshold)
        return 1;
    if (!isnan(burn))
        return 0;
    /* a ratio of counts (starts, sessions): what is left of a thin group (a player build with
     * a dozen starts once the failing TVs are out) is explained unless its excess over the
     * threshold is significant (binomial, EXPLAIN_Z standard deviations), and only when the
     * cause took most of the slice's excess with it. A cause holding a sliver of the slice (a
     * build's viewers on one ISP) leaves an excess about as large as the alert's own, and as
     * significant: at the minute a noise-tested rule fires its own excess is only just
     * significant, so taking out a few viewers could tip it under EXPLAIN_Z by chance (a
     * demo's ExoPlayer build joined the Vodafone incident that way and paged 3 minutes late). */
    double p = threshold;
    if (!counts || p <= 0 || p >= 1)
        return 0;
    double all_excess = below ? p * s[1] - s[0] : s[0] - p * s[1];
    double rest_excess = below ? p * s[3] - s[2] : s[2] - p * s[3];
    if (rest_excess > all_excess / 2)
        return 0;
    double z = (s[2] - p * s[3]) / sqrt(p * (1 - p) * s[3]);
    return (below ? -z : z) < EXPLAIN_Z;
}

/* 1 when service a is in the blast radius of b (a depends on b, transitively). */
static int in_blast(const struct oc_app *app, const char *a, const char *b)
{
    struct catalog_ref ref;
    struct catalog_blast bl;
    int hit = 0;
    if (!a || !b || !a[0] || !b[0] || catalog_get(app, &ref) != 0)
        return 0;
    if (catalog_blast_radius(ref.cat, b, &bl) == 0) {
        for (int i = 0; i < bl.services.n; i++)
            hit |= strcmp(bl.services.v[i], a) == 0;
        catalog_blast_free(&bl);
    }
    catalog_put(&ref);
    return hit;
}

int inc_services_related(const struct oc_app *app, const char *a, const char *b)
{
    return a && b && a[0] && b[0] &&
           (strcmp(a, b) == 0 || in_blast(app, a, b) || in_blast(app, b, a));
}

int inc_explains(struct incident_mgr *m, const struct incident *inc, const struct oc_ev_alert *a)
{
    const char *svc = json_string_value(json_object_get(a->slice, "service"));
    if (strcmp(a->source, "alertmanager") == 0 || svc) {
        const char *own = json_string_value(json_object_get(inc->slice, "service"));
        if (!own || !own[0])
            own = inc->service;
        return svc && inc_services_related(m->app, svc, own);
    }
    if (!a->metric[0] || !json_is_object(a->slice))
        return 0;
    if (json_is_array(inc->causes) && json_array_size(inc->causes) > 0) {
        int r = residual_explains(m, inc, a, NULL);
        if (r >= 0)
            return r;
        /* no residual to compute: a fitting cause on an opening metric */
        size_t i;
        json_t *cause;
        if (!inc_opener_metric(inc, a->metric))
            return 0;
        json_array_foreach(inc->causes, i, cause)
        {
            if (cause_fits(json_object_get(cause, "element"), a->slice))
                return 1;
        }
        return 0;
    }
    return inc_opener_metric(inc, a->metric) &&
           (contains(inc->slice, a->slice) || contains(a->slice, inc->slice));
}

int inc_still_explains(struct incident_mgr *m, const struct incident *inc,
                       const struct inc_alert *a, int64_t upto, double *value)
{
    struct oc_ev_alert ev;
    *value = NAN;
    if (!a->event || oc_ev_alert_read(a->event, &ev) != 0 || strcmp(ev.source, "oncue") != 0 ||
        strcmp(ev.kind, "threshold") != 0 || !ev.metric[0] || !json_is_object(ev.slice) ||
        json_object_get(ev.slice, "service") || json_array_size(inc->causes) == 0)
        return -1;
    ev.at = upto;
    return residual_explains(m, inc, &ev, value);
}
