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
#include "rca/engine_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ENG_REST_MAX     0.7 /* the rest may deviate at most this share of an element's deviation */
#define ENG_PROMISING    16  /* layer-1 values combined into layer-2 and layer-3 candidates */
#define ENG_SEEDED       16  /* seed_values: more values, those of the leaves beyond noise */
#define ENG_SEEDED_APART 6   /* amounts: seeded values, combined only among themselves */
#define ENG_RELATIVE     6   /* counts (rel_values): values deviating against the rest only */
#define ENG_DISP_SAMPLE  2000                         /* leaves sampled for the dispersion */
#define ENG_VALUES       (ENG_PROMISING + ENG_SEEDED) /* at most 32: a combination's key bits */

/* Sums over the live leaves of e. */
static struct rca_agg agg_elem(const struct rca_eng *g, const struct rca_elem *e)
{
    struct rca_agg a = {0};
    for (size_t l = 0; l < g->n; l++)
        if (g->live[l] && rca_leaf_in(g, e, l))
            rca_agg_add(&a, g->ob, l);
    return a;
}

/* Evidence that e's leaves deviate while the rest of universe u do not: the gain of two
 * scales (e, rest) over one, or 0 when e deviates less than the rest in the anomaly's
 * direction, the rest deviates more than ENG_REST_MAX as much as e, or e hardly deviates
 * from its own forecast (it only looks high because the rest fell). */
static double contrast(const struct rca_eng *g, struct rca_agg e, struct rca_agg u)
{
    struct rca_agg rest = rca_agg_minus(u, e);
    if (rest.Sff <= 1e-9 * u.Sff)
        return 0; /* e is (nearly) everything still unexplained: that is no localization */
    double ke = rca_kval(e), kr = rca_kval(rest);
    if (g->dir * (ke - kr) <= 0 || g->dir * (kr - 1) > ENG_REST_MAX * g->dir * (ke - 1) ||
        (!g->relax && g->dir * (ke - 1) < RCA_OWN_MIN * g->dir * (ke - kr)))
        return 0;
    double ku = rca_kval(u);
    double c = rca_gain_vs(e, ku) + rca_gain_vs(rest, ku);
    return c > 0 ? c : 0;
}

/* The change min_share is a share of: the total excess, or when smaller the excess of the
 * leaves that deviate beyond noise (a chi-square over 2 ln(leaves) + 4, at least 9: about 5%
 * of false leaves over the whole data set, whatever its size). Where thousands of leaves carry
 * forecast error, the net total is mostly that error and a fault of single leaves would be a
 * small share of it. */
static double share_base(const struct rca_eng *g)
{
    return g->sig > 0 && g->sig < g->excess ? g->sig : g->excess;
}

/* The excess dir * (R - F) (its magnitude when against dir) and the excess of the leaves
 * beyond noise in direction d, over every leaf or only the live ones. */
static void excess_in(const struct rca_eng *g, double d, int live_only, double *excess, double *sig)
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
static void set_dir(struct rca_eng *g, double d)
{
    g->dir = d;
    excess_in(g, d, 0, &g->excess, &g->sig);
}

/* share_base over the leaves not yet explained (at most share_base): once the first causes
 * explain their leaves, a further element carries min_share of what is left to explain. A
 * fault of single leaves beside a slice holding a fifth of the data (RiskLoc's S: a leaf of
 * 100 next to 480,000 of excess) is otherwise never a candidate. */
static double live_base(const struct rca_eng *g)
{
    double ex, sig;
    excess_in(g, g->dir, 1, &ex, &sig);
    double b = sig > 0 && sig < ex ? sig : ex, all = share_base(g);
    return b < all ? b : all;
}

/* Fills e's score (the share of the total excess its leaves carry) and sums from a (its
 * aggregate); c (its contrast) ranks candidates elsewhere. */
void rca_elem_fill(const struct rca_eng *g, struct rca_elem *e, struct rca_agg a, double c)
{
    (void)c;
    e->score = g->excess > 0 ? g->dir * (a.R - a.F) / g->excess : 0;
    e->score = e->score < 0 ? 0 : e->score > 1 ? 1 : e->score;
    e->real = a.R;
    e->expected = a.F;
}

void rca_elem_sort(struct rca_elem *e)
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

