/*
 * reconcile.c - reconciliation against Stripe's API: every subscription the provider holds
 * (GET {billing.stripe_api_url}/v1/subscriptions?status=all, paged) is compared with what the
 * module holds. A discrepancy is missing (the provider has it, oncue does not), extra (oncue
 * has a Stripe subscription the provider does not list) or a state mismatch. With repair,
 * missing and mismatched subscriptions are set to the provider's state through the committer,
 * one audited support action of kind repair each; extra ones are reported only.
 */
#include "billing/billing_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/lock.h"
#include "http/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MAX  (8 << 20) /* bytes of one page of the provider's answer */
#define PAGES_MAX 10000     /* pages read (100 subscriptions each) */

/* Fetches one page after `after` ("" for the first) into *page: 0, or OC_EIO with err. */
static int fetch_page(const struct billing_mod *m, const char *after, json_t **page, char *err,
                      size_t errlen)
{
    struct http_client c = {m->o.stripe_api_url, m->o.stripe_api_key, 30};
    struct oc_buf b;
    char path[300];
    long status = 0;
    snprintf(path, sizeof path, "/v1/subscriptions?status=all&limit=100%s%s",
             after[0] ? "&starting_after=" : "", after);
    oc_buf_init(&b, PAGE_MAX);
    int rc = http_client_call(&c, "GET", path, NULL, &status, &b, err, errlen);
    *page = NULL;
    if (!rc && status != 200) {
        snprintf(err, errlen, "GET %s: status %ld", path, status);
        rc = OC_EIO;
    }
    if (!rc && (oc_json_parse(b.data ? b.data : "", b.len, page, err, errlen) != 0 ||
                !json_is_array(json_object_get(*page, "data")))) {
        snprintf(err, errlen, "GET %s: not a list of subscriptions", path);
        json_decref(*page);
        *page = NULL;
        rc = OC_EIO;
    }
    oc_buf_free(&b);
    return rc;
}

/* Compares one provider subscription s with the table (read lock held), appending to the
 * report's lists and, when it needs repair, to fix. */
static void compare_one(struct billing_mod *m, const json_t *s, int64_t now, json_t *report,
                        json_t *fix, struct bmap *seen)
{
    const char *id = NULL, *cus = "", *status = NULL;
    int64_t cpe = 0;
    int cancel = 0;
    enum billing_state st;
    if (oc_json_get_str(s, "id", &id) != 0 || !billing_id_valid(id, BILLING_ID_MAX) ||
        oc_json_get_str(s, "status", &status) != 0)
        return;
    oc_json_get_str(s, "customer", &cus);
    oc_json_get_int(s, "current_period_end", &cpe);
    oc_json_get_bool(s, "cancel_at_period_end", &cancel);
    if (billing_stripe_status(status, cancel, cpe * 1000, now, &st) != 0)
        return;
    bmap_put(seen, id, (void *)1);
    const struct billing_sub *ours = bmap_get(&m->table.subs, id);
    if (ours && ours->state == st)
        return;
    json_t *d = json_pack("{s:s,s:s,s:s}", "subscription", id, "account",
                          ours ? ours->account : cus, "provider_state", billing_state_names[st]);
    if (ours)
        json_object_set_new(d, "oncue_state", json_string(billing_state_names[ours->state]));
    json_array_append(json_object_get(report, ours ? "mismatch" : "missing"), d);
    json_object_set_new(d, "period_end_ms", json_integer(cpe * 1000));
    json_array_append_new(fix, d);
}

/* The Stripe subscriptions of the table that the provider did not list, into extra. */
static void find_extra(struct billing_mod *m, struct bmap *seen, json_t *extra)
{
    for (size_t i = 0; i < m->table.subs.nb; i++)
        for (struct bmap_node *e = m->table.subs.b[i]; e; e = e->next) {
            const struct billing_sub *s = e->val;
            if (s->provider == BILLING_STRIPE && !bmap_get(seen, s->id))
                json_array_append_new(extra, json_pack("{s:s,s:s,s:s}", "subscription", s->id,
                                                       "account", s->account, "oncue_state",
                                                       billing_state_names[s->state]));
        }
}

