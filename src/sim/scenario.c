/*
 * scenario.c - parses fault scenarios (examples/scenarios/NAME.yaml): each fault is a slice
 * (any combination of dimension values), a start, a ramp, a duration and an effect. Times in
 * the file are offsets from the run's start ("13m") or UTC clock times ("19:43") read against
 * the scenario's `begin`.
 */
#include "sim/sim_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCEN_ARENA_MAX (1u << 20) /* bytes of strings a scenario may hold */

const char *const sim_scenario_names[] = {
    "emea-cdn", "drm-outage", "origin-stall", "isp-peering", "bad-player-build", "blip", NULL,
};

const char *const sim_scenario_extra[] = {
    "canary-bad-build",
    NULL,
};

/* An optional scalar copied into the scenario arena (NULL when absent). */
static const char *sdup(struct sim_scenario *sc, const char *s)
{
    return s ? oc_arena_strdup(&sc->arena, s) : NULL;
}

/* A time in the file: "19:43" read against begin, or an offset; into ms from the run start. */
static int parse_at(struct sim_yaml *y, int begin_s, yaml_node_t *n, int64_t *ms)
{
    const char *s = sim_yaml_str(n);
    int sod = 0;
    if (!s)
        return sim_yaml_fail(y, "faults: 'start' is required");
    if (strchr(s, ':')) {
        if (sim_parse_clock(s, &sod) < 0)
            return sim_yaml_fail(y, "start: '%s' is not HH:MM[:SS]", s);
        *ms = (int64_t)(((sod - begin_s) % 86400 + 86400) % 86400) * 1000;
        return 0;
    }
    if (sim_parse_duration(s, ms) < 0)
        return sim_yaml_fail(y, "start: '%s' is neither a clock time nor an offset", s);
    return 0;
}

/* A duration under key of map (def when absent). */
static int opt_dur(struct sim_yaml *y, yaml_node_t *map, const char *key, int64_t def, int64_t *ms)
{
    const char *s = sim_yaml_str(sim_yaml_get(y, map, key));
    *ms = def;
    if (!s)
        return 0;
    if (sim_parse_duration(s, ms) < 0)
        return sim_yaml_fail(y, "%s: '%s' is not a duration (15s, 20m, 1h)", key, s);
    return 0;
}

/* slice: {dim: value or [values]} into truth dims. */
static int parse_slice(struct sim_scenario *sc, struct sim_yaml *y, yaml_node_t *n,
                       struct sim_truth *t)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return sim_yaml_fail(y, "faults: 'slice' must be a mapping");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *k = sim_yaml_str(yaml_document_get_node(&y->doc, p->key));
        yaml_node_t *v = yaml_document_get_node(&y->doc, p->value);
        int dim = k ? sim_dim_lookup(k) : -1;
        struct sim_slice_dim *d = &t->dims[t->n_dims];
        if (dim < 0)
            return sim_yaml_fail(y, "slice: unknown dimension '%s'", k ? k : "?");
        int nv = v && v->type == YAML_SEQUENCE_NODE ? sim_yaml_len(v) : 1;
        if (nv < 1 || nv > SIM_MAX_SLICE_VAL || t->n_dims >= BEACON_NDIMS)
            return sim_yaml_fail(y, "slice: %s: 1 to %d values", k, SIM_MAX_SLICE_VAL);
        d->dim = (enum beacon_dim)dim;
        for (int i = 0; i < nv; i++) {
            const char *s =
                sim_yaml_str(v->type == YAML_SEQUENCE_NODE ? sim_yaml_item(y, v, i) : v);
            if (!s)
                return sim_yaml_fail(y, "slice: %s: values must be scalars", k);
            if (!(d->vals[d->n++] = sdup(sc, s)))
                return OC_ETOOBIG;
        }
        t->n_dims++;
    }
    return 0;
}

/* A number under key of the effect mapping within [lo, hi] (0 when absent). */
static int eff_num(struct sim_yaml *y, yaml_node_t *e, const char *key, double lo, double hi,
                   double *out)
{
    yaml_node_t *n = sim_yaml_get(y, e, key);
    if (!n)
        return 0;
    if (sim_yaml_num(y, n, key, out) < 0)
        return OC_EINVAL;
    if (*out < lo || *out > hi)
        return sim_yaml_fail(y, "effect: %s: %g is outside [%g, %g]", key, *out, lo, hi);
    return 0;
}

static int parse_effect(struct sim_scenario *sc, struct sim_yaml *y, yaml_node_t *e,
                        struct sim_effect *f)
{
    int rc = 0;
    if (!e || e->type != YAML_MAPPING_NODE)
        return sim_yaml_fail(y, "faults: 'effect' must be a mapping");
    f->startup_factor = 1;
    rc |= eff_num(y, e, "rebuffer_points_per_min", 0, 100, &f->rebuffer_ppm);
    rc |= eff_num(y, e, "rebuffer_max", 0, 0.95, &f->rebuffer_max);
    rc |= eff_num(y, e, "start_failure", 0, 1, &f->start_failure);
    rc |= eff_num(y, e, "exit_before_start", 0, 1, &f->exit_before);
    rc |= eff_num(y, e, "startup_factor", 1, 20, &f->startup_factor);
    rc |= eff_num(y, e, "bitrate_cap_kbps", 0, 100000, &f->bitrate_cap);
    rc |= eff_num(y, e, "crash_per_min", 0, 10, &f->crash_per_min);
    if (rc)
        return OC_EINVAL;
    if (f->rebuffer_ppm > 0 && f->rebuffer_max == 0)
        f->rebuffer_max = 0.5;
    f->error_code = sdup(sc, sim_yaml_str(sim_yaml_get(y, e, "error_code")));
    if (!f->error_code && !(f->error_code = sdup(sc, "FAULT_INJECTED")))
        return OC_ETOOBIG;
    return 0;
}

