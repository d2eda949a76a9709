/*
 * module.c - the `ingest` module: POST /v1/events into the qoe module's cube, and the
 * rejected-event counters in /metrics.
 *
 * The handler parses on the HTTP worker thread (no lock), then folds the batch into the cube
 * under one lock per request, and answers once the accepted events are in the write-ahead log
 * (wal.c; replayed into the cube when the module starts). The answer lists the first
 * INGEST_MAX_ERRORS rejected items with their index in the body and the reason; CORS lets browser
 * players post from any origin (the HTTP layer answers the OPTIONS preflight).
 */
#include "ingest/ingest.h"
#include "ingest/cmcd.h"
#include "qoe/accounts.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/decode.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define INGEST_MAX_BODY  (8u << 20) /* bytes of one POST /v1/events */
#define INGEST_MAX_ITEMS 100000     /* events of one body */

/* The module's settings. */
struct ingest_opts {
    int wal;                  /* ingest.wal */
    int64_t wal_max_bytes;    /* ingest.wal_max_bytes */
    int64_t accounts_max;     /* ingest.accounts_max */
    int64_t shed_target_ms;   /* ingest.shed_target_ms; 0: no shedding */
    int64_t shed_interval_ms; /* ingest.shed_interval_ms; 0: no shedding */
};

#define INGEST_BEHIND_MINUTES 5 /* closed minutes waiting for the store: ingest is behind */

/* The module's state: the cube it folds into (the qoe module's), the write-ahead log and the
 * reject counters. */
struct ingest_mod {
    struct qoe_cube *cube;       /* borrowed from the qoe module */
    struct ingest_wal *wal;      /* owned; NULL without a store or with ingest.wal off */
    struct ingest_opts o;        /* the settings */
    struct qoe_accounts *acc;    /* owned: the accounts beacons carried (accounts.c) */
    int replay;                  /* the clock is a replay's: event time closes minutes */
    struct ingest_stats stats;   /* by reason, parse and cube */
    _Atomic uint64_t wal_failed; /* bodies answered 503: the log could not be written */
    _Atomic uint64_t replayed;   /* events folded again from the log at start */
    _Atomic uint64_t overloaded; /* bodies answered 503: ingest is behind */
    /* Shedding by queueing delay (shed()), shared by the workers: */
    _Atomic int64_t shed_start; /* when the current interval began (oc_mono_ns) */
    _Atomic uint64_t shed_n;    /* bodies in it */
    _Atomic uint64_t shed_late; /* of which waited more than the target */
    _Atomic int shed_on;        /* at least half of the last interval's waited too long */
    _Atomic uint64_t shed;      /* bodies answered 503: they waited too long for a worker */
    /* POST /v1/cmcd (0) and /v1/cdn-logs (1): lines accepted, lines rejected by reason */
    _Atomic uint64_t lines_ok[2];
    _Atomic uint64_t lines_rejected[2][CMCD_NREASONS];
    /* The syncer: answers bodies once their record is synced, so a worker does not wait in
     * fdatasync and every body that arrives meanwhile shares the next sync. */
    pthread_t syncer;
    int syncer_started;
    pthread_mutex_t qmu;   /* guards queue, nqueue, qcap, stopping (a leaf lock) */
    pthread_cond_t qcv;    /* signalled when an answer is queued or the module stops */
    struct waiting *queue; /* answers waiting for their record's sync */
    size_t nqueue, qcap;
    int stopping;
};

/* One answer waiting for the sync of its body's record. */
struct waiting {
    struct http_later *later; /* the request, answered once */
    uint64_t seq;             /* its record */
    char *answer;             /* the 200 body (owned) */
};

static json_t *answer(const struct ingest_batch *b, size_t accepted)
{
    json_t *errors = json_array();
    size_t listed = 0;
    for (size_t i = 0; i < b->nitems && listed < INGEST_MAX_ERRORS; i++) {
        if (b->reason[i] == INGEST_OK)
            continue;
        json_array_append_new(errors, json_pack("{s:I,s:s,s:s}", "index", (json_int_t)i, "reason",
                                                ingest_reason_names[b->reason[i]], "detail",
                                                ingest_reason_details[b->reason[i]]));
        listed++;
    }
    return json_pack("{s:I,s:I,s:o}", "accepted", (json_int_t)accepted, "rejected",
                     (json_int_t)(b->nitems - accepted), "errors", errors);
}

/* Appends the events the cube accepted to the log (not yet synced), in their compact form
 * (walrec.c: the fields without the JSON, every event of the record accepted): 0 and *seq, or
 * an oc_err. */
