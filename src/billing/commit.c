/*
 * commit.c - the committer: decides every queued operation in arrival order and writes each
 * batch in one transaction (one WAL append, one fsync with store.synchronous=full): the event
 * id (the idempotency key), the subscription's new state, the audit row and, for a support
 * action, its Idempotency-Key answer. Only after the commit does it install the changed
 * subscriptions into the in-memory table and answer, so an acknowledged event is on disk and
 * a crash before the commit leaves nothing applied (the provider retries it).
 *
 * Within a batch, decisions read an overlay of the subscriptions changed earlier in the same
 * batch; a failed commit drops the overlay, restores the audit chain's head and answers 503
 * to the whole batch.
 */
#include "billing/billing_int.h"
#include "billing/sql.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/lock.h"
#include "core/log.h"
#include "http/http.h"
#include "store/store.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX 4096 /* bytes of one answer */

void billing_op_free(struct billing_op *op)
{
    if (!op)
        return;
    free(op->payload);
    free(op->answer);
    free(op);
}

const struct billing_sub *billing_ov_get(struct billing_mod *m, struct billing_overlay *ov,
                                         const char *id)
{
    const struct billing_sub *s = bmap_get(&ov->by_id, id);
    return s ? s : bmap_get(&m->table.subs, id);
}

int billing_ov_put(struct billing_mod *m, struct billing_overlay *ov,
                   const struct billing_sub *next)
{
    struct billing_sub *s = bmap_get(&ov->by_id, next->id);
    if (!s) {
        int fresh = bmap_get(&m->table.subs, next->id) == NULL;
        if (fresh && (int64_t)(m->table.subs.n + ov->added) >= m->o.max_subs)
            return OC_ETOOBIG;
        s = oc_malloc(sizeof *s);
        ov->v = oc_grow(ov->v, &ov->cap, ov->n + 1, sizeof *ov->v);
        ov->v[ov->n++] = s;
        ov->added += (size_t)fresh;
        bmap_put(&ov->by_id, next->id, s);
    }
    *s = *next;
    return 0;
}

int billing_write_sub(struct store *st, const struct billing_sub *s)
{
    struct store_stmt *q;
    int rc = store_prepare(st, BILLING_SQL_SUB_PUT, &q);
    if (!rc)
        rc = STORE_BIND(q, STORE_TEXT(s->id), STORE_TEXT(s->account),
                        STORE_TEXT(billing_provider_names[s->provider]),
                        STORE_TEXT(billing_state_names[s->state]), STORE_INT(s->period_end_ms),
                        STORE_TEXT(s->regions), STORE_INT(s->last_ms),
                        STORE_INT((int64_t)s->last_tie), STORE_TEXT(s->last_event),
                        STORE_INT(s->updated_ms), STORE_TEXT(s->plan));
    if (!rc && store_step(q) != STORE_DONE)
        rc = OC_EDB;
    if (q)
        store_reset(q);
    return rc;
}

int billing_write_audit(struct billing_mod *m, int64_t ts_ms, const char *kind, const char *account,
                        const char *sub, const char *detail)
{
    struct billing_audit_row r = {m->audit_id + 1, ts_ms, kind, account, sub, detail};
    unsigned char h[BILLING_HASH_LEN];
    struct store_stmt *q;
    billing_audit_hash(m->audit_hash, &r, h);
    int rc = store_prepare(m->app->store, BILLING_SQL_AUDIT_PUT, &q);
    if (!rc)
        rc = STORE_BIND(q, STORE_INT(r.id), STORE_INT(ts_ms), STORE_TEXT(kind), STORE_TEXT(account),
                        STORE_TEXT(sub), STORE_TEXT(detail),
                        STORE_BLOB(m->audit_hash, BILLING_HASH_LEN), STORE_BLOB(h, sizeof h));
    if (!rc && store_step(q) != STORE_DONE)
        rc = OC_EDB;
    if (q)
        store_reset(q);
    if (!rc) {
        m->audit_id = r.id;
        memcpy(m->audit_hash, h, sizeof h);
    }
    return rc;
}

/* The decision stored for (provider, id) when the event was seen before: 1 (seen, copied into
 * dec), 0 (new) or OC_EDB. */
