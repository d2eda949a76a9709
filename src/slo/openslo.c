/*
 * openslo.c - OpenSLO v1 documents (kinds SLO, SLI, DataSource, Service) read into oncue's SLOs.
 *
 * oncue is its own data source: a metricSource is `type: oncue` (or a metricSourceRef to a
 * DataSource of that type) whose spec names a QoE metric and a slice ({metric: vsf_rate,
 * filter: {region: EMEA}}). What oncue can measure maps onto the specification thus:
 *   thresholdMetric + Timeslices: a minute is good when the metric is op value; target is the
 *     share of good minutes.
 *   ratioMetric raw (rawType failure: vsf_rate, ebvs_rate, rebuffer_ratio) + Occurrences: the
 *     ratio is the bad fraction; the error budget is 1 - target.
 *   ratioMetric raw + Timeslices: a minute is good when 1 - ratio >= timeSliceTarget.
 * Alerting: an SLO's alertPolicies (AlertPolicy documents or inline, each with AlertConditions
 * of kind burnrate, referenced or inline) become burn-rate rules of the alert module: a
 * condition's lookbackWindow is the long window, its threshold the factor, its alertAfter
 * the hold, and the short window is the annotation oncue.dev/short-window or a twelfth of
 * the long one (the SRE workbook's ratio: 1h/5m, 6h/30m, 3d/6h).
 * Everything else (good/bad/total queries, RatioTimeslices, calendar windows, composite SLOs,
 * notification targets, no-data alerts, other data sources) is refused with "FILE:LINE:
 * FIELD: unsupported: why", never silently dropped. Three passes over the stream
 * (DataSources, Services and AlertConditions, then SLIs and AlertPolicies, then SLOs) let a
 * document refer to one defined later.
 */
#include "slo/slo_int.h"
#include "core/err.h"
#include "qoe/qoe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const top_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const meta_keys[] = {"name", "displayName", "labels", "annotations", NULL};
static const char *const slo_keys[] = {"description",  "service",       "indicator",
                                       "indicatorRef", "timeWindow",    "budgetingMethod",
                                       "objectives",   "alertPolicies", NULL};
static const char *const sli_spec_keys[] = {"description", "thresholdMetric", "ratioMetric", NULL};
static const char *const inline_keys[] = {"metadata", "spec", NULL};
static const char *const source_keys[] = {"metricSource", NULL};
static const char *const ms_keys[] = {"metricSourceRef", "type", "spec", NULL};
static const char *const ratio_keys[] = {"counter", "good", "bad", "total", "rawType", "raw", NULL};
static const char *const obj_keys[] = {"displayName",
                                       "op",
                                       "value",
                                       "target",
                                       "targetPercent",
                                       "timeSliceTarget",
                                       "timeSliceWindow",
                                       "indicator",
                                       "indicatorRef",
                                       "compositeWeight",
                                       NULL};
static const char *const win_keys[] = {"duration", "isRolling", "calendar", NULL};
static const char *const ds_keys[] = {"description", "type", "connectionDetails", NULL};
static const char *const svc_keys[] = {"description", NULL};
static const char *const inline_doc_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const cond_spec_keys[] = {"description", "severity", "condition", NULL};
static const char *const cond_keys[] = {"kind",           "op",         "threshold",
                                        "lookbackWindow", "alertAfter", NULL};
static const char *const policy_spec_keys[] = {"description",
                                               "alertWhenNoData",
                                               "alertWhenResolved",
                                               "alertWhenBreaching",
                                               "conditions",
                                               "notificationTargets",
                                               NULL};

#define SHORT_WINDOW_ANNOTATION "oncue.dev/short-window"

/* The name in metadata (required, at most SLO_NAME_MAX - 1 bytes) into out. */
static int meta_name(struct slo_yaml *y, yaml_node_t *root, char *out, size_t n)
{
    yaml_node_t *meta = slo_yaml_get(y, root, "metadata");
    if (!meta)
        return slo_yaml_fail(y, root, "metadata: required");
    int rc = slo_yaml_keys(y, meta, meta_keys, "metadata");
    if (rc == 0)
        rc = slo_yaml_text(y, meta, "name", 1, out, n);
    if (rc == 0 && !out[0])
        rc = slo_yaml_fail(y, meta, "metadata.name: must not be empty");
    return rc;
}

