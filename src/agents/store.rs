//! SQL for agents.

use serde_json::Value;

use crate::args;
use crate::auth::token::{hash_hex, new_id};
use crate::clock::now_ms;
use crate::db::sql::Row;
use crate::db::{Conn, DbError, Dialect};

#[derive(Debug, Clone)]
pub struct AgentRow {
    pub id: String,
    pub tenant_id: String,
    pub owner_user_id: Option<String>,
    pub name: String,
    pub status: String,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub capabilities: Vec<String>,
    pub pairing_expires_at: Option<i64>,
    pub paired_at: Option<i64>,
    pub paired_by: Option<String>,
    pub last_seen_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub metadata: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

impl AgentRow {
    /// Active and seen within [`ONLINE_WITHIN_MS`] (`api-ops.md` §1.1).
    pub fn is_online(&self, now_ms: i64) -> bool {
        self.status == "active" && self.last_seen_at.is_some_and(|t| now_ms - t < ONLINE_WITHIN_MS)
    }
}

/// An agent counts as online when active and seen this recently.
pub const ONLINE_WITHIN_MS: i64 = 120_000;

/// Reads a row selected with [`COLUMNS`], in that order.
fn row(r: &Row<'_>) -> Result<AgentRow, DbError> {
    Ok(AgentRow {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        owner_user_id: r.get(2)?,
        name: r.get(3)?,
        status: r.get(4)?,
        version: r.get(5)?,
        platform: r.get(6)?,
        capabilities: serde_json::from_str(&r.get::<String>(7)?).unwrap_or_default(),
        pairing_expires_at: r.get(8)?,
        paired_at: r.get(9)?,
        paired_by: r.get(10)?,
        last_seen_at: r.get(11)?,
        revoked_at: r.get(12)?,
        revoked_by: r.get(13)?,
        revoke_reason: r.get(14)?,
        metadata: serde_json::from_str(&r.get::<String>(15)?).unwrap_or(Value::Null),
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

const COLUMNS: &str = "id, tenant_id, owner_user_id, name, status, version, platform, capabilities,
    pairing_expires_at, paired_at, paired_by, last_seen_at, revoked_at, revoked_by, revoke_reason, metadata,
    created_at, updated_at";

pub fn insert_pending(
    conn: &dyn Conn,
    tenant: &str,
    owner: &str,
    name: &str,
    code: &str,
    expires_at: i64,
) -> Result<AgentRow, DbError> {
    let id = new_id();
    let now = now_ms();
    conn.execute(
        "INSERT INTO agents (id, tenant_id, owner_user_id, name, status, pairing_code_hash, pairing_expires_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?7)",
        args![id, tenant, owner, name, hash_hex(code), expires_at, now],
    )?;
    by_id(conn, tenant, &id)?.ok_or(DbError::NoRows)
}

/// The pending agent a pairing code belongs to (in whatever tenant: the code is the credential,
/// kept only as its hash).
pub fn by_pending_code(conn: &dyn Conn, code: &str) -> Result<Option<AgentRow>, DbError> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM agents WHERE pairing_code_hash = ?1 AND status = 'pending'"),
        args![hash_hex(code)],
        row,
    )
}

pub fn by_id(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<AgentRow>, DbError> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM agents WHERE tenant_id = ?1 AND id = ?2"),
        args![tenant, id],
        row,
    )
}

pub struct Registration<'a> {
    pub token_hash: &'a [u8],
    pub token_expires_at: i64,
    pub paired_by: Option<&'a str>,
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub capabilities: &'a [String],
    pub metadata: &'a Value,
}

