//! SQL of notifications. The outbox: rows are enqueued inside the transaction of the change
//! that caused them, claimed one at a time by the sender, then marked sent, due again, or
//! failed. The scheduler: when jobs last ran, what was already announced, and the reads its
//! jobs need. The sweeps here are the only tenant-wide queries of notifications.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::prefs::{Channel, Prefs};
use super::rules::Notice;
use crate::args;
use crate::clock::iso_ms;
use crate::db::sql::Row;
use crate::db::{Conn, DbError, Dialect};
use crate::documents::Document;

/// Tries of one row before it is given up as `failed`.
pub const MAX_ATTEMPTS: i64 = 20;

/// Stores `notices` once per channel the tenant has on, leaving out switched-off events.
/// Call it inside the write that makes the change: the rows commit or roll back with it.
pub fn enqueue(conn: &dyn Conn, tenant: &str, notices: &[Notice], now: i64) -> Result<usize, DbError> {
    if notices.is_empty() {
        return Ok(0);
    }
    let prefs = Prefs::load(conn, tenant)?;
    let channels = prefs.channels();
    let mut stored = 0;
    for notice in notices.iter().filter(|n| prefs.wants(n.kind)) {
        for channel in &channels {
            insert(conn, tenant, *channel, notice, "pending", now)?;
            stored += 1;
        }
    }
    Ok(stored)
}

/// One row in `status`; returns its id.
pub fn insert(
    conn: &dyn Conn,
    tenant: &str,
    channel: Channel,
    notice: &Notice,
    status: &str,
    now: i64,
) -> Result<i64, DbError> {
    conn.one(
        "INSERT INTO notification_outbox (tenant_id, channel, event, text, data, status, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
        args![
            tenant,
            channel.as_str(),
            notice.kind.as_str(),
            notice.text,
            notice.data,
            status,
            now
        ],
        |r| r.get(0),
    )
}

/// A row the sender owns until it marks it.
pub struct Claimed {
    pub id: i64,
    pub tenant_id: String,
    pub channel: Channel,
    pub event: String,
    pub text: String,
    pub data: Value,
    /// Tries before this one.
    pub attempts: i64,
    pub created_at: i64,
}

pub enum Next {
    Claimed(Claimed),
    /// Nothing due yet; the earliest pending row falls due then (ms).
    DueAt(i64),
    Idle,
}

/// When the earliest pending row falls due (ms): a read, so waking the sender costs little.
pub fn next_due(conn: &dyn Conn) -> Result<Option<i64>, DbError> {
    conn.one(
        "SELECT MIN(next_attempt_at) FROM notification_outbox WHERE status = 'pending'",
        args![],
        |r| r.get(0),
    )
}

/// Claims the earliest due row (`sending`), or says when the next one falls due.
pub fn claim_next(conn: &dyn Conn, now: i64) -> Result<Next, DbError> {
    let row = conn.opt(
        match conn.dialect() {
            Dialect::Sqlite => {
                "SELECT id, tenant_id, channel, event, text, data, attempts, created_at, next_attempt_at
                 FROM notification_outbox WHERE status = 'pending' ORDER BY next_attempt_at, id LIMIT 1"
            }
            // The row stays locked until the claim commits; another sender takes the next one.
            Dialect::Postgres => {
                "SELECT id, tenant_id, channel, event, text, data, attempts, created_at, next_attempt_at
                 FROM notification_outbox WHERE status = 'pending' ORDER BY next_attempt_at, id LIMIT 1
                 FOR UPDATE SKIP LOCKED"
            }
        },
        args![],
        |r| {
            Ok((
                Claimed {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    channel: Channel::parse(&r.get::<String>(2)?).unwrap_or(Channel::Telegram),
                    event: r.get(3)?,
                    text: r.get(4)?,
                    data: serde_json::from_str(&r.get::<String>(5)?).unwrap_or(Value::Null),
                    attempts: r.get(6)?,
                    created_at: r.get(7)?,
                },
                r.get::<i64>(8)?,
            ))
        },
    )?;
    match row {
        None => Ok(Next::Idle),
        Some((_, due)) if due > now => Ok(Next::DueAt(due)),
        Some((claimed, _)) => {
            conn.execute(
                "UPDATE notification_outbox SET status = 'sending' WHERE id = ?1",
                args![claimed.id],
            )?;
            Ok(Next::Claimed(claimed))
        }
    }
}

