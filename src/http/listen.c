/*
 * listen.c - binding, the worker threads, and graceful stop.
 *
 * Each worker has its own event base, connections and listening socket; the sockets share one
 * port through SO_REUSEPORT, so the kernel spreads new connections evenly over the workers.
 * One socket shared by every loop was tried: steering throughput then swung between 81k and
 * 130k requests/s from run to run, against 119k-132k with SO_REUSEPORT (bench/README.md),
 * most likely because both loops wake on a new connection and one may take a whole burst.
 * Port 0 is resolved by the first bind and reused by the others. Stop closes the listening
 * sockets and ends the open streams (stream.c) first, waits (bounded) for requests in
 * flight, then ends the loops.
 */
#include "http/http_int.h"
#include "core/err.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Splits "ADDR:PORT" or "[V6]:PORT" into host and port; 0 or OC_EINVAL. */
static int split_listen(const char *listen, char *host, size_t hostn, char *port, size_t portn)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':')
            return OC_EINVAL;
        snprintf(host, hostn, "%.*s", (int)(end - listen - 1), listen + 1);
        colon = end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return OC_EINVAL;
        snprintf(host, hostn, "%.*s", (int)(colon - listen), listen);
    }
    snprintf(port, portn, "%s", colon + 1);
    return host[0] && port[0] ? 0 : OC_EINVAL;
}

/* Opens a non-blocking SO_REUSEPORT socket listening on ai; the fd or -1 with errno. */
static int open_listener(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    /* Accepted sockets inherit it (Linux). An answer the socket takes in more than one send
     * (a large one, or a stream's chunks) must not wait for the client's delayed ACK: with
     * evhttp's 16 KiB pieces that was 40 ms more for a 47 KB QoE answer (bench/README.md
     * "The web console"). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Inherited too: the kernel stamps when a request's bytes arrived, so conn.c can tell how
     * long each waited before its handler ran (http_req_wait_ns; best effort: without it the
     * wait is counted from the read) */
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Binds one socket per worker; fills fds and srv->addr. 0 or OC_EIO (reason in err). */
static int bind_all(struct http_server *srv, int *fds, char *err, size_t errlen)
{
    char host[80], port[16];
    if (split_listen(srv->opts.listen, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(err, errlen, "listen address \"%s\" is not ADDR:PORT", srv->opts.listen);
        return OC_EIO;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "listen address \"%s\": %s", srv->opts.listen, gai_strerror(gai));
        return OC_EIO;
    }
    int rc = OC_EIO;
    for (int i = 0; i < srv->nworkers; i++) {
        fds[i] = open_listener(ai);
        if (fds[i] < 0) {
            snprintf(err, errlen, "cannot listen on %s: %s", srv->opts.listen, strerror(errno));
            for (int j = 0; j < i; j++)
                close(fds[j]);
            goto out;
        }
        if (i == 0) { /* resolve port 0 once, so every worker shares the same port */
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            getsockname(fds[0], (struct sockaddr *)&ss, &sl);
            char ip[INET6_ADDRSTRLEN];
            int p;
            if (ss.ss_family == AF_INET6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
                inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
                p = ntohs(s6->sin6_port);
                ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = s6->sin6_port;
                snprintf(srv->addr, sizeof(srv->addr), "[%s]:%d", ip, p);
            } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
                inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
                p = ntohs(s4->sin_port);
                ((struct sockaddr_in *)ai->ai_addr)->sin_port = s4->sin_port;
                snprintf(srv->addr, sizeof(srv->addr), "%s:%d", ip, p);
            }
        }
    }
    rc = 0;
out:
    freeaddrinfo(ai);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

/* A worker's event base. Not with epoll's change list (EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST,
 * one epoll_ctl per descriptor per loop iteration): it defers a closed connection's
 * EPOLL_CTL_DEL until after close(), when another thread may have reused the number
 * (ThreadSanitizer reported it against a /proc read in /metrics); docs/internals/http.md. */
static struct event_base *new_base(void)
{
    return event_base_new();
}

static int setup_worker(struct http_server *srv, struct worker *w, int fd)
{
    w->srv = srv;
    w->listen_fd = -1;
    oc_arena_init(&w->arena, srv->opts.arena_max);
    w->base = new_base();
    if (!w->base || http_streams_init(w) != 0 || http_later_init(w) != 0) {
        close(fd);
        return OC_EIO;
    }
    return http_conn_init(w, fd) != 0 ? OC_EIO : 0; /* owns fd from now on */
}

int http_server_start(struct http_server *srv, char *err, size_t errlen)
{
    int n = srv->opts.workers;
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    srv->nworkers = n > HTTP_MAX_WORKERS ? HTTP_MAX_WORKERS : n;
    int fds[HTTP_MAX_WORKERS];
    for (int i = 0; i < srv->nworkers; i++)
        srv->workers[i].listen_fd = -1; /* until setup_worker hands it its socket */
    if (bind_all(srv, fds, err, errlen) != 0)
        return OC_EIO;
    for (int i = 0; i < srv->nworkers; i++) {
        if (setup_worker(srv, &srv->workers[i], fds[i]) != 0) {
            snprintf(err, errlen, "cannot start HTTP worker %d", i);
            for (int j = i + 1; j < srv->nworkers; j++)
                close(fds[j]);
            http_server_stop(srv, 0);
            return OC_EIO;
        }
    }
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            snprintf(err, errlen, "cannot start HTTP worker thread %d", i);
            http_server_stop(srv, 0);
            return OC_EIO;
        }
        w->started = 1;
        /* named for top -H and for tests/integration/test_qoe_load.sh, which reads how long
         * the workers waited for a CPU (best effort) */
        pthread_setname_np(w->thread, "oncue-http");
    }
    return 0;
}

static void stop_accepting(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    http_conn_stop_accepting(w);
    http_streams_stop(w);
}

void http_server_stop(struct http_server *srv, int grace_ms)
{
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (!w->base)
            continue;
        if (w->started)
            event_base_once(w->base, -1, EV_TIMEOUT, stop_accepting, w, NULL);
        else
            stop_accepting(-1, 0, w);
    }
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int waited = 0; http_server_inflight(srv) > 0 && waited < grace_ms; waited += 10)
        nanosleep(&tick, NULL);
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->started) {
            event_base_loopexit(w->base, NULL);
            pthread_join(w->thread, NULL);
            w->started = 0;
        }
    }
}
