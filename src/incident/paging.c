/*
 * paging.c - who hears about an incident: routing it to an owner through the catalog and
 * paging that team (at declaration, when its scope narrows, when its root cause is localized),
 * the escalation steps of the team's policy while nobody acknowledges, and comms reminders
 * for SEV1 and SEV2 incidents without a public update.
 */
#include "incident/incident_int.h"
#include "core/topics.h"
#include "catalog/catalog.h"

#include <stdio.h>
#include <string.h>

#define MIN_S 60

/* Makes r's service and team inc's owner and pages the team: a timeline entry and
 * incident.page. Caller holds m->mu. */
static void page(struct incident_mgr *m, struct incident *inc, const struct catalog_route *r,
                 int64_t now)
{
    char id[32];
    snprintf(inc->service, sizeof(inc->service), "%s", r->service);
    snprintf(inc->team, sizeof(inc->team), "%s", r->team);
    snprintf(inc->policy, sizeof(inc->policy), "%s", r->policy);
    const char *target = r->oncall[0] ? r->oncall : r->lead;
    inc_format_id(inc->id, id, sizeof(id));
    inc_tl_add(m, inc->id, now, "page", "oncue",
               json_pack("{s:s, s:s, s:s, s:s}", "service", r->service, "team", r->team, "target",
                         target, "policy", r->policy),
               0, "paged team %s (%s) for service %s: %s", r->team, target[0] ? target : "nobody",
               r->service, r->reason);
    struct oc_ev_incident ev = {
        .incident_id = id, .team = r->team, .target = target, .service = r->service, .at = now};
    inc_publish(m, OC_TOPIC_INCIDENT_PAGE, oc_ev_incident_build(&ev));
}

/* Routes inc to the owner of slice (the incident's, or its root cause; borrowed) through the
 * catalog and pages; when no service serves the slice, a timeline entry says who will be
 * paged instead, unless unless_team is given (then nothing happens when that team is the
 * owner, or there is none). Caller holds m->mu. */
void inc_route_and_page(struct incident_mgr *m, struct incident *inc, const json_t *slice,
                        int64_t now, const char *unless_team)
{
    struct catalog_slice cs;
    struct catalog_route r;
    const char *service = json_string_value(json_object_get(slice, "service"));
    memset(&cs, 0, sizeof(cs));
    for (int d = 0; d < BEACON_NDIMS; d++)
        cs.v[d] = json_string_value(json_object_get(slice, beacon_dim_names[d]));
    if (catalog_route_app(m->app, &cs, service, now * 1000, &r) != 0) {
        if (!unless_team)
            inc_tl_add(m, inc->id, now, "page", "oncue", NULL, 0,
                       "no owner to page yet: %s (the root cause's owner is paged once it is "
                       "localized, else the catalog's default owner)",
                       r.reason);
        return;
    }
    if (unless_team && strcmp(unless_team, r.team) == 0) {
        /* the team that owns it already: nobody is paged again, but the service named is the
         * one that serves the cause (viewers of one ISP on every CDN: isp-interconnect, not the
         * CDN whose page fired first), unless the incident was opened by a service's own
         * signal, which names it */
        if (r.service[0] && strcmp(r.service, inc->service) != 0 &&
            !json_object_get(inc->slice, "service")) {
            snprintf(inc->service, sizeof(inc->service), "%s", r.service);
            inc_tl_add(m, inc->id, now, "route", "oncue",
                       json_pack("{s:s, s:s}", "service", r.service, "team", r.team), 0,
                       "service %s owns it (team %s, paged already): %s", r.service, r.team,
                       r.reason);
        }
        return;
    }
    page(m, inc, &r, now);
}

/* Pages the catalog's default owner for inc when nothing else owns it; see incident_int.h. */
void inc_page_default(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    struct catalog_route r;
    if (inc->team[0] || inc->default_tried)
        return;
    inc->default_tried = 1;
    if (catalog_route_app(m->app, NULL, NULL, now * 1000, &r) != 0) {
        inc_tl_add(m, inc->id, now, "page", "oncue", NULL, 0, "no owner to page: %s", r.reason);
        return;
    }
    page(m, inc, &r, now);
}

/* Escalation: while triggered, sends the pages of the team's policy that are due; returns
 * how many. Caller holds m->mu. */
int inc_escalate(struct incident_mgr *m, struct incident *inc, int64_t now)
{
    struct catalog_ref ref;
    struct catalog_page pages[CATALOG_MAX_PAGES];
    int n = 0, sent = 0;
    char id[32];
    int quiet = inc_clear_since(inc) != 0; /* metrics clear: due pages lapse unsent */
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
        struct oc_ev_incident ev = {.incident_id = id,
                                    .team = pg->target,
                                    .target = pg->person[0] ? pg->person : pg->target,
                                    .at = now};
        inc_publish(m, OC_TOPIC_INCIDENT_PAGE, oc_ev_incident_build(&ev));
        sent++;
    }
    return sent;
}

/* SEV1/SEV2 without a public update 15 min after declaration: remind, then every 30 min.
 * 1 when a reminder went out. Caller holds m->mu. */
int inc_remind_comms(struct incident_mgr *m, struct incident *inc, int64_t now)
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
    struct oc_ev_incident ev = {.incident_id = id, .role = "comms", .target = comms, .at = now};
    inc_publish(m, OC_TOPIC_INCIDENT_COMMS_REMINDER, oc_ev_incident_build(&ev));
    return 1;
}
