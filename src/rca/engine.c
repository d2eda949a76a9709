/*
 * engine.c - localization: the smallest set of elements whose leaves explain the change.
 *
 * Each leaf has r (now), f (forecast) and w (1/variance). An element's fit is the best common
 * scale k = sum(w r f) / sum(w f^2) of its leaves (the ripple effect); its evidence is the
 * chi-square gain sum(w f^2) (k - 1)^2 of rescaling, and it is judged against the rest of the
 * leaves (gain of two scales over one). The search is greedy: the best element by evidence
 * minus a per-attribute penalty, then rolled up to a parent when the parent's other leaves
 * deviate too, then drilled down when one attribute splits it into deviating and clearly
 * normal children; its leaves are then explained and the search repeats. See
 * docs/internals/rca.md.
 */
#include "rca/rca_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ENG_REST_MAX    0.7  /* the rest may deviate at most this share of an element's deviation */
#define ENG_OWN_MIN     0.3  /* an element's own deviation is at least this share of its contrast */
#define ENG_NORMAL_MAX  0.25 /* a "clearly normal" part deviates under this share of the rest */
#define ENG_DEV_MIN     0.5  /* a deviating child deviates at least this share of its parent */
#define ENG_MIN_SUPPORT 5.0  /* excess (in counts) an element must carry: one thin leaf is noise */
#define ENG_PROMISING   16   /* layer-1 values combined into layer-2 and layer-3 candidates */
#define ENG_POOLED_MIN  6.63 /* pooled chi-square a split needs (1 degree of freedom, p < 0.01) */
#define ENG_SIDE_SHARE  0.1  /* a further cause carries this share of the change, */
#define ENG_SIDE_EFFECT 0.2  /* or deviates at least this much as the first cause */
#define ENG_MOST        0.5  /* a lone first candidate with this share of the change is asserted */
#define ENG_DISP_SAMPLE 2000 /* leaves sampled for the dispersion */
#define ENG_POOL        8 /* first-round candidates the set is chosen from, besides the greedy's */

struct agg {
    double R, F; /* sums of r and f */
    double Srf;  /* sum of w r f */
    double Sff;  /* sum of w f f */
};

/* A scored candidate while searching. */
struct scored {
    struct rca_elem e;
    double net; /* contrast minus penalty */
};

struct eng {
    const struct rca_data *d;
    const struct rca_opts *o;
    const struct rca_obs *ob;
    size_t n;             /* leaves */
    int na;               /* attributes */
    unsigned char *live;  /* 1 while the leaf is not explained by an asserted element */
    double dir;           /* +1: the measure went up, -1: down */
    double excess;        /* dir * (R - F) over all leaves */
    double sig;           /* dir * (r - f) over the leaves beyond noise in the direction */
    double phi;           /* dispersion: how much the noise exceeds the variance model, >= 1 */
    double base_live;     /* share_base over the leaves not yet explained (min_share's base) */
    struct scored *cands; /* candidates of the first round, with their net evidence */
    int n_cands;
    size_t cap_cands;
};

static void agg_add(struct agg *a, const struct rca_obs *ob, size_t l)
{
    double f = ob->f[l], r = ob->r[l], w = ob->w[l];
    a->R += r;
    a->F += f;
    a->Srf += w * r * f;
    a->Sff += w * f * f;
}

static struct agg agg_minus(struct agg a, struct agg b)
{
    return (struct agg){a.R - b.R, a.F - b.F, a.Srf - b.Srf, a.Sff - b.Sff};
}

/* The common scale of the leaves in a (1 when there is no forecast mass). */
static double kval(struct agg a)
{
    return a.Sff > 1e-12 ? a.Srf / a.Sff : 1.0;
}

/* Chi-square gain of rescaling a's leaves by kval(a) instead of k0. */
static double gain_vs(struct agg a, double k0)
{
    if (a.Sff <= 1e-12)
        return 0;
    double k = a.Srf / a.Sff;
    return a.Sff * (k - k0) * (k - k0);
}

static int leaf_in(const struct eng *g, const struct rca_elem *e, size_t l)
{
    const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
    for (int i = 0; i < e->n; i++)
        if (v[e->attr[i]] != e->val[i])
            return 0;
    return 1;
}

/* Sums over the live leaves of e. */
static struct agg agg_elem(const struct eng *g, const struct rca_elem *e)
{
    struct agg a = {0};
    for (size_t l = 0; l < g->n; l++)
        if (g->live[l] && leaf_in(g, e, l))
            agg_add(&a, g->ob, l);
    return a;
}

/* Evidence that e's leaves deviate while the rest of universe u do not: the gain of two
 * scales (e, rest) over one, or 0 when e deviates less than the rest in the anomaly's
 * direction, the rest deviates more than ENG_REST_MAX as much as e, or e hardly deviates
 * from its own forecast (it only looks high because the rest fell). */
static double contrast(const struct eng *g, struct agg e, struct agg u)
{
    struct agg rest = agg_minus(u, e);
    if (rest.Sff <= 1e-9 * u.Sff)
        return 0; /* e is (nearly) everything still unexplained: that is no localization */
    double ke = kval(e), kr = kval(rest);
    if (g->dir * (ke - kr) <= 0 || g->dir * (kr - 1) > ENG_REST_MAX * g->dir * (ke - 1) ||
        g->dir * (ke - 1) < ENG_OWN_MIN * g->dir * (ke - kr))
        return 0;
    double ku = kval(u);
    double c = gain_vs(e, ku) + gain_vs(rest, ku);
    return c > 0 ? c : 0;
}

/* The change min_share is a share of: the total excess, or when smaller the excess of the
 * leaves that deviate beyond noise (a chi-square over 2 ln(leaves) + 4, at least 9: about 5%
 * of false leaves over the whole data set, whatever its size). Where thousands of leaves carry
 * forecast error, the net total is mostly that error and a fault of single leaves would be a
 * small share of it. */
