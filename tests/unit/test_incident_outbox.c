/*
 * test_incident_outbox.c - what the incident capability sends out: the Standard Webhooks
 * vectors and a key rotation, the outbox retry schedule against a local receiver that checks
 * every signature, loopback refused without incident.outbound_allow, each endpoint kind's body
 * (Slack, PagerDuty, ...), a catalog-routed incident's owner and runbook, 410 and Retry-After,
 * and Slack's escaped text fallback.
 */
#include "t_incident.h"
#include "catalog/catalog.h"
#include "incident/incident_int.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- Standard Webhooks vectors (docs/contracts.md "Outbound webhook signatures") --- */

/* A key rotation: two secrets sign one message; each signature is the one the secret alone
 * gives (the published vector), and a receiver holding either secret verifies. */
static void test_webhook_rotation(void)
{
    char sig[256];
    const char *b1 = "{\"test\": 2432232314}", *id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const char *old = "whsec_b25jdWUgcGVlcnM6IHRoZSBrZXkgYmVmb3JlIHJvdGF0aW9u";
    char both[128], old_alone[128];
    snprintf(both, sizeof both, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw  %s ", old);
    T_EQ_INT(
        incident_webhook_sign(old, id, 1614265330, b1, strlen(b1), old_alone, sizeof(old_alone)),
        0);
    T_EQ_INT(incident_webhook_sign(both, id, 1614265330, b1, strlen(b1), sig, sizeof(sig)), 0);
    char want[256];
    snprintf(want, sizeof want, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= %s", old_alone);
    T_EQ_STR(sig, want);
    T_EQ_INT(incident_webhook_verify(old, id, "1614265330", b1, strlen(b1), sig, 1614265330), 0);
    T_EQ_INT(incident_webhook_verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, "1614265330", b1,
                                     strlen(b1), sig, 1614265330),
             0);
    /* refused: one undecodable secret, five secrets, no room for both */
    T_EQ_INT(incident_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_***", id, 1, b1,
                                   strlen(b1), sig, sizeof(sig)),
             OC_EINVAL);
    T_EQ_INT(
        incident_webhook_sign("MTIz MTIz MTIz MTIz MTIz", id, 1, b1, strlen(b1), sig, sizeof(sig)),
        OC_EINVAL);
    T_EQ_INT(incident_webhook_sign(both, id, 1, b1, strlen(b1), sig, 64), OC_EINVAL);
    T_EQ_INT(incident_webhook_sign("   ", id, 1, b1, strlen(b1), sig, sizeof(sig)), OC_EINVAL);
}

static void test_webhook_vectors(void)
{
    char sig[128];
    const char *b1 = "{\"test\": 2432232314}";
    const char *b2 = "{\"type\": \"example.created\", \"timestamp\":\"2023-09-28T19:20:22+00:00\", "
                     "\"data\":{\"str\":\"string\",\"bool\":true,\"int\":42}}";
    const char *id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    T_EQ_INT(incident_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, 1614265330, b1,
                                   strlen(b1), sig, sizeof(sig)),
             0);
    T_EQ_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    T_EQ_INT(incident_webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, 1696200454, b2,
                                   strlen(b2), sig, sizeof(sig)),
             0);
    T_EQ_STR(sig, "v1,GgjvufBlIj71MBIVQotYGb+xEC3LNXCsIZp0HsDC8qs=");
    const char *sec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const char *good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330), 0);
    T_EQ_INT(incident_webhook_verify(
                 sec, id, "1614265330", b1, strlen(b1),
                 "v1a,xx v1,bad= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", 1614265330),
             0);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1),
                                     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd", 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), "v1,", 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), NULL, 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330 + 301),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330 - 301),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330 + 300),
             0);
    T_EQ_INT(incident_webhook_verify("", id, "1614265330", b1, strlen(b1), good, 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330.5", b1, strlen(b1), good, 1614265330),
             OC_EAUTH);
}

/* --- the outbox against a local receiver --- */

