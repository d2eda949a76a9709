/*
 * clickhouse.c - the cube past one machine: collectors ship their closed minutes to
 * ClickHouse, and GET /v1/qoe answers from ClickHouse (docs/internals/scale.md).
 *
 * Shipping (qoe.clickhouse_ship): a thread reads the minutes the cube stored locally
 * (qoe_minutes, res 60) after the watermark kept in store_meta, turns each into one RowBinary
 * INSERT over ClickHouse's HTTP interface (one row per leaf, the dimension values as
 * strings, so that the minutes of every collector add up), then advances the watermark. Each
 * minute of each collector is one batch with its own id ("collector-minute"): before inserting
 * the thread asks whether the batch is there already (a crash between the insert and the
 * watermark ships it again), and the table is a ReplacingMergeTree keyed on (t, batch, row)
 * read with FINAL, so even an insert that raced its retry counts once.
 *
 * Partial rows (qoe.clickhouse_partial_s): every few seconds the thread also inserts a snapshot
 * of each open minute that took events, under the minute's batch id with a newer version
 * (ver: wall-clock milliseconds, increasing); the closed minute goes in with the highest
 * version. Every read keeps only the newest version of each batch, so a beacon is queryable
 * seconds after it arrived and each minute still counts once.
 *
 * Reading (qoe.clickhouse_query): the query's range, filter and group-by become one SELECT
 * summing the columns per minute and per value of the dimensions the query groups or filters
 * by (the others collapse: every formula adds over leaves), in RowBinary; the rows become the
 * closed minutes of a throwaway cube and qoe_query_run answers from it: the same engine, so
 * the same answers as the embedded store on the same events.
 */
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"
#include "qoe/persist.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define CH_TIMEOUT_S    30        /* one request to ClickHouse */
#define CH_SHIP_MINUTES 10        /* minutes read from the store per pass */
#define CH_MAX_ANSWER   (1 << 30) /* bytes of one SELECT's answer */
#define CH_MAX_SPAN     (1 << 20) /* minutes one answer may span (2 years: an 8 MB ring) */
#define CH_META_UPTO    "qoe.clickhouse_shipped_upto"
#define CH_META_ID      "qoe.collector_id"
#define CH_VER_FINAL    UINT64_MAX /* the version of a closed minute's rows */
#define CH_VER_FINAL_S  "18446744073709551615"
#define CH_PARTIAL_MAX  16 /* open minutes snapshotted per take */

/* The columns of the table, in RowBinary order (docs/internals/scale.md). */
static const char *const ch_cols =
    "t DateTime, batch String, row UInt32, ver UInt64, region String, country String, cdn String, "
    "pop String, isp String, asn String, device String, os String, player String, "
    "player_version String, drm String, title String, live String, starts UInt32, "
    "fails UInt32, exits UInt32, hb UInt32, rb UInt32, playing_ms Int64, rebuffer_ms Int64, "
    "bitrate_ms Float64, edge UInt8, edge_req UInt32, edge_5xx UInt32, edge_miss UInt32, "
    "edge_origin UInt32, edge_ttfb_n UInt32, edge_ttfb_ms Int64, sk_bucket Array(UInt16), "
    "sk_count Array(UInt32), errors UInt32";

/* 1 when s is a plain name: letters, digits, '_' and '.', 1 to 100 bytes. */
static int plain_name(const char *s)
{
    return s[0] && strlen(s) <= 100 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") ==
               strlen(s);
}

int qoe_ch_valid(const char *url, const char *table, const char *cluster, char *err, size_t errlen)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        /* Only the scheme is echoed: the rest may carry a user and password. */
        const char *colon = strstr(url, "://");
        int shown = colon && colon - url <= 16 ? (int)(colon - url) : 0;
        snprintf(err, errlen, "qoe.clickhouse_url: an http:// or https:// URL, got %s%.*s%s",
                 shown ? "scheme '" : "no scheme", shown, url, shown ? "'" : "");
        return OC_EINVAL;
    }
    if (!plain_name(table)) {
        snprintf(err, errlen, "qoe.clickhouse_table: letters, digits, '_' and '.', got '%.80s'",
                 table);
        return OC_EINVAL;
    }
    if (cluster && cluster[0] && !plain_name(cluster)) {
        snprintf(err, errlen, "qoe.clickhouse_cluster: letters, digits, '_' and '.', got '%.80s'",
                 cluster);
        return OC_EINVAL;
    }
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct oc_buf *b = arg;
    return oc_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

/* POSTs body (or, when body is NULL, the query itself) to url with ?query=QUERY. 0 with the
 * answer in out (when not NULL), or OC_EIO with why in err. */
