/*
 * codec.c - closed minutes as blobs, and merging minutes for rollups (see persist.h).
 *
 * Blob v1 (a minute; rollups written before per-minute detail existed): a header (magic,
 * nrows, nsk), the column block of the minute (layout fixed by qoe_minute_new), then the
 * packed sketch entries. Blob v2 (a rollup row): a longer header (also ndet and res), the same
 * two parts, then det_n (one count per row) and the ndet per-minute entries of the rows in row
 * order. Either may carry the CDN edge columns (the header's pad word has flag 1, BLOB_EDGE):
 * six columns of nrows entries (edge_ttfb_ms, then the five uint32 counts) after all else, and
 * the error column (flag 2, BLOB_ERRORS: nrows uint32 counts of error events) as the blob's
 * last bytes. A minute without edge requests or error events is written without them, byte
 * for byte as before, and blobs written before the flags existed (pad 0) load unchanged (a
 * binary older than the error column refuses a blob with flag 2 as damaged). Decoding checks
 * every bound, so a damaged row never reaches a query.
 */
#include "qoe/persist.h"
#include "qoe/minute.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#define BLOB_MAGIC  0x31435551u /* "QUC1" */
#define BLOB_MAGIC2 0x32435551u /* "QUC2" */
#define BLOB_EDGE   1u          /* header flag (pad): the edge columns follow */
#define BLOB_ERRORS 2u          /* header flag (pad): the error column follows, after all else */

struct blob_head {
    uint32_t magic, nrows, nsk, pad;
};

struct blob_head2 {
    uint32_t magic, nrows, nsk, ndet;
    int32_t res;
    uint32_t pad;
};

void *minute_encode(const struct qoe_minute *cm, size_t *len)
{
    uint32_t flags = (cm->edge_mem ? BLOB_EDGE : 0) | (cm->errors ? BLOB_ERRORS : 0);
    size_t el = cm->errors ? (size_t)cm->nrows * sizeof *cm->errors : 0;
    struct blob_head h = {BLOB_MAGIC, cm->nrows, cm->nsk, flags};
    struct blob_head2 h2 = {BLOB_MAGIC2, cm->nrows, cm->nsk, cm->ndet, cm->res, flags};
    int v2 = cm->det_n != NULL;
    size_t hl = v2 ? sizeof h2 : sizeof h, at = 0;
    size_t sk = (size_t)cm->nsk * sizeof *cm->sk;
    size_t dn = v2 ? (size_t)cm->nrows * sizeof *cm->det_n : 0;
    size_t de = v2 ? (size_t)cm->ndet * sizeof *cm->det : 0;
    char *b = oc_malloc(hl + cm->mem_len + sk + dn + de + cm->edge_len + el);
    memcpy(b, v2 ? (const void *)&h2 : (const void *)&h, hl), at += hl;
    if (cm->mem_len)
        memcpy(b + at, cm->mem, cm->mem_len), at += cm->mem_len;
    if (sk)
        memcpy(b + at, cm->sk, sk), at += sk;
    if (dn)
        memcpy(b + at, cm->det_n, dn), at += dn;
    if (de)
        memcpy(b + at, cm->det, de), at += de;
    if (cm->edge_len)
        memcpy(b + at, cm->edge_mem, cm->edge_len), at += cm->edge_len;
    if (el)
        memcpy(b + at, cm->errors, el), at += el;
    *len = at;
    return b;
}

/* 0 when every row of cm is within bounds and leaves ascend. */
static int check(const struct qoe_minute *cm, uint32_t nleaves)
{
    for (uint32_t i = 0; i < cm->nrows; i++)
        if (cm->leaf[i] >= nleaves || (uint64_t)cm->sk_off[i] + cm->sk_n[i] > cm->nsk ||
            (i > 0 && cm->leaf[i] <= cm->leaf[i - 1]))
            return -1;
    for (uint32_t k = 0; k < cm->nsk; k++)
        if (QOE_SK_BUCKET(cm->sk[k]) >= QOE_SKETCH_NB)
            return -1;
    return 0;
}

/* Allocates the detail arrays of cm (nrows counts, ndet entries). */
static void det_alloc(struct qoe_minute *cm, uint32_t ndet)
{
    cm->det_off = oc_calloc((size_t)cm->nrows + 1, sizeof *cm->det_off);
    cm->det_n = oc_calloc((size_t)cm->nrows + 1, sizeof *cm->det_n);
    cm->det = oc_calloc((size_t)ndet + 1, sizeof *cm->det);
    cm->ndet = ndet;
}

