/*
 * accounts.c - the viewers' accounts, keyed-hashed: a beacon may carry `account_hmac`, the
 * lower-case hex of HMAC-SHA256(key, account id) under a key the operator keeps (its backend
 * hands the value to the player; oncue never sees the account id). Ingest remembers, per
 * (account hash, leaf), when the account was first and last seen there and when it last had
 * a failed start, an error or a stall, so an incident's slice and window name the accounts it
 * touched; the tickets module hashes the helpdesk's and billing's account ids under the same
 * key (tickets.account_key) to join them. In memory, bounded by ingest.accounts_max; the
 * write-ahead log's replay refills what its records hold.
 *
 * One mutex guards the table: taken once per body that carries an account, and by a scan.
 */
#include "qoe/accounts.h"
#include "qoe/qoe.h"
#include "core/alloc.h"
#include "core/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct acct_ent {
    uint8_t h[QOE_ACCOUNT_HASH];
    uint32_t leaf;
    uint32_t used;                     /* 1: the slot holds an entry */
    int64_t first_ms, last_ms, bad_ms; /* bad_ms: 0 when never hurt */
};

struct qoe_accounts {
    pthread_mutex_t mu;
    struct acct_ent *v; /* cap slots, open addressing */
    size_t cap, n, max;
    uint64_t dropped; /* entries not kept: the table was full */
};

struct qoe_accounts *qoe_accounts_new(size_t max)
{
    struct qoe_accounts *a = oc_calloc(1, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    a->max = max;
    return a;
}

void qoe_accounts_free(struct qoe_accounts *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    free(a->v);
    free(a);
}

static uint64_t slot_hash(const uint8_t *h, uint32_t leaf)
{
    uint64_t x;
    memcpy(&x, h, sizeof x); /* the key is an HMAC: its bytes are uniform already */
    return x ^ ((uint64_t)leaf * 0x9E3779B97F4A7C15ull);
}

/* The slot of (h, leaf), or the empty slot where it goes. */
static struct acct_ent *slot_of(struct acct_ent *v, size_t cap, const uint8_t *h, uint32_t leaf)
{
    for (size_t i = slot_hash(h, leaf) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!v[i].used || (v[i].leaf == leaf && memcmp(v[i].h, h, QOE_ACCOUNT_HASH) == 0))
            return &v[i];
}

static void grow(struct qoe_accounts *a)
{
    size_t cap = a->cap ? a->cap * 2 : 1024;
    struct acct_ent *v = oc_calloc(cap, sizeof *v);
    for (size_t i = 0; i < a->cap; i++)
        if (a->v[i].used)
            *slot_of(v, cap, a->v[i].h, a->v[i].leaf) = a->v[i];
    free(a->v);
    a->v = v;
    a->cap = cap;
}

int qoe_account_parse(const char *p, size_t n, uint8_t out[QOE_ACCOUNT_HASH])
{
    if (n != 2 * QOE_ACCOUNT_HASH)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i], d = c >= '0' && c <= '9'   ? c - '0'
                                         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                                : -1;
        if (d < 0)
            return -1;
        if (out)
            out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | d) : d << 4);
    }
    return 0;
}

/* 1 when event e is a sign of harm: a failed start, an error, a stall. */
static int hurt(const struct beacon_event *e)
{
    return (e->type == BEACON_START && e->outcome == BEACON_FAILURE) || e->type == BEACON_ERROR ||
           (e->type == BEACON_HEARTBEAT && (e->rebuffer_ms > 0 || e->stalled));
}

