/*
 * exporter.c - `oncue sim --exporters HOST:PORT`: the simulated platform's services export
 * Prometheus text the way real ones do, so scrapes (src/scrape/) see the scenario's faults
 * from the service side, and earlier than the beacons:
 *
 *   /drm-license/metrics    drm_license_requests_total{drm, code} (counter),
 *                           drm_license_latency_seconds{drm}
 *   /live-packager/metrics  packager_manifest_age_seconds{stream="live"},
 *                           packager_segments_total{stream="live"} (counter)
 *   /origin/metrics         origin_http_responses_total{code} (counter),
 *                           origin_manifest_age_seconds{stream="live"}
 *   /live/media.m3u8        the live stream itself, an HLS media playlist of the newest
 *                           six 2 s segments (probe_hls_live_write, the prober's own
 *                           generator), and /live/seg_N.ts, so the prober (src/probe/)
 *                           watches what the packager publishes
 *
 * Each simulated second (sim_exporter_update, from the driver): 20 license requests per DRM
 * system, of which a fault whose slice names that DRM system fails its effect's
 * start_failure at once (not ramped: the server fails first, players notice over the ramp),
 * with 2.5 s latency; a fault on live sessions stalls the packager (the manifest ages, no
 * segment is published, the live playlist stops advancing) and the origin serves the stale
 * manifest; the origin answers 100
 * requests a second (a fault on everyone with a start_failure answers that share with 503).
 * The texts are rendered under a mutex and served by one libevent thread. The live playlist
 * is written at each request from the monotonic clock (a segment every 2 s while the driver
 * says the packager publishes): the driver's seconds run late on a loaded machine, and a
 * playlist that moved only with them stood still for 3 s now and then, which the prober
 * rightly called stale.
 */
#include "sim/exporter.h"
#include "sim/session.h"
#include "sim/sim_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "probe/probe.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDRM SIM_NDRM
const char *const sim_drm_systems[SIM_NDRM] = {"widevine", "playready", "fairplay"};
#define drms      sim_drm_systems
#define NPATHS    4 /* the texts served */
#define LIVE      3 /* the live playlist's text */
#define LIVE_SEGS 6 /* segments in the live playlist's window */

struct sim_exporter {
    struct event_base *base;
    struct evhttp *http;
    pthread_t th;
    int started;
    pthread_mutex_t mu; /* the texts and the live stream's state */
    char *text[NPATHS]; /* drm-license, live-packager, origin (the live playlist: live_now) */
    /* the live stream, on the monotonic clock so that a driver running late (a loaded
     * machine) does not make a healthy stream look stale: a segment every 2 s since base_ms,
     * counted from base_segs; while stalled, base_segs is the last one published */
    int live_on, live_stalled;
    int64_t live_base_ms, live_base_segs;
    /* the model, written by the driver's thread only */
    double ok[NDRM], failed[NDRM];
    double segments, origin_ok, origin_5xx;
    int64_t stalled_since_ms; /* 0: the packager publishes */
    int64_t last_segment_ms;
};

/* What is served, in the order of text[]. */
static const struct {
    const char *path, *type;
} paths[NPATHS] = {
    {"/drm-license/metrics", "text/plain; version=0.0.4; charset=utf-8"},
    {"/live-packager/metrics", "text/plain; version=0.0.4; charset=utf-8"},
    {"/origin/metrics", "text/plain; version=0.0.4; charset=utf-8"},
    {"/live/media.m3u8", "application/vnd.apple.mpegurl"},
};

/* Segments published by now (-1 before the driver's first update). Under x->mu. */
static int64_t live_now(const struct sim_exporter *x)
{
    if (!x->live_on)
        return -1;
    if (x->live_stalled)
        return x->live_base_segs;
    return x->live_base_segs + (oc_mono_ns() / 1000000 - x->live_base_ms) / 2000;
}

/* GET /live/seg_N.ts: 4 KiB of a published segment (N at most the newest), else 404. */
static int serve_segment(struct sim_exporter *x, struct evhttp_request *req, const char *uri)
{
    static const char pad[4096];
    long long n;
    char end;
    if (sscanf(uri, "/live/seg_%lld.t%c", &n, &end) != 2 || end != 's' ||
        strcmp(uri + strlen(uri) - 3, ".ts") != 0)
        return 0;
    pthread_mutex_lock(&x->mu);
    int64_t segs = live_now(x);
    int published = segs >= 0 && n >= 0 && n <= segs + LIVE_SEGS - 1;
    pthread_mutex_unlock(&x->mu);
    if (!published)
        return 0;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, pad, sizeof pad);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "video/mp2t");
    evhttp_send_reply(req, 200, "OK", out);
    return 1;
}

