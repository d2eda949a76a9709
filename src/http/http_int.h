/*
 * http_int.h - internals shared by the files of src/http/ (not for other folders).
 */
#ifndef OC_HTTP_HTTP_INT_H
#define OC_HTTP_HTTP_INT_H

#include "http/http.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>

struct oc_buf;

struct event;
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
} __attribute__((aligned(64)));

struct worker {
    struct http_server *srv; /* owner */
    pthread_t thread;        /* runs base */
    struct event_base *base; /* this worker's loop */
    int listen_fd;           /* its listening socket; -1 once closed */
    struct event *listener;  /* EV_READ on listen_fd: accepts (conn.c) */
    int started;             /* thread was created */
    struct worker_stats st;  /* this worker's counters */
    /* Streams (stream.c): touched only on this worker's thread. */
    struct http_stream *streams; /* open streams, a doubly linked list; owned */
    struct event *stream_tick;   /* pumps the streams every HTTP_STREAM_TICK_MS while any */
    int stopping;                /* http_server_stop began: no new stream */
    _Atomic int nstreams;        /* open streams (read by other threads for metrics) */
    /* Connections (conn.c): touched only on this worker's thread. */
    struct http_conn *conns;     /* open connections, a doubly linked list; owned */
    int accept_paused;           /* the listener is disabled after EMFILE/ENFILE */
    int64_t date_s;              /* the second date_hdr was formatted for */
    char date_hdr[48];           /* "Date: ...\r\n" of that second */
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

/* One header of a request: name and value NUL-terminated in place in the connection's input
 * buffer (the value without its surrounding spaces). */
struct http_hdr {
    const char *name;
    const char *value;
};

#define HTTP_MAX_HEADERS 100 /* header lines per request (more: 431) */

/* A request's head as http_head_parse reads it from the raw bytes. The pointers point into
 * the parsed bytes, which the parse NUL-terminates in place. */
struct http_head {
    size_t scan;            /* bytes already searched for the end; 0 before the first call */
    size_t end;             /* bytes of the head, leading empty lines and the empty line included */
    const char *method;     /* "GET", any token */
    const char *path;       /* the target's path, still percent-encoded ("/" for "*") */
    const char *query;      /* after '?', NULL when none */
    int minor;              /* HTTP/1.minor: 0 or 1 */
    int64_t content_length; /* -1 when none */
    int chunked;            /* Transfer-Encoding: chunked */
    int keep_alive;         /* the connection may carry another request after this one */
    int expect_continue;    /* Expect: 100-continue */
    struct http_hdr hdrs[HTTP_MAX_HEADERS];
    int nhdrs;
    int status;    /* on error: 400, 431, 501 or 505 */
    char why[160]; /* on error: the detail of the answer */
};
/* Parses the untrusted bytes p[0..n) of a request's head (empty lines before the request line
 * are skipped; lines end in CRLF or a bare LF; obsolete line folding is refused). 1 with *h
 * filled when the head is complete (then p[0..h->end) is modified: names, values, method and
 * target are NUL-terminated in place), 0 when more bytes are needed (nothing is modified; call
 * again with the same h and more bytes), -1 with h->status and h->why on a malformed head or
 * one not complete within max bytes (431). Reads nothing past p + n. Fuzzed by
 * tests/fuzz/fuzz_http_head.c. */
int http_head_parse(char *p, size_t n, size_t max, struct http_head *h);

/* A chunked body being decoded (zero it to start). */
struct http_chunked {
    int state;      /* where in the framing the decoder is */
    int digits;     /* hex digits of the size line so far */
    uint64_t left;  /* bytes of the current chunk still to come */
    uint64_t total; /* body bytes so far, announced sizes included */
    size_t line;    /* bytes of the current extension or trailer line */
    size_t trailer; /* trailer bytes so far */
};
/* Decodes the chunked framing in p[0..n), moving the body bytes to out (which may be p or
 * before it: the bytes are moved with memmove); *used bytes were read and *produced written.
 * 1 when the last chunk and the trailer are complete, 0 when more bytes are needed, -1 with
 * *status (400, or 413 as soon as a chunk size takes the body past cap) and why. */
int http_chunked_feed(struct http_chunked *d, const char *p, size_t n, char *out, size_t cap,
                      size_t *used /* OUT */, size_t *produced /* OUT */, int *status /* OUT */,
                      char *why, size_t whyn);

/* A request with what only the server needs. pub must stay first. */
struct http_req_impl {
    struct http_req pub;
    const char **qkeys; /* the query's names, parsed on first http_query (in the arena) */
    const char **qvals; /* their decoded values */
    int nq;             /* pairs */
    int query_parsed;
    int audit;                      /* report to the audit hook once answered */
    int close;                      /* the handler set Connection: close */
    struct worker *worker;          /* serving thread */
    struct http_conn *conn;         /* the connection; NULL for a request without one */
    const struct http_head *head;   /* its parsed head (in the connection) */
    int64_t start_ns;               /* when dispatch began (for the duration histogram) */
    int64_t wait_ns;                /* how long it waited, whole, for dispatch (>= 0) */
    struct http_later *later;       /* the handler will answer later (later.c) */
    struct http_route_entry *entry; /* the matched route, or NULL */
    char *oh;                       /* the answer's header lines set so far ("N: v\r\n") */
    size_t ohn, ohcap;              /* bytes used and room in oh */
    char oh_inline[1024];           /* oh's first home */
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
/* The problem+json text http_problem sends, into b (initialized here; the caller frees). */
void http_problem_text(struct oc_buf *b, int status, const char *fmt, va_list ap,
                       const char *instance);
/* 1 when the header lines oh[0..n) hold name (without case). */
int http_lines_have(const char *oh, size_t n, const char *name);

/* dispatch.c: runs the complete request in c (its head and body) through route, auth and
 * handler; the answer is queued on c (or later, or a stream). arrive_ns (oc_mono_ns's clock):
 * when its last bytes reached the host (http_req_wait_ns counts from it). */
void http_dispatch(struct http_conn *c, const struct http_head *h, const char *body,
                   size_t body_len, int64_t arrive_ns);
/* Answers the request in c that could not be read (status, detail why) as problem+json and
 * closes the connection after it. h may be only partly filled (method and path or NULL). */
void http_dispatch_error(struct http_conn *c, const struct http_head *h, int status,
                         const char *why);
/* The body cap of the route a request (method, raw path) reaches: the route's own or the
 * default, never above opts.max_body; *route is that route or NULL. */
size_t http_route_body_cap(struct http_server *srv, const char *method, const char *path,
                           const struct http_route **route /* OUT */);

/* conn.c. Fills the connection defaults into srv->opts and sets up the per-address counts;
 * http_conn_free_limits undoes it (after the workers' connections are closed). */
void http_conn_limits(struct http_server *srv);
void http_conn_free_limits(struct http_server *srv);
/* Sets up w's accepting on listen_fd (owned from now on); 0 or OC_EIO. */
int http_conn_init(struct worker *w, int listen_fd);
/* On w's thread: stops accepting and closes the listening socket. */
void http_conn_stop_accepting(struct worker *w);
/* Closes every connection of w and frees what http_conn_init made (after its loop stopped). */
void http_conn_free(struct worker *w);
/* Queues the answer to the request in flight on c: status, the header lines oh[0..ohn)
 * (each "Name: value\r\n"), Content-Type when len, the body (for HEAD its length only);
 * close: the connection closes after it. Counts nothing. The bytes leave once the dispatch
 * pass ends (http_conn_flush). */
void http_conn_answer(struct http_conn *c, int status, const char *oh, size_t ohn,
                      const char *content_type, const void *body, size_t len, int close);
/* As http_conn_answer, but takes body (malloc'd, len bytes; freed here) instead of copying
 * it: it is sent from where it is once the head has left, so a large answer costs its
 * worker no copy (later.c). */
void http_conn_answer_take(struct http_conn *c, int status, const char *oh, size_t ohn,
                           const char *content_type, char *body, size_t len, int close);
/* Writes what c has queued; on a connection done with its request (not busy) goes on to the
 * next buffered request. May close and free c unless c is held (later answer pending). */
void http_conn_flush(struct http_conn *c);
/* The request in flight on c is answered later: c reads no further request until
 * http_conn_later_done. */
void http_conn_later_begin(struct http_conn *c);
/* 1 when c closed while its later answer was pending (c is freed here), else 0. */
int http_conn_later_gone(struct http_conn *c);
/* The later answer was queued on c (http_conn_answer): c goes on to its next request. c may
 * be freed on return. */
void http_conn_later_done(struct http_conn *c);
/* Streams: answers the request on c with 200, the header lines oh[0..ohn) and content_type,
 * a chunked body (HTTP/1.1) or one that ends with the connection (HTTP/1.0); c carries s
 * from now on (busy until http_conn_stream_done). */
void http_conn_stream_begin(struct http_conn *c, struct http_stream *s, const char *oh, size_t ohn,
                            const char *content_type);
/* The stream ended: its last bytes are queued; c goes on to its next request. */
void http_conn_stream_done(struct http_conn *c);
/* Closes c at once (a stream's client too far behind); the stream's close callback runs. */
void http_conn_abort(struct http_conn *c);
/* Bytes queued on c's output and not yet sent. */
size_t http_conn_queued(const struct http_conn *c);
/* The later answer on c becomes a stream: c is no longer held (http_conn_stream_begin
 * follows). */
void http_conn_later_stream(struct http_conn *c);
/* Queues n raw bytes on c's output; 0, or OC_ETOOBIG when more than max bytes would wait. */
int http_conn_write(struct http_conn *c, const void *p, size_t n, size_t max);
/* The peer's address of c (NULL when unknown), and as text into out (n bytes). */
const struct sockaddr *http_conn_peer(const struct http_conn *c);
void http_conn_peer_text(const struct http_conn *c, char *out, size_t n);
/* 1 when the request on c is HTTP/1.1 (chunked answers possible). */
int http_conn_http11(const struct http_conn *c);
/* The worker that owns c. */
struct worker *http_conn_worker(const struct http_conn *c);

/* later.c: keeps the header lines oh[0..ohn) the handler set (copied) and whether it asked
 * to close, for the later answer l. */
void http_later_keep(struct http_later *l, const char *oh, size_t ohn, int close);
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
/* The connection carrying s closed (the client left or was dropped): s leaves its worker's
 * list and its free_fn runs. */
void http_stream_closed(struct http_stream *s);
/* Everything queued on s's connection has been sent: a long answer's pump runs again soon
 * (from the loop, not inside this call). */
void http_stream_drained(struct http_stream *s);
/* On w's thread: starts a long answer (http_later_stream) on c, whose later answer it was:
 * 0, or OC_EBUSY when w is stopping (nothing done; the caller answers 503). */
int http_stream_begin_later(struct worker *w, struct http_conn *c, const char *oh, size_t ohn,
                            const char *content_type, http_stream_pump_fn *pump,
                            http_stream_free_fn *free_fn, void *arg);

#endif
