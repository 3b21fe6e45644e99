//! SQL of notifications. The outbox: rows are enqueued inside the transaction of the change
//! that caused them, claimed one at a time by the sender, then marked sent, due again, or
//! failed. The scheduler: when jobs last ran, what was already announced, and the reads its
//! jobs need. The sweeps here are the only tenant-wide queries of notifications.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::prefs::{Channel, Prefs};
use super::rules::Notice;
use crate::clock::iso_ms;
use crate::documents::Document;

/// Tries of one row before it is given up as `failed`.
pub const MAX_ATTEMPTS: i64 = 20;

/// Stores `notices` once per channel the tenant has on, leaving out switched-off events.
/// Call it inside the write that makes the change: the rows commit or roll back with it.
pub fn enqueue(conn: &Connection, tenant: &str, notices: &[Notice], now: i64) -> rusqlite::Result<usize> {
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
    conn: &Connection,
    tenant: &str,
    channel: Channel,
    notice: &Notice,
    status: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO notification_outbox (tenant_id, channel, event, text, data, status, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute(params![
        tenant,
        channel.as_str(),
        notice.kind.as_str(),
        notice.text,
        notice.data.to_string(),
        status,
        now
    ])?;
    Ok(conn.last_insert_rowid())
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
pub fn next_due(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT MIN(next_attempt_at) FROM notification_outbox WHERE status = 'pending'")?
        .query_row([], |r| r.get(0))
}

/// Claims the earliest due row (`sending`), or says when the next one falls due.
pub fn claim_next(conn: &Connection, now: i64) -> rusqlite::Result<Next> {
    let row = conn
        .prepare_cached(
            "SELECT id, tenant_id, channel, event, text, data, attempts, created_at, next_attempt_at
             FROM notification_outbox WHERE status = 'pending' ORDER BY next_attempt_at, id LIMIT 1",
        )?
        .query_row([], |r| {
            Ok((
                Claimed {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    channel: Channel::parse(&r.get::<_, String>(2)?).unwrap_or(Channel::Telegram),
                    event: r.get(3)?,
                    text: r.get(4)?,
                    data: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or(Value::Null),
                    attempts: r.get(6)?,
                    created_at: r.get(7)?,
                },
                r.get::<_, i64>(8)?,
            ))
        })
        .optional()?;
    match row {
        None => Ok(Next::Idle),
        Some((_, due)) if due > now => Ok(Next::DueAt(due)),
        Some((claimed, _)) => {
            conn.execute(
                "UPDATE notification_outbox SET status = 'sending' WHERE id = ?1",
                [claimed.id],
            )?;
            Ok(Next::Claimed(claimed))
        }
    }
}

pub fn mark_sent(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL
         WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Back to `pending`, due at `at`.
pub fn mark_retry(conn: &Connection, id: i64, at: i64, error: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?2,
             last_error = ?3
         WHERE id = ?1",
        params![id, at, error],
    )?;
    Ok(())
}

pub fn mark_failed(conn: &Connection, id: i64, error: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
        params![id, error],
    )?;
    Ok(())
}

/// Holds back every pending row of a tenant's channel until `until`: a rate limit is per
/// bot (or endpoint), so the next row would only be refused too.
pub fn hold_channel(conn: &Connection, tenant: &str, channel: Channel, until: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE notification_outbox SET next_attempt_at = MAX(next_attempt_at, ?3)
         WHERE status = 'pending' AND tenant_id = ?1 AND channel = ?2",
        params![tenant, channel.as_str(), until],
    )?;
    Ok(())
}

/// At start: rows claimed by a process that died before marking them go out again. This is
/// the at-least-once window (docs/ARCHITECTURE.md, "Notifications").
pub fn requeue_in_flight(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE notification_outbox SET status = 'pending' WHERE status = 'sending'",
        [],
    )
}

/// Forgets finished rows created before `before` (ms), across tenants.
pub fn prune(conn: &Connection, before: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM notification_outbox WHERE status IN ('sent', 'failed') AND created_at < ?1",
        [before],
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

fn delivery(r: &Row<'_>) -> rusqlite::Result<Delivery> {
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
        sent_at: r.get::<_, Option<i64>>(9)?.map(iso_ms),
        next_attempt_at: (status == "pending").then(|| iso_ms(next)),
        status,
    })
}

