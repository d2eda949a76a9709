/*
 * test_rca_choose.c - unit tests of the set-level decision (src/rca/choose.c) on hand-built
 * data: two causes whose names may overlap (they name different attributes) but whose leaves,
 * in the data, do not; the option leaf_disjoint asserts both. A thin further cause falling to
 * zero, under its penalty by the weighted gain and over it by the counts' likelihood, which
 * entry_ll asserts. A child falling against a drift of its parent's other leaves, which
 * rel_values forms. Two causes of opposite signs, which dir_pool asserts together.
 */
#include "t.h"
#include "t_rca.h"
#include "core/buf.h"
#include "rca/rca.h"

#include <stdio.h>
#include <stdlib.h>

#define T0   1700000000
#define STEP 60
#define BINS 10

/* Leaves a=aI&b=bJ&c=cK&d=dL (3 values each, 81 leaves) without a0&b0&c0&d0: the data hold no
 * leaf of both a=a0&b=b0 and c=c0&d=d0. Each leaf's history alternates 95/105; now the 8
 * leaves of a0&b0 and the 8 of c0&d0 are at 300, the other 64 at 100. Two causes, each half
 * of the change. */
static struct rca_data *build(void)
{
    const char *names[] = {"a", "b", "c", "d"};
    struct rca_data *d = rca_data_new(4, names, 0);
    for (int bin = 0; bin <= BINS; bin++)
        for (int x = 0; x < 81; x++) {
            int i = x / 27, j = x / 9 % 3, k = x / 3 % 3, l = x % 3;
            char a[8], b[8], c[8], e[8];
            const char *vals[] = {a, b, c, e};
            int ab = i == 0 && j == 0, cd = k == 0 && l == 0;
            if (ab && cd)
                continue;
            snprintf(a, sizeof(a), "a%d", i);
            snprintf(b, sizeof(b), "b%d", j);
            snprintf(c, sizeof(c), "c%d", k);
            snprintf(e, sizeof(e), "d%d", l);
            double v = (bin + x) % 2 ? 95 : 105;
            if (bin == BINS)
                v = ab || cd ? 300 : 100;
            T_EQ_INT(rca_data_add(d, T0 + STEP * bin, vals, v, 0), 0);
        }
    return d;
}

/* By name a=a0&b=b0 and c=c0&d=d0 may overlap (neither names another value of the other's
 * attributes), so by default the second is refused beside the first and one cause is
 * asserted; with leaf_disjoint the data decide (no leaf of both) and both are asserted, in
 * the pool's order (the greedy found c=c0&d=d0 first). */
static void test_leaf_disjoint_causes(void)
{
    struct rca_data *d = build();
    struct rca_opts o;
    struct rca_result *r = calloc(1, sizeof(*r));
    rca_opts_default(&o);
    for (int on = 0; on <= 1; on++) {
        char got[256];
        o.leaf_disjoint = on;
        T_EQ_STR(t_rca_causes(d, T0 + STEP * BINS, &o, r, got, sizeof got),
                 on ? "c=c0&d=d0 | a=a0&b=b0" : "c=c0&d=d0");
    }
    free(r);
    rca_data_destroy(d);
}

/* Leaves a=aI&b=bJ&c=cK (6 x 3 x 3 = 54). History alternates around 20 (16/24) for the leaves
 * of a0 and a2-a5, and around 2 (1/3) for those of a1: counts. Now a0's 9 leaves fall to 6 (a clear
 * cause), a1's 9 fall to 0 (18 stalls expected, none seen: thin), the rest stay at 20. */
static struct rca_data *build_thin(void)
{
    const char *names[] = {"a", "b", "c"};
    struct rca_data *d = rca_data_new(3, names, 0);
    for (int bin = 0; bin <= BINS; bin++)
        for (int x = 0; x < 54; x++) {
            int i = x / 9, j = x / 3 % 3, k = x % 3;
            char a[8], b[8], c[8];
            const char *vals[] = {a, b, c};
            snprintf(a, sizeof(a), "a%d", i);
            snprintf(b, sizeof(b), "b%d", j);
            snprintf(c, sizeof(c), "c%d", k);
            int up = (bin + x) % 2;
            double v = i == 1 ? (up ? 3 : 1) : (up ? 24 : 16);
            if (bin == BINS)
                v = i == 0 ? 6 : i == 1 ? 0 : 20;
            T_EQ_INT(rca_data_add(d, T0 + STEP * bin, vals, v, 0), 0);
        }
    return d;
}

/* a=a1 (18 expected, 0 now) gains 17.1 by the weighted gain, under its penalty of 24 (a
 * Pearson-like reading of a fall to zero), and 34.9 by the Poisson likelihood (2 x 18 less the
 * rest's refit), over it.
 * By default (entry_ll) both causes are asserted; without it, a=a0 alone. */
