/*
 * history.c - reading the stored rows of the cube (qoe_minutes) for queries over ranges older
 * than the minutes held in memory. Rows stream one at a time (one decoded row in memory), at
 * whatever resolution each span is stored in: rollups delete the rows they merge in the same
 * transaction, so every span is in exactly one row. The caller holds the store lock (through
 * qoe_cube_history_begin) for the whole query so that no rollup moves rows under it.
 */
#include "qoe/qoe_int.h"
#include "qoe/persist.h"
#include "qoe/minute.h"
#include "qoe/sql.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

static const int hist_res[] = {60, 300, 3600};
#define HIST_NRES ((int)(sizeof hist_res / sizeof *hist_res))

int qoe_cube_history_begin(struct qoe_cube *c)
{
    struct store *s = c->store;
    if (!s)
        return 0;
    store_lock(s);
    return 1;
}

void qoe_cube_history_end(struct qoe_cube *c)
{
    store_unlock(c->store);
}

int64_t qoe_cube_history_cover(struct qoe_cube *c, int64_t t)
{
    struct store_stmt *st;
    int64_t end = INT64_MIN;
    for (int i = 0; i < HIST_NRES; i++) {
        if (store_prepare(c->store, QOE_SQL_HIST_LAST, &st) != 0)
            break;
        store_bind_int(st, 1, hist_res[i]);
        store_bind_int(st, 2, t);
        if (store_step(st) == STORE_ROW && !store_col_is_null(st, 0)) {
            int64_t e = store_col_int(st, 0) + hist_res[i];
            end = e > end ? e : end;
        }
        store_reset(st);
    }
    return end;
}

/* Streams the rows of one resolution; 0 or OC_EDB. */
static int scan_res(struct qoe_cube *c, int res, int64_t from, int64_t to,
                    void (*fn)(void *arg, const struct qoe_minute *row), void *arg)
{
    struct store_stmt *st;
    int r, rc = store_prepare(c->store, QOE_SQL_HIST_ROWS, &st);
    if (rc != 0)
        return rc;
    STORE_BIND(st, STORE_INT(res), STORE_INT(from), STORE_INT(to));
    uint32_t nleaves = qoe_cube_nleaves(c);
    while ((r = store_step(st)) == STORE_ROW) {
        size_t len = 0;
        int64_t t = store_col_int(st, 0);
        const void *blob = store_col_blob(st, 1, &len);
        struct qoe_minute *m = minute_decode(t, blob, len, nleaves);
        if (m && m->det_n && m->res != res) {
            qoe_minute_destroy(m);
            m = NULL;
        }
        if (!m) {
            oc_log(OC_LOG_WARN, "qoe: stored row %d/%lld is damaged; skipped", res, (long long)t);
            continue;
        }
        m->res = res; /* a v1 blob does not carry it */
        fn(arg, m);
        qoe_minute_destroy(m);
    }
    rc = r == STORE_DONE ? 0 : OC_EDB;
    store_reset(st);
    return rc;
}

int qoe_cube_history_scan(struct qoe_cube *c, int64_t from, int64_t to,
                          void (*fn)(void *arg, const struct qoe_minute *row), void *arg)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < HIST_NRES; i++)
        rc = scan_res(c, hist_res[i], from, to, fn, arg);
    if (rc != 0)
        oc_log(OC_LOG_ERROR, "qoe: reading stored history failed: %s", store_errmsg(c->store));
    return rc;
}

/* Passes on the stored rows of a scan that start inside it (a rollup may start before). */
struct scan_clip {
    int64_t from, to;
    void (*fn)(void *arg, const struct qoe_minute *m);
    void *arg;
};

static void clip_row(void *arg, const struct qoe_minute *m)
{
    const struct scan_clip *k = arg;
    if (m->t >= k->from && m->t < k->to)
        k->fn(k->arg, m);
}

int qoe_cube_scan(struct qoe_cube *c, int64_t from, int64_t to,
                  void (*fn)(void *arg, const struct qoe_minute *m), void *arg)
{
    int64_t lo, hi, cover = INT64_MIN;
    int hist = qoe_cube_history_begin(c), rc = 0;
    qoe_cube_read_begin(c);
    qoe_cube_window(c, &lo, &hi);
    if (hist)
        cover = qoe_cube_history_cover(c, lo);
    int64_t t0 = from > lo ? from : lo, t1 = to < hi ? to : hi;
    if (cover > t0)
        t0 = cover;
    t0 += (60 - t0 % 60) % 60;
    for (int64_t t = t0; t < t1; t += 60) {
        const struct qoe_minute *m = qoe_cube_minute(c, t);
        if (m)
            fn(arg, m);
    }
    qoe_cube_read_end(c);
    if (hist) {
        struct scan_clip k = {from, to, fn, arg};
        int64_t h1 = lo < to ? lo : to;
        if (from < h1)
            rc = qoe_cube_history_scan(c, from, h1, clip_row, &k);
        qoe_cube_history_end(c);
    }
    return rc;
}
