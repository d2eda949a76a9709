/*
 * topics.h - every bus topic, its payload, and the builders and readers of the payloads that
 * more than one capability reads.
 *
 * A topic is named here once; publishers and subscribers use the constant. The payload of
 * each is a JSON object with the fields listed beside it (times are unix seconds). Where a
 * payload is read outside its publisher, oc_ev_* builds and reads it, so the two sides
 * cannot drift apart. See docs/ARCHITECTURE.md for who publishes and who listens; every
 * topic also has its row in core/events.c (docs/events.md), which check-docs.sh checks.
 */
#ifndef OC_CORE_TOPICS_H
#define OC_CORE_TOPICS_H

#include <jansson.h>
#include <stdint.h>

/* alert: {alert_id, rule, metric, slice, value, threshold, op, level, window_s, since, at,
 * source, summary} (struct oc_ev_alert) */
#define OC_TOPIC_ALERT_FIRED    "alert.fired"
#define OC_TOPIC_ALERT_RESOLVED "alert.resolved"
/* incident: opened {incident_id, alert_ids, severity, slice, title, metric, at}
 * (struct oc_ev_incident_opened); the others are struct oc_ev_incident:
 * acknowledged {incident_id, alert_ids, by, at}; resolved and mitigated {incident_id, at};
 * merged {incident_id, into, cause, at}; page {incident_id, team, target, [service], at};
 * comms_reminder {incident_id, role, target, at}; severity_changed {incident_id, from,
 * severity, reason, at}; status_update {incident_id, status, body, at}; timeline {incident_id,
 * kind, at}: any entry added to the timeline (notes, roles, follow-ups included), so that a
 * console showing it can refetch; heard by the web module only (no webhook).
 * held: the fields of opened, for an incident declared but not announced yet: an older open
 * incident, opened by a service's own signal and not localized, may take it once rca names
 * its cause (incident/grouping.c). Heard by rca, which localizes it; nobody is paged or told.
 * When it is not taken it is announced by incident.opened with held_s (the seconds it
 * waited), which rca does not localize again. */
#define OC_TOPIC_INCIDENT_OPENED           "incident.opened"
#define OC_TOPIC_INCIDENT_HELD             "incident.held"
#define OC_TOPIC_INCIDENT_ACKNOWLEDGED     "incident.acknowledged"
#define OC_TOPIC_INCIDENT_RESOLVED         "incident.resolved"
#define OC_TOPIC_INCIDENT_MITIGATED        "incident.mitigated"
#define OC_TOPIC_INCIDENT_MERGED           "incident.merged"
#define OC_TOPIC_INCIDENT_PAGE             "incident.page"
#define OC_TOPIC_INCIDENT_COMMS_REMINDER   "incident.comms_reminder"
#define OC_TOPIC_INCIDENT_SEVERITY_CHANGED "incident.severity_changed"
#define OC_TOPIC_INCIDENT_STATUS_UPDATE    "incident.status_update"
#define OC_TOPIC_INCIDENT_TIMELINE         "incident.timeline"
/* rca: {incident_id, metric, causes, candidates, note, onset, changes, ...} built by
 * rca_localize_cube (rca/hook.c), read with oc_ev_rca_read */
#define OC_TOPIC_RCA_LOCALIZED "rca.localized"
/* steer: mitigation applied/reverted {id, kind, spec, actor, created_ms, state, reverted_ms,
 * followup {id, title, due_ms}} built by steer's record_json (steer/mitigate.c), read with
 * oc_ev_mitigation_read; policy_changed {actor, policy} (read with oc_ev_policy_read) */
/* A rollback's record (kind "rollback", spec.service) also says where the rollback goes, as
 * steer resolved it from the catalog when it was applied or reverted: "deploy_webhook" is the
 * service's URL (incident queues rollback.requested / rollback.reverted for it), or null when
 * the catalog names none ("rollback_doc": the runbook URL, when the catalog has one); instead,
 * "deploy_unresolved" says why there is none ("no catalog is loaded", "S is not in the
 * catalog"). No field at all when steer runs without the module (no resolver). */
