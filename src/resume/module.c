/*
 * module.c - the `resume` module: PUT and GET /v1/resume/{profile}/{title}, the batched
 * POST /v1/resume, the continue-watching row GET /v1/resume/{profile}, its settings and its
 * counters in /metrics.
 *
 * Writes run on the HTTP workers: parse without a lock, fold into the table under its write
 * lock (queueing the changes in the same order), then wait, holding no lock, for the group
 * commit that puts them on disk (commit.c) before answering. Reads take the read lock.
 */
#include "resume/resume_int.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http.h"
#include "store/store.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_MAX_LIMIT 200               /* largest limit of GET /v1/resume/{profile} */
#define ANSWER_MAX    1024              /* bytes of one point's JSON (point_json) */
#define PENDING_MAX   (ANSWER_MAX + 64) /* bytes of a write's answer: a PUT's wraps a point */

/* The module's settings. */
struct resume_opts {
    int64_t idle_s;         /* resume.idle_s */
    double watched_lo;      /* resume.watched_below_pct */
    double watched_hi;      /* resume.watched_above_pct */
    int64_t min_duration_s; /* resume.min_duration_s */
    int64_t max_points;     /* resume.max_points */
    int64_t max_titles;     /* resume.max_titles */
    int64_t row_limit;      /* resume.row_limit */
    int64_t compact_mib;    /* resume.log_compact_mib */
    int shared;             /* resume.shared */
    int64_t shared_poll_ms; /* resume.shared_poll_ms */
    int64_t forget_s;       /* resume.shared_forget_s */
};

/* Counters for /metrics. */
struct resume_stats {
    atomic_ullong outcome[3]; /* by enum resume_outcome */
    atomic_ullong invalid;    /* refused bodies (400, 413, 422) */
    atomic_ullong full;       /* refused: a cap on points or titles */
    atomic_ullong store;      /* acknowledged as failed: the commit failed */
    atomic_ullong conflicts;  /* accepted writes to a point holding several devices */
    atomic_ullong folded[3];  /* other replicas' changes folded, by enum resume_outcome */
    atomic_ullong bad_rows;   /* shared rows whose bytes did not scan (the rest skipped) */
};

/* A write waiting for its batch to commit, its answer ready (an answer given later). */
struct pending {
    struct http_later *later;
    uint64_t batch;
    size_t len;
    char answer[PENDING_MAX]; /* the 200 body (len bytes): no allocation per write */
};

/* The module's state. */
struct resume_mod {
    struct oc_app *app;
    pthread_rwlock_t lock; /* guards table */
    struct resume_table table;
    struct resume_log log;        /* group commit */
    struct resume_shared *shared; /* resume.shared on PostgreSQL, or NULL */
    struct resume_opts o;
    struct resume_stats st;
    /* The committer: answers writes once their batch is on disk, so a write does not hold an
     * HTTP worker while it waits and one commit carries every write that arrived meanwhile. */
    pthread_t committer;
    int committer_started;
    pthread_mutex_t pmu; /* guards pend, npend, stopping (a leaf lock) */
    pthread_cond_t pcv;
    struct pending *pend; /* queued answers; owned */
    size_t npend, pcap;
    int stopping;
};

#define PREFETCH_AHEAD 8 /* a batch's writes between loading a bucket, its point and using it */

static const char *const outcome_names[] = {"applied", "coalesced", "stale"};

/* The since of device's report in p, INT64_MAX when p holds none. */
static int64_t device_since(const struct resume_point *p, const char *device)
{
    for (int k = 0; k < p->n; k++)
        if (strcmp(p->r[k].device, device) == 0)
            return p->r[k].since;
    return INT64_MAX;
}

/* Folds one write into the table (its write lock and the log's mutex held) and queues what
 * the store must change; *batch is raised to the batch holding it, *point is its point. The
 * outcome, or OC_ETOOBIG (a cap). */