static int log_accepted(struct ingest_mod *m, struct http_req *req, const struct ingest_batch *b,
                        uint64_t *seq)
{
    size_t len = 0;
    uint32_t n = 0;
    int64_t max_ts = INT64_MIN;
    for (size_t i = 0; i < b->nev; i++)
        if (b->verdict[i] == QOE_FOLD_OK)
            max_ts = b->ev[i].ts_ms > max_ts ? b->ev[i].ts_ms : max_ts;
    char *rec = ingest_events_encode(b->ev, b->verdict, b->nev, &len, &n);
    if (!rec) /* never from a JSON body: its events are a player's */
        return OC_EINVAL;
    size_t nbits = ((size_t)n + 7) / 8;
    uint8_t *bits = oc_arena_alloc(&req->arena, nbits ? nbits : 1);
    int rc = OC_ENOMEM;
    if (bits) {
        memset(bits, 0xff, nbits);
        if (n % 8)
            bits[nbits - 1] = (uint8_t)((1u << (n % 8)) - 1);
        rc = ingest_wal_write(m->wal, rec, len, bits, n, max_ts, seq);
    }
    free(rec);
    return rc;
}

/* 1 (after answering 503 with Retry-After) when ingest is behind: the log holds
 * ingest.wal_max_bytes of events whose minutes are not stored yet, or closed minutes wait
 * for a store that does not keep up. Nothing of the body is counted; the client retries. */
static int behind(struct ingest_mod *m, struct http_req *req)
{
    struct qoe_cube_stats st;
    /* a replay's minutes close only on its own events: a full log would never drain */
    uint64_t logged = m->wal && !m->replay ? ingest_wal_bytes(m->wal) : 0;
    qoe_cube_stats(m->cube, &st);
    if (logged < (uint64_t)m->o.wal_max_bytes && st.persist_pending < INGEST_BEHIND_MINUTES)
        return 0;
    atomic_fetch_add(&m->overloaded, 1);
    http_set_header(req, "Retry-After", "10");
    if (st.persist_pending >= INGEST_BEHIND_MINUTES)
        http_problem(req, 503, "ingest is behind: %llu closed minutes wait for the store; retry",
                     (unsigned long long)st.persist_pending);
    else
        http_problem(req, 503,
                     "ingest is behind: the log holds %llu bytes of events whose minutes are "
                     "not stored yet (ingest.wal_max_bytes %lld); retry",
                     (unsigned long long)logged, (long long)m->o.wal_max_bytes);
    return 1;
}

/* 1 (after answering 503 with Retry-After: 1) when req is shed because the server is
 * overloaded, a rule after CoDel: every body's queueing delay is sampled (http_req_wait_ns:
 * how long it waited, whole, for its worker); when at least half of the bodies of an interval
 * (ingest.shed_interval_ms) waited more than the target (ingest.shed_target_ms), the workers
 * had a standing queue over that interval, and during the next one a body that waited more
 * than the target is refused before it is parsed. A refusal costs a few microseconds, so the
 * queue drains; bodies that waited less are served. An interval in which fewer than half
 * waited too long (or none came for two intervals) ends it. Not CoDel's least delay of the
 * interval: a worker serves its ready connections in passes, not first come first served,
 * and the first served of each pass waited only since the last pass ended, so the least
 * stays near 0 ms under any load (docs/internals/ingest.md "Shedding"). Nothing of a refused
 * body is counted; the players back off and retry. */
static int shed(struct ingest_mod *m, struct http_req *req)
{
    int64_t target = m->o.shed_target_ms * 1000000, interval = m->o.shed_interval_ms * 1000000;
    if (target <= 0 || interval <= 0)
        return 0;
    int64_t wait = http_req_wait_ns(req), now = oc_mono_ns();
    int64_t start = atomic_load(&m->shed_start);
    if (now - start >= interval && atomic_compare_exchange_strong(&m->shed_start, &start, now)) {
        /* this body ends the interval and is the first of the next (a body of another
         * worker may still count in the old one meanwhile: the rule is a sample, not a
         * ledger) */
        uint64_t n = atomic_exchange(&m->shed_n, 1);
        uint64_t late = atomic_exchange(&m->shed_late, wait > target);
        atomic_store(&m->shed_on, late * 2 >= n && n > 0 && now - start < 2 * interval);
    } else {
        atomic_fetch_add(&m->shed_n, 1);
        if (wait > target)
            atomic_fetch_add(&m->shed_late, 1);
    }
    if (!atomic_load(&m->shed_on) || wait <= target)
        return 0;
    atomic_fetch_add(&m->shed, 1);
    http_set_header(req, "Retry-After", "1");
    http_problem(req, 503,
                 "the server is overloaded: for %lld ms most bodies waited more than %lld ms "
                 "for a worker (ingest.shed_target_ms), this one %lld ms; retry",
                 (long long)m->o.shed_interval_ms, (long long)m->o.shed_target_ms,
                 (long long)(wait / 1000000));
    return 1;
}

