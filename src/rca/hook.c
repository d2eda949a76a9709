/*
 * hook.c - root-cause localization when an incident opens.
 *
 * On "incident.opened" the rca module reads the QoE cube's closed minutes around the
 * incident's time, builds a struct rca_data for the incident's metric (its title starts with
 * the metric name; rebuffering share by default), runs the engine, ranks the recorded changes
 * against the onset of the aggregate for the affected service (the catalog's, of the causes or
 * the incident's slice), and publishes "rca.localized" {incident_id, at, metric, causes,
 * candidates, note, changes}. The incident capability puts it on the timeline.
 */
#include "rca/rca_int.h"
#include "core/topics.h"

#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/module.h"
#include "catalog/catalog.h"
#include "qoe/qoe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_HISTORY_MIN 30 /* closed minutes read before the anomalous one */
#define HOOK_LOOKBACK    5  /* minutes searched back from the incident time for a closed one */
#define HOOK_WINDOW_MIN  3  /* the anomaly spans at least the alert rules' 3-minute window */
#define HOOK_ANOMALY_MAX 10 /* ... and at most this many minutes */

/* The metric of an incident: the metric rca can localize (QOE_MF_BAD_SHARE in the metric
 * table) that its opening alert names, or whose name starts the title of an incident stored
 * before the alert's metric was carried (the longest such name); rebuffering share by default,
 * NULL when the opening alert names something else (an Alertmanager alert's name: no QoE to
 * localize). */
static const struct qoe_metric_def *metric_for(const char *metric, const char *title)
{
    const struct qoe_metric_def *best = NULL;
    if (metric && metric[0]) {
        const struct qoe_metric_def *d = qoe_metric_find(metric);
        return d && (d->flags & QOE_MF_BAD_SHARE) ? d : NULL;
    }
    for (const struct qoe_metric_def *d = qoe_metrics; title && d->name; d++)
        if ((d->flags & QOE_MF_BAD_SHARE) && strncmp(title, d->name, strlen(d->name)) == 0 &&
            (!best || strlen(d->name) > strlen(best->name)))
            best = d;
    return best ? best : &qoe_metrics[QOE_REBUFFERING_SHARE];
}

/* Adds minute m's rows to d in bin `bin`; sums the aggregate into *v and *t. 0 or
 * OC_ETOOBIG. */
