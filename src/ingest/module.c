/*
 * module.c - the `ingest` module: POST /v1/events into the qoe module's cube, and the
 * rejected-event counters in /metrics.
 *
 * The handler parses on the HTTP worker thread (no lock), then folds the batch into the cube
 * under one lock per request. The answer lists the first INGEST_MAX_ERRORS rejected items
 * with their index in the body and the reason; CORS lets browser players post from any origin
 * (the HTTP layer answers the OPTIONS preflight).
 */
#include "ingest/ingest.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define INGEST_MAX_BODY  (8u << 20) /* bytes of one POST /v1/events */
#define INGEST_MAX_ITEMS 100000     /* events of one body */

/* The module's state: the cube it folds into (the qoe module's) and its reject counters. */
struct ingest_mod {
    struct qoe_cube *cube;     /* borrowed from the qoe module */
    struct ingest_stats stats; /* by reason, parse and cube */
};

static json_t *answer(const struct ingest_batch *b, size_t accepted)
{
    json_t *errors = json_array();
    size_t listed = 0;
    for (size_t i = 0; i < b->nitems && listed < INGEST_MAX_ERRORS; i++) {
        if (b->reason[i] == INGEST_OK)
            continue;
        json_array_append_new(errors, json_pack("{s:I,s:s,s:s}", "index", (json_int_t)i, "reason",
                                                ingest_reason_names[b->reason[i]], "detail",
                                                ingest_reason_details[b->reason[i]]));
        listed++;
    }
    return json_pack("{s:I,s:I,s:o}", "accepted", (json_int_t)accepted, "rejected",
                     (json_int_t)(b->nitems - accepted), "errors", errors);
}

static void post_events(struct http_req *req)
{
    struct ingest_mod *m = req->state;
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
        size_t ok = ingest_fold(m->cube, &b, &m->stats);
        http_reply_json(req, 200, answer(&b, ok));
    }
    ingest_batch_free(&b);
}

/* /metrics: the rejected events by reason (the cube's own counters are the qoe module's). */
static void render(struct oc_buf *b, void *arg)
{
    struct ingest_mod *m = arg;
    oc_metrics_family(b, "oncue_ingest_events_rejected_total", "counter",
                      "Beacon events rejected, by reason.");
    for (int r = 1; r < INGEST_NREASONS; r++) {
        const char *labels[] = {"reason", ingest_reason_names[r], NULL};
        oc_metrics_sample(b, "oncue_ingest_events_rejected_total", labels,
                          (double)m->stats.rejected[r]);
    }
}

/* Finds the cube; ingest has nothing to fold into without the qoe module. */
static int ingest_init(struct oc_app *app, void **state)
{
    struct qoe_cube *c = qoe_cube_of(app);
    if (!c) {
        oc_log(OC_LOG_ERROR, "ingest: the qoe module must run too (it owns the cube)");
        return OC_ENOTFOUND;
    }
    struct ingest_mod *m = oc_calloc(1, sizeof(*m));
    m->cube = c;
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    *state = m;
    return 0;
}

static void ingest_stop(struct oc_app *app, void *state)
{
    (void)app;
    free(state);
}

static const struct http_route routes[] = {
    {"POST", "/v1/events", post_events, HTTP_INGEST, INGEST_MAX_BODY,
     "beacon events (JSON array or NDJSON, also text/plain) -> accepted, rejected, errors"},
    {0},
};

const struct oc_module ingest_module = {
    .name = "ingest",
    .summary = "player beacons: POST /v1/events into the per-minute QoE cube (needs qoe)",
    .init = ingest_init,
    .routes = routes,
    .stop = ingest_stop,
};
