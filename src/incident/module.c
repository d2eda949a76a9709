/*
 * module.c - incident_module: the incident API under /v1/incidents, notifications, reports,
 * and the public status page (/status, /status.json, no login).
 *
 * Reads need the viewer role, actions the responder role, endpoint management admin. A timer
 * on the main loop runs incident_tick each second (the rules read the injected clock), and a
 * delivery thread drains the outbox so slow receivers never hold up the loop.
 */
#include "incident/incident_int.h"
#include "core/topics.h"
#include "core/buf.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACTION_BODY 16384 /* bytes of an action body */

struct incident_mod {
    struct incident_mgr *m; /* owned */
    pthread_t th;           /* the delivery thread */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping, started;
};

/* The {id} of the request, or answers 404 and returns 0. */
static int64_t req_id(struct http_req *req)
{
    int64_t id;
    if (incident_id_parse(http_param(req, "id"), &id) != 0) {
        http_problem(req, 404, "no incident %s", http_param(req, "id"));
        return 0;
    }
    return id;
}

static struct incident_mgr *mgr(struct http_req *req)
{
    return ((struct incident_mod *)req->state)->m;
}

/* GET /v1/incidents?state=&limit=&before=INC-N -> {"incidents": [...], "next": URL}: a page,
 * newest first; "next" (and a Link: <URL>; rel="next" header) only when more incidents
 * match below the page. */
static void list_get(struct http_req *req)
{
    const char *state = http_query(req, "state");
    struct incident_page_req pr;
    int64_t next = 0;
    char url[160], link[192], err[160];
    if (incident_page_parse(state, http_query(req, "limit"), http_query(req, "before"), &pr, err,
                            sizeof err) != 0) {
        http_problem(req, 400, "%s", err);
        return;
    }
    if (state && strcmp(state, "all") == 0) /* the console's word for no filter */
        state = NULL;
    json_t *l = incident_page_json(mgr(req), state, pr.before, pr.limit, &next);
    incident_view_apply(mgr(req), l);
    json_t *o = json_pack("{s:o}", "incidents", l);
    if (next) {
        /* next only follows a match, so state is "open" or a state's name: no escaping */
        snprintf(url, sizeof url, "/v1/incidents?%s%s%slimit=%d&before=INC-%lld",
                 state ? "state=" : "", state ? state : "", state ? "&" : "", pr.limit,
                 (long long)next);
        snprintf(link, sizeof link, "<%s>; rel=\"next\"", url);
        http_set_header(req, "Link", link);
        json_object_set_new(o, "next", json_string(url));
    }
    http_reply_json(req, 200, o);
}

static void reply_incident(struct http_req *req, int64_t id, int status)
{
    json_t *o = NULL;
    int rc = incident_get_json(mgr(req), id, &o);
    if (rc) {
        http_reply_err(req, rc, "no incident INC-%lld", (long long)id);
        return;
    }
    json_t *one = json_pack("[O]", o);
    incident_view_apply(mgr(req), one);
    json_decref(one);
    http_reply_json(req, status, o);
}

static void one_get(struct http_req *req)
{
    int64_t id = req_id(req);
    if (id)
        reply_incident(req, id, 200);
}

/* Answers the outcome of an action on incident id. */
static void done(struct http_req *req, int64_t id, int rc, const char *err)
{
    if (rc == OC_ENOTFOUND)
        http_reply_err(req, rc, "no incident INC-%lld", (long long)id);
    else if (rc == OC_ECONFLICT && !err[0])
        http_reply_err(req, rc,
                       "not allowed in the incident's current state (or it changed "
                       "meanwhile: read it again)");
    else if (rc)
        http_reply_err(req, rc, "%s", err[0] ? err : oc_strerror(rc));
    else
        reply_incident(req, id, 200);
}

static void ack_post(struct http_req *req)
{
    int64_t id = req_id(req);
    if (id)
        done(req, id, incident_ack(mgr(req), id, req->principal), "");
}

static void close_post(struct http_req *req)
{
    int64_t id = req_id(req);
    if (id)
        done(req, id, incident_close(mgr(req), id, req->principal), "");
}

static void publish_post(struct http_req *req)
{
    char err[256] = "";
    int64_t id = req_id(req);
    if (id)
        done(req, id, incident_publish(mgr(req), id, req->principal, err, sizeof err), err);
}

