/*
 * steer_int.h - the steer capability's internals, shared by its .c files only.
 *
 * A policy document (JSON, see docs/internals/steer.md) is compiled into an immutable struct
 * steer_policy: rules with their match attributes and sticky share, and for each possible
 * outcome the manifest bytes after RELOAD-URI, rendered once. A request then copies a head,
 * its own RELOAD-URI and one precomputed tail. Mitigations are overlays: the effective document
 * is the base document with the active mitigations' rules, clones and flags put first.
 */
#ifndef OC_STEER_STEER_INT_H
#define OC_STEER_STEER_INT_H

#include "steer/steer.h"

#include <pthread.h>
#include <stdatomic.h>

#define STEER_ID_BUF       (STEER_ID_MAX + 1)
#define STEER_MAX_RECORDS  1024 /* mitigation records kept in memory */
#define STEER_MAX_MEASURES 32   /* distinct pathways with throughput counters */
#define STEER_AUTO_MAX     64   /* (region, cdn) alerts and regions tracked by auto steering */

/* Alerts firing on one (region, cdn) slice, as seen on the bus. */
struct steer_auto_firing {
    char region[STEER_ID_MAX + 1];
    char cdn[STEER_ID_MAX + 1];
    int count; /* fired minus resolved */
};

/* Automatic steering of one region. */
struct steer_auto_region {
    char region[STEER_ID_MAX + 1];
    int64_t mitigation_id;       /* the active automatic shift; -1 while applying; 0: none */
    char from[STEER_ID_MAX + 1]; /* the pathway that broke */
    char to[STEER_ID_MAX + 1];   /* the pathway moved to */
    int64_t last_move_ms;        /* last automatic shift or revert; 0: never */
    int64_t healthy_since_ms;    /* from is healthy again since; 0: not (yet) */
};

/* One outcome of policy evaluation: a rule (or the default) and its rendered answer. */
struct steer_rule {
    char name[STEER_ID_BUF];   /* "" for the default */
    char region[STEER_ID_BUF]; /* match attributes; "" matches anything */
    char country[STEER_ID_BUF];
    char isp[STEER_ID_BUF];
    char asn[STEER_ID_BUF];
    char device[STEER_ID_BUF];
    int share; /* applies to sessions with bucket < share (0..10000) */
    char priority[STEER_MAX_PATHWAYS * STEER_ID_BUF]; /* "cdn-b,cdn-a" */
    char *tail;                                       /* `","PATHWAY-PRIORITY":[...],...}`; owned */
    size_t tail_len;
};

/* One feature-flag entry; the first entry matching a player decides the flag's value. */
struct steer_flag {
    char name[STEER_ID_BUF];
    int on;                    /* value when the entry matches */
    char player[STEER_ID_BUF]; /* match attributes; "" matches anything */
    char player_version[STEER_ID_BUF];
    char device[STEER_ID_BUF];
    char region[STEER_ID_BUF];
};

/* A compiled, immutable policy. */
struct steer_policy {
    int64_t ttl_s; /* TTL served */
    char *head;    /* `{"VERSION":1,"TTL":N,"RELOAD-URI":"`; owned */
    size_t head_len;
    struct steer_rule def;    /* the default order */
    struct steer_rule *rules; /* nrules, in evaluation order; owned */
    int nrules;
    struct steer_flag *flags; /* nflags; owned */
    int nflags;
    char (*retired)[STEER_ID_BUF]; /* sorted asset names; owned */
    int nretired;
    char names[STEER_MAX_PATHWAYS][STEER_ID_BUF]; /* pathways then clones */
    int npathways;                                /* leading entries of names that are pathways */
    int nnames;                                   /* pathways plus clones */
    int auto_enabled;                             /* automatic steering on alerts */
    char (*auto_regions)[STEER_ID_BUF];           /* regions it may move; owned; 0: all */
    int nauto_regions;
    int64_t auto_hold_s;     /* healthy seconds before an automatic shift is reverted */
    int64_t auto_interval_s; /* least seconds between two automatic moves of a region */
};

/* A mitigation record. */
struct steer_record {
    int64_t id;   /* from the store, or a counter without one */
    json_t *spec; /* the request: {"kind": ..., args}; owned */
    char actor[STEER_ID_BUF + 64];
    int64_t created_ms;
    int64_t reverted_ms; /* 0 while active */
    int64_t followup_id; /* follow-up item */
    int64_t followup_due_ms;
};

