//! The success shapes handlers return. Apart from the router (`http/mod.rs`), which imports every
//! domain, so that a domain's routes depend on this file alone and not on all the others.

use axum::http::StatusCode;
use botmox_contract::envelope::Success;

/// A 200 with the success envelope.
pub type Ok<T> = axum::Json<Success<T>>;
/// A 201 with the success envelope.
pub type Created<T> = (StatusCode, axum::Json<Success<T>>);

pub fn ok<T>(data: T) -> Ok<T> {
    axum::Json(Success::new(data))
}

pub fn created<T>(data: T) -> Created<T> {
    (StatusCode::CREATED, ok(data))
}
