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
 *
 * A long answer (http_later_stream) is a stream too, with two differences: its pump also runs
 * as soon as what it queued has been sent (conn.c calls http_stream_drained), so the answer
 * flows at the client's pace through a buffer of HTTP_STREAM_BODY_BUFFER bytes instead of
 * one tick at a time (each pump after the loop polled its sockets again, so the worker's
 * other connections are served between two parts); and the server's stop does not end it (a last
 * chunk would pass a cut answer off as whole): it runs on through the grace period, and is dropped
 * without its last chunk if still unfinished then.
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
    int body;                        /* a long answer (http_later_stream), not events */
    struct event *drained;           /* body: made active when its output has been sent */
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
    if (s->drained)
        event_free(s->drained);
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
    else if (rc == HTTP_STREAM_ABORT)
        http_conn_abort(s->c); /* ends s through http_stream_closed */
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

static void on_drained(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump_one(arg);
}

void http_stream_drained(struct http_stream *s)
{
    /* pumped from the loop, not inside the write that drained it, and after the loop has
     * polled its sockets again (a timer, not event_active: an event made active from a
     * callback runs in the same pass, so a client that reads fast would starve the others) */
    static const struct timeval now = {0, 0};
    if (s->body && !evtimer_pending(s->drained, NULL))
        evtimer_add(s->drained, &now);
}

size_t http_stream_queued(const struct http_stream *s)
{
    return http_conn_queued(s->c);
}

int http_streams_init(struct worker *w)
{
    w->stream_tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    return w->stream_tick ? 0 : OC_EIO;
}

void http_streams_stop(struct worker *w)
{
    w->stopping = 1;
    for (struct http_stream *s = w->streams, *next; s; s = next) {
        next = s->next;
        if (!s->body) /* long answers run on through the grace period */
            stream_end(s);
    }
}

void http_streams_free(struct worker *w)
{
    if (w->stream_tick)
        event_free(w->stream_tick);
    w->stream_tick = NULL;
}

/* Links a new stream for the request on c into w's list and answers its head (the header
 * lines oh[0..ohn) and content_type); the first pump runs once the caller has returned. */
static void begin(struct worker *w, struct http_conn *c, const char *oh, size_t ohn,
                  const char *content_type, http_stream_pump_fn *pump, http_stream_free_fn *free_fn,
                  void *arg, int body)
{
    struct http_stream *s = oc_calloc(1, sizeof(*s));
    s->w = w;
    s->c = c;
    s->pump = pump;
    s->free_fn = free_fn;
    s->arg = arg;
    s->body = body;
    if (body)
        s->drained = event_new(w->base, -1, 0, on_drained, s);
    if (body && !s->drained)
        abort(); /* libevent allocates only: out of memory, as oc_malloc would */
    /* the stream counts itself in flight until it leaves (finish) */
    http_conn_stream_begin(c, s, oh, ohn, content_type);
    s->next = w->streams;
    if (w->streams)
        w->streams->prev = s;
    w->streams = s;
    atomic_fetch_add_explicit(&w->nstreams, 1, memory_order_relaxed);
    if (!evtimer_pending(w->stream_tick, NULL)) {
        struct timeval tv = {0, HTTP_STREAM_TICK_MS * 1000};
        evtimer_add(w->stream_tick, &tv);
    }
    /* the first pump runs as soon as the caller has returned, not inside dispatch (ending
     * or dropping the stream there would free what dispatch still uses) */
    if (body)
        event_active(s->drained, EV_TIMEOUT, 0);
    else
        event_active(w->stream_tick, EV_TIMEOUT, 0);
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
    req->status = 200;
    begin(w, impl->conn, impl->oh, impl->ohn, content_type, pump, free_fn, arg, 0);
    return 0;
}

int http_stream_begin_later(struct worker *w, struct http_conn *c, const char *oh, size_t ohn,
                            const char *content_type, http_stream_pump_fn *pump,
                            http_stream_free_fn *free_fn, void *arg)
{
    if (w->stopping || !w->stream_tick)
        return OC_EBUSY;
    begin(w, c, oh, ohn, content_type, pump, free_fn, arg, 1);
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
