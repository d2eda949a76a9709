/*
 * serve.c - `oncue serve`: settings, the store, the modules (started by the shared runner,
 * core/module.h), the HTTP workers, the main loop (one tick that runs the module timers due
 * on the app's clock and drains the bus, and signals), and the graceful stop on SIGTERM or
 * SIGINT.
 */
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/suggest.h"
#include "http/http.h"
#include "oncue/builtin.h"
#include "oncue/commands.h"
#include "store/lease.h"
#include "store/store.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TICK_MS 100 /* how often the main loop looks for due module timers */

struct server {
    struct oc_config cfg;
    struct oc_clock clock;
    struct oc_app app;
    struct event_base *base; /* main loop: signals and the tick */
    struct event *tick;      /* runs oc_app_tick every TICK_MS */
    struct oc_lease *lease;  /* with lease.postgres */
};

static void usage(const struct oc_config *cfg, FILE *f)
{
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    config_doc_help(cfg, &b);
    fprintf(f,
            "usage: oncue serve [--config FILE] [--data DIR] [--listen ADDR:PORT] "
            "[--modules a,b] [--set NAME=VALUE]...\n\n"
            "Runs the oncue server. With no options it runs every module on the embedded\n"
            "default: data in ./oncue-data, listening on 127.0.0.1:8470.\n\n"
            "  --config FILE        read settings from a YAML file (flags override it)\n"
            "  --set NAME=VALUE     set any setting below\n%s\nmodules (--modules; builtin "
            "and auth always run; ingest brings qoe):\n",
            b.data ? b.data : "");
    for (const struct oc_module *const *m = oc_modules; *m; m++)
        fprintf(f, "  %-10s %s\n", (*m)->name, (*m)->summary);
    oc_buf_free(&b);
}

/* Applies --config first, then every other flag in order. 0, 1 (help shown) or -1. */
static int parse_args(struct oc_config *cfg, int argc, char **argv)
{
    char err[512];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(cfg, stdout);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            if (config_load_file(cfg, argv[++i], err, sizeof(err)) != 0) {
                fprintf(stderr, "oncue serve: %s\n", err);
                return -1;
            }
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char flag[64];
        const char *eq = strchr(a, '=');
        snprintf(flag, sizeof(flag), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
        if (strcmp(flag, "--config") == 0) {
            i++;
            continue;
        }
        if (a[0] != '-') {
            fprintf(stderr,
                    "oncue serve: unexpected argument '%s' (it takes options only; see oncue "
                    "serve --help)\n",
                    a);
            return -1;
        }
        val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(stderr, "oncue serve: %s needs a value (see oncue serve --help)\n", flag);
            return -1;
        }
        const struct oc_setting *s = config_find_flag(cfg, flag);
        int rc;
        if (strcmp(flag, "--set") == 0) {
            const char *e2 = strchr(val, '=');
            char name[128];
            if (!e2) {
                fprintf(stderr, "oncue serve: --set wants NAME=VALUE, got \"%s\"\n", val);
                return -1;
            }
            snprintf(name, sizeof(name), "%.*s", (int)(e2 - val), val);
            rc = config_set(cfg, name, e2 + 1, err, sizeof(err));
        } else if (s) {
            rc = config_set(cfg, s->name, val, err, sizeof(err));
        } else {
            struct oc_suggest sg;
            struct config_walk w = {0};
            char hint[160];
            oc_suggest_init(&sg, flag, strlen(flag));
            oc_suggest_add(&sg, "--config");
            oc_suggest_add(&sg, "--set");
            for (const struct oc_setting *x; (x = config_walk(cfg, &w)) != NULL;)
                oc_suggest_add(&sg, x->flag);
            fprintf(stderr, "oncue serve: unknown option %s%s (see oncue serve --help)\n", flag,
                    oc_suggest_hint(&sg, hint, sizeof hint));
            return -1;
        }
        if (rc != 0) {
            fprintf(stderr, "oncue serve: %s\n", err);
            return -1;
        }
    }
    return 0;
}

/* Loads or creates DATA/pii.key and installs it for viewer-id hashing. */
static int load_pii_key(const char *dir)
{
    char path[4096];
    unsigned char key[OC_PII_KEY_LEN];
    snprintf(path, sizeof(path), "%s/pii.key", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, key, sizeof(key));
        close(fd);
        if (n != (ssize_t)sizeof(key))
            return OC_EIO;
    } else {
        randombytes_buf(key, sizeof(key));
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key)) {
            if (fd >= 0)
                close(fd);
            return OC_EIO;
        }
        fsync(fd);
        close(fd);
    }
    oc_pii_set_key(key);
    sodium_memzero(key, sizeof(key));
    return 0;
}

