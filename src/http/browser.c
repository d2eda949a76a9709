/*
 * browser.c - what only browsers need: reading a cookie out of the Cookie header, the
 * same-origin check that guards cookie-authenticated requests against cross-site forgery, and
 * the client's address that public ingest keys are rate-limited by.
 *
 * Both read untrusted header bytes; the cookie parser is fuzzed (tests/fuzz/fuzz_cookie.c).
 * The origin rule is in http.h (http_origin_check); docs/contracts.md "Sessions" states it
 * for the front end.
 */
#include "http/http_int.h"
#include "core/err.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Narrows [*p, *e) by the spaces and tabs at both ends. */
static void trim(const char **p, const char **e)
{
    while (*p < *e && is_space(**p))
        (*p)++;
    while (*e > *p && is_space((*e)[-1]))
        (*e)--;
}

int http_cookie_get(const char *hdr, size_t len, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    if (n)
        out[0] = '\0';
    for (size_t i = 0; hdr && i < len;) {
        const char *p = hdr + i, *e = memchr(p, ';', len - i);
        if (!e)
            e = hdr + len;
        i = (size_t)(e - hdr) + 1;
        const char *eq = memchr(p, '=', (size_t)(e - p)), *ne = eq;
        if (!eq)
            continue; /* not a name=value pair */
        trim(&p, &ne);
        if ((size_t)(ne - p) != nl || memcmp(p, name, nl) != 0)
            continue;
        const char *v = eq + 1, *ve = e;
        trim(&v, &ve);
        if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        size_t vl = (size_t)(ve - v);
        if (vl + 1 > n)
            return OC_ETOOBIG;
        memcpy(out, v, vl);
        out[vl] = '\0';
        return 0;
    }
    return OC_ENOTFOUND;
}

/* 1 when the first entry of an X-Forwarded-Proto value is "https". */
static int proto_https(const char *xfp)
{
    if (!xfp)
        return 0;
    const char *p = xfp, *e = strchr(xfp, ',');
    if (!e)
        e = xfp + strlen(xfp);
    trim(&p, &e);
    return e - p == 5 && strncasecmp(p, "https", 5) == 0;
}

int http_origin_check(const struct http_origin_in *in, char *why, size_t whyn)
{
    char own[320];
    const char *fs = in->fetch_site;
    if (fs && (strcasecmp(fs, "cross-site") == 0 || strcasecmp(fs, "same-site") == 0)) {
        snprintf(why, whyn, "the browser says it comes from another site (Sec-Fetch-Site: %s)", fs);
        return -1;
    }
    if (!in->host || !in->host[0] || strlen(in->host) > 255) {
        snprintf(why, whyn, "the request has no usable Host header");
        return -1;
    }
    int n = snprintf(own, sizeof(own), "%s://%s",
                     proto_https(in->forwarded_proto) ? "https" : "http", in->host);
    if (in->origin) {
        if (strcasecmp(in->origin, own) == 0)
            return 0;
        snprintf(why, whyn, "Origin %.100s is not this server's origin %s", in->origin, own);
        return -1;
    }
    if (in->referer) {
        if (strncasecmp(in->referer, own, (size_t)n) == 0 && in->referer[n] == '/')
            return 0;
        snprintf(why, whyn, "the Referer is not a page of this server's origin %s", own);
        return -1;
    }
    snprintf(why, whyn, "neither Origin nor Referer shows it comes from %s", own);
    return -1;
}

int http_same_origin(const struct http_req *req, char *why, size_t whyn)
{
    struct http_origin_in in = {
        .host = http_header(req, "Host"),
        .forwarded_proto = http_header(req, "X-Forwarded-Proto"),
        .origin = http_header(req, "Origin"),
        .referer = http_header(req, "Referer"),
        .fetch_site = http_header(req, "Sec-Fetch-Site"),
    };
    return http_origin_check(&in, why, whyn);
}

int http_forwarded_https(const struct http_req *req)
{
    return proto_https(http_header(req, "X-Forwarded-Proto"));
}

void http_client_addr(struct http_req *req, char *out, size_t n)
{
    struct http_req_impl *impl = (struct http_req_impl *)req;
    const char *xff = impl->worker && impl->worker->srv->opts.trust_forwarded_for
                          ? http_header(req, "X-Forwarded-For")
                          : NULL;
    if (n)
        out[0] = '\0';
    if (xff) {
        const char *p = strrchr(xff, ','), *e;
        p = p ? p + 1 : xff;
        while (is_space(*p))
            p++;
        e = p + strlen(p);
        trim(&p, &e);
        if (e > p) {
            snprintf(out, n, "%.*s", (int)(e - p), p);
            return;
        }
    }
    if (impl->conn)
        http_conn_peer_text(impl->conn, out, n);
}
