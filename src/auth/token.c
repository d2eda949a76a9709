/*
 * token.c - API tokens: creation, lookup through an in-memory cache, revocation, listing.
 *
 * A token is "oct_" + base64url(32 random bytes) without padding; the store keeps only the
 * SHA-256 of the whole token string, so lookup is by hash and needs no constant-time compare.
 * Lookups are cached (cache.c) so the ingest hot path does not touch SQLite; revoking a token
 * ends its browser sessions too (session.c) and empties the cache.
 */
#include "auth/auth_int.h"
#include "auth/sql.h"
#include "core/err.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define TOKEN_PREFIX     "oct_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RAW        32 /* random bytes in a token */

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

/* Writes a fresh random token into out. */
static void token_generate(char out[AUTH_TOKEN_LEN + 1])
{
    unsigned char raw[TOKEN_RAW];
    auth_sodium_start();
    randombytes_buf(raw, sizeof raw);
    memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    sodium_bin2base64(out + TOKEN_PREFIX_LEN, AUTH_TOKEN_LEN + 1 - TOKEN_PREFIX_LEN, raw,
                      sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

int auth_token_create(struct store *s, const char *name, enum http_role role, int64_t now_ms,
                      char out[AUTH_TOKEN_LEN + 1], int64_t *id)
{
    unsigned char hash[AUTH_HASH_LEN];
    char token[AUTH_TOKEN_LEN + 1];
    struct store_stmt *st;
    int rc = OC_EINVAL;
    if (!auth_name_valid(name) || role <= HTTP_PUBLIC || role > HTTP_INGEST)
        return rc;
    token_generate(token);
    auth_hash(token, hash);
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

/* Reads the token with this hash from the store: 0 with what the cache keeps, else
 * OC_EAUTH (unknown or revoked). */
static int lookup_db(struct store *s, const unsigned char *hash, struct auth_cached *out)
{
    struct store_stmt *st;
    int rc = OC_EAUTH;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_TOKEN_BY_HASH, &st) != 0)
        goto out;
    store_bind_blob(st, 1, hash, AUTH_HASH_LEN);
    if (store_step(st) == STORE_ROW && store_col_is_null(st, 2) &&
        http_role_parse(store_col_text(st, 0), &out->role) == 0 && out->role != HTTP_PUBLIC) {
        snprintf(out->name, sizeof out->name, "%s", store_col_text(st, 1));
        out->token_id = store_col_int(st, 3);
        out->expires_ms = 0;
        rc = 0;
    }
    store_reset(st);
out:
    store_unlock(s);
    return rc;
}

int auth_token_find(struct store *s, const char *token, enum http_role *role, char *name_out,
                    size_t n, int64_t *id)
{
    unsigned char hash[AUTH_HASH_LEN];
    struct auth_cached v;
    if (!s || !token_well_formed(token))
        return OC_EAUTH;
    auth_hash(token, hash);
    if (!auth_cache_get(s, hash, &v)) {
        if (lookup_db(s, hash, &v) != 0)
            return OC_EAUTH;
        auth_cache_put(s, hash, &v);
    }
    *role = v.role;
    if (name_out && n)
        snprintf(name_out, n, "%s", v.name);
    if (id)
        *id = v.token_id;
    return 0;
}

int auth_token_lookup(struct store *s, const char *token, enum http_role *role, char *name_out,
                      size_t n)
{
    return auth_token_find(s, token, role, name_out, n, NULL);
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
    if (rc == 0)
        rc = auth_session_revoke_token(s, id, now_ms);
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
