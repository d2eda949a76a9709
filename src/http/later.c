/*
 * later.c - answers given after the handler returned (see http_later in http.h).
 *
 * http_later marks the request (dispatch then neither complains that the handler did not
 * answer nor counts it) and holds its connection (conn.c reads no further request on it and
 * keeps the connection's memory if the client leaves). What the answer needs beyond the
 * handler's arena is kept in the handle: the connection, its worker, the header lines the
 * handler set, the path for a problem's instance, when it began. The answer is copied into
 * the handle on the calling thread and queued on the worker; the worker's loop writes every
 * queued answer in one callback, so every touch of the connection stays on its worker's
 * thread. A committer answering the writes of one group commit wakes each worker once, not
 * once per write.
 *
 * A client that left while its answer was pending: its connection is closed but kept (dead)
 * until the answer comes, which then only frees it and gives back the in-flight count; the
 * graceful stop waits for later answers like for any request in flight.
 *
 * A later answer may also be a long one written as the client reads (http_later_stream): the
 * handle then carries the pump instead of a body, and the worker starts it as a stream
 * (stream.c) on the connection.
 */
#include "http/http_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of a later answer's body from which the worker sends it from the handle's buffer
 * instead of copying it into the connection's output: a 4.6 MB query answer copied there held
 * its worker 13-128 ms on the sanitizer build (and /healthz behind it) */
#define LATER_TAKE (64 << 10)

struct http_later {
    struct http_later *next;    /* in the worker's queue */
    struct worker *w;           /* the worker whose loop writes the answer */
    struct http_conn *c;        /* the connection (held until the answer) */
    struct http_route_entry *e; /* its route, for the counters */
    int64_t start_ns;           /* when dispatch began */
    char *path;                 /* for a problem's instance; owned */
    char *oh;                   /* header lines set by the handler; owned */
    size_t ohn;
    int close;                /* the handler asked to close the connection */
    int status;               /* the answer, filled by the caller's thread */
    int retry;                /* a problem that asks to retry: Retry-After: 1 */
    const char *content_type; /* static strings only */
    char *body;               /* owned */
    size_t len;
    http_stream_pump_fn *pump;    /* a long answer: writes it (stream.c); NULL otherwise */
    http_stream_free_fn *free_fn; /* frees arg */
    void *arg;                    /* pump's; owned through free_fn until the stream has it */
};

struct http_later *http_later(struct http_req *req)
{
    struct http_req_impl *impl = (struct http_req_impl *)req;
    if (req->status || impl->audit || impl->later || impl->worker->stopping || !impl->conn)
        return NULL;
    struct http_later *l = oc_calloc(1, sizeof *l);
    l->w = impl->worker;
    l->c = impl->conn;
    l->e = impl->entry;
    l->start_ns = impl->start_ns;
    l->path = oc_strdup(req->path ? req->path : "");
    impl->later = l;
    http_conn_later_begin(impl->conn);
    return l;
}

void http_later_keep(struct http_later *l, const char *oh, size_t ohn, int close)
{
    l->oh = ohn ? oc_malloc(ohn) : NULL;
    if (ohn)
        memcpy(l->oh, oh, ohn);
    l->ohn = ohn;
    l->close = close;
}

