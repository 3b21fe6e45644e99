//! What the benchmarks share: the release binary on a fixed loopback port.
#![allow(dead_code)] // each benchmark uses its own subset

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_botmox");

/// `botmox serve` on `127.0.0.1:port` over `data_dir`, quiet.
pub fn spawn(port: u16, data_dir: &std::path::Path) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
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
    let out = Command::new(BIN)
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
