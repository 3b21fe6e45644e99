//! SQL for execution leases, tenant licences and entitlements.

use serde_json::Value;

use crate::args;
use crate::db::sql::Row;
use crate::db::{Conn, DbError, Dialect};

#[derive(Debug, Clone)]
pub struct LeaseRow {
    pub id: String,
    pub tenant_id: String,
    /// SHA-256 (hex) of the lease token: the token itself is only in the issuing response.
    pub token_hash: String,
    /// As stored: `active` or `revoked` (expiry is judged at read time).
    pub status: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub last_heartbeat_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub user_id: String,
    pub vm_uuid: String,
    pub vm_name: String,
    pub module: String,
    pub version: Option<String>,
    pub agent_id: String,
    pub runner_id: String,
    pub license_id: String,
}

const LEASE_COLUMNS: &str = "id, tenant_id, token_hash, status, created_at_ms, expires_at_ms, last_heartbeat_at_ms,
    revoked_at_ms, user_id, vm_uuid, vm_name, module, version, agent_id, runner_id, license_id";

/// Reads a row selected with [`LEASE_COLUMNS`].
fn lease_from(row: &Row<'_>) -> Result<LeaseRow, DbError> {
    Ok(LeaseRow {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        token_hash: row.get(2)?,
        status: row.get(3)?,
        created_at_ms: row.get(4)?,
        expires_at_ms: row.get(5)?,
        last_heartbeat_at_ms: row.get(6)?,
        revoked_at_ms: row.get(7)?,
        user_id: row.get(8)?,
        vm_uuid: row.get(9)?,
        vm_name: row.get(10)?,
        module: row.get(11)?,
        version: row.get(12)?,
        agent_id: row.get(13)?,
        runner_id: row.get(14)?,
        license_id: row.get(15)?,
    })
}

pub fn insert_lease(conn: &dyn Conn, l: &LeaseRow) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO execution_leases (id, tenant_id, token_hash, status, created_at_ms, updated_at_ms, expires_at_ms,
             last_heartbeat_at_ms, user_id, vm_uuid, vm_name, module, version, agent_id, runner_id, license_id)
         VALUES (?1, ?2, ?3, 'active', ?4, ?4, ?5, ?4, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        args![
            l.id,
            l.tenant_id,
            l.token_hash,
            l.created_at_ms,
            l.expires_at_ms,
            l.user_id,
            l.vm_uuid,
            l.vm_name,
            l.module,
            l.version,
            l.agent_id,
            l.runner_id,
            l.license_id
        ],
    )?;
    Ok(())
}

pub fn lease(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<LeaseRow>, DbError> {
    conn.opt(
        &format!("SELECT {LEASE_COLUMNS} FROM execution_leases WHERE tenant_id = ?1 AND id = ?2"),
        args![tenant, id],
        lease_from,
    )
}

/// The lease states a list can ask for: `expired` is an active row past its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    Active,
    Expired,
    Revoked,
}

impl LeaseState {
    pub fn parse(text: &str) -> Option<LeaseState> {
        match text {
            "active" => Some(LeaseState::Active),
            "expired" => Some(LeaseState::Expired),
            "revoked" => Some(LeaseState::Revoked),
            _ => None,
        }
    }

    pub fn of(lease: &LeaseRow, now: i64) -> LeaseState {
        match (lease.status.as_str(), lease.expires_at_ms > now) {
            ("revoked", _) => LeaseState::Revoked,
            (_, true) => LeaseState::Active,
            _ => LeaseState::Expired,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LeaseState::Active => "active",
            LeaseState::Expired => "expired",
            LeaseState::Revoked => "revoked",
        }
    }
}

