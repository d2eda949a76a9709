/*
 * parse.c - search's untrusted inputs: the POST /v1/titles body (a JSON array or NDJSON of
 * title objects) and the GET /v1/search parameters. Every string has a byte cap, every list
 * an item cap, every number bounds, and a refusal names the field ("[3].people[1]").
 */
#include "search/search.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the optional string member key into *out (NULL when absent); -1 with a detail when it
 * is not a string of 1 (or 0 when empty_ok) to max bytes without NUL. */
static int opt_str(const json_t *obj, const char *key, size_t max, int required, const char **out,
                   char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
    } else if (json_is_string(v) && json_string_length(v) >= 1 && json_string_length(v) <= max &&
               strlen(json_string_value(v)) == json_string_length(v)) {
        *out = json_string_value(v);
        return 0;
    }
    snprintf(err, errlen, "%s: %sa string of 1 to %zu bytes", key, required ? "required, " : "",
             max);
    return -1;
}

/* Reads the optional list member key (strings of 1 to max bytes, at most SEARCH_LIST_MAX). */
static int opt_list(const json_t *obj, const char *key, size_t max, const char **out, int *n,
                    char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > SEARCH_LIST_MAX) {
        snprintf(err, errlen, "%s: an array of at most %d strings", key, SEARCH_LIST_MAX);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || json_string_length(s) < 1 || json_string_length(s) > max ||
            strlen(json_string_value(s)) != json_string_length(s)) {
            snprintf(err, errlen, "%s[%zu]: a string of 1 to %zu bytes", key, i, max);
            return -1;
        }
        out[(*n)++] = json_string_value(s);
    }
    return 0;
}

