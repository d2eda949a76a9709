/*
 * module.c - the auth module: the http authentication hooks (token and session cookie), the
 * audit hook, the admin routes /v1/tokens, /v1/ingest-keys and /v1/audit, and the browser
 * session routes /v1/session (sign in, who am I, sign out) and /v1/sessions.
 *
 * The hooks are installed on the server at init, so every route of every module is
 * authenticated by token or session lookup (cached, see cache.c) and every mutating request
 * leaves one audit row stamped with the injected clock. The session cookie's attributes and
 * lifetime come from the settings auth.session_ttl_s and auth.cookie_secure.
 */
#include "auth/auth.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/module.h"
#include "config/config.h"
#include "store/store.h"

#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_DEFAULT_LIMIT 100  /* GET /v1/audit without limit */
#define AUDIT_MAX_LIMIT     1000 /* largest limit accepted (larger values are clamped) */
#define TOKENS_MAX_BODY     4096 /* POST /v1/tokens body cap */
#define SESSION_MAX_BODY    4096 /* POST /v1/session body cap */
#define ACTION_MAX          512  /* "METHOD /path" bytes kept in an audit row */

/* The module's settings. */
struct auth_opts {
    int64_t session_ttl_s; /* auth.session_ttl_s */
    char *cookie_secure;   /* auth.cookie_secure: auto, always, never */
};

/* The module's state, the hooks' argument. */
struct auth_state {
    struct oc_app *app;    /* shared services */
    int64_t session_ttl_s; /* a session's lifetime */
    char secure;           /* 'a'uto, 'y' always, 'n' never: the cookie's Secure attribute */
};

/* authenticate hook: token -> role and name copied into the request arena. */
static int hook_authenticate(void *arg, const char *token, struct oc_arena *arena,
                             enum http_role *role, const char **name)
{
    struct auth_state *st = arg;
    char buf[AUTH_NAME_MAX + 1];
    if (auth_token_lookup(st->app->store, token, role, buf, sizeof buf) != 0)
        return OC_EAUTH;
    *name = oc_arena_strdup(arena, buf);
    return *name ? 0 : OC_ETOOBIG;
}

/* authenticate_key hook: a public ingest key, checked against its origins and limits. */
static int hook_key(void *arg, const char *key, const char *origin, const char *client,
                    struct oc_arena *arena, const char **name, int *retry_s, char *why, size_t whyn)
{
    struct auth_state *st = arg;
    char buf[AUTH_NAME_MAX + 8];
    memcpy(buf, "key:", 4);
    int rc = auth_key_check(st->app->store, key, origin, client, buf + 4, sizeof buf - 4, retry_s,
                            why, whyn);
    if (rc)
        return rc;
    *name = oc_arena_strdup(arena, buf);
    return *name ? 0 : OC_ETOOBIG;
}

/* The time sessions live by. A session is a person's sign-in, so it ages in real time: on a
 * replay clock (event time, which starts at 0 and jumps to the replayed day) the wall clock;
 * otherwise the app's clock, so tests and drills on a virtual clock stay deterministic. */
static int64_t session_now_ms(struct oc_app *app)
{
    return app->clock->kind == OC_CLOCK_REPLAY ? oc_wall_ms() : oc_clock_now_ms(app->clock);
}

/* authenticate_session hook: cookie value -> role and name copied into the request arena. */
static int hook_session(void *arg, const char *value, struct oc_arena *arena, enum http_role *role,
                        const char **name)
{
    struct auth_state *st = arg;
    struct auth_session sess;
    int rc = auth_session_lookup(st->app->store, value, session_now_ms(st->app), &sess);
    if (rc)
        return rc;
    *role = sess.role;
    *name = oc_arena_strdup(arena, sess.name);
    return *name ? 0 : OC_ETOOBIG;
}

