/*
 * request.c - the untrusted input of a gate: slices ("player_version=2.19.0") and the body of
 * POST /v1/gates/{service}. Pure functions; each error names the field, with "did you mean"
 * for a mistyped dimension or metric. Fuzzed by tests/fuzz/fuzz_gate_request.c.
 */
#include "gate/gate.h"

#include "core/err.h"
#include "core/json.h"
#include "core/suggest.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const body_keys[] = {"canary",     "baseline", "window_s", "alpha",
                                        "min_sample", "min_lift", "metrics",  "version",
                                        "on_fail",    "dry_run",  NULL};

/* The mitigation kinds a failed canary may ask for (steer validates the rest). */
static const char *const fail_kinds[] = {"rollback", "flag", NULL};

/* "unknown dimension 'X'; did you mean Y?" */
static void unknown_dim(const char *s, size_t n, char *err, size_t errlen)
{
    struct oc_suggest sg;
    char hint[96];
    oc_suggest_init(&sg, s, n);
    for (int d = 0; d < BEACON_NDIMS; d++)
        oc_suggest_add(&sg, beacon_dim_names[d]);
    snprintf(err, errlen, "unknown dimension '%.*s'%s", (int)(n > 64 ? 64 : n), s,
             oc_suggest_hint(&sg, hint, sizeof hint));
}

/* One "dim=value" term of n bytes at p into out's next slot. */
static int parse_term(const char *p, size_t n, struct gate_slice *out, char *err, size_t errlen)
{
    size_t k = strcspn(p, "=:");
    if (k >= n) {
        snprintf(err, errlen, "'%.*s' is not dim=value", (int)(n > 64 ? 64 : n), p);
        return OC_EINVAL;
    }
    char name[32];
    if (k == 0 || k >= sizeof name) {
        unknown_dim(p, k, err, errlen);
        return OC_EINVAL;
    }
    memcpy(name, p, k);
    name[k] = 0;
    int dim = qoe_dim_parse(name);
    if (dim < 0) {
        unknown_dim(p, k, err, errlen);
        return OC_EINVAL;
    }
    size_t vn = n - k - 1;
    if (vn == 0 || vn > QOE_MAX_DIM_VALUE || memchr(p + k + 1, 0, vn)) {
        snprintf(err, errlen, "%s: a value of 1 to %d bytes", name, QOE_MAX_DIM_VALUE);
        return OC_EINVAL;
    }
    if (out->n == GATE_MAX_TERMS) {
        snprintf(err, errlen, "at most %d terms", GATE_MAX_TERMS);
        return OC_EINVAL;
    }
    out->t[out->n].dim = dim;
    memcpy(out->t[out->n].value, p + k + 1, vn);
    out->t[out->n].value[vn] = 0;
    out->n++;
    return 0;
}

int gate_slice_parse(const char *text, struct gate_slice *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!text || !*text) {
        snprintf(err, errlen, "an empty slice (dim=value,dim=value)");
        return OC_EINVAL;
    }
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ",&");
        int rc = parse_term(p, n, out, err, errlen);
        if (rc)
            return rc;
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

void gate_slice_format(const struct gate_slice *s, char *out, size_t n)
{
    size_t at = 0;
    if (n)
        out[0] = 0;
    for (int i = 0; i < s->n && at < n; i++) {
        int w = snprintf(out + at, n - at, "%s%s=%s", i ? "," : "", beacon_dim_names[s->t[i].dim],
                         s->t[i].value);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

/* The slice member key of body into out; 0 or OC_EINVAL with err naming the field. */
static int body_slice(const json_t *body, const char *key, struct gate_slice *out, char *err,
                      size_t errlen)
{
    const char *s;
    char why[200];
    if (oc_json_get_str(body, key, &s) != 0) {
        snprintf(err, errlen, "%s: a slice string such as \"player_version=7.2.0\"", key);
        return OC_EINVAL;
    }
    if (gate_slice_parse(s, out, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", key, why);
        return OC_EINVAL;
    }
    return 0;
}

/* metrics: ["vsf_rate", ...], each one of GATE_METRICS_ALL. */
static int body_metrics(const json_t *body, unsigned *out, char *err, size_t errlen)
{
    const json_t *a = json_object_get(body, "metrics"), *v;
    size_t i;
    *out = 0;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 8) {
        snprintf(err, errlen, "metrics: an array of 1 to 8 metric names");
        return OC_EINVAL;
    }
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        int m = s ? qoe_metric_parse(s) : -1;
        if (m < 0 || !(GATE_METRICS_ALL & (1u << m))) {
            struct oc_suggest sg;
            char hint[96];
            oc_suggest_init(&sg, s ? s : "", s ? strlen(s) : 0);
            for (int k = 0; k < QOE_NMETRICS; k++)
                if (GATE_METRICS_ALL & (1u << k))
                    oc_suggest_add(&sg, qoe_metrics[k].name);
            snprintf(err, errlen,
                     "metrics[%zu]: '%.64s' is not a canary metric%s (vsf_rate, ebvs_rate, "
                     "rebuffering_share)",
                     i, s ? s : "", oc_suggest_hint(&sg, hint, sizeof hint));
            return OC_EINVAL;
        }
        *out |= 1u << m;
    }
    return 0;
}

/* on_fail: {kind: rollback|flag, ...}: kept for steer to validate when it applies it. */
static int body_on_fail(const json_t *body, json_t **out, char *err, size_t errlen)
{
    json_t *o = json_object_get(body, "on_fail");
    const char *kind;
    *out = NULL;
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o) || oc_json_get_str(o, "kind", &kind) != 0) {
        snprintf(err, errlen, "on_fail: a mitigation object {kind: rollback|flag, ...}");
        return OC_EINVAL;
    }
    for (const char *const *k = fail_kinds; *k; k++)
        if (strcmp(*k, kind) == 0) {
            *out = json_incref(o);
            return 0;
        }
    snprintf(err, errlen, "on_fail.kind: '%.32s' is not rollback or flag", kind);
    return OC_EINVAL;
}

