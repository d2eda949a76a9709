/*
 * event.c - the payload parsers: a verified Stripe event or Standard Webhooks event into one
 * normalized struct billing_event (ids, type, event time, period end, status, regions).
 *
 * Only what the state machine reads is taken; everything else in the payload is ignored, so a
 * provider adding fields never breaks delivery. Every id is checked against
 * billing_id_valid and every bound before it is used.
 */
#include "billing/billing.h"
#include "core/err.h"
#include "core/json.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <string.h>

#define REGION_MAX 8 /* bytes of one region code */

int billing_id_valid(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || s[n] <= ' ' || s[n] > '~' || s[n] == '"' || s[n] == '\\')
            return 0;
    return n > 0;
}

/* Copies the string member key of obj (absent or null: "") into out (max + 1 bytes): 0, or
 * OC_EINVAL with err naming ctx.key. */
static int get_id(const json_t *obj, const char *ctx, const char *key, char *out, size_t max,
                  char *err, size_t errlen)
{
    const char *s = NULL;
    int rc = obj ? oc_json_get_str(obj, key, &s) : OC_ENOTFOUND;
    out[0] = '\0';
    if (rc == OC_ENOTFOUND)
        return 0;
    if (rc || !billing_id_valid(s, max)) {
        snprintf(err, errlen, "%s%s: 1 to %zu printable characters without spaces or quotes", ctx,
                 key, max);
        return OC_EINVAL;
    }
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* Appends one region code (n bytes) to out: 0 or -1 (not 1 to 8 letters, digits or '-', or
 * the list is full). */
static int region_add(char *out, const char *s, size_t n)
{
    size_t have = strlen(out);
    if (n == 0 || n > REGION_MAX || have + n + 2 > BILLING_REGIONS_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return -1;
    if (have)
        out[have++] = ',';
    memcpy(out + have, s, n);
    out[have + n] = '\0';
    return 0;
}

/* Reads regions: "US,CA" or ["US", "CA"] (absent: every region). 0 or OC_EINVAL. */
static int get_regions(const json_t *v, char *out, char *err, size_t errlen)
{
    out[0] = '\0';
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (const char *p = s; *p;) {
            size_t n = strcspn(p, ",");
            if (region_add(out, p, n) != 0)
                goto bad;
            p += n + (p[n] == ',');
        }
        return 0;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x) ||
                region_add(out, json_string_value(x), strlen(json_string_value(x))) != 0)
                goto bad;
        }
        return 0;
    }
bad:
    snprintf(err, errlen, "regions: region codes (1 to %d of A-Z a-z 0-9 -), at most %d bytes",
             REGION_MAX, BILLING_REGIONS_MAX);
    return OC_EINVAL;
}

