/*
 * mitigate.c - changes to the steering state: the base policy, applying and reverting
 * mitigations, their follow-up items, persistence in the store and announcements on the bus.
 *
 * Writers are serialized by write_mu and build the new compiled policy without blocking
 * readers; only the final pointer swap takes the write side of the read-write lock. Every
 * change is committed to the store before the caller hears "ok".
 */
#include "steer/steer_int.h"
#include "core/lock.h"
#include "core/topics.h"
#include "steer/sql.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static json_t *record_json(const struct steer_record *r)
{
    char title[160];
    snprintf(title, sizeof(title), "Remove or make permanent mitigation #%lld (%s)",
             (long long)r->id, json_string_value(json_object_get(r->spec, "kind")));
    return json_pack(
        "{s:I, s:O, s:O, s:s, s:I, s:s, s:o, s:{s:I, s:s, s:I}}", "id", (json_int_t)r->id, "kind",
        json_object_get(r->spec, "kind"), "spec", r->spec, "actor", r->actor, "created_ms",
        (json_int_t)r->created_ms, "state", r->reverted_ms ? "reverted" : "active", "reverted_ms",
        r->reverted_ms ? json_integer(r->reverted_ms) : json_null(), "followup", "id",
        (json_int_t)r->followup_id, "title", title, "due_ms", (json_int_t)r->followup_due_ms);
}

void steer_records_free(struct steer *st)
{
    for (int i = 0; i < st->nrecords; i++)
        json_decref(st->records[i].spec);
    free(st->records);
    st->records = NULL;
    st->nrecords = 0;
}

/* Compiles base + records (+ extra) into *out. */
static int compile_effective(struct steer *st, const json_t *base, const struct steer_record *extra,
                             struct steer_policy **out, char *err, size_t errlen)
{
    json_t *eff = steer_effective_doc(base, st->records, st->nrecords, extra, err, errlen);
    if (!eff)
        return OC_EINVAL;
    int rc = steer_policy_compile(eff, st->ttl_s, out, err, errlen);
    json_decref(eff);
    return rc;
}

/* Swaps in a new compiled policy (and base, when not NULL; stolen) and frees the old. */
static void swap_policy(struct steer *st, struct steer_policy *pol, json_t *base)
{
    pthread_rwlock_wrlock(&st->lock);
    struct steer_policy *old = st->pol;
    st->pol = pol;
    if (base) {
        json_decref(st->base);
        st->base = base;
    }
    pthread_rwlock_unlock(&st->lock);
    steer_policy_free(old);
}

int steer_rebuild(struct steer *st, char *err, size_t errlen)
{
    struct steer_policy *pol = NULL;
    int rc = compile_effective(st, st->base, NULL, &pol, err, errlen);
    if (!rc)
        swap_policy(st, pol, NULL);
    return rc;
}

/* Saves the base policy document. */
static int save_policy(struct steer *st, const json_t *doc, const char *actor)
{
    struct store_stmt *s;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = OC_EDB;
    store_lock(st->store);
    if (store_prepare(st->store, STEER_SQL_POLICY_PUT, &s) == 0) {
        STORE_BIND(s, STORE_TEXT(text), STORE_TEXT(actor), STORE_INT(oc_clock_now_ms(st->clock)));
        rc = store_step(s) == STORE_DONE ? 0 : OC_EDB;
        store_reset(s);
    }
    store_unlock(st->store);
    free(text);
    return rc;
}

int steer_policy_set(struct steer *st, const json_t *doc, const char *actor, char *err,
                     size_t errlen)
{
    struct steer_policy *pol = NULL;
    oc_lock(&st->write_mu);
    int rc = compile_effective(st, doc, NULL, &pol, err, errlen);
    if (!rc && st->store && (rc = save_policy(st, doc, actor)) != 0)
        snprintf(err, errlen, "the policy could not be saved");
    if (!rc)
        swap_policy(st, pol, json_deep_copy(doc));
    else
        steer_policy_free(pol);
    oc_unlock(&st->write_mu);
    if (!rc && st->bus) {
        json_t *ev = json_pack("{s:s, s:O}", "actor", actor ? actor : "", "policy", doc);
        oc_bus_publish(st->bus, OC_TOPIC_STEER_POLICY_CHANGED, ev);
        json_decref(ev);
    }
    return rc;
}

