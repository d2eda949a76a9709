/*
 * bench.c - `oncue bench ingest`: a load generator for POST /v1/events.
 *
 * Runs in its own process against a running server: --connections threads, each with one
 * keep-alive connection, post batches of --batch NDJSON events (realistic dimension
 * cardinality: sessions keep fixed, skewed dimension values) for --duration seconds, then
 * print events/s, requests/s, p50/p99 request latency and whether every event was accepted,
 * then the answers by status: accepted events/s, the share answered 503 (backpressure) and the
 * p50/p99 latency of 200 and of 503 answers apart. A 503 does not make the client wait for
 * its Retry-After (the worst case: players that do not back off); the connection is kept
 * unless the server closes it. A benchmark prints figures; it never fails on time.
 */
#include "ingest/ingest.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/opt.h"

#include <netdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define BENCH_BODIES  8       /* distinct bodies per connection, cycled */
#define BENCH_MAX_LAT 2000000 /* latencies kept per connection */

struct bench_opts {
    char host[256], port[16];
    const char *token;
    int duration_s, connections, batch, sessions;
};

struct body {
    char *data;
    size_t len;
    size_t *ts_off; /* offsets of the 13 ts digits */
    int nts;
};

struct worker {
    const struct bench_opts *o;
    pthread_t th;
    int id;
    uint64_t requests, events, accepted, failed;
    uint64_t ok, busy;   /* answers 200 and 503 */
    int64_t *lat_ns;     /* of every answer */
    int64_t *lat_ok_ns;  /* of 200 answers */
    int64_t *lat_503_ns; /* of 503 answers */
    size_t nlat, nok, n503, cap;
};

/* The cardinality of each dimension, in enum beacon_dim order. */
static const int card[BEACON_NDIMS] = {5, 40, 3, 60, 300, 300, 8, 6, 4, 12, 3, 2000, 2};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Writes one event of session s; records where its ts digits are. */
static size_t write_event(char *o, size_t cap, uint64_t s, uint64_t *rng, size_t *ts_at)
{
    int n =
        snprintf(o, cap, "{\"ts\":1000000000000,\"session\":\"sess-%llu\"", (unsigned long long)s);
    *ts_at = 6;
    uint64_t hs = s * 0x9e3779b97f4a7c15ULL;
    for (int d = 0; d < BEACON_NDIMS; d++) {
        double u = (double)((hs >> (d * 4)) % 1000 + 1) / 1001.0;
        int v = (int)(card[d] * u * u); /* skewed toward the first values */
        n += snprintf(o + n, cap - (size_t)n, ",\"%s\":\"%c%d\"", beacon_dim_names[d], 'a' + d, v);
    }
    uint64_t r = splitmix(rng) % 100;
    if (r < 85)
        n += snprintf(o + n, cap - (size_t)n,
                      ",\"type\":\"heartbeat\",\"playing_ms\":%d,\"rebuffer_ms\":%d,"
                      "\"bitrate_kbps\":%d}\n",
                      9000 + (int)(r * 10), r < 8 ? 250 : 0, 1500 + (int)(r * 50));
    else if (r < 97)
        n += snprintf(o + n, cap - (size_t)n,
                      ",\"type\":\"start\",\"outcome\":\"%s\",\"startup_ms\":%d}\n",
                      r < 95   ? "success"
                      : r < 96 ? "failure"
                               : "exit",
                      300 + (int)(r * 17));
    else
        n += snprintf(o + n, cap - (size_t)n, ",\"type\":\"end\"}\n");
    return (size_t)n;
}

static void body_build(struct body *b, const struct bench_opts *o, uint64_t seed)
{
    size_t cap = (size_t)o->batch * 700, len = 0;
    b->data = oc_malloc(cap);
    b->ts_off = oc_malloc((size_t)o->batch * sizeof *b->ts_off);
    b->nts = o->batch;
    for (int i = 0; i < o->batch; i++) {
        size_t at;
        uint64_t s = splitmix(&seed) % (uint64_t)o->sessions;
        size_t n = write_event(b->data + len, cap - len, s, &seed, &at);
        b->ts_off[i] = len + at;
        len += n;
    }
    b->len = len;
}

/* Patches every ts to now minus up to 5 s. */
static void body_stamp(struct body *b, uint64_t *rng)
{
    int64_t now = oc_wall_ms();
    for (int i = 0; i < b->nts; i++) {
        char d[16];
        snprintf(d, sizeof d, "%013lld", (long long)(now - (int64_t)(splitmix(rng) % 5000)));
        memcpy(b->data + b->ts_off[i], d, 13);
    }
}

