/*
 * module.c - automation_module: event subscriptions under /v1/event-subscriptions (create,
 * list, show, delete, enable, rotate keys, the delivery log, replay), the bus subscriber that
 * fills the outbox, the delivery thread, the trim of old log rows, and /metrics counters.
 */
#include "automation/automation_int.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "http/http.h"
#include "store/store.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX  16384 /* bytes of a request body */
#define LIMIT_MAX 1000  /* messages in one delivery log answer */

static struct auto_mod *mod(struct http_req *req)
{
    return req->state;
}

/* The subscription named by the {name} segment into s, or a 404 answered: 0 or -1. */
static int req_sub(struct http_req *req, struct auto_sub *s)
{
    const char *name = http_param(req, "name");
    int rc = auto_sub_get(mod(req), name ? name : "", s);
    if (rc == OC_ENOTFOUND)
        http_problem(req, 404, "no event subscription named %s", name ? name : "");
    else if (rc)
        http_reply_err(req, rc, "the subscription could not be read");
    return rc ? -1 : 0;
}

static void subs_post(struct http_req *req)
{
    json_t *b = http_body_json(req), *out = NULL;
    char why[320] = "";
    if (!b)
        return;
    int rc = json_is_object(b) ? auto_sub_create(mod(req), b, &out, why, sizeof why) : OC_EINVAL;
    if (rc == OC_EINVAL || rc == OC_ETOOBIG)
        http_problem(req, 422, "%s", why[0] ? why : "a JSON object {name, url, topics}");
    else if (rc == OC_ECONFLICT)
        http_problem(req, 409, "%s", why);
    else if (rc)
        http_reply_err(req, rc, "the subscription could not be stored");
    else
        http_reply_json(req, 201, out);
    json_decref(b);
}

static void subs_get(struct http_req *req)
{
    http_reply_json(
        req, 200,
        json_pack("{s:o}", "subscriptions", auto_sub_list(mod(req), req->role == HTTP_ADMIN)));
}

static void sub_get(struct http_req *req)
{
    struct auto_sub s;
    if (req_sub(req, &s) != 0)
        return;
    http_reply_json(req, 200, auto_sub_json(mod(req), &s, req->role == HTTP_ADMIN));
    auto_sub_free(&s);
}

static void sub_delete(struct http_req *req)
{
    struct auto_sub s;
    if (req_sub(req, &s) != 0)
        return;
    int rc = auto_sub_delete(mod(req), s.id);
    if (rc)
        http_reply_err(req, rc, "the subscription could not be deleted");
    else
        http_reply_json(req, 200, json_pack("{s:s, s:b}", "name", s.name, "deleted", 1));
    auto_sub_free(&s);
}

/* POST .../enable and .../disable. */
static void set_state(struct http_req *req, const char *state, const char *reason)
{
    struct auto_sub s;
    if (req_sub(req, &s) != 0)
        return;
    int rc = auto_sub_set_state(mod(req), s.id, state, reason);
    auto_sub_free(&s);
    if (rc) {
        http_reply_err(req, rc, "the subscription could not be changed");
        return;
    }
    if (req_sub(req, &s) != 0)
        return;
    http_reply_json(req, 200, auto_sub_json(mod(req), &s, req->role == HTTP_ADMIN));
    auto_sub_free(&s);
    if (strcmp(state, "live") == 0)
        auto_outbox_wake(mod(req));
}

static void sub_enable(struct http_req *req)
{
    set_state(req, "live", NULL);
}

static void sub_disable(struct http_req *req)
{
    char why[160];
    snprintf(why, sizeof why, "disabled by %s", req->principal ? req->principal : "an admin");
    set_state(req, "disabled", why);
}