/// Redeems a pending agent's code: it becomes active with a token; the code is gone.
pub fn activate(conn: &dyn Conn, agent: &AgentRow, reg: &Registration<'_>) -> Result<AgentRow, DbError> {
    let now = now_ms();
    conn.execute(
        "UPDATE agents SET status = 'active', pairing_code_hash = NULL, pairing_expires_at = NULL, paired_at = ?2,
             paired_by = ?3, last_seen_at = ?2, name = ?4, version = ?5, platform = ?6, capabilities = ?7,
             metadata = ?8, token_hash = ?9, token_expires_at = ?10, updated_at = ?2
         WHERE id = ?1 AND status = 'pending'",
        args![
            agent.id,
            now,
            reg.paired_by,
            reg.name,
            reg.version,
            reg.platform,
            serde_json::to_string(reg.capabilities).expect("strings serialise"),
            reg.metadata.to_string(),
            reg.token_hash,
            reg.token_expires_at
        ],
    )?;
    by_id(conn, &agent.tenant_id, &agent.id)?.ok_or(DbError::NoRows)
}

/// The tenant's agents, newest first; only `owner`'s when given.
pub fn list(
    conn: &dyn Conn,
    tenant: &str,
    owner: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<AgentRow>, DbError> {
    // The casts: PostgreSQL cannot type a parameter that is first met as `? IS NULL`.
    conn.all(
        &format!(
            "SELECT {COLUMNS} FROM agents WHERE tenant_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR owner_user_id = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR status = ?3) ORDER BY created_at DESC, id"
        ),
        args![tenant, owner, status],
        row,
    )
}

/// Merges `metadata` into the agent's: a key set to null is removed.
pub fn heartbeat(conn: &dyn Conn, tenant: &str, id: &str, metadata: &Value) -> Result<(), DbError> {
    conn.execute(
        match conn.dialect() {
            Dialect::Sqlite => {
                "UPDATE agents SET last_seen_at = ?3, metadata = json_patch(metadata, ?4), updated_at = ?3
                 WHERE tenant_id = ?1 AND id = ?2"
            }
            // json_patch's merge one level deep (the agent sends flat telemetry): `||` replaces
            // the keys sent, `-` drops those sent as null.
            Dialect::Postgres => {
                "UPDATE agents SET last_seen_at = ?3, updated_at = ?3,
                     metadata = (metadata || ?4::jsonb)
                         - ARRAY(SELECT key FROM jsonb_each(?4::jsonb) WHERE jsonb_typeof(value) = 'null')
                 WHERE tenant_id = ?1 AND id = ?2"
            }
        },
        args![tenant, id, now_ms(), metadata],
    )?;
    Ok(())
}

pub fn revoke(conn: &dyn Conn, tenant: &str, id: &str, by: &str, reason: Option<&str>) -> Result<(), DbError> {
    conn.execute(
        "UPDATE agents SET status = 'revoked', revoked_at = ?3, revoked_by = ?4, revoke_reason = ?5,
             updated_at = ?3
         WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id, now_ms(), by, reason],
    )?;
    Ok(())
}

/// Whether the agent was revoked (a claim for it is refused: its socket or parked poll may sit
/// on another replica than the revocation).
pub fn is_revoked(conn: &dyn Conn, tenant: &str, id: &str) -> Result<bool, DbError> {
    Ok(conn
        .opt(
            "SELECT 1 FROM agents WHERE tenant_id = ?1 AND id = ?2 AND status = 'revoked'",
            args![tenant, id],
            |r| r.get::<i64>(0),
        )?
        .is_some())
}

/// Whom an unexpired agent token belongs to, if anyone. Revoking keeps the token's hash, so a
/// revoked agent is told so (the agent stops on `AGENT_REVOKED`) instead of being refused as
/// a stranger.
pub enum TokenOwner {
    Active {
        agent_id: String,
        tenant_id: String,
    },
    /// The agent was revoked: its token is refused with `AGENT_REVOKED`.
    Revoked,
}

