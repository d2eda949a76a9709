/*
 * ingest.h - player telemetry: the beacon parser, the per-minute QoE cube, POST /v1/events.
 *
 * Flow: a body (JSON array or NDJSON) is parsed by ingest_parse into a batch of validated
 * beacon_events (zero-copy slices into the body); qoe_cube_add folds a batch into the open
 * minutes of the cube; minutes close on the event-time watermark or the injected clock and
 * become compact, immutable closed minutes (one row per leaf) that the qoe capability reads.
 * See docs/internals/ingest.md for the invariants.
 */
#ifndef OC_INGEST_INGEST_H
#define OC_INGEST_INGEST_H

#include "core/module.h"
#include "qoe/qoe.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdint.h>

/* Why an event was rejected; 0 means accepted. Names in ingest_reason_names. */
enum ingest_reason {
    INGEST_OK = 0,
    INGEST_MALFORMED,          /* not a JSON object, or a syntax error on its NDJSON line */
    INGEST_MISSING_TS,         /* no ts */
    INGEST_BAD_TS,             /* ts not a positive integer of milliseconds */
    INGEST_MISSING_TYPE,       /* no type */
    INGEST_BAD_TYPE,           /* type not start, heartbeat, error or end */
    INGEST_MISSING_SESSION,    /* no session, or empty */
    INGEST_BAD_SESSION,        /* session not a string, or longer than INGEST_MAX_SESSION */
    INGEST_BAD_OUTCOME,        /* start without outcome success, failure or exit */
    INGEST_MISSING_STARTUP_MS, /* successful start without startup_ms */
    INGEST_NEGATIVE_VALUE,     /* a negative *_ms or bitrate_kbps */
    INGEST_BAD_VALUE,          /* a known field with the wrong JSON type or out of range */
    INGEST_BAD_DIMENSION,      /* a dimension not a string/number/boolean, or too long */
    INGEST_TOO_OLD,            /* its minute has already closed */
    INGEST_TOO_FAR_FUTURE,     /* more than ingest.max_future_skew_s ahead of the clock */
    INGEST_TS_IN_SECONDS,      /* ts is a whole number that reads as unix seconds, not ms */
    INGEST_BAD_ACCOUNT,        /* account_hmac not 64 lower-case hex digits */
    INGEST_NREASONS,
};

#define INGEST_MAX_SESSION 256 /* bytes of a session id */
#define INGEST_MAX_ERRORS  20  /* errors listed in a POST /v1/events answer */

/* The reason names ("missing_ts", ...), indexed by enum ingest_reason ("ok" for 0). */
extern const char *const ingest_reason_names[INGEST_NREASONS];
/* One sentence per reason saying what to fix, for the "detail" of an error. */
extern const char *const ingest_reason_details[INGEST_NREASONS];

/* A parsed body. Strings in ev point into the body or into scratch. Init with
 * ingest_batch_init, reuse across bodies, free with ingest_batch_free. */
struct ingest_batch {
    struct beacon_event *ev; /* the valid events, in body order; owned */
    uint32_t *index;         /* ev[i] was item index[i] of the body; owned */
    uint32_t *leaf;          /* ev[i]'s leaf id, set by qoe_cube_add; owned */
    uint64_t *sh;            /* ev[i]'s session hash (heartbeats), set likewise; owned */
    uint8_t *verdict;        /* ev[i]'s enum qoe_fold_verdict, set likewise; owned */
    size_t nev, cap_ev;
    uint8_t *reason; /* per item: enum ingest_reason; owned */
    size_t nitems, cap_items;
    char *scratch; /* unescaped strings; owned */
    size_t scratch_cap;
    size_t max_items;   /* hard cap on items per body */
    uint64_t principal; /* the sender (qoe_principal), charged for new values; 0: none */
};

void ingest_batch_init(struct ingest_batch *b, size_t max_items);
void ingest_batch_free(struct ingest_batch *b);
/* Parses body (len bytes; need not be NUL-terminated) into b, replacing its contents. A JSON
 * array of objects, or NDJSON (one object per line; blank lines skipped). Returns 0 with
 * per-item reasons; OC_EINVAL when the body is not JSON at all (empty, not starting with [ or
 * {, a syntax error inside an array, or no NDJSON line parses), writing why into err;
 * OC_ETOOBIG past max_items. Unknown fields are ignored. */
int ingest_parse(struct ingest_batch *b, const char *body, size_t len, char *err, size_t errlen);

/* Reject counters of one ingest path (parse and cube), by enum ingest_reason. */
struct ingest_stats {
    _Atomic uint64_t rejected[INGEST_NREASONS];
};

/* Folds the valid events of b into cube c (qoe_cube_add), sets b->reason of those the cube
 * refused (too old, too far in the future) and adds every rejected item of b, parse and
 * cube, to st (NULL: not counted). Returns the number folded. Thread-safe. */
size_t ingest_fold(struct qoe_cube *c, struct ingest_batch *b, struct ingest_stats *st);

/* The write-ahead log of accepted bodies (wal.c): POST /v1/events answers only once the
 * events the cube accepted are in it; it is replayed into the cube at start. */
