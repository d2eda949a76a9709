/*
 * gen.c - `oncue rca gen`: labelled synthetic cases in the "Root-cause input" CSV format.
 *
 * Each case draws a setting (additive or ratio measure, 1-3 attributes per element, 1-3
 * elements, low or high noise, 3-10 attributes), skewed value popularity so many leaves are
 * near-empty, a history with noise, seasonality, outliers and missing bins, then injects the
 * anomaly into the chosen disjoint elements at the last bin. Ratio cases add a decoy: a slice
 * whose viewers (and so its stalls) surge with an unchanged ratio. Writes case_NNNN.csv and
 * case_NNNN.truth (at, tags, one "cause attr=v&..." line per element).
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

static const char *const gen_attr_names[] = {"region", "cdn", "pop",    "isp",   "device",
                                             "os",     "drm", "player", "title", "country"};

struct rng {
    uint64_t s; /* xorshift64* state, never 0 */
};

static double rnd(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (double)((r->s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int rnd_int(struct rng *r, int lo, int hi)
{
    return lo + (int)(rnd(r) * (hi - lo + 1));
}

static double rnd_normal(struct rng *r)
{
    double u = rnd(r) + 1e-12, v = rnd(r);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static double rnd_poisson(struct rng *r, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 50)
        return fmax(0, round(mean + sqrt(mean) * rnd_normal(r)));
    double l = exp(-mean), p = 1;
    int k = 0;
    do {
        k++;
        p *= rnd(r);
    } while (p > l);
    return k - 1;
}

/* One generated case. */
struct gcase {
    int na, nvals[RCA_MAX_ATTRS];    /* attributes and values per attribute */
    int ratio, layer, n_el;          /* setting */
    double noise;                    /* multiplicative noise sd */
    int n_leaves;                    /* leaves */
    uint8_t *lv;                     /* n_leaves * na value indices */
    double *base;                    /* expected volume (additive) or viewers (ratio) */
    double *rate;                    /* ratio: stall probability */
    double *k_now;                   /* multiplier of the measure at the anomalous bin */
    double *t_now;                   /* ratio: multiplier of the total at the anomalous bin */
    int el_attr[3][3], el_val[3][3]; /* the injected elements */
    double el_k[3];                  /* their multipliers */
    int up;                          /* additive: the anomaly is a surge */
    double drift;                    /* global multiplier at the anomalous bin (trend) */
};

static int leaf_match(const struct gcase *c, int l, const int *attr, const int *val, int n)
{
    for (int i = 0; i < n; i++)
        if (c->lv[l * c->na + attr[i]] != val[i])
            return 0;
    return 1;
}

/* Draws a value index with popularity ~ 1/(rank+1). */
static int zipf(struct rng *r, int n)
{
    double h = 0, u;
    for (int i = 0; i < n; i++)
        h += 1.0 / (i + 1);
    u = rnd(r) * h;
    for (int i = 0; i < n; i++) {
        u -= 1.0 / (i + 1);
        if (u <= 0)
            return i;
    }
    return n - 1;
}

/* Draws distinct leaves (skewed popularity) and their base volumes. */
static void gen_leaves(struct gcase *c, struct rng *r, int want)
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
    double r0 = 0.01 + 0.03 * rnd(r);
    for (int l = 0; l < c->n_leaves; l++) {
        c->base[l] = scale * exp(1.3 * rnd_normal(r) - 0.8);
        c->rate[l] = fmin(0.5, r0 * exp(0.3 * rnd_normal(r)));
        c->k_now[l] = 1;
        c->t_now[l] = 1;
    }
}

/* Forecast mass of the leaves matching (attr, val, n) that are not yet taken. */
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

/* Picks n_el disjoint elements of `layer` attributes, each holding at most 40% of the measure
 * and enough that its change moves the total by at least 3%. */
static int gen_elements(struct gcase *c, struct rng *r, double total)
{
    uint8_t *taken = oc_calloc((size_t)c->n_leaves, 1);
    int got = 0;
    c->up = c->ratio || rnd(r) < 0.5;
    for (int e = 0; e < c->n_el; e++)
        c->el_k[e] = c->ratio ? 2 + 4 * rnd(r) : c->up ? 1.5 + 2.5 * rnd(r) : 0.1 + 0.5 * rnd(r);
    for (int tries = 0; tries < 4000 && got < c->n_el; tries++) {
        int *attr = c->el_attr[got], *val = c->el_val[got], clash;
        for (int i = 0; i < c->layer; i++) {
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
        double m = elem_mass(c, attr, val, c->layer, taken, &clash);
        double min = fmax(0.01, 0.03 / fabs(c->el_k[got] - 1));
        if (clash || m < min * total || m > 0.4 * total)
            continue;
        for (int l = 0; l < c->n_leaves; l++)
            if (leaf_match(c, l, attr, val, c->layer))
                taken[l] = 1;
        got++;
    }
    free(taken);
    return got == c->n_el ? 0 : -1;
}

/* Sets the multipliers of the anomalous bin. */
static void gen_inject(struct gcase *c, struct rng *r)
{
    for (int e = 0; e < c->n_el; e++) {
        double k = c->el_k[e];
        for (int l = 0; l < c->n_leaves; l++)
            if (leaf_match(c, l, c->el_attr[e], c->el_val[e], c->layer))
                c->k_now[l] = 1 + (k - 1) * exp((c->noise > 0.1 ? 0.4 : 0.1) * rnd_normal(r));
    }
    if (!c->ratio || rnd(r) < 0.4)
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

/* Writes one CSV row per leaf with a non-empty measure in bin b. */
static void write_bin(FILE *f, const struct gcase *c, struct rng *r, int b)
{
    double season = 1 + 0.05 * sin(2 * M_PI * b / 12.0);
    int now = b == GEN_BINS;
    for (int l = 0; l < c->n_leaves; l++) {
        double n = exp(c->noise * rnd_normal(r));
        if (!now && rnd(r) < 0.01)
            n *= 3; /* an outlier in the history */
        double v, t = 0;
        if (!c->ratio) {
            v = rnd_poisson(r, c->base[l] * season * n * (now ? c->k_now[l] * c->drift : 1));
            if (v == 0)
                continue;
        } else {
            t = rnd_poisson(r, c->base[l] * season * n * (now ? c->t_now[l] : 1));
            if (t == 0)
                continue;
            double p = c->rate[l] * (now ? c->k_now[l] * c->drift : 1);
            p *= exp(c->noise * rnd_normal(r));
            v = fmin(t, rnd_poisson(r, t * fmin(p, 1)));
        }
        fprintf(f, "%d", GEN_T0 + GEN_STEP * b);
        for (int a = 0; a < c->na; a++)
            fprintf(f, ",%s%d", gen_attr_names[a], c->lv[l * c->na + a]);
        if (c->ratio)
            fprintf(f, ",%.0f,%.0f\n", v, t);
        else
            fprintf(f, ",%.0f\n", v);
    }
}

static int pair_cmp(const void *x, const void *y)
{
    const int *a = x, *b = y; /* {attr, val} */
    int c = strcmp(gen_attr_names[a[0]], gen_attr_names[b[0]]);
    return c ? c : a[1] - b[1];
}

static void write_truth(FILE *f, const struct gcase *c, int leaves_tag)
{
    fprintf(f, "at %d\n", GEN_T0 + GEN_STEP * GEN_BINS);
    fprintf(f, "tags %s layer=%d elements=%d noise=%s leaves%s\n", c->ratio ? "ratio" : "additive",
            c->layer, c->n_el, c->noise > 0.1 ? "high" : "low",
            leaves_tag <= 1000   ? "<=1k"
            : leaves_tag <= 5000 ? "<=5k"
                                 : ">5k");
    for (int e = 0; e < c->n_el; e++) {
        int p[3][2];
        for (int i = 0; i < c->layer; i++) {
            p[i][0] = c->el_attr[e][i];
            p[i][1] = c->el_val[e][i];
        }
        qsort(p, (size_t)c->layer, sizeof(p[0]), pair_cmp);
        fprintf(f, "cause ");
        for (int i = 0; i < c->layer; i++)
            fprintf(f, "%s%s=%s%d", i ? "&" : "", gen_attr_names[p[i][0]], gen_attr_names[p[i][0]],
                    p[i][1]);
        fprintf(f, "\n");
    }
}

/* Draws case i's setting, leaves and elements; 0 or -1 when no elements fit. */
static int gen_case(struct gcase *c, struct rng *r, int i, int leaves)
{
    c->ratio = i % 2;
    c->layer = 1 + (i / 2) % 3;
    c->n_el = 1 + (i / 6) % 3;
    c->noise = (i / 18) % 2 ? 0.25 : 0.05;
    c->na = rnd_int(r, 3, 10);
    c->drift = 1 + (c->ratio ? 0.1 : 0.2) * (rnd(r) - 0.5);
    int want = leaves > 0 ? leaves : (int)exp(log(200) + rnd(r) * log(5000.0 / 200));
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

/* Writes case i into dir; 0 or -1 on an I/O error. */
static int gen_write(const char *dir, int i, struct gcase *c, struct rng *r, int leaves)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/case_%04d.csv", dir, i);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "ts");
    for (int a = 0; a < c->na; a++)
        fprintf(f, ",%s", gen_attr_names[a]);
    fprintf(f, c->ratio ? ",value,total\n" : ",value\n");
    int missing = rnd(r) < 0.3 ? rnd_int(r, 0, GEN_BINS - 1) : -1;
    for (int b = 0; b <= GEN_BINS; b++)
        if (b != missing)
            write_bin(f, c, r, b);
    int bad = fclose(f) != 0;
    snprintf(path, sizeof(path), "%s/case_%04d.truth", dir, i);
    f = fopen(path, "w");
    if (!f)
        return -1;
    write_truth(f, c, leaves > 0 ? leaves : c->n_leaves);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* What the command line of `oncue rca gen` says. */
struct gen_args {
    const char *out;          /* --out */
    long cases, seed, leaves; /* --cases, --seed, --leaves */
};

#define F(f) offsetof(struct gen_args, f)
const struct oc_opt rca_gen_opts[] = {
    {"--out", OC_OPT_STR, F(out), "DIR", "directory to write the cases into (required)", 0, 0,
     NULL},
    {"--cases", OC_OPT_LONG, F(cases), "N", "cases to write (default 200)", 0, 100000, NULL},
    {"--seed", OC_OPT_LONG, F(seed), "S", "random seed (default 1)", 0, LONG_MAX, NULL},
    {"--leaves", OC_OPT_LONG, F(leaves), "L", "leaves per case (default: varies per case)", 0,
     RCA_MAX_LEAVES, NULL},
    {0},
};
#undef F

int rca_gen_main(int argc, char **argv)
{
    struct gen_args a = {.cases = 200, .seed = 1};
    int nargs = 0, p = oc_cli_parse(&rca_cli[RCA_CLI_GEN], argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    const char *out = a.out;
    long long cases = a.cases, seed = a.seed, leaves = a.leaves;
    if (!out || !*out) {
        fprintf(stderr, "oncue rca gen: --out DIR is required\n");
        return 2;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "oncue rca gen: %s: %s\n", out, strerror(errno));
        return 1;
    }
    for (int i = 0; i < cases; i++) {
        struct gcase c = {0};
        struct rng r = {(uint64_t)seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 7919u + 1};
        int ok = -1;
        for (int tries = 0; tries < 20 && ok != 0; tries++) {
            gcase_free(&c);
            ok = gen_case(&c, &r, i, (int)leaves);
        }
        if (ok == 0 && gen_write(out, i, &c, &r, (int)leaves) != 0) {
            fprintf(stderr, "oncue rca gen: cannot write case %d in %s\n", i, out);
            gcase_free(&c);
            return 1;
        }
        gcase_free(&c);
    }
    printf("wrote %lld cases to %s\n", cases, out);
    return 0;
}