pub fn mark_sent(conn: &dyn Conn, id: i64, now: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL
         WHERE id = ?1",
        args![id, now],
    )?;
    Ok(())
}

/// Back to `pending`, due at `at`.
pub fn mark_retry(conn: &dyn Conn, id: i64, at: i64, error: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?2,
             last_error = ?3
         WHERE id = ?1",
        args![id, at, error],
    )?;
    Ok(())
}

pub fn mark_failed(conn: &dyn Conn, id: i64, error: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
        args![id, error],
    )?;
    Ok(())
}

/// Holds back every pending row of a tenant's channel until `until`: a rate limit is per
/// bot (or endpoint), so the next row would only be refused too.
pub fn hold_channel(conn: &dyn Conn, tenant: &str, channel: Channel, until: i64) -> Result<(), DbError> {
    conn.execute(
        match conn.dialect() {
            Dialect::Sqlite => {
                "UPDATE notification_outbox SET next_attempt_at = MAX(next_attempt_at, ?3)
                 WHERE status = 'pending' AND tenant_id = ?1 AND channel = ?2"
            }
            Dialect::Postgres => {
                "UPDATE notification_outbox SET next_attempt_at = GREATEST(next_attempt_at, ?3)
                 WHERE status = 'pending' AND tenant_id = ?1 AND channel = ?2"
            }
        },
        args![tenant, channel.as_str(), until],
    )?;
    Ok(())
}

/// At start: rows claimed by a process that died before marking them go out again. This is
/// the at-least-once window (docs/ARCHITECTURE.md, "Notifications").
pub fn requeue_in_flight(conn: &dyn Conn) -> Result<usize, DbError> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'pending' WHERE status = 'sending'",
        args![],
    )
}

/// Forgets finished rows created before `before` (ms), across tenants.
pub fn prune(conn: &dyn Conn, before: i64) -> Result<usize, DbError> {
    conn.execute(
        "DELETE FROM notification_outbox WHERE status IN ('sent', 'failed') AND created_at < ?1",
        args![before],
    )
}

/// One row of the delivery history.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    /// `telegram` or `webhook`.
    pub channel: String,
    /// `bot_banned`, `bot_offline`, …, `test`.
    pub event: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub text: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// When a pending row is tried next.
    pub next_attempt_at: Option<String>,
}

fn delivery(r: &Row<'_>) -> Result<Delivery, DbError> {
    let status: String = r.get(3)?;
    let next: i64 = r.get(8)?;
    Ok(Delivery {
        id: r.get(0)?,
        channel: r.get(1)?,
        event: r.get(2)?,
        attempts: r.get(4)?,
        text: r.get(5)?,
        last_error: r.get(6)?,
        created_at: iso_ms(r.get(7)?),
        sent_at: r.get::<Option<i64>>(9)?.map(iso_ms),
        next_attempt_at: (status == "pending").then(|| iso_ms(next)),
        status,
    })
}

/// The tenant's deliveries older than `before` (an id), newest first.
pub fn history(conn: &dyn Conn, tenant: &str, before: Option<i64>, limit: u64) -> Result<Vec<Delivery>, DbError> {
    // The cast: PostgreSQL cannot type a parameter that is first met as `? IS NULL`.
    conn.all(
        "SELECT id, channel, event, status, attempts, text, last_error, created_at, next_attempt_at, sent_at
         FROM notification_outbox WHERE tenant_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR id < ?2)
         ORDER BY id DESC LIMIT ?3",
        args![tenant, before, limit],
        delivery,
    )
}

/// Tenants with a settings tree: the only ones that can have a channel or a re-check interval.
pub fn tenants(conn: &dyn Conn) -> Result<Vec<String>, DbError> {
    conn.all("SELECT tenant_id FROM settings ORDER BY tenant_id", args![], |r| {
        r.get(0)
    })
}

pub fn last_run(conn: &dyn Conn, tenant: &str, job: &str) -> Result<Option<i64>, DbError> {
    conn.opt(
        "SELECT last_run_at FROM scheduler_runs WHERE tenant_id = ?1 AND job = ?2",
        args![tenant, job],
        |r| r.get(0),
    )
}

