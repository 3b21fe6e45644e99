//! `POST /api/v1/gateway/tickets`: the app's side of the hand-off (`handoff.rs`).

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{handoff, rules, services, store};
use crate::auth::{token, Authed, InfraOnly};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::Json;
use crate::http::respond::{created, Created};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(mint_ticket))
}

#[derive(Deserialize, ToSchema)]
pub struct TicketRequest {
    /// `proxmox`, `tinyfm` or `syncthing`.
    pub service: String,
}

#[derive(Serialize, ToSchema)]
pub struct Ticket {
    /// Open this URL (frame it or navigate to it) within `expires_at_ms`: it works once.
    pub url: String,
    pub service: String,
    pub expires_at_ms: i64,
}

/// A one-use link that signs this session into one service UI on the gateway origin.
#[utoipa::path(post, path = "/api/v1/gateway/tickets", tag = "gateway", security(("bearer" = [])),
    request_body = TicketRequest,
    responses((status = 201, body = Success<Ticket>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn mint_ticket(
    State(state): State<AppState>,
    Authed(me, ..): Authed<InfraOnly>,
    Json(body): Json<TicketRequest>,
) -> ApiResult<Created<Ticket>> {
    let service = services::by_key(body.service.trim()).ok_or(ErrorCode::UnknownGatewayService)?;
    let issued = token::issue(rules::TICKET_PREFIX);
    let (hash, key) = (issued.hash, service.key);
    let expires_at = state
        .db
        .write(move |tx| {
            let now = now_ms();
            let expires_at = now + rules::TICKET_TTL_MS;
            store::insert_ticket(tx, &hash, &me.session_id, key, now, expires_at)?;
            Ok::<_, ApiError>(expires_at)
        })
        .await?;
    let url = format!(
        "{}{}?ticket={}",
        state.gateway.public_url,
        handoff::PATH,
        issued.plaintext
    );
    Ok(created(Ticket {
        url,
        service: key.to_owned(),
        expires_at_ms: expires_at,
    }))
}
