/*
 * cube.h - the per-minute QoE cube: beacons folded into open minutes by leaf (one combination
 * of dimension values), closed on the event-time watermark or the injected clock into compact
 * immutable minutes stored by column, persisted, rolled up and read back as history.
 * Included through qoe.h; see docs/internals/qoe.md for the invariants.
 */
#ifndef OC_QOE_CUBE_H
#define OC_QOE_CUBE_H

#include "qoe/event.h"
#include "core/setting.h"

#include <stddef.h>
#include <stdint.h>

#define QOE_MAX_DIM_VALUE 128              /* bytes of a dimension value */
#define QOE_SKETCH_GAMMA  1.02             /* startup sketch bucket ratio: <= 1% relative error */
#define QOE_SKETCH_NB     2048             /* buckets; bucket 0 holds 0 ms */
#define QOE_SKETCH_MAXC   ((1u << 21) - 1) /* count field of a packed sketch entry */

/* Why the cube refused an event (qoe_cube_add); 0 means folded. */
enum qoe_fold_verdict {
    QOE_FOLD_OK = 0,
    QOE_FOLD_TOO_OLD,        /* its minute has already closed */
    QOE_FOLD_TOO_FAR_FUTURE, /* more than max_future_skew_s ahead of the clock */
};

/* Events handed to the cube and the per-event scratch it fills; the caller owns every array
 * (n entries each). ev[i]'s strings are read during the call only. */
struct qoe_fold {
    const struct beacon_event *ev; /* valid events */
    size_t n;
    uint32_t *leaf;     /* scratch: ev[i]'s leaf id */
    uint64_t *sh;       /* scratch: ev[i]'s session hash (heartbeats) */
    uint8_t *verdict;   /* OUT: enum qoe_fold_verdict per event */
    uint64_t principal; /* hash of the sender (qoe_principal); 0: trusted, no budget */
};

/* The principal key of a sender's name (a token's or public ingest key's), never 0. */
uint64_t qoe_principal(const char *name);

/* 64-bit hash of n bytes (also the session hash of the cube). */
uint64_t qoe_hash(const void *p, size_t n, uint64_t seed);

/* The startup sketch: a log-bucket histogram, bucket i > 0 holds values in
 * (gamma^(i-1), gamma^i], reported as 2 gamma^i / (gamma + 1). Mergeable by adding counts. */
int qoe_sketch_bucket(int64_t ms);
double qoe_sketch_value(int bucket);
/* The q-quantile (nearest rank, 0 < q <= 1) of a dense histogram of QOE_SKETCH_NB counts
 * holding n values; NAN when n is 0. */
double qoe_sketch_quantile(const uint64_t *hist, uint64_t n, double q);
/* Packed entries of closed minutes: bucket in the top 11 bits, count in the low 21. */
#define QOE_SK_BUCKET(e) ((int)((e) >> 21))
#define QOE_SK_COUNT(e)  ((e)&QOE_SKETCH_MAXC)

/* Cube settings: the qoe module's options block (rows in qoe_cube_settings), or set by tests. */
struct qoe_cube_opts {
    int64_t allowed_lateness_s;     /* ingest.allowed_lateness_s */
    int64_t complete_after_s;       /* ingest.complete_after_s: published this long after its end */
    int64_t max_future_skew_s;      /* ingest.max_future_skew_s; not applied to a replay clock */
    uint32_t max_values_per_dim;    /* ingest.max_values_per_dim, beyond: "other" */
    uint32_t max_leaves_per_minute; /* ingest.max_leaves_per_minute, beyond: the all-other leaf */
    uint32_t max_leaves;            /* leaf dictionary cap (all minutes); beyond: all-other leaf */
    uint32_t max_sessions_per_minute; /* (session, leaf) pairs per minute kept exactly */
    int64_t memory_minutes;           /* closed minutes kept in memory */
    int64_t rollup_5m_after_s;        /* stored minutes older than this merge into 5-minute rows */
    int64_t rollup_1h_after_s;        /* 5-minute rows older than this merge into hourly rows */
    int64_t retention_days;           /* stored rows older than this are deleted */
    int64_t query_max_cells;          /* qoe.query_max_cells: groups x points of one answer */
    int64_t query_max_answer_bytes;   /* qoe.query_max_answer_bytes: one answer's JSON */
    int64_t query_threads;            /* qoe.query_threads: threads answering GET /v1/qoe */
    int64_t query_queue;              /* qoe.query_queue: queries waiting for them at most */
    int64_t value_idle_s;             /* ingest.value_idle_s: unseen this long, a value ages out */
    uint32_t new_values_per_minute;   /* ingest.new_values_per_minute, per principal and dim */
    uint32_t junk_max_events;         /* ingest.junk_max_events: a junk value's events at most */
    int64_t junk_idle_s;              /* ingest.junk_idle_s: and idle at least */
    char *closed_regions;             /* ingest.regions: "" open, else the only regions */
    char *closed_cdns;                /* ingest.cdns: likewise for cdn */
    const char *clickhouse_url;       /* qoe.clickhouse_url: "" without ClickHouse */
    const char *clickhouse_table;     /* qoe.clickhouse_table */
    const char *clickhouse_cluster;   /* qoe.clickhouse_cluster: "" without shards */
    int clickhouse_ship;              /* qoe.clickhouse_ship: closed minutes go to ClickHouse */
    int clickhouse_query;             /* qoe.clickhouse_query: GET /v1/qoe reads ClickHouse */
    int clickhouse_pull;              /* qoe.clickhouse_pull: the cube fills from ClickHouse */
    int64_t clickhouse_partial_s;     /* qoe.clickhouse_partial_s: open minutes every N s; 0 off */
};

