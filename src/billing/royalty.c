/*
 * royalty.c - the playback audit for royalties: a UTC day's plays, play attempts and watch
 * time per title and region, summed from the QoE cube's closed minutes (the stored rows for
 * what left memory, the minutes in memory for the rest, never both), rendered as CSV and as
 * JSON byte for byte the same way every time, and sealed into the billing audit chain: the
 * seal row holds the whole report and the SHA-256 of both renderings, so an exported file is
 * proven unchanged by finding its hash in a row of an intact chain
 * (`oncue billing royalties verify FILE`).
 */
#include "billing/billing_int.h"
#include "billing/sql.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "qoe/qoe.h"
#include "store/store.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What one leaf summed to over the day. */
struct leaf_sum {
    int64_t attempts, plays, watch_ms;
};

struct scan {
    struct qoe_cube *c;
    int64_t from, to;
    struct leaf_sum *sum; /* by leaf id: [0, nsum) summed, cap allocated */
    size_t nsum, cap;
};

/* qoe_cube_scan callback: a minute or a stored row (a rollup) of the day. */
static void add_minute(void *arg, const struct qoe_minute *m)
{
    struct scan *s = arg;
    for (uint32_t i = 0; i < m->nrows; i++) {
        uint32_t leaf = m->leaf[i];
        if (leaf >= s->nsum) {
            size_t cap = s->cap;
            s->sum = oc_grow(s->sum, &cap, (size_t)leaf + 1, sizeof *s->sum);
            memset(s->sum + s->cap, 0, (cap - s->cap) * sizeof *s->sum);
            s->cap = cap;
            s->nsum = (size_t)leaf + 1;
        }
        struct leaf_sum *x = &s->sum[leaf];
        x->attempts += m->starts[i];
        x->plays += (int64_t)m->starts[i] - m->fails[i] - m->exits[i];
        x->watch_ms += m->playing_ms[i];
    }
}

/* One reported (title, region) pair. */
struct pair {
    const char *title, *region;
    struct leaf_sum v;
};

static int pair_cmp(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;
    int c = strcmp(a->title, b->title);
    return c ? c : strcmp(a->region, b->region);
}

int billing_day_parse(const char *s, int64_t *day_s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return OC_EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return OC_EINVAL; /* digits only: sscanf would take " 2" or "+2" */
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mo = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1970 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return OC_EINVAL;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
        return OC_EINVAL; /* 2026-02-30 */
    *day_s = (int64_t)t;
    return 0;
}

int billing_royalty_day(struct qoe_cube *c, int64_t day_s, json_t **out, char *err, size_t errlen)
{
    struct qoe_cube_stats cs;
    struct scan s = {.c = c, .from = day_s, .to = day_s + 86400};
    char day[16];
    struct tm tm;
    time_t t = (time_t)day_s;
    *out = NULL;
    gmtime_r(&t, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    qoe_cube_stats(c, &cs);
    if (cs.closed_upto_s < s.to) {
        snprintf(err, errlen,
                 "day: %s is not complete: the QoE cube has closed its minutes up to %lld (unix s),"
                 " the day ends at %lld",
                 day, (long long)cs.closed_upto_s, (long long)s.to);
        return OC_ECONFLICT;
    }
    if (qoe_cube_scan(c, s.from, s.to, add_minute, &s) != 0) {
        free(s.sum);
        snprintf(err, errlen, "day: reading the stored QoE history failed");
        return OC_EDB;
    }
    /* leaves -> (title, region) pairs, sorted and merged */
    struct pair *p = oc_calloc(s.nsum + 1, sizeof *p);
    size_t n = 0;
    for (size_t i = 0; i < s.nsum; i++) {
        if (!s.sum[i].attempts && !s.sum[i].watch_ms)
            continue;
        const uint32_t *dims = qoe_cube_leaf_dims(c, (uint32_t)i);
        p[n].title = qoe_cube_value(c, BEACON_TITLE, dims[BEACON_TITLE]);
        p[n].region = qoe_cube_value(c, BEACON_REGION, dims[BEACON_REGION]);
        p[n++].v = s.sum[i];
    }
    free(s.sum);
    if (n > 1) /* qsort must not see NULL, even for no rows */
        qsort(p, n, sizeof *p, pair_cmp);
    json_t *rows = json_array();
    struct leaf_sum tot = {0};
    for (size_t i = 0; i < n;) {
        struct pair g = p[i++];
        while (i < n && pair_cmp(&g, &p[i]) == 0) {
            g.v.attempts += p[i].v.attempts;
            g.v.plays += p[i].v.plays;
            g.v.watch_ms += p[i++].v.watch_ms;
        }
        tot.attempts += g.v.attempts;
        tot.plays += g.v.plays;
        tot.watch_ms += g.v.watch_ms;
        json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:I,s:I}", "title", g.title, "region",
                                              g.region, "plays", (json_int_t)g.v.plays, "attempts",
                                              (json_int_t)g.v.attempts, "watch_ms",
                                              (json_int_t)g.v.watch_ms));
    }
    free(p);
    *out = json_pack("{s:s,s:I,s:I,s:o,s:{s:I,s:I,s:I}}", "day", day, "from", (json_int_t)s.from,
                     "to", (json_int_t)s.to, "rows", rows, "totals", "plays", (json_int_t)tot.plays,
                     "attempts", (json_int_t)tot.attempts, "watch_ms", (json_int_t)tot.watch_ms);
    return 0;
}

