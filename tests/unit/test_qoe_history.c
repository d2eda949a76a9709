/*
 * test_qoe_history.c - QoE history: ranges older than memory answer from the stored rows.
 *
 * Hours of generated events (t_qoe.h) persisted with 10 minutes in memory and rolled up to
 * 5-minute and hourly rows answer every metric exactly, also across store and memory, after a
 * restart and through GET /v1/qoe; an old-format 5-minute row still answers; a rollup reaching
 * into memory counts nothing twice. Store-backed: also runs on PostgreSQL (pg/test_qoe_history).
 */
#include "t_qoe.h"
#include "t_store.h"

#include "config/config.h"
#include "core/err.h"
#include "core/metrics.h"
#include "qoe/persist.h"
#include "store/store.h"

#include <unistd.h>

/* ---- history: ranges older than memory answer from the stored rows ---- */

#define TH0    1699999200LL     /* an hour boundary */
#define HSTART (TH0 - 600)      /* the events: [HSTART, HEND) */
#define HEND   (TH0 + 3 * 3600) /* 190 minutes */
#define HSESS  40               /* sessions */
#define HMEM   10               /* minutes kept in memory */

/* A cube keeping HMEM minutes in memory, rolling minutes up after an hour and 5-minute
 * rows after two, loaded from st (persistence on). */
static struct qoe_cube *history_cube(struct oc_clock *clk, struct store *st)
{
    struct qoe_cube_opts o;
    char err[256];
    qoe_cube_opts_default(&o);
    o.memory_minutes = HMEM;
    o.rollup_5m_after_s = 3600;
    o.rollup_1h_after_s = 7200;
    oc_clock_init(clk, OC_CLOCK_VIRTUAL, HSTART * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, clk);
    T_EQ_INT(qoe_cube_load(c, st, err, sizeof err), 0);
    return c;
}

static int64_t stored_rows(struct store *st, int res)
{
    struct store_stmt *q;
    int64_t n = -1;
    store_lock(st);
    if (store_prepare(st, "SELECT count(*) FROM qoe_minutes WHERE res = ?", &q) == 0) {
        store_bind_int(q, 1, res);
        if (store_step(q) == STORE_ROW)
            n = store_col_int(q, 0);
        store_reset(q);
    }
    store_unlock(st);
    return n;
}

/* Removes a test's store directory (the database, its WAL files and its key file). */
static void remove_store_dir(const char *dir)
{
    static const char *const files[] = {"oncue.db", "oncue.db-wal", "oncue.db-shm", "oncue.key"};
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    T_EQ_INT(rmdir(dir), 0);
}

static struct qoe_query hquery(int64_t from, int64_t to, int64_t step)
{
    struct qoe_query q = base_query();
    q.from = from, q.to = to, q.step = step;
    return q;
}

/* Top 2 of 4 pops over store and memory: the same groups, volumes and values as the first
 * two series of the full answer (the ranking pass reads the stored rows too). */
static void check_history_top(struct qoe_cube *c)
{
    char err[200];
    struct qoe_query q = hquery(TH0 - 3600, HEND, 3600);
    q.ngroup = 1, q.group_by[0] = BEACON_POP;
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *all = NULL, *two = NULL;
        q.metric = (enum qoe_metric)m;
        q.top = QOE_DEFAULT_TOP;
        T_EQ_INT(qoe_query_run(c, &q, &all, err, sizeof err), 0);
        q.top = 2;
        T_EQ_INT(qoe_query_run(c, &q, &two, err, sizeof err), 0);
        T_EQ_INT(all->nseries, 4);
        T_EQ_INT(two->nseries, 2);
        for (int s = 0; s < 2 && s < two->nseries && s < all->nseries; s++) {
            T_EQ_STR(two->series[s].values[0], all->series[s].values[0]);
            T_EQ_DBL(two->series[s].volume, all->series[s].volume, 0);
            for (int k = 0; k < two->npoints; k++) {
                double x = qoe_point(all, s, k), y = qoe_point(two, s, k);
                T_TRUE((isnan(x) && isnan(y)) || x == y);
            }
        }
        qoe_result_destroy(all);
        qoe_result_destroy(two);
    }
}

