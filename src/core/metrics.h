/*
 * metrics.h - a registry of Prometheus text-exposition collectors.
 *
 * Capabilities register a collector callback; GET /metrics calls each in registration order
 * and concatenates what they write. Helpers write HELP/TYPE headers and samples with label
 * values escaped per the exposition format. Counters themselves are the capability's own
 * atomics; the registry only renders.
 */
#ifndef OC_CORE_METRICS_H
#define OC_CORE_METRICS_H

#include <stdint.h>

#define OC_METRICS_MAX_COLLECTORS 64

struct oc_buf;
struct oc_metrics;

/* Appends this collector's metric families to b. */
typedef void oc_metrics_fn(struct oc_buf *b, void *arg);

/* Creates an empty registry; free with oc_metrics_destroy. */
struct oc_metrics *oc_metrics_new(void);
/* Frees the registry (NULL is a no-op). */
void oc_metrics_destroy(struct oc_metrics *m);
/* Registers fn(arg); 0 or OC_ETOOBIG. */
int oc_metrics_register(struct oc_metrics *m, oc_metrics_fn *fn, void *arg);
/* Renders every collector into b; 0 or OC_ETOOBIG. */
int oc_metrics_render(struct oc_metrics *m, struct oc_buf *b);
/* Writes "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram...). */
void oc_metrics_family(struct oc_buf *b, const char *name, const char *type, const char *help);
/* Writes one sample. labels is NULL or a NULL-terminated list of name, value pairs; values
 * are escaped. Non-finite values are written as NaN, +Inf, -Inf. */
void oc_metrics_sample(struct oc_buf *b, const char *name, const char *const *labels, double v);

#endif
