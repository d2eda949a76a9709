/*
 * incident_int.h - the incident capability's internals, shared by its files only.
 *
 * struct incident is one incident in memory; the manager keeps all of them (the store holds
 * each as a JSON document, rewritten on every change) and appends timeline entries as it goes.
 * Locking: one plain mutex (m->mu, taken with inc_lock or inc_lock_write) around every read
 * and write of the manager's state; the store lock is taken inside it, never the other way
 * round. With several replicas on one store those also read the incidents other replicas
 * saved, and inc_lock_write takes PostgreSQL's advisory lock (model.c). Nothing
 * under it calls another capability's subscriber: what the manager publishes is queued and
 * delivered after it lets go (core/bus.h).
 */
#ifndef OC_INCIDENT_INT_H
#define OC_INCIDENT_INT_H

#include "incident/incident.h"
#include "core/clock.h"
#include "core/netguard.h"

#include <pthread.h>

#define INC_MAX_KEPT             100000 /* incidents kept in memory (and in the store) */
#define INC_NAME_MAX             128    /* person, team, service names */
#define INC_ALERT_MAX            192    /* bytes of an alert id */
#define INC_DEFAULT_OWNER_WAIT_S 60     /* an unowned incident waits this long for its root cause */
#define INC_HOLD_S               20     /* a held incident is announced after this at the latest */
#define INC_LEAVE_MINUTES                                                                          \
    2 /* closed minutes in a row an alert must go unexplained by                                   \
         its incident's cause before it leaves (regroup.c) */

enum inc_role { ROLE_COMMANDER = 0, ROLE_COMMS, ROLE_OPS, ROLE_SCRIBE, ROLE_NSINGLE };

/* One alert joined to an incident. */
struct inc_alert {
    char id[INC_ALERT_MAX]; /* "<rule>/<group key>" */
    char metric[48];        /* qoe metric name */
    char op[4];             /* ">" or "<" */
    char level[12];         /* page, notify, backlog */
    double threshold;       /* the band's edge */
    double value, peak;     /* last and worst value seen */
    int firing;             /* 1 until alert.resolved */
    int core_down;          /* the alert says a core service is down */
    int opener;             /* its metric opened the incident: the resolve rule waits for it */
    int scoped;             /* its slice, or an Alertmanager alert's labels, name a region, CDN
                               or device (the grid's "one region, CDN or device class") */
    int64_t fired_s;        /* first fired */
    int64_t cleared_s;      /* last alert.resolved (0 while firing) */
    json_t *event;          /* its last alert.fired payload (owned; NULL for one stored before
                               it was kept): what re-checking and regrouping it read */
    int unexplained;        /* closed minutes in a row the cause no longer explained it (not
                               stored: a restart counts afresh) */
};

#define INC_XC_DETAIL_MAX 640 /* bytes of a cross-check's sentence */

struct incident {
    int64_t id;
    int64_t seq; /* the change number of its row when read or saved (0: saved before them) */
    enum incident_state state;
    int sev;                         /* 1..4 */
    int sev_override;                /* grid severity when a responder overrode it (0: none) */
    json_t *slice;                   /* owned object of dimension values (union of alerts) */
    char service[INC_NAME_MAX];      /* the routed service ("" if none) */
    char team[INC_NAME_MAX];         /* the paged team */
    int default_tried;               /* inc_page_default ran (not stored: a restart tries again) */
    int held;                        /* declared, not announced yet (grouping.c; not stored: after
                                        a restart the default owner is paged) */
    char policy[INC_NAME_MAX];       /* its escalation policy */
    char title[256];                 /* public name */
    char public_status[16];          /* investigating, identified, monitoring, resolved */
    char merged_into[32];            /* "INC-4" once merged into another incident, else "" */
    int64_t published_s;             /* when the status page first showed it (0: still a draft) */
    char published_by[INC_NAME_MAX]; /* the person who published it, or "rule" */
    int test;                        /* opened by a test alert: no rule ever publishes it */
    int64_t opened_s, acked_s, mitigated_s, resolved_s, closed_s;
    int64_t last_alert_s;                   /* last alert joined or fired */
    int64_t last_public_s;                  /* last public status update (0: none) */
    int64_t last_reminder_s;                /* last comms reminder (0: none) */
    int64_t last_measure_s;                 /* last re-measurement */
    int page_step;                          /* escalation pages sent so far */
    double peak_share;                      /* largest affected share measured */
    int64_t peak_s;                         /* when */
    json_t *snap_open, *snap_peak;          /* metric snapshots (owned objects or NULL) */
    json_t *causes;                         /* rca.localized causes (owned array or NULL) */
    char xc_verdict[16];                    /* crosscheck.c: agrees, disagrees, no_data, "" */
    char xc_detail[INC_XC_DETAIL_MAX];      /* ... in words */
    int64_t xc_at;                          /* ... when (0: not yet) */
    int64_t xc_upto;                        /* ... the end of the window then (not stored) */
    json_t *xc_edge;                        /* ... the edge views compared (owned or NULL) */
    char roles[ROLE_NSINGLE][INC_NAME_MAX]; /* "" when unassigned */
    char smes[INCIDENT_MAX_SMES][INC_NAME_MAX];
    int nalerts;
    struct inc_alert alerts[INCIDENT_MAX_ALERTS];
};

