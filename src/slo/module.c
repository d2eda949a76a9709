/*
 * module.c - the `slo` module: loads slo.file (or the shipped defaults) at start and answers
 * GET /v1/slos with each SLO's error budget remaining and burn rates, computed on demand
 * over the closed minutes of the qoe module's cube. The set is provided to the other modules
 * (alert's burn-rate rules) as SLO_PROVIDES_SET.
 *
 * SIGHUP re-reads slo.file into the same set (slo_set_replace, under the set's lock).
 *
 * The answer depends only on the last complete minute, so it is computed once per minute:
 * the first request after a minute completes scans the window (a 30-day window reads a month
 * of stored minutes); the others, consoles polling included, copy the text (core/memo.h).
 */
#include "slo/slo.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/memo.h"
#include "core/log.h"
#include "http/http.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct slo_set *slo_set_of(const struct oc_app *app)
{
    return oc_app_find(app, SLO_PROVIDES_SET);
}

struct slo_module_state {
    struct slo_set *set;
    struct oc_memo answer; /* the "slos" array as JSON text, per complete minute */
};

/* The "slos" array for the minutes complete up to to, as JSON text (malloc'd). */
static char *compute(const struct slo_set *set, struct qoe_cube *cube, int64_t now)
{
    json_t *arr = json_array();
    char err[256] = "";
    for (int i = 0; i < set->n; i++) {
        struct slo_status st;
        int ok = cube && slo_status_at(&set->slos[i], cube, now, &st, err, sizeof(err)) == 0;
        if (cube && !ok) /* shown as no status: say why (once per complete minute, memoized) */
            oc_log(OC_LOG_WARN, "slo %s: no status: %s", set->slos[i].name, err);
        json_array_append_new(arr, slo_json(&set->slos[i], ok ? &st : NULL));
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}

/* GET /v1/slos: {"slos": [...], "now": T}. */
static void slos_get(struct http_req *req)
{
    struct slo_module_state *ms = req->state;
    struct qoe_cube *cube = qoe_cube_of(req->app);
    int64_t now = oc_clock_now_s(req->app->clock);
    int64_t to = cube ? slo_closed_upto(cube, now) : 0;
    int mine;
    slo_set_rdlock(ms->set);
    /* the minute and the set's generation: a reload answers anew within the minute */
    int64_t key = to + (int64_t)((ms->set->generation & 0xfffff) << 40);
    char *text = oc_memo_get(&ms->answer, key, &mine);
    if (!text) {
        text = compute(ms->set, cube, now);
        if (mine)
            oc_memo_put(&ms->answer, key, text);
    }
    slo_set_unlock(ms->set);
    if (!text) {
        http_problem(req, 500, "cannot serialize the SLOs");
        return;
    }
    size_t cap = strlen(text) + 64;
    char *body = oc_arena_alloc(&req->arena, cap);
    if (!body) {
        free(text);
        http_problem(req, 413, "the answer needs more memory than one request may hold");
        return;
    }
    int n = snprintf(body, cap, "{\"slos\":%s,\"now\":%lld}", text, (long long)now);
    free(text);
    http_reply(req, 200, "application/json", body, (size_t)n);
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
    struct slo_module_state *ms = oc_calloc(1, sizeof *ms);
    rc = oc_app_provide(app, SLO_PROVIDES_SET, set);
    if (rc) {
        free(ms);
        slo_set_destroy(set);
        return rc;
    }
    ms->set = set;
    oc_memo_init(&ms->answer);
    *state = ms;
    return 0;
}

/* SIGHUP: re-reads slo.file into the set the other modules borrow (slo_set_replace); a file
 * that does not load leaves the SLOs in force and says why. */
static int slo_reload(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct slo_module_state *ms = state;
    struct slo_opts def;
    const struct slo_opts *o = config_module_opts(app->cfg, &slo_module, &def);
    struct slo_set *set = NULL;
    char err[512] = "";
    int was = ms->set->n, rc = slo_set_load(o->file, &set, err, sizeof(err));
    if (rc) {
        oc_buf_printf(say, "slo: kept the %d SLOs in force: %s", was, err);
        return rc;
    }
    slo_set_replace(ms->set, set);
    oc_buf_printf(say, "slo: %d SLOs (were %d)", set->n, was);
    slo_set_destroy(set);
    return 0;
}

static void slo_stop(struct oc_app *app, void *state)
{
    struct slo_module_state *ms = state;
    oc_app_withdraw(app, SLO_PROVIDES_SET);
    slo_set_destroy(ms->set);
    oc_memo_free(&ms->answer);
    free(ms);
}

#define F(field) offsetof(struct slo_opts, field)

static const struct oc_setting settings[] = {
    {"slo.file", OC_SETTING_STR, "", 0, 0, NULL, F(file), NULL,
     "SLO YAML (OpenSLO v1) loaded at start and re-read on SIGHUP; empty: the shipped "
     "examples/slos.yaml"},
    {0},
};

#undef F

const struct oc_module slo_module = {
    .name = "slo",
    .summary = "published SLOs and their error budgets (GET /v1/slos)",
    .init = slo_init,
    .routes = routes,
    .stop = slo_stop,
    .reload = slo_reload,
    .settings = settings,
    .opts_size = sizeof(struct slo_opts),
};