/* Reads the optional integer member key within [lo, hi] (0 when absent). */
static int opt_int(const json_t *obj, const char *key, int lo, int hi, int *out, char *err,
                   size_t errlen)
{
    int64_t v = 0;
    *out = 0;
    if (!json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
        return 0;
    if (oc_json_get_int_range(obj, NULL, key, lo, hi, &v, err, errlen) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* Reads kind (default movie) and popularity (default 0). */
static int kind_pop(const json_t *obj, struct search_title *t, char *err, size_t errlen)
{
    const char *k;
    const json_t *p = json_object_get(obj, "popularity");
    if (opt_str(obj, "kind", 16, 0, &k, err, errlen) != 0)
        return -1;
    t->kind = k ? -1 : SEARCH_MOVIE;
    for (int i = 0; k && search_kind_names[i]; i++)
        if (strcmp(k, search_kind_names[i]) == 0)
            t->kind = i;
    if (t->kind < 0) {
        snprintf(err, errlen, "kind: one of movie, series, episode, live");
        return -1;
    }
    t->popularity = 0;
    if (p && !json_is_null(p)) {
        double d = json_is_number(p) ? json_number_value(p) : -1;
        if (!(d >= 0 && d <= 1e15)) {
            snprintf(err, errlen, "popularity: a number from 0 to 1e15");
            return -1;
        }
        t->popularity = d;
    }
    return 0;
}

/* Checks one title object; see search.h. */
int search_parse_title(const json_t *obj, struct search_title *t, char *err, size_t errlen)
{
    static const char *const allowed[] = {
        "id",      "title",   "original_title", "alt_titles", "series",      "season",
        "episode", "people",  "genres",         "year",       "language",    "rating",
        "kind",    "regions", "entitlements",   "popularity", "description", NULL};
    memset(t, 0, sizeof *t);
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "a title must be a JSON object");
        return OC_EINVAL;
    }
    const char *unknown = oc_json_unknown_key(obj, allowed);
    if (unknown) {
        snprintf(err, errlen, "%s: unknown field", unknown);
        return OC_EINVAL;
    }
    if (opt_str(obj, "id", SEARCH_ID_MAX, 1, &t->id, err, errlen) ||
        opt_str(obj, "title", SEARCH_TEXT_MAX, 1, &t->title, err, errlen) ||
        opt_str(obj, "original_title", SEARCH_TEXT_MAX, 0, &t->original_title, err, errlen) ||
        opt_str(obj, "series", SEARCH_TEXT_MAX, 0, &t->series, err, errlen) ||
        opt_str(obj, "description", SEARCH_DESC_MAX, 0, &t->description, err, errlen) ||
        opt_str(obj, "language", SEARCH_TAG_MAX, 0, &t->language, err, errlen) ||
        opt_str(obj, "rating", SEARCH_TAG_MAX, 0, &t->rating, err, errlen) ||
        opt_list(obj, "alt_titles", SEARCH_TEXT_MAX, t->alt, &t->nalt, err, errlen) ||
        opt_list(obj, "people", SEARCH_TEXT_MAX, t->people, &t->npeople, err, errlen) ||
        opt_list(obj, "genres", SEARCH_TAG_MAX, t->genres, &t->ngenres, err, errlen) ||
        opt_list(obj, "regions", SEARCH_TAG_MAX, t->regions, &t->nregions, err, errlen) ||
        opt_list(obj, "entitlements", SEARCH_TAG_MAX, t->entitlements, &t->nentitlements, err,
                 errlen) ||
        opt_int(obj, "year", SEARCH_YEAR_MIN, SEARCH_YEAR_MAX, &t->year, err, errlen) ||
        opt_int(obj, "season", 1, 10000, &t->season, err, errlen) ||
        opt_int(obj, "episode", 1, 100000, &t->episode, err, errlen) ||
        kind_pop(obj, t, err, errlen))
        return OC_EINVAL;
    return 0;
}

/* 1 when the n bytes at p are all spaces, tabs or carriage returns. */
static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

/* Reads the items of body p (n bytes) into the array *items: a JSON array, or NDJSON. */
static int read_items(const char *p, size_t n, size_t max, json_t **items, char *err, size_t errlen)
{
    char why[160];
    size_t i = 0, line = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < n && p[i] == '[') {
        if (oc_json_parse(p, n, items, why, sizeof why) != 0) {
            snprintf(err, errlen, "body: not JSON: %s", why);
            return OC_EMALFORMED;
        }
        return json_array_size(*items) > max ? OC_ETOOBIG : 0;
    }
    *items = json_array();
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (p + i)) : n - i;
        json_t *one;
        line++;
        if (!blank(p + i, len)) {
            if (json_array_size(*items) >= max)
                return OC_ETOOBIG;
            if (oc_json_parse(p + i, len, &one, why, sizeof why) != 0) {
                snprintf(err, errlen, "body: line %zu: not JSON: %s", line, why);
                return OC_EMALFORMED;
            }
            json_array_append_new(*items, one);
        }
        i += len + 1;
    }
    if (json_array_size(*items) == 0) {
        snprintf(err, errlen, "body: a JSON array or NDJSON of title objects");
        return OC_EMALFORMED;
    }
    return 0;
}

