//! The real `botmox-agent` binary, run against a test server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The agent binary beside the server's. `cargo test --workspace` builds both; a test run of
/// this crate alone needs `cargo build -p botmox-agent` first.
pub fn agent_bin() -> PathBuf {
    let path = Path::new(super::BIN).with_file_name(format!("botmox-agent{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p botmox-agent` (cargo test --workspace builds it)",
        path.display()
    );
    path
}

/// `botmox-agent --config-dir <dir> …` with no `BOTMOX_*` variables from the environment.
pub fn agent(dir: &Path) -> Command {
    let mut cmd = botmox_testkit::process::command(agent_bin());
    cmd.arg("--config-dir").arg(dir);
    cmd
}

/// Runs an agent command to completion, asserting it succeeded; returns its stdout.
pub fn agent_ok(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out: Output = agent(dir)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run botmox-agent");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "botmox-agent {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `botmox-agent run`, killed when dropped. Its output goes to `run.log` in its config dir.
pub struct RunningAgent {
    pub dir: PathBuf,
    child: Child,
}

impl RunningAgent {
    pub fn start(dir: &Path, heartbeat_secs: u32) -> RunningAgent {
        Self::start_with(dir, heartbeat_secs, &[])
    }

    /// With more `run` flags (`--transport longpoll`).
    pub fn start_with(dir: &Path, heartbeat_secs: u32, extra: &[&str]) -> RunningAgent {
        let log = std::fs::File::create(dir.join("run.log")).unwrap();
        let child = agent(dir)
            .args(["run", "--heartbeat-secs", &heartbeat_secs.to_string()])
            .args(extra)
            .env("BOTMOX_AGENT_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn botmox-agent run");
        RunningAgent {
            dir: dir.to_owned(),
            child,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("run.log")).unwrap_or_default()
    }

    /// Waits for the process to exit by itself; its exit code.
    pub fn exited_within(&mut self, deadline: Duration) -> Option<i32> {
        botmox_testkit::process::exited_within(&mut self.child, deadline)
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
