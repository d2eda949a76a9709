/*
 * bench.c - `oncue bench qoe`: memory of the in-memory cube and query latency.
 *
 * In-process, on a virtual clock: fills --minutes closed minutes of --leaves active leaves
 * (one heartbeat per leaf a minute, a start for every fourth) through qoe_cube_add, prints
 * the process RSS, then times --queries group-by queries over the last 60 minutes and prints
 * p50/p99. A benchmark prints figures; it never fails on time.
 */
#include "qoe/qoe.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/opt.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1700000040LL

static long rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static char names[5][64][16]; /* value strings per varied dimension */

static void set_dim(struct beacon_event *e, int d, int slot, int v)
{
    snprintf(names[slot][v], sizeof names[slot][v], "%s%d", beacon_dim_names[d], v);
    e->dims[d].p = names[slot][v];
    e->dims[d].n = (uint32_t)strlen(names[slot][v]);
}

/* Leaf i's dimensions: a mixed radix over five dimensions, so leaves are distinct. */
static void leaf_dims(struct beacon_event *e, int i)
{
    set_dim(e, BEACON_REGION, 0, i % 5);
    set_dim(e, BEACON_CDN, 1, (i / 5) % 3);
    set_dim(e, BEACON_POP, 2, (i / 15) % 40);
    set_dim(e, BEACON_DEVICE, 3, (i / 600) % 8);
    set_dim(e, BEACON_TITLE, 4, (i / 4800) % 64);
}

static void fill_minute(struct qoe_cube *c, struct qoe_fold *b, int64_t t, int leaves,
                        char (*sess)[24])
{
    struct beacon_event *ev = (struct beacon_event *)b->ev;
    b->n = 0;
    for (int i = 0; i < leaves; i++) {
        for (int k = 0; k < (i % 4 == 0 ? 2 : 1); k++) {
            struct beacon_event *e = &ev[b->n];
            memset(e, 0, sizeof *e);
            leaf_dims(e, i);
            e->ts_ms = t * 1000 + (i % 60000);
            e->session.p = sess[i];
            e->session.n = (uint32_t)strlen(sess[i]);
            e->type = k ? BEACON_START : BEACON_HEARTBEAT;
            e->outcome = k ? BEACON_SUCCESS : BEACON_OUTCOME_NONE;
            e->startup_ms = 200 + i % 3000;
            e->playing_ms = 9000;
            e->rebuffer_ms = i % 7 == 0 ? 120 : 0;
            e->bitrate_kbps = 1000 + i % 5000;
            b->n++;
        }
    }
    qoe_cube_add(c, b);
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Times n queries of the last 60 minutes grouped by region x cdn; prints p50/p99. */
static void time_queries(struct qoe_cube *c, int64_t end, int n, int step)
{
    static const enum qoe_metric ms[] = {QOE_REBUFFER_RATIO, QOE_VSF_RATE, QOE_CONCURRENT,
                                         QOE_STARTUP_P95, QOE_REBUFFERING_SHARE};
    double *lat = oc_malloc((size_t)n * sizeof *lat), *cpu = oc_malloc((size_t)n * sizeof *cpu);
    char err[200];
    for (int i = 0; i < n; i++) {
        struct qoe_query q;
        struct qoe_result *r = NULL;
        memset(&q, 0, sizeof q);
        q.metric = ms[i % 5];
        q.from = end - 3600, q.to = end, q.step = step;
        q.ngroup = 2, q.group_by[0] = BEACON_REGION, q.group_by[1] = BEACON_CDN;
        q.top = QOE_DEFAULT_TOP;
        int64_t t0 = oc_mono_ns();
        double c0 = thread_cpu_ms();
        if (qoe_query_run(c, &q, &r, err, sizeof err) != 0)
            fprintf(stderr, "query failed: %s\n", err);
        lat[i] = (double)(oc_mono_ns() - t0) / 1e6;
        cpu[i] = thread_cpu_ms() - c0;
        qoe_result_destroy(r);
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_dbl);
    qsort(cpu, (size_t)n, sizeof *cpu, cmp_dbl);
    printf("query group_by=region,cdn 60 min step %d: wall p50_ms %.2f p99_ms %.2f, "
           "cpu p50_ms %.2f p99_ms %.2f (n=%d)\n",
           step, lat[n / 2], lat[(int)(n * 0.99)], cpu[n / 2], cpu[(int)(n * 0.99)], n);
    free(lat);
    free(cpu);
}

/* What the command line of `oncue bench qoe` says. */
struct bench_args {
    long leaves;  /* --leaves */
    long minutes; /* --minutes */
    long queries; /* --queries */
};

#define F(f) offsetof(struct bench_args, f)
static const struct oc_opt bench_opts[] = {
    {"--leaves", OC_OPT_LONG, F(leaves), "N", "distinct leaves per minute (default 50000)", 1,
     300000, NULL},
    {"--minutes", OC_OPT_LONG, F(minutes), "M", "minutes filled, at least 60 (default 360)", 60,
     1000000, NULL},
    {"--queries", OC_OPT_LONG, F(queries), "Q", "group-by queries timed per step (default 100)", 1,
     1000000, NULL},
    {0},
};
#undef F

const struct oc_cli qoe_bench_cli[] = {
    {"bench qoe", "[OPTIONS]",
     "Fills a cube with N leaves x M minutes in-process, prints its memory, then the p50/p99\n"
     "of a group-by query over the last hour at 60 s and 1 s steps.\n",
     bench_opts, 0},
    {0},
};

int qoe_bench_main(int argc, char **argv)
{
    struct bench_args a = {.leaves = 50000, .minutes = 360, .queries = 100};
    int nargs = 0, p = oc_cli_parse(qoe_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    int leaves = (int)a.leaves, minutes = (int)a.minutes, queries = (int)a.queries;
    struct oc_clock clk;
    struct qoe_cube_opts o;
    struct qoe_fold b;
    qoe_cube_opts_default(&o);
    o.memory_minutes = minutes;
    oc_clock_init(&clk, OC_CLOCK_REPLAY, T0 * 1000);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    char(*sess)[24] = oc_malloc((size_t)leaves * sizeof *sess);
    for (int i = 0; i < leaves; i++)
        snprintf(sess[i], sizeof sess[i], "session-%d", i);
    size_t cap = (size_t)leaves * 2;
    struct beacon_event *ev = oc_malloc(cap * sizeof *ev);
    b = (struct qoe_fold){.ev = ev,
                          .leaf = oc_malloc(cap * sizeof *b.leaf),
                          .sh = oc_malloc(cap * sizeof *b.sh),
                          .verdict = oc_malloc(cap)};
    long rss0 = rss_kb();
    int64_t t0 = oc_mono_ns();
    for (int m = 0; m < minutes; m++)
        fill_minute(c, &b, T0 + m * 60, leaves, sess);
    qoe_cube_flush(c);
    double secs = (double)(oc_mono_ns() - t0) / 1e9;
    printf("filled %d minutes x %d leaves (%.0f events) in %.1f s: %.0f events/s in-process\n",
           minutes, leaves, (double)minutes * leaves * 1.25, secs,
           (double)minutes * leaves * 1.25 / secs);
    printf("rss_mb %.0f (before filling %.0f)\n", (double)rss_kb() / 1024, (double)rss0 / 1024);
    time_queries(c, T0 + minutes * 60, queries, 3600);
    time_queries(c, T0 + minutes * 60, queries, 60);
    free(ev);
    free(b.leaf);
    free(b.sh);
    free(b.verdict);
    free(sess);
    qoe_cube_destroy(c);
    return 0;
}
