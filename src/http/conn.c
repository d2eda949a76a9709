/*
 * conn.c - the connections of one worker: accept on its SO_REUSEPORT listener, read,
 * parse (parse.c), dispatch (dispatch.c) and write, with the connection caps (all clients,
 * one client address), the whole-request deadline, the idle timeout, the route's body cap
 * applied before a body is read, and pausing accept when the process is out of descriptors.
 *
 * Each connection has one persistent EV_READ event, an EV_WRITE event armed only when a
 * write would block, and one timer that checks the deadlines lazily (it fires at the nearest
 * possible one and works out what is actually due). Bytes are read into the connection's
 * input buffer, the head is parsed there in place (headers are NUL-terminated slices), a
 * Content-Length body is read into the same buffer and a chunked one decoded in place behind
 * its head. Every request already buffered (pipelining) is dispatched in one pass; their
 * answers are formatted into the output buffer and written with one send() at the end of the
 * pass, so a client never sees an answer before its audit row and bus events.
 *
 * A request answered later (later.c) holds its connection: nothing more is dispatched on it
 * until the answer is queued, and a client that leaves meanwhile only marks it closed (the
 * later answer frees it). A stream (stream.c) owns its connection until it ends. Everything
 * here runs on the worker's thread except the per-address counts, which the workers share
 * under ip_mu (a leaf lock).
 */
#include "http/http_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IP_KEY       17          /* family byte + 16 address bytes */
#define IP_BUCKETS   4096        /* per-address count table */
#define PAUSE_MS     100         /* accept stays paused this long after EMFILE (or until a close) */
#define LOG_EVERY_MS 10000       /* at most one "accept paused" log line per this */
#define IN_FIRST     4096        /* a connection's first input buffer */
#define OUT_HIGH     (256 << 10) /* unsent bytes past which no further request is dispatched */
#define BUF_KEEP     (64 << 10)  /* buffers larger than this are given back between requests */
#define LINGER_MS    2000 /* after an answer that closes: how long the client's rest is read */
#define ACCEPTS      64   /* accepts per wake-up of the listener */

enum { C_HEAD, C_BODY, C_BUSY, C_LINGER };

/* One accepted connection. */
struct http_conn {
    struct http_conn *prev, *next; /* the worker's list */
    struct worker *w;              /* owner */
    int fd;                        /* -1 once closed */
    struct event *rev, *wev, *tm;  /* read (persistent), write (when blocked), deadlines */
    int rev_on, wev_on, tm_on;     /* which are added */
    int state;                     /* C_HEAD, C_BODY, C_BUSY or C_LINGER */
    struct sockaddr_storage peer;  /* the client's address */
    unsigned char ip[IP_KEY];      /* its key in the per-address counts */
    char *in;                      /* input: in_len bytes of in_cap */
    size_t in_len, in_cap;
    size_t req_off;                 /* where the request being read begins in in */
    size_t next_off;                /* where the one after it begins (once read whole) */
    struct http_head head;          /* the request being read or answered */
    size_t body_off;                /* where its body begins */
    size_t raw_off, dlen;           /* chunked: undecoded bytes from raw_off; dlen decoded */
    size_t cap;                     /* its body cap */
    const struct http_route *route; /* the route that cap is of (NULL: the default) */
    struct http_chunked ch;         /* chunked decoding state */
    char *out;                      /* output: bytes out_off..out_len wait to be sent */
    size_t out_off, out_len, out_cap;
    char *tail;                 /* a large answer's body, sent after out (owned), or NULL */
    size_t tail_off, tail_len;  /* bytes tail_off..tail_len wait to be sent */
    int unflushed;              /* answers queued but not yet sent (counted in flight) */
    int close_after;            /* close once the output is sent */
    int eof;                    /* the client closed its side */
    int held;                   /* a later answer is pending: the struct stays */
    int dead;                   /* closed while held */
    int backlog;                /* dispatch stopped: too much output waiting */
    struct http_stream *stream; /* the stream this connection carries, or NULL */
    int64_t req_start_ns;       /* accept, or the end of the previous answer */
    int64_t arrive_ns;          /* when the bytes of the last read reached the host (the
                                   kernel's receive stamp, on the monotonic clock) */
    int64_t last_read_ns, last_write_ns, linger_until_ns;
};

/* One client address and its open connections. */
struct ip_count {
    struct ip_count *next;
    unsigned char ip[IP_KEY];
    int n;
};

