//! Agents: pairing, registration, heartbeat, listing and revocation (spec `api-ops.md` §1).
//! The command queue and the WebSocket channel build on this.

pub mod pairing;
pub mod principal;
pub mod routes;
pub mod service;
pub mod store;
pub mod ws;
