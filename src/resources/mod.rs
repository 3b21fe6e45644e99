//! Resources: licenses, proxies and subscriptions (spec `api-domains.md` §6).

pub mod expiry;
pub mod routes;
pub mod rules;
pub mod service;
pub mod store;
