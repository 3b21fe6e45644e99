//! The command catalogue (agent.md §9–10, api-ops.md §3.7): routes a command to its executor.

use std::fmt;
use std::path::PathBuf;

use botmox_contract::commands::{Command, Executor};
use serde_json::{json, Value};

use crate::config::Target;

pub mod proxmox;
pub mod ssh;

/// What an executor may use: the saved targets and where pinned SSH host keys live.
#[derive(Clone, Debug)]
pub struct ExecContext {
    pub targets: Vec<Target>,
    pub active_target: Option<String>,
    /// The agent's `known_hosts` file (trust on first use, refused when a key changes).
    pub known_hosts: PathBuf,
}

/// A failed command. Shown to users as `CODE: message` (the web UI reads the code prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecError {
    pub code: Option<&'static str>,
    pub message: String,
}

impl ExecError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ExecError {
            code: Some(code),
            message: message.into(),
        }
    }

    pub fn plain(message: impl Into<String>) -> Self {
        ExecError {
            code: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ExecError {}

/// Runs one command (agent.md §9), routed by the catalogue: `proxmox.list-targets` from the
/// config, SSH-backed commands to [`ssh::execute`], the rest to the Proxmox HTTP executor.
pub async fn execute(ctx: &ExecContext, command_type: &str, payload: &Value) -> Result<Value, ExecError> {
    let command = Command::parse(command_type).map_err(|e| ExecError::plain(e.to_string()))?;
    match command.executor() {
        Executor::Targets => Ok(list_targets(ctx)),
        Executor::Ssh => ssh::execute(ctx, select_target(ctx, payload)?, command, payload).await,
        Executor::ProxmoxApi => proxmox::execute(ctx, select_target(ctx, payload)?, command, payload).await,
    }
}

/// `payload.target` (which must exist), else the active target, else the first one.
/// `payload.targetId` is ignored, as in the reference.
pub fn select_target<'a>(ctx: &'a ExecContext, payload: &Value) -> Result<&'a Target, ExecError> {
    if let Some(id) = payload
        .get("target")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
    {
        return ctx
            .targets
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| ExecError::plain(format!("Unknown Proxmox target: {id}")));
    }
    let active = ctx
        .active_target
        .as_deref()
        .and_then(|id| ctx.targets.iter().find(|t| t.id == id));
    active
        .or(ctx.targets.first())
        .ok_or_else(|| ExecError::plain("No Proxmox configuration found"))
}

/// `[{id, label, url, username, node, isActive, sshConfigured}]`, the active target first and
/// the rest by label.
fn list_targets(ctx: &ExecContext) -> Value {
    let mut targets: Vec<&Target> = ctx.targets.iter().collect();
    let is_active = |t: &Target| ctx.active_target.as_deref() == Some(t.id.as_str());
    targets.sort_by_cached_key(|t| (!is_active(t), target_label(t)));
    let items = targets
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id,
                "label": target_label(t),
                "url": t.url,
                "username": t.auth.user(),
                "node": t.node,
                "isActive": is_active(t),
                "sshConfigured": crate::ssh::SshParams::resolve(t, &Value::Null).is_configured(),
            })
        })
        .collect();
    Value::Array(items)
}

/// `<host[:port]> · <node> · <username>` (agent.md §3.4).
fn target_label(target: &Target) -> String {
    let without_scheme = target
        .url
        .split_once("://")
        .map_or(target.url.as_str(), |(_, rest)| rest);
    let host = without_scheme.split('/').next().unwrap_or(without_scheme);
    format!("{host} · {} · {}", target.node, target.auth.user())
}