/* Renders the manifest pol serves to a session of region covered by percent (JSON), or null. */
static json_t *sample_manifest(const struct steer_policy *pol, const json_t *spec)
{
    struct steer_query q;
    struct oc_buf b;
    double pct = json_is_number(json_object_get(spec, "percent"))
                     ? json_number_value(json_object_get(spec, "percent"))
                     : 100;
    if (!pol || pol->npathways == 0)
        return json_null();
    memset(&q, 0, sizeof(q));
    const char *region = json_string_value(json_object_get(spec, "region"));
    snprintf(q.region, sizeof(q.region), "%s", region ? region : "");
    for (int i = 0; i < 100000; i++) { /* a session inside the shifted share */
        snprintf(q.session, sizeof(q.session), "dry-run-%d", i);
        if (steer_bucket(q.session) < (int)(pct * 100))
            break;
    }
    oc_buf_init(&b, 1 << 20);
    steer_policy_render(pol, steer_policy_eval(pol, &q), "ASSET", &q, &b);
    json_t *v = json_loads(b.data ? b.data : "null", JSON_DECODE_ANY, NULL);
    oc_buf_free(&b);
    return v ? v : json_null();
}

/* Inserts the record and its follow-up item in one transaction; sets r->id, followup_id. */
static int save_record(struct steer *st, struct steer_record *r)
{
    struct store_stmt *s;
    char *spec = json_dumps(r->spec, JSON_COMPACT | JSON_SORT_KEYS), title[160];
    int rc = store_begin(st->store);
    if (rc)
        goto out;
    rc = OC_EDB;
    if (store_prepare(st->store, STEER_SQL_MIT_INSERT, &s))
        goto fail;
    STORE_BIND(s, STORE_TEXT(json_string_value(json_object_get(r->spec, "kind"))), STORE_TEXT(spec),
               STORE_TEXT(r->actor), STORE_INT(r->created_ms));
    int step = store_step(s);
    store_reset(s);
    if (step != STORE_DONE || store_prepare(st->store, STEER_SQL_FOLLOWUP_INSERT, &s))
        goto fail;
    r->id = store_last_id(st->store);
    snprintf(title, sizeof(title), "Remove or make permanent mitigation #%lld", (long long)r->id);
    STORE_BIND(s, STORE_INT(r->id), STORE_TEXT(title), STORE_INT(r->followup_due_ms));
    step = store_step(s);
    store_reset(s);
    r->followup_id = store_last_id(st->store);
    if (step != STORE_DONE)
        goto fail;
    rc = store_commit(st->store);
    goto out;
fail:
    store_rollback(st->store);
out:
    free(spec);
    return rc;
}

/* Appends r (its spec stolen) to the records, dropping the oldest reverted one when full. */
static void records_append(struct steer *st, const struct steer_record *r)
{
    pthread_rwlock_wrlock(&st->lock);
    if (st->nrecords == STEER_MAX_RECORDS) {
        int k = 0;
        while (k < st->nrecords - 1 && !st->records[k].reverted_ms)
            k++;
        json_decref(st->records[k].spec);
        memmove(&st->records[k], &st->records[k + 1], (size_t)(st->nrecords - k - 1) * sizeof(*r));
        st->nrecords--;
    }
    if (!st->records)
        st->records = oc_calloc(STEER_MAX_RECORDS, sizeof(*r));
    st->records[st->nrecords++] = *r;
    pthread_rwlock_unlock(&st->lock);
}

static int active_count(const struct steer *st)
{
    int n = 0;
    for (int i = 0; i < st->nrecords; i++)
        n += !st->records[i].reverted_ms;
    return n;
}

