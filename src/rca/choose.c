/*
 * choose.c - the set-level decision: the greedy rounds of engine.c propose, and the asserted
 * set is chosen once, by one objective: the partition gain of the set (one scale per element,
 * one for the rest, against one for all) divided by the dispersion, minus the penalty of each
 * element. A parent beats its children when they deviate alike (same gain, fewer elements); a
 * child beats its parent when the siblings are normal (the split gain exceeds the child's
 * extra penalty). See docs/internals/rca.md, Localization, step 7.
 */
#include "rca/engine_int.h"

#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIDE_SHARE    0.1  /* a further cause carries this share of the change, */
#define SIDE_EFFECT   0.2  /* or deviates at least this much as the first cause */
#define MOST          0.5  /* a lone first candidate with this share of the change is asserted */
#define DRILL_FIRST   3    /* drill_first: candidates whose children are tried */
#define RENAME_NATS   2.0  /* rename: the other name fits better by this (log-likelihood) */
#define RENAME_CANDS  30   /* rename: first-round candidates tried as other names */
#define RENAME_MU_MIN 0.02 /* rename: a Poisson mean is at least this */
#define MERGE_CANDS   10   /* rename_merge: first-round candidates tried as merges */
#define DIR_POOL      RCA_POOL /* dir_pool: the other direction's candidates tried */
#define DIR_SUBSET    3        /* dir_pool: elements of one addition from them, at most */

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
    double dir[RCA_MAX_CAUSES];  /* the element's sign: g->dir, or with dir_pool g->odir */
    struct rca_agg part[RCA_MAX_CAUSES];
    struct rca_agg rest;
    int *owner;
};

/* 1 when e may share leaves by name with an element of c other than skip (-1: none). */
static int named_clash(const struct choice *c, const struct rca_elem *e, int skip)
{
    for (int j = 0; j < c->n; j++)
        if (j != skip && may_overlap(e, &c->e[j]))
            return 1;
    return 0;
}

/* 1 when the data hold a leaf of e that an element of c other than skip holds. */
static int leaf_clash(const struct rca_eng *g, const struct choice *c, const struct rca_elem *e,
                      int skip)
{
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] >= 0 && c->owner[l] != skip && rca_leaf_in(g, e, l))
            return 1;
    return 0;
}

/* 1 when e may not stand in c beside its elements other than skip: they may share leaves by
 * name and, with leaf_disjoint, the data hold a leaf of both. Names alone say too much in
 * sparse data: device=d2&isp=i0 and cdn=c0&os=o1 may share no leaf of the data, and then
 * both can be causes (docs/internals/rca.md, ninth pass). */
static int clash(const struct rca_eng *g, const struct choice *c, const struct rca_elem *e,
                 int skip)
{
    return named_clash(c, e, skip) && (!g->o->leaf_disjoint || leaf_clash(g, c, e, skip));
}

static double choice_obj(const struct rca_eng *g, const struct choice *c)
{
    double q = rca_q_of(c->rest), pen = 0;
    for (int i = 0; i < c->n; i++) {
        q += rca_q_of(c->part[i]);
        pen += rca_penalty(g, &c->e[i], c->part[i]);
    }
    struct rca_agg all = c->rest;
    for (int i = 0; i < c->n; i++)
        all = rca_agg_plus(all, c->part[i]);
    return (q - rca_q_of(all)) / g->phi - pen;
}

/* An element is worth its place when it deviates in direction d, more than the rest does,
 * and carries the support every cause needs. */
static int part_valid_dir(const struct rca_eng *g, struct rca_agg a, struct rca_agg rest, double d)
{
    double kr = rca_kval(rest);
    return d * (rca_kval(a) - kr) > 0 && d * (rca_kval(a) - 1) > 0 &&
           d * (a.R - a.F) >= rca_support(g) && d * (a.R - a.F) > 0;
}

/* part_valid_dir in the anomaly's direction. */
static int part_valid(const struct rca_eng *g, struct rca_agg a, struct rca_agg rest)
{
    return part_valid_dir(g, a, rest, g->dir);
}

/* Aggregate of the leaves of e still owned by the rest. */
static struct rca_agg agg_free(const struct rca_eng *g, const struct choice *c,
                               const struct rca_elem *e)
{
    struct rca_agg a = {0};
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] < 0 && rca_leaf_in(g, e, l))
            rca_agg_add(&a, g->ob, l);
    return a;
}

static void choice_add(const struct rca_eng *g, struct choice *c, const struct rca_elem *e,
                       double rank)
{
    int k = c->n++;
    c->e[k] = *e;
    c->rank[k] = rank;
    c->dir[k] = g->dir;
    c->part[k] = (struct rca_agg){0};
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] < 0 && rca_leaf_in(g, e, l)) {
            c->owner[l] = k;
            rca_agg_add(&c->part[k], g->ob, l);
        }
    c->rest = rca_agg_minus(c->rest, c->part[k]);
}

