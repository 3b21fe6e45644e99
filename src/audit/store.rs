//! SQL for the audit trail.

use serde::Serialize;
use utoipa::ToSchema;

use crate::args;
use crate::auth::Principal;
use crate::clock::{iso_ms, now_ms};
use crate::db::{Conn, DbError};

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
    conn: &dyn Conn,
    who: &Principal,
    action: Action,
    entity_type: &str,
    entity_id: &str,
    fields: &[String],
) -> Result<(), DbError> {
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
    conn: &dyn Conn,
    who: &Actor<'_>,
    action: Action,
    entity_type: &str,
    entity_id: &str,
    fields: &[String],
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO audit_log (tenant_id, at, actor_id, actor_email, action, entity_type, entity_id, fields)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        args![
            who.tenant_id,
            now_ms(),
            who.id,
            who.email,
            action.as_str(),
            entity_type,
            entity_id,
            serde_json::to_string(fields).expect("strings serialise"),
        ],
    )?;
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
pub fn page(conn: &dyn Conn, tenant_id: &str, before: Option<i64>, limit: u64) -> Result<Vec<AuditEntry>, DbError> {
    conn.all(
        "SELECT seq, at, actor_id, actor_email, action, entity_type, entity_id, fields FROM audit_log
         WHERE tenant_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        args![tenant_id, before.unwrap_or(i64::MAX), limit],
        |r| {
            Ok(AuditEntry {
                seq: r.get(0)?,
                at: iso_ms(r.get(1)?),
                actor_id: r.get(2)?,
                actor_email: r.get(3)?,
                action: r.get(4)?,
                entity_type: r.get(5)?,
                entity_id: r.get(6)?,
                fields: serde_json::from_str(&r.get::<String>(7)?).unwrap_or_default(),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn the_trail_reads_back_newest_first_on_both_databases() {
        on_each_backend("audit_store", |c| {
            for (id, action) in [("b1", Action::Create), ("b1", Action::Update), ("b2", Action::Delete)] {
                let who = Actor {
                    tenant_id: "t",
                    id: "u1",
                    email: "u@x",
                };
                record_by(c, &who, action, "bot", id, &["name".into()]).unwrap();
            }
            let other = Actor {
                tenant_id: "t2",
                id: "u2",
                email: "v@x",
            };
            record_by(c, &other, Action::Read, "secret", "s1", &[]).unwrap();

            let all = page(c, "t", None, 10).unwrap();
            let seen: Vec<_> = all.iter().map(|e| (e.action.as_str(), e.entity_id.as_str())).collect();
            assert_eq!(
                seen,
                [("delete", "b2"), ("update", "b1"), ("create", "b1")],
                "{:?}",
                c.dialect()
            );
            assert_eq!(all[0].fields, ["name"]);
            let older = page(c, "t", Some(all[0].seq), 1).unwrap();
            assert_eq!(older.len(), 1);
            assert_eq!(older[0].seq, all[1].seq);
        });
    }
}
