/*
 * module.c - steer_module: the HTTP API of content steering, feature flags and mitigations.
 *
 * The steering and flag routes are public (players carry no token) and answer with
 * Cache-Control: no-store and Access-Control-Allow-Origin: *, since players fetch them
 * cross-origin on every TTL. Policy and mitigation routes need viewer, responder or admin;
 * the http layer audits every non-GET request, and changes are announced on the bus.
 */
#include "steer/steer.h"
#include "core/topics.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"
#include "http/http.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX  65536   /* bytes of one steering manifest */
#define POLICY_BODY   1048576 /* PUT /v1/steering/policies body cap */
#define MITIGATE_BODY 16384   /* POST /v1/mitigations body cap */

struct steer_mod {
    struct steer *st;           /* owned */
    struct steer_geo *geo;      /* owned; NULL without steer.geoip_db */
    char region_header[128];    /* trusted header naming the region; "" for none */
    char client_ip_header[128]; /* trusted header with the client's address; "" for the peer */
};

/* The client's address for geo lookups: the trusted header's first entry when one is
 * configured (the peer is then the CDN edge), else the connection's peer. NULL when unknown. */
static const struct sockaddr *client_addr(const struct steer_mod *m, struct http_req *req,
                                          struct sockaddr_storage *ss)
{
    if (!m->geo)
        return NULL;
    if (m->client_ip_header[0]) {
        const char *v = http_header(req, m->client_ip_header);
        return v && steer_client_addr_parse(v, strlen(v), ss) == 0 ? (struct sockaddr *)ss : NULL;
    }
    return http_peer_addr(req);
}

static void public_headers(struct http_req *req)
{
    http_set_header(req, "Cache-Control", "no-store");
    http_set_header(req, "Access-Control-Allow-Origin", "*");
}

/* GET /v1/steering/{hls|dash}/{asset}: the steering manifest. */
static void steering(struct http_req *req, enum steer_proto proto)
{
    struct steer_mod *m = req->state;
    struct steer_answer ans;
    struct oc_buf b;
    char ra[16];
    const char *qs = http_query_string(req);
    struct sockaddr_storage ss;
    struct steer_client cl = {
        .region = m->region_header[0] ? http_header(req, m->region_header) : NULL,
        .addr = client_addr(m, req, &ss),
    };
    oc_buf_init(&b, MANIFEST_MAX);
    int rc = steer_answer(m->st, proto, http_param(req, "asset"), qs, qs ? strlen(qs) : 0, &cl, &b,
                          &ans);
    public_headers(req);
    if (rc) {
        http_reply_err(req, rc, "the steering manifest does not fit");
    } else if (ans.status == 200) {
        http_reply(req, 200, "application/json", b.data, b.len);
    } else {
        if (ans.retry_after_s) {
            snprintf(ra, sizeof(ra), "%d", ans.retry_after_s);
            http_set_header(req, "Retry-After", ra);
        }
        http_problem(req, ans.status, "%s", b.data ? b.data : "");
    }
    oc_buf_free(&b);
}

static void steering_hls(struct http_req *req)
{
    steering(req, STEER_HLS);
}

static void steering_dash(struct http_req *req)
{
    steering(req, STEER_DASH);
}

/* GET /v1/flags?player=&player_version=&device=&region= */
static void flags_get(struct http_req *req)
{
    struct steer_mod *m = req->state;
    json_t *f =
        steer_flags_eval(m->st, http_query(req, "player"), http_query(req, "player_version"),
                         http_query(req, "device"), http_query(req, "region"));
    public_headers(req);
    http_reply_json(req, 200, json_pack("{s:o}", "flags", f));
}

/* GET /v1/steering/policies */
static void policies_get(struct http_req *req)
{
    struct steer_mod *m = req->state;
    http_reply_json(req, 200, steer_policy_get(m->st));
}

/* PUT /v1/steering/policies: replaces the base policy. */
static void policies_put(struct http_req *req)
{
    struct steer_mod *m = req->state;
    char err[512] = "";
    json_t *doc = http_body_json(req);
    if (!doc)
        return;
    int rc = steer_policy_set(m->st, doc, req->principal, err, sizeof(err));
    if (rc == OC_EINVAL || rc == OC_ETOOBIG)
        http_problem(req, 422, "%s", err);
    else if (rc)
        http_reply_err(req, rc, "%s", err);
    else
        http_reply_json(req, 200, steer_policy_get(m->st));
    json_decref(doc);
}

/* GET /v1/steering/measurements: players' throughput reports per pathway. */
static void measurements_get(struct http_req *req)
{
    struct steer_mod *m = req->state;
    struct steer_measure ms[40];
    int n = steer_measures(m->st, ms, 40);
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:I, s:f, s:f}", "pathway", ms[i].pathway,
                                           "reports", (json_int_t)ms[i].reports, "avg_bps",
                                           ms[i].sum_bps / (double)ms[i].reports, "last_bps",
                                           ms[i].last_bps));
    http_reply_json(req, 200, json_pack("{s:o}", "pathways", a));
}

