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
