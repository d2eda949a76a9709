/*
 * query.c - qoe_query_run: filter, group, rank and aggregate closed minutes of the cube.
 *
 * Three steps, all under the cube's read lock: map every leaf to its group (or -1 when the
 * filter excludes it); scan the minutes once for each group's volume and keep the top k; scan
 * again accumulating each kept group's numerators and denominators per step, closing the
 * per-minute metrics at the end of each minute. Values follow docs/contracts.md "Metrics"
 * exactly. A range reaching before the minutes in memory also streams the stored rows
 * (history.c in ingest) under the store lock, taken before the read lock; see
 * docs/internals/ingest.md (the scan) and docs/internals/qoe.md (the metric table every value
 * comes from).
 */
#include "qoe/qoe.h"
#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes a detail naming the parameter into err and evaluates to OC_EINVAL. */
#define INVALID(...) (snprintf(err, errlen, __VA_ARGS__), OC_EINVAL)

/* Which fields a metric reads: the scan loop touches only those. */
enum mclass { MC_START, MC_PLAY, MC_SESS, MC_SKETCH, MC_EDGE, MC_ERR };

/* The fields a metric's numerator lives with (ratio and sum metrics). */
static const enum mclass col_class[QOE_NCOLS] = {
    [QOE_COL_STARTS] = MC_START,   [QOE_COL_FAILS] = MC_START,      [QOE_COL_EXITS] = MC_START,
    [QOE_COL_OK] = MC_START,       [QOE_COL_PLAYING] = MC_PLAY,     [QOE_COL_REBUFFER] = MC_PLAY,
    [QOE_COL_WATCH] = MC_PLAY,     [QOE_COL_BITRATE] = MC_PLAY,     [QOE_COL_HB] = MC_SESS,
    [QOE_COL_RB] = MC_SESS,        [QOE_COL_SKETCH] = MC_SKETCH,    [QOE_COL_EDGE_REQ] = MC_EDGE,
    [QOE_COL_EDGE_5XX] = MC_EDGE,  [QOE_COL_EDGE_MISS] = MC_EDGE,   [QOE_COL_EDGE_ORIGIN] = MC_EDGE,
    [QOE_COL_EDGE_TTFB] = MC_EDGE, [QOE_COL_EDGE_TTFB_N] = MC_EDGE, [QOE_COL_ERRORS] = MC_ERR,
};

/* The accumulators of one group over one step. */
#define CELL_CHUNK 64 /* steps of one series allocated together (cell_w) */

struct cell {
    uint64_t starts, fails, exits, ok;
    uint64_t errors; /* error events (MC_ERR, with hb_sum) */
    int64_t playing, rebuf;
    double br;
    double pm_sum;  /* per-minute metrics: the minute's value summed over minutes with heartbeats */
    double hb_sum;  /* ... and the sessions with heartbeats (session-minutes) */
    uint32_t nmin;  /* minutes with heartbeats */
    uint32_t rows;  /* rows seen */
    uint32_t *hist; /* startup histogram (percentile metrics); owned */
    uint64_t e_req, e_5xx, e_miss, e_origin, e_ttfb_n; /* CDN edge columns */
    int64_t e_ttfb;
    uint32_t e_rows; /* rows with edge requests: an edge sum is null without any */
};

struct qrun {
    const struct qoe_query *q;
    const struct qoe_metric_def *md; /* q's metric */
    struct qoe_cube *c;
    uint32_t nleaves;
    int32_t *group_of; /* leaf -> group, -1 when filtered out */
    uint32_t *keys;    /* group -> ngroup value ids */
    uint32_t ngroups;
    size_t kcap;
    uint32_t *gmap; /* open addressing: group + 1 */
    uint32_t gmask;
    double *volume; /* per group */
    uint8_t *seen;  /* per group: had rows */
    int32_t *sel;   /* group -> series index, -1 when not kept */
    int nseries;
    int one_pass;         /* every group fits in top: no ranking pass, series = groups */
    int32_t *order;       /* series -> group */
    struct cell **chunks; /* nseries x nchunks of CELL_CHUNK cells, NULL until written */
    int nchunks;
    int64_t t_lo, t_hi; /* the minute starts to scan: the range within the cube's window */
    int npoints;
    uint32_t *allow[BEACON_NDIMS]; /* filter: allowed ids per dim (NULL: any) */
    int nallow[BEACON_NDIMS];
    enum mclass mc;
    uint64_t *mhb, *mrb; /* per series: sessions of the minute being scanned */
    /* history (stored rows), only when hist is 1: the store is locked */
    int hist;
    int64_t h_hi;        /* stored rows starting before this are read (memory from t_lo) */
    int volumes_only;    /* the history pass ranks instead of accumulating */
    uint64_t *dhb, *drb; /* rollup rows: per series x minute of the row, the sessions */
};

