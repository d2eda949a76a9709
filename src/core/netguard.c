/*
 * netguard.c - the classes of addresses outbound requests may not reach, and allow lists of
 * ranges (see netguard.h).
 */
#include "core/netguard.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The refused IPv4 ranges, first match wins. */
static const struct {
    uint32_t net, mask;
    const char *why;
} v4_refused[] = {
    {0x00000000u, 0xff000000u, "unspecified"},                            /* 0.0.0.0/8 */
    {0x7f000000u, 0xff000000u, "loopback"},                               /* 127.0.0.0/8 */
    {0x0a000000u, 0xff000000u, "private"},                                /* 10.0.0.0/8 */
    {0xac100000u, 0xfff00000u, "private"},                                /* 172.16.0.0/12 */
    {0xc0a80000u, 0xffff0000u, "private"},                                /* 192.168.0.0/16 */
    {0xa9fe0000u, 0xffff0000u, "link-local (cloud metadata lives here)"}, /* 169.254/16 */
    {0x64400000u, 0xffc00000u, "carrier-grade NAT"},                      /* 100.64.0.0/10 */
    {0xe0000000u, 0xf0000000u, "multicast"},                              /* 224.0.0.0/4 */
    {0xffffffffu, 0xffffffffu, "broadcast"},
    {0, 0, NULL},
};

static const char *v4_why(const uint8_t *a)
{
    uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    for (int i = 0; v4_refused[i].why; i++)
        if ((x & v4_refused[i].mask) == v4_refused[i].net)
            return v4_refused[i].why;
    return NULL;
}

static const char *v6_why(const uint8_t *a)
{
    static const uint8_t zero[16], one[16] = {[15] = 1};
    if (memcmp(a, zero, 16) == 0)
        return "unspecified";
    if (memcmp(a, one, 16) == 0)
        return "loopback";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return "link-local (cloud metadata lives here)";
    if ((a[0] & 0xfe) == 0xfc)
        return "unique local";
    if (a[0] == 0xff)
        return "multicast";
    return NULL;
}

/* 1 when the first bits of a and b agree. */
static int prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Parses one entry ("10.0.0.0/8", "::1"); 0 or -1. */
static int parse_one(const char *s, size_t len, struct oc_cidr *c)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(c, 0, sizeof(*c));
    if (inet_pton(AF_INET, buf, c->addr) == 1)
        c->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, c->addr) == 1)
        c->family = AF_INET6;
    else
        return -1;
    int max = c->family == AF_INET ? 32 : 128;
    c->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || b < 0 || b > max)
            return -1;
        c->bits = (int)b;
    }
    return 0;
}

int oc_netguard_parse(struct oc_netguard *g, const char *list, char *err, size_t errlen)
{
    const char *p = list ? list : "";
    g->n = 0;
    while (*p) {
        size_t skip = strspn(p, " ,\t"), len;
        p += skip;
        len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        if (g->n == OC_NETGUARD_MAX) {
            snprintf(err, errlen, "more than %d ranges", OC_NETGUARD_MAX);
            return OC_ETOOBIG;
        }
        if (parse_one(p, len, &g->allow[g->n]) != 0) {
            snprintf(err, errlen, "\"%.*s\" is not an address or a range (10.0.0.0/8, ::1)",
                     (int)(len > 64 ? 64 : len), p);
            return OC_EINVAL;
        }
        g->n++;
        p += len;
    }
    return 0;
}

const char *oc_netguard_refuses(const struct oc_netguard *g, const struct sockaddr *sa)
{
    uint8_t a[16];
    int family = sa->sa_family;
    if (family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
        if (memcmp(a, mapped, 12) == 0) { /* ::ffff:a.b.c.d */
            memmove(a, a + 12, 4);
            family = AF_INET;
        }
    } else {
        return "not an IP address";
    }
    const char *why = family == AF_INET ? v4_why(a) : v6_why(a);
    for (int i = 0; why && g && i < g->n; i++)
        if (g->allow[i].family == family && prefix_eq(a, g->allow[i].addr, g->allow[i].bits))
            return NULL;
    return why;
}

