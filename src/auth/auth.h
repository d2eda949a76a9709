/*
 * auth.h - API tokens with roles, stored hashed, and the append-only audit log.
 *
 * A token is "oct_" followed by 43 base64url characters (32 random bytes); it is shown once
 * at creation and the store keeps only its SHA-256. The audit table refuses UPDATE and DELETE
 * (triggers), so the trail is append-only. auth_module mounts /v1/tokens and /v1/audit and
 * installs the http authentication and audit hooks.
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
/* Revokes token id at now_ms: 0 or OC_ENOTFOUND. */
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
/* Empties the in-memory token cache. auth_token_revoke does this itself; cached entries
 * also expire after AUTH_CACHE_TTL_MS, which bounds how long a revocation made by another
 * process (the CLI) takes to reach a running server. */
void auth_cache_clear(void);

#define AUTH_LIST_MAX     10000 /* rows a listing returns at most */
#define AUTH_CACHE_TTL_MS 5000  /* lifetime of a cached token lookup */

extern const struct oc_module auth_module;

#endif
