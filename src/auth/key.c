/*
 * key.c - public ingest keys: write-only keys a web page may carry in the open, because
 * navigator.sendBeacon cannot set an Authorization header.
 *
 * A key is "opk_" + base64url(16 random bytes). It is not a secret (every visitor of the page
 * can read it), so the store keeps it in clear and admins can list it again; what protects
 * the server is what a key can do: post telemetry on the routes that take keys (POST
 * /v1/events), from the origins it lists, at the rates it allows. Lookups are cached for
 * AUTH_CACHE_TTL_MS like tokens; revoking a key empties the cache.
 *
 * Rate limits are token buckets on the monotonic clock (a limit is about real time, whatever
 * clock the app runs on): one per key (rate_per_s requests a second, bursts of two seconds'
 * worth) and one per key and client address (client_per_min requests a minute, bursts of a
 * minute's worth). Both tables are fixed arrays of slots addressed by hash: a slot taken by
 * another key or client starts full for the newcomer, so memory stays bounded under a flood of
 * addresses while the per-key bucket still caps the total.
 */
#include "auth/auth_int.h"
#include "auth/sql.h"
#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define KEY_PREFIX     "opk_"
#define KEY_PREFIX_LEN 4
#define KEY_RAW        16    /* random bytes in a key */
#define KEY_CACHE      256   /* cached key lookups (direct-mapped by hash) */
#define KEY_SLOTS      1024  /* per-key rate buckets */
#define CLIENT_SLOTS   16384 /* per-key-and-client rate buckets */

/* One key as a check needs it. */
struct key_entry {
    char key[AUTH_KEY_LEN + 1];         /* "" for an empty cache slot */
    int found;                          /* 0: unknown or revoked (cached too) */
    int64_t id;                         /* its id */
    char name[AUTH_NAME_MAX + 1];       /* its name */
    char origins[AUTH_KEY_ORIGINS_MAX]; /* space-separated, "*" for any */
    int64_t rate_per_s, client_per_min; /* its limits */
    int64_t fresh_until_ns;             /* oc_mono_ns deadline */
};

/* A token bucket: owner is the key id (and client hash) it currently counts for. */
struct bucket {
    int64_t id;
    uint64_t client;
    double tokens;
    int64_t t_ns;
};

static struct {
    pthread_mutex_t mu;                  /* guards everything below (a leaf lock) */
    struct key_entry cache[KEY_CACHE];   /* lookups */
    struct bucket keys[KEY_SLOTS];       /* per key */
    struct bucket clients[CLIENT_SLOTS]; /* per key and client address */
} keys = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void auth_key_cache_clear(void)
{
    pthread_mutex_lock(&keys.mu);
    for (int i = 0; i < KEY_CACHE; i++)
        keys.cache[i].key[0] = '\0';
    pthread_mutex_unlock(&keys.mu);
}

int auth_key_well_formed(const char *key)
{
    if (!key || strlen(key) != AUTH_KEY_LEN || strncmp(key, KEY_PREFIX, KEY_PREFIX_LEN) != 0)
        return 0;
    return strspn(key + KEY_PREFIX_LEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_") == AUTH_KEY_LEN - KEY_PREFIX_LEN;
}

int auth_origin_valid(const char *o)
{
    size_t n = o ? strlen(o) : 0;
    if (n == 1 && o[0] == '*')
        return 1;
    const char *host = strncmp(o ? o : "", "https://", 8) == 0  ? o + 8
                       : strncmp(o ? o : "", "http://", 7) == 0 ? o + 7
                                                                : NULL;
    if (!host || n > AUTH_ORIGIN_MAX || !*host)
        return 0;
    /* a host (name, IPv4 or [IPv6]) and an optional port; no path, query or user */
    return strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
               strlen(host) &&
           host[strlen(host) - 1] != ':';
}

int auth_key_origins_join(const char *const *origins, int n, char *out, size_t outn)
{
    size_t used = 0;
    if (n < 1 || n > AUTH_KEY_ORIGINS_N)
        return OC_EINVAL;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (!auth_origin_valid(origins[i]))
            return OC_EINVAL;
        int w = snprintf(out + used, outn - used, "%s%s", i ? " " : "", origins[i]);
        if (w < 0 || (size_t)w >= outn - used)
            return OC_ETOOBIG;
        used += (size_t)w;
    }
    return 0;
}