static int ch_post(const char *url, const char *query, const void *body, size_t len,
                   struct oc_buf *out, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    struct oc_buf sink, full;
    long status = 0;
    int rc = OC_EIO;
    if (!c) {
        snprintf(err, errlen, "clickhouse: no curl handle");
        return OC_EIO;
    }
    oc_buf_init(&sink, 4096);
    oc_buf_init(&full, 1 << 20);
    if (!out)
        out = &sink;
    if (body) {
        char *q = curl_easy_escape(c, query, 0);
        /* an insert into a Distributed table returns once every shard has its rows */
        oc_buf_printf(&full, "%s/?insert_distributed_sync=1&query=%s", url, q ? q : "");
        curl_free(q);
    } else {
        oc_buf_printf(&full, "%s/", url);
        body = query;
        len = strlen(query);
    }
    curl_easy_setopt(c, CURLOPT_URL, full.data);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CH_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK)
        snprintf(err, errlen, "clickhouse: %s", curl_easy_strerror(cc));
    else if (status != 200)
        snprintf(err, errlen, "clickhouse: HTTP %ld: %.300s", status, out->data ? out->data : "");
    else
        rc = 0;
    curl_easy_cleanup(c);
    oc_buf_free(&sink);
    oc_buf_free(&full);
    return rc;
}

/* Whether table has column name: *has 1 or 0; 0, or the error of the request. */
static int ch_has_column(const char *url, const char *table, const char *name, int *has, char *err,
                         size_t errlen)
{
    char sql[640];
    struct oc_buf ans;
    oc_buf_init(&ans, 256);
    snprintf(sql, sizeof sql,
             "SELECT count() FROM system.columns WHERE database = currentDatabase() AND "
             "table = '%s' AND name = '%s'",
             table, name);
    int rc = ch_post(url, sql, NULL, 0, &ans, err, errlen);
    *has = rc == 0 && ans.data && strtoll(ans.data, NULL, 10) == 1;
    oc_buf_free(&ans);
    return rc;
}

/* 0 when table has the ver column (created by this version), else OC_EINVAL with why. */
static int ch_check_ver(const char *url, const char *table, char *err, size_t errlen)
{
    int has = 0, rc = ch_has_column(url, table, "ver", &has, err, errlen);
    if (rc == 0 && !has) {
        snprintf(err, errlen,
                 "table %s has no ver column (made by an older oncue): rename or drop it, or set "
                 "qoe.clickhouse_table to a new name",
                 table);
        rc = OC_EINVAL;
    }
    return rc;
}

/* Adds the errors column to a table made before it existed (the other columns are as then):
 * 0, or the error of the request. */
static int ch_add_errors(const char *url, const char *table, char *err, size_t errlen)
{
    char sql[640];
    int has = 0, rc = ch_has_column(url, table, "errors", &has, err, errlen);
    if (rc == 0 && !has) {
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN errors UInt32", table);
        rc = ch_post(url, sql, NULL, 0, NULL, err, errlen);
    }
    return rc;
}

int qoe_ch_create(const char *url, const char *table, const char *cluster, char *err, size_t errlen)
{
    char sql[2048];
    int sharded = cluster && cluster[0];
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS %s%s (%s) ENGINE = ReplacingMergeTree(ver) "
             "PARTITION BY toYYYYMMDD(t) ORDER BY (t, batch, row)",
             table, sharded ? "_local" : "", ch_cols);
    int rc = ch_post(url, sql, NULL, 0, NULL, err, errlen);
    if (rc == 0) {
        char name[160];
        snprintf(name, sizeof name, "%.100s%s", table, sharded ? "_local" : "");
        rc = ch_check_ver(url, name, err, errlen);
        if (rc == 0)
            rc = ch_add_errors(url, name, err, errlen);
    }
    if (rc == 0 && sharded) { /* a batch (and its retry) lands on one shard: FINAL sees both */
        snprintf(sql, sizeof sql,
                 "CREATE TABLE IF NOT EXISTS %s AS %s_local ENGINE = Distributed(%s, "
                 "currentDatabase(), %s_local, cityHash64(batch))",
                 table, table, cluster, table);
        rc = ch_post(url, sql, NULL, 0, NULL, err, errlen);
        if (rc == 0)
            rc = ch_add_errors(url, table, err, errlen);
    }
    return rc;
}

/* RowBinary writers (little-endian, as ClickHouse reads them; this host is too). */
static void rb_u(struct oc_buf *b, uint64_t v, int bytes)
{
    oc_buf_append(b, &v, (size_t)bytes);
}

