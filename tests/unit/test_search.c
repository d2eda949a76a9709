/*
 * test_search.c - catalog search: normalization (folding, case, punctuation, apostrophes,
 * numbers, articles), the distance and each typo class (insertion, deletion, substitution,
 * transposition, two edits for long words), prefixes, synonyms, filters, facets, ranking
 * order on hand-built titles, updates and deletions becoming visible, the snapshot round
 * trip and a damaged snapshot, and the body and query parsers' refusals.
 */
#include "search/search_int.h"
#include "core/err.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct search_toks toks;

/* The tokens of s joined by spaces (canonical numbers). */
static const char *norm(const char *s)
{
    static char out[512];
    size_t n = 0;
    search_tokenize(s, strlen(s), 1, &toks);
    out[0] = 0;
    for (int i = 0; i < toks.n; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", i ? " " : "", toks.t[i]);
    return out;
}

static void test_folding_case_punctuation(void)
{
    T_EQ_STR(norm("Amélie"), "amelie");
    T_EQ_STR(norm("ÆRØ Straße"), "aero strasse");
    T_EQ_STR(norm("Łódź, Kraków!"), "lodz krakow");
    T_EQ_STR(norm("Çà et là — Œuvre"), "ca et la oeuvre");
    T_EQ_STR(norm("Şţ Ţară ĳs Ğ"), "st tara ijs g");
    T_EQ_STR(norm("Ñandú Þór"), "nandu thor");
    T_EQ_STR(norm("Don't Look Up"), "dont look up");
    T_EQ_STR(norm("L'Amour d’Artagnan"), "l amour d artagnan");
    T_EQ_STR(norm("Tom & Jerry"), "tom and jerry");
    T_EQ_STR(norm("Spider-Man: No Way Home"), "spider man no way home");
    T_EQ_STR(norm("ΑΘΗΝΑ Москва"), "αθηνα москва");
    T_EQ_STR(norm("a\xff\xfe b\xc3"), "a b"); /* invalid UTF-8 separates */
    T_EQ_STR(norm(""), "");
}

static void test_numbers(void)
{
    T_EQ_STR(norm("Rocky II"), "rocky 2");
    T_EQ_STR(norm("Rocky Two"), "rocky 2");
    T_EQ_STR(norm("Rocky 2"), "rocky 2");
    T_EQ_STR(norm("Ocean's Eleven"), "oceans 11");
    T_EQ_STR(norm("Part XXXIX"), "part 39");
    T_EQ_STR(norm("Apollo 013"), "apollo 13");
    T_EQ_STR(norm("Vixen Civil Mix"), "vixen civil mix"); /* not Roman numerals */
    T_EQ_STR(norm("iix vv"), "iix vv");                   /* not canonical numerals */
    T_EQ_STR(norm("zero 0"), "0 0");
}

static void test_articles_and_distance(void)
{
    T_EQ_INT(search_is_article("the"), 1);
    T_EQ_INT(search_is_article("les"), 1);
    T_EQ_INT(search_is_article("das"), 1);
    T_EQ_INT(search_is_article("matrix"), 0);
    T_EQ_INT(search_distance("matrix", 6, "matrix", 6, 2), 0);
    T_EQ_INT(search_distance("matrix", 6, "matrixx", 7, 2), 1); /* insertion */
    T_EQ_INT(search_distance("matrix", 6, "matix", 5, 2), 1);   /* deletion */
    T_EQ_INT(search_distance("matrix", 6, "metrix", 6, 2), 1);  /* substitution */
    T_EQ_INT(search_distance("matrix", 6, "amtrix", 6, 2), 1);  /* transposition */
    T_EQ_INT(search_distance("matrix", 6, "mtarxi", 6, 2), 2);
    T_EQ_INT(search_distance("matrix", 6, "xirtam", 6, 2), 3); /* over the cut */
    T_EQ_INT(search_typos_for(3), 0);
    T_EQ_INT(search_typos_for(4), 1);
    T_EQ_INT(search_typos_for(7), 1);
    T_EQ_INT(search_typos_for(8), 2);
}

/* A title with the common fields; people and genres separated by '|'. */
struct spec {
    const char *id, *title, *people, *genres, *lang, *desc, *regions;
    int year, kind;
    double pop;
};

static void split(const char *s, char *buf, size_t n, const char **out, int *nout)
{
    *nout = 0;
    if (!s)
        return;
    snprintf(buf, n, "%s", s);
    for (char *p = buf; p && *p; *nout += 1) {
        out[*nout] = p;
        p = strchr(p, '|');
        if (p)
            *p++ = 0;
    }
}

static int put(struct search_index *x, const struct spec *s)
{
    struct search_title t = {0};
    char pb[512], gb[256], rb[128];
    t.id = s->id;
    t.title = s->title;
    t.language = s->lang;
    t.description = s->desc;
    t.year = s->year;
    t.kind = s->kind;
    t.popularity = s->pop;
    split(s->people, pb, sizeof pb, t.people, &t.npeople);
    split(s->genres, gb, sizeof gb, t.genres, &t.ngenres);
    split(s->regions, rb, sizeof rb, t.regions, &t.nregions);
    return search_index_put(x, &t);
}

static const struct spec catalog[] = {
    {"m1", "The Matrix", "Keanu Reeves|Carrie-Anne Moss", "action|scifi", "en",
     "a hacker learns the truth", "us|fr", 1999, SEARCH_MOVIE, 900},
    {"m2", "The Matrix Reloaded", "Keanu Reeves", "action|scifi", "en", "neo returns", "us", 2003,
     SEARCH_MOVIE, 500},
    {"m3", "Rocky II", "Sylvester Stallone", "drama|sport", "en", "the rematch", "us", 1979,
     SEARCH_MOVIE, 300},
    {"m4", "Amélie", "Audrey Tautou", "comedy|romance", "fr", "a shy waitress in paris", "fr", 2001,
     SEARCH_MOVIE, 400},
    {"m5", "Le Fabuleux Destin", "Audrey Tautou", "comedy", "fr", "paris again", "fr", 2001,
     SEARCH_MOVIE, 10},
    {"s1", "Breaking Bad", "Bryan Cranston", "drama|crime", "en", "a chemistry teacher", "us|gb",
     2008, SEARCH_SERIES, 1000},
    {"e1", "Ozymandias", "Bryan Cranston", "drama", "en", "breaking bad episode", "us", 2013,
     SEARCH_EPISODE, 200},
    {"m6", "Interstellar", "Matthew McConaughey", "scifi", "en", "wormhole travel", "us|gb", 2014,
     SEARCH_MOVIE, 800},
    {"m7", "Reeves", "Someone Else", "documentary", "en", "about keanu", "us", 2020, SEARCH_MOVIE,
     1},
    {"m8", "Colour Out of Space", "Nicolas Cage", "horror", "en", "meteorite", "us", 2019,
     SEARCH_MOVIE, 50},
};

static struct search_index *build(void)
{
    struct search_index *x = search_index_new();
    for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
        T_EQ_INT(put(x, &catalog[i]), 0);
    return x;
}

/* The parameters of a query, "k=v&k=v" (no escaping). */
struct params {
    char buf[512];
    const char *k[16], *v[16];
    int n;
};

static const char *get_param(void *arg, const char *name)
{
    struct params *p = arg;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->k[i], name) == 0)
            return p->v[i];
    return NULL;
}

