/*
 * resolve.c - dimension values to leaf ids without the cube lock.
 *
 * Ids change only in a sweep (hygiene.c), so each thread keeps direct-mapped caches (value -> id
 * per dimension, ids -> leaf) that stay valid until then; only a miss takes the cube lock to
 * intern. The caches are keyed by the cube's serial, new per cube and per sweep, and freed when
 * the thread exits; a batch resolves holding dict_rw shared, so no sweep runs under it. A value
 * refused for its sender's budget is not cached: the next sender may add it. This moves the hashing
 * of 14 strings per event off the one lock, so ingest scales over the HTTP worker threads.
 *
 * The tuple and leaf caches start small (about 0.6 MiB a thread) and double, up to 40 MiB a
 * thread, while more than one lookup in SIZE_MISS_DIV of a window (twice as many lookups as
 * tuple slots) misses: a few thousand viewers keep every tuple in the smallest size, 800,000
 * need the largest (measured: 14% less time a simulated minute at 800,000 viewers than a fixed
 * 4 MiB). Doubling moves the entries into the larger tables (the value caches stay), so a
 * start or a sweep warms each tuple up once, not once per size; after a clear (a new serial)
 * the next window is left to warm up before it is judged.
 */
#include "qoe/qoe_int.h"
#include "core/alloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define VC_SLOTS      4096   /* per dimension; a power of 2 */
#define FC_MIN        4096   /* whole dimension tuples, first size; a power of 2 (512 KiB) */
#define FC_MAX        262144 /* and largest (32 MiB); the leaf cache is half as many slots */
#define FC_KEY        108    /* bytes of a tuple key kept inline; longer tuples skip this cache */
#define SIZE_WINDOW   2      /* lookups between two looks at the miss rate, per tuple slot */
#define SIZE_MISS_DIV 16     /* grow while more than 1 in 16 lookups of a window missed */

struct vc_ent {
    uint64_t h;      /* hash of the value; 0 = empty */
    uint32_t id;     /* its id */
    uint32_t folded; /* 1 when the value was folded into "other" */
};

struct lc_ent {
    uint32_t ids[BEACON_NDIMS];
    uint32_t leaf; /* + 1; 0 = empty */
    uint32_t folded;
};

/* A whole tuple of dimension values (each as a length byte and its bytes) -> leaf. */
struct fc_ent {
    uint64_t h; /* hash of the key; 0 = empty */
    uint32_t leaf;
    uint16_t folded; /* bit d: dimension d was folded; bit 13: the leaf was */
    uint16_t len;    /* bytes of key */
    char key[FC_KEY];
};

struct tcache {
    uint64_t serial;  /* the cube these entries belong to */
    struct fc_ent *f; /* fmask + 1 slots; owned */
    struct lc_ent *l; /* lmask + 1 slots; owned */
    uint32_t fmask, lmask;
    uint32_t looks, misses; /* in the current window */
    int warming;            /* the window after a clear is not judged */
    struct vc_ent v[BEACON_NDIMS][VC_SLOTS];
};

static pthread_key_t tkey;
static pthread_once_t tkey_once = PTHREAD_ONCE_INIT;

static void tcache_free(void *p)
{
    struct tcache *tc = p;
    free(tc->f);
    free(tc->l);
    free(tc);
}

static void tkey_make(void)
{
    pthread_key_create(&tkey, tcache_free);
}

/* Empties tc and sizes its tuple cache to fslots (the leaf cache to half). */
static void tcache_reset(struct tcache *tc, uint64_t serial, uint32_t fslots)
{
    free(tc->f);
    free(tc->l);
    struct fc_ent *f = oc_calloc(fslots, sizeof *f);
    struct lc_ent *l = oc_calloc(fslots / 2, sizeof *l);
    memset(tc, 0, sizeof *tc);
    tc->serial = serial;
    tc->f = f, tc->fmask = fslots - 1;
    tc->l = l, tc->lmask = fslots / 2 - 1;
    tc->warming = 1;
}

