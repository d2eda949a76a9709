/*
 * parse.c - the hot-path beacon parser: a JSON array or NDJSON body into beacon_events.
 *
 * Zero-copy: strings are slices of the body unless they hold an escape, in which case they
 * are unescaped into the batch's scratch buffer (never longer than the body). Validation is
 * per event with a reason; unknown fields (any JSON value, nested to INGEST_MAX_DEPTH) are
 * skipped. Strict JSON: jansson accepts exactly the same documents (tests/unit/test_ingest.c
 * checks it differentially), and tests/fuzz/fuzz_events.c fuzzes this file.
 */
#include "ingest/ingest.h"
#include "ingest/fields.h"
#include "core/alloc.h"
#include "core/decode.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INGEST_MAX_DEPTH 64

const char *const beacon_dim_names[BEACON_NDIMS] = {
    "region", "country",        "cdn", "pop",   "isp",  "asn", "device", "os",
    "player", "player_version", "drm", "title", "live",
};

const char *const ingest_reason_names[INGEST_NREASONS] = {
    "ok",
    "malformed",
    "missing_ts",
    "bad_ts",
    "missing_type",
    "bad_type",
    "missing_session",
    "bad_session",
    "bad_outcome",
    "missing_startup_ms",
    "negative_value",
    "bad_value",
    "bad_dimension",
    "too_old",
    "too_far_future",
    "ts_in_seconds",
    "bad_account_hmac",
};

const char *const ingest_reason_details[INGEST_NREASONS] = {
    "",
    "not a JSON object, or a syntax error on its line",
    "ts is required: the event time in unix milliseconds",
    "ts must be a positive whole number of unix milliseconds",
    "type is required: start, heartbeat, error or end",
    "type must be start, heartbeat, error or end",
    "session is required: a non-empty string",
    "session must be a string of at most 256 bytes",
    "a start needs outcome success, failure or exit",
    "a successful start needs startup_ms",
    "*_ms and bitrate_kbps cannot be negative",
    "a known field has the wrong JSON type or is out of range",
    "a dimension must be a string, number or boolean of at most 128 bytes",
    "its minute has closed (ts is older than the allowed lateness)",
    "ts is further ahead of the server's clock than ingest.max_future_skew_s",
    "ts looks like unix seconds; it is unix milliseconds (multiply by 1000)",
    "account_hmac must be the 64 lower-case hex digits of HMAC-SHA256(key, account id), never"
    " the account id itself",
};

/* The parser's cursor. */
struct jp {
    const char *p;    /* next byte */
    const char *end;  /* one past the last byte */
    const char *base; /* the body */
    char *scratch;    /* unescape target */
    size_t used;      /* bytes of scratch used */
};

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

/* Number of bytes of the valid UTF-8 sequence at p (at most n available), or 0. */
static int utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    int len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)len > n)
        return 0;
    unsigned cp = c & (0xff >> (len + 1));
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* One \u escape (p after the 'u'), with a surrogate pair; advances *pp. -1 if invalid. */
static int unicode_escape(const char **pp, const char *end, char **o)
{
    const char *p = *pp;
    unsigned cp, lo;
    if (end - p < 4 || oc_hex_parse(p, 4, &cp) != 0)
        return -1;
    p += 4;
    if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
        return -1; /* NUL is refused, as jansson does */
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || oc_hex_parse(p + 2, 4, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
    }
    *o = oc_utf8_put(*o, cp);
    *pp = p;
    return 0;
}

/* Unescapes the string starting at p (after the opening quote) into scratch; -1 if bad. */
static int unescape(struct jp *j, const char *p, struct beacon_str *out)
{
    char *start = j->scratch + j->used, *o = start;
    while (p < j->end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            out->p = start;
            out->n = (uint32_t)(o - start);
            j->used += (size_t)(o - start);
            j->p = p + 1;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            int n = utf8_len((const unsigned char *)p, (size_t)(j->end - p));
            if (n == 0)
                return -1;
            memcpy(o, p, (size_t)n);
            o += n, p += n;
            continue;
        }
        if (++p >= j->end)
            return -1;
        switch (*p++) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
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
        case 'u':
            if (unicode_escape(&p, j->end, &o) != 0)
                return -1;
            break;
        default:
            return -1;
        }
    }
    return -1;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Bytes of the 8 at p before the first that ends a plain run ('"', '\\', a control character,
 * a byte of a multi-byte character); 8 when none does. The lowest byte flagged by each test is
 * exact (a borrow only flags bytes above a true one), so the count is too. */
static unsigned plain_run8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    uint64_t m = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x) | x;
    m &= HIGHS;
    return m ? (unsigned)__builtin_ctzll(m) / 8 : 8;
}

