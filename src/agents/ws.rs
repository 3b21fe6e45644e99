//! `GET /api/v1/agents/ws`: the agent's one long-lived connection (§1.7).
//!
//! Besides answering the reference's messages (each with one reply, correlated by
//! `request_id`), the server pushes to an agent whose heartbeat frame listed the `push`
//! capability: when a command is dispatched to it, the socket claims it and sends
//! `agent.command.assigned` at once. Other agents get commands only as `next_command`
//! replies. The agent row is re-checked before every message, so a revoked agent's socket
//! closes on its next frame; a pushing socket closes at once, woken by the revocation.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use botmox_contract::agent::{AgentFrame, ServerFrame, PUSH};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::SinkExt;
use serde_json::Value;

use super::principal::{resolve, AgentPrincipal, Caller};
use super::service::beat;
use crate::clock::now_iso;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::Query;
use crate::state::AppState;
use crate::vmops::service::{apply_update, claim, claim_within, CommandUpdate};
use crate::vmops::store::Command;

/// tungstenite zero-fills its whole read buffer on the first read, so each socket keeps this
/// much resident: with 16 KiB, 10,000 idle agents took 281 MB, with 4 KiB 170 MB
/// (`benches/agents.rs`). The agent's heartbeat, its largest regular frame, is about 500
/// bytes and fits; a larger frame is read into a buffer reserved for its length, this much
/// per read.
const WS_BUFFER: usize = 1024;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(upgrade))
}

/// The agent's WebSocket. Authenticates (bearer header or `token` query) before upgrading;
/// frames are JSON objects with a `type` (`heartbeat`, `next_command`, `agent.command.ack`,
/// `agent.command.progress`, `agent.command.result`); the server also pushes
/// `agent.command.assigned` when a command is dispatched, once a heartbeat frame said
/// `"capabilities": ["push"]`.
#[utoipa::path(get, path = "/api/v1/agents/ws", tag = "agents",
    params(("agent_id" = Option<String>, Query), ("token" = Option<String>, Query)),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", body = botmox_contract::envelope::Failure), (status = 401, body = botmox_contract::envelope::Failure),
        (status = 403, body = botmox_contract::envelope::Failure), (status = 409, body = botmox_contract::envelope::Failure),
        (status = 426, body = botmox_contract::envelope::Failure)))]
async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
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
    let agent = resolve(&state, &bearer).await?;
    if params.get("agent_id").is_some_and(|id| id != &agent.agent_id) {
        return Err(ApiError::new(ErrorCode::Forbidden).with_message("The token belongs to another agent"));
    }
    // axum's own rejection is plain text; this route answers in the envelope like the rest.
    let ws = ws.map_err(|rejection| {
        ApiError::new(ErrorCode::BadRequest).with_message(format!(
            "Open this URL as a WebSocket (GET with 'Connection: upgrade' and 'Upgrade: websocket'): {}",
            rejection.body_text()
        ))
    })?;
    Ok(ws
        .read_buffer_size(WS_BUFFER)
        .write_buffer_size(WS_BUFFER)
        .on_upgrade(move |socket| session(state, agent, bearer, socket)))
}

fn frame(frame: &ServerFrame<Command>) -> Message {
    Message::Text(serde_json::to_string(frame).unwrap_or_default().into())
}

