//! SQL for agents.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use crate::auth::token::{hash_hex, new_id};
use crate::clock::now_ms;

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

fn row(r: &Row<'_>) -> rusqlite::Result<AgentRow> {
    Ok(AgentRow {
        id: r.get("id")?,
        tenant_id: r.get("tenant_id")?,
        owner_user_id: r.get("owner_user_id")?,
        name: r.get("name")?,
        status: r.get("status")?,
        version: r.get("version")?,
        platform: r.get("platform")?,
        capabilities: serde_json::from_str(&r.get::<_, String>("capabilities")?).unwrap_or_default(),
        pairing_expires_at: r.get("pairing_expires_at")?,
        paired_at: r.get("paired_at")?,
        paired_by: r.get("paired_by")?,
        last_seen_at: r.get("last_seen_at")?,
        revoked_at: r.get("revoked_at")?,
        revoked_by: r.get("revoked_by")?,
        revoke_reason: r.get("revoke_reason")?,
        metadata: serde_json::from_str(&r.get::<_, String>("metadata")?).unwrap_or(Value::Null),
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

const COLUMNS: &str = "id, tenant_id, owner_user_id, name, status, version, platform, capabilities,
    pairing_expires_at, paired_at, paired_by, last_seen_at, revoked_at, revoked_by, revoke_reason, metadata,
    created_at, updated_at";

pub fn insert_pending(
    conn: &Connection,
    tenant: &str,
    owner: &str,
    name: &str,
    code: &str,
    expires_at: i64,
) -> rusqlite::Result<AgentRow> {
    let id = new_id();
    let now = now_ms();
    conn.execute(
        "INSERT INTO agents (id, tenant_id, owner_user_id, name, status, pairing_code_hash, pairing_expires_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?7)",
        params![id, tenant, owner, name, hash_hex(code), expires_at, now],
    )?;
    by_id(conn, tenant, &id).map(|a| a.expect("just inserted"))
}

/// The pending agent a pairing code belongs to (in whatever tenant: the code is the credential,
/// kept only as its hash).
pub fn by_pending_code(conn: &Connection, code: &str) -> rusqlite::Result<Option<AgentRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE pairing_code_hash = ?1 AND status = 'pending'"),
        [hash_hex(code)],
        row,
    )
    .optional()
}

pub fn by_id(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<AgentRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE tenant_id = ?1 AND id = ?2"),
        [tenant, id],
        row,
    )
    .optional()
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
pub fn activate(conn: &Connection, agent: &AgentRow, reg: &Registration<'_>) -> rusqlite::Result<AgentRow> {
    let now = now_ms();
    conn.execute(
        "UPDATE agents SET status = 'active', pairing_code_hash = NULL, pairing_expires_at = NULL, paired_at = ?2,
             paired_by = ?3, last_seen_at = ?2, name = ?4, version = ?5, platform = ?6, capabilities = ?7,
             metadata = ?8, token_hash = ?9, token_expires_at = ?10, updated_at = ?2
         WHERE id = ?1 AND status = 'pending'",
        params![
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
    by_id(conn, &agent.tenant_id, &agent.id).map(|a| a.expect("exists"))
}

/// The tenant's agents, newest first; only `owner`'s when given.
pub fn list(
    conn: &Connection,
    tenant: &str,
    owner: Option<&str>,
    status: Option<&str>,
) -> rusqlite::Result<Vec<AgentRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM agents WHERE tenant_id = ?1 AND (?2 IS NULL OR owner_user_id = ?2)
           AND (?3 IS NULL OR status = ?3) ORDER BY created_at DESC, id"
    ))?
    .query_map(params![tenant, owner, status], row)?
    .collect()
}

pub fn heartbeat(conn: &Connection, tenant: &str, id: &str, metadata: &Value) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE agents SET last_seen_at = ?3, metadata = json_patch(metadata, ?4), updated_at = ?3
         WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id, now_ms(), metadata.to_string()],
    )?;
    Ok(())
}

pub fn revoke(conn: &Connection, tenant: &str, id: &str, by: &str, reason: Option<&str>) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE agents SET status = 'revoked', revoked_at = ?3, revoked_by = ?4, revoke_reason = ?5,
             updated_at = ?3
         WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id, now_ms(), by, reason],
    )?;
    Ok(())
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

pub fn by_token(conn: &Connection, token_hash: &[u8]) -> rusqlite::Result<Option<TokenOwner>> {
    conn.prepare_cached("SELECT id, tenant_id, status FROM agents WHERE token_hash = ?1 AND token_expires_at > ?2")?
        .query_row(params![token_hash, now_ms()], |r| {
            let status: String = r.get(2)?;
            Ok(if status == "revoked" {
                TokenOwner::Revoked
            } else {
                TokenOwner::Active {
                    agent_id: r.get(0)?,
                    tenant_id: r.get(1)?,
                }
            })
        })
        .optional()
}