static void test_entry_likelihood_thin_cause(void)
{
    struct rca_data *d = build_thin();
    struct rca_opts o;
    struct rca_result *r = calloc(1, sizeof(*r));
    rca_opts_default(&o);
    T_EQ_INT(o.entry_ll, 1);
    for (int on = 0; on <= 1; on++) {
        char got[256];
        o.entry_ll = on;
        T_EQ_STR(t_rca_causes(d, T0 + STEP * BINS, &o, r, got, sizeof got),
                 on ? "a=a0 | a=a1" : "a=a0");
    }
    free(r);
    rca_data_destroy(d);
}

/* Leaves a=aI&b=bJ&c=cK (4 x 4 x 2 = 32). History alternates 95/105 (a count's spread) except
 * the 2 leaves of a0&b0, which alternate 253/347 (a noisy history: variance about 3,600 against
 * a forecast of 300). Now the 30 others rise by 30% (a drift: 130) and a0&b0's fall to 0: the
 * total rises by 300 while a0&b0 falls by 600. */
static struct rca_data *build_drift_child(void)
{
    const char *names[] = {"a", "b", "c"};
    struct rca_data *d = rca_data_new(3, names, 0);
    for (int bin = 0; bin <= BINS; bin++)
        for (int x = 0; x < 32; x++) {
            int i = x / 8, j = x / 2 % 4, k = x % 2, child = i == 0 && j == 0;
            char a[8], b[8], c[8];
            const char *vals[] = {a, b, c};
            snprintf(a, sizeof(a), "a%d", i);
            snprintf(b, sizeof(b), "b%d", j);
            snprintf(c, sizeof(c), "c%d", k);
            int up = (bin + x) % 2;
            double v = child ? (up ? 347 : 253) : (up ? 105 : 95);
            if (bin == BINS)
                v = child ? 0 : 130;
            T_EQ_INT(rca_data_add(d, T0 + STEP * bin, vals, v, 0), 0);
        }
    return d;
}

/* a=a0 and b=b0 each fall by 420 (their child a0&b0's 600 against their 6 other leaves'
 * rise of 180), yet their weighted scale (about 1.2) follows the drift, the child's noisy leaves
 * weighing little: no contrast of their own, so they were never combined and a0&b0 never
 * formed (each of its leaves alone is under its penalty). rel_values combines them, as they
 * deviate against the rest (1.2 against 1.3). */
static void test_relative_values_child(void)
{
    struct rca_data *d = build_drift_child();
    struct rca_opts o;
    struct rca_result *r = calloc(1, sizeof(*r));
    rca_opts_default(&o);
    T_EQ_INT(o.rel_values, 1);
    o.dir_pool = 0; /* the falling direction's pool asserts a0&b0's two leaves without it */
    for (int on = 0; on <= 1; on++) {
        char got[256];
        o.rel_values = on;
        T_EQ_STR(t_rca_causes(d, T0 + STEP * BINS, &o, r, got, sizeof got), on ? "a=a0&b=b0" : "");
    }
    free(r);
    rca_data_destroy(d);
}

/* Leaves a=aI&b=bJ (6 x 3 = 18). History alternates 16/24 (counts around 20). Now a0's 3
 * leaves rise to 60 and a1's 3 fall to 0 (60 expected, none seen), the other 12 stay at 20:
 * two causes of opposite signs, the total up by 60. */
static struct rca_data *build_both_signs(void)
{
    const char *names[] = {"a", "b"};
    struct rca_data *d = rca_data_new(2, names, 0);
    for (int bin = 0; bin <= BINS; bin++)
        for (int x = 0; x < 18; x++) {
            int i = x / 3, j = x % 3;
            char a[8], b[8];
            const char *vals[] = {a, b};
            snprintf(a, sizeof(a), "a%d", i);
            snprintf(b, sizeof(b), "b%d", j);
            double v = (bin + x) % 2 ? 24 : 16;
            if (bin == BINS)
                v = i == 0 ? 60 : i == 1 ? 0 : 20;
            T_EQ_INT(rca_data_add(d, T0 + STEP * bin, vals, v, 0), 0);
        }
    return d;
}

/* The direction (step 5) is the rise: a=a0 has more evidence. Every element of the set was
 * one deviating in that direction, so a=a1's fall was never asserted beside it; with dir_pool
 * the falling direction's candidates are a pool for the same set, each with its own sign, and
 * a=a1 pays by the counts' likelihood. */
static void test_both_directions(void)
{
    struct rca_data *d = build_both_signs();
    struct rca_opts o;
    struct rca_result *r = calloc(1, sizeof(*r));
    rca_opts_default(&o);
    T_EQ_INT(o.dir_pool, 1);
    for (int on = 0; on <= 1; on++) {
        char got[256];
        o.dir_pool = on;
        T_EQ_STR(t_rca_causes(d, T0 + STEP * BINS, &o, r, got, sizeof got),
                 on ? "a=a0 | a=a1" : "a=a0");
    }
    free(r);
    rca_data_destroy(d);
}

static const struct t_case cases[] = {
    T_CASE(test_both_directions),
    T_CASE(test_relative_values_child),
    T_CASE(test_leaf_disjoint_causes),
    T_CASE(test_entry_likelihood_thin_cause),
    {0},
};

T_MAIN(cases)