/* Records r for real: store, compile with its id, swap, keep the record. */
static int commit_record(struct steer *st, struct steer_record *r, char *err, size_t errlen)
{
    struct steer_policy *pol = NULL;
    int rc = st->store ? save_record(st, r) : 0;
    if (rc) {
        snprintf(err, errlen, "the mitigation could not be saved");
        return rc;
    }
    if (!st->store)
        r->id = r->followup_id = st->next_id;
    if (r->id >= st->next_id)
        st->next_id = r->id + 1;
    rc = compile_effective(st, st->base, r, &pol, err, errlen);
    if (rc) /* cannot happen: the same overlay compiled a moment ago with another id */
        oc_log(OC_LOG_ERROR, "steer: mitigation %lld recorded but not applied: %s",
               (long long)r->id, err);
    records_append(st, r);
    if (!rc)
        swap_policy(st, pol, NULL);
    return 0;
}

/* Where the rollback in spec goes, through the host's resolver: *out is a new object with the
 * fields the record carries ("deploy_webhook", ...), or NULL for other kinds or without a
 * resolver. 0, or OC_EINVAL (reason in err) when a running catalog does not know the service. */
static int deploy_resolve(struct steer *st, const json_t *spec, json_t **out, char *err,
                          size_t errlen)
{
    const char *kind = json_string_value(json_object_get(spec, "kind"));
    const char *service = json_string_value(json_object_get(spec, "service"));
    int rc = 0;
    *out = NULL;
    if (st->deploy && kind && strcmp(kind, "rollback") == 0 && service) {
        *out = json_object();
        if (st->deploy(st->deploy_arg, service, *out) == OC_ENOTFOUND) {
            snprintf(err, errlen, "service: %.64s is not in the catalog", service);
            rc = OC_EINVAL;
        }
    }
    return rc;
}

int steer_mitigate(struct steer *st, const json_t *req, const char *actor, int dry_run,
                   json_t **out, char *err, size_t errlen)
{
    struct steer_record r;
    struct steer_policy *pol = NULL;
    json_t *spec = NULL, *deploy = NULL;
    int rc = steer_overlay_check(req, &spec, err, errlen);
    *out = NULL;
    if (rc)
        return rc;
    if ((rc = deploy_resolve(st, spec, &deploy, err, errlen)) != 0)
        goto out;
    if (!json_object_get(spec, "host") && st->backup_origin &&
        strcmp(json_string_value(json_object_get(spec, "kind")), "backup-origin") == 0)
        json_object_set_new(spec, "host", json_string(st->backup_origin));
    memset(&r, 0, sizeof(r));
    r.spec = spec;
    snprintf(r.actor, sizeof(r.actor), "%s", actor ? actor : "anonymous");
    r.created_ms = oc_clock_now_ms(st->clock);
    r.followup_due_ms = r.created_ms + st->followup_hours * (DAY_MS / 24);
    oc_lock(&st->write_mu);
    r.id = st->next_id;
    if (active_count(st) >= STEER_MAX_ACTIVE) {
        rc = OC_ETOOBIG;
        snprintf(err, errlen, "at most %d active mitigations", STEER_MAX_ACTIVE);
    } else {
        rc = compile_effective(st, st->base, &r, &pol, err, errlen);
    }
    if (!rc && dry_run) {
        pthread_rwlock_rdlock(&st->lock);
        *out = json_pack("{s:b, s:O, s:o, s:o}", "dry_run", 1, "mitigation", spec, "before",
                         sample_manifest(st->pol, spec), "after", sample_manifest(pol, spec));
        pthread_rwlock_unlock(&st->lock);
    } else if (!rc && (rc = commit_record(st, &r, err, errlen)) == 0) {
        spec = NULL; /* the record owns it now */
        *out = record_json(&r);
    }
    steer_policy_free(pol);
    oc_unlock(&st->write_mu);
    if (!rc && deploy)
        json_object_update(*out, deploy);
    if (!rc && !dry_run && st->bus)
        oc_bus_publish(st->bus, OC_TOPIC_MITIGATION_APPLIED, *out);
out:
    json_decref(spec);
    json_decref(deploy);
    return rc;
}

/* Marks record id reverted in the store. */
static int save_revert(struct steer *st, int64_t id, int64_t now, const char *actor)
{
    struct store_stmt *s;
    int rc = OC_EDB;
    store_lock(st->store);
    if (store_prepare(st->store, STEER_SQL_MIT_REVERT, &s) == 0) {
        STORE_BIND(s, STORE_INT(id), STORE_INT(now), STORE_TEXT(actor));
        rc = store_step(s) == STORE_DONE ? 0 : OC_EDB;
        store_reset(s);
        if (!rc && store_changes(st->store) == 0)
            rc = OC_ECONFLICT;
    }
    store_unlock(st->store);
    return rc;
}

