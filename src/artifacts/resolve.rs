//! `POST /api/v1/artifacts/resolve-download`: the resolve algorithm of `api-ops.md` §6.3.
//!
//! Steps: verify the lease token (`leases::check`); find the assignment effective for the
//! lease's user; check the release; check the object; sign a download URL served by this
//! binary; audit, then answer. Every attempt, refused or not, writes one row of the download
//! audit before the answer leaves.

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::service::scope;
use super::store::{self, AuditRow, ReleaseRow, Scope};
use crate::agents::principal::Caller;
use crate::agents::service::ServerUrl;
use crate::clock::now_ms;
use crate::db::Conn;
use crate::documents::crud::typed_body;
use crate::documents::fields::Text;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::client_ip::ClientIp;
use crate::http::extract::Json;
use crate::http::respond::{ok, Ok};
use crate::leases::check::{self, Denied};
use crate::leases::store::LeaseRow;
use crate::state::AppState;
use crate::vm_registry::rules::VmUuid;

#[derive(Deserialize, ToSchema)]
pub struct ResolveRequest {
    pub lease_token: String,
    pub vm_uuid: String,
    #[schema(value_type = String)]
    pub module: Text<1, 200>,
    #[schema(value_type = String)]
    pub platform: Text<1, 100>,
    /// Default `stable`.
    #[schema(value_type = Option<String>)]
    pub channel: Option<Text<1, 100>>,
}

#[derive(Serialize, ToSchema)]
pub struct Resolved {
    /// GET it (no bearer; `Range` supported) before `url_expires_at`.
    pub download_url: String,
    /// ms.
    pub url_expires_at: i64,
    pub release_id: i64,
    pub version: String,
    pub sha256: String,
    pub size_bytes: i64,
}

/// The path a download URL signs: tenant, lease and release (hence the object key).
pub fn file_path(tenant: &str, lease_id: &str, release_id: i64) -> String {
    format!("/api/v1/artifacts/files/{tenant}/{lease_id}/{release_id}")
}

/// An error code as an audit reason: lower-case, `[a-z0-9:_-]`, at most 120 characters.
pub fn reason(error: &ApiError) -> String {
    error
        .code
        .as_str()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
        .take(120)
        .collect()
}

/// What a resolve learned before it stopped, for its audit row.
#[derive(Default)]
struct Trail {
    lease: Option<LeaseRow>,
    jti: Option<String>,
    user_id: Option<String>,
    release_id: Option<i64>,
}

/// Steps 1-3, in one read: the lease, the effective assignment, the release.
fn lookup(
    conn: &dyn Conn,
    vault: &crate::vault::Vault,
    tenant: &str,
    request: &(String, String, Scope),
    trail: &mut Trail,
) -> Result<(ReleaseRow, &'static str), ApiError> {
    let (token, vm_uuid, scope) = request;
    let lease = check::lease_for(conn, vault, tenant, token, vm_uuid, &scope.module, now_ms()).map_err(|denied| {
        let Denied { error, claims, lease } = *denied;
        if let Some(claims) = claims {
            trail.jti = Some(claims.jti);
            trail.user_id = Some(claims.user_id);
        }
        trail.lease = lease;
        error
    })?;
    trail.jti = Some(lease.id.clone());
    trail.user_id = Some(lease.user_id.clone());
    trail.lease = Some(lease.clone());
    effective_release(conn, tenant, scope, &lease.user_id, &mut trail.release_id)
}

/// The active release assigned to `user` for `scope`, else the tenant default's, with where
/// it came from (`user` or `tenant-default`). `release_id` learns the assigned release even
/// when it is then refused.
pub fn effective_release(
    conn: &dyn Conn,
    tenant: &str,
    scope: &Scope,
    user: &str,
    release_id: &mut Option<i64>,
) -> Result<(ReleaseRow, &'static str), ApiError> {
    let (assignment, source) = match store::assignment(conn, tenant, scope, user)? {
        Some(own) => (own, "user"),
        None => (
            store::assignment(conn, tenant, scope, "")?.ok_or(ErrorCode::ArtifactAssignmentNotFound)?,
            "tenant-default",
        ),
    };
    *release_id = Some(assignment.release_id);
    let release = store::release(conn, tenant, assignment.release_id)?.ok_or(ErrorCode::ArtifactReleaseNotFound)?;
    if release.status != "active" {
        return Err(ErrorCode::ArtifactReleaseNotActive.into());
    }
    Ok((release, source))
}

