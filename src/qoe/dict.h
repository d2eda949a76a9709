/*
 * dict.h - internal to the cube: per-dimension intern tables and the leaf dictionary.
 *
 * A leaf id, once handed out, names the same thing for the life of the cube, so closed
 * minutes store only ids. A value id does too until the value ages out (not seen for
 * ingest.value_idle_s): then the leaves naming it are rewritten to "other" and the id is free
 * for a new value (cube_sweep, under every cube lock). Writers (the cube, under its lock) add;
 * readers (queries) read ids below the published count without a lock: the id arrays are
 * allocated at their cap up front and never move, and a value's bytes live inline in buf, so a
 * pointer to a value stays in bounds (and NUL-terminated) when its id is reused. Value 0 of
 * every dimension is "unknown" (absent), value 1 is "other" (overflow past the cap); leaf 0 is
 * the leaf whose every value is "other".
 */
#ifndef OC_QOE_DICT_H
#define OC_QOE_DICT_H

#include "qoe/cube.h"

#include <stdatomic.h>
#include <stdint.h>

#define DICT_STRIDE (QOE_MAX_DIM_VALUE + 1) /* bytes of a value's inline buffer */

struct dict_values {
    uint64_t *hash;     /* open addressing: hash of the value per slot */
    uint32_t *slot;     /* id + 1 per slot, 0 = empty */
    uint32_t mask;      /* slots - 1 */
    char *buf;          /* id -> NUL-terminated value at buf + id * DICT_STRIDE; max entries */
    uint32_t *len;      /* id -> length */
    int64_t *seen;      /* id -> start (unix s) of the newest closed minute holding it, or when
                           it was added; 0: never (loaded without one) */
    uint32_t *events;   /* id -> events counted with it in closed minutes (saturating) */
    int64_t *saved;     /* id -> seen as last written to the store: set when the id is added
                           (before it is published), then by the persisting thread */
    uint8_t *isfree;    /* id -> 1 while free (aged out, not yet reused) */
    uint32_t *freelist; /* free ids, nfree of them */
    uint32_t nfree;
    uint32_t *reused; /* ids given a new value since the store last heard (nreused) */
    size_t nreused, capreused;
    _Atomic uint32_t n; /* ids handed out so far (free ones included) */
    uint32_t max;       /* cap, including "unknown" and "other" */
};

/* The value of id (NUL-terminated; "" while free). */
static inline const char *dict_value_str(const struct dict_values *v, uint32_t id)
{
    return v->buf + (size_t)id * DICT_STRIDE;
}

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
/* The id of s (n bytes; NULL = absent -> 0), adding it if new (a free id first, seen now_s);
 * past the cap, or longer than QOE_MAX_DIM_VALUE, returns 1 ("other") and sets *folded.
 * Writers only. */
uint32_t dict_value_intern(struct dict_values *v, const char *s, uint32_t n, int64_t now_s,
                           int *folded);
/* 1 when adding a new value would fold it (no free id, at the cap). */
int dict_values_full(const struct dict_values *v);
/* Frees id (its hash slot is dropped by the next dict_values_rehash); writers only, with
 * every reader excluded (cube_sweep). */
void dict_value_free(struct dict_values *v, uint32_t id);
/* Rebuilds the hash table over the ids in use. */
void dict_values_rehash(struct dict_values *v);
/* The id of s without adding: 0 and *out, or OC_ENOTFOUND. */
int dict_value_find(const struct dict_values *v, const char *s, size_t n, uint32_t *out);

/* Appends s as value id (loading from the store), seen at seen_s: 0, or OC_EINVAL unless id
 * is past the last id loaded, s is new and the cap allows it. Ids skipped over are free. */
int dict_value_load(struct dict_values *v, uint32_t id, const char *s, uint32_t n, int64_t seen_s,
                    uint32_t events);

void dict_leaves_init(struct dict_leaves *l, uint32_t max);
void dict_leaves_free(struct dict_leaves *l);
/* The leaf of dims (BEACON_NDIMS ids), adding it if new; past the cap returns leaf 0 and sets
 * *folded. Writers only. */
uint32_t dict_leaf_intern(struct dict_leaves *l, const uint32_t *dims, int *folded);

/* Rebuilds the leaf hash table (after leaves were rewritten; a tuple held by two leaves is
 * found as the first). */
void dict_leaves_rehash(struct dict_leaves *l);

/* Appends dims as leaf id (loading from the store): 0, or OC_EINVAL unless id is the next id,
 * the tuple is new and the cap allows it. */
int dict_leaf_load(struct dict_leaves *l, uint32_t id, const uint32_t *dims);

#endif
