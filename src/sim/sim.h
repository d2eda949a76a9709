/*
 * sim.h - the player-population simulator with fault injection (capability 13, issue 5).
 *
 * A population of simulated viewers, drawn from a topology (examples/topology.yaml), emits
 * the beacon events of docs/contracts.md (start, heartbeat every 10 s, error, end). Faults come
 * from scenario files (examples/scenarios/NAME.yaml): a slice, a start, a ramp, an effect and a
 * duration; each scenario exposes its ground truth. Players follow content steering the way
 * hls.js does through a callback (the simulator never includes steer/). Two drivers share
 * one model: sim_run() steps a virtual clock in-process; `oncue sim` posts NDJSON batches
 * to a real server. Same seed, same events.
 */
#ifndef OC_SIM_SIM_H
#define OC_SIM_SIM_H

#include "qoe/qoe.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdint.h>

struct oc_buf;
struct oc_clock;
struct sim_topo;     /* a parsed topology; opaque */
struct sim_scenario; /* a parsed scenario; opaque */
struct sim;          /* one running population; opaque */

#define SIM_NAME_MAX      32           /* bytes in a pathway (CDN) name, with the NUL */
#define SIM_MAX_PATHWAYS  4            /* pathways a steering answer may list */
#define SIM_MAX_FAULTS    8            /* faults in one scenario */
#define SIM_MAX_SLICE_VAL 8            /* values of one dimension in a fault slice */
#define SIM_MAX_FILE      (1 << 20)    /* bytes in a topology or scenario file */
#define SIM_DEFAULT_DAY   1772409600LL /* 2026-03-02T00:00:00Z: the day runs start on */
#define SIM_PENALTY_MS    300000       /* a failing pathway is avoided for 5 minutes */

/* What a player sends when it fetches the steering manifest (strings valid for the call). */
struct sim_steer_req {
    const char *session; /* session id */
    const char *region;  /* the viewer's dimensions */
    const char *country;
    const char *isp;
    const char *device;
    const char *pathway; /* the pathway (CDN) it plays from now */
    int64_t now_ms;      /* simulated time */
};

/* The steering decision: fills pathways (PATHWAY-PRIORITY, best first, at most
 * SIM_MAX_PATHWAYS), *n and *ttl_s (0: the topology default). Returns 0, or a negative
 * value when the fetch failed (the player keeps its pathway and retries after the TTL). */
typedef int sim_steer_fn(void *arg, const struct sim_steer_req *req,
                         char pathways[][SIM_NAME_MAX] /* OUT */, int *n /* OUT */,
                         int *ttl_s /* OUT */);
/* What a player asks when it reads a feature flag (strings valid for the call). */
struct sim_flag_req {
    const char *flag;    /* the flag's name */
    const char *session; /* session id */
    const char *player;  /* the viewer's dimensions */
    const char *player_version;
    const char *device;
    const char *region;
    int64_t now_ms; /* simulated time */
};
/* A feature flag's value for a player: 1 on, 0 off, -1 when nothing sets it. */
typedef int sim_flag_fn(void *arg, const struct sim_flag_req *req);
/* Receives each event; the strings in ev are valid only during the call. */
typedef void sim_sink_fn(void *arg, const struct beacon_event *ev);
/* Called after each simulated second, once the clock reads now_ms. */
typedef void sim_tick_fn(void *arg, int64_t now_ms);

struct sim_opts {
    uint64_t seed;     /* same seed, same events */
    int64_t start_ms;  /* first simulated instant; 0: the scenario's begin on
                          SIM_DEFAULT_DAY (19:30 for emea-cdn) */
    int viewers;       /* concurrent viewers at the start; 0: the topology's */
    sim_sink_fn *sink; /* required */
    void *sink_arg;
    sim_steer_fn *steer; /* NULL: players stay on their default pathway */
    void *steer_arg;
    sim_flag_fn *flag; /* NULL: no flag is ever set (faults with unless_flag always apply) */
    void *flag_arg;
    sim_tick_fn *tick; /* optional */
    void *tick_arg;
    struct oc_clock *clock; /* optional virtual clock, set to each simulated second */
};

