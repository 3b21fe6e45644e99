//! Secrets (spec `api-ops.md` §10): credentials stored by reference and bound to bots, VMs,
//! agents or the tenant. Metadata in `secrets`, the material sealed by the vault in
//! `vault_entries` (so a master-key rotation re-encrypts it), handed in plaintext only to
//! agents a binding reaches (`reach.rs`).

pub mod material;
pub mod reach;
pub mod routes;
pub mod service;
pub mod store;
