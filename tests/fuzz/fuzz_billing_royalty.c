/*
 * fuzz_billing_royalty.c - fuzzes the royalty audit's parsers: the day of
 * /v1/billing/royalties/{day} (billing_day_parse) and the renderings of a report read back
 * from a seal's stored detail (billing_royalty_render over any JSON).
 *
 * Besides not crashing: an accepted day is 10 bytes and the first second of a UTC day that
 * formats back to the same text; a rendering's length is its text's, the same report renders
 * to the same bytes twice, and the CSV starts with its header.
 */
#include "billing/billing.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t day = 0;
    if (billing_day_parse(s, &day) == 0) {
        char back[16];
        time_t t = (time_t)day;
        struct tm tm;
        if (strlen(s) != 10 || day % 86400 != 0 || !gmtime_r(&t, &tm))
            abort();
        strftime(back, sizeof back, "%Y-%m-%d", &tm);
        if (strcmp(back, s) != 0)
            abort();
    }
    json_t *r = json_loadb((const char *)data, size, 0, NULL);
    if (r) {
        for (int csv = 0; csv < 2; csv++) {
            size_t n1, n2;
            char *a = billing_royalty_render(r, csv, &n1), *b = billing_royalty_render(r, csv, &n2);
            if (n1 != strlen(a) || n1 != n2 || memcmp(a, b, n1) != 0)
                abort();
            if (csv && strncmp(a, "day,title,region,plays,attempts,watch_ms\r\n", 42) != 0)
                abort();
            free(a);
            free(b);
        }
        json_decref(r);
    }
    free(s);
    return 0;
}
