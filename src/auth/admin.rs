//! `/api/v1/admin/users*`: an admin manages the users of their own tenant.

use axum::extract::State;
use botmox_contract::auth::{CreateUserRequest, SessionsEnded, UserInfo};
use botmox_contract::envelope::{Failure, Success};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rules::{normalise_roles, Email, NewPassword};
use super::store::{self, NewUser};
use super::{AdminOnly, Authed};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path};
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(end_user_sessions))
}

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<UserInfo>>), (status = 403, body = Failure)))]
async fn list_users(State(state): State<AppState>, Authed(me, ..): Authed<AdminOnly>) -> ApiResult<Ok<Vec<UserInfo>>> {
    let users = state
        .db
        .read(move |conn| store::users_of_tenant(conn, &me.tenant_id).map_err(ApiError::from))
        .await?;
    Ok(ok(users.iter().map(|u| u.info()).collect()))
}

/// Creates a user in the admin's tenant: 201 with the user; 409 `EMAIL_TAKEN` when a user of
/// this tenant has the address. Other tenants' users play no part: addresses are unique per
/// tenant, so the answer says nothing about them.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, body = Success<UserInfo>),
        (status = 400, body = Failure), (status = 403, body = Failure), (status = 409, body = Failure)))]
async fn create_user(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Json(body): Json<CreateUserRequest>,
) -> ApiResult<Created<UserInfo>> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&body.email));
    let password = errors.check("password", NewPassword::parse(body.password));
    errors.into_result(ErrorCode::ValidationFailed)?;
    let (email, password) = (email.unwrap(), password.unwrap());
    let hash = state.hasher.hash(password.into_inner()).await?;
    let roles = normalise_roles(body.roles);
    let user = state
        .db
        .write(move |tx| {
            let new = NewUser {
                tenant_id: &me.tenant_id,
                email: email.as_str(),
                password_hash: &hash,
                roles: &roles,
            };
            store::insert_user(tx, &new).map_err(ApiError::from)
        })
        .await?
        .ok_or(ErrorCode::EmailTaken)?;
    tracing::info!(user_id = %user.id, "user created");
    Ok(created(user.info()))
}

/// Signs a user of the admin's tenant out everywhere.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Success<SessionsEnded>), (status = 403, body = Failure), (status = 404, body = Failure)))]
async fn end_user_sessions(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Path(id): Path<String>,
) -> ApiResult<Ok<SessionsEnded>> {
    let user_id = id.clone();
    let ended = state
        .db
        .write(move |tx| {
            if store::user_by_id(tx, &me.tenant_id, &user_id)?.is_none() {
                return Ok(None);
            }
            store::delete_sessions_of_user(tx, &user_id, None)
                .map(Some)
                .map_err(ApiError::from)
        })
        .await?
        .ok_or(ErrorCode::UserNotFound)?;
    state.sessions.forget_all();
    Ok(ok(SessionsEnded {
        user_id: id,
        sessions_ended: ended,
    }))
}