struct receiver {
    int fd, port;
    int fail_first;         /* answer fail_code this many times */
    int fail_code;          /* 0: 500 */
    int retry_after;        /* sent with failures when > 0 */
    char bodies[8][8192];   /* the first requests' paths and bodies */
    int requests, verified; /* counted */
    char secret[64];
    pthread_t th;
};

static const char *header_of(const char *req, const char *name, char *out, size_t n)
{
    const char *p = strcasestr(req, name);
    out[0] = 0;
    if (!p)
        return NULL;
    p += strlen(name);
    while (*p == ' ')
        p++;
    size_t len = strcspn(p, "\r\n");
    snprintf(out, n, "%.*s", (int)(len < n - 1 ? len : n - 1), p);
    return out;
}

/* Serves one request on c: reads it whole, checks its signature, answers. */
static void serve_one(struct receiver *r, int c)
{
    char req[16384], id[128], ts[64], sig[256], cl[32];
    size_t got = 0;
    ssize_t k;
    const char *body = NULL;
    while (got < sizeof(req) - 1 && (k = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
        got += (size_t)k;
        req[got] = 0;
        body = strstr(req, "\r\n\r\n");
        if (body && header_of(req, "Content-Length:", cl, sizeof(cl)) &&
            strlen(body + 4) >= (size_t)strtol(cl, NULL, 10))
            break;
    }
    r->requests++;
    if (body && header_of(req, "webhook-id:", id, sizeof(id)) &&
        header_of(req, "webhook-timestamp:", ts, sizeof(ts)) &&
        header_of(req, "webhook-signature:", sig, sizeof(sig)) &&
        incident_webhook_verify(r->secret, id, ts, body + 4, strlen(body + 4), sig,
                                oc_wall_ms() / 1000) == 0)
        r->verified++;
    if (r->requests <= 8)
        snprintf(r->bodies[r->requests - 1], sizeof(r->bodies[0]), "%.*s %s",
                 (int)strcspn(req + 6, " "), req + 6, body ? body + 4 : "");
    char ans[256];
    if (r->requests <= r->fail_first)
        snprintf(ans, sizeof(ans),
                 "HTTP/1.1 %d Failed\r\nContent-Length: 0\r\n%s%.0d%sConnection: close\r\n\r\n",
                 r->fail_code ? r->fail_code : 500, r->retry_after > 0 ? "Retry-After: " : "",
                 r->retry_after, r->retry_after > 0 ? "\r\n" : "");
    else
        snprintf(ans, sizeof(ans),
                 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    T_TRUE(write(c, ans, strlen(ans)) > 0);
    close(c);
}

static void *receiver_main(void *arg)
{
    struct receiver *r = arg;
    int c;
    while ((c = accept(r->fd, NULL, NULL)) >= 0)
        serve_one(r, c);
    return NULL;
}

static void receiver_start(struct receiver *r)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    T_EQ_INT(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    T_EQ_INT(listen(r->fd, 16), 0);
    getsockname(r->fd, (struct sockaddr *)&a, &len);
    r->port = ntohs(a.sin_port);
    pthread_create(&r->th, NULL, receiver_main, r);
}

static void receiver_stop(struct receiver *r)
{
    shutdown(r->fd, SHUT_RDWR);
    close(r->fd);
    pthread_join(r->th, NULL);
}

static void test_outbox_retry_schedule(void)
{
    struct fx f;
    struct receiver r;
    char url[64];
    int pending, delivered, failed;
    fx_open(&f);
    memset(&r, 0, sizeof(r));
    r.fail_first = 3;
    snprintf(r.secret, sizeof(r.secret), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    receiver_start(&r);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", r.port);
    struct incident_outbox *ob = incident_outbox(f.m);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "generic", "webhook", url, r.secret, NULL), 0);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "bad", "webhook", url, NULL, NULL), OC_EINVAL);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08); /* incident.opened */
    static const int64_t waits[] = {0, 5, 300, 1800};
    for (int i = 0; i < 4; i++) {
        advance_s(&f, waits[i] - 1);
        if (waits[i] > 0) /* not yet due */
            T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 0);
        advance_s(&f, 1);
        T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    }
    advance_s(&f, 86400);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 0);
    incident_outbox_counts(ob, &pending, &delivered, &failed);
    T_EQ_INT(delivered, 1);
    T_EQ_INT(pending, 0);
    T_EQ_INT(r.requests, 4);
    T_EQ_INT(r.verified, 4);
    json_t *log = incident_outbox_json(ob, 10, 0);
    json_t *msg = json_array_get(log, 0);
    T_EQ_STR(str(msg, "topic"), "incident.opened");
    T_EQ_INT(json_integer_value(json_object_get(msg, "attempts")), 4);
    T_EQ_INT(json_array_size(json_object_get(msg, "attempt_log")), 4);
    T_EQ_INT(json_integer_value(
                 json_object_get(json_array_get(json_object_get(msg, "attempt_log"), 0), "status")),
             500);
    json_decref(log);
    log = incident_outbox_json(ob, 10, 1); /* another role: no answers or errors */
    msg = json_array_get(log, 0);
    T_EQ_INT(json_integer_value(json_object_get(msg, "attempts")), 4);
    T_EQ_STR(str(msg, "state"), "delivered");
    T_TRUE(json_object_get(msg, "attempt_log") == NULL);
    T_TRUE(json_object_get(msg, "last_status") == NULL);
    json_decref(log);
    receiver_stop(&r);
    fx_close(&f);
}