#define OC_TOPIC_MITIGATION_APPLIED   "mitigation.applied"
#define OC_TOPIC_MITIGATION_REVERTED  "mitigation.reverted"
#define OC_TOPIC_STEER_POLICY_CHANGED "steer.policy_changed"
/* probe (src/probe/): failed {stream, service, kind, pathway, detail, at} when a fault kind
 * (stale, went_back, changed_same_sequence, shrank, parse_error, http_status, unreachable,
 * segment_too_long, segment_missing, origins_disagree, discontinuity_mismatch,
 * publish_time_stale) is first seen on a stream; recovered {stream, service, kind, detail,
 * since, at} once it has not been seen for probe.recovery_polls whole polls; URLs in detail are
 * cut after the host (a probed URL is often signed). See
 * docs/internals/probe.md. */
#define OC_TOPIC_PROBE_FAILED    "probe.failed"
#define OC_TOPIC_PROBE_RECOVERED "probe.recovered"
/* scrape (src/scrape/): failed {target, service, rule, metric, level, op, value, threshold,
 * detail, at} when a rule on a scraped target's series has held for its for_s, or (rule
 * "down", metric "up") when scrape.down_after scrapes in a row failed; recovered {target,
 * service, rule, metric, detail, since, at} once it no longer holds for its clear_for_s (down:
 * at the first scrape that reads). See docs/internals/scrape.md. */
#define OC_TOPIC_SCRAPE_FAILED    "scrape.failed"
#define OC_TOPIC_SCRAPE_RECOVERED "scrape.recovered"
/* rca changes: {id, time, service, kind, ...} */
#define OC_TOPIC_CHANGE_RECORDED "change.recorded"
/* tickets: linked {incident_id, cluster_id, tickets, service, symptom, region, at}: a cluster
 * of near-duplicate support tickets was linked to an open incident (tickets/link.c); the
 * incident records it on its timeline. */
#define OC_TOPIC_TICKETS_LINKED "tickets.linked"

/* Where an event goes (struct oc_event_doc.reach). */
#define OC_EV_BUS    1u /* published on the bus, so event subscriptions (automation) may name it */
#define OC_EV_NOTIFY 2u /* the incident's notification endpoints receive it */
#define OC_EV_DEPLOY 4u /* a catalog service's deploy webhook only (not on the bus) */
#define OC_EV_STATUS 8u /* status page subscribers only (not on the bus) */

/* One event type: every topic above and the types only webhooks carry. */
struct oc_event_doc {
    const char *type; /* "alert.fired" */
    const char *from; /* the capability that emits it */
    unsigned reach;   /* OC_EV_* bits */
    const char *what; /* when it is emitted: a sentence, Markdown */
    const char *data; /* the fields of its payload (a webhook's data), Markdown */
};

/* Every event type, ending in {0} (src/core/events.c). */
extern const struct oc_event_doc oc_event_docs[];
struct oc_buf;
/* Writes docs/events.md (`oncue docs events`) from oc_event_docs into b. */
void oc_events_doc(struct oc_buf *b);

/* alert.fired / alert.resolved. Built by the alert engine and the Alertmanager intake; the
 * strings, slice and labels are borrowed (from the builder's caller, or from the payload
 * read, valid while it is). */
struct oc_ev_alert {
    const char *alert_id; /* "rule/group key", or "am/FINGERPRINT" */
    const char *rule;
    const char *metric;   /* a qoe metric name, or the Alertmanager alert's name */
    const char *level;    /* page, notify, backlog */
    const char *source;   /* "oncue" or "alertmanager" */
    const char *kind;     /* "threshold", "burn_rate" (value and threshold are burn rates of
                             the metric's SLO) or "alertmanager"; "" when absent */
    const char *op;       /* ">" or "<" */
    const char *summary;  /* one line for humans */
    const json_t *slice;  /* {dim: value}; {} for the whole population */
    const json_t *labels; /* Alertmanager's labels; NULL for oncue's own alerts */
    double value;         /* the group's value now; NAN: none (null in JSON) */
    double threshold;     /* NAN: none */
    int64_t window_s;     /* how long the condition held before firing */
    int64_t since, at;    /* firing since; this event's time */
};

