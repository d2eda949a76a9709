/*
 * cdnlog.c - CDN log lines into edge records and player-side events: Fastly NDJSON (members
 * named as docs/contracts.md lists them), Akamai DataStream 2 JSON and CloudFront real-time
 * log lines (tab-separated, columns as the configuration lists them). Each line's CMCD (a
 * CMCD= query parameter, a cmcd member, CloudFront's cmcd-* columns) goes through cmcd.c.
 * One line at a time, zero-copy; a bad line is one reason, never the batch's end.
 */
#include "ingest/cmcd.h"
#include "ingest/jscan.h"
#include "core/alloc.h"
#include "core/decode.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <string.h>

/* What a column or member means to oncue (ids of struct cdnlog_fields; CMCD keys from
 * F_CMCD_KEY on). */
enum field_id {
    F_SKIP = 0,
    F_TS,           /* unix seconds with a fraction, unix ms, or ISO 8601 */
    F_POP,          /* the edge location */
    F_POP_FALLBACK, /* ... used when no F_POP (Akamai edgeIP) */
    F_STATUS,       /* HTTP status */
    F_CACHE,        /* cache result as a word (HIT, MISS, PASS, RefreshHit, ...) */
    F_AK_CACHED,    /* Akamai cacheStatus: 1 served from cache */
    F_AK_CACHEABLE, /* Akamai cacheable: 0 not cacheable (a pass) */
    F_TTFB_MS,      /* time to first byte, ms */
    F_TTFB_S,       /* ... seconds */
    F_BYTES,        /* bytes sent */
    F_ASN,
    F_COUNTRY,
    F_REGION,
    F_CDN,         /* the CDN's name (a custom field of a multi-CDN log pipeline) */
    F_ISP,         /* the client's network by name (Fastly client.as.name) */
    F_QUERY,       /* a URL or query string holding CMCD= */
    F_CMCD,        /* a CMCD dictionary (or a query string holding CMCD=) */
    F_CMCD_HEADER, /* one of the CMCD-* header values */
    F_CMCD_KEY = 32,
};

struct field_name {
    const char *name;
    uint8_t id;
};

static const struct field_name fastly_fields[] = {
    {"timestamp", F_TS},
    {"time", F_TS},
    {"pop", F_POP},
    {"server_datacenter", F_POP},
    {"status", F_STATUS},
    {"cache_status", F_CACHE},
    {"ttfb_ms", F_TTFB_MS},
    {"time_to_first_byte", F_TTFB_S},
    {"bytes", F_BYTES},
    {"resp_bytes", F_BYTES},
    {"asn", F_ASN},
    {"client_as_number", F_ASN},
    {"country", F_COUNTRY},
    {"geo_country_code", F_COUNTRY},
    {"region", F_REGION},
    {"cdn", F_CDN},
    {"isp", F_ISP},
    {"client_as_name", F_ISP},
    {"url", F_QUERY},
    {"cmcd", F_CMCD},
    {"cmcd_object", F_CMCD_HEADER},
    {"cmcd_request", F_CMCD_HEADER},
    {"cmcd_session", F_CMCD_HEADER},
    {"cmcd_status", F_CMCD_HEADER},
    {0},
};

static const struct field_name akamai_fields[] = {
    {"reqTimeSec", F_TS},
    {"pop", F_POP},
    {"edgeIP", F_POP_FALLBACK},
    {"statusCode", F_STATUS},
    {"cacheStatus", F_AK_CACHED},
    {"cacheable", F_AK_CACHEABLE},
    {"timeToFirstByte", F_TTFB_MS},
    {"bytes", F_BYTES},
    {"asn", F_ASN},
    {"country", F_COUNTRY},
    {"region", F_REGION},
    {"cdn", F_CDN},
    {"isp", F_ISP},
    {"queryStr", F_QUERY},
    {"cmcd", F_CMCD},
    {0},
};

