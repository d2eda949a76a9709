/*
 * route.c - ticket routing: the routing table (tickets.routing_file, flat YAML rules
 * "SERVICE/SEGMENT/TIER: QUEUE [team=TEAM] [respond_min=N]") and the pick of one ticket's
 * queue, priority (VIP, premium, standard, free) and first-response time. The catalog's part
 * (the owning team, its escalation policy and on-call) is filled by the module.
 */
#include "tickets/tickets_int.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tickets_prio_names[] = {"", "urgent", "high", "normal", "low", NULL};

static const char *const tiers[] = {"vip", "premium", "standard", "free", NULL};

/* 1 when s is 1 to n-1 bytes of [a-z0-9._-] (upper case too when upper). */
static int name_ok(const char *s, size_t len, size_t n, int upper)
{
    if (!len || len >= n)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || (upper && c >= 'A' && c <= 'Z')))
            return 0;
    }
    return 1;
}

/* Copies part [s, s+len) into out (n bytes), "*" as "": 0, or -1 when not a name. */
static int part(const char *s, size_t len, char *out, size_t n)
{
    if (len == 1 && s[0] == '*') {
        out[0] = '\0';
        return 0;
    }
    if (!name_ok(s, len, n, 0))
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* The value: "QUEUE [team=TEAM] [respond_min=N]". */
static int rule_value(const char *val, struct tickets_route_rule *r, char *why, size_t wn)
{
    const char *p = val;
    int first = 1;
    while (*p) {
        size_t len = strcspn(p, " \t");
        if (first) {
            if (!name_ok(p, len, sizeof r->queue, 1)) {
                snprintf(why, wn, "the queue: 1 to %zu characters of [A-Za-z0-9._-]",
                         sizeof r->queue - 1);
                return OC_EINVAL;
            }
            memcpy(r->queue, p, len);
            r->queue[len] = '\0';
            first = 0;
        } else if (len > 5 && strncmp(p, "team=", 5) == 0) {
            if (!name_ok(p + 5, len - 5, sizeof r->team, 0)) {
                snprintf(why, wn, "team: a catalog team's name ([a-z0-9._-])");
                return OC_EINVAL;
            }
            memcpy(r->team, p + 5, len - 5);
            r->team[len - 5] = '\0';
        } else if (len > 12 && strncmp(p, "respond_min=", 12) == 0) {
            char num[16], *end = NULL;
            long v = 0;
            if (len - 12 < sizeof num) {
                memcpy(num, p + 12, len - 12);
                num[len - 12] = '\0';
                v = strtol(num, &end, 10);
            }
            if (!end || *end || v < 1 || v > 100000) {
                snprintf(why, wn, "respond_min: minutes from 1 to 100000");
                return OC_EINVAL;
            }
            r->respond_min = (int)v;
        } else {
            snprintf(why, wn, "%.*s: expected team=TEAM or respond_min=N after the queue",
                     (int)(len > 40 ? 40 : len), p);
            return OC_EINVAL;
        }
        p += len;
        p += strspn(p, " \t");
    }
    if (first) {
        snprintf(why, wn, "no queue");
        return OC_EINVAL;
    }
    return 0;
}

/* One line: "SERVICE/SEGMENT/TIER: QUEUE ...". */
static int rule_row(const char *key, const char *val, void *arg, char *why, size_t wn)
{
    struct tickets_routing *rt = arg;
    struct tickets_route_rule r;
    memset(&r, 0, sizeof r);
    const char *s1 = strchr(key, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || strchr(s2 + 1, '/')) {
        snprintf(why, wn, "%.60s: expected SERVICE/SEGMENT/TIER (each a name or *)", key);
        return OC_EINVAL;
    }
    if (part(key, (size_t)(s1 - key), r.service, sizeof r.service) != 0) {
        snprintf(why, wn, "service: a catalog service's name ([a-z0-9._-]) or *");
        return OC_EINVAL;
    }
    if (part(s1 + 1, (size_t)(s2 - s1 - 1), r.segment, sizeof r.segment) != 0 ||
        strchr(r.segment, '_')) {
        snprintf(why, wn, "segment: a lower-case name ([a-z0-9.-], 1 to %zu) or *",
                 sizeof r.segment - 1);
        return OC_EINVAL;
    }
    int ok = part(s2 + 1, strlen(s2 + 1), r.tier, sizeof r.tier) == 0 && !r.tier[0];
    for (int i = 0; !ok && tiers[i]; i++)
        ok = strcmp(s2 + 1, tiers[i]) == 0;
    if (!ok) {
        snprintf(why, wn, "tier: vip, premium, standard, free or *");
        return OC_EINVAL;
    }
    if (strcmp(s2 + 1, "*") != 0)
        snprintf(r.tier, sizeof r.tier, "%s", s2 + 1);
    int rc = rule_value(val, &r, why, wn);
    if (rc)
        return rc;
    if (rt->n >= TICKETS_ROUTES_MAX) {
        snprintf(why, wn, "more than %d routing rules", TICKETS_ROUTES_MAX);
        return OC_ETOOBIG;
    }
    rt->r[rt->n++] = r;
    return 0;
}

/* The line numbers: flat_yaml does not pass them to the row, so count rows per line here. */
int tickets_routing_parse(const char *name, const char *text, size_t n, struct tickets_routing *out,
                          char *err, size_t errlen)
{
    int before = out->n;
    int rc = tickets_flat_yaml(name, text, n, rule_row, out, err, errlen);
    if (rc)
        return rc;
    /* number each new rule with its line: the k-th key-value line */
    int line = 0, k = before;
    for (size_t off = 0; off < n && k < out->n;) {
        const char *nl = memchr(text + off, '\n', n - off);
        size_t len = nl ? (size_t)(nl - (text + off)) : n - off;
        const char *s = text + off;
        size_t sp = 0;
        line++;
        while (sp < len && (s[sp] == ' ' || s[sp] == '\t' || s[sp] == '\r'))
            sp++;
        if (sp < len && s[sp] != '#')
            out->r[k++].line = line;
        off += len + (nl != NULL);
    }
    return 0;
}

int tickets_routing_load(const char *path, struct tickets_routing *out, char *err, size_t errlen)
{
    char *b = NULL;
    size_t n = 0;
    int rc = tickets_slurp(path, &b, &n, err, errlen);
    if (!rc)
        rc = tickets_routing_parse(path, b, n, out, err, errlen);
    free(b);
    return rc;
}

/* How many of the rule's three parts r names, or -1 when one of them differs from g. */
static int match(const struct tickets_route_rule *r, const struct tickets_tags *g)
{
    int n = 0;
    if (r->service[0]) {
        if (strcmp(r->service, g->service) != 0)
            return -1;
        n++;
    }
    if (r->segment[0]) {
        if (strcmp(r->segment, g->segment) != 0)
            return -1;
        n++;
    }
    if (r->tier[0]) {
        if (strcmp(r->tier, "vip") == 0 ? !g->vip : strcmp(r->tier, g->tier) != 0)
            return -1;
        n++;
    }
    return n;
}

void tickets_route_pick(const struct tickets_routing *rt, const struct tickets_tags *g,
                        const char *default_queue, const int respond_min[TICKETS_NPRIO + 1],
                        struct tickets_route *out)
{
    memset(out, 0, sizeof *out);
    out->rule = -1;
    int best = -1;
    for (int i = 0; rt && i < rt->n; i++) {
        int s = match(&rt->r[i], g);
        if (s > best) {
            best = s;
            out->rule = i;
        }
    }
    out->prio = g->vip                            ? TICKETS_P_URGENT
                : strcmp(g->tier, "premium") == 0 ? TICKETS_P_HIGH
                : strcmp(g->tier, "free") == 0    ? TICKETS_P_LOW
                                                  : TICKETS_P_NORMAL;
    out->respond_min = respond_min[out->prio];
    if (out->rule >= 0) {
        const struct tickets_route_rule *r = &rt->r[out->rule];
        snprintf(out->queue, sizeof out->queue, "%s", r->queue);
        snprintf(out->team, sizeof out->team, "%s", r->team);
        if (r->respond_min)
            out->respond_min = r->respond_min;
    } else {
        snprintf(out->queue, sizeof out->queue, "%s", default_queue ? default_queue : "");
    }
}
