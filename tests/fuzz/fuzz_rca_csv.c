/*
 * fuzz_rca_csv.c - libFuzzer target for the root-cause CSV reader (src/rca/csv.c).
 *
 * Parses the input as a CSV; when it is accepted, also localizes at its last bin and renders
 * both reports, so the engine meets odd data (NaN-free by contract, but zeros, negatives,
 * one-leaf sets, duplicate rows). Every rejection must carry a "name:LINE: " message.
 */
#include "core/buf.h"
#include "rca/rca.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rca_data *d = NULL;
    char err[512] = "";
    if (rca_csv_parse("fuzz.csv", (const char *)data, size, &d, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz.csv:", 9) != 0)
            abort();
        return 0;
    }
    struct rca_result *r = malloc(sizeof(*r));
    struct oc_buf b;
    oc_buf_init(&b, 1u << 20);
    if (r && rca_run(d, rca_data_last_ts(d), NULL, r) == 0) {
        rca_result_json(d, r, 0, &b);
        rca_result_text(d, r, 0, &b);
    }
    oc_buf_free(&b);
    free(r);
    rca_data_destroy(d);
    return 0;
}
