/*
 * server.c - the HTTP server: N libevent loops, each with its own connections (conn.c) and its
 * own SO_REUSEPORT listening socket on the same port, so the kernel spreads connections over
 * every core. Dispatch matches the route, applies the body cap, authenticates, calls the
 * handler with a fresh arena, and reports mutating requests to the audit hook.
 */
#include "http/http_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/module.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const double http_dur_bounds[NDUR] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5};

/* The workers' counters, summed. */
struct totals {
    uint64_t requests, by_class[6], dur_buckets[NDUR + 1], dur_sum_us;
    int64_t inflight;
};

static void sum_workers(const struct http_server *srv, struct totals *t)
{
    memset(t, 0, sizeof(*t));
    for (int k = 0; k < srv->nworkers; k++) {
        const struct worker_stats *st = &srv->workers[k].st;
        t->requests += atomic_load(&st->requests);
        t->inflight += atomic_load(&st->inflight);
        t->dur_sum_us += atomic_load(&st->dur_sum_us);
        for (int c = 0; c < 6; c++)
            t->by_class[c] += atomic_load(&st->by_class[c]);
        for (int b = 0; b <= NDUR; b++)
            t->dur_buckets[b] += atomic_load(&st->dur_buckets[b]);
    }
}

int64_t http_server_inflight(const struct http_server *srv)
{
    struct totals t;
    sum_workers(srv, &t);
    return t.inflight;
}

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;

static void evthread_setup(void)
{
    evthread_use_pthreads();
}