pub fn by_token(conn: &dyn Conn, token_hash: &[u8]) -> Result<Option<TokenOwner>, DbError> {
    conn.opt(
        "SELECT id, tenant_id, status FROM agents WHERE token_hash = ?1 AND token_expires_at > ?2",
        args![token_hash, now_ms()],
        |r| {
            let status: String = r.get(2)?;
            Ok(if status == "revoked" {
                TokenOwner::Revoked
            } else {
                TokenOwner::Active {
                    agent_id: r.get(0)?,
                    tenant_id: r.get(1)?,
                }
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn the_agent_queries_answer_alike_on_both_databases() {
        on_each_backend("agents_store", |c| {
            let first = insert_pending(c, "t", "u1", "first", "CODE-1", 5_000).unwrap();
            assert_eq!(
                (first.status.as_str(), first.pairing_expires_at),
                ("pending", Some(5_000))
            );
            assert_eq!(
                (first.capabilities.len(), first.metadata.clone()),
                (0, serde_json::json!({}))
            );
            let second = insert_pending(c, "t", "u2", "second", "CODE-2", 5_000).unwrap();
            c.execute("UPDATE agents SET created_at = 1 WHERE id = ?1", args![first.id])
                .unwrap();
            insert_pending(c, "other", "u1", "elsewhere", "CODE-3", 5_000).unwrap();

            assert_eq!(
                by_pending_code(c, "CODE-2").unwrap().map(|a| a.id),
                Some(second.id.clone())
            );
            assert!(by_pending_code(c, "NOPE").unwrap().is_none());
            assert!(by_id(c, "other", &first.id).unwrap().is_none(), "{:?}", c.dialect());

            let hash = [7_u8; 32];
            let metadata = serde_json::json!({"host": "vm-1", "load": 0.5, "gone": true});
            let active = activate(
                c,
                &first,
                &Registration {
                    token_hash: &hash,
                    token_expires_at: i64::MAX,
                    paired_by: Some("u1"),
                    name: "renamed",
                    version: Some("1.2.3"),
                    platform: None,
                    capabilities: &["vm.start".to_owned()],
                    metadata: &metadata,
                },
            )
            .unwrap();
            assert_eq!((active.status.as_str(), active.name.as_str()), ("active", "renamed"));
            assert_eq!((active.version.as_deref(), active.platform), (Some("1.2.3"), None));
            assert_eq!(
                (active.capabilities.clone(), active.pairing_expires_at),
                (vec!["vm.start".to_owned()], None)
            );
            assert_eq!(active.metadata, metadata);
            assert!(active.last_seen_at.is_some() && active.paired_at.is_some());
            assert!(by_pending_code(c, "CODE-1").unwrap().is_none());

            // Newest first; narrowed by owner and by status; NULL filters are no filter.
            let ids = |owner, status| -> Vec<String> {
                list(c, "t", owner, status).unwrap().into_iter().map(|a| a.id).collect()
            };
            assert_eq!(ids(None, None), [second.id.clone(), first.id.clone()]);
            assert_eq!(ids(Some("u1"), None), [first.id.as_str()]);
            assert_eq!(ids(None, Some("pending")), [second.id.as_str()]);
            assert!(ids(Some("u2"), Some("active")).is_empty());

            heartbeat(
                c,
                "t",
                &first.id,
                &serde_json::json!({"load": 0.75, "gone": null, "new": "x"}),
            )
            .unwrap();
            assert_eq!(
                by_id(c, "t", &first.id).unwrap().unwrap().metadata,
                serde_json::json!({"host": "vm-1", "load": 0.75, "new": "x"}),
                "{:?}",
                c.dialect()
            );

            assert!(matches!(
                by_token(c, &hash).unwrap(),
                Some(TokenOwner::Active { agent_id, tenant_id }) if agent_id == first.id && tenant_id == "t"
            ));
            assert!(by_token(c, &[0_u8; 32]).unwrap().is_none());
            assert!(!is_revoked(c, "t", &first.id).unwrap());
            revoke(c, "t", &first.id, "admin", None).unwrap();
            assert!(is_revoked(c, "t", &first.id).unwrap());
            assert!(!is_revoked(c, "other", &first.id).unwrap());
            let revoked = by_id(c, "t", &first.id).unwrap().unwrap();
            assert_eq!(
                (revoked.status.as_str(), revoked.revoked_by.as_deref()),
                ("revoked", Some("admin"))
            );
            assert_eq!(revoked.revoke_reason, None);
            assert!(matches!(by_token(c, &hash).unwrap(), Some(TokenOwner::Revoked)));
        });
    }
}
