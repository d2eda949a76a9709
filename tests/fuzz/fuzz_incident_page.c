/*
 * fuzz_incident_page.c - fuzzes the query values of GET /v1/incidents (incident_page_parse,
 * incident/actions.c): the input is state, limit and before separated by newlines (a missing
 * piece is an absent parameter), as any client may send them.
 *
 * Besides not crashing or reading past the input: an accepted query has a limit from 1 to
 * INCIDENT_PAGE_MAX and a before of 0 or more; a refused one names state, limit or before.
 */
#include "core/err.h"
#include "incident/incident.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *part[3] = {NULL, NULL, NULL}, err[160];
    struct incident_page_req pr;
    size_t start = 0;
    int n = 0;
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (size_t i = 0; i <= size && n < 3; i++) {
        if (i == size || buf[i] == '\n') {
            buf[i] = '\0';
            part[n++] = buf + start;
            start = i + 1;
        }
    }
    memset(err, 'Z', sizeof err);
    int rc = incident_page_parse(part[0], part[1], part[2], &pr, err, sizeof err);
    if (rc == 0) {
        if (pr.limit < 1 || pr.limit > INCIDENT_PAGE_MAX || pr.before < 0)
            abort();
        if (!part[1] && pr.limit != INCIDENT_PAGE_DEFAULT && pr.limit != INCIDENT_PAGE_MAX)
            abort();
    } else if (rc != OC_EINVAL ||
               (strncmp(err, "state: ", 7) != 0 && strncmp(err, "limit: ", 7) != 0 &&
                strncmp(err, "before: ", 8) != 0)) {
        abort();
    }
    free(buf);
    return 0;
}
