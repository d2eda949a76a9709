/*
 * data.c - struct rca_data: attribute value dictionaries, the leaf table and the rows.
 *
 * Strings are interned per attribute to dense ids; a leaf is the tuple of its value ids and
 * is found again through an open-addressing hash. Rows are appended as they come; the
 * forecast groups them by leaf and bin later. Caps: RCA_MAX_LEAVES, RCA_MAX_ROWS.
 */
#include "rca/rca_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

uint32_t rca_hash(uint32_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

static void dict_free(struct rca_dict *dc)
{
    for (uint32_t i = 0; i < dc->n; i++)
        free(dc->strs[i]);
    free(dc->strs);
    free(dc->ht);
}

static void dict_rehash(struct rca_dict *dc, uint32_t hcap)
{
    free(dc->ht);
    dc->ht = oc_calloc(hcap, sizeof(*dc->ht));
    dc->hcap = hcap;
    for (uint32_t id = 0; id < dc->n; id++) {
        const char *s = dc->strs[id];
        uint32_t i = rca_hash(2166136261u, s, strlen(s)) & (hcap - 1);
        while (dc->ht[i])
            i = (i + 1) & (hcap - 1);
        dc->ht[i] = id + 1;
    }
}

/* Returns the id of s in dc, adding it when new. */
static uint32_t dict_intern(struct rca_dict *dc, const char *s)
{
    if ((dc->n + 1) * 2 > dc->hcap)
        dict_rehash(dc, dc->hcap ? dc->hcap * 2 : 16);
    size_t len = strlen(s);
    uint32_t i = rca_hash(2166136261u, s, len) & (dc->hcap - 1);
    while (dc->ht[i]) {
        uint32_t id = dc->ht[i] - 1;
        if (strcmp(dc->strs[id], s) == 0)
            return id;
        i = (i + 1) & (dc->hcap - 1);
    }
    dc->strs = oc_grow(dc->strs, &dc->cap, (size_t)dc->n + 1, sizeof(*dc->strs));
    dc->strs[dc->n] = oc_strndup(s, len);
    dc->ht[i] = dc->n + 1;
    return dc->n++;
}

struct rca_data *rca_data_new(int n_attrs, const char *const *names, int ratio)
{
    if (n_attrs < 1 || n_attrs > RCA_MAX_ATTRS)
        return NULL;
    struct rca_data *d = oc_calloc(1, sizeof(*d));
    d->n_attrs = n_attrs;
    d->ratio = ratio ? 1 : 0;
    for (int a = 0; a < n_attrs; a++)
        d->names[a] = oc_strdup(names[a]);
    return d;
}

void rca_data_destroy(struct rca_data *d)
{
    if (!d)
        return;
    for (int a = 0; a < d->n_attrs; a++) {
        free(d->names[a]);
        dict_free(&d->dict[a]);
    }
    free(d->leaf_vals);
    free(d->leaf_ht);
    free(d->rows);
    free(d);
}

static uint32_t leaf_hash(const uint32_t *ids, int n)
{
    return rca_hash(2166136261u, ids, (size_t)n * sizeof(*ids));
}

static void leaf_rehash(struct rca_data *d, size_t hcap)
{
    free(d->leaf_ht);
    d->leaf_ht = oc_calloc(hcap, sizeof(*d->leaf_ht));
    d->leaf_hcap = hcap;
    for (size_t l = 0; l < d->n_leaves; l++) {
        size_t i = leaf_hash(d->leaf_vals + l * d->n_attrs, d->n_attrs) & (hcap - 1);
        while (d->leaf_ht[i])
            i = (i + 1) & (hcap - 1);
        d->leaf_ht[i] = (uint32_t)l + 1;
    }
}

/* Finds or adds the leaf with value ids ids[]; *leaf gets its index. 0 or OC_ETOOBIG. */
static int leaf_find(struct rca_data *d, const uint32_t *ids, uint32_t *leaf /* OUT */)
{
    size_t na = (size_t)d->n_attrs;
    if ((d->n_leaves + 1) * 2 > d->leaf_hcap)
        leaf_rehash(d, d->leaf_hcap ? d->leaf_hcap * 2 : 64);
    size_t i = leaf_hash(ids, d->n_attrs) & (d->leaf_hcap - 1);
    while (d->leaf_ht[i]) {
        uint32_t l = d->leaf_ht[i] - 1;
        if (memcmp(d->leaf_vals + l * na, ids, na * sizeof(*ids)) == 0) {
            *leaf = l;
            return 0;
        }
        i = (i + 1) & (d->leaf_hcap - 1);
    }
    if (d->n_leaves >= RCA_MAX_LEAVES)
        return OC_ETOOBIG;
    d->leaf_vals = oc_grow(d->leaf_vals, &d->cap_leaves, d->n_leaves + 1, na * sizeof(*ids));
    memcpy(d->leaf_vals + d->n_leaves * na, ids, na * sizeof(*ids));
    d->leaf_ht[i] = (uint32_t)d->n_leaves + 1;
    *leaf = (uint32_t)d->n_leaves++;
    return 0;
}

int rca_data_add(struct rca_data *d, int64_t ts, const char *const *vals, double value,
                 double total)
{
    uint32_t ids[RCA_MAX_ATTRS], leaf;
    if (d->n_rows >= RCA_MAX_ROWS)
        return OC_ETOOBIG;
    for (int a = 0; a < d->n_attrs; a++)
        ids[a] = dict_intern(&d->dict[a], vals[a]);
    int rc = leaf_find(d, ids, &leaf);
    if (rc != 0)
        return rc;
    d->rows = oc_grow(d->rows, &d->cap_rows, d->n_rows + 1, sizeof(*d->rows));
    d->rows[d->n_rows++] = (struct rca_row){ts, leaf, value, d->ratio ? total : 0};
    return 0;
}

int rca_data_attrs(const struct rca_data *d)
{
    return d->n_attrs;
}

int rca_data_is_ratio(const struct rca_data *d)
{
    return d->ratio;
}

size_t rca_data_leaves(const struct rca_data *d)
{
    return d->n_leaves;
}

size_t rca_data_rows(const struct rca_data *d)
{
    return d->n_rows;
}

const char *rca_data_attr_name(const struct rca_data *d, int attr)
{
    return attr >= 0 && attr < d->n_attrs ? d->names[attr] : "";
}

const char *rca_data_value(const struct rca_data *d, int attr, uint32_t val)
{
    if (attr < 0 || attr >= d->n_attrs || val >= d->dict[attr].n)
        return "";
    return d->dict[attr].strs[val];
}

int64_t rca_data_last_ts(const struct rca_data *d)
{
    int64_t last = 0;
    for (size_t i = 0; i < d->n_rows; i++)
        if (i == 0 || d->rows[i].ts > last)
            last = d->rows[i].ts;
    return last;
}