static int parse_q(const char *qs, struct search_query *q, char *err, size_t n)
{
    struct params p = {.n = 0};
    snprintf(p.buf, sizeof p.buf, "%s", qs);
    for (char *s = p.buf; s && *s && p.n < 16; p.n++) {
        p.k[p.n] = s;
        char *amp = strchr(s, '&'), *eq = strchr(s, '=');
        if (amp)
            *amp = 0;
        if (eq && (!amp || eq < amp)) {
            *eq = 0;
            p.v[p.n] = eq + 1;
        } else {
            p.v[p.n] = "";
        }
        s = amp ? amp + 1 : NULL;
    }
    return search_query_parse(get_param, &p, 10, q, err, n);
}

static struct search_result res;

/* Runs qs over x; the hit ids joined by spaces. */
static const char *ids(const struct search_index *x, const char *qs)
{
    static char out[1024];
    struct search_query q;
    struct search_weights w;
    struct search_synonyms syn;
    static char err[200];
    size_t n = 0;
    out[0] = 0;
    if (parse_q(qs, &q, err, sizeof err) != 0)
        return err;
    search_weights_default(&w);
    search_synonyms_parse("film,movie;colour,color", &syn, err, sizeof err);
    search_run(x, &q, &syn, &w, 2025, &res);
    search_synonyms_free(&syn);
    for (int i = 0; i < res.nhits; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", i ? " " : "",
                              search_doc_id(x, res.hits[i].doc));
    return out;
}

static void test_exact_and_articles(void)
{
    struct search_index *x = build();
    T_EQ_STR(ids(x, "q=the matrix&limit=1"), "m1");
    T_EQ_STR(ids(x, "q=matrix&limit=2"), "m1 m2");
    T_EQ_STR(ids(x, "q=THE MÁTRIX reloaded"), "m2");
    T_EQ_STR(ids(x, "q=a matrix reloaded"), "m2"); /* a leading article is optional */
    T_EQ_STR(ids(x, "q=amelie"), "m4");
    T_EQ_STR(ids(x, "q=Rocky 2"), "m3");
    T_EQ_STR(ids(x, "q=rocky two"), "m3");
    T_EQ_STR(ids(x, "q=nothing here"), "");
    T_EQ_STR(ids(x, "q="), "");
    search_index_destroy(x);
}

