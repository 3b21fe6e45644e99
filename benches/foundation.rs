//! Foundation budgets: start-to-ready on a fresh data directory and on an existing database,
//! idle memory, binary size. Start-to-ready is the time from spawning the process to the
//! first 200 of `/api/v1/health/ready` (polled every millisecond), not the moment the port
//! is bound: on a fresh directory it includes creating the database, every migration and
//! the vault key.
//!
//! `cargo bench --bench foundation` (builds the release profile); `-- idle` measures idle
//! memory only. Results go in docs/benchmarks.md. Not a test: it asserts nothing and prints
//! figures.

use std::time::{Duration, Instant};

mod support;
use support::{create_user, spawn, status_kb, stop, wait_ok, BIN};

static PORT: std::sync::LazyLock<u16> = std::sync::LazyLock::new(support::free_port);
const RUNS: usize = 20;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let ready = format!("http://127.0.0.1:{}/api/v1/health/ready", *PORT);

    let idle_only = std::env::args().any(|a| a == "idle");
    let runs = if idle_only { 0 } else { RUNS };

    let mut fresh = Vec::with_capacity(RUNS);
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let child = spawn(*PORT, dir.path());
        wait_ok(&client, &ready).await;
        fresh.push(started.elapsed().as_secs_f64() * 1000.0);
        stop(child);
    }
    fresh.sort_by(f64::total_cmp);

    // An existing database: migrated, vault initialised, an admin with a session.
    let child = spawn(*PORT, tmp.path());
    wait_ok(&client, &ready).await;
    stop(child);
    create_user(tmp.path(), "bench@example.com", "bench password");

    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..runs {
        let started = Instant::now();
        let child = spawn(*PORT, tmp.path());
        wait_ok(&client, &ready).await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        stop(child);
    }
    times.sort_by(f64::total_cmp);

    // Idle memory: after sign-in and a few requests, then a quiet moment.
    let child = spawn(*PORT, tmp.path());
    wait_ok(&client, &ready).await;
    let login = client
        .post(format!("http://127.0.0.1:{}/api/v1/auth/login", *PORT))
        .json(&serde_json::json!({ "email": "bench@example.com", "password": "bench password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    // A burst of failed sign-ins (each one hashes, as a real one does).
    let failed: Vec<_> = (0..8)
        .map(|i| {
            let sent = client
                .post(format!("http://127.0.0.1:{}/api/v1/auth/login", *PORT))
                .json(&serde_json::json!({ "email": format!("nobody{i}@example.com"), "password": "wrong password" }))
                .send();
            tokio::spawn(sent)
        })
        .collect();
    for res in failed {
        assert!(res.await.unwrap().unwrap().status().is_client_error());
    }
    for path in ["/", "/api/v1/health", "/api/v1/openapi.json", "/metrics"] {
        client
            .get(format!("http://127.0.0.1:{}{path}", *PORT))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child.id();
    let (rss, anon, file) = (
        status_kb(pid, "VmRSS"),
        status_kb(pid, "RssAnon"),
        status_kb(pid, "RssFile"),
    );
    stop(child);

    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "idle RSS after a sign-in, 8 failed ones and a few requests: {:.1} MB (anonymous {:.1}, file {:.1})",
        mb(rss),
        mb(anon),
        mb(file)
    );
    if idle_only {
        return;
    }

    let size = std::fs::metadata(BIN).unwrap().len();
    println!(
        "start to ready, fresh data directory ({RUNS} runs): median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        percentile(&fresh, 0.5),
        percentile(&fresh, 0.9),
        fresh[fresh.len() - 1]
    );
    println!(
        "start to ready, existing database ({RUNS} runs): median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        times[times.len() - 1]
    );
    println!("binary {BIN}: {:.1} MB", size as f64 / 1_000_000.0);
}
