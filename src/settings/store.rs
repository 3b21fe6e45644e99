//! The settings row of a tenant: its tree as JSON.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

pub fn load(conn: &Connection, tenant: &str) -> rusqlite::Result<Value> {
    let text: Option<String> = conn
        .query_row("SELECT tree FROM settings WHERE tenant_id = ?1", [tenant], |r| r.get(0))
        .optional()?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| Value::Object(Map::new())))
}

pub fn save(conn: &Connection, tenant: &str, tree: &Value, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO settings (tenant_id, tree, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (tenant_id) DO UPDATE SET tree = excluded.tree, updated_at = excluded.updated_at",
        params![tenant, tree.to_string(), now],
    )?;
    Ok(())
}
