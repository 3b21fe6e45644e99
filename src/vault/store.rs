//! SQL of the vault: the key-check value (`vault_meta`) and the sealed entries
//! (`vault_entries`). What goes in is already sealed; nothing here sees a plaintext.

use rusqlite::{params, Connection, OptionalExtension};

use super::Sealed;

/// The stored key-check value, if a key was ever checked against this database.
pub fn key_check(conn: &Connection) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row("SELECT key_check FROM vault_meta WHERE id = 1", [], |r| r.get(0))
        .optional()
}

pub fn insert_key_check(conn: &Connection, blob: &[u8], now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO vault_meta (id, key_check, created_at) VALUES (1, ?1, ?2)",
        params![blob, now],
    )?;
    Ok(())
}

/// The key check of a rotation's new key.
pub fn set_key_check(conn: &Connection, blob: &[u8], now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE vault_meta SET key_check = ?1, rotated_at = ?2 WHERE id = 1",
        params![blob, now],
    )?;
    Ok(())
}

/// Has a key ever been checked against this database (is there a key-check value)?
pub fn has_key_check(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM vault_meta)", [], |r| r.get(0))
}

/// Stores (or replaces) a sealed entry.
pub fn put(conn: &Connection, tenant_id: &str, id: &str, sealed: &Sealed, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO vault_entries (id, tenant_id, nonce, ciphertext, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (tenant_id, id) DO UPDATE SET nonce = excluded.nonce,
             ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        params![id, tenant_id, sealed.nonce, sealed.ciphertext, now],
    )?;
    Ok(())
}

/// The nonce and ciphertext of a tenant's entry.
pub fn get(conn: &Connection, tenant_id: &str, id: &str) -> rusqlite::Result<Option<(Vec<u8>, Vec<u8>)>> {
    conn.query_row(
        "SELECT nonce, ciphertext FROM vault_entries WHERE id = ?1 AND tenant_id = ?2",
        params![id, tenant_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Removes a secret of `tenant_id`; true when there was one.
pub fn delete(conn: &Connection, tenant_id: &str, id: &str) -> rusqlite::Result<bool> {
    let removed = conn.execute(
        "DELETE FROM vault_entries WHERE id = ?1 AND tenant_id = ?2",
        params![id, tenant_id],
    )?;
    Ok(removed > 0)
}

/// One stored entry.
pub struct Entry {
    pub id: String,
    pub tenant_id: String,
    pub sealed: Sealed,
}

/// Every entry of every tenant: for a key rotation only.
pub fn entries(conn: &Connection) -> rusqlite::Result<Vec<Entry>> {
    conn.prepare("SELECT id, tenant_id, nonce, ciphertext FROM vault_entries")?
        .query_map([], |r| {
            Ok(Entry {
                id: r.get(0)?,
                tenant_id: r.get(1)?,
                sealed: Sealed {
                    nonce: r.get(2)?,
                    ciphertext: r.get(3)?,
                },
            })
        })?
        .collect()
}

/// An entry sealed again under a rotation's new key.
pub fn reseal(conn: &Connection, tenant_id: &str, id: &str, sealed: &Sealed) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE vault_entries SET nonce = ?1, ciphertext = ?2 WHERE tenant_id = ?3 AND id = ?4",
        params![sealed.nonce, sealed.ciphertext, tenant_id, id],
    )?;
    Ok(())
}
