/*
 * rca_int.h - internals shared by the files of src/rca/ (not for other capabilities).
 *
 * The body of struct rca_data: per-attribute value dictionaries, the leaf table (value ids
 * per leaf, hashed for lookup) and the rows in arrival order.
 */
#ifndef OC_RCA_RCA_INT_H
#define OC_RCA_RCA_INT_H

#include "rca/rca.h"

/* Strings of one attribute, each with a dense id. */
struct rca_dict {
    char **strs;   /* owned; strs[id] */
    uint32_t n;    /* ids used */
    size_t cap;    /* slots in strs */
    uint32_t *ht;  /* open addressing: id + 1, 0 = empty */
    uint32_t hcap; /* slots in ht, a power of two */
};

/* One row: a leaf's measure in one time bin. */
struct rca_row {
    int64_t ts;    /* time bin */
    uint32_t leaf; /* leaf index */
    double v;      /* value */
    double t;      /* total (ratio measure) */
};

struct rca_data {
    int n_attrs;                         /* attributes per leaf */
    int ratio;                           /* 1: measure is value/total */
    char *names[RCA_MAX_ATTRS];          /* owned attribute names */
    struct rca_dict dict[RCA_MAX_ATTRS]; /* values per attribute */
    uint32_t *leaf_vals;                 /* n_leaves * n_attrs value ids */
    size_t n_leaves, cap_leaves;         /* leaves used / allocated */
    uint32_t *leaf_ht;                   /* leaf index + 1, 0 = empty */
    size_t leaf_hcap;                    /* a power of two */
    struct rca_row *rows;                /* owned */
    size_t n_rows, cap_rows;             /* rows used / allocated */
};

/* Per-leaf comparison of now against the forecast, made by rca_forecast. */
struct rca_obs {
    size_t n;       /* leaves (== rca_data_leaves) */
    double *r;      /* measure now (ratio: numerator now) */
    double *f;      /* forecast (ratio: total now times the leaf's expected ratio) */
    double *w;      /* 1 / variance of r - f */
    double total_t; /* ratio: sum of totals now; additive: 0 */
    int bins;       /* history bins used */
};

/* Forecasts every leaf of d at `at` from at most `window` earlier bins into o (arrays owned by
 * o, freed with rca_obs_free). Returns 0, or OC_EINVAL with no row at `at` or no history. */
int rca_forecast(const struct rca_data *d, int64_t at, int window, struct rca_obs *o /* OUT */);
void rca_obs_free(struct rca_obs *o);

/* Bus subscriber of "incident.opened" (arg: the struct oc_app): localizes the incident's
 * change on the QoE cube and publishes "rca.localized" (hook.c). */
void rca_on_incident_opened(const char *topic, const json_t *payload, void *arg);

/* Milliseconds on the monotonic clock, for runtime figures only. */
double rca_now_ms(void);

/* FNV-1a over n bytes, continuing from h (start with 2166136261u). */
uint32_t rca_hash(uint32_t h, const void *p, size_t n);

/* The option rows of `oncue rca gen` (gen.c) and `oncue rca eval` (eval.c), ending in {0}. */
extern const struct oc_opt rca_gen_opts[];
extern const struct oc_opt rca_eval_opts[];

#endif
