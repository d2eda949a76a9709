/*
 * fuzz_scrape_otlp.c - fuzzes the OTLP/HTTP JSON metrics reader (scrape/otlp.c) with the
 * bodies a pushing service may post: whatever JSON it is, the exposition text it becomes
 * reads back whole (names and labels are spelled the Prometheus way), or is refused naming
 * a line; never a crash.
 */
#include "scrape/scrape.h"
#include "scrape/scrape_int.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int none(void *arg, const struct scrape_sample *s)
{
    (void)arg;
    (void)s;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    const json_t *rm;
    size_t i;
    char svc[SCRAPE_LABEL_VALUE_MAX], why[300], err[300];
    if (!doc)
        return 0;
    json_array_foreach(json_object_get(doc, "resourceMetrics"), i, rm)
    {
        struct oc_buf b;
        int rejected = 0;
        oc_buf_init(&b, 1u << 22);
        scrape_otlp_service(rm, svc, sizeof svc);
        int n = scrape_otlp_text(rm, &b, &rejected, why, sizeof why);
        if (n < 0 || rejected < 0)
            abort();
        int rc = scrape_expo_parse(b.data ? b.data : "", b.len, 0, none, NULL, err, sizeof err);
        if (rc != 0 && strncmp(err, "line ", 5) != 0)
            abort();
        oc_buf_free(&b);
    }
    json_decref(doc);
    return 0;
}
