/*
 * plays.c - popularity from what viewers play: the QoE cube's starts per title, summed over
 * the last search.popularity_window_h hours.
 *
 * Titles are kept by name, never by the cube's value id (ingest ages idle values out and
 * gives their ids to new ones). Each title has one count per hour of the window, in a ring
 * whose slots are stamped with the hour they hold, so an hour that left the window is cleared
 * when its slot is reused. The first fold reads the whole window (the stored rows for what
 * left memory); later folds read only the minutes closed since, so a fold every minute costs
 * a minute of rows. Used by the module's timer on the main thread only.
 */
#include "search/search_int.h"
#include "core/alloc.h"
#include "core/log.h"
#include "qoe/qoe.h"

#include <stdlib.h>
#include <string.h>

struct prow {
    char *title; /* owned; NULL: a free row */
    uint32_t *n; /* plays per hour slot, nslots of them */
    int applied; /* its plays were given to the index at the last fold */
};

struct search_plays {
    int window_h, nslots;
    int64_t *stamp; /* the hour (unix s / 3600) each slot holds; -1: none */
    struct prow *rows;
    size_t nrows, cap;
    uint32_t *hash;  /* open addressing: row + 1, 0 empty */
    size_t nhash;    /* a power of two, at least twice the rows */
    int64_t done_s;  /* minutes before this are folded; 0: nothing yet */
    uint32_t *by_id; /* during a fold: cube value id -> row + 1 (0: not looked up yet) */
    size_t by_id_cap;
    int full; /* rows reached SEARCH_PLAYS_TITLES_MAX (logged once) */
    /* the last fold's answer */
    const char **ids;
    double *plays;
    size_t nout, out_cap;
};

#define SEARCH_PLAYS_TITLES_MAX 200000 /* titles counted at once */

struct search_plays *search_plays_new(int window_h)
{
    struct search_plays *p = oc_calloc(1, sizeof *p);
    p->window_h = window_h;
    p->nslots = window_h + 1; /* the hour being played, and the window's whole hours */
    p->stamp = oc_malloc((size_t)p->nslots * sizeof *p->stamp);
    for (int i = 0; i < p->nslots; i++)
        p->stamp[i] = -1;
    p->nhash = 1024;
    p->hash = oc_calloc(p->nhash, sizeof *p->hash);
    return p;
}

void search_plays_free(struct search_plays *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nrows; i++) {
        free(p->rows[i].title);
        free(p->rows[i].n);
    }
    free(p->rows);
    free(p->hash);
    free(p->stamp);
    free(p->by_id);
    free(p->ids);
    free(p->plays);
    free(p);
}

/* The hash slot of title s: its row's, or the empty one where it would go. */
static size_t slot_of(const struct search_plays *p, const char *s)
{
    size_t mask = p->nhash - 1, i = (size_t)search_hash(s, strlen(s)) & mask;
    while (p->hash[i] && strcmp(p->rows[p->hash[i] - 1].title, s) != 0)
        i = (i + 1) & mask;
    return i;
}

static void rehash(struct search_plays *p, size_t nhash)
{
    free(p->hash);
    p->nhash = nhash;
    p->hash = oc_calloc(nhash, sizeof *p->hash);
    for (size_t r = 0; r < p->nrows; r++)
        if (p->rows[r].title)
            p->hash[slot_of(p, p->rows[r].title)] = (uint32_t)r + 1;
}

/* The row of title s, added when new: row + 1, or 0 when the table is full. */
static uint32_t row_of(struct search_plays *p, const char *s)
{
    size_t i = slot_of(p, s);
    if (p->hash[i])
        return p->hash[i];
    if (p->nrows >= SEARCH_PLAYS_TITLES_MAX) {
        if (!p->full)
            oc_log(OC_LOG_WARN,
                   "search: plays are counted for %d titles at most; later ones"
                   " keep their own popularity",
                   SEARCH_PLAYS_TITLES_MAX);
        p->full = 1;
        return 0;
    }
    p->rows = oc_grow(p->rows, &p->cap, p->nrows + 1, sizeof *p->rows);
    struct prow *r = &p->rows[p->nrows++];
    r->title = oc_strdup(s);
    r->n = oc_calloc((size_t)p->nslots, sizeof *r->n);
    r->applied = 0;
    p->hash[i] = (uint32_t)p->nrows;
    if (p->nrows * 2 > p->nhash)
        rehash(p, p->nhash * 2);
    return (uint32_t)p->nrows;
}

