/*
 * lifecycle.c - what the bus drives: alerts opening or joining incidents, alerts clearing,
 * mitigations and root causes landing on the timeline; and the timed rules of incident_tick
 * (re-classification, the resolve rule, escalation pages, comms reminders).
 *
 * An alert joins an open incident whose slice overlaps its own (same region, CDN or service,
 * or one service in the other's blast radius), or whose localized root cause explains it (same
 * metric as an opener, a cause element that does not contradict its slice), and which opened
 * within the grouping window; otherwise it opens a new incident, routed to an owner through the
 * catalog. Once the root cause is localized, its owner is paged too when it is not already the
 * incident's owner (a region has no owner; a DRM failure first seen on one player build is
 * the DRM team's).
 */
#include "incident/incident_int.h"
#include "core/lock.h"
#include "core/topics.h"
#include "catalog/catalog.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/log.h"
#include "qoe/qoe.h"

#include <stdio.h>
#include <string.h>

#define MIN_S 60

/* Publishes payload (stolen) on the bus and queues it for the outbound endpoints. */
void inc_publish(struct incident_mgr *m, const char *topic, json_t *payload)
{
    if (m->app->bus)
        oc_bus_publish(m->app->bus, topic, payload);
    if (m->ob)
        inc_outbox_enqueue(m->ob, topic, payload);
    json_decref(payload);
}

static json_t *alert_ids(const struct incident *inc)
{
    json_t *a = json_array();
    for (int i = 0; i < inc->nalerts; i++)
        json_array_append_new(a, json_string(inc->alerts[i].id));
    return a;
}

static int same_key(const json_t *a, const json_t *b, const char *key)
{
    const char *x = json_string_value(json_object_get(a, key));
    const char *y = json_string_value(json_object_get(b, key));
    return x && y && strcmp(x, y) == 0;
}

/* 1 when service a is in the blast radius of b (a depends on b, transitively). */
static int in_blast(const struct oc_app *app, const char *a, const char *b)
{
    struct catalog_ref ref;
    struct catalog_blast bl;
    int hit = 0;
    if (!a || !b || catalog_get(app, &ref) != 0)
        return 0;
    if (catalog_blast_radius(ref.cat, b, &bl) == 0) {
        for (int i = 0; i < bl.services.n; i++)
            hit |= strcmp(bl.services.v[i], a) == 0;
        catalog_blast_free(&bl);
    }
    catalog_put(&ref);
    return hit;
}

/* The overlap rule of grouping (see the file comment); a global slice overlaps everything. */
static int slices_overlap(const struct oc_app *app, const json_t *a, const json_t *b)
{
    if (json_object_size(a) == 0 || json_object_size(b) == 0)
        return 1;
    if (same_key(a, b, "region") || same_key(a, b, "cdn") || same_key(a, b, "service"))
        return 1;
    const char *sa = json_string_value(json_object_get(a, "service"));
    const char *sb = json_string_value(json_object_get(b, "service"));
    return in_blast(app, sa, sb) || in_blast(app, sb, sa);
}

static struct inc_alert *find_alert(struct incident *inc, const char *id)
{
    for (int i = 0; i < inc->nalerts; i++)
        if (strcmp(inc->alerts[i].id, id) == 0)
            return &inc->alerts[i];
    return NULL;
}

/* The open incident already holding alert id, or NULL. */
static struct incident *incident_of_alert(struct incident_mgr *m, const char *id)
{
    for (int i = m->n - 1; i >= 0; i--)
        if (inc_is_open(m->incs[i]) && find_alert(m->incs[i], id))
            return m->incs[i];
    return NULL;
}

int incident_find_alert(struct incident_mgr *m, const char *alert_id, int64_t *id)
{
    oc_lock(&m->mu);
    struct incident *inc = alert_id ? incident_of_alert(m, alert_id) : NULL;
    if (inc)
        *id = inc->id;
    oc_unlock(&m->mu);
    return inc ? 0 : OC_ENOTFOUND;
}

static void alert_fill(struct inc_alert *a, const json_t *p, int64_t now)
{
    const char *s;
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
    if (!a->firing)
        a->fired_s = now;
    a->firing = 1;
    a->cleared_s = 0;
}

