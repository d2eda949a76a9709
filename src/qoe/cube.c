/*
 * cube.c - the QoE cube: open minutes fed by batches, closed on the watermark or the clock,
 * published into a ring of immutable closed minutes that queries read.
 *
 * Locking: one mutex guards the ingest state and is taken once per batch (not per event);
 * parsing happens outside it on the HTTP worker threads. A read-write lock guards the ring of
 * closed minutes: queries hold it shared, publishing a closed minute holds it exclusively for
 * a pointer swap. Dimension values and leaves are read without a lock (dict.h).
 */
#include "qoe/qoe_int.h"
#include "qoe/minute.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t cube_serials; /* the last serial handed out */

uint64_t cube_new_serial(void)
{
    return atomic_fetch_add(&cube_serials, 1) + 1;
}

uint64_t qoe_principal(const char *name)
{
    return qoe_hash(name, strlen(name), 3) | 1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t slot_of(int64_t t, int64_t n)
{
    int64_t i = floor_div(t, 60) % n;
    return i < 0 ? i + n : i;
}

#define F(field) offsetof(struct qoe_cube_opts, field)

/* The settings of the qoe module (ingest.* and qoe.*: the cube is what ingest fills). */
const struct oc_setting qoe_cube_settings[] = {
    {"ingest.allowed_lateness_s", OC_SETTING_INT, "120", 0, 3600, NULL, F(allowed_lateness_s), NULL,
     "seconds an event may arrive after the latest event time and still land in its minute"},
    {"ingest.complete_after_s", OC_SETTING_INT, "15", 0, 3600, NULL, F(complete_after_s), NULL,
     "a minute is complete, and queries and alert rules read it, once the latest event time is"
     " this many seconds past its end (players beacon every 10 s); events arriving later, up to"
     " ingest.allowed_lateness_s, still revise it"},
    {"ingest.max_future_skew_s", OC_SETTING_INT, "300", 0, 86400, NULL, F(max_future_skew_s), NULL,
     "events more than this many seconds ahead of the clock are rejected (not in replay)"},
    {"ingest.max_values_per_dim", OC_SETTING_U32, "10000", 1, 1000000, NULL, F(max_values_per_dim),
     NULL, "distinct values kept per dimension; later new values fold into `other`"},
    {"ingest.max_leaves_per_minute", OC_SETTING_U32, "200000", 1, 10000000, NULL,
     F(max_leaves_per_minute), NULL,
     "dimension combinations kept per minute; beyond, events go to the all-`other` leaf"},
    {"ingest.max_leaves", OC_SETTING_U32, "1000000", 1, 100000000, NULL, F(max_leaves), NULL,
     "dimension combinations kept in all; beyond, events go to the all-`other` leaf"},
    {"ingest.max_sessions_per_minute", OC_SETTING_U32, "2000000", 1, 100000000, NULL,
     F(max_sessions_per_minute), NULL,
     "(session, leaf) pairs counted exactly per minute; beyond, new pairs are not counted"},
    {"qoe.memory_minutes", OC_SETTING_INT, "360", 1, 100000, NULL, F(memory_minutes), NULL,
     "closed minutes kept in memory for queries (6 hours by default)"},
    {"qoe.rollup_5m_after_s", OC_SETTING_INT, "21600", 60, 315360000, NULL, F(rollup_5m_after_s),
     NULL, "stored minutes older than this merge into 5-minute rows"},
    {"qoe.rollup_1h_after_s", OC_SETTING_INT, "604800", 300, 315360000, NULL, F(rollup_1h_after_s),
     NULL, "stored 5-minute rows older than this merge into hourly rows"},
    {"qoe.retention_days", OC_SETTING_INT, "90", 1, 36500, NULL, F(retention_days), NULL,
     "stored QoE rows older than this many days are deleted"},
    {"qoe.query_max_cells", OC_SETTING_INT, "250000", 1000, 100000000, NULL, F(query_max_cells),
     NULL,
     "values one GET /v1/qoe answer may hold (groups x points, groups being top when grouped); "
     "a larger query is refused with 422 before it runs, saying which step would fit"},
    {"qoe.query_max_answer_bytes", OC_SETTING_INT, "8388608", 65536, 1073741824, NULL,
     F(query_max_answer_bytes), NULL,
     "bytes of JSON one GET /v1/qoe answer may have (estimated before the query runs, checked "
     "while it is written); past it 422"},
    {"qoe.query_threads", OC_SETTING_INT, "2", 0, 64, NULL, F(query_threads), NULL,
     "threads that run GET /v1/qoe and PromQL (/api/v1/query, /api/v1/query_range) queries, so "
     "a long one never holds an HTTP worker; they also bound how many answers are built at "
     "once. 0: each query runs on its HTTP worker"},
    {"qoe.query_queue", OC_SETTING_INT, "32", 1, 100000, NULL, F(query_queue), NULL,
     "GET /v1/qoe and PromQL queries that may wait for a query thread; past it 503 with "
     "Retry-After"},
    {"ingest.value_idle_s", OC_SETTING_INT, "604800", 60, 315360000, NULL, F(value_idle_s), NULL,
     "a dimension value not seen for this many seconds ages out: its id is free for a new value"
     " and its past minutes count under `other` (7 days by default)"},
    {"ingest.new_values_per_minute", OC_SETTING_U32, "2000", 1, 1000000, NULL,
     F(new_values_per_minute), NULL,
     "dimension values never seen before that one token or public ingest key may add to one"
     " dimension per minute; past it the event counts with the value as `other`"},
    {"ingest.junk_max_events", OC_SETTING_U32, "10", 0, 1000000, NULL, F(junk_max_events), NULL,
     "a value seen in at most this many events and idle for ingest.junk_idle_s is junk: when a"
     " dimension is nearly full (less than a hundredth of its cap free, at least 16) junk ages"
     " out early, least recently seen first"},
    {"ingest.junk_idle_s", OC_SETTING_INT, "3600", 60, 315360000, NULL, F(junk_idle_s), NULL,
     "seconds junk (see ingest.junk_max_events) must be idle before it can age out early"},
    {"ingest.regions", OC_SETTING_STR, "", 0, 0, NULL, F(closed_regions), NULL,
     "comma-separated: the only region values kept (the topology's regions); any other counts as"
     " `other`. `steering`: the regions steering knows, those of its region map "
     "(steer.geoip_regions, else the built-in EMEA, NA, LATAM, APAC) and those the policy's "
     "rules, flags and auto.regions name, followed when the policy changes. Empty: any region,"
     " within the caps"},
    {"ingest.cdns", OC_SETTING_STR, "", 0, 0, NULL, F(closed_cdns), NULL,
     "comma-separated: the only cdn values kept; any other counts as `other`. `steering`: the "
     "steering policy's pathways and clones, followed when the policy changes (PUT "
     "/v1/steering/policies, steer.policy_file on SIGHUP). Empty: any cdn"},
    {"qoe.clickhouse_url", OC_SETTING_STR, "", 0, 0, NULL, F(clickhouse_url), NULL,
     "ClickHouse's HTTP interface (http://host:8123) for qoe.clickhouse_ship and "
     "qoe.clickhouse_query; empty: the embedded store only (docs/internals/scale.md)"},
    {"qoe.clickhouse_table", OC_SETTING_STR, "oncue_minutes", 0, 0, NULL, F(clickhouse_table), NULL,
     "the ClickHouse table of minutes (created when missing; a Distributed table over"
     " shards for queries, see docs/internals/scale.md)"},
    {"qoe.clickhouse_cluster", OC_SETTING_STR, "", 0, 0, NULL, F(clickhouse_cluster), NULL,
     "shards: the cluster of ClickHouse's remote_servers; qoe.clickhouse_table is then a "
     "Distributed table over TABLE_local on each shard, sharded by batch id (both created on "
     "the collector's server when missing)"},
    {"qoe.clickhouse_ship", OC_SETTING_BOOL, "false", 0, 0, NULL, F(clickhouse_ship), NULL,
     "a collector: every closed minute stored here is also inserted into ClickHouse (one "
     "RowBinary insert a minute, idempotent by batch id)"},
    {"qoe.clickhouse_partial_s", OC_SETTING_INT, "3", 0, 60, NULL, F(clickhouse_partial_s), NULL,
     "a collector with qoe.clickhouse_ship: every N seconds, the open minutes that took events "
     "are inserted too (partial rows, replaced by newer ones and by the closed minute), so a "
     "beacon is queryable in ClickHouse seconds after it arrives; 0: closed minutes only (2 to 3 "
     "minutes later)"},
    {"qoe.clickhouse_query", OC_SETTING_BOOL, "false", 0, 0, NULL, F(clickhouse_query), NULL,
     "GET /v1/qoe answers from ClickHouse (every collector's minutes) instead of this "
     "process's cube"},
    {"qoe.clickhouse_pull", OC_SETTING_BOOL, "false", 0, 0, NULL, F(clickhouse_pull), NULL,
     "a control-plane node: this process's cube fills from ClickHouse with every minute all "
     "collectors closed, so alerts, SLOs, incident severity and root-cause localization read "
     "every collector's minutes (a replay clock follows them)"},
    {0},
};

#undef F

/* Fills o with the defaults of qoe_cube_settings. */
void qoe_cube_opts_default(struct qoe_cube_opts *o)
{
    memset(o, 0, sizeof(*o));
    config_settings_defaults(qoe_cube_settings, o);
}

struct qoe_cube *qoe_cube_new(const struct qoe_cube_opts *opts, struct oc_clock *clock)
{
    struct qoe_cube *c = oc_calloc(1, sizeof *c);
    c->o = *opts;
    if (c->o.allowed_lateness_s < 0)
        c->o.allowed_lateness_s = 0;
    if (c->o.memory_minutes < 1)
        c->o.memory_minutes = 1;
    c->clock = clock;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra); /* a sweep must not wait behind a stream of batches */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->dict_rw, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&c->mu, NULL);
    pthread_rwlock_init(&c->rw, NULL);
    c->last_sweep_s = INT64_MIN;
    for (int d = 0; d < BEACON_NDIMS; d++)
        dict_values_init(&c->vals[d], c->o.max_values_per_dim + 2);
    dict_leaves_init(&c->leaves, c->o.max_leaves);
    c->nopen = (int)((c->o.allowed_lateness_s + c->o.max_future_skew_s) / 60) + 3;
    c->open = oc_calloc((size_t)c->nopen, sizeof *c->open);
    c->nring = c->o.memory_minutes;
    c->ring = oc_calloc((size_t)c->nring, sizeof *c->ring);
    c->max_ts_ms = INT64_MIN;
    c->closed_upto_s = INT64_MIN;
    c->complete_upto_s = INT64_MIN;
    if (c->o.complete_after_s < 0 || c->o.complete_after_s > c->o.allowed_lateness_s)
        c->o.complete_after_s = c->o.allowed_lateness_s;
    c->mem_lo_s = INT64_MIN;
    c->serial = cube_new_serial();
    c->errs = qoe_errtally_new();
    return c;
}

