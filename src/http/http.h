/*
 * http.h - the HTTP server: an HTTP/1.1 engine of its own on N libevent loops (one per worker
 * thread), a route table, problem+json errors and body caps.
 *
 * Routes are static tables (method, path pattern with {name} segments, handler, required role,
 * body cap, summary) from which docs/api.md is generated. The server authenticates before
 * calling a handler (hooks injected by the auth capability, so http does not depend on it),
 * answers 401/403/404/405/413 itself as problem+json, and reports every mutating request to
 * the audit hook afterwards.
 *
 * A handler runs on a worker thread and must answer exactly once with one of the http_reply*
 * functions, or hand the request over as a stream (http_stream_start). Everything it
 * allocates from req->arena is freed when the request ends.
 *
 * Browsers authenticate with the session cookie HTTP_SESSION_COOKIE instead of a token (when
 * no Authorization header is sent). A cookie-authenticated request that changes something
 * (any method but GET, HEAD, OPTIONS) must come from the server's own origin
 * (http_same_origin), else it is refused with 403: the cookie is ambient, so this is the
 * cross-site request forgery guard. Bearer-token requests carry no ambient credential and are
 * not checked.
 */
#ifndef OC_HTTP_HTTP_H
#define OC_HTTP_HTTP_H

#include "core/arena.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oc_app;
struct sockaddr;
struct oc_buf;
struct http_server;

/* Roles, from least to most trusted; ingest is a separate, write-only role. */
enum http_role {
    HTTP_PUBLIC = 0, /* no token needed */
    HTTP_VIEWER,     /* read dashboards and APIs */
    HTTP_RESPONDER,  /* act on incidents; includes viewer */
    HTTP_ADMIN,      /* everything */
    HTTP_INGEST,     /* post telemetry only (admin may too) */
    HTTP_SIGNED,     /* no token: the handler authenticates the body's signature (provider
                        webhooks); left out of the generic audit, its capability keeps its own */
    HTTP_BEACON,     /* ingest, or a public ingest key in ?key= (player telemetry from web pages) */
};

#define HTTP_MAX_PARAMS         8            /* {name} segments per pattern */
#define HTTP_DEFAULT_BODY       0            /* http_route.max_body: use HTTP_ROUTE_BODY_DEFAULT */
#define HTTP_ROUTE_BODY_DEFAULT (1 << 20)    /* body cap of a route that sets none */
#define HTTP_KEY_MAX_BODY       (256u << 10) /* body cap of a request sent with a public key */

struct http_req;
typedef void http_handler_fn(struct http_req *req);

struct http_route {
    const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern;      /* "/v1/services/{name}/blast-radius" */
    http_handler_fn *handler; /* answers the request */
    enum http_role role;      /* least role required */
    size_t max_body;          /* body cap in bytes; 0: the server default */
    const char *summary;      /* one line for docs/api.md */
};

/* One request as a handler sees it. */
struct http_req {
    const struct http_route *route;            /* the matched route */
    void *state;                               /* the state of the module owning the route */
    struct oc_app *app;                        /* shared services */
    struct oc_arena arena;                     /* freed when the request ends */
    const char *method;                        /* "GET", ... */
    const char *path;                          /* decoded path, without the query */
    const char *param_names[HTTP_MAX_PARAMS];  /* from the pattern */
    const char *param_values[HTTP_MAX_PARAMS]; /* decoded, in the arena */
    int nparams;
    const char *body; /* NUL-terminated copy in the arena ("" if none) */
    size_t body_len;
    enum http_role role;   /* of the caller's token or session (HTTP_PUBLIC if none) */
    const char *principal; /* token name, or "anonymous" */
    const char *session;   /* the session cookie's value (arena) when the request was
                              authenticated by it; NULL for a token or no credential */
    int status;            /* set by http_reply*; 0 until answered */
};

/* Hooks the auth capability installs. authenticate: token -> role and name (copied into the
 * arena); returns 0 or OC_EAUTH. audit: called after each non-GET request is answered.
 * authenticate_session: the value of the session cookie -> role and name of the session
 * (copied into the arena); returns 0, OC_EAUTH (unknown, signed out, or its token revoked) or
 * OC_EGONE (expired); NULL: cookies authenticate nobody. */
