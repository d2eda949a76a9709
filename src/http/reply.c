/*
 * reply.c - answering requests: bodies, JSON, problem+json (RFC 9457), the one mapping from
 * oc_err to HTTP status, request accessors and role names.
 */
#include "http/http_int.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {409, "Conflict"},
    {410, "Gone"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {500, "Internal Server Error"},
    {503, "Service Unavailable"},
    {0, NULL},
};

const char *http_reason(int status)
{
    for (int i = 0; reasons[i].status; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

int http_status_for(int err)
{
    switch (err) {
    case 0:
        return 200;
    case OC_EMALFORMED:
        return 400;
    case OC_EINVAL:
        return 422;
    case OC_ETOOBIG:
        return 413;
    case OC_ENOTFOUND:
        return 404;
    case OC_ECONFLICT:
        return 409;
    case OC_EAUTH:
        return 401;
    case OC_EPERM:
        return 403;
    case OC_EBUSY:
        return 503;
    case OC_EGONE:
        return 410;
    default:
        return 500;
    }
}

void http_set_header(struct http_req *req, const char *name, const char *value)
{
    struct http_req_impl *r = (struct http_req_impl *)req;
    if (strcasecmp(name, "Connection") == 0) { /* conn.c writes it */
        r->close |= strcasecmp(value, "close") == 0;
        return;
    }
    size_t nn = strlen(name), vn = strlen(value), need = nn + vn + 4;
    if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n")) {
        oc_log(OC_LOG_ERROR, "bug: header %s with a line break left out", name);
        return;
    }
    if (r->ohcap - r->ohn < need) {
        size_t cap = r->ohcap * 2 > r->ohn + need ? r->ohcap * 2 : r->ohn + need;
        char *p = oc_arena_alloc(&req->arena, cap);
        if (!p) {
            oc_log(OC_LOG_ERROR, "header %s left out: the request's arena is full", name);
            return;
        }
        memcpy(p, r->oh, r->ohn);
        r->oh = p;
        r->ohcap = cap;
    }
    char *o = r->oh + r->ohn;
    memcpy(o, name, nn);
    o[nn] = ':';
    o[nn + 1] = ' ';
    memcpy(o + nn + 2, value, vn);
    o[nn + 2 + vn] = '\r';
    o[nn + 3 + vn] = '\n';
    r->ohn += need;
}

int http_lines_have(const char *oh, size_t n, const char *name)
{
    size_t k = strlen(name);
    for (const char *p = oh, *e = oh + n; p < e;) {
        if ((size_t)(e - p) > k && p[k] == ':' && strncasecmp(p, name, k) == 0)
            return 1;
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        p = nl ? nl + 1 : e;
    }
    return 0;
}

void http_set_page_headers(struct http_req *req, const char *csp)
{
    http_set_header(req, "Content-Security-Policy", csp);
    http_set_header(req, "X-Frame-Options", "DENY");
    http_set_header(req, "Referrer-Policy", "same-origin");
    http_set_header(req, "X-Content-Type-Options", "nosniff");
}

void http_reply(struct http_req *req, int status, const char *content_type, const void *body,
                size_t len)
{
    if (req->status) {
        oc_log(OC_LOG_ERROR, "bug: second reply to %s %s", req->method, req->path);
        return;
    }
    req->status = status;
    struct http_req_impl *r = (struct http_req_impl *)req;
    if (r->later) /* answered by the handler after all: the handle stays unused */
        return;
    if (r->conn)
        http_conn_answer(r->conn, status, r->oh, r->ohn, content_type, body, len, r->close);
}

void http_reply_json(struct http_req *req, int status, json_t *v)
{
    struct oc_buf b;
    oc_buf_init(&b, (size_t)1 << 30);
    if (!v || oc_json_dump(v, &b) != 0) {
        json_decref(v);
        oc_buf_free(&b);
        http_problem(req, 500, "the response could not be serialized");
        return;
    }
    oc_buf_puts(&b, "\n");
    json_decref(v);
    http_reply(req, status, "application/json", b.data, b.len);
    oc_buf_free(&b);
}

void http_problem_text(struct oc_buf *b, int status, const char *fmt, va_list ap,
                       const char *instance)
{
    char detail[1024];
    vsnprintf(detail, sizeof(detail), fmt, ap);
    json_t *p =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title", http_reason(status),
                  "status", status, "detail", detail, "instance", instance ? instance : "");
    oc_buf_init(b, 64 * 1024);
    oc_json_dump(p, b);
    oc_buf_puts(b, "\n");
    json_decref(p);
}

static void vproblem(struct http_req *req, int status, const char *fmt, va_list ap)
{
    struct oc_buf b;
    http_problem_text(&b, status, fmt, ap, req->path);
    struct http_req_impl *r = (struct http_req_impl *)req;
    if ((status == 503 || status == 429) && !http_lines_have(r->oh, r->ohn, "Retry-After"))
        http_set_header(req, "Retry-After", "1"); /* unless the handler said when */
    http_reply(req, status, "application/problem+json", b.data, b.len);
    oc_buf_free(&b);
}

