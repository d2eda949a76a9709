/*
 * test_auth.c - API tokens (create, lookup, revoke, name rules, format, hashed storage),
 * browser sessions (lifetime, expiry, sign-out, ending with their token, hashed storage, the
 * per-token cap, listing, purging) and the append-only audit log, against a store in a
 * temporary directory.
 */
#include "auth/auth.h"
#include "core/err.h"
#include "core/module.h"
#include "store/store.h"
#include "t.h"
#include "t_store.h"

#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>

#define T0 1764000000000LL /* a fixed creation time */

static char tmp_root[64];

/* Opens a store in a fresh temporary directory (fails the case and returns NULL if not). */
static struct store *open_tmp(void)
{
    char err[256] = "";
    struct store *s = NULL;
    snprintf(tmp_root, sizeof tmp_root, "/tmp/oncue-auth-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        exit(1);
    }
    T_EQ_INT(t_store_open(tmp_root, STORE_SYNC_NORMAL, &s, err, sizeof err), 0);
    return s;
}

/* Closes the store and removes its directory. */
static void close_tmp(struct store *s)
{
    store_close(s);
    t_rmtree(tmp_root);
}

/* The single integer a query returns, or -1. */
static int64_t query_int(struct store *s, const char *sql)
{
    struct store_stmt *st;
    int64_t v = -1;
    if (store_prepare(s, sql, &st) != 0)
        return -1;
    if (store_step(st) == STORE_ROW)
        v = store_col_int(st, 0);
    store_reset(st);
    return v;
}

static void test_create_and_lookup(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], name[AUTH_NAME_MAX + 1] = "";
    enum http_role role = HTTP_PUBLIC;
    int64_t id = 0;
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "ops-bot_1.x", HTTP_RESPONDER, T0, tok, &id), 0);
    T_EQ_INT(id, 1);
    T_EQ_INT(auth_token_lookup(s, tok, &role, name, sizeof name), 0);
    T_EQ_INT(role, HTTP_RESPONDER);
    T_EQ_STR(name, "ops-bot_1.x");
    /* a second lookup is served by the cache and gives the same answer */
    role = HTTP_PUBLIC;
    T_EQ_INT(auth_token_lookup(s, tok, &role, name, sizeof name), 0);
    T_EQ_INT(role, HTTP_RESPONDER);
    T_EQ_INT(auth_token_create(s, "collector", HTTP_INGEST, T0, tok, NULL), 0);
    T_EQ_INT(auth_token_lookup(s, tok, &role, NULL, 0), 0);
    T_EQ_INT(role, HTTP_INGEST);
    T_EQ_INT(query_int(s, "SELECT created_ms FROM tokens WHERE name = 'collector'"), T0);
out:
    close_tmp(s);
}

static void test_token_format(void)
{
    struct store *s = open_tmp();
    char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "a", HTTP_VIEWER, T0, a, NULL), 0);
    T_EQ_INT(auth_token_create(s, "b", HTTP_VIEWER, T0, b, NULL), 0);
    T_EQ_INT(strlen(a), 47);
    T_EQ_INT(AUTH_TOKEN_LEN, 47);
    T_TRUE(strncmp(a, "oct_", 4) == 0);
    T_EQ_INT(strspn(a + 4, alphabet), 43);
    T_TRUE(strcmp(a, b) != 0);
out:
    close_tmp(s);
}

static void test_wrong_token(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], other[AUTH_TOKEN_LEN + 1];
    enum http_role role;
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "real", HTTP_ADMIN, T0, tok, NULL), 0);
    /* well formed but unknown: flip one character of the secret */
    memcpy(other, tok, sizeof tok);
    other[10] = other[10] == 'A' ? 'B' : 'A';
    T_EQ_INT(auth_token_lookup(s, other, &role, NULL, 0), OC_EAUTH);
    /* malformed: rejected before any hashing */
    T_EQ_INT(auth_token_lookup(s, "", &role, NULL, 0), OC_EAUTH);
    T_EQ_INT(auth_token_lookup(s, NULL, &role, NULL, 0), OC_EAUTH);
    T_EQ_INT(auth_token_lookup(s, tok + 4, &role, NULL, 0), OC_EAUTH);
    memcpy(other, tok, sizeof tok);
    other[20] = '+'; /* not base64url */
    T_EQ_INT(auth_token_lookup(s, other, &role, NULL, 0), OC_EAUTH);
    memcpy(other, tok, sizeof tok);
    other[0] = 'x'; /* wrong prefix */
    T_EQ_INT(auth_token_lookup(s, other, &role, NULL, 0), OC_EAUTH);
    T_EQ_INT(auth_token_lookup(NULL, tok, &role, NULL, 0), OC_EAUTH);
    /* the real one still works */
    T_EQ_INT(auth_token_lookup(s, tok, &role, NULL, 0), 0);
