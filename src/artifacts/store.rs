//! SQL for releases, assignments and the download audit.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct ReleaseRow {
    pub id: i64,
    pub tenant_id: String,
    pub module: String,
    pub platform: String,
    pub channel: String,
    pub version: String,
    pub object_key: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub status: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A scope: what an assignment and a resolve are about.
#[derive(Debug, Clone)]
pub struct Scope {
    pub module: String,
    pub platform: String,
    pub channel: String,
}

#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub id: i64,
    pub tenant_id: String,
    pub module: String,
    pub platform: String,
    pub channel: String,
    /// `None` = the tenant default.
    pub user_id: Option<String>,
    pub release_id: i64,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One row of `artifact_download_audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditRow {
    pub tenant_id: String,
    pub lease_id: Option<String>,
    pub lease_jti: Option<String>,
    pub user_id: Option<String>,
    pub vm_uuid: Option<String>,
    pub module: Option<String>,
    pub platform: Option<String>,
    pub channel: Option<String>,
    pub release_id: Option<i64>,
    pub event_type: &'static str,
    pub result: &'static str,
    pub reason: Option<String>,
    pub request_ip: Option<String>,
    pub url_expires_at_ms: Option<i64>,
    pub metadata: Value,
    pub created_at: i64,
}

fn release_from(row: &Row<'_>) -> rusqlite::Result<ReleaseRow> {
    Ok(ReleaseRow {
        id: row.get("id")?,
        tenant_id: row.get("tenant_id")?,
        module: row.get("module")?,
        platform: row.get("platform")?,
        channel: row.get("channel")?,
        version: row.get("version")?,
        object_key: row.get("object_key")?,
        sha256: row.get("sha256")?,
        size_bytes: row.get("size_bytes")?,
        status: row.get("status")?,
        created_by: row.get("created_by")?,
        updated_by: row.get("updated_by")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn assignment_from(row: &Row<'_>) -> rusqlite::Result<AssignmentRow> {
    let user: String = row.get("user_id")?;
    Ok(AssignmentRow {
        id: row.get("id")?,
        tenant_id: row.get("tenant_id")?,
        module: row.get("module")?,
        platform: row.get("platform")?,
        channel: row.get("channel")?,
        user_id: (!user.is_empty()).then_some(user),
        release_id: row.get("release_id")?,
        created_by: row.get("created_by")?,
        updated_by: row.get("updated_by")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Inserts a release; `None` when its (module, platform, channel, version) or object key
/// is taken in the tenant.
pub fn insert_release(conn: &Connection, r: &ReleaseRow) -> rusqlite::Result<Option<ReleaseRow>> {
    let inserted = conn.execute(
        "INSERT INTO artifact_releases (tenant_id, module, platform, channel, version, object_key, sha256, size_bytes,
             status, created_by, updated_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?11)
         ON CONFLICT DO NOTHING",
        params![
            r.tenant_id,
            r.module,
            r.platform,
            r.channel,
            r.version,
            r.object_key,
            r.sha256,
            r.size_bytes,
            r.status,
            r.created_by,
            r.created_at
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    release(conn, &r.tenant_id, conn.last_insert_rowid())
}

/// Whether a release with this identity or object key exists (checked before an upload).
pub fn release_taken(conn: &Connection, tenant: &str, scope: &Scope, version: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM artifact_releases
             WHERE tenant_id = ?1 AND module = ?2 AND platform = ?3 AND channel = ?4 AND version = ?5)",
        params![tenant, scope.module, scope.platform, scope.channel, version],
        |r| r.get(0),
    )
}

pub fn release(conn: &Connection, tenant: &str, id: i64) -> rusqlite::Result<Option<ReleaseRow>> {
    conn.query_row(
        "SELECT * FROM artifact_releases WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
        release_from,
    )
    .optional()
}

pub fn releases(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<ReleaseRow>> {
    conn.prepare_cached("SELECT * FROM artifact_releases WHERE tenant_id = ?1 ORDER BY id DESC")?
        .query_map(params![tenant], release_from)?
        .collect()
}

pub fn set_release_status(
    conn: &Connection,
    tenant: &str,
    id: i64,
    status: &str,
    by: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE artifact_releases SET status = ?3, updated_by = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id, status, by, now],
    )?;
    Ok(())
}

/// Creates or replaces the assignment of (scope, user-or-default).
pub fn upsert_assignment(
    conn: &Connection,
    tenant: &str,
    scope: &Scope,
    user_id: Option<&str>,
    release_id: i64,
    by: &str,
    now: i64,
) -> rusqlite::Result<AssignmentRow> {
    let user = user_id.unwrap_or("");
    conn.execute(
        "INSERT INTO artifact_assignments (tenant_id, module, platform, channel, user_id, release_id, created_by, updated_by,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?8)
         ON CONFLICT (tenant_id, module, platform, channel, user_id) DO UPDATE SET release_id = excluded.release_id,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        params![tenant, scope.module, scope.platform, scope.channel, user, release_id, by, now],
    )?;
    Ok(assignment(conn, tenant, scope, user)?.expect("the row just written"))
}

/// The assignment of `user` ('' = the tenant default) for `scope`.
pub fn assignment(
    conn: &Connection,
    tenant: &str,
    scope: &Scope,
    user: &str,
) -> rusqlite::Result<Option<AssignmentRow>> {
    conn.query_row(
        "SELECT * FROM artifact_assignments
         WHERE tenant_id = ?1 AND module = ?2 AND platform = ?3 AND channel = ?4 AND user_id = ?5",
        params![tenant, scope.module, scope.platform, scope.channel, user],
        assignment_from,
    )
    .optional()
}

pub fn record(conn: &Connection, a: &AuditRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO artifact_download_audit (tenant_id, lease_id, lease_jti, user_id, vm_uuid, module, platform, channel,
             release_id, event_type, result, reason, request_ip, url_expires_at_ms, metadata, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        a.tenant_id,
        a.lease_id,
        a.lease_jti,
        a.user_id,
        a.vm_uuid,
        a.module,
        a.platform,
        a.channel,
        a.release_id,
        a.event_type,
        a.result,
        a.reason,
        a.request_ip,
        a.url_expires_at_ms,
        a.metadata.to_string(),
        a.created_at
    ])?;
    Ok(())
}

/// Every assignment of the tenant, by scope, the default (user '') first.
pub fn assignments(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<AssignmentRow>> {
    conn.prepare_cached(
        "SELECT * FROM artifact_assignments WHERE tenant_id = ?1 ORDER BY module, platform, channel, user_id",
    )?
    .query_map(params![tenant], assignment_from)?
    .collect()
}

/// A page of the tenant's audit rows, newest first, as JSON objects, and the tenant's total.
pub fn audit_page(conn: &Connection, tenant: &str, limit: i64, offset: i64) -> rusqlite::Result<(Vec<Value>, u64)> {
    let rows = conn
        .prepare_cached(
            "SELECT json_object('id', id, 'tenant_id', tenant_id, 'lease_id', lease_id, 'lease_jti', lease_jti,
             'user_id', user_id, 'vm_uuid', vm_uuid, 'module', module, 'platform', platform, 'channel', channel,
             'release_id', release_id, 'event_type', event_type, 'result', result, 'reason', reason,
             'request_ip', request_ip, 'url_expires_at_ms', url_expires_at_ms, 'metadata', json(metadata),
             'created_at', created_at)
         FROM artifact_download_audit WHERE tenant_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
        )?
        .query_map(params![tenant, limit, offset], |r| {
            let text: String = r.get(0)?;
            Ok(serde_json::from_str(&text).unwrap_or_default())
        })?
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    let total: i64 = conn.query_row(
        "SELECT COUNT(*) FROM artifact_download_audit WHERE tenant_id = ?1",
        params![tenant],
        |r| r.get(0),
    )?;
    Ok((rows, total as u64))
}
