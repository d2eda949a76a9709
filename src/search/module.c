/*
 * module.c - the `search` module: POST /v1/titles, DELETE /v1/titles/{id}, GET /v1/search,
 * its settings (synonyms, the ranking weights), its snapshot timer and its /metrics.
 *
 * A write holds the writer mutex: it commits to SQLite first (one transaction, one new
 * generation), then applies the same change to the index under the index's write lock, so
 * an answered write is on disk and already searchable. Queries take the read lock. At start
 * the index is read from its snapshot (search.idx next to the database file) and the rows of
 * later generations are applied; without a usable snapshot it is rebuilt from the table.
 */
#include "search/search_int.h"
#include "search/sql.h"
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
#include "qoe/qoe.h"
#include "store/store.h"

#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUT_CHUNK 256 /* titles applied per hold of the index's write lock */
#define COMPACT_MIN                                                                                \
    1000 /* dead slots past which (and past a quarter of the live) a snapshot compacts */
#define TRIM_AFTER 1000 /* titles of a request after which freed memory goes back to the OS */

/* The module's settings. */
struct search_opts {
    char *synonyms;                           /* search.synonyms */
    int64_t def_limit;                        /* search.default_limit */
    int64_t snapshot_s;                       /* search.snapshot_interval_s */
    double w_text, w_pop, w_rec;              /* search.weight_* */
    int64_t half_life_y;                      /* search.recency_half_life_years */
    double f_title, f_alt, f_people, f_desc;  /* search.field_*_pct */
    double phrase, coverage;                  /* search.phrase_boost_pct, coverage_pct */
    double q_prefix, q_typo1, q_typo2, q_syn; /* search.match_*_pct */
    int64_t pop_window_h;                     /* search.popularity_window_h */
    int64_t pop_refresh_s;                    /* search.popularity_refresh_s */
};

struct search_stats {
    atomic_ullong queries, put, replaced, deleted, invalid, store;
    atomic_ullong played; /* titles whose popularity is their plays */
    atomic_ullong folds;  /* plays folded from the QoE cube */
};

struct search_mod {
    struct oc_app *app;
    pthread_rwlock_t lock; /* guards x */
    pthread_mutex_t wmu;   /* one writer at a time: the store, then the index; guards gen */
    struct search_index *x;
    struct search_opts o;
    struct search_weights w;
    struct search_synonyms syn;
    int64_t gen;      /* the last generation written */
    int64_t snap_gen; /* the generation the snapshot file holds */
    int64_t snap_ms;  /* when it was written (the app's clock) */
    char path[4096];  /* the snapshot file */
    struct search_stats st;
    struct search_plays *plays; /* NULL: search.popularity_window_h is 0 */
    int64_t plays_ms;           /* the last fold (the app's clock; 0: none yet) */
};

/* Writes the generation's rows of titles (JSON texts in docs) in one transaction. */
static int store_titles(struct search_mod *m, const struct search_title *t, char **docs, size_t n,
                        int64_t gen)
{
    struct store *s = m->app->store;
    struct store_stmt *st = NULL;
    int rc = store_begin(s);
    if (rc)
        return rc;
    rc = store_prepare(s, SEARCH_SQL_PUT, &st);
    for (size_t i = 0; i < n && !rc; i++) {
        rc = STORE_BIND(st, STORE_TEXT(t[i].id), STORE_TEXT(docs[i]), STORE_INT(gen));
        if (!rc)
            rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    if (rc) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s);
}

/* Counts tag s of kind k into seen (a scratch index's dictionaries) when x lacks it. */
static void new_tag(const struct search_index *x, struct search_index *seen, int k, const char *s)
{
    if (search_tag_find(x, k, s) < 0)
        search_tag_intern(seen, k, s);
}

/* 0 when the new distinct tags of the titles fit the index's caps, else OC_ETOOBIG. */
static int tags_fit(const struct search_index *x, const struct search_title *t, size_t n)
{
    struct search_index *seen = search_index_new();
    int rc = x->ndocs + n > SEARCH_DOCS_MAX ? OC_ETOOBIG : 0;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < t[i].ngenres; k++)
            new_tag(x, seen, TAG_GENRE, t[i].genres[k]);
        for (int k = 0; k < t[i].nregions; k++)
            new_tag(x, seen, TAG_REGION, t[i].regions[k]);
        for (int k = 0; k < t[i].nentitlements; k++)
            new_tag(x, seen, TAG_ENT, t[i].entitlements[k]);
        if (t[i].language)
            new_tag(x, seen, TAG_LANG, t[i].language);
    }
    for (int k = 0; k < TAG_KINDS; k++) /* seen stops at the cap: a full one is over it */
        if (x->tags[k].n + seen->tags[k].n > SEARCH_TAGS_MAX || seen->tags[k].n == SEARCH_TAGS_MAX)
            rc = OC_ETOOBIG;
    search_index_destroy(seen);
    return rc;
}

