//! The daily finance figures (kept as per-day aggregates by every write) against the same
//! figures computed from scratch over the operations the test wrote, updated and deleted.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::TestServer;
use serde_json::{json, Map, Value};

/// A small deterministic generator, so a failure replays.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next(items.len() as u64) as usize]
    }
}

const DAY_MS: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const BASE_MS: i64 = 1_767_225_600_000;

fn random_fields(rng: &mut Lcg) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("type".into(), json!(rng.pick(&["income", "expense"])));
    op.insert(
        "category".into(),
        json!(rng.pick(&["sale", "proxy", "license", "other"])),
    );
    op.insert("amount".into(), json!(rng.next(100_000) as f64 / 100.0));
    op.insert("currency".into(), json!(rng.pick(&["USD", "gold"])));
    // Five days, at any hour, including the last millisecond of a day.
    let at = BASE_MS + rng.next(5) as i64 * DAY_MS + [0, 3_600_000, DAY_MS - 1][rng.next(3) as usize];
    op.insert("date".into(), json!(at));
    op.insert("bot_id".into(), json!(rng.pick(&["bot-a", "bot-b", "bot-c", ""])));
    op.insert("project_id".into(), json!(rng.pick(&["wow_tbc", "wow_classic"])));
    op.insert(
        "gold_price_at_time".into(),
        json!(rng.pick(&["0", "-1", "12.5", "20.25", "7"]).parse::<f64>().unwrap()),
    );
    op.insert(
        "gold_amount".into(),
        json!(rng.pick(&["0", "-5", "1500", "2500.5"]).parse::<f64>().unwrap()),
    );
    op
}

fn day_of(op: &Map<String, Value>) -> String {
    day_at(op, 0)
}

/// The operation's day where local time is UTC + `offset_ms` (the dates span 2026-01-01..05).
fn day_at(op: &Map<String, Value>, offset_ms: i64) -> String {
    match (op["date"].as_i64().unwrap() + offset_ms - BASE_MS).div_euclid(DAY_MS) {
        -1 => "2025-12-31".to_owned(),
        k => format!("2026-01-{:02}", k + 1),
    }
}

/// The daily stats and gold prices computed from the operations themselves.
fn from_scratch(ops: &HashMap<String, Map<String, Value>>) -> (Value, Value) {
    from_scratch_in(ops, 0, None)
}

/// [`from_scratch`] over local days (UTC + `offset_ms`), of one project's operations if named.
fn from_scratch_in(ops: &HashMap<String, Map<String, Value>>, offset_ms: i64, project: Option<&str>) -> (Value, Value) {
    #[derive(Default)]
    struct Day {
        money: BTreeMap<String, (f64, f64)>,
        bots: BTreeSet<String>,
        farmed: BTreeMap<String, f64>,
        prices: Vec<f64>,
    }
    let mut days: BTreeMap<String, Day> = BTreeMap::new();
    let chosen = ops
        .values()
        .filter(|op| project.is_none_or(|p| op["project_id"].as_str() == Some(p)));
    for op in chosen {
        let day = days.entry(day_at(op, offset_ms)).or_default();
        let amount = op["amount"].as_f64().unwrap();
        let (kind, currency) = (op["type"].as_str().unwrap(), op["currency"].as_str().unwrap());
        let money = day.money.entry(currency.to_owned()).or_default();
        if kind == "expense" {
            money.0 += amount;
        } else {
            money.1 += amount;
        }
        let bot = op["bot_id"].as_str().unwrap();
        if !bot.is_empty() {
            day.bots.insert(bot.to_owned());
        }
        if kind == "income" && currency == "gold" {
            *day.farmed
                .entry(op["project_id"].as_str().unwrap().to_owned())
                .or_default() += amount;
        }
        let price = op["gold_price_at_time"].as_f64().unwrap();
        if kind == "income" && op["category"] == "sale" && price > 0.0 {
            day.prices.push(price);
        }
    }
    let mut stats = Map::new();
    let mut prices = Map::new();
    for (date, day) in &days {
        let figures = |(expenses, revenue): (f64, f64)| json!({ "total_expenses": expenses, "total_revenue": revenue, "net_profit": revenue - expenses });
        let usd = day.money.get("USD").copied().unwrap_or_default();
        let mut entry = figures(usd);
        entry["date"] = json!(date);
        entry["by_currency"] = day
            .money
            .iter()
            .map(|(c, m)| (c.clone(), figures(*m)))
            .collect::<Map<_, _>>()
            .into();
        entry["active_bots"] = json!(day.bots.len());
        entry["total_farmed"] = day
            .farmed
            .iter()
            .map(|(p, gold)| (p.clone(), json!({ "gold": gold })))
            .collect::<Map<_, _>>()
            .into();
        stats.insert(date.clone(), entry);
        if !day.prices.is_empty() {
            let mean = day.prices.iter().sum::<f64>() / day.prices.len() as f64;
            prices.insert(date.clone(), json!({ "price": mean }));
        }
    }
    (Value::Object(stats), Value::Object(prices))
}

