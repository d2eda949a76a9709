/*
 * webhook.h - the parts of Standard Webhooks signatures that signing and verifying share: the
 * symmetric key decoded from its "whsec_" text and the HMAC-SHA256 of "msg_id.timestamp.body".
 *
 * incident/ signs outbound notifications with them; billing/ verifies inbound provider
 * webhooks. The signature text ("v1," + base64) is each caller's.
 */
#ifndef OC_CORE_WEBHOOK_H
#define OC_CORE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define OC_WEBHOOK_KEY_MAX 256 /* bytes of a decoded symmetric key */
#define OC_WEBHOOK_MAC_LEN 32  /* bytes of an HMAC-SHA256 */

/* Decodes a Standard Webhooks symmetric secret ("whsec_" + base64, or the bare base64) into
 * key (OC_WEBHOOK_KEY_MAX bytes): the key's length (> 0), or -1 when secret is NULL, empty or
 * not base64. The caller wipes key after use. */
int oc_webhook_key(const char *secret, unsigned char *key /* OUT */);
/* The HMAC-SHA256 under key (klen bytes) of msg_id + "." + ts + "." + body (len bytes). */
void oc_webhook_mac(const unsigned char *key, size_t klen, const char *msg_id, int64_t ts,
                    const char *body, size_t len, unsigned char out[OC_WEBHOOK_MAC_LEN]);

#endif
