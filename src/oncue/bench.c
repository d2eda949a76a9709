/*
 * bench.c - `oncue bench NAME`: benchmarks that print figures (never pass/fail on time).
 *
 * Each row names a benchmark and the function in its capability that runs it. To add one,
 * add one row.
 */
#include "oncue/commands.h"
#include "core/buf.h"
#include "core/suggest.h"
#include "ingest/ingest.h"
#include "ingest/cmcd.h"
#include "qoe/qoe.h"
#include "resume/resume.h"
#include "billing/billing.h"
#include "search/search.h"
#include "probe/probe.h"
#include "tickets/tickets.h"
#include "sim/sim.h"

#include <stdio.h>
#include <string.h>

struct bench_entry {
    const char *name;                 /* `oncue bench NAME` */
    int (*fn)(int argc, char **argv); /* argv[0] is NAME */
    const char *summary;              /* one line */
    const struct oc_cli *cli;         /* its option tables, ending in {0} */
};

static const struct bench_entry benches[] = {
    {"sim", sim_bench_main, "in-process simulator: events/s generated on one core", sim_bench_cli},
    {"ingest", ingest_bench_main, "POST /v1/events load: events/s, requests/s, p50/p99 latency",
     ingest_bench_cli},
    {"cdnlog", cdnlog_bench_main,
     "CDN log lines with CMCD parsed on one core: lines/s per format, beside the beacon parser",
     cdnlog_bench_cli},
    {"qoe", qoe_bench_main, "cube memory for N leaves x M minutes, group-by query p50/p99",
     qoe_bench_cli},
    {"resume", resume_bench_main,
     "PUT, batched POST or GET on /v1/resume: requests/s, positions/s, p50/p99 latency",
     resume_bench_cli},
    {"billing", billing_bench_main,
     "GET /v1/entitlements checks or signed webhooks: requests/s, p50/p99 latency",
     billing_bench_cli},
    {"search", search_bench_main,
     "catalog search at 1M titles vs SQLite FTS5: p50/p95/p99, top-1/top-10 recall, size",
     search_bench_cli},
    {"probe", probe_bench_main,
     "live HLS prober over generated local playlists: streams per core, CPU per stream",
     probe_bench_cli},
    {"tickets", tickets_bench_main,
     "labelled ticket storm clustered on one core: precision, recall, tickets/min",
     tickets_bench_cli},
    {0},
};

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: oncue bench NAME [OPTIONS]\n\nbenchmarks (each prints figures):\n");
    for (const struct bench_entry *b = benches; b->name; b++)
        fprintf(f, "  %-10s %s\n", b->name, b->summary);
}

int oc_bench_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            fprintf(stderr, "oncue bench: name a benchmark\n\n");
        bench_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const struct bench_entry *b = benches; b->name; b++)
        if (strcmp(argv[1], b->name) == 0)
            return b->fn(argc - 1, argv + 1);
    char hint[160];
    if (argv[1][0] == '-')
        fprintf(stderr, "oncue bench: name a benchmark before the options ('%s' came first)\n\n",
                argv[1]);
    else
        fprintf(stderr, "oncue bench: unknown benchmark '%s'%s\n\n", argv[1],
                OC_SUGGEST_TABLE(argv[1], benches, hint));
    bench_usage(stderr);
    return 2;
}

void oc_bench_doc(struct oc_buf *b)
{
    for (const struct bench_entry *e = benches; e->name; e++)
        for (const struct oc_cli *c = e->cli; c && c->name; c++)
            oc_cli_doc(c, b);
}