/* Sets det_off from det_n; 0 when the counts add up to ndet and each row's minutes ascend
 * within the row's span. */
static int det_check(struct qoe_minute *cm)
{
    uint64_t at = 0;
    uint32_t nmin = (uint32_t)(cm->res / 60);
    for (uint32_t i = 0; i < cm->nrows; i++) {
        cm->det_off[i] = (uint32_t)at;
        if ((at += cm->det_n[i]) > cm->ndet)
            return -1;
        for (uint32_t k = cm->det_off[i]; k < at; k++)
            if (cm->det[k].min >= nmin ||
                (k > cm->det_off[i] && cm->det[k].min <= cm->det[k - 1].min))
                return -1;
    }
    return at == cm->ndet ? 0 : -1;
}

/* Reads the v2 tail (det_n, det) of a blob whose other parts take used bytes. */
static int decode_det(struct qoe_minute *cm, const struct blob_head2 *h, const char *blob,
                      size_t len, size_t used)
{
    size_t dn = (size_t)h->nrows * sizeof *cm->det_n, de = (size_t)h->ndet * sizeof *cm->det;
    if ((h->res != 300 && h->res != 3600) || h->ndet > len || len != used + dn + de)
        return -1;
    cm->res = h->res;
    det_alloc(cm, h->ndet);
    if (dn)
        memcpy(cm->det_n, blob + used, dn);
    if (de)
        memcpy(cm->det, blob + used + dn, de);
    return det_check(cm);
}

struct qoe_minute *minute_decode(int64_t t, const void *blob, size_t len, uint32_t nleaves)
{
    struct blob_head2 h;
    size_t hl = sizeof(struct blob_head);
    memset(&h, 0, sizeof h);
    if (len < hl)
        return NULL;
    memcpy(&h, blob, hl);
    if (h.magic == BLOB_MAGIC2) {
        if (len < sizeof h)
            return NULL;
        memcpy(&h, blob, hl = sizeof h);
    } else if (h.magic != BLOB_MAGIC) {
        return NULL;
    }
    uint32_t flags = h.magic == BLOB_MAGIC ? h.ndet : h.pad; /* v1's pad lands in ndet */
    size_t edge = flags & BLOB_EDGE ? (size_t)h.nrows * (8 + 5 * 4) : 0;
    size_t errs = flags & BLOB_ERRORS ? (size_t)h.nrows * 4 : 0;
    if (h.nrows > len || h.nsk > len || (flags & ~(BLOB_EDGE | BLOB_ERRORS)) || edge + errs > len)
        return NULL;
    len -= errs; /* the error column is the last bytes, the edge columns before it */
    const char *errs_at = (const char *)blob + len;
    len -= edge;
    struct qoe_minute *cm = qoe_minute_new(t, h.nrows, h.nsk);
    size_t sk = (size_t)h.nsk * sizeof *cm->sk, used = hl + cm->mem_len + sk;
    int bad = h.magic == BLOB_MAGIC ? len != used : len < used;
    if (!bad && edge) {
        qoe_minute_edge_alloc(cm);
        memcpy(cm->edge_mem, (const char *)blob + len, edge);
    }
    if (!bad && errs) {
        qoe_minute_errors_alloc(cm);
        memcpy(cm->errors, errs_at, errs);
    }
    if (!bad && cm->mem_len)
        memcpy(cm->mem, (const char *)blob + hl, cm->mem_len);
    if (!bad && sk)
        memcpy(cm->sk, (const char *)blob + hl + cm->mem_len, sk);
    if (!bad && h.magic == BLOB_MAGIC2)
        bad = decode_det(cm, &h, blob, len, used) != 0;
    if (bad || check(cm, nleaves) != 0) {
        qoe_minute_destroy(cm);
        return NULL;
    }
    return cm;
}