static int apply_one(struct resume_mod *m, const struct resume_write *w, uint64_t hash,
                     uint64_t *batch, struct resume_point **point /* OUT */)
{
    struct resume_point *p;
    struct resume_report gone;
    int ev;
    if (resume_table_put_hashed(&m->table, w->profile, w->title, hash, (size_t)m->o.max_points,
                                (int)m->o.max_titles, &p) != 0) {
        atomic_fetch_add(&m->st.full, 1);
        return OC_ETOOBIG;
    }
    *point = p;
    resume_point_reserve_for(p, w->r.device);
    int64_t before = m->shared ? device_since(p, w->r.device) : 0;
    enum resume_outcome oc = resume_apply(p->r, &p->n, &w->r, &gone, &ev);
    atomic_fetch_add(&m->st.outcome[oc], 1);
    if (oc != RESUME_STALE && p->n > 1)
        atomic_fetch_add(&m->st.conflicts, 1);
    if (m->shared) {
        /* every change of the set goes to the other replicas, as the set keeps it: a
         * coalesced report (its t and seq) and a since lowered by a late duplicate too, so
         * that their tables end the same field for field */
        int64_t after = device_since(p, w->r.device);
        if (oc == RESUME_STALE && after >= before)
            return (int)oc;
        if (ev >= 0) {
            struct resume_write d = *w;
            d.r = gone;
            resume_log_push(&m->log, 1, &d, batch);
        }
        struct resume_write kept = *w;
        for (int k = 0; k < p->n; k++)
            if (strcmp(p->r[k].device, w->r.device) == 0)
                kept.r = p->r[k];
        resume_log_push(&m->log, 0, &kept, batch);
        return (int)oc;
    }
    if (oc != RESUME_APPLIED)
        return (int)oc;
    if (ev >= 0) { /* the evicted device first: replay never finds 17 devices in a point */
        struct resume_write d = *w;
        d.r = gone;
        resume_log_push(&m->log, 1, &d, batch);
    }
    resume_log_push(&m->log, 0, w, batch);
    return (int)oc;
}

static char *put_mem(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

#define PUT_LIT(o, s) put_mem((o), (s), sizeof(s) - 1)

static char *put_str(char *o, const char *s)
{
    return put_mem(o, s, strlen(s));
}

static char *put_i64(char *o, int64_t v)
{
    char d[24];
    int i = (int)sizeof d;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[--i] = '-';
    return put_mem(o, d + i, sizeof d - (size_t)i);
}

/* Writes the winning report of p at out as the API's JSON object (at most ANSWER_MAX bytes:
 * its strings take at most 460, its numbers 100, the rest 110); its length. Formatted by
 * hand (printf was 5% of a GET's server CPU). Ids are checked against resume_id_valid's
 * charset on the way in (and when loaded), so none needs escaping. */
static size_t point_json(char *out, const struct resume_mod *m, const struct resume_point *p)
{
    const struct resume_report *r = &p->r[resume_winner(p->r, p->n, m->o.idle_s * 1000)];
    char *o = out;
    o = PUT_LIT(o, "{\"profile\":\"");
    o = put_str(o, p->profile->id);
    o = PUT_LIT(o, "\",\"title\":\"");
    o = put_str(o, p->title);
    o = PUT_LIT(o, "\",\"position_ms\":");
    o = put_i64(o, r->position_ms);
    o = PUT_LIT(o, ",\"duration_ms\":");
    o = put_i64(o, r->duration_ms);
    o = PUT_LIT(o, ",\"device\":\"");
    o = put_str(o, r->device);
    o = PUT_LIT(o, "\",\"session\":\"");
    o = put_str(o, r->session);
    o = PUT_LIT(o, "\",\"seq\":");
    o = put_i64(o, r->seq);
    o = PUT_LIT(o, ",\"state\":\"");
    o = put_str(o, resume_state_names[r->state]);
    o = PUT_LIT(o, "\",\"ts\":");
    o = put_i64(o, r->t);
    o = PUT_LIT(o, "}");
    return (size_t)(o - out);
}

/* After the write is queued in batch: answers 200 with body (len bytes) once the batch is on
 * disk, 503 if it could not be stored. The answer is given later by the committer when the
 * HTTP layer allows it (the worker goes on serving), else here after waiting. */
static void answer_after_commit(struct resume_mod *m, struct http_req *req, uint64_t batch,
                                const char *body, size_t len, const char *what)
{
    struct http_later *l =
        batch && m->committer_started && len <= PENDING_MAX ? http_later(req) : NULL;
    if (l) {
        pthread_mutex_lock(&m->pmu);
        m->pend = oc_grow(m->pend, &m->pcap, m->npend + 1, sizeof *m->pend);
        struct pending *p = &m->pend[m->npend++];
        p->later = l;
        p->batch = batch;
        memcpy(p->answer, body, len);
        p->len = len;
        pthread_cond_signal(&m->pcv);
        pthread_mutex_unlock(&m->pmu);
        return;
    }
    if (batch && resume_log_wait(&m->log, batch) != 0) {
        atomic_fetch_add(&m->st.store, 1);
        http_problem(req, 503, "%s could not be stored", what);
        return;
    }
    http_reply(req, 200, "application/json", body, len);
}

/* The committer thread: takes the queued answers, leads the commit of every batch they wait
 * for (resume_log_wait writes all that was queued so far in one transaction) and answers
 * each. Runs until the module stops and nothing is queued. */
static void *committer_main(void *arg)
{
    struct resume_mod *m = arg;
    struct pending *batch = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&m->pmu);
    for (;;) {
        while (!m->npend && !m->stopping)
            pthread_cond_wait(&m->pcv, &m->pmu);
        if (!m->npend)
            break;
        /* swap the queue for an empty one: writers queue into it while this commit runs */
        struct pending *take = m->pend;
        size_t n = m->npend, tcap = m->pcap;
        m->pend = batch;
        m->pcap = cap;
        m->npend = 0;
        pthread_mutex_unlock(&m->pmu);
        uint64_t last = 0;
        int failed = 0;
        for (size_t i = 0; i < n; i++) { /* waiting on a batch already done returns at once */
            if (take[i].batch != last) {
                last = take[i].batch;
                failed = resume_log_wait(&m->log, last) != 0;
            }
            if (failed) {
                atomic_fetch_add(&m->st.store, 1);
                http_later_problem(take[i].later, 503, "the write could not be stored");
            } else {
                http_later_reply(take[i].later, 200, "application/json", take[i].answer,
                                 take[i].len);
            }
        }
        batch = take;
        cap = tcap;
        pthread_mutex_lock(&m->pmu);
    }
    pthread_mutex_unlock(&m->pmu);
    free(batch);
    return NULL;
}

