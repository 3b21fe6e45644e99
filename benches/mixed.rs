//! The mixed workload of issue 20: 200 clients for 30 s against the release server, 70 %
//! reads (bot lists, single gets, `q` searches, daily stats, operation lists, health) and
//! 30 % writes (finance creates, bot and operation updates), over 200 bots and 2,000
//! operations seeded over HTTP. Prints a latency histogram per route class, the total rate
//! and errors, and the server's CPU (cores used) and RSS.
//!
//! `cargo bench --bench mixed` (release profile); `-- --secs 5` for a short smoke run.
//! `BOTMOX_BENCH_BIN` runs another build with the same harness.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;
use serde_json::{json, Value};
use support::{concurrently, cpu_time, create_user, login, spawn, status_kb, stop, wait_ok};

static PORT: std::sync::LazyLock<u16> = std::sync::LazyLock::new(support::free_port);
const CLIENTS: usize = 200;
const BOTS: usize = 200;
const OPERATIONS: usize = 2_000;

/// Route classes and their share of requests, in percent.
const MIX: [(Class, u64); 9] = [
    (Class::ListBots, 20),
    (Class::GetBot, 15),
    (Class::Search, 10),
    (Class::DailyStats, 10),
    (Class::ListOperations, 10),
    (Class::Health, 5),
    (Class::CreateOperation, 15),
    (Class::PatchBot, 10),
    (Class::PatchOperation, 5),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    ListBots,
    GetBot,
    Search,
    DailyStats,
    ListOperations,
    Health,
    CreateOperation,
    PatchBot,
    PatchOperation,
}

impl Class {
    fn label(self) -> &'static str {
        match self {
            Class::ListBots => "GET /bots?limit=50",
            Class::GetBot => "GET /bots/{id}",
            Class::Search => "GET /bots?q=",
            Class::DailyStats => "GET /finance/daily-stats",
            Class::ListOperations => "GET /finance/operations?limit=50",
            Class::Health => "GET /health/ready",
            Class::CreateOperation => "POST /finance/operations",
            Class::PatchBot => "PATCH /bots/{id}",
            Class::PatchOperation => "PATCH /finance/operations/{id}",
        }
    }
}

fn url(path: &str) -> String {
    format!("http://127.0.0.1:{}/api/v1{path}", *PORT)
}

/// A small deterministic generator per client.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn operation(i: u64) -> Value {
    json!({ "type": if i.is_multiple_of(3) { "expense" } else { "income" }, "category": "sale",
        "amount": (i % 100) as f64 + 0.5, "currency": if i.is_multiple_of(5) { "gold" } else { "USD" },
        "date": 1_767_225_600_000i64 + (i as i64 % 90) * 86_400_000, "bot_id": format!("bot-{}", i % 40),
        "project_id": "wow_tbc", "gold_price_at_time": 12.5 })
}

