//! Time as stored (epoch milliseconds) and as shown (ISO-8601 UTC).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch: the timestamp format of every stored row.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2026-11-24T10:54:33.123Z` for a stored millisecond timestamp.
pub fn iso_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .expect("RFC 3339 formatting of a valid date cannot fail")
}

pub fn now_iso() -> String {
    iso_ms(now_ms())
}
