//! Provisioning tokens (`api-ops.md` §8.5): opaque and random (`bmx_p_…`), stored as a SHA-256
//! hash, one per (tenant, VM). A token is good for every step of its VM's setup until it is
//! used (the `completed`/`completed` report), revoked, replaced by a re-issue, or expires.

use rusqlite::Connection;

use super::store::{self, TokenRow};
use crate::auth::token;
use crate::db::Conn;
use crate::error::{ApiError, ApiResult, ErrorCode};

pub const PREFIX: &str = "bmx_p_";

/// Why a token is refused, as the 401 `TOKEN_INVALID` message.
fn refuse(reason: &'static str) -> ApiError {
    ApiError::new(ErrorCode::TokenInvalid).with_message(reason)
}

/// The token's row if it may act for `vm_uuid` at `now`.
pub fn check(conn: &dyn Conn, plaintext: &str, vm_uuid: &str, now: i64) -> ApiResult<TokenRow> {
    let row = store::token_by_hash(conn, &token::hash(plaintext.trim()))?
        .ok_or_else(|| refuse("Token not found (it may have been replaced by a newer one)"))?;
    if row.vm_uuid != vm_uuid.trim().to_ascii_lowercase() {
        return Err(refuse("VM UUID mismatch: this token belongs to another VM"));
    }
    match row.status_at(now) {
        "active" => Ok(row),
        "used" => Err(refuse("Token already used: this VM's setup completed")),
        "revoked" => Err(refuse("Token revoked")),
        _ => Err(refuse("Token expired")),
    }
}

/// Refuses a token whose tenant has no subscription in the computed states `active` or
/// `expiring` (the resource list's `state` filter, with `warn_ms` its "expiring soon"
/// window). Subscriptions name a bot, not a user, so any subscription of the token's
/// tenant counts for its user (`docs/api.md`, provisioning).
pub fn require_subscription(conn: &Connection, tenant: &str, now: i64, warn_ms: i64) -> ApiResult<()> {
    store::has_live_subscription(conn, tenant, now, warn_ms)?
        .then_some(())
        .ok_or_else(|| refuse("No active subscription"))
}
