/*
 * test_incident_replicas.c - two incident managers on one store, as two control-plane
 * replicas on one PostgreSQL database (docs/internals/lease.md): a new incident's id is
 * claimed past every id in the store, not only those in memory; each replica reads the
 * incidents the other one saved before it answers or acts, so an alert firing again on the
 * replica that takes the lease joins its incident instead of opening (and paging) another;
 * writes through the replica without the lease (ack, note, severity, resolve) are what both
 * answer, and the holder's tick does not overwrite them; a save over a row another replica
 * changed meanwhile is refused; a message one replica claimed is not sent by the other.
 */
#include "t.h"
#include "t_store.h"
#include "incident/incident.h"
#include "incident/incident_int.h"
#include "incident/sql.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <string.h>

#define T0 1764099780 /* 2025-11-25T19:43:00Z */

static int fake_measure(void *arg, const json_t *slice, int64_t now_s, struct incident_impact *out)
{
    (void)arg;
    (void)slice;
    (void)now_s;
    memset(out, 0, sizeof *out);
    out->affected_share = 0.02;
    return 0;
}

/* One replica: its own bus and manager over the shared store and clock. */
struct replica {
    struct oc_bus *bus;
    struct oc_app app;
    struct incident_mgr *m;
    int held; /* what its lease says */
};

static int leased(void *arg)
{
    return ((struct replica *)arg)->held;
}

static void replica_start(struct replica *r, struct store *s, struct oc_clock *clock)
{
    char err[256];
    struct incident_opts o;
    memset(r, 0, sizeof *r);
    r->bus = oc_bus_new();
    r->app.clock = clock;
    r->app.bus = r->bus;
    r->app.store = s;
    r->app.leased = leased;
    r->app.leased_arg = r;
    incident_opts_default(&o);
    o.outbound_allow = "127.0.0.1";
    o.measure = fake_measure;
    T_EQ_INT(incident_mgr_new(&r->app, &o, &r->m, err, sizeof(err)), 0);
    T_EQ_INT(incident_mgr_subscribe(r->m), 0);
}

static void replica_stop(struct replica *r)
{
    incident_mgr_destroy(r->m);
    oc_bus_destroy(r->bus);
}

static void fire(struct replica *r, struct oc_clock *clock, const char *id, const char *region)
{
    int64_t now = oc_clock_now_s(clock);
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:{s:s}, s:f, s:f, s:s, s:s, s:i, s:I, s:I, s:s}", "alert_id",
                  id, "rule", "rebuffering", "metric", "rebuffering_share", "slice", "region",
                  region, "value", 0.08, "threshold", 0.05, "op", ">", "level", "page", "window_s",
                  120, "since", (json_int_t)now - 120, "at", (json_int_t)now, "source", "oncue");
    (oc_bus_publish(r->bus, "alert.fired", p), oc_bus_drain(r->bus));
    json_decref(p);
}

static int64_t count_in_store(struct store *s)
{
    struct store_stmt *st;
    int64_t n = -1;
    T_EQ_INT(store_prepare(s, "SELECT count(*) FROM incidents", &st), 0);
    if (store_step(st) == STORE_ROW)
        n = store_col_int(st, 0);
    store_reset(st);
    return n;
}

static int64_t listed(struct replica *r)
{
    json_t *l = incident_list_json(r->m, NULL);
    int64_t n = (int64_t)json_array_size(l);
    json_decref(l);
    return n;
}

struct fx {
    char dir[64];
    struct store *store;
    struct oc_clock clock;
    struct replica a, b;
};

static void fx_open(struct fx *f)
{
    char err[256];
    memset(f, 0, sizeof *f);
    oc_log_set_level(OC_LOG_ERROR);
    snprintf(f->dir, sizeof(f->dir), "/tmp/oncue-incr.XXXXXX");
    T_TRUE(mkdtemp(f->dir) != NULL);
    T_EQ_INT(t_store_open(f->dir, STORE_SYNC_NORMAL, &f->store, err, sizeof(err)), 0);
    oc_clock_init(&f->clock, OC_CLOCK_VIRTUAL, (int64_t)T0 * 1000);
    replica_start(&f->a, f->store, &f->clock);
    replica_start(&f->b, f->store, &f->clock); /* both loaded the empty store */
}

static void fx_close(struct fx *f)
{
    replica_stop(&f->a);
    replica_stop(&f->b);
    store_close(f->store);
    t_rmtree(f->dir);
}

/* A replica that loaded the store before the other opened INC-1 opens INC-2, not a second
 * INC-1 overwriting the first. */
