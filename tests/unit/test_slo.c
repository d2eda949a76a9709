/*
 * test_slo.c - the SLO loader: the shipped defaults (embedded equal to examples/slos.yaml),
 * every field read, OpenSLO shape enforced, errors "FILE:LINE: message naming the field",
 * unknown fields rejected; durations. Budget and burn-rate math is in test_alert.c (it needs
 * a cube).
 */
#include "t.h"

#include "core/err.h"
#include "qoe/qoe.h"
#include "slo/slo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *rel, size_t *len)
{
    const char *src = getenv("ONCUE_SRC");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
    FILE *fp = fopen(path, "rb");
    char *buf = calloc(1, SLO_MAX_FILE + 1);
    *len = fp ? fread(buf, 1, SLO_MAX_FILE, fp) : 0;
    if (fp)
        fclose(fp);
    return buf;
}

/* The shipped SLOs: embedded copy equals the file; the four CTA-2066 metrics and startup. */
static void test_defaults(void)
{
    size_t n = 0, fn = 0;
    char *emb = slo_default_yaml(&n), *file = slurp("examples/slos.yaml", &fn);
    struct slo_set *s = NULL;
    char err[256] = "";
    T_EQ_INT(n, fn);
    T_TRUE(n == fn && memcmp(emb, file, n) == 0);
    T_EQ_INT(slo_set_load("", &s, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(s->n, 5);
    const struct slo *v = slo_find(s, "vsf-rate");
    T_TRUE(v != NULL);
    T_EQ_INT(v->metric, QOE_VSF_RATE);
    T_EQ_INT(v->how, SLO_OCCURRENCES);
    T_EQ_DBL(v->value, 0.01, 1e-15);
    T_EQ_INT(v->window_s, 28 * 86400);
    T_EQ_STR(v->service, "playback");
    const struct slo *r = slo_find(s, "rebuffering-share");
    T_EQ_INT(r->metric, QOE_REBUFFERING_SHARE);
    T_EQ_INT(r->how, SLO_TIMESLICES);
    T_EQ_DBL(r->target, 0.995, 1e-15);
    T_EQ_INT(r->op, SLO_OP_LT);
    T_TRUE(slo_find(s, "ebvs-rate") && slo_find(s, "rebuffer-ratio"));
    T_TRUE(slo_find(s, "nope") == NULL);
    json_t *j = slo_json(r, NULL);
    T_EQ_STR(json_string_value(json_object_get(json_object_get(j, "indicator"), "metric")),
             "rebuffering_share");
    T_EQ_STR(json_string_value(json_object_get(j, "budgeting_method")), "timeslices");
    json_decref(j);
    slo_set_destroy(s);
    free(emb);
    free(file);
}

#define HEAD "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: x\n"
#define SPEC                                                                                       \
    "spec:\n  service: s\n  indicator:\n    metric: vsf_rate\n    filter: {region: EMEA}\n"        \
    "  objective:\n    op: \"<\"\n    value: 0.02\n    target: 0.99\n"                             \
    "  timeWindow:\n    duration: 7d\n    isRolling: true\n"

/* A custom SLO with a slice, and a second document. */
static void test_parse(void)
{
    static const char y[] = HEAD SPEC "---\n" HEAD SPEC;
    struct slo_set *s = NULL;
    char err[256] = "";
    T_EQ_INT(slo_set_parse("s.yaml", y, strlen(y), &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "s.yaml:18: metadata.name: 'x' defined twice");
    T_EQ_INT(slo_set_parse("s.yaml", HEAD SPEC, strlen(HEAD SPEC), &s, err, sizeof(err)), 0);
    T_EQ_INT(s->n, 1);
    T_EQ_INT(s->slos[0].nfilters, 1);
    T_EQ_STR(s->slos[0].filters[0].value, "EMEA");
    T_EQ_INT(s->slos[0].window_s, 7 * 86400);
    T_EQ_INT(s->slos[0].how, SLO_TIMESLICES);
    T_EQ_DBL(s->slos[0].target, 0.99, 1e-15);
    slo_set_destroy(s);
}

static void test_errors(void)
{
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {HEAD "spec:\n  service: s\n  colour: red\n", "s.yaml:7: spec: unknown field 'colour'"},
        {"apiVersion: openslo/v2\nkind: SLO\n", "s.yaml:1: apiVersion: expected openslo/v1"},
        {"apiVersion: openslo/v1\nkind: SLI\n", "s.yaml:1: metadata: required"},
        {"apiVersion: openslo/v1\nkind: AlertPolicy\n", "s.yaml:1: metadata: required"},
        {"apiVersion: openslo/v1\nkind: AlertNotificationTarget\n",
         "s.yaml:2: kind: unsupported: AlertNotificationTarget (oncue reads SLO, SLI, DataSource, "
         "Service, AlertPolicy and AlertCondition)"},
        {HEAD "spec:\n  service: s\n  indicator:\n    metric: bogus\n",
         "s.yaml:8: metric: unknown 'bogus'; valid: vsf_rate, ebvs_rate, rebuffer_ratio, "
         "rebuffering_share, avg_bitrate_kbps, startup_p50_ms, startup_p95_ms, plays, "
         "concurrent_viewers, concurrent_rebuffering_share, edge_requests, edge_5xx_rate, "
         "edge_cache_miss_rate"},
        {HEAD "spec:\n  service: s\n  indicator:\n    metric: vsf_rate\n    filter: {planet: x}\n",
         "s.yaml:9: filter: unknown dimension 'planet'"},
        {HEAD "spec:\n  service: s\n  indicator:\n    metric: vsf_rate\n  objective:\n"
              "    op: \"<=\"\n",
         "s.yaml:10: op: expected \"<\" or \">\", got '<='"},
        {HEAD "spec:\n  service: s\n  indicator:\n    metric: vsf_rate\n  objective:\n"
              "    op: \"<\"\n    value: 0.02\n",
         "s.yaml:10: objective.target: required, between 0 and 1 (exclusive)"},
        {HEAD "spec:\n  service: s\n  indicator:\n    metric: vsf_rate\n  objective:\n"
              "    op: \"<\"\n    value: 0.02\n    target: 0.9\n  timeWindow:\n"
              "    duration: 28 days\n",
         "s.yaml:14: duration: expected a duration like 15s, 3m, 1h or 28d, got '28 days'"},
        {HEAD "spec:\n  service: s\n  indicator:\n    metric: startup_p95_ms\n  objective:\n"
              "    op: \"<\"\n    value: 4000\n  budgetingMethod: Occurrences\n",
         "s.yaml:10: objective: Occurrences needs vsf_rate, ebvs_rate or rebuffer_ratio with op < "
         "and a positive value"},
        {"apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: x\n  owner: me\n",
         "s.yaml:5: metadata: unknown field 'owner'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct slo_set *s = NULL;
        char err[256] = "";
        T_EQ_INT(
            slo_set_parse("s.yaml", cases[i].yaml, strlen(cases[i].yaml), &s, err, sizeof(err)),
            OC_EINVAL);
        T_EQ_STR(err, cases[i].err);
        T_TRUE(s == NULL);
    }
}

/* The shipped SLOs in oncue's shorthand (as they were before they became OpenSLO v1): the
 * v1 file must read to exactly the same SLOs. */
static const char shorthand[] =
    "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: vsf-rate}\nspec:\n  service: playback\n"
    "  indicator: {metric: vsf_rate}\n  objective: {op: \"<\", value: 0.01}\n"
    "  timeWindow: {duration: 28d, isRolling: true}\n  budgetingMethod: Occurrences\n---\n"
    "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: ebvs-rate}\nspec:\n  service: playback\n"
    "  indicator: {metric: ebvs_rate}\n  objective: {op: \"<\", value: 0.05, target: 0.99}\n"
    "  timeWindow: {duration: 28d, isRolling: true}\n  budgetingMethod: Timeslices\n---\n"
    "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: rebuffer-ratio}\nspec:\n"
    "  service: playback\n  indicator: {metric: rebuffer_ratio}\n"
    "  objective: {op: \"<\", value: 0.01}\n  timeWindow: {duration: 28d, isRolling: true}\n"
    "  budgetingMethod: Occurrences\n---\n"
    "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: rebuffering-share}\nspec:\n"
    "  service: playback\n  indicator: {metric: rebuffering_share}\n"
    "  objective: {op: \"<\", value: 0.03, target: 0.995}\n"
    "  timeWindow: {duration: 28d, isRolling: true}\n  budgetingMethod: Timeslices\n---\n"
    "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: startup-p95}\nspec:\n"
    "  service: playback\n  indicator: {metric: startup_p95_ms}\n"
    "  objective: {op: \"<\", value: 4000, target: 0.99}\n"
    "  timeWindow: {duration: 28d, isRolling: true}\n  budgetingMethod: Timeslices\n";

static void test_openslo_v1_same_slos(void)
{
    struct slo_set *v1 = NULL, *old = NULL;
    char err[256] = "";
    T_EQ_INT(slo_set_load("", &v1, err, sizeof(err)), 0);
    T_EQ_INT(slo_set_parse("old.yaml", shorthand, strlen(shorthand), &old, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(v1->n, old->n);
    for (int i = 0; i < old->n && i < v1->n; i++) {
        const struct slo *a = &old->slos[i], *b = &v1->slos[i];
        T_EQ_STR(b->name, a->name);
        T_EQ_STR(b->service, a->service);
        T_EQ_INT(b->metric, a->metric);
        T_EQ_INT(b->op, a->op);
        T_EQ_INT(b->inclusive, a->inclusive);
        T_TRUE(b->value == a->value); /* exactly: the budget is rounded, not 0.0100...09 */
        T_TRUE(b->target == a->target || (isnan(b->target) && isnan(a->target)));
        T_EQ_INT(b->window_s, a->window_s);
        T_EQ_INT(b->how, a->how);
    }
    slo_set_destroy(v1);
    slo_set_destroy(old);
}

#define V1_HEAD "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  service: s\n"
#define V1_WIN  "  timeWindow:\n    - {duration: 7d, isRolling: true}\n"

/* SLI and DataSource documents referred to (after the SLO that names them), lte and
 * targetPercent, and a ratio read in time slices. */
static void test_openslo_v1_refs(void)
{
    static const char y[] = V1_HEAD
        "  indicatorRef: emea-startup\n" V1_WIN "  budgetingMethod: Timeslices\n"
        "  objectives:\n    - {op: lte, value: 3000, targetPercent: 99.5}\n"
        "---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: y}\nspec:\n"
        "  service: s\n  indicatorRef: live-stalls\n" V1_WIN "  budgetingMethod: Timeslices\n"
        "  objectives:\n    - {target: 0.9, timeSliceTarget: 0.98, timeSliceWindow: 1m}\n"
        "---\napiVersion: openslo/v1\nkind: SLI\nmetadata: {name: emea-startup}\nspec:\n"
        "  thresholdMetric:\n    metricSource:\n      metricSourceRef: qoe\n"
        "      spec: {metric: startup_p95_ms, filter: {region: EMEA}}\n"
        "---\napiVersion: openslo/v1\nkind: SLI\nmetadata: {name: live-stalls}\nspec:\n"
        "  ratioMetric:\n    rawType: failure\n    raw:\n      metricSource:\n"
        "        type: oncue\n        spec: {metric: rebuffer_ratio, filter: {live: "
        "\"true\"}}\n"
        "---\napiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: qoe}\n"
        "spec: {type: oncue}\n";
    struct slo_set *s = NULL;
    char err[256] = "";
    T_EQ_INT(slo_set_parse("v1.yaml", y, strlen(y), &s, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(s->n, 2);
    const struct slo *x = slo_find(s, "x"), *r = slo_find(s, "y");
    T_EQ_INT(x->metric, QOE_STARTUP_P95);
    T_EQ_STR(x->filters[0].value, "EMEA");
    T_EQ_INT(x->how, SLO_TIMESLICES);
    T_EQ_DBL(x->target, 0.995, 1e-12);
    T_TRUE(slo_good(x, 3000) && !slo_good(x, 3000.5)); /* lte: the value itself is good */
    T_EQ_INT(r->metric, QOE_REBUFFER_RATIO);
    T_EQ_INT(r->how, SLO_TIMESLICES);
    T_TRUE(slo_good(r, 0.02) && !slo_good(r, 0.021)); /* a minute at 98% success is good */
    slo_set_destroy(s);
}

/* Several objects in one document, as a list (how the specification's examples and its SDK
 * write them), with metadata labels and annotations: each item is read as a document. */
static void test_openslo_v1_object_list(void)
{
    static const char y[] =
        "- apiVersion: openslo/v1\n  kind: Service\n  metadata:\n    labels:\n"
        "      env: [prod]\n    name: playback\n  spec:\n    description: Video playback\n"
        "- apiVersion: openslo/v1\n  kind: SLO\n  metadata:\n    name: vsf\n"
        "    displayName: Videos start\n    labels:\n      team: [team-a, team-b]\n"
        "    annotations:\n      openslo.com/service-folder: ./my/directory\n  spec:\n"
        "    service: playback\n    indicatorRef: vsf-sli\n"
        "    timeWindow:\n      - {duration: 7d, isRolling: true}\n"
        "    budgetingMethod: Timeslices\n    objectives:\n      - {op: lt, value: 0.02, "
        "target: 0.99}\n"
        "- apiVersion: openslo/v1\n  kind: SLI\n  metadata: {name: vsf-sli}\n  spec:\n"
        "    thresholdMetric:\n      metricSource:\n        type: oncue\n"
        "        spec: {metric: vsf_rate}\n";
    struct slo_set *s = NULL;
    char err[256] = "";
    T_EQ_INT(slo_set_parse("list.yaml", y, strlen(y), &s, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(s ? s->n : -1, 1);
    const struct slo *x = s ? slo_find(s, "vsf") : NULL;
    T_TRUE(x && x->metric == QOE_VSF_RATE);
    slo_set_destroy(s);
    /* the specification's own SLO example: a Prometheus ratio, refused at its line */
    static const char spec[] =
        "- apiVersion: openslo/v1\n  kind: SLO\n  metadata:\n    name: web-availability\n"
        "    labels:\n      env:\n        - prod\n  spec:\n    service: web\n"
        "    indicator:\n      metadata:\n        name: web-successful-requests-ratio\n"
        "      spec:\n        ratioMetric:\n          counter: true\n          good:\n"
        "            metricSource:\n              type: Prometheus\n"
        "              spec:\n                query: sum(http_requests)\n";
    s = NULL;
    T_EQ_INT(slo_set_parse("slos.yaml", spec, strlen(spec), &s, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "slos.yaml:17: ratioMetric.good: unsupported (oncue's ratio metrics are "
                  "precomputed: use raw with rawType failure)");
    slo_set_destroy(s);
}

/* Loads tests/unit/openslo/FILE (under $ONCUE_SRC, else the working directory) into *out;
 * returns slo_set_load's answer with its message in err. */
static int load_example(const char *file, struct slo_set **out, char *err, size_t n)
{
    char path[512];
    const char *src = getenv("ONCUE_SRC");
    snprintf(path, sizeof path, "%s/tests/unit/openslo/%s", src ? src : ".", file);
    *out = NULL;
    err[0] = 0;
    return slo_set_load(path, out, err, n);
}

/* The OpenSLO v1 specification's examples, one file each (tests/unit/openslo/): each loads,
 * or is refused with the message naming the field oncue does not support. */
static void test_openslo_spec_examples(void)
{
    static const struct {
        const char *file, *err; /* err: "" when it loads; else the message after the path */
        int nslos;              /* SLOs it holds when it loads */
    } cases[] = {
        {"service.yaml", "", 0},
        {"alertcondition.yaml", "", 0}, /* no op, as in the specification: above */
        {"datasource.yaml",
         "datasource.yaml:8: DataSource.spec.type: unsupported: 'CloudWatch' "
         "(oncue reads its own QoE metrics: type oncue)",
         -1},
        {"slo-inline-ratio.yaml",
         "slo-inline-ratio.yaml:17: ratioMetric.good: unsupported (oncue's ratio metrics are "
         "precomputed: use raw with rawType failure)",
         -1},
        {"sli-ratio.yaml",
         "sli-ratio.yaml:12: ratioMetric.good: unsupported (oncue's ratio "
         "metrics are precomputed: use raw with rawType failure)",
         -1},
        {"sli-threshold-ref.yaml",
         "sli-threshold-ref.yaml:7: DataSource.spec.type: unsupported: "
         "'Redshift' (oncue reads its own QoE metrics: type oncue)",
         -1},
        {"sli-threshold-type.yaml",
         "sli-threshold-type.yaml:9: metricSource.type: unsupported: 'Redshift' (oncue reads its "
         "own QoE metrics: type oncue, spec: {metric, filter})",
         -1},
        {"alertpolicy-ref.yaml",
         "alertpolicy-ref.yaml:14: notificationTargets: unsupported (oncue pages the on-call of "
         "the team that owns the slice, from the service catalog, and notifies the endpoints of "
         "incident.webhooks_file)",
         -1},
        {"alertpolicy-inline.yaml",
         "alertpolicy-inline.yaml:25: notificationTargets: unsupported (oncue pages the on-call "
         "of the team that owns the slice, from the service catalog, and notifies the endpoints "
         "of incident.webhooks_file)",
         -1},
        {"alertnotificationtarget.yaml",
         "alertnotificationtarget.yaml:3: kind: unsupported: AlertNotificationTarget (oncue reads "
         "SLO, SLI, DataSource, Service, AlertPolicy and AlertCondition)",
         -1},
        {"slo-oncue-ratio.yaml", "", 1},
        {"slo-oncue-threshold.yaml", "", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct slo_set *s = NULL;
        char err[512];
        int rc = load_example(cases[i].file, &s, err, sizeof err);
        const char *msg = strstr(err, "/openslo/");
        msg = msg ? msg + strlen("/openslo/") : err;
        T_EQ_STR(msg, cases[i].err);
        T_EQ_INT(rc, cases[i].err[0] ? OC_EINVAL : 0);
        T_EQ_INT(s ? s->n : -1, cases[i].err[0] ? -1 : cases[i].nslos);
        slo_set_destroy(s);
    }
    /* what the two documents measuring oncue's own metrics load into */
    struct slo_set *s = NULL;
    char err[512];
    T_EQ_INT(load_example("slo-oncue-ratio.yaml", &s, err, sizeof err), 0);
    const struct slo *x = s ? slo_find(s, "emea-starts") : NULL;
    T_TRUE(x != NULL);
    if (x) {
        T_EQ_STR(x->service, "playback");
        T_EQ_INT(x->metric, QOE_VSF_RATE);
        T_EQ_INT(x->nfilters, 1);
        T_EQ_STR(x->filters[0].value, "EMEA");
        T_EQ_INT(x->how, SLO_OCCURRENCES);
        T_EQ_INT((int)x->window_s, 28 * 86400);
        T_EQ_INT(x->nalerts, 1);
        T_EQ_STR(x->alerts[0].name, "starts-page");
        T_EQ_INT(x->alerts[0].level, 0); /* page */
        T_EQ_DBL(x->alerts[0].conds[0].threshold, 14.4, 1e-12);
        T_EQ_INT((int)x->alerts[0].conds[0].lookback_s, 3600);
        T_EQ_INT((int)x->alerts[0].conds[0].short_s, 300);
        T_EQ_INT((int)x->alerts[0].conds[0].alert_after_s, 120);
    }
    slo_set_destroy(s);
    T_EQ_INT(load_example("slo-oncue-threshold.yaml", &s, err, sizeof err), 0);
    x = s ? slo_find(s, "startup-p95") : NULL;
    T_TRUE(x != NULL);
    if (x) {
        T_EQ_INT(x->metric, QOE_STARTUP_P95);
        T_EQ_INT(x->how, SLO_TIMESLICES);
        T_EQ_DBL(x->target, 0.99, 1e-12);
        T_EQ_INT((int)x->window_s, 7 * 86400);
        T_TRUE(slo_good(x, 2999) && !slo_good(x, 3000)); /* lt: the value itself is bad */
    }
    slo_set_destroy(s);
}

/* Shapes of the OpenSLO specification oncue cannot measure: refused, naming the field. */
static void test_openslo_v1_unsupported(void)
{
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {V1_HEAD "  indicator:\n    metadata: {name: i}\n    spec:\n      ratioMetric:\n"
                 "        counter: true\n        good:\n          metricSource:\n"
                 "            type: Any\n            spec: {query: Any}\n",
         "v1.yaml:12: ratioMetric.good: unsupported (oncue's ratio metrics are precomputed: use "
         "raw with rawType failure)"},
        {V1_HEAD "  indicator:\n    metadata: {name: i}\n    spec:\n      thresholdMetric:\n"
                 "        metricSource:\n          type: Any\n          spec: {query: Any}\n",
         "v1.yaml:11: metricSource.type: unsupported: 'Any' (oncue reads its own QoE metrics: "
         "type oncue, spec: {metric, filter})"},
        {V1_HEAD "  indicator:\n    metadata: {name: i}\n    spec:\n      thresholdMetric:\n"
                 "        metricSource:\n          type: oncue\n          spec: {query: x}\n",
         "v1.yaml:12: metricSource.spec.query: unsupported (name a QoE metric with metric: and "
         "its slice with filter:)"},
        {V1_HEAD "  indicatorRef: i\n" V1_WIN "  budgetingMethod: RatioTimeslices\n"
                 "  objectives: [{target: 0.9}]\n---\napiVersion: openslo/v1\nkind: SLI\n"
                 "metadata: {name: i}\nspec:\n  thresholdMetric:\n    metricSource:\n"
                 "      type: oncue\n      spec: {metric: plays}\n",
         "v1.yaml:9: budgetingMethod: unsupported: 'RatioTimeslices' (Occurrences or "
         "Timeslices)"},
        {V1_HEAD "  indicatorRef: nope\n",
         "v1.yaml:6: indicatorRef: no SLI named 'nope' in this file"},
        {V1_HEAD "  indicatorRef: i\n  timeWindow:\n    - duration: 1M\n      calendar: "
                 "{startTime: 2022-01-01 12:00:00, timeZone: UTC}\n  budgetingMethod: "
                 "Timeslices\n  objectives: [{op: lt, value: 1, target: 0.9}]\n---\n"
                 "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: i}\nspec:\n"
                 "  thresholdMetric:\n    metricSource:\n      type: oncue\n"
                 "      spec: {metric: plays}\n",
         "v1.yaml:8: timeWindow[0]: unsupported: calendar-aligned windows (give isRolling: "
         "true)"},
        {V1_HEAD "  indicatorRef: i\n" V1_WIN "  budgetingMethod: Occurrences\n"
                 "  objectives: [{op: lt, value: 500, target: 0.99}]\n---\n"
                 "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: i}\nspec:\n"
                 "  thresholdMetric:\n    metricSource:\n      type: oncue\n"
                 "      spec: {metric: startup_p95_ms}\n",
         "v1.yaml:5: budgetingMethod: Occurrences with a thresholdMetric is unsupported (oncue "
         "counts minutes: use Timeslices, or a ratioMetric)"},
        {V1_HEAD "  indicatorRef: i\n" V1_WIN "  budgetingMethod: Timeslices\n"
                 "  objectives: [{target: 0.9}, {target: 0.99}]\n---\n"
                 "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: i}\nspec:\n"
                 "  thresholdMetric:\n    metricSource:\n      type: oncue\n"
                 "      spec: {metric: plays}\n",
         "v1.yaml:10: objectives: unsupported: more than one (composite SLOs)"},
        {"apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: p}\n"
         "spec: {type: Prometheus, connectionDetails: {url: x}}\n",
         "v1.yaml:4: DataSource.spec.type: unsupported: 'Prometheus' (oncue reads its own QoE "
         "metrics: type oncue)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct slo_set *s = NULL;
        char err[512] = "";
        T_EQ_INT(
            slo_set_parse("v1.yaml", cases[i].yaml, strlen(cases[i].yaml), &s, err, sizeof(err)),
            OC_EINVAL);
        T_EQ_STR(err, cases[i].err);
        T_TRUE(s == NULL);
    }
}

static void test_durations(void)
{
    int64_t v = 0;
    T_EQ_INT(slo_parse_duration("15s", &v), 0);
    T_EQ_INT(v, 15);
    T_EQ_INT(slo_parse_duration("3m", &v), 0);
    T_EQ_INT(v, 180);
    T_EQ_INT(slo_parse_duration("6h", &v), 0);
    T_EQ_INT(v, 21600);
    T_EQ_INT(slo_parse_duration("28d", &v), 0);
    T_EQ_INT(v, 28 * 86400);
    T_EQ_INT(slo_parse_duration("3", &v), -1);
    T_EQ_INT(slo_parse_duration("m", &v), -1);
    T_EQ_INT(slo_parse_duration("-1m", &v), -1);
    T_EQ_INT(slo_parse_duration("1mm", &v), -1);
}

static const struct t_case cases[] = {
    T_CASE(test_defaults),
    T_CASE(test_parse),
    T_CASE(test_errors),
    T_CASE(test_openslo_v1_same_slos),
    T_CASE(test_openslo_v1_refs),
    T_CASE(test_openslo_v1_unsupported),
    T_CASE(test_openslo_spec_examples),
    T_CASE(test_durations),
    T_CASE(test_openslo_v1_object_list),
    {0},
};

T_MAIN(cases)
