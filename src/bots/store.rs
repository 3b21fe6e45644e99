//! SQL for the bot lifecycle log and the ban archive.

use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::rules::Event;
use crate::documents::{secrets, Collection, Document};

pub fn log_event(conn: &Connection, tenant: &str, bot_id: &str, event: &Event, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO bot_lifecycle_log (tenant_id, bot_id, type, message, details, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        tenant,
        bot_id,
        event.kind,
        event.message,
        event.details.to_string(),
        at
    ])?;
    Ok(())
}

/// Stamps `last_seen = now` on every bot of the tenant whose status is not one of `except`,
/// without an audit row (a heartbeat is not an edit); how many were stamped.
pub fn mark_seen_except(conn: &Connection, tenant: &str, except: &[&str], now: i64) -> rusqlite::Result<usize> {
    let except = serde_json::to_string(except).expect("strings serialise");
    conn.prepare_cached(
        "UPDATE documents SET payload = json_set(payload, '$.last_seen', ?3), updated_at = ?3
         WHERE tenant_id = ?1 AND collection = 'bots'
           AND coalesce(json_extract(payload, '$.status'), '') NOT IN (SELECT value FROM json_each(?2))",
    )?
    .execute(params![tenant, except, now])
}

/// How many of the tenant's bots name one of `projects` as their `project_id`.
pub fn count_in_projects(conn: &Connection, tenant: &str, projects: &[String]) -> rusqlite::Result<i64> {
    let ids = serde_json::to_string(projects).expect("strings serialise");
    conn.query_row(
        "SELECT COUNT(*) FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
           AND project_id IN (SELECT value FROM json_each(?2))",
        params![tenant, ids],
        |r| r.get(0),
    )
}

/// One cell of the fleet summary: how many bots share a project, a stored status and a
/// presence. `project_id`/`status` are null when a bot has none (or not as a string).
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct SummaryGroup {
    pub project_id: Option<String>,
    pub status: Option<String>,
    /// online, offline or never_seen, by `last_seen` against `bot_offline_after_ms`.
    pub presence: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub total: i64,
    pub groups: Vec<SummaryGroup>,
}

/// The tenant's bots counted by project × status × presence in one pass (the Overview, the
/// project page's boxes and the tree's first levels read this, not the bots).
pub fn summary(conn: &Connection, tenant: &str, now: i64, stale_ms: i64) -> rusqlite::Result<Summary> {
    let groups = conn
        .prepare_cached(
            "SELECT CASE WHEN typeof(project_id) = 'text' THEN project_id END AS project,
                    CASE WHEN typeof(status) = 'text' THEN status END AS state,
                    CASE WHEN typeof(json_extract(payload, '$.last_seen')) NOT IN ('integer', 'real') THEN 'never_seen'
                         WHEN json_extract(payload, '$.last_seen') >= ?2 - ?3 THEN 'online'
                         ELSE 'offline' END AS presence,
                    COUNT(*)
             FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
             GROUP BY project, state, presence ORDER BY project, state, presence",
        )?
        .query_map(params![tenant, now, stale_ms], |r| {
            Ok(SummaryGroup {
                project_id: r.get(0)?,
                status: r.get(1)?,
                presence: r.get(2)?,
                count: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Summary {
        total: groups.iter().map(|g| g.count).sum(),
        groups,
    })
}

pub fn archive(conn: &Connection, tenant: &str, bot: &Document, ban_details: &Value, at: i64) -> rusqlite::Result<()> {
    let bot_id = bot.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut snapshot = bot.clone();
    secrets::strip(Collection::Bots, &mut snapshot);
    conn.prepare_cached(
        "INSERT INTO bot_archive (tenant_id, bot_id, reason, archived_at, ban_details, snapshot)
         VALUES (?1, ?2, 'banned', ?3, ?4, ?5)",
    )?
    .execute(params![
        tenant,
        bot_id,
        at,
        ban_details.to_string(),
        Value::Object(snapshot).to_string()
    ])?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub id: i64,
    pub bot_id: String,
    /// `status_change`, `ban` or `unban`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
    /// ms.
    pub timestamp: i64,
}

pub fn log_of(conn: &Connection, tenant: &str, bot_id: &str) -> rusqlite::Result<Vec<LogEntry>> {
    conn.prepare_cached(
        "SELECT seq, bot_id, type, message, details, at FROM bot_lifecycle_log
         WHERE tenant_id = ?1 AND bot_id = ?2 ORDER BY seq DESC LIMIT 500",
    )?
    .query_map(params![tenant, bot_id], |r| {
        Ok(LogEntry {
            id: r.get(0)?,
            bot_id: r.get(1)?,
            kind: r.get(2)?,
            message: r.get(3)?,
            details: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or(Value::Null),
            timestamp: r.get(5)?,
        })
    })?
    .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveEntry {
    pub id: i64,
    pub bot_id: String,
    pub reason: String,
    /// ms.
    pub archived_at: i64,
    #[schema(value_type = Object)]
    pub ban_details: Value,
    /// The bot document as it was when banned.
    #[schema(value_type = Object)]
    pub snapshot: Value,
}

pub fn archive_page(
    conn: &Connection,
    tenant: &str,
    limit: u64,
    offset: u64,
) -> rusqlite::Result<(Vec<ArchiveEntry>, u64)> {
    let total: i64 = conn.query_row("SELECT COUNT(*) FROM bot_archive WHERE tenant_id = ?1", [tenant], |r| {
        r.get(0)
    })?;
    let entries = conn
        .prepare_cached(
            "SELECT seq, bot_id, reason, archived_at, ban_details, snapshot FROM bot_archive
             WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3",
        )?
        .query_map(params![tenant, limit as i64, offset as i64], |r| {
            Ok(ArchiveEntry {
                id: r.get(0)?,
                bot_id: r.get(1)?,
                reason: r.get(2)?,
                archived_at: r.get(3)?,
                ban_details: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or(Value::Null),
                snapshot: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or(Value::Null),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((entries, total as u64))
}