/* The layer rule charges penalty x (1 + 0.5 (attributes - 1)). With support_penalty the
 * attributes are those a typical element of e's forecast mass names: ln(all / e's mass) over
 * ln(the geometric mean of values per attribute), between 1 and e's own count: an element
 * bigger than its layer's typical one costs less. */
double rca_penalty(const struct rca_eng *g, const struct rca_elem *e, struct rca_agg a)
{
    double n = e->n;
    if (g->o->support_penalty && a.F > 0 && g->ftot > a.F && g->lnv > 0) {
        double eq = log(g->ftot / a.F) / g->lnv;
        n = eq < 1 ? 1 : eq < n ? eq : n;
    }
    return g->o->penalty * (1 + 0.5 * (n - 1));
}

static double net_of(const struct rca_eng *g, const struct rca_elem *e, double contrast_gain)
{
    return contrast_gain - g->o->penalty * (1 + 0.5 * (e->n - 1));
}

static void cand_push(struct rca_eng *g, const struct rca_elem *e, double net)
{
    g->cands = oc_grow(g->cands, &g->cap_cands, (size_t)g->n_cands + 1, sizeof(*g->cands));
    g->cands[g->n_cands++] = (struct rca_scored){*e, net};
}

/* Considers element e with aggregate a: records it as a candidate in the first round and
 * keeps it in *best when it beats it. */
static void consider(struct rca_eng *g, struct rca_elem e, struct rca_agg a, struct rca_agg u,
                     int first, struct rca_scored *best)
{
    double c = contrast(g, a, u);
    double ex = g->dir * (a.R - a.F);
    /* amounts always count min_share against what is left to explain (live_share); counts
     * only with the option, since a small audience's remainder is mostly Poisson noise */
    int live = g->o->live_share || !g->ob->counts;
    if (c <= 0 || ex < g->o->min_share * (live ? g->base_live : share_base(g)) ||
        ex < rca_support(g))
        return;
    rca_elem_sort(&e);
    rca_elem_fill(g, &e, a, c);
    double net = net_of(g, &e, c);
    if (first)
        cand_push(g, &e, net);
    if (net > best->net) {
        best->e = e;
        best->net = net;
    }
}

/* Offsets of each attribute's values in a flat per-value array; returns the total. */
size_t rca_value_offsets(const struct rca_eng *g, size_t *off)
{
    size_t total = 0;
    for (int a = 0; a < g->na; a++) {
        off[a] = total;
        total += g->d->dict[a].n;
    }
    return total;
}

