/*
 * feedback.c - viewer feedback: NPS and CSAT replies from players and the platform's apps
 * (POST /v1/feedback, one reply or a batch), idempotent by the sender's id, attributed to an
 * incident (given, or the open one whose slice the reply's service, region or device
 * matches); their trends per service, segment, tier, incident or source by day or week
 * (GET /v1/feedback/trends); and the ranking that turns them into priorities: incidents by
 * unhappy replies with their open follow-ups, services by unhappy replies and NPS decline
 * (GET /v1/feedback/priorities). Formulas in docs/internals/tickets.md.
 */
#include "tickets/tickets_int.h"
#include "tickets/sql.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/lock.h"
#include "core/timefmt.h"
#include "http/http.h"
#include "incident/incident.h"
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tickets_feedback_kinds[] = {"nps", "csat", NULL};

/* Copies at most n-1 bytes of s into out, cut at a UTF-8 character boundary. */
static void cut(char *out, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n) {
        len = n - 1;
        while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

/* Reads optional string key of o into out (n bytes): 0, or OC_EINVAL with err naming it. When
 * token, keeps the tagger's form: lower case letters, digits, '.' and '-'. */
static int opt_str(const json_t *o, const char *ctx, const char *key, char *out, size_t n,
                   int token, char *err, size_t errlen)
{
    const char *v = NULL;
    int rc = oc_json_get_str(o, key, &v);
    out[0] = '\0';
    if (rc == OC_ENOTFOUND)
        return 0;
    if (rc) {
        snprintf(err, errlen, "%s%s: a string", ctx, key);
        return OC_EINVAL;
    }
    if (!token) {
        cut(out, n, v);
        return 0;
    }
    size_t at = 0;
    for (; *v && at < n - 1; v++)
        if (isalnum((unsigned char)*v) || *v == '.' || *v == '-')
            out[at++] = (char)tolower((unsigned char)*v);
    out[at] = '\0';
    return 0;
}

/* One reply from object o; ctx prefixes field names in errors ("responses[2]."). */
static int one(const json_t *o, const char *ctx, struct tickets_feedback *f, char *err,
               size_t errlen)
{
    const char *s = NULL;
    int64_t v = 0;
    int rc;
    memset(f, 0, sizeof *f);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "%s: a reply is an object", ctx[0] ? ctx : "body");
        return OC_EINVAL;
    }
    if (oc_json_get_str(o, "kind", &s) != 0 || (strcmp(s, "nps") != 0 && strcmp(s, "csat") != 0)) {
        snprintf(err, errlen, "%skind: nps or csat", ctx);
        return OC_EINVAL;
    }
    f->kind = strcmp(s, "nps") == 0 ? TICKETS_NPS : TICKETS_CSAT;
    if (oc_json_get_int(o, "score", &v) != 0 || v < (f->kind == TICKETS_NPS ? 0 : 1) ||
        v > (f->kind == TICKETS_NPS ? 10 : 5)) {
        snprintf(err, errlen, "%sscore: an integer from %s", ctx,
                 f->kind == TICKETS_NPS ? "0 to 10 (nps)" : "1 to 5 (csat)");
        return OC_EINVAL;
    }
    f->score = (int)v;
    const json_t *id = json_object_get(o, "id");
    if (id && !json_is_null(id)) {
        const char *t = json_string_value(id);
        size_t len = t ? strlen(t) : 0;
        int ok = len >= 1 && len <= TICKETS_ID_MAX;
        for (size_t i = 0; ok && i < len; i++)
            ok = t[i] > ' ' && t[i] < 127 && t[i] != '"';
        if (!ok) {
            snprintf(err, errlen, "%sid: a string of 1 to %d printable characters", ctx,
                     TICKETS_ID_MAX);
            return OC_EINVAL;
        }
        memcpy(f->id, t, len + 1);
    }
    if ((rc = opt_str(o, ctx, "text", f->text, sizeof f->text, 0, err, errlen)) ||
        (rc = opt_str(o, ctx, "account", f->account, sizeof f->account, 0, err, errlen)) ||
        (rc = opt_str(o, ctx, "service", f->service, sizeof f->service, 0, err, errlen)) ||
        (rc = opt_str(o, ctx, "segment", f->segment, sizeof f->segment, 1, err, errlen)) ||
        (rc = opt_str(o, ctx, "tier", f->tier, sizeof f->tier, 1, err, errlen)) ||
        (rc = opt_str(o, ctx, "region", f->region, sizeof f->region, 0, err, errlen)) ||
        (rc = opt_str(o, ctx, "device", f->device, sizeof f->device, 1, err, errlen)) ||
        (rc = opt_str(o, ctx, "source", f->source, sizeof f->source, 1, err, errlen)))
        return rc;
    for (char *p = f->region; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (f->tier[0] && strcmp(f->tier, "premium") != 0 && strcmp(f->tier, "standard") != 0 &&
        strcmp(f->tier, "free") != 0) {
        snprintf(err, errlen, "%stier: premium, standard or free", ctx);
        return OC_EINVAL;
    }
    const json_t *inc = json_object_get(o, "incident_id");
    if (json_is_string(inc)) {
        if (incident_id_parse(json_string_value(inc), &f->incident_id) != 0 ||
            f->incident_id <= 0) {
            snprintf(err, errlen, "%sincident_id: an incident (7 or \"INC-7\")", ctx);
            return OC_EINVAL;
        }
    } else if (inc && !json_is_null(inc)) {
        if (oc_json_get_int_range(o, ctx[0] ? ctx : NULL, "incident_id", 1, INT64_MAX / 2,
                                  &f->incident_id, err, errlen) != 0) {
            /* oc_json_get_int_range's ctx gets a '.', ours has it already */
            snprintf(err, errlen, "%sincident_id: an incident (7 or \"INC-7\")", ctx);
            return OC_EINVAL;
        }
    }
    const json_t *at = json_object_get(o, "at");
    if (json_is_string(at)) {
        if (oc_time_parse(json_string_value(at), 0, &f->at_ms) != 0 || f->at_ms < 0 ||
            f->at_ms > OC_JSON_UNIX_S_MAX * 1000) {
            snprintf(err, errlen, "%sat: an RFC 3339 time or unix seconds", ctx);
            return OC_EINVAL;
        }
    } else if (at && !json_is_null(at)) {
        if (oc_json_get_int(o, "at", &v) != 0 || v < 0 || v > OC_JSON_UNIX_S_MAX) {
            snprintf(err, errlen, "%sat: an RFC 3339 time or unix seconds", ctx);
            return OC_EINVAL;
        }
        f->at_ms = v * 1000;
    }
    return 0;
}

