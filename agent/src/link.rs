//! The run loop (agent.md §5–8 with its Rewrites): one WebSocket to the server with replies
//! correlated by `request_id`, commands pushed by the server as they are dispatched, a
//! heartbeat every 30 s (over HTTP when the socket does not answer), jittered exponential
//! backoff between connection attempts with the HTTP long-poll receiving commands meanwhile,
//! and a stop when the server says the agent is revoked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use botmox_contract::agent::{AgentFrame, AssignedCommand, ServerFrame, PUSH};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::api::{Api, Failure};
use crate::config::{AgentConfig, Store};
use crate::exec::{self, ExecContext};
use crate::journal::{Journal, Outcome, Seen};
use crate::status::{self, Status};

/// How long a frame's reply may take before the agent falls back to HTTP.
const REPLY_WAIT: Duration = Duration::from_secs(8);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The server refuses longer error texts; the end is the least useful part.
const MAX_ERROR_CHARS: usize = 2000;

#[derive(Clone, Debug)]
pub struct Options {
    pub heartbeat: Duration,
    pub backoff: Backoff,
    pub transport: Transport,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            heartbeat: Duration::from_secs(30),
            backoff: Backoff::default(),
            transport: Transport::Ws,
        }
    }
}

/// How commands arrive (agent.md §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// The WebSocket, with the HTTP long-poll only while it is down.
    Ws,
    /// HTTP only: for networks whose proxies break WebSockets.
    Longpoll,
}

/// Reconnect delays (agent.md §7): `base·2^(attempt−1)` capped at `max`, ± `jitter`.
#[derive(Clone, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: u32, unit_random: f64) -> Duration {
        let base = self.base.as_millis().max(100) as f64;
        let max = (self.max.as_millis() as f64).max(base);
        let d = (base * 2f64.powi(attempt.saturating_sub(1).min(30) as i32)).min(max);
        let spread = (d * self.jitter.clamp(0.0, 0.5)).round();
        let offset = ((unit_random * 2.0 - 1.0) * spread).round();
        Duration::from_millis((d + offset).clamp(base, max) as u64)
    }
}

/// Why the loop ended.
#[derive(Debug, PartialEq)]
pub enum Exit {
    Revoked(String),
    Stopped,
}

/// A live socket: frames out, and the replies awaited by `request_id`.
#[derive(Clone)]
struct Socket {
    out: mpsc::Sender<Message>,
    pending: Arc<Mutex<HashMap<String, oneshot::Sender<ServerFrame>>>>,
}

impl Socket {
    /// Sends a frame and waits for the reply with its `request_id`; an `error` reply is a NACK.
    async fn request(&self, frame: impl FnOnce(String) -> AgentFrame) -> Result<ServerFrame, String> {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("pending replies").insert(id.clone(), tx);
        let text = serde_json::to_string(&frame(id.clone())).map_err(|e| e.to_string())?;
        let outcome = async {
            self.out
                .send(Message::Text(text.into()))
                .await
                .map_err(|_| "the socket closed".to_owned())?;
            match tokio::time::timeout(REPLY_WAIT, rx).await {
                Ok(Ok(ServerFrame::Error { code, message, .. })) => Err(format!("{code}: {message}")),
                Ok(Ok(reply)) => Ok(reply),
                Ok(Err(_)) => Err("the socket closed before the reply".to_owned()),
                Err(_) => Err(format!("no reply within {} s", REPLY_WAIT.as_secs())),
            }
        }
        .await;
        self.pending.lock().expect("pending replies").remove(&id);
        outcome
    }
}

/// Transport telemetry sent with each heartbeat.
#[derive(Default)]
struct Telemetry {
    reconnect_attempt: u32,
    next_reconnect_at: Option<String>,
    fallback_http: u64,
    connect_success: u64,
    connect_failure: u64,
    last_connected_at: Option<String>,
    last_failure_at: Option<String>,
}

struct Shared {
    api: Api,
    agent_id: String,
    token: String,
    server_url: String,
    store: Store,
    options: Options,
    socket: Mutex<Option<Socket>>,
    telemetry: Mutex<Telemetry>,
    revoked: watch::Sender<Option<String>>,
    /// Held while `state.json` is written; `true` once the final state (revoked or stopped)
    /// is written, after which the loop's tasks, still winding down, must not overwrite it.
    status_final: Mutex<bool>,
}

impl Shared {
    fn socket(&self) -> Option<Socket> {
        self.socket.lock().expect("socket slot").clone()
    }

