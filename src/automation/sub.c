/*
 * sub.c - event subscriptions: a name, a target URL, topic filters and signing keys (several
 * while a key rotates). The URL and the keys are sealed at rest (store/seal.c); an answer
 * shows the URL cut after its host unless the caller is an admin, and never a key: a secret
 * is shown once, in the answer that created it, and an Ed25519 key only as its public half.
 * A target whose host resolves to a loopback, private or link-local address is refused at
 * creation unless automation.outbound_allow lists it (and again at each connection).
 */
#include "automation/automation_int.h"
#include "automation/sql.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/suggest.h"
#include "core/timefmt.h"
#include "core/topics.h"
#include "core/webhook.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int automation_topic_matches(const char *filter, const char *topic)
{
    size_t fl = strlen(filter);
    if (strcmp(filter, "*") == 0 || strcmp(filter, topic) == 0)
        return 1;
    return fl >= 2 && filter[fl - 1] == '*' && filter[fl - 2] == '.' &&
           strncmp(filter, topic, fl - 1) == 0;
}

/* 1 when filter selects at least one bus event of core/events.c. */
static int filter_known(const char *filter)
{
    for (const struct oc_event_doc *e = oc_event_docs; e->type; e++)
        if ((e->reach & OC_EV_BUS) && automation_topic_matches(filter, e->type))
            return 1;
    return 0;
}

int automation_topics_check(const char *list, char *why, size_t n)
{
    char one[80];
    int count = 0;
    if (!list || !list[0]) {
        snprintf(why, n, "topics: at least one topic (\"*\" for every one)");
        return OC_EINVAL;
    }
    for (const char *p = list; *p;) {
        p += strspn(p, ", ");
        size_t tl = strcspn(p, ",");
        while (tl && p[tl - 1] == ' ')
            tl--;
        if (!tl)
            break;
        if (tl >= sizeof one || ++count > AUTO_TOPICS_MAX) {
            snprintf(why, n, "topics: at most %d filters of at most %zu bytes", AUTO_TOPICS_MAX,
                     sizeof one - 1);
            return OC_EINVAL;
        }
        memcpy(one, p, tl);
        one[tl] = 0;
        if (!filter_known(one)) {
            struct oc_suggest sg;
            char hint[120];
            oc_suggest_init(&sg, one, tl);
            for (const struct oc_event_doc *e = oc_event_docs; e->type; e++)
                if (e->reach & OC_EV_BUS)
                    oc_suggest_add(&sg, e->type);
            snprintf(why, n, "topics: unknown topic %s%s", one,
                     oc_suggest_hint(&sg, hint, sizeof hint));
            return OC_EINVAL;
        }
        p += tl;
        p += strcspn(p, ",");
    }
    if (!count) {
        snprintf(why, n, "topics: at least one topic (\"*\" for every one)");
        return OC_EINVAL;
    }
    return 0;
}

void auto_sub_recount(struct auto_mod *m)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    store_lock(s);
    if (store_prepare(s, AUTO_SQL_SUB_COUNT, &q) == 0) {
        if (store_step(q) == STORE_ROW)
            atomic_store(&m->nsubs, store_col_int(q, 0));
        store_reset(q);
    }
    store_unlock(s);
}

void auto_sub_free(struct auto_sub *s)
{
    if (s->keys)
        sodium_memzero(s->keys, strlen(s->keys));
    free(s->url);
    free(s->keys);
    free(s->topics);
    free(s->reason);
    memset(s, 0, sizeof *s);
}

/* Fills s from a row of AUTO_SQL_SUB_GET / _LIST (under the store's lock). */
static void sub_row(struct store *st, struct store_stmt *q, struct auto_sub *s)
{
    memset(s, 0, sizeof *s);
    s->id = store_col_int(q, 0);
    snprintf(s->name, sizeof s->name, "%s", store_col_text(q, 1));
    if (store_unseal(st, store_col_text(q, 2), &s->url) != 0)
        s->url = NULL;
    if (store_unseal(st, store_col_text(q, 3), &s->keys) != 0)
        s->keys = NULL;
    s->topics = oc_strdup(store_col_text(q, 4) ? store_col_text(q, 4) : "");
    snprintf(s->state, sizeof s->state, "%s", store_col_text(q, 5));
    s->reason = store_col_text(q, 6) ? oc_strdup(store_col_text(q, 6)) : NULL;
    s->created_ms = store_col_int(q, 7);
    s->changed_ms = store_col_int(q, 8);
}

