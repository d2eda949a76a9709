/*
 * module.c - the `tickets` module: POST /v1/tickets/zendesk (Zendesk's signature), POST
 * /v1/tickets (the mapped JSON intake), GET /v1/tickets, /v1/tickets/clusters and
 * /v1/tickets/{id}, its settings and /metrics counters, and the start-up replay that rebuilds
 * the clusters from the store.
 *
 * An intake is verified, parsed and tagged on its HTTP worker without the module's mutex;
 * under it the ticket is upserted by (source, external id), an older or equal update being
 * answered as a duplicate and changing nothing, and a new ticket joins its cluster, which may
 * link it to an open incident. The answer follows the store's commit. The Zendesk secret
 * comes from the settings and is never logged nor shown.
 */
#include "tickets/tickets_int.h"
#include "tickets/sql.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/netguard.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "core/topics.h"
#include "http/http.h"
#include "incident/incident.h"
#include "store/store.h"

#include <ctype.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX     500 /* tickets one GET /v1/tickets answers */
#define CLUSTERS_MAX 200 /* clusters one GET /v1/tickets/clusters answers */
#define SVCS_MAX     1024

/* The tags as JSON (a new reference). */
static json_t *tags_json(const struct tickets_tags *g)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "service", g->service, "symptom",
                     g->symptom, "tier", g->tier, "segment", g->segment, "device", g->device,
                     "app_version", g->app_version, "region", g->region, "vip", g->vip);
}

/* The fields as given (a new reference). */
static json_t *fields_json(const struct tickets_ticket *t)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "status", t->status,
                     "priority", t->priority, "tier", t->f_tier, "segment", t->f_segment, "device",
                     t->f_device, "app_version", t->f_app_version, "region", t->f_region, "service",
                     t->f_service, "tags", t->tags_in, "account", t->account);
}

/* Tags t with the keywords and the running catalog's services (names, public names). */
static void tag(struct tickets_mod *m, struct tickets_ticket *t)
{
    struct catalog_ref ref;
    if (catalog_get(m->app, &ref) != 0) {
        tickets_tag(t, &m->kw, NULL, 0);
        return;
    }
    int ns = ref.cat->nservices < SVCS_MAX ? ref.cat->nservices : SVCS_MAX;
    struct tickets_service *sv = oc_calloc((size_t)ns + 1, sizeof *sv);
    char(*alias)[TICKETS_FIELD_MAX * 2] = oc_calloc((size_t)ns + 1, sizeof *alias);
    for (int i = 0; i < ns; i++) {
        const struct catalog_service *s = ref.cat->services[i];
        sv[i].name = s->name;
        if (s->public_name) {
            tickets_normalize(s->public_name, alias[i], sizeof alias[i]);
            size_t n = strlen(alias[i]);
            if (n > 2) {
                alias[i][n - 1] = '\0';
                sv[i].aliases = alias[i] + 1;
            }
        }
    }
    tickets_tag(t, &m->kw, sv, ns);
    catalog_put(&ref);
    free(sv);
    free(alias);
}

/* Routes t (tagged) at now_ms into out: the routing table's queue and priority, then the
 * catalog's part: the rule's team, else the owner of t's service (else the catalog's default
 * owner), with the team's escalation policy and its on-call now. */
static void route(struct tickets_mod *m, const struct tickets_ticket *t, int64_t now_ms,
                  struct tickets_route *out)
{
    int mins[TICKETS_NPRIO + 1] = {0};
    for (int i = 1; i <= TICKETS_NPRIO; i++)
        mins[i] = (int)m->o.respond_min[i];
    tickets_route_pick(&m->routing, &t->tags, m->o.default_queue, mins, out);
    struct catalog_ref ref;
    if (catalog_get(m->app, &ref) != 0)
        return;
    struct catalog_route cr;
    memset(&cr, 0, sizeof cr);
    if (out->team[0]) {
        const struct catalog_team *tm = catalog_team_find(ref.cat, out->team);
        struct catalog_shift sh;
        if (tm && tm->policy)
            snprintf(out->policy, sizeof out->policy, "%s", tm->policy);
        if (tm && catalog_oncall(ref.cat, out->team, now_ms, &sh) == 0)
            snprintf(out->oncall, sizeof out->oncall, "%s", sh.person);
    } else if ((t->tags.service[0] &&
                catalog_route_service(ref.cat, t->tags.service, now_ms, &cr) == 0) ||
               catalog_route_default(ref.cat, now_ms, &cr) == 0) {
        snprintf(out->team, sizeof out->team, "%s", cr.team);
        snprintf(out->policy, sizeof out->policy, "%s", cr.policy);
        snprintf(out->oncall, sizeof out->oncall, "%s", cr.oncall);
    }
    catalog_put(&ref);
}

/* A route as JSON (a new reference): respond_by is by_ms. */
static json_t *route_json(const struct tickets_mod *m, const struct tickets_route *r, int64_t by_ms)
{
    char by[OC_TIME_LEN], rule[160] = "";
    oc_time_format(by_ms, by, sizeof by);
    if (r->rule >= 0) {
        const struct tickets_route_rule *u = &m->routing.r[r->rule];
        snprintf(rule, sizeof rule, "%s/%s/%s", u->service[0] ? u->service : "*",
                 u->segment[0] ? u->segment : "*", u->tier[0] ? u->tier : "*");
    }
    return json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:i, s:i, s:s, s:s?}", "queue", r->queue, "team",
                     r->team[0] ? r->team : NULL, "policy", r->policy[0] ? r->policy : NULL,
                     "oncall", r->oncall[0] ? r->oncall : NULL, "priority",
                     tickets_prio_names[r->prio], "rank", (int)r->prio, "respond_min",
                     r->respond_min, "respond_by", by, "rule", rule[0] ? rule : NULL);
}