static double share_base(const struct eng *g)
{
    return g->sig > 0 && g->sig < g->excess ? g->sig : g->excess;
}

/* The excess dir * (R - F) (its magnitude when against dir) and the excess of the leaves
 * beyond noise in direction d, over every leaf or only the live ones. */
static void excess_in(const struct eng *g, double d, int live_only, double *excess, double *sig)
{
    double R = 0, F = 0, s = 0, line = 2 * log((double)g->n + 1) + 4;
    for (size_t l = 0; l < g->n; l++) {
        if (live_only && !g->live[l])
            continue;
        double r = g->ob->r[l], f = g->ob->f[l], x = d * (r - f);
        R += r;
        F += f;
        if (x > 0 && g->ob->w[l] * x * x > (line > 9 ? line : 9))
            s += x;
    }
    *excess = d * (R - F) > 0 ? d * (R - F) : fabs(R - F);
    *sig = s;
}

/* Sets the direction d and the excess and significant excess in it. */
static void set_dir(struct eng *g, double d)
{
    g->dir = d;
    excess_in(g, d, 0, &g->excess, &g->sig);
}

/* share_base over the leaves not yet explained (at most share_base): once the first causes
 * explain their leaves, a further element carries min_share of what is left to explain. A
 * fault of single leaves beside a slice holding a fifth of the data (RiskLoc's S: a leaf of
 * 100 next to 480,000 of excess) is otherwise never a candidate. */
static double live_base(const struct eng *g)
{
    double ex, sig;
    excess_in(g, g->dir, 1, &ex, &sig);
    double b = sig > 0 && sig < ex ? sig : ex, all = share_base(g);
    return b < all ? b : all;
}

/* Excess an asserted element carries at least: ENG_MIN_SUPPORT counts, nothing for amounts. */
static double support(const struct eng *g)
{
    return g->ob->counts ? ENG_MIN_SUPPORT : 0;
}

/* Fills e's score (the share of the total excess its leaves carry) and sums from a (its
 * aggregate); c (its contrast) ranks candidates elsewhere. */
static void elem_fill(const struct eng *g, struct rca_elem *e, struct agg a, double c)
{
    (void)c;
    e->score = g->excess > 0 ? g->dir * (a.R - a.F) / g->excess : 0;
    e->score = e->score < 0 ? 0 : e->score > 1 ? 1 : e->score;
    e->real = a.R;
    e->expected = a.F;
}

static void elem_sort(struct rca_elem *e)
{
    for (int i = 1; i < e->n; i++)
        for (int j = i; j > 0 && e->attr[j - 1] > e->attr[j]; j--) {
            int ta = e->attr[j];
            uint32_t tv = e->val[j];
            e->attr[j] = e->attr[j - 1];
            e->val[j] = e->val[j - 1];
            e->attr[j - 1] = ta;
            e->val[j - 1] = tv;
        }
}

static double net_of(const struct eng *g, const struct rca_elem *e, double contrast_gain)
{
    return contrast_gain - g->o->penalty * (1 + 0.5 * (e->n - 1));
}

static void cand_push(struct eng *g, const struct rca_elem *e, double net)
{
    g->cands = oc_grow(g->cands, &g->cap_cands, (size_t)g->n_cands + 1, sizeof(*g->cands));
    g->cands[g->n_cands++] = (struct scored){*e, net};
}

/* Considers element e with aggregate a: records it as a candidate in the first round and
 * keeps it in *best when it beats it. */
static void consider(struct eng *g, struct rca_elem e, struct agg a, struct agg u, int first,
                     struct scored *best)
{
    double c = contrast(g, a, u);
    double ex = g->dir * (a.R - a.F);
    /* amounts always count min_share against what is left to explain (live_share); counts
     * only with the option, since a small audience's remainder is mostly Poisson noise */
    int live = g->o->live_share || !g->ob->counts;
    if (c <= 0 || ex < g->o->min_share * (live ? g->base_live : share_base(g)) || ex < support(g))
        return;
    elem_sort(&e);
    elem_fill(g, &e, a, c);
    double net = net_of(g, &e, c);
    if (first)
        cand_push(g, &e, net);
    if (net > best->net) {
        best->e = e;
        best->net = net;
    }
}

/* Offsets of each attribute's values in a flat per-value array; returns the total. */
static size_t value_offsets(const struct eng *g, size_t *off)
{
    size_t total = 0;
    for (int a = 0; a < g->na; a++) {
        off[a] = total;
        total += g->d->dict[a].n;
    }
    return total;
}

static struct agg agg_live(const struct eng *g)
{
    struct agg u = {0};
    for (size_t l = 0; l < g->n; l++)
        if (g->live[l])
            agg_add(&u, g->ob, l);
    return u;
}

/* Index of the weakest entry of top[0..n-1] by contrast. */
static int weakest(const double *c, int n)
{
    int w = 0;
    for (int i = 1; i < n; i++)
        if (c[i] < c[w])
            w = i;
    return w;
}

/* Layer 1: every attr=value. Keeps the ENG_PROMISING values with the most contrast in pa/pv;
 * returns how many. */
static int search_layer1(struct eng *g, struct agg u, int first, struct scored *best, int *pa,
                         uint32_t *pv)
{
    size_t off[RCA_MAX_ATTRS], nv = value_offsets(g, off);
    struct agg *a1 = oc_calloc(nv ? nv : 1, sizeof(*a1));
    double pc[ENG_PROMISING];
    int np = 0;
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l])
            continue;
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        for (int a = 0; a < g->na; a++)
            agg_add(&a1[off[a] + v[a]], g->ob, l);
    }
    for (int a = 0; a < g->na; a++)
        for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
            struct agg ag = a1[off[a] + v];
            struct rca_elem e = {.n = 1, .attr = {a}, .val = {v}};
            consider(g, e, ag, u, first, best);
            double c = contrast(g, ag, u);
            if (c <= 0)
                continue;
            int fresh = np < ENG_PROMISING;
            int slot = fresh ? np++ : weakest(pc, np);
            if (fresh || c > pc[slot]) {
                pc[slot] = c;
                pa[slot] = a;
                pv[slot] = v;
            }
        }
    free(a1);
    return np;
}

