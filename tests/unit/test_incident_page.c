/*
 * test_incident_page.c - incident_page_json, the page builder behind GET /v1/incidents: exact
 * ids page by page (newest first, no repeat, no gap), the next cursor absent on the last page
 * (also when the last page is exactly full), the state filter across pages, a cursor past the
 * newest or below the oldest, and pages that do not shift when an incident opens meanwhile;
 * incident_page_parse, the query values limit and before by value.
 */
#include "t_incident.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* The shared fixture, every slice measured as 1% of viewers and visible to them. */
static void open_fx(struct fx *f)
{
    fx_open(f);
    fake.affected_share = 0.01;
    fake.viewer_visible = 1;
}

/* Opens incident number k (its own region: slices that neither contain the other, so each
 * alert opens an incident of its own). */
static void open_one(struct fx *f, int k)
{
    char id[32], slice[48];
    snprintf(id, sizeof id, "reb/R%d", k);
    snprintf(slice, sizeof slice, "{\"region\": \"R%d\"}", k);
    fire(f, id, slice, "notify", 0.08);
    advance_s(f, 1);
}

/* The page's ids joined by commas ("25,24,23"), in a static buffer; its cursor in *next. */
static const char *page(struct fx *f, const char *state, int64_t before, int limit, int64_t *next)
{
    static char out[4096];
    size_t i, len = 0;
    json_t *inc, *l = incident_page_json(f->m, state, before, limit, next);
    out[0] = 0;
    json_array_foreach(l, i, inc)
    {
        const char *id = json_string_value(json_object_get(inc, "incident_id"));
        len +=
            (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "", id ? id + 4 : "?");
    }
    json_decref(l);
    return out;
}

static void test_walk_all(void)
{
    struct fx f;
    int64_t next = -1;
    open_fx(&f);
    for (int k = 1; k <= 25; k++)
        open_one(&f, k);
    json_t *all = incident_list_json(f.m, NULL);
    T_EQ_INT(json_array_size(all), 25);
    json_decref(all);
    T_EQ_STR(page(&f, NULL, 0, 7, &next), "25,24,23,22,21,20,19");
    T_EQ_INT(next, 19);
    T_EQ_STR(page(&f, NULL, next, 7, &next), "18,17,16,15,14,13,12");
    T_EQ_INT(next, 12);
    T_EQ_STR(page(&f, NULL, next, 7, &next), "11,10,9,8,7,6,5");
    T_EQ_INT(next, 5);
    T_EQ_STR(page(&f, NULL, next, 7, &next), "4,3,2,1");
    T_EQ_INT(next, 0);
    /* a last page exactly full has no link to an empty one */
    T_EQ_STR(page(&f, NULL, 6, 5, &next), "5,4,3,2,1");
    T_EQ_INT(next, 0);
    T_EQ_STR(page(&f, NULL, 0, 25, &next), "25,24,23,22,21,20,19,18,17,16,15,14,13,12,11,10,9,8,"
                                           "7,6,5,4,3,2,1");
    T_EQ_INT(next, 0);
    T_EQ_STR(page(&f, NULL, 0, 1, &next), "25");
    T_EQ_INT(next, 25);
    /* a cursor past the newest starts at the newest; at the oldest there is nothing left */
    T_EQ_STR(page(&f, NULL, 1000, 2, &next), "25,24");
    T_EQ_INT(next, 24);
    T_EQ_STR(page(&f, NULL, 1, 10, &next), "");
    T_EQ_INT(next, 0);
    /* an incident opened between two pages shows on the first, never shifts the next */
    T_EQ_STR(page(&f, NULL, 0, 10, &next), "25,24,23,22,21,20,19,18,17,16");
    open_one(&f, 26);
    T_EQ_STR(page(&f, NULL, next, 10, &next), "15,14,13,12,11,10,9,8,7,6");
    T_EQ_STR(page(&f, NULL, 0, 2, &next), "26,25");
    fx_close(&f);
}

