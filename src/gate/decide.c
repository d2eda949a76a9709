/*
 * decide.c - one gate decision: the service checked against the catalog, then four checks
 * (error budget of the SLOs of the service and of what it depends on, open incidents on
 * them, active freezes, and the canary when one is named). Go when every check passes. A
 * failed canary applies its on_fail mitigation when gate.auto_mitigate allows that kind, and
 * the decision is recorded as a change (kind "gate") and announced as change.recorded.
 * Nothing here holds a lock across another capability's call: the catalog is read and let go
 * first.
 */
#include "gate/gate_int.h"

#include "catalog/catalog.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/suggest.h"
#include "core/timefmt.h"
#include "core/topics.h"
#include "incident/incident.h"
#include "rca/rca.h"
#include "slo/slo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WHY_MAX 1024 /* bytes of one check's detail */

/* The service and what it depends on, from the running catalog: 0 and *deps (the service
 * first, then its upstream, a new array), or OC_ENOTFOUND with the did-you-mean in err. */
static int service_deps(struct oc_app *app, const char *service, json_t **deps, char *err,
                        size_t errlen)
{
    struct catalog_ref ref;
    struct catalog_names up = {0};
    if (catalog_get(app, &ref) != 0) {
        snprintf(err, errlen, "service: the catalog module is not running");
        return OC_EBUSY;
    }
    int rc = 0;
    if (!catalog_service_find(ref.cat, service)) {
        struct oc_suggest sg;
        char hint[160];
        oc_suggest_init(&sg, service, strlen(service));
        for (int i = 0; i < ref.cat->nservices; i++)
            oc_suggest_add(&sg, ref.cat->services[i]->name);
        snprintf(err, errlen, "service: '%.64s' is not in the catalog%s", service,
                 oc_suggest_hint(&sg, hint, sizeof hint));
        rc = OC_ENOTFOUND;
    } else {
        *deps = json_array();
        json_array_append_new(*deps, json_string(service));
        if (catalog_upstream(ref.cat, service, &up) == 0)
            for (int i = 0; i < up.n; i++)
                json_array_append_new(*deps, json_string(up.v[i]));
        catalog_names_free(&up);
    }
    catalog_put(&ref);
    return rc;
}

/* 1 when name is in the array of strings a. */
static int listed(const json_t *a, const char *name)
{
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v)
    {
        if (name && strcmp(json_string_value(v), name) == 0)
            return 1;
    }
    return 0;
}

/* Appends a sentence to a detail buffer ("; " between sentences). */
static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
    size_t at = strlen(why);
    va_list ap;
    if (at + 3 >= n)
        return;
    if (at) {
        memcpy(why + at, "; ", 3);
        at += 2;
    }
    va_start(ap, fmt);
    vsnprintf(why + at, n - at, fmt, ap);
    va_end(ap);
}

/* One check's entry. */
static json_t *check(const char *name, int ok, const char *detail, json_t *extra)
{
    json_t *c = json_pack("{s:s, s:b, s:s}", "name", name, "ok", ok, "detail", detail);
    if (extra)
        json_object_set_new(c, name, extra);
    return c;
}

/* The error budget of the SLOs of deps. */
static json_t *check_budget(struct gate_mod *g, const json_t *deps, int64_t now_s)
{
    const struct slo_set *set = slo_set_of(g->app);
    struct qoe_cube *cube = qoe_cube_of(g->app);
    char why[WHY_MAX] = "", err[200];
    json_t *slos = json_array();
    int ok = 1, n = 0;
    if (!set || !cube)
        return check("error_budget", 1, "not checked: the slo and qoe modules are not running",
                     NULL);
    slo_set_rdlock(set);
    for (int i = 0; i < set->n; i++) {
        const struct slo *s = &set->slos[i];
        struct slo_status st;
        if (!listed(deps, s->service))
            continue;
        if (slo_status_at(s, cube, now_s, &st, err, sizeof err) != 0) { /* shown, not hidden */
            json_array_append_new(slos,
                                  json_pack("{s:s, s:s, s:n, s:s}", "slo", s->name, "service",
                                            s->service, "budget_remaining", "not_checked", err));
            continue;
        }
        n++;
        json_array_append_new(slos, json_pack("{s:s, s:s, s:o}", "slo", s->name, "service",
                                              s->service, "budget_remaining",
                                              isfinite(st.budget_remaining)
                                                  ? json_real(st.budget_remaining)
                                                  : json_null()));
        if (isfinite(st.budget_remaining) && st.budget_remaining < g->opts.min_budget) {
            ok = 0;
            say(why, sizeof why, "SLO %s (%s) has %.1f%% of its error budget left, under %.0f%%",
                s->name, s->service, 100 * st.budget_remaining, 100 * g->opts.min_budget);
        }
    }
    slo_set_unlock(set);
    if (ok)
        snprintf(why, sizeof why, "%d SLO%s of the service and its dependencies within budget", n,
                 n == 1 ? "" : "s");
    return check("error_budget", ok, why, slos);
}