/* One leaf of one closed minute: everything the formulas of docs/contracts.md "Metrics" need
 * (a row view of the columns of struct qoe_minute; see qoe_minute_row). */
struct qoe_row {
    uint32_t leaf;        /* leaf id: qoe_cube_leaf_dims */
    uint32_t starts;      /* start events */
    uint32_t fails;       /* ... with outcome failure */
    uint32_t exits;       /* ... with outcome exit */
    uint32_t hb_sessions; /* distinct sessions with a heartbeat in this leaf this minute */
    uint32_t rb_sessions; /* ... of which at least one heartbeat had rebuffer_ms > 0 */
    uint32_t sk_off;      /* first packed sketch entry in the minute's sk array */
    uint32_t sk_n;        /* number of packed entries (successful starts by bucket) */
    int64_t playing_ms;   /* sum over heartbeats */
    int64_t rebuffer_ms;  /* sum over heartbeats */
    double bitrate_ms;    /* sum of bitrate_kbps x playing_ms */
    uint32_t edge_req;    /* CDN edge requests (log lines) */
    uint32_t edge_5xx;    /* ... answered 5xx */
    uint32_t edge_miss;   /* ... cache misses */
    uint32_t edge_origin; /* ... pulled from the origin (misses and passes) */
    uint32_t edge_ttfb_n; /* ... with a time to first byte */
    int64_t edge_ttfb_ms; /* sum of those times to first byte */
    uint32_t errors;      /* error events: plays ended by a fatal playback error */
};

/* One minute of one leaf inside a stored rollup row: what makes the per-minute metrics
 * (share rebuffering, concurrent viewers) exact over any slice, since they are means over
 * minutes of ratios and distinct counts that do not add up across a row's minutes. */
struct qoe_det {
    uint32_t min; /* minute within the row: (minute start - row start) / 60 */
    uint32_t hb;  /* distinct sessions with a heartbeat in this leaf that minute */
    uint32_t rb;  /* ... of which at least one heartbeat had rebuffer_ms > 0 */
};

/* A closed minute, stored by column so that a query reads only the columns its metric needs.
 * Immutable once published. Row i of every column is one leaf; leaves ascend. A stored
 * rollup row (res 300 or 3600) has the same shape: its columns are sums over its minutes
 * (session counts become session-minutes) and det holds each leaf's per-minute sessions. */
