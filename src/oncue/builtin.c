/*
 * builtin.c - the routes every server has: liveness, readiness, Prometheus metrics, and the
 * list of running modules.
 */
#include "oncue/builtin.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "http/http.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The module's state: when it started, for the process start gauge. */
struct builtin_mod {
    int64_t started_wall_ms;
};

static void healthz(struct http_req *req)
{
    http_reply(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static void readyz(struct http_req *req)
{
    if (!req->app->store || store_ping(req->app->store) != 0) {
        http_problem(req, 503, "the store is not open");
        return;
    }
    http_reply(req, 200, "text/plain; charset=utf-8", "ready\n", 6);
}

static void metrics(struct http_req *req)
{
    struct oc_buf b;
    oc_buf_init(&b, 64 << 20);
    oc_metrics_render(req->app->metrics, &b);
    http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
    oc_buf_free(&b);
}

static void modules(struct http_req *req)
{
    json_t *list = json_array();
    for (int i = 0; i < req->app->nrunning; i++)
        json_array_append_new(list, json_string(req->app->running[i].mod->name));
    http_reply_json(req, 200, json_pack("{s:s, s:o}", "version", ONCUE_VERSION, "modules", list));
}

static void render_process(struct oc_buf *b, void *arg)
{
    const struct builtin_mod *m = arg;
    oc_metrics_family(b, "oncue_build_info", "gauge", "Always 1; the version as a label.");
    const char *labels[] = {"version", ONCUE_VERSION, NULL};
    oc_metrics_sample(b, "oncue_build_info", labels, 1);
    oc_metrics_family(b, "oncue_process_start_time_seconds", "gauge",
                      "Unix time the process started.");
    oc_metrics_sample(b, "oncue_process_start_time_seconds", NULL,
                      (double)m->started_wall_ms / 1000.0);
}

static int builtin_init(struct oc_app *app, void **state)
{
    struct builtin_mod *m = oc_calloc(1, sizeof(*m));
    m->started_wall_ms = oc_wall_ms();
    if (app->metrics)
        oc_metrics_register(app->metrics, render_process, m);
    *state = m;
    return 0;
}

static void builtin_stop(struct oc_app *app, void *state)
{
    (void)app;
    free(state);
}

static const struct http_route routes[] = {
    {"GET", "/healthz", healthz, HTTP_PUBLIC, 0, "200 while the process runs"},
    {"GET", "/readyz", readyz, HTTP_PUBLIC, 0, "200 when the store is open, else 503"},
    {"GET", "/metrics", metrics, HTTP_PUBLIC, 0, "Prometheus text exposition"},
    {"GET", "/v1/modules", modules, HTTP_VIEWER, 0, "version and the modules running"},
    {0},
};

const struct oc_module builtin_module = {
    .name = "builtin",
    .summary = "health, readiness, metrics",
    .init = builtin_init,
    .routes = routes,
    .stop = builtin_stop,
};
