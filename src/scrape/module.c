/*
 * module.c - the `scrape` module: the targets of scrape.file, scraped by the scrape thread
 * (poll.c); GET /v1/scrape/targets shows each target's state, rules and findings,
 * GET /v1/scrape/series its series and their minute history, /metrics the scrapes
 * themselves and the rules' values.
 *
 * Targets, series and rule states are guarded by one leaf mutex (ss->mu). SIGHUP re-reads
 * scrape.file: a target whose item is unchanged keeps its series and states, a changed or
 * removed one goes (its active findings recover: "the target was removed"), new ones start.
 */
#include "scrape/scrape_int.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/netguard.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/topics.h"
#include "core/yamlj.h"
#include "http/http.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct scrape_target *find(struct scrape_state *ss, const char *name)
{
    for (int i = 0; i < ss->ntargets; i++)
        if (!ss->targets[i]->deleted && !strcmp(ss->targets[i]->spec.name, name))
            return ss->targets[i];
    return NULL;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *rstate_json(const struct scrape_rstate *st)
{
    json_t *o = json_pack("{s:b, s:o}", "active", st->active, "value", num(st->value));
    if (st->active) {
        json_object_set_new(o, "since", json_integer(st->since_ms / 1000));
        json_object_set_new(o, "since_ms", json_integer(st->since_ms));
    }
    if (st->detail[0])
        json_object_set_new(o, "detail", json_string(st->detail));
    return o;
}

json_t *scrape_target_json(const struct scrape_target *t, int64_t now_ms)
{
    json_t *o = scrape_spec_json(&t->spec), *rules = json_object_get(o, "rules");
    json_t *findings = json_array();
    for (int i = 0; i < t->spec.nrules; i++) {
        json_t *r = json_array_get(rules, (size_t)i);
        json_t *st = rstate_json(&t->rs[i]);
        json_object_update(r, st);
        json_decref(st);
        if (t->rs[i].active)
            json_array_append_new(findings,
                                  json_pack("{s:s, s:s, s:I}", "rule", t->spec.rules[i].name,
                                            "detail", t->rs[i].detail, "since",
                                            (json_int_t)(t->rs[i].since_ms / 1000)));
    }
    if (t->down.active)
        json_array_append_new(findings,
                              json_pack("{s:s, s:s, s:I}", "rule", "down", "detail", t->down.detail,
                                        "since", (json_int_t)(t->down.since_ms / 1000)));
    const char *state = !t->have ? "unknown" : t->down.active ? "down" : !t->up ? "failing" : "up";
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "up", json_boolean(t->up));
    json_object_set_new(o, "scrapes", json_integer((json_int_t)t->scrapes));
    json_object_set_new(o, "failed_in_a_row", json_integer(t->fails));
    json_object_set_new(o, "last_scrape", t->have ? json_integer(t->last_ms / 1000) : json_null());
    json_object_set_new(o, "duration_s", json_real(t->duration_s));
    json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
    json_object_set_new(o, "samples", json_integer(t->samples));
    json_object_set_new(o, "series", json_integer(t->nseries));
    json_object_set_new(o, "series_dropped", json_integer((json_int_t)t->dropped));
    json_object_set_new(o, "format", json_string(t->openmetrics ? "openmetrics" : "prometheus"));
    json_object_set_new(o, "error", t->error[0] ? json_string(t->error) : json_null());
    json_object_set_new(o, "findings", findings);
    json_object_set_new(o, "now", json_integer(now_ms / 1000));
    return o;
}

/* A target as a non-admin may see it: its URL cut after the host (oc_url_cut), and so in the
 * last error and the details of "down" (a scrape URL may carry a token in its query string
 * or path). */
static void target_cut(json_t *o)
{
    size_t i;
    json_t *f;
    oc_json_cut_url(o, "url");
    oc_json_cut_urls(o, "error");
    json_array_foreach(json_object_get(o, "findings"), i, f)
    {
        const char *rule = json_string_value(json_object_get(f, "rule"));
        if (rule && strcmp(rule, "down") == 0)
            oc_json_cut_urls(f, "detail");
    }
}

