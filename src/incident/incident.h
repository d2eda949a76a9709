/*
 * incident.h - incidents: opened or joined by firing alerts, classified by the severity grid,
 * worked through a lifecycle with roles, an append-only timeline, a resolve rule, a durable
 * notification outbox, a public status page and a blameless post-incident review.
 *
 * The incident manager (struct incident_mgr) subscribes to "alert.fired", "alert.resolved",
 * "mitigation.applied", "mitigation.reverted" and "rca.localized" on the bus and publishes
 * "incident.*". All time comes from the injected clock; incident_tick() runs the timed rules
 * (re-classification, resolve rule, escalation, comms reminders). See docs/internals/incident.md.
 */
#ifndef OC_INCIDENT_INCIDENT_H
#define OC_INCIDENT_INCIDENT_H

#include "core/module.h"
#include "core/opt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define INCIDENT_MAX_OPEN     1000 /* incidents not yet resolved */
#define INCIDENT_MAX_ALERTS   64   /* alerts joined to one incident */
#define INCIDENT_MAX_TEXT     4096 /* bytes of a note, reason or status update */
#define INCIDENT_MAX_SMES     8    /* subject-matter experts on one incident */
#define INCIDENT_PAGE_DEFAULT 100  /* GET /v1/incidents: incidents per page without ?limit= */
#define INCIDENT_PAGE_MAX     1000 /* ... and the largest ?limit= (>= INCIDENT_MAX_OPEN) */

enum incident_state {
    INCIDENT_TRIGGERED = 0,
    INCIDENT_ACKNOWLEDGED,
    INCIDENT_MITIGATED,
    INCIDENT_RESOLVED,
    INCIDENT_CLOSED,
};

/* "triggered", "acknowledged", ... */
const char *incident_state_name(enum incident_state s);

/* --- severity.c: the grid as a pure function --- */

/* What the severity grid looks at; shares are fractions in [0, 1]. */
struct incident_impact {
    double affected_share;     /* viewers affected (rebuffering or not starting) / all viewers */
    double viewers;            /* concurrent viewers affected (0 when not measured) */
    double cannot_start_share; /* viewers who cannot start / all viewers */
    double global_rebuffer;    /* global rebuffer ratio, now */
    int64_t global_rebuffer_s; /* seconds the global rebuffer ratio has been above the line */
    int core_down;             /* a core service is down with no workaround */
    int scope_broken;          /* one region, CDN or device class is broken (a paging alert) */
    int viewer_visible;        /* 0: visible on dashboards only (backlog-level alerts) */
    /* What affected_share and viewers are made of, when measured on the cube (0 otherwise):
     * the slice's share of viewers, its concurrent viewers, and the shares of them
     * rebuffering and failing to start. An incident about one of the two counts that one
     * alone (inc_measure): a start-failure incident open while the origin stalls is not
     * what stalls the viewers. */
    double slice_share, slice_viewers, rebuffering, failing;
};

/* The thresholds of the grid (docs/contracts.md "Severity grid" defaults; configurable). */
struct incident_grid {
    double sev1_cannot_start; /* 0.25 */
    double sev1_rebuffer;     /* 0.15 */
    int64_t sev1_rebuffer_s;  /* 120 */
    double sev2_affected;     /* 0.05 */
};

/* Fills g with the defaults of docs/contracts.md "Severity grid" (the incident.sev*
 * settings' defaults). */
void incident_grid_default(struct incident_grid *g);
/* The severity 1..4 the grid gives impact (first matching row of a static table). When why is
 * not NULL, the matching row's description is written there. */
int incident_classify(const struct incident_grid *g, const struct incident_impact *imp, char *why,
                      size_t whylen);

/* Measures impact for an alert slice (a JSON object of dimension values) at now_s; fills *out
 * and returns 0, or OC_ENOTFOUND when there is nothing to measure. */
