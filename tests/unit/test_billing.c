/*
 * test_billing.c - billing: the shared signature vectors (Stripe, Standard Webhooks v1 and
 * v1a) and their must-fail cases (tampered, stale either way, wrong key, malformed, missing),
 * key lists for rotation, the payload parsers (Apple's refusals; its JWS chain is tested over
 * HTTP by test_billing_apple.sh), the rule table and Stripe's status map, the
 * ordering rule (stale events, refunds win ties, creations lose them, order independence),
 * the entitlement verdict and title rights, plans, royalty renderings, the audit chain against a
 * tampered store, and the storm generator.
 */
#include "billing/billing_int.h"
#include "billing/sql.h"
#include "core/err.h"
#include "store/store.h"
#include "t.h"
#include "t_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_BODY   "{\"test\": 2432232314}"
#define SW_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define SW_PK     "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="
#define SW_SIG_A                                                                                   \
    "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag=="
#define ST_BODY   "{\"id\":\"evt_test\",\"object\":\"event\"}"
#define ST_HEADER "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"

static struct billing_keys keys(enum billing_provider p, const char *text)
{
    struct billing_keys k;
    char err[200];
    T_EQ_INT(billing_keys_parse(p, text, &k, err, sizeof err), 0);
    return k;
}

static int sw(const char *keytext, const char *id, const char *ts, const char *sig,
              const char *body, int64_t now)
{
    struct billing_keys k = keys(BILLING_STANDARD, keytext);
    return billing_standard_verify(&k, id, ts, sig, body, strlen(body), now, 300);
}

static void test_standard_v1_vectors(void)
{
    const char *b2 = "{\"type\": \"example.created\", \"timestamp\":\"2023-09-28T19:20:22+00:00\","
                     " \"data\":{\"str\":\"string\",\"bool\":true,\"int\":42}}";
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", SW_SIG, SW_BODY, 1614265330), BILLING_SIG_OK);
    T_EQ_INT(sw("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SW_ID, "1696200454",
                "v1,GgjvufBlIj71MBIVQotYGb+xEC3LNXCsIZp0HsDC8qs=", b2, 1696200454),
             BILLING_SIG_OK);
    /* several entries, one valid; a rotation list with the right key second */
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", "v1,AAAA v2,xyz " SW_SIG, SW_BODY, 1614265330),
             BILLING_SIG_OK);
    T_EQ_INT(sw("whsec_AAAAAAAAAAAAAAAAAAAAAAAA " SW_SECRET, SW_ID, "1614265330", SW_SIG, SW_BODY,
                1614265330),
             BILLING_SIG_OK);
}

static void test_standard_v1a_vector(void)
{
    T_EQ_INT(sw(SW_PK, SW_ID, "1614265330", SW_SIG_A, SW_BODY, 1614265330), BILLING_SIG_OK);
    /* the public key is the one of the vector's seed */
    unsigned char seed[32], pk[32], sk[64], want[64];
    size_t n = 0;
    T_EQ_INT(sodium_base642bin(seed, sizeof seed, "VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=",
                               44, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
             0);
    crypto_sign_seed_keypair(pk, sk, seed);
    T_EQ_INT(sodium_base642bin(want, sizeof want, SW_PK + 5, strlen(SW_PK) - 5, NULL, &n, NULL,
                               sodium_base64_VARIANT_ORIGINAL),
             0);
    T_EQ_INT(memcmp(pk, want, 32), 0);
    /* an HMAC key does not verify a v1a entry, nor a public key a v1 entry */
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", SW_SIG_A, SW_BODY, 1614265330),
             BILLING_SIG_NOMATCH);
    T_EQ_INT(sw(SW_PK, SW_ID, "1614265330", SW_SIG, SW_BODY, 1614265330), BILLING_SIG_NOMATCH);
    T_EQ_INT(sw(SW_SECRET " " SW_PK, SW_ID, "1614265330", SW_SIG_A, SW_BODY, 1614265330),
             BILLING_SIG_OK);
}

static void test_standard_must_fail(void)
{
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd",
                SW_BODY, 1614265330),
             BILLING_SIG_NOMATCH);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", "v1,", SW_BODY, 1614265330), BILLING_SIG_NOMATCH);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", SW_SIG, "{\"test\": 2432232315}", 1614265330),
             BILLING_SIG_NOMATCH);
    T_EQ_INT(sw(SW_SECRET, "msg_other", "1614265330", SW_SIG, SW_BODY, 1614265330),
             BILLING_SIG_NOMATCH);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", SW_SIG, SW_BODY, 1614265330 + 301),
             BILLING_SIG_STALE);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", SW_SIG, SW_BODY, 1614265330 - 301),
             BILLING_SIG_STALE);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", SW_SIG, SW_BODY, 1614265330 + 300), BILLING_SIG_OK);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330.5", SW_SIG, SW_BODY, 1614265330),
             BILLING_SIG_MALFORMED);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "", SW_SIG, SW_BODY, 1614265330), BILLING_SIG_MALFORMED);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", "garbage", SW_BODY, 1614265330),
             BILLING_SIG_MALFORMED);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", "", SW_BODY, 1614265330), BILLING_SIG_MALFORMED);
    T_EQ_INT(sw(SW_SECRET, SW_ID, NULL, SW_SIG, SW_BODY, 1614265330), BILLING_SIG_MISSING);
    T_EQ_INT(sw(SW_SECRET, NULL, "1614265330", SW_SIG, SW_BODY, 1614265330), BILLING_SIG_MISSING);
    T_EQ_INT(sw(SW_SECRET, SW_ID, "1614265330", NULL, SW_BODY, 1614265330), BILLING_SIG_MISSING);
    T_EQ_INT(sw("", SW_ID, "1614265330", SW_SIG, SW_BODY, 1614265330), BILLING_SIG_NOKEY);
}

