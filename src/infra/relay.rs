//! Runs one infra operation on an agent: picks the agent, queues the command, waits for its
//! outcome and turns a failure into the right HTTP error.

use std::time::Duration;

use botmox_contract::commands::Payload;
use botmox_contract::params::Text;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::agents::store as agents;
use crate::audit::store::{self as audit, Action};
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::vmops::rules::Status;
use crate::vmops::service::{cancel, queue, settled_within, Dispatch};

/// Which agent (and which of its Proxmox targets) runs the operation.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct Via {
    /// Default: the one online agent of the caller (or, failing that, of the tenant).
    pub agent_id: Option<String>,
    /// The agent-side target id; default the agent's active target.
    pub target: Option<String>,
}

/// How long an operation may take beyond its own timeout before the caller is answered.
const GRACE: Duration = Duration::from_secs(30);

pub async fn run(
    state: &AppState,
    me: &Principal,
    via: &Via,
    mut payload: Payload,
    own_timeout: Duration,
) -> ApiResult<Value> {
    let agent_id = choose_agent(state, me, via).await?;
    if let Some(target) = via.target.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        payload.common.target = Some(Text::from(target));
    }
    let wait = own_timeout + GRACE;
    let dispatch = Dispatch {
        agent_id,
        command: payload.command(),
        payload: payload.to_object(),
        expires_in_ms: wait.as_millis() as i64,
        idempotency_key: None,
    };
    let queued = queue(state, me.clone(), dispatch).await?;
    let done = settled_within(state, &me.tenant_id, &queued.id, wait).await?;
    match done.status() {
        Status::Succeeded => Ok(done.result.unwrap_or(Value::Null)),
        Status::Failed => Err(failure(
            done.error_message.as_deref().unwrap_or("The agent reported a failure"),
        )),
        Status::Queued | Status::Dispatched => {
            // Nobody started it: take it back rather than run it after the caller gave up.
            let _ = cancel(state, me.clone(), done.id.clone()).await;
            Err(ApiError::new(ErrorCode::InfraTimeout).with_message(format!(
                "The agent did not pick up the operation within {} s (command {}, now cancelled): is it connected?",
                wait.as_secs(),
                done.id
            )))
        }
        other => Err(ApiError::new(ErrorCode::InfraTimeout).with_message(format!(
            "The operation did not finish within {} s; command {} is {}",
            wait.as_secs(),
            done.id,
            other.as_str()
        ))),
    }
}

/// A failed command's `CODE: message` as an HTTP error.
fn failure(text: &str) -> ApiError {
    let code = text
        .split_once(':')
        .map(|(c, _)| c)
        .filter(|c| c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'));
    let status = match code {
        Some("SSH_COMMAND_FORBIDDEN") => ErrorCode::SshCommandForbidden,
        Some("BAD_REQUEST") => ErrorCode::InfraInvalidRequest,
        _ => ErrorCode::InfraUpstreamFailed,
    };
    ApiError::new(status).with_message(text.to_owned())
}

async fn choose_agent(state: &AppState, me: &Principal, via: &Via) -> ApiResult<String> {
    if let Some(id) = via.agent_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        return Ok(id.to_owned());
    }
    let (tenant, user) = (me.tenant_id.clone(), me.user_id.clone());
    let online = state
        .db
        .read(move |conn| {
            let now = now_ms();
            let all: Vec<_> = agents::list(conn, &tenant, None, Some("active"))?
                .into_iter()
                .filter(|a| a.is_online(now))
                .collect();
            let mine: Vec<_> = all
                .iter()
                .filter(|a| a.owner_user_id.as_deref() == Some(&user))
                .cloned()
                .collect();
            Ok::<_, ApiError>(if mine.is_empty() { all } else { mine })
        })
        .await?;
    match online.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(ApiError::new(ErrorCode::AgentOffline)
            .with_message("No agent is online to run this: start one (botmox-agent run) or pair a new one")),
        _ => Err(ApiError::new(ErrorCode::InfraInvalidRequest)
            .with_message("Several agents are online: choose one with ?agent_id=")),
    }
}

/// Records a changing infra call in the audit trail.
pub async fn audit(state: &AppState, me: &Principal, action: Action, what: String) -> ApiResult<()> {
    let me = me.clone();
    state
        .db
        .write(move |tx| audit::record(tx, &me, action, "infra", &what, &[]).map_err(ApiError::from))
        .await
}
