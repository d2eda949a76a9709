/*
 * cdnlog.c - the simulator's players seen from the CDN: each beacon event as the Fastly NDJSON
 * log line of the request that carried its CMCD (docs/contracts.md "CMCD and CDN logs"), for
 * `oncue sim --cdn-logs` and `oncue drill --cdn-logs`. A heartbeat is a video segment request
 * (d = playing_ms, br, bsd = rebuffer_ms, bs when it stalled); a request that stalled is
 * logged as a cache miss with a slow first byte, so a fault that makes POPs stall (emea-cdn:
 * "three POPs miss their caches") shows in the edge series of those POPs.
 */
#include "sim/sim.h"
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

#define SIM_TTFB_HIT_MS  15  /* edge time to first byte of a cache hit */
#define SIM_TTFB_MISS_MS 180 /* ... of a miss (fetched from the origin) */

/* Appends s as the inside of a CMCD string (printable ASCII; '"' and '\' escaped) inside a
 * JSON string (so each escape's backslash is escaped again); other bytes become '?'. */
static int cmcd_str(struct oc_buf *b, struct beacon_str s)
{
    int rc = 0;
    for (uint32_t i = 0; i < s.n && rc == 0; i++) {
        char c = s.p[i];
        if (c == '"' || c == '\\')
            rc = oc_buf_puts(b, c == '"' ? "\\\\\\\"" : "\\\\\\\\");
        else
            rc = oc_buf_append(b, c >= 0x20 && c < 0x7f ? &c : "?", 1);
    }
    return rc;
}

/* Appends a dimension as a JSON member when the event has it (printable ASCII only). */
static int member(struct oc_buf *b, const char *name, struct beacon_str v)
{
    if (!v.p || !v.n)
        return 0;
    for (uint32_t i = 0; i < v.n; i++)
        if (v.p[i] < 0x20 || v.p[i] > 0x7e || v.p[i] == '"' || v.p[i] == '\\')
            return 0; /* not a value a CDN logs: left out */
    return oc_buf_printf(b, ",\"%s\":\"%.*s\"", name, (int)v.n, v.p);
}

int sim_cdnlog_append(struct oc_buf *b, const struct beacon_event *ev)
{
    size_t at = b->len;
    int stalled = ev->type == BEACON_HEARTBEAT && ev->rebuffer_ms > 0;
    int rc = oc_buf_printf(b,
                           "{\"timestamp\":\"%lld.%03lld\",\"status\":200,\"cache_status\":"
                           "\"%s\",\"ttfb_ms\":%d",
                           (long long)(ev->ts_ms / 1000), (long long)(ev->ts_ms % 1000),
                           stalled ? "MISS" : "HIT", stalled ? SIM_TTFB_MISS_MS : SIM_TTFB_HIT_MS);
    rc |= member(b, "cdn", ev->dims[BEACON_CDN]);
    rc |= member(b, "pop", ev->dims[BEACON_POP]);
    rc |= member(b, "region", ev->dims[BEACON_REGION]);
    rc |= member(b, "asn", ev->dims[BEACON_ASN]);
    rc |= member(b, "client_as_name", ev->dims[BEACON_ISP]);
    rc |= member(b, "country", ev->dims[BEACON_COUNTRY]);
    rc |= oc_buf_puts(b, ",\"cmcd\":\"sid=\\\"");
    rc |= cmcd_str(b, ev->session);
    rc |= oc_buf_puts(b, "\\\"");
    if (ev->dims[BEACON_TITLE].p) {
        rc |= oc_buf_puts(b, ",cid=\\\"");
        rc |= cmcd_str(b, ev->dims[BEACON_TITLE]);
        rc |= oc_buf_puts(b, "\\\"");
    }
    if (ev->dims[BEACON_LIVE].p)
        rc |= oc_buf_puts(b, ev->dims[BEACON_LIVE].n == 4 ? ",st=l" : ",st=v");
    if (ev->type == BEACON_START && ev->outcome == BEACON_SUCCESS)
        rc |= oc_buf_printf(b, ",sta=s,msd=%lld", (long long)ev->startup_ms);
    else if (ev->type == BEACON_START)
        rc |= oc_buf_puts(b, ev->outcome == BEACON_FAILURE ? ",sta=f" : ",sta=q");
    else if (ev->type == BEACON_ERROR)
        rc |= oc_buf_puts(b, ",sta=f");
    else if (ev->type == BEACON_END)
        rc |= oc_buf_puts(b, ",sta=e");
    else
        rc |= oc_buf_printf(b, ",ot=v,d=%lld,br=%lld,bsd=%lld%s", (long long)ev->playing_ms,
                            (long long)(ev->bitrate_kbps + 0.5), (long long)ev->rebuffer_ms,
                            stalled ? ",bs" : "");
    rc |= oc_buf_puts(b, "\"}\n");
    if (rc) /* the buffer is full: leave it as it was, the caller flushes */
        b->len = at;
    return rc ? -1 : 0;
}
