/*
 * cmcd.c - CMCD payloads (CTA-5004, CTA-5004-A): the dictionary form shared by the CMCD=
 * query parameter, the four CMCD-Object/Request/Session/Status headers and the event-mode
 * body; the mapping of one payload onto a beacon event; POST /v1/cmcd bodies; the batch that
 * cdnlog.c fills too, and its fold into the cube. Zero-copy: strings are slices of the input
 * unless they had escapes (then in the batch's scratch). See docs/internals/cmcd.md.
 */
#include "ingest/cmcd.h"
#include "ingest/jscan.h"
#include "core/alloc.h"
#include "core/decode.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cmcd_reason_names[CMCD_NREASONS] = {
    "ok",          "malformed", "too_long",  "missing_ts", "bad_ts",
    "missing_sid", "bad_cmcd",  "bad_field", "too_old",    "too_far_future",
};

enum key_kind { K_INT = 1, K_STR, K_TOKEN, K_BOOL, K_DEC };

struct key_def {
    const char *name;
    enum cmcd_key key;
    enum key_kind kind;
    size_t off; /* into struct cmcd */
};

#define O(f) offsetof(struct cmcd, f)
/* Looked up by a linear scan: 24 short names, the first byte rules out most of them. */
static const struct key_def key_defs[] = {
    {"br", CMCD_BR, K_INT, O(br)},
    {"bl", CMCD_BL, K_INT, O(bl)},
    {"bs", CMCD_BS, K_BOOL, O(bs)},
    {"bsd", CMCD_BSD, K_INT, O(bsd)},
    {"cdn", CMCD_CDN, K_STR, O(cdn)},
    {"cid", CMCD_CID, K_STR, O(cid)},
    {"d", CMCD_D, K_INT, O(d)},
    {"dl", CMCD_DL, K_INT, O(dl)},
    {"e", CMCD_E, K_TOKEN, O(e)},
    {"ltc", CMCD_LTC, K_INT, O(ltc)},
    {"msd", CMCD_MSD, K_INT, O(msd)},
    {"mtp", CMCD_MTP, K_INT, O(mtp)},
    {"ot", CMCD_OT, K_TOKEN, O(ot)},
    {"pr", CMCD_PR, K_DEC, O(pr)},
    {"rtp", CMCD_RTP, K_INT, O(rtp)},
    {"sf", CMCD_SF, K_TOKEN, O(sf)},
    {"sid", CMCD_SID, K_STR, O(sid)},
    {"st", CMCD_ST, K_TOKEN, O(st)},
    {"sta", CMCD_STA, K_TOKEN, O(sta)},
    {"su", CMCD_SU, K_BOOL, O(su)},
    {"tb", CMCD_TB, K_INT, O(tb)},
    {"ts", CMCD_TS, K_INT, O(ts)},
    {"ttfb", CMCD_TTFB, K_INT, O(ttfb)},
    {"v", CMCD_V, K_INT, O(v)},
    {0},
};
#undef O

#define CMCD_MAX_INT    1000000000000000LL /* 1e15: larger integers are refused */
#define CMCD_MAX_STRING 256                /* bytes of a string value (sid, cid, cdn) */

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
           c == '*' || (c >= 'A' && c <= 'Z');
}

static int is_token_char(char c)
{
    return c > 0x20 && c < 0x7f && c != ',' && c != ';' && c != '"' && c != '(' && c != ')' &&
           c != '=';
}

static const struct key_def *find_key(const char *k, size_t n)
{
    for (const struct key_def *d = key_defs; d->name; d++)
        if (d->name[0] == k[0] && strlen(d->name) == n && memcmp(d->name, k, n) == 0)
            return d;
    return NULL;
}

