/*
 * module.h - what a capability registers to run inside `oncue serve` and `oncue drill`, and
 * the one runner both use.
 *
 * Each capability exports one `const struct oc_module` (for example `ingest_module`) and
 * src/oncue/modules.c lists them; `oncue serve --modules a,b` runs a subset. oc_app_start
 * calls init for each selected module in table order and subscribes its bus handlers;
 * oc_app_tick runs the module timers due at a given time on the app's clock and drains the
 * bus after each; oc_app_stop drains, unsubscribes and calls stop in reverse order. `serve`
 * also mounts each module's routes and calls oc_app_tick from one libevent timer; the drill
 * and the pipeline tests call it from their virtual clock, so every host runs the same
 * handlers on the same topics with the same periods. struct oc_app is what a module gets to
 * reach the shared services; everything in it outlives every module.
 * A module that has settings declares them as rows (.settings) over its own options
 * struct; init reads its block with config_module_opts (config/config.h).
 */
#ifndef OC_CORE_MODULE_H
#define OC_CORE_MODULE_H

#include "core/setting.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oc_buf;

struct oc_config;
struct oc_clock;
struct oc_bus;
struct oc_metrics;
struct store;
struct http_server;
struct http_route;
struct oc_module;

#define OC_APP_MAX_PROVIDED 32 /* shared instances the modules of one app may provide */
#define OC_APP_MAX_MODULES  32 /* modules one app runs */
#define OC_APP_MAX_TIMERS   64 /* module timers one app runs */

/* A started module. */
struct oc_running {
    const struct oc_module *mod; /* table row */
    void *state;                 /* from init; the module's own */
};

/* A module timer and when it is next due on the app's clock. */
struct oc_timer_slot {
    const struct oc_module_timer *t;
    void *state;    /* the module's */
    int64_t due_ms; /* next run */
    int leased;     /* its module's .timers_leased */
};

/* One instance a module provides to the others (see oc_app_provide). */
struct oc_provided {
    const char *name; /* a capability's constant, e.g. QOE_PROVIDES_CUBE; static storage */
    void *ptr;        /* owned by the providing module */
};

/* The shared services of a running server, a drill or a pipeline test: the composition root.
 * Not owned by modules. Besides the services every module gets, it carries what the modules
 * provide one another: a module's init provides what it owns (the qoe cube, the running
 * catalog, the SLO set, ...) and later modules, handlers and subscribers find it by name
 * through the owner's typed accessor (qoe_cube_of, catalog_borrow, slo_set_of). The list is
 * written only while modules start and stop, before the HTTP workers run and after they
 * stop, so reading it needs no lock. */
struct oc_app {
    const struct oc_config *cfg; /* settings, read-only */
    struct oc_clock *clock;      /* the injected clock */
    struct oc_bus *bus;          /* in-process events */
    struct oc_metrics *metrics;  /* /metrics collectors */
    struct store *store;         /* the operational store; NULL when not open */
    struct http_server *http;    /* NULL outside `serve` */
    struct oc_provided provided[OC_APP_MAX_PROVIDED]; /* first nprovided in use */
    int nprovided;
    struct oc_running running[OC_APP_MAX_MODULES]; /* started, in start order */
    int nrunning;
    struct oc_timer_slot timers[OC_APP_MAX_TIMERS]; /* of the running modules, in order */
    int ntimers;
    /* With several control-plane replicas (lease.postgres): 1 while this one holds the lease,
     * and only then do the .leased timers run. NULL: they always run. */
    int (*leased)(void *arg);
    void *leased_arg;
};

/* Makes ptr (owned by the caller, which withdraws it before freeing it) findable under name
 * (static storage). 0, OC_ECONFLICT when the name is taken, or OC_ETOOBIG when full. */
int oc_app_provide(struct oc_app *app, const char *name, void *ptr);
/* The instance provided under name, or NULL (nothing provides it: its module is not
 * running). */
void *oc_app_find(const struct oc_app *app, const char *name);
/* Removes what was provided under name (a no-op when nothing was). */
void oc_app_withdraw(struct oc_app *app, const char *name);

/* 1 when name is in the comma-separated list, or the list is "all". */
int oc_module_listed(const char *list, const char *name);
/* Starts the modules of table (ending in NULL) that list names ("all", or "a,b"), in table
 * order: init, then the subscriptions of its subs table with its state, then its timers, due
 * one period after the clock's now. Stops at the first init that fails and returns its
 * error (the modules started so far stay started: call oc_app_stop). 0 on success. */
int oc_app_start(struct oc_app *app, const struct oc_module *const *table, const char *list);
/* Runs, in start order, each module timer due at now_ms (then due one period later, or one
 * period after now when it fell further behind) and drains the bus after each. Call from
 * one thread, holding no lock. */
void oc_app_tick(struct oc_app *app, int64_t now_ms);
/* Drains the bus, removes the modules' subscriptions and stops them in reverse order. */
void oc_app_stop(struct oc_app *app);
/* Calls every running module's reload in order, then drains the bus; each appends a sentence
 * to say ("; " between them). Returns how many failed. */
int oc_app_reload(struct oc_app *app, struct oc_buf *say);

/* A periodic task run on the server's main loop. */
struct oc_module_timer {
    const char *name;                            /* for logs */
    int interval_ms;                             /* period */
    void (*fn)(struct oc_app *app, void *state); /* runs on the main thread */
};

/* A bus subscription of a module: fn is called with the module's state as arg. */
struct oc_module_sub {
    const char *topic; /* a core/topics.h constant, or "*" */
    void (*fn)(const char *topic, const json_t *payload, void *state);
};

struct oc_module {
    const char *name;    /* as given to --modules */
    const char *summary; /* one line for --help */
    /* Creates the module's state; 0 or a negative oc_err (start-up fails, naming the module). */
    int (*init)(struct oc_app *app, void **state /* OUT */);
    const struct http_route *routes;      /* NULL or a table ending in {0} */
    const struct oc_module_timer *timers; /* NULL or a table ending in {0} */
    /* 1: its timers must run in one replica only: with lease.postgres they run while this
     * replica holds the lease (store/lease.h) */
    int timers_leased;
    /* Flushes and frees state; called once, after the HTTP workers have stopped. */
    void (*stop)(struct oc_app *app, void *state);
    const struct oc_module_sub *subs; /* NULL or a table ending in {0} */
    /* The module's settings: NULL or rows ending in {0} whose offsets point into the
     * module's own options struct of opts_size bytes. The config holds one such block per
     * module (config_module_opts); config/ parses, documents and defaults them. */
    const struct oc_setting *settings;
    size_t opts_size; /* sizeof the options struct; 0 without settings */
    /* SIGHUP: re-reads the module's files while serving, on the main thread, and appends one
     * sentence of what it did to say ("catalog: 23 services from catalog.yaml"); returns 0, or
     * an oc_err after appending why (the module keeps what it had). NULL: nothing to re-read. */
    int (*reload)(struct oc_app *app, void *state, struct oc_buf *say);
};

#endif
