/*
 * auth_int.h - internals shared by the files of src/auth/ (not for other folders): the
 * SHA-256 every secret is stored as, and the lookup cache tokens and sessions share.
 */
#ifndef OC_AUTH_AUTH_INT_H
#define OC_AUTH_AUTH_INT_H

#include "auth/auth.h"

#include <sodium.h>
#include <stdint.h>

struct store;

#define AUTH_HASH_LEN crypto_hash_sha256_BYTES /* bytes of a stored secret's hash */

/* What the cache keeps of a token or a session found in the store. */
struct auth_cached {
    enum http_role role;          /* its role */
    int64_t token_id;             /* the token's id (a session: the token it was opened with) */
    int64_t expires_ms;           /* a session's end on the app clock; 0 for a token */
    char name[AUTH_NAME_MAX + 1]; /* the token's name */
};

/* Initializes libsodium once per process; aborts if it cannot (no usable randomness). */
void auth_sodium_start(void);
/* The stored form of a secret (a token or a session's cookie value): SHA-256 of its text. */
void auth_hash(const char *secret, unsigned char hash[AUTH_HASH_LEN]);
/* Copies the fresh cache entry for (s, hash) into out: 1, or 0 when none. Entries live
 * AUTH_CACHE_TTL_MS; auth_cache_clear empties the cache (every revocation calls it). */
int auth_cache_get(const struct store *s, const unsigned char *hash, struct auth_cached *out);
/* Caches (s, hash) -> v (copied) for AUTH_CACHE_TTL_MS. */
void auth_cache_put(const struct store *s, const unsigned char *hash, const struct auth_cached *v);

#endif
