//! `provisioning_tokens` and `vm_setup_progress` rows, and the named records of one owner scope
//! (tenant, user), at most one of them the default: unattend profiles and playbooks share that
//! SQL and differ only in their table and body column.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::args;
use crate::clock::iso_ms;
use crate::db::sql::Row;
use crate::db::{Conn, DbError};
use crate::documents::list::store::{Sql, Times};
use crate::documents::list::SUBSCRIPTION_STATES;
use crate::documents::Collection;

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

fn token_from_row(row: &Row<'_>) -> Result<TokenRow, DbError> {
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
pub fn replace_token(conn: &dyn Conn, t: &TokenRow, hash: &[u8]) -> Result<Option<TokenRow>, DbError> {
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
        args![
            t.id,
            t.tenant_id,
            t.user_id,
            t.vm_uuid,
            hash,
            t.issued_at,
            t.expires_at,
            t.metadata,
            t.playbook_id,
            t.iso_key,
            t.iso_sha256,
            t.iso_size
        ],
    )?;
    Ok(previous)
}

pub fn token_by_hash(conn: &dyn Conn, hash: &[u8]) -> Result<Option<TokenRow>, DbError> {
    conn.opt(
        "SELECT * FROM provisioning_tokens WHERE token_hash = ?1",
        args![hash],
        token_from_row,
    )
}

/// Any tenant user's token for a VM (ownership is the caller's check).
pub fn token_of_vm(conn: &dyn Conn, tenant: &str, vm_uuid: &str) -> Result<Option<TokenRow>, DbError> {
    conn.opt(
        "SELECT * FROM provisioning_tokens WHERE tenant_id = ?1 AND vm_uuid = ?2",
        args![tenant, vm_uuid],
        token_from_row,
    )
}

pub fn mark_used(conn: &dyn Conn, id: &str, now: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE provisioning_tokens SET status = 'used', used_at = ?2 WHERE id = ?1 AND status = 'active'",
        args![id, now],
    )?;
    Ok(())
}

/// Revokes the VM's token if it is still active; false when there was none to revoke.
pub fn revoke(conn: &dyn Conn, tenant: &str, user: &str, vm_uuid: &str, now: i64) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE provisioning_tokens SET status = 'revoked', revoked_at = ?4
         WHERE tenant_id = ?1 AND user_id = ?2 AND vm_uuid = ?3 AND status = 'active'",
        args![tenant, user, vm_uuid, now],
    )? > 0)
}

/// A deleted playbook no longer names the tokens that shipped it.
pub fn forget_playbook(conn: &dyn Conn, tenant: &str, playbook_id: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE provisioning_tokens SET playbook_id = NULL WHERE tenant_id = ?1 AND playbook_id = ?2",
        args![tenant, playbook_id],
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

pub fn add_progress(conn: &dyn Conn, token: &TokenRow, event: &ProgressEvent, now: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO vm_setup_progress (id, tenant_id, user_id, vm_uuid, token_id, step, status, details, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            event.id,
            token.tenant_id,
            token.user_id,
            token.vm_uuid,
            token.id,
            event.step,
            event.status,
            event.details,
            now
        ],
    )?;
    Ok(())
}

/// The owner's progress events of a VM after `after_seq`, in arrival order, each with its
/// sequence number (a stream's cursor) and time (ms).
pub fn progress(
    conn: &dyn Conn,
    tenant: &str,
    user: &str,
    vm_uuid: &str,
    after_seq: i64,
) -> Result<Vec<(i64, i64, ProgressEvent)>, DbError> {
    conn.all(
        "SELECT seq, id, vm_uuid, token_id, step, status, details, created_at FROM vm_setup_progress
         WHERE tenant_id = ?1 AND user_id = ?2 AND vm_uuid = ?3 AND seq > ?4 ORDER BY seq",
        args![tenant, user, vm_uuid, after_seq],
        |row| {
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
        },
    )
}

