/*
 * web_int.h - internals shared by the files of src/web/ (not for other folders).
 */
#ifndef OC_WEB_WEB_INT_H
#define OC_WEB_WEB_INT_H

#include "web/web.h"
#include "http/http.h"

#include <stdatomic.h>

struct oc_app;

/* The module's settings. */
struct web_opts {
    int64_t max_streams; /* web.max_streams */
};

/* The module's state: the routes' state and the subscriber's argument. */
struct web {
    struct oc_app *app;    /* shared services */
    struct web_ring *ring; /* the relayed events; owned */
    int max_streams;       /* open streams allowed */
    _Atomic int streams;   /* open now */
};

/* GET / : index.html. */
void web_index_get(struct http_req *req);
/* GET /assets/... : one embedded asset, or 404. */
void web_asset_get(struct http_req *req);
/* GET /v1/stream : the live events, as server-sent events. */
void web_stream_get(struct http_req *req);

#endif