/// The period breakdown computed from the operations: per project each currency's figures,
/// the gold its sales sold and their mean price (over the period and per day), and the
/// expenses per currency and category; local days UTC + `offset_ms` within `days`.
fn breakdown_from_scratch(
    ops: &HashMap<String, Map<String, Value>>,
    offset_ms: i64,
    project: Option<&str>,
    days: std::ops::RangeInclusive<&str>,
) -> Value {
    #[derive(Default)]
    struct Project {
        money: BTreeMap<String, (f64, f64)>,
        gold_sold: f64,
        prices: Vec<f64>,
        daily: BTreeMap<String, Vec<f64>>,
    }
    let mut projects: BTreeMap<String, Project> = BTreeMap::new();
    let mut categories: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for op in ops.values() {
        let day = day_at(op, offset_ms);
        let name = op["project_id"].as_str().unwrap();
        if project.is_some_and(|p| p != name) || !days.contains(&day.as_str()) {
            continue;
        }
        let entry = projects.entry(name.to_owned()).or_default();
        let amount = op["amount"].as_f64().unwrap();
        let (kind, currency) = (op["type"].as_str().unwrap(), op["currency"].as_str().unwrap());
        let category = op["category"].as_str().unwrap();
        let money = entry.money.entry(currency.to_owned()).or_default();
        if kind == "expense" {
            money.0 += amount;
            *categories
                .entry(currency.to_owned())
                .or_default()
                .entry(category.to_owned())
                .or_default() += amount;
        } else {
            money.1 += amount;
        }
        if kind == "income" && category == "sale" {
            let gold = op["gold_amount"].as_f64().unwrap();
            if gold > 0.0 {
                entry.gold_sold += gold;
            }
            let price = op["gold_price_at_time"].as_f64().unwrap();
            if price > 0.0 {
                entry.prices.push(price);
                entry.daily.entry(day).or_default().push(price);
            }
        }
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let by_project: Map<String, Value> = projects
        .iter()
        .map(|(name, p)| {
            let by_currency: Map<String, Value> = p
                .money
                .iter()
                .map(|(c, (expenses, revenue))| {
                    (
                        c.clone(),
                        json!({ "total_expenses": expenses, "total_revenue": revenue, "net_profit": revenue - expenses }),
                    )
                })
                .collect();
            let daily: Map<String, Value> = p.daily.iter().map(|(d, v)| (d.clone(), json!(mean(v)))).collect();
            let price = (!p.prices.is_empty()).then(|| mean(&p.prices));
            let totals = json!({ "by_currency": by_currency, "gold_sold": p.gold_sold,
                "gold_price": price, "gold_price_by_day": daily });
            (name.clone(), totals)
        })
        .collect();
    let all: Vec<f64> = projects.values().flat_map(|p| p.prices.iter().copied()).collect();
    json!({ "by_project": by_project, "expenses_by_category": categories,
        "gold_sold": projects.values().map(|p| p.gold_sold).sum::<f64>(),
        "gold_price": (!all.is_empty()).then(|| mean(&all)) })
}

/// Equal JSON, numbers within rounding (the server and the test sum in different orders).
fn assert_close(got: &Value, want: &Value, at: &str) {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{at}: got {g}, want {w}");
        }
        (Value::Object(g), Value::Object(w)) => {
            assert_eq!(g.keys().collect::<Vec<_>>(), w.keys().collect::<Vec<_>>(), "{at}: keys");
            for (key, value) in w {
                assert_close(&g[key], value, &format!("{at}.{key}"));
            }
        }
        _ => assert_eq!(got, want, "{at}"),
    }
}