static const struct field_name cloudfront_fields[] = {
    {"timestamp", F_TS},
    {"time-to-first-byte", F_TTFB_S},
    {"sc-status", F_STATUS},
    {"sc-bytes", F_BYTES},
    {"x-edge-location", F_POP},
    {"cs-uri-query", F_QUERY},
    {"x-edge-result-type", F_CACHE},
    {"c-country", F_COUNTRY},
    {"asn", F_ASN},
    {"cmcd-encoded-bitrate", F_CMCD_KEY + CMCD_BR},
    {"cmcd-buffer-length", F_CMCD_KEY + CMCD_BL},
    {"cmcd-buffer-starvation", F_CMCD_KEY + CMCD_BS},
    {"cmcd-content-id", F_CMCD_KEY + CMCD_CID},
    {"cmcd-object-duration", F_CMCD_KEY + CMCD_D},
    {"cmcd-deadline", F_CMCD_KEY + CMCD_DL},
    {"cmcd-measured-throughput", F_CMCD_KEY + CMCD_MTP},
    {"cmcd-object-type", F_CMCD_KEY + CMCD_OT},
    {"cmcd-playback-rate", F_CMCD_KEY + CMCD_PR},
    {"cmcd-requested-maximum-throughput", F_CMCD_KEY + CMCD_RTP},
    {"cmcd-streaming-format", F_CMCD_KEY + CMCD_SF},
    {"cmcd-session-id", F_CMCD_KEY + CMCD_SID},
    {"cmcd-stream-type", F_CMCD_KEY + CMCD_ST},
    {"cmcd-startup", F_CMCD_KEY + CMCD_SU},
    {"cmcd-top-bitrate", F_CMCD_KEY + CMCD_TB},
    {"cmcd-version", F_CMCD_KEY + CMCD_V},
    {0},
};

/* CloudFront's columns when fields= is not given: AWS's reference order of every field. */
static const char cloudfront_default[] =
    "timestamp,c-ip,time-to-first-byte,sc-status,sc-bytes,cs-method,cs-protocol,cs-host,"
    "cs-uri-stem,cs-bytes,x-edge-location,x-edge-request-id,x-host-header,time-taken,"
    "cs-protocol-version,c-ip-version,cs-user-agent,cs-referer,cs-cookie,cs-uri-query,"
    "x-edge-response-result-type,x-forwarded-for,ssl-protocol,ssl-cipher,x-edge-result-type,"
    "fle-encrypted-fields,fle-status,sc-content-type,sc-content-len,sc-range-start,sc-range-end,"
    "c-port,x-edge-detailed-result-type,c-country,cs-accept-encoding,cs-accept,"
    "cache-behavior-path-pattern,cs-headers,cs-header-names,cs-headers-count,"
    "primary-distribution-id,primary-distribution-dns-name,origin-fbl,origin-lbl,asn,"
    "cmcd-encoded-bitrate,cmcd-buffer-length,cmcd-buffer-starvation,cmcd-content-id,"
    "cmcd-object-duration,cmcd-deadline,cmcd-measured-throughput,cmcd-next-object-request,"
    "cmcd-next-range-request,cmcd-object-type,cmcd-playback-rate,"
    "cmcd-requested-maximum-throughput,cmcd-streaming-format,cmcd-session-id,cmcd-stream-type,"
    "cmcd-startup,cmcd-top-bitrate,cmcd-version";

static const char *const format_names[] = {"", "fastly", "akamai", "cloudfront", NULL};

int cdnlog_format_parse(const char *name, enum cdnlog_format *f)
{
    for (int i = 1; name && format_names[i]; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *f = (enum cdnlog_format)i;
            return 0;
        }
    return OC_EINVAL;
}

static uint8_t field_lookup(const struct field_name *t, const char *p, size_t n)
{
    for (; t->name; t++)
        if (n && t->name[0] == p[0] && strlen(t->name) == n && memcmp(t->name, p, n) == 0)
            return t->id;
    return F_SKIP;
}

