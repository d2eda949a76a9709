/*
 * gen.c - `oncue rca gen`: labelled synthetic cases in the "Root-cause input" CSV format.
 *
 * Profile "default": each case draws a setting (additive or ratio measure, 1-3 attributes per
 * element, 1-3 elements, low or high noise, 3-10 attributes), skewed value popularity so many
 * leaves are near-empty, a history with noise, seasonality, outliers and missing bins, then
 * injects the anomaly into disjoint elements at the last bin; ratio cases add a decoy slice
 * whose viewers surge with an unchanged ratio. Profile "real" adds what real stall data does:
 * heavy-tailed leaf sizes, a diurnal and overdispersed ratio history, a child that drags its
 * parent, a parent whose children move alike, weak decoy slices beside one strong cause. The
 * RiskLoc profiles are in gen_riskloc.c. Writes case_NNNN.csv and case_NNNN.truth (at, tags,
 * one "cause attr=v&..." line per element), or fills a data set in memory for `rca eval`.
 */
#include "rca/rca_int.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/opt.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GEN_BINS    12         /* history bins before the anomalous one */
#define GEN_T0      1700000000 /* first bin */
#define GEN_STEP    60         /* seconds per bin */
#define GEN_MAX_VAL 64         /* values per attribute (3 attributes reach 100,000 leaves) */
/* Real profile: a cause moves the total by at least this share. Set so that the true causes
 * are among the first three candidates about as often as on the real held-out data (77%):
 * with 3% they were in 64% of cases, the noise of a few big leaves hiding the rest. */
#define GEN_REAL_MOVE 0.06

static const char *const gen_attr_names[] = {"region", "cdn", "pop",    "isp",   "device",
                                             "os",     "drm", "player", "title", "country"};

