/*
 * test_automation.c - event subscriptions: the retry schedule (about 75 h, jitter bounds),
 * topic filters and their check, and what oncue signs (v1 HMAC-SHA256 and v1a Ed25519,
 * several keys during a rotation) verified by the billing capability's Standard Webhooks
 * verifier, which is checked against the published vectors in test_billing.c.
 */
#include "t.h"
#include "automation/automation.h"
#include "billing/billing.h"
#include "core/err.h"
#include "core/webhook.h"

#include <sodium.h>

static void test_schedule(void)
{
    int64_t total = 0;
    T_EQ_INT(automation_retry_delay_ms(1, 0), 5000);
    T_EQ_INT(automation_retry_delay_ms(2, 0), 300000);
    T_EQ_INT(automation_retry_delay_ms(9, 0), 86400000);
    for (int n = 1; n < AUTO_ATTEMPTS_MAX; n++)
        total += automation_retry_delay_ms(n, 0);
    T_EQ_INT(total, ((75 * 60 + 35) * 60 + 5) * 1000LL); /* 75:35:05 to the tenth attempt */
    T_EQ_INT(automation_retry_delay_ms(1, 1000), 5500);  /* +10 % */
    T_EQ_INT(automation_retry_delay_ms(1, -1000), 4500); /* -10 % */
    T_EQ_INT(automation_retry_delay_ms(9, 500), 90720000);
    T_EQ_INT(automation_retry_delay_ms(0, 0), -1);
    T_EQ_INT(automation_retry_delay_ms(AUTO_ATTEMPTS_MAX, 0), -1);
    T_EQ_INT(automation_retry_delay_ms(1, 1001), -1);
}

static void test_topic_filters(void)
{
    char why[200] = "";
    T_EQ_INT(automation_topic_matches("*", "alert.fired"), 1);
    T_EQ_INT(automation_topic_matches("incident.*", "incident.opened"), 1);
    T_EQ_INT(automation_topic_matches("incident.*", "incidents.x"), 0);
    T_EQ_INT(automation_topic_matches("incident.*", "alert.fired"), 0);
    T_EQ_INT(automation_topic_matches("alert.fired", "alert.fired"), 1);
    T_EQ_INT(automation_topic_matches("alert.fired", "alert.firedx"), 0);
    T_EQ_INT(automation_topics_check("incident.*, alert.fired,change.recorded", why, sizeof why),
             0);
    T_EQ_INT(automation_topics_check("alert.fird", why, sizeof why), OC_EINVAL);
    T_EQ_STR(why, "topics: unknown topic alert.fird; did you mean alert.fired?");
    T_EQ_INT(automation_topics_check("nothing.*", why, sizeof why), OC_EINVAL);
    T_EQ_INT(automation_topics_check("", why, sizeof why), OC_EINVAL);
    T_EQ_STR(why, "topics: at least one topic (\"*\" for every one)");
    T_EQ_INT(automation_topics_check(" , ,", why, sizeof why), OC_EINVAL);
    /* every bus event of core/events.c may be named (a "*" subscription got them already);
     * the types only webhooks carry may not */
    T_EQ_INT(automation_topics_check("scrape.failed,scrape.*,incident.held", why, sizeof why), 0);
    T_EQ_INT(automation_topics_check("rollback.requested", why, sizeof why), OC_EINVAL);
    T_EQ_STR(why, "topics: unknown topic rollback.requested");
    T_EQ_INT(automation_topics_check("maintenance.*", why, sizeof why), OC_EINVAL);
}

/* A whsk_ key from a fixed seed, and its whpk_ public key. */
static void ed_keys(char *sk, size_t skn, char *pk, size_t pkn)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    char b64[64];
    memset(seed, 7, sizeof seed);
    sodium_bin2base64(b64, sizeof b64, seed, sizeof seed, sodium_base64_VARIANT_ORIGINAL);
    snprintf(sk, skn, "whsk_%s", b64);
    T_EQ_INT(oc_webhook_public(sk, pk, pkn), 0);
}

