/*
 * sim_meter.h - test helper: computes the docs/contracts.md metrics directly from simulated events,
 * per slice and per minute, so simulator tests do not depend on the QoE cube. Header-only
 * (static functions); include it from one test file.
 *
 * A meter has up to METER_MAX_SLICES slices (each a struct sim_truth used as a filter: all its
 * dims must match; an empty one matches everything) over minutes [from_ms, from_ms + 60 s x
 * METER_MINUTES). Feed events with meter_sink (a sim_sink_fn).
 */
#ifndef OC_TESTS_SIM_METER_H
#define OC_TESTS_SIM_METER_H

#include "sim/sim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define METER_MAX_SLICES 16
#define METER_MINUTES    120
#define METER_MAP        (1u << 20) /* session slots per slice (power of two) */
#define METER_STARTUPS   (1u << 20)

struct meter_min {
    double play_ms, reb_ms, kbps_ms;   /* heartbeat sums */
    double starts, fails, exits, errs; /* start outcomes, error events */
    double viewers, rebuffering;       /* distinct sessions with heartbeats / with rebuffering */
};

struct meter_slice {
    struct sim_truth filter;           /* dims to match; n_dims 0 matches all */
    struct meter_min m[METER_MINUTES]; /* by minute since from_ms */
    uint64_t *keys;                    /* session hash per slot (0 = empty) */
    int32_t *minute;                   /* last minute the session was counted */
    uint8_t *rebuf;                    /* counted as rebuffering in that minute */
    double *startups;                  /* successful startup_ms, in arrival order */
    uint32_t n_startups;
};

struct meter {
    int64_t from_ms;
    int n;
    struct meter_slice s[METER_MAX_SLICES];
    uint64_t hash, events; /* stable hash and count of every event */
};

static inline void meter_init(struct meter *m, int64_t from_ms)
{
    memset(m, 0, sizeof(*m));
    m->from_ms = from_ms;
    m->hash = SIM_HASH_INIT;
}

/* Adds a slice (dims copied by value; strings borrowed); returns its index. */
static inline int meter_add(struct meter *m, const struct sim_truth *filter)
{
    struct meter_slice *s = &m->s[m->n];
    memset(s, 0, sizeof(*s));
    if (filter)
        s->filter = *filter;
    s->keys = calloc(METER_MAP, sizeof(*s->keys));
    s->minute = calloc(METER_MAP, sizeof(*s->minute));
    s->rebuf = calloc(METER_MAP, 1);
    s->startups = calloc(METER_STARTUPS, sizeof(double));
    return m->n++;
}

/* A slice of one dimension value. */
static inline int meter_add1(struct meter *m, enum beacon_dim d, const char *v)
{
    struct sim_truth t = {0};
    t.n_dims = 1;
    t.dims[0].dim = d;
    t.dims[0].n = 1;
    t.dims[0].vals[0] = v;
    return meter_add(m, &t);
}

static inline void meter_free(struct meter *m)
{
    for (int i = 0; i < m->n; i++) {
        free(m->s[i].keys);
        free(m->s[i].minute);
        free(m->s[i].rebuf);
        free(m->s[i].startups);
    }
}

static inline uint64_t meter_key(const struct beacon_str *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < s->n; i++)
        h = (h ^ (unsigned char)s->p[i]) * 1099511628211ULL;
    return h ? h : 1;
}

/* Counts a heartbeat's session once per minute as a viewer (and once as rebuffering). */
static inline void meter_viewer(struct meter_slice *s, struct meter_min *mm, int minute,
                                uint64_t key, int rebuffering)
{
    uint32_t i = (uint32_t)key & (METER_MAP - 1);
    while (s->keys[i] && s->keys[i] != key)
        i = (i + 1) & (METER_MAP - 1);
    if (!s->keys[i] || s->minute[i] != minute + 1) {
        s->keys[i] = key;
        s->minute[i] = minute + 1;
        s->rebuf[i] = 0;
        mm->viewers++;
    }
    if (rebuffering && !s->rebuf[i]) {
        s->rebuf[i] = 1;
        mm->rebuffering++;
    }
}

static inline void meter_one(struct meter_slice *s, int minute, const struct beacon_event *ev)
{
    struct meter_min *mm = &s->m[minute];
    switch (ev->type) {
    case BEACON_START:
        mm->starts++;
        mm->fails += ev->outcome == BEACON_FAILURE;
        mm->exits += ev->outcome == BEACON_EXIT;
        if (ev->outcome == BEACON_SUCCESS && s->n_startups < METER_STARTUPS)
            s->startups[s->n_startups++] = (double)ev->startup_ms;
        break;
    case BEACON_HEARTBEAT:
        mm->play_ms += (double)ev->playing_ms;
        mm->reb_ms += (double)ev->rebuffer_ms;
        mm->kbps_ms += ev->bitrate_kbps * (double)ev->playing_ms;
        meter_viewer(s, mm, minute, meter_key(&ev->session), ev->rebuffer_ms > 0);
        break;
    case BEACON_ERROR:
        mm->errs++;
        break;
    default:
        break;
    }
}

/* The sim_sink_fn: arg is a struct meter. */
static inline void meter_sink(void *arg, const struct beacon_event *ev)
{
    struct meter *m = arg;
    int64_t minute = (ev->ts_ms - m->from_ms) / 60000;
    m->hash = sim_hash_event(m->hash, ev);
    m->events++;
    if (ev->ts_ms < m->from_ms || minute >= METER_MINUTES)
        return;
    for (int i = 0; i < m->n; i++)
        if (sim_truth_match(&m->s[i].filter, ev))
            meter_one(&m->s[i], (int)minute, ev);
}

/* Sums minutes [a, b) of slice i. */
static inline struct meter_min meter_sum(const struct meter *m, int i, int a, int b)
{
    struct meter_min r = {0};
    for (int k = a; k < b && k < METER_MINUTES; k++) {
        const struct meter_min *x = &m->s[i].m[k];
        r.play_ms += x->play_ms;
        r.reb_ms += x->reb_ms;
        r.kbps_ms += x->kbps_ms;
        r.starts += x->starts;
        r.fails += x->fails;
        r.exits += x->exits;
        r.errs += x->errs;
        r.viewers += x->viewers;
        r.rebuffering += x->rebuffering;
    }
    return r;
}

static inline double meter_ratio(struct meter_min x)
{
    return x.reb_ms / (x.play_ms + x.reb_ms + 1e-9);
}

static inline double meter_vsf(struct meter_min x)
{
    return x.fails / (x.starts + 1e-9);
}

static inline double meter_ebvs(struct meter_min x)
{
    return x.exits / (x.starts + 1e-9);
}

static inline double meter_share(struct meter_min x)
{
    return x.rebuffering / (x.viewers + 1e-9);
}

static inline double meter_kbps(struct meter_min x)
{
    return x.kbps_ms / (x.play_ms + 1e-9);
}

static inline int meter_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Startup p50 of slice i over the whole run (sorts its samples). */
static inline double meter_p50(struct meter *m, int i)
{
    struct meter_slice *s = &m->s[i];
    if (!s->n_startups)
        return 0;
    qsort(s->startups, s->n_startups, sizeof(double), meter_cmp);
    return s->startups[s->n_startups / 2];
}

#endif
