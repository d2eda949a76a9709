/*
 * stream.c - replies that stay open (server-sent events), owned by the worker that served
 * the request.
 *
 * http_stream_start queues the status and headers with a chunked body (a body that ends with
 * the connection for an HTTP/1.0 client) and links the stream into its worker's list; one
 * timer per worker (armed while any stream is open) calls each stream's pump every
 * HTTP_STREAM_TICK_MS, and what the pump wrote is sent right after it. A stream leaves the
 * list in exactly one of four ways, each on the worker's thread: pump ends it (the last chunk
 * is sent and the connection goes on to its next request), the client reads too slowly (the
 * connection is dropped), the connection closes (conn.c sees the client leave, as it reads
 * the connection all along, or a write fail), or the server stops. Streams count as in flight
 * until they leave, so the graceful stop waits for them, and it ends them first. A stream has
 * no idle timeout; a client that stops reading is dropped at HTTP_STREAM_MAX_BUFFER bytes
 * behind, or after http.timeout_s without a write going through.
 */
#include "http/http_int.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

struct http_stream {
    struct http_stream *prev, *next; /* the worker's list */
    struct worker *w;                /* owner */
    struct http_conn *c;             /* the connection carrying it */
    http_stream_pump_fn *pump;       /* writes what is new */
    http_stream_free_fn *free_fn;    /* frees arg */
    void *arg;                       /* the handler's state; owned through free_fn */
    int overflow;                    /* a write found the client too far behind */
};

static void unlink_stream(struct http_stream *s)
{
    struct worker *w = s->w;
    if (s->prev)
        s->prev->next = s->next;
    else
        w->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    atomic_fetch_sub_explicit(&w->nstreams, 1, memory_order_relaxed);
    if (!w->streams)
        evtimer_del(w->stream_tick);
}

/* The stream has left its list: counts the request as done and frees what the stream owns. */
static void finish(struct http_stream *s)
{
    atomic_fetch_sub_explicit(&s->w->st.inflight, 1, memory_order_relaxed);
    if (s->free_fn)
        s->free_fn(s->arg);
    free(s);
}

/* Ends s with the last chunk; the connection may carry the next request. */
static void stream_end(struct http_stream *s)
{
    struct http_conn *c = s->c;
    unlink_stream(s);
    if (http_conn_http11(c))
        http_conn_write(c, "0\r\n\r\n", 5, (size_t)-1);
    finish(s);
    http_conn_stream_done(c);
}

/* Drops a client too far behind: closes its connection (which ends s through
 * http_stream_closed). */
static void stream_drop(struct http_stream *s)
{
    static _Atomic int64_t logged_ms; /* a slow client can trigger it: one line per 10 s */
    static _Atomic uint64_t dropped;
    uint64_t n = atomic_fetch_add(&dropped, 1) + 1;
    if (oc_log_due(&logged_ms, 10000))
        oc_log(OC_LOG_WARN,
               "http: dropping a stream whose client is more than %d bytes behind (%llu so far)",
               HTTP_STREAM_MAX_BUFFER, (unsigned long long)n);
    http_conn_abort(s->c);
}

void http_stream_closed(struct http_stream *s)
{
    unlink_stream(s);
    finish(s);
}

/* Calls s's pump, sends what it wrote, and ends or drops s as it asks. */
static void pump_one(struct http_stream *s)
{
    int rc = s->pump(s, s->arg);
    if (s->overflow)
        stream_drop(s);
    else if (rc != 0)
        stream_end(s);
    else
        http_conn_flush(s->c); /* may close c (the client left), which ends s */
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    struct http_stream *s = w->streams, *next;
    for (; s; s = next) {
        next = s->next;
        pump_one(s);
    }
}

int http_streams_init(struct worker *w)
{
    w->stream_tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    return w->stream_tick ? 0 : OC_EIO;
}

void http_streams_stop(struct worker *w)
{
    w->stopping = 1;
    while (w->streams)
        stream_end(w->streams);
}

void http_streams_free(struct worker *w)
{
    if (w->stream_tick)
        event_free(w->stream_tick);
    w->stream_tick = NULL;
}

int http_stream_start(struct http_req *req, const char *content_type, http_stream_pump_fn *pump,
                      http_stream_free_fn *free_fn, void *arg)
{
    struct http_req_impl *impl = (struct http_req_impl *)req;
    struct worker *w = impl->worker;
    if (w->stopping || !impl->conn || !w->stream_tick || impl->later || req->status) {
        if (free_fn)
            free_fn(arg);
        if (w->stopping) {
            http_problem(req, 503, "the server is stopping; reconnect in a moment");
            return OC_EBUSY;
        }
        http_problem(req, 500, "the connection cannot carry a stream");
        return OC_EIO;
    }
    struct http_stream *s = oc_calloc(1, sizeof(*s));
    s->w = w;
    s->c = impl->conn;
    s->pump = pump;
    s->free_fn = free_fn;
    s->arg = arg;
    req->status = 200;
    /* the stream counts itself in flight until it leaves (finish) */
    http_conn_stream_begin(s->c, s, impl->oh, impl->ohn, content_type);
    s->next = w->streams;
    if (w->streams)
        w->streams->prev = s;
    w->streams = s;
    atomic_fetch_add_explicit(&w->nstreams, 1, memory_order_relaxed);
    if (!evtimer_pending(w->stream_tick, NULL)) {
        struct timeval tv = {0, HTTP_STREAM_TICK_MS * 1000};
        evtimer_add(w->stream_tick, &tv);
    }
    /* the first pump runs as soon as the handler has returned, not inside dispatch (ending
     * or dropping the stream there would free what dispatch still uses) */
    event_active(w->stream_tick, EV_TIMEOUT, 0);
    return 0;
}

int http_stream_write(struct http_stream *s, const void *p, size_t n)
{
    char size[24];
    if (s->overflow || n > HTTP_STREAM_MAX_BUFFER) {
        s->overflow = 1;
        return OC_ETOOBIG;
    }
    if (n == 0)
        return 0;
    int http11 = http_conn_http11(s->c);
    int k = http11 ? snprintf(size, sizeof(size), "%zx\r\n", n) : 0;
    if (http_conn_write(s->c, size, (size_t)k, HTTP_STREAM_MAX_BUFFER - n) != 0 ||
        http_conn_write(s->c, p, n, HTTP_STREAM_MAX_BUFFER) != 0 ||
        (http11 && http_conn_write(s->c, "\r\n", 2, (size_t)-1) != 0)) {
        s->overflow = 1;
        return OC_ETOOBIG;
    }
    return 0;
}

int http_server_streams(const struct http_server *srv)
{
    int n = 0;
    for (int i = 0; i < srv->nworkers; i++)
        n += atomic_load_explicit(&srv->workers[i].nstreams, memory_order_relaxed);
    return n;
}
