//! The proxy itself, on the gateway origin: authenticate the gateway cookie, find the
//! upstream, forward the request or bridge the WebSocket, and answer with our framing policy.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{Message as AxumMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::services::{self, Service};
use super::{handoff, rules, store};
use crate::access::{self, Action, Grant};
use crate::auth::token;
use crate::clock::now_ms;
use crate::egress::{Outbound, Policy};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Request headers that describe the hop to us, or carry something of ours (credentials,
/// the page the browser came from), not the request.
const NOT_FORWARDED: [&str; 11] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "authorization",
    "origin",
    "referer",
];
/// Response headers dropped: the body is re-encoded, and no upstream widens a service worker's
/// scope. (Framing and Referer headers are replaced for every answer by [`framing`].)
const STRIPPED: [&str; 4] = [
    "service-worker-allowed",
    "content-length",
    "transfer-encoding",
    "connection",
];

/// The gateway origin's whole router: the hand-off and the service prefixes, nothing else.
pub fn router(state: AppState) -> Router {
    services::SERVICES
        .iter()
        .flat_map(|s| s.prefixes.iter())
        .fold(Router::new(), |router, prefix| {
            // `{*rest}` needs at least one character, so the bare `prefix/` is its own route.
            router
                .route(prefix, any(proxy))
                .route(&format!("{prefix}/"), any(proxy))
                .route(&format!("{prefix}/{{*rest}}"), any(proxy))
        })
        .route(handoff::PATH, get(handoff::exchange))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), framing))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

