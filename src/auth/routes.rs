//! `/api/v1/auth/*`: first-admin setup, sign-in and out, identity, own sessions, password.

use std::net::IpAddr;

use axum::extract::{FromRequestParts, State};
use axum::http::header::{HeaderName, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::response::AppendHeaders;
use botmox_contract::auth::*;
use botmox_contract::envelope::{Failure, Success};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rules::{normalise_roles, Email, NewPassword, TenantId};
use super::signin::{self, SignIn};
use super::store::{self, NewSession, NewUser, SetupOutcome, UserRow};
use super::{browser, token, Authed};
use crate::clock::{iso_ms, now_ms};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::client_ip::ClientIp;
use crate::http::extract::{Json, Path};
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(setup_status, setup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(whoami))
        .routes(routes!(verify))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(change_password))
}

/// Client details recorded on a new session.
struct ClientInfo {
    ip: IpAddr,
    user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo
where
    std::sync::Arc<crate::http::client_ip::TrustedProxies>: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect());
        Ok(Self { ip, user_agent })
    }
}

/// The `Set-Cookie` a response carries, if any.
type CookieHeader = AppendHeaders<Option<(HeaderName, String)>>;

fn with_cookie(cookie: Option<String>) -> CookieHeader {
    AppendHeaders(cookie.map(|c| (SET_COOKIE, c)))
}

/// Whether our cookies get `Secure`: when the installation is reached over TLS.
fn secure_cookies(state: &AppState) -> bool {
    browser::secure_for(state.config.public_url.as_deref())
}

/// Issues a session token for `user`; the plaintext leaves the server only in this response,
/// in the body for a bearer session or in the HttpOnly cookie for a browser session.
async fn start_session(
    state: &AppState,
    user: UserRow,
    client: ClientInfo,
    mode: SessionMode,
) -> ApiResult<(CookieHeader, SessionGrant)> {
    let issued = token::issue(token::SESSION_PREFIX);
    let ttl = state.config.session_ttl();
    let expires_at = now_ms() + ttl.as_millis() as i64;
    let (user_id, tenant_id) = (user.id.clone(), user.tenant_id.clone());
    let ip = client.ip.to_string();
    let hash = issued.hash;
    state
        .db
        .write(move |tx| {
            store::insert_session(
                tx,
                &NewSession {
                    token_hash: &hash,
                    user_id: &user_id,
                    tenant_id: &tenant_id,
                    expires_at,
                    ip: Some(&ip),
                    user_agent: client.user_agent.as_deref(),
                },
            )
            .map_err(ApiError::from)
        })
        .await?;
    let (token, csrf_token, cookie) = match mode {
        SessionMode::Bearer => (Some(issued.plaintext), None, None),
        SessionMode::Cookie => (
            None,
            Some(browser::csrf_of(&issued.plaintext)),
            Some(browser::set_cookie(
                &issued.plaintext,
                ttl.as_secs(),
                secure_cookies(state),
            )),
        ),
    };
    let grant = SessionGrant {
        token,
        expires_at: iso_ms(expires_at),
        user: user.info(),
        csrf_token,
    };
    Ok((with_cookie(cookie), grant))
}

#[utoipa::path(get, path = "/api/v1/auth/setup", tag = "auth",
    responses((status = 200, description = "Whether the first admin still has to be created", body = Success<SetupStatus>)))]
async fn setup_status(State(state): State<AppState>) -> ApiResult<Ok<SetupStatus>> {
    let users = state
        .db
        .read(|conn| store::user_count(conn).map_err(ApiError::from))
        .await?;
    Ok(ok(SetupStatus { needed: users == 0 }))
}

/// Creates the first admin with the one-time token printed in the server log.
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = SetupRequest,
    responses(
        (status = 201, body = Success<SessionGrant>),
        (status = 400, body = Failure), (status = 401, description = "Wrong setup token", body = Failure),
        (status = 409, description = "An admin already exists", body = Failure)))]
