/*
 * module.c - the `probe` module: streams from probe.file and POST /v1/probes (kept in the
 * store), polled by the probe thread (poll.c); GET /v1/probes shows each stream's state and
 * findings, GET /v1/probes/{name}/findings its stored history, /metrics its measurements.
 *
 * The streams, their findings and measurements are guarded by one leaf mutex (ps->mu): the
 * probe thread, the handlers and the metrics collector take it and nothing else under it.
 * SIGHUP re-reads probe.file: streams it no longer lists go, new ones start.
 */
#include "probe/probe_int.h"
#include "probe/sql.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/lock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/netguard.h"
#include "core/topics.h"
#include "http/http.h"
#include "store/store.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_MAX 500 /* findings GET /v1/probes/{name}/findings returns at most */

struct probe_stream *probe_find(struct probe_state *ps, const char *name)
{
    for (int i = 0; i < ps->nstreams; i++)
        if (!ps->streams[i]->deleted && !strcmp(ps->streams[i]->spec.name, name))
            return ps->streams[i];
    return NULL;
}

int probe_add(struct probe_state *ps, const struct probe_spec *spec, int from_api)
{
    int live = 0;
    if (probe_find(ps, spec->name))
        return OC_ECONFLICT;
    for (int i = 0; i < ps->nstreams; i++)
        live += !ps->streams[i]->deleted;
    if (live >= ps->o.max_streams)
        return OC_ETOOBIG;
    struct probe_stream *s = oc_calloc(1, sizeof(*s));
    s->spec = *spec;
    s->from_api = from_api;
    if (s->spec.tmpl[0])
        probe_spec_expand(&s->spec, ps->pathways);
    for (int p = 0; p < PROBE_MAX_PATHS; p++)
        s->paths[p].latency_s = -1;
    ps->streams = oc_grow(ps->streams, &ps->cap, (size_t)ps->nstreams + 1, sizeof(*ps->streams));
    ps->streams[ps->nstreams++] = s;
    return 0;
}

static json_t *path_json(const struct probe_stream *s, int i)
{
    const struct probe_path *p = &s->paths[i];
    json_t *o =
        json_pack("{s:s, s:s, s:b, s:f, s:f, s:f, s:f}", "pathway", s->spec.path_name[i], "url",
                  s->spec.url[i], "up", p->up, "ttfb_s", p->ttfb_s, "manifest_age_s", p->age_s,
                  "segment_ttfb_s", p->seg_ttfb_s, "segment_bytes_per_s", p->seg_bps);
    json_object_set_new(o, "live_latency_s",
                        p->latency_s >= 0 ? json_real(p->latency_s) : json_null());
    if (p->dash.have) {
        json_object_set_new(o, "timelines", json_integer(p->dash.last.ntl));
        json_object_set_new(o, "publish_time", json_integer(p->dash.last.publish_ms / 1000));
    }
    if (p->nmedia && p->media[0].memo.have) {
        const struct probe_hls *h = &p->media[0].memo.last;
        json_object_set_new(o, "media_sequence", json_integer(h->media_sequence));
        json_object_set_new(o, "segments", json_integer(h->nsegs));
        json_object_set_new(o, "target_duration_s", json_integer(h->target));
    }
    json_object_set_new(o, "media_playlists", json_integer(p->nmedia));
    return o;
}

json_t *probe_stream_json(const struct probe_stream *s, int64_t now_ms)
{
    json_t *paths = json_array(), *active = json_array(), *last = json_array();
    for (int i = 0; i < s->spec.npaths; i++)
        json_array_append_new(paths, path_json(s, i));
    for (int k = 0; k < PROBE_NKINDS; k++) {
        const struct probe_finding *f = &s->f[k];
        if (!f->seen_ms)
            continue;
        json_t *o = json_pack("{s:s, s:s, s:I}", "kind", probe_kind_name((enum probe_kind)k),
                              "detail", f->detail, "seen", (json_int_t)(f->seen_ms / 1000));
        if (f->active) {
            json_object_set_new(o, "since", json_integer(f->since_ms / 1000));
            json_object_set_new(o, "since_ms", json_integer(f->since_ms));
            json_array_append(active, o);
        }
        json_array_append_new(last, o);
    }
    json_t *o = probe_spec_json(&s->spec);
    json_object_set_new(o, "state", json_string(json_array_size(active) ? "failing" : "ok"));
    json_object_set_new(o, "source", json_string(s->from_api ? "api" : "file"));
    json_object_set_new(o, "polls", json_integer((json_int_t)s->polls_total));
    json_object_set_new(o, "pathways", paths);
    json_object_set_new(o, "findings", active);
    json_object_set_new(o, "last_findings", last);
    json_object_set_new(o, "now", json_integer(now_ms / 1000));
    return o;
}