/* Checks the path's profile and title into w; answers 422 and returns -1 if bad. */
static int path_ids(struct http_req *req, struct resume_write *w)
{
    const char *p = http_param(req, "profile"), *t = http_param(req, "title");
    if (!p || !resume_id_valid(p, RESUME_ID_MAX)) {
        http_problem(req, 422, "profile: 1 to %d characters of A-Z a-z 0-9 . _ : -", RESUME_ID_MAX);
        return -1;
    }
    if (t && !resume_id_valid(t, RESUME_ID_MAX)) {
        http_problem(req, 422, "title: 1 to %d characters of A-Z a-z 0-9 . _ : -", RESUME_ID_MAX);
        return -1;
    }
    memcpy(w->profile, p, strlen(p) + 1);
    if (t)
        memcpy(w->title, t, strlen(t) + 1);
    return 0;
}

/* PUT /v1/resume/{profile}/{title} */
static void put_point(struct http_req *req)
{
    struct resume_mod *m = req->state;
    struct resume_write w;
    char out[PENDING_MAX], *o = out;
    struct resume_point *p = NULL;
    json_t *body = NULL;
    char err[200];
    uint64_t batch = 0;
    int rc;
    int64_t now = oc_clock_now_ms(m->app->clock);
    if (path_ids(req, &w) != 0)
        goto bad;
    if (resume_fast_object(req->body, req->body_len, now, &w) != 0) {
        if (oc_json_parse(req->body, req->body_len, &body, err, sizeof err) != 0) {
            http_problem(req, 400, "body: not JSON: %s", err);
            goto bad;
        }
        if (resume_parse_object(body, 0, now, &w, err, sizeof err)) {
            http_problem(req, 422, "%s", err);
            goto bad;
        }
    }
    oc_wrlock(&m->lock);
    resume_log_lock(&m->log);
    rc = apply_one(m, &w, resume_point_hash(w.profile, w.title), &batch, &p);
    resume_log_unlock(&m->log);
    if (rc >= 0) {
        o = PUT_LIT(o, "{\"outcome\":\"");
        o = put_str(o, outcome_names[rc]);
        o = PUT_LIT(o, "\",\"point\":");
        o += point_json(o, m, p);
        o = PUT_LIT(o, "}\n");
    }
    oc_rwunlock(&m->lock);
    if (rc == OC_ETOOBIG)
        http_problem(req, 409, "the resume table is full (resume.max_points, resume.max_titles)");
    else if (rc == RESUME_STALE)
        http_problem(req, 409, "seq: stale, device %s has sent seq %lld or a later report",
                     w.r.device, (long long)w.r.seq);
    else
        answer_after_commit(m, req, batch, out, (size_t)(o - out), "the write");
    json_decref(body);
    return;
bad:
    atomic_fetch_add(&m->st.invalid, 1);
    json_decref(body);
}

