/*
 * test_http.c - the HTTP server in-process on 127.0.0.1 port 0: routing and parameters,
 * 404/405/413 problem+json, roles (401/403) through injected hooks, the audit hook, CORS
 * preflight, a handler that forgets to answer, and a graceful stop that lets an in-flight
 * request finish. Browser support: the Cookie parser, the same-origin rule, session cookies
 * through the hook with the cross-site guard, and streams (ended by the pump, by the client
 * leaving, by a slow client, by the server stopping).
 */
#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/module.h"
#include "http/http.h"
#include "http/http_int.h"
#include "t.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* Streams: each counts its pumps; "/t/stream3" ends after three, "/t/forever" never does,
 * "/t/flood" writes 256 KiB a pump. freed counts free_fn calls. */
static _Atomic int freed, flood_refused;

struct tstream {
    int pumps, limit; /* limit 0: forever */
    size_t chunk;     /* bytes a pump writes (0: one line) */
};

static int tpump(struct http_stream *s, void *arg)
{
    struct tstream *t = arg;
    char line[32];
    t->pumps++;
    if (t->chunk) {
        static char big[256 * 1024];
        memset(big, 'x', sizeof(big));
        if (http_stream_write(s, big, sizeof(big)) != 0)
            atomic_fetch_add(&flood_refused, 1);
        return 0;
    }
    int n = snprintf(line, sizeof(line), "pump %d\n", t->pumps);
    http_stream_write(s, line, (size_t)n);
    return t->limit && t->pumps >= t->limit ? -1 : 0;
}

static void tfree(void *arg)
{
    free(arg);
    atomic_fetch_add(&freed, 1);
}

static void stream_route(struct http_req *req, int limit, size_t chunk)
{
    struct tstream *t = calloc(1, sizeof(*t));
    t->limit = limit;
    t->chunk = chunk;
    http_set_header(req, "Cache-Control", "no-cache");
    http_stream_start(req, "text/plain", tpump, tfree, t);
}

static void stream3(struct http_req *req)
{
    stream_route(req, 3, 0);
}

static void forever(struct http_req *req)
{
    stream_route(req, 0, 0);
}

static void flood(struct http_req *req)
{
    stream_route(req, 0, 256 * 1024);
}

/* "/t/big": 1 MiB of the letters a..z over and over. */
#define BIG (1 << 20)
static void big(struct http_req *req)
{
    static char body[BIG];
    for (size_t i = 0; i < BIG; i++)
        body[i] = (char)('a' + i % 26);
    http_reply(req, 200, "text/plain", body, BIG);
}

/* "/t/later/{n}": answered "later N" from another thread after 20 ms. */
struct later_job {
    struct http_later *l;
    char text[32];
    long wait_ms; /* before answering */
};

static void *later_thread(void *arg)
{
    struct later_job *j = arg;
    struct timespec t = {j->wait_ms / 1000, j->wait_ms % 1000 * 1000 * 1000};
    nanosleep(&t, NULL);
    http_later_reply(j->l, 200, "text/plain", j->text, strlen(j->text));
    free(j);
    return NULL;
}

static void later(struct http_req *req)
{
    struct later_job *j = calloc(1, sizeof(*j));
    snprintf(j->text, sizeof(j->text), "later %s", http_param(req, "n"));
    j->wait_ms = strcmp(req->route->pattern, "/t/slow/{n}") == 0 ? 300 : 20;
    j->l = http_later(req);
    if (!j->l) {
        free(j);
        http_reply(req, 500, "text/plain", "no later", 8);
        return;
    }
    pthread_t t;
    pthread_create(&t, NULL, later_thread, j);
    pthread_detach(t);
}