/* A number member in (lo, hi) into *out (def when absent). */
static int body_share(const json_t *body, const char *key, double lo, double hi, double def,
                      double *out, char *err, size_t errlen)
{
    int rc = oc_json_get_num(body, key, out);
    if (rc == OC_ENOTFOUND) {
        *out = def;
        return 0;
    }
    if (rc != 0 || !isfinite(*out) || *out <= lo || *out >= hi) {
        snprintf(err, errlen, "%s: a number above %g and below %g", key, lo, hi);
        return OC_EINVAL;
    }
    return 0;
}

/* The scalar members: window_s, alpha, min_sample, min_lift, version, dry_run. */
static int body_scalars(const json_t *body, struct gate_request *r, char *err, size_t errlen)
{
    const char *v;
    int rc = oc_json_get_int_range(body, NULL, "window_s", 60, GATE_MAX_WINDOW_S, &r->window_s, err,
                                   errlen);
    if (rc == OC_ENOTFOUND)
        r->window_s = 0;
    else if (rc)
        return OC_EINVAL;
    rc = oc_json_get_int_range(body, NULL, "min_sample", 1, 100000000, &r->min_sample, err, errlen);
    if (rc == OC_ENOTFOUND)
        r->min_sample = 0;
    else if (rc)
        return OC_EINVAL;
    if (body_share(body, "alpha", 0, 0.5, 0, &r->alpha, err, errlen) ||
        body_share(body, "min_lift", -1e-300, 100, -1, &r->min_lift, err, errlen))
        return OC_EINVAL;
    rc = oc_json_get_str(body, "version", &v);
    if (rc == 0 && strlen(v) <= GATE_VERSION_MAX)
        snprintf(r->version, sizeof r->version, "%s", v);
    else if (rc != OC_ENOTFOUND) {
        snprintf(err, errlen, "version: a string of at most %d bytes", GATE_VERSION_MAX);
        return OC_EINVAL;
    }
    rc = oc_json_get_bool(body, "dry_run", &r->dry_run);
    if (rc == OC_EINVAL) {
        snprintf(err, errlen, "dry_run: true or false");
        return OC_EINVAL;
    }
    return 0;
}

int gate_request_parse(const json_t *body, struct gate_request *out, char *err, size_t errlen)
{
    const char *bad;
    char path[64];
    memset(out, 0, sizeof(*out));
    out->min_lift = -1;
    if (!json_is_object(body)) {
        snprintf(err, errlen, "body: a JSON object");
        return OC_EINVAL;
    }
    if ((bad = oc_json_unknown_key(body, body_keys)) != NULL) {
        char hint[96];
        snprintf(err, errlen, "%.64s: unknown field%s", bad,
                 oc_suggest_names(bad, body_keys, sizeof(body_keys[0]), hint, sizeof hint));
        return OC_EINVAL;
    }
    if (oc_json_find_nul(body, path, sizeof path) != 0) {
        snprintf(err, errlen, "%s: a string with a NUL character", path);
        return OC_EINVAL;
    }
    int has_c = json_object_get(body, "canary") != NULL;
    int has_b = json_object_get(body, "baseline") != NULL;
    if (has_c != has_b) {
        snprintf(err, errlen, "%s: required with %s", has_c ? "baseline" : "canary",
                 has_c ? "canary" : "baseline");
        return OC_EINVAL;
    }
    out->has_canary = has_c;
    if (has_c && (body_slice(body, "canary", &out->canary, err, errlen) ||
                  body_slice(body, "baseline", &out->baseline, err, errlen)))
        return OC_EINVAL;
    if (body_scalars(body, out, err, errlen) || body_metrics(body, &out->metrics, err, errlen) ||
        body_on_fail(body, &out->on_fail, err, errlen)) {
        gate_request_free(out);
        return OC_EINVAL;
    }
    return 0;
}

void gate_request_free(struct gate_request *r)
{
    json_decref(r->on_fail);
    r->on_fail = NULL;
}
