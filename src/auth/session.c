/*
 * session.c - browser sessions: opened with an API token, carried by an HttpOnly cookie.
 *
 * The cookie value is 32 random bytes as 64 lowercase hex characters; the store keeps only
 * its SHA-256 (like tokens), with the token's id, role and name, and the session's creation,
 * expiry and end. A session is valid while it has not ended, has not expired on the app
 * clock, and its token is not revoked (the lookup joins the token, and revoking a token also
 * ends its sessions). Lookups share the token cache (cache.c); every revocation empties it.
 * Rows of sessions that ended long ago are deleted when the next one is opened.
 */
#include "auth/auth_int.h"
#include "auth/sql.h"
#include "core/err.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define SESSION_RAW 32 /* random bytes in a session's cookie value */

/* 1 when value has the shape of a session cookie value (64 lowercase hex characters). */
static int session_well_formed(const char *value)
{
    return value && strlen(value) == AUTH_SESSION_LEN &&
           strspn(value, "0123456789abcdef") == AUTH_SESSION_LEN;
}

/* Runs one bound statement to completion; 0 or OC_EDB. The caller holds the store lock. */
static int run(struct store_stmt *st)
{
    int rc = store_step(st);
    store_reset(st);
    return rc == STORE_DONE ? 0 : OC_EDB;
}

/* Forgets sessions that ended before cutoff_ms, inserts the new one, and ends the token's
 * live sessions past AUTH_SESSIONS_PER_TOKEN. *trimmed: sessions ended. Holds the lock. */
static int insert_locked(struct store *s, const unsigned char *hash, int64_t token_id,
                         enum http_role role, const char *name, int64_t now_ms, int64_t ttl_ms,
                         int *trimmed)
{
    struct store_stmt *st;
    int rc;
    if ((rc = store_prepare(s, AUTH_SQL_SESSION_PURGE, &st)) != 0)
        return rc;
    store_bind_int(st, 1, now_ms - AUTH_SESSION_KEEP_MS);
    if ((rc = run(st)) != 0 || (rc = store_prepare(s, AUTH_SQL_SESSION_INSERT, &st)) != 0)
        return rc;
    STORE_BIND(st, STORE_BLOB(hash, AUTH_HASH_LEN), STORE_INT(token_id),
               STORE_TEXT(http_role_name(role)), STORE_TEXT(name), STORE_INT(now_ms),
               STORE_INT(now_ms + ttl_ms));
    if ((rc = run(st)) != 0 || (rc = store_prepare(s, AUTH_SQL_SESSION_TRIM, &st)) != 0)
        return rc;
    STORE_BIND(st, STORE_INT(token_id), STORE_INT(AUTH_SESSIONS_PER_TOKEN), STORE_INT(now_ms));
    if ((rc = run(st)) != 0)
        return rc;
    *trimmed = store_changes(s);
    return 0;
}

int auth_session_create(struct store *s, int64_t token_id, enum http_role role, const char *name,
                        int64_t now_ms, int64_t ttl_ms, char out[AUTH_SESSION_LEN + 1])
{
    unsigned char raw[SESSION_RAW], hash[AUTH_HASH_LEN];
    char value[AUTH_SESSION_LEN + 1];
    int trimmed = 0, rc;
    if (!auth_name_valid(name) || role < HTTP_VIEWER || role > HTTP_ADMIN || ttl_ms <= 0)
        return OC_EINVAL;
    auth_sodium_start();
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(value, sizeof value, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    auth_hash(value, hash);
    if (store_begin(s) != 0)
        return OC_EDB;
    rc = insert_locked(s, hash, token_id, role, name, now_ms, ttl_ms, &trimmed);
    if (rc == 0 && store_commit(s) != 0)
        rc = OC_EDB;
    else if (rc != 0)
        store_rollback(s);
    if (rc == 0) {
        memcpy(out, value, sizeof value);
        if (trimmed > 0)
            auth_cache_clear();
    }
    sodium_memzero(value, sizeof value);
    return rc == 0 ? 0 : OC_EDB;
}

/* Reads the session with this hash: 0 with what the cache keeps (expired or not), else
 * OC_EAUTH (unknown, ended, or its token revoked). */
static int lookup_db(struct store *s, const unsigned char *hash, struct auth_cached *out)
{
    struct store_stmt *st;
    int rc = OC_EAUTH;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_SESSION_BY_HASH, &st) != 0)
        goto out;
    store_bind_blob(st, 1, hash, AUTH_HASH_LEN);
    if (store_step(st) == STORE_ROW && store_col_is_null(st, 5) && store_col_is_null(st, 6) &&
        http_role_parse(store_col_text(st, 1), &out->role) == 0) {
        out->token_id = store_col_int(st, 0);
        snprintf(out->name, sizeof out->name, "%s", store_col_text(st, 2));
        out->expires_ms = store_col_int(st, 4);
        rc = 0;
    }
    store_reset(st);
