/*
 * table.c - the in-memory table the entitlement check reads: subscriptions by id and by
 * account, over a small chained string map. Written only by the committer (under the
 * module's write lock), after the store committed.
 */
#include "billing/billing_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a, 64 bits. */
static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void bmap_init(struct bmap *m)
{
    m->nb = 64;
    m->n = 0;
    m->b = oc_calloc(m->nb, sizeof *m->b);
}

void bmap_free(struct bmap *m, void (*fr)(void *))
{
    for (size_t i = 0; i < m->nb; i++)
        for (struct bmap_node *e = m->b[i], *next; e; e = next) {
            next = e->next;
            if (fr)
                fr(e->val);
            free(e->key);
            free(e);
        }
    free(m->b);
    m->b = NULL;
    m->nb = m->n = 0;
}

void *bmap_get(const struct bmap *m, const char *key)
{
    uint64_t h = hash_of(key);
    for (struct bmap_node *e = m->b[h & (m->nb - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e->val;
    return NULL;
}

/* Doubles the buckets. */
static void grow(struct bmap *m)
{
    size_t nb = m->nb * 2;
    struct bmap_node **b = oc_calloc(nb, sizeof *b);
    for (size_t i = 0; i < m->nb; i++)
        for (struct bmap_node *e = m->b[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

void *bmap_put(struct bmap *m, const char *key, void *val)
{
    uint64_t h = hash_of(key);
    for (struct bmap_node *e = m->b[h & (m->nb - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0) {
            void *old = e->val;
            e->val = val;
            return old;
        }
    if (m->n + 1 > m->nb)
        grow(m);
    struct bmap_node *e = oc_malloc(sizeof *e);
    e->hash = h;
    e->key = oc_strdup(key);
    e->val = val;
    e->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = e;
    m->n++;
    return NULL;
}

void *bmap_del(struct bmap *m, const char *key)
{
    uint64_t h = hash_of(key);
    for (struct bmap_node **pe = &m->b[h & (m->nb - 1)]; *pe; pe = &(*pe)->next) {
        struct bmap_node *e = *pe;
        if (e->hash == h && strcmp(e->key, key) == 0) {
            void *v = e->val;
            *pe = e->next;
            free(e->key);
            free(e);
            m->n--;
            return v;
        }
    }
    return NULL;
}

void billing_table_init(struct billing_table *t)
{
    bmap_init(&t->subs);
    bmap_init(&t->accounts);
}

static void account_free(void *p)
{
    struct billing_account *a = p;
    free(a->subs);
    free(a);
}

void billing_table_free(struct billing_table *t)
{
    bmap_free(&t->subs, free);
    bmap_free(&t->accounts, account_free);
}

int billing_table_install(struct billing_table *t, struct billing_sub *s)
{
    struct billing_sub *old = bmap_get(&t->subs, s->id);
    struct billing_account *a;
    if (old && strcmp(old->account, s->account) != 0) { /* moved (a reconciliation's repair) */
        a = bmap_get(&t->accounts, s->account);
        if (a && a->n >= BILLING_SUBS_PER_ACCOUNT) {
            free(s);
            return OC_ETOOBIG;
        }
        a = bmap_get(&t->accounts, old->account);
        for (size_t i = 0; a && i < a->n; i++)
            if (a->subs[i] == old) {
                a->subs[i] = a->subs[--a->n];
                break;
            }
        if (a && a->n == 0)
            account_free(bmap_del(&t->accounts, old->account));
        bmap_del(&t->subs, old->id);
        free(old);
        old = NULL;
    }
    if (old) {
        a = bmap_get(&t->accounts, old->account);
        for (size_t i = 0; a && i < a->n; i++)
            if (a->subs[i] == old)
                a->subs[i] = s;
        bmap_put(&t->subs, s->id, s);
        free(old);
        return 0;
    }
    a = bmap_get(&t->accounts, s->account);
    if (!a) {
        a = oc_calloc(1, sizeof *a);
        bmap_put(&t->accounts, s->account, a);
    }
    if (a->n >= BILLING_SUBS_PER_ACCOUNT) {
        free(s);
        return OC_ETOOBIG;
    }
    a->subs = oc_grow(a->subs, &a->cap, a->n + 1, sizeof *a->subs);
    a->subs[a->n++] = s;
    bmap_put(&t->subs, s->id, s);
    return 0;
}