void http_problem(struct http_req *req, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(req, status, fmt, ap);
    va_end(ap);
}

void http_reply_err(struct http_req *req, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(req, http_status_for(err), fmt, ap);
    va_end(ap);
}

json_t *http_body_json(struct http_req *req)
{
    json_t *v = NULL;
    char err[200];
    if (req->body_len == 0) {
        http_problem(req, 400, "the request needs a JSON body");
        return NULL;
    }
    if (oc_json_parse(req->body, req->body_len, &v, err, sizeof(err)) != 0) {
        http_problem(req, 400, "the body is not valid JSON: %s", err);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        http_problem(req, 422, "the body must be a JSON object");
        return NULL;
    }
    if (oc_json_find_nul(v, err, sizeof(err)) != 0) {
        json_decref(v);
        http_problem(req, 422, "%s: a string must not contain a NUL character (\\u0000)", err);
        return NULL;
    }
    return v;
}

const char *http_param(const struct http_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes s in place: %XX (two hex digits) to its byte, '+' to a space; anything else,
 * a lone '%' included, is kept. */
static void query_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        int hi, lo;
        if (*s == '+') {
            *o++ = ' ';
        } else if (*s == '%' && (hi = hexval(s[1])) >= 0 && (lo = hexval(s[2])) >= 0) {
            *o++ = (char)(hi << 4 | lo);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* Parses the query string q into r's pairs, in the request's arena, as evhttp's
 * evhttp_parse_query_str did before (so handlers read the same values): pairs split at '&',
 * the name at the first '=' and kept as sent, the value decoded (query_decode). A pair
 * without '=' or with an empty name makes the whole query unreadable (no pairs). */
static void query_parse(struct http_req_impl *r, const char *q)
{
    struct oc_arena *a = &r->pub.arena;
    size_t n = 1;
    for (const char *p = q; *p; p++)
        n += *p == '&';
    char *buf = oc_arena_strdup(a, q);
    r->qkeys = oc_arena_alloc(a, n * sizeof(*r->qkeys));
    r->qvals = oc_arena_alloc(a, n * sizeof(*r->qvals));
    r->nq = 0;
    if (!buf || !r->qkeys || !r->qvals)
        return;
    for (char *p = buf; p && *p;) {
        char *pair = p, *amp = strchr(p, '&'), *eq;
        if (amp)
            *amp = '\0';
        p = amp ? amp + 1 : NULL;
        if (!(eq = strchr(pair, '=')) || eq == pair) {
            r->nq = 0;
            return;
        }
        *eq = '\0';
        query_decode(eq + 1);
        r->qkeys[r->nq] = pair;
        r->qvals[r->nq++] = eq + 1;
    }
}

const char *http_query(struct http_req *req, const char *name)
{
    struct http_req_impl *r = (struct http_req_impl *)req;
    if (!r->query_parsed) {
        const char *q = r->head ? r->head->query : NULL;
        if (q && *q)
            query_parse(r, q);
        r->query_parsed = 1;
    }
    for (int i = 0; i < r->nq; i++) /* the first pair of that name, as evhttp's lookup */
        if (strcasecmp(r->qkeys[i], name) == 0)
            return r->qvals[i];
    return NULL;
}

void http_skip_audit(struct http_req *req)
{
    ((struct http_req_impl *)req)->audit = 0;
}

const char *http_query_string(struct http_req *req)
{
    const struct http_head *h = ((struct http_req_impl *)req)->head;
    return h ? h->query : NULL;
}

const char *http_header(const struct http_req *req, const char *name)
{
    const struct http_head *h = ((const struct http_req_impl *)req)->head;
    for (int i = 0; h && i < h->nhdrs; i++)
        if (strcasecmp(h->hdrs[i].name, name) == 0)
            return h->hdrs[i].value;
    return NULL;
}

const struct sockaddr *http_peer_addr(const struct http_req *req)
{
    const struct http_req_impl *r = (const struct http_req_impl *)req;
    return r->conn ? http_conn_peer(r->conn) : NULL;
}

static const char *const role_names[] = {"public", "viewer", "responder",           "admin",
                                         "ingest", "signed", "ingest or public key"};

const char *http_role_name(enum http_role r)
{
    return (unsigned)r <= HTTP_BEACON ? role_names[r] : "unknown";
}

int http_role_parse(const char *s, enum http_role *out)
{
    for (int i = HTTP_VIEWER; i <= HTTP_INGEST; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum http_role)i;
            return 0;
        }
    }
    return OC_EINVAL;
}

int http_role_allows(enum http_role have, enum http_role need)
{
    if (need == HTTP_PUBLIC || need == HTTP_SIGNED || have == HTTP_ADMIN)
        return 1;
    if (need == HTTP_BEACON)
        need = HTTP_INGEST;
    if (need == HTTP_INGEST || have == HTTP_INGEST)
        return have == need;
    return have >= need;
}
