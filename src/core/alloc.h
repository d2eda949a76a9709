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

/* Prints "oncue: out of memory (N bytes)" to stderr and aborts. */
void oc_oom(size_t n);

#endif