static struct rca_agg agg_live(const struct rca_eng *g)
{
    struct rca_agg u = {0};
    for (size_t l = 0; l < g->n; l++)
        if (g->live[l])
            rca_agg_add(&u, g->ob, l);
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

/* seed_values: appends to pa/pv[np..) up to ENG_SEEDED values not among the first base, those
 * whose leaves deviate most beyond noise (against the live leaves' common scale, in the
 * anomaly's direction). A cause of 3 attributes inside values that a drift elsewhere hides
 * (each value as a whole hardly moves, so it has no contrast) is otherwise never combined.
 * For counts only leaves expecting 5 or more count (Cochran's rule for a chi-square): a leaf
 * expecting 0.03 that shows 6 is not evidence of anything. Returns the new np. */
static int seed_values(const struct rca_eng *g, struct rca_agg u, const size_t *off, size_t nv,
                       int *pa, uint32_t *pv, int np, int max)
{
    double *sx = oc_calloc(nv ? nv : 1, sizeof(*sx));
    double ku = rca_kval(u), line = 2 * log((double)g->n + 1) + 4;
    line = line > 9 ? line : 9;
    for (size_t l = 0; l < g->n; l++) {
        double x = g->dir * (g->ob->r[l] - ku * g->ob->f[l]);
        if (!g->live[l] || x <= 0 || g->ob->w[l] * x * x <= line || x < rca_support(g) ||
            (g->ob->counts && g->ob->f[l] < RCA_COCHRAN_F))
            continue;
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        for (int a = 0; a < g->na; a++)
            sx[off[a] + v[a]] += x;
    }
    int base = np;
    while (np < base + max) {
        size_t bi = nv;
        for (size_t i = 0; i < nv; i++)
            if (sx[i] > 0 && (bi == nv || sx[i] > sx[bi]))
                bi = i;
        if (bi == nv)
            break;
        sx[bi] = 0;
        int a = 0;
        while (a + 1 < g->na && off[a + 1] <= bi)
            a++;
        uint32_t v = (uint32_t)(bi - off[a]);
        int dup = 0;
        for (int i = 0; i < base && !dup; i++)
            dup = pa[i] == a && pv[i] == v;
        if (!dup) {
            pa[np] = a;
            pv[np++] = v;
        }
    }
    free(sx);
    return np;
}

/* rel_values (counts): appends to pa/pv[np..) up to ENG_RELATIVE values (a1: every value's
 * aggregate) that have no contrast, yet deviate against the rest of the live leaves u in the
 * anomaly's direction and carry the support of a cause: those with the largest gain of two
 * scales. A parent that moves with a global drift or ramp, only less (or more) because one
 * child moves strongly the other way, fails contrast()'s own-deviation rule (the weighted
 * fit of its many small leaves follows the drift) and is never combined, so its child is
 * never formed (docs/internals/rca.md, eleventh pass). Returns the new np. */
static int relative_values(const struct rca_eng *g, struct rca_agg u, const size_t *off,
                           const struct rca_agg *a1, int *pa, uint32_t *pv, int np)
{
    double rc[ENG_RELATIVE], ku = rca_kval(u);
    int ra[ENG_RELATIVE], nr = 0;
    uint32_t rv[ENG_RELATIVE];
    for (int a = 0; a < g->na; a++)
        for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
            struct rca_agg ag = a1[off[a] + v], rest = rca_agg_minus(u, ag);
            if (rest.Sff <= 1e-9 * u.Sff || g->dir * (ag.R - ag.F) < rca_support(g) ||
                g->dir * (rca_kval(ag) - rca_kval(rest)) <= 0 || contrast(g, ag, u) > 0)
                continue; /* no relative deviation, or a promising value already */
            double c = rca_gain_vs(ag, ku) + rca_gain_vs(rest, ku);
            int fresh = nr < ENG_RELATIVE;
            int slot = fresh ? nr++ : weakest(rc, nr);
            if (fresh || c > rc[slot]) {
                rc[slot] = c;
                ra[slot] = a;
                rv[slot] = v;
            }
        }
    for (int i = 0; i < nr; i++) {
        pa[np] = ra[i];
        pv[np++] = rv[i];
    }
    return np;
}

/* Layer 1: every attr=value. Keeps the ENG_PROMISING values with the most contrast in pa/pv
 * (with seed_values, then up to ENG_SEEDED more, see above; from g->apart on, combined only
 * among themselves: for an amount up to ENG_SEEDED_APART more, for counts with rel_values up
 * to ENG_RELATIVE more); returns how many. */
static int search_layer1(struct rca_eng *g, struct rca_agg u, int first, struct rca_scored *best,
                         int *pa, uint32_t *pv)
{
    size_t off[RCA_MAX_ATTRS], nv = rca_value_offsets(g, off);
    struct rca_agg *a1 = oc_calloc(nv ? nv : 1, sizeof(*a1));
    double pc[ENG_PROMISING];
    int np = 0;
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l])
            continue;
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        for (int a = 0; a < g->na; a++)
            rca_agg_add(&a1[off[a] + v[a]], g->ob, l);
    }
    for (int a = 0; a < g->na; a++)
        for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
            struct rca_agg ag = a1[off[a] + v];
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
    g->apart = ENG_VALUES;
    if (g->o->seed_values || (g->ob->counts && !g->o->rel_values)) {
        free(a1);
        return g->o->seed_values ? seed_values(g, u, off, nv, pa, pv, np, ENG_SEEDED) : np;
    }
    if (g->ob->counts) {
        /* combined among themselves: mixed with the promising values they named a child's
         * noisy siblings in real's small cases (docs/internals/rca.md, eleventh pass) */
        g->apart = np;
        np = relative_values(g, u, off, a1, pa, pv, np);
        free(a1);
        return np;
    }
    free(a1);
    /* amounts always seed (as they always count min_share against what is left): their noise
     * is their measured spread, and what cost the counts (thin elements of a few stalls
     * winning) does not arise. The seeded values are for a cause none of whose values stands
     * out (the others are formed from the promising values already), so they are combined
     * among themselves: mixed with the promising ones they cost 3 to 9 times the search at
     * 10,000 leaves (docs/internals/rca.md, seventh pass). */
    g->apart = np;
    return seed_values(g, u, off, nv, pa, pv, np, ENG_SEEDED_APART);
}

