/*
 * ident.c - a diagnostic of the evaluation: can the data tell a true element from another?
 *
 * The log-likelihood of a case under "these elements are the anomaly": one fitted scale per
 * element (a leaf goes to the first element holding it) and one for the other leaves.
 * Counts are Poisson, each leaf's term divided by its variance beyond Poisson (the engine's
 * variance model: a noisy history's spread), amounts Gaussian with the forecast's weights;
 * both divided by the data set's remaining dispersion (a quasi-likelihood). `oncue rca eval
 * --ident` compares a missed true element with the element asserted in its place, or its best
 * parent, this way. The engine's renaming step (choose.c) uses the same count likelihood
 * (rca_ident_leaf_disp, rca_ident_dispersion).
 */
#include "rca/rca_int.h"

#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IDENT_SAMPLE    2000 /* leaves sampled for the dispersion */
#define IDENT_MU_MIN    0.02 /* a Poisson mean is at least this */
#define IDENT_VAR_FLOOR 0.02 /* the forecast's variance floor (forecast.c) */

/* A count's variance beyond Poisson, from the engine's variance model (its history's spread,
 * Forecast): 1 for a leaf that varies like a count, more for a noisy one. */
double rca_ident_leaf_disp(const struct rca_obs *ob, size_t l)
{
    double f = ob->f[l], v = 1 / ob->w[l] - IDENT_VAR_FLOOR;
    return f > 0 && v > f ? v / f : 1;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double rca_ident_dispersion(const struct rca_obs *ob)
{
    double *x = oc_malloc(IDENT_SAMPLE * sizeof(double)),
           *kr = oc_malloc(IDENT_SAMPLE * sizeof(double));
    size_t *idx = oc_malloc(IDENT_SAMPLE * sizeof(size_t)), step = ob->n / IDENT_SAMPLE + 1;
    int m = 0;
    double phi = 1, sum = 0;
    for (size_t l = 0; l < ob->n && m < IDENT_SAMPLE; l += step)
        if (ob->f[l] >= (ob->counts ? 10 : 1e-9)) {
            kr[m] = ob->r[l] / ob->f[l];
            idx[m++] = l;
        }
    if (m >= 20) {
        qsort(kr, (size_t)m, sizeof(double), dbl_cmp);
        double k = kr[m / 2] > 0 ? kr[m / 2] : 1;
        for (int i = 0; i < m; i++) {
            double f = ob->f[idx[i]], dv = ob->r[idx[i]] - k * f;
            x[i] = dv * dv *
                   (ob->counts ? 1 / (k * f * rca_ident_leaf_disp(ob, idx[i])) : ob->w[idx[i]]);
        }
        qsort(x, (size_t)m, sizeof(double), dbl_cmp);
        for (int i = 0; i < 3 * m / 4; i++)
            sum += x[i];
        phi = sum / (3 * m / 4) / 0.368;
        phi = phi < 1 ? 1 : phi > 10 ? 10 : phi;
    }
    free(x);
    free(kr);
    free(idx);
    return phi;
}

int rca_ident_open(struct rca_ident *x, const struct rca_data *d, int64_t at, int window)
{
    memset(x, 0, sizeof(*x));
    x->d = d;
    int rc = rca_forecast(d, at, window, &x->ob);
    if (rc != 0)
        return rc;
    x->phi = rca_ident_dispersion(&x->ob);
    x->group = oc_malloc((x->ob.n ? x->ob.n : 1) * sizeof(int));
    return 0;
}

void rca_ident_close(struct rca_ident *x)
{
    if (!x->d)
        return;
    rca_obs_free(&x->ob);
    free(x->group);
    x->d = NULL;
}

double rca_ident_ll(struct rca_ident *x, const struct rca_elem *set, int n)
{
    double R[RCA_IDENT_SET + 1] = {0}, F[RCA_IDENT_SET + 1] = {0}, Srf[RCA_IDENT_SET + 1] = {0},
                             Sff[RCA_IDENT_SET + 1] = {0}, k[RCA_IDENT_SET + 1], ll = 0;
    const struct rca_obs *ob = &x->ob;
    if (n > RCA_IDENT_SET)
        n = RCA_IDENT_SET;
    for (size_t l = 0; l < ob->n; l++) {
        int g = 0;
        while (g < n && !rca_data_leaf_in(x->d, &set[g], l))
            g++;
        x->group[l] = g; /* n: the rest */
        double dl = ob->counts ? rca_ident_leaf_disp(ob, l) : 1;
        R[g] += ob->r[l] / dl;
        F[g] += ob->f[l] / dl;
        Srf[g] += ob->w[l] * ob->r[l] * ob->f[l];
        Sff[g] += ob->w[l] * ob->f[l] * ob->f[l];
    }
    for (int g = 0; g <= n; g++)
        k[g] = ob->counts ? (F[g] > 0 ? R[g] / F[g] : 1) : (Sff[g] > 1e-12 ? Srf[g] / Sff[g] : 1);
    for (size_t l = 0; l < ob->n; l++) {
        double r = ob->r[l], mu = k[x->group[l]] * ob->f[l];
        if (ob->counts) {
            mu = mu > IDENT_MU_MIN ? mu : IDENT_MU_MIN;
            ll += (r * log(mu) - mu - (r >= 0 ? lgamma(r + 1) : 0)) / rca_ident_leaf_disp(ob, l);
        } else {
            ll -= 0.5 * ob->w[l] * (r - mu) * (r - mu);
        }
    }
    return ll / x->phi;
}

/* The log-likelihood of truths with truths[k] replaced by alt, the other truths first. */
static double ll_with(struct rca_ident *x, const struct rca_elem *truths, int n, int k,
                      const struct rca_elem *alt)
{
    struct rca_elem set[RCA_IDENT_SET];
    int m = 0;
    for (int i = 0; i < n && m < RCA_IDENT_SET - 1; i++)
        if (i != k)
            set[m++] = truths[i];
    set[m++] = *alt;
    return rca_ident_ll(x, set, m);
}

double rca_ident_delta(struct rca_ident *x, const struct rca_elem *truths, int n, int k,
                       const struct rca_elem *alt, struct rca_elem *parent)
{
    double lt = ll_with(x, truths, n, k, &truths[k]);
    if (alt)
        return lt - ll_with(x, truths, n, k, alt);
    double best = -INFINITY;
    struct rca_elem p = {0};
    *parent = p; /* a 1-pair element's parent: every leaf (no pair) */
    for (int i = 0; i < truths[k].n; i++) {
        p = truths[k];
        p.n--;
        for (int j = i; j < p.n; j++) {
            p.attr[j] = p.attr[j + 1];
            p.val[j] = p.val[j + 1];
        }
        double lp = ll_with(x, truths, n, k, &p);
        if (lp > best) {
            best = lp;
            *parent = p;
        }
    }
    return lt - best;
}

double rca_ident_own(struct rca_ident *x, const struct rca_elem *truths, int n, int k)
{
    struct rca_elem set[RCA_IDENT_SET];
    int m = 0;
    for (int i = 0; i < n && m < RCA_IDENT_SET; i++)
        if (i != k)
            set[m++] = truths[i];
    return rca_ident_ll(x, truths, n) - rca_ident_ll(x, set, m);
}

int rca_ident_class(double delta, double nats)
{
    return delta >= nats ? RCA_IDENT_TRUTH : delta <= -nats ? RCA_IDENT_ALT : RCA_IDENT_INDIST;
}