double rca_rnd(struct rca_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (double)((r->s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

double rca_rnd_normal(struct rca_rng *r)
{
    double u = rca_rnd(r) + 1e-12, v = rca_rnd(r);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

int rca_int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static int rnd_int(struct rca_rng *r, int lo, int hi)
{
    return lo + (int)(rca_rnd(r) * (hi - lo + 1));
}

static double rnd_poisson(struct rca_rng *r, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 50)
        return fmax(0, round(mean + sqrt(mean) * rca_rnd_normal(r)));
    double l = exp(-mean), p = 1;
    int k = 0;
    do {
        k++;
        p *= rca_rnd(r);
    } while (p > l);
    return k - 1;
}

/* Kinds of case of the "real" profile. */
enum gen_kind {
    GK_PLAIN,  /* 1-3 disjoint elements of 1-3 attributes (as the default profile) */
    GK_CHILD,  /* one child deviates strongly, its parent mildly: the cause is the child */
    GK_PARENT, /* every child of a parent deviates alike: the cause is the parent */
    GK_WEAK,   /* one strong cause and three weak decoy slices that are not causes */
};

static const char *const gen_kind_names[] = {"plain", "child", "parent", "weak"};

#define GEN_EL 8 /* injected elements per case, causes and decoys */

/* One generated case. */
struct gcase {
    int profile;                  /* RCA_GEN_DEFAULT or RCA_GEN_REAL */
    int na, nvals[RCA_MAX_ATTRS]; /* attributes and values per attribute */
    int ratio, layer, n_el;       /* setting; n_el: elements that are causes */
    int kind, n_all;              /* real: enum gen_kind; elements injected (causes first) */
    double noise;                 /* multiplicative noise sd of volumes */
    double rnoise;                /* ratio: sd of the per-bin ratio noise (overdispersion) */
    double diurnal;               /* amplitude of the daily cycle over the history */
    int phase;                    /* bins into the day of the first bin */
    int n_leaves;                 /* leaves */
    uint8_t *lv;                  /* n_leaves * na value indices */
    double *base;                 /* expected volume (additive) or viewers (ratio) */
    double *rate;                 /* ratio: stall probability */
    double *k_now;                /* multiplier of the measure at the anomalous bin */
    double *t_now;                /* ratio: multiplier of the total at the anomalous bin */
    int el_n[GEN_EL];             /* pairs per element */
    int el_attr[GEN_EL][3];       /* the injected elements */
    int el_val[GEN_EL][3];
    double el_k[GEN_EL];      /* their multipliers */
    double el_spread[GEN_EL]; /* sd of the multiplier's log spread over their leaves */
    int up;                   /* additive: the anomaly is a surge */
    double drift;             /* global multiplier at the anomalous bin (trend) */
    double min_move;          /* a cause moves the total measure by at least this share */
};

static int leaf_match(const struct gcase *c, int l, const int *attr, const int *val, int n)
{
    for (int i = 0; i < n; i++)
        if (c->lv[l * c->na + attr[i]] != val[i])
            return 0;
    return 1;
}

/* Draws a value index with popularity ~ 1/(rank+1). */
static int zipf(struct rca_rng *r, int n)
{
    double h = 0, u;
    for (int i = 0; i < n; i++)
        h += 1.0 / (i + 1);
    u = rca_rnd(r) * h;
    for (int i = 0; i < n; i++) {
        u -= 1.0 / (i + 1);
        if (u <= 0)
            return i;
    }
    return n - 1;
}

/* Base volume of a leaf. Default: log-normal. Real: heavier tail (sigma 2) and 40% of the
 * leaves near-empty (a few percent of a viewer per bin). */
static double leaf_base(const struct gcase *c, struct rca_rng *r, double scale)
{
    if (c->profile != RCA_GEN_REAL)
        return scale * exp(1.3 * rca_rnd_normal(r) - 0.8);
    double b = scale * exp(2.0 * rca_rnd_normal(r) - 1.8);
    return rca_rnd(r) < 0.4 ? b * 0.03 : b;
}

/* Draws distinct leaves (skewed popularity) and their base volumes. */
static void gen_leaves(struct gcase *c, struct rca_rng *r, int want)
{
    size_t hcap = 1;
    while (hcap < (size_t)want * 4)
        hcap <<= 1;
    uint32_t *ht = oc_calloc(hcap, sizeof(*ht));
    c->lv = oc_calloc((size_t)want * c->na, 1);
    c->n_leaves = 0;
    for (int tries = 0; tries < want * 20 && c->n_leaves < want; tries++) {
        uint8_t *v = c->lv + (size_t)c->n_leaves * c->na;
        for (int a = 0; a < c->na; a++)
            v[a] = (uint8_t)zipf(r, c->nvals[a]);
        size_t i = rca_hash(2166136261u, v, (size_t)c->na) & (hcap - 1);
        while (ht[i] && memcmp(c->lv + (size_t)(ht[i] - 1) * c->na, v, (size_t)c->na) != 0)
            i = (i + 1) & (hcap - 1);
        if (ht[i])
            continue;
        ht[i] = (uint32_t)++c->n_leaves;
    }
    free(ht);
    double scale = c->ratio ? 40 : 12;
    c->base = oc_calloc((size_t)c->n_leaves, sizeof(double));
    c->rate = oc_calloc((size_t)c->n_leaves, sizeof(double));
    c->k_now = oc_calloc((size_t)c->n_leaves, sizeof(double));
    c->t_now = oc_calloc((size_t)c->n_leaves, sizeof(double));
    double r0 = 0.01 + 0.03 * rca_rnd(r);
    for (int l = 0; l < c->n_leaves; l++) {
        c->base[l] = leaf_base(c, r, scale);
        c->rate[l] = fmin(0.5, r0 * exp(0.3 * rca_rnd_normal(r)));
        c->k_now[l] = 1;
        c->t_now[l] = 1;
    }
}

/* Forecast mass of the leaves matching (attr, val, n); *clash when one is already taken. */
static double elem_mass(const struct gcase *c, const int *attr, const int *val, int n,
                        const uint8_t *taken, int *clash)
{
    double m = 0;
    *clash = 0;
    for (int l = 0; l < c->n_leaves; l++)
        if (leaf_match(c, l, attr, val, n)) {
            m += c->base[l] * (c->ratio ? c->rate[l] : 1);
            *clash |= taken[l];
        }
    return m;
}

/* Draws pairs fixed..n-1 of an element (distinct attributes, popular values likelier). */
static void draw_pairs(const struct gcase *c, struct rca_rng *r, int n, int fixed, int *attr,
                       int *val)
{
    for (int i = fixed; i < n; i++) {
        int a, dup;
        do {
            a = rnd_int(r, 0, c->na - 1);
            dup = 0;
            for (int j = 0; j < i; j++)
                dup |= attr[j] == a;
        } while (dup);
        attr[i] = a;
        val[i] = zipf(r, c->nvals[a]);
    }
}

static void take(const struct gcase *c, uint8_t *taken, const int *attr, const int *val, int n)
{
    for (int l = 0; l < c->n_leaves; l++)
        if (leaf_match(c, l, attr, val, n))
            taken[l] = 1;
}

/* A strong multiplier: a ratio rises 2-6x; a count surges 1.5-4x or drops to 0.1-0.6. */
static double strong_k(const struct gcase *c, struct rca_rng *r)
{
    return c->ratio ? 2 + 4 * rca_rnd(r) : c->up ? 1.5 + 2.5 * rca_rnd(r) : 0.1 + 0.5 * rca_rnd(r);
}

/* Draws element e (n pairs, the first `fixed` given) disjoint from the taken leaves, with a
 * mass in [lo, hi] of the total; 0 and its mass in *m, or -1 after many tries. */
static int draw_elem(struct gcase *c, struct rca_rng *r, int e, int n, int fixed, double lo,
                     double hi, const uint8_t *taken, double *m)
{
    for (int tries = 0; tries < 400; tries++) {
        int clash;
        draw_pairs(c, r, n, fixed, c->el_attr[e], c->el_val[e]);
        *m = elem_mass(c, c->el_attr[e], c->el_val[e], n, taken, &clash);
        if (!clash && *m >= lo && *m <= hi) {
            c->el_n[e] = n;
            return 0;
        }
    }
    return -1;
}

/* Default profile and "plain" real cases: n_el disjoint elements of `layer` attributes, each
 * holding at most 40% of the measure and enough that its change moves the total by 3%. */
static int gen_plain(struct gcase *c, struct rca_rng *r, double total, uint8_t *taken)
{
    for (int e = 0; e < c->n_el; e++)
        c->el_k[e] = strong_k(c, r);
    for (int e = 0; e < c->n_el; e++) {
        double m, min = fmax(0.01, c->min_move / fabs(c->el_k[e] - 1));
        c->el_spread[e] = c->noise > 0.1 ? 0.4 : 0.1;
        if (draw_elem(c, r, e, c->layer, 0, min * total, 0.4 * total, taken, &m) != 0)
            return -1;
        take(c, taken, c->el_attr[e], c->el_val[e], c->layer);
    }
    return 0;
}

/* Real "child": a parent of lp attributes (at most half the measure) and one child of it
 * holding 5-60% of the parent, which alone moves strongly; the parent moves mildly. */
static int gen_child(struct gcase *c, struct rca_rng *r, double total, uint8_t *taken)
{
    int lp = rnd_int(r, 1, 2);
    c->layer = lp + 1;
    c->el_k[0] = strong_k(c, r);
    c->el_spread[0] = 0.1;
    double min = fmax(0.01, c->min_move / fabs(c->el_k[0] - 1)) * total;
    for (int tries = 0; tries < 200; tries++) {
        double mp, mc;
        if (draw_elem(c, r, 0, lp, 0, min, 0.5 * total, taken, &mp) != 0)
            return -1;
        if (draw_elem(c, r, 0, lp + 1, lp, min, 0.6 * mp, taken, &mc) == 0 && mc >= 0.05 * mp) {
            take(c, taken, c->el_attr[0], c->el_val[0], lp + 1);
            return 0;
        }
    }
    return -1;
}

/* Real "parent": one element of 1-2 attributes whose leaves all move by the same factor,
 * spread 15% (children alike), a moderate change (ratio 1.6-3x, counts 1.3-2.5x or 0.4-0.75). */
static int gen_parent(struct gcase *c, struct rca_rng *r, double total, uint8_t *taken)
{
    double m;
    c->layer = rnd_int(r, 1, 2);
    c->el_k[0] = c->ratio ? 1.6 + 1.4 * rca_rnd(r)
                 : c->up  ? 1.3 + 1.2 * rca_rnd(r)
                          : 0.4 + 0.35 * rca_rnd(r);
    c->el_spread[0] = 0.15;
    double min = fmax(0.02, c->min_move / fabs(c->el_k[0] - 1));
    if (draw_elem(c, r, 0, c->layer, 0, min * total, 0.4 * total, taken, &m) != 0)
        return -1;
    take(c, taken, c->el_attr[0], c->el_val[0], c->layer);
    return 0;
}

/* Real "weak": one strong cause (1-2 attributes) and three decoys of 1-2 attributes, each
 * carrying about a tenth of the cause's excess: together less than the cause. */
static int gen_weak(struct gcase *c, struct rca_rng *r, double total, uint8_t *taken)
{
    double ms;
    c->layer = rnd_int(r, 1, 2);
    c->el_k[0] = strong_k(c, r);
    c->el_spread[0] = 0.1;
    double min = fmax(0.02, c->min_move / fabs(c->el_k[0] - 1));
    if (draw_elem(c, r, 0, c->layer, 0, min * total, 0.4 * total, taken, &ms) != 0)
        return -1;
    take(c, taken, c->el_attr[0], c->el_val[0], c->layer);
    double ex = ms * fabs(c->el_k[0] - 1);
    for (int e = 1; e < 4; e++) {
        double m;
        if (draw_elem(c, r, e, rnd_int(r, 1, 2), 0, 0.01 * total, 0.3 * total, taken, &m) != 0)
            return -1;
        double dk = fmin(0.1 * ex / m, c->ratio ? 0.8 : c->up ? 0.5 : 0.4);
        c->el_k[e] = c->ratio || c->up ? 1 + dk : 1 - dk;
        c->el_spread[e] = 0.1;
        take(c, taken, c->el_attr[e], c->el_val[e], c->el_n[e]);
    }
    c->n_all = 4;
    return 0;
}

/* Picks the elements of the case's kind; 0, or -1 when they do not fit. */
static int gen_elements(struct gcase *c, struct rca_rng *r, double total)
{
    uint8_t *taken = oc_calloc((size_t)c->n_leaves, 1);
    int rc;
    c->up = c->ratio || rca_rnd(r) < 0.5;
    switch (c->kind) {
    case GK_CHILD:
        rc = gen_child(c, r, total, taken);
        break;
    case GK_PARENT:
        rc = gen_parent(c, r, total, taken);
        break;
    case GK_WEAK:
        rc = gen_weak(c, r, total, taken);
        break;
    default:
        rc = gen_plain(c, r, total, taken);
    }
    if (c->n_all < c->n_el)
        c->n_all = c->n_el;
    free(taken);
    return rc;
}

/* Sets the multipliers of the anomalous bin. */
static void gen_inject(struct gcase *c, struct rca_rng *r)
{
    for (int e = 0; e < c->n_all; e++) {
        double k = c->el_k[e];
        for (int l = 0; l < c->n_leaves; l++)
            if (leaf_match(c, l, c->el_attr[e], c->el_val[e], c->el_n[e]))
                c->k_now[l] = 1 + (k - 1) * exp(c->el_spread[e] * rca_rnd_normal(r));
    }
    if (!c->ratio || rca_rnd(r) < 0.4)
        return;
    int a = rnd_int(r, 0, c->na - 1), v = rnd_int(r, 0, c->nvals[a] - 1);
    for (int l = 0; l < c->n_leaves; l++) /* decoy: more viewers, same ratio */
        if (c->lv[l * c->na + a] == v)
            c->t_now[l] = 1.6;
}

static void gcase_free(struct gcase *c)
{
    free(c->lv);
    free(c->base);
    free(c->rate);
    free(c->k_now);
    free(c->t_now);
    memset(c, 0, sizeof(*c));
}

void rca_gen_sink_open(struct rca_gen_sink *s, struct rca_data **d_out)
{
    if (s->f) {
        fprintf(s->f, "ts");
        for (int a = 0; a < s->na; a++)
            fprintf(s->f, ",%s", s->attr[a]);
        fprintf(s->f, s->ratio ? ",value,total\n" : ",value\n");
    }
    s->d = d_out ? (*d_out = rca_data_new(s->na, s->attr, s->ratio)) : NULL;
}

void rca_gen_sink_row(struct rca_gen_sink *s, long long ts, const uint8_t *vals, double v, double t)
{
    char buf[RCA_MAX_ATTRS][40];
    const char *p[RCA_MAX_ATTRS];
    if (v == 0 && (!s->ratio || t == 0))
        return;
    for (int a = 0; a < s->na; a++) {
        snprintf(buf[a], sizeof(buf[a]), "%s%d", s->attr[a], vals[a] + s->base);
        p[a] = buf[a];
    }
    if (s->f) {
        fprintf(s->f, "%lld", ts);
        for (int a = 0; a < s->na; a++)
            fprintf(s->f, ",%s", p[a]);
        if (s->ratio)
            fprintf(s->f, ",%.0f,%.0f\n", v, t);
        else if (v == floor(v))
            fprintf(s->f, ",%.0f\n", v);
        else
            fprintf(s->f, ",%.4f\n", v);
    }
    if (s->d)
        rca_data_add(s->d, ts, p, v, t);
}

/* The daily cycle at bin b: default a 5% swing over 12 bins; real a `diurnal` swing over a
 * 24-bin day, so the history spans half a day and its median misses the current level. */
static double season_of(const struct gcase *c, int b)
{
    if (c->profile != RCA_GEN_REAL)
        return 1 + 0.05 * sin(2 * M_PI * b / 12.0);
    return 1 + c->diurnal * sin(2 * M_PI * (b + c->phase) / 24.0);
}

/* Writes one row per leaf with a non-empty measure in bin b. */
static void write_bin(struct rca_gen_sink *s, const struct gcase *c, struct rca_rng *r, int b)
{
    double season = season_of(c, b);
    /* real: the ratio has its own daily cycle (more stalls at the evening peak) */
    double rseason = c->profile == RCA_GEN_REAL ? 1 + 0.5 * (season - 1) : 1;
    double rnoise = c->profile == RCA_GEN_REAL ? c->rnoise : c->noise;
    int now = b == GEN_BINS;
    for (int l = 0; l < c->n_leaves; l++) {
        double n = exp(c->noise * rca_rnd_normal(r));
        if (!now && rca_rnd(r) < 0.01)
            n *= 3; /* an outlier in the history */
        double v, t = 0;
        const uint8_t *lv = c->lv + (size_t)l * c->na;
        if (!c->ratio) {
            v = rnd_poisson(r, c->base[l] * season * n * (now ? c->k_now[l] * c->drift : 1));
        } else {
            t = rnd_poisson(r, c->base[l] * season * n * (now ? c->t_now[l] : 1));
            if (t == 0)
                continue;
            double p = c->rate[l] * rseason * (now ? c->k_now[l] * c->drift : 1);
            p *= exp(rnoise * rca_rnd_normal(r));
            v = fmin(t, rnd_poisson(r, t * fmin(p, 1)));
        }
        rca_gen_sink_row(s, GEN_T0 + GEN_STEP * b, lv, v, t);
    }
}

static int pair_cmp(const void *x, const void *y)
{
    const int *a = x, *b = y; /* {attr, val} */
    int c = strcmp(gen_attr_names[a[0]], gen_attr_names[b[0]]);
    return c ? c : a[1] - b[1];
}

static void add_tag(struct rca_truth *t, const char *prefix, const char *tag)
{
    if (t->n_tags < RCA_TRUTH_TAGS)
        snprintf(t->tags[t->n_tags++], sizeof(t->tags[0]), "%.8s%.23s", prefix, tag);
}

static void fill_truth(struct rca_truth *t, const struct gcase *c, int leaves_tag)
{
    char tag[32];
    const char *pre = c->profile == RCA_GEN_REAL ? "real:" : "";
    memset(t, 0, sizeof(*t));
    t->at = GEN_T0 + GEN_STEP * GEN_BINS;
    add_tag(t, "", c->profile == RCA_GEN_REAL ? "real" : "default");
    add_tag(t, pre, c->ratio ? "ratio" : "additive");
    if (c->profile == RCA_GEN_REAL) {
        snprintf(tag, sizeof(tag), "kind=%s", gen_kind_names[c->kind]);
        add_tag(t, pre, tag);
    }
    if (c->profile != RCA_GEN_REAL || c->kind == GK_PLAIN) {
        snprintf(tag, sizeof(tag), "layer=%d", c->layer);
        add_tag(t, pre, tag);
        snprintf(tag, sizeof(tag), "elements=%d", c->n_el);
        add_tag(t, pre, tag);
    }
    add_tag(t, pre, c->noise > 0.1 ? "noise=high" : "noise=low");
    add_tag(t, pre,
            leaves_tag <= 1000   ? "leaves<=1k"
            : leaves_tag <= 5000 ? "leaves<=5k"
                                 : "leaves>5k");
    for (int e = 0; e < c->n_el && t->n_el < RCA_TRUTH_ELS; e++) {
        int p[3][2], n = c->el_n[e];
        for (int i = 0; i < n; i++) {
            p[i][0] = c->el_attr[e][i];
            p[i][1] = c->el_val[e][i];
        }
        qsort(p, (size_t)n, sizeof(p[0]), pair_cmp);
        size_t off = 0;
        char *out = t->el[t->n_el++];
        for (int i = 0; i < n; i++)
            off += (size_t)snprintf(out + off, RCA_TRUTH_LEN - off, "%s%s=%s%d", i ? "&" : "",
                                    gen_attr_names[p[i][0]], gen_attr_names[p[i][0]], p[i][1]);
    }
}

/* Draws case i's setting (profile default or real), leaves and elements; 0 or -1. */
static int gen_draw(struct gcase *c, struct rca_rng *r, int i, int leaves)
{
    if (c->profile == RCA_GEN_REAL) {
        c->kind = i % 4;
        c->ratio = (i / 4) % 3 != 0;
        c->layer = rnd_int(r, 1, 3);
        c->n_el = c->kind == GK_PLAIN ? rnd_int(r, 1, 3) : 1;
        c->noise = (i / 12) % 2 ? 0.25 : 0.08;
        c->rnoise = (i / 12) % 2 ? 0.35 : 0.15;
        c->diurnal = 0.3;
        c->phase = rnd_int(r, 0, 23);
        c->na = rnd_int(r, 3, 8);
        c->min_move = GEN_REAL_MOVE;
    } else {
        c->min_move = 0.03;
        c->ratio = i % 2;
        c->layer = 1 + (i / 2) % 3;
        c->n_el = 1 + (i / 6) % 3;
        c->noise = (i / 18) % 2 ? 0.25 : 0.05;
        c->na = rnd_int(r, 3, 10);
    }
    c->drift = 1 + (c->ratio ? 0.1 : 0.2) * (rca_rnd(r) - 0.5);
    int want = leaves > 0 ? leaves : (int)exp(log(200) + rca_rnd(r) * log(5000.0 / 200));
    double prod = 1;
    for (int a = 0; a < c->na; a++) {
        c->nvals[a] = rnd_int(r, 3, 12);
        prod *= c->nvals[a];
    }
    for (int a = 0, n = 0; prod < 3.0 * want && n < 1000; a = (a + 1) % c->na, n++) {
        if (c->nvals[a] >= GEN_MAX_VAL)
            continue;
        prod = prod / c->nvals[a] * (c->nvals[a] + 1);
        c->nvals[a]++;
    }
    gen_leaves(c, r, want);
    double total = 0;
    for (int l = 0; l < c->n_leaves; l++)
        total += c->base[l] * (c->ratio ? c->rate[l] : 1);
    if (gen_elements(c, r, total) != 0)
        return -1;
    gen_inject(c, r);
    return 0;
}

static const char *const gen_profiles[] = {"default", "real", "riskloc-s", "riskloc-l",
                                           "riskloc-h"};

int rca_gen_profile_of(const char *s)
{
    for (int p = 0; p < (int)(sizeof(gen_profiles) / sizeof(gen_profiles[0])); p++)
        if (strcmp(s, gen_profiles[p]) == 0)
            return p;
    return -1;
}

const char *rca_gen_profile_name(int p)
{
    return p >= 0 && p <= RCA_GEN_RISKLOC_H ? gen_profiles[p] : "?";
}

int rca_gen_case(int p, long long seed, int i, int leaves, FILE *csv, struct rca_data **d,
                 struct rca_truth *t)
{
    if (p >= RCA_GEN_RISKLOC_S)
        return rca_gen_riskloc(p, seed, i, csv, d, t);
    struct gcase c = {0};
    struct rca_rng r = {(uint64_t)seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 7919u + 1 +
                        (uint64_t)p * 104729u};
    int ok = -1;
    for (int tries = 0; tries < 20 && ok != 0; tries++) {
        gcase_free(&c);
        c.profile = p;
        ok = gen_draw(&c, &r, i, leaves);
    }
    if (ok == 0) {
        struct rca_gen_sink s = {csv, NULL, c.na, c.ratio, gen_attr_names, 0};
        rca_gen_sink_open(&s, d);
        int missing = rca_rnd(&r) < 0.3 ? rnd_int(&r, 0, GEN_BINS - 1) : -1;
        for (int b = 0; b <= GEN_BINS; b++)
            if (b != missing)
                write_bin(&s, &c, &r, b);
        fill_truth(t, &c, leaves > 0 ? leaves : c.n_leaves);
    }
    gcase_free(&c);
    return ok;
}

/* Writes case i of profile p into dir; 0, 1 when it cannot be drawn, -1 on an I/O error. */
static int gen_write(const char *dir, int p, long long seed, int i, int leaves)
{
    char path[4096];
    struct rca_truth t;
    snprintf(path, sizeof(path), "%s/case_%04d.csv", dir, i);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int drawn = rca_gen_case(p, seed, i, leaves, f, NULL, &t);
    int bad = fclose(f) != 0;
    if (drawn != 0) {
        remove(path);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/case_%04d.truth", dir, i);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "at %lld\ntags", t.at);
    for (int k = 0; k < t.n_tags; k++)
        fprintf(f, " %s", t.tags[k]);
    fprintf(f, "\n");
    for (int e = 0; e < t.n_el; e++)
        fprintf(f, "cause %s\n", t.el[e]);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* What the command line of `oncue rca gen` says. */
struct gen_args {
    const char *out;          /* --out */
    const char *profile;      /* --profile */
    long cases, seed, leaves; /* --cases, --seed, --leaves */
};

#define F(f) offsetof(struct gen_args, f)
const struct oc_opt rca_gen_opts[] = {
    {"--out", OC_OPT_STR, F(out), "DIR", "directory to write the cases into (required)", 0, 0,
     NULL},
    {"--profile", OC_OPT_STR, F(profile), "P",
     "default, real, riskloc-s or riskloc-l (docs/internals/rca.md)", 0, 0, NULL},
    {"--cases", OC_OPT_LONG, F(cases), "N", "cases to write (default 200)", 0, 100000, NULL},
    {"--seed", OC_OPT_LONG, F(seed), "S", "random seed (default 1)", 0, LONG_MAX, NULL},
    {"--leaves", OC_OPT_LONG, F(leaves), "L", "leaves per case (default: varies per case)", 0,
     RCA_MAX_LEAVES, NULL},
    {0},
};
#undef F

int rca_gen_main(int argc, char **argv)
{
    struct gen_args a = {.cases = 200, .seed = 1, .profile = "default"};
    int nargs = 0, p = oc_cli_parse(&rca_cli[RCA_CLI_GEN], argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    int prof = rca_gen_profile_of(a.profile);
    if (!a.out || !*a.out) {
        fprintf(stderr, "oncue rca gen: --out DIR is required\n");
        return 2;
    }
    if (prof < 0 || prof == RCA_GEN_RISKLOC_H) {
        fprintf(stderr, "oncue rca gen: %s: %s\n", a.profile,
                prof < 0 ? "unknown profile" : "2,400,000 leaves, over the 100,000-leaf cap");
        return 2;
    }
    if (mkdir(a.out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "oncue rca gen: %s: %s\n", a.out, strerror(errno));
        return 1;
    }
    long written = 0;
    for (int i = 0; i < a.cases; i++) {
        int rc = gen_write(a.out, prof, a.seed, i, (int)a.leaves);
        if (rc < 0) {
            fprintf(stderr, "oncue rca gen: cannot write case %d in %s\n", i, a.out);
            return 1;
        }
        written += rc == 0;
    }
    printf("wrote %ld cases to %s\n", written, a.out);
    return 0;
}