/* audit hook: one row for each mutating request, after it was answered. */
static void hook_audit(void *arg, const struct http_req *req)
{
    struct oc_app *app = ((struct auth_state *)arg)->app;
    char action[ACTION_MAX];
    if (!app->store || strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        return;
    snprintf(action, sizeof action, "%s %s", req->method, req->path);
    if (auth_audit_append(app->store, oc_clock_now_ms(app->clock),
                          req->principal ? req->principal : "anonymous", action,
                          req->nparams > 0 ? req->param_values[0] : NULL, req->status, NULL) != 0)
        oc_log(OC_LOG_ERROR, "audit: cannot record %s: %s", action, store_errmsg(app->store));
}

/* GET /v1/tokens */
static void tokens_list(struct http_req *req)
{
    json_t *arr;
    int rc = auth_token_list(req->app->store, &arr);
    if (rc) {
        http_reply_err(req, rc, "cannot list tokens");
        return;
    }
    http_reply_json(req, 200, json_pack("{s:o}", "tokens", arr));
}

/* Reads and checks the POST /v1/tokens body; answers 422 itself and returns -1 if bad. */
static int create_args(struct http_req *req, const json_t *body, const char **name,
                       enum http_role *role)
{
    static const char *const allowed[] = {"name", "role", NULL};
    const char *unknown = oc_json_unknown_key(body, allowed), *r;
    if (unknown) {
        http_problem(req, 422, "%s: unknown field (allowed: name, role)", unknown);
        return -1;
    }
    if (oc_json_get_str(body, "name", name) != 0 || !auth_name_valid(*name)) {
        http_problem(req, 422, "name: required, 1 to %d characters of A-Z a-z 0-9 . _ -",
                     AUTH_NAME_MAX);
        return -1;
    }
    if (oc_json_get_str(body, "role", &r) != 0 || http_role_parse(r, role) != 0) {
        http_problem(req, 422, "role: required, one of viewer, responder, admin, ingest");
        return -1;
    }
    return 0;
}

/* POST /v1/tokens {"name", "role"} -> 201 {"id", "name", "role", "token"} */
static void tokens_create(struct http_req *req)
{
    char token[AUTH_TOKEN_LEN + 1];
    const char *name;
    enum http_role role;
    int64_t id = 0;
    int rc;
    json_t *body = http_body_json(req);
    if (!body || create_args(req, body, &name, &role) != 0)
        goto out;
    rc = auth_token_create(req->app->store, name, role, oc_clock_now_ms(req->app->clock), token,
                           &id);
    if (rc == OC_ECONFLICT) {
        http_problem(req, 409, "name: a token named '%s' exists already", name);
    } else if (rc) {
        http_reply_err(req, rc, "cannot create the token");
    } else {
        http_set_header(req, "Cache-Control", "no-store");
        http_reply_json(req, 201,
                        json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "name", name,
                                  "role", http_role_name(role), "token", token));
    }
out:
    json_decref(body);
}

/* Parses a positive decimal id; 0 or OC_EINVAL. */
static int parse_id(const char *s, int64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return OC_EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return OC_EINVAL;
    *out = v;
    return 0;
}

/* DELETE /v1/tokens/{id} -> 204, or 404 */
static void tokens_revoke(struct http_req *req)
{
    const char *p = http_param(req, "id");
    int64_t id;
    int rc = parse_id(p, &id);
    if (rc == 0)
        rc = auth_token_revoke(req->app->store, id, oc_clock_now_ms(req->app->clock));
    if (rc == OC_EINVAL || rc == OC_ENOTFOUND)
        http_problem(req, 404, "no token with id '%s'", p ? p : "");
    else if (rc)
        http_reply_err(req, rc, "cannot revoke the token");
    else
        http_reply(req, 204, NULL, NULL, 0);
}

/* Reads an optional positive integer query parameter; 0 (absent keeps *out), or -1. */
static int query_int(struct http_req *req, const char *name, int64_t *out)
{
    const char *v = http_query(req, name);
    return v && parse_id(v, out) != 0 ? -1 : 0;
}