int tickets_feedback_parse(const char *body, size_t n, struct tickets_feedback *out, int max,
                           int *count, char *err, size_t errlen)
{
    json_t *root = NULL;
    char jerr[160], ctx[48];
    int rc = OC_EMALFORMED;
    *count = 0;
    if (oc_json_parse(body, n, &root, jerr, sizeof jerr) != 0 || !json_is_object(root)) {
        snprintf(err, errlen, "the body is not a JSON object%s%s", root ? "" : ": ",
                 root ? "" : jerr);
        goto out;
    }
    if (oc_json_find_nul(root, jerr, sizeof jerr) != 0) {
        snprintf(err, errlen, "%s: a NUL character", jerr[0] ? jerr : "body");
        rc = OC_EINVAL;
        goto out;
    }
    const json_t *arr = json_object_get(root, "responses");
    if (!arr) {
        rc = one(root, "", &out[0], err, errlen);
        *count = rc ? 0 : 1;
        goto out;
    }
    rc = OC_EINVAL;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        snprintf(err, errlen, "responses: an array of 1 to %d replies", max);
        goto out;
    }
    if (json_array_size(arr) > (size_t)max) {
        snprintf(err, errlen, "responses: at most %d replies (got %zu)", max, json_array_size(arr));
        rc = OC_ETOOBIG;
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        snprintf(ctx, sizeof ctx, "responses[%zu].", i);
        if ((rc = one(json_array_get(arr, i), ctx, &out[i], err, errlen)) != 0)
            goto out;
    }
    *count = (int)json_array_size(arr);
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int tickets_nps(int64_t promoters, int64_t detractors, int64_t n, double *out)
{
    if (n <= 0)
        return -1;
    *out = 100.0 * (double)(promoters - detractors) / (double)n;
    return 0;
}

