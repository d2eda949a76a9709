/*
 * zdsync.c - the relation back as Zendesk's own: with tickets.zendesk_url set, a linked
 * incident gets one Zendesk problem ticket (POST /api/v2/tickets.json, type problem, with an
 * Idempotency-Key so a retried creation makes one), each linked Zendesk ticket becomes an
 * incident of it (PUT /api/v2/tickets/{id}.json {type: incident, problem_id}), and each
 * status update of the incident becomes a private comment on it. Every call is a row of
 * tickets_outbox sent by the delivery thread (outbox.c): retried with backoff, surviving a
 * restart. The problem's id is kept in store_meta once Zendesk answers with it; the rows
 * that need it wait (as a failed attempt) until then. The credentials are opened at start
 * (in clear or sealed with DATA/oncue.key) and never logged.
 */
#include "tickets/tickets_int.h"
#include "tickets/sql.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZD_URL_MAX 1024
#define ZD_RESP_MAX                                                                                \
    65536 /* bytes of Zendesk's answer read (the new ticket's id is near its start) */

int tickets_zd_on(const struct tickets_mod *m)
{
    return m->o.zendesk_url && m->o.zendesk_url[0];
}

int tickets_zd_open(struct tickets_mod *m, char *err, size_t errlen)
{
    const char *c = m->o.zendesk_credentials;
    if (!c || !c[0])
        return 0;
    if (store_unseal(m->app->store, c, &m->zd_auth) != 0) {
        snprintf(err, errlen,
                 "tickets.zendesk_credentials does not open with this data directory's key");
        return OC_EAUTH;
    }
    m->zd_basic = strchr(m->zd_auth, ':') != NULL; /* EMAIL/token:API_TOKEN */
    return 0;
}

void tickets_zd_close(struct tickets_mod *m)
{
    if (m->zd_auth)
        sodium_memzero(m->zd_auth, strlen(m->zd_auth));
    free(m->zd_auth);
    m->zd_auth = NULL;
}

/* Zendesk's priority for a severity. */
static const char *priority(const char *sev)
{
    static const char *const p[][2] = {
        {"SEV1", "urgent"}, {"SEV2", "high"}, {"SEV3", "normal"}, {"SEV4", "low"}};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (strcmp(sev, p[i][0]) == 0)
            return p[i][1];
    return "normal";
}

void tickets_zd_queue_problem(struct tickets_mod *m, const struct tickets_open *o, int64_t now_ms)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    char id[24], subject[200], text[400], tag[40];
    if (!tickets_zd_on(m))
        return;
    snprintf(id, sizeof id, "INC-%lld", (long long)o->id);
    snprintf(tag, sizeof tag, "oncue_inc_%lld", (long long)o->id);
    snprintf(subject, sizeof subject, "%s: %s", id, o->title[0] ? o->title : "incident");
    snprintf(text, sizeof text,
             "oncue incident %s (%s): %s. The support tickets of this fault are linked here as"
             " incidents; the incident's status updates follow as comments.",
             id, o->severity[0] ? o->severity : "SEV?", o->title[0] ? o->title : "incident");
    json_t *b = json_pack("{s:{s:s, s:s, s:s, s:[s, s], s:s, s:{s:s, s:b}}}", "ticket", "type",
                          "problem", "subject", subject, "priority", priority(o->severity), "tags",
                          "oncue", tag, "external_id", id, "comment", "body", text, "public", 0);
    char *body = json_dumps(b, JSON_COMPACT);
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_ZD_PROBLEM_PUT, &q) != 0 ||
        STORE_BIND(q, STORE_TEXT(id), STORE_INT(o->id), STORE_TEXT(body), STORE_INT(now_ms)) != 0 ||
        store_step(q) != STORE_DONE)
        oc_log(OC_LOG_ERROR, "tickets: cannot queue the Zendesk problem of %s: %s", id,
               store_errmsg(s));
    tickets_stmt_done(q);
    store_unlock(s);
    free(body);
    json_decref(b);
}

void tickets_zd_queue_status(struct tickets_mod *m, int64_t incident, const char *status,
                             const char *body, int64_t now_ms)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    char id[24];
    struct oc_buf text;
    if (!tickets_zd_on(m))
        return;
    snprintf(id, sizeof id, "INC-%lld", (long long)incident);
    oc_buf_init(&text, 8192);
    oc_buf_printf(&text, "%s status: %s.", id, status);
    if (body && body[0])
        oc_buf_printf(&text, " %s", body);
    json_t *b = json_pack("{s:{s:{s:s, s:b}}}", "ticket", "comment", "body",
                          text.data ? text.data : "", "public", 0);
    char *js = json_dumps(b, JSON_COMPACT);
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_ZD_COMMENT_PUT, &q) != 0 ||
        STORE_BIND(q, STORE_TEXT(id), STORE_INT(incident), STORE_TEXT(js), STORE_INT(now_ms)) !=
            0 ||
        store_step(q) != STORE_DONE)
        oc_log(OC_LOG_ERROR, "tickets: cannot queue a Zendesk comment on %s: %s", id,
               store_errmsg(s));
    tickets_stmt_done(q);
    store_unlock(s);
    free(js);
    json_decref(b);
    oc_buf_free(&text);
    tickets_outbox_wake(m);
}

