/*
 * suggest.c - "did you mean" (see suggest.h).
 */
#include "core/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WORD_MAX 128 /* longer words get no suggestion */

void oc_suggest_init(struct oc_suggest *s, const char *word, size_t len)
{
    s->word = word;
    s->len = len;
    s->best = NULL;
    s->dist = 1 << 30;
}

int oc_suggest_distance(const char *a, size_t n, const char *b, size_t m)
{
    int rows[3][WORD_MAX + 1]; /* the rows i-2, i-1 and i of the table, in turn */
    if (n > WORD_MAX || m > WORD_MAX)
        return 1 << 30;
    for (size_t j = 0; j <= m; j++)
        rows[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int *pp = rows[(i + 1) % 3], *p = rows[(i - 1) % 3], *r = rows[i % 3];
        r[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = p[j] + 1;
            if (r[j - 1] + 1 < v)
                v = r[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1; /* a transposition */
            r[j] = v;
        }
    }
    return rows[n % 3][m];
}

void oc_suggest_add(struct oc_suggest *s, const char *c)
{
    size_t m = c ? strlen(c) : 0;
    if (m == 0 || m > WORD_MAX || s->len == 0 || s->len > WORD_MAX)
        return;
    int d = oc_suggest_distance(s->word, s->len, c, m);
    if (d > 1 + (int)s->len / 4) {
        int prefix = s->len >= 3 && m > s->len && strncasecmp(c, s->word, s->len) == 0;
        int longer = m >= 3 && s->len > m && strncasecmp(c, s->word, m) == 0;
        if (!prefix && !longer)
            return;
        d = 1 + (int)s->len / 4; /* a prefix either way: as close as the farthest typo allowed */
    }
    if (d < s->dist) {
        s->best = c;
        s->dist = d;
    }
}

const char *oc_suggest_best(const struct oc_suggest *s)
{
    return s->best;
}

const char *oc_suggest_hint(const struct oc_suggest *s, char *out, size_t n)
{
    if (s->best)
        snprintf(out, n, "; did you mean %s?", s->best);
    else if (n > 0)
        out[0] = 0;
    return out;
}

const char *oc_suggest_names(const char *word, const void *table, size_t stride, char *out,
                             size_t n)
{
    struct oc_suggest s;
    oc_suggest_init(&s, word ? word : "", word ? strlen(word) : 0);
    for (const char *row = table;; row += stride) {
        const char *name;
        memcpy(&name, row, sizeof name); /* the first member */
        if (!name)
            break;
        oc_suggest_add(&s, name);
    }
    return oc_suggest_hint(&s, out, n);
}