/// The job's last run for a run that is about to store its own: on PostgreSQL the row stays
/// locked until the transaction ends, so the same job on another replica waits for it and then
/// reads this run's time (and finds nothing due). SQLite's one writer already runs the two one
/// after the other.
pub fn last_run_for_update(conn: &dyn Conn, tenant: &str, job: &str) -> Result<Option<i64>, DbError> {
    conn.opt(
        match conn.dialect() {
            Dialect::Sqlite => "SELECT last_run_at FROM scheduler_runs WHERE tenant_id = ?1 AND job = ?2",
            Dialect::Postgres => "SELECT last_run_at FROM scheduler_runs WHERE tenant_id = ?1 AND job = ?2 FOR UPDATE",
        },
        args![tenant, job],
        |r| r.get(0),
    )
}

pub fn set_last_run(conn: &dyn Conn, tenant: &str, job: &str, at: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO scheduler_runs (tenant_id, job, last_run_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (tenant_id, job) DO UPDATE SET last_run_at = excluded.last_run_at",
        args![tenant, job, at],
    )?;
    Ok(())
}

/// Records that `key` was announced; `false` when it already was.
pub fn mark(conn: &dyn Conn, tenant: &str, key: &str, at: i64) -> Result<bool, DbError> {
    let added = conn.execute(
        "INSERT INTO notification_marks (tenant_id, key, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        args![tenant, key, at],
    )?;
    Ok(added == 1)
}

/// Working bots whose `last_seen` lies in `(after, until]`, by tenant: those that went silent
/// since the last sweep.
pub fn bots_seen_between(conn: &dyn Conn, after: i64, until: i64) -> Result<Vec<(String, Document)>, DbError> {
    conn.all(
        match conn.dialect() {
            Dialect::Sqlite => {
                "SELECT tenant_id, payload FROM documents
                 WHERE collection = 'bots' AND COALESCE(status, 'offline') NOT IN ('offline', 'banned')
                   AND json_extract(payload, '$.last_seen') > ?1 AND json_extract(payload, '$.last_seen') <= ?2
                 ORDER BY tenant_id"
            }
            // Only a number is a time (SQLite's comparison never matches a text with a number);
            // the CASE keeps the cast from meeting anything else.
            Dialect::Postgres => {
                "SELECT tenant_id, payload FROM (
                     SELECT tenant_id, payload,
                            CASE WHEN jsonb_typeof(payload -> 'last_seen') = 'number'
                                 THEN (payload ->> 'last_seen')::double precision END AS seen
                     FROM documents
                     WHERE collection = 'bots' AND COALESCE(status, 'offline') NOT IN ('offline', 'banned')
                 ) bots
                 WHERE seen > ?1 AND seen <= ?2
                 ORDER BY tenant_id"
            }
        },
        args![after, until],
        |r| {
            let doc = match serde_json::from_str(&r.get::<String>(1)?) {
                Ok(Value::Object(doc)) => doc,
                _ => Document::new(),
            };
            Ok((r.get(0)?, doc))
        },
    )
}

