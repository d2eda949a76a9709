/*
 * jscan.c - the member scanner of one JSON object (jscan.h): strict enough that a line which
 * is not one JSON object is refused, lenient in what it keeps (raw bytes of strings are not
 * UTF-8 checked: callers that keep a string check it themselves). Nesting is skipped up to
 * JSCAN_MAX_DEPTH.
 */
#include "ingest/jscan.h"
#include "core/decode.h"

#include <string.h>

#define JSCAN_MAX_DEPTH 32

static void ws(struct jscan *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

int jscan_eq(struct beacon_str s, const char *w)
{
    size_t n = strlen(w);
    return s.p && s.n == n && memcmp(s.p, w, n) == 0;
}

/* One \uXXXX (and its low surrogate) at q (after the 'u'): the code point, q advanced; a lone
 * surrogate becomes U+FFFD. -1 when the digits are bad. */
static long uesc(const char **q, const char *end)
{
    unsigned hi, lo;
    if (end - *q < 4 || oc_hex_parse(*q, 4, &hi) != 0)
        return -1;
    *q += 4;
    if (hi < 0xD800 || hi > 0xDFFF)
        return (long)hi;
    if (hi <= 0xDBFF && end - *q >= 6 && (*q)[0] == '\\' && (*q)[1] == 'u' &&
        oc_hex_parse(*q + 2, 4, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
        *q += 6;
        return (long)(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
    }
    return 0xFFFD;
}

/* The string at j->p (on the quote) into *out: a slice of the input when it holds no escape,
 * else unescaped into scratch. 0 or -1. */
static int str(struct jscan *j, struct beacon_str *out)
{
    const char *q = ++j->p, *s = q;
    while (q < j->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    if (q < j->end && *q == '"') {
        *out = (struct beacon_str){s, (uint32_t)(q - s)};
        j->p = q + 1;
        return 0;
    }
    char *start = j->scratch + *j->used, *o = start;
    memcpy(o, s, (size_t)(q - s));
    o += q - s;
    while (q < j->end && *q != '"') {
        if ((unsigned char)*q < 0x20)
            return -1;
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        if (++q >= j->end)
            return -1;
        char c = *q++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *o++ = c;
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            long cp = uesc(&q, j->end);
            if (cp <= 0) /* bad digits, or \u0000 */
                return -1;
            o = oc_utf8_put(o, (unsigned)cp);
            break;
        }
        default:
            return -1;
        }
    }
    if (q >= j->end)
        return -1;
    *out = (struct beacon_str){start, (uint32_t)(o - start)};
    *j->used += (size_t)(o - start);
    j->p = q + 1;
    return 0;
}

static int num(struct jscan *j, struct beacon_str *out)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return -1;
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
                             *j->p == 'E' || *j->p == '+' || *j->p == '-'))
        j->p++;
    *out = (struct beacon_str){s, (uint32_t)(j->p - s)};
    return 0;
}

static int lit(struct jscan *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

/* Skips any value (containers to depth). 0 or -1. */
static int skip(struct jscan *j, int depth)
{
    struct beacon_str s;
    ws(j);
    if (j->p >= j->end || depth > JSCAN_MAX_DEPTH)
        return -1;
    char c = *j->p;
    if (c == '"')
        return str(j, &s);
    if (c == 't')
        return lit(j, "true");
    if (c == 'f')
        return lit(j, "false");
    if (c == 'n')
        return lit(j, "null");
    if (c != '{' && c != '[')
        return num(j, &s);
    char close = c == '{' ? '}' : ']';
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        if (c == '{') {
            ws(j);
            if (j->p >= j->end || *j->p != '"' || str(j, &s) != 0)
                return -1;
            ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return -1;
        }
        if (skip(j, depth + 1) != 0)
            return -1;
        ws(j);
        if (j->p >= j->end)
            return -1;
        if (*j->p == close) {
            j->p++;
            return 0;
        }
        if (*j->p++ != ',')
            return -1;
    }
}

int jscan_begin(struct jscan *j)
{
    ws(j);
    if (j->p >= j->end || *j->p != '{')
        return -1;
    j->p++;
    ws(j);
    return 0;
}

int jscan_member(struct jscan *j, struct beacon_str *key, int *kind, struct beacon_str *val)
{
    ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    if (j->p < j->end && *j->p == ',') /* between members: jscan_member left it */
        return -1;
    if (j->p >= j->end || *j->p != '"' || str(j, key) != 0)
        return -1;
    ws(j);
    if (j->p >= j->end || *j->p++ != ':')
        return -1;
    ws(j);
    if (j->p >= j->end)
        return -1;
    *val = (struct beacon_str){j->p, 0};
    switch (*j->p) {
    case '"':
        *kind = JS_STR;
        if (str(j, val) != 0)
            return -1;
        break;
    case 't':
        *kind = JS_TRUE;
        if (lit(j, "true") != 0)
            return -1;
        break;
    case 'f':
        *kind = JS_FALSE;
        if (lit(j, "false") != 0)
            return -1;
        break;
    case 'n':
        *kind = JS_NULL;
        if (lit(j, "null") != 0)
            return -1;
        break;
    case '{':
    case '[':
        *kind = JS_OTHER;
        if (skip(j, 1) != 0)
            return -1;
        break;
    default:
        *kind = JS_NUM;
        if (num(j, val) != 0)
            return -1;
    }
    ws(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        ws(j);
        if (j->p < j->end && *j->p == '}') /* trailing comma */
            return -1;
    } else if (j->p >= j->end || *j->p != '}') {
        return -1;
    }
    return 1;
}

int jscan_end(struct jscan *j)
{
    ws(j);
    return j->p == j->end ? 0 : -1;
}
