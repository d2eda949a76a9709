/*
 * notify.c - the outbox's endpoints file and what GET /v1/notifications shows.
 *
 * incident.webhooks_file is YAML (or JSON, which YAML includes) holding a list of endpoints:
 *   - name: ops-slack
 *     kind: slack            # slack | teams | teams_legacy | pagerduty | webhook
 *     url: https://hooks.slack.com/services/...
 *     secret: whsec_...      # webhook: signing secret(s), space-separated while a key
 *                            # rotates (each signs); pagerduty: routing key
 * Endpoints are upserted by name at start; the API can add more.
 */
#include "incident/incident_int.h"
#include "core/alloc.h"
#include "incident/sql.h"
#include "core/err.h"
#include "core/netguard.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define EP_FIELDS   4   /* name, kind, url, secret */
#define EP_FILE_MAX 256 /* endpoints in one file */

static const char *const ep_keys[EP_FIELDS] = {"name", "kind", "url", "secret"};

struct ep_parse {
    char val[EP_FIELDS][2048];
    int key; /* index of the key just read, or -1 */
    int n;   /* endpoints added */
};

static int add_parsed(struct incident_outbox *ob, struct ep_parse *p, const char *path, int line,
                      char *err, size_t errlen)
{
    int rc = incident_outbox_add_endpoint(ob, p->val[0], p->val[1], p->val[2],
                                          p->val[3][0] ? p->val[3] : NULL, NULL);
    if (rc)
        snprintf(err, errlen,
                 "%s:%d: endpoint \"%s\": needs name, kind (slack, teams, "
                 "teams_legacy, pagerduty, webhook), an http(s) url and, for webhook and "
                 "pagerduty, a secret (webhook: whsec_... base64, up to %d separated by "
                 "spaces while a key rotates)",
                 path, line, p->val[0], WEBHOOK_SECRETS_MAX);
    memset(p->val, 0, sizeof(p->val));
    p->n++;
    return rc;
}

static void on_scalar(struct ep_parse *p, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    if (p->key < 0) {
        for (int i = 0; i < EP_FIELDS; i++)
            if (strcmp(s, ep_keys[i]) == 0)
                p->key = i;
        if (p->key < 0)
            p->key = EP_FIELDS; /* unknown key: its value is skipped */
        return;
    }
    if (p->key < EP_FIELDS)
        snprintf(p->val[p->key], sizeof(p->val[p->key]), "%s", s);
    p->key = -1;
}

/* Upserts the endpoints of the file at path: 0, OC_EIO, OC_EINVAL or OC_ETOOBIG (err says
 * "FILE:LINE: ..."). */
int inc_outbox_load_file(struct incident_outbox *ob, const char *path, char *err, size_t errlen)
{
    yaml_parser_t yp;
    yaml_event_t ev;
    struct ep_parse p;
    int rc = 0, depth = 0, done = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return OC_EIO;
    }
    memset(&p, 0, sizeof(p));
    p.key = -1;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_file(&yp, f);
    while (!done && !rc) {
        if (!yaml_parser_parse(&yp, &ev)) {
            snprintf(err, errlen, "%s:%zu: %s", path, yp.problem_mark.line + 1,
                     yp.problem ? yp.problem : "YAML error");
            rc = OC_EINVAL;
            break;
        }
        if (ev.type == YAML_MAPPING_START_EVENT) {
            depth++;
            p.key = -1;
        } else if (ev.type == YAML_MAPPING_END_EVENT && --depth == 0) {
            if (p.n >= EP_FILE_MAX) {
                snprintf(err, errlen, "%s: more than %d endpoints", path, EP_FILE_MAX);
                rc = OC_ETOOBIG;
            } else {
                rc = add_parsed(ob, &p, path, (int)ev.start_mark.line + 1, err, errlen);
            }
        } else if (ev.type == YAML_SCALAR_EVENT && depth == 1) {
            on_scalar(&p, &ev);
        } else if (ev.type == YAML_STREAM_END_EVENT) {
            done = 1;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    fclose(f);
    return rc;
}

json_t *incident_outbox_endpoints_json(struct incident_outbox *ob, int redact)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    char shown[OC_URL_SHOWN_MAX];
    store_lock(ob->app->store);
    if (store_prepare(ob->app->store, INC_SQL_EP_LIST, &st) == 0) {
        while (store_step(st) == STORE_ROW) {
            char *url = NULL;
            if (store_unseal(ob->app->store, store_col_text(st, 3), &url) != 0)
                url = oc_strdup("(sealed with another key)");
            if (redact)
                oc_url_cut(url ? url : "", shown, sizeof shown);
            json_array_append_new(
                arr,
                json_pack("{s:I, s:s, s:s, s:s, s:o, s:I}", "id", (json_int_t)store_col_int(st, 0),
                          "name", store_col_text(st, 1), "kind", store_col_text(st, 2), "url",
                          redact ? shown : url, "disabled_at",
                          store_col_is_null(st, 4) ? json_null()
                                                   : json_integer(store_col_int(st, 4)),
                          "created_at", (json_int_t)store_col_int(st, 5)));
            free(url);
        }
        store_reset(st);
    }
    store_unlock(ob->app->store);
    return arr;
}

