/*
 * search.h - catalog search: titles loaded over HTTP, normalized (folding, case, punctuation,
 * articles, numbers, synonyms), held in an in-memory inverted index with a symmetric-delete
 * typo dictionary, and ranked by text relevance blended with recency and popularity.
 *
 * SQLite is the source of truth (table search_titles); the index is rebuilt from a snapshot
 * file next to the database plus the rows written after it. This header exposes the
 * normalizer, the parsers, the index and the query engine for the unit tests, the fuzz
 * targets and the bench; the module (module.c) serves /v1/titles and /v1/search.
 * See docs/internals/search.md.
 */
#ifndef OC_SEARCH_SEARCH_H
#define OC_SEARCH_SEARCH_H

#include "core/module.h"
#include "core/opt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SEARCH_ID_MAX       128         /* bytes of a title id */
#define SEARCH_TEXT_MAX     512         /* bytes of a title, original title, series, person */
#define SEARCH_DESC_MAX     4096        /* bytes of a description */
#define SEARCH_LIST_MAX     32          /* items of each list field (alt_titles, people, ...) */
#define SEARCH_TAG_MAX      64          /* bytes of a genre, language, region, entitlement */
#define SEARCH_TAGS_MAX     4096        /* distinct values of each tag kind in one index */
#define SEARCH_BATCH_MAX    10000       /* titles of one POST /v1/titles */
#define SEARCH_BODY_MAX     (16u << 20) /* bytes of one POST /v1/titles (http.max_body_bytes too) */
#define SEARCH_TOKEN_MAX    32          /* bytes of one token (longer ones are cut) */
#define SEARCH_TOKENS_MAX   4096        /* tokens one text yields at most */
#define SEARCH_QUERY_MAX    256         /* bytes of q */
#define SEARCH_WORDS_MAX    16          /* words of a query */
#define SEARCH_LIMIT_MAX    100         /* largest limit */
#define SEARCH_YEAR_MIN     1850        /* bounds of year */
#define SEARCH_YEAR_MAX     2100
#define SEARCH_DOCS_MAX     (1u << 27) /* document slots of one index (replacements use one) */
#define SEARCH_SYNONYMS_MAX 256        /* synonym pairs */

/* What a title is. */
enum search_kind {
    SEARCH_MOVIE = 0,
    SEARCH_SERIES,
    SEARCH_EPISODE,
    SEARCH_LIVE,
    SEARCH_KINDS, /* count */
};
extern const char *const search_kind_names[]; /* "movie", "series", "episode", "live" */

/* One title as parsed from a request body; every string is borrowed from the JSON object it
 * was read from (or from the caller), so it lives as long as that object. */
struct search_title {
    const char *id, *title, *original_title, *series, *description, *language, *rating;
    const char *alt[SEARCH_LIST_MAX], *people[SEARCH_LIST_MAX], *genres[SEARCH_LIST_MAX];
    const char *regions[SEARCH_LIST_MAX], *entitlements[SEARCH_LIST_MAX];
    int nalt, npeople, ngenres, nregions, nentitlements;
    int year;          /* 0: unknown */
    int season;        /* 0: none */
    int episode;       /* 0: none */
    int kind;          /* enum search_kind */
    double popularity; /* >= 0; plays or any monotone signal */
};

/* The tunable weights of the ranking formula (docs/internals/search.md), all shares in
 * [0, 1] except recency_half_life_y. */
struct search_weights {
    double text, popularity, recency;                  /* the blend; summed to 1 by the caller */
    double f_title, f_alt, f_people, f_desc;           /* field weights */
    double phrase, coverage;                           /* bonuses added to the text score */
    double q_exact, q_syn, q_prefix, q_typo1, q_typo2; /* match qualities */
    double recency_half_life_y;                        /* years after which recency is 1/2 */
};
/* The defaults of the settings. */
void search_weights_default(struct search_weights *w);

/* ---- normalization (norm.c) ---- */

/* Tokens of one text, each NUL-terminated, folded and lower-cased, at most SEARCH_TOKEN_MAX
 * bytes; canonical numbers applied when asked. */
struct search_toks {
    char t[SEARCH_TOKENS_MAX][SEARCH_TOKEN_MAX + 1];
    int n;
};
/* Splits n bytes of UTF-8 s (invalid bytes separate words) into out (replaced): Latin-1
 * Supplement, Latin Extended-A and a few more letters folded to ASCII, Greek and Cyrillic
 * capitals lower-cased, punctuation separating words, apostrophes joining (but "l'amour" is
 * "l amour"), "&" read as "and". canon: numbers as digits (search_canon). Returns out->n. */
int search_tokenize(const char *s, size_t n, int canon, struct search_toks *out);
/* The canonical form of a folded token, in place: digits without leading zeros, number words
 * (zero to twenty, the tens, hundred) and Roman numerals of i, v, x (1 to 39) as digits. */
