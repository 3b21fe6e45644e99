//! The Proxmox VE HTTP API client (agent.md §12, with its Rewrites): one client per target,
//! API-token auth or a ticket kept for 90 minutes with exactly one re-login on 401, TLS checked
//! against system roots, a pinned SHA-256 fingerprint or (explicitly) not at all, a timeout on
//! every request, and task waits that look at `exitstatus`.

pub mod tls;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::{Target, TargetAuth, TlsPolicy};

/// Per-request timeout unless the client is built with another.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Uploads carry whole ISO images.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Proxmox tickets last 2 h; renewing at 90 min keeps a margin.
const TICKET_LIFETIME: Duration = Duration::from_secs(90 * 60);

/// What can go wrong talking to Proxmox. The texts are the ones agent.md §12 gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxmoxError {
    /// The target's settings cannot work (a malformed pin, a URL reqwest refuses).
    Config(String),
    /// Login refused with 401/403.
    AuthFailed {
        status: u16,
        body: String,
    },
    /// Login answered with another status, or without a ticket.
    LoginFailed {
        status: u16,
        body: String,
    },
    /// An API call answered HTTP >= 400.
    Api {
        method: String,
        path: String,
        status: u16,
        body: String,
    },
    /// No answer: connection refused or dropped, TLS refused, timeout.
    Transport {
        method: String,
        path: String,
        message: String,
    },
    /// A task stopped with an exitstatus other than `OK` or `WARNINGS: n`.
    TaskFailed {
        upid: String,
        exitstatus: String,
    },
    TaskTimeout {
        upid: String,
        secs: u64,
    },
}

impl fmt::Display for ProxmoxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxmoxError::Config(message) => f.write_str(message),
            ProxmoxError::AuthFailed { status, body } => {
                write!(f, "Proxmox authentication failed (HTTP {status}): {body}")
            }
            ProxmoxError::LoginFailed { status, body } => write!(f, "Proxmox login failed (HTTP {status}): {body}"),
            ProxmoxError::Api {
                method,
                path,
                status,
                body,
            } => {
                write!(f, "Proxmox API {method} {path} failed (HTTP {status}): {body}")
            }
            ProxmoxError::Transport { method, path, message } => {
                write!(f, "Proxmox API {method} {path} failed: {message}")
            }
            ProxmoxError::TaskFailed { upid, exitstatus } => write!(f, "Proxmox task {upid} failed: {exitstatus}"),
            ProxmoxError::TaskTimeout { upid, secs } => write!(f, "Proxmox task {upid} timed out after {secs}s"),
        }
    }
}

impl std::error::Error for ProxmoxError {}

type Result<T> = std::result::Result<T, ProxmoxError>;

/// A client for one target. Cheap to clone; clones share the connection pool and ticket.
#[derive(Clone)]
pub struct Client(Arc<Inner>);

struct Inner {
    /// `https://host:8006/api2/json`.
    api: String,
    http: reqwest::Client,
    auth: TargetAuth,
    timeout: Duration,
    /// Held across a login so concurrent callers wait for one login instead of racing.
    ticket: tokio::sync::Mutex<Option<Ticket>>,
}

#[derive(Clone)]
struct Ticket {
    ticket: String,
    csrf: String,
    obtained: Instant,
}