/* GET /v1/audit?limit=N&before=ID -> {"entries": [...], "next_before": ID or null} */
static void audit_list(struct http_req *req)
{
    int64_t limit = AUDIT_DEFAULT_LIMIT, before = 0;
    json_t *arr, *last;
    if (query_int(req, "limit", &limit) != 0) {
        http_problem(req, 422, "limit: a positive integer (at most %d)", AUDIT_MAX_LIMIT);
        return;
    }
    if (query_int(req, "before", &before) != 0) {
        http_problem(req, 422, "before: a positive audit id");
        return;
    }
    if (limit > AUDIT_MAX_LIMIT)
        limit = AUDIT_MAX_LIMIT;
    int rc = auth_audit_list(req->app->store, before, (int)limit, &arr);
    if (rc) {
        http_reply_err(req, rc, "cannot list the audit log");
        return;
    }
    last = json_array_size(arr) == (size_t)limit ? json_array_get(arr, json_array_size(arr) - 1)
                                                 : NULL;
    http_reply_json(req, 200,
                    json_pack("{s:o, s:O}", "entries", arr, "next_before",
                              last ? json_object_get(last, "id") : json_null()));
}

/* GET /v1/ingest-keys */
static void keys_list(struct http_req *req)
{
    json_t *arr;
    int rc = auth_key_list(req->app->store, &arr);
    if (rc) {
        http_reply_err(req, rc, "cannot list the public ingest keys");
        return;
    }
    http_reply_json(req, 200, json_pack("{s:o}", "keys", arr));
}

/* Reads the "origins" member (an array of 1..AUTH_KEY_ORIGINS_N origins) into out; answers
 * 422 itself and returns -1 when bad. */
static int key_origins(struct http_req *req, const json_t *body, char *out, size_t outn)
{
    const char *list[AUTH_KEY_ORIGINS_N];
    json_t *a = json_object_get(body, "origins"), *v;
    size_t i;
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > AUTH_KEY_ORIGINS_N) {
        http_problem(req, 422,
                     "origins: required, an array of 1 to %d origins (\"https://www.example.com\","
                     " or \"*\" for any page)",
                     AUTH_KEY_ORIGINS_N);
        return -1;
    }
    json_array_foreach(a, i, v)
    {
        list[i] = json_string_value(v);
        if (!list[i] || !auth_origin_valid(list[i])) {
            http_problem(req, 422,
                         "origins[%zu]: not an origin (scheme://host[:port] with no path, at most "
                         "%d characters, or \"*\")",
                         i, AUTH_ORIGIN_MAX);
            return -1;
        }
    }
    if (auth_key_origins_join(list, (int)json_array_size(a), out, outn) != 0) {
        http_problem(req, 422, "origins: longer than %d bytes in all", AUTH_KEY_ORIGINS_MAX - 1);
        return -1;
    }
    return 0;
}