static size_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return (size_t)h;
}

/* --- per-address counts, shared by the workers --- */

/* Counts one more connection from ip unless it has max already; 0 or -1. */
static int ip_take(struct http_server *srv, const unsigned char *ip, int max)
{
    int rc = 0;
    pthread_mutex_lock(&srv->ip_mu);
    struct ip_count **b = &srv->ip_buckets[hash_bytes(ip, IP_KEY) % IP_BUCKETS], *e = *b;
    while (e && memcmp(e->ip, ip, IP_KEY) != 0)
        e = e->next;
    if (!e) {
        e = oc_calloc(1, sizeof(*e));
        memcpy(e->ip, ip, IP_KEY);
        e->next = *b;
        *b = e;
    }
    if (e->n >= max)
        rc = -1;
    else
        e->n++;
    pthread_mutex_unlock(&srv->ip_mu);
    return rc;
}

static void ip_give(struct http_server *srv, const unsigned char *ip)
{
    pthread_mutex_lock(&srv->ip_mu);
    struct ip_count **p = &srv->ip_buckets[hash_bytes(ip, IP_KEY) % IP_BUCKETS];
    while (*p && memcmp((*p)->ip, ip, IP_KEY) != 0)
        p = &(*p)->next;
    if (*p && --(*p)->n <= 0) {
        struct ip_count *e = *p;
        *p = e->next;
        free(e);
    }
    pthread_mutex_unlock(&srv->ip_mu);
}

/* The address ss as a key (IPv4-mapped IPv6 counts as IPv4). */
static void peer_key(const struct sockaddr_storage *ss, unsigned char *key)
{
    memset(key, 0, IP_KEY);
    if (ss->ss_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        int v4 = memcmp(a, mapped, 12) == 0;
        key[0] = v4 ? 4 : 6;
        memcpy(key + 1, v4 ? a + 12 : a, v4 ? 4 : 16);
    }
}

/* --- events --- */

static void rev_set(struct http_conn *c, int on)
{
    if (on != c->rev_on && c->fd >= 0 && (on ? event_add(c->rev, NULL) : event_del(c->rev)) == 0)
        c->rev_on = on;
}

static void wev_set(struct http_conn *c, int on)
{
    if (on != c->wev_on && c->fd >= 0 && (on ? event_add(c->wev, NULL) : event_del(c->wev)) == 0)
        c->wev_on = on;
}

static void tm_arm(struct http_conn *c, int64_t ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (event_add(c->tm, &tv) == 0)
        c->tm_on = 1;
}

/* --- closing --- */

static void resume_accept(evutil_socket_t fd, short what, void *arg);

/* Closes c at once: its stream ends, its counts go, and it is freed (or, held by a later
 * answer, kept as dead until that answer comes). */
static void conn_free(struct http_conn *c)
{
    struct worker *w = c->w;
    struct http_server *srv = w->srv;
    if (c->fd < 0)
        return;
    if (c->stream) {
        struct http_stream *s = c->stream;
        c->stream = NULL;
        http_stream_closed(s);
    }
    if (c->unflushed)
        atomic_fetch_sub_explicit(&w->st.inflight, c->unflushed, memory_order_relaxed);
    c->unflushed = 0;
    event_free(c->rev);
    event_free(c->tm);
    event_free(c->wev);
    c->rev = c->tm = c->wev = NULL;
    close(c->fd);
    c->fd = -1;
    atomic_fetch_sub_explicit(&srv->nconns, 1, memory_order_relaxed);
    if (srv->opts.max_connections_per_ip > 0)
        ip_give(srv, c->ip);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->in);
    free(c->out);
    free(c->tail);
    c->in = c->out = c->tail = NULL;
    c->in_len = c->in_cap = c->out_len = c->out_off = c->out_cap = 0;
    c->tail_off = c->tail_len = 0;
    if (c->held)
        c->dead = 1;
    else
        free(c);
    if (w->accept_paused) /* a descriptor is free again */
        resume_accept(-1, 0, w);
}

/* After an answer that closes the connection: the write side is shut (the client sees the
 * end) and what the client still sends is read and dropped for up to LINGER_MS, so a body
 * left unread does not turn the close into a reset that could destroy the answer. */
