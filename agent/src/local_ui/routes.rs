//! The page's JSON API: the agent's state, pairing, and the Proxmox targets. Answers use the
//! server's envelope (`{success, data | error}`); no answer ever carries a secret back.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Ctx, Shared};
use crate::config::{AgentConfig, NewTarget, Target, TargetAuth, TlsPolicy};
use crate::proxmox::{encode_segment, Client};

/// How long "Test connection" waits for each Proxmox request.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/state", get(state))
        .route("/api/pair", post(pair))
        .route("/api/targets", post(add_target))
        .route("/api/targets/test", post(test_target))
        .route("/api/targets/{id}", delete(remove_target))
        .route("/api/done", post(done))
}

/// A refusal in the envelope: `{success: false, error: {code, message}}`.
pub(super) struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json!({ "success": false, "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

type Reply = Result<Response, Failure>;

/// A JSON body whose refusal (not JSON, a missing field) is in the envelope too.
struct Body<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(Failure::new(rejection.status(), "INVALID_BODY", rejection.body_text())),
        }
    }
}

fn success(status: StatusCode, data: Value) -> Reply {
    Ok((status, Json(json!({ "success": true, "data": data }))).into_response())
}

fn load(shared: &Shared) -> Result<AgentConfig, Failure> {
    shared.store.load().map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "CONFIG_UNREADABLE",
            format!("cannot read the agent configuration: {e}"),
        )
    })
}

fn save(shared: &Shared, config: &AgentConfig) -> Result<(), Failure> {
    shared.store.save(config).map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "CONFIG_UNWRITABLE",
            format!(
                "cannot save the agent configuration in {}: {e}",
                shared.store.dir().display()
            ),
        )
    })
}

/// A target as the page shows it: everything but its secrets, which are only said to exist.
fn view(target: &Target, active: Option<&str>) -> Value {
    let (auth, user) = match &target.auth {
        TargetAuth::Token { token_id, .. } => ("token", token_id.as_str()),
        TargetAuth::Password { username, .. } => ("password", username.as_str()),
    };
    let (tls, fingerprint) = match &target.tls {
        TlsPolicy::Verify => ("verify", None),
        TlsPolicy::Pinned { sha256 } => ("pinned", Some(sha256.as_str())),
        TlsPolicy::Insecure => ("insecure", None),
    };
    json!({
        "id": target.id,
        "name": target.name,
        "url": target.url,
        "node": target.node,
        "auth": auth,
        "user": user,
        "tls": tls,
        "fingerprint": fingerprint,
        "ssh_host": target.ssh.host,
        "ssh_port": target.ssh.port,
        "ssh_username": target.ssh.username,
        "has_ssh_password": target.ssh.password.is_some(),
        "has_ssh_key": target.ssh.private_key.is_some(),
        "active": active == Some(target.id.as_str()),
    })
}

async fn state(State(shared): Ctx) -> Reply {
    let config = load(&shared)?;
    let active = config.active_target.as_deref();
    let link = crate::status::read(shared.store.dir()).map(|s| json!({ "status": s.status, "message": s.message }));
    success(
        StatusCode::OK,
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "config_dir": shared.store.dir().display().to_string(),
            "paired": config.link().is_some(),
            "server_url": config.server_url,
            "agent_id": config.agent_id,
            "agent_name": config.agent_name,
            "paired_at": config.paired_at,
            "link": link,
            "targets": config.targets.iter().map(|t| view(t, active)).collect::<Vec<_>>(),
        }),
    )
}

#[derive(Deserialize)]
struct PairForm {
    input: String,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

async fn pair(State(shared): Ctx, Body(form): Body<PairForm>) -> Reply {
    let paired = crate::pairing::pair(&form.input, form.server.as_deref(), form.name)
        .await
        .map_err(|message| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "PAIRING_FAILED", message))?;
    let hints = paired.proxmox.clone();
    let config = crate::pairing::remember(&shared.store, &paired.server, paired.registered)
        .map_err(|message| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "CONFIG_UNWRITABLE", message))?;
    success(
        StatusCode::OK,
        json!({
            "server_url": config.server_url,
            "agent_id": config.agent_id,
            "agent_name": config.agent_name,
            "proxmox": hints,
        }),
    )
}

