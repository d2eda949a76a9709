/*
 * slo.c - the SLO loader (OpenSLO-shaped YAML documents) and error-budget accounting over
 * the closed minutes of the QoE cube: counts of good and bad minutes, burn rates, budget
 * remaining, and the JSON of GET /v1/slos.
 */
#include "slo/slo_int.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/file.h"
#include "qoe/qoe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const top_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const meta_keys[] = {"name", "displayName", "labels", "annotations", NULL};
static const char *const spec_keys[] = {"service",    "description",     "indicator", "objective",
                                        "timeWindow", "budgetingMethod", NULL};
static const char *const ind_keys[] = {"metric", "filter", NULL};
static const char *const obj_keys[] = {"op", "value", "target", "displayName", NULL};
static const char *const win_keys[] = {"duration", "isRolling", NULL};

static int parse_head(struct slo_yaml *y, yaml_node_t *root, struct slo *s)
{
    const char *api = slo_yaml_str(slo_yaml_get(y, root, "apiVersion"));
    const char *kind = slo_yaml_str(slo_yaml_get(y, root, "kind"));
    yaml_node_t *meta = slo_yaml_get(y, root, "metadata");
    int rc = slo_yaml_keys(y, root, top_keys, "SLO");
    if (rc)
        return rc;
    if (!api || strcmp(api, "openslo/v1") != 0)
        return slo_yaml_fail(y, root, "apiVersion: expected openslo/v1");
    if (!kind || strcmp(kind, "SLO") != 0)
        return slo_yaml_fail(y, root, "kind: expected SLO");
    if (!meta)
        return slo_yaml_fail(y, root, "metadata: required");
    rc = slo_yaml_keys(y, meta, meta_keys, "metadata");
    if (rc == 0)
        rc = slo_yaml_text(y, meta, "name", 1, s->name, sizeof(s->name));
    if (rc == 0 && !s->name[0])
        rc = slo_yaml_fail(y, meta, "metadata.name: must not be empty");
    return rc;
}

static int parse_objective(struct slo_yaml *y, yaml_node_t *spec, struct slo *s)
{
    yaml_node_t *obj = slo_yaml_get(y, spec, "objective");
    const char *how = slo_yaml_str(slo_yaml_get(y, spec, "budgetingMethod"));
    if (!obj)
        return slo_yaml_fail(y, spec, "objective: required");
    int rc = slo_yaml_keys(y, obj, obj_keys, "objective");
    if (rc == 0)
        rc = slo_yaml_op(y, obj, "op", &s->op);
    if (rc == 0)
        rc = slo_yaml_num(y, obj, "value", 1, &s->value);
    s->target = NAN;
    if (rc == 0)
        rc = slo_yaml_num(y, obj, "target", 0, &s->target);
    if (rc)
        return rc;
    if (!how || strcasecmp(how, "Timeslices") == 0)
        s->how = SLO_TIMESLICES;
    else if (strcasecmp(how, "Occurrences") == 0)
        s->how = SLO_OCCURRENCES;
    else
        return slo_yaml_fail(y, slo_yaml_get(y, spec, "budgetingMethod"),
                             "budgetingMethod: expected Timeslices or Occurrences, got '%s'", how);
    if (s->how == SLO_TIMESLICES && !(s->target > 0 && s->target < 1))
        return slo_yaml_fail(y, obj, "objective.target: required, between 0 and 1 (exclusive)");
    if (s->how == SLO_OCCURRENCES &&
        (s->op != SLO_OP_LT || qoe_metrics[s->metric].cls != QOE_CLASS_RATIO ||
         !(qoe_metrics[s->metric].flags & QOE_MF_BAD_SHARE) || !(s->value > 0)))
        return slo_yaml_fail(y, obj,
                             "objective: Occurrences needs vsf_rate, ebvs_rate or "
                             "rebuffer_ratio with op < and a positive value");
    return 0;
}

static int parse_spec(struct slo_yaml *y, yaml_node_t *spec, struct slo *s)
{
    yaml_node_t *ind = slo_yaml_get(y, spec, "indicator");
    yaml_node_t *win = slo_yaml_get(y, spec, "timeWindow");
    int rc = slo_yaml_keys(y, spec, spec_keys, "spec");
    if (rc == 0)
        rc = slo_yaml_text(y, spec, "service", 1, s->service, sizeof(s->service));
    if (rc == 0)
        rc = slo_yaml_text(y, spec, "description", 0, s->description, sizeof(s->description));
    if (rc == 0 && !ind)
        rc = slo_yaml_fail(y, spec, "indicator: required");
    if (rc == 0)
        rc = slo_yaml_keys(y, ind, ind_keys, "indicator");
    if (rc == 0)
        rc = slo_yaml_metric(y, ind, "metric", &s->metric);
    if (rc == 0)
        rc = slo_yaml_filter(y, ind, "filter", s->filters, &s->nfilters);
    if (rc == 0)
        rc = parse_objective(y, spec, s);
    if (rc == 0 && !win)
        rc = slo_yaml_fail(y, spec, "timeWindow: required");
    if (rc == 0)
        rc = slo_yaml_keys(y, win, win_keys, "timeWindow");
    if (rc == 0)
        rc = slo_yaml_duration(y, win, "duration", 1, &s->window_s);
    if (rc == 0 && (s->window_s < 3600 || s->window_s > SLO_MAX_WINDOW_S || s->window_s % 60))
        rc = slo_yaml_fail(y, win, "timeWindow.duration: between 1h and 90d, whole minutes");
    return rc;
}