struct qoe_minute {
    int64_t t; /* minute start, unix seconds */
    uint32_t nrows;
    int64_t *playing_ms; /* the columns, as in struct qoe_row; all inside mem */
    int64_t *rebuffer_ms;
    double *bitrate_ms;
    uint32_t *leaf;
    uint32_t *starts, *fails, *exits;
    uint32_t *hb_sessions, *rb_sessions;
    uint32_t *sk_off, *sk_n;
    void *mem;      /* one allocation holding every column; owned */
    size_t mem_len; /* its bytes */
    uint32_t *sk;   /* packed sketch entries; owned */
    uint32_t nsk;
    int32_t res;         /* seconds covered: 60, or 300 / 3600 for a rollup row */
    uint32_t *det_off;   /* rollup rows: row i's entries are det[det_off[i] ..] */
    uint32_t *det_n;     /* ... det_n[i] of them, minutes ascending; NULL: no detail */
    struct qoe_det *det; /* (a minute, or a rollup stored before detail existed); owned */
    uint32_t ndet;
    /* the CDN edge columns (struct qoe_row edge_*): NULL, all of them, unless some row had
     * an edge request (a minute without CDN logs costs nothing); one allocation, edge_mem */
    uint32_t *edge_req, *edge_5xx, *edge_miss, *edge_origin, *edge_ttfb_n;
    int64_t *edge_ttfb_ms;
    void *edge_mem;  /* owned */
    size_t edge_len; /* its bytes */
    /* the error events (struct qoe_row errors): NULL unless some row had one; owned */
    uint32_t *errors;
};

/* Row i of m as a struct. */
void qoe_minute_row(const struct qoe_minute *m, uint32_t i, struct qoe_row *out /* OUT */);
/* A minute of nrows rows with its columns allocated (zeroed) and nsk sketch entries. Free
 * with qoe_minute_destroy. */
struct qoe_minute *qoe_minute_new(int64_t t, uint32_t nrows, uint32_t nsk);
/* Allocates m's edge columns (zeroed), if it has none yet. */
void qoe_minute_edge_alloc(struct qoe_minute *m);
/* Allocates m's error column (zeroed), if it has none yet. */
void qoe_minute_errors_alloc(struct qoe_minute *m);
/* Sets row i of m from r (the edge fields only when m has edge columns, errors likewise). */
void qoe_minute_set(struct qoe_minute *m, uint32_t i, const struct qoe_row *r);
/* Frees a closed minute (NULL is a no-op). */
void qoe_minute_destroy(struct qoe_minute *cm);

/* Counters of a cube, for /metrics and tests. */
struct qoe_cube_stats {
    uint64_t accepted;                  /* events folded into a minute */
    uint64_t too_old;                   /* events refused: their minute had closed */
    uint64_t too_far_future;            /* events refused: too far ahead of the clock */
    uint64_t folded[BEACON_NDIMS];      /* events whose value was folded into "other" (cap, list) */
    uint64_t refused[BEACON_NDIMS];     /* ... whose new value was refused (sender's budget) */
    uint64_t values_aged[BEACON_NDIMS]; /* values aged out (ingest.value_idle_s) */
    uint64_t leaves_folded;             /* events sent to the all-other leaf by a cap */
    uint64_t sessions_dropped;          /* heartbeats past max_sessions_per_minute */
    uint64_t minutes_closed;
    uint32_t leaves;               /* leaf dictionary size */
    uint32_t values[BEACON_NDIMS]; /* values in each intern table ("unknown", "other" too) */
    int64_t watermark_ms;          /* max event time - lateness */
    int64_t closed_upto_s;         /* every minute before this is closed */
    int64_t complete_upto_s;       /* every minute before this is readable (complete or closed) */
    uint64_t minutes_revised;      /* published minutes that late events changed before closing */
    uint64_t persist_pending;      /* closed minutes waiting for the store */
    uint64_t persist_dropped;      /* closed minutes dropped because the store was stuck */
};

struct qoe_cube;
struct oc_clock;

/* Creates a cube reading time from clock (borrowed; outlives the cube). Destroy with
 * qoe_cube_destroy (NULL is a no-op). */
struct qoe_cube *qoe_cube_new(const struct qoe_cube_opts *opts, struct oc_clock *clock);
void qoe_cube_destroy(struct qoe_cube *c);
/* Defaults of every option (the documented setting defaults). */
/* The rows of the settings above (ingest.* and qoe.*), ending in {0}: the qoe module's. */
extern const struct oc_setting qoe_cube_settings[];
void qoe_cube_opts_default(struct qoe_cube_opts *o);
/* Folds the events of f into the cube, setting f->verdict[i] for each (too old, too far in
 * the future, or folded); may close minutes. Leaf resolution runs without the lock; folding
 * takes it once per call. Thread-safe. Returns the number folded. */
size_t qoe_cube_add(struct qoe_cube *c, struct qoe_fold *f);
/* Adds one already-valid event (its strings are read during the call only), as the in-process
 * producers (the drill) do without an NDJSON round trip; 1 if accepted, else 0. */