/// Every gateway answer: framed by the app only, and no Referer to anyone.
async fn framing(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for name in ["x-frame-options", "referrer-policy"] {
        headers.remove(name);
    }
    if let Ok(policy) = HeaderValue::from_str(&rules::frame_policy(&state.gateway.app_origin)) {
        headers.append(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn proxy(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Some((service, prefix)) = services::by_path(&path) else {
        return ApiError::new(ErrorCode::NotFound).into_response();
    };
    // A service worker would outlive the page on the whole gateway origin and see every later
    // request there, hand-off links included: no upstream may install one.
    if parts.headers.contains_key("service-worker") {
        return ApiError::new(ErrorCode::Forbidden)
            .with_message("Service workers are not allowed on the gateway")
            .into_response();
    }
    let holder = match holder_of(&state, service, &parts.headers).await {
        Ok(holder) => holder,
        Err(e) => return e.into_response(),
    };
    let tenant = holder.tenant_id;
    let settings = match state
        .db
        .read(move |conn| crate::settings::store::load(conn, &tenant).map_err(ApiError::from))
        .await
    {
        Ok(settings) => settings,
        Err(e) => return e.into_response(),
    };
    let Some(base) = service.upstream(&settings) else {
        return unavailable(
            service,
            "its address is not configured",
            "Set it in Settings (VM generator → services).",
        );
    };
    let Ok(base_url) = reqwest::Url::parse(&base) else {
        return unavailable(
            service,
            &format!("{base} is not a valid URL"),
            "Correct it in Settings.",
        );
    };
    let origin = base_url.origin().ascii_serialization();
    let base_path = match (base_url.path(), base_url.query()) {
        ("/", None) => String::new(),
        (p, None) => p.to_owned(),
        (p, Some(q)) => format!("{p}?{q}"),
    };
    let mapped = service.map_path(prefix, &path, &base_path);
    let query = rules::forwarded_query(parts.uri.query());
    let separator = if mapped.contains('?') { '&' } else { '?' };
    let target = match query {
        Some(q) => format!("{origin}{mapped}{separator}{q}"),
        None => format!("{origin}{mapped}"),
    };
    let insecure = settings
        .pointer("/vmgenerator/services/insecureTls")
        .and_then(|v| v.as_bool())
        == Some(true);
    if is_upgrade(&parts.headers) {
        match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => bridge(&state.egress, service, upgrade, (&origin, &target), &parts.headers).await,
            Err(rejection) => rejection.into_response(),
        }
    } else {
        forward(
            service,
            prefix,
            &origin,
            &target,
            parts,
            body,
            client(&state.egress, insecure),
        )
        .await
    }
}

/// The infra user behind this service's gateway cookie. Only the cookie counts: a session
/// token, in whatever header or parameter, opens nothing here.
async fn holder_of(state: &AppState, service: &Service, headers: &HeaderMap) -> Result<store::GrantHolder, ApiError> {
    let name = rules::cookie_name(service.key);
    let hashes: Vec<Vec<u8>> = rules::cookie_values(headers, &name).map(token::hash).collect();
    let key = service.key;
    let holder = state
        .db
        .read(move |conn| {
            let now = now_ms();
            for hash in &hashes {
                if let Some(holder) = store::grant_holder(conn, hash, key, now)? {
                    return Ok(Some(holder));
                }
            }
            Ok::<_, ApiError>(None)
        })
        .await?
        .ok_or(ErrorCode::GatewayUnauthorized)?;
    if access::grant(&holder.roles, Action::Infra) != Grant::All {
        return Err(access::refusal(Action::Infra));
    }
    Ok(holder)
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Request headers worth sending upstream: not hop-by-hop, nothing of ours.
fn upstream_headers(headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    let mut out: Vec<(HeaderName, HeaderValue)> = headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !NOT_FORWARDED.contains(&name) && name != "cookie" && !name.starts_with("sec-websocket")
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    if let Some(cookie) = rules::upstream_cookie(headers) {
        out.push((header::COOKIE, cookie));
    }
    out
}

/// The egress policy is fixed for the process's life, so one client of each kind serves all.
/// It never follows redirects: they go back to the browser (rewritten), as a reverse proxy's should.
fn client(egress: &Arc<Policy>, insecure: bool) -> &'static Outbound {
    static VERIFYING: OnceLock<Outbound> = OnceLock::new();
    static INSECURE: OnceLock<Outbound> = OnceLock::new();
    let slot = if insecure { &INSECURE } else { &VERIFYING };
    slot.get_or_init(|| {
        Outbound::new(egress, move || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .danger_accept_invalid_certs(insecure)
        })
    })
}

async fn forward(
    service: &Service,
    prefix: &str,
    origin: &str,
    target: &str,
    parts: Parts,
    body: Body,
    http: &Outbound,
) -> Response {
    let mut request = http.request(parts.method.clone(), target);
    for (name, value) in upstream_headers(&parts.headers) {
        request = request.header(name, value);
    }
    let request = request.body(reqwest::Body::wrap_stream(body.into_data_stream()));
    // One text whatever the cause (refused by the egress policy, refused, timed out), so the
    // page does not map the network; the cause is in the server log.
    let upstream = match http.send(request).await {
        Ok(upstream) => upstream,
        Err(_) => {
            let problem = format!("the server could not reach {origin}");
            return unavailable(service, &problem, &reachability_hint(service));
        }
    };
    let mut response = Response::builder().status(upstream.status());
    if let Some(headers) = response.headers_mut() {
        for (name, value) in upstream.headers() {
            let value = match name {
                _ if STRIPPED.contains(&name.as_str()) => None,
                &header::LOCATION => Some(rewrite_location(value, origin, service, prefix)),
                &header::SET_COOKIE => (!rules::is_our_set_cookie(value)).then(|| value.clone()),
                &header::CONTENT_SECURITY_POLICY | &header::CONTENT_SECURITY_POLICY_REPORT_ONLY => {
                    rules::without_frame_ancestors(value)
                }
                _ => Some(value.clone()),
            };
            if let Some(value) = value {
                headers.append(name.clone(), value);
            }
        }
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// A redirect to the upstream's origin, or to one of its root paths, stays under our prefix.
fn rewrite_location(value: &HeaderValue, origin: &str, service: &Service, prefix: &str) -> HeaderValue {
    let Ok(text) = value.to_str() else { return value.clone() };
    let own = service.prefixes[0];
    let path = match text.strip_prefix(origin) {
        Some(rest) => rest,
        None if text.starts_with('/') && !text.starts_with("//") => text,
        None => return value.clone(),
    };
    let path = if path.is_empty() { "/" } else { path };
    // Paths under the service's other prefixes (/pve2, /novnc …) are served at the root as is.
    let other_prefix = prefix != own || service.prefixes[1..].iter().any(|p| path.starts_with(p));
    let rewritten = if other_prefix {
        path.to_owned()
    } else {
        format!("{own}{path}")
    };
    HeaderValue::from_str(&rewritten).unwrap_or_else(|_| value.clone())
}

/// Connects to the upstream's WebSocket through the egress policy and pumps frames both ways.
/// `(origin, target)`: the upstream's origin (for the error page) and the full URL.
async fn bridge(
    egress: &Policy,
    service: &Service,
    upgrade: WebSocketUpgrade,
    (origin, target): (&str, &str),
    headers: &HeaderMap,
) -> Response {
    let ws_target = target.replacen("http", "ws", 1);
    let mut request = match ws_target.as_str().into_client_request() {
        Ok(request) => request,
        Err(e) => return raw(StatusCode::BAD_GATEWAY, &format!("{} WebSocket: {e}", service.name)),
    };
    for (name, value) in upstream_headers(headers) {
        if name != header::HOST {
            request.headers_mut().insert(name, value);
        }
    }
    if let Some(protocols) = headers.get(header::SEC_WEBSOCKET_PROTOCOL) {
        request
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, protocols.clone());
    }
    let connect = async {
        let uri = request.uri();
        let host = uri.host().ok_or("a URL without a host")?.to_owned();
        let tls = uri.scheme_str() == Some("wss");
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let stream = egress.connect(&host, port).await?;
        let (upstream, _) = tokio_tungstenite::client_async_tls_with_config(request, stream, None, None).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(upstream)
    };
    let failure = match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok(upstream)) => return upgrade.on_upgrade(move |socket| pump(socket, upstream)),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 10 s".to_owned(),
    };
    // The same page as a plain request that cannot reach the upstream; the cause is logged.
    tracing::warn!(service = service.key, error = %failure, "gateway WebSocket upstream unreachable");
    let problem = format!("the server could not reach {origin}");
    unavailable(service, &problem, &reachability_hint(service))
}

