/*
 * persist.c - the cube in the store: dimension values, leaves and closed minutes.
 *
 * Closing a minute queues its blob (cube.c, under the cube lock); the module timer writes the
 * queue on the main thread, one transaction per minute, together with the values and leaves
 * created since the last write, so a stored minute never names a leaf the store lacks. At
 * start qoe_cube_load rebuilds the dictionaries with the same ids and the ring of recent
 * minutes, and marks everything up to the newest stored minute closed (later events for those
 * minutes are too old instead of overwriting them). Rollups merge old minutes into 5-minute
 * and hourly rows; retention deletes the oldest.
 */
#include "qoe/qoe_int.h"
#include "qoe/persist.h"
#include "qoe/minute.h"
#include "qoe/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cube_queue_minute(struct qoe_cube *c, const struct qoe_minute *cm)
{
    if (!c->persist)
        return;
    if (c->npend == CUBE_MAX_PENDING) { /* the store is stuck: drop the oldest */
        free(c->pend[0].blob);
        memmove(c->pend, c->pend + 1, (c->npend - 1) * sizeof *c->pend);
        c->npend--;
        c->pend_dropped++;
    }
    c->pend = oc_grow(c->pend, &c->cappend, c->npend + 1, sizeof *c->pend);
    struct pend_minute *p = &c->pend[c->npend++];
    p->t = cm->t;
    p->blob = minute_encode(cm, &p->len);
}

/* Runs one prepared statement with the given int/blob binds to completion. */
static int exec_blob(struct store *s, const char *sql, int64_t a, int64_t b, const void *blob,
                     size_t len)
{
    struct store_stmt *st;
    int rc = store_prepare(s, sql, &st);
    if (rc != 0)
        return rc;
    store_bind_int(st, 1, a);
    store_bind_int(st, 2, b);
    if (blob)
        store_bind_blob(st, 3, blob, len);
    rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
    store_reset(st);
    return rc;
}

/* What the sweeps and reused ids changed since the store last heard, taken under mu. */
struct changes {
    uint64_t *gone; /* (dim << 32 | id) aged out */
    size_t ngone;
    struct leaf_row { /* a stored leaf rewritten */
        uint32_t id;
        uint32_t dims[BEACON_NDIMS];
    } * leaves;
    size_t nleaves;
    struct value_row { /* a reused id's new value, or a newer seen time of a stored one */
        int d;
        uint32_t id;
        int64_t seen;
        uint32_t events;
        char value[DICT_STRIDE]; /* "" for a seen time only */
    } * vals;
    size_t nvals, capvals;
};

static void changes_free(struct changes *ch)
{
    free(ch->gone);
    free(ch->leaves);
    free(ch->vals);
}

/* Takes the changes (mu held): aged values, rewritten leaves, reused ids and seen times that
 * moved by more than a sixteenth of ingest.value_idle_s (at least a minute) since written. */
static void take_changes(struct qoe_cube *c, struct changes *ch)
{
    int64_t grain = c->o.value_idle_s / 16 > 60 ? c->o.value_idle_s / 16 : 60;
    memset(ch, 0, sizeof *ch);
    ch->gone = c->swept_vals, ch->ngone = c->nswept_vals;
    c->swept_vals = NULL, c->nswept_vals = c->capswept_vals = 0;
    ch->nleaves = c->nswept_leaves;
    ch->leaves = oc_malloc((ch->nleaves ? ch->nleaves : 1) * sizeof *ch->leaves);
    for (size_t i = 0; i < ch->nleaves; i++) {
        ch->leaves[i].id = c->swept_leaves[i];
        memcpy(ch->leaves[i].dims, qoe_cube_leaf_dims(c, c->swept_leaves[i]),
               sizeof ch->leaves[i].dims);
    }
    c->nswept_leaves = 0;
    for (int d = 0; d < BEACON_NDIMS; d++) {
        struct dict_values *v = &c->vals[d];
        for (size_t i = 0; i < v->nreused; i++) {
            uint32_t id = v->reused[i];
            if (v->isfree[id])
                continue;
            ch->vals = oc_grow(ch->vals, &ch->capvals, ch->nvals + 1, sizeof *ch->vals);
            struct value_row *r = &ch->vals[ch->nvals++];
            r->d = d, r->id = id, r->seen = v->seen[id], r->events = v->events[id];
            memcpy(r->value, dict_value_str(v, id), v->len[id] + 1);
        }
        v->nreused = 0;
        for (uint32_t id = 2; id < c->saved_values[d]; id++) {
            if (v->isfree[id] || v->seen[id] < v->saved[id] + grain)
                continue;
            ch->vals = oc_grow(ch->vals, &ch->capvals, ch->nvals + 1, sizeof *ch->vals);
            struct value_row *r = &ch->vals[ch->nvals++];
            r->d = d, r->id = id, r->seen = v->seen[id], r->events = v->events[id];
            r->value[0] = 0;
        }
    }
}

