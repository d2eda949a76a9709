/*
 * gen_riskloc.c - the synthetic datasets S, L and H of the RiskLoc paper (Kalander, 2022),
 * regenerated from the parameters its generator publishes (the authors' generate_dataset.py
 * was read for them and for the steps; this is our own code), so our figures can be set beside
 * the paper's: every leaf of the full cube, Weibull-distributed values, a share of zero leaves,
 * a relative forecast error, 1-5 anomalies of one to several elements scaling their leaves by
 * (1 - severity). The paper gives a forecast per leaf; we give a history whose median is it.
 */
#include "rca/rca_int.h"

#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RL_T0      1700000000 /* first bin */
#define RL_STEP    60         /* seconds per bin */
#define RL_MAX_DIM 6          /* attributes of the largest dataset (H) */
#define RL_MAX_AN  5          /* anomalies per case */
#define RL_MAX_EL  3          /* elements per anomaly */
#define RL_PAIRS   5          /* pairs of history bins */

/* The published parameters of one dataset (ranges are [lo, hi]). */
struct rl_params {
    const char *name;         /* tag */
    int na, dims[RL_MAX_DIM]; /* attributes and values per attribute */
    double noise[2];          /* relative forecast error of normal leaves */
    double severity[2];       /* anomaly severity (noise level added) */
    double deviation[2];      /* spread of the severity within an anomaly */
    int n_anom[2];            /* anomalies per case */
    int n_el[2];              /* elements per anomaly */
    int last_layer;           /* anomalies only in the lowest layer (full leaves) */
};

static const struct rl_params rl_sets[] = {
    {"riskloc-s", 5, {10, 12, 10, 8, 5}, {0, 0.25}, {0.2, 1.0}, {0, 0.1}, {1, 3}, {1, 3}, 0},
    {"riskloc-l", 4, {10, 24, 10, 15}, {0, 0.1}, {0.5, 1.0}, {0, 0}, {1, 5}, {1, 1}, 1},
    {"riskloc-h", 6, {10, 5, 250, 20, 8, 12}, {0, 0.25}, {0.2, 1.0}, {0, 0.1}, {1, 3}, {1, 3}, 0},
};

static const char *const rl_names[] = {"a", "b", "c", "d", "e", "f"};

/* One anomaly: its attributes and the value tuples of its elements. */
struct rl_anom {
    int level, n_el;                /* attributes, elements */
    int attr[RL_MAX_DIM];           /* sorted attribute indices */
    int val[RL_MAX_EL][RL_MAX_DIM]; /* element e's value per attribute */
    double severity, deviation;     /* scale: 1 - N(severity, deviation) */
};

struct rl_case {
    const struct rl_params *p;
    size_t n;            /* leaves: the whole cube */
    uint8_t *lv;         /* n * na value indices */
    double *real, *pred; /* now and forecast per leaf */
    int n_an;
    struct rl_anom an[RL_MAX_AN];
};

static double uni(struct rca_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rca_rnd(r);
}

static void rl_cube(struct rl_case *c)
{
    int na = c->p->na;
    c->n = 1;
    for (int a = 0; a < na; a++)
        c->n *= (size_t)c->p->dims[a];
    c->lv = oc_calloc(c->n * (size_t)na, 1);
    for (size_t l = 0; l < c->n; l++) {
        size_t x = l;
        for (int a = na - 1; a >= 0; a--) {
            c->lv[l * na + a] = (uint8_t)(x % (size_t)c->p->dims[a]);
            x /= (size_t)c->p->dims[a];
        }
    }
}

/* Leaf index of the full combination vals[na]. */
static size_t rl_index(const struct rl_case *c, const int *vals)
{
    size_t x = 0;
    for (int a = 0; a < c->p->na; a++)
        x = x * (size_t)c->p->dims[a] + (size_t)vals[a];
    return x;
}

/* Draws anomaly k's attributes and elements under the paper's rules: an attribute set is not
 * reused above the lowest layer, values used by an earlier anomaly on the same attribute are
 * not reused, a lowest-layer element is a non-zero leaf, elements are distinct. 0 or -1. */
