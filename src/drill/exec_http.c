/*
 * exec_http.c - the runbook module of `oncue serve`: runbooks run against incidents over
 * HTTP (start or dry-run, approve or skip a decision, read the run), the shipped runbooks
 * listed, and the signed webhook call of a webhook action. The engine is exec.c.
 */
#include "drill/drill_int.h"

#include "config/config.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/file.h"
#include "core/json.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/netguard.h"
#include "core/webhook.h"
#include "http/http.h"
#include "http/outbound.h"
#include "incident/incident.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_BODY 4096 /* bytes of a run, approve or skip body */

static struct drill_exec *exec_of(struct http_req *req)
{
    return req->state;
}

/* The incident of the path, or 0 after answering 404. */
static int64_t req_incident(struct http_req *req)
{
    int64_t id;
    if (incident_id_parse(http_param(req, "id"), &id) != 0) {
        http_problem(req, 404, "no incident %s", http_param(req, "id"));
        return 0;
    }
    return id;
}

/* The request body as an object whose members are among allowed (NULL: answered). */
static json_t *body_of(struct http_req *req, const char *const *allowed)
{
    const char *k;
    json_t *v, *b = req->body_len ? http_body_json(req) : json_object();
    if (!b)
        return NULL;
    json_object_foreach(b, k, v)
    {
        int i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (!allowed[i]) {
            http_problem(req, 422, "%s: not a member of this body", k);
            json_decref(b);
            return NULL;
        }
    }
    return b;
}

/* POST /v1/incidents/{id}/runbook {"runbook": NAME, "dry_run": bool}. */
static void run_post(struct http_req *req)
{
    static const char *const allowed[] = {"runbook", "dry_run", NULL};
    char err[512] = "";
    json_t *out = NULL, *b;
    int64_t id = req_incident(req);
    if (!id || !(b = body_of(req, allowed)))
        return;
    json_t *name = json_object_get(b, "runbook"), *dry = json_object_get(b, "dry_run");
    if (name && !json_is_string(name))
        http_problem(req, 422, "runbook: a runbook's name (oncue runbook list)");
    else if (dry && !json_is_boolean(dry))
        http_problem(req, 422, "dry_run: true or false");
    else {
        int rc = drill_exec_start(exec_of(req), id, json_string_value(name), json_is_true(dry),
                                  req->principal, &out, err, sizeof(err));
        if (rc != 0)
            http_reply_err(req, rc, "%s", err);
        else
            http_reply_json(req, json_is_true(dry) ? 200 : 201, out);
    }
    json_decref(b);
}

/* POST /v1/incidents/{id}/runbook/approve|skip {"step": N}. */
static void decide(struct http_req *req, int approve)
{
    static const char *const allowed[] = {"step", NULL};
    char err[512] = "";
    json_t *out = NULL, *b;
    int64_t id = req_incident(req), step = 0;
    if (!id || !(b = body_of(req, allowed)))
        return;
    json_t *s = json_object_get(b, "step");
    if (s && (!json_is_integer(s) || (step = json_integer_value(s)) < 1 || step > 1000))
        http_problem(req, 422, "step: the number of the step the run waits at (1 to 1000)");
    else {
        int rc = drill_exec_decide(exec_of(req), id, approve, (int)step, req->principal, &out, err,
                                   sizeof(err));
        if (rc != 0)
            http_reply_err(req, rc, "%s", err);
        else
            http_reply_json(req, 200, out);
    }
    json_decref(b);
}

static void approve_post(struct http_req *req)
{
    decide(req, 1);
}

static void skip_post(struct http_req *req)
{
    decide(req, 0);
}

/* GET /v1/incidents/{id}/runbook. */
static void run_get(struct http_req *req)
{
    json_t *out = NULL;
    int64_t id = req_incident(req);
    if (!id)
        return;
    if (drill_exec_get(exec_of(req), id, &out) != 0)
        http_problem(req, 404, "INC-%lld has no runbook run", (long long)id);
    else
        http_reply_json(req, 200, out);
}

/* Appends the runbook of text (its file name name, from source) to all. */
static void list_one(json_t *all, const char *name, const char *source, const char *text,
                     size_t len)
{
    struct drill_runbook rb;
    char err[256];
    if (!text || drill_runbook_parse(text, len, &rb, err, sizeof(err)) != 0)
        return;
    json_t *steps = json_array();
    for (int i = 0; i < rb.nsteps; i++)
        json_array_append_new(steps, json_pack("{s:s, s:s}", "name", rb.steps[i].name, "type",
                                               drill_step_type_name(rb.steps[i].type)));
    json_array_append_new(all,
                          json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:o}", "name", name, "source",
                                    source, "kind", rb.kind, "version", rb.version, "hash", rb.hash,
                                    "metrics", rb.metrics ? rb.metrics : "", "steps", steps));
    drill_runbook_free(&rb);
}

