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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::db::sql::on_each_backend;
    use crate::documents::list::{LICENSE_STATES, PROXY_STATES};
    use crate::documents::store as docs;

    const NOW: i64 = 1_800_000_000_000;

    fn put(c: &dyn Conn, tenant: &str, coll: Collection, doc: serde_json::Value) {
        let id = doc["id"].as_str().unwrap().to_owned();
        assert!(docs::insert(c, tenant, coll, &id, &serde_json::from_value(doc).unwrap(), 1).unwrap());
    }

    #[test]
    fn reports_and_summaries_count_alike_on_both_databases() {
        on_each_backend("resources_store", |c| {
            let lic = Collection::Licenses;
            put(
                c,
                "t",
                lic,
                json!({"id": "gone", "expires_at": NOW - DAY_MS, "bot_ids": ["b1"]}),
            );
            put(
                c,
                "t",
                lic,
                json!({"id": "soon", "expires_at": NOW + DAY_MS + 1, "bot_ids": []}),
            );
            put(
                c,
                "t",
                lic,
                json!({"id": "later", "expires_at": NOW + 30 * DAY_MS, "bot_ids": "b2"}),
            );
            put(
                c,
                "t",
                lic,
                json!({"id": "revoked", "status": "revoked", "expires_at": NOW}),
            );
            put(c, "t", lic, json!({"id": "flagged", "status": "expired"}));
            put(c, "t", lic, json!({"id": "fraction", "expires_at": NOW as f64 + 0.5}));
            put(
                c,
                "t",
                lic,
                json!({"id": "text", "expires_at": "tomorrow", "bot_ids": ["b3"]}),
            );
            put(c, "other", lic, json!({"id": "theirs", "expires_at": NOW}));

            let report = report(c, "t", lic, 3, NOW).unwrap();
            let ids = |items: &[ExpiryItem]| items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&report.expired), ["gone"], "{:?}", c.dialect());
            assert_eq!(ids(&report.expiring_soon), ["soon"]);
            assert_eq!(report.expiring_soon[0].days_remaining, 2);

            let summary = kind_summary(c, "t", lic, LICENSE_STATES, 3, NOW).unwrap();
            let states = |pairs: &[(&str, i64)]| pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
            assert_eq!(
                summary,
                KindSummary {
                    total: 7,
                    // `later` holds a string, not an array: none of its bots are counted.
                    unassigned: 5,
                    threshold_days: 3,
                    states: states(&[("active", 2), ("expired", 2), ("expiring", 2), ("revoked", 1)]),
                },
                "{:?}",
                c.dialect()
            );

            let proxies = Collection::Proxies;
            put(c, "t", proxies, json!({"id": "p1", "bot_id": "b1", "status": "banned"}));
            put(
                c,
                "t",
                proxies,
                json!({"id": "p2", "bot_id": "", "expires_at": NOW + 2 * DAY_MS}),
            );
            put(c, "t", proxies, json!({"id": "p3", "bot_id": 7}));
            let summary = kind_summary(c, "t", proxies, PROXY_STATES, 7, NOW).unwrap();
            assert_eq!((summary.total, summary.unassigned), (3, 2), "{:?}", c.dialect());
            assert_eq!(
                summary.states,
                states(&[("active", 1), ("banned", 1), ("expired", 0), ("expiring", 1)])
            );
        });
    }
}
