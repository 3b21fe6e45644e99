//! `provisioning_tokens` and `vm_setup_progress` rows.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::clock::iso_ms;

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub vm_uuid: String,
    /// `active`, `used` or `revoked` as stored; see [`TokenRow::status_at`].
    pub status: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub metadata: Value,
    pub playbook_id: Option<String>,
    pub iso_key: String,
    pub iso_sha256: String,
    pub iso_size: i64,
}

impl TokenRow {
    /// The status a client sees: an active token past its deadline is `expired`.
    pub fn status_at(&self, now: i64) -> &str {
        if self.status == "active" && now >= self.expires_at {
            "expired"
        } else {
            &self.status
        }
    }
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<TokenRow> {
    let metadata: String = row.get("metadata")?;
    Ok(TokenRow {
        id: row.get("id")?,
        tenant_id: row.get("tenant_id")?,
        user_id: row.get("user_id")?,
        vm_uuid: row.get("vm_uuid")?,
        status: row.get("status")?,
        issued_at: row.get("issued_at")?,
        expires_at: row.get("expires_at")?,
        used_at: row.get("used_at")?,
        revoked_at: row.get("revoked_at")?,
        metadata: serde_json::from_str(&metadata).unwrap_or(Value::Object(Default::default())),
        playbook_id: row.get("playbook_id")?,
        iso_key: row.get("iso_key")?,
        iso_sha256: row.get("iso_sha256")?,
        iso_size: row.get("iso_size")?,
    })
}

/// Issues the VM's token, replacing the previous one (which dies with its hash); returns the
/// replaced row, whose ISO object the caller removes.
pub fn replace_token(conn: &Connection, t: &TokenRow, hash: &[u8]) -> rusqlite::Result<Option<TokenRow>> {
    let previous = token_of_vm(conn, &t.tenant_id, &t.vm_uuid)?;
    conn.execute(
        "INSERT INTO provisioning_tokens (id, tenant_id, user_id, vm_uuid, token_hash, status, issued_at, expires_at,
             metadata, playbook_id, iso_key, iso_sha256, iso_size)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (tenant_id, vm_uuid) DO UPDATE SET id = excluded.id, user_id = excluded.user_id,
             token_hash = excluded.token_hash, status = 'active', issued_at = excluded.issued_at,
             expires_at = excluded.expires_at, used_at = NULL, revoked_at = NULL, metadata = excluded.metadata,
             playbook_id = excluded.playbook_id, iso_key = excluded.iso_key, iso_sha256 = excluded.iso_sha256,
             iso_size = excluded.iso_size",
        params![
            t.id,
            t.tenant_id,
            t.user_id,
            t.vm_uuid,
            hash,
            t.issued_at,
            t.expires_at,
            t.metadata.to_string(),
            t.playbook_id,
            t.iso_key,
            t.iso_sha256,
            t.iso_size
        ],
    )?;
    Ok(previous)
}

pub fn token_by_hash(conn: &Connection, hash: &[u8]) -> rusqlite::Result<Option<TokenRow>> {
    conn.query_row(
        "SELECT * FROM provisioning_tokens WHERE token_hash = ?1",
        params![hash],
        token_from_row,
    )
    .optional()
}

/// Any tenant user's token for a VM (ownership is the caller's check).
pub fn token_of_vm(conn: &Connection, tenant: &str, vm_uuid: &str) -> rusqlite::Result<Option<TokenRow>> {
    conn.query_row(
        "SELECT * FROM provisioning_tokens WHERE tenant_id = ?1 AND vm_uuid = ?2",
        params![tenant, vm_uuid],
        token_from_row,
    )
    .optional()
}

pub fn mark_used(conn: &Connection, id: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE provisioning_tokens SET status = 'used', used_at = ?2 WHERE id = ?1 AND status = 'active'",
        params![id, now],
    )?;
    Ok(())
}

/// Revokes the VM's token if it is still active; false when there was none to revoke.
pub fn revoke(conn: &Connection, tenant: &str, user: &str, vm_uuid: &str, now: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE provisioning_tokens SET status = 'revoked', revoked_at = ?4
         WHERE tenant_id = ?1 AND user_id = ?2 AND vm_uuid = ?3 AND status = 'active'",
        params![tenant, user, vm_uuid, now],
    )? > 0)
}

/// A deleted playbook no longer names the tokens that shipped it.
pub fn forget_playbook(conn: &Connection, tenant: &str, playbook_id: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE provisioning_tokens SET playbook_id = NULL WHERE tenant_id = ?1 AND playbook_id = ?2",
        params![tenant, playbook_id],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressEvent {
    pub id: String,
    pub vm_uuid: String,
    pub token_id: String,
    pub step: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    #[schema(value_type = Object)]
    pub details: Value,
    pub created_at: String,
    /// Events are never changed, so always `created_at`; the original UI reads this name.
    pub updated_at: String,
}

pub fn add_progress(conn: &Connection, token: &TokenRow, event: &ProgressEvent, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO vm_setup_progress (id, tenant_id, user_id, vm_uuid, token_id, step, status, details, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            event.id,
            token.tenant_id,
            token.user_id,
            token.vm_uuid,
            token.id,
            event.step,
            event.status,
            event.details.to_string(),
            now
        ],
    )?;
    Ok(())
}

/// The owner's progress events of a VM after `after_seq`, in arrival order, each with its
/// sequence number (a stream's cursor) and time (ms).
pub fn progress(
    conn: &Connection,
    tenant: &str,
    user: &str,
    vm_uuid: &str,
    after_seq: i64,
) -> rusqlite::Result<Vec<(i64, i64, ProgressEvent)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, id, vm_uuid, token_id, step, status, details, created_at FROM vm_setup_progress
         WHERE tenant_id = ?1 AND user_id = ?2 AND vm_uuid = ?3 AND seq > ?4 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![tenant, user, vm_uuid, after_seq], |row| {
        let details: String = row.get(6)?;
        let at: i64 = row.get(7)?;
        Ok((
            row.get(0)?,
            at,
            ProgressEvent {
                id: row.get(1)?,
                vm_uuid: row.get(2)?,
                token_id: row.get(3)?,
                step: row.get(4)?,
                status: row.get(5)?,
                details: serde_json::from_str(&details).unwrap_or(Value::Object(Default::default())),
                created_at: iso_ms(at),
                updated_at: iso_ms(at),
            },
        ))
    })?;
    rows.collect()
}

pub fn token_by_id(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<TokenRow>> {
    conn.query_row(
        "SELECT * FROM provisioning_tokens WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
        token_from_row,
    )
    .optional()
}