/* Without incident.outbound_allow a delivery to the server's own host is refused at connect
 * time (the receiver hears nothing) and the attempt log says why and how to allow it; a bad
 * allow list stops the manager from starting, naming the setting. */
static void test_outbox_refuses_loopback(void)
{
    struct fx f;
    struct receiver r;
    char url[64], err[256];
    fx_allow = "";
    fx_open(&f);
    fx_allow = "127.0.0.1";
    memset(&r, 0, sizeof(r));
    snprintf(r.secret, sizeof(r.secret), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    receiver_start(&r);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", r.port);
    struct incident_outbox *ob = incident_outbox(f.m);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "local", "webhook", url, r.secret, NULL), 0);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    T_EQ_INT(r.requests, 0);
    json_t *log = incident_outbox_json(ob, 10, 0);
    const char *e = json_string_value(json_object_get(
        json_array_get(json_object_get(json_array_get(log, 0), "attempt_log"), 0), "error"));
    T_EQ_STR(e ? e : "(none)", "refused to connect to 127.0.0.1: a loopback address (list it in "
                               "incident.outbound_allow to allow it)");
    json_decref(log);
    receiver_stop(&r);

    struct incident_opts o;
    struct incident_mgr *m = NULL;
    incident_opts_default(&o);
    o.outbound_allow = "10.0.0.0/33";
    T_EQ_INT(incident_mgr_new(&f.app, &o, &m, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "incident.outbound_allow: \"10.0.0.0/33\" is not an address or a range "
                  "(10.0.0.0/8, ::1)");
    fx_close(&f);
}

/* The JSON body of a receiver's record "path {...}" (new reference). */
static json_t *body_json(const char *rec)
{
    const char *b = strchr(rec, ' ');
    json_t *j = b ? json_loads(b + 1, 0, NULL) : NULL;
    T_TRUE(j != NULL);
    return j;
}

/* The value at a jansson path of dot-separated keys and array indexes ("a.0.b"), or NULL. */
static const json_t *at(const json_t *j, const char *path)
{
    char key[64];
    while (j && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        j = json_is_array(j) ? json_array_get(j, strtoul(key, NULL, 10)) : json_object_get(j, key);
        path += n + (path[n] == '.');
    }
    return j;
}

static const char *at_str(const json_t *j, const char *path)
{
    const char *s = json_string_value(at(j, path));
    return s ? s : "(none)";
}

