/*
 * module.c - catalog_module: the HTTP API of the service catalog. Services (list, get,
 * create, replace, delete), the graph (upstream, downstream, blast radius), routing of a slice
 * or service to who must be paged, the on-call of a team, teams, and reload. Reads need the
 * viewer role, writes admin; the http layer audits every write.
 */
#include "catalog/catalog_int.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "core/log.h"
#include "core/module.h"
#include "http/http.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_BODY (64 * 1024) /* one service as JSON */

/* The time given as ?at= (ISO 8601 UTC, unix seconds or now-1h), else the app clock. 0 or
 * 422. */
static int query_time(struct http_req *req, int64_t *at_ms)
{
    const char *at = http_query(req, "at");
    if (!at) {
        *at_ms = oc_clock_now_ms(req->app->clock);
        return 0;
    }
    if (catalog_time_parse(at, at_ms) == 0)
        return 0;
    char why[160];
    int64_t s;
    if (oc_time_param(at, oc_clock_now_s(req->app->clock), &s, why, sizeof why) == 0) {
        *at_ms = s * 1000; /* now-1h and the like */
        return 0;
    }
    http_problem(req, 422, "at: %s", why);
    return OC_EINVAL;
}

static json_t *names_json(const struct catalog_names *n)
{
    json_t *a = json_array();
    for (int i = 0; i < n->n; i++)
        json_array_append_new(a, json_string(n->v[i]));
    return a;
}

/* A service as req's caller may see it: its deploy_webhook (the deploy system's URL, often a
 * credential in its path) cut after the host unless the caller is an admin. */
static json_t *service_shown(struct http_req *req, const struct catalog_service *s)
{
    json_t *j = catalog_service_to_json(s);
    if (req->role != HTTP_ADMIN)
        oc_json_cut_url(j, "deploy_webhook");
    return j;
}

static void services_list(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    json_t *a = json_array();
    pthread_rwlock_rdlock(&m->lock);
    for (int i = 0; i < m->cat->nservices; i++)
        json_array_append_new(a, service_shown(req, m->cat->services[i]));
    pthread_rwlock_unlock(&m->lock);
    http_reply_json(req, 200, json_pack("{s:o}", "services", a));
}

static void service_get(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    const char *name = http_param(req, "name");
    pthread_rwlock_rdlock(&m->lock);
    const struct catalog_service *s = catalog_service_find(m->cat, name);
    json_t *j = s ? service_shown(req, s) : NULL;
    pthread_rwlock_unlock(&m->lock);
    if (j)
        http_reply_json(req, 200, j);
    else
        http_problem(req, 404, "no service named %s", name);
}

/* Parses the body into a service; path_name, when given, must match (or fill) "name". */
static struct catalog_service *body_service(struct http_req *req, const char *path_name)
{
    struct catalog_service *s = NULL;
    char err[CATALOG_ERR_MAX];
    json_t *body = http_body_json(req);
    if (!body)
        return NULL;
    const json_t *name = json_object_get(body, "name");
    if (path_name && !name) {
        json_object_set_new(body, "name", json_string(path_name));
    } else if (path_name && (!json_is_string(name) || strcmp(json_string_value(name), path_name))) {
        http_problem(req, 422, "name: the body names a different service than the path (%s)",
                     path_name);
        goto out;
    }
    if (catalog_service_from_json(body, &s, err, sizeof(err)) != 0)
        http_problem(req, 422, "%s", err);
out:
    json_decref(body);
    return s;
}

/* Stores s (owned) and answers 201 (new) or 200 with the stored service. */
static void put_common(struct http_req *req, struct catalog_service *s, int create)
{
    struct catalog_mod *m = req->state;
    char err[CATALOG_ERR_MAX], name[CATALOG_NAME_MAX];
    int created = 0;
    snprintf(name, sizeof(name), "%s", s->name);
    int rc = catalog_mod_put(m, s, create, req->principal, oc_clock_now_ms(req->app->clock),
                             &created, err, sizeof(err));
    if (rc) {
        http_reply_err(req, rc, "%s", err);
        return;
    }
    pthread_rwlock_rdlock(&m->lock);
    const struct catalog_service *now = catalog_service_find(m->cat, name);
    json_t *j = now ? catalog_service_to_json(now) : json_object();
    pthread_rwlock_unlock(&m->lock);
    http_reply_json(req, created ? 201 : 200, j);
}

static void service_post(struct http_req *req)
{
    struct catalog_service *s = body_service(req, NULL);
    if (s)
        put_common(req, s, 1);
}

static void service_put(struct http_req *req)
{
    struct catalog_service *s = body_service(req, http_param(req, "name"));
    if (s)
        put_common(req, s, 0);
}

static void service_delete(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    char err[CATALOG_ERR_MAX];
    const char *name = http_param(req, "name");
    int rc = catalog_mod_delete(m, name, req->principal, oc_clock_now_ms(req->app->clock), err,
                                sizeof(err));
    if (rc)
        http_reply_err(req, rc, "%s", err);
    else
        http_reply(req, 204, "application/json", "", 0);
}

