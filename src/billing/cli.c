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
#include "core/suggest.h"
#include "core/webhook.h"
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLY_MAX (1 << 16) /* bytes of one answer read */

struct cli {
    const char *data, *target, *secret, *token, *prefix;
    const char *format, *out, *reason, *key;
    long subs, seed, connections, retry_s;
    int json, force;
    const char *args[3];
};

#define F(field) offsetof(struct cli, field)

static const struct oc_opt options[] = {
    {"--data", OC_OPT_STR, F(data), "DIR", "audit, show: the data directory (default ./oncue-data)",
     0, 0, NULL},
    {"--json", OC_OPT_FLAG, F(json), NULL, "show: print JSON", 0, 0, NULL},
    {"--target", OC_OPT_STR, F(target), "URL",
     "storm, royalties export|seal, replay, show: the server (http://127.0.0.1:PORT)", 0, 0, NULL},
    {"--format", OC_OPT_STR, F(format), "csv|json", "royalties export: the format (default csv)", 0,
     0, NULL},
    {"--out", OC_OPT_STR, F(out), "FILE", "royalties export: write here (default stdout)", 0, 0,
     NULL},
    {"--reason", OC_OPT_STR, F(reason), "TEXT", "replay: why (audited)", 0, 0, NULL},
    {"--force", OC_OPT_FLAG, F(force), NULL,
     "replay: apply the event as of now, above what was applied since", 0, 0, NULL},
    {"--key", OC_OPT_STR, F(key), "KEY",
     "replay: the Idempotency-Key (default: derived from the provider, id, force and reason, so"
     " running the same command again replays its first answer)",
     0, 0, NULL},
    {"--secret", OC_OPT_STR, F(secret), "WHSEC",
     "storm: the Standard Webhooks secret the server has in billing.standard_secrets", 0, 0, NULL},
    {"--token", OC_OPT_STR, F(token), "TOKEN",
     "storm: a viewer token for the checks; royalties seal, replay: an admin token; export, show:"
     " a viewer token",
     0, 0, NULL},
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
    {"billing",
     "audit verify | show ACCOUNT | storm | royalties export|seal DAY | royalties verify FILE |\n"
     "       replay PROVIDER ID --reason TEXT [OPTIONS]",
     "audit verify: check the billing audit's hash chain (exit 0 intact, 1 broken: the first\n"
     "broken row is printed). show ACCOUNT: subscriptions, entitlement and last audit rows (with\n"
     "--target, from the server, with the last reconciliation's discrepancies).\n"
     "royalties export DAY: the UTC day's plays and watch time per title and region (CSV or\n"
     "JSON). royalties seal DAY: seal it into the audit chain. royalties verify FILE: check an\n"
     "exported file against the audit (exit 0: sealed and the chain intact; 1: not).\n"
     "replay PROVIDER ID: decide a stored event again (audited, idempotent).\n"
     "storm: post a shuffled, duplicated, delayed webhook storm to --target, then compare\n"
     "every account's entitlement with the ground truth (exit 1 on any regression, event\n"
     "applied twice or lost).\n",
     options, 3},
    {0},
};

#define API_MAX ((size_t)1 << 26) /* bytes of one API answer read */

/* Sends METHOD path (with body, or NULL, and extra header lines hdrs) to --target with --token:
 * the status, with the answer's body in *out (heap, the caller frees it), or -1 after saying
 * why on stderr. */
static int api(const struct cli *c, const char *what, const char *method, const char *path,
               const char *hdrs, const char *body, char **out)
{
    char host[256], port[16];
    const char *rb = NULL;
    *out = NULL;
    if (!c->target || !c->token ||
        billing_url_split(c->target, host, sizeof host, port, sizeof port) != 0) {
        fprintf(stderr, "oncue billing %s: --target http://HOST:PORT and --token are needed\n",
                what);
        return -1;
    }
    int fd = billing_connect(host, port);
    if (fd < 0) {
        fprintf(stderr, "oncue billing %s: cannot connect to %s\n", what, c->target);
        return -1;
    }
    size_t blen = body ? strlen(body) : 0;
    struct oc_buf req;
    oc_buf_init(&req, API_MAX);
    oc_buf_printf(&req,
                  "%s %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                  "Content-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
                  method, path, host, port, c->token, blen, hdrs ? hdrs : "");
    if (body)
        oc_buf_append(&req, body, blen);
    char *buf = oc_malloc(API_MAX);
    int status = billing_exchange(fd, req.data, req.len, buf, API_MAX, &rb);
    close(fd);
    oc_buf_free(&req);
    if (status < 0) {
        fprintf(stderr, "oncue billing %s: no answer from %s\n", what, c->target);
        free(buf);
        return -1;
    }
    *out = oc_strdup(rb);
    free(buf);
    return status;
}