/* --- the module's part --- */

#define FEEDBACK_BODY_MAX (256 << 10)

/* POST /v1/feedback */
void tickets_post_feedback(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    struct store *s = m->app->store;
    struct tickets_feedback *f = oc_calloc(TICKETS_FEEDBACK_BATCH, sizeof *f);
    char err[300];
    int n = 0, rc = tickets_feedback_parse(req->body, req->body_len, f, TICKETS_FEEDBACK_BATCH, &n,
                                           err, sizeof err);
    if (rc) {
        http_problem(req, rc == OC_EMALFORMED ? 400 : rc == OC_ETOOBIG ? 413 : 422, "%s", err);
        free(f);
        return;
    }
    int64_t now = oc_clock_now_ms(m->app->clock);
    /* attribution: the given incident, else the open one the reply's dimensions match */
    oc_lock(&m->mu);
    for (int i = 0; i < n; i++)
        if (!f[i].incident_id)
            f[i].incident_id = tickets_open_match(m, f[i].service, f[i].region, f[i].device);
    oc_unlock(&m->mu);
    json_t *arr = json_array();
    int stored = 0, dup = 0;
    store_lock(s);
    rc = store_begin(s);
    for (int i = 0; !rc && i < n; i++) {
        struct store_stmt *q = NULL;
        rc = OC_EDB;
        if (store_prepare(s, TICKETS_SQL_FB_INSERT, &q) == 0 &&
            STORE_BIND(q, STORE_TEXT(f[i].id[0] ? f[i].id : NULL),
                       STORE_TEXT(tickets_feedback_kinds[f[i].kind]), STORE_INT(f[i].score),
                       STORE_TEXT(f[i].text), STORE_TEXT(f[i].account), STORE_TEXT(f[i].service),
                       STORE_TEXT(f[i].segment), STORE_TEXT(f[i].tier), STORE_TEXT(f[i].region),
                       STORE_TEXT(f[i].device), STORE_TEXT(f[i].source),
                       STORE_INT(f[i].incident_id), STORE_INT(f[i].at_ms ? f[i].at_ms : now),
                       STORE_INT(now)) == 0 &&
            store_step(q) == STORE_DONE) {
            int created = store_changes(s) > 0;
            stored += created;
            dup += !created;
            json_array_append_new(
                arr, json_pack("{s:s?, s:s, s:o}", "id", f[i].id[0] ? f[i].id : NULL, "outcome",
                               created ? "created" : "duplicate", "incident_id",
                               f[i].incident_id ? json_integer(f[i].incident_id) : json_null()));
            rc = 0;
        }
        tickets_stmt_done(q);
    }
    if (!rc)
        rc = store_commit(s);
    else
        store_rollback(s);
    store_unlock(s);
    free(f);
    if (rc) {
        json_decref(arr);
        http_reply_err(req, OC_EDB, "the feedback was not stored");
        return;
    }
    http_reply_json(
        req, stored ? 201 : 200,
        json_pack("{s:i, s:i, s:o}", "stored", stored, "duplicates", dup, "responses", arr));
}

/* from/to query parameters (default: the days before now): 0, or -1 answered. */
static int window(struct http_req *req, int64_t now_s, int64_t days, int64_t *from_s, int64_t *to_s)
{
    const char *fs = http_query(req, "from"), *ts = http_query(req, "to");
    char why[200];
    *to_s = now_s + 1;
    if (ts && oc_time_param(ts, now_s, to_s, why, sizeof why) != 0) {
        http_problem(req, 422, "to: %s", why);
        return -1;
    }
    *from_s = *to_s - days * 86400;
    if (fs && oc_time_param(fs, now_s, from_s, why, sizeof why) != 0) {
        http_problem(req, 422, "from: %s", why);
        return -1;
    }
    if (*from_s >= *to_s) {
        http_problem(req, 422, "from: must be before to");
        return -1;
    }
    return 0;
}

