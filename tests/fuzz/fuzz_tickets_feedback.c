/*
 * fuzz_tickets_feedback.c - fuzzes the viewer-feedback intake (tickets/feedback.c): the input
 * is POST /v1/feedback's body, read with a batch cap of 4.
 *
 * Besides not crashing: a body that parses gives 1 to 4 replies, each of a known kind with a
 * score in its range, NUL-terminated fields within their caps, a tier that is empty or one of
 * the three, and a non-negative time; a refusal says why.
 */
#include "tickets/tickets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tickets_feedback f[4];
    char err[300];
    int n = -1;
    err[0] = '\0';
    if (tickets_feedback_parse((const char *)data, size, f, 4, &n, err, sizeof err) != 0) {
        if (!err[0] || n != 0)
            abort();
        return 0;
    }
    if (n < 1 || n > 4)
        abort();
    for (int i = 0; i < n; i++) {
        const struct tickets_feedback *r = &f[i];
        if (r->kind != TICKETS_NPS && r->kind != TICKETS_CSAT)
            abort();
        if (r->score < (r->kind == TICKETS_NPS ? 0 : 1) ||
            r->score > (r->kind == TICKETS_NPS ? 10 : 5))
            abort();
        if (strlen(r->text) >= sizeof r->text || strlen(r->id) > TICKETS_ID_MAX ||
            strlen(r->segment) >= sizeof r->segment || strlen(r->account) >= sizeof r->account)
            abort();
        if (r->tier[0] && strcmp(r->tier, "premium") != 0 && strcmp(r->tier, "standard") != 0 &&
            strcmp(r->tier, "free") != 0)
            abort();
        if (r->at_ms < 0 || r->incident_id < 0)
            abort();
    }
    double v;
    if (tickets_nps(3, 1, 0, &v) != -1 || tickets_nps(3, 1, 4, &v) != 0 || v != 50.0)
        abort();
    return 0;
}
