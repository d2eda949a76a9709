/*
 * test_http.c - the HTTP server in-process on 127.0.0.1 port 0: routing and parameters,
 * 404/405/413 problem+json, roles (401/403) through injected hooks, the audit hook, CORS
 * preflight, a handler that forgets to answer, and a graceful stop that lets an in-flight
 * request finish.
 */
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/module.h"
#include "http/http.h"
#include "t.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static char base[128];
static char last_audit[256];

static void echo(struct http_req *req)
{
    const char *q = http_query(req, "q");
    http_reply_json(req, 200,
                    json_pack("{s:s, s:s, s:s?, s:s}", "a", http_param(req, "a"), "b",
                              http_param(req, "b"), "q", q, "who", req->principal));
}

static void small(struct http_req *req)
{
    http_reply_json(req, 200, json_pack("{s:i}", "len", (int)req->body_len));
}

static void ok(struct http_req *req)
{
    http_reply(req, 200, "text/plain", "ok", 2);
}

static void noreply(struct http_req *req)
{
    (void)req;
}

static void failing(struct http_req *req)
{
    http_reply_err(req, OC_ECONFLICT, "name %s is taken", "x");
}

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_entered, gate_open;

static void gated(struct http_req *req)
{
    pthread_mutex_lock(&gate_lock);
    gate_entered = 1;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    http_reply(req, 200, "text/plain", "finished", 8);
}

static const struct http_route routes[] = {
    {"GET", "/t/echo/{a}/{b}", echo, HTTP_PUBLIC, 0, "echo"},
    {"POST", "/t/small", small, HTTP_PUBLIC, 100, "small body"},
    {"GET", "/t/admin", ok, HTTP_ADMIN, 0, "admin only"},
    {"GET", "/t/viewer", ok, HTTP_VIEWER, 0, "viewer"},
    {"POST", "/t/ingest", ok, HTTP_INGEST, 0, "ingest"},
    {"POST", "/t/act", failing, HTTP_RESPONDER, 0, "responder"},
    {"GET", "/t/noreply", noreply, HTTP_PUBLIC, 0, "bug"},
    {"GET", "/t/gated", gated, HTTP_PUBLIC, 0, "waits for the test"},
    {0},
};

static int authenticate(void *arg, const char *token, struct oc_arena *arena, enum http_role *role,
                        const char **name)
{
    (void)arg;
    static const struct {
        const char *tok;
        enum http_role role;
    } known[] = {{"admin-tok", HTTP_ADMIN},
                 {"viewer-tok", HTTP_VIEWER},
                 {"resp-tok", HTTP_RESPONDER},
                 {"ingest-tok", HTTP_INGEST}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(token, known[i].tok) == 0) {
            *role = known[i].role;
            *name = oc_arena_strdup(arena, token);
            return 0;
        }
    }
    return OC_EAUTH;
}

static void audit(void *arg, const struct http_req *req)
{
    (void)arg;
    snprintf(last_audit, sizeof(last_audit), "%s %s %s %d", req->principal, req->method, req->path,
             req->status);
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    oc_buf_append(arg, p, size * n);
    return size * n;
}