/* A ticket's stored form: its texts as JSON and its SimHash. */
struct row {
    char *fields, *tags, *route; /* owned (json_dumps) */
    uint64_t h;
};

/* Under the store's lock: the stored row of t's source and id into out (id, cluster_id,
 * incident_id) and its updated_ms into *have_ms: 1 found, 0 not, OC_EDB. */
static int find_row(struct store *s, const struct tickets_ticket *t, struct tickets_result *out,
                    int64_t *have_ms)
{
    struct store_stmt *q = NULL;
    int r = OC_EDB;
    if (store_prepare(s, TICKETS_SQL_FIND, &q) == 0 &&
        STORE_BIND(q, STORE_TEXT(tickets_format_names[t->format]), STORE_TEXT(t->ext_id)) == 0) {
        r = store_step(q);
        if (r == STORE_ROW) {
            out->id = store_col_int(q, 0);
            *have_ms = store_col_int(q, 1);
            out->cluster_id = store_col_int(q, 2);
            out->incident_id = store_col_int(q, 3);
        }
        r = r == STORE_ROW ? 1 : r == STORE_DONE ? 0 : OC_EDB;
    }
    tickets_stmt_done(q);
    return r;
}

/* Under the store's lock: replaces the row id's texts with t's: 0 or OC_EDB. */
static int update_row(struct store *s, int64_t id, const struct tickets_ticket *t,
                      const struct row *w)
{
    struct store_stmt *q = NULL;
    int ok = store_prepare(s, TICKETS_SQL_UPDATE, &q) == 0 &&
             STORE_BIND(q, STORE_INT(id), STORE_INT(t->updated_ms), STORE_INT(t->created_ms),
                        STORE_TEXT(t->subject), STORE_TEXT(t->body), STORE_TEXT(w->fields),
                        STORE_TEXT(w->tags), STORE_INT((int64_t)w->h), STORE_TEXT(w->route),
                        STORE_TEXT(t->status)) == 0 &&
             store_step(q) == STORE_DONE;
    tickets_stmt_done(q);
    return ok ? 0 : OC_EDB;
}

/* Under mu and the store's lock: clusters t and inserts it (out->id, cluster_id,
 * incident_id): 0, OC_ETOOBIG (no cluster left) or OC_EDB (the cluster does not count it). */
static int insert_row(struct tickets_mod *m, const struct tickets_ticket *t, const struct row *w,
                      int64_t now_ms, struct tickets_result *out)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    int rc = tickets_clusters_add(&m->cs, w->h, &t->tags, t->updated_ms ? t->updated_ms : now_ms,
                                  &out->cluster_id);
    if (rc)
        return rc;
    struct tickets_cluster *c = tickets_cluster_get(&m->cs, out->cluster_id);
    out->incident_id = c->incident_id;
    int ok = store_prepare(s, TICKETS_SQL_INSERT, &q) == 0 &&
             STORE_BIND(q, STORE_TEXT(tickets_format_names[t->format]), STORE_TEXT(t->ext_id),
                        STORE_INT(t->updated_ms), STORE_INT(t->created_ms), STORE_INT(now_ms),
                        STORE_TEXT(t->subject), STORE_TEXT(t->body), STORE_TEXT(w->fields),
                        STORE_TEXT(w->tags), STORE_INT((int64_t)w->h), STORE_INT(out->cluster_id),
                        STORE_INT(out->incident_id), STORE_TEXT(w->route)) == 0 &&
             store_step(q) == STORE_DONE;
    tickets_stmt_done(q);
    if (!ok) {
        c->n--;
        return OC_EDB;
    }
    out->id = store_last_id(s);
    return 0;
}

/* Under mu: inserts t (clustering it, and linking its cluster when it now overlaps an open
 * incident), or replaces it when its updated_ms is later than the stored one, or changes
 * nothing (a duplicate). 0 with out filled, or OC_EDB / OC_ETOOBIG. */
static int upsert(struct tickets_mod *m, struct tickets_ticket *t, int64_t now_ms,
                  struct tickets_result *out)
{
    struct store *s = m->app->store;
    struct row w;
    int64_t have_ms = 0;
    json_t *fj = fields_json(t), *tj = tags_json(&t->tags),
           *rj = route_json(m, &out->route, out->respond_by_ms);
    w.fields = json_dumps(fj, JSON_COMPACT);
    w.tags = json_dumps(tj, JSON_COMPACT);
    w.route = json_dumps(rj, JSON_COMPACT);
    w.h = tickets_simhash(t);
    store_lock(s);
    int rc = find_row(s, t, out, &have_ms);
    if (rc == 1 && t->updated_ms <= have_ms) {
        out->outcome = "duplicate";
        rc = 0;
    } else if (rc == 1) {
        out->outcome = "updated";
        rc = update_row(s, out->id, t, &w);
    } else if (rc == 0) {
        out->outcome = "created";
        rc = insert_row(m, t, &w, now_ms, out);
    }
    store_unlock(s);
    if (rc == 0 && strcmp(out->outcome, "created") == 0) {
        struct tickets_cluster *c = tickets_cluster_get(&m->cs, out->cluster_id);
        if (out->incident_id) { /* joined a linked cluster: this ticket is related too */
            tickets_outbox_queue_one(m, tickets_format_names[t->format], t->ext_id, c->id,
                                     out->incident_id, now_ms);
            if (c->n >= 2 * c->reported)
                tickets_link_report(m, c, now_ms);
        } else if (tickets_link_cluster(m, c, now_ms))
            out->incident_id = c->incident_id;
    }
    json_decref(fj);
    json_decref(tj);
    json_decref(rj);
    free(w.fields);
    free(w.tags);
    free(w.route);
    return rc;
}