struct http_hooks {
    int (*authenticate)(void *arg, const char *token, struct oc_arena *arena,
                        enum http_role *role /* OUT */, const char **name /* OUT */);
    void (*audit)(void *arg, const struct http_req *req);
    void *arg;
    int (*authenticate_session)(void *arg, const char *session, struct oc_arena *arena,
                                enum http_role *role /* OUT */, const char **name /* OUT */);
    /* A public ingest key (?key= on an HTTP_BEACON route, no Authorization header):
     * the request's Origin header (NULL when absent) and client address are checked against
     * the key's origins and rate limits. 0 with the key's name (in the arena), OC_EAUTH
     * (unknown or revoked: 401), OC_EPERM (origin not listed: 403, why says which), or
     * OC_EBUSY (over a rate: 429 with Retry-After *retry_s). NULL: keys authenticate nobody. */
    int (*authenticate_key)(void *arg, const char *key, const char *origin, const char *client,
                            struct oc_arena *arena, const char **name /* OUT */,
                            int *retry_s /* OUT */, char *why, size_t whyn);
};

#define HTTP_SESSION_COOKIE     "oncue_session" /* the browser session cookie's name */
#define HTTP_COOKIE_VALUE_MAX   256             /* longest cookie value http_cookie_get copies */
#define HTTP_STREAM_TICK_MS     250             /* how often open streams are pumped */
#define HTTP_STREAM_MAX_BUFFER  (1 << 20)       /* unsent bytes past which a stream is dropped */
#define HTTP_STREAM_BODY_BUFFER (256 << 10)     /* what a long answer's pump keeps queued */
#define HTTP_STREAM_ABORT       (-2)            /* a pump's answer: drop, no last chunk */

struct http_server_opts {
    const char *listen;         /* "ADDR:PORT"; port 0 picks a free port */
    int workers;                /* event-loop threads; 0: number of cores */
    size_t max_body;            /* largest body read at all; route caps apply below it */
    size_t max_headers;         /* header bytes cap */
    int timeout_s;              /* idle/read timeout per connection */
    size_t arena_max;           /* per-request arena cap */
    int max_connections;        /* open connections over all workers; 0: the descriptor limit
                                   (RLIMIT_NOFILE) less a tenth (at least 64) for everything else */
    int max_connections_per_ip; /* open connections from one client address; 0: half of
                                   max_connections */
    int request_deadline_s;     /* a request (headers and body) must arrive whole within it,
                                   counted from accept or the end of the previous answer */
    int trust_forwarded_for;    /* the client address is the last X-Forwarded-For entry */
};

/* Creates a server (not yet listening). Free with http_server_destroy. */
struct http_server *http_server_new(const struct http_server_opts *opts, struct oc_app *app);
/* Frees the server (NULL is a no-op); stop it first. */
void http_server_destroy(struct http_server *srv);
/* Adds a route table (ending in {0}) whose handlers get state. 0 or OC_ETOOBIG/OC_ECONFLICT. */
int http_server_add_routes(struct http_server *srv, const struct http_route *routes, void *state);
/* Installs the auth hooks (copied). */
void http_server_set_hooks(struct http_server *srv, const struct http_hooks *hooks);
/* Binds and starts the worker threads; 0, or OC_EIO with a reason in err. */
int http_server_start(struct http_server *srv, char *err, size_t errlen);
/* The bound address "ADDR:PORT" once started (owned by the server). */
const char *http_server_addr(const struct http_server *srv);
/* Stops accepting, lets in-flight requests finish for up to grace_ms, then joins workers. */
void http_server_stop(struct http_server *srv, int grace_ms);
/* Connections open now over every worker. */
int http_server_connections(const struct http_server *srv);
/* Requests started and answered so far, and those in flight now. */
uint64_t http_server_requests(const struct http_server *srv);
/* Appends one module's route table as a Markdown section of docs/api.md to b. */
void http_routes_doc(struct oc_buf *b, const char *module, const struct http_route *routes);

/* The value of path parameter name, or NULL. */
const char *http_param(const struct http_req *req, const char *name);
/* The decoded value of query parameter name (first occurrence, the name matched without
 * case; '+' and %XX decoded), or NULL. The query is parsed on the first call, into the
 * request's arena (valid until the answer); a pair without '=' leaves the whole query unread
 * (as evhttp's parser did before the server had its own). */
