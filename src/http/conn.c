/*
 * conn.c - connections: the connection caps (all clients, one client address), the
 * whole-request deadline, the route's body cap applied while the body is read, and pausing
 * accept when the process is out of descriptors.
 *
 * evhttp (libevent 2.1) owns accept and gives no hook between reading the headers and the
 * body. The hooks used: the bufferevent callback (evhttp_set_bevcb), which lets this file
 * create each connection's bufferevent and so watch its input buffer; a one-shot event that
 * runs right after accept, in the same loop iteration, and adopts the connection (peer, caps,
 * close callback, deadline); the close callback; and the listener's error callback. Each
 * worker keeps its connections in a map from the evhttp connection, so dispatch can stop the
 * deadline when a request is complete. Everything here runs on the worker's thread except
 * the per-address counts, which are shared by the workers under ip_mu (a leaf lock).
 *
 * Each adopted connection also has a keeper: a second EV_READ event on its socket that holds
 * the socket's read interest in epoll while evhttp turns its own reading off and on around
 * every request, so those turns change nothing in the kernel (see keep_read).
 */
#include "http/http_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define IP_KEY       17    /* family byte + 16 address bytes */
#define IP_BUCKETS   4096  /* per-address count table */
#define PAUSE_MS     100   /* accept stays paused this long after EMFILE (or until a close) */
#define LOG_EVERY_MS 10000 /* at most one "accept paused" log line per this */

/* One accepted connection. */
struct http_conn {
    struct worker *w;                /* owner */
    struct bufferevent *bev;         /* created here; evhttp frees it */
    struct evhttp_connection *evcon; /* set once adopted */
    struct evbuffer_cb_entry *watch; /* on the input buffer */
    struct event *timer;             /* adoption, then the request deadline */
    struct event *keeper;            /* holds read interest (keep_read) */
    int keeper_wakes;                /* its wake-ups since a request was done */
    int keeper_parked;               /* taken out until the request is done */
    unsigned char ip[IP_KEY];        /* the peer's address */
    int adopted;                     /* counted and in the worker's map */
    int at_start;                    /* the next input bytes begin a request */
    void (*close_cb)(struct evhttp_connection *, void *); /* a stream's (http_conn_on_close) */
    void *close_arg;
};

/* One client address and its open connections. */
struct ip_count {
    struct ip_count *next;
    unsigned char ip[IP_KEY];
    int n;
};

static _Thread_local struct worker *this_worker; /* the worker whose loop runs this thread */

static size_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return (size_t)h;
}

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

/* --- the worker's map from evhttp connection to struct http_conn (open addressing) --- */

static struct http_conn *map_find(const struct worker *w, const struct evhttp_connection *evcon)
{
    if (!w->conn_cap || !evcon)
        return NULL;
    size_t mask = w->conn_cap - 1;
    for (size_t i = hash_ptr(evcon) & mask; w->conn_slot[i]; i = (i + 1) & mask)
        if (w->conn_slot[i]->evcon == evcon)
            return w->conn_slot[i];
    return NULL;
}

static void map_put(struct worker *w, struct http_conn *c)
{
    if ((w->nconn + 1) * 2 > w->conn_cap) {
        size_t old = w->conn_cap, cap = old ? old * 2 : 256;
        struct http_conn **o = w->conn_slot;
        w->conn_slot = oc_calloc(cap, sizeof(*o));
        w->conn_cap = cap;
        w->nconn = 0;
        for (size_t i = 0; i < old; i++)
            if (o[i])
                map_put(w, o[i]);
        free(o);
    }
    size_t mask = w->conn_cap - 1, i = hash_ptr(c->evcon) & mask;
    while (w->conn_slot[i])
        i = (i + 1) & mask;
    w->conn_slot[i] = c;
    w->nconn++;
}

