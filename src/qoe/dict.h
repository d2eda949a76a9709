/*
 * dict.h - internal to the cube: per-dimension intern tables and the leaf dictionary.
 *
 * A value id or leaf id, once handed out, names the same thing for the life of the cube, so
 * closed minutes store only ids. Writers (the cube, under its lock) add; readers (queries)
 * read ids below the published count without a lock: the id arrays are allocated at their
 * cap up front and never move. Value 0 of every dimension is "unknown" (absent), value 1 is
 * "other" (overflow past the cap); leaf 0 is the leaf whose every value is "other".
 */
#ifndef OC_QOE_DICT_H
#define OC_QOE_DICT_H

#include "qoe/cube.h"

#include <stdatomic.h>
#include <stdint.h>

struct dict_values {
    uint64_t *hash;     /* open addressing: hash of the value per slot */
    uint32_t *slot;     /* id + 1 per slot, 0 = empty */
    uint32_t mask;      /* slots - 1 */
    char **val;         /* id -> NUL-terminated value (owned); max entries */
    uint32_t *len;      /* id -> length */
    _Atomic uint32_t n; /* values so far */
    uint32_t max;       /* cap, including "unknown" and "other" */
};

struct dict_leaves {
    uint32_t *dims; /* leaf * BEACON_NDIMS -> value ids; max leaves */
    uint32_t *slot; /* open addressing: leaf + 1 per slot, 0 = empty */
    uint32_t mask;
    _Atomic uint32_t n;
    uint32_t max;
};

/* Creates a value table holding at most max values (max >= 2). */
void dict_values_init(struct dict_values *v, uint32_t max);
void dict_values_free(struct dict_values *v);
/* The id of s (n bytes; NULL = absent -> 0), adding it if new; past the cap returns 1
 * ("other") and sets *folded. Writers only. */
uint32_t dict_value_intern(struct dict_values *v, const char *s, uint32_t n, int *folded);
/* The id of s without adding: 0 and *out, or OC_ENOTFOUND. */
int dict_value_find(const struct dict_values *v, const char *s, size_t n, uint32_t *out);

/* Appends s as value id (loading from the store): 0, or OC_EINVAL unless id is the next id,
 * s is new and the cap allows it. */
int dict_value_load(struct dict_values *v, uint32_t id, const char *s, uint32_t n);

void dict_leaves_init(struct dict_leaves *l, uint32_t max);
void dict_leaves_free(struct dict_leaves *l);
/* The leaf of dims (BEACON_NDIMS ids), adding it if new; past the cap returns leaf 0 and sets
 * *folded. Writers only. */
uint32_t dict_leaf_intern(struct dict_leaves *l, const uint32_t *dims, int *folded);

/* Appends dims as leaf id (loading from the store): 0, or OC_EINVAL unless id is the next id,
 * the tuple is new and the cap allows it. */
int dict_leaf_load(struct dict_leaves *l, uint32_t id, const uint32_t *dims);

#endif
