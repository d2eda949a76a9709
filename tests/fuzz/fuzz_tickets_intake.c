/*
 * fuzz_tickets_intake.c - fuzzes the mapped JSON intake (tickets/map.c) and the tagger
 * (tickets/tag.c): the input's first byte picks the format (Freshdesk, Salesforce, generic),
 * the rest is the body; the whole input is also read as a mapping file and as a keyword file
 * (flat YAML), and a mapping that loads is used on the body too.
 *
 * Besides not crashing: a ticket that parses has a valid id and bounded fields, every tag
 * fits its field, and file errors say FILE:LINE.
 */
#include "tickets/tickets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tickets_service svcs[] = {
    {"playback-api", "player|video player"},
    {"auth", "login page"},
};

/* Parses body with m and checks what comes out. */
static void check(const struct tickets_map *m, int f, const char *body, size_t n,
                  const struct tickets_keywords *kw)
{
    static struct tickets_ticket t;
    char err[300];
    if (tickets_parse(m, f, body, n, &t, err, sizeof err) != 0)
        return;
    if (!t.ext_id[0] || strlen(t.ext_id) > TICKETS_ID_MAX || strchr(t.ext_id, ' '))
        abort();
    tickets_tag(&t, kw, svcs, 2);
    if (strlen(t.tags.service) >= sizeof t.tags.service ||
        strlen(t.tags.app_version) >= sizeof t.tags.app_version ||
        strlen(t.tags.region) >= sizeof t.tags.region)
        abort();
    (void)tickets_simhash(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int f = TICKETS_FRESHDESK + data[0] % 3;
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    char err[300];
    struct tickets_map m;
    static struct tickets_keywords kw;
    tickets_keywords_builtin(&kw);
    tickets_map_builtin((enum tickets_format)f, &m);
    check(&m, f, body, n, &kw);
    tickets_map_builtin(TICKETS_GENERIC, &m);
    if (tickets_map_parse("fuzz.yaml", body, n, &m, err, sizeof err) == 0)
        check(&m, TICKETS_GENERIC, body, n, &kw);
    else if (strncmp(err, "fuzz.yaml", 9) != 0)
        abort();
    if (tickets_keywords_parse("kw.yaml", body, n, &kw, err, sizeof err) == 0)
        check(&m, TICKETS_GENERIC, body, n, &kw);
    else if (strncmp(err, "kw.yaml", 7) != 0)
        abort();
    return 0;
}