/* Removes c, shifting back the entries after it that probed past its slot. */
static void map_del(struct worker *w, const struct http_conn *c)
{
    size_t mask = w->conn_cap - 1, i = hash_ptr(c->evcon) & mask;
    while (w->conn_slot[i] != c)
        i = (i + 1) & mask;
    w->conn_slot[i] = NULL;
    w->nconn--;
    for (size_t j = (i + 1) & mask; w->conn_slot[j]; j = (j + 1) & mask) {
        size_t home = hash_ptr(w->conn_slot[j]->evcon) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) { /* its home is not in (i, j] */
            w->conn_slot[i] = w->conn_slot[j];
            w->conn_slot[j] = NULL;
            i = j;
        }
    }
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

/* The peer's address of fd as a key (IPv4-mapped IPv6 counts as IPv4). */
static void peer_key(int fd, unsigned char *key)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    memset(key, 0, IP_KEY);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        const unsigned char *a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        int v4 = memcmp(a, mapped, 12) == 0;
        key[0] = v4 ? 4 : 6;
        memcpy(key + 1, v4 ? a + 12 : a, v4 ? 4 : 16);
    }
}

/* --- the body cap of chunked requests --- */

/* At the start of a request whose header block is buffered: a chunked body (whose length
 * libevent learns only as it reads) gets the route's body cap as the connection's, so
 * libevent answers 413 as soon as the body passes it. A body with a Content-Length is read
 * up to http.max_body_bytes and answered 413 problem+json by dispatch when over the route's
 * cap. GET and HEAD are left alone (no body expected; dispatch applies the default cap). */
static void apply_route_cap(struct http_conn *c)
{
    struct http_server *srv = c->w->srv;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    unsigned char first[4] = {0};
    struct http_head h;
    if (!c->at_start || !c->evcon)
        return;
    evbuffer_copyout(in, first, sizeof(first));
    if (memcmp(first, "GET ", 4) == 0 || memcmp(first, "HEAD", 4) == 0) {
        c->at_start = 0;
        evhttp_connection_set_max_body_size(c->evcon, (ev_ssize_t)srv->opts.max_body);
        return;
    }
    size_t n = evbuffer_get_length(in), most = srv->opts.max_headers + 4;
    if (n > most)
        n = most;
    const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    if (!p || !http_head_scan(p, n, &h)) {
        if (n == most)
            c->at_start = 0; /* no end of headers within the cap: evhttp refuses it */
        return;
    }
    c->at_start = 0;
    evhttp_connection_set_max_body_size(
        c->evcon, (ev_ssize_t)(h.chunked ? http_route_body_cap(srv, h.method, h.target)
                                         : srv->opts.max_body));
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    if (info->n_added)
        apply_route_cap(arg);
}

/* --- adoption, the deadline, close --- */

static void conn_free(struct http_conn *c)
{
    if (c->keeper) /* before evhttp closes the socket: on_close runs first */
        event_free(c->keeper);
    if (c->watch)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->watch);
    if (c->timer)
        event_free(c->timer);
    free(c);
}

/* The deadline timer: arms it for the request that begins now. */
static void arm(struct http_conn *c)
{
    struct timeval tv = {c->w->srv->opts.request_deadline_s, 0};
    event_add(c->timer, &tv);
}

static void resume_accept(evutil_socket_t fd, short what, void *arg);

/* The keeper's callback. evhttp stops reading once a request is read and starts again when
 * its answer is written: with the bufferevent's read event the only reader, that is an
 * epoll_ctl DEL and ADD per request (half of a check's epoll_ctl calls). With the keeper also
 * reading the socket, libevent's map of the socket's events keeps EPOLLIN and only the write
 * interest changes (two MODs). The keeper reads nothing: woken once per request (the request
 * arriving: the bufferevent reads it in the same pass), it does nothing; woken a second time
 * before the request is done (bytes or EOF waiting while evhttp does not read, a stream's
 * client over its read watermark, a body arriving in pieces: epoll is level-triggered, so it
 * could wake every loop pass), it steps aside until the request is done, and the connection
 * costs what it did without it. */
