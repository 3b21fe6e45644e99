//! SQL of resources beyond the documents engine: what runs out when, and each kind counted
//! by display state in one pass (the summary).

use std::collections::BTreeMap;

use rusqlite::{params, Connection, ToSql};
use serde::Serialize;
use utoipa::ToSchema;

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

/// One kind's counts: `states` by the same rules as the list's `state` filter (e.g.
/// licenses: active, expiring, expired, revoked), so a count and its filtered list agree.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct KindSummary {
    pub total: i64,
    /// Not assigned to any bot (`bot_ids` empty for a license, no `bot_id` otherwise).
    pub unassigned: i64,
    /// The kind's "expiring soon" window, in days.
    pub threshold_days: i64,
    pub states: BTreeMap<String, i64>,
}

pub fn kind_summary(
    conn: &Connection,
    tenant: &str,
    coll: Collection,
    states: &[(&str, &str)],
    threshold_days: i64,
    now: i64,
) -> rusqlite::Result<KindSummary> {
    let unassigned = match coll {
        Collection::Licenses => "COALESCE(json_array_length(payload, '$.bot_ids'), 0) = 0",
        _ => "typeof(bot_id) <> 'text' OR bot_id = ''",
    };
    let sums: String = states
        .iter()
        .map(|(_, sql)| format!(", COALESCE(SUM(CASE WHEN {sql} THEN 1 ELSE 0 END), 0)"))
        .collect();
    // The collection and the state conditions are fixed text of ours, never input.
    let sql = format!(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN {unassigned} THEN 1 ELSE 0 END), 0){sums}
         FROM documents WHERE tenant_id = :tenant AND collection = '{}'",
        coll.as_str()
    );
    let warn_ms = threshold_days * DAY_MS;
    let mut bound: Vec<(&str, &dyn ToSql)> = vec![(":tenant", &tenant)];
    for (name, value) in [(":now", &now), (":warn_ms", &warn_ms)] {
        if sql.contains(name) {
            bound.push((name, value as &dyn ToSql));
        }
    }
    conn.prepare_cached(&sql)?.query_row(bound.as_slice(), |r| {
        Ok(KindSummary {
            total: r.get(0)?,
            unassigned: r.get(1)?,
            threshold_days,
            states: states
                .iter()
                .enumerate()
                .map(|(i, (name, _))| Ok(((*name).to_owned(), r.get(i + 2)?)))
                .collect::<rusqlite::Result<_>>()?,
        })
    })
}