/* Resolves the filter values to ids; a value never seen allows nothing. */
static void resolve_filter(struct qrun *r)
{
    for (int i = 0; i < r->q->nfilters; i++) {
        const struct qoe_filter *f = &r->q->filters[i];
        uint32_t id;
        if (!r->allow[f->dim])
            r->allow[f->dim] = oc_calloc(QOE_MAX_FILTERS, sizeof(uint32_t));
        if (qoe_cube_value_id(r->c, f->dim, f->value, strlen(f->value), &id) == 0)
            r->allow[f->dim][r->nallow[f->dim]++] = id;
    }
}

static int leaf_passes(const struct qrun *r, const uint32_t *dims)
{
    for (int d = 0; d < BEACON_NDIMS; d++) {
        if (!r->allow[d])
            continue;
        int ok = 0;
        for (int k = 0; k < r->nallow[d] && !ok; k++)
            ok = r->allow[d][k] == dims[d];
        if (!ok)
            return 0;
    }
    return 1;
}

static uint32_t key_hash(const uint32_t *k, int n)
{
    return (uint32_t)qoe_hash(k, (size_t)n * sizeof *k, 3);
}

static void gmap_grow(struct qrun *r)
{
    int n = r->q->ngroup;
    r->gmask = r->gmask ? r->gmask * 2 + 1 : 1023;
    free(r->gmap);
    r->gmap = oc_calloc((size_t)r->gmask + 1, sizeof *r->gmap);
    for (uint32_t g = 0; g < r->ngroups; g++) {
        uint32_t i = key_hash(r->keys + (size_t)g * n, n) & r->gmask;
        while (r->gmap[i])
            i = (i + 1) & r->gmask;
        r->gmap[i] = g + 1;
    }
}

/* The group of key (ngroup ids), added if new; -1 past QOE_MAX_GROUPS. */
static int32_t group_id(struct qrun *r, const uint32_t *key)
{
    int n = r->q->ngroup;
    uint32_t i = key_hash(key, n) & r->gmask;
    for (; r->gmap[i]; i = (i + 1) & r->gmask)
        if (memcmp(r->keys + (size_t)(r->gmap[i] - 1) * n, key, (size_t)n * sizeof *key) == 0)
            return (int32_t)(r->gmap[i] - 1);
    if (r->ngroups >= QOE_MAX_GROUPS)
        return -1;
    r->keys =
        oc_grow(r->keys, &r->kcap, (size_t)r->ngroups + 1, (size_t)(n ? n : 1) * sizeof *r->keys);
    memcpy(r->keys + (size_t)r->ngroups * n, key, (size_t)n * sizeof *key);
    r->gmap[i] = ++r->ngroups;
    if ((uint64_t)r->ngroups * 2 > r->gmask)
        gmap_grow(r);
    return (int32_t)(r->ngroups - 1);
}

/* Maps every leaf to its group; OC_EINVAL past QOE_MAX_GROUPS (the query must narrow). */
#define QRUN_SPARSE_MINUTES 15   /* ranges this short map only the leaves with rows */
#define QRUN_SPARSE_LEAVES  4096 /* ... in a cube with more leaves than this */