static void test_each_typo_class(void)
{
    struct search_index *x = build();
    T_EQ_STR(ids(x, "q=interstellarr&limit=1&prefix=false"), "m6"); /* insertion */
    T_EQ_STR(ids(x, "q=intrstellar&limit=1"), "m6");                /* deletion */
    T_EQ_STR(ids(x, "q=interstelkar&limit=1"), "m6");               /* substitution */
    T_EQ_STR(ids(x, "q=intersetllar&limit=1"), "m6");               /* transposition */
    T_EQ_STR(ids(x, "q=intrestelar&limit=1"), "m6");                /* two edits, 11 bytes */
    T_EQ_STR(ids(x, "q=amleie"), "m4");                             /* transposition, 6 */
    T_EQ_STR(ids(x, "q=amlie&prefix=false"), "m4");                 /* deletion, 5 */
    T_EQ_STR(ids(x, "q=amxlxe&prefix=false"), "");                  /* two edits, 6 bytes */
    T_EQ_STR(ids(x, "q=rocyk&prefix=false"), "m3");
    T_EQ_STR(ids(x, "q=bad breaking&limit=1"), "s1");
    search_index_destroy(x);
}

static void test_prefix_and_synonyms(void)
{
    struct search_index *x = build();
    T_EQ_STR(ids(x, "q=inters"), "m6");
    T_EQ_STR(ids(x, "q=the matrix rel"), "m2");
    T_EQ_STR(ids(x, "q=inters&prefix=false"), "");
    T_EQ_STR(ids(x, "q=color out of space"), "m8"); /* synonym colour, color */
    T_EQ_STR(ids(x, "q=ozym"), "e1");
    search_index_destroy(x);
}

/* A typo inside the completed last word, of each class, keeping its first letter. */
static void test_prefix_typos(void)
{
    struct search_index *x = build();
    T_EQ_STR(ids(x, "q=inxters"), "m6");           /* insertion */
    T_EQ_STR(ids(x, "q=intrs"), "m6");             /* deletion */
    T_EQ_STR(ids(x, "q=intars"), "m6");            /* substitution */
    T_EQ_STR(ids(x, "q=intesr"), "m6");            /* transposition */
    T_EQ_STR(ids(x, "q=the matrix rleo"), "m2");   /* the last of several words */
    T_EQ_STR(ids(x, "q=ozma"), "e1");              /* 4 bytes: the least corrected */
    T_EQ_STR(ids(x, "q=ozm"), "");                 /* 3 bytes: none */
    T_EQ_STR(ids(x, "q=nters"), "");               /* the first letter is kept */
    T_EQ_STR(ids(x, "q=intars&prefix=false"), ""); /* no completion, no typo in it */
    search_index_destroy(x);
}

/* A rare completion of the last word, beyond the most frequent ones expanded, is found in the
 * titles the other words leave. */
static void test_rare_completion(void)
{
    struct search_index *x = search_index_new();
    char id[16], title[32];
    struct spec s = {id, title, NULL, NULL, NULL, NULL, NULL, 2000, SEARCH_MOVIE, 1};
    for (int i = 0; i < 60; i++) { /* 30 completions of "qui" in two titles each */
        snprintf(id, sizeof id, "f%02d", i);
        snprintf(title, sizeof title, "qui%c%c", 'a' + (i / 2) % 26, 'a' + (i / 2) / 26);
        put(x, &s);
    }
    struct spec z = {"z1", "Zebra Quintessential", NULL, NULL, NULL, NULL, NULL,
                     2000, SEARCH_MOVIE,           1};
    put(x, &z);
    T_EQ_STR(ids(x, "q=zebra qui"), "z1");
    T_EQ_STR(ids(x, "q=zebra quintessential"), "z1");
    T_EQ_STR(ids(x, "q=zebra qux"), "");
    search_index_destroy(x);
}

static void test_fields_and_ranking(void)
{
    struct search_index *x = build();
    /* "reeves": the title m7 outranks the people matches m1 and m2, which follow by score */
    T_EQ_STR(ids(x, "q=reeves&prefix=false"), "m7 m1 m2");
    T_EQ_INT(res.total, 3);
    T_TRUE(res.hits[0].score > res.hits[1].score);
    /* people outrank descriptions: "keanu" is a person of m1, m2 and in m7's description */
    T_EQ_STR(ids(x, "q=keanu&prefix=false"), "m1 m2 m7");
    /* a phrase in order beats the same words apart */
    T_EQ_STR(ids(x, "q=breaking bad&limit=1"), "s1");
    /* equal texts rank by popularity: both are "paris" in the description */
    T_EQ_STR(ids(x, "q=paris&prefix=false"), "m4 m5");
    search_index_destroy(x);
}

/* Equal text and popularity: the newer title first (recency), whatever the ids say. */
static void test_recency_orders(void)
{
    struct search_index *x = search_index_new();
    static const struct spec two[] = {
        {"r1", "Night Train", NULL, NULL, NULL, NULL, NULL, 1990, SEARCH_MOVIE, 10},
        {"r2", "Night Train", NULL, NULL, NULL, NULL, NULL, 2020, SEARCH_MOVIE, 10},
        {"r3", "Night Train", NULL, NULL, NULL, NULL, NULL, 0, SEARCH_MOVIE, 10},
    };
    for (int i = 0; i < 3; i++)
        put(x, &two[i]);
    T_EQ_STR(ids(x, "q=night train"), "r2 r1 r3"); /* by id it would be r1 r2 r3 */
    T_TRUE(res.hits[0].score > res.hits[1].score);
    T_TRUE(res.hits[1].score > res.hits[2].score); /* an unknown year has no recency */
    search_index_destroy(x);
}