/* Removes element k, its leaves going back to the rest. */
static void choice_remove(const struct rca_eng *g, struct choice *c, int k)
{
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] == k)
            c->owner[l] = -1;
        else if (c->owner[l] > k)
            c->owner[l]--;
    c->rest = rca_agg_plus(c->rest, c->part[k]);
    memmove(&c->e[k], &c->e[k + 1], (size_t)(c->n - k - 1) * sizeof(c->e[0]));
    memmove(&c->part[k], &c->part[k + 1], (size_t)(c->n - k - 1) * sizeof(c->part[0]));
    memmove(&c->rank[k], &c->rank[k + 1], (size_t)(c->n - k - 1) * sizeof(c->rank[0]));
    memmove(&c->dir[k], &c->dir[k + 1], (size_t)(c->n - k - 1) * sizeof(c->dir[0]));
    c->n--;
}

/* A further element must carry a fair share of the change or deviate comparably to the first:
 * several weak slices beside a strong cause are noise, not causes. One admitted beside an
 * element it may overlap by name (leaf_disjoint: the data hold no leaf of both) must carry
 * the share: a thin slice deviating strongly there was mostly noise or another name of a
 * cause (docs/internals/rca.md, ninth pass). */
static int side_ok(const struct rca_eng *g, const struct choice *c, struct rca_agg a, int named)
{
    if (c->n == 0)
        return 1;
    double share = g->dir * (a.R - a.F) / (g->excess > 0 ? g->excess : 1);
    double kr = rca_kval(c->rest), top = g->dir * (rca_kval(c->part[0]) - kr);
    return share >= SIDE_SHARE || (!named && g->dir * (rca_kval(a) - kr) >= SIDE_EFFECT * top);
}

/* Objective gain of adding e (its free leaves a) to c. */
static double add_delta(const struct rca_eng *g, const struct choice *c, const struct rca_elem *e,
                        struct rca_agg a)
{
    struct rca_agg rest = rca_agg_minus(c->rest, a);
    double dq = rca_q_of(a) + rca_q_of(rest) - rca_q_of(c->rest);
    return dq / g->phi - rca_penalty(g, e, a);
}

static double count_ll(const struct rca_eng *g, const struct choice *c);

/* How an addition's evidence is read: by the objective's weighted gain, or (entry_ll, counts)
 * by the counts' likelihood, 2 ln LR over the dispersion against it (phi), at the same price;
 * ll0 is the likelihood of the set before the addition. */
struct reader {
    int likelihood;
    double phi, ll0;
};

/* The gain of adding e (its free leaves a) to c, net of its penalty, as rd reads it. */
static double add_gain(const struct rca_eng *g, struct choice *c, const struct rca_elem *e,
                       struct rca_agg a, const struct reader *rd)
{
    if (!rd->likelihood)
        return add_delta(g, c, e, a);
    choice_add(g, c, e, 0);
    double o = 2 * (count_ll(g, c) - rd->ll0) / rd->phi - rca_penalty(g, e, a);
    choice_remove(g, c, c->n - 1);
    return o;
}

/* Greedy over the pool: the best addition, as rd reads it, while it pays (no clash, a valid
 * part, a further one's share). */
