//! SQL of the scheduler: when jobs last ran, what was already announced, and the reads its
//! jobs need. The sweeps here are the only tenant-wide queries of notifications.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::documents::Document;

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
