/*
 * sim_int.h - the simulator's private types: the parsed topology and scenario, and the small
 * YAML reader both parsers use. Only files under src/sim/ include this; others use sim.h.
 */
#ifndef OC_SIM_SIM_INT_H
#define OC_SIM_SIM_INT_H

#include "core/arena.h"
#include "sim/sim.h"

#include <stdint.h>
#include <yaml.h>

#define SIM_MAX_VALUES 4096 /* distinct dimension values in a topology */
#define SIM_MAX_LIST   64   /* entries in one topology list */
#define SIM_MAX_CDNS   4    /* CDNs (pathways) in a topology */
#define SIM_MAX_CODES  8    /* baseline start error codes */
#define SIM_NO_VALUE   0xffff

/* A weighted list: cum[i] is the normalized cumulative weight of entries 0..i. */
struct sim_wl {
    int n;       /* entries */
    double *cum; /* n values, cum[n-1] == 1; in the owner's arena */
};

struct topo_isp {
    uint16_t name, asn; /* value ids */
};
struct topo_country {
    uint16_t code;
    struct sim_wl isp_w;
    struct topo_isp *isps;
};
struct topo_region {
    uint16_t name;
    double weight;    /* share of concurrent viewers */
    int utc_offset_h; /* local hour = UTC hour + this */
    struct sim_wl country_w;
    struct topo_country *countries;
    struct sim_wl pop_w[SIM_MAX_CDNS]; /* POPs of each CDN in this region */
    uint16_t *pops[SIM_MAX_CDNS];
};
struct topo_player {
    uint16_t name;
    struct sim_wl ver_w;
    uint16_t *vers;
};
struct topo_os {
    uint16_t name;
    struct sim_wl drm_w;
    uint16_t *drms;
    struct sim_wl player_w;
    struct topo_player *players;
};
struct topo_device {
    uint16_t name;
    int bitrate_kbps; /* typical top rendition */
    struct sim_wl os_w;
    struct topo_os *oses;
};
struct topo_title {
    uint16_t name;
    int live;
};

/* The healthy baseline a topology declares. */
struct sim_baseline {
    double rebuffer_ratio;   /* target sum(rebuffer) / (playing + rebuffer) */
    double vsf, ebvs;        /* start failure and exit-before-start probabilities */
    double startup_p50_ms;   /* lognormal median */
    double startup_sigma;    /* lognormal sigma */
    double struggling_share; /* stationary share of sessions in a struggling spell */
    double struggling_s;     /* mean spell length */
    double error_per_hour;   /* fatal errors per playing hour */
};

struct sim_topo {
    struct oc_arena arena;   /* owns everything below */
    struct beacon_str *vals; /* interned dimension values, by id */
    int n_vals;
    int viewers, heartbeat_s, steering_ttl_s;
    double len_mu[2], len_sigma[2]; /* session length lognormal (log minutes): [vod, live] */
    struct sim_baseline base;
    double diurnal[24];
    uint16_t codes[SIM_MAX_CODES]; /* baseline start error codes */
    int n_codes;
    int n_cdns;
    uint16_t cdns[SIM_MAX_CDNS];
    struct sim_wl cdn_w;
    int n_regions;
    struct topo_region *regions;
    struct sim_wl device_w;
    struct topo_device *devices;
    struct sim_wl title_w;
    struct topo_title *titles;
    uint16_t v_true, v_false; /* "true" and "false" for the live dimension */
};

/* A fault's effect on the sessions in its slice. */
struct sim_effect {
    double rebuffer_ppm;    /* rebuffer ratio rises this many points a minute ... */
    double rebuffer_max;    /* ... up to this ratio (or reaches it over the ramp) */
    double start_failure;   /* extra start-failure probability at full intensity */
    double exit_before;     /* extra exit-before-start probability */
    double startup_factor;  /* startup time multiplier at full intensity (1: none) */
    double bitrate_cap;     /* kbps; 0: none */
    double crash_per_min;   /* fatal errors per playing minute */
    const char *error_code; /* for failures and crashes this fault causes */
};

struct sim_fault {
    struct sim_truth truth; /* name, slice; start_ms/end_ms are offsets here */
    int64_t ramp_ms;
    struct sim_effect eff;
    const char *unless_flag; /* the fault spares players whose flag reads unless_on; or NULL */
    int unless_on;           /* 1: spared when the flag is on; 0: when it is off */
};

struct sim_scenario {
    struct oc_arena arena; /* owns the strings */
    const char *name;
    const char *description;
    int begin_s;         /* time of day (UTC seconds) the run starts at by default */
    int64_t duration_ms; /* default run length */
    int n_faults;
    struct sim_fault faults[SIM_MAX_FAULTS];
};

/* The YAML reader: a loaded document and helpers that never fail on a wrong shape. */
struct sim_yaml {
    yaml_document_t doc;
    int loaded;
    char *err;
    size_t errlen;
};
int sim_yaml_load(struct sim_yaml *y, const char *text, size_t n);
void sim_yaml_free(struct sim_yaml *y);
/* The root node, the value of key in a mapping, or the i-th item of a sequence; NULL if
 * absent or of another kind. */
yaml_node_t *sim_yaml_root(struct sim_yaml *y);
yaml_node_t *sim_yaml_get(struct sim_yaml *y, yaml_node_t *map, const char *key);
int sim_yaml_len(yaml_node_t *seq);
yaml_node_t *sim_yaml_item(struct sim_yaml *y, yaml_node_t *seq, int i);
/* A scalar's text (NUL-terminated, owned by the document) or NULL. */
const char *sim_yaml_str(yaml_node_t *n);
/* A scalar as a number: 0, or OC_EINVAL (reason in y->err) when absent or not numeric. */
int sim_yaml_num(struct sim_yaml *y, yaml_node_t *n, const char *what, double *out /* OUT */);
/* Sets y->err to a formatted reason; returns OC_EINVAL. */
int sim_yaml_fail(struct sim_yaml *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses "HH:MM[:SS]" into seconds of the day (0 or OC_EINVAL); durations: sim.h. */
int sim_parse_clock(const char *s, int *sod /* OUT */);

/* Dimension names (JSON), indexed by enum beacon_dim; and the lookup by name (-1 if none). */
extern const char *const sim_dim_names[BEACON_NDIMS];
int sim_dim_lookup(const char *name);
/* The id of a value in the topology, or SIM_NO_VALUE. */
uint16_t sim_topo_find(const struct sim_topo *t, const char *s);
/* Picks an index from a weighted list given u in [0, 1). */
int sim_wl_pick(const struct sim_wl *w, double u);

/* remote.c: players of the HTTP driver ask a real server (base URL, copied) for steering
 * manifests and feature flags. 0 or OC_EIO; free with sim_remote_free. */
struct sim_remote;
int sim_remote_new(const char *base, struct sim_remote **out /* OUT */);
void sim_remote_free(struct sim_remote *r);
/* The sim_steer_fn and sim_flag_fn of a remote (arg). */
int sim_remote_steer(void *arg, const struct sim_steer_req *req, char pw[][SIM_NAME_MAX], int *n,
                     int *ttl);
int sim_remote_flag(void *arg, const struct sim_flag_req *req);
/* Manifests fetched, and fetches that failed or were refused. */
void sim_remote_counts(const struct sim_remote *r, uint64_t *fetched, uint64_t *failed);

#endif