/* POST /v1/ingest-keys {"name", "origins", "rate_per_s", "client_per_min"} -> 201 the key */
static void keys_create(struct http_req *req)
{
    static const char *const allowed[] = {"name", "origins", "rate_per_s", "client_per_min", NULL};
    char origins[AUTH_KEY_ORIGINS_MAX], key[AUTH_KEY_LEN + 1], err[256];
    const char *name, *unknown;
    int64_t rate = AUTH_KEY_RATE_DEFAULT, client = AUTH_KEY_CLIENT_RATE_DEFAULT, id = 0;
    json_t *body = http_body_json(req), *created;
    if (!body)
        return;
    if ((unknown = oc_json_unknown_key(body, allowed)) != NULL) {
        http_problem(req, 422,
                     "%s: unknown field (allowed: name, origins, rate_per_s, client_per_min)",
                     unknown);
    } else if (oc_json_get_str(body, "name", &name) != 0 || !auth_name_valid(name)) {
        http_problem(req, 422, "name: required, 1 to %d characters of A-Z a-z 0-9 . _ -",
                     AUTH_NAME_MAX);
    } else if (key_origins(req, body, origins, sizeof origins) != 0) {
        /* answered */
    } else if (oc_json_get_int_range(body, NULL, "rate_per_s", 1, AUTH_KEY_RATE_MAX, &rate, err,
                                     sizeof err) == OC_EINVAL ||
               oc_json_get_int_range(body, NULL, "client_per_min", 1, AUTH_KEY_RATE_MAX, &client,
                                     err, sizeof err) == OC_EINVAL) {
        http_problem(req, 422, "%s", err);
    } else {
        int rc = auth_key_create(req->app->store, name, origins, rate, client,
                                 oc_clock_now_ms(req->app->clock), key, &id);
        if (rc == OC_ECONFLICT) {
            http_problem(req, 409, "name: a key named '%s' exists already", name);
        } else if (rc) {
            http_reply_err(req, rc, "cannot create the key");
        } else {
            created =
                json_pack("{s:I, s:s, s:s, s:O, s:I, s:I}", "id", (json_int_t)id, "name", name,
                          "key", key, "origins", json_object_get(body, "origins"), "rate_per_s",
                          (json_int_t)rate, "client_per_min", (json_int_t)client);
            http_reply_json(req, 201, created);
        }
    }
    json_decref(body);
}

/* DELETE /v1/ingest-keys/{id} -> 204, or 404 */
static void keys_revoke(struct http_req *req)
{
    const char *p = http_param(req, "id");
    int64_t id;
    int rc = parse_id(p, &id);
    if (rc == 0)
        rc = auth_key_revoke(req->app->store, id, oc_clock_now_ms(req->app->clock));
    if (rc == OC_EINVAL || rc == OC_ENOTFOUND)
        http_problem(req, 404, "no public ingest key with id '%s'", p ? p : "");
    else if (rc)
        http_reply_err(req, rc, "cannot revoke the key");
    else
        http_reply(req, 204, NULL, NULL, 0);
}

/* 1 when the session cookie gets the Secure attribute for req. */
static int cookie_secure(const struct auth_state *st, const struct http_req *req)
{
    return st->secure == 'y' || (st->secure == 'a' && http_forwarded_https(req));
}

/* Sets the session cookie: value for max_age_s seconds, or "" with Max-Age=0 to clear it. */
static void set_cookie(struct http_req *req, const char *value, int64_t max_age_s)
{
    char c[256];
    snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
             HTTP_SESSION_COOKIE, value, (long long)max_age_s,
             cookie_secure(req->state, req) ? "; Secure" : "");
    http_set_header(req, "Set-Cookie", c);
    http_set_header(req, "Cache-Control", "no-store");
    sodium_memzero(c, sizeof c);
}

/* Reads the token of a POST /v1/session body and checks it as Bearer auth would; answers
 * 400/401/403/422 itself and returns -1 when it cannot open a session. */
static int session_token(struct http_req *req, enum http_role *role, char *name, size_t n,
                         int64_t *id)
{
    static const char *const allowed[] = {"token", NULL};
    json_t *body = http_body_json(req), *t;
    const char *unknown;
    int rc = -1;
    if (!body)
        return -1;
    t = json_object_get(body, "token");
    if ((unknown = oc_json_unknown_key(body, allowed)) != NULL) {
        http_problem(req, 422, "%s: unknown field (allowed: token)", unknown);
    } else if (t && !json_is_string(t)) {
        http_problem(req, 422, "token: must be a string (an API token)");
    } else if (!t) {
        http_problem(req, 401, "token: required (an API token, from oncue token create)");
    } else if (auth_token_find(req->app->store, json_string_value(t), role, name, n, id) != 0) {
        http_problem(req, 401, "token: unknown or revoked");
    } else if (*role == HTTP_INGEST) {
        http_problem(req, 403,
                     "token: an ingest token cannot open a session; sessions are for "
                     "people (use a viewer, responder or admin token)");
    } else {
        rc = 0;
    }
    json_decref(body);
    return rc;
}

