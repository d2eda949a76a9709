/*
 * fuzz_search_titles.c - fuzzes the bulk loader of POST /v1/titles (search/parse.c) with raw
 * bodies, JSON arrays or NDJSON, as an admin's client may send them, and feeds what it
 * accepts to an index.
 *
 * Besides not crashing: a refusal is one of the three codes with no titles returned; an
 * accepted body holds at most the cap, every title has an id and a title within their byte
 * caps; once indexed, the index counts the distinct ids, the last version of each id is found
 * by searching its own title (when the title has 1 to 16 words in 256 bytes), and deleting
 * every id empties the index.
 */
#include "core/err.h"
#include "search/search.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 64

static const char *get(void *arg, const char *name)
{
    if (strcmp(name, "q") == 0)
        return arg;
    return strcmp(name, "limit") == 0 ? "100" : NULL;
}

/* 1 when the index finds id by searching its title t. */
static int found(const struct search_index *x, const char *id, const char *t)
{
    static struct search_toks toks;
    struct search_query q;
    struct search_result r;
    struct search_weights w;
    char err[200];
    search_tokenize(t, strlen(t), 0, &toks);
    if (toks.n < 1 || toks.n > SEARCH_WORDS_MAX || strlen(t) > SEARCH_QUERY_MAX)
        return 1; /* not searchable as one query: nothing to check */
    if (search_query_parse(get, (void *)t, 10, &q, err, sizeof err) != 0)
        abort();
    search_weights_default(&w);
    search_run(x, &q, NULL, &w, 2025, &r);
    for (int i = 0; i < r.nhits; i++)
        if (strcmp(search_doc_id(x, r.hits[i].doc), id) == 0)
            return 1;
    return 0;
}

static void check_index(const struct search_title *t, size_t n)
{
    struct search_index *x = search_index_new();
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (search_index_put(x, &t[i]) == 0)
            distinct++;
    if (search_index_count(x) != distinct)
        abort();
    for (size_t i = 0; i < n; i++) {
        int last = 1;
        for (size_t j = i + 1; j < n; j++)
            last &= strcmp(t[i].id, t[j].id) != 0;
        if (last && !found(x, t[i].id, t[i].title))
            abort();
    }
    for (size_t i = 0; i < n; i++)
        search_index_delete(x, t[i].id);
    if (search_index_count(x) != 0)
        abort();
    search_index_destroy(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *items = NULL;
    struct search_title *t = NULL;
    size_t n = 99;
    char err[300];
    int rc = search_parse_body((const char *)data, size, MAX, &items, &t, &n, err, sizeof err);
    if (rc) {
        if ((rc != OC_EINVAL && rc != OC_EMALFORMED && rc != OC_ETOOBIG) || items || t || n)
            abort();
        return 0;
    }
    if (n > MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!t[i].id || !t[i].title || strlen(t[i].id) > SEARCH_ID_MAX ||
            strlen(t[i].title) > SEARCH_TEXT_MAX || t[i].kind < 0 || t[i].kind >= SEARCH_KINDS)
            abort();
    check_index(t, n);
    free(t);
    json_decref(items);
    return 0;
}
