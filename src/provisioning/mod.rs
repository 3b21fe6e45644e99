//! Provisioning (`api-ops.md` §8): unattend profiles, the per-VM answer file, `provision.json`
//! and bootstrap, the config ISO built from them, provisioning tokens and setup progress.

pub mod iso;
pub mod payload;
pub mod profile;
pub mod progress;
pub mod records;
pub mod routes;
pub mod rules;
pub mod service;
pub mod store;
pub mod tokens;
pub mod unattend;

/// The names of the setup files on a VM's config ISO, which the answer file and the profile
/// refer to.
pub const PROVISION_FILE: &str = "provision.json";
pub const BOOTSTRAP_FILE: &str = "START.ps1";
