//! What other modules call of the agents domain: the heartbeat (HTTP and WebSocket) and the
//! server URL that pairings and provisioning hand to agents.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::Value;

use super::store::{self, AgentRow, ONLINE_WITHIN_MS};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::serve::LocalAddr;
use crate::state::AppState;

/// The server URL pairings point agents at (and provisioning's `api_endpoint`): the configured
/// public URL, else this request's host.
pub(crate) struct ServerUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ServerUrl
where
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = <AppState as axum::extract::FromRef<S>>::from_ref(state);
        if let Some(url) = &state.config.public_url {
            return Ok(ServerUrl(url.clone()));
        }
        // Never the `Host` header: a client could make the server hand out links to any host.
        let local = parts.extensions.get::<LocalAddr>().map(|a| a.0);
        let local = local.ok_or_else(|| ApiError::internal("no local address on the request"))?;
        Ok(ServerUrl(format!("http://{local}")))
    }
}

/// Records a heartbeat of an active agent (of `owner`'s, when given); HTTP and WebSocket.
pub async fn beat(
    state: &AppState,
    tenant: String,
    id: String,
    owner: Option<String>,
    metadata: Value,
) -> ApiResult<AgentRow> {
    let agent = state
        .db
        .write(move |tx| {
            let agent = store::by_id(tx, &tenant, &id)?
                .filter(|a| owner.is_none() || a.owner_user_id == owner)
                .ok_or(ErrorCode::AgentNotFound)?;
            match agent.status.as_str() {
                "revoked" => return Err(ApiError::new(ErrorCode::AgentRevoked)),
                "active" => {}
                _ => return Err(ApiError::new(ErrorCode::AgentNotActive)),
            }
            // Notifications: a beat after silence announces the agent back online.
            let now = now_ms();
            if agent.last_seen_at.is_none_or(|t| now - t >= ONLINE_WITHIN_MS) {
                let notice = crate::notifications::rules::agent_presence(&agent.id, &agent.name, true);
                crate::notifications::store::enqueue(tx, &tenant, &[notice], now)?;
            }
            store::heartbeat(tx, &tenant, &id, &metadata)?;
            store::by_id(tx, &tenant, &id)?.ok_or_else(|| ErrorCode::AgentNotFound.into())
        })
        .await;
    state.notifications.wake();
    agent
}
