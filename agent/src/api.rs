//! The agent's HTTP calls to the Bot-Mox server (agent.md §4): pairing, heartbeat, the
//! long-poll fallback and command updates. Every reply is the `{success, data | error}` envelope.

use std::time::Duration;

use botmox_contract::agent::{
    AssignedCommand, HeartbeatAck, HeartbeatRequest, QuickPairRequest, RegisterRequest, Registered,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

/// Why a call failed, sorted the way the loop reacts to it (agent.md §8).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The token is refused (401) or the agent was revoked: stop for good.
    Revoked(String),
    /// 429: wait this long before the next call.
    RateLimited(Duration),
    /// Any other answer from the server.
    Server { status: u16, code: String, message: String },
    /// No answer: connection refused, reset, timeout, a body that is not the envelope.
    Network(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Revoked(m) => write!(f, "AGENT_REVOKED: {m}"),
            Failure::RateLimited(d) => write!(f, "RATE_LIMITED: retry in {} s", d.as_secs()),
            Failure::Server { status, code, message } => write!(f, "{code}: {message} (HTTP {status})"),
            Failure::Network(m) => write!(f, "NETWORK_ERROR: {m}"),
        }
    }
}

/// How long to wait after a 429 without a `Retry-After`.
pub const RATE_LIMIT_COOLDOWN: Duration = Duration::from_secs(45);

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    pub fn new(base: &str, token: Option<&str>) -> Api {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("botmox-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<Value>) -> Result<T, Failure> {
        self.call_within(method, path, body, None).await
    }

    async fn call_within<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<T, Failure> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-request-id", &request_id)
            .header("accept", "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(|e| Failure::Network(describe(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(|e| Failure::Network(describe(&e)))?;
        let envelope: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            let data = envelope.get("data").cloned().unwrap_or(Value::Null);
            return serde_json::from_value(data)
                .map_err(|e| Failure::Network(format!("unexpected reply from {path} (HTTP {status}): {e}")));
        }
        let code = envelope
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("HTTP_ERROR")
            .to_owned();
        let message = envelope
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| text.chars().take(200).collect());
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => Failure::RateLimited(retry_after.unwrap_or(RATE_LIMIT_COOLDOWN)),
            StatusCode::UNAUTHORIZED if self.token.is_some() => Failure::Revoked(message),
            _ if code == "AGENT_REVOKED" => Failure::Revoked(message),
            _ => Failure::Server {
                status: status.as_u16(),
                code,
                message,
            },
        })
    }

    /// `GET /api/v1/health`: is a Bot-Mox server answering at this URL?
    pub async fn health(&self) -> Result<Value, Failure> {
        self.call_within(Method::GET, "/api/v1/health", None, Some(Duration::from_secs(5)))
            .await
    }

    pub async fn register(&self, request: &RegisterRequest) -> Result<Registered, Failure> {
        self.call(Method::POST, "/api/v1/agents/register", Some(json!(request)))
            .await
    }

    pub async fn quick_pair(&self, request: &QuickPairRequest) -> Result<Registered, Failure> {
        self.call(Method::POST, "/api/v1/agents/quick-pair", Some(json!(request)))
            .await
    }

    pub async fn heartbeat(&self, agent_id: &str, metadata: Map<String, Value>) -> Result<HeartbeatAck, Failure> {
        let body = HeartbeatRequest {
            agent_id: agent_id.to_owned(),
            metadata: Some(metadata),
        };
        self.call(Method::POST, "/api/v1/agents/heartbeat", Some(json!(body)))
            .await
    }

    /// The long-poll fallback: the next command, or `None` after `wait` with nothing queued.
    pub async fn next_command(&self, agent_id: &str, wait: Duration) -> Result<Option<AssignedCommand>, Failure> {
        let ms = wait.as_millis().clamp(1000, 60_000);
        let path = format!("/api/v1/vm-ops/commands/next?agent_id={agent_id}&timeout_ms={ms}");
        self.call_within(Method::GET, &path, None, Some(wait + Duration::from_secs(15)))
            .await
    }

    /// `GET /api/v1/secrets/{id}/value`: the value of a secret bound to this agent. A
    /// client-encrypted secret has no value the agent can use, and fails like a refusal.
    pub async fn secret_value(&self, id: &str) -> Result<String, Failure> {
        let refused = |code: &str, message: String| Failure::Server {
            status: 400,
            code: code.to_owned(),
            message,
        };
        // Ids are `[A-Za-z0-9_-]`: anything else must not reach the URL path.
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) {
            return Err(refused(
                "SECRETS_INVALID_ID",
                format!("secret_ref {id:?} is not a secret id"),
            ));
        }
        let reply: Value = self
            .call(Method::GET, &format!("/api/v1/secrets/{id}/value"), None)
            .await?;
        match reply.get("value").and_then(Value::as_str) {
            Some(value) => Ok(value.to_owned()),
            None => Err(refused(
                "SECRET_CLIENT_ENCRYPTED",
                format!("secret {id} is encrypted with a client key this agent does not hold"),
            )),
        }
    }

    /// `PATCH /api/v1/vm-ops/commands/{id}`.
    pub async fn update(&self, command_id: &str, body: Value) -> Result<Value, Failure> {
        self.call(
            Method::PATCH,
            &format!("/api/v1/vm-ops/commands/{command_id}"),
            Some(body),
        )
        .await
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
