//! The infra gateway (`api-ops.md` §5): the Proxmox, TinyFileManager and Syncthing web UIs
//! reverse-proxied on the server's own origin, HTTP and WebSocket, for `infra` users.
//!
//! The reference only checked that some token was present; ours verifies it and requires the
//! `infra` role. The upstream must be reachable from the server: when it is not (it may only
//! exist inside an agent's network), the answer is a 502 page that says so.

mod proxy;
mod services;

pub use proxy::router;