static void rb_varint(struct oc_buf *b, uint64_t v)
{
    uint8_t x[10];
    int n = 0;
    do {
        x[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            x[n] |= 0x80;
        n++;
    } while (v);
    oc_buf_append(b, x, (size_t)n);
}

static void rb_str(struct oc_buf *b, const char *s, size_t n)
{
    rb_varint(b, n);
    oc_buf_append(b, s, n);
}

/* The rows of minute m (leaf ids of cube c) as RowBinary, batch id batch, version ver. */
static void encode_minute(struct oc_buf *b, struct qoe_cube *c, const struct qoe_minute *m,
                          const char *batch, uint64_t ver)
{
    for (uint32_t i = 0; i < m->nrows; i++) {
        struct qoe_row r;
        qoe_minute_row(m, i, &r);
        const uint32_t *dims = qoe_cube_leaf_dims(c, r.leaf);
        rb_u(b, (uint64_t)m->t, 4);
        rb_str(b, batch, strlen(batch));
        rb_u(b, i, 4);
        rb_u(b, ver, 8);
        for (int d = 0; d < BEACON_NDIMS; d++) {
            const char *v = qoe_cube_value(c, d, dims[d]);
            rb_str(b, v, strlen(v));
        }
        rb_u(b, r.starts, 4);
        rb_u(b, r.fails, 4);
        rb_u(b, r.exits, 4);
        rb_u(b, r.hb_sessions, 4);
        rb_u(b, r.rb_sessions, 4);
        rb_u(b, (uint64_t)r.playing_ms, 8);
        rb_u(b, (uint64_t)r.rebuffer_ms, 8);
        oc_buf_append(b, &r.bitrate_ms, 8);
        rb_u(b, m->edge_req ? 1 : 0, 1);
        rb_u(b, r.edge_req, 4);
        rb_u(b, r.edge_5xx, 4);
        rb_u(b, r.edge_miss, 4);
        rb_u(b, r.edge_origin, 4);
        rb_u(b, r.edge_ttfb_n, 4);
        rb_u(b, (uint64_t)r.edge_ttfb_ms, 8);
        rb_varint(b, r.sk_n);
        for (uint32_t k = 0; k < r.sk_n; k++)
            rb_u(b, (uint64_t)QOE_SK_BUCKET(m->sk[r.sk_off + k]), 2);
        rb_varint(b, r.sk_n);
        for (uint32_t k = 0; k < r.sk_n; k++)
            rb_u(b, QOE_SK_COUNT(m->sk[r.sk_off + k]), 4);
        rb_u(b, r.errors, 4);
    }
}

/* url without the user and password it may carry (http://user:secret@host): for logs. */
static const char *url_shown(const char *url, char *out, size_t n)
{
    const char *host = strstr(url, "://"), *at, *slash;
    host = host ? host + 3 : url;
    slash = strchr(host, '/');
    at = strchr(host, '@');
    if (!at || (slash && at > slash))
        snprintf(out, n, "%s", url);
    else
        snprintf(out, n, "%.*s***@%s", (int)(host - url), url, at + 1);
    return out;
}

/* ---- the shipper thread ---- */

struct qoe_ch {
    char url[1024], table[128], cluster[128];
    struct qoe_cube *cube; /* borrowed */
    struct store *store;   /* borrowed */
    uint64_t collector;    /* this collector's id, kept in store_meta */
    int64_t partial_ms;    /* qoe.clickhouse_partial_s in ms; 0: closed minutes only */
    uint64_t last_ver;     /* the last partial version inserted (thread only) */
    pthread_t th;
    pthread_mutex_t mu; /* guards stop (a leaf) */
    pthread_cond_t cv;
    int stop;
    /* the counters of struct qoe_ch_stats, written by the thread, read by /metrics */
    _Atomic int64_t shipped_upto;
    _Atomic uint64_t inserts, rows, skipped, failures, partials, partial_rows;
};

static int meta_get(struct store *s, const char *key, int64_t *out)
{
    struct store_stmt *st;
    int found = 0;
    store_lock(s);
    if (store_prepare(s, "SELECT value FROM store_meta WHERE key = ?", &st) == 0) {
        store_bind_text(st, 1, key);
        if (store_step(st) == STORE_ROW) {
            *out = store_col_int(st, 0);
            found = 1;
        }
        store_reset(st);
    }
    store_unlock(s);
    return found;
}

static int meta_set(struct store *s, const char *key, int64_t v)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, "INSERT OR REPLACE INTO store_meta(key, value) VALUES (?, ?)", &st) == 0) {
        store_bind_text(st, 1, key);
        store_bind_int(st, 2, v);
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    store_unlock(s);
    return rc;
}

/* A stored minute read for shipping. */
struct stored {
    int64_t t;
    void *blob;
    size_t len;
};

/* Up to CH_SHIP_MINUTES stored minutes from upto on, oldest first: how many. */
static int read_stored(struct store *s, int64_t upto, struct stored *out)
{
    struct store_stmt *st;
    int n = 0;
    store_lock(s);
    if (store_prepare(s,
                      "SELECT t, data FROM qoe_minutes WHERE res = 60 AND t >= ? ORDER BY t "
                      "LIMIT 10",
                      &st) == 0) {
        store_bind_int(st, 1, upto);
        while (n < CH_SHIP_MINUTES && store_step(st) == STORE_ROW) {
            size_t len = 0;
            const void *p = store_col_blob(st, 1, &len);
            out[n].t = store_col_int(st, 0);
            out[n].blob = oc_malloc(len ? len : 1);
            memcpy(out[n].blob, p, len);
            out[n++].len = len;
        }
        store_reset(st);
    }
    store_unlock(s);
    return n;
}