static void conn_linger(struct http_conn *c)
{
    if (c->stream) {
        conn_free(c);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = C_LINGER;
    c->linger_until_ns = oc_mono_ns() + (int64_t)LINGER_MS * 1000000;
    rev_set(c, 1);
    wev_set(c, 0);
    tm_arm(c, LINGER_MS);
}

/* --- output --- */

static void out_reserve(struct http_conn *c, size_t n)
{
    if (c->out_cap - c->out_len >= n)
        return;
    if (c->out_off) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_cap - c->out_len >= n)
            return;
    }
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap - c->out_len < n)
        cap *= 2;
    c->out = oc_realloc(c->out, cap);
    c->out_cap = cap;
}

static void put(struct http_conn *c, const void *p, size_t n)
{
    if (!n) /* p may be NULL then (an answer without header lines) */
        return;
    out_reserve(c, n);
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

#define PUTS(c, s) put((c), (s), sizeof(s) - 1)

static void put_str(struct http_conn *c, const char *s)
{
    put(c, s, strlen(s));
}

static void put_uint(struct http_conn *c, uint64_t v)
{
    char d[24];
    int i = (int)sizeof(d);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(c, d + i, sizeof(d) - (size_t)i);
}

/* The Date header line of this second (cached per worker). */
static void put_date(struct http_conn *c)
{
    struct worker *w = c->w;
    time_t now = time(NULL);
    if ((int64_t)now != w->date_s) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(w->date_hdr, sizeof(w->date_hdr), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        w->date_s = now;
    }
    put_str(c, w->date_hdr);
}

static void status_line(struct http_conn *c, int status)
{
    char s[4] = {(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
                 (char)('0' + status % 10), ' '};
    PUTS(c, "HTTP/1.1 ");
    put(c, s, 4);
    put_str(c, http_reason(status));
    PUTS(c, "\r\n");
    put_date(c);
}

/* --- what dispatch, later and streams call --- */

/* Queues the status line and headers of an answer with a body of len bytes; 1 when the body
 * is to follow (not a HEAD request). */
static int answer_head(struct http_conn *c, int status, const char *oh, size_t ohn,
                       const char *content_type, size_t len, int close, size_t room)
{
    const struct http_head *h = &c->head;
    int head_only = h->method && strcmp(h->method, "HEAD") == 0;
    if (close || !h->keep_alive || c->w->stopping)
        c->close_after = 1;
    out_reserve(c, 256 + ohn + (head_only ? 0 : room));
    status_line(c, status);
    put(c, oh, ohn);
    if (content_type && len) {
        PUTS(c, "Content-Type: ");
        put_str(c, content_type);
        PUTS(c, "\r\n");
    }
    if (status >= 200 && status != 204 && status != 304) {
        PUTS(c, "Content-Length: ");
        put_uint(c, len);
        PUTS(c, "\r\n");
    }
    if (c->close_after)
        PUTS(c, "Connection: close\r\n");
    else if (h->minor == 0)
        PUTS(c, "Connection: keep-alive\r\n");
    PUTS(c, "\r\n");
    c->unflushed++;
    return !head_only;
}

void http_conn_answer(struct http_conn *c, int status, const char *oh, size_t ohn,
                      const char *content_type, const void *body, size_t len, int close)
{
    if (answer_head(c, status, oh, ohn, content_type, len, close, len) && len)
        put(c, body, len);
}

void http_conn_answer_take(struct http_conn *c, int status, const char *oh, size_t ohn,
                           const char *content_type, char *body, size_t len, int close)
{
    /* c->tail is NULL here: only a later answer leaves one, a connection has one later answer
     * at a time, and nothing more is dispatched on it until its tail has left (process) */
    if (answer_head(c, status, oh, ohn, content_type, len, close, 0) && len && !c->tail) {
        c->tail = body;
        c->tail_off = 0;
        c->tail_len = len;
        return;
    }
    free(body);
}

void http_conn_stream_begin(struct http_conn *c, struct http_stream *s, const char *oh, size_t ohn,
                            const char *content_type)
{
    status_line(c, 200);
    put(c, oh, ohn);
    PUTS(c, "Content-Type: ");
    put_str(c, content_type);
    PUTS(c, "\r\n");
    if (c->head.minor == 1) {
        PUTS(c, "Transfer-Encoding: chunked\r\n");
    } else {
        c->close_after = 1;
        PUTS(c, "Connection: close\r\n");
    }
    PUTS(c, "\r\n");
    c->stream = s;
}

size_t http_conn_queued(const struct http_conn *c)
{
    return c->out_len - c->out_off;
}

int http_conn_write(struct http_conn *c, const void *p, size_t n, size_t max)
{
    if (c->fd < 0 || c->out_len - c->out_off + n > max)
        return OC_ETOOBIG;
    put(c, p, n);
    return 0;
}

int http_conn_http11(const struct http_conn *c)
{
    return c->head.minor == 1;
}

struct worker *http_conn_worker(const struct http_conn *c)
{
    return c->w;
}

const struct sockaddr *http_conn_peer(const struct http_conn *c)
{
    return c->peer.ss_family ? (const struct sockaddr *)&c->peer : NULL;
}

void http_conn_peer_text(const struct http_conn *c, char *out, size_t n)
{
    if (!n)
        return;
    out[0] = '\0';
    if (c->peer.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&c->peer)->sin_addr, out, (socklen_t)n);
    else if (c->peer.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&c->peer)->sin6_addr, out, (socklen_t)n);
}

