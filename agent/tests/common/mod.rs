//! What the agent's integration tests share: child processes that are killed when dropped and
//! whose output can be waited on, and the real Bot-Mox server (the `botmox` binary beside the
//! agent's) with an admin signed in.
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use botmox_testkit::process::command;
use botmox_testkit::process::{collect, exited_within, terminate};
use serde_json::{json, Value};

pub const AGENT: &str = env!("CARGO_BIN_EXE_botmox-agent");
/// How long a process gets to print what a test waits for, or to exit.
pub const WAIT: Duration = Duration::from_secs(30);

/// A child process killed when dropped, its stdout and stderr collected.
pub struct Proc {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            collect(stream, log.clone());
        }
        Proc { child, log }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The first word after `marker` in the output, waiting for it.
    pub fn wait_for(&mut self, marker: &str) -> String {
        self.wait_for_word(marker, |_| true)
    }

    /// The first word after a `marker` that passes `fits`, waiting for it.
    pub fn wait_for_word(&mut self, marker: &str, fits: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            let found = log
                .match_indices(marker)
                .filter_map(|(at, _)| log[at + marker.len()..].split_whitespace().next())
                .find(|word| fits(word));
            if let Some(word) = found {
                return word.to_owned();
            }
            assert!(self.is_running(), "exited early:\n{log}");
            assert!(start.elapsed() < WAIT, "no {marker:?} in time:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM (Unix only); the exit code once the process is gone.
    pub fn terminate(&mut self) -> Option<i32> {
        terminate(&mut self.child, WAIT).and_then(|status| status.code())
    }

    /// Waits for the process to exit by itself; its exit code.
    pub fn exited_within(&mut self, deadline: Duration) -> Option<i32> {
        exited_within(&mut self.child, deadline)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real server on a fresh data directory and a free loopback port, set up with an admin
/// who is signed in; (process, base URL, admin session token).
pub async fn server(data: &Path) -> (Proc, String, String) {
    let bin = Path::new(AGENT).with_file_name(format!("botmox{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p botmox` first",
        bin.display()
    );
    let mut cmd = command(&bin);
    cmd.arg("--data-dir").arg(data).args([
        "serve",
        "--log-format",
        "text",
        "--log",
        "info",
        "--listen",
        "127.0.0.1:0",
        "--gateway-listen",
        "127.0.0.1:0",
    ]);
    let mut proc = Proc::spawn(cmd);
    let base = format!("http://{}", proc.wait_for("listening on http://"));
    let setup = proc.wait_for("setup URL: ");
    let token = setup.split("token=").nth(1).unwrap().to_owned();
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/setup"))
        .json(&json!({ "token": token, "email": "admin@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let session = res.json::<Value>().await.unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    (proc, base, session)
}
