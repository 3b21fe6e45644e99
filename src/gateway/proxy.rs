//! The proxy itself: authenticate, find the upstream, forward the request or bridge the
//! WebSocket, and clean up the answer so the UI can be framed.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{Message as AxumMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::services::{self, Service};
use crate::auth::browser;
use crate::auth::principal::authenticate;
use crate::auth::InfraOnly;
use crate::egress::{Outbound, Policy};
use crate::error::{ApiError, ErrorCode};
use crate::settings::tree;
use crate::state::AppState;

/// Where a browser keeps its gateway token, so the framed UI's own requests (scripts, styles,
/// XHR) are authenticated without carrying it in every URL.
const COOKIE: &str = "botmox_gateway";
const TOKEN_PARAMS: [&str; 3] = ["access_token", "token", "auth"];
/// Request headers that describe the hop to us, not the request.
const HOP: [&str; 8] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];
/// Response headers dropped so the UI can be framed and re-encoded.
const STRIPPED: [&str; 6] = [
    "x-frame-options",
    "content-security-policy",
    "content-security-policy-report-only",
    "content-length",
    "transfer-encoding",
    "connection",
];

pub fn router() -> Router<AppState> {
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
}

async fn proxy(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Some((service, prefix)) = services::by_path(&path) else {
        return ApiError::new(ErrorCode::NotFound).into_response();
    };
    let Some((token, from_query)) = token_of(&parts) else {
        return ApiError::new(ErrorCode::GatewayUnauthorized).into_response();
    };
    let me = match authenticate::<InfraOnly>(&state, &token).await {
        Ok(me) => me,
        Err(e) => return e.into_response(),
    };
    let tenant = me.tenant_id.clone();
    let settings = match state
        .db
        .read(move |conn| tree::load(conn, &tenant).map_err(ApiError::from))
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
    let query = forwarded_query(parts.uri.query());
    let separator = if mapped.contains('?') { '&' } else { '?' };
    let target = match query {
        Some(q) => format!("{origin}{mapped}{separator}{q}"),
        None => format!("{origin}{mapped}"),
    };
    let insecure = settings
        .pointer("/vmgenerator/services/insecureTls")
        .and_then(|v| v.as_bool())
        == Some(true);
    let mut response = if is_upgrade(&parts.headers) {
        match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => bridge(service, upgrade, &target, &parts.headers).await,
            Err(rejection) => rejection.into_response(),
        }
    } else {
        let http = client(&state.egress, insecure);
        forward(service, prefix, &origin, &target, parts, body, http).await
    };
    if from_query {
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The bearer header, a token query parameter, our cookie, or `access_token` in the Referer
/// (a framed page's sub-requests); `true` when it came from the query.
fn token_of(parts: &Parts) -> Option<(String, bool)> {
    if let Some(bearer) = crate::auth::principal::bearer_token(parts) {
        return Some((bearer.to_owned(), false));
    }
    // The web UI's frames: it holds no token to put in their URL, only its session cookie.
    if let Some(session) = browser::session_cookie(&parts.headers) {
        return Some((session.to_owned(), false));
    }
    let from_query = |query: &str| {
        url_pairs(query)
            .find(|(k, v)| TOKEN_PARAMS.contains(&k.as_str()) && !v.is_empty())
            .map(|(_, v)| v)
    };
    if let Some(token) = parts.uri.query().and_then(from_query) {
        return Some((token, true));
    }
    let cookies = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let from_cookie = cookies.flat_map(|c| c.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    });
    if let Some(token) = from_cookie {
        return Some((token, false));
    }
    let referer = parts.headers.get(header::REFERER)?.to_str().ok()?;
    let token = from_query(referer.split_once('?')?.1)?;
    Some((token, false))
}

fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

/// The query without our token parameters; `None` when nothing is left.
fn forwarded_query(query: Option<&str>) -> Option<String> {
    let kept: Vec<(String, String)> = url_pairs(query?)
        .filter(|(k, _)| !TOKEN_PARAMS.contains(&k.as_str()))
        .collect();
    (!kept.is_empty()).then(|| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish()
    })
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Request headers worth sending upstream: not hop-by-hop, not our credentials.
fn upstream_headers(headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let lower = name.as_str();
        if HOP.contains(&lower) || lower == "authorization" || lower == "origin" || lower.starts_with("sec-websocket") {
            continue;
        }
        if name == header::COOKIE {
            let kept: Vec<&str> = value
                .to_str()
                .unwrap_or_default()
                .split(';')
                .map(str::trim)
                .filter(|c| {
                    !c.starts_with(&format!("{COOKIE}="))
                        && !c.starts_with(&format!("{}=", browser::COOKIE_NAME))
                        && !c.is_empty()
                })
                .collect();
            if let Ok(value) = HeaderValue::from_str(&kept.join("; ")) {
                if !kept.is_empty() {
                    out.push((name.clone(), value));
                }
            }
            continue;
        }
        out.push((name.clone(), value.clone()));
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
        let builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .danger_accept_invalid_certs(insecure);
        Outbound::new(egress, builder)
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
            if STRIPPED.contains(&name.as_str()) {
                continue;
            }
            let value = if name == header::LOCATION {
                rewrite_location(value, origin, service, prefix)
            } else {
                value.clone()
            };
            headers.append(name.clone(), value);
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

async fn bridge(service: &Service, upgrade: WebSocketUpgrade, target: &str, headers: &HeaderMap) -> Response {
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
    let connect = tokio_tungstenite::connect_async(request);
    let upstream = match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok((upstream, _))) => upstream,
        Ok(Err(e)) => {
            return raw(
                StatusCode::BAD_GATEWAY,
                &format!("{} WebSocket unreachable: {e}", service.name),
            )
        }
        Err(_) => {
            return raw(
                StatusCode::BAD_GATEWAY,
                &format!("{} WebSocket: no answer within 10 s", service.name),
            )
        }
    };
    upgrade.on_upgrade(move |socket| pump(socket, upstream))
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