static const char *body_str(const json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k));
}

/* An action on incident id with the request's JSON body b: 0, or an error code with a
 * reason in err. */
typedef int body_action_fn(struct http_req *req, int64_t id, const json_t *b, char *err,
                           size_t errlen);

/* POST /v1/incidents/{id}/ACTION {...}: parses the id and the body, runs fn, answers. */
static void with_body(struct http_req *req, body_action_fn *fn)
{
    char err[512] = "";
    int64_t id = req_id(req);
    json_t *b = id ? http_body_json(req) : NULL;
    if (!b)
        return;
    done(req, id, fn(req, id, b, err, sizeof(err)), err);
    json_decref(b);
}

static int note_act(struct http_req *req, int64_t id, const json_t *b, char *err, size_t n)
{
    int rc = incident_note(mgr(req), id, req->principal, body_str(b, "text"));
    if (rc == OC_EINVAL)
        snprintf(err, n, "text: 1 to 4096 bytes");
    return rc;
}

static int role_act(struct http_req *req, int64_t id, const json_t *b, char *err, size_t n)
{
    const char *person = json_is_true(json_object_get(b, "release")) ? NULL : body_str(b, "person");
    return incident_role(mgr(req), id, req->principal, body_str(b, "role"), person, err, n);
}

static int status_act(struct http_req *req, int64_t id, const json_t *b, char *err, size_t n)
{
    return incident_status_update(mgr(req), id, req->principal, body_str(b, "status"),
                                  body_str(b, "body"), err, n);
}

static int resolve_act(struct http_req *req, int64_t id, const json_t *b, char *err, size_t n)
{
    return incident_resolve(mgr(req), id, req->principal, json_is_true(json_object_get(b, "force")),
                            body_str(b, "reason"), err, n);
}

static int severity_act(struct http_req *req, int64_t id, const json_t *b, char *err, size_t n)
{
    int64_t sev = 0;
    const char *s = body_str(b, "severity");
    if (s && (strncmp(s, "SEV", 3) == 0 || strncmp(s, "sev", 3) == 0) && strlen(s) == 4)
        sev = s[3] - '0';
    else if (!s && oc_json_get_int_range(b, NULL, "severity", 1, 4, &sev, err, n) == OC_EINVAL)
        return OC_EINVAL;
    return incident_set_severity(mgr(req), id, req->principal, (int)sev, body_str(b, "reason"), err,
                                 n);
}

#define FOLLOWUP_MAX_HOURS (24 * 366 * 10) /* due_hours: at most about ten years ahead */

/* {title, due_at (unix s) | due_hours} */
static int followup_act(struct http_req *req, int64_t id, const json_t *b, char *err, size_t n)
{
    int64_t due = 0, hours = 0;
    if (oc_json_get_int_range(b, NULL, "due_at", 0, OC_JSON_UNIX_S_MAX, &due, err, n) ==
            OC_EINVAL ||
        oc_json_get_int_range(b, NULL, "due_hours", 1, FOLLOWUP_MAX_HOURS, &hours, err, n) ==
            OC_EINVAL)
        return OC_EINVAL;
    if (!due && hours)
        due = oc_clock_now_s(req->app->clock) + hours * 3600;
    return incident_followup_add(mgr(req), id, req->principal, body_str(b, "title"), due, err, n);
}

static void note_post(struct http_req *req)
{
    with_body(req, note_act);
}

static void role_post(struct http_req *req)
{
    with_body(req, role_act);
}

static void status_post(struct http_req *req)
{
    with_body(req, status_act);
}

static void resolve_post(struct http_req *req)
{
    with_body(req, resolve_act);
}

static void severity_post(struct http_req *req)
{
    with_body(req, severity_act);
}

static void followup_post(struct http_req *req)
{
    with_body(req, followup_act);
}

/* The times of an alert.fired-shaped body, which the incident reads as they are: each absent
 * or within bounds. 0, or OC_EINVAL with the detail in err. */
static int declare_times(const json_t *b, char *err, size_t n)
{
    static const char *const keys[] = {"at", "since", "window_s", NULL};
    int64_t t;
    for (const char *const *k = keys; *k; k++)
        if (oc_json_get_int_range(b, NULL, *k, 0, OC_JSON_UNIX_S_MAX, &t, err, n) == OC_EINVAL)
            return OC_EINVAL;
    return 0;
}