static void blast_get(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    struct catalog_blast b;
    const char *name = http_param(req, "name");
    pthread_rwlock_rdlock(&m->lock);
    int rc = catalog_blast_radius(m->cat, name, &b);
    pthread_rwlock_unlock(&m->lock);
    if (rc) {
        http_problem(req, 404, "no service named %s", name);
        return;
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:o, s:o}", "service", name, "affected_services",
                              names_json(&b.services), "slices", names_json(&b.slices)));
    catalog_blast_free(&b);
}

static void walk_get(struct http_req *req, int down)
{
    struct catalog_mod *m = req->state;
    struct catalog_names n;
    const char *name = http_param(req, "name");
    pthread_rwlock_rdlock(&m->lock);
    int rc = down ? catalog_downstream(m->cat, name, &n) : catalog_upstream(m->cat, name, &n);
    pthread_rwlock_unlock(&m->lock);
    if (rc) {
        http_problem(req, 404, "no service named %s", name);
        return;
    }
    http_reply_json(
        req, 200,
        json_pack("{s:s, s:o}", "service", name, down ? "downstream" : "upstream", names_json(&n)));
    catalog_names_free(&n);
}

static void upstream_get(struct http_req *req)
{
    walk_get(req, 0);
}

static void downstream_get(struct http_req *req)
{
    walk_get(req, 1);
}

static json_t *route_json(const struct catalog_route *r)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "service", r->service, "team",
                     r->team, "escalation_lead", r->lead, "oncall", r->oncall, "escalation_policy",
                     r->policy, "runbook", r->runbook, "matched", r->matched, "score", r->score,
                     "reason", r->reason);
}

static const char *const target_names[] = {"", "oncall", "person", "webhook"};

/* The escalation plan of policy from at_ms as a JSON array (empty without a policy). */
static json_t *plan_json(const struct catalog *c, const char *policy, int64_t at_ms)
{
    json_t *a = json_array();
    int n = 0;
    struct catalog_page *pages = oc_calloc(CATALOG_MAX_PAGES, sizeof(*pages));
    catalog_escalation_plan(c, policy, at_ms, pages, CATALOG_MAX_PAGES, &n);
    for (int i = 0; i < n; i++) {
        char when[32];
        oc_time_format(pages[i].at_ms, when, sizeof(when));
        json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "at", when, "round",
                                           pages[i].round, "step", pages[i].step, "notify",
                                           target_names[pages[i].kind], "target", pages[i].target,
                                           "person", pages[i].person));
    }
    free(pages);
    return a;
}

static void route_get(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    struct catalog_route r;
    struct catalog_slice s;
    char err[CATALOG_ERR_MAX];
    int64_t at;
    int rc;
    const char *slice = http_query(req, "slice"), *service = http_query(req, "service");
    if (query_time(req, &at) != 0)
        return;
    if (!slice == !service) {
        http_problem(req, 422, "give exactly one of slice=dim:value,... or service=NAME");
        return;
    }
    if (slice && catalog_slice_parse(slice, &s, err, sizeof(err)) != 0) {
        http_problem(req, 422, "slice: %s", err);
        return;
    }
    pthread_rwlock_rdlock(&m->lock);
    rc = slice ? catalog_route(m->cat, &s, at, &r) : catalog_route_service(m->cat, service, at, &r);
    json_t *plan = rc == 0 ? plan_json(m->cat, r.policy, at) : NULL;
    pthread_rwlock_unlock(&m->lock);
    if (slice)
        catalog_slice_free(&s);
    if (rc) {
        http_problem(req, 404, "%s", r.reason);
        return;
    }
    json_t *j = route_json(&r);
    json_object_set_new(j, "escalation", plan);
    http_reply_json(req, 200, j);
}

static json_t *shift_json(const char *team, const struct catalog_shift *sh)
{
    char from[32], to[32];
    oc_time_format(sh->from_ms, from, sizeof(from));
    oc_time_format(sh->to_ms, to, sizeof(to));
    return json_pack("{s:s, s:s, s:s, s:s, s:b}", "team", team, "person", sh->person, "from", from,
                     "to", to, "override", sh->is_override);
}

static void oncall_get(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    struct catalog_shift sh;
    const char *team = http_query(req, "team");
    int64_t at;
    if (query_time(req, &at) != 0)
        return;
    json_t *res = NULL, *all = json_array();
    int rc = 0;
    pthread_rwlock_rdlock(&m->lock);
    if (team && (rc = catalog_oncall(m->cat, team, at, &sh)) == 0)
        res = shift_json(team, &sh);
    for (int i = 0; !team && i < m->cat->nteams; i++)
        if (catalog_oncall(m->cat, m->cat->teams[i].name, at, &sh) == 0)
            json_array_append_new(all, shift_json(m->cat->teams[i].name, &sh));
    pthread_rwlock_unlock(&m->lock);
    if (rc == OC_ENOTFOUND)
        http_problem(req, 404, "no team named %s", team);
    else if (rc)
        http_problem(req, 404, "team %s has no on-call rotation", team);
    else
        http_reply_json(req, 200, res ? res : json_pack("{s:O}", "oncall", all));
    json_decref(all);
}