/* A string at j->p (which is '"'); -1 on a syntax error. */
static int parse_string(struct jp *j, struct beacon_str *out)
{
    const char *p = j->p + 1;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* eight plain bytes at a time; the byte that stops the run is looked at below */
    while (j->end - p >= 8) {
        unsigned k = plain_run8(p);
        p += k;
        if (k < 8)
            break;
    }
#endif
    while (p < j->end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            out->p = j->p + 1;
            out->n = (uint32_t)(p - (j->p + 1));
            j->p = p + 1;
            return 0;
        }
        if (c == '\\')
            return unescape(j, j->p + 1, out);
        if (c < 0x20)
            return -1;
        if (c < 0x80) {
            p++;
            continue;
        }
        int n = utf8_len((const unsigned char *)p, (size_t)(j->end - p));
        if (n == 0)
            return -1;
        p += n;
    }
    return -1;
}

/* A number per the JSON grammar; out gets its raw text. -1 on a syntax error. */
static int scan_number(struct jp *j, struct beacon_str *out)
{
    const char *p = j->p, *e = j->end;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return -1;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        if (++p >= e || *p < '0' || *p > '9')
            return -1;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return -1;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    out->p = j->p;
    out->n = (uint32_t)(p - j->p);
    j->p = p;
    return 0;
}

static int literal(struct jp *j, const char *word, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

static int skip_value(struct jp *j, int depth);

/* Skips an object or array body after its opening bracket; -1 on a syntax error. */
static int skip_container(struct jp *j, char close, int depth)
{
    struct beacon_str s;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (j->p >= j->end || *j->p != '"' || parse_string(j, &s) != 0)
                return -1;
            skip_ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return -1;
        }
        if (skip_value(j, depth + 1) != 0)
            return -1;
        skip_ws(j);
        if (j->p >= j->end)
            return -1;
        char c = *j->p++;
        if (c == close)
            return 0;
        if (c != ',')
            return -1;
        skip_ws(j);
    }
}

/* Skips any JSON value (nested at most INGEST_MAX_DEPTH deep); -1 on a syntax error. */
static int skip_value(struct jp *j, int depth)
{
    struct beacon_str s;
    if (depth > INGEST_MAX_DEPTH)
        return -1;
    skip_ws(j);
    if (j->p >= j->end)
        return -1;
    switch (*j->p) {
    case '{':
        j->p++;
        return skip_container(j, '}', depth);
    case '[':
        j->p++;
        return skip_container(j, ']', depth);
    case '"':
        return parse_string(j, &s);
    case 't':
        return literal(j, "true", 4);
    case 'f':
        return literal(j, "false", 5);
    case 'n':
        return literal(j, "null", 4);
    default:
        return scan_number(j, &s);
    }
}

/* Reads one value as a field needs it: scalars are kept, containers skipped (JV_OTHER). */
static int read_value(struct jp *j, struct jv *v)
{
    skip_ws(j);
    if (j->p >= j->end)
        return -1;
    v->s.p = NULL, v->s.n = 0;
    switch (*j->p) {
    case '"':
        v->kind = JV_STRING;
        return parse_string(j, &v->s);
    case 't':
        v->kind = JV_TRUE;
        return literal(j, "true", 4);
    case 'f':
        v->kind = JV_FALSE;
        return literal(j, "false", 5);
    case 'n':
        v->kind = JV_NULL;
        return literal(j, "null", 4);
    case '{':
    case '[':
        v->kind = JV_OTHER;
        return skip_value(j, 1);
    default:
        v->kind = JV_NUMBER;
        return scan_number(j, &v->s);
    }
}

/* Parses one object at j->p ('{') into ev; *reason gets the first problem. -1 on syntax. */
static int parse_event(struct jp *j, struct beacon_event *ev, uint8_t *reason)
{
    struct fields f;
    struct beacon_str key;
    struct jv v;
    memset(ev, 0, sizeof *ev);
    memset(&f, 0, sizeof f);
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        *reason = fields_finish(&f, ev);
        return 0;
    }
    for (;;) {
        if (j->p >= j->end || *j->p != '"' || parse_string(j, &key) != 0)
            return -1;
        skip_ws(j);
        if (j->p >= j->end || *j->p++ != ':')
            return -1;
        if (read_value(j, &v) != 0)
            return -1;
        field_set(&f, ev, key, &v);
        skip_ws(j);
        if (j->p >= j->end)
            return -1;
        char c = *j->p++;
        if (c == '}')
            break;
        if (c != ',')
            return -1;
        skip_ws(j);
    }
    *reason = fields_finish(&f, ev);
    return 0;
}