/* POST /v1/session {"token"} -> 201 {"name", "role", "expires_ms"} and the session cookie */
static void session_open(struct http_req *req)
{
    struct auth_state *st = req->state;
    char why[512], name[AUTH_NAME_MAX + 1], value[AUTH_SESSION_LEN + 1];
    enum http_role role;
    int64_t id, now = session_now_ms(req->app), ttl_ms = st->session_ttl_s * 1000;
    /* login forgery: a page of another site must not sign the browser in */
    if (http_header(req, "Origin") && http_same_origin(req, why, sizeof why) != 0) {
        http_problem(req, 403, "cross-site request refused: %s", why);
        return;
    }
    if (session_token(req, &role, name, sizeof name, &id) != 0)
        return;
    req->principal = oc_arena_strdup(&req->arena, name);
    if (!req->principal)
        req->principal = "anonymous";
    int rc = auth_session_create(req->app->store, id, role, name, now, ttl_ms, value);
    if (rc) {
        http_reply_err(req, rc, "cannot open the session");
        return;
    }
    set_cookie(req, value, st->session_ttl_s);
    sodium_memzero(value, sizeof value);
    http_reply_json(req, 201,
                    json_pack("{s:s, s:s, s:I, s:I}", "name", name, "role", http_role_name(role),
                              "expires_ms", (json_int_t)(now + ttl_ms), "now_ms",
                              (json_int_t)oc_clock_now_ms(req->app->clock)));
}

/* GET /v1/session -> {"name", "role", "expires_ms" (null for a token), "via", "now_ms"}; now_ms
 * is the server's clock (event time on a replay clock), which the console's "now" follows. */
static void session_get(struct http_req *req)
{
    struct auth_session sess;
    http_set_header(req, "Cache-Control", "no-store");
    if (!req->session) {
        http_reply_json(req, 200,
                        json_pack("{s:s, s:s, s:n, s:s, s:I}", "name", req->principal, "role",
                                  http_role_name(req->role), "expires_ms", "via", "token", "now_ms",
                                  (json_int_t)oc_clock_now_ms(req->app->clock)));
        return;
    }
    int rc = auth_session_lookup(req->app->store, req->session, session_now_ms(req->app), &sess);
    if (rc) {
        http_problem(req, 401, "the session has ended; sign in again");
        return;
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:s, s:I, s:s, s:I}", "name", sess.name, "role",
                              http_role_name(sess.role), "expires_ms", (json_int_t)sess.expires_ms,
                              "via", "cookie", "now_ms",
                              (json_int_t)oc_clock_now_ms(req->app->clock)));
}

/* DELETE /v1/session -> 204 and an expired cookie */
static void session_close(struct http_req *req)
{
    if (!req->session) {
        http_problem(req, 409,
                     "this request was authenticated by a token, not a session: there "
                     "is nothing to sign out (tokens are revoked with DELETE "
                     "/v1/tokens/{id})");
        return;
    }
    int rc = auth_session_revoke(req->app->store, req->session, session_now_ms(req->app));
    if (rc && rc != OC_ENOTFOUND) {
        http_reply_err(req, rc, "cannot end the session");
        return;
    }
    set_cookie(req, "", 0);
    http_reply(req, 204, NULL, NULL, 0);
}

/* GET /v1/sessions -> {"sessions": [...]} */
static void sessions_list(struct http_req *req)
{
    json_t *arr;
    int rc = auth_session_list(req->app->store, session_now_ms(req->app), &arr);
    if (rc) {
        http_reply_err(req, rc, "cannot list sessions");
        return;
    }
    http_reply_json(req, 200, json_pack("{s:o}", "sessions", arr));
}

