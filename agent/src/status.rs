//! The agent's link state, written to `state.json` in the config directory as it changes, so
//! `botmox-agent status` can show it without talking to the running loop; a tray in the same
//! process follows it with [`subscribe`].

use serde::{Deserialize, Serialize};

pub const FILE: &str = "state.json";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Idle,
    Connecting,
    Online,
    Error,
    Revoked,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    pub message: String,
    pub updated_at: String,
    pub pid: u32,
}

/// The latest state written by this process, for a tray in the same process.
fn latest() -> &'static tokio::sync::watch::Sender<Option<State>> {
    static LATEST: std::sync::OnceLock<tokio::sync::watch::Sender<Option<State>>> = std::sync::OnceLock::new();
    LATEST.get_or_init(|| tokio::sync::watch::Sender::new(None))
}

/// Follows the state as this process writes it.
pub fn subscribe() -> tokio::sync::watch::Receiver<Option<State>> {
    latest().subscribe()
}

/// Best effort: a state file that cannot be written must not stop the agent.
pub fn write(dir: &std::path::Path, status: Status, message: &str) {
    let state = State {
        status,
        message: message.to_owned(),
        updated_at: crate::link::now_iso(),
        pid: std::process::id(),
    };
    latest().send_replace(Some(state.clone()));
    if let Ok(bytes) = serde_json::to_vec_pretty(&state) {
        if let Err(e) = crate::config::write_private(&dir.join(FILE), &bytes) {
            tracing::debug!("cannot write {FILE}: {e}");
        }
    }
}

pub fn read(dir: &std::path::Path) -> Option<State> {
    serde_json::from_slice(&std::fs::read(dir.join(FILE)).ok()?).ok()
}