/* Tags and stores t: 0 or the upsert's error (counted). */
static int submit(struct tickets_mod *m, struct tickets_ticket *t, struct tickets_result *o)
{
    int64_t now = oc_clock_now_ms(m->app->clock);
    memset(o, 0, sizeof *o);
    if (!t->updated_ms)
        t->updated_ms = t->created_ms;
    tag(m, t);
    route(m, t, now, &o->route);
    o->respond_by_ms = (t->created_ms ? t->created_ms : now) + o->route.respond_min * 60000LL;
    oc_lock(&m->mu);
    int rc = upsert(m, t, now, o);
    oc_unlock(&m->mu);
    if (rc)
        atomic_fetch_add(&m->refused, 1);
    else
        atomic_fetch_add(strcmp(o->outcome, "duplicate") == 0 ? &m->duplicates : &m->accepted, 1);
    return rc;
}

int tickets_submit(struct oc_app *app, struct tickets_ticket *t, struct tickets_result *out)
{
    struct tickets_mod *m = oc_app_find(app, TICKETS_PROVIDES);
    return m ? submit(m, t, out) : OC_ENOTFOUND;
}

int tickets_cluster_link(struct oc_app *app, int64_t cluster, int64_t *incident, int64_t *linked_ms)
{
    struct tickets_mod *m = oc_app_find(app, TICKETS_PROVIDES);
    int rc = OC_ENOTFOUND;
    *incident = *linked_ms = 0;
    if (!m)
        return rc;
    oc_lock(&m->mu);
    const struct tickets_cluster *c = tickets_cluster_get(&m->cs, cluster);
    if (c) {
        *incident = c->incident_id;
        *linked_ms = c->linked_ms;
        rc = 0;
    }
    oc_unlock(&m->mu);
    return rc;
}

/* Stores a parsed ticket and answers. */
static void intake(struct tickets_mod *m, struct http_req *req, struct tickets_ticket *t)
{
    struct tickets_result o;
    int rc = submit(m, t, &o);
    if (rc) {
        http_reply_err(req, rc == OC_ETOOBIG ? OC_EBUSY : rc, "%s",
                       rc == OC_ETOOBIG ? "tickets.max_clusters reached"
                                        : "the ticket was not stored");
        return;
    }
    json_t *tj = tags_json(&t->tags);
    http_reply_json(req, strcmp(o.outcome, "created") == 0 ? 201 : 200,
                    json_pack("{s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "id", (json_int_t)o.id,
                              "source", tickets_format_names[t->format], "external_id", t->ext_id,
                              "outcome", o.outcome, "cluster_id", (json_int_t)o.cluster_id,
                              "incident_id",
                              o.incident_id ? json_integer(o.incident_id) : json_null(), "tags", tj,
                              "route", route_json(m, &o.route, o.respond_by_ms)));
}

/* POST /v1/tickets/zendesk */
static void post_zendesk(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    const char *sig = http_header(req, "X-Zendesk-Webhook-Signature"),
               *ts = http_header(req, "X-Zendesk-Webhook-Signature-Timestamp");
    int64_t now = oc_clock_now_s(m->app->clock), t_s = 0;
    char err[300];
    enum tickets_sig r = tickets_zendesk_verify(m->o.zendesk_secret, sig, ts, req->body,
                                                req->body_len, now, m->o.max_skew_s, &t_s);
    if (r != TICKETS_SIG_OK) {
        atomic_fetch_add(&m->refused, 1);
        if (r == TICKETS_SIG_STALE)
            http_problem(req, 401,
                         "%s: X-Zendesk-Webhook-Signature-Timestamp is %lld s from now "
                         "(tickets.max_skew_s is %lld)",
                         tickets_sig_reasons[r], (long long)(t_s > now ? t_s - now : now - t_s),
                         (long long)m->o.max_skew_s);
        else
            http_problem(req, r == TICKETS_SIG_NOKEY ? 503 : 401, "%s: %s", tickets_sig_reasons[r],
                         r == TICKETS_SIG_NOKEY ? "tickets.zendesk_secret is empty"
                         : r == TICKETS_SIG_MISSING
                             ? (!sig ? "X-Zendesk-Webhook-Signature"
                                     : "X-Zendesk-Webhook-Signature-Timestamp")
                         : r == TICKETS_SIG_MALFORMED
                             ? "X-Zendesk-Webhook-Signature-Timestamp (RFC 3339 or unix seconds)"
                             : "X-Zendesk-Webhook-Signature is not the body's HMAC-SHA256");
        return;
    }
    struct tickets_ticket *t = oc_malloc(sizeof *t);
    int rc = tickets_parse(&m->maps[TICKETS_ZENDESK], TICKETS_ZENDESK, req->body, req->body_len, t,
                           err, sizeof err);
    if (rc) {
        atomic_fetch_add(&m->refused, 1);
        http_problem(req, rc == OC_EMALFORMED ? 400 : 422, "%s", err);
    } else {
        intake(m, req, t);
    }
    free(t);
}

/* POST /v1/tickets?format=freshdesk|salesforce|generic */
static void post_generic(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    const char *fs = http_query(req, "format");
    int f = fs ? tickets_format_find(fs) : TICKETS_GENERIC;
    char err[300];
    if (f < 0 || f == TICKETS_ZENDESK) {
        http_problem(req, 422,
                     "format: freshdesk, salesforce or generic (Zendesk posts to "
                     "/v1/tickets/zendesk, signed)");
        return;
    }
    struct tickets_ticket *t = oc_malloc(sizeof *t);
    int rc = tickets_parse(&m->maps[f], f, req->body, req->body_len, t, err, sizeof err);
    if (rc) {
        atomic_fetch_add(&m->refused, 1);
        http_problem(req, rc == OC_EMALFORMED ? 400 : 422, "%s", err);
    } else {
        intake(m, req, t);
    }
    free(t);
}

