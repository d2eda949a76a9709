/*
 * token.c - API tokens: creation, lookup through an in-memory cache, revocation, listing.
 *
 * A token is "oct_" + base64url(32 random bytes) without padding; the store keeps only the
 * SHA-256 of the whole token string, so lookup is by hash and needs no constant-time compare.
 * Lookups are cached (hash -> role, name) so the ingest hot path does not touch SQLite; the
 * cache is capped, emptied on every revocation and its entries expire after a few seconds.
 */
#include "auth/auth.h"
#include "auth/sql.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_PREFIX     "oct_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RAW        32   /* random bytes in a token */
#define CACHE_BUCKETS    1024 /* cache hash buckets */
#define CACHE_MAX        4096 /* cached tokens at most; the cache is emptied when full */
#define HASH_LEN         crypto_hash_sha256_BYTES

struct cache_entry {
    struct cache_entry *next;     /* bucket chain */
    const struct store *s;        /* the store the token was found in */
    unsigned char hash[HASH_LEN]; /* SHA-256 of the token */
    enum http_role role;          /* its role */
    int64_t expires_ns;           /* oc_mono_ns deadline */
    char name[AUTH_NAME_MAX + 1]; /* its name */
};

static struct {
    pthread_mutex_t mu;                         /* guards everything below */
    struct cache_entry *buckets[CACHE_BUCKETS]; /* owned entries */
    int n;                                      /* entries */
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

/* Initializes libsodium once per process; aborts if it cannot (no usable randomness). */
static void sodium_start(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "oncue: libsodium failed to initialize\n");
        abort();
    }
}

/* Empties the cache; the caller holds cache.mu. */
static void cache_clear_locked(void)
{
    for (int i = 0; i < CACHE_BUCKETS; i++) {
        struct cache_entry *e = cache.buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
        cache.buckets[i] = NULL;
    }
    cache.n = 0;
}

void auth_cache_clear(void)
{
    pthread_mutex_lock(&cache.mu);
    cache_clear_locked();
    pthread_mutex_unlock(&cache.mu);
}

/* The bucket of a hash (SHA-256 output is uniform, so its first bytes do). */
static struct cache_entry **bucket(const unsigned char *hash)
{
    uint32_t h = (uint32_t)hash[0] | (uint32_t)hash[1] << 8 | (uint32_t)hash[2] << 16;
    return &cache.buckets[h % CACHE_BUCKETS];
}

/* The entry for (s, hash), fresh or not, or NULL; the caller holds cache.mu. */
static struct cache_entry *cache_find(const struct store *s, const unsigned char *hash)
{
    for (struct cache_entry *e = *bucket(hash); e; e = e->next)
        if (e->s == s && memcmp(e->hash, hash, HASH_LEN) == 0)
            return e;
    return NULL;
}

/* Looks (s, hash) up: 1 with role and name copied out when cached and fresh, else 0. */
static int cache_get(const struct store *s, const unsigned char *hash, enum http_role *role,
                     char *name, size_t n)
{
    int hit = 0;
    pthread_mutex_lock(&cache.mu);
    struct cache_entry *e = cache_find(s, hash);
    if (e && e->expires_ns > oc_mono_ns()) {
        *role = e->role;
        if (name && n)
            snprintf(name, n, "%s", e->name);
        hit = 1;
    }
    pthread_mutex_unlock(&cache.mu);
    return hit;
}

/* Caches (s, hash) -> role, name for AUTH_CACHE_TTL_MS. */
static void cache_put(const struct store *s, const unsigned char *hash, enum http_role role,
                      const char *name)
{
    pthread_mutex_lock(&cache.mu);
    struct cache_entry *e = cache_find(s, hash);
    if (!e) {
        if (cache.n >= CACHE_MAX)
            cache_clear_locked();
        e = oc_calloc(1, sizeof *e);
        e->s = s;
        memcpy(e->hash, hash, HASH_LEN);
        e->next = *bucket(hash);
        *bucket(hash) = e;
        cache.n++;
    }
    e->role = role;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->expires_ns = oc_mono_ns() + (int64_t)AUTH_CACHE_TTL_MS * 1000000;
    pthread_mutex_unlock(&cache.mu);
}