static void keep_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_conn *c = arg;
    atomic_fetch_add_explicit(&c->w->st.keeper_wakes, 1, memory_order_relaxed);
    if (++c->keeper_wakes >= 2) {
        event_del(c->keeper);
        c->keeper_parked = 1;
    }
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    struct http_conn *c = arg;
    struct worker *w = c->w;
    struct http_server *srv = w->srv;
    if (c->close_cb)
        c->close_cb(evcon, c->close_arg);
    map_del(w, c);
    atomic_fetch_sub_explicit(&srv->nconns, 1, memory_order_relaxed);
    if (srv->opts.max_connections_per_ip > 0)
        ip_give(srv, c->ip);
    conn_free(c);
    if (w->accept_paused) /* a descriptor is free again */
        resume_accept(-1, 0, w);
}

/* Refuses c before evhttp reads anything: a short 503 written straight to the socket, then
 * the connection is closed. */
static void refuse(struct http_conn *c, const char *why)
{
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                              "Content-Length: 0\r\nConnection: close\r\n\r\n";
    struct http_server *srv = c->w->srv;
    ssize_t r = send(bufferevent_getfd(c->bev), msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)r; /* best effort: the client may see the close only */
    atomic_fetch_add_explicit(&srv->conns_refused, 1, memory_order_relaxed);
    if (oc_log_due(&srv->refuse_logged_ms, LOG_EVERY_MS))
        oc_log(OC_LOG_WARN, "http: refusing connections (%s); %llu refused so far", why,
               (unsigned long long)atomic_load(&srv->conns_refused));
    evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->watch);
    c->watch = NULL;
    evhttp_connection_free(c->evcon);
}

/* Right after accept: counts the connection against the caps or refuses it, then watches it. */
static void adopt(struct http_conn *c)
{
    struct worker *w = c->w;
    struct http_server *srv = w->srv;
    void *cbarg = NULL;
    bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
    if (!cbarg) { /* evhttp gave up on it already */
        bufferevent_decref(c->bev);
        conn_free(c);
        return;
    }
    c->evcon = cbarg;
    peer_key(bufferevent_getfd(c->bev), c->ip);
    int n = atomic_fetch_add_explicit(&srv->nconns, 1, memory_order_relaxed) + 1;
    int ip_ok = srv->opts.max_connections_per_ip <= 0 ||
                ip_take(srv, c->ip, srv->opts.max_connections_per_ip) == 0;
    if (n > srv->opts.max_connections || !ip_ok) {
        if (ip_ok && srv->opts.max_connections_per_ip > 0)
            ip_give(srv, c->ip);
        atomic_fetch_sub_explicit(&srv->nconns, 1, memory_order_relaxed);
        refuse(c, ip_ok ? "http.max_connections reached" : "http.max_connections_per_ip reached");
        bufferevent_decref(c->bev);
        conn_free(c);
        return;
    }
    c->adopted = 1;
    c->at_start = 1;
    c->keeper = event_new(bufferevent_get_base(c->bev), bufferevent_getfd(c->bev),
                          EV_READ | EV_PERSIST, keep_read, c);
    if (c->keeper && event_add(c->keeper, NULL) != 0) { /* without it, evhttp's turns only */
        event_free(c->keeper);
        c->keeper = NULL;
    }
    map_put(w, c);
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    arm(c);
    bufferevent_decref(c->bev); /* from now on the close callback says when it is gone */
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_conn *c = arg;
    if (!c->adopted) {
        adopt(c);
        return;
    }
    /* The request did not arrive whole in time (a slow or stalled client): close. */
    atomic_fetch_add_explicit(&c->w->srv->deadline_closed, 1, memory_order_relaxed);
    evhttp_connection_free(c->evcon); /* runs on_close, which frees c */
}