static void sub_rotate(struct http_req *req)
{
    struct auto_sub s;
    json_t *b = NULL, *out = NULL;
    char why[320] = "";
    if (req->body_len && !(b = http_body_json(req)))
        return;
    if (req_sub(req, &s) != 0) {
        json_decref(b);
        return;
    }
    if (!b)
        b = json_object();
    int rc =
        json_is_object(b) ? auto_sub_rotate(mod(req), &s, b, &out, why, sizeof why) : OC_EINVAL;
    if (rc == OC_EINVAL)
        http_problem(req, 422, "%s", why[0] ? why : "a JSON object {secret?, algorithm?, keep?}");
    else if (rc)
        http_reply_err(req, rc, "the keys could not be stored");
    else
        http_reply_json(req, 200, out);
    auto_sub_free(&s);
    json_decref(b);
}

static void msgs_get(struct http_req *req)
{
    struct auto_sub s;
    const char *state = http_query(req, "state"), *l = http_query(req, "limit");
    long limit = 100;
    if (state && strcmp(state, "pending") && strcmp(state, "delivered") &&
        strcmp(state, "failed")) {
        http_problem(req, 422, "state: pending, delivered or failed");
        return;
    }
    if (l) {
        char *end;
        limit = strtol(l, &end, 10);
        if (*end || limit < 1 || limit > LIMIT_MAX) {
            http_problem(req, 422, "limit: an integer from 1 to %d", LIMIT_MAX);
            return;
        }
    }
    if (req_sub(req, &s) != 0)
        return;
    http_reply_json(
        req, 200,
        json_pack("{s:s, s:o}", "name", s.name, "messages",
                  auto_msgs_json(mod(req), s.id, state, (int)limit, req->role == HTTP_ADMIN)));
    auto_sub_free(&s);
}

static void msg_get(struct http_req *req)
{
    struct auto_sub s;
    const char *id = http_param(req, "msg_id");
    if (req_sub(req, &s) != 0)
        return;
    json_t *m = auto_msg_json(mod(req), s.id, id ? id : "", req->role == HTTP_ADMIN);
    if (m)
        http_reply_json(req, 200, m);
    else
        http_problem(req, 404, "no message %s for %s", id ? id : "", s.name);
    auto_sub_free(&s);
}

static void msg_replay(struct http_req *req)
{
    struct auto_sub s;
    const char *id = http_param(req, "msg_id");
    int count = 0;
    if (req_sub(req, &s) != 0)
        return;
    if (strcmp(s.state, "live") != 0) {
        http_problem(req, 409, "%s is disabled (%s): enable it first", s.name,
                     s.reason ? s.reason : "");
    } else if (auto_replay(mod(req), s.id, id ? id : "", 0, NULL, &count) != 0) {
        http_problem(req, 503, "the replay could not be stored");
    } else if (!count) {
        http_problem(req, 404, "no message %s for %s", id ? id : "", s.name);
    } else {
        http_reply_json(
            req, 202,
            json_pack("{s:s, s:s?, s:i}", "name", s.name, "msg_id", id, "replayed", count));
    }
    auto_sub_free(&s);
}

/* POST .../replay {since, state}: every finished message since a time. */
static void range_replay(struct http_req *req)
{
    static const char *const allowed[] = {"since", "state", NULL};
    struct auto_sub s;
    json_t *b = http_body_json(req);
    int64_t since = 0;
    int count = 0;
    char why[160];
    if (!b)
        return;
    const char *st = json_string_value(json_object_get(b, "state"));
    const char *since_t = json_string_value(json_object_get(b, "since"));
    const char *unknown = json_is_object(b) ? oc_json_unknown_key(b, allowed) : "body";
    if (unknown) {
        http_problem(req, 422, "%s: unknown field (since, state)", unknown);
    } else if (!since_t || oc_time_param(since_t, oc_clock_now_s(req->app->clock), &since, why,
                                         sizeof why) != 0) {
        http_problem(req, 422, "since: a time (RFC 3339, or now-2h)");
    } else if (st && strcmp(st, "failed") && strcmp(st, "delivered") && strcmp(st, "all")) {
        http_problem(req, 422, "state: failed (default), delivered or all");
    } else if (req_sub(req, &s) == 0) {
        if (strcmp(s.state, "live") != 0)
            http_problem(req, 409, "%s is disabled (%s): enable it first", s.name,
                         s.reason ? s.reason : "");
        else if (auto_replay(mod(req), s.id, NULL, since * 1000, st ? st : "failed", &count))
            http_problem(req, 503, "the replay could not be stored");
        else
            http_reply_json(req, 202, json_pack("{s:s, s:i}", "name", s.name, "replayed", count));
        auto_sub_free(&s);
    }
    json_decref(b);
}