/* A rollback record as req's caller may see it: the deploy webhook's URL (a credential of the
 * deploy system, often in its path) cut after the host unless the caller is an admin. */
static json_t *shown_record(struct http_req *req, json_t *rec)
{
    if (req->role != HTTP_ADMIN)
        oc_json_cut_url(rec, "deploy_webhook");
    return rec;
}

/* GET /v1/mitigations */
static void mitigations_get(struct http_req *req)
{
    struct steer_mod *m = req->state;
    http_reply_json(req, 200, json_pack("{s:o}", "mitigations", steer_mitigations(m->st)));
}

/* The steer_deploy_fn of the module (arg: the app): the one place a rollback's deploy webhook
 * is resolved, from the running catalog's entry for service. The record carries it on the bus,
 * where the incident outbox reads it. */
static int deploy_lookup(void *arg, const char *service, json_t *rec)
{
    struct catalog_ref ref;
    const struct catalog_service *svc;
    int rc = 0;
    if (catalog_get(arg, &ref) != 0) {
        json_object_set_new(rec, "deploy_unresolved", json_string("no catalog is loaded"));
        goto out;
    }
    svc = catalog_service_find(ref.cat, service);
    if (!svc) {
        json_object_set_new(rec, "deploy_unresolved",
                            json_sprintf("%s is not in the catalog", service));
        rc = OC_ENOTFOUND;
    } else {
        json_object_set_new(rec, "deploy_webhook",
                            svc->deploy_webhook ? json_string(svc->deploy_webhook) : json_null());
        if (svc->rollback_doc)
            json_object_set_new(rec, "rollback_doc", json_string(svc->rollback_doc));
    }
    catalog_put(&ref);
out:
    return rc;
}

/* POST /v1/mitigations {"kind", args..., "dry_run"} -> 201 record, or 200 before/after. A
 * rollback's answer names the deploy webhook the incident outbox calls (deploy_lookup). */
static void mitigations_post(struct http_req *req)
{
    struct steer_mod *m = req->state;
    char err[512] = "";
    json_t *out = NULL, *body = http_body_json(req);
    const char *dq = http_query(req, "dry_run");
    if (!body)
        return;
    int dry = json_is_true(json_object_get(body, "dry_run")) || (dq && strcmp(dq, "1") == 0);
    int rc = steer_mitigate(m->st, body, req->principal, dry, &out, err, sizeof(err));
    if (rc == OC_EINVAL)
        http_problem(req, 422, "%s", err);
    else if (rc)
        http_reply_err(req, rc, "%s", err);
    else
        http_reply_json(req, dry ? 200 : 201, shown_record(req, out));
    json_decref(body);
}

/* POST /v1/mitigations/{id}/revert */
static void mitigations_revert(struct http_req *req)
{
    struct steer_mod *m = req->state;
    const char *s = http_param(req, "id");
    char *end = NULL;
    json_t *out = NULL;
    errno = 0;
    long long id = s ? strtoll(s, &end, 10) : 0;
    if (!s || end == s || *end || errno || id <= 0) {
        http_problem(req, 404, "no mitigation %s", s ? s : "");
        return;
    }
    int rc = steer_revert(m->st, id, req->principal, &out);
    if (rc == OC_ENOTFOUND)
        http_problem(req, 404, "no mitigation %lld", id);
    else if (rc == OC_ECONFLICT)
        http_problem(req, 409, "mitigation %lld is already reverted", id);
    else if (rc)
        http_reply_err(req, rc, "cannot revert mitigation %lld", id);
    else
        http_reply_json(req, 200, shown_record(req, out));
}

static const struct http_route steer_routes[] = {
    {"GET", "/v1/steering/hls/{asset}", steering_hls, HTTP_PUBLIC, HTTP_DEFAULT_BODY,
     "HLS content-steering manifest (players add _HLS_pathway, _HLS_throughput)"},
    {"GET", "/v1/steering/dash/{asset}", steering_dash, HTTP_PUBLIC, HTTP_DEFAULT_BODY,
     "DASH content-steering manifest (players add _DASH_pathway, _DASH_throughput)"},
    {"GET", "/v1/steering/policies", policies_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "the base steering policy"},
    {"PUT", "/v1/steering/policies", policies_put, HTTP_ADMIN, POLICY_BODY,
     "replace the base steering policy (validated; announced as steer.policy_changed)"},
    {"GET", "/v1/steering/measurements", measurements_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "throughput reported by players, per pathway"},
    {"GET", "/v1/flags", flags_get, HTTP_PUBLIC, HTTP_DEFAULT_BODY,
     "feature flags for ?player=&player_version=&device=&region="},
    {"GET", "/v1/mitigations", mitigations_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "every mitigation, newest first, with its follow-up item"},
    {"POST", "/v1/mitigations", mitigations_post, HTTP_RESPONDER, MITIGATE_BODY,
     "apply a mitigation (shift-cdn, backup-origin, flag, rollback); dry_run shows manifests; a "
     "rollback's deploy_webhook is cut after the host unless admin"},
    {"POST", "/v1/mitigations/{id}/revert", mitigations_revert, HTTP_RESPONDER, HTTP_DEFAULT_BODY,
     "revert a mitigation"},
    {0},
};