/* Open incidents on the service or what it depends on. */
static json_t *check_incidents(struct gate_mod *g, const char *service, const json_t *deps)
{
    struct incident_mgr *m = incident_mgr_of(g->app);
    char why[WHY_MAX] = "";
    json_t *hits = json_array(), *all, *inc;
    size_t i;
    if (!m)
        return check("incidents", 1, "not checked: the incident module is not running", NULL);
    all = incident_list_json(m, "open");
    json_array_foreach(all, i, inc)
    {
        const char *svc = json_string_value(json_object_get(inc, "service"));
        if (!svc || !listed(deps, svc))
            continue;
        const char *id = json_string_value(json_object_get(inc, "incident_id"));
        json_array_append_new(hits, json_pack("{s:s, s:s, s:O}", "incident_id", id, "service", svc,
                                              "severity", json_object_get(inc, "severity")));
        if (strcmp(svc, service) == 0)
            say(why, sizeof why, "open incident %s (%s) on %s", id,
                json_string_value(json_object_get(inc, "severity")), svc);
        else
            say(why, sizeof why, "open incident %s (%s) on %s, which %s depends on", id,
                json_string_value(json_object_get(inc, "severity")), svc, service);
    }
    json_decref(all);
    int ok = json_array_size(hits) == 0;
    if (ok)
        snprintf(why, sizeof why, "no open incident on %s or the %zu services it depends on",
                 service, json_array_size(deps) - 1);
    return check("incidents", ok, why, hits);
}

/* Active freezes on the service or on every service. */
static json_t *check_freeze(struct gate_mod *g, const char *service, int64_t now_s)
{
    char why[WHY_MAX] = "";
    json_t *a, *f;
    size_t i;
    if (!g->app->store)
        return check("freeze", 1, "not checked: the store is not open", NULL);
    if (!(a = gate_freezes_active(g->app->store, service, now_s)))
        return check("freeze", 0, "the freezes could not be read", NULL);
    json_array_foreach(a, i, f)
    {
        char until[40];
        oc_time_format(json_integer_value(json_object_get(f, "to")) * 1000, until, sizeof until);
        say(why, sizeof why, "freeze #%lld on %s until %s: %s",
            (long long)json_integer_value(json_object_get(f, "id")),
            json_string_value(json_object_get(f, "service")), until,
            json_string_value(json_object_get(f, "reason")));
    }
    int ok = json_array_size(a) == 0;
    if (ok)
        snprintf(why, sizeof why, "no freeze on %s", service);
    return check("freeze", ok, why, a);
}

/* The canary comparison over the last window of complete minutes; *failed is set when it
 * fails (not when data is short). */
