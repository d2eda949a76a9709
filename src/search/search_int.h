/*
 * search_int.h - internal to search/: the index's layout (index.c builds it, query.c reads
 * it, snap.c writes and reads it) and the module's state (module.c).
 *
 * Documents are numbered in the order they were put; a replaced or deleted title leaves a
 * dead slot whose postings stay (skipped by queries) until the index is rebuilt. A posting
 * is one uint32: the document number shifted left by 4 and the fields the term occurs in.
 */
#ifndef OC_SEARCH_INT_H
#define OC_SEARCH_INT_H

#include "search/search.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define SF_TITLE  1u /* posting field bits */
#define SF_ALT    2u /* original title, alternative titles, series */
#define SF_PEOPLE 4u
#define SF_DESC   8u
#define SP_SHIFT  4 /* posting = doc << SP_SHIFT | fields */

#define SEARCH_TITLE_TOKS 64 /* title tokens kept per document (for phrases and coverage) */

/* One document. The blob holds, in order: uint32 title token term ids [ntok], uint16 tag ids
 * [ngenre + nregion + nent], the id and the display title, each NUL-terminated. */
struct sdoc {
    void *blob;     /* owned; NULL when the slot is dead */
    float pop;      /* popularity */
    int16_t year;   /* 0: unknown */
    uint16_t lang;  /* language tag id + 1; 0: none */
    uint16_t plays; /* plays from the QoE cube as sfeat.lpop + 1 (search_index_set_plays);
                     * 0: none counted, pop rules */
    uint8_t kind;   /* enum search_kind */
    uint8_t ntok;   /* title tokens */
    uint8_t ngenre; /* tag counts */
    uint8_t nregion;
    uint8_t nent;
    uint8_t lead; /* 1 when the first title token is an article */
};

/* Postings in increasing document order. */
struct splist {
    uint32_t *p; /* owned */
    uint32_t n, cap;
};

/* One term: the documents holding it in a title, alternative title or person (l[0], with
 * the description bit too when it is there as well), and those holding it only in their
 * description (l[1]), searched only when the first give too few hits. */
struct sterm {
    struct splist l[2];
    uint32_t str; /* offset of its bytes (NUL-terminated) in the string pool */
    uint8_t len;  /* bytes */
};
/* Documents holding term t anywhere. */
#define STERM_DF(t) ((t)->l[0].n + (t)->l[1].n)

/* A dictionary of strings to small ids (tags: genres, languages, regions, entitlements). */
struct sdict {
    char **s; /* s[id], owned */
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: id + 1, 0 empty */
    uint32_t nslots; /* a power of two */
};

/* The symmetric-delete dictionary: each term of 4 bytes or more under every string made by
 * deleting one byte (two as well for 8 bytes or more), keyed by the string's 32-bit hash
 * (collisions are harmless: candidates are checked with search_distance). */
struct sdel_entry {
    uint32_t h, term, next; /* next: entry index + 1, 0 ends the chain */
};
struct sdel {
    uint32_t *heads; /* bucket -> entry index + 1 */
    uint32_t nheads; /* a power of two */
    struct sdel_entry *e;
    size_t n, cap;
};

enum { TAG_GENRE = 0, TAG_LANG, TAG_REGION, TAG_ENT, TAG_KINDS };

#define SBLOCK_SHIFT 8 /* documents per ranking block: 256 */

/* The best popularity and the latest year of a block of documents (dead ones included), so
 * the ranking skips blocks whose best possible score cannot enter the hits. */
struct sblock {
    uint16_t lpop; /* the largest sfeat.lpop */
    int16_t year;  /* the latest year */
};

/* The most frequent completions of every prefix of 1 and 2 bytes, kept as terms gain postings
 * (a term's postings only grow until the index is compacted, which rebuilds them), so that
 * as-you-type queries of one or two letters read a short list instead of scanning the terms.
 * Order: more postings first, then the term's bytes. */
#define SPTOP_1 4 /* completions kept for a 1-byte prefix */
#define SPTOP_2 8 /* for a 2-byte prefix */

#define SFEAT_LPOP_SCALE 1800.0 /* sfeat.lpop = log1p(popularity) * this, rounded */

/* What ranking reads of a document, packed apart from the documents so that scoring many
 * candidates stays in cache. */
struct sfeat {
    uint16_t lpop;   /* log1p(popularity), scaled */
    int16_t year;    /* 0: unknown */
    uint16_t ntitle; /* title tokens, a leading article left out */
};