/* Plays from the QoE cube stand for a title's popularity while it has any; a replaced title
 * keeps them; when they go, its own field rules again and the scores are those of an index
 * that never had them (the bounds and the largest popularity put back exactly). */
static void test_plays_popularity(void)
{
    struct search_index *x = build(), *fresh = build();
    T_EQ_STR(ids(x, "q=paris&prefix=false"), "m4 m5"); /* fields: 400 against 10 */
    double s4 = res.hits[0].score, s5 = res.hits[1].score;
    const char *id5[] = {"m5"}, *unknown[] = {"nope"};
    double many[] = {1e6}, none[] = {-1};
    T_EQ_INT(search_index_played(x, "m5"), 0);
    T_EQ_INT(search_index_set_plays(x, id5, many, 1), 1);
    T_EQ_INT(search_index_set_plays(x, id5, many, 1), 0); /* unchanged */
    T_EQ_INT(search_index_set_plays(x, unknown, many, 1), 0);
    T_EQ_INT(search_index_played(x, "m5"), 1);
    T_EQ_INT(search_index_played(x, "nope"), -1);
    T_EQ_INT(search_index_loosened(x), 1); /* far above the best field of its block */
    T_EQ_STR(ids(x, "q=paris&prefix=false"), "m5 m4");
    /* the most popular title now: everyone else's popularity share fell */
    T_EQ_STR(ids(x, "q=matrix&prefix=false&limit=1"), "m1");
    put(x, &catalog[4]); /* m5 replaced: its plays stay */
    T_EQ_INT(search_index_played(x, "m5"), 1);
    T_EQ_STR(ids(x, "q=paris&prefix=false"), "m5 m4");
    T_EQ_INT(search_index_set_plays(x, id5, none, 1), 1);
    T_EQ_INT(search_index_played(x, "m5"), 0);
    T_EQ_STR(ids(x, "q=paris&prefix=false"), "m4 m5");
    T_TRUE(res.hits[0].score == s4 && res.hits[1].score == s5);
    T_EQ_STR(ids(fresh, "q=paris&prefix=false"), "m4 m5");
    T_TRUE(res.hits[0].score == s4);
    search_index_compact(x);
    T_EQ_INT(search_index_loosened(x), 0);
    T_EQ_STR(ids(x, "q=paris&prefix=false"), "m4 m5");
    search_index_destroy(x);
    search_index_destroy(fresh);
}

static void test_ties_by_id(void)
{
    struct search_index *x = search_index_new();
    static const struct spec twins[] = {
        {"b", "Same Title", NULL, NULL, NULL, NULL, NULL, 2000, SEARCH_MOVIE, 5},
        {"c", "Same Title", NULL, NULL, NULL, NULL, NULL, 2000, SEARCH_MOVIE, 5},
        {"a", "Same Title", NULL, NULL, NULL, NULL, NULL, 2000, SEARCH_MOVIE, 5},
    };
    for (int i = 0; i < 3; i++)
        put(x, &twins[i]);
    T_EQ_STR(ids(x, "q=same title"), "a b c");
    T_EQ_STR(ids(x, "q=same title&limit=2"), "a b");
    search_index_destroy(x);
}

static void test_filters(void)
{
    struct search_index *x = build();
    T_EQ_STR(ids(x, "q=audrey&genre=romance"), "m4");
    T_EQ_STR(ids(x, "q=bryan&kind=episode"), "e1");
    T_EQ_STR(ids(x, "q=bryan&kind=series"), "s1");
    T_EQ_STR(ids(x, "q=matrix&year_min=2000"), "m2");
    T_EQ_STR(ids(x, "q=matrix&year_max=2000"), "m1");
    T_EQ_STR(ids(x, "q=matrix&region=fr"), "m1");
    T_EQ_STR(ids(x, "q=audrey&language=fr&genre=comedy"), "m4 m5");
    T_EQ_STR(ids(x, "q=matrix&genre=nosuch"), "");
    T_EQ_STR(ids(x, "q=matrix&kind=film"), "kind: one of movie, series, episode, live");
    T_EQ_STR(ids(x, "q=matrix&year_min=1200"), "year_min: an integer from 1850 to 2100");
    T_EQ_STR(ids(x, "q=matrix&limit=0"), "limit: an integer from 1 to 100");
    search_index_destroy(x);
}

