/*
 * alloc.c - aborting allocation wrappers (see alloc.h).
 */
#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oc_oom(size_t n)
{
    fprintf(stderr, "oncue: out of memory (%zu bytes)\n", n);
    abort();
}

void *oc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oc_oom(n);
    return p;
}

void *oc_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oc_oom(count * size);
    return p;
}

void *oc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oc_oom(n);
    return q;
}

char *oc_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = oc_malloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *oc_strdup(const char *s)
{
    return oc_strndup(s, strlen(s));
}

void *oc_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap;
    if (need <= n)
        return p;
    do {
        if (n > SIZE_MAX / 2)
            oc_oom(SIZE_MAX);
        n = n ? n * 2 : OC_GROW_MIN;
    } while (n < need);
    if (elem && n > SIZE_MAX / elem)
        oc_oom(SIZE_MAX);
    p = oc_realloc(p, n * elem);
    *cap = n;
    return p;
}
