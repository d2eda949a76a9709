/*
 * lease.h - one holder at a time among control-plane replicas, through a lease row in
 * PostgreSQL (docs/internals/lease.md).
 *
 * Replicas started with the same lease.postgres and lease.name share one row of the table
 * oncue_leases; a thread renews it every third of lease.ttl_s. The replica whose renewal
 * succeeded holds the lease until its own monotonic clock passes the renewal's start plus the
 * lease's time to live, less a margin; the others (and a holder whose renewals fail) do not.
 * The timers that must run once across replicas (struct oc_module_timer's .leased: alert
 * evaluation, incident ticks) run only while it is held. A replica that stops gracefully
 * gives the lease up; one killed is replaced once the row expires (at most lease.ttl_s plus a
 * third of it).
 */
#ifndef OC_STORE_LEASE_H
#define OC_STORE_LEASE_H

#include <stdint.h>

struct oc_lease;
struct oc_metrics;

/* Starts the renewing thread for lease name over the PostgreSQL conninfo (libpq's
 * "host=... port=... dbname=... user=..." or a postgresql:// URI; never logged), time to live
 * ttl_s seconds; registers its gauges on m (may be NULL). NULL when the thread cannot start. */
struct oc_lease *oc_lease_start(const char *conninfo, const char *name, int ttl_s,
                                struct oc_metrics *m);
/* 1 while this process holds the lease (lock-free; any thread). */
int oc_lease_held(void *lease);
/* Stops the thread, gives the lease up when held, frees l (NULL: no-op). */
void oc_lease_stop(struct oc_lease *l);

#endif
