/*
 * module.c - the web module: the console's routes, the live event stream, the bus
 * subscription that fills the event ring, and the setting web.max_streams.
 *
 * Routes are public for the bundle (it holds no secret: what it shows comes from the API,
 * which needs a session or a token) and viewer for the stream. The module subscribes to
 * every topic and keeps those the console relays (web_topic_relayed), stamped with the app's
 * clock. Sequence numbers start at the wall clock's milliseconds when the module starts, so
 * an id from an earlier run is older than every id of this one and its client gets a reset.
 */
#include "web/web_int.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/module.h"

#include <stddef.h>
#include <stdlib.h>

static const struct http_route web_routes[] = {
    {"GET", "/", web_index_get, HTTP_PUBLIC, HTTP_DEFAULT_BODY,
     "the web console (index.html; the console routes with #/ fragments)"},
    {"GET", "/assets/{file}", web_asset_get, HTTP_PUBLIC, HTTP_DEFAULT_BODY,
     "a file of the console's bundle (ETag, 304, gzip when accepted)"},
    {"GET", "/assets/{dir}/{file}", web_asset_get, HTTP_PUBLIC, HTTP_DEFAULT_BODY,
     "a file in a folder of the console's bundle"},
    {"GET", "/v1/stream", web_stream_get, HTTP_VIEWER, HTTP_DEFAULT_BODY,
     "live events as server-sent events (incident.*, rca.localized, mitigation.*, alert.*,"
     " steer.policy_changed); Last-Event-ID resumes"},
    {0},
};

#define F(field) offsetof(struct web_opts, field)

static const struct oc_setting settings[] = {
    {"web.max_streams", OC_SETTING_INT, "64", 1, 100000, NULL, F(max_streams), NULL,
     "event streams (GET /v1/stream) open at once; past it 503 with Retry-After"},
    {0},
};

#undef F

static int web_init(struct oc_app *app, void **state)
{
    struct web_opts def;
    const struct web_opts *o = config_module_opts(app->cfg, &web_module, &def);
    struct web *w = oc_calloc(1, sizeof(*w));
    w->app = app;
    w->max_streams = (int)o->max_streams;
    w->ring = web_ring_new((uint64_t)oc_wall_ms());
    *state = w;
    return 0;
}

/* Called after the HTTP workers stopped, so every stream has ended. */
static void web_stop(struct oc_app *app, void *state)
{
    (void)app;
    struct web *w = state;
    if (!w)
        return;
    web_ring_destroy(w->ring);
    free(w);
}

/* Every bus event: the relayed ones enter the ring. */
static void on_event(const char *topic, const json_t *payload, void *state)
{
    struct web *w = state;
    web_ring_publish(w->ring, topic, payload, oc_clock_now_ms(w->app->clock));
}

static const struct oc_module_sub web_subs[] = {
    {"*", on_event},
    {0},
};

const struct oc_module web_module = {
    .name = "web",
    .summary = "the web console (embedded bundle at /) and its live event stream /v1/stream",
    .init = web_init,
    .routes = web_routes,
    .timers = NULL,
    .stop = web_stop,
    .subs = web_subs,
    .settings = settings,
    .opts_size = sizeof(struct web_opts),
};