static int parse_one(struct slo_yaml *y, yaml_node_t *root, const struct slo_refs *refs,
                     struct slo_set *set)
{
    struct slo *s;
    yaml_node_t *spec;
    if (set->n >= SLO_MAX)
        return slo_yaml_fail(y, root, "more than %d SLOs", SLO_MAX);
    s = &set->slos[set->n];
    memset(s, 0, sizeof(*s));
    s->line = (int)root->start_mark.line + 1;
    int rc = parse_head(y, root, s);
    if (rc)
        return rc;
    spec = slo_yaml_get(y, root, "spec");
    if (!spec)
        return slo_yaml_fail(y, root, "spec: required");
    rc = slo_v1_is(y, spec) ? slo_v1_spec(y, spec, refs, s) : parse_spec(y, spec, s);
    if (rc)
        return rc;
    if (slo_find(set, s->name))
        return slo_yaml_fail(y, root, "metadata.name: '%s' defined twice", s->name);
    set->n++;
    return 0;
}

int slo_set_parse(const char *name, const char *text, size_t n, struct slo_set **out, char *err,
                  size_t errlen)
{
    struct slo_yaml y;
    struct slo_set *set = oc_calloc(1, sizeof(*set));
    pthread_rwlock_init(&set->lock, NULL);
    struct slo_refs *refs = oc_calloc(1, sizeof(*refs));
    yaml_node_t *root;
    int rc = 0, more;
    /* three passes: DataSources, SLIs, SLOs, so a document may refer to one defined later */
    for (int pass = 0; pass < 3 && rc == 0; pass++) {
        rc = slo_yaml_open(&y, name, text, n, err, errlen);
        while (rc == 0 && (more = slo_yaml_next(&y, &root)) != 0) {
            const char *kind = slo_yaml_str(slo_yaml_get(&y, root, "kind"));
            if (more < 0)
                rc = more;
            else if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
                continue;
            else if (pass < 2)
                rc = slo_v1_collect(&y, root, pass, refs);
            else if (!kind || strcmp(kind, "SLO") == 0)
                rc = parse_one(&y, root, refs, set);
        }
        slo_yaml_free(&y);
    }
    free(refs);
    if (rc) {
        slo_set_destroy(set);
        return rc;
    }
    *out = set;
    return 0;
}

int slo_set_load(const char *path, struct slo_set **out, char *err, size_t errlen)
{
    size_t n = 0;
    char *text = NULL;
    int rc = OC_EIO;
    if (!path || !path[0]) {
        text = slo_default_yaml(&n);
        rc = slo_set_parse("slos.yaml (embedded)", text, n, out, err, errlen);
        free(text);
        return rc;
    }
    rc = oc_read_file(path, SLO_MAX_FILE, &text, &n, err, errlen);
    if (rc == 0)
        rc = slo_set_parse(path, text, n, out, err, errlen);
    free(text);
    return rc;
}

void slo_set_destroy(struct slo_set *s)
{
    if (s)
        pthread_rwlock_destroy(&s->lock);
    free(s);
}

void slo_set_rdlock(const struct slo_set *s)
{
    if (s)
        pthread_rwlock_rdlock((pthread_rwlock_t *)&s->lock);
}

void slo_set_unlock(const struct slo_set *s)
{
    if (s)
        pthread_rwlock_unlock((pthread_rwlock_t *)&s->lock);
}

void slo_set_replace(struct slo_set *dst, const struct slo_set *src)
{
    pthread_rwlock_wrlock(&dst->lock);
    dst->n = src->n;
    memcpy(dst->slos, src->slos, sizeof dst->slos);
    dst->generation++;
    pthread_rwlock_unlock(&dst->lock);
}

const struct slo *slo_find(const struct slo_set *s, const char *name)
{
    for (int i = 0; s && i < s->n; i++)
        if (strcmp(s->slos[i].name, name) == 0)
            return &s->slos[i];
    return NULL;
}

static void query_init(const struct slo *s, struct qoe_query *q, int64_t from, int64_t to,
                       int64_t step)
{
    memset(q, 0, sizeof(*q));
    q->metric = (enum qoe_metric)s->metric;
    q->from = from;
    q->to = to;
    q->step = step;
    q->top = 1;
    for (int i = 0; i < s->nfilters; i++)
        q->filters[q->nfilters++] = (struct qoe_filter){s->filters[i].dim, s->filters[i].value};
}