/* The oncue query a metricSource names (metric and slice) into sli. */
static int metric_source(struct slo_yaml *y, yaml_node_t *holder, const char *what,
                         const struct slo_refs *refs, struct slo_sli *sli)
{
    yaml_node_t *ms = slo_yaml_get(y, holder, "metricSource");
    int rc = slo_yaml_keys(y, holder, source_keys, what);
    if (rc == 0 && !ms)
        rc = slo_yaml_fail(y, holder, "%s.metricSource: required", what);
    if (rc == 0)
        rc = slo_yaml_keys(y, ms, ms_keys, "metricSource");
    if (rc)
        return rc;
    const char *type = slo_yaml_str(slo_yaml_get(y, ms, "type"));
    const char *ref = slo_yaml_str(slo_yaml_get(y, ms, "metricSourceRef"));
    int known = 0;
    for (int i = 0; ref && i < refs->nsources; i++)
        known |= strcmp(refs->sources[i], ref) == 0;
    if (ref && !known)
        return slo_yaml_fail(y, ms,
                             "metricSource.metricSourceRef: no DataSource named '%s' of type "
                             "oncue in this file",
                             ref);
    if (!ref && !type)
        return slo_yaml_fail(y, ms, "metricSource.type: required (oncue)");
    if (type && strcasecmp(type, "oncue") != 0)
        return slo_yaml_fail(y, slo_yaml_get(y, ms, "type"),
                             "metricSource.type: unsupported: '%s' (oncue reads its own QoE "
                             "metrics: type oncue, spec: {metric, filter})",
                             type);
    yaml_node_t *spec = slo_yaml_get(y, ms, "spec");
    static const char *const spec_keys[] = {"metric", "filter", NULL};
    if (!spec)
        return slo_yaml_fail(y, ms, "metricSource.spec: required ({metric, filter})");
    if (slo_yaml_get(y, spec, "query"))
        return slo_yaml_fail(y, slo_yaml_get(y, spec, "query"),
                             "metricSource.spec.query: unsupported (name a QoE metric with "
                             "metric: and its slice with filter:)");
    rc = slo_yaml_keys(y, spec, spec_keys, "metricSource.spec");
    if (rc == 0)
        rc = slo_yaml_metric(y, spec, "metric", &sli->metric);
    if (rc == 0)
        rc = slo_yaml_filter(y, spec, "filter", sli->filters, &sli->nfilters);
    return rc;
}

