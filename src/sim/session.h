/*
 * session.h - the state of the simulated population (internal to src/sim/): sessions in a
 * one-second timing wheel, the arrival process, and the faults resolved against the topology.
 * sim.c owns the lifecycle; player.c decides what one player does and emits its events.
 */
#ifndef OC_SIM_SESSION_H
#define OC_SIM_SESSION_H

#include "sim/sim_int.h"
#include "sim/rng.h"

#define SIM_WHEEL        128 /* seconds in the timing wheel: > the longest gap between actions */
#define SIM_NIL          0xffffffffu        /* end of a session list */
#define SIM_MAX_SESSIONS (8u * 1000 * 1000) /* sessions alive at once (viewers: half) */

enum sess_state {
    SESS_FREE = 0,
    SESS_START_OK,   /* first frame at due_ms */
    SESS_START_FAIL, /* fatal error before the first frame at due_ms */
    SESS_START_EXIT, /* viewer leaves before the first frame at due_ms */
    SESS_PLAYING,    /* next heartbeat (or the end) at due_ms */
};

struct sess {
    uint32_t next;                  /* wheel or free-list link */
    uint8_t state;                  /* enum sess_state */
    uint8_t struggling;             /* in a struggling (rebuffering) spell */
    uint8_t cdn;                    /* index into topo cdns: the pathway played from */
    uint8_t region;                 /* index into topo regions */
    uint8_t device;                 /* index into topo devices */
    uint8_t retried;                /* a failed start was retried on another pathway */
    uint8_t fault_code;             /* for SESS_START_FAIL: 0 baseline, else fault + 1 */
    uint8_t n_prio;                 /* pathways in prio */
    uint8_t prio[SIM_MAX_PATHWAYS]; /* last PATHWAY-PRIORITY, as cdn indices */
    uint16_t v[BEACON_NDIMS];       /* dimension value ids */
    uint16_t code;                  /* baseline error code id when fault_code == 0 */
    uint32_t faults;                /* bit i: fault i's slice matches this session */
    uint32_t spared;                /* bit i: a feature flag spares it from fault i */
    int32_t kbps;                   /* the session's usual bitrate */
    int64_t due_ms;                 /* the next action */
    int64_t last_ms;                /* end of the previous heartbeat interval */
    int64_t end_ms;                 /* when the viewer leaves (playing sessions) */
    int64_t attempt_ms;             /* when the play attempt began */
    int64_t steer_ms;               /* next steering fetch */
    int64_t penalty[SIM_MAX_CDNS];  /* pathway i is avoided until this time */
    char sid[20];                   /* session id, NUL-terminated */
};

/* A fault resolved for one run: absolute times and value ids. */
struct sim_rfault {
    const struct sim_fault *f;                     /* from the scenario */
    uint16_t ids[BEACON_NDIMS][SIM_MAX_SLICE_VAL]; /* slice values, by dimension */
    uint8_t n_ids[BEACON_NDIMS];                   /* 0: dimension not in the slice */
    int cdn_related;                               /* slice names cdn or pop: failures penalize */
    double inten;                                  /* intensity now, 0..1 */
    double rebuf;                                  /* extra rebuffer ratio now */
};

struct sim {
    struct sim_opts o;
    const struct sim_topo *t;
    const struct sim_scenario *sc;
    struct sim_rng rng;
    int64_t start_ms, now_ms; /* run start; start of the next second to simulate */
    int hb_ms;                /* heartbeat interval */
    struct sess *ss;          /* sessions by index */
    uint32_t n_ss, free_head; /* sessions used; head of the free list */
    size_t cap_ss;            /* slots in ss */
    int alive;                /* sessions in progress */
    uint32_t head[SIM_WHEEL], tail[SIM_WHEEL];
    double mean_len_ms;     /* mean playing time of a session */
    double region_rate[16]; /* arrivals per second at the start, by region */
    double region_d0[16];   /* diurnal factor at the start, by region */
    double next_arrival_ms;
    uint64_t seq, events;
    int n_faults;
    uint32_t active; /* bit i: fault i is in effect this second */
    struct sim_rfault rf[SIM_MAX_FAULTS];
    struct sim_truth truth[SIM_MAX_FAULTS];
    double p_enter, p_leave, strug_ms; /* struggling spell model per heartbeat */
};

/* player.c: creates a session arriving at at_ms in region r (warm: already playing at the
 * start of the run). */
void sim_player_arrive(struct sim *m, int region, int64_t at_ms, int warm);
/* player.c: performs the due action of session i. */
void sim_player_act(struct sim *m, uint32_t i);
/* sim.c: schedules session i at its due_ms. */
void sim_schedule(struct sim *m, uint32_t i);
/* sim.c: a free session slot (the array may move), and its release. */
uint32_t sim_sess_alloc(struct sim *m);
void sim_sess_release(struct sim *m, uint32_t i);

#endif