fn error_frame(code: &str, message: &str, request_id: Option<String>) -> Message {
    frame(&ServerFrame::Error {
        ts: Some(now_iso()),
        request_id,
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

/// The frame types an agent may send; anything else is `UNKNOWN_MESSAGE_TYPE`.
const KNOWN: [&str; 5] = [
    "heartbeat",
    "next_command",
    "agent.command.ack",
    "agent.command.progress",
    "agent.command.result",
];

/// One task per socket: it reads the agent's frames, writes the replies and, once the agent
/// takes pushes, claims for it whenever a command is dispatched to it. An idle socket waits on
/// nothing but its reader, the shutdown and the dispatch wake-up: no timer, no database work.
async fn session(state: AppState, agent: AgentPrincipal, bearer: String, mut socket: WebSocket) {
    let connected = frame(&ServerFrame::Connected {
        ts: now_iso(),
        transport: "ws".into(),
    });
    if socket.send(connected).await.is_err() {
        return;
    }
    let dispatched = state.waiters.of(&agent.tenant_id, &agent.agent_id);
    let mut shutdown = state.shutdown.clone();
    // Waiting `next_command`s, answered when a command comes or their time is up; they run
    // beside the other frames so they do not hold them up.
    let mut polls: FuturesUnordered<Pending> = FuturesUnordered::new();
    // Pushing starts once the agent says it takes pushes; an agent that only reads while its
    // `next_command` is outstanding would lose a push that arrives while it is busy.
    let mut pushing = false;
    'claim: loop {
        // Registered before the claim, so a dispatch between the two is not missed.
        let woken = dispatched.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if pushing {
            match claim(&state, &agent).await {
                Ok(Some(command)) => {
                    let assigned = ServerFrame::Assigned {
                        ts: now_iso(),
                        request_id: None,
                        command: Some(command),
                    };
                    if socket.send(frame(&assigned)).await.is_err() {
                        break 'claim;
                    }
                    // There may be more queued: claim again before waiting.
                    continue 'claim;
                }
                Ok(None) => {}
                Err(e) if e.code == ErrorCode::AgentRevoked => {
                    let _ = socket.send(error_frame(e.code.as_str(), &e.message, None)).await;
                    break 'claim;
                }
                // The command stays queued; the next dispatch to this agent tries again.
                Err(e) => tracing::warn!(agent = %agent.agent_id, error = %e.message, "pushing a command failed"),
            }
        }
        loop {
            let reply = tokio::select! {
                () = &mut woken, if pushing => continue 'claim,
                Some(reply) = polls.next() => reply,
                // The guard `wait_for` returns must not live across the other branches' awaits.
                () = async { drop(shutdown.wait_for(|stopping| *stopping).await) } => break 'claim,
                next = socket.recv() => {
                    let text = match next {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_)) | Err(_)) | None => break 'claim,
                        Some(Ok(_)) => continue,
                    };
                    // Boxed: the work on a frame is far larger than what an idle socket keeps.
                    match Box::pin(received(&state, &agent, &bearer, &text)).await {
                        Received::Wait(pending) => {
                            polls.push(pending);
                            continue;
                        }
                        Received::TakesPush(reply) if !pushing => {
                            if socket.send(reply).await.is_err() {
                                break 'claim;
                            }
                            pushing = true;
                            continue 'claim;
                        }
                        // Every heartbeat of ours lists `push`; only the first starts pushing.
                        Received::Reply(reply) | Received::TakesPush(reply) => reply,
                        Received::Refused(reply) => {
                            let _ = socket.send(reply).await;
                            break 'claim;
                        }
                    }
                }
            };
            if socket.send(reply).await.is_err() {
                break 'claim;
            }
        }
    }
    let _ = socket.close().await;
}

/// A `next_command` waiting for its command.
type Pending = Pin<Box<dyn Future<Output = Message> + Send>>;

/// What a text frame from the agent calls for.
enum Received {
    Reply(Message),
    /// A heartbeat that lists `push`: reply, then push from now on if not yet.
    TakesPush(Message),
    /// A `next_command`, answered when it is done waiting.
    Wait(Pending),
    /// The agent's token no longer holds: say why and close.
    Refused(Message),
}

async fn received(state: &AppState, agent: &AgentPrincipal, bearer: &str, text: &str) -> Received {
    if let Err(refused) = resolve(state, bearer).await {
        return Received::Refused(error_frame(refused.code.as_str(), &refused.message, None));
    }
    let inbound = match parse(text) {
        Ok(inbound) => inbound,
        Err(error) => return Received::Reply(error),
    };
    match &inbound {
        AgentFrame::NextCommand { .. } => {
            let (state, agent) = (state.clone(), agent.clone());
            Received::Wait(Box::pin(async move { handle(&state, &agent, inbound).await }))
        }
        // In order, so an ack sent just before its result is applied first.
        AgentFrame::Heartbeat { capabilities, .. } if capabilities.iter().any(|c| c == PUSH) => {
            Received::TakesPush(handle(state, agent, inbound).await)
        }
        _ => Received::Reply(handle(state, agent, inbound).await),
    }
}