/* An SLI's spec (kind SLI, or an SLO's inline indicator.spec) into sli. */
static int sli_spec(struct slo_yaml *y, yaml_node_t *spec, const struct slo_refs *refs,
                    struct slo_sli *sli)
{
    int rc = slo_yaml_keys(y, spec, sli_spec_keys, "indicator.spec");
    yaml_node_t *th = slo_yaml_get(y, spec, "thresholdMetric");
    yaml_node_t *ra = slo_yaml_get(y, spec, "ratioMetric");
    if (rc)
        return rc;
    if (!th == !ra)
        return slo_yaml_fail(y, spec,
                             "indicator.spec: exactly one of thresholdMetric and "
                             "ratioMetric");
    if (th)
        return metric_source(y, th, "thresholdMetric", refs, sli);
    if ((rc = slo_yaml_keys(y, ra, ratio_keys, "ratioMetric")) != 0)
        return rc;
    static const char *const parts[] = {"good", "bad", "total"};
    for (int i = 0; i < 3; i++)
        if (slo_yaml_get(y, ra, parts[i]))
            return slo_yaml_fail(y, slo_yaml_get(y, ra, parts[i]),
                                 "ratioMetric.%s: unsupported (oncue's ratio metrics are "
                                 "precomputed: use raw with rawType failure)",
                                 parts[i]);
    const char *raw_type = slo_yaml_str(slo_yaml_get(y, ra, "rawType"));
    if (!slo_yaml_get(y, ra, "raw"))
        return slo_yaml_fail(y, ra, "ratioMetric.raw: required");
    if (!raw_type || strcmp(raw_type, "failure") != 0)
        return slo_yaml_fail(y, ra,
                             "ratioMetric.rawType: %s (oncue's ratio metrics count failures: "
                             "rawType failure)",
                             raw_type ? "unsupported: success" : "required");
    rc = metric_source(y, slo_yaml_get(y, ra, "raw"), "ratioMetric.raw", refs, sli);
    if (rc == 0 && (qoe_metrics[sli->metric].cls != QOE_CLASS_RATIO ||
                    !(qoe_metrics[sli->metric].flags & QOE_MF_BAD_SHARE)))
        rc = slo_yaml_fail(y, ra,
                           "ratioMetric.raw: '%s' is not a failure ratio (vsf_rate, ebvs_rate, "
                           "rebuffer_ratio)",
                           qoe_metrics[sli->metric].name);
    sli->ratio = 1;
    return rc;
}

/* The alert level a severity names: 0 page, 1 notify, 2 backlog; -1 when unknown. */
static int severity_level(const char *sev)
{
    static const char *const names[3][4] = {{"page", "critical", "high", NULL},
                                            {"notify", "warning", "medium", NULL},
                                            {"backlog", "low", "info", "ticket"}};
    for (int l = 0; sev && l < 3; l++)
        for (int i = 0; i < 4 && names[l][i]; i++)
            if (strcasecmp(sev, names[l][i]) == 0)
                return l;
    return -1;
}

/* An AlertCondition (a document, or a policy's inline one: kind, metadata, spec) into c and
 * its severity's level. */