size_t qoe_accounts_record(struct qoe_accounts *a, const struct qoe_fold *b)
{
    size_t kept = 0;
    int locked = 0;
    if (!a || !a->max)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct beacon_event *e = &b->ev[i];
        uint8_t h[QOE_ACCOUNT_HASH];
        if (!e->account.p || b->verdict[i] != QOE_FOLD_OK ||
            qoe_account_parse(e->account.p, e->account.n, h) != 0)
            continue;
        if (!locked) {
            pthread_mutex_lock(&a->mu);
            locked = 1;
        }
        if (!a->cap || (a->n + 1) * 2 > a->cap) {
            if (a->n >= a->max) {
                struct acct_ent *s = slot_of(a->v, a->cap, h, b->leaf[i]);
                if (!s->used) {
                    a->dropped++;
                    continue;
                }
            } else {
                grow(a);
            }
        }
        struct acct_ent *s = slot_of(a->v, a->cap, h, b->leaf[i]);
        if (!s->used) {
            if (a->n >= a->max) {
                a->dropped++;
                continue;
            }
            memcpy(s->h, h, sizeof h);
            s->leaf = b->leaf[i];
            s->used = 1;
            s->first_ms = s->last_ms = e->ts_ms;
            a->n++;
        }
        if (e->ts_ms < s->first_ms)
            s->first_ms = e->ts_ms;
        if (e->ts_ms > s->last_ms)
            s->last_ms = e->ts_ms;
        if (hurt(e) && e->ts_ms > s->bad_ms)
            s->bad_ms = e->ts_ms;
        kept++;
    }
    if (locked)
        pthread_mutex_unlock(&a->mu);
    return kept;
}

static int cmp_hash(const void *x, const void *y)
{
    return memcmp(x, y, QOE_ACCOUNT_HASH);
}

void qoe_accounts_in_slice(struct qoe_accounts *a, struct qoe_cube *c, const json_t *slice,
                           int64_t from_ms, int64_t to_ms, int hurt_only,
                           uint8_t (**out)[QOE_ACCOUNT_HASH], size_t *n)
{
    int dims[BEACON_NDIMS];
    uint32_t want[BEACON_NDIMS];
    int nd = 0;
    const char *k;
    json_t *v;
    *out = NULL;
    *n = 0;
    json_object_foreach((json_t *)slice, k, v)
    {
        int d = qoe_dim_parse(k);
        if (d < 0)
            continue; /* service, symptom: not a beacon dimension */
        const char *s = json_string_value(v);
        if (!s || qoe_cube_value_id(c, d, s, strlen(s), &want[nd]) != 0)
            return; /* a value no beacon ever had: no viewer */
        dims[nd++] = d;
    }
    if (!nd)
        return; /* no viewer dimension: the slice does not say which viewers */
    pthread_mutex_lock(&a->mu);
    uint8_t(*v2)[QOE_ACCOUNT_HASH] = oc_calloc(a->n + 1, QOE_ACCOUNT_HASH);
    size_t m = 0;
    for (size_t i = 0; i < a->cap; i++) {
        const struct acct_ent *e = &a->v[i];
        if (!e->used || e->last_ms < from_ms || e->first_ms >= to_ms ||
            (hurt_only && (e->bad_ms < from_ms || e->bad_ms >= to_ms)))
            continue;
        const uint32_t *ld = qoe_cube_leaf_dims(c, e->leaf);
        int ok = ld != NULL;
        for (int j = 0; ok && j < nd; j++)
            ok = ld[dims[j]] == want[j];
        if (ok)
            memcpy(v2[m++], e->h, QOE_ACCOUNT_HASH);
    }
    pthread_mutex_unlock(&a->mu);
    if (m > 1)
        qsort(v2, m, QOE_ACCOUNT_HASH, cmp_hash);
    size_t u = 0; /* one per account (it may have been in several leaves) */
    for (size_t i = 0; i < m; i++)
        if (u == 0 || memcmp(v2[u - 1], v2[i], QOE_ACCOUNT_HASH) != 0)
            memmove(v2[u++], v2[i], QOE_ACCOUNT_HASH);
    *out = v2;
    *n = u;
}

void qoe_accounts_stats(struct qoe_accounts *a, size_t *entries, uint64_t *dropped)
{
    pthread_mutex_lock(&a->mu);
    *entries = a->n;
    *dropped = a->dropped;
    pthread_mutex_unlock(&a->mu);
}