/* Ships one stored minute (0, or OC_EIO / OC_EINVAL with why in err). */
static int ship_minute(struct qoe_ch *ch, const struct stored *sm, char *err, size_t errlen)
{
    char batch[64], sql[512];
    struct oc_buf ans, body;
    int rc;
    struct qoe_minute *m = minute_decode(sm->t, sm->blob, sm->len, qoe_cube_nleaves(ch->cube));
    if (!m) {
        snprintf(err, errlen, "minute %lld: the stored row does not decode; skipped",
                 (long long)sm->t);
        return OC_EINVAL;
    }
    snprintf(batch, sizeof batch, "%016" PRIx64 "-%lld", ch->collector, (long long)sm->t);
    snprintf(sql, sizeof sql,
             "SELECT count() FROM %s WHERE t = %lld AND batch = '%s' AND ver = " CH_VER_FINAL_S,
             ch->table, (long long)sm->t, batch);
    oc_buf_init(&ans, 4096);
    rc = ch_post(ch->url, sql, NULL, 0, &ans, err, errlen);
    if (rc == 0 && ans.data && strtoll(ans.data, NULL, 10) > 0) {
        ch->skipped++; /* shipped before a crash that lost the watermark */
    } else if (rc == 0) {
        oc_buf_init(&body, (size_t)1 << 31);
        qoe_cube_read_begin(ch->cube); /* names stay put: an ageing sweep waits */
        encode_minute(&body, ch->cube, m, batch, CH_VER_FINAL);
        qoe_cube_read_end(ch->cube);
        snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary", ch->table);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = ch_post(ch->url, sql, body.data ? body.data : "", body.len, NULL, err, errlen);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (rc == 0) {
            oc_log(OC_LOG_INFO, "qoe: minute %lld shipped: %u rows, %zu bytes in %.1f ms",
                   (long long)sm->t, m->nrows, body.len,
                   (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
            ch->inserts++;
            ch->rows += m->nrows;
        }
        oc_buf_free(&body);
    }
    oc_buf_free(&ans);
    qoe_minute_destroy(m);
    return rc;
}

/* One pass: every stored minute after the watermark, in order, until one fails. Returns how
 * many were shipped. */
static int ship_pass(struct qoe_ch *ch)
{
    int64_t upto = 0;
    struct stored sm[CH_SHIP_MINUTES];
    char err[512];
    meta_get(ch->store, CH_META_UPTO, &upto);
    int n = read_stored(ch->store, upto, sm), done = 0;
    for (int i = 0; i < n; i++) {
        int rc = done == i ? ship_minute(ch, &sm[i], err, sizeof err) : OC_EIO;
        if (rc == OC_EINVAL)
            oc_log(OC_LOG_WARN, "qoe: clickhouse: %s", err);
        if (rc == 0 || rc == OC_EINVAL) {
            if (meta_set(ch->store, CH_META_UPTO, sm[i].t + 60) == 0) {
                ch->shipped_upto = sm[i].t + 60;
                done++;
            }
        } else if (done == i) {
            ch->failures++;
            oc_log(OC_LOG_WARN, "qoe: shipping minute %lld: %s; retrying", (long long)sm[i].t, err);
        }
        free(sm[i].blob);
    }
    return done;
}

/* The next partial version: wall-clock milliseconds, above every earlier one of this process. */
static uint64_t next_ver(struct qoe_ch *ch)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ver = (uint64_t)now.tv_sec * 1000 + (uint64_t)(now.tv_nsec / 1000000);
    if (ver <= ch->last_ver)
        ver = ch->last_ver + 1;
    ch->last_ver = ver;
    return ver;
}

/* Inserts the partial rows of every open minute that took events since the last pass, one
 * insert per minute; a failed one is flagged for the next pass. */