/* Reads a unix-seconds member key of obj into *ms (absent: 0). 0 or OC_EINVAL. */
static int get_unix(const json_t *obj, const char *ctx, const char *key, int64_t *ms, char *err,
                    size_t errlen)
{
    int64_t s = 0;
    *ms = 0;
    if (!obj || !json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
        return 0;
    char field[64];
    snprintf(field, sizeof field, "%s%s", ctx, key);
    if (oc_json_get_int_range(obj, NULL, key, 1, OC_JSON_UNIX_S_MAX, &s, err, errlen) != 0) {
        snprintf(err, errlen, "%s: unix seconds", field);
        return OC_EINVAL;
    }
    *ms = s * 1000;
    return 0;
}

/* The subscription and account a Stripe object names. */
static int stripe_target(const json_t *o, struct billing_event *e, char *err, size_t errlen)
{
    const json_t *meta = json_object_get(o, "metadata");
    const char *kind = NULL;
    if (!json_is_object(meta))
        meta = NULL;
    oc_json_get_str(o, "object", &kind);
    int rc = kind && strcmp(kind, "subscription") == 0
                 ? get_id(o, "data.object.", "id", e->subscription, BILLING_ID_MAX, err, errlen)
                 : get_id(o, "data.object.", "subscription", e->subscription, BILLING_ID_MAX, err,
                          errlen);
    if (!rc && !e->subscription[0])
        rc = get_id(meta, "data.object.metadata.", "subscription", e->subscription, BILLING_ID_MAX,
                    err, errlen);
    if (!rc)
        rc = get_id(o, "data.object.", "customer", e->account, BILLING_ID_MAX, err, errlen);
    if (!rc && !e->account[0])
        rc = get_id(meta, "data.object.metadata.", "account", e->account, BILLING_ID_MAX, err,
                    errlen);
    if (!rc)
        rc = get_regions(meta ? json_object_get(meta, "regions") : NULL, e->regions, err, errlen);
    if (!rc)
        rc = get_id(meta, "data.object.metadata.", "plan", e->plan, BILLING_PLAN_MAX, err, errlen);
    if (!rc && !e->plan[0]) { /* the first item's price: its lookup key, else its id */
        const json_t *items = json_object_get(o, "items");
        const json_t *d = json_is_object(items) ? json_object_get(items, "data") : NULL;
        const json_t *first = json_is_array(d) ? json_array_get(d, 0) : NULL;
        const json_t *price = json_is_object(first) ? json_object_get(first, "price") : NULL;
        if (json_is_object(price))
            rc = get_id(price, "data.object.items.data[0].price.", "lookup_key", e->plan,
                        BILLING_PLAN_MAX, err, errlen);
        if (!rc && json_is_object(price) && !e->plan[0])
            rc = get_id(price, "data.object.items.data[0].price.", "id", e->plan, BILLING_PLAN_MAX,
                        err, errlen);
    }
    return rc;
}

/* The period end of a Stripe object: current_period_end, else the first line's period.end. */
static int stripe_period(const json_t *o, struct billing_event *e, char *err, size_t errlen)
{
    int rc = get_unix(o, "data.object.", "current_period_end", &e->period_end_ms, err, errlen);
    const json_t *lines = json_object_get(o, "lines");
    const json_t *data = json_is_object(lines) ? json_object_get(lines, "data") : NULL;
    const json_t *first = json_is_array(data) ? json_array_get(data, 0) : NULL;
    const json_t *period = json_is_object(first) ? json_object_get(first, "period") : NULL;
    if (!rc && !e->period_end_ms && json_is_object(period))
        rc = get_unix(period, "data.object.lines.data[0].period.", "end", &e->period_end_ms, err,
                      errlen);
    return rc;
}

int billing_parse_stripe(const char *body, size_t n, struct billing_event *out, char *err,
                         size_t errlen)
{
    json_t *root = NULL;
    const char *s;
    int64_t created = 0;
    int rc = OC_EINVAL;
    memset(out, 0, sizeof *out);
    out->provider = BILLING_STRIPE;
    if (oc_json_parse(body, n, &root, err, errlen) != 0 || !json_is_object(root)) {
        if (root)
            snprintf(err, errlen, "the event is not a JSON object");
        json_decref(root);
        return OC_EMALFORMED;
    }
    const json_t *data = json_object_get(root, "data");
    const json_t *o = json_is_object(data) ? json_object_get(data, "object") : NULL;
    if (get_id(root, "", "id", out->id, BILLING_ID_MAX, err, errlen) || !out->id[0]) {
        snprintf(err, errlen, "id: the event id is missing or malformed");
    } else if (oc_json_get_str(root, "type", &s) != 0 || !billing_id_valid(s, BILLING_TYPE_MAX)) {
        snprintf(err, errlen, "type: 1 to %d printable characters", BILLING_TYPE_MAX);
    } else if (oc_json_get_int_range(root, NULL, "created", 1, OC_JSON_UNIX_S_MAX, &created, err,
                                     errlen) != 0) {
        snprintf(err, errlen, "created: unix seconds");
    } else if (!json_is_object(o)) {
        snprintf(err, errlen, "data.object: an object");
    } else {
        memcpy(out->type, s, strlen(s) + 1);
        out->event_ms = created * 1000;
        rc = stripe_target(o, out, err, errlen);
        if (!rc)
            rc = stripe_period(o, out, err, errlen);
        if (!rc && oc_json_get_str(o, "status", &s) == 0 && strlen(s) < sizeof out->status)
            memcpy(out->status, s, strlen(s) + 1);
        if (!rc && oc_json_get_bool(o, "cancel_at_period_end", &out->cancel_at_period_end) != 0)
            out->cancel_at_period_end = 0;
        out->rule = billing_rule_find(BILLING_STRIPE, out->type);
    }
    json_decref(root);
    return rc;
}

/* Reads an RFC 3339 time member key of obj into *ms; required says whether it may be absent.
 * 0 or OC_EINVAL. */
static int get_time(const json_t *obj, const char *ctx, const char *key, int required, int64_t *ms,
                    char *err, size_t errlen)
{
    const char *s = NULL;
    int rc = obj ? oc_json_get_str(obj, key, &s) : OC_ENOTFOUND;
    *ms = 0;
    if (rc == OC_ENOTFOUND && !required)
        return 0;
    if (rc || oc_time_parse(s, OC_TIME_STRICT, ms) != 0 || *ms <= 0) {
        snprintf(err, errlen, "%s%s: an RFC 3339 time such as 2026-12-06T09:00:00Z", ctx, key);
        return OC_EINVAL;
    }
    return 0;
}

int billing_parse_standard(const char *msg_id, const char *body, size_t n,
                           struct billing_event *out, char *err, size_t errlen)
{
    json_t *root = NULL;
    const char *s;
    int rc = OC_EINVAL;
    memset(out, 0, sizeof *out);
    out->provider = BILLING_STANDARD;
    if (!billing_id_valid(msg_id, BILLING_ID_MAX)) {
        snprintf(err, errlen, "webhook-id: 1 to %d printable characters", BILLING_ID_MAX);
        return OC_EINVAL;
    }
    memcpy(out->id, msg_id, strlen(msg_id) + 1);
    if (oc_json_parse(body, n, &root, err, errlen) != 0 || !json_is_object(root)) {
        if (root)
            snprintf(err, errlen, "the event is not a JSON object");
        json_decref(root);
        return OC_EMALFORMED;
    }
    const json_t *d = json_object_get(root, "data");
    if (oc_json_get_str(root, "type", &s) != 0 || !billing_id_valid(s, BILLING_TYPE_MAX)) {
        snprintf(err, errlen, "type: 1 to %d printable characters", BILLING_TYPE_MAX);
    } else if (!json_is_object(d)) {
        snprintf(err, errlen, "data: an object");
    } else {
        memcpy(out->type, s, strlen(s) + 1);
        rc = get_time(root, "", "timestamp", 1, &out->event_ms, err, errlen);
        if (!rc)
            rc = get_id(d, "data.", "subscription", out->subscription, BILLING_ID_MAX, err, errlen);
        if (!rc)
            rc = get_id(d, "data.", "account", out->account, BILLING_ID_MAX, err, errlen);
        if (!rc && (!out->subscription[0] || !out->account[0])) {
            snprintf(err, errlen, "data.subscription and data.account are required");
            rc = OC_EINVAL;
        }
        if (!rc)
            rc = get_time(d, "data.", "period_end", 0, &out->period_end_ms, err, errlen);
        if (!rc)
            rc = get_regions(json_object_get(d, "regions"), out->regions, err, errlen);
        if (!rc)
            rc = get_id(d, "data.", "plan", out->plan, BILLING_PLAN_MAX, err, errlen);
        out->rule = billing_rule_find(BILLING_STANDARD, out->type);
    }
    json_decref(root);
    return rc;
}
