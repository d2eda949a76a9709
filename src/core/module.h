/*
 * module.h - what a capability registers to run inside `oncue serve`.
 *
 * Each capability exports one `const struct oc_module` (for example `ingest_module`) and
 * src/oncue/modules.c lists them; `oncue serve --modules a,b` runs a subset. At start the
 * server calls init for each selected module in table order, mounts its routes and starts its
 * timers; at stop it calls stop in reverse order. struct oc_app is what a module gets to
 * reach the shared services; everything in it outlives every module.
 */
#ifndef OC_CORE_MODULE_H
#define OC_CORE_MODULE_H

struct oc_config;
struct oc_clock;
struct oc_bus;
struct oc_metrics;
struct store;
struct http_server;
struct http_route;

/* The shared services of a running server (or a pipeline test). Not owned by modules. */
struct oc_app {
    const struct oc_config *cfg; /* settings, read-only */
    struct oc_clock *clock;      /* the injected clock */
    struct oc_bus *bus;          /* in-process events */
    struct oc_metrics *metrics;  /* /metrics collectors */
    struct store *store;         /* the operational store; NULL when not open */
    struct http_server *http;    /* NULL outside `serve` */
};

/* A periodic task run on the server's main loop. */
struct oc_module_timer {
    const char *name;                            /* for logs */
    int interval_ms;                             /* period */
    void (*fn)(struct oc_app *app, void *state); /* runs on the main thread */
};

struct oc_module {
    const char *name;    /* as given to --modules */
    const char *summary; /* one line for --help */
    /* Creates the module's state; 0 or a negative oc_err (start-up fails, naming the module). */
    int (*init)(struct oc_app *app, void **state /* OUT */);
    const struct http_route *routes;      /* NULL or a table ending in {0} */
    const struct oc_module_timer *timers; /* NULL or a table ending in {0} */
    /* Flushes and frees state; called once, after the HTTP workers have stopped. */
    void (*stop)(struct oc_app *app, void *state);
};

#endif
