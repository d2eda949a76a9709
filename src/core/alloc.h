/*
 * alloc.h - allocation wrappers that abort with a message on out-of-memory.
 *
 * Internal allocations go through these, so callers never check for NULL. Sizes a client
 * controls must be capped before they reach here (see buf.h, arena.h).
 */
#ifndef OC_CORE_ALLOC_H
#define OC_CORE_ALLOC_H

#include <stddef.h>

/* malloc/calloc/realloc/strdup that abort on failure; free with free(). */
void *oc_malloc(size_t n);
void *oc_calloc(size_t count, size_t size);
void *oc_realloc(void *p, size_t n);
char *oc_strdup(const char *s);
char *oc_strndup(const char *s, size_t n);

#define OC_GROW_MIN 16 /* oc_grow: the first capacity of an empty array */

/* Growable arrays: makes room for need elements of elem bytes in the array p, which has *cap
 * slots. When need > *cap, doubles *cap (from OC_GROW_MIN) until need fits and reallocates,
 * aborting on out-of-memory. Returns the array (moved, or p itself when it already fits); the
 * caller owns it and frees it with free(). Use: v = oc_grow(v, &cap, n + 1, sizeof *v). */
void *oc_grow(void *p, size_t *cap, size_t need, size_t elem);

/* Prints "oncue: out of memory (N bytes)" to stderr and aborts. */
void oc_oom(size_t n);

#endif