size_t qoe_cube_add_event(struct qoe_cube *c, const struct beacon_event *ev);
/* Interns the values of ingest.regions and ingest.cdns and closes those dimensions to any
 * other value (after qoe_cube_load: ids follow the stored ones); QOE_CLOSED_FROM_STEERING
 * leaves the dimension open for the module to set. 0, or OC_EINVAL with err. */
int qoe_cube_close_lists(struct qoe_cube *c, char *err, size_t errlen);
/* ingest.cdns: the steering policy's pathways; ingest.regions: the region map's and policy's
 * regions */
#define QOE_CLOSED_FROM_STEERING "steering"
/* Makes list (comma-separated, borrowed; NULL or "": open) the closed list of dimension d
 * (BEACON_REGION or BEACON_CDN): its values are interned and any other value, including one
 * listed before, counts as "other" from now on. Thread-safe (waits for batches resolving).
 * 0, or OC_EINVAL with err naming setting. */
int qoe_cube_set_closed(struct qoe_cube *c, int d, const char *list, const char *setting, char *err,
                        size_t errlen);
/* Ages out dimension values not seen for ingest.value_idle_s (at most once a minute of the
 * cube's clock; the main thread, with qoe_cube_persist). Returns how many. */
int qoe_cube_sweep(struct qoe_cube *c, int64_t now_s);
/* Closes the minutes the clock says are due (now - lateness passed their end); a no-op on a
 * replay clock, where only the event watermark closes minutes. Thread-safe. */
void qoe_cube_tick(struct qoe_cube *c);
/* Closes every open minute (shutdown, tests). Later events for them are too old. */
void qoe_cube_flush(struct qoe_cube *c);
void qoe_cube_stats(struct qoe_cube *c, struct qoe_cube_stats *out /* OUT */);

struct store;
/* Loads the stored dimension values and leaves (same ids) and the memory_minutes newest
 * stored minutes, marks every stored minute closed, and turns on persistence: from then on
 * closed minutes queue for qoe_cube_persist. Call before ingesting. 0, or OC_EDB /
 * OC_EINVAL with a reason in err. */
int qoe_cube_load(struct qoe_cube *c, struct store *s, char *err, size_t errlen);
/* Writes the queued closed minutes, one transaction each (with the values and leaves they
 * need). Returns the number written, or a negative oc_err (the rest stay queued). */
int qoe_cube_persist(struct qoe_cube *c, struct store *s);
/* For a cube that is a cache of another store (qoe.clickhouse_pull): drops what
 * qoe_cube_persist would write (aged values, queued minutes), so that nothing piles up. */
void qoe_cube_persist_none(struct qoe_cube *c);
/* Rolls stored minutes up to 5-minute and hourly rows and deletes rows past retention
 * (bounded work per call). 0 or OC_EDB. */
int qoe_cube_compact(struct qoe_cube *c, struct store *s, int64_t now_s);

/* Reading stored history (the qoe capability), for ranges older than memory. Every stored
 * row covers [t, t + res) at the best resolution kept (a minute, 5 minutes, an hour); rows never
 * overlap (a rollup deletes what it merges, in one transaction). Lock order: history_begin
 * before read_begin, never the other way round.
 * history_begin returns 1 with the store locked (the rows do not change until history_end)
 * when the cube was loaded from a store, else 0 (and history_end must not be called). */
int qoe_cube_history_begin(struct qoe_cube *c);
void qoe_cube_history_end(struct qoe_cube *c);
/* The end (t + res) of the latest stored row that starts before t, or INT64_MIN. */
int64_t qoe_cube_history_cover(struct qoe_cube *c, int64_t t);
/* Calls fn(arg, row) for every stored row starting in [from, to), decoded one at a time (the
 * row is valid during the call only; damaged rows are skipped). 0, or OC_EDB. */
int qoe_cube_history_scan(struct qoe_cube *c, int64_t from, int64_t to,
                          void (*fn)(void *arg, const struct qoe_minute *row), void *arg);
/* Calls fn(arg, m) for every span of [from, to) the cube holds, each once: the stored rows
 * (minutes or rollups) before the first minute in memory that no stored row covers, then the
 * closed minutes in memory from there on (never both for one span). Takes the locks in their
 * order itself: the store's (history_begin) around it all, the cube's read lock around the
 * minutes in memory, so fn must take neither. A row is valid during its call only. 0, or
 * OC_EDB (stored history unreadable; the minutes in memory were still read). */
