//! SQL of the browser logs: append (trimming the tenant's log to its bounds) and page back.

use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::client_logs::{Normalised, KEEP_DAYS, KEEP_ROWS};
use crate::clock::{iso_ms, now_ms};

pub fn insert(conn: &Connection, tenant: &str, user_id: &str, events: &[Normalised]) -> rusqlite::Result<()> {
    let now = now_ms();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO client_logs (tenant_id, user_id, at, level, event, message, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in events {
        let level = serde_json::to_value(e.level).expect("level serialises");
        stmt.execute(params![
            tenant,
            user_id,
            now,
            level.as_str(),
            e.event,
            e.message,
            e.details.to_string()
        ])?;
    }
    conn.execute(
        "DELETE FROM client_logs WHERE tenant_id = ?1 AND (at < ?2 OR seq <= COALESCE(
             (SELECT seq FROM client_logs WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?3), 0))",
        params![tenant, now - KEEP_DAYS * 86_400_000, KEEP_ROWS],
    )?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredEvent {
    pub seq: i64,
    pub received_at: String,
    pub user_id: String,
    pub level: String,
    pub event: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

pub fn page(conn: &Connection, tenant: &str, before: Option<i64>, limit: u64) -> rusqlite::Result<Vec<StoredEvent>> {
    conn.prepare_cached(
        "SELECT seq, at, user_id, level, event, message, details FROM client_logs
         WHERE tenant_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    )?
    .query_map(params![tenant, before.unwrap_or(i64::MAX), limit as i64], |r| {
        Ok(StoredEvent {
            seq: r.get(0)?,
            received_at: iso_ms(r.get(1)?),
            user_id: r.get(2)?,
            level: r.get(3)?,
            event: r.get(4)?,
            message: r.get(5)?,
            details: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or(Value::Null),
        })
    })?
    .collect()
}