/* Reads every page, comparing as it goes: 0 or OC_EIO. */
static int walk(struct billing_mod *m, int64_t now, json_t *report, json_t *fix, struct bmap *seen,
                char *err, size_t errlen)
{
    char after[BILLING_ID_MAX + 1] = "";
    int64_t checked = 0;
    for (int p = 0; p < PAGES_MAX; p++) {
        json_t *page, *s;
        size_t i;
        int rc = fetch_page(m, after, &page, err, errlen);
        if (rc)
            return rc;
        const json_t *data = json_object_get(page, "data");
        oc_rdlock(&m->lock);
        json_array_foreach(data, i, s)
        {
            compare_one(m, s, now, report, fix, seen);
            checked++;
        }
        oc_rwunlock(&m->lock);
        const char *last = NULL;
        s = json_array_get(data, json_array_size(data) - 1);
        int more = json_is_true(json_object_get(page, "has_more")) && s &&
                   oc_json_get_str(s, "id", &last) == 0 && billing_id_valid(last, BILLING_ID_MAX);
        if (more)
            snprintf(after, sizeof after, "%s", last);
        json_decref(page);
        if (!more)
            break;
    }
    json_object_set_new(report, "checked", json_integer(checked));
    return 0;
}

/* Submits one repair of d (from the report of provider p) by actor: 1 when it changed
 * something. A repair of kind account moves the subscription to the provider's account. */
static int repair_one(struct billing_mod *m, enum billing_provider p, const json_t *d,
                      const char *actor)
{
    struct billing_op *op = oc_calloc(1, sizeof *op);
    const char *id = json_string_value(json_object_get(d, "subscription"));
    const char *acct = json_string_value(json_object_get(d, "account"));
    const char *to = json_string_value(json_object_get(d, "provider_account"));
    const char *st = json_string_value(json_object_get(d, "provider_state"));
    op->kind = BILLING_OP_ACTION;
    op->act.kind = BILLING_REPAIR;
    op->act.provider = p;
    op->act.move = to != NULL;
    if (to)
        acct = to;
    snprintf(op->act.subscription, sizeof op->act.subscription, "%s", id);
    snprintf(op->act.account, sizeof op->act.account, "%s", acct && acct[0] ? acct : id);
    snprintf(op->act.actor, sizeof op->act.actor, "%s", actor);
    if (to)
        snprintf(op->act.reason, sizeof op->act.reason, "reconcile: %s names account %.120s (%s)",
                 billing_provider_names[p], to, st);
    else
        snprintf(op->act.reason, sizeof op->act.reason, "reconcile: %s says %s",
                 billing_provider_names[p], st);
    billing_state_parse(st, &op->act.state);
    op->act.until_ms = json_integer_value(json_object_get(d, "period_end_ms"));
    op->recv_ms = oc_clock_now_ms(m->app->clock);
    billing_submit(m, op);
    int changed = op->status == 200 && op->answer && strstr(op->answer, "\"changes\":[{");
    billing_op_free(op);
    return changed;
}

/* Reconciles an app store (no list to walk: each subscription oncue knows is looked up). */
static int reconcile_store(struct billing_mod *m, enum billing_provider p, int repair,
                           const char *actor, json_t **report, char *err, size_t errlen)
{
    json_t *fix = json_array(), *d;
    json_t *r = json_pack("{s:s,s:[],s:[],s:[],s:[]}", "provider", billing_provider_names[p],
                          "missing", "extra", "mismatch", "account");
    size_t i;
    int repaired = 0, rc = billing_reconcile_store(m, p, r, fix, err, errlen);
    if (!rc) {
        json_array_foreach(fix, i, d) if (repair) repaired += repair_one(m, p, d, actor);
        json_object_set_new(r, "repaired", json_integer(repaired));
        *report = r;
    } else {
        json_decref(r);
    }
    json_decref(fix);
    return rc;
}