/* --- reading and dispatching --- */

/* Reads into c's input like read(2) and sets c->arrive_ns: when the last of the bytes read
 * reached the host, from the kernel's receive stamp (SO_TIMESTAMPNS, set on the listening
 * socket by listen.c; CLOCK_REALTIME, moved here onto the monotonic clock), or now when the
 * kernel gave none. A stamp in the future or more than a minute old (the wall clock was
 * set) counts as now. */
static ssize_t read_stamped(struct http_conn *c)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {c->in + c->in_len, c->in_cap - c->in_len};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    ssize_t r = recvmsg(c->fd, &msg, 0);
    if (r <= 0)
        return r;
    int64_t now = oc_mono_ns(), age = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts, wall;
        memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
        clock_gettime(CLOCK_REALTIME, &wall);
        age = ((int64_t)wall.tv_sec - ts.tv_sec) * 1000000000 + (wall.tv_nsec - ts.tv_nsec);
        if (age < 0 || age > (int64_t)60 * 1000000000)
            age = 0;
    }
    c->arrive_ns = now - age;
    return r;
}

/* Moves the head's pointers from the old input buffer to the new one (same offsets). */
static void rebase(struct http_head *h, const char *old, size_t oldn, char *nw)
{
    uintptr_t lo = (uintptr_t)old, hi = lo + oldn;
#define MOVE(p)                                                                                    \
    if ((p) && (uintptr_t)(p) >= lo && (uintptr_t)(p) < hi)                                        \
    (p) = nw + ((uintptr_t)(p)-lo)
    MOVE(h->method);
    MOVE(h->path);
    MOVE(h->query);
    for (int i = 0; i < h->nhdrs; i++) {
        MOVE(h->hdrs[i].name);
        MOVE(h->hdrs[i].value);
    }
#undef MOVE
}

/* Makes the input buffer hold at least cap bytes. */
static void in_resize(struct http_conn *c, size_t cap)
{
    char *nw = oc_malloc(cap);
    memcpy(nw, c->in, c->in_len);
    if (c->state == C_BODY)
        rebase(&c->head, c->in, c->in_len, nw);
    free(c->in);
    c->in = nw;
    c->in_cap = cap;
}

/* Room to read into: 1, or 0 when the buffer is full and may not grow now (reading pauses). */
static int make_room(struct http_conn *c)
{
    struct http_server *srv = c->w->srv;
    if (c->in_len < c->in_cap)
        return 1;
    if (c->state == C_HEAD && !c->backlog) {
        if (c->req_off) { /* the requests before it are done */
            memmove(c->in, c->in + c->req_off, c->in_len - c->req_off);
            c->in_len -= c->req_off;
            c->req_off = 0;
            return 1;
        }
        if (c->in_cap < srv->opts.max_headers + IN_FIRST) {
            in_resize(c, c->in_cap * 2);
            return 1;
        }
    } else if (c->state == C_BODY && c->head.chunked && c->in_cap < c->body_off + c->cap + 65536) {
        in_resize(c, c->in_cap * 2);
        return 1;
    }
    return 0;
}

/* The request read whole is answered (or its stream or later answer is done): the next one
 * begins, and so does its deadline. */