const char *http_query(struct http_req *req, const char *name);
/* The raw (still percent-encoded) query string, without '?', or NULL when there is none. */
const char *http_query_string(struct http_req *req);
/* Marks a POST that only reads (a query sent as a form, as Grafana does) as not audited:
 * the audit hook records actions, not reads. Call before answering. */
void http_skip_audit(struct http_req *req);
/* The value of request header name, or NULL. */
const char *http_header(const struct http_req *req, const char *name);
/* How long req waited, complete, before its handler was called: from when its last bytes
 * reached the host (the kernel's receive stamp; the read itself where the kernel gives none)
 * to the start of its dispatch. On a worker with more ready requests than it can serve this
 * is the queueing delay (the requests wait in the sockets' receive queues, not in a queue of
 * the server's). 0 for a request that did not come over a connection. */
int64_t http_req_wait_ns(const struct http_req *req);
/* Adds a response header (before replying). */
void http_set_header(struct http_req *req, const char *name, const char *value);

/* Sets the headers every HTML page answers with: Content-Security-Policy csp, no framing
 * (X-Frame-Options: DENY), Referrer-Policy: same-origin and X-Content-Type-Options: nosniff.
 * The console (src/web/) and the public status page use it. */
void http_set_page_headers(struct http_req *req, const char *csp);
/* Answers with status and body (copied). A HEAD request gets the headers only, with the
 * Content-Length the body would have. */
void http_reply(struct http_req *req, int status, const char *content_type, const void *body,
                size_t len);
