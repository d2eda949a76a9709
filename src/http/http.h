/*
 * http.h - the HTTP server: libevent's evhttp on N worker threads, a route table, problem+json
 * errors and body caps.
 *
 * Routes are static tables (method, path pattern with {name} segments, handler, required role,
 * body cap, summary) from which docs/api.md is generated. The server authenticates before
 * calling a handler (hooks injected by the auth capability, so http does not depend on it),
 * answers 401/403/404/405/413 itself as problem+json, and reports every mutating request to
 * the audit hook afterwards.
 *
 * A handler runs on a worker thread and must answer exactly once with one of the http_reply*
 * functions. Everything it allocates from req->arena is freed when the request ends.
 */
#ifndef OC_HTTP_HTTP_H
#define OC_HTTP_HTTP_H

#include "core/arena.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct evhttp_request;
struct oc_app;
struct oc_buf;
struct http_server;

/* Roles, from least to most trusted; ingest is a separate, write-only role. */
enum http_role {
    HTTP_PUBLIC = 0, /* no token needed */
    HTTP_VIEWER,     /* read dashboards and APIs */
    HTTP_RESPONDER,  /* act on incidents; includes viewer */
    HTTP_ADMIN,      /* everything */
    HTTP_INGEST,     /* post telemetry only (admin may too) */
};

#define HTTP_MAX_PARAMS         8         /* {name} segments per pattern */
#define HTTP_DEFAULT_BODY       0         /* http_route.max_body: use HTTP_ROUTE_BODY_DEFAULT */
#define HTTP_ROUTE_BODY_DEFAULT (1 << 20) /* body cap of a route that sets none */

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
    struct evhttp_request *ev;                 /* libevent's request; borrowed */
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
    enum http_role role;   /* of the caller's token (HTTP_PUBLIC if none) */
    const char *principal; /* token name, or "anonymous" */
    int status;            /* set by http_reply*; 0 until answered */
};

/* Hooks the auth capability installs. authenticate: token -> role and name (copied into the
 * arena); returns 0 or OC_EAUTH. audit: called after each non-GET request is answered. */
struct http_hooks {
    int (*authenticate)(void *arg, const char *token, struct oc_arena *arena,
                        enum http_role *role /* OUT */, const char **name /* OUT */);
    void (*audit)(void *arg, const struct http_req *req);
    void *arg;
};

struct http_server_opts {
    const char *listen; /* "ADDR:PORT"; port 0 picks a free port */
    int workers;        /* event-loop threads; 0: number of cores */
    size_t max_body;    /* largest body read at all; route caps apply below it */
    size_t max_headers; /* header bytes cap */
    int timeout_s;      /* idle/read timeout per connection */
    size_t arena_max;   /* per-request arena cap */
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
/* Requests started and answered so far, and those in flight now. */
uint64_t http_server_requests(const struct http_server *srv);
/* Appends one module's route table as a Markdown section of docs/api.md to b. */
void http_routes_doc(struct oc_buf *b, const char *module, const struct http_route *routes);

/* The value of path parameter name, or NULL. */
const char *http_param(const struct http_req *req, const char *name);
/* The decoded value of query parameter name (first occurrence), or NULL. */
const char *http_query(struct http_req *req, const char *name);
/* The value of request header name, or NULL. */
const char *http_header(const struct http_req *req, const char *name);
/* Adds a response header (before replying). */
void http_set_header(struct http_req *req, const char *name, const char *value);

/* Answers with status and body (copied). */
void http_reply(struct http_req *req, int status, const char *content_type, const void *body,
                size_t len);
/* Answers with the JSON serialization of v, and releases v (steals the reference). */
void http_reply_json(struct http_req *req, int status, json_t *v);
/* Answers application/problem+json with title from the status and a formatted detail. */
void http_problem(struct http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps an oc_err to its status (the one place that does) and answers http_problem. */
void http_reply_err(struct http_req *req, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The status an oc_err maps to. */
int http_status_for(int err);
/* The reason phrase of a status ("Not Found"). */
const char *http_reason(int status);
/* Parses the body as a JSON object; on failure answers 400 (or 422 if not an object) and
 * returns NULL. The caller owns the result. */
json_t *http_body_json(struct http_req *req);

/* Role names: "viewer", "responder", "admin", "ingest" ("public" for HTTP_PUBLIC). */
const char *http_role_name(enum http_role r);
/* 0 or OC_EINVAL. */
int http_role_parse(const char *s, enum http_role *out /* OUT */);
/* 1 when a caller with role have may use a route requiring need. */
int http_role_allows(enum http_role have, enum http_role need);

#endif