static int rl_place(struct rl_case *c, struct rca_rng *r, int k)
{
    struct rl_anom *an = &c->an[k];
    int na = c->p->na;
    int pick[RL_MAX_DIM];
    for (int a = 0; a < na; a++)
        pick[a] = a;
    for (int a = 0; a < an->level; a++) { /* partial Fisher-Yates */
        int j = a + (int)(rca_rnd(r) * (na - a));
        int t = pick[a];
        pick[a] = pick[j];
        pick[j] = t;
    }
    for (int a = 0; a < an->level; a++)
        an->attr[a] = pick[a];
    qsort(an->attr, (size_t)an->level, sizeof(int), rca_int_cmp);
    int lowest = an->level == na;
    for (int j = 0; j < k && !lowest; j++)
        if (c->an[j].level == an->level &&
            memcmp(c->an[j].attr, an->attr, sizeof(int) * (size_t)an->level) == 0)
            return -1;
    for (int i = 0; i < an->level; i++) {
        int a = an->attr[i], avail[256], n_av = 0;
        for (int v = 0; v < c->p->dims[a]; v++) {
            int used = 0;
            for (int j = 0; j < k; j++)
                for (int m = 0; m < c->an[j].level; m++)
                    if (c->an[j].attr[m] == a)
                        for (int e = 0; e < c->an[j].n_el; e++)
                            used |= c->an[j].val[e][m] == v;
            if (!used)
                avail[n_av++] = v;
        }
        if (n_av == 0)
            return -1;
        for (int e = 0; e < an->n_el; e++)
            an->val[e][i] = avail[(int)(rca_rnd(r) * n_av)];
    }
    for (int e = 0; e < an->n_el; e++) {
        for (int f = 0; f < e; f++)
            if (memcmp(an->val[e], an->val[f], sizeof(int) * (size_t)an->level) == 0)
                return -1;
        if (lowest) {
            int full[RL_MAX_DIM];
            for (int i = 0; i < na; i++)
                full[an->attr[i]] = an->val[e][i];
            if (c->real[rl_index(c, full)] == 0)
                return -1;
        }
    }
    return 0;
}

static int rl_in(const struct rl_case *c, const struct rl_anom *an, size_t l)
{
    const uint8_t *v = c->lv + l * (size_t)c->p->na;
    for (int e = 0; e < an->n_el; e++) {
        int ok = 1;
        for (int i = 0; i < an->level && ok; i++)
            ok = v[an->attr[i]] == an->val[e][i];
        if (ok)
            return 1;
    }
    return 0;
}

/* Normal leaves: Weibull values, zeros, forecast error, swapped at random so the error falls
 * on either side. */
static double rl_normal(struct rl_case *c, struct rca_rng *r)
{
    double alpha = uni(r, 0.5, 1.0), zero = uni(r, 0, 0.25);
    double noise = uni(r, c->p->noise[0], c->p->noise[1]);
    c->real = oc_calloc(c->n, sizeof(double));
    c->pred = oc_calloc(c->n, sizeof(double));
    for (size_t l = 0; l < c->n; l++) {
        double x = 100 * pow(-log(1 - rca_rnd(r) + 1e-300), 1 / alpha);
        x *= rca_rnd(r) > zero;
        double noisy = x + x * noise * rca_rnd_normal(r);
        if (rca_rnd(r) < 0.5) {
            c->real[l] = x;
            c->pred[l] = noisy;
        } else {
            c->real[l] = noisy;
            c->pred[l] = x;
        }
        c->pred[l] = c->pred[l] < 0 ? 0 : c->pred[l];
    }
    return noise;
}

