//! SQL for releases, assignments and the download audit.

use serde_json::{json, Value};

use crate::args;
use crate::db::sql::Row;
use crate::db::{Conn, DbError};

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

const RELEASE_COLUMNS: &str = "id, tenant_id, module, platform, channel, version, object_key, sha256, size_bytes,
    status, created_by, updated_by, created_at, updated_at";

/// Reads a row selected with [`RELEASE_COLUMNS`].
fn release_from(row: &Row<'_>) -> Result<ReleaseRow, DbError> {
    Ok(ReleaseRow {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        module: row.get(2)?,
        platform: row.get(3)?,
        channel: row.get(4)?,
        version: row.get(5)?,
        object_key: row.get(6)?,
        sha256: row.get(7)?,
        size_bytes: row.get(8)?,
        status: row.get(9)?,
        created_by: row.get(10)?,
        updated_by: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
    })
}

const ASSIGNMENT_COLUMNS: &str = "id, tenant_id, module, platform, channel, user_id, release_id, created_by,
    updated_by, created_at, updated_at";

/// Reads a row selected with [`ASSIGNMENT_COLUMNS`].
fn assignment_from(row: &Row<'_>) -> Result<AssignmentRow, DbError> {
    let user: String = row.get(5)?;
    Ok(AssignmentRow {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        module: row.get(2)?,
        platform: row.get(3)?,
        channel: row.get(4)?,
        user_id: (!user.is_empty()).then_some(user),
        release_id: row.get(6)?,
        created_by: row.get(7)?,
        updated_by: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

/// Inserts a release; `None` when its (module, platform, channel, version) or object key
/// is taken in the tenant.
pub fn insert_release(conn: &dyn Conn, r: &ReleaseRow) -> Result<Option<ReleaseRow>, DbError> {
    let inserted = conn.opt(
        "INSERT INTO artifact_releases (tenant_id, module, platform, channel, version, object_key, sha256, size_bytes,
             status, created_by, updated_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?11)
         ON CONFLICT DO NOTHING RETURNING id",
        args![
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
        |row| row.get::<i64>(0),
    )?;
    match inserted {
        Some(id) => release(conn, &r.tenant_id, id),
        None => Ok(None),
    }
}

/// Whether a release with this identity or object key exists (checked before an upload).
pub fn release_taken(conn: &dyn Conn, tenant: &str, scope: &Scope, version: &str) -> Result<bool, DbError> {
    conn.one(
        "SELECT EXISTS (SELECT 1 FROM artifact_releases
             WHERE tenant_id = ?1 AND module = ?2 AND platform = ?3 AND channel = ?4 AND version = ?5)",
        args![tenant, scope.module, scope.platform, scope.channel, version],
        |r| r.get(0),
    )
}

pub fn release(conn: &dyn Conn, tenant: &str, id: i64) -> Result<Option<ReleaseRow>, DbError> {
    conn.opt(
        &format!("SELECT {RELEASE_COLUMNS} FROM artifact_releases WHERE tenant_id = ?1 AND id = ?2"),
        args![tenant, id],
        release_from,
    )
}

pub fn releases(conn: &dyn Conn, tenant: &str) -> Result<Vec<ReleaseRow>, DbError> {
    conn.all(
        &format!("SELECT {RELEASE_COLUMNS} FROM artifact_releases WHERE tenant_id = ?1 ORDER BY id DESC"),
        args![tenant],
        release_from,
    )
}

pub fn set_release_status(
    conn: &dyn Conn,
    tenant: &str,
    id: i64,
    status: &str,
    by: &str,
    now: i64,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE artifact_releases SET status = ?3, updated_by = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id, status, by, now],
    )?;
    Ok(())
}

/// Creates or replaces the assignment of (scope, user-or-default).
pub fn upsert_assignment(
    conn: &dyn Conn,
    tenant: &str,
    scope: &Scope,
    user_id: Option<&str>,
    release_id: i64,
    by: &str,
    now: i64,
) -> Result<AssignmentRow, DbError> {
    let user = user_id.unwrap_or("");
    conn.execute(
        "INSERT INTO artifact_assignments (tenant_id, module, platform, channel, user_id, release_id, created_by, updated_by,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?8)
         ON CONFLICT (tenant_id, module, platform, channel, user_id) DO UPDATE SET release_id = excluded.release_id,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        args![tenant, scope.module, scope.platform, scope.channel, user, release_id, by, now],
    )?;
    assignment(conn, tenant, scope, user)?.ok_or(DbError::NoRows)
}