typedef int incident_measure_fn(void *arg, const json_t *slice, int64_t now_s,
                                struct incident_impact *out /* OUT */);
struct qoe_cube;
/* Measures over cube c (NULL: nothing to measure): in_slice = the slice's share of concurrent
 * viewers over the 5 closed minutes before now_s; affected_share = in_slice x the larger of
 * the slice's share of viewers rebuffering and its VSF + EBVS rates (3 latest minutes);
 * cannot_start_share = in_slice x (VSF + EBVS); how long the global rebuffer ratio has been
 * above g's SEV1 line. 0 or OC_ENOTFOUND (no data). */
int incident_measure_cube(struct qoe_cube *c, const struct incident_grid *g, const json_t *slice,
                          int64_t now_s, struct incident_impact *out);

/* --- sign.c: Standard Webhooks --- */

/* At most this many secrets sign one message (a key rotation needs two). */
#define WEBHOOK_SECRETS_MAX 4

/* Writes "v1,<base64 HMAC-SHA256 of id.ts.body>" with secret ("whsec_" + base64, or bare
 * base64) into out (n >= 64). secret may hold up to WEBHOOK_SECRETS_MAX secrets separated by
 * spaces (during a key rotation): out then holds one signature per secret, space-separated
 * (about 50 bytes each). 0 or OC_EINVAL (no secret, one undecodable, too many, out too small). */
int incident_webhook_sign(const char *secret, const char *msg_id, int64_t ts, const char *body,
                          size_t len, char *out, size_t n);
/* Verifies a webhook-signature header (space-separated entries) with one secret at now_s
 * with a 300 s tolerance: 0, or OC_EAUTH. */
int incident_webhook_verify(const char *secret, const char *msg_id, const char *ts_text,
                            const char *body, size_t len, const char *header, int64_t now_s);

/* --- the manager --- */

struct incident_mgr;

struct incident_opts {
    int64_t group_window_s;    /* alerts join an open incident younger than this */
    int64_t recovery_window_s; /* metrics clear this long before resolving */
    int64_t followup_hours;    /* deadline of follow-up items */
    int64_t reclassify_s;      /* how often impact is re-measured */
    struct incident_grid grid;
    incident_measure_fn *measure; /* NULL: incident_measure_cube on the app's cube */
    void *measure_arg;
    const char *webhooks_file;  /* YAML or JSON list of endpoints, or NULL */
    const char *public_url;     /* status page base URL, for links ("" if none) */
    const char *deploy_secret;  /* signs rollback calls to deploy webhooks; NULL/"": a secret
                                   made at the first start and kept sealed in the store */
    const char *outbound_allow; /* private ranges deliveries may reach (NULL/"": none) */
    int64_t publish_after_s[5]; /* by severity (1..3 used): seconds after opening a rule
                                   publishes an incident on the status page; -1 never */
};

/* The incident module's settings (incident.*) over struct incident_opts, ending in {0}. */
extern const struct oc_setting incident_settings[];
/* Fills o with the defaults of the settings. */
void incident_opts_default(struct incident_opts *o);

/* Creates a manager over app (store required, bus and clock used) and loads open incidents.
 * 0 or OC_EDB / OC_EINVAL (err says why). Free with incident_mgr_destroy. The incident
 * module subscribes it through its subs table; a host without the module
 * (a test) calls incident_mgr_subscribe. */
int incident_mgr_new(struct oc_app *app, const struct incident_opts *o,
                     struct incident_mgr **out /* OUT */, char *err, size_t errlen);
void incident_mgr_destroy(struct incident_mgr *m);
/* The secret signing rollback calls, for admins (new reference): {"source": "generated",
 * "secret": "whsec_...", "created": ISO time} when the server made it (incident.deploy_secret
 * empty), else {"source": "incident.deploy_secret", "secret": null, "created": null}: a
 * configured secret is not repeated. */
json_t *incident_deploy_secret_json(struct incident_mgr *m);