static struct tcache *tcache_get(const struct qoe_cube *c)
{
    pthread_once(&tkey_once, tkey_make);
    struct tcache *tc = pthread_getspecific(tkey);
    if (!tc) {
        tc = oc_calloc(1, sizeof *tc);
        pthread_setspecific(tkey, tc);
        tcache_reset(tc, c->serial, FC_MIN);
    }
    if (tc->serial != c->serial)
        tcache_reset(tc, c->serial, FC_MIN);
    return tc;
}

/* Doubles the tuple and leaf caches, moving their entries over (one that finds both its
 * tuple slots, or its leaf slot, taken is dropped); the value caches stay as they are. */
static void tcache_grow(struct tcache *tc)
{
    uint32_t fmask = tc->fmask * 2 + 1, lmask = tc->lmask * 2 + 1;
    struct fc_ent *f = oc_calloc((size_t)fmask + 1, sizeof *f);
    struct lc_ent *l = oc_calloc((size_t)lmask + 1, sizeof *l);
    for (uint32_t i = 0; i <= tc->fmask; i++) {
        const struct fc_ent *e = &tc->f[i];
        struct fc_ent *f1 = &f[e->h & fmask], *f2 = &f[(e->h >> 32) & fmask];
        struct fc_ent *to = !e->h ? NULL : !f1->h ? f1 : !f2->h ? f2 : NULL;
        if (to)
            *to = *e;
    }
    for (uint32_t i = 0; i <= tc->lmask; i++)
        if (tc->l[i].leaf)
            l[qoe_hash(tc->l[i].ids, BEACON_NDIMS * sizeof tc->l[i].ids[0], 7) & lmask] = tc->l[i];
    free(tc->f);
    free(tc->l);
    tc->f = f, tc->fmask = fmask;
    tc->l = l, tc->lmask = lmask;
}

/* Counts one tuple lookup; at the end of a window, doubles the caches if too many missed. */
static void tcache_look(struct tcache *tc, int missed)
{
    uint32_t window = SIZE_WINDOW * (tc->fmask + 1);
    tc->misses += (uint32_t)missed;
    if (++tc->looks < window)
        return;
    int grow = !tc->warming && tc->misses > window / SIZE_MISS_DIV && tc->fmask + 1 < FC_MAX;
    tc->looks = tc->misses = 0;
    tc->warming = 0;
    if (grow)
        tcache_grow(tc);
}

/* The id of s in dimension d for principal; *why_out is INTERN_FOLDED when it became "other"
 * for good, INTERN_REFUSED for this event only (not cached). */
static uint32_t value_id(struct qoe_cube *c, struct tcache *tc, int d, struct beacon_str s,
                         uint64_t principal, uint8_t *why_out)
{
    *why_out = INTERN_OK;
    if (!s.p)
        return 0;
    uint64_t h = qoe_hash(s.p, s.n, 0) | 1;
    struct vc_ent *e = &tc->v[d][h & (VC_SLOTS - 1)];
    const struct dict_values *v = &c->vals[d];
    if (e->h == h &&
        (e->folded || (v->len[e->id] == s.n && memcmp(dict_value_str(v, e->id), s.p, s.n) == 0))) {
        *why_out = e->folded ? INTERN_FOLDED : INTERN_OK;
        return e->id;
    }
    int why;
    pthread_mutex_lock(&c->mu);
    uint32_t id = cube_value_intern(c, d, s.p, s.n, principal, &why);
    pthread_mutex_unlock(&c->mu);
    if (why != INTERN_REFUSED)
        *e = (struct vc_ent){h, id, (uint32_t)(why == INTERN_FOLDED)};
    *why_out = (uint8_t)why;
    return id;
}

