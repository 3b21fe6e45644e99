//! The `/api/v1` contract shared by the Bot-Mox server and the agent.
//!
//! Everything here is plain data: serde types with OpenAPI schemas. The server's handlers and
//! the agent compile against the same definitions, so the two cannot drift apart.

pub mod agent;
pub mod auth;
pub mod commands;
pub mod envelope;
pub mod health;
pub mod params;
