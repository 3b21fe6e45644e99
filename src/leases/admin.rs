//! `/api/v1/license/licenses*` and `/api/v1/license/entitlements*`: what leases are issued
//! against, managed by admins (the reference has no routes for them, `api-ops.md` §7.1), and
//! `/api/v1/license/leases`, the leases issued (never their tokens).

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::envelope::{Failure, ListMeta, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, EntitlementRow, LeaseRow, LeaseState, LicenseRow};
use crate::audit::store::{self as audit, Action};
use crate::auth::{AdminOnly, Authed};
use crate::clock::now_ms;
use crate::documents::crud::typed_body;
use crate::documents::fields::{Bounded, Millis, Text};
use crate::documents::list::{Filters, ListQuery};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_licenses))
        .routes(routes!(put_license, delete_license))
        .routes(routes!(list_entitlements))
        .routes(routes!(put_entitlement, delete_entitlement))
        .routes(routes!(list_leases))
}

#[derive(Serialize, ToSchema)]
pub struct License {
    pub id: String,
    pub tenant_id: String,
    /// The user it applies to; null = every user of the tenant.
    pub user_id: Option<String>,
    /// `subscription` (needs `expires_at_ms`), `perpetual` or `alltime`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    pub expires_at_ms: Option<i64>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub updated_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<LicenseRow> for License {
    fn from(r: LicenseRow) -> Self {
        License {
            id: r.id,
            tenant_id: r.tenant_id,
            user_id: r.user_id,
            kind: r.kind,
            status: r.status,
            expires_at_ms: r.expires_at_ms,
            metadata: r.metadata,
            updated_by: r.updated_by,
            created_at_ms: r.created_at,
            updated_at_ms: r.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PutLicense {
    #[schema(value_type = Option<String>)]
    pub user_id: Option<Text<1, 200>>,
    /// Default `subscription`.
    #[serde(rename = "type")]
    #[schema(value_type = Option<String>)]
    pub kind: Option<Text<1, 50>>,
    /// `active` (default), `expired` or `revoked`.
    pub status: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub expires_at_ms: Option<Millis>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Entitlement {
    pub tenant_id: String,
    pub user_id: String,
    /// An array of module names, or `{"<module>": true, "*": true}`.
    #[schema(value_type = Object)]
    pub modules: Value,
    /// Live leases the user may hold at once; null = no limit.
    pub max_active_leases: Option<i64>,
    pub updated_at_ms: i64,
    pub updated_by: String,
}

impl From<EntitlementRow> for Entitlement {
    fn from(r: EntitlementRow) -> Self {
        Entitlement {
            tenant_id: r.tenant_id,
            user_id: r.user_id,
            modules: r.modules,
            max_active_leases: r.max_active_leases,
            updated_at_ms: r.updated_at_ms,
            updated_by: r.updated_by,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PutEntitlement {
    #[schema(value_type = Object)]
    pub modules: Value,
    #[schema(value_type = Option<i64>)]
    pub max_active_leases: Option<Bounded<0, 100_000>>,
}

#[derive(Serialize, ToSchema)]
pub struct Removed {
    pub id: String,
    pub deleted: bool,
}

/// Path ids: 1-200 characters after trimming.
fn path_id(raw: &str) -> ApiResult<String> {
    let id = raw.trim();
    if (1..=200).contains(&id.chars().count()) {
        Ok(id.to_owned())
    } else {
        Err(ErrorCode::InvalidPathParams.into())
    }
}

#[utoipa::path(get, path = "/api/v1/license/licenses", tag = "license", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<License>>), (status = 403, body = Failure)))]
async fn list_licenses(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
) -> ApiResult<Ok<Vec<License>>> {
    let rows = state
        .db
        .read(move |conn| store::licenses(conn, &me.tenant_id).map_err(ApiError::from))
        .await?;
    Ok(ok(rows.into_iter().map(License::from).collect()))
}

/// Creates or replaces the tenant licence `id`.
#[utoipa::path(put, path = "/api/v1/license/licenses/{id}", tag = "license", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PutLicense,
    responses((status = 200, body = Success<License>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn put_license(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<License>> {
    let id = path_id(&id)?;
    let code = ErrorCode::InvalidRequestBody;
    let request: PutLicense = typed_body(&body, code)?;
    let mut errors = FieldErrors::default();
    let status = request
        .status
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "active".into());
    if !["active", "expired", "revoked"].contains(&status.as_str()) {
        errors.add("status", "must be active, expired or revoked");
    }
    let metadata = request.metadata.unwrap_or_else(|| Value::Object(Default::default()));
    if !metadata.is_object() {
        errors.add("metadata", "must be an object");
    }
    errors.into_result(code)?;
    let now = now_ms();
    let row = LicenseRow {
        tenant_id: me.tenant_id.clone(),
        id,
        user_id: request.user_id.map(|u| u.0),
        kind: request
            .kind
            .map_or_else(|| "subscription".to_owned(), |k| k.0.to_lowercase()),
        status,
        expires_at_ms: request.expires_at_ms.map(|m| m.0),
        metadata,
        updated_by: me.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    let saved = state
        .db
        .write(move |tx| {
            let saved = store::upsert_license(tx, &row)?;
            audit::record(
                tx,
                &me,
                Action::Update,
                "tenant_licenses",
                &saved.id,
                &["status".into()],
            )?;
            Ok::<_, ApiError>(saved)
        })
        .await?;
    Ok(ok(saved.into()))
}

#[utoipa::path(delete, path = "/api/v1/license/licenses/{id}", tag = "license", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Removed>), (status = 403, body = Failure), (status = 404, body = Failure)))]
async fn delete_license(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Path(id): Path<String>,
) -> ApiResult<Ok<Removed>> {
    let id = path_id(&id)?;
    let gone = id.clone();
    state
        .db
        .write(move |tx| {
            if !store::delete_license(tx, &me.tenant_id, &id)? {
                return Err(ErrorCode::LicenseNotFound.into());
            }
            audit::record(tx, &me, Action::Delete, "tenant_licenses", &id, &[])?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(ok(Removed {
        id: gone,
        deleted: true,
    }))
}

#[utoipa::path(get, path = "/api/v1/license/entitlements", tag = "license", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<Entitlement>>), (status = 403, body = Failure)))]
async fn list_entitlements(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
) -> ApiResult<Ok<Vec<Entitlement>>> {
    let rows = state
        .db
        .read(move |conn| store::entitlements(conn, &me.tenant_id).map_err(ApiError::from))
        .await?;
    Ok(ok(rows.into_iter().map(Entitlement::from).collect()))
}

/// Sets which modules a user may lease, and how many live leases they may hold.
#[utoipa::path(put, path = "/api/v1/license/entitlements/{user_id}", tag = "license", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = PutEntitlement,
    responses((status = 200, body = Success<Entitlement>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn put_entitlement(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Path(user_id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Entitlement>> {
    let user_id = path_id(&user_id)?;
    let code = ErrorCode::InvalidRequestBody;
    let request: PutEntitlement = typed_body(&body, code)?;
    let well_formed = match &request.modules {
        Value::Array(names) => names.iter().all(|n| n.as_str().is_some_and(|s| !s.trim().is_empty())),
        Value::Object(map) => map.values().all(Value::is_boolean),
        _ => false,
    };
    if !well_formed {
        let mut errors = FieldErrors::default();
        errors.add(
            "modules",
            "must be an array of module names or an object of module: true|false",
        );
        return Err(ApiError::validation(code, errors));
    }
    let row = EntitlementRow {
        tenant_id: me.tenant_id.clone(),
        user_id,
        modules: request.modules,
        max_active_leases: request.max_active_leases.map(|m| m.0),
        updated_at_ms: now_ms(),
        updated_by: me.user_id.clone(),
    };
    let saved = state
        .db
        .write(move |tx| {
            store::upsert_entitlement(tx, &row)?;
            audit::record(
                tx,
                &me,
                Action::Update,
                "tenant_entitlements",
                &row.user_id,
                &["modules".into()],
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(ok(saved.into()))
}

#[utoipa::path(delete, path = "/api/v1/license/entitlements/{user_id}", tag = "license", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, body = Success<Removed>), (status = 403, body = Failure), (status = 404, body = Failure)))]
async fn delete_entitlement(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Path(user_id): Path<String>,
) -> ApiResult<Ok<Removed>> {
    let user_id = path_id(&user_id)?;
    let gone = user_id.clone();
    state
        .db
        .write(move |tx| {
            if !store::delete_entitlement(tx, &me.tenant_id, &user_id)? {
                return Err(ErrorCode::EntitlementNotFound.into());
            }
            audit::record(tx, &me, Action::Delete, "tenant_entitlements", &user_id, &[])?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(ok(Removed {
        id: gone,
        deleted: true,
    }))
}

/// A lease as admins see it: everything but the token.
#[derive(Serialize, ToSchema)]
pub struct LeaseInfo {
    pub id: String,
    pub user_id: String,
    pub vm_uuid: String,
    pub vm_name: String,
    pub module: String,
    pub version: Option<String>,
    pub agent_id: String,
    pub runner_id: String,
    pub license_id: String,
    /// `active`, `expired` (past `expires_at_ms`, no heartbeat in time) or `revoked`.
    pub state: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub last_heartbeat_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

impl LeaseInfo {
    fn new(row: LeaseRow, now: i64) -> Self {
        LeaseInfo {
            state: LeaseState::of(&row, now).as_str().to_owned(),
            id: row.id,
            user_id: row.user_id,
            vm_uuid: row.vm_uuid,
            vm_name: row.vm_name,
            module: row.module,
            version: row.version,
            agent_id: row.agent_id,
            runner_id: row.runner_id,
            license_id: row.license_id,
            created_at_ms: row.created_at_ms,
            expires_at_ms: row.expires_at_ms,
            last_heartbeat_at_ms: row.last_heartbeat_at_ms,
            revoked_at_ms: row.revoked_at_ms,
        }
    }
}

/// The tenant's leases, newest first, a page at a time; `meta` carries `{total, page, limit}`.
#[utoipa::path(get, path = "/api/v1/license/leases", tag = "license", security(("bearer" = [])),
    params(("page" = Option<u64>, Query), ("limit" = Option<u64>, Query, description = "1-200, default 50"),
        ("state" = Option<String>, Query, description = "active, expired or revoked; absent = all")),
    responses((status = 200, body = Success<Vec<LeaseInfo>>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn list_leases(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<axum::Json<Success<Vec<LeaseInfo>>>> {
    let code = ErrorCode::InvalidQueryParams;
    let query = ListQuery::parse(&params, code, &Filters::NONE)?;
    let (page, limit, offset) = (query.page, query.limit, query.offset());
    let wanted = params.get("state").map(|s| s.trim()).filter(|s| !s.is_empty());
    let lease_state = wanted.and_then(LeaseState::parse);
    if wanted.is_some() && lease_state.is_none() {
        let mut errors = FieldErrors::default();
        errors.add("state", "must be active, expired or revoked");
        return Err(ApiError::validation(code, errors));
    }
    let now = now_ms();
    let (rows, total) = state
        .db
        .read(move |conn| {
            store::leases_page(conn, &me.tenant_id, lease_state, now, limit, offset).map_err(ApiError::from)
        })
        .await?;
    Ok(axum::Json(Success {
        success: true,
        data: rows.into_iter().map(|r| LeaseInfo::new(r, now)).collect(),
        meta: Some(ListMeta { total, page, limit }),
    }))
}