/// Reads a frame; one that is not a known, well-formed frame gets its error frame.
fn parse(text: &str) -> Result<AgentFrame, Message> {
    let value =
        serde_json::from_str::<Value>(text).map_err(|_| error_frame("INVALID_JSON", "The frame is not JSON", None))?;
    serde_json::from_value(value.clone()).map_err(|e| {
        let request_id = value.get("request_id").and_then(Value::as_str).map(str::to_owned);
        let known = value
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| KNOWN.contains(&t));
        if known {
            error_frame("INVALID_MESSAGE", &e.to_string(), request_id)
        } else {
            error_frame(
                "UNKNOWN_MESSAGE_TYPE",
                &format!("Unknown message type {}", value["type"]),
                request_id,
            )
        }
    })
}

async fn handle(state: &AppState, agent: &AgentPrincipal, m: AgentFrame) -> Message {
    let request_id = m.request_id().map(str::to_owned);
    match reply(state, agent, m).await {
        Ok(reply) => frame(&reply),
        Err(e) => error_frame(e.code.as_str(), &e.message, request_id),
    }
}

async fn reply(state: &AppState, agent: &AgentPrincipal, m: AgentFrame) -> ApiResult<ServerFrame<Command>> {
    let caller = || Caller::Agent(agent.clone());
    let agent_id = agent.agent_id.clone();
    let ts = now_iso();
    let running = || CommandUpdate {
        status: "running".to_owned(),
        result: None,
        error_message: None,
        progress: None,
        message: None,
    };
    Ok(match m {
        AgentFrame::Heartbeat {
            request_id, metadata, ..
        } => {
            let metadata = match metadata {
                None => Value::Object(Default::default()),
                Some(Value::Object(map)) => Value::Object(map),
                Some(_) => return Err(ApiError::new(ErrorCode::BadRequest).with_message("metadata must be an object")),
            };
            let row = beat(state, agent.tenant_id.clone(), agent_id, None, metadata).await?;
            ServerFrame::Heartbeat {
                ts,
                request_id,
                agent_id: row.id,
                status: row.status,
            }
        }
        AgentFrame::NextCommand { request_id, timeout_ms } => {
            let timeout = timeout_ms.unwrap_or(25_000).clamp(1000, 120_000);
            let command = claim_within(state, agent, Duration::from_millis(timeout)).await?;
            ServerFrame::Assigned {
                ts,
                request_id,
                command,
            }
        }
        AgentFrame::Ack { request_id, command_id } => {
            let command = apply_update(state, caller(), command_id, running()).await?;
            ServerFrame::Ack {
                ts,
                request_id,
                command_id: command.id,
                agent_id,
            }
        }
        AgentFrame::Progress {
            request_id,
            command_id,
            progress,
            message,
        } => {
            let update = CommandUpdate {
                progress,
                message,
                ..running()
            };
            let command = apply_update(state, caller(), command_id, update).await?;
            ServerFrame::Progress {
                ts,
                request_id,
                command_id: command.id,
                agent_id,
                progress: command.progress,
                message: command.progress_message,
            }
        }
        AgentFrame::Result {
            request_id,
            command_id,
            status,
            result,
            error_message,
        } => {
            // `"result": null` clears a stored result; an absent one leaves it alone.
            let result = result.map(|r| (!r.is_null()).then_some(r));
            let update = CommandUpdate {
                status,
                result,
                error_message,
                ..running()
            };
            let command = apply_update(state, caller(), command_id, update).await?;
            ServerFrame::Result {
                ts,
                request_id,
                command_id: command.id,
                agent_id,
                status: command.status,
            }
        }
    })
}
