/*
 * bench.c - `oncue bench tickets`: the labelled storm (storm.c) through SimHash and the
 * incremental clusters on one core. Prints pairwise precision and recall against the storm's
 * labels, the clusters made, and tickets clustered per minute (tagging counted apart), for
 * docs/internals/tickets.md; never fails on time.
 */
#include "tickets/tickets.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct targs {
    long tickets, noise, seed, threshold;
    int json; /* --json: one JSON object instead of lines */
};

static const struct oc_opt options[] = {
    {"--tickets", OC_OPT_LONG, offsetof(struct targs, tickets), "N", "tickets in the storm", 1,
     10000000, NULL},
    {"--noise", OC_OPT_LONG, offsetof(struct targs, noise), "PCT",
     "percent of noise tickets (each its own class)", 0, 100, NULL},
    {"--seed", OC_OPT_LONG, offsetof(struct targs, seed), "N", "the storm's seed", 1, 2000000000,
     NULL},
    {"--threshold", OC_OPT_LONG, offsetof(struct targs, threshold), "BITS",
     "Hamming distance that joins a cluster (tickets.cluster_threshold)", 0, 64, NULL},
    {"--json", OC_OPT_FLAG, offsetof(struct targs, json), NULL,
     "print one JSON object (the same figures)", 0, 0, NULL},
    {0},
};

const struct oc_cli tickets_bench_cli[] = {
    {"bench tickets", "[--tickets N] [--noise PCT] [--seed N] [--threshold BITS] [--json]",
     "Generates a labelled ticket storm and clusters it on one core. Prints pairwise precision\n"
     "and recall, clusters, and tickets/min (SimHash and clustering; tagging apart).\n",
     options, 0},
    {0},
};

/* Prints the figures as lines (docs/internals/tickets.md quotes them). */
static void report(const struct targs *a, double p, double rc, size_t clusters, size_t big,
                   double n, double cs_s, double gen_s)
{
    printf("tickets %ld noise %ld%% seed %ld threshold %ld\n", a->tickets, a->noise, a->seed,
           a->threshold);
    printf("precision %.4f recall %.4f\n", p, rc);
    printf("clusters %zu (with >= 10 tickets: %zu)\n", clusters, big);
    printf("cluster tickets/min %.0f (%.3f s)\n", cs_s > 0 ? n / cs_s * 60 : 0, cs_s);
    printf("generate+tag tickets/min %.0f (%.3f s)\n", gen_s > 0 ? n / gen_s * 60 : 0, gen_s);
}

int tickets_bench_main(int argc, char **argv)
{
    struct targs a = {10000, 20, 42, 24, 0};
    struct tickets_storm s;
    struct tickets_clusters cs;
    int nargs = 0, r = oc_cli_parse(tickets_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (r)
        return r > 0 ? 0 : 2;
    int64_t t0 = oc_mono_ns();
    tickets_storm_make((size_t)a.tickets, (int)a.noise, (uint64_t)a.seed, &s);
    int64_t t1 = oc_mono_ns();
    int64_t *cl = oc_calloc(s.n, sizeof *cl);
    tickets_clusters_init(&cs, s.n, (int)a.threshold);
    for (size_t i = 0; i < s.n; i++)
        if (tickets_clusters_add(&cs, tickets_simhash(&s.t[i]), &s.t[i].tags, s.t[i].updated_ms,
                                 &cl[i]) != 0)
            cl[i] = -1 - (int64_t)i;
    int64_t t2 = oc_mono_ns();
    double p = 0, rc = 0;
    tickets_pair_scores(cl, s.label, s.n, &p, &rc);
    size_t big = 0;
    for (size_t i = 0; i < cs.n; i++)
        big += cs.c[i].n >= 10;
    double cs_s = (double)(t2 - t1) / 1e9, gen_s = (double)(t1 - t0) / 1e9;
    if (a.json)
        printf("{\"tickets\":%ld,\"noise_pct\":%ld,\"seed\":%ld,\"threshold\":%ld,"
               "\"precision\":%.4f,\"recall\":%.4f,\"clusters\":%zu,\"clusters_10\":%zu,"
               "\"cluster_tickets_per_min\":%.0f,\"tag_tickets_per_min\":%.0f}\n",
               a.tickets, a.noise, a.seed, a.threshold, p, rc, cs.n, big,
               cs_s > 0 ? (double)s.n / cs_s * 60 : 0, gen_s > 0 ? (double)s.n / gen_s * 60 : 0);
    else
        report(&a, p, rc, cs.n, big, (double)s.n, cs_s, gen_s);
    tickets_clusters_free(&cs);
    tickets_storm_free(&s);
    free(cl);
    return 0;
}
