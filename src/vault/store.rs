//! SQL of the vault: the key-check value (`vault_meta`) and the sealed entries
//! (`vault_entries`). What goes in is already sealed; nothing here sees a plaintext.

use super::Sealed;
use crate::args;
use crate::db::{Conn, DbError};

/// The stored key-check value, if a key was ever checked against this database.
pub fn key_check(conn: &dyn Conn) -> Result<Option<Vec<u8>>, DbError> {
    conn.opt("SELECT key_check FROM vault_meta WHERE id = 1", args![], |r| r.get(0))
}

pub fn insert_key_check(conn: &dyn Conn, blob: &[u8], now: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO vault_meta (id, key_check, created_at) VALUES (1, ?1, ?2)",
        args![blob, now],
    )?;
    Ok(())
}

/// The key check of a rotation's new key.
pub fn set_key_check(conn: &dyn Conn, blob: &[u8], now: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE vault_meta SET key_check = ?1, rotated_at = ?2 WHERE id = 1",
        args![blob, now],
    )?;
    Ok(())
}

/// Has a key ever been checked against this database (is there a key-check value)?
pub fn has_key_check(conn: &dyn Conn) -> Result<bool, DbError> {
    conn.one("SELECT EXISTS (SELECT 1 FROM vault_meta)", args![], |r| r.get(0))
}

/// Stores (or replaces) a sealed entry.
pub fn put(conn: &dyn Conn, tenant_id: &str, id: &str, sealed: &Sealed, now: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO vault_entries (id, tenant_id, nonce, ciphertext, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (tenant_id, id) DO UPDATE SET nonce = excluded.nonce,
             ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        args![id, tenant_id, sealed.nonce, sealed.ciphertext, now],
    )?;
    Ok(())
}

/// The nonce and ciphertext of a tenant's entry.
pub fn get(conn: &dyn Conn, tenant_id: &str, id: &str) -> Result<Option<Sealed>, DbError> {
    conn.opt(
        "SELECT nonce, ciphertext FROM vault_entries WHERE id = ?1 AND tenant_id = ?2",
        args![id, tenant_id],
        |r| {
            Ok(Sealed {
                nonce: r.get(0)?,
                ciphertext: r.get(1)?,
            })
        },
    )
}

/// Removes a secret of `tenant_id`; true when there was one.
pub fn delete(conn: &dyn Conn, tenant_id: &str, id: &str) -> Result<bool, DbError> {
    let removed = conn.execute(
        "DELETE FROM vault_entries WHERE id = ?1 AND tenant_id = ?2",
        args![id, tenant_id],
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
pub fn entries(conn: &dyn Conn) -> Result<Vec<Entry>, DbError> {
    conn.all(
        "SELECT id, tenant_id, nonce, ciphertext FROM vault_entries",
        args![],
        |r| {
            Ok(Entry {
                id: r.get(0)?,
                tenant_id: r.get(1)?,
                sealed: Sealed {
                    nonce: r.get(2)?,
                    ciphertext: r.get(3)?,
                },
            })
        },
    )
}

/// An entry sealed again under a rotation's new key.
pub fn reseal(conn: &dyn Conn, tenant_id: &str, id: &str, sealed: &Sealed) -> Result<(), DbError> {
    conn.execute(
        "UPDATE vault_entries SET nonce = ?1, ciphertext = ?2 WHERE tenant_id = ?3 AND id = ?4",
        args![sealed.nonce, sealed.ciphertext, tenant_id, id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn sealed(n: u8) -> Sealed {
        Sealed {
            nonce: vec![n; 24],
            ciphertext: vec![n, 0, 255],
        }
    }

    #[test]
    fn sealed_bytes_and_the_key_check_round_trip_on_both_databases() {
        on_each_backend("vault_store", |c| {
            assert_eq!(key_check(c).unwrap(), None);
            assert!(!has_key_check(c).unwrap());
            insert_key_check(c, b"check-1", 1).unwrap();
            set_key_check(c, b"check-2", 2).unwrap();
            assert_eq!(key_check(c).unwrap().as_deref(), Some(&b"check-2"[..]));
            assert!(has_key_check(c).unwrap());

            put(c, "t", "secret/a", &sealed(1), 1).unwrap();
            put(c, "t", "secret/a", &sealed(2), 2).unwrap();
            put(c, "t2", "secret/a", &sealed(3), 2).unwrap();
            let stored = get(c, "t", "secret/a").unwrap().expect("the entry");
            assert_eq!(
                (stored.nonce, stored.ciphertext),
                (vec![2; 24], vec![2, 0, 255]),
                "{:?}",
                c.dialect()
            );
            reseal(c, "t", "secret/a", &sealed(4)).unwrap();
            assert_eq!(get(c, "t", "secret/a").unwrap().unwrap().ciphertext, [4, 0, 255]);
            assert_eq!(entries(c).unwrap().len(), 2);
            assert!(delete(c, "t", "secret/a").unwrap());
            assert!(!delete(c, "t", "secret/a").unwrap());
            assert!(
                get(c, "t2", "secret/a").unwrap().is_some(),
                "another tenant's entry stays"
            );
        });
    }
}
