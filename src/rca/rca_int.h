/*
 * rca_int.h - internals shared by the files of src/rca/ (not for other capabilities).
 *
 * The body of struct rca_data: per-attribute value dictionaries, the leaf table (value ids
 * per leaf, hashed for lookup) and the rows in arrival order.
 */
#ifndef OC_RCA_RCA_INT_H
#define OC_RCA_RCA_INT_H

#include "rca/rca.h"

#include <stdio.h>

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
    int counts;     /* 1: the measure varies like a count (Poisson floor, support in counts) */
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

#define RCA_TRUTH_TAGS 16  /* setting tags per generated case */
#define RCA_TRUTH_ELS  12  /* true elements per generated case */
#define RCA_TRUTH_LEN  256 /* bytes per tag or element string */

/* What a generated case is and what its true root-cause set is. */
struct rca_truth {
    long long at;                          /* the anomalous bin */
    int n_tags, n_el;                      /* tags and true elements used */
    char tags[RCA_TRUTH_TAGS][32];         /* "ratio", "layer=2", "real:kind=child", ... */
    char el[RCA_TRUTH_ELS][RCA_TRUTH_LEN]; /* "attr=v&attr2=w", pairs sorted by name */
};

/* 1 when leaf l of d is in element e (it has each of e's values). */
static inline int rca_data_leaf_in(const struct rca_data *d, const struct rca_elem *e, size_t l)
{
    const uint32_t *v = d->leaf_vals + l * (size_t)d->n_attrs;
    for (int i = 0; i < e->n; i++)
        if (v[e->attr[i]] != e->val[i])
            return 0;
    return 1;
}

/* The identifiability diagnostic of `oncue rca eval --ident` (ident.c); its count likelihood
 * (rca_ident_leaf_disp, rca_ident_dispersion) also serves the engine's renaming (choose.c). */
#define RCA_IDENT_SET (RCA_TRUTH_ELS + 1) /* elements of a set whose likelihood is taken */
enum {
    RCA_IDENT_INDIST, /* the data cannot tell the true element from the other */
    RCA_IDENT_TRUTH,  /* the data favour the true element by the bound or more */
    RCA_IDENT_ALT,    /* the data favour the other element by the bound or more */
};
/* A case's forecast and dispersion, for log-likelihoods of element sets. */
struct rca_ident {
    const struct rca_data *d; /* borrowed; NULL once closed */
    struct rca_obs ob;        /* the forecast at `at`, owned */
    double phi;               /* dispersion against the likelihood's variance, 1..10 */
    int *group;               /* per leaf: which element of the set holds it (scratch, owned) */
};
/* Leaf l's variance beyond Poisson in ob's variance model (its history's spread), >= 1. */
double rca_ident_leaf_disp(const struct rca_obs *ob, size_t l);
/* The dispersion of ob's leaves around their median scale, as the engine's (engine.c) but
 * against the variance of the likelihood: Poisson for counts, the forecast's for amounts; 1..10. */
double rca_ident_dispersion(const struct rca_obs *ob);
/* Forecasts d at `at` (the engine's forecast) into x; 0, or rca_forecast's error. Free with
 * rca_ident_close (also after a failed open). */
int rca_ident_open(struct rca_ident *x, const struct rca_data *d, int64_t at, int window);
void rca_ident_close(struct rca_ident *x);
/* The quasi-log-likelihood (nats, divided by x->phi) of "set[0..n) is the anomaly": a scale
 * per element (a leaf goes to the first element holding it; an element of no pair holds
 * every leaf) and one for the rest, each fitted; Poisson for counts, Gaussian with the
 * forecast's weights for amounts. */
double rca_ident_ll(struct rca_ident *x, const struct rca_elem *set, int n);
/* How much better truths[0..n) fit than the same set with truths[k] replaced by alt (the
 * other true elements kept), in nats. alt NULL: by the parent of truths[k] (one pair
 * dropped; of a single pair, every leaf) that fits best, written to *parent. */
double rca_ident_delta(struct rca_ident *x, const struct rca_elem *truths, int n, int k,
                       const struct rca_elem *alt, struct rca_elem *parent /* OUT */);
/* How much better truths[0..n) fit than the same set without truths[k] (its own evidence). */
double rca_ident_own(struct rca_ident *x, const struct rca_elem *truths, int n, int k);
/* The class (RCA_IDENT_*) of a delta of rca_ident_delta against the bound nats (> 0). */
int rca_ident_class(double delta, double nats);

/* Generator profiles (gen.c, gen_riskloc.c). */
enum rca_gen_profile {
    RCA_GEN_DEFAULT,   /* the original mix: measure x layer x elements x noise */
    RCA_GEN_REAL,      /* what real stall data does: see docs/internals/rca.md "Evaluation" */
    RCA_GEN_RISKLOC_S, /* the RiskLoc paper's synthetic dataset S, regenerated */
    RCA_GEN_RISKLOC_L, /* ... dataset L */
    RCA_GEN_RISKLOC_H, /* ... dataset H (2.4 million leaves: over RCA_MAX_LEAVES, refused) */
};

/* The profile named s ("default", "real", "riskloc-s", "riskloc-l", "riskloc-h"), or -1. */
int rca_gen_profile_of(const char *s);
/* The name of profile p. */
const char *rca_gen_profile_name(int p);
/* Generates case i of profile p with seed (leaves > 0 fixes the leaves; default and real
 * profiles only). Writes the CSV to csv when not NULL, and/or fills *d (a new data set the
 * caller destroys) when d is not NULL; fills *t. Returns 0, or -1 when the profile cannot be
 * generated (riskloc-h) or the case could not be drawn. */
int rca_gen_case(int p, long long seed, int i, int leaves, FILE *csv, struct rca_data **d,
                 struct rca_truth *t /* OUT */);
/* The RiskLoc-style generator (gen_riskloc.c); same contract as rca_gen_case. */
int rca_gen_riskloc(int p, long long seed, int i, FILE *csv, struct rca_data **d,
                    struct rca_truth *t /* OUT */);

/* The generators' random numbers: xorshift64*, reproducible from a seed. */
struct rca_rng {
    uint64_t s; /* state, never 0 */
};
double rca_rnd(struct rca_rng *r);             /* uniform in [0, 1) */
double rca_rnd_normal(struct rca_rng *r);      /* standard normal */
int rca_int_cmp(const void *a, const void *b); /* qsort comparator of int */

/* A destination for generated rows: a CSV file, an in-memory data set, or both. */
struct rca_gen_sink {
    FILE *f;                 /* CSV, or NULL */
    struct rca_data *d;      /* data set, or NULL */
    int na, ratio;           /* attributes, measure */
    const char *const *attr; /* attribute names; values are written "<name><index + base>" */
    int base;                /* 0 or 1: first value's number */
};
/* Writes the CSV header (when s->f) and creates s->d when d_out is not NULL. */
void rca_gen_sink_open(struct rca_gen_sink *s, struct rca_data **d_out);
/* One row: leaf with value indices vals[na] at ts. Zero rows are skipped. */
void rca_gen_sink_row(struct rca_gen_sink *s, long long ts, const uint8_t *vals, double v,
                      double t);

/* The option rows of `oncue rca gen` (gen.c) and `oncue rca eval` (eval.c), ending in {0}. */
extern const struct oc_opt rca_gen_opts[];
extern const struct oc_opt rca_eval_opts[];

#endif
