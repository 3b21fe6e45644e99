//! `GET /api/v1/audit` (admin): the tenant's trail, newest first.

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, AuditEntry};
use crate::auth::{AdminOnly, Authed};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::Query;
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_page))
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Cursor paging: `limit` (1-200, default 50) entries older than `before` (an entry's `seq`).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", security(("bearer" = [])),
    params(CursorQuery),
    responses((status = 200, body = Success<AuditPage>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn audit_page(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<AuditPage>> {
    let (before, limit) = cursor(&params)?;
    let items = state
        .db
        .read(move |conn| store::page(conn, &me.tenant_id, before, limit).map_err(ApiError::from))
        .await?;
    let next_before = (items.len() as u64 == limit)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(ok(AuditPage { items, next_before }))
}

/// The query of a cursor-paged list as the document shows it; [`cursor`] parses it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct CursorQuery {
    /// Entries older than this `seq`.
    #[param(minimum = 1)]
    before: Option<i64>,
    /// Default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// `before` (optional, > 0) and `limit` (1-200, default 50) of a cursor-paged list.
pub fn cursor(params: &HashMap<String, String>) -> ApiResult<(Option<i64>, u64)> {
    let mut errors = FieldErrors::default();
    let before = match params.get("before") {
        None => None,
        Some(raw) => errors.check(
            "before",
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|b| *b > 0)
                .ok_or("must be a positive whole number"),
        ),
    };
    let limit = match params.get("limit") {
        None => Some(50),
        Some(raw) => errors.check(
            "limit",
            raw.trim()
                .parse::<u64>()
                .ok()
                .filter(|l| (1..=200).contains(l))
                .ok_or("must be 1-200"),
        ),
    };
    errors.into_result(ErrorCode::BadRequest)?;
    Ok((before, limit.unwrap_or(50)))
}
