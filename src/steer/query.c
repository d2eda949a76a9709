/*
 * query.c - the steering request's query string parser (untrusted bytes).
 *
 * Players append _HLS_pathway and _HLS_throughput (plain values) or _DASH_pathway and
 * _DASH_throughput (the pathway quoted, both URL-encoded, both comma lists when several
 * pathways were used since the last poll) to the SERVER-URI or RELOAD-URI. No allocation:
 * everything lands in the fixed-size struct steer_query, and every list and value is capped.
 */
#include "steer/steer.h"
#include "core/decode.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 1024 /* bytes of one decoded value */

/* Where a parameter's value goes. */
enum field {
    F_PATHWAY = 1,
    F_THROUGHPUT,
    F_ATTR,
};

struct param {
    const char *name; /* parameter name as sent */
    enum field field; /* how it is parsed */
    int dash;         /* 1 for the _DASH_ forms */
    size_t offset;    /* for F_ATTR: offsetof(struct steer_query, x) */
};

static const struct param params[] = {
    {"_HLS_pathway", F_PATHWAY, 0, 0},
    {"_HLS_throughput", F_THROUGHPUT, 0, 0},
    {"_DASH_pathway", F_PATHWAY, 1, 0},
    {"_DASH_throughput", F_THROUGHPUT, 1, 0},
    {"region", F_ATTR, 0, offsetof(struct steer_query, region)},
    {"country", F_ATTR, 0, offsetof(struct steer_query, country)},
    {"isp", F_ATTR, 0, offsetof(struct steer_query, isp)},
    {"asn", F_ATTR, 0, offsetof(struct steer_query, asn)},
    {"device", F_ATTR, 0, offsetof(struct steer_query, device)},
    {"session", F_ATTR, 0, offsetof(struct steer_query, session)},
    {0},
};

static int id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int steer_id_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++)
        if (n >= STEER_ID_MAX || !id_char((unsigned char)s[n]))
            return 0;
    return n > 0;
}

/* Strips one pair of surrounding double quotes (the DASH form) in place. */
static char *unquote(char *v, size_t *len)
{
    if (*len >= 2 && v[0] == '"' && v[*len - 1] == '"') {
        v[*len - 1] = '\0';
        *len -= 2;
        return v + 1;
    }
    return v;
}

/* Copies one identifier item [p, p+n) into dst after checking it. */
static int copy_id(char *dst, const char *p, size_t n)
{
    if (n == 0 || n > STEER_ID_MAX)
        return n == 0 ? OC_EINVAL : OC_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        if (!id_char((unsigned char)p[i]))
            return OC_EINVAL;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* Parses one throughput item: a finite, non-negative decimal number of bit/s. */
static int parse_bps(const char *p, size_t n, double *out)
{
    char tmp[32], *end = NULL;
    if (n == 0 || n >= sizeof(tmp))
        return n == 0 ? OC_EINVAL : OC_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
            return OC_EINVAL;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    double v = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v) || v > 1e13)
        return OC_EINVAL;
    *out = v;
    return 0;
}

/* Splits v on commas and parses each item into the pathway or throughput list. An empty
 * value is an empty list (dash.js sends "_DASH_throughput=" on its first poll); an empty
 * throughput item is a pathway without a measurement, kept as NAN so the list stays parallel
 * to the pathways (dash.js sends "_DASH_throughput=124141000," after a switch). */
static int parse_list(struct steer_query *q, enum field f, const char *v, size_t len)
{
    size_t start = 0;
    if (len == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && v[i] != ',')
            continue;
        int rc;
        if (f == F_PATHWAY) {
            if (q->npathway >= STEER_MAX_LIST)
                return OC_ETOOBIG;
            rc = copy_id(q->pathway[q->npathway], v + start, i - start);
            q->npathway += rc == 0;
        } else {
            if (q->nthroughput >= STEER_MAX_LIST)
                return OC_ETOOBIG;
            q->throughput[q->nthroughput] = NAN;
            rc = i == start ? 0 : parse_bps(v + start, i - start, &q->throughput[q->nthroughput]);
            q->nthroughput += rc == 0;
        }
        if (rc)
            return rc;
        start = i + 1;
    }
    return 0;
}

/* Handles one key=value pair; seen tracks first occurrences per params[] index. */
static int parse_pair(struct steer_query *q, const char *p, size_t n, unsigned *seen)
{
    char key[32], val[VALUE_MAX];
    size_t klen = 0, vlen = 0;
    const char *eq = memchr(p, '=', n);
    size_t kraw = eq ? (size_t)(eq - p) : n;
    int rc = oc_percent_decode(p, kraw, OC_PCT_PLUS, key, sizeof(key), &klen);
    if (rc)
        return 0; /* a long or malformed key is not one of ours: ignore the pair */
    for (int i = 0; params[i].name; i++) {
        if (strcmp(key, params[i].name) != 0 || (*seen & (1u << i)))
            continue;
        *seen |= 1u << i;
        rc = eq ? oc_percent_decode(eq + 1, n - kraw - 1, OC_PCT_PLUS, val, sizeof(val), &vlen) : 0;
        if (rc)
            return rc;
        val[vlen] = '\0';
        char *v = unquote(val, &vlen);
        q->dash |= params[i].dash;
        if (params[i].field != F_ATTR)
            return parse_list(q, params[i].field, v, vlen);
        return vlen ? copy_id((char *)q + params[i].offset, v, vlen) : 0;
    }
    return 0;
}

int steer_query_parse(const char *qs, size_t n, struct steer_query *out)
{
    unsigned seen = 0;
    size_t start = 0;
    memset(out, 0, sizeof(*out));
    if (n > STEER_QUERY_MAX)
        return OC_ETOOBIG;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && qs[i] != '&')
            continue;
        if (i > start) {
            int rc = parse_pair(out, qs + start, i - start, &seen);
            if (rc)
                return rc;
        }
        start = i + 1;
    }
    return 0;
}

int steer_bucket(const char *session)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)session; p && *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= h >> 33; /* finalize so short tokens spread over every bucket */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (int)(h % 10000);
}