int cdnlog_fields_parse(const char *list, struct cdnlog_fields *out, char *why, size_t whylen)
{
    const char *p = list ? list : cloudfront_default;
    memset(out, 0, sizeof *out);
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        while (n && p[0] == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 0) {
            snprintf(why, whylen, "fields: an empty name at column %u", out->n + 1);
            return OC_EINVAL;
        }
        if (out->n >= CDNLOG_MAX_FIELDS) {
            snprintf(why, whylen, "fields: more than %d columns", CDNLOG_MAX_FIELDS);
            return OC_EINVAL;
        }
        out->id[out->n++] = field_lookup(cloudfront_fields, p, n);
        if (!c)
            return 0;
        p = c + 1;
    }
}

/* A field's name for an error: a JSON member's key, or a TSV column number (1-based). */
struct fname {
    struct beacon_str key; /* p NULL: column col */
    uint32_t col;
};

/* What one line holds so far. */
struct line {
    struct cmcd c;
    int64_t ts_ms; /* 0: none */
    struct cdn_edge edge;
    struct beacon_str dims[BEACON_NDIMS];
    struct beacon_str pop_fallback;
    int ak_cached, ak_cacheable; /* -1: absent */
    const char *bad;             /* the field that was wrong, with why */
    char why[CMCD_MAX_DETAIL];
    uint8_t reason;
};

/* A non-negative decimal "123.456" times scale (1 or 1000), rounded down: 0 or -1. */
static int dec_scaled(struct beacon_str s, int64_t scale, int64_t *out)
{
    int64_t ip = 0, fp = 0, div = 1;
    uint32_t i = 0;
    for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
        if (i >= 15)
            return -1;
        ip = ip * 10 + (s.p[i] - '0');
    }
    if (i == 0)
        return -1;
    if (i < s.n && s.p[i] == '.') {
        uint32_t f0 = ++i;
        for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++)
            if (i - f0 < 6) {
                fp = fp * 10 + (s.p[i] - '0');
                div *= 10;
            }
        if (i == f0)
            return -1;
    }
    if (i != s.n)
        return -1;
    *out = ip * scale + fp * scale / div;
    return 0;
}

/* A time: ISO 8601, unix ms (>= 1e11) or unix seconds with an optional fraction. */
static int parse_ts(struct beacon_str s, int64_t *ms)
{
    char tmp[48];
    if (s.n >= 10 && s.p[4] == '-') {
        if (s.n >= sizeof tmp)
            return -1;
        memcpy(tmp, s.p, s.n);
        tmp[s.n] = 0;
        return oc_time_parse(tmp, 0, ms) == 0 && *ms > 0 ? 0 : -1;
    }
    int64_t v;
    if (dec_scaled(s, 1, &v) != 0)
        return -1;
    if (v >= 100000000000LL && !memchr(s.p, '.', s.n))
        return (*ms = v) > 0 ? 0 : -1;
    return dec_scaled(s, 1000, ms) == 0 && *ms > 0 ? 0 : -1;
}

static int printable(struct beacon_str s)
{
    if (s.n == 0 || s.n > QOE_MAX_DIM_VALUE)
        return 0;
    for (uint32_t i = 0; i < s.n; i++)
        if (s.p[i] < 0x20 || s.p[i] > 0x7e)
            return 0;
    return 1;
}

static void bad(struct line *l, uint8_t reason, struct fname name, const char *what,
                struct beacon_str v)
{
    char nm[48];
    if (l->reason)
        return;
    if (name.key.p)
        snprintf(nm, sizeof nm, "%.*s", (int)(name.key.n > 40 ? 40 : name.key.n), name.key.p);
    else
        snprintf(nm, sizeof nm, "column %u", name.col);
    l->reason = reason;
    snprintf(l->why, sizeof l->why, "%s: '%.*s' %s", nm, (int)(v.n > 40 ? 40 : v.n), v.p ? v.p : "",
             what);
}

