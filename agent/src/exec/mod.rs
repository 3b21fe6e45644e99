//! The command catalogue (agent.md §9–10, api-ops.md §3.7): routes a command to its executor.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

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

/// Runs one command. (Placeholder until the router lands: the Proxmox engineer replaces this
/// body with the routing of agent.md §9.)
pub async fn execute(_ctx: &ExecContext, command_type: &str, _payload: &Value) -> Result<Value, ExecError> {
    Err(ExecError::plain(format!("Unknown command type: {command_type}")))
}
