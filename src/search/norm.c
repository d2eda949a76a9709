/*
 * norm.c - text normalization for search: UTF-8 decoding, folding of Latin letters with
 * diacritics to ASCII (our own table, below), case, punctuation, apostrophes, canonical
 * numbers (digits, words, Roman numerals), leading articles, the Damerau distance and the
 * synonym setting. Index and queries go through the same functions, so they agree.
 */
#include "search/search.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A range of code points and what each folds to ("" separates words). */
struct fold {
    unsigned first, last;
    const char *to;
};

/* Latin-1 Supplement (U+00A0..U+00FF), Latin Extended-A (U+0100..U+017F) and the Romanian
 * comma letters, by range; code points of these blocks not listed separate words. */
static const struct fold folds[] = {
    {0xAA, 0xAA, "a"},      {0xB2, 0xB2, "2"},    {0xB3, 0xB3, "3"},   {0xB5, 0xB5, "u"},
    {0xB9, 0xB9, "1"},      {0xBA, 0xBA, "o"},    {0xC0, 0xC5, "a"},   {0xC6, 0xC6, "ae"},
    {0xC7, 0xC7, "c"},      {0xC8, 0xCB, "e"},    {0xCC, 0xCF, "i"},   {0xD0, 0xD0, "d"},
    {0xD1, 0xD1, "n"},      {0xD2, 0xD6, "o"},    {0xD8, 0xD8, "o"},   {0xD9, 0xDC, "u"},
    {0xDD, 0xDD, "y"},      {0xDE, 0xDE, "th"},   {0xDF, 0xDF, "ss"},  {0xE0, 0xE5, "a"},
    {0xE6, 0xE6, "ae"},     {0xE7, 0xE7, "c"},    {0xE8, 0xEB, "e"},   {0xEC, 0xEF, "i"},
    {0xF0, 0xF0, "d"},      {0xF1, 0xF1, "n"},    {0xF2, 0xF6, "o"},   {0xF8, 0xF8, "o"},
    {0xF9, 0xFC, "u"},      {0xFD, 0xFD, "y"},    {0xFE, 0xFE, "th"},  {0xFF, 0xFF, "y"},
    {0x100, 0x105, "a"},    {0x106, 0x10D, "c"},  {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"},    {0x124, 0x127, "h"},  {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"},    {0x136, 0x138, "k"},  {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"},    {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"},    {0x168, 0x173, "u"},  {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"},    {0x17F, 0x17F, "s"},  {0x218, 0x219, "s"}, {0x21A, 0x21B, "t"},
    {0x1E9E, 0x1E9E, "ss"},
};

const char *const search_kind_names[] = {"movie", "series", "episode", "live", NULL};

/* Decodes one code point at s (n bytes left) into *cp; its byte length, or 1 with *cp = -1
 * for an invalid or overlong sequence. */
static size_t utf8_next(const unsigned char *s, size_t n, long *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
    long v;
    if (len == 0 || len > n) {
        *cp = -1;
        return 1;
    }
    v = len == 1 ? (long)c : (long)(c & (0x7F >> len));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) ? -1 : v;
    return len;
}

/* What code point cp contributes to a word: its folded ASCII in out (NUL-terminated, up to
 * 4 bytes + NUL) and 1; 0 when it separates words; 2 for an apostrophe (joins). */
static int fold_cp(long cp, char out[8])
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            out[0] = (char)cp, out[1] = 0;
            return 1;
        }
        if (cp >= 'A' && cp <= 'Z') {
            out[0] = (char)(cp + 32), out[1] = 0;
            return 1;
        }
        return cp == '\'' ? 2 : 0;
    }
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x2BC)
        return 2;
    if (cp < 0x250 || cp == 0x1E9E) {
        for (size_t i = 0; i < sizeof folds / sizeof folds[0]; i++)
            if (cp >= (long)folds[i].first && cp <= (long)folds[i].last) {
                snprintf(out, 8, "%s", folds[i].to);
                return 1;
            }
        if (cp < 0x180)
            return 0; /* the rest of Latin-1: symbols, punctuation, x and / signs */
    }
    if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
        (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF0F) || cp >= 0x1F000)
        return 0; /* punctuation, symbols, arrows, emoji */
    if ((cp >= 0x391 && cp <= 0x3A9) || (cp >= 0x410 && cp <= 0x42F))
        cp += 0x20; /* Greek and Cyrillic capitals */
    else if (cp >= 0x400 && cp <= 0x40F)
        cp += 0x50;
    /* anything else is a letter of its own script, kept as UTF-8 */
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3F)), out[2] = 0;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)), out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F)), out[3] = 0;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18)), out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F));
        out[4] = 0;
    }
    return 1;
}

