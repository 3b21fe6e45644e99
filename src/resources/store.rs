//! SQL for the resource summary: each kind counted by display state in one pass.

use std::collections::BTreeMap;

use rusqlite::{Connection, ToSql};
use serde::Serialize;
use utoipa::ToSchema;

use crate::documents::Collection;

const DAY_MS: i64 = 86_400_000;

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