/* One stored row as JSON (the TICKETS_COLS order). */
static json_t *row_json(struct store_stmt *q)
{
    json_t *fields = NULL, *tags = NULL, *rt = NULL;
    const char *f = store_col_text(q, 8), *g = store_col_text(q, 9), *r = store_col_text(q, 12);
    fields = f ? json_loads(f, 0, NULL) : NULL;
    tags = g ? json_loads(g, 0, NULL) : NULL;
    rt = r && strcmp(r, "{}") != 0 ? json_loads(r, 0, NULL) : NULL;
    int64_t inc = store_col_int(q, 11);
    char up[OC_TIME_LEN], rec[OC_TIME_LEN];
    oc_time_format(store_col_int(q, 3), up, sizeof up);
    oc_time_format(store_col_int(q, 5), rec, sizeof rec);
    return json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s?, s:s?, s:o*, s:o*, s:I, s:o, s:o}", "id",
                     (json_int_t)store_col_int(q, 0), "source", store_col_text(q, 1), "external_id",
                     store_col_text(q, 2), "updated_at", store_col_int(q, 3) ? up : NULL,
                     "received_at", rec, "subject", store_col_text(q, 6), "body",
                     store_col_text(q, 7), "fields", fields, "tags", tags, "cluster_id",
                     (json_int_t)store_col_int(q, 10), "incident_id",
                     inc ? json_integer(inc) : json_null(), "route", rt ? rt : json_null());
}

/* Reads an optional positive integer query parameter: 0 (absent: *v = 0), or -1 answered. */
static int query_id(struct http_req *req, const char *name, int64_t *v)
{
    const char *s = http_query(req, name);
    char *end = NULL;
    *v = 0;
    if (!s)
        return 0;
    long long x = strtoll(s, &end, 10);
    if (!s[0] || *end || x <= 0) {
        http_problem(req, 422, "%s: a positive integer", name);
        return -1;
    }
    *v = x;
    return 0;
}

/* GET /v1/tickets?cluster=&incident=&source=&service=&symptom=&queue=&order=&before=&limit= */
static void get_list(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    int64_t cluster, inc, before, limit;
    const char *src = http_query(req, "source"), *svc = http_query(req, "service"),
               *sym = http_query(req, "symptom"), *queue = http_query(req, "queue"),
               *order = http_query(req, "order");
    if (query_id(req, "cluster", &cluster) || query_id(req, "incident", &inc) ||
        query_id(req, "before", &before) || query_id(req, "limit", &limit))
        return;
    if (order && strcmp(order, "newest") != 0 && strcmp(order, "priority") != 0) {
        http_problem(req, 422, "order: newest (the default) or priority");
        return;
    }
    if (!limit || limit > LIST_MAX)
        limit = limit ? LIST_MAX : 100;
    json_t *arr = json_array();
    store_lock(s);
    int rc = store_prepare(s, TICKETS_SQL_LIST, &q);
    if (!rc) {
        store_bind_null(q, 1);
        if (cluster)
            store_bind_int(q, 1, cluster);
        store_bind_null(q, 2);
        if (inc)
            store_bind_int(q, 2, inc);
        store_bind_text(q, 3, src);
        store_bind_text(q, 4, svc);
        store_bind_text(q, 5, sym);
        store_bind_null(q, 6);
        if (before)
            store_bind_int(q, 6, before);
        store_bind_int(q, 7, limit);
        store_bind_text(q, 8, queue);
        store_bind_int(q, 9, order && strcmp(order, "priority") == 0);
        int r;
        while ((r = store_step(q)) == STORE_ROW)
            json_array_append_new(arr, row_json(q));
        rc = r == STORE_DONE ? 0 : OC_EDB;
        tickets_stmt_done(q);
    }
    store_unlock(s);
    if (rc) {
        json_decref(arr);
        http_reply_err(req, OC_EDB, "cannot read the tickets");
        return;
    }
    http_reply_json(req, 200, json_pack("{s:o}", "tickets", arr));
}

/* GET /v1/tickets/{id} */
static void get_one(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    const char *ids = http_param(req, "id");
    char *end = NULL;
    long long id = strtoll(ids, &end, 10);
    json_t *out = NULL;
    if (!ids[0] || *end || id <= 0) {
        http_problem(req, 422, "id: a ticket's id (a positive integer)");
        return;
    }
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_GET, &q) == 0 && STORE_BIND(q, STORE_INT(id)) == 0 &&
        store_step(q) == STORE_ROW)
        out = row_json(q);
    if (q)
        tickets_stmt_done(q);
    store_unlock(s);
    if (!out) {
        http_problem(req, 404, "no ticket %lld", id);
        return;
    }
    http_reply_json(req, 200, out);
}

/* Affected viewers of incident id (its peak, else its declaration snapshot), or 0. */
static double affected(struct tickets_mod *m, int64_t id)
{
    struct incident_mgr *im = incident_mgr_of(m->app);
    json_t *j = NULL;
    if (!im || incident_get_json(im, id, &j) != 0)
        return 0;
    double best = tickets_incident_affected(j);
    json_decref(j);
    return best;
}

static int cmp_n(const void *a, const void *b)
{
    const struct tickets_cluster *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->id < y->id ? -1 : 1;
}