/* Aggregates of combinations of promising values, keyed by the bit mask of the values (open
 * addressing; a key has at least two bits, so 0 marks an empty slot). */
struct combo_map {
    uint32_t *key;
    struct agg *a;
    size_t cap, used; /* slots (a power of two), keys stored */
};

static struct agg *combo_slot(struct combo_map *m, uint32_t key)
{
    if (2 * (m->used + 1) > m->cap) {
        struct combo_map big = {oc_calloc(m->cap * 2, sizeof(uint32_t)),
                                oc_calloc(m->cap * 2, sizeof(struct agg)), m->cap * 2, 0};
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i])
                *combo_slot(&big, m->key[i]) = m->a[i];
        free(m->key);
        free(m->a);
        *m = big;
    }
    size_t i = (key * 2654435761u) & (m->cap - 1);
    while (m->key[i] && m->key[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->key[i]) {
        m->key[i] = key;
        m->used++;
    }
    return &m->a[i];
}

/* Adds leaf l to every combination of 2..depth of the promising values in[0..k). */
static void combo_add(struct combo_map *m, const struct rca_obs *ob, size_t l, const int *in, int k,
                      int depth, int from, uint32_t mask, int bits)
{
    for (int i = from; i < k; i++) {
        uint32_t mk = mask | (1u << in[i]);
        if (bits + 1 >= 2)
            agg_add(combo_slot(m, mk), ob, l);
        if (bits + 1 < depth)
            combo_add(m, ob, l, in, k, depth, i + 1, mk, bits + 1);
    }
}

/* Layers 2 to 3, or to RCA_MAX_DEPTH - 1 when the leaves have at most RCA_MAX_DEPTH
 * attributes: combinations of the promising values (distinct attributes, as a leaf carries
 * one value per attribute). */
static void search_combos(struct eng *g, struct agg u, int first, struct scored *best,
                          const int *pa, const uint32_t *pv, int np)
{
    struct combo_map m = {oc_calloc(1024, sizeof(uint32_t)), oc_calloc(1024, sizeof(struct agg)),
                          1024, 0};
    /* Up to the layer under the leaves when leaves are candidates themselves (at most
     * RCA_MAX_DEPTH attributes); 3 attributes in wider data, where deeper elements cost much
     * and explain little. */
    int depth = g->na <= RCA_MAX_DEPTH ? g->na - 1 : 3;
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l])
            continue;
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        int in[ENG_PROMISING], k = 0;
        for (int i = 0; i < np; i++)
            if (v[pa[i]] == pv[i])
                in[k++] = i;
        combo_add(&m, g->ob, l, in, k, depth, 0, 0, 0);
    }
    for (size_t s = 0; s < m.cap; s++) {
        if (!m.key[s])
            continue;
        struct rca_elem e = {0};
        for (int i = 0; i < np; i++)
            if (m.key[s] & (1u << i)) {
                e.attr[e.n] = pa[i];
                e.val[e.n++] = pv[i];
            }
        consider(g, e, m.a[s], u, first, best);
    }
    free(m.key);
    free(m.a);
}

/* The deepest layer when the leaves themselves are elements (no more than RCA_MAX_DEPTH
 * attributes): every leaf is a candidate, so a fault of single leaves is found even when
 * none of its values stands out among the promising ones. */
static void search_leaves(struct eng *g, struct agg u, int first, struct scored *best)
{
    if (g->na > RCA_MAX_DEPTH || g->na < 2)
        return;
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l])
            continue;
        struct agg a = {0};
        agg_add(&a, g->ob, l);
        if (g->dir * (a.R - a.F) < support(g))
            continue;
        struct rca_elem e = {.n = g->na};
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        for (int i = 0; i < g->na; i++) {
            e.attr[i] = i;
            e.val[i] = v[i];
        }
        consider(g, e, a, u, first, best);
    }
}

/* Pearson chi-square of dev and norm against their pooled scale R / F, with the variance a
 * count has under it (its expectation). The weighted gain uses the forecast's variance, which
 * overstates a split of thin counts: 4 failures among 14 starts, 3 of them in NA, look like
 * "NA fails, EMEA is clearly normal" when the pooled rate explains both. */
static double pooled_chi2(struct agg dev, struct agg norm)
{
    double F = dev.F + norm.F, R = dev.R + norm.R, c = 0;
    if (F <= 0 || R <= 0)
        return 0;
    double k = R / F, ed = k * dev.F, en = k * norm.F;
    c += ed > 0 ? (dev.R - ed) * (dev.R - ed) / ed : 0;
    c += en > 0 ? (norm.R - en) * (norm.R - en) / en : 0;
    return c;
}

/* A part of a parent is "clearly normal" next to a deviating part when it holds enough of
 * the parent's forecast, deviates less than ENG_NORMAL_MAX as much, and the split is
 * significant, by the weighted gain and against the pooled counts. */
static int clearly_normal(const struct eng *g, struct agg dev, struct agg norm, double k0,
                          double penalty)
{
    struct agg whole = {dev.R + norm.R, dev.F + norm.F, dev.Srf + norm.Srf, dev.Sff + norm.Sff};
    double dd = g->dir * (kval(dev) - k0), dn = g->dir * (kval(norm) - k0);
    if (whole.F <= 0 || norm.F < g->o->split_mass * whole.F || dd <= 0)
        return 0;
    double kw = kval(whole);
    return dn < ENG_NORMAL_MAX * dd && gain_vs(dev, kw) + gain_vs(norm, kw) > penalty &&
           pooled_chi2(dev, norm) > ENG_POOLED_MIN;
}

