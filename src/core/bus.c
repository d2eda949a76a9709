/*
 * bus.c - synchronous in-process publish/subscribe (see bus.h).
 */
#include "core/bus.h"
#include "core/alloc.h"
#include "core/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sub {
    char *topic;   /* owned; "*" matches all */
    oc_bus_fn *fn; /* callback */
    void *arg;     /* passed through */
};

struct oc_bus {
    pthread_rwlock_t lock;            /* guards subs */
    struct sub subs[OC_BUS_MAX_SUBS]; /* live subscriptions first nsubs */
    int nsubs;
};

struct oc_bus *oc_bus_new(void)
{
    struct oc_bus *bus = oc_calloc(1, sizeof(*bus));
    pthread_rwlock_init(&bus->lock, NULL);
    return bus;
}

void oc_bus_destroy(struct oc_bus *bus)
{
    if (!bus)
        return;
    for (int i = 0; i < bus->nsubs; i++)
        free(bus->subs[i].topic);
    pthread_rwlock_destroy(&bus->lock);
    free(bus);
}

int oc_bus_subscribe(struct oc_bus *bus, const char *topic, oc_bus_fn *fn, void *arg)
{
    int rc = OC_ETOOBIG;
    pthread_rwlock_wrlock(&bus->lock);
    if (bus->nsubs < OC_BUS_MAX_SUBS) {
        bus->subs[bus->nsubs++] = (struct sub){oc_strdup(topic), fn, arg};
        rc = 0;
    }
    pthread_rwlock_unlock(&bus->lock);
    return rc;
}

void oc_bus_unsubscribe(struct oc_bus *bus, oc_bus_fn *fn, void *arg)
{
    pthread_rwlock_wrlock(&bus->lock);
    int j = 0;
    for (int i = 0; i < bus->nsubs; i++) {
        if (bus->subs[i].fn == fn && bus->subs[i].arg == arg)
            free(bus->subs[i].topic);
        else
            bus->subs[j++] = bus->subs[i];
    }
    bus->nsubs = j;
    pthread_rwlock_unlock(&bus->lock);
}

int oc_bus_publish(struct oc_bus *bus, const char *topic, const json_t *payload)
{
    int n = 0;
    pthread_rwlock_rdlock(&bus->lock);
    for (int i = 0; i < bus->nsubs; i++) {
        struct sub *s = &bus->subs[i];
        if (strcmp(s->topic, "*") == 0 || strcmp(s->topic, topic) == 0) {
            s->fn(topic, payload, s->arg);
            n++;
        }
    }
    pthread_rwlock_unlock(&bus->lock);
    return n;
}
