//! Bots: the registry of automation bots and their lifecycle (spec `api-domains.md` §5).

pub mod routes;
pub mod rules;
pub mod store;
