//! `/api/v1/health*` (public) and `/metrics`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use botmox_contract::envelope::Success;
use botmox_contract::health::{HealthSummary, Liveness, Readiness, ReadinessCheck};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_iso;
use crate::error::ApiError;
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

const SERVICE: &str = "botmox";
/// A check slower than this counts as failed: a probe must answer while the disk hangs.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, body = Success<HealthSummary>)))]
async fn summary(State(state): State<AppState>) -> Ok<HealthSummary> {
    ok(HealthSummary {
        service: SERVICE.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        timestamp: now_iso(),
        data_backend: state.config.data_backend().to_owned(),
        object_store: state.objects.backend().to_owned(),
        uptime_seconds: state.started.elapsed().as_secs(),
        bot_offline_after_ms: crate::bots::rules::BOT_STALE_MS,
    })
}

#[utoipa::path(get, path = "/api/v1/health/live", tag = "health",
    responses((status = 200, body = Success<Liveness>)))]
async fn live() -> Ok<Liveness> {
    ok(Liveness {
        service: SERVICE.to_owned(),
        status: "live".to_owned(),
        timestamp: now_iso(),
    })
}

/// Ready when the database answers a query, the object store takes a write, a read and a
/// delete (at most once a second; in between, its directory must still be there), and the
/// data directory's file system is not full. Not ready is a 503 that still
/// carries the success envelope, naming the failed check.
#[utoipa::path(get, path = "/api/v1/health/ready", tag = "health",
    responses((status = 200, body = Success<Readiness>), (status = 503, description = "Not ready", body = Success<Readiness>)))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Ok<Readiness>) {
    let database = async {
        state
            .db
            .read(|conn| crate::db::ping(conn).map_err(ApiError::from))
            .await
            .map_err(|e| e.message.into_owned())
    };
    let objects = async { state.objects.probe().await.map_err(|e| e.to_string()) };
    let data_dir = state.config.data_dir.clone();
    let storage = async {
        tokio::task::spawn_blocking(move || super::storage::check(&data_dir))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    };
    let (database, objects, storage) =
        tokio::join!(with_timeout(database), with_timeout(objects), with_timeout(storage));
    let checks: BTreeMap<String, ReadinessCheck> =
        [("database", database), ("object_store", objects), ("storage", storage)]
            .into_iter()
            .map(|(name, result)| {
                let check = ReadinessCheck {
                    required: true,
                    ready: result.is_ok(),
                    reason: result.err(),
                };
                (name.to_owned(), check)
            })
            .collect();
    let is_ready = checks.values().all(|c| c.ready || !c.required);
    let status = if is_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status: if is_ready { "ready" } else { "not-ready" }.to_owned(),
        ready: is_ready,
        checks,
        timestamp: now_iso(),
    };
    (status, ok(body))
}

async fn with_timeout(check: impl std::future::Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())))
}

/// Prometheus text exposition: requests by route and status, latency, database timings.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}
