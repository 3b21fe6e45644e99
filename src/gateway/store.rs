//! SQL for the gateway's hand-off tickets and cookies. Both live only as hashes and hang off a
//! session row, so signing out (or any revocation that deletes the session) deletes them.

use crate::args;
use crate::auth::store::roles_from_sql;
use crate::db::{Conn, DbError};
use botmox_contract::auth::Role;

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
    conn: &dyn Conn,
    token_hash: &[u8],
    session_id: &str,
    service: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute("DELETE FROM gateway_tickets WHERE expires_at <= ?1", args![now])?;
    conn.execute(
        "INSERT INTO gateway_tickets (token_hash, session_id, service, expires_at) VALUES (?1, ?2, ?3, ?4)",
        args![token_hash, session_id, service, expires_at],
    )?;
    Ok(())
}

/// Deletes the ticket whatever its state (a ticket is tried once), and answers it only when
/// it was still valid and its session is still live.
pub fn take_ticket(conn: &dyn Conn, token_hash: &[u8], now: i64) -> Result<Option<TakenTicket>, DbError> {
    let taken: Option<(String, String, i64)> = conn.opt(
        "DELETE FROM gateway_tickets WHERE token_hash = ?1 RETURNING session_id, service, expires_at",
        args![token_hash],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some((session_id, service, _)) = taken.filter(|(_, _, expires_at)| *expires_at > now) else {
        return Ok(None);
    };
    let session_expires_at: Option<i64> = conn.opt(
        "SELECT expires_at FROM sessions WHERE id = ?1 AND expires_at > ?2",
        args![session_id, now],
        |r| r.get(0),
    )?;
    Ok(session_expires_at.map(|session_expires_at| TakenTicket {
        session_id,
        service,
        session_expires_at,
    }))
}

pub fn insert_grant(
    conn: &dyn Conn,
    token_hash: &[u8],
    session_id: &str,
    service: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute("DELETE FROM gateway_grants WHERE expires_at <= ?1", args![now])?;
    conn.execute(
        "INSERT INTO gateway_grants (token_hash, session_id, service, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        args![token_hash, session_id, service, now, expires_at],
    )?;
    Ok(())
}

/// The user behind a live gateway cookie for `service`.
pub fn grant_holder(
    conn: &dyn Conn,
    token_hash: &[u8],
    service: &str,
    now: i64,
) -> Result<Option<GrantHolder>, DbError> {
    conn.opt(
        "SELECT s.tenant_id, u.roles
         FROM gateway_grants g JOIN sessions s ON s.id = g.session_id JOIN users u ON u.id = s.user_id
         WHERE g.token_hash = ?1 AND g.service = ?2 AND g.expires_at > ?3 AND s.expires_at > ?3",
        args![token_hash, service, now],
        |r| {
            Ok(GrantHolder {
                tenant_id: r.get(0)?,
                roles: roles_from_sql(&r.get::<String>(1)?),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn tickets_are_taken_once_and_grants_follow_their_session_on_both_databases() {
        on_each_backend("gateway_store", |c| {
            c.batch(
                "INSERT INTO tenants (id, name, created_at) VALUES ('t', 't', 1);
                 INSERT INTO users (id, tenant_id, email, password_hash, roles, created_at, updated_at)
                     VALUES ('u', 't', 'u@x', 'h', '[\"admin\"]', 1, 1);
                 INSERT INTO sessions (id, token_hash, user_id, tenant_id, created_at, expires_at, last_seen_at)
                     VALUES ('s', 'ab', 'u', 't', 1, 1000, 1);",
            )
            .unwrap();
            insert_ticket(c, b"old", "s", "proxmox", 1, 5).unwrap();
            insert_ticket(c, b"tick", "s", "proxmox", 10, 60).unwrap();
            assert_eq!(
                c.one("SELECT COUNT(*) FROM gateway_tickets", args![], |r| r.get::<i64>(0))
                    .unwrap(),
                1,
                "an expired ticket is swept"
            );
            let taken = take_ticket(c, b"tick", 20).unwrap().expect("a live ticket");
            assert_eq!(
                (
                    taken.session_id.as_str(),
                    taken.service.as_str(),
                    taken.session_expires_at
                ),
                ("s", "proxmox", 1000)
            );
            assert!(take_ticket(c, b"tick", 20).unwrap().is_none(), "a ticket is taken once");

            insert_grant(c, b"cookie", "s", "proxmox", 20, 500).unwrap();
            let holder = grant_holder(c, b"cookie", "proxmox", 30)
                .unwrap()
                .expect("a live grant");
            assert_eq!(
                (holder.tenant_id.as_str(), holder.roles.as_slice()),
                ("t", [Role::Admin].as_slice())
            );
            assert!(grant_holder(c, b"cookie", "syncthing", 30).unwrap().is_none());
            assert!(
                grant_holder(c, b"cookie", "proxmox", 600).unwrap().is_none(),
                "{:?}",
                c.dialect()
            );
            c.execute("DELETE FROM sessions WHERE id = 's'", args![]).unwrap();
            assert!(
                grant_holder(c, b"cookie", "proxmox", 30).unwrap().is_none(),
                "a revoked session ends the grant"
            );
        });
    }
}
