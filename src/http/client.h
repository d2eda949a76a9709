/*
 * client.h - the HTTP client the command-line tools use to talk to a running server.
 *
 * Subcommands that talk to a server take --server URL and --token T, defaulting to the
 * environment variables ONCUE_SERVER (else http://127.0.0.1:8470) and ONCUE_TOKEN
 * (docs/contracts.md "Command line"). One call, one request, over libcurl.
 */
#ifndef OC_HTTP_CLIENT_H
#define OC_HTTP_CLIENT_H

#include "core/buf.h"

#define HTTP_CLIENT_DEFAULT_SERVER "http://127.0.0.1:8470"

struct http_client {
    const char *server; /* base URL without a trailing slash; borrowed */
    const char *token;  /* bearer token or NULL; borrowed */
    long timeout_s;     /* whole-request timeout; 0 means 30 */
};

/* Fills c from ONCUE_SERVER and ONCUE_TOKEN (the defaults; flags may then override). */
void http_client_from_env(struct http_client *c);
/* Performs METHOD server+path with an optional JSON body. On a response, returns 0 with the
 * status in *status and the body in out (capped by out->max); OC_EIO with a reason in err
 * when no response came (server down, timeout). */
int http_client_call(const struct http_client *c, const char *method, const char *path,
                     const char *json_body, long *status /* OUT */, struct oc_buf *out, char *err,
                     size_t errlen);

#endif
