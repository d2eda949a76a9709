/*
 * fuzz_scrape_expo.c - fuzzes the exposition reader (scrape/expo.c) with the bytes an
 * exporter may answer, as Prometheus text and as OpenMetrics, then keeps what it reads as a
 * target's series (poll.c) with a small series cap.
 *
 * Besides not crashing: a refused input names a line ("line N: ..."), every sample keeps the
 * caps (labels, name and value lengths), and the series kept never pass the cap.
 */
#include "scrape/scrape.h"
#include "scrape/scrape_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *arg, const struct scrape_sample *s)
{
    (void)arg;
    if (s->nlabels < 0 || s->nlabels > SCRAPE_MAX_LABELS || !s->name[0] ||
        strlen(s->name) >= SCRAPE_NAME_MAX)
        abort();
    for (int i = 0; i < s->nlabels; i++)
        if (strlen(s->label_value[i]) >= SCRAPE_LABEL_VALUE_MAX ||
            strlen(s->label_name[i]) >= SCRAPE_NAME_MAX)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    for (int om = 0; om < 2; om++) {
        if (scrape_expo_parse((const char *)data, size, om, check, NULL, err, sizeof err) != 0 &&
            strncmp(err, "line ", 5) != 0)
            abort();
    }
    struct scrape_state ss = {0};
    struct scrape_target t = {0};
    ss.o.max_series = 16;
    for (int i = 0; i < 2; i++)
        if (scrape_ingest(&ss, &t, (const char *)data, size, 0, 60000 * (i + 1), err, sizeof err) ==
                0 &&
            t.nseries > 16)
            abort();
    scrape_series_clear(&t);
    return 0;
}