void qoe_cube_destroy(struct qoe_cube *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nopen; i++)
        if (c->open[i].used)
            minute_free(&c->open[i]);
    free(c->open);
    for (int64_t i = 0; i < c->nring; i++)
        qoe_minute_destroy(c->ring[i]);
    for (size_t i = 0; i < c->npend; i++)
        free(c->pend[i].blob);
    free(c->pend);
    free(c->ring);
    for (int d = 0; d < BEACON_NDIMS; d++) {
        dict_values_free(&c->vals[d]);
        free(c->listed[d]);
        free(c->list[d]);
    }
    dict_leaves_free(&c->leaves);
    free(c->swept_vals);
    free(c->swept_leaves);
    qoe_errtally_free(c->errs);
    pthread_rwlock_destroy(&c->rw);
    pthread_rwlock_destroy(&c->dict_rw);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Puts cm in the ring, replacing what its slot held (a snapshot of the same minute, or a
 * minute nring minutes older). */
static void ring_put(struct qoe_cube *c, struct qoe_minute *cm)
{
    int64_t i = slot_of(cm->t, c->nring);
    pthread_rwlock_wrlock(&c->rw);
    struct qoe_minute *old = c->ring[i];
    c->ring[i] = cm;
    pthread_rwlock_unlock(&c->rw);
    qoe_minute_destroy(old);
}

