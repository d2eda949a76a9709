/*
 * forecast.c - the per-leaf forecast the localization compares against.
 *
 * History is the last `window` distinct time bins before `at`; a leaf with no row in a bin
 * that exists counts zero there (exports omit empty leaves), and bins absent from the whole
 * data set are skipped. Additive: the median of the leaf's history bins, scaled by the level
 * when the history's totals have a clear trend (a diurnal ramp). Ratio: the leaf's
 * pooled historical ratio, shrunk toward the global ratio for thin leaves, times the leaf's
 * total now, so a slice that only gained viewers is not anomalous. The noise of each leaf is
 * Poisson-like or the robust spread of its history (blind to a drifting level), pooled with the
 * typical relative spread of the leaves.
 */
#include "rca/rca_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FC_MAX_WINDOW  64   /* cap on history bins */
#define FC_PRIOR       20.0 /* pseudo-total pulling a thin leaf's ratio to the global one */
#define FC_VAR_FLOOR   0.02 /* variance added to every leaf so empty leaves stay finite */
#define FC_DISP_SAMPLE 2000 /* leaves sampled to tell counts from amounts */
#define FC_PRIOR_BINS  4    /* bins' worth of weight of the pooled relative spread */
#define FC_LEVEL_MIN   0.1  /* a level the total's trend moved by less than this is not followed */
#define FC_LEVEL_SIG   3.0  /* ... nor one within this many robust spreads of the trend's scatter */

/* Keeps in bins[] (ascending, at most w) the latest distinct ts below at. */
static int pick_bins(const struct rca_data *d, int64_t at, int w, int64_t *bins, int *has_now)
{
    int n = 0;
    *has_now = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        int64_t ts = d->rows[i].ts;
        if (ts == at)
            *has_now = 1;
        if (ts >= at || (n == w && ts <= bins[0]))
            continue;
        int j = n - 1;
        while (j >= 0 && bins[j] > ts)
            j--;
        if (j >= 0 && bins[j] == ts)
            continue;
        if (n == w) { /* drop the oldest, shift left up to the insertion point */
            memmove(bins, bins + 1, (size_t)j * sizeof(*bins));
            bins[j] = ts;
        } else {
            memmove(bins + j + 2, bins + j + 1, (size_t)(n - j - 1) * sizeof(*bins));
            bins[j + 1] = ts;
            n++;
        }
    }
    return n;
}

static int bin_index(const int64_t *bins, int n, int64_t ts)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (bins[mid] == ts)
            return mid;
        if (bins[mid] < ts)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Median of x[0..n-1], n <= FC_MAX_WINDOW; x is not changed. */
