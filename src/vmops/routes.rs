//! `/api/v1/vm-ops/*`: dispatch, list, get, claim (long-poll), agent updates, cancel.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use botmox_contract::envelope::{Failure, Success};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::lifecycle::{self, Actor, Status};
use super::store::{self, Command, NewCommand, Update};
use crate::agents::principal::{AgentPrincipal, Caller};
use crate::agents::store as agents;
use crate::auth::{Authed, Principal};
use crate::clock::now_ms;
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

/// Payload keys that raise privileges, honoured for admin/infra callers only.
const PRIVILEGED_KEYS: [&str; 1] = ["allowUnsafe"];
/// Commands as strong as an unsafe SSH command, for admin/infra callers only: a VM's config
/// file can start anything on the Proxmox host (hookscripts, raw QEMU arguments).
const PRIVILEGED_COMMANDS: [&str; 1] = ["proxmox.ssh-write-config"];
/// The config updates that can do the same through the Proxmox API, and the keys that do it.
const CONFIG_UPDATES: [&str; 2] = ["proxmox.update-config", "proxmox.config.update"];
const PRIVILEGED_CONFIG_KEYS: [&str; 2] = ["args", "hookscript"];

/// Would this command run code of the caller's choosing on the Proxmox host? (The agent
/// merges `config{}` and top-level keys into one config update.)
fn needs_privilege(command_type: &str, payload: &Map<String, Value>) -> bool {
    if PRIVILEGED_COMMANDS.contains(&command_type) {
        return true;
    }
    let nested = payload.get("config").and_then(Value::as_object);
    CONFIG_UPDATES.contains(&command_type)
        && PRIVILEGED_CONFIG_KEYS
            .iter()
            .any(|k| payload.contains_key(*k) || nested.is_some_and(|c| c.contains_key(*k)))
}
/// Credentials never travel in commands (the server would store them): agents keep SSH
/// credentials per target, and secrets are referenced by `secret_ref`.
const CREDENTIAL_KEYS: [&str; 2] = ["sshPassword", "sshPrivateKey"];

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

#[derive(Deserialize, ToSchema)]
pub struct CommandUpdate {
    /// `running`, `succeeded`, `failed`, `expired` or `cancelled`.
    pub status: String,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Option<Value>>,
    pub error_message: Option<String>,
    /// 0-100.
    pub progress: Option<i64>,
    pub message: Option<String>,
}

/// Tells a field sent as `null` (clear it) from one not sent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Value>>, D::Error> {
    Ok(Some(Option::<Value>::deserialize(d)?))
}

pub struct Dispatch {
    pub agent_id: String,
    pub command_type: String,
    pub payload: Map<String, Value>,
    pub expires_in_ms: i64,
    pub idempotency_key: Option<String>,
}

/// Queues a command for an online agent the caller may use; fail-fast when it is offline.
async fn dispatch(state: &AppState, me: Principal, d: Dispatch) -> ApiResult<Accepted> {
    Ok((StatusCode::ACCEPTED, ok(queue(state, me, d).await?)))
}