/* 503 for a body whose events were folded but could not be logged. */
static void refuse_unlogged(struct ingest_mod *m, struct http_req *req)
{
    atomic_fetch_add(&m->wal_failed, 1);
    http_set_header(req, "Retry-After", "5");
    http_problem(req, 503, "the events could not be written to the ingest log; retry");
}

/* Answers v (stolen) once record seq is durable: here at once without a sync to wait for;
 * else by the syncer thread through http_later (the worker goes on serving); else here after
 * waiting for the sync. */
static void answer_when_durable(struct ingest_mod *m, struct http_req *req, uint64_t seq, json_t *v)
{
    struct http_later *l = NULL;
    if (!seq || !ingest_wal_synced(m->wal)) {
        http_reply_json(req, 200, v);
        return;
    }
    if (m->syncer_started && (l = http_later(req)) != NULL) {
        char *text = json_dumps(v, JSON_COMPACT);
        json_decref(v);
        pthread_mutex_lock(&m->qmu);
        m->queue = oc_grow(m->queue, &m->qcap, m->nqueue + 1, sizeof(*m->queue));
        m->queue[m->nqueue++] = (struct waiting){l, seq, text ? text : oc_strdup("{}")};
        pthread_cond_signal(&m->qcv);
        pthread_mutex_unlock(&m->qmu);
        return;
    }
    if (ingest_wal_sync(m->wal, seq) != 0) {
        json_decref(v);
        refuse_unlogged(m, req);
        return;
    }
    http_reply_json(req, 200, v);
}

/* The accounts of b's folded events (account_hmac) into the table. */
static void record_accounts(struct ingest_mod *m, const struct ingest_batch *b)
{
    struct qoe_fold f = {b->ev, b->nev, b->leaf, b->sh, b->verdict, b->principal};
    qoe_accounts_record(m->acc, &f);
}

static void post_events(struct http_req *req)
{
    struct ingest_mod *m = req->state;
    struct ingest_batch b;
    char err[160];
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    http_set_header(req, "Access-Control-Expose-Headers", "Retry-After"); /* players back off */
    if (shed(m, req) || behind(m, req))
        return;
    ingest_batch_init(&b, INGEST_MAX_ITEMS);
    int rc = ingest_parse(&b, req->body, req->body_len, err, sizeof err);
    if (rc == OC_ETOOBIG) {
        http_problem(req, 413, "more than %d events in one body", INGEST_MAX_ITEMS);
    } else if (rc != 0) {
        http_problem(req, 400, "%s", err);
    } else {
        b.principal = qoe_principal(req->principal ? req->principal : "anonymous");
        size_t ok = ingest_fold(m->cube, &b, &m->stats);
        record_accounts(m, &b);
        uint64_t seq = 0;
        if (ok && m->wal && log_accepted(m, req, &b, &seq) != 0)
            refuse_unlogged(m, req);
        else
            answer_when_durable(m, req, seq, answer(&b, ok));
    }
    ingest_batch_free(&b);
}

/* The answer of a CMCD or CDN log body: counts and the first refused lines. */
/* The answer of a CMCD or CDN log body: counts and the first refused lines. */
static json_t *cmcd_answer(const struct cmcd_batch *b)
{
    json_t *errors = json_array();
    size_t player = 0, edge = 0;
    for (size_t i = 0; i < b->nev; i++)
        if (b->verdict[i] == QOE_FOLD_OK && b->reason[b->ev_line[i]] == CMCD_OK)
            *(b->ev[i].type == BEACON_EDGE ? &edge : &player) += 1;
    for (size_t i = 0; i < b->nerrors; i++)
        json_array_append_new(errors,
                              json_pack("{s:I,s:s,s:s}", "line", (json_int_t)b->errors[i].line,
                                        "reason", cmcd_reason_names[b->errors[i].reason], "detail",
                                        b->errors[i].detail));
    return json_pack("{s:I,s:I,s:I,s:I,s:o}", "accepted", (json_int_t)(b->nlines - b->rejected),
                     "rejected", (json_int_t)b->rejected, "player_events", (json_int_t)player,
                     "edge_requests", (json_int_t)edge, "errors", errors);
}

/* What a CMCD or CDN log request says besides its body, read from its query parameters: the
 * HTTP request's, or at replay those logged with the body. */
struct cdn_params {
    int logs;                    /* 1: /v1/cdn-logs, 0: /v1/cmcd */
    enum cdnlog_format f;        /* logs: the format */
    struct cdnlog_fields fields; /* logs, CloudFront: the columns */
    struct cmcd_dims dims;       /* dimensions named as parameters */
};
typedef const char *(*param_fn)(void *ctx, const char *name);