out:
    close_tmp(s);
}

static void test_revoke(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], keep[AUTH_TOKEN_LEN + 1];
    enum http_role role;
    int64_t id = 0, id2 = 0;
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "doomed", HTTP_ADMIN, T0, tok, &id), 0);
    T_EQ_INT(auth_token_create(s, "kept", HTTP_VIEWER, T0, keep, &id2), 0);
    T_EQ_INT(auth_token_lookup(s, tok, &role, NULL, 0), 0); /* now cached */
    T_EQ_INT(auth_token_revoke(s, id, T0 + 1000), 0);
    T_EQ_INT(auth_token_lookup(s, tok, &role, NULL, 0), OC_EAUTH);
    T_EQ_INT(auth_token_lookup(s, keep, &role, NULL, 0), 0);
    T_EQ_INT(role, HTTP_VIEWER);
    T_EQ_INT(query_int(s, "SELECT revoked_ms FROM tokens WHERE name = 'doomed'"), T0 + 1000);
    /* revoking again keeps the first time; an unknown id is not found */
    T_EQ_INT(auth_token_revoke(s, id, T0 + 5000), 0);
    T_EQ_INT(query_int(s, "SELECT revoked_ms FROM tokens WHERE name = 'doomed'"), T0 + 1000);
    T_EQ_INT(auth_token_revoke(s, 999, T0), OC_ENOTFOUND);
out:
    close_tmp(s);
}

static void test_duplicate_name(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1];
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "dup", HTTP_VIEWER, T0, tok, NULL), 0);
    T_EQ_INT(auth_token_create(s, "dup", HTTP_ADMIN, T0, tok, NULL), OC_ECONFLICT);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM tokens"), 1);
out:
    close_tmp(s);
}

static void test_bad_names_and_roles(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], longest[AUTH_NAME_MAX + 2];
    static const char *const bad[] = {"", "has space", "slash/y", "quote'", "ümlaut", "a\nb", NULL};
    if (!s)
        goto out;
    for (int i = 0; bad[i]; i++)
        T_EQ_INT(auth_token_create(s, bad[i], HTTP_VIEWER, T0, tok, NULL), OC_EINVAL);
    T_EQ_INT(auth_token_create(s, NULL, HTTP_VIEWER, T0, tok, NULL), OC_EINVAL);
    memset(longest, 'n', sizeof longest);
    longest[AUTH_NAME_MAX + 1] = '\0'; /* 65 characters */
    T_EQ_INT(auth_token_create(s, longest, HTTP_VIEWER, T0, tok, NULL), OC_EINVAL);
    longest[AUTH_NAME_MAX] = '\0'; /* 64 characters: allowed */
    T_EQ_INT(auth_token_create(s, longest, HTTP_VIEWER, T0, tok, NULL), 0);
    T_EQ_INT(auth_token_create(s, "public", HTTP_PUBLIC, T0, tok, NULL), OC_EINVAL);
    T_EQ_INT(auth_token_create(s, "weird", (enum http_role)42, T0, tok, NULL), OC_EINVAL);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM tokens"), 1);
out:
    close_tmp(s);
}

/* 1 when the file holds the n bytes of needle. */
static int file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    static char data[1 << 20];
    size_t len;
    if (!f)
        return 0;
    len = fread(data, 1, sizeof data, f);
    fclose(f);
    return memmem(data, len, needle, n) != NULL;
}