/* A quoted string at *pp (on the quote) into out: printable ASCII, \" and \\ escapes. */
static int sf_string(const char **pp, const char *end, struct beacon_str *out, char *scratch,
                     size_t *used)
{
    const char *q = *pp + 1, *s = q;
    while (q < end && *q != '"' && *q != '\\' && *q >= 0x20 && *q < 0x7f)
        q++;
    if (q < end && *q == '"') {
        *out = (struct beacon_str){s, (uint32_t)(q - s)};
        *pp = q + 1;
        return 0;
    }
    char *o = scratch + *used, *start = o;
    memcpy(o, s, (size_t)(q - s));
    o += q - s;
    while (q < end && *q != '"') {
        if (*q < 0x20 || *q >= 0x7f)
            return -1;
        if (*q == '\\') {
            if (q + 1 >= end || (q[1] != '"' && q[1] != '\\'))
                return -1;
            q++;
        }
        *o++ = *q++;
    }
    if (q >= end)
        return -1;
    *out = (struct beacon_str){start, (uint32_t)(o - start)};
    *used += (size_t)(o - start);
    *pp = q + 1;
    return 0;
}

/* A bare item (token, number, ?0/?1) at *pp: its text up to , ; ( ) space or the end. */
static struct beacon_str bare(const char **pp, const char *end)
{
    const char *s = *pp;
    while (*pp < end && is_token_char(**pp))
        (*pp)++;
    return (struct beacon_str){s, (uint32_t)(*pp - s)};
}

static int to_int(struct beacon_str s, int64_t *out)
{
    int64_t v = 0;
    if (s.n == 0 || s.n > 16)
        return -1;
    for (uint32_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    if (v > CMCD_MAX_INT)
        return -1;
    *out = v;
    return 0;
}

static int to_dec(struct beacon_str s, double *out)
{
    int64_t ip = 0, fp = 0;
    double scale = 1;
    uint32_t i = 0;
    for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && i < 12; i++)
        ip = ip * 10 + (s.p[i] - '0');
    if (i == 0)
        return -1;
    if (i < s.n && s.p[i] == '.') {
        uint32_t f0 = ++i;
        for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && i - f0 < 3; i++) {
            fp = fp * 10 + (s.p[i] - '0');
            scale *= 10;
        }
        if (i == f0)
            return -1;
    }
    if (i != s.n)
        return -1;
    *out = (double)ip + (double)fp / scale;
    return 0;
}

/* One value of key d at *pp into c. An inner list `(a b)` keeps its first item (v2 sends
 * per-object lists for some keys). 0, or -1 with why. */
static int key_value(const struct key_def *d, const char **pp, const char *end, struct cmcd *c,
                     char *scratch, size_t *used, char *why, size_t whylen)
{
    struct beacon_str s = {0};
    int quoted = 0, list = 0;
    if (*pp < end && **pp == '(') {
        list = 1;
        (*pp)++;
    }
    if (*pp < end && **pp == '"') {
        quoted = 1;
        if (!scratch || sf_string(pp, end, &s, scratch, used) != 0) { /* no scratch: numbers only */
            snprintf(why, whylen, "CMCD key '%s': an unterminated or invalid string", d->name);
            return -1;
        }
    } else {
        s = bare(pp, end);
    }
    if (list) { /* skip the rest of the inner list */
        while (*pp < end && **pp != ')') {
            if (**pp == '"') {
                struct beacon_str t;
                if (!scratch || sf_string(pp, end, &t, scratch, used) != 0)
                    break;
            } else {
                (*pp)++;
            }
        }
        if (*pp >= end) {
            snprintf(why, whylen, "CMCD key '%s': an inner list without ')'", d->name);
            return -1;
        }
        (*pp)++;
    }
    void *f = (char *)c + d->off;
    switch (d->kind) {
    case K_INT:
        if (quoted || to_int(s, (int64_t *)f) != 0)
            goto bad;
        break;
    case K_DEC:
        if (quoted || to_dec(s, (double *)f) != 0)
            goto bad;
        break;
    case K_BOOL:
        if (s.n == 2 && s.p[0] == '?' && (s.p[1] == '0' || s.p[1] == '1'))
            *(uint8_t *)f = (uint8_t)(s.p[1] - '0');
        else
            goto bad;
        break;
    case K_STR:
    case K_TOKEN:
        if (s.n == 0 || s.n > CMCD_MAX_STRING)
            goto bad;
        *(struct beacon_str *)f = s;
        break;
    }
    c->has |= 1u << d->key;
    return 0;
bad:
    snprintf(why, whylen, "CMCD key '%s': '%.*s' is not %s", d->name, (int)(s.n > 40 ? 40 : s.n),
             s.p ? s.p : "",
             d->kind == K_INT    ? "a non-negative integer"
             : d->kind == K_DEC  ? "a decimal"
             : d->kind == K_BOOL ? "a boolean (the key alone, ?1 or ?0)"
                                 : "a string of 1 to 256 bytes");
    return -1;
}