static void request_done(struct http_conn *c)
{
    c->req_off = c->next_off;
    c->state = C_HEAD;
    memset(&c->head, 0, offsetof(struct http_head, hdrs));
    c->head.nhdrs = 0;
    c->req_start_ns = oc_mono_ns();
    if (!c->tm_on)
        tm_arm(c, (int64_t)c->w->srv->opts.request_deadline_s * 1000);
    if (!c->eof)
        rev_set(c, 1);
}

static void run(struct http_conn *c, const char *body, size_t len, size_t next)
{
    c->state = C_BUSY;
    c->next_off = next;
    http_dispatch(c, &c->head, body, len, c->arrive_ns);
    if (c->fd >= 0 && !c->held && !c->stream)
        request_done(c);
}

/* Refuses the request being read with status (why as the detail); the connection closes
 * after the answer. */
static void refuse_request(struct http_conn *c, int status, const char *why)
{
    c->state = C_BUSY;
    http_dispatch_error(c, &c->head, status, why);
    c->close_after = 1;
}

/* After the head: the body's framing and cap. 0 to go on reading the body, -1 refused. */
static int begin_body(struct http_conn *c)
{
    struct http_server *srv = c->w->srv;
    struct http_head *h = &c->head;
    char why[256];
    c->body_off = c->req_off + h->end;
    c->cap = http_route_body_cap(srv, h->method, h->path, &c->route);
    if (!h->chunked && (uint64_t)h->content_length > c->cap) {
        if (c->route)
            snprintf(why, sizeof(why), "the body is %lld bytes; %s %s accepts at most %zu",
                     (long long)h->content_length, c->route->method, c->route->pattern, c->cap);
        else
            snprintf(why, sizeof(why), "the body is %lld bytes; at most %zu are accepted",
                     (long long)h->content_length, c->cap);
        refuse_request(c, 413, why);
        return -1;
    }
    if (h->expect_continue && h->minor == 1 &&
        (h->chunked || c->in_len - c->body_off < (uint64_t)h->content_length)) {
        PUTS(c, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (h->chunked) {
        memset(&c->ch, 0, sizeof(c->ch));
        c->raw_off = c->body_off;
        c->dlen = 0;
    } else if (c->in_cap < c->body_off + (size_t)h->content_length) {
        c->state = C_BODY; /* in_resize rebases the head */
        in_resize(c, c->body_off + (size_t)h->content_length);
    }
    c->state = C_BODY;
    return 0;
}

/* Decodes what arrived of a chunked body; 1 when whole, 0 for more, -1 refused. */
static int chunked_body(struct http_conn *c)
{
    char why[160];
    size_t used, made;
    int st = 400;
    int rc = http_chunked_feed(&c->ch, c->in + c->raw_off, c->in_len - c->raw_off,
                               c->in + c->body_off + c->dlen, c->cap, &used, &made, &st, why,
                               sizeof(why));
    c->dlen += made;
    c->raw_off += used;
    if (rc == 1)
        return 1;
    size_t rest = c->in_len - c->raw_off;
    memmove(c->in + c->body_off + c->dlen, c->in + c->raw_off, rest);
    c->raw_off = c->body_off + c->dlen;
    c->in_len = c->raw_off + rest;
    if (rc < 0) {
        char msg[300];
        if (st == 413 && c->route)
            snprintf(msg, sizeof(msg), "%s; %s %s accepts at most %zu", why, c->route->method,
                     c->route->pattern, c->cap);
        else
            snprintf(msg, sizeof(msg), "%s", why);
        refuse_request(c, st, msg);
        return -1;
    }
    return 0;
}

/* Dispatches every request buffered whole, in order, until one is answered later or
 * becomes a stream, the connection is to close, or too much output waits. */
static void process(struct http_conn *c)
{
    struct http_server *srv = c->w->srv;
    c->backlog = 0;
    while (c->fd >= 0 && !c->held && !c->stream && !c->close_after) {
        if (c->out_len - c->out_off > OUT_HIGH || c->tail) {
            c->backlog = 1; /* the next answer goes after the tail: it waits for it */
            break;
        }
        if (c->state == C_HEAD) {
            if (c->in_len == c->req_off)
                break;
            int rc = http_head_parse(c->in + c->req_off, c->in_len - c->req_off,
                                     srv->opts.max_headers, &c->head);
            if (rc == 0)
                break;
            if (rc < 0) {
                refuse_request(c, c->head.status, c->head.why);
                break;
            }
            if (!c->head.chunked && c->head.content_length <= 0) {
                size_t at = c->req_off + c->head.end;
                run(c, c->in + at, 0, at);
                continue;
            }
            if (begin_body(c) != 0)
                break;
        }
        if (c->state != C_BODY)
            break;
        if (c->head.chunked) {
            int rc = chunked_body(c);
            if (rc <= 0)
                break;
            run(c, c->in + c->body_off, c->dlen, c->raw_off);
        } else {
            size_t len = (size_t)c->head.content_length;
            if (c->in_len - c->body_off < len)
                break;
            run(c, c->in + c->body_off, len, c->body_off + len);
        }
    }
    if (c->fd >= 0 && c->state == C_HEAD && !c->held && !c->stream) {
        if (c->req_off == c->in_len) { /* nothing buffered: start over at the front */
            c->req_off = c->in_len = 0;
            if (c->in_cap > BUF_KEEP) {
                free(c->in);
                c->in = oc_malloc(IN_FIRST);
                c->in_cap = IN_FIRST;
            }
        }
        if (c->eof && !c->close_after) /* what is left can never complete */
            c->close_after = 1;
    }
    if (c->eof && c->state == C_BODY)
        c->close_after = 1;
}

/* Sends p[*off..len) on c, advancing *off. 1 when all of it left, else 0: blocked (EV_WRITE
 * armed) or the client is gone (c is closed and may be freed: touch it no more). */
static int send_from(struct http_conn *c, const char *p, size_t *off, size_t len)
{
    while (*off < len) {
        ssize_t r = send(c->fd, p + *off, len - *off, MSG_NOSIGNAL);
        if (r > 0) {
            *off += (size_t)r;
            c->last_write_ns = oc_mono_ns();
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wev_set(c, 1);
            if (!c->tm_on)
                tm_arm(c, (int64_t)c->w->srv->opts.timeout_s * 1000);
            return 0;
        }
        conn_free(c); /* the client is gone */
        return 0;
    }
    return 1;
}

/* Sends what waits in c's output, then its tail. 1 when all of it left and c stays open,
 * else 0 (blocked, or c closed or lingering). */
static int send_out(struct http_conn *c)
{
    if (!send_from(c, c->out, &c->out_off, c->out_len))
        return 0;
    c->out_off = c->out_len = 0;
    if (c->tail && !send_from(c, c->tail, &c->tail_off, c->tail_len))
        return 0;
    free(c->tail);
    c->tail = NULL;
    c->tail_off = c->tail_len = 0;
    if (c->wev_on) /* an answer that had to wait for the client: the deadline starts now */
        c->req_start_ns = c->last_write_ns;
    wev_set(c, 0);
    if (c->out_cap > BUF_KEEP && !c->stream) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    if (c->unflushed) {
        atomic_fetch_sub_explicit(&c->w->st.inflight, c->unflushed, memory_order_relaxed);
        c->unflushed = 0;
    }
    if (c->close_after && !c->held && !c->stream) {
        conn_linger(c);
        return 0;
    }
    if (c->stream)
        http_stream_drained(c->stream);
    return 1;
}

/* Dispatches and writes until nothing more can be done now. */
static void pump(struct http_conn *c)
{
    do {
        process(c);
        if (c->fd < 0 || !send_out(c))
            return;
        if (!c->eof)
            rev_set(c, 1);
    } while (c->backlog);
}

void http_conn_flush(struct http_conn *c)
{
    if (c->fd >= 0 && !c->held && !c->stream)
        pump(c);
    else if (c->fd >= 0)
        send_out(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_conn_flush(arg);
}

/* Reads and drops the client's bytes while lingering; frees c at its end. */
static void linger_read(struct http_conn *c)
{
    char sink[4096];
    ssize_t r = read(c->fd, sink, sizeof(sink));
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        conn_free(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_conn *c = arg;
    if (c->state == C_LINGER) {
        linger_read(c);
        return;
    }
    if (!make_room(c)) {
        rev_set(c, 0); /* read again once a request is done */
        return;
    }
    ssize_t r = read_stamped(c);
    if (r > 0) {
        c->in_len += (size_t)r;
        c->last_read_ns = oc_mono_ns();
    } else if (r == 0) {
        c->eof = 1;
        rev_set(c, 0);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return;
    } else {
        conn_free(c);
        return;
    }
    if (c->stream) { /* a streaming client that leaves is noticed at once */
        if (c->eof)
            conn_free(c);
        return;
    }
    if (c->held) /* bytes for the next request wait; the end closes once answered */
        return;
    pump(c);
}

/* The connection's one timer: works out which of its deadlines is due. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_conn *c = arg;
    struct http_server *srv = c->w->srv;
    int64_t now = oc_mono_ns(), due = INT64_MAX, ms = 1000000;
    c->tm_on = 0;
    if (c->state == C_LINGER) {
        if (now >= c->linger_until_ns)
            conn_free(c);
        else
            tm_arm(c, (c->linger_until_ns - now) / ms + 1);
        return;
    }
    if (c->out_off < c->out_len || c->tail) { /* the client does not read */
        due = c->last_write_ns + (int64_t)srv->opts.timeout_s * 1000 * ms;
        if (now >= due) {
            conn_free(c);
            return;
        }
    }
    if (!c->held && !c->stream && c->out_off == c->out_len && !c->tail) { /* waiting */
        int64_t dl = c->req_start_ns + (int64_t)srv->opts.request_deadline_s * 1000 * ms;
        int64_t act = c->last_read_ns > c->req_start_ns ? c->last_read_ns : c->req_start_ns;
        int64_t idle = act + (int64_t)srv->opts.timeout_s * 1000 * ms;
        if (now >= dl && c->state != C_BUSY) {
            atomic_fetch_add_explicit(&srv->deadline_closed, 1, memory_order_relaxed);
            conn_free(c);
            return;
        }
        if (now >= idle && c->state != C_BUSY) {
            conn_free(c);
            return;
        }
        due = dl < due ? dl : due;
        due = idle < due ? idle : due;
    }
    if (due != INT64_MAX)
        tm_arm(c, (due - now) / ms + 1);
}

/* --- later answers and streams --- */

void http_conn_later_begin(struct http_conn *c)
{
    c->held = 1;
}

int http_conn_later_gone(struct http_conn *c)
{
    if (!c->dead)
        return 0;
    free(c);
    return 1;
}

void http_conn_later_done(struct http_conn *c)
{
    c->held = 0;
    request_done(c);
    pump(c);
}

void http_conn_later_stream(struct http_conn *c)
{
    c->held = 0;
}

void http_conn_stream_done(struct http_conn *c)
{
    c->stream = NULL;
    if (c->head.minor != 1) { /* the end of the body is the connection's */
        c->close_after = 1;
        send_out(c);
        return;
    }
    request_done(c);
    pump(c);
}

void http_conn_abort(struct http_conn *c)
{
    conn_free(c);
}

/* --- accepting --- */

/* Refuses a new connection before reading anything: a short 503, then the close. */
static void refuse(struct http_server *srv, int fd, const char *why)
{
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                              "Content-Length: 0\r\nConnection: close\r\n\r\n";
    ssize_t r = send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)r; /* best effort: the client may see the close only */
    close(fd);
    atomic_fetch_add_explicit(&srv->conns_refused, 1, memory_order_relaxed);
    if (oc_log_due(&srv->refuse_logged_ms, LOG_EVERY_MS))
        oc_log(OC_LOG_WARN, "http: refusing connections (%s); %llu refused so far", why,
               (unsigned long long)atomic_load(&srv->conns_refused));
}

/* Counts a new connection against the caps (or refuses it) and starts reading it. */
static void adopt(struct worker *w, int fd, const struct sockaddr_storage *ss)
{
    struct http_server *srv = w->srv;
    unsigned char ip[IP_KEY];
    peer_key(ss, ip);
    int n = atomic_fetch_add_explicit(&srv->nconns, 1, memory_order_relaxed) + 1;
    int ip_ok = srv->opts.max_connections_per_ip <= 0 ||
                ip_take(srv, ip, srv->opts.max_connections_per_ip) == 0;
    if (n > srv->opts.max_connections || !ip_ok) {
        if (ip_ok && srv->opts.max_connections_per_ip > 0)
            ip_give(srv, ip);
        atomic_fetch_sub_explicit(&srv->nconns, 1, memory_order_relaxed);
        refuse(srv, fd,
               ip_ok ? "http.max_connections reached" : "http.max_connections_per_ip reached");
        return;
    }
    struct http_conn *c = oc_calloc(1, sizeof(*c));
    c->w = w;
    c->fd = fd;
    c->peer = *ss;
    memcpy(c->ip, ip, IP_KEY);
    c->in = oc_malloc(IN_FIRST);
    c->in_cap = IN_FIRST;
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->tm = event_new(w->base, -1, 0, on_timer, c);
    if (!c->rev || !c->wev || !c->tm)
        oc_oom(sizeof(struct event *)); /* libevent allocates with malloc */
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    c->req_start_ns = oc_mono_ns();
    int64_t first = srv->opts.request_deadline_s < srv->opts.timeout_s
                        ? srv->opts.request_deadline_s
                        : srv->opts.timeout_s;
    tm_arm(c, first * 1000);
    rev_set(c, 1);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct worker *w = arg;
    struct http_server *srv = w->srv;
    for (int i = 0; i < ACCEPTS; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            adopt(w, fd, &ss);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
            return; /* EAGAIN: nothing more waits */
        /* out of descriptors or memory: accept would fail at once again, so it pauses for
         * PAUSE_MS or until a connection closes */
        int err = errno;
        event_del(w->listener);
        w->accept_paused = 1;
        struct timeval tv = {0, PAUSE_MS * 1000};
        evtimer_add(w->accept_resume, &tv);
        atomic_fetch_add_explicit(&srv->accept_pauses, 1, memory_order_relaxed);
        if (oc_log_due(&srv->pause_logged_ms, LOG_EVERY_MS))
            oc_log(OC_LOG_ERROR,
                   "http: accept failed (%s) with %d connections open; accepting paused for %d "
                   "ms at a time (%llu pauses so far; lower http.max_connections or raise the "
                   "descriptor limit)",
                   strerror(err), atomic_load(&srv->nconns), PAUSE_MS,
                   (unsigned long long)atomic_load(&srv->accept_pauses));
        return;
    }
}

static void resume_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (!w->accept_paused || w->listen_fd < 0)
        return;
    w->accept_paused = 0;
    evtimer_del(w->accept_resume);
    event_add(w->listener, NULL);
}