static int build_groups(struct qrun *r, char *err, size_t errlen)
{
    uint32_t key[BEACON_NDIMS];
    uint32_t none[1] = {0};
    uint8_t *present = NULL;
    r->nleaves = qoe_cube_nleaves(r->c);
    r->group_of = oc_malloc(((size_t)r->nleaves + 1) * sizeof *r->group_of);
    gmap_grow(r);
    if (r->q->ngroup == 0)
        group_id(r, none); /* the one group {} always exists */
    /* a few minutes in memory (an alert rule's minute): only the leaves with rows in them are
     * looked at, not every leaf the cube has seen (leaf order, hence group order, is kept) */
    if (!r->hist && r->t_hi - r->t_lo <= 60 * QRUN_SPARSE_MINUTES &&
        r->nleaves > QRUN_SPARSE_LEAVES) {
        present = oc_calloc((size_t)r->nleaves + 1, 1);
        for (int64_t t = r->t_lo; t < r->t_hi; t += 60) {
            const struct qoe_minute *m = qoe_cube_minute(r->c, t);
            for (uint32_t i = 0; m && i < m->nrows; i++)
                if (m->leaf[i] < r->nleaves)
                    present[m->leaf[i]] = 1;
        }
    }
    for (uint32_t l = 0; l < r->nleaves; l++) {
        r->group_of[l] = -1;
        if (present && !present[l])
            continue;
        const uint32_t *dims = qoe_cube_leaf_dims(r->c, l);
        if (!leaf_passes(r, dims))
            continue;
        for (int i = 0; i < r->q->ngroup; i++)
            key[i] = dims[r->q->group_by[i]];
        r->group_of[l] = group_id(r, key);
        if (r->group_of[l] < 0) {
            free(present);
            return INVALID("group_by: more than %d groups; narrow the filter", QOE_MAX_GROUPS);
        }
    }
    free(present);
    return 0;
}

/* The first minute start at or after t. */
static int64_t minute_ceil(int64_t t)
{
    int64_t m = t - (t % 60 + 60) % 60;
    return m < t ? m + 60 : m;
}

/* Adds the rows of one minute (or stored row) to the groups' volumes: what top-k ranks a
 * group by is the metric's volume column (docs/internals/qoe.md). */
static void minute_volumes(struct qrun *r, const struct qoe_minute *m)
{
    enum qoe_col vc = r->md->volume;
    for (uint32_t i = 0; i < m->nrows; i++) {
        int32_t g = m->leaf[i] < r->nleaves ? r->group_of[m->leaf[i]] : -1;
        if (g < 0)
            continue;
        r->volume[g] += qoe_col_value(vc, m, i);
        r->seen[g] = 1;
    }
}

static void scan_volumes(struct qrun *r)
{
    for (int64_t t = r->t_lo; t < r->t_hi; t += 60) {
        const struct qoe_minute *m = qoe_cube_minute(r->c, t);
        if (m)
            minute_volumes(r, m);
    }
}

static _Thread_local const struct qrun *sort_run; /* qsort has no context argument */

static int key_cmp(int32_t a, int32_t b)
{
    const struct qrun *r = sort_run;
    for (int i = 0; i < r->q->ngroup; i++) {
        int d = r->q->group_by[i];
        const char *x = qoe_cube_value(r->c, d, r->keys[(size_t)a * r->q->ngroup + i]);
        const char *y = qoe_cube_value(r->c, d, r->keys[(size_t)b * r->q->ngroup + i]);
        int c = strcmp(x, y);
        if (c)
            return c;
    }
    return 0;
}

static int rank_cmp(const void *pa, const void *pb)
{
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    double va = sort_run->volume[a], vb = sort_run->volume[b];
    if (va != vb)
        return va > vb ? -1 : 1;
    return key_cmp(a, b);
}

/* Ranks the groups with rows (or every group without a group_by) by volume, ties by value. */
static int32_t *rank_groups(struct qrun *r, int *n)
{
    int32_t *ids = oc_malloc(((size_t)r->ngroups + 1) * sizeof *ids);
    *n = 0;
    for (uint32_t g = 0; g < r->ngroups; g++)
        if (r->seen[g] || r->q->ngroup == 0)
            ids[(*n)++] = (int32_t)g;
    sort_run = r;
    qsort(ids, (size_t)*n, sizeof *ids, rank_cmp);
    return ids;
}

/* Allocates the selection; when every group fits in top, selects them all (one pass). */
static void select_begin(struct qrun *r)
{
    r->sel = oc_malloc(((size_t)r->ngroups + 1) * sizeof *r->sel);
    r->volume = oc_calloc((size_t)r->ngroups + 1, sizeof *r->volume);
    r->seen = oc_calloc((size_t)r->ngroups + 1, 1);
    if (r->ngroups <= (uint32_t)r->q->top) {
        r->one_pass = 1;
        r->nseries = (int)r->ngroups;
        for (uint32_t g = 0; g < r->ngroups; g++)
            r->sel[g] = (int32_t)g;
    }
}

