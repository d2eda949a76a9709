/*
 * remote.c - the HTTP driver's closed loop: simulated players ask a real server for their
 * steering manifest (GET /v1/steering/hls/{asset}, as hls.js does, with their attributes,
 * session and current pathway) and for their feature flags (GET /v1/flags), over one
 * keep-alive libcurl connection. While the server has no steering policy (503) or does not
 * run the steer module (404), fetches pause for 30 simulated seconds instead of asking again
 * for every player.
 */
#include "sim/sim_int.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMOTE_ASSET    "sim" /* the asset name players steer for */
#define REMOTE_RESP_MAX 65536 /* bytes of one answer */
#define REMOTE_PAUSE_MS 30000 /* simulated pause after 503 or 404 */
#define REMOTE_TIMEOUT  2000L /* ms per request */
#define REMOTE_URL_MAX  2048

struct sim_remote {
    CURL *curl;
    char base[512];
    struct oc_buf resp;
    int64_t paused_until_ms; /* no steering fetch before this simulated time */
    uint64_t fetched, failed;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct oc_buf *b = arg;
    return oc_buf_append(b, p, sz * n) == 0 ? sz * n : 0; /* past the cap: the request fails */
}

int sim_remote_new(const char *base, struct sim_remote **out)
{
    struct sim_remote *r = oc_calloc(1, sizeof(*r));
    *out = NULL;
    snprintf(r->base, sizeof(r->base), "%s", base);
    oc_buf_init(&r->resp, REMOTE_RESP_MAX);
    if (!(r->curl = curl_easy_init())) {
        sim_remote_free(r);
        return OC_EIO;
    }
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &r->resp);
    curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, REMOTE_TIMEOUT);
    curl_easy_setopt(r->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    *out = r;
    return 0;
}

void sim_remote_free(struct sim_remote *r)
{
    if (!r)
        return;
    if (r->curl)
        curl_easy_cleanup(r->curl);
    oc_buf_free(&r->resp);
    free(r);
}

void sim_remote_counts(const struct sim_remote *r, uint64_t *fetched, uint64_t *failed)
{
    *fetched = r ? r->fetched : 0;
    *failed = r ? r->failed : 0;
}

/* Appends "&key=escaped(value)" (nothing when value is empty) to url. */
static void add_param(struct sim_remote *r, char *url, size_t n, const char *key, const char *value)
{
    if (!value || !value[0])
        return;
    char *v = curl_easy_escape(r->curl, value, 0);
    size_t len = strlen(url);
    if (v && len < n)
        snprintf(url + len, n - len, "%s%s=%s", url[len - 1] == '?' ? "" : "&", key, v);
    curl_free(v);
}

/* GETs url into r->resp: the HTTP status, or 0 when there was no answer. */
static long get(struct sim_remote *r, const char *url)
{
    long status = 0;
    oc_buf_reset(&r->resp);
    curl_easy_setopt(r->curl, CURLOPT_URL, url);
    if (curl_easy_perform(r->curl) == CURLE_OK)
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

int sim_remote_steer(void *arg, const struct sim_steer_req *req, char pw[][SIM_NAME_MAX], int *n,
                     int *ttl)
{
    struct sim_remote *r = arg;
    char url[REMOTE_URL_MAX];
    size_t i;
    json_t *v;
    *n = 0;
    *ttl = 0;
    if (req->now_ms < r->paused_until_ms)
        return -1;
    snprintf(url, sizeof(url), "%s/v1/steering/hls/" REMOTE_ASSET "?", r->base);
    add_param(r, url, sizeof(url), "region", req->region);
    add_param(r, url, sizeof(url), "country", req->country);
    add_param(r, url, sizeof(url), "isp", req->isp);
    add_param(r, url, sizeof(url), "device", req->device);
    add_param(r, url, sizeof(url), "session", req->session);
    add_param(r, url, sizeof(url), "_HLS_pathway", req->pathway);
    long status = get(r, url);
    json_t *doc = status == 200 ? json_loadb(r->resp.data, r->resp.len, 0, NULL) : NULL;
    if (!doc) {
        r->failed++;
        if (status == 503 || status == 404)
            r->paused_until_ms = req->now_ms + REMOTE_PAUSE_MS;
        return -1;
    }
    r->fetched++;
    json_array_foreach(json_object_get(doc, "PATHWAY-PRIORITY"), i, v)
    {
        if (json_is_string(v) && *n < SIM_MAX_PATHWAYS)
            snprintf(pw[(*n)++], SIM_NAME_MAX, "%s", json_string_value(v));
    }
    json_int_t t = json_integer_value(json_object_get(doc, "TTL"));
    *ttl = t > 0 && t <= 86400 ? (int)t : 0;
    json_decref(doc);
    return 0;
}

int sim_remote_flag(void *arg, const struct sim_flag_req *req)
{
    struct sim_remote *r = arg;
    char url[REMOTE_URL_MAX];
    int value = -1;
    snprintf(url, sizeof(url), "%s/v1/flags?", r->base);
    add_param(r, url, sizeof(url), "player", req->player);
    add_param(r, url, sizeof(url), "player_version", req->player_version);
    add_param(r, url, sizeof(url), "device", req->device);
    add_param(r, url, sizeof(url), "region", req->region);
    json_t *doc = get(r, url) == 200 ? json_loadb(r->resp.data, r->resp.len, 0, NULL) : NULL;
    json_t *f = json_object_get(json_object_get(doc, "flags"), req->flag);
    if (json_is_boolean(f))
        value = json_is_true(f);
    json_decref(doc);
    return value;
}
