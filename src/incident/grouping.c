/*
 * grouping.c - which incident an alert belongs to: the open incident whose cause explains it
 * (explain.c; not merely an overlapping slice), narrowing an incident's scope, opening a new
 * incident, and merging duplicates that turn out to share a root cause (the older incident's
 * slice widens to cover both).
 */
#include "incident/incident_int.h"
#include "catalog/catalog.h"
#include "core/bus.h"
#include "core/lock.h"
#include "core/topics.h"
#include "qoe/event.h"
#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

static json_t *alert_ids(const struct incident *inc)
{
    json_t *a = json_array();
    for (int i = 0; i < inc->nalerts; i++)
        json_array_append_new(a, json_string(inc->alerts[i].id));
    return a;
}

/* The alert id of inc, or NULL. */
struct inc_alert *inc_alert_find(struct incident *inc, const char *id)
{
    for (int i = 0; i < inc->nalerts; i++)
        if (strcmp(inc->alerts[i].id, id) == 0)
            return &inc->alerts[i];
    return NULL;
}

/* The open incident already holding alert id, or NULL. Caller holds m->mu. */
struct incident *inc_of_alert(struct incident_mgr *m, const char *id)
{
    for (int i = m->n - 1; i >= 0; i--)
        if (inc_is_open(m->incs[i]) && inc_alert_find(m->incs[i], id))
            return m->incs[i];
    return NULL;
}

/* The id of the open incident holding alert_id: 0 or OC_ENOTFOUND (see incident.h). */
int incident_find_alert(struct incident_mgr *m, const char *alert_id, int64_t *id)
{
    inc_lock(m);
    struct incident *inc = alert_id ? inc_of_alert(m, alert_id) : NULL;
    if (inc)
        *id = inc->id;
    inc_unlock(m);
    return inc ? 0 : OC_ENOTFOUND;
}

/* The slice an incident opened by p is routed by: its slice, plus, for an Alertmanager alert,
 * the labels that name catalog dimensions (its QoE slice leaves them out, its owner does not).
 * New reference. */
static json_t *route_slice(const json_t *slice, const json_t *p)
{
    json_t *r = json_deep_copy(slice), *labels = json_object_get(p, "labels");
    for (int d = 0; d < BEACON_NDIMS && json_is_object(labels); d++) {
        json_t *v = json_object_get(labels, beacon_dim_names[d]);
        if (json_is_string(v) && !json_object_get(r, beacon_dim_names[d]))
            json_object_set(r, beacon_dim_names[d], v);
    }
    return r;
}

static void alert_fill(struct inc_alert *a, const json_t *p, int64_t now)
{
    const char *s;
    a->scoped = inc_names_scope(json_object_get(p, "slice")) ||
                inc_names_scope(json_object_get(p, "labels"));
    s = json_string_value(json_object_get(p, "metric"));
    snprintf(a->metric, sizeof(a->metric), "%s", s ? s : "");
    s = json_string_value(json_object_get(p, "op"));
    snprintf(a->op, sizeof(a->op), "%s", s ? s : ">");
    s = json_string_value(json_object_get(p, "level"));
    snprintf(a->level, sizeof(a->level), "%s", s ? s : "page");
    a->threshold = json_number_value(json_object_get(p, "threshold"));
    a->value = json_number_value(json_object_get(p, "value"));
    if (!a->firing || a->value > a->peak)
        a->peak = a->firing ? a->value : (a->peak > a->value ? a->peak : a->value);
    a->core_down = json_is_true(json_object_get(p, "core_service_down"));
    json_decref(a->event);
    a->event = json_deep_copy(p);
    a->unexplained = 0;
    if (!a->firing)
        a->fired_s = now;
    a->firing = 1;
    a->cleared_s = 0;
}

void inc_slice_text(const json_t *slice, char *out, size_t n)
{
    const char *k;
    json_t *v;
    size_t len = 0;
    out[0] = 0;
    json_object_foreach((json_t *)slice, k, v)
    {
        if (json_is_string(v) && len < n)
            len += (size_t)snprintf(out + len, n - len, "%s%s=%s", len ? " & " : "", k,
                                    json_string_value(v));
    }
    if (!out[0])
        snprintf(out, n, "all viewers");
}

