/*
 * dict.c - intern tables for dimension values and the leaf dictionary (see dict.h).
 *
 * Both are open-addressing hash tables kept at most half full, over id arrays sized at the
 * cap when created (calloc: untouched pages cost no memory), so readers never see them move.
 */
#include "qoe/dict.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static void values_rehash(struct dict_values *v, uint32_t slots)
{
    free(v->hash);
    free(v->slot);
    v->hash = oc_calloc(slots, sizeof *v->hash);
    v->slot = oc_calloc(slots, sizeof *v->slot);
    v->mask = slots - 1;
    uint32_t n = atomic_load(&v->n);
    for (uint32_t id = 0; id < n; id++) {
        if (v->isfree[id])
            continue;
        uint64_t h = qoe_hash(dict_value_str(v, id), v->len[id], 0);
        uint32_t i = (uint32_t)h & v->mask;
        while (v->slot[i])
            i = (i + 1) & v->mask;
        v->hash[i] = h;
        v->slot[i] = id + 1;
    }
}

void dict_values_rehash(struct dict_values *v)
{
    values_rehash(v, v->mask + 1);
}

/* Writes s into id's buffer and the hash table (id is new or free). */
static void values_put(struct dict_values *v, uint32_t id, const char *s, uint32_t n)
{
    char *b = v->buf + (size_t)id * DICT_STRIDE;
    memcpy(b, s, n);
    b[n] = 0;
    v->len[id] = n;
    v->isfree[id] = 0;
    uint64_t h = qoe_hash(s, n, 0);
    uint32_t i = (uint32_t)h & v->mask;
    while (v->slot[i])
        i = (i + 1) & v->mask;
    v->hash[i] = h;
    v->slot[i] = id + 1;
}

static uint32_t values_add(struct dict_values *v, const char *s, uint32_t n, int64_t seen_s)
{
    uint32_t id = atomic_load(&v->n);
    if ((uint64_t)(id + 1) * 2 > v->mask)
        values_rehash(v, (v->mask + 1) * 2);
    values_put(v, id, s, n);
    v->seen[id] = v->saved[id] = seen_s; /* before the id is published (persist.c reads saved) */
    atomic_store_explicit(&v->n, id + 1, memory_order_release);
    return id;
}

void dict_values_init(struct dict_values *v, uint32_t max)
{
    memset(v, 0, sizeof *v);
    v->max = max < 2 ? 2 : max;
    v->buf = oc_calloc(v->max, DICT_STRIDE);
    v->len = oc_calloc(v->max, sizeof *v->len);
    v->seen = oc_calloc(v->max, sizeof *v->seen);
    v->events = oc_calloc(v->max, sizeof *v->events);
    v->saved = oc_calloc(v->max, sizeof *v->saved);
    v->isfree = oc_calloc(v->max, sizeof *v->isfree);
    v->freelist = oc_calloc(v->max, sizeof *v->freelist);
    atomic_init(&v->n, 0);
    values_rehash(v, 64);
    values_add(v, QOE_VALUE_UNKNOWN, (uint32_t)strlen(QOE_VALUE_UNKNOWN), 0);
    values_add(v, QOE_VALUE_OTHER, (uint32_t)strlen(QOE_VALUE_OTHER), 0);
}