static const struct http_route auth_routes[] = {
    {"GET", "/v1/tokens", tokens_list, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "list API tokens (id, name, role, created_ms, revoked_ms; never the secret)"},
    {"POST", "/v1/tokens", tokens_create, HTTP_ADMIN, TOKENS_MAX_BODY,
     "create a token from {\"name\", \"role\"}; 201 returns it once"},
    {"DELETE", "/v1/tokens/{id}", tokens_revoke, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "revoke a token (204, or 404)"},
    {"GET", "/v1/ingest-keys", keys_list, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "list public ingest keys (id, name, key, origins, rate_per_s, client_per_min, created_ms,"
     " revoked_ms)"},
    {"POST", "/v1/ingest-keys", keys_create, HTTP_ADMIN, TOKENS_MAX_BODY,
     "create a public ingest key from {\"name\", \"origins\", \"rate_per_s\","
     " \"client_per_min\"}: 201 with the key"},
    {"DELETE", "/v1/ingest-keys/{id}", keys_revoke, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "revoke a public ingest key (204, or 404); requests with it get 401 within 5 s"},
    {"GET", "/v1/audit", audit_list, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "the audit log, newest first (?limit=N up to 1000, ?before=ID to page)"},
    {"POST", "/v1/session", session_open, HTTP_PUBLIC, SESSION_MAX_BODY,
     "sign a browser in with {\"token\"}: 201 {name, role, expires_ms} and the HttpOnly session"
     " cookie"},
    {"GET", "/v1/session", session_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "who the caller is: {name, role, expires_ms (null for a token), via: cookie or token}"},
    {"DELETE", "/v1/session", session_close, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "sign out: ends the cookie's session (204) and clears the cookie"},
    {"GET", "/v1/sessions", sessions_list, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "live browser sessions (id: first 8 hex of the stored hash, name, role, created_ms,"
     " expires_ms; never the cookie)"},
    {0},
};

#define F(field) offsetof(struct auth_opts, field)

static const char *const secure_choices[] = {"auto", "always", "never", NULL};

static const struct oc_setting settings[] = {
    {"auth.session_ttl_s", OC_SETTING_INT, "43200", 60, 2592000, NULL, F(session_ttl_s), NULL,
     "lifetime in seconds of a browser session (POST /v1/session), also the cookie's Max-Age"},
    {"auth.cookie_secure", OC_SETTING_ENUM, "auto", 0, 0, secure_choices, F(cookie_secure), NULL,
     "Secure attribute of the session cookie: auto (when X-Forwarded-Proto is https), always,"
     " never"},
    {0},
};

#undef F

/* Module init: needs the store; installs the hooks when a server runs. */
static int auth_init(struct oc_app *app, void **state)
{
    struct auth_opts def;
    *state = NULL;
    if (!app->store) {
        oc_log(OC_LOG_ERROR, "auth: the module needs the store");
        return OC_EINVAL;
    }
    const struct auth_opts *o = config_module_opts(app->cfg, &auth_module, &def);
    struct auth_state *st = oc_calloc(1, sizeof *st);
    st->app = app;
    st->session_ttl_s = o->session_ttl_s;
    st->secure = !o->cookie_secure || strcmp(o->cookie_secure, "auto") == 0 ? 'a'
                 : strcmp(o->cookie_secure, "always") == 0                  ? 'y'
                                                                            : 'n';
    if (app->http) {
        struct http_hooks hooks = {
            .authenticate = hook_authenticate,
            .audit = hook_audit,
            .arg = st,
            .authenticate_session = hook_session,
            .authenticate_key = hook_key,
        };
        http_server_set_hooks(app->http, &hooks);
    }
    *state = st;
    return 0;
}

/* Module stop: forgets cached tokens and sessions. */
static void auth_stop(struct oc_app *app, void *state)
{
    (void)app;
    free(state);
    auth_cache_clear();
}

const struct oc_module auth_module = {
    .name = "auth",
    .summary = "API tokens with roles, browser sessions, authentication of every request, the"
               " audit log",
    .init = auth_init,
    .routes = auth_routes,
    .timers = NULL,
    .stop = auth_stop,
    .settings = settings,
    .opts_size = sizeof(struct auth_opts),
};