static void test_sign_verified(void)
{
    const char *hmac = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const char *body = "{\"type\":\"alert.fired\",\"timestamp\":\"2026-12-06T10:00:00Z\"}";
    char sk[128], pk[128], keys[300], sig[OC_WEBHOOK_SIG_MAX], err[200];
    struct billing_keys k;
    T_EQ_INT(sodium_init() >= 0, 1);
    ed_keys(sk, sizeof sk, pk, sizeof pk);
    T_EQ_INT(strncmp(pk, "whpk_", 5), 0);
    snprintf(keys, sizeof keys, "%s %s", sk, hmac); /* rotating: the Ed25519 key is new */
    T_EQ_INT(oc_webhook_sign(keys, "msg_1", 1796560000, body, strlen(body), sig, sizeof sig), 0);
    T_EQ_INT(strncmp(sig, "v1a,", 4), 0);
    T_TRUE(strstr(sig, " v1,") != NULL);
    /* each key alone verifies */
    T_EQ_INT(billing_keys_parse(BILLING_STANDARD, pk, &k, err, sizeof err), 0);
    T_EQ_INT(billing_standard_verify(&k, "msg_1", "1796560000", sig, body, strlen(body), 1796560010,
                                     300),
             BILLING_SIG_OK);
    T_EQ_INT(billing_keys_parse(BILLING_STANDARD, hmac, &k, err, sizeof err), 0);
    T_EQ_INT(billing_standard_verify(&k, "msg_1", "1796560000", sig, body, strlen(body), 1796560010,
                                     300),
             BILLING_SIG_OK);
    /* another id, or one byte changed, does not */
    T_EQ_INT(billing_standard_verify(&k, "msg_2", "1796560000", sig, body, strlen(body), 1796560010,
                                     300),
             BILLING_SIG_NOMATCH);
    T_EQ_INT(billing_keys_parse(BILLING_STANDARD, pk, &k, err, sizeof err), 0);
    T_EQ_INT(billing_standard_verify(&k, "msg_1", "1796560000", sig, body, strlen(body) - 1,
                                     1796560010, 300),
             BILLING_SIG_NOMATCH);
    /* bad keys: none, undecodable, too many */
    T_EQ_INT(oc_webhook_sign("", "msg_1", 1, body, 1, sig, sizeof sig), OC_EINVAL);
    T_EQ_INT(oc_webhook_sign("whsk_!!", "msg_1", 1, body, 1, sig, sizeof sig), OC_EINVAL);
    snprintf(keys, sizeof keys, "%s %s %s %s %s", hmac, hmac, hmac, hmac, hmac);
    T_EQ_INT(oc_webhook_sign(keys, "msg_1", 1, body, 1, sig, sizeof sig), OC_EINVAL);
    T_EQ_INT(oc_webhook_public(hmac, pk, sizeof pk), OC_EINVAL);
}

/* The 64-byte secret key form of whsk_ signs as its seed does. */
static void test_ed_key_forms(void)
{
    unsigned char seed[crypto_sign_SEEDBYTES], pkb[crypto_sign_PUBLICKEYBYTES],
        skb[crypto_sign_SECRETKEYBYTES];
    char b64[128], a[160], b[160], s1[OC_WEBHOOK_SIG_MAX], s2[OC_WEBHOOK_SIG_MAX];
    memset(seed, 9, sizeof seed);
    crypto_sign_seed_keypair(pkb, skb, seed);
    sodium_bin2base64(b64, sizeof b64, seed, sizeof seed, sodium_base64_VARIANT_ORIGINAL);
    snprintf(a, sizeof a, "whsk_%s", b64);
    sodium_bin2base64(b64, sizeof b64, skb, sizeof skb, sodium_base64_VARIANT_ORIGINAL);
    snprintf(b, sizeof b, "whsk_%s", b64);
    T_EQ_INT(oc_webhook_sign(a, "msg_x", 5, "{}", 2, s1, sizeof s1), 0);
    T_EQ_INT(oc_webhook_sign(b, "msg_x", 5, "{}", 2, s2, sizeof s2), 0);
    T_EQ_STR(s1, s2);
    T_EQ_INT((int)strlen(s1), 4 + 88); /* "v1a," + base64 of 64 bytes */
}

/* auto_reason_shown: a non-admin never reads the receiver's answer; an admin's reason is cut
 * to AUTO_REASON_MAX bytes at a UTF-8 boundary. */
static void test_reason_shown(void)
{
    char buf[AUTO_REASON_MAX + 1], small[8], long_reason[600];
    const char *gone = "the receiver answered 410 Gone at 2026-12-07T06:00:00Z";
    T_EQ_STR(auto_reason_shown(gone, 0, buf, sizeof buf),
             "disabled by the server after a delivery (admins see why)");
    T_EQ_STR(auto_reason_shown("disabled by ines", 0, buf, sizeof buf), "disabled by an admin");
    T_EQ_STR(auto_reason_shown(gone, 1, buf, sizeof buf), gone);
    T_EQ_INT(auto_reason_shown(NULL, 1, buf, sizeof buf) == NULL, 1);
    T_EQ_INT(auto_reason_shown("", 0, buf, sizeof buf) == NULL, 1);
    memset(long_reason, 'x', sizeof long_reason);
    memcpy(long_reason + AUTO_REASON_MAX - 1, "\xc3\xa9", 2); /* an e-acute across the cap */
    long_reason[sizeof long_reason - 1] = '\0';
    T_EQ_INT((int)strlen(auto_reason_shown(long_reason, 1, buf, sizeof buf)), AUTO_REASON_MAX - 1);
    T_EQ_STR(auto_reason_shown("disabled by ines", 1, small, sizeof small), "disable");
}

static const struct t_case cases[] = {
    T_CASE(test_schedule),     T_CASE(test_topic_filters), T_CASE(test_sign_verified),
    T_CASE(test_ed_key_forms), T_CASE(test_reason_shown),  {0},
};

T_MAIN(cases)