static void partial_pass(struct qoe_ch *ch)
{
    struct qoe_minute *m[CH_PARTIAL_MAX];
    struct oc_buf body[CH_PARTIAL_MAX];
    int64_t t[CH_PARTIAL_MAX];
    uint32_t nrows[CH_PARTIAL_MAX];
    char err[512], batch[64], sql[256];
    int failed = 0;
    /* taken under the cube's mutex, then encoded under the ring's read lock (that order: the
     * cube closes minutes into the ring holding its mutex); a sweep in between rewrites no
     * value of an open minute (it marks them seen first) */
    int n = cube_take_shippable(ch->cube, m, CH_PARTIAL_MAX);
    qoe_cube_read_begin(ch->cube);
    for (int i = 0; i < n; i++) {
        snprintf(batch, sizeof batch, "%016" PRIx64 "-%lld", ch->collector, (long long)m[i]->t);
        oc_buf_init(&body[i], (size_t)1 << 31);
        encode_minute(&body[i], ch->cube, m[i], batch, next_ver(ch));
        t[i] = m[i]->t;
        nrows[i] = m[i]->nrows;
        qoe_minute_destroy(m[i]);
    }
    qoe_cube_read_end(ch->cube);
    snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary", ch->table);
    for (int i = 0; i < n; i++) {
        if (!failed && ch_post(ch->url, sql, body[i].data ? body[i].data : "", body[i].len, NULL,
                               err, sizeof err) == 0) {
            ch->partials++;
            ch->partial_rows += nrows[i];
        } else {
            if (!failed) {
                ch->failures++;
                oc_log(OC_LOG_WARN, "qoe: shipping open minute %lld: %s; retrying", (long long)t[i],
                       err);
            }
            failed = 1; /* the others wait for the next pass too */
            cube_ship_again(ch->cube, t[i]);
        }
        oc_buf_free(&body[i]);
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *ship_main(void *arg)
{
    struct qoe_ch *ch = arg;
    char err[512];
    int created = 0;
    int64_t next_partial = mono_ms() + ch->partial_ms;
    pthread_mutex_lock(&ch->mu);
    while (!ch->stop) {
        int shipped = 0;
        pthread_mutex_unlock(&ch->mu);
        if (!created) {
            created = qoe_ch_create(ch->url, ch->table, ch->cluster, err, sizeof err) == 0;
            if (!created) {
                ch->failures++;
                oc_log(OC_LOG_WARN, "qoe: cannot create %s: %s", ch->table, err);
            }
        }
        if (created)
            shipped = ship_pass(ch);
        if (created && ch->partial_ms > 0 && shipped < CH_SHIP_MINUTES &&
            mono_ms() >= next_partial) {
            next_partial = mono_ms() + ch->partial_ms;
            partial_pass(ch);
        }
        pthread_mutex_lock(&ch->mu);
        if (shipped == CH_SHIP_MINUTES || ch->stop)
            continue; /* more are waiting */
        int64_t wait_ms = 1000, left = next_partial - mono_ms();
        if (ch->partial_ms > 0 && left < wait_ms)
            wait_ms = left < 1 ? 1 : left;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&ch->cv, &ch->mu, &ts);
    }
    pthread_mutex_unlock(&ch->mu);
    return NULL;
}

struct qoe_ch *qoe_ch_start(const char *url, const char *table, const char *cluster,
                            int64_t partial_s, struct qoe_cube *c, struct store *s)
{
    struct qoe_ch *ch = oc_calloc(1, sizeof *ch);
    int64_t id = 0, upto = 0;
    snprintf(ch->url, sizeof ch->url, "%s", url);
    size_t n = strlen(ch->url);
    if (n && ch->url[n - 1] == '/')
        ch->url[n - 1] = 0;
    snprintf(ch->table, sizeof ch->table, "%s", table);
    snprintf(ch->cluster, sizeof ch->cluster, "%s", cluster ? cluster : "");
    ch->cube = c;
    ch->store = s;
    ch->partial_ms = partial_s * 1000;
    if (!meta_get(s, CH_META_ID, &id)) {
        uint64_t r = 0;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
            r = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
        id = (int64_t)(r >> 1);
        meta_set(s, CH_META_ID, id);
    }
    ch->collector = (uint64_t)id;
    meta_get(s, CH_META_UPTO, &upto);
    ch->shipped_upto = upto;
    pthread_mutex_init(&ch->mu, NULL);
    pthread_cond_init(&ch->cv, NULL);
    if (pthread_create(&ch->th, NULL, ship_main, ch) != 0) {
        oc_log(OC_LOG_ERROR, "qoe: cannot start the clickhouse shipper thread");
        pthread_mutex_destroy(&ch->mu);
        pthread_cond_destroy(&ch->cv);
        free(ch);
        return NULL;
    }
    char shown[1024];
    oc_log(OC_LOG_INFO, "qoe: shipping closed minutes to %s table %s as collector %016" PRIx64,
           url_shown(ch->url, shown, sizeof shown), ch->table, ch->collector);
    return ch;
}

void qoe_ch_wake(struct qoe_ch *ch)
{
    if (!ch)
        return;
    pthread_mutex_lock(&ch->mu);
    pthread_cond_signal(&ch->cv);
    pthread_mutex_unlock(&ch->mu);
}

void qoe_ch_stats(struct qoe_ch *ch, struct qoe_ch_stats *out)
{
    out->shipped_upto = atomic_load(&ch->shipped_upto);
    out->inserts = atomic_load(&ch->inserts);
    out->rows = atomic_load(&ch->rows);
    out->skipped = atomic_load(&ch->skipped);
    out->failures = atomic_load(&ch->failures);
    out->partials = atomic_load(&ch->partials);
    out->partial_rows = atomic_load(&ch->partial_rows);
}

void qoe_ch_stop(struct qoe_ch *ch)
{
    if (!ch)
        return;
    pthread_mutex_lock(&ch->mu);
    ch->stop = 1;
    pthread_cond_signal(&ch->cv);
    pthread_mutex_unlock(&ch->mu);
    pthread_join(ch->th, NULL);
    ship_pass(ch); /* what the stop's flush stored */
    pthread_mutex_destroy(&ch->mu);
    pthread_cond_destroy(&ch->cv);
    free(ch);
}

/* ---- reading ---- */

/* Appends s as a ClickHouse string literal. */
static void sql_quote(struct oc_buf *b, const char *s)
{
    oc_buf_puts(b, "'");
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            oc_buf_append(b, "\\", 1);
        oc_buf_append(b, s, 1);
    }
    oc_buf_puts(b, "'");
}

/* A RowBinary reader over an answer; every read fails once past the end. */
struct rb_in {
    const uint8_t *p, *end;
    int bad;
};

static uint64_t in_u(struct rb_in *in, int bytes)
{
    uint64_t v = 0;
    if (in->bad || in->end - in->p < bytes) {
        in->bad = 1;
        return 0;
    }
    memcpy(&v, in->p, (size_t)bytes);
    in->p += bytes;
    return v;
}