/* Aggregates of combinations of promising values, keyed by the bit mask of the values (open
 * addressing; a key has at least two bits, so 0 marks an empty slot). */
struct combo_map {
    uint32_t *key;
    struct rca_agg *a;
    size_t cap, used; /* slots (a power of two), keys stored */
};

static struct rca_agg *combo_slot(struct combo_map *m, uint32_t key)
{
    if (2 * (m->used + 1) > m->cap) {
        struct combo_map big = {oc_calloc(m->cap * 2, sizeof(uint32_t)),
                                oc_calloc(m->cap * 2, sizeof(struct rca_agg)), m->cap * 2, 0};
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
            rca_agg_add(combo_slot(m, mk), ob, l);
        if (bits + 1 < depth)
            combo_add(m, ob, l, in, k, depth, i + 1, mk, bits + 1);
    }
}

/* Layers 2 to 3, or to RCA_MAX_DEPTH - 1 when the leaves have at most RCA_MAX_DEPTH
 * attributes: combinations of the promising values (distinct attributes, as a leaf carries
 * one value per attribute). */
static void search_combos(struct rca_eng *g, struct rca_agg u, int first, struct rca_scored *best,
                          const int *pa, const uint32_t *pv, int np)
{
    struct combo_map m = {oc_calloc(1024, sizeof(uint32_t)),
                          oc_calloc(1024, sizeof(struct rca_agg)), 1024, 0};
    /* Up to the layer under the leaves when leaves are candidates themselves (at most
     * RCA_MAX_DEPTH attributes); 3 attributes in wider data, where deeper elements cost much
     * and explain little. */
    int depth = g->na <= RCA_MAX_DEPTH ? g->na - 1 : 3;
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l])
            continue;
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        int in[ENG_VALUES], k = 0;
        for (int i = 0; i < np && i < g->apart; i++)
            if (v[pa[i]] == pv[i])
                in[k++] = i;
        combo_add(&m, g->ob, l, in, k, depth, 0, 0, 0);
        k = 0;
        for (int i = g->apart; i < np; i++) /* the values seeded apart, among themselves */
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
static void search_leaves(struct rca_eng *g, struct rca_agg u, int first, struct rca_scored *best)
{
    if (g->na > RCA_MAX_DEPTH || g->na < 2)
        return;
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l])
            continue;
        struct rca_agg a = {0};
        rca_agg_add(&a, g->ob, l);
        if (g->dir * (a.R - a.F) < rca_support(g))
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
double rca_pooled_chi2(struct rca_agg dev, struct rca_agg norm)
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
 * the parent's forecast, deviates less than RCA_NORMAL_MAX as much, and the split is
 * significant, by the weighted gain and against the pooled counts. */
static int clearly_normal(const struct rca_eng *g, struct rca_agg dev, struct rca_agg norm,
                          double k0, double penalty)
{
    struct rca_agg whole = {dev.R + norm.R, dev.F + norm.F, dev.Srf + norm.Srf, dev.Sff + norm.Sff};
    double dd = g->dir * (rca_kval(dev) - k0), dn = g->dir * (rca_kval(norm) - k0);
    if (whole.F <= 0 || norm.F < g->o->split_mass * whole.F || dd <= 0)
        return 0;
    double kw = rca_kval(whole);
    return dn < RCA_NORMAL_MAX * dd && rca_gain_vs(dev, kw) + rca_gain_vs(norm, kw) > penalty &&
           rca_pooled_chi2(dev, norm) > RCA_POOLED_MIN;
}

struct rca_elem rca_elem_drop(const struct rca_elem *e, int i)
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
static struct rca_elem roll_up(const struct rca_eng *g, struct rca_elem e, struct rca_agg u)
{
    while (e.n > 1) {
        struct rca_agg ae = agg_elem(g, &e);
        int pick = -1;
        double pick_c = -1;
        for (int i = 0; i < e.n; i++) {
            struct rca_elem p = rca_elem_drop(&e, i);
            struct rca_agg ap = agg_elem(g, &p);
            double k0 = rca_kval(rca_agg_minus(u, ap));
            if (clearly_normal(g, ae, rca_agg_minus(ap, ae), k0, g->o->penalty))
                continue;
            double c = contrast(g, ap, u);
            if (c > pick_c) {
                pick_c = c;
                pick = i;
            }
        }
        if (pick < 0 || pick_c <= 0)
            break;
        e = rca_elem_drop(&e, pick);
    }
    return e;
}

