/*
 * errors.c - the players' error codes: every failed start (outcome failure) and error event
 * the cube accepts is counted by its error_code and its leaf, per minute, over the last
 * QOE_ERR_MINUTES minutes of event time, in memory only (not stored: a restart starts over).
 * GET /v1/qoe/errors reads it: codes by count and, per code, the values of each dimension it
 * came from (the leaves' values, read as the cube reads them now: a value aged out since
 * counts as "other", as in GET /v1/qoe). See docs/internals/qoe.md "Error codes".
 *
 * Bounds: a code is at most QOE_ERR_CODE_LEN - 1 bytes of printable ASCII (other bytes become
 * '?', a longer code is cut); QOE_ERR_CODES codes per minute, later new codes count under
 * "other"; ERR_PAIRS (code, leaf) pairs per minute, later pairs count for their code without
 * their slice ("unsliced"). At most about 9 MB in all.
 *
 * Lock: t->mu, a leaf, taken by qoe_cube_add after the cube's mu is released and by the
 * reader, which copies what it needs and releases it before reading leaves under the ring's
 * read lock (qoe_cube_read_begin).
 */
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"
#include "core/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_PAIRS 4096 /* (code, leaf) pairs per minute */
#define ERR_SLOTS 8192 /* their hash slots: a power of two, twice ERR_PAIRS */

struct err_pair {
    uint32_t leaf;
    uint16_t code; /* index in the minute's codes */
    uint16_t used;
    uint32_t fails;  /* failed starts */
    uint32_t errors; /* error events */
};

struct err_minute {
    int64_t t; /* minute start, unix seconds */
    uint32_t ncodes, npairs;
    char code[QOE_ERR_CODES][QOE_ERR_CODE_LEN];
    uint32_t fails[QOE_ERR_CODES], errors[QOE_ERR_CODES]; /* per code, exact */
    uint32_t unsliced[QOE_ERR_CODES];                     /* per code: past ERR_PAIRS */
    struct err_pair slot[ERR_SLOTS];
};

struct qoe_errtally {
    pthread_mutex_t mu;
    struct err_minute *m[QOE_ERR_MINUTES]; /* minute t in slot (t / 60) % QOE_ERR_MINUTES */
    uint64_t too_old;                      /* events older than the minutes kept */
};