static int cause_from_alert(const json_t *causes);

/* Pages the owner of inc's slice, saves inc and publishes topic (incident.opened, or
 * incident.held: then on the bus only, not to the notification outbox, and nobody is paged)
 * for the alert p that opened it (borrowed). held_s >= 0 adds the seconds it was held. */
static void declare(struct incident_mgr *m, struct incident *inc, const json_t *p,
                    const char *topic, int64_t held_s, int64_t now)
{
    char id[32];
    int held = strcmp(topic, OC_TOPIC_INCIDENT_HELD) == 0;
    if (!held) {
        json_t *route = route_slice(inc->slice, p);
        inc_route_and_page(m, inc, route, now, NULL);
        json_decref(route);
    }
    inc_save(m, inc);
    inc_format_id(inc->id, id, sizeof(id));
    json_t *ids = alert_ids(inc);
    struct oc_ev_incident_opened ev = {.incident_id = id,
                                       .severity = inc_sev_name(inc->sev),
                                       .title = inc->title,
                                       .metric = json_string_value(json_object_get(p, "metric")),
                                       .slice = inc->slice,
                                       .alert_ids = ids,
                                       .at = inc->opened_s};
    json_t *payload = oc_ev_incident_opened_build(&ev);
    json_decref(ids);
    if (held_s >= 0)
        json_object_set_new(payload, "held_s", json_integer(held_s));
    if (!held) {
        inc_publish(m, topic, payload);
        return;
    }
    if (m->app->bus)
        oc_bus_publish(m->app->bus, topic, payload);
    json_decref(payload);
}

/* 1 when the new incident inc (its slice names no service) may be the beacons' side of a
 * fault an older open incident saw first by a service's own signal (a probe, a scrape rule,
 * Alertmanager) and has not localized: once rca names inc's cause, that incident may take it
 * (service_explained below). Its announcement then waits for rca, so that nobody is paged
 * for, or told of, an incident that is merged in the same second. */
static int may_be_taken(const struct incident_mgr *m, const struct incident *inc, int64_t now)
{
    if (json_object_get(inc->slice, "service"))
        return 0;
    for (int i = 0; i < m->n; i++) {
        const struct incident *o = m->incs[i];
        if (o != inc && inc_is_open(o) && !o->held && now - o->opened_s <= m->o.group_window_s &&
            json_string_value(json_object_get(o->slice, "service")) &&
            (json_array_size(o->causes) == 0 || cause_from_alert(o->causes)))
            return 1;
    }
    return 0;
}

void inc_announce(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    if (!inc->held || inc->nalerts == 0)
        return;
    inc->held = 0;
    inc_tl_add(m, inc->id, now, "page", "oncue", NULL, 0,
               "announced after %lld s: no older incident took it",
               (long long)(now - inc->opened_s));
    declare(m, inc, inc->alerts[0].event, OC_TOPIC_INCIDENT_OPENED, now - inc->opened_s, now);
}