/// The typed target, or a 422 naming what to fix.
fn build(form: NewTarget) -> Result<Target, Failure> {
    form.build()
        .map_err(|message| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "INVALID_TARGET", message))
}

/// Logs in (or, for an API token, makes one authenticated call), reads the version and lists
/// the VMs of the node: what the agent will need to do its work.
async fn probe(target: &Target) -> Result<Value, String> {
    let client = Client::with_timeout(target, TEST_TIMEOUT).map_err(|e| e.to_string())?;
    client.login(true).await.map_err(|e| e.to_string())?;
    let version = client.get("/version", &[]).await.map_err(|e| e.to_string())?;
    let vms = client
        .get(&format!("/nodes/{}/qemu", encode_segment(&target.node)), &[])
        .await
        .map_err(|e| format!("connected, but node {:?} does not answer: {e}", target.node))?;
    Ok(json!({
        "version": version.get("version"),
        "node": target.node,
        "vms": vms.as_array().map_or(0, Vec::len),
    }))
}

/// An error text with every secret of `target` masked: Proxmox or a proxy may echo what it got.
fn masked(target: &Target, text: String) -> String {
    let mut secrets = vec![match &target.auth {
        TargetAuth::Token { secret, .. } => secret.as_str(),
        TargetAuth::Password { password, .. } => password.as_str(),
    }];
    secrets.extend(target.ssh.password.as_deref());
    secrets
        .into_iter()
        .filter(|s| s.len() >= 3)
        .fold(text, |text, secret| text.replace(secret, "***"))
}

async fn test_target(Body(form): Body<NewTarget>) -> Reply {
    let target = build(form)?;
    match probe(&target).await {
        Ok(found) => success(StatusCode::OK, found),
        Err(e) => Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "TEST_FAILED",
            masked(&target, e),
        )),
    }
}

#[derive(Deserialize)]
struct AddForm {
    target: NewTarget,
    /// Save although the connection test fails (a host that is down right now).
    #[serde(default)]
    save_anyway: bool,
}

/// Saves a target after a passing connection test; one that fails is refused with the test's
/// error unless the person chose "Save anyway".
async fn add_target(State(shared): Ctx, Body(form): Body<AddForm>) -> Reply {
    let target = build(form.target)?;
    let tested = match probe(&target).await {
        Ok(found) => Some(found),
        Err(e) if !form.save_anyway => {
            let message = format!("not saved: the connection test failed: {}", masked(&target, e));
            return Err(Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "TEST_FAILED", message));
        }
        Err(_) => None,
    };
    let mut config = load(&shared)?;
    let id = target.id.clone();
    config.upsert_target(target);
    save(&shared, &config)?;
    tracing::info!(target_id = %id, tested = tested.is_some(), "target saved from the local page");
    let saved = config.targets.iter().find(|t| t.id == id).map(|t| view(t, Some(&id)));
    success(StatusCode::CREATED, json!({ "target": saved, "test": tested }))
}

async fn remove_target(State(shared): Ctx, Path(id): Path<String>) -> Reply {
    let mut config = load(&shared)?;
    if !config.remove_target(&id) {
        let message = format!("no target with id {id}");
        return Err(Failure::new(StatusCode::NOT_FOUND, "TARGET_NOT_FOUND", message));
    }
    save(&shared, &config)?;
    success(StatusCode::OK, json!({ "removed": id }))
}

/// "Done": the page is closed and the server stops.
async fn done(State(shared): Ctx) -> Reply {
    let _ = shared.stop.send(true);
    success(StatusCode::OK, json!({ "stopped": true }))
}