int auth_key_create(struct store *s, const char *name, const char *origins, int64_t rate_per_s,
                    int64_t client_per_min, int64_t now_ms, char out[AUTH_KEY_LEN + 1], int64_t *id)
{
    unsigned char raw[KEY_RAW];
    char key[AUTH_KEY_LEN + 1];
    struct store_stmt *st;
    int rc;
    if (!auth_name_valid(name) || !origins || !*origins || rate_per_s < 1 ||
        rate_per_s > AUTH_KEY_RATE_MAX || client_per_min < 1 || client_per_min > AUTH_KEY_RATE_MAX)
        return OC_EINVAL;
    auth_sodium_start();
    randombytes_buf(raw, sizeof raw);
    memcpy(key, KEY_PREFIX, KEY_PREFIX_LEN);
    sodium_bin2base64(key + KEY_PREFIX_LEN, sizeof key - KEY_PREFIX_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    store_lock(s);
    if ((rc = store_prepare(s, AUTH_SQL_KEY_INSERT, &st)) != 0)
        goto out;
    STORE_BIND(st, STORE_TEXT(name), STORE_TEXT(key), STORE_TEXT(origins), STORE_INT(rate_per_s),
               STORE_INT(client_per_min), STORE_INT(now_ms));
    rc = store_step(st);
    store_reset(st);
    if (rc != STORE_DONE)
        goto out;
    if (id)
        *id = store_last_id(s);
    memcpy(out, key, sizeof key);
    rc = 0;
out:
    store_unlock(s);
    return rc == OC_ECONFLICT || rc == 0 ? rc : OC_EDB;
}

int auth_key_revoke(struct store *s, int64_t id, int64_t now_ms)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_KEY_REVOKE, &st) == 0) {
        STORE_BIND(st, STORE_INT(id), STORE_INT(now_ms));
        rc = store_step(st) == STORE_DONE ? (store_changes(s) > 0 ? 0 : OC_ENOTFOUND) : OC_EDB;
        store_reset(st);
    }
    store_unlock(s);
    if (rc == 0)
        auth_key_cache_clear();
    return rc;
}

/* One row of AUTH_SQL_KEY_LIST as a JSON object. */
static json_t *key_row_json(struct store_stmt *st)
{
    json_t *o = json_object(), *origins = json_array();
    char buf[AUTH_KEY_ORIGINS_MAX];
    snprintf(buf, sizeof buf, "%s", store_col_text(st, 3) ? store_col_text(st, 3) : "");
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        json_array_append_new(origins, json_string(t));
    json_object_set_new(o, "id", json_integer(store_col_int(st, 0)));
    json_object_set_new(o, "name", json_string(store_col_text(st, 1)));
    json_object_set_new(o, "key", json_string(store_col_text(st, 2)));
    json_object_set_new(o, "origins", origins);
    json_object_set_new(o, "rate_per_s", json_integer(store_col_int(st, 4)));
    json_object_set_new(o, "client_per_min", json_integer(store_col_int(st, 5)));
    json_object_set_new(o, "created_ms", json_integer(store_col_int(st, 6)));
    json_object_set_new(o, "revoked_ms",
                        store_col_is_null(st, 7) ? json_null()
                                                 : json_integer(store_col_int(st, 7)));
    return o;
}

int auth_key_list(struct store *s, json_t **out)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_KEY_LIST, &st) == 0) {
        store_bind_int(st, 1, AUTH_LIST_MAX);
        while ((rc = store_step(st)) == STORE_ROW)
            json_array_append_new(arr, key_row_json(st));
        store_reset(st);
        rc = rc == STORE_DONE ? 0 : OC_EDB;
    }
    store_unlock(s);
    if (rc) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return rc;
}

