/*
 * qoe_int.h - internal to the qoe folder: the cube's state (cube.c) and the lock-free
 * resolution of event dimensions to leaf ids through per-thread caches (resolve.c).
 */
#ifndef OC_QOE_QOE_INT_H
#define OC_QOE_QOE_INT_H

#include "core/memo.h"
#include "qoe/dict.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct open_minute;
struct qoe_fold;
struct qoe_minute;
struct store;

#define BUDGET_SLOTS 4096 /* principals tracked per minute (hygiene.c) */

/* New values one principal added in one minute (hygiene.c). */
struct cube_budget {
    uint64_t who; /* hash of the principal */
    int64_t minute;
    uint32_t used;
};

struct qoe_cube {
    struct qoe_cube_opts o;
    struct oc_clock *clock;   /* borrowed */
    pthread_rwlock_t dict_rw; /* shared while a batch resolves (resolve.c), exclusive while a
                                 sweep rewrites the dictionaries (hygiene.c); before mu */
    pthread_mutex_t mu;       /* everything below up to rw */
    struct dict_values vals[BEACON_NDIMS];
    struct dict_leaves leaves;
    int closed[BEACON_NDIMS];                /* 1: only the listed values (ingest.regions, .cdns) */
    uint8_t *listed[BEACON_NDIMS];           /* id -> 1 when in the closed list (region, cdn) */
    char *list[BEACON_NDIMS];                /* the closed list in force (owned), or NULL */
    struct cube_budget budget[BUDGET_SLOTS]; /* new values per principal and dim this minute */
    int64_t last_sweep_s;                    /* the cube's clock at the last sweep */
    uint64_t *swept_vals; /* (dim << 32 | id) aged out since the store last heard */
    size_t nswept_vals, capswept_vals;
    uint32_t *swept_leaves; /* stored leaves rewritten by a sweep since then */
    size_t nswept_leaves, capswept_leaves;
    /* nopen slots, minute t in slot (t / 60) % nopen; every open minute lies within
     * [closed_upto, closed_upto + lateness + skew + 60] */
    struct open_minute *open;
    int nopen;
    int64_t max_ts_ms;               /* highest event time, capped by the clock outside replay */
    _Atomic int64_t closed_upto_s;   /* every minute before this is closed; read lock-free */
    _Atomic int64_t complete_upto_s; /* every minute before this is in the ring: closed, or
                                        published complete (may still be revised) */
    _Atomic int64_t mem_lo_s; /* set at load: minutes before it are stored (rolled up) only */
    struct qoe_cube_stats st; /* counters */
    pthread_rwlock_t rw;      /* the ring */
    struct qoe_minute **ring; /* closed minute t in slot (t / 60) % nring */
    int64_t nring;
    uint64_t serial; /* keys the per-thread caches: new per cube and per sweep (dict_rw) */
    /* persistence (persist.c): the queue under mu, the rest owned by the persisting thread */
    int persist;              /* 1 once loaded from a store: closed minutes queue */
    struct store *store;      /* the store loaded from (borrowed), read by history queries */
    struct pend_minute *pend; /* closed minutes waiting to be written, oldest first */
    size_t npend, cappend;
    uint64_t pend_dropped;               /* minutes dropped because the queue was full */
    uint32_t saved_values[BEACON_NDIMS]; /* values already in the store, per dimension */
    uint32_t saved_leaves;               /* leaves already in the store */
    struct qoe_errtally *errs;           /* error codes (errors.c); its own lock */
};

/* The error code tally (errors.c). */
struct qoe_errtally *qoe_errtally_new(void);
void qoe_errtally_free(struct qoe_errtally *t);
/* Counts the failed starts and error events of f the cube accepted (after qoe_cube_add). */
void qoe_errtally_add(struct qoe_errtally *t, const struct qoe_fold *f);

/* A closed minute encoded for the store. */
struct pend_minute {
    int64_t t;
    void *blob; /* owned */
    size_t len;
};

/* Closed minutes queued for the store: an hour (about 170 MB at 50,000 leaves) before the
 * oldest are dropped (counted) rather than growing without bound while the store is stuck. */
#define CUBE_MAX_PENDING 60

/* Puts a minute loaded from the store into the ring (replacing an older one there); every
 * minute up to it counts as closed. Called before ingest starts. */
void cube_install_minute(struct qoe_cube *c, struct qoe_minute *cm);
/* Queues cm for the store when persistence is on (mu held). */
void cube_queue_minute(struct qoe_cube *c, const struct qoe_minute *cm);