/* Opens a new incident for the alert in payload. Caller holds m->mu. */
static void open_incident(struct incident_mgr *m, const json_t *p, const char *aid, int64_t now)
{
    struct incident_impact imp;
    char why[160], where[200];
    int open = 0;
    for (int i = 0; i < m->n; i++)
        open += inc_is_open(m->incs[i]);
    struct incident *inc = open < INCIDENT_MAX_OPEN ? inc_new(m, now) : NULL;
    const char *summary = json_string_value(json_object_get(p, "summary"));
    if (!inc) {
        oc_log(OC_LOG_ERROR, "incident: cap reached (%d open, %d in all); alert %s dropped",
               INCIDENT_MAX_OPEN, INC_MAX_KEPT, aid);
        return;
    }
    json_object_update(inc->slice, json_object_get(p, "slice"));
    /* a test alert: "test": true, or an Alertmanager alert labelled test="true" */
    const char *label = json_string_value(json_object_get(json_object_get(p, "labels"), "test"));
    inc->test = json_is_true(json_object_get(p, "test")) || (label && strcmp(label, "true") == 0);
    struct inc_alert *a = &inc->alerts[inc->nalerts++];
    snprintf(a->id, sizeof(a->id), "%s", aid);
    alert_fill(a, p, now);
    a->opener = 1;
    inc_slice_text(inc->slice, where, sizeof(where));
    snprintf(inc->title, sizeof(inc->title), "%s in %s", a->metric[0] ? a->metric : "alert", where);
    inc_measure(m, inc, now, &imp);
    inc->sev = incident_classify(&m->o.grid, &imp, why, sizeof(why));
    inc->snap_open = inc_snapshot(inc, &imp, now);
    inc->snap_peak = inc_snapshot(inc, &imp, now);
    inc->peak_share = imp.affected_share;
    inc->peak_s = inc->last_measure_s = now;
    inc_tl_add(m, inc->id, now, "alert", "oncue", json_deep_copy(p), 0, "alert %s fired: %s", aid,
               summary ? summary : inc->title);
    inc_tl_add(m, inc->id, now, "declared", "oncue", json_incref(inc->snap_open), 0,
               "incident declared %s: %s (%.1f%% of viewers affected)", inc_sev_name(inc->sev), why,
               imp.affected_share * 100);
    inc->held = may_be_taken(m, inc, now);
    if (inc->held)
        inc_tl_add(m, inc->id, now, "page", "oncue", NULL, 0,
                   "page held until its root cause is known (at most %d s): an open incident "
                   "opened by a service's own signal may take it",
                   INC_HOLD_S);
    declare(m, inc, p, inc->held ? OC_TOPIC_INCIDENT_HELD : OC_TOPIC_INCIDENT_OPENED, -1, now);
}

/* Which alert levels open an incident (the others only join an open one). */
static const struct {
    const char *level;
    int opens;
} levels[] = {
    {"page", 1},
    {"notify", 1},
    {"backlog", 0},
    {0},
};

static int opens_incident(const char *level)
{
    for (int i = 0; level && levels[i].level; i++)
        if (strcmp(level, levels[i].level) == 0)
            return levels[i].opens;
    return !level; /* no level given: treat as paging */
}

/* 1 when slice b says everything a says and more (b is narrower). */
static int narrower(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    if (json_object_size(b) <= json_object_size(a))
        return 0;
    json_object_foreach((json_t *)a, k, v)
    {
        if (!json_equal(v, json_object_get(b, k)))
            return 0;
    }
    return 1;
}

/* A joining alert with a narrower slice narrows the scope of an incident not localized yet;
 * when that changes the owner, the new owner is paged too. */
static void maybe_narrow(struct incident_mgr *m, struct incident *inc, const json_t *slice,
                         int64_t now)
{
    char where[200], team[INC_NAME_MAX];
    /* a localized incident's scope is its cause's business: a player build's start failures
     * joining a DRM outage must not shrink the outage to that build (its impact is measured
     * over the scope) */
    if (!slice || json_array_size(inc->causes) > 0 || !narrower(inc->slice, slice))
        return;
    json_decref(inc->slice);
    inc->slice = json_deep_copy(slice);
    inc_slice_text(inc->slice, where, sizeof(where));
    inc_tl_add(m, inc->id, now, "scope", "oncue", json_deep_copy(slice), 0, "scope narrowed to %s",
               where);
    snprintf(team, sizeof(team), "%s", inc->team);
    inc_route_and_page(m, inc, inc->slice, now, team);
}

