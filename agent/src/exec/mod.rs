//! The command catalogue (agent.md §9–10, api-ops.md §3.7): routes a command to its executor.

use std::fmt;
use std::path::PathBuf;

use botmox_contract::commands::{Command, Executor, Payload};
use botmox_contract::params::{required, Common, ParamError, Present, Problem, SecretOr, Text};
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
/// config, SSH-backed commands to the SSH executor, the rest to the Proxmox HTTP executor.
/// The payload is read into its typed parameters first, so executors never see a bad one.
pub async fn execute(ctx: &ExecContext, command_type: &str, payload: &Value) -> Result<Value, ExecError> {
    let command = Command::parse(command_type).map_err(|e| ExecError::plain(e.to_string()))?;
    let payload = typed(command, payload)?;
    match command.executor() {
        Executor::Targets => Ok(list_targets(ctx)),
        Executor::Ssh => ssh::run(ctx, select_target(ctx, &payload.common)?, &payload).await,
        Executor::ProxmoxApi => proxmox::execute(ctx, select_target(ctx, &payload.common)?, &payload).await,
    }
}

/// `payload` read as `command`'s parameters; a bad one is a `BAD_REQUEST` naming it, a missing
/// one reads `<param> required for proxmox.<action>` as it always did (agent.md §10).
pub fn typed(command: Command, payload: &Value) -> Result<Payload, ExecError> {
    let payload = Payload::parse(command, payload).map_err(|e| param_error(command, e))?;
    payload.check().map_err(|e| param_error(command, e))?;
    Ok(payload)
}

fn param_error(command: Command, ParamError { field, problem }: ParamError) -> ExecError {
    match problem {
        Problem::Missing => ExecError::new("BAD_REQUEST", format!("{field} required for {command}")),
        Problem::Invalid(why) => ExecError::new("BAD_REQUEST", format!("{field} {why} (for {command})")),
    }
}

/// A key a checked payload holds (see [`typed`]).
fn need<'a, T: Present>(value: &'a Option<T>, field: &str, command: Command) -> Result<&'a T, ExecError> {
    required(value, field).map_err(|e| param_error(command, e))
}

/// A parameter's value. Every `secret_ref` is resolved before a command runs, so one still
/// standing here is a bug, reported rather than sent on.
fn revealed<'a, T>(value: &'a SecretOr<T>, field: &str) -> Result<&'a T, ExecError> {
    value
        .plain()
        .ok_or_else(|| ExecError::plain(format!("{field} still refers to a secret: it was not resolved")))
}

/// `payload.target` (which must exist), else the active target, else the first one.
/// `payload.targetId` is ignored, as in the reference.
pub fn select_target<'a>(ctx: &'a ExecContext, common: &Common) -> Result<&'a Target, ExecError> {
    if let Some(id) = common.target.as_ref().and_then(Text::non_blank) {
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
                "sshConfigured": crate::ssh::SshParams::resolve(t, &Common::default()).is_configured(),
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