/* Ends the word being built in out (len bytes); apostrophes split an elided article. */
static void end_word(struct search_toks *out, size_t *len, int canon)
{
    if (*len == 0 || out->n >= SEARCH_TOKENS_MAX) {
        *len = 0;
        return;
    }
    out->t[out->n][*len] = 0;
    if (canon)
        search_canon(out->t[out->n]);
    out->n++;
    *len = 0;
}

/* Appends piece to the word being built, cut at SEARCH_TOKEN_MAX on a code point boundary. */
static void add_piece(struct search_toks *out, size_t *len, const char *piece)
{
    size_t pl = strlen(piece);
    if (out->n >= SEARCH_TOKENS_MAX || *len + pl > SEARCH_TOKEN_MAX)
        return;
    memcpy(out->t[out->n] + *len, piece, pl);
    *len += pl;
}

/* 1 when the word so far (len bytes) is an elided French/Italian article or pronoun: the
 * apostrophe after it splits ("l'amour", "d'artagnan", "j'accuse", "qu'il"). */
static int elides(const char *w, size_t len)
{
    return (len == 1 && strchr("ldjmnst", w[0])) || (len == 2 && w[0] == 'q' && w[1] == 'u');
}

/* Splits s into tokens; see search.h. */
int search_tokenize(const char *s, size_t n, int canon, struct search_toks *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, len = 0;
    char piece[8];
    long cp;
    out->n = 0;
    while (i < n && out->n < SEARCH_TOKENS_MAX) {
        i += utf8_next(p + i, n - i, &cp);
        int k = cp < 0 ? 0 : fold_cp(cp, piece);
        if (k == 1) {
            add_piece(out, &len, piece);
        } else if (k == 2) {
            if (len && elides(out->t[out->n], len))
                end_word(out, &len, canon);
        } else {
            end_word(out, &len, canon);
            if (cp == '&' && out->n < SEARCH_TOKENS_MAX) {
                memcpy(out->t[out->n], "and", 4);
                out->n++;
            }
        }
    }
    end_word(out, &len, canon);
    return out->n;
}

