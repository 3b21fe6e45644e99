//! `POST /api/v1/license/lease|heartbeat|revoke` (`api-ops.md` §7.2).
//!
//! HTTP only: the flows are in `service.rs` (`issue` runs every check after the user inside
//! one write, so concurrent requests cannot exceed an entitlement's limit).

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, Issue};
use crate::agents::principal::Caller;
use crate::auth::{Authed, Privileged};
use crate::documents::crud::typed_body;
use crate::documents::fields::Text;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::Json;
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;
use crate::vm_registry::rules::VmUuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue))
        .routes(routes!(heartbeat))
        .routes(routes!(revoke))
}

#[derive(Deserialize, ToSchema)]
pub struct LeaseRequest {
    /// The SMBIOS UUID of a VM registered in the tenant.
    pub vm_uuid: String,
    /// The lease's user; default the caller (an agent's default is its owner). Naming
    /// another user needs admin or infra.
    #[schema(value_type = Option<String>)]
    pub user_id: Option<Text<1, 200>>,
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<Text<1, 200>>,
    #[schema(value_type = Option<String>)]
    pub runner_id: Option<Text<1, 200>>,
    #[schema(value_type = Option<String>)]
    pub module: Option<Text<1, 200>>,
    #[schema(value_type = Option<String>)]
    pub version: Option<Text<0, 100>>,
}

#[derive(Serialize, ToSchema)]
pub struct Lease {
    pub lease_id: String,
    /// The lease token (§7.3) for `POST /artifacts/resolve-download`.
    pub token: String,
    /// ms; heartbeats move it forward.
    pub expires_at: i64,
    pub tenant_id: String,
    pub user_id: String,
    pub vm_uuid: String,
    pub module: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = LeaseHeartbeatRequest)]
pub struct HeartbeatRequest {
    #[schema(value_type = String)]
    pub lease_id: Text<1, 200>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = LeaseHeartbeatAck)]
pub struct HeartbeatAck {
    pub lease_id: String,
    pub status: String,
    /// ms: now + the lease TTL, at most the token's `exp`.
    pub expires_at: i64,
    pub last_heartbeat_at: i64,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = LeaseRevokeRequest)]
pub struct RevokeRequest {
    #[schema(value_type = String)]
    pub lease_id: Text<1, 200>,
    #[schema(value_type = Option<String>)]
    pub reason: Option<Text<0, 500>>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = LeaseRevoked)]
pub struct Revoked {
    pub lease_id: String,
    pub status: String,
    pub revoked_at: i64,
}

/// Issues a lease after the checks of §7.2 (user, fields, VM, licence, entitlement) and
/// the entitlement's limit on live leases.
#[utoipa::path(post, path = "/api/v1/license/lease", tag = "license", security(("bearer" = [])),
    request_body = LeaseRequest,
    responses((status = 201, body = Success<Lease>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn issue(State(state): State<AppState>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Created<Lease>> {
    let request: LeaseRequest = typed_body(&body, ErrorCode::InvalidRequestBody)?;
    let mut errors = FieldErrors::default();
    let vm_uuid = errors.check("vm_uuid", VmUuid::parse(&request.vm_uuid));
    errors.into_result(ErrorCode::InvalidRequestBody)?;
    let user_id = service::lease_user(
        &state,
        &caller,
        request.user_id.map(|u| u.0),
        request.agent_id.as_deref(),
    )
    .await?;
    // 2. Required fields.
    let (Some(agent_id), Some(runner_id), Some(module)) = (request.agent_id, request.runner_id, request.module) else {
        return Err(ApiError::new(ErrorCode::BadRequest).with_message("agent_id, runner_id and module are required"));
    };
    let (tenant, actor_id, actor_email) = service::actor_of(&caller);
    let job = Issue {
        tenant,
        user_id,
        vm_uuid: vm_uuid.expect("checked").into_string(),
        agent_id: agent_id.0,
        runner_id: runner_id.0,
        module: module.0,
        version: request.version.map(|v| v.0).filter(|v| !v.is_empty()),
    };
    let (lease, token) = service::issue(&state, job, actor_id, actor_email).await?;
    Ok(created(Lease {
        lease_id: lease.id,
        token,
        expires_at: lease.expires_at_ms,
        tenant_id: lease.tenant_id,
        user_id: lease.user_id,
        vm_uuid: lease.vm_uuid,
        module: lease.module,
    }))
}

/// Keeps a lease alive: `expires_at` becomes now + the lease TTL (never past the token's
/// `exp`). A lease that already expired or was revoked stays dead.
#[utoipa::path(post, path = "/api/v1/license/heartbeat", tag = "license", security(("bearer" = [])),
    request_body = HeartbeatRequest,
    responses((status = 200, body = Success<HeartbeatAck>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn heartbeat(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<Ok<HeartbeatAck>> {
    let request: HeartbeatRequest = typed_body(&body, ErrorCode::InvalidRequestBody)?;
    let beat = service::heartbeat(&state, caller, request.lease_id.0).await?;
    Ok(ok(HeartbeatAck {
        lease_id: beat.lease_id,
        status: "active".to_owned(),
        expires_at: beat.expires_at,
        last_heartbeat_at: beat.last_heartbeat_at,
    }))
}

/// Ends a lease at once; no new download URLs are issued for it. Revoking again succeeds
/// with a new timestamp.
#[utoipa::path(post, path = "/api/v1/license/revoke", tag = "license", security(("bearer" = [])),
    request_body = RevokeRequest,
    responses((status = 200, body = Success<Revoked>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure)))]
async fn revoke(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Revoked>> {
    let request: RevokeRequest = typed_body(&body, ErrorCode::InvalidRequestBody)?;
    let reason = request.reason.map(|r| r.0).filter(|r| !r.is_empty());
    let (lease_id, revoked_at) = service::revoke(&state, me, request.lease_id.0, reason).await?;
    Ok(ok(Revoked {
        lease_id,
        status: "revoked".to_owned(),
        revoked_at,
    }))
}