/* GET /v1/scrape/targets: admins see the URLs whole, everyone else cut (target_cut). */
static void targets_get(struct http_req *req)
{
    struct scrape_state *ss = req->state;
    int64_t now = oc_clock_now_ms(req->app->clock);
    json_t *arr = json_array();
    oc_lock(&ss->mu);
    for (int i = 0; i < ss->ntargets; i++)
        if (!ss->targets[i]->deleted) {
            json_t *o = scrape_target_json(ss->targets[i], now);
            if (req->role != HTTP_ADMIN)
                target_cut(o);
            json_array_append_new(arr, o);
        }
    oc_unlock(&ss->mu);
    http_reply_json(req, 200, json_pack("{s:o}", "targets", arr));
}

/* The series' minute history, oldest first: [[unix seconds, value], ...]; for a counter the
 * per-second increase between the ends of two whole minutes that follow each other. */
static json_t *points(const struct scrape_series *s, int64_t now_ms, int rate)
{
    json_t *a = json_array();
    int64_t now_min = now_ms / 60000;
    for (int64_t m = now_min - SCRAPE_MINUTES + 1; m <= now_min; m++) {
        int i = (int)(m % SCRAPE_MINUTES);
        if (s->minute[i] != (int32_t)m)
            continue;
        double v = s->mv[i];
        if (rate) { /* between two whole minutes: not the one still running */
            int k = (int)((m - 1) % SCRAPE_MINUTES);
            if (m == now_min)
                continue;
            if (s->minute[k] != (int32_t)(m - 1))
                continue;
            v = (v >= s->mv[k] ? v - s->mv[k] : v) / 60.0;
        }
        json_array_append_new(a, json_pack("[I, o]", (json_int_t)(m * 60), num(v)));
    }
    return a;
}

/* GET /v1/scrape/series?target=T[&metric=M]: the series of a target (SCRAPE_SERIES_PAGE at
 * most), with their last value and minute history. */
static void series_get(struct http_req *req)
{
    struct scrape_state *ss = req->state;
    const char *tn = http_query(req, "target"), *metric = http_query(req, "metric");
    int64_t now = oc_clock_now_ms(req->app->clock);
    if (!tn || !tn[0]) {
        http_problem(req, 400, "target: which target's series (?target=NAME)");
        return;
    }
    json_t *arr = json_array();
    int more = 0;
    oc_lock(&ss->mu);
    struct scrape_target *t = find(ss, tn);
    for (uint32_t b = 0; t && b < t->nbuckets; b++)
        for (const struct scrape_series *s = t->buckets[b]; s; s = s->next) {
            if (metric && metric[0] && strcmp(s->name, metric) != 0)
                continue;
            if (json_array_size(arr) >= SCRAPE_SERIES_PAGE) {
                more = 1;
                continue;
            }
            json_t *labels = json_object();
            for (int i = 0; i < s->nl; i++)
                json_object_set_new(labels, s->labels[2 * i], json_string(s->labels[2 * i + 1]));
            int counter = s->type == SCRAPE_COUNTER;
            json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:I, s:b, s:o}", "name", s->name, "labels",
                                  labels, "type", scrape_type_name(s->type), "value", num(s->v),
                                  "at", (json_int_t)(s->at_ms / 1000), "current", s->seen == t->ok,
                                  "points", points(s, now, counter));
            if (counter && s->prev_seen && s->prev_seen + 1 == s->seen && s->at_ms > s->prev_ms)
                json_object_set_new(o, "rate",
                                    num((s->v >= s->prev_v ? s->v - s->prev_v : s->v) /
                                        ((double)(s->at_ms - s->prev_ms) / 1000.0)));
            json_array_append_new(arr, o);
        }
    oc_unlock(&ss->mu);
    if (!t) {
        json_decref(arr);
        http_problem(req, 404, "target: no target named %s is scraped", tn);
        return;
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:o, s:b}", "target", tn, "series", arr, "truncated", more));
}