/* GET /v1/tickets/clusters?min=N&incident=ID */
static void get_clusters(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    int64_t min, inc;
    if (query_id(req, "min", &min) || query_id(req, "incident", &inc))
        return;
    oc_lock(&m->mu);
    size_t n = 0;
    struct tickets_cluster *v = oc_calloc(m->cs.n + 1, sizeof *v);
    for (size_t i = 0; i < m->cs.n; i++)
        if (m->cs.c[i].n >= (min ? min : 2) && (!inc || m->cs.c[i].incident_id == inc))
            v[n++] = m->cs.c[i];
    oc_unlock(&m->mu);
    if (n > 1) /* qsort must not see NULL, even for no rows */
        qsort(v, n, sizeof *v, cmp_n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < CLUSTERS_MAX; i++) {
        char first[OC_TIME_LEN], last[OC_TIME_LEN];
        oc_time_format(v[i].first_ms, first, sizeof first);
        oc_time_format(v[i].last_ms, last, sizeof last);
        double aff = v[i].incident_id ? affected(m, v[i].incident_id) : 0;
        json_array_append_new(
            arr, json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)v[i].id,
                           "tickets", (json_int_t)v[i].n, "first", first, "last", last, "tags",
                           tags_json(&v[i].tags), "incident_id",
                           v[i].incident_id ? json_integer(v[i].incident_id) : json_null(),
                           "per_1000_affected", tickets_per_1000((int64_t)v[i].n, aff)));
    }
    http_reply_json(req, 200,
                    json_pack("{s:I, s:o, s:o}", "clusters_total", (json_int_t)m->cs.n, "clusters",
                              arr, "outbox", tickets_outbox_json(m)));
    free(v);
}

/* A rule as JSON (a new reference). */
static json_t *rule_json(const struct tickets_route_rule *r)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:i}", "service",
                     r->service[0] ? r->service : "*", "segment", r->segment[0] ? r->segment : "*",
                     "tier", r->tier[0] ? r->tier : "*", "queue", r->queue, "team",
                     r->team[0] ? r->team : NULL, "respond_min",
                     r->respond_min ? json_integer(r->respond_min) : json_null(), "line", r->line);
}

/* GET /v1/tickets/routing */
static void get_routing(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    json_t *rules = json_array(), *mins = json_object();
    for (int i = 0; i < m->routing.n; i++)
        json_array_append_new(rules, rule_json(&m->routing.r[i]));
    for (int i = 1; i <= TICKETS_NPRIO; i++)
        json_object_set_new(mins, tickets_prio_names[i], json_integer(m->o.respond_min[i]));
    http_reply_json(req, 200,
                    json_pack("{s:s?, s:o, s:s, s:o}", "file",
                              m->o.routing_file && m->o.routing_file[0] ? m->o.routing_file : NULL,
                              "rules", rules, "default_queue", m->o.default_queue, "respond_min",
                              mins));
}

/* GET /v1/tickets/route?service=&segment=&tier=&vip=: where such a ticket would go now. */
static void get_route(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    struct tickets_ticket *t = oc_calloc(1, sizeof *t);
    const char *svc = http_query(req, "service"), *seg = http_query(req, "segment"),
               *tier = http_query(req, "tier"), *vip = http_query(req, "vip");
    int64_t now = oc_clock_now_ms(m->app->clock);
    struct tickets_route r;
    if (tier && strcmp(tier, "premium") != 0 && strcmp(tier, "standard") != 0 &&
        strcmp(tier, "free") != 0) {
        http_problem(req, 422, "tier: premium, standard or free (vip=1 for a VIP)");
        goto out;
    }
    if (vip && strcmp(vip, "0") != 0 && strcmp(vip, "1") != 0 && strcmp(vip, "true") != 0 &&
        strcmp(vip, "false") != 0) {
        http_problem(req, 422, "vip: 1 or 0");
        goto out;
    }
    if ((svc && strlen(svc) >= sizeof t->tags.service) ||
        (seg && strlen(seg) >= sizeof t->tags.segment)) {
        http_problem(req, 422, "%s: at most %zu bytes",
                     svc && strlen(svc) >= sizeof t->tags.service ? "service" : "segment",
                     (svc && strlen(svc) >= sizeof t->tags.service ? sizeof t->tags.service
                                                                   : sizeof t->tags.segment) -
                         1);
        goto out;
    }
    snprintf(t->tags.service, sizeof t->tags.service, "%s", svc ? svc : "");
    /* as the tagger keeps a segment: lower case, letters, digits, '.' and '-' */
    for (size_t i = 0, at = 0; seg && seg[i]; i++)
        if (isalnum((unsigned char)seg[i]) || seg[i] == '.' || seg[i] == '-')
            t->tags.segment[at++] = (char)tolower((unsigned char)seg[i]);
    snprintf(t->tags.tier, sizeof t->tags.tier, "%s", tier ? tier : "");
    t->tags.vip = vip && (strcmp(vip, "1") == 0 || strcmp(vip, "true") == 0);
    route(m, t, now, &r);
    http_reply_json(req, 200, route_json(m, &r, now + r.respond_min * 60000LL));
out:
    free(t);
}

/* /metrics */
static void render(struct oc_buf *b, void *arg)
{
    struct tickets_mod *m = arg;
    static const struct {
        const char *name, *help;
        size_t off;
    } rows[] = {
        {"oncue_tickets_accepted_total", "Tickets created or updated.",
         offsetof(struct tickets_mod, accepted)},
        {"oncue_tickets_duplicates_total", "Deliveries of an update already stored (or older).",
         offsetof(struct tickets_mod, duplicates)},
        {"oncue_tickets_refused_total", "Deliveries refused (signature, payload, store).",
         offsetof(struct tickets_mod, refused)},
        {"oncue_tickets_links_total", "Clusters linked to an incident.",
         offsetof(struct tickets_mod, links)},
        {"oncue_tickets_sync_sent_total",
         "Relations, Zendesk calls and survey requests delivered (tickets.sync_url,"
         " tickets.zendesk_url, tickets.survey_url).",
         offsetof(struct tickets_mod, sent)},
        {"oncue_tickets_sync_failed_total",
         "Relation, Zendesk and survey deliveries that failed (retried).",
         offsetof(struct tickets_mod, send_failed)},
        {"oncue_tickets_surveys_queued_total",
         "Post-incident survey requests queued for tickets.survey_url.",
         offsetof(struct tickets_mod, surveys_queued)},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        oc_metrics_family(b, rows[i].name, "counter", rows[i].help);
        oc_metrics_sample(b, rows[i].name, NULL,
                          (double)atomic_load((atomic_long *)((char *)m + rows[i].off)));
    }
}