/* A stream's answer as a non-admin may see it: every URL cut after its host (oc_url_cut), in
 * the spec, the pathways and the findings' details. A probed URL is often signed (a token in
 * its query string or path). */
static void stream_cut(json_t *o)
{
    const char *key;
    json_t *v;
    size_t i;
    oc_json_cut_url(o, "url");
    json_object_foreach(json_object_get(o, "urls"), key, v)
    {
        char shown[OC_URL_SHOWN_MAX];
        oc_url_cut(json_string_value(v), shown, sizeof shown);
        json_string_set(v, shown);
    }
    json_array_foreach(json_object_get(o, "pathways"), i, v) oc_json_cut_url(v, "url");
    json_array_foreach(json_object_get(o, "last_findings"), i, v) oc_json_cut_urls(v, "detail");
    json_array_foreach(json_object_get(o, "findings"), i, v) oc_json_cut_urls(v, "detail");
}

/* GET /v1/probes: {"probes": [...]}; URLs cut after the host unless the caller is an admin. */
static void probes_get(struct http_req *req)
{
    struct probe_state *ps = req->state;
    int64_t now = oc_clock_now_ms(req->app->clock);
    json_t *arr = json_array(), *o;
    oc_lock(&ps->mu);
    for (int i = 0; i < ps->nstreams; i++)
        if (!ps->streams[i]->deleted) {
            json_array_append_new(arr, o = probe_stream_json(ps->streams[i], now));
            if (req->role != HTTP_ADMIN)
                stream_cut(o);
        }
    oc_unlock(&ps->mu);
    http_reply_json(req, 200, json_pack("{s:o}", "probes", arr));
}

/* POST /v1/probes: adds a stream and stores it. */
static void probes_post(struct http_req *req)
{
    struct probe_state *ps = req->state;
    struct probe_spec spec;
    struct store_stmt *st;
    char err[256];
    json_t *body = http_body_json(req);
    if (!body)
        return;
    int rc = probe_spec_from_json(body, &spec, err, sizeof err);
    json_decref(body);
    if (rc) {
        http_problem(req, 422, "%s", err);
        return;
    }
    oc_lock(&ps->mu);
    rc = probe_add(ps, &spec, 1);
    oc_unlock(&ps->mu);
    if (rc) {
        http_reply_err(req, rc,
                       rc == OC_ECONFLICT ? "a stream named %s is probed already"
                                          : "probe.max_streams reached (%s refused)",
                       spec.name);
        return;
    }
    json_t *doc = probe_spec_json(&spec);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (req->app->store) {
        store_lock(req->app->store);
        if (store_prepare(req->app->store, PROBE_SQL_STREAM_PUT, &st) == 0) {
            STORE_BIND(st, STORE_TEXT(spec.name), STORE_TEXT(text),
                       STORE_INT(oc_clock_now_ms(req->app->clock)));
            if (store_step(st) != STORE_DONE)
                oc_log(OC_LOG_WARN, "probe: cannot store %s: %s", spec.name,
                       store_errmsg(req->app->store));
            store_reset(st);
        }
        store_unlock(req->app->store);
    }
    free(text);
    curl_multi_wakeup(ps->multi);
    http_reply_json(req, 201, probe_spec_json(&spec));
}