/// How a request carries its parameters.
enum Params<'a> {
    Query(&'a [(String, String)]),
    Form(&'a [(String, String)]),
    Upload {
        content: &'a str,
        filename: &'a str,
        bytes: &'a [u8],
    },
}

/// Clients by target settings, so tickets and pooled connections outlive one command (the
/// command loop builds a fresh context per command).
static CLIENTS: LazyLock<Mutex<HashMap<String, Client>>> = LazyLock::new(Default::default);

impl Client {
    /// A client with [`DEFAULT_TIMEOUT`] per request.
    pub fn new(target: &Target) -> Result<Client> {
        Client::with_timeout(target, DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(target: &Target, timeout: Duration) -> Result<Client> {
        let builder = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("botmox-agent/", env!("CARGO_PKG_VERSION")));
        let builder = match &target.tls {
            TlsPolicy::Verify => builder.use_rustls_tls(),
            TlsPolicy::Pinned { sha256 } => {
                let pin = tls::parse_pin(sha256).map_err(ProxmoxError::Config)?;
                builder.use_preconfigured_tls(tls::client_config(Some(pin)).map_err(ProxmoxError::Config)?)
            }
            TlsPolicy::Insecure => {
                builder.use_preconfigured_tls(tls::client_config(None).map_err(ProxmoxError::Config)?)
            }
        };
        let http = builder.build().map_err(|e| ProxmoxError::Config(error_chain(&e)))?;
        Ok(Client(Arc::new(Inner {
            api: format!("{}/api2/json", target.url.trim_end_matches('/')),
            http,
            auth: target.auth.clone(),
            timeout,
            ticket: tokio::sync::Mutex::new(None),
        })))
    }

    /// The process-wide client for these target settings (URL, auth, TLS policy).
    pub fn for_target(target: &Target) -> Result<Client> {
        let settings = serde_json::to_vec(&(&target.url, &target.auth, &target.tls)).unwrap_or_default();
        let key = hex::encode(Sha256::digest(settings));
        let mut clients = CLIENTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = Client::new(target)?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    pub async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Value> {
        self.request(Method::GET, path, Params::Query(query)).await
    }

    pub async fn post(&self, path: &str, form: &[(String, String)]) -> Result<Value> {
        self.request(Method::POST, path, Params::Form(form)).await
    }

    pub async fn put(&self, path: &str, form: &[(String, String)]) -> Result<Value> {
        self.request(Method::PUT, path, Params::Form(form)).await
    }

    pub async fn delete(&self, path: &str, query: &[(String, String)]) -> Result<Value> {
        self.request(Method::DELETE, path, Params::Query(query)).await
    }

    /// `POST /nodes/{node}/storage/{storage}/upload` with `content=iso`; returns the UPID data.
    pub async fn upload_iso(&self, node: &str, storage: &str, filename: &str, bytes: &[u8]) -> Result<Value> {
        let path = format!(
            "/nodes/{}/storage/{}/upload",
            encode_segment(node),
            encode_segment(storage)
        );
        self.request(
            Method::POST,
            &path,
            Params::Upload {
                content: "iso",
                filename,
                bytes,
            },
        )
        .await
    }

    /// Makes sure the client can authenticate: a ticket login (fresh when `force`, else only
    /// when none is cached), or for an API token one authenticated call.
    pub async fn login(&self, force: bool) -> Result<()> {
        match &self.0.auth {
            TargetAuth::Password { .. } => {
                let mut slot = self.0.ticket.lock().await;
                if force || !slot.as_ref().is_some_and(Ticket::fresh) {
                    *slot = Some(self.ticket_login().await?);
                }
                Ok(())
            }
            TargetAuth::Token { .. } => self.get("/version", &[]).await.map(drop),
        }
    }

    /// `GET /nodes/{node}/tasks/{upid}/status`. The node in the UPID wins over `node`: a task
    /// is only known to the node that runs it.
    pub async fn task_status(&self, node: &str, upid: &str) -> Result<Value> {
        let node = upid_node(upid).unwrap_or(node);
        let path = format!("/nodes/{}/tasks/{}/status", encode_segment(node), encode_segment(upid));
        self.get(&path, &[]).await
    }

    /// Polls the task until it stops, then checks its `exitstatus`: `OK` and `WARNINGS: n`
    /// succeed and return the status object, anything else is [`ProxmoxError::TaskFailed`].
    pub async fn wait_task(&self, node: &str, upid: &str, timeout: Duration, interval: Duration) -> Result<Value> {
        let stopped = poll(timeout, interval, || async {
            let status = self.task_status(node, upid).await?;
            Ok((status.get("status").and_then(Value::as_str) == Some("stopped")).then_some(status))
        })
        .await?;
        let status = stopped.ok_or_else(|| ProxmoxError::TaskTimeout {
            upid: upid.to_string(),
            secs: timeout.as_secs(),
        })?;
        match status.get("exitstatus").and_then(Value::as_str) {
            Some(exit) if exit == "OK" || exit.starts_with("WARNINGS") => Ok(status),
            exit => Err(ProxmoxError::TaskFailed {
                upid: upid.to_string(),
                exitstatus: exit.unwrap_or("stopped without an exit status").to_string(),
            }),
        }
    }

    /// One API call with the target's auth; with a ticket, a 401 leads to exactly one fresh
    /// login and retry (the ticket may have expired or the host restarted).
    async fn request(&self, method: Method, path: &str, params: Params<'_>) -> Result<Value> {
        let mut relogged = false;
        loop {
            let ticket = match &self.0.auth {
                TargetAuth::Password { .. } => Some(self.ticket(relogged).await?),
                TargetAuth::Token { .. } => None,
            };
            let response = self.send(&method, path, &params, ticket.as_ref()).await?;
            let status = response.status().as_u16();
            if status == 401 && ticket.is_some() && !relogged {
                relogged = true;
                continue;
            }
            let body = response.text().await.map_err(|e| transport(&method, path, &e))?;
            if status >= 400 {
                return Err(ProxmoxError::Api {
                    method: method.to_string(),
                    path: path.to_string(),
                    status,
                    body,
                });
            }
            return Ok(match serde_json::from_str::<Value>(&body) {
                // agent.md §12: `data`, or the whole body when `data` is null.
                Ok(json) => match json.get("data") {
                    Some(data) if !data.is_null() => data.clone(),
                    _ => json,
                },
                Err(_) => Value::String(body),
            });
        }
    }

    async fn send(
        &self,
        method: &Method,
        path: &str,
        params: &Params<'_>,
        ticket: Option<&Ticket>,
    ) -> Result<reqwest::Response> {
        let url = format!("{}{path}", self.0.api);
        let mut request = self.0.http.request(method.clone(), &url).timeout(self.0.timeout);
        request = match &self.0.auth {
            TargetAuth::Token { token_id, secret } => {
                request.header("Authorization", format!("PVEAPIToken={token_id}={secret}"))
            }
            TargetAuth::Password { .. } => match ticket {
                Some(t) => request
                    .header("Cookie", format!("PVEAuthCookie={}", t.ticket))
                    .header("CSRFPreventionToken", &t.csrf),
                None => request,
            },
        };
        request = match params {
            Params::Query(query) => request.query(query),
            Params::Form(form) => request.form(form),
            Params::Upload {
                content,
                filename,
                bytes,
            } => {
                let file = reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name(filename.to_string())
                    .mime_str("application/octet-stream")
                    .map_err(|e| transport(method, path, &e))?;
                let form = reqwest::multipart::Form::new()
                    .text("content", content.to_string())
                    .part("filename", file);
                request.multipart(form).timeout(UPLOAD_TIMEOUT.max(self.0.timeout))
            }
        };
        request.send().await.map_err(|e| transport(method, path, &e))
    }

    /// The cached ticket, or a new one when there is none, it is old, or `renew` is set.
    async fn ticket(&self, renew: bool) -> Result<Ticket> {
        let mut slot = self.0.ticket.lock().await;
        match slot.as_ref() {
            Some(ticket) if !renew && ticket.fresh() => Ok(ticket.clone()),
            _ => {
                let ticket = self.ticket_login().await?;
                *slot = Some(ticket.clone());
                Ok(ticket)
            }
        }
    }

    async fn ticket_login(&self) -> Result<Ticket> {
        let TargetAuth::Password { username, password } = &self.0.auth else {
            return Err(ProxmoxError::Config("ticket login needs a password target".into()));
        };
        let username = if username.contains('@') {
            username.clone()
        } else {
            format!("{username}@pam")
        };
        let path = "/access/ticket";
        let form = [("username", username.as_str()), ("password", password.as_str())];
        let response = self
            .0
            .http
            .post(format!("{}{path}", self.0.api))
            .timeout(self.0.timeout)
            .form(&form)
            .send()
            .await
            .map_err(|e| transport(&Method::POST, path, &e))?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| transport(&Method::POST, path, &e))?;
        let data = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|json| json.get("data").cloned());
        let field = |name: &str| {
            data.as_ref()
                .and_then(|d| d.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match (field("ticket"), field("CSRFPreventionToken")) {
            (Some(ticket), Some(csrf)) if status < 400 => Ok(Ticket {
                ticket,
                csrf,
                obtained: Instant::now(),
            }),
            _ if status == 401 || status == 403 => Err(ProxmoxError::AuthFailed { status, body }),
            _ => Err(ProxmoxError::LoginFailed { status, body }),
        }
    }
}

impl Ticket {
    fn fresh(&self) -> bool {
        self.obtained.elapsed() < TICKET_LIFETIME
    }
}

fn transport(method: &Method, path: &str, error: &dyn std::error::Error) -> ProxmoxError {
    ProxmoxError::Transport {
        method: method.to_string(),
        path: path.to_string(),
        message: error_chain(error),
    }
}

/// reqwest's own text ("error sending request") hides the cause; the chain names it
/// (`invalid peer certificate: UnknownIssuer`, `operation timed out`, …).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// Percent-encodes one path segment (a UPID has `:`, `@` and `!`).
pub fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The node a UPID names (`UPID:<node>:…`).
pub fn upid_node(upid: &str) -> Option<&str> {
    let mut parts = upid.strip_prefix("UPID:")?.split(':');
    parts.next().filter(|node| !node.is_empty())
}

/// Calls `probe` until it returns `Some`, waiting `interval` between calls, for at most
/// `timeout`. `Ok(None)` means the time ran out; a probe error ends the wait at once.
pub async fn poll<T, E, F, Fut>(
    timeout: Duration,
    interval: Duration,
    mut probe: F,
) -> std::result::Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<Option<T>, E>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(done) = probe().await? {
            return Ok(Some(done));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
    }
}

/// Object keys that may hold a UPID, in the order they are tried (agent.md §12).
const UPID_KEYS: [&str; 9] = [
    "upid", "UPID", "task", "taskId", "task_id", "id", "value", "data", "result",
];

/// Finds the UPID in an API answer (agent.md §12): the first `UPID:…` token of a string (any
/// other non-empty string as it is), the first hit in an array, the known keys of an object;
/// at most 6 levels deep.
pub fn extract_upid(value: &Value) -> Option<String> {
    find_upid(value, 0)
}

fn find_upid(value: &Value, depth: usize) -> Option<String> {
    if depth > 6 {
        return None;
    }
    match value {
        Value::String(text) => {
            let token = text.find("UPID:").and_then(|start| {
                let token = text[start..]
                    .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                    .next()?;
                (token.len() > "UPID:".len()).then_some(token)
            });
            token
                .or((!text.is_empty()).then_some(text.as_str()))
                .map(str::to_string)
        }
        Value::Array(items) => items.iter().find_map(|item| find_upid(item, depth + 1)),
        Value::Object(map) => UPID_KEYS
            .iter()
            .filter_map(|key| map.get(*key))
            .find_map(|v| find_upid(v, depth + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const UPID: &str = "UPID:h1:00012000:02CCE000:6B0CA646:qmclone:100:root@pam:";

    #[test]
    fn upids_are_found_in_strings_arrays_and_known_keys() {
        assert_eq!(extract_upid(&json!(UPID)).as_deref(), Some(UPID));
        assert_eq!(
            extract_upid(&json!(format!("task \"{UPID}\" started"))).as_deref(),
            Some(UPID)
        );
        assert_eq!(extract_upid(&json!("plain-id")).as_deref(), Some("plain-id"));
        assert_eq!(extract_upid(&json!("")), None);
        assert_eq!(extract_upid(&json!([null, 3, UPID])).as_deref(), Some(UPID));
        assert_eq!(
            extract_upid(&json!({"other": "x", "data": {"upid": UPID}})).as_deref(),
            Some(UPID)
        );
        // `upid` is tried before `data`.
        assert_eq!(
            extract_upid(&json!({"data": "second", "upid": "first"})).as_deref(),
            Some("first")
        );
        assert_eq!(extract_upid(&json!({"data": null})), None);
        assert_eq!(extract_upid(&json!(12)), None);
    }

    #[test]
    fn upid_search_stops_below_six_levels() {
        let mut deep = json!(UPID);
        for _ in 0..6 {
            deep = json!({ "data": deep });
        }
        assert_eq!(extract_upid(&deep).as_deref(), Some(UPID));
        assert_eq!(extract_upid(&json!({ "data": deep })), None);
    }

    #[test]
    fn segments_are_percent_encoded_and_the_node_read_from_the_upid() {
        assert_eq!(
            encode_segment("UPID:h1:x:root@pam!t:"),
            "UPID%3Ah1%3Ax%3Aroot%40pam%21t%3A"
        );
        assert_eq!(upid_node(UPID), Some("h1"));
        assert_eq!(upid_node("nope"), None);
    }

    #[test]
    fn errors_read_as_the_spec_words_them() {
        let api = ProxmoxError::Api {
            method: "GET".into(),
            path: "/version".into(),
            status: 500,
            body: "x".into(),
        };
        assert_eq!(api.to_string(), "Proxmox API GET /version failed (HTTP 500): x");
        let timeout = ProxmoxError::TaskTimeout {
            upid: "U".into(),
            secs: 3,
        };
        assert_eq!(timeout.to_string(), "Proxmox task U timed out after 3s");
    }
}
