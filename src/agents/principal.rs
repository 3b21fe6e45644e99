//! Agent callers: an agent token resolves to its agent, and [`Caller`] accepts a user or an
//! agent where a route serves both (heartbeat).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::store;
use crate::auth::principal::bearer_token;
use crate::auth::{token, Authed, Principal};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct AgentPrincipal {
    pub agent_id: String,
    pub tenant_id: String,
}

pub enum Caller {
    User(Principal),
    Agent(AgentPrincipal),
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Some(bearer) = bearer_token(parts).filter(|t| t.starts_with(token::AGENT_PREFIX)) else {
            let Authed(user, ..) = Authed::<crate::auth::AnyUser>::from_request_parts(parts, state).await?;
            return Ok(Caller::User(user));
        };
        let state = AppState::from_ref(state);
        let hash = token::hash(bearer);
        // Checked on every request: a revoked agent is refused at once.
        let (agent_id, tenant_id) = state
            .db
            .read(move |conn| store::by_token(conn, &hash).map_err(ApiError::from))
            .await?
            .ok_or(ErrorCode::InvalidBearerToken)?;
        Ok(Caller::Agent(AgentPrincipal { agent_id, tenant_id }))
    }
}
