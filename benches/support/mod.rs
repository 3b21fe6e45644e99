//! What the benchmarks share: the release binary on a free loopback port.
#![allow(dead_code)] // each benchmark uses its own subset

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_botmox");

/// The server binary: `BOTMOX_BENCH_BIN` when set (to compare two builds with one harness),
/// else the one cargo built.
pub fn bin() -> String {
    std::env::var("BOTMOX_BENCH_BIN").unwrap_or_else(|_| BIN.to_owned())
}

/// A loopback port nobody listens on now: two benchmarks (or two people's) on one machine
/// must not meet on a fixed one.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// `botmox serve` on `127.0.0.1:port` over `data_dir`, quiet; its gateway on a free port.
pub fn spawn(port: u16, data_dir: &std::path::Path) -> Child {
    Command::new(bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--gateway-listen",
            &format!("127.0.0.1:{}", free_port()),
            "--log",
            "warn",
            "--data-dir",
        ])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn botmox")
}

/// Polls `url` every millisecond until it answers 200.
pub async fn wait_ok(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = client.get(url).send().await {
            if res.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "server never became ready");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// SIGTERM and wait.
pub fn stop(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

/// Creates a user with the CLI.
pub fn create_user(data_dir: &std::path::Path, email: &str, password: &str) {
    let out = Command::new(bin())
        .args([
            "admin",
            "create-user",
            "--email",
            email,
            "--password",
            password,
            "--role",
            "admin",
            "--data-dir",
        ])
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Signs in over HTTP; returns the `Authorization` header value.
pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!("Bearer {}", login["data"]["token"].as_str().expect("a session token"))
}

/// Runs `f(0..total)` on `clients` concurrent tasks; returns the results in index order.
pub async fn concurrently<T, F, Fut>(total: usize, clients: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let f = std::sync::Arc::new(f);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total {
                        return done;
                    }
                    done.push((i, f(i).await));
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// Raises this process's open-file limit to at least `want` where allowed (children spawned
/// afterwards inherit it); returns the soft limit now in force.
pub fn raise_nofile(want: u64) -> u64 {
    let mut now = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct passed in.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut now);
        let target = want.max(now.rlim_cur);
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: now.rlim_max.max(target),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            // Unprivileged: only the soft limit may rise, up to the hard one.
            let capped = libc::rlimit {
                rlim_cur: target.min(now.rlim_max),
                rlim_max: now.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &capped);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut now);
    }
    now.rlim_cur
}

/// A `/proc/<pid>/status` field in kB (`VmRSS`, `VmHWM`, …); `pid` 0 is this process.
pub fn status_kb(pid: u32, field: &str) -> u64 {
    let path = match pid {
        0 => "/proc/self/status".to_owned(),
        pid => format!("/proc/{pid}/status"),
    };
    let status = std::fs::read_to_string(path).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) `pid` has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

/// The `p` quantile (0..=1) of sorted `latencies`, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}
