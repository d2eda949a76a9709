/*
 * parse.c - reading HTTP/1.x requests from untrusted bytes: the head (request line and
 * headers, parsed in place without an allocation) and the chunked body framing. Both are pure
 * functions over a byte range, so conn.c can feed them whatever read() returned and the fuzz
 * target (tests/fuzz/fuzz_http_head.c) can feed them anything.
 *
 * What is refused (RFC 9112): a request line that is not METHOD SP TARGET SP HTTP/1.x (400;
 * another version 505), a target that is neither origin-form, absolute-form nor "*", a bare
 * CR, a control character in a header, a header name with a space or none, obsolete line
 * folding, two different Content-Length headers, Content-Length with Transfer-Encoding (the
 * smuggling cases), a Transfer-Encoding other than chunked (501), and a head longer than the
 * cap or with more than HTTP_MAX_HEADERS lines (431). Lines may end in a bare LF and empty
 * lines before the request line are skipped (both as evhttp did). A missing Host is accepted.
 */
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar: the bytes of a token (method, header name). */
static int tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && memchr(extra, c, sizeof(extra) - 1));
}

static int fail(struct http_head *h, int status, const char *why)
{
    h->status = status;
    snprintf(h->why, sizeof(h->why), "%s", why);
    return -1;
}

/* The end of the line starting at p (its LF) and where its text ends (before CR LF or LF). */
static char *line_end(char *p, char *e, char **text_end)
{
    char *nl = memchr(p, '\n', (size_t)(e - p));
    *text_end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
    return nl;
}

/* Parses the request line p..te (te: where the line's text ends). */
static int request_line(struct http_head *h, char *p, char *te)
{
    char *s = p;
    while (p < te && tchar((unsigned char)*p))
        p++;
    if (p == s || p == te || *p != ' ')
        return fail(h, 400, "the request line is not METHOD TARGET HTTP/1.x");
    *p++ = '\0';
    h->method = s;
    char *t = p;
    while (p < te && (unsigned char)*p > ' ' && *p != 0x7f)
        p++;
    if (p == t || p == te || *p != ' ')
        return fail(h, 400, "the request line is not METHOD TARGET HTTP/1.x");
    *p++ = '\0';
    if (te - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
        p[7] < '0' || p[7] > '9')
        return fail(h, 400, "the request line does not end in HTTP/1.0 or HTTP/1.1");
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
        return fail(h, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    h->minor = p[7] - '0';
    *te = '\0';
    /* the target: "/path?query#frag", "http://host/path?query", or "*" */
    if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
        char *auth = t + (t[4] == ':' ? 7 : 8);
        char *slash = strchr(auth, '/'), *q = strpbrk(auth, "?#");
        if (!slash || (q && q < slash)) { /* "http://host" or "http://host?x": the root */
            h->path = "/";
            return 0;
        }
        t = slash;
    } else if (strcmp(t, "*") == 0) {
        h->path = "/";
        return 0;
    } else if (t[0] != '/') {
        return fail(h, 400, "the request target must start with /");
    }
    char *hash = strchr(t, '#'), *q;
    if (hash)
        *hash = '\0';
    if ((q = strchr(t, '?')) != NULL) {
        *q = '\0';
        h->query = q + 1;
    }
    h->path = t;
    return 0;
}

/* 1 when the comma-separated list v holds token tok (without case). */
static int has_token(const char *v, const char *tok)
{
    size_t n = strlen(tok);
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *s = v;
        while (*v && *v != ',')
            v++;
        const char *e = v;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == n && strncasecmp(s, tok, n) == 0)
            return 1;
    }
    return 0;
}

/* What the headers mean for framing and the connection. */
static int interpret(struct http_head *h)
{
    const char *len = NULL, *te = NULL;
    int close = 0, keep = 0;
    for (int i = 0; i < h->nhdrs; i++) {
        const char *k = h->hdrs[i].name, *v = h->hdrs[i].value;
        if (strcasecmp(k, "Content-Length") == 0) {
            if (len && strcmp(len, v) != 0) {
                snprintf(h->why, sizeof(h->why),
                         "two different Content-Length headers (%.20s, %.20s)", len, v);
                h->status = 400;
                return -1;
            }
            size_t n = strlen(v);
            if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
                return fail(h, 400, "Content-Length is not a number of bytes");
            len = v;
        } else if (strcasecmp(k, "Transfer-Encoding") == 0) {
            if (te || strcasecmp(v, "chunked") != 0) {
                snprintf(h->why, sizeof(h->why),
                         "Transfer-Encoding %.40s is not supported (only chunked, once)", v);
                h->status = 501;
                return -1;
            }
            te = v;
        } else if (strcasecmp(k, "Connection") == 0) {
            close |= has_token(v, "close");
            keep |= has_token(v, "keep-alive");
        } else if (strcasecmp(k, "Expect") == 0) {
            h->expect_continue = strcasecmp(v, "100-continue") == 0;
        }
    }
    if (len && te)
        return fail(h, 400, "Content-Length and Transfer-Encoding together");
    h->content_length = len ? (int64_t)strtoll(len, NULL, 10) : -1;
    h->chunked = te != NULL;
    h->keep_alive = !close && (h->minor == 1 || keep);
    return 0;
}