/* Timer: reverts automatic shifts whose pathway has recovered. */
static void auto_timer(struct oc_app *app, void *state)
{
    struct steer_mod *m = state;
    (void)app;
    steer_auto_tick(m->st);
}

static const struct oc_module_timer steer_timers[] = {
    {"steer-auto", 1000, auto_timer},
    {0},
};

/* Applies the policy file named by steer.policy_file, if any; on failure err says
 * "PATH: why" (the policy in force stays). */
/* Reads the policy file and puts it in force. 0 (with *changed 1, or 0 when the file holds the
 * policy already in force: nothing is saved or announced, so a SIGHUP that changes nothing
 * writes nothing on incidents' timelines), or an error with the reason in err. */
static int apply_policy_file(struct steer *st, const char *path, int *changed /* OUT */, char *err,
                             size_t errlen)
{
    char why[512] = "";
    json_error_t je;
    *changed = 0;
    if (!path || !path[0])
        return 0;
    json_t *doc = json_load_file(path, 0, &je);
    json_t *cur = doc ? steer_policy_get(st) : NULL;
    int same = cur && json_equal(cur, doc);
    json_decref(cur);
    int rc = !doc ? OC_EINVAL : same ? 0 : steer_policy_set(st, doc, "config", why, sizeof(why));
    if (!doc)
        snprintf(why, sizeof(why), "line %d: %s", je.line, je.text);
    if (rc)
        snprintf(err, errlen, "%s: %s", path, why);
    else
        *changed = !same;
    json_decref(doc);
    return rc;
}

static int load_policy_file(struct steer *st, const char *path)
{
    char err[640];
    int changed;
    int rc = apply_policy_file(st, path, &changed, err, sizeof err);
    if (rc)
        oc_log(OC_LOG_ERROR, "steer: %s", err);
    return rc;
}

/* The steer module's options. */
struct steer_mod_opts {
    int64_t ttl_s;          /* steer.ttl_s */
    char *region_header;    /* steer.region_header */
    char *client_ip_header; /* steer.client_ip_header */
    char *geoip_db;         /* steer.geoip_db */
    char *geoip_regions;    /* steer.geoip_regions */
    int64_t max_rps;        /* steer.max_rps; 0 = no cap */
    int64_t followup_hours; /* steer.followup_hours */
    char *policy_file;      /* steer.policy_file */
    char *backup_origin;    /* steer.backup_origin */
};

#define F(field) offsetof(struct steer_mod_opts, field)

static const struct oc_setting settings[] = {
    {"steer.ttl_s", OC_SETTING_INT, "10", 1, 86400, NULL, F(ttl_s), NULL,
     "TTL in seconds of steering manifests when the policy sets none: how fast players follow"},
    {"steer.region_header", OC_SETTING_STR, "", 0, 0, NULL, F(region_header), NULL,
     "trusted request header (set by the CDN edge) naming the client's region; empty: none"},
    {"steer.client_ip_header", OC_SETTING_STR, "", 0, 0, NULL, F(client_ip_header), NULL,
     "trusted header set by the CDN edge with the client's address (its first entry, as in"
     " X-Forwarded-For) for MaxMind lookups; empty: the connection's peer"},
    {"steer.geoip_db", OC_SETTING_STR, "", 0, 0, NULL, F(geoip_db), NULL,
     "MaxMind DB files, comma-separated (GeoIP2/GeoLite2 Country or City, ASN, ISP): region,"
     " country, ASN and ISP of steering clients whose request does not name them; empty: off"},
    {"steer.geoip_regions", OC_SETTING_STR, "", 0, 0, NULL, F(geoip_regions), NULL,
     "continent:XX=REGION and country:XX=REGION entries, comma-separated (a country entry wins),"
     " mapping MaxMind codes to policy regions; empty: the built-in map (docs/internals/steer.md)"},
    {"steer.max_rps", OC_SETTING_INT, "0", 0, 10000000, NULL, F(max_rps), NULL,
     "steering requests per second answered before 429 with Retry-After; 0: no cap"},
    {"steer.followup_hours", OC_SETTING_INT, "72", 1, 8760, NULL, F(followup_hours), NULL,
     "deadline in hours of the follow-up item each mitigation creates"},
    {"steer.policy_file", OC_SETTING_STR, "", 0, 0, NULL, F(policy_file), NULL,
     "JSON steering policy applied at start (replaces the stored one); empty: keep the stored"},
    {"steer.backup_origin", OC_SETTING_STR, "", 0, 0, NULL, F(backup_origin), NULL,
     "host[:port] that `oncue mitigate backup-origin` steers to when --host is not given"},
    {0},
};

