/*
 * module.c - the `alert` module: a one-second timer that evaluates newly closed minutes of
 * the running ingest cube, the HTTP routes (GET /v1/alerts, GET /v1/rules,
 * POST /v1/alerts/alertmanager, GET /v1/alerts/audit), and the bus subscriptions that mark
 * firings acknowledged (incident.acknowledged) or as having led to an incident
 * (incident.opened) for the audit.
 */
#include "alert/alert.h"
#include "core/buf.h"
#include "core/topics.h"
#include "config/config.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECENT_MAX 200 /* firings answered by GET /v1/alerts */
#define AUDIT_DAYS 90  /* default of ?days= */
#define MAX_DAYS   3650

struct alert_mod {
    struct oc_app *app;         /* borrowed */
    const struct slo_set *slos; /* the slo module's, or own_slos */
    struct slo_set *own_slos;   /* owned: loaded here when the slo module does not run */
    struct alert_rules *rules;  /* owned; replaced by a SIGHUP under rules_mu */
    pthread_rwlock_t rules_mu;  /* readers of rules on HTTP threads; the reload writes */
    struct alert_engine *eng;   /* owned */
    _Atomic long am_events;     /* Alertmanager events published */
    int replay_started;         /* replay clock: evaluation set to start at the first minute */
};

/* Gives each active alert the incident_id and fired_at of its open firing in recent (null
 * when none). */
static void link_incidents(json_t *active, const json_t *recent)
{
    size_t i, j;
    json_t *a, *r;
    json_array_foreach(active, i, a)
    {
        if (json_object_get(a, "incident_id"))
            continue;
        const char *id = json_string_value(json_object_get(a, "alert_id"));
        json_t *inc = json_null(), *fired = json_null();
        json_array_foreach(recent, j, r)
        {
            const char *rid = json_string_value(json_object_get(r, "alert_id"));
            if (id && rid && strcmp(id, rid) == 0 &&
                json_is_null(json_object_get(r, "resolved_at"))) {
                inc = json_object_get(r, "incident_id");
                fired = json_object_get(r, "fired_at");
                break;
            }
        }
        json_object_set(a, "incident_id", inc);
        if (!json_object_get(a, "fired_at"))
            json_object_set(a, "fired_at", fired);
    }
}

/* GET /v1/alerts: {"active": [...], "recent": [...]}, each with its incident_id or null. */
static void alerts_get(struct http_req *req)
{
    struct alert_mod *m = req->state;
    json_t *active = alert_engine_active(m->eng), *recent = json_array();
    if (req->app->store) {
        json_decref(recent);
        recent = alert_store_recent(req->app->store, RECENT_MAX);
        size_t i;
        json_t *r;
        json_array_foreach(recent, i, r)
        {
            const char *src = json_string_value(json_object_get(r, "source"));
            if (src && strcmp(src, "alertmanager") == 0 &&
                json_is_null(json_object_get(r, "resolved_at")))
                json_array_append(active, r);
        }
    }
    link_incidents(active, recent);
    http_reply_json(req, 200, json_pack("{s:o, s:o}", "active", active, "recent", recent));
}

/* GET /v1/rules. */
static void rules_get(struct http_req *req)
{
    struct alert_mod *m = req->state;
    json_t *a = json_array();
    pthread_rwlock_rdlock(&m->rules_mu);
    for (int i = 0; i < m->rules->n; i++)
        json_array_append_new(a, alert_rule_json(&m->rules->rules[i]));
    pthread_rwlock_unlock(&m->rules_mu);
    http_reply_json(req, 200, json_pack("{s:o}", "rules", a));
}

/* 1 when the event changes something: a firing not yet open, a resolve of an open one. */
static int is_new(struct store *st, const char *topic, const json_t *p)
{
    if (!st)
        return 1;
    int open = alert_store_is_open(st, json_string_value(json_object_get(p, "alert_id")));
    if (open < 0)
        return 1;
    return strcmp(topic, OC_TOPIC_ALERT_FIRED) == 0 ? !open : open;
}