void oc_url_cut(const char *url, char *out, size_t n)
{
    if (!url) {
        snprintf(out, n, "%s", "");
        return;
    }
    const char *sep = strstr(url, "://");
    if (!sep) {
        snprintf(out, n, "\u2026");
        return;
    }
    const char *host = sep + 3;
    size_t alen = strcspn(host, "/?#"); /* the authority: [userinfo@]host[:port] */
    for (size_t i = alen; i > 0; i--)
        if (host[i - 1] == '@') { /* user information is a credential too */
            alen -= i;
            host += i;
            break;
        }
    snprintf(out, n, "%.*s://%.*s/\u2026", (int)(sep - url), url, (int)alen, host);
}

/* A bounded writer into out (n bytes, n > 0): bytes past the end are dropped, out always
 * ends in NUL. */
struct cut_out {
    char *p;
    size_t n, len;
};

static void put(struct cut_out *o, const char *s, size_t k)
{
    if (o->len + 1 >= o->n)
        return;
    if (k > o->n - 1 - o->len)
        k = o->n - 1 - o->len;
    memcpy(o->p + o->len, s, k);
    o->len += k;
    o->p[o->len] = '\0';
}

/* Bytes at the end of w (k bytes) that punctuate the sentence around a word rather than belong
 * to it ("(URL):" ends in "):"), at most 3. */
static size_t trailing(const char *w, size_t k)
{
    size_t t = 0;
    while (t < k && t < 3 && strchr("):,;.]", w[k - 1 - t]))
        t++;
    return t;
}

/* Writes one word (k bytes, no space) as oc_text_cut_urls says. */
static void cut_word(struct cut_out *o, const char *w, size_t k, int hosts_only)
{
    static const char more[] = "\u2026";
    const char *sep = memmem(w, k, "://", 3);
    size_t start = 0, tail = trailing(w, k), end;
    if (sep && strcspn(w, "?#=") < (size_t)(sep - w))
        sep = NULL; /* "://" inside a query or a token is not where a URL starts */
    if (sep) {      /* the scheme starts after what is not a letter ("(https://..." ) */
        start = (size_t)(sep - w);
        while (start > 0 && ((w[start - 1] | 0x20) >= 'a' && (w[start - 1] | 0x20) <= 'z'))
            start--;
        put(o, w, start);
    }
    if (sep && hosts_only) {
        char url[1024], shown[OC_URL_SHOWN_MAX];
        size_t ulen = k - start < sizeof url ? k - start : sizeof url - 1;
        memcpy(url, w + start, ulen);
        url[ulen] = '\0';
        oc_url_cut(url, shown, sizeof shown);
        put(o, shown, strlen(shown));
        put(o, w + k - tail, tail);
        return;
    }
    size_t at = start;
    if (sep) { /* scheme://, then the authority without its user information */
        size_t host = (size_t)(sep - w) + 3, alen = host;
        while (alen < k && !strchr("/?#", w[alen]))
            alen++;
        put(o, w + start, host - start);
        for (size_t i = alen; i > host; i--)
            if (w[i - 1] == '@') {
                host = i;
                break;
            }
        put(o, w + host, alen - host);
        at = alen;
    }
    /* the path up to a query, a fragment or a segment holding "=" (a token in the path) */
    end = at;
    for (size_t seg = at; end < k && w[end] != '?' && w[end] != '#'; end++) {
        if (w[end] == '/')
            seg = end + 1;
        if (w[end] == '=') {
            end = seg;
            break;
        }
    }
    if (end >= k - tail) { /* nothing cut */
        put(o, w + at, k - at);
        return;
    }
    put(o, w + at, end - at);
    put(o, w[end] == '?' || w[end] == '#' ? "?" : "", w[end] == '?' || w[end] == '#');
    put(o, more, sizeof more - 1);
    put(o, w + k - tail, tail);
}

void oc_text_cut_urls(const char *text, int hosts_only, char *out, size_t n)
{
    struct cut_out o = {out, n, 0};
    if (!n)
        return;
    out[0] = '\0';
    for (const char *p = text ? text : ""; *p;) {
        size_t sp = strspn(p, " \t\r\n"), k;
        put(&o, p, sp);
        p += sp;
        k = strcspn(p, " \t\r\n");
        if (k)
            cut_word(&o, p, k, hosts_only);
        p += k;
    }
}