int slo_good(const struct slo *s, double v)
{
    if (s->inclusive && v == s->value)
        return 1;
    return s->op == SLO_OP_LT ? v < s->value : v > s->value;
}

int slo_count(const struct slo *s, struct qoe_cube *c, int64_t from, int64_t to,
              struct slo_count *out, char *err, size_t errlen)
{
    struct qoe_query q;
    struct qoe_result *r = NULL;
    int rc = 0;
    int64_t chunk = 60 * qoe_max_points((enum qoe_metric)s->metric); /* a percentile's: fewer */
    memset(out, 0, sizeof(*out));
    out->value = NAN;
    for (int64_t a = from; rc == 0 && a < to; a += chunk) {
        int64_t b = a + chunk < to ? a + chunk : to;
        query_init(s, &q, a, b, 60);
        rc = qoe_query_run(c, &q, &r, err, errlen);
        for (int k = 0; rc == 0 && r->nseries > 0 && k < r->npoints; k++) {
            double v = qoe_point(r, 0, k);
            if (isnan(v))
                continue;
            out->minutes++;
            out->bad += !slo_good(s, v);
        }
        qoe_result_destroy(r);
        r = NULL;
    }
    if (rc == 0 && to > from) {
        query_init(s, &q, from, to, to - from);
        rc = qoe_query_run(c, &q, &r, err, errlen);
        if (rc == 0 && r->nseries > 0)
            out->value = qoe_point(r, 0, 0);
        qoe_result_destroy(r);
    }
    return rc;
}

double slo_burn(const struct slo *s, const struct slo_count *k)
{
    if (s->how == SLO_OCCURRENCES)
        return isnan(k->value) ? NAN : k->value / s->value;
    if (k->minutes == 0)
        return NAN;
    return ((double)k->bad / (double)k->minutes) / (1.0 - s->target);
}

int64_t slo_closed_upto(struct qoe_cube *c, int64_t now_s)
{
    struct qoe_cube_stats st;
    int64_t t = now_s - now_s % 60;
    qoe_cube_stats(c, &st);
    if (st.complete_upto_s <= 0) /* nothing complete yet */
        return 0;
    return st.complete_upto_s < t ? st.complete_upto_s - st.complete_upto_s % 60 : t;
}

int slo_status_at(const struct slo *s, struct qoe_cube *c, int64_t now_s, struct slo_status *out,
                  char *err, size_t errlen)
{
    struct slo_count k;
    int64_t to = slo_closed_upto(c, now_s);
    memset(out, 0, sizeof(*out));
    out->at = to;
    out->window.value = out->good_fraction = out->budget_remaining = NAN;
    out->burn_1h = out->burn_6h = NAN;
    if (to <= 0)
        return 0;
    int rc = slo_count(s, c, to - s->window_s, to, &out->window, err, errlen);
    if (rc)
        return rc;
    out->good_fraction =
        out->window.minutes ? 1.0 - (double)out->window.bad / (double)out->window.minutes : NAN;
    out->budget_remaining = 1.0 - slo_burn(s, &out->window);
    rc = slo_count(s, c, to - 3600, to, &k, err, errlen);
    out->burn_1h = rc ? NAN : slo_burn(s, &k);
    if (rc == 0)
        rc = slo_count(s, c, to - 6 * 3600, to, &k, err, errlen);
    out->burn_6h = rc ? NAN : slo_burn(s, &k);
    return rc;
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

json_t *slo_json(const struct slo *s, const struct slo_status *st)
{
    json_t *filter = json_object();
    for (int i = 0; i < s->nfilters; i++)
        json_object_set_new(filter, beacon_dim_names[s->filters[i].dim],
                            json_string(s->filters[i].value));
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:s, s:o}, s:{s:s, s:f}, s:I, s:s}", "name", s->name,
                          "service", s->service, "description", s->description, "indicator",
                          "metric", qoe_metrics[s->metric].name, "filter", filter, "objective",
                          "op", s->op == SLO_OP_LT ? "<" : ">", "value", s->value, "window_s",
                          (json_int_t)s->window_s, "budgeting_method",
                          s->how == SLO_TIMESLICES ? "timeslices" : "occurrences");
    if (s->how == SLO_TIMESLICES)
        json_object_set_new(json_object_get(o, "objective"), "target", json_real(s->target));
    if (!st)
        return o;
    json_object_set_new(o, "at", json_integer(st->at));
    json_object_set_new(o, "minutes", json_integer(st->window.minutes));
    json_object_set_new(o, "bad_minutes", json_integer(st->window.bad));
    json_object_set_new(o, "value", num_or_null(st->window.value));
    json_object_set_new(o, "good_fraction", num_or_null(st->good_fraction));
    json_object_set_new(o, "budget_remaining", num_or_null(st->budget_remaining));
    json_object_set_new(o, "burn_rate_1h", num_or_null(st->burn_1h));
    json_object_set_new(o, "burn_rate_6h", num_or_null(st->burn_6h));
    return o;
}