/* Prints an API answer: the body on stdout when 200 (exit 0), else on stderr (exit 1). */
static int api_print(const char *what, int status, char *body)
{
    if (status < 0)
        return 2;
    if (status != 200)
        fprintf(stderr, "oncue billing %s: %d %s\n", what, status, body ? body : "");
    else
        printf("%s%s", body, body[0] && body[strlen(body) - 1] == '\n' ? "" : "\n");
    free(body);
    return status == 200 ? 0 : 1;
}

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
    json_array_foreach(json_object_get(v, "discrepancies"), i, x)
    {
        printf("  discrepancy %s: subscription %s, oncue %s, provider %s\n",
               json_string_value(json_object_get(x, "discrepancy")),
               json_string_value(json_object_get(x, "subscription")),
               json_object_get(x, "oncue_state")
                   ? json_string_value(json_object_get(x, "oncue_state"))
                   : "-",
               json_object_get(x, "provider_state")
                   ? json_string_value(json_object_get(x, "provider_state"))
                   : "-");
    }
    if (!json_object_get(v, "discrepancies"))
        printf("  discrepancies: ask the server (--target) for the last reconciliation's\n");
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
    if (c->target) { /* from the server: also the last reconciliation's discrepancies */
        char path[300], *body = NULL;
        snprintf(path, sizeof path, "/v1/billing/accounts/%s", c->args[1]);
        int st = api(c, "show", "GET", path, NULL, NULL, &body);
        if (st != 200)
            return api_print("show", st, body);
        v = json_loads(body, 0, NULL);
        free(body);
        if (!v) {
            fprintf(stderr, "oncue billing show: the server's answer is not JSON\n");
            return 1;
        }
        goto print;
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
print:
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

static int cmd_royalties(struct cli *c, int nargs)
{
    char path[256], *body = NULL;
    int64_t day_s;
    const char *verb = c->args[1], *arg = nargs == 3 ? c->args[2] : NULL;
    static const char *const verbs[] = {"export", "seal", "verify", NULL};
    char hint[160];
    int v = 0;
    while (verbs[v] && strcmp(verbs[v], verb) != 0)
        v++;
    if (!verbs[v] || !arg || (v < 2 && billing_day_parse(arg, &day_s) != 0)) {
        if (!verbs[v])
            fprintf(stderr, "oncue billing royalties: unknown action '%s'%s", verb,
                    OC_SUGGEST_TABLE(verb, verbs, hint));
        else if (!arg)
            fprintf(stderr, "oncue billing royalties %s: needs %s", verb,
                    v < 2 ? "YYYY-MM-DD" : "FILE");
        else
            fprintf(stderr, "oncue billing royalties %s: '%s' is not a day (YYYY-MM-DD)", verb,
                    arg);
        fprintf(stderr, " (see oncue billing --help)\n");
        return 2;
    }
    if (strcmp(verb, "seal") == 0) {
        snprintf(path, sizeof path, "/v1/billing/royalties/%s/seal", arg);
        int st = api(c, "royalties seal", "POST", path, NULL, NULL, &body);
        return api_print("royalties seal", st, body);
    }
    if (strcmp(verb, "export") == 0) {
        const char *fmt = c->format ? c->format : "csv";
        if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0) {
            fprintf(stderr, "oncue billing royalties export: --format csv or json\n");
            return 2;
        }
        snprintf(path, sizeof path, "/v1/billing/royalties/%s?format=%s", arg, fmt);
        int st = api(c, "royalties export", "GET", path, NULL, NULL, &body);
        if (st != 200 || !c->out)
            return api_print("royalties export", st, body);
        FILE *f = fopen(c->out, "wb");
        int ok = f && fwrite(body, 1, strlen(body), f) == strlen(body);
        if (f && fclose(f) != 0)
            ok = 0;
        free(body);
        if (!ok) {
            fprintf(stderr, "oncue billing royalties export: cannot write %s\n", c->out);
            return 1;
        }
        return 0;
    }
    if (strcmp(verb, "verify") != 0) {
        fprintf(stderr, "oncue billing royalties: export, seal or verify\n");
        return 2;
    }
    FILE *f = fopen(arg, "rb");
    struct oc_buf b;
    char chunk[65536], why[600];
    size_t n;
    json_t *out = NULL;
    if (!f) {
        fprintf(stderr, "oncue billing royalties verify: cannot read %s\n", arg);
        return 2;
    }
    oc_buf_init(&b, API_MAX);
    int big = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        big |= oc_buf_append(&b, chunk, n) != 0;
    fclose(f);
    if (big) {
        oc_buf_free(&b);
        fprintf(stderr, "%s: larger than any report oncue exports\n", arg);
        return 1;
    }
    int rc = billing_royalty_verify(c->data, b.data ? b.data : "", b.len, &out, why, sizeof why);
    oc_buf_free(&b);
    if (rc < 0) {
        fprintf(stderr, "oncue billing royalties verify: %s\n", why);
        return 2;
    }
    if (rc > 0) {
        printf("%s: NOT VERIFIED: %s\n", arg, why);
        return 1;
    }
    if (c->json) {
        char *t = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\n", t);
        free(t);
    } else {
        printf("%s: verified: the %s report of %s sealed in audit row %lld (sha256 %s); the chain "
               "of %lld rows is intact\n",
               arg, json_string_value(json_object_get(out, "format")),
               json_string_value(json_object_get(out, "day")),
               (long long)json_integer_value(json_object_get(out, "audit_id")),
               json_string_value(json_object_get(out, "sha256")),
               (long long)json_integer_value(json_object_get(out, "chain_rows")));
    }
    json_decref(out);
    return 0;
}

