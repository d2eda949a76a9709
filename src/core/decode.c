/*
 * decode.c - hex digits and percent-decoding shared by the HTTP path resolver, the steering
 * query parser and the event parser's JSON escapes. Never reads past a NUL or past n, and
 * never writes past cap.
 */
#include "core/decode.h"
#include "core/err.h"

int oc_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int oc_hex_parse(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (n > 8)
        return OC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int d = oc_hex_digit((unsigned char)p[i]);
        if (d < 0)
            return OC_EINVAL;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

int oc_percent_decode(const char *p, size_t n, unsigned flags, char *out, size_t cap,
                      size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            int hi = i + 2 < n ? oc_hex_digit((unsigned char)p[i + 1]) : -1;
            int lo = hi < 0 ? -1 : oc_hex_digit((unsigned char)p[i + 2]);
            if (lo < 0)
                return OC_EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && (flags & OC_PCT_PLUS)) {
            c = ' ';
        }
        if (c == '\0')
            return OC_EINVAL;
        if (o + 1 >= cap)
            return OC_ETOOBIG;
        out[o++] = (char)c;
    }
    if (cap == 0)
        return OC_ETOOBIG;
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return 0;
}

char *oc_utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}
