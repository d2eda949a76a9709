/*
 * web.h - the web console: its bundle embedded in the binary and served at / and /assets/,
 * and the live event stream GET /v1/stream (server-sent events) it listens to.
 *
 * The bundle is web/dist/ as committed; at build time cmake/bin2c.c turns each file into a
 * byte array (and its gzip form) with path, content type, length and ETag, linked into
 * oncue as web_assets[]. The module relays the bus topics a console shows (every incident.*,
 * rca.localized, mitigation.applied/reverted, alert.fired/resolved, steer.policy_changed)
 * into a ring of the last WEB_RING_SIZE events, from which each open stream is fed on its
 * HTTP worker (http_stream_start). The contract (formats, headers) is in docs/contracts.md
 * "Web console"; the design in docs/internals/web.md.
 */
#ifndef OC_WEB_WEB_H
#define OC_WEB_WEB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oc_buf;
struct oc_module;

/* One embedded file of web/dist/ (generated into the build tree by cmake/bin2c.c). */
struct web_asset {
    const char *path;          /* "/index.html", "/assets/app.js" */
    const char *type;          /* Content-Type */
    const unsigned char *data; /* the bytes (NUL-terminated past len) */
    size_t len;                /* bytes */
    const unsigned char *gz;   /* gzip -9n form, or NULL when it would not be smaller */
    size_t gz_len;             /* its bytes */
    const char *etag;          /* strong ETag of data, quoted */
    const char *gz_etag;       /* strong ETag of gz, quoted (NULL without gz) */
};

/* Every embedded file, ending in {0}. */
extern const struct web_asset web_assets[];

/* The embedded file at path ("/index.html"), or NULL. */
const struct web_asset *web_asset_find(const char *path);
/* 1 when an Accept-Encoding value (NULL: absent) accepts gzip (a "gzip" or "*" coding whose
 * q is not 0), else 0. */
int web_accepts_gzip(const char *accept_encoding);
/* 1 when an If-None-Match value (NULL: absent) names etag (weak comparison) or is "*". */
int web_etag_matches(const char *if_none_match, const char *etag);

#define WEB_RING_SIZE      1024 /* events a reconnecting client can catch up on */
#define WEB_EVENT_DATA_MAX 512  /* bytes of one event's data line */
#define WEB_ID_MAX         128  /* bytes kept of an incident or alert id in an event */

struct web_ring;

/* Creates an empty ring whose first event gets sequence number first_seq (> 0). Free with
 * web_ring_destroy. Thread-safe: one mutex, a leaf lock. */
struct web_ring *web_ring_new(uint64_t first_seq);
/* Frees the ring (NULL is a no-op). */
void web_ring_destroy(struct web_ring *r);
/* 1 when the console relays topic (see above), else 0. */
int web_topic_relayed(const char *topic);
/* Appends the event of a relayed topic, its payload (borrowed) read through the readers of
 * core/topics.h, stamped at_ms: returns its sequence number, or 0 when topic is not relayed. */
uint64_t web_ring_publish(struct web_ring *r, const char *topic, const json_t *payload,
                          int64_t at_ms);
/* The newest sequence number (first_seq - 1 while empty). */
uint64_t web_ring_newest(struct web_ring *r);
/* Appends to b the server-sent-event frames of the events after *cursor (the last one a
 * client has) and moves *cursor to the newest. When some of those left the ring, or *cursor
 * is not a number this ring gave out, appends one "reset" frame instead. Returns the number
 * of frames appended. */
int web_ring_read(struct web_ring *r, uint64_t *cursor, struct oc_buf *b);
/* The cursor for a client's Last-Event-ID value: the newest when absent (live events only),
 * the id when it is a decimal number, else 0 (the client then gets a reset). */
uint64_t web_ring_cursor(struct web_ring *r, const char *last_event_id);

extern const struct oc_module web_module;

#endif
