//! Daily aggregates of the tenant's operations, read from the per-day tables kept by the
//! triggers of migration V21. Money is never summed across
//! currencies: each figure is per currency, and the top-level totals are USD only.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::store;

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

impl Range {
    /// The bounds as compared with the stored `YYYY-MM-DD` days: open ends are widened.
    fn bounds(&self) -> (&str, &str) {
        (
            self.from.as_deref().unwrap_or("0000-00-00"),
            self.to.as_deref().unwrap_or("9999-99-99"),
        )
    }
}

pub fn daily(conn: &Connection, tenant: &str, range: &Range) -> rusqlite::Result<BTreeMap<String, DayStats>> {
    let (from, to) = range.bounds();
    let mut days: BTreeMap<String, DayStats> = BTreeMap::new();
    for (day, currency, expenses, revenue) in store::money(conn, tenant, from, to)? {
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
    for (day, count) in store::active_bots(conn, tenant, from, to)? {
        if let Some(entry) = days.get_mut(&day) {
            entry.active_bots = count as u64;
        }
    }
    for (day, project, gold) in store::farmed(conn, tenant, from, to)? {
        if let Some(entry) = days.get_mut(&day) {
            entry.total_farmed.insert(project, Farmed { gold });
        }
    }
    Ok(days)
}

pub fn gold_prices(conn: &Connection, tenant: &str, range: &Range) -> rusqlite::Result<BTreeMap<String, GoldPrice>> {
    let (from, to) = range.bounds();
    Ok(store::gold_prices(conn, tenant, from, to)?
        .into_iter()
        .map(|(day, price)| (day, GoldPrice { price }))
        .collect())
}
