/*
 * module.c - the `slo` module: loads slo.file (or the shipped defaults) at start and answers
 * GET /v1/slos with each SLO's error budget remaining and burn rates, computed on demand
 * over the closed minutes of the qoe module's cube. The set is provided to the other modules
 * (alert's burn-rate rules) as SLO_PROVIDES_SET.
 */
#include "slo/slo.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "http/http.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

const struct slo_set *slo_set_of(const struct oc_app *app)
{
    return oc_app_find(app, SLO_PROVIDES_SET);
}

/* GET /v1/slos: {"slos": [...], "at": T}. */
static void slos_get(struct http_req *req)
{
    struct slo_set *set = req->state;
    struct qoe_cube *cube = qoe_cube_of(req->app);
    int64_t now = oc_clock_now_s(req->app->clock);
    json_t *arr = json_array();
    char err[256] = "";
    for (int i = 0; i < set->n; i++) {
        struct slo_status st;
        int ok = cube && slo_status_at(&set->slos[i], cube, now, &st, err, sizeof(err)) == 0;
        json_array_append_new(arr, slo_json(&set->slos[i], ok ? &st : NULL));
    }
    http_reply_json(req, 200, json_pack("{s:o, s:I}", "slos", arr, "now", (json_int_t)now));
}

static const struct http_route routes[] = {
    {"GET", "/v1/slos", slos_get, HTTP_VIEWER, 0,
     "SLOs with error budget remaining and burn rates over 1h and 6h"},
    {0},
};

static int slo_init(struct oc_app *app, void **state)
{
    char err[512] = "";
    struct slo_set *set = NULL;
    struct slo_opts def;
    const struct slo_opts *o = config_module_opts(app->cfg, &slo_module, &def);
    int rc = slo_set_load(o->file, &set, err, sizeof(err));
    if (rc) {
        oc_log(OC_LOG_ERROR, "slo: %s", err);
        return rc;
    }
    rc = oc_app_provide(app, SLO_PROVIDES_SET, set);
    if (rc) {
        slo_set_destroy(set);
        return rc;
    }
    *state = set;
    return 0;
}

static void slo_stop(struct oc_app *app, void *state)
{
    oc_app_withdraw(app, SLO_PROVIDES_SET);
    slo_set_destroy(state);
}

#define F(field) offsetof(struct slo_opts, field)

static const struct oc_setting settings[] = {
    {"slo.file", OC_SETTING_STR, "", 0, 0, NULL, F(file), NULL,
     "SLO YAML (OpenSLO-shaped) loaded at start; empty: the shipped examples/slos.yaml"},
    {0},
};

#undef F

const struct oc_module slo_module = {
    .name = "slo",
    .summary = "published SLOs and their error budgets (GET /v1/slos)",
    .init = slo_init,
    .routes = routes,
    .stop = slo_stop,
    .settings = settings,
    .opts_size = sizeof(struct slo_opts),
};