/* Parses a POST /v1/titles body; see search.h. */
int search_parse_body(const char *p, size_t n, size_t max, json_t **items,
                      struct search_title **titles, size_t *nt, char *err, size_t errlen)
{
    struct search_title *t = NULL;
    char why[200], path[96];
    *items = NULL;
    *titles = NULL;
    *nt = 0;
    int rc = read_items(p, n, max, items, err, errlen);
    if (rc == OC_ETOOBIG)
        snprintf(err, errlen, "body: more than %zu titles in one request", max);
    if (rc)
        goto fail;
    size_t count = json_array_size(*items);
    t = oc_malloc((count ? count : 1) * sizeof *t);
    for (size_t i = 0; i < count; i++) {
        const json_t *obj = json_array_get(*items, i);
        if (oc_json_find_nul(obj, path, sizeof path) != 0) {
            snprintf(err, errlen, "[%zu].%s: must not hold NUL", i, path);
            rc = OC_EINVAL;
            goto fail;
        }
        if (search_parse_title(obj, &t[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "[%zu].%s", i, why);
            rc = OC_EINVAL;
            goto fail;
        }
    }
    *titles = t;
    *nt = count;
    return 0;
fail:
    free(t);
    json_decref(*items);
    *items = NULL;
    return rc;
}

/* Reads an integer parameter within [lo, hi] into *out (unchanged when absent). */
static int param_int(const char *v, const char *name, int lo, int hi, int *out, char *err,
                     size_t errlen)
{
    char *end;
    if (!v)
        return 0;
    long l = strtol(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || l < lo || l > hi) {
        snprintf(err, errlen, "%s: an integer from %d to %d", name, lo, hi);
        return -1;
    }
    *out = (int)l;
    return 0;
}

/* Copies a tag parameter into out (SEARCH_TAG_MAX + 1 bytes). */
static int param_tag(const char *v, const char *name, char *out, char *err, size_t errlen)
{
    out[0] = 0;
    if (!v)
        return 0;
    size_t n = strlen(v);
    if (n < 1 || n > SEARCH_TAG_MAX) {
        snprintf(err, errlen, "%s: 1 to %d bytes", name, SEARCH_TAG_MAX);
        return -1;
    }
    memcpy(out, v, n + 1);
    return 0;
}

/* Reads a boolean parameter (true/false/1/0) into *out (unchanged when absent). */
static int param_bool(const char *v, const char *name, int *out, char *err, size_t errlen)
{
    if (!v)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else {
        snprintf(err, errlen, "%s: true or false", name);
        return -1;
    }
    return 0;
}

/* Splits q into words: canonical, the last also as typed, a leading article optional. */
static int query_words(const char *qs, struct search_query *q, char *err, size_t errlen)
{
    struct search_toks *raw = oc_malloc(sizeof *raw);
    size_t n = strlen(qs);
    int rc = -1;
    if (n > SEARCH_QUERY_MAX) {
        snprintf(err, errlen, "q: at most %d bytes", SEARCH_QUERY_MAX);
        goto out;
    }
    search_tokenize(qs, n, 0, raw);
    if (raw->n > SEARCH_WORDS_MAX) {
        snprintf(err, errlen, "q: at most %d words", SEARCH_WORDS_MAX);
        goto out;
    }
    q->nw = raw->n;
    for (int i = 0; i < raw->n; i++) {
        memcpy(q->w[i], raw->t[i], sizeof q->w[i]);
        search_canon(q->w[i]);
    }
    if (raw->n)
        memcpy(q->last_raw, raw->t[raw->n - 1], sizeof q->last_raw);
    q->optional0 = raw->n > 1 && search_is_article(raw->t[0]);
    rc = 0;
out:
    free(raw);
    return rc;
}

/* Reads a query; see search.h. */
int search_query_parse(const char *(*get)(void *arg, const char *name), void *arg, int def_limit,
                       struct search_query *q, char *err, size_t errlen)
{
    const char *qs = get(arg, "q"), *k = get(arg, "kind");
    memset(q, 0, sizeof *q);
    q->limit = def_limit;
    q->prefix = 1;
    q->facets = 1;
    q->kind = -1;
    if (!qs) {
        snprintf(err, errlen, "q: required");
        return OC_EINVAL;
    }
    if (query_words(qs, q, err, errlen) ||
        param_int(get(arg, "limit"), "limit", 1, SEARCH_LIMIT_MAX, &q->limit, err, errlen) ||
        param_int(get(arg, "year_min"), "year_min", SEARCH_YEAR_MIN, SEARCH_YEAR_MAX, &q->year_min,
                  err, errlen) ||
        param_int(get(arg, "year_max"), "year_max", SEARCH_YEAR_MIN, SEARCH_YEAR_MAX, &q->year_max,
                  err, errlen) ||
        param_bool(get(arg, "prefix"), "prefix", &q->prefix, err, errlen) ||
        param_bool(get(arg, "facets"), "facets", &q->facets, err, errlen) ||
        param_tag(get(arg, "genre"), "genre", q->genre, err, errlen) ||
        param_tag(get(arg, "language"), "language", q->language, err, errlen) ||
        param_tag(get(arg, "region"), "region", q->region, err, errlen) ||
        param_tag(get(arg, "entitlement"), "entitlement", q->entitlement, err, errlen))
        return OC_EINVAL;
    for (int i = 0; k && search_kind_names[i]; i++)
        if (strcmp(k, search_kind_names[i]) == 0)
            q->kind = i;
    if (k && q->kind < 0) {
        snprintf(err, errlen, "kind: one of movie, series, episode, live");
        return OC_EINVAL;
    }
    return 0;
}
