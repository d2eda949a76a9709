/*
 * memo.h - an answer computed at most once per key and shared by the HTTP workers.
 *
 * Routes whose answer depends only on the last complete minute (GET /v1/slos, GET
 * /v1/qoe/dimensions) keep it as JSON text keyed by that minute: the first request after the
 * minute moves computes it, the others copy the text. One request computes at a time; the
 * others meanwhile answer the previous text when there is one (at most one minute old) and
 * compute for themselves only when there is none. The mutex is a leaf lock: nothing is
 * computed under it.
 *
 *   int mine;
 *   char *text = oc_memo_get(&m, key, &mine);
 *   if (!text) {
 *       text = compute();             // malloc'd
 *       if (mine)
 *           oc_memo_put(&m, key, text); // copies it
 *   }
 *   ... use text, then free(text)
 */
#ifndef OC_CORE_MEMO_H
#define OC_CORE_MEMO_H

#include <pthread.h>
#include <stdint.h>

struct oc_memo {
    pthread_mutex_t mu;
    int64_t key;   /* what text was computed for */
    char *text;    /* malloc'd, or NULL */
    int computing; /* a caller holds the right to put the next text */
};

void oc_memo_init(struct oc_memo *m);
void oc_memo_free(struct oc_memo *m);
/* A malloc'd copy of the text for key; else the previous text while another caller computes
 * it; else NULL. *mine is 1 when the caller must compute the answer for key and then call
 * oc_memo_put (with NULL if it could not). */
char *oc_memo_get(struct oc_memo *m, int64_t key, int *mine /* OUT */);
/* Stores a copy of text (NULL: nothing stored) for key and ends the caller's turn. */
void oc_memo_put(struct oc_memo *m, int64_t key, const char *text);

#endif