/* Skips a value of a key oncue does not read (and parameters ;a=b after any value). */
static int skip_value(const char **pp, const char *end, char *scratch, size_t *used)
{
    struct beacon_str t;
    int depth = 0;
    while (*pp < end && (depth > 0 || (**pp != ','))) {
        char ch = **pp;
        if (ch == '"') {
            if (sf_string(pp, end, &t, scratch, used) != 0)
                return -1;
            continue;
        }
        if (ch == '(')
            depth++;
        else if (ch == ')' && --depth < 0)
            return -1;
        (*pp)++;
    }
    return depth == 0 ? 0 : -1;
}

int cmcd_parse_dict(const char *p, size_t n, struct cmcd *c, char *scratch, size_t *used, char *why,
                    size_t whylen)
{
    const char *end = p + n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break;
        const char *k = p;
        while (p < end && is_key_char(*p))
            p++;
        size_t kn = (size_t)(p - k);
        if (kn == 0) {
            snprintf(why, whylen, "CMCD: a key is expected at '%.*s'",
                     (int)(end - k > 20 ? 20 : end - k), k);
            return -1;
        }
        const struct key_def *d = find_key(k, kn);
        if (p < end && *p == '=') {
            p++;
            if (d ? key_value(d, &p, end, c, scratch, used, why, whylen) != 0
                  : skip_value(&p, end, scratch, used) != 0) {
                if (!d)
                    snprintf(why, whylen, "CMCD key '%.*s': an invalid value", (int)kn, k);
                return -1;
            }
        } else if (d && d->kind == K_BOOL) { /* a key alone is true */
            *((uint8_t *)c + d->off) = 1;
            c->has |= 1u << d->key;
        } else if (d) {
            snprintf(why, whylen, "CMCD key '%s' needs a value", d->name);
            return -1;
        }
        if (p < end && *p == ';' && skip_value(&p, end, scratch, used) != 0) {
            snprintf(why, whylen, "CMCD key '%.*s': invalid parameters", (int)kn, k);
            return -1;
        }
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p != ',') {
            snprintf(why, whylen, "CMCD: ',' expected after key '%.*s'", (int)kn, k);
            return -1;
        }
        p++;
    }
    return 0;
}

int cmcd_parse_query(const char *p, size_t n, struct cmcd *c, char *scratch, size_t *used,
                     char *why, size_t whylen)
{
    const char *end = p + n, *q = memchr(p, '?', n);
    if (q)
        p = q + 1;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop - p >= 5 && memcmp(p, "CMCD=", 5) == 0) {
            size_t len = 0;
            char *o = scratch + *used;
            if (oc_percent_decode(p + 5, (size_t)(stop - p - 5), OC_PCT_PLUS, o,
                                  (size_t)(stop - p - 5) + 1, &len) != 0) {
                snprintf(why, whylen, "CMCD: a bad percent-escape in the CMCD= parameter");
                return -1;
            }
            *used += len;
            return cmcd_parse_dict(o, len, c, scratch, used, why, whylen) == 0 ? 1 : -1;
        }
        p = stop + 1;
    }
    return 0;
}

