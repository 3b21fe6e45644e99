//! `vm_registry` rows.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::args;
use crate::db::sql::Row;
use crate::db::{Conn, DbError};

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

/// The columns [`from_row`] reads, in its order.
const COLUMNS: &str = "tenant_id, vm_uuid, user_id, vm_name, project_id, status, metadata, created_at, updated_at";

fn from_row(row: &Row<'_>) -> Result<VmRecord, DbError> {
    let metadata: String = row.get(6)?;
    let (created, updated): (i64, i64) = (row.get(7)?, row.get(8)?);
    Ok(VmRecord {
        tenant_id: row.get(0)?,
        vm_uuid: row.get(1)?,
        user_id: row.get(2)?,
        vm_name: row.get(3)?,
        project_id: row.get(4)?,
        status: row.get(5)?,
        metadata: serde_json::from_str(&metadata).unwrap_or(Value::Object(Default::default())),
        created_at_ms: created,
        updated_at_ms: updated,
        created_at: created,
        updated_at: updated,
    })
}

/// Inserts or overwrites every field but `created_at` (register is an upsert).
pub fn upsert(conn: &dyn Conn, r: &VmRecord) -> Result<VmRecord, DbError> {
    conn.execute(
        "INSERT INTO vm_registry (tenant_id, vm_uuid, user_id, vm_name, project_id, status, metadata, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (tenant_id, vm_uuid) DO UPDATE SET user_id = excluded.user_id, vm_name = excluded.vm_name,
             project_id = excluded.project_id, status = excluded.status, metadata = excluded.metadata,
             updated_at = excluded.updated_at",
        args![r.tenant_id, r.vm_uuid, r.user_id, r.vm_name, r.project_id, r.status, r.metadata, r.updated_at_ms],
    )?;
    get(conn, &r.tenant_id, &r.vm_uuid).map(|found| found.expect("the row just written"))
}

pub fn get(conn: &dyn Conn, tenant_id: &str, vm_uuid: &str) -> Result<Option<VmRecord>, DbError> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM vm_registry WHERE tenant_id = ?1 AND vm_uuid = ?2"),
        args![tenant_id, vm_uuid],
        from_row,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn a_registration_upserts_and_keeps_its_creation_time_on_both_databases() {
        on_each_backend("vm_registry_store", |c| {
            let mut record = VmRecord {
                tenant_id: "t".into(),
                vm_uuid: "4c4c4544-0000-1000-8000-000000000001".into(),
                user_id: "u".into(),
                vm_name: "farm-1".into(),
                project_id: "p".into(),
                status: "active".into(),
                metadata: serde_json::json!({"slot": 1}),
                created_at_ms: 10,
                updated_at_ms: 10,
                created_at: 10,
                updated_at: 10,
            };
            upsert(c, &record).unwrap();
            record.vm_name = "farm-2".into();
            record.updated_at_ms = 20;
            let stored = upsert(c, &record).unwrap();
            assert_eq!(
                (
                    stored.vm_name.as_str(),
                    stored.created_at_ms,
                    stored.updated_at_ms,
                    &stored.metadata
                ),
                ("farm-2", 10, 20, &serde_json::json!({"slot": 1})),
                "{:?}",
                c.dialect()
            );
            assert!(get(c, "t2", &record.vm_uuid).unwrap().is_none(), "another tenant's VM");
        });
    }
}