/* GET /v1/runbooks: runbook.dir's runbooks, then the shipped ones. */
static void list_get(struct http_req *req)
{
    struct drill_exec *x = exec_of(req);
    json_t *all = json_array();
    size_t len;
    oc_lock(&x->mu);
    for (int i = 0; x->files && i < x->files->n; i++)
        list_one(all, x->files->f[i].name, "dir", x->files->f[i].text, x->files->f[i].len);
    oc_unlock(&x->mu);
    for (const char *const *name = drill_runbook_names; *name; name++) {
        /* len is set by the call: read it after (arguments are evaluated in no set order) */
        const char *text = drill_runbook_embedded(*name, &len);
        list_one(all, *name, "shipped", text, len);
    }
    http_reply_json(req, 200, json_pack("{s:o}", "runbooks", all));
}

/* GET /v1/reports/automation?days=N (1 to 365, default 90). */
static void report_get(struct http_req *req)
{
    struct drill_exec *x = exec_of(req);
    const char *d = http_query(req, "days");
    char *end = NULL;
    long days = d ? strtol(d, &end, 10) : 90;
    struct incident_mgr *m = incident_mgr_of(x->app);
    if (d && (end == d || *end || days < 1 || days > 365))
        http_problem(req, 422, "days: 1 to 365");
    else if (!m)
        http_problem(req, 503, "the incident module is not running");
    else
        http_reply_json(req, 200,
                        drill_automation_report(m, oc_clock_now_s(x->app->clock), (int)days));
}

void drill_exec_webhook(struct drill_exec *x, const struct drill_run *r,
                        const struct drill_step *st, int dry, json_t *res)
{
    char id[64], name[32], sig[1024], h_id[96], h_ts[64], h_sig[1100], detail[600];
    struct oc_buf url;
    char missing[64];
    snprintf(name, sizeof(name), "INC-%lld", (long long)r->inc);
    oc_buf_init(&url, 2048);
    int filled = drill_fill(st->webhook, r->vars, &url, missing, sizeof(missing)) == 0;
    const char *u = url.data ? url.data : "";
    char shown[OC_URL_SHOWN_MAX]; /* the path and query may carry a token: not on the timeline,
                                   * which every viewer reads */
    oc_url_cut(u, shown, sizeof(shown));
    if (!filled)
        snprintf(detail, sizeof(detail), "webhook: no value for {%s}", missing);
    else if (dry)
        snprintf(detail, sizeof(detail), "would POST a signed message to %s", shown);
    if (!filled || dry) {
        json_object_set_new(res, "status", json_string(filled ? "would run" : "failed"));
        json_object_set_new(res, "detail", json_string(detail));
        oc_buf_free(&url);
        return;
    }
    int64_t ts = oc_clock_now_s(x->app->clock);
    snprintf(id, sizeof(id), "msg_rb_%lld_%d_%lld", (long long)r->inc, r->next + 1, (long long)ts);
    json_t *msg = json_pack("{s:s, s:I, s:{s:s, s:s, s:s?, s:s, s:i, s:s, s:O}}", "type",
                            "runbook.action", "timestamp", (json_int_t)ts, "data", "incident_id",
                            name, "runbook", r->rb.kind, "version", r->rb.version, "hash",
                            r->rb.hash, "step", r->next + 1, "name", st->name, "vars", r->vars);
    char *body = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    struct http_outbound_result out = {0};
    if (!x->keys || oc_webhook_sign(x->keys, id, ts, body, strlen(body), sig, sizeof(sig)) != 0)
        snprintf(out.error, sizeof(out.error),
                 "no webhook key (runbook.webhook_keys_file) signs the call");
    else {
        snprintf(h_id, sizeof(h_id), "webhook-id: %s", id);
        snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %lld", (long long)ts);
        snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
        struct http_outbound o = {.url = u,
                                  .body = body,
                                  .headers = {h_id, h_ts, h_sig, NULL},
                                  .guard = x->guard,
                                  .allow_setting = "runbook.outbound_allow",
                                  .timeout_ms = x->o.timeout_s * 1000L};
        http_outbound_post(&o, &out);
    }
    sodium_memzero(sig, sizeof(sig));
    int ok = out.status >= 200 && out.status < 300;
    if (out.status)
        snprintf(detail, sizeof(detail), "POST %s: HTTP %ld", shown, out.status);
    else
        snprintf(detail, sizeof(detail), "POST %s: %s", shown, out.error);
    json_object_set_new(res, "status", json_string(ok ? "done" : "failed"));
    json_object_set_new(res, "detail", json_string(detail));
    free(body);
    oc_buf_free(&url);
}

