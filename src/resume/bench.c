/*
 * bench.c - `oncue bench resume`: a load generator for the resume routes of a running server.
 *
 * --connections keep-alive connections for --duration seconds, served by --threads threads
 * (default 1), each an event loop (epoll) over its share of the connections, as
 * redis-benchmark drives Redis: one request outstanding per connection, the next sent as soon
 * as its reply is read. `put` sends single PUT /v1/resume/{profile}/{title} reports, `batch`
 * POSTs --batch reports per request, `get` reads GET /v1/resume/{profile}/{title} (of points
 * a put run wrote). Every write moves its point (a rising seq and a new position per
 * connection), so none is stale or coalesced. Prints requests/s, positions/s and the
 * p50/p99/p999 latency; never fails on time. With --threads equal to --connections it is a
 * thread per connection (every reply then wakes a sleeping thread: dearer for the server).
 */
#include "resume/resume.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/opt.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LAT_MAX   4000000   /* latencies kept per connection */
#define REPLY_MAX (1 << 16) /* bytes of one reply read */

struct args {
    const char *target, *token, *mode;                  /* --target, --token, --mode */
    long duration, connections, batch, points, threads; /* the numbers */
};

/* One connection: one request outstanding at a time. */
struct conn {
    const struct args *a;
    uint64_t seq0; /* first seq: the start time in microseconds, so a rerun supersedes */
    const char *host, *port;
    int id, fd;
    uint64_t i;        /* the request being sent or awaited */
    long n;            /* its positions */
    struct oc_buf req; /* its bytes */
    struct oc_buf body;
    size_t sent;
    char *reply; /* REPLY_MAX bytes */
    size_t have;
    int64_t t0;
    uint64_t requests, positions, failed;
    int64_t *lat_ns;
    size_t nlat;
};

/* One event loop over n connections. */
struct loop {
    struct conn *c;
    long n;
    int64_t end;
    pthread_t th;
    int started;
};

/* Connects to host:port without blocking later reads and writes; the socket or -1. */
static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd = -1, one = 1;
    if (getaddrinfo(host, port, &hints, &ai) == 0) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            close(fd);
            fd = -1;
        }
        if (fd >= 0)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        freeaddrinfo(ai);
    }
    return fd;
}

/* Appends the decimal digits of v. */
static void put_u64(struct oc_buf *b, uint64_t v)
{
    char d[24];
    int i = (int)sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    oc_buf_append(b, d + i, sizeof d - (size_t)i);
}

#define PUT_LIT(b, s) oc_buf_append((b), (s), sizeof(s) - 1)

/* Appends one report's fields (no braces) for connection c at sequence seq. Formatted by hand:
 * printf was most of the client's CPU for a batch, CPU taken from the server on a small
 * machine. */
static void fields(struct oc_buf *b, int c, uint64_t seq, int64_t now)
{
    PUT_LIT(b, "\"position_ms\":");
    put_u64(b, seq * 1000 % 7200000);
    PUT_LIT(b, ",\"duration_ms\":7200000,\"device\":\"bench");
    put_u64(b, (uint64_t)c);
    PUT_LIT(b, "\",\"session\":\"s");
    put_u64(b, (uint64_t)c);
    PUT_LIT(b, "\",\"seq\":");
    put_u64(b, seq);
    PUT_LIT(b, ",\"state\":\"playing\",\"ts\":");
    put_u64(b, (uint64_t)now);
}