/// A page of the tenant's leases, newest first, optionally in one state at `now`, and the
/// total of that selection.
pub fn leases_page(
    conn: &dyn Conn,
    tenant: &str,
    state: Option<LeaseState>,
    now: i64,
    limit: u64,
    offset: u64,
) -> Result<(Vec<LeaseRow>, u64), DbError> {
    // ?2: '' = any state; the CASE is LeaseState::of in SQL.
    const STATE: &str = "(?2 = '' OR ?2 = CASE WHEN status = 'revoked' THEN 'revoked'
        WHEN expires_at_ms > ?3 THEN 'active' ELSE 'expired' END)";
    let wanted = state.map_or("", LeaseState::as_str);
    let rows = conn.all(
        &format!(
            "SELECT {LEASE_COLUMNS} FROM execution_leases WHERE tenant_id = ?1 AND {STATE}
             ORDER BY created_at_ms DESC, id LIMIT ?4 OFFSET ?5"
        ),
        args![tenant, wanted, now, limit, offset],
        lease_from,
    )?;
    let total: i64 = conn.one(
        &format!("SELECT COUNT(*) FROM execution_leases WHERE tenant_id = ?1 AND {STATE}"),
        args![tenant, wanted, now],
        |r| r.get(0),
    )?;
    Ok((rows, total as u64))
}

/// Leases of the user that are active and not yet expired at `now`.
pub fn count_live(conn: &dyn Conn, tenant: &str, user_id: &str, now: i64) -> Result<i64, DbError> {
    conn.one(
        "SELECT COUNT(*) FROM execution_leases
         WHERE tenant_id = ?1 AND user_id = ?2 AND status = 'active' AND expires_at_ms > ?3",
        args![tenant, user_id, now],
        |r| r.get(0),
    )
}

pub fn heartbeat(conn: &dyn Conn, tenant: &str, id: &str, now: i64, expires_at: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE execution_leases SET last_heartbeat_at_ms = ?3, expires_at_ms = ?4, updated_at_ms = ?3
         WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id, now, expires_at],
    )?;
    Ok(())
}

