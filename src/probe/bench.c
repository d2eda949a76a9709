/*
 * bench.c - `oncue bench probe`: the probe thread against N generated live HLS streams served
 * locally (libevent evhttp on its own thread; each stream's media sequence advances every 2 s
 * from its own phase), for a given time. Prints polls made and due, requests per second, the
 * probe thread's CPU time, CPU per stream and the streams one core could poll at that period.
 * With --stall K, K streams stop advancing halfway and the time each took to be flagged stale
 * is printed. A figure, never pass/fail.
 */
#include "probe/probe_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/lock.h"
#include "core/opt.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

struct args {
    long streams, seconds, segments, stall;
    double poll_s;
};

/* The generated origin. */
struct origin {
    struct event_base *base;
    struct evhttp *http;
    int port;
    int64_t start_ms;
    long streams;
    _Atomic int64_t stall_ms; /* 0, or when the stalled streams stopped */
    long stall;               /* streams 0..stall-1 stall */
    pthread_t th;
};

/* GET /s/I/media.m3u8: 6 segments of 2 s, the sequence advancing from stream I's phase;
 * GET /s/I/seg_N.ts: 4 KiB. */
static void serve(struct evhttp_request *req, void *arg)
{
    struct origin *o = arg;
    const char *uri = evhttp_request_get_uri(req);
    long id = -1;
    long long seg = -1;
    char tail[32] = "";
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    if (sscanf(uri, "/s/%ld/%31s", &id, tail) != 2 || id < 0 || id >= o->streams) {
        evhttp_send_error(req, 404, NULL);
        return;
    }
    if (sscanf(tail, "seg_%lld.ts", &seg) == 1) {
        static const char pad[4096];
        evbuffer_add(out, pad, sizeof pad);
        evhttp_send_reply(req, 200, "OK", out);
        return;
    }
    int64_t now = oc_wall_ms(), stall = o->stall_ms;
    if (id < o->stall && stall && now > stall)
        now = stall;
    int64_t phase = (id * 37) % 2000;
    long long seq = (long long)((now - o->start_ms + phase) / 2000) + 100;
    struct oc_buf b;
    oc_buf_init(&b, 1 << 12);
    probe_hls_live_write(&b, seq, 6, 2);
    evbuffer_add(out, b.data, b.len);
    oc_buf_free(&b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/vnd.apple.mpegurl");
    evhttp_send_reply(req, 200, "OK", out);
}

static void *origin_main(void *arg)
{
    struct origin *o = arg;
    event_base_dispatch(o->base);
    return NULL;
}

static int origin_start(struct origin *o)
{
    evthread_use_pthreads();
    o->base = event_base_new();
    o->http = o->base ? evhttp_new(o->base) : NULL;
    if (!o->http)
        return -1;
    evhttp_set_gencb(o->http, serve, o);
    struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(o->http, "127.0.0.1", 0);
    if (!s)
        return -1;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    o->port = ntohs(sa.sin_port);
    o->start_ms = oc_wall_ms();
    return pthread_create(&o->th, NULL, origin_main, o);
}

static double thread_cpu_s(pthread_t th)
{
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(th, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints how long the stalled streams took to be flagged stale. */
static void print_stalls(struct probe_state *ps, int64_t stall_ms, long stall)
{
    double sum = 0, max = 0;
    long flagged = 0;
    oc_lock(&ps->mu);
    for (long i = 0; i < stall && i < ps->nstreams; i++) {
        const struct probe_finding *f = &ps->streams[i]->f[PROBE_STALE];
        if (!f->active)
            continue;
        double d = (double)(f->since_ms - stall_ms) / 1000.0;
        sum += d;
        max = d > max ? d : max;
        flagged++;
    }
    long others = 0;
    for (int i = (int)stall; i < ps->nstreams; i++)
        for (int k = 0; k < PROBE_NKINDS; k++)
            others += ps->streams[i]->f[k].seen_ms != 0;
    oc_unlock(&ps->mu);
    printf("stalled streams:   %ld of %ld flagged stale, after %.2f s on average, %.2f s at "
           "most (limit 1.5 x 2 s + one poll, after the poll that saw the last segment)\n",
           flagged, stall, flagged ? sum / (double)flagged : 0, max);
    printf("healthy streams:   %ld findings (expected 0)\n", others);
}

#define F(f) offsetof(struct args, f)

static const struct oc_opt opts[] = {
    {"--streams", OC_OPT_LONG, F(streams), "N", "live streams to probe (default 1000)", 1, 100000,
     NULL},
    {"--poll", OC_OPT_DOUBLE, F(poll_s), "S", "seconds between polls (default 2)", 1, 60, NULL},
    {"--seconds", OC_OPT_LONG, F(seconds), "S", "how long to run (default 20)", 4, 3600, NULL},
    {"--segments", OC_OPT_LONG, F(segments), "N",
     "newest segments fetched per playlist (default 0: playlists only)", 0, PROBE_MAX_SEGMENTS,
     NULL},
    {"--stall", OC_OPT_LONG, F(stall), "K",
     "streams that stop advancing halfway (default 10), to time the stale findings", 0, 100000,
     NULL},
    {0},
};

#undef F

const struct oc_cli probe_bench_cli[] = {
    {"bench probe", "[--streams N] [--poll S] [--seconds S] [--segments N] [--stall K]",
     "Serves N generated live HLS playlists on 127.0.0.1 and probes them for S seconds with the\n"
     "probe thread (one libcurl multi handle). Prints polls, requests/s, the probe thread's\n"
     "CPU, CPU per stream and streams per core at the poll period, and how fast K stalled\n"
     "streams were flagged stale.\n",
     opts, 0},
    {0},
};

/* Adds the generated streams to ps. */
static void add_streams(struct probe_state *ps, const struct args *a, int port)
{
    struct probe_spec spec;
    for (long i = 0; i < a->streams; i++) {
        memset(&spec, 0, sizeof spec);
        snprintf(spec.name, sizeof spec.name, "s%ld", i);
        snprintf(spec.kind, sizeof spec.kind, "hls");
        spec.poll_ms = (int)(a->poll_s * 1000);
        spec.npaths = 1;
        snprintf(spec.path_name[0], sizeof spec.path_name[0], "default");
        snprintf(spec.url[0], sizeof spec.url[0], "http://127.0.0.1:%d/s/%ld/media.m3u8", port, i);
        probe_add(ps, &spec, 0);
    }
}

int probe_bench_main(int argc, char **argv)
{
    struct args a = {1000, 20, 0, 10, 2.0};
    int nargs = 0, p = oc_cli_parse(probe_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    struct origin o = {.streams = a.streams, .stall = a.stall < a.streams ? a.stall : a.streams};
    struct oc_clock clock;
    struct oc_app app = {0};
    struct probe_state ps = {0};
    char err[128];
    if (origin_start(&o) != 0) {
        fprintf(stderr, "oncue bench probe: cannot serve on 127.0.0.1\n");
        return 1;
    }
    oc_clock_init(&clock, OC_CLOCK_REAL, 0);
    app.clock = &clock;
    app.bus = oc_bus_new();
    ps.app = &app;
    ps.o = (struct probe_opts){"", "127.0.0.1", 2, 5000, a.segments, 2, a.streams};
    oc_netguard_parse(&ps.guard, "127.0.0.1", err, sizeof err);
    pthread_mutex_init(&ps.mu, NULL);
    add_streams(&ps, &a, o.port);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (probe_engine_start(&ps) != 0) {
        fprintf(stderr, "oncue bench probe: cannot start the probe thread\n");
        return 1;
    }
    int64_t t0 = oc_mono_ns();
    usleep((useconds_t)(a.seconds * 500000));
    o.stall_ms = oc_wall_ms();
    usleep((useconds_t)(a.seconds * 500000));
    double wall = (double)(oc_mono_ns() - t0) / 1e9, cpu = thread_cpu_s(ps.thread);
    uint64_t polls = 0;
    oc_lock(&ps.mu);
    for (int i = 0; i < ps.nstreams; i++)
        polls += ps.streams[i]->polls_total;
    uint64_t req = ps.requests, fail = ps.failures;
    oc_unlock(&ps.mu);
    printf("streams:           %ld live HLS playlists on 127.0.0.1, polled every %.1f s for "
           "%.1f s, %ld segment(s) each\n",
           a.streams, a.poll_s, wall, a.segments);
    printf("polls:             %llu made, %.0f due (%.1f%%)\n", (unsigned long long)polls,
           (double)a.streams * wall / a.poll_s,
           100.0 * (double)polls / ((double)a.streams * wall / a.poll_s));
    printf("requests:          %llu (%.0f/s), %llu failed\n", (unsigned long long)req,
           (double)req / wall, (unsigned long long)fail);
    printf("probe thread CPU:  %.2f s of %.1f s (%.1f%% of a core)\n", cpu, wall, 100 * cpu / wall);
    printf("CPU per stream:    %.3f%% of a core (%.1f us per poll)\n",
           100 * cpu / wall / (double)a.streams, polls ? 1e6 * cpu / (double)polls : 0);
    printf("streams per core:  %.0f at a %.1f s poll\n",
           cpu > 0 ? (double)a.streams * wall / cpu : 0, a.poll_s);
    print_stalls(&ps, o.stall_ms, o.stall);
    probe_engine_stop(&ps);
    for (int i = 0; i < ps.nstreams; i++) {
        probe_stream_clear(ps.streams[i]);
        free(ps.streams[i]);
    }
    free(ps.streams);
    event_base_loopbreak(o.base);
    pthread_join(o.th, NULL);
    evhttp_free(o.http);
    event_base_free(o.base);
    oc_bus_destroy(app.bus);
    return 0;
}
