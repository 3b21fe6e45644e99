//! The HTTP surface: the router and the middleware every request passes (the response shapes
//! handlers return are in `respond.rs`).

use std::any::Any;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub mod client_ip;
pub mod docs;
pub(crate) mod etag;
pub mod extract;
pub mod paging;
pub mod respond;
pub mod serve;
mod web;

/// The whole application: API routes, docs, metrics, the embedded UI, and middleware; and its
/// OpenAPI document, which the caller writes when it suits (`Document::write`).
pub fn router(state: AppState) -> (Router, docs::Document) {
    let (api, openapi) = api_routers()
        .into_iter()
        .fold(
            OpenApiRouter::with_openapi(docs::ApiDoc::openapi()),
            OpenApiRouter::merge,
        )
        .split_for_parts();
    let document = docs::Document::new(openapi);
    let max_body = state.config.max_body_bytes;

    let app = api
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(document.clone()))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(envelope_rejections))
        .layer(middleware::from_fn(etag::conditional_get))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                // Path only: query strings can carry tokens (the setup URL does).
                .make_span_with(
                    |req: &Request| tracing::debug_span!("http", method = %req.method(), path = %req.uri().path()),
                )
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(correlation))
        .with_state(state);
    (app, document)
}

/// Every module's routes with their OpenAPI parts, in one list so the document's checks see
/// each module separately.
fn api_routers() -> Vec<OpenApiRouter<AppState>> {
    vec![
        crate::health::routes::router(),
        crate::auth::routes::router(),
        crate::auth::admin::router(),
        crate::bots::routes::router(),
        crate::changes::routes::router(),
        crate::settings::routes::router(),
        crate::resources::routes::router(),
        crate::workspace::routes::router(),
        crate::finance::routes::router(),
        crate::theme_assets::routes::router(),
        crate::names::routes::router(),
        crate::audit::routes::router(),
        crate::observability::routes::router(),
        crate::ipqs::routes::router(),
        crate::agents::routes::router(),
        crate::agents::ws::router(),
        crate::vmops::routes::router(),
        crate::vm_registry::routes::router(),
        crate::infra::routes::router(),
        crate::ops::routes::router(),
        crate::notifications::routes::router(),
        crate::provisioning::routes::router(),
        crate::playbooks::routes::router(),
        crate::secrets::routes::router(),
        crate::leases::routes::router(),
        crate::leases::admin::router(),
        crate::artifacts::routes::router(),
        crate::gateway::routes::router(),
        docs::router(),
    ]
}

const CORRELATION_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("x-trace-id"),
    HeaderName::from_static("x-correlation-id"),
    HeaderName::from_static("x-request-id"),
];

/// Keeps each correlation header the client sent (non-blank, at most 200 visible ASCII
/// characters), generates a UUID for each it did not, and echoes all three. Handlers see the
/// values the answer will carry.
async fn correlation(mut req: Request, next: Next) -> Response {
    let values: Vec<HeaderValue> = CORRELATION_HEADERS
        .iter()
        .map(|name| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 200)
                .and_then(|v| HeaderValue::from_str(v).ok())
                .unwrap_or_else(|| {
                    // From the thread's generator, not one system call per id.
                    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
                    HeaderValue::from_str(&id.to_string()).expect("a UUID is a valid header")
                })
        })
        .collect();
    for (name, value) in CORRELATION_HEADERS.iter().zip(&values) {
        req.headers_mut().insert(name.clone(), value.clone());
    }
    let mut response = next.run(req).await;
    for (name, value) in CORRELATION_HEADERS.into_iter().zip(values) {
        response.headers_mut().insert(name, value);
    }
    response
}

/// Request count and latency by matched route.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let response = next.run(req).await;
    let route = route.as_deref().unwrap_or("fallback");
    state
        .metrics
        .observe_request(method.as_str(), route, response.status().as_u16(), started.elapsed());
    response
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Under `/api`, an error answer that is not JSON yet (a rejection from inside axum, such as
/// a refused WebSocket upgrade) is rewritten into the envelope: every API answer has one shape.
async fn envelope_rejections(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let response = next.run(req).await;
    let status = response.status();
    if !api || !(status.is_client_error() || status.is_server_error()) || extract::is_json(response.headers()) {
        return response;
    }
    let code = match status {
        StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UPGRADE_REQUIRED => ErrorCode::UpgradeRequired,
        StatusCode::INTERNAL_SERVER_ERROR => ErrorCode::Internal,
        _ => return response,
    };
    let (mut parts, body) = response.into_parts();
    // Rejection texts are one short line; a longer body is not one of them.
    let text = axum::body::to_bytes(body, 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let mut error = ApiError::new(code);
    if !text.is_empty() && code != ErrorCode::Internal {
        error = error.with_message(text);
    }
    let mut answer = error.into_response();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    answer.headers_mut().extend(parts.headers);
    answer
}

/// Unknown `/api` paths and the service-UI prefixes answer in the envelope; everything else
/// is the web UI.
async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if is_api(path) {
        return ApiError::new(ErrorCode::NotFound)
            .with_message(format!("Cannot {method} {path}"))
            .into_response();
    }
    if crate::gateway::serves(path) {
        return ApiError::new(ErrorCode::NotFound)
            .with_message("Service UIs are served on the gateway origin only: open them from the Bot-Mox app")
            .into_response();
    }
    if method == Method::GET || method == Method::HEAD {
        return web::serve(path, &state.gateway.public_url);
    }
    ApiError::new(ErrorCode::NotFound)
        .with_message(format!("Cannot {method} {path}"))
        .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed).with_message(format!("{method} is not allowed on {}", uri.path()))
}

/// A panic in a handler becomes a 500 envelope and an error log line; the process lives on.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "request handler panicked");
    let mut response = ApiError::new(ErrorCode::Internal).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body};
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_500_envelope() {
        async fn boom() -> &'static str {
            panic!("handler bug")
        }
        let app: Router = Router::new()
            .route("/boom", get(boom))
            .layer(CatchPanicLayer::custom(panic_response));
        let response = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value =
            serde_json::from_slice(&to_bytes(response.into_body(), 1 << 16).await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "INTERNAL_ERROR");
        assert_eq!(body["error"]["message"], "Internal server error");
        // The service keeps answering.
        let again = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