/* Every metric over (a) stored minute rows, (b) 5-minute rows, (c) hourly rows, (d) ranges
 * across all of them and memory. Returns points checked. */
static int check_history(struct qoe_cube *c)
{
    int n = 0;
    struct qoe_query q = hquery(TH0 + 7200, HEND - HMEM * 60, 60); /* (a) minute rows */
    n += check_all_metrics(c, q);
    q.step = 600, q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 7200, HEND - HMEM * 60, 1800); /* a last partial step */
    q.nfilters = 1, q.filters[0] = (struct qoe_filter){BEACON_REGION, "EMEA"};
    q.ngroup = 2, q.group_by[0] = BEACON_CDN, q.group_by[1] = BEACON_DEVICE;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 3600, TH0 + 7200, 300); /* (b) 5-minute rows */
    q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 3600, TH0 + 7200, 900);
    q.nfilters = 2;
    q.filters[0] = (struct qoe_filter){BEACON_POP, "FRA"};
    q.filters[1] = (struct qoe_filter){BEACON_POP, "AMS"};
    q.ngroup = 1, q.group_by[0] = BEACON_LIVE;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 3600, TH0 + 5400, 60); /* finer than the rows: see expected_res */
    n += check_metrics_res(c, q, 300);
    q = hquery(TH0 - 3600, TH0 + 3600, 3600); /* (c) hourly rows (the first one partial) */
    q.ngroup = 1, q.group_by[0] = BEACON_REGION;
    n += check_all_metrics(c, q);
    q = hquery(TH0 - 3600, TH0 + 3600, 7200);
    q.nfilters = 1, q.filters[0] = (struct qoe_filter){BEACON_CDN, "cdn-a"};
    n += check_all_metrics(c, q);
    q = hquery(TH0, TH0 + 3600, 600); /* finer than the rows */
    n += check_metrics_res(c, q, 3600);
    q = hquery(TH0 - 3600, HEND, HEND - TH0 + 3600); /* (d) everything, one point */
    n += check_all_metrics(c, q);
    q = hquery(TH0 - 3600, HEND, 3600); /* hours: 1h, 1h, 5m rows, minute rows + memory */
    q.ngroup = 1, q.group_by[0] = BEACON_DEVICE;
    n += check_all_metrics(c, q);
    q = hquery(TH0 + 6600, HEND + 120, 600); /* 5m rows, minute rows, memory, past the data */
    q.ngroup = 2, q.group_by[0] = BEACON_CDN, q.group_by[1] = BEACON_LIVE;
    n += check_all_metrics(c, q);
    check_history_top(c);
    return n;
}

/* GET /v1/qoe of the modules started on the store (10 minutes in memory): hourly plays from
 * the stored hourly rows, and every metric by the hour through the module's cube. */