int auto_sub_get(struct auto_mod *m, const char *name, struct auto_sub *out)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    int rc = OC_EDB;
    memset(out, 0, sizeof *out);
    store_lock(s);
    if (store_prepare(s, AUTO_SQL_SUB_GET, &q) == 0) {
        store_bind_text(q, 1, name);
        int r = store_step(q);
        if (r == STORE_ROW) {
            sub_row(s, q, out);
            rc = 0;
        } else if (r == STORE_DONE) {
            rc = OC_ENOTFOUND;
        }
        store_reset(q);
    }
    store_unlock(s);
    return rc;
}

int auto_url_check(const struct auto_mod *m, const char *url, char *why, size_t n)
{
    char *host = NULL, *port = NULL;
    struct addrinfo hints, *res = NULL;
    int rc = OC_EINVAL;
    if (!url || strlen(url) > AUTO_URL_MAX ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        snprintf(why, n, "url: an http:// or https:// URL of at most %d bytes", AUTO_URL_MAX);
        return OC_EINVAL;
    }
    CURLU *u = curl_url();
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(why, n, "url: not a valid URL");
        goto out;
    }
    char h[256];
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2) /* an IPv6 literal */
        snprintf(h, sizeof h, "%.*s", (int)(hl - 2), host + 1);
    else
        snprintf(h, sizeof h, "%s", host);
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(h, port, &hints, &res) != 0 || !res) {
        snprintf(why, n, "url: the host %s does not resolve", h);
        goto out;
    }
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        const char *no = oc_netguard_refuses(&m->guard, a->ai_addr);
        if (no) {
            char text[INET6_ADDRSTRLEN] = "?";
            const void *p =
                a->ai_family == AF_INET6
                    ? (const void *)&((struct sockaddr_in6 *)(void *)a->ai_addr)->sin6_addr
                    : (const void *)&((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr;
            inet_ntop(a->ai_family, p, text, sizeof text);
            snprintf(why, n,
                     "url: %s is a %s address; list it in automation.outbound_allow to allow it",
                     text, no);
            goto out;
        }
    }
    rc = 0;
out:
    if (res)
        freeaddrinfo(res);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

void auto_key_new(int ed25519, char *out, size_t n)
{
    unsigned char k[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_sign_SECRETKEYBYTES, sodium_base64_VARIANT_ORIGINAL)];
    size_t len = 32;
    if (ed25519) {
        crypto_sign_keypair(pk, k);
        len = crypto_sign_SECRETKEYBYTES;
    } else {
        randombytes_buf(k, len);
    }
    sodium_bin2base64(b64, sizeof b64, k, len, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, n, "%s%s", ed25519 ? "whsk_" : "whsec_", b64);
    sodium_memzero(k, sizeof k);
    sodium_memzero(b64, sizeof b64);
}

/* 1 when name is 1..AUTO_NAME_MAX bytes of [A-Za-z0-9_.-]. */
static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > AUTO_NAME_MAX)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Topics from a body's "topics": an array of strings or one comma-separated string, joined
 * into out. 0 or OC_EINVAL. */
static int topics_text(const json_t *v, char *out, size_t n)
{
    size_t at = 0;
    out[0] = 0;
    if (json_is_string(v)) {
        snprintf(out, n, "%s", json_string_value(v));
        return strlen(json_string_value(v)) < n ? 0 : OC_EINVAL;
    }
    if (!json_is_array(v))
        return OC_EINVAL;
    size_t i;
    const json_t *t;
    json_array_foreach(v, i, t)
    {
        if (!json_is_string(t))
            return OC_EINVAL;
        int w = snprintf(out + at, n - at, "%s%s", at ? "," : "", json_string_value(t));
        if (w < 0 || (size_t)w >= n - at)
            return OC_EINVAL;
        at += (size_t)w;
    }
    return 0;
}

/* A new key per the body's "algorithm" ("v1", default, or "v1a"), or the body's "secret"
 * checked by signing with it; into key. 0 or OC_EINVAL with why. *generated says which. */