/* Keeps the top groups by the volumes of the ranking pass. */
static void select_rank(struct qrun *r)
{
    int n;
    r->order = rank_groups(r, &n);
    r->nseries = n < r->q->top ? n : r->q->top;
    for (uint32_t g = 0; g < r->ngroups; g++)
        r->sel[g] = -1;
    for (int s = 0; s < r->nseries; s++)
        r->sel[r->order[s]] = s;
}

/* Chooses the groups to accumulate: all of them when they fit in top (one pass), else the
 * top by volume after a ranking pass over the minutes in memory. */
static void select_top(struct qrun *r)
{
    select_begin(r);
    if (r->one_pass)
        return;
    scan_volumes(r);
    select_rank(r);
}

/* The fields the scan reads for metric d. */
static enum mclass metric_class(const struct qoe_metric_def *d)
{
    if (d->cls == QOE_CLASS_PERCENTILE)
        return MC_SKETCH;
    if (d->cls == QOE_CLASS_PER_MINUTE)
        return MC_SESS;
    return col_class[d->num];
}

/* A per-minute metric's value over one minute of a group with hb > 0 sessions with
 * heartbeats, rb of them rebuffering. */
static double minute_value(const struct qoe_metric_def *d, uint64_t hb, uint64_t rb)
{
    double num = (double)(d->num == QOE_COL_RB ? rb : hb);
    if (d->den == QOE_COL_NONE)
        return num;
    return num / (double)(d->den == QOE_COL_RB ? rb : hb);
}

/* Column col summed over the rows of a cell (QOE_COL_HB: session-minutes). */
static double cell_col(enum qoe_col col, const struct cell *c)
{
    switch (col) {
    case QOE_COL_STARTS:
        return (double)c->starts;
    case QOE_COL_FAILS:
        return (double)c->fails;
    case QOE_COL_EXITS:
        return (double)c->exits;
    case QOE_COL_OK:
        return (double)c->ok;
    case QOE_COL_PLAYING:
        return (double)c->playing;
    case QOE_COL_REBUFFER:
        return (double)c->rebuf;
    case QOE_COL_WATCH:
        return (double)(c->playing + c->rebuf);
    case QOE_COL_BITRATE:
        return c->br;
    case QOE_COL_HB:
        return c->hb_sum;
    case QOE_COL_EDGE_REQ:
        return (double)c->e_req;
    case QOE_COL_EDGE_5XX:
        return (double)c->e_5xx;
    case QOE_COL_EDGE_MISS:
        return (double)c->e_miss;
    case QOE_COL_EDGE_ORIGIN:
        return (double)c->e_origin;
    case QOE_COL_EDGE_TTFB:
        return (double)c->e_ttfb;
    case QOE_COL_EDGE_TTFB_N:
        return (double)c->e_ttfb_n;
    case QOE_COL_ERRORS:
        return (double)c->errors;
    default:
        return 0;
    }
}

static void cell_sketch(struct cell *c, const struct qoe_minute *m, uint32_t i)
{
    for (uint32_t k = m->sk_off[i]; k < m->sk_off[i] + m->sk_n[i]; k++) {
        if (!c->hist)
            c->hist = oc_calloc(QOE_SKETCH_NB, sizeof *c->hist);
        c->hist[QOE_SK_BUCKET(m->sk[k])] += QOE_SK_COUNT(m->sk[k]);
        c->ok += QOE_SK_COUNT(m->sk[k]);
    }
}

/* The series of row i, or -1 when the filter or top-k excludes it. */
static inline int row_series(const struct qrun *r, const struct qoe_minute *m, uint32_t i)
{
    uint32_t leaf = m->leaf[i];
    int32_t g = leaf < r->nleaves ? r->group_of[leaf] : -1;
    return g < 0 ? -1 : r->sel[g];
}

/* The cell of series s at step k for writing: its chunk is allocated on first use. A series'
 * steps are allocated CELL_CHUNK at a time, only where rows fall: a long range over a short
 * history would else hold nseries x npoints cells (152 bytes each), and reading the untouched
 * ones costs their pages where the kernel maps no shared zero page on a read fault. */
static struct cell *cell_w(struct qrun *r, int s, int k)
{
    struct cell **ch = &r->chunks[(size_t)s * (size_t)r->nchunks + (size_t)(k / CELL_CHUNK)];
    if (!*ch)
        *ch = oc_calloc(CELL_CHUNK, sizeof **ch);
    return &(*ch)[k % CELL_CHUNK];
}

