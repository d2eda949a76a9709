/*
 * buf.h - a growable byte buffer with a hard cap set at creation.
 *
 * Everything filled from the network or a file is capped: appends past the cap fail with
 * OC_ETOOBIG and leave the buffer as it was. The data is always NUL-terminated.
 */
#ifndef OC_CORE_BUF_H
#define OC_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct oc_buf {
    char *data; /* owned; NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
};

/* Initializes an empty buffer that may hold at most max bytes. */
void oc_buf_init(struct oc_buf *b, size_t max);
/* Frees the data; the buffer may be reused after oc_buf_init. */
void oc_buf_free(struct oc_buf *b);
/* Empties the buffer, keeping its memory. */
void oc_buf_reset(struct oc_buf *b);
/* Appends n bytes; 0 or OC_ETOOBIG. */
int oc_buf_append(struct oc_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string; 0 or OC_ETOOBIG. */
int oc_buf_puts(struct oc_buf *b, const char *s);
/* Appends formatted text; 0 or OC_ETOOBIG. */
int oc_buf_printf(struct oc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int oc_buf_vprintf(struct oc_buf *b, const char *fmt, va_list ap);
/* Hands the data over to the caller (who frees it) and empties the buffer. */
char *oc_buf_steal(struct oc_buf *b);

#endif