static uint64_t in_varint(struct rb_in *in)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint64_t b = in_u(in, 1);
        v |= (b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    in->bad = 1;
    return 0;
}

/* An Int64 sum of milliseconds: negative, or past 2^42 (36 million viewers' minute in one
 * row), is not an answer to trust; the bound keeps the engine's sums over a span of
 * CH_MAX_SPAN minutes inside 63 bits. */
static int64_t in_ms(struct rb_in *in)
{
    uint64_t v = in_u(in, 8);
    if (v > ((uint64_t)1 << 42))
        in->bad = 1;
    return (int64_t)v;
}

/* A UInt64 sum of 32-bit columns: past 32 bits the answer is not one to trust. */
static uint32_t in_sum32(struct rb_in *in)
{
    uint64_t v = in_u(in, 8);
    if (v > UINT32_MAX)
        in->bad = 1;
    return (uint32_t)v;
}

static const char *in_str(struct rb_in *in, uint32_t *n)
{
    uint64_t len = in_varint(in);
    /* a NUL byte: never in a value ingest accepted (the dictionaries hold C strings) */
    if (in->bad || len > QOE_MAX_DIM_VALUE || (uint64_t)(in->end - in->p) < len ||
        memchr(in->p, 0, len)) {
        in->bad = 1;
        return "";
    }
    const char *s = (const char *)in->p;
    in->p += len;
    *n = (uint32_t)len;
    return s;
}

/* One answered row: a minute and leaf of the throwaway cube. */
struct got {
    int64_t t;
    struct qoe_row r;
    uint32_t sk0, skn; /* its sketch entries in the shared array */
    int edge;
};

static int got_cmp(const void *a, const void *b)
{
    const struct got *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->r.leaf < y->r.leaf ? -1 : x->r.leaf > y->r.leaf;
}

/* The dimensions the answer keeps: those q groups or filters by. */
static void query_keep(const struct qoe_query *q, int *keep)
{
    for (int i = 0; i < q->ngroup; i++)
        keep[q->group_by[i]] = 1;
    for (int i = 0; i < q->nfilters; i++)
        keep[q->filters[i].dim] = 1;
}

/* The SELECT of q: sums per minute and per value of the dimensions kept (keep[d]). */
static void build_select(struct oc_buf *b, const char *table, const struct qoe_query *q,
                         const int *keep)
{
    oc_buf_puts(b, "SELECT toUInt32(t)");
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (keep[d])
            oc_buf_printf(b, ", %s", beacon_dim_names[d]);
    oc_buf_puts(b, ", sum(starts), sum(fails), sum(exits), sum(hb), sum(rb), sum(playing_ms), "
                   "sum(rebuffer_ms), sum(bitrate_ms), max(edge), sum(edge_req), sum(edge_5xx), "
                   "sum(edge_miss), sum(edge_origin), sum(edge_ttfb_n), sum(edge_ttfb_ms), "
                   "sum(errors), sumMap(sk_bucket, arrayMap(x -> toUInt64(x), sk_count))");
    /* only the newest version of each batch: a closed minute, else its latest partial rows */
    oc_buf_printf(b,
                  " FROM %s FINAL WHERE t >= toDateTime(%lld) AND t < toDateTime(%lld) AND "
                  "(batch, ver) GLOBAL IN (SELECT batch, max(ver) FROM %s WHERE t >= "
                  "toDateTime(%lld) AND t < toDateTime(%lld) GROUP BY batch)",
                  table, (long long)q->from, (long long)q->to, table, (long long)q->from,
                  (long long)q->to);
    for (int d = 0; d < BEACON_NDIMS; d++) {
        int first = 1;
        for (int i = 0; i < q->nfilters; i++) {
            if (q->filters[i].dim != d)
                continue;
            oc_buf_printf(b, first ? " AND %s IN (" : ", ", beacon_dim_names[d]);
            sql_quote(b, q->filters[i].value);
            first = 0;
        }
        if (!first)
            oc_buf_puts(b, ")");
    }
    oc_buf_puts(b, " GROUP BY toUInt32(t)");
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (keep[d])
            oc_buf_printf(b, ", %s", beacon_dim_names[d]);
    oc_buf_puts(b, " FORMAT RowBinary");
}

