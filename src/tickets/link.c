/*
 * link.c - linking clusters to the live incident. incident.opened gives an incident's slice
 * ({dim: value}); the dimensions tickets understand are service, region (or country),
 * symptom and device (or platform). A cluster overlaps an incident when at least one of
 * them is the cluster's tag and none contradicts a tag the cluster has, its last ticket came
 * no longer than tickets.link_window_s before the declaration, and it holds at least
 * tickets.link_min_tickets. Linking happens when the incident opens (every cluster is
 * checked) and whenever a cluster gains a ticket while the incident is open, so a link is
 * made within one bus delivery of the declaration. Each link is stored on the cluster's
 * tickets, published as tickets.linked (the incident's timeline records it) and queued as
 * relations back to the ticketing system.
 */
#include "tickets/tickets_int.h"
#include "catalog/catalog.h"
#include "tickets/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/topics.h"
#include "incident/incident.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* -1 when the incident names dim with another value than the cluster's, 1 when the same,
 * 0 when either does not say. */
static int agree(const char *inc, const char *cl)
{
    if (!inc[0] || !cl[0])
        return 0;
    return strcasecmp(inc, cl) == 0 ? 1 : -1;
}

/* 1 when cluster c overlaps incident o in tags and time. */
static int overlaps(const struct tickets_mod *m, const struct tickets_cluster *c,
                    const struct tickets_open *o)
{
    int a[4] = {agree(o->service, c->tags.service), agree(o->region, c->tags.region),
                agree(o->symptom, c->tags.symptom), agree(o->device, c->tags.device)};
    if (o->backend && a[0] < 0)
        a[0] = 0;
    int match = 0;
    for (int i = 0; i < 4; i++) {
        if (a[i] < 0)
            return 0;
        match += a[i];
    }
    /* no symptom in the slice: the metric's agrees, or says nothing (never contradicts) */
    if (!o->symptom[0] && agree(o->hint, c->tags.symptom) > 0)
        match++;
    return match > 0 && c->n >= m->o.link_min && c->last_ms >= o->at_ms - m->o.link_window_s * 1000;
}

int64_t tickets_open_match(struct tickets_mod *m, const char *service, const char *region,
                           const char *device)
{
    for (int i = m->nopen - 1; i >= 0; i--) {
        const struct tickets_open *o = &m->open[i];
        int a[3] = {agree(o->service, service), agree(o->region, region), agree(o->device, device)};
        if (a[0] >= 0 && a[1] >= 0 && a[2] >= 0 && a[0] + a[1] + a[2] > 0)
            return o->id;
    }
    return 0;
}

void tickets_link_report(struct tickets_mod *m, struct tickets_cluster *c, int64_t now_ms)
{
    char id[24];
    snprintf(id, sizeof id, "INC-%lld", (long long)c->incident_id);
    json_t *p = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:I}", "incident_id", id, "cluster_id",
                          (json_int_t)c->id, "tickets", (json_int_t)c->n, "service",
                          c->tags.service, "symptom", c->tags.symptom, "region", c->tags.region,
                          "at", (json_int_t)(now_ms / 1000));
    oc_bus_publish(m->app->bus, OC_TOPIC_TICKETS_LINKED, p);
    json_decref(p);
    c->reported = c->n;
}

/* Records the link of c to o: store, tickets.linked, relations. */
static void link(struct tickets_mod *m, struct tickets_cluster *c, const struct tickets_open *o,
                 int64_t now_ms)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    c->incident_id = o->id;
    c->linked_ms = now_ms;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_LINK, &q) == 0 &&
        STORE_BIND(q, STORE_INT(c->id), STORE_INT(o->id)) == 0 && store_step(q) != STORE_DONE)
        oc_log(OC_LOG_ERROR, "tickets: cannot link cluster %lld: %s", (long long)c->id,
               store_errmsg(s));
    if (q)
        tickets_stmt_done(q);
    store_unlock(s);
    atomic_fetch_add(&m->links, 1);
    tickets_link_report(m, c, now_ms);
    tickets_zd_queue_problem(m, o, now_ms); /* before the calls that need it */
    tickets_outbox_queue(m, c->id, o->id, "linked", "investigating", now_ms);
}

int tickets_link_incident(struct tickets_mod *m, const struct tickets_open *o, int64_t now_ms)
{
    int n = 0;
    for (size_t i = 0; i < m->cs.n; i++) {
        struct tickets_cluster *c = &m->cs.c[i];
        if (!c->incident_id && overlaps(m, c, o)) {
            link(m, c, o, now_ms);
            n++;
        }
    }
    return n;
}

