/*
 * qpool.c - the threads that answer GET /v1/qoe and the PromQL queries (/api/v1/query,
 * /api/v1/query_range), so that a long query (up to the cost check's largest, a few hundred
 * milliseconds and tens of MiB) never holds an HTTP worker: /healthz and every other route
 * stay answered meanwhile. The worker parses and checks the query, then hands it over with
 * http_later; qoe.query_threads threads run it, write the JSON and hand the buffer over (the
 * worker sends it without copying it). At most qoe.query_queue queries wait; past it the
 * worker answers 503 with Retry-After. The threads also bound the memory of answers built at
 * once, and run at a lower priority than the workers (QUERY_NICE nicer, Linux). After an
 * answer of TRIM_AFTER bytes or more, glibc is asked to give the freed pages back
 * (malloc_trim): otherwise the server's RSS stays at its peak.
 *
 * A GET /v1/qoe answer longer than STREAM_AFTER bytes is not built whole: the thread formats
 * its first STREAM_AFTER bytes and hands the rest to the HTTP worker as a stream
 * (http_later_stream), whose pump formats STREAM_PIECE bytes at a time while less than
 * HTTP_STREAM_BODY_BUFFER bytes wait for the client (answer.c writes the same bytes as the
 * answer built whole). What the request holds then is the query's result (8 bytes a value),
 * the formatted piece and the unsent buffer, not the answer's text and JSON tree.
 */
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define TRIM_AFTER   (1 << 20)   /* bytes of an answer after which freed memory is given back */
#define QUERY_NICE   5           /* the query threads are this much nicer than the HTTP workers */
#define STREAM_AFTER (256 << 10) /* bytes of a GET /v1/qoe answer past which it is streamed */
#define STREAM_PIECE (16 << 10)  /* bytes a stream's pump formats at a time */

/* One query waiting for a thread. */
struct qjob {
    struct qjob *next;
    struct http_later *later; /* answered once */
    struct qoe_query q;       /* its filter values point into strings */
    char *strings;            /* the filter values (owned) */
    int whole;                /* answer whole, never as a stream (HEAD) */
    qoe_pool_fn fn;           /* instead of q: runs arg and answers later */
    void *arg;                /* fn's, freed by fn */
};

struct qoe_pool {
    struct qoe_module_state *ms; /* borrowed: the cube and the caps */
    pthread_t *th;               /* nth threads */
    int nth;
    int max_queued;     /* qoe.query_queue */
    pthread_mutex_t mu; /* a leaf: guards the queue and stopping */
    pthread_cond_t cv;  /* a job queued, or stopping */
    struct qjob *head;  /* oldest first */
    struct qjob **tail; /* where the next job goes */
    int queued;         /* jobs in the queue, and slots taken by jobs being queued */
    int stopping;       /* set by qoe_pool_destroy */
};

/* A long answer being sent as the client reads it (on its HTTP worker's thread). */
struct qstream {
    qoe_part_fn next;        /* formats the next part */
    void (*free_fn)(void *); /* frees arg */
    void *arg;               /* next's; owned */
    struct oc_buf b;         /* the part formatted and not yet queued */
    size_t total;            /* bytes queued so far */
    size_t max;              /* qoe.query_max_answer_bytes */
    int done;                /* b holds the answer's end */
};

static void qstream_free(void *arg)
{
    struct qstream *st = arg;
    size_t total = st->total;
    st->free_fn(st->arg);
    oc_buf_free(&st->b);
    free(st);
#ifdef __GLIBC__
    if (total >= TRIM_AFTER) /* the result is freed: return the pages */
        malloc_trim(0);
#else
    (void)total;
#endif
}

/* The stream's pump: queues what is formatted, then, unless HTTP_STREAM_BODY_BUFFER bytes
 * wait for the client already, formats and queues one piece of STREAM_PIECE bytes (one piece
 * per call: the worker serves its other connections between two). */
