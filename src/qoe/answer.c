/*
 * answer.c - the JSON answer of GET /v1/qoe written a part at a time (struct qoe_writer), so
 * a long one is sent as it is formatted (a chunked body, qpool.c) and never held whole: the
 * answer's head, then each series' head and its points, each piece serialized by jansson
 * alone, so the text is byte for byte what dumping qoe_result_json's tree at once gives.
 * The writer copies the group values it names (a value may age out of the cube's dictionary
 * while a slow client reads) and frees each series' points once they are written.
 */
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qoe_writer {
    struct qoe_query q;   /* the query (filters dropped: the answer does not name them) */
    struct qoe_result *r; /* owned; each series' points freed once written */
    char *head;           /* the answer's text up to the series' "[" (owned) */
    char **series_head;   /* per series: its text up to the points' "[" (owned) */
    int s, k;             /* the next series and point */
    int written;          /* points of series s written */
    int in_series;        /* series s's head is written */
    int started, done;    /* the head, and the whole answer, are written */
    int sum;              /* the metric's values are counts (integers) */
    json_t *pt[3];        /* a point [t, v] with v null, an integer, a real: reused */
};

/* The text of v dumped as oc_json_dump does, without its last two bytes ("]}" of an empty
 * array closing an object); v is released. */
static char *open_text(json_t *v)
{
    struct oc_buf b;
    oc_buf_init(&b, (size_t)1 << 30);
    oc_json_dump(v, &b); /* a head of names and numbers: far under the cap */
    json_decref(v);
    if (b.len >= 2)
        b.data[b.len - 2] = '\0';
    char *t = oc_strdup(b.data ? b.data : "");
    oc_buf_free(&b);
    return t;
}

struct qoe_writer *qoe_writer_new(const struct qoe_query *q, struct qoe_result *r)
{
    struct qoe_writer *w = oc_calloc(1, sizeof *w);
    w->q = *q;
    w->q.nfilters = 0;
    w->r = r;
    w->sum = qoe_metrics[q->metric].cls == QOE_CLASS_SUM;
    w->pt[0] = json_pack("[In]", (json_int_t)0);
    w->pt[1] = json_pack("[II]", (json_int_t)0, (json_int_t)0);
    w->pt[2] = json_pack("[If]", (json_int_t)0, 0.0);
    w->head = open_text(json_pack("{s:s,s:I,s:I,s:I,s:[]}", "metric", qoe_metrics[q->metric].name,
                                  "from", (json_int_t)q->from, "to", (json_int_t)q->to, "step",
                                  (json_int_t)q->step, "series"));
    w->series_head = oc_calloc(r->nseries ? (size_t)r->nseries : 1, sizeof *w->series_head);
    for (int s = 0; s < r->nseries; s++) {
        json_t *group = json_object();
        for (int i = 0; i < q->ngroup; i++)
            json_object_set_new(group, beacon_dim_names[q->group_by[i]],
                                json_string(r->series[s].values[i]));
        w->series_head[s] = open_text(json_pack("{s:o,s:[]}", "group", group, "points"));
    }
    return w;
}

/* Appends point k of series s ("[t,v]") to b, as qoe_result_json's tree holds it (null, an
 * integer for a count, else a real); 0 or OC_ETOOBIG. Allocates nothing. */
static int put_point(struct qoe_writer *w, struct oc_buf *b, int s, int k)
{
    double v = w->r->series[s].points[k];
    json_t *p = w->pt[isnan(v) ? 0 : w->sum ? 1 : 2];
    json_integer_set(json_array_get(p, 0), (json_int_t)(w->q.from + k * w->q.step));
    if (p == w->pt[1])
        json_integer_set(json_array_get(p, 1), (json_int_t)v);
    else if (p == w->pt[2])
        json_real_set(json_array_get(p, 1), v);
    return oc_json_dump(p, b);
}

int qoe_writer_next(struct qoe_writer *w, struct oc_buf *b, size_t upto)
{
    const struct qoe_result *r = w->r;
    int rc = 0;
    if (!w->started) {
        rc = oc_buf_puts(b, w->head);
        w->started = 1;
    }
    while (rc == 0 && !w->done && b->len < upto) {
        if (w->s == r->nseries) { /* the series' "]", the answer's "}" and a new line */
            rc = oc_buf_puts(b, "]}\n");
            w->done = 1;
            break;
        }
        if (!w->in_series) {
            if (w->s)
                rc = oc_buf_puts(b, ",");
            if (rc == 0)
                rc = oc_buf_puts(b, w->series_head[w->s]);
            w->in_series = 1;
        }
        for (; rc == 0 && w->k < r->npoints && b->len < upto; w->k++) {
            double v = r->series[w->s].points[w->k];
            if (!w->sum && isinf(v))
                continue; /* json_real refuses it: the tree has no such point either */
            if (w->written++)
                rc = oc_buf_puts(b, ",");
            if (rc == 0)
                rc = put_point(w, b, w->s, w->k);
        }
        if (rc == 0 && w->k == r->npoints) { /* the points' "]" and the series' "}" */
            rc = oc_buf_puts(b, "]}");
            free(r->series[w->s].points);
            r->series[w->s].points = NULL;
            w->in_series = 0;
            w->k = 0;
            w->written = 0;
            w->s++;
        }
    }
    return rc ? OC_ETOOBIG : w->done;
}

void qoe_writer_destroy(struct qoe_writer *w)
{
    if (!w)
        return;
    if (w->series_head)
        for (int s = 0; s < w->r->nseries; s++)
            free(w->series_head[s]);
    free(w->series_head);
    free(w->head);
    for (int i = 0; i < 3; i++)
        json_decref(w->pt[i]);
    qoe_result_destroy(w->r);
    free(w);
}

int qoe_answer_start(struct qoe_module_state *ms, const struct qoe_query *q,
                     struct qoe_writer **out, char *err, size_t errlen)
{
    struct qoe_result *r = NULL;
    struct qoe_cube *from_ch = NULL; /* the minutes ClickHouse answered (series borrow) */
    int rc;
    *out = NULL;
    if (ms->o.clickhouse_query)
        rc = qoe_ch_query(ms->o.clickhouse_url, ms->o.clickhouse_table, &ms->o, q, &from_ch, &r,
                          err, errlen);
    else
        rc = qoe_query_run(ms->cube, q, &r, err, errlen);
    if (rc == 0)
        *out = qoe_writer_new(q, r); /* copies the group values out of from_ch */
    else
        qoe_result_destroy(r);
    qoe_cube_destroy(from_ch);
    return rc;
}

int qoe_answer(struct qoe_module_state *ms, const struct qoe_query *q, struct oc_buf *b, char *err,
               size_t errlen)
{
    struct qoe_writer *w = NULL;
    int rc = qoe_answer_start(ms, q, &w, err, errlen);
    if (rc == 0 && qoe_writer_next(w, b, SIZE_MAX) < 0) {
        rc = OC_EINVAL;
        snprintf(err, errlen,
                 "the answer is over qoe.query_max_answer_bytes (%lld): use a larger step, "
                 "a shorter range, or a smaller top",
                 (long long)ms->max_answer_bytes);
    }
    qoe_writer_destroy(w);
    return rc;
}
