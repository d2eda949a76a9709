/*
 * bus.h - the in-process event bus: queued, delivered outside the publishers' locks.
 *
 * Capabilities publish what happens (the topics of core/topics.h) and subscribe to what they
 * need; the publisher never knows who listens. Publishing only queues a copy of the payload;
 * oc_bus_drain delivers the queue in publish order, subscribers in subscription order, on the
 * draining thread. Callers drain once they hold no lock of their own: the scheduler after
 * each module timer (core/module.h oc_app_tick), the HTTP layer after each handler, the
 * drill and the tests after each step. So no subscriber runs under another module's lock,
 * and a subscriber that publishes only queues: its events are delivered next, before older
 * ones (depth first, as the synchronous call chain it replaces), in the same drain.
 * Delivery is deterministic for a given publish order. A subscription to "*" receives every
 * topic (outbound webhooks, the timeline, automation).
 *
 * Lock discipline is checked: module locks taken through oc_lock/oc_unlock (core/lock.h)
 * are counted per thread, and a delivery that finds one held is counted as a violation in
 * struct oc_bus_stats (tests assert none).
 */
#ifndef OC_CORE_BUS_H
#define OC_CORE_BUS_H

#include <jansson.h>
#include <stdint.h>

#define OC_BUS_MAX_SUBS   256   /* hard cap on subscriptions per bus */
#define OC_BUS_MAX_QUEUED 65536 /* events waiting for delivery; past it publish drops */

struct oc_bus;

/* Called for each delivered event; payload is borrowed for the duration of the call. */
typedef void oc_bus_fn(const char *topic, const json_t *payload, void *arg);

/* One subscription, as listed by oc_bus_subscriptions. */
struct oc_bus_sub {
    const char *topic; /* owned by the bus */
    oc_bus_fn *fn;
    void *arg;
};

/* Counters of a bus, for tests and /metrics. */
struct oc_bus_stats {
    uint64_t published;  /* events queued */
    uint64_t delivered;  /* subscriber calls made */
    uint64_t dropped;    /* events refused because the queue was full */
    uint64_t violations; /* deliveries made while the draining thread held an oc_lock */
};

/* Creates an empty bus; free with oc_bus_destroy. */
struct oc_bus *oc_bus_new(void);
/* Frees the bus and any undelivered events (NULL is a no-op). */
void oc_bus_destroy(struct oc_bus *bus);
/* Subscribes fn(arg) to topic ("*" for all); topic is copied. 0 or OC_ETOOBIG. */
int oc_bus_subscribe(struct oc_bus *bus, const char *topic, oc_bus_fn *fn, void *arg);
/* Removes every subscription of fn with arg. */
void oc_bus_unsubscribe(struct oc_bus *bus, oc_bus_fn *fn, void *arg);
/* Queues a deep copy of payload (borrowed) for topic. Calls no subscriber. Thread-safe.
 * Returns 0, or OC_ETOOBIG when OC_BUS_MAX_QUEUED events are already waiting. */
int oc_bus_publish(struct oc_bus *bus, const char *topic, const json_t *payload);
/* Delivers the queued events, and those their subscribers publish, until the queue is empty;
 * returns how many subscriber calls it made. Call holding no lock. Concurrent callers take
 * turns, so every event queued before a call has been delivered when it returns; a call from
 * inside a subscriber returns 0 at once (the outer drain delivers what it queued). */
int oc_bus_drain(struct oc_bus *bus);
/* Copies up to max subscriptions, in subscription order, into out; returns how many exist. */
int oc_bus_subscriptions(struct oc_bus *bus, struct oc_bus_sub *out, int max);
void oc_bus_stats(struct oc_bus *bus, struct oc_bus_stats *out /* OUT */);

#endif