/* Checks that every name in list is a module; 0 or -1 after printing the unknown one. */
static int check_modules(const char *list)
{
    if (strcmp(list, "all") == 0)
        return 0;
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", list);
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        const struct oc_module *const *m = oc_modules;
        while (*m && strcmp((*m)->name, p) != 0)
            m++;
        if (!*m) {
            fprintf(stderr, "oncue serve: unknown module \"%s\" (see oncue serve --help)\n", p);
            return -1;
        }
    }
    return 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *srv = arg;
    oc_app_tick(&srv->app, oc_clock_now_ms(&srv->clock));
}

/* Starts builtin, auth and the selected modules (oc_app_start), mounts their routes and
 * arms the tick. */
static int start_modules(struct server *srv)
{
    struct oc_buf sel, names;
    oc_buf_init(&sel, 4096);
    oc_buf_init(&names, 4096);
    oc_buf_printf(&sel, "builtin,auth,%s", srv->cfg.modules); /* these two always run */
    /* ingest folds into the qoe module's cube: `--modules ingest` (a collector) runs both */
    if (oc_module_listed(srv->cfg.modules, "ingest") && !oc_module_listed(srv->cfg.modules, "qoe"))
        oc_buf_puts(&sel, ",qoe");
    int rc = oc_app_start(&srv->app, oc_modules,
                          strcmp(srv->cfg.modules, "all") == 0 ? "all" : sel.data);
    for (int i = 0; i < srv->app.nrunning; i++) {
        const struct oc_running *r = &srv->app.running[i];
        oc_buf_printf(&names, "%s%s", i ? "," : "", r->mod->name);
        if (rc == 0 && r->mod->routes)
            rc = http_server_add_routes(srv->app.http, r->mod->routes, r->state);
    }
    oc_log_kv(OC_LOG_INFO, "modules started", "modules", names.data ? names.data : "", NULL);
    oc_buf_free(&names);
    oc_buf_free(&sel);
    srv->tick = event_new(srv->base, -1, EV_PERSIST, on_tick, srv);
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(srv->tick, &tv);
    return rc;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct server *srv = arg;
    oc_log(OC_LOG_INFO, "received %s; stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(srv->base);
}

/* SIGHUP: every module re-reads its files; one log line says what changed. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    struct server *srv = arg;
    struct oc_buf say;
    oc_buf_init(&say, 64 << 10);
    int failed = oc_app_reload(&srv->app, &say);
    oc_log(failed ? OC_LOG_WARN : OC_LOG_INFO, "SIGHUP: reloaded: %s%s",
           say.len ? say.data : "nothing to re-read",
           failed ? " (failures keep the old state)" : "");
    oc_buf_free(&say);
}

/* Opens what the modules share: clock, bus, metrics, store, HTTP server (not started). */
static int open_services(struct server *srv)
{
    char err[512];
    enum oc_clock_kind kind = OC_CLOCK_REAL;
    oc_clock_kind_parse(srv->cfg.clock, &kind);
    /* a replay clock is event time only: it starts at 0 and the first event sets it, so a
     * replay of an old day stamps, measures and routes its incidents in that day */
    oc_clock_init(&srv->clock, kind, kind == OC_CLOCK_VIRTUAL ? oc_wall_ms() : 0);
    srv->app.cfg = &srv->cfg;
    srv->app.clock = &srv->clock;
    srv->app.bus = oc_bus_new();
    srv->app.metrics = oc_metrics_new();
    enum store_sync sync =
        strcmp(srv->cfg.store_sync, "normal") == 0 ? STORE_SYNC_NORMAL : STORE_SYNC_FULL;
    struct store_opts so = {.dir = srv->cfg.data_dir,
                            .sync = sync,
                            .backend = srv->cfg.store_backend,
                            .postgres = srv->cfg.store_postgres};
    if (store_open_opts(&so, &srv->app.store, err, sizeof(err)) != 0) {
        /* err names the host, port and database, never the conninfo's password */
        oc_log(OC_LOG_ERROR, "cannot open the store (%s) in %s: %s", srv->cfg.store_backend,
               srv->cfg.data_dir, err);
        return -1;
    }
    if (strcmp(store_backend(srv->app.store), "postgres") == 0)
        oc_log(OC_LOG_WARN, "store on PostgreSQL: the search index is this node's own; with "
                            "several replicas, run search on one of them (docs/deploy.md)");
    if (load_pii_key(srv->cfg.data_dir) != 0) {
        oc_log(OC_LOG_ERROR, "cannot read or create %s/pii.key", srv->cfg.data_dir);
        return -1;
    }
    struct http_server_opts o = {
        .listen = srv->cfg.listen,
        .workers = (int)srv->cfg.http_workers,
        .max_body = (size_t)srv->cfg.http_max_body,
        .max_headers = (size_t)srv->cfg.http_max_header,
        .timeout_s = (int)srv->cfg.http_timeout_s,
        .arena_max = (size_t)srv->cfg.http_arena_max,
        .max_connections = (int)srv->cfg.http_max_conns,
        .max_connections_per_ip = (int)srv->cfg.http_max_conns_per_ip,
        .request_deadline_s = (int)srv->cfg.http_deadline_s,
        .trust_forwarded_for = srv->cfg.http_trust_xff,
    };
    srv->app.http = http_server_new(&o, &srv->app);
    if (srv->cfg.lease_postgres && srv->cfg.lease_postgres[0]) {
        const char *n = srv->cfg.lease_name;
        if (!n[0] || strlen(n) > 100 ||
            strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
                strlen(n)) {
            oc_log(OC_LOG_ERROR, "lease.name: letters, digits, '-', '_' and '.', got '%.80s'", n);
            return -1;
        }
        srv->lease =
            oc_lease_start(srv->cfg.lease_postgres, n, (int)srv->cfg.lease_ttl_s, srv->app.metrics);
        if (!srv->lease)
            return -1;
        srv->app.leased = oc_lease_held;
        srv->app.leased_arg = srv->lease;
    }
    return 0;
}

static void close_services(struct server *srv)
{
    if (srv->tick)
        event_free(srv->tick);
    http_server_destroy(srv->app.http);
    store_close(srv->app.store);
    oc_metrics_destroy(srv->app.metrics);
    oc_bus_destroy(srv->app.bus);
    if (srv->base)
        event_base_free(srv->base);
    config_free(&srv->cfg);
}

/* Runs the main loop until a signal, then stops everything gracefully. */
static int run(struct server *srv)
{
    char err[512];
    struct event *sigint = evsignal_new(srv->base, SIGINT, on_signal, srv);
    struct event *sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv);
    struct event *sighup = evsignal_new(srv->base, SIGHUP, on_hup, srv);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    event_add(sighup, NULL);
    int rc = 1;
    if (http_server_start(srv->app.http, err, sizeof(err)) != 0) {
        oc_log(OC_LOG_ERROR, "%s", err);
        goto out;
    }
    oc_log_kv(OC_LOG_INFO, "oncue serving", "version", ONCUE_VERSION, "data", srv->cfg.data_dir,
              NULL);
    oc_log(OC_LOG_INFO, "listening on %s", http_server_addr(srv->app.http));
    event_base_dispatch(srv->base);
    http_server_stop(srv->app.http, (int)srv->cfg.http_grace_ms);
    oc_log(OC_LOG_INFO, "stopped: %llu requests served",
           (unsigned long long)http_server_requests(srv->app.http));
    rc = 0;
out:
    event_free(sigint);
    event_free(sigterm);
    event_free(sighup);
    return rc;
}

int oc_serve_main(int argc, char **argv)
{
    struct server *srv = oc_calloc(1, sizeof(*srv));
    int rc = 2;
    config_init(&srv->cfg, oc_modules);
    int pa = parse_args(&srv->cfg, argc, argv);
    if (pa != 0) {
        rc = pa == 1 ? 0 : 2;
        config_free(&srv->cfg);
        free(srv);
        return rc;
    }
    enum oc_log_level lvl = OC_LOG_INFO;
    oc_log_level_parse(srv->cfg.log_level, &lvl);
    oc_log_set_text(srv->cfg.log_format && strcmp(srv->cfg.log_format, "text") == 0);
    oc_log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);
    rc = 1;
    if (sodium_init() < 0 || check_modules(srv->cfg.modules) != 0)
        goto out;
    srv->base = event_base_new();
    if (open_services(srv) != 0 || start_modules(srv) != 0)
        goto stop;
    rc = run(srv);
stop:
    oc_app_stop(&srv->app);
    oc_lease_stop(srv->lease); /* after the timers: the next replica takes over at once */
out:
    close_services(srv);
    free(srv);
    return rc;
}