static int read_condition(struct slo_yaml *y, yaml_node_t *doc, struct slo_alert_cond *c,
                          int *level)
{
    yaml_node_t *spec = slo_yaml_get(y, doc, "spec"), *cond, *ann;
    const char *kind = slo_yaml_str(slo_yaml_get(y, doc, "kind"));
    int rc = slo_yaml_keys(y, doc, inline_doc_keys, "AlertCondition");
    memset(c, 0, sizeof *c);
    if (rc == 0 && (!kind || strcmp(kind, "AlertCondition") != 0))
        rc = slo_yaml_fail(y, doc, "kind: expected AlertCondition");
    if (rc == 0)
        rc = meta_name(y, doc, c->name, sizeof c->name);
    if (rc == 0 && !spec)
        rc = slo_yaml_fail(y, doc, "AlertCondition.spec: required");
    if (rc == 0)
        rc = slo_yaml_keys(y, spec, cond_spec_keys, "AlertCondition.spec");
    if (rc)
        return rc;
    const char *sev = slo_yaml_str(slo_yaml_get(y, spec, "severity"));
    if ((*level = severity_level(sev)) < 0)
        return slo_yaml_fail(
            y, slo_yaml_get(y, spec, "severity") ? slo_yaml_get(y, spec, "severity") : spec,
            "AlertCondition.spec.severity: expected page, notify or backlog (or "
            "critical, high, warning, medium, low, info), got '%s'",
            sev ? sev : "");
    if (!(cond = slo_yaml_get(y, spec, "condition")))
        return slo_yaml_fail(y, spec, "AlertCondition.spec.condition: required");
    if ((rc = slo_yaml_keys(y, cond, cond_keys, "condition")) != 0)
        return rc;
    const char *ck = slo_yaml_str(slo_yaml_get(y, cond, "kind"));
    const char *op = slo_yaml_str(slo_yaml_get(y, cond, "op"));
    /* the specification defaults kind to burnrate and gives a burn rate no op: it alerts
     * above its threshold, which op may say again (gt or gte) */
    if (ck && strcmp(ck, "burnrate") != 0)
        return slo_yaml_fail(y, cond,
                             "condition.kind: unsupported: '%s' (oncue alerts on burn rates: "
                             "burnrate)",
                             ck);
    if (op && strcmp(op, "gt") != 0 && strcmp(op, "gte") != 0)
        return slo_yaml_fail(y, cond,
                             "condition.op: unsupported: '%s' (a burn rate alerts above its "
                             "threshold: gt or gte)",
                             op);
    c->alert_after_s = 60;
    if ((rc = slo_yaml_num(y, cond, "threshold", 1, &c->threshold)) != 0 ||
        (rc = slo_yaml_duration(y, cond, "lookbackWindow", 1, &c->lookback_s)) != 0 ||
        (rc = slo_yaml_duration(y, cond, "alertAfter", 0, &c->alert_after_s)) != 0)
        return rc;
    if (!(c->threshold > 0))
        return slo_yaml_fail(y, cond, "condition.threshold: must be positive");
    if (c->lookback_s < 120 || c->lookback_s % 60 || c->lookback_s > SLO_MAX_WINDOW_S)
        return slo_yaml_fail(y, cond, "condition.lookbackWindow: whole minutes, from 2m to 90d");
    if (c->alert_after_s < 60 || c->alert_after_s % 60 || c->alert_after_s > 86400)
        return slo_yaml_fail(y, cond, "condition.alertAfter: whole minutes, from 1m to 1d");
    c->short_s = c->lookback_s / 12 / 60 * 60;
    if (c->short_s < 60)
        c->short_s = 60;
    ann = slo_yaml_get(y, slo_yaml_get(y, doc, "metadata"), "annotations");
    if (ann && slo_yaml_get(y, ann, SHORT_WINDOW_ANNOTATION)) {
        if ((rc = slo_yaml_duration(y, ann, SHORT_WINDOW_ANNOTATION, 1, &c->short_s)) != 0)
            return rc;
        if (c->short_s < 60 || c->short_s % 60 || c->short_s >= c->lookback_s)
            return slo_yaml_fail(
                y, ann, SHORT_WINDOW_ANNOTATION ": whole minutes, shorter than the lookbackWindow");
    }
    return 0;
}

/* The name a list item refers to ({refkey: name}, or a bare name), or NULL when it is an
 * inline document. */
static const char *item_ref(struct slo_yaml *y, yaml_node_t *item, const char *refkey)
{
    if (item && item->type == YAML_SCALAR_NODE)
        return slo_yaml_str(item);
    return slo_yaml_str(slo_yaml_get(y, item, refkey));
}

