/*
 * rules.c - the alert-rule loader: a YAML mapping with one key, rules, a list of threshold
 * rules (metric over a slice, per group, op, threshold, for, hysteresis, level, min volume)
 * and burn-rate rules (an SLO and window pairs). Errors are "FILE:LINE: message naming the
 * field"; unknown fields are rejected. Also the JSON of GET /v1/rules.
 */
#include "alert/alert.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/file.h"
#include "qoe/qoe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const alert_level_names[3] = {"page", "notify", "backlog"};

#define CLEAR_FACTOR 0.8 /* default clear threshold: 0.8 x threshold (1/0.8 x for "<") */

static const char *const top_keys[] = {"rules", NULL};
static const char *const thr_keys[] = {"name",     "type",      "metric",    "filter",
                                       "group_by", "op",        "threshold", "clear_threshold",
                                       "for",      "clear_for", "level",     "min_viewers",
                                       "noise_z",  "summary",   NULL};
static const char *const burn_keys[] = {"name",  "type",      "slo",     "windows",
                                        "level", "clear_for", "summary", NULL};
static const char *const pair_keys[] = {"long", "short", "factor", NULL};

static int parse_level(struct slo_yaml *y, yaml_node_t *m, struct alert_rule *r)
{
    const char *s = slo_yaml_str(slo_yaml_get(y, m, "level"));
    if (!slo_yaml_get(y, m, "level"))
        return slo_yaml_fail(y, m, "level: required");
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, alert_level_names[i]) == 0) {
            r->level = (enum alert_level)i;
            return 0;
        }
    return slo_yaml_fail(y, slo_yaml_get(y, m, "level"),
                         "level: expected page, notify or backlog, got '%s'", s ? s : "?");
}

static int parse_group(struct slo_yaml *y, yaml_node_t *m, struct alert_rule *r)
{
    yaml_node_t *g = slo_yaml_get(y, m, "group_by");
    if (!g)
        return 0;
    if (g->type != YAML_SEQUENCE_NODE)
        return slo_yaml_fail(y, g, "group_by: expected a list of dimensions");
    for (int i = 0; i < slo_yaml_len(g); i++) {
        const char *s = slo_yaml_str(slo_yaml_item(y, g, i));
        int d = s ? qoe_dim_parse(s) : -1;
        if (d < 0)
            return slo_yaml_fail(y, g, "group_by: unknown dimension '%s'", s ? s : "?");
        for (int k = 0; k < r->ngroup; k++)
            if (r->group_by[k] == d)
                return slo_yaml_fail(y, g, "group_by: '%s' named twice", s);
        r->group_by[r->ngroup++] = d;
    }
    return 0;
}

static int check_window(struct slo_yaml *y, yaml_node_t *m, const char *field, int64_t v)
{
    if (v < 60 || v > 7 * 86400 || v % 60)
        return slo_yaml_fail(y, slo_yaml_get(y, m, field), "%s: whole minutes between 1m and 7d",
                             field);
    return 0;
}

