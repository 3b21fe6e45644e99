//! SQL for execution leases, tenant licences and entitlements.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

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

fn lease_from(row: &Row<'_>) -> rusqlite::Result<LeaseRow> {
    Ok(LeaseRow {
        id: row.get("id")?,
        tenant_id: row.get("tenant_id")?,
        token_hash: row.get("token_hash")?,
        status: row.get("status")?,
        created_at_ms: row.get("created_at_ms")?,
        expires_at_ms: row.get("expires_at_ms")?,
        last_heartbeat_at_ms: row.get("last_heartbeat_at_ms")?,
        revoked_at_ms: row.get("revoked_at_ms")?,
        user_id: row.get("user_id")?,
        vm_uuid: row.get("vm_uuid")?,
        vm_name: row.get("vm_name")?,
        module: row.get("module")?,
        version: row.get("version")?,
        agent_id: row.get("agent_id")?,
        runner_id: row.get("runner_id")?,
        license_id: row.get("license_id")?,
    })
}

pub fn insert_lease(conn: &Connection, l: &LeaseRow) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO execution_leases (id, tenant_id, token_hash, status, created_at_ms, updated_at_ms, expires_at_ms,
             last_heartbeat_at_ms, user_id, vm_uuid, vm_name, module, version, agent_id, runner_id, license_id)
         VALUES (?1, ?2, ?3, 'active', ?4, ?4, ?5, ?4, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
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

pub fn lease(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<LeaseRow>> {
    conn.query_row(
        "SELECT * FROM execution_leases WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
        lease_from,
    )
    .optional()
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
    conn: &Connection,
    tenant: &str,
    state: Option<LeaseState>,
    now: i64,
    limit: u64,
    offset: u64,
) -> rusqlite::Result<(Vec<LeaseRow>, u64)> {
    // ?2: '' = any state; the CASE is LeaseState::of in SQL.
    const STATE: &str = "(?2 = '' OR ?2 = CASE WHEN status = 'revoked' THEN 'revoked'
        WHEN expires_at_ms > ?3 THEN 'active' ELSE 'expired' END)";
    let wanted = state.map_or("", LeaseState::as_str);
    let rows = conn
        .prepare_cached(&format!(
            "SELECT * FROM execution_leases WHERE tenant_id = ?1 AND {STATE}
             ORDER BY created_at_ms DESC, id LIMIT ?4 OFFSET ?5"
        ))?
        .query_map(params![tenant, wanted, now, limit as i64, offset as i64], lease_from)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM execution_leases WHERE tenant_id = ?1 AND {STATE}"),
        params![tenant, wanted, now],
        |r| r.get(0),
    )?;
    Ok((rows, total as u64))
}

/// Leases of the user that are active and not yet expired at `now`.
pub fn count_live(conn: &Connection, tenant: &str, user_id: &str, now: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM execution_leases
         WHERE tenant_id = ?1 AND user_id = ?2 AND status = 'active' AND expires_at_ms > ?3",
        params![tenant, user_id, now],
        |r| r.get(0),
    )
}

pub fn heartbeat(conn: &Connection, tenant: &str, id: &str, now: i64, expires_at: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE execution_leases SET last_heartbeat_at_ms = ?3, expires_at_ms = ?4, updated_at_ms = ?3
         WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id, now, expires_at],
    )?;
    Ok(())
}

pub fn revoke(
    conn: &Connection,
    tenant: &str,
    id: &str,
    now: i64,
    by: &str,
    reason: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE execution_leases SET status = 'revoked', revoked_at_ms = ?3, revoked_by = ?4, revoke_reason = ?5,
             updated_at_ms = ?3
         WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id, now, by, reason],
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

fn license_from(row: &Row<'_>) -> rusqlite::Result<LicenseRow> {
    let metadata: String = row.get("metadata")?;
    Ok(LicenseRow {
        tenant_id: row.get("tenant_id")?,
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        kind: row.get("type")?,
        status: row.get("status")?,
        expires_at_ms: row.get("expires_at_ms")?,
        metadata: serde_json::from_str(&metadata).unwrap_or_default(),
        updated_by: row.get("updated_by")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Creates or replaces a licence, keeping its `created_at`.
pub fn upsert_license(conn: &Connection, l: &LicenseRow) -> rusqlite::Result<LicenseRow> {
    conn.execute(
        "INSERT INTO tenant_licenses (tenant_id, id, user_id, type, status, expires_at_ms, metadata, updated_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (tenant_id, id) DO UPDATE SET user_id = excluded.user_id, type = excluded.type,
             status = excluded.status, expires_at_ms = excluded.expires_at_ms, metadata = excluded.metadata,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        params![l.tenant_id, l.id, l.user_id, l.kind, l.status, l.expires_at_ms, l.metadata.to_string(), l.updated_by, l.updated_at],
    )?;
    conn.query_row(
        "SELECT * FROM tenant_licenses WHERE tenant_id = ?1 AND id = ?2",
        params![l.tenant_id, l.id],
        license_from,
    )
}

pub fn licenses(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<LicenseRow>> {
    conn.prepare_cached("SELECT * FROM tenant_licenses WHERE tenant_id = ?1 ORDER BY created_at DESC, id")?
        .query_map(params![tenant], license_from)?
        .collect()
}

pub fn delete_license(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM tenant_licenses WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
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

fn entitlement_from(row: &Row<'_>) -> rusqlite::Result<EntitlementRow> {
    let modules: String = row.get("modules")?;
    Ok(EntitlementRow {
        tenant_id: row.get("tenant_id")?,
        user_id: row.get("user_id")?,
        modules: serde_json::from_str(&modules).unwrap_or_default(),
        max_active_leases: row.get("max_active_leases")?,
        updated_at_ms: row.get("updated_at_ms")?,
        updated_by: row.get("updated_by")?,
    })
}

pub fn upsert_entitlement(conn: &Connection, e: &EntitlementRow) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO tenant_entitlements (tenant_id, user_id, modules, max_active_leases, updated_at_ms, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET modules = excluded.modules,
             max_active_leases = excluded.max_active_leases, updated_at_ms = excluded.updated_at_ms,
             updated_by = excluded.updated_by",
        params![
            e.tenant_id,
            e.user_id,
            e.modules.to_string(),
            e.max_active_leases,
            e.updated_at_ms,
            e.updated_by
        ],
    )?;
    Ok(())
}

pub fn entitlement(conn: &Connection, tenant: &str, user_id: &str) -> rusqlite::Result<Option<EntitlementRow>> {
    conn.query_row(
        "SELECT * FROM tenant_entitlements WHERE tenant_id = ?1 AND user_id = ?2",
        params![tenant, user_id],
        entitlement_from,
    )
    .optional()
}

pub fn entitlements(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<EntitlementRow>> {
    conn.prepare_cached("SELECT * FROM tenant_entitlements WHERE tenant_id = ?1 ORDER BY user_id")?
        .query_map(params![tenant], entitlement_from)?
        .collect()
}

pub fn delete_entitlement(conn: &Connection, tenant: &str, user_id: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM tenant_entitlements WHERE tenant_id = ?1 AND user_id = ?2",
        params![tenant, user_id],
    )?;
    Ok(n > 0)
}