async fn check(server: &TestServer, token: &str, ops: &HashMap<String, Map<String, Value>>) {
    let (stats, prices) = from_scratch(ops);
    let got = server.call_ok("GET", "/api/v1/finance/daily-stats", token, None).await;
    assert_close(&got["data"], &stats, "daily-stats");
    let got = server
        .call_ok("GET", "/api/v1/finance/gold-price-history", token, None)
        .await;
    assert_close(&got["data"], &prices, "gold-price-history");
    let got = server
        .call_ok(
            "GET",
            "/api/v1/finance/daily-stats?from=2026-01-02&to=2026-01-03",
            token,
            None,
        )
        .await;
    let ranged: Map<String, Value> = stats
        .as_object()
        .unwrap()
        .iter()
        .filter(|(day, _)| ("2026-01-02".."2026-01-04").contains(&day.as_str()))
        .map(|(d, v)| (d.clone(), v.clone()))
        .collect();
    assert_close(&got["data"], &Value::Object(ranged), "ranged daily-stats");

    // Local days (whole and half hours either side of UTC) and one project, summed from the
    // operations rather than the stored UTC days.
    for (minutes, project) in [
        (90, None),
        (-150, None),
        (0, Some("wow_tbc")),
        (330, Some("wow_classic")),
    ] {
        let (stats, prices) = from_scratch_in(ops, minutes * 60_000, project);
        let query = match project {
            Some(p) => format!("tz_offset_minutes={minutes}&project_id={p}"),
            None => format!("tz_offset_minutes={minutes}"),
        };
        for (path, want) in [("daily-stats", &stats), ("gold-price-history", &prices)] {
            let got = server
                .call_ok("GET", &format!("/api/v1/finance/{path}?{query}"), token, None)
                .await;
            assert_close(&got["data"], want, &format!("{path}?{query}"));
        }
    }

    // The period breakdown: every project or one, UTC or local days, whole or part of the span.
    for (query, minutes, project, days) in [
        ("", 0, None, "0000-00-00"..="9999-99-99"),
        ("?tz_offset_minutes=90", 90, None, "0000-00-00"..="9999-99-99"),
        (
            "?project_id=wow_tbc&tz_offset_minutes=-150&from=2026-01-02&to=2026-01-04",
            -150,
            Some("wow_tbc"),
            "2026-01-02"..="2026-01-04",
        ),
        ("?project_id=nobody", 0, Some("nobody"), "0000-00-00"..="9999-99-99"),
    ] {
        let want = breakdown_from_scratch(ops, minutes * 60_000, project, days);
        let got = server
            .call_ok("GET", &format!("/api/v1/finance/breakdown{query}"), token, None)
            .await;
        assert_close(&got["data"], &want, &format!("breakdown{query}"));
    }

    let query = "from=2026-01-02&to=2026-01-02&tz_offset_minutes=-600";
    let got = server
        .call_ok("GET", &format!("/api/v1/finance/daily-stats?{query}"), token, None)
        .await;
    let (stats, _) = from_scratch_in(ops, -600 * 60_000, None);
    let want = json!({ "2026-01-02": stats["2026-01-02"] });
    assert_close(&got["data"], &want, query);
}

