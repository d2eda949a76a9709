/*
 * metrics.c - Prometheus exposition registry and writers (see metrics.h).
 */
#include "core/metrics.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

struct collector {
    oc_metrics_fn *fn; /* writes families */
    void *arg;         /* passed through */
};

struct oc_metrics {
    pthread_mutex_t lock;                             /* guards the list */
    struct collector list[OC_METRICS_MAX_COLLECTORS]; /* first n in use */
    int n;
};

struct oc_metrics *oc_metrics_new(void)
{
    struct oc_metrics *m = oc_calloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void oc_metrics_destroy(struct oc_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

int oc_metrics_register(struct oc_metrics *m, oc_metrics_fn *fn, void *arg)
{
    int rc = OC_ETOOBIG;
    pthread_mutex_lock(&m->lock);
    if (m->n < OC_METRICS_MAX_COLLECTORS) {
        m->list[m->n++] = (struct collector){fn, arg};
        rc = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int oc_metrics_render(struct oc_metrics *m, struct oc_buf *b)
{
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->n; i++)
        m->list[i].fn(b, m->list[i].arg);
    pthread_mutex_unlock(&m->lock);
    return b->len >= b->max ? OC_ETOOBIG : 0;
}

void oc_metrics_family(struct oc_buf *b, const char *name, const char *type, const char *help)
{
    oc_buf_printf(b, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            oc_buf_puts(b, "\\\\");
        else if (*p == '\n')
            oc_buf_puts(b, "\\n");
        else
            oc_buf_append(b, p, 1);
    }
    oc_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void oc_metrics_sample(struct oc_buf *b, const char *name, const char *const *labels, double v)
{
    oc_buf_puts(b, name);
    if (labels && labels[0]) {
        oc_buf_puts(b, "{");
        for (int i = 0; labels[i]; i += 2) {
            oc_buf_printf(b, "%s%s=\"", i ? "," : "", labels[i]);
            for (const char *p = labels[i + 1]; *p; p++) {
                if (*p == '\\' || *p == '"')
                    oc_buf_printf(b, "\\%c", *p);
                else if (*p == '\n')
                    oc_buf_puts(b, "\\n");
                else
                    oc_buf_append(b, p, 1);
            }
            oc_buf_puts(b, "\"");
        }
        oc_buf_puts(b, "}");
    }
    if (isnan(v))
        oc_buf_puts(b, " NaN\n");
    else if (isinf(v))
        oc_buf_puts(b, v > 0 ? " +Inf\n" : " -Inf\n");
    else
        oc_buf_printf(b, " %.17g\n", v);
}