static int parse_threshold(struct slo_yaml *y, yaml_node_t *m, struct alert_rule *r)
{
    int rc = slo_yaml_keys(y, m, thr_keys, "rule");
    if (rc == 0)
        rc = slo_yaml_metric(y, m, "metric", &r->metric);
    if (rc == 0)
        rc = slo_yaml_filter(y, m, "filter", r->filters, &r->nfilters);
    if (rc == 0)
        rc = parse_group(y, m, r);
    if (rc == 0)
        rc = slo_yaml_op(y, m, "op", &r->op);
    if (rc == 0)
        rc = slo_yaml_num(y, m, "threshold", 1, &r->threshold);
    r->clear_threshold =
        r->op == SLO_OP_GT ? r->threshold * CLEAR_FACTOR : r->threshold / CLEAR_FACTOR;
    if (rc == 0)
        rc = slo_yaml_num(y, m, "clear_threshold", 0, &r->clear_threshold);
    if (rc == 0 && (r->op == SLO_OP_GT ? r->clear_threshold > r->threshold
                                       : r->clear_threshold < r->threshold))
        rc = slo_yaml_fail(y, slo_yaml_get(y, m, "clear_threshold"),
                           "clear_threshold: must lie on the good side of threshold");
    if (rc == 0)
        rc = slo_yaml_duration(y, m, "for", 1, &r->for_s);
    if (rc == 0)
        rc = check_window(y, m, "for", r->for_s);
    r->clear_for_s = r->for_s;
    if (rc == 0)
        rc = slo_yaml_num(y, m, "min_viewers", 0, &r->min_viewers);
    if (rc == 0)
        rc = slo_yaml_num(y, m, "noise_z", 0, &r->noise_z);
    if (rc == 0 && (r->noise_z < 0 || r->noise_z > 10))
        rc = slo_yaml_fail(y, slo_yaml_get(y, m, "noise_z"), "noise_z: from 0 to 10");
    if (rc == 0 && r->noise_z > 0 && r->metric != QOE_REBUFFERING_SHARE &&
        r->metric != QOE_CONCURRENT_REBUFFERING && r->metric != QOE_VPF_RATE &&
        qoe_metrics[r->metric].den != QOE_COL_STARTS)
        rc = slo_yaml_fail(y, slo_yaml_get(y, m, "noise_z"),
                           "noise_z: only for shares of viewers: rebuffering_share, "
                           "concurrent_rebuffering_share and vpf_rate (of concurrent viewers), "
                           "vsf_rate and ebvs_rate (of starts)");
    return rc;
}

static int parse_pairs(struct slo_yaml *y, yaml_node_t *m, struct alert_rule *r)
{
    yaml_node_t *w = slo_yaml_get(y, m, "windows");
    int n = slo_yaml_len(w), rc = 0;
    if (!w || n == 0)
        return slo_yaml_fail(y, w ? w : m, "windows: required, a list of {long, short, factor}");
    if (n > ALERT_MAX_PAIRS)
        return slo_yaml_fail(y, w, "windows: more than %d pairs", ALERT_MAX_PAIRS);
    for (int i = 0; rc == 0 && i < n; i++) {
        yaml_node_t *p = slo_yaml_item(y, w, i);
        struct alert_pair *ap = &r->pairs[r->npairs++];
        rc = slo_yaml_keys(y, p, pair_keys, "windows[]");
        if (rc == 0)
            rc = slo_yaml_duration(y, p, "long", 1, &ap->long_s);
        if (rc == 0)
            rc = slo_yaml_duration(y, p, "short", 1, &ap->short_s);
        if (rc == 0)
            rc = slo_yaml_num(y, p, "factor", 1, &ap->factor);
        if (rc == 0 && (ap->short_s < 60 || ap->short_s % 60 || ap->long_s % 60 ||
                        ap->long_s <= ap->short_s || ap->long_s > SLO_MAX_WINDOW_S))
            rc = slo_yaml_fail(y, p, "windows: short and long in whole minutes, short < long");
        if (rc == 0 && !(ap->factor > 0))
            rc = slo_yaml_fail(y, p, "factor: must be positive");
    }
    return rc;
}

static int parse_burn(struct slo_yaml *y, yaml_node_t *m, const struct slo_set *slos,
                      struct alert_rule *r)
{
    const struct slo *s;
    int rc = slo_yaml_keys(y, m, burn_keys, "rule");
    if (rc == 0)
        rc = slo_yaml_text(y, m, "slo", 1, r->slo, sizeof(r->slo));
    if (rc)
        return rc;
    s = slo_find(slos, r->slo);
    if (!s)
        return slo_yaml_fail(y, slo_yaml_get(y, m, "slo"), "slo: no SLO named '%s'", r->slo);
    r->metric = s->metric;
    r->nfilters = s->nfilters;
    memcpy(r->filters, s->filters, sizeof(r->filters));
    r->op = SLO_OP_GT;
    rc = parse_pairs(y, m, r);
    if (rc)
        return rc;
    r->threshold = r->clear_threshold = r->pairs[0].factor;
    r->for_s = 60;
    r->clear_for_s = r->pairs[0].short_s;
    return 0;
}

