/*
 * outbound.c - one guarded outbound POST over libcurl (outbound.h): the socket opener checks
 * the address actually connected to against core/netguard.h, so a name that resolves to a
 * private address is refused too.
 */
#include "http/outbound.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/netguard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define RESP_MAX           65536 /* response bytes counted (then dropped) */
#define TIMEOUT_MS_DEFAULT 10000
#define RETRY_AFTER_MAX    (7L * 86400) /* a longer Retry-After is read as this */

/* What the socket opener needs: the allow list, and where to say why it refused. */
struct guard_ctx {
    const struct oc_netguard *g;
    const char *setting;
    char refused[200];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    size_t *count = arg;
    (void)p;
    if (*count + size * n <= RESP_MAX)
        *count += size * n; /* counted, not kept */
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct http_outbound_result *a = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(len - 12 < 31 ? len - 12 : 31), p + 12);
        char *end;
        long v = strtol(tmp, &end, 10);
        while (*end == ' ' || *end == '\r' || *end == '\n' || *end == '\t')
            end++;
        if (end != tmp && !*end && v >= 0)
            a->retry_after = v > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : v;
    }
    return len;
}

/* libcurl's socket opener: refuses the server's own host, private networks and link-local
 * (cloud metadata) addresses unless the allow list has them. */
static curl_socket_t open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    static const struct oc_netguard none;
    struct guard_ctx *gc = arg;
    char text[INET6_ADDRSTRLEN] = "?";
    (void)purpose;
    const char *why = oc_netguard_refuses(gc->g ? gc->g : &none, &addr->addr);
    if (why) {
        const void *a = addr->family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)(void *)&addr->addr)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)(void *)&addr->addr)->sin_addr;
        inet_ntop(addr->family, a, text, sizeof(text));
        snprintf(gc->refused, sizeof(gc->refused),
                 "refused to connect to %s: a %s address (list it in %s to allow it)", text, why,
                 gc->setting ? gc->setting : "the outbound allow list");
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

void http_outbound_post(const struct http_outbound *req, struct http_outbound_result *a)
{
    struct guard_ctx gc = {req->guard, req->allow_setting, ""};
    struct curl_slist *h = NULL;
    size_t got = 0;
    int64_t t0 = oc_mono_ns();
    memset(a, 0, sizeof(*a));
    a->retry_after = -1;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(a->error, sizeof(a->error), "curl_easy_init failed");
        return;
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "User-Agent: oncue-webhooks/1");
    h = curl_slist_append(h, "Expect:"); /* no 1 s wait for "100 Continue" on a larger body */
    for (int i = 0; i < HTTP_OUTBOUND_HEADERS_MAX && req->headers[i]; i++)
        h = curl_slist_append(h, req->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : (long)TIMEOUT_MS_DEFAULT);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &gc);
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    else
        snprintf(a->error, sizeof(a->error), "%s",
                 gc.refused[0] ? gc.refused : curl_easy_strerror(cc));
    a->ms = (oc_mono_ns() - t0) / 1000000;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}