struct incident_mgr {
    struct oc_app *app;
    struct incident_opts o;
    pthread_mutex_t mu;     /* plain; oc_lock/oc_unlock */
    struct incident **incs; /* n, by id */
    int n;                  /* incidents held */
    size_t cap;             /* slots in incs */
    int64_t next_id;
    int shared;                 /* several replicas on one store (app->leased): refresh */
    int64_t seq_seen;           /* the highest change number read from the store */
    int xlocked;                /* holds the store's incident lock (PostgreSQL, inc_lock_write) */
    struct incident_outbox *ob; /* owned */
    int subscribed;             /* incident_mgr_subscribe was called */
    int64_t rechecked_upto;     /* the closed minutes regroup.c last re-checked alerts up to */
    int64_t since_s;            /* the status page watches from here (uptime before: no data) */
    json_t *regroup;            /* alert.fired payloads of alerts that left their incident,
                                   grouped again one per tick (owned array; not stored) */
    struct inc_view {
        incident_view_fn *fn;
        void *arg;
    } views[INCIDENT_VIEWS_MAX]; /* view.c: first nviews in use; written only while modules
                                    start and stop, so reading needs no lock */
    int nviews;
    char *deploy_made;     /* the secret signing rollback calls made at the first start,
                              in use when incident.deploy_secret is empty (owned; wiped) */
    int64_t deploy_made_s; /* when it was made */
};

/* deploy.c */
/* With incident.deploy_secret empty: reads the secret the server made at its first start, or
 * makes and stores it (sealed), and signs rollback calls with it (m->o.deploy_secret); one
 * sealed under another key file is replaced (a warning says so). 0 or OC_EDB (err says why). */
int inc_deploy_secret_load(struct incident_mgr *m, char *err, size_t errlen);
/* Wipes and frees m->deploy_made. */
void inc_deploy_secret_free(struct incident_mgr *m);

/* model.c */
struct incident *inc_find(struct incident_mgr *m, int64_t id);
struct incident *inc_new(struct incident_mgr *m, int64_t now);
void inc_free(struct incident *inc);
/* Saves inc with the next change number: 0, OC_EDB, or OC_ECONFLICT when another replica
 * changed the row since this one read it (not saved; the next refresh reads theirs). */
int inc_save(struct incident_mgr *m, struct incident *inc);
int inc_load_all(struct incident_mgr *m);
/* Every public function takes m->mu through these. inc_lock (reads) takes m->mu; with
 * several replicas on one store (m->shared) it then reads the incidents saved since the last
 * change number this replica saw (any replica's writes), so each one answers the store's
 * incidents. inc_lock_write (changes: API actions, bus events, the tick) also takes, on
 * PostgreSQL, the store's incident lock (a session advisory lock) before reading them, so
 * the change is applied to the current incident and saved before another replica reads it:
 * no write through one replica overwrites another's. inc_unlock lets go of both. */
