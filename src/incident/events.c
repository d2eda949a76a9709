/*
 * events.c - the bus adapters of the incident manager: what it publishes (inc_publish) and
 * what each subscribed topic does: alerts firing (grouped by grouping.c) and clearing,
 * mitigations (with the rollback's deploy webhook call) and steering policy changes on the
 * timeline, root causes landing on the incident (merge or page their owner).
 */
#include "incident/incident_int.h"
#include "core/lock.h"
#include "core/topics.h"
#include "qoe/qoe.h"
#include "core/bus.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void inc_publish_severity(struct incident_mgr *m, const char *id, int from, int to,
                          const char *reason, int64_t now)
{
    struct oc_ev_incident ev = {.incident_id = id,
                                .from = inc_sev_name(from),
                                .severity = inc_sev_name(to),
                                .reason = reason,
                                .at = now};
    inc_publish(m, OC_TOPIC_INCIDENT_SEVERITY_CHANGED, oc_ev_incident_build(&ev));
}

void inc_publish(struct incident_mgr *m, const char *topic, json_t *payload)
{
    if (m->app->bus)
        oc_bus_publish(m->app->bus, topic, payload);
    if (m->ob) {
        struct inc_msg *msg = oc_malloc(sizeof *msg); /* about 6 KiB: not on the stack */
        inc_msg_fill(m, topic, payload, msg);
        inc_outbox_enqueue(m->ob, msg);
        free(msg);
    }
    json_decref(payload);
}

