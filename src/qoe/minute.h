/*
 * minute.h - internal to the cube: one open minute (per-leaf accumulators and the exact
 * per-minute set of (session, leaf) pairs that heartbeated) and its closing into a compact
 * struct qoe_minute. Not thread-safe: the cube serializes access.
 */
#ifndef OC_QOE_MINUTE_H
#define OC_QOE_MINUTE_H

#include "qoe/cube.h"

#include <stdint.h>

/* The running sums of one leaf in one open minute. */
struct minute_acc {
    uint32_t leaf;
    uint32_t starts, fails, exits;
    uint32_t errors; /* error events */
    int64_t playing_ms, rebuffer_ms;
    double bitrate_ms;
    uint32_t *sk; /* packed sketch entries (bucket << 21 | count); owned */
    uint32_t skn, skcap;
    uint32_t hb, rb; /* session pairs, counted when the minute closes */
    uint32_t edge_req, edge_5xx, edge_miss, edge_origin, edge_ttfb_n; /* CDN edge requests */
    int64_t edge_ttfb_ms;
};

/* One (session, leaf) pair that heartbeated this minute. */
struct minute_sess {
    uint64_t h; /* session hash; 0 = empty slot */
    uint32_t leaf;
    uint32_t rebuf; /* 1 when one of its heartbeats had rebuffer_ms > 0 */
};

struct open_minute {
    int64_t t;      /* minute start, unix seconds */
    int used;       /* 1 while open */
    uint32_t *lmap; /* leaf -> acc index + 1, open addressing */
    uint32_t lmask;
    struct minute_acc *acc;   /* owned */
    uint32_t nacc;            /* accs in use */
    size_t cap;               /* accs allocated */
    struct minute_sess *sess; /* open addressing; owned */
    uint32_t smask, nsess;
    int published;  /* a snapshot of it is in the ring (it is complete) */
    int dirty;      /* events arrived since that snapshot: closing revises it */
    int ship_dirty; /* events arrived since the ClickHouse shipper's last snapshot */
};

/* Starts minute t in an unused slot. */
void minute_open(struct open_minute *m, int64_t t);
/* Frees everything and marks the slot unused. */
void minute_free(struct open_minute *m);
/* The accumulator of leaf, created if new; NULL when the minute already has max leaves. */
struct minute_acc *minute_acc(struct open_minute *m, uint32_t leaf, uint32_t max);
/* Adds one successful start with startup bucket b; addn adds n of them. */
void minute_sketch_add(struct minute_acc *a, int b);
void minute_sketch_addn(struct minute_acc *a, int b, uint32_t n);
/* Notes a heartbeat of session hash h in leaf; returns -1 when the set holds max pairs and
 * this is a new one (the pair is then not counted). */
int minute_session(struct open_minute *m, uint64_t h, uint32_t leaf, int rebuffered, uint32_t max);
/* Asks for the cache lines a fold of leaf (and, h not 0, a heartbeat of session hash h) into m
 * will touch, some events before it: the session set and the accumulators are megabytes.
 * Stage 0 asks for the leaf's map slot and the session's slot; stage 1, a few events later,
 * reads the map slot and asks for the accumulator. */
void minute_prefetch(const struct open_minute *m, uint32_t leaf, uint64_t h, int stage);
/* Builds the closed minute (caller owns; qoe_minute_destroy) and frees the open state. */
struct qoe_minute *minute_close(struct open_minute *m);
/* The minute m would close into now (the caller owns it; qoe_minute_destroy), leaving m open:
 * what queries see of a minute that is complete but may still be revised by late events. */
struct qoe_minute *minute_snapshot(const struct open_minute *m);

#endif