static int dial(const struct bench_opts *o)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(o->host, o->port, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Reads one response; returns its status and the "accepted" count, or -1; *closing is set when
 * the server says it closes the connection. */
static int read_reply(int fd, char *buf, size_t cap, uint64_t *accepted, int *closing)
{
    size_t have = 0;
    char *hdr_end = NULL;
    while (!hdr_end) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = 0;
        hdr_end = strstr(buf, "\r\n\r\n");
    }
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t body_len = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
    size_t want = (size_t)(hdr_end + 4 - buf) + body_len;
    while (have < want && have < cap - 1) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    buf[have] = 0;
    *closing = strcasestr(buf, "\r\nConnection: close") != NULL;
    const char *a = strstr(hdr_end, "\"accepted\"");
    if (a)
        *accepted += strtoull(a + 11 + strspn(a + 11, ": "), NULL, 10);
    return (int)strtol(buf + 9, NULL, 10);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct bench_opts *o = w->o;
    struct body bodies[BENCH_BODIES];
    char head[1024], *reply = oc_malloc(1 << 16);
    uint64_t rng = 0x1234567ULL + (uint64_t)w->id * 7919;
    for (int i = 0; i < BENCH_BODIES; i++)
        body_build(&bodies[i], o, rng + (uint64_t)i * 104729 + (uint64_t)w->id);
    /* latencies kept per connection: BENCH_MAX_LAT in all, at least 65,536 each */
    w->cap = BENCH_MAX_LAT / (size_t)o->connections;
    w->cap = w->cap < 65536 ? 65536 : w->cap;
    w->lat_ns = oc_malloc(w->cap * sizeof *w->lat_ns);
    w->lat_ok_ns = oc_malloc(w->cap * sizeof *w->lat_ok_ns);
    w->lat_503_ns = oc_malloc(w->cap * sizeof *w->lat_503_ns);
    int fd = dial(o);
    int64_t end = oc_mono_ns() + (int64_t)o->duration_s * 1000000000LL;
    for (int i = 0; fd >= 0 && oc_mono_ns() < end; i++) {
        struct body *b = &bodies[i % BENCH_BODIES];
        body_stamp(b, &rng);
        int hn = snprintf(head, sizeof head,
                          "POST /v1/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                          "Content-Type: application/x-ndjson\r\nContent-Length: %zu\r\n\r\n",
                          o->host, o->token, b->len);
        struct iovec iov[2] = {{head, (size_t)hn}, {b->data, b->len}};
        int64_t t0 = oc_mono_ns();
        ssize_t sent = writev(fd, iov, 2);
        int closing = 1;
        int status = sent == (ssize_t)(hn + b->len)
                         ? read_reply(fd, reply, 1 << 16, &w->accepted, &closing)
                         : -1;
        int64_t took = oc_mono_ns() - t0;
        if (w->nlat < w->cap)
            w->lat_ns[w->nlat++] = took;
        if (status == 200 && w->nok < w->cap)
            w->lat_ok_ns[w->nok++] = took;
        if (status == 503 && w->n503 < w->cap)
            w->lat_503_ns[w->n503++] = took;
        w->ok += status == 200;
        w->busy += status == 503;
        w->requests++;
        w->events += (uint64_t)o->batch;
        if (status == 503 && !closing) { /* backpressure: the connection stays */
            w->failed++;
        } else if (status != 200) {
            w->failed++;
            close(fd);
            fd = dial(o);
        }
    }
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < BENCH_BODIES; i++)
        free(bodies[i].data), free(bodies[i].ts_off);
    free(reply);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* What the command line of `oncue bench ingest` says. */
struct bench_args {
    const char *target, *token;                  /* --target, --token */
    long duration, connections, batch, sessions; /* the numbers */
};

#define F(f) offsetof(struct bench_args, f)
static const struct oc_opt bench_opts_table[] = {
    {"--target", OC_OPT_STR, F(target), "http://HOST:PORT",
     "the server (default $ONCUE_SERVER or http://127.0.0.1:8470)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "TOKEN", "an ingest token (default $ONCUE_TOKEN)", 0, 0,
     NULL},
    {"--duration", OC_OPT_LONG, F(duration), "S", "seconds to run (default 10)", 1, 86400, NULL},
    {"--connections", OC_OPT_LONG, F(connections), "C",
     "keep-alive connections, one thread each (default 4)", 1, 256, NULL},
    {"--batch", OC_OPT_LONG, F(batch), "N", "events per POST (default 500)", 1, 100000, NULL},
    {"--sessions", OC_OPT_LONG, F(sessions), "N", "distinct sessions (default 200000)", 1,
     100000000, NULL},
    {0},
};
#undef F

const struct oc_cli ingest_bench_cli[] = {
    {"bench ingest", "--target http://HOST:PORT --token T [OPTIONS]",
     "Posts NDJSON batches to POST /v1/events over C connections for S seconds and prints\n"
     "events/s, requests/s and the p50/p99 latency; then accepted events/s, the share of\n"
     "answers that were 503 and the p50/p99 latency of 200 and of 503 answers apart (a 503\n"
     "is not waited out: the next batch follows at once).\n",
     bench_opts_table, 0},
    {0},
};

