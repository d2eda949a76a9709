/*
 * slo_int.h - internal to slo/: the OpenSLO v1 reader (openslo.c) that slo.c's loader calls.
 */
#ifndef OC_SLO_SLO_INT_H
#define OC_SLO_SLO_INT_H

#include "slo/slo.h"

#define SLO_MAX_SOURCES 16 /* DataSource documents in one file */
#define SLO_MAX_REFS    64 /* AlertCondition, and AlertPolicy, documents in one file */

/* An SLI as oncue reads it: a QoE metric over a slice, a failure ratio or a threshold. */
struct slo_sli {
    char name[SLO_NAME_MAX];
    int metric; /* enum qoe_metric */
    int nfilters;
    struct slo_filter filters[SLO_MAX_FILTERS];
    int ratio; /* 1: ratioMetric raw (rawType failure); 0: thresholdMetric */
};

/* What the first pass over a stream collected for the SLOs to refer to. */
struct slo_refs {
    struct slo_sli sli[SLO_MAX];
    int nsli;
    char sources[SLO_MAX_SOURCES][SLO_NAME_MAX]; /* DataSources of type oncue */
    int nsources;
    struct slo_alert_cond conds[SLO_MAX_REFS]; /* AlertCondition documents */
    int cond_level[SLO_MAX_REFS];              /* ... their severity as a level */
    int nconds;
    struct slo_alert policies[SLO_MAX_REFS]; /* AlertPolicy documents */
    int npolicies;
};

/* Passes 0 and 1: records a DataSource or an AlertCondition (pass 0), an SLI or an AlertPolicy
 * (pass 1) in refs, checks a Service (pass 0), skips an SLO (and a document without kind,
 * which the last pass reports), and refuses other kinds. 0 or OC_EINVAL with "FILE:LINE: ..."
 * in y's err. */
int slo_v1_collect(struct slo_yaml *y, yaml_node_t *root, int pass, struct slo_refs *refs);
/* Last pass: reads an OpenSLO v1 SLO spec (objectives, indicator or indicatorRef, a list of
 * one timeWindow) into s. 0 or OC_EINVAL. */
int slo_v1_spec(struct slo_yaml *y, yaml_node_t *spec, const struct slo_refs *refs, struct slo *s);
/* 1 when spec is written in OpenSLO v1 form rather than oncue's shorthand (indicator.metric,
 * one objective mapping, a timeWindow mapping). */
int slo_v1_is(struct slo_yaml *y, yaml_node_t *spec);

#endif
