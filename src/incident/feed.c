/*
 * feed.c - the status page as an Atom feed (RFC 4287): one entry per published incident
 * (incidents.json's 50) and per scheduled maintenance (the 50 newest windows), each with
 * its updates as HTML content, built from the same documents the public status API serves
 * so that it can show nothing they do not.
 */
#include "incident/incident_int.h"
#include "core/buf.h"

#include <string.h>

#define FEED_MAX (4 << 20) /* bytes of the feed */

/* The IRI that names id for good: under the page's URL when it has one, else a URN. */
static void iri(struct oc_buf *b, const char *base, const char *id)
{
    if (strncmp(base, "http://", 7) == 0 || strncmp(base, "https://", 8) == 0) {
        inc_esc(b, base);
        oc_buf_puts(b, "/status#");
    } else {
        oc_buf_puts(b, "urn:oncue:status:");
    }
    inc_esc(b, id);
}

/* The HTML of an incident's or maintenance's updates (escaped once here, and once more as
 * the entry's content). */
static void content(struct oc_buf *b, const json_t *x)
{
    struct oc_buf h;
    size_t i;
    json_t *u;
    oc_buf_init(&h, FEED_MAX);
    json_array_foreach(json_object_get(x, "incident_updates"), i, u)
    {
        oc_buf_puts(&h, "<p><small>");
        inc_esc(&h, inc_jstr(u, "created_at"));
        oc_buf_puts(&h, "</small><br><strong>");
        inc_esc(&h, inc_jstr(u, "status"));
        oc_buf_puts(&h, "</strong> - ");
        inc_esc(&h, inc_jstr(u, "body"));
        oc_buf_puts(&h, "</p>");
    }
    inc_esc(b, h.data ? h.data : "");
    oc_buf_free(&h);
}

static void entry(struct oc_buf *b, const char *base, const json_t *x)
{
    oc_buf_puts(b, "<entry><id>");
    iri(b, base, inc_jstr(x, "id"));
    oc_buf_puts(b, "</id><title type=\"text\">");
    inc_esc(b, inc_jstr(x, "name"));
    oc_buf_puts(b, "</title><published>");
    inc_esc(b, inc_jstr(x, "created_at"));
    oc_buf_puts(b, "</published><updated>");
    inc_esc(b, inc_jstr(x, "updated_at"));
    oc_buf_puts(b, "</updated><link rel=\"alternate\" type=\"text/html\" href=\"");
    inc_esc(b, inc_jstr(x, "shortlink"));
    oc_buf_puts(b, "\"/><content type=\"html\">");
    content(b, x);
    oc_buf_puts(b, "</content></entry>\n");
}

char *incident_status_atom(struct incident_mgr *m)
{
    const char *base = m->o.public_url ? m->o.public_url : "";
    json_t *incs = incident_status_doc(m, STATUS_INCIDENTS);
    json_t *maint = incident_status_doc(m, STATUS_MAINTENANCES), *x;
    struct oc_buf b;
    size_t i;
    oc_buf_init(&b, FEED_MAX);
    oc_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\"><id>");
    iri(&b, base, "feed");
    oc_buf_puts(&b, "</id><title>Streaming status</title><updated>");
    inc_esc(&b, inc_jstr(json_object_get(incs, "page"), "updated_at"));
    oc_buf_puts(&b, "</updated><author><name>Streaming status</name></author>"
                    "<link rel=\"self\" type=\"application/atom+xml\" href=\"");
    inc_esc(&b, base);
    oc_buf_puts(&b, "/status/feed.atom\"/><link rel=\"alternate\" type=\"text/html\" href=\"");
    inc_esc(&b, base);
    oc_buf_puts(&b, "/status\"/>\n");
    json_array_foreach(json_object_get(incs, "incidents"), i, x) entry(&b, base, x);
    json_array_foreach(json_object_get(maint, "scheduled_maintenances"), i, x) entry(&b, base, x);
    oc_buf_puts(&b, "</feed>\n");
    json_decref(incs);
    json_decref(maint);
    return oc_buf_steal(&b);
}
