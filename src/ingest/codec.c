/*
 * codec.c - closed minutes as blobs, and merging minutes for rollups (see persist.h).
 *
 * Blob: a header (magic, nrows, nsk), the column block of the minute (layout fixed by
 * ingest_minute_new), then the packed sketch entries. Decoding checks every bound, so a damaged row
 * never reaches a query.
 */
#include "ingest/persist.h"
#include "ingest/minute.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#define BLOB_MAGIC 0x31435551u /* "QUC1" */

struct blob_head {
    uint32_t magic, nrows, nsk, pad;
};

void *minute_encode(const struct ingest_minute *cm, size_t *len)
{
    struct blob_head h = {BLOB_MAGIC, cm->nrows, cm->nsk, 0};
    size_t sk = (size_t)cm->nsk * sizeof *cm->sk;
    char *b = oc_malloc(sizeof h + cm->mem_len + sk);
    memcpy(b, &h, sizeof h);
    if (cm->mem_len)
        memcpy(b + sizeof h, cm->mem, cm->mem_len);
    if (sk)
        memcpy(b + sizeof h + cm->mem_len, cm->sk, sk);
    *len = sizeof h + cm->mem_len + sk;
    return b;
}

/* 0 when every row of cm is within bounds and leaves ascend. */
static int check(const struct ingest_minute *cm, uint32_t nleaves)
{
    for (uint32_t i = 0; i < cm->nrows; i++)
        if (cm->leaf[i] >= nleaves || (uint64_t)cm->sk_off[i] + cm->sk_n[i] > cm->nsk ||
            (i > 0 && cm->leaf[i] <= cm->leaf[i - 1]))
            return -1;
    for (uint32_t k = 0; k < cm->nsk; k++)
        if (INGEST_SK_BUCKET(cm->sk[k]) >= INGEST_SKETCH_NB)
            return -1;
    return 0;
}

struct ingest_minute *minute_decode(int64_t t, const void *blob, size_t len, uint32_t nleaves)
{
    struct blob_head h;
    if (len < sizeof h)
        return NULL;
    memcpy(&h, blob, sizeof h);
    if (h.magic != BLOB_MAGIC || h.nrows > len || h.nsk > len)
        return NULL;
    struct ingest_minute *cm = ingest_minute_new(t, h.nrows, h.nsk);
    size_t sk = (size_t)h.nsk * sizeof *cm->sk;
    if (len != sizeof h + cm->mem_len + sk) {
        ingest_minute_destroy(cm);
        return NULL;
    }
    if (cm->mem_len)
        memcpy(cm->mem, (const char *)blob + sizeof h, cm->mem_len);
    if (sk)
        memcpy(cm->sk, (const char *)blob + sizeof h + cm->mem_len, sk);
    if (check(cm, nleaves) != 0) {
        ingest_minute_destroy(cm);
        return NULL;
    }
    return cm;
}

/* Adds row r (of a minute whose sketch entries are sk) into accumulator a. */
static void acc_add(struct minute_acc *a, const struct ingest_row *r, const uint32_t *sk)
{
    a->starts += r->starts;
    a->fails += r->fails;
    a->exits += r->exits;
    a->hb += r->hb_sessions;
    a->rb += r->rb_sessions;
    a->playing_ms += r->playing_ms;
    a->rebuffer_ms += r->rebuffer_ms;
    a->bitrate_ms += r->bitrate_ms;
    for (uint32_t k = 0; k < r->sk_n; k++)
        minute_sketch_addn(a, INGEST_SK_BUCKET(sk[r->sk_off + k]),
                           INGEST_SK_COUNT(sk[r->sk_off + k]));
}

struct ingest_minute *minute_merge(int64_t t, struct ingest_minute *const *ms, int n)
{
    struct open_minute om;
    struct ingest_row r;
    minute_open(&om, t);
    for (int i = 0; i < n; i++)
        for (uint32_t k = 0; ms[i] && k < ms[i]->nrows; k++) {
            ingest_minute_row(ms[i], k, &r);
            acc_add(minute_acc(&om, r.leaf, UINT32_MAX), &r, ms[i]->sk);
        }
    return minute_close(&om); /* its session set is empty: hb and rb stay the sums */
}
