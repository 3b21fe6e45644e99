//! `/api/v1/playbooks*`.

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rules::{self, Report};
use super::service::PLAYBOOKS;
use crate::auth::Authed;
use crate::clock::iso_ms;
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path};
use crate::http::respond::{created, ok, Created, Ok};
use crate::provisioning::records::Deleted;
use crate::provisioning::records::{self, Change};
use crate::provisioning::store::{self as provisioning, Named};
use crate::state::AppState;

const MAX_CONTENT: usize = 65_536;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_playbooks, create_playbook))
        .routes(routes!(get_playbook, update_playbook, delete_playbook))
        .routes(routes!(validate_playbook))
}

#[derive(Serialize, ToSchema)]
pub struct Playbook {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub name: String,
    pub is_default: bool,
    /// The raw YAML.
    pub content: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Named> for Playbook {
    fn from(n: Named) -> Self {
        Playbook {
            id: n.id,
            tenant_id: n.tenant_id,
            user_id: n.user_id,
            name: n.name,
            is_default: n.is_default,
            content: n.body,
            created_at: iso_ms(n.created_at),
            updated_at: iso_ms(n.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PlaybookBody {
    /// 1-200 characters, unique among your playbooks.
    pub name: Option<String>,
    /// Makes this your default playbook: the one a config ISO gets when none is named.
    pub is_default: Option<bool>,
    /// The YAML, 1-65536 characters.
    pub content: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ValidateBody {
    pub content: String,
}

/// Checks a body's fields (400), then the YAML itself (422 with the validation report).
fn playbook_change(body: &Value, code: ErrorCode, create: bool) -> ApiResult<Change> {
    let fields: PlaybookBody = typed_body(body, code)?;
    let mut errors = FieldErrors::default();
    let name = records::name(&mut errors, fields.name.as_deref(), create);
    match &fields.content {
        None if create => errors.add("content", "is required"),
        Some(c) if c.trim().is_empty() || c.chars().count() > MAX_CONTENT => {
            errors.add("content", "content must be 1-65536 characters")
        }
        _ => {}
    }
    errors.into_result(code)?;
    if let Some(content) = &fields.content {
        let report = rules::validate(content);
        if !report.valid {
            return Err(ApiError::new(ErrorCode::InvalidPlaybook)
                .with_details(json!({ "errors": report.errors, "warnings": report.warnings })));
        }
    }
    Ok(Change {
        name,
        is_default: fields.is_default,
        body: fields.content,
    })
}

/// Your playbooks, oldest first.
#[utoipa::path(get, path = "/api/v1/playbooks", tag = "playbooks", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<Playbook>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
async fn list_playbooks(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Vec<Playbook>>> {
    let rows = records::list(&state, &PLAYBOOKS, &me).await?;
    Ok(ok(rows.into_iter().map(Playbook::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/playbooks/{id}", tag = "playbooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Playbook>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn get_playbook(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Playbook>> {
    let id = records::check_id(&PLAYBOOKS, &id)?;
    let row = state
        .db
        .read(move |conn| {
            PLAYBOOKS
                .table
                .get(conn, &me.tenant_id, &me.user_id, &id)
                .map_err(ApiError::from)
        })
        .await?
        .ok_or(ErrorCode::PlaybookNotFound)?;
    Ok(ok(row.into()))
}

/// Validates the YAML first: 422 `INVALID_PLAYBOOK` with `details: {errors, warnings}`.
#[utoipa::path(post, path = "/api/v1/playbooks", tag = "playbooks", security(("bearer" = [])),
    request_body = PlaybookBody,
    responses((status = 201, body = Success<Playbook>), (status = 400, body = Failure), (status = 409, body = Failure),
        (status = 422, body = Failure)))]
async fn create_playbook(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Created<Playbook>> {
    let mut change = playbook_change(&body, ErrorCode::PlaybookInvalidCreateBody, true)?;
    change.is_default = Some(change.is_default.unwrap_or(false));
    Ok(created(
        records::save(&state, &PLAYBOOKS, &me, None, change).await?.into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/playbooks/{id}", tag = "playbooks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PlaybookBody,
    responses((status = 200, body = Success<Playbook>), (status = 400, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure), (status = 422, body = Failure)))]
async fn update_playbook(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Playbook>> {
    let id = records::check_id(&PLAYBOOKS, &id)?;
    let change = playbook_change(&body, ErrorCode::PlaybookInvalidUpdateBody, false)?;
    Ok(ok(records::save(&state, &PLAYBOOKS, &me, Some(id), change)
        .await?
        .into()))
}

/// Deletes the playbook; tokens that shipped it forget its id.
#[utoipa::path(delete, path = "/api/v1/playbooks/{id}", tag = "playbooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Deleted>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn delete_playbook(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Deleted>> {
    let id = records::check_id(&PLAYBOOKS, &id)?;
    records::delete(&state, &PLAYBOOKS, &me, id, provisioning::forget_playbook).await?;
    Ok(ok(Deleted { deleted: true }))
}

/// The validation report of some YAML; never 422.
#[utoipa::path(post, path = "/api/v1/playbooks/validate", tag = "playbooks", security(("bearer" = [])),
    request_body = ValidateBody,
    responses((status = 200, body = Success<Report>), (status = 400, body = Failure)))]
async fn validate_playbook(Authed(..): Authed, Json(body): Json<Value>) -> ApiResult<Ok<Report>> {
    let code = ErrorCode::PlaybookInvalidValidateBody;
    let request: ValidateBody = typed_body(&body, code)?;
    if request.content.trim().is_empty() || request.content.chars().count() > MAX_CONTENT {
        let mut errors = FieldErrors::default();
        errors.add("content", "content must be 1-65536 characters");
        return Err(ApiError::validation(code, errors));
    }
    Ok(ok(rules::validate(&request.content)))
}