static int seen(struct store *st, const struct billing_event *e, char *dec, size_t n)
{
    struct store_stmt *q;
    int rc = store_prepare(st, BILLING_SQL_EVENT_SEEN, &q);
    if (!rc)
        rc = STORE_BIND(q, STORE_TEXT(billing_provider_names[e->provider]), STORE_TEXT(e->id));
    if (!rc) {
        int s = store_step(q);
        rc = s == STORE_ROW ? 1 : s == STORE_DONE ? 0 : OC_EDB;
        if (rc == 1)
            snprintf(dec, n, "%s", store_col_text(q, 0) ? store_col_text(q, 0) : "");
    }
    if (q)
        store_reset(q);
    return rc;
}

/* Sets op's answer: status and the text in b (copied). */
static void answer(struct billing_op *op, int status, const char *text)
{
    free(op->answer);
    op->status = status;
    op->answer = oc_strdup(text);
}

/* Decides event op against one subscription (NULL: a new one keyed by the event) and queues
 * the change in the overlay and the store: the decision, or OC_ETOOBIG / OC_EDB. */
static int decide_one(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op,
                      const struct billing_sub *cur, struct billing_event *e,
                      enum billing_state *from, enum billing_state *to)
{
    struct billing_sub next;
    enum billing_decision d = billing_decide(cur, e, op->recv_ms, &next);
    *from = cur ? cur->state : BILLING_NONE;
    *to = next.state;
    if (d != BILLING_APPLIED)
        return (int)d;
    int rc = billing_ov_put(m, ov, &next);
    if (!rc)
        rc = billing_write_sub(m->app->store, &next);
    return rc ? rc : (int)d;
}

/* Decides e (its subscription set to id) against cur, noting an applied change in changes and
 * raising *best (applied over stale over recorded). 0, or a negative oc_err. */
static int fan_one(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op,
                   const struct billing_sub *cur, json_t *changes, int *best)
{
    struct billing_event *e = &op->ev;
    enum billing_state from, to;
    if (cur)
        memcpy(e->subscription, cur->id, sizeof e->subscription);
    int rc = decide_one(m, ov, op, cur, e, &from, &to);
    if (rc < 0)
        return rc;
    if (rc == BILLING_APPLIED)
        json_array_append_new(changes,
                              json_pack("{s:s,s:s,s:s}", "subscription", e->subscription, "from",
                                        billing_state_names[from], "to", billing_state_names[to]));
    if (rc == BILLING_APPLIED || (rc == BILLING_STALE && *best == BILLING_RECORDED))
        *best = rc;
    return 0;
}

/* Decides e for every subscription it targets: its own, else every one of its account (those
 * of the table and those created earlier in this batch). The overall decision (applied if any
 * applied, else stale if any stale, else recorded), or a negative oc_err. */
static int decide_event(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op,
                        json_t *changes)
{
    struct billing_event *e = &op->ev;
    int best = BILLING_RECORDED, rc = 0;
    if (e->subscription[0]) {
        rc = fan_one(m, ov, op, billing_ov_get(m, ov, e->subscription), changes, &best);
        return rc ? rc : best;
    }
    if (!e->account[0])
        return BILLING_RECORDED;
    const struct billing_account *a = bmap_get(&m->table.accounts, e->account);
    for (size_t i = 0; a && i < a->n && !rc; i++)
        rc = fan_one(m, ov, op, billing_ov_get(m, ov, a->subs[i]->id), changes, &best);
    for (size_t i = 0; i < ov->n && !rc; i++)
        if (strcmp(ov->v[i]->account, e->account) == 0 && !bmap_get(&m->table.subs, ov->v[i]->id))
            rc = fan_one(m, ov, op, ov->v[i], changes, &best);
    e->subscription[0] = '\0';
    return rc ? rc : best;
}

/* Records the event row: 0 or OC_EDB. */
static int write_event(struct store *st, const struct billing_op *op, const char *decision)
{
    const struct billing_event *e = &op->ev;
    struct store_stmt *q;
    int rc = store_prepare(st, BILLING_SQL_EVENT_PUT, &q);
    if (!rc)
        rc = STORE_BIND(q, STORE_TEXT(billing_provider_names[e->provider]), STORE_TEXT(e->id),
                        STORE_TEXT(e->type), STORE_TEXT(e->subscription), STORE_TEXT(e->account),
                        STORE_INT(e->event_ms), STORE_INT(op->recv_ms), STORE_TEXT(decision),
                        STORE_TEXT(op->payload));
    if (!rc && store_step(q) != STORE_DONE)
        rc = OC_EDB;
    if (q)
        store_reset(q);
    return rc;
}

