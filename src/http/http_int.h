/*
 * http_int.h - internals shared by the files of src/http/ (not for other folders).
 */
#ifndef OC_HTTP_HTTP_INT_H
#define OC_HTTP_HTTP_INT_H

#include "http/http.h"

#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>

struct oc_buf;

struct event;
struct evhttp_connection;
struct evhttp_request;
struct http_conn;
struct ip_count;
struct http_route_entry;
struct http_stream;

#define HTTP_MAX_WORKERS  64   /* event-loop threads */
#define HTTP_MAX_SEGMENTS 16   /* path segments per pattern or request */
#define HTTP_MAX_ROUTES   512  /* routes per server */
#define HTTP_MAX_PATH     2048 /* longest request path */

/* Request-duration histogram bucket bounds in seconds. */
#define NDUR 9
extern const double http_dur_bounds[NDUR];

/* Counters of one worker, written only by its thread (no cache-line sharing); the renderer
 * and http_server_requests sum them over the workers. */
struct worker_stats {
    _Atomic uint64_t requests;              /* answered */
    _Atomic int64_t inflight;               /* in a handler or flushing a reply */
    _Atomic uint64_t by_class[6];           /* answered, by status / 100 */
    _Atomic uint64_t dur_buckets[NDUR + 1]; /* answered, by duration bucket */
    _Atomic uint64_t dur_sum_us;            /* total request time */
    _Atomic uint64_t keeper_wakes;          /* wake-ups of the connections' keepers (conn.c) */
} __attribute__((aligned(64)));

struct worker {
    struct http_server *srv;           /* owner */
    pthread_t thread;                  /* runs base */
    struct event_base *base;           /* this worker's loop */
    struct evhttp *http;               /* this worker's evhttp */
    struct evhttp_bound_socket *bound; /* its listening socket */
    int started;                       /* thread was created */
    struct worker_stats st;            /* this worker's counters */
    /* Streams (stream.c): touched only on this worker's thread. */
    struct http_stream *streams; /* open streams, a doubly linked list; owned */
    struct event *stream_tick;   /* pumps the streams every HTTP_STREAM_TICK_MS while any */
    int stopping;                /* http_server_stop began: no new stream */
    _Atomic int nstreams;        /* open streams (read by other threads for metrics) */
    /* Connections (conn.c): touched only on this worker's thread. */
    struct http_conn **conn_slot; /* open connections by evhttp connection; conn_cap slots */
    size_t conn_cap, nconn;
    int accept_paused;           /* the listener is disabled after EMFILE/ENFILE */
    struct event *accept_resume; /* enables it again */
    /* The requests' arena, reset after each (its first block is kept for the next). */
    struct oc_arena arena;
    /* Later answers (later.c): queued by any thread, written by this worker's loop. */
    pthread_mutex_t later_mu;      /* guards later_head, later_tail (a leaf lock) */
    struct http_later *later_head; /* oldest first; each owned */
    struct http_later **later_tail;
    struct event *later_ev; /* made active when the queue becomes non-empty */
};

struct http_server {
    struct http_server_opts opts;    /* copied; listen points at listen_buf */
    char listen_buf[128];            /* opts.listen */
    struct oc_app *app;              /* shared services */
    struct http_route_entry *routes; /* compiled, nroutes used */
    int nroutes;
    size_t evhttp_max_body;  /* bodies past it: libevent 413 */
    struct http_hooks hooks; /* auth and audit */
    struct worker workers[HTTP_MAX_WORKERS];
    int nworkers;
    char addr[80];                          /* bound "ADDR:PORT" */
    _Atomic uint64_t unmatched_by_class[6]; /* answered without a route (404, 405, ...) */
    /* Connections (conn.c), over all workers. */
    _Atomic int nconns;               /* open and counted */
    _Atomic uint64_t conns_refused;   /* refused at a connection cap */
    _Atomic uint64_t deadline_closed; /* closed at the request deadline */
    _Atomic uint64_t accept_pauses;   /* accept paused for lack of descriptors */
    _Atomic int64_t refuse_logged_ms; /* last "refusing connections" log line */
    _Atomic int64_t pause_logged_ms;  /* last "accept paused" log line */
    pthread_mutex_t ip_mu;            /* guards ip_buckets (a leaf lock) */
    struct ip_count **ip_buckets;     /* open connections per client address */
};

/* A compiled route. */
struct http_route_entry {
    const struct http_route *r;          /* the table row */
    void *state;                         /* module state for the handler */
    char pattern_buf[256];               /* segments point in here */
    const char *segs[HTTP_MAX_SEGMENTS]; /* literal text or "{name}" */
    char names[HTTP_MAX_PARAMS][64];     /* parameter names, in order */
    int nsegs;
    _Atomic uint64_t by_class[6]; /* answered on this route, by status / 100 (all workers) */
};

