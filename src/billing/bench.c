/*
 * bench.c - `oncue bench billing`: load on a running server's billing routes. --connections
 * threads, each with one keep-alive connection, for --duration seconds: `webhook` posts signed
 * Standard Webhooks renewals (each a new event id stamped with the wall clock, so nearly
 * all apply; a stale one is committed as well) over
 * --accounts accounts, answered only once committed; `check` asks GET /v1/entitlements of
 * those accounts. Prints requests/s, failures and the p50/p99/p999 latency; never fails on time.
 */
#include "billing/billing_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/opt.h"
#include "core/timefmt.h"
#include "core/webhook.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LAT_MAX   4000000   /* latencies kept per connection */
#define REPLY_MAX (1 << 16) /* bytes of one answer */

struct bargs {
    const char *target, *token, *secret, *mode;
    long duration, connections, accounts;
};

struct bconn {
    const struct bargs *a;
    char host[256], port[16];
    unsigned char key[OC_WEBHOOK_KEY_MAX];
    size_t klen;
    int id;
    pthread_t th;
    uint64_t requests, failed;
    int64_t *lat;
    size_t nlat;
};

/* Builds the next request of c into req (2048 bytes): its length. */
static int next_request(struct bconn *c, uint64_t k, uint64_t *seed, char *req)
{
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    long acct = (long)((*seed >> 33) % (uint64_t)c->a->accounts);
    if (strcmp(c->a->mode, "check") == 0)
        return snprintf(req, 2048,
                        "GET /v1/entitlements/bacct-%ld?title=t1&region=US HTTP/1.1\r\n"
                        "Host: %s:%s\r\nAuthorization: Bearer %s\r\n\r\n",
                        acct, c->host, c->port, c->a->token ? c->a->token : "");
    char body[400], id[64], iso[OC_TIME_LEN];
    int64_t t = oc_wall_ms(); /* rising: a renewal of a subscription is rarely stale */
    oc_time_format(t, iso, sizeof iso);
    iso[19] = '\0';
    snprintf(id, sizeof id, "bench-%lld-%d-%llu", (long long)t, c->id, (unsigned long long)k);
    int bl = snprintf(body, sizeof body,
                      "{\"type\":\"subscription.renewed\",\"timestamp\":\"%s.%03dZ\","
                      "\"data\":{\"subscription\":\"bsub-%ld\",\"account\":\"bacct-%ld\","
                      "\"period_end\":\"2099-01-01T00:00:00Z\",\"regions\":\"US,CA\"}}",
                      iso, (int)(t % 1000), acct, acct);
    return billing_storm_request(c->host, c->port, c->key, c->klen, id, body, (size_t)bl, req,
                                 2048);
}