/* The slot of hour h, cleared for it when it held an older hour; -1 when h is older than
 * what the slot holds (out of the window already). */
static int hour_slot(struct search_plays *p, int64_t h)
{
    int s = (int)(h % p->nslots);
    if (p->stamp[s] == h)
        return s;
    if (p->stamp[s] > h)
        return -1;
    p->stamp[s] = h;
    for (size_t r = 0; r < p->nrows; r++)
        p->rows[r].n[s] = 0;
    return s;
}

struct fold {
    struct search_plays *p;
    struct qoe_cube *c;
    int64_t oldest_h; /* hours before this are out of the window */
};

/* qoe_cube_scan callback: adds a minute's (or stored row's) starts to its titles' hour. */
static void fold_row(void *arg, const struct qoe_minute *m)
{
    struct fold *f = arg;
    struct search_plays *p = f->p;
    int64_t h = m->t / 3600;
    int s;
    if (h < f->oldest_h || (s = hour_slot(p, h)) < 0)
        return;
    for (uint32_t i = 0; i < m->nrows; i++) {
        if (!m->starts[i])
            continue;
        uint32_t id = qoe_cube_leaf_dims(f->c, m->leaf[i])[BEACON_TITLE];
        if (id >= p->by_id_cap) {
            size_t cap = p->by_id_cap;
            p->by_id = oc_grow(p->by_id, &cap, (size_t)id + 1, sizeof *p->by_id);
            memset(p->by_id + p->by_id_cap, 0, (cap - p->by_id_cap) * sizeof *p->by_id);
            p->by_id_cap = cap;
        }
        if (!p->by_id[id]) {
            const char *v = qoe_cube_value(f->c, BEACON_TITLE, id);
            p->by_id[id] = v && v[0] && strcmp(v, "other") != 0 ? row_of(p, v) : 0;
            if (!p->by_id[id])
                p->by_id[id] = UINT32_MAX; /* not a title: skipped from now on */
        }
        if (p->by_id[id] != UINT32_MAX)
            p->rows[p->by_id[id] - 1].n[s] += m->starts[i];
    }
}

int search_plays_fold(struct search_plays *p, struct qoe_cube *c, int64_t now_s, size_t *n)
{
    struct qoe_cube_stats cs;
    qoe_cube_stats(c, &cs);
    int64_t to = cs.closed_upto_s - cs.closed_upto_s % 60, now_h = now_s / 3600;
    int64_t oldest_h = now_h - p->window_h + 1, from = p->done_s ? p->done_s : oldest_h * 3600;
    struct fold f = {p, c, oldest_h};
    int rc = 0;
    if (p->by_id_cap) /* by_id is NULL until the first title: memset(NULL, ..., 0) is undefined */
        memset(p->by_id, 0, p->by_id_cap * sizeof *p->by_id);
    if (to > from) {
        rc = qoe_cube_scan(c, from, to, fold_row, &f);
        p->done_s = to;
    }
    /* the window's sums (hours oldest_h to now_h); a row with none that the index had no
     * plays from either is dropped, one whose plays the index holds answers -1 once */
    p->ids = oc_grow(p->ids, &p->out_cap, p->nrows + 1, sizeof *p->ids);
    size_t cap = p->out_cap;
    p->plays = oc_realloc(p->plays, cap * sizeof *p->plays);
    p->nout = 0;
    for (size_t r = 0; r < p->nrows; r++) {
        struct prow w = p->rows[r];
        double sum = 0;
        for (int k = 0; k < p->nslots; k++)
            if (p->stamp[k] >= oldest_h && p->stamp[k] <= now_h)
                sum += w.n[k];
        if (sum <= 0 && !w.applied) {
            free(w.title);
            free(w.n);
            continue;
        }
        w.applied = sum > 0;
        p->rows[p->nout] = w;
        p->ids[p->nout] = w.title;
        p->plays[p->nout++] = sum > 0 ? sum : -1;
    }
    if (p->nout != p->nrows) {
        p->nrows = p->nout;
        rehash(p, p->nhash);
    }
    *n = p->nout;
    return rc;
}

const char *const *search_plays_ids(const struct search_plays *p)
{
    return p->ids;
}

const double *search_plays_counts(const struct search_plays *p)
{
    return p->plays;
}