static double median(const double *x, int n)
{
    double s[FC_MAX_WINDOW];
    for (int i = 0; i < n; i++) {
        double v = x[i];
        int j = i - 1;
        while (j >= 0 && s[j] > v) {
            s[j + 1] = s[j];
            j--;
        }
        s[j + 1] = v;
    }
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* 1.4826 * median |x - centre|: a robust standard deviation. */
static double mad(const double *x, int n, double centre)
{
    double dev[FC_MAX_WINDOW];
    for (int i = 0; i < n; i++)
        dev[i] = fabs(x[i] - centre);
    return 1.4826 * median(dev, n);
}

/* The spread of x[0..n-1] around centre that a drift of the level does not explain: the
 * smaller of the MAD around centre and the MAD of successive differences over sqrt 2. A
 * diurnal ramp inflates the first (100 to 172 in 10 bins reads as a spread of 30), not the
 * second (8 +- 2); a history that alternates (90, 110, 90, ...) inflates the second, not
 * the first. For white noise both estimate the same spread. */
static double spread(const double *x, int n, double centre)
{
    double sm = mad(x, n, centre), d[FC_MAX_WINDOW] = {0};
    if (n < 4)
        return sm;
    for (int i = 1; i < n; i++)
        d[i - 1] = x[i] - x[i - 1];
    double sd = mad(d, n - 1, 0) / sqrt(2.0);
    return sm < sd ? sm : sd;
}

/* Fills o->f and o->w for leaf l from its history hv/ht (nb bins each). */
static void leaf_forecast(struct rca_obs *o, size_t l, const double *hv, const double *ht, int nb,
                          double cur_t, double r_glob, int ratio)
{
    double resid[FC_MAX_WINDOW], f, var;
    if (!ratio) {
        f = median(hv, nb);
        double s = spread(hv, nb, f);
        var = s * s;
    } else {
        double sv = 0, st = 0, mean_t = 0;
        for (int b = 0; b < nb; b++) {
            sv += hv[b];
            st += ht[b];
        }
        double r_hat = (sv + FC_PRIOR * r_glob) / (st + FC_PRIOR);
        for (int b = 0; b < nb; b++)
            resid[b] = hv[b] - ht[b] * r_hat;
        mean_t = st / nb;
        double s = spread(resid, nb, 0);
        f = cur_t * r_hat;
        var = s * s * (cur_t + 1) / (mean_t + 1);
    }
    o->f[l] = f;
    o->w[l] = var; /* turned into a weight by set_weights */
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Turns the spreads in o->w into weights. Ten bins tell one leaf's spread poorly, so each is
 * pooled with the typical relative spread (FC_PRIOR_BINS bins' worth). A count varies at least
 * as much as Poisson from bin to bin; when the typical leaf of some size (forecast >= 5) varies
 * far less (spread^2 under a tenth of its forecast), or when the values now are not all whole
 * numbers (whole = 0), the measure is not a count (amounts, or an export's own forecast) and
 * the Poisson floor would drown every small leaf's change: only the spread counts then. */
static void set_weights(struct rca_obs *o, int whole)
{
    double ratio[FC_DISP_SAMPLE], rel[FC_DISP_SAMPLE], rel_med = 0;
    int m = 0;
    size_t step = o->n / FC_DISP_SAMPLE + 1;
    for (size_t l = 0; l < o->n && m < FC_DISP_SAMPLE; l += step)
        if (o->f[l] >= 5) {
            ratio[m] = o->w[l] / o->f[l];
            rel[m++] = o->w[l] / (o->f[l] * o->f[l]);
        }
    o->counts = whole;
    if (m >= 20) {
        qsort(ratio, (size_t)m, sizeof(double), dbl_cmp);
        qsort(rel, (size_t)m, sizeof(double), dbl_cmp);
        o->counts = whole && ratio[m / 2] >= 0.1;
        rel_med = rel[m / 2];
    }
    for (size_t l = 0; l < o->n; l++) {
        double f = fabs(o->f[l]), var = o->w[l];
        /* a few bins tell a leaf's spread poorly: pool it with the typical relative spread */
        var = (o->bins * var + FC_PRIOR_BINS * rel_med * f * f) / (o->bins + FC_PRIOR_BINS);
        o->w[l] = 1.0 / (FC_VAR_FLOOR + (o->counts ? fmax(f, var) : var));
    }
}

/* Where the trend of the history's totals tot[0..nb) (at times bins[]) puts the total at `at`,
 * against their median: a factor to scale the leaves' medians by, or 1 when the trend is not
 * clear (its extrapolated move under FC_LEVEL_MIN of the median, or within FC_LEVEL_SIG robust
 * spreads of the totals around it). Theil-Sen: the median slope over pairs of bins. */
static double level_factor(const double *tot, const int64_t *bins, int nb, int64_t at)
{
    double sl[FC_MAX_WINDOW * (FC_MAX_WINDOW - 1) / 2]; /* 16 KB */
    double res[FC_MAX_WINDOW];
    int m = 0;
    if (nb < 6)
        return 1;
    for (int i = 0; i < nb; i++)
        for (int j = i + 1; j < nb; j++)
            sl[m++] = (tot[j] - tot[i]) / (double)(bins[j] - bins[i]);
    qsort(sl, (size_t)m, sizeof(double), dbl_cmp);
    double slope = m % 2 ? sl[m / 2] : 0.5 * (sl[m / 2 - 1] + sl[m / 2]);
    for (int i = 0; i < nb; i++)
        res[i] = tot[i] - slope * (double)(bins[i] - at);
    double icpt = median(res, nb), med = median(tot, nb);
    for (int i = 0; i < nb; i++)
        res[i] -= icpt;
    double s = mad(res, nb, 0);
    if (med <= 0 || icpt <= 0 || fabs(icpt - med) < FC_LEVEL_MIN * med ||
        fabs(icpt - med) < FC_LEVEL_SIG * s)
        return 1;
    double L = icpt / med;
    return L < 0.5 ? 0.5 : L > 2 ? 2 : L;
}

int rca_forecast(const struct rca_data *d, int64_t at, int window, struct rca_obs *o)
{
    int64_t bins[FC_MAX_WINDOW];
    int has_now, w = window < 1 ? 1 : window > FC_MAX_WINDOW ? FC_MAX_WINDOW : window;
    memset(o, 0, sizeof(*o));
    int nb = pick_bins(d, at, w, bins, &has_now);
    if (!has_now || nb == 0)
        return OC_EINVAL;
    size_t n = d->n_leaves;
    double *hv = oc_calloc(n * (size_t)nb, sizeof(double));
    double *ht = oc_calloc(n * (size_t)nb, sizeof(double));
    double *cur_t = oc_calloc(n, sizeof(double));
    double gv = 0, gt = 0;
    o->n = n;
    o->bins = nb;
    o->r = oc_calloc(n, sizeof(double));
    o->f = oc_calloc(n, sizeof(double));
    o->w = oc_calloc(n, sizeof(double));
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct rca_row *row = &d->rows[i];
        if (row->ts == at) {
            o->r[row->leaf] += row->v;
            cur_t[row->leaf] += row->t;
            continue;
        }
        int b = row->ts < at ? bin_index(bins, nb, row->ts) : -1;
        if (b < 0)
            continue;
        hv[(size_t)row->leaf * nb + b] += row->v;
        ht[(size_t)row->leaf * nb + b] += row->t;
        gv += row->v;
        gt += row->t;
    }
    double r_glob = gt > 0 ? gv / gt : 0;
    for (size_t l = 0; l < n; l++) {
        leaf_forecast(o, l, hv + l * nb, ht + l * nb, nb, cur_t[l], r_glob, d->ratio);
        o->total_t += cur_t[l];
    }
    if (!d->ratio) { /* additive: follow a clear trend of the level (a diurnal ramp) */
        double tot[FC_MAX_WINDOW] = {0};
        for (size_t l = 0; l < n; l++)
            for (int b = 0; b < nb; b++)
                tot[b] += hv[l * nb + b];
        double L = level_factor(tot, bins, nb, at);
        for (size_t l = 0; L != 1 && l < n; l++)
            o->f[l] *= L;
    }
    int whole = 1; /* a count is a whole number: 3.6 stalls or 41.25 GB is an amount */
    for (size_t l = 0; l < n && whole; l++)
        whole = fabs(o->r[l] - round(o->r[l])) < 1e-6;
    set_weights(o, whole);
    free(hv);
    free(ht);
    free(cur_t);
    return 0;
}

void rca_obs_free(struct rca_obs *o)
{
    free(o->r);
    free(o->f);
    free(o->w);
    memset(o, 0, sizeof(*o));
}