static void add_from_pool(const struct rca_eng *g, struct choice *c, const struct rca_elem *pool,
                          int np, int max, struct reader *rd)
{
    while (c->n < max) {
        int pick = -1;
        double best = 0;
        struct rca_elem pe;
        if (rd->likelihood)
            rd->ll0 = count_ll(g, c);
        for (int i = 0; i < np; i++) {
            if (clash(g, c, &pool[i], -1))
                continue;
            struct rca_agg a = agg_free(g, c, &pool[i]);
            if (!part_valid(g, a, rca_agg_minus(c->rest, a)) ||
                !side_ok(g, c, a, named_clash(c, &pool[i], -1)))
                continue;
            double d = add_gain(g, c, &pool[i], a, rd);
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

/* Replaces element k of c by alt[0..na), in direction d (one trial); returns the new
 * objective, or -INFINITY when an element of the trial is not valid in its own direction. c is
 * left unchanged. */
static double trial_dir(const struct rca_eng *g, const struct choice *c, int k,
                        const struct rca_elem *alt, int na, struct choice *t, double d)
{
    double rank = c->rank[k];
    t->n = c->n;
    memcpy(t->e, c->e, sizeof(c->e));
    memcpy(t->part, c->part, sizeof(c->part));
    memcpy(t->rank, c->rank, sizeof(c->rank));
    memcpy(t->dir, c->dir, sizeof(c->dir));
    t->rest = c->rest;
    memcpy(t->owner, c->owner, g->n * sizeof(int));
    choice_remove(g, t, k);
    for (int i = 0; i < na; i++) {
        if (t->n == RCA_MAX_CAUSES)
            return -INFINITY;
        choice_add(g, t, &alt[i], rank + 0.01 * i);
        t->dir[t->n - 1] = d;
    }
    for (int i = 0; i < t->n; i++)
        if (!part_valid_dir(g, t->part[i], t->rest, t->dir[i]))
            return -INFINITY;
    return choice_obj(g, t);
}

/* trial_dir in the anomaly's direction. */
static double trial(const struct rca_eng *g, const struct choice *c, int k,
                    const struct rca_elem *alt, int na, struct choice *t)
{
    return trial_dir(g, c, k, alt, na, t, g->dir);
}

/* Children of element k of c along attribute a that deviate at least RCA_DEV_MIN as much as
 * it does, significantly: into kids (at most max); returns how many, 0 when none or all do
 * (all children alike is the parent). dev/norm get the two parts' aggregates. */
static int deviating_kids(const struct rca_eng *g, const struct choice *c, int k, int a,
                          const struct rca_agg *ch, struct rca_elem *kids, int max,
                          struct rca_agg *dev, struct rca_agg *norm, double sig, double d)
{
    const struct rca_elem *e = &c->e[k];
    double kr = rca_kval(c->rest), de = d * (rca_kval(c->part[k]) - kr);
    int nk = 0, nonempty = 0;
    *dev = *norm = (struct rca_agg){0};
    for (uint32_t v = 0; v < g->d->dict[a].n; v++) {
        struct rca_agg x = ch[v];
        if (x.F <= 0 && x.R <= 0)
            continue;
        nonempty++;
        int is_dev = d * (rca_kval(x) - kr) >= RCA_DEV_MIN * de &&
                     rca_gain_vs(x, kr) / g->phi > sig && d * (x.R - x.F) >= rca_support(g) &&
                     d * (x.R - x.F) > 0;
        if (!is_dev) {
            *norm = rca_agg_plus(*norm, x);
            continue;
        }
        *dev = rca_agg_plus(*dev, x);
        if (nk == max)
            return 0;
        kids[nk] = *e;
        kids[nk].attr[e->n] = a;
        kids[nk].val[e->n] = v;
        kids[nk].n = e->n + 1;
        rca_elem_sort(&kids[nk++]);
    }
    return nk < nonempty ? nk : 0;
}

/* The aggregates of element k's leaves in c by value: attribute a's value v at [off[a] + v]
 * (off filled). Caller frees. */
static struct rca_agg *kid_aggs(const struct rca_eng *g, const struct choice *c, int k, size_t *off)
{
    size_t nv = rca_value_offsets(g, off);
    struct rca_agg *ch = oc_calloc(nv ? nv : 1, sizeof(*ch));
    for (size_t l = 0; l < g->n; l++) {
        if (c->owner[l] != k)
            continue;
        const uint32_t *v = g->d->leaf_vals + l * (size_t)g->na;
        for (int a = 0; a < g->na; a++)
            rca_agg_add(&ch[off[a] + v[a]], g->ob, l);
    }
    return ch;
}

/* The best set of deviating children of element k of c along one attribute whose trial beats
 * *obj (updated): into best[0..3); returns how many, 0 when none beats it. The other children
 * must be clearly normal and, for counts, the split hold by the pooled chi-square. */
static int best_kids(const struct rca_eng *g, const struct choice *c, int k, struct choice *t,
                     double *obj, struct rca_elem *best, double sig)
{
    const struct rca_elem cur = c->e[k];
    int nb = 0;
    size_t off[RCA_MAX_ATTRS];
    struct rca_agg *ch = kid_aggs(g, c, k, off);
    for (int a = 0; a < g->na; a++) {
        struct rca_elem kids[3];
        struct rca_agg dev, norm;
        if (rca_elem_has_attr(&cur, a))
            continue;
        int nk = deviating_kids(g, c, k, a, ch + off[a], kids, 3, &dev, &norm, sig, g->dir);
        double kr = rca_kval(c->rest);
        if (nk == 0 || (g->ob->counts && rca_pooled_chi2(dev, norm) <= RCA_POOLED_MIN) ||
            g->dir * (rca_kval(norm) - kr) >= RCA_NORMAL_MAX * g->dir * (rca_kval(dev) - kr))
            continue; /* the other children must be clearly normal, not just less hit */
        double o = trial(g, c, k, kids, nk, t);
        if (o > *obj) {
            *obj = o;
            memcpy(best, kids, sizeof(kids[0]) * (size_t)nk);
            nb = nk;
        }
    }
    free(ch);
    return nb;
}

/* Makes c the trial t. */
static void choice_take(const struct rca_eng *g, struct choice *c, const struct choice *t)
{
    c->n = t->n;
    memcpy(c->e, t->e, sizeof(c->e));
    memcpy(c->part, t->part, sizeof(c->part));
    memcpy(c->rank, t->rank, sizeof(c->rank));
    memcpy(c->dir, t->dir, sizeof(c->dir));
    c->rest = t->rest;
    memcpy(c->owner, t->owner, g->n * sizeof(int));
}

/* The parents and the deviating children of element k; keeps the best of them and k by the
 * objective. Counts: a split is kept only when the pooled chi-square also holds it (thin
 * counts overstate it). Returns 1 when k was replaced. */
static int refine(const struct rca_eng *g, struct choice *c, int k, struct choice *t)
{
    struct rca_elem cur = c->e[k], best[3];
    int nb = 0;
    double obj = choice_obj(g, c);
    for (int i = 0; i < cur.n && cur.n > 1; i++) {
        struct rca_elem p = rca_elem_drop(&cur, i);
        /* by name even with leaf_disjoint: a parent clear of the others' leaves by the data
         * was mostly another name of the same leaves (docs/internals/rca.md, ninth pass) */
        if (named_clash(c, &p, k))
            continue;
        struct rca_agg sib = agg_free(g, c, &p);
        double o = trial(g, c, k, &p, 1, t);
        int thin = g->ob->counts && rca_pooled_chi2(c->part[k], sib) <= RCA_POOLED_MIN;
        if (o > obj || (thin && o > -INFINITY)) {
            obj = o > obj ? o : obj;
            best[0] = p;
            nb = 1;
        }
    }
    if (cur.n < RCA_MAX_DEPTH && nb == 0)
        nb = best_kids(g, c, k, t, &obj, best, g->o->penalty);
    if (nb == 0)
        return 0;
    trial(g, c, k, best, nb, t);
    choice_take(g, c, t);
    return 1;
}

/* The log-likelihood of counts under c (a fitted scale per element and for the rest): Poisson,
 * each leaf's term divided by its variance beyond Poisson (rca_ident_leaf_disp), means of at
 * least 0.02, without the terms that do not depend on the partition. */
static double count_ll(const struct rca_eng *g, const struct choice *c)
{
    double R[RCA_MAX_CAUSES + 1] = {0}, F[RCA_MAX_CAUSES + 1] = {0}, k[RCA_MAX_CAUSES + 1], ll = 0;
    for (size_t l = 0; l < g->n; l++) {
        int o = c->owner[l] < 0 ? c->n : c->owner[l];
        double d = rca_ident_leaf_disp(g->ob, l);
        R[o] += g->ob->r[l] / d;
        F[o] += g->ob->f[l] / d;
    }
    for (int i = 0; i <= c->n; i++)
        k[i] = F[i] > 0 ? R[i] / F[i] : 1;
    for (size_t l = 0; l < g->n; l++) {
        int o = c->owner[l] < 0 ? c->n : c->owner[l];
        double mu = k[o] * g->ob->f[l];
        mu = mu > RENAME_MU_MIN ? mu : RENAME_MU_MIN;
        ll += (g->ob->r[l] * log(mu) - mu) / rca_ident_leaf_disp(g->ob, l);
    }
    return ll;
}

/* The objective with that likelihood in place of the weighted gain, in the same units. */
static double count_obj(const struct rca_eng *g, const struct choice *c, double ll, double phi)
{
    double pen = 0;
    for (int i = 0; i < c->n; i++)
        pen += rca_penalty(g, &c->e[i], c->part[i]);
    return 2 * ll / phi - pen;
}

/* The leaf of element k of c with the most measure now and expected, or g->n when it has none. */
static size_t largest_leaf(const struct rca_eng *g, const struct choice *c, int k)
{
    size_t big = g->n;
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] == k &&
            (big == g->n || g->ob->r[l] + g->ob->f[l] > g->ob->r[big] + g->ob->f[big]))
            big = l;
    return big;
}

/* 1 when e may not stand beside element j of c alone (clash() for one element). */
static int clash_one(const struct rca_eng *g, const struct choice *c, const struct rca_elem *e,
                     int j)
{
    if (!may_overlap(e, &c->e[j]))
        return 0;
    if (!g->o->leaf_disjoint)
        return 1;
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] == j && rca_leaf_in(g, e, l))
            return 1;
    return 0;
}