static void test_no_plaintext_in_db(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], path[128];
    unsigned char hash[32];
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "secret-holder", HTTP_ADMIN, T0, tok, NULL), 0);
    crypto_hash_sha256(hash, (const unsigned char *)tok, strlen(tok));
    if (t_pg()) { /* no file to read: the row holds the name and the hash, not the token */
        struct store_stmt *st;
        size_t n = 0;
        T_EQ_INT(store_prepare(s, "SELECT hash, name FROM tokens", &st), 0);
        T_EQ_INT(store_step(st), STORE_ROW);
        const void *h = store_col_blob(st, 0, &n);
        T_TRUE(n == sizeof hash && memcmp(h, hash, sizeof hash) == 0);
        T_EQ_STR(store_col_text(st, 1), "secret-holder");
        T_EQ_INT(store_step(st), STORE_DONE);
        store_reset(st);
        goto out;
    }
    store_close(s); /* checkpoints the WAL into oncue.db */
    s = NULL;
    snprintf(path, sizeof path, "%s/oncue.db", tmp_root);
    /* the positive control: the name and the hash are in the file */
    T_TRUE(file_contains(path, "secret-holder", 13));
    T_TRUE(file_contains(path, hash, sizeof hash));
    /* neither the token nor its secret part (nor a prefix of it) is */
    T_EQ_INT(file_contains(path, tok, strlen(tok)), 0);
    T_EQ_INT(file_contains(path, tok + 4, 16), 0);
out:
    close_tmp(s);
}

static void test_token_list(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1];
    int64_t id = 0;
    json_t *arr = NULL;
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "one", HTTP_VIEWER, T0, tok, NULL), 0);
    T_EQ_INT(auth_token_create(s, "two", HTTP_ADMIN, T0 + 1, tok, &id), 0);
    T_EQ_INT(auth_token_revoke(s, id, T0 + 2), 0);
    T_EQ_INT(auth_token_list(s, &arr), 0);
    T_EQ_INT(json_array_size(arr), 2);
    json_t *two = json_array_get(arr, 1);
    T_EQ_STR(json_string_value(json_object_get(two, "name")), "two");
    T_EQ_STR(json_string_value(json_object_get(two, "role")), "admin");
    T_EQ_INT(json_integer_value(json_object_get(two, "created_ms")), T0 + 1);
    T_EQ_INT(json_integer_value(json_object_get(two, "revoked_ms")), T0 + 2);
    T_TRUE(json_is_null(json_object_get(json_array_get(arr, 0), "revoked_ms")));
    T_EQ_INT(json_object_size(two), 5); /* id, name, role, created_ms, revoked_ms: no hash */
    T_TRUE(json_object_get(two, "hash") == NULL);
out:
    json_decref(arr);
    close_tmp(s);
}

static void test_audit_append_only(void)
{
    struct store *s = open_tmp();
    struct store_stmt *st;
    json_t *arr = NULL, *page = NULL;
    if (!s)
        goto out;
    T_EQ_INT(auth_audit_append(s, T0, "alice", "POST /v1/tokens", "bot", 201, NULL), 0);
    T_EQ_INT(auth_audit_append(s, T0 + 1, "bob", "DELETE /v1/tokens/1", "1", 204, "x"), 0);
    T_EQ_INT(auth_audit_append(s, T0 + 2, NULL, "POST /v1/x", NULL, 403, NULL), 0);
    T_EQ_INT(auth_audit_list(s, 0, 2, &arr), 0);
    T_EQ_INT(json_array_size(arr), 2);
    T_EQ_INT(json_integer_value(json_object_get(json_array_get(arr, 0), "id")), 3);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(arr, 0), "actor")), "anonymous");
    T_EQ_INT(json_integer_value(json_object_get(json_array_get(arr, 0), "status")), 403);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(arr, 1), "detail")), "x");
    T_EQ_INT(auth_audit_list(s, 2, 10, &page), 0); /* before id 2 */
    T_EQ_INT(json_array_size(page), 1);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(page, 0), "actor")), "alice");
    T_EQ_INT(json_integer_value(json_object_get(json_array_get(page, 0), "ts_ms")), T0);
    json_decref(page);
    T_EQ_INT(auth_audit_list(s, 0, 0, &page), OC_EINVAL);
    T_TRUE(page == NULL);
    /* the triggers refuse UPDATE and DELETE */
    T_EQ_INT(store_prepare(s, "UPDATE audit SET actor = 'mallory' WHERE id = 1", &st), 0);
    T_EQ_INT(store_step(st), OC_ECONFLICT);
    store_reset(st);
    T_CONTAINS(store_errmsg(s), "append-only");
    T_EQ_INT(store_prepare(s, "DELETE FROM audit", &st), 0);
    T_EQ_INT(store_step(st), OC_ECONFLICT);
    store_reset(st);
    T_EQ_INT(store_exec(s, "DELETE FROM audit WHERE id = 2"), OC_EDB);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM audit"), 3);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM audit WHERE actor = 'alice'"), 1);