#define F(field) offsetof(struct tickets_opts, field)

static const char *const survey_kinds[] = {"csat", "nps", NULL};

static const struct oc_setting settings[] = {
    {"tickets.zendesk_secret", OC_SETTING_STR, "", 0, 0, NULL, F(zendesk_secret), NULL,
     "the Zendesk webhook's signing secret; never logged; empty: /v1/tickets/zendesk answers 503"},
    {"tickets.max_skew_s", OC_SETTING_INT, "300", 1, 86400, NULL, F(max_skew_s), NULL,
     "a Zendesk webhook whose signed timestamp is further than this from now is refused (stale)"},
    {"tickets.mapping_file", OC_SETTING_STR, "", 0, 0, NULL, F(mapping_file), NULL,
     "flat YAML \"field: path|path\" over the generic intake's mapping (docs/internals/"
     "tickets.md); empty: the built-in one"},
    {"tickets.keywords_file", OC_SETTING_STR, "", 0, 0, NULL, F(keywords_file), NULL,
     "flat YAML \"symptom.NAME: kw, kw\" (also device., tier., service.) adding to or replacing"
     " the built-in tagging keywords"},
    {"tickets.sync_url", OC_SETTING_STR, "", 0, 0, NULL, F(sync_url), NULL,
     "base URL the incident relations go back to (POST URL/relations); empty: none are sent"},
    {"tickets.sync_token", OC_SETTING_STR, "", 0, 0, NULL, F(sync_token), NULL,
     "Bearer token sent to tickets.sync_url; never logged"},
    {"tickets.zendesk_url", OC_SETTING_STR, "", 0, 0, NULL, F(zendesk_url), NULL,
     "Zendesk API base URL (https://SUBDOMAIN.zendesk.com): a linked incident gets one Zendesk"
     " problem ticket, its Zendesk tickets become incidents of it and its status updates"
     " comments on it (docs/internals/tickets.md); empty: none"},
    {"tickets.zendesk_credentials", OC_SETTING_STR, "", 0, 0, NULL, F(zendesk_credentials), NULL,
     "for tickets.zendesk_url: EMAIL/token:API_TOKEN (HTTP Basic) or an OAuth access token"
     " (Bearer), in clear or sealed with the data directory's key (oncue tickets seal);"
     " never logged"},
    {"tickets.outbound_allow", OC_SETTING_STR, "", 0, 0, NULL, F(outbound_allow), NULL,
     "private or loopback ranges tickets.sync_url, tickets.zendesk_url and tickets.survey_url"
     " may reach "
     "(\"127.0.0.1/32, 10.0.0.0/8\");"
     " others are refused"},
    {"tickets.cluster_threshold", OC_SETTING_INT, "24", 0, 64, NULL, F(threshold), NULL,
     "largest SimHash Hamming distance (bits of 64) at which a ticket joins a cluster"},
    {"tickets.max_clusters", OC_SETTING_INT, "200000", 1, 10000000, NULL, F(max_clusters), NULL,
     "clusters held in memory; a ticket that would start one more answers 503"},
    {"tickets.link_window_s", OC_SETTING_INT, "3600", 60, 604800, NULL, F(link_window_s), NULL,
     "a cluster whose last ticket came at most this long before an incident's declaration can"
     " link to it"},
    {"tickets.link_min_tickets", OC_SETTING_INT, "3", 1, 100000, NULL, F(link_min), NULL,
     "tickets a cluster needs before it links to an incident"},
    {"tickets.routing_file", OC_SETTING_STR, "", 0, 0, NULL, F(routing_file), NULL,
     "flat YAML routing rules \"SERVICE/SEGMENT/TIER: QUEUE [team=TEAM] [respond_min=N]\""
     " (docs/internals/tickets.md); empty: every ticket to tickets.default_queue"},
    {"tickets.sla_targets", OC_SETTING_STR, "premium=99.95, standard=99.9, free=99.5", 0, 0, NULL,
     F(sla_targets), NULL,
     "availability targets (%) per tier for the SLA report (GET /v1/tickets/reports/sla)"},
    {"tickets.churn_window_days", OC_SETTING_INT, "30", 1, 365, NULL, F(churn_days), NULL,
     "the churn report's windows: cancellations this long after each SEV1/SEV2 against as long"
     " before it"},
    {"tickets.survey_url", OC_SETTING_STR, "", 0, 0, NULL, F(survey_url), NULL,
     "URL a micro-survey request per affected account is POSTed to when an incident resolves"
     " ({customer_id, delay, send, survey, survey_id, properties}: the shape Delighted- or"
     " Zigpoll-like tools take); empty: no surveys"},
    {"tickets.survey_token", OC_SETTING_STR, "", 0, 0, NULL, F(survey_token), NULL,
     "Bearer token sent to tickets.survey_url; never logged"},
    {"tickets.survey_kind", OC_SETTING_ENUM, "csat", 0, 0, survey_kinds, F(survey_kind), NULL,
     "the survey asked for: nps (0-10) or csat (1-5); replies come back on POST /v1/feedback"},
    {"tickets.survey_severities", OC_SETTING_STR, "SEV1, SEV2", 0, 0, NULL, F(survey_severities),
     NULL, "severities whose resolution sends the survey"},
    {"tickets.survey_delay_s", OC_SETTING_INT, "3600", 0, 604800, NULL, F(survey_delay_s), NULL,
     "the request's delay: seconds the survey tool waits after the resolution before asking"},
    {"tickets.survey_cooldown_days", OC_SETTING_INT, "30", 0, 365, NULL, F(survey_cooldown_days),
     NULL, "an account asked about one incident is not asked again about another for this long"},
    {"tickets.survey_max", OC_SETTING_INT, "10000", 1, 1000000, NULL, F(survey_max), NULL,
     "survey requests queued for one incident at most"},
    {"tickets.account_key", OC_SETTING_STR, "", 0, 0, NULL, F(account_key), NULL,
     "the key players' account_hmac is made with (hex HMAC-SHA256 of the account id): billing's"
     " and the tickets' account ids are hashed under it to join the viewers beacons saw; never"
     " logged; empty: no join"},
    {"tickets.default_queue", OC_SETTING_STR, "support", 0, 0, NULL, F(default_queue), NULL,
     "the queue of a ticket no routing rule matches"},
    {"tickets.respond_vip_min", OC_SETTING_INT, "15", 1, 100000, NULL, F(respond_min[1]), NULL,
     "minutes to a first response for a VIP's ticket (urgent) unless its rule says otherwise"},
    {"tickets.respond_premium_min", OC_SETTING_INT, "60", 1, 100000, NULL, F(respond_min[2]), NULL,
     "minutes to a first response for a premium ticket (high)"},
    {"tickets.respond_standard_min", OC_SETTING_INT, "240", 1, 100000, NULL, F(respond_min[3]),
     NULL, "minutes to a first response for a standard ticket, or one of no known tier (normal)"},
    {"tickets.respond_free_min", OC_SETTING_INT, "1440", 1, 100000, NULL, F(respond_min[4]), NULL,
     "minutes to a first response for a free tier's ticket (low)"},
    {0},
};