/* One fault's ground truth: where and when it was injected. */
struct sim_slice_dim {
    enum beacon_dim dim;                 /* which dimension */
    int n;                               /* values (any of them matches) */
    const char *vals[SIM_MAX_SLICE_VAL]; /* owned by the scenario */
};
struct sim_truth {
    const char *name; /* fault name */
    int n_dims;       /* slice: all dims must match */
    struct sim_slice_dim dims[BEACON_NDIMS];
    int64_t start_ms;    /* absolute, for this run */
    int64_t end_ms;      /* start + duration */
    int expect_incident; /* 0 for noise that must not page (blip) */
};

/* Parses a topology from n bytes of YAML. 0, OC_EINVAL (writes a reason into err) or
 * OC_ETOOBIG. The caller owns *out (sim_topo_destroy). */
int sim_topo_parse(const char *yaml, size_t n, struct sim_topo **out /* OUT */, char *err,
                   size_t errlen);
/* The shipped topology (embedded copy of examples/topology.yaml); caller destroys it. */
int sim_topo_default(struct sim_topo **out /* OUT */);
/* Frees a topology; NULL is a no-op. A topology must outlive every sim using it. */
void sim_topo_destroy(struct sim_topo *t);

/* Parses a scenario from YAML (same errors as sim_topo_parse); caller owns *out. */
int sim_scenario_parse(const char *yaml, size_t n, struct sim_scenario **out /* OUT */, char *err,
                       size_t errlen);
/* Loads a shipped scenario by name ("emea-cdn", ...): 0, OC_ENOTFOUND or a parse error. */
int sim_scenario_builtin(const char *name, struct sim_scenario **out /* OUT */);
/* Frees a scenario; NULL is a no-op. */
void sim_scenario_destroy(struct sim_scenario *sc);
/* The scenario's name, and its default run length in milliseconds. */
const char *sim_scenario_name(const struct sim_scenario *sc);
int64_t sim_scenario_duration_ms(const struct sim_scenario *sc);

/* The embedded copy of a shipped file: "topology" or a scenario name. NULL when unknown.
 * *len gets its length. Static storage. */
const char *sim_embedded(const char *name, size_t *len /* OUT */);
/* The shipped scenario names, ending in NULL: the fault scenarios the demo schedule and the
 * drill play. */
extern const char *const sim_scenario_names[];
/* Shipped scenarios outside the demo schedule and the drill (the release canary), ending in
 * NULL; --scenario NAME runs them too. */
extern const char *const sim_scenario_extra[];

/* Creates a population at opts->start_ms with opts->viewers sessions already playing. topo
 * is borrowed (must outlive the sim); sc may be NULL (healthy) and is borrowed too. 0,
 * OC_EINVAL (no sink) or OC_ETOOBIG (more than 4 million viewers). Destroy with sim_destroy. */
int sim_new(const struct sim_opts *opts, const struct sim_topo *topo, const struct sim_scenario *sc,
            struct sim **out /* OUT */);
/* Frees a sim; NULL is a no-op. */
void sim_destroy(struct sim *s);
/* Simulates every whole second before until_ms, delivering events to the sink in order of
 * simulated time (within a second, in a fixed order). Returns 0. */
int sim_run(struct sim *s, int64_t until_ms);
/* The simulated time: the start of the next second to simulate. */
int64_t sim_now_ms(const struct sim *s);
/* Events emitted so far, and sessions in progress now. */
uint64_t sim_events(const struct sim *s);
int sim_sessions(const struct sim *s);

/* The ground truth of the run: *n faults; the array belongs to the sim. */
const struct sim_truth *sim_truth(const struct sim *s, int *n /* OUT */);
/* Appends the ground truth as JSON: {"scenario": NAME, "faults": [{"name", "slice": {dim:
 * [values]}, "start", "end" (unix seconds), "start_ms", "end_ms", "expect_incident"}]}. */