#define F(field) offsetof(struct drill_exec_opts, field)

static const struct oc_setting settings[] = {
    {"runbook.dir", OC_SETTING_STR, "", 0, 0, NULL, F(dir), NULL,
     "directory of your runbooks (NAME.yaml, at most 64), read at start and linted as `oncue "
     "runbook check` does (a problem stops the start; SIGHUP re-reads it); they come before the "
     "shipped ones"},
    {"runbook.webhook_keys_file", OC_SETTING_STR, "", 0, 0, NULL, F(webhook_keys_file), NULL,
     "file holding the keys (space-separated whsec_ or whsk_, several during a rotation) that "
     "sign a runbook's webhook actions as Standard Webhooks messages; empty: webhook actions fail"},
    {"runbook.outbound_allow", OC_SETTING_STR, "", 0, 0, NULL, F(outbound_allow), NULL,
     "private, loopback or link-local ranges a runbook's webhook actions may reach "
     "(\"127.0.0.1/32\"); others are refused at each connection"},
    {"runbook.timeout_s", OC_SETTING_INT, "10", 1, 60, NULL, F(timeout_s), NULL,
     "seconds one webhook action may take before it counts as failed"},
    {0},
};

#undef F

/* Frees fs (NULL is a no-op). */
static void files_free(struct drill_files *fs)
{
    for (int i = 0; fs && i < fs->n; i++)
        free(fs->f[i].text);
    free(fs);
}

static void exec_stop(struct oc_app *app, void *state)
{
    struct drill_exec *x = state;
    (void)app;
    if (!x)
        return;
    drill_exec_free_runs(x);
    files_free(x->files);
    if (x->keys) {
        sodium_memzero(x->keys, strlen(x->keys));
        free(x->keys);
    }
    free(x->guard);
    pthread_mutex_destroy(&x->mu);
    free(x);
}

/* Reads the webhook keys file into x->keys. 0 or an oc_err (logged). */
static int read_keys(struct drill_exec *x)
{
    char err[256];
    size_t n;
    if (!x->o.webhook_keys_file || !x->o.webhook_keys_file[0])
        return 0;
    int rc = oc_read_file(x->o.webhook_keys_file, 4096, &x->keys, &n, err, sizeof(err));
    if (rc != 0) {
        oc_log(OC_LOG_ERROR, "runbook.webhook_keys_file: %s", err);
        return rc;
    }
    while (n > 0 && (x->keys[n - 1] == '\n' || x->keys[n - 1] == '\r' || x->keys[n - 1] == ' '))
        x->keys[--n] = '\0';
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads and lints one file of runbook.dir into fs; a problem is appended to why. 0 or an
 * oc_err. */
static int read_one(const struct drill_exec *x, struct drill_files *fs, const char *dir,
                    const char *ent, struct oc_buf *why)
{
    char path[1024], err[256];
    struct drill_file *f = &fs->f[fs->n];
    snprintf(path, sizeof(path), "%s/%s", dir, ent);
    int rc = oc_read_file(path, 1u << 20, &f->text, &f->len, err, sizeof(err));
    if (rc != 0) {
        oc_buf_printf(why, "%s", err);
        return rc;
    }
    snprintf(f->name, sizeof(f->name), "%.*s", (int)(strlen(ent) - 5), ent);
    fs->n++;
    return drill_runbook_lint(path, f->text, f->len, x->host, why) != 0 ? OC_EINVAL : 0;
}

/* Reads the runbooks of runbook.dir (NAME.yaml, in name order) into a new *out (NULL
 * without the setting). 0, or an oc_err with why appended (nothing kept). */
static int read_dir(const struct drill_exec *x, struct drill_files **out, struct oc_buf *why)
{
    const char *dir = x->o.dir;
    char *names[DRILL_MAX_FILES];
    int n = 0, rc = 0;
    *out = NULL;
    if (!dir || !dir[0])
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        oc_buf_printf(why, "cannot open %s", dir);
        return OC_EIO;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t k = strlen(e->d_name);
        if (k <= 5 || k > 130 || strcmp(e->d_name + k - 5, ".yaml") != 0 || e->d_name[0] == '.')
            continue;
        if (n == DRILL_MAX_FILES) {
            oc_buf_printf(why, "more than %d runbooks in %s", DRILL_MAX_FILES, dir);
            rc = OC_ETOOBIG;
            break;
        }
        names[n++] = oc_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), by_name);
    struct drill_files *fs = oc_calloc(1, sizeof(*fs));
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = read_one(x, fs, dir, names[i], why);
        free(names[i]);
    }
    if (rc != 0)
        files_free(fs);
    else
        *out = fs;
    return rc;
}