out:
    json_decref(arr);
    json_decref(page);
    close_tmp(s);
}

/* Many tokens: more than the cache holds (4096), so it is emptied once on the way. */
static void test_cache_past_cap(void)
{
    enum { N = 4200 };
    struct store *s = open_tmp();
    static char toks[N][AUTH_TOKEN_LEN + 1];
    char name[32], got[AUTH_NAME_MAX + 1];
    enum http_role role;
    int ok = 0;
    if (!s)
        goto out;
    T_EQ_INT(store_begin(s), 0);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "t%d", i);
        T_EQ_INT(auth_token_create(s, name, HTTP_INGEST, T0, toks[i], NULL), 0);
    }
    T_EQ_INT(store_commit(s), 0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            snprintf(name, sizeof name, "t%d", i);
            if (auth_token_lookup(s, toks[i], &role, got, sizeof got) == 0 && role == HTTP_INGEST &&
                strcmp(got, name) == 0)
                ok++;
        }
    }
    T_EQ_INT(ok, 2 * N);
out:
    close_tmp(s);
}

struct lookup_job {
    struct store *s; /* shared store */
    const char *tok; /* token to look up */
    int ok;          /* successful lookups */
};

/* Thread body: looks the same token up 2000 times. */
static void *lookup_thread(void *arg)
{
    struct lookup_job *j = arg;
    enum http_role role;
    char name[AUTH_NAME_MAX + 1];
    for (int i = 0; i < 2000; i++) {
        if (i % 500 == 0)
            auth_cache_clear(); /* force some lookups through SQLite */
        if (auth_token_lookup(j->s, j->tok, &role, name, sizeof name) == 0 && role == HTTP_VIEWER &&
            strcmp(name, "shared") == 0)
            j->ok++;
    }
    return NULL;
}

static void test_concurrent_lookups(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1];
    pthread_t th[4];
    struct lookup_job jobs[4];
    if (!s)
        goto out;
    T_EQ_INT(auth_token_create(s, "shared", HTTP_VIEWER, T0, tok, NULL), 0);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct lookup_job){s, tok, 0};
        pthread_create(&th[i], NULL, lookup_thread, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        T_EQ_INT(jobs[i].ok, 2000);
    }
out:
    close_tmp(s);
}

static void test_module_init(void)
{
    struct store *s = open_tmp();
    struct oc_app app = {0};
    void *state = NULL;
    T_EQ_STR(auth_module.name, "auth");
    T_EQ_INT(auth_module.init(&app, &state), OC_EINVAL); /* no store */
    app.store = s;
    T_EQ_INT(auth_module.init(&app, &state), 0); /* no http server: no hooks, no crash */
    auth_module.stop(&app, state);
    close_tmp(s);
}

/* A token for role named name, and its id. */
static int64_t token_for(struct store *s, const char *name, enum http_role role, char *tok)
{
    int64_t id = 0;
    T_EQ_INT(auth_token_create(s, name, role, T0, tok, &id), 0);
    return id;
}