/* bytes of one record's body: POST /v1/events' cap, or a CMCD or CDN log body of the same cap
 * with its route and query string (at most 4 KiB) before it */
#define INGEST_WAL_MAX_BODY ((8u << 20) + 8192)
/* events of one record: the items of a beacon body (100,000), or two events (the player's and
 * the edge request) for each of the 200,000 lines of a CDN log body */
#define INGEST_WAL_MAX_EVENTS 400000
struct ingest_wal;
/* One record: the body as received, the bitmap of the events the cube accepted (bit i of
 * bits[i / 8] for parsed event i; nev events) and the newest accepted event time. */
typedef void (*ingest_wal_record_fn)(void *arg, const char *body, size_t len, const uint8_t *bits,
                                     uint32_t nev, int64_t max_ts_ms);
/* Opens the log in DATA_DIR/ingest-wal (created 0700), first calling fn for every whole
 * record of its segments, oldest first (*records: how many), then starts a new segment.
 * sync: fdatasync before an append returns (else the OS page cache: a process crash loses
 * nothing, a power loss may). 0 and *out (free with ingest_wal_close), or OC_EIO (logged). */
int ingest_wal_open(const char *data_dir, int sync, ingest_wal_record_fn fn, void *arg,
                    struct ingest_wal **out /* OUT */, size_t *records /* OUT */);
/* Appends one record (see ingest_wal_record_fn; body and bits borrowed) and returns once it
 * is durable (group commit: one sync covers every writer waiting). 0, OC_ETOOBIG (over a
 * cap), or OC_EIO (a write or sync failed; every later append fails too). Thread-safe. */
int ingest_wal_append(struct ingest_wal *w, const char *body, size_t len, const uint8_t *bits,
                      uint32_t nev, int64_t max_ts_ms);
/* The two halves of ingest_wal_append, for a caller that answers from another thread: write
 * appends the record (*seq: its sequence number) without waiting; sync returns once every
 * record up to seq is durable (leading or joining a group commit; at once without sync).
 * 0, OC_ETOOBIG or OC_EIO. Thread-safe. */
int ingest_wal_write(struct ingest_wal *w, const char *body, size_t len, const uint8_t *bits,
                     uint32_t nev, int64_t max_ts_ms, uint64_t *seq /* OUT */);
int ingest_wal_sync(struct ingest_wal *w, uint64_t seq);
/* 1 when appends are synced before they count as durable (store.synchronous full). */
int ingest_wal_synced(const struct ingest_wal *w);
/* Deletes the segments whose accepted events all fall in minutes before stored_upto_s (every
 * one of them is in the store), closing the open segment first when it is such a one. Returns
 * how many were deleted. Thread-safe. */
int ingest_wal_trim(struct ingest_wal *w, int64_t stored_upto_s);
/* Bytes in the log's segments: what waits for its minutes to be stored. Thread-safe. */
uint64_t ingest_wal_bytes(struct ingest_wal *w);
/* Syncs and closes the log (NULL is a no-op). */
void ingest_wal_close(struct ingest_wal *w);
/* Calls fn for each whole record at the start of the len bytes at p (a segment's contents)
 * and stops at the first that is not (torn, corrupt or over a cap): *used is where. Returns
 * the number of records. fn may be NULL. */
int ingest_wal_scan(const uint8_t *p, size_t len, ingest_wal_record_fn fn, void *arg,
                    size_t *used /* OUT */);
/* The compact form of a beacon body's accepted events that the log stores instead of the
 * body (walrec.c): it starts with INGEST_EVENTS_MARK, which no JSON body does (a CMCD or CDN
 * log record starts with 0x01). */
#define INGEST_EVENTS_MARK '\x02'
/* Encodes the events of ev whose verdict is QOE_FOLD_OK: a buffer to free (*len bytes, *count
 * events), or NULL when one of them has no compact form (an edge request). */
char *ingest_events_encode(const struct beacon_event *ev, const uint8_t *verdict, size_t nev,
                           size_t *len /* OUT */, uint32_t *count /* OUT */);
/* Decodes the nev events of a compact record (len bytes at body) into ev, whose strings then
 * point into body: 0, or OC_EINVAL when the bytes are not exactly nev valid events. */
int ingest_events_decode(const char *body, size_t len, uint32_t nev,
                         struct beacon_event *ev /* OUT */);
/* Keeps in b only the parsed events whose bit is set in bits (nev bits; b->nev must equal
 * nev): how a replayed record folds exactly what the cube accepted the first time. 0, or
 * OC_EINVAL when nev does not match. */
int ingest_batch_keep(struct ingest_batch *b, const uint8_t *bits, uint32_t nev);

/* The `ingest` module: POST /v1/events, the minute-closing timer and its metrics. */
extern const struct oc_module ingest_module;

/* `oncue bench ingest`: the load generator (argv[0] is "ingest"). */
int ingest_bench_main(int argc, char **argv);
/* The options of `oncue bench ingest`, ending in {0}. */
extern const struct oc_cli ingest_bench_cli[];

#endif