/* The optional unless_flag: {name: FLAG, value: on|off}: players whose flag FLAG reads value
 * are spared (the mitigation a runbook would run). */
static int parse_unless(struct sim_scenario *sc, struct sim_yaml *y, yaml_node_t *u,
                        struct sim_fault *f)
{
    if (!u)
        return 0;
    const char *name = sim_yaml_str(sim_yaml_get(y, u, "name"));
    const char *value = sim_yaml_str(sim_yaml_get(y, u, "value"));
    if (u->type != YAML_MAPPING_NODE || !name || !name[0] || !value ||
        (strcmp(value, "on") != 0 && strcmp(value, "off") != 0))
        return sim_yaml_fail(y, "faults: 'unless_flag' must be {name: FLAG, value: on|off}");
    f->unless_on = strcmp(value, "on") == 0;
    return (f->unless_flag = sdup(sc, name)) ? 0 : OC_ETOOBIG;
}

static int parse_fault(struct sim_scenario *sc, struct sim_yaml *y, yaml_node_t *n, int expect,
                       struct sim_fault *f)
{
    int64_t dur = 0;
    int rc;
    f->truth.name = sdup(sc, sim_yaml_str(sim_yaml_get(y, n, "name")));
    if (!f->truth.name)
        return sim_yaml_fail(y, "faults: 'name' is required");
    f->truth.expect_incident = expect;
    if ((rc = parse_slice(sc, y, sim_yaml_get(y, n, "slice"), &f->truth)) < 0)
        return rc;
    if ((rc = parse_at(y, sc->begin_s, sim_yaml_get(y, n, "start"), &f->truth.start_ms)) < 0)
        return rc;
    if ((rc = opt_dur(y, n, "ramp", 0, &f->ramp_ms)) < 0 ||
        (rc = opt_dur(y, n, "duration", 0, &dur)) < 0)
        return rc;
    if (dur <= 0)
        return sim_yaml_fail(y, "faults: 'duration' must be positive");
    f->truth.end_ms = f->truth.start_ms + dur;
    if ((rc = parse_unless(sc, y, sim_yaml_get(y, n, "unless_flag"), f)) < 0)
        return rc;
    return parse_effect(sc, y, sim_yaml_get(y, n, "effect"), &f->eff);
}

static int parse_root(struct sim_scenario *sc, struct sim_yaml *y, yaml_node_t *root)
{
    yaml_node_t *fs = sim_yaml_get(y, root, "faults");
    const char *begin = sim_yaml_str(sim_yaml_get(y, root, "begin"));
    const char *expect = sim_yaml_str(sim_yaml_get(y, root, "expect_incident"));
    int rc;
    sc->name = sdup(sc, sim_yaml_str(sim_yaml_get(y, root, "name")));
    sc->description = sdup(sc, sim_yaml_str(sim_yaml_get(y, root, "description")));
    if (!sc->name || !*sc->name)
        return sim_yaml_fail(y, "scenario: 'name' is required");
    if (begin && sim_parse_clock(begin, &sc->begin_s) < 0)
        return sim_yaml_fail(y, "begin: '%s' is not HH:MM[:SS]", begin);
    if ((rc = opt_dur(y, root, "duration", 3600000, &sc->duration_ms)) < 0)
        return rc;
    sc->n_faults = sim_yaml_len(fs);
    if (sc->n_faults > SIM_MAX_FAULTS)
        return sim_yaml_fail(y, "faults: at most %d", SIM_MAX_FAULTS);
    for (int i = 0; i < sc->n_faults; i++) {
        rc = parse_fault(sc, y, sim_yaml_item(y, fs, i), !expect || strcmp(expect, "false") != 0,
                         &sc->faults[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sim_scenario_parse(const char *yaml, size_t n, struct sim_scenario **out, char *err,
                       size_t errlen)
{
    struct sim_yaml y = {.err = err, .errlen = errlen};
    struct sim_scenario *sc = oc_calloc(1, sizeof(*sc));
    int rc;

    if (err && errlen)
        err[0] = 0;
    oc_arena_init(&sc->arena, SCEN_ARENA_MAX);
    if ((rc = sim_yaml_load(&y, yaml, n)) < 0)
        goto out;
    if ((rc = parse_root(sc, &y, sim_yaml_root(&y))) < 0)
        goto out;
    *out = sc;
    sc = NULL;
out:
    if (rc == OC_ETOOBIG && err && errlen && !err[0])
        snprintf(err, errlen, "scenario too large");
    sim_yaml_free(&y);
    sim_scenario_destroy(sc);
    return rc;
}

int sim_scenario_builtin(const char *name, struct sim_scenario **out)
{
    size_t n = 0;
    char err[200];
    const char *text = NULL;
    for (int i = 0; sim_scenario_names[i]; i++)
        if (strcmp(sim_scenario_names[i], name) == 0)
            text = sim_embedded(name, &n);
    for (int i = 0; sim_scenario_extra[i]; i++)
        if (strcmp(sim_scenario_extra[i], name) == 0)
            text = sim_embedded(name, &n);
    if (!text)
        return OC_ENOTFOUND;
    return sim_scenario_parse(text, n, out, err, sizeof(err));
}

void sim_scenario_destroy(struct sim_scenario *sc)
{
    if (!sc)
        return;
    oc_arena_free(&sc->arena);
    free(sc);
}

const char *sim_scenario_name(const struct sim_scenario *sc)
{
    return sc->name;
}

int64_t sim_scenario_duration_ms(const struct sim_scenario *sc)
{
    return sc->duration_ms;
}