/* Reads the answer into rows of cube c (interning the values kept): 0, or OC_EIO. */
static int read_answer(struct qoe_cube *c, const char *data, size_t len, const int *keep,
                       struct got **rows, size_t *nrows, uint32_t **sk, size_t *nsk)
{
    struct rb_in in = {(const uint8_t *)data, (const uint8_t *)data + len, 0};
    size_t cap = 0, skcap = 0;
    *rows = NULL;
    *sk = NULL;
    *nrows = *nsk = 0;
    pthread_mutex_lock(&c->mu);
    while (!in.bad && in.p < in.end) {
        struct got g;
        uint32_t ids[BEACON_NDIMS] = {0};
        int folded = 0;
        memset(&g, 0, sizeof g);
        g.t = (int64_t)in_u(&in, 4);
        for (int d = 0; d < BEACON_NDIMS; d++) {
            if (!keep[d])
                continue;
            uint32_t n = 0;
            const char *s = in_str(&in, &n);
            ids[d] = dict_value_intern(&c->vals[d], s, n, g.t, &folded);
        }
        g.r.leaf = dict_leaf_intern(&c->leaves, ids, &folded);
        g.r.starts = in_sum32(&in);
        g.r.fails = in_sum32(&in);
        g.r.exits = in_sum32(&in);
        g.r.hb_sessions = in_sum32(&in);
        g.r.rb_sessions = in_sum32(&in);
        g.r.playing_ms = in_ms(&in);
        g.r.rebuffer_ms = in_ms(&in);
        uint64_t bits = in_u(&in, 8);
        memcpy(&g.r.bitrate_ms, &bits, 8);
        if (!(g.r.bitrate_ms >= 0 && g.r.bitrate_ms <= 1e30)) /* also NaN */
            in.bad = 1;
        g.edge = (int)in_u(&in, 1);
        g.r.edge_req = in_sum32(&in);
        g.r.edge_5xx = in_sum32(&in);
        g.r.edge_miss = in_sum32(&in);
        g.r.edge_origin = in_sum32(&in);
        g.r.edge_ttfb_n = in_sum32(&in);
        g.r.edge_ttfb_ms = in_ms(&in);
        g.r.errors = in_sum32(&in);
        uint64_t nb = in_varint(&in);
        if (nb > QOE_SKETCH_NB || (uint64_t)(in.end - in.p) < nb * 2) {
            in.bad = 1;
            break;
        }
        const uint8_t *buckets = in.p;
        in.p += nb * 2;
        uint64_t nc = in_varint(&in);
        if (nc != nb || (uint64_t)(in.end - in.p) < nc * 8) {
            in.bad = 1;
            break;
        }
        g.sk0 = (uint32_t)*nsk;
        uint64_t total = 0; /* the sketch counts successful starts: at most the starts */
        for (uint64_t k = 0; k < nb && !in.bad; k++) {
            uint16_t bk;
            uint64_t cnt;
            memcpy(&bk, buckets + k * 2, 2);
            memcpy(&cnt, in.p + k * 8, 8);
            total += cnt;
            if (bk >= QOE_SKETCH_NB || cnt > g.r.starts || total > g.r.starts) {
                in.bad = 1;
                break;
            }
            while (cnt > 0) { /* a count past the packed field: split */
                uint64_t part = cnt > QOE_SKETCH_MAXC ? QOE_SKETCH_MAXC : cnt;
                *sk = oc_grow(*sk, &skcap, *nsk + 1, sizeof **sk);
                (*sk)[(*nsk)++] = (uint32_t)bk << 21 | (uint32_t)part;
                cnt -= part;
            }
        }
        in.p += nc * 8;
        g.skn = (uint32_t)(*nsk - g.sk0);
        *rows = oc_grow(*rows, &cap, *nrows + 1, sizeof **rows);
        (*rows)[(*nrows)++] = g;
    }
    pthread_mutex_unlock(&c->mu);
    return in.bad ? OC_EIO : 0;
}

/* Installs the rows (sorted by minute, then leaf) as closed minutes of c. */
static void install(struct qoe_cube *c, struct got *rows, size_t n, const uint32_t *sk)
{
    for (size_t i = 0; i < n;) {
        size_t j = i, nsk = 0;
        int edge = 0, errors = 0;
        for (; j < n && rows[j].t == rows[i].t; j++) {
            nsk += rows[j].skn;
            edge |= rows[j].edge;
            errors |= rows[j].r.errors > 0;
        }
        struct qoe_minute *m = qoe_minute_new(rows[i].t, (uint32_t)(j - i), (uint32_t)nsk);
        if (edge)
            qoe_minute_edge_alloc(m);
        if (errors)
            qoe_minute_errors_alloc(m);
        uint32_t off = 0;
        for (size_t k = i; k < j; k++) {
            rows[k].r.sk_off = off;
            rows[k].r.sk_n = rows[k].skn;
            if (rows[k].skn) /* m->sk and sk are NULL without entries */
                memcpy(m->sk + off, sk + rows[k].sk0, rows[k].skn * sizeof *sk);
            off += rows[k].skn;
            qoe_minute_set(m, (uint32_t)(k - i), &rows[k].r);
        }
        cube_install_minute(c, m); /* takes the ring's write lock */
        i = j;
    }
}

