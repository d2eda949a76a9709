/*
 * resume_int.h - internal to resume/: the in-memory table of points (table.c), the group
 * commit to resume's own log (commit.c, logfmt.c) and the module's state (module.c).
 *
 * Locks: the module's rwlock guards the table; the log's mutex is taken under it (to queue a
 * write in the order it was applied) or alone, and the log's file only by the committing
 * writer holding neither. Nothing publishes on the bus.
 */
#ifndef OC_RESUME_INT_H
#define OC_RESUME_INT_H

#include "resume/resume.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct store;
struct store_opts;
struct resume_profile;
struct resume_shared;

/* A hash chain's link, the first member of what the table's two hashes hold. */
struct resume_link {
    struct resume_link *next; /* the chain */
    uint64_t hash;            /* the key's */
};

/* One point: the reports of one profile's title, one per device. */
struct resume_point {
    struct resume_link link;        /* in the table's points, hash of (profile, title) */
    struct resume_point *pnext;     /* the profile's next point */
    struct resume_profile *profile; /* owner of the id */
    char *title;                    /* owned */
    struct resume_report *r;        /* n reports (cap slots), owned */
    int n, cap;                     /* cap grows 1, 2, 4 .. RESUME_DEVICES */
};

/* One profile: its id and its points (the continue-watching candidates). */
struct resume_profile {
    struct resume_link link;     /* in the table's profiles, hash of the id */
    char *id;                    /* owned */
    struct resume_point *points; /* list through pnext */
    int npoints;
};

/* Every point, by (profile, title) and by profile. */
struct resume_table {
    struct resume_link **pb; /* point buckets, npb a power of two */
    size_t npb, npoints;
    struct resume_link **fb; /* profile buckets, nfb a power of two */
    size_t nfb, nprofiles;
};

void resume_table_init(struct resume_table *t);
/* Frees every point and profile. */
void resume_table_free(struct resume_table *t);
/* The point of (profile, title), or NULL. */
struct resume_point *resume_table_get(const struct resume_table *t, const char *profile,
                                      const char *title);
/* The hash of a point's key (profile, title), for the _hashed calls below. */
uint64_t resume_point_hash(const char *profile, const char *title);
/* resume_table_get with the key's hash computed by the caller. */
struct resume_point *resume_table_get_hashed(const struct resume_table *t, const char *profile,
                                             const char *title, uint64_t hash);
/* A hint, for a loop over many writes: starts loading what resume_table_get of the point of
 * hash will read first: the hash bucket (stage 0), or the bucket's first point (stage 1,
 * some writes after stage 0 of the same write). Changes nothing. */
void resume_table_prefetch(const struct resume_table *t, uint64_t hash, int stage);
/* The profile, or NULL. */
struct resume_profile *resume_table_profile(const struct resume_table *t, const char *profile);
/* The point of (profile, title), created empty when absent: 0, or OC_ETOOBIG when creating it
 * would pass max_points points or max_titles titles in the profile. */
int resume_table_put(struct resume_table *t, const char *profile, const char *title,
                     size_t max_points, int max_titles, struct resume_point **out /* OUT */);
/* resume_table_put with the key's hash computed by the caller. */
int resume_table_put_hashed(struct resume_table *t, const char *profile, const char *title,
                            uint64_t hash, size_t max_points, int max_titles,
                            struct resume_point **out /* OUT */);

/* Makes room in p for one more report (up to RESUME_DEVICES). */
void resume_point_reserve(struct resume_point *p);
/* Makes room in p for a report of device unless p has one already (resume_apply and
 * resume_merge replace it in place): a point a single device writes keeps one slot. */
void resume_point_reserve_for(struct resume_point *p, const char *device);

/* One change of a device report: written or deleted (as the log's reader hands it back). */
struct resume_op {
    int del;               /* 1: delete the device's report */
    struct resume_write w; /* the point and the report (for a delete: the device) */
};

/* --- the log's bytes (logfmt.c) --- */

#define RESUME_REC_HEAD      20          /* bytes of a record's header */
#define RESUME_REC_MAX       (64u << 20) /* payload bytes of one record, at most */
#define RESUME_REC_SOFT      (1u << 20)  /* a record is closed past this, a new one opened */
#define RESUME_REC_CHANGES   1           /* kind: changes of device reports */
#define RESUME_REC_SNAP_HEAD 2           /* kind: a snapshot's start (its first segment) */
#define RESUME_REC_SNAP_END  3           /* kind: a snapshot's end (its count of changes) */

/* A growing buffer of records; rec is the offset of the record last opened, count its
 * changes so far. */
struct resume_bytes {
    uint8_t *p; /* owned */
    size_t len, cap;
    size_t rec;
    uint32_t count;
};