void inc_lock(struct incident_mgr *m);
void inc_lock_write(struct incident_mgr *m);
void inc_unlock(struct incident_mgr *m);
json_t *inc_to_json(const struct incident *inc, int full);
void inc_format_id(int64_t id, char *out, size_t n);
void inc_iso_time(int64_t s, char *out, size_t n);
const char *inc_sev_name(int sev);
int inc_is_open(const struct incident *inc);

/* timeline.c */
int inc_tl_add(struct incident_mgr *m, int64_t id, int64_t at, const char *kind, const char *actor,
               json_t *data, int pub, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
json_t *inc_tl_json(struct incident_mgr *m, int64_t id);
json_t *inc_tl_public(struct incident_mgr *m, int64_t id);
int inc_fu_add(struct incident_mgr *m, int64_t id, const char *title, const char *kind,
               const char *ref, int64_t due_s);
void inc_fu_done(struct incident_mgr *m, const char *kind, const char *ref, int64_t now);
json_t *inc_fu_json(struct incident_mgr *m, int64_t id);

/* events.c */
/* Publishes payload (stolen) on the bus and queues it in the outbox with the incident's
 * context (inc_msg_fill). Caller holds m->mu. */
void inc_publish(struct incident_mgr *m, const char *topic, json_t *payload);
/* Publishes incident.severity_changed for incident id (from and to: enum of inc_sev_name). */
void inc_publish_severity(struct incident_mgr *m, const char *id, int from, int to,
                          const char *reason, int64_t now);

/* grouping.c (every function: caller holds m->mu) */
/* alert.fired (payload p, borrowed): refresh the alert in its open incident, or join the
 * newest open incident within the grouping window whose cause explains it (inc_explains), or
 * open a new one (page and notify levels only). */
void inc_group_alert(struct incident_mgr *m, const json_t *p, int64_t now);
/* Titles inc after its root cause ("vsf_rate in device=smart_tv & drm=playready"), with a
 * timeline entry saying what the title was. */
void inc_retitle(struct incident_mgr *m, struct incident *inc, const json_t *causes, int64_t now);
/* "region=EMEA & cdn=x" for a slice object ("all viewers" when empty). */
void inc_slice_text(const json_t *slice, char *out, size_t n);
/* The open incident holding alert id, or NULL (borrowed from m). */
struct incident *inc_of_alert(struct incident_mgr *m, const char *id);
/* The alert id of inc, or NULL (borrowed from inc). */
struct inc_alert *inc_alert_find(struct incident *inc, const char *id);
/* Once inc has causes: merges it into an older open incident with a shared cause element
 * (alerts join, slice widens, inc is resolved as merged). 1 when merged, else 0. */
int inc_merge_by_cause(struct incident_mgr *m, struct incident *inc, int64_t now);
/* Announces a held incident (grouping.c): pages its slice's owner and publishes
 * incident.opened with held_s. Nothing when inc is not held. Caller holds m->mu. */
void inc_announce(struct incident_mgr *m, struct incident *inc, int64_t now);

/* 1 when obj (a slice, or an Alertmanager alert's labels) names a region, CDN or device: the
 * grid's "one region, CDN or device class" (severity.c). */
int inc_names_scope(const json_t *obj);

/* explain.c (caller holds m->mu; reads the cube and the catalog) */
struct oc_ev_alert;
/* 1 when inc's cause accounts for alert a (the rule in explain.c's file comment), else 0. */
int inc_explains(struct incident_mgr *m, const struct incident *inc, const struct oc_ev_alert *a);
/* The residual rule's arithmetic (explain.c): s = the slice's numerator and denominator over
 * the window, then those of its traffic outside the cause; below: the good side is above the
 * threshold; burn: the alert's burn rate (NAN for a threshold alert); counts: the metric is a
 * ratio of counts (starts, sessions). 1 when the cause explains the alert, else 0. */
int inc_residual_verdict(const double s[4], double threshold, int below, double burn, int counts);
/* 1 when services a and b are one, or either is in the other's blast radius (catalog). */
int inc_services_related(const struct oc_app *app, const char *a, const char *b);
/* Whether inc's cause still explains its firing alert a over the closed minutes before upto:
 * 1 yes, 0 no, -1 cannot say (an alert that was never explained by a residual: not a QoE
 * ratio, a burn rate, an Alertmanager or service alert, an incident not localized, no data).
 * *value: the alert's metric over its slice in that window (NAN when unknown). */
int inc_still_explains(struct incident_mgr *m, const struct incident *inc,
                       const struct inc_alert *a, int64_t upto, double *value /* OUT */);
/* 1 when metric is the metric of an alert that opened inc. */
int inc_opener_metric(const struct incident *inc, const char *metric);

/* regroup.c (caller holds m->mu) */
/* Once per newly closed minute (upto: the minutes before it are closed): each firing alert
 * that joined an open incident and that the incident's cause has not explained for
 * INC_LEAVE_MINUTES closed minutes in a row leaves it (timeline entries in both) and waits
 * in m->regroup to be grouped again as if it fired now (inc_regroup_next): it joins the
 * incident that explains it or opens its own. Returns how many alerts left. */
int inc_regroup(struct incident_mgr *m, int64_t upto, int64_t now);
/* Groups the oldest alert waiting in m->regroup (inc_group_alert); 1 if there was one. One a
 * tick, so that the incident the previous one opened is localized (its rca.localized is
 * delivered when the tick lets go of the lock) before the next is grouped. */
int inc_regroup_next(struct incident_mgr *m, int64_t now);
/* Drops alert_id from m->regroup (it resolved while waiting). */
void inc_regroup_drop(struct incident_mgr *m, const char *alert_id);

/* paging.c (every function: caller holds m->mu) */
/* Routes inc to the owner of slice (borrowed) and pages that team, unless it is unless_team. */
void inc_route_and_page(struct incident_mgr *m, struct incident *inc, const json_t *slice,
                        int64_t now, const char *unless_team);
/* When inc still has no owner (neither its slice nor its root cause routes to a service),
 * makes the catalog's default_owner its owner and pages it; says so on the timeline when the
 * catalog names none. Once per incident. Caller holds m->mu. */
void inc_page_default(struct incident_mgr *m, struct incident *inc, int64_t now);
/* Sends the escalation pages that are due while inc is triggered; returns how many. */
int inc_escalate(struct incident_mgr *m, struct incident *inc, int64_t now);
/* Reminds the comms role of a SEV1/SEV2 without a recent public update; 1 when it did. */
int inc_remind_comms(struct incident_mgr *m, struct incident *inc, int64_t now);

/* tick.c (every function: caller holds m->mu) */
/* Since when every alert on the metrics that opened inc is clear; 0 while one fires. */
int64_t inc_clear_since(const struct incident *inc);
/* Resolves inc at now (timeline snapshots, saved, incident.resolved): 0 or OC_EDB. */
int inc_resolve_locked(struct incident_mgr *m, struct incident *inc, const char *actor,
                       const char *why, int64_t now);
/* 1 when the resolve rule holds for inc at now (it may be resolved without force). */
int inc_recovered(const struct incident_mgr *m, const struct incident *inc, int64_t now);

/* publish.c (caller holds m->mu) */
/* Publishes inc on the status page at now by actor ("rule" for the severity rule) with a
 * timeline entry saying who and why (how: "" or a few words); saved. 0, OC_ECONFLICT (already
 * published) or OC_EDB. */
int inc_publish_locked(struct incident_mgr *m, struct incident *inc, const char *actor,
                       const char *how, int64_t now);
/* Publishes inc by its severity's rule when that is due at now (open, not a test, not yet
 * published, incident.publish_sevN_after_s elapsed since it opened); 1 when it did. */
int inc_publish_by_rule(struct incident_mgr *m, struct incident *inc, int64_t now);

/* status.c: the status page's components */
#define INC_COMPONENTS_MAX 64 /* components a status page lists */

/* One status page component. */
struct inc_comp {
    char name[128];  /* its public name */
    int worst;       /* the worst severity of the open incidents on it (0: none) */
    int64_t changed; /* the last time an incident on it opened, changed or resolved (0: never) */
    int maintenance; /* a maintenance on it is in progress */
};

struct inc_comps {
    struct inc_comp c[INC_COMPONENTS_MAX];
    int n;
};

struct catalog;
/* The public component name of service (into out), from the catalog cat (NULL: none); ""
 * when unknown. Never the service's own name. */
void inc_public_component(const struct catalog *cat, const char *service, char *out, size_t n);
/* The components (into cs): "Video playback" first, then every public component of cat's
 * services in catalog order, then any an incident names beyond those; statuses from the
 * open incidents. Caller holds m->mu. */
void inc_comps_build(struct incident_mgr *m, const struct catalog *cat, struct inc_comps *cs);
/* A stable id for a component name: 12 hex digits of its 64-bit FNV-1a hash. */
void inc_comp_id(const char *name, char *out, size_t n);
/* 1 when the status page shows inc: published and SEV1-SEV3. */
int inc_status_shown(const struct incident *inc);

/* A component as Statuspage shows it (position pos, 1-based; since: the time shown when no
 * incident touched it). New reference. */
json_t *inc_comp_json(const struct inc_comp *c, int pos, int64_t since);

/* maint.c (caller holds m->mu) */
#define INC_MAINT_LISTED 50 /* maintenances scheduled-maintenances.json lists, newest first */
enum inc_maint_which {
    MAINT_ALL,      /* the INC_MAINT_LISTED newest windows */
    MAINT_UPCOMING, /* scheduled: not started */
    MAINT_ACTIVE,   /* in progress */
    MAINT_CURRENT,  /* upcoming and in progress (summary.json) */
};
/* The maintenances of which as Statuspage shows them, newest window first (new reference);
 * marks the components of cs under one in progress (maintenance = 1). base: the page URL. */
json_t *inc_maint_json(struct incident_mgr *m, struct inc_comps *cs, const char *base, int64_t now,
                       enum inc_maint_which which);

/* subscribe.c (caller holds m->mu) */
/* Tells the status page's webhook subscribers about inc (type "incident.published",
 * "incident.updated", "incident.resolved"; nothing for a draft or a SEV4) or, with inc NULL,
 * about maint (borrowed; "maintenance.scheduled", "maintenance.deleted"): data is {"page",
 * "incident" | "scheduled_maintenance"} as the public status API shows them. */
void inc_status_notify(struct incident_mgr *m, const char *type, const struct incident *inc,
                       const json_t *maint);
/* status.c: {"page": {id, status_indicator, status_description}} with inc (NULL: none) as
 * "incident" as incidents.json shows it. New reference. Caller holds m->mu. */
json_t *inc_status_payload(struct incident_mgr *m, const struct incident *inc);

/* Tells the status page's subscribers about maintenances that started or completed by now
 * ("maintenance.updated"), each once; returns how many. */
int inc_maint_tick(struct incident_mgr *m, int64_t now);

/* uptime.c */
#define INC_UPTIME_DAYS 90 /* days of uptime a component shows */
/* The uptime of each component of cs (same order) over the INC_UPTIME_DAYS UTC days up to
 * now, from m's published incidents (cat: their public components): [{id, name,
 * uptime_percentage, days: [{date, status, major_outage_minutes, partial_outage_minutes,
 * degraded_performance_minutes}] oldest first}]. New reference. Caller holds m->mu. */
/* Where the uptime's observed minutes start: the window's first day, or the installation's
 * first start when later. */
int64_t inc_uptime_from(const struct incident_mgr *m, int64_t now);
json_t *inc_uptime_json(struct incident_mgr *m, const struct inc_comps *cs,
                        const struct catalog *cat, int64_t now);

/* severity.c */
int inc_measure(struct incident_mgr *m, struct incident *inc, int64_t now,
                struct incident_impact *imp);
void inc_reclassify(struct incident_mgr *m, struct incident *inc, int64_t now);
json_t *inc_snapshot(const struct incident *inc, const struct incident_impact *imp, int64_t now);

struct incident_outbox {
    struct oc_app *app;
    pthread_mutex_t deliver_mu; /* one deliverer at a time */
    struct oc_netguard guard;   /* private ranges deliveries may still reach */
};

/* message.c: an incident event with the incident around it, as notifications show it. */
struct inc_msg {
    const char *topic;     /* incident.* */
    const json_t *payload; /* the bus payload (borrowed) */
    int found;             /* the incident was found: the fields below are filled */
    char id[32], severity[8], state[16], title[256];
    char service[INC_NAME_MAX], team[INC_NAME_MAX], oncall[INC_NAME_MAX];
    char slice[512];       /* "region=EMEA & cdn=x" */
    char metric[48];       /* the opening alert's metric ("" when none) */
    char runbook[1024];    /* the service's runbook from the catalog ("" when none) */
    char url[1200];        /* the incident in the console ("" without incident.public_url) */
    char status_url[1200]; /* the public status page (same) */
    char detail[1024];     /* what this event adds ("Paged erin of cdn-ops.") */
};
/* Fills msg for topic and payload p (borrowed; must outlive msg). Caller holds m->mu. */
void inc_msg_fill(struct incident_mgr *m, const char *topic, const json_t *p,
                  struct inc_msg *msg /* OUT */);
/* The one-line text of msg ("[oncue] INC-3 opened SEV2: <title> team <team>"). */
void inc_msg_line(const struct inc_msg *msg, char *out, size_t n);
/* The body sent to an endpoint of kind (new reference), or NULL when kind ignores the topic.
 * PagerDuty's routing_key is left "" (the outbox adds it at send time). */
json_t *inc_msg_body(const char *kind, const struct inc_msg *msg, int64_t now);

/* outbox.c */
/* Creates the outbox; allow: the ranges of incident.outbound_allow (NULL: none). 0, or
 * OC_EINVAL / OC_ETOOBIG with err naming the setting, or OC_EIO. */
int inc_outbox_new(struct oc_app *app, const char *allow, struct incident_outbox **out, char *err,
                   size_t errlen);
void inc_outbox_destroy(struct incident_outbox *ob);
void inc_outbox_enqueue(struct incident_outbox *ob, const struct inc_msg *msg);
/* Queues one call of a catalog service's deploy webhook: the endpoint "deploy/SERVICE" (kind
 * "deploy", not sent incident events; made, updated or re-enabled here) gets the body
 * {"type", "timestamp", "data"}, signed per Standard Webhooks when secret is set. Committed
 * before returning: 0, OC_EINVAL (not an http(s) URL) or OC_EDB. */
int inc_outbox_deploy(struct incident_outbox *ob, const char *service, const char *url,
                      const char *secret, const char *type, const json_t *data);
/* 1 when a status page subscription (an endpoint of kind "status") is live. */
int inc_outbox_has_status(struct incident_outbox *ob);
/* Queues {"type", "timestamp", "data": data (borrowed)} for every live status page
 * subscription, signed per Standard Webhooks at delivery; committed before returning. */
void inc_outbox_status(struct incident_outbox *ob, const char *type, const json_t *data);
int inc_outbox_load_file(struct incident_outbox *ob, const char *path, char *err, size_t errlen);

/* status.c: appends s to b escaped for HTML and XML text and attribute values (< > & "), and
 * the string member k of o ("" when absent or not a string); the page and the feed share them. */
void inc_esc(struct oc_buf *b, const char *s);
const char *inc_jstr(const json_t *o, const char *k);

/* severity.c: the metric over slice (its beacon-dimension members) from from to to: the whole
 * range (step 0), or point k of steps of step seconds; NAN without data. */
double inc_query_value(struct qoe_cube *c, int metric /* enum qoe_metric */, const json_t *slice,
                       int64_t from, int64_t to, int64_t step, int k);

/* crosscheck.c: compares the CDN logs' edge metrics of inc's slice with the hour before (the
 * runbook's "confirm with an independent source"), from 3 minutes after it opened and then
 * every 5 minutes; keeps the verdict on inc and writes it on the timeline when it changes.
 * upto: the end of the complete minutes. Returns 1 when it looked again (inc changed: save
 * it), else 0. Caller holds m->mu. */
int inc_crosscheck(struct incident_mgr *m, struct incident *inc, int64_t upto, int64_t now);

#endif