static json_t *check_canary(struct gate_mod *g, const struct gate_request *r, int64_t now_s,
                            int *failed, char *err, size_t errlen)
{
    struct qoe_cube *cube = qoe_cube_of(g->app);
    char why[WHY_MAX] = "";
    json_t *res = NULL;
    *failed = 0;
    if (!cube)
        return check("canary", 0, "the qoe module is not running: no QoE to compare", NULL);
    int64_t to = slo_closed_upto(cube, now_s);
    int64_t win = r->window_s ? r->window_s : g->opts.canary_window_s;
    win -= win % 60;
    struct gate_canary_in in = {
        .canary = &r->canary,
        .baseline = &r->baseline,
        .from = to - win,
        .to = to,
        .metrics = r->metrics ? r->metrics : GATE_METRICS_ALL,
        .alpha = r->alpha > 0 ? r->alpha : g->opts.alpha,
        .min_sample = r->min_sample ? r->min_sample : g->opts.min_sample,
        .min_lift = r->min_lift >= 0 ? r->min_lift : g->opts.min_lift,
    };
    if (to <= 0 || in.from < 0)
        return check("canary", 0, "not enough data: no complete minute yet", NULL);
    int rc = gate_canary_run(cube, &in, &res, why, sizeof why, err, errlen);
    if (rc < 0)
        return NULL;
    *failed = rc == 1;
    if (rc == 0)
        snprintf(why, sizeof why,
                 "no metric of the canary is significantly worse than the "
                 "baseline's");
    return check("canary", rc == 0, why, res);
}

/* 1 when kind is in the comma-separated list. */
static int kind_allowed(const char *list, const char *kind)
{
    size_t n = strlen(kind);
    for (const char *p = list ? list : ""; *p;) {
        size_t k = strcspn(p, ", ");
        if (k == n && strncmp(p, kind, n) == 0)
            return 1;
        p += k;
        p += strspn(p, ", ");
    }
    return 0;
}

/* The id of an active mitigation the gate applied with the same arguments as req (without
 * its reason), or 0: a canary asked again does not apply its mitigation twice. */
static int64_t active_same(const struct gate_host *h, struct oc_app *app, const json_t *req)
{
    json_t *all = h->mitigations(app), *m, *a = json_deep_copy(req);
    size_t i;
    int64_t id = 0;
    json_object_del(a, "reason");
    json_array_foreach(all, i, m)
    {
        const char *state = json_string_value(json_object_get(m, "state"));
        const char *actor = json_string_value(json_object_get(m, "actor"));
        json_t *b = json_deep_copy(json_object_get(m, "spec"));
        json_object_del(b, "reason");
        if (!id && state && actor && strcmp(state, "active") == 0 && strcmp(actor, "gate") == 0 &&
            json_equal(a, b))
            id = (int64_t)json_integer_value(json_object_get(m, "id"));
        json_decref(b);
    }
    json_decref(a);
    json_decref(all);
    return id;
}

/* Applies on_fail (a rollback names the gate's service when it names none) when the policy
 * allows its kind: the answer's "mitigation" member. */
static json_t *mitigate(struct gate_mod *g, const char *service, const struct gate_request *r)
{
    const char *kind = json_string_value(json_object_get(r->on_fail, "kind"));
    char err[300] = "";
    json_t *rec = NULL, *req;
    if (!kind_allowed(g->opts.auto_mitigate, kind))
        return json_pack("{s:s, s:b, s:s}", "kind", kind, "applied", 0, "reason",
                         "gate.auto_mitigate does not allow this kind: run it with oncue mitigate");
    if (r->dry_run)
        return json_pack("{s:s, s:b, s:s}", "kind", kind, "applied", 0, "reason", "dry run");
    const struct gate_host *h = oc_app_find(g->app, GATE_PROVIDES_HOST);
    if (!h)
        return json_pack("{s:s, s:b, s:s}", "kind", kind, "applied", 0, "reason",
                         "no mitigation host: mitigations cannot be applied here");
    req = json_deep_copy(r->on_fail);
    if (strcmp(kind, "rollback") == 0 && !json_object_get(req, "service"))
        json_object_set_new(req, "service", json_string(service));
    int64_t active = active_same(h, g->app, req);
    if (active) {
        json_decref(req);
        return json_pack("{s:s, s:b, s:s, s:I}", "kind", kind, "applied", 0, "reason",
                         "the gate's same mitigation is already active", "active_id",
                         (json_int_t)active);
    }
    if (!json_object_get(req, "reason"))
        json_object_set_new(req, "reason", json_string("the canary failed its release gate"));
    int rc = h->mitigate(g->app, req, "gate", &rec, err, sizeof err);
    json_decref(req);
    if (rc) {
        oc_log(OC_LOG_WARN, "gate %s: the %s mitigation failed: %s", service, kind, err);
        return json_pack("{s:s, s:b, s:s}", "kind", kind, "applied", 0, "reason",
                         err[0] ? err : oc_strerror(rc));
    }
    return json_pack("{s:s, s:b, s:o}", "kind", kind, "applied", 1, "record", rec);
}

