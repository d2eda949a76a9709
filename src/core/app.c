/*
 * app.c - the composition root (see module.h): the registry of provided instances (a short
 * list searched by name, written only while modules start and stop) and the module runner
 * that `serve`, the drill and the pipeline tests share: start, timers on the app's clock,
 * bus draining, stop.
 */
#include "core/module.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <string.h>

int oc_app_provide(struct oc_app *app, const char *name, void *ptr)
{
    if (oc_app_find(app, name))
        return OC_ECONFLICT;
    if (app->nprovided == OC_APP_MAX_PROVIDED)
        return OC_ETOOBIG;
    app->provided[app->nprovided++] = (struct oc_provided){name, ptr};
    return 0;
}

void *oc_app_find(const struct oc_app *app, const char *name)
{
    for (int i = 0; app && i < app->nprovided; i++)
        if (strcmp(app->provided[i].name, name) == 0)
            return app->provided[i].ptr;
    return NULL;
}

void oc_app_withdraw(struct oc_app *app, const char *name)
{
    int j = 0;
    for (int i = 0; i < app->nprovided; i++)
        if (strcmp(app->provided[i].name, name) != 0)
            app->provided[j++] = app->provided[i];
    app->nprovided = j;
}

int oc_module_listed(const char *list, const char *name)
{
    if (strcmp(list, "all") == 0)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (end ? 1 : 0);
    }
    return 0;
}

/* Subscribes r's handlers and schedules r's timers. 0 or OC_ETOOBIG. */
static int wire(struct oc_app *app, const struct oc_running *r, int64_t now_ms)
{
    for (const struct oc_module_sub *s = r->mod->subs; app->bus && s && s->topic; s++)
        if (oc_bus_subscribe(app->bus, s->topic, s->fn, r->state) != 0)
            return OC_ETOOBIG;
    for (const struct oc_module_timer *t = r->mod->timers; t && t->name; t++) {
        if (app->ntimers == OC_APP_MAX_TIMERS)
            return OC_ETOOBIG;
        app->timers[app->ntimers++] =
            (struct oc_timer_slot){t, r->state, now_ms + t->interval_ms, r->mod->timers_leased};
    }
    return 0;
}

int oc_app_start(struct oc_app *app, const struct oc_module *const *table, const char *list)
{
    int64_t now = app->clock ? oc_clock_now_ms(app->clock) : 0;
    for (const struct oc_module *const *m = table; *m; m++) {
        if (!oc_module_listed(list, (*m)->name))
            continue;
        if (app->nrunning == OC_APP_MAX_MODULES)
            return OC_ETOOBIG;
        struct oc_running *r = &app->running[app->nrunning];
        *r = (struct oc_running){*m, NULL};
        int rc = (*m)->init ? (*m)->init(app, &r->state) : 0;
        if (rc != 0) {
            oc_log(OC_LOG_ERROR, "module %s failed to start: %s", (*m)->name, oc_strerror(rc));
            return rc;
        }
        app->nrunning++;
        if ((rc = wire(app, r, now)) != 0)
            return rc;
    }
    return 0;
}

void oc_app_tick(struct oc_app *app, int64_t now_ms)
{
    for (int i = 0; i < app->ntimers; i++) {
        struct oc_timer_slot *s = &app->timers[i];
        if (now_ms < s->due_ms)
            continue;
        if (!s->leased || !app->leased || app->leased(app->leased_arg)) {
            s->t->fn(app, s->state);
            oc_bus_drain(app->bus);
        }
        s->due_ms += s->t->interval_ms;
        if (s->due_ms <= now_ms)
            s->due_ms = now_ms + s->t->interval_ms;
    }
}

int oc_app_reload(struct oc_app *app, struct oc_buf *say)
{
    int failed = 0;
    for (int i = 0; i < app->nrunning; i++) {
        const struct oc_running *r = &app->running[i];
        if (!r->mod->reload)
            continue;
        if (say->len)
            oc_buf_puts(say, "; ");
        failed += r->mod->reload(app, r->state, say) != 0;
        oc_bus_drain(app->bus);
    }
    return failed;
}

void oc_app_stop(struct oc_app *app)
{
    oc_bus_drain(app->bus);
    for (int i = app->nrunning - 1; i >= 0; i--) {
        const struct oc_running *r = &app->running[i];
        for (const struct oc_module_sub *s = r->mod->subs; app->bus && s && s->topic; s++)
            oc_bus_unsubscribe(app->bus, s->fn, r->state);
        if (r->mod->stop)
            r->mod->stop(app, r->state);
    }
    app->nrunning = 0;
    app->ntimers = 0;
}