#undef F

/* Rebuilds the clusters from the stored tickets, in arrival order; rows whose cluster id
 * comes out different (another threshold) are rewritten. 0 or OC_EDB / OC_ETOOBIG. */
static int replay(struct tickets_mod *m)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL, *u = NULL;
    int rc = OC_EDB, r;
    size_t moved = 0;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_ALL, &q) != 0)
        goto out;
    while ((r = store_step(q)) == STORE_ROW) {
        struct tickets_tags g;
        memset(&g, 0, sizeof g);
        json_t *tj = json_loads(store_col_text(q, 2) ? store_col_text(q, 2) : "{}", 0, NULL);
        const char *v;
        if (oc_json_get_str(tj, "service", &v) == 0)
            snprintf(g.service, sizeof g.service, "%s", v);
        if (oc_json_get_str(tj, "symptom", &v) == 0)
            snprintf(g.symptom, sizeof g.symptom, "%s", v);
        if (oc_json_get_str(tj, "region", &v) == 0)
            snprintf(g.region, sizeof g.region, "%s", v);
        if (oc_json_get_str(tj, "device", &v) == 0)
            snprintf(g.device, sizeof g.device, "%s", v);
        json_decref(tj);
        int64_t id = store_col_int(q, 0), at = store_col_int(q, 3), cl = 0;
        if (!at)
            at = store_col_int(q, 4);
        if ((rc = tickets_clusters_add(&m->cs, (uint64_t)store_col_int(q, 1), &g, at, &cl)) != 0)
            break;
        struct tickets_cluster *c = tickets_cluster_get(&m->cs, cl);
        if (store_col_int(q, 6) && !c->incident_id)
            c->incident_id = store_col_int(q, 6);
        if (cl != store_col_int(q, 5)) {
            moved++;
            if (store_prepare(s, TICKETS_SQL_SET_CLUSTER, &u) == 0 &&
                STORE_BIND(u, STORE_INT(id), STORE_INT(cl)) == 0)
                store_step(u);
            tickets_stmt_done(u);
        }
        rc = OC_EDB;
    }
    tickets_stmt_done(q);
    if (r == STORE_DONE)
        rc = 0;
    for (size_t i = 0; i < m->cs.n; i++) /* the incident heard these counts already */
        m->cs.c[i].reported = m->cs.c[i].n;
out:
    store_unlock(s);
    if (moved)
        oc_log(OC_LOG_INFO, "tickets: %zu tickets changed cluster at start-up", moved);
    return rc;
}

/* Reads the mapping and keyword files: 0 or their error (logged). */
static int read_files(struct tickets_mod *m)
{
    char err[400];
    for (int f = 0; f < TICKETS_NFORMATS; f++)
        tickets_map_builtin((enum tickets_format)f, &m->maps[f]);
    tickets_keywords_builtin(&m->kw);
    int rc = 0;
    if (m->o.mapping_file && m->o.mapping_file[0])
        rc = tickets_map_load(m->o.mapping_file, &m->maps[TICKETS_GENERIC], err, sizeof err);
    if (!rc && m->o.keywords_file && m->o.keywords_file[0])
        rc = tickets_keywords_load(m->o.keywords_file, &m->kw, err, sizeof err);
    m->routing.n = 0;
    if (!rc && m->o.routing_file && m->o.routing_file[0])
        rc = tickets_routing_load(m->o.routing_file, &m->routing, err, sizeof err);
    if (!rc)
        rc = tickets_sla_targets_parse(m->o.sla_targets, m->sla_target, err, sizeof err);
    if (rc)
        oc_log(OC_LOG_ERROR, "tickets: %s", err);
    return rc;
}

static void tickets_stop(struct oc_app *app, void *state);

