/*
 * suggest.h - "did you mean": the known word closest to a mistyped one.
 *
 * Feed every candidate to oc_suggest_add; oc_suggest_best answers the closest one within
 * reach (Damerau-Levenshtein distance at most 1 + len/4 of the typed word, case-insensitive), or a
 * candidate that starts with the typed word (at least 3 characters), or one the typed word
 * starts with (at least 3 characters: "acknowledge" finds "ack"), or NULL. Ties keep the first
 * candidate added, so the answer is deterministic.
 */
#ifndef OC_CORE_SUGGEST_H
#define OC_CORE_SUGGEST_H

#include <stddef.h>

struct oc_suggest {
    const char *word; /* what was typed (borrowed) */
    size_t len;       /* its length */
    const char *best; /* the closest candidate so far (borrowed), or NULL */
    int dist;         /* its distance */
};

/* The optimal-string-alignment distance (edits and transpositions) of a[0..n) and b[0..m),
 * case-insensitive; a huge number when either is longer than 128 bytes. */
int oc_suggest_distance(const char *a, size_t n, const char *b, size_t m);

void oc_suggest_init(struct oc_suggest *s, const char *word, size_t len);
void oc_suggest_add(struct oc_suggest *s, const char *candidate);
const char *oc_suggest_best(const struct oc_suggest *s);
/* Writes "; did you mean BEST?" into out, or "" when nothing is close; returns out. */
const char *oc_suggest_hint(const struct oc_suggest *s, char *out, size_t n);

/* The hint for word among a table of structs whose FIRST member is `const char *name`, ended
 * by an entry with a NULL name: oc_suggest_hint's sentence ("" when nothing is close). */
const char *oc_suggest_names(const char *word, const void *table, size_t stride, char *out,
                             size_t n);
#define OC_SUGGEST_TABLE(word, table, out)                                                         \
    oc_suggest_names((word), (table), sizeof(table)[0], (out), sizeof(out))

#endif
