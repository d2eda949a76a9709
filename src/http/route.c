/*
 * route.c - route patterns: compiling "/v1/services/{name}" into segments, matching a request
 * path against them, and rendering route tables as Markdown for docs/api.md.
 */
#include "http/http_int.h"
#include "core/buf.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* Splits path into at most max segments (pointers into a copy in buf). Returns the count or
 * -1 when there are too many or the path does not start with '/'. */
static int split(const char *path, char *buf, size_t bufn, const char **segs, int max)
{
    size_t len = strlen(path);
    if (path[0] != '/' || len >= bufn)
        return -1;
    memcpy(buf, path + 1, len);
    int n = 0;
    char *p = buf;
    if (*p == '\0')
        return 0;
    for (;;) {
        if (n == max)
            return -1;
        segs[n++] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return n;
}

int http_route_compile(struct http_route_entry *e, const struct http_route *r, void *state)
{
    e->r = r;
    e->state = state;
    e->nsegs =
        split(r->pattern, e->pattern_buf, sizeof(e->pattern_buf), e->segs, HTTP_MAX_SEGMENTS);
    if (e->nsegs < 0)
        return OC_EINVAL;
    int params = 0;
    for (int i = 0; i < e->nsegs; i++) {
        size_t n = strlen(e->segs[i]);
        if (e->segs[i][0] != '{')
            continue;
        if (n < 3 || e->segs[i][n - 1] != '}' || params == HTTP_MAX_PARAMS)
            return OC_EINVAL;
        snprintf(e->names[params], sizeof(e->names[params]), "%.*s", (int)(n - 2), e->segs[i] + 1);
        params++;
    }
    return 0;
}

int http_route_match(const struct http_route_entry *e, const char *const *segs, int nsegs,
                     struct http_req *req)
{
    if (nsegs != e->nsegs)
        return 0;
    for (int i = 0; i < nsegs; i++) {
        const char *pat = e->segs[i];
        if (pat[0] == '{') {
            if (segs[i][0] == '\0')
                return 0;
        } else if (strcmp(pat, segs[i]) != 0) {
            return 0;
        }
    }
    if (!req)
        return 1;
    req->nparams = 0;
    for (int i = 0; i < nsegs; i++) {
        if (e->segs[i][0] != '{')
            continue;
        req->param_names[req->nparams] = e->names[req->nparams];
        req->param_values[req->nparams] = segs[i];
        req->nparams++;
    }
    return 1;
}

int http_path_split(const char *path, char *buf, size_t bufn, const char **segs)
{
    return split(path, buf, bufn, segs, HTTP_MAX_SEGMENTS);
}

void http_routes_doc(struct oc_buf *b, const char *module, const struct http_route *routes)
{
    oc_buf_printf(b,
                  "\n## Module `%s`\n\n| method | path | role | body cap | what it does |\n"
                  "|---|---|---|---|---|\n",
                  module);
    for (const struct http_route *r = routes; r && r->method; r++) {
        oc_buf_printf(b, "| %s | `%s` | %s | ", r->method, r->pattern, http_role_name(r->role));
        if (r->max_body)
            oc_buf_printf(b, "%zu | ", r->max_body);
        else
            oc_buf_puts(b, "default | ");
        oc_buf_printf(b, "%s |\n", r->summary);
    }
}
