//! SQL for theme assets.

use crate::args;
use crate::clock::now_ms;
use crate::db::sql::Row;
use crate::db::{Conn, DbError};

#[derive(Debug, Clone)]
pub struct AssetRow {
    pub id: String,
    pub object_key: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub status: String,
    pub sha256: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns [`row`] reads, in its order.
const COLUMNS: &str = "id, object_key, mime_type, size_bytes, width, height, status, sha256, created_at, updated_at";

fn row(r: &Row<'_>) -> Result<AssetRow, DbError> {
    Ok(AssetRow {
        id: r.get(0)?,
        object_key: r.get(1)?,
        mime_type: r.get(2)?,
        size_bytes: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        status: r.get(6)?,
        sha256: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

pub fn insert_pending(
    conn: &dyn Conn,
    tenant: &str,
    id: &str,
    object_key: &str,
    mime: &str,
    size: i64,
) -> Result<(), DbError> {
    let now = now_ms();
    conn.execute(
        "INSERT INTO theme_assets (tenant_id, id, object_key, mime_type, size_bytes, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
        args![tenant, id, object_key, mime, size, now],
    )?;
    Ok(())
}

/// An asset that is not deleted.
pub fn live(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<AssetRow>, DbError> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM theme_assets WHERE tenant_id = ?1 AND id = ?2 AND status <> 'deleted'"),
        args![tenant, id],
        row,
    )
}

pub fn record_upload(conn: &dyn Conn, tenant: &str, id: &str, size: i64, sha256: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE theme_assets SET size_bytes = ?3, sha256 = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id, size, sha256, now_ms()],
    )?;
    Ok(())
}

pub fn mark_ready(
    conn: &dyn Conn,
    tenant: &str,
    id: &str,
    width: Option<i64>,
    height: Option<i64>,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE theme_assets SET status = 'ready', width = COALESCE(?3, width), height = COALESCE(?4, height), updated_at = ?5
         WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id, width, height, now_ms()],
    )?;
    Ok(())
}

/// Marks an asset deleted; its object key when it was live.
pub fn mark_deleted(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<String>, DbError> {
    let key = live(conn, tenant, id)?.map(|a| a.object_key);
    if key.is_some() {
        conn.execute(
            "UPDATE theme_assets SET status = 'deleted', updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
            args![tenant, id, now_ms()],
        )?;
    }
    Ok(key)
}

/// Pending and ready assets, newest first.
pub fn list(conn: &dyn Conn, tenant: &str) -> Result<Vec<AssetRow>, DbError> {
    conn.all(
        &format!(
            "SELECT {COLUMNS} FROM theme_assets WHERE tenant_id = ?1 AND status IN ('pending', 'ready')
             ORDER BY created_at DESC, id"
        ),
        args![tenant],
        row,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn an_asset_goes_from_pending_to_ready_to_deleted_on_both_databases() {
        on_each_backend("theme_assets_store", |c| {
            insert_pending(c, "t", "a1", "theme/a1", "image/png", 0).unwrap();
            insert_pending(c, "t", "a2", "theme/a2", "image/jpeg", 0).unwrap();
            record_upload(c, "t", "a1", 2048, "ab12").unwrap();
            mark_ready(c, "t", "a1", Some(640), None).unwrap();
            let a1 = live(c, "t", "a1").unwrap().expect("a live asset");
            assert_eq!(
                (
                    a1.status.as_str(),
                    a1.size_bytes,
                    a1.width,
                    a1.height,
                    a1.sha256.as_deref()
                ),
                ("ready", 2048, Some(640), None, Some("ab12")),
                "{:?}",
                c.dialect()
            );
            assert_eq!(list(c, "t").unwrap().len(), 2);
            assert_eq!(mark_deleted(c, "t", "a2").unwrap().as_deref(), Some("theme/a2"));
            assert_eq!(mark_deleted(c, "t", "a2").unwrap(), None, "deleted once");
            assert!(live(c, "t", "a2").unwrap().is_none());
            assert!(live(c, "t2", "a1").unwrap().is_none(), "another tenant's asset");
            assert_eq!(
                list(c, "t").unwrap().iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
                ["a1"]
            );
        });
    }
}
