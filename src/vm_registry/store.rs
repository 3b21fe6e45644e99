//! `vm_registry` rows.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VmRecord {
    pub tenant_id: String,
    pub vm_uuid: String,
    pub user_id: String,
    pub vm_name: String,
    pub project_id: String,
    /// `active`, `paused` or `revoked`.
    pub status: String,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The same value as `created_at_ms` (the reference's alias).
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<VmRecord> {
    let metadata: String = row.get("metadata")?;
    let (created, updated): (i64, i64) = (row.get("created_at")?, row.get("updated_at")?);
    Ok(VmRecord {
        tenant_id: row.get("tenant_id")?,
        vm_uuid: row.get("vm_uuid")?,
        user_id: row.get("user_id")?,
        vm_name: row.get("vm_name")?,
        project_id: row.get("project_id")?,
        status: row.get("status")?,
        metadata: serde_json::from_str(&metadata).unwrap_or(Value::Object(Default::default())),
        created_at_ms: created,
        updated_at_ms: updated,
        created_at: created,
        updated_at: updated,
    })
}

/// Inserts or overwrites every field but `created_at` (register is an upsert).
pub fn upsert(conn: &Connection, r: &VmRecord) -> rusqlite::Result<VmRecord> {
    conn.execute(
        "INSERT INTO vm_registry (tenant_id, vm_uuid, user_id, vm_name, project_id, status, metadata, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (tenant_id, vm_uuid) DO UPDATE SET user_id = excluded.user_id, vm_name = excluded.vm_name,
             project_id = excluded.project_id, status = excluded.status, metadata = excluded.metadata,
             updated_at = excluded.updated_at",
        params![r.tenant_id, r.vm_uuid, r.user_id, r.vm_name, r.project_id, r.status, r.metadata.to_string(), r.updated_at_ms],
    )?;
    get(conn, &r.tenant_id, &r.vm_uuid).map(|found| found.expect("the row just written"))
}

pub fn get(conn: &Connection, tenant_id: &str, vm_uuid: &str) -> rusqlite::Result<Option<VmRecord>> {
    conn.query_row(
        "SELECT * FROM vm_registry WHERE tenant_id = ?1 AND vm_uuid = ?2",
        params![tenant_id, vm_uuid],
        from_row,
    )
    .optional()
}
