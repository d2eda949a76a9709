/*
 * dispatch.c - one request from conn.c to a handler: route match (404/405), CORS preflight,
 * body cap (413), authentication by token or session cookie (401/403, and the cross-site
 * guard for cookies), the handler, then the audit hook and counters.
 */
#include "http/http_int.h"
#include "core/bus.h"
#include "core/decode.h"
#include "core/clock.h"
#include "core/module.h"
#include "core/log.h"
#include "core/err.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

void http_count(struct worker *w, struct http_route_entry *e, int status, int64_t start_ns)
{
    struct worker_stats *st = &w->st;
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) {
        atomic_fetch_add_explicit(&st->by_class[cls], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(e ? &e->by_class[cls] : &w->srv->unmatched_by_class[cls], 1,
                                  memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&st->requests, 1, memory_order_relaxed);
    int64_t us = (oc_mono_ns() - start_ns) / 1000;
    size_t i = 0;
    while (i < NDUR && (double)us / 1e6 > http_dur_bounds[i])
        i++;
    atomic_fetch_add_explicit(&st->dur_buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->dur_sum_us, (uint64_t)us, memory_order_relaxed);
}

/* Finds the route for method and the split path. Sets *path_matched when some route matches
 * the path with another method (405 rather than 404); *allow lists those methods. */
static struct http_route_entry *find_route(struct http_server *srv, const char *method,
                                           const char *const *segs, int nsegs, int *path_matched,
                                           char *allow, size_t allown)
{
    *path_matched = 0;
    allow[0] = '\0';
    for (int i = 0; i < srv->nroutes; i++) {
        struct http_route_entry *e = &srv->routes[i];
        if (!http_route_match(e, segs, nsegs, NULL))
            continue;
        if (strcmp(e->r->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(e->r->method, "GET") == 0))
            return e;
        *path_matched = 1;
        size_t n = strlen(allow);
        snprintf(allow + n, allown - n, "%s%s", n ? ", " : "", e->r->method);
    }
    return NULL;
}

/* Who may call the routes on a path from another origin: 0 any origin (public and ingest
 * routes: steering, beacons, the status feed), 1 the server's own origin only (viewer and
 * responder routes), 2 none (admin routes). Of the routes taking method (any method when
 * NULL), the strictest; 2 when none does. */
static int cors_rank(struct http_server *srv, const char *method, const char *const *segs,
                     int nsegs)
{
    int rank = -1;
    for (int i = 0; i < srv->nroutes; i++) {
        const struct http_route *r = srv->routes[i].r;
        if ((method && strcmp(r->method, method) != 0) ||
            !http_route_match(&srv->routes[i], segs, nsegs, NULL))
            continue;
        int k = r->role == HTTP_PUBLIC || r->role == HTTP_INGEST || r->role == HTTP_SIGNED ||
                        r->role == HTTP_BEACON
                    ? 0
                : r->role == HTTP_ADMIN ? 2
                                        : 1;
        rank = k > rank ? k : rank;
    }
    return rank < 0 ? 2 : rank;
}

/* Answers a CORS preflight (OPTIONS on a path whose routes take other methods) for the
 * method asked for (Access-Control-Request-Method) by cors_rank. Without an allowed origin
 * the answer carries no CORS header, so the browser does not send the request. */
static void preflight(struct http_server *srv, struct http_req *req, const char *const *segs,
                      int nsegs, const char *allow)
{
    char why[256];
    const char *want = http_header(req, "Access-Control-Request-Method");
    const char *origin = http_header(req, "Origin");
    int rank = cors_rank(srv, want, segs, nsegs);
    http_set_header(req, "Vary", "Origin");
    if (rank == 0)
        http_set_header(req, "Access-Control-Allow-Origin", "*");
    else if (rank == 1 && origin && http_same_origin(req, why, sizeof(why)) == 0)
        http_set_header(req, "Access-Control-Allow-Origin", origin);
    else
        rank = 2;
    if (rank < 2) {
        http_set_header(req, "Access-Control-Allow-Methods", want ? want : allow);
        http_set_header(req, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        http_set_header(req, "Access-Control-Max-Age", "86400");
    }
    http_reply(req, 204, NULL, NULL, 0);
}

/* 1 for the methods that change nothing (no cross-site check for them). */
static int safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

/* Authenticates req by the value of its session cookie (no Authorization header was sent)
 * for route r: 0, or -1 after answering 401 (no usable session) or 403 (cross-site, role). */
static int authorize_cookie(struct http_server *srv, struct http_req *req,
                            const struct http_route *r, const char *value)
{
    char why[512];
    enum http_role role;
    const char *name;
    int rc = srv->hooks.authenticate_session(srv->hooks.arg, value, &req->arena, &role, &name);
    if (rc != 0) {
        http_problem(req, 401, "%s",
                     rc == OC_EGONE ? "the session expired; sign in again"
                                    : "the session is unknown or has ended; sign in again");
        return -1;
    }
    req->role = role;
    req->principal = name;
    req->session = oc_arena_strdup(&req->arena, value);
    if (!safe_method(req->method) && http_same_origin(req, why, sizeof(why)) != 0) {
        http_problem(req, 403, "cross-site request refused: %s", why);
        return -1;
    }
    if (!http_role_allows(role, r->role)) {
        http_problem(req, 403, "this route needs the %s role; the session has %s",
                     http_role_name(r->role), http_role_name(role));
        return -1;
    }
    return 0;
}

/* Authenticates req, sent to an HTTP_BEACON route with no Authorization header, by
 * the public ingest key key: 0 with the ingest role, or -1 after answering 401, 403, 413 or
 * 429. */
static int authorize_key(struct http_server *srv, struct http_req *req, const char *key)
{
    char client[64], why[256] = "";
    const char *name;
    int retry_s = 1;
    /* a page's script may read why it was refused */
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    http_set_header(req, "Access-Control-Expose-Headers", "Retry-After");
    if (!srv->hooks.authenticate_key) {
        http_problem(req, 401, "key: public ingest keys are not enabled on this server");
        return -1;
    }
    http_client_addr(req, client, sizeof client);
    int rc = srv->hooks.authenticate_key(srv->hooks.arg, key, http_header(req, "Origin"), client,
                                         &req->arena, &name, &retry_s, why, sizeof why);
    if (rc == OC_EBUSY) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_s > 0 ? retry_s : 1);
        http_set_header(req, "Retry-After", ra);
        http_problem(req, 429, "key: %s", why[0] ? why : "over its rate limit");
        return -1;
    }
    if (rc == OC_EPERM) {
        http_problem(req, 403, "key: %s", why[0] ? why : "this origin may not use the key");
        return -1;
    }
    if (rc != 0) {
        http_problem(req, 401, "key: unknown or revoked public ingest key");
        return -1;
    }
    if (req->body_len > HTTP_KEY_MAX_BODY) {
        http_problem(req, 413,
                     "a body sent with a public key may be at most %u bytes (this one: "
                     "%zu); send smaller batches",
                     HTTP_KEY_MAX_BODY, req->body_len);
        return -1;
    }
    req->role = HTTP_INGEST;
    req->principal = name;
    return 0;
}

