/*
 * auth.h - API tokens with roles, stored hashed, and the append-only audit log.
 *
 * A token is "oct_" followed by 43 base64url characters (32 random bytes); it is shown once
 * at creation and the store keeps only its SHA-256. A browser session is opened with a token
 * (POST /v1/session) and lives in an HttpOnly cookie: 64 hex characters (32 random bytes), of
 * which the store too keeps only the SHA-256; it has the token's role and name, ends at its
 * expiry, at sign-out, or when its token is revoked. The audit table refuses UPDATE and DELETE
 * (triggers), so the trail is append-only. auth_module mounts /v1/tokens, /v1/session(s) and
 * /v1/audit and installs the http authentication (token and cookie) and audit hooks.
 */
#ifndef OC_AUTH_AUTH_H
#define OC_AUTH_AUTH_H

#include "http/http.h"

#include <stddef.h>
#include <stdint.h>

struct store;
struct oc_module;

#define AUTH_TOKEN_LEN 47 /* characters in a token, without the NUL */
#define AUTH_NAME_MAX  64 /* longest token name */

/* Creates a token for role named name at now_ms; writes it into out (AUTH_TOKEN_LEN + 1
 * bytes) and its id into *id. 0, OC_EINVAL (bad name), OC_ECONFLICT (name taken) or OC_EDB. */
int auth_token_create(struct store *s, const char *name, enum http_role role, int64_t now_ms,
                      char out[AUTH_TOKEN_LEN + 1], int64_t *id /* OUT, may be NULL */);
/* Looks a token up: 0 with its role and name (name copied into name_out, n bytes), or
 * OC_EAUTH when unknown or revoked. */
int auth_token_lookup(struct store *s, const char *token, enum http_role *role /* OUT */,
                      char *name_out, size_t n);
/* As auth_token_lookup, and also gives the token's id (id may be NULL). */
int auth_token_find(struct store *s, const char *token, enum http_role *role /* OUT */,
                    char *name_out, size_t n, int64_t *id /* OUT */);
/* Revokes token id at now_ms, and ends its sessions: 0, OC_ENOTFOUND or OC_EDB. */
int auth_token_revoke(struct store *s, int64_t id, int64_t now_ms);
/* Appends one audit record: 0 or OC_EDB. */
int auth_audit_append(struct store *s, int64_t ts_ms, const char *actor, const char *action,
                      const char *target, int status, const char *detail);

/* 1 when name is 1..AUTH_NAME_MAX characters of [A-Za-z0-9._-], else 0. */
int auth_name_valid(const char *name);
/* The tokens (at most AUTH_LIST_MAX, by id) as a JSON array of {"id", "name", "role",
 * "created_ms", "revoked_ms" (null while active)}; never the hashes. 0 or OC_EDB; the caller
 * owns *out. */
int auth_token_list(struct store *s, json_t **out /* OUT */);
/* Audit records with id < before_id (0: from the newest), newest first, at most limit
 * (1..AUTH_LIST_MAX), as a JSON array of {"id", "ts_ms", "actor", "action", "target",
 * "status", "detail"}. 0, OC_EINVAL (limit) or OC_EDB; the caller owns *out. */
int auth_audit_list(struct store *s, int64_t before_id, int limit, json_t **out /* OUT */);
/* Public ingest keys (key.c): write-only, not secret, limited by origin and rate. */
#define AUTH_KEY_LEN                 26   /* characters in a key ("opk_" + 22), without the NUL */
#define AUTH_ORIGIN_MAX              256  /* longest origin */
#define AUTH_KEY_ORIGINS_N           16   /* origins of one key at most */
#define AUTH_KEY_ORIGINS_MAX         2048 /* bytes of a key's origins, space-separated */
#define AUTH_KEY_RATE_MAX            1000000 /* largest rate_per_s or client_per_min */
#define AUTH_KEY_RATE_DEFAULT        1000    /* requests a second of one key */
#define AUTH_KEY_CLIENT_RATE_DEFAULT 120     /* requests a minute of one key from one client */

/* 1 when origin is "*" or "http(s)://host[:port]" (no path), at most AUTH_ORIGIN_MAX. */
int auth_origin_valid(const char *origin);
/* Joins n (1..AUTH_KEY_ORIGINS_N) valid origins into out, space-separated: 0, OC_EINVAL (a
 * bad origin or count) or OC_ETOOBIG. */