static void test_keys_parse(void)
{
    struct billing_keys k;
    char err[200];
    T_EQ_INT(billing_keys_parse(BILLING_STANDARD, SW_SECRET " not-base64!", &k, err, sizeof err),
             OC_EINVAL);
    T_CONTAINS(err, "key 2 of the list");
    T_TRUE(strstr(err, "not-base64") == NULL); /* never the secret's text */
    T_EQ_INT(billing_keys_parse(BILLING_STANDARD, "whpk_AAAA", &k, err, sizeof err), OC_EINVAL);
    T_EQ_INT(billing_keys_parse(BILLING_STRIPE, "sk_live_x", &k, err, sizeof err), OC_EINVAL);
    T_EQ_INT(
        billing_keys_parse(BILLING_STANDARD, " " SW_SECRET "  " SW_PK " ", &k, err, sizeof err), 0);
    T_EQ_INT(k.n, 2);
    T_EQ_INT(k.k[0].ed25519, 0);
    T_EQ_INT(k.k[1].ed25519, 1);
    T_EQ_INT(k.k[1].len, 32);
}

static int st(const char *keytext, const char *header, const char *body, int64_t now)
{
    struct billing_keys k = keys(BILLING_STRIPE, keytext);
    int64_t ts = 0;
    return billing_stripe_verify(&k, header, body, strlen(body), now, 300, &ts);
}

static void test_stripe_vector(void)
{
    char h[200];
    T_EQ_INT(st("whsec_test_secret", ST_HEADER, ST_BODY, 1700000000), BILLING_SIG_OK);
    T_EQ_INT(
        billing_stripe_sign("whsec_test_secret", 1700000000, ST_BODY, strlen(ST_BODY), h, sizeof h),
        0);
    T_EQ_STR(h, ST_HEADER);
    /* several v1, other schemes ignored, rotation */
    T_EQ_INT(st("whsec_test_secret",
                "t=1700000000,v0=abc,v1=00,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a5"
                "4c49eb0cfb724",
                ST_BODY, 1700000000),
             BILLING_SIG_OK);
    T_EQ_INT(st("whsec_old whsec_test_secret", ST_HEADER, ST_BODY, 1700000000), BILLING_SIG_OK);
    /* must fail */
    T_EQ_INT(st("whsec_test_secret", ST_HEADER, "{\"id\":\"evt_test\",\"object\":\"evenT\"}",
                1700000000),
             BILLING_SIG_NOMATCH);
    T_EQ_INT(st("whsec_wrong", ST_HEADER, ST_BODY, 1700000000), BILLING_SIG_NOMATCH);
    T_EQ_INT(st("whsec_test_secret", ST_HEADER, ST_BODY, 1700000301), BILLING_SIG_STALE);
    T_EQ_INT(st("whsec_test_secret", ST_HEADER, ST_BODY, 1699999699), BILLING_SIG_STALE);
    T_EQ_INT(st("whsec_test_secret", "v1=8042376f", ST_BODY, 1700000000), BILLING_SIG_MALFORMED);
    T_EQ_INT(st("whsec_test_secret", "t=1700000000", ST_BODY, 1700000000), BILLING_SIG_MALFORMED);
    T_EQ_INT(st("whsec_test_secret", "t=17x,v1=00", ST_BODY, 1700000000), BILLING_SIG_MALFORMED);
    T_EQ_INT(st("whsec_test_secret", "t=1,t=1700000000,v1=00", ST_BODY, 1700000000),
             BILLING_SIG_MALFORMED);
    T_EQ_INT(st("whsec_test_secret", NULL, ST_BODY, 1700000000), BILLING_SIG_MISSING);
    T_EQ_INT(st("", ST_HEADER, ST_BODY, 1700000000), BILLING_SIG_NOKEY);
}