/* Routes inc to the owner of slice (the incident's, or its root cause) through the catalog
 * and pages; a timeline entry either way unless unless_team is given. */
static void route_and_page(struct incident_mgr *m, struct incident *inc, const json_t *slice,
                           int64_t now, const char *unless_team)
{
    struct catalog_slice cs;
    struct catalog_route r;
    const char *service = json_string_value(json_object_get(slice, "service"));
    char id[32];
    memset(&cs, 0, sizeof(cs));
    for (int d = 0; d < BEACON_NDIMS; d++)
        cs.v[d] = json_string_value(json_object_get(slice, beacon_dim_names[d]));
    if (catalog_route_app(m->app, &cs, service, now * 1000, &r) != 0) {
        if (!unless_team)
            inc_tl_add(m, inc->id, now, "page", "oncue", NULL, 0, "no owner to page: %s", r.reason);
        return;
    }
    if (unless_team && strcmp(unless_team, r.team) == 0)
        return;
    snprintf(inc->service, sizeof(inc->service), "%s", r.service);
    snprintf(inc->team, sizeof(inc->team), "%s", r.team);
    snprintf(inc->policy, sizeof(inc->policy), "%s", r.policy);
    const char *target = r.oncall[0] ? r.oncall : r.lead;
    inc_format_id(inc->id, id, sizeof(id));
    inc_tl_add(m, inc->id, now, "page", "oncue",
               json_pack("{s:s, s:s, s:s, s:s}", "service", r.service, "team", r.team, "target",
                         target, "policy", r.policy),
               0, "paged team %s (%s) for service %s: %s", r.team, target[0] ? target : "nobody",
               r.service, r.reason);
    inc_publish(m, OC_TOPIC_INCIDENT_PAGE,
                json_pack("{s:s, s:s, s:s, s:s, s:I}", "incident_id", id, "team", r.team, "target",
                          target, "service", r.service, "at", (json_int_t)now));
}

static void slice_text(const json_t *slice, char *out, size_t n)
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