/* An AlertPolicy (a document, or an SLO's inline one) into p. */
static int read_policy(struct slo_yaml *y, yaml_node_t *doc, const struct slo_refs *refs,
                       struct slo_alert *p)
{
    yaml_node_t *spec = slo_yaml_get(y, doc, "spec"), *conds;
    const char *kind = slo_yaml_str(slo_yaml_get(y, doc, "kind"));
    int rc = slo_yaml_keys(y, doc, inline_doc_keys, "AlertPolicy");
    memset(p, 0, sizeof *p);
    p->level = -1;
    if (rc == 0 && (!kind || strcmp(kind, "AlertPolicy") != 0))
        rc = slo_yaml_fail(y, doc, "kind: expected AlertPolicy");
    if (rc == 0)
        rc = meta_name(y, doc, p->name, sizeof p->name);
    if (rc == 0 && !spec)
        rc = slo_yaml_fail(y, doc, "AlertPolicy.spec: required");
    if (rc == 0)
        rc = slo_yaml_keys(y, spec, policy_spec_keys, "AlertPolicy.spec");
    if (rc)
        return rc;
    const char *no_data = slo_yaml_str(slo_yaml_get(y, spec, "alertWhenNoData"));
    const char *breaching = slo_yaml_str(slo_yaml_get(y, spec, "alertWhenBreaching"));
    if (no_data && strcmp(no_data, "false") != 0)
        return slo_yaml_fail(y, slo_yaml_get(y, spec, "alertWhenNoData"),
                             "alertWhenNoData: unsupported: %s (oncue alerts on what viewers "
                             "report; silence is watched by the manifest prober and /healthz)",
                             no_data);
    if (breaching && strcmp(breaching, "true") != 0)
        return slo_yaml_fail(y, slo_yaml_get(y, spec, "alertWhenBreaching"),
                             "alertWhenBreaching: unsupported: %s (a policy alerts when its "
                             "condition breaches)",
                             breaching);
    if (slo_yaml_len(slo_yaml_get(y, spec, "notificationTargets")) > 0)
        return slo_yaml_fail(y, slo_yaml_get(y, spec, "notificationTargets"),
                             "notificationTargets: unsupported (oncue pages the on-call of the "
                             "team that owns the slice, from the service catalog, and notifies "
                             "the endpoints of incident.webhooks_file)");
    conds = slo_yaml_get(y, spec, "conditions");
    int n = slo_yaml_len(conds);
    if (n < 1 || n > SLO_MAX_CONDS)
        return slo_yaml_fail(y, conds ? conds : spec,
                             "AlertPolicy.spec.conditions: required, a list of 1 to %d",
                             SLO_MAX_CONDS);
    for (int i = 0; i < n; i++) {
        yaml_node_t *it = slo_yaml_item(y, conds, i);
        const char *ref = item_ref(y, it, "conditionRef");
        int level = -1, found = -1;
        if (ref) {
            for (int k = 0; k < refs->nconds; k++)
                if (strcmp(refs->conds[k].name, ref) == 0)
                    found = k;
            if (found < 0)
                return slo_yaml_fail(
                    y, it, "conditionRef: no AlertCondition named '%s' in this file", ref);
            p->conds[i] = refs->conds[found];
            level = refs->cond_level[found];
        } else if ((rc = read_condition(y, it, &p->conds[i], &level)) != 0) {
            return rc;
        }
        if (p->level >= 0 && level != p->level)
            return slo_yaml_fail(y, it,
                                 "conditions[%d]: unsupported: a severity other than the "
                                 "policy's first condition's (oncue makes one rule, one level, "
                                 "of a policy)",
                                 i);
        p->level = level;
        p->nconds++;
    }
    return 0;
}

