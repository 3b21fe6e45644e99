//! What other modules (the infra relay, provisioning, the agent WebSocket) call to queue,
//! claim, update, cancel and wait for commands; the HTTP routes call the same functions.

use std::time::Duration;

use botmox_contract::commands::{Class, Command as AgentCommand, Payload};
use botmox_contract::params::ParamError;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::rules::{self, Actor, Status};
use super::store::{self, Command, NewCommand, Update};
use crate::access::{self, Action};
use crate::agents::principal::{AgentPrincipal, Caller};
use crate::agents::store as agents;
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::state::AppState;

/// Credentials never travel in commands (the server would store them): agents keep SSH
/// credentials per target, and secrets are referenced by `secret_ref`.
const CREDENTIAL_KEYS: [&str; 2] = ["sshPassword", "sshPrivateKey"];

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
    pub command: AgentCommand,
    pub payload: Map<String, Value>,
    pub expires_in_ms: i64,
    pub idempotency_key: Option<String>,
}

/// A payload the command cannot run with: 400 naming the parameter, before anything is queued.
fn invalid_params(command: AgentCommand, err: ParamError) -> ApiError {
    let mut fields = FieldErrors::default();
    fields.add(err.field.as_str(), err.reason());
    ApiError::validation(ErrorCode::ValidationFailed, fields)
        .with_message(format!("Bad parameter for {command}: {err}"))
}

/// The queueing behind every dispatch route (and the infra relay).
pub async fn queue(state: &AppState, me: Principal, d: Dispatch) -> ApiResult<Command> {
    if let Some(key) = CREDENTIAL_KEYS.iter().find(|k| d.payload.contains_key(**k)) {
        return Err(ApiError::new(ErrorCode::VmOpsInvalidDispatchBody).with_message(format!(
            "{key} cannot be sent in a command: store SSH credentials on the agent's target \
             (botmox-agent target add --ssh-password/--ssh-key-file) or reference a secret"
        )));
    }
    let mut payload = Payload::parse(d.command, &Value::Object(d.payload)).map_err(|e| invalid_params(d.command, e))?;
    if !access::allows(&me, Action::PrivilegedCommand) {
        match payload.class() {
            Class::Privileged => return Err(ErrorCode::VmOpsPrivilegedCommand.into()),
            Class::Unsafe => payload.common.allow_unsafe = None,
            Class::ReadOnly | Class::Change => {}
        }
    }
    let key = d.idempotency_key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
    let waiters = state.waiters.clone();
    let (command, fresh) = state
        .db
        .write(move |tx| {
            let agent = agents::by_id(tx, &me.tenant_id, &d.agent_id)?.ok_or(ErrorCode::AgentNotFound)?;
            if !access::allows(&me, Action::QueueCommand) {
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
            // The typed payload writes back to the JSON it was read from (less a dropped flag).
            let payload = payload.to_value();
            let new = NewCommand {
                tenant: &me.tenant_id,
                agent_id: &agent.id,
                command_type: d.command.name(),
                payload: &payload,
                created_by: &me.user_id,
                expires_at: now_ms() + d.expires_in_ms,
                idempotency_key: key.as_deref(),
            };
            let creator = access::own_only(&me, Action::QueueCommand);
            if let Some(twin) = store::read_only_twin(tx, &new, creator.as_deref(), now_ms())? {
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

/// Claims the agent's oldest queued command now, if it has one (marked dispatched).
/// `AGENT_REVOKED` once the agent is revoked: revoking wakes its claims, wherever they wait,
/// and they end with it.
pub async fn claim(state: &AppState, agent: &AgentPrincipal) -> ApiResult<Option<Command>> {
    let (tenant, id) = (agent.tenant_id.clone(), agent.agent_id.clone());
    state
        .db
        .write(move |tx| {
            if agents::is_revoked(tx, &tenant, &id)? {
                return Err(ApiError::new(ErrorCode::AgentRevoked));
            }
            store::claim(tx, &tenant, &id).map_err(ApiError::from)
        })
        .await
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
        if let Some(command) = claim(state, agent).await? {
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
            rules::check(command.status(), to, Actor::Agent)?;
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
pub(super) fn visible(caller: &Caller, command: &Command) -> ApiResult<()> {
    match caller {
        Caller::Agent(a) if a.agent_id != command.agent_id => {
            Err(ApiError::new(ErrorCode::Forbidden).with_message("Command belongs to another agent"))
        }
        Caller::User(me)
            if !access::may_act_for(
                me,
                Action::QueueCommand,
                command.created_by.as_deref().unwrap_or_default(),
            ) =>
        {
            Err(ErrorCode::VmOpsCommandNotFound.into())
        }
        _ => Result::Ok(()),
    }
}

pub(super) fn tenant_of(caller: &Caller) -> String {
    match caller {
        Caller::Agent(a) => a.tenant_id.clone(),
        Caller::User(me) => me.tenant_id.clone(),
    }
}

/// A user cancels a command that no agent has started.
pub async fn cancel(state: &AppState, me: Principal, id: String) -> ApiResult<Command> {
    let command = state
        .db
        .write(move |tx| {
            let command = store::get(tx, &me.tenant_id, &id)?.ok_or(ErrorCode::VmOpsCommandNotFound)?;
            visible(&Caller::User(me), &command)?;
            rules::check(command.status(), Status::Cancelled, Actor::User)?;
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