static struct rca_elem elem_drop(const struct rca_elem *e, int i)
{
    struct rca_elem p = {0};
    for (int j = 0; j < e->n; j++)
        if (j != i) {
            p.attr[p.n] = e->attr[j];
            p.val[p.n++] = e->val[j];
        }
    return p;
}

/* Replaces e by a parent while the parent's other leaves are not clearly normal. */
static struct rca_elem roll_up(const struct eng *g, struct rca_elem e, struct agg u)
{
    while (e.n > 1) {
        struct agg ae = agg_elem(g, &e);
        int pick = -1;
        double pick_c = -1;
        for (int i = 0; i < e.n; i++) {
            struct rca_elem p = elem_drop(&e, i);
            struct agg ap = agg_elem(g, &p);
            double k0 = kval(agg_minus(u, ap));
            if (clearly_normal(g, ae, agg_minus(ap, ae), k0, g->o->penalty))
                continue;
            double c = contrast(g, ap, u);
            if (c > pick_c) {
                pick_c = c;
                pick = i;
            }
        }
        if (pick < 0 || pick_c <= 0)
            break;
        e = elem_drop(&e, pick);
    }
    return e;
}

static int elem_has_attr(const struct rca_elem *e, int a)
{
    for (int i = 0; i < e->n; i++)
        if (e->attr[i] == a)
            return 1;
    return 0;
}

/* A child deviates with its parent (scale k0 outside, parent deviation de) when it deviates
 * at least ENG_DEV_MIN as much, significantly, and carries ENG_MIN_SUPPORT of excess itself,
 * as every asserted element must: a title with 2 of a bad build's failures is not a cause. */
static int child_deviates(const struct eng *g, struct agg c, double k0, double de)
{
    return g->dir * (kval(c) - k0) >= ENG_DEV_MIN * de && gain_vs(c, k0) > g->o->penalty &&
           g->dir * (c.R - c.F) >= support(g);
}

/* Picks the attribute that splits e into deviating children and a clearly normal rest;
 * fills dev[] with the deviating children and returns how many (0: keep e). */
static int best_split(const struct eng *g, const struct rca_elem *e, struct agg u,
                      struct rca_elem *dev, int max)
{
    size_t off[RCA_MAX_ATTRS], nv = value_offsets(g, off);
    struct agg *ch = oc_calloc(nv ? nv : 1, sizeof(*ch)), ae = {0};
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l] || !leaf_in(g, e, l))
            continue;
        agg_add(&ae, g->ob, l);
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        for (int a = 0; a < g->na; a++)
            agg_add(&ch[off[a] + v[a]], g->ob, l);
    }
    double k0 = kval(agg_minus(u, ae)), de = g->dir * (kval(ae) - k0), best = 0;
    int n_best = 0;
    for (int a = 0; a < g->na && de > 0; a++) {
        if (elem_has_attr(e, a))
            continue;
        struct agg D = {0}, N = {0};
        int nd = 0;
        for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
            struct agg c = ch[off[a] + v];
            int is_dev = child_deviates(g, c, k0, de);
            struct agg *into = is_dev ? &D : &N;
            *into =
                (struct agg){into->R + c.R, into->F + c.F, into->Srf + c.Srf, into->Sff + c.Sff};
            nd += is_dev;
        }
        if (nd == 0 || nd > max || !clearly_normal(g, D, N, k0, g->o->penalty * nd))
            continue;
        double kw = kval(ae), sg = gain_vs(D, kw) + gain_vs(N, kw);
        if (sg <= best)
            continue;
        best = sg;
        n_best = 0;
        for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
            struct agg c = ch[off[a] + v];
            if (child_deviates(g, c, k0, de)) {
                dev[n_best] = *e;
                dev[n_best].attr[e->n] = a;
                dev[n_best].val[e->n] = v;
                dev[n_best].n = e->n + 1;
                elem_sort(&dev[n_best++]);
            }
        }
    }
    free(ch);
    return n_best;
}

/* Appends e, or the deviating children it splits into (recursively), to out[*n]. */
static void drill_down(const struct eng *g, struct rca_elem e, struct agg u, struct rca_elem *out,
                       int *n, int max)
{
    struct rca_elem kids[RCA_MAX_CAUSES];
    int nk = e.n < RCA_MAX_DEPTH ? best_split(g, &e, u, kids, max - *n) : 0;
    if (nk == 0) {
        if (*n < max)
            out[(*n)++] = e;
        return;
    }
    for (int i = 0; i < nk; i++)
        drill_down(g, kids[i], u, out, n, max);
}

/* Drops pairs that do not narrow e's leaves (pop=FRA&region=EMEA is pop=FRA when every FRA
 * leaf is in EMEA), counting all leaves, explained or not. */
static struct rca_elem simplify(const struct eng *g, struct rca_elem e)
{
    for (int i = 0; i < e.n && e.n > 1;) {
        struct rca_elem p = elem_drop(&e, i);
        size_t ne = 0, np = 0;
        for (size_t l = 0; l < g->n; l++)
            if (leaf_in(g, &p, l)) {
                np++;
                ne += (size_t)leaf_in(g, &e, l);
            }
        if (np == ne)
            e = p;
        else
            i++;
    }
    return e;
}

/* Asserts e: fills its score, appends it to r and marks its leaves explained. */
static int assert_elem(struct eng *g, struct rca_elem e, struct agg u, struct rca_result *r)
{
    struct agg ae = agg_elem(g, &e);
    if (ae.F == 0 && ae.R == 0)
        return 0;
    elem_fill(g, &e, ae, gain_vs(ae, kval(agg_minus(u, ae))));
    r->causes[r->n_causes++] = e;
    for (size_t l = 0; l < g->n; l++)
        if (g->live[l] && leaf_in(g, &e, l))
            g->live[l] = 0;
    return 1;
}
/* One search over the live leaves: the best element, rolled up and drilled down, into
 * list[*n] (at most max). Returns 0 when no element is worth asserting. */