static void test_facets(void)
{
    struct search_index *x = build();
    ids(x, "q=bryan");
    T_EQ_INT(res.total, 2);
    T_EQ_INT(res.ngenre, 2);
    T_EQ_STR(res.genre[0].value, "drama");
    T_EQ_INT(res.genre[0].count, 2);
    T_EQ_STR(res.genre[1].value, "crime");
    T_EQ_INT(res.genre[1].count, 1);
    T_EQ_INT(res.nkind, 2);
    T_EQ_STR(res.kind[0].value, "series");
    T_EQ_STR(res.kind[1].value, "episode");
    T_EQ_INT(res.nyear, 2);
    T_EQ_INT(res.year[0].year, 2013);
    T_EQ_INT(res.year[1].year, 2008);
    T_EQ_INT(res.nlanguage, 1);
    T_EQ_STR(res.language[0].value, "en");
    T_EQ_INT(res.language[0].count, 2);
    /* more genres than the packed facet record holds: the rest are read from the title */
    struct spec g = {"g1", "Genre Soup", NULL, "drama|crime|war|noir|zed", "de", NULL, NULL,
                     2010, SEARCH_LIVE,  1};
    T_EQ_INT(put(x, &g), 0);
    ids(x, "q=genre soup");
    T_EQ_INT(res.ngenre, 5);
    T_EQ_STR(res.genre[4].value, "zed");
    T_EQ_INT(res.genre[4].count, 1);
    T_EQ_STR(res.kind[0].value, "live");
    T_EQ_STR(res.language[0].value, "de");
    search_index_destroy(x);
}

/* More genres than a facet keeps: the top 20 by count, then by name (a regression: the
 * twentieth value compared a slot not yet filled). */
static void test_facet_top_values(void)
{
    struct search_index *x = search_index_new();
    char id[16], genre[16];
    for (int i = 0; i < 25; i++) {
        struct spec s = {id, "Common", NULL, genre, NULL, NULL, NULL, 2000, SEARCH_MOVIE, 1};
        snprintf(id, sizeof id, "t%02d", i);
        snprintf(genre, sizeof genre, "g%02d", 24 - i);
        put(x, &s);
    }
    struct spec extra = {"t99", "Common", NULL, "g20", NULL, NULL, NULL, 2000, SEARCH_MOVIE, 1};
    put(x, &extra);
    ids(x, "q=common");
    T_EQ_INT(res.total, 26);
    T_EQ_INT(res.ngenre, SEARCH_FACET_TOP);
    T_EQ_STR(res.genre[0].value, "g20");
    T_EQ_INT(res.genre[0].count, 2);
    T_EQ_STR(res.genre[1].value, "g00");
    T_EQ_STR(res.genre[19].value, "g18"); /* g20 took a place */
    T_EQ_INT(res.genre[19].count, 1);
    search_index_destroy(x);
}

/* Past 2,000 matches the facets come from every step-th match, scaled; the total is exact. */
static void test_facets_sampled(void)
{
    struct search_index *x = search_index_new();
    char id[16], genre[8];
    for (int i = 0; i < 2500; i++) {
        struct spec s = {id, "Common", NULL, genre, NULL, NULL, NULL, 2000, SEARCH_MOVIE, 1};
        snprintf(id, sizeof id, "t%04d", i);
        snprintf(genre, sizeof genre, "g%d", i % 3);
        put(x, &s);
    }
    ids(x, "q=common");
    T_EQ_INT(res.total, 2500);
    T_EQ_INT(res.facets_sampled, 1);
    T_EQ_INT(res.ngenre, 3); /* every second match: i = 0, 2, 4, ... counted twice */
    T_EQ_STR(res.genre[0].value, "g0");
    T_EQ_INT(res.genre[0].count, 834);
    T_EQ_STR(res.genre[1].value, "g2");
    T_EQ_INT(res.genre[1].count, 834);
    T_EQ_STR(res.genre[2].value, "g1");
    T_EQ_INT(res.genre[2].count, 832);
    T_EQ_INT(res.nhits, 10);
    T_EQ_STR(search_doc_id(x, res.hits[0].doc), "t0000"); /* equal scores: by id */
    search_index_destroy(x);
}

static void test_updates_and_deletion(void)
{
    struct search_index *x = build();
    struct spec s = catalog[7];
    s.title = "Interstellar Redux";
    T_EQ_INT(put(x, &s), 1); /* replaced */
    T_EQ_INT(search_index_count(x), 10);
    T_EQ_STR(ids(x, "q=redux"), "m6");
    T_EQ_STR(ids(x, "q=interstellar"), "m6");
    T_EQ_INT(res.total, 1); /* the old version is gone */
    T_EQ_INT(search_index_delete(x, "m6"), 0);
    T_EQ_INT(search_index_delete(x, "m6"), OC_ENOTFOUND);
    T_EQ_STR(ids(x, "q=interstellar"), "");
    T_EQ_INT(search_index_count(x), 9);
    struct spec n = {"n1", "Brand New", NULL, NULL, NULL, NULL, NULL, 2024, SEARCH_MOVIE, 1};
    T_EQ_INT(put(x, &n), 0);
    T_EQ_STR(ids(x, "q=brand new"), "n1");
    search_index_destroy(x);
}