void dict_values_free(struct dict_values *v)
{
    free(v->buf);
    free(v->len);
    free(v->seen);
    free(v->events);
    free(v->saved);
    free(v->isfree);
    free(v->freelist);
    free(v->reused);
    free(v->hash);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

int dict_value_find(const struct dict_values *v, const char *s, size_t n, uint32_t *out)
{
    uint64_t h = qoe_hash(s, n, 0);
    for (uint32_t i = (uint32_t)h & v->mask; v->slot[i]; i = (i + 1) & v->mask) {
        uint32_t id = v->slot[i] - 1;
        if (v->hash[i] == h && v->len[id] == n && memcmp(dict_value_str(v, id), s, n) == 0) {
            *out = id;
            return 0;
        }
    }
    return OC_ENOTFOUND;
}

int dict_values_full(const struct dict_values *v)
{
    return v->nfree == 0 && atomic_load(&v->n) >= v->max;
}

uint32_t dict_value_intern(struct dict_values *v, const char *s, uint32_t n, int64_t now_s,
                           int *folded)
{
    uint32_t id;
    if (!s)
        return 0;
    if (dict_value_find(v, s, n, &id) == 0)
        return id;
    if (n > QOE_MAX_DIM_VALUE || dict_values_full(v)) {
        *folded = 1;
        return 1;
    }
    if (v->nfree) {
        id = v->freelist[--v->nfree];
        values_put(v, id, s, n);
        v->seen[id] = now_s;
        v->events[id] = 0;
        v->reused = oc_grow(v->reused, &v->capreused, v->nreused + 1, sizeof *v->reused);
        v->reused[v->nreused++] = id;
    } else {
        id = values_add(v, s, n, now_s);
    }
    return id;
}

void dict_value_free(struct dict_values *v, uint32_t id)
{
    if (id < 2 || id >= atomic_load(&v->n) || v->isfree[id])
        return;
    v->isfree[id] = 1;
    v->len[id] = 0;
    v->buf[(size_t)id * DICT_STRIDE] = 0;
    v->seen[id] = 0;
    v->events[id] = 0;
    v->freelist[v->nfree++] = id;
}

static uint32_t leaf_slot(const uint32_t *dims)
{
    return (uint32_t)qoe_hash(dims, BEACON_NDIMS * sizeof *dims, 7);
}

static void leaves_rehash(struct dict_leaves *l, uint32_t slots)
{
    free(l->slot);
    l->slot = oc_calloc(slots, sizeof *l->slot);
    l->mask = slots - 1;
    uint32_t n = atomic_load(&l->n);
    for (uint32_t id = 0; id < n; id++) {
        uint32_t i = leaf_slot(l->dims + (size_t)id * BEACON_NDIMS) & l->mask;
        while (l->slot[i])
            i = (i + 1) & l->mask;
        l->slot[i] = id + 1;
    }
}

void dict_leaves_rehash(struct dict_leaves *l)
{
    leaves_rehash(l, l->mask + 1);
}

void dict_leaves_init(struct dict_leaves *l, uint32_t max)
{
    uint32_t other[BEACON_NDIMS];
    int folded = 0;
    memset(l, 0, sizeof *l);
    l->max = max < 1 ? 1 : max;
    l->dims = oc_calloc(l->max, BEACON_NDIMS * sizeof *l->dims);
    atomic_init(&l->n, 0);
    leaves_rehash(l, 64);
    for (int d = 0; d < BEACON_NDIMS; d++)
        other[d] = 1;
    dict_leaf_intern(l, other, &folded);
}

void dict_leaves_free(struct dict_leaves *l)
{
    free(l->dims);
    free(l->slot);
    memset(l, 0, sizeof *l);
}

uint32_t dict_leaf_intern(struct dict_leaves *l, const uint32_t *dims, int *folded)
{
    size_t sz = BEACON_NDIMS * sizeof *dims;
    uint32_t i = leaf_slot(dims) & l->mask;
    for (; l->slot[i]; i = (i + 1) & l->mask)
        if (memcmp(l->dims + (size_t)(l->slot[i] - 1) * BEACON_NDIMS, dims, sz) == 0)
            return l->slot[i] - 1;
    uint32_t id = atomic_load(&l->n);
    if (id >= l->max) {
        *folded = 1;
        return 0;
    }
    memcpy(l->dims + (size_t)id * BEACON_NDIMS, dims, sz);
    atomic_store_explicit(&l->n, id + 1, memory_order_release);
    if ((uint64_t)(id + 1) * 2 > l->mask)
        leaves_rehash(l, (l->mask + 1) * 2);
    else
        l->slot[i] = id + 1;
    return id;
}

int dict_value_load(struct dict_values *v, uint32_t id, const char *s, uint32_t n, int64_t seen_s,
                    uint32_t events)
{
    uint32_t have;
    if (id < atomic_load(&v->n) || id >= v->max || n > QOE_MAX_DIM_VALUE ||
        dict_value_find(v, s, n, &have) == 0)
        return OC_EINVAL;
    while (atomic_load(&v->n) < id) { /* a gap: ids that had aged out when last written */
        uint32_t gap = atomic_load(&v->n);
        v->isfree[gap] = 1;
        v->freelist[v->nfree++] = gap;
        atomic_store_explicit(&v->n, gap + 1, memory_order_release);
    }
    values_add(v, s, n, seen_s);
    v->events[id] = events;
    return 0;
}

int dict_leaf_load(struct dict_leaves *l, uint32_t id, const uint32_t *dims)
{
    if (id != atomic_load(&l->n) || id >= l->max)
        return OC_EINVAL;
    /* a tuple may be stored twice: a sweep rewrites aged values to "other" */
    memcpy(l->dims + (size_t)id * BEACON_NDIMS, dims, BEACON_NDIMS * sizeof *dims);
    atomic_store_explicit(&l->n, id + 1, memory_order_release);
    if ((uint64_t)(id + 1) * 2 > l->mask) {
        leaves_rehash(l, (l->mask + 1) * 2);
    } else {
        uint32_t i = leaf_slot(dims) & l->mask;
        while (l->slot[i])
            i = (i + 1) & l->mask;
        l->slot[i] = id + 1;
    }
    return 0;
}
