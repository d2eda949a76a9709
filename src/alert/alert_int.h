/*
 * alert_int.h - internals of alert/ shared between its files (not for other capabilities).
 */
#ifndef OC_ALERT_ALERT_INT_H
#define OC_ALERT_ALERT_INT_H

#include "alert/alert.h"

/* Per-SLO cache of closed minutes (value and volume, from one query per minute) so that
 * burn rates over long windows (6 h, 3 d) cost a sum over the cache, not a scan of the cube
 * every minute. Closed minutes are immutable, so the cache gives the query's answer. */
struct alert_burn;

/* A cache for the SLOs of slos (borrowed). Destroy with alert_burn_destroy (NULL: no-op). */
struct alert_burn *alert_burn_new(const struct slo_set *slos);
void alert_burn_destroy(struct alert_burn *b);
/* The burn rate of s (an SLO of the set) over [end - w, end), as slo_burn(slo_count(...))
 * would answer it; NAN without data. Queries c only for minutes not cached yet. */
double alert_burn_rate(struct alert_burn *b, const struct slo *s, struct qoe_cube *c, int64_t end,
                       int64_t w, int64_t *minutes /* OUT: minutes with data */);

#endif