/* The leaf of ids; *folded says the leaf cap sent it to leaf 0. */
static uint32_t leaf_id(struct qoe_cube *c, struct tcache *tc, const uint32_t *ids,
                        uint8_t *folded_out)
{
    uint64_t h = qoe_hash(ids, BEACON_NDIMS * sizeof *ids, 7);
    struct lc_ent *e = &tc->l[h & tc->lmask];
    if (e->leaf && memcmp(e->ids, ids, sizeof e->ids) == 0) {
        *folded_out = (uint8_t)e->folded;
        return e->leaf - 1;
    }
    int folded = 0;
    pthread_mutex_lock(&c->mu);
    uint32_t leaf = dict_leaf_intern(&c->leaves, ids, &folded);
    pthread_mutex_unlock(&c->mu);
    memcpy(e->ids, ids, sizeof e->ids);
    e->leaf = leaf + 1;
    e->folded = (uint32_t)folded;
    *folded_out = (uint8_t)folded;
    return leaf;
}

/* Writes the tuple key of e's dimensions into key; its length, or 0 when too long. */
static size_t tuple_key(const struct beacon_event *e, char *key)
{
    size_t n = 0;
    for (int d = 0; d < BEACON_NDIMS; d++) {
        uint32_t l = e->dims[d].n;
        if (n + 1 + l > FC_KEY)
            return 0;
        key[n++] = e->dims[d].p ? (char)l : (char)0xff; /* absent differs from "" */
        memcpy(key + n, e->dims[d].p ? e->dims[d].p : "", l);
        n += l;
    }
    return n;
}

static void count(struct resolve_counts *n, uint32_t folded, uint32_t refused)
{
    for (int d = 0; d < BEACON_NDIMS; d++)
        n->refused[d] += (refused >> d) & 1;
    for (int d = 0; d < BEACON_NDIMS; d++)
        n->folded[d] += (folded >> d) & 1;
    n->leaves_folded += (folded >> BEACON_NDIMS) & 1;
}

/* The leaf of e through the per-dimension caches; *folded and *refused get the flags (bit d:
 * dimension d; bit BEACON_NDIMS of folded: the leaf). */
static uint32_t resolve_slow(struct qoe_cube *c, struct tcache *tc, const struct beacon_event *e,
                             uint64_t principal, uint32_t *folded, uint32_t *refused)
{
    uint32_t ids[BEACON_NDIMS];
    uint8_t f;
    *folded = *refused = 0;
    for (int d = 0; d < BEACON_NDIMS; d++) {
        ids[d] = value_id(c, tc, d, e->dims[d], principal, &f);
        *folded |= (uint32_t)(f == INTERN_FOLDED) << d;
        *refused |= (uint32_t)(f == INTERN_REFUSED) << d;
    }
    uint32_t leaf = leaf_id(c, tc, ids, &f);
    *folded |= (uint32_t)f << BEACON_NDIMS;
    return leaf;
}

/* One event's tuple key and its hash, made a few events ahead of its lookup (RESOLVE_AHEAD) so
 * that the two tuple cache slots it probes are already coming from memory: with tens of
 * thousands of tuples the cache is megabytes, and waiting for those two slots was most of
 * the time spent resolving. */
struct tkey {
    uint64_t h; /* hash of key (| 1); unused when len is 0 */
    size_t len; /* bytes of key; 0 when the tuple is too long for the cache */
    char key[FC_KEY];
};

#define RESOLVE_AHEAD 8 /* events whose slots are fetched ahead; a power of 2 */

/* Makes e's tuple key into k and asks for the cache lines of the slots it will probe. */
static void tkey_make_ahead(const struct tcache *tc, const struct beacon_event *e, struct tkey *k)
{
    k->len = tuple_key(e, k->key);
    if (k->len == 0)
        return;
    k->h = qoe_hash(k->key, k->len, 11) | 1;
    const char *f1 = (const char *)&tc->f[k->h & tc->fmask];
    const char *f2 = (const char *)&tc->f[(k->h >> 32) & tc->fmask];
    /* the first slot whole (where a tuple is put when both are free); of the second, the line
     * with its hash, which tells whether the rest is read */
    __builtin_prefetch(f1);
    __builtin_prefetch(f1 + offsetof(struct fc_ent, key) + k->len - 1);
    __builtin_prefetch(f2);
}