/* POST /v1/resume [{profile, title, ...}, ...] */
static void post_batch(struct http_req *req)
{
    struct resume_mod *m = req->state;
    struct resume_write *w;
    size_t n, count[3] = {0}, full = 0;
    uint64_t batch = 0;
    char err[240];
    int rc = resume_parse_batch(req->body, req->body_len, RESUME_BATCH_MAX,
                                oc_clock_now_ms(m->app->clock), &w, &n, err, sizeof err);
    if (rc) {
        atomic_fetch_add(&m->st.invalid, 1);
        http_problem(req, rc == OC_EINVAL ? 422 : rc == OC_ETOOBIG ? 413 : 400, "%s", err);
        return;
    }
    uint64_t *hash = oc_malloc((n ? n : 1) * sizeof *hash);
    for (size_t i = 0; i < n; i++) /* without a lock, once per report */
        hash[i] = resume_point_hash(w[i].profile, w[i].title);
    oc_wrlock(&m->lock);
    resume_log_lock(&m->log);
    for (size_t i = 0; i < n; i++) {
        /* the table's lookups miss the cache (one point per title): load ahead */
        if (i + 2 * PREFETCH_AHEAD < n)
            resume_table_prefetch(&m->table, hash[i + 2 * PREFETCH_AHEAD], 0);
        if (i + PREFETCH_AHEAD < n)
            resume_table_prefetch(&m->table, hash[i + PREFETCH_AHEAD], 1);
        struct resume_point *p;
        rc = apply_one(m, &w[i], hash[i], &batch, &p);
        if (rc < 0)
            full++;
        else
            count[rc]++;
    }
    resume_log_unlock(&m->log);
    oc_rwunlock(&m->lock);
    resume_batch_done(w);
    free(hash);
    char text[160];
    int len = snprintf(text, sizeof text,
                       "{\"applied\":%zu,\"coalesced\":%zu,\"stale\":%zu,\"refused_full\":%zu}\n",
                       count[0], count[1], count[2], full);
    answer_after_commit(m, req, batch, text, (size_t)len, "the writes");
}

/* GET /v1/resume/{profile}/{title} */
static void get_point(struct http_req *req)
{
    struct resume_mod *m = req->state;
    struct resume_write w;
    char out[ANSWER_MAX + 1];
    size_t len = 0;
    if (path_ids(req, &w) != 0)
        return;
    oc_rdlock(&m->lock);
    const struct resume_point *p = resume_table_get(&m->table, w.profile, w.title);
    if (p && p->n > 0)
        len = point_json(out, m, p);
    oc_rwunlock(&m->lock);
    if (len == 0) {
        http_problem(req, 404, "no resume point for %s/%s", w.profile, w.title);
        return;
    }
    out[len++] = '\n';
    http_reply(req, 200, "application/json", out, len);
}

/* One row candidate: a point's winner. */
struct row_item {
    const struct resume_point *p;
    const struct resume_report *r;
};

static int by_recent(const void *a, const void *b)
{
    const struct row_item *x = a, *y = b;
    if (x->r->t != y->r->t)
        return x->r->t < y->r->t ? 1 : -1;
    return strcmp(x->p->title, y->p->title);
}

/* Reads the limit query parameter; answers 422 and returns -1 if bad. */
static int row_limit(struct http_req *req, int64_t def, int64_t *out)
{
    const char *v = http_query(req, "limit");
    char *end;
    *out = def;
    if (!v)
        return 0;
    long long l = strtoll(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || l < 1 || l > ROW_MAX_LIMIT) {
        http_problem(req, 422, "limit: an integer from 1 to %d", ROW_MAX_LIMIT);
        return -1;
    }
    *out = l;
    return 0;
}