/* The scores of one group or point: counts and the NPS / CSAT they make. */
struct fb_sums {
    int64_t nps_n, promoters, detractors, csat_n, satisfied, unhappy_csat;
    double csat_sum;
};

static void sums_read(struct store_stmt *q, int col, struct fb_sums *s)
{
    s->nps_n = store_col_int(q, col);
    s->promoters = store_col_int(q, col + 1);
    s->detractors = store_col_int(q, col + 2);
    s->csat_n = store_col_int(q, col + 3);
    s->satisfied = store_col_int(q, col + 4);
    s->unhappy_csat = store_col_int(q, col + 5);
    s->csat_sum = (double)store_col_int(q, col + 6);
}

static void sums_add(struct fb_sums *a, const struct fb_sums *b)
{
    a->nps_n += b->nps_n;
    a->promoters += b->promoters;
    a->detractors += b->detractors;
    a->csat_n += b->csat_n;
    a->satisfied += b->satisfied;
    a->unhappy_csat += b->unhappy_csat;
    a->csat_sum += b->csat_sum;
}

static json_t *sums_json(const struct fb_sums *s)
{
    double nps = 0;
    int has = tickets_nps(s->promoters, s->detractors, s->nps_n, &nps) == 0;
    return json_pack(
        "{s:I, s:I, s:I, s:o, s:I, s:I, s:o, s:o, s:I}", "nps_responses", (json_int_t)s->nps_n,
        "promoters", (json_int_t)s->promoters, "detractors", (json_int_t)s->detractors, "nps",
        has ? json_real(nps) : json_null(), "csat_responses", (json_int_t)s->csat_n, "satisfied",
        (json_int_t)s->satisfied, "csat_pct",
        s->csat_n ? json_real(100.0 * (double)s->satisfied / (double)s->csat_n) : json_null(),
        "csat_mean", s->csat_n ? json_real(s->csat_sum / (double)s->csat_n) : json_null(),
        "unhappy", (json_int_t)(s->detractors + s->unhappy_csat));
}

static const char *const dims[] = {"service", "segment", "tier", "incident",
                                   "source",  "region",  NULL};

/* GET /v1/feedback/trends?by=&bucket=day|week&from=&to= */
void tickets_get_feedback_trends(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    const char *by = http_query(req, "by"), *bucket = http_query(req, "bucket");
    int64_t from, to, bms;
    int ok = 0;
    if (!by)
        by = "service";
    for (int i = 0; dims[i]; i++)
        ok |= strcmp(by, dims[i]) == 0;
    if (!ok) {
        http_problem(req, 422, "by: service, segment, tier, incident, source or region");
        return;
    }
    if (bucket && strcmp(bucket, "day") != 0 && strcmp(bucket, "week") != 0) {
        http_problem(req, 422, "bucket: day or week");
        return;
    }
    bms = bucket && strcmp(bucket, "week") == 0 ? 7 * 86400000LL : 86400000LL;
    if (window(req, oc_clock_now_s(m->app->clock), 30, &from, &to) != 0)
        return;
    json_t *groups = json_array(), *g = NULL, *points = NULL;
    char cur[160] = "";
    struct fb_sums tot;
    int st = STORE_DONE, rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_FB_TRENDS, &q) == 0 &&
        STORE_BIND(q, STORE_INT(from * 1000), STORE_INT(to * 1000), STORE_TEXT(by),
                   STORE_INT(bms)) == 0) {
        while ((st = store_step(q)) == STORE_ROW) {
            const char *key = store_col_text(q, 0);
            char k[160];
            snprintf(k, sizeof k, "%s",
                     key && key[0] && (strcmp(by, "incident") != 0 || strcmp(key, "0") != 0)
                         ? key
                         : "(none)");
            struct fb_sums p;
            sums_read(q, 2, &p);
            if (!g || strcmp(k, cur) != 0) {
                if (g) {
                    json_object_set_new(g, "total", sums_json(&tot));
                    json_array_append_new(groups, g);
                }
                snprintf(cur, sizeof cur, "%s", k);
                points = json_array();
                g = json_pack("{s:s, s:o}", "key", k, "points", points);
                memset(&tot, 0, sizeof tot);
            }
            sums_add(&tot, &p);
            char at[OC_TIME_LEN];
            oc_time_format(store_col_int(q, 1), at, sizeof at);
            json_t *pt = sums_json(&p);
            json_object_set_new(pt, "at", json_string(at));
            json_array_append_new(points, pt);
        }
        if (g) {
            json_object_set_new(g, "total", sums_json(&tot));
            json_array_append_new(groups, g);
        }
        rc = st == STORE_DONE ? 0 : OC_EDB;
    }
    tickets_stmt_done(q);
    store_unlock(s);
    if (rc) {
        json_decref(groups);
        http_reply_err(req, OC_EDB, "cannot read the feedback");
        return;
    }
    char f[OC_TIME_LEN], t[OC_TIME_LEN];
    oc_time_format(from * 1000, f, sizeof f);
    oc_time_format(to * 1000, t, sizeof t);
    http_reply_json(req, 200,
                    json_pack("{s:s, s:s, s:s, s:s, s:o}", "by", by, "bucket",
                              bms == 86400000LL ? "day" : "week", "from", f, "to", t, "groups",
                              groups));
}