    fn status(&self, status: Status, message: &str) {
        let done = self.status_final.lock().expect("status lock");
        if !*done {
            status::write(self.store.dir(), status, message);
        }
    }

    fn final_status(&self, status: Status, message: &str) {
        let mut done = self.status_final.lock().expect("status lock");
        *done = true;
        status::write(self.store.dir(), status, message);
    }

    fn revoke(&self, why: String) {
        self.revoked.send_if_modified(|slot| {
            if slot.is_none() {
                *slot = Some(why);
                true
            } else {
                false
            }
        });
    }

    fn metadata(&self) -> Map<String, Value> {
        let t = self.telemetry.lock().expect("telemetry");
        let value = json!({
            "transport_mode": match self.options.transport {
                Transport::Ws => "ws",
                Transport::Longpoll => "longpoll",
            },
            "version": env!("CARGO_PKG_VERSION"),
            "platform": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "hostname": crate::hostname(),
            "ws_reconnect_attempt": t.reconnect_attempt,
            "ws_next_reconnect_at": t.next_reconnect_at,
            "ws_fallback_http_count": t.fallback_http,
            "ws_connect_success_count": t.connect_success,
            "ws_connect_failure_count": t.connect_failure,
            "ws_last_connected_at": t.last_connected_at,
            "ws_last_failure_at": t.last_failure_at,
        });
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// One heartbeat: over the socket when it answers, else over HTTP.
    async fn heartbeat(&self) -> Result<(), Failure> {
        if let Some(socket) = self.socket() {
            let metadata = Value::Object(self.metadata());
            let reply = socket.request(|request_id| AgentFrame::Heartbeat {
                request_id: Some(request_id),
                metadata: Some(metadata),
                capabilities: vec![PUSH.into()],
            });
            match reply.await {
                Ok(_) => return Ok(()),
                Err(e) if e.starts_with("AGENT_REVOKED") => return Err(Failure::Revoked(e)),
                Err(e) => {
                    self.telemetry.lock().expect("telemetry").fallback_http += 1;
                    tracing::warn!(
                        event_name = "agent.transport.ws.heartbeat_fallback_http",
                        "heartbeat over the socket failed ({e}); using HTTP"
                    );
                }
            }
        }
        self.api.heartbeat(&self.agent_id, self.metadata()).await.map(|_| ())
    }
}

/// Runs until revoked or until `stop` fires.
pub async fn run(store: Store, config: AgentConfig, options: Options, mut stop: watch::Receiver<bool>) -> Exit {
    let Some((server_url, agent_id, token)) = config.link() else {
        return Exit::Revoked("this agent is not paired: run `botmox-agent pair` first".into());
    };
    let (revoked, mut revoked_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        api: Api::new(server_url, Some(token)),
        agent_id: agent_id.to_owned(),
        token: token.to_owned(),
        server_url: server_url.to_owned(),
        store,
        options,
        socket: Mutex::new(None),
        telemetry: Mutex::new(Telemetry::default()),
        revoked,
        status_final: Mutex::new(false),
    });
    shared.status(Status::Connecting, "connecting to the server");
    tracing::info!(
        event_name = "agent.session.started",
        agent_id,
        server = server_url,
        "agent started"
    );
    let (commands_tx, commands_rx) = mpsc::channel::<AssignedCommand>(256);
    let tasks = [
        tokio::spawn(connection(shared.clone(), commands_tx)),
        tokio::spawn(heartbeats(shared.clone())),
        tokio::spawn(executor(shared.clone(), commands_rx)),
    ];
    let exit = tokio::select! {
        _ = stop.wait_for(|s| *s) => Exit::Stopped,
        why = revoked_rx.wait_for(Option::is_some) => Exit::Revoked(why.ok().and_then(|w| w.clone()).unwrap_or_default()),
    };
    for task in tasks {
        task.abort();
    }
    match &exit {
        Exit::Revoked(why) => {
            shared.final_status(Status::Revoked, why);
            tracing::error!(event_name = "agent.revoked", "the server revoked this agent: {why}");
        }
        Exit::Stopped => {
            shared.final_status(Status::Idle, "stopped");
            tracing::info!(event_name = "agent.session.stopped", "agent stopped");
        }
    }
    exit
}

async fn heartbeats(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(shared.options.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match shared.heartbeat().await {
            Ok(()) => {}
            Err(Failure::Revoked(why)) => return shared.revoke(why),
            Err(Failure::RateLimited(wait)) => {
                shared.status(
                    Status::Error,
                    &format!("rate limited, retrying in {} s", wait.as_secs()),
                );
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                shared.status(Status::Error, &e.to_string());
                tracing::warn!(event_name = "agent.heartbeat.failed", "heartbeat failed: {e}");
            }
        }
    }
}

