//! Daily aggregates of the tenant's operations. UTC days over all projects are read from the
//! per-day tables kept by the triggers of migration V21; a user's local days (an offset from
//! UTC) or one project are summed from the operations themselves, found by their `date`
//! index, since the stored days cannot be split by hour or project. Money is never summed
//! across currencies: each figure is per currency, and the top-level totals are USD only.

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

/// A period's figures per project (`""` for operations without one) and its expenses per
/// category, for the page's gold-sold card, gold price lines and analysis.
#[derive(Debug, Default, Clone, PartialEq, Serialize, ToSchema)]
pub struct Breakdown {
    pub by_project: BTreeMap<String, ProjectTotals>,
    /// Gold sold over every project of the view.
    pub gold_sold: f64,
    /// Mean sale price over every project of the view; null without one.
    pub gold_price: Option<f64>,
    /// Expenses per currency, then per category: `{ USD: { proxy: 12.5 } }`.
    pub expenses_by_category: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProjectTotals {
    /// Every currency on its own.
    pub by_currency: BTreeMap<String, Money>,
    /// The `gold_amount` of the project's sales (income, category `sale`).
    pub gold_sold: f64,
    /// Mean positive `gold_price_at_time` of its sales over the period; null without one.
    pub gold_price: Option<f64>,
    /// The same mean per day that has one.
    pub gold_price_by_day: BTreeMap<String, f64>,
}

/// Optional inclusive `YYYY-MM-DD` bounds, of local days when `offset_minutes` is set.
#[derive(Debug, Default, Clone)]
pub struct Range {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Local time minus UTC, in minutes (0: UTC days).
    pub offset_minutes: i64,
    /// One project's operations (`""`: those without a project); `None`: all.
    pub project: Option<String>,
}

impl Range {
    /// The bounds as compared with the stored `YYYY-MM-DD` days: open ends are widened.
    fn bounds(&self) -> (&str, &str) {
        (
            self.from.as_deref().unwrap_or("0000-00-00"),
            self.to.as_deref().unwrap_or("9999-99-99"),
        )
    }

    /// Whether the V21 tables hold the answer: UTC days over every project.
    fn is_stored(&self) -> bool {
        self.offset_minutes == 0 && self.project.is_none()
    }

    fn local<'a>(&'a self, tenant: &'a str) -> store::Local<'a> {
        let (from, to) = self.bounds();
        store::Local {
            tenant,
            from,
            to,
            offset_ms: self.offset_minutes * 60_000,
            project: self.project.as_deref(),
        }
    }
}

pub fn daily(conn: &Connection, tenant: &str, range: &Range) -> rusqlite::Result<BTreeMap<String, DayStats>> {
    let (from, to) = range.bounds();
    if range.is_stored() {
        return Ok(fold(
            store::money(conn, tenant, from, to)?,
            store::active_bots(conn, tenant, from, to)?,
            store::farmed(conn, tenant, from, to)?,
        ));
    }
    let local = range.local(tenant);
    Ok(fold(
        store::local_money(conn, &local)?,
        store::local_active_bots(conn, &local)?,
        store::local_farmed(conn, &local)?,
    ))
}

/// Day rows of money per currency, active bots and gold farmed per project, as [`DayStats`].
fn fold(
    money: Vec<(String, String, f64, f64)>,
    bots: Vec<(String, i64)>,
    farmed: Vec<(String, String, f64)>,
) -> BTreeMap<String, DayStats> {
    let mut days: BTreeMap<String, DayStats> = BTreeMap::new();
    for (day, currency, expenses, revenue) in money {
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
    for (day, count) in bots {
        if let Some(entry) = days.get_mut(&day) {
            entry.active_bots = count as u64;
        }
    }
    for (day, project, gold) in farmed {
        if let Some(entry) = days.get_mut(&day) {
            entry.total_farmed.insert(project, Farmed { gold });
        }
    }
    days
}

pub fn gold_prices(conn: &Connection, tenant: &str, range: &Range) -> rusqlite::Result<BTreeMap<String, GoldPrice>> {
    let (from, to) = range.bounds();
    let rows = if range.is_stored() {
        store::gold_prices(conn, tenant, from, to)?
    } else {
        store::local_gold_prices(conn, &range.local(tenant))?
    };
    Ok(rows
        .into_iter()
        .map(|(day, price)| (day, GoldPrice { price }))
        .collect())
}

pub fn breakdown(conn: &Connection, tenant: &str, range: &Range) -> rusqlite::Result<Breakdown> {
    Ok(fold_groups(store::local_groups(conn, &range.local(tenant))?))
}

fn fold_groups(groups: Vec<store::Group>) -> Breakdown {
    let mut out = Breakdown::default();
    // Sum and count of sale prices per project, over the period and per day.
    type Mean = (f64, i64);
    let mut means: BTreeMap<String, (Mean, BTreeMap<String, Mean>)> = BTreeMap::new();
    let mut all = (0.0, 0);
    for g in groups {
        let project = out.by_project.entry(g.project.clone()).or_default();
        let money = project.by_currency.entry(g.currency.clone()).or_default();
        if g.expense {
            money.total_expenses += g.amount;
            *out.expenses_by_category
                .entry(g.currency)
                .or_default()
                .entry(g.category)
                .or_default() += g.amount;
        } else {
            money.total_revenue += g.amount;
        }
        money.net_profit = money.total_revenue - money.total_expenses;
        project.gold_sold += g.gold_sold;
        out.gold_sold += g.gold_sold;
        if g.prices > 0 {
            let (period, days) = means.entry(g.project).or_default();
            let day = days.entry(g.day).or_default();
            for (sum, n) in [period, day, &mut all] {
                *sum += g.price_sum;
                *n += g.prices;
            }
        }
    }
    let mean = |(sum, n): Mean| sum / n as f64;
    out.gold_price = (all.1 > 0).then(|| mean(all));
    for (project, (period, days)) in means {
        let totals = out.by_project.entry(project).or_default();
        totals.gold_price = Some(mean(period));
        totals.gold_price_by_day = days.into_iter().map(|(day, m)| (day, mean(m))).collect();
    }
    out
}
