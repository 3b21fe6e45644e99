//! The VM registry (`api-ops.md` §2): binds a machine's SMBIOS UUID to a tenant and an owner,
//! which licence leases and downloads check.

pub mod routes;
pub mod rules;
pub mod store;
