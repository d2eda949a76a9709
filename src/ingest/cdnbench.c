/*
 * cdnbench.c - `oncue bench cdnlog`: the CDN log parsers on one core, in-process. Builds a
 * body of --lines realistic lines per format (each with CMCD of its player: sid, cid, br, bl,
 * d, ot, st, and a starvation every 50th line), parses it --rounds times and prints lines/s
 * (wall clock) and lines per CPU second of the thread (what one core does, however busy the
 * machine is) and MB/s, then again parsed and folded into a cube (the whole intake but HTTP); the
 * anchor is the beacon parser (ingest_parse) on NDJSON beacons carrying the same facts. A benchmark
 * prints figures; it never fails on time.
 */
#include "ingest/cmcd.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench_args {
    long lines;  /* lines per body */
    long rounds; /* parses of each body */
};

#define A(f) offsetof(struct bench_args, f)
static const struct oc_opt opts[] = {
    {"--lines", OC_OPT_LONG, A(lines), "N", "lines in each body (default 20000)", 1, 200000, NULL},
    {"--rounds", OC_OPT_LONG, A(rounds), "N", "parses of each body (default 50)", 1, 100000, NULL},
    {0},
};
#undef A

const struct oc_cli cdnlog_bench_cli[] = {
    {"bench cdnlog", "[--lines N] [--rounds N]",
     "Parses generated CDN log lines (Fastly NDJSON, Akamai DataStream 2 JSON, CloudFront\n"
     "real-time TSV, each with CMCD) on one core and prints lines/s, beside the beacon\n"
     "parser on equivalent NDJSON beacons.\n",
     opts, 0},
    {0},
};

static const char *const pops[] = {"FRA", "LHR", "AMS", "CDG", "IAD", "SJC", "NRT", "GRU"};

static void line(struct oc_buf *b, int fmt, long i)
{
    long s = i % 5000;
    const char *pop = pops[i % 8];
    long ts = 1767268800000L + i * 3;
    int bs = i % 50 == 0;
    if (fmt == CDNLOG_FASTLY)
        oc_buf_printf(b,
                      "{\"timestamp\":\"%ld.%03ld\",\"client_ip\":\"203.0.113.0\",\"pop\":\"%s\","
                      "\"status\":200,\"cache_status\":\"%s\",\"ttfb_ms\":%ld,\"bytes\":%ld,"
                      "\"asn\":\"3320\",\"country\":\"DE\",\"method\":\"GET\",\"url\":\"/v/t%ld/"
                      "seg%ld.m4s?CMCD=br%%3D3200%%2Cbl%%3D21000%%2C%sd%%3D4000%%2Cot%%3Dv%%2C"
                      "sid%%3D%%22s%05ld%%22%%2Ccid%%3D%%22t%ld%%22%%2Cst%%3Dv\",\"user_agent\":"
                      "\"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)\"}\n",
                      ts / 1000, ts % 1000, pop, i % 9 ? "HIT" : "MISS", 12 + i % 40,
                      1200000 + i % 999, s % 40, i, bs ? "bs%2C" : "", s, s % 40);
    else if (fmt == CDNLOG_AKAMAI)
        oc_buf_printf(b,
                      "{\"version\":1,\"cp\":\"123456\",\"reqId\":\"1a2b3c%ld\",\"reqTimeSec\":"
                      "\"%ld.%03ld\",\"bytes\":\"%ld\",\"cliIP\":\"203.0.113.0\",\"statusCode\":"
                      "\"206\",\"proto\":\"HTTPS\",\"reqHost\":\"media.example.com\",\"reqMethod\":"
                      "\"GET\",\"reqPath\":\"/v/t%ld/seg%ld.m4s\",\"UA\":\"Mozilla/5.0\","
                      "\"cacheStatus\":\"%d\",\"cacheable\":\"1\",\"timeToFirstByte\":\"%ld\","
                      "\"country\":\"DE\",\"asn\":\"3320\",\"pop\":\"%s\",\"edgeIP\":"
                      "\"198.51.100.7\",\"cmcd\":\"br=3200,bl=21000,%sd=4000,ot=v,"
                      "sid=\\\"s%05ld\\\",cid=\\\"t%ld\\\",st=v\"}\n",
                      i, ts / 1000, ts % 1000, 1200000 + i % 999, s % 40, i, i % 9 ? 1 : 0,
                      12 + i % 40, pop, bs ? "bs," : "", s, s % 40);
    else
        oc_buf_printf(b,
                      "%ld.%03ld\t203.0.113.0\t0.%03ld\t200\t%ld\tGET\thttps\td1.cloudfront.net\t"
                      "/v/t%ld/seg%ld.m4s\t310\t%s52-P1\tabcdef%ld\tmedia.example.com\t0.120\t"
                      "HTTP/2.0\tIPv4\tMozilla/5.0\t-\t-\t-\t%s\t-\tTLSv1.3\t"
                      "TLS_AES_128_GCM_SHA256\t%s\t-\t-\tvideo/mp4\t%ld\t-\t-\t443\t%s\tDE\t"
                      "gzip\t*/*\t/v/*\t-\t-\t-\tE123\td1.cloudfront.net\t-\t-\t3320\t3200\t"
                      "21000\t%s\tt%ld\t4000\t-\t-\t-\t-\tv\t-\t-\td\ts%05ld\tv\t-\t-\t1\n",
                      ts / 1000, ts % 1000, 12 + i % 40, 1200000 + i % 999, s % 40, i, pop, i,
                      i % 9 ? "Hit" : "Miss", i % 9 ? "Hit" : "Miss", 1200000 + i % 999,
                      i % 9 ? "Hit" : "Miss", bs ? "true" : "false", s % 40, s);
}