static int parse_rule(struct slo_yaml *y, yaml_node_t *m, const struct slo_set *slos,
                      struct alert_rules *set)
{
    struct alert_rule *r = &set->rules[set->n];
    const char *type;
    int rc;
    memset(r, 0, sizeof(*r));
    r->line = (int)m->start_mark.line + 1;
    if (m->type != YAML_MAPPING_NODE)
        return slo_yaml_fail(y, m, "rules[]: expected a mapping");
    rc = slo_yaml_text(y, m, "name", 1, r->name, sizeof(r->name));
    if (rc == 0 && (!r->name[0] || strchr(r->name, '/')))
        rc = slo_yaml_fail(y, m, "name: must be non-empty, without '/'");
    for (int i = 0; rc == 0 && i < set->n; i++)
        if (strcmp(set->rules[i].name, r->name) == 0)
            rc = slo_yaml_fail(y, m, "name: '%s' defined twice", r->name);
    type = slo_yaml_str(slo_yaml_get(y, m, "type"));
    if (rc == 0 && type && strcmp(type, "burn_rate") == 0) {
        r->kind = ALERT_BURN_RATE;
        rc = parse_burn(y, m, slos, r);
    } else if (rc == 0 && (!type || strcmp(type, "threshold") == 0)) {
        rc = parse_threshold(y, m, r);
    } else if (rc == 0) {
        rc = slo_yaml_fail(y, slo_yaml_get(y, m, "type"),
                           "type: expected threshold or burn_rate, got '%s'", type);
    }
    if (rc == 0)
        rc = parse_level(y, m, r);
    if (rc == 0)
        rc = slo_yaml_duration(y, m, "clear_for", 0, &r->clear_for_s);
    if (rc == 0)
        rc = check_window(y, m, "clear_for", r->clear_for_s);
    if (rc == 0)
        rc = slo_yaml_text(y, m, "summary", 0, r->summary, sizeof(r->summary));
    if (rc == 0)
        set->n++;
    return rc;
}

static int parse_doc(struct slo_yaml *y, yaml_node_t *root, const struct slo_set *slos,
                     struct alert_rules *set)
{
    yaml_node_t *list = slo_yaml_get(y, root, "rules");
    int rc = slo_yaml_keys(y, root, top_keys, "rules file");
    if (rc)
        return rc;
    if (!list || (list->type != YAML_SEQUENCE_NODE))
        return slo_yaml_fail(y, list ? list : root, "rules: required, a list");
    if (slo_yaml_len(list) + set->n > ALERT_MAX_RULES)
        return slo_yaml_fail(y, list, "rules: more than %d", ALERT_MAX_RULES);
    for (int i = 0; rc == 0 && i < slo_yaml_len(list); i++)
        rc = parse_rule(y, slo_yaml_item(y, list, i), slos, set);
    return rc;
}

/* The index of the rule named name in set, or -1. */
static int rule_named(const struct alert_rules *set, const char *name)
{
    for (int i = 0; i < set->n; i++)
        if (strcmp(set->rules[i].name, name) == 0)
            return i;
    return -1;
}

/* Appends a burn-rate rule for each OpenSLO alert policy of the SLOs (slo.file's
 * alertPolicies), named after the policy ("POLICY-SLO" when an earlier SLO took the name); a
 * rule of the rules file with that name is kept instead. 0, or OC_ETOOBIG past
 * ALERT_MAX_RULES with why in err. */
static int add_slo_policies(struct alert_rules *set, const struct slo_set *slos, char *err,
                            size_t errlen)
{
    for (int i = 0; slos && i < slos->n; i++) {
        const struct slo *so = &slos->slos[i];
        for (int k = 0; k < so->nalerts; k++) {
            const struct slo_alert *a = &so->alerts[k];
            char name[SLO_NAME_MAX];
            snprintf(name, sizeof name, "%s", a->name);
            if (rule_named(set, name) >= 0) {
                const struct alert_rule *o = &set->rules[rule_named(set, name)];
                if (o->kind == ALERT_BURN_RATE && strcmp(o->slo, so->name) == 0)
                    continue; /* the rules file says it already (an export loaded back) */
                snprintf(name, sizeof name, "%.31s-%.31s", a->name, so->name);
                if (rule_named(set, name) >= 0)
                    continue;
            }
            if (set->n == ALERT_MAX_RULES) {
                snprintf(err, errlen, "SLO %s: alert policy %s: more than %d rules in all",
                         so->name, a->name, ALERT_MAX_RULES);
                return OC_ETOOBIG;
            }
            struct alert_rule *r = &set->rules[set->n++];
            memset(r, 0, sizeof *r);
            snprintf(r->name, sizeof r->name, "%s", name);
            snprintf(r->slo, sizeof r->slo, "%s", so->name);
            r->kind = ALERT_BURN_RATE;
            r->metric = so->metric;
            r->nfilters = so->nfilters;
            memcpy(r->filters, so->filters, sizeof r->filters);
            r->op = SLO_OP_GT;
            r->level = (enum alert_level)a->level;
            for (int c = 0; c < a->nconds && c < ALERT_MAX_PAIRS; c++)
                r->pairs[r->npairs++] = (struct alert_pair){
                    a->conds[c].lookback_s, a->conds[c].short_s, a->conds[c].threshold};
            r->threshold = r->clear_threshold = r->pairs[0].factor;
            r->for_s = a->conds[0].alert_after_s;
            r->clear_for_s = r->pairs[0].short_s;
            r->line = so->line;
        }
    }
    return 0;
}