/* What facet counting reads of a document, packed apart so that counting thousands of
 * matches reads one small record each instead of the document's blob. */
#define SFACET_GENRES 3
struct sfacet {
    uint16_t genre[SFACET_GENRES]; /* genre tag id + 1, 0: none */
    uint16_t lk; /* (language tag id + 1) << 3 | 4 when more genres (in the blob) | kind */
};

struct search_index {
    struct sdoc *docs;
    uint32_t ndocs, live; /* slots used, live titles */
    size_t docs_cap;
    struct sterm *terms;
    uint32_t nterms;
    size_t terms_cap;
    char *pool; /* term strings */
    size_t pool_len, pool_cap;
    uint32_t *tslots; /* term hash: id + 1, 0 empty */
    uint32_t ntslots;
    uint32_t *ids; /* id hash over docs: doc + 1, 0 empty, UINT32_MAX removed */
    uint32_t nids, ids_used;
    uint32_t *sorted; /* term ids [0, nsorted) in byte order; later ids are the unsorted tail */
    uint32_t nsorted;
    struct sdel del;
    struct sdict tags[TAG_KINDS];
    float max_pop;
    size_t blob_bytes;  /* bytes of live blobs */
    struct sfeat *feat; /* by document */
    size_t feat_cap;
    struct sfacet *facet; /* by document */
    size_t facet_cap;
    uint16_t max_lpop;     /* the largest sfeat.lpop */
    struct sblock *blocks; /* by document >> SBLOCK_SHIFT */
    size_t blocks_cap;
    uint32_t ordered;  /* slots [0, ordered) are in static order (search_index_compact) */
    uint32_t loosened; /* plays that lifted a block's bound by far since the last compaction */
    uint64_t *dead;    /* a bit per document slot: replaced or deleted */
    size_t dead_cap;
    uint32_t *ptop1; /* [256][SPTOP_1] term id + 1, 0 empty (see SPTOP_1) */
    uint32_t *ptop2; /* [65536][SPTOP_2] */
    /* the writer's scratch */
    struct search_toks *toks;
    uint64_t *pairs; /* term << 32 | fields, for one document */
    size_t pairs_cap;
};

/* FNV-1a over n bytes. */
uint64_t search_hash(const char *s, size_t n);
/* The term id of s (n bytes), or UINT32_MAX. */
uint32_t search_term_find(const struct search_index *x, const char *s, size_t n);
/* The bytes of term t. */
static inline const char *search_term_str(const struct search_index *x, uint32_t t)
{
    return x->pool + x->terms[t].str;
}
/* Adds the term s (n bytes, n <= SEARCH_TOKEN_MAX) if new (and its deletions); its id. */
uint32_t search_term_intern(struct search_index *x, const char *s, size_t n);
/* Re-creates the term hash from the terms (after a snapshot is read). */
void search_index_rehash(struct search_index *x);
/* Sets x->ordered to the slots from the first that are in static order (after a read). */
void search_index_find_ordered(struct search_index *x);
/* 1 when term a ranks before term b as a completion: more postings, then bytes. */
int search_term_before(const struct search_index *x, uint32_t a, uint32_t b);
/* Re-creates the 1- and 2-byte prefix completions from every term (after a snapshot is read
 * or the index compacted). */
void search_ptop_rebuild(struct search_index *x);
/* The kept completions of prefix p of 1 or 2 bytes (pl): up to SPTOP_1 or SPTOP_2 slots of
 * term id + 1, 0 ending the list early. */
static inline const uint32_t *search_ptop(const struct search_index *x, const char *p, size_t pl)
{
    const unsigned char *u = (const unsigned char *)p;
    return pl == 1 ? x->ptop1 + (size_t)u[0] * SPTOP_1
                   : x->ptop2 + ((size_t)u[0] << 8 | u[1]) * SPTOP_2;
}
/* Test hook: when set, searches take no shortcut (every candidate scored, every completion
 * scanned), the reference the shortcuts are checked against. */
extern int search_exhaustive;
/* Postings of a query's lone required word from which it is searched range by range (32768),
 * and the documents of a range (65536, a multiple of the ranking block); tests lower them. */