type Upstream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Copies frames both ways until either side closes.
async fn pump(client: WebSocket, upstream: Upstream) {
    let (mut to_client, mut from_client) = client.split();
    let (mut to_upstream, mut from_upstream) = upstream.split();
    let up = async {
        while let Some(Ok(message)) = from_client.next().await {
            let message = match message {
                AxumMessage::Text(t) => WsMessage::Text(t.as_str().into()),
                AxumMessage::Binary(b) => WsMessage::Binary(b),
                AxumMessage::Ping(p) => WsMessage::Ping(p),
                AxumMessage::Pong(p) => WsMessage::Pong(p),
                AxumMessage::Close(_) => break,
            };
            if to_upstream.send(message).await.is_err() {
                break;
            }
        }
        let _ = to_upstream.close().await;
    };
    let down = async {
        while let Some(Ok(message)) = from_upstream.next().await {
            let message = match message {
                WsMessage::Text(t) => AxumMessage::Text(t.as_str().into()),
                WsMessage::Binary(b) => AxumMessage::Binary(b),
                WsMessage::Ping(p) => AxumMessage::Ping(p),
                WsMessage::Pong(p) => AxumMessage::Pong(p),
                WsMessage::Close(_) => break,
                WsMessage::Frame(_) => continue,
            };
            if to_client.send(message).await.is_err() {
                break;
            }
        }
        let _ = to_client.close().await;
    };
    tokio::select! {
        _ = up => {},
        _ = down => {},
    }
}

fn raw(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONNECTION, "close")], message.to_owned()).into_response()
}

fn reachability_hint(service: &Service) -> String {
    format!(
        "The gateway connects from the Bot-Mox server itself. If {} is only reachable inside the network of one of \
         your agents, open it from a machine in that network, or make it reachable from the server (VPN or port \
         forward) and set that address in Settings.",
        service.name
    )
}

/// The 502 page: what failed and what to do.
fn unavailable(service: &Service, problem: &str, hint: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{name} Unavailable</title></head><body>\
         <h1>{name} Unavailable</h1><p>{name} cannot be opened: {problem}.</p><p>{hint}</p></body></html>",
        name = service.name,
        problem = escape(problem),
        hint = escape(hint),
    );
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}