/* Puts changes that could not be written back (mu held); seen times are found again. */
static void untake_changes(struct qoe_cube *c, struct changes *ch)
{
    for (size_t i = 0; i < ch->ngone; i++) {
        c->swept_vals =
            oc_grow(c->swept_vals, &c->capswept_vals, c->nswept_vals + 1, sizeof *c->swept_vals);
        c->swept_vals[c->nswept_vals++] = ch->gone[i];
    }
    for (size_t i = 0; i < ch->nleaves; i++) {
        c->swept_leaves = oc_grow(c->swept_leaves, &c->capswept_leaves, c->nswept_leaves + 1,
                                  sizeof *c->swept_leaves);
        c->swept_leaves[c->nswept_leaves++] = ch->leaves[i].id;
    }
    for (size_t i = 0; i < ch->nvals; i++) {
        struct dict_values *v = &c->vals[ch->vals[i].d];
        if (!ch->vals[i].value[0])
            continue;
        v->reused = oc_grow(v->reused, &v->capreused, v->nreused + 1, sizeof *v->reused);
        v->reused[v->nreused++] = ch->vals[i].id;
    }
}

static int step_done(struct store_stmt *st)
{
    int rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
    store_reset(st);
    return rc;
}

/* Writes ch (inside the caller's transaction): deletions first, so a reused id's new row
 * replaces its old one. */
static int write_changes(struct store *s, const struct changes *ch)
{
    struct store_stmt *st;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ch->ngone; i++)
        if ((rc = store_prepare(s, QOE_SQL_VALUE_DEL, &st)) == 0) {
            STORE_BIND(st, STORE_INT((int64_t)(ch->gone[i] >> 32)),
                       STORE_INT((int64_t)(ch->gone[i] & 0xffffffffu)));
            rc = step_done(st);
        }
    for (size_t i = 0; rc == 0 && i < ch->nleaves; i++)
        if ((rc = store_prepare(s, QOE_SQL_LEAF_INS, &st)) == 0) {
            store_bind_int(st, 1, ch->leaves[i].id);
            store_bind_blob(st, 2, ch->leaves[i].dims, sizeof ch->leaves[i].dims);
            rc = step_done(st);
        }
    for (size_t i = 0; rc == 0 && i < ch->nvals; i++) {
        const struct value_row *r = &ch->vals[i];
        if (r->value[0] && (rc = store_prepare(s, QOE_SQL_VALUE_INS, &st)) == 0) {
            STORE_BIND(st, STORE_INT(r->d), STORE_INT(r->id), STORE_TEXT(r->value),
                       STORE_INT(r->seen), STORE_INT(r->events));
            rc = step_done(st);
        } else if (!r->value[0] && (rc = store_prepare(s, QOE_SQL_VALUE_SEEN, &st)) == 0) {
            STORE_BIND(st, STORE_INT(r->seen), STORE_INT(r->events), STORE_INT(r->d),
                       STORE_INT(r->id));
            rc = step_done(st);
        }
    }
    return rc;
}

/* Once written: the store's seen times (persisting thread). */
static void changes_written(struct qoe_cube *c, const struct changes *ch)
{
    for (size_t i = 0; i < ch->nvals; i++)
        c->vals[ch->vals[i].d].saved[ch->vals[i].id] = ch->vals[i].seen;
}

/* Writes values and leaves created since the last write (inside the caller's transaction). */
static int save_dicts(struct qoe_cube *c, struct store *s, uint32_t *vals, uint32_t *leaves)
{
    struct store_stmt *st;
    int rc = store_prepare(s, QOE_SQL_VALUE_INS, &st);
    for (int d = 0; rc == 0 && d < BEACON_NDIMS; d++) {
        vals[d] = qoe_cube_nvalues(c, d);
        for (uint32_t id = c->saved_values[d]; rc == 0 && id < vals[d]; id++) {
            /* ids past saved_values are written once, by this thread, before any sweep can
             * free them; their seen time is the one they were added with */
            const struct dict_values *v = &c->vals[d];
            STORE_BIND(st, STORE_INT(d), STORE_INT(id), STORE_TEXT(dict_value_str(v, id)),
                       STORE_INT(v->saved[id]), STORE_INT(0));
            rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
            store_reset(st);
        }
    }
    *leaves = qoe_cube_nleaves(c);
    if (rc == 0 && c->saved_leaves < *leaves) {
        rc = store_prepare(s, QOE_SQL_LEAF_INS, &st);
        for (uint32_t id = c->saved_leaves; rc == 0 && id < *leaves; id++) {
            store_bind_int(st, 1, id);
            store_bind_blob(st, 2, qoe_cube_leaf_dims(c, id), BEACON_NDIMS * sizeof(uint32_t));
            rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
            store_reset(st);
        }
    }
    return rc;
}