#[tokio::test]
async fn daily_figures_match_a_computation_from_scratch_through_creates_updates_and_deletes() {
    let server = TestServer::start().await;
    let t = server.setup_admin().await;
    // Another tenant's operations on the same days must not show.
    let other = server.user("other@example.com", "other", "admin").await;
    let mut rng = Lcg(20);
    for _ in 0..20 {
        server
            .call_ok(
                "POST",
                "/api/v1/finance/operations",
                &other,
                Some(Value::Object(random_fields(&mut rng))),
            )
            .await;
    }

    let mut ops: HashMap<String, Map<String, Value>> = HashMap::new();
    for _ in 0..150 {
        let fields = random_fields(&mut rng);
        let created = server
            .call_ok(
                "POST",
                "/api/v1/finance/operations",
                &t,
                Some(Value::Object(fields.clone())),
            )
            .await;
        ops.insert(created["data"]["id"].as_str().unwrap().to_owned(), fields);
    }
    check(&server, &t, &ops).await;

    let mut ids: Vec<String> = ops.keys().cloned().collect();
    ids.sort();
    // Updates move operations between days, types, currencies, bots and projects.
    for id in ids.iter().take(60) {
        let fresh = random_fields(&mut rng);
        // Always the amount, and each other field or not.
        let changed: Map<String, Value> = fresh
            .into_iter()
            .filter(|(key, _)| key == "amount" || rng.next(2) == 0)
            .collect();
        server
            .call_ok(
                "PATCH",
                &format!("/api/v1/finance/operations/{id}"),
                &t,
                Some(Value::Object(changed.clone())),
            )
            .await;
        ops.get_mut(id).unwrap().extend(changed);
    }
    check(&server, &t, &ops).await;

    // Deletes empty some groups entirely; a day with nothing left disappears.
    for id in ids.iter().skip(40).take(70) {
        server
            .call_ok("DELETE", &format!("/api/v1/finance/operations/{id}"), &t, None)
            .await;
        ops.remove(id);
    }
    check(&server, &t, &ops).await;
    let day5: Vec<String> = ops
        .iter()
        .filter(|(_, op)| day_of(op) == "2026-01-05")
        .map(|(id, _)| id.clone())
        .collect();
    for id in &day5 {
        server
            .call_ok("DELETE", &format!("/api/v1/finance/operations/{id}"), &t, None)
            .await;
        ops.remove(id);
    }
    check(&server, &t, &ops).await;
    let stats = server.call_ok("GET", "/api/v1/finance/daily-stats", &t, None).await;
    assert!(stats["data"].get("2026-01-05").is_none(), "{}", stats["data"]);
}

#[tokio::test]
async fn a_time_zone_offset_outside_the_earths_is_refused_by_name() {
    let server = TestServer::start().await;
    let t = server.setup_admin().await;
    for bad in ["841", "-721", "one", "1.5"] {
        for path in ["daily-stats", "gold-price-history", "breakdown"] {
            let (status, body) = server
                .call(
                    "GET",
                    &format!("/api/v1/finance/{path}?tz_offset_minutes={bad}"),
                    &t,
                    None,
                )
                .await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (400, Some("FINANCE_INVALID_LIST_QUERY")),
                "{path} {bad}: {body}"
            );
            assert!(
                body["error"]["details"]["fieldErrors"]["tz_offset_minutes"].is_array(),
                "{path} {bad}: {body}"
            );
        }
    }
    for good in ["840", "-720", "0", "330"] {
        server
            .call_ok(
                "GET",
                &format!("/api/v1/finance/daily-stats?tz_offset_minutes={good}"),
                &t,
                None,
            )
            .await;
    }
}
