/*
 * bench.c - `oncue bench sim`: how fast the model generates events in-process on one core
 * (the target is 5 million events per second), with a sink that only counts, then with
 * NDJSON encoding as `oncue sim` does. Prints figures; never passes or fails on time.
 */
#include "sim/sim.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_sink {
    uint64_t n, sum;       /* events, and a checksum so the work is not optimized away */
    struct oc_buf *ndjson; /* NULL: count only */
};

static void count_sink(void *arg, const struct beacon_event *ev)
{
    struct bench_sink *b = arg;
    b->n++;
    b->sum += (uint64_t)ev->ts_ms + (uint64_t)ev->rebuffer_ms;
    if (b->ndjson) {
        sim_ndjson_append(b->ndjson, ev);
        if (b->ndjson->len > (1u << 20))
            oc_buf_reset(b->ndjson);
    }
}

/* Runs one pass; prints events, seconds and events/s. */
static int pass(const struct sim_topo *t, const struct sim_scenario *sc, int viewers, int minutes,
                int ndjson)
{
    struct oc_buf buf;
    struct bench_sink b = {0};
    struct sim *s = NULL;
    struct sim_opts o = {.seed = 1, .viewers = viewers, .sink = count_sink, .sink_arg = &b};
    oc_buf_init(&buf, 4u << 20);
    b.ndjson = ndjson ? &buf : NULL;
    int64_t c0 = oc_mono_ns();
    int rc = sim_new(&o, t, sc, &s);
    if (rc == 0) {
        sim_run(s, sim_now_ms(s) + minutes * 60000LL);
        double secs = (double)(oc_mono_ns() - c0) / 1e9;
        printf("sim %-9s viewers=%d simulated=%dmin events=%llu seconds=%.2f events_per_s=%.0f "
               "speedup=%.0fx\n",
               ndjson ? "+ndjson" : "generate", viewers, minutes, (unsigned long long)b.n, secs,
               (double)b.n / secs, minutes * 60.0 / secs);
    }
    sim_destroy(s);
    oc_buf_free(&buf);
    return rc;
}

/* What the command line of `oncue bench sim` says. */
struct bench_args {
    long viewers; /* --viewers */
    long minutes; /* --minutes */
};

#define F(f) offsetof(struct bench_args, f)
static const struct oc_opt bench_opts[] = {
    {"--viewers", OC_OPT_LONG, F(viewers), "N", "concurrent viewers (default 80000)", 1, 4000000,
     NULL},
    {"--minutes", OC_OPT_LONG, F(minutes), "M", "simulated minutes (default 60)", 1, 100000, NULL},
    {0},
};
#undef F

const struct oc_cli sim_bench_cli[] = {
    {"bench sim", "[OPTIONS]",
     "Runs emea-cdn in-process on one core and prints events/s: counting only, then encoding\n"
     "NDJSON as `oncue sim` does.\n",
     bench_opts, 0},
    {0},
};

int sim_bench_main(int argc, char **argv)
{
    struct bench_args a = {.viewers = 80000, .minutes = 60};
    struct sim_topo *t = NULL;
    struct sim_scenario *sc = NULL;
    int nargs = 0, p = oc_cli_parse(sim_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    int viewers = (int)a.viewers, minutes = (int)a.minutes;
    int rc = sim_topo_default(&t);
    if (rc == 0)
        rc = sim_scenario_builtin("emea-cdn", &sc);
    if (rc == 0)
        rc = pass(t, sc, viewers, minutes, 0);
    if (rc == 0)
        rc = pass(t, sc, viewers, minutes < 10 ? minutes : 10, 1);
    if (rc)
        fprintf(stderr, "oncue bench sim: %s\n", oc_strerror(rc));
    sim_scenario_destroy(sc);
    sim_topo_destroy(t);
    return rc ? 1 : 0;
}