static void test_compact(void)
{
    struct search_index *x = build();
    struct spec s = catalog[0];
    s.title = "The Matrix Again";
    put(x, &s);
    put(x, &s); /* two dead slots for m1 */
    search_index_delete(x, "m3");
    T_EQ_INT(search_index_dead(x), 3);
    T_EQ_INT(search_index_compact(x), 3);
    T_EQ_INT(search_index_dead(x), 0);
    T_EQ_INT(search_index_count(x), 9);
    T_EQ_STR(ids(x, "q=matrix again"), "m1");
    T_EQ_STR(ids(x, "q=matrix&limit=3"), "m1 m2");
    T_EQ_STR(ids(x, "q=rocky"), "");
    T_EQ_STR(ids(x, "q=bryan&kind=episode"), "e1");
    T_EQ_STR(ids(x, "q=intrstellar"), "m6");
    T_EQ_INT(put(x, &catalog[2]), 0);
    T_EQ_STR(ids(x, "q=rocky 2"), "m3");
    T_EQ_INT(search_index_compact(x), 0);
    search_index_destroy(x);
}

static void test_snapshot_round_trip(void)
{
    char path[] = "/tmp/oncue-search-snap-XXXXXX";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    close(fd);
    struct search_index *x = build(), *y = NULL;
    search_index_delete(x, "m2");
    int64_t gen = 0;
    T_EQ_INT(search_snapshot_write(x, 42, path), 0);
    T_EQ_INT(search_snapshot_read(path, &y, &gen), 0);
    T_EQ_INT(gen, 42);
    T_EQ_INT(search_index_count(y), 9);
    T_EQ_STR(ids(y, "q=matrix"), "m1");
    T_EQ_STR(ids(y, "q=intrstellar"), "m6");
    T_EQ_STR(ids(y, "q=audrey&genre=romance"), "m4");
    T_EQ_INT(put(y, &catalog[1]), 0);
    T_EQ_STR(ids(y, "q=matrix"), "m1 m2");
    /* a damaged file is refused */
    FILE *f = fopen(path, "r+b");
    fseek(f, 60, SEEK_SET);
    fputc(0xff, f);
    fputc(0xff, f);
    fclose(f);
    struct search_index *z = NULL;
    T_EQ_INT(search_snapshot_read(path, &z, &gen), OC_EIO);
    T_TRUE(z == NULL);
    unlink(path);
    T_EQ_INT(search_snapshot_read(path, &z, &gen), OC_ENOTFOUND);
    search_index_destroy(x);
    search_index_destroy(y);
}

/* Parses body; returns the code and leaves the detail in err. */
static int parse_body(const char *body, size_t *n, char *err, size_t errlen)
{
    json_t *items;
    struct search_title *t;
    int rc = search_parse_body(body, strlen(body), 3, &items, &t, n, err, errlen);
    free(t);
    json_decref(items);
    return rc;
}

