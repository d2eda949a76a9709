/*
 * migrate.c - the one list of schema migrations, keyed on PRAGMA user_version.
 *
 * store_open applies, in order, every entry whose version is above the database's
 * user_version, each in one transaction that also bumps user_version. A database newer than
 * the last entry fails to open rather than being written by an older binary.
 */
#include "store/migrate.h"
#include "store/store.h"
#include "store/sql.h"
#include "core/err.h"

#include <stdio.h>

struct migration {
    int version;      /* 1, 2, 3, ... consecutive */
    const char *name; /* short description, for messages */
    const char *sql;  /* one or more statements */
};

/*
 * TO ADD TABLES: append ONE entry at the end of this list with the next version number
 * (last version + 1), with a small edit. Never renumber, reorder or edit an entry that has
 * shipped: databases in the field have already applied it. Fix a mistake with a new entry.
 */
static const struct migration migrations[] = {
    {1, "auth: tokens and the append-only audit log",
     "CREATE TABLE tokens ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"
     " role TEXT NOT NULL,"
     " hash BLOB NOT NULL UNIQUE,"
     " created_ms INTEGER NOT NULL,"
     " revoked_ms INTEGER);"
     "CREATE TABLE audit ("
     " id INTEGER PRIMARY KEY,"
     " ts_ms INTEGER NOT NULL,"
     " actor TEXT NOT NULL,"
     " action TEXT NOT NULL,"
     " target TEXT,"
     " status INTEGER NOT NULL,"
     " detail TEXT);"
     "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"},
    {2, "steer: policy, mitigations and their follow-up items",
     "CREATE TABLE steer_policy ("
     " id INTEGER PRIMARY KEY CHECK (id = 1),"
     " doc TEXT NOT NULL,"
     " actor TEXT,"
     " updated_ms INTEGER NOT NULL);"
     "CREATE TABLE steer_mitigations ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " kind TEXT NOT NULL,"
     " spec TEXT NOT NULL,"
     " actor TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " reverted_ms INTEGER,"
     " reverted_by TEXT);"
     "CREATE TABLE steer_followups ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " mitigation_id INTEGER NOT NULL REFERENCES steer_mitigations(id),"
     " title TEXT NOT NULL,"
     " due_ms INTEGER NOT NULL,"
     " done_ms INTEGER);"},
    {3, "catalog: services created or edited through the API (doc NULL: deleted)",
     "CREATE TABLE catalog_services ("
     " name TEXT PRIMARY KEY,"
     " doc TEXT,"
     " actor TEXT,"
     " updated_ms INTEGER NOT NULL);"},
    {4, "ingest/qoe: dimension values, leaves and closed minutes of the QoE cube",
     "CREATE TABLE qoe_values ("
     " dim INTEGER NOT NULL,"
     " id INTEGER NOT NULL,"
     " value TEXT NOT NULL,"
     " PRIMARY KEY (dim, id));"
     "CREATE TABLE qoe_leaves ("
     " id INTEGER PRIMARY KEY,"
     " dims BLOB NOT NULL);"
     "CREATE TABLE qoe_minutes ("
     " res INTEGER NOT NULL,"
     " t INTEGER NOT NULL,"
     " data BLOB NOT NULL,"
     " PRIMARY KEY (res, t));"},
    {5, "incident: incidents, the append-only timeline, follow-ups and the notification outbox",
     "CREATE TABLE incidents ("
     " id INTEGER PRIMARY KEY,"
     " state TEXT NOT NULL,"
     " severity INTEGER NOT NULL,"
     " service TEXT,"
     " opened_s INTEGER NOT NULL,"
     " resolved_s INTEGER,"
     " doc TEXT NOT NULL);"
     "CREATE TABLE incident_timeline ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " incident_id INTEGER NOT NULL,"
     " at_s INTEGER NOT NULL,"
     " kind TEXT NOT NULL,"
     " actor TEXT NOT NULL,"
     " text TEXT NOT NULL,"
     " data TEXT,"
     " public INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX incident_timeline_inc ON incident_timeline (incident_id, at_s);"
     "CREATE TRIGGER incident_timeline_no_update BEFORE UPDATE ON incident_timeline"
     " BEGIN SELECT RAISE(ABORT, 'the incident timeline is append-only'); END;"
     "CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline"
     " BEGIN SELECT RAISE(ABORT, 'the incident timeline is append-only'); END;"
     "CREATE TABLE incident_followups ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " incident_id INTEGER NOT NULL,"
     " title TEXT NOT NULL,"
     " kind TEXT NOT NULL,"
     " ref TEXT,"
     " due_s INTEGER NOT NULL,"
     " created_s INTEGER NOT NULL,"
     " done_s INTEGER);"
     "CREATE TABLE incident_endpoints ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " name TEXT NOT NULL UNIQUE,"
     " kind TEXT NOT NULL,"
     " url TEXT NOT NULL,"
     " secret TEXT,"
     " created_s INTEGER NOT NULL,"
     " disabled_s INTEGER);"
     "CREATE TABLE incident_outbox ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " endpoint_id INTEGER NOT NULL REFERENCES incident_endpoints(id),"
     " msg_id TEXT NOT NULL,"
     " topic TEXT NOT NULL,"
     " body TEXT NOT NULL,"
     " created_s INTEGER NOT NULL,"
     " next_s INTEGER NOT NULL,"
     " attempts INTEGER NOT NULL,"
     " state TEXT NOT NULL,"
     " last_status INTEGER);"
     "CREATE INDEX incident_outbox_due ON incident_outbox (state, next_s);"
     "CREATE TABLE incident_attempts ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " outbox_id INTEGER NOT NULL,"
     " at_s INTEGER NOT NULL,"
     " status INTEGER NOT NULL,"
     " error TEXT,"
     " ms INTEGER NOT NULL);"},
    {6, "alert: firing history for GET /v1/alerts and the alert audit",
     "CREATE TABLE alert_firings ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " alert_id TEXT NOT NULL,"
     " rule TEXT NOT NULL,"
     " source TEXT NOT NULL,"
     " level TEXT NOT NULL,"
     " since INTEGER NOT NULL,"
     " fired_at INTEGER NOT NULL,"
     " resolved_at INTEGER,"
     " acked_at INTEGER,"
     " incident_id TEXT,"
     " payload TEXT NOT NULL);"
     "CREATE INDEX alert_firings_alert ON alert_firings (alert_id, id);"
     "CREATE INDEX alert_firings_time ON alert_firings (fired_at);"},
    {7, "rca: recorded changes (deploys, config changes, flag flips) for change correlation",
     "CREATE TABLE changes ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " time INTEGER NOT NULL,"
     " service TEXT NOT NULL,"
     " kind TEXT NOT NULL,"
     " description TEXT NOT NULL,"
     " version TEXT,"
     " actor TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL);"
     "CREATE INDEX changes_time ON changes (time);"},
    {8, "auth: browser sessions (the SHA-256 of each cookie, never the cookie)",
     "CREATE TABLE sessions ("
     " id INTEGER PRIMARY KEY,"
     " hash BLOB NOT NULL UNIQUE,"
     " token_id INTEGER NOT NULL REFERENCES tokens(id),"
     " role TEXT NOT NULL,"
     " name TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " expires_ms INTEGER NOT NULL,"
     " revoked_ms INTEGER);"
     "CREATE INDEX sessions_token ON sessions (token_id);"},
    {9, "resume: each device's latest playback report per profile and title",
     "CREATE TABLE resume_reports ("
     " profile TEXT NOT NULL,"
     " title TEXT NOT NULL,"
     " device TEXT NOT NULL,"
     " session TEXT NOT NULL,"
     " position_ms INTEGER NOT NULL,"
     " duration_ms INTEGER NOT NULL,"
     " seq INTEGER NOT NULL,"
     " ts_ms INTEGER NOT NULL,"
     " t_ms INTEGER NOT NULL,"
     " since_ms INTEGER NOT NULL,"
     " state INTEGER NOT NULL,"
     " PRIMARY KEY (profile, title, device)) WITHOUT ROWID;"},
    {10, "billing: event ids, subscription states, the hash-chained audit, idempotency keys",
     "CREATE TABLE billing_events ("
     " provider TEXT NOT NULL,"
     " id TEXT NOT NULL,"
     " type TEXT NOT NULL,"
     " subscription TEXT NOT NULL,"
     " account TEXT NOT NULL,"
     " event_ms INTEGER NOT NULL,"
     " received_ms INTEGER NOT NULL,"
     " decision TEXT NOT NULL,"
     " payload TEXT NOT NULL,"
     " PRIMARY KEY (provider, id)) WITHOUT ROWID;"
     "CREATE INDEX billing_events_received ON billing_events (received_ms);"
     "CREATE TABLE billing_subs ("
     " id TEXT PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " provider TEXT NOT NULL,"
     " state TEXT NOT NULL,"
     " period_end_ms INTEGER NOT NULL,"
     " regions TEXT NOT NULL,"
     " last_ms INTEGER NOT NULL,"
     " last_tie INTEGER NOT NULL,"
     " last_event TEXT NOT NULL,"
     " updated_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX billing_subs_account ON billing_subs (account);"
     "CREATE TABLE billing_audit ("
     " id INTEGER PRIMARY KEY,"
     " ts_ms INTEGER NOT NULL,"
     " kind TEXT NOT NULL,"
     " account TEXT NOT NULL,"
     " subscription TEXT NOT NULL,"
     " detail TEXT NOT NULL,"
     " prev BLOB NOT NULL,"
     " hash BLOB NOT NULL);"
     "CREATE INDEX billing_audit_account ON billing_audit (account, id);"
     "CREATE TRIGGER billing_audit_no_update BEFORE UPDATE ON billing_audit"
     " BEGIN SELECT RAISE(ABORT, 'the billing audit is append-only'); END;"
     "CREATE TRIGGER billing_audit_no_delete BEFORE DELETE ON billing_audit"
     " BEGIN SELECT RAISE(ABORT, 'the billing audit is append-only'); END;"
     "CREATE TABLE billing_idem ("
     " key TEXT PRIMARY KEY,"
     " fingerprint BLOB NOT NULL,"
     " status INTEGER NOT NULL,"
     " answer TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL) WITHOUT ROWID;"},
    {11, "search: catalog titles (each one's JSON, NULL once deleted) and the write that set it",
     "CREATE TABLE search_titles ("
     " id TEXT PRIMARY KEY,"
     " doc TEXT,"
     " gen INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX search_titles_gen ON search_titles (gen);"},
    {12, "auth: public ingest keys (not secret: kept in clear) with their origins and limits",
     "CREATE TABLE ingest_keys ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"
     " key TEXT NOT NULL UNIQUE,"
     " origins TEXT NOT NULL,"
     " rate_per_s INTEGER NOT NULL,"
     " client_per_min INTEGER NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " revoked_ms INTEGER);"},
    {13, "incident: the status page's scheduled maintenances",
     "CREATE TABLE incident_maintenances ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " components TEXT NOT NULL,"
     " body TEXT NOT NULL,"
     " scheduled_for INTEGER NOT NULL,"
     " scheduled_until INTEGER NOT NULL,"
     " created_s INTEGER NOT NULL,"
     " created_by TEXT NOT NULL,"
     " notified TEXT NOT NULL DEFAULT 'scheduled');"
     "CREATE INDEX incident_maintenances_until ON incident_maintenances (scheduled_until);"},
    {14, "probe: streams added by the API and the history of findings",
     "CREATE TABLE probe_streams ("
     " name TEXT PRIMARY KEY,"
     " doc TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE probe_findings ("
     " id INTEGER PRIMARY KEY,"
     " stream TEXT NOT NULL,"
     " kind TEXT NOT NULL,"
     " state TEXT NOT NULL,"
     " detail TEXT NOT NULL,"
     " at_ms INTEGER NOT NULL);"
     "CREATE INDEX probe_findings_stream ON probe_findings (stream, id);"},
    {15,
     "tickets: support tickets (one row per source and external id) and the relations sent back",
     "CREATE TABLE tickets ("
     " id INTEGER PRIMARY KEY,"
     " source TEXT NOT NULL,"
     " ext_id TEXT NOT NULL,"
     " updated_ms INTEGER NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " received_ms INTEGER NOT NULL,"
     " subject TEXT NOT NULL,"
     " body TEXT NOT NULL,"
     " fields TEXT NOT NULL,"
     " tags TEXT NOT NULL,"
     " simhash INTEGER NOT NULL,"
     " cluster_id INTEGER NOT NULL,"
     " incident_id INTEGER NOT NULL DEFAULT 0,"
     " UNIQUE (source, ext_id));"
     "CREATE INDEX tickets_cluster ON tickets (cluster_id);"
     "CREATE INDEX tickets_incident ON tickets (incident_id);"
     "CREATE TABLE tickets_outbox ("
     " id INTEGER PRIMARY KEY,"
     " source TEXT NOT NULL,"
     " ext_id TEXT NOT NULL,"
     " incident_id INTEGER NOT NULL,"
     " kind TEXT NOT NULL,"
     " body TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " next_ms INTEGER NOT NULL,"
     " attempts INTEGER NOT NULL,"
     " status INTEGER,"
     " done_ms INTEGER);"
     "CREATE INDEX tickets_outbox_due ON tickets_outbox (done_ms, next_ms);"},
    {16, "store: small facts of the installation (the status page's first day)",
     "CREATE TABLE store_meta ("
     " key TEXT PRIMARY KEY,"
     " value INTEGER NOT NULL) WITHOUT ROWID;"},
    {17,
     "qoe: when each dimension value was last seen and in how many events (idle values age out)",
     "ALTER TABLE qoe_values ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE qoe_values ADD COLUMN events INTEGER NOT NULL DEFAULT 0;"},
    {18, "billing: each subscription's plan (a title's entitlements name plans); purchase tokens",
     "ALTER TABLE billing_subs ADD COLUMN plan TEXT NOT NULL DEFAULT '';"
     "CREATE TABLE billing_tokens ("
     " subscription TEXT PRIMARY KEY,"
     " provider TEXT NOT NULL,"
     " token TEXT NOT NULL) WITHOUT ROWID;"},
    {19, "automation: event subscriptions, their outbox and the delivery log",
     "CREATE TABLE auto_subs ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"
     " url TEXT NOT NULL,"    /* sealed */
     " keys TEXT NOT NULL,"   /* sealed: signing keys, space-separated, newest first */
     " topics TEXT NOT NULL," /* comma-separated filters */
     " state TEXT NOT NULL,"  /* live | disabled */
     " reason TEXT,"
     " created_ms INTEGER NOT NULL,"
     " changed_ms INTEGER NOT NULL);"
     "CREATE TABLE auto_msgs ("
     " id INTEGER PRIMARY KEY,"
     " sub_id INTEGER NOT NULL,"
     " msg_id TEXT NOT NULL,"
     " topic TEXT NOT NULL,"
     " body TEXT NOT NULL,"
     " state TEXT NOT NULL," /* pending | delivered | failed */
     " attempts INTEGER NOT NULL,"
     " next_ms INTEGER NOT NULL,"
     " last_status INTEGER,"
     " created_ms INTEGER NOT NULL,"
     " done_ms INTEGER);"
     "CREATE INDEX auto_msgs_due ON auto_msgs (state, next_ms);"
     "CREATE INDEX auto_msgs_sub ON auto_msgs (sub_id, msg_id);"
     "CREATE TABLE auto_attempts ("
     " id INTEGER PRIMARY KEY,"
     " msg INTEGER NOT NULL,"
     " at_ms INTEGER NOT NULL,"
     " attempt INTEGER NOT NULL,"
     " status INTEGER,"
     " error TEXT,"
     " ms INTEGER,"
     " retry_after INTEGER,"
     " next_ms INTEGER);"
     "CREATE INDEX auto_attempts_msg ON auto_attempts (msg);"},
    {20,
     "tickets: each ticket's route (queue, team, priority, first-response time) and when its"
     " status first changed (the first response); viewer feedback (NPS, CSAT)",
     "ALTER TABLE tickets ADD COLUMN route TEXT NOT NULL DEFAULT '{}';"
     "ALTER TABLE tickets ADD COLUMN responded_ms INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE tickets_feedback ("
     " id INTEGER PRIMARY KEY,"
     " ext_id TEXT UNIQUE,"
     " kind TEXT NOT NULL,"
     " score INTEGER NOT NULL,"
     " text TEXT NOT NULL,"
     " account TEXT NOT NULL,"
     " service TEXT NOT NULL,"
     " segment TEXT NOT NULL,"
     " tier TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " device TEXT NOT NULL,"
     " source TEXT NOT NULL,"
     " incident_id INTEGER NOT NULL,"
     " at_ms INTEGER NOT NULL,"
     " received_ms INTEGER NOT NULL);"
     "CREATE INDEX tickets_feedback_at ON tickets_feedback (at_ms);"},
    {21, "gate: freeze windows (a service's release gate answers no-go while one is active)",
     "CREATE TABLE gate_freezes ("
     " id INTEGER PRIMARY KEY,"
     " service TEXT NOT NULL," /* a catalog service, or '*' */
     " from_s INTEGER NOT NULL,"
     " to_s INTEGER NOT NULL,"
     " reason TEXT NOT NULL,"
     " actor TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL);"
     "CREATE INDEX gate_freezes_to ON gate_freezes (to_s);"},
    {22,
     "tickets: the post-incident surveys already requested per account (kind 'survey' rows of"
     " tickets_outbox), so an account is asked once per incident and cooldown",
     "CREATE INDEX tickets_outbox_account ON tickets_outbox (kind, ext_id, created_ms);"},
    {23,
     "incident: secrets the server made itself, sealed with DATA/oncue.key (the signing secret"
     " of rollback calls when incident.deploy_secret is empty)",
     "CREATE TABLE incident_secrets ("
     " name TEXT PRIMARY KEY,"
     " value TEXT NOT NULL,"
     " created_s INTEGER NOT NULL) WITHOUT ROWID;"},
    {24,
     "incident: a change number per incident (seq, past every other row's at each save), so"
     " replicas on one database read the incidents another one changed",
     "ALTER TABLE incidents ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
     "CREATE INDEX incidents_seq ON incidents (seq);"},
    {25,
     "resume: the changes shared between replicas on PostgreSQL (resume.shared; unused on"
     " SQLite), each replica's cursor, and the base that stands for trimmed changes",
     "CREATE TABLE resume_changes ("
     " id INTEGER PRIMARY KEY,"
     " node TEXT NOT NULL,"
     " payload BLOB NOT NULL);"
     "CREATE TABLE resume_replicas ("
     " node TEXT PRIMARY KEY,"
     " cursor INTEGER NOT NULL,"
     " seen_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE resume_base ("
     " id INTEGER PRIMARY KEY CHECK (id = 1),"
     " cursor INTEGER NOT NULL,"
     " trimmed INTEGER NOT NULL,"
     " payload BLOB NOT NULL);"},
    {0},
};