#define OTLP_BODY_MAX (4 << 20)   /* bytes of one OTLP/HTTP request */
#define OTLP_TEXT_MAX (16u << 20) /* bytes of the exposition text one resource becomes */

/* POST /v1/metrics: OTLP/HTTP metrics in the JSON encoding. Each resourceMetrics item feeds
 * the push target (push: otlp) whose service is its resource's service.name; what cannot be
 * read is counted in partialSuccess, as OTLP asks. */
static void otlp_post(struct http_req *req)
{
    struct scrape_state *ss = req->state;
    const char *ct = http_header(req, "Content-Type");
    char svc[SCRAPE_LABEL_VALUE_MAX], why[300] = "", err[300];
    size_t i;
    const json_t *rm;
    int rejected = 0;
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        http_problem(req, 415,
                     "Content-Type: only OTLP's JSON encoding (application/json) is read");
        return;
    }
    json_t *body = http_body_json(req);
    if (!body)
        return;
    const json_t *rms = json_object_get(body, "resourceMetrics");
    if (!json_is_array(rms)) {
        json_decref(body);
        http_problem(req, 400, "resourceMetrics: an array is expected");
        return;
    }
    json_t *out = json_array();
    int64_t now = oc_clock_now_ms(req->app->clock);
    json_array_foreach(rms, i, rm)
    {
        struct oc_buf text;
        int rej = 0;
        oc_buf_init(&text, OTLP_TEXT_MAX);
        scrape_otlp_service(rm, svc, sizeof svc);
        int npoints = scrape_otlp_text(rm, &text, &rej, why, sizeof why);
        rejected += rej;
        oc_lock(&ss->mu);
        struct scrape_target *t = NULL;
        for (int k = 0; k < ss->ntargets && !t; k++)
            if (!ss->targets[k]->deleted && ss->targets[k]->spec.push &&
                !strcmp(ss->targets[k]->spec.service, svc))
                t = ss->targets[k];
        if (!t) {
            rejected += npoints;
            snprintf(why, sizeof why, "service.name \"%.100s\" has no push target in scrape.file",
                     svc);
        } else if (scrape_ingest(ss, t, text.data ? text.data : "", text.len, 0, now, err,
                                 sizeof err) != 0) {
            rejected += npoints;
            snprintf(t->error, sizeof t->error, "OTLP push: %.500s", err);
            snprintf(why, sizeof why, "%.290s", err);
        } else {
            t->have = 1;
            t->up = 1;
            t->last_ms = now;
            t->bytes = text.len;
            t->error[0] = 0;
            t->scrapes++;
            scrape_eval(ss, t, now, out);
        }
        oc_unlock(&ss->mu);
        oc_buf_free(&text);
    }
    json_decref(body);
    scrape_publish(ss, out, 0); /* the HTTP layer drains after the handler */
    json_decref(out);
    if (rejected)
        http_reply_json(req, 200,
                        json_pack("{s:{s:I, s:s}}", "partialSuccess", "rejectedDataPoints",
                                  (json_int_t)rejected, "errorMessage", why));
    else
        http_reply_json(req, 200, json_object());
}

static const struct http_route routes[] = {
    {"POST", "/v1/metrics", otlp_post, HTTP_INGEST, OTLP_BODY_MAX,
     "OTLP/HTTP metrics (JSON encoding): each resource feeds the push target (push: otlp) of "
     "scrape.file whose service is its service.name; partialSuccess counts what was not read"},
    {"GET", "/v1/scrape/targets", targets_get, HTTP_VIEWER, 0,
     "scraped targets: up or down, the last scrape (duration, bytes, samples, error), series "
     "kept and dropped, each rule's value and state, active findings"},
    {"GET", "/v1/scrape/series", series_get, HTTP_VIEWER, 0,
     "a target's series (?target=NAME, &metric=NAME): labels, type, last value, per-second "
     "rate of counters, the last 60 minutes (counters as rates); 500 at most"},
    {0},
};

