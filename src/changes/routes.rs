//! `GET /api/v1/events/stream`: the change feed as server-sent events.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use botmox_contract::envelope::Failure;
use futures_util::{Stream, StreamExt};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Since;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::Query;
use crate::state::AppState;

/// A comment line this often keeps proxies from closing a quiet stream.
const HEARTBEAT: Duration = Duration::from_secs(15);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream))
}

/// The caller's tenant's changes as they commit: `change` events `{seq, domain, id, op}`
/// (`id:` is `seq`), `reset` when the resume point is gone (reload, then follow on), and a
/// `heartbeat` comment every 15 s. `Last-Event-ID` (or `last_event_id`) resumes after an event.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", security(("bearer" = [])),
    params(("last_event_id" = Option<u64>, Query, description = "resume after this event (the Last-Event-ID header does the same)")),
    responses((status = 200, description = "text/event-stream of `change` and `reset` events", content_type = "text/event-stream"),
        (status = 400, body = Failure)))]
async fn stream(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let resume = params.get("last_event_id").map(|v| v.trim().to_owned()).or_else(|| {
        headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    });
    let cursor = match resume.filter(|v| !v.is_empty()) {
        Some(raw) => raw.parse::<u64>().map_err(|_| {
            ApiError::new(ErrorCode::InvalidQueryParams)
                .with_message("last_event_id must be the id of an event this stream sent (a whole number)")
        })?,
        None => state.changes.latest(),
    };
    let tenant = me.tenant_id;
    let start = futures_util::stream::once(async { Ok(SseEvent::default().comment("connected")) });
    let live = futures_util::stream::unfold(
        (state, tenant, cursor, VecDeque::new()),
        |(state, tenant, mut cursor, mut pending)| async move {
            let mut shutdown = state.shutdown.clone();
            loop {
                if *shutdown.borrow() {
                    return None;
                }
                if let Some(event) = pending.pop_front() {
                    return Some((Ok(event), (state, tenant, cursor, pending)));
                }
                // Registered before the read, so a change published in between still wakes us.
                let woken = state.changes.wake.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                match state.changes.since(&tenant, cursor) {
                    Since::Changes(changes, latest) => {
                        cursor = latest;
                        pending.extend(changes.into_iter().map(|c| {
                            SseEvent::default()
                                .id(c.seq.to_string())
                                .event("change")
                                .data(serde_json::to_string(&c).expect("a change serialises"))
                        }));
                    }
                    Since::Reset { latest } => {
                        cursor = latest;
                        pending.push_back(
                            SseEvent::default()
                                .id(latest.to_string())
                                .event("reset")
                                .data(format!("{{\"seq\":{latest}}}")),
                        );
                    }
                }
                if pending.is_empty() {
                    tokio::select! {
                        _ = shutdown.changed() => {}
                        _ = woken => {}
                    }
                }
            }
        },
    );
    Ok(Sse::new(start.chain(live)).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}