int store_schema_latest(void)
{
    int v = 0;
    for (const struct migration *m = migrations; m->version; m++)
        v = m->version;
    return v;
}

/* Applies m inside its own transaction unless another process already did. */
static int apply(struct store *s, const struct migration *m, const char *path, char *err,
                 size_t errlen)
{
    char bump[64];
    int cur, rc = store_begin(s);
    if (rc) {
        snprintf(err, errlen, "%s: migration %d: cannot begin: %s", path, m->version,
                 store_errmsg(s));
        return rc;
    }
    cur = store_user_version(s);
    if (cur >= m->version) { /* applied meanwhile by another process */
        store_rollback(s);
        return cur < 0 ? OC_EDB : 0;
    }
    snprintf(bump, sizeof bump, STORE_SQL_SET_VERSION, m->version);
    if (store_exec(s, m->sql) != 0 || store_exec(s, bump) != 0) {
        snprintf(err, errlen, "%s: migration %d (%s) failed: %s", path, m->version, m->name,
                 store_errmsg(s));
        store_rollback(s);
        return OC_EDB;
    }
    if (store_commit(s) != 0) {
        snprintf(err, errlen, "%s: migration %d: commit failed: %s", path, m->version,
                 store_errmsg(s));
        return OC_EDB;
    }
    return 0;
}

int store_migrate(struct store *s, const char *path, char *err, size_t errlen)
{
    int latest = store_schema_latest(), cur = store_user_version(s), prev = 0, rc;
    if (cur < 0) {
        snprintf(err, errlen, "%s: cannot read the schema version: %s", path, store_errmsg(s));
        return OC_EDB;
    }
    if (cur > latest) {
        snprintf(err, errlen,
                 "%s: the database has schema version %d but this oncue knows only up to %d; "
                 "run a newer oncue",
                 path, cur, latest);
        return OC_EDB;
    }
    for (const struct migration *m = migrations; m->version; m++) {
        if (m->version != prev + 1) {
            snprintf(err, errlen, "store/migrate.c: migration %d follows %d (must be %d)",
                     m->version, prev, prev + 1);
            return OC_EDB;
        }
        prev = m->version;
        if (m->version <= cur)
            continue;
        if ((rc = apply(s, m, path, err, errlen)) != 0)
            return rc;
    }
    return 0;
}
