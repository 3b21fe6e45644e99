//! `/api/v1/infra/*` (`api-ops.md` §4): direct Proxmox and SSH operations for `infra` users.
//!
//! The reference mocked these on the server. Ours relay each call to an agent as a vm-ops
//! command and answer with its result, so the server never holds Proxmox credentials and the
//! queue, audit and event stream see every operation.

pub mod payloads;
pub mod relay;
pub mod routes;
pub mod rules;
