/*
 * commit.c - group commit of resume writes to the store, and loading them back at start-up.
 *
 * A writer queues its changes (under the table's write lock, so in the table's order) and
 * then waits for the batch that holds them. The first waiter that finds no commit running
 * takes everything queued so far, writes it in one transaction (one WAL append and, with
 * store.synchronous=full, one fsync), marks the batch done and wakes the others. A write is
 * acknowledged only after its batch committed, and writers arriving meanwhile share the next
 * transaction, so throughput does not pay one sync per write.
 */
#include "resume/resume_int.h"
#include "resume/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

void resume_log_init(struct resume_log *l, struct store *store)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->store = store;
    l->filling = 1;
}

void resume_log_free(struct resume_log *l)
{
    free(l->ops);
    free(l->spare);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

uint64_t resume_log_add(struct resume_log *l, const struct resume_op *op)
{
    pthread_mutex_lock(&l->mu);
    l->ops = oc_grow(l->ops, &l->cap, l->nops + 1, sizeof *l->ops);
    l->ops[l->nops++] = *op;
    uint64_t b = l->filling;
    pthread_mutex_unlock(&l->mu);
    return b;
}

/* Writes one change inside the open transaction with put or del (prepared): 0 or OC_EDB. */
static int write_op(struct store_stmt *put, struct store_stmt *del, const struct resume_op *op)
{
    const struct resume_write *w = &op->w;
    struct store_stmt *st = op->del ? del : put;
    int rc;
    if (op->del)
        rc = STORE_BIND(st, STORE_TEXT(w->profile), STORE_TEXT(w->title), STORE_TEXT(w->r.device));
    else
        rc = STORE_BIND(st, STORE_TEXT(w->profile), STORE_TEXT(w->title), STORE_TEXT(w->r.device),
                        STORE_TEXT(w->r.session), STORE_INT(w->r.position_ms),
                        STORE_INT(w->r.duration_ms), STORE_INT(w->r.seq), STORE_INT(w->r.ts),
                        STORE_INT(w->r.t), STORE_INT(w->r.since), STORE_INT((int64_t)w->r.state));
    if (!rc && store_step(st) != STORE_DONE)
        rc = OC_EDB;
    store_reset(st);
    return rc;
}

/* Writes ops[0..n) in one transaction: 0 or OC_EDB. Holds the store's lock only. */
static int write_batch(struct store *s, const struct resume_op *ops, size_t n)
{
    struct store_stmt *put, *del;
    int rc = store_begin(s);
    if (rc)
        return rc;
    rc = store_prepare(s, RESUME_SQL_PUT, &put);
    if (!rc)
        rc = store_prepare(s, RESUME_SQL_DELETE, &del);
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_op(put, del, &ops[i]);
    if (rc) {
        oc_log(OC_LOG_ERROR, "resume: cannot write %zu reports: %s", n, store_errmsg(s));
        store_rollback(s);
        return rc;
    }
    rc = store_commit(s);
    if (rc)
        oc_log(OC_LOG_ERROR, "resume: commit failed: %s", store_errmsg(s));
    return rc;
}

int resume_log_wait(struct resume_log *l, uint64_t batch)
{
    pthread_mutex_lock(&l->mu);
    while (l->done < batch) {
        if (l->busy) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        /* Lead: take the filling batch; later writers queue into the next one. */
        struct resume_op *ops = l->ops;
        size_t n = l->nops, cap = l->cap;
        uint64_t b = l->filling++;
        l->ops = l->spare;
        l->cap = l->spare_cap;
        l->nops = 0;
        l->busy = 1;
        pthread_mutex_unlock(&l->mu);
        int rc = n ? write_batch(l->store, ops, n) : 0;
        pthread_mutex_lock(&l->mu);
        l->spare = ops;
        l->spare_cap = cap;
        l->busy = 0;
        l->done = b;
        if (rc)
            l->failed = b;
        atomic_fetch_add(&l->commits, 1);
        atomic_fetch_add(&l->rows, n);
        pthread_cond_broadcast(&l->cv);
    }
    int rc = l->failed == batch ? OC_EDB : 0;
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Reads one stored row into w. */
static void read_row(struct store_stmt *st, struct resume_write *w)
{
    const char *s[4];
    char *dst[4] = {w->profile, w->title, w->r.device, w->r.session};
    size_t max[4] = {RESUME_ID_MAX, RESUME_ID_MAX, RESUME_DEVICE_MAX, RESUME_SESSION_MAX};
    for (int i = 0; i < 4; i++) {
        s[i] = store_col_text(st, i);
        size_t n = s[i] ? strnlen(s[i], max[i]) : 0;
        memcpy(dst[i], s[i] ? s[i] : "", n);
        dst[i][n] = '\0';
    }
    w->r.position_ms = store_col_int(st, 4);
    w->r.duration_ms = store_col_int(st, 5);
    w->r.seq = store_col_int(st, 6);
    w->r.ts = store_col_int(st, 7);
    w->r.t = store_col_int(st, 8);
    w->r.since = store_col_int(st, 9);
    int64_t state = store_col_int(st, 10);
    w->r.state =
        state >= RESUME_PAUSED && state <= RESUME_ENDED ? (enum resume_state)state : RESUME_PAUSED;
}

int resume_log_load(struct store *s, struct resume_table *t)
{
    struct store_stmt *st = NULL;
    struct resume_write w;
    int rc;
    store_lock(s);
    rc = store_prepare(s, RESUME_SQL_ALL, &st);
    while (!rc && (rc = store_step(st)) == STORE_ROW) {
        struct resume_point *p;
        read_row(st, &w);
        if (!resume_id_valid(w.profile, RESUME_ID_MAX) ||
            !resume_id_valid(w.title, RESUME_ID_MAX) ||
            !resume_id_valid(w.r.device, RESUME_DEVICE_MAX) ||
            !resume_id_valid(w.r.session, RESUME_SESSION_MAX)) {
            oc_log(OC_LOG_ERROR, "resume: skipping a stored report with a malformed id");
            continue;
        }
        rc = resume_table_put(t, w.profile, w.title, SIZE_MAX, 1 << 30, &p);
        if (rc)
            break;
        if (p->n >= RESUME_DEVICES)
            continue; /* not written by this binary: one row per device, at most 16 */
        resume_point_reserve(p);
        p->r[p->n++] = w.r; /* as stored, since included */
    }
    if (rc == STORE_DONE)
        rc = 0;
    if (st)
        store_reset(st);
    store_unlock(s);
    return rc < 0 ? rc : 0;
}