int cmcd_set_key(struct cmcd *c, enum cmcd_key k, struct beacon_str v, char *why, size_t whylen)
{
    const struct key_def *d = NULL;
    for (const struct key_def *e = key_defs; e->name; e++)
        if (e->key == k)
            d = e;
    if (!d || v.n == 0)
        return 0;
    if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"') /* a log may keep the quotes */
        v = (struct beacon_str){v.p + 1, v.n - 2};
    if (d->kind == K_BOOL) {
        int t = jscan_eq(v, "1") || jscan_eq(v, "true") || jscan_eq(v, "?1");
        if (!t && !jscan_eq(v, "0") && !jscan_eq(v, "false") && !jscan_eq(v, "?0")) {
            snprintf(why, whylen, "CMCD key '%s': '%.*s' is not a boolean", d->name,
                     (int)(v.n > 40 ? 40 : v.n), v.p);
            return -1;
        }
        *((uint8_t *)c + d->off) = (uint8_t)t;
        c->has |= 1u << d->key;
        return 0;
    }
    if (d->kind == K_STR || d->kind == K_TOKEN) {
        if (v.n == 0 || v.n > CMCD_MAX_STRING) {
            snprintf(why, whylen, "CMCD key '%s': not 1 to %d bytes", d->name, CMCD_MAX_STRING);
            return -1;
        }
        *(struct beacon_str *)((char *)c + d->off) = v;
        c->has |= 1u << d->key;
        return 0;
    }
    const char *p = v.p;
    if (key_value(d, &p, v.p + v.n, c, NULL, NULL, why, whylen) != 0)
        return -1;
    if (p != v.p + v.n) {
        snprintf(why, whylen, "CMCD key '%s': '%.*s' is not a number", d->name,
                 (int)(v.n > 40 ? 40 : v.n), v.p);
        c->has &= ~(1u << d->key);
        return -1;
    }
    return 0;
}

int cmcd_to_event(const struct cmcd *c, int64_t ts_ms, struct beacon_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (!CMCD_HAS(c, CMCD_SID))
        return CMCD_R_MISSING_SID;
    ev->ts_ms = ts_ms;
    ev->session = c->sid;
    if (CMCD_HAS(c, CMCD_CID))
        ev->dims[BEACON_TITLE] = c->cid;
    if (CMCD_HAS(c, CMCD_CDN))
        ev->dims[BEACON_CDN] = c->cdn;
    if (CMCD_HAS(c, CMCD_ST))
        ev->dims[BEACON_LIVE] =
            c->st.p[0] == 'l' ? (struct beacon_str){"true", 4} : (struct beacon_str){"false", 5};
    char sta = CMCD_HAS(c, CMCD_STA) && c->sta.n == 1 ? c->sta.p[0] : 0;
    if (CMCD_HAS(c, CMCD_MSD)) {
        ev->type = BEACON_START;
        ev->outcome = BEACON_SUCCESS;
        ev->startup_ms = c->msd;
    } else if (sta == 'f' || (CMCD_HAS(c, CMCD_E) && jscan_eq(c->e, "e"))) {
        ev->type = BEACON_ERROR;
    } else if (sta == 'e' || sta == 'q') {
        ev->type = BEACON_END;
    } else {
        ev->type = BEACON_HEARTBEAT;
        /* media time delivered: video (or muxed) objects only, so audio does not count twice */
        int media = !CMCD_HAS(c, CMCD_OT) || jscan_eq(c->ot, "v") || jscan_eq(c->ot, "av");
        if (media && CMCD_HAS(c, CMCD_D))
            ev->playing_ms = c->d;
        if (CMCD_HAS(c, CMCD_BR) && media)
            ev->bitrate_kbps = (double)c->br;
        if (CMCD_HAS(c, CMCD_BSD))
            ev->rebuffer_ms = c->bsd;
        ev->stalled = (CMCD_HAS(c, CMCD_BS) && c->bs) || sta == 'r' || ev->rebuffer_ms > 0;
    }
    return 0;
}