/* GET /v1/resume/{profile}?limit=N -> {"items": [...]} most recent first, unwatched only */
static void get_row(struct http_req *req)
{
    struct resume_mod *m = req->state;
    struct resume_write w;
    struct row_item *items = NULL;
    size_t n = 0;
    int64_t limit;
    struct oc_buf out;
    oc_buf_init(&out, ANSWER_MAX * (ROW_MAX_LIMIT + 1));
    if (path_ids(req, &w) != 0 || row_limit(req, m->o.row_limit, &limit) != 0)
        goto out;
    oc_buf_puts(&out, "{\"items\":[");
    oc_rdlock(&m->lock);
    const struct resume_profile *f = resume_table_profile(&m->table, w.profile);
    if (f) {
        items = oc_malloc(((size_t)f->npoints + 1) * sizeof *items);
        for (const struct resume_point *p = f->points; p; p = p->pnext) {
            if (p->n == 0)
                continue;
            const struct resume_report *r = &p->r[resume_winner(p->r, p->n, m->o.idle_s * 1000)];
            if (!resume_watched(r, m->o.watched_lo, m->o.watched_hi, m->o.min_duration_s * 1000))
                items[n++] = (struct row_item){p, r};
        }
        qsort(items, n, sizeof *items, by_recent);
        for (size_t i = 0; i < n && i < (size_t)limit; i++) {
            char one[ANSWER_MAX];
            if (i)
                oc_buf_puts(&out, ",");
            oc_buf_append(&out, one, point_json(one, m, items[i].p));
        }
    }
    oc_rwunlock(&m->lock);
    oc_buf_puts(&out, "]}\n");
    http_reply(req, 200, "application/json", out.data, out.len);
out:
    free(items);
    oc_buf_free(&out);
}

/* /metrics: writes by outcome, refusals, conflicts, commits. */
static void render(struct oc_buf *b, void *arg)
{
    struct resume_mod *m = arg;
    double total = 0, stale = (double)atomic_load(&m->st.outcome[RESUME_STALE]);
    oc_metrics_family(b, "oncue_resume_writes_total", "counter",
                      "Resume reports received, by outcome (applied, coalesced: did not move"
                      " the point, stale: a duplicate or older report of the device, refused).");
    for (int i = 0; i < 3; i++) {
        const char *labels[] = {"outcome", outcome_names[i], NULL};
        double v = (double)atomic_load(&m->st.outcome[i]);
        total += v;
        oc_metrics_sample(b, "oncue_resume_writes_total", labels, v);
    }
    oc_metrics_family(b, "oncue_resume_stale_writes_ratio", "gauge",
                      "Share of resume reports refused as stale since start.");
    oc_metrics_sample(b, "oncue_resume_stale_writes_ratio", NULL, total > 0 ? stale / total : 0);
    oc_metrics_family(b, "oncue_resume_write_errors_total", "counter",
                      "Resume writes refused or failed, by reason (invalid body, table full,"
                      " store failure).");
    const char *reasons[] = {"invalid", "full", "store"};
    atomic_ullong *counts[] = {&m->st.invalid, &m->st.full, &m->st.store};
    for (int i = 0; i < 3; i++) {
        const char *labels[] = {"reason", reasons[i], NULL};
        oc_metrics_sample(b, "oncue_resume_write_errors_total", labels,
                          (double)atomic_load(counts[i]));
    }
    oc_metrics_family(b, "oncue_resume_conflicts_resolved_total", "counter",
                      "Accepted resume reports on a point holding reports from several devices.");
    oc_metrics_sample(b, "oncue_resume_conflicts_resolved_total", NULL,
                      (double)atomic_load(&m->st.conflicts));
    oc_metrics_family(b, "oncue_resume_commits_total", "counter",
                      "Group commits of resume reports (one write of the resume log each).");
    oc_metrics_sample(b, "oncue_resume_commits_total", NULL, (double)atomic_load(&m->log.commits));
    oc_metrics_family(b, "oncue_resume_committed_changes_total", "counter",
                      "Resume device reports written or deleted by those commits.");
    oc_metrics_sample(b, "oncue_resume_committed_changes_total", NULL,
                      (double)atomic_load(&m->log.rows));
    oc_metrics_family(b, "oncue_resume_snapshots_total", "counter",
                      "Snapshots of the resume table written by compacting its log.");
    oc_metrics_sample(b, "oncue_resume_snapshots_total", NULL,
                      (double)atomic_load(&m->log.compactions));
    if (!m->shared)
        return;
    uint64_t sh[5];
    resume_shared_stats(m->shared, sh);
    oc_metrics_family(b, "oncue_resume_shared_inserts_total", "counter",
                      "Group commits inserted into PostgreSQL's resume_changes, by outcome.");
    const char *ok[] = {"outcome", "ok", NULL}, *failed[] = {"outcome", "error", NULL};
    oc_metrics_sample(b, "oncue_resume_shared_inserts_total", ok, (double)sh[0]);
    oc_metrics_sample(b, "oncue_resume_shared_inserts_total", failed, (double)sh[1]);
    oc_metrics_family(b, "oncue_resume_shared_rows_read_total", "counter",
                      "Rows of resume_changes read by the poller (this replica's own included).");
    oc_metrics_sample(b, "oncue_resume_shared_rows_read_total", NULL, (double)sh[2]);
    oc_metrics_family(b, "oncue_resume_shared_read_errors_total", "counter",
                      "Polls of resume_changes that failed, and rows whose bytes did not scan.");
    oc_metrics_sample(b, "oncue_resume_shared_read_errors_total", NULL,
                      (double)(sh[3] + atomic_load(&m->st.bad_rows)));
    oc_metrics_family(b, "oncue_resume_shared_folded_total", "counter",
                      "Other replicas' reports folded into this one's table, by outcome.");
    for (int i = 0; i < 3; i++) {
        const char *labels[] = {"outcome", outcome_names[i], NULL};
        oc_metrics_sample(b, "oncue_resume_shared_folded_total", labels,
                          (double)atomic_load(&m->st.folded[i]));
    }
    oc_metrics_family(b, "oncue_resume_shared_cursor", "gauge",
                      "The id of resume_changes up to which every row is folded.");
    oc_metrics_sample(b, "oncue_resume_shared_cursor", NULL, (double)sh[4]);
}