/* Hourly: the delivery log keeps automation.log_days days of finished messages. */
static void trim_timer(struct oc_app *app, void *state)
{
    struct auto_mod *m = state;
    auto_outbox_trim(m, oc_clock_now_ms(app->clock) - m->o.log_days * 86400000);
}

static void render(struct oc_buf *b, void *arg)
{
    struct auto_mod *m = arg;
    static const struct {
        const char *name, *help;
        size_t off;
    } rows[] = {
        {"oncue_automation_queued_total", "Event subscription messages queued.",
         offsetof(struct auto_mod, queued)},
        {"oncue_automation_delivered_total", "Event subscription attempts answered 2xx.",
         offsetof(struct auto_mod, sent)},
        {"oncue_automation_failed_total", "Event subscription attempts that failed.",
         offsetof(struct auto_mod, failed)},
        {"oncue_automation_dropped_total",
         "Events not queued for a subscription holding automation.max_pending messages.",
         offsetof(struct auto_mod, dropped)},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        oc_metrics_family(b, rows[i].name, "counter", rows[i].help);
        oc_metrics_sample(b, rows[i].name, NULL,
                          (double)atomic_load((atomic_long *)((char *)m + rows[i].off)));
    }
}

#define F(field) offsetof(struct auto_opts, field)

static const struct oc_setting settings[] = {
    {"automation.outbound_allow", OC_SETTING_STR, "", 0, 0, NULL, F(outbound_allow), NULL,
     "private, loopback or link-local ranges event subscriptions may reach (\"127.0.0.1/32, "
     "10.0.0.0/8\"); others are refused at creation and at each connection"},
    {"automation.timeout_s", OC_SETTING_INT, "15", 1, 60, NULL, F(timeout_s), NULL,
     "seconds one delivery attempt may take before it counts as failed"},
    {"automation.max_subscriptions", OC_SETTING_INT, "100", 1, 256, NULL, F(max_subs), NULL,
     "event subscriptions that may exist; one more is refused (422)"},
    {"automation.max_pending", OC_SETTING_INT, "10000", 1, 10000000, NULL, F(max_pending), NULL,
     "messages one subscription may have waiting; past it new events are not queued for it "
     "(counted in oncue_automation_dropped_total)"},
    {"automation.log_days", OC_SETTING_INT, "30", 1, 3650, NULL, F(log_days), NULL,
     "days the delivery log keeps delivered and failed messages"},
    {0},
};

#undef F

static void auto_stop(struct oc_app *app, void *state);