/* The store_meta key of incident's problem ticket. */
static void meta_key(int64_t incident, char *out, size_t n)
{
    snprintf(out, n, "tickets.zendesk_problem.%lld", (long long)incident);
}

/* The Zendesk id of incident's problem ticket, 0 while not made. */
static int64_t problem_of(struct tickets_mod *m, int64_t incident)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    char key[64];
    int64_t v = 0;
    meta_key(incident, key, sizeof key);
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_ZD_ID_GET, &q) == 0 && STORE_BIND(q, STORE_TEXT(key)) == 0 &&
        store_step(q) == STORE_ROW)
        v = store_col_int(q, 0);
    tickets_stmt_done(q);
    store_unlock(s);
    return v;
}

/* Keeps problem as incident's problem ticket: 0 or OC_EDB. */
static int keep_problem(struct tickets_mod *m, int64_t incident, int64_t problem)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    char key[64];
    int rc = OC_EDB;
    meta_key(incident, key, sizeof key);
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_ZD_ID_SET, &q) == 0 &&
        STORE_BIND(q, STORE_TEXT(key), STORE_INT(problem)) == 0 && store_step(q) == STORE_DONE)
        rc = 0;
    tickets_stmt_done(q);
    store_unlock(s);
    return rc;
}

/* POSTs the problem ticket of d and keeps its id: the HTTP status, or 0 with why. */
static long make_problem(struct tickets_mod *m, const struct tickets_due *d,
                         struct tickets_call *call, char *why, size_t wn)
{
    char idem[128];
    struct oc_buf resp;
    /* one key per queued row: a retry of it is the same request to Zendesk */
    snprintf(idem, sizeof idem, "oncue-%s-%lld", d->ext, (long long)d->created_ms);
    oc_buf_init(&resp, ZD_RESP_MAX);
    call->method = "POST";
    call->idem = idem;
    call->body = d->body;
    call->resp = &resp;
    long st = tickets_http(m, call, why, wn);
    if (st >= 200 && st < 300) {
        json_t *a = resp.data ? json_loads(resp.data, 0, NULL) : NULL;
        json_int_t id = json_integer_value(json_object_get(json_object_get(a, "ticket"), "id"));
        if (id <= 0) {
            snprintf(why, wn, "HTTP %ld without ticket.id in the answer", st);
            st = 0;
        } else if (keep_problem(m, d->incident, (int64_t)id) != 0) {
            snprintf(why, wn, "cannot keep problem ticket %lld", (long long)id);
            st = 0;
        }
        json_decref(a);
    }
    oc_buf_free(&resp);
    return st;
}

/* 1 when s is a Zendesk ticket id (digits). */
static int zd_id(const char *s)
{
    if (!s[0])
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

long tickets_zd_send(struct tickets_mod *m, const struct tickets_due *d, char *why, size_t wn)
{
    char url[ZD_URL_MAX], body[128];
    const char *base = m->o.zendesk_url;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    struct tickets_call call = {.bearer = m->zd_basic ? NULL : m->zd_auth,
                                .userpwd = m->zd_basic ? m->zd_auth : NULL};
    int64_t problem = problem_of(m, d->incident);
    if (strcmp(d->kind, "zd_problem") == 0) {
        if (problem) /* made already */
            return 200;
        snprintf(url, sizeof url, "%.*s/api/v2/tickets.json", (int)bl, base);
        call.url = url;
        return make_problem(m, d, &call, why, wn);
    }
    if (!problem) {
        snprintf(why, wn, "the problem ticket of INC-%lld is not made yet", (long long)d->incident);
        return 0;
    }
    call.method = "PUT";
    call.url = url;
    if (strcmp(d->kind, "zd_incident") == 0) {
        if (!zd_id(d->ext)) {
            snprintf(why, wn, "not a Zendesk ticket id");
            return 0;
        }
        snprintf(url, sizeof url, "%.*s/api/v2/tickets/%s.json", (int)bl, base, d->ext);
        snprintf(body, sizeof body, "{\"ticket\":{\"type\":\"incident\",\"problem_id\":%lld}}",
                 (long long)problem);
        call.body = body;
    } else { /* zd_comment */
        snprintf(url, sizeof url, "%.*s/api/v2/tickets/%lld.json", (int)bl, base,
                 (long long)problem);
        call.body = d->body;
    }
    return tickets_http(m, &call, why, wn);
}