#define F(field) offsetof(struct resume_opts, field)

static const struct oc_setting settings[] = {
    {"resume.idle_s", OC_SETTING_INT, "60", 1, 86400, NULL, F(idle_s), NULL,
     "a playing report heard this long before the newest report of its point counts as idle"},
    {"resume.watched_below_pct", OC_SETTING_PCT, "5", 0, 100, NULL, F(watched_lo), NULL,
     "continue watching leaves out titles whose position is under this share of the duration"},
    {"resume.watched_above_pct", OC_SETTING_PCT, "90", 0, 100, NULL, F(watched_hi), NULL,
     "continue watching leaves out titles whose position is over this share of the duration"},
    {"resume.min_duration_s", OC_SETTING_INT, "300", 0, 604800, NULL, F(min_duration_s), NULL,
     "continue watching leaves out titles shorter than this"},
    {"resume.max_points", OC_SETTING_INT, "2000000", 1, 1000000000, NULL, F(max_points), NULL,
     "resume points (profile and title) held in memory, about 400 bytes each with one device;"
     " writes for new ones past it answer 409"},
    {"resume.max_titles", OC_SETTING_INT, "10000", 1, 1000000, NULL, F(max_titles), NULL,
     "titles one profile may hold; writes for new ones past it answer 409"},
    {"resume.row_limit", OC_SETTING_INT, "20", 1, ROW_MAX_LIMIT, NULL, F(row_limit), NULL,
     "items of the continue-watching row when the request sets no limit"},
    {"resume.log_compact_mib", OC_SETTING_INT, "256", 1, 1048576, NULL, F(compact_mib), NULL,
     "the resume log (DATA/resume) is compacted into a new snapshot once it passes this many"
     " MiB and 4 times the last snapshot"},
    {"resume.shared", OC_SETTING_BOOL, "true", 0, 0, NULL, F(shared), NULL,
     "with store.backend postgres: replicas share resume points through PostgreSQL (each commit"
     " is inserted there before it is answered, and every replica folds the others'); false:"
     " each node's own (no effect on sqlite)"},
    {"resume.shared_poll_ms", OC_SETTING_INT, "200", 10, 60000, NULL, F(shared_poll_ms), NULL,
     "with resume.shared: how often a replica reads the other replicas' writes (a read on one"
     " replica sees a write to another within about this)"},
    {"resume.shared_forget_s", OC_SETTING_INT, "86400", 60, 31536000, NULL, F(forget_s), NULL,
     "with resume.shared: a replica silent this long no longer holds back the trimming of"
     " shared changes (back, it reloads from the base)"},
    {0},
};