static void serve(struct evhttp_request *req, void *arg)
{
    struct sim_exporter *x = arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    for (int i = 0; i < NPATHS; i++) {
        if (strcmp(uri, paths[i].path) != 0)
            continue;
        pthread_mutex_lock(&x->mu);
        int have;
        if (i == LIVE) { /* written at each request from the stream's clock */
            struct oc_buf b;
            int64_t segs = live_now(x);
            if ((have = segs >= 0)) {
                oc_buf_init(&b, 1 << 12);
                probe_hls_live_write(&b, segs, LIVE_SEGS, 2);
                evbuffer_add(out, b.data, b.len);
                oc_buf_free(&b);
            } else {
                evbuffer_add_printf(out, "not published yet\n");
            }
        } else {
            have = x->text[i] != NULL;
            evbuffer_add_printf(out, "%s", have ? x->text[i] : "not published yet\n");
        }
        pthread_mutex_unlock(&x->mu);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          have ? paths[i].type : "text/plain");
        evhttp_send_reply(req, have ? 200 : 503, have ? "OK" : "Service Unavailable", out);
        return;
    }
    if (serve_segment(x, req, uri))
        return;
    evbuffer_add_printf(out, "not found: try /drm-license/metrics, /live-packager/metrics, "
                             "/origin/metrics or /live/media.m3u8\n");
    evhttp_send_reply(req, 404, "Not Found", out);
}

static void *main_loop(void *arg)
{
    struct sim_exporter *x = arg;
    event_base_dispatch(x->base);
    return NULL;
}

int sim_exporter_start(const char *addr, struct sim_exporter **out, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    *out = NULL;
    if (!colon || *end || port < 0 || port > 65535 || (size_t)(colon - addr) >= sizeof host) {
        snprintf(err, errlen, "--exporters '%s' must be HOST:PORT", addr);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    evthread_use_pthreads();
    struct sim_exporter *x = oc_calloc(1, sizeof(*x));
    pthread_mutex_init(&x->mu, NULL);
    x->base = event_base_new();
    x->http = x->base ? evhttp_new(x->base) : NULL;
    if (!x->http || evhttp_bind_socket(x->http, host, (ev_uint16_t)port) != 0) {
        snprintf(err, errlen, "--exporters: cannot listen on %s", addr);
        sim_exporter_stop(x);
        return -1;
    }
    evhttp_set_gencb(x->http, serve, x);
    if (pthread_create(&x->th, NULL, main_loop, x) != 0) {
        snprintf(err, errlen, "--exporters: cannot start its thread");
        sim_exporter_stop(x);
        return -1;
    }
    x->started = 1;
    *out = x;
    return 0;
}

void sim_exporter_stop(struct sim_exporter *x)
{
    if (!x)
        return;
    if (x->started) {
        event_base_loopbreak(x->base);
        pthread_join(x->th, NULL);
    }
    if (x->http)
        evhttp_free(x->http);
    if (x->base)
        event_base_free(x->base);
    for (int i = 0; i < NPATHS; i++)
        free(x->text[i]);
    pthread_mutex_destroy(&x->mu);
    free(x);
}

/* 1 when the fault's slice names dimension dim (with value val when val is not NULL). */
static int names(const struct sim_truth *t, enum beacon_dim dim, const char *val)
{
    for (int d = 0; d < t->n_dims; d++) {
        if (t->dims[d].dim != dim)
            continue;
        if (!val)
            return 1;
        for (int v = 0; v < t->dims[d].n; v++)
            if (!strcmp(t->dims[d].vals[v], val))
                return 1;
    }
    return 0;
}

void sim_services_now(const struct sim *m, struct sim_services *out)
{
    int64_t now = m->now_ms;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < m->n_faults; i++) {
        const struct sim_truth *t = &m->truth[i];
        const struct sim_effect *e = &m->rf[i].f->eff;
        if (now < t->start_ms || now >= t->end_ms)
            continue;
        for (int d = 0; d < NDRM; d++)
            if (names(t, BEACON_DRM, drms[d]) && e->start_failure > out->drm_fail[d])
                out->drm_fail[d] = e->start_failure;
        if (names(t, BEACON_LIVE, "true"))
            out->stalled = 1;
        if (t->n_dims == 0 && e->start_failure > out->origin_fail)
            out->origin_fail = e->start_failure;
    }
}

