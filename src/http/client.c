/*
 * client.c - one HTTP request over libcurl for the command-line tools (see client.h).
 */
#include "http/client.h"
#include "core/err.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

void http_client_from_env(struct http_client *c)
{
    const char *s = getenv("ONCUE_SERVER");
    c->server = s && *s ? s : HTTP_CLIENT_DEFAULT_SERVER;
    const char *t = getenv("ONCUE_TOKEN");
    c->token = t && *t ? t : NULL;
    c->timeout_s = 30;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    return oc_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

int http_client_call(const struct http_client *c, const char *method, const char *path,
                     const char *json_body, long *status, struct oc_buf *out, char *err,
                     size_t errlen)
{
    int rc = OC_EIO;
    char url[4096], auth[512];
    struct curl_slist *h = NULL;
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(err, errlen, "cannot initialize libcurl");
        return OC_EIO;
    }
    snprintf(url, sizeof(url), "%s%s", c->server, path);
    if (c->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, auth);
    }
    if (json_body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s %s: %s", method, url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    rc = 0;
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    return rc;
}