int rca_elem_has_attr(const struct rca_elem *e, int a)
{
    for (int i = 0; i < e->n; i++)
        if (e->attr[i] == a)
            return 1;
    return 0;
}

/* A child deviates with its parent (scale k0 outside, parent deviation de) when it deviates
 * at least RCA_DEV_MIN as much, significantly, and carries RCA_MIN_SUPPORT of excess itself,
 * as every asserted element must: a title with 2 of a bad build's failures is not a cause. */
static int child_deviates(const struct rca_eng *g, struct rca_agg c, double k0, double de)
{
    return g->dir * (rca_kval(c) - k0) >= RCA_DEV_MIN * de && rca_gain_vs(c, k0) > g->o->penalty &&
           g->dir * (c.R - c.F) >= rca_support(g);
}

/* Picks the attribute that splits e into deviating children and a clearly normal rest;
 * fills dev[] with the deviating children and returns how many (0: keep e). */
static int best_split(const struct rca_eng *g, const struct rca_elem *e, struct rca_agg u,
                      struct rca_elem *dev, int max)
{
    size_t off[RCA_MAX_ATTRS], nv = rca_value_offsets(g, off);
    struct rca_agg *ch = oc_calloc(nv ? nv : 1, sizeof(*ch)), ae = {0};
    for (size_t l = 0; l < g->n; l++) {
        if (!g->live[l] || !rca_leaf_in(g, e, l))
            continue;
        rca_agg_add(&ae, g->ob, l);
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        for (int a = 0; a < g->na; a++)
            rca_agg_add(&ch[off[a] + v[a]], g->ob, l);
    }
    double k0 = rca_kval(rca_agg_minus(u, ae)), de = g->dir * (rca_kval(ae) - k0), best = 0;
    int n_best = 0;
    for (int a = 0; a < g->na && de > 0; a++) {
        if (rca_elem_has_attr(e, a))
            continue;
        struct rca_agg D = {0}, N = {0};
        int nd = 0;
        for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
            struct rca_agg c = ch[off[a] + v];
            int is_dev = child_deviates(g, c, k0, de);
            struct rca_agg *into = is_dev ? &D : &N;
            *into = (struct rca_agg){into->R + c.R, into->F + c.F, into->Srf + c.Srf,
                                     into->Sff + c.Sff};
            nd += is_dev;
        }
        if (nd == 0 || nd > max || !clearly_normal(g, D, N, k0, g->o->penalty * nd))
            continue;
        double kw = rca_kval(ae), sg = rca_gain_vs(D, kw) + rca_gain_vs(N, kw);
        if (sg <= best)
            continue;
        best = sg;
        n_best = 0;
        for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
            struct rca_agg c = ch[off[a] + v];
            if (child_deviates(g, c, k0, de)) {
                dev[n_best] = *e;
                dev[n_best].attr[e->n] = a;
                dev[n_best].val[e->n] = v;
                dev[n_best].n = e->n + 1;
                rca_elem_sort(&dev[n_best++]);
            }
        }
    }
    free(ch);
    return n_best;
}

/* Appends e, or the deviating children it splits into (recursively), to out[*n]. */
static void drill_down(const struct rca_eng *g, struct rca_elem e, struct rca_agg u,
                       struct rca_elem *out, int *n, int max)
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
struct rca_elem rca_simplify(const struct rca_eng *g, struct rca_elem e)
{
    for (int i = 0; i < e.n && e.n > 1;) {
        struct rca_elem p = rca_elem_drop(&e, i);
        size_t ne = 0, np = 0;
        for (size_t l = 0; l < g->n; l++)
            if (rca_leaf_in(g, &p, l)) {
                np++;
                ne += (size_t)rca_leaf_in(g, &e, l);
            }
        if (np == ne)
            e = p;
        else
            i++;
    }
    return e;
}

