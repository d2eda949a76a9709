/*
 * minute.c - one open minute of the cube and how it closes (see minute.h).
 *
 * Distinct sessions are exact: the set keys on the 64-bit session hash and the leaf, so two
 * different sessions are merged only on a hash collision (probability about n^2 / 2^65 for n
 * sessions in a minute: 3e-8 at one million). Closing counts each leaf's pairs, sorts the rows
 * by leaf id and packs sketches into one array.
 */
#include "qoe/minute.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    return x;
}

void minute_open(struct open_minute *m, int64_t t)
{
    memset(m, 0, sizeof *m);
    m->t = t;
    m->used = 1;
    m->lmask = 255;
    m->lmap = oc_calloc(m->lmask + 1, sizeof *m->lmap);
    m->smask = 1023;
    m->sess = oc_calloc(m->smask + 1, sizeof *m->sess);
}

void minute_free(struct open_minute *m)
{
    for (uint32_t i = 0; i < m->nacc; i++)
        free(m->acc[i].sk);
    free(m->acc);
    free(m->lmap);
    free(m->sess);
    memset(m, 0, sizeof *m);
}

static void lmap_put(uint32_t *map, uint32_t mask, uint32_t leaf, uint32_t idx)
{
    uint32_t i = (uint32_t)mix64(leaf) & mask;
    while (map[i])
        i = (i + 1) & mask;
    map[i] = idx + 1;
}

static void lmap_grow(struct open_minute *m)
{
    uint32_t mask = m->lmask * 2 + 1;
    free(m->lmap);
    m->lmap = oc_calloc(mask + 1, sizeof *m->lmap);
    m->lmask = mask;
    for (uint32_t k = 0; k < m->nacc; k++)
        lmap_put(m->lmap, mask, m->acc[k].leaf, k);
}

struct minute_acc *minute_acc(struct open_minute *m, uint32_t leaf, uint32_t max)
{
    uint32_t i = (uint32_t)mix64(leaf) & m->lmask;
    for (; m->lmap[i]; i = (i + 1) & m->lmask)
        if (m->acc[m->lmap[i] - 1].leaf == leaf)
            return &m->acc[m->lmap[i] - 1];
    if (m->nacc >= max)
        return NULL;
    m->acc = oc_grow(m->acc, &m->cap, (size_t)m->nacc + 1, sizeof *m->acc);
    struct minute_acc *a = &m->acc[m->nacc];
    memset(a, 0, sizeof *a);
    a->leaf = leaf;
    m->lmap[i] = ++m->nacc;
    if ((uint64_t)m->nacc * 2 > m->lmask)
        lmap_grow(m);
    return a;
}

void minute_sketch_addn(struct minute_acc *a, int b, uint32_t n)
{
    for (uint32_t i = 0; i < a->skn && n > 0; i++) {
        uint32_t c = QOE_SK_COUNT(a->sk[i]);
        if (QOE_SK_BUCKET(a->sk[i]) != b || c == QOE_SKETCH_MAXC)
            continue;
        uint32_t add = QOE_SKETCH_MAXC - c < n ? QOE_SKETCH_MAXC - c : n;
        a->sk[i] += add;
        n -= add;
    }
    while (n > 0) { /* a new entry (more than one if n overflows the count field) */
        uint32_t add = n < QOE_SKETCH_MAXC ? n : QOE_SKETCH_MAXC;
        if (a->skn == a->skcap) {
            a->skcap = a->skcap ? a->skcap * 2 : 4;
            a->sk = oc_realloc(a->sk, a->skcap * sizeof *a->sk);
        }
        a->sk[a->skn++] = ((uint32_t)b << 21) | add;
        n -= add;
    }
}

void minute_sketch_add(struct minute_acc *a, int b)
{
    minute_sketch_addn(a, b, 1);
}

static void sess_grow(struct open_minute *m)
{
    uint32_t mask = m->smask * 2 + 1;
    struct minute_sess *s = oc_calloc((size_t)mask + 1, sizeof *s);
    for (uint32_t k = 0; k <= m->smask; k++) {
        if (!m->sess[k].h)
            continue;
        uint32_t i = (uint32_t)mix64(m->sess[k].h ^ m->sess[k].leaf) & mask;
        while (s[i].h)
            i = (i + 1) & mask;
        s[i] = m->sess[k];
    }
    free(m->sess);
    m->sess = s;
    m->smask = mask;
}