static void render(struct oc_buf *b, void *arg)
{
    struct scrape_state *ss = arg;
    oc_lock(&ss->mu);
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"oncue_scrape_up", "gauge", "1 when the target's last scrape read whole"},
        {"oncue_scrape_duration_seconds", "gauge", "how long the target's last scrape took"},
        {"oncue_scrape_samples", "gauge", "samples the target's last scrape read"},
        {"oncue_scrape_series", "gauge", "series kept for the target"},
        {"oncue_scrape_series_dropped_total", "counter",
         "samples refused because the target had scrape.max_series series"},
    };
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        oc_metrics_family(b, fam[f].name, fam[f].type, fam[f].help);
        for (int i = 0; i < ss->ntargets; i++) {
            const struct scrape_target *t = ss->targets[i];
            if (t->deleted)
                continue;
            const char *labels[] = {"target", t->spec.name, "service", t->spec.service, NULL};
            double x = f == 0   ? t->up
                       : f == 1 ? t->duration_s
                       : f == 2 ? t->samples
                       : f == 3 ? t->nseries
                                : (double)t->dropped;
            oc_metrics_sample(b, fam[f].name, labels, x);
        }
    }
    oc_metrics_family(b, "oncue_scrape_rule_value", "gauge",
                      "the value of a rule on a scraped target at its last evaluation");
    for (int i = 0; i < ss->ntargets; i++)
        for (int r = 0; r < ss->targets[i]->spec.nrules && !ss->targets[i]->deleted; r++) {
            const struct scrape_target *t = ss->targets[i];
            if (isnan(t->rs[r].value))
                continue;
            const char *labels[] = {"target", t->spec.name,          "service", t->spec.service,
                                    "rule",   t->spec.rules[r].name, NULL};
            oc_metrics_sample(b, "oncue_scrape_rule_value", labels, t->rs[r].value);
        }
    oc_metrics_family(b, "oncue_scrape_finding_active", "gauge",
                      "1 while a rule (or down) is active on a target");
    for (int i = 0; i < ss->ntargets; i++) {
        const struct scrape_target *t = ss->targets[i];
        for (int r = -1; r < t->spec.nrules && !t->deleted; r++) {
            const struct scrape_rstate *st = r < 0 ? &t->down : &t->rs[r];
            if (!st->active)
                continue;
            const char *labels[] = {"target", t->spec.name, "rule",
                                    r < 0 ? "down" : t->spec.rules[r].name, NULL};
            oc_metrics_sample(b, "oncue_scrape_finding_active", labels, 1);
        }
    }
    oc_metrics_family(b, "oncue_scrape_requests_total", "counter", "scrapes made");
    oc_metrics_sample(b, "oncue_scrape_requests_total", NULL, (double)ss->requests);
    oc_metrics_family(b, "oncue_scrape_failures_total", "counter",
                      "scrapes that failed (no answer, not 200, too large, not exposition text)");
    oc_metrics_sample(b, "oncue_scrape_failures_total", NULL, (double)ss->failures);
    oc_unlock(&ss->mu);
}

/* Adds spec (taken over) as a target; call under ss->mu. */
static int add(struct scrape_state *ss, struct scrape_spec *spec)
{
    int live = 0;
    for (int i = 0; i < ss->ntargets; i++)
        live += !ss->targets[i]->deleted;
    if (live >= ss->o.max_targets)
        return OC_ETOOBIG;
    struct scrape_target *t = oc_calloc(1, sizeof(*t));
    t->spec = *spec;
    t->rs = oc_calloc((size_t)(spec->nrules + 1), sizeof(*t->rs));
    for (int i = 0; i < spec->nrules; i++)
        t->rs[i].value = NAN;
    ss->targets = oc_grow(ss->targets, &ss->cap, (size_t)ss->ntargets + 1, sizeof(*ss->targets));
    ss->targets[ss->ntargets++] = t;
    return 0;
}