/* Like trial(), replacing element k of c by e, and also dropping every other element that
 * e may not stand beside: e takes their place. */
static double trial_merge(const struct rca_eng *g, const struct choice *c, int k,
                          const struct rca_elem *e, struct choice *t)
{
    choice_take(g, t, c);
    for (int j = c->n - 1; j >= 0; j--)
        if (j == k || clash_one(g, c, e, j))
            choice_remove(g, t, j);
    choice_add(g, t, e, c->rank[k]);
    for (int i = 0; i < t->n; i++)
        if (!part_valid(g, t->part[i], t->rest))
            return -INFINITY;
    return choice_obj(g, t);
}

/* rename (counts): the weighted gain reads thin and noisy counts poorly, and among the names
 * of an element's largest leaf (its parent, a sibling, an unrelated slice holding it) it may
 * pick one the counts do not support. Each asserted element is replaced by the first-round
 * candidate (of the RENAME_CANDS best) holding its largest leaf that the counts' likelihood
 * (divided by the dispersion against it) favours by at least RENAME_NATS, when the objective
 * in those units does not fall; the best such. Names the data cannot tell apart stay. Later
 * candidates changed no answer on the profiles and cost up to 22 ms at 10,000 leaves.
 * rename_merge: a name that may not stand beside another element of the set (its parent, or
 * one overlapping it) replaces that one too, when the likelihood favours it so or when the
 * objective in those units rises by more than one element's price (the penalty): several
 * fine slices of one deviating parent fit a little better than the parent, for far more
 * penalty (docs/internals/rca.md, eleventh pass); a merge is ranked by half that rise, in
 * nats as the likelihood's. Merges are tried among the first MERGE_CANDS candidates only:
 * the same answers on the profiles as 30 (5 lost one), a third of the candidates tried. */
