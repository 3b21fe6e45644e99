//! botmox-agent: pairs with a Bot-Mox server, keeps one WebSocket to it, and runs the VM
//! commands it receives against Proxmox VE (HTTP API) and the Proxmox host (SSH).
//!
//! Map: `cli` (the commands), `config` (what is stored and where), `pairing` (what `pair`
//! accepts), `api` (HTTP calls to the server), `link` (the run loop: socket, heartbeat,
//! fallback, command processing), `journal` (redelivery de-duplication), `exec` (the command
//! catalogue), `proxmox` (the PVE HTTP client), `ssh` (the russh client with pinned host
//! keys), `status`, `log`, `redact`, `secrets` (`secret_ref` resolution), `diagnostics`,
//! `local_ui` (the loopback pairing/computers page), `service` (the Windows service), `tray`
//! (`botmox-agent tray`: the link under a notification-area icon), `desktop` (start at login,
//! the botmox:// scheme, one tray per user).

pub mod api;
pub mod cli;
pub mod config;
pub mod desktop;
pub mod diagnostics;
pub mod exec;
pub mod journal;
pub mod keyring;
pub mod link;
pub mod local_ui;
pub mod log;
pub mod pairing;
pub mod proxmox;
pub mod redact;
pub mod secrets;
pub mod service;
pub mod ssh;
pub mod status;
pub mod tray;

/// This machine's name, for registration and heartbeats.
pub fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}