/* Marks t deleted; its active findings recover. Call under ss->mu. */
static void retire(struct scrape_target *t, int64_t now, json_t *out)
{
    t->deleted = 1;
    for (int r = -1; r < t->spec.nrules; r++) {
        struct scrape_rstate *st = r < 0 ? &t->down : &t->rs[r];
        if (!st->active)
            continue;
        st->active = 0;
        json_t *p =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "target", t->spec.name, "service",
                      t->spec.service, "rule", r < 0 ? "down" : t->spec.rules[r].name, "metric",
                      r < 0 ? "up" : t->spec.rules[r].metric, "detail",
                      "the target was removed or changed in scrape.file", "since",
                      (json_int_t)(st->since_ms / 1000), "at", (json_int_t)(now / 1000));
        json_array_append_new(
            out, json_pack("{s:s, s:o}", "topic", OC_TOPIC_SCRAPE_RECOVERED, "payload", p));
    }
}

/* Reads scrape.file; with reload, targets it no longer lists (or lists changed) go. */
static int load_file(struct scrape_state *ss, int reload, struct oc_buf *say)
{
    json_t *list = NULL, *v, *out = json_array();
    char err[512];
    size_t i;
    int added = 0, rc = 0, n = 0;
    struct scrape_spec *specs = NULL;
    if (!ss->o.file || !ss->o.file[0])
        goto done;
    if ((rc = oc_yaml_list_load(ss->o.file, SCRAPE_FILE_MAX, "targets", &list, err, sizeof err)) !=
        0)
        goto fail;
    specs = oc_calloc(json_array_size(list) + 1, sizeof(*specs));
    json_array_foreach(list, i, v)
    {
        if ((rc = scrape_spec_from_json(v, &specs[n], err, sizeof err)) != 0)
            goto fail;
        n++;
        for (int k = 0; k + 1 < n; k++)
            if (!strcmp(specs[k].name, specs[n - 1].name)) {
                snprintf(err, sizeof err, "%s: two targets are named %s", ss->o.file,
                         specs[k].name);
                rc = OC_EINVAL;
                goto fail;
            }
    }
    int64_t now = oc_clock_now_ms(ss->app->clock);
    oc_lock(&ss->mu);
    for (int k = 0; reload && k < ss->ntargets; k++) {
        struct scrape_target *t = ss->targets[k];
        int same = 0;
        for (int s = 0; s < n && !t->deleted; s++)
            same |= !strcmp(specs[s].name, t->spec.name) && !strcmp(specs[s].doc, t->spec.doc);
        if (!same && !t->deleted)
            retire(t, now, out);
    }
    for (int s = 0; s < n; s++) {
        if (find(ss, specs[s].name)) {
            scrape_spec_free(&specs[s]);
            continue;
        }
        if (add(ss, &specs[s]) == 0)
            added++;
        else
            scrape_spec_free(&specs[s]);
    }
    oc_unlock(&ss->mu);
    if (say)
        oc_buf_printf(say, "scrape: %d targets in %s (%d new)", n, ss->o.file, added);
    goto done;
fail:
    for (int k = 0; k < n; k++)
        scrape_spec_free(&specs[k]);
    if (say)
        oc_buf_printf(say, "scrape: kept the targets scraped: %s", err);
    else
        oc_log(OC_LOG_ERROR, "scrape: %s", err);
done:
    free(specs);
    json_decref(list);
    json_array_foreach(out, i, v)
    {
        oc_bus_publish(ss->app->bus, json_string_value(json_object_get(v, "topic")),
                       json_object_get(v, "payload"));
    }
    json_decref(out);
    return rc;
}