/* Closes an open slot and publishes it, revising its snapshot if it had one (mu held). */
static void close_slot(struct qoe_cube *c, struct open_minute *m)
{
    c->st.minutes_revised += m->published && m->dirty;
    struct qoe_minute *cm = minute_close(m);
    cube_mark_seen(c, cm);
    cube_queue_minute(c, cm);
    ring_put(c, cm);
    c->st.minutes_closed++;
}

/* Publishes a snapshot of every open minute before upto_s not yet in the ring: complete for
 * queries and alerts, still open to late events (mu held). */
static void publish_complete(struct qoe_cube *c, int64_t upto_s)
{
    if (upto_s <= c->complete_upto_s)
        return;
    for (int i = 0; i < c->nopen; i++) {
        struct open_minute *m = &c->open[i];
        if (m->used && !m->published && m->t < upto_s) {
            ring_put(c, minute_snapshot(m));
            m->published = 1;
        }
    }
    c->complete_upto_s = upto_s;
}

void cube_install_minute(struct qoe_cube *c, struct qoe_minute *cm)
{
    cube_mark_seen(c, cm);
    ring_put(c, cm);
    if (cm->t + 60 > c->closed_upto_s)
        c->closed_upto_s = cm->t + 60;
    if (c->closed_upto_s > c->complete_upto_s)
        c->complete_upto_s = c->closed_upto_s;
}