struct qoe_errtally *qoe_errtally_new(void)
{
    struct qoe_errtally *t = oc_calloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

void qoe_errtally_free(struct qoe_errtally *t)
{
    if (!t)
        return;
    for (int i = 0; i < QOE_ERR_MINUTES; i++)
        free(t->m[i]);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

void qoe_err_code_clean(const char *p, size_t n, char out[QOE_ERR_CODE_LEN])
{
    size_t k = 0;
    for (size_t i = 0; p && i < n && k < QOE_ERR_CODE_LEN - 1; i++) {
        unsigned char ch = (unsigned char)p[i];
        out[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[k] = 0;
    if (k == 0)
        snprintf(out, QOE_ERR_CODE_LEN, "%s", QOE_VALUE_UNKNOWN);
}

/* The index of code in m, added when there is room, else that of "other" (added once). */
static int code_index(struct err_minute *m, const char *code)
{
    for (uint32_t i = 0; i < m->ncodes; i++)
        if (strcmp(m->code[i], code) == 0)
            return (int)i;
    if (m->ncodes >= QOE_ERR_CODES - 1) { /* the last one is kept for "other" */
        for (uint32_t i = 0; i < m->ncodes; i++)
            if (strcmp(m->code[i], QOE_VALUE_OTHER) == 0)
                return (int)i;
        code = QOE_VALUE_OTHER;
    }
    snprintf(m->code[m->ncodes], QOE_ERR_CODE_LEN, "%s", code);
    return (int)m->ncodes++;
}

/* The minute of slot for t, reset when it held an older one; NULL when t is older than what
 * the slot holds (more than QOE_ERR_MINUTES minutes before the newest). */
static struct err_minute *minute_for(struct qoe_errtally *t, int64_t ts)
{
    int64_t s = ((ts / 60) % QOE_ERR_MINUTES + QOE_ERR_MINUTES) % QOE_ERR_MINUTES;
    struct err_minute *m = t->m[s];
    if (m && m->t == ts)
        return m;
    if (m && m->t > ts)
        return NULL;
    if (!m)
        m = t->m[s] = oc_malloc(sizeof *m);
    memset(m, 0, sizeof *m);
    m->t = ts;
    return m;
}

void qoe_errtally_add(struct qoe_errtally *t, const struct qoe_fold *f)
{
    int locked = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct beacon_event *e = &f->ev[i];
        int fail = e->type == BEACON_START && e->outcome == BEACON_FAILURE;
        if ((!fail && e->type != BEACON_ERROR) || f->verdict[i] != QOE_FOLD_OK)
            continue;
        if (!locked) {
            pthread_mutex_lock(&t->mu);
            locked = 1;
        }
        char code[QOE_ERR_CODE_LEN];
        qoe_err_code_clean(e->error_code.p, e->error_code.n, code);
        int64_t ts = e->ts_ms / 60000 * 60; /* ts > 0: ingest checked it */
        struct err_minute *m = minute_for(t, ts);
        if (!m) {
            t->too_old++;
            continue;
        }
        int c = code_index(m, code);
        m->fails[c] += (uint32_t)fail;
        m->errors[c] += (uint32_t)!fail;
        uint32_t h = (f->leaf[i] * 2654435761u ^ (uint32_t)c * 40503u) & (ERR_SLOTS - 1);
        while (m->slot[h].used && (m->slot[h].leaf != f->leaf[i] || m->slot[h].code != c))
            h = (h + 1) & (ERR_SLOTS - 1);
        struct err_pair *p = &m->slot[h];
        if (!p->used) {
            if (m->npairs >= ERR_PAIRS) {
                m->unsliced[c]++;
                continue;
            }
            *p = (struct err_pair){.leaf = f->leaf[i], .code = (uint16_t)c, .used = 1};
            m->npairs++;
        }
        p->fails += (uint32_t)fail;
        p->errors += (uint32_t)!fail;
    }
    if (locked)
        pthread_mutex_unlock(&t->mu);
}

/* What a read collects: codes over the range, and their (code, leaf, count) pairs. */
struct agg_pair {
    uint32_t code, leaf, n;
};

static int cmp_code(const void *a, const void *b)
{
    const struct qoe_err_code *x = a, *y = b;
    uint64_t nx = x->fails + x->errors, ny = y->fails + y->errors;
    return nx != ny ? (nx < ny ? 1 : -1) : strcmp(x->code, y->code);
}

static int cmp_pair(const void *a, const void *b)
{
    const struct agg_pair *x = a, *y = b;
    return x->code != y->code   ? (x->code < y->code ? -1 : 1)
           : x->leaf != y->leaf ? (x->leaf < y->leaf ? -1 : 1)
                                : 0;
}

struct vcount {
    uint32_t id;
    uint64_t n;
};

static int cmp_vid(const void *a, const void *b)
{
    const struct vcount *x = a, *y = b;
    return x->id != y->id ? (x->id < y->id ? -1 : 1) : 0;
}

static int cmp_vn(const void *a, const void *b)
{
    const struct vcount *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : (x->id < y->id ? -1 : x->id > y->id);
}

int qoe_cube_errors(struct qoe_cube *c, int64_t from, int64_t to, int top,
                    struct qoe_err_answer *out)
{
    struct qoe_errtally *t = c->errs;
    memset(out, 0, sizeof *out);
    size_t ncap = 64, npairs = 0, pcap = 1024;
    out->codes = oc_calloc(ncap, sizeof *out->codes);
    struct agg_pair *pairs = oc_malloc(pcap * sizeof *pairs);
    pthread_mutex_lock(&t->mu);
    out->too_old = t->too_old;
    for (int s = 0; s < QOE_ERR_MINUTES; s++) {
        const struct err_minute *m = t->m[s];
        if (!m || m->t < from || m->t >= to)
            continue;
        out->minutes++;
        uint32_t map[QOE_ERR_CODES];
        for (uint32_t i = 0; i < m->ncodes; i++) {
            size_t k = 0;
            while (k < out->ncodes && strcmp(out->codes[k].code, m->code[i]) != 0)
                k++;
            if (k == out->ncodes) {
                if (out->ncodes == ncap) {
                    out->codes = oc_grow(out->codes, &ncap, ncap + 1, sizeof *out->codes);
                    memset(out->codes + out->ncodes, 0, (ncap - out->ncodes) * sizeof *out->codes);
                }
                snprintf(out->codes[out->ncodes++].code, QOE_ERR_CODE_LEN, "%s", m->code[i]);
            }
            map[i] = (uint32_t)k;
            out->codes[k].fails += m->fails[i];
            out->codes[k].errors += m->errors[i];
            out->codes[k].unsliced += m->unsliced[i];
            out->events += (uint64_t)m->fails[i] + m->errors[i];
        }
        for (uint32_t h = 0; h < ERR_SLOTS; h++) {
            const struct err_pair *p = &m->slot[h];
            if (!p->used)
                continue;
            if (npairs == pcap)
                pairs = oc_grow(pairs, &pcap, npairs + 1, sizeof *pairs);
            pairs[npairs++] = (struct agg_pair){map[p->code], p->leaf, p->fails + p->errors};
        }
    }
    pthread_mutex_unlock(&t->mu);

    /* codes by count; pairs by (code, leaf) with the codes renumbered in that order */
    for (size_t k = 0; k < out->ncodes; k++)
        out->codes[k].rank = (uint32_t)k; /* the index the pairs use, until sorted */
    qsort(out->codes, out->ncodes, sizeof *out->codes, cmp_code);
    uint32_t *newi = oc_malloc((out->ncodes + 1) * sizeof *newi);
    for (size_t k = 0; k < out->ncodes; k++)
        newi[out->codes[k].rank] = (uint32_t)k;
    for (size_t i = 0; i < npairs; i++)
        pairs[i].code = newi[pairs[i].code];
    free(newi);
    if (npairs)
        qsort(pairs, npairs, sizeof *pairs, cmp_pair);
    if (top > 0 && out->ncodes > (size_t)top)
        out->ncodes = (size_t)top;

    /* per code and dimension, the values by count, read through the leaves */
    struct vcount *vc = NULL;
    size_t vcap = 0;
    qoe_cube_read_begin(c);
    size_t i = 0;
    for (size_t k = 0; k < out->ncodes; k++) {
        struct qoe_err_slices *sl = out->codes[k].sl = oc_calloc(1, sizeof *sl);
        size_t lo = i;
        while (i < npairs && pairs[i].code == k)
            i++;
        if (i - lo > vcap)
            vc = oc_grow(vc, &vcap, i - lo, sizeof *vc);
        for (int d = 0; d < BEACON_NDIMS; d++) {
            size_t n = 0, w = 0;
            for (size_t j = lo; j < i; j++) {
                vc[n].id = qoe_cube_leaf_dims(c, pairs[j].leaf)[d];
                vc[n++].n = pairs[j].n;
            }
            if (n)
                qsort(vc, n, sizeof *vc, cmp_vid);
            for (size_t j = 0; j < n; j++) {
                if (w && vc[w - 1].id == vc[j].id)
                    vc[w - 1].n += vc[j].n;
                else
                    vc[w++] = vc[j];
            }
            if (w)
                qsort(vc, w, sizeof *vc, cmp_vn);
            sl->nvalues[d] = (int)(w < QOE_ERR_TOP_VALUES ? w : QOE_ERR_TOP_VALUES);
            sl->distinct[d] = (uint32_t)w;
            for (int j = 0; j < sl->nvalues[d]; j++) {
                const char *v = qoe_cube_value(c, d, vc[j].id);
                snprintf(sl->value[d][j], sizeof sl->value[d][j], "%s", v ? v : "?");
                sl->value_n[d][j] = vc[j].n;
            }
        }
    }
    qoe_cube_read_end(c);
    free(vc);
    free(pairs);
    return 0;
}

void qoe_err_answer_free(struct qoe_err_answer *a)
{
    for (size_t k = 0; a->codes && k < a->ncodes; k++)
        free(a->codes[k].sl);
    free(a->codes);
    memset(a, 0, sizeof *a);
}