void cmcd_batch_init(struct cmcd_batch *b, size_t max_lines)
{
    memset(b, 0, sizeof *b);
    b->max_lines = max_lines;
}

void cmcd_batch_free(struct cmcd_batch *b)
{
    free(b->ev);
    free(b->ev_line);
    free(b->leaf);
    free(b->sh);
    free(b->verdict);
    free(b->edge);
    free(b->reason);
    free(b->scratch);
    memset(b, 0, sizeof *b);
}

/* Empties b for a body of len bytes (scratch: three times the body, the most that JSON
 * unescaping, percent-decoding and string unescaping of the same bytes can take). */
void cmcd_batch_reset(struct cmcd_batch *b, size_t len)
{
    b->nev = b->nedge = b->nlines = b->rejected = b->nerrors = b->used = 0;
    if (3 * len + 16 > b->scratch_cap) {
        free(b->scratch);
        b->scratch_cap = 3 * len + 16;
        b->scratch = oc_malloc(b->scratch_cap);
    }
}

/* A new line: its reason slot (OK). 0, or OC_ETOOBIG past the cap. */
int cmcd_batch_line(struct cmcd_batch *b)
{
    if (b->nlines >= b->max_lines)
        return OC_ETOOBIG;
    b->reason = oc_grow(b->reason, &b->cap_lines, b->nlines + 1, 1);
    b->reason[b->nlines++] = CMCD_OK;
    return 0;
}

/* Room for one more event: its slot. */
struct beacon_event *cmcd_batch_event(struct cmcd_batch *b, size_t line)
{
    if (b->nev == b->cap_ev) {
        b->cap_ev = b->cap_ev ? b->cap_ev * 2 : 512;
        b->ev = oc_realloc(b->ev, b->cap_ev * sizeof *b->ev);
        b->ev_line = oc_realloc(b->ev_line, b->cap_ev * sizeof *b->ev_line);
        b->leaf = oc_realloc(b->leaf, b->cap_ev * sizeof *b->leaf);
        b->sh = oc_realloc(b->sh, b->cap_ev * sizeof *b->sh);
        b->verdict = oc_realloc(b->verdict, b->cap_ev * sizeof *b->verdict);
    }
    b->ev_line[b->nev] = (uint32_t)line;
    return &b->ev[b->nev++];
}

void cmcd_batch_reject(struct cmcd_batch *b, size_t line, int reason, const char *fmt, ...)
{
    if (b->reason[line] == CMCD_OK)
        b->rejected++;
    b->reason[line] = (uint8_t)reason;
    if (b->nerrors >= CMCD_MAX_ERRORS)
        return;
    struct cmcd_error *e = &b->errors[b->nerrors++];
    va_list ap;
    va_start(ap, fmt);
    e->line = (uint32_t)line + 1;
    e->reason = (uint8_t)reason;
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
}

/* The defaults of dims into ev's absent dimensions. */
void cmcd_apply_dims(struct beacon_event *ev, const struct cmcd_dims *dims)
{
    for (int d = 0; dims && d < BEACON_NDIMS; d++)
        if (!ev->dims[d].p && dims->d[d].p)
            ev->dims[d] = dims->d[d];
}