/* Authenticates req for route r; answers 401/403 itself and returns -1 when refused. A
 * Bearer token wins; without an Authorization header the session cookie is used (on routes
 * that need a role), or on a route that takes them a public ingest key in ?key=. */
static int authorize(struct http_server *srv, struct http_req *req, const struct http_route *r)
{
    req->role = HTTP_PUBLIC;
    req->principal = "anonymous";
    const char *h = http_header(req, "Authorization");
    if (r->role == HTTP_SIGNED) /* the handler checks the signature; a token adds nothing */
        return 0;
    if (r->role == HTTP_PUBLIC && !h)
        return 0;
    const char *key = !h && r->role == HTTP_BEACON ? http_query(req, "key") : NULL;
    if (key)
        return authorize_key(srv, req, key);
    const char *cookie = h ? NULL : http_header(req, "Cookie");
    char value[HTTP_COOKIE_VALUE_MAX];
    if (cookie && srv->hooks.authenticate_session &&
        http_cookie_get(cookie, strlen(cookie), HTTP_SESSION_COOKIE, value, sizeof(value)) == 0)
        return authorize_cookie(srv, req, r, value);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !srv->hooks.authenticate) {
        if (r->role == HTTP_PUBLIC)
            return 0;
        http_set_header(req, "WWW-Authenticate", "Bearer realm=\"oncue\"");
        http_problem(req, 401, "this route needs a token: send Authorization: Bearer <token>");
        return -1;
    }
    const char *token = h + 7;
    while (*token == ' ')
        token++;
    enum http_role role;
    const char *name;
    if (srv->hooks.authenticate(srv->hooks.arg, token, &req->arena, &role, &name) != 0) {
        if (r->role == HTTP_PUBLIC)
            return 0;
        http_set_header(req, "WWW-Authenticate", "Bearer realm=\"oncue\", error=\"invalid_token\"");
        http_problem(req, 401, "the token is unknown or revoked");
        return -1;
    }
    req->role = role;
    req->principal = name;
    if (!http_role_allows(role, r->role)) {
        http_problem(req, 403, "this route needs the %s role; the token has %s",
                     http_role_name(r->role), http_role_name(role));
        return -1;
    }
    return 0;
}