/* DELETE /v1/probes/{name} */
static void probes_delete(struct http_req *req)
{
    struct probe_state *ps = req->state;
    const char *name = http_param(req, "name");
    struct store_stmt *st;
    oc_lock(&ps->mu);
    struct probe_stream *s = probe_find(ps, name);
    if (s)
        s->deleted = 1;
    oc_unlock(&ps->mu);
    if (!s) {
        http_problem(req, 404, "no stream named %s is probed", name);
        return;
    }
    if (req->app->store) {
        store_lock(req->app->store);
        if (store_prepare(req->app->store, PROBE_SQL_STREAM_DELETE, &st) == 0) {
            STORE_BIND(st, STORE_TEXT(name));
            store_step(st);
            store_reset(st);
        }
        store_unlock(req->app->store);
    }
    curl_multi_wakeup(ps->multi);
    http_reply(req, 204, "application/json", "", 0);
}

/* GET /v1/probes/{name}/findings?limit=N: the stored history, newest first. */
static void findings_get(struct http_req *req)
{
    const char *name = http_param(req, "name"), *lim = http_query(req, "limit");
    long limit = lim ? strtol(lim, NULL, 10) : 100;
    struct store_stmt *st;
    json_t *arr = json_array();
    if (limit < 1 || limit > HISTORY_MAX)
        limit = HISTORY_MAX;
    if (!req->app->store) {
        json_decref(arr);
        http_problem(req, 503, "no store is open");
        return;
    }
    store_lock(req->app->store);
    if (store_prepare(req->app->store, PROBE_SQL_FINDING_LIST, &st) == 0) {
        STORE_BIND(st, STORE_TEXT(name), STORE_INT(limit));
        while (store_step(st) == STORE_ROW) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "kind", store_col_text(st, 0), "state",
                                  store_col_text(st, 1), "detail", store_col_text(st, 2), "at",
                                  (json_int_t)(store_col_int(st, 3) / 1000));
            if (req->role != HTTP_ADMIN) /* URLs in the detail cut after the host */
                oc_json_cut_urls(o, "detail");
            json_array_append_new(arr, o);
        }
        store_reset(st);
    }
    store_unlock(req->app->store);
    http_reply_json(req, 200, json_pack("{s:s, s:o}", "stream", name, "findings", arr));
}

static const struct http_route routes[] = {
    {"GET", "/v1/probes", probes_get, HTTP_VIEWER, 0,
     "probed streams: state, measurements per pathway, active and last findings (URLs cut after "
     "the host unless admin)"},
    {"POST", "/v1/probes", probes_post, HTTP_ADMIN, 64 << 10,
     "adds a probed stream {name, kind, service, poll_s, url | urls {pathway: url}}"},
    {"DELETE", "/v1/probes/{name}", probes_delete, HTTP_ADMIN, 0, "stops probing a stream"},
    {"GET", "/v1/probes/{name}/findings", findings_get, HTTP_VIEWER, 0,
     "a stream's stored findings (failed and recovered), newest first; ?limit=N (500 at most); "
     "URLs in details cut after the host unless admin"},
    {0},
};

/* One gauge family over every stream and pathway. */
static void gauge(struct oc_buf *b, struct probe_state *ps, const char *name, const char *help,
                  size_t off, int skip_negative)
{
    oc_metrics_family(b, name, "gauge", help);
    for (int i = 0; i < ps->nstreams; i++) {
        const struct probe_stream *s = ps->streams[i];
        for (int p = 0; p < s->spec.npaths && !s->deleted; p++) {
            double v = *(const double *)(const void *)((const char *)&s->paths[p] + off);
            const char *labels[] = {"stream", s->spec.name, "pathway", s->spec.path_name[p], NULL};
            if (!(skip_negative && v < 0))
                oc_metrics_sample(b, name, labels, v);
        }
    }
}