struct qoe_cube *qoe_ch_answer_cube(const char *data, size_t len, const struct qoe_query *q,
                                    const struct qoe_cube_opts *opts, char *err, size_t errlen)
{
    int keep[BEACON_NDIMS] = {0};
    struct got *rows = NULL;
    uint32_t *sk = NULL;
    size_t nrows = 0, nsk = 0;
    struct qoe_cube_opts o = *opts;
    query_keep(q, keep);
    /* two passes: the first finds the minutes answered, which size the ring of the second */
    o.max_values_per_dim = (uint32_t)(len / 32 + 16);
    o.max_leaves = (uint32_t)(len / 32 + 16);
    o.memory_minutes = 1;
    struct qoe_cube *c = qoe_cube_new(&o, NULL);
    int rc = read_answer(c, data, len, keep, &rows, &nrows, &sk, &nsk);
    for (size_t i = 0; rc == 0 && i < nrows; i++)
        if (rows[i].t < q->from || rows[i].t >= q->to || rows[i].t % 60)
            rc = OC_EIO; /* not a minute of the range asked */
    if (rc == 0 && nrows) {
        qsort(rows, nrows, sizeof *rows, got_cmp);
        int64_t span = (rows[nrows - 1].t - rows[0].t) / 60 + 1;
        for (size_t i = 1; i < nrows; i++)
            if (got_cmp(&rows[i - 1], &rows[i]) == 0)
                rc = OC_EIO; /* a minute and group answered twice */
        if (span > CH_MAX_SPAN)
            rc = OC_EIO;
        qoe_cube_destroy(c);
        c = NULL;
        free(rows);
        free(sk);
        rows = NULL;
        sk = NULL;
        if (rc == 0) {
            o.memory_minutes = span;
            c = qoe_cube_new(&o, NULL);
            rc = read_answer(c, data, len, keep, &rows, &nrows, &sk, &nsk);
            qsort(rows, nrows, sizeof *rows, got_cmp);
            install(c, rows, nrows, sk);
        }
    }
    free(rows);
    free(sk);
    if (rc != 0) {
        snprintf(err, errlen, "clickhouse: the answer is not the minutes asked for in RowBinary");
        qoe_cube_destroy(c);
        return NULL;
    }
    return c;
}

int qoe_ch_query(const char *url, const char *table, const struct qoe_cube_opts *opts,
                 const struct qoe_query *q, struct qoe_cube **cube, struct qoe_result **out,
                 char *err, size_t errlen)
{
    int keep[BEACON_NDIMS] = {0};
    struct oc_buf sql, ans;
    char u[1024];
    *cube = NULL;
    *out = NULL;
    int rc = qoe_query_check(q, err, errlen);
    if (rc)
        return rc;
    snprintf(u, sizeof u, "%s", url);
    if (u[0] && u[strlen(u) - 1] == '/')
        u[strlen(u) - 1] = 0;
    query_keep(q, keep);
    oc_buf_init(&sql, 1 << 20);
    oc_buf_init(&ans, CH_MAX_ANSWER);
    build_select(&sql, table, q, keep);
    rc = ch_post(u, sql.data, NULL, 0, &ans, err, errlen);
    if (rc == 0) {
        *cube = qoe_ch_answer_cube(ans.data ? ans.data : "", ans.len, q, opts, err, errlen);
        rc = *cube ? qoe_query_run(*cube, q, out, err, errlen) : OC_EDB;
    }
    oc_buf_free(&sql);
    oc_buf_free(&ans);
    return rc == OC_EIO ? OC_EDB : rc;
}

int qoe_ch_sql(const char *url, const char *sql, struct oc_buf *out, char *err, size_t errlen)
{
    return ch_post(url, sql, NULL, 0, out, err, errlen);
}

int qoe_ch_fill(struct qoe_cube *c, const char *url, const char *table, int64_t from, int64_t to,
                size_t *nrows_out, char *err, size_t errlen)
{
    int keep[BEACON_NDIMS];
    struct qoe_query q;
    struct oc_buf sql, ans;
    struct got *rows = NULL;
    uint32_t *sk = NULL;
    size_t nrows = 0, nsk = 0;
    *nrows_out = 0;
    if (errlen)
        err[0] = 0;
    memset(&q, 0, sizeof q);
    q.from = from;
    q.to = to;
    for (int d = 0; d < BEACON_NDIMS; d++)
        keep[d] = 1; /* every dimension: leaf-level minutes, as the collectors folded them */
    oc_buf_init(&sql, 1 << 16);
    oc_buf_init(&ans, CH_MAX_ANSWER);
    build_select(&sql, table, &q, keep);
    int rc = ch_post(url, sql.data, NULL, 0, &ans, err, errlen);
    if (rc == 0)
        rc = read_answer(c, ans.data ? ans.data : "", ans.len, keep, &rows, &nrows, &sk, &nsk);
    for (size_t i = 0; rc == 0 && i < nrows; i++)
        if (rows[i].t < from || rows[i].t >= to || rows[i].t % 60)
            rc = OC_EIO; /* not a minute of the range asked */
    if (rc == 0 && nrows) {
        qsort(rows, nrows, sizeof *rows, got_cmp);
        for (size_t i = 1; i < nrows; i++)
            if (got_cmp(&rows[i - 1], &rows[i]) == 0)
                rc = OC_EIO; /* a minute and leaf answered twice */
    }
    if (rc == 0) {
        pthread_mutex_lock(&c->mu); /* then the ring's write lock, as the cube closes minutes */
        install(c, rows, nrows, sk);
        pthread_mutex_unlock(&c->mu);
        *nrows_out = nrows;
    } else if (rc == OC_EIO && !err[0]) {
        snprintf(err, errlen, "clickhouse: the answer is not the minutes asked for in RowBinary");
    }
    free(rows);
    free(sk);
    oc_buf_free(&sql);
    oc_buf_free(&ans);
    return rc == OC_EIO ? OC_EDB : rc;
}