void search_canon(char *tok);
/* 1 when tok (folded) is a leading article (the, a, an, le, la, les, l, der, die, das, el,
 * los, las, il, lo, gli, un, une, una, het, de). */
int search_is_article(const char *tok);
/* The optimal string alignment (Damerau) distance of a and b in bytes, or max + 1 when it is
 * above max. */
int search_distance(const char *a, size_t na, const char *b, size_t nb, int max);
/* The edits a query word of len bytes may have: 0 under 4, 1 for 4 to 7, 2 for 8 and more. */
int search_typos_for(size_t len);
/* Bytes the completed last word needs before a typo inside it is looked for. */
#define SEARCH_PTYPO_MIN 4

/* Synonyms: "w1,w2,w3;w4,w5" groups of interchangeable words (the setting search.synonyms). */
struct search_synonyms {
    char (*a)[SEARCH_TOKEN_MAX + 1]; /* pairs (a[i], b[i]) both ways; owned */
    char (*b)[SEARCH_TOKEN_MAX + 1];
    int n;
};
/* Parses spec (NULL or "" gives none) into s; 0, or OC_EINVAL with a reason in err. Free with
 * search_synonyms_free. */
int search_synonyms_parse(const char *spec, struct search_synonyms *s, char *err, size_t errlen);
void search_synonyms_free(struct search_synonyms *s);

/* ---- parsing (parse.c) ---- */

/* Checks one title object and fills t (strings borrowed from obj). 0, or OC_EINVAL with a
 * detail naming the field in err. */
int search_parse_title(const json_t *obj, struct search_title *t /* OUT */, char *err,
                       size_t errlen);
/* Parses a POST /v1/titles body: a JSON array of objects, or NDJSON (one object per line).
 * *items gets a JSON array of the objects (the caller json_decrefs it) and *titles a
 * malloc'd array of *n parsed titles borrowing from it (the caller frees it). 0;
 * OC_EMALFORMED (not JSON), OC_ETOOBIG (over max items) or OC_EINVAL (an item is bad: err
 * names "[i].field"). */
int search_parse_body(const char *p, size_t n, size_t max, json_t **items /* OUT */,
                      struct search_title **titles /* OUT */, size_t *nt /* OUT */, char *err,
                      size_t errlen);

/* A query: words (canonical), the last one also as typed for prefix matching, filters. */
struct search_query {
    char w[SEARCH_WORDS_MAX][SEARCH_TOKEN_MAX + 1]; /* canonical words */
    char last_raw[SEARCH_TOKEN_MAX + 1];            /* the last word folded, not canonical */
    int nw;
    int optional0; /* 1: w[0] is a leading article, matched if present */
    int prefix;    /* 1: the last word may be a prefix (default; &prefix=false turns off) */
    int limit;     /* 1..SEARCH_LIMIT_MAX */
    int year_min, year_max;                                       /* 0: none */
    int kind;                                                     /* -1: any */
    char genre[SEARCH_TAG_MAX + 1], language[SEARCH_TAG_MAX + 1]; /* "": any */
    char region[SEARCH_TAG_MAX + 1], entitlement[SEARCH_TAG_MAX + 1];
    int facets; /* 1: count facets (default) */
};
/* Reads a query from parameters: get(arg, name) returns the value of query parameter name or
 * NULL (q, limit, prefix, facets, genre, kind, language, year_min, year_max, region,
 * entitlement). def_limit applies without limit. 0, or OC_EINVAL with a detail naming the
 * parameter in err. */
int search_query_parse(const char *(*get)(void *arg, const char *name), void *arg, int def_limit,
                       struct search_query *q /* OUT */, char *err, size_t errlen);

/* ---- the index (index.c, query.c, snap.c) ---- */

struct search_index;
/* An empty index. Free with search_index_destroy. */
struct search_index *search_index_new(void);
/* Frees the index (NULL is a no-op). */
void search_index_destroy(struct search_index *x);
/* Adds t, replacing the title of the same id: 1 when it replaced one, 0 when added, or
 * OC_ETOOBIG (a cap: document slots or distinct tags). Strings are copied. Not thread-safe:
 * the caller serializes writers against readers. */
int search_index_put(struct search_index *x, const struct search_title *t);
/* Removes the title id: 0, or OC_ENOTFOUND. */
int search_index_delete(struct search_index *x, const char *id);
/* Sets the plays counted for the titles ids[0..n) (plays[i] < 0: none, the title's own
 * popularity rules again; unknown ids are skipped) and makes the ranking's bounds exact where
 * one fell. A title keeps its plays when it is replaced. Returns the titles changed. */