/* Answers with the JSON serialization of v, and releases v (steals the reference). */
void http_reply_json(struct http_req *req, int status, json_t *v);
/* Answers application/problem+json with title from the status and a formatted detail. */
void http_problem(struct http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An answer given later, from any thread: a handler that waits for something slow (a group
 * commit) without holding its worker. http_later takes req's answer out of the handler: the
 * handler returns without answering, the worker serves other requests, and whoever holds
 * the handle answers exactly once with http_later_reply or http_later_problem (any thread;
 * the answer is written on the worker's thread, and dropped if the client left meanwhile).
 * NULL, and the handler answers as usual, when the server is stopping, the route is audited,
 * or the request was answered already. */
struct http_later;
struct http_later *http_later(struct http_req *req);
/* Answers with status and a copy of body (len bytes of content_type) and frees l. */
void http_later_reply(struct http_later *l, int status, const char *content_type, const void *body,
                      size_t len);
/* As http_later_reply, but takes body (malloc'd, len bytes; freed by the server, also when
 * len is 0) instead of copying it: a large answer is sent from where it was written. */
void http_later_reply_take(struct http_later *l, int status, const char *content_type, char *body,
                           size_t len);
/* Answers problem+json (as http_problem) and frees l. */
void http_later_problem(struct http_later *l, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct http_stream;
typedef int http_stream_pump_fn(struct http_stream *s, void *arg);
typedef void http_stream_free_fn(void *arg);
/* Answers with 200 and a long body of content_type written as it is read (any thread), and
 * frees l: a chunked body (HTTP/1.1) or one that ends with the connection (HTTP/1.0). On the
 * worker's thread, pump(s, arg) is called at once, again as soon as what it queued has been
 * sent, and every HTTP_STREAM_TICK_MS; it writes the next part with http_stream_write, keeping
 * at most about HTTP_STREAM_BODY_BUFFER bytes queued (http_stream_queued), and returns 0 for
 * more, -1 once the body is complete (the last chunk is sent), or HTTP_STREAM_ABORT to drop
 * the connection without the last chunk (the client sees the body incomplete). A client that
 * has not read for http.timeout_s is dropped. free_fn(arg) runs once, on the worker's thread,
 * when the stream ends, or at once when the client has left meanwhile or the server is
 * stopping (then the answer is 503). The server's stop lets such a stream run through its
 * grace period, then drops it. For answers that are not events: memory stays at the buffer
 * whatever the body's length. */
void http_later_stream(struct http_later *l, const char *content_type, http_stream_pump_fn *pump,
                       http_stream_free_fn *free_fn, void *arg);

/* Maps an oc_err to its status (the one place that does) and answers http_problem. */
void http_reply_err(struct http_req *req, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The status an oc_err maps to. */
int http_status_for(int err);
/* The reason phrase of a status ("Not Found"). */
const char *http_reason(int status);
/* Parses the body as a JSON object; on failure answers 400 (or 422 if not an object, or if a
 * string anywhere in it holds a NUL, "\u0000", naming the field) and returns NULL. The caller
 * owns the result. Integers in it are read with oc_json_get_int_range (core/json.h). */
json_t *http_body_json(struct http_req *req);

/* Finds cookie name in the Cookie header value hdr (len bytes; RFC 6265 "a=1; b=2", a value
 * may be in double quotes, which are removed) and copies the first value of that name into
 * out (n bytes, NUL-terminated). 0, OC_ENOTFOUND (absent, or hdr is not a cookie list), or
 * OC_ETOOBIG (the value does not fit; out is then ""). Reads nothing past hdr + len. */
int http_cookie_get(const char *hdr, size_t len, const char *name, char *out, size_t n);

/* The headers a cross-site check looks at (each NULL when absent); borrowed. */
struct http_origin_in {
    const char *host;            /* Host */
    const char *forwarded_proto; /* X-Forwarded-Proto ("https": the client used TLS) */
    const char *origin;          /* Origin */
    const char *referer;         /* Referer */
    const char *fetch_site;      /* Sec-Fetch-Site */
};
/* 0 when a request with these headers comes from the server's own origin ("http://" or
 * "https://" per forwarded_proto, then host): Origin equals it, or, without Origin, Referer
 * starts with it and "/"; and Sec-Fetch-Site, when sent, is neither "cross-site" nor
 * "same-site". Else -1 with the reason in why (whyn bytes). */
int http_origin_check(const struct http_origin_in *in, char *why, size_t whyn);
/* http_origin_check over req's own headers. */
int http_same_origin(const struct http_req *req, char *why, size_t whyn);
/* The client's address as text into out (n bytes): the peer's, or with
 * http.trust_forwarded_for the last entry of X-Forwarded-For (the one the proxy in front
 * added). "" when unknown. */
void http_client_addr(struct http_req *req, char *out, size_t n);
/* The connection's peer address (NULL when unknown); valid until the answer. */
const struct sockaddr *http_peer_addr(const struct http_req *req);
/* 1 when X-Forwarded-Proto says the client reached the server over TLS, else 0. */
int http_forwarded_https(const struct http_req *req);

/* Streams: a reply that stays open (server-sent events). The handler calls
 * http_stream_start instead of replying; from then on the stream belongs to the worker that
 * served the request. Every HTTP_STREAM_TICK_MS (and right after start) the worker calls pump,
 * which writes with http_stream_write and returns 0 to stay open or -1 to end the stream.
 * The stream ends when pump says so, when the client goes away, when the client reads too
 * slowly (more than HTTP_STREAM_MAX_BUFFER bytes unsent: the connection is dropped) or when
 * the server stops (http_server_stop ends every stream first); then free_fn(arg) runs, once,
 * on the worker's thread. pump and free_fn never run concurrently for one stream. */
/* Answers req with 200, the headers set so far and Content-Type content_type, keeps it open
 * as a stream and calls pump as soon as the handler has returned. 0; or OC_EBUSY when the server is
 * stopping (answered 503) or OC_EIO when the connection is gone (answered): free_fn(arg) has then
 * run. */
int http_stream_start(struct http_req *req, const char *content_type, http_stream_pump_fn *pump,
                      http_stream_free_fn *free_fn, void *arg);
/* Queues n bytes (copied) on the stream, from pump. 0, or OC_ETOOBIG when the client has
 * more than HTTP_STREAM_MAX_BUFFER bytes unread (nothing is queued; the stream is dropped
 * once pump returns). */
int http_stream_write(struct http_stream *s, const void *p, size_t n);
/* Bytes queued on the stream's connection and not yet sent (from pump). */
size_t http_stream_queued(const struct http_stream *s);
/* Streams open now over every worker (long answers included). */
int http_server_streams(const struct http_server *srv);

/* Role names: "viewer", "responder", "admin", "ingest" ("public" for HTTP_PUBLIC, "signed"
 * for HTTP_SIGNED, which no token holds, "ingest or public key" for HTTP_BEACON). */
const char *http_role_name(enum http_role r);
/* 0 or OC_EINVAL. */
int http_role_parse(const char *s, enum http_role *out /* OUT */);
/* 1 when a caller with role have may use a route requiring need. */
int http_role_allows(enum http_role have, enum http_role need);

#endif