/* Number words and their values. */
static const struct {
    const char *w;
    int v;
} number_words[] = {
    {"zero", 0},     {"one", 1},      {"two", 2},        {"three", 3},     {"four", 4},
    {"five", 5},     {"six", 6},      {"seven", 7},      {"eight", 8},     {"nine", 9},
    {"ten", 10},     {"eleven", 11},  {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
    {"fifteen", 15}, {"sixteen", 16}, {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
    {"twenty", 20},  {"thirty", 30},  {"forty", 40},     {"fifty", 50},    {"sixty", 60},
    {"seventy", 70}, {"eighty", 80},  {"ninety", 90},    {"hundred", 100}, {NULL, 0},
};

/* The value of a Roman numeral of i, v, x in canonical form (1..39), or 0. */
static int roman(const char *s)
{
    static const char *const units[] = {"", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"};
    static const char *const tens[] = {"", "x", "xx", "xxx"};
    for (int t = 0; t < 4; t++) {
        size_t tl = strlen(tens[t]);
        if (strncmp(s, tens[t], tl) != 0)
            continue;
        for (int u = 0; u < 10; u++)
            if (t * 10 + u > 0 && strcmp(s + tl, units[u]) == 0)
                return t * 10 + u;
    }
    return 0;
}

/* Canonical numbers; see search.h. */
void search_canon(char *tok)
{
    size_t n = strlen(tok), z = 0;
    int v = -1;
    if (n && strspn(tok, "0123456789") == n) {
        while (z + 1 < n && tok[z] == '0')
            z++;
        memmove(tok, tok + z, n - z + 1);
        return;
    }
    for (int i = 0; number_words[i].w && v < 0; i++)
        if (strcmp(tok, number_words[i].w) == 0)
            v = number_words[i].v;
    if (v < 0 && n <= 6 && strspn(tok, "ivx") == n)
        v = roman(tok);
    if (v >= 0 && (v > 0 || tok[0] == 'z'))
        snprintf(tok, SEARCH_TOKEN_MAX + 1, "%d", v);
}

/* Leading articles; see search.h. */
int search_is_article(const char *tok)
{
    static const char *const articles[] = {"the", "a",   "an",  "le",  "la",  "les", "l",  "der",
                                           "die", "das", "el",  "los", "las", "il",  "lo", "gli",
                                           "un",  "une", "una", "het", "de",  NULL};
    for (int i = 0; articles[i]; i++)
        if (strcmp(tok, articles[i]) == 0)
            return 1;
    return 0;
}

/* The edits a query word may have; see search.h. */
int search_typos_for(size_t len)
{
    return len < 4 ? 0 : len < 8 ? 1 : 2;
}

/* The optimal string alignment distance, cut off above max; see search.h. */
int search_distance(const char *a, size_t na, const char *b, size_t nb, int max)
{
    int rows[3][SEARCH_TOKEN_MAX + 2];
    if (na > SEARCH_TOKEN_MAX || nb > SEARCH_TOKEN_MAX)
        return max + 1;
    if ((na > nb ? na - nb : nb - na) > (size_t)max)
        return max + 1;
    int *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int best = cur[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < best)
                best = v;
        }
        if (best > max)
            return max + 1;
        int *t = pp;
        pp = prev, prev = cur, cur = t;
    }
    return prev[nb] > max ? max + 1 : prev[nb];
}

/* Adds the pair (x, y) to s; 0 or OC_ETOOBIG. */
static int syn_add(struct search_synonyms *s, const char x[SEARCH_TOKEN_MAX + 1],
                   const char y[SEARCH_TOKEN_MAX + 1])
{
    if (s->n >= SEARCH_SYNONYMS_MAX)
        return OC_ETOOBIG;
    s->a = oc_realloc(s->a, (size_t)(s->n + 1) * sizeof *s->a);
    s->b = oc_realloc(s->b, (size_t)(s->n + 1) * sizeof *s->b);
    memcpy(s->a[s->n], x, sizeof s->a[0]);
    memcpy(s->b[s->n], y, sizeof s->b[0]);
    s->n++;
    return 0;
}

/* Parses one group "w1,w2,w3" (len bytes) into pairs of its words, each way. */
static int syn_group(struct search_synonyms *s, const char *g, size_t len, char *err, size_t errlen)
{
    struct search_toks *words = oc_malloc(sizeof *words);
    char w[8][SEARCH_TOKEN_MAX + 1];
    int nw = 0, rc = OC_EINVAL;
    const char *p = g, *end = g + len;
    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t wl = c ? (size_t)(c - p) : (size_t)(end - p);
        search_tokenize(p, wl, 1, words);
        if (words->n != 1 || nw >= 8) {
            snprintf(err, errlen,
                     "search.synonyms: \"%.*s\": each word of a group must be one word, at most 8"
                     " in a group",
                     (int)wl, p);
            goto out;
        }
        memcpy(w[nw++], words->t[0], sizeof w[0]);
        p += wl + (c ? 1 : 0);
    }
    for (int i = 0; i < nw; i++)
        for (int j = 0; j < nw; j++)
            if (i != j && syn_add(s, w[i], w[j]) != 0) {
                snprintf(err, errlen, "search.synonyms: more than %d pairs", SEARCH_SYNONYMS_MAX);
                goto out;
            }
    rc = 0;
out:
    free(words);
    return rc;
}

/* Parses the synonym setting; see search.h. */
int search_synonyms_parse(const char *spec, struct search_synonyms *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    const char *p = spec ? spec : "";
    while (*p) {
        size_t gl = strcspn(p, ";");
        if (gl && syn_group(s, p, gl, err, errlen) != 0) {
            search_synonyms_free(s);
            return OC_EINVAL;
        }
        p += gl + (p[gl] ? 1 : 0);
    }
    return 0;
}

void search_synonyms_free(struct search_synonyms *s)
{
    free(s->a);
    free(s->b);
    memset(s, 0, sizeof *s);
}

void search_weights_default(struct search_weights *w)
{
    *w = (struct search_weights){
        .text = 0.80,
        .popularity = 0.12,
        .recency = 0.08,
        .f_title = 1.0,
        .f_alt = 0.8,
        .f_people = 0.6,
        .f_desc = 0.3,
        .phrase = 0.5,
        .coverage = 0.5,
        .q_exact = 1.0,
        .q_syn = 0.95,
        .q_prefix = 0.8,
        .q_typo1 = 0.7,
        .q_typo2 = 0.5,
        .recency_half_life_y = 10,
    };
}
