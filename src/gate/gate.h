/*
 * gate.h - release gates and canaries: POST /v1/gates/{service} answers go or no-go with its
 * reasons (error budget left, no open incident on the service or what it depends on, no
 * freeze) and, for a canary, a comparison of the canary slice's QoE against its baseline with
 * a one-sided two-proportion z-test per metric. A failed canary may apply its rollback or flag
 * mitigation when gate.auto_mitigate allows that kind. Every decision is recorded as a change
 * (kind "gate"), so change correlation sees it. See docs/internals/gate.md.
 */
#ifndef OC_GATE_GATE_H
#define OC_GATE_GATE_H

#include "core/module.h"
#include "core/opt.h"
#include "qoe/qoe.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GATE_MAX_TERMS    8          /* dim=value terms of a slice */
#define GATE_SLICE_TEXT   512        /* bytes of a slice as text, with the NUL */
#define GATE_VERSION_MAX  128        /* bytes of a version */
#define GATE_MAX_WINDOW_S (86400)    /* longest canary window */
#define GATE_BODY_MAX     (16 << 10) /* bytes of a POST /v1/gates/{service} body */

/* One slice of the cube: terms on distinct or repeated dimensions (a repeated dimension means
 * any of its values, as in a QoE filter). */
struct gate_slice {
    int n; /* terms in use */
    struct {
        int dim;                           /* enum beacon_dim */
        char value[QOE_MAX_DIM_VALUE + 1]; /* NUL-terminated */
    } t[GATE_MAX_TERMS];
};

/* Parses "dim=value,dim=value" ('&' also separates terms, ':' also assigns) into out. 0, or
 * OC_EINVAL with a reason in err ("unknown dimension 'plyer'; did you mean player?"). */
int gate_slice_parse(const char *text, struct gate_slice *out /* OUT */, char *err, size_t errlen);
/* Writes s as "dim=value,dim=value" into out (n bytes). */
void gate_slice_format(const struct gate_slice *s, char *out, size_t n);

/* The metrics a canary is tested on (bits of 1u << enum qoe_metric): start failures, exits
 * before video start, and the share of viewer-minutes that rebuffered. */
#define GATE_METRICS_ALL                                                                           \
    ((1u << QOE_VSF_RATE) | (1u << QOE_EBVS_RATE) | (1u << QOE_REBUFFERING_SHARE))

/* A parsed POST /v1/gates/{service} body. Zero members mean "the setting's default". */
struct gate_request {
    int has_canary;                     /* canary (and then baseline) given */
    struct gate_slice canary, baseline; /* the slices compared */
    int64_t window_s;                   /* closed minutes compared; 0: gate.canary_window_s */
    double alpha;                       /* significance level; 0: gate.alpha_pct */
    int64_t min_sample;                 /* trials per slice and metric; 0: gate.min_sample */
    double min_lift;                    /* relative worsening that counts; <0: gate.min_lift_pct */
    unsigned metrics;                   /* GATE_METRICS_ALL bits; 0: all of them */
    char version[GATE_VERSION_MAX + 1]; /* what is being released ("" when not given) */
    int dry_run;                        /* 1: record nothing, apply nothing */
    json_t *on_fail;                    /* the mitigation for a failed canary, or NULL (owned) */
};

/* Reads body (borrowed, untrusted) into out. 0, or OC_EINVAL with a detail starting with the
 * field's name in err (for a 422). On success the caller frees out with gate_request_free. */
int gate_request_parse(const json_t *body, struct gate_request *out /* OUT */, char *err,
                       size_t errlen);
void gate_request_free(struct gate_request *r);

/* The outcome of one metric's test. */
struct gate_test {
    double x1, n1;  /* canary: bad outcomes and trials */
    double x2, n2;  /* baseline: likewise */
    double p1, p2;  /* their shares (NAN without trials) */
    double lift;    /* p1 / p2 - 1 (INFINITY when p2 is 0 and p1 is not; NAN without data) */
    double z;       /* the z statistic of p1 - p2 under the pooled share (0 when undefined) */
    double p_value; /* one-sided: the chance of a z this large were the canary no worse */
};
/* The one-sided two-proportion z-test of canary x1/n1 against baseline x2/n2 (counts may be
 * fractional: ratios times volumes). Fills out; pure. */
void gate_ztest(double x1, double n1, double x2, double n2, struct gate_test *out /* OUT */);

/* What the host (src/oncue/) binds for the gate: applying a mitigation and listing them, which
 * the gate reaches only through it (steering sits beside the gate, not under it). The builtin
 * module provides it under GATE_PROVIDES_HOST; without it a failed canary applies nothing. */
struct gate_host {
    /* Applies mitigation req (borrowed) as actor: 0 and *rec (its record, caller owns), or an
     * oc_err with a reason in err. */
    int (*mitigate)(struct oc_app *app, const json_t *req, const char *actor,
                    json_t **rec /* OUT */, char *err, size_t errlen);
    /* Every mitigation, active and reverted (new reference), or NULL without steering. */
    json_t *(*mitigations)(struct oc_app *app);
};
#define GATE_PROVIDES_HOST "gate.host"

/* `oncue gate SERVICE [--canary SLICE --baseline SLICE] ...` over a running server. */
int gate_cli_main(int argc, char **argv);
/* Its options (--help and docs/cli.md), ending in {0}. */
extern const struct oc_cli gate_cli[];

/* The gate module: POST /v1/gates/{service}, /v1/freezes. */
extern const struct oc_module gate_module;

#endif
