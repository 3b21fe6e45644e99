//! SQL of resources beyond the documents engine: what runs out when.

use rusqlite::{params, Connection};

use super::expiry::{days_remaining, ExpiryItem, ExpiryReport, DAY_MS};
use crate::documents::Collection;

/// Resources with an `expires_at` up to `threshold_days` ahead, soonest first. Stored
/// `revoked`/`cancelled`/`banned` items are left out: they no longer run out.
pub fn report(
    conn: &Connection,
    tenant: &str,
    coll: Collection,
    threshold_days: i64,
    now: i64,
) -> rusqlite::Result<ExpiryReport> {
    let horizon = now + threshold_days * DAY_MS;
    let items = conn
        .prepare_cached(
            "SELECT id, expires_at FROM documents
             WHERE tenant_id = ?1 AND collection = ?2 AND typeof(expires_at) = 'integer' AND expires_at <= ?3
               AND COALESCE(status, '') NOT IN ('revoked', 'cancelled', 'banned')
             ORDER BY expires_at, id",
        )?
        .query_map(params![tenant, coll.as_str(), horizon], |r| {
            let expires_at: i64 = r.get(1)?;
            Ok(ExpiryItem {
                id: r.get(0)?,
                expires_at,
                days_remaining: days_remaining(expires_at, now),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (expired, expiring_soon) = items.into_iter().partition(|i| now > i.expires_at);
    Ok(ExpiryReport {
        threshold_days,
        expired,
        expiring_soon,
    })
}
