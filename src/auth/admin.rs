//! `/api/v1/admin/users*`: an admin manages the users of their own tenant.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use botmox_contract::auth::{CreateUserRequest, SessionsEnded, UserInfo};
use botmox_contract::envelope::{Failure, Success};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rules::{normalise_roles, Email, NewPassword};
use super::store::{self, NewUser};
use super::{AdminOnly, Authed};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path};
use crate::http::respond::{created, ok, Ok};
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

/// The answer when the address cannot be given to a new user of this tenant because another
/// tenant uses it (e-mails are the installation-wide sign-in name): nothing is created, and
/// nothing about the other tenant or its user is said.
#[derive(Serialize, ToSchema)]
pub struct NotCreated {
    pub email: String,
    /// Always `false`.
    pub created: bool,
    pub message: String,
}

/// Creates a user in the admin's tenant: 201 with the user; 409 `EMAIL_TAKEN` when a user of
/// this tenant has the address; 202 with a neutral answer, creating nothing, when another
/// tenant's user has it.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, body = Success<UserInfo>), (status = 202, body = Success<NotCreated>),
        (status = 400, body = Failure), (status = 403, body = Failure), (status = 409, body = Failure)))]
async fn create_user(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Json(body): Json<CreateUserRequest>,
) -> ApiResult<Response> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&body.email));
    let password = errors.check("password", NewPassword::parse(body.password));
    errors.into_result(ErrorCode::ValidationFailed)?;
    let (email, password) = (email.unwrap(), password.unwrap());
    let hash = state.hasher.hash(password.into_inner()).await?;
    let roles = normalise_roles(body.roles);
    let address = email.as_str().to_owned();
    let user = state
        .db
        .write(move |tx| {
            let new = NewUser {
                tenant_id: &me.tenant_id,
                email: email.as_str(),
                password_hash: &hash,
                roles: &roles,
            };
            if let Some(user) = store::insert_user(tx, &new)? {
                return Ok::<_, ApiError>(Some(user));
            }
            // Taken: said plainly within the tenant (its admin lists its users anyway), not
            // at all for another tenant's user.
            match store::user_by_email(tx, email.as_str())? {
                Some(holder) if holder.tenant_id == me.tenant_id => Err(ErrorCode::EmailTaken.into()),
                _ => Ok(None),
            }
        })
        .await?;
    let Some(user) = user else {
        let answer = NotCreated {
            email: address,
            created: false,
            message: "No user was created with this address: give this user another e-mail address".into(),
        };
        return Ok((StatusCode::ACCEPTED, ok(answer)).into_response());
    };
    tracing::info!(user_id = %user.id, "user created");
    Ok(created(user.info()).into_response())
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
