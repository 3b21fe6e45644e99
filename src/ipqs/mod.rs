//! IP quality checks through IPQualityScore (spec `api-domains.md` §12): the provider call,
//! its errors as API errors, and a per-tenant cache of fresh answers.

pub mod client;
pub mod routes;
pub mod service;
pub mod store;
