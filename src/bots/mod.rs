//! Bots: the registry of automation bots and their lifecycle (spec `api-domains.md` §5).

pub mod lifecycle;
pub mod routes;
pub mod store;
