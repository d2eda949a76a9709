/*
 * model.c - struct incident in memory and as the JSON document the store keeps.
 *
 * Every change to an incident rewrites its document (inc_save) in the incidents table with a
 * new change number (seq, past every other row's); the timeline beside it is append-only. At
 * start the manager loads every document back. With several replicas on one store each one
 * reads the documents saved since the last change number it saw before every use
 * (inc_lock), and changes incidents one replica at a time (inc_lock_write).
 */
#include "incident/incident_int.h"
#include "incident/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {"triggered", "acknowledged", "mitigated", "resolved",
                                          "closed"};
static const char *const role_names[ROLE_NSINGLE] = {"commander", "comms", "ops", "scribe"};

const char *incident_state_name(enum incident_state s)
{
    return (unsigned)s <= INCIDENT_CLOSED ? state_names[s] : "unknown";
}

static int state_parse(const char *s)
{
    for (int i = 0; s && i <= INCIDENT_CLOSED; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return 0;
}

/* "SEV1".."SEV4". */
const char *inc_sev_name(int sev)
{
    static const char *const names[] = {"SEV?", "SEV1", "SEV2", "SEV3", "SEV4"};
    return sev >= 1 && sev <= 4 ? names[sev] : names[0];
}

/* 1 while the incident is neither resolved nor closed. */
int inc_is_open(const struct incident *inc)
{
    return inc->state < INCIDENT_RESOLVED;
}

/* Writes "INC-<id>" into out. */
void inc_format_id(int64_t id, char *out, size_t n)
{
    snprintf(out, n, "INC-%lld", (long long)id);
}

/* Writes unix seconds s as "2026-11-25T19:43:00Z" into out (n >= 21). */
void inc_iso_time(int64_t s, char *out, size_t n)
{
    oc_time_format(s * 1000, out, n);
}

int incident_id_parse(const char *s, int64_t *out)
{
    char *end;
    if (!s)
        return OC_EINVAL;
    if (strncmp(s, "INC-", 4) == 0 || strncmp(s, "inc-", 4) == 0)
        s += 4;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || v <= 0)
        return OC_EINVAL;
    *out = v;
    return 0;
}

/* The index in m->incs of the incident with this id, or -1 (incs is sorted by id). */
static int find_index(const struct incident_mgr *m, int64_t id)
{
    int lo = 0, hi = m->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->incs[mid]->id == id)
            return mid;
        if (m->incs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The incident with this id, or NULL. Caller holds m->mu. */
struct incident *inc_find(struct incident_mgr *m, int64_t id)
{
    int at = find_index(m, id);
    return at >= 0 ? m->incs[at] : NULL;
}

/* A new id: past every id in memory and in the store, claimed there by inserting its row
 * (another replica on the same database may have opened incidents this one has not loaded,
 * or be opening one now). 0 when the store refuses every try. */
static int64_t claim_id(struct incident_mgr *m, int64_t now)
{
    struct store *s = m->app->store;
    struct store_stmt *st;
    int64_t id = m->next_id + 1, got = 0;
    store_lock(s);
    if (store_prepare(s, INC_SQL_MAX_ID, &st) == 0) {
        if (store_step(st) == STORE_ROW && store_col_int(st, 0) >= id)
            id = store_col_int(st, 0) + 1;
        store_reset(st);
    }
    for (int tries = 0; tries < 64 && !got; tries++, id++) {
        if (store_prepare(s, INC_SQL_CLAIM, &st) != 0)
            break;
        STORE_BIND(st, STORE_INT(id), STORE_INT(now));
        if (store_step(st) == STORE_DONE && store_changes(s) == 1)
            got = id;
        store_reset(st);
    }
    store_unlock(s);
    if (!got)
        oc_log(OC_LOG_ERROR, "incident: cannot claim an incident id: %s", store_errmsg(s));
    return got;
}

/* A new incident with the next id (claimed in the store), appended to m (NULL
 * past INC_MAX_KEPT, or when no id can be claimed). */
struct incident *inc_new(struct incident_mgr *m, int64_t now)
{
    if (m->n >= INC_MAX_KEPT)
        return NULL;
    int64_t id = m->next_id + 1;
    if (m->app->store && (id = claim_id(m, now)) == 0)
        return NULL;
    m->next_id = id;
    m->incs = oc_grow(m->incs, &m->cap, (size_t)m->n + 1, sizeof(*m->incs));
    struct incident *inc = oc_calloc(1, sizeof(*inc));
    inc->id = id;
    inc->opened_s = inc->last_alert_s = now;
    inc->sev = 4;
    inc->slice = json_object();
    snprintf(inc->public_status, sizeof(inc->public_status), "investigating");
    m->incs[m->n++] = inc;
    return inc;
}

/* Frees inc and what it owns (NULL is a no-op). */
void inc_free(struct incident *inc)
{
    if (!inc)
        return;
    json_decref(inc->slice);
    json_decref(inc->snap_open);
    json_decref(inc->snap_peak);
    json_decref(inc->causes);
    json_decref(inc->xc_edge);
    for (int i = 0; i < inc->nalerts; i++)
        json_decref(inc->alerts[i].event);
    free(inc);
}

static json_t *opt_int(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

static json_t *alert_json(const struct inc_alert *a, int full)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:b, s:b, s:b, s:I, s:o}",
                          "alert_id", a->id, "metric", a->metric, "op", a->op, "level", a->level,
                          "threshold", a->threshold, "value", a->value, "peak", a->peak, "firing",
                          a->firing, "core_service_down", a->core_down, "opener", a->opener,
                          "fired_at", (json_int_t)a->fired_s, "cleared_at", opt_int(a->cleared_s));
    if (full && a->event)
        json_object_set(o, "event", a->event);
    return o;
}