/* Runs the timed rules at the clock's now: re-classification, resolve rule, escalation pages,
 * comms reminders. Returns the number of changes made. */
int incident_tick(struct incident_mgr *m);

/* The name the incident module provides its manager under (struct oc_app). */
#define INCIDENT_PROVIDES "incident"
/* The manager of app's running incident module, or NULL when it does not run. */
struct incident_mgr *incident_mgr_of(const struct oc_app *app);

/* Subscribes m to the topics of the incident module's subs table (alert fired and resolved,
 * mitigations, rca.localized, steering policy changes) on its app's bus, undone by
 * incident_mgr_destroy: for hosts that run a manager without the module. 0 or OC_ETOOBIG. */
int incident_mgr_subscribe(struct incident_mgr *m);

/* Applies one bus event as if published (used by the subscriptions and by tests). */
void incident_on_event(struct incident_mgr *m, const char *topic, const json_t *payload);

/* Actions of responders; actor is the token name. Each appends to the timeline, returns 0 or
 * OC_ENOTFOUND, OC_EINVAL (reason in err), OC_ECONFLICT (wrong state), OC_EDB. */
int incident_ack(struct incident_mgr *m, int64_t id, const char *actor);
int incident_note(struct incident_mgr *m, int64_t id, const char *actor, const char *text);
/* role: "commander", "comms", "ops", "sme" or "scribe"; person NULL or "" releases. */
int incident_role(struct incident_mgr *m, int64_t id, const char *actor, const char *role,
                  const char *person, char *err, size_t errlen);
/* A public status update: status "investigating", "identified", "monitoring" or "resolved". */
int incident_status_update(struct incident_mgr *m, int64_t id, const char *actor,
                           const char *status, const char *body, char *err, size_t errlen);
/* Resolves: refused with OC_ECONFLICT while the metrics are not clear for the recovery window,
 * unless force with a non-empty reason (OC_EINVAL without). */
int incident_resolve(struct incident_mgr *m, int64_t id, const char *actor, int force,
                     const char *reason, char *err, size_t errlen);
/* Overrides the severity (1..4) with a reason (required). */
int incident_set_severity(struct incident_mgr *m, int64_t id, const char *actor, int sev,
                          const char *reason, char *err, size_t errlen);
/* Adds a follow-up action item with a deadline (unix seconds, after now); title 1 to
 * INCIDENT_MAX_TEXT bytes. */
int incident_followup_add(struct incident_mgr *m, int64_t id, const char *actor, const char *title,
                          int64_t due_s, char *err, size_t errlen);
/* Publishes a draft incident on the status page (a new incident is a draft until a person
 * or its severity's rule publishes it): 0, OC_ENOTFOUND, OC_ECONFLICT (already published,
 * with who and when in err) or OC_EDB. */
int incident_publish(struct incident_mgr *m, int64_t id, const char *actor, char *err,
                     size_t errlen);
/* Closes a resolved incident. */
int incident_close(struct incident_mgr *m, int64_t id, const char *actor);

/* Reads; the caller owns the JSON. */
/* Every incident matching state_filter (NULL: any; "open": not resolved or closed; else a
 * state's name: "resolved"), newest first. For in-process readers (reports, gates); the API
 * pages with incident_page_json. */
json_t *incident_list_json(struct incident_mgr *m, const char *state_filter);
/* One page of that list: at most limit (>= 1) incidents matching state_filter whose ids are
 * below before (0: from the newest), newest first. *next is the id to pass as before for the
 * following page, or 0 when no incident matching the filter is left below this page. Only
 * the page's incidents are turned into JSON under the manager's lock (the rest is a walk over
 * their states); ids never change and new ones are higher, so pages taken by before neither
 * repeat nor skip an incident while others open. The caller owns the array. */
json_t *incident_page_json(struct incident_mgr *m, const char *state_filter, int64_t before,
                           int limit, int64_t *next /* OUT */);