extern uint32_t search_ranged_min, search_range_docs;
/* Candidates up to which the titles are read for rarer completions of the last word (4000). */
extern uint32_t search_prefix_title_cands;
/* The document number of id, or UINT32_MAX. */
uint32_t search_doc_find(const struct search_index *x, const char *id);
/* Adds doc slot d (live, blob set) to the id hash. */
void search_ids_add(struct search_index *x, uint32_t d);
/* Records document slot d in its ranking block and the dead bits (after put or read). */
void search_doc_meta(struct search_index *x, uint32_t d);
/* 1 when document slot d is dead. */
static inline int search_doc_dead(const struct search_index *x, uint32_t d)
{
    return (int)(x->dead[d >> 6] >> (d & 63)) & 1;
}
/* Interns a tag of kind k: id, or -1 when the dictionary is full. */
int search_tag_intern(struct search_index *x, int k, const char *s);
/* The tag id of s in kind k, or -1. */
int search_tag_find(const struct search_index *x, int k, const char *s);

/* Blob accessors. */
static inline const uint32_t *sdoc_toks(const struct sdoc *d)
{
    return (const uint32_t *)d->blob;
}
static inline const uint16_t *sdoc_tags(const struct sdoc *d)
{
    return (const uint16_t *)((const char *)d->blob + d->ntok * 4);
}
static inline const char *sdoc_id(const struct sdoc *d)
{
    return (const char *)(sdoc_tags(d) + d->ngenre + d->nregion + d->nent);
}
static inline const char *sdoc_title(const struct sdoc *d)
{
    const char *id = sdoc_id(d);
    return id + strlen(id) + 1;
}
/* Bytes of a blob with these counts and strings. */
static inline size_t sdoc_blob_size(const struct sdoc *d)
{
    const char *id = sdoc_id(d), *t = id + strlen(id) + 1;
    return (size_t)(t + strlen(t) + 1 - (const char *)d->blob);
}

/* ---- the bench's corpus (bench_gen.c, bench.c) ---- */

/* One title of a bench corpus; lists are joined by '|'. Strings live in the corpus's pool. */
struct bench_title {
    const char *id, *title, *people, *genres, *desc, *language, *regions, *ents;
    int year, kind;
    double pop;
};
struct bench_corpus {
    struct bench_title *t;
    size_t n;
    char **chunks; /* string storage */
    size_t nchunks, used;
    char *name; /* "generated ..." or the file */
};
/* Generates n titles from seed: Zipf word frequencies over a vocabulary of vocab words. */
void bench_corpus_generate(struct bench_corpus *c, size_t n, uint64_t seed, size_t vocab);
/* Reads an NDJSON file of title objects; 0, or -1 with a message printed. */
int bench_corpus_read(struct bench_corpus *c, const char *path);
void bench_corpus_free(struct bench_corpus *c);
/* Puts title b into x (splitting its lists); the search_index_put result. */
int bench_put(struct search_index *x, const struct bench_title *b);
/* A deterministic generator (splitmix64). */
uint64_t bench_rand(uint64_t *state);

/* Plays per title from the QoE cube over the last window_h hours (plays.c); the module's
 * timer folds and hands the answer to search_index_set_plays. */
struct search_plays;
struct qoe_cube;
struct search_plays *search_plays_new(int window_h);
void search_plays_free(struct search_plays *p);
/* Folds the cube's minutes closed since the last fold (the whole window the first time) and
 * sets *n to the titles of the answer: search_plays_ids and search_plays_counts (plays over
 * the window, or -1 for a title that had plays at the last fold and has none now), valid until
 * the next fold. 0, or OC_EDB when the stored rows could not be read (the rest is folded). */
int search_plays_fold(struct search_plays *p, struct qoe_cube *c, int64_t now_s, size_t *n);
const char *const *search_plays_ids(const struct search_plays *p);
const double *search_plays_counts(const struct search_plays *p);

/* Facet counters of one search (facets.c). */
struct search_counts {
    uint32_t *genre, *lang;                               /* by tag id */
    uint32_t kind[SEARCH_KINDS];                          /* by kind */
    uint32_t year[SEARCH_YEAR_MAX - SEARCH_YEAR_MIN + 1]; /* by year */
};

/* Counts document d in k, from its packed facet record. */
void search_count_doc(const struct search_index *x, uint32_t d, struct search_counts *k);
/* Multiplies every count of k by step (a sample's counts). */
void search_counts_scale(const struct search_index *x, struct search_counts *k, uint32_t step);
/* Fills the facets of out from k: genre and language by count then name, kinds, the latest years.
 */
void search_facets_out(const struct search_index *x, const struct search_counts *k,
                       struct search_result *out);

#endif
