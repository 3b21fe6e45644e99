//! Expired and expiring-soon, computed by the server with the reference's formulas (§6.3),
//! so the UI and alerts need no client-side date math.

use serde::Serialize;
use utoipa::ToSchema;

use crate::documents::Collection;

pub(super) const DAY_MS: i64 = 86_400_000;

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
