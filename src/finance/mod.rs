//! Finance: the ledger of income and expenses, daily stats and the gold price history
//! (spec `api-domains.md` §7).

pub mod routes;
pub mod stats;
pub mod store;
