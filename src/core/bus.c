/*
 * bus.c - queued in-process publish/subscribe (see bus.h).
 *
 * Three locks, never held together except in this order: drain_mu (one drainer at a time)
 * -> subs (read, to snapshot the subscribers) | qmu (the queue). Subscribers run with none of
 * them held, so they may publish, subscribe or unsubscribe. What a subscriber publishes is
 * delivered right after the event that caused it (depth first), before older events.
 */
#include "core/bus.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/lock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sub {
    char *topic;   /* owned; "*" matches all */
    oc_bus_fn *fn; /* callback */
    void *arg;     /* passed through */
};

struct queued {
    struct queued *next;
    char *topic;     /* owned */
    json_t *payload; /* owned deep copy */
};

struct oc_bus {
    pthread_rwlock_t lock;            /* guards subs */
    struct sub subs[OC_BUS_MAX_SUBS]; /* live subscriptions first nsubs */
    int nsubs;
    pthread_mutex_t qmu;          /* guards the queue and the counters */
    struct queued *head, *tail;   /* publish order */
    struct queued *nhead, *ntail; /* published by the subscribers of the event in delivery */
    int nqueued;                  /* at most OC_BUS_MAX_QUEUED */
    pthread_mutex_t drain_mu;     /* one drainer at a time */
    _Atomic int pending;          /* queued or being delivered: the fast path of oc_bus_drain */
    struct oc_bus_stats st;       /* under qmu */
};

static _Thread_local struct oc_bus *draining; /* the bus this thread is delivering for */

struct oc_bus *oc_bus_new(void)
{
    struct oc_bus *bus = oc_calloc(1, sizeof(*bus));
    pthread_rwlock_init(&bus->lock, NULL);
    pthread_mutex_init(&bus->qmu, NULL);
    pthread_mutex_init(&bus->drain_mu, NULL);
    return bus;
}

static void queued_free(struct queued *q)
{
    free(q->topic);
    json_decref(q->payload);
    free(q);
}

void oc_bus_destroy(struct oc_bus *bus)
{
    if (!bus)
        return;
    for (int i = 0; i < bus->nsubs; i++)
        free(bus->subs[i].topic);
    for (struct queued *q = bus->head, *next; q; q = next) {
        next = q->next;
        queued_free(q);
    }
    pthread_rwlock_destroy(&bus->lock);
    pthread_mutex_destroy(&bus->qmu);
    pthread_mutex_destroy(&bus->drain_mu);
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
    json_t *copy = payload ? json_deep_copy(payload) : json_object();
    struct queued *q = oc_calloc(1, sizeof(*q));
    int rc = 0;
    q->topic = oc_strdup(topic);
    q->payload = copy ? copy : json_object();
    pthread_mutex_lock(&bus->qmu);
    if (bus->nqueued == OC_BUS_MAX_QUEUED) {
        bus->st.dropped++;
        rc = OC_ETOOBIG;
    } else {
        struct queued **head = draining == bus ? &bus->nhead : &bus->head;
        struct queued **tail = draining == bus ? &bus->ntail : &bus->tail;
        if (*tail)
            (*tail)->next = q;
        else
            *head = q;
        *tail = q;
        bus->nqueued++;
        bus->pending++;
        bus->st.published++;
        q = NULL;
    }
    pthread_mutex_unlock(&bus->qmu);
    if (q)
        queued_free(q);
    return rc;
}

static struct queued *pop(struct oc_bus *bus)
{
    pthread_mutex_lock(&bus->qmu);
    struct queued *q = bus->head;
    if (q) {
        bus->head = q->next;
        if (!bus->head)
            bus->tail = NULL;
        bus->nqueued--;
    }
    pthread_mutex_unlock(&bus->qmu);
    return q;
}

/* Puts what the subscribers of the event just delivered published at the front of the
 * queue, so delivery follows causes depth first, as a synchronous call chain would, and
 * stays in publish order for everything else. */
static void splice_nested(struct oc_bus *bus)
{
    pthread_mutex_lock(&bus->qmu);
    if (bus->nhead) {
        bus->ntail->next = bus->head;
        bus->head = bus->nhead;
        if (!bus->tail)
            bus->tail = bus->ntail;
        bus->nhead = bus->ntail = NULL;
    }
    pthread_mutex_unlock(&bus->qmu);
}

/* Delivers one event to a snapshot of its subscribers; returns the calls made. */
static int deliver(struct oc_bus *bus, const struct queued *q)
{
    struct sub to[OC_BUS_MAX_SUBS];
    int n = 0, bad = 0;
    pthread_rwlock_rdlock(&bus->lock);
    for (int i = 0; i < bus->nsubs; i++)
        if (strcmp(bus->subs[i].topic, "*") == 0 || strcmp(bus->subs[i].topic, q->topic) == 0)
            to[n++] = bus->subs[i];
    pthread_rwlock_unlock(&bus->lock);
    for (int i = 0; i < n; i++) {
        bad += oc_locks_held() > 0;
        to[i].fn(q->topic, q->payload, to[i].arg);
    }
    pthread_mutex_lock(&bus->qmu);
    bus->st.delivered += (uint64_t)n;
    bus->st.violations += (uint64_t)bad;
    pthread_mutex_unlock(&bus->qmu);
    return n;
}

int oc_bus_drain(struct oc_bus *bus)
{
    int n = 0;
    if (!bus || draining == bus || bus->pending == 0)
        return 0;
    pthread_mutex_lock(&bus->drain_mu);
    draining = bus;
    for (struct queued *q; (q = pop(bus)) != NULL;) {
        n += deliver(bus, q);
        splice_nested(bus);
        queued_free(q);
        bus->pending--;
    }
    draining = NULL;
    pthread_mutex_unlock(&bus->drain_mu);
    return n;
}

int oc_bus_subscriptions(struct oc_bus *bus, struct oc_bus_sub *out, int max)
{
    pthread_rwlock_rdlock(&bus->lock);
    int n = bus->nsubs;
    for (int i = 0; i < n && i < max; i++)
        out[i] = (struct oc_bus_sub){bus->subs[i].topic, bus->subs[i].fn, bus->subs[i].arg};
    pthread_rwlock_unlock(&bus->lock);
    return n;
}

void oc_bus_stats(struct oc_bus *bus, struct oc_bus_stats *out)
{
    pthread_mutex_lock(&bus->qmu);
    *out = bus->st;
    pthread_mutex_unlock(&bus->qmu);
}
