//! The hand-off from the app to the gateway origin: the app mints a one-use ticket for one
//! user session and one service (`routes.rs`); the gateway trades it here for a cookie of its
//! own origin and sends the browser on to the service, with the ticket gone from the URL.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{rules, services, store};
use crate::auth::token;
use crate::clock::now_ms;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub const PATH: &str = "/_botmox/handoff";

pub async fn exchange(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    // Only the app (same site, another origin) may start a hand-off. Otherwise anyone could
    // make a victim's browser trade the attacker's own ticket (a link on another site, or a
    // page already on the gateway origin), and the victim would then work in the attacker's
    // service UI, beside their own gateway cookies. Browsers send this header; other clients do
    // not, and hold no victim's cookies.
    let initiator = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if initiator.is_some_and(|site| site != "same-site") {
        return ApiError::new(ErrorCode::Forbidden)
            .with_message("Open the service from the Bot-Mox app: this link only works from there")
            .into_response();
    }
    match grant(&state, query.as_deref()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn grant(state: &AppState, query: Option<&str>) -> Result<Response, ApiError> {
    let ticket = rules::query_param(query, "ticket").ok_or(ErrorCode::GatewayTicketInvalid)?;
    let ticket_hash = token::hash(&ticket);
    let issued = token::issue(rules::GRANT_PREFIX);
    let grant_hash = issued.hash;
    let (service, expires_at, now) = state
        .db
        .write(move |tx| {
            let now = now_ms();
            let taken = store::take_ticket(tx, &ticket_hash, now)?.ok_or(ErrorCode::GatewayTicketInvalid)?;
            let expires_at = rules::grant_expiry(now, taken.session_expires_at);
            store::insert_grant(tx, &grant_hash, &taken.session_id, &taken.service, now, expires_at)?;
            Ok::<_, ApiError>((taken.service, expires_at, now))
        })
        .await?;
    let service = services::by_key(&service).ok_or(ErrorCode::GatewayTicketInvalid)?;
    let cookie = rules::set_cookie(
        &rules::cookie_name(service.key),
        &issued.plaintext,
        (expires_at - now) / 1000,
        state.gateway.secure(),
    );
    let location = format!("{}/", service.prefixes[0]);
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                header::LOCATION,
                HeaderValue::from_str(&location).map_err(|_| ErrorCode::Internal)?,
            ),
            (
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(|_| ErrorCode::Internal)?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}
