/*
 * topo.c - parses a topology file (examples/topology.yaml) into struct sim_topo: weighted
 * lists of regions, countries, ISPs, CDN POPs, devices, OSes, players, DRMs and titles, with
 * every dimension value interned once so sessions carry 16-bit ids.
 */
#include "sim/sim_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPO_ARENA_MAX (8u << 20) /* bytes a topology may hold */

/* Interns s as a dimension value; 0 and its id, OC_ETOOBIG past the cap. */
static int intern(struct sim_topo *t, const char *s, uint16_t *id)
{
    size_t n = strlen(s);
    for (int i = 0; i < t->n_vals; i++)
        if (t->vals[i].n == n && memcmp(t->vals[i].p, s, n) == 0) {
            *id = (uint16_t)i;
            return 0;
        }
    if (t->n_vals >= SIM_MAX_VALUES || n > 200)
        return OC_ETOOBIG;
    char *copy = oc_arena_strndup(&t->arena, s, n);
    if (!copy)
        return OC_ETOOBIG;
    t->vals[t->n_vals] = (struct beacon_str){copy, (uint32_t)n};
    *id = (uint16_t)t->n_vals++;
    return 0;
}

uint16_t sim_topo_find(const struct sim_topo *t, const char *s)
{
    size_t n = strlen(s);
    for (int i = 0; i < t->n_vals; i++)
        if (t->vals[i].n == n && memcmp(t->vals[i].p, s, n) == 0)
            return (uint16_t)i;
    return SIM_NO_VALUE;
}

int sim_wl_pick(const struct sim_wl *w, double u)
{
    int i = 0;
    while (i < w->n - 1 && u >= w->cum[i])
        i++;
    return i;
}

/* Allocates n zeroed items of size sz from the topology arena, or NULL past the cap. */
static void *talloc(struct sim_topo *t, int n, size_t sz)
{
    return oc_arena_calloc(&t->arena, (size_t)(n > 0 ? n : 1) * sz);
}

/* Builds the weighted list of sequence seq (items are mappings with a "weight"). */
static int wl_build(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *seq, const char *what,
                    struct sim_wl *w)
{
    int n = sim_yaml_len(seq);
    double sum = 0, v;
    if (n < 1 || n > SIM_MAX_LIST)
        return sim_yaml_fail(y, "%s: a list of 1 to %d entries is required", what, SIM_MAX_LIST);
    if (!(w->cum = talloc(t, n, sizeof(double))))
        return OC_ETOOBIG;
    w->n = n;
    for (int i = 0; i < n; i++) {
        if (sim_yaml_num(y, sim_yaml_get(y, sim_yaml_item(y, seq, i), "weight"), what, &v) < 0)
            return OC_EINVAL;
        if (v < 0)
            return sim_yaml_fail(y, "%s: weights must not be negative", what);
        sum += v;
        w->cum[i] = sum;
    }
    if (!(sum > 0))
        return sim_yaml_fail(y, "%s: weights sum to zero", what);
    for (int i = 0; i < n; i++)
        w->cum[i] /= sum;
    w->cum[n - 1] = 1.0;
    return 0;
}

/* Interns the scalar under key of mapping item. */
static int name_of(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *item, const char *key,
                   const char *what, uint16_t *id)
{
    const char *s = sim_yaml_str(sim_yaml_get(y, item, key));
    if (!s || !*s)
        return sim_yaml_fail(y, "%s: '%s' is required", what, key);
    return intern(t, s, id);
}

/* A list of named values (drm, versions, pops): ids[i] from key of each item. */
static int named_list(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *seq, const char *key,
                      const char *what, struct sim_wl *w, uint16_t **ids)
{
    int rc = wl_build(t, y, seq, what, w);
    if (rc < 0)
        return rc;
    if (!(*ids = talloc(t, w->n, sizeof(uint16_t))))
        return OC_ETOOBIG;
    for (int i = 0; i < w->n && rc == 0; i++)
        rc = name_of(t, y, sim_yaml_item(y, seq, i), key, what, &(*ids)[i]);
    return rc;
}