#undef F

#define SNAPSHOT_CHUNK 4096 /* reports encoded per hold of the read lock (a few ms) */

/* The compactor's view of the table: every report, SNAPSHOT_CHUNK at a time under the read
 * lock, so writers wait milliseconds, not the whole encoding. Not one moment's table: a
 * report written meanwhile may be encoded as before or after; it is in the log segment that
 * follows the snapshot either way (opened before this started), and replay sets it again. */
static void snapshot_table(void *arg, struct resume_bytes *b)
{
    struct resume_mod *m = arg;
    for (size_t i = 0, done = 0; !done;) {
        oc_rdlock(&m->lock);
        i = resume_table_encode_from(&m->table, b, i, SNAPSHOT_CHUNK);
        done = i >= m->table.npb;
        oc_rwunlock(&m->lock);
    }
}

/* Folds one change of another replica (resume_table_merge); snapshot marks (the base) pass. */
static int fold_one(void *arg, int kind, uint64_t a, uint64_t c, const struct resume_op *op)
{
    struct resume_mod *m = arg;
    (void)a;
    (void)c;
    if (kind != RESUME_REC_CHANGES)
        return 0;
    int rc = resume_table_merge(&m->table, op, (size_t)m->o.max_points, (int)m->o.max_titles);
    if (rc < 0)
        atomic_fetch_add(&m->st.full, 1);
    else
        atomic_fetch_add(&m->st.folded[rc], 1);
    return 0;
}

/* shared.c's fold: one row of another replica (or the base) into the table, under its write
 * lock; bytes that do not scan are logged and the rest of the row skipped. */
static void fold_shared(void *arg, const void *p, size_t n, int64_t id)
{
    struct resume_mod *m = arg;
    struct resume_scan sc;
    oc_wrlock(&m->lock);
    resume_log_scan(p, n, fold_one, m, &sc);
    oc_rwunlock(&m->lock);
    if (sc.used < n) {
        atomic_fetch_add(&m->st.bad_rows, 1);
        oc_log(OC_LOG_ERROR,
               "resume: shared: resume_changes row %lld: offset %zu: %s: the rest of the row"
               " is skipped",
               (long long)id, sc.used, sc.why ? sc.why : "unexpected");
    }
    resume_log_note_folded(&m->log, n);
}

/* With resume.shared on PostgreSQL: connects, folds what the other replicas wrote since the
 * loaded snapshot, starts the poller; each commit goes to PostgreSQL from then on. 0 or the
 * error (logged). */
static int share(struct resume_mod *m, struct oc_app *app)
{
    char err[1400];
    if (strcmp(store_backend(app->store), "postgres") != 0)
        return 0;
    if (!m->o.shared) {
        oc_log(OC_LOG_WARN, "resume: resume.shared is off: the resume points (DATA/resume) are"
                            " this node's own; with several replicas, run resume on one of them");
        return 0;
    }
    int sync = strcmp(app->cfg->store_sync ? app->cfg->store_sync : "full", "normal") != 0;
    struct store_opts so = {.dir = app->cfg->data_dir,
                            .sync = sync ? STORE_SYNC_FULL : STORE_SYNC_NORMAL,
                            .backend = "postgres",
                            .postgres = app->cfg->store_postgres};
    int rc = resume_shared_open(&so, m->log.dir, m->log.cursor0, m->o.shared_poll_ms, m->o.forget_s,
                                fold_shared, m, &m->shared, err, sizeof err);
    if (rc) {
        oc_log(OC_LOG_ERROR, "resume: cannot share the resume points through PostgreSQL: %s", err);
        return rc;
    }
    m->log.shared = m->shared; /* before any writer */
    resume_shared_start(m->shared);
    return 0;
}

