/*
 * arena.c - bump allocation in chained blocks (see arena.h).
 */
#include "core/arena.h"
#include "core/alloc.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 4096

struct oc_arena_block {
    struct oc_arena_block *next; /* older block */
    size_t size;                 /* usable bytes in mem */
    size_t off;                  /* next free offset in mem */
    alignas(max_align_t) unsigned char mem[];
};

void oc_arena_init(struct oc_arena *a, size_t max)
{
    a->head = NULL;
    a->used = 0;
    a->max = max;
}

void oc_arena_free(struct oc_arena *a)
{
    struct oc_arena_block *b = a->head;
    while (b) {
        struct oc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void oc_arena_reset(struct oc_arena *a)
{
#if defined(__SANITIZE_ADDRESS__)
    oc_arena_free(a);
#else
    struct oc_arena_block *b = a->head;
    while (b && b->next) {
        struct oc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    if (b && b->size != ARENA_BLOCK) {
        free(b);
        b = NULL;
    }
    a->head = b;
    a->used = b ? b->size + sizeof(*b) : 0;
    if (b)
        b->off = 0;
#endif
}

void *oc_arena_alloc(struct oc_arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    if (n == 0)
        n = align;
    struct oc_arena_block *b = a->head;
    if (!b || b->size - b->off < n) {
        size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        size_t cost = size + sizeof(*b);
        if (cost > a->max || a->used > a->max - cost)
            return NULL;
        b = oc_malloc(cost);
        b->size = size;
        b->off = 0;
        b->next = a->head;
        a->head = b;
        a->used += cost;
    }
    void *p = b->mem + b->off;
    b->off += n;
    return p;
}

void *oc_arena_calloc(struct oc_arena *a, size_t n)
{
    void *p = oc_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *oc_arena_strndup(struct oc_arena *a, const char *s, size_t n)
{
    char *d = oc_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *oc_arena_strdup(struct oc_arena *a, const char *s)
{
    return oc_arena_strndup(a, s, strlen(s));
}
