/*
 * store.c - the firing history (table alert_firings) and the alert audit computed from it:
 * per rule, times fired, acknowledged and led to an incident over the last N days, with a
 * flag for rules that never fired or fired without leading to action.
 */
#include "alert/alert.h"
#include "core/topics.h"
#include "alert/sql.h"
#include "core/err.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a prepared statement to completion; 0 or OC_EDB. Caller holds the store lock. */
static int run(struct store_stmt *q)
{
    int rc = store_step(q);
    store_reset(q);
    return rc == STORE_DONE ? 0 : OC_EDB;
}

static int record_fired(struct store *st, const json_t *p)
{
    struct store_stmt *q;
    char *doc = json_dumps(p, JSON_COMPACT);
    int rc = store_prepare(st, ALERT_SQL_INSERT, &q);
    if (rc == 0) {
        STORE_BIND(q, STORE_TEXT(json_string_value(json_object_get(p, "alert_id"))),
                   STORE_TEXT(json_string_value(json_object_get(p, "rule"))),
                   STORE_TEXT(json_string_value(json_object_get(p, "source"))),
                   STORE_TEXT(json_string_value(json_object_get(p, "level"))),
                   STORE_INT(json_integer_value(json_object_get(p, "since"))),
                   STORE_INT(json_integer_value(json_object_get(p, "at"))),
                   STORE_TEXT(doc ? doc : "{}"));
        rc = run(q);
    }
    free(doc);
    return rc;
}

/* Binds (int, alert_id) to one of the update statements and runs it. */
static int update(struct store *st, const char *sql, int64_t v, const char *text,
                  const char *alert_id)
{
    struct store_stmt *q;
    store_lock(st);
    int rc = store_prepare(st, sql, &q);
    if (rc == 0) {
        if (text)
            store_bind_text(q, 1, text);
        else
            store_bind_int(q, 1, v);
        store_bind_text(q, 2, alert_id);
        rc = run(q);
    }
    store_unlock(st);
    return rc;
}

int alert_store_record(struct store *st, const char *topic, const json_t *payload)
{
    const char *id = json_string_value(json_object_get(payload, "alert_id"));
    int rc;
    if (!id || !json_string_value(json_object_get(payload, "rule")))
        return OC_EINVAL;
    if (strcmp(topic, OC_TOPIC_ALERT_RESOLVED) == 0)
        return update(st, ALERT_SQL_RESOLVE, json_integer_value(json_object_get(payload, "at")),
                      NULL, id);
    store_lock(st);
    rc = record_fired(st, payload);
    store_unlock(st);
    return rc;
}

int alert_store_is_open(struct store *st, const char *alert_id)
{
    struct store_stmt *q;
    store_lock(st);
    int rc = store_prepare(st, ALERT_SQL_IS_OPEN, &q);
    if (rc == 0) {
        store_bind_text(q, 1, alert_id);
        rc = store_step(q) == STORE_ROW ? store_col_int(q, 0) > 0 : OC_EDB;
        store_reset(q);
    }
    store_unlock(st);
    return rc;
}

int alert_store_ack(struct store *st, const char *alert_id, int64_t ts)
{
    return update(st, ALERT_SQL_ACK, ts, NULL, alert_id);
}

int alert_store_incident(struct store *st, const char *alert_id, const char *incident_id)
{
    return update(st, ALERT_SQL_INCIDENT, 0, incident_id, alert_id);
}

json_t *alert_store_open_firings(struct store *st)
{
    struct store_stmt *q;
    json_t *a = json_array();
    store_lock(st);
    if (store_prepare(st, ALERT_SQL_OPEN, &q) == 0) {
        while (store_step(q) == STORE_ROW) {
            json_t *o = json_loads(store_col_text(q, 0), 0, NULL);
            if (o)
                json_array_append_new(a, o);
        }
        store_reset(q);
    }
    store_unlock(st);
    return a;
}

static json_t *int_or_null(struct store_stmt *q, int col)
{
    return store_col_is_null(q, col) ? json_null() : json_integer(store_col_int(q, col));
}

json_t *alert_store_recent(struct store *st, int limit)
{
    struct store_stmt *q;
    json_t *a = json_array();
    store_lock(st);
    if (store_prepare(st, ALERT_SQL_RECENT, &q) == 0) {
        store_bind_int(q, 1, limit);
        while (store_step(q) == STORE_ROW) {
            const char *inc = store_col_text(q, 4);
            json_t *o = json_loads(store_col_text(q, 0), 0, NULL);
            if (!o)
                continue;
            json_object_set_new(o, "fired_at", json_integer(store_col_int(q, 1)));
            json_object_set_new(o, "resolved_at", int_or_null(q, 2));
            json_object_set_new(o, "acknowledged_at", int_or_null(q, 3));
            json_object_set_new(o, "incident_id", inc ? json_string(inc) : json_null());
            json_array_append_new(a, o);
        }
        store_reset(q);
    }
    store_unlock(st);
    return a;
}

static const char *flag_of(json_int_t fired, json_int_t acked, json_int_t incidents)
{
    if (fired == 0)
        return "never_fired";
    return acked == 0 && incidents == 0 ? "no_action" : "ok";
}

static json_t *audit_row(const char *rule, const char *level, const char *source, json_int_t f,
                         json_int_t a, json_int_t i)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "rule", rule, "level", level, "source",
                     source, "fired", f, "acknowledged", a, "led_to_incident", i, "flag",
                     flag_of(f, a, i));
}

/* Appends the history's rows to out, marking the rules of rules found in done. */
static int audit_history(struct store *st, const struct alert_rules *rules, int64_t from,
                         int64_t to, json_t *out, char *done)
{
    struct store_stmt *q;
    int rc = store_prepare(st, ALERT_SQL_AUDIT, &q);
    if (rc)
        return rc;
    store_bind_int(q, 1, from);
    store_bind_int(q, 2, to);
    while ((rc = store_step(q)) == STORE_ROW) {
        const char *rule = store_col_text(q, 0);
        for (int i = 0; rules && i < rules->n; i++)
            if (strcmp(rules->rules[i].name, rule) == 0)
                done[i] = 1;
        json_array_append_new(out, audit_row(rule, store_col_text(q, 1), store_col_text(q, 2),
                                             store_col_int(q, 3), store_col_int(q, 4),
                                             store_col_int(q, 5)));
    }
    store_reset(q);
    return rc == STORE_DONE ? 0 : OC_EDB;
}

json_t *alert_audit(struct store *st, const struct alert_rules *rules, int64_t now_s, int days)
{
    char done[ALERT_MAX_RULES] = {0};
    int64_t from = now_s - (int64_t)days * 86400;
    json_t *rows = json_array();
    store_lock(st);
    int rc = audit_history(st, rules, from, now_s + 1, rows, done);
    store_unlock(st);
    if (rc) {
        json_decref(rows);
        return NULL;
    }
    for (int i = 0; rules && i < rules->n; i++)
        if (!done[i])
            json_array_append_new(rows, audit_row(rules->rules[i].name,
                                                  alert_level_names[rules->rules[i].level], "oncue",
                                                  0, 0, 0));
    return json_pack("{s:i, s:I, s:I, s:o}", "days", days, "from", (json_int_t)from, "to",
                     (json_int_t)now_s, "rules", rows);
}
