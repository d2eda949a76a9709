/*
 * fuzz_http_head.c - fuzzes the request parser of src/http/parse.c, which reads every byte a
 * client sends: the head (http_head_parse) on an exact-size copy, first cut at a point the
 * input chooses (the parse must then ask for more or refuse, and change nothing when it asks
 * for more), then whole; and, after a complete head, the rest as a chunked body
 * (http_chunked_feed) in two pieces, decoded in place as conn.c does.
 *
 * Besides not crashing or reading past the input: a complete head ends within the input, its
 * method and path are NUL-terminated strings, its headers are within the copy, a refusal has
 * a 4xx/5xx status, and the decoder never writes more than it read nor more than its cap.
 */
#include "http/http_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(char *p, size_t n)
{
    struct http_chunked d;
    char why[160];
    size_t used, made, cut = n / 2, total = 0;
    int st = 0;
    memset(&d, 0, sizeof(d));
    int rc = http_chunked_feed(&d, p, cut, p, 4096, &used, &made, &st, why, sizeof(why));
    if (used > cut || made > used)
        abort();
    total += made;
    if (rc == 0) {
        /* the unused bytes move up behind the decoded ones, the rest follows them */
        memmove(p + total, p + used, n - used);
        size_t left = n - used;
        rc = http_chunked_feed(&d, p + total, left, p + total, 4096, &used, &made, &st, why,
                               sizeof(why));
        if (used > left || made > used)
            abort();
        total += made;
    }
    if (total > 4096 || (rc < 0 && st < 400))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_head h;
    char *p = malloc(size ? size : 1); /* an exact-size copy: ASan sees any overread */
    if (!p)
        return 0;
    memcpy(p, data, size);
    memset(&h, 0, sizeof(h));
    size_t cut = size ? data[0] % (size + 1) : 0, max = 1024 + (size ? data[size - 1] : 0) * 16;
    int rc = http_head_parse(p, cut, max, &h);
    if (rc == 0 && memcmp(p, data, cut) != 0)
        abort();
    if (rc == 0)
        rc = http_head_parse(p, size, max, &h);
    if (rc == 1) {
        if (h.end < 2 || h.end > size || h.end > max || !h.method || !h.path)
            abort();
        if (strlen(h.method) > h.end || h.nhdrs < 0 || h.nhdrs > HTTP_MAX_HEADERS)
            abort();
        for (int i = 0; i < h.nhdrs; i++)
            if (h.hdrs[i].name < p || h.hdrs[i].value >= p + h.end)
                abort();
        if (h.chunked && (h.content_length != -1))
            abort();
        check_body(p + h.end, size - h.end);
    } else if (rc == -1) {
        if (h.status < 400 || h.status > 505 || !memchr(h.why, '\0', sizeof(h.why)))
            abort();
    }
    free(p);
    return 0;
}
