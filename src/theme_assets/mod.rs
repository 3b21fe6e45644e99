//! Theme background images (spec `api-domains.md` §10): presign, upload to a signed URL,
//! complete, list with signed image URLs, delete.

pub mod routes;
pub mod store;