static void rename_by_likelihood(const struct rca_eng *g, struct choice *c, struct choice *t)
{
    if (!g->o->rename || !g->ob->counts || c->n == 0)
        return;
    double phi = rca_ident_dispersion(g->ob);
    for (int k = 0; k < c->n; k++) {
        size_t big = largest_leaf(g, c, k);
        if (big == g->n)
            continue;
        double ll0 = count_ll(g, c) / phi, obj0 = count_obj(g, c, ll0 * phi, phi), best = 0;
        int pick = -1, pick_merged = 0;
        for (int i = 0; i < g->n_cands && i < RENAME_CANDS; i++) {
            const struct rca_elem *e = &g->cands[i].e;
            if (rca_elem_same(e, &c->e[k]) || !rca_leaf_in(g, e, big))
                continue;
            int merged = clash(g, c, e, k);
            if ((merged && (!g->o->rename_merge || i >= MERGE_CANDS)) ||
                (merged ? trial_merge(g, c, k, e, t) : trial(g, c, k, e, 1, t)) == -INFINITY)
                continue;
            double ll = count_ll(g, t);
            double dll = ll / phi - ll0, dobj = count_obj(g, t, ll, phi) - obj0;
            double by = merged && dobj >= g->o->penalty   ? dobj / 2
                        : dll >= RENAME_NATS && dobj >= 0 ? dll
                                                          : 0;
            if (by > best) {
                best = by;
                pick = i;
                pick_merged = merged;
            }
        }
        if (pick >= 0) {
            if (pick_merged)
                trial_merge(g, c, k, &g->cands[pick].e, t);
            else
                trial(g, c, k, &g->cands[pick].e, 1, t);
            choice_take(g, c, t);
        }
    }
}

/* The leaves of element k of c that its children kids[0..nk) do not hold: in the trial t (c with
 * k replaced by the children) they are back in the rest. Returns 2 ln LR over phi of their own
 * scale against the rest's: how far the data say they deviate from it. */
static double others_gain(const struct rca_eng *g, const struct choice *c, int k, struct choice *t,
                          double phi)
{
    double l0 = count_ll(g, t);
    int n = t->n;
    for (size_t l = 0; l < g->n; l++)
        if (c->owner[l] == k && t->owner[l] < 0)
            t->owner[l] = n;
    t->n = n + 1; /* count_ll reads the owners only */
    double l1 = count_ll(g, t);
    t->n = n;
    for (size_t l = 0; l < g->n; l++)
        if (t->owner[l] == n)
            t->owner[l] = -1;
    return 2 * (l1 - l0) / phi;
}

/* Element k of c replaced by its children along one attribute that deviate in k's direction
 * (1 to 3, at least half as much, each significant alone at p < 0.01 over the dispersion, not
 * all), the best such set by the rise of the objective in the counts' likelihood units; the
 * set keeps at most max elements. Returns 1 when k was replaced.
 *
 * split_kids (refine 0): when the objective rises and the parent's other leaves are normal by
 * that likelihood: as a part of their own they would not be significant (2 ln LR over the
 * dispersion under 6.63). The inverse of rename_merge: two true siblings asserted as their
 * parent fit the counts better by more than their extra penalty. A true element whose leaves
 * deviate unevenly (40% effect spread) also fits its most deviating children better, but then
 * its other leaves still deviate (docs/internals/rca.md, twelfth pass).
 *
 * pool_rel (refine 1), for an element of the other direction's pool: when the objective rises
 * with the children priced as a refinement of the pool's candidate: its penalty plus
 * RCA_POOLED_MIN per child, instead of each child's own layer penalty (drill_first's price).
 * The pool's elements come straight from the other direction's first-round ranking, and no
 * step judged their granularity; this is that decision. The other children need not be
 * clearly normal: they go back to the rest, and the likelihood charges the set for their
 * misfit there (real seed 2 case 13: the true child of 3 attributes fits 4.84 nats better
 * than its parent, 12 less in penalty; docs/internals/rca.md, fifteenth pass). */
static int split_one(const struct rca_eng *g, struct choice *c, int k, struct choice *t, double phi,
                     int refine, int max)
{
    const struct rca_elem cur = c->e[k];
    double d = c->dir[k];
    if (cur.n >= RCA_MAX_DEPTH)
        return 0;
    double obj0 = count_obj(g, c, count_ll(g, c), phi), best = 0;
    double pen0 = refine ? rca_penalty(g, &cur, c->part[k]) : 0;
    struct rca_elem pick[3];
    int nb = 0;
    size_t off[RCA_MAX_ATTRS];
    struct rca_agg *ch = kid_aggs(g, c, k, off);
    for (int a = 0; a < g->na; a++) {
        struct rca_elem kids[3];
        struct rca_agg dev, norm;
        if (rca_elem_has_attr(&cur, a))
            continue;
        int nk = deviating_kids(g, c, k, a, ch + off[a], kids, 3, &dev, &norm, RCA_POOLED_MIN, d);
        if (nk == 0 || c->n - 1 + nk > max || trial_dir(g, c, k, kids, nk, t, d) == -INFINITY)
            continue;
        double rise = count_obj(g, t, count_ll(g, t), phi) - obj0;
        if (refine) { /* the children's own penalties, counted in count_obj, at the price */
            for (int i = 0; i < nk; i++)
                rise += rca_penalty(g, &kids[i], t->part[t->n - nk + i]);
            rise -= pen0 + nk * RCA_POOLED_MIN;
        }
        if (rise > best && (refine || others_gain(g, c, k, t, phi) <= RCA_POOLED_MIN)) {
            best = rise;
            memcpy(pick, kids, sizeof(kids[0]) * (size_t)nk);
            nb = nk;
        }
    }
    free(ch);
    if (nb == 0)
        return 0;
    trial_dir(g, c, k, pick, nb, t, d);
    choice_take(g, c, t);
    return 1;
}