void resume_bytes_free(struct resume_bytes *b);
/* CRC32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t resume_crc32c(uint32_t crc, const void *p, size_t n);
/* Starts a record of kind at the end of b; resume_rec_close writes its length and count. */
void resume_rec_open(struct resume_bytes *b, uint32_t kind);
void resume_rec_close(struct resume_bytes *b);
/* Appends one change (a put, or the delete of w's device when del) to the open record. */
void resume_rec_change(struct resume_bytes *b, int del, const struct resume_write *w);
/* Appends a whole record of kind holding the two numbers a and c (the snapshot marks). */
void resume_rec_u64s(struct resume_bytes *b, uint32_t kind, uint64_t a, uint64_t c);
/* Writes the checksum of every closed record in p[0..n). */
void resume_rec_seal(uint8_t *p, size_t n);

/* Called by resume_log_scan for each change (kind RESUME_REC_CHANGES, op set) and each
 * snapshot mark (a, c its numbers, op NULL); non-zero stops the scan. */
typedef int (*resume_scan_fn)(void *arg, int kind, uint64_t a, uint64_t c,
                              const struct resume_op *op);

/* Where a scan stopped. */
struct resume_scan {
    size_t used;      /* bytes of the whole, valid records from the start */
    int torn;         /* 1: the bytes after used are a torn tail (cut short, or zeros) */
    const char *why;  /* when used < the length: what is wrong at used (static text) */
    uint64_t records; /* whole records handed on */
    uint64_t changes; /* changes in them */
};

/* Reads the records of p[0..len) (bytes from disk: any may be damaged), handing each change
 * of a record to fn only once the whole record checked (length, CRC32C, every change decodes
 * with ids of the API's charset and numbers in the API's bounds). Stops at the first record
 * that does not; out says where and whether the rest is a torn tail. 0, or -1 when fn
 * stopped it. */
int resume_log_scan(const uint8_t *p, size_t len, resume_scan_fn fn, void *arg,
                    struct resume_scan *out /* OUT */);

/* --- group commit to the log (commit.c) --- */

/* Encodes the table for a snapshot: appends a change record of every report to b. The
 * callback takes whatever lock guards the table. */
typedef void (*resume_snap_fn)(void *arg, struct resume_bytes *b);

/* Group commit: writers queue their changes (encoded) and wait for the one write of the log
 * that covers them; whichever waiter finds no commit running writes everything queued so far.
 * DATA/resume/ holds the snapshot and the log segments written after it. */
struct resume_log {
    pthread_mutex_t mu;
    pthread_cond_t cv;         /* broadcast when a batch is done */
    char dir[1024];            /* DATA/resume */
    int fd;                    /* the open segment; -1 when none */
    uint64_t off;              /* its records' length: where the next record goes */
    uint64_t end;              /* its size: off, or past it the zeros written ahead */
    uint64_t seg;              /* its number */
    int sync;                  /* fdatasync each commit (store.synchronous full) */
    int broken;                /* a failed write could not be undone: every commit fails */
    struct resume_bytes fill;  /* the batch filling: records, the last one open */
    size_t nfill;              /* changes in it */
    struct resume_bytes spare; /* the batch being written */
    uint64_t filling;          /* the number of the batch filling */
    uint64_t done;             /* the last batch written (or failed) */
    uint64_t failed;           /* the last batch that failed, 0 if none */
    int busy;                  /* a writer is committing (or a compaction switches segment) */
    uint64_t log_bytes;        /* bytes in the segments after the snapshot */
    uint64_t snap_bytes;       /* bytes of the snapshot */
    uint64_t compact_min;      /* log_bytes below which no compaction starts */
    resume_snap_fn snap;       /* encodes the table; NULL: no compaction */
    void *snap_arg;
    pthread_t compactor; /* writes snapshots (compactor_main) */
    pthread_cond_t ccv;  /* wakes it */
    int compactor_started, compact_wanted, stopping;
    struct resume_shared *shared; /* resume.shared on PostgreSQL: each commit there too */
    uint64_t cursor0;             /* the loaded snapshot's shared cursor (0: none) */
    uint64_t folded_bytes;        /* other replicas' changes folded since the snapshot */
    atomic_ullong commits;        /* log writes */
    atomic_ullong rows;           /* changes written */
    atomic_ullong compactions;    /* snapshots written */
};

/* Opens DATA/resume under data_dir (NULL: no files; commits write nothing) and loads it into
 * t (empty, before any writer; merge: each report folded with resume_merge rather than set,
 * as resume.shared needs: the snapshot may hold another replica's newer report of a device
 * whose older one this node queued before and logged after the snapshot began): the
 * snapshot, then every log segment after it; a torn tail of the last segment is cut off
 * (logged). At the first start (no snapshot yet) the reports stored in store's
 * resume_reports (may be NULL) are imported and written as the first snapshot. sync: fdatasync
 * each commit. 0, or OC_EIO with "PATH: offset N: what" in err when a file is damaged other
 * than at its tail (the server refuses to start) or cannot be read or written. */
int resume_log_open(struct resume_log *l, const char *data_dir, int sync, int merge,
                    struct store *store, struct resume_table *t, char *err, size_t errlen);