static void history_http(struct store *st)
{
    struct oc_clock clk;
    static const struct oc_module *const mods[] = {&qoe_module, &ingest_module, NULL};
    struct oc_config cfg;
    char mem[32], why[256];
    config_init(&cfg, mods);
    snprintf(mem, sizeof mem, "%d", HMEM);
    T_EQ_INT(config_set(&cfg, "qoe.memory_minutes", mem, why, sizeof why), 0);
    struct oc_app app = {.metrics = oc_metrics_new(), .clock = &clk, .store = st, .cfg = &cfg};
    struct oc_buf b;
    void *ist = NULL, *qst = NULL;
    char err[256] = "", path[256], want[512];
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, HEND * 1000);
    struct http_server_opts o = {
        .listen = "127.0.0.1:0", .workers = 2, .max_body = 1 << 20, .arena_max = 1 << 24};
    struct http_server *srv = http_server_new(&o, &app);
    T_EQ_INT(ingest_module.init(&app, &ist), OC_ENOTFOUND); /* the cube is qoe's */
    T_EQ_INT(qoe_module.init(&app, &qst), 0);
    T_EQ_INT(ingest_module.init(&app, &ist), 0);
    T_EQ_INT(http_server_add_routes(srv, qoe_module.routes, qst), 0);
    struct http_hooks hooks = {.authenticate = any_token};
    http_server_set_hooks(srv, &hooks);
    T_EQ_INT(http_server_start(srv, err, sizeof err), 0);
    snprintf(base, sizeof base, "http://%s", http_server_addr(srv));
    oc_buf_init(&b, 1 << 20);
    struct qoe_query q = hquery(TH0 - 3600, TH0 + 3600, 3600);
    q.metric = QOE_PLAYS;
    snprintf(path, sizeof path, "/v1/qoe?metric=plays&from=%lld&to=%lld&step=3600",
             (long long)q.from, (long long)q.to);
    snprintf(want, sizeof want,
             "{\"metric\":\"plays\",\"from\":%lld,\"to\":%lld,\"step\":3600,\"series\":[{\"group\":"
             "{},\"points\":[[%lld,%.0f],[%lld,%.0f]]}]}\n",
             (long long)q.from, (long long)q.to, (long long)q.from,
             expected(&q, NULL, q.from, q.from + 3600), (long long)TH0,
             expected(&q, NULL, TH0, TH0 + 3600));
    T_EQ_INT(call("GET", path, "viewer", NULL, &b, NULL), 200);
    T_EQ_STR(b.data, want);
    T_TRUE(check_all_metrics(qoe_cube_of(&app), hquery(TH0 - 3600, HEND, 3600)) > 30);
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    ingest_module.stop(&app, ist);
    qoe_module.stop(&app, qst);
    T_TRUE(qoe_cube_of(&app) == NULL);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
    config_free(&cfg);
}

static void test_history_rollups_and_restart(void)
{
    char dir[] = "/tmp/oc-qoe-XXXXXX", err[256];
    struct store *st = NULL;
    struct oc_clock clk;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    struct qoe_cube *c = history_cube(&clk, st);
    generate_span(HSTART, (int)((HEND - HSTART) / 60), HSESS);
    T_TRUE(nev > 10000 && nev < MAXEV);
    T_EQ_INT(feed_store(c, &clk, st), (size_t)nev);
    T_EQ_INT(stored_rows(st, 60), (HEND - HSTART) / 60);
    oc_clock_set_ms(&clk, HEND * 1000);
    T_EQ_INT(qoe_cube_compact(c, st, oc_clock_now_s(&clk)), 0);
    T_EQ_INT(stored_rows(st, 60), 60);  /* [TH0 + 2 h, HEND) */
    T_EQ_INT(stored_rows(st, 300), 12); /* [TH0 + 1 h, TH0 + 2 h) */
    T_EQ_INT(stored_rows(st, 3600), 2); /* [TH0 - 1 h, TH0 + 1 h) */
    int64_t lo, hi;
    qoe_cube_window(c, &lo, &hi);
    T_EQ_INT(lo, HEND - HMEM * 60); /* the rest is in the store only */
    int checked = check_history(c);
    T_TRUE(checked > 1500);
    qoe_cube_destroy(c); /* restart: a new store handle and cube answer the same */
    store_close(st);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    c = history_cube(&clk, st);
    T_EQ_INT(check_history(c), checked);
    qoe_cube_destroy(c);
    history_http(st);
    store_close(st);
    remove_store_dir(dir);
}

/* Replaces every stored row with one 5-minute row at t in the format written before rollups
 * kept per-minute detail (blob v1), merged from the minutes of c in memory. */
static void store_legacy_rollup(struct qoe_cube *c, struct store *st, int64_t t)
{
    struct qoe_minute *ms[5];
    struct store_stmt *q;
    for (int i = 0; i < 5; i++)
        ms[i] = (struct qoe_minute *)qoe_cube_minute(c, t + 60 * i);
    struct qoe_minute *m = minute_merge(t, 300, ms, 5);
    free(m->det_off), free(m->det_n), free(m->det);
    m->det_off = m->det_n = NULL, m->det = NULL, m->ndet = 0;
    size_t len;
    void *blob = minute_encode(m, &len);
    store_lock(st);
    T_EQ_INT(store_prepare(st, "DELETE FROM qoe_minutes", &q), 0);
    T_EQ_INT(store_step(q), STORE_DONE);
    store_reset(q);
    T_EQ_INT(store_prepare(st, "INSERT INTO qoe_minutes(res, t, data) VALUES (300, ?, ?)", &q), 0);
    store_bind_int(q, 1, t);
    store_bind_blob(q, 2, blob, len);
    T_EQ_INT(store_step(q), STORE_DONE);
    store_reset(q);
    store_unlock(st);
    free(blob);
    qoe_minute_destroy(m);
}

