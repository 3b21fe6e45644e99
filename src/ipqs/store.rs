//! SQL for the cache of provider answers.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// A cached answer for `ip` checked at or after `fresh_after` (ms).
pub fn fresh(conn: &Connection, tenant: &str, ip: &str, fresh_after: i64) -> rusqlite::Result<Option<Value>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT result FROM ipqs_cache WHERE tenant_id = ?1 AND ip = ?2 AND checked_at >= ?3")?
        .query_row(params![tenant, ip, fresh_after], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

pub fn remember(conn: &Connection, tenant: &str, ip: &str, result: &Value, checked_at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO ipqs_cache (tenant_id, ip, result, checked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, ip) DO UPDATE SET result = excluded.result, checked_at = excluded.checked_at",
    )?
    .execute(params![tenant, ip, result.to_string(), checked_at])?;
    Ok(())
}
