/*
 * lock.h - module mutexes that know they are held.
 *
 * A module guards its state with oc_lock/oc_unlock instead of calling pthread directly, so
 * each thread knows how many module locks it holds: the bus refuses to count a delivery made
 * under one as clean (bus.h), which is how tests prove that no subscriber runs under a
 * publisher's lock. The mutexes stay plain (not recursive): taking one twice deadlocks.
 */
#ifndef OC_CORE_LOCK_H
#define OC_CORE_LOCK_H

#include <pthread.h>

/* Locks mu and counts it held by this thread. */
void oc_lock(pthread_mutex_t *mu);
/* Unlocks mu and counts it released. */
void oc_unlock(pthread_mutex_t *mu);
/* Read- and write-locks rw likewise; oc_rwunlock releases either. */
void oc_rdlock(pthread_rwlock_t *rw);
void oc_wrlock(pthread_rwlock_t *rw);
void oc_rwunlock(pthread_rwlock_t *rw);
/* The number of oc_lock-family locks this thread holds now. */
int oc_locks_held(void);

#endif
