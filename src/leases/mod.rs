//! Execution leases (spec `api-ops.md` §7): short-lived permission for one runner to run one
//! module on one registered VM, issued against tenant licences and per-user entitlements,
//! carried as an HS256 token (`token.rs`) whose key lives in the vault. `check.rs` is the
//! lease check of the artifact resolve; `admin.rs` manages licences and entitlements.

pub mod admin;
pub mod check;
pub mod routes;
pub mod rules;
pub mod service;
pub mod store;
pub mod token;
