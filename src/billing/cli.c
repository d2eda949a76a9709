/*
 * cli.c - `oncue billing`: `audit verify` (walks the hash chain; exit 0 intact, 1 at the first
 * broken row), `show ACCOUNT` (subscriptions, verdict, last events and actions, from the data
 * directory), and `storm` (posts a signed webhook storm to a running server and compares every
 * account with the ground truth; see storm.c).
 */
#include "billing/billing_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/opt.h"
#include "core/webhook.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLY_MAX (1 << 16) /* bytes of one answer read */

struct cli {
    const char *data, *target, *secret, *token, *prefix;
    long subs, seed, connections, retry_s;
    int json;
    const char *args[3];
};

#define F(field) offsetof(struct cli, field)

static const struct oc_opt options[] = {
    {"--data", OC_OPT_STR, F(data), "DIR", "audit, show: the data directory (default ./oncue-data)",
     0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "show: print JSON", 0, 0, NULL},
    {"--target", OC_OPT_STR, F(target), "URL", "storm: the server (http://127.0.0.1:PORT)", 0, 0,
     NULL},
    {"--secret", OC_OPT_STR, F(secret), "WHSEC",
     "storm: the Standard Webhooks secret the server has in billing.standard_secrets", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "TOKEN", "storm: a viewer token for the checks", 0, 0, NULL},
    {"--subscriptions", OC_OPT_LONG, F(subs), "N", "storm: subscriptions (default 1000)", 1,
     1000000, NULL},
    {"--seed", OC_OPT_LONG, F(seed), "N", "storm: the generator's seed (default 1)", 0, 2147483647,
     NULL},
    {"--prefix", OC_OPT_STR, F(prefix), "P",
     "storm: starts every event, subscription and account id (storms sent to one server)", 0, 0,
     NULL},
    {"--connections", OC_OPT_LONG, F(connections), "N", "storm: parallel connections (default 8)",
     1, 256, NULL},
    {"--retry-s", OC_OPT_LONG, F(retry_s), "S",
     "storm: keep retrying a delivery the server did not acknowledge this long (default 30)", 1,
     3600, NULL},
    {0},
};

#undef F

const struct oc_cli billing_cli[] = {
    {"billing", "audit verify | show ACCOUNT | storm [OPTIONS]",
     "audit verify: check the billing audit's hash chain (exit 0 intact, 1 broken: the first\n"
     "broken row is printed). show ACCOUNT: subscriptions, entitlement and last audit rows.\n"
     "storm: post a shuffled, duplicated, delayed webhook storm to --target, then compare\n"
     "every account's entitlement with the ground truth (exit 1 on any regression, event\n"
     "applied twice or lost).\n",
     options, 2},
    {0},
};

static int cmd_verify(struct cli *c)
{
    int64_t rows, bad;
    char why[300];
    int rc = billing_audit_verify(c->data, &rows, &bad, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "oncue billing audit verify: %s\n", why);
        return 2;
    }
    if (rc > 0) {
        printf("broken at row %lld: %s\n", (long long)bad, why);
        return 1;
    }
    printf("ok: %lld rows, the chain is intact\n", (long long)rows);
    return 0;
}

/* Prints the account view as a few lines of text. */
static void show_text(const json_t *v)
{
    size_t i;
    json_t *x;
    printf("account %s: %s (%s)\n  %s\n", json_string_value(json_object_get(v, "account")),
           json_is_true(json_object_get(v, "allowed")) ? "allowed" : "not allowed",
           json_string_value(json_object_get(v, "state")),
           json_string_value(json_object_get(v, "reason")));
    json_array_foreach(json_object_get(v, "subscriptions"), i, x)
    {
        printf("  subscription %s (%s): %s, period end %s, last event %s\n",
               json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "provider")),
               json_string_value(json_object_get(x, "state")),
               json_string_value(json_object_get(x, "period_end")),
               json_string_value(json_object_get(x, "last_event")));
    }
    json_array_foreach(json_object_get(v, "audit"), i, x)
    {
        char *d = json_dumps(json_object_get(x, "detail"), JSON_COMPACT | JSON_SORT_KEYS);
        printf("  #%lld %s %s\n", (long long)json_integer_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "kind")), d ? d : "");
        free(d);
    }
}