static void teams_get(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    json_t *a = json_array();
    pthread_rwlock_rdlock(&m->lock);
    for (int i = 0; i < m->cat->nteams; i++)
        json_array_append_new(a, catalog_team_to_json(&m->cat->teams[i]));
    pthread_rwlock_unlock(&m->lock);
    http_reply_json(req, 200, json_pack("{s:o}", "teams", a));
}

static void reload_post(struct http_req *req)
{
    struct catalog_mod *m = req->state;
    char err[CATALOG_ERR_MAX];
    int n = 0;
    int rc = catalog_mod_reload(m, &n, err, sizeof(err));
    if (rc)
        http_reply_err(req, rc, "%s", err);
    else
        http_reply_json(
            req, 200,
            json_pack("{s:s, s:i}", "source", m->file ? m->file : "example", "services", n));
}

static const struct http_route catalog_routes[] = {
    {"GET", "/v1/services", services_list, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "every service in the catalog (deploy_webhook cut after the host unless admin)"},
    {"POST", "/v1/services", service_post, HTTP_ADMIN, SERVICE_BODY,
     "add a service (422 naming unknown fields or references; 409 if it exists)"},
    {"GET", "/v1/services/{name}", service_get, HTTP_VIEWER, HTTP_DEFAULT_BODY, "one service"},
    {"PUT", "/v1/services/{name}", service_put, HTTP_ADMIN, SERVICE_BODY,
     "create or replace a service (persisted over the catalog file)"},
    {"DELETE", "/v1/services/{name}", service_delete, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "delete a service no other service depends on"},
    {"GET", "/v1/services/{name}/blast-radius", blast_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "services and QoE slices affected when this service fails"},
    {"GET", "/v1/services/{name}/upstream", upstream_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "what the service depends on, transitively"},
    {"GET", "/v1/services/{name}/downstream", downstream_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "what depends on the service, transitively"},
    {"GET", "/v1/route", route_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "who to page for ?slice=cdn:primary,region:EMEA or ?service=NAME (&at=TIME)"},
    {"GET", "/v1/oncall", oncall_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "who is on call for ?team=T (every team without it) at ?at=TIME (default now)"},
    {"GET", "/v1/teams", teams_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "teams with their escalation policy and on-call rotation"},
    {"POST", "/v1/catalog/reload", reload_post, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "reload catalog.file and re-apply the API's stored edits"},
    {0},
};

/* The catalog module's options. */
struct catalog_opts {
    char *file; /* catalog.file; "" = the embedded example */
};

#define F(field) offsetof(struct catalog_opts, field)

static const struct oc_setting settings[] = {
    {"catalog.file", OC_SETTING_STR, "", 0, 0, NULL, F(file), NULL,
     "service catalog YAML loaded at start and on POST /v1/catalog/reload; empty: the example"},
    {0},
};

#undef F

static int catalog_mod_init(struct oc_app *app, void **state)
{
    struct catalog_mod *m = NULL;
    char err[CATALOG_ERR_MAX];
    struct catalog_opts def;
    const struct catalog_opts *o = config_module_opts(app->cfg, &catalog_module, &def);
    const char *file = o->file;
    int rc = catalog_mod_new(app->store, file, &m, err, sizeof(err));
    if (rc) {
        oc_log(OC_LOG_ERROR, "catalog: %s", err);
        return rc;
    }
    oc_log(OC_LOG_INFO, "catalog: %d services from %s", m->cat->nservices, m->cat->source);
    rc = oc_app_provide(app, CATALOG_PROVIDES, m);
    if (rc != 0) {
        catalog_mod_destroy(m);
        return rc;
    }
    *state = m;
    return 0;
}

static void catalog_mod_stop(struct oc_app *app, void *state)
{
    struct catalog_mod *m = state;
    oc_app_withdraw(app, CATALOG_PROVIDES);
    pthread_rwlock_wrlock(&m->lock); /* wait until no borrower holds it */
    pthread_rwlock_unlock(&m->lock);
    catalog_mod_destroy(m);
}

/* SIGHUP: catalog.file again, with the API's stored edits on top. */
static int catalog_mod_reload_hup(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct catalog_mod *m = state;
    char err[CATALOG_ERR_MAX];
    int n = 0, rc = catalog_mod_reload(m, &n, err, sizeof(err));
    (void)app;
    if (rc)
        oc_buf_printf(say, "catalog: kept the old one: %s", err);
    else
        oc_buf_printf(say, "catalog: %d services from %s", n, m->file ? m->file : "the example");
    return rc;
}

const struct oc_module catalog_module = {
    .name = "catalog",
    .summary = "service catalog: ownership, dependencies, blast radius, routing, on-call",
    .init = catalog_mod_init,
    .routes = catalog_routes,
    .stop = catalog_mod_stop,
    .settings = settings,
    .opts_size = sizeof(struct catalog_opts),
    .reload = catalog_mod_reload_hup,
};
