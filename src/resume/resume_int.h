/*
 * resume_int.h - internal to resume/: the in-memory table of points (table.c), the group
 * commit log to the store (commit.c) and the module's state (module.c).
 *
 * Locks: the module's rwlock guards the table; the log's mutex is taken under it (to queue a
 * write in the order it was applied) or alone, and the store's lock only by the committing
 * writer holding neither. Nothing publishes on the bus.
 */
#ifndef OC_RESUME_INT_H
#define OC_RESUME_INT_H

#include "resume/resume.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct store;
struct resume_profile;

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
/* A hint, for a loop over many writes: starts loading what resume_table_get(t, profile,
 * title) will read first: the hash bucket (stage 0), or the bucket's first point (stage 1,
 * some writes after stage 0 of the same write). Changes nothing. */
void resume_table_prefetch(const struct resume_table *t, const char *profile, const char *title,
                           int stage);
/* The profile, or NULL. */
struct resume_profile *resume_table_profile(const struct resume_table *t, const char *profile);
/* The point of (profile, title), created empty when absent: 0, or OC_ETOOBIG when creating it
 * would pass max_points points or max_titles titles in the profile. */
int resume_table_put(struct resume_table *t, const char *profile, const char *title,
                     size_t max_points, int max_titles, struct resume_point **out /* OUT */);

/* Makes room in p for one more report (up to RESUME_DEVICES). */
void resume_point_reserve(struct resume_point *p);

/* One queued change of the store: a device report written or deleted. */
struct resume_op {
    int del;               /* 1: delete the device's report */
    struct resume_write w; /* the point and the report */
};

/* Group commit: writers queue their changes and wait for the one transaction that covers
 * them; whichever waiter finds no commit running commits everything queued so far. */
struct resume_log {
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* broadcast when a batch is done */
    struct store *store;   /* borrowed */
    struct resume_op *ops; /* the batch filling */
    size_t nops, cap;
    struct resume_op *spare; /* the batch being written */
    size_t spare_cap;
    uint64_t filling;      /* the number of the batch filling */
    uint64_t done;         /* the last batch written (or failed) */
    uint64_t failed;       /* the last batch that failed, 0 if none */
    int busy;              /* a writer is committing */
    atomic_ullong commits; /* transactions */
    atomic_ullong rows;    /* changes written */
};

/* Starts an empty log over store (borrowed). */
void resume_log_init(struct resume_log *l, struct store *store);
void resume_log_free(struct resume_log *l);
/* Take and release the log's mutex around resume_log_push; take it with the table's write
 * lock held, so the log keeps the order of the table. A batched write holds it over all its
 * reports (one lock, not one per report). */
void resume_log_lock(struct resume_log *l);
void resume_log_unlock(struct resume_log *l);
/* A new change at the end of the batch filling, for the caller to fill, valid until the log's
 * mutex is released; *batch is set to the batch's number. The log's mutex held. */
struct resume_op *resume_log_push(struct resume_log *l, uint64_t *batch /* OUT */);
/* Waits, holding no lock, until batch is on disk (committing it and everything queued with
 * it when nobody else is): 0, or OC_EDB when its transaction failed. */
int resume_log_wait(struct resume_log *l, uint64_t batch);
/* Loads every stored report into t (at start-up, before any writer); 0 or OC_EDB. */
int resume_log_load(struct store *s, struct resume_table *t);

#endif
