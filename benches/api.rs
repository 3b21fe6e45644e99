//! API budgets: an authenticated list of 50 bots out of 10,000 at 64 concurrent clients
//! (p50/p99, and the same for a bare axum handler serving the same bytes, as a yardstick),
//! and 100,000 finance operations created over HTTP by 64 concurrent clients.
//!
//! `cargo bench --bench api` (release profile). The load generator runs in this process and
//! shares the machine with the server, for both the server and the yardstick alike.
//! `cargo bench --bench api -- writes` runs only the finance writes (and the stats over them).
//! The reads end with `q` searches over the 10,000 bots, 64 clients; `-- reads` runs only them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;

mod support;
use serde_json::{json, Value};
use support::{create_user, spawn, stop, wait_ok};

static PORT: std::sync::LazyLock<u16> = std::sync::LazyLock::new(support::free_port);
const CLIENTS: usize = 64;
const BOTS: usize = 10_000;
const LIST_REQUESTS: usize = 20_000;
const OPERATIONS: usize = 100_000;
const STATS_REQUESTS: usize = 20;
const SEARCH_REQUESTS: usize = 5_000;

fn url(path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", *PORT)
}

/// Runs `total` requests from `CLIENTS` tasks; returns each request's latency and the wall time.
async fn load<F, Fut>(total: usize, request: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (request, next) = (request.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total {
                        return latencies;
                    }
                    let t = Instant::now();
                    request(i).await;
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort();
    (all, started.elapsed())
}

fn report(name: &str, latencies: &[Duration], wall: Duration) {
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "{name}: {} requests in {:.2} s ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}

#[tokio::main]
async fn main() {
    let tmp = tempfile::tempdir().unwrap();
    create_user(tmp.path(), "bench@example.com", "bench password");
    let server = spawn(*PORT, tmp.path());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    wait_ok(&client, &url("/api/v1/health/live")).await;
    let login: Value = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({ "email": "bench@example.com", "password": "bench password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = Arc::new(format!("Bearer {}", login["data"]["token"].as_str().unwrap()));
    if !std::env::args().any(|a| a == "writes") {
        reads(&client, &token).await;
    }
    if std::env::args().any(|a| a == "reads") {
        stop(server);
        return;
    }

    let (c, t) = (client.clone(), token.clone());
    let (latencies, wall) = load(OPERATIONS, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            let body = json!({ "type": if i % 3 == 0 { "expense" } else { "income" }, "category": "sale",
                "amount": (i % 100) as f64 + 0.5, "currency": if i % 5 == 0 { "gold" } else { "USD" },
                "date": 1_767_225_600_000i64 + (i as i64 % 90) * 86_400_000, "bot_id": format!("bot-{}", i % 40) });
            let res = c
                .post(url("/api/v1/finance/operations"))
                .header("authorization", t.as_str())
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }
    })
    .await;
    report("POST /api/v1/finance/operations, 64 clients", &latencies, wall);

    let mut latencies = Vec::with_capacity(STATS_REQUESTS);
    let started = Instant::now();
    for _ in 0..STATS_REQUESTS {
        let t = Instant::now();
        let stats = client
            .get(url("/api/v1/finance/daily-stats"))
            .header("authorization", token.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(stats.status(), 200);
        assert!(stats.bytes().await.unwrap().len() > 1000);
        latencies.push(t.elapsed());
    }
    latencies.sort();
    report(
        &format!("GET /api/v1/finance/daily-stats over {OPERATIONS} operations, one client"),
        &latencies,
        started.elapsed(),
    );

    let rss = std::fs::read_to_string(format!("/proc/{}/status", server.id())).unwrap_or_default();
    if let Some(line) = rss.lines().find(|l| l.starts_with("VmRSS")) {
        println!("server {line}");
    }
    stop(server);
}

/// The list budget and its yardstick, over 10,000 bots seeded over HTTP.
async fn reads(client: &reqwest::Client, token: &Arc<String>) {
    let (c, t) = (client.clone(), token.clone());
    let (_, seeded) = load(BOTS, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            let status = ["prepare", "leveling", "farming"][i % 3];
            let body = json!({ "name": format!("vm-{i:05}"), "status": status,
                "project_id": "wow_tbc", "character": { "name": format!("Char{i}"), "level": 1 + i % 70 } });
            let res = c
                .post(url("/api/v1/bots"))
                .header("authorization", t.as_str())
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }
    })
    .await;
    println!("seeded {BOTS} bots over HTTP in {:.2} s", seeded.as_secs_f64());

    let (c, t) = (client.clone(), token.clone());
    let (latencies, wall) = load(LIST_REQUESTS, move |_| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            let res = c
                .get(url("/api/v1/bots?limit=50"))
                .header("authorization", t.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let body = res.bytes().await.unwrap();
            assert!(body.len() > 1000);
        }
    })
    .await;
    report("GET /api/v1/bots?limit=50 (of 10,000), 64 clients", &latencies, wall);

    // The yardstick: bare axum serving the same response bytes from memory.
    let sample = client
        .get(url("/api/v1/bots?limit=50"))
        .header("authorization", token.as_str())
        .send()
        .await
        .unwrap();
    let bytes = sample.bytes().await.unwrap();
    let app = axum::Router::new().route(
        "/bots",
        get(move || {
            let bytes = bytes.clone();
            async move { ([("content-type", "application/json")], bytes) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare = format!("http://{}/bots", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let c = client.clone();
    let (latencies, wall) = load(LIST_REQUESTS, move |_| {
        let (c, bare) = (c.clone(), bare.clone());
        async move {
            let res = c.get(&bare).send().await.unwrap();
            res.bytes().await.unwrap();
        }
    })
    .await;
    report("bare axum, same bytes, 64 clients (yardstick)", &latencies, wall);

    // `q` naming one character of the 10,000 (`Char1234` is no other's prefix).
    let (c, t) = (client.clone(), token.clone());
    let (latencies, wall) = load(SEARCH_REQUESTS, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            let n = 1000 + (i * 7919) % 9000;
            let res = c
                .get(url(&format!("/api/v1/bots?limit=50&q=Char{n}")))
                .header("authorization", t.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["meta"]["total"], 1, "Char{n}");
        }
    })
    .await;
    report("GET /api/v1/bots?q=Char<n> (of 10,000), 64 clients", &latencies, wall);
}
