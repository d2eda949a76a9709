/*
 * sign.c - Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature).
 *
 * The signed content is "msg_id.timestamp.body"; the key is the base64-decoded secret after
 * an optional "whsec_" prefix; the signature is "v1," + base64(HMAC-SHA256), or "v1a," +
 * base64(Ed25519) for a "whsk_" key (signing is core/webhook.h oc_webhook_sign). A verifier
 * accepts when any space-separated v1 entry matches (constant-time) and the timestamp is
 * within 300 s of now (the key and the MAC: core/webhook.h, shared with billing/). Checked against
 * the published test vectors in tests/unit (see docs/contracts.md "Outbound webhook signatures").
 */
#include "incident/incident.h"
#include "core/err.h"
#include "core/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 300 /* seconds a timestamp may be away from now */

int incident_webhook_sign(const char *secret, const char *msg_id, int64_t ts, const char *body,
                          size_t len, char *out, size_t n)
{
    return oc_webhook_sign(secret, msg_id, ts, body, len, out, n);
}

/* Parses a whole-number timestamp: 0 or OC_EINVAL. */
static int parse_ts(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s)
        return OC_EINVAL;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return OC_EINVAL;
    *out = v;
    return 0;
}

int incident_webhook_verify(const char *secret, const char *msg_id, const char *ts_text,
                            const char *body, size_t len, const char *header, int64_t now_s)
{
    char want[OC_WEBHOOK_SIG_MAX];
    int64_t ts;
    if (!secret || !msg_id || !header || !body || strchr(secret, ' ') ||
        parse_ts(ts_text, &ts) != 0 || ts < now_s - TOLERANCE || ts > now_s + TOLERANCE ||
        oc_webhook_sign(secret, msg_id, ts, body, len, want, sizeof(want)) != 0)
        return OC_EAUTH;
    size_t wl = strlen(want);
    const char *p = header;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t el = strcspn(p, " ");
        if (el == wl && sodium_memcmp(p, want, wl) == 0)
            return 0;
        p += el;
    }
    return OC_EAUTH;
}
