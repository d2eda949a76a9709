/*
 * buf.c - capped growable buffers (see buf.h).
 */
#include "core/buf.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oc_buf_init(struct oc_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void oc_buf_free(struct oc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void oc_buf_reset(struct oc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(struct oc_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return OC_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    b->data = oc_realloc(b->data, ncap);
    b->cap = ncap;
    return 0;
}

int oc_buf_append(struct oc_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int oc_buf_puts(struct oc_buf *b, const char *s)
{
    return oc_buf_append(b, s, strlen(s));
}

int oc_buf_vprintf(struct oc_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return OC_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int oc_buf_printf(struct oc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = oc_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *oc_buf_steal(struct oc_buf *b)
{
    char *d = b->data ? b->data : oc_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
