//! Who is calling: the one extractor that authenticates a request and checks its roles.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use botmox_contract::auth::Role;

use super::{browser, store, token};
use crate::access::{self, Action, Grant};
use crate::clock::now_ms;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// An authenticated user session.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub session_id: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub tenant_id: String,
    /// Set when the request came with the browser session cookie: its CSRF value.
    pub csrf_token: Option<String>,
    /// The installation operator: may do what spans every tenant (granted from the CLI only).
    pub operator: bool,
}

/// The row of the access policy (`crate::access`) a route checks as a whole; `None`: any
/// signed-in user.
pub trait Access {
    const ACTION: Option<Action>;
}

pub struct AnyUser;
impl Access for AnyUser {
    const ACTION: Option<Action> = None;
}

/// Admin: the tenant's users, audit trail, client logs, licences, delivery history.
pub struct AdminOnly;
impl Access for AdminOnly {
    const ACTION: Option<Action> = Some(Action::TenantAdmin);
}

/// Privileged = admin or infra (access matrix, `api-ops.md` §11).
pub struct Privileged;
impl Access for Privileged {
    const ACTION: Option<Action> = Some(Action::PrivilegedRoutes);
}

/// Only `infra`: the direct Proxmox/SSH routes (`api-ops.md` §4).
pub struct InfraOnly;
impl Access for InfraOnly {
    const ACTION: Option<Action> = Some(Action::Infra);
}

/// The installation operator: actions that span every tenant (the vault key).
pub struct InstallationOperator;
impl Access for InstallationOperator {
    const ACTION: Option<Action> = Some(Action::RotateVaultKey);
}

/// `Authed<AdminOnly>` in a handler's arguments is the whole access check of that route.
pub struct Authed<A: Access = AnyUser>(pub Principal, pub PhantomData<A>);

/// `last_seen_at` is refreshed at most this often, so reads stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;

impl<S, A> FromRequestParts<S> for Authed<A>
where
    A: Access,
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        if let Some(bearer) = bearer_token(parts) {
            return Ok(Authed(authenticate::<A>(&state, bearer).await?, PhantomData));
        }
        // A browser sends its cookie with every request, also ones another site made it send:
        // a change needs the CSRF value too, which only our own pages can learn.
        let cookie = browser::session_cookie(&parts.headers).ok_or(ErrorCode::MissingBearerToken)?;
        if browser::is_unsafe(&parts.method) && !browser::csrf_matches(&parts.headers, cookie) {
            // Checked before the session lookup, so a forged request learns nothing of it.
            return Err(ErrorCode::CsrfCheckFailed.into());
        }
        let mut me = authenticate::<A>(&state, cookie).await?;
        me.csrf_token = Some(browser::csrf_of(cookie));
        Ok(Authed(me, PhantomData))
    }
}

/// The user session behind `bearer`, if it holds one of `A`'s roles; the bearer may come from
/// a header (the extractor above) or elsewhere (the gateway's query or cookie).
pub async fn authenticate<A: Access>(state: &AppState, bearer: &str) -> Result<Principal, ApiError> {
    if bearer.starts_with(token::AGENT_PREFIX) {
        return Err(ApiError::new(ErrorCode::Forbidden).with_message("Agent tokens cannot call this route"));
    }
    let hash = token::hash(bearer);
    let session = match state.sessions.get(&hash) {
        Some(session) => session,
        None => {
            let key = hash.clone();
            let session = state
                .db
                .read(move |conn| store::principal_by_token(conn, &key).map_err(ApiError::from))
                .await?
                .ok_or(ErrorCode::InvalidBearerToken)?;
            state.sessions.put(hash.clone(), session.clone());
            session
        }
    };
    if let Some(action) = A::ACTION {
        if access::grant_with(&session.roles, session.operator, action) == Grant::No {
            return Err(access::refusal(action));
        }
    }
    if now_ms() - session.last_seen_at > TOUCH_EVERY_MS {
        // The cached copy learns the new time too, or every cached hit would touch again.
        let mut touched = session.clone();
        touched.last_seen_at = now_ms();
        state.sessions.put(hash, touched);
        let (db, id) = (state.db.clone(), session.session_id.clone());
        // Best effort and off the request path: a lost touch only makes a timestamp stale.
        tokio::spawn(async move {
            let _ = db
                .write(move |tx| store::touch_session(tx, &id).map_err(ApiError::from))
                .await;
        });
    }
    Ok(Principal {
        user_id: session.user_id,
        session_id: session.session_id,
        email: session.email,
        roles: session.roles,
        tenant_id: session.tenant_id,
        csrf_token: None,
        operator: session.operator,
    })
}

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive; a bare
/// token is accepted as the reference does).
pub(crate) fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => value[7..].trim(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}
