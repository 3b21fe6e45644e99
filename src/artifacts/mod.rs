//! Artifacts (spec `api-ops.md` §6): tenant-scoped distribution of the runner and other
//! binaries. Release metadata in SQLite, files in the object store under
//! `artifacts/<tenant>/`, reachable only through short-lived signed URLs that the resolve
//! hands to holders of an active lease; every resolve and download attempt is audited.

pub mod download;
pub mod resolve;
pub mod routes;
pub mod service;
pub mod store;
