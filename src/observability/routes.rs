//! `POST/GET /api/v1/client-logs` and `GET /api/v1/diag/trace`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client_logs::{self, ClientEvent, Level, StoredEvent};
use crate::audit::routes::cursor;
use crate::auth::{AdminOnly, Authed};
use crate::clock::now_iso;
use crate::documents::crud::typed;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::Json;
use crate::http::{ok, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest, list))
        .routes(routes!(trace))
}

#[derive(Deserialize, ToSchema)]
pub struct ClientLogsRequest {
    /// 1-20 events.
    pub events: Vec<ClientEvent>,
}

#[derive(Serialize, ToSchema)]
pub struct Ingested {
    pub accepted: usize,
    /// Events empty after trimming.
    pub dropped: usize,
}

/// Stores browser log events (normalised, redacted) and writes them to the server log.
#[utoipa::path(post, path = "/api/v1/client-logs", tag = "observability", security(("bearer" = [])),
    request_body = ClientLogsRequest,
    responses((status = 200, body = Success<Ingested>), (status = 400, body = Failure)))]
async fn ingest(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Ingested>> {
    let mut errors = FieldErrors::default();
    let request = match &body {
        Value::Object(map) => typed::<ClientLogsRequest>(map, &mut errors),
        _ => None,
    };
    let request = match request {
        Some(r) if (1..=20).contains(&r.events.len()) => r,
        Some(_) => {
            return Err(ApiError::validation(
                ErrorCode::ObservabilityInvalidClientLogsBody,
                FieldErrors::form("events must hold 1-20 events"),
            ))
        }
        None if errors.is_empty() => {
            return Err(
                ApiError::new(ErrorCode::ObservabilityInvalidClientLogsBody).with_message("Send {\"events\": [...]}")
            )
        }
        None => {
            return Err(ApiError::validation(
                ErrorCode::ObservabilityInvalidClientLogsBody,
                errors,
            ))
        }
    };
    let total = request.events.len();
    let events: Vec<_> = request.events.into_iter().filter_map(client_logs::normalise).collect();
    for e in &events {
        let (user, event, message) = (&me.user_id, &e.event, &e.message);
        match e.level {
            Level::Error => tracing::error!(target: "client", user, event, message, details = %e.details),
            Level::Warn => tracing::warn!(target: "client", user, event, message, details = %e.details),
            Level::Info => tracing::info!(target: "client", user, event, message, details = %e.details),
            Level::Debug => tracing::debug!(target: "client", user, event, message, details = %e.details),
        }
    }
    let accepted = events.len();
    state
        .db
        .write(move |tx| client_logs::insert(tx, &me.tenant_id, &me.user_id, &events).map_err(ApiError::from))
        .await?;
    Ok(ok(Ingested {
        accepted,
        dropped: total - accepted,
    }))
}

/// The tenant's stored browser events, newest first (admin): `before`, `limit` (1-200).
#[utoipa::path(get, path = "/api/v1/client-logs", tag = "observability", security(("bearer" = [])),
    params(crate::audit::routes::CursorQuery),
    responses((status = 200, body = Success<Vec<StoredEvent>>), (status = 403, body = Failure)))]
async fn list(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<Vec<StoredEvent>>> {
    let (before, limit) = cursor(&params)?;
    Ok(ok(state
        .db
        .read(move |conn| client_logs::page(conn, &me.tenant_id, before, limit).map_err(ApiError::from))
        .await?))
}

/// Echoes the trace context this request arrived with, for debugging tracing setups.
#[utoipa::path(get, path = "/api/v1/diag/trace", tag = "observability", security(("bearer" = [])),
    responses((status = 200, body = Success<Object>)))]
async fn trace(_: Authed, headers: HeaderMap) -> Ok<Value> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    ok(json!({
        "timestamp": now_iso(),
        "node_env": "production",
        "received": {
            "traceparent": header("traceparent"),
            "tracestate": header("tracestate"),
            "baggage": header("baggage"),
            "correlation_id": header("x-correlation-id"),
        },
        "active": null,
        "response_headers": null,
    }))
}