/* POST /v1/alerts/alertmanager: the Alertmanager webhook receiver. */
static void am_post(struct http_req *req)
{
    struct alert_mod *m = req->state;
    char err[256] = "";
    json_t *events = NULL, *body = http_body_json(req), *ev;
    size_t i;
    int published = 0;
    if (!body)
        return;
    int rc = alert_am_translate(body, oc_clock_now_s(req->app->clock), &events, err, sizeof(err));
    json_decref(body);
    if (rc) {
        http_reply_err(req, rc, "%s", err);
        return;
    }
    json_array_foreach(events, i, ev)
    {
        const char *topic = json_string_value(json_object_get(ev, "topic"));
        const json_t *p = json_object_get(ev, "payload");
        if (!is_new(req->app->store, topic, p))
            continue;
        alert_emit(req->app->bus, req->app->store, topic, p);
        published++;
        m->am_events++;
    }
    http_reply_json(req, 200,
                    json_pack("{s:I, s:i}", "received", (json_int_t)json_array_size(events),
                              "published", published));
    json_decref(events);
}

/* GET /v1/alerts/audit?days=90. */
static void audit_get(struct http_req *req)
{
    struct alert_mod *m = req->state;
    const char *ds = http_query(req, "days");
    char *end;
    long days = AUDIT_DAYS;
    if (ds) {
        errno = 0;
        days = strtol(ds, &end, 10);
        if (errno || end == ds || *end || days < 1 || days > MAX_DAYS) {
            http_problem(req, 422, "days: an integer from 1 to %d", MAX_DAYS);
            return;
        }
    }
    if (!req->app->store) {
        http_problem(req, 503, "the store is not open");
        return;
    }
    pthread_rwlock_rdlock(&m->rules_mu);
    json_t *a = alert_audit(req->app->store, m->rules, oc_clock_now_s(req->app->clock), (int)days);
    pthread_rwlock_unlock(&m->rules_mu);
    if (!a)
        http_reply_err(req, OC_EDB, "cannot read the alert history");
    else
        http_reply_json(req, 200, a);
}

static const struct http_route routes[] = {
    {"GET", "/v1/alerts", alerts_get, HTTP_VIEWER, 0, "active alerts and the recent firings"},
    {"GET", "/v1/rules", rules_get, HTTP_VIEWER, 0, "the loaded alert rules"},
    {"POST", "/v1/alerts/alertmanager", am_post, HTTP_RESPONDER, ALERT_AM_BODY,
     "Prometheus Alertmanager webhook (v4): alerts become alert.fired / alert.resolved"},
    {"GET", "/v1/alerts/audit", audit_get, HTTP_VIEWER, 0,
     "per rule over ?days=90: fired, acknowledged, led to incident, and a flag"},
    {0},
};

/* probe.failed / probe.recovered: the prober's findings as alerts (probe.c), recorded and
 * published like the engine's. */
static void on_probe(const char *topic, const json_t *payload, void *arg)
{
    struct alert_mod *m = arg;
    const char *t;
    json_t *p = alert_probe_translate(topic, payload, &t);
    if (!p)
        return;
    alert_emit(m->app->bus, m->app->store, t, p);
    json_decref(p);
}

/* scrape.failed / scrape.recovered: findings on scraped metrics as alerts (scrape.c). */
static void on_scrape(const char *topic, const json_t *payload, void *arg)
{
    struct alert_mod *m = arg;
    const char *t;
    json_t *p = alert_scrape_translate(topic, payload, &t);
    if (!p)
        return;
    alert_emit(m->app->bus, m->app->store, t, p);
    json_decref(p);
}

/* incident.acknowledged {"alert_ids": [...]}, incident.opened {"incident_id", "alert_ids"} and
 * incident.timeline (an "alert" entry: an alert joined the incident or fired again in it):
 * acknowledged marks each alert's latest firing acknowledged, and all three mark it as having
 * led to the incident. */