static enum cdn_cache cache_word(struct beacon_str v)
{
    if (v.n >= 3 && (memcmp(v.p, "HIT", 3) == 0 || memcmp(v.p, "Hit", 3) == 0))
        return CDN_CACHE_HIT;
    if (jscan_eq(v, "RefreshHit") || jscan_eq(v, "TCP_HIT") || jscan_eq(v, "TCP_MEM_HIT"))
        return CDN_CACHE_HIT;
    if (v.n >= 4 && (memcmp(v.p, "MISS", 4) == 0 || memcmp(v.p, "Miss", 4) == 0))
        return CDN_CACHE_MISS;
    if (v.n >= 4 && (memcmp(v.p, "PASS", 4) == 0 || memcmp(v.p, "Pass", 4) == 0))
        return CDN_CACHE_PASS;
    return CDN_CACHE_UNKNOWN;
}

/* A CMCD value of a log: a query string holding CMCD=, or a dictionary (percent-encoded when
 * it holds a '%'). */
static void cmcd_text(struct cmcd_batch *b, struct line *l, struct fname name, struct beacon_str v,
                      int query)
{
    int r;
    if (query || memmem(v.p, v.n, "CMCD=", 5)) {
        r = cmcd_parse_query(v.p, v.n, &l->c, b->scratch, &b->used, l->why, sizeof l->why);
    } else if (memchr(v.p, '%', v.n)) {
        struct beacon_str q;
        char *o = b->scratch + b->used;
        size_t len = 0;
        if (oc_percent_decode(v.p, v.n, 0, o, v.n + 1, &len) != 0) {
            bad(l, CMCD_R_BAD_CMCD, name, "has a bad percent-escape", v);
            return;
        }
        b->used += len;
        q = (struct beacon_str){o, (uint32_t)len};
        r = cmcd_parse_dict(q.p, q.n, &l->c, b->scratch, &b->used, l->why, sizeof l->why);
    } else {
        r = cmcd_parse_dict(v.p, v.n, &l->c, b->scratch, &b->used, l->why, sizeof l->why);
    }
    if (r < 0 && !l->reason)
        l->reason = CMCD_R_BAD_CMCD; /* why says which key */
}

/* Applies field id with text v (the name for errors). */
static void field(struct cmcd_batch *b, struct line *l, uint8_t id, struct fname name,
                  struct beacon_str v)
{
    int64_t x;
    if (v.n == 0 || jscan_eq(v, "-"))
        return;
    switch (id) {
    case F_TS:
        if (parse_ts(v, &l->ts_ms) != 0)
            bad(l, CMCD_R_BAD_TS, name, "is not a time (unix seconds, ms or ISO 8601)", v);
        break;
    case F_POP:
    case F_ASN:
    case F_COUNTRY:
    case F_REGION:
    case F_CDN:
    case F_ISP:
    case F_POP_FALLBACK:
        if (!printable(v)) {
            bad(l, CMCD_R_BAD_FIELD, name, "is not 1 to 128 printable ASCII bytes", v);
            break;
        }
        if (id == F_POP_FALLBACK)
            l->pop_fallback = v;
        else
            l->dims[id == F_POP       ? BEACON_POP
                    : id == F_ASN     ? BEACON_ASN
                    : id == F_COUNTRY ? BEACON_COUNTRY
                    : id == F_CDN     ? BEACON_CDN
                    : id == F_ISP     ? BEACON_ISP
                                      : BEACON_REGION] = v;
        break;
    case F_STATUS:
        if (dec_scaled(v, 1, &x) != 0 || x < 100 || x > 599)
            bad(l, CMCD_R_BAD_FIELD, name, "is not an HTTP status (100-599)", v);
        else
            l->edge.status = (int)x;
        break;
    case F_CACHE:
        l->edge.cache = (uint8_t)cache_word(v);
        break;
    case F_AK_CACHED:
    case F_AK_CACHEABLE:
        if (!jscan_eq(v, "0") && !jscan_eq(v, "1"))
            bad(l, CMCD_R_BAD_FIELD, name, "is not 0 or 1", v);
        else if (id == F_AK_CACHED)
            l->ak_cached = v.p[0] == '1';
        else
            l->ak_cacheable = v.p[0] == '1';
        break;
    case F_TTFB_MS:
    case F_TTFB_S:
        if (dec_scaled(v, id == F_TTFB_S ? 1000 : 1, &x) != 0 || x > 86400000)
            bad(l, CMCD_R_BAD_FIELD, name, "is not a non-negative duration", v);
        else
            l->edge.ttfb_ms = x;
        break;
    case F_BYTES:
        if (dec_scaled(v, 1, &x) != 0)
            bad(l, CMCD_R_BAD_FIELD, name, "is not a byte count", v);
        else
            l->edge.bytes = x;
        break;
    case F_QUERY:
    case F_CMCD:
    case F_CMCD_HEADER:
        cmcd_text(b, l, name, v, id == F_QUERY);
        break;
    default:
        if (id >= F_CMCD_KEY &&
            cmcd_set_key(&l->c, (enum cmcd_key)(id - F_CMCD_KEY), v, l->why, sizeof l->why) != 0 &&
            !l->reason)
            l->reason = CMCD_R_BAD_CMCD;
    }
}