/// Active agents last heard from in `(after, until]`: (tenant, id, name).
pub fn agents_seen_between(conn: &dyn Conn, after: i64, until: i64) -> Result<Vec<(String, String, String)>, DbError> {
    conn.all(
        "SELECT tenant_id, id, name FROM agents
         WHERE status = 'active' AND last_seen_at > ?1 AND last_seen_at <= ?2 ORDER BY tenant_id",
        args![after, until],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// The tenant's proxies with an address, except banned ones: (id, ip).
pub fn proxies_to_check(conn: &dyn Conn, tenant: &str) -> Result<Vec<(String, String)>, DbError> {
    conn.all(
        match conn.dialect() {
            Dialect::Sqlite => {
                "SELECT id, json_extract(payload, '$.ip') FROM documents
                 WHERE tenant_id = ?1 AND collection = 'proxies' AND COALESCE(status, '') <> 'banned'
                   AND typeof(json_extract(payload, '$.ip')) = 'text'
                 ORDER BY id"
            }
            Dialect::Postgres => {
                "SELECT id, payload ->> 'ip' FROM documents
                 WHERE tenant_id = ?1 AND collection = 'proxies' AND COALESCE(status, '') <> 'banned'
                   AND jsonb_typeof(payload -> 'ip') = 'string'
                 ORDER BY id"
            }
        },
        args![tenant],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The tenant's bots by stored status (missing counts as `offline`).
pub fn bot_status_counts(conn: &dyn Conn, tenant: &str) -> Result<Vec<(String, i64)>, DbError> {
    conn.all(
        "SELECT COALESCE(status, 'offline'), COUNT(*) FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
         GROUP BY 1 ORDER BY 2 DESC, 1",
        args![tenant],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Deliveries of the tenant created since `since`, by status.
pub fn delivery_counts(conn: &dyn Conn, tenant: &str, since: i64) -> Result<Vec<(String, i64)>, DbError> {
    conn.all(
        "SELECT status, COUNT(*) FROM notification_outbox WHERE tenant_id = ?1 AND created_at >= ?2
         GROUP BY 1 ORDER BY 1",
        args![tenant, since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::db::sql::on_each_backend;
    use crate::notifications::rules::{agent_presence, Kind};
    use crate::settings::tree::{self, SettingsPath};
    use crate::vault::{KeySource, Vault};

    fn configure(conn: &dyn Conn, vault: &Vault, tenant: &str, path: &[&str], settings: serde_json::Value) {
        tree::update(conn, vault, tenant, |t| tree::set(t, &SettingsPath::of(path), settings)).unwrap();
    }

    fn rows(conn: &dyn Conn) -> Vec<(String, String, String)> {
        conn.all(
            "SELECT tenant_id, channel, event FROM notification_outbox ORDER BY id",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    }

    #[test]
    fn notices_go_to_each_active_channel_of_their_tenant_unless_switched_off_on_both_databases() {
        on_each_backend("notifications_enqueue", |conn| {
            let (vault, _) = Vault::generate(KeySource::Env);
            let online = agent_presence("a1", "Rack", true);
            // No settings: nothing is queued, and nothing fails.
            assert_eq!(enqueue(conn, "t1", std::slice::from_ref(&online), 1).unwrap(), 0);

            configure(
                conn,
                &vault,
                "t1",
                &[],
                json!({
                    "api_keys": { "telegram": { "enabled": true, "chat_id": "1", "bot_token": "1:A" } },
                    "notifications": { "webhook": { "enabled": true, "url": "http://x/hook" }, "events": { "bot_online": true } },
                }),
            );
            configure(
                conn,
                &vault,
                "t2",
                &[],
                json!({
                    "api_keys": { "telegram": { "enabled": true, "chat_id": "1" } },
                }),
            );
            let offline = agent_presence("a1", "Rack", false);
            assert_eq!(enqueue(conn, "t1", &[online.clone(), offline.clone()], 1).unwrap(), 4);
            // t2's Telegram has no token: not a channel yet.
            assert_eq!(enqueue(conn, "t2", &[offline], 1).unwrap(), 0);
            configure(
                conn,
                &vault,
                "t1",
                &[],
                json!({ "notifications": { "events": { "bot_online": false } } }),
            );
            assert_eq!(enqueue(conn, "t1", &[online], 1).unwrap(), 0);
            let got = rows(conn);
            assert_eq!(got.len(), 4);
            assert!(got.iter().all(|(t, _, _)| t == "t1"));
            assert_eq!(
                got.iter()
                    .filter(|(_, c, e)| c == "webhook" && e == Kind::BotOffline.as_str())
                    .count(),
                1
            );
        });
    }

    #[test]
    fn claims_are_ordered_and_a_crash_requeues_only_claimed_rows() {
        on_each_backend("notifications_claims", |c| {
            let notice = agent_presence("a1", "Rack", true);
            assert_eq!(next_due(c).unwrap(), None);
            let first = insert(c, "t", Channel::Telegram, &notice, "pending", 10).unwrap();
            let second = insert(c, "t", Channel::Telegram, &notice, "pending", 10).unwrap();
            assert_eq!(next_due(c).unwrap(), Some(10));
            assert!(matches!(claim_next(c, 5).unwrap(), Next::DueAt(10)));
            let Next::Claimed(row) = claim_next(c, 10).unwrap() else {
                panic!("due")
            };
            assert_eq!(
                (row.id, row.channel, row.attempts, row.created_at),
                (first, Channel::Telegram, 0, 10)
            );
            assert_eq!(
                (row.event.as_str(), row.data.clone()),
                (Kind::BotOnline.as_str(), notice.data.clone())
            );
            mark_sent(c, first, 11).unwrap();
            let Next::Claimed(row) = claim_next(c, 11).unwrap() else {
                panic!("due")
            };
            assert_eq!(row.id, second);
            assert!(matches!(claim_next(c, 11).unwrap(), Next::Idle));
            // The process dies here: only the claimed, unmarked row goes out again.
            assert_eq!(requeue_in_flight(c).unwrap(), 1);
            let Next::Claimed(row) = claim_next(c, 12).unwrap() else {
                panic!("requeued")
            };
            assert_eq!(row.id, second);
            // A rate limit holds the rest of the channel, and never brings a later row forward.
            let third = insert(c, "t", Channel::Telegram, &notice, "pending", 12).unwrap();
            let fourth = insert(c, "t", Channel::Telegram, &notice, "pending", 500).unwrap();
            mark_retry(c, second, 100, "429").unwrap();
            hold_channel(c, "t", Channel::Telegram, 100).unwrap();
            assert!(matches!(claim_next(c, 50).unwrap(), Next::DueAt(100)));
            let due = |id: i64| -> i64 {
                c.one(
                    "SELECT next_attempt_at FROM notification_outbox WHERE id = ?1",
                    args![id],
                    |r| r.get(0),
                )
                .unwrap()
            };
            assert_eq!((due(third), due(fourth)), (100, 500), "{:?}", c.dialect());
            mark_failed(c, fourth, "gone").unwrap();

            // History: newest first, before an id, with the pending row's next try.
            let history_ids =
                |before| -> Vec<i64> { history(c, "t", before, 10).unwrap().iter().map(|d| d.id).collect() };
            assert_eq!(history_ids(None), [fourth, third, second, first]);
            assert_eq!(history_ids(Some(third)), [second, first]);
            let page = history(c, "t", None, 2).unwrap();
            assert_eq!(page.len(), 2);
            assert_eq!(
                (page[0].status.as_str(), page[0].attempts, page[0].last_error.as_deref()),
                ("failed", 1, Some("gone"))
            );
            assert_eq!(
                (page[1].status.as_str(), page[1].next_attempt_at.is_some()),
                ("pending", true)
            );
            let sent = history(c, "t", Some(second), 1).unwrap();
            assert_eq!(
                (
                    sent[0].status.as_str(),
                    sent[0].sent_at.is_some(),
                    sent[0].last_error.clone()
                ),
                ("sent", true, None)
            );
            assert!(history(c, "other", None, 10).unwrap().is_empty());

            assert_eq!(
                delivery_counts(c, "t", 11).unwrap(),
                [("failed".to_owned(), 1), ("pending".to_owned(), 1)]
            );
            assert_eq!(
                delivery_counts(c, "t", 0).unwrap().iter().map(|(_, n)| n).sum::<i64>(),
                4
            );
            // Only finished rows older than the cut go.
            assert_eq!(prune(c, 13).unwrap(), 1);
            assert_eq!(history_ids(None), [fourth, third, second]);
        });
    }

    #[test]
    fn the_scheduler_reads_answer_alike_on_both_databases() {
        on_each_backend("notifications_sweeps", |c| {
            for (id, status, seen) in [("a", "active", 100), ("b", "active", 200), ("c", "revoked", 150)] {
                c.execute(
                    "INSERT INTO agents (id, tenant_id, name, status, last_seen_at, created_at, updated_at)
                     VALUES (?1, 't', ?1, ?2, ?3, 0, 0)",
                    args![id, status, seen],
                )
                .unwrap();
            }
            let found = agents_seen_between(c, 100, 200).unwrap();
            assert_eq!(found, [("t".to_owned(), "b".to_owned(), "b".to_owned())]);

            let doc = |tenant: &str, coll: &str, id: &str, payload: Value| {
                c.execute(
                    "INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 1, 1)",
                    args![tenant, coll, id, payload],
                )
                .unwrap();
            };
            doc("t", "bots", "b1", json!({"status": "farming", "last_seen": 150}));
            doc("t", "bots", "b2", json!({"status": "banned", "last_seen": 150}));
            doc("t", "bots", "b3", json!({"last_seen": 150}));
            doc("t", "bots", "b4", json!({"status": "farming", "last_seen": 100}));
            doc("t", "bots", "b5", json!({"status": "farming", "last_seen": "soon"}));
            doc("t", "bots", "b6", json!({"status": "farming"}));
            doc("u", "bots", "b7", json!({"status": "leveling", "last_seen": 200.5}));
            let silent: Vec<_> = bots_seen_between(c, 100, 201)
                .unwrap()
                .into_iter()
                .map(|(tenant, bot)| (tenant, bot.get("last_seen").cloned()))
                .collect();
            assert_eq!(
                silent,
                [("t".into(), Some(json!(150))), ("u".into(), Some(json!(200.5)))],
                "{:?}",
                c.dialect()
            );
            assert_eq!(
                bot_status_counts(c, "t").unwrap(),
                [
                    ("farming".to_owned(), 4),
                    ("banned".to_owned(), 1),
                    ("offline".to_owned(), 1)
                ]
            );

            doc("t", "proxies", "p2", json!({"ip": "10.0.0.2"}));
            doc("t", "proxies", "p1", json!({"ip": "10.0.0.1", "status": "active"}));
            doc("t", "proxies", "p3", json!({"ip": "10.0.0.3", "status": "banned"}));
            doc("t", "proxies", "p4", json!({"ip": 7}));
            doc("u", "proxies", "p5", json!({"ip": "10.0.0.5"}));
            assert_eq!(
                proxies_to_check(c, "t").unwrap(),
                [
                    ("p1".to_owned(), "10.0.0.1".to_owned()),
                    ("p2".to_owned(), "10.0.0.2".to_owned())
                ]
            );

            // Runs and marks.
            assert_eq!(last_run(c, "t", "job").unwrap(), None);
            set_last_run(c, "t", "job", 5).unwrap();
            set_last_run(c, "t", "job", 6).unwrap();
            assert_eq!(last_run(c, "t", "job").unwrap(), Some(6));
            assert_eq!(last_run(c, "u", "job").unwrap(), None);
            assert!(mark(c, "t", "daily:1", 1).unwrap());
            assert!(!mark(c, "t", "daily:1", 2).unwrap());
            assert!(mark(c, "u", "daily:1", 2).unwrap());

            // Enqueue: once per channel that is on, leaving out switched-off events.
            for (tenant, tree) in [
                (
                    "u",
                    json!({"notifications": {"webhook": {"enabled": true, "url": "http://x/hook"}}}),
                ),
                (
                    "t",
                    json!({"notifications": {"webhook": {"enabled": false, "url": "http://x/hook"}}}),
                ),
            ] {
                c.execute(
                    "INSERT INTO settings (tenant_id, tree, updated_at) VALUES (?1, ?2, 1)",
                    args![tenant, tree],
                )
                .unwrap();
            }
            assert_eq!(tenants(c).unwrap(), ["t", "u"]);
            let offline = agent_presence("a1", "Rack", false);
            let online = agent_presence("a1", "Rack", true);
            assert_eq!(enqueue(c, "u", &[offline.clone(), online], 7).unwrap(), 1);
            assert_eq!(enqueue(c, "t", &[offline], 7).unwrap(), 0);
            let queued = history(c, "u", None, 10).unwrap();
            assert_eq!(queued.len(), 1);
            assert_eq!(
                (queued[0].channel.as_str(), queued[0].event.as_str()),
                ("webhook", Kind::BotOffline.as_str())
            );
        });
    }

    #[test]
    fn a_second_replica_reads_a_jobs_last_run_after_the_first_stored_its_own() {
        let Some(database) = botmox_testkit::pg::TestDatabase::create("scheduler_run_lock") else {
            return;
        };
        let mut first = database.connect();
        crate::db::pg::migrate(&mut first).expect("the PostgreSQL migrations apply");
        let first = crate::db::sql::Pg::new(&mut first);
        set_last_run(&first, "server", "presence", 100).unwrap();
        first.batch("BEGIN").unwrap();
        assert_eq!(last_run_for_update(&first, "server", "presence").unwrap(), Some(100));
        let (read_tx, read) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            let mut client = database.connect();
            s.spawn(move || {
                let second = crate::db::sql::Pg::new(&mut client);
                second.batch("BEGIN").unwrap();
                let seen = last_run_for_update(&second, "server", "presence").unwrap();
                second.batch("COMMIT").unwrap();
                read_tx.send(seen).unwrap();
            });
            // The second waits on the row while the first's transaction is open. (Its read
            // arriving here would be the bug; waiting a moment for it cannot make this pass
            // wrongly.)
            assert!(
                read.recv_timeout(std::time::Duration::from_millis(300)).is_err(),
                "the second replica read the run while the first held it"
            );
            set_last_run(&first, "server", "presence", 200).unwrap();
            first.batch("COMMIT").unwrap();
            assert_eq!(read.recv().unwrap(), Some(200), "the second sees the first's run");
        });
    }
}
