//! Expired and expiring-soon, computed by the server with the reference's formulas (§6.3),
//! so the UI and alerts need no client-side date math.

use rusqlite::{params, Connection};
use serde::Serialize;
use utoipa::ToSchema;

use crate::documents::Collection;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct ExpiryItem {
    pub id: String,
    /// ms.
    pub expires_at: i64,
    /// ceil((expires_at - now) / day); 0 or less once expired.
    pub days_remaining: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiryReport {
    /// An item is expiring soon when 0 < days_remaining ≤ threshold_days.
    pub threshold_days: i64,
    pub expired: Vec<ExpiryItem>,
    pub expiring_soon: Vec<ExpiryItem>,
}

/// The default threshold of a kind: subscriptions follow settings `alerts.warning_days`.
pub fn fixed_threshold(coll: Collection) -> Option<i64> {
    match coll {
        Collection::Licenses => Some(3),
        Collection::Proxies => Some(7),
        _ => None,
    }
}

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

pub fn days_remaining(expires_at: i64, now: i64) -> i64 {
    (expires_at - now).div_euclid(DAY_MS) + i64::from((expires_at - now).rem_euclid(DAY_MS) != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_remaining_rounds_up() {
        let day = super::DAY_MS;
        assert_eq!(super::days_remaining(day, 0), 1);
        assert_eq!(super::days_remaining(day + 1, 0), 2);
        assert_eq!(super::days_remaining(1, 0), 1);
        assert_eq!(super::days_remaining(0, 0), 0);
        assert_eq!(super::days_remaining(-1, 0), 0);
        assert_eq!(super::days_remaining(-day - 1, 0), -1);
    }
}
