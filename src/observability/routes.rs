//! `POST/GET /api/v1/client-logs` and `GET /api/v1/diag/trace`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client_logs::{self, ClientEvent, Level};
use super::store::{self, StoredEvent};
use crate::auth::{AdminOnly, Authed};
use crate::clock::now_iso;
use crate::documents::crud::typed;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Query};
use crate::http::paging::cursor;
use crate::http::respond::{ok, Ok};
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
        .write(move |tx| store::insert(tx, &me.tenant_id, &me.user_id, &events).map_err(ApiError::from))
        .await?;
    Ok(ok(Ingested {
        accepted,
        dropped: total - accepted,
    }))
}

/// The tenant's stored browser events, newest first (admin): `before`, `limit` (1-200).
#[utoipa::path(get, path = "/api/v1/client-logs", tag = "observability", security(("bearer" = [])),
    params(crate::http::paging::CursorQuery),
    responses((status = 200, body = Success<Vec<StoredEvent>>), (status = 403, body = Failure)))]
async fn list(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<Vec<StoredEvent>>> {
    let (before, limit) = cursor(&params)?;
    Ok(ok(state
        .db
        .read(move |conn| store::page(conn, &me.tenant_id, before, limit).map_err(ApiError::from))
        .await?))
}

/// What `GET /diag/trace` answers (api-domains.md §4.2).
#[derive(Serialize, ToSchema)]
pub struct TraceSnapshot {
    timestamp: String,
    node_env: String,
    received: ReceivedTrace,
    active: ActiveSpan,
    response_headers: TraceHeaders,
}

/// The trace headers of the request, trimmed; `null` when absent or blank.
#[derive(Serialize, ToSchema)]
pub struct ReceivedTrace {
    traceparent: Option<String>,
    tracestate: Option<String>,
    baggage: Option<String>,
    /// The `x-correlation-id` the answer carries: the client's, or one generated for it.
    correlation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActiveSpan {
    /// The trace id of a valid W3C `traceparent`, else the request's `x-trace-id`.
    trace_id: String,
    /// 16 hex digits, fresh for this request.
    span_id: String,
}

/// The correlation headers this answer carries.
#[derive(Serialize, ToSchema)]
pub struct TraceHeaders {
    x_trace_id: String,
    x_span_id: String,
    x_correlation_id: String,
}

/// Echoes the trace context this request arrived with, for debugging tracing setups.
#[utoipa::path(get, path = "/api/v1/diag/trace", tag = "observability", security(("bearer" = [])),
    responses((status = 200, body = Success<TraceSnapshot>, headers(("x-span-id" = String, description = "the span id of `active`")))))]
async fn trace(_: Authed, headers: HeaderMap) -> ([(&'static str, String); 1], Ok<TraceSnapshot>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let received = ReceivedTrace {
        traceparent: header("traceparent"),
        tracestate: header("tracestate"),
        baggage: header("baggage"),
        correlation_id: header("x-correlation-id"),
    };
    // The correlation middleware has filled both before the handler runs.
    let x_trace_id = header("x-trace-id").unwrap_or_default();
    let x_correlation_id = received.correlation_id.clone().unwrap_or_default();
    let trace_id = received
        .traceparent
        .as_deref()
        .and_then(traceparent_trace_id)
        .unwrap_or(&x_trace_id)
        .to_owned();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let snapshot = TraceSnapshot {
        timestamp: now_iso(),
        node_env: "production".to_owned(),
        received,
        active: ActiveSpan {
            trace_id,
            span_id: span_id.clone(),
        },
        response_headers: TraceHeaders {
            x_trace_id,
            x_span_id: span_id.clone(),
            x_correlation_id,
        },
    };
    ([("x-span-id", span_id)], ok(snapshot))
}

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), unless all zero.
fn traceparent_trace_id(value: &str) -> Option<&str> {
    let parts: Vec<&str> = value.split('-').collect();
    let hex =
        |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match parts.as_slice() {
        [version, trace, span, flags]
            if hex(version, 2)
                && *version != "ff"
                && hex(trace, 32)
                && hex(span, 16)
                && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0') =>
        {
            Some(trace)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::traceparent_trace_id;

    #[test]
    fn only_a_well_formed_traceparent_gives_its_trace_id() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(traceparent_trace_id(&format!("00-{id}-00f067aa0ba902b7-01")), Some(id));
        for bad in [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "not a traceparent",
        ] {
            assert_eq!(traceparent_trace_id(bad), None, "{bad}");
        }
    }
}