static void test_ids_claimed_in_the_store(void)
{
    struct fx f;
    fx_open(&f);
    f.a.held = 1;
    fire(&f.a, &f.clock, "reb/EMEA", "EMEA");
    T_EQ_INT(count_in_store(f.store), 1);
    f.b.held = 0; /* b does not hold the lease: it does not reload, yet claims a fresh id */
    fire(&f.b, &f.clock, "reb/NA", "NA");
    T_EQ_INT(count_in_store(f.store), 2);
    json_t *j = NULL;
    T_EQ_INT(incident_get_json(f.b.m, 2, &j), 0);
    T_EQ_STR(json_string_value(json_object_get(j, "incident_id")), "INC-2");
    T_EQ_STR(json_string_value(json_object_get(json_object_get(j, "slice"), "region")), "NA");
    json_decref(j);
    T_EQ_INT(incident_get_json(f.a.m, 1, &j), 0); /* INC-1 is still a's EMEA incident */
    T_EQ_STR(json_string_value(json_object_get(json_object_get(j, "slice"), "region")), "EMEA");
    json_decref(j);
    fx_close(&f);
}

static int64_t sql_count(struct store *s, const char *sql)
{
    struct store_stmt *st;
    int64_t n = -1;
    T_EQ_INT(store_prepare(s, sql, &st), 0);
    if (store_step(st) == STORE_ROW)
        n = store_col_int(st, 0);
    store_reset(st);
    return n;
}

/* The state, severity and timeline of INC-id as replica r answers them:
 * "acknowledged SEV2 open,ack,note,severity". */
static void answer(struct replica *r, int64_t id, char *out, size_t n)
{
    json_t *j = NULL;
    size_t i;
    json_t *e;
    T_EQ_INT(incident_get_json(r->m, id, &j), 0);
    int at = snprintf(out, n, "%s %s", json_string_value(json_object_get(j, "state")),
                      json_string_value(json_object_get(j, "severity")));
    json_array_foreach(json_object_get(j, "timeline"), i, e)
    {
        at += snprintf(out + at, n - (size_t)at, "%s%s", i ? "," : " ",
                       json_string_value(json_object_get(e, "kind")));
    }
    json_decref(j);
}

/* The holder a opened INC-1; responders act through b, which does not hold the lease. Both
 * answer the same incident and timeline; a's tick (which saves INC-1 when it pages the
 * default owner) acts on b's writes and does not overwrite them. */
static void test_writes_through_either_replica(void)
{
    struct fx f;
    char sa[1024], sb[1024], err[256] = "";
    fx_open(&f);
    f.a.held = 1;
    fire(&f.a, &f.clock, "reb/EMEA", "EMEA");
    oc_clock_advance_ms(&f.clock, 1000);
    T_EQ_INT(incident_ack(f.b.m, 1, "carol"), 0);
    T_EQ_INT(incident_note(f.b.m, 1, "carol", "FRA cache hit ratio is 12%"), 0);
    T_EQ_INT(incident_set_severity(f.b.m, 1, "carol", 2, "the whole of Europe", err, sizeof err),
             0);
    T_EQ_INT(incident_ack(f.a.m, 1, "dave"), OC_ECONFLICT); /* a sees b's ack */
    answer(&f.a, 1, sa, sizeof sa);
    answer(&f.b, 1, sb, sizeof sb);
    T_EQ_STR(sa, sb);
    T_TRUE(strncmp(sa, "acknowledged SEV2 ", 18) == 0);
    T_TRUE(strstr(sa, ",ack,note,severity") != NULL);
    /* the holder ticks for ten minutes: the ack and the severity hold in the store */
    for (int i = 0; i < 600; i++) {
        oc_clock_advance_ms(&f.clock, 1000);
        incident_tick(f.a.m);
    }
    answer(&f.b, 1, sb, sizeof sb);
    T_TRUE(strncmp(sb, "acknowledged SEV2 ", 18) == 0);
    T_EQ_INT(sql_count(f.store, "SELECT count(*) FROM incidents WHERE state = 'acknowledged'"
                                " AND severity = 2"),
             1);
    T_EQ_INT(incident_resolve(f.b.m, 1, "carol", 1, "synthetic probe", err, sizeof err), 0);
    answer(&f.a, 1, sa, sizeof sa);
    answer(&f.b, 1, sb, sizeof sb);
    T_EQ_STR(sa, sb);
    T_TRUE(strncmp(sa, "resolved SEV2 ", 14) == 0);
    json_t *l = incident_list_json(f.a.m, "open"); /* the holder's list agrees */
    T_EQ_INT((int64_t)json_array_size(l), 0);
    json_decref(l);
    T_EQ_INT(sql_count(f.store, "SELECT count(*) FROM incidents WHERE state = 'resolved'"), 1);
    fx_close(&f);
}

/* A replica's save over a row another replica saved after it read it is refused (not
 * applied over theirs), and its next use reads theirs. */