int http_head_parse(char *p, size_t n, size_t max, struct http_head *h)
{
    size_t i = 0, k;
    while (i < n && (p[i] == '\r' || p[i] == '\n'))
        i++;
    h->end = 0;
    /* the end: LF followed by LF or CR LF, searched from where the last call stopped */
    for (k = h->scan > i ? h->scan : i; k < n && !h->end; k++) {
        if (p[k] != '\n')
            continue;
        if (k + 1 < n && p[k + 1] == '\n')
            h->end = k + 2;
        else if (k + 2 < n && p[k + 1] == '\r' && p[k + 2] == '\n')
            h->end = k + 3;
        else if (k + 2 >= n)
            break; /* the next bytes decide: look at this LF again next time */
    }
    if (!h->end) {
        h->scan = k;
        if (n >= max)
            return fail(h, 431, "the request's headers are longer than http.max_header_bytes");
        return 0;
    }
    if (h->end > max)
        return fail(h, 431, "the request's headers are longer than http.max_header_bytes");
    h->nhdrs = 0;
    h->content_length = -1;
    h->chunked = h->keep_alive = h->expect_continue = 0;
    h->method = h->path = h->query = NULL;
    char *e = p + h->end, *te, *nl = line_end(p + i, e, &te);
    if (!nl || !te)
        return fail(h, 400, "the request line does not end");
    for (const char *x = p + i; x < te; x++)
        if (*x == '\r')
            return fail(h, 400, "a bare CR in the request line");
    if (request_line(h, p + i, te) != 0)
        return -1;
    for (char *q = nl + 1; q < e;) {
        nl = line_end(q, e, &te);
        if (!nl || te == q) /* the empty line */
            break;
        if (*q == ' ' || *q == '\t')
            return fail(h, 400, "obsolete line folding (a header line starting with a space)");
        char *c = q;
        while (c < te && tchar((unsigned char)*c))
            c++;
        if (c == q || c == te || *c != ':')
            return fail(h, 400, "a header line is not NAME: VALUE");
        if (h->nhdrs == HTTP_MAX_HEADERS)
            return fail(h, 431, "more header lines than a request may have");
        *c++ = '\0';
        while (c < te && (*c == ' ' || *c == '\t'))
            c++;
        char *ve = te;
        while (ve > c && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (char *x = c; x < ve; x++)
            if (((unsigned char)*x < ' ' && *x != '\t') || *x == 0x7f)
                return fail(h, 400, "a header value holds a control character");
        *ve = '\0';
        h->hdrs[h->nhdrs].name = q;
        h->hdrs[h->nhdrs++].value = c;
        q = nl + 1;
    }
    return interpret(h) < 0 ? -1 : 1;
}

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER };

#define CH_LINE_MAX    1024 /* bytes of a chunk extension */
#define CH_TRAILER_MAX 8192 /* bytes of the trailer */

static int chfail(int *status, int st, char *why, size_t whyn, const char *msg)
{
    *status = st;
    snprintf(why, whyn, "%s", msg);
    return -1;
}

int http_chunked_feed(struct http_chunked *d, const char *p, size_t n, char *out, size_t cap,
                      size_t *used, size_t *produced, int *status, char *why, size_t whyn)
{
    size_t i = 0, o = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        unsigned char c = (unsigned char)p[i];
        int hex = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
        switch (d->state) {
        case CH_SIZE:
            i++;
            if (hex >= 0) {
                if (++d->digits > 15)
                    rc = chfail(status, 413, why, whyn, "a chunk size is too large");
                d->left = d->left * 16 + (uint64_t)hex;
                break;
            }
            if (d->digits == 0)
                rc = chfail(status, 400, why, whyn, "a chunk size is not a hex number");
            else if (c == ';' || c == ' ' || c == '\t')
                d->state = CH_EXT, d->line = 0;
            else if (c == '\r')
                d->state = CH_SIZE_LF;
            else if (c == '\n')
                goto size_done;
            else
                rc = chfail(status, 400, why, whyn, "a chunk size is not a hex number");
            break;
        case CH_EXT:
            i++;
            if (c == '\n')
                goto size_done;
            if (++d->line > CH_LINE_MAX)
                rc = chfail(status, 400, why, whyn, "a chunk extension is too long");
            break;
        case CH_SIZE_LF:
            i++;
            if (c != '\n') {
                rc = chfail(status, 400, why, whyn, "a chunk size line does not end in CRLF");
                break;
            }
        size_done:
            if (d->left > cap || d->total + d->left > cap) {
                *status = 413;
                snprintf(why, whyn, "the chunked body passes %zu bytes", cap);
                rc = -1;
                break;
            }
            d->total += d->left;
            d->digits = 0;
            d->line = 0;
            d->state = d->left ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t k = n - i < d->left ? n - i : (size_t)d->left;
            memmove(out + o, p + i, k);
            o += k;
            i += k;
            d->left -= k;
            if (!d->left)
                d->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            i++;
            if (c == '\r')
                d->state = CH_DATA_LF;
            else if (c == '\n')
                d->state = CH_SIZE;
            else
                rc = chfail(status, 400, why, whyn, "chunk data is not followed by CRLF");
            break;
        case CH_DATA_LF:
            i++;
            if (c == '\n')
                d->state = CH_SIZE;
            else
                rc = chfail(status, 400, why, whyn, "chunk data is not followed by CRLF");
            break;
        case CH_TRAILER:
            i++;
            if (c == '\n') {
                if (d->line == 0)
                    rc = 1;
                d->line = 0;
            } else if (c != '\r') {
                d->line++;
            }
            if (rc == 0 && ++d->trailer > CH_TRAILER_MAX)
                rc = chfail(status, 431, why, whyn, "the chunked body's trailer is too long");
            break;
        }
    }
    *used = i;
    *produced = o;
    return rc;
}