static void render(struct oc_buf *b, void *arg)
{
    struct probe_state *ps = arg;
    oc_lock(&ps->mu);
    oc_metrics_family(b, "oncue_probe_up", "gauge",
                      "1 when the pathway's last playlist fetch answered 200 and parsed");
    for (int i = 0; i < ps->nstreams; i++) {
        const struct probe_stream *s = ps->streams[i];
        for (int p = 0; p < s->spec.npaths && !s->deleted; p++) {
            const char *labels[] = {"stream", s->spec.name, "pathway", s->spec.path_name[p], NULL};
            oc_metrics_sample(b, "oncue_probe_up", labels, s->paths[p].up);
        }
    }
    gauge(b, ps, "oncue_probe_manifest_age_seconds",
          "seconds since the pathway's newest media sequence last grew",
          offsetof(struct probe_path, age_s), 0);
    gauge(b, ps, "oncue_probe_ttfb_seconds", "time to first byte of the last playlist fetch",
          offsetof(struct probe_path, ttfb_s), 0);
    gauge(b, ps, "oncue_probe_segment_ttfb_seconds", "time to first byte of the last segment",
          offsetof(struct probe_path, seg_ttfb_s), 0);
    gauge(b, ps, "oncue_probe_segment_throughput_bytes_per_second",
          "bytes per second of the last segment", offsetof(struct probe_path, seg_bps), 0);
    gauge(b, ps, "oncue_probe_live_latency_seconds",
          "now less the end of the newest segment by its program date time",
          offsetof(struct probe_path, latency_s), 1);
    oc_metrics_family(b, "oncue_probe_finding_active", "gauge",
                      "1 while a fault kind is active on a stream (probe.failed, not recovered)");
    for (int i = 0; i < ps->nstreams; i++)
        for (int k = 0; k < PROBE_NKINDS && !ps->streams[i]->deleted; k++)
            if (ps->streams[i]->f[k].active) {
                const char *labels[] = {"stream", ps->streams[i]->spec.name, "kind",
                                        probe_kind_name((enum probe_kind)k), NULL};
                oc_metrics_sample(b, "oncue_probe_finding_active", labels, 1);
            }
    oc_metrics_family(b, "oncue_probe_requests_total", "counter", "fetches the prober made");
    oc_metrics_sample(b, "oncue_probe_requests_total", NULL, (double)ps->requests);
    oc_metrics_family(b, "oncue_probe_request_failures_total", "counter",
                      "fetches that failed or answered other than 200");
    oc_metrics_sample(b, "oncue_probe_request_failures_total", NULL, (double)ps->failures);
    oc_unlock(&ps->mu);
}

/* Adds the streams of probe.file (those not probed yet); with drop_missing, file streams the
 * file no longer lists go. Says what it did into say (may be NULL). */
/* A stream of the file that is probed already under spec's name: when the file now says
 * something else of it (poll_s, service, URLs), the probe thread takes the new spec between two
 * polls, keeping the state of the pathways left at the same URL (poll.c, take_paths); another
 * kind starts it afresh. A stream added through the API is left alone. 1 when it changed.
 * Caller holds ps->mu. */
static int replace_spec(struct probe_state *ps, const struct probe_spec *spec)
{
    struct probe_stream *s = probe_find(ps, spec->name);
    struct probe_spec next = *spec;
    if (!s || s->from_api)
        return 0;
    if (next.tmpl[0])
        probe_spec_expand(&next, ps->pathways);
    json_t *a = probe_spec_json(s->next ? s->next : &s->spec), *b = probe_spec_json(&next);
    int same = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    if (same)
        return 0;
    if (strcmp(next.kind, s->spec.kind) != 0) {
        s->deleted = 1;
        return probe_add(ps, spec, 0) == 0;
    }
    free(s->next);
    s->next = oc_malloc(sizeof(*s->next));
    *s->next = next;
    return 1;
}