int auth_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > AUTH_NAME_MAX)
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* 1 when token has the shape of an oncue token ("oct_" + 43 base64url characters). */
static int token_well_formed(const char *token)
{
    if (!token || strlen(token) != AUTH_TOKEN_LEN ||
        strncmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
        return 0;
    return strspn(token + TOKEN_PREFIX_LEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789-_") == AUTH_TOKEN_LEN - TOKEN_PREFIX_LEN;
}

/* The stored form of a token: SHA-256 of its characters. */
static void token_hash(const char *token, unsigned char hash[HASH_LEN])
{
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
}

/* Writes a fresh random token into out. */
static void token_generate(char out[AUTH_TOKEN_LEN + 1])
{
    unsigned char raw[TOKEN_RAW];
    pthread_once(&sodium_once, sodium_start);
    randombytes_buf(raw, sizeof raw);
    memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    sodium_bin2base64(out + TOKEN_PREFIX_LEN, AUTH_TOKEN_LEN + 1 - TOKEN_PREFIX_LEN, raw,
                      sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

int auth_token_create(struct store *s, const char *name, enum http_role role, int64_t now_ms,
                      char out[AUTH_TOKEN_LEN + 1], int64_t *id)
{
    unsigned char hash[HASH_LEN];
    char token[AUTH_TOKEN_LEN + 1];
    struct store_stmt *st;
    int rc = OC_EINVAL;
    if (!auth_name_valid(name) || role <= HTTP_PUBLIC || role > HTTP_INGEST)
        return rc;
    token_generate(token);
    token_hash(token, hash);
    store_lock(s);
    if ((rc = store_prepare(s, AUTH_SQL_TOKEN_INSERT, &st)) != 0)
        goto out;
    STORE_BIND(st, STORE_TEXT(name), STORE_TEXT(http_role_name(role)),
               STORE_BLOB(hash, sizeof hash), STORE_INT(now_ms));
    rc = store_step(st);
    store_reset(st);
    if (rc != STORE_DONE)
        goto out;
    if (id)
        *id = store_last_id(s);
    memcpy(out, token, sizeof token);
    rc = 0;
out:
    store_unlock(s);
    sodium_memzero(token, sizeof token);
    return rc == OC_ECONFLICT || rc == 0 ? rc : OC_EDB;
}

/* Reads the token with this hash from the store: 0 with role and name, else OC_EAUTH. */
static int lookup_db(struct store *s, const unsigned char *hash, enum http_role *role,
                     char name[AUTH_NAME_MAX + 1])
{
    struct store_stmt *st;
    int rc = OC_EAUTH;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_TOKEN_BY_HASH, &st) != 0)
        goto out;
    store_bind_blob(st, 1, hash, HASH_LEN);
    if (store_step(st) == STORE_ROW && store_col_is_null(st, 2) &&
        http_role_parse(store_col_text(st, 0), role) == 0 && *role != HTTP_PUBLIC) {
        snprintf(name, AUTH_NAME_MAX + 1, "%s", store_col_text(st, 1));
        rc = 0;
    }
    store_reset(st);
out:
    store_unlock(s);
    return rc;
}

int auth_token_lookup(struct store *s, const char *token, enum http_role *role, char *name_out,
                      size_t n)
{
    unsigned char hash[HASH_LEN];
    char name[AUTH_NAME_MAX + 1];
    if (!s || !token_well_formed(token))
        return OC_EAUTH;
    token_hash(token, hash);
    if (cache_get(s, hash, role, name_out, n))
        return 0;
    if (lookup_db(s, hash, role, name) != 0)
        return OC_EAUTH;
    cache_put(s, hash, *role, name);
    if (name_out && n)
        snprintf(name_out, n, "%s", name);
    return 0;
}

int auth_token_revoke(struct store *s, int64_t id, int64_t now_ms)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_TOKEN_REVOKE, &st) != 0)
        goto out;
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, now_ms);
    rc = store_step(st);
    store_reset(st);
    if (rc != STORE_DONE) {
        rc = OC_EDB;
        goto out;
    }
    rc = store_changes(s) > 0 ? 0 : OC_ENOTFOUND;
out:
    store_unlock(s);
    if (rc == 0)
        auth_cache_clear();
    return rc;
}

/* One row of AUTH_SQL_TOKEN_LIST as a JSON object. */
static json_t *token_row_json(struct store_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(store_col_int(st, 0)));
    json_object_set_new(o, "name", json_string(store_col_text(st, 1)));
    json_object_set_new(o, "role", json_string(store_col_text(st, 2)));
    json_object_set_new(o, "created_ms", json_integer(store_col_int(st, 3)));
    json_object_set_new(o, "revoked_ms",
                        store_col_is_null(st, 4) ? json_null()
                                                 : json_integer(store_col_int(st, 4)));
    return o;
}

int auth_token_list(struct store *s, json_t **out)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_TOKEN_LIST, &st) != 0)
        goto out;
    store_bind_int(st, 1, AUTH_LIST_MAX);
    while ((rc = store_step(st)) == STORE_ROW)
        json_array_append_new(arr, token_row_json(st));
    store_reset(st);
    rc = rc == STORE_DONE ? 0 : OC_EDB;
out:
    store_unlock(s);
    if (rc) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return rc;
}