#undef F

static int steer_mod_init(struct oc_app *app, void **state)
{
    struct steer_mod_opts def;
    const struct steer_mod_opts *cfg = config_module_opts(app->cfg, &steer_module, &def);
    struct steer_mod *m = calloc(1, sizeof(*m));
    char err[512] = "";
    int rc = m ? 0 : OC_ENOMEM;
    if (m && cfg->geoip_db && cfg->geoip_db[0]) {
        rc = steer_geo_open(cfg->geoip_db, cfg->geoip_regions, &m->geo, err, sizeof(err));
        if (rc)
            oc_log(OC_LOG_ERROR, "steer: %s", err);
        else
            oc_log(OC_LOG_INFO, "steer: %d MaxMind database(s) open for client regions",
                   steer_geo_ndbs(m->geo));
    }
    struct steer_opts o = {
        .clock = app->clock,
        .bus = app->bus,
        .store = app->store,
        .ttl_s = cfg->ttl_s,
        .max_rps = cfg->max_rps,
        .followup_hours = cfg->followup_hours,
        .backup_origin = cfg->backup_origin,
        .geo = m ? m->geo : NULL,
        .region_map = cfg->geoip_regions,
        .deploy = deploy_lookup,
        .deploy_arg = app,
    };
    if (!rc)
        rc = steer_new(&o, &m->st);
    if (!rc)
        rc = load_policy_file(m->st, cfg->policy_file);
    if (!rc && app->metrics)
        rc = oc_metrics_register(app->metrics, steer_metrics_write, m->st);
    if (rc) {
        if (m) {
            steer_destroy(m->st);
            steer_geo_close(m->geo);
        }
        free(m);
        return rc;
    }
    if ((rc = oc_app_provide(app, STEER_PROVIDES, m->st)) != 0) {
        steer_destroy(m->st);
        steer_geo_close(m->geo);
        free(m);
        return rc;
    }
    snprintf(m->region_header, sizeof(m->region_header), "%s",
             cfg->region_header ? cfg->region_header : "");
    snprintf(m->client_ip_header, sizeof(m->client_ip_header), "%s",
             cfg->client_ip_header ? cfg->client_ip_header : "");
    *state = m;
    return 0;
}

static void steer_mod_stop(struct oc_app *app, void *state)
{
    struct steer_mod *m = state;
    if (!m)
        return;
    oc_app_withdraw(app, STEER_PROVIDES);
    steer_destroy(m->st);
    steer_geo_close(m->geo);
    free(m);
}

struct steer *steer_of(const struct oc_app *app)
{
    return oc_app_find(app, STEER_PROVIDES);
}

/* Alerts drive automatic steering (steer_auto_on_alert keeps only paging ones). */
static void on_alert(const char *topic, const json_t *payload, void *state)
{
    struct steer_mod *m = state;
    steer_auto_on_alert(topic, payload, m->st);
}

static const struct oc_module_sub steer_subs[] = {
    {OC_TOPIC_ALERT_FIRED, on_alert},
    {OC_TOPIC_ALERT_RESOLVED, on_alert},
    {0},
};

/* SIGHUP: steer.policy_file again. */
static int steer_mod_reload(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct steer_mod *m = state;
    struct steer_mod_opts def;
    const struct steer_mod_opts *cfg = config_module_opts(app->cfg, &steer_module, &def);
    char err[640];
    if (!cfg->policy_file || !cfg->policy_file[0]) {
        oc_buf_puts(say, "steer: no steer.policy_file to re-read");
        return 0;
    }
    int changed;
    int rc = apply_policy_file(m->st, cfg->policy_file, &changed, err, sizeof err);
    if (rc)
        oc_buf_printf(say, "steer: kept the policy in force: %s", err);
    else
        oc_buf_printf(say, "steer: policy re-read from %s%s", cfg->policy_file,
                      changed ? "" : " (unchanged)");
    return rc;
}

const struct oc_module steer_module = {
    .name = "steer",
    .summary = "content steering (HLS, DASH), feature flags and the one-command mitigations",
    .init = steer_mod_init,
    .routes = steer_routes,
    .timers = steer_timers,
    .subs = steer_subs,
    .stop = steer_mod_stop,
    .settings = settings,
    .opts_size = sizeof(struct steer_mod_opts),
    .reload = steer_mod_reload,
};
