/*
 * lock.c - per-thread counting of held module locks (see lock.h).
 */
#include "core/lock.h"

static _Thread_local int held; /* module locks this thread holds */

void oc_lock(pthread_mutex_t *mu)
{
    pthread_mutex_lock(mu);
    held++;
}

void oc_unlock(pthread_mutex_t *mu)
{
    held--;
    pthread_mutex_unlock(mu);
}

void oc_rdlock(pthread_rwlock_t *rw)
{
    pthread_rwlock_rdlock(rw);
    held++;
}

void oc_wrlock(pthread_rwlock_t *rw)
{
    pthread_rwlock_wrlock(rw);
    held++;
}

void oc_rwunlock(pthread_rwlock_t *rw)
{
    held--;
    pthread_rwlock_unlock(rw);
}

int oc_locks_held(void)
{
    return held;
}
