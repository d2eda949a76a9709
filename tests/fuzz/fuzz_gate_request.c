/*
 * fuzz_gate_request.c - fuzzes what a gate's caller sends: the input is the body of POST
 * /v1/gates/{service} (parsed as JSON, then gate_request_parse), and its first line is also
 * read as a slice (gate_slice_parse).
 *
 * Besides not crashing: each parser answers 0, or OC_EINVAL with a reason; a parsed slice
 * formats back into text that parses to the same terms; a parsed request's canary and
 * baseline come together and its metrics are canary metrics.
 */
#include "gate/gate.h"
#include "core/err.h"
#include "core/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The slice's round trip through gate_slice_format. */
static void slice_round_trip(const struct gate_slice *s)
{
    char text[GATE_MAX_TERMS * (QOE_MAX_DIM_VALUE + 32)], why[300] = "";
    struct gate_slice back;
    gate_slice_format(s, text, sizeof text);
    if (gate_slice_parse(text, &back, why, sizeof why) != 0 || back.n != s->n)
        abort();
    for (int i = 0; i < s->n; i++)
        if (back.t[i].dim != s->t[i].dim || strcmp(back.t[i].value, s->t[i].value) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[600] = "";
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    char *first = malloc(n + 1);
    memcpy(first, data, n);
    first[n] = 0;
    struct gate_slice s;
    int rc = gate_slice_parse(first, &s, why, sizeof why);
    if (rc != 0 && (rc != OC_EINVAL || !why[0]))
        abort();
    if (rc == 0)
        slice_round_trip(&s);
    free(first);

    json_t *body = NULL;
    if (oc_json_parse((const char *)data, size, &body, why, sizeof why) != 0)
        return 0;
    struct gate_request r;
    why[0] = 0;
    rc = gate_request_parse(body, &r, why, sizeof why);
    if (rc != 0 && (rc != OC_EINVAL || !why[0]))
        abort();
    if (rc == 0) {
        if (r.has_canary && (r.canary.n < 1 || r.baseline.n < 1))
            abort();
        if (r.metrics & ~GATE_METRICS_ALL)
            abort();
        gate_request_free(&r);
    }
    json_decref(body);
    return 0;
}