/// Keeps the socket up; while it is down, receives commands over the HTTP long-poll until
/// the next reconnect attempt is due.
async fn connection(shared: Arc<Shared>, commands: mpsc::Sender<AssignedCommand>) {
    if shared.options.transport == Transport::Longpoll {
        shared.status(Status::Online, "receiving commands over HTTP long-poll");
        loop {
            long_poll_until(&shared, Instant::now() + Duration::from_secs(3600), &commands).await;
        }
    }
    let mut attempt = 0u32;
    loop {
        match connect(&shared).await {
            Ok(ws) => {
                if attempt > 0 {
                    tracing::info!(event_name = "agent.transport.ws.recovered", attempt, "socket recovered");
                }
                attempt = 0;
                {
                    let mut t = shared.telemetry.lock().expect("telemetry");
                    t.connect_success += 1;
                    t.reconnect_attempt = 0;
                    t.next_reconnect_at = None;
                    t.last_connected_at = Some(now_iso());
                }
                shared.status(Status::Online, "connected");
                tracing::info!(event_name = "agent.transport.ws.connected", "socket connected");
                let closed = serve(&shared, ws, &commands).await;
                *shared.socket.lock().expect("socket slot") = None;
                tracing::warn!(event_name = "agent.transport.ws.unavailable", "socket closed: {closed}");
            }
            Err(Failure::Revoked(why)) => return shared.revoke(why),
            Err(e) => {
                let mut t = shared.telemetry.lock().expect("telemetry");
                t.connect_failure += 1;
                t.last_failure_at = Some(now_iso());
                drop(t);
                tracing::warn!(
                    event_name = "agent.transport.ws.unavailable",
                    attempt,
                    "socket connect failed: {e}"
                );
            }
        }
        attempt += 1;
        let delay = shared.options.backoff.delay(attempt, rand::random::<f64>());
        {
            let mut t = shared.telemetry.lock().expect("telemetry");
            t.reconnect_attempt = attempt;
            t.next_reconnect_at = Some(iso_in(delay));
        }
        shared.status(Status::Connecting, &format!("reconnecting in {} ms", delay.as_millis()));
        long_poll_until(&shared, Instant::now() + delay, &commands).await;
    }
}

/// The HTTP fallback: claims commands by long-poll until `deadline`.
async fn long_poll_until(shared: &Shared, deadline: Instant, commands: &mpsc::Sender<AssignedCommand>) {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_secs(1) {
            tokio::time::sleep(left).await;
            return;
        }
        match shared
            .api
            .next_command(&shared.agent_id, left.min(Duration::from_secs(25)))
            .await
        {
            Ok(Some(command)) => {
                let _ = commands.send(command).await;
            }
            Ok(None) => {}
            Err(Failure::Revoked(why)) => return shared.revoke(why),
            Err(Failure::RateLimited(wait)) => {
                tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
            }
            // The server is away too; wait for the reconnect attempt.
            Err(_) => {
                tokio::time::sleep_until(deadline.into()).await;
                return;
            }
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(shared: &Shared) -> Result<Ws, Failure> {
    let ws_base = shared.server_url.replacen("http", "ws", 1);
    let url = format!("{ws_base}/api/v1/agents/ws?agent_id={}", shared.agent_id);
    let mut request = url.into_client_request().map_err(|e| Failure::Network(e.to_string()))?;
    let bearer = format!("Bearer {}", shared.token)
        .parse()
        .map_err(|_| Failure::Revoked("the stored agent token is malformed".into()))?;
    request.headers_mut().insert("authorization", bearer);
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(16 * 1024);
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), false);
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, connecting).await {
        Err(_) => Err(Failure::Network(format!(
            "no handshake within {} s",
            HANDSHAKE_TIMEOUT.as_secs()
        ))),
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) if refused(&response) => {
            Err(Failure::Revoked("the server refused the agent token".into()))
        }
        Ok(Err(e)) => Err(Failure::Network(e.to_string())),
    }
}

/// An upgrade answered 401 or 403, or with `AGENT_REVOKED` (a revoked agent's token).
fn refused(response: &tokio_tungstenite::tungstenite::http::Response<Option<Vec<u8>>>) -> bool {
    let code = response
        .body()
        .as_deref()
        .and_then(|body| serde_json::from_slice::<Value>(body).ok())
        .and_then(|body| body["error"]["code"].as_str().map(str::to_owned));
    matches!(response.status().as_u16(), 401 | 403) || code.as_deref() == Some("AGENT_REVOKED")
}

