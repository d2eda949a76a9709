/*
 * facets.c - facet counts of a search: each matching document counted from its packed facet
 * record (genres, language, kind, year), a sample's counts scaled, and the top values kept
 * for the answer (query.c counts, ranks and calls these).
 */
#include "search/search_int.h"

#include <string.h>

/* Counts document d in k, from its packed facet record (the blob only past SFACET_GENRES
 * genres). */
void search_count_doc(const struct search_index *x, uint32_t d, struct search_counts *k)
{
    const struct sfacet *f = &x->facet[d];
    int year = x->feat[d].year;
    if (f->lk & 4) {
        const struct sdoc *sd = &x->docs[d];
        for (int i = 0; i < sd->ngenre; i++)
            k->genre[sdoc_tags(sd)[i]]++;
    } else {
        for (int i = 0; i < SFACET_GENRES && f->genre[i]; i++)
            k->genre[f->genre[i] - 1]++;
    }
    if (f->lk >> 3)
        k->lang[(f->lk >> 3) - 1]++;
    k->kind[f->lk & 3]++;
    if (year >= SEARCH_YEAR_MIN && year <= SEARCH_YEAR_MAX)
        k->year[year - SEARCH_YEAR_MIN]++;
}

/* Keeps the top values of counts c (n of them, names in names) in out, by count then name. */
static int top_values(const uint32_t *c, uint32_t n, char *const *names, struct search_facet *out,
                      int max)
{
    int m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!c[i])
            continue;
        int full = m == max, j = full ? max - 1 : m++;
        if (full &&
            (out[j].count > c[i] || (out[j].count == c[i] && strcmp(out[j].value, names[i]) < 0)))
            continue;
        out[j] = (struct search_facet){.value = names[i], .count = c[i]};
        for (; j > 0 &&
               (out[j - 1].count < out[j].count ||
                (out[j - 1].count == out[j].count && strcmp(out[j - 1].value, out[j].value) > 0));
             j--) {
            struct search_facet s = out[j];
            out[j] = out[j - 1];
            out[j - 1] = s;
        }
    }
    return m;
}

/* Multiplies every count of k by step (a sample's counts). */
void search_counts_scale(const struct search_index *x, struct search_counts *k, uint32_t step)
{
    for (uint32_t i = 0; i < x->tags[TAG_GENRE].n; i++)
        k->genre[i] *= step;
    for (uint32_t i = 0; i < x->tags[TAG_LANG].n; i++)
        k->lang[i] *= step;
    for (int i = 0; i < SEARCH_KINDS; i++)
        k->kind[i] *= step;
    for (int i = 0; i <= SEARCH_YEAR_MAX - SEARCH_YEAR_MIN; i++)
        k->year[i] *= step;
}

/* Fills the facets of out from k. */
void search_facets_out(const struct search_index *x, const struct search_counts *k,
                       struct search_result *out)
{
    out->ngenre = top_values(k->genre, x->tags[TAG_GENRE].n, x->tags[TAG_GENRE].s, out->genre,
                             SEARCH_FACET_TOP);
    out->nlanguage = top_values(k->lang, x->tags[TAG_LANG].n, x->tags[TAG_LANG].s, out->language,
                                SEARCH_FACET_TOP);
    for (int i = 0; i < SEARCH_KINDS; i++)
        if (k->kind[i])
            out->kind[out->nkind++] =
                (struct search_facet){.value = search_kind_names[i], .count = k->kind[i]};
    for (int y = SEARCH_YEAR_MAX; y >= SEARCH_YEAR_MIN && out->nyear < 50; y--)
        if (k->year[y - SEARCH_YEAR_MIN])
            out->year[out->nyear++] =
                (struct search_facet){.year = y, .count = k->year[y - SEARCH_YEAR_MIN]};
}
