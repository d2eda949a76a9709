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

void resume_log_lock(struct resume_log *l)
{
    pthread_mutex_lock(&l->mu);
}

void resume_log_unlock(struct resume_log *l)
{
    pthread_mutex_unlock(&l->mu);
}

struct resume_op *resume_log_push(struct resume_log *l, uint64_t *batch)
{
    l->ops = oc_grow(l->ops, &l->cap, l->nops + 1, sizeof *l->ops);
    *batch = l->filling;
    return &l->ops[l->nops++];
}

/* Binds the report of op as row k (0-based) of a put statement, at parameters 11k+1..11k+11:
 * 0 or OC_EDB. */
static int bind_put(struct store_stmt *st, int k, const struct resume_op *op)
{
    const struct resume_write *w = &op->w;
    int b = k * RESUME_PUT_COLS, rc = 0;
    rc |= store_bind_text(st, b + 1, w->profile);
    rc |= store_bind_text(st, b + 2, w->title);
    rc |= store_bind_text(st, b + 3, w->r.device);
    rc |= store_bind_text(st, b + 4, w->r.session);
    rc |= store_bind_int(st, b + 5, w->r.position_ms);
    rc |= store_bind_int(st, b + 6, w->r.duration_ms);
    rc |= store_bind_int(st, b + 7, w->r.seq);
    rc |= store_bind_int(st, b + 8, w->r.ts);
    rc |= store_bind_int(st, b + 9, w->r.t);
    rc |= store_bind_int(st, b + 10, w->r.since);
    rc |= store_bind_int(st, b + 11, (int64_t)w->r.state);
    return rc ? OC_EDB : 0;
}

/* Runs st once with ops[0..k) bound (puts, or one delete when del): 0 or OC_EDB. */
static int run_rows(struct store_stmt *st, int del, const struct resume_op *ops, int k)
{
    int rc = 0;
    if (del) {
        const struct resume_write *w = &ops->w;
        rc = STORE_BIND(st, STORE_TEXT(w->profile), STORE_TEXT(w->title), STORE_TEXT(w->r.device));
    }
    for (int i = 0; i < k && !rc && !del; i++)
        rc = bind_put(st, i, &ops[i]);
    if (!rc && store_step(st) != STORE_DONE)
        rc = OC_EDB;
    store_reset(st);
    return rc;
}

/* The text of an INSERT OR REPLACE of RESUME_PUT_ROWS rows, built once by build_put_many. */
static char put_many[sizeof RESUME_SQL_PUT_HEAD + RESUME_PUT_ROWS * sizeof RESUME_SQL_PUT_ROW];
static pthread_once_t put_many_once = PTHREAD_ONCE_INIT;

static void build_put_many(void)
{
    size_t len = strlen(RESUME_SQL_PUT_HEAD);
    memcpy(put_many, RESUME_SQL_PUT_HEAD, len);
    for (int k = 0; k < RESUME_PUT_ROWS; k++) {
        if (k)
            put_many[len++] = ',';
        memcpy(put_many + len, RESUME_SQL_PUT_ROW, strlen(RESUME_SQL_PUT_ROW));
        len += strlen(RESUME_SQL_PUT_ROW);
    }
    put_many[len] = '\0';
}

/* The text of an INSERT OR REPLACE of k rows (k is RESUME_PUT_ROWS or 1). */
static const char *put_sql(int k)
{
    if (k == 1)
        return RESUME_SQL_PUT;
    pthread_once(&put_many_once, build_put_many);
    return put_many;
}

/* Writes ops[0..n) in one transaction, in their order: each run of puts as statements of
 * RESUME_PUT_ROWS rows (the rest one row each), a delete alone. A multi-row INSERT OR REPLACE
 * replaces row by row, so a report queued twice in one run still ends as the later one.
 * 0 or OC_EDB. Holds the store's lock only. */
static int write_batch(struct store *s, const struct resume_op *ops, size_t n)
{
    struct store_stmt *one, *many, *del;
    int rc = store_begin(s);
    if (rc)
        return rc;
    rc = store_prepare(s, put_sql(1), &one);
    if (!rc)
        rc = store_prepare(s, put_sql(RESUME_PUT_ROWS), &many);
    if (!rc)
        rc = store_prepare(s, RESUME_SQL_DELETE, &del);
    for (size_t i = 0; i < n && !rc;) {
        size_t run = 0;
        while (i + run < n && !ops[i + run].del && run < RESUME_PUT_ROWS)
            run++;
        if (ops[i].del) {
            rc = run_rows(del, 1, &ops[i], 1);
            i++;
        } else if (run == RESUME_PUT_ROWS) {
            rc = run_rows(many, 0, &ops[i], RESUME_PUT_ROWS);
            i += run;
        } else {
            for (size_t j = 0; j < run && !rc; j++)
                rc = run_rows(one, 0, &ops[i + j], 1);
            i += run;
        }
    }
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
