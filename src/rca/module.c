/*
 * module.c - the rca module of `oncue serve`: recorded changes and their correlation.
 *
 * POST /v1/changes records a deploy, config change or feature-flag flip (and publishes
 * change.recorded); GET /v1/changes lists them; GET /v1/changes/rank?onset=TS&service=S ranks
 * those of the 6 hours before the onset of a move (see changes.c). When an incident opens,
 * the module localizes it on the QoE cube (hook.c).
 */
#include "rca/rca_int.h"
#include "core/topics.h"

#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/module.h"
#include "http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHANGE_BODY_MAX  (16 << 10) /* bytes of a POST /v1/changes body */
#define CHANGE_FIELD_MAX 128        /* bytes of service, kind and version */
#define CHANGE_DESC_MAX  2000       /* bytes of a description */

/* Reads the optional string member key (at most max bytes) into *out; 0 or -1 (answered). */
static int body_str(struct http_req *req, const json_t *body, const char *key, size_t max,
                    int required, const char **out)
{
    int rc = oc_json_get_str(body, key, out);
    if (rc == OC_ENOTFOUND && !required) {
        *out = NULL;
        return 0;
    }
    if (rc != 0 || strlen(*out) > max || (required && !**out)) {
        http_problem(req, 422, "%s: %s string of at most %zu bytes", key,
                     required ? "a non-empty" : "a", max);
        return -1;
    }
    return 0;
}

/* POST /v1/changes {service, kind, description, time, version}. */
static void changes_post(struct http_req *req)
{
    struct rca_change c = {0};
    json_t *body = http_body_json(req);
    int64_t id = 0, t;
    char err[128];
    if (!body)
        return;
    int rc = oc_json_get_int_range(body, NULL, "time", 0, OC_JSON_UNIX_S_MAX, &t, err, sizeof(err));
    c.time = rc == OC_ENOTFOUND ? oc_clock_now_s(req->app->clock) : t;
    if (rc == OC_EINVAL)
        http_problem(req, 422, "%s (unix seconds)", err);
    else if (body_str(req, body, "service", CHANGE_FIELD_MAX, 1, &c.service) == 0 &&
             body_str(req, body, "kind", CHANGE_FIELD_MAX, 1, &c.kind) == 0 &&
             body_str(req, body, "description", CHANGE_DESC_MAX, 0, &c.description) == 0 &&
             body_str(req, body, "version", CHANGE_FIELD_MAX, 0, &c.version) == 0) {
        if (!req->app->store)
            http_problem(req, 503, "the store is not open");
        else if ((rc = rca_change_add(req->app->store, &c, req->principal,
                                      oc_clock_now_ms(req->app->clock), &id)) != 0)
            http_reply_err(req, rc, "cannot record the change");
        else {
            json_t *ev = json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)id, "time",
                                   (json_int_t)c.time, "service", c.service, "kind", c.kind);
            if (req->app->bus)
                oc_bus_publish(req->app->bus, OC_TOPIC_CHANGE_RECORDED, ev);
            http_reply_json(req, 201, ev);
        }
    }
    json_decref(body);
}

/* Query parameter name as an integer in [lo, hi] (def when absent); 0 or -1 (answered). */
static int query_int(struct http_req *req, const char *name, long long lo, long long hi,
                     long long def, long long *out)
{
    const char *s = http_query(req, name);
    char *end;
    *out = def;
    if (!s)
        return 0;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        http_problem(req, 422, "%s: an integer from %lld to %lld", name, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* GET /v1/changes?since=&until=&service=&limit=. */
static void changes_get(struct http_req *req)
{
    long long now = oc_clock_now_s(req->app->clock), since, until, limit;
    if (query_int(req, "since", 0, INT64_MAX / 2, now - RCA_CHANGE_WINDOW_S, &since) ||
        query_int(req, "until", 0, INT64_MAX / 2, now, &until) ||
        query_int(req, "limit", 1, RCA_MAX_CHANGES, 100, &limit))
        return;
    if (!req->app->store) {
        http_problem(req, 503, "the store is not open");
        return;
    }
    json_t *a =
        rca_changes_list(req->app->store, since, until, http_query(req, "service"), (int)limit);
    if (!a)
        http_reply_err(req, OC_EDB, "cannot read the changes");
    else
        http_reply_json(req, 200, json_pack("{s:o}", "changes", a));
}

/* GET /v1/changes/rank?onset=TS&service=S. */
static void changes_rank(struct http_req *req)
{
    long long onset;
    if (!http_query(req, "onset")) {
        http_problem(req, 422, "onset: required (unix seconds)");
        return;
    }
    if (query_int(req, "onset", 0, INT64_MAX / 2, 0, &onset))
        return;
    if (!req->app->store) {
        http_problem(req, 503, "the store is not open");
        return;
    }
    json_t *a = rca_changes_ranked(req->app->store, onset, http_query(req, "service"));
    if (!a)
        http_reply_err(req, OC_EDB, "cannot read the changes");
    else
        http_reply_json(req, 200,
                        json_pack("{s:I, s:o}", "onset", (json_int_t)onset, "changes", a));
}

static const struct http_route routes[] = {
    {"POST", "/v1/changes", changes_post, HTTP_RESPONDER, CHANGE_BODY_MAX,
     "record a deploy, config change or flag flip {service, kind, description, time, version}"},
    {"GET", "/v1/changes", changes_get, HTTP_VIEWER, 0,
     "recorded changes, newest first (?since=&until=&service=&limit=)"},
    {"GET", "/v1/changes/rank", changes_rank, HTTP_VIEWER, 0,
     "changes of the 6 h before ?onset=TS ranked by timing, ?service= match and kind"},
    {0},
};

/* The module's state is the app itself: localization reads the qoe cube and the store. */
static int rca_init(struct oc_app *app, void **state)
{
    *state = app;
    return 0;
}

static const struct oc_module_sub subs[] = {
    {OC_TOPIC_INCIDENT_OPENED, rca_on_incident_opened},
    {OC_TOPIC_INCIDENT_HELD, rca_on_incident_opened},
    {0},
};

const struct oc_module rca_module = {
    .name = "rca",
    .summary = "root-cause localization of incidents, recorded changes and their correlation",
    .init = rca_init,
    .routes = routes,
    .subs = subs,
};