void inc_retitle(struct incident_mgr *m, struct incident *inc, const json_t *causes, int64_t now)
{
    char where[200], title[sizeof(inc->title)];
    const char *metric = "";
    size_t n = json_array_size(causes);
    for (int i = 0; i < inc->nalerts && !metric[0]; i++)
        if (inc->alerts[i].opener)
            metric = inc->alerts[i].metric;
    if (n == 0 || !metric[0])
        return;
    inc_slice_text(json_object_get(json_array_get(causes, 0), "element"), where, sizeof(where));
    char more[32] = "";
    if (n > 1)
        snprintf(more, sizeof(more), " and %zu more", n - 1);
    if (snprintf(title, sizeof(title), "%s in %s%s", metric, where, more) >= (int)sizeof(title))
        title[sizeof(title) - 1] = '\0'; /* a long title is cut, as slice_text cuts */
    if (strcmp(title, inc->title) == 0)
        return;
    inc_tl_add(m, inc->id, now, "title", "oncue", NULL, 0, "retitled from \"%s\" after its cause",
               inc->title);
    snprintf(inc->title, sizeof(inc->title), "%s", title);
}

/* alert.fired (payload p, borrowed): refreshes the alert in its open incident, or joins the
 * newest open incident whose cause explains it (explain.c), or opens one. Caller holds
 * m->mu. */
void inc_group_alert(struct incident_mgr *m, const json_t *p, int64_t now)
{
    struct oc_ev_alert ev;
    const char *aid = oc_ev_alert_read(p, &ev) == 0 ? ev.alert_id : NULL;
    const json_t *slice = ev.slice;
    struct incident *inc;
    if (!aid || (slice && !json_is_object(slice)))
        return;
    /* an alert firing again after it cleared belongs to its incident only while that
     * incident's cause still explains it (the same CDN's viewers stalling again, two faults
     * later, for another reason, is another incident) */
    if ((inc = inc_of_alert(m, aid)) != NULL &&
        (inc_alert_find(inc, aid)->firing || inc_explains(m, inc, &ev))) {
        struct inc_alert *a = inc_alert_find(inc, aid);
        if (!a->firing)
            inc_tl_add(m, inc->id, now, "alert", "oncue", json_deep_copy(p), 0,
                       "alert %s fired again (%.4g %s %.4g)", aid,
                       json_number_value(json_object_get(p, "value")), a->op, a->threshold);
        alert_fill(a, p, now);
        inc->last_alert_s = now;
        inc_reclassify(m, inc, now);
        inc_save(m, inc);
        return;
    }
    /* backlog-level alerts feed dashboards: they neither open, join nor widen an incident */
    if (!opens_incident(json_string_value(json_object_get(p, "level"))))
        return;
    for (int i = m->n - 1; i >= 0; i--) {
        inc = m->incs[i];
        if (!inc_is_open(inc) || now - inc->opened_s > m->o.group_window_s ||
            !inc_explains(m, inc, &ev))
            continue;
        if (inc->nalerts >= INCIDENT_MAX_ALERTS) { /* full: the alert is not tracked */
            oc_log(OC_LOG_WARN, "incident: INC-%lld holds %d alerts; %s not joined",
                   (long long)inc->id, INCIDENT_MAX_ALERTS, aid);
            return;
        }
        struct inc_alert *a = &inc->alerts[inc->nalerts++];
        snprintf(a->id, sizeof(a->id), "%s", aid);
        alert_fill(a, p, now);
        /* a backlog alert (the slow burn-rate window) is context: it never holds inc open */
        a->opener = inc_opener_metric(inc, a->metric) && opens_incident(a->level);
        inc->last_alert_s = now;
        inc_tl_add(m, inc->id, now, "alert", "oncue", json_deep_copy(p), 0,
                   "alert %s joined the incident", aid);
        maybe_narrow(m, inc, slice, now);
        inc_reclassify(m, inc, now);
        inc_save(m, inc);
        return;
    }
    open_incident(m, p, aid, now);
}

/* 1 when cause lists a and b (arrays of {"element": {...}, ...}) share an element. */
static int causes_shared(const json_t *a, const json_t *b)
{
    size_t i, j;
    json_t *x, *y;
    json_array_foreach(a, i, x)
    {
        json_array_foreach(b, j, y)
        {
            const json_t *ex = json_object_get(x, "element"), *ey = json_object_get(y, "element");
            if (json_is_object(ex) && json_object_size(ex) > 0 && json_equal(ex, ey))
                return 1;
        }
    }
    return 0;
}