static int cmd_replay(struct cli *c)
{
    char path[512], hdr[400], key[256], hex[65], *body = NULL;
    if (!billing_id_valid(c->args[1], 32) || !billing_id_valid(c->args[2], BILLING_ID_MAX) ||
        !c->reason || !c->reason[0]) {
        fprintf(stderr, "usage: oncue billing replay PROVIDER ID --reason TEXT [--force] --target "
                        "URL --token TOKEN\n");
        return 2;
    }
    json_t *b = json_pack("{s:s,s:b}", "reason", c->reason, "force", c->force);
    char *text = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    if (c->key) {
        snprintf(key, sizeof key, "%s", c->key);
    } else {
        struct oc_buf k;
        oc_buf_init(&k, 1 << 20);
        oc_buf_printf(&k, "%s %s %s", c->args[1], c->args[2], text);
        billing_sha256_hex(k.data, k.len, hex);
        oc_buf_free(&k);
        snprintf(key, sizeof key, "replay-%.32s", hex);
    }
    snprintf(path, sizeof path, "/v1/billing/events/%s/%s/replay", c->args[1], c->args[2]);
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s\r\n", key);
    int st = api(c, "replay", "POST", path, hdr, text, &body);
    free(text);
    return api_print("replay", st, body);
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

/* A storm's outcome against its ground truth. */
struct storm_score {
    int subs;
    size_t events, deliveries, refused, retried, regressions, twice, lost;
    double secs;
};

/* Runs the storm of c against --target and scores it: 0, or 2 after a usage error (printed
 * as WHAT: ...). */
static int storm_go(const struct cli *c, const char *what, struct storm_score *sc)
{
    struct storm_run r = {.c = c};
    int n = (int)c->connections;
    if (!c->target || !c->secret || !c->token ||
        billing_url_split(c->target, r.host, sizeof r.host, r.port, sizeof r.port) != 0) {
        fprintf(stderr, "%s: --target http://HOST:PORT, --secret and --token are needed\n", what);
        return 2;
    }
    int kl = oc_webhook_key(c->secret, r.key);
    if (kl <= 0) {
        fprintf(stderr, "%s: --secret is not a whsec_ base64 secret\n", what);
        return 2;
    }
    r.klen = (size_t)kl;
    int64_t now = oc_wall_ms();
    r.period_end_ms = now + 30LL * 86400 * 1000;
    if (billing_storm_make((int)c->subs, (uint64_t)c->seed, c->prefix, now, &r.st) != 0) {
        fprintf(stderr, "%s: --prefix: up to 16 printable characters\n", what);
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
    memset(sc, 0, sizeof *sc);
    sc->secs = (double)(oc_mono_ns() - t0) / 1e9;
    sc->regressions = storm_check(&r);
    for (size_t e = 0; e < r.st.nevents; e++) {
        sc->twice += atomic_load(&r.applied[e]) > 1;
        sc->lost += atomic_load(&r.acked[e]) == 0;
    }
    sc->subs = r.st.nsubs;
    sc->events = r.st.nevents;
    sc->deliveries = r.st.ndeliv;
    sc->refused = atomic_load(&r.refused);
    sc->retried = atomic_load(&r.retried);
    free(th);
    free(r.acked);
    free(r.applied);
    billing_storm_free(&r.st);
    return 0;
}

/* Prints the storm's figures; returns 0 when nothing regressed, nothing was applied twice and
 * nothing was lost. */
static int cmd_storm(struct cli *c)
{
    struct storm_score s;
    if (storm_go(c, "oncue billing storm", &s) != 0)
        return 2;
    printf("subscriptions %d\nevents %zu\ndeliveries %zu\nrefused %zu\nretried %zu\n"
           "seconds %.2f\ndeliveries/s %.0f\nregressions %zu\napplied_twice %zu\nlost %zu\n",
           s.subs, s.events, s.deliveries, s.refused, s.retried, s.secs,
           s.secs > 0 ? (double)s.deliveries / s.secs : 0, s.regressions, s.twice, s.lost);
    return s.regressions || s.twice || s.lost ? 1 : 0;
}

static const struct oc_opt drill_options[] = {
    {"--target", OC_OPT_STR, offsetof(struct cli, target), "URL",
     "the live server (http://127.0.0.1:PORT)", 0, 0, NULL},
    {"--secret", OC_OPT_STR, offsetof(struct cli, secret), "WHSEC",
     "the Standard Webhooks secret the server has in billing.standard_secrets", 0, 0, NULL},
    {"--token", OC_OPT_STR, offsetof(struct cli, token), "TOKEN",
     "a viewer token for the entitlement checks", 0, 0, NULL},
    {"--subscriptions", OC_OPT_LONG, offsetof(struct cli, subs), "N",
     "subscriptions (default 1000; about 6 events and 12 deliveries each)", 1, 1000000, NULL},
    {"--seed", OC_OPT_LONG, offsetof(struct cli, seed), "N", "the generator's seed (default 1)", 0,
     2147483647, NULL},
    {"--prefix", OC_OPT_STR, offsetof(struct cli, prefix), "P",
     "starts every id (default: d and 12 random hex digits, so drills never share ids)", 0, 0,
     NULL},
    {"--connections", OC_OPT_LONG, offsetof(struct cli, connections), "N",
     "parallel connections (default 8)", 1, 256, NULL},
    {"--json", OC_OPT_FLAG, offsetof(struct cli, json), NULL,
     "print the scorecard as one JSON object", 0, 0, NULL},
    {0},
};

const struct oc_cli billing_drill_cli[] = {
    {"drill webhook-storm", "[OPTIONS]",
     "The webhook-storm drill: thousands of subscription events shuffled, duplicated up to\n"
     "three times and delayed up to 72 hours, signed and posted to a live server, then every\n"
     "account's entitlement compared with the ground truth. Exit 0 when no state regressed,\n"
     "no event was applied twice and none was lost; 1 otherwise.\n",
     drill_options, 1},
    {0},
};

int billing_drill_main(int argc, char **argv)
{
    struct cli c = {.subs = 1000, .seed = 1, .connections = 8, .retry_s = 30};
    struct storm_score s;
    char prefix[17];
    const char *args[2] = {NULL, NULL};
    int nargs = 0;
    int prc = oc_cli_parse(billing_drill_cli, argc - 1, argv + 1, &c, args, &nargs);
    if (prc != 0)
        return prc == 1 ? 0 : 2;
    if (!c.prefix) {
        unsigned char rnd[6];
        randombytes_buf(rnd, sizeof rnd);
        prefix[0] = 'd';
        sodium_bin2hex(prefix + 1, 13, rnd, sizeof rnd);
        snprintf(prefix + 13, sizeof prefix - 13, "-");
        c.prefix = prefix;
    }
    if (storm_go(&c, "oncue drill webhook-storm", &s) != 0)
        return 2;
    int pass = !s.regressions && !s.twice && !s.lost && !s.refused;
    if (c.json) {
        json_t *j = json_pack(
            "{s:s,s:I,s:s,s:i,s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:b}", "scenario",
            "webhook-storm", "seed", (json_int_t)c.seed, "prefix", c.prefix, "subscriptions",
            s.subs, "events", (json_int_t)s.events, "deliveries", (json_int_t)s.deliveries,
            "refused", (json_int_t)s.refused, "retried", (json_int_t)s.retried, "wall_s", s.secs,
            "deliveries_per_s", s.secs > 0 ? (double)s.deliveries / s.secs : 0.0, "regressions",
            (json_int_t)s.regressions, "applied_twice", (json_int_t)s.twice, "lost",
            (json_int_t)s.lost, "pass", pass);
        char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", t);
        free(t);
        json_decref(j);
        return pass ? 0 : 1;
    }
    printf("drill webhook-storm (seed %ld, %d subscriptions, ids %s*): %s\n\n", c.seed, s.subs,
           c.prefix, pass ? "PASS" : "FAIL");
    printf("  events                 %zu, delivered %zu times (shuffled, up to 3 each, delayed up "
           "to 72 h)\n",
           s.events, s.deliveries);
    printf("  refused                %zu\n  retried                %zu\n", s.refused, s.retried);
    printf("  wall time              %.2f s (%.0f deliveries/s)\n", s.secs,
           s.secs > 0 ? (double)s.deliveries / s.secs : 0);
    printf("  state regressions      %zu (accounts whose entitlement is not the ground truth)\n",
           s.regressions);
    printf("  applied twice          %zu\n  lost                   %zu (never acknowledged)\n",
           s.twice, s.lost);
    return pass ? 0 : 1;
}

/* The commands of `oncue billing` in the order billing_cli_main dispatches them. */
static const struct billing_cmd {
    const char *name; /* the first word */
    int words;        /* positional words in all, the first included */
    const char *args; /* what follows it, for "needs" */
} billing_cmds[] = {
    {"audit", 2, "verify"},
    {"show", 2, "ACCOUNT"},
    {"storm", 1, ""},
    {"royalties", -1, "export|seal YYYY-MM-DD or verify FILE"},
    {"replay", 3, "PROVIDER ID"},
    {0},
};

/* The index of the command args[0..n) names in billing_cmds, or -1 after printing what is
 * wrong and the closest word. */
static int billing_check(const char **args, int n)
{
    char hint[160];
    int k = 0;
    if (n == 0) {
        fprintf(stderr, "oncue billing: name a command: audit verify, show ACCOUNT, storm, "
                        "royalties or replay PROVIDER ID");
        goto see;
    }
    while (billing_cmds[k].name && strcmp(billing_cmds[k].name, args[0]) != 0)
        k++;
    const struct billing_cmd *b = &billing_cmds[k];
    if (!b->name) {
        fprintf(stderr, "oncue billing: unknown command '%s'%s", args[0],
                OC_SUGGEST_TABLE(args[0], billing_cmds, hint));
        goto see;
    }
    if (k == 0 && n >= 2 && strcmp(args[1], "verify") != 0) {
        static const char *const audit[] = {"verify", NULL};
        fprintf(stderr, "oncue billing audit: unknown action '%s'%s", args[1],
                OC_SUGGEST_TABLE(args[1], audit, hint));
        goto see;
    }
    if (b->words < 0 ? n < 2 : n < b->words) {
        fprintf(stderr, "oncue billing %s: needs %s", b->name, b->args);
        goto see;
    }
    if (b->words > 0 && n > b->words) {
        fprintf(stderr, "oncue billing %s: unexpected argument '%s'", b->name, args[b->words]);
        goto see;
    }
    return k;
see:
    fprintf(stderr, " (see oncue billing --help)\n");
    return -1;
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
    int k = billing_check(c.args, nargs);
    if (k < 0)
        return 2;
    switch (k) {
    case 0:
        return cmd_verify(&c);
    case 1:
        return cmd_show(&c);
    case 2:
        return cmd_storm(&c);
    case 3:
        return cmd_royalties(&c, nargs);
    default:
        return cmd_replay(&c);
    }
}
