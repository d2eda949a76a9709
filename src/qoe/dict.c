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
        uint64_t h = qoe_hash(v->val[id], v->len[id], 0);
        uint32_t i = (uint32_t)h & v->mask;
        while (v->slot[i])
            i = (i + 1) & v->mask;
        v->hash[i] = h;
        v->slot[i] = id + 1;
    }
}

static uint32_t values_add(struct dict_values *v, const char *s, uint32_t n)
{
    uint32_t id = atomic_load(&v->n);
    v->val[id] = oc_strndup(s, n);
    v->len[id] = n;
    atomic_store_explicit(&v->n, id + 1, memory_order_release);
    if ((uint64_t)(id + 1) * 2 > v->mask)
        values_rehash(v, (v->mask + 1) * 2);
    else {
        uint64_t h = qoe_hash(s, n, 0);
        uint32_t i = (uint32_t)h & v->mask;
        while (v->slot[i])
            i = (i + 1) & v->mask;
        v->hash[i] = h;
        v->slot[i] = id + 1;
    }
    return id;
}

void dict_values_init(struct dict_values *v, uint32_t max)
{
    memset(v, 0, sizeof *v);
    v->max = max < 2 ? 2 : max;
    v->val = oc_calloc(v->max, sizeof *v->val);
    v->len = oc_calloc(v->max, sizeof *v->len);
    atomic_init(&v->n, 0);
    values_rehash(v, 64);
    values_add(v, QOE_VALUE_UNKNOWN, (uint32_t)strlen(QOE_VALUE_UNKNOWN));
    values_add(v, QOE_VALUE_OTHER, (uint32_t)strlen(QOE_VALUE_OTHER));
}

void dict_values_free(struct dict_values *v)
{
    uint32_t n = atomic_load(&v->n);
    for (uint32_t i = 0; i < n; i++)
        free(v->val[i]);
    free(v->val);
    free(v->len);
    free(v->hash);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

int dict_value_find(const struct dict_values *v, const char *s, size_t n, uint32_t *out)
{
    uint64_t h = qoe_hash(s, n, 0);
    for (uint32_t i = (uint32_t)h & v->mask; v->slot[i]; i = (i + 1) & v->mask) {
        uint32_t id = v->slot[i] - 1;
        if (v->hash[i] == h && v->len[id] == n && memcmp(v->val[id], s, n) == 0) {
            *out = id;
            return 0;
        }
    }
    return OC_ENOTFOUND;
}

uint32_t dict_value_intern(struct dict_values *v, const char *s, uint32_t n, int *folded)
{
    uint32_t id;
    if (!s)
        return 0;
    if (dict_value_find(v, s, n, &id) == 0)
        return id;
    if (atomic_load(&v->n) >= v->max) {
        *folded = 1;
        return 1;
    }
    return values_add(v, s, n);
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

int dict_value_load(struct dict_values *v, uint32_t id, const char *s, uint32_t n)
{
    uint32_t have;
    if (id != atomic_load(&v->n) || id >= v->max || dict_value_find(v, s, n, &have) == 0)
        return OC_EINVAL;
    values_add(v, s, n);
    return 0;
}

int dict_leaf_load(struct dict_leaves *l, uint32_t id, const uint32_t *dims)
{
    int folded = 0;
    if (id != atomic_load(&l->n) || id >= l->max)
        return OC_EINVAL;
    return dict_leaf_intern(l, dims, &folded) == id && !folded ? 0 : OC_EINVAL;
}