/* Reads p from get: 0, or 422 with why (naming the parameter). */
static int cdn_params(param_fn get, void *ctx, struct cdn_params *p, char *why, size_t n)
{
    for (int i = 0; i < BEACON_NDIMS; i++) {
        const char *v = get(ctx, beacon_dim_names[i]);
        size_t len = v ? strlen(v) : 0;
        if (v && (len == 0 || len > QOE_MAX_DIM_VALUE)) {
            snprintf(why, n, "%s: a dimension value of 1 to %d bytes", beacon_dim_names[i],
                     QOE_MAX_DIM_VALUE);
            return -1;
        }
        p->dims.d[i] = (struct beacon_str){v, (uint32_t)len};
    }
    if (!p->logs)
        return 0;
    const char *fmt = get(ctx, "format"), *list = get(ctx, "fields");
    if (cdnlog_format_parse(fmt, &p->f) != 0) {
        snprintf(why, n, "format: %s '%.40s'; one of fastly, akamai, cloudfront",
                 fmt ? "unknown" : "required, got", fmt ? fmt : "");
        return -1;
    }
    if (list && p->f != CDNLOG_CLOUDFRONT) {
        snprintf(why, n, "fields: only for format=cloudfront (JSON lines name their fields)");
        return -1;
    }
    if (p->f == CDNLOG_CLOUDFRONT && cdnlog_fields_parse(list, &p->fields, why, n) != 0)
        return -1;
    const char *pe = get(ctx, "player_events");
    if (pe && strcmp(pe, "0") != 0 && strcmp(pe, "1") != 0) {
        snprintf(why, n, "player_events: 0 or 1, got '%.40s'", pe);
        return -1;
    }
    p->dims.edge_only = pe && pe[0] == '0';
    if (!p->dims.d[BEACON_CDN].p)
        p->dims.d[BEACON_CDN] = (struct beacon_str){fmt, (uint32_t)strlen(fmt)};
    return 0;
}

/* Parses body as p says into b: 0, or OC_ETOOBIG. */
static int cdn_parse(struct cmcd_batch *b, const struct cdn_params *p, const char *body, size_t len)
{
    if (!p->logs)
        return cmcd_parse_events(b, body, len, &p->dims);
    return cdnlog_parse(b, p->f, p->f == CDNLOG_CLOUDFRONT ? &p->fields : NULL, body, len,
                        &p->dims);
}

#define CMCD_LOG_MARK  '\x01' /* a logged CMCD or CDN log body: MARK, "PATH?QUERY\n", the body */
#define CMCD_MAX_QUERY 4096   /* bytes of the query string of a CMCD or CDN log request */

/* Appends the body with its route and query string and which events the cube accepted to
 * the log (not yet synced): 0 and *seq, or an oc_err. A beacon body never starts with the
 * mark (it is not JSON), so replay tells the two apart by the first byte. */
static int log_cmcd(struct ingest_mod *m, struct http_req *req, const struct cmcd_batch *b,
                    uint64_t *seq)
{
    const char *q = http_query_string(req);
    size_t nbits = (b->nev + 7) / 8, hn, len;
    int64_t max_ts = INT64_MIN;
    uint8_t *bits = oc_calloc(nbits ? nbits : 1, 1);
    for (size_t i = 0; i < b->nev; i++)
        if (b->verdict[i] == QOE_FOLD_OK) {
            bits[i / 8] |= (uint8_t)(1u << (i % 8));
            max_ts = b->ev[i].ts_ms > max_ts ? b->ev[i].ts_ms : max_ts;
        }
    char head[CMCD_MAX_QUERY + 32];
    hn = (size_t)snprintf(head, sizeof head, "%c%s?%s\n", CMCD_LOG_MARK, req->path, q ? q : "");
    char *rec = oc_malloc(hn + req->body_len);
    memcpy(rec, head, hn);
    memcpy(rec + hn, req->body, req->body_len);
    len = hn + req->body_len;
    int rc = ingest_wal_write(m->wal, rec, len, bits, (uint32_t)b->nev, max_ts, seq);
    free(rec);
    free(bits);
    return rc;
}

/* Folds a parsed CMCD or CDN log body, counts its lines, logs it and answers once it is
 * durable (route 0: /v1/cmcd, 1: /v1/cdn-logs). */
static void cmcd_finish(struct ingest_mod *m, struct http_req *req, struct cmcd_batch *b, int route)
{
    uint64_t seq = 0;
    b->principal = qoe_principal(req->principal ? req->principal : "anonymous");
    size_t ok = cmcd_fold(m->cube, b, m->lines_rejected[route]);
    atomic_fetch_add(&m->lines_ok[route], b->nlines - b->rejected);
    if (ok && m->wal && log_cmcd(m, req, b, &seq) != 0)
        refuse_unlogged(m, req);
    else
        answer_when_durable(m, req, seq, cmcd_answer(b));
}