static void test_stale_save_refused(void)
{
    struct fx f;
    fx_open(&f);
    f.a.held = 1;
    fire(&f.a, &f.clock, "reb/EMEA", "EMEA");
    T_EQ_INT(listed(&f.b), 1);
    T_EQ_INT(incident_ack(f.a.m, 1, "carol"), 0); /* b's copy is now stale */
    pthread_mutex_lock(&f.b.m->mu);               /* as b would without reading first */
    struct incident *inc = inc_find(f.b.m, 1);
    T_TRUE(inc != NULL && inc->state == INCIDENT_TRIGGERED);
    snprintf(inc->title, sizeof inc->title, "stale");
    T_EQ_INT(inc_save(f.b.m, inc), OC_ECONFLICT);
    pthread_mutex_unlock(&f.b.m->mu);
    json_t *j = NULL;
    T_EQ_INT(incident_get_json(f.b.m, 1, &j), 0);
    T_EQ_STR(json_string_value(json_object_get(j, "state")), "acknowledged");
    T_TRUE(strcmp(json_string_value(json_object_get(j, "title")), "stale") != 0);
    json_decref(j);
    fx_close(&f);
}

/* The holder opens INC-1 and dies; the other takes the lease, and the same alert firing on
 * it joins INC-1: no second incident, no second incident.opened. */
static void test_lease_taken_reloads(void)
{
    struct fx f;
    fx_open(&f);
    f.a.held = 1;
    fire(&f.a, &f.clock, "reb/EMEA", "EMEA");
    T_EQ_INT(listed(&f.a), 1);
    T_EQ_INT(listed(&f.b), 1); /* b loaded the empty store before, and reads it again */
    incident_ack(f.a.m, 1, "carol");
    f.a.held = 0; /* a is gone */
    f.b.held = 1;
    oc_clock_advance_ms(&f.clock, 60000);
    fire(&f.b, &f.clock, "reb/EMEA", "EMEA");
    T_EQ_INT(count_in_store(f.store), 1);
    T_EQ_INT(listed(&f.b), 1);
    json_t *j = NULL;
    T_EQ_INT(incident_get_json(f.b.m, 1, &j), 0);
    T_EQ_STR(json_string_value(json_object_get(j, "state")), "acknowledged");
    json_decref(j);
    fire(&f.b, &f.clock, "reb/NA", "NA"); /* a new one after the reload: the next id */
    T_EQ_INT(count_in_store(f.store), 2);
    T_EQ_INT(incident_get_json(f.b.m, 2, &j), 0);
    json_decref(j);
    fx_close(&f);
}

/* A message one replica claimed (its next_s moved on) is not sent by the other until the
 * claim runs out; then it is sent once. The endpoint is a closed port: each send is one
 * failed attempt in incident_attempts. */
static void test_outbox_claimed_once(void)
{
    struct fx f;
    fx_open(&f);
    f.a.held = 1;
    T_EQ_INT(incident_outbox_add_endpoint(incident_outbox(f.a.m), "hook", "webhook",
                                          "http://127.0.0.1:1/hook",
                                          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL),
             0);
    fire(&f.a, &f.clock, "reb/EMEA", "EMEA"); /* incident.opened: one row */
    int64_t now = oc_clock_now_s(&f.clock);
    T_EQ_INT(sql_count(f.store, "SELECT count(*) FROM incident_outbox"), 1);
    /* as a's delivery thread does before sending: the claim */
    struct store_stmt *st;
    T_EQ_INT(store_prepare(f.store, INC_SQL_OB_CLAIM, &st), 0);
    STORE_BIND(st, STORE_INT(now + 60), STORE_INT(1), STORE_INT(now));
    T_EQ_INT(store_step(st), STORE_DONE);
    store_reset(st);
    T_EQ_INT(store_changes(f.store), 1);
    T_EQ_INT(incident_outbox_deliver(incident_outbox(f.b.m), now), 0); /* b leaves it */
    T_EQ_INT(incident_outbox_deliver(incident_outbox(f.b.m), now + 59), 0);
    T_EQ_INT(sql_count(f.store, "SELECT count(*) FROM incident_attempts"), 0);
    /* a died: the claim ran out, b sends it, once */
    T_EQ_INT(incident_outbox_deliver(incident_outbox(f.b.m), now + 60), 1);
    T_EQ_INT(incident_outbox_deliver(incident_outbox(f.a.m), now + 60), 0);
    T_EQ_INT(sql_count(f.store, "SELECT count(*) FROM incident_attempts"), 1);
    fx_close(&f);
}

static const struct t_case cases[] = {
    T_CASE(test_ids_claimed_in_the_store),      T_CASE(test_lease_taken_reloads),
    T_CASE(test_writes_through_either_replica), T_CASE(test_stale_save_refused),
    T_CASE(test_outbox_claimed_once),           {0},
};

T_MAIN(cases)