/* POST /v1/incidents: declares an incident by hand with an alert.fired-shaped body. */
static void declare_post(struct http_req *req)
{
    json_t *b = http_body_json(req);
    int64_t id;
    if (!b)
        return;
    const json_t *slice = json_object_get(b, "slice");
    char err[128];
    if (!body_str(b, "alert_id") || (slice && !json_is_object(slice))) {
        http_problem(req, 422, "alert_id (string) is required; slice must be an object");
    } else if (declare_times(b, err, sizeof(err)) != 0) {
        http_problem(req, 422, "%s", err);
    } else {
        if (!json_object_get(b, "source"))
            json_object_set_new(b, "source", json_string("manual"));
        incident_on_event(mgr(req), OC_TOPIC_ALERT_FIRED, b);
        if (incident_find_alert(mgr(req), body_str(b, "alert_id"), &id) == 0)
            reply_incident(req, id, 201);
        else
            http_problem(req, 503, "the incident could not be opened");
    }
    json_decref(b);
}

static void review_get(struct http_req *req)
{
    char *md = NULL;
    int64_t id = req_id(req);
    if (!id)
        return;
    int rc = incident_review_md(mgr(req), id, &md);
    if (rc)
        http_reply_err(req, rc, "no incident INC-%lld", (long long)id);
    else
        http_reply(req, 200, "text/markdown; charset=utf-8", md, strlen(md));
    free(md);
}

static void report_get(struct http_req *req)
{
    http_reply_json(req, 200, incident_report_json(mgr(req)));
}

static void notifications_get(struct http_req *req)
{
    const char *l = http_query(req, "limit");
    int limit = l ? (int)strtol(l, NULL, 10) : 100, p, d, f;
    struct incident_outbox *ob = incident_outbox(mgr(req));
    int redact = req->role != HTTP_ADMIN;
    incident_outbox_counts(ob, &p, &d, &f);
    http_reply_json(req, 200,
                    json_pack("{s:{s:i, s:i, s:i}, s:o, s:o}", "counts", "pending", p, "delivered",
                              d, "failed", f, "endpoints",
                              incident_outbox_endpoints_json(ob, redact), "messages",
                              incident_outbox_json(ob, limit, redact)));
}

static void deploy_secret_get(struct http_req *req)
{
    http_set_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200, incident_deploy_secret_json(mgr(req)));
}

