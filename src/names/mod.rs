//! WoW names: candidate character names for new bots (spec `api-domains.md` §11).
//!
//! The reference scraped a public generator site and later served a fixed pool of 26 names.
//! Here names are generated offline from syllable tables per race and gender
//! (`assets/names/`, compiled in), keeping the contract's query (`count`, `batches`) and
//! answer shapes. Bot-Mox extensions: `race`, `gender` and a `seed` for repeatable answers.

pub mod generator;
pub mod routes;