static const char *http_param_of(void *req, const char *name)
{
    return http_query(req, name);
}

/* POST /v1/cmcd (logs 0) and POST /v1/cdn-logs (logs 1). */
static void post_cdn(struct http_req *req, int logs)
{
    struct ingest_mod *m = req->state;
    struct cmcd_batch b;
    struct cdn_params p = {.logs = logs};
    char why[CMCD_MAX_DETAIL];
    const char *q = http_query_string(req);
    if (!logs) { /* players post CMCD from web pages, with a public key */
        http_set_header(req, "Access-Control-Allow-Origin", "*");
        http_set_header(req, "Access-Control-Expose-Headers", "Retry-After");
    }
    if (q && strlen(q) > CMCD_MAX_QUERY) {
        http_problem(req, 422, "the query string is longer than %d bytes", CMCD_MAX_QUERY);
        return;
    }
    if (cdn_params(http_param_of, req, &p, why, sizeof why) != 0) {
        http_problem(req, 422, "%s", why);
        return;
    }
    if (behind(m, req))
        return;
    cmcd_batch_init(&b, CMCD_MAX_LINES);
    if (cdn_parse(&b, &p, req->body, req->body_len) == OC_ETOOBIG)
        http_problem(req, 413, "more than %d lines in one body", CMCD_MAX_LINES);
    else if (b.nlines == 0)
        http_problem(req, 400, "empty body: %s",
                     logs ? "one log line a line" : "one CMCD report a line (or a JSON array)");
    else
        cmcd_finish(m, req, &b, logs);
    cmcd_batch_free(&b);
}

static void post_cmcd(struct http_req *req)
{
    post_cdn(req, 0);
}

static void post_cdn_logs(struct http_req *req)
{
    post_cdn(req, 1);
}

/* Replay: the parameters of a logged query string, percent-decoded into buf. */
struct logged_query {
    const char *q;
    size_t n;
    char buf[CMCD_MAX_QUERY + 64];
    size_t used;
};

static const char *logged_param(void *ctx, const char *name)
{
    struct logged_query *lq = ctx;
    size_t nl = strlen(name);
    for (const char *p = lq->q, *end = lq->q + lq->n; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
        size_t dn = 0;
        if ((size_t)(stop - p) > nl && p[nl] == '=' && memcmp(p, name, nl) == 0 &&
            oc_percent_decode(p + nl + 1, (size_t)(stop - p) - nl - 1, OC_PCT_PLUS,
                              lq->buf + lq->used, sizeof lq->buf - lq->used, &dn) == 0) {
            const char *v = lq->buf + lq->used;
            lq->used += dn + 1;
            return v;
        }
        p = stop + 1;
    }
    return NULL;
}

/* A logged CMCD or CDN log body (after the mark): parsed with its logged parameters and its
 * accepted events folded again. */
static size_t replay_cmcd(struct ingest_mod *m, const char *rec, size_t len, const uint8_t *bits,
                          uint32_t nev)
{
    const char *nl = memchr(rec, '\n', len), *qm = nl ? memchr(rec, '?', (size_t)(nl - rec)) : NULL;
    struct logged_query lq = {0};
    struct cdn_params p = {0};
    struct cmcd_batch b;
    char why[CMCD_MAX_DETAIL];
    size_t ok = 0;
    if (!qm || (size_t)(nl - qm) > CMCD_MAX_QUERY)
        return 0;
    p.logs = (size_t)(qm - rec) == strlen("/v1/cdn-logs") && !memcmp(rec, "/v1/cdn-logs", 12);
    lq.q = qm + 1;
    lq.n = (size_t)(nl - qm - 1);
    if (cdn_params(logged_param, &lq, &p, why, sizeof why) != 0)
        return 0;
    cmcd_batch_init(&b, CMCD_MAX_LINES);
    if (cdn_parse(&b, &p, nl + 1, len - (size_t)(nl + 1 - rec)) == 0 &&
        cmcd_batch_keep(&b, bits, nev) == 0)
        ok = cmcd_fold(m->cube, &b, NULL);
    cmcd_batch_free(&b);
    return ok;
}

/* The syncer thread: takes the queued answers, leads (or joins) the sync that covers the
 * newest of them and answers each. Runs until the module stops and nothing is queued. */
