//! The cursor of the cursor-paged lists (audit, client logs, notification history).

use std::collections::HashMap;

use crate::error::{ApiResult, ErrorCode, FieldErrors};

/// The query of a cursor-paged list as the document shows it; [`cursor`] parses it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct CursorQuery {
    /// Entries older than this `seq`.
    #[param(minimum = 1)]
    before: Option<i64>,
    /// Default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// `before` (optional, > 0) and `limit` (1-200, default 50) of a cursor-paged list.
pub fn cursor(params: &HashMap<String, String>) -> ApiResult<(Option<i64>, u64)> {
    let mut errors = FieldErrors::default();
    let before = match params.get("before") {
        None => None,
        Some(raw) => errors.check(
            "before",
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|b| *b > 0)
                .ok_or("must be a positive whole number"),
        ),
    };
    let limit = match params.get("limit") {
        None => Some(50),
        Some(raw) => errors.check(
            "limit",
            raw.trim()
                .parse::<u64>()
                .ok()
                .filter(|l| (1..=200).contains(l))
                .ok_or("must be 1-200"),
        ),
    };
    errors.into_result(ErrorCode::BadRequest)?;
    Ok((before, limit.unwrap_or(50)))
}