static void endpoint_post(struct http_req *req)
{
    json_t *b = http_body_json(req);
    int64_t id = 0;
    if (!b)
        return;
    int rc = incident_outbox_add_endpoint(incident_outbox(mgr(req)), body_str(b, "name"),
                                          body_str(b, "kind"), body_str(b, "url"),
                                          body_str(b, "secret"), &id);
    if (rc)
        http_reply_err(req, rc,
                       "name (not starting with deploy/), kind (slack, teams, teams_legacy, "
                       "pagerduty, webhook), an http(s) url and, for webhook and pagerduty, a "
                       "secret (webhook: whsec_... base64, up to 4 space-separated while a "
                       "key rotates) are required");
    else
        http_reply_json(req, 201,
                        json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", body_str(b, "name")));
    json_decref(b);
}

static void status_json_get(struct http_req *req)
{
    http_set_header(req, "Cache-Control", "no-cache");
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    http_reply_json(req, 200, incident_status_json(mgr(req)));
}

/* The status page is one document with an inline style sheet: nothing else may load, and no
 * other site may frame it. */
#define STATUS_CSP                                                                                 \
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "     \
    "form-action 'none'"

/* GET /api/v2/...: one Statuspage document, public, readable from any origin. */
static void status_doc(struct http_req *req, enum incident_status_doc doc)
{
    http_set_header(req, "Cache-Control", "no-cache");
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    http_reply_json(req, 200, incident_status_doc(mgr(req), doc));
}

#define STATUS_ROUTE(fn, doc)                                                                      \
    static void fn(struct http_req *req)                                                           \
    {                                                                                              \
        status_doc(req, doc);                                                                      \
    }
STATUS_ROUTE(sp_summary, STATUS_SUMMARY)
STATUS_ROUTE(sp_status, STATUS_STATUS)
STATUS_ROUTE(sp_components, STATUS_COMPONENTS)
STATUS_ROUTE(sp_incidents, STATUS_INCIDENTS)
STATUS_ROUTE(sp_unresolved, STATUS_UNRESOLVED)
STATUS_ROUTE(sp_maintenances, STATUS_MAINTENANCES)
STATUS_ROUTE(sp_maint_upcoming, STATUS_MAINT_UPCOMING)
STATUS_ROUTE(sp_maint_active, STATUS_MAINT_ACTIVE)
STATUS_ROUTE(sp_uptime, STATUS_UPTIME)

static void maint_list(struct http_req *req)
{
    http_reply_json(
        req, 200, json_pack("{s:o}", "scheduled_maintenances", incident_maint_list_json(mgr(req))));
}

static void maint_post(struct http_req *req)
{
    char err[256] = "";
    json_t *b = http_body_json(req), *out = NULL;
    if (!b)
        return;
    int rc = incident_maint_add(mgr(req), req->principal, b, &out, err, sizeof err);
    if (rc)
        http_reply_err(req, rc, "%s", err[0] ? err : oc_strerror(rc));
    else
        http_reply_json(req, 201, out);
    json_decref(b);
}

static void maint_delete(struct http_req *req)
{
    const char *p = http_param(req, "id");
    char *end;
    long long id = strtoll(p && (p[0] == 'M' || p[0] == 'm') && strlen(p) > 4 ? p + 4
                           : p                                                ? p
                                                                              : "",
                           &end, 10);
    int rc = id > 0 && !*end ? incident_maint_delete(mgr(req), id) : OC_ENOTFOUND;
    if (rc)
        http_reply_err(req, rc, "no maintenance %s", p ? p : "");
    else
        http_reply(req, 204, NULL, NULL, 0);
}

#define SUB_NAME_MAX 64 /* bytes of a subscription's name */

/* POST /v1/status/subscriptions {name, url, secret}: an admin subscribes a webhook URL to
 * the public status page (an outbox endpoint "status/NAME" of kind "status"). */
static void sub_post(struct http_req *req)
{
    char name[SUB_NAME_MAX + 16];
    int64_t id = 0;
    json_t *b = http_body_json(req);
    if (!b)
        return;
    const char *n = body_str(b, "name"), *secret = body_str(b, "secret");
    if (!n || !n[0] || strlen(n) > SUB_NAME_MAX || strchr(n, '/')) {
        http_problem(req, 422, "name: 1 to %d bytes without '/'", SUB_NAME_MAX);
    } else if (!secret || strncmp(secret, "whsec_", 6) != 0 || strlen(secret) < 38) {
        http_problem(req, 422,
                     "secret: a Standard Webhooks secret (whsec_ and the base64 of 24 "
                     "to 64 bytes)");
    } else {
        snprintf(name, sizeof name, "status/%s", n);
        int rc = incident_outbox_add_endpoint(incident_outbox(mgr(req)), name, "status",
                                              body_str(b, "url"), body_str(b, "secret"), &id);
        if (rc)
            http_reply_err(req, rc,
                           "url: an http(s) URL; secret: a Standard Webhooks secret (whsec_ "
                           "followed by base64)");
        else
            http_reply_json(req, 201,
                            json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "name", name, "url",
                                      body_str(b, "url")));
    }
    json_decref(b);
}

static void sub_list(struct http_req *req)
{
    json_t *all = incident_outbox_endpoints_json(incident_outbox(mgr(req)), 0), *out = json_array();
    json_t *e;
    size_t i;
    json_array_foreach(all, i, e)
    {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        if (kind && strcmp(kind, "status") == 0)
            json_array_append(out, e);
    }
    json_decref(all);
    http_reply_json(req, 200, json_pack("{s:o}", "subscriptions", out));
}

static void sub_delete(struct http_req *req)
{
    char name[SUB_NAME_MAX + 16];
    const char *n = http_param(req, "name");
    snprintf(name, sizeof name, "status/%s", n ? n : "");
    int rc = incident_outbox_disable(incident_outbox(mgr(req)), name);
    if (rc)
        http_reply_err(req, rc, "no subscription %s", n ? n : "");
    else
        http_reply(req, 204, NULL, NULL, 0);
}

static void status_atom_get(struct http_req *req)
{
    char *xml = incident_status_atom(mgr(req));
    http_set_header(req, "Cache-Control", "no-cache");
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    http_reply(req, 200, "application/atom+xml; charset=utf-8", xml, strlen(xml));
    free(xml);
}