/* Closes every open minute before upto_s (mu held). */
static void advance(struct qoe_cube *c, int64_t upto_s)
{
    if (upto_s <= c->closed_upto_s)
        return;
    for (int i = 0; i < c->nopen; i++)
        if (c->open[i].used && c->open[i].t < upto_s)
            close_slot(c, &c->open[i]);
    c->closed_upto_s = upto_s;
    if (upto_s > c->complete_upto_s)
        c->complete_upto_s = upto_s;
}

static struct open_minute *slot_for(struct qoe_cube *c, int64_t t)
{
    struct open_minute *m = &c->open[slot_of(t, c->nopen)];
    if (m->used && m->t != t)
        close_slot(c, m); /* only an older minute can be here (see docs) */
    if (!m->used)
        minute_open(m, t);
    return m;
}

static void fold_event(struct qoe_cube *c, struct open_minute *m, uint32_t leaf,
                       const struct beacon_event *e, uint64_t sh)
{
    struct minute_acc *a = minute_acc(m, leaf, c->o.max_leaves_per_minute);
    if (!a) {
        c->st.leaves_folded++;
        leaf = 0;
        a = minute_acc(m, 0, UINT32_MAX);
    }
    if (e->type == BEACON_EDGE) {
        a->edge_req++;
        a->edge_5xx += e->edge_status >= 500 && e->edge_status <= 599;
        a->edge_miss += e->edge_miss;
        a->edge_origin += e->edge_origin;
        if (e->edge_ttfb_ms >= 0) {
            a->edge_ttfb_n++;
            a->edge_ttfb_ms += e->edge_ttfb_ms;
        }
        return;
    }
    if (e->type == BEACON_START) {
        a->starts++;
        a->fails += e->outcome == BEACON_FAILURE;
        a->exits += e->outcome == BEACON_EXIT;
        if (e->outcome == BEACON_SUCCESS)
            minute_sketch_add(a, qoe_sketch_bucket(e->startup_ms));
        return;
    }
    if (e->type == BEACON_ERROR) { /* a play ended by a fatal error: counted, nothing else */
        a->errors++;
        return;
    }
    a->playing_ms += e->playing_ms;
    a->rebuffer_ms += e->rebuffer_ms;
    a->bitrate_ms += e->bitrate_kbps * (double)e->playing_ms;
    if (minute_session(m, sh, leaf, e->rebuffer_ms > 0 || e->stalled,
                       c->o.max_sessions_per_minute) != 0)
        c->st.sessions_dropped++;
}