/* Keeps the event's purchase token for reconciliation (the first one of its subscription): 0
 * or OC_EDB. */
static int write_token(struct store *st, const struct billing_event *e)
{
    struct store_stmt *q;
    int rc = store_prepare(st, BILLING_SQL_TOKEN_PUT, &q);
    if (!rc)
        rc = STORE_BIND(q, STORE_TEXT(e->subscription),
                        STORE_TEXT(billing_provider_names[e->provider]), STORE_TEXT(e->token));
    if (!rc && store_step(q) != STORE_DONE)
        rc = OC_EDB;
    if (q)
        store_reset(q);
    return rc;
}

/* Runs one event inside the batch's transaction: 0 (answered), or OC_EDB. */
static int run_event(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op)
{
    struct billing_event *e = &op->ev;
    char prior[32], hex[65], *detail = NULL, *text = NULL;
    unsigned char digest[32];
    int rc = seen(m->app->store, e, prior, sizeof prior);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        json_t *a = json_pack("{s:b,s:s,s:s}", "duplicate", 1, "id", e->id, "decision", prior);
        text = json_dumps(a, JSON_COMPACT);
        answer(op, 200, text);
        free(text);
        json_decref(a);
        op->dup = 1; /* tallied into the audit once the batch is committed (tally.c) */
        atomic_fetch_add(&m->st.duplicates, 1);
        return 0;
    }
    json_t *changes = json_array();
    int d = decide_event(m, ov, op, changes);
    if (d == OC_ETOOBIG) {
        json_decref(changes);
        op->status = 503;
        op->answer = oc_strdup("the subscription table is full (billing.max_subscriptions)");
        return 0;
    }
    crypto_hash_sha256(digest, (const unsigned char *)op->payload, op->plen);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    const char *dn = d >= 0 ? billing_decision_names[d] : "";
    json_t *det =
        json_pack("{s:s,s:s,s:s,s:I,s:s,s:O,s:s}", "provider", billing_provider_names[e->provider],
                  "id", e->id, "type", e->type, "event_ms", (json_int_t)e->event_ms, "decision", dn,
                  "changes", changes, "payload_sha256", hex);
    if (d >= 0)
        rc = write_event(m->app->store, op, dn);
    else
        rc = d;
    if (!rc && e->token[0] && e->subscription[0])
        rc = write_token(m->app->store, e);
    if (!rc) {
        detail = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS);
        rc = billing_write_audit(m, op->recv_ms, "event", e->account, e->subscription, detail);
    }
    if (!rc) {
        json_t *a = json_pack("{s:b,s:s,s:s,s:O}", "duplicate", 0, "id", e->id, "decision", dn,
                              "changes", changes);
        text = json_dumps(a, JSON_COMPACT);
        answer(op, 200, text);
        json_decref(a);
        atomic_fetch_add(&m->st.decisions[e->provider][d], 1);
    }
    free(text);
    free(detail);
    json_decref(det);
    json_decref(changes);
    return rc;
}

int billing_run_replay(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op)
{
    struct billing_event *e = &op->ev;
    char *detail = NULL;
    if (op->act.force) /* as of now: above everything applied before */
        e->event_ms = op->recv_ms;
    json_t *changes = json_array();
    int d = decide_event(m, ov, op, changes), rc = 0;
    if (d == OC_ETOOBIG) {
        json_decref(changes);
        op->status = 503;
        op->answer = oc_strdup("the subscription table is full (billing.max_subscriptions)");
        return 0;
    }
    if (d < 0) {
        json_decref(changes);
        return d;
    }
    const char *dn = billing_decision_names[d];
    json_t *det = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:I,s:s,s:O}", "action", "replay", "provider",
        billing_provider_names[e->provider], "id", e->id, "type", e->type, "key", op->act.key,
        "actor", op->act.actor, "reason", op->act.reason, "force", op->act.force, "first_decision",
        op->act.prior, "event_ms", (json_int_t)e->event_ms, "decision", dn, "changes", changes);
    detail = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS);
    rc = billing_write_audit(m, op->recv_ms, "action", e->account, e->subscription, detail);
    if (!rc) {
        json_t *a =
            json_pack("{s:s,s:s,s:s,s:b,s:s,s:O}", "provider", billing_provider_names[e->provider],
                      "id", e->id, "first_decision", op->act.prior, "force", op->act.force,
                      "decision", dn, "changes", changes);
        op->status = 200;
        op->answer = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        rc = billing_write_idem(m->app->store, op);
        atomic_fetch_add(&m->st.actions, 1);
    }
    free(detail);
    json_decref(det);
    json_decref(changes);
    return rc;
}

