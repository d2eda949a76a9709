/*
 * module.c - the auth module: the http authentication and audit hooks, and the admin routes
 * /v1/tokens and /v1/audit.
 *
 * The hooks are installed on the server at init, so every route of every module is
 * authenticated by token lookup (cached, see token.c) and every mutating request leaves one
 * audit row stamped with the injected clock.
 */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/module.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_DEFAULT_LIMIT 100  /* GET /v1/audit without limit */
#define AUDIT_MAX_LIMIT     1000 /* largest limit accepted (larger values are clamped) */
#define TOKENS_MAX_BODY     4096 /* POST /v1/tokens body cap */
#define ACTION_MAX          512  /* "METHOD /path" bytes kept in an audit row */

/* authenticate hook: token -> role and name copied into the request arena. */
static int hook_authenticate(void *arg, const char *token, struct oc_arena *arena,
                             enum http_role *role, const char **name)
{
    struct oc_app *app = arg;
    char buf[AUTH_NAME_MAX + 1];
    if (auth_token_lookup(app->store, token, role, buf, sizeof buf) != 0)
        return OC_EAUTH;
    *name = oc_arena_strdup(arena, buf);
    return *name ? 0 : OC_ETOOBIG;
}

/* audit hook: one row for each mutating request, after it was answered. */
static void hook_audit(void *arg, const struct http_req *req)
{
    struct oc_app *app = arg;
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

static const struct http_route auth_routes[] = {
    {"GET", "/v1/tokens", tokens_list, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "list API tokens (id, name, role, created_ms, revoked_ms; never the secret)"},
    {"POST", "/v1/tokens", tokens_create, HTTP_ADMIN, TOKENS_MAX_BODY,
     "create a token from {\"name\", \"role\"}; 201 returns it once"},
    {"DELETE", "/v1/tokens/{id}", tokens_revoke, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "revoke a token (204, or 404)"},
    {"GET", "/v1/audit", audit_list, HTTP_ADMIN, HTTP_DEFAULT_BODY,
     "the audit log, newest first (?limit=N up to 1000, ?before=ID to page)"},
    {0},
};

/* Module init: needs the store; installs the hooks when a server runs. */
static int auth_init(struct oc_app *app, void **state)
{
    *state = app;
    if (!app->store) {
        oc_log(OC_LOG_ERROR, "auth: the module needs the store");
        return OC_EINVAL;
    }
    if (app->http) {
        struct http_hooks hooks = {hook_authenticate, hook_audit, app};
        http_server_set_hooks(app->http, &hooks);
    }
    return 0;
}

/* Module stop: forgets cached tokens. */
static void auth_stop(struct oc_app *app, void *state)
{
    (void)app;
    (void)state;
    auth_cache_clear();
}

const struct oc_module auth_module = {
    .name = "auth",
    .summary = "API tokens with roles, authentication of every request, the audit log",
    .init = auth_init,
    .routes = auth_routes,
    .timers = NULL,
    .stop = auth_stop,
};