/* 1 when causes came from the opening alert's own group (rca found nothing that stands out,
 * or what it found did not account for the alert: events.c), not from a localization. */
static int cause_from_alert(const json_t *causes)
{
    const char *src = json_string_value(json_object_get(json_array_get(causes, 0), "source"));
    return json_array_size(causes) == 1 && src && strcmp(src, "alert") == 0;
}

/* 1 when inc's (localized) cause explains the alert that opened into (explain.c) over the
 * minutes before that alert fired: what into saw then, not now (once into's fault is over,
 * any cause would "explain" its healthy minutes). */
static int explains_opener(struct incident_mgr *m, const struct incident *inc,
                           const struct incident *into)
{
    struct oc_ev_alert ev;
    if (into->nalerts == 0 || !into->alerts[0].event ||
        oc_ev_alert_read(into->alerts[0].event, &ev) != 0)
        return 0;
    return inc_explains(m, inc, &ev);
}

/* Widens into's slice to cover other's: drops every dimension on which they differ. */
static void widen_slice(struct incident *into, const json_t *other)
{
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(into->slice, tmp, k, v)
    {
        if (!json_equal(v, json_object_get(other, k)))
            json_object_del(into->slice, k);
    }
}

/* The service that opened into by its own signal (a probe finding, a scrape rule, an
 * Alertmanager alert: a "service" in its slice) while into has no localized cause, when inc's
 * localized cause routes (catalog) to that service or to one related to it (either in the
 * other's blast radius): the packager's stale manifest, then viewers of live=true stalling,
 * which live-packager serves; copied into out (n bytes). NULL otherwise. *served (a new
 * reference) is the cause's element without the dimensions of the slice inc's alert watched
 * (live=true of live=true & region=NA, when the alert was region=NA's): that alert saw one
 * region, the service's own fault reaches every viewer it serves. */
static const char *service_explained(struct incident_mgr *m, const struct incident *inc,
                                     const struct incident *into, int64_t now, char *out, size_t n,
                                     json_t **served)
{
    const char *svc = json_string_value(json_object_get(into->slice, "service"));
    const json_t *el = json_object_get(json_array_get(inc->causes, 0), "element");
    struct catalog_slice cs;
    struct catalog_route r;
    *served = NULL;
    if (!svc || !svc[0] || (json_array_size(into->causes) && !cause_from_alert(into->causes)) ||
        cause_from_alert(inc->causes) || !json_is_object(el) || json_object_size(el) == 0)
        return NULL;
    memset(&cs, 0, sizeof(cs));
    for (int d = 0; d < BEACON_NDIMS; d++)
        cs.v[d] = json_string_value(json_object_get(el, beacon_dim_names[d]));
    if (catalog_route_app(m->app, &cs, NULL, now * 1000, &r) != 0)
        return NULL;
    if (!inc_services_related(m->app, r.service, svc))
        return NULL;
    snprintf(out, n, "%s", svc); /* a copy: merging widens into's slice, which may drop it */
    *served = json_deep_copy(el);
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(*served, tmp, k, v)
    {
        if (json_object_get(inc->slice, k))
            json_object_del(*served, k);
    }
    if (json_object_size(*served) == 0)
        json_object_update(*served, (json_t *)el);
    return out;
}

/* Once inc is localized: when an older open incident, opened within the group window, has
 * the same root cause, inc is a duplicate (one cause seen through another metric or region:
 * origin-stall's exits before start in EMEA next to its rebuffering in NA). Its alerts join
 * the older incident, whose slice widens to cover both and whose severity is re-measured
 * (never lowered); inc is resolved as merged. 1 when merged. Caller holds m->mu. */