/* Runs ops[0..n) in one transaction: 0, or OC_EDB (nothing of the batch stays). */
static int run_batch(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *list)
{
    struct store *st = m->app->store;
    int rc = store_begin(st);
    for (struct billing_op *op = list; op && !rc; op = op->next)
        rc = op->kind == BILLING_OP_EVENT    ? run_event(m, ov, op)
             : op->kind == BILLING_OP_SEAL   ? billing_run_seal(m, op)
             : op->kind == BILLING_OP_REPLAY ? billing_run_replay(m, ov, op)
             : op->kind == BILLING_OP_TALLY  ? billing_run_tally(m, op)
                                             : billing_run_action(m, ov, op);
    if (rc) {
        oc_log(OC_LOG_ERROR, "billing: a batch failed: %s", store_errmsg(st));
        store_rollback(st);
        return rc;
    }
    rc = store_commit(st);
    if (rc)
        oc_log(OC_LOG_ERROR, "billing: commit failed: %s", store_errmsg(st));
    atomic_fetch_add(&m->st.commits, 1);
    return rc;
}

/* Hands op its answer: through its later handle, or to its waiting handler; a detached one is
 * freed. */
static void finish(struct billing_mod *m, struct billing_op *op)
{
    if (op->detached) {
        billing_op_free(op);
        return;
    }
    if (op->later) {
        if (op->status == 200)
            http_later_reply(op->later, 200, "application/json", op->answer, strlen(op->answer));
        else
            http_later_problem(op->later, op->status, "%s",
                               op->answer ? op->answer : "the event could not be stored");
        billing_op_free(op);
        return;
    }
    pthread_mutex_lock(&m->qmu);
    op->done = 1;
    pthread_cond_broadcast(&m->dcv);
    pthread_mutex_unlock(&m->qmu);
}

/* Commits one batch list and answers every operation in it. */
static void commit_list(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *list)
{
    int64_t id0 = m->audit_id;
    unsigned char h0[BILLING_HASH_LEN];
    memcpy(h0, m->audit_hash, sizeof h0);
    int rc = run_batch(m, ov, list);
    if (rc) {
        m->audit_id = id0;
        memcpy(m->audit_hash, h0, sizeof h0);
        for (size_t i = 0; i < ov->n; i++)
            free(ov->v[i]);
    } else {
        oc_wrlock(&m->lock);
        for (size_t i = 0; i < ov->n; i++)
            if (billing_table_install(&m->table, ov->v[i]) != 0)
                oc_log(OC_LOG_WARN,
                       "billing: an account holds %d subscriptions; one more is "
                       "stored but not checked",
                       BILLING_SUBS_PER_ACCOUNT);
        oc_rwunlock(&m->lock);
    }
    ov->n = ov->added = 0;
    bmap_free(&ov->by_id, NULL);
    bmap_init(&ov->by_id);
    for (struct billing_op *op = list, *next; op; op = next) {
        next = op->next;
        if (rc) {
            free(op->answer);
            op->answer = NULL;
            op->status = 503;
            atomic_fetch_add(&m->st.failed, 1);
        } else if (op->dup) {
            billing_tally_add(m, op->ev.provider, BILLING_TALLY_DUP, op->ev.id, op->recv_ms);
        }
        finish(m, op);
    }
}

static void *committer_main(void *arg)
{
    struct billing_mod *m = arg;
    struct billing_overlay ov = {0};
    bmap_init(&ov.by_id);
    pthread_mutex_lock(&m->qmu);
    for (;;) {
        while (!m->head && !m->stopping)
            pthread_cond_wait(&m->qcv, &m->qmu);
        if (!m->head) { /* stopping: the minutes still counted become rows, then done */
            pthread_mutex_unlock(&m->qmu);
            struct billing_op *rest = billing_tally_take(m, 0, 1);
            if (rest)
                commit_list(m, &ov, rest);
            pthread_mutex_lock(&m->qmu);
            if (!m->head)
                break;
            continue;
        }
        struct billing_op *list = m->head;
        m->head = m->tail = NULL;
        pthread_mutex_unlock(&m->qmu);
        commit_list(m, &ov, list);
        pthread_mutex_lock(&m->qmu);
    }
    pthread_mutex_unlock(&m->qmu);
    bmap_free(&ov.by_id, NULL);
    free(ov.v);
    return NULL;
}