static const struct cell empty_cell;

/* The cell of series s at step k for reading: an empty one where nothing was written. */
static const struct cell *cell_r(const struct qrun *r, int s, int k)
{
    const struct cell *ch = r->chunks[(size_t)s * (size_t)r->nchunks + (size_t)(k / CELL_CHUNK)];
    return ch ? &ch[k % CELL_CHUNK] : &empty_cell;
}

/* One minute: the columns the metric class needs into the cells of step k. */
static void scan_minute(struct qrun *r, const struct qoe_minute *m, int k, uint64_t *mhb,
                        uint64_t *mrb, enum mclass mc)
{
    for (uint32_t i = 0; i < m->nrows; i++) {
        int s = row_series(r, m, i);
        if (s < 0)
            continue;
        struct cell *c = cell_w(r, s, k);
        c->rows++;
        switch (mc) {
        case MC_START:
            c->starts += m->starts[i], c->fails += m->fails[i], c->exits += m->exits[i];
            break;
        case MC_PLAY:
            c->playing += m->playing_ms[i], c->rebuf += m->rebuffer_ms[i];
            c->br += m->bitrate_ms[i];
            break;
        case MC_SESS:
            mhb[s] += m->hb_sessions[i], mrb[s] += m->rb_sessions[i];
            break;
        case MC_SKETCH:
            cell_sketch(c, m, i);
            break;
        case MC_EDGE:
            if (m->edge_req) {
                c->e_rows += m->edge_req[i] > 0;
                c->e_req += m->edge_req[i], c->e_5xx += m->edge_5xx[i];
                c->e_miss += m->edge_miss[i], c->e_origin += m->edge_origin[i];
                c->e_ttfb += m->edge_ttfb_ms[i], c->e_ttfb_n += m->edge_ttfb_n[i];
            }
            break;
        case MC_ERR: /* over session-minutes: the rows' sessions add up (a rollup's too) */
            c->errors += m->errors ? m->errors[i] : 0;
            c->hb_sum += (double)m->hb_sessions[i];
            break;
        }
    }
    for (int s = 0; mc == MC_SESS && s < r->nseries; s++) {
        if (!mhb[s])
            continue;
        struct cell *c = cell_w(r, s, k);
        c->pm_sum += minute_value(r->md, mhb[s], mrb[s]);
        c->hb_sum += (double)mhb[s];
        c->nmin++;
        mhb[s] = mrb[s] = 0;
    }
}

/* One pass: each group's volume and whether it had rows, from its cells (as minute_volumes). */
static void volumes_from_cells(struct qrun *r)
{
    for (int s = 0; s < r->nseries; s++)
        for (int k = 0; k < r->npoints; k++) {
            const struct cell *c = cell_r(r, s, k);
            r->volume[s] += cell_col(r->md->volume, c);
            r->seen[s] |= c->rows > 0;
        }
}

/* Allocates the cells and scans the minutes in memory into them. */
static void scan_cells(struct qrun *r)
{
    r->mhb = oc_calloc((size_t)r->nseries + 1, sizeof *r->mhb);
    r->mrb = oc_calloc((size_t)r->nseries + 1, sizeof *r->mrb);
    r->nchunks = (r->npoints + CELL_CHUNK - 1) / CELL_CHUNK;
    r->chunks = oc_calloc((size_t)r->nseries * (size_t)r->nchunks + 1, sizeof *r->chunks);
    for (int64_t t = r->t_lo; t < r->t_hi; t += 60) {
        const struct qoe_minute *m = qoe_cube_minute(r->c, t);
        if (m)
            scan_minute(r, m, (int)((t - r->q->from) / r->q->step), r->mhb, r->mrb, r->mc);
    }
}

/* A rollup row under a per-minute metric: each of its minutes inside [from, to) is a minute
 * of its own step (exact, from the row's per-minute detail; a row without detail adds
 * nothing). In the ranking pass: session-minutes into the groups' volumes. */