static int next_step(struct eng *g, int first, struct rca_elem *list, int *n, int max)
{
    struct agg u = agg_live(g);
    g->base_live = live_base(g);
    struct scored best = {.net = 0};
    int pa[ENG_PROMISING];
    uint32_t pv[ENG_PROMISING];
    int np = search_layer1(g, u, first, &best, pa, pv);
    search_combos(g, u, first, &best, pa, pv, np);
    search_leaves(g, u, first, &best);
    *n = 0;
    if (best.net <= 0)
        return 0;
    drill_down(g, roll_up(g, best.e, u), u, list, n, max);
    for (int i = 0; i < *n; i++)
        list[i] = simplify(g, list[i]);
    return *n > 0;
}

static void live_except(struct eng *g, const struct rca_result *r, int skip)
{
    memset(g->live, 1, g->n);
    for (int i = 0; i < r->n_causes; i++)
        if (i != skip)
            for (size_t l = 0; l < g->n; l++)
                if (leaf_in(g, &r->causes[i], l))
                    g->live[l] = 0;
}

/* Backfitting: each cause is searched for again with the others fixed; it is dropped when
 * nothing is worth asserting any more, or replaced by the single element found. */
static void backfit(struct eng *g, struct rca_result *r)
{
    for (int i = 0; i < r->n_causes && r->n_causes > 1;) {
        struct rca_elem list[RCA_MAX_CAUSES];
        int n;
        live_except(g, r, i);
        struct agg u = agg_live(g);
        if (!next_step(g, 0, list, &n, RCA_MAX_CAUSES)) {
            memmove(&r->causes[i], &r->causes[i + 1],
                    (size_t)(r->n_causes - i - 1) * sizeof(r->causes[0]));
            r->n_causes--;
            continue;
        }
        if (n == 1) {
            struct agg a = agg_elem(g, &list[0]);
            elem_fill(g, &list[0], a, gain_vs(a, kval(agg_minus(u, a))));
            r->causes[i] = list[0];
        }
        i++;
    }
}

/* The best net evidence of one search in the current direction. */
static double best_net(struct eng *g)
{
    struct agg u = agg_live(g);
    g->base_live = live_base(g);
    struct scored best = {.net = 0};
    int pa[ENG_PROMISING];
    uint32_t pv[ENG_PROMISING];
    int np = search_layer1(g, u, 0, &best, pa, pv);
    search_combos(g, u, 0, &best, pa, pv, np);
    search_leaves(g, u, 0, &best);
    return best.net;
}

/* The anomaly's direction is the one whose best element has more evidence: the total alone
 * misleads when a drift elsewhere outweighs a sharp local drop. */
static void choose_direction(struct eng *g)
{
    double dir0 = g->dir;
    double here = best_net(g);
    set_dir(g, -dir0);
    if (best_net(g) > here)
        return;
    set_dir(g, dir0);
}

/* ---- The set-level decision ------------------------------------------------------------
 * The greedy rounds propose; the asserted set is chosen once, by one objective: the
 * partition gain of the set (one scale per element, one for the rest, against one for all)
 * divided by the dispersion, minus the penalty of each element. A parent beats its children
 * when they deviate alike (same gain, fewer elements); a child beats its parent when the
 * siblings are normal (the split gain exceeds the child's extra penalty). */

static int elem_same(const struct rca_elem *a, const struct rca_elem *b);
static int by_net(const void *x, const void *y);

static double q_of(struct agg a)
{
    return a.Sff > 1e-12 ? a.Srf * a.Srf / a.Sff : 0;
}

static struct agg agg_plus(struct agg a, struct agg b)
{
    return (struct agg){a.R + b.R, a.F + b.F, a.Srf + b.Srf, a.Sff + b.Sff};
}

static double pen_of(const struct eng *g, const struct rca_elem *e)
{
    return g->o->penalty * (1 + 0.5 * (e->n - 1));
}

/* Two elements can share leaves unless they name different values of one attribute. */
static int may_overlap(const struct rca_elem *a, const struct rca_elem *b)
{
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (a->attr[i] == b->attr[j] && a->val[i] != b->val[j])
                return 0;
    return 1;
}

/* The set being chosen: elements, their aggregates (leaves go to the first element holding
 * them), the rest, and each leaf's owner (-1: the rest). */
struct choice {
    int n;
    struct rca_elem e[RCA_MAX_CAUSES];
    double rank[RCA_MAX_CAUSES]; /* order of report: the pool's order, children in their parent's */
    struct agg part[RCA_MAX_CAUSES];
    struct agg rest;
    int *owner;
};

static double choice_obj(const struct eng *g, const struct choice *c)
{
    double q = q_of(c->rest), pen = 0;
    for (int i = 0; i < c->n; i++) {
        q += q_of(c->part[i]);
        pen += pen_of(g, &c->e[i]);
    }
    struct agg all = c->rest;
    for (int i = 0; i < c->n; i++)
        all = agg_plus(all, c->part[i]);
    return (q - q_of(all)) / g->phi - pen;
}

/* An element is worth its place when it deviates in the anomaly's direction, more than the
 * rest does, and carries the support every cause needs. */
static int part_valid(const struct eng *g, struct agg a, struct agg rest)
{
    double kr = kval(rest);
    return g->dir * (kval(a) - kr) > 0 && g->dir * (kval(a) - 1) > 0 &&
           g->dir * (a.R - a.F) >= support(g) && g->dir * (a.R - a.F) > 0;
}