static void status_html_get(struct http_req *req)
{
    char *html = incident_status_html(mgr(req));
    http_set_header(req, "Cache-Control", "no-cache");
    http_set_page_headers(req, STATUS_CSP);
    http_reply(req, 200, "text/html; charset=utf-8", html, strlen(html));
    free(html);
}

static const struct http_route incident_routes[] = {
    {"GET", "/v1/incidents", list_get, HTTP_VIEWER, 0,
     "incidents, newest first, a page at a time: ?state=open (or all, or a state's name; else"
     " 400),"
     " ?limit=N (1 to 1000; default 100, and 1000 with state=open: every open one),"
     " ?before=INC-N -> {incidents, next}: next (also a Link rel=\"next\" header) is the URL of"
     " the following page, absent on the last"},
    {"POST", "/v1/incidents", declare_post, HTTP_RESPONDER, ACTION_BODY,
     "declare an incident by hand (an alert.fired-shaped body)"},
    {"GET", "/v1/incidents/{id}", one_get, HTTP_VIEWER, 0, "one incident with its timeline"},
    {"POST", "/v1/incidents/{id}/ack", ack_post, HTTP_RESPONDER, ACTION_BODY, "acknowledge"},
    {"POST", "/v1/incidents/{id}/publish", publish_post, HTTP_RESPONDER, ACTION_BODY,
     "publish a draft incident on the public status page"},
    {"POST", "/v1/incidents/{id}/note", note_post, HTTP_RESPONDER, ACTION_BODY,
     "add a note to the timeline {text}"},
    {"POST", "/v1/incidents/{id}/role", role_post, HTTP_RESPONDER, ACTION_BODY,
     "assign or release a role {role, person | release: true}"},
    {"POST", "/v1/incidents/{id}/status", status_post, HTTP_RESPONDER, ACTION_BODY,
     "post a public status update {status, body}"},
    {"POST", "/v1/incidents/{id}/resolve", resolve_post, HTTP_RESPONDER, ACTION_BODY,
     "resolve by the rule, or {force: true, reason}"},
    {"POST", "/v1/incidents/{id}/severity", severity_post, HTTP_RESPONDER, ACTION_BODY,
     "override the severity {severity, reason}"},
    {"POST", "/v1/incidents/{id}/followups", followup_post, HTTP_RESPONDER, ACTION_BODY,
     "add a follow-up action item {title, due_at | due_hours}"},
    {"POST", "/v1/incidents/{id}/close", close_post, HTTP_RESPONDER, ACTION_BODY,
     "close a resolved incident"},
    {"GET", "/v1/incidents/{id}/review", review_get, HTTP_VIEWER, 0,
     "the post-incident review as Markdown"},
    {"GET", "/v1/reports/incidents", report_get, HTTP_VIEWER, 0,
     "MTTA, MTTM and MTTR by service and severity"},
    {"GET", "/v1/notifications", notifications_get, HTTP_VIEWER, 0,
     "the outbox: endpoints, messages and, for admins, every delivery attempt (?limit=)"},
    {"GET", "/v1/notifications/deploy-secret", deploy_secret_get, HTTP_ADMIN, 0,
     "the secret signing rollback calls to deploy webhooks {source, secret, created}: made at"
     " the first start when incident.deploy_secret is empty"},
    {"POST", "/v1/notifications/endpoints", endpoint_post, HTTP_ADMIN, ACTION_BODY,
     "add or replace a notification endpoint {name, kind, url, secret}"},
    {"GET", "/status.json", status_json_get, HTTP_PUBLIC, 0,
     "public status summary (Statuspage-shaped)"},
    {"GET", "/status", status_html_get, HTTP_PUBLIC, 0, "public status page (HTML)"},
    {"GET", "/status/feed.atom", status_atom_get, HTTP_PUBLIC, 0,
     "public status page as an Atom feed: published incidents and maintenances with updates"},
    {"GET", "/history.atom", status_atom_get, HTTP_PUBLIC, 0, "the same feed at Statuspage's path"},
    {"GET", "/api/v2/summary.json", sp_summary, HTTP_PUBLIC, 0,
     "Statuspage API: page, components, unresolved incidents, status"},
    {"GET", "/api/v2/status.json", sp_status, HTTP_PUBLIC, 0, "Statuspage API: the indicator"},
    {"GET", "/api/v2/components.json", sp_components, HTTP_PUBLIC, 0,
     "Statuspage API: components (public names, stable ids)"},
    {"GET", "/api/v2/incidents.json", sp_incidents, HTTP_PUBLIC, 0,
     "Statuspage API: the last 50 incidents, resolved ones included"},
    {"GET", "/api/v2/incidents/unresolved.json", sp_unresolved, HTTP_PUBLIC, 0,
     "Statuspage API: unresolved incidents"},
    {"GET", "/api/v2/uptime.json", sp_uptime, HTTP_PUBLIC, 0,
     "oncue extension: 90 UTC days per component (worst status, outage minutes) and uptime %"},
    {"GET", "/api/v2/scheduled-maintenances.json", sp_maintenances, HTTP_PUBLIC, 0,
     "Statuspage API: the 50 newest scheduled maintenances"},
    {"GET", "/api/v2/scheduled-maintenances/upcoming.json", sp_maint_upcoming, HTTP_PUBLIC, 0,
     "Statuspage API: maintenances not yet started"},
    {"GET", "/api/v2/scheduled-maintenances/active.json", sp_maint_active, HTTP_PUBLIC, 0,
     "Statuspage API: maintenances in progress"},
    {"POST", "/v1/status/subscriptions", sub_post, HTTP_ADMIN, ACTION_BODY,
     "subscribe a webhook URL to the public status page {name, url, secret}"},
    {"GET", "/v1/status/subscriptions", sub_list, HTTP_ADMIN, 0,
     "the status page's webhook subscriptions"},
    {"DELETE", "/v1/status/subscriptions/{name}", sub_delete, HTTP_ADMIN, 0,
     "end a status page webhook subscription"},
    {"GET", "/v1/maintenances", maint_list, HTTP_VIEWER, 0,
     "scheduled maintenances of the status page, newest window first"},
    {"POST", "/v1/maintenances", maint_post, HTTP_RESPONDER, ACTION_BODY,
     "schedule a maintenance {name, components, scheduled_for, scheduled_until, body}"},
    {"DELETE", "/v1/maintenances/{id}", maint_delete, HTTP_RESPONDER, 0,
     "delete a scheduled maintenance (MNT-3 or 3)"},
    {0},
};