/// The tenant's deliveries older than `before` (an id), newest first.
pub fn history(conn: &Connection, tenant: &str, before: Option<i64>, limit: u64) -> rusqlite::Result<Vec<Delivery>> {
    conn.prepare_cached(
        "SELECT id, channel, event, status, attempts, text, last_error, created_at, next_attempt_at, sent_at
         FROM notification_outbox WHERE tenant_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
    )?
    .query_map(params![tenant, before, limit as i64], delivery)?
    .collect()
}

/// Tenants with a settings tree: the only ones that can have a channel or a re-check interval.
pub fn tenants(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT tenant_id FROM settings ORDER BY tenant_id")?
        .query_map([], |r| r.get(0))?
        .collect()
}

pub fn last_run(conn: &Connection, tenant: &str, job: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT last_run_at FROM scheduler_runs WHERE tenant_id = ?1 AND job = ?2")?
        .query_row(params![tenant, job], |r| r.get(0))
        .optional()
}

pub fn set_last_run(conn: &Connection, tenant: &str, job: &str, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO scheduler_runs (tenant_id, job, last_run_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (tenant_id, job) DO UPDATE SET last_run_at = excluded.last_run_at",
    )?
    .execute(params![tenant, job, at])?;
    Ok(())
}

/// Records that `key` was announced; `false` when it already was.
pub fn mark(conn: &Connection, tenant: &str, key: &str, at: i64) -> rusqlite::Result<bool> {
    let added = conn
        .prepare_cached("INSERT OR IGNORE INTO notification_marks (tenant_id, key, at) VALUES (?1, ?2, ?3)")?
        .execute(params![tenant, key, at])?;
    Ok(added == 1)
}

/// Working bots whose `last_seen` lies in `(after, until]`, by tenant: those that went silent
/// since the last sweep.
pub fn bots_seen_between(conn: &Connection, after: i64, until: i64) -> rusqlite::Result<Vec<(String, Document)>> {
    conn.prepare_cached(
        "SELECT tenant_id, payload FROM documents
         WHERE collection = 'bots' AND COALESCE(status, 'offline') NOT IN ('offline', 'banned')
           AND json_extract(payload, '$.last_seen') > ?1 AND json_extract(payload, '$.last_seen') <= ?2
         ORDER BY tenant_id",
    )?
    .query_map(params![after, until], |r| {
        let payload: String = r.get(1)?;
        let doc = match serde_json::from_str(&payload) {
            Ok(Value::Object(doc)) => doc,
            _ => Document::new(),
        };
        Ok((r.get(0)?, doc))
    })?
    .collect()
}