int qoe_cube_scan(struct qoe_cube *c, int64_t from, int64_t to,
                  void (*fn)(void *arg, const struct qoe_minute *m), void *arg);

/* Reading closed minutes (the qoe capability). Between read_begin and read_end minutes are
 * neither added nor evicted; several readers may hold it at once. */
void qoe_cube_read_begin(struct qoe_cube *c);
void qoe_cube_read_end(struct qoe_cube *c);
/* The minute starts that may be in memory: [*lo, *hi) (empty before the first close). A
 * reader bounds its scan by it, so a huge range costs no more than the ring. Lock-free. */
void qoe_cube_window(struct qoe_cube *c, int64_t *lo, int64_t *hi);
/* The closed minute starting at t (unix seconds, a multiple of 60), or NULL. */
const struct qoe_minute *qoe_cube_minute(struct qoe_cube *c, int64_t t);
/* The value ids of leaf (BEACON_NDIMS of them; owned by the cube, valid forever). */
const uint32_t *qoe_cube_leaf_dims(struct qoe_cube *c, uint32_t leaf);
/* The number of leaves so far (ids are 0 .. n-1). */
uint32_t qoe_cube_nleaves(struct qoe_cube *c);
/* The value with this id in dimension d (NUL-terminated; owned by the cube). */
const char *qoe_cube_value(struct qoe_cube *c, int d, uint32_t id);
/* The number of values of dimension d so far. */
uint32_t qoe_cube_nvalues(struct qoe_cube *c, int d);
/* The id of value s (n bytes) in dimension d: 0, or OC_ENOTFOUND. */
int qoe_cube_value_id(struct qoe_cube *c, int d, const char *s, size_t n, uint32_t *out /* OUT */);
/* Error codes (errors.c): failed starts and error events counted by error_code and leaf per
 * minute of event time, the last QOE_ERR_MINUTES minutes, in memory only. */
#define QOE_ERR_MINUTES    60  /* minutes kept */
#define QOE_ERR_CODES      256 /* codes per minute; later new codes count under "other" */
#define QOE_ERR_CODE_LEN   64  /* bytes of a code with its NUL: longer ones are cut */
#define QOE_ERR_TOP_VALUES 3   /* values listed per code and dimension */

/* One code's values of each dimension, by count (of its events that kept their leaf). */
struct qoe_err_slices {
    int nvalues[BEACON_NDIMS];       /* listed, at most QOE_ERR_TOP_VALUES */
    uint32_t distinct[BEACON_NDIMS]; /* values the code came from in all */
    char value[BEACON_NDIMS][QOE_ERR_TOP_VALUES][QOE_MAX_DIM_VALUE];
    uint64_t value_n[BEACON_NDIMS][QOE_ERR_TOP_VALUES];
};

struct qoe_err_code {
    char code[QOE_ERR_CODE_LEN]; /* printable ASCII; "unknown" when the event had none */
    uint64_t fails;              /* failed starts */
    uint64_t errors;             /* error events (after playback started) */
    uint64_t unsliced;           /* of those, counted without their leaf (a minute's pair cap) */
    uint32_t rank;               /* internal */
    struct qoe_err_slices *sl;   /* owned */
};

struct qoe_err_answer {
    struct qoe_err_code *codes; /* by events, most first; at most top */
    size_t ncodes;
    uint64_t events;  /* every failed start and error event in the range, all codes */
    int minutes;      /* minutes of the range that had any */
    uint64_t too_old; /* events ever dropped: older than the minutes kept */
};

/* The codes of the minutes in [from, to) (at most the last QOE_ERR_MINUTES), the top (> 0)
 * most frequent with their slices. 0; free out with qoe_err_answer_free. Thread-safe. */
int qoe_cube_errors(struct qoe_cube *c, int64_t from, int64_t to, int top,
                    struct qoe_err_answer *out /* OUT */);
void qoe_err_answer_free(struct qoe_err_answer *a);
/* The code kept for error_code p (n bytes; p NULL or n 0: "unknown"). */
void qoe_err_code_clean(const char *p, size_t n, char out[QOE_ERR_CODE_LEN]);

/* The dimension named name (a beacon_dim_names entry), or -1. */
int qoe_dim_parse(const char *name);
/* The value absent dimensions get, and the one overflow values fold into (ids 0 and 1). */
#define QOE_VALUE_UNKNOWN "unknown"
#define QOE_VALUE_OTHER   "other"

#endif