static int auto_init(struct oc_app *app, void **state)
{
    struct auto_opts def;
    char why[200];
    *state = NULL;
    if (!app->store) {
        oc_log(OC_LOG_ERROR, "automation: the module needs the store");
        return OC_EINVAL;
    }
    if (sodium_init() < 0) {
        oc_log(OC_LOG_ERROR, "automation: libsodium cannot start");
        return OC_EIO;
    }
    struct auto_mod *m = oc_calloc(1, sizeof *m);
    m->app = app;
    m->o = *(const struct auto_opts *)config_module_opts(app->cfg, &automation_module, &def);
    int rc = oc_netguard_parse(&m->guard, m->o.outbound_allow, why, sizeof why);
    if (rc) {
        oc_log(OC_LOG_ERROR, "automation.outbound_allow: %s", why);
        free(m);
        return rc;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    pthread_mutex_init(&m->deliver_mu, NULL);
    auto_sub_recount(m);
    /* pending messages keep their due times and attempts across a restart: one waiting out
     * a receiver's failures or Retry-After stays waiting (no burst at start) */
    if (app->http && (rc = auto_outbox_start(m)) != 0) {
        oc_log(OC_LOG_ERROR, "automation: cannot start the delivery thread");
        auto_stop(app, m);
        return rc;
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    oc_app_provide(app, AUTOMATION_PROVIDES, m);
    *state = m;
    return 0;
}

static void auto_stop(struct oc_app *app, void *state)
{
    struct auto_mod *m = state;
    if (!m)
        return;
    if (oc_app_find(app, AUTOMATION_PROVIDES) == m)
        oc_app_withdraw(app, AUTOMATION_PROVIDES);
    auto_outbox_stop(m);
    pthread_mutex_destroy(&m->deliver_mu);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const struct oc_module_sub subs[] = {
    {"*", auto_on_event},
    {0},
};

static const struct oc_module_timer timers[] = {
    {"automation-trim", 3600 * 1000, trim_timer},
    {0},
};

static const struct http_route routes[] = {
    {"POST", "/v1/event-subscriptions", subs_post, HTTP_ADMIN, BODY_MAX,
     "{name, url, topics: [\"incident.*\", \"alert.fired\", \"*\"], secret? (whsec_ or whsk_), "
     "algorithm? (v1 | v1a: a key is generated)} -> 201 the subscription, with the generated "
     "secret (shown once) and an Ed25519 key's public_key; 422 names the field (a loopback, "
     "private or link-local target unless automation.outbound_allow lists it)"},
    {"GET", "/v1/event-subscriptions", subs_get, HTTP_VIEWER, 0,
     "{subscriptions: [{name, url (cut after the host unless admin), topics, state, reason "
     "(only who disabled it unless admin), "
     "signing_keys: [{version, public_key?}], messages: {pending, delivered, failed}}]}"},
    {"GET", "/v1/event-subscriptions/{name}", sub_get, HTTP_VIEWER, 0, "one subscription"},
    {"DELETE", "/v1/event-subscriptions/{name}", sub_delete, HTTP_ADMIN, 0,
     "deletes the subscription with its messages and delivery log"},
    {"POST", "/v1/event-subscriptions/{name}/enable", sub_enable, HTTP_ADMIN, 0,
     "live again (after a 410 or a disable): its pending messages are due at once"},
    {"POST", "/v1/event-subscriptions/{name}/disable", sub_disable, HTTP_ADMIN, 0,
     "stops deliveries; events are still queued"},
    {"POST", "/v1/event-subscriptions/{name}/rotate", sub_rotate, HTTP_ADMIN, BODY_MAX,
     "{secret?, algorithm?, keep? (old keys kept, default 1)}: a new signing key first; "
     "messages carry one signature per key -> the new secret (shown once)"},
    {"GET", "/v1/event-subscriptions/{name}/messages", msgs_get, HTTP_VIEWER, 0,
     "?state=pending|delivered|failed&limit=100: the delivery log, newest first (last_status "
     "for admins only)"},
    {"GET", "/v1/event-subscriptions/{name}/messages/{msg_id}", msg_get, HTTP_VIEWER, 0,
     "one message: its body and every attempt (status, error, ms, retry_after, next_attempt); "
     "a non-admin sees each attempt's at and next_attempt, no body and no receiver's answer"},
    {"POST", "/v1/event-subscriptions/{name}/messages/{msg_id}/replay", msg_replay, HTTP_ADMIN, 0,
     "sends the message again (same webhook-id), from attempt 1 -> 202"},
    {"POST", "/v1/event-subscriptions/{name}/replay", range_replay, HTTP_ADMIN, BODY_MAX,
     "{since: TIME, state?: failed|delivered|all}: every finished message since -> 202 "
     "{replayed}"},
    {0},
};

const struct oc_module automation_module = {
    .name = "automation",
    .summary = "event subscriptions: any bus topic as a signed Standard Webhooks message",
    .init = auto_init,
    .routes = routes,
    .timers = timers,
    .stop = auto_stop,
    .subs = subs,
    .settings = settings,
    .opts_size = sizeof(struct auto_opts),
};
