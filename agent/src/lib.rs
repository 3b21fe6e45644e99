//! botmox-agent: pairs with a Bot-Mox server, keeps one WebSocket to it, and runs the VM
//! commands it receives against Proxmox VE (HTTP API) and the Proxmox host (SSH).
//!
//! Map: `config` (what is stored and where), `exec` (the command catalogue), `proxmox`
//! (the PVE HTTP client), `ssh` (the russh client with pinned host keys).

pub mod config;
pub mod exec;
pub mod proxmox;
pub mod ssh;