static void beacon(struct oc_buf *b, long i)
{
    long s = i % 5000;
    oc_buf_printf(b,
                  "{\"ts\":%ld,\"type\":\"heartbeat\",\"session\":\"s%05ld\",\"cdn\":\"fastly\","
                  "\"pop\":\"%s\",\"asn\":\"3320\",\"country\":\"DE\",\"title\":\"t%ld\","
                  "\"live\":false,\"playing_ms\":4000,\"rebuffer_ms\":%d,\"bitrate_kbps\":3200}\n",
                  1767268800000L + i * 3, s, pops[i % 8], s % 40, i % 50 == 0 ? 250 : 0);
}

/* This thread's CPU time in ns: what one core spent, whatever else the machine runs. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A timing: wall and CPU nanoseconds at its start. */
struct span {
    int64_t wall, cpu;
};

static struct span span_start(void)
{
    return (struct span){oc_mono_ns(), cpu_ns()};
}

static void report(const char *name, long lines, long rounds, size_t bytes, struct span t0,
                   const struct beacon_event *ev, size_t nev)
{
    double secs = (double)(oc_mono_ns() - t0.wall) / 1e9, n = (double)lines * (double)rounds;
    double cpu = (double)(cpu_ns() - t0.cpu) / 1e9;
    size_t edge = 0;
    for (size_t i = 0; i < nev; i++)
        edge += ev[i].type == BEACON_EDGE;
    printf("%-15s lines/s %.0f  lines/cpu-s %.0f  MB/s %.1f  bytes/line %.0f  player_events %zu"
           "  edge_events %zu\n",
           name, n / secs, n / cpu, (double)bytes * (double)rounds / secs / 1e6,
           (double)bytes / (double)lines, nev - edge, edge);
}

int cdnlog_bench_main(int argc, char **argv)
{
    struct bench_args a = {.lines = 20000, .rounds = 50};
    int nargs = 0, p = oc_cli_parse(cdnlog_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    static const char *const names[] = {"", "fastly", "akamai", "cloudfront"};
    struct cmcd_batch cb;
    struct oc_buf b;
    struct cmcd_dims dims = {0};
    cmcd_batch_init(&cb, CMCD_MAX_LINES);
    printf("oncue bench cdnlog: %ld lines a body, %ld rounds, one core\n", a.lines, a.rounds);
    for (int f = CDNLOG_FASTLY; f <= CDNLOG_CLOUDFRONT; f++) {
        oc_buf_init(&b, (size_t)1 << 30);
        for (long i = 0; i < a.lines; i++)
            line(&b, f, i);
        dims.d[BEACON_CDN] = (struct beacon_str){names[f], (uint32_t)strlen(names[f])};
        struct span t0 = span_start();
        for (long r = 0; r < a.rounds; r++)
            cdnlog_parse(&cb, (enum cdnlog_format)f, NULL, b.data, b.len, &dims);
        report(names[f], a.lines, a.rounds, b.len, t0, cb.ev, cb.nev);
        /* the whole intake: parsed and folded into a cube (replay clock: nothing too old) */
        struct oc_clock clk;
        struct qoe_cube_opts co;
        char label[32];
        qoe_cube_opts_default(&co);
        oc_clock_init(&clk, OC_CLOCK_REPLAY, 0);
        struct qoe_cube *c = qoe_cube_new(&co, &clk);
        t0 = span_start();
        for (long r = 0; r < a.rounds; r++) {
            cdnlog_parse(&cb, (enum cdnlog_format)f, NULL, b.data, b.len, &dims);
            cmcd_fold(c, &cb, NULL);
        }
        snprintf(label, sizeof label, "%s+fold", names[f]);
        report(label, a.lines, a.rounds, b.len, t0, cb.ev, cb.nev);
        qoe_cube_destroy(c);
        if (cb.rejected)
            printf("  (%zu lines rejected: %s)\n", cb.rejected, cb.errors[0].detail);
        oc_buf_free(&b);
    }
    struct ingest_batch ib;
    char err[160];
    ingest_batch_init(&ib, 1000000);
    oc_buf_init(&b, (size_t)1 << 30);
    for (long i = 0; i < a.lines; i++)
        beacon(&b, i);
    struct span t0 = span_start();
    for (long r = 0; r < a.rounds; r++)
        ingest_parse(&ib, b.data, b.len, err, sizeof err);
    report("anchor:beacons", a.lines, a.rounds, b.len, t0, ib.ev, ib.nev);
    oc_buf_free(&b);
    ingest_batch_free(&ib);
    cmcd_batch_free(&cb);
    return 0;
}