/* --- what the rest of src/http/ calls --- */

void http_conn_limits(struct http_server *srv)
{
    struct rlimit rl;
    if (srv->opts.max_connections <= 0) {
        long fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                       ? (long)rl.rlim_cur
                       : 1024;
        long room = fds / 10 > 64 ? fds / 10 : 64;
        srv->opts.max_connections = fds - room > 16 ? (int)(fds - room) : 16;
    }
    if (srv->opts.max_connections_per_ip <= 0)
        srv->opts.max_connections_per_ip = srv->opts.max_connections / 2;
    if (srv->opts.request_deadline_s <= 0)
        srv->opts.request_deadline_s = 30;
    srv->ip_buckets = oc_calloc(IP_BUCKETS, sizeof(*srv->ip_buckets));
    pthread_mutex_init(&srv->ip_mu, NULL); /* cannot fail with default attributes */
}

void http_conn_free_limits(struct http_server *srv)
{
    if (!srv->ip_buckets)
        return;
    for (int i = 0; i < IP_BUCKETS; i++) {
        for (struct ip_count *e = srv->ip_buckets[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    }
    free(srv->ip_buckets);
    pthread_mutex_destroy(&srv->ip_mu);
}

int http_conn_init(struct worker *w, int listen_fd)
{
    w->listen_fd = listen_fd;
    w->accept_resume = evtimer_new(w->base, resume_accept, w);
    w->listener = event_new(w->base, listen_fd, EV_READ | EV_PERSIST, on_accept, w);
    if (!w->accept_resume || !w->listener || event_add(w->listener, NULL) != 0)
        return OC_EIO;
    return 0;
}

void http_conn_stop_accepting(struct worker *w)
{
    if (w->listen_fd < 0)
        return;
    if (w->listener)
        event_del(w->listener);
    if (w->accept_resume)
        evtimer_del(w->accept_resume);
    close(w->listen_fd);
    w->listen_fd = -1;
}

void http_conn_free(struct worker *w)
{
    while (w->conns)
        conn_free(w->conns);
    if (w->listener)
        event_free(w->listener);
    if (w->accept_resume)
        event_free(w->accept_resume);
    w->listener = w->accept_resume = NULL;
    if (w->listen_fd >= 0)
        close(w->listen_fd);
    w->listen_fd = -1;
}