/* Snapshots (qoe_minute_destroy each) of at most max open minutes that took events since the
 * last call, for the ClickHouse shipper's partial rows: how many; each is flagged clean. */
int cube_take_shippable(struct qoe_cube *c, struct qoe_minute **out, int max);
/* Flags open minute t for the next cube_take_shippable again (its partial insert failed). */
void cube_ship_again(struct qoe_cube *c, int64_t t);

/* A serial never handed out before (cube.c). */
uint64_t cube_new_serial(void);

/* Why cube_value_intern gave "other" (or not). */
enum { INTERN_OK = 0, INTERN_FOLDED, INTERN_REFUSED };
/* The id of s in dimension d, adding it when new unless the dimension is closed or full
 * (*why INTERN_FOLDED: 1, "other", for good) or principal (0: none) spent its budget of new
 * values this minute (*why INTERN_REFUSED: 1 for this event only). mu held. */
uint32_t cube_value_intern(struct qoe_cube *c, int d, const char *s, uint32_t n, uint64_t principal,
                           int *why);
/* Marks the values of cm's leaves seen at cm->t (mu held). */
void cube_mark_seen(struct qoe_cube *c, const struct qoe_minute *cm);
/* Ages out the values not seen for value_idle_s at now_s, at most once a minute unless
 * force; takes every lock. Returns how many. */
int cube_sweep(struct qoe_cube *c, int64_t now_s, int force);

/* Counts of one batch's resolution, added to the stats under the lock. */
struct resolve_counts {
    uint64_t folded[BEACON_NDIMS];  /* events whose value of the dimension became "other" */
    uint64_t refused[BEACON_NDIMS]; /* ... because their sender's budget was spent */
    uint64_t leaves_folded;         /* events sent to leaf 0 by the leaf dictionary cap */
};

/* Sets b->leaf[i] for each start and heartbeat of b (and b->sh[i], the session hash, for
 * heartbeats), without the cube lock except to add a value or leaf never seen. */
void cube_resolve_batch(struct qoe_cube *c, struct qoe_fold *b, struct resolve_counts *n /* OUT */);

/* ClickHouse (clickhouse.c, docs/internals/scale.md): collectors ship closed minutes, and
 * GET /v1/qoe answers from it when configured. */
struct qoe_ch;
struct qoe_query;
struct qoe_result;
/* Counters of the shipper (written by its thread; read for /metrics). */
struct qoe_ch_stats {
    int64_t shipped_upto;  /* every stored minute before this is in ClickHouse */
    uint64_t inserts;      /* INSERTs done (one per minute) */
    uint64_t rows;         /* rows inserted */
    uint64_t skipped;      /* minutes found shipped already (a crash lost the watermark) */
    uint64_t failures;     /* requests that failed (retried the next second) */
    uint64_t partials;     /* inserts of an open minute's partial rows */
    uint64_t partial_rows; /* rows they held */
};
/* 0 when url is http(s):// and table and cluster (may be NULL or "") plain names; else
 * OC_EINVAL naming the setting. */
int qoe_ch_valid(const char *url, const char *table, const char *cluster, char *err, size_t errlen);
/* CREATE TABLE IF NOT EXISTS table (a ReplacingMergeTree); with a cluster, table_local so and
 * table a Distributed table over the cluster's shards, sharded by batch id. 0, or OC_EIO. */
int qoe_ch_create(const char *url, const char *table, const char *cluster, char *err,
                  size_t errlen);
/* Starts the shipper thread over the minutes cube c stores in s (both borrowed; outlive it),
 * creating the table(s) first (cluster: NULL or "" without shards), and every partial_s
 * seconds (0: never) inserting the partial rows of the open minutes. NULL when the thread
 * cannot start (logged). */
struct qoe_ch *qoe_ch_start(const char *url, const char *table, const char *cluster,
                            int64_t partial_s, struct qoe_cube *c, struct store *s);
/* Wakes the shipper (minutes were just stored). */
void qoe_ch_wake(struct qoe_ch *ch);
void qoe_ch_stats(struct qoe_ch *ch, struct qoe_ch_stats *out /* OUT */);
/* Stops the thread after one last pass (the minutes the stop flushed), frees ch (NULL: no-op). */
void qoe_ch_stop(struct qoe_ch *ch);
/* Runs q over the minutes in ClickHouse: 0 with *out and *cube, a throwaway cube holding the
 * answered minutes, which the series' values borrow from (destroy both after use, also on
 * failure); OC_EINVAL from the query engine, or OC_EDB (ClickHouse unreachable or its answer
 * unreadable) with why in err. */