static void rollup_sess(struct qrun *r, const struct qoe_minute *m)
{
    const struct qoe_query *q = r->q;
    for (uint32_t i = 0; m->det_n && i < m->nrows; i++) {
        int32_t g = m->leaf[i] < r->nleaves ? r->group_of[m->leaf[i]] : -1;
        int s = g < 0 ? -1 : r->volumes_only ? 0 : r->sel[g];
        if (s >= 0 && m->t >= q->from && m->t < q->to) { /* the row itself, as a minute's */
            if (r->volumes_only)
                r->seen[g] = 1;
            else
                cell_w(r, s, (int)((m->t - q->from) / q->step))->rows++;
        }
        for (uint32_t k = m->det_off[i]; s >= 0 && k < m->det_off[i] + m->det_n[i]; k++) {
            const struct qoe_det *d = &m->det[k];
            int64_t tm = m->t + 60 * (int64_t)d->min;
            if (tm < q->from || tm >= q->to)
                continue;
            if (r->volumes_only) {
                r->volume[g] += d->hb, r->seen[g] = 1;
                continue;
            }
            r->dhb[(size_t)s * 60 + d->min] += d->hb;
            r->drb[(size_t)s * 60 + d->min] += d->rb;
        }
    }
    for (int j = 0; !r->volumes_only && j < m->res / 60; j++) {
        int64_t tm = m->t + 60 * (int64_t)j;
        if (tm < q->from || tm >= q->to)
            continue;
        int k = (int)((tm - q->from) / q->step);
        for (int s = 0; s < r->nseries; s++) {
            uint64_t *hb = &r->dhb[(size_t)s * 60 + j], *rb = &r->drb[(size_t)s * 60 + j];
            if (!*hb)
                continue;
            struct cell *c = cell_w(r, s, k);
            c->pm_sum += minute_value(r->md, *hb, *rb);
            c->hb_sum += (double)*hb;
            c->nmin++, c->rows++;
            *hb = *rb = 0;
        }
    }
}

/* One stored row (qoe_cube_history_scan callback). A row counts in the step of its
 * start when that start lies in [from, to), like a minute; rollup rows under a per-minute
 * metric count minute by minute (rollup_sess). */
static void hist_row(void *arg, const struct qoe_minute *m)
{
    struct qrun *r = arg;
    const struct qoe_query *q = r->q;
    if (m->res != 60 && r->mc == MC_SESS) {
        rollup_sess(r, m);
        return;
    }
    if (m->t < q->from || m->t >= q->to)
        return;
    if (r->volumes_only)
        minute_volumes(r, m);
    else
        scan_minute(r, m, (int)((m->t - q->from) / q->step), r->mhb, r->mrb, r->mc);
}

static double ratio(double num, double den)
{
    return den > 0 ? num / den : NAN;
}

/* Metric d's value of one cell (NAN = null), by its class. */
static double cell_value(const struct qoe_metric_def *d, const struct cell *c)
{
    uint64_t hist64[QOE_SKETCH_NB];
    switch (d->cls) {
    case QOE_CLASS_RATIO:
        return ratio(cell_col(d->num, c), cell_col(d->den, c));
    case QOE_CLASS_PER_MINUTE:
        return ratio(c->pm_sum, c->nmin);
    case QOE_CLASS_SUM: /* an edge sum counts only where CDN logs came in */
        if (col_class[d->num] == MC_EDGE)
            return c->e_rows ? cell_col(d->num, c) : NAN;
        return c->rows ? cell_col(d->num, c) : NAN;
    case QOE_CLASS_PERCENTILE:
        if (!c->hist)
            return NAN;
        for (int i = 0; i < QOE_SKETCH_NB; i++)
            hist64[i] = c->hist[i];
        return qoe_sketch_quantile(hist64, c->ok, d->quantile);
    default:
        return NAN;
    }
}

static struct qoe_result *build_result(struct qrun *r)
{
    struct qoe_result *res = oc_calloc(1, sizeof *res);
    int n = r->nseries;
    if (r->one_pass) /* the groups with rows, by volume */
        r->order = rank_groups(r, &n);
    res->npoints = r->npoints;
    res->nseries = n;
    res->series = oc_calloc((size_t)n + 1, sizeof *res->series);
    for (int s = 0; s < n; s++) {
        struct qoe_series *se = &res->series[s];
        int32_t g = r->order[s];
        int cs = r->sel[g]; /* the series whose cells hold group g */
        for (int i = 0; i < r->q->ngroup; i++)
            se->values[i] =
                qoe_cube_value(r->c, r->q->group_by[i], r->keys[(size_t)g * r->q->ngroup + i]);
        se->volume = r->volume[g];
        se->points = oc_malloc((size_t)r->npoints * sizeof *se->points);
        for (int k = 0; k < r->npoints; k++)
            se->points[k] = cell_value(r->md, cell_r(r, cs, k));
    }
    return res;
}