/* Appends s as one CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
static void csv_field(struct oc_buf *b, const char *s)
{
    if (!s)
        s = ""; /* not a string: a damaged report reads as empty */
    if (!strpbrk(s, ",\"\r\n")) {
        oc_buf_puts(b, s);
        return;
    }
    oc_buf_puts(b, "\"");
    for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
        oc_buf_append(b, s, (size_t)(q - s));
        oc_buf_puts(b, "\"\"");
    }
    oc_buf_puts(b, s);
    oc_buf_puts(b, "\"");
}

static json_int_t int_of(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

char *billing_royalty_render(const json_t *report, int csv, size_t *len)
{
    struct oc_buf b;
    oc_buf_init(&b, (size_t)1 << 30);
    if (!csv) {
        char *t = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
        oc_buf_puts(&b, t ? t : "{}");
        oc_buf_puts(&b, "\n");
        free(t);
    } else {
        const char *day = json_string_value(json_object_get(report, "day"));
        size_t i;
        json_t *r;
        oc_buf_puts(&b, "day,title,region,plays,attempts,watch_ms\r\n");
        json_array_foreach(json_object_get(report, "rows"), i, r)
        {
            oc_buf_printf(&b, "%s,", day ? day : "");
            csv_field(&b, json_string_value(json_object_get(r, "title")));
            oc_buf_puts(&b, ",");
            csv_field(&b, json_string_value(json_object_get(r, "region")));
            oc_buf_printf(&b, ",%lld,%lld,%lld\r\n", (long long)int_of(r, "plays"),
                          (long long)int_of(r, "attempts"), (long long)int_of(r, "watch_ms"));
        }
    }
    *len = b.len;
    return b.data ? oc_buf_steal(&b) : oc_strdup("");
}

void billing_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[32];
    crypto_hash_sha256(d, p, n);
    sodium_bin2hex(out, 65, d, sizeof d);
}

json_t *billing_royalty_seal_detail(const json_t *report, const char *actor)
{
    char hc[65], hj[65];
    size_t lc, lj;
    char *c = billing_royalty_render(report, 1, &lc), *j = billing_royalty_render(report, 0, &lj);
    billing_sha256_hex(c, lc, hc);
    billing_sha256_hex(j, lj, hj);
    free(c);
    free(j);
    return json_pack("{s:s,s:s,s:s,s:s,s:O}", "seal", "royalty", "actor", actor, "csv_sha256", hc,
                     "json_sha256", hj, "report", report);
}

/* The latest seal of account ("royalty:DAY") in the store: 1 with its audit id, time and detail
 * (the caller's), 0 (none) or OC_EDB. The caller holds the store's lock. */
static int last_seal(struct store *st, const char *account, int64_t *id, int64_t *ts,
                     json_t **detail)
{
    struct store_stmt *q;
    int rc = store_prepare(st, BILLING_SQL_SEAL_OF, &q);
    if (rc)
        return OC_EDB;
    rc = STORE_BIND(q, STORE_TEXT(account)) ? OC_EDB : 0;
    if (!rc) {
        int s = store_step(q);
        rc = s == STORE_ROW ? 1 : s == STORE_DONE ? 0 : OC_EDB;
        if (rc == 1) {
            const char *d = store_col_text(q, 2);
            *id = store_col_int(q, 0);
            *ts = store_col_int(q, 1);
            *detail = d ? json_loads(d, 0, NULL) : NULL;
            if (!*detail)
                rc = OC_EDB;
        }
    }
    store_reset(q);
    return rc;
}