static json_t *roles_json(const struct incident *inc)
{
    json_t *r = json_object(), *smes = json_array();
    for (int i = 0; i < ROLE_NSINGLE; i++)
        json_object_set_new(r, role_names[i],
                            inc->roles[i][0] ? json_string(inc->roles[i]) : json_null());
    for (int i = 0; i < INCIDENT_MAX_SMES; i++)
        if (inc->smes[i][0])
            json_array_append_new(smes, json_string(inc->smes[i]));
    json_object_set_new(r, "sme", smes);
    return r;
}

/* The incident as JSON: the API shape, which is also the stored document (full adds the
 * private fields the store needs back). New reference. */
json_t *inc_to_json(const struct incident *inc, int full)
{
    char id[32];
    json_t *alerts = json_array(), *o;
    inc_format_id(inc->id, id, sizeof(id));
    for (int i = 0; i < inc->nalerts; i++)
        json_array_append_new(alerts, alert_json(&inc->alerts[i], full));
    o = json_pack("{s:s, s:I, s:s, s:s, s:i, s:O, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}",
                  "incident_id", id, "id", (json_int_t)inc->id, "state",
                  incident_state_name(inc->state), "severity", inc_sev_name(inc->sev),
                  "severity_override", inc->sev_override, "slice", inc->slice, "service",
                  inc->service, "team", inc->team, "title", inc->title, "opened_at",
                  (json_int_t)inc->opened_s, "acknowledged_at", opt_int(inc->acked_s),
                  "mitigated_at", opt_int(inc->mitigated_s), "resolved_at",
                  opt_int(inc->resolved_s), "closed_at", opt_int(inc->closed_s), "alerts", alerts);
    json_object_set_new(o, "roles", roles_json(inc));
    json_object_set_new(o, "public_status", json_string(inc->public_status));
    json_object_set_new(o, "merged_into",
                        inc->merged_into[0] ? json_string(inc->merged_into) : json_null());
    json_object_set_new(o, "published_at", opt_int(inc->published_s));
    json_object_set_new(o, "published_by",
                        inc->published_s ? json_string(inc->published_by) : json_null());
    json_object_set_new(o, "test", json_boolean(inc->test));
    json_object_set_new(o, "peak_share", json_real(inc->peak_share));
    json_object_set_new(
        o, "snapshots",
        json_pack("{s:O?, s:O?}", "declaration", inc->snap_open, "peak", inc->snap_peak));
    json_object_set_new(o, "causes", inc->causes ? json_incref(inc->causes) : json_array());
    json_object_set_new(o, "cross_check",
                        inc->xc_at ? json_pack("{s:s, s:s, s:s, s:I, s:O?}", "source", "cdn_logs",
                                               "verdict", inc->xc_verdict, "detail", inc->xc_detail,
                                               "at", (json_int_t)inc->xc_at, "edge", inc->xc_edge)
                                   : json_null());
    if (full)
        json_object_set_new(o, "private",
                            json_pack("{s:s, s:I, s:I, s:I, s:I, s:i, s:I}", "policy", inc->policy,
                                      "last_alert_s", (json_int_t)inc->last_alert_s,
                                      "last_public_s", (json_int_t)inc->last_public_s,
                                      "last_reminder_s", (json_int_t)inc->last_reminder_s,
                                      "last_measure_s", (json_int_t)inc->last_measure_s,
                                      "page_step", inc->page_step, "peak_s",
                                      (json_int_t)inc->peak_s));
    return o;
}

