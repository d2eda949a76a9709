/*
 * exporter.h - the simulated origin, live packager and DRM license server's Prometheus
 * exporters and the live packager's HLS stream (`oncue sim --exporters HOST:PORT`,
 * exporter.c).
 */
#ifndef OC_SIM_EXPORTER_H
#define OC_SIM_EXPORTER_H

#include <stddef.h>

struct sim;
struct sim_exporter;

/* Listens on addr ("HOST:PORT") and serves /drm-license/metrics, /live-packager/metrics,
 * /origin/metrics and the live stream (/live/media.m3u8, /live/seg_N.ts) from its own
 * thread. 0, or -1 with why in err. */
int sim_exporter_start(const char *addr, struct sim_exporter **out /* OUT */, char *err,
                       size_t errlen);
/* Advances the exporters' counters and the live stream by one simulated second of s (its
 * faults in effect at its current second) and renders their texts and the playlist. Call
 * from the driver's thread. */
void sim_exporter_update(struct sim_exporter *x, const struct sim *s);
/* The DRM systems the license server answers for, in the order of sim_services.drm_fail. */
#define SIM_NDRM 3
extern const char *const sim_drm_systems[SIM_NDRM];

/* What the simulated services suffer at s's current second (the faults in effect then): the
 * share of license requests failing per DRM system, whether the live packager is stalled
 * (no segment published), and the share of origin requests answered 503. The exporters
 * count from it; a drill's simulated prober and scraper read it (src/drill/sources.c). */
struct sim_services {
    double drm_fail[SIM_NDRM];
    int stalled;
    double origin_fail;
};
void sim_services_now(const struct sim *s, struct sim_services *out /* OUT */);

/* Stops serving and frees x (NULL is a no-op). */
void sim_exporter_stop(struct sim_exporter *x);

#endif
