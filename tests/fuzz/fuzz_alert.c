/*
 * fuzz_alert.c - fuzzes the parsers of alert/: the Alertmanager webhook translation
 * (untrusted HTTP bodies), on inputs starting with "rules:" the rule loader, and on inputs
 * starting with "apiVersion:" (or "- apiVersion:", a list of objects) the OpenSLO reader with
 * the rules its alert policies make.
 *
 * Besides not crashing: a translated webhook gives at most ALERT_MAX_AM events, each with
 * topic alert.fired or alert.resolved and an alert_id starting with "am/"; a failed rule
 * parse names a line ("NAME:LINE: ...").
 */
#include "alert/alert.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void webhook(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, 0, NULL), *out = NULL, *e;
    char err[256];
    size_t i;
    if (!body)
        return;
    if (alert_am_translate(body, 1772409600, &out, err, sizeof(err)) == 0) {
        if (json_array_size(out) > ALERT_MAX_AM)
            abort();
        json_array_foreach(out, i, e)
        {
            const char *t = json_string_value(json_object_get(e, "topic"));
            const char *id =
                json_string_value(json_object_get(json_object_get(e, "payload"), "alert_id"));
            if (!t || (strcmp(t, "alert.fired") && strcmp(t, "alert.resolved")) || !id ||
                strncmp(id, "am/", 3) != 0)
                abort();
        }
        json_decref(out);
    }
    json_decref(body);
}

static void rules(const uint8_t *data, size_t size)
{
    static struct slo_set *slos;
    struct alert_rules *r = NULL;
    char err[512] = "";
    if (!slos && slo_set_load(NULL, &slos, err, sizeof(err)) != 0)
        abort();
    if (alert_rules_parse("f.yaml", (const char *)data, size, slos, &r, err, sizeof(err)) == 0)
        alert_rules_destroy(r);
    else if (strncmp(err, "f.yaml:", 7) != 0)
        abort();
}

static void openslo(const uint8_t *data, size_t size)
{
    struct slo_set *slos = NULL;
    struct alert_rules *r = NULL;
    char err[512] = "";
    if (slo_set_parse("f.yaml", (const char *)data, size, &slos, err, sizeof(err)) != 0) {
        if (strncmp(err, "f.yaml:", 7) != 0)
            abort();
        return;
    }
    if (alert_rules_parse("r.yaml", "rules: []\n", 10, slos, &r, err, sizeof(err)) == 0) {
        for (int i = 0; i < r->n; i++)
            if (r->rules[i].kind != ALERT_BURN_RATE || r->rules[i].npairs < 1 ||
                !slo_find(slos, r->rules[i].slo))
                abort();
        alert_rules_destroy(r);
    }
    slo_set_destroy(slos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if ((size >= 11 && memcmp(data, "apiVersion:", 11) == 0) ||
        (size >= 13 && memcmp(data, "- apiVersion:", 13) == 0))
        openslo(data, size);
    else if (size >= 6 && memcmp(data, "rules:", 6) == 0)
        rules(data, size);
    else
        webhook(data, size);
    return 0;
}
