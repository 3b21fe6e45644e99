//! SQL of the outbox: rows are enqueued inside the transaction of the change that caused
//! them, claimed one at a time by the sender, then marked sent, due again, or failed.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::events::Notice;
use super::prefs::{Channel, Prefs};
use crate::clock::iso_ms;

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