int sim_truth_json(const struct sim *s, struct oc_buf *b);
/* 1 when the event's dimensions match a truth slice, else 0. */
int sim_truth_match(const struct sim_truth *t, const struct beacon_event *ev);

/* Appends one event as an NDJSON line (docs/contracts.md "Beacon events"): 0 or OC_ETOOBIG. */
int sim_ndjson_append(struct oc_buf *b, const struct beacon_event *ev);
/* Appends ev as the Fastly NDJSON log line of the request carrying its CMCD (cdnlog.c; what
 * POST /v1/cdn-logs?format=fastly reads back into the same event, less the dimensions CMCD
 * and the log cannot carry). 0, or -1 when b is full (b unchanged). */
int sim_cdnlog_append(struct oc_buf *b, const struct beacon_event *ev);
/* Folds an event into a 64-bit FNV-1a hash (start from SIM_HASH_INIT). */
#define SIM_HASH_INIT 0xcbf29ce484222325ULL
uint64_t sim_hash_event(uint64_t h, const struct beacon_event *ev);

/* `oncue sim`: drives a real server over HTTP (see `oncue sim --help`). */
int sim_cli_main(int argc, char **argv);
/* The options of `oncue sim`, ending in {0}. */
extern const struct oc_cli sim_cli[];
/* `oncue bench sim`: prints events per second generated in-process on one core. */
int sim_bench_main(int argc, char **argv);
/* The options of `oncue bench sim`, ending in {0}. */
extern const struct oc_cli sim_bench_cli[];

/* Parses a duration as scenario files write it ("90", "15s", "20m", "1.5h", "250ms") into
 * ms: 0 or OC_EINVAL. */
int sim_parse_duration(const char *s, int64_t *ms /* OUT */);

/* Cross-device resume (issue 20): each profile watches one title on three devices, a laptop
 * whose clock runs SIM_RESUME_SKEW_MS ahead, a phone and a TV, in one of three variants: the
 * TV plays last and goes silent while the paused phone keeps reporting (the TV's point is the
 * truth); the TV plays the title to its end (ended); the TV is paused and keeps reporting
 * while the phone plays on (the phone's point). Reports reach the server 0 to 4 s late, one
 * in ten twice (a retry 5 s later), and are delivered in order of arrival. */
#define SIM_RESUME_SKEW_MS (6LL * 3600000LL) /* the laptop's clock is 6 hours ahead */
#define SIM_RESUME_ID_MAX  32                /* bytes of an id, with the NUL */

/* One report as a device sends it and when it reaches the server. */
struct sim_resume_report {
    char profile[SIM_RESUME_ID_MAX];
    char title[SIM_RESUME_ID_MAX];
    char device[SIM_RESUME_ID_MAX];
    char session[SIM_RESUME_ID_MAX];
    int64_t position_ms, duration_ms, seq;
    int64_t ts;        /* the device's own clock (skewed on the laptop) */
    int64_t recv_ms;   /* true time of arrival at the server */
    const char *state; /* "playing", "paused" or "ended"; static */
};
/* Where each profile's title must end: the ground truth. */
struct sim_resume_truth {
    char profile[SIM_RESUME_ID_MAX];
    char title[SIM_RESUME_ID_MAX];
    char device[SIM_RESUME_ID_MAX]; /* the device whose point it is */
    int64_t position_ms;
    const char *state; /* static */
    int variant;       /* 0, 1 or 2, as above */
};
/* Receives each report in order of arrival; r is valid only during the call. */
typedef void sim_resume_sink_fn(void *arg, const struct sim_resume_report *r);
/* Plays the scenario for n profiles from start_ms (true time) with seed, delivering every
 * report to sink, and fills truth[0..n) (the caller's array). 0, or OC_EINVAL (n < 1 or more
 * than 100000). Same seed, same reports. */
int sim_resume_run(uint64_t seed, int n, int64_t start_ms, sim_resume_sink_fn *sink, void *arg,
                   struct sim_resume_truth *truth /* OUT */);

#endif