/* Aggregate of the leaves of e still owned by the rest. */
static struct agg agg_free(const struct eng *g, const struct choice *c, const struct rca_elem *e)
{
    struct agg a = {0};
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] < 0 && leaf_in(g, e, l))
            agg_add(&a, g->ob, l);
    return a;
}

static void choice_add(const struct eng *g, struct choice *c, const struct rca_elem *e, double rank)
{
    int k = c->n++;
    c->e[k] = *e;
    c->rank[k] = rank;
    c->part[k] = (struct agg){0};
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] < 0 && leaf_in(g, e, l)) {
            c->owner[l] = k;
            agg_add(&c->part[k], g->ob, l);
        }
    c->rest = agg_minus(c->rest, c->part[k]);
}

/* Removes element k, its leaves going back to the rest. */
static void choice_remove(const struct eng *g, struct choice *c, int k)
{
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] == k)
            c->owner[l] = -1;
        else if (c->owner[l] > k)
            c->owner[l]--;
    c->rest = agg_plus(c->rest, c->part[k]);
    memmove(&c->e[k], &c->e[k + 1], (size_t)(c->n - k - 1) * sizeof(c->e[0]));
    memmove(&c->part[k], &c->part[k + 1], (size_t)(c->n - k - 1) * sizeof(c->part[0]));
    memmove(&c->rank[k], &c->rank[k + 1], (size_t)(c->n - k - 1) * sizeof(c->rank[0]));
    c->n--;
}

/* A further element must carry a fair share of the change or deviate comparably to the first:
 * several weak slices beside a strong cause are noise, not causes. */
static int side_ok(const struct eng *g, const struct choice *c, struct agg a)
{
    if (c->n == 0)
        return 1;
    double share = g->dir * (a.R - a.F) / (g->excess > 0 ? g->excess : 1);
    double kr = kval(c->rest), top = g->dir * (kval(c->part[0]) - kr);
    return share >= ENG_SIDE_SHARE || g->dir * (kval(a) - kr) >= ENG_SIDE_EFFECT * top;
}

/* Objective gain of adding e (its free leaves a) to c. */
static double add_delta(const struct eng *g, const struct choice *c, const struct rca_elem *e,
                        struct agg a)
{
    struct agg rest = agg_minus(c->rest, a);
    double dq = q_of(a) + q_of(rest) - q_of(c->rest);
    return dq / g->phi - pen_of(g, e);
}

/* Greedy over the pool by the objective: the best addition while it pays. */
static void choose_from_pool(const struct eng *g, struct choice *c, const struct rca_elem *pool,
                             int np, int max)
{
    while (c->n < max) {
        int pick = -1;
        double best = 0;
        struct rca_elem pe;
        for (int i = 0; i < np; i++) {
            int clash = 0;
            for (int j = 0; j < c->n && !clash; j++)
                clash = may_overlap(&pool[i], &c->e[j]);
            if (clash)
                continue;
            struct agg a = agg_free(g, c, &pool[i]);
            if (!part_valid(g, a, agg_minus(c->rest, a)) || !side_ok(g, c, a))
                continue;
            double d = add_delta(g, c, &pool[i], a);
            if (d > best) {
                best = d;
                pick = i;
            }
        }
        if (pick < 0)
            break;
        pe = pool[pick];
        choice_add(g, c, &pe, pick);
    }
}

/* Replaces element k of c by alt[0..na) (one trial); returns the new objective, or -INFINITY
 * when an element of the trial is not valid. c is left unchanged. */
static double trial(const struct eng *g, const struct choice *c, int k, const struct rca_elem *alt,
                    int na, struct choice *t)
{
    double rank = c->rank[k];
    t->n = c->n;
    memcpy(t->e, c->e, sizeof(c->e));
    memcpy(t->part, c->part, sizeof(c->part));
    memcpy(t->rank, c->rank, sizeof(c->rank));
    t->rest = c->rest;
    memcpy(t->owner, c->owner, g->n * sizeof(int));
    choice_remove(g, t, k);
    for (int i = 0; i < na; i++) {
        if (t->n == RCA_MAX_CAUSES)
            return -INFINITY;
        choice_add(g, t, &alt[i], rank + 0.01 * i);
    }
    for (int i = 0; i < t->n; i++)
        if (!part_valid(g, t->part[i], t->rest))
            return -INFINITY;
    return choice_obj(g, t);
}

/* Children of element k of c along attribute a that deviate at least ENG_DEV_MIN as much as
 * it does, significantly: into kids (at most max); returns how many, 0 when none or all do
 * (all children alike is the parent). dev/norm get the two parts' aggregates. */
static int deviating_kids(const struct eng *g, const struct choice *c, int k, int a,
                          const struct agg *ch, struct rca_elem *kids, int max, struct agg *dev,
                          struct agg *norm)
{
    const struct rca_elem *e = &c->e[k];
    double kr = kval(c->rest), de = g->dir * (kval(c->part[k]) - kr);
    int nk = 0, nonempty = 0;
    *dev = *norm = (struct agg){0};
    for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
        struct agg x = ch[v];
        if (x.F <= 0 && x.R <= 0)
            continue;
        nonempty++;
        int is_dev = g->dir * (kval(x) - kr) >= ENG_DEV_MIN * de &&
                     gain_vs(x, kr) / g->phi > g->o->penalty &&
                     g->dir * (x.R - x.F) >= support(g) && g->dir * (x.R - x.F) > 0;
        if (!is_dev) {
            *norm = agg_plus(*norm, x);
            continue;
        }
        *dev = agg_plus(*dev, x);
        if (nk == max)
            return 0;
        kids[nk] = *e;
        kids[nk].attr[e->n] = a;
        kids[nk].val[e->n] = v;
        kids[nk].n = e->n + 1;
        elem_sort(&kids[nk++]);
    }
    return nk < nonempty ? nk : 0;
}

