//! Provisioning (`api-ops.md` §8): unattend profiles, the per-VM answer file, `provision.json`
//! and bootstrap, the config ISO built from them, provisioning tokens and setup progress.

pub mod iso;
pub mod payload;
pub mod profile;
pub mod records;
pub mod routes;
pub mod store;
pub mod tokens;
pub mod unattend;