/* A JSON report's members into c: each CMCD key as a JSON string, number or boolean. */
static int json_report(struct jscan *j, struct cmcd *c, char *why, size_t whylen)
{
    struct beacon_str k, v;
    int kind, r;
    char text[CMCD_MAX_STRING + 8];
    if (jscan_begin(j) != 0)
        return -1;
    while ((r = jscan_member(j, &k, &kind, &v)) == 1) {
        const struct key_def *d = find_key(k.p, k.n);
        if (!d || kind == JS_NULL)
            continue;
        size_t tn = 0;
        if (kind == JS_STR && (d->kind == K_STR || d->kind == K_TOKEN)) {
            if (v.n == 0 || v.n > CMCD_MAX_STRING)
                goto bad;
            *(struct beacon_str *)((char *)c + d->off) = v;
            c->has |= 1u << d->key;
            continue;
        }
        if (kind == JS_TRUE || kind == JS_FALSE) {
            if (d->kind != K_BOOL)
                goto bad;
            *((uint8_t *)c + d->off) = kind == JS_TRUE;
            c->has |= 1u << d->key;
            continue;
        }
        if (kind == JS_NUM && (d->kind == K_STR || d->kind == K_TOKEN)) {
            *(struct beacon_str *)((char *)c + d->off) = v; /* a slice of the input */
            c->has |= 1u << d->key;
            continue;
        }
        if (kind != JS_NUM || d->kind == K_BOOL || v.n > CMCD_MAX_STRING)
            goto bad;
        memcpy(text, v.p, v.n);
        tn = v.n;
        const char *tp = text;
        if (key_value(d, &tp, text + tn, c, NULL, NULL, why, whylen) != 0)
            return -2;
        continue;
    bad:
        snprintf(why, whylen, "CMCD key '%s': wrong JSON type", d->name);
        return -2;
    }
    return r == 0 ? 0 : -1;
}

/* The checks and mapping of one parsed report c of line into b. */
static void report_event(struct cmcd_batch *b, size_t line, const struct cmcd *c,
                         const struct cmcd_dims *dims)
{
    if (!CMCD_HAS(c, CMCD_TS)) {
        cmcd_batch_reject(b, line, CMCD_R_MISSING_TS, "CMCD key 'ts' (unix ms) is required");
        return;
    }
    if (c->ts <= 0 || (c->ts >= 100000000LL && c->ts < 100000000000LL)) {
        cmcd_batch_reject(b, line, CMCD_R_BAD_TS, "CMCD key 'ts': %lld is not unix milliseconds",
                          (long long)c->ts);
        return;
    }
    struct beacon_event *ev = cmcd_batch_event(b, line);
    if (cmcd_to_event(c, c->ts, ev) != 0) {
        b->nev--;
        cmcd_batch_reject(b, line, CMCD_R_MISSING_SID, "CMCD key 'sid' (the session) is required");
        return;
    }
    cmcd_apply_dims(ev, dims);
}

/* One JSON report at j into b (j ends after it); -1 when the rest of the body cannot be
 * scanned (a syntax error: the report is malformed). */
static int json_line(struct cmcd_batch *b, size_t line, struct jscan *j,
                     const struct cmcd_dims *dims)
{
    struct cmcd c = {0};
    char why[CMCD_MAX_DETAIL];
    int r = json_report(j, &c, why, sizeof why);
    if (r == -1) {
        cmcd_batch_reject(b, line, CMCD_R_MALFORMED, "not a JSON object");
        return -1;
    }
    if (r == -2) {
        cmcd_batch_reject(b, line, CMCD_R_BAD_CMCD, "%s", why);
        return -1;
    }
    report_event(b, line, &c, dims);
    return 0;
}

/* A JSON array of reports: each object is one report, numbered from 1. */
static int report_array(struct cmcd_batch *b, const char *p, const char *end,
                        const struct cmcd_dims *dims)
{
    struct jscan j = {p + 1, end, b->scratch, &b->used};
    for (;;) {
        while (j.p < j.end && (*j.p == ' ' || *j.p == '\t' || *j.p == '\r' || *j.p == '\n'))
            j.p++;
        if (j.p >= j.end || *j.p == ']')
            return 0;
        if (cmcd_batch_line(b) != 0)
            return OC_ETOOBIG;
        if (json_line(b, b->nlines - 1, &j, dims) != 0)
            return 0; /* the rest cannot be delimited */
        while (j.p < j.end && (*j.p == ' ' || *j.p == '\t' || *j.p == '\r' || *j.p == '\n'))
            j.p++;
        if (j.p < j.end && *j.p == ',')
            j.p++;
    }
}