int slo_v1_collect(struct slo_yaml *y, yaml_node_t *root, int pass, struct slo_refs *refs)
{
    const char *kind = slo_yaml_str(slo_yaml_get(y, root, "kind"));
    yaml_node_t *spec = slo_yaml_get(y, root, "spec");
    char name[SLO_NAME_MAX];
    int rc;
    const char *api = slo_yaml_str(slo_yaml_get(y, root, "apiVersion"));
    if (!kind || strcmp(kind, "SLO") == 0)
        return 0; /* the second pass */
    int late = strcmp(kind, "SLI") == 0 || strcmp(kind, "AlertPolicy") == 0;
    if (!late && strcmp(kind, "DataSource") != 0 && strcmp(kind, "Service") != 0 &&
        strcmp(kind, "AlertCondition") != 0)
        return slo_yaml_fail(y, slo_yaml_get(y, root, "kind"),
                             "kind: unsupported: %s (oncue reads SLO, SLI, DataSource, Service, "
                             "AlertPolicy and AlertCondition)",
                             kind);
    if (!api || strcmp(api, "openslo/v1") != 0)
        return slo_yaml_fail(y, root, "apiVersion: expected openslo/v1");
    if (late != (pass == 1))
        return 0; /* DataSources, Services, AlertConditions in pass 0; the others in pass 1 */
    if (strcmp(kind, "AlertCondition") == 0 || strcmp(kind, "AlertPolicy") == 0) {
        int cond = strcmp(kind, "AlertCondition") == 0;
        if ((cond ? refs->nconds : refs->npolicies) == SLO_MAX_REFS)
            return slo_yaml_fail(y, root, "more than %d %ss", SLO_MAX_REFS, kind);
        if (cond)
            rc = read_condition(y, root, &refs->conds[refs->nconds],
                                &refs->cond_level[refs->nconds]);
        else
            rc = read_policy(y, root, refs, &refs->policies[refs->npolicies]);
        if (rc == 0)
            *(cond ? &refs->nconds : &refs->npolicies) += 1;
        return rc;
    }
    if ((rc = slo_yaml_keys(y, root, top_keys, kind)) != 0 ||
        (rc = meta_name(y, root, name, sizeof name)) != 0)
        return rc;
    if (!spec)
        return slo_yaml_fail(y, root, "spec: required");
    if (strcmp(kind, "SLI") == 0) {
        if (refs->nsli == SLO_MAX)
            return slo_yaml_fail(y, root, "more than %d SLIs", SLO_MAX);
        struct slo_sli *sli = &refs->sli[refs->nsli];
        memset(sli, 0, sizeof *sli);
        snprintf(sli->name, sizeof sli->name, "%s", name);
        if ((rc = sli_spec(y, spec, refs, sli)) != 0)
            return rc;
        refs->nsli++;
        return 0;
    }
    if (strcmp(kind, "DataSource") == 0) {
        const char *type = slo_yaml_str(slo_yaml_get(y, spec, "type"));
        if ((rc = slo_yaml_keys(y, spec, ds_keys, "DataSource.spec")) != 0)
            return rc;
        if (!type || strcasecmp(type, "oncue") != 0)
            return slo_yaml_fail(y, spec,
                                 "DataSource.spec.type: unsupported: '%s' (oncue reads its own "
                                 "QoE metrics: type oncue)",
                                 type ? type : "");
        if (refs->nsources == SLO_MAX_SOURCES)
            return slo_yaml_fail(y, root, "more than %d DataSources", SLO_MAX_SOURCES);
        snprintf(refs->sources[refs->nsources++], SLO_NAME_MAX, "%s", name);
        return 0;
    }
    return slo_yaml_keys(y, spec, svc_keys, "Service.spec"); /* named by SLOs' service */
}