/// Reads one socket until it closes; returns why it closed.
async fn serve(shared: &Arc<Shared>, ws: Ws, commands: &mpsc::Sender<AssignedCommand>) -> String {
    let (mut sink, mut stream) = ws.split();
    let (out, mut queued) = mpsc::channel::<Message>(32);
    let socket = Socket {
        out,
        pending: Arc::default(),
    };
    *shared.socket.lock().expect("socket slot") = Some(socket.clone());
    // The hello: this agent reads the socket all the time, so the server may push commands.
    let hello = AgentFrame::Heartbeat {
        request_id: None,
        metadata: Some(Value::Object(shared.metadata())),
        capabilities: vec![PUSH.into()],
    };
    if let Ok(text) = serde_json::to_string(&hello) {
        let _ = socket.out.send(Message::Text(text.into())).await;
    }
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            if sink.send(message).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let why = loop {
        let text = match stream.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => break format!("closed by the server ({frame:?})"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => break e.to_string(),
            None => break "the connection ended".to_owned(),
        };
        let frame: ServerFrame = match serde_json::from_str(&text) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::warn!(
                    event_name = "agent.transport.ws.bad_frame",
                    "ignoring a frame that does not parse: {e}"
                );
                continue;
            }
        };
        if let ServerFrame::Error { code, message, .. } = &frame {
            if code == "AGENT_REVOKED" {
                shared.revoke(message.clone());
                break format!("{code}: {message}");
            }
        }
        match frame.request_id().map(str::to_owned) {
            Some(id) => {
                if let Some(waiter) = socket.pending.lock().expect("pending replies").remove(&id) {
                    let _ = waiter.send(frame);
                }
            }
            None => {
                if let ServerFrame::Assigned {
                    command: Some(command), ..
                } = frame
                {
                    let _ = commands.send(command).await;
                }
            }
        }
    };
    writer.abort();
    why
}

/// Runs commands one at a time, in the order they arrive.
async fn executor(shared: Arc<Shared>, mut commands: mpsc::Receiver<AssignedCommand>) {
    let mut journal = match Journal::open(shared.store.dir()) {
        Ok(journal) => journal,
        Err(e) => {
            tracing::error!(
                event_name = "agent.journal.failed",
                "cannot open the command journal: {e}"
            );
            return;
        }
    };
    while let Some(command) = commands.recv().await {
        process(&shared, &mut journal, command).await;
    }
}

async fn process(shared: &Shared, journal: &mut Journal, command: AssignedCommand) {
    let id = command.id.clone();
    let outcome = match journal.seen(&id) {
        // Delivered again after its outcome was lost on the way: report it, don't run it.
        Seen::Finished(outcome) => {
            tracing::info!(event_name = "agent.command.redelivered", command_id = %id, "command {id} already ran; reporting its outcome again");
            outcome
        }
        Seen::Interrupted => {
            failed("AGENT_INTERRUPTED: the agent stopped while this command ran; it is not run twice".into())
        }
        Seen::New => {
            if command.expires_at.as_deref().is_some_and(expired) {
                failed("COMMAND_EXPIRED: Command expired before execution".into())
            } else {
                if let Err(e) = ack(shared, &id).await {
                    // Not running on the server, so it is requeued and comes back.
                    tracing::warn!(event_name = "agent.command.ack_failed", command_id = %id, "could not claim command {id}: {e}");
                    return;
                }
                if let Err(e) = journal.started(&id) {
                    tracing::error!(event_name = "agent.journal.failed", "cannot record command {id}: {e}");
                }
                run_command(shared, &command).await
            }
        }
    };
    if let Err(e) = journal.finished(&id, outcome.clone()) {
        tracing::error!(
            event_name = "agent.journal.failed",
            "cannot record the outcome of command {id}: {e}"
        );
    }
    report(shared, &id, outcome).await;
}

