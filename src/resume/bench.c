/*
 * bench.c - `oncue bench resume`: a load generator for the resume routes of a running server.
 *
 * --connections threads, each with one keep-alive connection, for --duration seconds: `put`
 * sends single PUT /v1/resume/{profile}/{title} reports, `batch` POSTs --batch reports per
 * request, `get` reads GET /v1/resume/{profile}/{title} (of points a put run wrote). Every
 * write moves its point (a rising seq and a new position per connection), so none is stale
 * or coalesced. Prints requests/s, positions/s and the p50/p99/p999 latency; never fails on
 * time.
 */
#include "resume/resume.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/opt.h"

#include <netdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LAT_MAX   4000000   /* latencies kept per connection */
#define REPLY_MAX (1 << 16) /* bytes of one reply read */

struct args {
    const char *target, *token, *mode;         /* --target, --token, --mode */
    long duration, connections, batch, points; /* the numbers */
};

/* One connection's thread. */
struct conn {
    const struct args *a;
    uint64_t seq0; /* first seq: the start time in microseconds, so a rerun supersedes */
    char host[256], port[16];
    pthread_t th;
    int id;
    uint64_t requests, positions, failed;
    int64_t *lat_ns;
    size_t nlat;
};

/* Connects to host:port; the socket or -1. */
static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd = -1;
    if (getaddrinfo(host, port, &hints, &ai) == 0) {
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
    }
    return fd;
}

/* Reads one whole reply into buf; its status, or -1 when the connection failed. */
static int exchange(int fd, const char *req, size_t len, char *buf)
{
    size_t have = 0, want = 0;
    if (write(fd, req, len) != (ssize_t)len)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + have, REPLY_MAX - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(buf, "Content-Length:");
        want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        if (have >= want || have >= REPLY_MAX - 1)
            break;
    }
    return (int)strtol(buf + 9, NULL, 10);
}

/* Appends one report's fields (no braces) for point k of connection c at sequence seq. */
static void fields(struct oc_buf *b, int c, uint64_t seq, int64_t now)
{
    oc_buf_printf(b,
                  "\"position_ms\":%llu,\"duration_ms\":7200000,\"device\":\"bench%d\","
                  "\"session\":\"s%d\",\"seq\":%llu,\"state\":\"playing\",\"ts\":%lld",
                  (unsigned long long)(seq * 1000 % 7200000), c, c, (unsigned long long)seq,
                  (long long)now);
}

/* Builds request number i of connection c into b; returns the positions it carries. */
static long build(struct oc_buf *b, const struct conn *cn, uint64_t i)
{
    const struct args *a = cn->a;
    struct oc_buf body;
    int64_t now = (int64_t)time(NULL) * 1000;
    long k = (long)(i % (uint64_t)a->points), n = 1;
    oc_buf_reset(b);
    oc_buf_init(&body, RESUME_BATCH_MAX_BODY);
    if (a->mode[0] == 'g') {
        oc_buf_printf(b,
                      "GET /v1/resume/bp%d-%ld/t%ld HTTP/1.1\r\nHost: %s\r\n"
                      "Authorization: Bearer %s\r\n\r\n",
                      cn->id, k, k % 7, cn->host, a->token);
        oc_buf_free(&body);
        return 0;
    }
    if (a->mode[0] == 'p') {
        oc_buf_puts(&body, "{");
        fields(&body, cn->id, cn->seq0 + i, now);
        oc_buf_puts(&body, "}");
        oc_buf_printf(b, "PUT /v1/resume/bp%d-%ld/t%ld HTTP/1.1\r\n", cn->id, k, k % 7);
    } else {
        n = a->batch;
        oc_buf_puts(&body, "[");
        for (long j = 0; j < n; j++) {
            long q = (long)((i * (uint64_t)n + (uint64_t)j) % (uint64_t)a->points);
            oc_buf_printf(&body, "%s{\"profile\":\"bb%d-%ld\",\"title\":\"t%ld\",", j ? "," : "",
                          cn->id, q, q % 7);
            fields(&body, cn->id, cn->seq0 + i, now);
            oc_buf_puts(&body, "}");
        }
        oc_buf_puts(&body, "]");
        oc_buf_puts(b, "POST /v1/resume HTTP/1.1\r\n");
    }
    oc_buf_printf(b, "Host: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
                  cn->host, a->token, body.len);
    oc_buf_append(b, body.data, body.len);
    oc_buf_free(&body);
    return n;
}

static void *conn_main(void *arg)
{
    struct conn *cn = arg;
    struct oc_buf req;
    char *reply = oc_malloc(REPLY_MAX);
    int fd = connect_to(cn->host, cn->port);
    int64_t end = oc_mono_ns() + (int64_t)cn->a->duration * 1000000000LL;
    oc_buf_init(&req, RESUME_BATCH_MAX_BODY + 4096);
    cn->lat_ns = oc_malloc(LAT_MAX * sizeof *cn->lat_ns);
    for (uint64_t i = 0; fd >= 0 && oc_mono_ns() < end; i++) {
        long n = build(&req, cn, i);
        int64_t t0 = oc_mono_ns();
        int status = exchange(fd, req.data, req.len, reply);
        if (cn->nlat < LAT_MAX)
            cn->lat_ns[cn->nlat++] = oc_mono_ns() - t0;
        cn->requests++;
        if (status == 200) {
            cn->positions += (uint64_t)n;
        } else {
            cn->failed++;
            if (status < 0) {
                close(fd);
                fd = connect_to(cn->host, cn->port);
            }
        }
    }
    if (fd >= 0)
        close(fd);
    oc_buf_free(&req);
    free(reply);
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
     "keep-alive connections, one thread each (default 50)", 1, 512, NULL},
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
    struct args a = {getenv("ONCUE_SERVER"), getenv("ONCUE_TOKEN"), "put", 10, 50, 1000, 1000};
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
    struct conn *c = oc_calloc((size_t)a.connections, sizeof *c);
    int64_t t0 = oc_mono_ns();
    for (long i = 0; i < a.connections; i++) {
        c[i].a = &a, c[i].id = (int)i;
        c[i].seq0 = (uint64_t)(oc_wall_ms() * 1000);
        memcpy(c[i].host, host, sizeof host);
        memcpy(c[i].port, port, sizeof port);
        pthread_create(&c[i].th, NULL, conn_main, &c[i]);
    }
    for (long i = 0; i < a.connections; i++)
        pthread_join(c[i].th, NULL);
    print_figures(&a, c, (double)(oc_mono_ns() - t0) / 1e9);
    for (long i = 0; i < a.connections; i++)
        free(c[i].lat_ns);
    free(c);
    return 0;
}
