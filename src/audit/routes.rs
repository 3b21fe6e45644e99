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
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::paging::{cursor, CursorQuery};
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
