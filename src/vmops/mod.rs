//! The VM operations command queue (spec `api-ops.md` §3): users dispatch commands to one of
//! their agents, the agent claims, runs and reports them, and every transition is an event.

pub mod routes;
pub mod rules;
pub mod service;
pub mod store;
pub mod waiters;