static void *syncer_main(void *arg)
{
    struct ingest_mod *m = arg;
    pthread_mutex_lock(&m->qmu);
    for (;;) {
        while (!m->nqueue && !m->stopping)
            pthread_cond_wait(&m->qcv, &m->qmu);
        if (!m->nqueue)
            break;
        struct waiting *take = m->queue;
        size_t n = m->nqueue;
        m->queue = NULL;
        m->nqueue = m->qcap = 0;
        pthread_mutex_unlock(&m->qmu);
        uint64_t upto = 0;
        for (size_t i = 0; i < n; i++)
            upto = take[i].seq > upto ? take[i].seq : upto;
        int rc = ingest_wal_sync(m->wal, upto);
        for (size_t i = 0; i < n; i++) {
            if (rc) {
                atomic_fetch_add(&m->wal_failed, 1);
                http_later_problem(take[i].later, 503,
                                   "the events could not be written to the ingest log; retry");
            } else {
                http_later_reply(take[i].later, 200, "application/json", take[i].answer,
                                 strlen(take[i].answer));
            }
            free(take[i].answer);
        }
        free(take);
        pthread_mutex_lock(&m->qmu);
    }
    pthread_mutex_unlock(&m->qmu);
    return NULL;
}

/* /metrics: the rejected events by reason (the cube's own counters are the qoe module's). */
static void render(struct oc_buf *b, void *arg)
{
    struct ingest_mod *m = arg;
    oc_metrics_family(b, "oncue_ingest_events_rejected_total", "counter",
                      "Beacon events rejected, by reason.");
    for (int r = 1; r < INGEST_NREASONS; r++) {
        const char *labels[] = {"reason", ingest_reason_names[r], NULL};
        oc_metrics_sample(b, "oncue_ingest_events_rejected_total", labels,
                          (double)m->stats.rejected[r]);
    }
    static const char *const routes[] = {"/v1/cmcd", "/v1/cdn-logs"};
    oc_metrics_family(b, "oncue_ingest_lines_accepted_total", "counter",
                      "CMCD reports and CDN log lines accepted, by route.");
    for (int r = 0; r < 2; r++) {
        const char *labels[] = {"route", routes[r], NULL};
        oc_metrics_sample(b, "oncue_ingest_lines_accepted_total", labels,
                          (double)atomic_load(&m->lines_ok[r]));
    }
    oc_metrics_family(b, "oncue_ingest_lines_rejected_total", "counter",
                      "CMCD reports and CDN log lines rejected, by route and reason.");
    for (int r = 0; r < 2; r++)
        for (int k = 1; k < CMCD_NREASONS; k++) {
            const char *labels[] = {"route", routes[r], "reason", cmcd_reason_names[k], NULL};
            oc_metrics_sample(b, "oncue_ingest_lines_rejected_total", labels,
                              (double)atomic_load(&m->lines_rejected[r][k]));
        }
    oc_metrics_family(b, "oncue_ingest_log_failures_total", "counter",
                      "POST /v1/events answered 503 because the write-ahead log failed.");
    oc_metrics_sample(b, "oncue_ingest_log_failures_total", NULL,
                      (double)atomic_load(&m->wal_failed));
    oc_metrics_family(b, "oncue_ingest_overloaded_total", "counter",
                      "POST /v1/events answered 503 with Retry-After because ingest is behind.");
    oc_metrics_sample(b, "oncue_ingest_overloaded_total", NULL,
                      (double)atomic_load(&m->overloaded));
    oc_metrics_family(b, "oncue_ingest_shed_total", "counter",
                      "POST /v1/events answered 503 with Retry-After because the bodies waited"
                      " too long for a worker (ingest.shed_target_ms).");
    oc_metrics_sample(b, "oncue_ingest_shed_total", NULL, (double)atomic_load(&m->shed));
    oc_metrics_family(b, "oncue_ingest_log_bytes", "gauge",
                      "Bytes in the ingest log: accepted events whose minutes are not stored yet.");
    oc_metrics_sample(b, "oncue_ingest_log_bytes", NULL,
                      m->wal ? (double)ingest_wal_bytes(m->wal) : 0);
    oc_metrics_family(b, "oncue_ingest_log_replayed_events_total", "counter",
                      "Events folded again from the write-ahead log at start.");
    oc_metrics_sample(b, "oncue_ingest_log_replayed_events_total", NULL,
                      (double)atomic_load(&m->replayed));
    size_t entries = 0;
    uint64_t dropped = 0;
    qoe_accounts_stats(m->acc, &entries, &dropped);
    oc_metrics_family(b, "oncue_ingest_accounts", "gauge",
                      "(account, leaf) pairs remembered from beacons' account_hmac.");
    oc_metrics_sample(b, "oncue_ingest_accounts", NULL, (double)entries);
    oc_metrics_family(b, "oncue_qoe_accounts_dropped_total", "counter",
                      "account_hmac sightings not remembered: ingest.accounts_max was reached.");
    oc_metrics_sample(b, "oncue_qoe_accounts_dropped_total", NULL, (double)dropped);
}

