//! Security tests: one black-box test (or a few) per hole named in the threat model
//! (`docs/security.md`), each run against the real server on a loopback port.

#[path = "../common/mod.rs"]
mod common;
mod gateway;
