//! `proxmox.ssh-*` and ISO commands served over SSH (agent.md §10.3, §10.4).

use serde_json::Value;

use super::{ExecContext, ExecError};
use crate::config::Target;

/// Runs one SSH-backed `proxmox.<action>`; `action` is the part after `proxmox.`.
pub async fn execute(
    _ctx: &ExecContext,
    _target: &Target,
    action: &str,
    _payload: &Value,
) -> Result<Value, ExecError> {
    Err(ExecError::plain(format!("Unknown proxmox action: {action}")))
}

/// Best-effort removal of an uploaded ISO (`detach-cdrom` with `deleteIso`).
pub async fn remove_iso(_ctx: &ExecContext, _target: &Target, _payload: &Value, _volume: &str) {}