static void test_outbox_kinds(void)
{
    struct fx f;
    struct receiver r;
    char url[96];
    fx_public_url = "https://oncue.example/";
    fx_open(&f);
    fx_public_url = "";
    memset(&r, 0, sizeof(r));
    receiver_start(&r);
    struct incident_outbox *ob = incident_outbox(f.m);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/slack", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "s", "slack", url, NULL, NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/teams", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "t", "teams", url, NULL, NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/pd", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "p", "pagerduty", url, "R0UTINGKEY", NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/legacy", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "l", "teams_legacy", url, NULL, NULL), 0);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "x", "email", url, NULL, NULL), OC_EINVAL);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "w", "webhook", url, "whsec_not*base64", NULL),
             OC_EINVAL);
    fake.affected_share = 0.2;
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 4);
    T_EQ_INT(incident_ack(f.m, 1, "carol"), 0);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 4);
    T_EQ_INT(r.requests, 8);

    /* Slack: Block Kit with the text fallback, the facts and the links */
    T_TRUE(strncmp(r.bodies[0], "slack ", 6) == 0);
    json_t *j = body_json(r.bodies[0]);
    T_EQ_STR(at_str(j, "text"), "[oncue] INC-1 opened SEV2: rebuffering_share in region=EMEA");
    T_EQ_STR(at_str(j, "blocks.0.type"), "header");
    T_EQ_STR(at_str(j, "blocks.0.text.text"),
             "INC-1 opened SEV2: rebuffering_share in region=EMEA");
    T_EQ_STR(at_str(j, "blocks.1.type"), "section");
    T_EQ_STR(at_str(j, "blocks.1.fields.0.text"), "*Severity*\nSEV2");
    T_EQ_STR(at_str(j, "blocks.1.fields.1.text"), "*State*\ntriggered");
    T_EQ_STR(at_str(j, "blocks.1.fields.2.text"), "*Slice*\nregion=EMEA");
    T_EQ_STR(at_str(j, "blocks.2.type"), "actions");
    T_EQ_STR(at_str(j, "blocks.2.elements.0.url"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.text.text"), "Status page");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.url"), "https://oncue.example/status");
    json_decref(j);

    /* Teams: a Workflows message with one Adaptive Card */
    j = body_json(r.bodies[1]);
    T_EQ_STR(at_str(j, "type"), "message");
    T_EQ_STR(at_str(j, "attachments.0.contentType"), "application/vnd.microsoft.card.adaptive");
    T_TRUE(json_is_null(at(j, "attachments.0.contentUrl")));
    T_EQ_STR(at_str(j, "attachments.0.content.type"), "AdaptiveCard");
    T_EQ_STR(at_str(j, "attachments.0.content.version"), "1.4");
    T_EQ_STR(at_str(j, "attachments.0.content.body.0.text"),
             "INC-1 opened SEV2: rebuffering_share in region=EMEA");
    T_EQ_STR(at_str(j, "attachments.0.content.body.0.color"), "Attention");
    T_EQ_STR(at_str(j, "attachments.0.content.body.1.type"), "FactSet");
    T_EQ_STR(at_str(j, "attachments.0.content.body.1.facts.2.title"), "Slice");
    T_EQ_STR(at_str(j, "attachments.0.content.body.1.facts.2.value"), "region=EMEA");
    T_EQ_STR(at_str(j, "attachments.0.content.actions.0.type"), "Action.OpenUrl");
    T_EQ_STR(at_str(j, "attachments.0.content.actions.0.url"),
             "https://oncue.example/#/incidents/INC-1");
    json_decref(j);

    /* PagerDuty: routing key at send time; source, class, links and client_url */
    j = body_json(r.bodies[2]);
    T_EQ_STR(at_str(j, "routing_key"), "R0UTINGKEY");
    T_EQ_STR(at_str(j, "event_action"), "trigger");
    T_EQ_STR(at_str(j, "dedup_key"), "oncue/INC-1");
    T_EQ_STR(at_str(j, "payload.severity"), "error");
    T_EQ_STR(at_str(j, "payload.source"), "region=EMEA"); /* no service routed here */
    T_EQ_STR(at_str(j, "payload.class"), "rebuffering_share");
    T_TRUE(at(j, "payload.component") == NULL);
    T_EQ_STR(at_str(j, "client"), "oncue");
    T_EQ_STR(at_str(j, "client_url"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "links.0.href"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "links.1.text"), "Status page");
    json_decref(j);

    T_CONTAINS(r.bodies[3], "legacy {\"@type\":\"MessageCard\"");

    /* the acknowledgement: Slack says who, PagerDuty acknowledges the same dedup key */
    j = body_json(r.bodies[4]);
    T_EQ_STR(at_str(j, "text"), "[oncue] INC-1 acknowledged SEV2: rebuffering_share in "
                                "region=EMEA");
    T_EQ_STR(at_str(j, "blocks.1.text.text"), "Acknowledged by carol.");
    T_EQ_STR(at_str(j, "blocks.2.fields.1.text"), "*State*\nacknowledged");
    json_decref(j);
    T_EQ_STR(r.bodies[6], "pd {\"routing_key\":\"R0UTINGKEY\",\"event_action\":\"acknowledge\","
                          "\"dedup_key\":\"oncue/INC-1\"}");
    receiver_stop(&r);
    fx_close(&f);
}

