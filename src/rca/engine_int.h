/*
 * engine_int.h - internals shared by the localization's files: engine.c (scoring, greedy
 * search, roll-up, drill-down, backfitting) and choose.c (the set-level decision that turns
 * the greedy's causes and the ranking into the asserted set). Not for other files.
 */
#ifndef OC_RCA_ENGINE_INT_H
#define OC_RCA_ENGINE_INT_H

#include "rca/rca_int.h"

#define RCA_NORMAL_MAX  0.25 /* a "clearly normal" part deviates under this share of the rest */
#define RCA_DEV_MIN     0.5  /* a deviating child deviates at least this share of its parent */
#define RCA_MIN_SUPPORT 5.0  /* excess (in counts) an element must carry: one thin leaf is noise */
#define RCA_POOLED_MIN  6.63 /* pooled chi-square a split needs (1 degree of freedom, p < 0.01) */
#define RCA_POOL        8 /* first-round candidates the set is chosen from, besides the greedy's */
#define RCA_OWN_MIN     0.3 /* an element's own deviation is at least this share of its contrast */
#define RCA_COCHRAN_F                                                                              \
    5.0 /* counts a leaf or element expects to be read by a chi-square (Cochran) */

/* Additive sums over a set of leaves: every fit of the engine is made from them. */
struct rca_agg {
    double R, F; /* sums of r and f */
    double Srf;  /* sum of w r f */
    double Sff;  /* sum of w f f */
};

/* A scored candidate while searching. */
struct rca_scored {
    struct rca_elem e;
    double net; /* contrast minus penalty */
};

/* One localization run: the data, the per-leaf comparison and the search's state. */
struct rca_eng {
    const struct rca_data *d;
    const struct rca_opts *o;
    const struct rca_obs *ob;
    size_t n;            /* leaves */
    int na;              /* attributes */
    unsigned char *live; /* 1 while the leaf is not explained by an asserted element */
    double dir;          /* +1: the measure went up, -1: down */
    double excess;       /* dir * (R - F) over all leaves */
    double sig;          /* dir * (r - f) over the leaves beyond noise in the direction */
    double phi;          /* dispersion: how much the noise exceeds the variance model, >= 1 */
    double base_live;    /* share_base over the leaves not yet explained (min_share's base) */
    double lnv;  /* ln of the geometric mean of the values per attribute (support_penalty) */
    double ftot; /* forecast mass of all leaves (support_penalty) */
    int apart;   /* search_layer1: values from this index on (amounts' seeded
                    ones) are combined only among themselves */
    struct rca_scored *cands; /* candidates of the first round, with their net evidence */
    int n_cands;
    size_t cap_cands;
    double tdir;               /* the total's direction (+1 or -1; step 5 may override it) */
    double odir;               /* dir_pool: the direction not chosen, */
    double oexcess;            /* its excess (scores of its elements are shares of it), */
    struct rca_scored *ocands; /* and its first-round candidates */
    int n_ocands;
    int relax; /* pool_rel: contrast() without its own-deviation rule (the pool's search) */
};

static inline void rca_agg_add(struct rca_agg *a, const struct rca_obs *ob, size_t l)
{
    double f = ob->f[l], r = ob->r[l], w = ob->w[l];
    a->R += r;
    a->F += f;
    a->Srf += w * r * f;
    a->Sff += w * f * f;
}

static inline struct rca_agg rca_agg_minus(struct rca_agg a, struct rca_agg b)
{
    return (struct rca_agg){a.R - b.R, a.F - b.F, a.Srf - b.Srf, a.Sff - b.Sff};
}

/* The common scale of the leaves in a (1 when there is no forecast mass). */
static inline double rca_kval(struct rca_agg a)
{
    return a.Sff > 1e-12 ? a.Srf / a.Sff : 1.0;
}

/* Chi-square gain of rescaling a's leaves by rca_kval(a) instead of k0. */
static inline double rca_gain_vs(struct rca_agg a, double k0)
{
    if (a.Sff <= 1e-12)
        return 0;
    double k = a.Srf / a.Sff;
    return a.Sff * (k - k0) * (k - k0);
}

static inline int rca_leaf_in(const struct rca_eng *g, const struct rca_elem *e, size_t l)
{
    return rca_data_leaf_in(g->d, e, l);
}

/* Excess an asserted element carries at least: RCA_MIN_SUPPORT counts, nothing for amounts. */
static inline double rca_support(const struct rca_eng *g)
{
    return g->ob->counts ? RCA_MIN_SUPPORT : 0;
}

static inline double rca_q_of(struct rca_agg a)
{
    return a.Sff > 1e-12 ? a.Srf * a.Srf / a.Sff : 0;
}

static inline struct rca_agg rca_agg_plus(struct rca_agg a, struct rca_agg b)
{
    return (struct rca_agg){a.R + b.R, a.F + b.F, a.Srf + b.Srf, a.Sff + b.Sff};
}

/* The penalty of asserting e (its cost in the objective, in chi-square units): by its layer,
 * or with support_penalty by its aggregate a's forecast mass (see engine.c). */
double rca_penalty(const struct rca_eng *g, const struct rca_elem *e, struct rca_agg a);
/* Fills e's score (the share of the total excess its leaves carry) and sums from a. */
void rca_elem_fill(const struct rca_eng *g, struct rca_elem *e, struct rca_agg a, double c);
/* Sorts e's pairs by attribute index. */
void rca_elem_sort(struct rca_elem *e);
/* e without its pair i (a parent). */
struct rca_elem rca_elem_drop(const struct rca_elem *e, int i);
/* 1 when e names attribute a. */
int rca_elem_has_attr(const struct rca_elem *e, int a);
/* 1 when a and b name the same pairs (both sorted). */
int rca_elem_same(const struct rca_elem *a, const struct rca_elem *b);
/* qsort comparator of struct rca_scored: larger net first. */
int rca_scored_cmp(const void *x, const void *y);
/* Offsets of each attribute's values in a flat per-value array (off[na]); returns the total. */
size_t rca_value_offsets(const struct rca_eng *g, size_t *off);
/* Pearson chi-square of two parts against their pooled scale, with Poisson variances. */
double rca_pooled_chi2(struct rca_agg dev, struct rca_agg norm);
/* e without the pairs that do not narrow its leaves. */
struct rca_elem rca_simplify(const struct rca_eng *g, struct rca_elem e);
/* The set-level decision (choose.c): replaces r's causes by the set chosen from them and the
 * first round's best candidates (g->cands, sorted here); every leaf must be live. */
void rca_choose_set(struct rca_eng *g, struct rca_result *r);

#endif
