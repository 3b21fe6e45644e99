//! Test doubles that behave like one Proxmox VE host: `pve` speaks its HTTP API (tickets,
//! CSRF, API tokens, UPID tasks), `ssh` is an in-process russh server that understands the
//! shell commands the agent sends. Both share one simulated host state. `process` holds what
//! the server's and the agent's black-box tests do with child processes; `pg` makes a throwaway
//! PostgreSQL database per test.

pub mod host;
pub mod pg;
pub mod process;
pub mod pve;
pub mod ssh;
