//! Agent callers: an agent token resolves to its agent, and [`Caller`] accepts a user or an
//! agent where a route serves both (heartbeat).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::store::{self, TokenOwner};
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
        let agent = resolve(&AppState::from_ref(state), bearer).await?;
        Ok(Caller::Agent(agent))
    }
}

/// The agent an agent token belongs to, checked on every request and frame: a revoked
/// agent's token answers `AGENT_REVOKED`, any other unknown token
/// `INVALID_OR_MISSING_BEARER_TOKEN`.
pub async fn resolve(state: &AppState, bearer: &str) -> Result<AgentPrincipal, ApiError> {
    if !bearer.starts_with(token::AGENT_PREFIX) {
        return Err(ErrorCode::InvalidBearerToken.into());
    }
    let hash = token::hash(bearer);
    let owner = state
        .db
        .read(move |conn| store::by_token(conn, &hash).map_err(ApiError::from))
        .await?;
    match owner {
        Some(TokenOwner::Active { agent_id, tenant_id }) => Ok(AgentPrincipal { agent_id, tenant_id }),
        Some(TokenOwner::Revoked) => Err(ErrorCode::AgentRevoked.into()),
        None => Err(ErrorCode::InvalidBearerToken.into()),
    }
}
