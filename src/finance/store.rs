//! SQL for finance: reads of the per-day aggregates that the triggers of migration V21 keep
//! in step with every write to an operation. Sums are stored as `hi + lo` (see the migration).

use rusqlite::{params, Connection};

/// Per day and currency: (day, currency, expenses, revenue).
pub fn money(
    conn: &Connection,
    tenant: &str,
    from: &str,
    to: &str,
) -> rusqlite::Result<Vec<(String, String, f64, f64)>> {
    conn.prepare_cached(
        "SELECT day, currency, exp_hi + exp_lo, rev_hi + rev_lo FROM finance_day_money
         WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3",
    )?
    .query_map(params![tenant, from, to], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?
    .collect()
}

/// Per day: distinct non-empty bot ids.
pub fn active_bots(conn: &Connection, tenant: &str, from: &str, to: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    conn.prepare_cached(
        "SELECT day, COUNT(*) FROM finance_day_bots WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY day",
    )?
    .query_map(params![tenant, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// Per day and project: gold income.
pub fn farmed(conn: &Connection, tenant: &str, from: &str, to: &str) -> rusqlite::Result<Vec<(String, String, f64)>> {
    conn.prepare_cached(
        "SELECT day, project_id, hi + lo FROM finance_day_gold WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3",
    )?
    .query_map(params![tenant, from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect()
}

/// Per day: the mean gold price of the day's sales.
pub fn gold_prices(conn: &Connection, tenant: &str, from: &str, to: &str) -> rusqlite::Result<Vec<(String, f64)>> {
    conn.prepare_cached(
        "SELECT day, (hi + lo) / n FROM finance_day_prices WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3",
    )?
    .query_map(params![tenant, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}