/* Records the decision as a change and announces it; the answer gets "change_id". */
static void record(struct gate_mod *g, const char *service, const struct gate_request *r,
                   const char *actor, int64_t now_s, json_t *ans)
{
    const char *decision = json_string_value(json_object_get(ans, "decision"));
    char desc[1200], version[GATE_SLICE_TEXT];
    json_t *reasons = json_object_get(ans, "reasons"), *v;
    size_t i, at;
    int64_t id = 0;
    at = (size_t)snprintf(desc, sizeof desc, "release gate %s", decision);
    json_array_foreach(reasons, i, v)
    {
        if (at < sizeof desc)
            at += (size_t)snprintf(desc + at, sizeof desc - at, "%s%s", i ? "; " : ": ",
                                   json_string_value(v));
    }
    if (r->version[0])
        snprintf(version, sizeof version, "%s", r->version);
    else
        gate_slice_format(&r->canary, version, sizeof version);
    struct rca_change c = {.time = now_s,
                           .service = service,
                           .kind = "gate",
                           .description = desc,
                           .version = version[0] ? version : NULL};
    if (!g->app->store || rca_change_add(g->app->store, &c, actor, now_s * 1000, &id) != 0) {
        json_object_set_new(ans, "change_id", json_null());
        return;
    }
    json_object_set_new(ans, "change_id", json_integer((json_int_t)id));
    if (g->app->bus)
        oc_bus_publish(g->app->bus, OC_TOPIC_CHANGE_RECORDED,
                       json_pack("{s:I, s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "time",
                                 (json_int_t)now_s, "service", service, "kind", "gate", "decision",
                                 decision));
}

int gate_decide(struct gate_mod *g, const char *service, const struct gate_request *r,
                const char *actor, json_t **out, char *err, size_t errlen)
{
    int64_t now_s = oc_clock_now_s(g->app->clock);
    json_t *deps = NULL, *checks, *reasons, *c, *mit = NULL;
    int failed = 0, go = 1;
    size_t i;
    *out = NULL;
    int rc = service_deps(g->app, service, &deps, err, errlen);
    if (rc)
        return rc;
    checks = json_array();
    json_array_append_new(checks, check_budget(g, deps, now_s));
    json_array_append_new(checks, check_incidents(g, service, deps));
    json_array_append_new(checks, check_freeze(g, service, now_s));
    if (r->has_canary) {
        if (!(c = check_canary(g, r, now_s, &failed, err, errlen))) {
            json_decref(checks);
            json_decref(deps);
            return OC_EDB;
        }
        json_array_append_new(checks, c);
    }
    reasons = json_array();
    json_array_foreach(checks, i, c)
    {
        if (json_is_true(json_object_get(c, "ok")))
            continue;
        go = 0;
        json_array_append_new(reasons,
                              json_sprintf("%s: %s", json_string_value(json_object_get(c, "name")),
                                           json_string_value(json_object_get(c, "detail"))));
    }
    if (failed && r->on_fail)
        mit = mitigate(g, service, r);
    json_array_remove(deps, 0); /* the service itself */
    *out = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:b}", "service", service, "decision",
                     go ? "go" : "no-go", "at", (json_int_t)now_s, "reasons", reasons, "checks",
                     checks, "depends_on", deps, "mitigation", mit ? mit : json_null(), "dry_run",
                     r->dry_run);
    if (!r->dry_run)
        record(g, service, r, actor, now_s, *out);
    else
        json_object_set_new(*out, "change_id", json_null());
    oc_log(OC_LOG_INFO, "gate %s: %s", service, go ? "go" : "no-go");
    return 0;
}