void minute_prefetch(const struct open_minute *m, uint32_t leaf, uint64_t h, int stage)
{
    const uint32_t *slot = &m->lmap[(uint32_t)mix64(leaf) & m->lmask];
    if (stage == 0) {
        __builtin_prefetch(slot);
        if (h)
            __builtin_prefetch(&m->sess[(uint32_t)mix64(h ^ leaf) & m->smask], 1);
    } else if (*slot) {
        __builtin_prefetch(&m->acc[*slot - 1], 1);
    }
}

int minute_session(struct open_minute *m, uint64_t h, uint32_t leaf, int rebuffered, uint32_t max)
{
    if (h == 0)
        h = 1;
    uint32_t i = (uint32_t)mix64(h ^ leaf) & m->smask;
    for (; m->sess[i].h; i = (i + 1) & m->smask)
        if (m->sess[i].h == h && m->sess[i].leaf == leaf) {
            m->sess[i].rebuf |= rebuffered ? 1u : 0u;
            return 0;
        }
    if (m->nsess >= max)
        return -1;
    m->sess[i].h = h;
    m->sess[i].leaf = leaf;
    m->sess[i].rebuf = rebuffered ? 1u : 0u;
    if ((uint64_t)++m->nsess * 2 > m->smask)
        sess_grow(m);
    return 0;
}

static int acc_cmp(const void *a, const void *b)
{
    uint32_t x = ((const struct minute_acc *)a)->leaf, y = ((const struct minute_acc *)b)->leaf;
    return x < y ? -1 : x > y;
}

/* Counts the session pairs of each leaf into its accumulator. */
/* Counts the (session, leaf) pairs of m into acc, a copy of m->acc in the same order. */
static void count_sessions(const struct open_minute *m, struct minute_acc *acc)
{
    for (uint32_t k = 0; k <= m->smask; k++) {
        if (!m->sess[k].h)
            continue;
        uint32_t leaf = m->sess[k].leaf;
        uint32_t i = (uint32_t)mix64(leaf) & m->lmask;
        while (m->lmap[i] && m->acc[m->lmap[i] - 1].leaf != leaf)
            i = (i + 1) & m->lmask;
        if (!m->lmap[i])
            continue; /* cannot happen: a heartbeat creates its accumulator */
        struct minute_acc *a = &acc[m->lmap[i] - 1];
        a->hb++;
        a->rb += m->sess[k].rebuf;
    }
}

struct qoe_minute *qoe_minute_new(int64_t t, uint32_t nrows, uint32_t nsk)
{
    struct qoe_minute *cm = oc_calloc(1, sizeof *cm);
    size_t n = nrows, at = 0;
    cm->t = t;
    cm->res = 60;
    cm->nrows = nrows;
    cm->mem_len = n * (3 * 8 + 8 * 4);
    char *p = cm->mem = oc_calloc(cm->mem_len ? cm->mem_len : 1, 1);
    cm->playing_ms = (int64_t *)(p + at), at += n * 8;
    cm->rebuffer_ms = (int64_t *)(p + at), at += n * 8;
    cm->bitrate_ms = (double *)(p + at), at += n * 8;
    uint32_t **u32[] = {&cm->leaf,        &cm->starts,      &cm->fails,  &cm->exits,
                        &cm->hb_sessions, &cm->rb_sessions, &cm->sk_off, &cm->sk_n};
    for (size_t k = 0; k < sizeof u32 / sizeof *u32; k++)
        *u32[k] = (uint32_t *)(p + at), at += n * 4;
    cm->nsk = nsk;
    cm->sk = oc_calloc(nsk ? nsk : 1, sizeof *cm->sk);
    return cm;
}

void qoe_minute_edge_alloc(struct qoe_minute *m)
{
    size_t n = m->nrows;
    if (m->edge_mem)
        return;
    m->edge_len = n * (8 + 5 * 4);
    char *p = m->edge_mem = oc_calloc(m->edge_len ? m->edge_len : 1, 1);
    m->edge_ttfb_ms = (int64_t *)p, p += n * 8;
    uint32_t **u32[] = {&m->edge_req, &m->edge_5xx, &m->edge_miss, &m->edge_origin,
                        &m->edge_ttfb_n};
    for (size_t k = 0; k < sizeof u32 / sizeof *u32; k++)
        *u32[k] = (uint32_t *)p, p += n * 4;
}

void qoe_minute_errors_alloc(struct qoe_minute *m)
{
    if (!m->errors)
        m->errors = oc_calloc(m->nrows ? m->nrows : 1, sizeof *m->errors);
}