/* The parents and the deviating children of element k; keeps the best of them and k by the
 * objective. Counts: a split is kept only when the pooled chi-square also holds it (thin
 * counts overstate it). Returns 1 when k was replaced. */
static int refine(const struct eng *g, struct choice *c, int k, struct choice *t)
{
    struct rca_elem cur = c->e[k], best[3];
    int nb = 0;
    double obj = choice_obj(g, c);
    for (int i = 0; i < cur.n && cur.n > 1; i++) {
        struct rca_elem p = elem_drop(&cur, i);
        int clash = 0;
        for (int j = 0; j < c->n && !clash; j++)
            clash = j != k && may_overlap(&p, &c->e[j]);
        if (clash)
            continue;
        struct agg sib = agg_free(g, c, &p);
        double o = trial(g, c, k, &p, 1, t);
        int thin = g->ob->counts && pooled_chi2(c->part[k], sib) <= ENG_POOLED_MIN;
        if (o > obj || (thin && o > -INFINITY)) {
            obj = o > obj ? o : obj;
            best[0] = p;
            nb = 1;
        }
    }
    if (cur.n < RCA_MAX_DEPTH && nb == 0) {
        size_t off[RCA_MAX_ATTRS], nv = value_offsets(g, off);
        struct agg *ch = oc_calloc(nv ? nv : 1, sizeof(*ch));
        for (size_t l = 0; l < g->n; l++) {
            if (c->owner[l] != k)
                continue;
            const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
            for (int a = 0; a < g->na; a++)
                agg_add(&ch[off[a] + v[a]], g->ob, l);
        }
        for (int a = 0; a < g->na; a++) {
            struct rca_elem kids[3];
            struct agg dev, norm;
            if (elem_has_attr(&cur, a))
                continue;
            int nk = deviating_kids(g, c, k, a, ch + off[a], kids, 3, &dev, &norm);
            double kr = kval(c->rest);
            if (nk == 0 || (g->ob->counts && pooled_chi2(dev, norm) <= ENG_POOLED_MIN) ||
                g->dir * (kval(norm) - kr) >= ENG_NORMAL_MAX * g->dir * (kval(dev) - kr))
                continue; /* the other children must be clearly normal, not just less hit */
            double o = trial(g, c, k, kids, nk, t);
            if (o > obj) {
                obj = o;
                memcpy(best, kids, sizeof(kids[0]) * (size_t)nk);
                nb = nk;
            }
        }
        free(ch);
    }
    if (nb == 0)
        return 0;
    trial(g, c, k, best, nb, t);
    c->n = t->n;
    memcpy(c->e, t->e, sizeof(c->e));
    memcpy(c->part, t->part, sizeof(c->part));
    memcpy(c->rank, t->rank, sizeof(c->rank));
    c->rest = t->rest;
    memcpy(c->owner, t->owner, g->n * sizeof(int));
    return 1;
}

/* The asserted set, chosen once from the greedy's causes and the first round's best
 * candidates: additions by the objective, the first candidate alone when it carries most of
 * the change, then the granularity of each element (parent or children) by the objective. */
static void choose_set(struct eng *g, struct rca_result *r)
{
    struct rca_elem pool[RCA_MAX_CAUSES + ENG_POOL];
    int np = 0, max = g->o->max_causes < RCA_MAX_CAUSES ? g->o->max_causes : RCA_MAX_CAUSES;
    for (int i = 0; i < r->n_causes; i++)
        pool[np++] = r->causes[i];
    if (g->n_cands > 1)
        qsort(g->cands, (size_t)g->n_cands, sizeof(*g->cands), by_net);
    for (int i = 0; i < g->n_cands && np < RCA_MAX_CAUSES + ENG_POOL; i++) {
        int dup = 0;
        for (int j = 0; j < np && !dup; j++)
            dup = elem_same(&pool[j], &g->cands[i].e);
        if (!dup)
            pool[np++] = g->cands[i].e;
        if (np >= r->n_causes + ENG_POOL)
            break;
    }
    struct choice c = {0}, t = {0};
    c.owner = oc_malloc((g->n ? g->n : 1) * sizeof(int));
    t.owner = oc_malloc((g->n ? g->n : 1) * sizeof(int));
    for (size_t l = 0; l < g->n; l++) {
        c.owner[l] = -1;
        agg_add(&c.rest, g->ob, l);
    }
    choose_from_pool(g, &c, pool, np, max);
    if (c.n == 0 && np > 0) {
        struct agg a = agg_free(g, &c, &pool[0]);
        double share = g->excess > 0 ? g->dir * (a.R - a.F) / g->excess : 0;
        if (share >= ENG_MOST && part_valid(g, a, agg_minus(c.rest, a)) &&
            gain_vs(c.rest, 1.0) / g->phi > ENG_POOLED_MIN && /* c.rest: all leaves still */
            add_delta(g, &c, &pool[0], a) + pen_of(g, &pool[0]) > ENG_POOLED_MIN)
            choice_add(g, &c, &pool[0], 0);
    }
    for (int pass = 0, changed = 1; pass < 3 && changed; pass++) {
        changed = 0;
        for (int k = 0; k < c.n; k++)
            changed |= refine(g, &c, k, &t);
    }
    r->n_causes = 0;
    for (int done = 0; done < c.n; done++) { /* in rank order */
        int i = -1;
        for (int j = 0; j < c.n; j++)
            if (c.rank[j] >= 0 && (i < 0 || c.rank[j] < c.rank[i]))
                i = j;
        struct rca_elem e = simplify(g, c.e[i]);
        elem_fill(g, &e, c.part[i], 0);
        r->causes[r->n_causes++] = e;
        c.rank[i] = -1;
    }
    free(c.owner);
    free(t.owner);
}

/* The greedy rounds: best element, roll up, drill down, explain its leaves, repeat; then
 * backfit and drop causes under min_score. */
