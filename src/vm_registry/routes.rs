//! `POST /api/v1/vm/register` and `GET /api/v1/vm/{uuid}/resolve`.

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rules::VmUuid;
use super::store::{self, VmRecord};
use crate::access::{self, Action};
use crate::agents::principal::Caller;
use crate::agents::store as agents;
use crate::auth::store as users;
use crate::clock::now_ms;
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path};
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register)).routes(routes!(resolve))
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterVm {
    /// The SMBIOS UUID: 8-128 characters of `[A-Za-z0-9:_-]`, stored lower-cased.
    pub vm_uuid: String,
    /// The owner; default the caller. Naming another user needs admin or infra.
    pub user_id: Option<String>,
    pub vm_name: Option<String>,
    pub project_id: Option<String>,
    /// `active` (default), `paused` or `revoked`.
    pub status: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

fn at_most(errors: &mut FieldErrors, field: &str, value: Option<String>, max: usize) -> String {
    let value = value.unwrap_or_default().trim().to_owned();
    if value.chars().count() > max {
        errors.add(field, format!("{field} must be at most {max} characters"));
    }
    value
}

/// Binds a VM to the tenant and an owner; registering again updates everything but
/// `created_at`.
#[utoipa::path(post, path = "/api/v1/vm/register", tag = "vm", security(("bearer" = [])), request_body = RegisterVm,
    responses((status = 201, body = Success<VmRecord>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 409, body = Failure)))]
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<Created<VmRecord>> {
    let code = ErrorCode::VmRegisterInvalidBody;
    let request: RegisterVm = typed_body(&body, code)?;
    let mut errors = FieldErrors::default();
    let uuid = errors.check("vm_uuid", VmUuid::parse(&request.vm_uuid));
    let vm_name = at_most(&mut errors, "vm_name", request.vm_name, 200);
    let project_id = at_most(&mut errors, "project_id", request.project_id, 100);
    let status = request.status.unwrap_or_else(|| "active".into());
    if !["active", "paused", "revoked"].contains(&status.as_str()) {
        errors.add("status", "status must be active, paused or revoked");
    }
    let metadata = request.metadata.unwrap_or(Value::Object(Default::default()));
    if !metadata.is_object() {
        errors.add("metadata", "metadata must be an object");
    }
    let user_id = match request.user_id.map(|u| u.trim().to_owned()) {
        Some(u) if u.is_empty() || u.chars().count() > 200 => {
            errors.add("user_id", "user_id must be 1-200 characters");
            None
        }
        other => other,
    };
    errors.into_result(code)?;
    let uuid = uuid.expect("checked");
    let (tenant_id, owner) = match caller {
        Caller::User(me) => match user_id {
            Some(other) if !access::may_act_for(&me, Action::RegisterVm, &other) => {
                return Err(access::refusal(Action::RegisterVm));
            }
            other => (me.tenant_id, other.unwrap_or(me.user_id)),
        },
        // Access matrix §11: an agent registers VMs for its tenant (the runner's bootstrap
        // runs beside it), owned by the named user or else the agent's owner.
        Caller::Agent(agent) => {
            let (tenant, id) = (agent.tenant_id.clone(), agent.agent_id);
            let agent_owner = state
                .db
                .read(move |conn| agents::by_id(conn, &tenant, &id).map_err(ApiError::from))
                .await?
                .and_then(|row| row.owner_user_id);
            let owner = user_id.or(agent_owner).ok_or_else(|| {
                ApiError::new(ErrorCode::VmRegisterInvalidBody)
                    .with_message("user_id is required: this agent is not bound to a user")
            })?;
            (agent.tenant_id, owner)
        }
    };
    let now = now_ms();
    let record = VmRecord {
        tenant_id,
        vm_uuid: uuid.0,
        user_id: owner,
        vm_name,
        project_id,
        status,
        metadata,
        created_at_ms: now,
        updated_at_ms: now,
        created_at: now,
        updated_at: now,
    };
    let saved = state
        .db
        .write(move |tx| {
            if users::user_by_id(tx, &record.tenant_id, &record.user_id)?.is_none() {
                let mut errors = FieldErrors::default();
                errors.add("user_id", "No user with this id in your tenant");
                return Err(ApiError::validation(code, errors));
            }
            Ok(store::upsert(tx, &record)?)
        })
        .await?;
    Ok(created(saved))
}

/// The binding of a VM UUID in the caller's tenant.
#[utoipa::path(get, path = "/api/v1/vm/{uuid}/resolve", tag = "vm", security(("bearer" = [])),
    params(("uuid" = String, Path)),
    responses((status = 200, body = Success<VmRecord>), (status = 400, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure)))]
async fn resolve(State(state): State<AppState>, caller: Caller, Path(uuid): Path<String>) -> ApiResult<Ok<VmRecord>> {
    let uuid = VmUuid::parse(&uuid).map_err(|m| ApiError::new(ErrorCode::VmResolveInvalidPath).with_message(m))?;
    // Access matrix §11: agents resolve any VM of their tenant, like users do.
    let tenant = match caller {
        Caller::User(me) => me.tenant_id,
        Caller::Agent(agent) => agent.tenant_id,
    };
    let found = state
        .db
        .read(move |conn| store::get(conn, &tenant, &uuid.0).map_err(ApiError::from))
        .await?;
    found.map(ok).ok_or_else(|| ApiError::new(ErrorCode::VmUuidNotFound))
}