/* One record of the log at start: its accepted events folded again (those of minutes
 * already stored are refused as too old: counted once). */
/* A logged compact record: its events whose bit is set folded again, as the first time. */
static void replay_events(struct ingest_mod *m, const char *body, size_t len, const uint8_t *bits,
                          uint32_t nev)
{
    struct beacon_event *ev = oc_malloc(((size_t)nev ? nev : 1) * sizeof(*ev));
    uint32_t *leaf = oc_malloc(((size_t)nev ? nev : 1) * sizeof(*leaf));
    uint64_t *sh = oc_malloc(((size_t)nev ? nev : 1) * sizeof(*sh));
    uint8_t *verdict = oc_malloc((size_t)nev ? nev : 1);
    size_t k = 0;
    if (ingest_events_decode(body, len, nev, ev) == 0) {
        for (size_t i = 0; i < nev; i++)
            if (bits[i / 8] & (1u << (i % 8)))
                ev[k++] = ev[i];
        struct qoe_fold f = {ev, k, leaf, sh, verdict, 0};
        atomic_fetch_add(&m->replayed, qoe_cube_add(m->cube, &f));
        qoe_accounts_record(m->acc, &f);
    } else {
        oc_log(OC_LOG_WARN, "ingest: a logged record of %u events does not decode; skipped", nev);
    }
    free(ev);
    free(leaf);
    free(sh);
    free(verdict);
}

static void replay_record(void *arg, const char *body, size_t len, const uint8_t *bits,
                          uint32_t nev, int64_t max_ts_ms)
{
    struct ingest_mod *m = arg;
    struct ingest_batch b;
    char err[160];
    (void)max_ts_ms;
    if (len > 0 && body[0] == CMCD_LOG_MARK) {
        atomic_fetch_add(&m->replayed, replay_cmcd(m, body + 1, len - 1, bits, nev));
        return;
    }
    if (len > 0 && body[0] == INGEST_EVENTS_MARK) {
        replay_events(m, body, len, bits, nev);
        return;
    }
    /* a body as received: what logs written before the compact form hold */
    ingest_batch_init(&b, INGEST_MAX_ITEMS);
    if (ingest_parse(&b, body, len, err, sizeof(err)) == 0 &&
        ingest_batch_keep(&b, bits, nev) == 0) {
        atomic_fetch_add(&m->replayed, ingest_fold(m->cube, &b, NULL));
        record_accounts(m, &b);
    }
    ingest_batch_free(&b);
}

#define F(field) offsetof(struct ingest_opts, field)

static const struct oc_setting settings[] = {
    {"ingest.wal", OC_SETTING_BOOL, "true", 0, 0, NULL, F(wal), NULL,
     "answer POST /v1/events only once its accepted events are in the write-ahead log "
     "(DATA/ingest-wal, synced as store.synchronous says), replayed at start"},
    {"ingest.wal_max_bytes", OC_SETTING_INT, "8589934592", 65536, INT64_MAX / 2, NULL,
     F(wal_max_bytes), NULL,
     "past this many bytes of logged events whose minutes are not stored yet, POST /v1/events"
     " answers 503 with Retry-After (45-65 bytes an event, up to 100; minutes are stored 2-3 "
     "minutes"
     " after they end)"},
    {"ingest.accounts_max", OC_SETTING_INT, "200000", 0, 50000000, NULL, F(accounts_max), NULL,
     "(account, leaf) pairs remembered from beacons' account_hmac (in memory, up to 128 bytes"
     " each), so incidents name the accounts they touched; past it new ones are dropped; 0:"
     " none kept"},
    {"ingest.shed_target_ms", OC_SETTING_INT, "20", 0, 60000, NULL, F(shed_target_ms), NULL,
     "shedding by queueing delay: when half of the POST /v1/events bodies of an"
     " ingest.shed_interval_ms waited more than this for a worker, those that wait more are"
     " answered 503 with Retry-After: 1 before they are parsed; 0: never"},
    {"ingest.shed_interval_ms", OC_SETTING_INT, "100", 0, 60000, NULL, F(shed_interval_ms), NULL,
     "the interval over which the waits of POST /v1/events bodies are compared with"
     " ingest.shed_target_ms; 0: no shedding"},
    {0},
};

#undef F

/* Opens the log (replaying it into the cube) when the server serves HTTP with a store and
 * ingest.wal is on. */