static void test_state_filter(void)
{
    struct fx f;
    char err[256];
    int64_t next = -1;
    open_fx(&f);
    for (int k = 1; k <= 12; k++)
        open_one(&f, k);
    for (int k = 3; k <= 12; k += 3)
        T_EQ_INT(incident_resolve(f.m, k, "erin", 1, "test", err, sizeof err), 0);
    T_EQ_STR(page(&f, "open", 0, 3, &next), "11,10,8");
    T_EQ_INT(next, 8);
    T_EQ_STR(page(&f, "open", next, 3, &next), "7,5,4");
    T_EQ_INT(next, 4);
    T_EQ_STR(page(&f, "open", next, 3, &next), "2,1");
    T_EQ_INT(next, 0);
    T_EQ_STR(page(&f, "resolved", 0, 2, &next), "12,9");
    T_EQ_INT(next, 9);
    T_EQ_STR(page(&f, "resolved", next, 2, &next), "6,3");
    T_EQ_INT(next, 0);
    T_EQ_STR(page(&f, "triggered", 3, 5, &next), "2,1");
    T_EQ_INT(next, 0);
    T_EQ_STR(page(&f, "closed", 0, 5, &next), "");
    T_EQ_INT(next, 0);
    T_EQ_STR(page(&f, "nonsense", 0, 5, &next), "");
    T_EQ_INT(next, 0);
    fx_close(&f);
}

static void test_empty(void)
{
    struct fx f;
    int64_t next = -1;
    open_fx(&f);
    T_EQ_STR(page(&f, NULL, 0, 100, &next), "");
    T_EQ_INT(next, 0);
    fx_close(&f);
}

/* The query values: each case's state, limit and before (NULL: absent) give the limit and
 * before, or the refusal naming its parameter. */
static void test_parse(void)
{
    static const struct {
        const char *state, *limit, *before;
        int limit_out;
        int64_t before_out;
        const char *err; /* the detail's first word, or NULL when accepted */
    } cases[] = {
        {NULL, NULL, NULL, 100, 0, NULL},
        {"open", NULL, NULL, 1000, 0, NULL},
        {"resolved", NULL, NULL, 100, 0, NULL},
        {"triggered", NULL, NULL, 100, 0, NULL},
        {"closed", NULL, NULL, 100, 0, NULL},
        {"all", NULL, NULL, 100, 0, NULL},
        {"All", NULL, NULL, 0, 0, "state:"},
        {"Open", NULL, NULL, 0, 0, "state:"},
        {"opened", NULL, NULL, 0, 0, "state:"},
        {"", NULL, NULL, 0, 0, "state:"},
        {"unknown", "5", NULL, 0, 0, "state:"},
        {"open", "60", "INC-176", 60, 176, NULL},
        {NULL, "1", "7", 1, 7, NULL},
        {NULL, "1000", "inc-12", 1000, 12, NULL},
        {NULL, "0100", NULL, 100, 0, NULL},
        {NULL, "0", NULL, 0, 0, "limit:"},
        {NULL, "1001", NULL, 0, 0, "limit:"},
        {NULL, "abc", NULL, 0, 0, "limit:"},
        {NULL, "-1", NULL, 0, 0, "limit:"},
        {NULL, "", NULL, 0, 0, "limit:"},
        {NULL, "10x", NULL, 0, 0, "limit:"},
        {NULL, "99999999999999999999", NULL, 0, 0, "limit:"},
        {"open", "0", NULL, 0, 0, "limit:"},
        {NULL, NULL, "INC-0", 0, 0, "before:"},
        {NULL, NULL, "INC-", 0, 0, "before:"},
        {NULL, NULL, "abc", 0, 0, "before:"},
        {NULL, NULL, "", 0, 0, "before:"},
        {NULL, "5", "7x", 0, 0, "before:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct incident_page_req pr;
        char err[160] = "";
        int rc = incident_page_parse(cases[i].state, cases[i].limit, cases[i].before, &pr, err,
                                     sizeof err);
        if (!cases[i].err) {
            T_EQ_INT(rc, 0);
            T_EQ_INT(pr.limit, cases[i].limit_out);
            T_EQ_INT(pr.before, cases[i].before_out);
        } else {
            T_EQ_INT(rc, OC_EINVAL);
            char *sp = strchr(err, ' ');
            if (sp)
                *sp = '\0';
            T_EQ_STR(err, cases[i].err);
        }
    }
}

static const struct t_case cases[] = {
    T_CASE(test_parse), T_CASE(test_walk_all), T_CASE(test_state_filter), T_CASE(test_empty), {0},
};

T_MAIN(cases)