int steer_revert(struct steer *st, int64_t id, const char *actor, json_t **out)
{
    char err[256];
    struct steer_record *r = NULL;
    int rc = OC_ENOTFOUND;
    int64_t now = oc_clock_now_ms(st->clock);
    if (out)
        *out = NULL;
    oc_lock(&st->write_mu);
    for (int i = 0; i < st->nrecords && !r; i++)
        if (st->records[i].id == id)
            r = &st->records[i];
    if (r && r->reverted_ms)
        rc = OC_ECONFLICT;
    else if (r)
        rc = st->store ? save_revert(st, id, now, actor ? actor : "anonymous") : 0;
    if (!rc) {
        pthread_rwlock_wrlock(&st->lock);
        r->reverted_ms = now;
        pthread_rwlock_unlock(&st->lock);
        if (steer_rebuild(st, err, sizeof(err)))
            oc_log(OC_LOG_ERROR, "steer: revert of %lld: %s", (long long)id, err);
    }
    json_t *rec = rc ? NULL : record_json(r), *deploy = NULL;
    oc_unlock(&st->write_mu);
    /* resolved again at revert, outside write_mu, so a revert after a restart knows where the
     * rollback went; a service the catalog no longer knows leaves "deploy_unresolved" and
     * does not stop the revert */
    if (rec)
        (void)deploy_resolve(st, json_object_get(rec, "spec"), &deploy, err, sizeof(err));
    if (deploy)
        json_object_update(rec, deploy);
    json_decref(deploy);
    if (rec && st->bus)
        oc_bus_publish(st->bus, OC_TOPIC_MITIGATION_REVERTED, rec);
    if (out)
        *out = rec;
    else
        json_decref(rec);
    return rc;
}

json_t *steer_mitigations(struct steer *st)
{
    json_t *a = json_array();
    pthread_rwlock_rdlock(&st->lock);
    for (int i = st->nrecords - 1; i >= 0; i--)
        json_array_append_new(a, record_json(&st->records[i]));
    pthread_rwlock_unlock(&st->lock);
    return a;
}

/* Loads the records from the store (oldest first). */
static int load_records(struct steer *st)
{
    struct store_stmt *s;
    int step;
    if (store_prepare(st->store, STEER_SQL_MIT_LOAD, &s))
        return OC_EDB;
    while ((step = store_step(s)) == STORE_ROW) {
        struct steer_record r;
        memset(&r, 0, sizeof(r));
        const char *spec = store_col_text(s, 1), *actor = store_col_text(s, 2);
        r.spec = spec ? json_loads(spec, 0, NULL) : NULL;
        if (!r.spec)
            continue;
        r.id = store_col_int(s, 0);
        snprintf(r.actor, sizeof(r.actor), "%s", actor ? actor : "");
        r.created_ms = store_col_int(s, 3);
        r.reverted_ms = store_col_is_null(s, 4) ? 0 : store_col_int(s, 4);
        r.followup_id = store_col_int(s, 5);
        r.followup_due_ms = store_col_int(s, 6);
        records_append(st, &r);
        if (r.id >= st->next_id)
            st->next_id = r.id + 1;
    }
    store_reset(s);
    return step == STORE_DONE ? 0 : OC_EDB;
}

int steer_load(struct steer *st)
{
    struct store_stmt *s;
    char err[256];
    int rc = OC_EDB;
    store_lock(st->store);
    if (store_prepare(st->store, STEER_SQL_POLICY_GET, &s) == 0) {
        const char *doc = store_step(s) == STORE_ROW ? store_col_text(s, 0) : NULL;
        st->base = doc ? json_loads(doc, 0, NULL) : NULL;
        store_reset(s);
        rc = load_records(st);
    }
    store_unlock(st->store);
    if (!rc && steer_rebuild(st, err, sizeof(err)))
        oc_log(OC_LOG_ERROR, "steer: the stored policy does not compile: %s", err);
    return rc;
}
