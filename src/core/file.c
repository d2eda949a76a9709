/*
 * file.c - capped whole-file reads (see file.h).
 */
#include "core/file.h"
#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oc_read_file(const char *path, size_t max, char **out, size_t *n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return OC_EIO;
    }
    char *buf = oc_malloc(max + 2);
    size_t got = fread(buf, 1, max + 1, f);
    int rc = OC_EIO;
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(buf);
        goto out;
    }
    buf[got] = '\0';
    *out = buf;
    *n = got;
    rc = 0;
out:
    fclose(f);
    return rc;
}

char *oc_lines_join(const char *const *lines, size_t *len)
{
    size_t n = 0, at = 0;
    for (int i = 0; lines[i]; i++)
        n += strlen(lines[i]);
    char *s = oc_malloc(n + 1);
    for (int i = 0; lines[i]; i++) {
        size_t k = strlen(lines[i]);
        memcpy(s + at, lines[i], k);
        at += k;
    }
    s[n] = 0;
    *len = n;
    return s;
}
