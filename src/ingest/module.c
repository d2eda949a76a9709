/*
 * module.c - the `ingest` module: POST /v1/events, the timer that closes minutes on the
 * clock, and the ingest counters in /metrics.
 *
 * The handler parses on the HTTP worker thread (no lock), then folds the batch into the cube
 * under one lock per request. The answer lists the first INGEST_MAX_ERRORS rejected items
 * with their index in the body and the reason; CORS lets browser players post from any origin
 * (the HTTP layer answers the OPTIONS preflight).
 */
#include "ingest/ingest.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define INGEST_MAX_BODY  (8u << 20) /* bytes of one POST /v1/events */
#define INGEST_MAX_ITEMS 100000     /* events of one body */

static _Atomic(struct ingest_cube *) current; /* the running module's cube */

struct ingest_cube *ingest_cube_current(void)
{
    return atomic_load(&current);
}

static json_t *answer(const struct ingest_batch *b, size_t accepted)
{
    json_t *errors = json_array();
    size_t listed = 0;
    for (size_t i = 0; i < b->nitems && listed < INGEST_MAX_ERRORS; i++) {
        if (b->reason[i] == INGEST_OK)
            continue;
        json_array_append_new(errors, json_pack("{s:I,s:s}", "index", (json_int_t)i, "reason",
                                                ingest_reason_names[b->reason[i]]));
        listed++;
    }
    return json_pack("{s:I,s:I,s:o}", "accepted", (json_int_t)accepted, "rejected",
                     (json_int_t)(b->nitems - accepted), "errors", errors);
}

static void post_events(struct http_req *req)
{
    struct ingest_cube *c = req->state;
    struct ingest_batch b;
    char err[160];
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    ingest_batch_init(&b, INGEST_MAX_ITEMS);
    int rc = ingest_parse(&b, req->body, req->body_len, err, sizeof err);
    if (rc == OC_ETOOBIG) {
        http_problem(req, 413, "more than %d events in one body", INGEST_MAX_ITEMS);
    } else if (rc != 0) {
        http_problem(req, 400, "%s", err);
    } else {
        ingest_cube_count_rejects(c, &b);
        size_t ok = ingest_cube_add(c, &b);
        http_reply_json(req, 200, answer(&b, ok));
    }
    ingest_batch_free(&b);
}

static void counter(struct oc_buf *b, const char *name, const char *help, double v)
{
    oc_metrics_family(b, name, "counter", help);
    oc_metrics_sample(b, name, NULL, v);
}

static void render(struct oc_buf *b, void *arg)
{
    struct ingest_cube_stats st;
    ingest_cube_stats(arg, &st);
    counter(b, "oncue_ingest_events_accepted_total", "Beacon events folded into the cube.",
            (double)st.accepted);
    oc_metrics_family(b, "oncue_ingest_events_rejected_total", "counter",
                      "Beacon events rejected, by reason.");
    for (int r = 1; r < INGEST_NREASONS; r++) {
        const char *labels[] = {"reason", ingest_reason_names[r], NULL};
        oc_metrics_sample(b, "oncue_ingest_events_rejected_total", labels, (double)st.rejected[r]);
    }
    oc_metrics_family(b, "oncue_ingest_values_folded_total", "counter",
                      "Events whose dimension value was folded into other by the cap.");
    for (int d = 0; d < BEACON_NDIMS; d++) {
        const char *labels[] = {"dim", beacon_dim_names[d], NULL};
        oc_metrics_sample(b, "oncue_ingest_values_folded_total", labels, (double)st.folded[d]);
    }
    counter(b, "oncue_ingest_leaves_folded_total",
            "Events sent to the all-other leaf by a leaf cap.", (double)st.leaves_folded);
    counter(b, "oncue_ingest_sessions_dropped_total",
            "Heartbeats whose session was not counted (per-minute session cap).",
            (double)st.sessions_dropped);
    counter(b, "oncue_ingest_windows_closed_total", "One-minute windows closed.",
            (double)st.minutes_closed);
    counter(b, "oncue_ingest_windows_dropped_total",
            "Closed minutes dropped unwritten because the store was stuck.",
            (double)st.persist_dropped);
    oc_metrics_family(b, "oncue_ingest_windows_pending", "gauge",
                      "Closed minutes waiting to be written to the store.");
    oc_metrics_sample(b, "oncue_ingest_windows_pending", NULL, (double)st.persist_pending);
    oc_metrics_family(b, "oncue_ingest_leaves", "gauge", "Distinct dimension combinations.");
    oc_metrics_sample(b, "oncue_ingest_leaves", NULL, st.leaves);
    oc_metrics_family(b, "oncue_ingest_closed_upto_seconds", "gauge",
                      "Every minute before this time is closed.");
    oc_metrics_sample(b, "oncue_ingest_closed_upto_seconds", NULL,
                      st.closed_upto_s == INT64_MIN ? 0 : (double)st.closed_upto_s);
}

static void cube_opts(const struct oc_config *cfg, struct ingest_cube_opts *o)
{
    ingest_cube_opts_default(o);
    if (!cfg)
        return;
    o->allowed_lateness_s = cfg->ingest_lateness_s;
    o->max_future_skew_s = cfg->ingest_future_skew_s;
    o->max_values_per_dim = (uint32_t)cfg->ingest_max_values;
    o->max_leaves_per_minute = (uint32_t)cfg->ingest_max_leaves_min;
    o->max_leaves = (uint32_t)cfg->ingest_max_leaves;
    o->max_sessions_per_minute = (uint32_t)cfg->ingest_max_sessions;
    o->memory_minutes = cfg->qoe_memory_minutes;
    o->rollup_5m_after_s = cfg->qoe_rollup_5m_after_s;
    o->rollup_1h_after_s = cfg->qoe_rollup_1h_after_s;
    o->retention_days = cfg->qoe_retention_days;
}

static int ingest_init(struct oc_app *app, void **state)
{
    struct ingest_cube_opts o;
    char err[256];
    cube_opts(app->cfg, &o);
    struct ingest_cube *c = ingest_cube_new(&o, app->clock);
    if (app->store && ingest_cube_load(c, app->store, err, sizeof err) != 0) {
        oc_log(OC_LOG_ERROR, "ingest: cannot load the stored cube: %s", err);
        ingest_cube_destroy(c);
        return OC_EDB;
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, c);
    atomic_store(&current, c);
    *state = c;
    return 0;
}

static void ingest_timer(struct oc_app *app, void *state)
{
    ingest_cube_tick(state);
    if (app->store)
        ingest_cube_persist(state, app->store);
}

static void compact_timer(struct oc_app *app, void *state)
{
    if (app->store)
        ingest_cube_compact(state, app->store, oc_clock_now_s(app->clock));
}

static void ingest_stop(struct oc_app *app, void *state)
{
    atomic_store(&current, NULL);
    ingest_cube_flush(state);
    if (app->store)
        ingest_cube_persist(state, app->store);
    ingest_cube_destroy(state);
}

static const struct http_route routes[] = {
    {"POST", "/v1/events", post_events, HTTP_INGEST, INGEST_MAX_BODY,
     "beacon events (JSON array or NDJSON, also text/plain) -> accepted, rejected, errors"},
    {0},
};

static const struct oc_module_timer timers[] = {
    {"ingest.close_minutes", 1000, ingest_timer},
    {"ingest.compact", 60000, compact_timer},
    {0},
};

const struct oc_module ingest_module = {
    .name = "ingest",
    .summary = "player beacons: POST /v1/events into the per-minute QoE cube",
    .init = ingest_init,
    .routes = routes,
    .timers = timers,
    .stop = ingest_stop,
};