static int open_wal(struct oc_app *app, struct ingest_mod *m)
{
    size_t records = 0;
    /* only bodies that come over HTTP are logged (a drill folds its own events) */
    if (!m->o.wal || !app->store || !app->http || !app->cfg || !app->cfg->data_dir)
        return 0;
    int sync = !app->cfg->store_sync || strcmp(app->cfg->store_sync, "normal") != 0;
    int rc = ingest_wal_open(app->cfg->data_dir, sync, replay_record, m, &m->wal, &records);
    if (rc == 0 && records)
        oc_log(OC_LOG_INFO,
               "ingest: replayed %zu logged bodies: %llu events not yet stored "
               "folded again",
               records, (unsigned long long)atomic_load(&m->replayed));
    return rc;
}

/* Finds the cube (ingest has nothing to fold into without the qoe module) and opens the
 * log. */
static int ingest_init(struct oc_app *app, void **state)
{
    struct qoe_cube *c = qoe_cube_of(app);
    if (!c) {
        oc_log(OC_LOG_ERROR, "ingest: the qoe module must run too (it owns the cube)");
        return OC_ENOTFOUND;
    }
    struct ingest_opts def;
    struct ingest_mod *m = oc_calloc(1, sizeof(*m));
    m->cube = c;
    m->o = *(const struct ingest_opts *)config_module_opts(app->cfg, &ingest_module, &def);
    m->replay = app->clock && app->clock->kind == OC_CLOCK_REPLAY;
    m->acc = qoe_accounts_new((size_t)m->o.accounts_max);
    int rc = open_wal(app, m);
    if (rc) {
        qoe_accounts_free(m->acc);
        free(m);
        return rc;
    }
    oc_app_provide(app, QOE_PROVIDES_ACCOUNTS, m->acc);
    pthread_mutex_init(&m->qmu, NULL);
    pthread_cond_init(&m->qcv, NULL);
    if (m->wal && ingest_wal_synced(m->wal)) {
        m->syncer_started = pthread_create(&m->syncer, NULL, syncer_main, m) == 0;
        if (!m->syncer_started)
            oc_log(OC_LOG_WARN, "ingest: no syncer thread; bodies wait for their sync");
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    *state = m;
    return 0;
}

/* Every 10 s: the log's segments whose minutes are all stored are deleted. */
static void trim_timer(struct oc_app *app, void *state)
{
    struct ingest_mod *m = state;
    struct qoe_cube_stats st;
    (void)app;
    if (!m->wal)
        return;
    qoe_cube_stats(m->cube, &st);
    if (st.persist_pending == 0) /* every closed minute is in the store */
        ingest_wal_trim(m->wal, st.closed_upto_s);
}

static void ingest_stop(struct oc_app *app, void *state)
{
    struct ingest_mod *m = state;
    if (m->syncer_started) { /* answers every body still queued, then ends */
        pthread_mutex_lock(&m->qmu);
        m->stopping = 1;
        pthread_cond_signal(&m->qcv);
        pthread_mutex_unlock(&m->qmu);
        pthread_join(m->syncer, NULL);
    }
    pthread_mutex_destroy(&m->qmu);
    pthread_cond_destroy(&m->qcv);
    ingest_wal_close(m->wal);
    if (oc_app_find(app, QOE_PROVIDES_ACCOUNTS) == m->acc)
        oc_app_withdraw(app, QOE_PROVIDES_ACCOUNTS);
    qoe_accounts_free(m->acc);
    free(m);
}

static const struct oc_module_timer timers[] = {
    {"ingest.trim_log", 10000, trim_timer},
    {0},
};

static const struct http_route routes[] = {
    {"POST", "/v1/events", post_events, HTTP_BEACON, INGEST_MAX_BODY,
     "beacon events (JSON array or NDJSON, also text/plain) -> accepted, rejected, errors"},
    {"POST", "/v1/cmcd", post_cmcd, HTTP_BEACON, INGEST_MAX_BODY,
     "CMCD v2 event-mode reports (one CMCD dictionary or JSON object a line, or a JSON array;"
     " ?DIM=value sets a dimension) -> accepted, rejected, player_events, errors"},
    {"POST", "/v1/cdn-logs", post_cdn_logs, HTTP_INGEST, INGEST_MAX_BODY,
     "CDN log lines with CMCD: ?format=fastly|akamai|cloudfront (&fields=... for cloudfront,"
     " ?DIM=value, &player_events=0 for edge series only) -> accepted, rejected, player_events,"
     " errors"},
    {0},
};

const struct oc_module ingest_module = {
    .name = "ingest",
    .summary = "player beacons: POST /v1/events into the per-minute QoE cube (needs qoe)",
    .init = ingest_init,
    .routes = routes,
    .timers = timers,
    .stop = ingest_stop,
    .settings = settings,
    .opts_size = sizeof(struct ingest_opts),
};