/* Builds the payload (new reference; the caller frees it). */
json_t *oc_ev_alert_build(const struct oc_ev_alert *ev);
/* Reads an alert payload into out: absent strings read "", absent numbers NAN (value,
 * threshold) or 0, absent objects NULL. 0, or -1 when alert_id is missing (out still
 * filled). */
int oc_ev_alert_read(const json_t *p, struct oc_ev_alert *out /* OUT */);

/* incident.opened: what an incident is about, for rca, alert and the outbound endpoints. */
struct oc_ev_incident_opened {
    const char *incident_id;
    const char *severity; /* SEV1 .. SEV4 */
    const char *title;
    const char *metric;      /* the opening alert's metric ("" when unknown) */
    const json_t *slice;     /* the incident's slice */
    const json_t *alert_ids; /* array of strings */
    int64_t at;              /* declared at */
};

/* Builds the payload (new reference; the caller frees it). */
json_t *oc_ev_incident_opened_build(const struct oc_ev_incident_opened *ev);
/* Reads it (fields borrowed from p); 0, or -1 when incident_id is missing. */
int oc_ev_incident_opened_read(const json_t *p, struct oc_ev_incident_opened *out /* OUT */);

/* Every incident.* topic but opened: which fields each sets is listed with the topics above;
 * the builder leaves out NULL fields, the reader gives "" for absent strings. */
struct oc_ev_incident {
    const char *incident_id;
    const json_t *alert_ids;                    /* acknowledged: array of strings */
    const char *by;                             /* acknowledged: who */
    const char *team, *role, *target, *service; /* page, comms_reminder */
    const char *into, *cause;                   /* merged */
    const char *from, *severity, *reason;       /* severity_changed */
    const char *status, *body;                  /* status_update */
    const char *kind;                           /* timeline: the entry's kind */
    int64_t at;
};

/* Builds the payload (new reference; the caller frees it). */
json_t *oc_ev_incident_build(const struct oc_ev_incident *ev);
/* Reads it (fields borrowed from p); 0, or -1 when incident_id is missing (out still filled). */
int oc_ev_incident_read(const json_t *p, struct oc_ev_incident *out /* OUT */);

/* rca.localized, as the incident capability and the drill read it (borrowed from p). */
struct oc_ev_rca {
    const char *incident_id;
    const char *metric;   /* what was localized */
    const json_t *causes; /* array of {element: {dim: value}, score, ...}, best first */
    const char *note;     /* "" when none */
    int64_t onset;        /* start of the aggregate's move */
};

/* Reads it; 0, or -1 when incident_id is missing (out still filled). */
int oc_ev_rca_read(const json_t *p, struct oc_ev_rca *out /* OUT */);

/* mitigation.applied / mitigation.reverted (borrowed from p). */
struct oc_ev_mitigation {
    int64_t id;
    const char *kind; /* shift-cdn, flag, rollback, backup-origin, ... */
    const char *actor;
    const char *state;      /* active or reverted */
    const json_t *spec;     /* the request: region, from, to, service, ... */
    const json_t *followup; /* {id, title, due_ms} */
};

/* Reads it; 0, or -1 when id is missing (out still filled). */
int oc_ev_mitigation_read(const json_t *p, struct oc_ev_mitigation *out /* OUT */);

/* steer.policy_changed (borrowed from p). */
struct oc_ev_policy {
    const char *actor;
    const json_t *policy; /* the new base policy document */
};

/* Reads it; 0, or -1 when policy is missing (out still filled). */
int oc_ev_policy_read(const json_t *p, struct oc_ev_policy *out /* OUT */);

/* The steering policy in force, for the capabilities that follow it without including steer/
 * (probe: streams whose URL names {pathway}; qoe: ingest.cdns and ingest.regions=steering);
 * the builtin module provides it under OC_PROVIDES_POLICY_HOST. Changes arrive as
 * steer.policy_changed. */
struct oc_app;
struct oc_policy_host {
    /* The base steering policy document (new reference), or NULL without steering. */
    json_t *(*policy)(struct oc_app *app);
    /* The regions of steering's region map (steer.geoip_regions, else the built-in map),
     * comma-separated (the caller frees it), or NULL without steering. */
    char *(*regions)(struct oc_app *app);
};
#define OC_PROVIDES_POLICY_HOST "steer.policy_host"

#endif
