/*
 * fuzz_tickets_routing.c - fuzzes the routing file reader (tickets/route.c, on the flat YAML
 * walker of tickets/map.c) and the pick over what it read.
 *
 * Besides not crashing: errors say "routes.yaml:LINE:", at most TICKETS_ROUTES_MAX rules are
 * kept, every rule has a queue and a tier the pick knows, each rule's line is within the
 * input, and a pick returns a matching rule (or none) with a priority of 1 to 4.
 */
#include "tickets/tickets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tickets_routing rt;
    static const int mins[TICKETS_NPRIO + 1] = {0, 15, 60, 240, 1440};
    static const char *const tiers[] = {"", "vip", "premium", "standard", "free"};
    char err[300];
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    rt.n = 0;
    if (tickets_routing_parse("routes.yaml", (const char *)data, size, &rt, err, sizeof err) != 0) {
        if (strncmp(err, "routes.yaml:", 12) != 0)
            abort();
        return 0;
    }
    if (rt.n < 0 || rt.n > TICKETS_ROUTES_MAX)
        abort();
    for (int i = 0; i < rt.n; i++) {
        const struct tickets_route_rule *r = &rt.r[i];
        int known = 0;
        for (int k = 0; k < 5; k++)
            known |= strcmp(r->tier, tiers[k]) == 0;
        if (!r->queue[0] || !known || r->line < 1 || r->line > lines || r->respond_min < 0)
            abort();
    }
    /* pick for each rule's own tags: a rule always matches (its own or a more specific one) */
    for (int i = 0; i < rt.n && i < 16; i++) {
        struct tickets_tags g;
        struct tickets_route out;
        memset(&g, 0, sizeof g);
        memcpy(g.service, rt.r[i].service, sizeof g.service);
        memcpy(g.segment, rt.r[i].segment, sizeof g.segment);
        g.vip = strcmp(rt.r[i].tier, "vip") == 0;
        if (!g.vip)
            memcpy(g.tier, rt.r[i].tier, sizeof g.tier);
        tickets_route_pick(&rt, &g, "support", mins, &out);
        if (out.rule < 0 || out.rule >= rt.n || out.prio < TICKETS_P_URGENT ||
            out.prio > TICKETS_P_LOW || !out.queue[0] || out.respond_min < 1)
            abort();
    }
    return 0;
}