static int key_from(const json_t *b, char *key, size_t n, int *generated, char *why, size_t wn)
{
    const char *secret = json_string_value(json_object_get(b, "secret"));
    const char *alg = json_string_value(json_object_get(b, "algorithm"));
    char sig[OC_WEBHOOK_SIG_MAX];
    *generated = 0;
    if (alg && strcmp(alg, "v1") != 0 && strcmp(alg, "v1a") != 0) {
        snprintf(why, wn, "algorithm: v1 (HMAC-SHA256) or v1a (Ed25519)");
        return OC_EINVAL;
    }
    if (secret) {
        if (strchr(secret, ' ') || strlen(secret) >= n ||
            oc_webhook_sign(secret, "msg_check", 0, "", 0, sig, sizeof sig) != 0) {
            snprintf(why, wn,
                     "secret: one whsec_ base64 secret or one whsk_ base64 Ed25519 "
                     "secret key");
            return OC_EINVAL;
        }
        snprintf(key, n, "%s", secret);
        return 0;
    }
    auto_key_new(alg && strcmp(alg, "v1a") == 0, key, n);
    *generated = 1;
    return 0;
}

/* Adds the key to an answer: "secret" when generated, "public_key" for an Ed25519 key. */
static void key_answer(json_t *a, const char *key, int generated)
{
    char pk[128];
    if (generated)
        json_object_set_new(a, "secret", json_string(key));
    if (oc_webhook_public(key, pk, sizeof pk) == 0)
        json_object_set_new(a, "public_key", json_string(pk));
}

int auto_sub_create(struct auto_mod *m, const json_t *b, json_t **out, char *why, size_t n)
{
    static const char *const allowed[] = {"name", "url", "topics", "secret", "algorithm", NULL};
    struct store *s = m->app->store;
    struct store_stmt *q;
    char tl[2048], key[256];
    int generated = 0, rc;
    const char *name = json_string_value(json_object_get(b, "name"));
    const char *url = json_string_value(json_object_get(b, "url"));
    const char *unknown = oc_json_unknown_key(b, allowed);
    if (unknown) {
        snprintf(why, n, "%s: unknown field (name, url, topics, secret, algorithm)", unknown);
        return OC_EINVAL;
    }
    if (!name_ok(name)) {
        snprintf(why, n, "name: 1 to %d letters, digits, '_', '.' or '-'", AUTO_NAME_MAX);
        return OC_EINVAL;
    }
    if (topics_text(json_object_get(b, "topics"), tl, sizeof tl) != 0) {
        snprintf(why, n, "topics: an array of topic names (or one comma-separated string)");
        return OC_EINVAL;
    }
    if ((rc = automation_topics_check(tl, why, n)) != 0)
        return rc;
    if ((rc = auto_url_check(m, url, why, n)) != 0) /* last: it may ask the DNS */
        return rc;
    if ((rc = key_from(b, key, sizeof key, &generated, why, n)) != 0)
        return rc;
    int64_t now = oc_clock_now_ms(m->app->clock), count = 0;
    char *surl = store_seal(s, url), *skey = store_seal(s, key);
    rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, AUTO_SQL_SUB_COUNT, &q) == 0) {
        count = store_step(q) == STORE_ROW ? store_col_int(q, 0) : 0;
        store_reset(q);
    }
    if (count >= m->o.max_subs) {
        snprintf(why, n, "name: already %lld subscriptions (automation.max_subscriptions)",
                 (long long)count);
        rc = OC_ETOOBIG;
    } else if (surl && skey && store_prepare(s, AUTO_SQL_SUB_ADD, &q) == 0) {
        STORE_BIND(q, STORE_TEXT(name), STORE_TEXT(surl), STORE_TEXT(skey), STORE_TEXT(tl),
                   STORE_INT(now));
        int r = store_step(q);
        store_reset(q);
        rc = r == STORE_DONE ? 0 : OC_ECONFLICT;
        if (rc)
            snprintf(why, n, "name: a subscription named %s exists", name);
    }
    store_unlock(s);
    free(surl);
    free(skey);
    auto_sub_recount(m);
    if (!rc) {
        struct auto_sub sub;
        if (auto_sub_get(m, name, &sub) == 0) {
            *out = auto_sub_json(m, &sub, 1);
            key_answer(*out, key, generated);
            auto_sub_free(&sub);
        } else {
            rc = OC_EDB;
        }
    }
    sodium_memzero(key, sizeof key);
    return rc;
}

