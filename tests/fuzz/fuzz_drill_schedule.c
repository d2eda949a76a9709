/*
 * fuzz_drill_schedule.c - libFuzzer target for drill calendars (`oncue drill schedule FILE`,
 * operator input): the YAML `drills:` list with its items' keys, names, scenarios, cadences,
 * viewers, seeds and services. Any crash, sanitizer report or leak is a bug. The committed
 * corpus is in tests/fuzz/corpus/drill_schedule/.
 */
#include "drill/drill.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    int n = drill_schedule_parse((const char *)data, size, err, sizeof(err));
    if (n < 0 && strncmp(err, "schedule", 8) != 0 && strcmp(err, "out of memory") != 0) {
        fprintf(stderr, "an error that does not name the file: %s\n", err);
        __builtin_trap();
    }
    return 0;
}
