//! Security tests: one black-box test (or a few) per hole named in the threat model
//! (`docs/security.md`), each run against the real server on a loopback port.

#[path = "../common/mod.rs"]
mod common;
mod data_at_rest;
mod egress;
mod forwarded;
mod log_forging;
mod slow_clients;
