/*
 * console.c - serving the embedded console bundle: GET / (index.html) and GET /assets/...
 *
 * Only names in web_assets[] (generated from web/dist/ at build time) are served, so no path
 * can reach anything else. Asset names are not content-hashed, so nothing is cached blindly:
 * every reply says Cache-Control: no-cache with a strong ETag, and a matching If-None-Match
 * gets 304. The gzip form goes to clients that accept it (Vary: Accept-Encoding). The HTML
 * carries the security headers of docs/contracts.md "Web console".
 */
#include "web/web_int.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The Content-Security-Policy of the console's HTML: scripts, styles, fetches and the event
 * stream only from this origin; no framing, no <base>, forms post only here. */
#define WEB_CSP                                                                                    \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "                 \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const struct web_asset *web_asset_find(const char *path)
{
    for (const struct web_asset *a = web_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

/* Skips optional whitespace. */
static const char *ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* 1 when the parameters of one Accept-Encoding element (from p, at its first ';' if any, to
 * end) set q to zero ("q=0", "q=0.000"); a q that does not parse counts as zero. */
static int q_zero(const char *p, const char *end)
{
    while (p < end && (p = memchr(p, ';', (size_t)(end - p))) != NULL) {
        p = ows(p + 1);
        if ((*p == 'q' || *p == 'Q') && p + 1 < end && p[1] == '=') {
            char v[16];
            size_t n = (size_t)(end - (p + 2));
            if (n > sizeof(v) - 1)
                n = sizeof(v) - 1;
            memcpy(v, p + 2, n);
            v[n] = '\0';
            return !(strtod(v, NULL) > 0);
        }
    }
    return 0;
}

int web_accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && *p;) {
        p = ows(p);
        const char *end = strchr(p, ','), *tok_end = p;
        if (!end)
            end = p + strlen(p);
        while (tok_end < end && *tok_end != ';' && *tok_end != ' ' && *tok_end != '\t')
            tok_end++;
        size_t n = (size_t)(tok_end - p);
        if (((n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*')) &&
            !q_zero(tok_end, end))
            return 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int web_etag_matches(const char *inm, const char *etag)
{
    size_t n = etag ? strlen(etag) : 0;
    for (const char *p = inm; p && *p && n;) {
        p = ows(p);
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return 1;
        const char *comma = strchr(p, ',');
        p = comma ? comma + 1 : p + strlen(p);
    }
    return 0;
}

/* Answers one embedded file (HEAD too: http_reply sends the headers only). */
static void serve(struct http_req *req, const struct web_asset *a)
{
    int gz = a->gz && web_accepts_gzip(http_header(req, "Accept-Encoding"));
    const char *etag = gz ? a->gz_etag : a->etag;
    http_set_header(req, "ETag", etag);
    http_set_header(req, "Cache-Control", "no-cache");
    if (a->gz)
        http_set_header(req, "Vary", "Accept-Encoding");
    if (strncmp(a->type, "text/html", 9) == 0)
        http_set_page_headers(req, WEB_CSP);
    else
        http_set_header(req, "X-Content-Type-Options", "nosniff");
    if (web_etag_matches(http_header(req, "If-None-Match"), etag)) {
        http_reply(req, 304, NULL, NULL, 0);
        return;
    }
    if (gz)
        http_set_header(req, "Content-Encoding", "gzip");
    if (gz)
        http_reply(req, 200, a->type, a->gz, a->gz_len);
    else if (a->len)
        http_reply(req, 200, a->type, a->data, a->len);
    else { /* an empty file still says what it is */
        http_set_header(req, "Content-Type", a->type);
        http_reply(req, 200, NULL, NULL, 0);
    }
}

void web_index_get(struct http_req *req)
{
    const struct web_asset *a = web_asset_find("/index.html");
    if (!a) {
        http_problem(req, 404, "this oncue was built without the console (web/dist/index.html)");
        return;
    }
    serve(req, a);
}

void web_asset_get(struct http_req *req)
{
    const struct web_asset *a = web_asset_find(req->path);
    if (!a || strncmp(req->path, "/assets/", 8) != 0) {
        http_problem(req, 404, "no console asset %s", req->path);
        return;
    }
    serve(req, a);
}