static int parse_country(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *n,
                         struct topo_country *c)
{
    yaml_node_t *isps = sim_yaml_get(y, n, "isps");
    int rc = name_of(t, y, n, "code", "countries", &c->code);
    if (rc == 0)
        rc = wl_build(t, y, isps, "isps", &c->isp_w);
    if (rc == 0 && !(c->isps = talloc(t, c->isp_w.n, sizeof(*c->isps))))
        rc = OC_ETOOBIG;
    for (int i = 0; rc == 0 && i < c->isp_w.n; i++) {
        yaml_node_t *it = sim_yaml_item(y, isps, i);
        rc = name_of(t, y, it, "name", "isps", &c->isps[i].name);
        if (rc == 0)
            rc = name_of(t, y, it, "asn", "isps", &c->isps[i].asn);
    }
    return rc;
}

static int parse_region(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *n,
                        struct topo_region *r)
{
    yaml_node_t *cs = sim_yaml_get(y, n, "countries"), *pops = sim_yaml_get(y, n, "pops");
    double off = 0;
    int rc = name_of(t, y, n, "name", "regions", &r->name);
    if (rc == 0)
        rc = sim_yaml_num(y, sim_yaml_get(y, n, "weight"), "regions: weight", &r->weight);
    if (rc == 0 && sim_yaml_get(y, n, "utc_offset"))
        rc = sim_yaml_num(y, sim_yaml_get(y, n, "utc_offset"), "utc_offset", &off);
    r->utc_offset_h = (int)off;
    if (rc == 0)
        rc = wl_build(t, y, cs, "countries", &r->country_w);
    if (rc == 0 && !(r->countries = talloc(t, r->country_w.n, sizeof(*r->countries))))
        rc = OC_ETOOBIG;
    for (int i = 0; rc == 0 && i < r->country_w.n; i++)
        rc = parse_country(t, y, sim_yaml_item(y, cs, i), &r->countries[i]);
    for (int c = 0; rc == 0 && c < t->n_cdns; c++) {
        const char *cdn = t->vals[t->cdns[c]].p;
        rc =
            named_list(t, y, sim_yaml_get(y, pops, cdn), "code", "pops", &r->pop_w[c], &r->pops[c]);
    }
    return rc;
}

static int parse_os(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *n, struct topo_os *o)
{
    yaml_node_t *ps = sim_yaml_get(y, n, "players");
    int rc = name_of(t, y, n, "name", "os", &o->name);
    if (rc == 0)
        rc = named_list(t, y, sim_yaml_get(y, n, "drm"), "name", "drm", &o->drm_w, &o->drms);
    if (rc == 0)
        rc = wl_build(t, y, ps, "players", &o->player_w);
    if (rc == 0 && !(o->players = talloc(t, o->player_w.n, sizeof(*o->players))))
        rc = OC_ETOOBIG;
    for (int i = 0; rc == 0 && i < o->player_w.n; i++) {
        yaml_node_t *p = sim_yaml_item(y, ps, i);
        struct topo_player *pl = &o->players[i];
        rc = name_of(t, y, p, "name", "players", &pl->name);
        if (rc == 0)
            rc = named_list(t, y, sim_yaml_get(y, p, "versions"), "name", "versions", &pl->ver_w,
                            &pl->vers);
    }
    return rc;
}

static int parse_device(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *n,
                        struct topo_device *d)
{
    yaml_node_t *os = sim_yaml_get(y, n, "os");
    double kbps = 0;
    int rc = name_of(t, y, n, "name", "devices", &d->name);
    if (rc == 0)
        rc = sim_yaml_num(y, sim_yaml_get(y, n, "bitrate_kbps"), "bitrate_kbps", &kbps);
    if (rc == 0 && (kbps < 100 || kbps > 100000))
        rc = sim_yaml_fail(y, "bitrate_kbps: out of range");
    d->bitrate_kbps = (int)kbps;
    if (rc == 0)
        rc = wl_build(t, y, os, "os", &d->os_w);
    if (rc == 0 && !(d->oses = talloc(t, d->os_w.n, sizeof(*d->oses))))
        rc = OC_ETOOBIG;
    for (int i = 0; rc == 0 && i < d->os_w.n; i++)
        rc = parse_os(t, y, sim_yaml_item(y, os, i), &d->oses[i]);
    return rc;
}