static void localize(struct eng *g, struct rca_result *r)
{
    int max = g->o->max_causes < RCA_MAX_CAUSES ? g->o->max_causes : RCA_MAX_CAUSES;
    choose_direction(g);
    for (int round = 0; r->n_causes < max; round++) {
        struct agg u = agg_live(g);
        struct rca_elem list[RCA_MAX_CAUSES];
        int n = 0, added = 0;
        if (!next_step(g, round == 0, list, &n, max - r->n_causes))
            break;
        for (int i = 0; i < n; i++)
            added += assert_elem(g, list[i], u, r);
        if (!added)
            break;
    }
    backfit(g, r);
    memset(g->live, 1, g->n);
    choose_set(g, r);
    int k = 0;
    for (int i = 0; i < r->n_causes; i++)
        if (r->causes[i].score >= g->o->min_score)
            r->causes[k++] = r->causes[i];
    r->n_causes = k;
}

static int elem_same(const struct rca_elem *a, const struct rca_elem *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->attr[i] != b->attr[i] || a->val[i] != b->val[i])
            return 0;
    return 1;
}

static int by_net(const void *x, const void *y)
{
    double a = ((const struct scored *)x)->net, b = ((const struct scored *)y)->net;
    return a < b ? 1 : a > b ? -1 : 0;
}

/* The candidate list: the causes first, then the first round's elements by net evidence. */
static void rank_candidates(struct eng *g, struct rca_result *r)
{
    int k = g->o->top_k < RCA_MAX_CANDS ? g->o->top_k : RCA_MAX_CANDS;
    if (g->n_cands > 1)
        qsort(g->cands, (size_t)g->n_cands, sizeof(*g->cands), by_net);
    for (int i = 0; i < r->n_causes && r->n_cands < k; i++)
        r->cands[r->n_cands++] = r->causes[i];
    for (int i = 0; i < g->n_cands && r->n_cands < k; i++) {
        int dup = 0;
        for (int j = 0; j < r->n_cands && !dup; j++)
            dup = elem_same(&r->cands[j], &g->cands[i].e);
        if (!dup)
            r->cands[r->n_cands++] = g->cands[i].e;
    }
}

void rca_opts_default(struct rca_opts *o)
{
    o->window = 10;
    o->max_causes = 5;
    o->top_k = RCA_DEFAULT_TOPK;
    o->penalty = 24;
    o->min_share = 0.05;
    o->split_mass = 0.15;
    o->min_score = 0;
    o->live_share = 0;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* How much the leaves' scatter around one common scale exceeds the variance model: the mean of
 * the lower three quarters of w (r - k f)^2 over leaves of some size (counts: forecast >= 10,
 * where a count is no longer too discrete to tell) around their median scale, against
 * chi-square's (0.368), at least 1. Median and trimmed mean stay near the noise while up to a
 * quarter of the leaves are anomalous; ratios
 * with a noisy, diurnal history get a larger value and so need more evidence. */
static double dispersion(const struct eng *g)
{
    double x[ENG_DISP_SAMPLE], kr[ENG_DISP_SAMPLE], sum = 0;
    size_t idx[ENG_DISP_SAMPLE];
    int m = 0;
    size_t step = g->n / ENG_DISP_SAMPLE + 1;
    for (size_t l = 0; l < g->n && m < ENG_DISP_SAMPLE; l += step)
        if (g->ob->f[l] >= (g->ob->counts ? 10 : 1e-9)) {
            kr[m] = g->ob->r[l] / g->ob->f[l];
            idx[m++] = l;
        }
    if (m < 20)
        return 1;
    qsort(kr, (size_t)m, sizeof(double), dbl_cmp);
    double k = kr[m / 2]; /* the common scale of the normal leaves, robust to the anomaly */
    for (int i = 0; i < m; i++) {
        double d = g->ob->r[idx[i]] - k * g->ob->f[idx[i]];
        x[i] = g->ob->w[idx[i]] * d * d;
    }
    qsort(x, (size_t)m, sizeof(double), dbl_cmp);
    for (int i = 0; i < 3 * m / 4; i++)
        sum += x[i];
    double phi = sum / (3 * m / 4) / 0.368;
    return phi < 1 ? 1 : phi > 10 ? 10 : phi;
}

/* Sets the direction and the totals scores are shares of. */
static void eng_setup(struct eng *g, struct rca_result *r)
{
    struct agg all = {0};
    for (size_t l = 0; l < g->n; l++) {
        agg_add(&all, g->ob, l);
        g->live[l] = 1;
    }
    set_dir(g, all.R >= all.F ? 1 : -1);
    g->phi = dispersion(g);
    double t = g->ob->total_t;
    r->real = g->d->ratio ? (t > 0 ? all.R / t : 0) : all.R;
    r->expected = g->d->ratio ? (t > 0 ? all.F / t : 0) : all.F;
    if (gain_vs(all, 1.0) <= g->o->penalty)
        r->note = "no significant change at this time bin";
    else
        r->note = "the change is spread over all leaves; no element explains it";
}

int rca_run(const struct rca_data *d, int64_t at, const struct rca_opts *o, struct rca_result *out)
{
    struct rca_opts def;
    struct rca_obs ob;
    struct eng g = {0};
    if (!o) {
        rca_opts_default(&def);
        o = &def;
    }
    memset(out, 0, sizeof(*out));
    out->at = at;
    int rc = rca_forecast(d, at, o->window, &ob);
    if (rc != 0)
        return rc;
    g.d = d;
    g.o = o;
    g.ob = &ob;
    g.n = ob.n;
    g.na = d->n_attrs;
    g.live = oc_calloc(g.n ? g.n : 1, 1);
    eng_setup(&g, out);
    localize(&g, out);
    if (out->n_causes > 0)
        out->note = NULL;
    rank_candidates(&g, out);
    free(g.live);
    free(g.cands);
    rca_obs_free(&ob);
    return 0;
}
