/*
 * fuzz_search_query.c - fuzzes the query parser of GET /v1/search (search/parse.c and the
 * normalizer) with raw query strings split at '&' and '=', and runs what it accepts on a
 * small fixed index.
 *
 * Besides not crashing: an accepted query has 0 to 16 words of at most 32 bytes and a limit
 * within bounds; its answer holds at most limit hits, no more than the total, in the
 * ranking's order (score down, then id up), with scores within [0, 1].
 */
#include "core/err.h"
#include "search/search.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPARAMS 16

struct params {
    char *k[NPARAMS], *v[NPARAMS];
    int n;
};

static const char *get(void *arg, const char *name)
{
    const struct params *p = arg;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->k[i], name) == 0)
            return p->v[i];
    return NULL;
}

static struct search_index *fixed(void)
{
    static struct search_index *x;
    static const char *const titles[][3] = {
        {"m1", "The Matrix", "action"},
        {"m2", "Rocky II", "drama"},
        {"m3", "Amélie", "comedy"},
        {"m4", "Interstellar", "scifi"},
        {"m5", "Breaking Bad", "drama"},
        {"m6", "Les Misérables", "drama"},
        {"m7", "2001 A Space Odyssey", "scifi"},
    };
    if (x)
        return x;
    x = search_index_new();
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++) {
        struct search_title t = {.id = titles[i][0], .title = titles[i][1], .year = 1990 + (int)i};
        t.genres[0] = titles[i][2];
        t.ngenres = 1;
        t.regions[0] = i % 2 ? "us" : "fr";
        t.nregions = 1;
        t.popularity = (double)i * 10;
        search_index_put(x, &t);
    }
    return x;
}

/* Splits s at '&' and '=' into p (in place). */
static void split(char *s, struct params *p)
{
    p->n = 0;
    for (char *a = s; a && p->n < NPARAMS; p->n++) {
        char *amp = strchr(a, '&'), *eq;
        if (amp)
            *amp = 0;
        eq = strchr(a, '=');
        if (eq)
            *eq = 0;
        p->k[p->n] = a;
        p->v[p->n] = eq ? eq + 1 : a + strlen(a);
        a = amp ? amp + 1 : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct search_query q;
    struct search_result r;
    struct search_weights w;
    struct params p;
    char err[200];
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    split(s, &p);
    if (search_query_parse(get, &p, 10, &q, err, sizeof err) == 0) {
        const struct search_index *x = fixed();
        if (q.nw < 0 || q.nw > SEARCH_WORDS_MAX || q.limit < 1 || q.limit > SEARCH_LIMIT_MAX)
            abort();
        for (int i = 0; i < q.nw; i++)
            if (strlen(q.w[i]) < 1 || strlen(q.w[i]) > SEARCH_TOKEN_MAX)
                abort();
        search_weights_default(&w);
        search_run(x, &q, NULL, &w, 2025, &r);
        if (r.nhits > q.limit || (uint32_t)r.nhits > r.total)
            abort();
        for (int i = 0; i < r.nhits; i++) {
            if (r.hits[i].score < 0 || r.hits[i].score > 1.000001)
                abort();
            if (i && (r.hits[i].score > r.hits[i - 1].score ||
                      (r.hits[i].score == r.hits[i - 1].score &&
                       strcmp(search_doc_id(x, r.hits[i - 1].doc),
                              search_doc_id(x, r.hits[i].doc)) >= 0)))
                abort();
        }
    } else if (!err[0]) {
        abort();
    }
    free(s);
    return 0;
}