/* Builds request number i of connection cn into cn->req; returns the positions it carries. */
static long build(struct conn *cn, uint64_t i)
{
    const struct args *a = cn->a;
    struct oc_buf *b = &cn->req, *body = &cn->body;
    int64_t now = (int64_t)time(NULL) * 1000;
    long k = (long)(i % (uint64_t)a->points), n = 1;
    oc_buf_reset(b);
    oc_buf_reset(body);
    if (a->mode[0] == 'g') {
        oc_buf_printf(b,
                      "GET /v1/resume/bp%d-%ld/t%ld HTTP/1.1\r\nHost: %s\r\n"
                      "Authorization: Bearer %s\r\n\r\n",
                      cn->id, k, k % 7, cn->host, a->token);
        return 0;
    }
    if (a->mode[0] == 'p') {
        oc_buf_puts(body, "{");
        fields(body, cn->id, cn->seq0 + i, now);
        oc_buf_puts(body, "}");
        oc_buf_printf(b, "PUT /v1/resume/bp%d-%ld/t%ld HTTP/1.1\r\n", cn->id, k, k % 7);
    } else {
        n = a->batch;
        oc_buf_puts(body, "[");
        for (long j = 0; j < n; j++) {
            long q = (long)((i * (uint64_t)n + (uint64_t)j) % (uint64_t)a->points);
            if (j)
                PUT_LIT(body, ",");
            PUT_LIT(body, "{\"profile\":\"bb");
            put_u64(body, (uint64_t)cn->id);
            PUT_LIT(body, "-");
            put_u64(body, (uint64_t)q);
            PUT_LIT(body, "\",\"title\":\"t");
            put_u64(body, (uint64_t)(q % 7));
            PUT_LIT(body, "\",");
            fields(body, cn->id, cn->seq0 + i, now);
            oc_buf_puts(body, "}");
        }
        oc_buf_puts(body, "]");
        oc_buf_puts(b, "POST /v1/resume HTTP/1.1\r\n");
    }
    oc_buf_printf(b, "Host: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
                  cn->host, a->token, body->len);
    oc_buf_append(b, body->data, body->len);
    return n;
}

/* Sends what is left of cn's request; 0 when all of it left, 1 to wait for room, -1 failed. */
static int send_rest(struct conn *cn)
{
    while (cn->sent < cn->req.len) {
        ssize_t r = send(cn->fd, cn->req.data + cn->sent, cn->req.len - cn->sent, MSG_NOSIGNAL);
        if (r > 0)
            cn->sent += (size_t)r;
        else if (r < 0 && errno == EINTR)
            continue;
        else
            return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    }
    return 0;
}

/* Watches cn's socket for a reply, and for room to write while its request is not all sent. */
static void watch(int ep, struct conn *cn, int op)
{
    struct epoll_event ev = {.events = EPOLLIN | (cn->sent < cn->req.len ? EPOLLOUT : 0u),
                             .data.ptr = cn};
    epoll_ctl(ep, op, cn->fd, &ev);
}

/* Starts cn's next request (a new connection first if it has none); -1 if it cannot (counted
 * as a failed request, the connection closed). */
static int start(int ep, struct conn *cn)
{
    if (cn->fd < 0) {
        cn->fd = connect_to(cn->host, cn->port);
        if (cn->fd < 0) {
            cn->requests++;
            cn->failed++;
            return -1;
        }
        oc_buf_reset(&cn->req); /* watch() adds it for reading only */
        cn->sent = 0;
        watch(ep, cn, EPOLL_CTL_ADD);
    }
    cn->n = build(cn, cn->i);
    cn->sent = 0;
    cn->have = 0;
    cn->t0 = oc_mono_ns();
    int rc = send_rest(cn);
    if (rc > 0)
        watch(ep, cn, EPOLL_CTL_MOD);
    if (rc < 0) {
        cn->requests++;
        cn->failed++;
        epoll_ctl(ep, EPOLL_CTL_DEL, cn->fd, NULL);
        close(cn->fd);
        cn->fd = -1;
        return -1;
    }
    return 0;
}

/* The reply read so far is whole: its status (or -1 when not yet whole). */
static int reply_status(struct conn *cn)
{
    cn->reply[cn->have] = '\0';
    char *end = strstr(cn->reply, "\r\n\r\n");
    if (!end)
        return cn->have >= REPLY_MAX - 1 ? 0 : -1;
    const char *cl = strcasestr(cn->reply, "Content-Length:");
    size_t want = (size_t)(end + 4 - cn->reply) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
    if (cn->have < want && cn->have < REPLY_MAX - 1)
        return -1;
    return (int)strtol(cn->reply + 9, NULL, 10);
}