/* Takes the queue (so the lock is not held while writing). */
static struct pend_minute *take_queue(struct qoe_cube *c, size_t *n)
{
    pthread_mutex_lock(&c->mu);
    struct pend_minute *p = c->pend;
    *n = c->npend;
    c->pend = NULL;
    c->npend = c->cappend = 0;
    pthread_mutex_unlock(&c->mu);
    return p;
}

/* Puts minutes that could not be written back at the front of the queue. */
static void requeue(struct qoe_cube *c, struct pend_minute *p, size_t n)
{
    pthread_mutex_lock(&c->mu);
    size_t total = n + c->npend;
    struct pend_minute *q = oc_malloc((total ? total : 1) * sizeof *q);
    memcpy(q, p, n * sizeof *q);
    if (c->npend)
        memcpy(q + n, c->pend, c->npend * sizeof *q);
    free(c->pend);
    c->pend = q;
    c->npend = c->cappend = total;
    pthread_mutex_unlock(&c->mu);
}

/* Writes what sweeps and reused ids changed, in a transaction of its own. */
static int persist_changes(struct qoe_cube *c, struct store *s)
{
    struct changes ch;
    pthread_mutex_lock(&c->mu);
    take_changes(c, &ch);
    pthread_mutex_unlock(&c->mu);
    int rc = 0;
    if (ch.ngone || ch.nleaves || ch.nvals) {
        if ((rc = store_begin(s)) == 0) {
            rc = write_changes(s, &ch);
            if (rc == 0)
                rc = store_commit(s);
            else
                store_rollback(s);
        }
    }
    if (rc == 0) {
        changes_written(c, &ch);
    } else {
        oc_log(OC_LOG_ERROR, "ingest: writing aged and reused dimension values failed: %s",
               store_errmsg(s));
        pthread_mutex_lock(&c->mu);
        untake_changes(c, &ch);
        pthread_mutex_unlock(&c->mu);
    }
    changes_free(&ch);
    return rc;
}

int qoe_cube_persist(struct qoe_cube *c, struct store *s)
{
    size_t n, done = 0;
    uint32_t vals[BEACON_NDIMS], leaves;
    int rc = persist_changes(c, s);
    if (rc != 0)
        return rc;
    struct pend_minute *p = take_queue(c, &n);
    for (; done < n; done++) {
        if ((rc = store_begin(s)) != 0)
            break;
        rc = save_dicts(c, s, vals, &leaves);
        if (rc == 0)
            rc = exec_blob(s, QOE_SQL_MINUTE_INS, 60, p[done].t, p[done].blob, p[done].len);
        if (rc == 0)
            rc = store_commit(s);
        else
            store_rollback(s);
        if (rc != 0)
            break;
        memcpy(c->saved_values, vals, sizeof vals);
        c->saved_leaves = leaves;
        free(p[done].blob);
    }
    if (rc != 0) {
        oc_log(OC_LOG_ERROR, "ingest: writing minute %lld failed: %s", (long long)p[done].t,
               store_errmsg(s));
        requeue(c, p + done, n - done);
    }
    free(p);
    return rc != 0 ? rc : (int)done;
}

void qoe_cube_persist_none(struct qoe_cube *c)
{
    struct changes ch;
    size_t n;
    pthread_mutex_lock(&c->mu);
    take_changes(c, &ch);
    pthread_mutex_unlock(&c->mu);
    changes_written(c, &ch);
    changes_free(&ch);
    struct pend_minute *p = take_queue(c, &n);
    for (size_t i = 0; i < n; i++)
        free(p[i].blob);
    free(p);
}

