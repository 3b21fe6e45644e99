//! `/api/v1/vm-ops/*`: dispatch, list, get, claim (long-poll), agent updates, cancel.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use botmox_contract::commands::Command as AgentCommand;
use botmox_contract::envelope::{Failure, Success};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{apply_update, cancel, claim_within, queue, tenant_of, visible, CommandUpdate, Dispatch};
use super::store::{self, Command};
use crate::access::{self, Action};
use crate::agents::principal::Caller;
use crate::auth::{Authed, Principal};
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dispatch_proxmox))
        .routes(routes!(dispatch_syncthing))
        .routes(routes!(dispatch_raw, list_commands))
        .routes(routes!(next_command))
        .routes(routes!(get_command, update_command))
        .routes(routes!(cancel_command))
        .routes(routes!(events))
}

type Accepted = (StatusCode, Ok<Command>);

#[derive(Deserialize, ToSchema)]
pub struct NamespacedDispatch {
    pub agent_id: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// The same key for the same agent returns the first command instead of queueing another.
    pub idempotency_key: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RawDispatch {
    pub agent_id: String,
    pub command_type: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
    /// 10-3600, default 300.
    pub expires_in_seconds: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// Queues a command for an online agent the caller may use; fail-fast when it is offline.
async fn dispatch(state: &AppState, me: Principal, d: Dispatch) -> ApiResult<Accepted> {
    Ok((StatusCode::ACCEPTED, ok(queue(state, me, d).await?)))
}

async fn namespaced(
    state: &AppState,
    me: Principal,
    namespace: &str,
    action: &str,
    body: &Value,
) -> ApiResult<Accepted> {
    let action = action.trim();
    if action.is_empty() || action.len() > 190 {
        return Err(ErrorCode::VmOpsInvalidAction.into());
    }
    let command = AgentCommand::parse(&format!("{namespace}.{action}"))
        .map_err(|e| ApiError::new(ErrorCode::VmOpsInvalidAction).with_message(e.to_string()))?;
    let request: NamespacedDispatch = typed_body(body, ErrorCode::VmOpsInvalidDispatchBody)?;
    let d = Dispatch {
        agent_id: request.agent_id.trim().to_owned(),
        command,
        payload: request.params,
        expires_in_ms: 300_000,
        idempotency_key: request.idempotency_key,
    };
    dispatch(state, me, d).await
}

/// Queues `proxmox.<action>` for an agent of the caller's.
#[utoipa::path(post, path = "/api/v1/vm-ops/proxmox/{action}", tag = "vm-ops", security(("bearer" = [])),
    params(("action" = String, Path)), request_body = NamespacedDispatch,
    responses((status = 202, body = Success<Command>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn dispatch_proxmox(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(action): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Accepted> {
    namespaced(&state, me, "proxmox", &action, &body).await
}

/// Queues `syncthing.<action>` for an agent of the caller's.
#[utoipa::path(post, path = "/api/v1/vm-ops/syncthing/{action}", tag = "vm-ops", security(("bearer" = [])),
    params(("action" = String, Path)), request_body = NamespacedDispatch,
    responses((status = 202, body = Success<Command>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn dispatch_syncthing(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(action): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Accepted> {
    namespaced(&state, me, "syncthing", &action, &body).await
}

/// Queues any command type (admin/infra).
#[utoipa::path(post, path = "/api/v1/vm-ops/commands", tag = "vm-ops", security(("bearer" = [])), request_body = RawDispatch,
    responses((status = 202, body = Success<Command>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn dispatch_raw(
    State(state): State<AppState>,
    Authed(me, ..): Authed<crate::auth::Privileged>,
    Json(body): Json<Value>,
) -> ApiResult<Accepted> {
    let request: RawDispatch = typed_body(&body, ErrorCode::VmOpsInvalidCreateBody)?;
    let seconds = request.expires_in_seconds.unwrap_or(300);
    let kind = request.command_type.trim();
    if !(10..=3600).contains(&seconds) || kind.is_empty() || kind.len() > 200 {
        return Err(ApiError::new(ErrorCode::VmOpsInvalidCreateBody)
            .with_message("command_type must be 1-200 characters and expires_in_seconds 10-3600"));
    }
    let command = AgentCommand::parse(kind)
        .map_err(|e| ApiError::new(ErrorCode::VmOpsInvalidCreateBody).with_message(e.to_string()))?;
    let d = Dispatch {
        agent_id: request.agent_id.trim().to_owned(),
        command,
        payload: request.payload,
        expires_in_ms: seconds * 1000,
        idempotency_key: request.idempotency_key,
    };
    dispatch(&state, me, d).await
}

/// Up to 100 commands, newest first: an agent sees its own queue, a user the commands they
/// created, admin/infra everything of the tenant.
#[utoipa::path(get, path = "/api/v1/vm-ops/commands", tag = "vm-ops", security(("bearer" = [])),
    params(("agent_id" = Option<String>, Query), ("status" = Option<String>, Query)),
    responses((status = 200, body = Success<Vec<Command>>), (status = 403, body = Failure), (status = 409, body = Failure)))]
async fn list_commands(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<Vec<Command>>> {
    let param = |k: &str| params.get(k).map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty());
    let (mut agent, status) = (
        params
            .get("agent_id")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        param("status"),
    );
    let (tenant, created_by) = match &caller {
        Caller::Agent(a) => {
            if agent.as_deref().is_some_and(|id| id != a.agent_id) {
                return Err(ApiError::new(ErrorCode::Forbidden)
                    .with_message("Agent token can only access its own command queue"));
            }
            agent = Some(a.agent_id.clone());
            (a.tenant_id.clone(), None)
        }
        Caller::User(me) => (me.tenant_id.clone(), access::own_only(me, Action::QueueCommand)),
    };
    let commands = state
        .db
        .read(move |conn| {
            store::list(
                conn,
                &tenant,
                agent.as_deref(),
                status.as_deref(),
                created_by.as_deref(),
            )
            .map_err(ApiError::from)
        })
        .await?;
    Ok(ok(commands
        .into_iter()
        .map(|mut c| {
            c.result = None;
            c.error_message = None;
            c
        })
        .collect()))
}

/// Claims the agent's next command, waiting up to `timeout_ms` (1000-60000, default 25000);
/// `null` when none came.
#[utoipa::path(get, path = "/api/v1/vm-ops/commands/next", tag = "vm-ops", security(("bearer" = [])),
    params(("agent_id" = Option<String>, Query), ("timeout_ms" = Option<u64>, Query)),
    responses((status = 200, body = Success<Option<Command>>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 409, body = Failure)))]
async fn next_command(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<Option<Command>>> {
    let Caller::Agent(agent) = caller else {
        return Err(ApiError::new(ErrorCode::Forbidden).with_message("Only an agent can claim commands"));
    };
    if params.get("agent_id").is_some_and(|id| id.trim() != agent.agent_id) {
        return Err(
            ApiError::new(ErrorCode::Forbidden).with_message("Agent token can only access its own command queue")
        );
    }
    let timeout = match params.get("timeout_ms") {
        None => 25_000,
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|t| (1000..=60_000).contains(t))
            .ok_or_else(|| {
                ApiError::new(ErrorCode::VmOpsInvalidNextQuery).with_message("timeout_ms must be 1000-60000")
            })?,
    };
    Ok(ok(claim_within(&state, &agent, Duration::from_millis(timeout)).await?))
}

#[utoipa::path(get, path = "/api/v1/vm-ops/commands/{id}", tag = "vm-ops", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Success<Command>), (status = 403, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure)))]
async fn get_command(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Ok<Command>> {
    let tenant = tenant_of(&caller);
    let command = state
        .db
        .read(move |conn| store::get(conn, &tenant, &id).map_err(ApiError::from))
        .await?
        .ok_or(ErrorCode::VmOpsCommandNotFound)?;
    visible(&caller, &command)?;
    Ok(ok(command))
}

/// The command's agent (or admin/infra) reports progress and outcome, within the transition
/// table: a finished command answers 409 `COMMAND_ALREADY_TERMINAL`.
#[utoipa::path(patch, path = "/api/v1/vm-ops/commands/{id}", tag = "vm-ops", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CommandUpdate,
    responses((status = 200, body = Success<Command>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn update_command(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Command>> {
    if let Caller::User(me) = &caller {
        access::require(me, Action::UpdateCommand)?;
    }
    let request: CommandUpdate = typed_body(&body, ErrorCode::VmOpsInvalidUpdateBody)?;
    Ok(ok(apply_update(&state, caller, id, request).await?))
}

/// A user cancels a command that has not started running (its creator or admin/infra).
#[utoipa::path(post, path = "/api/v1/vm-ops/commands/{id}/cancel", tag = "vm-ops", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Command>), (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn cancel_command(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Command>> {
    Ok(ok(cancel(&state, me, id).await?))
}

/// How long a quiet stream waits before looking again even without a wake-up.
const EVENT_RECHECK: Duration = Duration::from_secs(5);

/// Server-sent events of command transitions the caller may see: `agent_id` and
/// `command_id` narrow them; `last_event_id` (or the `Last-Event-ID` header) resumes after an
/// event, across server restarts.
#[utoipa::path(get, path = "/api/v1/vm-ops/events", tag = "vm-ops", security(("bearer" = [])),
    params(("agent_id" = Option<String>, Query), ("command_id" = Option<String>, Query), ("last_event_id" = Option<i64>, Query)),
    responses((status = 200, description = "text/event-stream of `vm-command` events", content_type = "text/event-stream"),
        (status = 400, body = Failure), (status = 403, body = Failure), (status = 409, body = Failure)))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    let param = |k: &str| params.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (mut agent, command) = (param("agent_id"), param("command_id"));
    let created_by = match &caller {
        Caller::Agent(a) => {
            if agent.as_deref().is_some_and(|id| id != a.agent_id) {
                return Err(ApiError::new(ErrorCode::Forbidden)
                    .with_message("Agent token can only access its own command queue"));
            }
            agent = Some(a.agent_id.clone());
            None
        }
        Caller::User(me) => access::own_only(me, Action::QueueCommand),
    };
    let filter = store::EventFilter {
        tenant: tenant_of(&caller),
        agent,
        command,
        created_by,
    };
    let resume = param("last_event_id").or_else(|| {
        headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    });
    let cursor = match resume {
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::new(ErrorCode::VmOpsInvalidQueryParam).with_message("last_event_id must be a positive integer")
        })?,
        None => {
            let tenant = filter.tenant.clone();
            state
                .db
                .read(move |conn| store::last_event_id(conn, &tenant).map_err(ApiError::from))
                .await?
        }
    };
    let filter = std::sync::Arc::new(filter);
    let start = futures_util::stream::once(async { Ok(SseEvent::default().comment("connected")) });
    let live = futures_util::stream::unfold(
        (state, filter, cursor, std::collections::VecDeque::new()),
        |(state, filter, mut cursor, mut pending)| async move {
            let mut shutdown = state.shutdown.clone();
            loop {
                if *shutdown.borrow() {
                    // The server is stopping: end the stream so the connection can close.
                    return None;
                }
                if let Some(event) = pending.pop_front() {
                    return Some((Ok(event), (state, filter, cursor, pending)));
                }
                // Registered before the read, so an event committed in between still wakes us.
                let woken = state.waiters.events.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let (f, after) = (filter.clone(), cursor);
                let batch = state
                    .db
                    .read(move |conn| store::events_after(conn, &f, after).map_err(ApiError::from))
                    .await
                    .ok()?;
                for e in batch {
                    cursor = e.event_id;
                    let data = format!(
                        "{{\"event_id\":{},\"event_type\":\"{}\",\"tenant_id\":{},\"server_time\":\"{}\",\"command\":{}}}",
                        e.event_id,
                        e.event_type,
                        serde_json::to_string(&filter.tenant).expect("a string serialises"),
                        crate::clock::now_iso(),
                        e.command
                    );
                    pending.push_back(
                        SseEvent::default()
                            .id(e.event_id.to_string())
                            .event("vm-command")
                            .data(data),
                    );
                }
                if pending.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(EVENT_RECHECK) => {}
                        _ = shutdown.changed() => {}
                        _ = woken => {}
                    }
                }
            }
        },
    );
    Ok(Sse::new(start.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(25)).text("heartbeat")))
}
