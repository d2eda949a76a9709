/*
 * fuzz_http_head.c - fuzzes the scan of a request's first bytes (http_head_scan in
 * http/dispatch.c), which src/http/conn.c runs on every buffered request before evhttp reads
 * it, to give a chunked body its route's cap.
 *
 * Besides not crashing or reading past the input: a complete head ends within the input,
 * after at least two bytes, and its method and target are NUL-terminated within their arrays.
 */
#include "http/http_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_head h;
    char *p = malloc(size ? size : 1); /* an exact-size copy: ASan sees any overread */
    if (!p)
        return 0;
    memcpy(p, data, size);
    memset(&h, 'Z', sizeof(h));
    if (http_head_scan(p, size, &h)) {
        if (h.end < 2 || h.end > size)
            abort();
        if (strnlen(h.method, sizeof(h.method)) == sizeof(h.method) ||
            strnlen(h.target, sizeof(h.target)) == sizeof(h.target))
            abort();
        if (h.chunked != 0 && h.chunked != 1)
            abort();
    } else if (h.end != 0) {
        abort();
    }
    free(p);
    return 0;
}
