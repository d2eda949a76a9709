/*
 * bus.h - the in-process event bus.
 *
 * Capabilities publish what happens ("alert.fired", "incident.opened", "rca.localized",
 * "mitigation.applied", ...) and subscribe to what they need; the publisher never knows who
 * listens. Delivery is synchronous, in subscription order, on the publisher's thread. A
 * subscription to "*" receives every topic (outbound webhooks, the timeline, automation).
 */
#ifndef OC_CORE_BUS_H
#define OC_CORE_BUS_H

#include <jansson.h>

#define OC_BUS_MAX_SUBS 256 /* hard cap on subscriptions per bus */

struct oc_bus;

/* Called for each published event; payload is borrowed for the duration of the call. */
typedef void oc_bus_fn(const char *topic, const json_t *payload, void *arg);

/* Creates an empty bus; free with oc_bus_destroy. */
struct oc_bus *oc_bus_new(void);
/* Frees the bus (NULL is a no-op). */
void oc_bus_destroy(struct oc_bus *bus);
/* Subscribes fn(arg) to topic ("*" for all); topic is copied. 0 or OC_ETOOBIG. */
int oc_bus_subscribe(struct oc_bus *bus, const char *topic, oc_bus_fn *fn, void *arg);
/* Removes every subscription of fn with arg. */
void oc_bus_unsubscribe(struct oc_bus *bus, oc_bus_fn *fn, void *arg);
/* Delivers payload (borrowed) to the subscribers of topic; returns how many received it. */
int oc_bus_publish(struct oc_bus *bus, const char *topic, const json_t *payload);

#endif