/* Applies the titles to the index, a chunk per hold of the write lock; counts replacements. */
static size_t index_titles(struct search_mod *m, const struct search_title *t, size_t n)
{
    size_t replaced = 0;
    for (size_t i = 0; i < n;) {
        oc_wrlock(&m->lock);
        for (size_t end = i + PUT_CHUNK; i < n && i < end; i++)
            replaced += search_index_put(m->x, &t[i]) == 1;
        oc_rwunlock(&m->lock);
    }
    return replaced;
}

/* POST /v1/titles: a JSON array or NDJSON of titles -> {"added", "replaced", "titles"} */
static void post_titles(struct http_req *req)
{
    struct search_mod *m = req->state;
    json_t *items = NULL;
    struct search_title *t = NULL;
    char **docs = NULL, err[300];
    size_t n = 0;
    int rc = search_parse_body(req->body, req->body_len, SEARCH_BATCH_MAX, &items, &t, &n, err,
                               sizeof err);
    if (rc) {
        atomic_fetch_add(&m->st.invalid, 1);
        http_problem(req, rc == OC_EINVAL ? 422 : rc == OC_ETOOBIG ? 413 : 400, "%s", err);
        return;
    }
    docs = oc_calloc(n, sizeof *docs);
    for (size_t i = 0; i < n; i++)
        docs[i] = json_dumps(json_array_get(items, i), JSON_COMPACT | JSON_SORT_KEYS);
    pthread_mutex_lock(&m->wmu);
    oc_rdlock(&m->lock);
    rc = tags_fit(m->x, t, n);
    oc_rwunlock(&m->lock);
    if (!rc && (rc = store_titles(m, t, docs, n, m->gen + 1)) == 0)
        m->gen++;
    size_t replaced = rc ? 0 : index_titles(m, t, n);
    size_t live = search_index_count(m->x);
    pthread_mutex_unlock(&m->wmu);
    json_decref(items); /* the parse tree of a bulk body is large: give its pages back */
    items = NULL;
#ifdef __GLIBC__
    if (n >= TRIM_AFTER)
        malloc_trim(0);
#endif
    if (rc == OC_ETOOBIG) {
        http_problem(req, 409,
                     "the index is full: at most %d distinct values of genres, "
                     "languages, regions or entitlements",
                     SEARCH_TAGS_MAX);
    } else if (rc) {
        atomic_fetch_add(&m->st.store, 1);
        http_problem(req, 503, "the titles could not be stored");
    } else {
        atomic_fetch_add(&m->st.put, n);
        atomic_fetch_add(&m->st.replaced, replaced);
        json_t *o = json_pack("{s:I,s:I,s:I}", "added", (json_int_t)(n - replaced), "replaced",
                              (json_int_t)replaced, "titles", (json_int_t)live);
        http_reply_json(req, 200, o);
    }
    for (size_t i = 0; i < n; i++)
        free(docs[i]);
    free(docs);
    free(t);
    json_decref(items);
}

/* Marks id deleted in the store under generation gen: 0, OC_ENOTFOUND or OC_EDB. */
static int store_delete(struct search_mod *m, const char *id, int64_t gen)
{
    struct store *s = m->app->store;
    struct store_stmt *st = NULL;
    store_lock(s);
    int rc = store_prepare(s, SEARCH_SQL_DELETE, &st);
    if (!rc)
        rc = STORE_BIND(st, STORE_TEXT(id), STORE_INT(gen));
    if (!rc)
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
    if (!rc && store_changes(s) == 0)
        rc = OC_ENOTFOUND;
    if (st)
        store_reset(st);
    store_unlock(s);
    return rc;
}