/// Active agents last heard from in `(after, until]`: (tenant, id, name).
pub fn agents_seen_between(
    conn: &Connection,
    after: i64,
    until: i64,
) -> rusqlite::Result<Vec<(String, String, String)>> {
    conn.prepare_cached(
        "SELECT tenant_id, id, name FROM agents
         WHERE status = 'active' AND last_seen_at > ?1 AND last_seen_at <= ?2 ORDER BY tenant_id",
    )?
    .query_map(params![after, until], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect()
}

/// The tenant's proxies with an address, except banned ones: (id, ip).
pub fn proxies_to_check(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare_cached(
        "SELECT id, json_extract(payload, '$.ip') FROM documents
         WHERE tenant_id = ?1 AND collection = 'proxies' AND COALESCE(status, '') <> 'banned'
           AND typeof(json_extract(payload, '$.ip')) = 'text'
         ORDER BY id",
    )?
    .query_map([tenant], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// The tenant's bots by stored status (missing counts as `offline`).
pub fn bot_status_counts(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    conn.prepare_cached(
        "SELECT COALESCE(status, 'offline'), COUNT(*) FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
         GROUP BY 1 ORDER BY 2 DESC, 1",
    )?
    .query_map([tenant], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// Deliveries of the tenant created since `since`, by status.
pub fn delivery_counts(conn: &Connection, tenant: &str, since: i64) -> rusqlite::Result<Vec<(String, i64)>> {
    conn.prepare_cached(
        "SELECT status, COUNT(*) FROM notification_outbox WHERE tenant_id = ?1 AND created_at >= ?2
         GROUP BY 1 ORDER BY 1",
    )?
    .query_map(params![tenant, since], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

#[cfg(test)]
mod tests {
    use rusqlite::params;
    use serde_json::json;

    use super::*;
    use crate::notifications::rules::{agent_presence, Kind};
    use crate::notifications::store;
    use crate::settings::tree::{self, SettingsPath};
    use crate::vault::{KeySource, Vault};

    fn configure(conn: &Connection, vault: &Vault, tenant: &str, path: &[&str], settings: serde_json::Value) {
        tree::update(conn, vault, tenant, |t| tree::set(t, &SettingsPath::of(path), settings)).unwrap();
    }

    fn rows(conn: &Connection) -> Vec<(String, String, String)> {
        conn.prepare("SELECT tenant_id, channel, event FROM notification_outbox ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn notices_go_to_each_active_channel_of_their_tenant_unless_switched_off() {
        let conn = crate::db::test_connection();
        let (vault, _) = Vault::generate(KeySource::Env);
        let online = agent_presence("a1", "Rack", true);
        // No settings: nothing is queued, and nothing fails.
        assert_eq!(enqueue(&conn, "t1", std::slice::from_ref(&online), 1).unwrap(), 0);

        configure(
            &conn,
            &vault,
            "t1",
            &[],
            json!({
                "api_keys": { "telegram": { "enabled": true, "chat_id": "1", "bot_token": "1:A" } },
                "notifications": { "webhook": { "enabled": true, "url": "http://x/hook" }, "events": { "bot_online": true } },
            }),
        );
        configure(
            &conn,
            &vault,
            "t2",
            &[],
            json!({
                "api_keys": { "telegram": { "enabled": true, "chat_id": "1" } },
            }),
        );
        let offline = agent_presence("a1", "Rack", false);
        assert_eq!(enqueue(&conn, "t1", &[online.clone(), offline.clone()], 1).unwrap(), 4);
        // t2's Telegram has no token: not a channel yet.
        assert_eq!(enqueue(&conn, "t2", &[offline], 1).unwrap(), 0);
        configure(
            &conn,
            &vault,
            "t1",
            &[],
            json!({ "notifications": { "events": { "bot_online": false } } }),
        );
        assert_eq!(enqueue(&conn, "t1", &[online], 1).unwrap(), 0);
        let got = rows(&conn);
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|(t, _, _)| t == "t1"));
        assert_eq!(
            got.iter()
                .filter(|(_, c, e)| c == "webhook" && e == Kind::BotOffline.as_str())
                .count(),
            1
        );
    }

    #[test]
    fn claims_are_ordered_and_a_crash_requeues_only_claimed_rows() {
        let conn = crate::db::test_connection();
        let notice = agent_presence("a1", "Rack", true);
        let first = insert(&conn, "t", Channel::Telegram, &notice, "pending", 10).unwrap();
        let second = insert(&conn, "t", Channel::Telegram, &notice, "pending", 10).unwrap();
        assert!(matches!(claim_next(&conn, 5).unwrap(), Next::DueAt(10)));
        let Next::Claimed(row) = claim_next(&conn, 10).unwrap() else {
            panic!("due")
        };
        assert_eq!(row.id, first);
        mark_sent(&conn, first, 11).unwrap();
        let Next::Claimed(row) = claim_next(&conn, 11).unwrap() else {
            panic!("due")
        };
        assert_eq!(row.id, second);
        assert!(matches!(claim_next(&conn, 11).unwrap(), Next::Idle));
        // The process dies here: only the claimed, unmarked row goes out again.
        assert_eq!(requeue_in_flight(&conn).unwrap(), 1);
        let Next::Claimed(row) = claim_next(&conn, 12).unwrap() else {
            panic!("requeued")
        };
        assert_eq!(row.id, second);
        // A rate limit holds the rest of the channel.
        let third = insert(&conn, "t", Channel::Telegram, &notice, "pending", 12).unwrap();
        mark_retry(&conn, second, 100, "429").unwrap();
        hold_channel(&conn, "t", Channel::Telegram, 100).unwrap();
        assert!(matches!(claim_next(&conn, 50).unwrap(), Next::DueAt(100)));
        let due: i64 = conn
            .query_row(
                "SELECT next_attempt_at FROM notification_outbox WHERE id = ?1",
                params![third],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(due, 100);
    }

    #[test]
    fn the_agent_sweep_finds_those_that_crossed_the_line_since_the_last_run() {
        let conn = crate::db::test_connection();
        for (id, status, seen) in [("a", "active", 100), ("b", "active", 200), ("c", "revoked", 150)] {
            conn.execute(
                "INSERT INTO agents (id, tenant_id, name, status, last_seen_at, created_at, updated_at)
                 VALUES (?1, 't', ?1, ?2, ?3, 0, 0)",
                params![id, status, seen],
            )
            .unwrap();
        }
        let found = store::agents_seen_between(&conn, 100, 200).unwrap();
        assert_eq!(found, [("t".to_owned(), "b".to_owned(), "b".to_owned())]);
    }
}