/* Checks and folds event i of f (mu held); returns its enum qoe_fold_verdict. */
static uint8_t add_event(struct qoe_cube *c, const struct qoe_fold *f, size_t i, int64_t now_ms)
{
    const struct beacon_event *e = &f->ev[i];
    if (c->clock->kind != OC_CLOCK_REPLAY && e->ts_ms > now_ms + c->o.max_future_skew_s * 1000)
        return QOE_FOLD_TOO_FAR_FUTURE;
    /* the watermark follows event time, but outside replay never past the clock: a player
     * whose clock runs ahead must not close minutes early for everyone */
    int64_t w = e->ts_ms;
    if (c->clock->kind != OC_CLOCK_REPLAY && w > now_ms)
        w = now_ms;
    if (w > c->max_ts_ms) {
        c->max_ts_ms = w;
        advance(c, floor_div(w - c->o.allowed_lateness_s * 1000, 60000) * 60);
        publish_complete(c, floor_div(w - c->o.complete_after_s * 1000, 60000) * 60);
    }
    int64_t t = floor_div(e->ts_ms, 60000) * 60;
    if (t < c->closed_upto_s)
        return QOE_FOLD_TOO_OLD;
    if (e->type == BEACON_START || e->type == BEACON_HEARTBEAT || e->type == BEACON_EDGE ||
        e->type == BEACON_ERROR) {
        struct open_minute *m = slot_for(c, t);
        fold_event(c, m, f->leaf[i], e, f->sh[i]);
        m->dirty |= m->published;
        m->ship_dirty = 1;
    }
    return QOE_FOLD_OK;
}

#define FOLD_AHEAD 8 /* events between the stages of fetching what a fold touches */

/* Prefetches what folding event i of f will touch (stage 0: the leaf's map slot and the
 * session's slot; 1: the accumulator), when its minute is open already (mu held). */
static void fold_prefetch(struct qoe_cube *c, const struct qoe_fold *f, size_t i, int stage)
{
    const struct beacon_event *e = &f->ev[i];
    if (e->type != BEACON_START && e->type != BEACON_HEARTBEAT && e->type != BEACON_EDGE &&
        e->type != BEACON_ERROR)
        return;
    int64_t t = floor_div(e->ts_ms, 60000) * 60;
    const struct open_minute *m = &c->open[slot_of(t, c->nopen)];
    if (m->used && m->t == t)
        minute_prefetch(m, f->leaf[i], e->type == BEACON_HEARTBEAT ? (f->sh[i] ? f->sh[i] : 1) : 0,
                        stage);
}

size_t qoe_cube_add(struct qoe_cube *c, struct qoe_fold *f)
{
    struct resolve_counts rc;
    size_t ok = 0;
    int64_t now_ms = oc_clock_now_ms(c->clock);
    cube_resolve_batch(c, f, &rc); /* the costly part, outside the lock */
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < f->n; i++) {
        if (i + 2 * FOLD_AHEAD < f->n)
            fold_prefetch(c, f, i + 2 * FOLD_AHEAD, 0);
        if (i + FOLD_AHEAD < f->n)
            fold_prefetch(c, f, i + FOLD_AHEAD, 1);
        uint8_t v = add_event(c, f, i, now_ms);
        f->verdict[i] = v;
        c->st.too_old += v == QOE_FOLD_TOO_OLD;
        c->st.too_far_future += v == QOE_FOLD_TOO_FAR_FUTURE;
        ok += v == QOE_FOLD_OK;
    }
    c->st.accepted += ok;
    for (int d = 0; d < BEACON_NDIMS; d++) {
        c->st.folded[d] += rc.folded[d];
        c->st.refused[d] += rc.refused[d];
    }
    c->st.leaves_folded += rc.leaves_folded;
    int64_t max_ts = c->max_ts_ms;
    pthread_mutex_unlock(&c->mu);
    qoe_errtally_add(c->errs, f);
    if (ok)
        oc_clock_observe_ms(c->clock, max_ts);
    return ok;
}

size_t qoe_cube_add_event(struct qoe_cube *c, const struct beacon_event *ev)
{
    uint32_t leaf = 0;
    uint64_t sh = 0;
    uint8_t verdict = 0;
    struct qoe_fold one = {.ev = ev, .n = 1, .leaf = &leaf, .sh = &sh, .verdict = &verdict};
    return qoe_cube_add(c, &one);
}

