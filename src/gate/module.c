/*
 * module.c - gate_module: POST /v1/gates/{service} (the go / no-go of a release, with a
 * canary comparison when one is named) and the freeze windows under /v1/freezes. Its
 * settings are the canary test's defaults and the policy for mitigations a failed canary
 * applies by itself.
 */
#include "gate/gate_int.h"

#include "config/config.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http.h"
#include "store/store.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FREEZE_BODY (4 << 10) /* bytes of a POST /v1/freezes body */

#define F(field) offsetof(struct gate_opts, field)

static const struct oc_setting settings[] = {
    {"gate.canary_window_s", OC_SETTING_INT, "600", 60, GATE_MAX_WINDOW_S, NULL, F(canary_window_s),
     NULL, "the closed minutes a canary is compared over, ending at the last complete minute"},
    {"gate.alpha_pct", OC_SETTING_PCT, "1", 1, 20, NULL, F(alpha), NULL,
     "significance level of a canary comparison, split over its metrics (Bonferroni)"},
    {"gate.min_sample", OC_SETTING_INT, "200", 1, 100000000, NULL, F(min_sample), NULL,
     "trials (starts, viewer-minutes) each slice needs on a metric before it is tested"},
    {"gate.min_lift_pct", OC_SETTING_PCT, "20", 0, 10000, NULL, F(min_lift), NULL,
     "how much worse (relative, %) the canary must be on a metric, besides significantly"},
    {"gate.min_budget_pct", OC_SETTING_PCT, "5", 0, 100, NULL, F(min_budget), NULL,
     "no-go when an SLO of the service or of what it depends on has less error budget left"},
    {"gate.auto_mitigate", OC_SETTING_STR, "", 0, 0, NULL, F(auto_mitigate), NULL,
     "mitigation kinds (\"rollback,flag\") a failed canary's on_fail applies by itself as actor"
     " gate; empty: none (the answer says what to run)"},
    {0},
};

#undef F

/* POST /v1/gates/{service}. */
static void gates_post(struct http_req *req)
{
    struct gate_mod *g = req->state;
    struct gate_request r;
    const char *service = http_param(req, "service");
    char err[600] = "";
    json_t *body = http_body_json(req), *out = NULL;
    if (!body)
        return;
    if (gate_request_parse(body, &r, err, sizeof err) != 0) {
        http_problem(req, 422, "%s", err);
        json_decref(body);
        return;
    }
    int rc = gate_decide(g, service ? service : "", &r, req->principal, &out, err, sizeof err);
    if (rc == OC_ENOTFOUND)
        http_problem(req, 422, "%s", err);
    else if (rc == OC_EBUSY)
        http_problem(req, 503, "%s", err);
    else if (rc)
        http_reply_err(req, rc, "%s", err[0] ? err : "the gate could not be decided");
    else {
        if (req->role != HTTP_ADMIN) /* a deploy hook's path is often its credential */
            oc_json_cut_url(json_object_get(json_object_get(out, "mitigation"), "record"),
                            "deploy_webhook");
        http_reply_json(req, 200, out);
    }
    gate_request_free(&r);
    json_decref(body);
}

/* POST /v1/freezes. */
static void freezes_post(struct http_req *req)
{
    json_t *body = http_body_json(req), *out = NULL;
    char err[300];
    if (!body)
        return;
    int rc = gate_freeze_add(req->app->store, body, req->principal, oc_clock_now_s(req->app->clock),
                             &out, err, sizeof err);
    if (rc == OC_EINVAL)
        http_problem(req, 422, "%s", err);
    else if (rc)
        http_reply_err(req, rc, "%s", err);
    else
        http_reply_json(req, 201, out);
    json_decref(body);
}

/* GET /v1/freezes: those not over yet. */
static void freezes_get(struct http_req *req)
{
    json_t *a = gate_freezes(req->app->store, oc_clock_now_s(req->app->clock));
    if (!a)
        http_reply_err(req, OC_EDB, "the freezes could not be read");
    else
        http_reply_json(req, 200, json_pack("{s:o}", "freezes", a));
}

/* DELETE /v1/freezes/{id}. */
static void freeze_delete(struct http_req *req)
{
    const char *s = http_param(req, "id");
    char *end;
    errno = 0;
    long long id = s ? strtoll(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || id <= 0) {
        http_problem(req, 404, "no freeze %s", s ? s : "");
        return;
    }
    int rc = gate_freeze_delete(req->app->store, id);
    if (rc == OC_ENOTFOUND)
        http_problem(req, 404, "no freeze %lld", id);
    else if (rc)
        http_reply_err(req, rc, "the freeze could not be deleted");
    else
        http_reply_json(req, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
}

static int gate_init(struct oc_app *app, void **state)
{
    struct gate_opts def;
    *state = NULL;
    if (!app->store) {
        oc_log(OC_LOG_ERROR, "gate: the module needs the store");
        return OC_EINVAL;
    }
    struct gate_mod *g = oc_calloc(1, sizeof *g);
    g->app = app;
    g->opts = *(const struct gate_opts *)config_module_opts(app->cfg, &gate_module, &def);
    *state = g;
    return 0;
}

static void gate_stop(struct oc_app *app, void *state)
{
    (void)app;
    free(state);
}

static const struct http_route routes[] = {
    {"POST", "/v1/gates/{service}", gates_post, HTTP_RESPONDER, GATE_BODY_MAX,
     "{canary?: \"player_version=7.2.0\", baseline?: SLICE, window_s?, alpha?, min_sample?, "
     "min_lift?, metrics?: [vsf_rate, ebvs_rate, rebuffering_share], version?, on_fail?: "
     "{kind: rollback|flag, ...}, dry_run?} -> {decision: go|no-go, reasons, checks: "
     "[error_budget, incidents, freeze, canary (each metric's counts, z, p_value, verdict)], "
     "mitigation, change_id}; recorded as a change of kind gate; 422 names the field (an "
     "unknown service with did-you-mean)"},
    {"POST", "/v1/freezes", freezes_post, HTTP_RESPONDER, FREEZE_BODY,
     "{service (or \"*\"), from?, to, reason}: gates of the service answer no-go while it "
     "lasts -> 201 the freeze"},
    {"GET", "/v1/freezes", freezes_get, HTTP_VIEWER, 0, "{freezes}: those not over yet"},
    {"DELETE", "/v1/freezes/{id}", freeze_delete, HTTP_RESPONDER, 0, "ends a freeze early"},
    {0},
};

const struct oc_module gate_module = {
    .name = "gate",
    .summary = "release gates and canaries: go or no-go with reasons, freeze windows",
    .init = gate_init,
    .routes = routes,
    .stop = gate_stop,
    .settings = settings,
    .opts_size = sizeof(struct gate_opts),
};
