//! Per-tenant settings: one JSON tree served both as typed documents (`api_keys`, `proxy`,
//! `notifications/events`) and by path (spec `api-domains.md` §9).

pub mod routes;
pub mod service;
pub mod store;
pub mod tree;