static void tick_timer(struct oc_app *app, void *state)
{
    struct incident_mod *im = state;
    (void)app;
    incident_tick(im->m);
    pthread_mutex_lock(&im->mu);
    pthread_cond_signal(&im->cv);
    pthread_mutex_unlock(&im->mu);
}

static const struct oc_module_timer incident_timers[] = {
    {"incident-tick", 1000, tick_timer},
    {0},
};

/* The delivery thread: drains due messages, then waits up to a second (or for the timer). */
static void *deliver_main(void *arg)
{
    struct incident_mod *im = arg;
    struct timespec ts;
    pthread_mutex_lock(&im->mu);
    while (!im->stopping) {
        pthread_mutex_unlock(&im->mu);
        incident_outbox_deliver(incident_outbox(im->m), oc_clock_now_s(im->m->app->clock));
        pthread_mutex_lock(&im->mu);
        if (im->stopping)
            break;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&im->cv, &im->mu, &ts);
    }
    pthread_mutex_unlock(&im->mu);
    return NULL;
}

/* /metrics: open incidents by severity and outbox messages by state. */
static void collect(struct oc_buf *b, void *arg)
{
    struct incident_mod *im = arg;
    static const char *const sevs[] = {"SEV1", "SEV2", "SEV3", "SEV4"};
    int open[4] = {0}, p, d, f;
    json_t *l = incident_list_json(im->m, "open"), *inc;
    size_t i;
    json_array_foreach(l, i, inc)
    {
        const char *sev = json_string_value(json_object_get(inc, "severity"));
        for (int k = 0; sev && k < 4; k++)
            open[k] += strcmp(sev, sevs[k]) == 0;
    }
    json_decref(l);
    oc_metrics_family(b, "oncue_incidents_open", "gauge", "incidents not yet resolved");
    for (int k = 0; k < 4; k++) {
        const char *labels[] = {"severity", sevs[k], NULL};
        oc_metrics_sample(b, "oncue_incidents_open", labels, open[k]);
    }
    incident_outbox_counts(incident_outbox(im->m), &p, &d, &f);
    oc_metrics_family(b, "oncue_notifications", "gauge", "outbox messages by state");
    const char *lp[] = {"state", "pending", NULL}, *ld[] = {"state", "delivered", NULL},
               *lf[] = {"state", "failed", NULL};
    oc_metrics_sample(b, "oncue_notifications", lp, p);
    oc_metrics_sample(b, "oncue_notifications", ld, d);
    oc_metrics_sample(b, "oncue_notifications", lf, f);
}

