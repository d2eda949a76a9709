/*
 * openslo.c - writes the SLOs and their burn-rate rules as OpenSLO v1 documents (`oncue alerts
 * openslo`): a Service per service named, an SLO per SLO with its indicator inline, and an
 * AlertPolicy per burn-rate rule with one inline AlertCondition per window pair. slo.file
 * reads the output back to the same SLOs, and the alert module makes the same burn-rate rules
 * of its policies (a unit test checks both). Threshold rules have no OpenSLO form and are
 * listed in a comment.
 *
 * Strings are written as JSON strings, which YAML reads as double-quoted scalars; numbers
 * with the fewest digits that read back to the same double.
 */
#include "alert/alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes s as a double-quoted YAML scalar. */
static void put_str(FILE *f, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fputs(t ? t : "\"\"", f);
    free(t);
    json_decref(j);
}

/* Writes v with the fewest significant digits that read back to v. */
static void put_num(FILE *f, double v)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

/* Writes a duration in the largest whole unit (28d, 6h, 5m, 90s). */
static void put_duration(FILE *f, int64_t s)
{
    if (s % 86400 == 0)
        fprintf(f, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0)
        fprintf(f, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0)
        fprintf(f, "%lldm", (long long)(s / 60));
    else
        fprintf(f, "%llds", (long long)s);
}

static void put_services(FILE *f, const struct slo_set *slos)
{
    for (int i = 0; i < slos->n; i++) {
        int seen = 0;
        for (int k = 0; k < i; k++)
            seen |= strcmp(slos->slos[k].service, slos->slos[i].service) == 0;
        if (seen)
            continue;
        fputs("---\napiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: ", f);
        put_str(f, slos->slos[i].service);
        fputs("\nspec: {}\n", f);
    }
}

/* The objective of s: Occurrences over a failure ratio is a target of 1 - its budget; a
 * Timeslices objective is op value with target. */
static void put_objective(FILE *f, const struct slo *s)
{
    fprintf(f, "  budgetingMethod: %s\n  objectives:\n",
            s->how == SLO_OCCURRENCES ? "Occurrences" : "Timeslices");
    if (s->how == SLO_OCCURRENCES) {
        fputs("    - target: ", f);
        put_num(f, 1 - s->value);
        fputc('\n', f);
        return;
    }
    fprintf(f, "    - op: %s%s\n      value: ", s->op == SLO_OP_LT ? "lt" : "gt",
            s->inclusive ? "e" : "");
    put_num(f, s->value);
    fputs("\n      target: ", f);
    put_num(f, s->target);
    fputc('\n', f);
}

static void put_slo(FILE *f, const struct slo *s, const struct alert_rules *rules)
{
    const char *pad = s->how == SLO_OCCURRENCES ? "  " : "";
    fputs("---\napiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: ", f);
    put_str(f, s->name);
    fputs("\nspec:\n  service: ", f);
    put_str(f, s->service);
    if (s->description[0]) {
        fputs("\n  description: ", f);
        put_str(f, s->description);
    }
    fputs("\n  indicator:\n    metadata:\n      name: ", f);
    put_str(f, s->name);
    fputs("\n    spec:\n", f);
    if (s->how == SLO_OCCURRENCES)
        fputs("      ratioMetric:\n        rawType: failure\n        raw:\n", f);
    else
        fputs("      thresholdMetric:\n", f);
    fprintf(f, "%s        metricSource:\n%s          type: oncue\n%s          spec:\n", pad, pad,
            pad);
    fprintf(f, "%s            metric: %s\n", pad, qoe_metrics[s->metric].name);
    if (s->nfilters)
        fprintf(f, "%s            filter:\n", pad);
    for (int i = 0; i < s->nfilters; i++) {
        fprintf(f, "%s              %s: ", pad, beacon_dim_names[s->filters[i].dim]);
        put_str(f, s->filters[i].value);
        fputc('\n', f);
    }
    fputs("  timeWindow:\n    - duration: ", f);
    put_duration(f, s->window_s);
    fputs("\n      isRolling: true\n", f);
    put_objective(f, s);
    int any = 0;
    for (int i = 0; i < rules->n; i++) {
        const struct alert_rule *r = &rules->rules[i];
        if (r->kind != ALERT_BURN_RATE || strcmp(r->slo, s->name) != 0)
            continue;
        fputs(any++ ? "    - alertPolicyRef: " : "  alertPolicies:\n    - alertPolicyRef: ", f);
        put_str(f, r->name);
        fputc('\n', f);
    }
}

static void put_policy(FILE *f, const struct alert_rule *r)
{
    fputs("---\napiVersion: openslo/v1\nkind: AlertPolicy\nmetadata:\n  name: ", f);
    put_str(f, r->name);
    fputs("\nspec:\n", f);
    if (r->summary[0]) {
        fputs("  description: ", f);
        put_str(f, r->summary);
        fputc('\n', f);
    }
    fputs("  alertWhenBreaching: true\n  alertWhenResolved: true\n  alertWhenNoData: false\n"
          "  conditions:\n",
          f);
    for (int i = 0; i < r->npairs; i++) {
        char name[SLO_NAME_MAX + 16];
        snprintf(name, sizeof name, "%.50s-%d", r->name, i + 1);
        fputs("    - kind: AlertCondition\n      metadata:\n        name: ", f);
        put_str(f, name);
        fputs("\n        annotations:\n          oncue.dev/short-window: ", f);
        put_duration(f, r->pairs[i].short_s);
        fprintf(f,
                "\n      spec:\n        severity: %s\n        condition:\n"
                "          kind: burnrate\n          op: gt\n          threshold: ",
                alert_level_names[r->level]);
        put_num(f, r->pairs[i].factor);
        fputs("\n          lookbackWindow: ", f);
        put_duration(f, r->pairs[i].long_s);
        fputs("\n          alertAfter: ", f);
        put_duration(f, r->for_s);
        fputc('\n', f);
    }
}

void alert_openslo_write(FILE *f, const struct slo_set *slos, const struct alert_rules *rules)
{
    fputs("# OpenSLO v1: the SLOs and their burn-rate alert rules, written by `oncue alerts "
          "openslo`.\n# slo.file reads it back; the alert module makes one burn-rate rule of each "
          "AlertPolicy.\n",
          f);
    for (int i = 0; i < rules->n; i++)
        if (rules->rules[i].kind == ALERT_THRESHOLD)
            fprintf(f, "# threshold rule %s: no OpenSLO form; it stays in alert.rules_file\n",
                    rules->rules[i].name);
    put_services(f, slos);
    for (int i = 0; i < slos->n; i++)
        put_slo(f, &slos->slos[i], rules);
    for (int i = 0; i < rules->n; i++)
        if (rules->rules[i].kind == ALERT_BURN_RATE)
            put_policy(f, &rules->rules[i]);
}
