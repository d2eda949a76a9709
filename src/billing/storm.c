/*
 * storm.c - the webhook storm: N subscriptions each living a random life of 3 to 9 Standard
 * Webhooks events over up to 72 hours (some refunds at the very second of another event), every
 * event delivered 1 to 3 times, all deliveries shuffled, then posted signed to a running server
 * and every account's entitlement compared with the ground truth.
 *
 * The ground truth is computed here, independently of the server's rule code: a
 * subscription's final state is the state of its event with the greatest (event time, tie
 * rank, event id), tie ranks being refund/revoke 3, expiry 2, start 0, anything else 1.
 * `oncue billing storm` exits 1 on any state regression (a final state other than the truth),
 * any event applied twice (answered 200 without "duplicate":true more than once) or lost
 * (never acknowledged).
 */
#include "billing/billing_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/webhook.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The oncue vocabulary the storm draws from, with the state and tie rank it expects. */
static const struct {
    const char *type;
    enum billing_state state;
    int tie;
} vocab[] = {
    {"subscription.trial_started", BILLING_TRIALING, 0},
    {"subscription.activated", BILLING_ACTIVE, 0},
    {"subscription.renewed", BILLING_ACTIVE, 1},
    {"subscription.payment_failed", BILLING_PAST_DUE, 1},
    {"subscription.grace_started", BILLING_GRACE, 1},
    {"subscription.paused", BILLING_PAUSED, 1},
    {"subscription.resumed", BILLING_ACTIVE, 1},
    {"subscription.canceled", BILLING_CANCELED, 1},
    {"subscription.expired", BILLING_EXPIRED, 2},
    {"subscription.refunded", BILLING_REVOKED, 3},
};
#define V_FIRST_LATER 2 /* vocab entries from here on follow a start */
#define V_REFUND      9
#define NVOCAB        ((int)(sizeof vocab / sizeof vocab[0]))

/* xorshift64*: the storm is a pure function of its seed. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Adds event v of subscription i at t_ms. */
static void add(struct billing_storm *st, int i, int v, int64_t t_ms, int k)
{
    struct billing_storm_event *e = &st->ev[st->nevents++];
    snprintf(e->id, sizeof e->id, "%sevt-%06d-%02d", st->prefix, i, k);
    snprintf(e->sub, sizeof e->sub, "%ssub-%06d", st->prefix, i);
    snprintf(e->account, sizeof e->account, "%sacct-%06d", st->prefix, i);
    e->v = v;
    e->event_ms = t_ms;
}

/* 1 when event a beats event b (the ground truth's order). */
static int beats(const struct billing_storm_event *a, const struct billing_storm_event *b)
{
    if (a->event_ms != b->event_ms)
        return a->event_ms > b->event_ms;
    if (vocab[a->v].tie != vocab[b->v].tie)
        return vocab[a->v].tie > vocab[b->v].tie;
    return strcmp(a->id, b->id) > 0;
}

/* One subscription's life: its events appended, its truth set. */
static void life(struct billing_storm *st, int i, int64_t start_ms, uint64_t *seed)
{
    size_t first = st->nevents;
    int64_t t = start_ms + (int64_t)(rnd(seed) % 3600) * 1000;
    int k = 0, n = 2 + (int)(rnd(seed) % 7);
    add(st, i, (int)(rnd(seed) % 2), t, k++);
    for (int j = 0; j < n; j++) {
        if (rnd(seed) % 100 < 12) { /* a refund at the same second: it must win the tie */
            add(st, i, V_REFUND, t, k++);
            if (rnd(seed) % 2) /* and something else at that second after it */
                add(st, i, V_FIRST_LATER + (int)(rnd(seed) % (NVOCAB - V_FIRST_LATER - 1)), t, k++);
        }
        t += (int64_t)(1 + rnd(seed) % 7200) * 1000;
        add(st, i, V_FIRST_LATER + (int)(rnd(seed) % (NVOCAB - V_FIRST_LATER)), t, k++);
    }
    size_t best = first;
    for (size_t e = first + 1; e < st->nevents; e++)
        if (beats(&st->ev[e], &st->ev[best]))
            best = e;
    st->truth[i] = vocab[st->ev[best].v].state;
}

int billing_storm_make(int nsubs, uint64_t seed, const char *prefix, int64_t now_ms,
                       struct billing_storm *st)
{
    memset(st, 0, sizeof *st);
    if (nsubs < 1 || nsubs > 1000000 || strlen(prefix) >= sizeof st->prefix ||
        (prefix[0] && !billing_id_valid(prefix, sizeof st->prefix)))
        return OC_EINVAL;
    memcpy(st->prefix, prefix, strlen(prefix) + 1);
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    st->nsubs = nsubs;
    st->ev = oc_calloc((size_t)nsubs * 26, sizeof *st->ev); /* 1 + 8 x 3 at most */
    st->truth = oc_calloc((size_t)nsubs, sizeof *st->truth);
    for (int i = 0; i < nsubs; i++)
        life(st, i, now_ms - 72LL * 3600 * 1000, &s);
    st->deliv = oc_calloc(st->nevents * 3, sizeof *st->deliv);
    for (size_t e = 0; e < st->nevents; e++) {
        int copies = 1 + (int)(rnd(&s) % 3);
        for (int c = 0; c < copies; c++)
            st->deliv[st->ndeliv++] = (uint32_t)e;
    }
    for (size_t j = st->ndeliv; j > 1; j--) { /* Fisher-Yates */
        size_t r = (size_t)(rnd(&s) % j);
        uint32_t x = st->deliv[j - 1];
        st->deliv[j - 1] = st->deliv[r];
        st->deliv[r] = x;
    }
    return 0;
}

void billing_storm_free(struct billing_storm *st)
{
    free(st->ev);
    free(st->truth);
    free(st->deliv);
    memset(st, 0, sizeof *st);
}

int billing_storm_body(const struct billing_storm *st, size_t e, int64_t period_end_ms, char *out,
                       size_t n)
{
    const struct billing_storm_event *x = &st->ev[e];
    char t[OC_TIME_LEN], end[OC_TIME_LEN];
    oc_time_format(x->event_ms, t, sizeof t);
    oc_time_format(period_end_ms, end, sizeof end);
    t[19] = '\0'; /* drop the Z to add the milliseconds */
    return snprintf(out, n,
                    "{\"type\":\"%s\",\"timestamp\":\"%s.%03dZ\",\"data\":{\"subscription\":\"%s\","
                    "\"account\":\"%s\",\"period_end\":\"%s\"}}",
                    vocab[x->v].type, t, (int)(x->event_ms % 1000), x->sub, x->account, end);
}

int billing_storm_request(const char *host, const char *port, const unsigned char *key, size_t klen,
                          const char *id, const char *body, size_t blen, char *out, size_t n)
{
    unsigned char mac[OC_WEBHOOK_MAC_LEN];
    char b64[64];
    int64_t ts = oc_wall_ms() / 1000; /* a signature's stamp is wall time, as a provider's */
    oc_webhook_mac(key, klen, id, ts, body, blen, mac);
    sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return snprintf(out, n,
                    "POST /v1/billing/webhooks/standard HTTP/1.1\r\nHost: %s:%s\r\n"
                    "Content-Type: application/json\r\nwebhook-id: %s\r\n"
                    "webhook-timestamp: %lld\r\nwebhook-signature: v1,%s\r\n"
                    "Content-Length: %zu\r\n\r\n%s",
                    host, port, id, (long long)ts, b64, blen, body);
}
