//! SQL for finance: reads of the per-day aggregates that the triggers of migration V21 keep
//! in step with every write to an operation (sums stored as `hi + lo`, see the migration),
//! and the local-day sums over the operations themselves.

use crate::args;
use crate::db::sql::Row;
use crate::db::{Conn, DbError, Dialect};

/// Per day and currency: (day, currency, expenses, revenue).
pub fn money(conn: &dyn Conn, tenant: &str, from: &str, to: &str) -> Result<Vec<(String, String, f64, f64)>, DbError> {
    conn.all(
        "SELECT day, currency, exp_hi + exp_lo, rev_hi + rev_lo FROM finance_day_money
         WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3",
        args![tenant, from, to],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

/// Per day: distinct non-empty bot ids.
pub fn active_bots(conn: &dyn Conn, tenant: &str, from: &str, to: &str) -> Result<Vec<(String, i64)>, DbError> {
    conn.all(
        "SELECT day, COUNT(*) FROM finance_day_bots WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY day",
        args![tenant, from, to],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Per day and project: gold income.
pub fn farmed(conn: &dyn Conn, tenant: &str, from: &str, to: &str) -> Result<Vec<(String, String, f64)>, DbError> {
    conn.all(
        "SELECT day, project_id, hi + lo FROM finance_day_gold WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3",
        args![tenant, from, to],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// Per day: the mean gold price of the day's sales.
pub fn gold_prices(conn: &dyn Conn, tenant: &str, from: &str, to: &str) -> Result<Vec<(String, f64)>, DbError> {
    conn.all(
        "SELECT day, (hi + lo) / n FROM finance_day_prices WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3",
        args![tenant, from, to],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The operations of one local-day view: the tenant's, narrowed to a project (`''` for those
/// without one) when asked, each with its day shifted by `?4` ms. An operation's time is its
/// numeric `date`, else its `created_at` (as migration V21 has it): the first branch finds the
/// numeric dates that can fall in the days (`?6..?7`) through the `date` index, the others the
/// few without one.
///
/// SQLite: null or text dates (the repeated `collection IN` lets SQLite use that partial index).
const LOCAL_OPS_SQLITE: &str = "WITH picked AS (
    SELECT date AS at, payload, bot_id, project_id FROM documents
    WHERE tenant_id = ?1 AND collection = 'finance_operations' AND collection IN ('finance_operations', 'calendar')
      AND date BETWEEN ?6 AND ?7
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

/// PostgreSQL: `date` is `jsonb`, which sorts null and strings below every number and the
/// other kinds above, so the dates that are not numbers lie outside ±9e18 in the same index.
/// The day is the schema's `botmox_utc_day`, as in the trigger. Values that are not of the
/// kind read (a number, a string) are nulled here, where SQLite's selects ask `typeof`.
const LOCAL_OPS_POSTGRES: &str = "WITH picked AS (
    SELECT (payload ->> 'date')::numeric AS at, payload, project_id FROM documents
    WHERE tenant_id = ?1 AND collection = 'finance_operations'
      AND date BETWEEN to_jsonb(?6::bigint) AND to_jsonb(?7::bigint)
    UNION ALL
    SELECT created_at, payload, project_id FROM documents
    WHERE tenant_id = ?1 AND collection = 'finance_operations'
      AND (date IS NULL OR (date < '-9e18' OR date > '9e18') AND jsonb_typeof(date) <> 'number')),
  ops AS (
    SELECT botmox_utc_day(at + ?4::bigint) AS day,
           payload ->> 'type' AS type, payload ->> 'currency' AS currency, payload ->> 'category' AS category,
           CASE WHEN jsonb_typeof(payload -> 'amount') = 'number'
                THEN (payload ->> 'amount')::double precision ELSE 0 END AS amount,
           CASE WHEN jsonb_typeof(payload -> 'bot_id') = 'string' THEN payload ->> 'bot_id' END AS bot_id,
           CASE WHEN jsonb_typeof(payload -> 'project_id') = 'string' THEN project_id END AS project_id,
           CASE WHEN jsonb_typeof(payload -> 'gold_price_at_time') = 'number'
                THEN (payload ->> 'gold_price_at_time')::double precision END AS price,
           CASE WHEN jsonb_typeof(payload -> 'gold_amount') = 'number'
                THEN (payload ->> 'gold_amount')::double precision END AS gold
    FROM picked WHERE CAST(?5 AS TEXT) IS NULL OR COALESCE(project_id, '') = ?5)
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
    /// The numeric dates (ms) that can fall in those days, inclusive.
    pub earliest: i64,
    pub latest: i64,
}

/// The select after [`LOCAL_OPS_SQLITE`] and the one after [`LOCAL_OPS_POSTGRES`].
struct Select {
    sqlite: &'static str,
    postgres: &'static str,
}

fn local_query<T>(
    conn: &dyn Conn,
    local: &Local<'_>,
    select: Select,
    row: impl FnMut(&Row<'_>) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => format!("{LOCAL_OPS_SQLITE}{}", select.sqlite),
        Dialect::Postgres => format!("{LOCAL_OPS_POSTGRES}{}", select.postgres),
    };
    conn.all(
        &sql,
        args![
            local.tenant,
            local.from,
            local.to,
            local.offset_ms,
            local.project,
            local.earliest,
            local.latest
        ],
        row,
    )
}

/// [`money`] over local days.
pub fn local_money(conn: &dyn Conn, local: &Local<'_>) -> Result<Vec<(String, String, f64, f64)>, DbError> {
    local_query(
        conn,
        local,
        Select {
            sqlite: "day, COALESCE(currency, ''), TOTAL(CASE WHEN type = 'expense' THEN amount END),
                TOTAL(CASE WHEN type = 'expense' THEN NULL ELSE amount END)
         FROM ops WHERE day BETWEEN ?2 AND ?3 GROUP BY day, COALESCE(currency, '')",
            postgres: "day, COALESCE(currency, ''), COALESCE(SUM(CASE WHEN type = 'expense' THEN amount END), 0),
                COALESCE(SUM(CASE WHEN type = 'expense' THEN NULL ELSE amount END), 0)
         FROM ops WHERE day BETWEEN ?2 AND ?3 GROUP BY day, COALESCE(currency, '')",
        },
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
}

/// [`active_bots`] over local days.
pub fn local_active_bots(conn: &dyn Conn, local: &Local<'_>) -> Result<Vec<(String, i64)>, DbError> {
    local_query(
        conn,
        local,
        Select {
            sqlite: "day, COUNT(DISTINCT bot_id) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND typeof(bot_id) = 'text' AND bot_id <> '' GROUP BY day",
            postgres: "day, COUNT(DISTINCT bot_id) FROM ops WHERE day BETWEEN ?2 AND ?3 AND bot_id <> '' GROUP BY day",
        },
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// [`farmed`] over local days.
pub fn local_farmed(conn: &dyn Conn, local: &Local<'_>) -> Result<Vec<(String, String, f64)>, DbError> {
    local_query(
        conn,
        local,
        Select {
            sqlite: "day, project_id, TOTAL(amount) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND type = 'income' AND currency = 'gold' AND typeof(project_id) = 'text'
         GROUP BY day, project_id",
            postgres: "day, project_id, SUM(amount) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND type = 'income' AND currency = 'gold' AND project_id IS NOT NULL
         GROUP BY day, project_id",
        },
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// [`gold_prices`] over local days.
pub fn local_gold_prices(conn: &dyn Conn, local: &Local<'_>) -> Result<Vec<(String, f64)>, DbError> {
    local_query(
        conn,
        local,
        Select {
            sqlite: "day, AVG(price) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND type = 'income' AND category = 'sale'
           AND typeof(price) IN ('integer', 'real') AND price > 0
         GROUP BY day",
            postgres: "day, AVG(price) FROM ops
         WHERE day BETWEEN ?2 AND ?3 AND type = 'income' AND category = 'sale' AND price > 0
         GROUP BY day",
        },
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
pub fn local_groups(conn: &dyn Conn, local: &Local<'_>) -> Result<Vec<Group>, DbError> {
    local_query(
        conn,
        local,
        Select {
            sqlite: "day, COALESCE(project_id, ''), COALESCE(currency, ''), type IS 'expense', COALESCE(category, ''),
                TOTAL(amount),
                TOTAL(CASE WHEN type = 'income' AND category = 'sale' AND typeof(gold) IN ('integer', 'real')
                            AND gold > 0 THEN gold END),
                TOTAL(CASE WHEN sale_price THEN price END), COUNT(CASE WHEN sale_price THEN 1 END)
         FROM (SELECT *, type = 'income' AND category = 'sale' AND typeof(price) IN ('integer', 'real')
                         AND price > 0 AS sale_price FROM ops)
         WHERE day BETWEEN ?2 AND ?3 GROUP BY 1, 2, 3, 4, 5",
            postgres: "day, COALESCE(project_id, ''), COALESCE(currency, ''), type IS NOT DISTINCT FROM 'expense',
                COALESCE(category, ''), SUM(amount),
                COALESCE(SUM(CASE WHEN type = 'income' AND category = 'sale' AND gold > 0 THEN gold END), 0),
                COALESCE(SUM(CASE WHEN sale_price THEN price END), 0), COUNT(CASE WHEN sale_price THEN 1 END)
         FROM (SELECT *, type = 'income' AND category = 'sale' AND price > 0 AS sale_price FROM ops) AS o
         WHERE day BETWEEN ?2 AND ?3 GROUP BY 1, 2, 3, 4, 5",
        },
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