static void qrun_free(struct qrun *r)
{
    for (size_t i = 0; r->chunks && i < (size_t)r->nseries * (size_t)r->nchunks; i++) {
        for (int k = 0; r->chunks[i] && k < CELL_CHUNK; k++)
            free(r->chunks[i][k].hist);
        free(r->chunks[i]);
    }
    for (int d = 0; d < BEACON_NDIMS; d++)
        free(r->allow[d]);
    free(r->chunks);
    free(r->mhb);
    free(r->mrb);
    free(r->dhb);
    free(r->drb);
    free(r->group_of);
    free(r->keys);
    free(r->gmap);
    free(r->volume);
    free(r->seen);
    free(r->sel);
    free(r->order);
}

int64_t qoe_max_points(enum qoe_metric m)
{
    return qoe_metrics[m].cls == QOE_CLASS_PERCENTILE ? QOE_MAX_HIST : QOE_MAX_POINTS;
}

int qoe_query_check(const struct qoe_query *q, char *err, size_t errlen)
{
    if ((int)q->metric < 0 || q->metric >= QOE_NMETRICS)
        return INVALID("metric: unknown");
    if (q->from < 0 || q->from > QOE_MAX_TIME)
        return INVALID("from: unix seconds, 0 to %lld", (long long)QOE_MAX_TIME);
    if (q->to < 0 || q->to > QOE_MAX_TIME)
        return INVALID("to: unix seconds, 0 to %lld", (long long)QOE_MAX_TIME);
    if (q->to <= q->from)
        return INVALID("to: must be after from");
    if (q->step != q->to - q->from && (q->step < 60 || q->step % 60 != 0))
        return INVALID("step: a positive multiple of 60 seconds");
    int64_t n = (q->to - q->from + q->step - 1) / q->step;
    if (n > QOE_MAX_POINTS)
        return INVALID("step: more than %d points; use a larger step", QOE_MAX_POINTS);
    if (q->top < 1 || q->top > QOE_MAX_TOP)
        return INVALID("top: must be 1 to %d", QOE_MAX_TOP);
    /* without group_by there is one group whatever top says */
    if (qoe_metrics[q->metric].cls == QOE_CLASS_PERCENTILE &&
        n * (q->ngroup ? q->top : 1) > QOE_MAX_HIST)
        return INVALID("step: percentiles allow at most %d groups x points (lower top or use a "
                       "larger step)",
                       QOE_MAX_HIST);
    return 0;
}

/* Takes the locks and sets the minutes to scan in memory: the store lock first (history)
 * when the range starts before the minutes in memory and the cube has a store, then the
 * ring's read lock. A stored rollup row that reaches into memory wins over those minutes. */
static void lock_range(struct qrun *r)
{
    int64_t lo, hi, from = minute_ceil(r->q->from);
    qoe_cube_window(r->c, &lo, &hi);
    if (lo > from)
        r->hist = qoe_cube_history_begin(r->c);
    qoe_cube_read_begin(r->c);
    qoe_cube_window(r->c, &lo, &hi); /* under the read lock: no minute comes or goes */
    if (!r->hist && lo > from) {     /* it moved since: retake in lock order */
        qoe_cube_read_end(r->c);
        r->hist = qoe_cube_history_begin(r->c);
        qoe_cube_read_begin(r->c);
        qoe_cube_window(r->c, &lo, &hi);
    }
    r->t_lo = lo > from ? lo : from;
    r->t_hi = hi < r->q->to ? hi : r->q->to;
    if (r->hist) {
        int64_t cover = qoe_cube_history_cover(r->c, lo);
        r->h_hi = lo < r->q->to ? lo : r->q->to;
        r->t_lo = cover > r->t_lo ? cover : r->t_lo;
    }
}

/* Streams the stored rows starting in [lo, hi) through hist_row; with reach, also rollup rows
 * starting up to an hour before lo, which may hold minutes of the range for the per-minute
 * metrics. */