/* split_kids over the asserted elements, last first: a split appends the children, so the
 * elements before k keep their places. */
static void split_by_likelihood(const struct rca_eng *g, struct choice *c, struct choice *t)
{
    if (!g->o->split_kids || !g->ob->counts || c->n == 0)
        return;
    double phi = rca_ident_dispersion(g->ob);
    for (int k = c->n - 1; k >= 0; k--)
        split_one(g, c, k, t, phi, 0, RCA_MAX_CAUSES);
}

/* 1 when every element of c deviates in its own direction beyond the rest (part_valid_dir). */
static int parts_valid(const struct rca_eng *g, const struct choice *c)
{
    for (int i = 0; i < c->n; i++)
        if (!part_valid_dir(g, c->part[i], c->rest, c->dir[i]))
            return 0;
    return 1;
}

/* A part's term of count_ll from its sums R = sum r/d, F = sum f/d (its fitted scale R/F),
 * without the floor on the means. */
static double ll_term(double R, double F)
{
    return R > 0 && F > 0 ? R * log(R / F) - R : 0;
}

/* dir_pool: t = c with the best subset of the other direction's first DIR_POOL candidates
 * (at most DIR_SUBSET elements, none clashing with another or with c, each deviating in that
 * direction beyond the rest): the one whose counts' likelihood gain over c (2 ln LR over the
 * dispersion phi) net of their penalties is largest and positive. The gain is read from each
 * part's sums (the parts' leaves are disjoint), without the floor on the means, and checked
 * on t by count_ll. pool_rel (its pool formed without step 2's own-deviation rule): beside a
 * non-empty set, a pool element carries SIDE_SHARE of the change in its direction and keeps
 * that rule against the rest of c. Beside an asserted set a slice that hardly moves against
 * its own forecast may look deviant only against leaves that moved (default seed 4 case
 * 174: region0 beside three falling true regions); only where the chosen direction asserts
 * nothing (a drift or diurnal swing the forecast misses) is a slice moving against the rest
 * alone taken (docs/internals/rca.md, fourteenth pass). With pool_rel every pool element also
 * expects RCA_COCHRAN_F counts: the dispersion is measured on leaves expecting 10 or more, and a
 * slice of 1.2 expected that reached 13 (real seed 5 case 149) has no measured noise model
 * (fifteenth pass). Returns how many were added (0: none pays, t undefined). */
static int other_subset(const struct rca_eng *g, const struct choice *c, struct choice *t, int max,
                        double phi)
{
    struct rca_elem pool[DIR_POOL];
    double pR[DIR_POOL] = {0}, pF[DIR_POOL] = {0}, pen[DIR_POOL], rR = 0, rF = 0, best = 0;
    int np = 0, pick[DIR_SUBSET], npick = 0, room = max - c->n;
    room = room < DIR_SUBSET ? room : DIR_SUBSET;
    for (int i = 0; i < g->n_ocands && np < DIR_POOL && room > 0; i++) {
        const struct rca_elem *e = &g->ocands[i].e;
        struct rca_agg a = agg_free(g, c, e), rest = rca_agg_minus(c->rest, a);
        double share = g->oexcess > 0 ? g->odir * (a.R - a.F) / g->oexcess : 0;
        if (clash(g, c, e, -1) || !part_valid_dir(g, a, rest, g->odir))
            continue;
        if (g->o->pool_rel && c->n > 0 &&
            (share < SIDE_SHARE ||
             g->odir * (rca_kval(a) - 1) < RCA_OWN_MIN * g->odir * (rca_kval(a) - rca_kval(rest))))
            continue; /* pool_rel: beside a set, a share of the change and step 2's own rule */
        if (g->o->pool_rel && a.F < RCA_COCHRAN_F)
            continue; /* pool_rel: no measured noise model under 5 counts expected */
        pen[np] = rca_penalty(g, e, a);
        pool[np++] = *e;
    }
    if (np == 0)
        return 0;
    for (size_t l = 0; l < g->n; l++) {
        if (c->owner[l] >= 0)
            continue;
        double d = rca_ident_leaf_disp(g->ob, l), r = g->ob->r[l] / d, f = g->ob->f[l] / d;
        rR += r;
        rF += f;
        for (int i = 0; i < np; i++)
            if (rca_leaf_in(g, &pool[i], l)) {
                pR[i] += r;
                pF[i] += f;
            }
    }
    for (unsigned m = 1; m < 1u << np; m++) { /* every subset of the pool, as a bit mask */
        double sR = rR, sF = rF, ll = 0, pens = 0;
        int sub[DIR_SUBSET], ns = 0, ok = 1;
        for (int i = 0; i < np && ok; i++) {
            if (!(m >> i & 1))
                continue;
            ok = ns < room;
            for (int y = 0; y < ns && ok; y++)
                ok = !may_overlap(&pool[i], &pool[sub[y]]);
            if (!ok)
                break;
            sub[ns++] = i;
            ll += ll_term(pR[i], pF[i]);
            pens += pen[i];
            sR -= pR[i];
            sF -= pF[i];
        }
        double gain = 2 * (ll + ll_term(sR, sF) - ll_term(rR, rF)) / phi - pens;
        if (ok && gain > best) {
            best = gain;
            npick = ns;
            memcpy(pick, sub, sizeof(pick[0]) * (size_t)ns);
        }
    }
    if (npick == 0)
        return 0;
    choice_take(g, t, c);
    for (int x = 0; x < npick; x++) {
        choice_add(g, t, &pool[pick[x]], 100 + pick[x]); /* reported after c's elements */
        t->dir[t->n - 1] = g->odir;
    }
    if (!parts_valid(g, t) ||
        count_obj(g, t, count_ll(g, t), phi) <= count_obj(g, c, count_ll(g, c), phi))
        return 0;
    return npick;
}