/* [{version, public_key?}] of a key list. */
static json_t *keys_json(const char *keys)
{
    json_t *a = json_array();
    char one[256], pk[128];
    for (const char *p = keys ? keys : ""; *p;) {
        p += strspn(p, " ");
        size_t tl = strcspn(p, " ");
        if (!tl)
            break;
        snprintf(one, sizeof one, "%.*s", (int)tl, p);
        json_t *k = json_pack("{s:s}", "version", strncmp(one, "whsk_", 5) == 0 ? "v1a" : "v1");
        if (oc_webhook_public(one, pk, sizeof pk) == 0)
            json_object_set_new(k, "public_key", json_string(pk));
        json_array_append_new(a, k);
        p += tl;
    }
    sodium_memzero(one, sizeof one);
    return a;
}

const char *auto_reason_shown(const char *reason, int full, char *buf, size_t n)
{
    if (!reason || !*reason)
        return NULL;
    if (!full)
        return strncmp(reason, "disabled by ", 12) == 0
                   ? "disabled by an admin"
                   : "disabled by the server after a delivery (admins see why)";
    size_t len = strlen(reason);
    if (len > AUTO_REASON_MAX)
        len = AUTO_REASON_MAX;
    if (len >= n)
        len = n - 1;
    while (len > 0 && ((unsigned char)reason[len] & 0xC0) == 0x80)
        len--; /* not inside a UTF-8 sequence */
    memcpy(buf, reason, len);
    buf[len] = '\0';
    return buf;
}

json_t *auto_sub_json(struct auto_mod *m, const struct auto_sub *s, int full)
{
    char why[AUTO_REASON_MAX + 1];
    struct store *st = m->app->store;
    struct store_stmt *q;
    char shown[AUTO_URL_MAX + 8], t1[OC_TIME_LEN], t2[OC_TIME_LEN];
    int64_t p = 0, d = 0, f = 0;
    if (!s->url)
        snprintf(shown, sizeof shown, "(does not open with DATA/oncue.key)");
    else if (full)
        snprintf(shown, sizeof shown, "%s", s->url);
    else
        oc_url_cut(s->url, shown, sizeof shown);
    store_lock(st);
    if (store_prepare(st, AUTO_SQL_MSG_COUNTS, &q) == 0) {
        store_bind_int(q, 1, s->id);
        if (store_step(q) == STORE_ROW) {
            p = store_col_int(q, 0);
            d = store_col_int(q, 1);
            f = store_col_int(q, 2);
        }
        store_reset(q);
    }
    store_unlock(st);
    oc_time_format(s->created_ms, t1, sizeof t1);
    oc_time_format(s->changed_ms, t2, sizeof t2);
    json_t *topics_a = json_array();
    for (const char *c = s->topics; *c;) {
        size_t tl = strcspn(c, ",");
        if (tl)
            json_array_append_new(topics_a, json_stringn(c, tl));
        c += tl + (c[tl] == ',');
    }
    return json_pack("{s:s, s:s, s:o, s:s, s:s?, s:o, s:s, s:s, s:{s:I, s:I, s:I}}", "name",
                     s->name, "url", shown, "topics", topics_a, "state", s->state, "reason",
                     auto_reason_shown(s->reason, full, why, sizeof why), "signing_keys",
                     keys_json(s->keys), "created", t1, "changed", t2, "messages", "pending",
                     (json_int_t)p, "delivered", (json_int_t)d, "failed", (json_int_t)f);
}

json_t *auto_sub_list(struct auto_mod *m, int full)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    struct auto_sub subs[64];
    int n = 0;
    json_t *a = json_array();
    int64_t after = -1;
    for (int more = 1; more;) { /* 64 at a time: read under the lock, then count */
        more = 0;
        n = 0;
        store_lock(s);
        if (store_prepare(s, AUTO_SQL_SUB_LIST, &q) == 0) {
            int seen = 0;
            while (store_step(q) == STORE_ROW) {
                if (seen++ <= after)
                    continue;
                if (n == 64) {
                    more = 1;
                    break;
                }
                sub_row(s, q, &subs[n++]);
            }
            store_reset(q);
        }
        store_unlock(s);
        for (int i = 0; i < n; i++) {
            json_array_append_new(a, auto_sub_json(m, &subs[i], full));
            auto_sub_free(&subs[i]);
        }
        after += n;
    }
    return a;
}