/// The assignment of `user` ('' = the tenant default) for `scope`.
pub fn assignment(conn: &dyn Conn, tenant: &str, scope: &Scope, user: &str) -> Result<Option<AssignmentRow>, DbError> {
    conn.opt(
        &format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM artifact_assignments
             WHERE tenant_id = ?1 AND module = ?2 AND platform = ?3 AND channel = ?4 AND user_id = ?5"
        ),
        args![tenant, scope.module, scope.platform, scope.channel, user],
        assignment_from,
    )
}

pub fn record(conn: &dyn Conn, a: &AuditRow) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO artifact_download_audit (tenant_id, lease_id, lease_jti, user_id, vm_uuid, module, platform, channel,
             release_id, event_type, result, reason, request_ip, url_expires_at_ms, metadata, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        args![
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
            a.metadata,
            a.created_at
        ],
    )?;
    Ok(())
}

/// Every assignment of the tenant, by scope, the default (user '') first.
pub fn assignments(conn: &dyn Conn, tenant: &str) -> Result<Vec<AssignmentRow>, DbError> {
    conn.all(
        &format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM artifact_assignments WHERE tenant_id = ?1
             ORDER BY module, platform, channel, user_id"
        ),
        args![tenant],
        assignment_from,
    )
}

/// A page of the tenant's audit rows, newest first, as JSON objects, and the tenant's total.
pub fn audit_page(conn: &dyn Conn, tenant: &str, limit: i64, offset: i64) -> Result<(Vec<Value>, u64), DbError> {
    let rows = conn.all(
        "SELECT id, tenant_id, lease_id, lease_jti, user_id, vm_uuid, module, platform, channel, release_id,
             event_type, result, reason, request_ip, url_expires_at_ms, metadata, created_at
         FROM artifact_download_audit WHERE tenant_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
        args![tenant, limit, offset],
        |r| {
            let text = |i| r.get::<Option<String>>(i);
            Ok(json!({
                "id": r.get::<i64>(0)?,
                "tenant_id": r.get::<String>(1)?,
                "lease_id": text(2)?,
                "lease_jti": text(3)?,
                "user_id": text(4)?,
                "vm_uuid": text(5)?,
                "module": text(6)?,
                "platform": text(7)?,
                "channel": text(8)?,
                "release_id": r.get::<Option<i64>>(9)?,
                "event_type": r.get::<String>(10)?,
                "result": r.get::<String>(11)?,
                "reason": text(12)?,
                "request_ip": text(13)?,
                "url_expires_at_ms": r.get::<Option<i64>>(14)?,
                "metadata": serde_json::from_str::<Value>(&r.get::<String>(15)?).unwrap_or_default(),
                "created_at": r.get::<i64>(16)?,
            }))
        },
    )?;
    let total: i64 = conn.one(
        "SELECT COUNT(*) FROM artifact_download_audit WHERE tenant_id = ?1",
        args![tenant],
        |r| r.get(0),
    )?;
    Ok((rows, total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn release_row(version: &str, key: &str) -> ReleaseRow {
        ReleaseRow {
            id: 0,
            tenant_id: "t".into(),
            module: "farm".into(),
            platform: "windows".into(),
            channel: "stable".into(),
            version: version.into(),
            object_key: key.into(),
            sha256: "ab".repeat(32),
            size_bytes: 42,
            status: "active".into(),
            created_by: "u1".into(),
            updated_by: "u1".into(),
            created_at: 5,
            updated_at: 5,
        }
    }

    #[test]
    fn the_artifact_queries_answer_alike_on_both_databases() {
        on_each_backend("artifacts_store", |c| {
            let scope = Scope {
                module: "farm".into(),
                platform: "windows".into(),
                channel: "stable".into(),
            };
            let one = insert_release(c, &release_row("1.0", "k/1")).unwrap().unwrap();
            assert_eq!(
                (one.version.as_str(), one.size_bytes, one.updated_by.as_str()),
                ("1.0", 42, "u1")
            );
            // The same identity, or the same object key, is refused without an error.
            assert!(insert_release(c, &release_row("1.0", "k/other")).unwrap().is_none());
            assert!(insert_release(c, &release_row("2.0", "k/1")).unwrap().is_none());
            let two = insert_release(c, &release_row("2.0", "k/2")).unwrap().unwrap();
            assert!(two.id > one.id, "{:?}", c.dialect());
            assert!(release_taken(c, "t", &scope, "1.0").unwrap());
            assert!(!release_taken(c, "t", &scope, "3.0").unwrap());
            assert!(!release_taken(c, "other", &scope, "1.0").unwrap());
            assert!(release(c, "other", one.id).unwrap().is_none());
            let ids: Vec<_> = releases(c, "t").unwrap().into_iter().map(|r| r.id).collect();
            assert_eq!(ids, [two.id, one.id]);
            set_release_status(c, "t", one.id, "disabled", "u2", 9).unwrap();
            let disabled = release(c, "t", one.id).unwrap().unwrap();
            assert_eq!(
                (
                    disabled.status.as_str(),
                    disabled.updated_by.as_str(),
                    disabled.updated_at
                ),
                ("disabled", "u2", 9)
            );

            let default = upsert_assignment(c, "t", &scope, None, one.id, "u1", 10).unwrap();
            assert_eq!(default.user_id, None);
            let mine = upsert_assignment(c, "t", &scope, Some("u2"), one.id, "u1", 11).unwrap();
            let moved = upsert_assignment(c, "t", &scope, Some("u2"), two.id, "u3", 12).unwrap();
            assert_eq!(
                (moved.id, moved.release_id, moved.created_by.as_str()),
                (mine.id, two.id, "u1")
            );
            assert_eq!(
                (moved.updated_by.as_str(), moved.created_at, moved.updated_at),
                ("u3", 11, 12)
            );
            assert_eq!(assignment(c, "t", &scope, "").unwrap().map(|a| a.id), Some(default.id));
            assert!(assignment(c, "t", &scope, "u9").unwrap().is_none());
            let users: Vec<_> = assignments(c, "t").unwrap().into_iter().map(|a| a.user_id).collect();
            assert_eq!(users, [None, Some("u2".into())]);

            record(
                c,
                &AuditRow {
                    tenant_id: "t".into(),
                    event_type: "resolve",
                    result: "denied",
                    reason: Some("no lease".into()),
                    metadata: json!({"attempt": 1}),
                    created_at: 20,
                    ..AuditRow::default()
                },
            )
            .unwrap();
            record(
                c,
                &AuditRow {
                    tenant_id: "t".into(),
                    lease_id: Some("l1".into()),
                    release_id: Some(two.id),
                    event_type: "download",
                    result: "allowed",
                    url_expires_at_ms: Some(99),
                    metadata: json!({}),
                    created_at: 21,
                    ..AuditRow::default()
                },
            )
            .unwrap();
            let (rows, total) = audit_page(c, "t", 1, 1).unwrap();
            assert_eq!(total, 2);
            let id = rows[0]["id"].as_i64().unwrap();
            assert_eq!(
                rows,
                [json!({
                    "id": id, "tenant_id": "t", "lease_id": null, "lease_jti": null, "user_id": null,
                    "vm_uuid": null, "module": null, "platform": null, "channel": null, "release_id": null,
                    "event_type": "resolve", "result": "denied", "reason": "no lease", "request_ip": null,
                    "url_expires_at_ms": null, "metadata": {"attempt": 1}, "created_at": 20
                })]
            );
            let (rows, _) = audit_page(c, "t", 10, 0).unwrap();
            assert_eq!(
                (rows[0]["release_id"].as_i64(), rows[0]["url_expires_at_ms"].as_i64()),
                (Some(two.id), Some(99))
            );
            assert_eq!(audit_page(c, "other", 10, 0).unwrap().1, 0);
        });
    }
}