static int add_minute(struct qoe_cube *c, const struct qoe_minute *m,
                      const struct qoe_metric_def *h, struct rca_data *d, int64_t bin, double *v,
                      double *t)
{
    const char *vals[BEACON_NDIMS];
    for (uint32_t i = 0; i < m->nrows; i++) {
        double value, total;
        qoe_metric_counts(h, m, i, &value, &total);
        if (total <= 0 && value <= 0)
            continue;
        *v += value;
        *t += total;
        if (!d)
            continue;
        const uint32_t *ids = qoe_cube_leaf_dims(c, m->leaf[i]);
        for (int k = 0; k < BEACON_NDIMS; k++)
            vals[k] = qoe_cube_value(c, k, ids[k]);
        int rc = rca_data_add(d, bin, vals, value, total);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Fills d from the cube. The anomaly is one bin, at `last` (the latest complete minute at or
 * before `at`), summing the minutes from the onset of the aggregate's move, or at least the
 * alert's window (HOOK_WINDOW_MIN: a fault on a small slice barely moves the aggregate, and
 * one minute of a few hundred starts is too thin to tell it from noise), at most
 * HOOK_ANOMALY_MAX minutes. The history is the minutes before that, so bins already hit by
 * the fault do not raise the forecast. Ratio measures make a summed bin comparable with
 * one-minute history bins (forecasts are ratios times the total now). Returns 0 or
 * OC_ENOTFOUND. */
static int read_cube(struct qoe_cube *c, int64_t at, const struct qoe_metric_def *h,
                     struct rca_data *d, int64_t *last, int64_t *onset)
{
    int64_t t0 = at - at % 60, ts[HOOK_HISTORY_MIN + 1];
    double agg[HOOK_HISTORY_MIN + 1];
    size_t n = 0;
    int rc = OC_ENOTFOUND;
    qoe_cube_read_begin(c);
    for (int k = 0; k <= HOOK_LOOKBACK && rc != 0; k++)
        if (qoe_cube_minute(c, t0 - 60 * k)) {
            *last = t0 - 60 * k;
            rc = 0;
        }
    for (int64_t t = *last - 60 * HOOK_HISTORY_MIN; rc == 0 && t <= *last; t += 60) {
        const struct qoe_minute *m = qoe_cube_minute(c, t);
        double v = 0, tot = 0;
        if (m && add_minute(c, m, h, NULL, t, &v, &tot) == 0) {
            ts[n] = t;
            agg[n++] = tot > 0 ? v / tot : 0;
        }
    }
    if (rc == 0 && rca_onset(ts, agg, n, *last, onset) != 0)
        *onset = *last;
    int64_t from =
        *onset < *last - 60 * (HOOK_WINDOW_MIN - 1) ? *onset : *last - 60 * (HOOK_WINDOW_MIN - 1);
    if (from < *last - 60 * (HOOK_ANOMALY_MAX - 1))
        from = *last - 60 * (HOOK_ANOMALY_MAX - 1);
    for (int64_t t = *last - 60 * HOOK_HISTORY_MIN; rc == 0 && t <= *last; t += 60) {
        const struct qoe_minute *m = qoe_cube_minute(c, t);
        double v = 0, tot = 0;
        if (m)
            add_minute(c, m, h, d, t < from ? t : *last, &v, &tot);
    }
    qoe_cube_read_end(c);
    return rc;
}

/* When nothing stands out in the whole population (one player build, or one DRM on one
 * device class, is a small share of all starts), the group of the alert that opened the
 * incident is the localization, provided it names more than a region or country: causes
 * becomes [{element: the slice, score: 1, source: "alert"}] and note says so. */
static void cause_from_slice(json_t *out, const json_t *p)
{
    const json_t *slice = json_object_get(p, "slice");
    json_t *causes = json_object_get(out, "causes"), *v;
    const char *k;
    int narrow = 0;
    if (!json_is_array(causes) || json_array_size(causes) > 0 || !json_is_object(slice))
        return;
    json_object_foreach((json_t *)slice, k, v)
    {
        narrow |= json_is_string(v) && strcmp(k, "region") != 0 && strcmp(k, "country") != 0;
    }
    if (!narrow)
        return;
    json_array_append_new(
        causes, json_pack("{s:O, s:f, s:s}", "element", slice, "score", 1.0, "source", "alert"));
    json_object_set_new(out, "note",
                        json_string("nothing stands out in the whole population; "
                                    "the alert's group names the cause"));
}

/* The catalog service serving element el ({dimension: value}), copied into buf; NULL when
 * el is not an object or no service serves it. */
static const char *service_of(const struct oc_app *app, const json_t *el, int64_t at, char *buf,
                              size_t n)
{
    struct catalog_slice cs;
    struct catalog_route r;
    if (!json_is_object(el) || json_object_size(el) == 0)
        return NULL;
    memset(&cs, 0, sizeof(cs));
    for (int d = 0; d < BEACON_NDIMS; d++)
        cs.v[d] = json_string_value(json_object_get(el, beacon_dim_names[d]));
    if (catalog_route_app(app, &cs, NULL, at * 1000, &r) != 0)
        return NULL;
    snprintf(buf, n, "%s", r.service);
    return buf;
}

const char *rca_affected_service(const struct oc_app *app, const json_t *opened,
                                 const json_t *causes, int64_t at, char *buf, size_t n)
{
    const json_t *slice = json_object_get(opened, "slice");
    const char *svc = json_string_value(json_object_get(slice, "service"));
    size_t i;
    const json_t *c;
    if (svc && svc[0]) {
        snprintf(buf, n, "%s", svc);
        return buf;
    }
    if (!app)
        return NULL;
    json_array_foreach(causes, i, c)
    {
        if (service_of(app, json_object_get(c, "element"), at, buf, n))
            return buf;
    }
    return service_of(app, slice, at, buf, n);
}

json_t *rca_localize_cube(struct qoe_cube *c, const struct oc_app *app, const json_t *p)
{
    struct store *st = app ? app->store : NULL;
    char svc[256];
    struct oc_ev_incident_opened ev;
    oc_ev_incident_opened_read(p, &ev);
    /* the opening alert's metric; an incident stored before it was carried names it in its
     * title */
    const struct qoe_metric_def *h = metric_for(ev.metric, ev.title);
    int64_t at = (int64_t)json_integer_value(json_object_get(p, "at")), last = 0, onset = 0;
    if (!c || !h)
        return NULL;
    struct rca_data *d = rca_data_new(BEACON_NDIMS, beacon_dim_names, 1);
    struct rca_result *r = malloc(sizeof(*r));
    json_t *out = NULL;
    if (r && read_cube(c, at, h, d, &last, &onset) == 0) {
        double t0 = rca_now_ms();
        if (rca_run(d, last, NULL, r) == 0) {
            out = rca_result_to_json(d, r, rca_now_ms() - t0);
            json_object_set_new(out, "metric", json_string(h->name));
            json_object_set(out, "incident_id", json_object_get(p, "incident_id"));
            if (r->note)
                json_object_set_new(out, "note", json_string(r->note));
            json_object_set_new(out, "onset", json_integer((json_int_t)onset));
            cause_from_slice(out, p);
            const char *service = rca_affected_service(app, p, json_object_get(out, "causes"), last,
                                                       svc, sizeof(svc));
            json_t *ch = st ? rca_changes_ranked(st, onset, service) : NULL;
            json_object_set_new(out, "changes", ch ? ch : json_array());
        }
    }
    free(r);
    rca_data_destroy(d);
    return out;
}

void rca_on_incident_opened(const char *topic, const json_t *payload, void *arg)
{
    struct oc_app *app = arg;
    (void)topic;
    if (json_object_get(payload, "held_s")) /* localized while it was held */
        return;
    json_t *out = rca_localize_cube(qoe_cube_of(app), app, payload);
    if (!out)
        return;
    oc_log(OC_LOG_INFO, "rca: incident %s localized to %zu element(s)",
           json_string_value(json_object_get(payload, "incident_id")),
           json_array_size(json_object_get(out, "causes")));
    if (app->bus)
        oc_bus_publish(app->bus, OC_TOPIC_RCA_LOCALIZED, out);
    json_decref(out);
}