/* SIGHUP: reads runbook.dir again; on a problem keeps the runbooks it had. */
static int exec_reload(struct oc_app *app, void *state, struct oc_buf *say)
{
    struct drill_exec *x = state;
    struct drill_files *fs = NULL, *old;
    struct oc_buf why;
    (void)app;
    if (!x->o.dir || !x->o.dir[0])
        return 0;
    oc_buf_init(&why, 1 << 16);
    int rc = read_dir(x, &fs, &why);
    if (rc != 0) {
        oc_buf_printf(say, "runbook: kept the runbooks it had: %s", why.data ? why.data : "");
        oc_buf_free(&why);
        return rc;
    }
    oc_lock(&x->mu);
    old = x->files;
    x->files = fs;
    oc_unlock(&x->mu);
    files_free(old);
    oc_buf_printf(say, "runbook: %d runbooks from %s", fs ? fs->n : 0, x->o.dir);
    oc_buf_free(&why);
    return 0;
}

static int exec_init(struct oc_app *app, void **state)
{
    struct drill_exec_opts def;
    char why[200];
    struct drill_exec *x = oc_calloc(1, sizeof(*x));
    x->app = app;
    x->host = oc_app_find(app, DRILL_PROVIDES_HOST);
    x->o =
        *(const struct drill_exec_opts *)config_module_opts(app->cfg, &drill_runbook_module, &def);
    x->guard = oc_calloc(1, sizeof(*x->guard));
    pthread_mutex_init(&x->mu, NULL);
    *state = x;
    int rc = oc_netguard_parse(x->guard, x->o.outbound_allow, why, sizeof(why));
    if (rc != 0)
        oc_log(OC_LOG_ERROR, "runbook.outbound_allow: %s", why);
    if (rc == 0 && sodium_init() < 0)
        rc = OC_EIO;
    if (rc == 0)
        rc = read_keys(x);
    if (rc == 0) {
        struct oc_buf b;
        oc_buf_init(&b, 1 << 16);
        if ((rc = read_dir(x, &x->files, &b)) != 0)
            oc_log(OC_LOG_ERROR, "runbook.dir: %s", b.data ? b.data : "");
        else if (x->files)
            oc_log(OC_LOG_INFO, "runbook: %d runbooks from %s", x->files->n, x->o.dir);
        oc_buf_free(&b);
    }
    if (rc != 0) {
        exec_stop(app, x);
        *state = NULL;
    }
    return rc;
}

static const struct http_route routes[] = {
    {"GET", "/v1/runbooks", list_get, HTTP_VIEWER, 0,
     "the shipped runbooks: kind, version, content hash, metrics, step names and types"},
    {"GET", "/v1/reports/automation", report_get, HTTP_VIEWER, 0,
     "the automation report (?days=N, default 90): per incident and per runbook the share of "
     "runbook steps done without a person, times from detection to declaration, first status "
     "update, mitigation and resolve, weekly trends, the decisions runs waited longest at"},
    {"POST", "/v1/incidents/{id}/runbook", run_post, HTTP_RESPONDER, RUN_BODY,
     "run a runbook against the incident ({\"runbook\": NAME, \"dry_run\": bool}; default the "
     "one covering its metric): steps run until a decision waits; 201 with the run, a dry run "
     "200 with what each step would do"},
    {"GET", "/v1/incidents/{id}/runbook", run_get, HTTP_VIEWER, 0,
     "the incident's runbook run: state, version, hash, each step's result, who and when"},
    {"POST", "/v1/incidents/{id}/runbook/approve", approve_post, HTTP_RESPONDER, RUN_BODY,
     "approve the decision the run waits at ({\"step\": N} optional) and run on"},
    {"POST", "/v1/incidents/{id}/runbook/skip", skip_post, HTTP_RESPONDER, RUN_BODY,
     "skip the decision the run waits at and the step it gates, and run on"},
    {0},
};

const struct oc_module drill_runbook_module = {
    .name = "runbook",
    .summary = "runbooks run against incidents: checks, actions, decisions",
    .init = exec_init,
    .routes = routes,
    .stop = exec_stop,
    .settings = settings,
    .opts_size = sizeof(struct drill_exec_opts),
    .reload = exec_reload,
};
