/*
 * changes.c - change correlation: which recorded deploy, config change or flag flip lines up
 * with the metric that moved first.
 *
 * rca_onset finds when one metric series started to move (the first bin of the run of
 * deviating bins that ends at the anomaly); rca_first_onset takes the earliest over several
 * metrics; rca_changes_rank scores each change of the 6 hours before that onset by how close
 * it came before it, whether its service is the affected one, and its kind. Pure functions:
 * the store and HTTP sides only feed them.
 */
#include "rca/rca.h"

#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHG_SKEW_S    60    /* a change stamped this much after the onset still counts */
#define CHG_HALF_S    900.0 /* gap at which the time factor halves (hyperbolic decay) */
#define CHG_SVC_OTHER 0.25  /* factor of a change on another service */
#define CHG_SVC_UNK   0.5   /* factor of every change when the affected service is unknown */
#define ONSET_Z       3.0   /* robust standard deviations that make a bin "moved" */
#define ONSET_BASE    60    /* bins before a candidate bin that form its baseline */
#define ONSET_MAX_RUN 240   /* longest run of moved bins walked back over */

/* Weight of each kind of change; other kinds get the last row's weight. */
static const struct chg_kind {
    const char *kind; /* as recorded */
    double weight;    /* prior that such a change breaks playback */
} chg_kinds[] = {
    {"deploy", 1.0}, {"rollback", 0.9}, {"config", 0.8}, {"flag", 0.8}, {NULL, 0.6},
};

static double kind_weight(const char *kind)
{
    const struct chg_kind *k = chg_kinds;
    for (; k->kind; k++)
        if (kind && strcasecmp(kind, k->kind) == 0)
            break;
    return k->weight;
}

static double service_factor(const char *change_svc, const char *svc)
{
    if (!svc || !*svc)
        return CHG_SVC_UNK;
    return change_svc && strcasecmp(change_svc, svc) == 0 ? 1.0 : CHG_SVC_OTHER;
}

static int by_rank(const void *x, const void *y)
{
    const struct rca_change_score *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return a->lead_s < b->lead_s ? -1 : a->lead_s > b->lead_s;
}

size_t rca_changes_rank(const struct rca_change *ch, size_t n, int64_t onset, const char *service,
                        struct rca_change_score *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lead = onset - ch[i].time;
        if (lead > RCA_CHANGE_WINDOW_S || lead < -CHG_SKEW_S)
            continue;
        double gap = lead > 0 ? (double)lead : 0;
        double score = 1.0 / (1.0 + gap / CHG_HALF_S);
        score *= service_factor(ch[i].service, service) * kind_weight(ch[i].kind);
        out[k++] = (struct rca_change_score){i, score, lead};
    }
    if (k > 1)
        qsort(out, k, sizeof(*out), by_rank);
    return k;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of x[0..n) using scratch (n doubles). */
static double median_of(const double *x, size_t n, double *scratch)
{
    memcpy(scratch, x, n * sizeof(*x));
    qsort(scratch, n, sizeof(*scratch), cmp_dbl);
    return n % 2 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]);
}

/* The median and robust standard deviation of v[0..n), n <= ONSET_BASE. */
static void baseline(const double *v, size_t n, double *med, double *sd)
{
    double dev[ONSET_BASE], scratch[ONSET_BASE];
    *med = median_of(v, n, scratch);
    for (size_t i = 0; i < n; i++)
        dev[i] = fabs(v[i] - *med);
    *sd = 1.4826 * median_of(dev, n, scratch);
}

int rca_onset(const int64_t *ts, const double *v, size_t n, int64_t at, int64_t *onset)
{
    size_t end = 0;
    while (end < n && ts[end] <= at)
        end++;
    if (end < 3 || ts[end - 1] != at)
        return OC_ENOTFOUND;
    /* Walk back over the deviating run, each bin judged against the bins just before it. */
    size_t run = end - 1; /* the earliest deviating bin so far */
    for (size_t steps = 0; steps < ONSET_MAX_RUN; steps++) {
        size_t nb = run < ONSET_BASE ? run : ONSET_BASE;
        if (nb < 2)
            break;
        double med, sd;
        baseline(v + run - nb, nb, &med, &sd);
        double thr = ONSET_Z * (sd > 0 ? sd : fabs(med) * 0.01 + 1e-9);
        double d = v[run] - med;
        if (fabs(d) <= thr || d * (v[end - 1] - med) < 0)
            break;
        run--;
    }
    if (run == end - 1)
        return OC_ENOTFOUND; /* the anomaly bin itself has not moved */
    *onset = ts[run + 1];
    return 0;
}

int rca_first_onset(const struct rca_series *s, size_t n, int64_t at, size_t *which, int64_t *onset)
{
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t;
        if (rca_onset(s[i].ts, s[i].v, s[i].n, at, &t) != 0)
            continue;
        if (!found || t < *onset) {
            *onset = t;
            *which = i;
            found = 1;
        }
    }
    return found ? 0 : OC_ENOTFOUND;
}