/* The one objective of spec into s, for an indicator that is a ratio or a threshold. */
static int objective(struct slo_yaml *y, yaml_node_t *spec, int ratio, struct slo *s)
{
    yaml_node_t *objs = slo_yaml_get(y, spec, "objectives"), *o;
    const char *how = slo_yaml_str(slo_yaml_get(y, spec, "budgetingMethod"));
    double target = NAN, pct = NAN, slice_target = NAN;
    int64_t slice_s = 60;
    int rc;
    if (slo_yaml_len(objs) != 1)
        return slo_yaml_fail(y, objs ? objs : spec,
                             slo_yaml_len(objs) > 1
                                 ? "objectives: unsupported: more than one (composite SLOs)"
                                 : "objectives: required, a list of one objective");
    o = slo_yaml_item(y, objs, 0);
    if ((rc = slo_yaml_keys(y, o, obj_keys, "objectives[0]")) != 0)
        return rc;
    static const char *const composite[] = {"indicator", "indicatorRef", "compositeWeight"};
    for (int i = 0; i < 3; i++)
        if (slo_yaml_get(y, o, composite[i]))
            return slo_yaml_fail(y, o, "objectives[0].%s: unsupported (composite SLOs)",
                                 composite[i]);
    if ((rc = slo_yaml_num(y, o, "target", 0, &target)) != 0 ||
        (rc = slo_yaml_num(y, o, "targetPercent", 0, &pct)) != 0 ||
        (rc = slo_yaml_num(y, o, "timeSliceTarget", 0, &slice_target)) != 0 ||
        (rc = slo_yaml_duration(y, o, "timeSliceWindow", 0, &slice_s)) != 0)
        return rc;
    if (isnan(target) == isnan(pct))
        return slo_yaml_fail(y, o, "objectives[0]: exactly one of target and targetPercent");
    if (isnan(target))
        target = pct / 100;
    if (!(target > 0 && target < 1))
        return slo_yaml_fail(y, o, "objectives[0].target: between 0 and 1 (exclusive)");
    if (slice_s != 60)
        return slo_yaml_fail(y, slo_yaml_get(y, o, "timeSliceWindow"),
                             "objectives[0].timeSliceWindow: unsupported: only 1m (oncue's "
                             "minutes)");
    if (!how)
        return slo_yaml_fail(y, spec, "budgetingMethod: required (Occurrences or Timeslices)");
    if (strcmp(how, "Occurrences") == 0) {
        if (!ratio)
            return slo_yaml_fail(y, spec,
                                 "budgetingMethod: Occurrences with a thresholdMetric is "
                                 "unsupported (oncue counts minutes: use Timeslices, or a "
                                 "ratioMetric)");
        s->how = SLO_OCCURRENCES;
        s->op = SLO_OP_LT;
        s->value = round((1 - target) * 1e12) / 1e12; /* the error budget (0.01, not 0.0100..09) */
        return 0;
    }
    if (strcmp(how, "Timeslices") != 0)
        return slo_yaml_fail(y, slo_yaml_get(y, spec, "budgetingMethod"),
                             "budgetingMethod: %s '%s' (Occurrences or Timeslices)",
                             strcmp(how, "RatioTimeslices") == 0 ? "unsupported:" : "unknown", how);
    s->how = SLO_TIMESLICES;
    s->target = target;
    if (ratio) { /* a minute is good when its success ratio 1 - bad reaches timeSliceTarget */
        if (!(slice_target > 0 && slice_target <= 1))
            return slo_yaml_fail(y, o,
                                 "objectives[0].timeSliceTarget: required with a "
                                 "ratioMetric, in (0, 1]");
        s->op = SLO_OP_LT;
        s->inclusive = 1;
        s->value = round((1 - slice_target) * 1e12) / 1e12;
        return 0;
    }
    if (!isnan(slice_target))
        return slo_yaml_fail(y, o,
                             "objectives[0].timeSliceTarget: unsupported with a thresholdMetric "
                             "(a minute is good when the metric is op value)");
    const char *op = slo_yaml_str(slo_yaml_get(y, o, "op"));
    static const struct {
        const char *name;
        enum slo_op op;
        int inclusive;
    } ops[] = {
        {"lt", SLO_OP_LT, 0}, {"lte", SLO_OP_LT, 1}, {"gt", SLO_OP_GT, 0}, {"gte", SLO_OP_GT, 1}};
    size_t k = 0;
    while (op && k < sizeof ops / sizeof ops[0] && strcmp(op, ops[k].name) != 0)
        k++;
    if (!op || k == sizeof ops / sizeof ops[0])
        return slo_yaml_fail(y, o, "objectives[0].op: expected lt, lte, gt or gte, got '%s'",
                             op ? op : "");
    s->op = ops[k].op;
    s->inclusive = ops[k].inclusive;
    return slo_yaml_num(y, o, "value", 1, &s->value);
}