static int load_values(struct qoe_cube *c, struct store *s, char *err, size_t errlen)
{
    struct store_stmt *st;
    int rc = store_prepare(s, QOE_SQL_VALUES, &st), r;
    while (rc == 0 && (r = store_step(st)) == STORE_ROW) {
        int64_t d = store_col_int(st, 0), id = store_col_int(st, 1);
        const char *v = store_col_text(st, 2);
        int64_t ev = store_col_int(st, 4);
        ev = ev < 0 ? 0 : ev > UINT32_MAX ? UINT32_MAX : ev;
        if (d < 0 || d >= BEACON_NDIMS || id < 0 || id > UINT32_MAX || !v ||
            dict_value_load(&c->vals[d], (uint32_t)id, v, (uint32_t)strlen(v), store_col_int(st, 3),
                            (uint32_t)ev) != 0) {
            snprintf(err, errlen,
                     "qoe_values: value %lld of dimension %lld does not load (was "
                     "ingest.max_values_per_dim larger before?)",
                     (long long)id, (long long)d);
            rc = OC_EINVAL;
        }
    }
    store_reset(st);
    return rc;
}

static int load_leaves(struct qoe_cube *c, struct store *s, char *err, size_t errlen)
{
    struct store_stmt *st;
    int rc = store_prepare(s, QOE_SQL_LEAVES, &st), r;
    while (rc == 0 && (r = store_step(st)) == STORE_ROW) {
        int64_t id = store_col_int(st, 0);
        size_t n = 0;
        const void *blob = store_col_blob(st, 1, &n);
        uint32_t dims[BEACON_NDIMS];
        int ok = n == sizeof dims && id >= 0;
        if (ok)
            memcpy(dims, blob, sizeof dims);
        for (int d = 0; ok && d < BEACON_NDIMS; d++) {
            ok = dims[d] < qoe_cube_nvalues(c, d);
            if (ok && c->vals[d].isfree[dims[d]]) /* a value aged out after this was written */
                dims[d] = 1;
        }
        if (!ok || dict_leaf_load(&c->leaves, (uint32_t)id, dims) != 0) {
            snprintf(err, errlen,
                     "qoe_leaves: leaf %lld does not load (was ingest.max_leaves "
                     "larger before?)",
                     (long long)id);
            rc = OC_EINVAL;
        }
    }
    store_reset(st);
    return rc;
}

/* The newest stored minute (sql QOE_SQL_LAST), or the end of the newest rollup row
 * (QOE_SQL_LAST_ROLL); INT64_MIN when none. */
static int64_t last_minute(struct store *s, const char *sql)
{
    struct store_stmt *st;
    int64_t t = INT64_MIN;
    if (store_prepare(s, sql, &st) != 0)
        return t;
    if (store_step(st) == STORE_ROW && !store_col_is_null(st, 0))
        t = store_col_int(st, 0);
    store_reset(st);
    return t;
}

/* Loads the memory_minutes newest stored minutes into the ring (relative to the newest, not
 * to the clock, so a replayed day reloads too); everything stored counts as closed. Minutes
 * up to the end of the newest rollup row are stored only: the memory window starts there. */
static int load_minutes(struct qoe_cube *c, struct store *s)
{
    struct store_stmt *st;
    int64_t last = last_minute(s, QOE_SQL_LAST), roll = last_minute(s, QOE_SQL_LAST_ROLL);
    if (roll != INT64_MIN) {
        atomic_store(&c->mem_lo_s, roll);
        if (roll > c->closed_upto_s)
            c->closed_upto_s = c->complete_upto_s = roll;
    }
    if (last == INT64_MIN)
        return 0;
    int rc = store_prepare(s, QOE_SQL_MINUTES, &st), r;
    if (rc != 0)
        return rc;
    store_bind_int(st, 1, last - (c->o.memory_minutes - 1) * 60);
    while ((r = store_step(st)) == STORE_ROW) {
        size_t n = 0;
        int64_t t = store_col_int(st, 0);
        const void *blob = store_col_blob(st, 1, &n);
        struct qoe_minute *cm = minute_decode(t, blob, n, qoe_cube_nleaves(c));
        if (cm)
            cube_install_minute(c, cm);
        else
            oc_log(OC_LOG_WARN, "ingest: stored minute %lld is damaged; skipped", (long long)t);
    }
    store_reset(st);
    if (last + 60 > c->closed_upto_s)
        c->closed_upto_s = c->complete_upto_s = last + 60;
    return 0;
}