static uint32_t resolve_event(struct qoe_cube *c, struct tcache *tc, const struct beacon_event *e,
                              const struct tkey *k, uint64_t principal, struct resolve_counts *n)
{
    uint32_t folded, refused;
    size_t len = k->len;
    if (len == 0) {
        uint32_t leaf = resolve_slow(c, tc, e, principal, &folded, &refused);
        count(n, folded, refused);
        return leaf;
    }
    uint64_t h = k->h;
    /* two-way: the entry may sit in either of two slots; a miss evicts an empty or a random one */
    struct fc_ent *f1 = &tc->f[h & tc->fmask], *f2 = &tc->f[(h >> 32) & tc->fmask];
    struct fc_ent *f = f1->h == h && f1->len == len && memcmp(f1->key, k->key, len) == 0   ? f1
                       : f2->h == h && f2->len == len && memcmp(f2->key, k->key, len) == 0 ? f2
                                                                                           : NULL;
    int missed = !f;
    if (missed) {
        uint32_t leaf = resolve_slow(c, tc, e, principal, &folded, &refused);
        if (refused) { /* this tuple resolves otherwise for the next sender: not cached */
            count(n, folded, refused);
            return leaf;
        }
        f = !f1->h ? f1 : !f2->h ? f2 : (h >> 31) & 1 ? f1 : f2;
        f->leaf = leaf;
        f->h = h;
        f->folded = (uint16_t)folded;
        f->len = (uint16_t)len;
        memcpy(f->key, k->key, len);
    }
    if (f->folded)
        count(n, f->folded, 0);
    uint32_t leaf = f->leaf;
    tcache_look(tc, missed); /* may move the entries: f is not used after it */
    return leaf;
}

/* 1 when e names a leaf: a start, heartbeat, edge request or error (whose leaf slices the
 * error codes) of a minute not closed yet. */
static int resolvable(const struct beacon_event *e, int64_t closed_ms)
{
    return (e->type == BEACON_START || e->type == BEACON_HEARTBEAT || e->type == BEACON_EDGE ||
            e->type == BEACON_ERROR) &&
           e->ts_ms >= closed_ms;
}

void cube_resolve_batch(struct qoe_cube *c, struct qoe_fold *b, struct resolve_counts *n)
{
    memset(n, 0, sizeof *n);
    /* an event of a closed minute will be refused: its values are not added (the ingest log's
     * replay at start brings back bodies whose minutes are stored) */
    int64_t closed_ms = atomic_load(&c->closed_upto_s);
    closed_ms = closed_ms == INT64_MIN ? INT64_MIN : closed_ms * 1000;
    pthread_rwlock_rdlock(&c->dict_rw);
    struct tcache *tc = tcache_get(c);
    struct tkey ahead[RESOLVE_AHEAD]; /* the keys of events i .. i + RESOLVE_AHEAD - 1 */
    for (size_t i = 0; i < b->n && i < RESOLVE_AHEAD; i++)
        if (resolvable(&b->ev[i], closed_ms))
            tkey_make_ahead(tc, &b->ev[i], &ahead[i]);
    for (size_t i = 0; i < b->n; i++) {
        const struct beacon_event *e = &b->ev[i];
        b->leaf[i] = 0, b->sh[i] = 0;
        if (resolvable(e, closed_ms)) {
            if (e->type == BEACON_HEARTBEAT)
                b->sh[i] = qoe_hash(e->session.p, e->session.n, 0);
            b->leaf[i] = resolve_event(c, tc, e, &ahead[i % RESOLVE_AHEAD], b->principal, n);
        }
        size_t next = i + RESOLVE_AHEAD; /* into the slot event i has just let go */
        if (next < b->n && resolvable(&b->ev[next], closed_ms))
            tkey_make_ahead(tc, &b->ev[next], &ahead[next % RESOLVE_AHEAD]);
    }
    pthread_rwlock_unlock(&c->dict_rw);
}
