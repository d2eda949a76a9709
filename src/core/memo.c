/*
 * memo.c - an answer computed at most once per key (memo.h).
 */
#include "core/memo.h"
#include "core/alloc.h"
#include "core/lock.h"

#include <stdlib.h>
#include <string.h>

void oc_memo_init(struct oc_memo *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void oc_memo_free(struct oc_memo *m)
{
    pthread_mutex_destroy(&m->mu);
    free(m->text);
    m->text = NULL;
}

char *oc_memo_get(struct oc_memo *m, int64_t key, int *mine)
{
    char *text = NULL;
    oc_lock(&m->mu);
    int fresh = m->text && m->key == key;
    *mine = !fresh && !m->computing;
    if (m->text && (fresh || !*mine))
        text = oc_strdup(m->text);
    if (*mine)
        m->computing = 1;
    oc_unlock(&m->mu);
    return text;
}

void oc_memo_put(struct oc_memo *m, int64_t key, const char *text)
{
    char *copy = text ? oc_strdup(text) : NULL;
    oc_lock(&m->mu);
    if (copy) {
        free(m->text);
        m->text = copy;
        m->key = key;
    }
    m->computing = 0;
    oc_unlock(&m->mu);
}