/* The body cap of route r (NULL: a request no route takes). */
static size_t route_cap(const struct http_server *srv, const struct http_route *r)
{
    size_t cap = r && r->max_body ? r->max_body : HTTP_ROUTE_BODY_DEFAULT;
    return cap < srv->opts.max_body ? cap : srv->opts.max_body;
}

size_t http_route_body_cap(struct http_server *srv, const char *method, const char *path,
                           const struct http_route **route)
{
    char dec[HTTP_MAX_PATH], segbuf[HTTP_MAX_PATH], allow[128];
    const char *segs[HTTP_MAX_SEGMENTS];
    int matched, nsegs;
    *route = NULL;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return route_cap(srv, NULL); /* no GET route sets a cap of its own */
    if (oc_percent_decode(path, strlen(path), 0, dec, sizeof(dec), NULL) != 0 ||
        (nsegs = http_path_split(dec, segbuf, sizeof(segbuf), segs)) < 0)
        return route_cap(srv, NULL);
    struct http_route_entry *e =
        find_route(srv, method, segs, nsegs, &matched, allow, sizeof(allow));
    *route = e ? e->r : NULL;
    return route_cap(srv, *route);
}

/* Copies the body (conn.c read it whole, within the route's cap) into the arena; -1 (after
 * answering 413) past the route's cap. */
static int read_body(struct http_server *srv, struct http_req *req, const struct http_route *r,
                     const char *in, size_t n)
{
    size_t cap = route_cap(srv, r);
    if (n > cap) {
        http_problem(req, 413, "the body is %zu bytes; %s %s accepts at most %zu", n, r->method,
                     r->pattern, cap);
        return -1;
    }
    if (n == 0)
        return 0; /* req->body stays "" */
    char *body = oc_arena_alloc(&req->arena, n + 1);
    if (!body) {
        http_problem(req, 413, "the request needs more memory than one request may hold");
        return -1;
    }
    memcpy(body, in, n);
    body[n] = '\0';
    req->body = body;
    req->body_len = n;
    return 0;
}

/* Resolves the decoded path into req; -1 (after answering 400/404) when unusable. */
static int resolve_path(struct http_req *req, char *segbuf, size_t segn, const char **segs,
                        int *nsegs)
{
    struct http_req_impl *impl = (struct http_req_impl *)req;
    const char *raw = impl->head->path;
    if (!raw || !*raw)
        raw = "/";
    if (oc_percent_decode(raw, strlen(raw), 0, impl->path, sizeof(impl->path), NULL) != 0) {
        req->path = "/";
        http_problem(req, 400, "the path is too long or not valid percent-encoding");
        return -1;
    }
    req->path = impl->path;
    *nsegs = http_path_split(req->path, segbuf, segn, segs);
    if (*nsegs < 0) {
        http_problem(req, 404, "no route matches %s", req->path);
        return -1;
    }
    return 0;
}

