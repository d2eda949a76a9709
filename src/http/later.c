/*
 * later.c - answers given after the handler returned (see http_later in http.h).
 *
 * http_later marks the request (dispatch then neither complains that the handler did not
 * answer nor counts it) and keeps what the answer needs beyond the handler's arena: the
 * libevent request, its worker, the path for a problem's instance, when it began. The answer
 * is copied into the handle on the calling thread and queued on the worker; the worker's loop
 * writes every queued answer in one callback (libevent is thread-aware: server.c calls
 * evthread_use_pthreads), so every touch of the request stays on its worker's thread. A
 * committer answering the writes of one group commit wakes each worker once, not once per
 * write (an event_base_once each before: a malloc, the base's lock and a wake-up).
 *
 * A client that leaves while its answer is pending: libevent detaches the unanswered request
 * from the connection instead of freeing it (the request is the handler's until answered),
 * and sending on a detached request frees it. The completion callback does not run for it,
 * so the in-flight count is given back here; the graceful stop waits for later answers like
 * for any request in flight.
 */
#include "http/http_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_later {
    struct http_later *next;    /* in the worker's queue */
    struct worker *w;           /* the worker whose loop writes the answer */
    struct evhttp_request *ev;  /* libevent's request */
    struct http_route_entry *e; /* its route, for the counters */
    int64_t start_ns;           /* when dispatch began */
    int head;                   /* a HEAD request: headers only */
    char *path;                 /* for a problem's instance; owned */
    int status;                 /* the answer, filled by the caller's thread */
    int retry;                  /* a problem that asks to retry: Retry-After: 1 */
    const char *content_type;   /* static strings only */
    char *body;                 /* owned */
    size_t len;
};

struct http_later *http_later(struct http_req *req)
{
    struct http_req_impl *impl = (struct http_req_impl *)req;
    if (req->status || impl->audit || impl->later || impl->worker->stopping)
        return NULL;
    struct http_later *l = oc_calloc(1, sizeof *l);
    l->w = impl->worker;
    l->ev = req->ev;
    l->e = impl->entry;
    l->start_ns = impl->start_ns;
    l->head = strcmp(req->method, "HEAD") == 0;
    l->path = oc_strdup(req->path ? req->path : "");
    impl->later = l;
    return l;
}

/* On the worker's thread: writes the answer (or drops it for a client that left). */
static void write_answer(struct http_later *l)
{
    struct worker *w = l->w;
    struct evhttp_connection *evcon = evhttp_request_get_connection(l->ev); /* NULL: gone */
    if (l->retry)
        evhttp_add_header(evhttp_request_get_output_headers(l->ev), "Retry-After", "1");
    /* on a detached request this frees it; else the completion callback runs as usual */
    http_send(l->ev, l->head, l->status, l->content_type, l->body, l->len);
    if (!evcon)
        atomic_fetch_sub_explicit(&w->st.inflight, 1, memory_order_relaxed);
    http_count(w, l->e, l->status, l->start_ns);
}

static void later_free(struct http_later *l)
{
    free(l->body);
    free(l->path);
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
    struct worker *w = l->w;
    l->status = status;
    l->content_type = content_type;
    l->len = len;
    l->body = len ? oc_malloc(len) : NULL;
    if (len)
        memcpy(l->body, body, len);
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
