//! SQL of resources beyond the documents engine: what runs out when, and each kind counted
//! by display state in one pass (the summary).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::expiry::{days_remaining, ExpiryItem, ExpiryReport, DAY_MS};
use crate::args;
use crate::db::{Conn, DbError, Dialect};
use crate::documents::list::store::{Sql, Times};
use crate::documents::list::State;
use crate::documents::Collection;

/// Resources with an `expires_at` up to `threshold_days` ahead, soonest first. Stored
/// `revoked`/`cancelled`/`banned` items are left out: they no longer run out.
pub fn report(
    conn: &dyn Conn,
    tenant: &str,
    coll: Collection,
    threshold_days: i64,
    now: i64,
) -> Result<ExpiryReport, DbError> {
    let horizon = now + threshold_days * DAY_MS;
    let sql = match conn.dialect() {
        Dialect::Sqlite => {
            "SELECT id, expires_at FROM documents
             WHERE tenant_id = ?1 AND collection = ?2 AND typeof(expires_at) = 'integer' AND expires_at <= ?3
               AND COALESCE(status, '') NOT IN ('revoked', 'cancelled', 'banned')
             ORDER BY expires_at, id"
        }
        // A whole number, as SQLite's 'integer': jsonb writes a fraction with its point.
        Dialect::Postgres => {
            "SELECT id, CAST(expires_at AS BIGINT) FROM documents
             WHERE tenant_id = ?1 AND collection = ?2 AND jsonb_typeof(expires_at) = 'number'
               AND expires_at #>> '{}' NOT LIKE '%.%' AND expires_at <= to_jsonb(CAST(?3 AS BIGINT))
               AND COALESCE(status, '') NOT IN ('revoked', 'cancelled', 'banned')
             ORDER BY expires_at, id"
        }
    };
    let items = conn.all(sql, args![tenant, coll.as_str(), horizon], |r| {
        let expires_at: i64 = r.get(1)?;
        Ok(ExpiryItem {
            id: r.get(0)?,
            expires_at,
            days_remaining: days_remaining(expires_at, now),
        })
    })?;
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
    conn: &dyn Conn,
    tenant: &str,
    coll: Collection,
    states: &[State],
    threshold_days: i64,
    now: i64,
) -> Result<KindSummary, DbError> {
    let unassigned = match (coll, conn.dialect()) {
        (Collection::Licenses, Dialect::Sqlite) => "COALESCE(json_array_length(payload, '$.bot_ids'), 0) = 0",
        (Collection::Licenses, Dialect::Postgres) => {
            "COALESCE(jsonb_array_length(CASE jsonb_typeof(payload -> 'bot_ids') WHEN 'array' THEN payload -> 'bot_ids' END), 0) = 0"
        }
        (_, Dialect::Sqlite) => "typeof(bot_id) <> 'text' OR bot_id = ''",
        (_, Dialect::Postgres) => "jsonb_typeof(payload -> 'bot_id') IS DISTINCT FROM 'string' OR bot_id = ''",
    };
    let mut sql = Sql::new(conn.dialect());
    sql.bind_text(tenant);
    let times = Times {
        now,
        warn_ms: threshold_days * DAY_MS,
    };
    let sums: String = states
        .iter()
        .map(|(_, test)| {
            format!(
                ", COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0)",
                sql.test(test, times)
            )
        })
        .collect();
    // The collection and the state conditions are fixed text of ours, never input.
    let query = format!(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN {unassigned} THEN 1 ELSE 0 END), 0){sums}
         FROM documents WHERE tenant_id = ?1 AND collection = '{}'",
        coll.as_str()
    );
    conn.one(&query, sql.args(), |r| {
        Ok(KindSummary {
            total: r.get(0)?,
            unassigned: r.get(1)?,
            threshold_days,
            states: states
                .iter()
                .enumerate()
                .map(|(i, (name, _))| Ok(((*name).to_owned(), r.get(i + 2)?)))
                .collect::<Result<_, DbError>>()?,
        })
    })
}