static void *bench_thread(void *arg)
{
    struct bconn *c = arg;
    char *req = oc_malloc(2048), *buf = oc_malloc(REPLY_MAX);
    const char *rb;
    uint64_t seed = (uint64_t)c->id * 7919 + 1, k = 0;
    int fd = billing_connect(c->host, c->port);
    int64_t end = oc_mono_ns() + c->a->duration * 1000000000LL;
    c->lat = oc_malloc(LAT_MAX * sizeof *c->lat);
    while (fd >= 0 && oc_mono_ns() < end) {
        int len = next_request(c, k++, &seed, req);
        int64_t t0 = oc_mono_ns();
        int st = billing_exchange(fd, req, (size_t)len, buf, REPLY_MAX, &rb);
        if (c->nlat < LAT_MAX)
            c->lat[c->nlat++] = oc_mono_ns() - t0;
        c->requests++;
        if (st != 200)
            c->failed++;
        if (st < 0) {
            close(fd);
            fd = billing_connect(c->host, c->port);
        }
    }
    if (fd >= 0)
        close(fd);
    free(req);
    free(buf);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

#define F(field) offsetof(struct bargs, field)

static const struct oc_opt options[] = {
    {"--target", OC_OPT_STR, F(target), "URL", "the server (http://127.0.0.1:PORT)", 0, 0, NULL},
    {"--mode", OC_OPT_STR, F(mode), "MODE", "check or webhook (default check)", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "TOKEN", "check: a viewer token", 0, 0, NULL},
    {"--secret", OC_OPT_STR, F(secret), "WHSEC", "webhook: the Standard Webhooks secret", 0, 0,
     NULL},
    {"--connections", OC_OPT_LONG, F(connections), "N", "keep-alive connections (default 50)", 1,
     1024, NULL},
    {"--duration", OC_OPT_LONG, F(duration), "S", "seconds (default 10)", 1, 3600, NULL},
    {"--accounts", OC_OPT_LONG, F(accounts), "N", "accounts bacct-0..N-1 (default 10000)", 1,
     10000000, NULL},
    {0},
};

#undef F

const struct oc_cli billing_bench_cli[] = {
    {"bench billing", "--target URL --mode check|webhook [OPTIONS]",
     "Prints requests/s, failed requests and the p50/p99/p999 latency in ms.\n", options, 0},
    {0},
};

/* Prints the figures of the n connections. */
static void report(struct bconn *c, int n, double secs)
{
    uint64_t req = 0, failed = 0;
    size_t total = 0, at = 0;
    for (int i = 0; i < n; i++) {
        req += c[i].requests;
        failed += c[i].failed;
        total += c[i].nlat;
    }
    int64_t *all = oc_malloc((total + 1) * sizeof *all);
    for (int i = 0; i < n; i++) {
        memcpy(all + at, c[i].lat, c[i].nlat * sizeof *all);
        at += c[i].nlat;
        free(c[i].lat);
    }
    qsort(all, total, sizeof *all, cmp64);
    double p[3] = {0.5, 0.99, 0.999};
    printf("requests %llu failed %llu\nrequests/s %.0f\n", (unsigned long long)req,
           (unsigned long long)failed, secs > 0 ? (double)(req - failed) / secs : 0);
    for (int i = 0; i < 3; i++)
        printf("latency_p%s_ms %.3f\n",
               i == 0   ? "50"
               : i == 1 ? "99"
                        : "999",
               total ? (double)all[(size_t)(p[i] * (double)(total - 1))] / 1e6 : 0);
    free(all);
}

int billing_bench_main(int argc, char **argv)
{
    struct bargs a = {.mode = "check", .duration = 10, .connections = 50, .accounts = 10000};
    int nargs = 0;
    int prc = oc_cli_parse(billing_bench_cli, argc - 1, argv + 1, &a, NULL, &nargs);
    if (prc != 0)
        return prc == 1 ? 0 : 2;
    int webhook = strcmp(a.mode, "webhook") == 0;
    struct bconn *c = oc_calloc((size_t)a.connections, sizeof *c);
    char host[256], port[16];
    unsigned char key[OC_WEBHOOK_KEY_MAX];
    int kl = webhook && a.secret ? oc_webhook_key(a.secret, key) : 0;
    if (!a.target || billing_url_split(a.target, host, sizeof host, port, sizeof port) != 0 ||
        (!webhook && strcmp(a.mode, "check") != 0) || (webhook && kl <= 0)) {
        fprintf(stderr, "oncue bench billing: --target http://HOST:PORT, --mode check|webhook "
                        "(webhook needs --secret whsec_...)\n");
        free(c);
        return 2;
    }
    int64_t t0 = oc_mono_ns();
    for (int i = 0; i < a.connections; i++) {
        c[i].a = &a;
        c[i].id = i;
        memcpy(c[i].host, host, sizeof host);
        memcpy(c[i].port, port, sizeof port);
        memcpy(c[i].key, key, sizeof key);
        c[i].klen = (size_t)(kl > 0 ? kl : 0);
        pthread_create(&c[i].th, NULL, bench_thread, &c[i]);
    }
    for (int i = 0; i < a.connections; i++)
        pthread_join(c[i].th, NULL);
    report(c, (int)a.connections, (double)(oc_mono_ns() - t0) / 1e9);
    free(c);
    return 0;
}
