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

/* On the worker's thread: writes the answer (or drops it for a client that left). */
static void write_answer(struct http_later *l)
{
    struct worker *w = l->w;
    http_count(w, l->e, l->status, l->start_ns);
    if (http_conn_later_gone(l->c)) {
        atomic_fetch_sub_explicit(&w->st.inflight, 1, memory_order_relaxed);
        return;
    }
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