int auth_key_origins_join(const char *const *origins, int n, char *out, size_t outn);
/* 1 when key has the shape of a public key. */
int auth_key_well_formed(const char *key);
/* Creates a key named name for origins (auth_key_origins_join's form) with its limits at
 * now_ms; writes it into out and its id into *id. 0, OC_EINVAL, OC_ECONFLICT (name taken) or
 * OC_EDB. */
int auth_key_create(struct store *s, const char *name, const char *origins, int64_t rate_per_s,
                    int64_t client_per_min, int64_t now_ms, char out[AUTH_KEY_LEN + 1],
                    int64_t *id /* OUT, may be NULL */);
/* Revokes key id at now_ms: 0, OC_ENOTFOUND or OC_EDB. */
int auth_key_revoke(struct store *s, int64_t id, int64_t now_ms);
/* The keys (at most AUTH_LIST_MAX) as a JSON array of {"id", "name", "key", "origins",
 * "rate_per_s", "client_per_min", "created_ms", "revoked_ms"}. 0 or OC_EDB. */
int auth_key_list(struct store *s, json_t **out /* OUT */);
/* Checks one request sent with key from origin (NULL: no Origin header) and client (its
 * address) and counts it against the key's limits: 0 with the key's name in name_out;
 * OC_EAUTH (unknown or revoked), OC_EPERM (origin not listed) or OC_EBUSY (over a limit; the
 * seconds to wait in *retry_s), with why. Thread-safe. */
int auth_key_check(struct store *s, const char *key, const char *origin, const char *client,
                   char *name_out, size_t n, int *retry_s /* OUT */, char *why, size_t whyn);
/* Empties the key lookup cache (revocations do). */
void auth_key_cache_clear(void);

/* Empties the in-memory token and session cache. Every revocation does this itself; cached
 * entries also expire after AUTH_CACHE_TTL_MS, which bounds how long a revocation made by
 * another process (the CLI) takes to reach a running server. */
void auth_cache_clear(void);

#define AUTH_LIST_MAX     10000 /* rows a listing returns at most */
#define AUTH_CACHE_TTL_MS 5000  /* lifetime of a cached token or session lookup */

#define AUTH_SESSION_LEN        64       /* hex characters of a session's cookie value */
#define AUTH_SESSIONS_PER_TOKEN 64       /* live sessions of one token; older ones are ended */
#define AUTH_SESSION_KEEP_MS    86400000 /* ended sessions are forgotten this long after */

/* A session as auth_session_lookup finds it. */
struct auth_session {
    int64_t token_id;             /* the token it was opened with */
    enum http_role role;          /* the token's role */
    char name[AUTH_NAME_MAX + 1]; /* the token's name */
    int64_t expires_ms;           /* its end, on the app clock */
};

/* Opens a session for token token_id (with its role and name) at now_ms, lasting ttl_ms;
 * writes its cookie value into out. Forgets sessions ended more than AUTH_SESSION_KEEP_MS
 * ago and ends the token's oldest live sessions past AUTH_SESSIONS_PER_TOKEN. 0, OC_EINVAL
 * (role, name or ttl) or OC_EDB. */
int auth_session_create(struct store *s, int64_t token_id, enum http_role role, const char *name,
                        int64_t now_ms, int64_t ttl_ms, char out[AUTH_SESSION_LEN + 1]);
/* Looks the session with cookie value `value` up at now_ms (cached like tokens): 0 with *out
 * filled; OC_EAUTH when malformed, unknown, ended, or its token is revoked; OC_EGONE when it
 * expired. */
int auth_session_lookup(struct store *s, const char *value, int64_t now_ms,
                        struct auth_session *out /* OUT */);
/* Ends the session with cookie value `value` at now_ms: 0, OC_ENOTFOUND (unknown or ended
 * already) or OC_EDB. */
int auth_session_revoke(struct store *s, const char *value, int64_t now_ms);
/* Ends every session of token token_id at now_ms (its revocation calls this): 0 or OC_EDB.
 * The caller empties the cache (auth_token_revoke does). */
int auth_session_revoke_token(struct store *s, int64_t token_id, int64_t now_ms);
/* The live sessions at now_ms (at most AUTH_LIST_MAX, oldest first) as a JSON array of
 * {"id" (the first 8 hex digits of the stored hash), "name", "role", "created_ms",
 * "expires_ms"}; never the cookie. 0 or OC_EDB; the caller owns *out. */
int auth_session_list(struct store *s, int64_t now_ms, json_t **out /* OUT */);

extern const struct oc_module auth_module;

#endif