/* Asserts e: fills its score, appends it to r and marks its leaves explained. */
static int assert_elem(struct rca_eng *g, struct rca_elem e, struct rca_agg u, struct rca_result *r)
{
    struct rca_agg ae = agg_elem(g, &e);
    if (ae.F == 0 && ae.R == 0)
        return 0;
    rca_elem_fill(g, &e, ae, rca_gain_vs(ae, rca_kval(rca_agg_minus(u, ae))));
    r->causes[r->n_causes++] = e;
    for (size_t l = 0; l < g->n; l++)
        if (g->live[l] && rca_leaf_in(g, &e, l))
            g->live[l] = 0;
    return 1;
}
/* One search over the live leaves: the best element, rolled up and drilled down, into
 * list[*n] (at most max). Returns 0 when no element is worth asserting. */
static int next_step(struct rca_eng *g, int first, struct rca_elem *list, int *n, int max)
{
    struct rca_agg u = agg_live(g);
    g->base_live = live_base(g);
    struct rca_scored best = {.net = 0};
    int pa[ENG_VALUES];
    uint32_t pv[ENG_VALUES];
    int np = search_layer1(g, u, first, &best, pa, pv);
    search_combos(g, u, first, &best, pa, pv, np);
    search_leaves(g, u, first, &best);
    *n = 0;
    if (best.net <= 0)
        return 0;
    drill_down(g, roll_up(g, best.e, u), u, list, n, max);
    for (int i = 0; i < *n; i++)
        list[i] = rca_simplify(g, list[i]);
    return *n > 0;
}

static void live_except(struct rca_eng *g, const struct rca_result *r, int skip)
{
    memset(g->live, 1, g->n);
    for (int i = 0; i < r->n_causes; i++)
        if (i != skip)
            for (size_t l = 0; l < g->n; l++)
                if (rca_leaf_in(g, &r->causes[i], l))
                    g->live[l] = 0;
}

/* Backfitting: each cause is searched for again with the others fixed; it is dropped when
 * nothing is worth asserting any more, or replaced by the single element found. */
static void backfit(struct rca_eng *g, struct rca_result *r)
{
    for (int i = 0; i < r->n_causes && r->n_causes > 1;) {
        struct rca_elem list[RCA_MAX_CAUSES];
        int n;
        live_except(g, r, i);
        struct rca_agg u = agg_live(g);
        if (!next_step(g, 0, list, &n, RCA_MAX_CAUSES)) {
            memmove(&r->causes[i], &r->causes[i + 1],
                    (size_t)(r->n_causes - i - 1) * sizeof(r->causes[0]));
            r->n_causes--;
            continue;
        }
        if (n == 1) {
            struct rca_agg a = agg_elem(g, &list[0]);
            rca_elem_fill(g, &list[0], a, rca_gain_vs(a, rca_kval(rca_agg_minus(u, a))));
            r->causes[i] = list[0];
        }
        i++;
    }
}

/* The best net evidence of one search in the current direction; first: its elements are
 * recorded as candidates (g->cands). */
static double best_net(struct rca_eng *g, int first)
{
    struct rca_agg u = agg_live(g);
    g->base_live = live_base(g);
    struct rca_scored best = {.net = 0};
    int pa[ENG_VALUES];
    uint32_t pv[ENG_VALUES];
    int np = search_layer1(g, u, first, &best, pa, pv);
    search_combos(g, u, first, &best, pa, pv, np);
    search_leaves(g, u, first, &best);
    return best.net;
}

/* The anomaly's direction is the one whose best element has more evidence: the total alone
 * misleads when a drift elsewhere outweighs a sharp local drop. With dir_pool (counts) the
 * other direction's search keeps its candidates (g->ocands): the set may hold elements of
 * both signs (choose.c). */
static void choose_direction(struct rca_eng *g)
{
    int pool = g->o->dir_pool && g->ob->counts;
    double dir0 = g->dir, ex0 = g->excess;
    double here = best_net(g, pool);
    struct rca_scored *c0 = g->cands;
    int n0 = g->n_cands;
    g->cands = NULL;
    g->n_cands = 0;
    g->cap_cands = 0;
    set_dir(g, -dir0);
    if (best_net(g, pool) > here) {
        g->odir = dir0;
        g->oexcess = ex0;
        g->ocands = c0;
        g->n_ocands = n0;
    } else {
        g->odir = -dir0;
        g->oexcess = g->excess;
        g->ocands = g->cands;
        g->n_ocands = g->n_cands;
        free(c0);
        set_dir(g, dir0);
    }
    if (g->ocands != g->cands)
        free(g->cands);
    g->cands = NULL;
    g->n_cands = 0;
    g->cap_cands = 0;
    if (pool && g->o->pool_rel) { /* the pool again, without the own-deviation rule */
        double d = g->dir;
        free(g->ocands);
        set_dir(g, g->odir);
        g->relax = 1;
        best_net(g, 1);
        g->relax = 0;
        g->ocands = g->cands;
        g->n_ocands = g->n_cands;
        g->cands = NULL;
        g->n_cands = 0;
        g->cap_cands = 0;
        set_dir(g, d);
    }
}

