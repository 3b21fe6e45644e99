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

/// The operations of one local-day view: the tenant's, narrowed to a project (`''` for those
/// without one) when asked, each with its day shifted by `?4` ms. An operation's time is its
/// numeric `date`, else its `created_at` (as migration V21 has it): the first branch finds the
/// numeric dates that can fall in the days through the `date` index, the others the few
/// without one, null or text (the repeated `collection IN` lets SQLite use that partial index).
const LOCAL_OPS: &str = "WITH picked AS (
    SELECT date AS at, payload, bot_id, project_id FROM documents
    WHERE tenant_id = ?1 AND collection = 'finance_operations' AND collection IN ('finance_operations', 'calendar')
      AND date BETWEEN COALESCE(strftime('%s', ?2) * 1000 - ?4, -9e18)
                   AND COALESCE((strftime('%s', ?3) + 86400) * 1000 - ?4, 9e18)
    UNION ALL
    SELECT created_at, payload, bot_id, project_id FROM documents
    WHERE tenant_id = ?1 AND collection = 'finance_operations' AND collection IN ('finance_operations', 'calendar')
      AND date IS NULL
    UNION ALL
    SELECT created_at, payload, bot_id, project_id FROM documents
    WHERE tenant_id = ?1 AND collection = 'finance_operations' AND collection IN ('finance_operations', 'calendar')
      AND date >= ''),
  ops AS (
    SELECT date((at + ?4) / 1000, 'unixepoch') AS day,
           json_extract(payload, '$.type') AS type, json_extract(payload, '$.currency') AS currency,
           json_extract(payload, '$.category') AS category,
           COALESCE(json_extract(payload, '$.amount'), 0) AS amount, bot_id, project_id,
           json_extract(payload, '$.gold_price_at_time') AS price, json_extract(payload, '$.gold_amount') AS gold
    FROM picked WHERE ?5 IS NULL OR COALESCE(project_id, '') = ?5)
    SELECT ";

/// Which operations a local-day read covers.
pub struct Local<'a> {
    pub tenant: &'a str,
    /// Inclusive `YYYY-MM-DD` local days.
    pub from: &'a str,
    pub to: &'a str,
    /// Local time minus UTC.
    pub offset_ms: i64,
    pub project: Option<&'a str>,
}

fn local_query<T>(
    conn: &Connection,
    local: &Local<'_>,
    select: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    conn.prepare_cached(&format!("{LOCAL_OPS}{select}"))?
        .query_map(
            params![local.tenant, local.from, local.to, local.offset_ms, local.project],
            row,
        )?
        .collect()
}

/// [`money`] over local days.
pub fn local_money(conn: &Connection, local: &Local<'_>) -> rusqlite::Result<Vec<(String, String, f64, f64)>> {
    local_query(
        conn,
        local,
        "day, COALESCE(currency, ''), TOTAL(CASE WHEN type = 'expense' THEN amount END),
                TOTAL(CASE WHEN type = 'expense' THEN NULL ELSE amount END)
         FROM ops WHERE day BETWEEN ?2 AND ?3 GROUP BY day, COALESCE(currency, '')",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

/// [`active_bots`] over local days.
pub fn local_active_bots(conn: &Connection, local: &Local<'_>) -> rusqlite::Result<Vec<(String, i64)>> {
    local_query(
        conn,
        local,
        "day, COUNT(DISTINCT bot_id) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND typeof(bot_id) = 'text' AND bot_id <> '' GROUP BY day",
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// [`farmed`] over local days.
pub fn local_farmed(conn: &Connection, local: &Local<'_>) -> rusqlite::Result<Vec<(String, String, f64)>> {
    local_query(
        conn,
        local,
        "day, project_id, TOTAL(amount) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND type = 'income' AND currency = 'gold' AND typeof(project_id) = 'text'
         GROUP BY day, project_id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// [`gold_prices`] over local days.
pub fn local_gold_prices(conn: &Connection, local: &Local<'_>) -> rusqlite::Result<Vec<(String, f64)>> {
    local_query(
        conn,
        local,
        "day, AVG(price) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND type = 'income' AND category = 'sale'
           AND typeof(price) IN ('integer', 'real') AND price > 0
         GROUP BY day",
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// One group of a period's operations: its local day, project (`''` for none), currency,
/// whether it is an expense, and category.
pub struct Group {
    pub day: String,
    pub project: String,
    pub currency: String,
    pub expense: bool,
    pub category: String,
    pub amount: f64,
    /// `gold_amount` of the group's gold sales (income, `sale`, `gold_amount` > 0).
    pub gold_sold: f64,
    /// Sum and count of the sales' positive `gold_price_at_time`.
    pub price_sum: f64,
    pub prices: i64,
}

/// The operations of a local-day view grouped by day, project, currency, type and category,
/// in one pass: every figure of the period breakdown folds from these rows.
pub fn local_groups(conn: &Connection, local: &Local<'_>) -> rusqlite::Result<Vec<Group>> {
    local_query(
        conn,
        local,
        "day, COALESCE(project_id, ''), COALESCE(currency, ''), type IS 'expense', COALESCE(category, ''),
                TOTAL(amount),
                TOTAL(CASE WHEN type = 'income' AND category = 'sale' AND typeof(gold) IN ('integer', 'real')
                            AND gold > 0 THEN gold END),
                TOTAL(CASE WHEN sale_price THEN price END), COUNT(CASE WHEN sale_price THEN 1 END)
         FROM (SELECT *, type = 'income' AND category = 'sale' AND typeof(price) IN ('integer', 'real')
                         AND price > 0 AS sale_price FROM ops)
         WHERE day BETWEEN ?2 AND ?3 GROUP BY 1, 2, 3, 4, 5",
        |r| {
            Ok(Group {
                day: r.get(0)?,
                project: r.get(1)?,
                currency: r.get(2)?,
                expense: r.get(3)?,
                category: r.get(4)?,
                amount: r.get(5)?,
                gold_sold: r.get(6)?,
                price_sum: r.get(7)?,
                prices: r.get(8)?,
            })
        },
    )
}