int slo_v1_spec(struct slo_yaml *y, yaml_node_t *spec, const struct slo_refs *refs, struct slo *s)
{
    struct slo_sli sli;
    yaml_node_t *ind = slo_yaml_get(y, spec, "indicator"),
                *win = slo_yaml_get(y, spec, "timeWindow");
    const char *ref = slo_yaml_str(slo_yaml_get(y, spec, "indicatorRef"));
    yaml_node_t *alerts = slo_yaml_get(y, spec, "alertPolicies");
    int rc = slo_yaml_keys(y, spec, slo_keys, "spec");
    memset(&sli, 0, sizeof sli);
    if (rc == 0)
        rc = slo_yaml_text(y, spec, "service", 1, s->service, sizeof(s->service));
    if (rc == 0)
        rc = slo_yaml_text(y, spec, "description", 0, s->description, sizeof(s->description));
    if (rc)
        return rc;
    if (slo_yaml_len(alerts) > SLO_MAX_ALERTS)
        return slo_yaml_fail(y, alerts, "alertPolicies: at most %d", SLO_MAX_ALERTS);
    for (int i = 0; i < slo_yaml_len(alerts); i++) {
        yaml_node_t *it = slo_yaml_item(y, alerts, i);
        const char *pref = item_ref(y, it, "alertPolicyRef");
        struct slo_alert *a = &s->alerts[s->nalerts];
        if (pref) {
            int found = -1;
            for (int k = 0; k < refs->npolicies; k++)
                if (strcmp(refs->policies[k].name, pref) == 0)
                    found = k;
            if (found < 0)
                return slo_yaml_fail(
                    y, it, "alertPolicyRef: no AlertPolicy named '%s' in this file", pref);
            *a = refs->policies[found];
        } else if ((rc = read_policy(y, it, refs, a)) != 0) {
            return rc;
        }
        for (int k = 0; k < s->nalerts; k++)
            if (strcmp(s->alerts[k].name, a->name) == 0)
                return slo_yaml_fail(y, it, "alertPolicies[%d]: '%s' listed twice", i, a->name);
        s->nalerts++;
    }
    if (!ind == !ref)
        return slo_yaml_fail(y, spec, "spec: exactly one of indicator and indicatorRef");
    if (ref) {
        const struct slo_sli *found = NULL;
        for (int i = 0; i < refs->nsli; i++)
            if (strcmp(refs->sli[i].name, ref) == 0)
                found = &refs->sli[i];
        if (!found)
            return slo_yaml_fail(y, slo_yaml_get(y, spec, "indicatorRef"),
                                 "indicatorRef: no SLI named '%s' in this file", ref);
        sli = *found;
    } else {
        char name[SLO_NAME_MAX];
        if ((rc = slo_yaml_keys(y, ind, inline_keys, "indicator")) != 0 ||
            (rc = meta_name(y, ind, name, sizeof name)) != 0)
            return rc;
        if (!slo_yaml_get(y, ind, "spec"))
            return slo_yaml_fail(y, ind, "indicator.spec: required");
        if ((rc = sli_spec(y, slo_yaml_get(y, ind, "spec"), refs, &sli)) != 0)
            return rc;
    }
    s->metric = sli.metric;
    s->nfilters = sli.nfilters;
    memcpy(s->filters, sli.filters, sizeof s->filters);
    s->target = NAN;
    if ((rc = objective(y, spec, sli.ratio, s)) != 0)
        return rc;
    yaml_node_t *w = slo_yaml_item(y, win, 0);
    if (slo_yaml_len(win) != 1)
        return slo_yaml_fail(y, win ? win : spec, "timeWindow: required, a list of one window");
    if ((rc = slo_yaml_keys(y, w, win_keys, "timeWindow[0]")) != 0)
        return rc;
    const char *rolling = slo_yaml_str(slo_yaml_get(y, w, "isRolling"));
    if (slo_yaml_get(y, w, "calendar") || !rolling || strcmp(rolling, "true") != 0)
        return slo_yaml_fail(y, w,
                             "timeWindow[0]: unsupported: calendar-aligned windows (give "
                             "isRolling: true)");
    if ((rc = slo_yaml_duration(y, w, "duration", 1, &s->window_s)) != 0)
        return rc;
    if (s->window_s < 3600 || s->window_s > SLO_MAX_WINDOW_S || s->window_s % 60)
        return slo_yaml_fail(y, w, "timeWindow[0].duration: between 1h and 90d, whole minutes");
    return 0;
}

int slo_v1_is(struct slo_yaml *y, yaml_node_t *spec)
{
    yaml_node_t *ind = slo_yaml_get(y, spec, "indicator"),
                *win = slo_yaml_get(y, spec, "timeWindow");
    return slo_yaml_get(y, spec, "objectives") || slo_yaml_get(y, spec, "indicatorRef") ||
           slo_yaml_get(y, ind, "spec") || (win && win->type == YAML_SEQUENCE_NODE);
}
