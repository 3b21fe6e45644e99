//! What other modules (the infra relay, provisioning, the agent WebSocket) call to queue,
//! claim, update, cancel and wait for commands; the HTTP routes call the same functions.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::rules::{self, Actor, Status};
use super::store::{self, Command, NewCommand, Update};
use crate::agents::principal::{AgentPrincipal, Caller};
use crate::agents::store as agents;
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
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
        Caller::User(me) if !me.is_privileged() && command.created_by.as_deref() != Some(&me.user_id) => {
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