/* A JSON line (Fastly, Akamai): its members through table t. */
static void json_line(struct cmcd_batch *b, struct line *l, const struct field_name *t,
                      const char *s, const char *e)
{
    struct jscan j = {s, e, b->scratch, &b->used};
    struct beacon_str k, v;
    int kind, r;
    if (jscan_begin(&j) != 0) {
        l->reason = CMCD_R_MALFORMED;
        snprintf(l->why, sizeof l->why, "not a JSON object");
        return;
    }
    while ((r = jscan_member(&j, &k, &kind, &v)) == 1) {
        uint8_t id = field_lookup(t, k.p, k.n);
        if (id == F_SKIP || kind == JS_NULL)
            continue;
        struct fname name = {k, 0};
        if (kind != JS_STR && kind != JS_NUM)
            bad(l, CMCD_R_BAD_FIELD, name, "is not a string or number", (struct beacon_str){0});
        else
            field(b, l, id, name, v);
    }
    if (r != 0 || jscan_end(&j) != 0) {
        l->reason = CMCD_R_MALFORMED;
        snprintf(l->why, sizeof l->why, "not one JSON object (a syntax error)");
    }
}

/* A CloudFront line: tab-separated columns as fields says. */
static void tsv_line(struct cmcd_batch *b, struct line *l, const struct cdnlog_fields *fields,
                     const char *s, const char *e)
{
    uint32_t col = 0;
    while (s <= e) {
        const char *tab = memchr(s, '\t', (size_t)(e - s));
        const char *stop = tab ? tab : e;
        if (col >= fields->n) {
            l->reason = CMCD_R_MALFORMED;
            snprintf(l->why, sizeof l->why, "more than the %u columns of fields", fields->n);
            return;
        }
        uint8_t id = fields->id[col];
        if (id != F_SKIP) {
            struct fname name = {{NULL, 0}, col + 1};
            field(b, l, id, name, (struct beacon_str){s, (uint32_t)(stop - s)});
        }
        col++;
        if (!tab)
            break;
        s = tab + 1;
    }
    if (col != fields->n && !l->reason) {
        l->reason = CMCD_R_MALFORMED;
        snprintf(l->why, sizeof l->why, "%u columns where fields lists %u", col, fields->n);
    }
}