/* Adds row r (of a minute whose sketch entries are sk) into accumulator a. */
static void acc_add(struct minute_acc *a, const struct qoe_row *r, const uint32_t *sk)
{
    a->starts += r->starts;
    a->fails += r->fails;
    a->exits += r->exits;
    a->hb += r->hb_sessions;
    a->rb += r->rb_sessions;
    a->playing_ms += r->playing_ms;
    a->rebuffer_ms += r->rebuffer_ms;
    a->bitrate_ms += r->bitrate_ms;
    a->edge_req += r->edge_req;
    a->edge_5xx += r->edge_5xx;
    a->edge_miss += r->edge_miss;
    a->edge_origin += r->edge_origin;
    a->edge_ttfb_n += r->edge_ttfb_n;
    a->edge_ttfb_ms += r->edge_ttfb_ms;
    a->errors += r->errors;
    for (uint32_t k = 0; k < r->sk_n; k++)
        minute_sketch_addn(a, QOE_SK_BUCKET(sk[r->sk_off + k]), QOE_SK_COUNT(sk[r->sk_off + k]));
}

/* A per-minute entry of the merge, with its leaf. */
struct ldet {
    uint32_t leaf;
    struct qoe_det d;
};

static int ldet_cmp(const void *a, const void *b)
{
    const struct ldet *x = a, *y = b;
    if (x->leaf != y->leaf)
        return x->leaf < y->leaf ? -1 : 1;
    return x->d.min < y->d.min ? -1 : x->d.min > y->d.min;
}

/* The per-minute entries of part m (a minute, or a rollup row with detail) of the row
 * starting at t, appended to *v; minutes outside [0, nmin) are dropped. */
static void collect_det(const struct qoe_minute *m, int64_t t, uint32_t nmin, struct ldet **v,
                        size_t *n, size_t *cap)
{
    int64_t off = (m->t - t) / 60;
    for (uint32_t i = 0; i < m->nrows; i++) {
        uint32_t k0 = m->det_n ? m->det_off[i] : 0, k1 = m->det_n ? k0 + m->det_n[i] : 1;
        if (!m->det_n && (m->res != 60 || !m->hb_sessions[i]))
            continue; /* no heartbeats, or a rollup without detail */
        for (uint32_t k = k0; k < k1; k++) {
            struct qoe_det d =
                m->det_n ? m->det[k] : (struct qoe_det){0, m->hb_sessions[i], m->rb_sessions[i]};
            int64_t mi = off + d.min;
            if (mi < 0 || mi >= nmin)
                continue;
            *v = oc_grow(*v, cap, *n + 1, sizeof **v);
            d.min = (uint32_t)mi;
            (*v)[(*n)++] = (struct ldet){m->leaf[i], d};
        }
    }
}

/* Fills the detail of the merged row out from the sorted entries v (equal leaf and minute
 * add up; out's leaves ascend and include every leaf of v). */
static void set_det(struct qoe_minute *out, struct ldet *v, size_t n)
{
    size_t w = 0;
    for (size_t k = 0; k < n; k++) {
        if (w && v[w - 1].leaf == v[k].leaf && v[w - 1].d.min == v[k].d.min) {
            v[w - 1].d.hb += v[k].d.hb, v[w - 1].d.rb += v[k].d.rb;
            continue;
        }
        v[w++] = v[k];
    }
    det_alloc(out, (uint32_t)w);
    size_t k = 0;
    for (uint32_t i = 0; i < out->nrows; i++) {
        out->det_off[i] = (uint32_t)k;
        for (; k < w && v[k].leaf == out->leaf[i]; k++)
            out->det[k] = v[k].d, out->det_n[i]++;
    }
}

struct qoe_minute *minute_merge(int64_t t, int res, struct qoe_minute *const *ms, int n)
{
    struct open_minute om;
    struct qoe_row r;
    struct ldet *v = NULL;
    size_t nv = 0, cap = 0;
    minute_open(&om, t);
    for (int i = 0; i < n; i++)
        for (uint32_t k = 0; ms[i] && k < ms[i]->nrows; k++) {
            qoe_minute_row(ms[i], k, &r);
            acc_add(minute_acc(&om, r.leaf, UINT32_MAX), &r, ms[i]->sk);
        }
    for (int i = 0; i < n; i++)
        if (ms[i])
            collect_det(ms[i], t, (uint32_t)(res / 60), &v, &nv, &cap);
    struct qoe_minute *out = minute_close(&om); /* no session set: hb, rb stay the sums */
    out->res = res;
    if (nv)
        qsort(v, nv, sizeof *v, ldet_cmp);
    set_det(out, v, nv);
    free(v);
    return out;
}