/* Opens a new incident for the alert in payload. Caller holds m->mu. */
static void open_incident(struct incident_mgr *m, const json_t *p, const char *aid, int64_t now)
{
    struct incident_impact imp;
    char why[160], id[32], where[200];
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
    struct inc_alert *a = &inc->alerts[inc->nalerts++];
    snprintf(a->id, sizeof(a->id), "%s", aid);
    alert_fill(a, p, now);
    a->opener = 1;
    slice_text(inc->slice, where, sizeof(where));
    snprintf(inc->title, sizeof(inc->title), "%s in %s", a->metric[0] ? a->metric : "alert", where);
    inc_measure(m, inc, now, &imp);
    inc->sev = incident_classify(&m->o.grid, &imp, why, sizeof(why));
    inc->snap_open = inc_snapshot(inc, &imp, now);
    inc->snap_peak = inc_snapshot(inc, &imp, now);
    inc->peak_share = imp.affected_share;
    inc->peak_s = inc->last_measure_s = now;
    inc_format_id(inc->id, id, sizeof(id));
    inc_tl_add(m, inc->id, now, "alert", "oncue", json_deep_copy(p), 0, "alert %s fired: %s", aid,
               summary ? summary : inc->title);
    inc_tl_add(m, inc->id, now, "declared", "oncue", json_incref(inc->snap_open), 0,
               "incident declared %s: %s (%.1f%% of viewers affected)", inc_sev_name(inc->sev), why,
               imp.affected_share * 100);
    route_and_page(m, inc, inc->slice, now, NULL);
    inc_save(m, inc);
    json_t *ids = alert_ids(inc);
    struct oc_ev_incident_opened ev = {.incident_id = id,
                                       .severity = inc_sev_name(inc->sev),
                                       .title = inc->title,
                                       .metric = json_string_value(json_object_get(p, "metric")),
                                       .slice = inc->slice,
                                       .alert_ids = ids,
                                       .at = now};
    inc_publish(m, OC_TOPIC_INCIDENT_OPENED, oc_ev_incident_opened_build(&ev));
    json_decref(ids);
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

/* A joining alert with a narrower slice narrows the incident's scope; when that changes the
 * owner, the new owner is paged too. */
static void maybe_narrow(struct incident_mgr *m, struct incident *inc, const json_t *slice,
                         int64_t now)
{
    char where[200], team[INC_NAME_MAX];
    if (!slice || !narrower(inc->slice, slice))
        return;
    json_decref(inc->slice);
    inc->slice = json_deep_copy(slice);
    slice_text(inc->slice, where, sizeof(where));
    inc_tl_add(m, inc->id, now, "scope", "oncue", json_deep_copy(slice), 0, "scope narrowed to %s",
               where);
    snprintf(team, sizeof(team), "%s", inc->team);
    route_and_page(m, inc, inc->slice, now, team);
}

/* 1 when metric is the metric of an alert that opened inc. */
static int opener_metric(const struct incident *inc, const char *metric)
{
    for (int i = 0; i < inc->nalerts; i++)
        if (inc->alerts[i].opener && strcmp(inc->alerts[i].metric, metric) == 0)
            return 1;
    return 0;
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

/* 1 when inc's localized root cause explains an alert on metric in slice: the metric opened
 * inc and some cause element fits the slice (a DRM failing on smart TVs raises the start
 * failures of every region: one incident, not one per region). */
static int explained(const struct incident *inc, const char *metric, const json_t *slice)
{
    size_t i;
    json_t *c;
    if (!metric || !opener_metric(inc, metric) || !json_is_array(inc->causes))
        return 0;
    json_array_foreach(inc->causes, i, c)
    {
        if (cause_fits(json_object_get(c, "element"), slice))
            return 1;
    }
    return 0;
}

/* alert.fired: refresh, join or open. */
static void on_fired(struct incident_mgr *m, const json_t *p, int64_t now)
{
    const char *aid = json_string_value(json_object_get(p, "alert_id"));
    const json_t *slice = json_object_get(p, "slice");
    const char *metric = json_string_value(json_object_get(p, "metric"));
    struct incident *inc;
    if (!aid || (slice && !json_is_object(slice)))
        return;
    if ((inc = incident_of_alert(m, aid)) != NULL) {
        struct inc_alert *a = find_alert(inc, aid);
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
    for (int i = m->n - 1; i >= 0; i--) {
        inc = m->incs[i];
        if (!inc_is_open(inc) || now - inc->opened_s > m->o.group_window_s ||
            !(slices_overlap(m->app, inc->slice, slice) || explained(inc, metric, slice)))
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
        a->opener = opener_metric(inc, a->metric) && opens_incident(a->level);
        inc->last_alert_s = now;
        inc_tl_add(m, inc->id, now, "alert", "oncue", json_deep_copy(p), 0,
                   "alert %s joined the incident", aid);
        maybe_narrow(m, inc, slice, now);
        inc_reclassify(m, inc, now);
        inc_save(m, inc);
        return;
    }
    if (opens_incident(json_string_value(json_object_get(p, "level"))))
        open_incident(m, p, aid, now);
}

/* alert.resolved: the alert is back inside its band. */
static void on_resolved(struct incident_mgr *m, const json_t *p, int64_t now)
{
    const char *aid = json_string_value(json_object_get(p, "alert_id"));
    struct incident *inc = aid ? incident_of_alert(m, aid) : NULL;
    struct inc_alert *a = inc ? find_alert(inc, aid) : NULL;
    if (!a || !a->firing)
        return;
    a->firing = 0;
    a->cleared_s = now;
    if (json_is_number(json_object_get(p, "value")))
        a->value = json_number_value(json_object_get(p, "value"));
    inc_tl_add(m, inc->id, now, "alert", "oncue", json_deep_copy(p), 0,
               "alert %s resolved: %s back inside its band", aid, a->metric);
    inc_save(m, inc);
}

static int spec_matches(const json_t *spec, const struct incident *inc)
{
    const char *r = json_string_value(json_object_get(spec, "region"));
    const char *ir = json_string_value(json_object_get(inc->slice, "region"));
    return !r || !ir || strcmp(r, ir) == 0;
}

/* A rollback (applied or reverted) is sent to the deploy webhook the catalog names for its
 * service, through the outbox; what happened is written into out for the timeline. */
static void deploy_call(struct incident_mgr *m, const json_t *p, int applied, char *out, size_t n)
{
    struct catalog_ref ref;
    const struct catalog_service *svc;
    const json_t *spec = json_object_get(p, "spec");
    const char *name = json_string_value(json_object_get(spec, "service"));
    char url[2048] = "";
    if (!name)
        return;
    if (catalog_get(m->app, &ref) != 0) {
        snprintf(out, n, "; no catalog is loaded, so no deploy webhook was called");
        return;
    }
    svc = catalog_service_find(ref.cat, name);
    if (svc && svc->deploy_webhook)
        snprintf(url, sizeof(url), "%s", svc->deploy_webhook);
    if (!svc)
        snprintf(out, n, "; %s is not in the catalog, so no deploy webhook was called", name);
    else if (!url[0])
        snprintf(out, n, "; %s has no deploy_webhook in the catalog: roll back by hand%s%s", name,
                 svc->rollback_doc ? " per " : "", svc->rollback_doc ? svc->rollback_doc : "");
    catalog_put(&ref);
    if (!url[0])
        return;
    json_t *data =
        json_pack("{s:O, s:s, s:O, s:O}", "mitigation_id", json_object_get(p, "id"), "service",
                  name, "actor", json_object_get(p, "actor"), "reason",
                  json_object_get(spec, "reason") ? json_object_get(spec, "reason") : json_null());
    int rc = data ? inc_outbox_deploy(m->ob, name, url, m->o.deploy_secret,
                                      applied ? "rollback.requested" : "rollback.reverted", data)
                  : OC_EINVAL;
    json_decref(data);
    if (rc)
        snprintf(out, n, "; the call of %s's deploy webhook could not be queued (%s)", name,
                 oc_strerror(rc));
    else
        snprintf(out, n, "; sent to %s's deploy webhook %.512s", name, url);
}

/* mitigation.applied / mitigation.reverted: on the timeline of the matching open incidents. */
static void on_mitigation(struct incident_mgr *m, const json_t *p, int applied, int64_t now)
{
    const json_t *spec = json_object_get(p, "spec"), *fu = json_object_get(p, "followup");
    const char *mkind = json_string_value(json_object_get(p, "kind"));
    char ref[32], id[32], deploy[768] = "";
    snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(json_object_get(p, "id")));
    if (mkind && strcmp(mkind, "rollback") == 0)
        deploy_call(m, p, applied, deploy, sizeof(deploy));
    if (!applied)
        inc_fu_done(m, "mitigation", ref, now);
    for (int i = 0; i < m->n; i++) {
        struct incident *inc = m->incs[i];
        if (inc->state == INCIDENT_CLOSED || (applied && !inc_is_open(inc)) ||
            !spec_matches(spec, inc))
            continue;
        const char *kind = json_string_value(json_object_get(p, "kind"));
        inc_tl_add(m, inc->id, now, "mitigation", json_string_value(json_object_get(p, "actor")),
                   json_deep_copy(p), 0, "mitigation #%s (%s) %s%s", ref, kind ? kind : "?",
                   applied ? "applied" : "reverted", deploy);
        if (!applied)
            continue;
        const char *title = json_string_value(json_object_get(fu, "title"));
        int64_t due = json_integer_value(json_object_get(fu, "due_ms")) / 1000;
        inc_fu_add(m, inc->id, title ? title : "Remove or make permanent the mitigation",
                   "mitigation", ref, due ? due : now + m->o.followup_hours * 3600);
        if (inc->state < INCIDENT_MITIGATED) {
            inc->state = INCIDENT_MITIGATED;
            inc->mitigated_s = now;
            inc_format_id(inc->id, id, sizeof(id));
            inc_publish(m, OC_TOPIC_INCIDENT_MITIGATED,
                        json_pack("{s:s, s:I}", "incident_id", id, "at", (json_int_t)now));
        }
        inc_save(m, inc);
    }
}

/* steer.policy_changed: a new base steering policy goes on every open incident's timeline. */
static void on_policy(struct incident_mgr *m, const json_t *p, int64_t now)
{
    const json_t *pol = json_object_get(p, "policy");
    const char *actor = json_string_value(json_object_get(p, "actor"));
    char order[256] = "";
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(pol, "pathways"), i, v)
    {
        size_t len = strlen(order);
        snprintf(order + len, sizeof(order) - len, "%s%s", i ? "," : "",
                 json_is_string(v) ? json_string_value(v) : "?");
    }
    for (int k = 0; k < m->n; k++) {
        struct incident *inc = m->incs[k];
        if (!inc_is_open(inc))
            continue;
        inc_tl_add(m, inc->id, now, "steering", actor && actor[0] ? actor : "oncue",
                   json_deep_copy(p), 0,
                   "steering policy replaced: default order %s, %zu rule(s), %zu flag(s)",
                   order[0] ? order : "(none)", json_array_size(json_object_get(pol, "rules")),
                   json_array_size(json_object_get(pol, "flags")));
    }
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

/* Once inc is localized: when an older open incident, opened within the group window, has
 * the same root cause, inc is a duplicate (one cause seen through another metric or region:
 * origin-stall's exits before start in EMEA next to its rebuffering in NA). Its alerts join
 * the older incident, whose slice widens to cover both and whose severity is re-measured
 * (never lowered); inc is resolved as merged. 1 when merged. */
static int merge_by_cause(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    char id[32], into_id[32], cause[256] = "";
    for (int i = 0; i < m->n; i++) {
        struct incident *into = m->incs[i];
        if (into == inc || into->id > inc->id || !inc_is_open(into) ||
            inc->opened_s - into->opened_s > m->o.group_window_s ||
            !causes_shared(into->causes, inc->causes))
            continue;
        int moved = 0;
        for (int k = 0; k < inc->nalerts && into->nalerts < INCIDENT_MAX_ALERTS; k++)
            if (!find_alert(into, inc->alerts[k].id)) {
                into->alerts[into->nalerts++] = inc->alerts[k]; /* openers stay openers */
                moved++;
            }
        widen_slice(into, inc->slice);
        if (inc->sev < into->sev && !into->sev_override)
            into->sev = inc->sev;
        slice_text(json_object_get(json_array_get(inc->causes, 0), "element"), cause,
                   sizeof(cause));
        inc_format_id(inc->id, id, sizeof(id));
        inc_format_id(into->id, into_id, sizeof(into_id));
        inc_tl_add(m, into->id, now, "merge", "oncue", NULL, 0,
                   "%s (%s) merged into this incident: same root cause %s; %d alert(s) joined", id,
                   inc->title, cause, moved);
        inc_tl_add(m, inc->id, now, "merge", "oncue", NULL, 1, "merged into %s: same root cause %s",
                   into_id, cause);
        inc->last_alert_s = now;
        inc_reclassify(m, into, now);
        inc_save(m, into);
        inc_publish(m, OC_TOPIC_INCIDENT_MERGED,
                    json_pack("{s:s, s:s, s:s, s:I}", "incident_id", id, "into", into_id, "cause",
                              cause, "at", (json_int_t)now));
        inc_resolve_locked(m, inc, "oncue", "merged into an incident with the same root cause",
                           now);
        return 1;
    }
    return 0;
}

/* rca.localized: the causes go on the incident and its timeline. */
static void on_rca(struct incident_mgr *m, const json_t *p, int64_t now)
{
    int64_t id;
    const json_t *causes = json_object_get(p, "causes");
    struct incident *inc;
    if (incident_id_parse(json_string_value(json_object_get(p, "incident_id")), &id) ||
        !(inc = inc_find(m, id)) || !json_is_array(causes))
        return;
    json_decref(inc->causes);
    inc->causes = json_deep_copy(causes);
    inc_tl_add(m, inc->id, now, "rca", "oncue", json_deep_copy(p), 0,
               "root cause localized: %zu element(s)", json_array_size(causes));
    if (inc_is_open(inc) && merge_by_cause(m, inc, now))
        return; /* saved as resolved: a duplicate pages nobody more */
    /* the owner of the (first) cause is paged too unless it owns inc already */
    if (inc_is_open(inc) && json_array_size(causes) > 0)
        route_and_page(m, inc, json_object_get(json_array_get(causes, 0), "element"), now,
                       inc->team);
    inc_save(m, inc);
}

/* An Alertmanager alert names its service in labels.service (not a beacon dimension, so
 * not in its slice): it is added to the slice, for grouping and routing by service. */
static void on_fired_labels(struct incident_mgr *m, const json_t *p, int64_t now)
{
    const json_t *svc = json_object_get(json_object_get(p, "labels"), "service");
    const json_t *slice = json_object_get(p, "slice");
    if (!json_is_string(svc) || (slice && !json_is_object(slice)) ||
        json_object_get(slice, "service")) {
        on_fired(m, p, now);
        return;
    }
    json_t *q = json_deep_copy(p);
    if (!json_is_object(json_object_get(q, "slice")))
        json_object_set_new(q, "slice", json_object());
    json_object_set(json_object_get(q, "slice"), "service", (json_t *)svc);
    on_fired(m, q, now);
    json_decref(q);
}

void incident_on_event(struct incident_mgr *m, const char *topic, const json_t *payload)
{
    int64_t now = oc_clock_now_s(m->app->clock);
    if (!json_is_object(payload))
        return;
    oc_lock(&m->mu);
    if (strcmp(topic, OC_TOPIC_ALERT_FIRED) == 0)
        on_fired_labels(m, payload, now);
    else if (strcmp(topic, OC_TOPIC_ALERT_RESOLVED) == 0)
        on_resolved(m, payload, now);
    else if (strcmp(topic, OC_TOPIC_MITIGATION_APPLIED) == 0)
        on_mitigation(m, payload, 1, now);
    else if (strcmp(topic, OC_TOPIC_MITIGATION_REVERTED) == 0)
        on_mitigation(m, payload, 0, now);
    else if (strcmp(topic, OC_TOPIC_RCA_LOCALIZED) == 0)
        on_rca(m, payload, now);
    else if (strcmp(topic, OC_TOPIC_STEER_POLICY_CHANGED) == 0)
        on_policy(m, payload, now);
    oc_unlock(&m->mu);
}

/* The time since which every alert on the metrics that opened inc has been clear, or 0
 * while one of them fires. Alerts on other metrics that joined later (a slow burn-rate
 * window, say) are context: they do not hold the incident open. */
static int64_t clear_since(const struct incident *inc)
{
    int64_t since = 0;
    for (int i = 0; i < inc->nalerts; i++) {
        if (!inc->alerts[i].opener)
            continue;
        if (inc->alerts[i].firing)
            return 0;
        if (inc->alerts[i].cleared_s > since)
            since = inc->alerts[i].cleared_s;
    }
    return since;
}

/* 1 when the resolve rule holds at now: every alert clear for the recovery window. */
static int recovered(const struct incident_mgr *m, const struct incident *inc, int64_t now)
{
    int64_t since = clear_since(inc);
    return since && now - since >= m->o.recovery_window_s;
}

/* Escalation: while triggered, sends the pages of the team's policy that are due. */
static int escalate(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    struct catalog_ref ref;
    struct catalog_page pages[CATALOG_MAX_PAGES];
    int n = 0, sent = 0;
    char id[32];
    int quiet = clear_since(inc) != 0; /* metrics clear: due pages lapse unsent */
    if (inc->state != INCIDENT_TRIGGERED || !inc->policy[0] || catalog_get(m->app, &ref) != 0)
        return 0;
    if (catalog_escalation_plan(ref.cat, inc->policy, inc->opened_s * 1000, pages,
                                CATALOG_MAX_PAGES, &n) != 0)
        n = 0;
    catalog_put(&ref);
    inc_format_id(inc->id, id, sizeof(id));
    while (inc->page_step < n && pages[inc->page_step].at_ms <= now * 1000) {
        const struct catalog_page *pg = &pages[inc->page_step++];
        if (quiet || pg->at_ms <= inc->opened_s * 1000)
            continue; /* the first step went out when the incident opened */
        inc_tl_add(m, inc->id, now, "page", "oncue", NULL, 0,
                   "not acknowledged: escalated to step %d: %s%s%s%s", pg->step + 1, pg->target,
                   pg->person[0] && strcmp(pg->person, pg->target) ? " (" : "",
                   pg->person[0] && strcmp(pg->person, pg->target) ? pg->person : "",
                   pg->person[0] && strcmp(pg->person, pg->target) ? ")" : "");
        inc_publish(m, OC_TOPIC_INCIDENT_PAGE,
                    json_pack("{s:s, s:s, s:s, s:I}", "incident_id", id, "team", pg->target,
                              "target", pg->person[0] ? pg->person : pg->target, "at",
                              (json_int_t)now));
        sent++;
    }
    return sent;
}

/* SEV1/SEV2 without a public update 15 min after declaration: remind, then every 30 min. */
static int remind_comms(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    int64_t due = inc->last_public_s ? inc->last_public_s + 30 * MIN_S : inc->opened_s + 15 * MIN_S;
    char id[32];
    if (inc->sev > 2 || now < due ||
        (inc->last_reminder_s && now < inc->last_reminder_s + 30 * MIN_S))
        return 0;
    inc->last_reminder_s = now;
    const char *comms = inc->roles[ROLE_COMMS][0] ? inc->roles[ROLE_COMMS] : "";
    inc_format_id(inc->id, id, sizeof(id));
    inc_tl_add(m, inc->id, now, "reminder", "oncue", NULL, 0,
               "no public status update for %lld min: comms (%s) please post one",
               (long long)((now - (inc->last_public_s ? inc->last_public_s : inc->opened_s)) / 60),
               comms[0] ? comms : "unassigned");
    inc_publish(m, OC_TOPIC_INCIDENT_COMMS_REMINDER,
                json_pack("{s:s, s:s, s:s, s:I}", "incident_id", id, "role", "comms", "target",
                          comms, "at", (json_int_t)now));
    return 1;
}

int incident_tick(struct incident_mgr *m)
{
    int64_t now = oc_clock_now_s(m->app->clock);
    int changes = 0;
    oc_lock(&m->mu);
    for (int i = 0; i < m->n; i++) {
        struct incident *inc = m->incs[i];
        if (!inc_is_open(inc))
            continue;
        if (recovered(m, inc, now)) {
            inc_resolve_locked(m, inc, "oncue",
                               "metrics back inside their band for the recovery window", now);
            changes++;
            continue;
        }
        if (now - inc->last_measure_s >= m->o.reclassify_s && clear_since(inc) == 0) {
            int before = inc->sev;
            inc_reclassify(m, inc, now);
            changes += inc->sev != before;
        }
        int c = escalate(m, inc, now) + remind_comms(m, inc, now);
        if (c)
            inc_save(m, inc);
        changes += c;
    }
    oc_unlock(&m->mu);
    return changes;
}

/* Resolves inc at now with a snapshot at resolution. Caller holds m->mu. */
int inc_resolve_locked(struct incident_mgr *m, struct incident *inc, const char *actor,
                       const char *why, int64_t now)
{
    struct incident_impact imp;
    char id[32];
    inc_measure(m, inc, now, &imp);
    inc->state = INCIDENT_RESOLVED;
    inc->resolved_s = now;
    snprintf(inc->public_status, sizeof(inc->public_status), "resolved");
    char pk[32];
    inc_iso_time(inc->peak_s, pk, sizeof(pk));
    inc_tl_add(m, inc->id, now, "snapshot", "oncue", json_incref(inc->snap_peak), 0,
               "peak: %.1f%% of viewers affected (%.0f concurrent) at %s", inc->peak_share * 100,
               json_number_value(json_object_get(inc->snap_peak, "viewers")), pk);
    inc_tl_add(m, inc->id, now, "resolved", actor, inc_snapshot(inc, &imp, now), 0,
               "incident resolved: %s (now %.1f%% of viewers in the slice)", why,
               imp.affected_share * 100);
    int rc = inc_save(m, inc);
    inc_format_id(inc->id, id, sizeof(id));
    inc_publish(m, OC_TOPIC_INCIDENT_RESOLVED,
                json_pack("{s:s, s:I}", "incident_id", id, "at", (json_int_t)now));
    return rc;
}

/* 1 when inc may be resolved now without force (used by incident_resolve). */
int inc_recovered(const struct incident_mgr *m, const struct incident *inc, int64_t now)
{
    return recovered(m, inc, now);
}