/* The verdict of a parsed line: its edge record and, with a CMCD sid, its event. */
static void finish(struct cmcd_batch *b, size_t n, struct line *l, const struct cmcd_dims *dims)
{
    if (!l->reason && !l->ts_ms) {
        l->reason = CMCD_R_MISSING_TS;
        snprintf(l->why, sizeof l->why, "no request time in the line");
    }
    if (l->reason) {
        cmcd_batch_reject(b, n, l->reason, "%s", l->why);
        return;
    }
    if (!l->dims[BEACON_POP].p && l->pop_fallback.p)
        l->dims[BEACON_POP] = l->pop_fallback;
    if (l->ak_cached >= 0)
        l->edge.cache = l->ak_cached           ? CDN_CACHE_HIT
                        : l->ak_cacheable == 0 ? CDN_CACHE_PASS
                                               : CDN_CACHE_MISS;
    l->edge.ts_ms = l->ts_ms;
    l->edge.pop = l->dims[BEACON_POP];
    if (b->nedge == b->cap_edge)
        b->edge = oc_grow(b->edge, &b->cap_edge, b->nedge + 1, sizeof *b->edge);
    b->edge[b->nedge++] = l->edge;
    /* the player side (with a sid), and the request itself as an edge event with the same
     * dimensions, so both land in one leaf */
    struct beacon_event pe;
    int player = CMCD_HAS(&l->c, CMCD_SID) && cmcd_to_event(&l->c, l->ts_ms, &pe) == 0;
    if (!player) {
        memset(&pe, 0, sizeof pe);
        pe.ts_ms = l->ts_ms;
        if (CMCD_HAS(&l->c, CMCD_CID))
            pe.dims[BEACON_TITLE] = l->c.cid;
    }
    pe.dims[BEACON_CDN] = (struct beacon_str){0}; /* the log says which CDN served it */
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (l->dims[d].p)
            pe.dims[d] = l->dims[d];
    cmcd_apply_dims(&pe, dims);
    if (player && !(dims && dims->edge_only))
        *cmcd_batch_event(b, n) = pe;
    struct beacon_event *ee = cmcd_batch_event(b, n);
    *ee = (struct beacon_event){.ts_ms = l->ts_ms,
                                .type = BEACON_EDGE,
                                .edge_status = l->edge.status,
                                .edge_miss = l->edge.cache == CDN_CACHE_MISS,
                                .edge_origin = l->edge.cache == CDN_CACHE_MISS ||
                                               l->edge.cache == CDN_CACHE_PASS,
                                .edge_ttfb_ms = l->edge.ttfb_ms};
    memcpy(ee->dims, pe.dims, sizeof ee->dims);
}

int cdnlog_parse(struct cmcd_batch *b, enum cdnlog_format f, const struct cdnlog_fields *fields,
                 const char *body, size_t len, const struct cmcd_dims *dims)
{
    const char *p = body, *end = body + len;
    struct cdnlog_fields def;
    char why[CMCD_MAX_DETAIL];
    if (f == CDNLOG_CLOUDFRONT && !fields) {
        cdnlog_fields_parse(NULL, &def, why, sizeof why);
        fields = &def;
    }
    cmcd_batch_reset(b, len);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl ? nl : end;
        p = e + 1;
        if (e > s && e[-1] == '\r')
            e--;
        if (f != CDNLOG_CLOUDFRONT)
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
        if (s == e || (f == CDNLOG_CLOUDFRONT && *s == '#'))
            continue;
        if (cmcd_batch_line(b) != 0)
            return OC_ETOOBIG;
        size_t n = b->nlines - 1;
        if (e - s > CMCD_MAX_LINE) {
            cmcd_batch_reject(b, n, CMCD_R_TOO_LONG, "longer than %d bytes", CMCD_MAX_LINE);
            continue;
        }
        struct line l;
        memset(&l, 0, sizeof l);
        l.edge.ttfb_ms = l.edge.bytes = -1;
        l.ak_cached = l.ak_cacheable = -1;
        if (f == CDNLOG_CLOUDFRONT)
            tsv_line(b, &l, fields, s, e);
        else
            json_line(b, &l, f == CDNLOG_FASTLY ? fastly_fields : akamai_fields, s, e);
        finish(b, n, &l, dims);
    }
    return 0;
}