static void free_targets(struct scrape_state *ss)
{
    for (int i = 0; i < ss->ntargets; i++) {
        scrape_series_clear(ss->targets[i]);
        scrape_spec_free(&ss->targets[i]->spec);
        free(ss->targets[i]->rs);
        free(ss->targets[i]);
    }
    free(ss->targets);
}

static int scrape_init(struct oc_app *app, void **state)
{
    struct scrape_opts def;
    const struct scrape_opts *o = config_module_opts(app->cfg, &scrape_module, &def);
    struct scrape_state *ss = oc_calloc(1, sizeof(*ss));
    char err[256];
    ss->app = app;
    ss->o = *o;
    pthread_mutex_init(&ss->mu, NULL);
    int rc = oc_netguard_parse(&ss->guard, o->outbound_allow, err, sizeof err);
    if (rc) {
        oc_log(OC_LOG_ERROR, "scrape.outbound_allow: %s", err);
        goto fail;
    }
    if ((rc = load_file(ss, 0, NULL)) != 0)
        goto fail;
    if ((rc = scrape_engine_start(ss)) != 0) {
        oc_log(OC_LOG_ERROR, "scrape: cannot start the scrape thread");
        scrape_engine_stop(ss);
        goto fail;
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, ss);
    *state = ss;
    return 0;
fail:
    free_targets(ss);
    pthread_mutex_destroy(&ss->mu);
    free(ss);
    return rc;
}

static int scrape_reload(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct scrape_state *ss = state;
    (void)app;
    int rc = load_file(ss, 1, say);
    curl_multi_wakeup(ss->multi);
    return rc;
}

static void scrape_stop(struct oc_app *app, void *state)
{
    struct scrape_state *ss = state;
    (void)app;
    scrape_engine_stop(ss);
    free_targets(ss);
    pthread_mutex_destroy(&ss->mu);
    free(ss);
}

#define F(field) offsetof(struct scrape_opts, field)

static const struct oc_setting settings[] = {
    {"scrape.file", OC_SETTING_STR, "", 0, 0, NULL, F(file), NULL,
     "YAML list of scraped targets {name, service, url, interval_s, down_after, down_level, "
     "rules}; re-read on SIGHUP; empty: nothing is scraped"},
    {"scrape.outbound_allow", OC_SETTING_STR, "", 0, 0, NULL, F(outbound_allow), NULL,
     "private address ranges scrapes may reach (\"127.0.0.1/32, 10.0.0.0/8\"); loopback, "
     "private and link-local addresses are refused otherwise"},
    {"scrape.interval_s", OC_SETTING_INT, "15", 1, 3600, NULL, F(interval_s), NULL,
     "seconds between scrapes of a target that sets no interval_s"},
    {"scrape.timeout_ms", OC_SETTING_INT, "5000", 100, 60000, NULL, F(timeout_ms), NULL,
     "connect and whole-request timeout of each scrape"},
    {"scrape.max_bytes", OC_SETTING_INT, "8388608", 1024, 268435456, NULL, F(max_bytes), NULL,
     "bytes of one exposition body at most (a larger one fails the scrape)"},
    {"scrape.max_series", OC_SETTING_INT, "10000", 1, 1000000, NULL, F(max_series), NULL,
     "series kept per target; samples of further series are dropped and counted"},
    {"scrape.max_targets", OC_SETTING_INT, "1000", 1, 100000, NULL, F(max_targets), NULL,
     "targets scraped at most"},
    {"scrape.down_after", OC_SETTING_INT, "2", 1, 100, NULL, F(down_after), NULL,
     "failed scrapes in a row before a target that sets no down_after is down"},
    {0},
};

#undef F

const struct oc_module scrape_module = {
    .name = "scrape",
    .summary = "scraped service metrics: Prometheus/OpenMetrics targets, series, rules, "
               "scrape.failed/recovered",
    .init = scrape_init,
    .routes = routes,
    .stop = scrape_stop,
    .reload = scrape_reload,
    .settings = settings,
    .opts_size = sizeof(struct scrape_opts),
};