int tickets_link_cluster(struct tickets_mod *m, struct tickets_cluster *c, int64_t now_ms)
{
    for (int i = m->nopen - 1; i >= 0; i--) /* the newest incident first */
        if (overlaps(m, c, &m->open[i])) {
            link(m, c, &m->open[i], now_ms);
            return 1;
        }
    return 0;
}

/* Copies slice[keys...] (the first present string) into out. */
static void dim(const json_t *slice, const char *const *keys, char *out, size_t n)
{
    for (; *keys; keys++) {
        const json_t *v = json_object_get(slice, *keys);
        if (json_is_string(v)) {
            snprintf(out, n, "%s", json_string_value(v));
            return;
        }
    }
}

/* Reads incident.opened into o: 0, or -1 when it names no incident. */
/* The symptom viewers write about when metric degrades: rebuffering metrics -> buffering,
 * start failures and exits before start -> cannot_start; else "". */
static const char *metric_symptom(const char *metric)
{
    if (!metric)
        return "";
    if (strstr(metric, "rebuffer"))
        return "buffering";
    if (strstr(metric, "vsf") || strstr(metric, "ebvs") || strstr(metric, "start_fail"))
        return "cannot_start";
    return "";
}

/* The symptom viewers write about when a service of catalog kind kind fails ("" : none). */
static const char *kind_symptom(const char *kind)
{
    static const char *const map[][2] = {
        {"drm", "cannot_start"},   {"entitlements", "cannot_start"}, {"api", "cannot_start"},
        {"auth", "login"},         {"billing", "payment"},           {"profile", "progress_lost"},
        {"packager", "buffering"}, {"manifest", "buffering"},        {"encoder", "buffering"},
        {"origin", "buffering"},   {"storage", "buffering"},         {"cdn", "buffering"},
        {"network", "buffering"},
    };
    for (size_t i = 0; kind && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(kind, map[i][0]) == 0)
            return map[i][1];
    return "";
}

static int read_opened(const json_t *p, const char *kind, struct tickets_open *o)
{
    struct oc_ev_incident_opened ev;
    static const char *const svc[] = {"service", NULL}, *const reg[] = {"region", "country", NULL},
                             *const sym[] = {"symptom", NULL},
                             *const dev[] = {"device", "platform", NULL};
    memset(o, 0, sizeof *o);
    if (oc_ev_incident_opened_read(p, &ev) != 0 || incident_id_parse(ev.incident_id, &o->id) != 0)
        return -1;
    o->at_ms = ev.at * 1000;
    snprintf(o->title, sizeof o->title, "%s", ev.title ? ev.title : "");
    snprintf(o->severity, sizeof o->severity, "%s", ev.severity ? ev.severity : "");
    dim(ev.slice, svc, o->service, sizeof o->service);
    dim(ev.slice, reg, o->region, sizeof o->region);
    dim(ev.slice, sym, o->symptom, sizeof o->symptom);
    dim(ev.slice, dev, o->device, sizeof o->device);
    /* the opening alert's metric hints at a symptom the slice may not name; a service's own
     * signal, the service's kind */
    snprintf(o->hint, sizeof o->hint, "%s", metric_symptom(ev.metric));
    o->backend = o->service[0] && !o->hint[0];
    if (o->backend)
        snprintf(o->hint, sizeof o->hint, "%s", kind_symptom(kind));
    return 0;
}

/* Queues a relation of every cluster linked to incident id. */
static void relate_all(struct tickets_mod *m, int64_t id, const char *kind, const char *status,
                       int64_t now_ms)
{
    for (size_t i = 0; i < m->cs.n; i++)
        if (m->cs.c[i].incident_id == id)
            tickets_outbox_queue(m, m->cs.c[i].id, id, kind, status, now_ms);
}

/* Removes open incident id (under mu), if remembered. */
static void forget(struct tickets_mod *m, int64_t id)
{
    for (int i = 0; i < m->nopen; i++)
        if (m->open[i].id == id) {
            memmove(m->open + i, m->open + i + 1, sizeof m->open[0] * (size_t)(m->nopen - i - 1));
            m->nopen--;
            return;
        }
}