/* evhttp's bufferevent callback: a connection was accepted. */
static struct bufferevent *on_accept(struct event_base *base, void *arg)
{
    struct worker *w = arg;
    struct http_conn *c = oc_calloc(1, sizeof(*c));
    c->w = w;
    c->bev = bufferevent_socket_new(base, -1, 0); /* what evhttp creates without this hook */
    c->timer = c->bev ? event_new(base, -1, 0, on_timer, c) : NULL;
    if (!c->timer) {
        if (c->bev)
            bufferevent_free(c->bev);
        free(c);
        return NULL; /* evhttp creates its own; that connection goes uncounted */
    }
    bufferevent_incref(c->bev); /* held until adopted: tells whether evhttp freed it */
    c->watch = evbuffer_add_cb(bufferevent_get_input(c->bev), on_input, c);
    event_active(c->timer, EV_TIMEOUT, 1); /* after evhttp set it up, before any read */
    return c->bev;
}

/* --- accept errors --- */

static void resume_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (!w->accept_paused || !w->bound)
        return;
    w->accept_paused = 0;
    evtimer_del(w->accept_resume);
    evconnlistener_enable(evhttp_bound_socket_get_listener(w->bound));
}

/* The listener's error callback (ptr is the evhttp): out of descriptors or memory, accept
 * would fail at once again, so it pauses for PAUSE_MS or until a connection closes. */
static void on_accept_error(struct evconnlistener *lev, void *ptr)
{
    (void)ptr;
    int err = EVUTIL_SOCKET_ERROR();
    struct worker *w = this_worker;
    if (!w || !w->bound || evhttp_bound_socket_get_listener(w->bound) != lev)
        return;
    struct http_server *srv = w->srv;
    evconnlistener_disable(lev);
    w->accept_paused = 1;
    struct timeval tv = {0, PAUSE_MS * 1000};
    evtimer_add(w->accept_resume, &tv);
    atomic_fetch_add_explicit(&srv->accept_pauses, 1, memory_order_relaxed);
    if (oc_log_due(&srv->pause_logged_ms, LOG_EVERY_MS))
        oc_log(OC_LOG_ERROR,
               "http: accept failed (%s) with %d connections open; accepting paused for %d ms "
               "at a time (%llu pauses so far; lower http.max_connections or raise the "
               "descriptor limit)",
               strerror(err), atomic_load(&srv->nconns), PAUSE_MS,
               (unsigned long long)atomic_load(&srv->accept_pauses));
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

int http_conn_init(struct worker *w)
{
    w->accept_resume = evtimer_new(w->base, resume_accept, w);
    if (!w->accept_resume)
        return OC_EIO;
    evhttp_set_bevcb(w->http, on_accept, w);
    return 0;
}

void http_conn_listen(struct worker *w)
{
    evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(w->bound), on_accept_error);
}

void http_conn_thread(struct worker *w)
{
    this_worker = w;
}

void http_conn_free(struct worker *w)
{
    if (w->accept_resume)
        event_free(w->accept_resume);
    w->accept_resume = NULL;
    free(w->conn_slot);
    w->conn_slot = NULL;
    w->conn_cap = w->nconn = 0;
}

void http_conn_request_read(struct worker *w, struct evhttp_request *ev)
{
    struct http_conn *c = map_find(w, evhttp_request_get_connection(ev));
    if (c)
        event_del(c->timer);
}

void http_conn_request_done(struct worker *w, struct evhttp_request *ev)
{
    struct http_conn *c = map_find(w, evhttp_request_get_connection(ev));
    if (!c)
        return;
    c->at_start = 1;
    c->keeper_wakes = 0;
    if (c->keeper_parked && event_add(c->keeper, NULL) == 0) /* evhttp reads again next */
        c->keeper_parked = 0;
    apply_route_cap(c); /* a pipelined request may be buffered already */
    arm(c);
}

void http_conn_on_close(struct worker *w, struct evhttp_connection *evcon,
                        void (*cb)(struct evhttp_connection *, void *), void *arg)
{
    struct http_conn *c = map_find(w, evcon);
    if (!c) {
        evhttp_connection_set_closecb(evcon, cb, arg);
        return;
    }
    c->close_cb = cb;
    c->close_arg = arg;
}
