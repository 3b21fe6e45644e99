//! The audit trail: who created, changed or deleted which entity, when, and which fields.
//! Written in the same transaction as the change it describes.

pub mod routes;
pub mod store;
