//! `/api/v1/agents*`: pairing, register, quick-pair, heartbeat, list, get, revoke (§1.2).

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::agent::{
    AgentInfo, HeartbeatAck, HeartbeatRequest, MachineInfo, QuickPairRequest, RegisterRequest, Registered,
};
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pairing;
use super::principal::Caller;
use super::service::{beat, ServerUrl};
use super::store::{self, AgentRow, Registration};
use crate::access::{self, Action};
use crate::auth::rules::Email;
use crate::auth::signin::{self, SignIn};
use crate::auth::{store as users, token, Authed, Privileged};
use crate::clock::{iso_ms, now_ms};
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::client_ip::ClientIp;
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;

const DEFAULT_NAME: &str = "Unnamed Agent";
const TOKEN_TTL_MS: i64 = 30 * 86_400_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_pairing))
        .routes(routes!(register))
        .routes(routes!(quick_pair))
        .routes(routes!(heartbeat))
        .routes(routes!(list_agents))
        .routes(routes!(get_agent))
        .routes(routes!(revoke_agent))
}

fn agent_info(a: AgentRow, detailed: bool) -> AgentInfo {
    let online = a.is_online(now_ms());
    AgentInfo {
        online,
        id: a.id,
        tenant_id: a.tenant_id,
        owner_user_id: a.owner_user_id,
        name: a.name,
        status: a.status,
        version: a.version,
        platform: a.platform,
        capabilities: a.capabilities,
        last_seen_at: a.last_seen_at.map(iso_ms),
        paired_at: a.paired_at.map(iso_ms),
        revoked_at: a.revoked_at.map(iso_ms),
        revoke_reason: if detailed { a.revoke_reason } else { None },
        metadata: detailed.then_some(a.metadata),
        created_at: iso_ms(a.created_at),
        updated_at: iso_ms(a.updated_at),
    }
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PairingRequest {
    pub name: Option<String>,
    /// 5-1440, default 15.
    pub expires_in_minutes: Option<i64>,
    /// Another user of the tenant as owner (admin/infra only); default the caller.
    pub owner_user_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Pairing {
    pub id: String,
    pub tenant_id: String,
    pub owner_user_id: Option<String>,
    pub name: String,
    pub status: String,
    /// One-time code; also inside the bundle, URI and URL.
    pub pairing_code: String,
    pub pairing_expires_at: String,
    pub created_at: String,
    #[schema(value_type = Option<Object>)]
    pub proxmox_defaults: Option<Value>,
    pub pairing_bundle: String,
    /// `botmox://pair?bundle=…`
    pub pairing_uri: String,
    pub pairing_url: String,
    pub server_url: String,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct RevokeRequest {
    /// At most 500 characters.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AgentRevoked)]
pub struct Revoked {
    pub id: String,
    pub status: String,
    pub revoked_at: String,
    pub revoked_by: String,
    pub revoke_reason: Option<String>,
}

/// Checks `text` is 1-`max` characters after trimming.
fn bounded(errors: &mut FieldErrors, field: &str, text: Option<&str>, max: usize) -> Option<String> {
    let text = text?.trim();
    if text.is_empty() || text.chars().count() > max {
        errors.add(field, format!("must be 1-{max} characters"));
        return None;
    }
    Some(text.to_owned())
}

/// Creates a pending agent and the code, bundle, URI and URL that pair it.
#[utoipa::path(post, path = "/api/v1/agents/pairings", tag = "agents", security(("bearer" = [])),
    request_body = PairingRequest,
    responses((status = 201, body = Success<Pairing>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn create_pairing(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    ServerUrl(server_url): ServerUrl,
    body: Option<Json<Value>>,
) -> ApiResult<Created<Pairing>> {
    let request: PairingRequest = match body {
        Some(Json(body)) => typed_body(&body, ErrorCode::AgentsPairingInvalidBody)?,
        None => PairingRequest::default(),
    };
    let mut errors = FieldErrors::default();
    let name = bounded(&mut errors, "name", request.name.as_deref(), 200).unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let minutes = request.expires_in_minutes.unwrap_or(15);
    if !(5..=1440).contains(&minutes) {
        errors.add("expires_in_minutes", "must be 5-1440");
    }
    errors.into_result(ErrorCode::AgentsPairingInvalidBody)?;
    let owner = match request.owner_user_id.map(|o| o.trim().to_owned()) {
        Some(owner) if owner != me.user_id => {
            if !access::may_act_for(&me, Action::PairAgent, &owner) {
                return Err(access::refusal(Action::PairAgent));
            }
            owner
        }
        _ => me.user_id.clone(),
    };
    let code = pairing::new_code();
    let expires_at = now_ms() + minutes * 60_000;
    let tenant = me.tenant_id.clone();
    let stored_code = code.clone();
    let (agent, settings) = state
        .db
        .write(move |tx| {
            if users::user_by_id(tx, &tenant, &owner)?.is_none() {
                return Err(
                    ApiError::new(ErrorCode::BadRequest).with_message("owner_user_id is not a user of this tenant")
                );
            }
            let agent = store::insert_pending(tx, &tenant, &owner, &name, &stored_code, expires_at)?;
            Ok((agent, crate::settings::store::load(tx, &tenant)?))
        })
        .await?;
    let proxmox = pairing::proxmox_defaults(&settings);
    let bundle = pairing::bundle(&code, Some(&server_url), proxmox.as_ref());
    Ok(created(Pairing {
        pairing_uri: pairing::uri(&bundle),
        pairing_url: pairing::url(&server_url, &bundle),
        pairing_bundle: bundle,
        server_url,
        proxmox_defaults: proxmox,
        pairing_code: code,
        pairing_expires_at: iso_ms(expires_at),
        id: agent.id,
        tenant_id: agent.tenant_id,
        owner_user_id: agent.owner_user_id,
        name: agent.name,
        status: agent.status,
        created_at: iso_ms(agent.created_at),
    }))
}

/// Redeems a pending agent: checks the code in the same transaction that activates it, so a
/// code pairs exactly one agent.
async fn redeem(
    state: &AppState,
    code: String,
    machine: MachineInfo,
    name: Option<String>,
    paired_by: Option<String>,
) -> ApiResult<Registered> {
    let mut errors = FieldErrors::default();
    let machine_name = bounded(&mut errors, "machine_name", machine.machine_name.as_deref(), 200);
    let name = bounded(&mut errors, "name", name.as_deref(), 200);
    for (field, value) in [("version", &machine.version), ("platform", &machine.platform)] {
        if value.as_deref().is_some_and(|v| v.chars().count() > 100) {
            errors.add(field, "must be at most 100 characters");
        }
    }
    if machine.capabilities.len() > 50
        || machine
            .capabilities
            .iter()
            .any(|c| c.trim().is_empty() || c.chars().count() > 200)
    {
        errors.add("capabilities", "must be at most 50 names of 1-200 characters");
    }
    errors.into_result(ErrorCode::AgentsRegisterInvalidBody)?;
    let issued = token::issue(token::AGENT_PREFIX);
    let token_expires_at = now_ms() + TOKEN_TTL_MS;
    let hash = issued.hash;
    let agent = state
        .db
        .write(move |tx| {
            let agent = store::by_pending_code(tx, code.trim())?.ok_or(ErrorCode::PairingNotFound)?;
            if agent.pairing_expires_at.is_some_and(|t| t < now_ms()) {
                return Err(ApiError::new(ErrorCode::PairingExpired));
            }
            let name = name
                .or_else(|| (agent.name == DEFAULT_NAME).then(|| machine_name.clone()).flatten())
                .unwrap_or_else(|| agent.name.clone());
            let metadata = json!({ "machine_name": machine_name });
            let reg = Registration {
                token_hash: &hash,
                token_expires_at,
                paired_by: paired_by.as_deref(),
                name: &name,
                version: machine.version.as_deref(),
                platform: machine.platform.as_deref(),
                capabilities: &machine.capabilities,
                metadata: &metadata,
            };
            store::activate(tx, &agent, &reg).map_err(ApiError::from)
        })
        .await?;
    tracing::info!(agent_id = %agent.id, tenant_id = %agent.tenant_id, "agent paired");
    Ok(Registered {
        agent: agent_info(agent, false),
        agent_token: issued.plaintext,
        agent_token_expires_at: iso_ms(token_expires_at),
    })
}

/// Public: an agent redeems a pairing code for its token.
#[utoipa::path(post, path = "/api/v1/agents/register", tag = "agents", request_body = RegisterRequest,
    responses((status = 201, body = Success<Registered>), (status = 400, body = Failure), (status = 404, body = Failure),
        (status = 410, body = Failure)))]
async fn register(State(state): State<AppState>, Json(body): Json<Value>) -> ApiResult<Created<Registered>> {
    let request: RegisterRequest = typed_body(&body, ErrorCode::AgentsRegisterInvalidBody)?;
    if request.pairing_code.trim().is_empty() || request.pairing_code.len() > 200 {
        return Err(
            ApiError::new(ErrorCode::AgentsRegisterInvalidBody).with_message("pairing_code must be 1-200 characters")
        );
    }
    Ok(created(
        redeem(&state, request.pairing_code, request.machine, None, None).await?,
    ))
}

/// Public: pairs with a user's e-mail and password instead of a code (limited like sign-in).
#[utoipa::path(post, path = "/api/v1/agents/quick-pair", tag = "agents", request_body = QuickPairRequest,
    responses((status = 201, body = Success<Registered>), (status = 400, body = Failure), (status = 401, body = Failure),
        (status = 409, description = "`TENANT_REQUIRED`: the password opens accounts in several tenants; name one in `tenant`", body = Failure),
        (status = 429, body = Failure)))]
async fn quick_pair(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<Value>,
) -> ApiResult<Created<Registered>> {
    let request: QuickPairRequest = typed_body(&body, ErrorCode::AgentsQuickPairInvalidBody)?;
    let email = Email::parse(&request.login).map_err(|m| {
        let mut errors = FieldErrors::default();
        errors.add("login", m);
        ApiError::validation(ErrorCode::AgentsQuickPairInvalidBody, errors)
    })?;
    let tenant = signin::requested_tenant(request.tenant.as_deref(), ErrorCode::AgentsQuickPairInvalidBody)?;
    let user = match signin::authenticate(&state, ip, email.as_str(), request.password, tenant).await? {
        SignIn::Verified(user) => user,
        SignIn::TenantRequired => return Err(ErrorCode::TenantRequired.into()),
        SignIn::WrongCredentials => {
            return Err(ApiError::new(ErrorCode::InvalidCredentials).with_message("Invalid Bot-Mox login or password"));
        }
    };
    // A hidden 15-minute pairing owned by the user, redeemed at once.
    let code = pairing::new_code();
    let (tenant, owner, pending_code) = (user.tenant_id.clone(), user.id.clone(), code.clone());
    state
        .db
        .write(move |tx| {
            store::insert_pending(tx, &tenant, &owner, DEFAULT_NAME, &pending_code, now_ms() + 15 * 60_000)
                .map_err(ApiError::from)
        })
        .await?;
    Ok(created(
        redeem(&state, code, request.machine, request.name, Some(user.id)).await?,
    ))
}

/// An agent reports it is alive (for itself only); a user may report for an agent of theirs.
#[utoipa::path(post, path = "/api/v1/agents/heartbeat", tag = "agents", security(("bearer" = [])),
    request_body = HeartbeatRequest,
    responses((status = 200, body = Success<HeartbeatAck>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn heartbeat(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<Ok<HeartbeatAck>> {
    let request: HeartbeatRequest = typed_body(&body, ErrorCode::AgentsHeartbeatInvalidBody)?;
    let (tenant, owner) = match &caller {
        Caller::Agent(agent) => {
            if agent.agent_id != request.agent_id {
                return Err(
                    ApiError::new(ErrorCode::Forbidden).with_message("Agent token can only heartbeat for itself")
                );
            }
            (agent.tenant_id.clone(), None)
        }
        Caller::User(me) => (me.tenant_id.clone(), access::own_only(me, Action::SeeAgents)),
    };
    let metadata = Value::Object(request.metadata.unwrap_or_default());
    let agent = beat(&state, tenant, request.agent_id, owner, metadata).await?;
    Ok(ok(HeartbeatAck {
        id: agent.id,
        status: agent.status,
        last_seen_at: agent.last_seen_at.map(iso_ms).unwrap_or_default(),
    }))
}

/// The tenant's agents (only your own unless admin/infra), newest first.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "pending, active, offline or revoked")),
    responses((status = 200, body = Success<Vec<AgentInfo>>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn list_agents(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<Vec<AgentInfo>>> {
    let status = params.get("status").cloned();
    if status
        .as_deref()
        .is_some_and(|s| !["pending", "active", "offline", "revoked"].contains(&s))
    {
        return Err(ErrorCode::AgentsListInvalidQuery.into());
    }
    let owner = access::own_only(&me, Action::SeeAgents);
    let agents = state
        .db
        .read(move |conn| store::list(conn, &me.tenant_id, owner.as_deref(), status.as_deref()).map_err(ApiError::from))
        .await?;
    Ok(ok(agents.into_iter().map(|a| agent_info(a, false)).collect()))
}

/// One agent; another user's agent answers 404 unless the caller is admin/infra.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Success<AgentInfo>), (status = 404, body = Failure)))]
async fn get_agent(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<AgentInfo>> {
    let owner = access::own_only(&me, Action::SeeAgents);
    let agent = state
        .db
        .read(move |conn| store::by_id(conn, &me.tenant_id, &id).map_err(ApiError::from))
        .await?
        .filter(|a| owner.is_none() || a.owner_user_id == owner)
        .ok_or(ErrorCode::AgentNotFound)?;
    Ok(ok(agent_info(agent, true)))
}

/// Revokes an agent: its token is refused from now on (admin/infra).
#[utoipa::path(post, path = "/api/v1/agents/{id}/revoke", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RevokeRequest,
    responses((status = 200, body = Success<Revoked>), (status = 403, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure)))]
async fn revoke_agent(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> ApiResult<Ok<Revoked>> {
    let request: RevokeRequest = match body {
        Some(Json(body)) => typed_body(&body, ErrorCode::AgentsRevokeInvalidBody)?,
        None => RevokeRequest::default(),
    };
    let reason = request.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if reason.as_deref().is_some_and(|r| r.chars().count() > 500) {
        return Err(
            ApiError::new(ErrorCode::AgentsRevokeInvalidBody).with_message("reason must be at most 500 characters")
        );
    }
    let by = me.user_id.clone();
    let agent = state
        .db
        .write(move |tx| {
            let agent = store::by_id(tx, &me.tenant_id, &id)?.ok_or(ErrorCode::AgentNotFound)?;
            if agent.status == "revoked" {
                return Err(ApiError::new(ErrorCode::AlreadyRevoked));
            }
            store::revoke(tx, &me.tenant_id, &id, &by, reason.as_deref())?;
            crate::vmops::store::cancel_all_of_agent(tx, &me.tenant_id, &id)?;
            store::by_id(tx, &me.tenant_id, &id)?.ok_or_else(|| ErrorCode::AgentNotFound.into())
        })
        .await?;
    tracing::info!(agent_id = %agent.id, "agent revoked");
    // Its socket and parked polls, on any replica, claim again and are refused.
    state.waiters.wake(&agent.tenant_id, &agent.id);
    state.waiters.published();
    Ok(ok(Revoked {
        id: agent.id,
        status: agent.status,
        revoked_at: agent.revoked_at.map(iso_ms).unwrap_or_default(),
        revoked_by: agent.revoked_by.unwrap_or_default(),
        revoke_reason: agent.revoke_reason,
    }))
}