int billing_committer_start(struct billing_mod *m)
{
    if (pthread_create(&m->committer, NULL, committer_main, m) != 0)
        return OC_EIO;
    m->committer_started = 1;
    return 0;
}

void billing_committer_stop(struct billing_mod *m)
{
    if (m->committer_started) {
        pthread_mutex_lock(&m->qmu);
        m->stopping = 1;
        pthread_cond_signal(&m->qcv);
        pthread_mutex_unlock(&m->qmu);
        pthread_join(m->committer, NULL);
    }
    pthread_cond_destroy(&m->dcv);
    pthread_cond_destroy(&m->qcv);
    pthread_mutex_destroy(&m->qmu);
}

void billing_submit(struct billing_mod *m, struct billing_op *op)
{
    int wait = op->later == NULL && !op->detached;
    op->next = NULL;
    pthread_mutex_lock(&m->qmu);
    if (m->tail)
        m->tail->next = op;
    else
        m->head = op;
    m->tail = op;
    pthread_cond_signal(&m->qcv);
    while (wait && !op->done)
        pthread_cond_wait(&m->dcv, &m->qmu);
    pthread_mutex_unlock(&m->qmu);
}

void billing_sub_read(struct store_stmt *st, struct billing_sub *out)
{
    const char *s[4];
    char *dst[4] = {out->id, out->account, out->regions, out->last_event};
    int cols[4] = {0, 1, 5, 8};
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 4; i++) {
        s[i] = store_col_text(st, cols[i]);
        snprintf(dst[i], BILLING_ID_MAX + 1, "%s", s[i] ? s[i] : "");
    }
    const char *prov = store_col_text(st, 2), *state = store_col_text(st, 3);
    for (int p = 0; p < BILLING_NPROVIDERS; p++)
        if (prov && strcmp(prov, billing_provider_names[p]) == 0)
            out->provider = (enum billing_provider)p;
    if (!state || billing_state_parse(state, &out->state) != 0)
        out->state = BILLING_NONE;
    out->period_end_ms = store_col_int(st, 4);
    out->last_ms = store_col_int(st, 6);
    out->last_tie = (int)store_col_int(st, 7);
    out->updated_ms = store_col_int(st, 9);
    snprintf(out->plan, sizeof out->plan, "%s",
             store_col_text(st, 10) ? store_col_text(st, 10) : "");
}

/* Reads the audit chain's head into m. 0 or OC_EDB. */
static int load_head(struct billing_mod *m)
{
    struct store_stmt *q;
    int rc = store_prepare(m->app->store, BILLING_SQL_AUDIT_LAST, &q), s;
    if (rc)
        return rc;
    s = store_step(q);
    if (s == STORE_ROW) {
        size_t n = 0;
        const void *h = store_col_blob(q, 1, &n);
        m->audit_id = store_col_int(q, 0);
        if (n == BILLING_HASH_LEN)
            memcpy(m->audit_hash, h, n);
    }
    store_reset(q);
    return s < 0 ? OC_EDB : 0;
}

int billing_load(struct billing_mod *m)
{
    struct store *st = m->app->store;
    struct store_stmt *q;
    int rc, s;
    store_lock(st);
    rc = load_head(m);
    if (!rc)
        rc = store_prepare(st, BILLING_SQL_SUB_ALL, &q);
    while (!rc && (s = store_step(q)) == STORE_ROW) {
        struct billing_sub *sub = oc_malloc(sizeof *sub);
        billing_sub_read(q, sub);
        if (billing_table_install(&m->table, sub) != 0)
            oc_log(OC_LOG_WARN, "billing: an account holds more than %d subscriptions",
                   BILLING_SUBS_PER_ACCOUNT);
    }
    if (!rc) {
        rc = s < 0 ? OC_EDB : 0;
        store_reset(q);
    }
    store_unlock(st);
    return rc;
}
