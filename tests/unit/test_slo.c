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
        {"apiVersion: openslo/v1\nkind: SLI\n", "s.yaml:1: kind: expected SLO"},
        {HEAD "spec:\n  service: s\n  indicator:\n    metric: bogus\n",
         "s.yaml:8: metric: unknown metric 'bogus'"},
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
    T_CASE(test_defaults), T_CASE(test_parse), T_CASE(test_errors), T_CASE(test_durations), {0},
};

T_MAIN(cases)
