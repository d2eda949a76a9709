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
