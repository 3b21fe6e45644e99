//! `GET /api/v1/agents/ws`: the agent's one long-lived connection (§1.7).
//!
//! Besides answering the reference's messages (each with one reply, correlated by
//! `request_id`), the server pushes: when a command is dispatched to a connected agent, the
//! socket claims it and sends `agent.command.assigned` at once. The agent row is re-checked
//! before every message, so a revoked agent's socket closes on its next frame.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::principal::{AgentPrincipal, Caller};
use super::routes::beat;
use super::store;
use crate::auth::token;
use crate::clock::now_iso;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::vmops::routes::{apply_update, claim_within, CommandUpdate};

/// Frames an idle socket buffers at most; enough for replies, small for 10k connections.
const OUTBOX: usize = 32;
const WS_BUFFER: usize = 16 * 1024;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(upgrade))
}

/// The agent's WebSocket. Authenticates (bearer header or `token` query) before upgrading;
/// frames are JSON objects with a `type` (`heartbeat`, `next_command`, `agent.command.ack`,
/// `agent.command.progress`, `agent.command.result`); the server also pushes
/// `agent.command.assigned` when a command is dispatched.
#[utoipa::path(get, path = "/api/v1/agents/ws", tag = "agents",
    params(("agent_id" = Option<String>, Query), ("token" = Option<String>, Query)),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = botmox_contract::envelope::Failure)))]
async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim_start_matches("Bearer ")
                .trim_start_matches("bearer ")
                .trim()
                .to_owned()
        })
        .or_else(|| params.get("token").cloned())
        .ok_or(ErrorCode::MissingBearerToken)?;
    let agent = resolve(&state, &bearer).await?.ok_or(ErrorCode::InvalidBearerToken)?;
    if params.get("agent_id").is_some_and(|id| id != &agent.agent_id) {
        return Err(ApiError::new(ErrorCode::Forbidden).with_message("The token belongs to another agent"));
    }
    Ok(ws
        .read_buffer_size(WS_BUFFER)
        .write_buffer_size(WS_BUFFER)
        .on_upgrade(move |socket| session(state, agent, bearer, socket)))
}

async fn resolve(state: &AppState, bearer: &str) -> ApiResult<Option<AgentPrincipal>> {
    if !bearer.starts_with(token::AGENT_PREFIX) {
        return Ok(None);
    }
    let hash = token::hash(bearer);
    let found = state
        .db
        .read(move |conn| store::by_token(conn, &hash).map_err(ApiError::from))
        .await?;
    Ok(found.map(|(agent_id, tenant_id)| AgentPrincipal { agent_id, tenant_id }))
}

fn frame(mut value: Value) -> Message {
    value["ts"] = Value::String(now_iso());
    Message::Text(value.to_string().into())
}

fn error_frame(code: &str, message: &str, request_id: Option<&Value>) -> Message {
    frame(json!({ "type": "error", "code": code, "message": message, "request_id": request_id }))
}

#[derive(Deserialize)]
struct Inbound {
    #[serde(rename = "type")]
    kind: String,
    request_id: Option<Value>,
    command_id: Option<String>,
    metadata: Option<Value>,
    timeout_ms: Option<u64>,
    status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Option<Value>>,
    error_message: Option<String>,
    progress: Option<i64>,
    message: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Value>>, D::Error> {
    Ok(Some(Option::<Value>::deserialize(d)?))
}

async fn session(state: AppState, agent: AgentPrincipal, bearer: String, socket: WebSocket) {
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut queued) = mpsc::channel::<Message>(OUTBOX);
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    let _ = outbox
        .send(frame(json!({ "type": "connected", "transport": "ws" })))
        .await;
    let pusher = tokio::spawn(push(state.clone(), agent.clone(), outbox.clone()));
    let mut shutdown = state.shutdown.clone();
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            _ = shutdown.wait_for(|stopping| *stopping) => None,
        };
        let Some(Ok(message)) = next else { break };
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue,
        };
        if !matches!(resolve(&state, &bearer).await, Ok(Some(_))) {
            let _ = outbox
                .send(error_frame(
                    "AGENT_REVOKED",
                    "This agent was revoked: pair it again",
                    None,
                ))
                .await;
            break;
        }
        let inbound: Inbound = match serde_json::from_str::<Value>(&text) {
            Err(_) => {
                let _ = outbox
                    .send(error_frame("INVALID_JSON", "The frame is not JSON", None))
                    .await;
                continue;
            }
            Ok(value) => match serde_json::from_value(value) {
                Ok(inbound) => inbound,
                Err(e) => {
                    let _ = outbox.send(error_frame("INVALID_MESSAGE", &e.to_string(), None)).await;
                    continue;
                }
            },
        };
        // Handled concurrently: a waiting `next_command` does not hold up later frames.
        tokio::spawn(handle(state.clone(), agent.clone(), inbound, outbox.clone()));
    }
    pusher.abort();
    drop(outbox);
    let _ = writer.await;
}

