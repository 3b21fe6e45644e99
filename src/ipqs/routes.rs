//! `/api/v1/ipqs/*`: status, a check, a batch of checks.

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client::is_ipv4;
use super::service::{setup, usable_key};
use super::store;
use crate::auth::{Authed, Principal};
use crate::clock::now_ms;
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

/// Checks of one batch running at once: the provider rate-limits bursts.
const BATCH_CONCURRENCY: usize = 4;
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(check))
        .routes(routes!(check_batch))
}

#[derive(Serialize, ToSchema)]
pub struct IpqsStatus {
    pub enabled: bool,
    /// A key is set (in settings, or `IPQS_API_KEY` on the server).
    pub configured: bool,
    /// Always true: settings live in the server's own database (the name is the reference's).
    #[serde(rename = "supabaseSettingsConnected")]
    pub settings_connected: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct CheckRequest {
    pub ip: String,
}

#[derive(Deserialize, ToSchema)]
pub struct BatchRequest {
    /// 1-10 addresses.
    pub ips: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchItem {
    pub ip: String,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<BatchItem>,
}

/// One check: a fresh cached answer, else the provider's (then cached). The answer gains a
/// `checked_at` (ms) field saying when the provider gave it.
async fn check_one(
    state: &AppState,
    me: &Principal,
    key: &str,
    ip: &str,
    fresh_for_ms: i64,
    refresh: bool,
) -> ApiResult<Value> {
    if !is_ipv4(ip) {
        return Err(ApiError::new(ErrorCode::BadRequest).with_message("Invalid IP address format"));
    }
    if !refresh {
        let (tenant, addr, after) = (me.tenant_id.clone(), ip.to_owned(), now_ms() - fresh_for_ms);
        let cached = state
            .db
            .read(move |conn| store::fresh(conn, &tenant, &addr, after).map_err(ApiError::from))
            .await?;
        if let Some(cached) = cached {
            return Ok(cached);
        }
    }
    let mut answer = state.ipqs.check(key, ip).await?;
    let checked_at = now_ms();
    answer["checked_at"] = checked_at.into();
    let (tenant, addr, stored) = (me.tenant_id.clone(), ip.to_owned(), answer.clone());
    state
        .db
        .write(move |tx| store::remember(tx, &tenant, &addr, &stored, checked_at).map_err(ApiError::from))
        .await?;
    Ok(answer)
}

#[utoipa::path(get, path = "/api/v1/ipqs/status", tag = "ipqs", security(("bearer" = [])),
    responses((status = 200, body = Success<IpqsStatus>)))]
async fn status(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<IpqsStatus>> {
    let setup = setup(&state, &me.tenant_id).await?;
    Ok(ok(IpqsStatus {
        enabled: setup.enabled,
        configured: setup.key.is_some(),
        settings_connected: true,
    }))
}

/// Checks one IPv4 address. Answers within `proxy.check_interval_hours` (default 1 h) come
/// from the cache unless `refresh=true`.
#[utoipa::path(post, path = "/api/v1/ipqs/check", tag = "ipqs", security(("bearer" = [])),
    params(("refresh" = Option<bool>, Query)), request_body = CheckRequest,
    responses((status = 200, description = "The provider's answer, plus checked_at", body = Success<Object>),
        (status = 400, body = Failure), (status = 429, body = Failure), (status = 502, body = Failure),
        (status = 503, body = Failure), (status = 504, body = Failure)))]
async fn check(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Query(params): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Value>> {
    let request: CheckRequest = typed_body(&body, ErrorCode::IpqsInvalidCheckBody)?;
    let ip = request.ip.trim().to_owned();
    if ip.is_empty() {
        return Err(ApiError::new(ErrorCode::IpqsInvalidCheckBody).with_message("ip must not be empty"));
    }
    let setup = setup(&state, &me.tenant_id).await?;
    let key = usable_key(&setup)?;
    let refresh = params.get("refresh").is_some_and(|v| v == "true");
    Ok(ok(check_one(&state, &me, &key, &ip, setup.fresh_for_ms, refresh).await?))
}

/// Checks 1-10 addresses, at most four at a time; each failure is reported in its item.
#[utoipa::path(post, path = "/api/v1/ipqs/check-batch", tag = "ipqs", security(("bearer" = [])),
    request_body = BatchRequest,
    responses((status = 200, body = Success<BatchResult>), (status = 400, body = Failure), (status = 503, body = Failure)))]
async fn check_batch(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Ok<BatchResult>> {
    let request: BatchRequest = typed_body(&body, ErrorCode::IpqsInvalidCheckBatchBody)?;
    if !(1..=10).contains(&request.ips.len()) || request.ips.iter().any(|ip| ip.trim().is_empty()) {
        return Err(
            ApiError::new(ErrorCode::IpqsInvalidCheckBatchBody).with_message("ips must hold 1-10 non-empty addresses")
        );
    }
    let setup = setup(&state, &me.tenant_id).await?;
    let key = usable_key(&setup)?;
    let results = futures_util::stream::iter(request.ips)
        .map(|ip| {
            let (state, me, key) = (&state, &me, &key);
            async move {
                let ip = ip.trim().to_owned();
                match check_one(state, me, key, &ip, setup.fresh_for_ms, false).await {
                    Result::Ok(data) => BatchItem {
                        ip,
                        success: true,
                        data: Some(data),
                        error: None,
                        details: None,
                    },
                    Err(e) => BatchItem {
                        ip,
                        success: false,
                        data: None,
                        error: Some(e.message.into_owned()),
                        details: Some(json!({ "code": e.code.as_str(), "details": e.details })),
                    },
                }
            }
        })
        .buffered(BATCH_CONCURRENCY)
        .collect()
        .await;
    Ok(ok(BatchResult { results }))
}