/// The queueing behind every dispatch route (and the infra relay).
pub async fn queue(state: &AppState, me: Principal, mut d: Dispatch) -> ApiResult<Command> {
    if let Some(key) = CREDENTIAL_KEYS.iter().find(|k| d.payload.contains_key(**k)) {
        return Err(ApiError::new(ErrorCode::VmOpsInvalidDispatchBody).with_message(format!(
            "{key} cannot be sent in a command: store SSH credentials on the agent's target \
             (botmox-agent target add --ssh-password/--ssh-key-file) or reference a secret"
        )));
    }
    if !me.is_privileged() && needs_privilege(&d.command_type, &d.payload) {
        return Err(ErrorCode::VmOpsPrivilegedCommand.into());
    }
    if !me.is_privileged() {
        for key in PRIVILEGED_KEYS {
            d.payload.remove(key);
        }
    }
    let key = d.idempotency_key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
    let waiters = state.waiters.clone();
    let (command, fresh) = state
        .db
        .write(move |tx| {
            let agent = agents::by_id(tx, &me.tenant_id, &d.agent_id)?.ok_or(ErrorCode::AgentNotFound)?;
            if !me.is_privileged() {
                match agent.owner_user_id.as_deref() {
                    None => return Err(ApiError::new(ErrorCode::AgentOwnerUnassigned)),
                    Some(owner) if owner != me.user_id => return Err(ApiError::new(ErrorCode::AgentOwnerMismatch)),
                    Some(_) => {}
                }
            }
            if let Some(key) = &key {
                if let Some(existing) = store::by_idempotency_key(tx, &me.tenant_id, &agent.id, key)? {
                    return Ok((existing, false));
                }
            }
            if !agent.is_online(now_ms()) {
                return Err(ApiError::new(ErrorCode::AgentOffline));
            }
            let payload = Value::Object(d.payload);
            let new = NewCommand {
                tenant: &me.tenant_id,
                agent_id: &agent.id,
                command_type: &d.command_type,
                payload: &payload,
                created_by: &me.user_id,
                expires_at: now_ms() + d.expires_in_ms,
                idempotency_key: key.as_deref(),
            };
            let creator = (!me.is_privileged()).then_some(me.user_id.as_str());
            if let Some(twin) = store::read_only_twin(tx, &new, creator, now_ms())? {
                return Ok((twin, false));
            }
            Ok((store::insert(tx, &new)?, true))
        })
        .await?;
    if fresh {
        waiters.wake(&command.tenant_id, &command.agent_id);
        waiters.published();
    }
    Ok(command)
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
    let request: NamespacedDispatch = typed_body(body, ErrorCode::VmOpsInvalidDispatchBody)?;
    let d = Dispatch {
        agent_id: request.agent_id.trim().to_owned(),
        command_type: format!("{namespace}.{action}"),
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
    let d = Dispatch {
        agent_id: request.agent_id.trim().to_owned(),
        command_type: kind.to_owned(),
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
        Caller::User(me) => (me.tenant_id.clone(), (!me.is_privileged()).then(|| me.user_id.clone())),
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

/// Claims the agent's next command, waiting for a dispatch until `timeout` (or shutdown).
pub async fn claim_within(state: &AppState, agent: &AgentPrincipal, timeout: Duration) -> ApiResult<Option<Command>> {
    let deadline = tokio::time::Instant::now() + timeout;
    let notify = state.waiters.of(&agent.tenant_id, &agent.agent_id);
    loop {
        // Registered before the claim, so a dispatch between the two is not missed.
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let (tenant, id) = (agent.tenant_id.clone(), agent.agent_id.clone());
        if let Some(command) = state
            .db
            .write(move |tx| store::claim(tx, &tenant, &id).map_err(ApiError::from))
            .await?
        {
            return Ok(Some(command));
        }
        let mut shutdown = state.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return Ok(None),
            _ = shutdown.wait_for(|stopping| *stopping) => return Ok(None),
            _ = woken => {}
        }
    }
}

/// An outcome or progress report on a command, within the transition table; from the HTTP
/// route and the agent WebSocket alike.
pub async fn apply_update(state: &AppState, caller: Caller, id: String, request: CommandUpdate) -> ApiResult<Command> {
    let to = Status::parse(&request.status)
        .filter(|s| !matches!(s, Status::Queued | Status::Dispatched))
        .ok_or_else(|| {
            ApiError::new(ErrorCode::VmOpsInvalidUpdateBody)
                .with_message("status must be running, succeeded, failed, expired or cancelled")
        })?;
    if request.progress.is_some_and(|p| !(0..=100).contains(&p))
        || request
            .error_message
            .as_deref()
            .is_some_and(|m| m.chars().count() > 2000)
        || request.message.as_deref().is_some_and(|m| m.chars().count() > 1000)
    {
        return Err(ApiError::new(ErrorCode::VmOpsInvalidUpdateBody)
            .with_message("progress is 0-100, error_message at most 2000 and message at most 1000 characters"));
    }
    let tenant = tenant_of(&caller);
    let command = state
        .db
        .write(move |tx| {
            let command = store::get(tx, &tenant, &id)?.ok_or(ErrorCode::VmOpsCommandNotFound)?;
            visible(&caller, &command)?;
            lifecycle::check(command.status(), to, Actor::Agent)?;
            let update = Update {
                result: request.result,
                error_message: request.error_message,
                progress: request.progress,
                progress_message: request.message,
            };
            store::set_status(tx, &command, to, update).map_err(ApiError::from)
        })
        .await?;
    state.waiters.published();
    Ok(command)
}

/// Who may see a command: its agent, its creator, admin/infra.
fn visible(caller: &Caller, command: &Command) -> ApiResult<()> {
    match caller {
        Caller::Agent(a) if a.agent_id != command.agent_id => {
            Err(ApiError::new(ErrorCode::Forbidden).with_message("Command belongs to another agent"))
        }
        Caller::User(me) if !me.is_privileged() && command.created_by.as_deref() != Some(&me.user_id) => {
            Err(ErrorCode::VmOpsCommandNotFound.into())
        }
        _ => Result::Ok(()),
    }
}

fn tenant_of(caller: &Caller) -> String {
    match caller {
        Caller::Agent(a) => a.tenant_id.clone(),
        Caller::User(me) => me.tenant_id.clone(),
    }
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
        if !me.is_privileged() {
            return Err(ApiError::new(ErrorCode::Forbidden)
                .with_message("Only the command's agent or admin/infra can update it"));
        }
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

/// A user cancels a command that no agent has started.
pub async fn cancel(state: &AppState, me: Principal, id: String) -> ApiResult<Command> {
    let command = state
        .db
        .write(move |tx| {
            let command = store::get(tx, &me.tenant_id, &id)?.ok_or(ErrorCode::VmOpsCommandNotFound)?;
            visible(&Caller::User(me), &command)?;
            lifecycle::check(command.status(), Status::Cancelled, Actor::User)?;
            let update = Update {
                error_message: Some("Cancelled by the user".into()),
                ..Update::default()
            };
            store::set_status(tx, &command, Status::Cancelled, update).map_err(ApiError::from)
        })
        .await?;
    state.waiters.published();
    Ok(command)
}

/// Waits until the command is terminal or `timeout` passes; the command as it then is.
pub async fn settled_within(state: &AppState, tenant: &str, id: &str, timeout: Duration) -> ApiResult<Command> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // Registered before the read, so an update committed in between still wakes us.
        let published = state.waiters.events.notified();
        let (tenant, key) = (tenant.to_owned(), id.to_owned());
        let command = state
            .db
            .read(move |conn| store::get(conn, &tenant, &key).map_err(ApiError::from))
            .await?
            .ok_or(ErrorCode::VmOpsCommandNotFound)?;
        if command.status().is_terminal() || tokio::time::Instant::now() >= deadline {
            return Ok(command);
        }
        let _ = tokio::time::timeout_at(deadline, published).await;
    }
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
        Caller::User(me) => (!me.is_privileged()).then(|| me.user_id.clone()),
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
