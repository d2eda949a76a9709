/*
 * decode.h - hex digits, percent-encoding (RFC 3986 %XX, optionally '+' for a space) and UTF-8
 * encoding, for the parsers of untrusted bytes: request paths, query strings, JSON \uXXXX
 * escapes.
 */
#ifndef OC_CORE_DECODE_H
#define OC_CORE_DECODE_H

#include <stddef.h>

#define OC_PCT_PLUS 1u /* oc_percent_decode: '+' decodes to a space (query strings, forms) */

/* The value (0-15) of the hex digit c, either case, or -1 when c is not one. */
int oc_hex_digit(int c);

/* Reads exactly n hex digits (n <= 8) at p into *out; stops at the first non-digit, so a
 * shorter NUL-terminated string is safe. 0, or OC_EINVAL (*out unset). */
int oc_hex_parse(const char *p, size_t n, unsigned *out /* OUT */);

/* Percent-decodes p[0..n) into out, cap bytes with the terminating NUL, and stores the decoded
 * length in *outlen (when not NULL). Flags: OC_PCT_PLUS. Returns 0, OC_EINVAL for a malformed
 * escape or one that decodes to NUL, or OC_ETOOBIG when out is too small (out is then
 * unspecified). The caller owns both buffers. */
int oc_percent_decode(const char *p, size_t n, unsigned flags, char *out, size_t cap,
                      size_t *outlen /* OUT */);

/* Writes code point cp (at most 0x10FFFF) as UTF-8 at o (1 to 4 bytes) and returns the byte
 * after it; the JSON parsers' \uXXXX escapes. */
char *oc_utf8_put(char *o, unsigned cp);

#endif
