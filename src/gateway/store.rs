//! SQL for the gateway's hand-off tickets and cookies. Both live only as hashes and hang off a
//! session row, so signing out (or any revocation that deletes the session) deletes them.

use botmox_contract::auth::Role;
use rusqlite::{params, Connection, OptionalExtension};

use crate::auth::store::roles_from_sql;

/// Who a gateway cookie stands for: re-read on every request, so a role taken away or a
/// session revoked takes effect at once.
pub struct GrantHolder {
    pub tenant_id: String,
    pub roles: Vec<Role>,
}

/// A ticket just used up: the session it was minted for, and when that session ends.
pub struct TakenTicket {
    pub session_id: String,
    pub service: String,
    pub session_expires_at: i64,
}

pub fn insert_ticket(
    conn: &Connection,
    token_hash: &[u8],
    session_id: &str,
    service: &str,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM gateway_tickets WHERE expires_at <= ?1", [now])?;
    conn.execute(
        "INSERT INTO gateway_tickets (token_hash, session_id, service, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, session_id, service, expires_at],
    )?;
    Ok(())
}

/// Deletes the ticket whatever its state (a ticket is tried once), and answers it only when
/// it was still valid and its session is still live.
pub fn take_ticket(conn: &Connection, token_hash: &[u8], now: i64) -> rusqlite::Result<Option<TakenTicket>> {
    let taken: Option<(String, String, i64)> = conn
        .query_row(
            "DELETE FROM gateway_tickets WHERE token_hash = ?1 RETURNING session_id, service, expires_at",
            [token_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((session_id, service, _)) = taken.filter(|(_, _, expires_at)| *expires_at > now) else {
        return Ok(None);
    };
    let session_expires_at: Option<i64> = conn
        .query_row(
            "SELECT expires_at FROM sessions WHERE id = ?1 AND expires_at > ?2",
            params![session_id, now],
            |r| r.get(0),
        )
        .optional()?;
    Ok(session_expires_at.map(|session_expires_at| TakenTicket {
        session_id,
        service,
        session_expires_at,
    }))
}

pub fn insert_grant(
    conn: &Connection,
    token_hash: &[u8],
    session_id: &str,
    service: &str,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM gateway_grants WHERE expires_at <= ?1", [now])?;
    conn.execute(
        "INSERT INTO gateway_grants (token_hash, session_id, service, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, session_id, service, now, expires_at],
    )?;
    Ok(())
}

/// The user behind a live gateway cookie for `service`.
pub fn grant_holder(
    conn: &Connection,
    token_hash: &[u8],
    service: &str,
    now: i64,
) -> rusqlite::Result<Option<GrantHolder>> {
    conn.prepare_cached(
        "SELECT s.tenant_id, u.roles
         FROM gateway_grants g JOIN sessions s ON s.id = g.session_id JOIN users u ON u.id = s.user_id
         WHERE g.token_hash = ?1 AND g.service = ?2 AND g.expires_at > ?3 AND s.expires_at > ?3",
    )?
    .query_row(params![token_hash, service, now], |r| {
        Ok(GrantHolder {
            tenant_id: r.get(0)?,
            roles: roles_from_sql(&r.get::<_, String>(1)?),
        })
    })
    .optional()
}