out:
    store_unlock(s);
    return rc;
}

int auth_session_lookup(struct store *s, const char *value, int64_t now_ms,
                        struct auth_session *out)
{
    unsigned char hash[AUTH_HASH_LEN];
    struct auth_cached v;
    if (!s || !session_well_formed(value))
        return OC_EAUTH;
    auth_hash(value, hash);
    if (!auth_cache_get(s, hash, &v)) {
        if (lookup_db(s, hash, &v) != 0)
            return OC_EAUTH;
        auth_cache_put(s, hash, &v);
    }
    if (v.expires_ms <= now_ms)
        return OC_EGONE;
    out->token_id = v.token_id;
    out->role = v.role;
    out->expires_ms = v.expires_ms;
    memcpy(out->name, v.name, sizeof out->name);
    return 0;
}

int auth_session_revoke(struct store *s, const char *value, int64_t now_ms)
{
    unsigned char hash[AUTH_HASH_LEN];
    struct store_stmt *st;
    int rc = OC_EDB;
    if (!session_well_formed(value))
        return OC_ENOTFOUND;
    auth_hash(value, hash);
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_SESSION_REVOKE, &st) != 0)
        goto out;
    STORE_BIND(st, STORE_BLOB(hash, AUTH_HASH_LEN), STORE_INT(now_ms));
    if ((rc = run(st)) == 0)
        rc = store_changes(s) > 0 ? 0 : OC_ENOTFOUND;
out:
    store_unlock(s);
    auth_cache_clear();
    return rc;
}

int auth_session_revoke_token(struct store *s, int64_t token_id, int64_t now_ms)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_SESSION_REVOKE_TOKEN, &st) == 0) {
        STORE_BIND(st, STORE_INT(token_id), STORE_INT(now_ms));
        rc = run(st);
    }
    store_unlock(s);
    return rc;
}

/* One row of AUTH_SQL_SESSION_LIST as a JSON object; its id is the hash's first 4 bytes in
 * lower-case hex. */
static json_t *session_row_json(struct store_stmt *st)
{
    char id[9] = "";
    size_t n = 0;
    const unsigned char *h = store_col_blob(st, 0, &n);
    for (size_t i = 0; i < n && i < 4; i++)
        snprintf(id + 2 * i, 3, "%02x", h[i]);
    return json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", id, "name", store_col_text(st, 1), "role",
                     store_col_text(st, 2), "created_ms", (json_int_t)store_col_int(st, 3),
                     "expires_ms", (json_int_t)store_col_int(st, 4));
}

int auth_session_list(struct store *s, int64_t now_ms, json_t **out)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTH_SQL_SESSION_LIST, &st) != 0)
        goto out;
    STORE_BIND(st, STORE_INT(now_ms), STORE_INT(AUTH_LIST_MAX));
    while ((rc = store_step(st)) == STORE_ROW)
        json_array_append_new(arr, session_row_json(st));
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
