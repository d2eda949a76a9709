/*
 * cache.c - the in-memory cache of token and session lookups, so the ingest hot path and the
 * console's polling do not touch SQLite on every request.
 *
 * Keyed by (store, SHA-256 of the secret); tokens and sessions share it (their hashes cannot
 * collide in practice). It is capped (emptied when full), emptied by every revocation, and
 * its entries expire after AUTH_CACHE_TTL_MS, which bounds how long a revocation made by
 * another process (the CLI) takes to reach a running server.
 */
#include "auth/auth_int.h"
#include "core/alloc.h"
#include "core/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 1024 /* cache hash buckets */
#define CACHE_MAX     4096 /* cached entries at most; the cache is emptied when full */

struct cache_entry {
    struct cache_entry *next;          /* bucket chain */
    const struct store *s;             /* the store the secret was found in */
    unsigned char hash[AUTH_HASH_LEN]; /* SHA-256 of the secret */
    struct auth_cached v;              /* what was found */
    int64_t fresh_until_ns;            /* oc_mono_ns deadline */
};

static struct {
    pthread_mutex_t mu;                         /* guards everything below */
    struct cache_entry *buckets[CACHE_BUCKETS]; /* owned entries */
    int n;                                      /* entries */
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_start_once(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "oncue: libsodium failed to initialize\n");
        abort();
    }
}

void auth_sodium_start(void)
{
    pthread_once(&sodium_once, sodium_start_once);
}

void auth_hash(const char *secret, unsigned char hash[AUTH_HASH_LEN])
{
    crypto_hash_sha256(hash, (const unsigned char *)secret, strlen(secret));
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
    auth_key_cache_clear();
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
        if (e->s == s && memcmp(e->hash, hash, AUTH_HASH_LEN) == 0)
            return e;
    return NULL;
}

int auth_cache_get(const struct store *s, const unsigned char *hash, struct auth_cached *out)
{
    int hit = 0;
    pthread_mutex_lock(&cache.mu);
    struct cache_entry *e = cache_find(s, hash);
    if (e && e->fresh_until_ns > oc_mono_ns()) {
        *out = e->v;
        hit = 1;
    }
    pthread_mutex_unlock(&cache.mu);
    return hit;
}

void auth_cache_put(const struct store *s, const unsigned char *hash, const struct auth_cached *v)
{
    pthread_mutex_lock(&cache.mu);
    struct cache_entry *e = cache_find(s, hash);
    if (!e) {
        if (cache.n >= CACHE_MAX)
            cache_clear_locked();
        e = oc_calloc(1, sizeof *e);
        e->s = s;
        memcpy(e->hash, hash, AUTH_HASH_LEN);
        e->next = *bucket(hash);
        *bucket(hash) = e;
        cache.n++;
    }
    e->v = *v;
    e->fresh_until_ns = oc_mono_ns() + (int64_t)AUTH_CACHE_TTL_MS * 1000000;
    pthread_mutex_unlock(&cache.mu);
}
