/*
 * fuzz_runbook.c - libFuzzer target for runbook files (operator input read by the drill, the
 * runbook module and `oncue runbook check`): the YAML parser with typed steps, and on what
 * parses the lint (with the real `oncue mitigate` option table and mitigation check),
 * rendering and command choice. Any crash, sanitizer report or leak is a bug. The committed
 * corpus is in tests/fuzz/corpus/runbook/.
 */
#include "core/buf.h"
#include "drill/drill.h"
#include "oncue/commands.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct drill_runbook rb;
    struct oc_buf b;
    char err[512];
    oc_buf_init(&b, 1 << 20);
    drill_runbook_lint("fuzz.yaml", (const char *)data, size, &oncue_drill_host, &b);
    if (drill_runbook_parse((const char *)data, size, &rb, err, sizeof(err)) == 0) {
        json_t *vars =
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "region", "EMEA", "cdn", "primary", "alternate",
                      "secondary", "metric", "rebuffering_share", "incident", "INC-1");
        oc_buf_reset(&b);
        drill_runbook_render(&rb, vars, &b);
        oc_buf_reset(&b);
        drill_runbook_command(&rb, vars, &b);
        json_decref(vars);
        drill_runbook_free(&rb);
    }
    oc_buf_free(&b);
    return 0;
}