/* DELETE /v1/titles/{id} */
static void delete_title(struct http_req *req)
{
    struct search_mod *m = req->state;
    const char *id = http_param(req, "id");
    if (!id || !id[0] || strlen(id) > SEARCH_ID_MAX) {
        http_problem(req, 422, "id: 1 to %d bytes", SEARCH_ID_MAX);
        return;
    }
    pthread_mutex_lock(&m->wmu);
    int rc = store_delete(m, id, m->gen + 1);
    if (!rc) {
        m->gen++;
        oc_wrlock(&m->lock);
        search_index_delete(m->x, id);
        oc_rwunlock(&m->lock);
    }
    pthread_mutex_unlock(&m->wmu);
    if (rc == OC_ENOTFOUND) {
        http_problem(req, 404, "no title %s", id);
    } else if (rc) {
        atomic_fetch_add(&m->st.store, 1);
        http_problem(req, 503, "the deletion could not be stored");
    } else {
        atomic_fetch_add(&m->st.deleted, 1);
        http_reply_json(req, 200, json_pack("{s:s}", "deleted", id));
    }
}

static const char *req_param(void *arg, const char *name)
{
    return http_query(arg, name);
}

/* The facets of r as the API's JSON object. */
static json_t *facets_json(const struct search_result *r)
{
    json_t *f = json_object();
    const struct search_facet *lists[] = {r->genre, r->language, r->kind, r->year};
    const int counts[] = {r->ngenre, r->nlanguage, r->nkind, r->nyear};
    const char *names[] = {"genre", "language", "kind", "year"};
    for (int l = 0; l < 4; l++) {
        json_t *a = json_array();
        for (int i = 0; i < counts[l]; i++) {
            const struct search_facet *v = &lists[l][i];
            json_array_append_new(a,
                                  json_pack("{s:o,s:I}", "value",
                                            l == 3 ? json_integer(v->year) : json_string(v->value),
                                            "count", (json_int_t)v->count));
        }
        json_object_set_new(f, names[l], a);
    }
    return f;
}