/* Throughput counters of one pathway. The name is written once, before the slot is published
 * by incrementing nmeasures (release); the counters are atomics, so recording takes no lock. */
struct steer_measure_slot {
    char pathway[STEER_ID_BUF];
    _Atomic uint64_t reports;  /* measurements received */
    _Atomic uint64_t sum_bps;  /* sum of whole bit/s */
    _Atomic uint64_t last_bps; /* latest */
};

struct steer {
    struct oc_clock *clock;
    struct oc_bus *bus;
    struct store *store;
    int64_t ttl_s, max_rps, followup_hours;
    char *backup_origin;     /* owned; may be NULL */
    struct steer_geo *geo;   /* borrowed; may be NULL */
    char *map_regions;       /* the region map's regions, comma-separated; owned; may be NULL */
    steer_deploy_fn *deploy; /* may be NULL */
    void *deploy_arg;        /* its first argument */

    pthread_mutex_t write_mu;     /* serializes every change (policy, mitigations) */
    pthread_rwlock_t lock;        /* guards pol, base, records */
    struct steer_policy *pol;     /* effective policy; NULL until one is set */
    json_t *base;                 /* the base document; owned */
    struct steer_record *records; /* nrecords, oldest first; owned */
    int nrecords;
    int64_t next_id; /* ids without a store */

    pthread_mutex_t rate_mu; /* guards the token bucket */
    double tokens;
    int64_t tokens_ms;

    pthread_mutex_t measure_mu;                                 /* serializes new slots */
    struct steer_measure_slot measures[STEER_MAX_MEASURES + 1]; /* last: "_other" */
    _Atomic int nmeasures;                                      /* published slots */

    pthread_mutex_t auto_mu; /* guards the automatic-steering state */
    struct steer_auto_firing firing[STEER_AUTO_MAX];
    int nfiring;
    struct steer_auto_region auto_regions[STEER_AUTO_MAX];
    int nauto;

    _Atomic uint64_t served[2];   /* 200 answers per protocol */
    _Atomic uint64_t rejected[4]; /* 400, 410, 429, other */
};

/* Compiles doc into a new policy; default_ttl applies when doc has no "ttl". On failure
 * returns OC_EINVAL/OC_ETOOBIG with a reason in err. Free with steer_policy_free. */
int steer_policy_compile(const json_t *doc, int64_t default_ttl, struct steer_policy **out,
                         char *err, size_t errlen);
/* Frees a compiled policy (NULL is a no-op). */
void steer_policy_free(struct steer_policy *p);
/* The rule deciding for q (the default when none matches); never NULL. */
const struct steer_rule *steer_policy_eval(const struct steer_policy *p,
                                           const struct steer_query *q);
/* 1 when asset is retired in p. */
int steer_policy_retired(const struct steer_policy *p, const char *asset);
/* Appends the manifest of rule r for asset and q (RELOAD-URI carries q's attributes and
 * session) to out: 0 or OC_ETOOBIG. */
int steer_policy_render(const struct steer_policy *p, const struct steer_rule *r, const char *asset,
                        const struct steer_query *q, struct oc_buf *out);

/* Builds the effective document: base (borrowed) with the overlays of the active records
 * put first, plus extra (a record not yet stored, or NULL). New reference, or NULL with a
 * reason in err when an overlay does not fit the base (unknown pathway). */
json_t *steer_effective_doc(const json_t *base, const struct steer_record *recs, int nrecs,
                            const struct steer_record *extra, char *err, size_t errlen);
/* Validates a mitigation request (kind and its arguments) and returns its spec (a copy of
 * req without "dry_run"; caller owns) in *spec. 0 or OC_EINVAL with a reason in err. */
int steer_overlay_check(const json_t *req, json_t **spec /* OUT */, char *err, size_t errlen);
/* The summary of mitigation kind i (and its name in *name), or NULL past the last kind. */
const char *steer_kind_summary(int i, const char **name /* OUT */);
/* Recompiles the effective policy from st->base and st->records; takes the write lock. */
int steer_rebuild(struct steer *st, char *err, size_t errlen);
/* Loads the persisted policy and records from st->store (at steer_new). 0 or OC_EDB. */
int steer_load(struct steer *st);
/* Frees the records. */
void steer_records_free(struct steer *st);

#endif