static void copy_str(char *dst, size_t n, const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, n, "%s", s ? s : "");
}

static int64_t get_int(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static json_t *get_obj(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v && !json_is_null(v) ? json_incref(v) : NULL;
}

static void alert_from_json(struct inc_alert *a, const json_t *o)
{
    copy_str(a->id, sizeof(a->id), o, "alert_id");
    copy_str(a->metric, sizeof(a->metric), o, "metric");
    copy_str(a->op, sizeof(a->op), o, "op");
    copy_str(a->level, sizeof(a->level), o, "level");
    a->threshold = json_number_value(json_object_get(o, "threshold"));
    a->value = json_number_value(json_object_get(o, "value"));
    a->peak = json_number_value(json_object_get(o, "peak"));
    a->firing = json_is_true(json_object_get(o, "firing"));
    a->core_down = json_is_true(json_object_get(o, "core_service_down"));
    a->opener = json_is_true(json_object_get(o, "opener"));
    a->fired_s = get_int(o, "fired_at");
    a->cleared_s = get_int(o, "cleared_at");
    a->event = get_obj(o, "event");
}

static void roles_from_json(struct incident *inc, const json_t *r)
{
    size_t i;
    json_t *v;
    for (int k = 0; k < ROLE_NSINGLE; k++)
        copy_str(inc->roles[k], sizeof(inc->roles[k]), r, role_names[k]);
    json_array_foreach(json_object_get(r, "sme"), i, v)
    {
        if (i < INCIDENT_MAX_SMES)
            snprintf(inc->smes[i], sizeof(inc->smes[i]), "%s", json_string_value(v));
    }
}

/* Fills inc from a stored document. */
static void inc_from_json(struct incident *inc, const json_t *o)
{
    const json_t *p = json_object_get(o, "private");
    size_t i;
    json_t *v;
    const char *sev = json_string_value(json_object_get(o, "severity"));
    inc->state = state_parse(json_string_value(json_object_get(o, "state")));
    inc->sev = sev && strlen(sev) == 4 ? sev[3] - '0' : 4;
    inc->sev_override = (int)get_int(o, "severity_override");
    json_decref(inc->slice);
    inc->slice = get_obj(o, "slice");
    if (!inc->slice)
        inc->slice = json_object();
    copy_str(inc->service, sizeof(inc->service), o, "service");
    copy_str(inc->team, sizeof(inc->team), o, "team");
    copy_str(inc->title, sizeof(inc->title), o, "title");
    copy_str(inc->public_status, sizeof(inc->public_status), o, "public_status");
    copy_str(inc->merged_into, sizeof(inc->merged_into), o, "merged_into");
    inc->opened_s = get_int(o, "opened_at");
    inc->acked_s = get_int(o, "acknowledged_at");
    inc->mitigated_s = get_int(o, "mitigated_at");
    inc->resolved_s = get_int(o, "resolved_at");
    inc->closed_s = get_int(o, "closed_at");
    if (json_object_get(o, "published_at")) {
        inc->published_s = get_int(o, "published_at");
        copy_str(inc->published_by, sizeof(inc->published_by), o, "published_by");
    } else { /* stored before the publish gate: it was on the status page from the start */
        inc->published_s = inc->opened_s;
        snprintf(inc->published_by, sizeof(inc->published_by), "oncue");
    }
    inc->test = json_is_true(json_object_get(o, "test"));
    inc->peak_share = json_number_value(json_object_get(o, "peak_share"));
    inc->snap_open = get_obj(json_object_get(o, "snapshots"), "declaration");
    inc->snap_peak = get_obj(json_object_get(o, "snapshots"), "peak");
    inc->causes = get_obj(o, "causes");
    const json_t *xc = json_object_get(o, "cross_check");
    if (json_is_object(xc)) {
        copy_str(inc->xc_verdict, sizeof(inc->xc_verdict), xc, "verdict");
        copy_str(inc->xc_detail, sizeof(inc->xc_detail), xc, "detail");
        inc->xc_at = get_int(xc, "at");
        inc->xc_edge = get_obj(xc, "edge");
    }
    roles_from_json(inc, json_object_get(o, "roles"));
    json_array_foreach(json_object_get(o, "alerts"), i, v)
    {
        if (inc->nalerts < INCIDENT_MAX_ALERTS)
            alert_from_json(&inc->alerts[inc->nalerts++], v);
    }
    copy_str(inc->policy, sizeof(inc->policy), p, "policy");
    inc->last_alert_s = get_int(p, "last_alert_s");
    inc->last_public_s = get_int(p, "last_public_s");
    inc->last_reminder_s = get_int(p, "last_reminder_s");
    inc->last_measure_s = get_int(p, "last_measure_s");
    inc->page_step = (int)get_int(p, "page_step");
    inc->peak_s = get_int(p, "peak_s");
}

/* The next change number (past every row's), or 0 on a store error. Caller holds the store. */
static int64_t seq_next(struct store *s)
{
    struct store_stmt *st;
    int64_t v = 0;
    if (store_prepare(s, INC_SQL_SEQ_NEXT, &st) == 0) {
        if (store_step(st) == STORE_ROW)
            v = store_col_int(st, 0);
        store_reset(st);
    }
    return v;
}

/* Fills a new incident from a stored row (id, doc text, seq) and puts it in m in id order;
 * NULL past INC_MAX_KEPT. Caller holds m->mu. */
static struct incident *add_row(struct incident_mgr *m, int64_t id, const json_t *doc, int64_t seq)
{
    if (m->n >= INC_MAX_KEPT)
        return NULL;
    struct incident *inc = oc_calloc(1, sizeof(*inc));
    inc->id = id;
    inc->sev = 4;
    inc->slice = json_object();
    inc_from_json(inc, doc);
    inc->seq = seq;
    m->incs = oc_grow(m->incs, &m->cap, (size_t)m->n + 1, sizeof(*m->incs));
    int at = m->n;
    while (at > 0 && m->incs[at - 1]->id > id)
        at--;
    memmove(&m->incs[at + 1], &m->incs[at], (size_t)(m->n - at) * sizeof(*m->incs));
    m->incs[at] = inc;
    m->n++;
    if (id > m->next_id)
        m->next_id = id;
    return inc;
}

/* Replaces m->incs[i] by the stored document doc (change number seq), keeping what is not
 * stored (held, default_tried, the cross-check's window, each alert's unexplained count). */
static void replace_row(struct incident_mgr *m, int i, const json_t *doc, int64_t seq)
{
    struct incident *old = m->incs[i], *inc = oc_calloc(1, sizeof(*inc));
    inc->id = old->id;
    inc->sev = 4;
    inc->slice = json_object();
    inc_from_json(inc, doc);
    inc->seq = seq;
    inc->held = old->held;
    inc->default_tried = old->default_tried;
    inc->xc_upto = old->xc_upto;
    for (int k = 0; k < inc->nalerts; k++) {
        const struct inc_alert *was = inc_alert_find(old, inc->alerts[k].id);
        if (was)
            inc->alerts[k].unexplained = was->unexplained;
    }
    m->incs[i] = inc;
    inc_free(old);
}

/* Reads the incidents saved since m->seq_seen (by this replica or another) into memory. */
static void refresh(struct incident_mgr *m)
{
    struct store *s = m->app->store;
    struct store_stmt *st;
    int rows, step;
    do {
        rows = 0;
        store_lock(s);
        if (store_prepare(s, INC_SQL_CHANGED, &st) != 0) {
            store_unlock(s);
            break;
        }
        store_bind_int(st, 1, m->seq_seen);
        while ((step = store_step(st)) == STORE_ROW) {
            int64_t id = store_col_int(st, 0), seq = store_col_int(st, 2);
            rows++;
            m->seq_seen = seq > m->seq_seen ? seq : m->seq_seen;
            int at = find_index(m, id);
            if (at >= 0 && m->incs[at]->seq == seq)
                continue; /* this replica's own save */
            const char *text = store_col_text(st, 1);
            json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
            if (doc && at >= 0)
                replace_row(m, at, doc, seq);
            else if (doc)
                add_row(m, id, doc, seq);
            json_decref(doc);
        }
        store_reset(st);
        store_unlock(s);
        if (step != STORE_DONE) {
            oc_log(OC_LOG_ERROR, "incident: cannot read changed incidents: %s", store_errmsg(s));
            break;
        }
    } while (rows == 1024);
}

/* Writes inc's document to the store with the next change number (inc->seq): 0, OC_EDB, or
 * with several replicas OC_ECONFLICT when the row changed since this replica read it (the
 * next refresh reads it back; this change is not saved). Caller holds m->mu. */
int inc_save(struct incident_mgr *m, struct incident *inc)
{
    struct store *s = m->app->store;
    struct store_stmt *st;
    json_t *doc = inc_to_json(inc, 1);
    char *text = json_dumps(doc, JSON_COMPACT);
    int rc = OC_EDB;
    store_lock(s);
    int64_t seq = seq_next(s);
    if (text && seq > 0 && store_prepare(s, INC_SQL_UPSERT, &st) == 0) {
        STORE_BIND(st, STORE_INT(inc->id), STORE_TEXT(incident_state_name(inc->state)),
                   STORE_INT(inc->sev), STORE_TEXT(inc->service), STORE_INT(inc->opened_s));
        if (inc->resolved_s)
            store_bind_int(st, 6, inc->resolved_s);
        store_bind_text(st, 7, text);
        store_bind_int(st, 8, seq);
        store_bind_int(st, 9, m->shared ? inc->seq : -1);
        if (store_step(st) == STORE_DONE)
            rc = store_changes(s) == 1 ? 0 : OC_ECONFLICT;
        store_reset(st);
    }
    if (rc == 0)
        inc->seq = seq;
    store_unlock(s);
    if (rc == OC_ECONFLICT)
        oc_log(OC_LOG_ERROR,
               "incident: INC-%lld changed in the store since this replica read it: this "
               "change is not saved (was the store's incident lock lost?)",
               (long long)inc->id);
    else if (rc)
        oc_log(OC_LOG_ERROR, "incident: cannot save INC-%lld: %s", (long long)inc->id,
               store_errmsg(s));
    free(text);
    json_decref(doc);
    return rc;
}

/* Loads every stored incident into m (empty before): 0 or OC_EDB. */
int inc_load_all(struct incident_mgr *m)
{
    struct store_stmt *st;
    int rc = OC_EDB, step;
    store_lock(m->app->store);
    if (store_prepare(m->app->store, INC_SQL_LOAD, &st) == 0) {
        while ((step = store_step(st)) == STORE_ROW) {
            const char *text = store_col_text(st, 1);
            json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
            int64_t id = store_col_int(st, 0), seq = store_col_int(st, 2);
            if (id > m->next_id)
                m->next_id = id; /* ids may have gaps */
            if (seq > m->seq_seen)
                m->seq_seen = seq;
            if (doc && seq > 0) /* seq 0: a claimed id whose document never followed */
                add_row(m, id, doc, seq);
            else if (doc && json_object_size(doc) > 0) /* saved before change numbers */
                add_row(m, id, doc, 0);
            json_decref(doc);
        }
        rc = step == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    store_unlock(m->app->store);
    return rc;
}

void inc_lock(struct incident_mgr *m)
{
    oc_lock(&m->mu);
    if (m->shared)
        refresh(m);
}

#define XLOCK_WAIT_MS 10000 /* a replica waits this long for another's change of incidents */

void inc_lock_write(struct incident_mgr *m)
{
    struct store *s = m->app->store;
    oc_lock(&m->mu);
    if (!m->shared)
        return;
    if (strcmp(store_backend(s), "postgres") == 0) {
        struct store_stmt *st;
        for (int waited = 0; !m->xlocked && waited < XLOCK_WAIT_MS; waited++) {
            store_lock(s);
            if (store_prepare(s, INC_SQL_PG_TRYLOCK, &st) == 0) {
                m->xlocked = store_step(st) == STORE_ROW && store_col_int(st, 0) == 1;
                store_reset(st);
            }
            store_unlock(s);
            if (!m->xlocked)
                nanosleep(&(struct timespec){0, 1000000}, NULL); /* the store stays free */
        }
        if (!m->xlocked)
            oc_log(OC_LOG_WARN,
                   "incident: the store's incident lock is still held by another "
                   "replica after %d ms: going on (each save checks the row's "
                   "change number)",
                   XLOCK_WAIT_MS);
    }
    refresh(m);
}

void inc_unlock(struct incident_mgr *m)
{
    if (m->xlocked) {
        struct store *s = m->app->store;
        struct store_stmt *st;
        store_lock(s);
        if (store_prepare(s, INC_SQL_PG_UNLOCK, &st) == 0) {
            store_step(st);
            store_reset(st);
        }
        store_unlock(s);
        m->xlocked = 0;
    }
    oc_unlock(&m->mu);
}
