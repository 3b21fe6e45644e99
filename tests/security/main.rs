//! Security tests: one black-box test (or a few) per hole named in the threat model
//! (`docs/security.md`), each run against the real server on a loopback port.

#[path = "../common/mod.rs"]
mod common;

mod channel_settings;
mod data_at_rest;
mod egress;
mod enumeration;
mod forwarded;
mod gateway;
mod log_forging;
mod login_throttle;
mod operator;
mod secret_reads;
mod session;
mod slow_clients;
mod tenant_vault;
mod vm_config;