static void run(struct http_server *srv, struct http_req *req, const char *body, size_t len)
{
    char segbuf[HTTP_MAX_PATH], allow[128];
    const char *segs[HTTP_MAX_SEGMENTS];
    int nsegs, path_matched;
    if (resolve_path(req, segbuf, sizeof(segbuf), segs, &nsegs) != 0)
        return;
    struct http_route_entry *e =
        find_route(srv, req->method, segs, nsegs, &path_matched, allow, sizeof(allow));
    if (!e && path_matched && strcmp(req->method, "OPTIONS") == 0) {
        preflight(srv, req, segs, nsegs, allow);
        return;
    }
    if (!e) {
        if (path_matched) {
            http_set_header(req, "Allow", allow);
            http_problem(req, 405, "%s is not allowed on %s (allowed: %s)", req->method, req->path,
                         allow);
        } else {
            http_problem(req, 404, "no route matches %s %s", req->method, req->path);
        }
        return;
    }
    req->route = e->r;
    req->state = e->state;
    ((struct http_req_impl *)req)->entry = e;
    http_route_match(e, segs, nsegs, req);
    /* Every mutating request on a route is audited, refused ones included; telemetry posts
     * (the ingest role) are not: they are data, not actions; nor are signed provider
     * webhooks, which their capability audits in its own chain. */
    ((struct http_req_impl *)req)->audit =
        strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        e->r->role != HTTP_INGEST && e->r->role != HTTP_SIGNED && e->r->role != HTTP_BEACON;
    if (read_body(srv, req, e->r, body, len) != 0 || authorize(srv, req, e->r) != 0)
        return;
    /* Events still being delivered land before this handler looks, and what the handler
     * publishes is delivered once it let go of its locks (core/bus.h). */
    oc_bus_drain(req->app ? req->app->bus : NULL);
    e->r->handler(req);
    oc_bus_drain(req->app ? req->app->bus : NULL);
    if (!req->status && !((struct http_req_impl *)req)->later) {
        oc_log(OC_LOG_ERROR, "bug: %s %s returned without answering", req->method, req->path);
        http_problem(req, 500, "the handler did not answer");
    }
}

/* Sets up impl for the request h on c. */
static void begin(struct http_req_impl *impl, struct http_conn *c, const struct http_head *h)
{
    struct worker *w = http_conn_worker(c);
    memset(impl, 0, offsetof(struct http_req_impl, oh_inline));
    impl->path[0] = '\0';
    struct http_req *req = &impl->pub;
    impl->worker = w;
    impl->conn = c;
    impl->head = h;
    impl->start_ns = oc_mono_ns();
    impl->oh = impl->oh_inline;
    impl->ohcap = sizeof(impl->oh_inline);
    req->app = w->srv->app;
    req->method = h->method ? h->method : "GET";
    req->path = "";
    req->body = "";
    req->principal = "anonymous";
    req->arena = w->arena; /* reset after the last request: at most its first block */
    atomic_fetch_add_explicit(&w->st.inflight, 1, memory_order_relaxed);
}

static void end(struct http_req_impl *impl)
{
    struct worker *w = impl->worker;
    if (impl->later) /* the header lines set so far go with the later answer */
        http_later_keep(impl->later, impl->oh, impl->ohn, impl->close);
    else
        http_count(w, impl->entry, impl->pub.status, impl->start_ns);
    oc_arena_reset(&impl->pub.arena);
    w->arena = impl->pub.arena;
}

void http_dispatch(struct http_conn *c, const struct http_head *h, const char *body,
                   size_t body_len, int64_t arrive_ns)
{
    struct http_server *srv = http_conn_worker(c)->srv;
    struct http_req_impl impl;
    begin(&impl, c, h);
    if (arrive_ns > 0 && arrive_ns < impl.start_ns)
        impl.wait_ns = impl.start_ns - arrive_ns;
    struct http_req *req = &impl.pub;
    run(srv, req, body, body_len);
    if (impl.audit && srv->hooks.audit)
        srv->hooks.audit(srv->hooks.arg, req);
    end(&impl);
    /* the answer leaves when conn.c ends its pass over the buffered requests: after this,
     * so a client never sees it before the bus drained and the audit row */
}

int64_t http_req_wait_ns(const struct http_req *req)
{
    return ((const struct http_req_impl *)req)->wait_ns;
}

void http_dispatch_error(struct http_conn *c, const struct http_head *h, int status,
                         const char *why)
{
    struct http_req_impl impl;
    begin(&impl, c, h);
    impl.pub.path = h->path ? h->path : "";
    impl.close = 1;
    http_problem(&impl.pub, status, "%s", why);
    end(&impl);
}