static int cmd_show(struct cli *c)
{
    struct store *s = NULL;
    struct oc_clock clock;
    char err[512];
    json_t *v = NULL;
    if (!c->args[1] || !billing_id_valid(c->args[1], BILLING_ID_MAX)) {
        fprintf(stderr, "oncue billing show: name an account\n");
        return 2;
    }
    if (access(c->data, F_OK) != 0 || store_open(c->data, STORE_SYNC_NORMAL, &s, err, sizeof err)) {
        fprintf(stderr, "oncue billing show: cannot open %s\n", c->data);
        return 2;
    }
    oc_clock_init(&clock, OC_CLOCK_REAL, 0);
    int rc = billing_account_json(s, c->args[1], oc_clock_now_ms(&clock), 20, &v);
    store_close(s);
    if (rc) {
        fprintf(stderr, "oncue billing show: cannot read the store\n");
        return 1;
    }
    if (c->json) {
        char *t = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("%s\n", t);
        free(t);
    } else {
        show_text(v);
    }
    json_decref(v);
    return 0;
}

/* The storm run shared by its connection threads. */
struct storm_run {
    const struct cli *c;
    struct billing_storm st;
    char host[256], port[16];
    unsigned char key[OC_WEBHOOK_KEY_MAX];
    size_t klen;
    int64_t period_end_ms;
    atomic_size_t next;    /* the next delivery to post */
    atomic_int *acked;     /* per event: 200 answers */
    atomic_int *applied;   /* per event: 200 answers not marked duplicate */
    atomic_size_t refused; /* 4xx answers */
    atomic_size_t retried; /* deliveries sent again (connection lost, 5xx) */
};

/* Posts one delivery until it is answered (retrying on a lost connection or a 5xx for up to
 * --retry-s); *fd is reconnected as needed. */
static void post_one(struct storm_run *r, int *fd, size_t e, char *req, char *buf)
{
    char body[512];
    const char *rb;
    int blen = billing_storm_body(&r->st, e, r->period_end_ms, body, sizeof body);
    int64_t until = oc_wall_ms() + r->c->retry_s * 1000;
    for (;;) {
        int len = billing_storm_request(r->host, r->port, r->key, r->klen, r->st.ev[e].id, body,
                                        (size_t)blen, req, 2048);
        int status = *fd >= 0 ? billing_exchange(*fd, req, (size_t)len, buf, REPLY_MAX, &rb) : -1;
        if (status == 200) {
            atomic_fetch_add(&r->acked[e], 1);
            if (!strstr(rb, "\"duplicate\":true"))
                atomic_fetch_add(&r->applied[e], 1);
            return;
        }
        if (status >= 400 && status < 500) {
            atomic_fetch_add(&r->refused, 1);
            return;
        }
        if (oc_wall_ms() > until)
            return;
        atomic_fetch_add(&r->retried, 1);
        if (status < 0) {
            if (*fd >= 0)
                close(*fd);
            usleep(20000);
            *fd = billing_connect(r->host, r->port);
        } else {
            usleep(20000);
        }
    }
}

static void *storm_thread(void *arg)
{
    struct storm_run *r = arg;
    char *req = oc_malloc(2048), *buf = oc_malloc(REPLY_MAX);
    int fd = billing_connect(r->host, r->port);
    for (size_t i; (i = atomic_fetch_add(&r->next, 1)) < r->st.ndeliv;)
        post_one(r, &fd, r->st.deliv[i], req, buf);
    if (fd >= 0)
        close(fd);
    free(req);
    free(buf);
    return NULL;
}