/* Parses argv into o; 0, 1 (help printed) or -1 (error printed). */
static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
    struct bench_args a = {.target = getenv("ONCUE_SERVER"),
                           .token = getenv("ONCUE_TOKEN"),
                           .duration = 10,
                           .connections = 4,
                           .batch = 500,
                           .sessions = 200000};
    int nargs = 0, p = oc_cli_parse(ingest_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p;
    const char *target = a.target ? a.target : "http://127.0.0.1:8470";
    if (strncmp(target, "http://", 7) != 0 ||
        sscanf(target + 7, "%255[^:/]:%15[0-9]", o->host, o->port) != 2) {
        fprintf(stderr, "oncue bench ingest: --target: expected http://HOST:PORT, got \"%s\"\n",
                target);
        return -1;
    }
    if (!a.token) {
        fprintf(stderr, "oncue bench ingest: --token is required (or $ONCUE_TOKEN)\n");
        return -1;
    }
    o->token = a.token;
    o->duration_s = (int)a.duration, o->connections = (int)a.connections;
    o->batch = (int)a.batch, o->sessions = (int)a.sessions;
    return 0;
}

enum lat_kind { LAT_ALL, LAT_200, LAT_503 };

/* The latencies of kind kept by worker w (*n of them). */
static const int64_t *lat_of(const struct worker *w, enum lat_kind kind, size_t *n)
{
    *n = kind == LAT_ALL ? w->nlat : kind == LAT_200 ? w->nok : w->n503;
    return kind == LAT_ALL ? w->lat_ns : kind == LAT_200 ? w->lat_ok_ns : w->lat_503_ns;
}

/* The p-th quantile (0..1) of every worker's latencies of kind, in ms; 0 without any. */
static double quantile(const struct bench_opts *o, const struct worker *w, enum lat_kind kind,
                       double p)
{
    size_t n = 0, k = 0, m;
    for (int i = 0; i < o->connections; i++) {
        lat_of(&w[i], kind, &m);
        n += m;
    }
    if (!n)
        return 0;
    int64_t *all = oc_malloc(n * sizeof *all);
    for (int i = 0; i < o->connections; i++) {
        const int64_t *a = lat_of(&w[i], kind, &m);
        memcpy(all + k, a, m * sizeof *a);
        k += m;
    }
    qsort(all, n, sizeof *all, cmp_i64);
    size_t at = (size_t)((double)n * p);
    double ms = (double)all[at < n ? at : n - 1] / 1e6;
    free(all);
    return ms;
}

static void report(const struct bench_opts *o, struct worker *w, double secs)
{
    uint64_t req = 0, ev = 0, acc = 0, failed = 0, ok = 0, busy = 0;
    for (int i = 0; i < o->connections; i++)
        req += w[i].requests, ev += w[i].events, acc += w[i].accepted, failed += w[i].failed,
            ok += w[i].ok, busy += w[i].busy;
    printf("duration_s %.1f connections %d batch %d\n", secs, o->connections, o->batch);
    printf("events/s %.0f\nrequests/s %.0f\nlatency_p50_ms %.2f\nlatency_p99_ms %.2f\n",
           (double)ev / secs, (double)req / secs, quantile(o, w, LAT_ALL, 0.5),
           quantile(o, w, LAT_ALL, 0.99));
    printf("events_sent %llu accepted %llu failed_requests %llu\n", (unsigned long long)ev,
           (unsigned long long)acc, (unsigned long long)failed);
    printf("accepted_events/s %.0f\n", (double)acc / secs);
    printf("answers_200 %llu answers_503 %llu other %llu share_503 %.4f\n", (unsigned long long)ok,
           (unsigned long long)busy, (unsigned long long)(req - ok - busy),
           req ? (double)busy / (double)req : 0.0);
    printf("latency_200_p50_ms %.2f latency_200_p99_ms %.2f\n", quantile(o, w, LAT_200, 0.5),
           quantile(o, w, LAT_200, 0.99));
    printf("latency_503_p50_ms %.2f latency_503_p99_ms %.2f\n", quantile(o, w, LAT_503, 0.5),
           quantile(o, w, LAT_503, 0.99));
}

int ingest_bench_main(int argc, char **argv)
{
    struct bench_opts o;
    memset(&o, 0, sizeof o);
    int p = parse_opts(argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    struct worker *w = oc_calloc((size_t)o.connections, sizeof *w);
    int64_t t0 = oc_mono_ns();
    for (int i = 0; i < o.connections; i++) {
        w[i].o = &o, w[i].id = i;
        pthread_create(&w[i].th, NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < o.connections; i++)
        pthread_join(w[i].th, NULL);
    report(&o, w, (double)(oc_mono_ns() - t0) / 1e9);
    for (int i = 0; i < o.connections; i++)
        free(w[i].lat_ns), free(w[i].lat_ok_ns), free(w[i].lat_503_ns);
    free(w);
    return 0;
}