async fn run_command(shared: &Shared, command: &AssignedCommand) -> Outcome {
    // Read afresh: targets added while the agent runs apply to the next command.
    let config = shared.store.load().unwrap_or_default();
    let ctx = ExecContext {
        targets: config.targets,
        active_target: config.active_target,
        known_hosts: shared.store.path("known_hosts"),
    };
    let payload = if command.payload.is_null() {
        json!({})
    } else {
        command.payload.clone()
    };
    tracing::info!(event_name = "agent.command.started", command_id = %command.id, command_type = %command.command_type,
        payload = %crate::redact::redact(&payload), "running command {}", command.id);
    let started = Instant::now();
    // After the log line above: resolved secret values are never logged.
    let payload = match crate::secrets::resolve(&shared.api, &payload).await {
        Ok(resolved) => resolved,
        Err(e) => return failed(format!("cannot resolve a secret_ref: {e}")),
    };
    let outcome = match exec::execute(&ctx, &command.command_type, &payload).await {
        Ok(result) => Outcome {
            status: "succeeded".into(),
            result: Some(result),
            error_message: None,
        },
        Err(e) => failed(e.to_string()),
    };
    tracing::info!(event_name = "agent.command.finished", command_id = %command.id, status = %outcome.status,
        elapsed_ms = started.elapsed().as_millis() as u64, "command {} {}", command.id, outcome.status);
    outcome
}

fn failed(message: String) -> Outcome {
    let message = match message.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => message[..cut].to_owned(),
        None => message,
    };
    Outcome {
        status: "failed".into(),
        result: None,
        error_message: Some(message),
    }
}

fn expired(at: &str) -> bool {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .is_ok_and(|t| t < time::OffsetDateTime::now_utc())
}

async fn ack(shared: &Shared, id: &str) -> Result<(), Failure> {
    if let Some(socket) = shared.socket() {
        let command_id = id.to_owned();
        if socket
            .request(|r| AgentFrame::Ack {
                request_id: Some(r),
                command_id,
            })
            .await
            .is_ok()
        {
            return Ok(());
        }
    }
    shared.api.update(id, json!({ "status": "running" })).await.map(|_| ())
}

/// Delivers an outcome, retrying until the server has it (it may be restarting) or says the
/// command is already over.
async fn report(shared: &Shared, id: &str, outcome: Outcome) {
    let mut attempt = 0;
    loop {
        if let Some(socket) = shared.socket() {
            let o = outcome.clone();
            let frame = |r| AgentFrame::Result {
                request_id: Some(r),
                command_id: id.to_owned(),
                status: o.status,
                result: o.result,
                error_message: o.error_message,
            };
            match socket.request(frame).await {
                Ok(_) => return,
                Err(e) if gone(&e) => return log_gone(id, &e),
                Err(_) => {}
            }
        }
        let body =
            json!({ "status": outcome.status, "result": outcome.result, "error_message": outcome.error_message });
        match shared.api.update(id, body).await {
            Ok(_) => return,
            Err(Failure::Server { code, message, .. }) if gone(&code) => {
                return log_gone(id, &format!("{code}: {message}"))
            }
            Err(Failure::Revoked(why)) => return shared.revoke(why),
            Err(e) => {
                attempt += 1;
                let wait = shared.options.backoff.delay(attempt, rand::random::<f64>());
                tracing::warn!(event_name = "agent.command.report_retry", command_id = %id, "reporting command {id} failed ({e}); retrying in {} ms", wait.as_millis());
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The server no longer takes an outcome for this command (finished, cancelled or unknown).
fn gone(code_or_error: &str) -> bool {
    [
        "COMMAND_ALREADY_TERMINAL",
        "VM_OPS_COMMAND_NOT_FOUND",
        "COMMAND_NOT_FOUND",
    ]
    .iter()
    .any(|c| code_or_error.starts_with(c))
}

fn log_gone(id: &str, why: &str) {
    tracing::info!(event_name = "agent.command.report_dropped", command_id = %id, "the server no longer takes command {id}: {why}");
}

pub fn now_iso() -> String {
    iso(time::OffsetDateTime::now_utc())
}

fn iso_in(d: Duration) -> String {
    iso(time::OffsetDateTime::now_utc() + d)
}

fn iso(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_jitter_stays_in_bounds() {
        let b = Backoff::default();
        let plain: Vec<u64> = (1..=7).map(|a| b.delay(a, 0.5).as_millis() as u64).collect();
        assert_eq!(plain, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(b.delay(3, 0.0), Duration::from_millis(3200));
        assert_eq!(b.delay(3, 1.0), Duration::from_millis(4800));
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(1000), "never below the base");
    }

    #[test]
    fn long_errors_are_cut_to_what_the_server_takes() {
        let long = "é".repeat(3000);
        assert_eq!(failed(long).error_message.unwrap().chars().count(), MAX_ERROR_CHARS);
    }
}