void qoe_minute_set(struct qoe_minute *m, uint32_t i, const struct qoe_row *r)
{
    if (m->errors)
        m->errors[i] = r->errors;
    if (m->edge_req) {
        m->edge_req[i] = r->edge_req;
        m->edge_5xx[i] = r->edge_5xx;
        m->edge_miss[i] = r->edge_miss;
        m->edge_origin[i] = r->edge_origin;
        m->edge_ttfb_n[i] = r->edge_ttfb_n;
        m->edge_ttfb_ms[i] = r->edge_ttfb_ms;
    }
    m->leaf[i] = r->leaf;
    m->starts[i] = r->starts;
    m->fails[i] = r->fails;
    m->exits[i] = r->exits;
    m->hb_sessions[i] = r->hb_sessions;
    m->rb_sessions[i] = r->rb_sessions;
    m->sk_off[i] = r->sk_off;
    m->sk_n[i] = r->sk_n;
    m->playing_ms[i] = r->playing_ms;
    m->rebuffer_ms[i] = r->rebuffer_ms;
    m->bitrate_ms[i] = r->bitrate_ms;
}

void qoe_minute_row(const struct qoe_minute *m, uint32_t i, struct qoe_row *r)
{
    *r = (struct qoe_row){
        .leaf = m->leaf[i],
        .starts = m->starts[i],
        .fails = m->fails[i],
        .exits = m->exits[i],
        .hb_sessions = m->hb_sessions[i],
        .rb_sessions = m->rb_sessions[i],
        .sk_off = m->sk_off[i],
        .sk_n = m->sk_n[i],
        .playing_ms = m->playing_ms[i],
        .rebuffer_ms = m->rebuffer_ms[i],
        .bitrate_ms = m->bitrate_ms[i],
    };
    if (m->edge_req) {
        r->edge_req = m->edge_req[i];
        r->edge_5xx = m->edge_5xx[i];
        r->edge_miss = m->edge_miss[i];
        r->edge_origin = m->edge_origin[i];
        r->edge_ttfb_n = m->edge_ttfb_n[i];
        r->edge_ttfb_ms = m->edge_ttfb_ms[i];
    }
    if (m->errors)
        r->errors = m->errors[i];
}

struct qoe_minute *minute_snapshot(const struct open_minute *m)
{
    uint32_t nsk = 0, at = 0;
    /* a copy of the accumulators (sketches shared, read only), counted and sorted by leaf;
     * m itself stays as it is, so it can go on accumulating */
    struct minute_acc *acc = oc_malloc((m->nacc ? m->nacc : 1) * sizeof *acc);
    if (m->nacc)
        memcpy(acc, m->acc, m->nacc * sizeof *acc);
    count_sessions(m, acc); /* onto hb and rb: 0 in a live minute, sums in a merge (codec.c) */
    qsort(acc, m->nacc, sizeof *acc, acc_cmp);
    int edge = 0, errors = 0;
    for (uint32_t i = 0; i < m->nacc; i++) {
        nsk += acc[i].skn;
        edge |= acc[i].edge_req > 0;
        errors |= acc[i].errors > 0;
    }
    struct qoe_minute *cm = qoe_minute_new(m->t, m->nacc, nsk);
    if (edge)
        qoe_minute_edge_alloc(cm);
    if (errors)
        qoe_minute_errors_alloc(cm);
    for (uint32_t i = 0; i < m->nacc; i++) {
        const struct minute_acc *a = &acc[i];
        struct qoe_row r = {
            .leaf = a->leaf,
            .starts = a->starts,
            .fails = a->fails,
            .exits = a->exits,
            .hb_sessions = a->hb,
            .rb_sessions = a->rb,
            .sk_off = at,
            .sk_n = a->skn,
            .playing_ms = a->playing_ms,
            .rebuffer_ms = a->rebuffer_ms,
            .bitrate_ms = a->bitrate_ms,
            .edge_req = a->edge_req,
            .edge_5xx = a->edge_5xx,
            .edge_miss = a->edge_miss,
            .edge_origin = a->edge_origin,
            .edge_ttfb_n = a->edge_ttfb_n,
            .edge_ttfb_ms = a->edge_ttfb_ms,
            .errors = a->errors,
        };
        qoe_minute_set(cm, i, &r);
        if (a->skn)
            memcpy(cm->sk + at, a->sk, a->skn * sizeof *a->sk);
        at += a->skn;
    }
    free(acc);
    return cm;
}

struct qoe_minute *minute_close(struct open_minute *m)
{
    struct qoe_minute *cm = minute_snapshot(m);
    minute_free(m);
    return cm;
}

void qoe_minute_destroy(struct qoe_minute *cm)
{
    if (!cm)
        return;
    free(cm->mem);
    free(cm->sk);
    free(cm->det_off);
    free(cm->det_n);
    free(cm->det);
    free(cm->edge_mem);
    free(cm->errors);
    free(cm);
}