async fn setup(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(body): Json<SetupRequest>,
) -> ApiResult<(CookieHeader, Created<SessionGrant>)> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&body.email));
    let password = errors.check("password", NewPassword::parse(body.password));
    let tenant = match body.tenant_id.as_deref() {
        Some(raw) => errors.check("tenant_id", TenantId::parse(raw)),
        None => Some(TenantId::default()),
    };
    errors.into_result(ErrorCode::ValidationFailed)?;
    let (email, password, tenant) = (email.unwrap(), password.unwrap(), tenant.unwrap());

    // Check the token before paying for a password hash.
    let token_hash = token::hash(body.token.trim());
    let probe = token_hash.clone();
    let (users, valid) = state
        .db
        .read(move |conn| Ok::<_, ApiError>((store::user_count(conn)?, store::setup_token_exists(conn, &probe)?)))
        .await?;
    if users > 0 {
        return Err(ErrorCode::SetupAlreadyDone.into());
    }
    if !valid {
        return Err(ErrorCode::InvalidSetupToken.into());
    }

    let password_hash = state.hasher.hash(password.into_inner()).await?;
    let outcome = state
        .db
        .write(move |tx| {
            let roles = normalise_roles([Role::Admin, Role::Infra]);
            let user = NewUser {
                tenant_id: tenant.as_str(),
                email: email.as_str(),
                password_hash: &password_hash,
                roles: &roles,
            };
            store::complete_setup(tx, &token_hash, &user).map_err(ApiError::from)
        })
        .await?;
    let user = match outcome {
        SetupOutcome::Created(user) => user,
        SetupOutcome::AlreadyDone => return Err(ErrorCode::SetupAlreadyDone.into()),
        SetupOutcome::InvalidToken => return Err(ErrorCode::InvalidSetupToken.into()),
    };
    tracing::info!(user_id = %user.id, tenant_id = %user.tenant_id, "first admin created");
    let (cookie, grant) = start_session(&state, user, client, body.session).await?;
    Ok((cookie, created(grant)))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = Success<SessionGrant>),
        (status = 400, description = "`tenant` is not a tenant id", body = Failure),
        (status = 401, description = "Invalid email or password", body = Failure),
        (status = 409, description = "`TENANT_REQUIRED`: the password opens accounts in several tenants; name one in `tenant`", body = Failure),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Failure)))]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(body): Json<LoginRequest>,
) -> ApiResult<(CookieHeader, Ok<SessionGrant>)> {
    let tenant = signin::requested_tenant(body.tenant.as_deref(), ErrorCode::ValidationFailed)?;
    let ip = client.ip;
    let user = match signin::authenticate(&state, ip, &body.email, body.password, tenant).await? {
        SignIn::Verified(user) => user,
        SignIn::TenantRequired => return Err(ErrorCode::TenantRequired.into()),
        SignIn::WrongCredentials => {
            tracing::info!(%ip, "failed sign-in");
            return Err(ErrorCode::InvalidCredentials.into());
        }
    };
    let (cookie, grant) = start_session(&state, user, client, body.session).await?;
    Ok((cookie, ok(grant)))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Success<LogoutResult>), (status = 401, body = Failure)))]
async fn logout(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<(CookieHeader, Ok<LogoutResult>)> {
    state
        .db
        .write(move |tx| store::delete_session(tx, &me.user_id, &me.session_id).map_err(ApiError::from))
        .await?;
    state.sessions.forget_all();
    // Cleared whatever the caller came with: a browser holding a dead cookie loses it too.
    let cleared = browser::clear_cookie(secure_cookies(&state));
    Ok((with_cookie(Some(cleared)), ok(LogoutResult { logged_out: true })))
}

#[utoipa::path(get, path = "/api/v1/auth/whoami", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Success<WhoAmI>), (status = 401, body = Failure)))]
async fn whoami(Authed(me, ..): Authed) -> Ok<WhoAmI> {
    ok(WhoAmI {
        uid: me.user_id,
        email: me.email,
        roles: me.roles,
        tenant_id: me.tenant_id,
        csrf_token: me.csrf_token,
    })
}

#[utoipa::path(get, path = "/api/v1/auth/verify", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Success<VerifyResult>), (status = 401, body = Failure)))]
async fn verify(_: Authed) -> Ok<VerifyResult> {
    ok(VerifyResult { valid: true })
}

/// The caller's own live sessions, newest first.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<SessionInfo>>), (status = 401, body = Failure)))]
async fn list_sessions(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Vec<SessionInfo>>> {
    let user_id = me.user_id.clone();
    let rows = state
        .db
        .read(move |conn| store::sessions_of_user(conn, &user_id).map_err(ApiError::from))
        .await?;
    Ok(ok(rows
        .into_iter()
        .map(|s| SessionInfo {
            current: s.id == me.session_id,
            id: s.id,
            created_at: iso_ms(s.created_at),
            expires_at: iso_ms(s.expires_at),
            last_seen_at: iso_ms(s.last_seen_at),
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect()))
}

/// Ends one of the caller's sessions (another device, or this one).
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = Success<SessionRevoked>), (status = 404, body = Failure)))]
async fn revoke_session(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<SessionRevoked>> {
    let target = id.clone();
    let deleted = state
        .db
        .write(move |tx| store::delete_session(tx, &me.user_id, &target).map_err(ApiError::from))
        .await?;
    state.sessions.forget_all();
    if !deleted {
        return Err(ErrorCode::SessionNotFound.into());
    }
    Ok(ok(SessionRevoked { id, revoked: true }))
}

/// Changes the caller's password and ends every other session of theirs.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = Success<PasswordChanged>), (status = 400, body = Failure), (status = 401, body = Failure)))]
async fn change_password(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<ChangePasswordRequest>,
) -> ApiResult<Ok<PasswordChanged>> {
    let new_password = NewPassword::parse(body.new_password).map_err(|m| {
        let mut errors = FieldErrors::default();
        errors.add("new_password", m);
        ApiError::validation(ErrorCode::ValidationFailed, errors)
    })?;
    let (tenant, uid) = (me.tenant_id.clone(), me.user_id.clone());
    let user = state
        .db
        .read(move |conn| store::user_by_id(conn, &tenant, &uid).map_err(ApiError::from))
        .await?
        .ok_or(ErrorCode::InvalidBearerToken)?;
    if !state
        .hasher
        .verify(body.current_password, Some(user.password_hash))
        .await?
    {
        return Err(ApiError::new(ErrorCode::InvalidCredentials).with_message("The current password is not correct"));
    }
    let hash = state.hasher.hash(new_password.into_inner()).await?;
    let ended = state
        .db
        .write(move |tx| {
            store::set_password(tx, &me.user_id, &hash)?;
            store::delete_sessions_of_user(tx, &me.user_id, Some(&me.session_id)).map_err(ApiError::from)
        })
        .await?;
    state.sessions.forget_all();
    Ok(ok(PasswordChanged { sessions_ended: ended }))
}