static void test_body_parser(void)
{
    char err[300];
    size_t n = 0;
    T_EQ_INT(parse_body("[{\"id\":\"a\",\"title\":\"A\"},{\"id\":\"b\",\"title\":\"B\","
                        "\"year\":2001,\"kind\":\"live\",\"people\":[\"x\"]}]",
                        &n, err, sizeof err),
             0);
    T_EQ_INT(n, 2);
    T_EQ_INT(parse_body("{\"id\":\"a\",\"title\":\"A\"}\n\n{\"id\":\"b\",\"title\":\"B\"}\n", &n,
                        err, sizeof err),
             0);
    T_EQ_INT(n, 2);
    static const struct {
        const char *body, *detail;
        int rc;
    } bad[] = {
        {"[{\"title\":\"A\"}]", "[0].id: required, a string of 1 to 128 bytes", OC_EINVAL},
        {"[{\"id\":\"a\",\"title\":\"\"}]", "[0].title: required, a string of 1 to 512 bytes",
         OC_EINVAL},
        {"[{\"id\":\"a\",\"title\":\"A\",\"year\":1700}]", "[0].year: an integer from 1850 to 2100",
         OC_EINVAL},
        {"[{\"id\":\"a\",\"title\":\"A\",\"kind\":\"film\"}]",
         "[0].kind: one of movie, series, episode, live", OC_EINVAL},
        {"[{\"id\":\"a\",\"title\":\"A\",\"people\":[1]}]",
         "[0].people[0]: a string of 1 to 512 bytes", OC_EINVAL},
        {"[{\"id\":\"a\",\"title\":\"A\",\"popularity\":-1}]",
         "[0].popularity: a number from 0 to 1e15", OC_EINVAL},
        {"[{\"id\":\"a\",\"title\":\"A\",\"color\":1}]", "[0].color: unknown field", OC_EINVAL},
        {"[{\"id\":\"a\",\"title\":\"A\\u0000B\"}]", "[0].title: must not hold NUL", OC_EINVAL},
        {"[{},{},{},{}]", "body: more than 3 titles in one request", OC_ETOOBIG},
        {"{\"id\":\"a\",\"title\":\"A\"}\n{\"id\":", "body: line 2: not JSON", OC_EMALFORMED},
        {"[1,", "body: not JSON", OC_EMALFORMED},
        {"  ", "body: a JSON array or NDJSON of title objects", OC_EMALFORMED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        T_EQ_INT(parse_body(bad[i].body, &n, err, sizeof err), bad[i].rc);
        T_CONTAINS(err, bad[i].detail);
    }
}

static void test_query_parser(void)
{
    struct search_query q;
    char err[200];
    T_EQ_INT(parse_q("q=The Lord of the Rings: Two", &q, err, sizeof err), 0);
    T_EQ_INT(q.nw, 6);
    T_EQ_INT(q.optional0, 1);
    T_EQ_STR(q.w[5], "2");
    T_EQ_STR(q.last_raw, "two");
    T_EQ_INT(q.limit, 10);
    T_EQ_INT(parse_q("limit=5", &q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "q: required");
    T_EQ_INT(parse_q("q=a b c d e f g h i j k l m n o p q", &q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "q: at most 16 words");
    T_EQ_INT(parse_q("q=x&prefix=maybe", &q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "prefix: true or false");
}

static void test_synonym_setting(void)
{
    struct search_synonyms s;
    char err[200];
    T_EQ_INT(search_synonyms_parse("film,movie;tv,television,telly", &s, err, sizeof err), 0);
    T_EQ_INT(s.n, 2 + 6);
    T_EQ_STR(s.a[0], "film");
    T_EQ_STR(s.b[0], "movie");
    search_synonyms_free(&s);
    T_EQ_INT(search_synonyms_parse("sci fi,scifi", &s, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "\"sci fi\"");
}

/* ---- the shortcuts against the exhaustive search ---- */

static uint64_t rnd_state;
static uint32_t rnd(uint32_t n)
{
    rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rnd_state >> 33) % n;
}

static char vocab[300][12];

/* A word of the random vocabulary, frequent ones (the short ones first) far more often. */
static const char *rnd_word(void)
{
    uint32_t a = rnd(300);
    return vocab[a * rnd(300) / 300];
}

static void rnd_vocab(void)
{
    static const char *syl[] = {"a",  "o",  "sh", "ta", "ri", "gr", "ais", "tr",
                                "ol", "ka", "me", "st", "un", "pl", "ei",  "z"};
    for (int i = 0; i < 300; i++) {
        int n = i < 12 ? 1 : 1 + (int)rnd(4);
        vocab[i][0] = 0;
        for (int k = 0; k < n; k++)
            strcat(vocab[i], syl[rnd(16)]);
    }
}

/* Puts random title id i (or replaces it). */
static void rnd_put(struct search_index *x, int i)
{
    static const char *genres[] = {"drama", "comedy", "action", "horror", "scifi", "kids"};
    static const char *langs[] = {"en", "fr", "de"};
    char id[16], title[128] = "", people[64];
    int nw = 1 + (int)rnd(5);
    for (int k = 0; k < nw; k++) {
        strcat(title, k ? " " : "");
        strcat(title, rnd_word());
    }
    snprintf(id, sizeof id, "t%d", i);
    snprintf(people, sizeof people, "%s %s", rnd_word(), rnd_word());
    struct spec s = {id,
                     title,
                     people,
                     genres[rnd(6)],
                     langs[rnd(3)],
                     rnd(4) ? NULL : rnd_word(),
                     NULL,
                     rnd(8) ? 1950 + (int)rnd(76) : 0,
                     (int)rnd(SEARCH_KINDS),
                     rnd(3) ? (double)rnd(1000000) / (1 + rnd(1000)) : 0};
    T_TRUE(put(x, &s) >= 0);
}

/* A random query: words of the vocabulary, a typo sometimes, the last word cut sometimes,
 * a filter sometimes. */
static void rnd_query(char *out, size_t n)
{
    char q[200] = "";
    int nw = 1 + (int)rnd(3);
    for (int k = 0; k < nw; k++) {
        char w[16];
        snprintf(w, sizeof w, "%s", rnd_word());
        size_t l = strlen(w);
        if (l >= 4 && rnd(3) == 0) { /* a transposition */
            char c = w[1];
            w[1] = w[2];
            w[2] = c;
        }
        if (k == nw - 1 && rnd(2))
            w[1 + rnd((uint32_t)(l < 3 ? l : 3))] = 0;
        strcat(q, k ? " " : "");
        strcat(q, w);
    }
    static const char *filters[] = {"",
                                    "",
                                    "",
                                    "&genre=drama",
                                    "&year_min=2000",
                                    "&kind=series",
                                    "&language=fr",
                                    "&prefix=false"};
    snprintf(out, n, "q=%s&limit=%u%s", q, 1 + rnd(30), filters[rnd(8)]);
}

/* Runs qs with and without the shortcuts: the same hits in the same order with the same
 * scores, the same total and facets. */
static void same_as_exhaustive(const struct search_index *x, const char *qs)
{
    static struct search_result a, b;
    struct search_query q;
    struct search_weights w;
    char err[200];
    T_EQ_INT(parse_q(qs, &q, err, sizeof err), 0);
    search_weights_default(&w);
    search_exhaustive = 0;
    search_run(x, &q, NULL, &w, 2025, &a);
    search_exhaustive = 1;
    search_run(x, &q, NULL, &w, 2025, &b);
    search_exhaustive = 0;
    int same = a.nhits == b.nhits && a.total == b.total && a.ngenre == b.ngenre &&
               a.nyear == b.nyear && a.nkind == b.nkind && a.nlanguage == b.nlanguage;
    for (int i = 0; same && i < a.nhits; i++)
        same = a.hits[i].doc == b.hits[i].doc && a.hits[i].score == b.hits[i].score;
    for (int i = 0; same && i < a.ngenre; i++)
        same =
            a.genre[i].count == b.genre[i].count && strcmp(a.genre[i].value, b.genre[i].value) == 0;
    for (int i = 0; same && i < a.nyear; i++)
        same = a.year[i].count == b.year[i].count && a.year[i].year == b.year[i].year;
    if (!same)
        fprintf(stderr, "differs from the exhaustive search: %s (%d/%d hits, total %u/%u)\n", qs,
                a.nhits, b.nhits, a.total, b.total);
    T_TRUE(same);
}

/* The kept completions of short prefixes equal the ones rebuilt from every term. */
static void ptop_as_rebuilt(struct search_index *x)
{
    size_t n1 = 256 * SPTOP_1 * sizeof *x->ptop1, n2 = 65536 * SPTOP_2 * sizeof *x->ptop2;
    uint32_t *a = malloc(n1), *b = malloc(n2);
    memcpy(a, x->ptop1, n1);
    memcpy(b, x->ptop2, n2);
    search_ptop_rebuild(x);
    T_TRUE(memcmp(a, x->ptop1, n1) == 0);
    T_TRUE(memcmp(b, x->ptop2, n2) == 0);
    free(a);
    free(b);
}

static void test_shortcuts_match_exhaustive(void)
{
    struct search_index *x = search_index_new();
    char qs[300];
    rnd_state = 21;
    rnd_vocab();
    for (int i = 0; i < 12000; i++)
        rnd_put(x, i);
    for (int i = 0; i < 1500; i++) /* replacements and deletions leave dead slots */
        if (rnd(2)) {
            rnd_put(x, (int)rnd(12000));
        } else {
            snprintf(qs, sizeof qs, "t%u", rnd(12000));
            search_index_delete(x, qs);
        }
    ptop_as_rebuilt(x);
    search_ranged_min = 300; /* words in 300 titles or more are searched range by range */
    search_range_docs = 1024;
    search_prefix_title_cands = 400;
    const char *fixed[] = {"q=a",
                           "q=s",
                           "q=sh",
                           "q=t",
                           "q=ta",
                           "q=the a",
                           "q=o o",
                           "q=gr&limit=30",
                           "q=shta&limit=5",
                           "q=a sh&limit=20"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        same_as_exhaustive(x, fixed[i]);
    for (int i = 0; i < 400; i++) {
        rnd_query(qs, sizeof qs);
        same_as_exhaustive(x, qs);
    }
    search_index_compact(x);
    ptop_as_rebuilt(x);
    for (int i = 0; i < 200; i++) {
        rnd_query(qs, sizeof qs);
        same_as_exhaustive(x, qs);
    }
    /* plays out of static order: raised and lowered, then put in order by a compaction */
    for (int round = 0; round < 3; round++) {
        char idb[64][16];
        const char *pid[64];
        double pn[64];
        for (int i = 0; i < 64; i++) {
            snprintf(idb[i], sizeof idb[i], "t%u", rnd(12000));
            pid[i] = idb[i];
            pn[i] = rnd(3) == 0 ? -1 : (double)rnd(5000000) / (1 + rnd(100));
        }
        search_index_set_plays(x, pid, pn, 64);
        if (round == 2)
            search_index_compact(x);
        for (int i = 0; i < 100; i++) {
            rnd_query(qs, sizeof qs);
            same_as_exhaustive(x, qs);
        }
    }
    search_ranged_min = 32768;
    search_range_docs = 65536;
    search_prefix_title_cands = 4000;
    search_index_destroy(x);
}

static const struct t_case cases[] = {
    T_CASE(test_folding_case_punctuation),
    T_CASE(test_numbers),
    T_CASE(test_articles_and_distance),
    T_CASE(test_exact_and_articles),
    T_CASE(test_each_typo_class),
    T_CASE(test_prefix_and_synonyms),
    T_CASE(test_prefix_typos),
    T_CASE(test_rare_completion),
    T_CASE(test_fields_and_ranking),
    T_CASE(test_recency_orders),
    T_CASE(test_plays_popularity),
    T_CASE(test_ties_by_id),
    T_CASE(test_filters),
    T_CASE(test_facets),
    T_CASE(test_facet_top_values),
    T_CASE(test_facets_sampled),
    T_CASE(test_updates_and_deletion),
    T_CASE(test_compact),
    T_CASE(test_snapshot_round_trip),
    T_CASE(test_body_parser),
    T_CASE(test_query_parser),
    T_CASE(test_synonym_setting),
    T_CASE(test_shortcuts_match_exhaustive),
    {0},
};

T_MAIN(cases)