static void test_session_lifetime(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], v[AUTH_SESSION_LEN + 1], name[AUTH_NAME_MAX + 1];
    struct auth_session sess;
    enum http_role role;
    int64_t found = 0;
    if (!s)
        goto out;
    int64_t id = token_for(s, "alice", HTTP_RESPONDER, tok);
    T_EQ_INT(auth_token_find(s, tok, &role, name, sizeof name, &found), 0);
    T_EQ_INT(found, id);
    T_EQ_INT(auth_session_create(s, id, role, name, T0, 1000, v), 0);
    T_EQ_INT(strlen(v), 64);
    T_EQ_INT(strspn(v, "0123456789abcdef"), 64);
    T_EQ_INT(auth_session_lookup(s, v, T0, &sess), 0);
    T_EQ_INT(sess.role, HTTP_RESPONDER);
    T_EQ_STR(sess.name, "alice");
    T_EQ_INT(sess.token_id, id);
    T_EQ_INT(sess.expires_ms, T0 + 1000);
    T_EQ_INT(auth_session_lookup(s, v, T0 + 999, &sess), 0);
    T_EQ_INT(auth_session_lookup(s, v, T0 + 1000, &sess), OC_EGONE); /* cached, still expires */
    auth_cache_clear();
    T_EQ_INT(auth_session_lookup(s, v, T0 + 5000, &sess), OC_EGONE); /* from the store */
    /* malformed or unknown values */
    char upper[AUTH_SESSION_LEN + 1];
    for (int i = 0; i <= AUTH_SESSION_LEN; i++)
        upper[i] = (char)(v[i] >= 'a' && v[i] <= 'f' ? v[i] - 32 : v[i]);
    T_EQ_INT(auth_session_lookup(s, upper, T0, &sess), strcmp(upper, v) ? OC_EAUTH : 0);
    T_EQ_INT(auth_session_lookup(s, "abc", T0, &sess), OC_EAUTH);
    T_EQ_INT(auth_session_lookup(s, tok, T0, &sess), OC_EAUTH); /* a token is not a session */
    char other[AUTH_SESSION_LEN + 1];
    memset(other, '0', AUTH_SESSION_LEN);
    other[AUTH_SESSION_LEN] = '\0';
    T_EQ_INT(auth_session_lookup(s, other, T0, &sess), OC_EAUTH);
    /* sessions are for people: no ingest role, no public one, a valid name, a positive ttl */
    T_EQ_INT(auth_session_create(s, id, HTTP_INGEST, "alice", T0, 1000, v), OC_EINVAL);
    T_EQ_INT(auth_session_create(s, id, HTTP_PUBLIC, "alice", T0, 1000, v), OC_EINVAL);
    T_EQ_INT(auth_session_create(s, id, HTTP_VIEWER, "a b", T0, 1000, v), OC_EINVAL);
    T_EQ_INT(auth_session_create(s, id, HTTP_VIEWER, "alice", T0, 0, v), OC_EINVAL);
out:
    close_tmp(s);
}

static void test_session_revoke(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1], a[AUTH_SESSION_LEN + 1],
        b[AUTH_SESSION_LEN + 1], c[AUTH_SESSION_LEN + 1];
    struct auth_session sess;
    if (!s)
        goto out;
    int64_t id = token_for(s, "bob", HTTP_VIEWER, tok), id2 = token_for(s, "eve", HTTP_ADMIN, tok2);
    T_EQ_INT(auth_session_create(s, id, HTTP_VIEWER, "bob", T0, 60000, a), 0);
    T_EQ_INT(auth_session_create(s, id, HTTP_VIEWER, "bob", T0, 60000, b), 0);
    T_EQ_INT(auth_session_create(s, id2, HTTP_ADMIN, "eve", T0, 60000, c), 0);
    T_TRUE(strcmp(a, b) != 0);
    /* sign-out: refused at once although the lookup was cached */
    T_EQ_INT(auth_session_lookup(s, a, T0, &sess), 0);
    T_EQ_INT(auth_session_revoke(s, a, T0 + 1), 0);
    T_EQ_INT(auth_session_lookup(s, a, T0 + 2, &sess), OC_EAUTH);
    T_EQ_INT(auth_session_revoke(s, a, T0 + 3), OC_ENOTFOUND);
    T_EQ_INT(auth_session_revoke(s, "zz", T0 + 3), OC_ENOTFOUND);
    /* revoking the token ends its other sessions, cached or not, and no one else's */
    T_EQ_INT(auth_session_lookup(s, b, T0, &sess), 0);
    T_EQ_INT(auth_token_revoke(s, id, T0 + 10), 0);
    T_EQ_INT(auth_session_lookup(s, b, T0 + 11, &sess), OC_EAUTH);
    T_EQ_INT(auth_session_lookup(s, c, T0 + 11, &sess), 0);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM sessions WHERE revoked_ms IS NOT NULL"), 2);
    /* a session whose token was revoked by another process (the CLI: no session update) is
     * refused by the join once the cache lets go */
    T_EQ_INT(store_exec(s, "UPDATE tokens SET revoked_ms = 1 WHERE name = 'eve'"), 0);
    auth_cache_clear();
    T_EQ_INT(auth_session_lookup(s, c, T0 + 12, &sess), OC_EAUTH);
out:
    close_tmp(s);
}