static int grow_items(struct ingest_batch *b)
{
    if (b->nitems >= b->max_items)
        return OC_ETOOBIG;
    b->reason = oc_grow(b->reason, &b->cap_items, b->nitems + 1, 1);
    if (b->nev == b->cap_ev) {
        b->cap_ev = b->cap_ev ? b->cap_ev * 2 : 512;
        b->ev = oc_realloc(b->ev, b->cap_ev * sizeof *b->ev);
        b->index = oc_realloc(b->index, b->cap_ev * sizeof *b->index);
        b->leaf = oc_realloc(b->leaf, b->cap_ev * sizeof *b->leaf);
        b->sh = oc_realloc(b->sh, b->cap_ev * sizeof *b->sh);
        b->verdict = oc_realloc(b->verdict, b->cap_ev * sizeof *b->verdict);
    }
    return 0;
}

/* Parses one item at j->p and records it; -1 on a syntax error, OC_ETOOBIG past the cap. */
static int add_item(struct ingest_batch *b, struct jp *j)
{
    uint8_t reason = INGEST_MALFORMED;
    int rc = grow_items(b);
    if (rc != 0)
        return rc;
    if (j->p >= j->end)
        return -1;
    if (*j->p == '{') {
        if (parse_event(j, &b->ev[b->nev], &reason) != 0)
            return -1;
    } else if (skip_value(j, 1) != 0) {
        return -1;
    }
    b->reason[b->nitems] = reason;
    if (reason == INGEST_OK)
        b->index[b->nev++] = (uint32_t)b->nitems;
    b->nitems++;
    return 0;
}

static int parse_array(struct ingest_batch *b, struct jp *j, char *err, size_t errlen)
{
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        goto tail;
    }
    for (;;) {
        int rc = add_item(b, j);
        if (rc == OC_ETOOBIG)
            return rc;
        if (rc != 0)
            goto syntax;
        skip_ws(j);
        if (j->p >= j->end)
            goto syntax;
        char c = *j->p++;
        if (c == ']')
            break;
        if (c != ',')
            goto syntax;
        skip_ws(j);
    }
tail:
    skip_ws(j);
    if (j->p == j->end)
        return 0;
syntax:
    snprintf(err, errlen, "JSON syntax error in the array at byte %zu (item %zu)",
             (size_t)(j->p - j->base), b->nitems);
    return OC_EINVAL;
}

/* NDJSON: one object per line, each parsed within its line, so a bad line is one malformed
 * item and never costs its neighbours (nor is any byte scanned twice). Blank lines are
 * skipped. */
static int parse_lines(struct ingest_batch *b, struct jp *j, char *err, size_t errlen)
{
    const char *end = j->end;
    size_t good = 0;
    while (skip_ws(j), j->p < end) {
        const char *nl = memchr(j->p, '\n', (size_t)(end - j->p));
        j->end = nl ? nl : end;
        int rc = add_item(b, j);
        if (rc == OC_ETOOBIG)
            return rc;
        if (rc == 0) {
            skip_ws(j);
            if (j->p == j->end) {
                good++;
            } else { /* trailing garbage on the line */
                b->reason[b->nitems - 1] = INGEST_MALFORMED;
                if (b->nev > 0 && b->index[b->nev - 1] == b->nitems - 1)
                    b->nev--;
            }
        } else {
            b->reason[b->nitems++] = INGEST_MALFORMED;
        }
        j->p = nl ? nl + 1 : end;
        j->end = end;
    }
    if (b->nitems == 0) {
        snprintf(err, errlen, "empty body");
        return OC_EINVAL;
    }
    if (good == 0) {
        snprintf(err, errlen, "no line of the body is a JSON object");
        return OC_EINVAL;
    }
    return 0;
}

void ingest_batch_init(struct ingest_batch *b, size_t max_items)
{
    memset(b, 0, sizeof *b);
    b->max_items = max_items;
}

void ingest_batch_free(struct ingest_batch *b)
{
    free(b->ev);
    free(b->index);
    free(b->leaf);
    free(b->sh);
    free(b->verdict);
    free(b->reason);
    free(b->scratch);
    memset(b, 0, sizeof *b);
}

int ingest_parse(struct ingest_batch *b, const char *body, size_t len, char *err, size_t errlen)
{
    struct jp j = {body, body + len, body, NULL, 0};
    b->nev = b->nitems = 0;
    if (len + 1 > b->scratch_cap) {
        free(b->scratch);
        b->scratch_cap = len + 1;
        b->scratch = oc_malloc(b->scratch_cap);
    }
    j.scratch = b->scratch;
    skip_ws(&j);
    if (j.p >= j.end) {
        snprintf(err, errlen, "empty body");
        return OC_EINVAL;
    }
    if (*j.p == '[')
        return parse_array(b, &j, err, errlen);
    if (*j.p == '{')
        return parse_lines(b, &j, err, errlen);
    snprintf(err, errlen, "the body is not JSON: expected an array or NDJSON objects");
    return OC_EINVAL;
}