/* A request with what only the server needs. pub must stay first. */
struct http_req_impl {
    struct http_req pub;
    const char **qkeys; /* the query's names, parsed on first http_query (in the arena) */
    const char **qvals; /* their decoded values */
    int nq;             /* pairs */
    int query_parsed;
    int audit;                      /* report to the audit hook once answered */
    struct worker *worker;          /* serving thread */
    int64_t start_ns;               /* when dispatch began (for the duration histogram) */
    struct http_later *later;       /* the handler will answer later (later.c) */
    struct http_route_entry *entry; /* the matched route, or NULL */
    char path[HTTP_MAX_PATH];       /* the decoded path (req->path points here); must stay last */
};

/* Compiles r; 0 or OC_EINVAL for a malformed pattern. */
int http_route_compile(struct http_route_entry *e, const struct http_route *r, void *state);
/* 1 when the split path segs matches e (and, if req, fills req's params), else 0. */
int http_route_match(const struct http_route_entry *e, const char *const *segs, int nsegs,
                     struct http_req *req);
/* Splits an absolute path into segments in buf; count or -1. */
int http_path_split(const char *path, char *buf, size_t bufn, const char **segs);

/* Requests in flight over all workers (for the graceful stop). */
int64_t http_server_inflight(const struct http_server *srv);

/* Counts one answered request of worker w on route e (NULL: none matched): its status class
 * and duration since start_ns. */
void http_count(struct worker *w, struct http_route_entry *e, int status, int64_t start_ns);
/* Writes an answer on ev (on its worker's thread): Content-Type when there is a body, the
 * body (for HEAD, only its Content-Length), then sends it. */
void http_send(struct evhttp_request *ev, int head, int status, const char *content_type,
               const void *body, size_t len);
/* The problem+json text http_problem sends, into b (initialized here; the caller frees). */
void http_problem_text(struct oc_buf *b, int status, const char *fmt, va_list ap,
                       const char *instance);

/* The evhttp callback of every worker; arg is the struct worker. */
void http_dispatch(struct evhttp_request *ev, void *arg);

/* The start of a request as conn.c reads it from the raw bytes, before evhttp does. */
struct http_head {
    size_t end;                 /* bytes of the request line and headers, empty line included */
    int chunked;                /* a Transfer-Encoding header is present */
    char method[16];            /* the request line's first word, cut to fit */
    char target[HTTP_MAX_PATH]; /* its second word, cut to fit */
};
/* Scans the untrusted bytes p[0..n) of a request's start (empty lines before the request
 * line are skipped, as evhttp does; lines end in LF or CRLF). 1 with *h filled when the
 * header block is complete within n, else 0. Reads nothing past p + n. Fuzzed by
 * tests/fuzz/fuzz_http_head.c. */
int http_head_scan(const char *p, size_t n, struct http_head *h);

/* The body cap of the route a request line (method, target) reaches, for conn.c: the route's
 * own or the default, never above opts.max_body. */
size_t http_route_body_cap(struct http_server *srv, const char *method, const char *target);

/* conn.c. Fills the connection defaults into srv->opts and sets up the per-address counts;
 * http_conn_free_limits undoes it (after the workers' evhttp are freed). */
void http_conn_limits(struct http_server *srv);
void http_conn_free_limits(struct http_server *srv);
/* Hooks w's evhttp (before binding); 0 or OC_EIO. */
int http_conn_init(struct worker *w);
/* After w->bound is set: pauses accepting on EMFILE/ENFILE instead of spinning. */
void http_conn_listen(struct worker *w);
/* On w's thread, before its loop runs. */
void http_conn_thread(struct worker *w);
/* Frees what http_conn_init made, after evhttp_free. */
void http_conn_free(struct worker *w);
/* The request ev has arrived whole (dispatch): its connection's deadline stops. */
void http_conn_request_read(struct worker *w, struct evhttp_request *ev);
/* The answer to ev is sent: the connection's next request begins, its deadline starts. */
void http_conn_request_done(struct worker *w, struct evhttp_request *ev);
/* Sets the callback run when evcon closes (a stream's), NULL to clear it; the connection's
 * own accounting runs as well. */
void http_conn_on_close(struct worker *w, struct evhttp_connection *evcon,
                        void (*cb)(struct evhttp_connection *, void *), void *arg);

/* later.c: sets up w's queue of later answers (0 or OC_EIO) and frees it (after the loop
 * stopped; answers still queued are dropped). */
int http_later_init(struct worker *w);
void http_later_free(struct worker *w);

/* Creates w's stream timer (not armed); 0 or OC_EIO. */
int http_streams_init(struct worker *w);
/* On w's thread: refuses new streams and ends every open one (their free_fn runs). */
void http_streams_stop(struct worker *w);
/* Frees w's stream timer (after its loop stopped). */
void http_streams_free(struct worker *w);

#endif