/* Module init: needs the store (its data directory, and the reports an older version stored
 * there); loads the log. */
static int resume_init(struct oc_app *app, void **state)
{
    struct resume_opts def;
    char err[1400];
    *state = NULL;
    if (!app->store || !app->cfg || (app->http && !app->cfg->data_dir)) {
        oc_log(OC_LOG_ERROR, "resume: the module needs the store");
        return OC_EINVAL;
    }
    struct resume_mod *m = oc_calloc(1, sizeof *m);
    m->app = app;
    m->o = *(const struct resume_opts *)config_module_opts(app->cfg, &resume_module, &def);
    pthread_rwlock_init(&m->lock, NULL);
    resume_table_init(&m->table);
    int sync = !app->cfg->store_sync || strcmp(app->cfg->store_sync, "normal") != 0;
    /* only `serve` has the routes that write; a drill or a pipeline test keeps no files
     * (its configuration's data directory is not its store's) */
    const char *dir = app->http ? app->cfg->data_dir : NULL;
    int merge = dir && m->o.shared && strcmp(store_backend(app->store), "postgres") == 0;
    int rc = resume_log_open(&m->log, dir, sync, merge, app->store, &m->table, err, sizeof err);
    if (rc) {
        oc_log(OC_LOG_ERROR, "resume: cannot load the log: %s", err);
        resume_table_free(&m->table);
        pthread_rwlock_destroy(&m->lock);
        free(m);
        return rc;
    }
    if (dir && (rc = share(m, app)) != 0) {
        resume_log_close(&m->log);
        resume_table_free(&m->table);
        pthread_rwlock_destroy(&m->lock);
        free(m);
        return rc;
    }
    if (dir)
        resume_log_start_compactor(&m->log, (uint64_t)m->o.compact_mib << 20, snapshot_table, m);
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    pthread_mutex_init(&m->pmu, NULL);
    pthread_cond_init(&m->pcv, NULL);
    m->committer_started = pthread_create(&m->committer, NULL, committer_main, m) == 0;
    if (!m->committer_started)
        oc_log(OC_LOG_WARN, "resume: no committer thread; writes wait for their commit");
    *state = m;
    return 0;
}

/* Module stop: every write was committed before it was answered; frees the table. */
static void resume_stop(struct oc_app *app, void *state)
{
    struct resume_mod *m = state;
    (void)app;
    if (!m)
        return;
    if (m->committer_started) { /* answers every write still queued, then ends */
        pthread_mutex_lock(&m->pmu);
        m->stopping = 1;
        pthread_cond_signal(&m->pcv);
        pthread_mutex_unlock(&m->pmu);
        pthread_join(m->committer, NULL);
    }
    free(m->pend);
    pthread_cond_destroy(&m->pcv);
    pthread_mutex_destroy(&m->pmu);
    resume_shared_stop(m->shared); /* its folds note their bytes in the log */
    resume_log_close(&m->log);     /* the compactor may still record a snapshot in it */
    resume_shared_close(m->shared);
    resume_table_free(&m->table);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

static const struct http_route routes[] = {
    {"PUT", "/v1/resume/{profile}/{title}", put_point, HTTP_INGEST, RESUME_PUT_MAX_BODY,
     "one device's playback report -> the outcome and the winning resume point (409: stale)"},
    {"POST", "/v1/resume", post_batch, HTTP_INGEST, RESUME_BATCH_MAX_BODY,
     "a JSON array of reports, each with profile and title -> applied, coalesced, stale"},
    {"GET", "/v1/resume/{profile}/{title}", get_point, HTTP_VIEWER, 0,
     "the resume point of a profile's title (the winning report)"},
    {"GET", "/v1/resume/{profile}", get_row, HTTP_VIEWER, 0,
     "continue watching: ?limit=N unwatched points, most recent first -> {\"items\": [...]}"},
    {0},
};

const struct oc_module resume_module = {
    .name = "resume",
    .summary = "cross-device resume points: device reports, the conflict rule, continue watching",
    .init = resume_init,
    .routes = routes,
    .stop = resume_stop,
    .settings = settings,
    .opts_size = sizeof(struct resume_opts),
};