/* What GET /v1/incidents asks for besides its state. */
struct incident_page_req {
    int limit;      /* 1..INCIDENT_PAGE_MAX */
    int64_t before; /* the page starts below this id (0: from the newest) */
};
/* Parses the query values limit and before (NULL when absent; state as given, NULL too) of
 * GET /v1/incidents into out: limit digits from 1 to INCIDENT_PAGE_MAX (default
 * INCIDENT_PAGE_DEFAULT, and INCIDENT_PAGE_MAX with state "open", so that list is whole),
 * before an incident id ("INC-7" or "7"). 0, or OC_EINVAL with err (errlen bytes, owned by
 * the caller) starting with the parameter's name ("limit: ..."). */
int incident_page_parse(const char *state, const char *limit, const char *before,
                        struct incident_page_req *out /* OUT */, char *err, size_t errlen);
/* One incident with its timeline, roles, alerts and follow-ups; OC_ENOTFOUND. */
int incident_get_json(struct incident_mgr *m, int64_t id, json_t **out /* OUT */);
/* --- view.c: what other capabilities add to the incident API's JSON --- */

#define INCIDENT_VIEWS_MAX 4 /* contributors of one manager */

/* Adds members to each object of incidents (a JSON array of incident_list_json or
 * incident_get_json objects, borrowed; an object's "id" is its number). Called by the
 * incident API's routes on an HTTP worker holding no lock, so it may take its own module's
 * lock and read the incident manager. */
typedef void incident_view_fn(void *arg, json_t *incidents);
/* Registers fn with arg (owned by the caller, which removes it before freeing arg) on m, so
 * a capability above incident (tickets: the linked tickets) shows in the incident's JSON
 * without incident including it. Call while modules start (before the HTTP workers run): 0
 * or OC_ETOOBIG. */
int incident_view_add(struct incident_mgr *m, incident_view_fn *fn, void *arg);
/* Removes what incident_view_add registered with fn and arg (a no-op when nothing was); call
 * while modules stop (after the HTTP workers stopped). */
void incident_view_remove(struct incident_mgr *m, incident_view_fn *fn, void *arg);
/* Runs every registered contributor over incidents (borrowed), in registration order. */
void incident_view_apply(struct incident_mgr *m, json_t *incidents);

/* The id of the open incident holding alert_id: 0 or OC_ENOTFOUND. */
int incident_find_alert(struct incident_mgr *m, const char *alert_id, int64_t *id /* OUT */);
/* The id of the incident "INC-7" or "7": 0 or OC_EINVAL. */
int incident_id_parse(const char *s, int64_t *out /* OUT */);

/* --- review.c --- */

/* The post-incident review as Markdown (caller frees): 0, OC_ENOTFOUND or OC_EDB. */
int incident_review_md(struct incident_mgr *m, int64_t id, char **out /* OUT */);
/* MTTA, MTTM and MTTR (seconds) by service and by severity, over resolved incidents. */
json_t *incident_report_json(struct incident_mgr *m);

/* --- status.c --- */

/* Re-reads incident.webhooks_file (endpoints upserted by name): 0 with what was done in say,
 * or an oc_err with "FILE:LINE: ..." in say. */
int incident_reload_endpoints(struct incident_mgr *m, char *say, size_t n);