/// One request of `class`; the failure (a status or a transport error) unless it answered 2xx.
async fn request(
    c: &reqwest::Client,
    token: &str,
    class: Class,
    bots: &[String],
    ops: &[String],
    rng: &mut Lcg,
) -> Result<(), String> {
    let bot = &bots[rng.next(bots.len() as u64) as usize];
    let op = &ops[rng.next(ops.len() as u64) as usize];
    let req = match class {
        Class::ListBots => c.get(url("/bots?limit=50")),
        Class::GetBot => c.get(url(&format!("/bots/{bot}"))),
        Class::Search => c.get(url(&format!("/bots?q=Char{}", 100 + rng.next(100)))),
        Class::DailyStats => c.get(url("/finance/daily-stats")),
        Class::ListOperations => c.get(url("/finance/operations?limit=50")),
        Class::Health => c.get(url("/health/ready")),
        Class::CreateOperation => c.post(url("/finance/operations")).json(&operation(rng.next(1000))),
        Class::PatchBot => c
            .patch(url(&format!("/bots/{bot}")))
            .json(&json!({ "notes": format!("note {}", rng.next(1000)) })),
        Class::PatchOperation => c
            .patch(url(&format!("/finance/operations/{op}")))
            .json(&json!({ "amount": rng.next(1000) as f64 / 4.0 })),
    };
    let res = req
        .header("authorization", token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

/// Creates one document over HTTP (201 expected) and answers its id: the seeding step.
async fn created_id(client: &reqwest::Client, token: &str, path: &str, body: &Value) -> String {
    let res = client
        .post(url(path))
        .header("authorization", token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .map_or(30, |s| s.parse().expect("--secs <whole seconds>"));
    support::raise_nofile(4096);
    let tmp = tempfile::tempdir().unwrap();
    create_user(tmp.path(), "bench@example.com", "bench password");
    let server = spawn(*PORT, tmp.path());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    wait_ok(&client, &url("/health/live")).await;
    let token = Arc::new(
        login(
            &client,
            &format!("http://127.0.0.1:{}", *PORT),
            "bench@example.com",
            "bench password",
        )
        .await,
    );

    let (c, t) = (client.clone(), token.clone());
    let bots: Vec<String> = concurrently(BOTS, 64, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            let status = ["prepare", "leveling", "farming"][i % 3];
            let body = json!({ "name": format!("vm-{i:03}"), "status": status, "project_id": "wow_tbc",
                "character": { "name": format!("Char{}", 100 + i % 100), "level": 1 + i % 70 } });
            created_id(&c, &t, "/bots", &body).await
        }
    })
    .await;
    let (c, t) = (client.clone(), token.clone());
    let ops: Vec<String> = concurrently(OPERATIONS, 64, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move { created_id(&c, &t, "/finance/operations", &operation(i as u64)).await }
    })
    .await;
    println!("seeded {BOTS} bots and {OPERATIONS} operations over HTTP; {CLIENTS} clients for {secs} s");

    let (bots, ops) = (Arc::new(bots), Arc::new(ops));
    let stop_flag = Arc::new(AtomicBool::new(false));
    let pid = server.id();
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS as u64)
        .map(|n| {
            let (c, t, bots, ops, stop_flag) = (
                client.clone(),
                token.clone(),
                bots.clone(),
                ops.clone(),
                stop_flag.clone(),
            );
            tokio::spawn(async move {
                let mut rng = Lcg(n + 1);
                let mut seen: Vec<(Class, Duration, Result<(), String>)> = Vec::new();
                while !stop_flag.load(Ordering::Relaxed) {
                    let mut roll = rng.next(100);
                    let class = MIX
                        .iter()
                        .find(|(_, share)| {
                            let hit = roll < *share;
                            roll = roll.saturating_sub(*share);
                            hit
                        })
                        .expect("the shares add up to 100")
                        .0;
                    let at = Instant::now();
                    let ok = request(&c, &t, class, &bots, &ops, &mut rng).await;
                    seen.push((class, at.elapsed(), ok));
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop_flag.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let wall = started.elapsed();
    let cores = (cpu_time(pid) - cpu_before).as_secs_f64() / wall.as_secs_f64();

    let errors = all.iter().filter(|(_, _, ok)| ok.is_err()).count();
    if let Some((class, _, Err(e))) = all.iter().find(|(_, _, ok)| ok.is_err()) {
        println!("first error, {}: {e}", class.label());
    }
    let mut latencies: Vec<Duration> = all.iter().map(|(_, d, _)| *d).collect();
    latencies.sort();
    let pct = |l: &[Duration], p: f64| ms(l[((l.len() - 1) as f64 * p).round() as usize]);
    println!(
        "all: {} requests in {:.1} s = {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {errors} errors",
        all.len(),
        wall.as_secs_f64(),
        all.len() as f64 / wall.as_secs_f64(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0)
    );
    // Histogram buckets (upper bounds, ms) per class.
    let buckets = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, f64::INFINITY];
    println!(
        "{:<32} {:>7} {:>6} {:>7} {:>7} {:>7} | {}",
        "class",
        "count",
        "errors",
        "p50",
        "p99",
        "max",
        buckets.iter().map(|b| format!("<{b}")).collect::<Vec<_>>().join(" ")
    );
    for (class, _) in MIX {
        let mut l: Vec<Duration> = all.iter().filter(|(c, _, _)| *c == class).map(|(_, d, _)| *d).collect();
        if l.is_empty() {
            continue;
        }
        l.sort();
        let mut counts = vec![0usize; buckets.len()];
        for d in &l {
            counts[buckets
                .iter()
                .position(|b| ms(*d) < *b)
                .expect("the last bound is infinite")] += 1;
        }
        println!(
            "{:<32} {:>7} {:>6} {:>7.1} {:>7.1} {:>7.1} | {}",
            class.label(),
            l.len(),
            all.iter().filter(|(c, _, ok)| *c == class && ok.is_err()).count(),
            pct(&l, 0.5),
            pct(&l, 0.99),
            pct(&l, 1.0),
            counts.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" ")
        );
    }
    println!(
        "server: {cores:.2} cores, RSS {} kB (peak {} kB)",
        status_kb(pid, "VmRSS"),
        status_kb(pid, "VmHWM")
    );
    stop(server);
}