/* An optional number under key of map, kept within [lo, hi]; *out keeps its default. */
static int opt_num(struct sim_yaml *y, yaml_node_t *map, const char *key, double lo, double hi,
                   double *out)
{
    yaml_node_t *n = sim_yaml_get(y, map, key);
    double v;
    if (!n)
        return 0;
    if (sim_yaml_num(y, n, key, &v) < 0)
        return OC_EINVAL;
    if (v < lo || v > hi)
        return sim_yaml_fail(y, "%s: %g is outside [%g, %g]", key, v, lo, hi);
    *out = v;
    return 0;
}

static int parse_baseline(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *root)
{
    yaml_node_t *b = sim_yaml_get(y, root, "baseline"), *codes;
    struct sim_baseline *s = &t->base;
    int rc = 0;
    *s = (struct sim_baseline){0.007, 0.005, 0.02, 1200, 0.45, 0.012, 100, 0.002};
    rc |= opt_num(y, b, "rebuffer_ratio", 0, 0.5, &s->rebuffer_ratio);
    rc |= opt_num(y, b, "vsf", 0, 0.5, &s->vsf);
    rc |= opt_num(y, b, "ebvs", 0, 0.5, &s->ebvs);
    rc |= opt_num(y, b, "startup_p50_ms", 50, 60000, &s->startup_p50_ms);
    rc |= opt_num(y, b, "startup_sigma", 0, 3, &s->startup_sigma);
    rc |= opt_num(y, b, "struggling_share", 0.001, 0.5, &s->struggling_share);
    rc |= opt_num(y, b, "struggling_s", 10, 3600, &s->struggling_s);
    rc |= opt_num(y, b, "error_per_hour", 0, 10, &s->error_per_hour);
    if (rc)
        return OC_EINVAL;
    if (s->rebuffer_ratio / s->struggling_share > 0.9)
        return sim_yaml_fail(y, "baseline: rebuffer_ratio needs a larger struggling_share");
    codes = sim_yaml_get(y, b, "start_error_codes");
    t->n_codes = sim_yaml_len(codes) < SIM_MAX_CODES ? sim_yaml_len(codes) : SIM_MAX_CODES;
    for (int i = 0; rc == 0 && i < t->n_codes; i++) {
        const char *c = sim_yaml_str(sim_yaml_item(y, codes, i));
        rc = c ? intern(t, c, &t->codes[i]) : sim_yaml_fail(y, "start_error_codes: strings");
    }
    if (rc == 0 && t->n_codes == 0) {
        t->n_codes = 1;
        rc = intern(t, "NETWORK_ERROR", &t->codes[0]);
    }
    return rc;
}

/* Scalars: viewers, heartbeat_s, steering_ttl_s, session_minutes, diurnal. */
static int parse_scalars(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *root)
{
    double v = 20000, hb = 10, ttl = 300, med[2] = {20, 35}, sig[2] = {0.9, 0.8};
    yaml_node_t *sm = sim_yaml_get(y, root, "session_minutes"), *di;
    int rc = opt_num(y, root, "viewers", 1, 10e6, &v);
    rc |= opt_num(y, root, "heartbeat_s", 1, 60, &hb);
    rc |= opt_num(y, root, "steering_ttl_s", 1, 86400, &ttl);
    for (int k = 0; k < 2; k++) {
        yaml_node_t *m = sim_yaml_get(y, sm, k ? "live" : "vod");
        rc |= opt_num(y, m, "median", 0.1, 1440, &med[k]);
        rc |= opt_num(y, m, "sigma", 0, 3, &sig[k]);
        t->len_mu[k] = log(med[k]);
        t->len_sigma[k] = sig[k];
    }
    if (rc)
        return OC_EINVAL;
    t->viewers = (int)v;
    t->heartbeat_s = (int)hb;
    t->steering_ttl_s = (int)ttl;
    di = sim_yaml_get(y, root, "diurnal");
    for (int h = 0; h < 24; h++) {
        t->diurnal[h] = 1.0;
        if (di && sim_yaml_num(y, sim_yaml_item(y, di, h), "diurnal", &t->diurnal[h]) < 0)
            return sim_yaml_fail(y, "diurnal: 24 numbers are required");
        if (!(t->diurnal[h] > 0))
            return sim_yaml_fail(y, "diurnal: values must be positive");
    }
    return 0;
}

