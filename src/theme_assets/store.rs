//! SQL for theme assets.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::clock::now_ms;

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

fn row(r: &Row<'_>) -> rusqlite::Result<AssetRow> {
    Ok(AssetRow {
        id: r.get("id")?,
        object_key: r.get("object_key")?,
        mime_type: r.get("mime_type")?,
        size_bytes: r.get("size_bytes")?,
        width: r.get("width")?,
        height: r.get("height")?,
        status: r.get("status")?,
        sha256: r.get("sha256")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

pub fn insert_pending(
    conn: &Connection,
    tenant: &str,
    id: &str,
    object_key: &str,
    mime: &str,
    size: i64,
) -> rusqlite::Result<()> {
    let now = now_ms();
    conn.execute(
        "INSERT INTO theme_assets (tenant_id, id, object_key, mime_type, size_bytes, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
        params![tenant, id, object_key, mime, size, now],
    )?;
    Ok(())
}

/// An asset that is not deleted.
pub fn live(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<AssetRow>> {
    conn.query_row(
        "SELECT * FROM theme_assets WHERE tenant_id = ?1 AND id = ?2 AND status <> 'deleted'",
        params![tenant, id],
        row,
    )
    .optional()
}

pub fn record_upload(conn: &Connection, tenant: &str, id: &str, size: i64, sha256: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE theme_assets SET size_bytes = ?3, sha256 = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id, size, sha256, now_ms()],
    )?;
    Ok(())
}

pub fn mark_ready(
    conn: &Connection,
    tenant: &str,
    id: &str,
    width: Option<i64>,
    height: Option<i64>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE theme_assets SET status = 'ready', width = COALESCE(?3, width), height = COALESCE(?4, height), updated_at = ?5
         WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id, width, height, now_ms()],
    )?;
    Ok(())
}

/// Marks an asset deleted; its object key when it was live.
pub fn mark_deleted(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<String>> {
    let key = live(conn, tenant, id)?.map(|a| a.object_key);
    if key.is_some() {
        conn.execute(
            "UPDATE theme_assets SET status = 'deleted', updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2",
            params![tenant, id, now_ms()],
        )?;
    }
    Ok(key)
}

/// Pending and ready assets, newest first.
pub fn list(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<AssetRow>> {
    conn.prepare_cached(
        "SELECT * FROM theme_assets WHERE tenant_id = ?1 AND status IN ('pending', 'ready') ORDER BY created_at DESC, id",
    )?
    .query_map([tenant], row)?
    .collect()
}
