/*
 * canary.c - the canary comparison: for each tested metric, the canary slice's bad outcomes
 * and trials against the baseline's over the same closed minutes, with a one-sided
 * two-proportion z-test. A metric fails when its p-value is below alpha divided by the number
 * of metrics tested (Bonferroni) and the canary is worse by at least min_lift; a metric with
 * fewer than min_sample trials on either side is "insufficient". See docs/internals/gate.md.
 */
#include "gate/gate_int.h"

#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void gate_ztest(double x1, double n1, double x2, double n2, struct gate_test *out)
{
    memset(out, 0, sizeof(*out));
    out->x1 = x1;
    out->n1 = n1;
    out->x2 = x2;
    out->n2 = n2;
    out->p1 = n1 > 0 ? x1 / n1 : NAN;
    out->p2 = n2 > 0 ? x2 / n2 : NAN;
    out->p_value = 1;
    if (!(n1 > 0) || !(n2 > 0)) {
        out->lift = NAN;
        return;
    }
    out->lift = out->p2 > 0 ? out->p1 / out->p2 - 1 : (out->p1 > 0 ? INFINITY : 0);
    double p = (x1 + x2) / (n1 + n2);
    double se = sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
    if (!(se > 0))
        return;
    out->z = (out->p1 - out->p2) / se;
    out->p_value = 0.5 * erfc(out->z / sqrt(2.0));
}

/* The canary metric's bad outcomes and trials over [from, to) in slice s: the metric's value
 * times its volume (the denominator summed over the range). 0 or an oc_err with err. */
static int slice_counts(struct qoe_cube *c, int metric, const struct gate_slice *s, int64_t from,
                        int64_t to, double *x, double *n, char *err, size_t errlen)
{
    struct qoe_query q;
    struct qoe_result *r = NULL;
    memset(&q, 0, sizeof q);
    q.metric = (enum qoe_metric)metric;
    q.from = from;
    q.to = to;
    q.step = to - from;
    q.top = 1;
    q.nfilters = s->n;
    for (int i = 0; i < s->n; i++)
        q.filters[i] = (struct qoe_filter){s->t[i].dim, s->t[i].value};
    int rc = qoe_query_run(c, &q, &r, err, errlen);
    *x = *n = 0;
    if (rc)
        return rc;
    if (r->nseries > 0 && r->npoints > 0) {
        double v = qoe_point(r, 0, 0);
        double vol = r->series[0].volume;
        if (!isnan(v) && vol > 0) {
            *n = vol;
            *x = v * vol;
        }
    }
    qoe_result_destroy(r);
    return 0;
}

/* A number for JSON: null when not finite. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* One metric's entry: {metric, canary:{bad, trials, share}, baseline:{...}, lift, z, p_value,
 * verdict}. */
static json_t *test_json(int metric, const struct gate_test *t, const char *verdict)
{
    return json_pack("{s:s, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:s}", "metric",
                     qoe_metrics[metric].name, "canary", "bad", num(round(t->x1)), "trials",
                     num(round(t->n1)), "share", num(t->p1), "baseline", "bad", num(round(t->x2)),
                     "trials", num(round(t->n2)), "share", num(t->p2), "lift", num(t->lift), "z",
                     num(t->z), "p_value", json_real(t->p_value), "verdict", verdict);
}

/* Appends the sentence for a failed metric to why. */
static void fail_reason(char *why, size_t n, int metric, const struct gate_test *t, double alpha_m)
{
    size_t at = strlen(why);
    if (at >= n)
        return;
    char p[32];
    if (t->p_value < 1e-12)
        snprintf(p, sizeof p, "p<1e-12");
    else
        snprintf(p, sizeof p, "p=%.2g", t->p_value);
    snprintf(why + at, n - at,
             "%s%s %.2f%% on the canary vs %.2f%% on the baseline (z=%.2f, %s < %.2g)",
             at ? "; " : "", qoe_metrics[metric].name, 100 * t->p1, 100 * t->p2, t->z, p, alpha_m);
}

int gate_canary_run(struct qoe_cube *c, const struct gate_canary_in *in, json_t **out, char *why,
                    size_t whyn, char *err, size_t errlen)
{
    int ntested = 0, nfail = 0, nenough = 0;
    char text[GATE_SLICE_TEXT];
    json_t *metrics = json_array();
    why[0] = 0;
    for (int m = 0; m < QOE_NMETRICS; m++)
        ntested += (in->metrics & (1u << m)) != 0;
    double alpha_m = in->alpha / (ntested ? ntested : 1);
    for (int m = 0; m < QOE_NMETRICS; m++) {
        if (!(in->metrics & (1u << m)))
            continue;
        double x1, n1, x2, n2;
        struct gate_test t;
        int rc = slice_counts(c, m, in->canary, in->from, in->to, &x1, &n1, err, errlen);
        if (!rc)
            rc = slice_counts(c, m, in->baseline, in->from, in->to, &x2, &n2, err, errlen);
        if (rc) {
            json_decref(metrics);
            return rc;
        }
        gate_ztest(x1, n1, x2, n2, &t);
        const char *verdict = "pass";
        if (n1 < (double)in->min_sample || n2 < (double)in->min_sample)
            verdict = "insufficient";
        else if (t.p_value < alpha_m && t.p1 > t.p2 && t.lift >= in->min_lift) {
            verdict = "fail";
            nfail++;
            fail_reason(why, whyn, m, &t, alpha_m);
        }
        nenough += strcmp(verdict, "insufficient") != 0;
        json_array_append_new(metrics, test_json(m, &t, verdict));
    }
    const char *verdict = nfail ? "fail" : nenough ? "pass" : "insufficient";
    if (!nfail && !nenough)
        snprintf(why, whyn, "not enough data: fewer than %lld trials per slice on every metric",
                 (long long)in->min_sample);
    *out = json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:I, s:f, s:s, s:o}", "canary", "", "baseline",
                     "", "from", (json_int_t)in->from, "to", (json_int_t)in->to, "alpha", in->alpha,
                     "alpha_per_metric", alpha_m, "min_sample", (json_int_t)in->min_sample,
                     "min_lift", in->min_lift, "verdict", verdict, "metrics", metrics);
    gate_slice_format(in->canary, text, sizeof text);
    json_object_set_new(*out, "canary", json_string(text));
    gate_slice_format(in->baseline, text, sizeof text);
    json_object_set_new(*out, "baseline", json_string(text));
    return nfail ? 1 : nenough ? 0 : 2;
}