/* Starts the compactor: once the log passes max(min_bytes, 4 x the snapshot), a new
 * snapshot is written from snap (which locks the table) and the old segments removed. */
void resume_log_start_compactor(struct resume_log *l, uint64_t min_bytes, resume_snap_fn snap,
                                void *arg);
/* Writes a snapshot now and drops the segments it covers: 0 or OC_EIO (the compactor's work;
 * tests call it directly). */
int resume_log_compact(struct resume_log *l);
/* Stops the compactor, closes the files, frees the buffers. */
void resume_log_close(struct resume_log *l);
/* Take and release the log's mutex around resume_log_push; take it with the table's write
 * lock held, so the log keeps the order of the table. A batched write holds it over all its
 * reports (one lock, not one per report). */
void resume_log_lock(struct resume_log *l);
void resume_log_unlock(struct resume_log *l);
/* Queues a change (the report of w, or the delete of w's device when del) in the batch
 * filling; *batch is set to the batch's number. The log's mutex held. */
void resume_log_push(struct resume_log *l, int del, const struct resume_write *w,
                     uint64_t *batch /* OUT */);
/* Waits, holding no lock, until batch is on disk (writing it and everything queued with it
 * when nobody else is): 0, or OC_EIO when its write failed. */
int resume_log_wait(struct resume_log *l, uint64_t batch);
/* Appends the reports of t to b as change records (for a snapshot; the caller locks t). */
void resume_table_encode(const struct resume_table *t, struct resume_bytes *b);
/* The same from hash bucket from on, stopping after the bucket where max_reports were passed:
 * the next bucket (t->npb when done). The caller may unlock t between calls: buckets only
 * double, so a point present throughout is encoded at least once (a point moved by a
 * doubling may be encoded twice: replay keeps the later). */
size_t resume_table_encode_from(const struct resume_table *t, struct resume_bytes *b, size_t from,
                                size_t max_reports);
/* Applies one change to t as replay does: 0, or OC_ETOOBIG. */
int resume_table_apply(struct resume_table *t, const struct resume_op *op);
/* Folds one change another replica wrote into t (resume_merge: converges in any order, any
 * number of times); a delete is skipped (an eviction happens again here when due). The
 * resume_outcome, or OC_ETOOBIG (max_points, max_titles). */
int resume_table_merge(struct resume_table *t, const struct resume_op *op, size_t max_points,
                       int max_titles);
/* Loads every report stored in SQLite's resume_reports into t (the import at the first start
 * of the log); 0 or OC_EDB. */
int resume_store_import(struct store *s, struct resume_table *t);

/* Notes bytes of other replicas' changes folded into the table (not in this log: a restart
 * reads them again from PostgreSQL), so that they count towards the next compaction. */
void resume_log_note_folded(struct resume_log *l, uint64_t bytes);

/* --- the changes shared through PostgreSQL (shared.c) --- */

/* Folds p[0..n), sealed change records another replica wrote (row id; 0 for the base), into
 * the table: takes the table's write lock; bytes that do not scan are logged and skipped. */
typedef void (*resume_fold_fn)(void *arg, const void *p, size_t n, int64_t id);

/* Connects twice through o (PostgreSQL), reads or makes this replica's id in dir
 * (DATA/resume/node), registers it with cursor (the loaded snapshot's), folds the base when
 * rows after cursor were trimmed, then every row after cursor (this replica's too) through
 * fold. 0, or OC_EIO / OC_EDB with why in err. Free with resume_shared_close. */
int resume_shared_open(const struct store_opts *o, const char *dir, uint64_t cursor,
                       int64_t poll_ms, int64_t forget_s, resume_fold_fn fold, void *arg,
                       struct resume_shared **out /* OUT */, char *err, size_t errlen);
/* Starts the poller: the other replicas' rows folded every poll_ms. */
void resume_shared_start(struct resume_shared *sh);
/* Inserts p[0..n) (a commit's sealed records) as one row, under the advisory lock that keeps
 * ids in commit order: 0 or OC_EDB. Only the leader of a commit calls it. */
int resume_shared_put(struct resume_shared *sh, const uint8_t *p, size_t n);
/* Every row up to this id is folded into the table. */
uint64_t resume_shared_cursor(struct resume_shared *sh);
/* After a snapshot p[0..n) holding every row up to cursor: records the cursor in
 * resume_replicas, uploads the snapshot as the base when newer, trims the rows every live
 * replica and the base have passed. Errors are logged. */
void resume_shared_snapshotted(struct resume_shared *sh, const uint8_t *p, size_t n,
                               uint64_t cursor);
/* inserts, insert errors, rows read, read errors, the cursor. */
void resume_shared_stats(struct resume_shared *sh, uint64_t out[5]);
/* Stops the poller (before the log closes: a fold notes its bytes there). */
void resume_shared_stop(struct resume_shared *sh);
/* Stops the poller, closes the connections, frees sh (NULL: no-op). */
void resume_shared_close(struct resume_shared *sh);

#endif
