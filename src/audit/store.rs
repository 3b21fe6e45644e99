//! SQL for the audit trail.

use rusqlite::{params, Connection};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::clock::{iso_ms, now_ms};

#[derive(Debug, Clone, Copy)]
pub enum Action {
    Create,
    Update,
    Delete,
    /// A secret's value handed to an agent.
    Read,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Read => "read",
        }
    }
}

pub fn record(
    conn: &Connection,
    who: &Principal,
    action: Action,
    entity_type: &str,
    entity_id: &str,
    fields: &[String],
) -> rusqlite::Result<()> {
    let actor = Actor {
        tenant_id: &who.tenant_id,
        id: &who.user_id,
        email: &who.email,
    };
    record_by(conn, &actor, action, entity_type, entity_id, fields)
}

/// Who did something: a signed-in user, or an agent (`agent:<id>`, no e-mail).
pub struct Actor<'a> {
    pub tenant_id: &'a str,
    pub id: &'a str,
    pub email: &'a str,
}

pub fn record_by(
    conn: &Connection,
    who: &Actor<'_>,
    action: Action,
    entity_type: &str,
    entity_id: &str,
    fields: &[String],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (tenant_id, at, actor_id, actor_email, action, entity_type, entity_id, fields)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        who.tenant_id,
        now_ms(),
        who.id,
        who.email,
        action.as_str(),
        entity_type,
        entity_id,
        serde_json::to_string(fields).expect("strings serialise"),
    ])?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    /// ISO-8601 UTC.
    pub at: String,
    pub actor_id: String,
    pub actor_email: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// Top-level fields the change set or altered.
    pub fields: Vec<String>,
}

/// A page of the tenant's trail, newest first; `before` is the `seq` to continue below.
pub fn page(conn: &Connection, tenant_id: &str, before: Option<i64>, limit: u64) -> rusqlite::Result<Vec<AuditEntry>> {
    conn.prepare_cached(
        "SELECT seq, at, actor_id, actor_email, action, entity_type, entity_id, fields FROM audit_log
         WHERE tenant_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    )?
    .query_map(params![tenant_id, before.unwrap_or(i64::MAX), limit as i64], |r| {
        Ok(AuditEntry {
            seq: r.get(0)?,
            at: iso_ms(r.get(1)?),
            actor_id: r.get(2)?,
            actor_email: r.get(3)?,
            action: r.get(4)?,
            entity_type: r.get(5)?,
            entity_id: r.get(6)?,
            fields: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
        })
    })?
    .collect()
}
