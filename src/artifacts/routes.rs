//! `/api/v1/artifacts/*` for admin and infra: releases (uploaded through the API or
//! registered over an object already in the tenant's prefix), assignments, the download
//! audit. The lease-gated resolve and the signed download are in `resolve.rs` and
//! `download.rs`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use botmox_contract::envelope::{Failure, ListMeta, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::scope;
use super::store::{self, AssignmentRow, ReleaseRow, Scope};
use crate::audit::store::{self as audit, Action};
use crate::auth::{Authed, Principal, Privileged};
use crate::clock::{iso_ms, now_ms};
use crate::documents::crud::typed_body;
use crate::documents::fields::{Bounded, Text};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{created, ok, Created, Ok};
use crate::objects::{ObjectError, StoredObject};
use crate::state::AppState;

const ENTITY: &str = "artifact_releases";
const STATUSES: [&str; 4] = ["draft", "active", "disabled", "archived"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_release, list_releases))
        .routes(routes!(upload_release))
        .routes(routes!(set_status))
        .routes(routes!(assign))
        .routes(routes!(get_assignment))
        .routes(routes!(list_assignments))
        .routes(routes!(download_audit))
        .routes(routes!(super::resolve::resolve_download))
        .routes(routes!(super::download::download))
}

#[derive(Serialize, ToSchema)]
pub struct Release {
    pub id: i64,
    pub tenant_id: String,
    pub module: String,
    pub platform: String,
    pub channel: String,
    pub version: String,
    pub object_key: String,
    /// Lower-case hex, computed by the server.
    pub sha256: String,
    pub size_bytes: i64,
    /// `draft`, `active`, `disabled` or `archived`.
    pub status: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ReleaseRow> for Release {
    fn from(r: ReleaseRow) -> Self {
        Release {
            id: r.id,
            tenant_id: r.tenant_id,
            module: r.module,
            platform: r.platform,
            channel: r.channel,
            version: r.version,
            object_key: r.object_key,
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            status: r.status,
            created_by: r.created_by,
            updated_by: r.updated_by,
            created_at: iso_ms(r.created_at),
            updated_at: iso_ms(r.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Assignment {
    pub id: i64,
    pub tenant_id: String,
    pub module: String,
    pub platform: String,
    pub channel: String,
    /// null = the tenant default.
    pub user_id: Option<String>,
    pub release_id: i64,
    pub is_default: bool,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<AssignmentRow> for Assignment {
    fn from(a: AssignmentRow) -> Self {
        Assignment {
            id: a.id,
            tenant_id: a.tenant_id,
            module: a.module,
            platform: a.platform,
            channel: a.channel,
            is_default: a.user_id.is_none(),
            user_id: a.user_id,
            release_id: a.release_id,
            created_by: a.created_by,
            updated_by: a.updated_by,
            created_at: iso_ms(a.created_at),
            updated_at: iso_ms(a.updated_at),
        }
    }
}

/// What identifies a release and what the client claims about its file.
#[derive(Deserialize, ToSchema, IntoParams)]
pub struct ReleaseFields {
    #[schema(value_type = String)]
    #[param(value_type = String)]
    pub module: Text<1, 200>,
    #[schema(value_type = String)]
    #[param(value_type = String)]
    pub platform: Text<1, 100>,
    /// Default `stable`.
    #[schema(value_type = Option<String>)]
    #[param(value_type = Option<String>)]
    pub channel: Option<Text<1, 100>>,
    #[schema(value_type = String)]
    #[param(value_type = String)]
    pub version: Text<1, 100>,
    /// 64 hex characters; the server's own digest must match. Required by `POST /releases`;
    /// an upload without it records the server's digest (browsers on plain HTTP cannot hash).
    pub sha256: Option<String>,
    /// The server's own count must match.
    #[schema(value_type = i64)]
    #[param(value_type = i64)]
    pub size_bytes: Bounded<1, { i64::MAX }>,
    /// Default `active`.
    pub status: Option<String>,
}

/// The reference's create: the file is already in the object store under the tenant's
/// `artifacts/<tenant>/` prefix.
#[derive(Deserialize, ToSchema)]
pub struct CreateRelease {
    #[serde(flatten)]
    pub fields: ReleaseFields,
    #[schema(value_type = String)]
    pub object_key: Text<1, 1024>,
}

#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    pub status: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AssignRequest {
    /// Omitted = the tenant default.
    #[schema(value_type = Option<String>)]
    pub user_id: Option<Text<1, 200>>,
    #[schema(value_type = String)]
    pub module: Text<1, 200>,
    #[schema(value_type = String)]
    pub platform: Text<1, 100>,
    #[schema(value_type = Option<String>)]
    pub channel: Option<Text<1, 100>>,
    #[schema(value_type = i64)]
    pub release_id: Bounded<1, { i64::MAX }>,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentView {
    pub user_assignment: Option<Assignment>,
    pub default_assignment: Option<Assignment>,
    /// The user's if any, else the tenant default.
    pub effective_assignment: Option<Assignment>,
}

#[derive(Deserialize, IntoParams)]
pub struct ScopeQuery {
    /// Default `windows`.
    pub platform: Option<String>,
    /// Default `stable`.
    pub channel: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// 1-500, default 100.
    pub limit: Option<String>,
    /// ≥ 1, default 1; `meta` carries `{total, page, limit}`.
    pub page: Option<String>,
}

/// A checked release request: scope, version, claims, status.
struct Checked {
    scope: Scope,
    version: String,
    /// The claimed digest; `None` = take the server's.
    sha256: Option<String>,
    size_bytes: i64,
    status: String,
}

/// `sha_required`: the reference's create needs the claim; an upload may leave it out.
fn check(fields: ReleaseFields, sha_required: bool) -> ApiResult<Checked> {
    let mut errors = FieldErrors::default();
    let sha256 = fields.sha256.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    match &sha256 {
        Some(sha) if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) => {
            errors.add("sha256", "must be 64 hex characters");
        }
        None if sha_required => errors.add("sha256", "is required"),
        _ => {}
    }
    let status = fields
        .status
        .map_or_else(|| "active".to_owned(), |s| s.trim().to_lowercase());
    if !STATUSES.contains(&status.as_str()) {
        errors.add("status", "must be draft, active, disabled or archived");
    }
    errors.into_result(ErrorCode::InvalidRequestBody)?;
    Ok(Checked {
        scope: scope(&fields.module, &fields.platform, fields.channel.as_deref()),
        version: fields.version.0,
        sha256,
        size_bytes: fields.size_bytes.0,
        status,
    })
}

/// Whether the stored object is what the request claimed.
fn matches(c: &Checked, stored: &StoredObject) -> bool {
    stored.size as i64 == c.size_bytes && c.sha256.as_ref().is_none_or(|sha| *sha == stored.sha256)
}

/// Inserts the release row over a stored, verified object; 409 when taken.
async fn insert(
    state: &AppState,
    me: Principal,
    c: Checked,
    object_key: String,
    sha256: String,
) -> ApiResult<ReleaseRow> {
    let now = now_ms();
    let row = ReleaseRow {
        id: 0,
        tenant_id: me.tenant_id.clone(),
        module: c.scope.module,
        platform: c.scope.platform,
        channel: c.scope.channel,
        version: c.version,
        object_key,
        sha256,
        size_bytes: c.size_bytes,
        status: c.status,
        created_by: me.user_id.clone(),
        updated_by: me.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    state
        .db
        .write(move |tx| {
            let saved = store::insert_release(tx, &row)?.ok_or(ErrorCode::ArtifactReleaseExists)?;
            audit::record(
                tx,
                &me,
                Action::Create,
                ENTITY,
                &saved.id.to_string(),
                &["object_key".into()],
            )?;
            Ok(saved)
        })
        .await
}

fn mismatch(declared: &Checked, size: u64, sha256: &str) -> ApiError {
    ApiError::new(ErrorCode::ArtifactChecksumMismatch).with_message(format!(
        "The file is {size} bytes with SHA-256 {sha256}; {} bytes with {} were declared",
        declared.size_bytes,
        declared.sha256.as_deref().unwrap_or("any digest")
    ))
}

/// Registers a release over a file already in the object store (the reference's flow). The
/// key must be under `artifacts/<tenant>/`; the server hashes the file and checks the claims.
#[utoipa::path(post, path = "/api/v1/artifacts/releases", tag = "artifacts", security(("bearer" = [])),
    request_body = CreateRelease,
    responses((status = 201, body = Success<Release>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn create_release(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Json(body): Json<Value>,
) -> ApiResult<Created<Release>> {
    let request: CreateRelease = typed_body(&body, ErrorCode::InvalidRequestBody)?;
    let key = request.object_key.0;
    if !key.starts_with(&format!("artifacts/{}/", me.tenant_id)) {
        let mut errors = FieldErrors::default();
        errors.add("object_key", format!("must be under artifacts/{}/", me.tenant_id));
        return Err(ApiError::validation(ErrorCode::InvalidRequestBody, errors));
    }
    let checked = check(request.fields, true)?;
    let stored = state.objects.digest(&key).await.map_err(|e| match e {
        ObjectError::NotFound(_) => ErrorCode::ArtifactObjectNotFound.into(),
        ObjectError::InvalidKey(k) => {
            ApiError::new(ErrorCode::InvalidRequestBody).with_message(format!("object_key {k:?} is not valid"))
        }
        other => ApiError::internal(other),
    })?;
    if !matches(&checked, &stored) {
        return Err(mismatch(&checked, stored.size, &stored.sha256));
    }
    Ok(created(insert(&state, me, checked, key, stored.sha256).await?.into()))
}

/// Uploads a release: the raw file is the body (any content type), streamed to the object
/// store while the server counts and hashes it; the claims in the query must match (without
/// `sha256`, the server's digest is recorded).
#[utoipa::path(post, path = "/api/v1/artifacts/releases/upload", tag = "artifacts", security(("bearer" = [])),
    params(ReleaseFields), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Success<Release>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 409, body = Failure), (status = 413, body = Failure)))]
async fn upload_release(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> ApiResult<Created<Release>> {
    let fields = serde_json::to_value(query).map_err(ApiError::internal)?;
    let checked = check(typed_body(&fields, ErrorCode::InvalidRequestBody)?, false)?;
    let max = state.config.artifact_max_bytes;
    if checked.size_bytes as u64 > max {
        return Err(
            ApiError::new(ErrorCode::PayloadTooLarge).with_message(format!("Artifacts are at most {max} bytes"))
        );
    }
    // Refuse a duplicate before reading a possibly large body; the insert checks again.
    let (tenant, scope, version) = (me.tenant_id.clone(), checked.scope.clone(), checked.version.clone());
    let taken = state
        .db
        .read(move |conn| store::release_taken(conn, &tenant, &scope, &version).map_err(ApiError::from))
        .await?;
    if taken {
        return Err(ErrorCode::ArtifactReleaseExists.into());
    }
    let key = format!("artifacts/{}/{}", me.tenant_id, uuid::Uuid::new_v4());
    let stored = state
        .objects
        .put_stream(&key, body.into_data_stream(), checked.size_bytes as u64)
        .await
        .map_err(|e| match e {
            ObjectError::TooLarge(_) => ApiError::new(ErrorCode::ArtifactChecksumMismatch).with_message(format!(
                "The file is larger than the {} bytes declared",
                checked.size_bytes
            )),
            ObjectError::Body(m) => ApiError::new(ErrorCode::BadRequest).with_message(m),
            other => other.into(),
        })?;
    let outcome = if !matches(&checked, &stored) {
        Err(mismatch(&checked, stored.size, &stored.sha256))
    } else {
        insert(&state, me, checked, key.clone(), stored.sha256).await
    };
    if outcome.is_err() {
        // No row points at the file, so removing it cannot break a reader.
        if let Err(e) = state.objects.delete(&key).await {
            tracing::warn!(error = %e, "a refused artifact upload could not be removed");
        }
    }
    Ok(created(outcome?.into()))
}

/// The tenant's releases, newest first.
#[utoipa::path(get, path = "/api/v1/artifacts/releases", tag = "artifacts", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<Release>>), (status = 403, body = Failure)))]
async fn list_releases(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
) -> ApiResult<Ok<Vec<Release>>> {
    let rows = state
        .db
        .read(move |conn| store::releases(conn, &me.tenant_id).map_err(ApiError::from))
        .await?;
    Ok(ok(rows.into_iter().map(Release::from).collect()))
}

/// Changes a release's status (only `active` releases resolve).
#[utoipa::path(patch, path = "/api/v1/artifacts/releases/{id}", tag = "artifacts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = StatusChange,
    responses((status = 200, body = Success<Release>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure)))]
async fn set_status(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Release>> {
    let id: i64 = id.parse().map_err(|_| ApiError::new(ErrorCode::InvalidPathParams))?;
    let request: StatusChange = typed_body(&body, ErrorCode::InvalidRequestBody)?;
    let status = request.status.trim().to_lowercase();
    if !STATUSES.contains(&status.as_str()) {
        let mut errors = FieldErrors::default();
        errors.add("status", "must be draft, active, disabled or archived");
        return Err(ApiError::validation(ErrorCode::InvalidRequestBody, errors));
    }
    let row = state
        .db
        .write(move |tx| {
            store::release(tx, &me.tenant_id, id)?.ok_or(ErrorCode::ArtifactReleaseNotFound)?;
            store::set_release_status(tx, &me.tenant_id, id, &status, &me.user_id, now_ms())?;
            audit::record(tx, &me, Action::Update, ENTITY, &id.to_string(), &["status".into()])?;
            store::release(tx, &me.tenant_id, id)?.ok_or_else(|| ApiError::from(ErrorCode::ArtifactReleaseNotFound))
        })
        .await?;
    Ok(ok(row.into()))
}

/// Assigns a release to a user, or as the tenant default; replaces that scope's assignment.
#[utoipa::path(post, path = "/api/v1/artifacts/assign", tag = "artifacts", security(("bearer" = [])),
    request_body = AssignRequest,
    responses((status = 201, body = Success<Assignment>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn assign(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Json(body): Json<Value>,
) -> ApiResult<Created<Assignment>> {
    let request: AssignRequest = typed_body(&body, ErrorCode::InvalidRequestBody)?;
    let scope = scope(&request.module, &request.platform, request.channel.as_deref());
    let user = request.user_id.map(|u| u.0);
    let release_id = request.release_id.0;
    let row = state
        .db
        .write(move |tx| {
            let release = store::release(tx, &me.tenant_id, release_id)?.ok_or(ErrorCode::ArtifactReleaseNotFound)?;
            if (
                release.module.as_str(),
                release.platform.as_str(),
                release.channel.as_str(),
            ) != (scope.module.as_str(), scope.platform.as_str(), scope.channel.as_str())
            {
                return Err(ErrorCode::ArtifactScopeMismatch.into());
            }
            let row = store::upsert_assignment(
                tx,
                &me.tenant_id,
                &scope,
                user.as_deref(),
                release_id,
                &me.user_id,
                now_ms(),
            )?;
            audit::record(
                tx,
                &me,
                Action::Update,
                "artifact_assignments",
                &row.id.to_string(),
                &["release_id".into()],
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(created(row.into()))
}

/// A user's assignment, the tenant default, and which of them applies.
#[utoipa::path(get, path = "/api/v1/artifacts/assign/{user_id}/{module}", tag = "artifacts", security(("bearer" = [])),
    params(("user_id" = String, Path), ("module" = String, Path), ScopeQuery),
    responses((status = 200, body = Success<AssignmentView>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn get_assignment(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Path((user_id, module)): Path<(String, String)>,
    Query(query): Query<ScopeQuery>,
) -> ApiResult<Ok<AssignmentView>> {
    let (user_id, module) = (user_id.trim().to_owned(), module.trim().to_owned());
    let bad = |s: &str, max: usize| s.is_empty() || s.chars().count() > max;
    if bad(&user_id, 200) || bad(&module, 200) {
        return Err(ErrorCode::InvalidPathParams.into());
    }
    let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (platform, channel) = (blank(query.platform), blank(query.channel));
    if platform.as_deref().is_some_and(|p| p.chars().count() > 100)
        || channel.as_deref().is_some_and(|c| c.chars().count() > 100)
    {
        return Err(ErrorCode::InvalidQueryParams.into());
    }
    let scope = scope(&module, platform.as_deref().unwrap_or("windows"), channel.as_deref());
    let (user, default) = state
        .db
        .read(move |conn| {
            Ok::<_, ApiError>((
                store::assignment(conn, &me.tenant_id, &scope, &user_id)?,
                store::assignment(conn, &me.tenant_id, &scope, "")?,
            ))
        })
        .await?;
    let effective = user.clone().or_else(|| default.clone());
    Ok(ok(AssignmentView {
        user_assignment: user.map(Assignment::from),
        default_assignment: default.map(Assignment::from),
        effective_assignment: effective.map(Assignment::from),
    }))
}

/// Every assignment of the tenant (tenant defaults and per-user), by scope then user.
#[utoipa::path(get, path = "/api/v1/artifacts/assignments", tag = "artifacts", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<Assignment>>), (status = 403, body = Failure)))]
async fn list_assignments(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
) -> ApiResult<Ok<Vec<Assignment>>> {
    let rows = state
        .db
        .read(move |conn| store::assignments(conn, &me.tenant_id).map_err(ApiError::from))
        .await?;
    Ok(ok(rows.into_iter().map(Assignment::from).collect()))
}

/// A positive integer query value within `range`, or `default` when absent or blank.
fn query_number(raw: Option<&str>, default: i64, range: std::ops::RangeInclusive<i64>, what: &str) -> ApiResult<i64> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text.parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidQueryParams).with_message(format!(
                "{what} must be {}-{}",
                range.start(),
                range.end()
            ))
        }),
    }
}

/// The tenant's resolve and download audit rows, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/artifacts/download-audit", tag = "artifacts", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Success<Vec<Object>>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn download_audit(
    State(state): State<AppState>,
    Authed(me, ..): Authed<Privileged>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<axum::Json<Success<Vec<Value>>>> {
    let limit = query_number(query.limit.as_deref(), 100, 1..=500, "limit")?;
    let page = query_number(query.page.as_deref(), 1, 1..=i64::MAX / 500, "page")?;
    let (rows, total) = state
        .db
        .read(move |conn| store::audit_page(conn, &me.tenant_id, limit, (page - 1) * limit).map_err(ApiError::from))
        .await?;
    Ok(axum::Json(Success {
        success: true,
        data: rows,
        meta: Some(ListMeta {
            total,
            page: page as u64,
            limit: limit as u64,
        }),
    }))
}