static int load_file(struct probe_state *ps, int drop_missing, struct oc_buf *say)
{
    json_t *list = NULL, *v;
    char err[512];
    size_t i;
    int added = 0, changed = 0, rc;
    struct probe_spec spec;
    if (!ps->o.file || !ps->o.file[0])
        return 0;
    if ((rc = probe_file_load(ps->o.file, &list, err, sizeof err)) != 0)
        goto fail;
    json_array_foreach(list, i, v)
    {
        if ((rc = probe_spec_from_json(v, &spec, err, sizeof err)) != 0) {
            json_decref(list);
            goto fail;
        }
    }
    oc_lock(&ps->mu);
    for (int k = 0; drop_missing && k < ps->nstreams; k++) {
        struct probe_stream *s = ps->streams[k];
        int listed = 0;
        json_array_foreach(list, i, v) listed |=
            !strcmp(json_string_value(json_object_get(v, "name")), s->spec.name);
        if (!s->from_api && !listed)
            s->deleted = 1;
    }
    json_array_foreach(list, i, v)
    {
        probe_spec_from_json(v, &spec, err, sizeof err);
        if (probe_add(ps, &spec, 0) == 0)
            added++;
        else
            changed += replace_spec(ps, &spec);
    }
    oc_unlock(&ps->mu);
    if (say)
        oc_buf_printf(say, "probe: %zu streams in %s (%d new, %d changed)", json_array_size(list),
                      ps->o.file, added, changed);
    json_decref(list);
    return 0;
fail:
    if (say)
        oc_buf_printf(say, "probe: kept the streams probed: %s", err);
    else
        oc_log(OC_LOG_ERROR, "probe: %s", err);
    return rc;
}

/* The streams POST /v1/probes stored. */
static void load_stored(struct probe_state *ps)
{
    struct store_stmt *st;
    struct probe_spec spec;
    char err[256];
    if (!ps->app->store)
        return;
    store_lock(ps->app->store);
    if (store_prepare(ps->app->store, PROBE_SQL_STREAM_LOAD, &st) == 0) {
        while (store_step(st) == STORE_ROW) {
            json_t *doc = json_loads(store_col_text(st, 0), 0, NULL);
            if (doc && probe_spec_from_json(doc, &spec, err, sizeof err) == 0)
                probe_add(ps, &spec, 1);
            json_decref(doc);
        }
        store_reset(st);
    }
    store_unlock(ps->app->store);
}

void probe_path_clear(struct probe_path *p)
{
    for (int m = 0; m < p->nmedia; m++)
        probe_hls_memo_free(&p->media[m].memo);
    probe_dash_memo_free(&p->dash);
    memset(p, 0, sizeof(*p));
    p->latency_s = -1;
}

void probe_stream_clear(struct probe_stream *s)
{
    for (int p = 0; p < PROBE_MAX_PATHS; p++)
        probe_path_clear(&s->paths[p]);
}

static void free_streams(struct probe_state *ps)
{
    for (int i = 0; i < ps->nstreams; i++) {
        probe_stream_clear(ps->streams[i]);
        free(ps->streams[i]->next);
        free(ps->streams[i]);
    }
    free(ps->streams);
    json_decref(ps->pathways);
}

/* The steering policy's pathways (a new reference, or NULL without steering). */
static json_t *policy_pathways(struct oc_app *app, const json_t *policy)
{
    json_t *own = NULL, *pw;
    if (!policy) {
        const struct oc_policy_host *h = oc_app_find(app, OC_PROVIDES_POLICY_HOST);
        policy = own = h && h->policy ? h->policy(app) : NULL;
    }
    pw = json_object_get(policy, "pathways");
    pw = json_is_array(pw) ? json_deep_copy(pw) : NULL;
    json_decref(own);
    return pw;
}

/* steer.policy_changed: the streams whose URL names {pathway} follow the policy's pathways;
 * the probe thread takes the new ones between two polls (poll.c). */
static void on_policy(const char *topic, const json_t *payload, void *arg)
{
    struct probe_state *ps = arg;
    struct oc_ev_policy ev;
    struct probe_spec next;
    int changed = 0;
    (void)topic;
    if (oc_ev_policy_read(payload, &ev) != 0)
        return;
    json_t *pw = policy_pathways(ps->app, ev.policy);
    oc_lock(&ps->mu);
    json_decref(ps->pathways);
    ps->pathways = pw;
    for (int i = 0; i < ps->nstreams; i++) {
        struct probe_stream *s = ps->streams[i];
        if (s->deleted || !s->spec.tmpl[0])
            continue;
        next = s->spec;
        probe_spec_expand(&next, ps->pathways);
        free(s->next);
        s->next = NULL;
        if (!probe_spec_same_paths(&next, &s->spec)) {
            s->next = oc_malloc(sizeof(*s->next));
            *s->next = next;
            changed++;
        }
    }
    oc_unlock(&ps->mu);
    if (changed) {
        oc_log(OC_LOG_INFO, "probe: %d stream(s) follow the steering policy's new pathways",
               changed);
        curl_multi_wakeup(ps->multi);
    }
}