/// Pushes commands dispatched to this agent as soon as they are queued.
async fn push(state: AppState, agent: AgentPrincipal, outbox: mpsc::Sender<Message>) {
    loop {
        match claim_within(&state, &agent, Duration::from_secs(60)).await {
            Ok(Some(command)) => {
                let assigned = json!({ "type": "agent.command.assigned", "request_id": null, "command": command });
                if outbox.send(frame(assigned)).await.is_err() {
                    return;
                }
            }
            Ok(None) if *state.shutdown.borrow() => return,
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

async fn handle(state: AppState, agent: AgentPrincipal, m: Inbound, outbox: mpsc::Sender<Message>) {
    let request_id = m.request_id.clone();
    let reply = match reply(&state, &agent, m).await {
        Ok(reply) => reply,
        Err(e) => error_frame(e.code.as_str(), &e.message, request_id.as_ref()),
    };
    let _ = outbox.send(reply).await;
}

async fn reply(state: &AppState, agent: &AgentPrincipal, m: Inbound) -> ApiResult<Message> {
    let command_update = |status: &str, m: Inbound| -> ApiResult<(String, CommandUpdate)> {
        let id = m
            .command_id
            .clone()
            .ok_or_else(|| ApiError::new(ErrorCode::BadRequest).with_message("command_id is required"))?;
        let update = CommandUpdate {
            status: status.to_owned(),
            result: m.result,
            error_message: m.error_message,
            progress: m.progress,
            message: m.message,
        };
        Ok((id, update))
    };
    let caller = || Caller::Agent(agent.clone());
    let request_id = m.request_id.clone();
    let kind = m.kind.clone();
    Ok(match kind.as_str() {
        "heartbeat" => {
            let metadata = match m.metadata {
                None => Value::Object(Default::default()),
                Some(Value::Object(map)) => Value::Object(map),
                Some(_) => return Err(ApiError::new(ErrorCode::BadRequest).with_message("metadata must be an object")),
            };
            let row = beat(state, agent.tenant_id.clone(), agent.agent_id.clone(), None, metadata).await?;
            frame(
                json!({ "type": "agent.heartbeat", "request_id": request_id, "agent_id": row.id, "status": row.status }),
            )
        }
        "next_command" => {
            let timeout = m.timeout_ms.unwrap_or(25_000).clamp(1000, 120_000);
            let command = claim_within(state, agent, Duration::from_millis(timeout)).await?;
            frame(json!({ "type": "agent.command.assigned", "request_id": request_id, "command": command }))
        }
        kind @ ("agent.command.ack" | "agent.command.progress") => {
            let (id, update) = command_update("running", m)?;
            let command = apply_update(state, caller(), id, update).await?;
            frame(
                json!({ "type": kind, "request_id": request_id, "command_id": command.id, "agent_id": agent.agent_id,
                "progress": command.progress, "message": command.progress_message }),
            )
        }
        "agent.command.result" => {
            let status = m.status.clone().unwrap_or_default();
            let (id, update) = command_update(&status, m)?;
            let command = apply_update(state, caller(), id, update).await?;
            frame(
                json!({ "type": "agent.command.result", "request_id": request_id, "command_id": command.id,
                "agent_id": agent.agent_id, "status": command.status }),
            )
        }
        other => error_frame(
            "UNKNOWN_MESSAGE_TYPE",
            &format!("Unknown message type {other:?}"),
            request_id.as_ref(),
        ),
    })
}