/* An incident routed to a catalog service: Slack shows its owner and on-call and offers the
 * service's runbook; PagerDuty places it with source, component and group. */
static void test_outbox_service_routed(void)
{
    struct fx f;
    struct receiver r;
    char url[96];
    void *cat = NULL;
    fx_public_url = "https://oncue.example/";
    fx_open(&f);
    fx_public_url = "";
    memset(&r, 0, sizeof(r));
    receiver_start(&r);
    T_EQ_INT(catalog_module.init(&f.app, &cat), 0); /* the example catalog */
    struct incident_outbox *ob = incident_outbox(f.m);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/slack", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "s", "slack", url, NULL, NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/pd", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "p", "pagerduty", url, "R0UTINGKEY", NULL), 0);
    fake.affected_share = 0.2;
    fire(&f, "reb/primary", "{\"cdn\": \"primary\"}", "page", 0.08);
    json_t *a = get(&f, 1);
    T_EQ_STR(str(a, "service"), "cdn-primary");
    T_EQ_STR(str(a, "team"), "cdn-ops");
    json_decref(a);
    /* Slack hears the page and the opening; PagerDuty the trigger */
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 3);
    T_EQ_INT(r.requests, 3);
    T_EQ_INT(strncmp(r.bodies[0], "slack ", 6), 0);
    json_t *j = body_json(r.bodies[0]);
    /* the week of 2025-11-24 is six before the rotation's start: amara, bjorn, chen, dara */
    T_EQ_STR(at_str(j, "blocks.1.text.text"), "Paged chen of cdn-ops.");
    json_decref(j);
    T_EQ_INT(strncmp(r.bodies[1], "slack ", 6), 0);
    j = body_json(r.bodies[1]);
    T_EQ_STR(at_str(j, "text"),
             "[oncue] INC-1 opened SEV2: rebuffering_share in cdn=primary team cdn-ops");
    T_EQ_STR(at_str(j, "blocks.1.fields.0.text"), "*Severity*\nSEV2");
    T_EQ_STR(at_str(j, "blocks.1.fields.1.text"), "*State*\ntriggered");
    T_EQ_STR(at_str(j, "blocks.1.fields.2.text"), "*Owner*\ncdn-ops");
    T_EQ_STR(at_str(j, "blocks.1.fields.3.text"), "*Service*\ncdn-primary");
    T_EQ_STR(at_str(j, "blocks.1.fields.4.text"), "*On call*\nchen");
    T_EQ_STR(at_str(j, "blocks.1.fields.5.text"), "*Slice*\ncdn=primary");
    T_EQ_STR(at_str(j, "blocks.2.elements.0.url"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.text.text"), "Runbook");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.url"), "https://runbooks.example.com/cdn-primary");
    T_EQ_STR(at_str(j, "blocks.2.elements.2.text.text"), "Status page");
    json_decref(j);

    T_EQ_INT(strncmp(r.bodies[2], "pd ", 3), 0);
    j = body_json(r.bodies[2]);
    T_EQ_STR(at_str(j, "payload.source"), "cdn-primary");
    T_EQ_STR(at_str(j, "payload.component"), "cdn-primary");
    T_EQ_STR(at_str(j, "payload.group"), "cdn-ops");
    T_EQ_STR(at_str(j, "payload.class"), "rebuffering_share");
    T_EQ_STR(at_str(j, "links.1.text"), "Runbook");
    T_EQ_STR(at_str(j, "links.1.href"), "https://runbooks.example.com/cdn-primary");
    json_decref(j);
    receiver_stop(&r);
    catalog_module.stop(&f.app, cat);
    fx_close(&f);
}