static int qstream_pump(struct http_stream *s, void *arg)
{
    static _Atomic int64_t logged_ms;
    struct qstream *st = arg;
    for (int pieces = 0; pieces < 2; pieces++) {
        if (st->b.len) {
            st->total += st->b.len;
            if (st->total > st->max) { /* the cost check's estimate fell short */
                if (oc_log_due(&logged_ms, 10000))
                    oc_log(OC_LOG_WARN,
                           "qoe: a streamed answer passed qoe.query_max_answer_bytes (%zu): cut",
                           st->max);
                return HTTP_STREAM_ABORT;
            }
            if (http_stream_write(s, st->b.data, st->b.len) != 0)
                return 0; /* the client is too far behind: the stream is dropped */
            oc_buf_reset(&st->b);
        }
        if (st->done)
            return -1;
        if (pieces || http_stream_queued(s) >= HTTP_STREAM_BODY_BUFFER)
            return 0;
        st->done = st->next(st->arg, &st->b, STREAM_PIECE);
        if (st->done < 0)
            return HTTP_STREAM_ABORT; /* past the piece's cap: cannot happen */
    }
    return 0;
}

int qoe_answer_parts(struct qoe_module_state *ms, struct http_later *later, int whole,
                     qoe_part_fn next, void (*free_fn)(void *), void *arg, size_t *len)
{
    struct oc_buf b;
    oc_buf_init(&b, (size_t)ms->max_answer_bytes);
    int done = next(arg, &b, whole ? SIZE_MAX : STREAM_AFTER);
    *len = b.len;
    if (done == 0) { /* long: the rest is formatted as the client reads */
        struct qstream *st = oc_calloc(1, sizeof *st);
        st->next = next;
        st->free_fn = free_fn;
        st->arg = arg;
        st->b = b; /* moved */
        st->max = (size_t)ms->max_answer_bytes;
        http_later_stream(later, "application/json", qstream_pump, qstream_free, st);
        return 0;
    }
    if (done > 0) /* handed over, not copied: the worker sends it from this buffer */
        http_later_reply_take(later, 200, "application/json", oc_buf_steal(&b), *len);
    oc_buf_free(&b);
    free_fn(arg);
    return done > 0 ? 0 : OC_ETOOBIG;
}

static int writer_next(void *w, struct oc_buf *b, size_t upto)
{
    return qoe_writer_next(w, b, upto);
}

static void writer_free(void *w)
{
    qoe_writer_destroy(w);
}

/* Runs the query of j and answers it whole, or, past STREAM_AFTER bytes and unless whole,
 * as a stream; returns the bytes formatted on this thread. */
static size_t answer_query(struct qoe_module_state *ms, struct qjob *j)
{
    struct qoe_writer *w = NULL;
    char err[1024];
    size_t len = 0;
    int rc = qoe_answer_start(ms, &j->q, &w, err, sizeof err);
    if (rc != 0)
        http_later_problem(j->later, http_status_for(rc), "%s", err);
    else if (qoe_answer_parts(ms, j->later, j->whole, writer_next, writer_free, w, &len) != 0)
        http_later_problem(j->later, 422,
                           "the answer is over qoe.query_max_answer_bytes (%lld): use a larger "
                           "step, a shorter range, or a smaller top",
                           (long long)ms->max_answer_bytes);
    return len;
}

/* Runs j and answers it; frees j. */
static void run_job(struct qoe_module_state *ms, struct qjob *j)
{
    size_t len;
    if (j->fn) {
        len = j->fn(ms, j->arg, j->later);
        free(j);
        goto trim;
    }
    len = answer_query(ms, j);
    free(j->strings);
    free(j);
trim:
#ifdef __GLIBC__
    if (len >= TRIM_AFTER) /* the result, its JSON tree and text are freed: return the pages */
        malloc_trim(0);
#else
    (void)len;
#endif
}