/* The documents of the public status page, shaped like Statuspage's public API v2. */
enum incident_status_doc {
    STATUS_SUMMARY,        /* summary.json: page, components, unresolved incidents, status */
    STATUS_STATUS,         /* status.json: page and the indicator */
    STATUS_COMPONENTS,     /* components.json */
    STATUS_INCIDENTS,      /* incidents.json: the last 50, resolved ones included */
    STATUS_UNRESOLVED,     /* incidents/unresolved.json */
    STATUS_MAINTENANCES,   /* scheduled-maintenances.json: the 50 newest windows */
    STATUS_MAINT_UPCOMING, /* scheduled-maintenances/upcoming.json: not started */
    STATUS_MAINT_ACTIVE,   /* scheduled-maintenances/active.json: in progress */
    STATUS_UPTIME,         /* uptime.json (an oncue extension): 90 days per component */
};
/* One document (new reference). */
json_t *incident_status_doc(struct incident_mgr *m, enum incident_status_doc doc);
/* The summary (incident_status_doc STATUS_SUMMARY; new reference). */
json_t *incident_status_json(struct incident_mgr *m);
/* --- maint.c: scheduled maintenances --- */

#define INCIDENT_MAINT_MAX 1000 /* maintenances kept */
/* Schedules a maintenance from body b {name, components (public names or ids), scheduled_for,
 * scheduled_until (RFC 3339 or unix seconds), body}; *out: it as Statuspage shows it (new
 * reference). 0, OC_EINVAL (the field in err), OC_ETOOBIG (INCIDENT_MAINT_MAX kept), OC_EDB. */
int incident_maint_add(struct incident_mgr *m, const char *actor, const json_t *b,
                       json_t **out /* OUT */, char *err, size_t errlen);
/* Deletes maintenance id: 0, OC_ENOTFOUND or OC_EDB. */
int incident_maint_delete(struct incident_mgr *m, int64_t id);
/* The 50 newest maintenances as Statuspage shows them (new reference). */
json_t *incident_maint_list_json(struct incident_mgr *m);

/* The public status page as an Atom feed (RFC 4287; caller frees). */
char *incident_status_atom(struct incident_mgr *m);
/* The public status page as self-contained HTML (caller frees). */
char *incident_status_html(struct incident_mgr *m);

/* --- outbox.c --- */

struct incident_outbox;
/* The outbox of the manager (owned by it). */
struct incident_outbox *incident_outbox(struct incident_mgr *m);
/* Adds an endpoint: kind "slack", "teams", "pagerduty" or "webhook"; secret is the whsec_
 * secret (webhook) or routing key (pagerduty). 0, OC_EINVAL or OC_EDB; *id when not NULL. */
int incident_outbox_add_endpoint(struct incident_outbox *ob, const char *name, const char *kind,
                                 const char *url, const char *secret, int64_t *id /* OUT */);
/* Disables endpoint name (it gets nothing more; its pending messages are dropped): 0,
 * OC_ENOTFOUND or OC_EDB. */
int incident_outbox_disable(struct incident_outbox *ob, const char *name);
/* Endpoints as JSON (new reference); secrets are never included, and with redact the URLs
 * are cut after their host (a chat webhook's path is its credential: for non-admins). */
json_t *incident_outbox_endpoints_json(struct incident_outbox *ob, int redact);
/* Delivers every message due at now_s (one attempt each) with libcurl; returns the number of
 * attempts made. Thread-safe; one deliverer at a time. */
int incident_outbox_deliver(struct incident_outbox *ob, int64_t now_s);
/* Messages, newest first, at most limit (new reference). Each has its state and number of
 * attempts; without redact also the last HTTP status and every attempt (status, error, ms),
 * which are for admins: with redact (other roles) they are left out. */
json_t *incident_outbox_json(struct incident_outbox *ob, int limit, int redact);
/* Counts of messages by state: pending, delivered, failed. */
void incident_outbox_counts(struct incident_outbox *ob, int *pending, int *delivered, int *failed);

/* --- cli.c and module.c --- */

/* `oncue incident list|show|ack|publish|note|role|status|resolve|review|deploy-secret`; returns
 * the exit status. */
int incident_cli_main(int argc, char **argv);
/* Its options (--help and docs/cli.md), ending in {0}. */
extern const struct oc_cli incident_cli[];

/* The incident module: /v1/incidents..., /v1/notifications, /v1/reports/incidents, /status. */
extern const struct oc_module incident_module;

#endif