static void render_metrics(struct oc_buf *b, void *arg)
{
    struct http_server *srv = arg;
    struct totals t;
    sum_workers(srv, &t);
    oc_metrics_family(b, "oncue_http_requests_total", "counter",
                      "HTTP requests answered, by route (method and pattern; \"unmatched\" when "
                      "none matched) and status class; series appear once counted.");
    static const char *const classes[] = {"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"};
    char route[320];
    for (int r = 0; r <= srv->nroutes; r++) {
        const struct http_route_entry *e = r < srv->nroutes ? &srv->routes[r] : NULL;
        if (e)
            snprintf(route, sizeof route, "%s %s", e->r->method, e->r->pattern);
        for (int i = 1; i < 6; i++) {
            uint64_t n = atomic_load(e ? &e->by_class[i] : &srv->unmatched_by_class[i]);
            const char *labels[] = {"route", e ? route : "unmatched", "code", classes[i], NULL};
            if (n)
                oc_metrics_sample(b, "oncue_http_requests_total", labels, (double)n);
        }
    }
    oc_metrics_family(b, "oncue_http_request_duration_seconds", "histogram",
                      "Time from dispatch to reply, in seconds.");
    uint64_t cum = 0;
    char le[32];
    for (size_t i = 0; i <= NDUR; i++) {
        cum += t.dur_buckets[i];
        if (i < NDUR)
            snprintf(le, sizeof(le), "%g", http_dur_bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        const char *labels[] = {"le", le, NULL};
        oc_metrics_sample(b, "oncue_http_request_duration_seconds_bucket", labels, (double)cum);
    }
    oc_metrics_sample(b, "oncue_http_request_duration_seconds_sum", NULL,
                      (double)t.dur_sum_us / 1e6);
    oc_metrics_sample(b, "oncue_http_request_duration_seconds_count", NULL, (double)cum);
    oc_metrics_family(b, "oncue_http_inflight_requests", "gauge",
                      "Requests being handled or flushed now.");
    oc_metrics_sample(b, "oncue_http_inflight_requests", NULL, (double)t.inflight);
    oc_metrics_family(b, "oncue_http_open_streams", "gauge",
                      "Streamed replies (server-sent events, long answers) open now.");
    oc_metrics_sample(b, "oncue_http_open_streams", NULL, (double)http_server_streams(srv));
    oc_metrics_family(b, "oncue_http_connections", "gauge", "Client connections open now.");
    oc_metrics_sample(b, "oncue_http_connections", NULL, (double)atomic_load(&srv->nconns));
    oc_metrics_family(b, "oncue_http_connections_refused_total", "counter",
                      "Connections refused at http.max_connections or "
                      "http.max_connections_per_ip.");
    oc_metrics_sample(b, "oncue_http_connections_refused_total", NULL,
                      (double)atomic_load(&srv->conns_refused));
    oc_metrics_family(b, "oncue_http_deadline_closed_total", "counter",
                      "Connections closed because a request did not arrive whole within "
                      "http.request_deadline_s.");
    oc_metrics_sample(b, "oncue_http_deadline_closed_total", NULL,
                      (double)atomic_load(&srv->deadline_closed));
    oc_metrics_family(b, "oncue_http_accept_pauses_total", "counter",
                      "Times accepting paused because the process ran out of descriptors.");
    oc_metrics_sample(b, "oncue_http_accept_pauses_total", NULL,
                      (double)atomic_load(&srv->accept_pauses));
}

struct http_server *http_server_new(const struct http_server_opts *opts, struct oc_app *app)
{
    pthread_once(&evthread_once, evthread_setup);
    struct http_server *srv = oc_calloc(1, sizeof(*srv));
    srv->opts = *opts;
    snprintf(srv->listen_buf, sizeof(srv->listen_buf), "%s",
             opts->listen ? opts->listen : "127.0.0.1:8470");
    srv->opts.listen = srv->listen_buf;
    if (srv->opts.max_body == 0)
        srv->opts.max_body = 1 << 20;
    if (srv->opts.max_headers == 0)
        srv->opts.max_headers = 16384;
    if (srv->opts.timeout_s <= 0)
        srv->opts.timeout_s = 30;
    if (srv->opts.arena_max == 0)
        srv->opts.arena_max = 64 << 20;
    http_conn_limits(srv);
    srv->routes = oc_calloc(HTTP_MAX_ROUTES, sizeof(*srv->routes));
    srv->app = app;
    if (app && app->metrics)
        oc_metrics_register(app->metrics, render_metrics, srv);
    return srv;
}

void http_server_destroy(struct http_server *srv)
{
    if (!srv)
        return;
    for (int i = 0; i < srv->nworkers; i++) {
        http_conn_free(&srv->workers[i]); /* closes connections, ending their streams */
        http_streams_free(&srv->workers[i]);
        http_later_free(&srv->workers[i]);
        oc_arena_free(&srv->workers[i].arena);
        if (srv->workers[i].base)
            event_base_free(srv->workers[i].base);
    }
    http_conn_free_limits(srv);
    free(srv->routes);
    free(srv);
}

int http_server_add_routes(struct http_server *srv, const struct http_route *routes, void *state)
{
    for (const struct http_route *r = routes; r && r->method; r++) {
        if (srv->nroutes == HTTP_MAX_ROUTES)
            return OC_ETOOBIG;
        struct http_route_entry *e = &srv->routes[srv->nroutes];
        if (http_route_compile(e, r, state) != 0) {
            oc_log(OC_LOG_ERROR, "bad route pattern %s", r->pattern);
            return OC_EINVAL;
        }
        for (int i = 0; i < srv->nroutes; i++) {
            const struct http_route_entry *o = &srv->routes[i];
            if (strcmp(o->r->method, r->method) == 0 && strcmp(o->r->pattern, r->pattern) == 0) {
                oc_log(OC_LOG_ERROR, "route %s %s registered twice", r->method, r->pattern);
                return OC_ECONFLICT;
            }
        }
        srv->nroutes++;
    }
    return 0;
}

void http_server_set_hooks(struct http_server *srv, const struct http_hooks *hooks)
{
    srv->hooks = *hooks;
}

const char *http_server_addr(const struct http_server *srv)
{
    return srv->addr;
}

int http_server_connections(const struct http_server *srv)
{
    return atomic_load(&srv->nconns);
}

uint64_t http_server_requests(const struct http_server *srv)
{
    struct totals t;
    sum_workers(srv, &t);
    return t.requests;
}
