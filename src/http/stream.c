/*
 * stream.c - replies that stay open (server-sent events), owned by the worker that served
 * the request.
 *
 * http_stream_start sends the status and headers with a chunked body and links the stream
 * into its worker's list; one timer per worker (armed while any stream is open) calls each
 * stream's pump every HTTP_STREAM_TICK_MS. A stream leaves the list in exactly one of four
 * ways, each on the worker's thread: pump ends it (the last chunk is sent), the client reads
 * too slowly (the connection is dropped), the connection closes (libevent's close callback;
 * a client that left is noticed when a write to it fails), or the server stops. Streams
 * count as in flight until they leave, so the graceful stop waits for them, and it ends them
 * first.
 *
 * While a reply is written libevent reads the connection only to notice its end (a client
 * that leaves is seen at once), with the connection's read timeout: that timeout would end
 * every stream idle for http.timeout_s, so a stream has no read timeout (the write timeout
 * stays: a client that stops reading is dropped) and reads at most STREAM_READ_MAX bytes a
 * client sends meanwhile (then it stops reading them). Both are restored when the stream
 * ends and the connection may carry the next request.
 */
#include "http/http_int.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#define STREAM_READ_MAX 4096 /* bytes a client may send while its stream is open */

struct http_stream {
    struct http_stream *prev, *next; /* the worker's list */
    struct worker *w;                /* owner */
    struct evhttp_request *ev;       /* the request being answered */
    struct evhttp_connection *evcon; /* its connection */
    http_stream_pump_fn *pump;       /* writes what is new */
    http_stream_free_fn *free_fn;    /* frees arg */
    void *arg;                       /* the handler's state; owned through free_fn */
    struct evbuffer *chunk;          /* scratch for one chunk */
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

/* The stream has left its list and libevent no longer needs it: counts the request as done
 * and frees what the stream owns. */
static void finish(struct http_stream *s)
{
    atomic_fetch_sub_explicit(&s->w->st.inflight, 1, memory_order_relaxed);
    if (s->free_fn)
        s->free_fn(s->arg);
    evbuffer_free(s->chunk);
    free(s);
}

/* Sets the connection's read timeout and read watermark for a stream (on) or back to what
 * every other request has (off). */
static void stream_io(struct http_stream *s, int on)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
    struct timeval tv = {s->w->srv->opts.timeout_s, 0};
    if (!bev)
        return;
    bufferevent_set_timeouts(bev, on ? NULL : &tv, &tv);
    bufferevent_setwatermark(bev, EV_READ, 0, on ? STREAM_READ_MAX : 0);
}

/* Ends s with the last chunk; the connection may carry the next request. */
static void stream_end(struct http_stream *s)
{
    unlink_stream(s);
    http_conn_on_close(s->w, s->evcon, NULL, NULL);
    stream_io(s, 0);
    http_conn_request_done(s->w, s->ev); /* the connection's next request begins */
    evhttp_send_reply_end(s->ev);
    finish(s);
}

/* Drops a client too far behind: closes its connection, which frees the request. */
static void stream_drop(struct http_stream *s)
{
    static _Atomic int64_t logged_ms; /* a slow client can trigger it: one line per 10 s */
    static _Atomic uint64_t dropped;
    uint64_t n = atomic_fetch_add(&dropped, 1) + 1;
    if (oc_log_due(&logged_ms, 10000))
        oc_log(OC_LOG_WARN,
               "http: dropping a stream whose client is more than %d bytes behind (%llu so far)",
               HTTP_STREAM_MAX_BUFFER, (unsigned long long)n);
    unlink_stream(s);
    http_conn_on_close(s->w, s->evcon, NULL, NULL);
    evhttp_connection_free(s->evcon);
    finish(s);
}

/* libevent's close callback: the client went away (a write failed or timed out). libevent
 * detached the unfinished request from the connection; ending the reply frees it. */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct http_stream *s = arg;
    unlink_stream(s);
    if (!evhttp_request_get_connection(s->ev))
        evhttp_send_reply_end(s->ev);
    finish(s);
}

/* Calls s's pump and ends or drops s as it asks. */
static void pump_one(struct http_stream *s)
{
    int rc = s->pump(s, s->arg);
    if (s->overflow)
        stream_drop(s);
    else if (rc != 0)
        stream_end(s);
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
    struct worker *w = ((struct http_req_impl *)req)->worker;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
    if (w->stopping || !evcon || !w->stream_tick) {
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
    s->ev = req->ev;
    s->evcon = evcon;
    s->pump = pump;
    s->free_fn = free_fn;
    s->arg = arg;
    s->chunk = evbuffer_new();
    if (!s->chunk)
        oc_oom(sizeof(struct evbuffer *));
    req->status = 200;
    /* the stream counts itself in flight until it leaves; libevent would not call the
     * completion callback for a client that went away */
    evhttp_request_set_on_complete_cb(req->ev, NULL, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Content-Type", content_type);
    evhttp_send_reply_start(req->ev, 200, "OK");
    http_conn_on_close(w, evcon, on_close, s);
    stream_io(s, 1);
    s->next = w->streams;
    if (w->streams)
        w->streams->prev = s;
    w->streams = s;
    atomic_fetch_add_explicit(&w->nstreams, 1, memory_order_relaxed);
    if (!evtimer_pending(w->stream_tick, NULL)) {
        struct timeval tv = {0, HTTP_STREAM_TICK_MS * 1000};
        evtimer_add(w->stream_tick, &tv);
    }
    /* the first pump runs as soon as the handler has returned, not inside libevent's
     * request callback (ending or dropping the stream there would free what it still uses) */
    event_active(w->stream_tick, EV_TIMEOUT, 0);
    return 0;
}

int http_stream_write(struct http_stream *s, const void *p, size_t n)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
    size_t queued = bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
    if (s->overflow || queued + n > HTTP_STREAM_MAX_BUFFER) {
        s->overflow = 1;
        return OC_ETOOBIG;
    }
    if (n == 0)
        return 0;
    if (evbuffer_add(s->chunk, p, n) != 0)
        oc_oom(n);
    evhttp_send_reply_chunk(s->ev, s->chunk);
    evbuffer_drain(s->chunk, evbuffer_get_length(s->chunk));
    return 0;
}

int http_server_streams(const struct http_server *srv)
{
    int n = 0;
    for (int i = 0; i < srv->nworkers; i++)
        n += atomic_load_explicit(&srv->workers[i].nstreams, memory_order_relaxed);
    return n;
}