static int probe_init(struct oc_app *app, void **state)
{
    struct probe_opts def;
    const struct probe_opts *o = config_module_opts(app->cfg, &probe_module, &def);
    struct probe_state *ps = oc_calloc(1, sizeof(*ps));
    char err[256];
    ps->app = app;
    ps->o = *o;
    pthread_mutex_init(&ps->mu, NULL);
    int rc = oc_netguard_parse(&ps->guard, o->outbound_allow, err, sizeof err);
    if (rc) {
        oc_log(OC_LOG_ERROR, "probe.outbound_allow: %s", err);
        goto fail;
    }
    ps->pathways = policy_pathways(app, NULL); /* before the streams that name {pathway} */
    if ((rc = load_file(ps, 0, NULL)) != 0)
        goto fail;
    load_stored(ps);
    if ((rc = probe_engine_start(ps)) != 0) {
        oc_log(OC_LOG_ERROR, "probe: cannot start the probe thread");
        probe_engine_stop(ps);
        goto fail;
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, ps);
    *state = ps;
    return 0;
fail:
    free_streams(ps);
    pthread_mutex_destroy(&ps->mu);
    free(ps);
    return rc;
}

static int probe_reload(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct probe_state *ps = state;
    (void)app;
    int rc = load_file(ps, 1, say);
    curl_multi_wakeup(ps->multi);
    return rc;
}

static void probe_stop(struct oc_app *app, void *state)
{
    struct probe_state *ps = state;
    (void)app;
    probe_engine_stop(ps);
    free_streams(ps);
    pthread_mutex_destroy(&ps->mu);
    free(ps);
}

#define F(field) offsetof(struct probe_opts, field)

static const struct oc_setting settings[] = {
    {"probe.file", OC_SETTING_STR, "", 0, 0, NULL, F(file), NULL,
     "YAML list of probed streams {name, kind, service, poll_s, url | urls {pathway: url}} (a "
     "url with {pathway} is probed on every pathway of the steering policy, following its "
     "changes); re-read on SIGHUP; empty: only the streams POST /v1/probes added"},
    {"probe.outbound_allow", OC_SETTING_STR, "", 0, 0, NULL, F(outbound_allow), NULL,
     "private address ranges probes may reach (\"127.0.0.1/32, 10.0.0.0/8\"); loopback, "
     "private and link-local addresses are refused otherwise"},
    {"probe.poll_s", OC_SETTING_INT, "2", 1, 3600, NULL, F(poll_s), NULL,
     "seconds between polls of a stream that sets no poll_s"},
    {"probe.timeout_ms", OC_SETTING_INT, "5000", 100, 60000, NULL, F(timeout_ms), NULL,
     "connect and whole-request timeout of each fetch"},
    {"probe.segments", OC_SETTING_INT, "1", 0, PROBE_MAX_SEGMENTS, NULL, F(segments), NULL,
     "newest segments of each media playlist fetched (each once it answers 200)"},
    {"probe.recovery_polls", OC_SETTING_INT, "2", 1, 100, NULL, F(recovery_polls), NULL,
     "whole polls without a fault kind before it recovers (probe.recovered)"},
    {"probe.max_streams", OC_SETTING_INT, "10000", 1, 1000000, NULL, F(max_streams), NULL,
     "streams probed at most"},
    {0},
};

#undef F

static const struct oc_module_sub subs[] = {
    {OC_TOPIC_STEER_POLICY_CHANGED, on_policy},
    {0},
};

const struct oc_module probe_module = {
    .name = "probe",
    .summary = "live HLS and DASH manifest prober: findings, /v1/probes, probe.failed/recovered",
    .init = probe_init,
    .routes = routes,
    .subs = subs,
    .stop = probe_stop,
    .reload = probe_reload,
    .settings = settings,
    .opts_size = sizeof(struct probe_opts),
};