size_t search_index_set_plays(struct search_index *x, const char *const *ids, const double *plays,
                              size_t n);
/* Whether title id's popularity comes from plays (1), from its field (0), or it is unknown
 * (-1). */
int search_index_played(const struct search_index *x, const char *id);
/* Drops the slots of replaced and deleted titles and renumbers the live documents in static
 * order (popularity, then year, both descending; then the previous order), rewriting every
 * posting list, so that the best documents come first in every list and ranking blocks are
 * of like documents. Returns the slots dropped. Writers' exclusion, as put. */
size_t search_index_compact(struct search_index *x);
/* Document slots not yet in static order (added since the last compaction). */
size_t search_index_unordered(const struct search_index *x);
/* Titles whose plays lifted their block's popularity bound by more than a 32nd of the largest
 * since the last compaction (search_index_set_plays): the blocks' bounds are that loose. */
size_t search_index_loosened(const struct search_index *x);
#define SEARCH_REORDER_MIN 1000
/* 1 when the static order is worth redoing (search_index_compact): more than
 * SEARCH_REORDER_MIN titles and an eighth of the live ones added since the last compaction,
 * or more than 64 titles whose plays loosened a bound and an eighth of the ranking blocks
 * (256 slots each): about that share of the blocks has a loose bound. */
int search_index_reorder_due(const struct search_index *x);
/* Document slots held by replaced or deleted titles. */
size_t search_index_dead(const struct search_index *x);
/* Live titles. */
size_t search_index_count(const struct search_index *x);
/* Approximate bytes the index holds in memory. */
size_t search_index_bytes(const struct search_index *x);

/* One hit of a search, pointing into the index (valid while the caller holds it). */
struct search_hit {
    uint32_t doc;
    double score;
};
/* Facet counts of the matching titles (after filters). */
struct search_facet {
    const char *value; /* borrowed from the index, or a static kind name */
    int year;          /* for the year facet */
    uint32_t count;
};
#define SEARCH_FACET_TOP 20 /* values kept per facet (years: the newest 50) */
struct search_result {
    struct search_hit hits[SEARCH_LIMIT_MAX];
    int nhits;
    uint32_t total; /* titles matching */
    struct search_facet genre[SEARCH_FACET_TOP], language[SEARCH_FACET_TOP];
    struct search_facet kind[SEARCH_KINDS], year[50];
    int ngenre, nlanguage, nkind, nyear;
    int facets_sampled; /* 1: over 2,000 matches, facets counted on an even sample, scaled */
};
/* Runs q over x (readers may run concurrently; writers must be excluded) with the synonyms
 * syn (or NULL) and weights w; now_year is the current year for recency. Fills out. 0. */
int search_run(const struct search_index *x, const struct search_query *q,
               const struct search_synonyms *syn, const struct search_weights *w, int now_year,
               struct search_result *out /* OUT */);
/* Appends hit i of r as a JSON object to out (a jansson array). */
void search_hit_json(const struct search_index *x, const struct search_hit *h, json_t *out);
/* The id of document doc (for the bench and tests). */
const char *search_doc_id(const struct search_index *x, uint32_t doc);
/* The display title of document doc. */
const char *search_doc_title(const struct search_index *x, uint32_t doc);

/* Writes x to path (through path.tmp, renamed) tagged with gen: 0 or OC_EIO. */
int search_snapshot_write(const struct search_index *x, int64_t gen, const char *path);
/* Reads a snapshot: 0 with a new index in *out and its gen, OC_ENOTFOUND (no file), or
 * OC_EIO (unreadable, another version, or damaged). */
int search_snapshot_read(const char *path, struct search_index **out /* OUT */,
                         int64_t *gen /* OUT */);

/* ---- bench (bench.c) ---- */

/* `oncue bench search`: generates a Zipf corpus (or reads an NDJSON corpus), builds the
 * index and SQLite FTS5 word and trigram indexes, runs exact, prefix and one-typo queries,
 * prints the table. Returns the exit status. */
int search_bench_main(int argc, char **argv);
extern const struct oc_cli search_bench_cli[];

/* The module: POST /v1/titles, DELETE /v1/titles/{id}, GET /v1/search; needs the store. */
extern const struct oc_module search_module;

/* The name the search module provides itself under (struct oc_app), for search_title_avail. */
#define SEARCH_PROVIDES "search.titles"
/* A catalog title's availability, for the entitlement check (billing): 1 when app's running
 * search module holds title id, with its regions and its entitlements written
 * comma-separated into regions (rn bytes) and ents (en bytes), "" when it lists none; 0 when
 * it holds no such title; -1 when the search module does not run. Takes the index's read
 * lock. */
int search_title_avail(const struct oc_app *app, const char *id, char *regions, size_t rn,
                       char *ents, size_t en);

#endif