/* The current year by the app's clock (for recency). */
static int now_year(struct search_mod *m)
{
    time_t s = (time_t)(oc_clock_now_ms(m->app->clock) / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    return tm.tm_year + 1900;
}

/* GET /v1/search?q=...&limit=N&... -> {"hits", "total", "facets", "took_ms"} */
static void get_search(struct http_req *req)
{
    struct search_mod *m = req->state;
    struct search_query q;
    struct search_result *r = oc_malloc(sizeof *r);
    struct timespec t0, t1;
    char err[200];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (search_query_parse(req_param, req, (int)m->o.def_limit, &q, err, sizeof err) != 0) {
        http_problem(req, 422, "%s", err);
        free(r);
        return;
    }
    int year = now_year(m);
    json_t *hits = json_array();
    oc_rdlock(&m->lock);
    search_run(m->x, &q, &m->syn, &m->w, year, r);
    for (int i = 0; i < r->nhits; i++)
        search_hit_json(m->x, &r->hits[i], hits);
    json_t *facets = facets_json(r);
    oc_rwunlock(&m->lock);
    atomic_fetch_add(&m->st.queries, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    json_t *o = json_pack("{s:o,s:I,s:o,s:b,s:f}", "hits", hits, "total", (json_int_t)r->total,
                          "facets", facets, "facets_sampled", r->facets_sampled, "took_ms",
                          round(took * 1000) / 1000);
    free(r);
    http_reply_json(req, 200, o);
}

/* Applies the stored rows written after generation from; the number applied, or -1. */
static long apply_since(struct search_mod *m, int64_t from)
{
    struct store *s = m->app->store;
    struct store_stmt *st = NULL;
    struct search_title t;
    char err[300];
    long n = 0;
    store_lock(s);
    int rc = store_prepare(s, SEARCH_SQL_SINCE, &st);
    if (!rc)
        rc = STORE_BIND(st, STORE_INT(from));
    while (!rc && (rc = store_step(st)) == STORE_ROW) {
        const char *id = store_col_text(st, 0), *doc = store_col_text(st, 1);
        json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
        rc = 0;
        if (!doc)
            search_index_delete(m->x, id);
        else if (!j || search_parse_title(j, &t, err, sizeof err) != 0 ||
                 search_index_put(m->x, &t) < 0)
            oc_log(OC_LOG_WARN, "search: stored title %s skipped", id);
        json_decref(j);
        n++;
    }
    if (st)
        store_reset(st);
    store_unlock(s);
    return rc < 0 ? -1 : n;
}

/* Reads the latest generation stored into *gen. */
static int stored_gen(struct store *s, int64_t *gen)
{
    struct store_stmt *st = NULL;
    store_lock(s);
    int rc = store_prepare(s, SEARCH_SQL_GEN, &st);
    if (!rc)
        rc = store_step(st) == STORE_ROW ? 0 : OC_EDB;
    *gen = rc ? 0 : store_col_int(st, 0);
    if (st)
        store_reset(st);
    store_unlock(s);
    return rc;
}

/* Loads the index: the snapshot when it is usable, then the later rows. */
static int load(struct search_mod *m)
{
    struct timespec t0, t1;
    int64_t snap = 0;
    const char *how = "rebuilt from the store";
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (stored_gen(m->app->store, &m->gen) != 0)
        return OC_EDB;
    int rc = m->path[0] ? search_snapshot_read(m->path, &m->x, &snap) : OC_ENOTFOUND;
    if (rc == 0 && snap > m->gen) {
        search_index_destroy(m->x);
        m->x = NULL;
        how = "rebuilt from the store (the snapshot is newer than the store)";
    } else if (rc == 0) {
        how = "read from the snapshot";
    } else if (rc != OC_ENOTFOUND) {
        how = "rebuilt from the store (the snapshot is unreadable)";
    }
    if (!m->x) {
        m->x = search_index_new();
        snap = 0;
    }
    long n = apply_since(m, snap);
    if (n < 0)
        return OC_EDB;
    m->snap_gen = n ? -1 : snap;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    oc_log(OC_LOG_INFO, "search: %zu titles %s, %ld later changes applied, in %.0f ms",
           search_index_count(m->x), how, n,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return 0;
}

/* Writes the snapshot when the index changed since the last one (compacting it first when
 * replaced and deleted titles hold more than a quarter of the slots), then drops the
 * tombstones it covers. Holds the writer mutex (writes wait) and the read lock (queries go
 * on; the compaction takes the write lock). */
static void snapshot(struct search_mod *m)
{
    pthread_mutex_lock(&m->wmu);
    int64_t gen = m->gen;
    size_t dead = search_index_dead(m->x), unordered = search_index_unordered(m->x);
    size_t live = search_index_count(m->x);
    int reorder = search_index_reorder_due(m->x);
    if ((gen == m->snap_gen && !reorder) || !m->path[0]) {
        pthread_mutex_unlock(&m->wmu);
        return;
    }
    if ((dead > COMPACT_MIN && dead > live / 4) || reorder) {
        int64_t t0 = oc_mono_ns();
        oc_wrlock(&m->lock);
        search_index_compact(m->x);
        oc_rwunlock(&m->lock);
        oc_log(OC_LOG_INFO,
               "search: compacted the index in %lld ms: %zu slots of replaced or deleted titles"
               " dropped, %zu titles put in static order",
               (long long)((oc_mono_ns() - t0) / 1000000), dead, unordered);
    }
    oc_rdlock(&m->lock);
    int rc = search_snapshot_write(m->x, gen, m->path);
    oc_rwunlock(&m->lock);
    if (rc == 0) {
        struct store_stmt *st = NULL;
        store_lock(m->app->store);
        if (store_prepare(m->app->store, SEARCH_SQL_PURGE, &st) == 0) {
            STORE_BIND(st, STORE_INT(gen));
            store_step(st);
            store_reset(st);
        }
        store_unlock(m->app->store);
        m->snap_gen = gen;
    } else {
        oc_log(OC_LOG_WARN, "search: cannot write %s", m->path);
    }
    pthread_mutex_unlock(&m->wmu);
}

/* Timer: a snapshot every search.snapshot_interval_s while titles change. */
static void snapshot_timer(struct oc_app *app, void *state)
{
    struct search_mod *m = state;
    int64_t now = oc_clock_now_ms(app->clock);
    if (now - m->snap_ms < m->o.snapshot_s * 1000)
        return;
    m->snap_ms = now;
    snapshot(m);
}

/* Timer: every search.popularity_refresh_s, folds the QoE cube's new minutes into the plays
 * per title and gives the index the titles whose plays changed (under the writer mutex, then
 * the write lock for the changes only). Without the qoe module nothing is counted and every
 * title keeps its own popularity. */
static void plays_timer(struct oc_app *app, void *state)
{
    struct search_mod *m = state;
    struct qoe_cube *c = m->plays ? qoe_cube_of(app) : NULL;
    int64_t now = oc_clock_now_ms(app->clock);
    if (!c || (m->plays_ms && now - m->plays_ms < m->o.pop_refresh_s * 1000))
        return;
    int first = !m->plays_ms;
    m->plays_ms = now;
    size_t n = 0;
    int64_t t0 = oc_mono_ns();
    static _Atomic int64_t warned;
    if (search_plays_fold(m->plays, c, now / 1000, &n) != 0 && oc_log_due(&warned, 3600 * 1000))
        oc_log(OC_LOG_WARN, "search: the stored QoE history could not be read; plays count the"
                            " minutes in memory only");
    const char *const *ids = search_plays_ids(m->plays);
    const double *plays = search_plays_counts(m->plays);
    pthread_mutex_lock(&m->wmu);
    oc_wrlock(&m->lock);
    search_index_set_plays(m->x, ids, plays, n);
    size_t known = 0;
    for (size_t i = 0; i < n; i++)
        known += plays[i] >= 0 && search_index_played(m->x, ids[i]) == 1;
    oc_rwunlock(&m->lock);
    pthread_mutex_unlock(&m->wmu);
    atomic_store(&m->st.played, known);
    atomic_fetch_add(&m->st.folds, 1);
    int64_t took = (oc_mono_ns() - t0) / 1000000;
    if (first || took >= 100) /* the first fold reads the whole window */
        oc_log(OC_LOG_INFO, "search: plays folded in %lld ms: %zu titles played in the last %lld h",
               (long long)took, known, (long long)m->o.pop_window_h);
}

/* /metrics: titles, index bytes, queries, writes. */
static void render(struct oc_buf *b, void *arg)
{
    struct search_mod *m = arg;
    oc_rdlock(&m->lock);
    double titles = (double)search_index_count(m->x), bytes = (double)search_index_bytes(m->x);
    oc_rwunlock(&m->lock);
    oc_metrics_family(b, "oncue_search_titles", "gauge", "Titles the search index holds.");
    oc_metrics_sample(b, "oncue_search_titles", NULL, titles);
    oc_metrics_family(b, "oncue_search_index_bytes", "gauge",
                      "Approximate bytes of the search index in memory.");
    oc_metrics_sample(b, "oncue_search_index_bytes", NULL, bytes);
    oc_metrics_family(b, "oncue_search_queries_total", "counter", "Searches answered.");
    oc_metrics_sample(b, "oncue_search_queries_total", NULL, (double)atomic_load(&m->st.queries));
    oc_metrics_family(b, "oncue_search_writes_total", "counter",
                      "Titles written, by operation (put: added or replaced, deleted), and"
                      " requests refused (invalid) or not stored (store).");
    const char *ops[] = {"put", "replaced", "deleted", "invalid", "store"};
    atomic_ullong *v[] = {&m->st.put, &m->st.replaced, &m->st.deleted, &m->st.invalid,
                          &m->st.store};
    for (int i = 0; i < 5; i++) {
        const char *labels[] = {"op", ops[i], NULL};
        oc_metrics_sample(b, "oncue_search_writes_total", labels, (double)atomic_load(v[i]));
    }
    oc_metrics_family(b, "oncue_search_titles_played", "gauge",
                      "Titles whose popularity is their plays in the QoE cube over"
                      " search.popularity_window_h (the others rank by their own field).");
    oc_metrics_sample(b, "oncue_search_titles_played", NULL, (double)atomic_load(&m->st.played));
    oc_metrics_family(b, "oncue_search_popularity_folds_total", "counter",
                      "Times the QoE cube's plays were folded into the titles' popularity.");
    oc_metrics_sample(b, "oncue_search_popularity_folds_total", NULL,
                      (double)atomic_load(&m->st.folds));
}

#define F(field) offsetof(struct search_opts, field)

static const struct oc_setting settings[] = {
    {"search.synonyms", OC_SETTING_STR, "film,movie;tv,television;xmas,christmas", 0, 0, NULL,
     F(synonyms), NULL,
     "groups of interchangeable query words: words joined by \",\", groups by \";\""},
    {"search.default_limit", OC_SETTING_INT, "10", 1, SEARCH_LIMIT_MAX, NULL, F(def_limit), NULL,
     "hits of a search that sets no limit"},
    {"search.snapshot_interval_s", OC_SETTING_INT, "60", 1, 86400, NULL, F(snapshot_s), NULL,
     "the index is written to search.idx next to the database this often while titles change"
     " (and at stop)"},
    {"search.weight_text_pct", OC_SETTING_PCT, "80", 0, 100, NULL, F(w_text), NULL,
     "share of the score from text relevance"},
    {"search.weight_popularity_pct", OC_SETTING_PCT, "12", 0, 100, NULL, F(w_pop), NULL,
     "share of the score from popularity (log-scaled to the most popular title)"},
    {"search.weight_recency_pct", OC_SETTING_PCT, "8", 0, 100, NULL, F(w_rec), NULL,
     "share of the score from recency (by year)"},
    {"search.recency_half_life_years", OC_SETTING_INT, "10", 1, 200, NULL, F(half_life_y), NULL,
     "a title this many years old gets half the recency of this year's"},
    {"search.field_title_pct", OC_SETTING_PCT, "100", 0, 100, NULL, F(f_title), NULL,
     "weight of a word matched in the title"},
    {"search.field_alt_pct", OC_SETTING_PCT, "80", 0, 100, NULL, F(f_alt), NULL,
     "weight of a word matched in the original title, an alternative title or the series"},
    {"search.field_people_pct", OC_SETTING_PCT, "60", 0, 100, NULL, F(f_people), NULL,
     "weight of a word matched in people"},
    {"search.field_description_pct", OC_SETTING_PCT, "30", 0, 100, NULL, F(f_desc), NULL,
     "weight of a word matched in the description"},
    {"search.phrase_boost_pct", OC_SETTING_PCT, "50", 0, 100, NULL, F(phrase), NULL,
     "bonus, in words, when the query's words follow each other in the title"},
    {"search.coverage_pct", OC_SETTING_PCT, "50", 0, 100, NULL, F(coverage), NULL,
     "bonus, in words, times the share of the title's words the query matched"},
    {"search.match_prefix_pct", OC_SETTING_PCT, "80", 0, 100, NULL, F(q_prefix), NULL,
     "quality of a completed last word (rising to 100 as the prefix nears the word)"},
    {"search.match_typo1_pct", OC_SETTING_PCT, "70", 0, 100, NULL, F(q_typo1), NULL,
     "quality of a word matched with one edit"},
    {"search.match_typo2_pct", OC_SETTING_PCT, "50", 0, 100, NULL, F(q_typo2), NULL,
     "quality of a word matched with two edits"},
    {"search.match_synonym_pct", OC_SETTING_PCT, "95", 0, 100, NULL, F(q_syn), NULL,
     "quality of a word matched through a synonym"},
    {"search.popularity_window_h", OC_SETTING_INT, "168", 0, 720, NULL, F(pop_window_h), NULL,
     "a title's popularity is its plays (starts) in the QoE cube over this many hours when it"
     " has any, else its own popularity field; 0: the field only"},
    {"search.popularity_refresh_s", OC_SETTING_INT, "60", 1, 86400, NULL, F(pop_refresh_s), NULL,
     "plays are folded into the titles' popularity this often"},
    {0},
};

#undef F

/* The snapshot's file: search.idx in the store's data directory (next to oncue.db on SQLite,
 * next to oncue.key on PostgreSQL), or "" (no snapshots) when the path does not fit. */
static void snapshot_path(struct store *s, char *path, size_t n)
{
    const char *dir = store_dir(s);
    path[0] = 0;
    if (dir && strlen(dir) + sizeof "/search.idx" <= n)
        snprintf(path, n, "%s/search.idx", dir);
}

/* The weights from the settings; the blend is scaled to sum to 1. */
static void weights_of(const struct search_opts *o, struct search_weights *w)
{
    search_weights_default(w);
    double sum = o->w_text + o->w_pop + o->w_rec;
    if (sum <= 0)
        sum = 1;
    w->text = o->w_text / sum;
    w->popularity = o->w_pop / sum;
    w->recency = o->w_rec / sum;
    w->recency_half_life_y = (double)o->half_life_y;
    w->f_title = o->f_title, w->f_alt = o->f_alt, w->f_people = o->f_people;
    w->f_desc = o->f_desc, w->phrase = o->phrase, w->coverage = o->coverage;
    w->q_prefix = o->q_prefix, w->q_typo1 = o->q_typo1, w->q_typo2 = o->q_typo2;
    w->q_syn = o->q_syn;
}

/* Module init: needs the store; loads the index. */
static int search_init(struct oc_app *app, void **state)
{
    struct search_opts def;
    char err[300];
    *state = NULL;
    if (!app->store) {
        oc_log(OC_LOG_ERROR, "search: the module needs the store");
        return OC_EINVAL;
    }
    struct search_mod *m = oc_calloc(1, sizeof *m);
    m->app = app;
    m->o = *(const struct search_opts *)config_module_opts(app->cfg, &search_module, &def);
    weights_of(&m->o, &m->w);
    if (search_synonyms_parse(m->o.synonyms, &m->syn, err, sizeof err) != 0) {
        oc_log(OC_LOG_ERROR, "search: %s", err);
        free(m);
        return OC_EINVAL;
    }
    snapshot_path(app->store, m->path, sizeof m->path);
    pthread_rwlock_init(&m->lock, NULL);
    pthread_mutex_init(&m->wmu, NULL);
    int rc = load(m);
    if (rc) {
        oc_log(OC_LOG_ERROR, "search: cannot load the titles: %s", store_errmsg(app->store));
        search_index_destroy(m->x);
        search_synonyms_free(&m->syn);
        pthread_mutex_destroy(&m->wmu);
        pthread_rwlock_destroy(&m->lock);
        free(m);
        return rc;
    }
    m->snap_ms = oc_clock_now_ms(app->clock);
    if (m->o.pop_window_h > 0)
        m->plays = search_plays_new((int)m->o.pop_window_h);
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    if (oc_app_provide(app, SEARCH_PROVIDES, m) != 0)
        oc_log(OC_LOG_WARN, "search: cannot provide the titles' rights to other modules");
    *state = m;
    return 0;
}

/* Writes the tags of kind k among t[0..n) comma-separated into out (cap bytes). */
static void tag_list(const struct search_index *x, int k, const uint16_t *t, int n, char *out,
                     size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? "," : "", x->tags[k].s[t[i]]);
}

int search_title_avail(const struct oc_app *app, const char *id, char *regions, size_t rn,
                       char *ents, size_t en)
{
    struct search_mod *m = oc_app_find(app, SEARCH_PROVIDES);
    if (!m)
        return -1;
    oc_rdlock(&m->lock);
    uint32_t d = m->x->nids ? search_doc_find(m->x, id) : UINT32_MAX;
    int found = d != UINT32_MAX && m->x->docs[d].blob;
    if (found) {
        const struct sdoc *doc = &m->x->docs[d];
        const uint16_t *t = sdoc_tags(doc);
        tag_list(m->x, TAG_REGION, t + doc->ngenre, doc->nregion, regions, rn);
        tag_list(m->x, TAG_ENT, t + doc->ngenre + doc->nregion, doc->nent, ents, en);
    }
    oc_rwunlock(&m->lock);
    return found;
}

/* Module stop: writes the snapshot if titles changed; frees the index. */
static void search_stop(struct oc_app *app, void *state)
{
    struct search_mod *m = state;
    if (!m)
        return;
    oc_app_withdraw(app, SEARCH_PROVIDES);
    snapshot(m);
    search_index_destroy(m->x);
    search_plays_free(m->plays);
    search_synonyms_free(&m->syn);
    pthread_mutex_destroy(&m->wmu);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

static const struct http_route routes[] = {
    {"POST", "/v1/titles", post_titles, HTTP_ADMIN, SEARCH_BODY_MAX,
     "a JSON array or NDJSON of titles (each with id and title) added or replaced -> added,"
     " replaced, titles"},
    {"DELETE", "/v1/titles/{id}", delete_title, HTTP_ADMIN, 0,
     "removes a title from the catalog search"},
    {"GET", "/v1/search", get_search, HTTP_VIEWER, 0,
     "?q=...&limit=N (genre, kind, language, year_min, year_max, region, entitlement, prefix,"
     " facets) -> {\"hits\": [...], \"total\", \"facets\", \"facets_sampled\", \"took_ms\"}"},
    {0},
};

static const struct oc_module_timer timers[] = {
    {"search-snapshot", 1000, snapshot_timer},
    {"search-plays", 1000, plays_timer},
    {0},
};

const struct oc_module search_module = {
    .name = "search",
    .summary = "catalog search: titles, typo-tolerant ranked search, facets",
    .init = search_init,
    .routes = routes,
    .timers = timers,
    .stop = search_stop,
    .settings = settings,
    .opts_size = sizeof(struct search_opts),
};
