//! botmox-agent: pairs with a Bot-Mox server, keeps one WebSocket to it, and runs the VM
//! commands it receives against Proxmox VE (HTTP API) and the Proxmox host (SSH).
//!
//! Map: `cli` (the commands), `config` (what is stored and where), `pairing` (what `pair`
//! accepts), `api` (HTTP calls to the server), `link` (the run loop: socket, heartbeat,
//! fallback, command processing), `journal` (redelivery de-duplication), `exec` (the command
//! catalogue), `proxmox` (the PVE HTTP client), `ssh` (the russh client with pinned host
//! keys), `status`, `log`, `redact`, `secrets` (`secret_ref` resolution), `diagnostics`.

pub mod api;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod exec;
pub mod journal;
pub mod keyring;
pub mod link;
pub mod log;
pub mod pairing;
pub mod proxmox;
pub mod redact;
pub mod secrets;
pub mod ssh;
pub mod status;

/// This machine's name, for registration and heartbeats.
pub fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}