int inc_merge_by_cause(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    char id[32], into_id[32], cause[256] = "", svc_name[INC_NAME_MAX];
    for (int i = 0; i < m->n; i++) {
        struct incident *into = m->incs[i];
        if (into == inc || into->id > inc->id || !inc_is_open(into) ||
            inc->opened_s - into->opened_s > m->o.group_window_s)
            continue;
        /* an older incident that only had its alert's group as a cause (rca saw nothing in
         * a history another fault had just disturbed) takes the cause inc found when that
         * cause explains its opening alert */
        int adopt = !causes_shared(into->causes, inc->causes) && cause_from_alert(into->causes) &&
                    !cause_from_alert(inc->causes) && explains_opener(m, inc, into);
        /* an older incident opened by a service's own signal takes the viewers' cause that
         * service serves: one fault, seen first by a probe or a scrape, then by the beacons */
        json_t *served = NULL;
        const char *svc =
            adopt || causes_shared(into->causes, inc->causes)
                ? NULL
                : service_explained(m, inc, into, now, svc_name, sizeof(svc_name), &served);
        adopt |= svc != NULL;
        if (!adopt && !causes_shared(into->causes, inc->causes))
            continue;
        if (adopt) {
            json_decref(into->causes);
            into->causes = json_deep_copy(inc->causes);
            if (served) /* the service's part of the first element */
                json_object_set_new(json_array_get(into->causes, 0), "element", served);
            inc_retitle(m, into, into->causes, now);
        }
        int moved = 0;
        for (int k = 0; k < inc->nalerts && into->nalerts < INCIDENT_MAX_ALERTS; k++)
            if (!inc_alert_find(into, inc->alerts[k].id)) {
                into->alerts[into->nalerts] = inc->alerts[k]; /* openers stay openers */
                json_incref(into->alerts[into->nalerts++].event);
                moved++;
            }
        widen_slice(into, inc->slice);
        if (inc->sev < into->sev && !into->sev_override)
            into->sev = inc->sev;
        inc_slice_text(
            json_object_get(json_array_get(adopt ? into->causes : inc->causes, 0), "element"),
            cause, sizeof(cause));
        inc_format_id(inc->id, id, sizeof(id));
        inc_format_id(into->id, into_id, sizeof(into_id));
        char why[200];
        if (svc)
            snprintf(why, sizeof(why),
                     "its root cause is served by %s, whose own signal opened this incident:", svc);
        else
            snprintf(why, sizeof(why), "%s",
                     adopt ? "its root cause explains this one's alerts too:" : "same root cause");
        inc_tl_add(m, into->id, now, "merge", "oncue", NULL, 0,
                   "%s (%s) merged into this incident: %s %s; %d alert(s) joined", id, inc->title,
                   why, cause, moved);
        inc_tl_add(m, inc->id, now, "merge", "oncue", NULL, 1, "merged into %s: %s %s", into_id,
                   svc     ? "the service that serves its root cause opened that incident:"
                   : adopt ? "the root cause it found explains that incident's alerts:"
                           : "same root cause",
                   cause);
        if (adopt) /* the owner of the cause it took is paged too, as on localization */
            inc_route_and_page(m, into, json_object_get(json_array_get(into->causes, 0), "element"),
                               now, into->team);
        if (!inc->team[0]) { /* never routed (held, or no owner yet): the owner of its new home */
            snprintf(inc->service, sizeof(inc->service), "%s", into->service);
            snprintf(inc->team, sizeof(inc->team), "%s", into->team);
        }
        inc->last_alert_s = now;
        snprintf(inc->merged_into, sizeof(inc->merged_into), "%s", into_id);
        inc_reclassify(m, into, now);
        inc_save(m, into);
        struct oc_ev_incident ev = {.incident_id = id, .into = into_id, .cause = cause, .at = now};
        if (!inc->held) /* a held incident was never announced: nobody hears of it now */
            inc_publish(m, OC_TOPIC_INCIDENT_MERGED, oc_ev_incident_build(&ev));
        inc_resolve_locked(m, inc, "oncue", "merged into an incident with the same root cause",
                           now);
        return 1;
    }
    return 0;
}
