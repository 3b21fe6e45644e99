//! Daily aggregates of the tenant's operations. UTC days over all projects are read from the
//! per-day tables kept by the triggers of migration V21; a user's local days (an offset from
//! UTC) or one project are summed from the operations themselves, found by their `date`
//! index, since the stored days cannot be split by hour or project. Money is never summed
//! across currencies: each figure is per currency, and the top-level totals are USD only.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::store;
use crate::db::{Conn, DbError};

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
        let offset_ms = self.offset_minutes * 60_000;
        // A local day starts `offset_ms` before the UTC day of the same name; an open end
        // (or a bound that is not a day) takes in every date.
        let start = |day: Option<&str>, days_after: i64| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let date = time::Date::parse(day?, format).ok()?;
            Some((date.midnight().assume_utc().unix_timestamp() + days_after * 86_400) * 1000 - offset_ms)
        };
        store::Local {
            tenant,
            from,
            to,
            offset_ms,
            project: self.project.as_deref(),
            earliest: start(self.from.as_deref(), 0).unwrap_or(i64::MIN),
            latest: start(self.to.as_deref(), 1).unwrap_or(i64::MAX),
        }
    }
}

pub fn daily(conn: &dyn Conn, tenant: &str, range: &Range) -> Result<BTreeMap<String, DayStats>, DbError> {
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

pub fn gold_prices(conn: &dyn Conn, tenant: &str, range: &Range) -> Result<BTreeMap<String, GoldPrice>, DbError> {
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

pub fn breakdown(conn: &dyn Conn, tenant: &str, range: &Range) -> Result<Breakdown, DbError> {
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

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use serde_json::{json, Value};

    use super::*;
    use crate::args;
    use crate::db::sql::on_each_backend;

    const JAN_1: i64 = 1_767_225_600_000;
    const HOUR: i64 = 3_600_000;

    fn add(conn: &dyn Conn, tenant: &str, id: &str, created_at: i64, payload: Value) {
        conn.execute(
            "INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at)
             VALUES (?1, 'finance_operations', ?2, ?3, ?4, ?4)",
            args![tenant, id, payload, created_at],
        )
        .unwrap();
    }

    /// Operations around midnight of 2026-01-02 UTC, one without a date and one with a text
    /// date (both counted at `created_at`), and another tenant's.
    fn seed(c: &dyn Conn) {
        let op = |kind: &str, category: &str, amount: f64, currency: &str| json!({"type": kind, "category": category, "amount": amount, "currency": currency});
        let with = |mut v: Value, extra: Value| {
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        let day2 = JAN_1 + 24 * HOUR;
        add(
            c,
            "t",
            "a",
            1,
            with(
                op("income", "sale", 1000.0, "gold"),
                json!({"project_id": "p1", "bot_id": "b1", "date": day2 - HOUR / 2, "gold_price_at_time": 2.5}),
            ),
        );
        add(
            c,
            "t",
            "b",
            1,
            with(
                op("expense", "proxy", 12.5, "USD"),
                json!({"project_id": "p1", "bot_id": "b2", "date": day2 + HOUR / 2}),
            ),
        );
        add(
            c,
            "t",
            "c",
            1,
            with(
                op("income", "sale", 20.0, "USD"),
                json!({"project_id": "p2", "bot_id": "b1", "date": day2 + 10 * HOUR, "gold_amount": 4000, "gold_price_at_time": 5}),
            ),
        );
        add(
            c,
            "t",
            "d",
            1,
            with(
                op("expense", "vm", 0.25, "USD"),
                json!({"bot_id": "", "date": day2 + 12 * HOUR}),
            ),
        );
        add(
            c,
            "t",
            "e",
            day2 + 25 * HOUR,
            with(
                op("income", "sale", 10.0, "USD"),
                json!({"project_id": "p2", "gold_amount": 1000, "gold_price_at_time": 7}),
            ),
        );
        add(
            c,
            "t",
            "g",
            JAN_1 + 5 * HOUR,
            with(op("income", "other", 3.0, "USD"), json!({"date": "soon"})),
        );
        // In the last minute of 2 January an hour west of UTC: the local window's far end.
        add(
            c,
            "t",
            "h",
            1,
            with(
                op("expense", "fee", 1.0, "USD"),
                json!({"date": day2 + 25 * HOUR - 60_000}),
            ),
        );
        add(
            c,
            "u",
            "a",
            1,
            with(op("income", "sale", 99.0, "USD"), json!({"date": day2})),
        );
    }

    fn range(from: Option<&str>, to: Option<&str>, offset_minutes: i64, project: Option<&str>) -> Range {
        Range {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            offset_minutes,
            project: project.map(str::to_owned),
        }
    }

    /// Every read of the stats over a few ranges, as JSON.
    fn everything(c: &dyn Conn) -> Value {
        let ranges = [
            range(None, None, 0, None),
            range(None, None, 60, None),
            range(None, None, -60, Some("p1")),
            range(None, None, 0, Some("")),
            range(Some("2026-01-02"), Some("2026-01-02"), -60, None),
            range(Some("2026-01-02"), Some("2026-01-03"), 0, None),
        ];
        let each = |r: &Range| {
            json!({
                "daily": daily(c, "t", r).unwrap(),
                "gold_prices": gold_prices(c, "t", r).unwrap(),
                "breakdown": breakdown(c, "t", r).unwrap(),
            })
        };
        Value::Array(ranges.iter().map(each).collect())
    }

    #[test]
    fn the_stats_answer_alike_on_both_databases() {
        let first: RefCell<Option<Value>> = RefCell::new(None);
        let runs = Cell::new(0);
        on_each_backend("finance_stats", |c| {
            runs.set(runs.get() + 1);
            seed(c);
            let all = everything(c);
            let at = |i: usize, path: &str| all[i].pointer(path).cloned().unwrap_or(Value::Null);

            // UTC days from the stored aggregates: the text date counts on its created_at day.
            assert_eq!(at(0, "/daily/2026-01-01/by_currency/gold/total_revenue"), json!(1000.0));
            assert_eq!(at(0, "/daily/2026-01-01/total_revenue"), json!(3.0));
            assert_eq!(at(0, "/daily/2026-01-02/total_expenses"), json!(12.75));
            assert_eq!(at(0, "/daily/2026-01-02/active_bots"), json!(2));
            assert_eq!(
                at(0, "/daily/2026-01-03/total_revenue"),
                json!(10.0),
                "{:?}",
                c.dialect()
            );
            assert_eq!(at(0, "/gold_prices/2026-01-01/price"), json!(2.5));
            // An hour east, the late sale of 1 January falls on the 2nd.
            assert_eq!(at(1, "/daily/2026-01-02/total_farmed/p1/gold"), json!(1000.0));
            assert_eq!(at(1, "/daily/2026-01-01/by_currency/gold"), Value::Null);
            // An hour west, project p1: both of its operations on 1 January.
            assert_eq!(at(2, "/daily/2026-01-01/total_expenses"), json!(12.5));
            assert_eq!(at(2, "/daily/2026-01-01/active_bots"), json!(2));
            assert_eq!(at(2, "/daily/2026-01-02"), Value::Null);
            // Operations without a project.
            assert_eq!(at(3, "/breakdown/expenses_by_category/USD/vm"), json!(0.25));
            assert_eq!(at(3, "/breakdown/by_project/p1"), Value::Null);
            // One local day, an hour west: only what falls in it.
            assert_eq!(at(4, "/daily/2026-01-02/total_expenses"), json!(1.25));
            assert_eq!(at(4, "/daily/2026-01-01"), Value::Null);
            assert_eq!(at(4, "/breakdown/by_project/p2/gold_sold"), json!(4000.0));
            // The whole period's breakdown in UTC days.
            assert_eq!(at(5, "/breakdown/gold_sold"), json!(5000.0));
            assert_eq!(at(5, "/breakdown/by_project/p2/gold_price"), json!(6.0));
            assert_eq!(
                at(5, "/breakdown/by_project/p2/gold_price_by_day/2026-01-03"),
                json!(7.0)
            );

            let mut first = first.borrow_mut();
            match first.as_ref() {
                None => *first = Some(all),
                Some(sqlite) => assert_eq!(&all, sqlite, "PostgreSQL answers as SQLite does"),
            }
        });
        if std::env::var_os("BOTMOX_TEST_PG").is_some() {
            assert_eq!(runs.get(), 2, "ran on PostgreSQL too");
        }
    }
}
