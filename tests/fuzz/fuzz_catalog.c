/*
 * fuzz_catalog.c - libFuzzer target for the service catalog's parsers: the YAML loader (and,
 * on what loads, the lint, the graph queries, routing and the JSON round trip of every
 * service), the JSON service body parser, slices and times. Any crash, sanitizer report or
 * leak is a bug. The committed corpus is in tests/fuzz/corpus/catalog/.
 */
#include "catalog/catalog.h"
#include "core/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Exercises the queries over a catalog that loaded. */
static void queries(const struct catalog *c)
{
    struct oc_buf b;
    struct catalog_blast br;
    struct catalog_route r;
    struct catalog_slice all = {0};
    char msg[CATALOG_ERR_MAX];
    oc_buf_init(&b, 1 << 20);
    catalog_lint(c, &b);
    oc_buf_free(&b);
    catalog_find_cycle(c, msg, sizeof(msg), NULL);
    for (int i = 0; i < c->nservices && i < 64; i++) {
        const struct catalog_service *s = c->services[i];
        if (catalog_blast_radius(c, s->name, &br) == 0)
            catalog_blast_free(&br);
        catalog_route_service(c, s->name, 0, &r);
        for (int k = 0; k < s->nserves; k++)
            catalog_route(c, &s->serves[k], 0, &r);
        json_t *j = catalog_service_to_json(s);
        struct catalog_service *back = NULL;
        if (catalog_service_from_json(j, &back, msg, sizeof(msg)) == 0) {
            catalog_check_refs(c, back, msg, sizeof(msg));
            catalog_service_destroy(back);
        }
        json_decref(j);
    }
    all.v[BEACON_CDN] = "primary";
    catalog_route(c, &all, 0, &r);
    for (int i = 0; i < c->nteams; i++) {
        struct catalog_shift sh;
        catalog_oncall(c, c->teams[i].name, 1795635780000LL, &sh);
        json_decref(catalog_team_to_json(&c->teams[i]));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct catalog *c = NULL;
    char err[CATALOG_ERR_MAX];
    if (catalog_load_buf("fuzz.yaml", (const char *)data, size, &c, err, sizeof(err)) == 0)
        queries(c);
    catalog_destroy(c);
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(j)) {
        struct catalog_service *s = NULL;
        if (catalog_service_from_json(j, &s, err, sizeof(err)) == 0)
            catalog_service_destroy(s);
    }
    json_decref(j);
    if (size < 4096) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = '\0';
        struct catalog_slice sl;
        int64_t ms;
        if (catalog_slice_parse(text, &sl, err, sizeof(err)) == 0)
            catalog_slice_free(&sl);
        catalog_time_parse(text, &ms);
        free(text);
    }
    return 0;
}