static json_t *attempts_json(struct store *s, int64_t id)
{
    struct store_stmt *st;
    json_t *arr = json_array();
    if (store_prepare(s, INC_SQL_AT_LIST, &st) == 0) {
        store_bind_int(st, 1, id);
        while (store_step(st) == STORE_ROW) {
            const char *e = store_col_text(st, 2);
            json_array_append_new(arr, json_pack("{s:I, s:I, s:s?, s:I}", "at",
                                                 (json_int_t)store_col_int(st, 0), "status",
                                                 (json_int_t)store_col_int(st, 1), "error", e, "ms",
                                                 (json_int_t)store_col_int(st, 3)));
        }
        store_reset(st);
    }
    return arr;
}

json_t *incident_outbox_json(struct incident_outbox *ob, int limit, int redact)
{
    struct store_stmt *st;
    struct store *s = ob->app->store;
    json_t *arr = json_array();
    int64_t ids[1000];
    int n = 0;
    store_lock(s);
    if (store_prepare(s, INC_SQL_OB_LIST, &st) == 0) {
        store_bind_int(st, 1, limit > 0 && limit <= 1000 ? limit : 100);
        while (store_step(st) == STORE_ROW && n < 1000) {
            ids[n++] = store_col_int(st, 0);
            json_array_append_new(
                arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:o, s:I, s:I, s:s, s:s}", "id",
                               (json_int_t)store_col_int(st, 0), "msg_id", store_col_text(st, 1),
                               "topic", store_col_text(st, 2), "state", store_col_text(st, 3),
                               "attempts", (json_int_t)store_col_int(st, 4), "last_status",
                               store_col_is_null(st, 5) ? json_null()
                                                        : json_integer(store_col_int(st, 5)),
                               "created_at", (json_int_t)store_col_int(st, 6), "next_at",
                               (json_int_t)store_col_int(st, 7), "endpoint", store_col_text(st, 8),
                               "kind", store_col_text(st, 9)));
        }
        store_reset(st);
    }
    for (int i = 0; i < n; i++) {
        json_t *msg = json_array_get(arr, (size_t)i);
        if (redact) /* the receivers' answers and errors are for admins */
            json_object_del(msg, "last_status");
        else
            json_object_set_new(msg, "attempt_log", attempts_json(s, ids[i]));
    }
    store_unlock(s);
    return arr;
}

void incident_outbox_counts(struct incident_outbox *ob, int *pending, int *delivered, int *failed)
{
    struct store_stmt *st;
    *pending = *delivered = *failed = 0;
    store_lock(ob->app->store);
    if (store_prepare(ob->app->store, INC_SQL_OB_COUNT, &st) == 0) {
        while (store_step(st) == STORE_ROW) {
            const char *state = store_col_text(st, 0);
            int c = (int)store_col_int(st, 1);
            if (!strcmp(state, "pending"))
                *pending = c;
            else if (!strcmp(state, "delivered"))
                *delivered = c;
            else
                *failed += c;
        }
        store_reset(st);
    }
    store_unlock(ob->app->store);
}