/* dir_pool (counts): the direction (step 5) is chosen once, by the best element's weighted
 * evidence; where the true elements fall toward zero while slices rise with a diurnal swing,
 * the rise may win it and the falls are never considered. The other direction's first
 * candidates are a pool for the same set, each element with its own sign (other_subset), and
 * the set is the best by the counts' likelihood objective of: c as chosen; c with the pool's
 * best subset, then each of c's elements judged again beside them (removed when the set fits
 * better without it); and, when step 5 chose the direction against the total's, the pool's
 * best subset alone. Siblings that fall together hide one another (each one's rest holds the
 * others), hence subsets rather than single additions. The set in the chosen direction is
 * replaced only where step 5 overrode the total: unrestricted, the likelihood also replaced a
 * true rise of 85 stalls against 34 by a falling slice (docs/internals/rca.md, thirteenth
 * pass). */
static void pool_other_dir(const struct rca_eng *g, struct choice *c, struct choice *t, int max)
{
    if (!g->o->dir_pool || !g->ob->counts || g->n_ocands == 0)
        return;
    if (g->n_ocands > 1)
        qsort(g->ocands, (size_t)g->n_ocands, sizeof(*g->ocands), rca_scored_cmp);
    double phi = rca_ident_dispersion(g->ob), best = -INFINITY; /* c's objective, when needed */
    struct choice u = {0};
    u.owner = oc_malloc((g->n ? g->n : 1) * sizeof(int));
    int n0 = c->n, take = 0;
    if (other_subset(g, c, t, max, phi)) {
        best = count_obj(g, c, count_ll(g, c), phi);
        double obj = count_obj(g, t, count_ll(g, t), phi); /* t's, kept as t changes */
        for (int k = n0 - 1; k >= 0; k--) {
            choice_take(g, &u, t);
            choice_remove(g, &u, k);
            double uo = parts_valid(g, &u) ? count_obj(g, &u, count_ll(g, &u), phi) : -INFINITY;
            if (uo > obj) {
                choice_take(g, t, &u);
                obj = uo;
            }
        }
        if (obj > best) {
            best = obj;
            take = 1;
        }
    }
    if (take == 1)
        choice_take(g, c, t);
    if (n0 > 0 && g->dir != g->tdir) {
        struct choice e = {.owner = t->owner}; /* the empty set; t is free again here */
        for (size_t l = 0; l < g->n; l++) {
            e.owner[l] = -1;
            rca_agg_add(&e.rest, g->ob, l);
        }
        if (other_subset(g, &e, &u, max, phi) &&
            count_obj(g, &u, count_ll(g, &u), phi) >
                (best > -INFINITY ? best : count_obj(g, c, count_ll(g, c), phi)))
            choice_take(g, c, &u);
    }
    /* pool_rel: the pool's elements judged against their children, last first (a split
     * appends the children) */
    if (g->o->pool_rel)
        for (int k = c->n - 1; k >= 0; k--)
            if (c->dir[k] != g->dir)
                split_one(g, c, k, t, phi, 1, max);
    free(u.owner);
}

/* drill_first: nothing was asserted. A parent that deviates mildly because one child deviates
 * strongly falls short of its own penalty, and the child of the layer below short of its
 * larger one (real data's thin, noisy children). The first DRILL_FIRST candidates of the pool
 * that deviate are each tried as a parent: its children that deviate (at least half as much,
 * significant alone at p < 0.01, the others clearly normal, for counts the pooled split
 * significant) replace it, and the best such set is asserted when it pays at the price of a
 * refinement of the first candidates: the parent's penalty (the search that found it) and
 * one test at p < 0.01 per child, instead of each child's own penalty. */