/* Counts cn's request as done with status (-1: the connection failed, and is closed). */
static void finish(int ep, struct conn *cn, int status)
{
    if (cn->nlat < LAT_MAX)
        cn->lat_ns[cn->nlat++] = oc_mono_ns() - cn->t0;
    cn->requests++;
    cn->i++;
    if (status == 200) {
        cn->positions += (uint64_t)cn->n;
        return;
    }
    cn->failed++;
    if (status < 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, cn->fd, NULL);
        close(cn->fd);
        cn->fd = -1;
    }
}

/* Handles what epoll reported for cn, whose request is outstanding: 0 while it still is (or
 * the next one is), -1 when cn is done (the run's end, or no connection to be had). */
static int on_event(int ep, struct conn *cn, uint32_t events, int64_t end)
{
    int status = -1;
    if ((events & EPOLLOUT) && cn->sent < cn->req.len) {
        int rc = send_rest(cn);
        if (rc < 0)
            goto done;
        if (rc == 0)
            watch(ep, cn, EPOLL_CTL_MOD);
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return 0;
    ssize_t r = read(cn->fd, cn->reply + cn->have, REPLY_MAX - 1 - cn->have);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (r > 0) {
        cn->have += (size_t)r;
        status = reply_status(cn);
        if (status < 0)
            return 0; /* not whole yet */
    }
done:
    finish(ep, cn, status);
    if (oc_mono_ns() < end && start(ep, cn) == 0)
        return 0;
    if (cn->fd >= 0) /* done: what else comes on it is not counted */
        epoll_ctl(ep, EPOLL_CTL_DEL, cn->fd, NULL);
    return -1;
}

static void *loop_main(void *arg)
{
    struct loop *lp = arg;
    struct epoll_event ev[64];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    long outstanding = 0; /* connections awaiting a reply */
    for (long i = 0; i < lp->n; i++) {
        struct conn *cn = &lp->c[i];
        oc_buf_init(&cn->req, RESUME_BATCH_MAX_BODY + 4096);
        oc_buf_init(&cn->body, RESUME_BATCH_MAX_BODY);
        cn->reply = oc_malloc(REPLY_MAX);
        cn->lat_ns = oc_malloc(LAT_MAX * sizeof *cn->lat_ns);
        cn->fd = -1;
        if (ep >= 0 && start(ep, cn) == 0)
            outstanding++;
    }
    /* until the end, then until every reply awaited is read (at most 10 s more) */
    while (outstanding > 0 && oc_mono_ns() < lp->end + 10000000000LL) {
        int k = epoll_wait(ep, ev, 64, 100);
        for (int j = 0; j < k; j++) {
            struct conn *cn = ev[j].data.ptr;
            if (cn->fd >= 0 && on_event(ep, cn, ev[j].events, lp->end) != 0)
                outstanding--;
        }
    }
    for (long i = 0; i < lp->n; i++) {
        if (lp->c[i].fd >= 0)
            close(lp->c[i].fd);
        oc_buf_free(&lp->c[i].req);
        oc_buf_free(&lp->c[i].body);
        free(lp->c[i].reply);
    }
    if (ep >= 0)
        close(ep);
    return NULL;
}

static int by_value(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Prints the figures of the run. */
static void print_figures(const struct args *a, struct conn *c, double secs)
{
    uint64_t req = 0, pos = 0, failed = 0;
    size_t n = 0, k = 0;
    for (long i = 0; i < a->connections; i++)
        req += c[i].requests, pos += c[i].positions, failed += c[i].failed, n += c[i].nlat;
    int64_t *all = oc_malloc((n + 1) * sizeof *all);
    for (long i = 0; i < a->connections; i++)
        for (size_t j = 0; j < c[i].nlat; j++)
            all[k++] = c[i].lat_ns[j];
    qsort(all, n, sizeof *all, by_value);
    printf("mode %s connections %ld batch %ld duration_s %.1f\n", a->mode, a->connections,
           a->mode[0] == 'b' ? a->batch : 1, secs);
    printf("requests/s %.0f\npositions/s %.0f\n", (double)req / secs, (double)pos / secs);
    printf("latency_p50_ms %.3f\nlatency_p99_ms %.3f\nlatency_p999_ms %.3f\n",
           n ? (double)all[n / 2] / 1e6 : 0, n ? (double)all[(size_t)((double)n * 0.99)] / 1e6 : 0,
           n ? (double)all[(size_t)((double)n * 0.999)] / 1e6 : 0);
    printf("requests %llu failed %llu\n", (unsigned long long)req, (unsigned long long)failed);
    free(all);
}

#define F(f) offsetof(struct args, f)
static const struct oc_opt opts[] = {
    {"--target", OC_OPT_STR, F(target), "http://HOST:PORT",
     "the server (default $ONCUE_SERVER or http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "TOKEN",
     "an ingest token (put, batch) or a viewer token (get); default $ONCUE_TOKEN", 0, 0, NULL},
    {"--mode", OC_OPT_STR, F(mode), "put|batch|get", "what to send (default put)", 0, 0, NULL},
    {"--duration", OC_OPT_LONG, F(duration), "S", "seconds to run (default 10)", 1, 86400, NULL},
    {"--connections", OC_OPT_LONG, F(connections), "C",
     "keep-alive connections, one request outstanding on each (default 50)", 1, 512, NULL},
    {"--threads", OC_OPT_LONG, F(threads), "T",
     "client threads, each an event loop over its share of the connections (default 1, as"
     " redis-benchmark)",
     1, 512, NULL},
    {"--batch", OC_OPT_LONG, F(batch), "N", "reports per POST in batch mode (default 1000)", 1,
     RESUME_BATCH_MAX, NULL},
    {"--points", OC_OPT_LONG, F(points), "N",
     "distinct points per connection, cycled (default 1000)", 1, 10000000, NULL},
    {0},
};
#undef F

const struct oc_cli resume_bench_cli[] = {
    {"bench resume", "--target http://HOST:PORT --token T [--mode put|batch|get] [OPTIONS]",
     "Sends resume writes or reads over C keep-alive connections for S seconds and prints\n"
     "requests/s, positions/s and the p50/p99/p999 latency.\n",
     opts, 0},
    {0},
};

int resume_bench_main(int argc, char **argv)
{
    struct args a = {getenv("ONCUE_SERVER"), getenv("ONCUE_TOKEN"), "put", 10, 50, 1000, 1000, 1};
    int nargs = 0, p = oc_cli_parse(resume_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    char host[256], port[16];
    if (p != 0)
        return p > 0 ? 0 : 2;
    const char *target = a.target ? a.target : "http://127.0.0.1:8470";
    if (strncmp(target, "http://", 7) != 0 ||
        sscanf(target + 7, "%255[^:/]:%15[0-9]", host, port) != 2 || !a.token ||
        (strcmp(a.mode, "put") && strcmp(a.mode, "batch") && strcmp(a.mode, "get"))) {
        fprintf(stderr, "oncue bench resume: needs --target http://HOST:PORT, --token and"
                        " --mode put, batch or get\n");
        return 2;
    }
    if (a.threads > a.connections)
        a.threads = a.connections;
    struct conn *c = oc_calloc((size_t)a.connections, sizeof *c);
    struct loop *lp = oc_calloc((size_t)a.threads, sizeof *lp);
    int64_t t0 = oc_mono_ns();
    for (long i = 0; i < a.connections; i++) {
        c[i].a = &a, c[i].id = (int)i;
        c[i].seq0 = (uint64_t)(oc_wall_ms() * 1000);
        c[i].host = host;
        c[i].port = port;
    }
    for (long t = 0, from = 0; t < a.threads; t++) { /* connections split evenly */
        long to = (t + 1) * a.connections / a.threads;
        lp[t] = (struct loop){.c = c + from, .n = to - from, .end = t0 + a.duration * 1000000000LL};
        from = to;
        if (pthread_create(&lp[t].th, NULL, loop_main, &lp[t]) != 0)
            loop_main(&lp[t]);
        else
            lp[t].started = 1;
    }
    for (long t = 0; t < a.threads; t++)
        if (lp[t].started)
            pthread_join(lp[t].th, NULL);
    print_figures(&a, c, (double)(oc_mono_ns() - t0) / 1e9);
    for (long i = 0; i < a.connections; i++)
        free(c[i].lat_ns);
    free(c);
    free(lp);
    return 0;
}