void qoe_cube_tick(struct qoe_cube *c)
{
    if (c->clock->kind == OC_CLOCK_REPLAY)
        return; /* replay ignores the wall clock: only the event watermark closes minutes */
    int64_t now = oc_clock_now_ms(c->clock);
    pthread_mutex_lock(&c->mu);
    advance(c, floor_div(now - c->o.allowed_lateness_s * 1000, 60000) * 60);
    publish_complete(c, floor_div(now - c->o.complete_after_s * 1000, 60000) * 60);
    pthread_mutex_unlock(&c->mu);
}

int cube_take_shippable(struct qoe_cube *c, struct qoe_minute **out, int max)
{
    int n = 0;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nopen && n < max; i++) {
        struct open_minute *m = &c->open[i];
        if (m->used && m->ship_dirty) {
            out[n++] = minute_snapshot(m);
            m->ship_dirty = 0;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

void cube_ship_again(struct qoe_cube *c, int64_t t)
{
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nopen; i++)
        if (c->open[i].used && c->open[i].t == t)
            c->open[i].ship_dirty = 1;
    pthread_mutex_unlock(&c->mu);
}

void qoe_cube_flush(struct qoe_cube *c)
{
    int64_t upto = INT64_MIN;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nopen; i++)
        if (c->open[i].used && c->open[i].t + 60 > upto)
            upto = c->open[i].t + 60;
    advance(c, upto);
    pthread_mutex_unlock(&c->mu);
}

void qoe_cube_stats(struct qoe_cube *c, struct qoe_cube_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    out->leaves = atomic_load(&c->leaves.n);
    for (int d = 0; d < BEACON_NDIMS; d++)
        out->values[d] = atomic_load(&c->vals[d].n) - c->vals[d].nfree;
    out->watermark_ms =
        c->max_ts_ms == INT64_MIN ? INT64_MIN : c->max_ts_ms - c->o.allowed_lateness_s * 1000;
    out->closed_upto_s = c->closed_upto_s;
    out->complete_upto_s = c->complete_upto_s;
    out->persist_pending = c->npend;
    out->persist_dropped = c->pend_dropped;
    pthread_mutex_unlock(&c->mu);
}

void qoe_cube_read_begin(struct qoe_cube *c)
{
    pthread_rwlock_rdlock(&c->rw);
}

void qoe_cube_read_end(struct qoe_cube *c)
{
    pthread_rwlock_unlock(&c->rw);
}

void qoe_cube_window(struct qoe_cube *c, int64_t *lo, int64_t *hi)
{
    int64_t upto = atomic_load(&c->complete_upto_s), mem_lo = atomic_load(&c->mem_lo_s);
    *lo = *hi = 0;
    if (upto != INT64_MIN) {
        *hi = upto;
        *lo = upto - c->nring * 60;
        *lo = mem_lo > *lo ? (mem_lo < upto ? mem_lo : upto) : *lo;
    }
}

const struct qoe_minute *qoe_cube_minute(struct qoe_cube *c, int64_t t)
{
    const struct qoe_minute *m = c->ring[slot_of(t, c->nring)];
    return m && m->t == t ? m : NULL;
}

const uint32_t *qoe_cube_leaf_dims(struct qoe_cube *c, uint32_t leaf)
{
    return c->leaves.dims + (size_t)leaf * BEACON_NDIMS;
}

uint32_t qoe_cube_nleaves(struct qoe_cube *c)
{
    return atomic_load_explicit(&c->leaves.n, memory_order_acquire);
}

const char *qoe_cube_value(struct qoe_cube *c, int d, uint32_t id)
{
    return dict_value_str(&c->vals[d], id);
}

uint32_t qoe_cube_nvalues(struct qoe_cube *c, int d)
{
    return atomic_load_explicit(&c->vals[d].n, memory_order_acquire);
}

int qoe_cube_value_id(struct qoe_cube *c, int d, const char *s, size_t n, uint32_t *out)
{
    pthread_mutex_lock(&c->mu);
    int rc = dict_value_find(&c->vals[d], s, n, out);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int qoe_dim_parse(const char *name)
{
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (strcmp(name, beacon_dim_names[d]) == 0)
            return d;
    return -1;
}