void sim_exporter_update(struct sim_exporter *x, const struct sim *m)
{
    int64_t now = m->now_ms;
    struct sim_services sv;
    sim_services_now(m, &sv);
    const double *drm_fail = sv.drm_fail;
    double origin_fail = sv.origin_fail;
    int stalled = sv.stalled;
    for (int d = 0; d < NDRM; d++) {
        x->ok[d] += 20 * (1 - drm_fail[d]);
        x->failed[d] += 20 * drm_fail[d];
    }
    x->origin_ok += 100 * (1 - origin_fail);
    x->origin_5xx += 100 * origin_fail;
    if (stalled && !x->stalled_since_ms)
        x->stalled_since_ms = now;
    if (!stalled) {
        x->stalled_since_ms = 0;
        if (now - x->last_segment_ms >= 2000) { /* a 2 s segment */
            x->segments++;
            x->last_segment_ms = now;
        }
    }
    double age = (double)(now - x->last_segment_ms) / 1000.0;

    struct oc_buf b[NPATHS];
    for (int i = 0; i < NPATHS; i++)
        oc_buf_init(&b[i], 1 << 16);
    oc_buf_puts(&b[0], "# HELP drm_license_requests_total License requests answered.\n"
                       "# TYPE drm_license_requests_total counter\n");
    for (int d = 0; d < NDRM; d++)
        oc_buf_printf(&b[0],
                      "drm_license_requests_total{drm=\"%s\",code=\"200\"} %.0f\n"
                      "drm_license_requests_total{drm=\"%s\",code=\"500\"} %.0f\n",
                      drms[d], floor(x->ok[d]), drms[d], floor(x->failed[d]));
    oc_buf_puts(&b[0], "# HELP drm_license_latency_seconds Time to answer a license request.\n"
                       "# TYPE drm_license_latency_seconds gauge\n");
    for (int d = 0; d < NDRM; d++)
        oc_buf_printf(&b[0], "drm_license_latency_seconds{drm=\"%s\"} %.3f\n", drms[d],
                      drm_fail[d] > 0 ? 2.5 : 0.045);
    oc_buf_printf(&b[1],
                  "# HELP packager_manifest_age_seconds Since the live manifest last grew.\n"
                  "# TYPE packager_manifest_age_seconds gauge\n"
                  "packager_manifest_age_seconds{stream=\"live\"} %.0f\n"
                  "# HELP packager_segments_total Segments published.\n"
                  "# TYPE packager_segments_total counter\n"
                  "packager_segments_total{stream=\"live\"} %.0f\n",
                  age, x->segments);
    oc_buf_printf(&b[2],
                  "# HELP origin_http_responses_total Responses by status code.\n"
                  "# TYPE origin_http_responses_total counter\n"
                  "origin_http_responses_total{code=\"200\"} %.0f\n"
                  "origin_http_responses_total{code=\"503\"} %.0f\n"
                  "# HELP origin_manifest_age_seconds Age of the live manifest it serves.\n"
                  "# TYPE origin_manifest_age_seconds gauge\n"
                  "origin_manifest_age_seconds{stream=\"live\"} %.0f\n",
                  floor(x->origin_ok), floor(x->origin_5xx), age);
    int64_t wall = oc_mono_ns() / 1000000;
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < NPATHS; i++) {
        free(x->text[i]);
        x->text[i] = i == LIVE ? NULL : oc_buf_steal(&b[i]);
    }
    if (!x->live_on) { /* the stream starts with the driver */
        x->live_on = 1;
        x->live_base_ms = wall;
    }
    if (stalled && !x->live_stalled) { /* frozen at what was published */
        x->live_base_segs = live_now(x);
        x->live_stalled = 1;
    } else if (!stalled && x->live_stalled) { /* publishes again from now */
        x->live_base_ms = wall;
        x->live_stalled = 0;
    }
    pthread_mutex_unlock(&x->mu);
    oc_buf_free(&b[LIVE]);
}