pub fn token_by_id(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<TokenRow>, DbError> {
    conn.opt(
        "SELECT * FROM provisioning_tokens WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id],
        token_from_row,
    )
}

#[derive(Clone, Copy)]
pub struct Table {
    pub table: &'static str,
    /// The column holding the record's body (`config` JSON, YAML `content`).
    pub body: &'static str,
}

#[derive(Debug, Clone)]
pub struct Named {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub name: String,
    pub is_default: bool,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Table {
    fn read_row(&self, row: &Row<'_>) -> Result<Named, DbError> {
        Ok(Named {
            id: row.get("id")?,
            tenant_id: row.get("tenant_id")?,
            user_id: row.get("user_id")?,
            name: row.get("name")?,
            is_default: row.get("is_default")?,
            body: row.get(self.body)?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }

    /// Oldest first.
    pub fn list(&self, conn: &dyn Conn, tenant: &str, user: &str) -> Result<Vec<Named>, DbError> {
        let sql = format!(
            "SELECT * FROM {} WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY created_at, rowid",
            self.table
        );
        conn.all(&sql, args![tenant, user], |r| self.read_row(r))
    }

    pub fn get(&self, conn: &dyn Conn, tenant: &str, user: &str, id: &str) -> Result<Option<Named>, DbError> {
        let sql = format!(
            "SELECT * FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND id = ?3",
            self.table
        );
        conn.opt(&sql, args![tenant, user, id], |r| self.read_row(r))
    }

    pub fn default_of(&self, conn: &dyn Conn, tenant: &str, user: &str) -> Result<Option<Named>, DbError> {
        let sql = format!(
            "SELECT * FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND is_default = 1",
            self.table
        );
        conn.opt(&sql, args![tenant, user], |r| self.read_row(r))
    }

    /// Whether another record of the scope (not `except`) has this name.
    pub fn name_taken(
        &self,
        conn: &dyn Conn,
        tenant: &str,
        user: &str,
        name: &str,
        except: &str,
    ) -> Result<bool, DbError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND name = ?3 AND id != ?4)",
            self.table
        );
        conn.one(&sql, args![tenant, user, name, except], |r| r.get(0))
    }

    /// Inserts or replaces `n` (by id, keeping nothing of the old row); a default clears the
    /// flag on the scope's other records first.
    pub fn save(&self, conn: &dyn Conn, n: &Named) -> Result<(), DbError> {
        if n.is_default {
            let sql = format!(
                "UPDATE {} SET is_default = 0 WHERE tenant_id = ?1 AND user_id = ?2 AND id != ?3 AND is_default = 1",
                self.table
            );
            conn.execute(&sql, args![n.tenant_id, n.user_id, n.id])?;
        }
        let sql = format!(
            "INSERT INTO {t} (id, tenant_id, user_id, name, is_default, {b}, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, is_default = excluded.is_default,
                 {b} = excluded.{b}, updated_at = excluded.updated_at",
            t = self.table,
            b = self.body
        );
        conn.execute(
            &sql,
            args![
                n.id,
                n.tenant_id,
                n.user_id,
                n.name,
                n.is_default,
                n.body,
                n.created_at,
                n.updated_at
            ],
        )?;
        Ok(())
    }

    pub fn delete(&self, conn: &dyn Conn, tenant: &str, user: &str, id: &str) -> Result<bool, DbError> {
        let sql = format!(
            "DELETE FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND id = ?3",
            self.table
        );
        Ok(conn.execute(&sql, args![tenant, user, id])? > 0)
    }
}

/// Does the tenant hold a subscription that is `active` or `expiring` (see
/// `tokens::require_subscription`)?
pub fn has_live_subscription(conn: &dyn Conn, tenant: &str, now: i64, warn_ms: i64) -> Result<bool, DbError> {
    let mut sql = Sql::new(conn.dialect());
    sql.bind_text(tenant);
    sql.bind_text(Collection::Subscriptions.as_str());
    let times = Times { now, warn_ms };
    let live: Vec<String> = SUBSCRIPTION_STATES
        .iter()
        .filter(|(state, _)| ["active", "expiring"].contains(state))
        .map(|(_, test)| format!("({})", sql.test(test, times)))
        .collect();
    let query = format!(
        "SELECT 1 FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND ({}) LIMIT 1",
        live.join(" OR ")
    );
    Ok(conn.opt(&query, sql.args(), |_| Ok(()))?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn token(id: &str, vm: &str) -> TokenRow {
        TokenRow {
            id: id.into(),
            tenant_id: "t".into(),
            user_id: "u".into(),
            vm_uuid: vm.into(),
            status: "active".into(),
            issued_at: 10,
            expires_at: 100,
            used_at: None,
            revoked_at: None,
            metadata: serde_json::json!({"profile": "p1"}),
            playbook_id: Some("pb".into()),
            iso_key: format!("iso/{id}"),
            iso_sha256: "00".into(),
            iso_size: 4096,
        }
    }

    #[test]
    fn a_live_subscription_is_active_or_expiring_on_both_databases() {
        on_each_backend("provisioning_subscription", |c| {
            let (now, warn) = (1_800_000_000_000_i64, 7 * 86_400_000_i64);
            let put = |tenant: &str, id: &str, doc: serde_json::Value| {
                let doc = serde_json::from_value(doc).unwrap();
                assert!(crate::documents::store::insert(c, tenant, Collection::Subscriptions, id, &doc, 1).unwrap());
            };
            put("t", "old", serde_json::json!({"status": "active", "expires_at": now}));
            put(
                "t",
                "stopped",
                serde_json::json!({"status": "cancelled", "expires_at": now + 2 * warn}),
            );
            put("u", "other", serde_json::json!({"status": "active"}));
            assert!(!has_live_subscription(c, "t", now, warn).unwrap(), "{:?}", c.dialect());
            assert!(has_live_subscription(c, "u", now, warn).unwrap(), "{:?}", c.dialect());
            // Cancelled, but running out within the window: still expiring, so still live.
            put(
                "t",
                "ending",
                serde_json::json!({"status": "cancelled", "expires_at": now + warn}),
            );
            assert!(has_live_subscription(c, "t", now, warn).unwrap(), "{:?}", c.dialect());
            assert!(!has_live_subscription(c, "v", now, warn).unwrap());
        });
    }

    #[test]
    fn tokens_and_their_progress_on_both_databases() {
        on_each_backend("provisioning_tokens_store", |c| {
            assert!(replace_token(c, &token("k1", "vm"), b"h1").unwrap().is_none());
            let replaced = replace_token(c, &token("k2", "vm"), b"h2")
                .unwrap()
                .expect("the first token");
            assert_eq!(replaced.id, "k1");
            assert!(
                token_by_hash(c, b"h1").unwrap().is_none(),
                "the old hash dies with its token"
            );
            let current = token_by_hash(c, b"h2").unwrap().expect("the new token");
            assert_eq!(
                (
                    current.id.as_str(),
                    current.metadata["profile"].as_str(),
                    current.status_at(100)
                ),
                ("k2", Some("p1"), "expired"),
                "{:?}",
                c.dialect()
            );
            forget_playbook(c, "t", "pb").unwrap();
            assert_eq!(token_by_id(c, "t", "k2").unwrap().unwrap().playbook_id, None);

            let event = |id: &str, step: &str| ProgressEvent {
                id: id.into(),
                vm_uuid: "vm".into(),
                token_id: "k2".into(),
                step: step.into(),
                status: "running".into(),
                details: serde_json::json!({"pct": 50}),
                created_at: String::new(),
                updated_at: String::new(),
            };
            add_progress(c, &current, &event("e1", "windows"), 20).unwrap();
            add_progress(c, &current, &event("e2", "agent"), 30).unwrap();
            let seen = progress(c, "t", "u", "vm", 0).unwrap();
            assert_eq!(
                seen.iter().map(|(_, at, e)| (*at, e.step.as_str())).collect::<Vec<_>>(),
                [(20, "windows"), (30, "agent")]
            );
            assert_eq!(seen[0].2.details, serde_json::json!({"pct": 50}));
            assert_eq!(progress(c, "t", "u", "vm", seen[0].0).unwrap().len(), 1);

            mark_used(c, "k2", 40).unwrap();
            assert!(!revoke(c, "t", "u", "vm", 50).unwrap(), "a used token is not revoked");
            assert_eq!(token_of_vm(c, "t", "vm").unwrap().unwrap().used_at, Some(40));
            assert!(token_of_vm(c, "t2", "vm").unwrap().is_none());
        });
    }

    #[test]
    fn named_records_keep_one_default_and_unique_names_on_both_databases() {
        let table = Table {
            table: "playbooks",
            body: "content",
        };
        on_each_backend("named_records_store", |c| {
            let record = |id: &str, name: &str, is_default: bool, at: i64| Named {
                id: id.into(),
                tenant_id: "t".into(),
                user_id: "u".into(),
                name: name.into(),
                is_default,
                body: format!("name: {name}"),
                created_at: at,
                updated_at: at,
            };
            table.save(c, &record("r1", "one", true, 1)).unwrap();
            table.save(c, &record("r2", "two", true, 2)).unwrap();
            let all = table.list(c, "t", "u").unwrap();
            assert_eq!(
                all.iter().map(|n| (n.id.as_str(), n.is_default)).collect::<Vec<_>>(),
                [("r1", false), ("r2", true)],
                "{:?}",
                c.dialect()
            );
            assert_eq!(table.default_of(c, "t", "u").unwrap().unwrap().id, "r2");
            assert!(table.name_taken(c, "t", "u", "one", "r2").unwrap());
            assert!(!table.name_taken(c, "t", "u", "one", "r1").unwrap());
            assert_eq!(table.get(c, "t", "u", "r1").unwrap().unwrap().body, "name: one");
            assert!(
                table.get(c, "t", "other", "r1").unwrap().is_none(),
                "another user's record"
            );
            assert!(table.delete(c, "t", "u", "r1").unwrap());
            assert!(!table.delete(c, "t", "u", "r1").unwrap());
        });
    }
}