static int scan_history(struct qrun *r, int64_t lo, int64_t hi, int reach)
{
    if (r->mc == MC_SESS && reach)
        lo -= 3600 - 60;
    if (!r->volumes_only && r->mc == MC_SESS && !r->dhb) {
        r->dhb = oc_calloc((size_t)r->nseries * 60 + 1, sizeof *r->dhb);
        r->drb = oc_calloc((size_t)r->nseries * 60 + 1, sizeof *r->drb);
    }
    return lo < hi ? qoe_cube_history_scan(r->c, lo, hi, hist_row, r) : 0;
}

/* The stored part of a query (store locked, read lock not held). With a ranking pass, the
 * stored rows add their volumes first, then the minutes in memory are scanned under the read
 * lock again; minutes that left memory meanwhile are read from the store. */
static int run_history(struct qrun *r, char *err, size_t errlen)
{
    int rc = 0;
    if (!r->one_pass) {
        r->volumes_only = 1;
        rc = scan_history(r, r->q->from, r->h_hi, 1);
        r->volumes_only = 0;
        select_rank(r);
        int64_t lo, hi, was = r->t_lo;
        qoe_cube_read_begin(r->c);
        qoe_cube_window(r->c, &lo, &hi);
        r->t_lo = lo > r->t_lo ? lo : r->t_lo;
        scan_cells(r);
        qoe_cube_read_end(r->c);
        if (rc == 0 && r->t_lo > was)
            rc = scan_history(r, was, r->t_lo < r->t_hi ? r->t_lo : r->t_hi, 0);
    }
    if (rc == 0)
        rc = scan_history(r, r->q->from, r->h_hi, 1);
    if (rc != 0)
        snprintf(err, errlen, "from: reading the stored history failed");
    return rc;
}

int qoe_query_run(struct qoe_cube *c, const struct qoe_query *q, struct qoe_result **out, char *err,
                  size_t errlen)
{
    struct qrun r;
    memset(&r, 0, sizeof r);
    r.q = q;
    r.c = c;
    int rc = qoe_query_check(q, err, errlen);
    if (rc != 0)
        return rc;
    r.npoints = (int)((q->to - q->from + q->step - 1) / q->step);
    r.md = &qoe_metrics[q->metric];
    r.mc = metric_class(r.md);
    resolve_filter(&r);
    lock_range(&r);
    rc = build_groups(&r, err, errlen);
    if (rc == 0 && !r.hist) { /* memory only: everything under one read lock */
        select_top(&r);
        scan_cells(&r);
    } else if (rc == 0) {
        select_begin(&r);
        if (r.one_pass)
            scan_cells(&r);
        else
            scan_volumes(&r);
    }
    qoe_cube_read_end(c);
    if (rc == 0 && r.hist)
        rc = run_history(&r, err, errlen);
    if (r.hist)
        qoe_cube_history_end(c);
    if (rc == 0) {
        if (r.one_pass)
            volumes_from_cells(&r);
        *out = build_result(&r);
    }
    qrun_free(&r);
    return rc;
}

void qoe_result_destroy(struct qoe_result *r)
{
    if (!r)
        return;
    for (int s = 0; s < r->nseries; s++)
        free(r->series[s].points);
    free(r->series);
    free(r);
}

double qoe_point(const struct qoe_result *r, int series, int k)
{
    return r->series[series].points[k];
}

json_t *qoe_result_json(const struct qoe_query *q, const struct qoe_result *r)
{
    json_t *series = json_array();
    for (int s = 0; s < r->nseries; s++) {
        json_t *group = json_object(), *points = json_array();
        for (int i = 0; i < q->ngroup; i++)
            json_object_set_new(group, beacon_dim_names[q->group_by[i]],
                                json_string(r->series[s].values[i]));
        for (int k = 0; k < r->npoints; k++) {
            double v = r->series[s].points[k];
            json_t *jv = isnan(v)                                      ? json_null()
                         : qoe_metrics[q->metric].cls == QOE_CLASS_SUM ? json_integer((json_int_t)v)
                                                                       : json_real(v);
            json_array_append_new(points,
                                  json_pack("[Io]", (json_int_t)(q->from + k * q->step), jv));
        }
        json_array_append_new(series, json_pack("{s:o,s:o}", "group", group, "points", points));
    }
    return json_pack("{s:s,s:I,s:I,s:I,s:o}", "metric", qoe_metrics[q->metric].name, "from",
                     (json_int_t)q->from, "to", (json_int_t)q->to, "step", (json_int_t)q->step,
                     "series", series);
}