static void drill_first(const struct rca_eng *g, struct choice *c, const struct rca_elem *pool,
                        int np, struct choice *t)
{
    struct rca_elem best[3], kids[3];
    int nb = 0;
    double obj = 0;
    for (int i = 0; i < np && i < DRILL_FIRST; i++) {
        if (pool[i].n >= RCA_MAX_DEPTH)
            continue;
        struct rca_agg a = agg_free(g, c, &pool[i]);
        if (g->dir * (a.R - a.F) <= 0 || g->dir * (rca_kval(a) - rca_kval(c->rest)) <= 0)
            continue;
        choice_add(g, c, &pool[i], 0);
        double o = -INFINITY;
        int nk = best_kids(g, c, 0, t, &o, kids, RCA_POOLED_MIN);
        choice_remove(g, c, 0);
        if (nk == 0)
            continue;
        o -= rca_penalty(g, &pool[i], a) + nk * RCA_POOLED_MIN;
        for (int j = 0; j < nk; j++)
            o += rca_penalty(g, &kids[j], agg_free(g, c, &kids[j]));
        if (o > obj) {
            obj = o;
            nb = nk;
            memcpy(best, kids, sizeof(kids[0]) * (size_t)nk);
        }
    }
    for (int i = 0; i < nb; i++)
        choice_add(g, c, &best[i], 0.01 * i);
}

/* The asserted set, chosen once from the greedy's causes and the first round's best
 * candidates: additions by the objective, the first candidate alone when it carries most of
 * the change, then the granularity of each element (parent or children) by the objective. */
void rca_choose_set(struct rca_eng *g, struct rca_result *r)
{
    struct rca_elem pool[RCA_MAX_CAUSES + RCA_POOL];
    int np = 0, max = g->o->max_causes < RCA_MAX_CAUSES ? g->o->max_causes : RCA_MAX_CAUSES;
    for (int i = 0; i < r->n_causes; i++)
        pool[np++] = r->causes[i];
    if (g->n_cands > 1)
        qsort(g->cands, (size_t)g->n_cands, sizeof(*g->cands), rca_scored_cmp);
    for (int i = 0; i < g->n_cands && np < RCA_MAX_CAUSES + RCA_POOL; i++) {
        int dup = 0;
        for (int j = 0; j < np && !dup; j++)
            dup = rca_elem_same(&pool[j], &g->cands[i].e);
        if (!dup)
            pool[np++] = g->cands[i].e;
        if (np >= r->n_causes + RCA_POOL)
            break;
    }
    struct choice c = {0}, t = {0};
    c.owner = oc_malloc((g->n ? g->n : 1) * sizeof(int));
    t.owner = oc_malloc((g->n ? g->n : 1) * sizeof(int));
    for (size_t l = 0; l < g->n; l++) {
        c.owner[l] = -1;
        rca_agg_add(&c.rest, g->ob, l);
    }
    struct reader by_gain = {0, 1, 0};
    add_from_pool(g, &c, pool, np, max, &by_gain);
    if (c.n == 0 && np > 0) {
        struct rca_agg a = agg_free(g, &c, &pool[0]);
        double share = g->excess > 0 ? g->dir * (a.R - a.F) / g->excess : 0;
        if (share >= MOST && part_valid(g, a, rca_agg_minus(c.rest, a)) &&
            rca_gain_vs(c.rest, 1.0) / g->phi > RCA_POOLED_MIN && /* c.rest: all leaves still */
            add_delta(g, &c, &pool[0], a) + rca_penalty(g, &pool[0], a) > RCA_POOLED_MIN)
            choice_add(g, &c, &pool[0], 0);
    }
    /* entry_ll (counts): the additions again, judged in the counts' likelihood units: the
     * weighted gain reads thin, noisy counts poorly (a cause of a few hundred stalls whose
     * leaves' histories swing), and the Poisson likelihood with each leaf's variance beyond
     * Poisson (that of --ident and rename) reads them as they are. Same rules, currency and
     * price as the additions above; only the reader of the evidence differs
     * (docs/internals/rca.md, tenth pass). */
    if (g->o->entry_ll && g->ob->counts) {
        struct reader by_ll = {1, rca_ident_dispersion(g->ob), 0};
        add_from_pool(g, &c, pool, np, max, &by_ll);
    }
    int drilled = 0; /* drill_first's children were just tested against their parent: kept */
    if (c.n == 0 && g->o->drill_first) {
        drill_first(g, &c, pool, np, &t);
        drilled = c.n > 0;
    }
    for (int pass = 0, changed = !drilled; pass < 3 && changed; pass++) {
        changed = 0;
        for (int k = 0; k < c.n; k++)
            changed |= refine(g, &c, k, &t);
    }
    rename_by_likelihood(g, &c, &t);
    split_by_likelihood(g, &c, &t);
    pool_other_dir(g, &c, &t, max);
    r->n_causes = 0;
    for (int done = 0; done < c.n; done++) { /* in rank order */
        int i = -1;
        for (int j = 0; j < c.n; j++)
            if (c.rank[j] >= 0 && (i < 0 || c.rank[j] < c.rank[i]))
                i = j;
        struct rca_elem e = rca_simplify(g, c.e[i]);
        rca_elem_fill(g, &e, c.part[i], 0);
        if (c.dir[i] != g->dir) { /* dir_pool: a share of the other direction's excess */
            double s = g->oexcess > 0 ? c.dir[i] * (c.part[i].R - c.part[i].F) / g->oexcess : 0;
            e.score = s < 0 ? 0 : s > 1 ? 1 : s;
        }
        r->causes[r->n_causes++] = e;
        c.rank[i] = -1;
    }
    free(c.owner);
    free(t.owner);
}