static int parse_lists(struct sim_topo *t, struct sim_yaml *y, yaml_node_t *root)
{
    yaml_node_t *rs = sim_yaml_get(y, root, "regions"), *ds = sim_yaml_get(y, root, "devices");
    yaml_node_t *ts = sim_yaml_get(y, root, "titles");
    uint16_t *cdns = NULL;
    int rc = named_list(t, y, sim_yaml_get(y, root, "cdns"), "name", "cdns", &t->cdn_w, &cdns);
    if (rc == 0 && t->cdn_w.n > SIM_MAX_CDNS)
        rc = sim_yaml_fail(y, "cdns: at most %d", SIM_MAX_CDNS);
    for (int i = 0; rc == 0 && i < t->cdn_w.n; i++)
        t->cdns[t->n_cdns++] = cdns[i];
    if (rc == 0 && (rc = wl_build(t, y, rs, "regions", &(struct sim_wl){0})) == 0) {
        t->n_regions = sim_yaml_len(rs);
        if (t->n_regions > 16)
            return sim_yaml_fail(y, "regions: at most 16");
        if (!(t->regions = talloc(t, t->n_regions, sizeof(*t->regions))))
            rc = OC_ETOOBIG;
    }
    for (int i = 0; rc == 0 && i < t->n_regions; i++)
        rc = parse_region(t, y, sim_yaml_item(y, rs, i), &t->regions[i]);
    if (rc == 0)
        rc = wl_build(t, y, ds, "devices", &t->device_w);
    if (rc == 0 && !(t->devices = talloc(t, t->device_w.n, sizeof(*t->devices))))
        rc = OC_ETOOBIG;
    for (int i = 0; rc == 0 && i < t->device_w.n; i++)
        rc = parse_device(t, y, sim_yaml_item(y, ds, i), &t->devices[i]);
    if (rc == 0)
        rc = wl_build(t, y, ts, "titles", &t->title_w);
    if (rc == 0 && !(t->titles = talloc(t, t->title_w.n, sizeof(*t->titles))))
        rc = OC_ETOOBIG;
    for (int i = 0; rc == 0 && i < t->title_w.n; i++) {
        yaml_node_t *it = sim_yaml_item(y, ts, i);
        const char *live = sim_yaml_str(sim_yaml_get(y, it, "live"));
        rc = name_of(t, y, it, "name", "titles", &t->titles[i].name);
        t->titles[i].live = live && strcmp(live, "true") == 0;
    }
    return rc;
}

int sim_topo_parse(const char *yaml, size_t n, struct sim_topo **out, char *err, size_t errlen)
{
    struct sim_yaml y = {.err = err, .errlen = errlen};
    struct sim_topo *t = oc_calloc(1, sizeof(*t));
    yaml_node_t *root;
    int rc;

    if (err && errlen)
        err[0] = 0;
    oc_arena_init(&t->arena, TOPO_ARENA_MAX);
    t->vals = oc_calloc(SIM_MAX_VALUES, sizeof(*t->vals));
    if ((rc = sim_yaml_load(&y, yaml, n)) < 0)
        goto out;
    root = sim_yaml_root(&y);
    if ((rc = intern(t, "true", &t->v_true)) < 0 || (rc = intern(t, "false", &t->v_false)) < 0)
        goto out;
    if ((rc = parse_scalars(t, &y, root)) < 0 || (rc = parse_baseline(t, &y, root)) < 0)
        goto out;
    if ((rc = parse_lists(t, &y, root)) < 0)
        goto out;
    *out = t;
    t = NULL;
out:
    if (rc == OC_ETOOBIG && err && errlen && !err[0])
        snprintf(err, errlen, "topology too large");
    sim_yaml_free(&y);
    sim_topo_destroy(t);
    return rc;
}

int sim_topo_default(struct sim_topo **out)
{
    size_t n = 0;
    const char *text = sim_embedded("topology", &n);
    char err[200];
    return sim_topo_parse(text, n, out, err, sizeof(err));
}

void sim_topo_destroy(struct sim_topo *t)
{
    if (!t)
        return;
    oc_arena_free(&t->arena);
    free(t->vals);
    free(t);
}