int billing_royalty_sealed(struct store *st, const char *day, int64_t *id, int64_t *ts,
                           json_t **detail)
{
    char acct[40];
    snprintf(acct, sizeof acct, "royalty:%.16s", day);
    store_lock(st);
    int rc = last_seal(st, acct, id, ts, detail);
    store_unlock(st);
    return rc;
}

/* The answer of a seal: the day, the audit row and the hashes. */
static char *seal_answer(const json_t *detail, int64_t id, int64_t ts, int already)
{
    const json_t *rep = json_object_get(detail, "report");
    json_t *a =
        json_pack("{s:O?,s:I,s:I,s:b,s:O?,s:O?,s:I,s:O?}", "day", json_object_get(rep, "day"),
                  "audit_id", (json_int_t)id, "sealed_ms", (json_int_t)ts, "already_sealed",
                  already, "csv_sha256", json_object_get(detail, "csv_sha256"), "json_sha256",
                  json_object_get(detail, "json_sha256"), "rows",
                  (json_int_t)json_array_size(json_object_get(rep, "rows")), "totals",
                  json_object_get(rep, "totals"));
    char *t = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return t;
}

int billing_run_seal(struct billing_mod *m, struct billing_op *op)
{
    struct store *st = m->app->store;
    json_t *prev = NULL, *mine = json_loads(op->payload, 0, NULL);
    int64_t id = 0, ts = 0;
    if (!mine)
        return OC_EDB;
    int rc = last_seal(st, op->act.account, &id, &ts, &prev);
    if (rc == 1) {
        const char *a = json_string_value(json_object_get(prev, "json_sha256")),
                   *b = json_string_value(json_object_get(mine, "json_sha256"));
        if (a && b && strcmp(a, b) == 0) { /* the same report: its seal stands */
            op->status = 200;
            op->answer = seal_answer(prev, id, ts, 1);
            json_decref(prev);
            json_decref(mine);
            return 0;
        }
        json_decref(prev);
        rc = 0;
    }
    if (!rc)
        rc = billing_write_audit(m, op->recv_ms, "royalty", op->act.account, "", op->payload);
    if (!rc) {
        op->status = 200;
        op->answer = seal_answer(mine, m->audit_id, op->recv_ms, 0);
    }
    json_decref(mine);
    return rc < 0 ? rc : 0;
}

int billing_royalty_verify(const char *dir, const void *file, size_t n, json_t **out, char *why,
                           size_t whylen)
{
    char hex[65], err[512];
    struct store *s = NULL;
    struct store_stmt *q = NULL;
    int64_t rows = 0, bad = 0;
    int found = 0, step = STORE_DONE;
    *out = NULL;
    billing_sha256_hex(file, n, hex);
    int rc = billing_audit_verify(dir, &rows, &bad, why, whylen);
    if (rc != 0) {
        if (rc > 0) {
            char w[300];
            snprintf(w, sizeof w, "%s", why);
            snprintf(why, whylen, "the audit chain is broken at row %lld: %s", (long long)bad, w);
        }
        return rc;
    }
    if (store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof err) != 0) {
        snprintf(why, whylen, "%s", err);
        return -1;
    }
    store_lock(s);
    rc = store_prepare(s, BILLING_SQL_SEAL_ALL, &q) == 0 ? 0 : -1;
    while (rc == 0 && !found && (step = store_step(q)) == STORE_ROW) {
        const char *d = store_col_text(q, 2);
        json_t *det = d ? json_loads(d, 0, NULL) : NULL;
        const char *hc = json_string_value(json_object_get(det, "csv_sha256")),
                   *hj = json_string_value(json_object_get(det, "json_sha256"));
        int csv = hc && strcmp(hc, hex) == 0, js = hj && strcmp(hj, hex) == 0;
        if (csv || js) {
            const json_t *rep = json_object_get(det, "report");
            found = 1;
            *out = json_pack("{s:s,s:O?,s:s,s:I,s:I,s:I}", "sha256", hex, "day",
                             json_object_get(rep, "day"), "format", csv ? "csv" : "json",
                             "audit_id", (json_int_t)store_col_int(q, 0), "sealed_ms",
                             (json_int_t)store_col_int(q, 1), "chain_rows", (json_int_t)rows);
        }
        json_decref(det);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    if (rc < 0)
        snprintf(why, whylen, "cannot read the audit: %s", store_errmsg(s));
    if (q)
        store_reset(q);
    store_unlock(s);
    store_close(s);
    if (rc == 0 && !found) {
        snprintf(why, whylen,
                 "no seal in the audit has this file's SHA-256 %s: the file was changed, or its "
                 "day was never sealed",
                 hex);
        rc = 1;
    }
    return rc;
}