/* Module init: needs the store; reads the files and rebuilds the clusters. */
static int tickets_init(struct oc_app *app, void **state)
{
    struct tickets_opts def;
    char err[256];
    *state = NULL;
    if (!app->store) {
        oc_log(OC_LOG_ERROR, "tickets: the module needs the store");
        return OC_EINVAL;
    }
    struct tickets_mod *m = oc_calloc(1, sizeof *m);
    m->app = app;
    m->o = *(const struct tickets_opts *)config_module_opts(app->cfg, &tickets_module, &def);
    pthread_mutex_init(&m->mu, NULL);
    tickets_clusters_init(&m->cs, (size_t)m->o.max_clusters, (int)m->o.threshold);
    int rc = read_files(m);
    if (!rc && (rc = replay(m)) != 0)
        oc_log(OC_LOG_ERROR, "tickets: cannot load the tickets: %s", store_errmsg(app->store));
    if (!rc && (rc = tickets_zd_open(m, err, sizeof err)) != 0)
        oc_log(OC_LOG_ERROR, "tickets: %s", err);
    if (!rc && (rc = tickets_outbox_start(m)) != 0)
        oc_log(OC_LOG_ERROR, "tickets: cannot start the relation thread");
    if (rc) {
        tickets_stop(app, m);
        return rc;
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    oc_app_provide(app, TICKETS_PROVIDES, m);
    if ((m->viewed = incident_mgr_of(app)) != NULL &&
        incident_view_add(m->viewed, tickets_incident_view, m) != 0)
        m->viewed = NULL;
    char said[3 * 1100], shown[sizeof said]; /* the URLs without a query or user information */
    snprintf(said, sizeof said,
             "zendesk %s; sync %.1024s; zendesk relations %.1024s; surveys %.1024s",
             m->o.zendesk_secret && m->o.zendesk_secret[0] ? "signed" : "off (no secret)",
             m->o.sync_url && m->o.sync_url[0] ? m->o.sync_url : "off",
             tickets_zd_on(m) ? m->o.zendesk_url : "off",
             m->o.survey_url && m->o.survey_url[0] ? m->o.survey_url : "off");
    oc_text_cut_urls(said, 0, shown, sizeof shown);
    oc_log(OC_LOG_INFO, "tickets: %zu clusters; %s", m->cs.n, shown);
    *state = m;
    return 0;
}

static void tickets_stop(struct oc_app *app, void *state)
{
    struct tickets_mod *m = state;
    if (!m)
        return;
    if (oc_app_find(app, TICKETS_PROVIDES) == m)
        oc_app_withdraw(app, TICKETS_PROVIDES);
    if (m->viewed)
        incident_view_remove(m->viewed, tickets_incident_view, m);
    tickets_outbox_stop(m);
    tickets_zd_close(m);
    tickets_clusters_free(&m->cs);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const struct oc_module_sub subs[] = {
    {OC_TOPIC_INCIDENT_OPENED, tickets_on_incident},
    {OC_TOPIC_INCIDENT_RESOLVED, tickets_on_incident},
    {OC_TOPIC_INCIDENT_STATUS_UPDATE, tickets_on_incident},
    {0},
};

static const struct http_route routes[] = {
    {"POST", "/v1/tickets/zendesk", post_zendesk, HTTP_SIGNED, TICKETS_BODY_MAX,
     "a Zendesk webhook signed with X-Zendesk-Webhook-Signature (+ -Timestamp) -> {id, source,"
     " external_id, outcome: created|updated|duplicate, cluster_id, incident_id, tags}; 401"
     " names the header"},
    {"POST", "/v1/tickets", post_generic, HTTP_INGEST, TICKETS_BODY_MAX,
     "?format=freshdesk|salesforce|generic: a ticket read through its field mapping -> as"
     " /v1/tickets/zendesk"},
    {"GET", "/v1/tickets", get_list, HTTP_VIEWER, 0,
     "?cluster=&incident=&source=&service=&symptom=&queue=&order=newest|priority&before=&limit="
     " -> {tickets}: newest first, or by priority (urgent first) then respond_by"},
    {"GET", "/v1/tickets/clusters", get_clusters, HTTP_VIEWER, 0,
     "?min=2&incident= -> {clusters_total, clusters: [{id, tickets, first, last, tags,"
     " incident_id, per_1000_affected}], outbox}, largest first"},
    {"GET", "/v1/tickets/routing", get_routing, HTTP_VIEWER, 0,
     "the routing table: {file, rules: [{service, segment, tier, queue, team, respond_min,"
     " line}], default_queue, respond_min: {urgent, high, normal, low}}"},
    {"GET", "/v1/tickets/route", get_route, HTTP_VIEWER, 0,
     "?service=&segment=&tier=premium|standard|free&vip=1 -> where such a ticket goes now:"
     " {queue, team, policy, oncall, priority, rank, respond_min, respond_by, rule}"},
    {"GET", "/v1/tickets/reports/{name}", tickets_get_report, HTTP_VIEWER, 0,
     "mttr | sla | incidents | churn, ?from=&to= (default the last 90 days)&format=json|csv:"
     " MTTA/MTTR by service, segment, tier and release; first-response and availability SLA by tier"
     " with accounts to compensate; tickets per incident; churn after SEV1/SEV2 incidents"},
    {"POST", "/v1/feedback", tickets_post_feedback, HTTP_BEACON, TICKETS_BODY_MAX,
     "an NPS (0-10) or CSAT (1-5) reply {kind, score, id?, text?, account?, service?, segment?,"
     " tier?, region?, device?, source?, incident_id?, at?} or {responses: [...]} (up to 100)"
     " -> {stored, duplicates, responses: [{id, outcome, incident_id}]}"},
    {"GET", "/v1/feedback/trends", tickets_get_feedback_trends, HTTP_VIEWER, 0,
     "?by=service|segment|tier|incident|source|region&bucket=day|week&from=&to= -> NPS and CSAT"
     " per group and bucket"},
    {"GET", "/v1/feedback/priorities", tickets_get_feedback_priorities, HTTP_VIEWER, 0,
     "?from=&to= (default 14 days) -> incidents ranked by unhappy replies with their open"
     " follow-ups; services ranked by unhappy replies and NPS decline"},
    {"GET", "/v1/tickets/{id}", get_one, HTTP_VIEWER, 0,
     "one ticket with its fields, tags and route"},
    {0},
};

const struct oc_module tickets_module = {
    .name = "tickets",
    .summary = "support tickets: signed Zendesk and mapped intakes, tags, clusters, incident links",
    .init = tickets_init,
    .routes = routes,
    .stop = tickets_stop,
    .subs = subs,
    .settings = settings,
    .opts_size = sizeof(struct tickets_opts),
};