static const struct http_route routes[] = {
    {"GET", "/t/echo/{a}/{b}", echo, HTTP_PUBLIC, 0, "echo"},
    {"POST", "/t/small", small, HTTP_PUBLIC, 100, "small body"},
    {"POST", "/t/len", small, HTTP_PUBLIC, 0, "any body"},
    {"GET", "/t/admin", ok, HTTP_ADMIN, 0, "admin only"},
    {"GET", "/t/viewer", ok, HTTP_VIEWER, 0, "viewer"},
    {"POST", "/t/ingest", ok, HTTP_INGEST, 0, "ingest"},
    {"POST", "/t/act", failing, HTTP_RESPONDER, 0, "responder"},
    {"GET", "/t/noreply", noreply, HTTP_PUBLIC, 0, "bug"},
    {"GET", "/t/gated", gated, HTTP_PUBLIC, 0, "waits for the test"},
    {"GET", "/t/stream3", stream3, HTTP_PUBLIC, 0, "three pumps"},
    {"GET", "/t/forever", forever, HTTP_VIEWER, 0, "a stream that never ends"},
    {"GET", "/t/flood", flood, HTTP_PUBLIC, 0, "a stream faster than its reader"},
    {"GET", "/t/big", big, HTTP_PUBLIC, 0, "1 MiB"},
    {"GET", "/t/later/{n}", later, HTTP_PUBLIC, 0, "answered from another thread"},
    {"GET", "/t/slow/{n}", later, HTTP_PUBLIC, 0, "answered from another thread in 300 ms"},
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

/* The session hook: "s-viewer" and "s-resp" are live sessions, "s-old" expired. */
static int authenticate_session(void *arg, const char *value, struct oc_arena *arena,
                                enum http_role *role, const char **name)
{
    (void)arg;
    if (strcmp(value, "s-old") == 0)
        return OC_EGONE;
    if (strcmp(value, "s-viewer") != 0 && strcmp(value, "s-resp") != 0)
        return OC_EAUTH;
    *role = value[2] == 'v' ? HTTP_VIEWER : HTTP_RESPONDER;
    *name = oc_arena_strdup(arena, value);
    return 0;
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

/* Performs one request with extra headers (NULL-terminated, or NULL); returns the status
 * and leaves the body in *out. */
static long call_h(const char *method, const char *path, const char *token, const char *body,
                   const char *const *headers, struct oc_buf *out)
{
    CURL *c = curl_easy_init();
    char url[512], auth[128];
    snprintf(url, sizeof(url), "%s%s", base, path);
    struct curl_slist *h = NULL;
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    for (int i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
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

/* Performs one request; returns the status and leaves the body in *out. */
static long call(const char *method, const char *path, const char *token, const char *body,
                 struct oc_buf *out)
{
    return call_h(method, path, token, body, NULL, out);
}

static struct http_server *start(struct oc_app *app, int workers)
{
    struct http_server_opts o = {.listen = "127.0.0.1:0", .workers = workers, .max_body = 4096};
    struct http_server *srv = http_server_new(&o, app);
    T_EQ_INT(http_server_add_routes(srv, routes, NULL), 0);
    struct http_hooks hooks = {.authenticate = authenticate,
                               .audit = audit,
                               .arg = NULL,
                               .authenticate_session = authenticate_session};
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

static void test_cookie_parse(void)
{
    static const struct {
        const char *hdr, *name;
        int rc;
        const char *want;
    } cases[] = {
        {"oncue_session=abc", "oncue_session", 0, "abc"},
        {"theme=dark; oncue_session=abc; x=1", "oncue_session", 0, "abc"},
        {"  theme = dark ;oncue_session = \"q v\" ", "oncue_session", 0, "q v"},
        {"xoncue_session=1; oncue_sessionx=2", "oncue_session", OC_ENOTFOUND, ""},
        {"oncue_session=first; oncue_session=second", "oncue_session", 0, "first"},
        {"oncue_session=", "oncue_session", 0, ""},
        {"oncue_session", "oncue_session", OC_ENOTFOUND, ""},
        {";;; ; =x; oncue_session=ok", "oncue_session", 0, "ok"},
        {"a=\"", "a", 0, "\""},
        {"", "oncue_session", OC_ENOTFOUND, ""},
        {"oncue_session=0123456789", "oncue_session", OC_ETOOBIG, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[8] = "junk";
        int rc =
            http_cookie_get(cases[i].hdr, strlen(cases[i].hdr), cases[i].name, out, sizeof(out));
        T_EQ_INT(rc, cases[i].rc);
        T_EQ_STR(out, cases[i].want);
    }
    char out[16];
    /* the length bounds the read: the value stops at len, not at the NUL */
    T_EQ_INT(http_cookie_get("a=12345", 4, "a", out, sizeof(out)), 0);
    T_EQ_STR(out, "12");
    T_EQ_INT(http_cookie_get(NULL, 0, "a", out, sizeof(out)), OC_ENOTFOUND);
}

static void test_origin_check(void)
{
    static const struct {
        struct http_origin_in in;
        int ok;
        const char *why;
    } cases[] = {
        {{"h:1", NULL, "http://h:1", NULL, NULL}, 1, ""},
        {{"H:1", NULL, "http://h:1", NULL, "same-origin"}, 1, ""},
        {{"h:1", "https", "https://h:1", NULL, NULL}, 1, ""},
        {{"h:1", " HTTPS , http", "https://h:1", NULL, NULL}, 1, ""},
        {{"h:1", "https", "http://h:1", NULL, NULL}, 0, "is not this server's origin https://h:1"},
        {{"h:1", NULL, "http://evil.example", NULL, NULL}, 0, "Origin http://evil.example"},
        {{"h:1", NULL, "http://h:1.evil", NULL, NULL}, 0, "is not this server's origin"},
        {{"h:1", NULL, "null", NULL, NULL}, 0, "Origin null"},
        {{"h:1", NULL, NULL, "http://h:1/#/incidents", NULL}, 1, ""},
        {{"h:1", NULL, NULL, "http://h:1", NULL}, 0, "Referer"},
        {{"h:1", NULL, NULL, "http://h:1.evil/", NULL}, 0, "Referer"},
        {{"h:1", NULL, "http://h:1", "http://evil/", NULL}, 1, ""},
        {{"h:1", NULL, NULL, NULL, NULL}, 0, "neither Origin nor Referer"},
        {{"h:1", NULL, "http://h:1", NULL, "cross-site"}, 0, "Sec-Fetch-Site: cross-site"},
        {{"h:1", NULL, "http://h:1", NULL, "same-site"}, 0, "Sec-Fetch-Site: same-site"},
        {{NULL, NULL, "http://h:1", NULL, NULL}, 0, "no usable Host"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char why[512] = "";
        int rc = http_origin_check(&cases[i].in, why, sizeof(why));
        T_EQ_INT(rc, cases[i].ok ? 0 : -1);
        if (cases[i].ok)
            T_EQ_STR(why, "");
        else
            T_CONTAINS(why, cases[i].why);
    }
}

/* Cookies authenticate through the session hook; writes from them need this origin. */
static void test_session_cookies(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 1);
    struct oc_buf b;
    char origin[160], bad[] = "Origin: http://evil.example";
    oc_buf_init(&b, 1 << 20);
    snprintf(origin, sizeof(origin), "Origin: %s", base);
    const char *resp[] = {"Cookie: a=1; oncue_session=s-resp", NULL, NULL};
    const char *view[] = {"Cookie: oncue_session=s-viewer", origin, NULL};
    const char *old[] = {"Cookie: oncue_session=s-old", NULL};
    const char *gone[] = {"Cookie: oncue_session=nope", NULL};
    const char *other[] = {"Cookie: theme=dark", NULL};
    T_EQ_INT(call_h("GET", "/t/viewer", NULL, NULL, resp, &b), 200);
    T_EQ_INT(call_h("GET", "/t/viewer", NULL, NULL, old, &b), 401);
    T_CONTAINS(b.data, "the session expired; sign in again");
    T_EQ_INT(call_h("GET", "/t/viewer", NULL, NULL, gone, &b), 401);
    T_CONTAINS(b.data, "unknown or has ended");
    T_EQ_INT(call_h("GET", "/t/viewer", NULL, NULL, other, &b), 401);
    T_CONTAINS(b.data, "needs a token");
    T_EQ_INT(call_h("POST", "/t/act", NULL, "{}", resp, &b), 403); /* no Origin */
    T_CONTAINS(b.data, "cross-site request refused: neither Origin nor Referer");
    T_EQ_STR(last_audit, "s-resp POST /t/act 403");
    resp[1] = bad;
    T_EQ_INT(call_h("POST", "/t/act", NULL, "{}", resp, &b), 403);
    T_CONTAINS(b.data, "Origin http://evil.example is not this server's origin");
    resp[1] = origin;
    T_EQ_INT(call_h("POST", "/t/act", NULL, "{}", resp, &b), 409); /* reached the handler */
    T_EQ_INT(call_h("POST", "/t/act", NULL, "{}", view, &b), 403);
    T_CONTAINS(b.data, "needs the responder role; the session has viewer");
    /* a token wins over a cookie and needs no Origin */
    T_EQ_INT(call_h("POST", "/t/act", "resp-tok", "{}", old, &b), 409);
    T_EQ_INT(call_h("GET", "/t/echo/a/b", NULL, NULL, old, &b), 200); /* public: not looked at */
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

/* Opens a raw connection to the server and sends a GET of path; the socket, or -1. */
static int raw_get(const char *path, const char *extra)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = (int)strtol(strrchr(base, ':') + 1, NULL, 10);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char req[512];
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        return -1;
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path, extra);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Waits up to 10 s for cond (polled every 10 ms); its last value. */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        struct timespec t_tick = {0, 10 * 1000 * 1000};                                            \
        for (int t_i = 0; t_i < 1000 && !(cond); t_i++)                                            \
            nanosleep(&t_tick, NULL);                                                              \
    } while (0)

static void test_streams(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 1);
    struct oc_buf b;
    char buf[4096];
    oc_buf_init(&b, 1 << 20);
    atomic_store(&freed, 0);
    /* ended by its pump: the whole body arrives, chunked, and the state is freed */
    T_EQ_INT(call("GET", "/t/stream3", NULL, NULL, &b), 200);
    T_EQ_STR(b.data, "pump 1\npump 2\npump 3\n");
    WAIT_FOR(atomic_load(&freed) == 1);
    T_EQ_INT(atomic_load(&freed), 1);
    T_EQ_INT(http_server_streams(srv), 0);
    /* roles apply as to any route */
    T_EQ_INT(call("GET", "/t/forever", NULL, NULL, &b), 401);
    /* the client leaves: noticed without waiting for a write timeout */
    int fd = raw_get("/t/forever", "Authorization: Bearer viewer-tok\r\n");
    T_TRUE(fd >= 0);
    T_TRUE(read(fd, buf, sizeof(buf)) > 0); /* the headers and the first pump */
    T_EQ_INT(http_server_streams(srv), 1);
    close(fd);
    WAIT_FOR(atomic_load(&freed) == 2);
    T_EQ_INT(atomic_load(&freed), 2);
    T_EQ_INT(http_server_streams(srv), 0);
    /* a client that does not read is dropped once 1 MiB waits for it */
    fd = raw_get("/t/flood", "");
    T_TRUE(fd >= 0);
    WAIT_FOR(atomic_load(&freed) == 3);
    T_EQ_INT(atomic_load(&freed), 3);
    T_TRUE(atomic_load(&flood_refused) >= 1);
    close(fd);
    /* stop ends open streams first, then returns well before its grace period */
    fd = raw_get("/t/forever", "Authorization: Bearer viewer-tok\r\n");
    T_TRUE(fd >= 0);
    T_TRUE(read(fd, buf, sizeof(buf)) > 0);
    int64_t t0 = oc_mono_ns();
    http_server_stop(srv, 20000);
    T_TRUE(oc_mono_ns() - t0 < 5000000000LL);
    T_EQ_INT(atomic_load(&freed), 4);
    T_EQ_INT(http_server_streams(srv), 0);
    http_server_destroy(srv); /* closes the connection */
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

/* Connects to the test server with a receive buffer of rcvbuf bytes (0: the default) and
 * sends req; the socket or -1. Reads time out after 10 s. */
static int raw_send(const char *req, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = (int)strtol(strrchr(base, ':') + 1, NULL, 10);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {10, 0};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0)
        return -1;
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t n = strlen(req);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || write(fd, req, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads fd until the server closes it (or a read times out), chunk bytes at a time; the
 * bytes are in *b. */
static void read_to_close(int fd, struct oc_buf *b, size_t chunk)
{
    char buf[65536];
    ssize_t r;
    oc_buf_reset(b);
    while ((r = read(fd, buf, chunk < sizeof(buf) ? chunk : sizeof(buf))) > 0)
        oc_buf_append(b, buf, (size_t)r);
    close(fd);
}

/* How many times needle occurs in b. */
static int count_of(const struct oc_buf *b, const char *needle)
{
    int n = 0;
    for (const char *p = b->data;
         p && (p = memmem(p, b->len - (size_t)(p - b->data), needle, strlen(needle))) != NULL; p++)
        n++;
    return n;
}

/* Answers leave on the socket as soon as they are made and the connection goes on to its
 * next request: pipelined requests answered in order on one connection; a 1 MiB answer to a
 * reader with a 4 KiB window arrives whole (the bufferevent writes what the first write left)
 * and the request after it is answered; later answers written from another thread keep the
 * connection's order; each connection is closed after the answer that asked for it. */
static void test_keepalive_writes(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 2);
    struct oc_buf b;
    oc_buf_init(&b, 4 << 20);
    int fd = raw_send("GET /t/echo/1/x HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /t/echo/2/x HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /t/echo/3/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                      0);
    T_TRUE(fd >= 0);
    read_to_close(fd, &b, 65536);
    T_EQ_INT(count_of(&b, "HTTP/1.1 200 OK\r\n"), 3);
    const char *one = strstr(b.data, "\"a\":\"1\""), *two = strstr(b.data, "\"a\":\"2\""),
               *three = strstr(b.data, "\"a\":\"3\"");
    T_TRUE(one && two && three && one < two && two < three);

    fd = raw_send("GET /t/big HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /t/echo/after/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                  4096);
    T_TRUE(fd >= 0);
    struct timespec wait = {0, 200 * 1000 * 1000}; /* the server fills the window and waits */
    nanosleep(&wait, NULL);
    read_to_close(fd, &b, 1000);
    T_EQ_INT(count_of(&b, "HTTP/1.1 200 OK\r\n"), 2);
    T_EQ_INT(count_of(&b, "Content-Length: 1048576\r\n"), 1);
    const char *body = strstr(b.data, "\r\n\r\n");
    T_TRUE(body != NULL);
    body += 4;
    int whole = (size_t)(body - b.data) + BIG <= b.len;
    for (size_t i = 0; whole && i < BIG; i++)
        whole = body[i] == (char)('a' + i % 26);
    T_EQ_INT(whole, 1);
    T_TRUE(strstr(body + BIG, "\"a\":\"after\"") != NULL);

    fd = raw_send("GET /t/later/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /t/later/2 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /t/later/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                  0);
    T_TRUE(fd >= 0);
    read_to_close(fd, &b, 65536);
    T_EQ_INT(count_of(&b, "HTTP/1.1 200 OK\r\n"), 3);
    one = strstr(b.data, "later 1");
    two = strstr(b.data, "later 2");
    three = strstr(b.data, "later 3");
    T_TRUE(one && two && three && one < two && two < three);
    T_EQ_INT(http_server_requests(srv), 8);
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

/* Query parameters read as evhttp's parser read them: the value decoded ('+' a space, %XX),
 * the name as sent and matched without case, the first of a repeated name, a lone '%' kept,
 * and a pair without '=' (or with an empty name) leaving the whole query unread. */
static void test_query(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 1);
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    static const struct {
        const char *query, *want;
    } cases[] = {
        {"?q=a+b%21", "\"q\":\"a b!\""}, {"?Q=upper", "\"q\":\"upper\""},
        {"?q=1&q=2", "\"q\":\"1\""},     {"?x=1&q=%zz%4", "\"q\":\"%zz%4\""},
        {"?q=", "\"q\":\"\""},           {"?q=1&", "\"q\":\"1\""},
        {"?q=a=b", "\"q\":\"a=b\""},     {"?q%41=1", "\"q\":null"},
        {"?q=1&bad", "\"q\":null"},      {"?=x&q=1", "\"q\":null"},
        {"?q=1&&x=2", "\"q\":null"},     {"", "\"q\":null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/t/echo/1/2%s", cases[i].query);
        T_EQ_INT(call("GET", path, NULL, NULL, &b), 200);
        T_CONTAINS(b.data, cases[i].want);
    }
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

/* Bytes that arrive while a request is being answered later (conn.c dispatches nothing more
 * on the connection meanwhile) are read once it is answered, in order; a client that leaves
 * while its answer is pending does not stop the worker from serving the next connection. */
static void test_read_while_answering(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 1);
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    struct timespec gap = {0, 5 * 1000 * 1000};
    static const char second[] = "GET /t/later/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int fd = raw_send("GET /t/later/1 HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    T_TRUE(fd >= 0);
    nanosleep(&gap, NULL); /* the first is read and waits for its answer (20 ms) */
    T_EQ_INT(write(fd, second, sizeof(second) - 1), (long)sizeof(second) - 1);
    read_to_close(fd, &b, 65536);
    T_EQ_INT(count_of(&b, "HTTP/1.1 200 OK\r\n"), 2);
    const char *one = strstr(b.data, "later 1"), *two = strstr(b.data, "later 2");
    T_TRUE(one && two && one < two);
    /* bytes waiting 300 ms for the answer before them */
    fd = raw_send("GET /t/slow/1 HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    T_TRUE(fd >= 0);
    nanosleep(&gap, NULL);
    T_EQ_INT(write(fd, second, sizeof(second) - 1), (long)sizeof(second) - 1);
    read_to_close(fd, &b, 65536);
    T_EQ_INT(count_of(&b, "HTTP/1.1 200 OK\r\n"), 2);
    fd = raw_send("GET /t/later/3 HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    T_TRUE(fd >= 0);
    nanosleep(&gap, NULL);
    close(fd); /* gone before its answer */
    T_EQ_INT(call("GET", "/t/echo/after/leave", NULL, NULL, &b), 200);
    T_CONTAINS(b.data, "\"a\":\"after\"");
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

/* Parses a copy of the text s (the parse writes into it) with header cap max. */
static int parse_copy(const char *s, size_t max, char *buf, size_t bufn, struct http_head *h)
{
    size_t n = strlen(s);
    T_TRUE(n < bufn);
    memcpy(buf, s, n + 1);
    memset(h, 0, sizeof(*h));
    return http_head_parse(buf, n, max, h);
}

/* The head parser: the request line, the target split into path and query, headers in place,
 * what the headers mean for framing and the connection. */
static void test_head_parse(void)
{
    char buf[4096];
    struct http_head h;
    const char *a = "\r\nPOST /v1/session?x=1#frag HTTP/1.1\r\nHost: x\r\n"
                    "Transfer-encoding: chunked\r\nX-Pad:  a b \t\r\n\r\n4";
    T_EQ_INT(parse_copy(a, 16384, buf, sizeof(buf), &h), 1);
    T_EQ_STR(h.method, "POST");
    T_EQ_STR(h.path, "/v1/session");
    T_EQ_STR(h.query, "x=1");
    T_EQ_INT(h.minor, 1);
    T_EQ_INT(h.chunked, 1);
    T_EQ_INT(h.content_length, -1);
    T_EQ_INT(h.keep_alive, 1);
    T_EQ_INT(h.end, strlen(a) - 1);
    T_EQ_INT(h.nhdrs, 3);
    T_EQ_STR(h.hdrs[2].name, "X-Pad");
    T_EQ_STR(h.hdrs[2].value, "a b"); /* spaces around the value are not part of it */
    /* bare LF line ends; HTTP/1.0 closes unless asked to keep the connection */
    const char *b = "PUT /v1/services/x HTTP/1.0\nContent-Length: 2\n\n{}";
    T_EQ_INT(parse_copy(b, 16384, buf, sizeof(buf), &h), 1);
    T_EQ_STR(h.method, "PUT");
    T_TRUE(h.query == NULL);
    T_EQ_INT(h.content_length, 2);
    T_EQ_INT(h.keep_alive, 0);
    T_EQ_INT(h.end, strlen(b) - 2);
    T_EQ_INT(
        parse_copy("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 16384, buf, sizeof(buf), &h),
        1);
    T_EQ_INT(h.keep_alive, 1);
    T_EQ_INT(
        parse_copy("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", 16384, buf, sizeof(buf), &h),
        1);
    T_EQ_INT(h.keep_alive, 0);
    T_EQ_INT(parse_copy("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n"
                        "Content-Length: 5000\r\n\r\n",
                        16384, buf, sizeof(buf), &h),
             1); /* the same length twice is one */
    T_EQ_INT(h.expect_continue, 1);
    T_EQ_INT(h.content_length, 5000);
    /* absolute-form and "*" */
    T_EQ_INT(parse_copy("GET http://h:1/p/q?z=2 HTTP/1.1\r\n\r\n", 16384, buf, sizeof(buf), &h), 1);
    T_EQ_STR(h.path, "/p/q");
    T_EQ_STR(h.query, "z=2");
    T_EQ_INT(parse_copy("GET http://h:1 HTTP/1.1\r\n\r\n", 16384, buf, sizeof(buf), &h), 1);
    T_EQ_STR(h.path, "/");
    T_EQ_INT(parse_copy("OPTIONS * HTTP/1.1\r\n\r\n", 16384, buf, sizeof(buf), &h), 1);
    T_EQ_STR(h.path, "/");
    /* no Host on HTTP/1.1 is accepted */
    T_EQ_INT(parse_copy("GET /x HTTP/1.1\r\n\r\n", 16384, buf, sizeof(buf), &h), 1);
    T_EQ_INT(h.nhdrs, 0);
    /* pipelined: the head ends where the next request begins */
    const char *two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n";
    T_EQ_INT(parse_copy(two, 16384, buf, sizeof(buf), &h), 1);
    T_EQ_INT(h.end, strlen(two) / 2);
    T_EQ_STR(h.path, "/1");
    memset(&h, 0, sizeof(h));
    T_EQ_INT(http_head_parse(buf + strlen(two) / 2, strlen(two) / 2, 16384, &h), 1);
    T_EQ_STR(h.path, "/2");
    T_EQ_INT(parse_copy("\n\n\n", 16384, buf, sizeof(buf), &h), 0);
}

/* A head split at every byte: each prefix asks for more without changing a byte, and the
 * whole then parses as in one piece, whether the scan starts over or goes on. */
static void test_head_split(void)
{
    const char *a = "GET /t/echo/a/b?q=1 HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\n\r\n";
    const char *b = "GET /t HTTP/1.1\nHost: x\n\n";
    const char *texts[] = {a, b};
    for (int t = 0; t < 2; t++) {
        size_t n = strlen(texts[t]);
        for (size_t k = 0; k < n; k++) {
            char buf[256];
            struct http_head h;
            memset(&h, 0, sizeof(h));
            memcpy(buf, texts[t], n + 1);
            T_EQ_INT(http_head_parse(buf, k, 16384, &h), 0);
            T_EQ_INT(memcmp(buf, texts[t], n), 0);
            T_EQ_INT(http_head_parse(buf, n, 16384, &h), 1); /* goes on from h.scan */
            T_EQ_INT(h.end, n);
            T_EQ_STR(h.hdrs[0].value, "x");
        }
    }
}

/* What the parser refuses, with the status and detail the client gets. */
static void test_head_refused(void)
{
    static const struct {
        const char *text;
        int status;
        const char *why;
    } cases[] = {
        {"GET / HTTP/1.1\r\nX: 1\r\n  folded\r\n\r\n", 400, "obsolete line folding"},
        {"GET / HTTP/1.1\r\nX : 1\r\n\r\n", 400, "not NAME: VALUE"},
        {"GET / HTTP/1.1\r\n: 1\r\n\r\n", 400, "not NAME: VALUE"},
        {"GET / HTTP/1.1\r\nX 1\r\n\r\n", 400, "not NAME: VALUE"},
        {"GET / HTTP/1.1\r\nX: a\001b\r\n\r\n", 400, "control character"},
        {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "control character"},
        {"GET /\r HTTP/1.1\r\n\r\n", 400, "bare CR"},
        {"GET / HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1"},
        {"GET / HTTP/1.1 x\r\n\r\n", 400, "HTTP/1.0 or HTTP/1.1"},
        {"GET /\r\n\r\n", 400, "METHOD TARGET HTTP/1.x"},
        {"GET  / HTTP/1.1\r\n\r\n", 400, "METHOD TARGET HTTP/1.x"},
        {"G(T / HTTP/1.1\r\n\r\n", 400, "METHOD TARGET HTTP/1.x"},
        {"GET x HTTP/1.1\r\n\r\n", 400, "must start with /"},
        {"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 44\r\n\r\n", 400,
         "two different Content-Length headers (2, 44)"},
        {"POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         "Content-Length and Transfer-Encoding together"},
        {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "not a number"},
        {"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400, "not a number"},
        {"POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n", 400, "not a number"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "gzip, chunked"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
         "only chunked, once"},
    };
    char buf[512];
    struct http_head h;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        T_EQ_INT(parse_copy(cases[i].text, 16384, buf, sizeof(buf), &h), -1);
        T_EQ_INT(h.status, cases[i].status);
        T_CONTAINS(h.why, cases[i].why);
    }
    /* longer than the cap: refused as soon as the cap is reached without an end */
    char big[2048];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(&h, 0, sizeof(h));
    T_EQ_INT(http_head_parse(big, 1000, 1024, &h), 0);
    T_EQ_INT(http_head_parse(big, 1024, 1024, &h), -1);
    T_EQ_INT(h.status, 431);
    memcpy(big + 1500, "\r\n\r\n", 4); /* complete, but past the cap */
    memset(&h, 0, sizeof(h));
    T_EQ_INT(http_head_parse(big, 1504, 1024, &h), -1);
    T_EQ_INT(h.status, 431);
    /* more header lines than HTTP_MAX_HEADERS */
    struct oc_buf many;
    oc_buf_init(&many, 1 << 20);
    oc_buf_puts(&many, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
        oc_buf_printf(&many, "X-%d: 1\r\n", i);
    oc_buf_puts(&many, "\r\n");
    memset(&h, 0, sizeof(h));
    T_EQ_INT(http_head_parse(many.data, many.len, 1 << 20, &h), -1);
    T_EQ_INT(h.status, 431);
    oc_buf_free(&many);
}

/* Feeds text to a fresh chunked decoder piece bytes at a time (0: at once); the status of
 * the end (1, or the refusal's status negated), the body in out. */
static int chunked_run(const char *text, size_t piece, size_t cap, char *out, size_t *outn)
{
    struct http_chunked d;
    char why[160], in[1024];
    size_t n = strlen(text), at = 0, pend = 0;
    memset(&d, 0, sizeof(d));
    *outn = 0;
    /* the bytes not yet used stay at the front of in, as conn.c keeps them */
    while (at < n || pend) {
        size_t k = piece && n - at > piece ? piece : n - at;
        memcpy(in + pend, text + at, k);
        at += k;
        pend += k;
        size_t used, made;
        int st = 0;
        int rc =
            http_chunked_feed(&d, in, pend, out + *outn, cap, &used, &made, &st, why, sizeof(why));
        *outn += made;
        memmove(in, in + used, pend - used);
        pend -= used;
        if (rc != 0)
            return rc == 1 ? 1 : -st;
        if (at == n)
            return 0;
    }
    return 0;
}

static void test_chunked(void)
{
    char out[1024];
    size_t n;
    const char *wiki = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nA\r\n in chunks\r\n0\r\nT: 1\r\n\r\n";
    for (size_t piece = 0; piece <= strlen(wiki); piece++) {
        T_EQ_INT(chunked_run(wiki, piece, 100, out, &n), 1);
        T_EQ_INT(n, 19);
        T_EQ_INT(memcmp(out, "Wikipedia in chunks", 19), 0);
    }
    T_EQ_INT(chunked_run("3\nabc\n0\n\n", 1, 100, out, &n), 1); /* bare LF */
    T_EQ_INT(n, 3);
    T_EQ_INT(chunked_run("4\r\nWiki\r\n", 0, 100, out, &n), 0); /* not yet the end */
    T_EQ_INT(chunked_run("zz\r\n", 0, 100, out, &n), -400);
    T_EQ_INT(chunked_run("\r\n", 0, 100, out, &n), -400);
    T_EQ_INT(chunked_run("4x\r\n", 0, 100, out, &n), -400);
    T_EQ_INT(chunked_run("4\r\nWikiXX", 0, 100, out, &n), -400); /* no CRLF after the data */
    T_EQ_INT(chunked_run("1000000000000000\r\n", 0, 100, out, &n), -413);
    T_EQ_INT(chunked_run("ffffffffffffffff\r\n", 0, 1u << 30, out, &n), -413);
    T_EQ_INT(chunked_run("40\r\n", 0, 63, out, &n), -413); /* over the cap when announced */
    T_EQ_INT(chunked_run("20\r\n01234567890123456789012345678901\r\n20\r\n", 0, 63, out, &n), -413);
    char ext[2100] = "1;";
    memset(ext + 2, 'e', 2000);
    memcpy(ext + 2002, "\r\n", 3);
    T_EQ_INT(chunked_run(ext, 100, 100, out, &n), -400);
}

/* Over the socket: Expect: 100-continue (curl sends it for bodies over 1 KiB), a chunked
 * body, HTTP/1.0, a head over http.max_header_bytes, a bad chunk size, HEAD. */
static void test_wire_edges(void)
{
    struct oc_app app = {.metrics = oc_metrics_new()};
    struct http_server *srv = start(&app, 1);
    struct oc_buf b;
    oc_buf_init(&b, 4 << 20);
    char body[3001];
    memset(body, 'x', 3000);
    body[3000] = '\0';
    T_EQ_INT(call("POST", "/t/len", NULL, body, &b), 200);
    T_EQ_STR(b.data, "{\"len\":3000}\n");
    T_EQ_INT(call("POST", "/t/small", NULL, body, &b), 413);
    T_CONTAINS(b.data, "the body is 3000 bytes; POST /t/small accepts at most 100");
    int fd = raw_send("POST /t/len HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n3\r\n!!!\r\n0\r\n\r\n"
                      "GET /t/echo/next/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                      0);
    read_to_close(fd, &b, 65536);
    T_CONTAINS(b.data, "{\"len\":8}");
    T_CONTAINS(b.data, "\"a\":\"next\"");
    fd =
        raw_send("POST /t/len HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 0);
    read_to_close(fd, &b, 65536);
    T_CONTAINS(b.data, "HTTP/1.1 400 Bad Request\r\n");
    T_CONTAINS(b.data, "a chunk size is not a hex number");
    T_CONTAINS(b.data, "Connection: close\r\n");
    fd = raw_send("GET /t/echo/1/2 HTTP/1.0\r\n\r\n", 0);
    read_to_close(fd, &b, 65536); /* closed after the answer: read_to_close returns */
    T_CONTAINS(b.data, "HTTP/1.1 200 OK\r\n");
    T_CONTAINS(b.data, "Connection: close\r\n");
    fd = raw_send("HEAD /t/echo/1/2 HTTP/1.1\r\nConnection: close\r\n\r\n", 0);
    read_to_close(fd, &b, 65536);
    T_CONTAINS(b.data, "Content-Length: 45\r\n"); /* the GET answer's length */
    T_TRUE(b.len >= 4 && memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0); /* no body */
    struct oc_buf big;
    oc_buf_init(&big, 1 << 20);
    oc_buf_puts(&big, "GET /t/echo/1/2 HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 20000; i++)
        oc_buf_puts(&big, "a");
    oc_buf_puts(&big, "\r\n\r\n");
    fd = raw_send(big.data, 0);
    read_to_close(fd, &b, 65536);
    T_CONTAINS(b.data, "HTTP/1.1 431 ");
    T_CONTAINS(b.data, "longer than http.max_header_bytes");
    oc_buf_free(&big);
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

static const struct t_case cases[] = {
    T_CASE(test_routing_and_errors),
    T_CASE(test_roles),
    T_CASE(test_role_table),
    T_CASE(test_graceful_stop),
    T_CASE(test_cookie_parse),
    T_CASE(test_origin_check),
    T_CASE(test_session_cookies),
    T_CASE(test_streams),
    T_CASE(test_head_parse),
    T_CASE(test_head_split),
    T_CASE(test_head_refused),
    T_CASE(test_chunked),
    T_CASE(test_wire_edges),
    T_CASE(test_keepalive_writes),
    T_CASE(test_query),
    T_CASE(test_read_while_answering),
    {0},
};

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = t_run(cases, argc, argv);
    curl_global_cleanup();
    return rc;
}