/* Reads key from the store into e (found or not). */
static void lookup_db(struct store *s, const char *key, struct key_entry *e)
{
    struct store_stmt *st;
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_KEY_BY_KEY, &st) == 0) {
        store_bind_text(st, 1, key);
        if (store_step(st) == STORE_ROW && store_col_is_null(st, 5)) {
            e->found = 1;
            e->id = store_col_int(st, 0);
            snprintf(e->name, sizeof e->name, "%s", store_col_text(st, 1));
            snprintf(e->origins, sizeof e->origins, "%s",
                     store_col_text(st, 2) ? store_col_text(st, 2) : "");
            e->rate_per_s = store_col_int(st, 3);
            e->client_per_min = store_col_int(st, 4);
        }
        store_reset(st);
    }
    store_unlock(s);
}

/* 1 when origin is one of the space-separated list (or the list holds "*"). */
static int origin_listed(const char *list, const char *origin)
{
    size_t n = strlen(origin);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, " ");
        if ((len == 1 && *p == '*') || (len == n && strncasecmp(p, origin, n) == 0))
            return 1;
        p += len;
        p += *p == ' ';
    }
    return 0;
}

/* Takes one request from b (owner id/client; refilled at per_s up to cap) at now; 0, or
 * OC_EBUSY with the seconds until one is due in *retry_s. The caller holds keys.mu. */
static int take(struct bucket *b, int64_t id, uint64_t client, double cap, double per_s,
                int64_t now, int *retry_s)
{
    if (b->id != id || b->client != client || b->t_ns == 0) {
        b->id = id;
        b->client = client;
        b->tokens = cap;
        b->t_ns = now;
    }
    b->tokens += (double)(now - b->t_ns) / 1e9 * per_s;
    if (b->tokens > cap)
        b->tokens = cap;
    b->t_ns = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    *retry_s = (int)ceil((1.0 - b->tokens) / per_s);
    return OC_EBUSY;
}

int auth_key_check(struct store *s, const char *key, const char *origin, const char *client,
                   char *name_out, size_t n, int *retry_s, char *why, size_t whyn)
{
    struct key_entry e;
    if (!s || !auth_key_well_formed(key))
        return OC_EAUTH;
    uint64_t h = fnv(key, 1469598103934665603ULL);
    int64_t now = oc_mono_ns();
    struct key_entry *slot = &keys.cache[h % KEY_CACHE];
    pthread_mutex_lock(&keys.mu);
    int hit = strcmp(slot->key, key) == 0 && slot->fresh_until_ns > now;
    if (hit)
        e = *slot;
    pthread_mutex_unlock(&keys.mu);
    if (!hit) {
        lookup_db(s, key, &e);
        e.fresh_until_ns = now + (int64_t)AUTH_CACHE_TTL_MS * 1000000;
        pthread_mutex_lock(&keys.mu);
        *slot = e;
        pthread_mutex_unlock(&keys.mu);
    }
    if (!e.found)
        return OC_EAUTH;
    if (origin && !origin_listed(e.origins, origin)) {
        snprintf(why, whyn, "origin %.200s is not one of the key's origins", origin);
        return OC_EPERM;
    }
    uint64_t c = fnv(client ? client : "", h);
    int rc;
    pthread_mutex_lock(&keys.mu);
    rc = take(&keys.clients[c % CLIENT_SLOTS], e.id, c, (double)e.client_per_min,
              (double)e.client_per_min / 60.0, now, retry_s);
    if (rc)
        snprintf(why, whyn, "this client is over the key's %lld requests a minute",
                 (long long)e.client_per_min);
    else if ((rc = take(&keys.keys[(uint64_t)e.id % KEY_SLOTS], e.id, 0, 2.0 * (double)e.rate_per_s,
                        (double)e.rate_per_s, now, retry_s)) != 0)
        snprintf(why, whyn, "the key is over its %lld requests a second", (long long)e.rate_per_s);
    pthread_mutex_unlock(&keys.mu);
    if (rc)
        return rc;
    snprintf(name_out, n, "%s", e.name);
    return 0;
}
