/*
 * fuzz_config.c - libFuzzer target for the YAML configuration loader.
 *
 * Loads the bytes over the defaults (the server's and every module's), then also applies them as
 * one --set value, and frees everything: any crash, sanitizer report or leak is a bug. The
 * committed corpus is in tests/fuzz/corpus/config/ and replays as an ordinary test under gcc.
 */
#include "config/config.h"
#include "oncue/commands.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oc_config cfg;
    const struct oc_setting *s;
    char err[512];
    config_init(&cfg, oc_modules);
    config_load_buf(&cfg, "fuzz.yaml", (const char *)data, size, err, sizeof(err));
    if (size < 8192) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = '\0';
        struct config_walk w = {0};
        while ((s = config_walk(&cfg, &w)) != NULL)
            config_set(&cfg, s->name, text, err, sizeof(err));
        config_set(&cfg, text, "1", err, sizeof(err));
        free(text);
    }
    config_free(&cfg);
    return 0;
}