void tickets_on_incident(const char *topic, const json_t *payload, void *state)
{
    struct tickets_mod *m = state;
    int64_t now = oc_clock_now_ms(m->app->clock), survey = 0;
    char kind[CATALOG_NAME_MAX] = "";
    struct catalog_ref ref;
    const char *svc =
        json_string_value(json_object_get(json_object_get(payload, "slice"), "service"));
    if (svc && strcmp(topic, OC_TOPIC_INCIDENT_OPENED) == 0 && catalog_get(m->app, &ref) == 0) {
        const struct catalog_service *cs = catalog_service_find(ref.cat, svc);
        if (cs && cs->kind) /* read before m->mu: the catalog's lock is not taken under it */
            snprintf(kind, sizeof kind, "%s", cs->kind);
        catalog_put(&ref);
    }
    oc_lock(&m->mu);
    if (strcmp(topic, OC_TOPIC_INCIDENT_OPENED) == 0) {
        struct tickets_open o;
        if (read_opened(payload, kind, &o) == 0) {
            forget(m, o.id);                    /* heard again: the newer slice replaces it */
            if (m->nopen == TICKETS_OPEN_MAX) { /* the oldest goes */
                memmove(m->open, m->open + 1, sizeof m->open[0] * (TICKETS_OPEN_MAX - 1));
                m->nopen--;
            }
            m->open[m->nopen++] = o;
            tickets_link_incident(m, &o, now);
        }
    } else {
        struct oc_ev_incident ev;
        int64_t id = 0;
        if (oc_ev_incident_read(payload, &ev) != 0 || incident_id_parse(ev.incident_id, &id) != 0)
            id = 0;
        if (id > 0 && strcmp(topic, OC_TOPIC_INCIDENT_RESOLVED) == 0) {
            forget(m, id);
            relate_all(m, id, "status_update", "resolved", now);
            tickets_zd_queue_status(m, id, "resolved", "", now);
            survey = id;
        } else if (id > 0) {
            relate_all(m, id, "status_update", ev.status[0] ? ev.status : "update", now);
            tickets_zd_queue_status(m, id, ev.status[0] ? ev.status : "update", ev.body, now);
        }
    }
    oc_unlock(&m->mu);
    if (survey) { /* reads the incident: not under mu */
        int skipped = 0;
        atomic_fetch_add(&m->surveys_queued, tickets_survey_queue(m, survey, now, &skipped));
    }
}

double tickets_incident_affected(const json_t *inc)
{
    const json_t *snaps = json_object_get(inc, "snapshots");
    static const char *const which[] = {"peak", "declaration"};
    double best = 0;
    for (int i = 0; i < 2 && best <= 0; i++) {
        const json_t *sn = json_object_get(snaps, which[i]);
        best = json_number_value(json_object_get(sn, "viewers")) *
               json_number_value(json_object_get(sn, "affected_share"));
    }
    return best;
}

json_t *tickets_per_1000(int64_t tickets, double affected)
{
    return affected > 0 ? json_real((double)tickets * 1000.0 / affected) : json_null();
}

/* A linked cluster's incident and its tickets. */
struct linked {
    int64_t incident, n;
};

static int cmp_linked(const void *a, const void *b)
{
    const struct linked *x = a, *y = b;
    return x->incident < y->incident ? -1 : x->incident > y->incident;
}

void tickets_incident_view(void *arg, json_t *incidents)
{
    struct tickets_mod *m = arg;
    size_t n = 0, i;
    json_t *o;
    oc_lock(&m->mu);
    struct linked *v = oc_calloc(m->cs.n + 1, sizeof *v);
    for (size_t k = 0; k < m->cs.n; k++)
        if (m->cs.c[k].incident_id)
            v[n++] = (struct linked){m->cs.c[k].incident_id, (int64_t)m->cs.c[k].n};
    oc_unlock(&m->mu);
    if (n > 1) /* qsort must not see NULL, even for no rows */
        qsort(v, n, sizeof *v, cmp_linked);
    json_array_foreach(incidents, i, o)
    {
        struct linked key = {json_integer_value(json_object_get(o, "id")), 0}, *at;
        int64_t sum = 0;
        at = n ? bsearch(&key, v, n, sizeof *v, cmp_linked) : NULL;
        while (at && at > v && at[-1].incident == key.incident) /* the first of its clusters */
            at--;
        for (; at && at < v + n && at->incident == key.incident; at++)
            sum += at->n;
        json_object_set_new(o, "tickets", json_integer(sum));
        json_object_set_new(o, "tickets_per_1000_affected",
                            tickets_per_1000(sum, tickets_incident_affected(o)));
    }
    free(v);
}