pub fn revoke(
    conn: &dyn Conn,
    tenant: &str,
    id: &str,
    now: i64,
    by: &str,
    reason: Option<&str>,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE execution_leases SET status = 'revoked', revoked_at_ms = ?3, revoked_by = ?4, revoke_reason = ?5,
             updated_at_ms = ?3
         WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id, now, by, reason],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct LicenseRow {
    pub tenant_id: String,
    pub id: String,
    pub user_id: Option<String>,
    /// The licence `type`.
    pub kind: String,
    pub status: String,
    pub expires_at_ms: Option<i64>,
    pub metadata: Value,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const LICENSE_COLUMNS: &str =
    "tenant_id, id, user_id, type, status, expires_at_ms, metadata, updated_by, created_at, updated_at";

/// Reads a row selected with [`LICENSE_COLUMNS`].
fn license_from(row: &Row<'_>) -> Result<LicenseRow, DbError> {
    Ok(LicenseRow {
        tenant_id: row.get(0)?,
        id: row.get(1)?,
        user_id: row.get(2)?,
        kind: row.get(3)?,
        status: row.get(4)?,
        expires_at_ms: row.get(5)?,
        metadata: serde_json::from_str(&row.get::<String>(6)?).unwrap_or_default(),
        updated_by: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

/// Creates or replaces a licence, keeping its `created_at`.
pub fn upsert_license(conn: &dyn Conn, l: &LicenseRow) -> Result<LicenseRow, DbError> {
    conn.execute(
        "INSERT INTO tenant_licenses (tenant_id, id, user_id, type, status, expires_at_ms, metadata, updated_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (tenant_id, id) DO UPDATE SET user_id = excluded.user_id, type = excluded.type,
             status = excluded.status, expires_at_ms = excluded.expires_at_ms, metadata = excluded.metadata,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        args![l.tenant_id, l.id, l.user_id, l.kind, l.status, l.expires_at_ms, l.metadata, l.updated_by, l.updated_at],
    )?;
    conn.one(
        &format!("SELECT {LICENSE_COLUMNS} FROM tenant_licenses WHERE tenant_id = ?1 AND id = ?2"),
        args![l.tenant_id, l.id],
        license_from,
    )
}

pub fn licenses(conn: &dyn Conn, tenant: &str) -> Result<Vec<LicenseRow>, DbError> {
    conn.all(
        &format!("SELECT {LICENSE_COLUMNS} FROM tenant_licenses WHERE tenant_id = ?1 ORDER BY created_at DESC, id"),
        args![tenant],
        license_from,
    )
}

pub fn delete_license(conn: &dyn Conn, tenant: &str, id: &str) -> Result<bool, DbError> {
    let n = conn.execute(
        "DELETE FROM tenant_licenses WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id],
    )?;
    Ok(n > 0)
}

#[derive(Debug, Clone)]
pub struct EntitlementRow {
    pub tenant_id: String,
    pub user_id: String,
    pub modules: Value,
    pub max_active_leases: Option<i64>,
    pub updated_at_ms: i64,
    pub updated_by: String,
}

const ENTITLEMENT_COLUMNS: &str = "tenant_id, user_id, modules, max_active_leases, updated_at_ms, updated_by";

/// Reads a row selected with [`ENTITLEMENT_COLUMNS`].
fn entitlement_from(row: &Row<'_>) -> Result<EntitlementRow, DbError> {
    Ok(EntitlementRow {
        tenant_id: row.get(0)?,
        user_id: row.get(1)?,
        modules: serde_json::from_str(&row.get::<String>(2)?).unwrap_or_default(),
        max_active_leases: row.get(3)?,
        updated_at_ms: row.get(4)?,
        updated_by: row.get(5)?,
    })
}

pub fn upsert_entitlement(conn: &dyn Conn, e: &EntitlementRow) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO tenant_entitlements (tenant_id, user_id, modules, max_active_leases, updated_at_ms, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET modules = excluded.modules,
             max_active_leases = excluded.max_active_leases, updated_at_ms = excluded.updated_at_ms,
             updated_by = excluded.updated_by",
        args![
            e.tenant_id,
            e.user_id,
            e.modules,
            e.max_active_leases,
            e.updated_at_ms,
            e.updated_by
        ],
    )?;
    Ok(())
}

/// A user's entitlement, locked until the end of the write on PostgreSQL: writes run side by
/// side there, and the issues of one user's leases must count and insert one after the other
/// (SQLite's one writer already does).
pub fn entitlement(conn: &dyn Conn, tenant: &str, user_id: &str) -> Result<Option<EntitlementRow>, DbError> {
    let lock = match conn.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE",
    };
    conn.opt(
        &format!("SELECT {ENTITLEMENT_COLUMNS} FROM tenant_entitlements WHERE tenant_id = ?1 AND user_id = ?2{lock}"),
        args![tenant, user_id],
        entitlement_from,
    )
}

pub fn entitlements(conn: &dyn Conn, tenant: &str) -> Result<Vec<EntitlementRow>, DbError> {
    conn.all(
        &format!("SELECT {ENTITLEMENT_COLUMNS} FROM tenant_entitlements WHERE tenant_id = ?1 ORDER BY user_id"),
        args![tenant],
        entitlement_from,
    )
}

pub fn delete_entitlement(conn: &dyn Conn, tenant: &str, user_id: &str) -> Result<bool, DbError> {
    let n = conn.execute(
        "DELETE FROM tenant_entitlements WHERE tenant_id = ?1 AND user_id = ?2",
        args![tenant, user_id],
    )?;
    Ok(n > 0)
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;
    use crate::db::sql::on_each_backend;

    /// An active lease row of tenant `t` for `vm-1` and module `farm`.
    pub(crate) fn lease_row(id: &str, user: &str, created: i64, expires: i64) -> LeaseRow {
        LeaseRow {
            id: id.into(),
            tenant_id: "t".into(),
            token_hash: format!("hash-{id}"),
            status: "active".into(),
            created_at_ms: created,
            expires_at_ms: expires,
            last_heartbeat_at_ms: created,
            revoked_at_ms: None,
            user_id: user.into(),
            vm_uuid: "vm-1".into(),
            vm_name: "".into(),
            module: "farm".into(),
            version: None,
            agent_id: "ag-1".into(),
            runner_id: "r-1".into(),
            license_id: "lic-1".into(),
        }
    }

    fn license_row(id: &str, metadata: Value, at: i64) -> LicenseRow {
        LicenseRow {
            tenant_id: "t".into(),
            id: id.into(),
            user_id: None,
            kind: "subscription".into(),
            status: "active".into(),
            expires_at_ms: Some(900),
            metadata,
            updated_by: "admin".into(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_lease_queries_answer_alike_on_both_databases() {
        on_each_backend("leases_store", |c| {
            insert_lease(c, &lease_row("l1", "u1", 10, 100)).unwrap();
            insert_lease(c, &lease_row("l2", "u1", 20, 300)).unwrap();
            insert_lease(c, &lease_row("l3", "u2", 30, 300)).unwrap();
            let mut elsewhere = lease_row("l4", "u1", 40, 300);
            elsewhere.tenant_id = "other".into();
            insert_lease(c, &elsewhere).unwrap();
            let l1 = lease(c, "t", "l1").unwrap().unwrap();
            assert_eq!(
                (l1.status.as_str(), l1.version, l1.revoked_at_ms),
                ("active", None, None)
            );
            assert!(lease(c, "other", "l1").unwrap().is_none());

            revoke(c, "t", "l3", 50, "admin", Some("done")).unwrap();
            heartbeat(c, "t", "l2", 60, 400).unwrap();
            let l2 = lease(c, "t", "l2").unwrap().unwrap();
            assert_eq!((l2.last_heartbeat_at_ms, l2.expires_at_ms), (60, 400));

            // At 200: l1 expired, l2 active, l3 revoked; newest first, paged.
            let page = |state, limit, offset| {
                let (rows, total) = leases_page(c, "t", state, 200, limit, offset).unwrap();
                (rows.into_iter().map(|l| l.id).collect::<Vec<_>>(), total)
            };
            assert_eq!(page(None, 10, 0), (vec!["l3".into(), "l2".into(), "l1".into()], 3));
            assert_eq!(page(None, 1, 1), (vec!["l2".into()], 3));
            assert_eq!(page(Some(LeaseState::Expired), 10, 0), (vec!["l1".into()], 1));
            assert_eq!(page(Some(LeaseState::Revoked), 10, 0), (vec!["l3".into()], 1));
            assert_eq!(page(Some(LeaseState::Active), 10, 0), (vec!["l2".into()], 1));
            assert_eq!(count_live(c, "t", "u1", 200).unwrap(), 1);
            assert_eq!(count_live(c, "t", "u2", 200).unwrap(), 0);

            let first = upsert_license(c, &license_row("lic-1", json!({"seats": 3}), 5)).unwrap();
            assert_eq!(
                (first.metadata.clone(), first.user_id.clone()),
                (json!({"seats": 3}), None)
            );
            upsert_license(c, &license_row("lic-2", json!({}), 6)).unwrap();
            let replaced = upsert_license(c, &license_row("lic-1", json!({"seats": 5}), 7)).unwrap();
            assert_eq!((replaced.created_at, replaced.updated_at), (5, 7), "{:?}", c.dialect());
            assert_eq!(replaced.metadata, json!({"seats": 5}));
            let ids: Vec<_> = licenses(c, "t").unwrap().into_iter().map(|l| l.id).collect();
            assert_eq!(ids, ["lic-2", "lic-1"]);
            assert!(delete_license(c, "t", "lic-2").unwrap());
            assert!(!delete_license(c, "t", "lic-2").unwrap());

            let mut entitled = EntitlementRow {
                tenant_id: "t".into(),
                user_id: "u2".into(),
                modules: json!(["farm"]),
                max_active_leases: None,
                updated_at_ms: 1,
                updated_by: "admin".into(),
            };
            upsert_entitlement(c, &entitled).unwrap();
            entitled.user_id = "u1".into();
            upsert_entitlement(c, &entitled).unwrap();
            entitled.max_active_leases = Some(2);
            entitled.modules = json!(["farm", "craft"]);
            upsert_entitlement(c, &entitled).unwrap();
            let u1 = entitlement(c, "t", "u1").unwrap().unwrap();
            assert_eq!((u1.modules, u1.max_active_leases), (json!(["farm", "craft"]), Some(2)));
            assert!(entitlement(c, "other", "u1").unwrap().is_none());
            let users: Vec<_> = entitlements(c, "t").unwrap().into_iter().map(|e| e.user_id).collect();
            assert_eq!(users, ["u1", "u2"]);
            assert!(delete_entitlement(c, "t", "u2").unwrap());
            assert!(!delete_entitlement(c, "t", "u2").unwrap());
        });
    }
}