int auto_sub_set_state(struct auto_mod *m, int64_t id, const char *state, const char *reason)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    int64_t now = oc_clock_now_ms(m->app->clock);
    int rc = OC_EDB;
    if (store_begin(s) != 0)
        return OC_EDB;
    if (store_prepare(s, AUTO_SQL_SUB_STATE, &q) == 0) {
        STORE_BIND(q, STORE_INT(id), STORE_TEXT(state), STORE_TEXT(reason), STORE_INT(now));
        rc = store_step(q) == STORE_DONE ? 0 : OC_EDB;
        store_reset(q);
    }
    if (!rc && strcmp(state, "live") == 0 && store_prepare(s, AUTO_SQL_MSG_RESUME, &q) == 0) {
        STORE_BIND(q, STORE_INT(id), STORE_INT(now));
        rc = store_step(q) == STORE_DONE ? 0 : OC_EDB;
        store_reset(q);
    }
    if (rc) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s) == 0 ? 0 : OC_EDB;
}

int auto_sub_delete(struct auto_mod *m, int64_t id)
{
    static const char *const sql[] = {AUTO_SQL_ATT_DEL_SUB, AUTO_SQL_MSG_DEL_SUB, AUTO_SQL_SUB_DEL};
    struct store *s = m->app->store;
    struct store_stmt *q;
    int rc = 0;
    if (store_begin(s) != 0)
        return OC_EDB;
    for (size_t i = 0; !rc && i < sizeof sql / sizeof sql[0]; i++) {
        rc = OC_EDB;
        if (store_prepare(s, sql[i], &q) == 0) {
            store_bind_int(q, 1, id);
            rc = store_step(q) == STORE_DONE ? 0 : OC_EDB;
            store_reset(q);
        }
    }
    if (rc) {
        store_rollback(s);
        return rc;
    }
    rc = store_commit(s) == 0 ? 0 : OC_EDB;
    auto_sub_recount(m);
    return rc;
}

int auto_sub_rotate(struct auto_mod *m, const struct auto_sub *sub, const json_t *b, json_t **out,
                    char *why, size_t n)
{
    static const char *const allowed[] = {"secret", "algorithm", "keep", NULL};
    struct store *s = m->app->store;
    struct store_stmt *q;
    char key[256], keys[256 * OC_WEBHOOK_KEYS_MAX];
    int generated = 0, rc;
    int64_t keep = 1;
    const char *unknown = oc_json_unknown_key(b, allowed);
    if (unknown) {
        snprintf(why, n, "%s: unknown field (secret, algorithm, keep)", unknown);
        return OC_EINVAL;
    }
    if (json_object_get(b, "keep") &&
        oc_json_get_int_range(b, NULL, "keep", 0, OC_WEBHOOK_KEYS_MAX - 1, &keep, why, n) != 0)
        return OC_EINVAL;
    if (!sub->keys) {
        snprintf(why, n, "the subscription's keys do not open with DATA/oncue.key");
        return OC_EINVAL;
    }
    if ((rc = key_from(b, key, sizeof key, &generated, why, n)) != 0)
        return rc;
    size_t at = (size_t)snprintf(keys, sizeof keys, "%s", key);
    int kept = 0;
    for (const char *p = sub->keys; *p && kept < keep;) {
        p += strspn(p, " ");
        size_t tl = strcspn(p, " ");
        if (!tl)
            break;
        if (at + 1 + tl < sizeof keys) {
            keys[at++] = ' ';
            memcpy(keys + at, p, tl);
            at += tl;
            keys[at] = 0;
            kept++;
        }
        p += tl;
    }
    char *sealed = store_seal(s, keys);
    rc = OC_EDB;
    store_lock(s);
    if (sealed && store_prepare(s, AUTO_SQL_SUB_KEYS, &q) == 0) {
        STORE_BIND(q, STORE_INT(sub->id), STORE_TEXT(sealed),
                   STORE_INT(oc_clock_now_ms(m->app->clock)));
        rc = store_step(q) == STORE_DONE ? 0 : OC_EDB;
        store_reset(q);
    }
    store_unlock(s);
    free(sealed);
    if (!rc) {
        *out = json_pack("{s:s, s:o}", "name", sub->name, "signing_keys", keys_json(keys));
        key_answer(*out, key, generated);
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(keys, sizeof keys);
    return rc;
}