/* Performs one request; returns the status and leaves the body in *out. */
static long call(const char *method, const char *path, const char *token, const char *body,
                 struct oc_buf *out)
{
    CURL *c = curl_easy_init();
    char url[512], auth[128];
    snprintf(url, sizeof(url), "%s%s", base, path);
    struct curl_slist *h = NULL;
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    oc_buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static struct http_server *start(struct oc_app *app, int workers)
{
    struct http_server_opts o = {.listen = "127.0.0.1:0", .workers = workers, .max_body = 4096};
    struct http_server *srv = http_server_new(&o, app);
    T_EQ_INT(http_server_add_routes(srv, routes, NULL), 0);
    struct http_hooks hooks = {authenticate, audit, NULL};
    http_server_set_hooks(srv, &hooks);
    char err[256] = "";
    T_EQ_INT(http_server_start(srv, err, sizeof(err)), 0);
    snprintf(base, sizeof(base), "http://%s", http_server_addr(srv));
    return srv;
}

static void test_routing_and_errors(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 2);
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    T_EQ_INT(call("GET", "/t/echo/x%20y/2?q=hello%26more", NULL, NULL, &b), 200);
    T_EQ_STR(b.data, "{\"a\":\"x y\",\"b\":\"2\",\"q\":\"hello&more\",\"who\":\"anonymous\"}\n");
    T_EQ_INT(call("GET", "/t/echo/x", NULL, NULL, &b), 404);
    T_CONTAINS(b.data, "\"status\":404");
    T_CONTAINS(b.data, "no route matches GET /t/echo/x");
    T_EQ_INT(call("DELETE", "/t/echo/1/2", NULL, NULL, &b), 405);
    T_CONTAINS(b.data, "allowed: GET");
    T_EQ_INT(call("OPTIONS", "/t/ingest", NULL, NULL, &b), 204);
    T_EQ_INT(call("POST", "/t/small", NULL, "0123456789", &b), 200);
    T_EQ_STR(b.data, "{\"len\":10}\n");
    char big[201];
    memset(big, 'x', 200);
    big[200] = '\0';
    T_EQ_INT(call("POST", "/t/small", NULL, big, &b), 413);
    T_CONTAINS(b.data, "the body is 200 bytes; POST /t/small accepts at most 100");
    T_EQ_INT(call("GET", "/t/noreply", NULL, NULL, &b), 500);
    T_CONTAINS(b.data, "did not answer");
    T_EQ_INT(call("POST", "/t/act", "resp-tok", "{}", &b), 409);
    T_CONTAINS(b.data, "name x is taken");
    T_EQ_STR(last_audit, "resp-tok POST /t/act 409");
    http_server_stop(srv, 1000);
    T_EQ_INT(http_server_requests(srv), 8);
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

static void test_roles(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 2);
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    last_audit[0] = '\0';
    T_EQ_INT(call("POST", "/t/act", "viewer-tok", "{}", &b), 403);
    T_EQ_STR(last_audit, "viewer-tok POST /t/act 403"); /* refused actions are audited */
    last_audit[0] = '\0';
    T_EQ_INT(call("GET", "/t/admin", NULL, NULL, &b), 401);
    T_EQ_INT(call("GET", "/t/admin", "bogus", NULL, &b), 401);
    T_CONTAINS(b.data, "unknown or revoked");
    T_EQ_INT(call("GET", "/t/admin", "viewer-tok", NULL, &b), 403);
    T_CONTAINS(b.data, "needs the admin role; the token has viewer");
    T_EQ_INT(call("GET", "/t/admin", "admin-tok", NULL, &b), 200);
    T_EQ_INT(call("GET", "/t/viewer", "resp-tok", NULL, &b), 200);
    T_EQ_INT(call("GET", "/t/viewer", "ingest-tok", NULL, &b), 403);
    T_EQ_INT(call("POST", "/t/ingest", "viewer-tok", "", &b), 403);
    T_EQ_INT(call("POST", "/t/ingest", "ingest-tok", "", &b), 200);
    T_EQ_INT(call("POST", "/t/ingest", "admin-tok", "", &b), 200);
    T_EQ_STR(last_audit, ""); /* telemetry posts are not audited */
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

static void test_role_table(void)
{
    T_EQ_INT(http_role_allows(HTTP_RESPONDER, HTTP_VIEWER), 1);
    T_EQ_INT(http_role_allows(HTTP_VIEWER, HTTP_RESPONDER), 0);
    T_EQ_INT(http_role_allows(HTTP_INGEST, HTTP_VIEWER), 0);
    T_EQ_INT(http_role_allows(HTTP_ADMIN, HTTP_INGEST), 1);
    enum http_role r;
    T_EQ_INT(http_role_parse("responder", &r), 0);
    T_EQ_INT(r, HTTP_RESPONDER);
    T_EQ_INT(http_role_parse("root", &r), OC_EINVAL);
    T_EQ_INT(http_status_for(OC_ETOOBIG), 413);
    T_EQ_INT(http_status_for(OC_EINVAL), 422);
    T_EQ_INT(http_status_for(OC_EMALFORMED), 400);
    T_EQ_INT(http_status_for(OC_EBUSY), 503);
    T_EQ_INT(http_status_for(OC_EDB), 500);
    T_EQ_STR(http_reason(422), "Unprocessable Content");
}

struct inflight {
    long status;
    struct oc_buf body;
};

static void *inflight_call(void *arg)
{
    struct inflight *f = arg;
    f->status = call("GET", "/t/gated", NULL, NULL, &f->body);
    return NULL;
}

static _Atomic int stop_called;

static void *stopper(void *arg)
{
    atomic_store(&stop_called, 1);
    http_server_stop(arg, 10000);
    return NULL;
}

/* SIGTERM-style stop while a request is inside its handler: the request still gets its
 * answer, and stop returns once it has. */
static void test_graceful_stop(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 1);
    struct inflight f = {0};
    oc_buf_init(&f.body, 1024);
    pthread_t client, stop;
    pthread_create(&client, NULL, inflight_call, &f);
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    pthread_create(&stop, NULL, stopper, srv);
    while (!atomic_load(&stop_called))
        ;
    /* Let stop reach its wait for in-flight requests (ordering only; nothing is timed). */
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    pthread_join(client, NULL);
    pthread_join(stop, NULL);
    T_EQ_INT(f.status, 200);
    T_EQ_STR(f.body.data, "finished");
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&f.body);
}

static const struct t_case cases[] = {
    T_CASE(test_routing_and_errors),
    T_CASE(test_roles),
    T_CASE(test_role_table),
    T_CASE(test_graceful_stop),
    {0},
};

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = t_run(cases, argc, argv);
    curl_global_cleanup();
    return rc;
}
