//! Aggregates computed in SQL over the tenant's operations. Money is never summed across
//! currencies: each figure is per currency, and the top-level totals are USD only.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};
use serde::Serialize;
use utoipa::ToSchema;

const FINANCE: &str = "finance_operations";
/// The day of an operation: its `date`, else its `created_at`, as a UTC calendar date.
const DAY: &str =
    "date(COALESCE(CASE WHEN typeof(date) IN ('integer', 'real') THEN date END, created_at) / 1000, 'unixepoch')";

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Money {
    pub total_expenses: f64,
    pub total_revenue: f64,
    pub net_profit: f64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, ToSchema)]
pub struct DayStats {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// USD only.
    pub total_expenses: f64,
    /// USD only.
    pub total_revenue: f64,
    /// USD only.
    pub net_profit: f64,
    /// Every currency of the day, each on its own.
    pub by_currency: BTreeMap<String, Money>,
    /// Distinct non-empty `bot_id`s among the day's operations.
    pub active_bots: u64,
    /// Gold income per project: `{ wow_tbc: { gold } }`.
    pub total_farmed: BTreeMap<String, Farmed>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Farmed {
    pub gold: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct GoldPrice {
    /// Mean `gold_price_at_time` (USD per 1000 gold) of the day's sales.
    pub price: f64,
}

/// Optional inclusive `YYYY-MM-DD` bounds.
#[derive(Debug, Default, Clone)]
pub struct Range {
    pub from: Option<String>,
    pub to: Option<String>,
}

pub fn daily(conn: &Connection, tenant: &str, range: &Range) -> rusqlite::Result<BTreeMap<String, DayStats>> {
    let (from, to) = (
        range.from.as_deref().unwrap_or("0000-00-00"),
        range.to.as_deref().unwrap_or("9999-99-99"),
    );
    let mut days: BTreeMap<String, DayStats> = BTreeMap::new();
    let mut money = conn.prepare_cached(&format!(
        "SELECT {DAY} AS day, COALESCE(json_extract(payload, '$.currency'), '') AS currency,
                SUM(CASE WHEN type = 'expense' THEN COALESCE(json_extract(payload, '$.amount'), 0) ELSE 0 END),
                SUM(CASE WHEN type = 'expense' THEN 0 ELSE COALESCE(json_extract(payload, '$.amount'), 0) END)
         FROM documents WHERE tenant_id = ?1 AND collection = '{FINANCE}' AND day BETWEEN ?2 AND ?3
         GROUP BY day, currency"
    ))?;
    let rows = money.query_map(params![tenant, from, to], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, f64>(2)?,
            r.get::<_, f64>(3)?,
        ))
    })?;
    for row in rows {
        let (day, currency, expenses, revenue) = row?;
        let entry = days.entry(day.clone()).or_insert_with(|| DayStats {
            date: day,
            ..DayStats::default()
        });
        let figures = Money {
            total_expenses: expenses,
            total_revenue: revenue,
            net_profit: revenue - expenses,
        };
        if currency == "USD" {
            entry.total_expenses = expenses;
            entry.total_revenue = revenue;
            entry.net_profit = revenue - expenses;
        }
        entry.by_currency.insert(currency, figures);
    }
    let mut bots = conn.prepare_cached(&format!(
        "SELECT {DAY} AS day, COUNT(DISTINCT CASE WHEN typeof(bot_id) = 'text' AND bot_id <> '' THEN bot_id END)
         FROM documents WHERE tenant_id = ?1 AND collection = '{FINANCE}' AND day BETWEEN ?2 AND ?3 GROUP BY day"
    ))?;
    for row in bots.query_map(params![tenant, from, to], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (day, count) = row?;
        if let Some(entry) = days.get_mut(&day) {
            entry.active_bots = count as u64;
        }
    }
    let mut farmed = conn.prepare_cached(&format!(
        "SELECT {DAY} AS day, project_id, SUM(COALESCE(json_extract(payload, '$.amount'), 0))
         FROM documents WHERE tenant_id = ?1 AND collection = '{FINANCE}' AND day BETWEEN ?2 AND ?3
           AND type = 'income' AND json_extract(payload, '$.currency') = 'gold' AND typeof(project_id) = 'text'
         GROUP BY day, project_id"
    ))?;
    let rows = farmed.query_map(params![tenant, from, to], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?))
    })?;
    for row in rows {
        let (day, project, gold) = row?;
        if let Some(entry) = days.get_mut(&day) {
            entry.total_farmed.insert(project, Farmed { gold });
        }
    }
    Ok(days)
}

pub fn gold_prices(conn: &Connection, tenant: &str, range: &Range) -> rusqlite::Result<BTreeMap<String, GoldPrice>> {
    let (from, to) = (
        range.from.as_deref().unwrap_or("0000-00-00"),
        range.to.as_deref().unwrap_or("9999-99-99"),
    );
    conn.prepare_cached(&format!(
        "SELECT {DAY} AS day, AVG(json_extract(payload, '$.gold_price_at_time'))
         FROM documents WHERE tenant_id = ?1 AND collection = '{FINANCE}' AND day BETWEEN ?2 AND ?3
           AND type = 'income' AND json_extract(payload, '$.category') = 'sale'
           AND json_type(payload, '$.gold_price_at_time') IN ('integer', 'real')
           AND json_extract(payload, '$.gold_price_at_time') > 0
         GROUP BY day"
    ))?
    .query_map(params![tenant, from, to], |r| {
        Ok((r.get::<_, String>(0)?, GoldPrice { price: r.get(1)? }))
    })?
    .collect()
}