/* alert.resolved: the alert is back inside its band. */
static void on_resolved(struct incident_mgr *m, const json_t *p, int64_t now)
{
    const char *aid = json_string_value(json_object_get(p, "alert_id"));
    struct incident *inc = aid ? inc_of_alert(m, aid) : NULL;
    struct inc_alert *a = inc ? inc_alert_find(inc, aid) : NULL;
    if (aid)
        inc_regroup_drop(m, aid); /* it resolved before it was grouped again */
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

/* A rollback (applied or reverted) is sent, through the outbox, to the deploy webhook that
 * steer resolved from the catalog and put in the record p ("deploy_webhook", or
 * "deploy_unresolved" / "rollback_doc" when there is none: core/topics.h); what happened is
 * written into out for the timeline. */
static void deploy_call(struct incident_mgr *m, const json_t *p, int applied, char *out, size_t n)
{
    const json_t *spec = json_object_get(p, "spec"), *hook = json_object_get(p, "deploy_webhook");
    const char *name = json_string_value(json_object_get(spec, "service"));
    const char *why = json_string_value(json_object_get(p, "deploy_unresolved"));
    const char *doc = json_string_value(json_object_get(p, "rollback_doc"));
    const char *url = json_string_value(hook);
    if (!name)
        return;
    if (why)
        snprintf(out, n, "; %s, so no deploy webhook was called", why);
    else if (json_is_null(hook) || (url && !url[0]))
        snprintf(out, n, "; %s has no deploy_webhook in the catalog: roll back by hand%s%s", name,
                 doc ? " per " : "", doc ? doc : "");
    if (!url || !url[0])
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
    struct oc_ev_mitigation mi;
    char ref[32], id[32], deploy[768] = "";
    oc_ev_mitigation_read(p, &mi);
    snprintf(ref, sizeof(ref), "%lld", (long long)mi.id);
    if (strcmp(mi.kind, "rollback") == 0)
        deploy_call(m, p, applied, deploy, sizeof(deploy));
    if (!applied)
        inc_fu_done(m, "mitigation", ref, now);
    for (int i = 0; i < m->n; i++) {
        struct incident *inc = m->incs[i];
        if (inc->state == INCIDENT_CLOSED || (applied && !inc_is_open(inc)) ||
            !spec_matches(mi.spec, inc))
            continue;
        inc_tl_add(m, inc->id, now, "mitigation", mi.actor, json_deep_copy(p), 0,
                   "mitigation #%s (%s) %s%s", ref, mi.kind[0] ? mi.kind : "?",
                   applied ? "applied" : "reverted", deploy);
        if (!applied)
            continue;
        const char *title = json_string_value(json_object_get(mi.followup, "title"));
        int64_t due = json_integer_value(json_object_get(mi.followup, "due_ms")) / 1000;
        inc_fu_add(m, inc->id, title ? title : "Remove or make permanent the mitigation",
                   "mitigation", ref, due ? due : now + m->o.followup_hours * 3600);
        if (inc->state < INCIDENT_MITIGATED) {
            inc->state = INCIDENT_MITIGATED;
            inc->mitigated_s = now;
            inc_format_id(inc->id, id, sizeof(id));
            struct oc_ev_incident ev = {.incident_id = id, .at = now};
            inc_publish(m, OC_TOPIC_INCIDENT_MITIGATED, oc_ev_incident_build(&ev));
        }
        inc_save(m, inc);
    }
}

/* steer.policy_changed: a new base steering policy goes on every open incident's timeline. */
static void on_policy(struct incident_mgr *m, const json_t *p, int64_t now)
{
    struct oc_ev_policy ev;
    char order[256] = "";
    size_t i;
    const json_t *v;
    oc_ev_policy_read(p, &ev);
    json_array_foreach(json_object_get(ev.policy, "pathways"), i, v)
    {
        size_t len = strlen(order);
        snprintf(order + len, sizeof(order) - len, "%s%s", i ? "," : "",
                 json_is_string(v) ? json_string_value(v) : "?");
    }
    for (int k = 0; k < m->n; k++) {
        struct incident *inc = m->incs[k];
        if (!inc_is_open(inc))
            continue;
        inc_tl_add(m, inc->id, now, "steering", ev.actor[0] ? ev.actor : "oncue", json_deep_copy(p),
                   0, "steering policy replaced: default order %s, %zu rule(s), %zu flag(s)",
                   order[0] ? order : "(none)",
                   json_array_size(json_object_get(ev.policy, "rules")),
                   json_array_size(json_object_get(ev.policy, "flags")));
    }
}

/* tickets.linked: a cluster of support tickets joined an incident; its timeline says how many
 * (the tickets capability publishes it; incident does not include tickets/). */
static void on_tickets(struct incident_mgr *m, const json_t *p, int64_t now)
{
    const char *id = json_string_value(json_object_get(p, "incident_id"));
    int64_t n = 0;
    struct incident *inc = id && incident_id_parse(id, &n) == 0 ? inc_find(m, n) : NULL;
    const char *sym = json_string_value(json_object_get(p, "symptom"));
    if (!inc)
        return;
    inc_tl_add(m, inc->id, now, "tickets", "tickets", json_deep_copy(p), 0,
               "%lld support tickets linked (cluster %lld%s%s)",
               (long long)json_integer_value(json_object_get(p, "tickets")),
               (long long)json_integer_value(json_object_get(p, "cluster_id")),
               sym && sym[0] ? ": " : "", sym && sym[0] ? sym : "");
}

/* 1 when causes (inc's, just localized) account for the alert that opened inc, by the rule
 * grouping follows (explain.c); an incident opened by something else has nothing to check. */
static int causes_fit_opener(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    const struct inc_alert *a = inc->nalerts > 0 && inc->alerts[0].opener ? &inc->alerts[0] : NULL;
    if (!a || !qoe_metric_find(a->metric))
        return 1;
    struct oc_ev_alert ev = {.alert_id = a->id,
                             .metric = a->metric,
                             .level = a->level,
                             .source = "oncue",
                             .kind = "threshold",
                             .op = a->op,
                             .summary = "",
                             .slice = inc->slice,
                             .value = a->value,
                             .threshold = a->threshold,
                             .window_s = 180,
                             .at = now};
    return inc_explains(m, inc, &ev);
}

/* rca.localized: the causes go on the incident and its timeline. Causes that do not account
 * for the opening alert (a localization thrown off by another fault in its history) give way
 * to the alert's own group, which is then the cause grouping, merging and routing use. */
static void on_rca(struct incident_mgr *m, const json_t *p, int64_t now)
{
    int64_t id;
    struct oc_ev_rca ev;
    struct incident *inc;
    oc_ev_rca_read(p, &ev);
    const json_t *causes = ev.causes;
    if (incident_id_parse(ev.incident_id, &id) || !(inc = inc_find(m, id)) ||
        !json_is_array(causes))
        return;
    json_decref(inc->causes);
    inc->causes = json_deep_copy(causes);
    inc_tl_add(m, inc->id, now, "rca", "oncue", json_deep_copy(p), 0,
               "root cause localized: %zu element(s)", json_array_size(causes));
    if (json_array_size(causes) > 0 && json_object_size(inc->slice) > 0 &&
        !causes_fit_opener(m, inc, now)) {
        json_t *el = json_object();
        for (int d = 0; d < BEACON_NDIMS; d++)
            if (json_object_get(inc->slice, beacon_dim_names[d]))
                json_object_set(el, beacon_dim_names[d],
                                json_object_get(inc->slice, beacon_dim_names[d]));
        json_decref(inc->causes);
        inc->causes =
            json_pack("[{s:o, s:f, s:s}]", "element", el, "score", 1.0, "source", "alert");
        causes = inc->causes;
        inc_tl_add(m, inc->id, now, "rca", "oncue", json_deep_copy(inc->causes), 0,
                   "the localized elements do not account for alert %s; its group stands as the "
                   "cause",
                   inc->alerts[0].id);
    }
    if (inc_is_open(inc) && inc_merge_by_cause(m, inc, now))
        return;                /* saved as resolved: a duplicate pages nobody more */
    inc_announce(m, inc, now); /* held for this answer, and not taken */
    if (inc_is_open(inc))
        inc_retitle(m, inc, causes, now);
    /* the owner of the (first) cause is paged too unless it owns inc already; with no owner
     * either way, the catalog's default owner */
    if (inc_is_open(inc) && json_array_size(causes) > 0)
        inc_route_and_page(m, inc, json_object_get(json_array_get(causes, 0), "element"), now,
                           inc->team);
    if (inc_is_open(inc))
        inc_page_default(m, inc, now);
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
        inc_group_alert(m, p, now);
        return;
    }
    json_t *q = json_deep_copy(p);
    if (!json_is_object(json_object_get(q, "slice")))
        json_object_set_new(q, "slice", json_object());
    json_object_set(json_object_get(q, "slice"), "service", (json_t *)svc);
    inc_group_alert(m, q, now);
    json_decref(q);
}

/* Applies one bus event under m->mu; payload is borrowed (see incident.h). */
void incident_on_event(struct incident_mgr *m, const char *topic, const json_t *payload)
{
    int64_t now = oc_clock_now_s(m->app->clock);
    if (!json_is_object(payload))
        return;
    inc_lock_write(m); /* with replicas: on the store's current incidents, one at a time */
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
    else if (strcmp(topic, OC_TOPIC_TICKETS_LINKED) == 0)
        on_tickets(m, payload, now);
    inc_unlock(m);
}