/* One ranked row of the priorities. */
struct prow {
    char key[160];
    struct fb_sums recent, previous;
    double score;
};

static int cmp_prow(const void *a, const void *b)
{
    const struct prow *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Reads the sums by dim of [a, b) ms into rows (adding to those of the same key): the number
 * of rows, or -1. */
static int prio_read(struct store *s, const char *dim, int64_t a, int64_t b, struct prow **rows,
                     int *n, int *cap, int recent)
{
    struct store_stmt *q = NULL;
    int st = STORE_DONE;
    if (store_prepare(s, TICKETS_SQL_FB_GROUPS, &q) != 0 ||
        STORE_BIND(q, STORE_INT(a), STORE_INT(b), STORE_TEXT(dim)) != 0) {
        tickets_stmt_done(q);
        return -1;
    }
    while ((st = store_step(q)) == STORE_ROW) {
        const char *key = store_col_text(q, 0);
        char k[160];
        snprintf(k, sizeof k, "%s", key && key[0] ? key : "(none)");
        if (strcmp(dim, "incident") == 0 && strcmp(k, "0") == 0)
            continue;
        int i;
        for (i = 0; i < *n && strcmp((*rows)[i].key, k) != 0; i++)
            ;
        if (i == *n) {
            if (*n >= 10000)
                continue;
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 32;
                *rows = oc_realloc(*rows, (size_t)*cap * sizeof **rows);
            }
            memset(&(*rows)[i], 0, sizeof **rows);
            snprintf((*rows)[i].key, sizeof(*rows)[i].key, "%s", k);
            (*n)++;
        }
        sums_read(q, 1, recent ? &(*rows)[i].recent : &(*rows)[i].previous);
    }
    tickets_stmt_done(q);
    return st == STORE_DONE ? *n : -1;
}

/* The NPS decline from previous to recent (points, >= 0), 0 when either has no NPS. */
static double decline(const struct prow *r)
{
    double a, b;
    if (tickets_nps(r->previous.promoters, r->previous.detractors, r->previous.nps_n, &a) != 0 ||
        tickets_nps(r->recent.promoters, r->recent.detractors, r->recent.nps_n, &b) != 0)
        return 0;
    return a > b ? a - b : 0;
}