static void test_session_hashed(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], v[AUTH_SESSION_LEN + 1];
    unsigned char want[crypto_hash_sha256_BYTES];
    struct store_stmt *st;
    size_t n = 0;
    if (!s)
        goto out;
    int64_t id = token_for(s, "carol", HTTP_ADMIN, tok);
    T_EQ_INT(auth_session_create(s, id, HTTP_ADMIN, "carol", T0, 60000, v), 0);
    crypto_hash_sha256(want, (const unsigned char *)v, strlen(v));
    T_EQ_INT(store_prepare(s,
                           "SELECT hash, token_id, role, name, created_ms, expires_ms"
                           " FROM sessions",
                           &st),
             0);
    T_EQ_INT(store_step(st), STORE_ROW);
    const void *h = store_col_blob(st, 0, &n);
    T_EQ_INT(n, sizeof want);
    T_TRUE(h && memcmp(h, want, sizeof want) == 0);
    T_EQ_INT(store_col_int(st, 1), id);
    T_EQ_STR(store_col_text(st, 2), "admin");
    T_EQ_STR(store_col_text(st, 3), "carol");
    T_EQ_INT(store_col_int(st, 4), T0);
    T_EQ_INT(store_col_int(st, 5), T0 + 60000);
    store_reset(st);
out:
    close_tmp(s);
}

static void test_session_cap_list_purge(void)
{
    struct store *s = open_tmp();
    char tok[AUTH_TOKEN_LEN + 1], first[AUTH_SESSION_LEN + 1], v[AUTH_SESSION_LEN + 1];
    struct auth_session sess;
    json_t *arr = NULL;
    if (!s)
        goto out;
    int64_t id = token_for(s, "dave", HTTP_VIEWER, tok);
    T_EQ_INT(auth_session_create(s, id, HTTP_VIEWER, "dave", T0, 60000, first), 0);
    for (int i = 1; i <= AUTH_SESSIONS_PER_TOKEN; i++)
        T_EQ_INT(auth_session_create(s, id, HTTP_VIEWER, "dave", T0 + i, 60000, v), 0);
    /* one past the cap: the oldest was ended */
    T_EQ_INT(auth_session_lookup(s, first, T0 + 100, &sess), OC_EAUTH);
    T_EQ_INT(auth_session_lookup(s, v, T0 + 100, &sess), 0);
    T_EQ_INT(auth_session_list(s, T0 + 100, &arr), 0);
    T_EQ_INT(json_array_size(arr), AUTH_SESSIONS_PER_TOKEN);
    json_t *e = json_array_get(arr, 0);
    T_EQ_INT(strlen(json_string_value(json_object_get(e, "id"))), 8);
    T_EQ_STR(json_string_value(json_object_get(e, "name")), "dave");
    T_EQ_STR(json_string_value(json_object_get(e, "role")), "viewer");
    T_EQ_INT(json_integer_value(json_object_get(e, "created_ms")), T0 + 1);
    T_EQ_INT(json_integer_value(json_object_get(e, "expires_ms")), T0 + 60001);
    char *text = json_dumps(arr, 0);
    T_TRUE(text && !strstr(text, v)); /* never the cookie */
    free(text);
    json_decref(arr);
    /* expired sessions are not listed */
    T_EQ_INT(auth_session_list(s, T0 + 60001, &arr), 0);
    T_EQ_INT(json_array_size(arr), AUTH_SESSIONS_PER_TOKEN - 1);
    json_decref(arr);
    arr = NULL;
    /* a day after they ended, the next sign-in forgets them all */
    T_EQ_INT(query_int(s, "SELECT count(*) FROM sessions"), AUTH_SESSIONS_PER_TOKEN + 1);
    int64_t later = T0 + 60000 + AUTH_SESSION_KEEP_MS + AUTH_SESSIONS_PER_TOKEN;
    T_EQ_INT(auth_session_create(s, id, HTTP_VIEWER, "dave", later, 60000, v), 0);
    T_EQ_INT(query_int(s, "SELECT count(*) FROM sessions"), 1);
out:
    json_decref(arr);
    close_tmp(s);
}

static const struct t_case cases[] = {
    T_CASE(test_create_and_lookup),
    T_CASE(test_token_format),
    T_CASE(test_wrong_token),
    T_CASE(test_revoke),
    T_CASE(test_duplicate_name),
    T_CASE(test_bad_names_and_roles),
    T_CASE(test_no_plaintext_in_db),
    T_CASE(test_token_list),
    T_CASE(test_audit_append_only),
    T_CASE(test_cache_past_cap),
    T_CASE(test_concurrent_lookups),
    T_CASE(test_module_init),
    T_CASE(test_session_lifetime),
    T_CASE(test_session_revoke),
    T_CASE(test_session_hashed),
    T_CASE(test_session_cap_list_purge),
    {0},
};

T_MAIN(cases)
