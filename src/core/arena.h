/*
 * arena.h - a per-request arena: many small allocations, freed in one call.
 *
 * Request handlers allocate from the request's arena and never free individually. The arena
 * has a hard cap on its total size; past it, oc_arena_alloc returns NULL (callers answer 413
 * or OC_ETOOBIG), so a client cannot make one request hold unbounded memory.
 */
#ifndef OC_CORE_ARENA_H
#define OC_CORE_ARENA_H

#include <stddef.h>

struct oc_arena_block;

struct oc_arena {
    struct oc_arena_block *head; /* newest block first; owned */
    size_t used;                 /* bytes handed out plus block overhead */
    size_t max;                  /* hard cap on used */
};

/* Initializes an empty arena capped at max bytes. */
void oc_arena_init(struct oc_arena *a, size_t max);
/* Frees every block; the arena is empty and reusable afterwards. */
void oc_arena_free(struct oc_arena *a);
/* Frees every block but the oldest when it has the standard size, which the next
 * allocations reuse: an arena reset after each request allocates nothing for most of them.
 * Built with AddressSanitizer it frees everything, so a use after the reset is still caught. */
void oc_arena_reset(struct oc_arena *a);
/* Returns n bytes aligned for any type, or NULL past the cap. Freed by oc_arena_free. */
void *oc_arena_alloc(struct oc_arena *a, size_t n);
/* Zeroed oc_arena_alloc. */
void *oc_arena_calloc(struct oc_arena *a, size_t n);
/* Copies s (n bytes, then a NUL) into the arena; NULL past the cap. */
char *oc_arena_strndup(struct oc_arena *a, const char *s, size_t n);
char *oc_arena_strdup(struct oc_arena *a, const char *s);

#endif