static void test_outbox_410_and_retry_after(void)
{
    struct fx f;
    struct receiver r;
    char url[96], err[64];
    int pending, delivered, failed;
    fx_open(&f);
    memset(&r, 0, sizeof(r));
    r.fail_first = 1;
    r.fail_code = 429;
    r.retry_after = 120;
    receiver_start(&r);
    struct incident_outbox *ob = incident_outbox(f.m);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "g", "webhook", url, "whsec_c2VjcmV0", NULL), 0);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1); /* 429, Retry-After 120 */
    advance_s(&f, 119);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 0); /* not the 5 s step */
    advance_s(&f, 1);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    incident_outbox_counts(ob, &pending, &delivered, &failed);
    T_EQ_INT(delivered, 1);
    /* 410 Gone disables the endpoint and drops what it still had queued */
    r.fail_first = 100;
    r.fail_code = 410;
    r.retry_after = 0;
    T_EQ_INT(incident_ack(f.m, 1, "carol"), 0);
    T_EQ_INT(incident_status_update(f.m, 1, "c", "identified", "y", err, sizeof(err)), 0);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    json_t *eps = incident_outbox_endpoints_json(ob, 0);
    T_TRUE(json_is_integer(json_object_get(json_array_get(eps, 0), "disabled_at")));
    json_decref(eps);
    incident_outbox_counts(ob, &pending, &delivered, &failed);
    T_EQ_INT(pending, 0);
    T_EQ_INT(failed, 2);
    T_EQ_INT(r.requests, 3);
    fire(&f, "reb/NA", "{\"region\": \"NA\"}", "page", 0.08); /* nothing queued any more */
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock) + 86400), 0);
    receiver_stop(&r);
    fx_close(&f);
}

/* Slack reads the text fallback as mrkdwn, like the blocks: &, < and > are escaped there
 * too; the header is plain text and keeps them. */
static void test_slack_escapes_fallback(void)
{
    struct inc_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.topic = "incident.opened";
    json_t *p = json_pack("{s:s}", "incident_id", "INC-7");
    msg.payload = p;
    msg.found = 1;
    snprintf(msg.id, sizeof msg.id, "INC-7");
    snprintf(msg.severity, sizeof msg.severity, "SEV2");
    snprintf(msg.title, sizeof msg.title, "vsf_rate > 5%% & <b>");
    json_t *b = inc_msg_body("slack", &msg, 1772480000);
    T_TRUE(b != NULL);
    const char *text = json_string_value(json_object_get(b, "text"));
    T_TRUE(text && strstr(text, "vsf_rate &gt; 5% &amp; &lt;b&gt;") != NULL);
    const char *head = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "blocks"), 0), "text"), "text"));
    T_TRUE(head && strstr(head, "vsf_rate > 5% & <b>") != NULL);
    json_decref(b);
    json_decref(p);
}

static const struct t_case cases[] = {
    T_CASE(test_webhook_vectors),
    T_CASE(test_webhook_rotation),
    T_CASE(test_outbox_retry_schedule),
    T_CASE(test_outbox_refuses_loopback),
    T_CASE(test_outbox_kinds),
    T_CASE(test_outbox_service_routed),
    T_CASE(test_outbox_410_and_retry_after),
    T_CASE(test_slack_escapes_fallback),
    {0},
};

T_MAIN(cases)