/* The defaults, with the settings of the config's incident block (when it has one). */
static void opts_from_config(struct incident_opts *o, const struct oc_config *cfg)
{
    incident_opts_default(o);
    const struct incident_opts *set = config_module_opts(cfg, &incident_module, NULL);
    if (set)
        oc_settings_copy(incident_settings, o, set);
}

static void incident_mod_stop(struct oc_app *app, void *state);

static int incident_mod_init(struct oc_app *app, void **state)
{
    struct incident_opts o;
    char err[512] = "";
    struct incident_mod *im = oc_calloc(1, sizeof(*im));
    opts_from_config(&o, app->cfg);
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->cv, NULL);
    int rc = incident_mgr_new(app, &o, &im->m, err, sizeof(err));
    if (rc) {
        oc_log(OC_LOG_ERROR, "%s", err);
        incident_mod_stop(app, im);
        return rc;
    }
    if ((rc = oc_app_provide(app, INCIDENT_PROVIDES, im->m)) != 0) {
        incident_mod_stop(app, im);
        return rc;
    }
    /* pending messages keep their due times and attempts across a restart: one in its
     * retry schedule, or claimed by another replica that is sending it, is not sent at once */
    if (app->metrics)
        oc_metrics_register(app->metrics, collect, im);
    if (pthread_create(&im->th, NULL, deliver_main, im) == 0)
        im->started = 1;
    *state = im;
    return 0;
}

static void incident_mod_stop(struct oc_app *app, void *state)
{
    struct incident_mod *im = state;
    if (!im)
        return;
    if (oc_app_find(app, INCIDENT_PROVIDES) == im->m)
        oc_app_withdraw(app, INCIDENT_PROVIDES);
    pthread_mutex_lock(&im->mu);
    im->stopping = 1;
    pthread_cond_signal(&im->cv);
    pthread_mutex_unlock(&im->mu);
    if (im->started)
        pthread_join(im->th, NULL);
    incident_mgr_destroy(im->m);
    pthread_cond_destroy(&im->cv);
    pthread_mutex_destroy(&im->mu);
    free(im);
}

struct incident_mgr *incident_mgr_of(const struct oc_app *app)
{
    return oc_app_find(app, INCIDENT_PROVIDES);
}

/* The module's bus handler: hands each event of incident_subs to the manager. */
static void on_event(const char *topic, const json_t *payload, void *state)
{
    struct incident_mod *im = state;
    incident_on_event(im->m, topic, payload);
}

/* The topics the manager hears; incident_mgr_subscribe walks the same rows. */
// clang-format off
static const struct oc_module_sub incident_subs[] = {
    {OC_TOPIC_ALERT_FIRED, on_event},
    {OC_TOPIC_ALERT_RESOLVED, on_event},
    {OC_TOPIC_MITIGATION_APPLIED, on_event},
    {OC_TOPIC_MITIGATION_REVERTED, on_event},
    {OC_TOPIC_RCA_LOCALIZED, on_event},
    {OC_TOPIC_STEER_POLICY_CHANGED, on_event},
    {OC_TOPIC_TICKETS_LINKED, on_event},
    {0},
};
// clang-format on

/* SIGHUP: incident.webhooks_file again (endpoints upserted by name; none removed). */
static int incident_mod_reload(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct incident_mod *im = state;
    char err[512];
    (void)app;
    int rc = incident_reload_endpoints(im->m, err, sizeof err);
    oc_buf_printf(say, "incident: %s", err);
    return rc;
}

const struct oc_module incident_module = {
    .name = "incident",
    .summary = "incidents, severity, timeline, paging, notifications, status page and reviews",
    .init = incident_mod_init,
    .routes = incident_routes,
    .timers = incident_timers,
    .timers_leased = 1, /* one replica escalates (store/lease.h) */
    .stop = incident_mod_stop,
    .subs = incident_subs,
    .settings = incident_settings,
    .opts_size = sizeof(struct incident_opts),
    .reload = incident_mod_reload,
};