static void test_parse_stripe(void)
{
    struct billing_event e;
    char err[240];
    const char *sub =
        "{\"id\":\"evt_1\",\"type\":\"customer.subscription.updated\",\"created\":"
        "1700000000,\"data\":{\"object\":{\"id\":\"sub_9\",\"object\":\"subscription\","
        "\"customer\":\"cus_4\",\"status\":\"active\",\"cancel_at_period_end\":true,"
        "\"current_period_end\":1702592000,\"metadata\":{\"regions\":\"US,CA\"}}}}";
    T_EQ_INT(billing_parse_stripe(sub, strlen(sub), &e, err, sizeof err), 0);
    T_EQ_STR(e.id, "evt_1");
    T_EQ_STR(e.subscription, "sub_9");
    T_EQ_STR(e.account, "cus_4");
    T_EQ_STR(e.status, "active");
    T_EQ_STR(e.regions, "US,CA");
    T_EQ_INT(e.cancel_at_period_end, 1);
    T_EQ_INT(e.event_ms, 1700000000000LL);
    T_EQ_INT(e.period_end_ms, 1702592000000LL);
    T_TRUE(e.rule && e.rule->effect == BILLING_STATUS);
    const char *inv = "{\"id\":\"evt_2\",\"type\":\"invoice.paid\",\"created\":1700000001,\"data\":"
                      "{\"object\":{\"object\":\"invoice\",\"subscription\":\"sub_9\",\"customer\":"
                      "\"cus_4\",\"lines\":{\"data\":[{\"period\":{\"end\":1705000000}}]}}}}";
    T_EQ_INT(billing_parse_stripe(inv, strlen(inv), &e, err, sizeof err), 0);
    T_EQ_STR(e.subscription, "sub_9");
    T_EQ_INT(e.period_end_ms, 1705000000000LL);
    const char *dis =
        "{\"id\":\"evt_3\",\"type\":\"charge.dispute.created\",\"created\":1,\"data\":"
        "{\"object\":{\"object\":\"dispute\",\"metadata\":{\"account\":\"cus_4\"}}}}";
    T_EQ_INT(billing_parse_stripe(dis, strlen(dis), &e, err, sizeof err), 0);
    T_EQ_STR(e.account, "cus_4");
    T_EQ_STR(e.subscription, "");
    T_EQ_INT(billing_parse_stripe("[1]", 3, &e, err, sizeof err), OC_EMALFORMED);
    T_EQ_INT(billing_parse_stripe("{\"id\":", 6, &e, err, sizeof err), OC_EMALFORMED);
    const char *nocreated = "{\"id\":\"evt_4\",\"type\":\"invoice.paid\",\"data\":{\"object\":{}}}";
    T_EQ_INT(billing_parse_stripe(nocreated, strlen(nocreated), &e, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "created: unix seconds");
    const char *badid = "{\"id\":\"evt 5\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{}}}";
    T_EQ_INT(billing_parse_stripe(badid, strlen(badid), &e, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "id:");
}

static void test_parse_standard(void)
{
    struct billing_event e;
    char err[240];
    const char *b =
        "{\"type\":\"subscription.canceled\",\"timestamp\":\"2026-12-01T10:00:00.250Z\","
        "\"data\":{\"subscription\":\"s1\",\"account\":\"a1\",\"period_end\":"
        "\"2026-12-31T00:00:00Z\",\"regions\":[\"US\",\"ca\"]}}";
    T_EQ_INT(billing_parse_standard("msg_1", b, strlen(b), &e, err, sizeof err), 0);
    T_EQ_STR(e.id, "msg_1");
    T_EQ_STR(e.regions, "US,ca");
    T_EQ_INT(e.event_ms, 1796119200250LL);
    T_EQ_INT(e.period_end_ms, 1798675200000LL);
    T_TRUE(e.rule && e.rule->state == BILLING_CANCELED);
    const char *noacct =
        "{\"type\":\"subscription.renewed\",\"timestamp\":\"2026-12-01T10:00:00Z\","
        "\"data\":{\"subscription\":\"s1\"}}";
    T_EQ_INT(billing_parse_standard("m", noacct, strlen(noacct), &e, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "data.subscription and data.account are required");
    const char *badts = "{\"type\":\"x\",\"timestamp\":\"yesterday\",\"data\":{}}";
    T_EQ_INT(billing_parse_standard("m", badts, strlen(badts), &e, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "timestamp");
    const char *badreg = "{\"type\":\"x\",\"timestamp\":\"2026-12-01T10:00:00Z\",\"data\":{"
                         "\"subscription\":\"s\",\"account\":\"a\",\"regions\":\"U S\"}}";
    T_EQ_INT(billing_parse_standard("m", badreg, strlen(badreg), &e, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "regions");
    T_EQ_INT(billing_parse_standard("has space", b, strlen(b), &e, err, sizeof err), OC_EINVAL);
}

/* Plans: Stripe's metadata.plan, else the first item's price lookup key, else its id;
 * Standard Webhooks' data.plan; a malformed plan names its field. */
static void test_parse_plan(void)
{
    struct billing_event e;
    char err[240];
    const char *meta =
        "{\"id\":\"e1\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":"
        "{\"subscription\":\"s\",\"metadata\":{\"plan\":\"premium\"},\"items\":"
        "{\"data\":[{\"price\":{\"lookup_key\":\"lk\",\"id\":\"price_1\"}}]}}}}";
    T_EQ_INT(billing_parse_stripe(meta, strlen(meta), &e, err, sizeof err), 0);
    T_EQ_STR(e.plan, "premium");
    const char *lk = "{\"id\":\"e1\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":"
                     "{\"subscription\":\"s\",\"items\":{\"data\":[{\"price\":{\"lookup_key\":"
                     "\"basic_monthly\",\"id\":\"price_1\"}}]}}}}";
    T_EQ_INT(billing_parse_stripe(lk, strlen(lk), &e, err, sizeof err), 0);
    T_EQ_STR(e.plan, "basic_monthly");
    const char *pid = "{\"id\":\"e1\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":"
                      "{\"subscription\":\"s\",\"items\":{\"data\":[{\"price\":{\"id\":"
                      "\"price_1\"}}]}}}}";
    T_EQ_INT(billing_parse_stripe(pid, strlen(pid), &e, err, sizeof err), 0);
    T_EQ_STR(e.plan, "price_1");
    const char *bad = "{\"id\":\"e1\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":"
                      "{\"subscription\":\"s\",\"metadata\":{\"plan\":\"a b\"}}}}";
    T_EQ_INT(billing_parse_stripe(bad, strlen(bad), &e, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "data.object.metadata.plan:");
    const char *std = "{\"type\":\"subscription.activated\",\"timestamp\":\"2026-12-01T10:00:00Z\","
                      "\"data\":{\"subscription\":\"s\",\"account\":\"a\",\"plan\":\"family\"}}";
    T_EQ_INT(billing_parse_standard("m", std, strlen(std), &e, err, sizeof err), 0);
    T_EQ_STR(e.plan, "family");
    /* the plan carries onto the subscription, and stays when a later event names none */
    struct billing_sub next, later;
    T_EQ_INT(billing_decide(NULL, &e, 1, &next), BILLING_APPLIED);
    T_EQ_STR(next.plan, "family");
    const char *ren = "{\"type\":\"subscription.renewed\",\"timestamp\":\"2026-12-02T10:00:00Z\","
                      "\"data\":{\"subscription\":\"s\",\"account\":\"a\"}}";
    T_EQ_INT(billing_parse_standard("m2", ren, strlen(ren), &e, err, sizeof err), 0);
    T_EQ_INT(billing_decide(&next, &e, 2, &later), BILLING_APPLIED);
    T_EQ_STR(later.plan, "family");
}

static void test_parse_apple_refusals(void)
{
    struct billing_event e;
    char err[240];
    int sig = -1;
    const char *b = "{\"signedPayload\":\"a.b.c\"}";
    T_EQ_INT(billing_parse_apple(NULL, b, strlen(b), 1, &e, &sig, err, sizeof err), -1);
    T_EQ_INT(sig, BILLING_SIG_NOKEY);
    T_EQ_INT(billing_parse_apple(NULL, "{}", 2, 1, &e, &sig, err, sizeof err), OC_EMALFORMED);
    T_EQ_STR(err, "the body is not {\"signedPayload\": \"<JWS>\"}");
    T_EQ_STR(billing_sig_reasons[BILLING_SIG_CHAIN], "untrusted certificate chain");
    /* the subtype picks its own row when the table has one */
    T_EQ_INT(billing_rule_find(BILLING_APPLE, "DID_FAIL_TO_RENEW/GRACE_PERIOD")->state,
             BILLING_GRACE);
    T_EQ_INT(billing_rule_find(BILLING_APPLE, "DID_FAIL_TO_RENEW")->state, BILLING_PAST_DUE);
}

/* What is read of a notification once its signatures verified (billing_apple_payload). */
static void test_apple_payload(void)
{
    struct billing_event e;
    char err[240];
    const char *n = "{\"notificationType\":\"DID_FAIL_TO_RENEW\",\"subtype\":\"GRACE_PERIOD\","
                    "\"notificationUUID\":\"u-2\",\"signedDate\":1764950001000,"
                    "\"data\":{\"signedTransactionInfo\":\"x.y.z\"}}";
    const char *tx = "{\"originalTransactionId\":\"1000001\",\"productId\":\"premium\","
                     "\"expiresDate\":1767542000000,\"appAccountToken\":\"acct-7\"}";
    T_EQ_INT(billing_apple_payload(n, strlen(n), tx, strlen(tx), &e, err, sizeof err), 0);
    T_EQ_STR(e.id, "u-2");
    T_EQ_STR(e.type, "DID_FAIL_TO_RENEW/GRACE_PERIOD");
    T_EQ_STR(e.subscription, "1000001");
    T_EQ_STR(e.account, "acct-7");
    T_EQ_STR(e.plan, "premium");
    T_EQ_INT(e.event_ms == 1764950001000LL && e.period_end_ms == 1767542000000LL, 1);
    T_EQ_INT(e.rule != NULL && e.rule->state == BILLING_GRACE, 1);
    /* the transaction is needed when the notification names one, and must be an object */
    T_EQ_INT(billing_apple_payload(n, strlen(n), NULL, 0, &e, err, sizeof err), OC_EMALFORMED);
    T_EQ_STR(err, "the transaction's payload is not a JSON object");
    T_EQ_INT(billing_apple_payload(n, strlen(n), "{\"x\":1}", 7, &e, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "signedTransactionInfo.originalTransactionId: an id");
    /* a TEST notification has none: recorded, no subscription */
    const char *t = "{\"notificationType\":\"TEST\",\"notificationUUID\":\"u-8\","
                    "\"signedDate\":1764950006000}";
    T_EQ_INT(billing_apple_payload(t, strlen(t), NULL, 0, &e, err, sizeof err), 0);
    T_EQ_STR(e.subscription, "");
    T_EQ_INT(e.rule == NULL, 1);
    T_EQ_INT(billing_apple_payload("[1]", 3, NULL, 0, &e, err, sizeof err), OC_EMALFORMED);
    const char *bad = "{\"notificationType\":\"TEST\",\"notificationUUID\":\"u 9\","
                      "\"signedDate\":1}";
    T_EQ_INT(billing_apple_payload(bad, strlen(bad), NULL, 0, &e, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "notificationUUID, notificationType and signedDate are required");
}

static void test_parse_google(void)
{
    struct billing_event e;
    char err[240];
    /* message.data = base64 of {"eventTimeMillis":"1700000000123","subscriptionNotification":
     * {"notificationType":6,"purchaseToken":"tok"}} */
    const char *b =
        "{\"message\":{\"data\":\"eyJldmVudFRpbWVNaWxsaXMiOiIxNzAwMDAwMDAwMTIzIiwic3Vic2NyaXB0aW9u"
        "Tm90aWZpY2F0aW9uIjp7Im5vdGlmaWNhdGlvblR5cGUiOjYsInB1cmNoYXNlVG9rZW4iOiJ0b2sif"
        "X0=\",\"messageId\":\"m-7\"}}";
    T_EQ_INT(billing_parse_google(b, strlen(b), &e, err, sizeof err), 0);
    T_EQ_STR(e.id, "m-7");
    T_EQ_STR(e.type, "SUBSCRIPTION_IN_GRACE_PERIOD");
    T_EQ_INT(e.event_ms, 1700000000123LL);
    /* "gp-" and the first 32 hex digits of SHA-256("tok") */
    T_EQ_STR(e.subscription, "gp-1a7674eb4ee78df7e1ac439a93c3fa8e");
    T_EQ_STR(e.account, e.subscription);
    T_TRUE(e.rule && e.rule->state == BILLING_GRACE);
    T_EQ_INT(billing_parse_google("{\"message\":{}}", 14, &e, err, sizeof err), OC_EMALFORMED);
    T_EQ_INT(billing_google_verify(NULL, "aud", "Bearer x", 1, 300), BILLING_SIG_NOKEY);
}

static void test_rule_table(void)
{
    const struct {
        enum billing_provider p;
        const char *type;
        enum billing_effect effect;
        enum billing_state state;
    } cases[] = {
        {BILLING_STRIPE, "invoice.paid", BILLING_SET, BILLING_ACTIVE},
        {BILLING_STRIPE, "invoice.payment_failed", BILLING_SET, BILLING_PAST_DUE},
        {BILLING_STRIPE, "customer.subscription.deleted", BILLING_SET, BILLING_EXPIRED},
        {BILLING_STRIPE, "charge.refunded", BILLING_REVOKE, BILLING_REVOKED},
        {BILLING_STRIPE, "charge.dispute.created", BILLING_REVOKE, BILLING_REVOKED},
        {BILLING_STANDARD, "subscription.renewed", BILLING_SET, BILLING_ACTIVE},
        {BILLING_STANDARD, "subscription.grace_started", BILLING_SET, BILLING_GRACE},
        {BILLING_STANDARD, "subscription.paused", BILLING_SET, BILLING_PAUSED},
        {BILLING_APPLE, "REFUND", BILLING_REVOKE, BILLING_REVOKED},
        {BILLING_GOOGLE, "SUBSCRIPTION_IN_GRACE_PERIOD", BILLING_SET, BILLING_GRACE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct billing_rule *r = billing_rule_find(cases[i].p, cases[i].type);
        T_TRUE(r != NULL);
        if (!r)
            continue;
        T_EQ_INT(r->effect, cases[i].effect);
        T_EQ_INT(r->state, cases[i].state);
    }
    T_TRUE(billing_rule_find(BILLING_STRIPE, "customer.created") == NULL);
    T_TRUE(billing_rule_find(BILLING_STANDARD, "invoice.paid") == NULL);
    /* every revoking rule outranks every other in a tie */
    for (const struct billing_rule *r = billing_rules; r->type; r++)
        T_EQ_INT(r->effect == BILLING_REVOKE, r->tie == 3);
}

static void test_stripe_status(void)
{
    enum billing_state s;
    const int64_t t = 1700000000000LL, later = t + 86400000LL;
    T_EQ_INT(billing_stripe_status("active", 0, later, t, &s), 0);
    T_EQ_INT(s, BILLING_ACTIVE);
    T_EQ_INT(billing_stripe_status("active", 1, later, t, &s), 0);
    T_EQ_INT(s, BILLING_CANCELED);
    T_EQ_INT(billing_stripe_status("canceled", 0, later, t, &s), 0);
    T_EQ_INT(s, BILLING_CANCELED);
    T_EQ_INT(billing_stripe_status("canceled", 0, t, t, &s), 0);
    T_EQ_INT(s, BILLING_EXPIRED);
    T_EQ_INT(billing_stripe_status("incomplete", 0, 0, t, &s), 0);
    T_EQ_INT(s, BILLING_EXPIRED);
    T_EQ_INT(billing_stripe_status("past_due", 0, 0, t, &s), 0);
    T_EQ_INT(s, BILLING_PAST_DUE);
    T_EQ_INT(billing_stripe_status("weird", 0, 0, t, &s), OC_EINVAL);
}

/* A Standard Webhooks event of type at t_ms with id. */
static struct billing_event ev(const char *id, const char *type, int64_t t_ms)
{
    struct billing_event e;
    memset(&e, 0, sizeof e);
    e.provider = BILLING_STANDARD;
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.subscription, sizeof e.subscription, "s1");
    snprintf(e.account, sizeof e.account, "a1");
    e.event_ms = t_ms;
    e.rule = billing_rule_find(BILLING_STANDARD, type);
    return e;
}

/* Applies events[0..n) in order from nothing: the final state, and the decisions in dec. */
static enum billing_state run(const struct billing_event *events, int n, int *dec)
{
    struct billing_sub cur, next;
    int have = 0;
    for (int i = 0; i < n; i++) {
        dec[i] = (int)billing_decide(have ? &cur : NULL, &events[i], 1, &next);
        if (dec[i] == BILLING_APPLIED) {
            cur = next;
            have = 1;
        }
    }
    return have ? cur.state : BILLING_NONE;
}

static void test_ordering_stale(void)
{
    struct billing_event e[3] = {ev("e2", "subscription.payment_failed", 2000),
                                 ev("e1", "subscription.activated", 1000),
                                 ev("e2", "subscription.payment_failed", 2000)};
    int d[3];
    T_EQ_INT(run(e, 3, d), BILLING_PAST_DUE);
    T_EQ_INT(d[0], BILLING_APPLIED);
    T_EQ_INT(d[1], BILLING_STALE); /* older than what was applied */
    T_EQ_INT(d[2], BILLING_STALE); /* the same event again */
    /* an updated that lands before its created: the created, older, changes nothing */
    struct billing_event f[2] = {ev("b", "subscription.canceled", 5000),
                                 ev("a", "subscription.trial_started", 5000)};
    T_EQ_INT(run(f, 2, d), BILLING_CANCELED);
    T_EQ_INT(d[1], BILLING_STALE);
}

static void test_refund_wins_tie(void)
{
    int d[2];
    struct billing_event a[2] = {ev("z-renew", "subscription.renewed", 7000),
                                 ev("a-refund", "subscription.refunded", 7000)};
    T_EQ_INT(run(a, 2, d), BILLING_REVOKED);
    T_EQ_INT(d[1], BILLING_APPLIED);
    struct billing_event b[2] = {a[1], a[0]};
    T_EQ_INT(run(b, 2, d), BILLING_REVOKED);
    T_EQ_INT(d[1], BILLING_STALE);
    /* a genuinely newer renewal after a refund reactivates */
    struct billing_event c[2] = {a[1], ev("later", "subscription.renewed", 7001)};
    T_EQ_INT(run(c, 2, d), BILLING_ACTIVE);
}

static void test_order_independence(void)
{
    struct billing_event e[6] = {
        ev("e1", "subscription.trial_started", 1000),  ev("e2", "subscription.activated", 2000),
        ev("e3", "subscription.payment_failed", 3000), ev("e4", "subscription.refunded", 3000),
        ev("e5", "subscription.renewed", 3000),        ev("e6", "subscription.paused", 2500),
    };
    uint64_t s = 42;
    int d[6];
    for (int round = 0; round < 200; round++) {
        for (int j = 5; j > 0; j--) {
            s = s * 6364136223846793005ULL + 1;
            int r = (int)((s >> 33) % (uint64_t)(j + 1));
            struct billing_event x = e[j];
            e[j] = e[r];
            e[r] = x;
        }
        T_EQ_INT(run(e, 6, d), BILLING_REVOKED);
    }
}

static struct billing_sub sub(const char *id, enum billing_state s, int64_t end, const char *reg)
{
    struct billing_sub b;
    memset(&b, 0, sizeof b);
    snprintf(b.id, sizeof b.id, "%s", id);
    snprintf(b.regions, sizeof b.regions, "%s", reg);
    b.state = s;
    b.period_end_ms = end;
    return b;
}

static void test_verdict(void)
{
    struct billing_verdict v;
    struct billing_sub c = sub("s1", BILLING_CANCELED, 2000, ""),
                       r = sub("s2", BILLING_REVOKED, 0, "");
    struct billing_sub g = sub("s3", BILLING_GRACE, 0, "US,CA");
    const struct billing_sub *one[1] = {&c}, *two[2] = {&r, &g};
    billing_verdict(one, 1, "US", 1999, &v);
    T_EQ_INT(v.allowed, 1);
    T_EQ_STR(billing_state_names[v.state], "canceled");
    T_CONTAINS(v.reason, "access until 1970-01-01T00:00:02Z");
    billing_verdict(one, 1, "US", 2000, &v);
    T_EQ_INT(v.allowed, 0);
    T_EQ_STR(billing_state_names[v.state], "expired");
    billing_verdict(two, 2, "ca", 5000, &v);
    T_EQ_INT(v.allowed, 1);
    T_EQ_STR(billing_state_names[v.state], "grace");
    billing_verdict(two, 2, "FR", 5000, &v);
    T_EQ_INT(v.allowed, 0);
    T_EQ_STR(v.reason, "region FR is not in the plan of s3 (US,CA)");
    billing_verdict(NULL, 0, NULL, 5000, &v);
    T_EQ_INT(v.allowed, 0);
    T_EQ_STR(v.reason, "no subscription");
    const struct billing_sub *rev[1] = {&r};
    billing_verdict(rev, 1, NULL, 5000, &v);
    T_EQ_STR(v.reason, "subscription s2 is revoked");
}

/* Title rights: unknown titles, titles outside their regions and plans the title does not list
 * are refused; a subscription on a listed plan (any plan when none are listed) allows. */
static void test_verdict_title(void)
{
    struct billing_verdict v;
    struct billing_sub a = sub("s1", BILLING_ACTIVE, 0, "US,CA"),
                       b = sub("s2", BILLING_ACTIVE, 0, "");
    snprintf(a.plan, sizeof a.plan, "basic");
    snprintf(b.plan, sizeof b.plan, "premium");
    const struct billing_sub *one[1] = {&a}, *two[2] = {&a, &b};
    struct billing_title unknown = {"t0", 0, "", ""}, us = {"t1", 1, "US", ""},
                         prem = {"t2", 1, "", "premium,gold"}, any = {"t3", 1, "", ""};
    billing_verdict_title(one, 1, "US", &unknown, 1, &v);
    T_EQ_INT(v.allowed, 0);
    T_EQ_STR(v.reason, "title t0 is not in the catalog");
    billing_verdict_title(two, 2, "FR", &us, 1, &v);
    T_EQ_INT(v.allowed, 0);
    T_EQ_STR(v.reason, "title t1 is not available in region FR (its regions: US)");
    billing_verdict_title(one, 1, "us", &us, 1, &v);
    T_EQ_INT(v.allowed, 1);
    billing_verdict_title(one, 1, "US", &prem, 1, &v);
    T_EQ_INT(v.allowed, 0);
    T_EQ_STR(billing_state_names[v.state], "active");
    T_EQ_STR(v.reason, "title t2 needs plan premium,gold; s1 is on basic");
    billing_verdict_title(two, 2, "US", &prem, 1, &v);
    T_EQ_INT(v.allowed, 1);
    T_EQ_STR(v.reason, "subscription s2 is active; title t2 is in plan premium");
    billing_verdict_title(one, 1, "US", &any, 1, &v);
    T_EQ_INT(v.allowed, 1);
    billing_verdict_title(one, 1, "FR", &any, 1, &v); /* the account's regions still apply */
    T_EQ_INT(v.allowed, 0);
    billing_verdict_title(NULL, 0, "US", &any, 1, &v);
    T_EQ_STR(v.reason, "no subscription");
}

/* Royalty days and renderings: strict UTC dates; CSV quoting; the same bytes every time. */
static void test_royalty_render(void)
{
    int64_t d = 0;
    T_EQ_INT(billing_day_parse("2026-03-02", &d), 0);
    T_EQ_INT(d, 1772409600);
    T_EQ_INT(billing_day_parse("2026-02-30", &d), OC_EINVAL);
    T_EQ_INT(billing_day_parse("2026-3-02", &d), OC_EINVAL);
    T_EQ_INT(billing_day_parse("2026-03-02x", &d), OC_EINVAL);
    T_EQ_INT(billing_day_parse("2024- 2-29", &d), OC_EINVAL); /* found by the fuzzer */
    T_EQ_INT(billing_day_parse("2024-+2-29", &d), OC_EINVAL);
    T_EQ_INT(billing_day_parse(NULL, &d), OC_EINVAL);
    json_t *r =
        json_loads("{\"day\":\"2026-03-02\",\"from\":1,\"to\":2,\"rows\":[{\"title\":"
                   "\"a,\\\"b\\\"\",\"region\":\"EU\",\"plays\":1,\"attempts\":2,"
                   "\"watch_ms\":3}],\"totals\":{\"plays\":1,\"attempts\":2,\"watch_ms\":3}}",
                   0, NULL);
    size_t n;
    char *csv = billing_royalty_render(r, 1, &n);
    T_EQ_STR(csv,
             "day,title,region,plays,attempts,watch_ms\r\n2026-03-02,\"a,\"\"b\"\"\",EU,1,2,3\r\n");
    T_EQ_INT(n, strlen(csv));
    char *js = billing_royalty_render(r, 0, &n), *js2 = billing_royalty_render(r, 0, &n);
    T_EQ_STR(js, js2);
    T_CONTAINS(js, "{\"day\":\"2026-03-02\",\"from\":1,\"rows\":[");
    json_t *det = billing_royalty_seal_detail(r, "ops");
    char hex[65];
    billing_sha256_hex(csv, strlen(csv), hex);
    T_EQ_STR(json_string_value(json_object_get(det, "csv_sha256")), hex);
    json_decref(det);
    free(csv);
    free(js);
    free(js2);
    json_decref(r);
}

/* Appends a row with the chain's hashes through SQL. */
static void put_row(struct store *s, int64_t id, const char *detail, unsigned char prev[32])
{
    struct billing_audit_row r = {id, 1000 + id, "event", "a1", "s1", detail};
    unsigned char h[32];
    struct store_stmt *q;
    billing_audit_hash(prev, &r, h);
    T_EQ_INT(store_prepare(s, BILLING_SQL_AUDIT_PUT, &q), 0);
    T_EQ_INT(STORE_BIND(q, STORE_INT(id), STORE_INT(r.ts_ms), STORE_TEXT("event"), STORE_TEXT("a1"),
                        STORE_TEXT("s1"), STORE_TEXT(detail), STORE_BLOB(prev, 32),
                        STORE_BLOB(h, 32)),
             0);
    T_EQ_INT(store_step(q), STORE_DONE);
    store_reset(q);
    memcpy(prev, h, 32);
}

static void test_audit_chain(void)
{
    char dir[] = "/tmp/oncue-test-billing.XXXXXX", err[300], why[300];
    struct store *s;
    unsigned char prev[32] = {0};
    int64_t rows, bad;
    if (t_pg()) { /* billing_audit_verify reads DATA/oncue.db (the CLI's): SQLite only */
        T_TRUE(1);
        return;
    }
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof err), 0);
    for (int i = 1; i <= 3; i++)
        put_row(s, i, i == 2 ? "{\"decision\":\"applied\"}" : "{}", prev);
    T_EQ_INT(billing_audit_verify(dir, &rows, &bad, why, sizeof why), 0);
    T_EQ_INT(rows, 3);
    T_TRUE(store_exec(s, "UPDATE billing_audit SET detail = 'x' WHERE id = 2") != 0); /* trigger */
    T_EQ_INT(
        store_exec(s, "DROP TRIGGER billing_audit_no_update;"
                      "UPDATE billing_audit SET detail = '{\"decision\":\"stale\"}' WHERE id = 2"),
        0);
    T_EQ_INT(billing_audit_verify(dir, &rows, &bad, why, sizeof why), 1);
    T_EQ_INT(bad, 2);
    T_EQ_STR(why, "row 2: its hash does not match its content");
    T_EQ_INT(store_exec(s, "DROP TRIGGER billing_audit_no_delete;"
                           "DELETE FROM billing_audit WHERE id = 2"),
             0);
    T_EQ_INT(billing_audit_verify(dir, &rows, &bad, why, sizeof why), 1);
    T_EQ_INT(bad, 3);
    T_EQ_STR(why, "row 3 follows row 1: a row is missing");
    store_close(s);
    t_rmtree(dir);
}

/* The rows of table in store s. */
static int64_t count_rows(struct store *s, const char *sql)
{
    struct store_stmt *q;
    int64_t n = -1;
    if (store_prepare(s, sql, &q) == 0 && store_step(q) == STORE_ROW)
        n = store_col_int(q, 0);
    store_reset(q);
    return n;
}

static void test_prune(void)
{
    char dir[] = "/tmp/oncue-test-billing.XXXXXX", err[300], sql[300];
    struct store *s;
    int64_t n = 0;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof err), 0);
    struct store_stmt *q;
    T_EQ_INT(store_begin(s), 0);
    for (int i = 0; i < 45000; i++) { /* received at 0 .. 44999 ms: three chunks to delete */
        snprintf(sql, sizeof sql,
                 "INSERT INTO billing_events VALUES ('standard', 'e%d', 't', 's', 'a', 1, %d,"
                 " 'applied', '{}')",
                 i, i);
        store_exec(s, sql);
    }
    T_EQ_INT(store_prepare(s, "INSERT INTO billing_idem VALUES (?, ?, 200, '{}', ?)", &q), 0);
    T_EQ_INT(STORE_BIND(q, STORE_TEXT("k1"), STORE_BLOB("", 1), STORE_INT(10)), 0);
    T_EQ_INT(store_step(q), STORE_DONE);
    store_reset(q);
    T_EQ_INT(STORE_BIND(q, STORE_TEXT("k2"), STORE_BLOB("", 1), STORE_INT(99999)), 0);
    T_EQ_INT(store_step(q), STORE_DONE);
    store_reset(q);
    T_EQ_INT(store_commit(s), 0);
    T_EQ_INT(billing_prune(s, 44000, 50000, &n), 0);
    T_EQ_INT(n, 44001);
    T_EQ_INT(count_rows(s, "SELECT count(*) FROM billing_events"), 1000);
    T_EQ_INT(count_rows(s, "SELECT min(received_ms) FROM billing_events"), 44000);
    T_EQ_INT(count_rows(s, "SELECT count(*) FROM billing_idem"), 1);
    T_EQ_INT(billing_prune(s, 44000, 50000, &n), 0);
    T_EQ_INT(n, 0);
    store_close(s);
    t_rmtree(dir);
}

static void test_storm_generator(void)
{
    struct billing_storm a, b;
    T_EQ_INT(billing_storm_make(500, 7, "", 1800000000000LL, &a), 0);
    T_EQ_INT(billing_storm_make(500, 7, "", 1800000000000LL, &b), 0);
    T_EQ_INT(a.nevents, b.nevents);
    T_EQ_INT(a.ndeliv, b.ndeliv);
    T_EQ_INT(memcmp(a.truth, b.truth, 500 * sizeof *a.truth), 0);
    T_TRUE(a.ndeliv > a.nevents && a.ndeliv <= 3 * a.nevents);
    int *count = calloc(a.nevents, sizeof *count), missing = 0, revoked = 0;
    for (size_t i = 0; i < a.ndeliv; i++)
        count[a.deliv[i]]++;
    for (size_t e = 0; e < a.nevents; e++)
        missing += count[e] < 1 || count[e] > 3;
    for (int i = 0; i < 500; i++) {
        revoked += a.truth[i] == BILLING_REVOKED;
        T_TRUE(a.truth[i] > BILLING_NONE && a.truth[i] < BILLING_NSTATES);
    }
    T_EQ_INT(missing, 0);
    struct billing_storm p;
    T_EQ_INT(billing_storm_make(2, 7, "r2-", 1800000000000LL, &p), 0);
    T_EQ_STR(p.ev[0].id, "r2-evt-000000-00");
    T_EQ_STR(p.ev[0].account, "r2-acct-000000");
    billing_storm_free(&p);
    T_EQ_INT(billing_storm_make(2, 7, "has space", 1800000000000LL, &p), OC_EINVAL);
    T_TRUE(revoked > 10); /* ties with refunds do happen */
    /* the truth is what the server's rule converges on, over the storm's bodies */
    char body[512], err[240];
    struct billing_sub cur[500], next;
    int have[500] = {0}, agree = 0;
    for (size_t i = 0; i < a.ndeliv; i++) {
        const struct billing_storm_event *x = &a.ev[a.deliv[i]];
        struct billing_event e;
        int n = billing_storm_body(&a, a.deliv[i], 1900000000000LL, body, sizeof body);
        T_EQ_INT(billing_parse_standard(x->id, body, (size_t)n, &e, err, sizeof err), 0);
        int k = (int)strtol(x->sub + 4, NULL, 10);
        if (billing_decide(have[k] ? &cur[k] : NULL, &e, 1, &next) == BILLING_APPLIED) {
            cur[k] = next;
            have[k] = 1;
        }
    }
    for (int i = 0; i < 500; i++)
        agree += have[i] && cur[i].state == a.truth[i];
    T_EQ_INT(agree, 500);
    free(count);
    billing_storm_free(&a);
    billing_storm_free(&b);
}

/* Refused and duplicate deliveries (tally.c): one bucket per provider, reason and minute; a
 * bucket of a passed minute becomes one detached audit row operation, naming at most
 * BILLING_TALLY_IDS distinct ids and counting the others. */
static void test_tally(void)
{
    struct billing_mod *m = calloc(1, sizeof *m);
    char id[32];
    int64_t t0 = 1764950400000LL; /* 2025-12-05T16:00:00Z, a minute's start */
    pthread_mutex_init(&m->tmu, NULL);
    pthread_mutex_init(&m->qmu, NULL);
    pthread_cond_init(&m->qcv, NULL);
    for (int i = 0; i < 12; i++) {
        snprintf(id, sizeof id, "evt_%d", i % 10); /* 10 distinct ids, two of them twice */
        billing_tally_add(m, BILLING_STRIPE, BILLING_SIG_NOMATCH, id, t0 + 1000 + i);
    }
    billing_tally_add(m, BILLING_STRIPE, BILLING_SIG_NOMATCH, "has space", t0 + 2000);
    billing_tally_add(m, BILLING_STRIPE, BILLING_SIG_NOMATCH, NULL, t0 + 3000);
    billing_tally_add(m, BILLING_APPLE, BILLING_TALLY_DUP, "u-1", t0 + 4000);
    billing_tally_add(m, BILLING_MANUAL, BILLING_SIG_STALE, "x", t0); /* not a webhook */
    T_EQ_INT(m->head == NULL, 1);                                     /* nothing closed yet */
    T_EQ_INT(billing_tally_take(m, t0 + 59999, 0) == NULL, 1);        /* the minute is open */
    /* a delivery in the next minute closes the bucket's minute: its row is queued */
    billing_tally_add(m, BILLING_STRIPE, BILLING_SIG_NOMATCH, "evt_x", t0 + 60000);
    struct billing_op *op = m->head;
    T_EQ_INT(op != NULL && op->next == NULL && op->detached && op->kind == BILLING_OP_TALLY, 1);
    T_EQ_STR(op->act.reason, "refused");
    T_EQ_STR(op->act.account, "webhooks:stripe");
    T_EQ_STR(op->payload,
             "{\"count\":14,\"first_ms\":1764950401000,\"ids\":[\"evt_0\",\"evt_1\",\"evt_2\","
             "\"evt_3\",\"evt_4\",\"evt_5\",\"evt_6\",\"evt_7\"],\"ids_more\":2,\"last_ms\":"
             "1764950403000,\"minute\":\"2025-12-05T16:00:00Z\",\"provider\":\"stripe\","
             "\"reason\":\"nomatch\"}");
    billing_op_free(op);
    m->head = m->tail = NULL;
    /* the timer's take: only passed minutes (Apple's duplicate), then everything at stop */
    op = billing_tally_take(m, t0 + 60000, 0);
    T_EQ_INT(op != NULL && op->next == NULL, 1);
    T_EQ_STR(op->act.reason, "duplicate");
    T_EQ_STR(op->act.account, "webhooks:apple");
    T_EQ_INT(strstr(op->payload, "\"count\":1,") != NULL && strstr(op->payload, "[\"u-1\"]"), 1);
    billing_op_free(op);
    op = billing_tally_take(m, t0 + 60000, 1);
    T_EQ_INT(op != NULL && op->next == NULL, 1);
    T_EQ_INT(strstr(op->payload, "\"count\":1,") != NULL &&
                 strstr(op->payload, "\"minute\":\"2025-12-05T16:01:00Z\""),
             1);
    billing_op_free(op);
    T_EQ_INT(billing_tally_take(m, t0 + 600000, 1) == NULL, 1);
    pthread_cond_destroy(&m->qcv);
    pthread_mutex_destroy(&m->qmu);
    pthread_mutex_destroy(&m->tmu);
    free(m);
}

static const struct t_case cases[] = {
    T_CASE(test_standard_v1_vectors),
    T_CASE(test_standard_v1a_vector),
    T_CASE(test_standard_must_fail),
    T_CASE(test_keys_parse),
    T_CASE(test_stripe_vector),
    T_CASE(test_parse_stripe),
    T_CASE(test_parse_standard),
    T_CASE(test_parse_plan),
    T_CASE(test_parse_apple_refusals),
    T_CASE(test_apple_payload),
    T_CASE(test_parse_google),
    T_CASE(test_rule_table),
    T_CASE(test_stripe_status),
    T_CASE(test_ordering_stale),
    T_CASE(test_refund_wins_tie),
    T_CASE(test_order_independence),
    T_CASE(test_verdict),
    T_CASE(test_verdict_title),
    T_CASE(test_royalty_render),
    T_CASE(test_audit_chain),
    T_CASE(test_prune),
    T_CASE(test_tally),
    T_CASE(test_storm_generator),
    {0},
};

T_MAIN(cases)