int qoe_cube_load(struct qoe_cube *c, struct store *s, char *err, size_t errlen)
{
    store_lock(s);
    pthread_mutex_lock(&c->mu);
    int rc = load_values(c, s, err, errlen);
    if (rc == 0)
        rc = load_leaves(c, s, err, errlen);
    if (rc == 0 && (rc = load_minutes(c, s)) != 0)
        snprintf(err, errlen, "qoe_minutes: %s", store_errmsg(s));
    if (rc == 0) {
        for (int d = 0; d < BEACON_NDIMS; d++)
            c->saved_values[d] = qoe_cube_nvalues(c, d);
        c->saved_leaves = qoe_cube_nleaves(c);
        c->persist = 1;
        c->store = s;
    }
    pthread_mutex_unlock(&c->mu);
    store_unlock(s);
    return rc;
}

static int64_t oldest(struct store *s, int res)
{
    struct store_stmt *st;
    int64_t t = INT64_MAX;
    if (store_prepare(s, QOE_SQL_OLDEST, &st) != 0)
        return t;
    store_bind_int(st, 1, res);
    if (store_step(st) == STORE_ROW && !store_col_is_null(st, 0))
        t = store_col_int(st, 0);
    store_reset(st);
    return t;
}

/* Decodes the rows of resolution res in [from, to) into ms (at most max), setting their
 * resolution (a v1 blob does not carry it); returns how many. */
static int read_rows(struct qoe_cube *c, struct store *s, int res, int64_t from, int64_t to,
                     struct qoe_minute **ms, int max)
{
    struct store_stmt *st;
    int n = 0;
    if (store_prepare(s, QOE_SQL_RANGE, &st) != 0)
        return 0;
    STORE_BIND(st, STORE_INT(res), STORE_INT(from), STORE_INT(to));
    while (n < max && store_step(st) == STORE_ROW) {
        size_t len = 0;
        const void *blob = store_col_blob(st, 1, &len);
        ms[n] = minute_decode(store_col_int(st, 0), blob, len, qoe_cube_nleaves(c));
        if (ms[n] && ms[n]->det_n && ms[n]->res != res) {
            qoe_minute_destroy(ms[n]);
            ms[n] = NULL;
        }
        if (ms[n])
            ms[n++]->res = res;
    }
    store_reset(st);
    return n;
}

/* Merges the rows of resolution res in [b, b + to_res) into one row of to_res (lock held),
 * together with a row of to_res already at b (a minute written late, after its bucket had
 * rolled up, must not replace the bucket). */
static int rollup_bucket(struct qoe_cube *c, struct store *s, int res, int to_res, int64_t b)
{
    struct qoe_minute *ms[61];
    struct store_stmt *st;
    int rc = 0, n = read_rows(c, s, res, b, b + to_res, ms, 60);
    n += read_rows(c, s, to_res, b, b + 1, ms + n, 1);
    struct qoe_minute *m = minute_merge(b, to_res, ms, n);
    size_t len;
    void *blob = minute_encode(m, &len);
    rc = store_prepare(s, QOE_SQL_DEL_RANGE, &st);
    if (rc == 0) {
        STORE_BIND(st, STORE_INT(res), STORE_INT(b), STORE_INT(b + to_res));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    if (rc == 0)
        rc = exec_blob(s, QOE_SQL_MINUTE_INS, to_res, b, blob, len);
    free(blob);
    qoe_minute_destroy(m);
    for (int i = 0; i < n; i++)
        qoe_minute_destroy(ms[i]);
    return rc;
}

/* Rolls rows of res older than cutoff up into to_res, at most max buckets. */
static int rollup(struct qoe_cube *c, struct store *s, int res, int to_res, int64_t cutoff, int max)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < max; i++) {
        int64_t t = oldest(s, res);
        int64_t b = t - ((t % to_res) + to_res) % to_res;
        if (t == INT64_MAX || b + to_res > cutoff)
            break;
        if ((rc = store_begin(s)) != 0)
            break;
        rc = rollup_bucket(c, s, res, to_res, b);
        if (rc == 0)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    return rc;
}

int qoe_cube_compact(struct qoe_cube *c, struct store *s, int64_t now_s)
{
    static const int res[] = {60, 300, 3600};
    store_lock(s); /* a history query holding the lock sees no row move */
    int rc = rollup(c, s, 60, 300, now_s - c->o.rollup_5m_after_s, 48);
    if (rc == 0)
        rc = rollup(c, s, 300, 3600, now_s - c->o.rollup_1h_after_s, 4);
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = exec_blob(s, QOE_SQL_DEL_OLD, res[i], now_s - c->o.retention_days * 86400, NULL, 0);
    if (rc != 0)
        oc_log(OC_LOG_ERROR, "ingest: compacting the stored minutes failed: %s", store_errmsg(s));
    store_unlock(s);
    return rc;
}
