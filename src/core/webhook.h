/*
 * webhook.h - the parts of Standard Webhooks signatures that signing and verifying share: the
 * symmetric key decoded from its "whsec_" text and the HMAC-SHA256 of "msg_id.timestamp.body".
 *
 * incident/ and automation/ sign outbound messages with oc_webhook_sign (v1 HMAC-SHA256 with a
 * "whsec_" secret, v1a Ed25519 with a "whsk_" secret key, several keys while one rotates);
 * billing/ verifies inbound provider webhooks with the key and the MAC.
 */
#ifndef OC_CORE_WEBHOOK_H
#define OC_CORE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define OC_WEBHOOK_KEY_MAX  256 /* bytes of a decoded symmetric key */
#define OC_WEBHOOK_MAC_LEN  32  /* bytes of an HMAC-SHA256 */
#define OC_WEBHOOK_KEYS_MAX 4   /* keys signing one message (a rotation needs two) */
#define OC_WEBHOOK_SIG_MAX  (OC_WEBHOOK_KEYS_MAX * 96) /* bytes of a webhook-signature value */

/* Decodes a Standard Webhooks symmetric secret ("whsec_" + base64, or the bare base64) into
 * key (OC_WEBHOOK_KEY_MAX bytes): the key's length (> 0), or -1 when secret is NULL, empty or
 * not base64. The caller wipes key after use. */
int oc_webhook_key(const char *secret, unsigned char *key /* OUT */);
/* The HMAC-SHA256 under key (klen bytes) of msg_id + "." + ts + "." + body (len bytes). */
void oc_webhook_mac(const unsigned char *key, size_t klen, const char *msg_id, int64_t ts,
                    const char *body, size_t len, unsigned char out[OC_WEBHOOK_MAC_LEN]);

/* Writes the webhook-signature value of msg_id.ts.body into out (n bytes, >= 64): one entry
 * per key of keys (space-separated, at most OC_WEBHOOK_KEYS_MAX), in their order, separated by
 * spaces: "v1,<base64 HMAC-SHA256>" for a "whsec_" (or bare base64) secret, "v1a,<base64
 * Ed25519 signature>" for a "whsk_" secret key (base64 of libsodium's 64-byte secret key or
 * of a 32-byte seed). 0, or OC_EINVAL (no key, one undecodable, too many, out too small). Key
 * bytes are wiped before returning. */
int oc_webhook_sign(const char *keys, const char *msg_id, int64_t ts, const char *body, size_t len,
                    char *out, size_t n);
/* Writes a new symmetric secret, "whsec_" + base64 of 32 random bytes (50 characters), into
 * out (n >= OC_WEBHOOK_SECRET_LEN). The caller wipes out after use. */
#define OC_WEBHOOK_SECRET_LEN 64
void oc_webhook_secret_new(char *out, size_t n);
/* Writes the "whpk_" public key of a "whsk_" secret key into out (n >= 64): 0, or OC_EINVAL
 * when key is not a whsk_ key. */
int oc_webhook_public(const char *key, char *out, size_t n);

#endif
