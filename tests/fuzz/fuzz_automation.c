/*
 * fuzz_automation.c - fuzzes what a subscription's creator sends: the input's first line is a
 * topic filter list (automation_topics_check), its second a signing key list
 * (oc_webhook_sign: whsec_ and whsk_ keys, space-separated), the rest the body signed.
 *
 * Besides not crashing: the check answers 0 or OC_EINVAL with a reason; signing answers 0 or
 * OC_EINVAL, and on 0 the header value fits OC_WEBHOOK_SIG_MAX and each space-separated entry
 * is "v1," or "v1a," followed by base64.
 */
#include "automation/automation.h"
#include "core/err.h"
#include "core/webhook.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next line of [*p, end) as a NUL-terminated copy (caller frees); *p moves past it. */
static char *line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    memcpy(s, *p, n);
    s[n] = 0;
    *p += n + (nl != NULL);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char why[300] = "", sig[OC_WEBHOOK_SIG_MAX];
    if (sodium_init() < 0)
        abort();
    char *topics = line(&p, end), *keys = line(&p, end);
    int rc = automation_topics_check(topics, why, sizeof why);
    if (rc != 0 && (rc != OC_EINVAL || !why[0]))
        abort();
    rc = oc_webhook_sign(keys, "msg_fuzz", 1796560000, (const char *)p, (size_t)(end - p), sig,
                         sizeof sig);
    if (rc != 0 && rc != OC_EINVAL)
        abort();
    if (rc == 0) {
        if (strlen(sig) >= sizeof sig)
            abort();
        for (const char *e = sig; *e;) {
            size_t n = strcspn(e, " ");
            if (strncmp(e, "v1,", 3) != 0 && strncmp(e, "v1a,", 4) != 0)
                abort();
            e += n + (e[n] == ' ');
        }
    }
    free(topics);
    free(keys);
    return 0;
}