int alert_rules_parse(const char *name, const char *text, size_t n, const struct slo_set *slos,
                      struct alert_rules **out, char *err, size_t errlen)
{
    struct slo_yaml y;
    struct alert_rules *set = oc_calloc(1, sizeof(*set));
    yaml_node_t *root;
    int rc = slo_yaml_open(&y, name, text, n, err, errlen), more;
    while (rc == 0 && (more = slo_yaml_next(&y, &root)) != 0) {
        if (more < 0)
            rc = more;
        else if (!(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
            rc = parse_doc(&y, root, slos, set);
    }
    slo_yaml_free(&y);
    if (rc == 0)
        rc = add_slo_policies(set, slos, err, errlen);
    if (rc) {
        free(set);
        return rc;
    }
    *out = set;
    return 0;
}

int alert_rules_load(const char *path, const struct slo_set *slos, struct alert_rules **out,
                     char *err, size_t errlen)
{
    size_t n = 0;
    char *text = NULL;
    int rc = OC_EIO;
    if (!path || !path[0]) {
        text = alert_default_yaml(&n);
        rc = alert_rules_parse("rules.yaml (embedded)", text, n, slos, out, err, errlen);
        free(text);
        return rc;
    }
    rc = oc_read_file(path, SLO_MAX_FILE, &text, &n, err, errlen);
    if (rc == 0)
        rc = alert_rules_parse(path, text, n, slos, out, err, errlen);
    free(text);
    return rc;
}

void alert_rules_destroy(struct alert_rules *r)
{
    free(r);
}

json_t *alert_rule_json(const struct alert_rule *r)
{
    json_t *filter = json_object(), *group = json_array();
    for (int i = 0; i < r->nfilters; i++)
        json_object_set_new(filter, beacon_dim_names[r->filters[i].dim],
                            json_string(r->filters[i].value));
    for (int i = 0; i < r->ngroup; i++)
        json_array_append_new(group, json_string(beacon_dim_names[r->group_by[i]]));
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:f, s:f, s:I, s:I, s:s, s:f, s:f, s:s}", "name",
                  r->name, "type", r->kind == ALERT_THRESHOLD ? "threshold" : "burn_rate", "metric",
                  qoe_metrics[r->metric].name, "filter", filter, "group_by", group, "op",
                  r->op == SLO_OP_GT ? ">" : "<", "threshold", r->threshold, "clear_threshold",
                  r->clear_threshold, "for_s", (json_int_t)r->for_s, "clear_for_s",
                  (json_int_t)r->clear_for_s, "level", alert_level_names[r->level], "min_viewers",
                  r->min_viewers, "noise_z", r->noise_z, "summary", r->summary);
    if (r->kind == ALERT_BURN_RATE) {
        json_t *w = json_array();
        for (int i = 0; i < r->npairs; i++)
            json_array_append_new(
                w, json_pack("{s:I, s:I, s:f}", "long_s", (json_int_t)r->pairs[i].long_s, "short_s",
                             (json_int_t)r->pairs[i].short_s, "factor", r->pairs[i].factor));
        json_object_set_new(o, "slo", json_string(r->slo));
        json_object_set_new(o, "windows", w);
    }
    return o;
}
