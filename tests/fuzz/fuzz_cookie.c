/*
 * fuzz_cookie.c - fuzzes the Cookie header parser (http/browser.c) with raw header bytes, as
 * any browser or client may send them, looking up the session cookie and a one-letter name.
 *
 * Besides not crashing or reading past the input: a found value fits the output with its
 * NUL and is a run of the input's bytes; not found or too long leaves the output "".
 */
#include "core/err.h"
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, const char *name, size_t n)
{
    char out[HTTP_COOKIE_VALUE_MAX];
    memset(out, 'Z', sizeof(out));
    int rc = http_cookie_get((const char *)data, size, name, out, n);
    if (rc == 0) {
        size_t len = strnlen(out, n);
        if (len == n) /* not terminated within n */
            abort();
        if (len > 0 && !memmem(data, size, out, len))
            abort();
    } else if (rc == OC_ENOTFOUND || rc == OC_ETOOBIG) {
        if (out[0] != '\0')
            abort();
    } else {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, HTTP_SESSION_COOKIE, HTTP_COOKIE_VALUE_MAX);
    check(data, size, "a", 8);
    check(data, size, "a", 1);
    return 0;
}