/* Checks every account against the truth: the number of mismatches (printing the first). */
static size_t storm_check(struct storm_run *r)
{
    char req[512], *buf = oc_malloc(REPLY_MAX), want[64];
    const char *rb;
    size_t bad = 0;
    int fd = billing_connect(r->host, r->port);
    for (int i = 0; i < r->st.nsubs; i++) {
        int len = snprintf(req, sizeof req,
                           "GET /v1/entitlements/%sacct-%06d HTTP/1.1\r\nHost: %s:%s\r\n"
                           "Authorization: Bearer %s\r\n\r\n",
                           r->st.prefix, i, r->host, r->port, r->c->token);
        int status = fd >= 0 ? billing_exchange(fd, req, (size_t)len, buf, REPLY_MAX, &rb) : -1;
        snprintf(want, sizeof want, "\"state\":\"%s\"", billing_state_names[r->st.truth[i]]);
        if (status != 200 || !strstr(rb, want)) {
            if (!bad++)
                fprintf(stderr, "%sacct-%06d: expected %s, got %d %s\n", r->st.prefix, i, want,
                        status, status > 0 ? rb : "");
        }
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return bad;
}

/* Prints the storm's figures; returns 0 when nothing regressed, nothing was applied twice and
 * nothing was lost. */
static int storm_report(struct storm_run *r, double secs, size_t regressions)
{
    size_t twice = 0, lost = 0;
    for (size_t e = 0; e < r->st.nevents; e++) {
        twice += atomic_load(&r->applied[e]) > 1;
        lost += atomic_load(&r->acked[e]) == 0;
    }
    printf("subscriptions %d\nevents %zu\ndeliveries %zu\nrefused %zu\nretried %zu\n"
           "seconds %.2f\ndeliveries/s %.0f\nregressions %zu\napplied_twice %zu\nlost %zu\n",
           r->st.nsubs, r->st.nevents, r->st.ndeliv, atomic_load(&r->refused),
           atomic_load(&r->retried), secs, secs > 0 ? (double)r->st.ndeliv / secs : 0, regressions,
           twice, lost);
    return regressions || twice || lost ? 1 : 0;
}

static int cmd_storm(struct cli *c)
{
    struct storm_run r = {.c = c};
    int n = (int)c->connections, rc;
    if (!c->target || !c->secret || !c->token ||
        billing_url_split(c->target, r.host, sizeof r.host, r.port, sizeof r.port) != 0) {
        fprintf(stderr, "oncue billing storm: --target http://HOST:PORT, --secret and --token "
                        "are needed\n");
        return 2;
    }
    int kl = oc_webhook_key(c->secret, r.key);
    if (kl <= 0) {
        fprintf(stderr, "oncue billing storm: --secret is not a whsec_ base64 secret\n");
        return 2;
    }
    r.klen = (size_t)kl;
    int64_t now = oc_wall_ms();
    r.period_end_ms = now + 30LL * 86400 * 1000;
    if (billing_storm_make((int)c->subs, (uint64_t)c->seed, c->prefix, now, &r.st) != 0) {
        fprintf(stderr, "oncue billing storm: --prefix: up to 16 printable characters\n");
        return 2;
    }
    r.acked = oc_calloc(r.st.nevents, sizeof *r.acked);
    r.applied = oc_calloc(r.st.nevents, sizeof *r.applied);
    pthread_t *th = oc_calloc((size_t)n, sizeof *th);
    int64_t t0 = oc_mono_ns();
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, storm_thread, &r);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(oc_mono_ns() - t0) / 1e9;
    rc = storm_report(&r, secs, storm_check(&r));
    free(th);
    free(r.acked);
    free(r.applied);
    billing_storm_free(&r.st);
    return rc;
}

int billing_cli_main(int argc, char **argv)
{
    struct cli c = {.data = "./oncue-data",
                    .prefix = "",
                    .subs = 1000,
                    .seed = 1,
                    .connections = 8,
                    .retry_s = 30};
    int nargs = 0;
    int prc = oc_cli_parse(billing_cli, argc - 1, argv + 1, &c, c.args, &nargs);
    if (prc != 0)
        return prc == 1 ? 0 : 2;
    if (nargs >= 1 && strcmp(c.args[0], "audit") == 0 && nargs == 2 &&
        strcmp(c.args[1], "verify") == 0)
        return cmd_verify(&c);
    if (nargs == 2 && strcmp(c.args[0], "show") == 0)
        return cmd_show(&c);
    if (nargs == 1 && strcmp(c.args[0], "storm") == 0)
        return cmd_storm(&c);
    fprintf(stderr, "usage: oncue billing audit verify | show ACCOUNT | storm (see oncue billing "
                    "--help)\n");
    return 2;
}