/// A signed download URL of `release_id` for `holder` (a lease id, or a provisioning token
/// id: see [`super::download`]) and its deadline in ms.
pub fn signed_url(state: &AppState, base: &str, tenant: &str, holder: &str, release_id: i64) -> (String, i64) {
    let url_expires_at = now_ms() + state.config.artifact_url_ttl_secs as i64 * 1000;
    let path = file_path(tenant, holder, release_id);
    (
        format!("{base}{}", state.signer.sign("GET", &path, url_expires_at)),
        url_expires_at,
    )
}

/// Trades a lease token for a short-lived signed URL of the release assigned to the lease's
/// user (or the tenant default). Any principal may call it; the lease is the credential.
#[utoipa::path(post, path = "/api/v1/artifacts/resolve-download", tag = "artifacts", security(("bearer" = [])),
    request_body = ResolveRequest,
    responses((status = 200, body = Success<Resolved>), (status = 400, body = Failure), (status = 401, body = Failure),
        (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(crate) async fn resolve_download(
    State(state): State<AppState>,
    caller: Caller,
    ServerUrl(base): ServerUrl,
    ClientIp(ip): ClientIp,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Resolved>> {
    let tenant = match &caller {
        Caller::User(me) => me.tenant_id.clone(),
        Caller::Agent(agent) => agent.tenant_id.clone(),
    };
    let mut row = AuditRow {
        tenant_id: tenant.clone(),
        request_ip: Some(ip.to_string()),
        ..AuditRow::default()
    };
    let mut trail = Trail::default();
    let outcome = resolve(&state, &tenant, &base, &body, &mut row, &mut trail).await;
    row.lease_id = trail.lease.as_ref().map(|l| l.id.clone());
    row.lease_jti = trail.jti;
    row.user_id = trail.user_id;
    row.vm_uuid = row
        .vm_uuid
        .take()
        .or_else(|| trail.lease.as_ref().map(|l| l.vm_uuid.clone()));
    row.release_id = trail.release_id;
    row.created_at = now_ms();
    match &outcome {
        Ok(resolved) => {
            row.event_type = "resolve_success";
            row.result = "allowed";
            row.url_expires_at_ms = Some(resolved.url_expires_at);
        }
        Err(error) => {
            row.event_type = "resolve_denied";
            row.result = if error.code.status().is_server_error() {
                "error"
            } else {
                "denied"
            };
            row.reason = Some(reason(error));
            row.metadata = json!({ "error_code": error.code.as_str() });
        }
    }
    // The audit row is written before any answer, and its failure is the answer.
    state
        .db
        .write(move |tx| store::record(tx, &row).map_err(ApiError::from))
        .await?;
    outcome.map(ok)
}

/// Steps 0-5; fills the audit row's request fields and `metadata.source` on the way.
async fn resolve(
    state: &AppState,
    tenant: &str,
    base: &str,
    body: &Value,
    row: &mut AuditRow,
    trail: &mut Trail,
) -> ApiResult<Resolved> {
    let request: ResolveRequest = typed_body(body, ErrorCode::InvalidRequestBody)?;
    let mut errors = FieldErrors::default();
    let vm_uuid = errors.check("vm_uuid", VmUuid::parse(&request.vm_uuid));
    errors.into_result(ErrorCode::InvalidRequestBody)?;
    let vm_uuid = vm_uuid.expect("checked").into_string();
    let scope = scope(&request.module, &request.platform, request.channel.as_deref());
    row.vm_uuid = Some(vm_uuid.clone());
    row.module = Some(scope.module.clone());
    row.platform = Some(scope.platform.clone());
    row.channel = Some(scope.channel.clone());
    let (vault, owned_tenant) = (state.vault.clone(), tenant.to_owned());
    let (result, found) = state
        .db
        .read(move |conn| {
            let mut found = Trail::default();
            let result = lookup(
                conn,
                &vault,
                &owned_tenant,
                &(request.lease_token, vm_uuid, scope),
                &mut found,
            );
            Ok::<_, ApiError>((result, found))
        })
        .await?;
    *trail = found;
    let (release, source) = result?;
    row.metadata = json!({ "source": source });
    if !state
        .objects
        .exists(&release.object_key)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(ErrorCode::ArtifactObjectNotFound.into());
    }
    let lease_id = trail.lease.as_ref().map(|l| l.id.clone()).unwrap_or_default();
    let (download_url, url_expires_at) = signed_url(state, base, tenant, &lease_id, release.id);
    Ok(Resolved {
        download_url,
        url_expires_at,
        release_id: release.id,
        version: release.version,
        sha256: release.sha256,
        size_bytes: release.size_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_lower_case_codes() {
        assert_eq!(reason(&ErrorCode::VmUuidMismatch.into()), "vm_uuid_mismatch");
    }
}