/* A store holding only an old-format 5-minute row (after a restart): the memory window
 * starts after it, and it answers every metric but the per-minute ones (no detail: null). */
static void test_history_legacy_rollup(void)
{
    char dir[] = "/tmp/oc-qoe-XXXXXX", err[256];
    struct store *st = NULL;
    struct oc_clock clk;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    struct qoe_cube *c = history_cube(&clk, st);
    generate_span(TH0, 5, 30);
    T_EQ_INT(feed_store(c, &clk, st), (size_t)nev);
    store_legacy_rollup(c, st, TH0);
    qoe_cube_destroy(c);
    c = history_cube(&clk, st);
    int64_t lo, hi;
    qoe_cube_window(c, &lo, &hi);
    T_EQ_INT(lo, TH0 + 300);
    T_EQ_INT(hi, TH0 + 300);
    struct qoe_query q = hquery(TH0, TH0 + 300, 300);
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *r = NULL;
        q.metric = (enum qoe_metric)m;
        T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
        double got = r ? qoe_point(r, 0, 0) : 0;
        if (m == QOE_REBUFFERING_SHARE || m == QOE_CONCURRENT)
            T_TRUE(isnan(got));
        else if (!close_enough(q.metric, got, expected(&q, NULL, TH0, TH0 + 300)))
            T_FAIL_AT("%s: got %.12g", qoe_metrics[m].name, got);
        /* the edge metrics have no data here: no CDN logs came in */
        T_TRUE(!isnan(got) || m == QOE_REBUFFERING_SHARE || m == QOE_CONCURRENT ||
               m >= QOE_EDGE_REQUESTS);
        qoe_result_destroy(r);
    }
    qoe_cube_destroy(c);
    store_close(st);
    remove_store_dir(dir);
}

/* Memory longer than the rollup age: a 5-minute row reaches into the minutes in memory; it
 * wins over them and nothing counts twice (every metric over the whole range and by 5 min). */
static void test_history_rollup_into_memory(void)
{
    char dir[] = "/tmp/oc-qoe-XXXXXX", err[256];
    struct store *st = NULL;
    struct oc_clock clk;
    struct qoe_cube_opts o;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    qoe_cube_opts_default(&o);
    o.memory_minutes = 8;
    o.rollup_5m_after_s = 60;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, TH0 * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    T_EQ_INT(qoe_cube_load(c, st, err, sizeof err), 0);
    generate_span(TH0, 30, 30);
    T_EQ_INT(feed_store(c, &clk, st), (size_t)nev);
    T_EQ_INT(qoe_cube_compact(c, st, TH0 + 1800), 0);
    T_EQ_INT(stored_rows(st, 300), 5); /* [TH0, TH0 + 1500): the last one reaches into memory */
    int64_t lo, hi;
    qoe_cube_window(c, &lo, &hi);
    T_EQ_INT(lo, TH0 + 1800 - 480);
    int n = check_all_metrics(c, hquery(TH0, TH0 + 1800, 1800));
    struct qoe_query q = hquery(TH0, TH0 + 1800, 300);
    q.ngroup = 1, q.group_by[0] = BEACON_REGION;
    n += check_all_metrics(c, q);
    T_TRUE(n > 100);
    qoe_cube_destroy(c);
    store_close(st);
    remove_store_dir(dir);
}

/* clang-format off */
static const struct t_case cases[] = {
    T_CASE(test_history_rollups_and_restart),
    T_CASE(test_history_legacy_rollup),
    T_CASE(test_history_rollup_into_memory),
    {0},
};
/* clang-format on */

T_MAIN(cases)