static void *pool_main(void *arg)
{
    struct qoe_pool *p = arg;
#ifdef __linux__
    /* on Linux a thread has its own nice value: with every core busy, /healthz still comes
     * first. QUERY_NICE more than the thread had (the workers'), not QUERY_NICE itself: a
     * server started under `nice -n 10` by root would else raise the query threads above its
     * workers (best effort: an error leaves the thread at the process's priority) */
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, tid);
    if (errno == 0)
        (void)setpriority(PRIO_PROCESS, tid, cur + QUERY_NICE > 19 ? 19 : cur + QUERY_NICE);
#endif
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        if (!p->head)
            break; /* stopping, and nothing left */
        struct qjob *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = &p->head;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        run_job(p->ms, j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct qoe_pool *qoe_pool_new(struct qoe_module_state *ms, int threads, int max_queued)
{
    if (threads < 1)
        return NULL;
    struct qoe_pool *p = oc_calloc(1, sizeof *p);
    p->ms = ms;
    p->max_queued = max_queued;
    p->tail = &p->head;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->th = oc_calloc((size_t)threads, sizeof *p->th);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->th[i], NULL, pool_main, p) != 0)
            break;
        pthread_setname_np(p->th[i], "oncue-query"); /* top -H (best effort) */
        p->nth++;
    }
    if (p->nth == 0) {
        qoe_pool_destroy(p);
        return NULL;
    }
    return p;
}

/* A copy of q whose filter values live in *strings (malloc'd). */
static void copy_query(struct qjob *j, const struct qoe_query *q)
{
    size_t n = 0, at = 0;
    j->q = *q;
    for (int i = 0; i < q->nfilters; i++)
        n += strlen(q->filters[i].value) + 1;
    j->strings = oc_malloc(n ? n : 1);
    for (int i = 0; i < q->nfilters; i++) {
        size_t len = strlen(q->filters[i].value) + 1;
        memcpy(j->strings + at, q->filters[i].value, len);
        j->q.filters[i].value = j->strings + at;
        at += len;
    }
}

/* Queues a job for req: 0, OC_EBUSY or OC_ENOTFOUND as qoe_pool_submit; *jp is the new job
 * (its later set) on 0, to be filled and then published with enqueue. */
static int reserve(struct qoe_pool *p, struct http_req *req, struct qjob **jp)
{
    pthread_mutex_lock(&p->mu);
    int full = p->queued >= p->max_queued || p->stopping;
    if (!full)
        p->queued++; /* the slot is this request's */
    pthread_mutex_unlock(&p->mu);
    if (full)
        return OC_EBUSY;
    struct http_later *l = http_later(req);
    if (!l) { /* the server is stopping: the worker answers */
        pthread_mutex_lock(&p->mu);
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        return OC_ENOTFOUND;
    }
    *jp = oc_calloc(1, sizeof **jp);
    (*jp)->later = l;
    return 0;
}

/* Hands j to a thread (its slot was reserved). */
static void enqueue(struct qoe_pool *p, struct qjob *j)
{
    pthread_mutex_lock(&p->mu);
    *p->tail = j;
    p->tail = &j->next;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int qoe_pool_submit(struct qoe_pool *p, struct http_req *req, const struct qoe_query *q)
{
    struct qjob *j;
    int rc = reserve(p, req, &j);
    if (rc == 0) {
        copy_query(j, q);
        j->whole = strcmp(req->method, "GET") != 0;
        enqueue(p, j);
    }
    return rc;
}

int qoe_pool_submit_fn(struct qoe_pool *p, struct http_req *req, qoe_pool_fn fn, void *arg)
{
    struct qjob *j;
    int rc = reserve(p, req, &j);
    if (rc == 0) {
        j->fn = fn;
        j->arg = arg;
        enqueue(p, j);
    }
    return rc;
}

void qoe_pool_destroy(struct qoe_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1; /* the threads answer what is queued, then end */
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nth; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