static void on_incident(const char *topic, const json_t *payload, void *arg)
{
    struct alert_mod *m = arg;
    struct oc_ev_incident ev; /* incident.opened has these two fields too */
    const json_t *id;
    int64_t now = oc_clock_now_s(m->app->clock);
    size_t i;
    oc_ev_incident_read(payload, &ev);
    if (!m->app->store)
        return;
    json_array_foreach(ev.alert_ids, i, id)
    {
        const char *s = json_string_value(id);
        if (!s)
            continue;
        if (strcmp(topic, OC_TOPIC_INCIDENT_ACKNOWLEDGED) == 0)
            alert_store_ack(m->app->store, s, now);
        if (ev.incident_id[0]) /* also on acknowledged: alerts that joined an open incident */
            alert_store_incident(m->app->store, s, ev.incident_id);
    }
}

/* Timer: evaluates the minutes closed since the last tick. In real time the first tick
 * starts at the newest closed minute (history was evaluated when it was live); on a replay
 * clock every replayed minute counts, so evaluation starts at the first minute in memory,
 * however far ingest got before the first tick. */
static void eval_timer(struct oc_app *app, void *state)
{
    struct alert_mod *m = state;
    struct qoe_cube *c = qoe_cube_of(app);
    int64_t lo, hi;
    if (!c)
        return;
    if (app->clock->kind == OC_CLOCK_REPLAY && !m->replay_started) {
        qoe_cube_window(c, &lo, &hi);
        if (hi <= 0)
            return; /* nothing closed yet */
        alert_engine_start_at(m->eng, lo);
        m->replay_started = 1;
    }
    alert_eval_tick(m->eng, c, oc_clock_now_s(app->clock));
}

/* /metrics: firing alerts of the engine by level, Alertmanager events received. */
static void render(struct oc_buf *b, void *arg)
{
    struct alert_mod *m = arg;
    json_t *active = alert_engine_active(m->eng), *a;
    double n[3] = {0, 0, 0};
    size_t i;
    json_array_foreach(active, i, a)
    {
        const char *lv = json_string_value(json_object_get(a, "level"));
        for (int k = 0; lv && k < 3; k++)
            n[k] += strcmp(lv, alert_level_names[k]) == 0;
    }
    json_decref(active);
    oc_metrics_family(b, "oncue_alerts_firing", "gauge", "alerts of oncue's rules firing now");
    for (int k = 0; k < 3; k++) {
        const char *labels[] = {"level", alert_level_names[k], NULL};
        oc_metrics_sample(b, "oncue_alerts_firing", labels, n[k]);
    }
    oc_metrics_family(b, "oncue_alertmanager_events_total", "counter",
                      "alert.fired and alert.resolved events published from Alertmanager webhooks");
    oc_metrics_sample(b, "oncue_alertmanager_events_total", NULL, (double)m->am_events);
}

static const struct oc_module_timer timers[] = {
    {"alert-eval", 1000, eval_timer},
    {0},
};

static void mod_free(struct alert_mod *m)
{
    alert_engine_destroy(m->eng);
    alert_rules_destroy(m->rules);
    slo_set_destroy(m->own_slos);
    pthread_rwlock_destroy(&m->rules_mu);
    free(m);
}

/* SIGHUP: re-reads slo.file (when the slo module does not run, which re-reads it otherwise)
 * and alert.rules_file; the engine keeps the state of every rule kept by name. A file that
 * does not load leaves the rules in force and says why. */