/* Fills l's answer with problem+json (as http_problem, Retry-After for 503 and 429). */
static void set_problem(struct http_later *l, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_problem(struct http_later *l, int status, const char *fmt, ...)
{
    struct oc_buf b;
    va_list ap;
    va_start(ap, fmt);
    http_problem_text(&b, status, fmt, ap, l->path);
    va_end(ap);
    l->status = status;
    l->retry = status == 503 || status == 429;
    l->content_type = "application/problem+json";
    free(l->body);
    l->body = oc_malloc(b.len ? b.len : 1);
    memcpy(l->body, b.data, b.len);
    l->len = b.len;
    oc_buf_free(&b);
}

/* On the worker's thread: writes the answer (or drops it for a client that left). */
static void write_answer(struct http_later *l)
{
    struct worker *w = l->w;
    if (http_conn_later_gone(l->c)) {
        http_count(w, l->e, l->status, l->start_ns);
        atomic_fetch_sub_explicit(&w->st.inflight, 1, memory_order_relaxed);
        if (l->free_fn)
            l->free_fn(l->arg);
        l->free_fn = NULL;
        return;
    }
    if (l->pump) { /* a long answer: the stream holds the in-flight count until it ends */
        if (http_stream_begin_later(w, l->c, l->oh, l->ohn, l->content_type, l->pump, l->free_fn,
                                    l->arg) == 0) {
            http_conn_later_stream(l->c);
            l->free_fn = NULL; /* the stream's now */
            http_count(w, l->e, l->status, l->start_ns);
            return;
        }
        if (l->free_fn) /* the worker is stopping: 503 instead */
            l->free_fn(l->arg);
        l->free_fn = NULL;
        l->pump = NULL;
        set_problem(l, 503, "the server is stopping; retry in a moment");
    }
    http_count(w, l->e, l->status, l->start_ns);
    if (l->retry && !http_lines_have(l->oh, l->ohn, "Retry-After")) {
        size_t n = l->ohn;
        l->oh = oc_realloc(l->oh, n + 16);
        memcpy(l->oh + n, "Retry-After: 1\r\n", 16);
        l->ohn = n + 16;
    }
    if (l->len >= LATER_TAKE) { /* sent from where it is: no copy on the worker's thread */
        http_conn_answer_take(l->c, l->status, l->oh, l->ohn, l->content_type, l->body, l->len,
                              l->close);
        l->body = NULL;
    } else {
        http_conn_answer(l->c, l->status, l->oh, l->ohn, l->content_type, l->body, l->len,
                         l->close);
    }
    http_conn_later_done(l->c); /* sends it and goes on to the next request */
}

static void later_free(struct http_later *l)
{
    if (l->free_fn) /* a long answer never started (the server stopped) */
        l->free_fn(l->arg);
    free(l->body);
    free(l->path);
    free(l->oh);
    free(l);
}
/* The worker's later_ev: writes every answer queued so far, oldest first. */
static void write_queued(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct worker *w = arg;
    pthread_mutex_lock(&w->later_mu);
    struct http_later *l = w->later_head;
    w->later_head = NULL;
    w->later_tail = &w->later_head;
    pthread_mutex_unlock(&w->later_mu);
    while (l) {
        struct http_later *next = l->next;
        write_answer(l);
        later_free(l);
        l = next;
    }
}

int http_later_init(struct worker *w)
{
    w->later_ev = event_new(w->base, -1, 0, write_queued, w);
    if (!w->later_ev)
        return OC_EIO;
    pthread_mutex_init(&w->later_mu, NULL); /* cannot fail with default attributes */
    w->later_head = NULL;
    w->later_tail = &w->later_head;
    return 0;
}

void http_later_free(struct worker *w)
{
    if (!w->later_tail)
        return; /* never set up */
    for (struct http_later *l = w->later_head, *next; l; l = next) {
        next = l->next;
        later_free(l);
    }
    event_free(w->later_ev);
    pthread_mutex_destroy(&w->later_mu);
    w->later_ev = NULL;
    w->later_head = NULL;
    w->later_tail = NULL;
}

void http_later_reply(struct http_later *l, int status, const char *content_type, const void *body,
                      size_t len)
{
    char *copy = len ? oc_malloc(len) : NULL;
    if (len)
        memcpy(copy, body, len);
    http_later_reply_take(l, status, content_type, copy, len);
}

void http_later_reply_take(struct http_later *l, int status, const char *content_type, char *body,
                           size_t len)
{
    struct worker *w = l->w;
    l->status = status;
    l->content_type = content_type;
    l->len = len;
    l->body = len ? body : NULL;
    if (!len)
        free(body);
    l->next = NULL;
    pthread_mutex_lock(&w->later_mu);
    int first = w->later_head == NULL;
    *w->later_tail = l;
    w->later_tail = &l->next;
    pthread_mutex_unlock(&w->later_mu);
    if (first) /* else already active: the callback takes this one too */
        event_active(w->later_ev, EV_TIMEOUT, 1);
}

void http_later_stream(struct http_later *l, const char *content_type, http_stream_pump_fn *pump,
                       http_stream_free_fn *free_fn, void *arg)
{
    l->pump = pump;
    l->free_fn = free_fn;
    l->arg = arg;
    http_later_reply(l, 200, content_type, NULL, 0);
}

void http_later_problem(struct http_later *l, int status, const char *fmt, ...)
{
    struct oc_buf b;
    va_list ap;
    va_start(ap, fmt);
    http_problem_text(&b, status, fmt, ap, l->path);
    va_end(ap);
    l->retry = status == 503 || status == 429; /* as http_problem */
    http_later_reply(l, status, "application/problem+json", b.data, b.len);
    oc_buf_free(&b);
}