/* GET /v1/feedback/priorities?from=&to=&limit= */
void tickets_get_feedback_priorities(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    struct store *s = m->app->store;
    int64_t from, to;
    if (window(req, oc_clock_now_s(m->app->clock), 14, &from, &to) != 0)
        return;
    int64_t mid = from + (to - from) / 2;
    struct prow *inc = NULL, *svc = NULL;
    int ni = 0, ci = 0, ns = 0, cs = 0, bad = 0;
    store_lock(s);
    bad |= prio_read(s, "incident", from * 1000, to * 1000, &inc, &ni, &ci, 1) < 0;
    bad |= prio_read(s, "service", mid * 1000, to * 1000, &svc, &ns, &cs, 1) < 0;
    bad |= prio_read(s, "service", from * 1000, mid * 1000, &svc, &ns, &cs, 0) < 0;
    store_unlock(s);
    if (bad) {
        free(inc);
        free(svc);
        http_reply_err(req, OC_EDB, "cannot read the feedback");
        return;
    }
    for (int i = 0; i < ni; i++)
        inc[i].score = (double)(inc[i].recent.detractors + inc[i].recent.unhappy_csat);
    for (int i = 0; i < ns; i++)
        svc[i].score = (double)(svc[i].recent.detractors + svc[i].recent.unhappy_csat) +
                       decline(&svc[i]) / 100.0 * (double)svc[i].recent.nps_n;
    if (ni > 1) /* qsort must not see NULL, even for no rows */
        qsort(inc, (size_t)ni, sizeof *inc, cmp_prow);
    if (ns > 1)
        qsort(svc, (size_t)ns, sizeof *svc, cmp_prow);
    json_t *ai = json_array(), *as = json_array();
    struct incident_mgr *im = incident_mgr_of(m->app);
    for (int i = 0; i < ni && i < 100; i++) {
        int64_t id = strtoll(inc[i].key, NULL, 10);
        json_t *j = NULL, *fus = json_array(), *row = sums_json(&inc[i].recent);
        const char *title = NULL, *sev = NULL, *state = NULL;
        if (im && incident_get_json(im, id, &j) == 0) {
            size_t k;
            json_t *fu;
            title = json_string_value(json_object_get(j, "title"));
            sev = json_string_value(json_object_get(j, "severity"));
            state = json_string_value(json_object_get(j, "state"));
            json_array_foreach(json_object_get(j, "followups"), k,
                               fu) if (json_is_null(json_object_get(fu, "done_at")))
                json_array_append(fus, fu);
        }
        json_object_set_new(row, "incident_id", json_integer(id));
        json_object_set_new(row, "rank", json_integer(i + 1));
        json_object_set_new(row, "score", json_real(inc[i].score));
        json_object_set_new(row, "title", title ? json_string(title) : json_null());
        json_object_set_new(row, "severity", sev ? json_string(sev) : json_null());
        json_object_set_new(row, "state", state ? json_string(state) : json_null());
        json_object_set_new(row, "open_followups", fus);
        json_decref(j);
        json_array_append_new(ai, row);
    }
    for (int i = 0; i < ns && i < 100; i++) {
        double a, b;
        int ha = tickets_nps(svc[i].previous.promoters, svc[i].previous.detractors,
                             svc[i].previous.nps_n, &a) == 0,
            hb = tickets_nps(svc[i].recent.promoters, svc[i].recent.detractors, svc[i].recent.nps_n,
                             &b) == 0;
        json_t *row = sums_json(&svc[i].recent);
        json_object_set_new(row, "service", json_string(svc[i].key));
        json_object_set_new(row, "rank", json_integer(i + 1));
        json_object_set_new(row, "score", json_real(svc[i].score));
        json_object_set_new(row, "nps_previous", ha ? json_real(a) : json_null());
        json_object_set_new(row, "nps_change", ha && hb ? json_real(b - a) : json_null());
        json_array_append_new(as, row);
    }
    free(inc);
    free(svc);
    char f[OC_TIME_LEN], t[OC_TIME_LEN], md[OC_TIME_LEN];
    oc_time_format(from * 1000, f, sizeof f);
    oc_time_format(to * 1000, t, sizeof t);
    oc_time_format(mid * 1000, md, sizeof md);
    http_reply_json(req, 200,
                    json_pack("{s:s, s:s, s:s, s:o, s:o}", "from", f, "to", t, "recent_from", md,
                              "incidents", ai, "services", as));
}
