/*
 * outbound.h - one guarded outbound POST (webhooks, notifications): libcurl with a timeout,
 * http and https only, no redirects followed, the answer's body counted and dropped, its
 * Retry-After read, and the socket opener refusing loopback, private and link-local addresses
 * (after DNS) unless the caller's allow list has them (core/netguard.h).
 *
 * incident/ (the notification outbox) and automation/ (event subscriptions) send through it.
 */
#ifndef OC_HTTP_OUTBOUND_H
#define OC_HTTP_OUTBOUND_H

#include <stdint.h>

struct oc_netguard;

#define HTTP_OUTBOUND_HEADERS_MAX 8 /* extra header lines of one request */

/* What to send; everything borrowed. */
struct http_outbound {
    const char *url;
    const char *body;                               /* NUL-terminated JSON */
    const char *headers[HTTP_OUTBOUND_HEADERS_MAX]; /* "Name: value" lines; NULL ends */
    const struct oc_netguard *guard;                /* the allow list; NULL allows none */
    const char *allow_setting;                      /* named in a refusal ("x.outbound_allow") */
    long timeout_ms;                                /* whole request; 0: 10 s */
};

/* What one attempt gave. */
struct http_outbound_result {
    long status;      /* the answer's status; 0 when none came */
    long retry_after; /* seconds of the answer's Retry-After (delta-seconds), or -1 */
    char error[256];  /* why no answer came ("" on an answer); a refusal names the address */
    int64_t ms;       /* duration */
};

/* POSTs req (Content-Type: application/json) once and fills out. Thread-safe (one easy
 * handle per call); never logs the URL or the headers. */
void http_outbound_post(const struct http_outbound *req, struct http_outbound_result *out);

#endif
