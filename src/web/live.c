/*
 * live.c - GET /v1/stream: the console's live events as server-sent events.
 *
 * Each stream keeps a cursor into the module's ring (ring.c) and is pumped by its HTTP
 * worker every HTTP_STREAM_TICK_MS (http/stream.c): the first pump sends "retry: 2000", then
 * each pump sends the events after the cursor, or a ": keepalive" comment when nothing was
 * written for WEB_KEEPALIVE_MS (which is also how a client that left is noticed). A client
 * reconnecting with Last-Event-ID resumes after that event, or gets a reset frame when the
 * event has left the ring. At most web.max_streams streams are open (503 past it).
 */
#include "web/web_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define WEB_KEEPALIVE_MS 15000 /* a comment after this long without a write */
#define WEB_RETRY_MS     2000  /* the reconnection delay the client is told */

/* One open stream. */
struct live {
    struct web *web;       /* the module (outlives every stream: streams end first) */
    uint64_t cursor;       /* the last event sent */
    int greeted;           /* the retry line was sent */
    int64_t last_write_ns; /* oc_mono_ns of the last write */
};

/* pump: writes what is new; -1 ends the stream (the client is too far behind). */
static int live_pump(struct http_stream *s, void *arg)
{
    struct live *l = arg;
    struct oc_buf b;
    int64_t now = oc_mono_ns();
    int rc = 0;
    oc_buf_init(&b, HTTP_STREAM_MAX_BUFFER);
    if (!l->greeted) {
        oc_buf_printf(&b, "retry: %d\n\n", WEB_RETRY_MS);
        l->greeted = 1;
    }
    web_ring_read(l->web->ring, &l->cursor, &b);
    if (b.len == 0 && now - l->last_write_ns >= (int64_t)WEB_KEEPALIVE_MS * 1000000)
        oc_buf_puts(&b, ": keepalive\n\n");
    if (b.len > 0) {
        rc = http_stream_write(s, b.data, b.len) == 0 ? 0 : -1;
        l->last_write_ns = now;
    }
    oc_buf_free(&b);
    return rc;
}

static void live_free(void *arg)
{
    struct live *l = arg;
    atomic_fetch_sub(&l->web->streams, 1);
    free(l);
}

void web_stream_get(struct http_req *req)
{
    struct web *w = req->state;
    http_set_header(req, "Cache-Control", "no-cache");
    http_set_header(req, "X-Accel-Buffering", "no"); /* proxies must not hold events back */
    if (strcmp(req->method, "HEAD") == 0) {
        http_set_header(req, "Content-Type", "text/event-stream");
        http_reply(req, 200, NULL, NULL, 0);
        return;
    }
    int open = atomic_fetch_add(&w->streams, 1);
    if (open >= w->max_streams) {
        atomic_fetch_sub(&w->streams, 1);
        http_problem(req, 503, "%d event streams are open, the most web.max_streams allows", open);
        return;
    }
    struct live *l = oc_calloc(1, sizeof(*l));
    l->web = w;
    l->cursor = web_ring_cursor(w->ring, http_header(req, "Last-Event-ID"));
    l->last_write_ns = oc_mono_ns();
    http_stream_start(req, "text/event-stream", live_pump, live_free, l);
}