/* One line of an event-mode body: a CMCD dictionary or a JSON object. */
static void text_line(struct cmcd_batch *b, size_t line, const char *s, const char *e,
                      const struct cmcd_dims *dims)
{
    struct cmcd c = {0};
    char why[CMCD_MAX_DETAIL];
    if (*s == '{') { /* the whole line must be the object: checked before its event is kept */
        struct jscan j = {s, e, b->scratch, &b->used};
        int r = json_report(&j, &c, why, sizeof why);
        if (r == -2)
            cmcd_batch_reject(b, line, CMCD_R_BAD_CMCD, "%s", why);
        else if (r != 0 || jscan_end(&j) != 0)
            cmcd_batch_reject(b, line, CMCD_R_MALFORMED, "not one JSON object");
        else
            report_event(b, line, &c, dims);
        return;
    }
    if (cmcd_parse_dict(s, (size_t)(e - s), &c, b->scratch, &b->used, why, sizeof why) != 0) {
        cmcd_batch_reject(b, line, CMCD_R_BAD_CMCD, "%s", why);
        return;
    }
    report_event(b, line, &c, dims);
}

int cmcd_parse_events(struct cmcd_batch *b, const char *body, size_t len,
                      const struct cmcd_dims *dims)
{
    const char *p = body, *end = body + len;
    cmcd_batch_reset(b, len);
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p < end && *p == '[')
        return report_array(b, p, end, dims);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end, *s = p, *e = stop;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        p = stop + 1;
        if (s == e)
            continue;
        if (cmcd_batch_line(b) != 0)
            return OC_ETOOBIG;
        if (e - s > CMCD_MAX_LINE)
            cmcd_batch_reject(b, b->nlines - 1, CMCD_R_TOO_LONG, "longer than %d bytes",
                              CMCD_MAX_LINE);
        else
            text_line(b, b->nlines - 1, s, e, dims);
    }
    return 0;
}

int cmcd_batch_keep(struct cmcd_batch *b, const uint8_t *bits, uint32_t nev)
{
    size_t k = 0;
    if (b->nev != nev)
        return OC_EINVAL;
    for (size_t i = 0; i < b->nev; i++)
        if (bits[i / 8] & (1u << (i % 8))) {
            b->ev[k] = b->ev[i];
            b->ev_line[k++] = b->ev_line[i];
        }
    b->nev = k;
    return 0;
}

size_t cmcd_fold(struct qoe_cube *c, struct cmcd_batch *b, _Atomic uint64_t *rejected)
{
    struct qoe_fold f = {b->ev, b->nev, b->leaf, b->sh, b->verdict, b->principal};
    size_t ok = b->nev ? qoe_cube_add(c, &f) : 0;
    for (size_t i = 0; i < b->nev; i++) {
        if (b->reason[b->ev_line[i]] != CMCD_OK) /* a line's edge and player events */
            continue;
        if (b->verdict[i] == QOE_FOLD_TOO_OLD)
            cmcd_batch_reject(b, b->ev_line[i], CMCD_R_TOO_OLD,
                              "its minute has closed (older than ingest.allowed_lateness_s)");
        else if (b->verdict[i] == QOE_FOLD_TOO_FAR_FUTURE)
            cmcd_batch_reject(b, b->ev_line[i], CMCD_R_TOO_FAR_FUTURE,
                              "further ahead of the server's clock than ingest.max_future_skew_s");
    }
    for (size_t i = 0; rejected && i < b->nlines; i++)
        if (b->reason[i] != CMCD_OK)
            atomic_fetch_add(&rejected[b->reason[i]], 1);
    return ok;
}
