/*
 * varint.h - LEB128 unsigned varints (7 bits a byte, low bits first) and zigzag for signed
 * values: the compact binary records of the ingest log (src/ingest/walrec.c) and the resume
 * log (src/resume/logfmt.c). Readers take untrusted bytes and never read past end.
 */
#ifndef OC_CORE_VARINT_H
#define OC_CORE_VARINT_H

#include <stdint.h>

#define OC_VARINT_MAX 10 /* bytes of the longest varint (a 64-bit value) */

/* Writes v at o (1 to OC_VARINT_MAX bytes) and returns the byte after it. */
static inline uint8_t *oc_varint_put(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

/* Reads a varint at *p (before end) into *v and moves *p past it; 0, or -1 when it is cut
 * short or does not fit 64 bits (*p is then unspecified). */
static inline int oc_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        if (shift == 63 && c > 1)
            return -1;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Signed to unsigned so that small magnitudes of either sign stay short, and back. */
static inline uint64_t oc_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t oc_unzigzag(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

#endif