/* Draws the anomalies and applies them; 0 or -1. */
static int rl_anomalies(struct rl_case *c, struct rca_rng *r, double noise)
{
    const struct rl_params *p = c->p;
    c->n_an = p->n_anom[0] + (int)(rca_rnd(r) * (p->n_anom[1] - p->n_anom[0] + 1));
    for (int k = 0; k < c->n_an; k++) {
        struct rl_anom *an = &c->an[k];
        an->level = p->last_layer ? p->na : 1 + (int)(rca_rnd(r) * p->na);
        an->n_el = p->n_el[0] + (int)(rca_rnd(r) * (p->n_el[1] - p->n_el[0] + 1));
        an->severity = uni(r, p->severity[0], p->severity[1]) + noise;
        an->deviation = uni(r, p->deviation[0], p->deviation[1]);
        int tries = 0;
        while (rl_place(c, r, k) != 0)
            if (++tries > 1000)
                return -1;
    }
    double sr = 0, sp = 0;
    for (size_t l = 0; l < c->n; l++) {
        sr += c->real[l];
        sp += c->pred[l];
    }
    int up = sr > sp; /* the anomaly follows the normal leaves' error direction */
    for (size_t l = 0; l < c->n; l++)
        for (int k = 0; k < c->n_an; k++) {
            if (!rl_in(c, &c->an[k], l))
                continue;
            double s = 1 - (c->an[k].severity + c->an[k].deviation * rca_rnd_normal(r));
            if (up)
                c->pred[l] = fmax(c->real[l] * s, 0);
            else
                c->real[l] = fmax(c->pred[l] * s, 0);
        }
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void rl_truth(const struct rl_case *c, long long at, struct rca_truth *t)
{
    memset(t, 0, sizeof(*t));
    t->at = at;
    snprintf(t->tags[t->n_tags++], sizeof(t->tags[0]), "%s", c->p->name);
    for (int k = 0; k < c->n_an; k++)
        for (int e = 0; e < c->an[k].n_el && t->n_el < RCA_TRUTH_ELS; e++) {
            char pairs[RL_MAX_DIM][16], *out = t->el[t->n_el];
            int n = c->an[k].level;
            for (int i = 0; i < n; i++)
                snprintf(pairs[i], sizeof(pairs[i]), "%s=%s%d", rl_names[c->an[k].attr[i]],
                         rl_names[c->an[k].attr[i]], c->an[k].val[e][i] + 1);
            qsort(pairs, (size_t)n, sizeof(pairs[0]), str_cmp);
            size_t off = 0;
            for (int i = 0; i < n; i++)
                off += (size_t)snprintf(out + off, RCA_TRUTH_LEN - off, "%s%s", i ? "&" : "",
                                        pairs[i]);
            int dup = 0;
            for (int j = 0; j < t->n_el; j++)
                dup |= strcmp(t->el[j], out) == 0;
            if (!dup)
                t->n_el++;
        }
}

/* History: RL_PAIRS pairs of bins forecast * (1 +- e), e ~ |N(0, noise)|, whose median is the
 * forecast and whose spread is the case's noise level; then the anomalous bin. */
static void rl_write(const struct rl_case *c, struct rca_rng *r, double noise,
                     struct rca_gen_sink *s)
{
    for (size_t l = 0; l < c->n; l++) {
        const uint8_t *v = c->lv + l * (size_t)c->p->na;
        for (int b = 0; b < RL_PAIRS; b++) {
            double e = fmin(0.9, fabs(noise * rca_rnd_normal(r)));
            rca_gen_sink_row(s, RL_T0 + RL_STEP * 2 * b, v, c->pred[l] * (1 + e), 0);
            rca_gen_sink_row(s, RL_T0 + RL_STEP * (2 * b + 1), v, c->pred[l] * (1 - e), 0);
        }
        rca_gen_sink_row(s, RL_T0 + RL_STEP * 2 * RL_PAIRS, v, c->real[l], 0);
    }
}

int rca_gen_riskloc(int p, long long seed, int i, FILE *csv, struct rca_data **d,
                    struct rca_truth *t)
{
    if (p < RCA_GEN_RISKLOC_S || p > RCA_GEN_RISKLOC_H)
        return -1;
    struct rl_case c = {.p = &rl_sets[p - RCA_GEN_RISKLOC_S]};
    size_t n = 1;
    for (int a = 0; a < c.p->na; a++)
        n *= (size_t)c.p->dims[a];
    if (n > RCA_MAX_LEAVES)
        return -1; /* H: 2.4 million leaves, over the engine's cap */
    struct rca_rng r = {(uint64_t)seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 7919u +
                        (uint64_t)p * 104729u + 1};
    int rc = -1;
    rl_cube(&c);
    for (int tries = 0; tries < 20 && rc != 0; tries++) {
        double noise = rl_normal(&c, &r);
        rc = rl_anomalies(&c, &r, noise);
        if (rc == 0) {
            struct rca_gen_sink s = {csv, NULL, c.p->na, 0, rl_names, 1};
            rca_gen_sink_open(&s, d);
            rl_write(&c, &r, noise, &s);
            rl_truth(&c, RL_T0 + RL_STEP * 2 * RL_PAIRS, t);
        }
        free(c.real);
        free(c.pred);
        c.real = c.pred = NULL;
    }
    free(c.lv);
    return rc;
}