int billing_reconcile(struct billing_mod *m, enum billing_provider p, int repair, const char *actor,
                      json_t **report, char *err, size_t errlen)
{
    struct bmap seen;
    json_t *fix, *d;
    size_t i;
    int repaired = 0;
    *report = NULL;
    if (p == BILLING_APPLE || p == BILLING_GOOGLE)
        return reconcile_store(m, p, repair, actor, report, err, errlen);
    fix = json_array();
    if (!m->o.stripe_api_key || !m->o.stripe_api_key[0]) {
        snprintf(err, errlen, "billing.stripe_api_key is not set");
        json_decref(fix);
        return OC_EINVAL;
    }
    json_t *r =
        json_pack("{s:s,s:[],s:[],s:[]}", "provider", "stripe", "missing", "extra", "mismatch");
    bmap_init(&seen);
    int rc = walk(m, oc_clock_now_ms(m->app->clock), r, fix, &seen, err, errlen);
    if (!rc) {
        oc_rdlock(&m->lock);
        find_extra(m, &seen, json_object_get(r, "extra"));
        oc_rwunlock(&m->lock);
        json_array_foreach(fix, i, d) if (repair) repaired +=
            repair_one(m, BILLING_STRIPE, d, actor);
        json_object_set_new(r, "repaired", json_integer(repaired));
        *report = r;
    } else {
        json_decref(r);
    }
    bmap_free(&seen, NULL);
    json_decref(fix);
    return rc;
}

void billing_reconcile_keep(struct billing_mod *m, enum billing_provider p, json_t *report,
                            const char *err)
{
    oc_lock(&m->rmu);
    if (report && p < BILLING_MANUAL) {
        json_decref(m->reports[p]);
        m->reports[p] = json_incref(report);
    }
    json_decref(m->last_report);
    m->last_report = report;
    m->last_ms = oc_clock_now_ms(m->app->clock);
    snprintf(m->last_error, sizeof m->last_error, "%s", report ? "" : err);
    oc_unlock(&m->rmu);
}

/* A scheduled run: reconciles every configured provider (repairing when
 * billing.reconcile_repair) and keeps the reports. */
static void *scheduled(void *arg)
{
    struct billing_mod *m = arg;
    const struct billing_opts *o = &m->o;
    int on[3] = {o->stripe_api_key && o->stripe_api_key[0],
                 o->apple_api_key_pem && o->apple_api_key_pem[0], o->google_sa && o->google_sa[0]};
    const enum billing_provider ps[3] = {BILLING_STRIPE, BILLING_APPLE, BILLING_GOOGLE};
    for (int i = 0; i < 3; i++) {
        json_t *report = NULL;
        char err[300] = "";
        if (!on[i] && i > 0)
            continue; /* Stripe's run reports its missing key; the stores' runs are opt-in */
        billing_reconcile(m, ps[i], o->reconcile_repair, "schedule", &report, err, sizeof err);
        billing_reconcile_keep(m, ps[i], report, err);
    }
    atomic_store(&m->rthread_done, 1);
    return NULL;
}

void billing_reconcile_tick(struct oc_app *app, void *state)
{
    struct billing_mod *m = state;
    int64_t now = oc_clock_now_ms(app->clock);
    if (m->rthread_started && atomic_load(&m->rthread_done)) {
        pthread_join(m->rthread, NULL);
        m->rthread_started = 0;
    }
    if (m->o.reconcile_s <= 0 || m->rthread_started || now < m->next_ms)
        return;
    m->next_ms = now + m->o.reconcile_s * 1000;
    atomic_store(&m->rthread_done, 0);
    m->rthread_started = pthread_create(&m->rthread, NULL, scheduled, m) == 0;
}

void billing_reconcile_stop(struct billing_mod *m)
{
    if (m->rthread_started)
        pthread_join(m->rthread, NULL);
    m->rthread_started = 0;
    json_decref(m->last_report);
    m->last_report = NULL;
    for (int p = 0; p < BILLING_MANUAL; p++) {
        json_decref(m->reports[p]);
        m->reports[p] = NULL;
    }
}