/* The greedy rounds: best element, roll up, drill down, explain its leaves, repeat; then
 * backfit and drop causes under min_score. */
static void localize(struct rca_eng *g, struct rca_result *r)
{
    int max = g->o->max_causes < RCA_MAX_CAUSES ? g->o->max_causes : RCA_MAX_CAUSES;
    choose_direction(g);
    for (int round = 0; r->n_causes < max; round++) {
        struct rca_agg u = agg_live(g);
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
    rca_choose_set(g, r);
    int k = 0;
    for (int i = 0; i < r->n_causes; i++)
        if (r->causes[i].score >= g->o->min_score)
            r->causes[k++] = r->causes[i];
    r->n_causes = k;
}

int rca_elem_same(const struct rca_elem *a, const struct rca_elem *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->attr[i] != b->attr[i] || a->val[i] != b->val[i])
            return 0;
    return 1;
}

int rca_scored_cmp(const void *x, const void *y)
{
    double a = ((const struct rca_scored *)x)->net, b = ((const struct rca_scored *)y)->net;
    return a < b ? 1 : a > b ? -1 : 0;
}

/* The candidate list: the causes first, then the first round's elements by net evidence. */
static void rank_candidates(struct rca_eng *g, struct rca_result *r)
{
    int k = g->o->top_k < RCA_MAX_CANDS ? g->o->top_k : RCA_MAX_CANDS;
    if (g->n_cands > 1)
        qsort(g->cands, (size_t)g->n_cands, sizeof(*g->cands), rca_scored_cmp);
    for (int i = 0; i < r->n_causes && r->n_cands < k; i++)
        r->cands[r->n_cands++] = r->causes[i];
    for (int i = 0; i < g->n_cands && r->n_cands < k; i++) {
        int dup = 0;
        for (int j = 0; j < r->n_cands && !dup; j++)
            dup = rca_elem_same(&r->cands[j], &g->cands[i].e);
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
    o->support_penalty = 0;
    o->seed_values = 0;
    o->drill_first = 1;
    o->rename = 1;
    o->leaf_disjoint = 0;
    o->entry_ll = 1;
    o->rel_values = 1;
    o->rename_merge = 1;
    o->split_kids = 1;
    o->dir_pool = 1;
    o->pool_rel = 1;
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
static double dispersion(const struct rca_eng *g)
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
static void eng_setup(struct rca_eng *g, struct rca_result *r)
{
    struct rca_agg all = {0};
    for (size_t l = 0; l < g->n; l++) {
        rca_agg_add(&all, g->ob, l);
        g->live[l] = 1;
    }
    g->tdir = all.R >= all.F ? 1 : -1;
    set_dir(g, g->tdir);
    g->phi = dispersion(g);
    g->ftot = all.F;
    double lv = 0;
    for (int a = 0; a < g->na; a++)
        lv += log(g->d->dict[a].n > 1 ? (double)g->d->dict[a].n : 1);
    g->lnv = g->na > 0 ? lv / g->na : 0;
    double t = g->ob->total_t;
    r->real = g->d->ratio ? (t > 0 ? all.R / t : 0) : all.R;
    r->expected = g->d->ratio ? (t > 0 ? all.F / t : 0) : all.F;
    if (rca_gain_vs(all, 1.0) <= g->o->penalty)
        r->note = "no significant change at this time bin";
    else
        r->note = "the change is spread over all leaves; no element explains it";
}

int rca_run(const struct rca_data *d, int64_t at, const struct rca_opts *o, struct rca_result *out)
{
    struct rca_opts def;
    struct rca_obs ob;
    struct rca_eng g = {0};
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
    free(g.ocands);
    rca_obs_free(&ob);
    return 0;
}