int qoe_ch_query(const char *url, const char *table, const struct qoe_cube_opts *opts,
                 const struct qoe_query *q, struct qoe_cube **cube, struct qoe_result **out,
                 char *err, size_t errlen);

/* The throwaway cube of a ClickHouse answer to q (len bytes of RowBinary: the SELECT of
 * qoe_ch_query): its rows become the closed minutes, by minute and by the values of the
 * dimensions q groups or filters by. NULL with why in err when the bytes are not such an
 * answer (a row outside q's range, a minute and group twice, a value over the cap, cut
 * short). Destroy with qoe_cube_destroy. */
struct qoe_cube *qoe_ch_answer_cube(const char *data, size_t len, const struct qoe_query *q,
                                    const struct qoe_cube_opts *opts, char *err, size_t errlen);

/* Runs one statement over ClickHouse's HTTP interface at url: 0 with the answer appended to
 * out (may be NULL), or OC_EIO with why in err. */
struct oc_buf;
int qoe_ch_sql(const char *url, const char *sql, struct oc_buf *out, char *err, size_t errlen);
/* Reads the minutes [from, to) of table with every dimension kept and installs them as closed
 * minutes of c (a live cube: takes its mutex, then the ring's write lock), replacing any it
 * held. 0 with *nrows the rows installed; OC_EDB with why in err (unreachable, or an answer
 * that is not those minutes: nothing installed). */
int qoe_ch_fill(struct qoe_cube *c, const char *url, const char *table, int64_t from, int64_t to,
                size_t *nrows /* OUT */, char *err, size_t errlen);

/* The cube of a control-plane node filled from ClickHouse (chpull.c, qoe.clickhouse_pull). */
struct qoe_pull;
struct oc_clock;
struct qoe_pull_stats {
    int64_t upto;      /* every whole minute before this is in the cube */
    uint64_t pulled;   /* minutes installed */
    uint64_t forced;   /* ... taken with a collector's partial rows (never closed) */
    uint64_t failures; /* passes that failed (retried every second) */
    uint64_t revised;  /* minutes read again: rows arrived after they were pulled */
};
/* Starts the thread filling c (borrowed, outlives it) from table at url with the whole minutes
 * (every batch closed), moving clock (borrowed; a replay clock follows) to their end; the first
 * pass starts memory_minutes before the newest minute there. NULL when the thread cannot
 * start (logged). */
struct qoe_pull *qoe_pull_start(const char *url, const char *table, struct qoe_cube *c,
                                struct oc_clock *clock, int64_t memory_minutes);
void qoe_pull_stats(struct qoe_pull *p, struct qoe_pull_stats *out /* OUT */);
/* Stops the thread and frees p (NULL: no-op). */
void qoe_pull_stop(struct qoe_pull *p);

/* The qoe module's state (module.c); the Prometheus API (prom.c) reads it too. */
struct qoe_module_state {
    struct qoe_cube *cube;
    struct qoe_cube_opts o;    /* the settings */
    struct qoe_ch *ch;         /* the shipper, with qoe.clickhouse_ship */
    struct qoe_pull *pull;     /* the cube's filler, with qoe.clickhouse_pull */
    int64_t max_cells;         /* qoe.query_max_cells */
    int64_t max_answer_bytes;  /* qoe.query_max_answer_bytes */
    struct oc_memo dims;       /* GET /v1/qoe/dimensions with the default top, per closed minute */
    struct qoe_pool *pool;     /* the threads answering GET /v1/qoe; NULL: the HTTP worker does */
    int cdns_from_steering;    /* ingest.cdns=steering: the list follows steer.policy_changed */
    int regions_from_steering; /* ingest.regions=steering: likewise */
    char *map_regions;         /* with it: the steering region map's regions; owned */
};

/* The query threads of GET /v1/qoe (qpool.c). */
struct qoe_pool;
struct oc_buf;
struct http_req;
/* threads threads (none when threads < 1: NULL) over ms (borrowed, outlives the pool), at most
 * max_queued queries waiting. Destroy with qoe_pool_destroy. */
struct qoe_pool *qoe_pool_new(struct qoe_module_state *ms, int threads, int max_queued);
/* Hands q (copied) and req's answer to a thread: 0 (the handler returns without answering),
 * OC_EBUSY (max_queued wait already: answer 503) or OC_ENOTFOUND (the server is stopping:
 * answer on the worker). */