static int alert_reload(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct alert_mod *m = state;
    struct slo_opts sdef;
    struct alert_opts adef;
    const struct slo_opts *so = config_module_opts(app->cfg, &slo_module, &sdef);
    const struct alert_opts *ao = config_module_opts(app->cfg, &alert_module, &adef);
    struct alert_rules *rules = NULL, *old;
    char err[512] = "";
    int rc = 0;
    if (m->own_slos) {
        struct slo_set *set = NULL;
        if ((rc = slo_set_load(so->file, &set, err, sizeof(err))) == 0) {
            slo_set_replace(m->own_slos, set);
            slo_set_destroy(set);
        }
    }
    if (rc == 0) {
        slo_set_rdlock(m->slos);
        rc = alert_rules_load(ao->rules_file, m->slos, &rules, err, sizeof(err));
        slo_set_unlock(m->slos);
    }
    if (rc) {
        oc_buf_printf(say, "alert: kept the %d rules in force: %s", m->rules->n, err);
        return rc;
    }
    int added = 0, was = m->rules->n;
    for (int i = 0; i < rules->n; i++) {
        int found = 0;
        for (int k = 0; k < m->rules->n && !found; k++)
            found = strcmp(rules->rules[i].name, m->rules->rules[k].name) == 0;
        added += !found;
    }
    int dropped = alert_engine_set_rules(m->eng, rules);
    pthread_rwlock_wrlock(&m->rules_mu);
    old = m->rules;
    m->rules = rules;
    pthread_rwlock_unlock(&m->rules_mu);
    oc_buf_printf(say, "alert: %d rules (%d new, %d gone; %d alert states dropped)", rules->n,
                  added, was - (rules->n - added), dropped);
    alert_rules_destroy(old);
    return 0;
}

static int alert_init(struct oc_app *app, void **state)
{
    char err[512] = "";
    struct alert_mod *m = calloc(1, sizeof(*m));
    struct slo_opts sdef;
    struct alert_opts adef;
    const struct slo_opts *so = config_module_opts(app->cfg, &slo_module, &sdef);
    const struct alert_opts *ao = config_module_opts(app->cfg, &alert_module, &adef);
    int rc = OC_ENOMEM;
    if (!m)
        return rc;
    m->app = app;
    pthread_rwlock_init(&m->rules_mu, NULL);
    m->slos = slo_set_of(app);
    rc = m->slos ? 0 : slo_set_load(so->file, &m->own_slos, err, sizeof(err));
    if (!m->slos)
        m->slos = m->own_slos;
    if (rc == 0)
        rc = alert_rules_load(ao->rules_file, m->slos, &m->rules, err, sizeof(err));
    if (rc) {
        oc_log(OC_LOG_ERROR, "alert: %s", err[0] ? err : oc_strerror(rc));
        mod_free(m);
        return rc;
    }
    m->eng = alert_engine_new(m->rules, m->slos, app->bus, app->store);
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    if (app->store) {
        json_t *open = alert_store_open_firings(app->store);
        int n = alert_engine_restore(m->eng, open);
        if (n)
            oc_log(OC_LOG_INFO, "alert: %d firing alerts restored from the store", n);
        json_decref(open);
    }
    *state = m;
    return 0;
}

static void alert_stop(struct oc_app *app, void *state)
{
    (void)app;
    mod_free(state);
}

static const struct oc_module_sub subs[] = {
    {OC_TOPIC_INCIDENT_ACKNOWLEDGED, on_incident}, {OC_TOPIC_INCIDENT_OPENED, on_incident},
    {OC_TOPIC_INCIDENT_TIMELINE, on_incident},     {OC_TOPIC_PROBE_FAILED, on_probe},
    {OC_TOPIC_PROBE_RECOVERED, on_probe},          {OC_TOPIC_SCRAPE_FAILED, on_scrape},
    {OC_TOPIC_SCRAPE_RECOVERED, on_scrape},        {0},
};

#define F(field) offsetof(struct alert_opts, field)

static const struct oc_setting settings[] = {
    {"alert.rules_file", OC_SETTING_STR, "", 0, 0, NULL, F(rules_file), NULL,
     "alert rules YAML loaded at start and re-read on SIGHUP (with the burn-rate rules of "
     "slo.file's alert policies); empty: the shipped examples/rules.yaml"},
    {0},
};

#undef F

const struct oc_module alert_module = {
    .name = "alert",
    .summary = "alert rules on closed minutes, Alertmanager intake, the alert audit",
    .init = alert_init,
    .routes = routes,
    .timers = timers,
    .timers_leased = 1, /* one replica fires alerts (store/lease.h) */
    .stop = alert_stop,
    .reload = alert_reload,
    .subs = subs,
    .settings = settings,
    .opts_size = sizeof(struct alert_opts),
};