int qoe_pool_submit(struct qoe_pool *p, struct http_req *req, const struct qoe_query *q);
struct http_later;
/* A job of a query thread: runs arg, answers later exactly once, frees arg; returns the bytes
 * of the answer (a large one makes the thread give freed memory back). */
typedef size_t (*qoe_pool_fn)(struct qoe_module_state *ms, void *arg, struct http_later *later);
/* As qoe_pool_submit, for fn(ms, arg, later) on a thread; arg (owned by fn from then on) is
 * untouched unless 0 is returned. */
int qoe_pool_submit_fn(struct qoe_pool *p, struct http_req *req, qoe_pool_fn fn, void *arg);
/* Answers what is queued, ends the threads and frees p; NULL is a no-op. */
void qoe_pool_destroy(struct qoe_pool *p);
/* Appends the next part of an answer to b until b holds upto bytes or more (a small step
 * past it at most) or the answer is complete: 1 when it is, 0 when more remains, OC_ETOOBIG
 * when b's cap was reached. */
typedef int (*qoe_part_fn)(void *arg, struct oc_buf *b, size_t upto);
/* Answers later (on a query thread) with the JSON answer next(arg, ...) writes: whole with
 * Content-Length when it ends within STREAM_AFTER bytes (or whole is set: HEAD), else as a
 * stream formatted as the client reads (qpool.c); capped at qoe.query_max_answer_bytes.
 * free_fn(arg) runs once the answer is done with, on whichever thread. 0 (answered), or
 * OC_ETOOBIG when the answer passed the cap before anything was sent: the caller answers
 * (later is still its own). *len: the bytes formatted here. */
int qoe_answer_parts(struct qoe_module_state *ms, struct http_later *later, int whole,
                     qoe_part_fn next, void (*free_fn)(void *), void *arg, size_t *len /* OUT */);
/* The JSON answer of GET /v1/qoe written a part at a time (answer.c). */
struct qoe_writer;
/* A writer of q's answer from r (owned by the writer from now on; the group values it names
 * are copied, its points freed as they are written). Destroy with qoe_writer_destroy. */
struct qoe_writer *qoe_writer_new(const struct qoe_query *q, struct qoe_result *r);
/* Appends the next part of the answer to b until b holds upto bytes or more (a point at
 * most past it) or the answer is complete: 1 when it is (its last byte, a new line, is in b),
 * 0 when more remains, OC_ETOOBIG when b's cap was reached (b then holds a cut answer). The
 * parts put together are byte for byte oc_json_dump of qoe_result_json, and a new line. */
int qoe_writer_next(struct qoe_writer *w, struct oc_buf *b, size_t upto);
/* Frees w and its result; NULL is a no-op. */
void qoe_writer_destroy(struct qoe_writer *w);
/* Runs q (on the cube, or on ClickHouse with qoe.clickhouse_query): 0 and a writer of its
 * answer in *out (the caller destroys it), or an oc_err with a detail in err. */
int qoe_answer_start(struct qoe_module_state *ms, const struct qoe_query *q,
                     struct qoe_writer **out /* OUT */, char *err, size_t errlen);
/* Runs q (on the cube, or on ClickHouse with qoe.clickhouse_query) and writes its JSON answer
 * into b (capped at qoe.query_max_answer_bytes): 0, or an oc_err with a detail in err. */
int qoe_answer(struct qoe_module_state *ms, const struct qoe_query *q, struct oc_buf *b, char *err,
               size_t errlen);

struct http_req;
struct qoe_query;
/* The cost of q's answer with at most groups groups, checked before it runs: at most
 * qoe.query_max_cells values (groups x points), qoe.query_max_answer_bytes of JSON, and
 * mem_cap bytes of memory (the request's http.request_memory_bytes). 0, or OC_EINVAL with a detail
 * in err that says how to narrow the query. */
int qoe_cost_check(const struct qoe_module_state *ms, int64_t mem_cap, const struct qoe_query *q,
                   int64_t groups, char *err, size_t errlen);

/* The Prometheus-compatible API (prom.c), routes of the qoe module. */
#define PROM_MAX_BODY 65536 /* form body of a POST */
void qoe_prom_query(struct http_req *req);
void qoe_prom_query_range(struct http_req *req);
void qoe_prom_labels(struct http_req *req);
void qoe_prom_label_values(struct http_req *req);
void qoe_prom_series(struct http_req *req);
void qoe_prom_metadata(struct http_req *req);
void qoe_prom_buildinfo(struct http_req *req);

#endif
